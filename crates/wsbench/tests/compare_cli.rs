//! `wsbench compare` end to end on a tiny matrix: servers and loads as
//! pinned processes, then the table, the JSON and the charts on disk, and
//! `wsbench report` drawing the same table again from the JSON.

use std::path::PathBuf;
use std::process::Command;

/// Runs `wsbench compare` with `args` on one CPU (enough to check the
/// plumbing on any machine) into a fresh directory named after `name`;
/// returns that directory, `results.md` and `results.json`.
fn compare(name: &str, args: &[&str]) -> (PathBuf, String, serde_json::Value) {
    let out = std::env::temp_dir().join(format!("wsbench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let run = Command::new(env!("CARGO_BIN_EXE_wsbench"))
        .arg("compare")
        .args(args)
        .args(["--server-cpus", "0", "--load-cpus", "0"])
        .arg("--out")
        .arg(&out)
        .output()
        .expect("wsbench runs");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let md = std::fs::read_to_string(out.join("results.md")).unwrap();
    let json = serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    (out, md, json)
}

#[test]
fn compare_writes_the_table_json_and_charts() {
    let (out, md, json) = compare(
        "compare",
        &[
            "--cells",
            "4:1k:2,2:512:1:text,2:2k:1:deflate",
            "--subjects",
            "raw-tcp,autostrada,autostrada-low-memory",
            "--secs",
            "0.3",
            "--warmup",
            "0.1",
            "--idle-conns",
            "40",
        ],
    );
    for row in ["| 4:1 KiB:2 |", "| 2:512 B:1 text |", "| 2:2 KiB:1 deflate |", "| autostrada-low-memory |"] {
        assert!(md.contains(row), "no {row} in\n{md}");
    }
    assert!(!md.contains("Runs that measured nothing"), "{md}");
    // raw-tcp and autostrada on the two plain cells, both autostradas on the deflate cell.
    assert_eq!(json["runs"].as_array().unwrap().len(), 6);
    assert!(json["runs"].as_array().unwrap().iter().all(|r| r["result"]["Ok"]["messages"].as_u64().unwrap() > 0));
    for chart in ["throughput.svg", "cpu.svg"] {
        let svg = std::fs::read_to_string(out.join(chart)).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("autostrada"), "{chart}");
    }
    // `wsbench report` redraws the same table and charts from the JSON alone.
    let again = out.join("again");
    let report = Command::new(env!("CARGO_BIN_EXE_wsbench"))
        .arg("report")
        .arg(out.join("results.json"))
        .arg("--out")
        .arg(&again)
        .output()
        .unwrap();
    assert!(report.status.success(), "{}", String::from_utf8_lossy(&report.stderr));
    assert_eq!(std::fs::read_to_string(again.join("results.md")).unwrap(), md);
    assert!(again.join("cpu.svg").exists() && !again.join("results.json").exists());
    // A file that is not a compare result is named, with what is wrong.
    let bad = Command::new(env!("CARGO_BIN_EXE_wsbench")).arg("report").arg(out.join("cpu.svg")).output().unwrap();
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        !bad.status.success() && err.contains("cpu.svg is not a results.json written by `wsbench compare`"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn repeat_keeps_every_round_and_reports_their_median() {
    // With batched writes too, which the memory rows must not trip over.
    let (out, md, json) = compare(
        "repeat",
        &[
            "--cells",
            "2:64:2",
            "--subjects",
            "raw-tcp,autostrada",
            "--repeat",
            "3",
            "--batch-writes",
            "--secs",
            "0.2",
            "--warmup",
            "0.1",
            "--idle-conns",
            "20",
        ],
    );
    assert!(md.contains("each figure the median of 3 rounds"), "{md}");
    assert!(!md.contains("failed") && !md.contains("measured nothing"), "{md}");
    assert!(
        json["memory"].as_array().unwrap().iter().all(|m| m["plain"]["Ok"]["conns"].as_u64() == Some(20)),
        "{json}"
    );
    for r in json["runs"].as_array().unwrap() {
        let rates: Vec<f64> =
            r["rounds"].as_array().unwrap().iter().map(|x| x["Ok"]["msgs_per_sec"].as_f64().unwrap()).collect();
        assert_eq!(rates.len(), 3);
        let mut sorted = rates.clone();
        sorted.sort_by(f64::total_cmp);
        assert_eq!(r["result"]["Ok"]["msgs_per_sec"].as_f64().unwrap(), sorted[1], "{rates:?}");
    }
    let refused = Command::new(env!("CARGO_BIN_EXE_wsbench")).args(["compare", "--repeat", "0"]).output().unwrap();
    assert!(!refused.status.success());
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn a_bad_cell_is_refused_with_the_expected_form() {
    let out = Command::new(env!("CARGO_BIN_EXE_wsbench")).args(["compare", "--cells", "100:1k"]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("CONNS:SIZE:INFLIGHT"), "{stderr}");
}
