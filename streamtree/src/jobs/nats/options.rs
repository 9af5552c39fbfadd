//! [`NatsOptions`] (where the server is, how to log in, names and timings) and
//! [`NatsError`] (what went wrong connecting or setting up).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// How to reach a NATS server and lay out the backend's stream and bucket: shared by
/// [`NatsBackend`](super::NatsBackend) (web processes) and
/// [`Worker`](crate::worker::Worker) (worker processes), which must agree on the prefix.
///
/// Defaults: prefix `streamtree`, state kept 24 h after its last write, `ack_wait` 10 s
/// (a dead worker's run is redelivered after it; running jobs send a heartbeat every
/// third of it), `max_deliver` 20 deliveries (attempts and redeliveries together).
///
/// # Example
/// ```
/// use std::time::Duration;
/// use streamtree::jobs::nats::NatsOptions;
/// let opts = NatsOptions::new("nats://127.0.0.1:4222")
///     .prefix("reports")
///     .token("s3cret")
///     .ack_wait(Duration::from_secs(5));
/// assert_eq!(opts.url(), "nats://127.0.0.1:4222");
/// assert!(!format!("{opts:?}").contains("s3cret"));
/// ```
#[derive(Clone)]
pub struct NatsOptions {
    url: String,
    prefix: String,
    credentials_file: Option<PathBuf>,
    token: Option<String>,
    user_password: Option<(String, String)>,
    tls_required: bool,
    root_certificates: Option<PathBuf>,
    client_certificate: Option<(PathBuf, PathBuf)>,
    pub(crate) state_ttl: Duration,
    pub(crate) ack_wait: Duration,
    pub(crate) max_deliver: i64,
    connect_timeout: Duration,
}

impl fmt::Debug for NatsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Secrets stay out of logs.
        f.debug_struct("NatsOptions")
            .field("url", &self.url)
            .field("prefix", &self.prefix)
            .field("credentials_file", &self.credentials_file)
            .field("token", &self.token.as_ref().map(|_| "…"))
            .field("user", &self.user_password.as_ref().map(|(u, _)| u))
            .field("tls_required", &self.tls_required)
            .field("root_certificates", &self.root_certificates)
            .field(
                "client_certificate",
                &self.client_certificate.as_ref().map(|(cert, _)| cert),
            )
            .field("state_ttl", &self.state_ttl)
            .field("ack_wait", &self.ack_wait)
            .field("max_deliver", &self.max_deliver)
            .finish()
    }
}

impl NatsOptions {
    /// Options for the server at `url` (`nats://host:port`, or several, comma-separated).
    ///
    /// # Example
    /// ```
    /// let opts = streamtree::jobs::nats::NatsOptions::new("nats://localhost:4222");
    /// assert_eq!(opts.url(), "nats://localhost:4222");
    /// ```
    pub fn new(url: impl Into<String>) -> NatsOptions {
        NatsOptions {
            url: url.into(),
            prefix: "streamtree".to_owned(),
            credentials_file: None,
            token: None,
            user_password: None,
            tls_required: false,
            root_certificates: None,
            client_certificate: None,
            state_ttl: Duration::from_secs(24 * 3600),
            ack_wait: Duration::from_secs(10),
            max_deliver: 20,
            connect_timeout: Duration::from_secs(5),
        }
    }

    /// The server's URL.
    ///
    /// # Example
    /// ```
    /// assert_eq!(streamtree::jobs::nats::NatsOptions::new("nats://a:1").url(), "nats://a:1");
    /// ```
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The prefix of the stream, bucket and subject names (letters, digits, `-`, `_`):
    /// apps sharing a server keep apart with different prefixes.
    ///
    /// # Example
    /// ```
    /// let _ = streamtree::jobs::nats::NatsOptions::new("nats://a:1").prefix("shop");
    /// ```
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Logs in with a `.creds` file (JWT and NKey seed).
    ///
    /// # Example
    /// ```
    /// let _ = streamtree::jobs::nats::NatsOptions::new("nats://a:1").credentials_file("app.creds");
    /// ```
    pub fn credentials_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.credentials_file = Some(path.into());
        self
    }

    /// Logs in with a token.
    ///
    /// # Example
    /// ```
    /// let _ = streamtree::jobs::nats::NatsOptions::new("nats://a:1").token("t");
    /// ```
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Logs in with a user name and password.
    ///
    /// # Example
    /// ```
    /// let _ = streamtree::jobs::nats::NatsOptions::new("nats://a:1").user_password("app", "pw");
    /// ```
    pub fn user_password(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.user_password = Some((user.into(), password.into()));
        self
    }

    /// Requires TLS (a `tls://` URL requires it too).
    ///
    /// # Example
    /// ```
    /// let _ = streamtree::jobs::nats::NatsOptions::new("nats://a:1").tls_required(true);
    /// ```
    pub fn tls_required(mut self, required: bool) -> Self {
        self.tls_required = required;
        self
    }

    /// Trusts the certificate authorities in the PEM file at `path` for the server's
    /// certificate (a private CA), instead of the system's.
    ///
    /// # Example
    /// ```
    /// let _ = streamtree::jobs::nats::NatsOptions::new("tls://nats.internal:4222")
    ///     .root_certificates("/etc/nats/ca.pem");
    /// ```
    pub fn root_certificates(mut self, path: impl Into<PathBuf>) -> Self {
        self.root_certificates = Some(path.into());
        self
    }

    /// Presents the certificate in the PEM file `cert`, with its private key in `key`, to
    /// a server that verifies its clients (`tls { verify: true }`).
    ///
    /// # Example
    /// ```
    /// let _ = streamtree::jobs::nats::NatsOptions::new("tls://nats.internal:4222")
    ///     .client_certificate("/etc/nats/web.pem", "/etc/nats/web-key.pem");
    /// ```
    pub fn client_certificate(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.client_certificate = Some((cert.into(), key.into()));
        self
    }

    /// How long a run's state stays in the bucket after its last write (and an unclaimed
    /// run in the stream): finished results are reused within it.
    ///
    /// # Example
    /// ```
    /// let _ = streamtree::jobs::nats::NatsOptions::new("nats://a:1")
    ///     .state_ttl(std::time::Duration::from_secs(3600));
    /// ```
    pub fn state_ttl(mut self, ttl: Duration) -> Self {
        self.state_ttl = ttl;
        self
    }

    /// How long a worker may go without a heartbeat before its run is given to another
    /// worker as a new attempt (the workers' consumer is made with it by the first worker).
    ///
    /// # Example
    /// ```
    /// let _ = streamtree::jobs::nats::NatsOptions::new("nats://a:1")
    ///     .ack_wait(std::time::Duration::from_secs(30));
    /// ```
    pub fn ack_wait(mut self, wait: Duration) -> Self {
        self.ack_wait = wait;
        self
    }

    /// The most deliveries of one run (first attempt, retries and redeliveries).
    ///
    /// # Example
    /// ```
    /// let _ = streamtree::jobs::nats::NatsOptions::new("nats://a:1").max_deliver(5);
    /// ```
    pub fn max_deliver(mut self, n: u32) -> Self {
        self.max_deliver = i64::from(n.max(1));
        self
    }

    /// The prefix, checked.
    pub(crate) fn prefix_str(&self) -> &str {
        &self.prefix
    }

    /// Connects as `name`, reconnecting forever after a loss; the receiver counts the
    /// (re)connections, so watchers can read what they missed meanwhile.
    pub(crate) async fn connect(
        &self,
        name: &str,
    ) -> Result<(async_nats::Client, tokio::sync::watch::Receiver<u64>), NatsError> {
        let (connected_tx, connected) = tokio::sync::watch::channel(0u64);
        if self.prefix.is_empty()
            || !self
                .prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(NatsError::Prefix(self.prefix.clone()));
        }
        let mut o = async_nats::ConnectOptions::new()
            .name(name)
            .connection_timeout(self.connect_timeout)
            .max_reconnects(None)
            .require_tls(self.tls_required)
            .event_callback(move |event| {
                if matches!(event, async_nats::Event::Connected) {
                    connected_tx.send_modify(|n| *n += 1);
                }
                std::future::ready(())
            });
        if let Some(path) = &self.credentials_file {
            o = o
                .credentials_file(path)
                .await
                .map_err(|e| NatsError::Credentials {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
        }
        if let Some(token) = &self.token {
            o = o.token(token.clone());
        }
        // Checked here: the client reads them only as it connects, and says less.
        let readable = |path: &PathBuf| {
            std::fs::File::open(path)
                .map(drop)
                .map_err(|e| NatsError::Tls {
                    path: path.clone(),
                    message: e.to_string(),
                })
        };
        if let Some(path) = &self.root_certificates {
            readable(path)?;
            o = o.add_root_certificates(path.clone());
        }
        if let Some((cert, key)) = &self.client_certificate {
            readable(cert)?;
            readable(key)?;
            o = o.add_client_certificate(cert.clone(), key.clone());
        }
        if let Some((user, password)) = &self.user_password {
            o = o.user_and_password(user.clone(), password.clone());
        }
        let client = o
            .connect(self.url.as_str())
            .await
            .map_err(|e| NatsError::Connect {
                url: self.url.clone(),
                message: e.to_string(),
            })?;
        Ok((client, connected))
    }
}

/// Why [`NatsBackend::connect`](super::NatsBackend::connect) or a
/// [`Worker`](crate::worker::Worker) could not start.
///
/// # Example
/// ```
/// use streamtree::jobs::nats::{NatsBackend, NatsError, NatsOptions};
/// let err = NatsBackend::connect(NatsOptions::new("nats://127.0.0.1:1")).unwrap_err();
/// assert!(matches!(err, NatsError::Connect { .. }));
/// assert!(err.to_string().starts_with("cannot connect to the NATS server at nats://127.0.0.1:1"));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum NatsError {
    /// The server did not answer or refused the login.
    Connect {
        /// The URL tried.
        url: String,
        /// The client's message.
        message: String,
    },
    /// The credentials file could not be read.
    Credentials {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A TLS file (root certificates, client certificate or key) could not be read.
    Tls {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The stream, bucket or consumer could not be made or found (JetStream off: start
    /// the server with `-js`).
    Setup {
        /// Which.
        what: String,
        /// The server's or client's message.
        message: String,
    },
    /// The prefix has characters stream names cannot hold.
    Prefix(String),
    /// The backend's or worker's own threads could not start.
    Runtime(String),
}

impl fmt::Display for NatsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NatsError::Connect { url, message } => {
                write!(f, "cannot connect to the NATS server at {url}: {message}")
            }
            NatsError::Credentials { path, message } => write!(
                f,
                "cannot read the NATS credentials file {}: {message}",
                path.display()
            ),
            NatsError::Tls { path, message } => write!(
                f,
                "cannot read the NATS TLS file {}: {message}",
                path.display()
            ),
            NatsError::Setup { what, message } => write!(
                f,
                "cannot set up {what} on the NATS server (is JetStream on? start it with \
                 `nats-server -js`): {message}"
            ),
            NatsError::Prefix(p) => write!(
                f,
                "the NATS prefix `{p}` must be non-empty letters, digits, `-` or `_`"
            ),
            NatsError::Runtime(message) => {
                write!(f, "cannot start the NATS client's threads: {message}")
            }
        }
    }
}

impl std::error::Error for NatsError {}
