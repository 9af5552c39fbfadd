//! Connections: the accept loop with its cap, hyper's HTTP/1 builder with a header-read
//! timeout, graceful shutdown, the open-file limit, and the termination signals.
//!
//! Invariants:
//! - at most `cap` connections are open: each holds a semaphore permit from before its
//!   accept until it ends, so excess clients wait in the kernel's backlog, not in memory;
//! - `cap` stays below the open-file limit (raised to its hard maximum first), so accept
//!   does not fail for want of descriptors; if it fails anyway, the error is logged and
//!   the loop goes on;
//! - shutdown: stop accepting, set `stop` (event streams and pushers end), let in-flight
//!   requests finish within `shutdown_timeout`, then close every session.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::registry::Shared;
use super::routes::router;

/// Descriptors kept free for the listener, logs and files user code opens.
const FD_HEADROOM: u64 = 64;

/// Serves `listener` until `shutdown` completes, then stops gracefully.
pub(super) async fn serve(
    shared: Arc<Shared>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let cap = shared.max_connections;
    super::panics::install_hook();
    let service = TowerToHyperService::new(router(&shared));
    tokio::spawn(shared.clone().sweeper());
    let connections = Arc::new(Semaphore::new(cap));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    // hyper's timeouts need a timer; without one the header timeout never fires.
    http.timer(TokioTimer::new())
        .header_read_timeout(shared.cfg.header_read_timeout);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            biased;
            () = &mut shutdown => break,
            permit = connections.clone().acquire_owned() => {
                permit.expect("the connection semaphore is never closed")
            }
        };
        let (stream, peer) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accepting a connection failed; going on");
                    // Out of descriptors or buffers: give closing connections a moment
                    // instead of spinning on the same error.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let connection = http.serve_connection(TokioIo::new(stream), service.clone());
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    shared.stop.send_replace(true);
    if tokio::time::timeout(shared.cfg.shutdown_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            timeout = ?shared.cfg.shutdown_timeout,
            "in-flight requests did not finish in time; dropping their connections"
        );
    }
    shared.close_all().await;
    Ok(())
}

/// Raises the soft open-file limit to the hard one and returns the connection cap:
/// `wanted`, kept [`FD_HEADROOM`] below the limit.
pub(super) fn connection_cap(wanted: usize) -> usize {
    // An unlimited hard limit cannot become the soft one (the kernel caps files per
    // process): then ask for 2^20, the usual cap.
    let raised =
        rlimit::increase_nofile_limit(u64::MAX).or_else(|_| rlimit::increase_nofile_limit(1 << 20));
    let limit = match raised {
        Ok(limit) => limit,
        Err(error) => {
            tracing::warn!(%error, "could not raise the open-file limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _)| soft)
        }
    };
    let room = usize::try_from(limit.saturating_sub(FD_HEADROOM)).unwrap_or(usize::MAX);
    let cap = wanted.min(room).max(1);
    if cap < wanted {
        tracing::info!(
            cap,
            limit,
            "connection cap lowered to fit the open-file limit"
        );
    }
    cap
}

/// Completes on Ctrl-C or (on Unix) SIGTERM.
pub(super) async fn termination() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("stopping: finishing in-flight requests");
}
