//! wstest's fuzzing server: autostrada's client passes every case it runs,
//! requests it cannot serve get a clear HTTP error while it goes on
//! serving, a client that vanishes mid-case fails that case only, and every
//! finished case's report is on disk at once.

use std::time::Duration;

use autostrada::proto::handshake::generate_key;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wstest::report::CaseResult;

/// Starts a fuzzing server for `cases`, writing to a fresh directory;
/// returns its address, the directory and the task that ends with the
/// results once `stop` fires.
async fn start(
    cases: &[&str],
    name: &str,
) -> (String, std::path::PathBuf, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<Vec<CaseResult>>) {
    start_with(cases, name, wstest::fuzzingserver::Options::default()).await
}

/// [`start`] with other options.
async fn start_with(
    cases: &[&str],
    name: &str,
    options: wstest::fuzzingserver::Options,
) -> (String, std::path::PathBuf, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<Vec<CaseResult>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let outdir = std::env::temp_dir().join(format!("wstest-fuzzingserver-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&outdir);
    let text = serde_json::json!({"url": format!("ws://{addr}"), "outdir": outdir, "cases": cases}).to_string();
    let spec = wstest::spec::parse_server(&text, None).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        wstest::fuzzingserver::serve(spec, listener, options, async {
            let _ = stopped.await;
        })
        .await
        .unwrap()
    });
    (addr, outdir, stop, task)
}

/// Connects and sends an upgrade request for `target` with `host` as its Host.
async fn request(addr: &str, target: &str, host: &str) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\n\r\n",
        generate_key()
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    tcp
}

/// Sends a raw HTTP request and returns the whole answer.
async fn raw(addr: &str, target: &str, host: &str) -> String {
    let mut tcp = request(addr, target, host).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autostrada_client_passes_and_reports_are_written() {
    let cases = ["1.*", "2.*", "5.*", "6.4.*", "7.*", "10.*", "12.1.1", "12.4.2", "13.3.1", "13.7.11"];
    let (addr, outdir, stop, task) = start(&cases, "pass").await;
    let ran = wstest::testee::run(&format!("ws://{addr}"), "autostrada test", 3, |_, _| {}).await.unwrap();
    assert_eq!(ran, 16 + 11 + 20 + 4 + 37 + 1 + 4);
    // The per-case reports and index.json are there before the server stops.
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(outdir.join("index.json")).unwrap()).unwrap();
    let rows = index["autostrada test"].as_object().unwrap();
    assert_eq!(rows.len(), ran);
    let case: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(outdir.join("autostrada_test_case_13_7_11.json")).unwrap())
            .unwrap();
    assert_eq!((case["isServer"].as_bool(), case["case"].as_u64()), (Some(true), Some(ran as u64)));
    assert!(case["httpResponse"].as_str().unwrap().contains("client_max_window_bits=9"), "{}", case["httpResponse"]);
    assert!(case["trafficStats"]["incomingCompressionRatio"].as_f64().unwrap() < 1.0);
    // The HTML too: a page per case (the fuzzer as server) and an index with a row each.
    let page = std::fs::read_to_string(outdir.join("autostrada_test_case_13_7_11.html")).unwrap();
    assert!(page.contains("fuzzer as server") && page.contains("id=\"wire-log\""));
    let html = std::fs::read_to_string(outdir.join("index.html")).unwrap();
    assert_eq!(html.matches("<tr id=\"case-").count(), ran);
    let _ = stop.send(());
    let results = task.await.unwrap();
    let failing: Vec<String> = results
        .iter()
        .filter(|r| !matches!(r.verdict.behavior_close.as_str(), "OK" | "INFORMATIONAL"))
        .map(|r| format!("{} {}/{}: {}", r.id, r.verdict.behavior, r.verdict.behavior_close, r.verdict.result))
        .collect();
    assert!(failing.is_empty(), "{failing:#?}");
    assert!(results.iter().all(|r| matches!(r.verdict.behavior.as_str(), "OK" | "INFORMATIONAL")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_clear_errors_and_the_server_goes_on() {
    let (addr, outdir, stop, task) = start(&["1.1.*"], "errors").await;
    let unknown = raw(&addr, "/nothing", &addr).await;
    assert!(unknown.starts_with("HTTP/1.1 404") && unknown.contains("/runCase?case=N&agent=A"), "{unknown}");
    let no_agent = raw(&addr, "/runCase?case=1", &addr).await;
    assert!(no_agent.starts_with("HTTP/1.1 400") && no_agent.contains("agent=NAME"), "{no_agent}");
    // The reference fails an /updateReports without an agent too.
    let no_agent = raw(&addr, "/updateReports", &addr).await;
    assert!(no_agent.starts_with("HTTP/1.1 400") && no_agent.contains("agent=NAME"), "{no_agent}");
    let too_far = raw(&addr, "/runCase?case=9&agent=x", &addr).await;
    assert!(too_far.starts_with("HTTP/1.1 400") && too_far.contains("cases 1 to 8"), "{too_far}");
    // An agent name whose report file names the file system cannot hold.
    let long = raw(&addr, &format!("/runCase?case=1&agent={}", "a".repeat(238)), &addr).await;
    assert!(
        long.starts_with("HTTP/1.1 400") && long.contains("would be 238 characters, and at most 237 fit"),
        "{long}"
    );
    // Two agents whose report file names would be the same: the second is refused.
    let (_first, head) = upgrade(&addr, "/getCaseStatus?case=1&agent=Foo%2Fbar").await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let clash = raw(&addr, "/runCase?case=1&agent=foo.BAR", &addr).await;
    assert!(
        clash.starts_with("HTTP/1.1 400") && clash.contains("\"foo.BAR\" would share report files with \"Foo/bar\""),
        "{clash}"
    );
    let twice = raw(&addr, "/runCase?case=1&case=2&agent=x", &addr).await;
    assert!(twice.starts_with("HTTP/1.1 400") && twice.contains("more than once"), "{twice}");
    // A Host header naming another name and port (a port mapping) is fine.
    let mapped = raw(&addr, "/getCaseCount", "example.test:8080").await;
    assert!(mapped.starts_with("HTTP/1.1 101"), "{mapped}");
    let info = raw(&addr, "/getCaseInfo?case=3", "localhost").await;
    assert!(info.contains("{\"id\": \"1.1.3\", \"description\": "), "{info}");
    // Reports asked for before any case left a row: an empty index, as the
    // reference writes.
    let _ = raw(&addr, "/updateReports?agent=x", &addr).await;
    assert_eq!(std::fs::read_to_string(outdir.join("index.json")).unwrap(), "{}");
    let _ = stop.send(());
    assert!(task.await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_vanishes_mid_case_fails_that_case_only() {
    let (addr, _outdir, stop, task) = start(&["1.1.1", "1.1.2"], "vanish").await;
    // Case 1: the handshake completes, then the client is gone.
    let answer = {
        let mut tcp = TcpStream::connect(&addr).await.unwrap();
        let request = format!(
            "GET /runCase?case=1&agent=flaky HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\n\r\n",
            generate_key()
        );
        tcp.write_all(request.as_bytes()).await.unwrap();
        let mut buf = vec![0u8; 4096];
        let n = tcp.read(&mut buf).await.unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    assert!(answer.starts_with("HTTP/1.1 101"), "{answer}");
    // Case 2 runs normally; its status arrives through /getCaseStatus.
    let client = autostrada::ClientBuilder::new();
    let (mut ws, _) = client.connect(format!("ws://{addr}/runCase?case=2&agent=flaky")).await.unwrap();
    use futures_util::{SinkExt, StreamExt};
    while let Some(Ok(m)) = ws.next().await {
        if m.is_data() {
            let _ = ws.send(m).await;
        }
    }
    let (mut status, _) = client.connect(format!("ws://{addr}/getCaseStatus?case=2&agent=flaky")).await.unwrap();
    let reply = status.next().await.unwrap().unwrap();
    assert_eq!(reply.as_text(), Some("{\"behavior\": \"OK\"}"));
    let _ = stop.send(());
    let results = task.await.unwrap();
    let verdicts: Vec<(&str, &str, &str)> = results
        .iter()
        .map(|r| (r.id.as_str(), r.verdict.behavior.as_str(), r.verdict.behavior_close.as_str()))
        .collect();
    assert_eq!(verdicts, vec![("1.1.1", "FAILED", "FAILED"), ("1.1.2", "OK", "OK")]);
}

/// The rows of `agent` in `outdir/index.json` (none while it is not there).
fn index_rows(outdir: &std::path::Path, agent: &str) -> usize {
    std::fs::read_to_string(outdir.join("index.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v[agent].as_object().map(serde_json::Map::len))
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_catches_up_without_update_reports() {
    // index.json is written at most twice a second while cases finish, so
    // many agents do not cost a rewrite per case; what a burst of cases
    // left unwritten follows shortly, with no further case or request.
    let cases = ["1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.1.6", "1.1.7", "1.1.8"];
    let (addr, outdir, stop, task) = start(&cases, "catchup").await;
    use futures_util::{SinkExt, StreamExt};
    let client = autostrada::ClientBuilder::new();
    for n in 1..=cases.len() {
        let (mut ws, _) = client.connect(format!("ws://{addr}/runCase?case={n}&agent=quiet")).await.unwrap();
        while let Some(Ok(m)) = ws.next().await {
            if m.is_data() {
                let _ = ws.send(m).await;
            }
        }
    }
    let (mut status, _) = client.connect(format!("ws://{addr}/getCaseStatus?case=8&agent=quiet")).await.unwrap();
    assert_eq!(status.next().await.unwrap().unwrap().as_text(), Some("{\"behavior\": \"OK\"}"));
    // Waits on the file, not on a clock: at most 10 s, far past the 0.5 s.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let html_rows =
        || std::fs::read_to_string(outdir.join("index.html")).map_or(0, |h| h.matches("<tr id=\"case-").count());
    while (index_rows(&outdir, "quiet") < cases.len() || html_rows() < cases.len())
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!((index_rows(&outdir, "quiet"), html_rows()), (cases.len(), cases.len()));
    let _ = stop.send(());
    assert_eq!(task.await.unwrap().len(), cases.len());
}

/// Sends an upgrade request for `target` and reads the answer's head; the
/// connection stays open, and nothing it is sent is read or echoed.
async fn upgrade(addr: &str, target: &str) -> (TcpStream, String) {
    let mut tcp = request(addr, target, addr).await;
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(tcp.read_u8().await.unwrap());
    }
    (tcp, String::from_utf8(head).unwrap())
}

/// However many connections ask, no more than `max_cases` cases run at
/// once (each may hold tens of MiB): a further `/runCase` is answered at
/// once, but its case starts only when a running one ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cases_beyond_max_cases_wait_for_a_running_one_to_end() {
    let options = wstest::fuzzingserver::Options { max_cases: 2, ..Default::default() };
    let (addr, _outdir, stop, task) = start_with(&["9.1.6"], "max-cases", options).await;
    let mut clients = Vec::new();
    for agent in ["a", "b", "c"] {
        let (tcp, head) = upgrade(&addr, &format!("/runCase?case=1&agent={agent}")).await;
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        clients.push(tcp);
    }
    // The first two cases send their 16 MiB frame (which nobody reads);
    // the third one waits, so nothing comes on its connection.
    for client in &mut clients[..2] {
        assert_eq!(client.read_u8().await.unwrap(), 0x81, "a text frame begins");
    }
    let mut third = clients.pop().unwrap();
    let early = tokio::time::timeout(Duration::from_millis(500), third.read_u8()).await;
    assert!(early.is_err(), "a third case started while two were running: {early:?}");
    // The first client goes: its case ends, and the third one starts.
    drop(clients.remove(0));
    let first = tokio::time::timeout(Duration::from_secs(10), third.read_u8()).await.expect("the case started");
    assert_eq!(first.unwrap(), 0x81);
    drop((clients, third));
    let _ = stop.send(());
    let _ = task.await;
}

/// An agent is recorded only once its upgrade is accepted (the reference
/// records nothing of a refused request), and a name past 1 KiB is refused:
/// a client cannot make the server keep names it never served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_are_claimed_only_by_accepted_upgrades_and_names_are_bounded() {
    let (addr, _outdir, stop, task) = start(&["1.1.1"], "agents").await;
    // No Sec-WebSocket-Key: refused, and Foo/bar claims nothing.
    let mut tcp = TcpStream::connect(&addr).await.unwrap();
    let keyless = "GET /getCaseStatus?case=1&agent=Foo%2Fbar HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n";
    tcp.write_all(keyless.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
    // So a name with the same report file names is free.
    let (first, head) = upgrade(&addr, "/getCaseStatus?case=1&agent=foo.BAR").await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    // Now claimed: the other spelling is refused.
    let clash = raw(&addr, "/getCaseStatus?case=1&agent=Foo%2Fbar", &addr).await;
    assert!(clash.starts_with("HTTP/1.1 400") && clash.contains("would share report files"), "{clash}");
    // Names are taken up to 1 KiB (here with no letter or digit, so their
    // report file names are short).
    let long = raw(&addr, &format!("/getCaseStatus?case=1&agent={}", "-".repeat(1025)), &addr).await;
    assert!(long.starts_with("HTTP/1.1 400") && long.contains("1025 octets long, and at most 1024"), "{long}");
    let (second, head) = upgrade(&addr, &format!("/getCaseStatus?case=1&agent={}", "-".repeat(1024))).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    drop((first, second));
    let _ = stop.send(());
    let _ = task.await;
}

/// A client whose request is refused and that never reads the answer (a
/// megabyte request line of control characters, once quoted in full in a
/// body of 6 MiB that no socket buffer takes) is let go: it held its
/// connection slot for ever, and 1024 such clients locked the server out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_client_that_never_reads_is_let_go() {
    use tokio::io::Interest;
    let (addr, _outdir, stop, task) = start(&["1.1.1"], "never-reads").await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut tcp = socket.connect(addr.parse().unwrap()).await.unwrap();
    let mut line = b"GET".to_vec();
    line.extend(std::iter::repeat_n(1u8, 1_000_000));
    line.extend(b"\r\n\r\n");
    tcp.write_all(&line).await.unwrap();
    // Reading nothing, wait for the server to close its side (the kernel
    // says so while the answer still waits unread).
    let closed = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let ready = tcp.ready(Interest::READABLE).await.unwrap();
            if ready.is_read_closed() {
                return;
            }
            // Seen: wait for the next change.
            let _ = tcp.try_io(Interest::READABLE, || Err::<(), _>(std::io::ErrorKind::WouldBlock.into()));
        }
    })
    .await;
    assert!(closed.is_ok(), "the server still holds a client that does not read its refusal");
    let mut answer = Vec::new();
    let _ = tcp.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400") && answer.len() < 4096, "{} octets: {answer:.300}", answer.len());
    assert!(raw(&addr, "/getCaseCount", &addr).await.starts_with("HTTP/1.1 101"));
    let _ = stop.send(());
    let _ = task.await;
}

/// A "fuzzing server" that claims 2^64 − 1 cases: the testee client says
/// what is wrong instead of asking for cases for ever.
#[tokio::test]
async fn the_testee_client_refuses_a_case_count_no_fuzzing_server_has() {
    use futures_util::SinkExt;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(mut ws) = autostrada::accept(tcp).await else { return };
                let _ = ws.send(autostrada::Message::text("18446744073709551615")).await;
                let _ = ws.close(autostrada::CloseCode::NORMAL, "").await;
            });
        }
    });
    let err = wstest::testee::run(&format!("ws://{addr}"), "count", 1, |_, _| {}).await.unwrap_err();
    assert!(err.to_string().contains("says it runs 18446744073709551615 cases"), "{err}");
}

/// A case refused at its handshake (a malformed deflate offer) is reported
/// as the reference reports it: the request head, the request read and the
/// refusal written in the wire log and octet counts, the refusal the
/// reference's to the octet, and a compression case's expected close.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_refused_at_its_handshake_keeps_its_request_and_refusal() {
    let (addr, outdir, stop, task) = start(&["12.1.1"], "refused-offer").await;
    let mut tcp = TcpStream::connect(&addr).await.unwrap();
    let request = format!(
        "GET /runCase?case=1&agent=probe HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate; foo=1\r\n\r\n",
        generate_key()
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut answer)).await;
    let refusal = "HTTP/1.1 400 illegal extension parameter 'foo' for extension 'permessage-deflate'\r\n\r\n";
    assert_eq!(String::from_utf8_lossy(&answer), refusal);
    drop(tcp);
    let _ = stop.send(());
    let results = task.await.unwrap();
    assert_eq!(results.len(), 1);
    let case: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(outdir.join("probe_case_12_1_1.json")).unwrap()).unwrap();
    assert_eq!(case["httpRequest"], request);
    assert_eq!(case["resultClose"], "The WebSocket opening handshake was never completed!");
    assert_eq!(
        case["expectedClose"],
        serde_json::json!({"closeCode": [1000], "closedByMe": true, "requireClean": true})
    );
    let rows: Vec<(&str, u64)> = case["wirelog"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| (row[0].as_str().unwrap(), row[1][0].as_u64().unwrap()))
        .collect();
    assert_eq!(rows, [("RO", request.len() as u64), ("TO", refusal.len() as u64)]);
    assert_eq!(case["rxOctetStats"], serde_json::json!({ request.len().to_string(): 1 }));
    assert_eq!(case["txOctetStats"], serde_json::json!({ refusal.len().to_string(): 1 }));
}
