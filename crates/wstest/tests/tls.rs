//! wstest over `wss://`, with certificates made at test time: the fuzzing
//! client against a TLS echo server (a CA to trust, verification skipped,
//! a certificate it must not trust), the fuzzing server behind TLS driven
//! by autostrada's client, and the spec errors for TLS settings.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use wstest::report::CaseResult;
use wstest::runner::{self, RunOptions};

/// A CA and a server certificate for localhost/127.0.0.1, as PEM files.
struct Files {
    dir: PathBuf,
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn files(name: &str) -> Files {
    let dir = std::env::temp_dir().join(format!("wstest-tls-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, "wstest test CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.signed_by(&key, &ca).unwrap();
    let write = |file: &str, text: String| {
        let path = dir.join(file);
        std::fs::write(&path, text).unwrap();
        path
    };
    Files {
        ca: write("ca.pem", ca.pem()),
        cert: write("cert.pem", format!("{}{}", cert.pem(), ca.pem())),
        key: write("key.pem", key.serialize_pem()),
        dir,
    }
}

async fn run(server: serde_json::Value, cases: &[&str]) -> Vec<CaseResult> {
    let text = serde_json::json!({"servers": [server], "cases": cases}).to_string();
    let spec = wstest::spec::parse_client(&text, None).unwrap();
    let options =
        RunOptions { jobs: 8, quiet: true, debug: false, busy_poll: Some(RunOptions::BUSY_POLL), case_timeout: None };
    runner::run(spec, &options, std::future::pending()).await
}

fn not_ok(results: &[CaseResult]) -> Vec<String> {
    results
        .iter()
        .filter(|r| {
            !matches!(r.verdict.behavior.as_str(), "OK" | "INFORMATIONAL")
                || !matches!(r.verdict.behavior_close.as_str(), "OK" | "INFORMATIONAL")
        })
        .map(|r| format!("{} {}/{}: {}", r.id, r.verdict.behavior, r.verdict.behavior_close, r.verdict.result))
        .collect()
}

async fn tls_echo_server(files: &Files) -> std::net::SocketAddr {
    let acceptor = wstest::tls::acceptor(&files.cert, &files.key).unwrap();
    wstest::echo::start_with("127.0.0.1:0", Some(acceptor)).await.unwrap().0
}

const SAMPLE: [&str; 7] = ["1.1.*", "2.*", "5.*", "7.1.*", "9.1.1", "12.1.1", "13.7.11"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fuzzingclient_tests_a_wss_server_it_trusts() {
    let files = files("client");
    let addr = tls_echo_server(&files).await;
    let url = format!("wss://localhost:{}", addr.port());
    let results = run(serde_json::json!({"agent": "tls", "url": url, "trust-ca": files.ca}), &SAMPLE).await;
    assert_eq!(results.len(), 8 + 11 + 20 + 6 + 1 + 1 + 1);
    assert!(not_ok(&results).is_empty(), "{:#?}", not_ok(&results));
    // The wire log holds the WebSocket octets, not TLS records.
    let session = results[0].session.as_ref().unwrap();
    assert!(session.http_request.starts_with("GET / HTTP/1.1\r\n"));

    // By IP address, with verification skipped.
    let url = format!("wss://127.0.0.1:{}", addr.port());
    let results = run(serde_json::json!({"agent": "tls", "url": url, "skip-verify": true}), &["1.1.1", "7.1.1"]).await;
    assert!(not_ok(&results).is_empty(), "{:#?}", not_ok(&results));

    // Against the public roots the test CA is unknown: no case passes.
    let url = format!("wss://localhost:{}", addr.port());
    let results = run(serde_json::json!({"agent": "tls", "url": url}), &["1.1.1"]).await;
    assert_eq!(not_ok(&results).len(), 1, "an untrusted certificate must not pass");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fuzzingserver_serves_wss_to_autostrada() {
    use autostrada::rustls::RootCertStore;
    use autostrada::rustls::pki_types::CertificateDer;
    use autostrada::rustls::pki_types::pem::PemObject;

    let files = files("server");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let outdir = files.dir.join("reports");
    let text = serde_json::json!({
        "url": format!("wss://127.0.0.1:{port}"), "outdir": outdir,
        "cert": files.cert, "key": files.key, "cases": SAMPLE,
    })
    .to_string();
    let spec = wstest::spec::parse_server(&text, None).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let options = wstest::fuzzingserver::Options::default();
        wstest::fuzzingserver::serve(spec, listener, options, async {
            let _ = stopped.await;
        })
        .await
        .unwrap()
    });
    let mut roots = RootCertStore::empty();
    roots.add(CertificateDer::from_pem_file(&files.ca).unwrap()).unwrap();
    let connector = autostrada::Connector::with_roots(roots);
    let base = format!("wss://localhost:{port}");
    let ran = wstest::testee::run_with(&base, "autostrada tls", 3, &connector, |_, _| {}).await.unwrap();
    assert_eq!(ran, 48);
    let _ = stop.send(());
    let results = task.await.unwrap();
    assert_eq!(results.len(), 48);
    assert!(not_ok(&results).is_empty(), "{:#?}", not_ok(&results));
}

#[test]
fn tls_settings_in_specs_are_checked() {
    let missing = Path::new("/nonexistent/ca.pem");
    let text = serde_json::json!({"servers": [{"url": "wss://localhost:9001", "trust-ca": missing}]}).to_string();
    let e = wstest::spec::parse_client(&text, None).unwrap_err().to_string();
    assert!(e.contains("trust-ca") && e.contains("/nonexistent/ca.pem"), "{e}");
    let text =
        serde_json::json!({"servers": [{"url": "wss://h:1", "trust-ca": "ca.pem", "skip-verify": true}]}).to_string();
    let e = wstest::spec::parse_client(&text, None).unwrap_err().to_string();
    assert!(e.contains("exclude each other"), "{e}");
    let e = wstest::spec::parse_server(r#"{"url": "wss://127.0.0.1:9001"}"#, None).unwrap_err().to_string();
    assert!(e.contains("\"cert\"") && e.contains("-c CERT"), "{e}");
    let e = wstest::spec::parse_server(r#"{"url": "wss://127.0.0.1:9001", "cert": "c.pem"}"#, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("both"), "{e}");
}
