//! https: a minimal TLS server with its own certificate authority, so that the rustls path and
//! `--ca-bundle` are tested on loopback.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::{Entry, Run, TestContext, data};

/// One request's headers, names lower-cased.
pub type Headers = Vec<(String, String)>;

/// Serves one body at every path over https to `localhost`, recording request headers.
pub struct TlsServer {
    addr: SocketAddr,
    /// The certificate authority that signed the server's certificate, as PEM.
    pub ca_pem: String,
    headers: Arc<Mutex<Vec<Headers>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TlsServer {
    pub fn start(body: Vec<u8>) -> TlsServer {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "cargo-models test CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .signed_by(&leaf_key, &ca)
            .unwrap();
        let key = PrivateKeyDer::from(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone(), ca.der().clone()], key)
        .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let headers = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (headers, stop) = (headers.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let Ok((tcp, _)) = listener.accept() else {
                        std::thread::sleep(Duration::from_millis(10));
                        continue;
                    };
                    tcp.set_nonblocking(false).unwrap();
                    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                    let conn = rustls::ServerConnection::new(config.clone()).unwrap();
                    let mut tls = rustls::StreamOwned::new(conn, tcp);
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        match tls.read(&mut byte) {
                            Ok(1) => head.push(byte[0]),
                            _ => break,
                        }
                    }
                    if !head.ends_with(b"\r\n\r\n") {
                        continue; // a client that gave up on the handshake
                    }
                    let text = String::from_utf8_lossy(&head).into_owned();
                    headers.lock().unwrap().push(
                        text.lines()
                            .skip(1)
                            .filter_map(|l| l.split_once(':'))
                            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                            .collect(),
                    );
                    let response = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = tls.write_all(response.as_bytes());
                    let _ = tls.write_all(&body);
                    tls.conn.send_close_notify();
                    let _ = tls.flush();
                }
            })
        };
        TlsServer {
            addr,
            ca_pem: ca.pem(),
            headers,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}/{path}", self.addr.port())
    }

    /// The headers of every request, in order (names lower-cased).
    pub fn requests(&self) -> Vec<Headers> {
        self.headers.lock().unwrap().clone()
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn https_with_a_private_ca_and_a_token_for_its_host() {
    let ctx = TestContext::new();
    let body = data(400, 300_000);
    let server = TlsServer::start(body.clone());
    let ca = ctx.dir.path().join("ca.pem");
    std::fs::write(&ca, &server.ca_pem).unwrap();
    ctx.write_lockfile(&[Entry::new("m", &server.url("m.bin"), &body)]);

    let untrusted: Run = ctx
        .cmd()
        .args(["fetch", "--retries", "0"])
        .env_remove("SSL_CERT_FILE")
        .output()
        .unwrap()
        .into();
    assert_eq!(untrusted.code, 3, "{}", untrusted.stderr);
    assert!(
        untrusted.stderr.contains("certificate"),
        "{}",
        untrusted.stderr
    );
    assert!(!ctx.blob_path(&body).exists());

    let run: Run = ctx
        .cmd()
        .args(["fetch", "--ca-bundle"])
        .arg(&ca)
        .env(
            "CARGO_MODELS_AUTH_HEADER_LOCALHOST",
            "Authorization: Bearer tls-secret",
        )
        .output()
        .unwrap()
        .into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("plain http"), "{}", run.stderr);
    assert_eq!(std::fs::read(ctx.blob_path(&body)).unwrap(), body);
    let last = server.requests().pop().unwrap();
    assert!(last.contains(&("authorization".into(), "Bearer tls-secret".into())));
    assert!(!run.stderr.contains("tls-secret"));

    let missing: Run = ctx
        .cmd()
        .args([
            "fetch",
            "--ca-bundle",
            "/nonexistent/ca.pem",
            "--verify",
            "full",
        ])
        .output()
        .unwrap()
        .into();
    assert_eq!(
        missing.code, 0,
        "a cached model needs no connection: {}",
        missing.stderr
    );
}
