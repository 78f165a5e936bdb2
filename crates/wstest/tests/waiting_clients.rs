//! Clients that ask the fuzzing server for the status of a case that never
//! runs wait as long as they stay connected (as the reference's do). Each
//! such connection must cost little however large the request that opened
//! it: the head (up to 1 MiB) and the wire log of what it sent are let go
//! once it is upgraded. Its own process, so that its memory figure is its
//! own.

#[path = "fixtures/hostile_client.rs"]
#[allow(dead_code)]
mod hostile_client;

use hostile_client as hc;
use tokio::net::TcpListener;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_requests_waiting_for_ever_hold_little_memory() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let outdir = std::env::temp_dir().join(format!("wstest-waiting-clients-{}", std::process::id()));
    let text = serde_json::json!({"url": format!("ws://{addr}"), "outdir": outdir, "cases": ["1.1.1"]}).to_string();
    let spec = wstest::spec::parse_server(&text, None).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(wstest::fuzzingserver::serve(spec, listener, Default::default(), async {
        let _ = stopped.await;
    }));
    let before = hc::rss_kib("VmRSS:");
    // 100 clients, each asking with 900 KiB of headers about case 1, which
    // none of them runs.
    let pad = format!("X-Pad: {}\r\n", "p".repeat(900 * 1024));
    let mut waiting = Vec::new();
    for _ in 0..100 {
        let (tcp, head) = hc::open(&addr, "/getCaseStatus?case=1&agent=waiting", &pad).await.unwrap();
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        waiting.push(tcp);
    }
    let grown = hc::rss_kib("VmRSS:").saturating_sub(before);
    // 90 MiB of requests came in; keeping them took ~2 MiB per connection.
    assert!(grown < 40 * 1024, "{grown} KiB for 100 waiting connections");
    // And the server still answers others.
    let (_tcp, head) = hc::open(&addr, "/getCaseCount", "").await.unwrap();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    drop(waiting);
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    let _ = std::fs::remove_dir_all(&outdir);
}
