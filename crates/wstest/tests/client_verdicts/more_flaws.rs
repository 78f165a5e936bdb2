//! More flawed clients on wstest's fuzzing server: closing and timing,
//! framing and echo shapes, request heads the reference reads its own way.

use super::{agrees_with_reference, leaves_no_result};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_dropping_tcp_100ms_after_the_servers_close() {
    agrees_with_reference("drops-late-on-close").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_dropping_tcp_right_after_its_close_reply() {
    agrees_with_reference("drops-after-close-reply").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_ponging_the_previous_pings_payload() {
    agrees_with_reference("stale-pongs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_echoing_in_one_octet_frames() {
    agrees_with_reference("one-octet-fragments").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_echoing_as_a_lone_continuation() {
    agrees_with_reference("continuation-first").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_echoing_as_two_messages() {
    agrees_with_reference("echoes-in-two-messages").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_checking_utf8_only_at_message_end() {
    agrees_with_reference("late-utf8-check").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_sending_an_empty_subprotocol_header() {
    agrees_with_reference("empty-protocol").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_sending_origin_null() {
    agrees_with_reference("origin-null").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_sending_connection_close_upgrade() {
    agrees_with_reference("connection-close").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_writing_its_method_in_lower_case() {
    leaves_no_result("lowercase-get").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_sending_an_empty_message_before_each_echo() {
    agrees_with_reference("empty-message-first").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_echoing_after_1500ms() {
    agrees_with_reference("slow-echoes").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_dropping_tcp_where_it_should_fail_with_a_close() {
    agrees_with_reference("drops-on-error").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_echoing_invalid_utf8_with_replacement_characters() {
    agrees_with_reference("lossy-utf8-echo").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_swapping_1002_and_1007() {
    agrees_with_reference("swaps-failure-codes").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deflate_client_echoing_uncompressed_with_rsv1_on_control_frames() {
    agrees_with_reference("deflate-uncompressed-rsv1-control").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_sending_no_version() {
    leaves_no_result("missing-version").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_sending_a_reserved_opcode() {
    agrees_with_reference("reserved-opcode").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_starting_a_message_inside_a_message() {
    agrees_with_reference("nested-message").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_setting_the_top_bit_of_a_64_bit_length() {
    agrees_with_reference("length-msb-set").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deflate_client_compressing_with_a_zlib_header() {
    agrees_with_reference("deflate-zlib-header").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_resetting_tcp_after_its_close_reply() {
    agrees_with_reference("resets-after-close-reply").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_resetting_tcp_on_the_servers_close() {
    agrees_with_reference("resets-on-close").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deflate_client_flipping_message_types() {
    agrees_with_reference("deflate-flips-type").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_offering_a_non_ascii_subprotocol() {
    leaves_no_result("non-ascii-protocol").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_offering_a_non_ascii_extension() {
    leaves_no_result("non-ascii-extension").await;
}

/// Python 2's UTF-8 codec takes encoded surrogates: the reference reads
/// such a head as any other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_sending_a_cesu_8_user_agent() {
    agrees_with_reference("cesu-user-agent").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_masking_data_frames_only() {
    agrees_with_reference("unmasked-control").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_refusing_fragmented_messages_with_1003() {
    agrees_with_reference("no-fragments").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_refusing_binary_messages_with_1003() {
    agrees_with_reference("text-only").await;
}

/// (Its agent is `"quoted-agent"`, quotes and all.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_quoting_its_agent_unencoded() {
    agrees_with_reference("quoted-agent").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_sending_a_32_kib_cookie() {
    agrees_with_reference("big-cookie").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_replying_to_close_after_500ms() {
    agrees_with_reference("dawdles-close-reply").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_replying_to_close_after_1500ms() {
    agrees_with_reference("slow-close-reply").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deflate_client_asking_for_a_9_bit_server_window() {
    agrees_with_reference("deflate-small-server-window").await;
}
