//! `wsbench compare`: every subject on the same cells in one run, cell by
//! cell (each cell's subjects back to back), the servers pinned to one set
//! of CPUs and the load to another.
//! Each measurement is its own `wsbench load` (or `wsbench idle`) process
//! under `taskset`, so the load never shares a core with the server.

use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::cells::{Cell, Kind};
use crate::idle::IdleResult;
use crate::load::LoadResult;
use crate::servers::Subject;

/// How `compare` runs: `wsbench compare`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// Cells as CONNS:SIZE:INFLIGHT[:binary|text|deflate], comma-separated
    /// (default: the full matrix of issue 11, 28 cells).
    #[arg(long, value_delimiter = ',', value_parser = Cell::parse)]
    pub cells: Option<Vec<Cell>>,
    /// Subjects, comma-separated (default: every one of them).
    #[arg(long, value_delimiter = ',', value_enum)]
    pub subjects: Option<Vec<Subject>>,
    /// Seconds measured per cell.
    #[arg(long, default_value_t = 2.0)]
    pub secs: f64,
    /// Seconds of warm-up per cell, not measured.
    #[arg(long, default_value_t = 0.5)]
    pub warmup: f64,
    /// CPUs the servers run on (a `taskset -c` list).
    #[arg(long, default_value = "0")]
    pub server_cpus: String,
    /// CPUs the load runs on (a `taskset -c` list).
    #[arg(long, default_value = "1")]
    pub load_cpus: String,
    /// Idle connections per memory row; 0 skips the memory rows.
    #[arg(long, default_value_t = 10_000)]
    pub idle_conns: usize,
    /// Output directory.
    #[arg(long, default_value = "target/wsbench")]
    pub out: PathBuf,
    /// Send the messages that a batch of echoes lets go in one write,
    /// not one write each (see `load --batch-writes`).
    #[arg(long)]
    pub batch_writes: bool,
    /// Rounds per cell: every subject runs every cell once per round
    /// (the order of a cell's subjects turning from round to round), and
    /// each figure is the median of the rounds. Steadier on a noisy
    /// machine, at N times the time (the memory rows run once).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=99))]
    pub repeat: u16,
}

impl Options {
    /// The cells, in table order: those asked for, or the whole matrix.
    fn cells(&self) -> Vec<Cell> {
        first_of_each(self.cells.clone().unwrap_or_else(Cell::default_matrix))
    }

    /// The subjects, in table order: those asked for, or all of them.
    fn subjects(&self) -> Vec<Subject> {
        first_of_each(self.subjects.clone().unwrap_or_else(|| Subject::ALL.to_vec()))
    }
}

/// `items` in order without repeats: a cell or subject asked for twice is
/// measured once.
fn first_of_each<T: PartialEq>(items: Vec<T>) -> Vec<T> {
    let mut kept: Vec<T> = Vec::with_capacity(items.len());
    for item in items {
        if !kept.contains(&item) {
            kept.push(item);
        }
    }
    kept
}

/// One subject on one cell.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Run {
    /// The subject.
    pub subject: Subject,
    /// The cell.
    pub cell: Cell,
    /// What it measured (with `--repeat`, each figure the median of the
    /// rounds that measured), or why it could not.
    pub result: Result<LoadResult, String>,
    /// Every round, when there was more than one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rounds: Vec<Result<LoadResult, String>>,
}

/// One subject's memory per idle connection.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Memory {
    /// The subject.
    pub subject: Subject,
    /// Without compression.
    pub plain: Option<Result<IdleResult, String>>,
    /// With permessage-deflate negotiated.
    pub deflate: Option<Result<IdleResult, String>>,
}

/// Everything one `compare` measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outcome {
    /// How it ran: the command line, the machine, the CPUs.
    pub setup: Setup,
    /// Every (subject, cell) run.
    pub runs: Vec<Run>,
    /// Memory rows.
    pub memory: Vec<Memory>,
}

/// The circumstances of a run, written beside its figures.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Setup {
    /// The command line.
    pub command: String,
    /// CPUs the servers ran on.
    pub server_cpus: String,
    /// CPUs the load ran on.
    pub load_cpus: String,
    /// Measured seconds per cell.
    pub secs: f64,
    /// Warm-up seconds per cell.
    pub warmup: f64,
    /// Rounds per cell, whose median each figure is (1 in files written
    /// before `--repeat` existed).
    #[serde(default = "one")]
    pub repeat: usize,
    /// `model name` from /proc/cpuinfo and the CPU count.
    pub machine: String,
}

/// Whether `subject` runs `cell`: compression cells only for the subjects
/// that negotiate permessage-deflate; the others for the Rust subjects.
#[must_use]
pub fn applies(subject: Subject, cell: &Cell) -> bool {
    match cell.kind {
        Kind::Deflate => subject.deflates(),
        Kind::Binary | Kind::Text => !subject.deflate_only(),
    }
}

/// Runs everything and returns what it measured.
///
/// # Errors
/// When this binary cannot be found or the output directory created.
pub fn run(opts: &Options) -> Result<Outcome, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find the wsbench binary: {e}"))?;
    // The servers' logs are this run's alone (each server appends to its own).
    let _ = std::fs::remove_dir_all(opts.out.join("logs"));
    std::fs::create_dir_all(opts.out.join("logs")).map_err(|e| format!("cannot create {}: {e}", opts.out.display()))?;
    let repeat = usize::from(opts.repeat.max(1));
    // Each subject's cells, in table order.
    let cells = opts.cells();
    let plan: Vec<(Subject, Vec<Cell>)> =
        opts.subjects().into_iter().map(|s| (s, cells.iter().copied().filter(|c| applies(s, c)).collect())).collect();
    let mut total = 0;
    for (s, cells) in &plan {
        total += (cells.len() * repeat) as u64;
        if opts.idle_conns > 0 {
            total += u64::from(*s != Subject::AutostradaLowMemory) + u64::from(s.deflates());
        }
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
            .expect("valid progress template")
            .progress_chars("=> "),
    );
    // rounds[subject][cell]: one result per round. Within a round the
    // cells go one after another, and every subject runs a cell before the
    // next cell starts, so that a machine that drifts (a cloud VM's speed
    // wanders over minutes) shifts the subjects of a cell together rather
    // than apart; which subject goes first turns from cell to cell and
    // from round to round.
    let mut rounds: Vec<Vec<Vec<Result<LoadResult, String>>>> =
        plan.iter().map(|(_, cells)| vec![Vec::with_capacity(repeat); cells.len()]).collect();
    for round in 0..repeat {
        let tag = if repeat > 1 { format!(" (round {}/{repeat})", round + 1) } else { String::new() };
        measure_round(&exe, opts, &plan, &cells, round, &mut rounds, &bar, &tag);
    }
    // The memory rows once, each on a fresh server, after the round's
    // servers are gone.
    let mut memory = Vec::new();
    if opts.idle_conns > 0 {
        for (subject, _) in &plan {
            memory.push(measure_memory(&exe, opts, *subject, &bar));
        }
    }
    let mut runs = Vec::new();
    for ((subject, cells), results) in plan.into_iter().zip(rounds) {
        for (cell, rounds) in cells.into_iter().zip(results) {
            let result = median(&rounds);
            let rounds = if repeat > 1 { rounds } else { Vec::new() };
            runs.push(Run { subject, cell, result, rounds });
        }
    }
    bar.finish_and_clear();
    Ok(Outcome { setup: setup(opts), runs, memory })
}

/// One round: every subject's server started, then cell by cell, every
/// subject that the cell applies to, adding each result to its cell's
/// rounds. A server is stopped (`SIGSTOP`) outside its turns, so that what
/// it does after a cell (tearing down 500 connections, a garbage
/// collection) never runs on the server CPUs while another is measured.
#[allow(clippy::too_many_arguments)]
fn measure_round(
    exe: &Path,
    opts: &Options,
    plan: &[(Subject, Vec<Cell>)],
    cells: &[Cell],
    round: usize,
    rounds: &mut [Vec<Vec<Result<LoadResult, String>>>],
    bar: &ProgressBar,
    tag: &str,
) {
    let mut servers: Vec<Option<Result<Server, String>>> = plan
        .iter()
        .map(|(subject, cells)| {
            if cells.is_empty() {
                return None;
            }
            bar.set_message(format!("starting {}{tag}", subject.name()));
            let server = Server::start(*subject, exe, opts).and_then(|server| server.pause().map(|()| server));
            if let Err(e) = &server {
                say(bar, &format!("wsbench: {}{tag}: {e}", subject.name()));
            }
            Some(server)
        })
        .collect();
    for (index, &cell) in cells.iter().enumerate() {
        // The subjects this cell applies to, the first one turning.
        let mut turn: Vec<usize> = (0..plan.len()).filter(|&s| plan[s].1.contains(&cell)).collect();
        if !turn.is_empty() {
            let first = (index + round) % turn.len();
            turn.rotate_left(first);
        }
        for s in turn {
            let (subject, subject_cells) = &plan[s];
            let Some(at) = subject_cells.iter().position(|c| *c == cell) else { continue };
            // A server that died since its last turn is started again, so
            // that one crash costs its cells in this round, not the round.
            if let Some(Ok(server)) = &mut servers[s]
                && let Some(status) = server.exited()
            {
                say(
                    bar,
                    &format!("wsbench: {}{tag}: the server had exited ({status}); starting it again", subject.name()),
                );
                servers[s] =
                    Some(Server::start(*subject, exe, opts).and_then(|server| server.pause().map(|()| server)));
            }
            let result = match &mut servers[s] {
                Some(Ok(server)) => {
                    bar.set_message(format!("{} {cell}{tag}", subject.name()));
                    let result = server.resume().and_then(|()| {
                        let result = load(exe, opts, *subject, server, cell);
                        server.pause().and(result)
                    });
                    // Name the cause when it was the server's death.
                    let result = result.map_err(|e| match server.exited() {
                        Some(status) => format!("{e} (the server exited: {status}; see {})", server.log.display()),
                        None => e,
                    });
                    if let Err(e) = &result {
                        say(bar, &format!("wsbench: {} {cell}{tag}: {e}", subject.name()));
                    }
                    result
                }
                Some(Err(e)) => Err(e.clone()),
                None => continue,
            };
            rounds[s][at].push(result);
            bar.inc(1);
        }
    }
}

/// `subject`'s memory per idle connection, without and with compression
/// as it applies, each on a fresh server.
fn measure_memory(exe: &Path, opts: &Options, subject: Subject, bar: &ProgressBar) -> Memory {
    let mut row = Memory { subject, plain: None, deflate: None };
    for deflate in [false, true] {
        if (deflate && !subject.deflates()) || (!deflate && subject == Subject::AutostradaLowMemory) {
            continue;
        }
        bar.set_message(format!("{} idle{}", subject.name(), if deflate { " deflate" } else { "" }));
        // A fresh server for each: what earlier load left in its heap would blur the growth.
        let result = Server::start(subject, exe, opts).and_then(|server| idle(exe, opts, subject, &server, deflate));
        if let Err(e) = &result {
            say(bar, &format!("wsbench: {} idle: {e}", subject.name()));
        }
        *(if deflate { &mut row.deflate } else { &mut row.plain }) = Some(result);
        bar.inc(1);
    }
    row
}

/// The median of the rounds that measured, figure by figure (so the rate
/// and the CPU may come from different rounds, and the latency maximum is
/// the median of the rounds' maxima); errors add up. The first round's
/// error when none measured; `results.md` lists rounds that failed.
fn median(rounds: &[Result<LoadResult, String>]) -> Result<LoadResult, String> {
    let ok: Vec<&LoadResult> = rounds.iter().filter_map(|r| r.as_ref().ok()).collect();
    if ok.is_empty() {
        return rounds.first().cloned().unwrap_or_else(|| Err("not run".into()));
    }
    let mid = |f: &dyn Fn(&LoadResult) -> f64| median_of(ok.iter().map(|r| f(r)).collect());
    let cpu: Vec<f64> = ok.iter().filter_map(|r| r.server_cpu_us_per_msg).collect();
    Ok(LoadResult {
        messages: mid(&|r| r.messages as f64) as u64,
        secs: mid(&|r| r.secs),
        msgs_per_sec: mid(&|r| r.msgs_per_sec),
        mb_per_sec: mid(&|r| r.mb_per_sec),
        latency_us: std::array::from_fn(|i| mid(&|r| r.latency_us[i])),
        server_cpu_us_per_msg: (!cpu.is_empty()).then(|| median_of(cpu)),
        errors: ok.iter().map(|r| r.errors).sum(),
    })
}

/// The median of `v` (not empty).
fn median_of(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

fn setup(opts: &Options) -> Setup {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, v)| v.trim().to_owned()))
        .unwrap_or_else(|| "unknown CPU".into());
    let cpus = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    Setup {
        command: std::env::args().collect::<Vec<_>>().join(" "),
        server_cpus: opts.server_cpus.clone(),
        load_cpus: opts.load_cpus.clone(),
        secs: opts.secs,
        warmup: opts.warmup,
        repeat: usize::from(opts.repeat),
        machine: format!("{model}, {cpus} CPUs"),
    }
}

/// Prints a line above the progress bar, also when the bar is hidden
/// (standard error not a terminal: a CI log, `nohup`), where
/// `ProgressBar::println` would drop it.
fn say(bar: &ProgressBar, line: &str) {
    bar.suspend(|| eprintln!("{line}"));
}

/// A running echo server, killed when dropped.
struct Server {
    child: Child,
    addr: String,
    /// Where its standard output and error go (appended to, one header
    /// line per start, so that a crash in an early round stays readable).
    log: PathBuf,
}

impl Server {
    fn start(subject: Subject, exe: &Path, opts: &Options) -> Result<Self, String> {
        let port = free_port()?;
        let addr = format!("127.0.0.1:{port}");
        let log_path = opts.out.join("logs").join(format!("{}.log", subject.name()));
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| format!("cannot open {}: {e}", log_path.display()))?;
        let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        writeln!(log, "== wsbench: starting {} on {addr} (unix time {})", subject.name(), since_epoch.as_secs())
            .map_err(|e| format!("cannot write {}: {e}", log_path.display()))?;
        let inner = subject.command(exe, &addr);
        // taskset execs the server, so the child's pid is the server's.
        let mut cmd = Command::new("taskset");
        cmd.arg("-c").arg(&opts.server_cpus).arg(inner.get_program()).args(inner.get_args());
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start taskset (util-linux) for {}: {e}", subject.name()))?;
        let mut server = Self { child, addr, log: log_path.clone() };
        // Script subjects install their library on first use: give them time.
        let deadline = Instant::now() + Duration::from_secs(180);
        while TcpStream::connect(&server.addr).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!("the server exited ({status}) before listening; see {}", log_path.display()));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the server did not listen on {} within 180 s; see {}",
                    server.addr,
                    log_path.display()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(server)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// How the server ended, if it has.
    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Stops the server's process (`SIGSTOP`): it uses no CPU until
    /// [`Server::resume`]; the kernel still queues connections for it.
    fn pause(&self) -> Result<(), String> {
        self.signal("-STOP")
    }

    /// Lets a paused server run again (`SIGCONT`).
    fn resume(&self) -> Result<(), String> {
        self.signal("-CONT")
    }

    /// Sends `signal` with the shell's `kill` (a builtin of every POSIX
    /// shell, so nothing to install).
    fn signal(&self, signal: &str) -> Result<(), String> {
        let status = Command::new("sh")
            .args(["-c", "kill \"$1\" \"$2\"", "sh", signal, &self.pid().to_string()])
            .status()
            .map_err(|e| format!("cannot run sh to send {signal}: {e}"))?;
        if status.success() { Ok(()) } else { Err(format!("kill {signal} {} failed ({status})", self.pid())) }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot pick a free port: {e}"))?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

/// Runs `wsbench load` pinned to the load CPUs and parses its JSON line.
fn load(exe: &Path, opts: &Options, subject: Subject, server: &Server, cell: Cell) -> Result<LoadResult, String> {
    let mut cmd = Command::new("taskset");
    cmd.arg("-c").arg(&opts.load_cpus).arg(exe).arg("load");
    cmd.args(["--addr", &server.addr, "--cell", &cell_arg(&cell)]);
    cmd.args(["--secs", &opts.secs.to_string(), "--warmup", &opts.warmup.to_string()]);
    cmd.args(["--server-pid", &server.pid().to_string(), "--json"]);
    if !subject.is_websocket() {
        cmd.arg("--raw");
    }
    if opts.batch_writes {
        cmd.arg("--batch-writes");
    }
    json_of(cmd)
}

/// Runs `wsbench idle` pinned to the load CPUs and parses its JSON line.
fn idle(exe: &Path, opts: &Options, subject: Subject, server: &Server, deflate: bool) -> Result<IdleResult, String> {
    let mut cmd = Command::new("taskset");
    cmd.arg("-c").arg(&opts.load_cpus).arg(exe).arg("idle");
    cmd.args(["--addr", &server.addr, "--conns", &opts.idle_conns.to_string()]);
    cmd.args(["--server-pid", &server.pid().to_string(), "--json"]);
    if deflate {
        cmd.arg("--deflate");
    }
    if !subject.is_websocket() {
        cmd.arg("--raw");
    }
    json_of(cmd)
}

fn json_of<T: serde::de::DeserializeOwned>(mut cmd: Command) -> Result<T, String> {
    let out = cmd.stdin(Stdio::null()).output().map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(stderr.trim().lines().last().unwrap_or("the load process failed").to_owned());
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or("");
    serde_json::from_str(line).map_err(|e| format!("unexpected output of the load process ({e}): {line:?}"))
}

/// The cell as `wsbench load --cell` takes it.
#[must_use]
pub fn cell_arg(cell: &Cell) -> String {
    let kind = match cell.kind {
        Kind::Binary => "binary",
        Kind::Text => "text",
        Kind::Deflate => "deflate",
    };
    format!("{}:{}:{}:{kind}", cell.conns, cell.size, cell.inflight)
}

fn one() -> usize {
    1
}

/// Writes `results.json`, `results.md` and the charts into `out`; returns the markdown.
///
/// # Errors
/// When a file cannot be written.
pub fn write(outcome: &Outcome, out: &Path) -> Result<String, String> {
    let json = serde_json::to_string_pretty(outcome).map_err(|e| e.to_string())?;
    let path = out.join("results.json");
    std::fs::write(&path, json).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    render(outcome, out)
}

/// Writes `results.md` and the charts for `outcome` into `out` (not
/// `results.json`); returns the markdown. `wsbench report` uses it to redraw
/// a saved run.
///
/// # Errors
/// When a file cannot be written.
pub fn render(outcome: &Outcome, out: &Path) -> Result<String, String> {
    let md = crate::table::markdown(outcome);
    let path = out.join("results.md");
    std::fs::write(&path, &md).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    crate::chart::write_all(outcome, out)?;
    Ok(md)
}

/// Reads a `results.json` that `compare` wrote.
///
/// # Errors
/// When the file cannot be read or is not a `compare` result, naming the
/// file and what is wrong with it.
pub fn read(path: &Path) -> Result<Outcome, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a results.json written by `wsbench compare`: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(rate: f64, cpu: Option<f64>, errors: u64) -> Result<LoadResult, String> {
        Ok(LoadResult {
            messages: rate as u64 * 2,
            secs: 2.0,
            msgs_per_sec: rate,
            mb_per_sec: rate / 1e6,
            latency_us: [rate; 5],
            server_cpu_us_per_msg: cpu,
            errors,
        })
    }

    #[test]
    fn a_cell_or_subject_asked_for_twice_runs_once() {
        assert_eq!(first_of_each(vec![3, 1, 3, 2, 1]), vec![3, 1, 2]);
    }

    #[test]
    fn each_figure_is_the_median_of_the_rounds_that_measured() {
        let rounds = [
            measured(300.0, Some(1.0), 0),
            Err("refused".into()),
            measured(100.0, Some(5.0), 1),
            measured(200.0, Some(2.0), 0),
        ];
        let m = median(&rounds).unwrap();
        assert_eq!(m.msgs_per_sec, 200.0);
        assert_eq!(m.latency_us, [200.0; 5]);
        assert_eq!(m.server_cpu_us_per_msg, Some(2.0));
        assert_eq!(m.errors, 1, "errors add up");
        // An even count takes the mean of the middle two; CPU only from rounds that read it.
        let m = median(&[measured(100.0, None, 0), measured(200.0, Some(4.0), 0)]).unwrap();
        assert_eq!(m.msgs_per_sec, 150.0);
        assert_eq!(m.server_cpu_us_per_msg, Some(4.0));
    }

    #[test]
    fn no_round_measured_gives_the_first_error() {
        let e = median(&[Err("first".into()), Err("second".into())]).unwrap_err();
        assert_eq!(e, "first");
        assert_eq!(median(&[measured(1.0, None, 0)]).unwrap().server_cpu_us_per_msg, None);
    }
}
