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
    run_with(url, agent, cases, &serde_json::json!({}), None).await
}

/// [`run`] with the spec's protocol `options` and a `--case-timeout`.
async fn run_with(
    url: &str,
    agent: &str,
    cases: &[&str],
    options: &serde_json::Value,
    case_timeout: Option<std::time::Duration>,
) -> Vec<CaseResult> {
    let text = serde_json::json!({"servers": [{"agent": agent, "url": url}], "cases": cases, "options": options});
    let spec = spec::parse_client(&text.to_string(), None).unwrap();
    let options =
        RunOptions { jobs: 32, quiet: true, debug: false, busy_poll: Some(RunOptions::BUSY_POLL), case_timeout };
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

/// One agreement test per recording with options: `test_name: "fixture-name"`.
macro_rules! agreement_tests_given_options {
    ($($(#[$doc:meta])* $test:ident: $fixture:literal),* $(,)?) => {$(
        $(#[$doc])*
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $test() {
            agrees_with_reference_given_options($fixture).await;
        }
    )*};
}

/// One agreement test per flaw: `test_name: "flaw-name"`, doc comments allowed.
macro_rules! agreement_tests {
    ($($(#[$doc:meta])* $test:ident: $flaw:literal),* $(,)?) => {$(
        $(#[$doc])*
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $test() {
            agrees_with_reference($flaw).await;
        }
    )*};
}

agreement_tests! {
    server_without_utf8_validation: "no-utf8-check",
    server_ignoring_reserved_bits: "ignores-rsv",
    server_never_answering_close: "never-answers-close",
    server_with_sloppy_close_codes: "sloppy-close-codes",
    server_lingering_after_the_closing_handshake: "lingers-after-close",
    server_waiting_a_second_for_our_close: "waits-for-close",
    server_closing_first_and_lingering: "refuses-fragments",
    deflate_agreed_but_echoes_uncompressed: "echoes-uncompressed",
    deflate_context_kept_against_the_agreement: "keeps-context",
    deflate_window_larger_than_agreed: "ignores-window-bits",
    deflate_echo_of_the_other_type: "flips-type",
    deflate_offers_with_window_bits_declined: "declines-window-bits",
    server_refragmenting_its_echoes: "refragments",
    server_writing_one_octet_at_a_time: "trickles",
    server_slow_to_echo_and_to_answer_close: "slow-echo",
    server_sending_unsolicited_pings_and_pongs: "unsolicited",
    server_answering_every_close_with_going_away: "closes-going-away",
    handshake_with_a_wrong_accept_key: "bad-accept",
    handshake_answered_404: "refuses-upgrade",
    handshake_agreeing_to_deflate_never_offered: "forces-deflate",
    handshake_with_loose_but_legal_upgrade_headers: "loose-upgrade-headers",
    handshake_without_upgrade_in_connection: "keep-alive-only",
    handshake_never_answered: "hangs-up",
    server_masking_its_frames: "masks-frames",
    server_with_non_minimal_lengths: "non-minimal-lengths",
    server_answering_pings_with_empty_pongs: "pongs-empty",
    server_sending_data_after_its_close: "close-then-data",
    server_closing_with_a_reason_that_is_not_utf8: "bad-close-reason",
    server_closing_with_one_octet: "short-close-reply",
    server_refusing_messages_of_64_kib: "limits-size",
    server_closing_after_its_first_echo: "closes-after-echo",
    deflate_rsv1_on_every_frame_of_an_echo: "rsv1-on-continuations",
    server_never_answering_pings: "ignores-pings",
    server_answering_pings_with_the_previous_payload: "stale-pongs",
    server_setting_rsv2_on_its_echoes: "rsv2-on-echoes",
    server_sending_pings_over_125_octets: "long-pings",
    deflate_rsv1_on_control_frames: "compressed-control",
    deflate_window_smaller_than_used: "claims-small-window",
    server_greeting_in_the_write_of_its_101: "greets-with-101",
    server_greeting_in_binary_that_is_not_utf8: "greets-in-binary",
    server_greeting_in_binary_that_is_not_utf8_with_deflate: "greets-in-binary-compressed",
    server_cutting_a_bad_text_frame_short_and_dropping: "cuts-bad-text",
    server_stalling_inside_a_bad_text_frame: "stalls-bad-text",
    server_cutting_a_bad_compressed_text_frame_short_and_dropping: "cuts-bad-compressed-text",
    server_stalling_inside_a_bad_compressed_text_frame: "stalls-bad-compressed-text",
    server_stalling_inside_a_corrupt_compressed_frame: "stalls-corrupt-deflate",
    server_trickling_frames_compressed_past_its_window: "trickles-wide-window",
    server_sending_a_short_close_header_before_its_body: "splits-short-close",
    server_fragmenting_with_no_message_begun: "orphan-fragments",
    server_restarting_a_message_midway: "restarts-mid-message",
    server_echoing_with_a_reserved_opcode: "echoes-reserved-opcode",
    server_fragmenting_under_a_reserved_opcode: "fragments-reserved-opcode",
    server_validating_utf8_per_fragment: "utf8-per-fragment",
    server_putting_1005_and_1006_on_the_wire: "leaks-pseudo-codes",
    server_echoing_close_payloads_unchecked: "echoes-close-payload",
    deflate_echoes_as_finished_streams: "ends-deflate-streams",
    server_repeating_the_opcode_on_every_fragment: "opcode-on-continuations",
    handshake_with_spaces_before_header_colons: "spaces-before-colons",
    handshake_with_a_folded_header: "folded-header",
    handshake_with_a_hundred_extra_headers: "many-headers",
    deflate_echoes_cut_short_of_their_last_four_octets: "cuts-finished-streams",
    handshake_written_one_octet_at_a_time: "trickles-handshake",
    handshake_with_an_empty_extensions_header: "empty-extensions",
    handshake_ending_in_one_crlf_too_many: "extra-crlf",
    handshake_with_an_empty_deflate_parameter: "trailing-semicolon",
    server_never_ending_its_echoes: "forgets-fin",
    server_echoing_nothing_for_empty_messages: "skips-empty",
    server_holding_pongs_until_the_echo: "delays-pongs",
    server_answering_a_close_twice: "double-close-reply",
    server_pinging_ahead_of_its_close_reply: "pings-before-close-reply",
    deflate_echoes_ending_in_a_partial_flush: "partial-flush",
    handshake_answered_as_http_1_0: "http10-upgrade",
    handshake_status_line_without_reason: "bare-status-line",
    handshake_with_an_old_drafts_reason_phrase: "odd-reason",
    handshake_with_two_accept_headers: "two-accepts",
    handshake_naming_a_subprotocol_never_offered: "unoffered-protocol",
    handshake_agreeing_to_an_unknown_extension: "unknown-extension",
    deflate_agreed_with_an_unknown_parameter: "deflate-unknown-param",
    deflate_agreed_with_a_parameter_twice: "deflate-duplicate-param",
    deflate_agreed_with_client_window_bits_without_value: "deflate-bare-client-bits",
    deflate_agreed_with_a_flag_given_a_value: "deflate-valued-flag",
    deflate_agreed_with_a_client_window_of_8_bits: "deflate-client-bits-8",
    server_pinging_in_the_write_of_its_101: "pings-with-101",
    server_changing_one_octet_of_each_echo: "corrupts-echo",
    server_sending_an_empty_text_after_each_echo: "extra-empty-text",
    server_closing_with_1015: "closes-1015",
    server_with_64_bit_lengths_over_2_63: "huge-lengths",
    deflate_echoes_in_stored_blocks: "stored-blocks",
    deflate_echoes_keeping_the_flush_tail: "keeps-deflate-tail",
    deflate_echoes_cut_after_one_octet: "splits-compressed",
    server_pinging_between_the_fragments_of_an_echo: "pings-between-fragments",
    server_sending_continuations_without_a_start: "orphan-continuation",
    server_cutting_text_inside_a_utf8_sequence: "splits-utf8",
    server_answering_close_before_pending_echoes: "closes-before-echo",
    server_half_closing_instead_of_a_close_frame: "half-closes",
    server_closing_with_a_reason_of_123_octets: "longest-close-reason",
    server_closing_with_a_reason_of_124_octets: "overlong-close-reason",
    server_answering_each_ping_twice: "double-pongs",
    server_resetting_tcp_after_its_close: "resets-after-close",
    server_checking_utf8_only_at_message_end: "utf8-at-end",
    deflate_text_echoes_with_invalid_utf8: "poisons-compressed-text",
    deflate_echoes_as_zlib_streams: "zlib-wrapped",
    server_answering_close_after_two_seconds: "late-close-reply",
    server_dropping_tcp_after_its_first_echo: "drops-after-echo",
    /// A server that loses whatever follows the first frame of each read sees
    /// exactly how the fuzzer's writes were cut into segments: which frames
    /// the reference's transport sends together (the start of a run of queued
    /// writes begun in a callback), and which alone (later queued writes, runs
    /// begun in a timer such as 5.20's second part).
    server_handling_one_frame_per_read: "first-frame-of-read",
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
    deflate_octets_past_a_finished_stream: "finished-stream-tail",
    server_closing_with_its_101: "closes-on-open",
    server_answering_frames_after_its_close_reply: "answers-after-close",
    upgrade_with_bare_lf_line_ends: "lf-line-endings",
    upgrade_with_lf_headers_and_a_crlf_end: "mixed-line-endings",
    upgrade_with_a_body: "body-after-101",
    upgrade_after_100_continue: "continue-before-101",
    upgrade_naming_an_empty_subprotocol: "empty-protocol",
    upgrade_with_a_padded_status_line: "padded-status-line",
    deflate_agreed_in_capitals_with_padded_bits: "shouted-deflate",
    deflate_client_no_context_takeover_imposed: "imposes-client-no-context",
    deflate_server_no_context_takeover_volunteered: "volunteers-no-context",
    server_answering_close_with_an_empty_close: "empty-close-reply",
    server_closing_with_reasons: "closes-with-reasons",
    server_starting_echoes_with_an_empty_frame: "empty-first-fragment",
    deflate_sync_flush_kept_in_a_first_frame: "flushes-per-fragment",
    server_dropping_tcp_700_ms_after_closing: "drops-late",
    server_ponging_after_1300_ms: "pongs-late",
    server_answering_close_after_700_ms: "hesitates-at-close",
    server_resetting_tcp_on_close: "resets-on-close",
    server_failing_on_unsolicited_pongs: "refuses-unsolicited-pongs",
    server_echoing_one_octet_per_frame: "one-octet-fragments",
    server_dropping_tcp_after_its_101: "drops-after-101",
    upgrade_answered_after_six_seconds: "late-101",
    server_going_away_in_the_middle_of_an_echo: "goes-away-mid-echo",
    server_stalling_in_the_middle_of_frames: "stalls-mid-frame",
    upgrade_agreeing_to_bzip2: "answers-bzip2",
    upgrade_spelled_with_a_kelvin_sign: "kelvin-upgrade",
    upgrade_token_after_a_unit_separator: "unit-separator-connection",
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
        // permessage-bzip2 is known to the reference (read, then declined), not foreign.
        ("answers-bzip2", "WebSocket permessage-compress extension response from server denied by client"),
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

/// Runs the recording `fixture` of `expected-options/` (its flaw, with the
/// spec options it was recorded with) and compares every verdict pair with
/// the reference's.
async fn agrees_with_reference_given_options(fixture: &str) {
    let _turn = agreement::AT_ONCE.acquire().await.unwrap();
    let recorded = agreement::expected_with_options(fixture);
    let addr = flawed::start(flawed::Flaw::from_name(&recorded.flaw).unwrap(), "127.0.0.1:0").await.unwrap();
    let ids: Vec<&str> = recorded.verdicts.keys().map(String::as_str).collect();
    let results = run_with(&format!("ws://{addr}"), &recorded.flaw, &ids, &recorded.options, None).await;
    agreement::assert_agrees(fixture, &recorded.verdicts, &results);
}

// Spec timeouts of 0: the reference arms no timer for them, so the wait ends
// by the case's own timers (a kill timer, mostly a second after the start).
agreement_tests_given_options! {
    /// No server-drop timer: a server that keeps TCP open after the closing
    /// handshake is dropped by the case's kill timer (FAILED BY CLIENT), not
    /// by the timer (UNCLEAN).
    server_lingering_with_a_server_drop_timeout_of_0: "lingers-after-close.server-drop-0",
    /// No close-handshake timer: a close reply two seconds late completes a
    /// clean close where no kill timer comes first.
    server_answering_close_late_with_a_close_handshake_timeout_of_0: "late-close-reply.close-handshake-0",
    /// No opening-handshake timer: a 101 six seconds late opens the case.
    upgrade_answered_late_with_an_open_handshake_timeout_of_0: "late-101.open-handshake-0",
}

/// Where the reference, with no timer left, would wait for ever (2.1 only
/// closes after a second, with no kill timer, and this server never drops
/// TCP), wstest still ends the case at its hard deadline (here cut to 2 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_drop_timeout_of_0_still_ends_at_the_hard_deadline() {
    let addr = flawed::start(flawed::Flaw::LingersAfterClose, "127.0.0.1:0").await.unwrap();
    let options = serde_json::json!({"serverConnectionDropTimeout": 0});
    let two = Some(std::time::Duration::from_secs(2));
    let results = run_with(&format!("ws://{addr}"), "lingers", &["2.1"], &options, two).await;
    let json = results[0].to_json();
    assert_eq!(
        (json["wasClean"].as_bool(), json["wasServerConnectionDropTimeout"].as_bool()),
        (Some(true), Some(false))
    );
    assert!(json["wasNotCleanReason"].as_str().unwrap().contains("hard deadline"), "{json:#}");
}

/// A server that takes the connection and never answers the upgrade, with
/// no opening-handshake timer (a timeout of 0, as the reference then waits
/// for ever): the case's hard deadline (here 2 s) covers the handshake too,
/// and the case is reported with what was seen — the request, the wire
/// log, who dropped the connection and why — instead of being cut off
/// whole by the runner's last-resort net half a minute later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_the_upgrade_ends_at_the_hard_deadline_with_its_records() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            held.push(tcp);
        }
    });
    let options = serde_json::json!({"openHandshakeTimeout": 0});
    let two = Some(std::time::Duration::from_secs(2));
    // A hang guard only: the case ends at its 2 s deadline.
    let url = format!("ws://{addr}");
    let run = run_with(&url, "silent", &["1.1.1"], &options, two);
    let results = tokio::time::timeout(std::time::Duration::from_secs(25), run).await.expect("the case ends");
    let json = results[0].to_json();
    assert_eq!(json["droppedByMe"], true, "{json:#}");
    assert_eq!(json["wasOpenHandshakeTimeout"], false, "{json:#}");
    let reason = json["wasNotCleanReason"].as_str().unwrap();
    assert!(reason.contains("opening handshake was still unfinished at the case's hard deadline (2 s)"), "{reason}");
    assert!(json["httpRequest"].as_str().unwrap().starts_with("GET / HTTP/1.1"), "{json:#}");
    assert!(!json["wirelog"].as_array().unwrap().is_empty(), "{json:#}");
}
