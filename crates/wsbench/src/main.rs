//! `wsbench`: measures WebSocket echo servers side by side — autostrada, its
//! Rust peers, Node's `ws` and python `websockets` (compression cells), and a
//! raw TCP echo as the ceiling.
//!
//! ```text
//! cargo run --release -p wsbench -- compare              # the whole matrix, ~7 min on 2 cores
//! cargo run --release -p wsbench -- compare --cells 100:20:1,100:1k:16 --secs 3
//! cargo run --release -p wsbench -- compare --repeat 3        # medians of three rounds
//! cargo run --release -p wsbench -- report target/wsbench/results.json  # redraw a saved run
//! cargo run --release -p wsbench -- serve autostrada 127.0.0.1:9001
//! cargo run --release -p wsbench -- load --addr 127.0.0.1:9001 --cell 100:1k:16
//! cargo run --release -p wsbench -- testee-client tokio-tungstenite ws://127.0.0.1:9001
//! ```
//!
//! See `docs/benchmarks.md` for the method and the latest figures.

mod cells;
mod chart;
mod compare;
mod idle;
mod load;
mod payload;
mod procstat;
mod servers;
mod table;
mod testee;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::cells::Cell;
use crate::servers::Subject;

#[derive(Parser)]
#[command(name = "wsbench", version, about = "Measures WebSocket echo servers side by side")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs every subject on every cell, server and load pinned to separate
    /// CPUs, and writes results.md, results.json and SVG charts.
    Compare(compare::Options),
    /// Redraws results.md and the charts from a results.json that `compare`
    /// wrote (after an upgrade of wsbench, or to move a run's figures).
    Report {
        /// The results.json to read.
        #[arg(default_value = "target/wsbench/results.json")]
        json: PathBuf,
        /// Where results.md and the charts go (default: beside the JSON).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Serves one Rust subject's echo (Node's and python's are scripts).
    Serve {
        /// The subject.
        #[arg(value_enum)]
        subject: Subject,
        /// Address to listen on.
        #[arg(default_value = "127.0.0.1:9001")]
        addr: String,
    },
    /// Runs one cell against a server and prints what it measured.
    Load {
        /// The server's host:port.
        #[arg(long)]
        addr: String,
        /// The cell, CONNS:SIZE:INFLIGHT[:binary|text|deflate].
        #[arg(long, value_parser = Cell::parse)]
        cell: Cell,
        /// Seconds measured.
        #[arg(long, default_value_t = 3.0)]
        secs: f64,
        /// Seconds of warm-up, not measured.
        #[arg(long, default_value_t = 0.5)]
        warmup: f64,
        /// The server's process id, for its CPU time per message.
        #[arg(long)]
        server_pid: Option<u32>,
        /// The server is a raw TCP echo: send the payload without framing.
        #[arg(long)]
        raw: bool,
        /// Send the messages that a batch of echoes lets go in one write
        /// (feed, then one flush), not one write each. The load then costs
        /// far less per message, so on a small machine the server, not the
        /// load generator, limits the rate; the server sees bursts.
        #[arg(long)]
        batch_writes: bool,
        /// Print one JSON line instead of a summary.
        #[arg(long)]
        json: bool,
    },
    /// Opens idle connections and reports the server's memory per connection.
    Idle {
        /// The server's host:port.
        #[arg(long)]
        addr: String,
        /// Connections to open.
        #[arg(long, default_value_t = 10_000)]
        conns: usize,
        /// The server's process id (its RSS is read from /proc).
        #[arg(long)]
        server_pid: u32,
        /// Negotiate permessage-deflate and use it once on each connection.
        #[arg(long)]
        deflate: bool,
        /// The server is a raw TCP echo.
        #[arg(long)]
        raw: bool,
        /// Print one JSON line instead of a summary.
        #[arg(long)]
        json: bool,
    },
    /// Drives a fuzzing server (the reference suite's or wstest's) with a
    /// peer library as the client under test, echoing every case.
    TesteeClient {
        /// The library.
        #[arg(value_enum)]
        client: testee::Client,
        /// The fuzzing server, ws://host:port.
        url: String,
        /// The agent name the reports are filed under (default: the library's name).
        #[arg(long)]
        agent: Option<String>,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wsbench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    // One worker per CPU the process may run on: a process pinned to one
    // core by taskset gets one worker, whichever subject it is.
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| format!("cannot start tokio: {e}"))
}

fn secs(v: f64, what: &str) -> Result<Duration, String> {
    Duration::try_from_secs_f64(v).map_err(|_| format!("--{what} {v}: expected a number of seconds ≥ 0"))
}

fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Compare(opts) => {
            secs(opts.secs, "secs")?;
            secs(opts.warmup, "warmup")?;
            let outcome = compare::run(&opts)?;
            let md = compare::write(&outcome, &opts.out)?;
            println!("{md}");
            eprintln!(
                "wsbench: wrote {0}/results.md, results.json, throughput.svg and cpu.svg in {0}",
                opts.out.display()
            );
            Ok(())
        }
        Command::Report { json, out } => {
            let outcome = compare::read(&json)?;
            let out = out.unwrap_or_else(|| json.parent().map_or_else(|| PathBuf::from("."), PathBuf::from));
            std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
            println!("{}", compare::render(&outcome, &out)?);
            eprintln!("wsbench: wrote {0}/results.md, throughput.svg and cpu.svg", out.display());
            Ok(())
        }
        Command::TesteeClient { client, url, agent } => {
            let agent = agent.unwrap_or_else(|| {
                clap::ValueEnum::to_possible_value(&client).map_or_else(String::new, |v| v.get_name().to_owned())
            });
            let count = runtime()?.block_on(testee::run(client, &url, &agent))?;
            eprintln!("wsbench testee-client: {count} cases run as {agent}");
            Ok(())
        }
        Command::Serve { subject, addr } => runtime()?.block_on(servers::serve(subject, &addr)),
        Command::Load { addr, cell, secs: s, warmup, server_pid, raw, batch_writes, json } => {
            let spec = load::LoadSpec {
                addr,
                websocket: !raw,
                cell,
                warmup: secs(warmup, "warmup")?,
                duration: secs(s, "secs")?,
                server_pid,
                batch_writes,
            };
            let r = runtime()?.block_on(load::run(&spec))?;
            if json {
                println!("{}", serde_json::to_string(&r).map_err(|e| e.to_string())?);
            } else {
                let [p50, p90, p99, p999, max] = r.latency_us;
                println!(
                    "{cell}: {} msg/s, {:.1} MB/s; latency µs p50 {p50:.0} p90 {p90:.0} p99 {p99:.0} p99.9 {p999:.0} max {max:.0}; server CPU {}; errors {}",
                    table::rate(r.msgs_per_sec),
                    r.mb_per_sec,
                    r.server_cpu_us_per_msg
                        .map_or_else(|| "not measured (no --server-pid)".into(), |v| format!("{v:.2} µs/msg")),
                    r.errors
                );
            }
            Ok(())
        }
        Command::Idle { addr, conns, server_pid, deflate, raw, json } => {
            let r = runtime()?.block_on(idle::run(&addr, !raw, deflate, conns, server_pid))?;
            if json {
                println!("{}", serde_json::to_string(&r).map_err(|e| e.to_string())?);
            } else {
                println!(
                    "{} idle connections{}: server RSS {} → {} KiB, {:.0} octets per connection",
                    r.conns,
                    if r.deflate { " with permessage-deflate" } else { "" },
                    r.rss_before_kib,
                    r.rss_after_kib,
                    r.bytes_per_conn
                );
            }
            Ok(())
        }
    }
}
