//! `wstest`: the command line, compatible with the reference's.
//!
//! ```text
//! wstest -m fuzzingclient -s fuzzingclient.json [--jobs N] [--junit FILE] [--exit-zero] [--quiet]
//! wstest -m fuzzingserver -s fuzzingserver.json   # test clients that connect to it
//! wstest -m testeeclient -w ws://127.0.0.1:9001    # an autostrada client driving a fuzzing server
//! wstest -m echoserver -w ws://127.0.0.1:9001
//! wstest                      # both roles against autostrada, in process
//! wstest report DIR           # (re)write the HTML pages of a report directory
//! wstest compare OLD NEW      # what changed between two runs; exit 1 on a regression
//! ```
//! Exit status: 0 when every case of every server passes, 1 otherwise, 2 on usage errors.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use wstest::report::{self, CaseResult};
use wstest::runner::{self, RunOptions};
use wstest::spec::{self, ClientSpec, ServerSpec};

const MODES: [&str; 5] = ["fuzzingclient", "fuzzingserver", "testeeclient", "echoserver", "testeeserver"];

/// A Python-free drop-in for the Autobahn|Testsuite WebSocket fuzzer.
#[derive(Parser, Debug)]
#[command(name = "wstest", version, about, long_about = None, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Mode: fuzzingclient, fuzzingserver, testeeclient, echoserver or
    /// testeeserver. Without any argument, runs the suite in both roles
    /// against autostrada, in process.
    #[arg(short = 'm', long = "mode")]
    mode: Option<String>,
    /// Spec file (default: ./<mode>.json, written from a template if missing).
    #[arg(short = 's', long = "spec")]
    spec: Option<PathBuf>,
    /// WebSocket URI: the server to test when the spec lists none, or where an echo server listens.
    #[arg(short = 'w', long = "wsuri")]
    wsuri: Option<String>,
    /// Agent name the testee client gives the fuzzing server (default: autostrada/VERSION).
    #[arg(short = 'i', long = "ident")]
    ident: Option<String>,
    /// Print a line for every finished case.
    #[arg(short = 'd', long = "debug")]
    debug: bool,
    /// Web port of the reference's fuzzingserver; accepted for compatibility, unused by these modes.
    #[arg(short = 'u', long = "webport")]
    webport: Option<u16>,
    /// TLS certificate chain (PEM) for a wss:// fuzzingserver or echoserver
    /// (the fuzzingserver spec's "cert" also works).
    #[arg(short = 'c', long = "cert")]
    cert: Option<PathBuf>,
    /// TLS private key (PEM) that goes with -c.
    #[arg(short = 'k', long = "key")]
    key: Option<PathBuf>,
    /// testeeclient: trust the CA certificates in this PEM file for a
    /// wss:// fuzzing server (fuzzingclient: the spec's "trust-ca").
    #[arg(long = "trust-ca", value_name = "PEM")]
    trust_ca: Option<PathBuf>,
    /// testeeclient: accept any certificate from a wss:// fuzzing server
    /// (self-signed test servers; fuzzingclient: the spec's "skip-verify").
    #[arg(long = "skip-verify", conflicts_with = "trust_ca")]
    skip_verify: bool,
    /// Cases run at once. fuzzingclient: default 1, one case at a time as
    /// the reference runs them; more only for a server that serves that many
    /// connections at once and keeps their messages apart (the timed 9.x
    /// cases always run alone); fuzzingserver: over all its clients,
    /// default 32, and a further /runCase waits for one to end;
    /// testeeclient: default 1.
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
    /// Give up on any case after SECS seconds, counted from its connect,
    /// and judge it on what it saw (default: the case's own timeout plus
    /// 30 s; the reference has no
    /// such limit and can wait forever on a server that never closes TCP).
    #[arg(long = "case-timeout", value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    case_timeout: Option<u64>,
}

/// Commands on finished reports.
#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Write the HTML pages (index.html and one page per case) of a report
    /// directory from its index.json and per-case JSON, written by wstest
    /// or by the reference suite.
    Report {
        /// The directory that holds index.json.
        dir: PathBuf,
    },
    /// Compare two runs case by case, regressions first. Exit status 1 when
    /// a case got worse or disappeared, 0 otherwise.
    Compare {
        /// The earlier run: a report directory or its index.json.
        old: PathBuf,
        /// The later run: a report directory or its index.json.
        new: PathBuf,
    },
}

fn usage(msg: &str) -> ExitCode {
    eprintln!("wstest: {msg}");
    ExitCode::from(2)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        Some(Command::Report { dir }) => return render_report(dir),
        Some(Command::Compare { old, new }) => return compare(old, new),
        None => {}
    }
    if cli.cert.is_some() != cli.key.is_some() {
        return usage("TLS needs both -c CERT.pem (the certificate chain) and -k KEY.pem (its private key)");
    }
    let _ = cli.webport;
    match cli.mode.as_deref() {
        None if cli.spec.is_none() && cli.wsuri.is_none() => embedded(&cli).await,
        None => usage(&format!("a mode must be given with -m: {}", MODES.join(", "))),
        Some("fuzzingclient") => fuzzingclient(&cli).await,
        Some("fuzzingserver") => fuzzingserver(&cli).await,
        Some("testeeclient") => testeeclient(&cli).await,
        Some("echoserver" | "testeeserver") => echoserver(&cli).await,
        Some(other) => usage(&format!("unknown mode {other:?}; this wstest supports {}", MODES.join(", "))),
    }
}

fn render_report(dir: &Path) -> ExitCode {
    match report::html::render_dir(dir) {
        Ok((index, pages)) => {
            println!("wstest: {pages} case pages and {}", index.display());
            ExitCode::SUCCESS
        }
        Err(e) => usage(&e),
    }
}

fn compare(old: &Path, new: &Path) -> ExitCode {
    match report::compare::compare(old, new) {
        Ok(cmp) => {
            print!("{}", cmp.render());
            if cmp.regressed() { ExitCode::from(1) } else { ExitCode::SUCCESS }
        }
        Err(e) => usage(&e),
    }
}

fn run_options(cli: &Cli) -> RunOptions {
    RunOptions {
        jobs: cli.jobs.map_or_else(RunOptions::default_jobs, usize::from),
        quiet: cli.quiet,
        debug: cli.debug,
        busy_poll: (!cli.no_busy_poll).then_some(RunOptions::BUSY_POLL),
        case_timeout: cli.case_timeout.map(std::time::Duration::from_secs),
    }
}

/// Finds the spec file: explicit, implicit (`./<mode>.json`), or a fresh template.
fn spec_path(cli: &Cli, implicit: &str, template: &str) -> Result<PathBuf, String> {
    if let Some(p) = &cli.spec {
        eprintln!("Using explicit spec file '{}'", p.display());
        return Ok(p.clone());
    }
    let implicit = PathBuf::from(implicit);
    if implicit.exists() {
        eprintln!("Using implicit spec file '{}'", implicit.display());
    } else {
        eprintln!("Auto-generating spec file '{}'", implicit.display());
        std::fs::write(&implicit, template).map_err(|e| format!("cannot write {}: {e}", implicit.display()))?;
    }
    Ok(implicit)
}

async fn fuzzingclient(cli: &Cli) -> ExitCode {
    let path = match spec_path(cli, "fuzzingclient.json", spec::CLIENT_TEMPLATE) {
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
    let writer = match report::CaseWriter::start(&outdir, spec.cases.clone()) {
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
    if let Some(junit) = &cli.junit
        && let Err(e) = std::fs::write(junit, report::junit::render(results))
    {
        eprintln!("wstest: cannot write {}: {e}", junit.display());
        return ExitCode::from(2);
    }
    if cli.debug {
        eprintln!("wstest: reports written in {:.3} s", writing.elapsed().as_secs_f64());
    }
    print!("{}", report::console::summary(results));
    println!(
        "\n{} cases in {:.1} s; report: {}",
        results.len(),
        elapsed.as_secs_f64(),
        outdir.join("index.html").display()
    );
    let all_pass = !results.is_empty() && results.iter().all(|r| r.verdict.passed());
    if all_pass || cli.exit_zero { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

async fn fuzzingserver(cli: &Cli) -> ExitCode {
    let path = match spec_path(cli, "fuzzingserver.json", spec::SERVER_TEMPLATE) {
        Ok(p) => p,
        Err(e) => return usage(&e),
    };
    let mut spec = match spec::load_server(&path, cli.wsuri.as_deref()) {
        Ok(s) => s,
        Err(e) => return usage(&format!("{}: {e}", path.display())),
    };
    if let (Some(cert), Some(key)) = (&cli.cert, &cli.key) {
        spec.tls = Some((cert.clone(), key.clone()));
    }
    // Bad certificate files are reported before anything listens.
    if let Some((cert, key)) = &spec.tls
        && let Err(e) = wstest::tls::acceptor(cert, key)
    {
        return usage(&e);
    }
    let scheme = if spec.tls.is_some() { "wss" } else { "ws" };
    let listener = match tokio::net::TcpListener::bind(&spec.listen).await {
        Ok(l) => l,
        Err(e) => return usage(&format!("cannot listen on {}: {e}", spec.listen)),
    };
    let addr = listener.local_addr().map_or_else(|_| spec.listen.clone(), |a| a.to_string());
    eprintln!(
        "wstest: fuzzing server on {scheme}://{addr} with {} cases; a client runs them with /getCaseCount, /runCase?case=N&agent=A, /updateReports?agent=A (Ctrl-C or /stopServer stops it)",
        spec.cases.len()
    );
    serve_and_report(cli, spec, listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

/// Serves `spec` on `listener` until stopped, then prints each agent's summary.
async fn serve_and_report(
    cli: &Cli,
    spec: ServerSpec,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> ExitCode {
    let outdir = spec.outdir.clone();
    let started = std::time::Instant::now();
    let options = wstest::fuzzingserver::Options {
        debug: cli.debug,
        max_cases: cli.jobs.map_or(wstest::fuzzingserver::DEFAULT_MAX_CASES, usize::from),
    };
    let results = match wstest::fuzzingserver::serve(spec, listener, options, shutdown).await {
        Ok(results) => results,
        Err(e) => return usage(&e.to_string()),
    };
    if let Some(junit) = &cli.junit
        && let Err(e) = std::fs::write(junit, report::junit::render(&results))
    {
        eprintln!("wstest: cannot write {}: {e}", junit.display());
        return ExitCode::from(2);
    }
    print!("{}", report::console::summary(&results));
    println!(
        "\n{} cases in {:.1} s; report: {}",
        results.len(),
        started.elapsed().as_secs_f64(),
        outdir.join("index.html").display()
    );
    exit_code(cli, &results)
}

fn exit_code(cli: &Cli, results: &[CaseResult]) -> ExitCode {
    let all_pass = !results.is_empty() && results.iter().all(|r| r.verdict.passed());
    if all_pass || cli.exit_zero { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

fn default_agent() -> String {
    format!("autostrada/{}", env!("CARGO_PKG_VERSION"))
}

async fn testeeclient(cli: &Cli) -> ExitCode {
    let Some(uri) = &cli.wsuri else {
        return usage("this mode needs the fuzzing server's URI: -w ws://127.0.0.1:9001");
    };
    let agent = cli.ident.clone().unwrap_or_else(default_agent);
    let jobs = cli.jobs.map_or(1, usize::from);
    eprintln!("wstest: testee client {agent:?} driving the fuzzing server at {uri}");
    let quiet = cli.quiet;
    let trust = match (&cli.trust_ca, cli.skip_verify) {
        (Some(ca), _) => wstest::tls::Trust::Ca(ca.clone()),
        (None, true) => wstest::tls::Trust::SkipVerify,
        (None, false) => wstest::tls::Trust::PublicRoots,
    };
    let connector = match wstest::tls::client_config(&trust) {
        Ok(config) => autostrada::Connector::rustls(config),
        Err(e) => return usage(&e),
    };
    match wstest::testee::run_with(uri, &agent, jobs, &connector, |done, count| {
        if !quiet && (done % 50 == 0 || done == count) {
            eprintln!("wstest: {done}/{count} cases run");
        }
    })
    .await
    {
        Ok(n) => {
            eprintln!("wstest: ran {n} cases; the fuzzing server wrote its reports");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("wstest: {e}");
            ExitCode::from(1)
        }
    }
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
    let tls = match (&cli.cert, &cli.key) {
        (Some(cert), Some(key)) => match wstest::tls::acceptor(cert, key) {
            Ok(acceptor) => Some(acceptor),
            Err(e) => return usage(&e),
        },
        _ if target.tls => return usage("a wss:// echo server needs -c CERT.pem and -k KEY.pem"),
        _ => None,
    };
    let scheme = if tls.is_some() { "wss" } else { "ws" };
    match wstest::echo::start_with(&addr, tls).await {
        Ok((local, task)) => {
            eprintln!("wstest: echo server on {scheme}://{local}");
            let _ = task.await;
            ExitCode::SUCCESS
        }
        Err(e) => usage(&format!("cannot listen on {addr}: {e}")),
    }
}

/// The compression cases the no-argument run takes: the size rows up to
/// 32 KiB per message (rows 1–8 and 11–13 of every 12.x/13.x subgroup), 132
/// of the 216. The larger rows move most of the ~11 GB each way that the
/// full set exchanges; `FULL_COMPRESSION` says how to run them.
const EMBEDDED_COMPRESSION_ROWS: [u32; 11] = [1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13];

const FULL_COMPRESSION: &str = "all 216 compression cases: wstest -m fuzzingclient -s SPEC with \"cases\": [\"12.*\", \"13.*\"] against a running echo server (e.g. wstest -m echoserver -w ws://127.0.0.1:9001)";

/// The cases of the no-argument run: everything but the largest compression rows.
fn embedded_exclusions() -> Vec<String> {
    wstest::cases::all()
        .into_iter()
        .filter(|c| {
            let key = wstest::cases::id_key(&c.id);
            key[0] >= 12 && !EMBEDDED_COMPRESSION_ROWS.contains(&key[2])
        })
        .map(|c| c.id)
        .collect()
}

/// No arguments: the suite in both roles against autostrada, in process —
/// first as fuzzing client against an autostrada echo server, then as
/// fuzzing server for autostrada's client.
async fn embedded(cli: &Cli) -> ExitCode {
    eprintln!(
        "wstest: no arguments given: testing autostrada in process, as server and as client (see --help for the real modes)"
    );
    let excluded = serde_json::to_string(&embedded_exclusions()).unwrap_or_else(|_| "[]".into());
    let agent = default_agent();
    // 1. autostrada as server. On threads of its own, like a server in another process.
    let server = match wstest::echo::Background::start("127.0.0.1:0") {
        Ok(s) => s,
        Err(e) => return usage(&format!("cannot start the embedded echo server: {e}")),
    };
    let text = format!(
        r#"{{"outdir": "./reports/servers", "servers": [{{"agent": "{agent}", "url": "ws://{}"}}], "cases": ["*"], "exclude-cases": {excluded}}}"#,
        server.addr()
    );
    let spec = match spec::parse_client(&text, None) {
        Ok(s) => s,
        Err(e) => return usage(&e.to_string()),
    };
    eprintln!("\n== autostrada as server: wstest as fuzzing client");
    let as_server = execute(cli, spec).await;
    drop(server);
    // 2. autostrada as client, driving wstest's fuzzing server.
    let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
        Ok(l) => l,
        Err(e) => return usage(&format!("cannot start the embedded fuzzing server: {e}")),
    };
    let Ok(addr) = listener.local_addr() else { return usage("the embedded fuzzing server has no address") };
    let text = format!(
        r#"{{"url": "ws://{addr}", "outdir": "./reports/clients", "cases": ["*"], "exclude-cases": {excluded}}}"#
    );
    let spec = match spec::parse_server(&text, None) {
        Ok(s) => s,
        Err(e) => return usage(&e.to_string()),
    };
    eprintln!("\n== autostrada as client: wstest as fuzzing server");
    // The client on threads of its own, like a client in another process.
    let client = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        runtime
            .block_on(wstest::testee::run(&format!("ws://{addr}"), &agent, 4, |_, _| {}))
            .map_err(std::io::Error::other)
    });
    let done = async move {
        while !client.is_finished() {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        if let Ok(Err(e)) = client.join() {
            eprintln!("wstest: the embedded testee client stopped: {e}");
        }
    };
    let as_client = serve_and_report(cli, spec, listener, done).await;
    eprintln!(
        "\nwstest: the default run leaves out the compression cases above 32 KiB per message; {FULL_COMPRESSION}"
    );
    if as_server == ExitCode::SUCCESS && as_client == ExitCode::SUCCESS { ExitCode::SUCCESS } else { ExitCode::from(1) }
}
