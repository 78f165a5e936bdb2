//! `wsbench compare` end to end on a tiny matrix: servers and loads as
//! pinned processes, then the table, the JSON and the charts on disk.

use std::process::Command;

#[test]
fn compare_writes_the_table_json_and_charts() {
    let out = std::env::temp_dir().join(format!("wsbench-compare-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let run = Command::new(env!("CARGO_BIN_EXE_wsbench"))
        .args(["compare", "--cells", "4:1k:2,2:512:1:text,2:2k:1:deflate"])
        .args(["--subjects", "raw-tcp,autostrada,autostrada-low-memory"])
        .args(["--secs", "0.3", "--warmup", "0.1", "--idle-conns", "40"])
        // One CPU for both is enough to check the plumbing on any machine.
        .args(["--server-cpus", "0", "--load-cpus", "0"])
        .arg("--out")
        .arg(&out)
        .output()
        .expect("wsbench runs");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let md = std::fs::read_to_string(out.join("results.md")).unwrap();
    for row in ["| 4:1 KiB:2 |", "| 2:512 B:1 text |", "| 2:2 KiB:1 deflate |", "| autostrada-low-memory |"] {
        assert!(md.contains(row), "no {row} in\n{md}");
    }
    assert!(!md.contains("Runs that measured nothing"), "{md}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    // raw-tcp and autostrada on the two plain cells, both autostradas on the deflate cell.
    assert_eq!(json["runs"].as_array().unwrap().len(), 6);
    assert!(json["runs"].as_array().unwrap().iter().all(|r| r["result"]["Ok"]["messages"].as_u64().unwrap() > 0));
    for chart in ["throughput.svg", "cpu.svg"] {
        let svg = std::fs::read_to_string(out.join(chart)).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("autostrada"), "{chart}");
    }
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn repeat_keeps_every_round_and_reports_their_median() {
    let out = std::env::temp_dir().join(format!("wsbench-repeat-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let run = Command::new(env!("CARGO_BIN_EXE_wsbench"))
        .args(["compare", "--cells", "2:64:2", "--subjects", "raw-tcp,autostrada", "--repeat", "3"])
        .args(["--secs", "0.2", "--warmup", "0.1", "--idle-conns", "0", "--server-cpus", "0", "--load-cpus", "0"])
        .arg("--out")
        .arg(&out)
        .output()
        .expect("wsbench runs");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let md = std::fs::read_to_string(out.join("results.md")).unwrap();
    assert!(md.contains("each figure the median of 3 rounds"), "{md}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
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
