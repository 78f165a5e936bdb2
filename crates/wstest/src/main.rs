//! `wstest`: the command line, compatible with the reference's.
//!
//! ```text
//! wstest -m fuzzingclient -s fuzzingclient.json [--jobs N] [--junit FILE] [--exit-zero] [--quiet]
//! wstest -m echoserver -w ws://127.0.0.1:9001
//! wstest                      # run the whole suite against an in-process autostrada echo server
//! ```
//! Exit status: 0 when every case of every server passes, 1 otherwise, 2 on usage errors.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use wstest::report::{self, CaseResult};
use wstest::runner::{self, RunOptions};
use wstest::spec::{self, ClientSpec};

const MODES: [&str; 3] = ["fuzzingclient", "echoserver", "testeeserver"];

/// A Python-free drop-in for the Autobahn|Testsuite WebSocket fuzzer.
#[derive(Parser, Debug)]
#[command(name = "wstest", version, about, long_about = None)]
struct Cli {
    /// Mode: fuzzingclient, echoserver or testeeserver. Without any argument,
    /// runs the whole suite against an in-process autostrada echo server.
    #[arg(short = 'm', long = "mode")]
    mode: Option<String>,
    /// Spec file (default: ./<mode>.json, written from a template if missing).
    #[arg(short = 's', long = "spec")]
    spec: Option<PathBuf>,
    /// WebSocket URI: the server to test when the spec lists none, or where an echo server listens.
    #[arg(short = 'w', long = "wsuri")]
    wsuri: Option<String>,
    /// Print a line for every finished case.
    #[arg(short = 'd', long = "debug")]
    debug: bool,
    /// Web port of the reference's fuzzingserver; accepted for compatibility, unused by these modes.
    #[arg(short = 'u', long = "webport")]
    webport: Option<u16>,
    /// TLS certificate (not supported yet).
    #[arg(short = 'c', long = "cert")]
    cert: Option<PathBuf>,
    /// TLS key (not supported yet).
    #[arg(short = 'k', long = "key")]
    key: Option<PathBuf>,
    /// Cases run at once (the timed 9.x cases always run alone).
    #[arg(long = "jobs", value_parser = clap::value_parser!(u16).range(1..))]
    jobs: Option<u16>,
    /// Also write a JUnit XML report to FILE.
    #[arg(long = "junit", value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Exit 0 even when cases fail (the reference's behaviour).
    #[arg(long = "exit-zero")]
    exit_zero: bool,
    /// No progress bar.
    #[arg(long = "quiet")]
    quiet: bool,
    /// Let the timed 9.x cases sleep while they wait for the server instead
    /// of polling the socket for up to 50 µs first (saves CPU; the measured
    /// durations then include this machine's wake-up latency).
    #[arg(long = "no-busy-poll")]
    no_busy_poll: bool,
}

fn usage(msg: &str) -> ExitCode {
    eprintln!("wstest: {msg}");
    ExitCode::from(2)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.cert.is_some() || cli.key.is_some() {
        return usage("TLS (-c/-k) is not supported yet; test over ws:// for now");
    }
    let _ = cli.webport;
    match cli.mode.as_deref() {
        None if cli.spec.is_none() && cli.wsuri.is_none() => embedded(&cli).await,
        None => usage("a mode must be given with -m: fuzzingclient, echoserver or testeeserver"),
        Some("fuzzingclient") => fuzzingclient(&cli).await,
        Some("echoserver" | "testeeserver") => echoserver(&cli).await,
        Some(other) => usage(&format!("unknown mode {other:?}; this wstest supports {}", MODES.join(", "))),
    }
}

fn run_options(cli: &Cli) -> RunOptions {
    RunOptions {
        jobs: cli.jobs.map_or_else(RunOptions::default_jobs, usize::from),
        quiet: cli.quiet,
        debug: cli.debug,
        busy_poll: (!cli.no_busy_poll).then_some(RunOptions::BUSY_POLL),
    }
}

/// Finds the spec file: explicit, implicit (./fuzzingclient.json), or a fresh template.
fn spec_path(cli: &Cli) -> Result<PathBuf, String> {
    if let Some(p) = &cli.spec {
        eprintln!("Using explicit spec file '{}'", p.display());
        return Ok(p.clone());
    }
    let implicit = PathBuf::from("fuzzingclient.json");
    if implicit.exists() {
        eprintln!("Using implicit spec file '{}'", implicit.display());
    } else {
        eprintln!("Auto-generating spec file '{}'", implicit.display());
        std::fs::write(&implicit, spec::CLIENT_TEMPLATE)
            .map_err(|e| format!("cannot write {}: {e}", implicit.display()))?;
    }
    Ok(implicit)
}

async fn fuzzingclient(cli: &Cli) -> ExitCode {
    let path = match spec_path(cli) {
        Ok(p) => p,
        Err(e) => return usage(&e),
    };
    let spec = match spec::load_client(&path, cli.wsuri.as_deref()) {
        Ok(s) => s,
        Err(e) => return usage(&format!("{}: {e}", path.display())),
    };
    execute(cli, spec).await
}

async fn execute(cli: &Cli, spec: ClientSpec) -> ExitCode {
    let outdir = spec.outdir.clone();
    let servers: Vec<String> = spec.servers.iter().map(|s| s.url.clone()).collect();
    eprintln!("wstest: running {} cases against {} server(s): {}", spec.cases.len(), servers.len(), servers.join(", "));
    let started = std::time::Instant::now();
    let cancel = async {
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("\nwstest: interrupted; writing the reports of the cases that finished");
    };
    // Per-case reports are written in the background while later cases run.
    let writer = match report::CaseWriter::start(&outdir) {
        Ok(w) => w,
        Err(e) => return usage(&format!("cannot write reports to {}: {e}", outdir.display())),
    };
    runner::run_with(spec, &run_options(cli), cancel, |r| writer.submit(r)).await;
    let elapsed = started.elapsed();
    let (mut results, written) = writer.finish();
    report::sort(&mut results);
    finish(cli, &outdir, &results, written, elapsed)
}

fn finish(
    cli: &Cli,
    outdir: &Path,
    results: &[CaseResult],
    written: std::io::Result<()>,
    elapsed: std::time::Duration,
) -> ExitCode {
    let writing = std::time::Instant::now();
    if let Err(e) = written.and_then(|()| report::write_index(outdir, results)) {
        eprintln!("wstest: cannot write reports to {}: {e}", outdir.display());
        return ExitCode::from(2);
    }
    if let Some(junit) = &cli.junit {
        if let Err(e) = std::fs::write(junit, report::junit::render(results)) {
            eprintln!("wstest: cannot write {}: {e}", junit.display());
            return ExitCode::from(2);
        }
    }
    if cli.debug {
        eprintln!("wstest: reports written in {:.3} s", writing.elapsed().as_secs_f64());
    }
    print!("{}", report::console::summary(results));
    println!(
        "\n{} cases in {:.1} s; report: {}",
        results.len(),
        elapsed.as_secs_f64(),
        outdir.join("index.json").display()
    );
    let all_pass = !results.is_empty() && results.iter().all(|r| r.verdict.passed());
    if all_pass || cli.exit_zero { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

async fn echoserver(cli: &Cli) -> ExitCode {
    let Some(uri) = &cli.wsuri else {
        return usage("this mode needs a WebSocket URI: -w ws://127.0.0.1:9001");
    };
    let target = match uri
        .parse()
        .map_err(|e| format!("{e}"))
        .and_then(|u| autostrada::proto::handshake::Target::from_uri(&u).map_err(|e| e.to_string()))
    {
        Ok(t) => t,
        Err(e) => return usage(&format!("bad -w {uri:?}: {e}")),
    };
    let addr = if target.host.contains(':') {
        format!("[{}]:{}", target.host, target.port)
    } else {
        format!("{}:{}", target.host, target.port)
    };
    match wstest::echo::start(&addr).await {
        Ok((local, task)) => {
            eprintln!("wstest: echo server on ws://{local}");
            let _ = task.await;
            ExitCode::SUCCESS
        }
        Err(e) => usage(&format!("cannot listen on {addr}: {e}")),
    }
}

/// No arguments: the whole suite against an in-process autostrada echo server.
async fn embedded(cli: &Cli) -> ExitCode {
    // On threads of its own, like a server in another process.
    let server = match wstest::echo::Background::start("127.0.0.1:0") {
        Ok(s) => s,
        Err(e) => return usage(&format!("cannot start the embedded echo server: {e}")),
    };
    let addr = server.addr();
    let text = format!(
        r#"{{"outdir": "./reports/servers", "servers": [{{"agent": "autostrada/{}", "url": "ws://{addr}"}}], "cases": ["*"], "exclude-cases": ["12.*", "13.*"]}}"#,
        env!("CARGO_PKG_VERSION")
    );
    let spec = match spec::parse_client(&text, None) {
        Ok(s) => s,
        Err(e) => return usage(&e.to_string()),
    };
    eprintln!(
        "wstest: no arguments given: testing an in-process autostrada echo server (see --help for the real modes)"
    );
    let code = execute(cli, spec).await;
    drop(server);
    code
}
