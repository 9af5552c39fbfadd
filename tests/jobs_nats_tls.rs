//! The NATS backend over TLS against a real `nats-server` that verifies its clients: a
//! private certificate authority made here (rcgen), a server certificate for 127.0.0.1 and
//! a client certificate, in a temporary directory removed afterwards.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use streamtree::jobs::nats::{NatsBackend, NatsError, NatsOptions};
use streamtree::jobs::{Jobs, job};
use streamtree::prelude::*;
use streamtree::worker::Worker;
use streamtree_tests::LONG;
use streamtree_tests::nats::NatsServer;

streamtree::job! {
    /// Doubles.
    Double("double") = |_ctx, n: &u32| -> Result<u32, String> { Ok(n * 2) }
}

/// A temporary directory holding a CA, a server and a client certificate (PEM).
struct Certs {
    dir: PathBuf,
}

impl Certs {
    fn make() -> Certs {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("streamtree-tls-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("the certificates' directory");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("a key"))
            .expect("the CA");
        let leaf = |name: &str, san: &str| {
            let key = KeyPair::generate().expect("a key");
            let cert = CertificateParams::new(vec![san.to_owned()])
                .expect("params")
                .signed_by(&key, &ca)
                .expect("signed");
            std::fs::write(dir.join(format!("{name}.pem")), cert.pem()).expect("written");
            std::fs::write(dir.join(format!("{name}-key.pem")), key.serialize_pem())
                .expect("written");
        };
        leaf("server", "127.0.0.1");
        leaf("client", "web");
        std::fs::write(dir.join("ca.pem"), ca.pem()).expect("written");
        Certs { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    fn at(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Drop for Certs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Options that trust the CA and present the client certificate.
fn trusted(server: &NatsServer, certs: &Certs) -> NatsOptions {
    NatsOptions::new(server.url())
        .tls_required(true)
        .root_certificates(certs.at("ca.pem"))
        .client_certificate(certs.at("client.pem"), certs.at("client-key.pem"))
}

fn tls_server(certs: &Certs) -> NatsServer {
    let (cert, key, ca) = (
        certs.path("server.pem"),
        certs.path("server-key.pem"),
        certs.path("ca.pem"),
    );
    NatsServer::start_with(&[
        "--tls",
        "--tlscert",
        &cert,
        "--tlskey",
        &key,
        "--tlsverify",
        "--tlscacert",
        &ca,
    ])
}

#[test]
fn a_job_runs_over_tls_with_a_private_ca_and_client_certificates() {
    let certs = Certs::make();
    let server = tls_server(&certs);
    let worker = Worker::new(trusted(&server, &certs), Jobs::new().register::<Double>())
        .name("w1")
        .shutdown_grace(Duration::ZERO)
        .spawn();
    let backend = NatsBackend::connect(trusted(&server, &certs)).expect("a TLS connection");
    let rt = streamtree::Runtime::builder()
        .backend(Arc::new(backend))
        .build();
    let s = Session::builder().runtime(rt).build();
    let h = s.enter(|| job::<Double>(&21).submit());
    assert!(s.wait_idle(LONG), "the job ends within {LONG:?}");
    assert_eq!(h.result(), Some(42));
    worker.shutdown();
    worker.join().expect("the worker ends cleanly");
}

#[test]
fn tls_refusals_name_what_is_wrong() {
    let certs = Certs::make();
    let server = tls_server(&certs);
    let connect = |opts: NatsOptions| NatsBackend::connect(opts).expect_err("refused").to_string();
    // The system's roots do not know the private CA.
    let untrusted = connect(
        NatsOptions::new(server.url())
            .tls_required(true)
            .client_certificate(certs.at("client.pem"), certs.at("client-key.pem")),
    );
    assert!(
        untrusted.starts_with(&format!(
            "cannot connect to the NATS server at {}",
            server.url()
        )),
        "{untrusted}"
    );
    // The server verifies its clients: none presented.
    let anonymous = connect(
        NatsOptions::new(server.url())
            .tls_required(true)
            .root_certificates(certs.at("ca.pem")),
    );
    assert!(anonymous.starts_with("cannot connect"), "{anonymous}");
    // A file that is not there is named before any connection.
    let missing = certs.at("nowhere.pem");
    let err = NatsBackend::connect(trusted(&server, &certs).root_certificates(&missing))
        .expect_err("no such file");
    assert!(matches!(&err, NatsError::Tls { path, .. } if path == Path::new(&missing)));
    assert!(
        err.to_string().starts_with(&format!(
            "cannot read the NATS TLS file {}",
            missing.display()
        )),
        "{err}"
    );
}
