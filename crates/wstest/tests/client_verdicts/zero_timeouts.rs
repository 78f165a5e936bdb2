//! Spec timeouts of 0 on wstest's fuzzing server: the reference arms no
//! timer for them (its `openHandshakeTimeout` and `closeHandshakeTimeout`
//! are used only when above 0), so a client is read and waited for until it
//! is done or a case's own timer ends the wait.

use super::{agreement, run_with};

/// Runs the recording `fixture` of `expected-options/` (its flaw, with its
/// options) and compares every verdict pair with the reference's.
async fn agrees_with_reference_given_options(fixture: &str) {
    let _turn = agreement::AT_ONCE.acquire().await.unwrap();
    let recorded = agreement::expected_with_options(fixture);
    let cases: Vec<&str> = recorded.verdicts.keys().map(String::as_str).collect();
    let (results, _) = run_with(&recorded.flaw, &cases, &recorded.options).await;
    assert_eq!(results.len(), cases.len(), "every case has a result");
    agreement::assert_agrees(fixture, &recorded.verdicts, &results);
}

/// A close reply 1.5 s late with no close-handshake timer is a clean close
/// where no case timer ends the wait first (the default 1 s makes it
/// UNCLEAN).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_answering_close_after_1500_ms_with_handshake_timeouts_of_0() {
    agrees_with_reference_given_options("client-slow-close-reply.handshakes-0").await;
}

/// With no opening-handshake timer, a request written one octet per TCP
/// write is read to its end, however long that takes (a timer due at once
/// refused it before the case existed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_trickling_its_request_with_an_open_handshake_timeout_of_0() {
    agrees_with_reference_given_options("client-trickles.open-handshake-0").await;
}
