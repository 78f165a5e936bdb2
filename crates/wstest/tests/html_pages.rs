//! The HTML reports: rendered from a real run against autostrada's echo
//! server (cases 1.1.1, 7.9.1, 9.3.7, 12.1.1), and from the reference
//! suite's own JSON; then opened in headless Chromium at phone and desktop
//! width over the DevTools protocol — spoken by autostrada's own client —
//! failing on console errors, missing sections and pages wider than a phone.
//! Screenshots go to `target/html-check/`.
//!
//! Without Chromium the browser test says so loudly and passes, unless
//! `WSTEST_REQUIRE_BROWSER` is set (`tools/html-check`, run by `.ci/run`,
//! installs Chromium and sets it).

mod browser;

use std::path::{Path, PathBuf};

use serde_json::Value;
use wstest::report::{CaseWriter, html};
use wstest::runner::{self, RunOptions};
use wstest::spec;

const CASES: [&str; 4] = ["1.1.1", "7.9.1", "9.3.7", "12.1.1"];

/// The sections every case page has, in this order.
const CASE_SECTIONS: [&str; 8] = [
    "description",
    "expectation",
    "outcome",
    "closing-behaviour",
    "opening-handshake",
    "closing-flags",
    "wire-statistics",
    "wire-log",
];

/// Runs [`CASES`] against an in-process autostrada echo server, writing the
/// reports (JSON and HTML) into `outdir`.
async fn run_cases(outdir: &Path) {
    let _ = std::fs::remove_dir_all(outdir);
    let server = wstest::echo::Background::start("127.0.0.1:0").unwrap();
    let text = serde_json::json!({
        "outdir": outdir,
        "servers": [{"agent": "autostrada", "url": format!("ws://{}", server.addr())}],
        "cases": CASES,
    })
    .to_string();
    let spec = spec::parse_client(&text, None).unwrap();
    let options = RunOptions { jobs: 2, quiet: true, debug: false, busy_poll: None, case_timeout: None };
    let writer = CaseWriter::start(outdir, spec.cases.clone()).unwrap();
    runner::run_with(spec, &options, std::future::pending(), |r| writer.submit(r)).await;
    let (results, written) = writer.finish();
    written.unwrap();
    assert_eq!(results.len(), CASES.len());
}

fn section_ids(page: &str) -> Vec<String> {
    page.match_indices("<section id=\"")
        .map(|(i, m)| page[i + m.len()..].split('"').next().unwrap_or("").to_owned())
        .collect()
}

fn page(outdir: &Path, id: &str) -> String {
    std::fs::read_to_string(outdir.join(html::page_file("autostrada", id))).unwrap()
}

#[tokio::test]
async fn a_run_writes_an_index_and_a_page_per_case() {
    let outdir = std::env::temp_dir().join(format!("wstest-html-{}", std::process::id()));
    run_cases(&outdir).await;
    let index = std::fs::read_to_string(outdir.join("index.html")).unwrap();
    assert_eq!(section_ids(&index), ["summary", "legend", "cases"]);
    for id in CASES {
        assert!(index.contains(&format!("id=\"case-{id}\"")), "no row for {id}");
        assert!(index.contains(&html::page_file("autostrada", id)), "no link to the page of {id}");
        let p = page(&outdir, id);
        assert_eq!(section_ids(&p), CASE_SECTIONS, "sections of {id}");
        assert!(p.contains("href=\"index.html#case-"), "{id} links back to the index");
        for python in [">True<", ">False<", ">None<", "(u'", "[('"] {
            assert!(!p.contains(python), "{id} shows a Python-ism {python:?}");
        }
    }
    // Neighbours: 1.1.1 is first, 7.9.1 links both ways.
    let first = page(&outdir, "1.1.1");
    assert!(!first.contains("rel=\"prev\"") && first.contains("autostrada_case_7_9_1.html\" rel=\"next\""));
    let middle = page(&outdir, "7.9.1");
    assert!(middle.contains("autostrada_case_1_1_1.html\" rel=\"prev\""));
    // 7.9.1's close frames are decoded, the echo server's 1002 among them.
    assert!(middle.contains("code 1002"), "7.9.1's close frame is not decoded");
    // The compression case shows both ratios in its cell and its page.
    assert!(index.contains("ms · in 0.") && index.contains(" · out 0."), "12.1.1's ratios are not in the index");
    assert!(page(&outdir, "12.1.1").contains("Compression ratio, incoming"));
    let _ = std::fs::remove_dir_all(&outdir);
}

/// The reference suite's own report of a few cases against autostrada's
/// echo server (written by `../shared/tools/autobahn fuzzingclient`).
fn reference_copy(name: &str) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reference-report");
    let dir = std::env::temp_dir().join(format!("wstest-html-ref-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(&source).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    dir
}

#[test]
fn the_reference_suites_json_renders_into_the_same_pages() {
    let dir = reference_copy("render");
    let index: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("index.json")).unwrap()).unwrap();
    let cases = index.as_object().unwrap().values().next().unwrap().as_object().unwrap();
    let (path, pages) = html::render_dir(&dir).unwrap();
    assert_eq!(path, dir.join("index.html"));
    assert_eq!(pages, cases.len());
    for (id, entry) in cases {
        let file = entry["reportfile"].as_str().unwrap().replace(".json", ".html");
        let p = std::fs::read_to_string(dir.join(&file)).unwrap();
        assert_eq!(section_ids(&p), CASE_SECTIONS, "sections of the reference's {id}");
        // The reference's descriptions carry <br> and <b>: kept; nothing else is.
        assert!(!p.contains("&lt;br&gt;"), "{id}: a <br> of the reference shown as text");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn report_files_outside_the_directory_are_not_read() {
    let dir = reference_copy("outside");
    let path = dir.join("index.json");
    let mut index: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let agent = index.as_object_mut().unwrap().values_mut().next().unwrap();
    agent["1.1.1"]["reportfile"] = "../autostrada_case_1_1_1.json".into();
    std::fs::write(&path, index.to_string()).unwrap();
    let (_, pages) = html::render_dir(&dir).unwrap();
    assert_eq!(pages, 7, "1.1.1 is shown from index.json only");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn report_names_the_missing_index() {
    let dir = std::env::temp_dir().join(format!("wstest-html-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let err = html::render_dir(&dir).unwrap_err();
    assert!(err.contains("index.json"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Where the screenshots go.
fn screenshots() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"), PathBuf::from);
    target.join("html-check")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_read_well_in_chromium_at_phone_and_desktop_width() {
    let Some(chromium) = browser::find() else {
        assert!(
            std::env::var_os("WSTEST_REQUIRE_BROWSER").is_none(),
            "WSTEST_REQUIRE_BROWSER is set but no chromium was found (set WSTEST_CHROMIUM or install Debian's chromium)"
        );
        eprintln!(
            "\n**********\nSKIPPED: no Chromium here, the HTML reports were not checked in a browser (tools/html-check installs it)\n**********\n"
        );
        return;
    };
    let shots = screenshots();
    std::fs::create_dir_all(&shots).unwrap();
    let outdir = shots.join("report");
    run_cases(&outdir).await;
    let reference = reference_copy("browser");
    html::render_dir(&reference).unwrap();
    let mut b = browser::Browser::launch(&chromium).await;
    // The probe itself: a page with a script error, a console error and a
    // missing image is seen as broken.
    let broken = shots.join("broken.html");
    std::fs::write(
        &broken,
        "<!DOCTYPE html><section id=\"x\"></section><img src=\"nowhere.png\">\
         <script>console.error('seen'); undefined_function();</script>",
    )
    .unwrap();
    let seen = b.open(&broken, 390, true).await;
    assert!(seen.errors.len() >= 2, "the probe missed errors: {:?}", seen.errors);
    assert_eq!(seen.sections, ["x"]);
    std::fs::remove_file(&broken).unwrap();
    let mut pages: Vec<(String, PathBuf, Vec<&str>)> =
        vec![("index".into(), outdir.join("index.html"), vec!["summary", "cases"])];
    for id in CASES {
        pages.push((format!("case-{id}"), outdir.join(html::page_file("autostrada", id)), CASE_SECTIONS.to_vec()));
    }
    pages.push(("reference-index".into(), reference.join("index.html"), vec!["summary", "cases"]));
    pages.push((
        "reference-case-7.9.1".into(),
        reference.join(html::page_file("autostrada", "7.9.1")),
        CASE_SECTIONS.to_vec(),
    ));
    for (name, file, sections) in &pages {
        for (width, mobile) in [(390, true), (1280, false)] {
            let seen = b.open(file, width, mobile).await;
            assert!(seen.errors.is_empty(), "{name} at {width} px: console errors {:?}", seen.errors);
            for s in sections {
                assert!(
                    seen.sections.iter().any(|x| x == s),
                    "{name} at {width} px: no section #{s} in {:?}",
                    seen.sections
                );
            }
            assert!(
                seen.scroll_width <= width,
                "{name} at {width} px: the page is {} px wide, the reader has to scroll sideways",
                seen.scroll_width
            );
            let png = shots.join(format!("{name}-{width}.png"));
            std::fs::write(&png, &seen.screenshot).unwrap();
        }
    }
    b.close().await;
    eprintln!("html pages checked in {}; screenshots in {}", chromium.display(), shots.display());
    let _ = std::fs::remove_dir_all(&reference);
}
