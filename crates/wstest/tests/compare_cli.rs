//! `wstest compare OLD NEW` as CI calls it: text on stdout, exit status 1
//! only when a case got worse or disappeared, 2 when a run cannot be read.

use std::path::Path;
use std::process::Command;

fn index(dir: &Path, cases: &[(&str, &str, &str)]) {
    std::fs::create_dir_all(dir).unwrap();
    let entries: serde_json::Map<String, serde_json::Value> = cases
        .iter()
        .map(|(id, b, c)| {
            let entry = serde_json::json!({"behavior": b, "behaviorClose": c, "duration": 1,
                "remoteCloseCode": 1000, "reportfile": format!("x_case_{}.json", id.replace('.', "_"))});
            ((*id).to_owned(), entry)
        })
        .collect();
    let index = serde_json::json!({ "lib/1.0": entries });
    std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
}

fn compare(old: &Path, new: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_wstest")).arg("compare").arg(old).arg(new).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn exit_status_follows_regressions() {
    let base = std::env::temp_dir().join(format!("wstest-compare-{}", std::process::id()));
    let (a, b, c) = (base.join("a"), base.join("b"), base.join("c"));
    index(&a, &[("1.1.1", "OK", "OK"), ("2.1", "FAILED", "OK")]);
    // Better and more: exit 0.
    index(&b, &[("1.1.1", "OK", "OK"), ("2.1", "OK", "OK"), ("3.1", "OK", "OK")]);
    let (code, text, _) = compare(&a, &b);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("improved (1):") && text.contains("added (1):"), "{text}");
    // Worse: exit 1, the regression listed first.
    index(&c, &[("1.1.1", "NON-STRICT", "OK"), ("2.1", "OK", "OK")]);
    let (code, text, _) = compare(&a, &c.join("index.json"));
    assert_eq!(code, 1, "{text}");
    assert!(text.starts_with("regressed (1):\n  lib/1.0  1.1.1"), "{text}");
    // A case that disappeared: exit 1 too.
    let (code, text, _) = compare(&b, &c);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("removed (1):") && text.contains("3.1"), "{text}");
    // Nothing to read: exit 2, the file named.
    let (code, _, err) = compare(&a, &base.join("missing"));
    assert_eq!(code, 2);
    assert!(err.contains("missing"), "{err}");
    let _ = std::fs::remove_dir_all(&base);
}
