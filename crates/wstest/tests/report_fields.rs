//! Report fields that carry what went over the wire, checked on a real run.

use wstest::runner::{self, RunOptions};
use wstest::spec;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_7_5_1_reports_the_invalid_reason_octets_it_sent_in_hex() {
    let server = wstest::echo::Background::start("127.0.0.1:0").unwrap();
    let text =
        format!(r#"{{"servers": [{{"agent": "autostrada", "url": "ws://{}"}}], "cases": ["7.5.1"]}}"#, server.addr());
    let spec = spec::parse_client(&text, None).unwrap();
    let options = RunOptions { jobs: 1, quiet: true, debug: false, busy_poll: None, case_timeout: None };
    let results = runner::run(spec, &options, std::future::pending()).await;
    let report = results[0].to_json();
    // The reason's octets as sent: "κόσμε" followed by an encoded
    // surrogate (ED A0 80, invalid UTF-8) and "edited", not replacement
    // characters in their place.
    assert_eq!(report["localCloseReason"], "cebae1bdb9cf83cebcceb5eda080656469746564");
    assert_eq!(report["behavior"], "OK");
}

/// The kinds of a wire log's rows, without the reads (how the octets that
/// arrive are cut into reads is the network's doing).
fn row_kinds(report: &serde_json::Value) -> Vec<String> {
    report["wirelog"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row[0].as_str().unwrap().to_owned())
        .filter(|kind| kind != "RO")
        .collect()
}

/// Runs `cases` against autostrada's echo server and checks each wire
/// log's rows (reads left out) against the reference's report on the same
/// server, in `fixtures/DIR`.
async fn rows_as_in_the_reference(dir: &str, cases: &[&str]) {
    let server = wstest::echo::Background::start("127.0.0.1:0").unwrap();
    let text = format!(
        r#"{{"servers": [{{"agent": "autostrada", "url": "ws://{}"}}], "cases": {}}}"#,
        server.addr(),
        serde_json::to_string(&cases).unwrap()
    );
    let spec = spec::parse_client(&text, None).unwrap();
    let options = RunOptions { jobs: 1, quiet: true, debug: false, busy_poll: None, case_timeout: None };
    let results = runner::run(spec, &options, std::future::pending()).await;
    assert_eq!(results.len(), cases.len());
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(dir);
    for result in &results {
        let file = dir.join(format!("autostrada_case_{}.json", result.id.replace('.', "_")));
        let reference: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(row_kinds(&result.to_json()), row_kinds(&reference), "case {}", result.id);
    }
}

/// A frame's `TO` row comes where the reference writes it: at once for a
/// plain write, so before the timer the case arms next (`KL`, `TI`), not
/// when the socket took it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wire_logs_list_rows_in_the_reference_order() {
    rows_as_in_the_reference("reference-report", &["1.1.1", "2.10", "5.19", "6.4.1", "7.9.1", "9.3.7", "12.1.1"]).await;
}

/// Chopped and synced writes: the first of a run is written (and logged)
/// at once, the rest one by one later, after the rows the case logs
/// meanwhile. Recorded with `../shared/tools/autobahn fuzzingclient`
/// against `wsbench serve autostrada`, cases whose order does not depend
/// on timing (the echo or pong comes only once all the chops are out).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_writes_are_logged_in_the_reference_order() {
    rows_as_in_the_reference("reference-order", &["1.1.8", "2.6", "5.4", "5.5"]).await;
}

#[path = "fixtures/flawed.rs"]
mod flawed;

/// The reason wstest closes with when it fails a connection (its close
/// frame's, and the report's `localCloseReason`) is the reference's, in the
/// reference's words, octet index included (they were read from the
/// reference's reports on the same kinds of servers).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_close_with_the_references_reasons() {
    for (flaw, case, reason) in [
        ("rsv2-on-echoes", "1.1.1", "RSV = 2 and no extension negotiated"),
        // "κόσμε" and then ED A0: the A0 (octet 12) is where it fails.
        ("no-utf8-check", "6.3.1", "encountered invalid UTF-8 while processing text message at payload octet index 12"),
    ] {
        let addr = flawed::start(flawed::Flaw::from_name(flaw).unwrap(), "127.0.0.1:0").await.unwrap();
        let text = format!(r#"{{"servers": [{{"agent": "{flaw}", "url": "ws://{addr}"}}], "cases": ["{case}"]}}"#);
        let spec = spec::parse_client(&text, None).unwrap();
        let options = RunOptions { jobs: 1, quiet: true, debug: false, busy_poll: None, case_timeout: None };
        let results = runner::run(spec, &options, std::future::pending()).await;
        assert_eq!(results[0].to_json()["localCloseReason"], reason, "{flaw} {case}");
    }
}
