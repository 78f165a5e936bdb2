//! The second list of flawed clients (fixtures/flawed_client_more.rs):
//! request heads some client stacks write, delays between the reference's
//! timers, odd close and echo encodings, loosely written deflate offers and
//! the case flows of real drivers.

use super::{agrees_with_reference, leaves_no_result};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_announcing_a_chunked_body_it_never_sends() {
    agrees_with_reference("chunked-get").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_sending_its_key_without_padding() {
    leaves_no_result("unpadded-key").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_encoding_its_key_url_safe() {
    leaves_no_result("urlsafe-key").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_sending_its_key_twice() {
    leaves_no_result("key-twice").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_sending_its_version_twice() {
    leaves_no_result("version-twice").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_splitting_its_extension_offers_over_two_fields() {
    leaves_no_result("split-extension-headers").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_writing_an_empty_line_before_its_request() {
    leaves_no_result("leading-crlf").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_with_slashes_spaces_and_quotes_in_its_agent() {
    agrees_with_reference("agent-odd-chars").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_running_cases_by_their_ids() {
    agrees_with_reference("runs-by-casetuple").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_abandoning_and_retrying_every_case() {
    agrees_with_reference("retries-each-case").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_asking_for_reports_before_every_case() {
    agrees_with_reference("reports-every-case").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_echoing_after_700ms() {
    agrees_with_reference("echoes-after-700ms").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_failing_700ms_late() {
    agrees_with_reference("fails-after-700ms").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_ponging_1200ms_late() {
    agrees_with_reference("slow-pongs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_closing_with_1012() {
    agrees_with_reference("restart-close-code").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_echoing_text_in_modified_utf_8() {
    agrees_with_reference("modified-utf8-echo").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_giving_a_cesu_8_close_reason() {
    agrees_with_reference("cesu-close-reason").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_half_closing_tcp_on_the_servers_close() {
    agrees_with_reference("eof-on-close").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_stalling_1500ms_inside_its_close_frames() {
    agrees_with_reference("stalls-mid-close").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_leaving_its_continuations_unmasked() {
    agrees_with_reference("unmasked-continuations").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deflate_client_writing_window_bits_with_a_leading_zero() {
    agrees_with_reference("deflate-padded-bits").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deflate_client_offering_in_mixed_case() {
    agrees_with_reference("deflate-capitalized").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deflate_client_making_two_offers() {
    agrees_with_reference("deflate-two-offers").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deflate_client_ending_its_echoes_with_an_empty_continuation() {
    agrees_with_reference("deflate-empty-last-fragment").await;
}

/// (wstest inflated a compressed frame only once it was whole: the
/// reference inflates, and checks, each part as it arrives.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deflate_client_stalling_inside_bad_compressed_text() {
    agrees_with_reference("deflate-stalls-bad-text").await;
}

/// (wstest judged a close's one-octet body when the frame was whole; the
/// reference fails the connection at its header.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_sending_a_short_close_header_before_its_body() {
    agrees_with_reference("splits-short-close").await;
}

/// (wstest judged every continuation after an orphan one outside a message
/// again; the reference takes the orphan as a message's start.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_fragmenting_with_no_message_begun() {
    agrees_with_reference("orphan-fragments").await;
}

/// (wstest refused agents past 200 letters, which the reference serves.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_with_an_agent_of_230_letters() {
    agrees_with_reference("long-agent").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_running_each_case_on_two_connections_at_once() {
    agrees_with_reference("overlapping-retry").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_sending_a_latin_1_user_agent() {
    leaves_no_result("latin1-user-agent").await;
}
