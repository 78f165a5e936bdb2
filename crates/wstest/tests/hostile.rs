//! wstest against servers that attack it after (or instead of) the opening
//! handshake — floods of empty frames or pings, a frame announced at 2^40
//! octets, garbage instead of a 101, a reset mid-frame, silence. Every case
//! ends with a verdict and its report (wire log included, cut where it
//! would grow without end), `index.json` lists them, and the process stays
//! far below 256 MiB.

#[path = "fixtures/hostile.rs"]
mod hostile;

use hostile::Hostility;
use wstest::report::CaseWriter;
use wstest::runner::{self, RunOptions};
use wstest::spec;

const CASES: [&str; 3] = ["1.1.1", "5.1", "9.1.1"];

/// Peak resident memory of this process so far, in KiB (Linux).
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn run_against(name: &'static str, kind: Hostility) -> Vec<wstest::report::CaseResult> {
    let addr = hostile::start(kind, "127.0.0.1:0").await.unwrap();
    let outdir = std::env::temp_dir().join(format!("wstest-hostile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&outdir);
    // No agent given: learning it from the server is under attack too.
    let text = serde_json::json!({
        "outdir": outdir,
        "servers": [{"url": format!("ws://{addr}")}],
        "cases": CASES,
    })
    .to_string();
    let spec = spec::parse_client(&text, None).unwrap();
    let options = RunOptions { jobs: 4, quiet: true, debug: false, busy_poll: None, case_timeout: None };
    let writer = CaseWriter::start(&outdir, spec.cases.clone()).unwrap();
    runner::run_with(spec, &options, std::future::pending(), |r| writer.submit(r)).await;
    let (results, written) = writer.finish();
    written.unwrap();
    // The writer keeps index.json current as cases finish (the program
    // writes it once more at the end; this test does not).
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(outdir.join("index.json")).unwrap()).unwrap();
    let rows = index.as_object().unwrap().values().next().unwrap().as_object().unwrap();
    assert_eq!(rows.len(), CASES.len(), "{name}: index.json lists {rows:?}");
    for r in &results {
        let file = outdir.join(wstest::report::report_file(&r.agent, &r.id));
        let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let log = report["wirelog"].as_array().map_or(0, Vec::len);
        assert!(log > 0, "{name} {}: no wire log", r.id);
        assert!(log <= wstest::wire::log::MAX_ROWS, "{name} {}: {log} rows", r.id);
        assert!(!r.verdict.result.contains("hard deadline"), "{name} {}: {}", r.id, r.verdict.result);
    }
    let _ = std::fs::remove_dir_all(&outdir);
    results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_servers_get_verdicts_and_cannot_exhaust_memory() {
    let runs = Hostility::ALL.map(|(name, kind)| tokio::spawn(run_against(name, kind)));
    for ((name, _), run) in Hostility::ALL.iter().zip(runs) {
        let results = run.await.unwrap();
        assert_eq!(results.len(), CASES.len(), "{name}");
        for r in &results {
            assert!(!r.verdict.behavior.is_empty() && !r.verdict.result.is_empty(), "{name} {}", r.id);
        }
        if *name == "huge-frame" {
            let r = results.iter().find(|r| r.id == "1.1.1").unwrap();
            assert!(r.verdict.result.contains("past wstest's limit"), "{}", r.verdict.result);
        }
    }
    let peak = peak_rss_kib();
    assert!(peak < 256 * 1024, "peak RSS {peak} KiB");
}
