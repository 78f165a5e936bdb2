//! Scheduling: runs the selected cases against every server, one at a time
//! in the reference's order or, with `--jobs`, several at a time (the timed
//! 9.x cases alone); cuts off a case that outlives
//! its hard deadline; fails only the case whose connection is refused; and
//! on Ctrl-C stops and returns what finished.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Instant;

use autostrada::Role;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::cases::message_cache::MessageCache;
use crate::cases::{self, CaseDef, CaseRun};
use crate::report::CaseResult;
use crate::spec::{ClientSpec, Server};
use crate::verdict::{Verdict, judge};
use crate::wire::{ClientOptions, Peer, run_client};

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Cases in flight at once.
    pub jobs: usize,
    /// No progress bar and no per-case lines.
    pub quiet: bool,
    /// Print a line per case.
    pub debug: bool,
    /// How long a timed (9.x) case polls the socket for the server's reply
    /// before sleeping; `None` to always sleep. Default
    /// [`RunOptions::BUSY_POLL`]: costs a little CPU during the timed cases,
    /// keeps the client's wake-up latency out of their durations.
    pub busy_poll: Option<std::time::Duration>,
    /// Cuts off any case after this long (`None`: each case's own limit, its
    /// timeout plus 30 s). A cut-off case is judged on what it saw, with
    /// its wire log: wstest drops TCP, as a client that gives up would.
    pub case_timeout: Option<std::time::Duration>,
}

impl RunOptions {
    /// The default busy-poll budget: a few times a healthy server's
    /// turnaround on loopback.
    pub const BUSY_POLL: std::time::Duration = std::time::Duration::from_micros(50);

    /// The default number of jobs: one, a case at a time in the
    /// reference's order, as the reference runs them. Its verdicts assume a
    /// server that serves one connection at a time is fine, and so does a
    /// server that shares messages between connections (a chat room
    /// echoing to everyone): run in parallel, the first would make queued
    /// cases miss their opening-handshake deadline, the second would cross
    /// their messages. Ask for more with [`RunOptions::jobs`] when the
    /// server keeps connections apart.
    #[must_use]
    pub fn default_jobs() -> usize {
        1
    }

    /// A number of jobs that overlaps the cases that mostly wait on timers
    /// without starving the server under test: 8 per core, 4 to 32.
    #[must_use]
    pub fn parallel_jobs() -> usize {
        std::thread::available_parallelism().map_or(2, usize::from).saturating_mul(8).clamp(4, 32)
    }
}

/// Every case with its 1-based position in the reference's full list.
fn registry() -> Vec<(usize, CaseDef)> {
    cases::all().into_iter().enumerate().map(|(i, c)| (i + 1, c)).collect()
}

/// Runs one case against one server.
/// What every case of a run shares.
struct RunShared {
    spec: Arc<ClientSpec>,
    busy_poll: Option<std::time::Duration>,
    case_timeout: Option<std::time::Duration>,
    cache: Arc<MessageCache>,
}

async fn run_case(
    server: Arc<Server>,
    agent: Arc<str>,
    index: usize,
    def: CaseDef,
    shared: Arc<RunShared>,
) -> Option<CaseResult> {
    let RunShared { spec, busy_poll, case_timeout, cache } = &*shared;
    let (spec, busy_poll, case_timeout) = (spec.clone(), *busy_poll, *case_timeout);
    let mut run = CaseRun::new(&def);
    run.compression.cache = Some(cache.clone());
    let mut peer = Peer::new(Role::Client);
    peer.timeouts = server.timeouts;
    peer.auto_fragment_size = server.auto_fragment_size;
    let mut options = ClientOptions {
        tls: server.tls.as_ref().map(|t| t.0.clone()),
        protocols: server.protocols.clone(),
        deflate_offers: def.deflate_offers(),
        ..ClientOptions::default()
    };
    if def.runs_alone() {
        options.drive.busy_poll = busy_poll;
    }
    if let Some(origin) = &server.origin {
        options.headers.push(("Origin".into(), origin.clone()));
    }
    if !server.protocols.is_empty() {
        options.headers.push(("Sec-WebSocket-Protocol".into(), server.protocols.join(",")));
    }
    let skip_agent = agent.clone();
    let skip_id = def.id.clone();
    let skip = move |_: Option<&str>| spec.excluded_for(&skip_agent, &skip_id);
    let deadline = case_timeout.map_or_else(|| def.hard_deadline(), |t| t.min(def.hard_deadline()));
    options.drive.hard_deadline = Some(deadline);
    let outcome =
        tokio::time::timeout(net(deadline, &server), run_client(&server.target, &options, peer, &mut run, &skip)).await;
    let mut result = CaseResult {
        agent: agent.to_string(),
        id: def.id.clone(),
        index,
        description: def.description.clone(),
        expectation: def.expectation.clone(),
        expected: Vec::new(),
        expected_close: None,
        verdict: Verdict::not_run(""),
        session: None,
        duration_ms: 0,
        report_time: def.report_time,
        report_compression: def.reports_compression(),
        traffic: None,
    };
    match outcome {
        Err(_) => {
            result.verdict = Verdict::not_run(&format!(
                "The case did not finish within its hard deadline of {} s.",
                deadline.as_secs()
            ));
        }
        Ok(Err(e)) => {
            result.verdict = Verdict::not_run(&format!("Connection to {} failed: {e}", server.url));
        }
        Ok(Ok(session)) => {
            if session.skipped {
                return None;
            }
            result.verdict = judge(&run, &session, def.post);
            result.traffic = run.compression.traffic;
            result.duration_ms = session.open_time.map_or(0, |t| (t.elapsed().as_secs_f64() * 1000.0).round() as u64);
            if let Some(expect) = run.expect.as_ref().filter(|_| session.opened) {
                result.expected = expect.outcomes.clone();
                result.expected_close = Some(expect.close.clone());
            } else if def.reports_compression() {
                // The reference's 12.x/13.x cases set expectedClose when the
                // case object is built (case12_x_x.py init()), before the
                // handshake: a case whose handshake failed still reports it
                // (every other case sets it in onOpen and reports {}).
                result.expected_close = Some(def.expect.close.clone());
            }
            result.session = Some(session);
        }
    }
    Some(result)
}

/// The net under a connection that ends itself at its hard `deadline`: for a
/// connect or an opening handshake that never finishes (which nothing else
/// bounds when the spec's `openHandshakeTimeout` is 0).
fn net(deadline: std::time::Duration, server: &Server) -> std::time::Duration {
    deadline.saturating_add(server.timeouts.open_handshake).saturating_add(std::time::Duration::from_secs(35))
}

/// Learns a server's agent name from its `Server` header (reference rule:
/// "UnknownServer" without one).
async fn learn_agent(server: &Server) -> String {
    let Some(def) = cases::all().into_iter().next() else {
        return "UnknownServer".into();
    };
    let mut run = CaseRun::new(&def);
    let mut peer = Peer::new(Role::Client);
    peer.timeouts = server.timeouts;
    // Close right after opening: we only want the header. Bounded as a case
    // is, since a timeout of 0 arms no timer to end a silent server's wait.
    let mut options = ClientOptions { tls: server.tls.as_ref().map(|t| t.0.clone()), ..ClientOptions::default() };
    options.drive.hard_deadline = Some(def.hard_deadline());
    let probe = run_client(&server.target, &options, peer, &mut run, &|_| true);
    let session = tokio::time::timeout(net(def.hard_deadline(), server), probe).await.ok().and_then(Result::ok);
    let agent = session.and_then(|s| s.server_header).unwrap_or_else(|| "UnknownServer".into());
    fit_agent(agent)
}

/// A `Server` header too long for report file names, cut to its longest
/// prefix that fits, with a warning: the reports are still written.
fn fit_agent(agent: String) -> String {
    if crate::report::check_agent(&agent).is_ok() {
        return agent;
    }
    let cut = cut_to_fit(&agent, "");
    eprintln!(
        "wstest: the server's Server header is too long to name its report files; its first {} octets name \
         them: give the server an \"agent\" in the spec to choose the name",
        cut.len()
    );
    cut
}

/// The longest prefix of `name` that, followed by `suffix`, still names
/// report files (see [`crate::report::check_agent`]), with the suffix.
fn cut_to_fit(name: &str, suffix: &str) -> String {
    // The file-name part only grows as the prefix does: search the cut.
    let ends: Vec<usize> = name.char_indices().map(|(i, c)| i + c.len_utf8()).collect();
    let fits = ends.partition_point(|&e| crate::report::check_agent(&format!("{}{suffix}", &name[..e])).is_ok());
    let end = if fits == 0 { 0 } else { ends[fits - 1] };
    format!("{}{suffix}", &name[..end])
}

/// A learnt agent name that files its reports apart from every name in
/// `taken` (the spec's own agents and the names learnt before it): two
/// servers that send the same `Server` header (or none) would otherwise
/// overwrite each other's reports and index rows. A clash gets " 2",
/// " 3", ... and a warning.
fn distinct_agent(learnt: String, taken: &[String], url: &str) -> String {
    let clashes = |name: &str| taken.iter().any(|a| crate::report::agent_file(a) == crate::report::agent_file(name));
    if !clashes(&learnt) {
        return learnt;
    }
    // A name cut to the longest that fits has no room for the suffix: it
    // is cut further, so that every report file can still be written.
    let agent = (2..).map(|n| cut_to_fit(&learnt, &format!(" {n}"))).find(|a| !clashes(a)).unwrap_or(learnt);
    eprintln!(
        "wstest: the server at {url} names itself like another server of the spec; its reports are filed as \
         {:?}: give each server an \"agent\" in the spec to choose the names",
        crate::report::console::printable(&agent)
    );
    agent
}

/// Runs `spec`. Stops scheduling when `cancel` resolves and returns what
/// finished, sorted by agent and case id.
pub async fn run(
    spec: ClientSpec,
    options: &RunOptions,
    cancel: impl std::future::Future<Output = ()>,
) -> Vec<CaseResult> {
    let mut results = Vec::new();
    run_with(spec, options, cancel, |r| results.push(r)).await;
    crate::report::sort(&mut results);
    results
}

/// Runs `spec`, handing each case to `on_result` the moment it finishes (in
/// finishing order). Stops scheduling when `cancel` resolves; returns how
/// many cases finished.
pub async fn run_with(
    spec: ClientSpec,
    options: &RunOptions,
    cancel: impl std::future::Future<Output = ()>,
    mut on_result: impl FnMut(CaseResult),
) -> usize {
    let spec = Arc::new(spec);
    let registry = registry();
    let selected: Vec<&(usize, CaseDef)> = registry.iter().filter(|(_, c)| spec.cases.contains(&c.id)).collect();
    // Names given in the spec first: a learnt name must not take theirs.
    let mut names: Vec<String> = spec.servers.iter().filter_map(|s| s.agent.clone()).collect();
    let mut servers: Vec<(Arc<Server>, Arc<str>)> = Vec::new();
    for s in &spec.servers {
        let agent = match &s.agent {
            Some(a) => a.clone(),
            None => {
                let agent = distinct_agent(learn_agent(s).await, &names, &s.url);
                names.push(agent.clone());
                agent
            }
        };
        servers.push((Arc::new(s.clone()), Arc::<str>::from(agent)));
    }
    let total = (selected.len() * servers.len()) as u64;
    // The compression cases' messages, compressed once for the whole run.
    let cache = Arc::new(MessageCache::new(
        selected
            .iter()
            .filter_map(|(_, def)| def.compression().map(|c| (c.corpus, c.len)))
            .flat_map(|sequence| std::iter::repeat_n(sequence, servers.len())),
    ));
    let bar =
        if options.quiet || !std::io::stdout().is_terminal() { ProgressBar::hidden() } else { ProgressBar::new(total) };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} cases  {elapsed}  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let jobs = options.jobs.max(1);
    let shared = Arc::new(RunShared {
        spec: spec.clone(),
        busy_poll: options.busy_poll,
        case_timeout: options.case_timeout,
        cache,
    });
    let semaphore = Arc::new(Semaphore::new(jobs));
    let mut tasks = JoinSet::new();
    let mut finished = 0;
    let started = Instant::now();
    tokio::pin!(cancel);
    let mut cancelled = false;
    // One job: every case alone, in the reference's order, through the one
    // permit (no lane of its own for any kind of case).
    let sequential = jobs == 1;
    // Else timer-paced cases first, on their own lane: they mostly wait, so
    // they overlap the rest of the run without disturbing the timed cases.
    let (waiting, busy): (Vec<&(usize, CaseDef)>, Vec<_>) =
        selected.iter().copied().partition(|(_, def)| !sequential && def.mostly_waits());
    let lane = Arc::new(Semaphore::new(jobs));
    // Compression cases: a few at a time, however many jobs. Their timeouts
    // (60 s for 1000 small messages) assume a server busy with one case, as
    // under the reference; a single-threaded server given a dozen of them at
    // once misses those deadlines. One per core, plus one to fill the gaps
    // while a case waits for its echo, keeps both sides busy.
    let compression_lane = Arc::new(Semaphore::new(jobs.min(cores() + 1)));
    'schedule: for (index, def) in waiting.into_iter().chain(busy) {
        for (server, agent) in &servers {
            // Timed cases take every permit of the main lane: they run alone.
            let (sem, want) = if sequential {
                (&semaphore, 1)
            } else if def.mostly_waits() {
                (&lane, 1)
            } else if def.runs_alone() {
                (&semaphore, jobs as u32)
            } else {
                (&semaphore, 1)
            };
            let extra = (!sequential && def.reports_compression()).then(|| compression_lane.clone());
            let permit = loop {
                tokio::select! {
                    biased;
                    () = &mut cancel => { cancelled = true; break 'schedule; }
                    p = acquire(extra.clone(), sem.clone(), want) => break p,
                    Some(done) = tasks.join_next(), if !tasks.is_empty() => collect(done, &mut finished, &mut on_result, &bar, options),
                }
            };
            let Ok(permit) = permit else { break 'schedule };
            let (server, agent, def, shared) = (server.clone(), agent.clone(), def.clone(), shared.clone());
            let index = *index;
            bar.set_message(def.id.clone());
            tasks.spawn(async move {
                let sequence = def.compression().map(|c| (c.corpus, c.len));
                let r = run_case(server, agent, index, def, shared.clone()).await;
                if let Some(sequence) = sequence {
                    shared.cache.case_done(sequence);
                }
                drop(permit);
                r
            });
        }
    }
    if cancelled {
        tasks.abort_all();
    }
    loop {
        tokio::select! {
            biased;
            () = &mut cancel, if !cancelled => { cancelled = true; tasks.abort_all(); }
            done = tasks.join_next() => match done {
                Some(done) => collect(done, &mut finished, &mut on_result, &bar, options),
                None => break,
            },
        }
    }
    bar.finish_and_clear();
    if options.debug {
        eprintln!("wstest: {finished} results in {:.2} s", started.elapsed().as_secs_f64());
    }
    finished
}

/// Processors this machine gives us.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

/// A case's permits: `want` of `main`, and first one of `extra` if given
/// (held together, released together).
async fn acquire(
    extra: Option<Arc<Semaphore>>,
    main: Arc<Semaphore>,
    want: u32,
) -> Result<(Option<tokio::sync::OwnedSemaphorePermit>, tokio::sync::OwnedSemaphorePermit), tokio::sync::AcquireError> {
    let first = match extra {
        Some(lane) => Some(lane.acquire_owned().await?),
        None => None,
    };
    Ok((first, main.acquire_many_owned(want).await?))
}

fn collect(
    done: Result<Option<CaseResult>, tokio::task::JoinError>,
    finished: &mut usize,
    on_result: &mut impl FnMut(CaseResult),
    bar: &ProgressBar,
    options: &RunOptions,
) {
    bar.inc(1);
    if let Ok(Some(r)) = done {
        if options.debug {
            bar.suspend(|| {
                eprintln!(
                    "wstest: {} {}: {} / {} ({} ms)",
                    crate::report::console::printable(&r.agent),
                    r.id,
                    r.verdict.behavior,
                    r.verdict.behavior_close,
                    r.duration_ms
                )
            });
        }
        *finished += 1;
        on_result(r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_that_name_themselves_alike_get_distinct_agents() {
        // "foo" is a later server's name in the spec: no learnt name takes it.
        let mut taken = vec!["foo".to_owned()];
        for (learnt, filed) in [
            ("UnknownServer", "UnknownServer"),
            ("UnknownServer", "UnknownServer 2"),
            ("unknownServer", "unknownServer 3"),
            ("Foo", "Foo 2"),
            ("Other/1.0", "Other/1.0"),
        ] {
            let agent = distinct_agent(learnt.into(), &taken, "ws://h:1");
            assert_eq!(agent, filed);
            taken.push(agent);
        }
    }

    #[test]
    fn a_server_header_too_long_for_file_names_is_cut_to_fit() {
        assert_eq!(fit_agent("AutobahnPython/0.6.0".into()), "AutobahnPython/0.6.0");
        let long = format!("Server {}", "ab ".repeat(200));
        let cut = fit_agent(long.clone());
        assert!(long.starts_with(&cut) && crate::report::check_agent(&cut).is_ok());
        assert_eq!(crate::report::agent_file(&cut).len(), crate::report::MAX_AGENT_FILE);
    }

    #[test]
    fn a_cut_name_that_clashes_is_cut_further_to_make_room_for_its_number() {
        // Two servers sending the same 300-letter header: both cut to fit,
        // the second then numbered, and still short enough.
        let first = fit_agent("a".repeat(300));
        let mut taken = vec![first.clone()];
        for n in 2..=12 {
            let agent = distinct_agent(first.clone(), &taken, "ws://h:1");
            assert!(agent.ends_with(&format!(" {n}")), "{agent}");
            assert!(crate::report::check_agent(&agent).is_ok(), "{n}: {} letters", agent.len());
            taken.push(agent);
        }
    }
}
