//! wstest against real servers: autostrada must pass every case, and on
//! deliberately flawed servers wstest must reach the verdicts the reference
//! suite reached on the same servers (recorded in `fixtures/expected/`).

#[path = "fixtures/agreement.rs"]
mod agreement;
#[path = "fixtures/flawed.rs"]
mod flawed;

use wstest::report::CaseResult;
use wstest::runner::{self, RunOptions};
use wstest::spec;

/// Cases 1–10 and the small size rows of every compression subgroup
/// (16 and 64 octets, and 8 KiB cut into 256-octet frames): every code path
/// of the suite, without the gigabytes of the larger rows.
fn suite_sample() -> Vec<String> {
    wstest::cases::all()
        .into_iter()
        .map(|c| c.id)
        .filter(|id| {
            let key = wstest::cases::id_key(id);
            key[0] < 12 || [1, 2, 11].contains(&key[2])
        })
        .collect()
}

async fn run(url: &str, agent: &str, cases: &[&str]) -> Vec<CaseResult> {
    let cases = serde_json::to_string(cases).unwrap();
    let text = format!(r#"{{"servers": [{{"agent": "{agent}", "url": "{url}"}}], "cases": {cases}}}"#);
    let spec = spec::parse_client(&text, None).unwrap();
    let options =
        RunOptions { jobs: 32, quiet: true, debug: false, busy_poll: Some(RunOptions::BUSY_POLL), case_timeout: None };
    runner::run(spec, &options, std::future::pending()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autostrada_passes_every_case() {
    let server = wstest::echo::Background::start("127.0.0.1:0").unwrap();
    let addr = server.addr();
    let sample = suite_sample();
    let ids: Vec<&str> = sample.iter().map(String::as_str).collect();
    let results = run(&format!("ws://{addr}"), "autostrada", &ids).await;
    drop(server);
    assert_eq!(results.len(), 301 + 36);
    let failing: Vec<String> = results
        .iter()
        .filter(|r| {
            !matches!(
                (r.verdict.behavior.as_str(), r.verdict.behavior_close.as_str()),
                ("OK", "OK") | ("INFORMATIONAL", "INFORMATIONAL")
            )
        })
        .map(|r| format!("{} {}/{}: {}", r.id, r.verdict.behavior, r.verdict.behavior_close, r.verdict.result))
        .collect();
    assert!(failing.is_empty(), "not OK: {failing:#?}");
}

/// Runs the cases recorded for `flaw` and compares every verdict pair with
/// the reference's.
async fn agrees_with_reference(name: &str) {
    let _turn = agreement::AT_ONCE.acquire().await.unwrap();
    let flaw = flawed::Flaw::from_name(name).unwrap();
    let expected = agreement::expected("expected", name);
    let addr = flawed::start(flaw, "127.0.0.1:0").await.unwrap();
    let ids: Vec<&str> = expected.keys().map(String::as_str).collect();
    let results = run(&format!("ws://{addr}"), name, &ids).await;
    agreement::assert_agrees(name, &expected, &results);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_without_utf8_validation() {
    agrees_with_reference("no-utf8-check").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_ignoring_reserved_bits() {
    agrees_with_reference("ignores-rsv").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_never_answering_close() {
    agrees_with_reference("never-answers-close").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_with_sloppy_close_codes() {
    agrees_with_reference("sloppy-close-codes").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_lingering_after_the_closing_handshake() {
    agrees_with_reference("lingers-after-close").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_waiting_a_second_for_our_close() {
    agrees_with_reference("waits-for-close").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_closing_first_and_lingering() {
    agrees_with_reference("refuses-fragments").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deflate_agreed_but_echoes_uncompressed() {
    agrees_with_reference("echoes-uncompressed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deflate_context_kept_against_the_agreement() {
    agrees_with_reference("keeps-context").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deflate_window_larger_than_agreed() {
    agrees_with_reference("ignores-window-bits").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deflate_echo_of_the_other_type() {
    agrees_with_reference("flips-type").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deflate_offers_with_window_bits_declined() {
    agrees_with_reference("declines-window-bits").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_refragmenting_its_echoes() {
    agrees_with_reference("refragments").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_writing_one_octet_at_a_time() {
    agrees_with_reference("trickles").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_slow_to_echo_and_to_answer_close() {
    agrees_with_reference("slow-echo").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_sending_unsolicited_pings_and_pongs() {
    agrees_with_reference("unsolicited").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_answering_every_close_with_going_away() {
    agrees_with_reference("closes-going-away").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_with_a_wrong_accept_key() {
    agrees_with_reference("bad-accept").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_answered_404() {
    agrees_with_reference("refuses-upgrade").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_agreeing_to_deflate_never_offered() {
    agrees_with_reference("forces-deflate").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_with_loose_but_legal_upgrade_headers() {
    agrees_with_reference("loose-upgrade-headers").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_without_upgrade_in_connection() {
    agrees_with_reference("keep-alive-only").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_never_answered() {
    agrees_with_reference("hangs-up").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_masking_its_frames() {
    agrees_with_reference("masks-frames").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_with_non_minimal_lengths() {
    agrees_with_reference("non-minimal-lengths").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_answering_pings_with_empty_pongs() {
    agrees_with_reference("pongs-empty").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_sending_data_after_its_close() {
    agrees_with_reference("close-then-data").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_closing_with_a_reason_that_is_not_utf8() {
    agrees_with_reference("bad-close-reason").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_closing_with_one_octet() {
    agrees_with_reference("short-close-reply").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_refusing_messages_of_64_kib() {
    agrees_with_reference("limits-size").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_closing_after_its_first_echo() {
    agrees_with_reference("closes-after-echo").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deflate_rsv1_on_every_frame_of_an_echo() {
    agrees_with_reference("rsv1-on-continuations").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_never_answering_pings() {
    agrees_with_reference("ignores-pings").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_answering_pings_with_the_previous_payload() {
    agrees_with_reference("stale-pongs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_setting_rsv2_on_its_echoes() {
    agrees_with_reference("rsv2-on-echoes").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_sending_pings_over_125_octets() {
    agrees_with_reference("long-pings").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deflate_rsv1_on_control_frames() {
    agrees_with_reference("compressed-control").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deflate_window_smaller_than_used() {
    agrees_with_reference("claims-small-window").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_greeting_in_the_write_of_its_101() {
    agrees_with_reference("greets-with-101").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_validating_utf8_per_fragment() {
    agrees_with_reference("utf8-per-fragment").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_putting_1005_and_1006_on_the_wire() {
    agrees_with_reference("leaks-pseudo-codes").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_echoing_close_payloads_unchecked() {
    agrees_with_reference("echoes-close-payload").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deflate_echoes_as_finished_streams() {
    agrees_with_reference("ends-deflate-streams").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_repeating_the_opcode_on_every_fragment() {
    agrees_with_reference("opcode-on-continuations").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_with_spaces_before_header_colons() {
    agrees_with_reference("spaces-before-colons").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_with_a_folded_header() {
    agrees_with_reference("folded-header").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_with_a_hundred_extra_headers() {
    agrees_with_reference("many-headers").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deflate_echoes_cut_short_of_their_last_four_octets() {
    agrees_with_reference("cuts-finished-streams").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_written_one_octet_at_a_time() {
    agrees_with_reference("trickles-handshake").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_with_an_empty_extensions_header() {
    agrees_with_reference("empty-extensions").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_ending_in_one_crlf_too_many() {
    agrees_with_reference("extra-crlf").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_with_an_empty_deflate_parameter() {
    agrees_with_reference("trailing-semicolon").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_never_ending_its_echoes() {
    agrees_with_reference("forgets-fin").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_echoing_nothing_for_empty_messages() {
    agrees_with_reference("skips-empty").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_holding_pongs_until_the_echo() {
    agrees_with_reference("delays-pongs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_answering_a_close_twice() {
    agrees_with_reference("double-close-reply").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_pinging_ahead_of_its_close_reply() {
    agrees_with_reference("pings-before-close-reply").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deflate_echoes_ending_in_a_partial_flush() {
    agrees_with_reference("partial-flush").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_answered_as_http_1_0() {
    agrees_with_reference("http10-upgrade").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_status_line_without_reason() {
    agrees_with_reference("bare-status-line").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_with_an_old_drafts_reason_phrase() {
    agrees_with_reference("odd-reason").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_with_two_accept_headers() {
    agrees_with_reference("two-accepts").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_naming_a_subprotocol_never_offered() {
    agrees_with_reference("unoffered-protocol").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_agreeing_to_an_unknown_extension() {
    agrees_with_reference("unknown-extension").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deflate_agreed_with_an_unknown_parameter() {
    agrees_with_reference("deflate-unknown-param").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deflate_agreed_with_a_parameter_twice() {
    agrees_with_reference("deflate-duplicate-param").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deflate_agreed_with_client_window_bits_without_value() {
    agrees_with_reference("deflate-bare-client-bits").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deflate_agreed_with_a_flag_given_a_value() {
    agrees_with_reference("deflate-valued-flag").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deflate_agreed_with_a_client_window_of_8_bits() {
    agrees_with_reference("deflate-client-bits-8").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_pinging_in_the_write_of_its_101() {
    agrees_with_reference("pings-with-101").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_changing_one_octet_of_each_echo() {
    agrees_with_reference("corrupts-echo").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_sending_an_empty_text_after_each_echo() {
    agrees_with_reference("extra-empty-text").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_closing_with_1015() {
    agrees_with_reference("closes-1015").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_with_64_bit_lengths_over_2_63() {
    agrees_with_reference("huge-lengths").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deflate_echoes_in_stored_blocks() {
    agrees_with_reference("stored-blocks").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deflate_echoes_keeping_the_flush_tail() {
    agrees_with_reference("keeps-deflate-tail").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deflate_echoes_cut_after_one_octet() {
    agrees_with_reference("splits-compressed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_pinging_between_the_fragments_of_an_echo() {
    agrees_with_reference("pings-between-fragments").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_sending_continuations_without_a_start() {
    agrees_with_reference("orphan-continuation").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_cutting_text_inside_a_utf8_sequence() {
    agrees_with_reference("splits-utf8").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_answering_close_before_pending_echoes() {
    agrees_with_reference("closes-before-echo").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_half_closing_instead_of_a_close_frame() {
    agrees_with_reference("half-closes").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_closing_with_a_reason_of_123_octets() {
    agrees_with_reference("longest-close-reason").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_closing_with_a_reason_of_124_octets() {
    agrees_with_reference("overlong-close-reason").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_answering_each_ping_twice() {
    agrees_with_reference("double-pongs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_resetting_tcp_after_its_close() {
    agrees_with_reference("resets-after-close").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_checking_utf8_only_at_message_end() {
    agrees_with_reference("utf8-at-end").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deflate_text_echoes_with_invalid_utf8() {
    agrees_with_reference("poisons-compressed-text").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deflate_echoes_as_zlib_streams() {
    agrees_with_reference("zlib-wrapped").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_answering_close_after_two_seconds() {
    agrees_with_reference("late-close-reply").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_dropping_tcp_after_its_first_echo() {
    agrees_with_reference("drops-after-echo").await;
}

/// A failed opening handshake is reported as the reference reports it: the
/// failure text of autobahn's processHandshake as wasNotCleanReason, the
/// response head kept, and expectedClose filled in only for 12.x/13.x (whose
/// reference cases set it before the handshake).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_handshakes_report_the_reference_reasons() {
    let reasons = [
        ("bad-accept", "HTTP Sec-WebSocket-Accept bogus value : expected "),
        ("refuses-upgrade", "WebSocket connection upgrade failed (404 - NotFound)"),
        ("forces-deflate", "WebSocket permessage-compress extension response from server denied by client"),
        ("hangs-up", "peer dropped the TCP connection without previous WebSocket closing handshake"),
        ("keep-alive-only", "HTTP Connection header does not include 'upgrade' value (case-insensitive) : keep-alive"),
    ];
    for (name, reason) in reasons {
        let addr = flawed::start(flawed::Flaw::from_name(name).unwrap(), "127.0.0.1:0").await.unwrap();
        for r in run(&format!("ws://{addr}"), name, &["1.1.1", "12.1.1"]).await {
            let json = r.to_json();
            if name == "forces-deflate" && r.id == "12.1.1" {
                continue;
            }
            assert_eq!(json["resultClose"], "The WebSocket opening handshake was never completed!", "{name} {}", r.id);
            let got = json["wasNotCleanReason"].as_str().unwrap_or_default();
            assert!(got.starts_with(reason), "{name} {}: {got:?}", r.id);
            assert_eq!(json["droppedByMe"], name != "hangs-up", "{name} {}", r.id);
            let close = if r.id == "12.1.1" {
                serde_json::json!({"closeCode": [1000], "closedByMe": true, "requireClean": true})
            } else {
                serde_json::json!({})
            };
            assert_eq!(json["expectedClose"], close, "{name} {}", r.id);
            assert_eq!(json["httpResponse"].as_str() == Some("?"), name == "hangs-up", "{name} {}: {json:#}", r.id);
        }
    }
}

/// A server that closes first and then never drops TCP leaves the reference
/// waiting forever; wstest gives up at the case's hard deadline (here cut to
/// 2 s) and still reports the case in full: verdicts, closing fields, wire log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_drops_is_cut_off_with_its_records() {
    let addr = flawed::start(flawed::Flaw::RefusesFragmentsForever, "127.0.0.1:0").await.unwrap();
    let text = format!(r#"{{"servers": [{{"agent": "forever", "url": "ws://{addr}"}}], "cases": ["5.3", "5.4"]}}"#);
    let spec = spec::parse_client(&text, None).unwrap();
    let case_timeout = Some(std::time::Duration::from_secs(2));
    let options = RunOptions { jobs: 2, quiet: true, debug: false, busy_poll: None, case_timeout };
    let results = runner::run(spec, &options, std::future::pending()).await;
    assert_eq!(results.len(), 2);
    for r in &results {
        // The server closed first (1003) where we were to close: the wrong endpoint.
        assert_eq!((r.verdict.behavior.as_str(), r.verdict.behavior_close.as_str()), ("FAILED", "FAILED"), "{}", r.id);
        let json = r.to_json();
        assert_eq!(json["remoteCloseCode"], 1003);
        assert_eq!(json["droppedByMe"], true);
        assert!(json["wasNotCleanReason"].as_str().unwrap().contains("hard deadline"), "{json:#}");
        let rows = json["wirelog"].as_array().unwrap();
        assert!(rows.iter().any(|row| row[0] == "RF"), "the wire log keeps the frames: {rows:?}");
    }
}

/// A server that loses whatever follows the first frame of each read sees
/// exactly how the fuzzer's writes were cut into segments: which frames
/// the reference's transport sends together (the start of a run of queued
/// writes begun in a callback), and which alone (later queued writes, runs
/// begun in a timer such as 5.20's second part).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_handling_one_frame_per_read() {
    agrees_with_reference("first-frame-of-read").await;
}

/// One agreement test per flaw: `test_name: "flaw-name"`.
macro_rules! agreement_tests {
    ($($test:ident: $flaw:literal),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $test() {
            agrees_with_reference($flaw).await;
        }
    )*};
}

agreement_tests! {
    server_with_long_form_control_lengths: "long-form-control",
    server_closing_with_a_reason_but_no_code: "reason-without-code",
    server_closing_with_a_surrogate_in_its_reason: "surrogate-close-reason",
    server_holding_pongs_until_its_next_echo: "pongs-after-next-echo",
    deflate_rsv1_on_first_and_last_frames: "rsv1-first-and-last",
    deflate_server_window_bits_not_asked_for: "unasked-window-bits",
    server_cutting_echoes_into_control_sized_frames: "fragments-125",
    server_echoing_utf8_binary_as_text: "texts-valid-binary",
    deflate_compressing_large_messages_only: "compresses-large-only",
    server_answering_close_after_our_fin: "replies-after-fin",
    server_closing_with_try_again_later: "closes-1013",
    server_talking_before_its_close_reply: "talks-before-close-reply",
    server_with_fragmented_pongs: "fragmented-pongs",
    server_dropping_tcp_on_errors: "drops-on-error",
    server_resetting_tcp_on_errors: "resets-on-error",
    server_flushing_everything_with_its_close_reply: "flushes-at-close",
    upgrade_with_a_latin1_header: "latin1-header",
    upgrade_with_a_surrogate_in_a_header: "surrogate-header",
    upgrade_naming_upgrade_twice: "two-upgrades",
    upgrade_with_two_extension_headers: "two-extension-headers",
    server_answering_pings_with_pings: "pings-back",
    deflate_rsv1_on_uncompressed_echoes: "claims-compression",
    deflate_reserved_block_type: "reserved-block-type",
    server_echoing_after_a_second_and_a_half: "echoes-late",
}
