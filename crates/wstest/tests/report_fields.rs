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
