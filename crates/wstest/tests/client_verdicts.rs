//! wstest's fuzzing server on deliberately flawed clients: it must reach the
//! verdicts the reference's fuzzing server reached on the same clients
//! (recorded in `fixtures/expected-client/` by `tools/record-client-fixture`).

#[path = "fixtures/agreement.rs"]
mod agreement;
#[path = "fixtures/flawed_client.rs"]
mod flawed_client;
#[path = "client_verdicts/more_flaws.rs"]
mod more_flaws;
#[path = "client_verdicts/second_list.rs"]
mod second_list;
#[path = "client_verdicts/zero_timeouts.rs"]
mod zero_timeouts;

use std::collections::BTreeMap;

use tokio::net::TcpListener;
use wstest::report::CaseResult;

/// Cases of one flaw run at once: the reference ran them one after the
/// other, but each case has its own connection and timers, and the slow
/// ones (a client that never answers a close waits out a 1 s timer) would
/// otherwise take a minute.
const JOBS: usize = 16;

/// Runs `cases` on wstest's fuzzing server with the flawed client `name`
/// driving it; returns every case's result, and its report as written
/// (`<agent>_case_<id>.json`, with the closing fields and the wire log).
async fn run(name: &str, cases: &[&str]) -> (Vec<CaseResult>, BTreeMap<String, serde_json::Value>) {
    run_with(name, cases, &serde_json::json!({})).await
}

/// [`run`] with the spec's protocol `options`.
async fn run_with(
    name: &str,
    cases: &[&str],
    options: &serde_json::Value,
) -> (Vec<CaseResult>, BTreeMap<String, serde_json::Value>) {
    let flaw = flawed_client::Flaw::from_name(name).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    // One directory per run: two tests may run the same flaw at once.
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let outdir = std::env::temp_dir().join(format!("wstest-client-verdicts-{name}-{}-{run}", std::process::id()));
    let _ = std::fs::remove_dir_all(&outdir);
    let text = serde_json::json!({"url": format!("ws://{addr}"), "outdir": outdir, "cases": cases, "options": options})
        .to_string();
    let spec = wstest::spec::parse_server(&text, None).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(wstest::fuzzingserver::serve(spec, listener, Default::default(), async {
        let _ = stopped.await;
    }));
    let ran = flawed_client::run(flaw, &format!("ws://{addr}"), name, JOBS).await.unwrap();
    assert_eq!(ran, cases.len());
    let _ = stop.send(());
    let results = server.await.unwrap().unwrap();
    let read = |file: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(outdir.join(file)).unwrap()).unwrap()
    };
    // (No index is written while no case has left a result.)
    let index = if results.is_empty() { serde_json::Value::Null } else { read("index.json") };
    let reports = index[name]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(id, row)| (id.clone(), read(row["reportfile"].as_str().unwrap())))
        .collect();
    let _ = std::fs::remove_dir_all(&outdir);
    (results, reports)
}

/// Runs the cases recorded for `name` and compares every verdict pair with
/// the reference's.
async fn agrees_with_reference(name: &str) {
    let _turn = agreement::AT_ONCE.acquire().await.unwrap();
    let expected = agreement::expected("expected-client", name);
    let cases: Vec<&str> = expected.keys().map(String::as_str).collect();
    let (results, _) = run(name, &cases).await;
    assert_eq!(results.len(), cases.len(), "every case has a result");
    agreement::assert_agrees(name, &expected, &results);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_sending_unmasked_frames() {
    agrees_with_reference("unmasked").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_without_utf8_validation() {
    agrees_with_reference("no-utf8-check").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_never_answering_close() {
    agrees_with_reference("never-answers-close").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_dropping_tcp_on_close() {
    agrees_with_reference("drops-on-close").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_echoing_the_close_unchecked() {
    agrees_with_reference("echoes-close").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_sending_unsolicited_pings_and_pongs() {
    agrees_with_reference("unsolicited").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_echoing_uncompressed_after_agreeing_to_deflate() {
    agrees_with_reference("deflate-uncompressed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_keeping_its_context_against_client_no_context_takeover() {
    agrees_with_reference("deflate-keeps-context").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_compressing_beyond_the_agreed_window() {
    agrees_with_reference("deflate-ignores-window-bits").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_setting_rsv1_on_continuations() {
    agrees_with_reference("deflate-rsv1-on-continuation").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_flipping_text_and_binary() {
    agrees_with_reference("flips-type").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_echoing_in_fragments_of_its_own() {
    agrees_with_reference("refragments").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_closing_with_1000_whatever_is_due() {
    agrees_with_reference("sloppy-close-codes").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_writing_non_minimal_lengths() {
    agrees_with_reference("non-minimal-lengths").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_writing_one_octet_at_a_time() {
    agrees_with_reference("trickles").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_with_a_small_message_limit() {
    agrees_with_reference("limits-size").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_asking_for_protocol_version_8() {
    agrees_with_reference("old-version").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_making_its_key_of_random_characters() {
    agrees_with_reference("random-key-chars").await;
}

/// A client whose upgrade request the reference's server refuses before
/// the case exists leaves no row for its agent in the reference's reports
/// (its `index.json` is `{}`, so the fixture, recorded on 1.1.1, 1.1.2 and
/// 2.1, is empty): wstest's must have none either.
async fn leaves_no_result(name: &str) {
    assert!(agreement::expected("expected-client", name).is_empty());
    let (results, reports) = run(name, &["1.1.1", "1.1.2", "2.1"]).await;
    assert!(results.is_empty(), "{name}: {:?}", results.iter().map(|r| &r.id).collect::<Vec<_>>());
    assert!(reports.is_empty(), "{name}: {reports:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_sending_a_key_of_20_octets() {
    leaves_no_result("long-key").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_offering_a_subprotocol_twice() {
    leaves_no_result("duplicate-protocols").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_keeping_a_fragment_on_its_target() {
    leaves_no_result("fragment-in-target").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_sending_host_twice() {
    leaves_no_result("host-twice").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_sending_origin_twice() {
    leaves_no_result("origin-twice").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_pinging_amid_its_fragments() {
    agrees_with_reference("pings-amid-fragments").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_closing_after_its_first_echo() {
    agrees_with_reference("closes-after-echo").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_answering_pings_with_empty_pongs() {
    agrees_with_reference("empty-pongs").await;
}

/// Invalid UTF-8 from a client, past the verdicts: as the reference, wstest
/// fails the connection with 1007 and goes on decoding. A text that ends
/// inside a code point (6.6.1) is caught at its end: the client's close then
/// answers ours (clean, its code recorded). An invalid octet inside the
/// frame (6.3.1) is caught again at the frame's end, which drops TCP at
/// once (the reference's wire log: no wait for a timer).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_utf8_from_a_client_closes_as_in_the_reference() {
    let (_, reports) = run("no-utf8-check", &["6.3.1", "6.6.1"]).await;
    let (mid, end) = (&reports["6.3.1"], &reports["6.6.1"]);
    assert_eq!((end["wasClean"].as_bool(), end["remoteCloseCode"].as_u64()), (Some(true), Some(1007)), "{end:#}");
    assert_eq!((end["localCloseCode"].as_u64(), end["droppedByMe"].as_bool()), (Some(1007), Some(true)));
    assert_eq!((mid["wasClean"].as_bool(), mid["remoteCloseCode"].as_u64()), (Some(false), None), "{mid:#}");
    assert_eq!((mid["localCloseCode"].as_u64(), mid["droppedByMe"].as_bool()), (Some(1007), Some(true)));
    // Dropped at once, not at the kill timer (1 s) nor the close handshake's.
    assert!(mid["duration"].as_u64().unwrap() < 500, "{mid:#}");
    assert!(mid["wasNotCleanReason"].is_null(), "{mid:#}");
}

/// A compressed message the reference cannot inflate (a reference back
/// into an earlier message, although the client agreed to reset its
/// context): the reference's zlib raises and the connection is torn down
/// under autobahn, so its report has neither failed nor dropped by the
/// fuzzer, no close frame either way, and the reason of a peer's drop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inflate_failure_closes_as_in_the_reference() {
    let (_, reports) = run("deflate-keeps-context", &["13.2.1"]).await;
    let r = &reports["13.2.1"];
    assert_eq!((r["droppedByMe"].as_bool(), r["failedByMe"].as_bool()), (Some(false), Some(false)), "{r:#}");
    assert_eq!((r["closedByMe"].as_bool(), r["wasClean"].as_bool()), (Some(false), Some(false)), "{r:#}");
    assert_eq!((r["localCloseCode"].as_u64(), r["remoteCloseCode"].as_u64()), (None, None), "{r:#}");
    let reason = "peer dropped the TCP connection without previous WebSocket closing handshake";
    assert_eq!(r["wasNotCleanReason"].as_str(), Some(reason), "{r:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_offering_server_max_window_bits_without_a_value() {
    agrees_with_reference("deflate-bare-server-bits").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_with_a_space_before_its_header_colons() {
    agrees_with_reference("space-before-colon").await;
}

/// The reference's server waits for a head that ends in CRLF CRLF until its
/// opening handshake times out (5 s): it leaves no result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_ending_its_request_lines_in_bare_newlines() {
    leaves_no_result("bare-newlines").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_asking_in_http_1_0() {
    leaves_no_result("http-1.0").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_offering_x_webkit_deflate_frame_first() {
    agrees_with_reference("x-webkit-deflate").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_setting_rsv1_on_its_control_frames() {
    agrees_with_reference("compressed-control").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_putting_the_whole_uri_on_its_request_line() {
    agrees_with_reference("absolute-target").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_putting_reserved_close_codes_on_the_wire() {
    agrees_with_reference("reserved-close-codes").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_sending_a_ping_of_126_octets() {
    agrees_with_reference("oversized-ping").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_writing_header_names_and_tokens_in_odd_case() {
    agrees_with_reference("odd-case-headers").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_fragmenting_its_pongs() {
    agrees_with_reference("fragmented-pongs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_cutting_its_close_reason_inside_a_character() {
    agrees_with_reference("cut-close-reason").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_giving_its_close_reason_in_latin_1() {
    agrees_with_reference("latin1-close-reason").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_writing_a_pong_with_its_request() {
    agrees_with_reference("pipelined-pong").await;
}

/// A client's own close whose reason is not UTF-8, past the verdicts. The
/// reference decodes the reason with Python 2's codec, which raises, and
/// the connection is torn down under autobahn (as after an inflate
/// failure): no reply, not dropped by the fuzzer, not clean. Whether it
/// failed the connection first depends on its validator: it does on an
/// octet that cannot be UTF-8 (a Latin-1 `é`), not on a reason that merely
/// ends inside a character.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_reason_python_cannot_decode_tears_down_as_in_the_reference() {
    let (_, latin1) = run("latin1-close-reason", &["2.5"]).await;
    let (_, cut) = run("cut-close-reason", &["3.1"]).await;
    let fields = |r: &serde_json::Value| {
        let flag = |name: &str| r[name].as_bool().unwrap();
        (flag("failedByMe"), flag("closedByMe"), flag("droppedByMe"), flag("wasClean"))
    };
    let codes = |r: &serde_json::Value| (r["localCloseCode"].as_u64(), r["remoteCloseCode"].as_u64());
    let (latin1, cut) = (&latin1["2.5"], &cut["3.1"]);
    assert_eq!(fields(latin1), (true, true, false, false), "{latin1:#}");
    assert_eq!(codes(latin1), (Some(1007), Some(1002)), "{latin1:#}");
    assert_eq!(fields(cut), (false, false, false, false), "{cut:#}");
    assert_eq!(codes(cut), (None, Some(1002)), "{cut:#}");
    let reason = "peer dropped the TCP connection without previous WebSocket closing handshake";
    assert_eq!(cut["wasNotCleanReason"].as_str(), Some(reason), "{cut:#}");
    assert_eq!(latin1["wasNotCleanReason"].as_str(), Some(reason), "{latin1:#}");
}

/// The reference's zlib cannot deflate with a window of 8 bits: its first
/// compressed message raises, and the fuzzer answers with an HTTP 500
/// after its 101 and drops TCP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_asking_for_a_server_window_of_8_bits() {
    agrees_with_reference("deflate-server-bits-8").await;
    let (_, reports) = run("deflate-server-bits-8", &["13.1.1"]).await;
    let r = &reports["13.1.1"];
    assert_eq!((r["droppedByMe"].as_bool(), r["failedByMe"].as_bool()), (Some(true), Some(false)), "{r:#}");
    assert_eq!((r["closedByMe"].as_bool(), r["wasClean"].as_bool()), (Some(false), Some(false)), "{r:#}");
    assert_eq!(r["wasNotCleanReason"].as_str(), Some("Internal Server Error"), "{r:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_pinging_before_its_close_reply() {
    agrees_with_reference("pings-while-closing").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_ending_a_deflate_stream_with_every_message() {
    agrees_with_reference("deflate-finishes-messages").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_compressing_though_the_server_declined() {
    agrees_with_reference("compresses-when-declined").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_setting_rsv2_on_its_compressed_echoes() {
    agrees_with_reference("deflate-sets-rsv2").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_fragmenting_its_compressed_echoes() {
    agrees_with_reference("deflate-fragments").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_splitting_upgrade_and_connection_over_two_fields() {
    agrees_with_reference("split-upgrade-headers").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_sending_a_body_with_its_get() {
    agrees_with_reference("body-with-get").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_offering_subprotocols() {
    agrees_with_reference("offers-protocol").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_listing_two_versions() {
    leaves_no_result("version-list").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_without_a_host_header() {
    leaves_no_result("missing-host").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_writing_a_close_with_its_request() {
    agrees_with_reference("pipelined-close").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_shutting_tcp_down_after_its_first_echo() {
    agrees_with_reference("echo-then-eof").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_closing_with_a_reason_of_124_octets() {
    agrees_with_reference("long-close-reason").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_closing_with_a_reason_of_123_octets() {
    agrees_with_reference("full-close-reason").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_closing_with_one_octet() {
    agrees_with_reference("one-octet-close").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_answering_a_close_twice() {
    agrees_with_reference("two-closes").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_sending_data_after_its_close_reply() {
    agrees_with_reference("data-after-close").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_fragmenting_its_closes() {
    agrees_with_reference("fragmented-close").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_closing_with_3000_whatever_is_due() {
    agrees_with_reference("closes-3000").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_holding_its_pongs_until_it_writes_again() {
    agrees_with_reference("late-pongs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_masking_with_a_zero_key() {
    agrees_with_reference("zero-mask-key").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_compressing_in_stored_blocks() {
    agrees_with_reference("deflate-stored-blocks").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_offering_every_deflate_parameter() {
    agrees_with_reference("deflate-full-offer").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_keeping_the_sync_flush_tail() {
    agrees_with_reference("deflate-keeps-tail").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_giving_its_target_a_path_parameter() {
    agrees_with_reference("path-parameters").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_separating_its_query_with_semicolons() {
    agrees_with_reference("semicolon-query").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_writing_a_plus_before_its_case_number() {
    agrees_with_reference("spaced-case-number").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_writing_its_version_with_a_leading_zero() {
    agrees_with_reference("version-leading-zero").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_giving_a_host_port_that_is_no_number() {
    leaves_no_result("host-bad-port").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_with_a_non_ascii_token_in_connection() {
    agrees_with_reference("non-ascii-connection").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_repeating_query_parameters() {
    agrees_with_reference("repeated-parameters").await;
}

/// The frames a case sends right after the 101 reach the client in the
/// same segment as the 101 (the reference's server writes them in one
/// turn): a client that throws away what came with the head loses them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_losing_what_follows_the_101() {
    agrees_with_reference("drops-after-head").await;
}
