//! The `fuzzingserver` mode: wstest as the server that tests WebSocket
//! *clients*, driven by the client through the reference's URLs:
//!
//! | URL | what it does |
//! |---|---|
//! | `/getCaseCount` | one text message: the number of selected cases |
//! | `/getCaseInfo?case=N` | one text message: `{"id": ..., "description": ...}` of the Nth case |
//! | `/runCase?case=N&agent=A` (or `casetuple=X.Y.Z`) | runs the Nth case for agent A |
//! | `/getCaseStatus?case=N&agent=A` | waits for that case's result, then `{"behavior": ...}` |
//! | `/updateReports?agent=A[&shutdownOnComplete=true]` | waits for the agent's running cases (reports are already written) and stops, if asked |
//! | `/stopServer` | stops the server |
//!
//! Each finished case's report is written at once, with `index.json`, so
//! nothing finished is lost whatever happens later. Several clients may run
//! at once, each under its own agent name. A request wstest cannot serve —
//! an unknown path, a missing agent, a case number out of range — is
//! answered with an HTTP error that says what is wrong, and the server goes
//! on.

mod asked;
mod store;

use std::sync::{Arc, Mutex};

use autostrada::tokio_rustls::TlsAcceptor;
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::cases::message_cache::MessageCache;
use crate::cases::{self, CaseDef, CaseRun};
use crate::report::{self, CaseResult, Index};
use crate::spec::ServerSpec;
use crate::verdict::judge;
use crate::wire::peer::sleep_until_deadline;
use crate::wire::server::{Pending, Refusal, read_request};
use crate::wire::transport::Stream;
use crate::wire::{DriveOptions, Handler, Peer};
use store::{Indexes, never_opened, store};

/// How to run.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Print a line per case and per request.
    pub debug: bool,
    /// Cases run at once, over all clients (at least 1); a further
    /// `/runCase` has its handshake answered at once, and its case starts
    /// when one of them ends. Each running case may hold a message of up to 64 MiB from
    /// its client and a frame of up to 16 MiB for it (9.x), so this bounds
    /// the server's memory whatever its clients do. Default
    /// [`DEFAULT_MAX_CASES`].
    pub max_cases: usize,
}

/// Cases a fuzzing server runs at once unless told otherwise: far more than
/// the one at a time of a usual client, and a ceiling of a few GiB however
/// many connections ask for 16 MiB frames they never read.
pub const DEFAULT_MAX_CASES: usize = 32;

impl Default for Options {
    fn default() -> Self {
        Self { debug: false, max_cases: DEFAULT_MAX_CASES }
    }
}

/// What the server shares between connections.
struct State {
    spec: ServerSpec,
    /// The selected cases, in order: `case=N` is `defs[N - 1]`.
    defs: Vec<CaseDef>,
    /// The compression cases' messages, compressed once for all clients.
    cache: Arc<MessageCache>,
    /// `index.json` as it stands.
    index: Mutex<Index>,
    /// Held while report files are written: the index files' state.
    writing: Mutex<Indexes>,
    /// Finished cases, without their records (for the summary).
    finished: Mutex<Vec<CaseResult>>,
    /// A result was stored.
    stored: Notify,
    /// Cases in progress, per agent.
    running: Mutex<std::collections::BTreeMap<String, usize>>,
    /// Every agent seen, by the part of report file names it gives
    /// ([`report::agent_file`]): a second agent with the same part would
    /// overwrite the first one's reports.
    agents: Mutex<std::collections::HashMap<String, String>>,
    /// One permit per case that may run at once (`Options::max_cases`).
    case_slots: Arc<tokio::sync::Semaphore>,
    /// Someone asked the server to stop.
    stop: Notify,
    options: Options,
    /// `wss://`: the TLS in front of every connection.
    tls: Option<TlsAcceptor>,
}

/// Why the fuzzing server cannot start.
#[derive(Debug)]
pub struct ServeError(pub String);

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ServeError {}

/// Serves until a client asks to stop (`/stopServer`, or `/updateReports`
/// with `shutdownOnComplete`) or `shutdown` resolves. Returns the finished
/// cases of every agent (records dropped), sorted by agent and id.
pub async fn serve(
    spec: ServerSpec,
    listener: TcpListener,
    options: Options,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<Vec<CaseResult>, ServeError> {
    let tls = match &spec.tls {
        Some((cert, key)) => Some(crate::tls::acceptor(cert, key).map_err(ServeError)?),
        None => None,
    };
    let all = cases::all();
    let defs: Vec<CaseDef> = spec.cases.iter().filter_map(|id| all.iter().find(|c| c.id == *id).cloned()).collect();
    let cache = Arc::new(MessageCache::kept(defs.iter().filter_map(|d| d.compression().map(|c| (c.corpus, c.len)))));
    let state = Arc::new(State {
        spec,
        defs,
        cache,
        index: Mutex::new(Index::new()),
        writing: Mutex::new(Indexes::default()),
        finished: Mutex::new(Vec::new()),
        stored: Notify::new(),
        running: Mutex::new(std::collections::BTreeMap::new()),
        agents: Mutex::new(std::collections::HashMap::new()),
        case_slots: Arc::new(tokio::sync::Semaphore::new(options.max_cases.max(1))),
        stop: Notify::new(),
        options,
        tls,
    });
    let connections = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            () = state.stop.notified() => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => {
                    // Past the cap a connection is closed at once: waiting
                    // for a slot here would stop this loop from seeing
                    // `shutdown` and `stop` while clients hold every slot
                    // (a `getCaseStatus` waits as long as its case runs).
                    let Ok(slot) = connections.clone().try_acquire_owned() else {
                        drop(tcp);
                        continue;
                    };
                    let state = state.clone();
                    tokio::spawn(async move {
                        handle(state, tcp).await;
                        drop(slot);
                    });
                }
                // Out of file descriptors, say: back off instead of spinning.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            },
        }
    }
    // Cases still running get a moment to finish and be stored.
    state.settle(None).await;
    state.flush_pages();
    let mut finished = std::mem::take(&mut *state.finished.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    report::sort(&mut finished);
    Ok(finished)
}

const USAGE: &str = "use /getCaseCount, /getCaseInfo?case=N, /runCase?case=N&agent=A, /getCaseStatus?case=N&agent=A, \
                     /updateReports?agent=A or /stopServer";

impl State {
    /// Checks, claiming nothing, that `agent` may have reports: its name
    /// is not too long, and no other agent's reports go by the same file
    /// names. A request is judged by this before its upgrade is.
    fn check_agent(&self, agent: &str) -> Result<(), String> {
        if agent.len() > MAX_AGENT {
            return Err(format!(
                "the agent name is {} octets long, and at most {MAX_AGENT} are taken; use a shorter name",
                agent.len()
            ));
        }
        report::check_agent(agent)?;
        let agents = self.agents.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match agents.get(&report::agent_file(agent)) {
            Some(owner) if owner != agent => Err(Self::clash(agent, owner)),
            _ => Ok(()),
        }
    }

    /// Files `agent`'s reports under its name, unless another agent's
    /// reports already go by the same file names. Called only once the
    /// upgrade is accepted (the reference's server records nothing of a
    /// request it refuses), so that refused requests leave nothing behind.
    fn claim_agent(&self, agent: &str) -> Result<(), String> {
        let mut agents = self.agents.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let owner = agents.entry(report::agent_file(agent)).or_insert_with(|| agent.to_owned());
        if owner == agent { Ok(()) } else { Err(Self::clash(agent, owner)) }
    }

    fn clash(agent: &str, owner: &str) -> String {
        format!(
            "agent {agent:?} would share report files with {owner:?} ({}): use a name that differs from it in those",
            report::AGENT_FILE_RULE
        )
    }

    /// Writes `index.html` with every case stored so far (per case it is
    /// written at most twice a second). A failure is reported, not fatal:
    /// the per-case files and `index.json` are already on disk.
    fn flush_pages(&self) {
        let mut pages = self.writing.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Err(e) = pages.write(self, true) {
            eprintln!("wstest: cannot write the index in {}: {e}", self.spec.outdir.display());
        }
    }

    /// After a case is stored: when its index rows were left for later (a
    /// write was made less than [`report::INDEX_EVERY`] ago), writes them
    /// once that time has passed, so that the files catch up without a
    /// further case or `/updateReports`.
    fn flush_later(self: &Arc<Self>) {
        {
            let mut pages = self.writing.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if pages.flush_scheduled || !(pages.json_dirty || pages.html.pending()) {
                return;
            }
            pages.flush_scheduled = true;
        }
        let state = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(report::INDEX_EVERY).await;
            let _ = tokio::task::spawn_blocking(move || state.flush_pages()).await;
        });
    }

    /// What `pending` asks for, as the reference's server reads it.
    fn asked(&self, pending: &Pending) -> Result<asked::Asked, String> {
        let tuple = |id: &str| self.defs.iter().position(|d| d.id == id).map(|i| i + 1);
        asked::read(pending.request.uri().query(), self.defs.len(), tuple)
    }

    /// The case `asked` names, with its N.
    fn case(&self, asked: &asked::Asked) -> Result<(usize, &CaseDef), String> {
        let count = self.defs.len();
        asked
            .case
            .map(|n| (n, &self.defs[n - 1]))
            .ok_or_else(|| format!("the request names no case: add case=N (1 to {count}) or casetuple=X.Y.Z"))
    }

    /// Cases of `agent` (of anyone: `None`) still running.
    fn running(&self, agent: Option<&str>) -> usize {
        let running = self.running.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match agent {
            Some(a) => running.get(a).copied().unwrap_or(0),
            None => running.values().sum(),
        }
    }

    fn count_running(&self, agent: &str, delta: isize) {
        let mut running = self.running.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = running.entry(agent.to_owned()).or_default();
        *n = n.saturating_add_signed(delta);
        if *n == 0 {
            running.remove(agent);
        }
    }

    /// Waits (at most [`SETTLE`]) until no case of `agent` is running: a
    /// client asks for its reports as soon as its last case's connection
    /// closed, which can be a moment before we stored that case.
    async fn settle(&self, agent: Option<&str>) {
        let until = tokio::time::Instant::now() + SETTLE;
        loop {
            // Listening before looking, so a case stored in between is not missed.
            let stored = self.stored.notified();
            tokio::pin!(stored);
            stored.as_mut().enable();
            if self.running(agent) == 0 || tokio::time::Instant::now() >= until {
                return;
            }
            let _ = tokio::time::timeout_at(until, stored).await;
        }
    }

    fn behavior(&self, agent: &str, id: &str) -> Option<String> {
        let index = self.index.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        index.get(agent)?.get(id).and_then(|e| e["behavior"].as_str().map(str::to_owned))
    }
}

/// Serves one connection.
async fn handle(state: Arc<State>, tcp: tokio::net::TcpStream) {
    let peer_addr = tcp.peer_addr().map(|a| a.to_string()).unwrap_or_default();
    let _ = tcp.set_nodelay(true);
    let stream = match &state.tls {
        None => Stream::Tcp(tcp),
        // The opening-handshake timeout bounds TLS too (nothing does when it is 0).
        Some(acceptor) => match tokio::select! {
            accepted = acceptor.accept(tcp) => accepted,
            () = sleep_until_deadline(state.spec.timeouts.open_handshake_deadline()) => return,
        } {
            Ok(tls) => Stream::TlsServer(Box::new(tls)),
            Err(e) => {
                if state.options.debug {
                    eprintln!("wstest: {peer_addr}: TLS handshake failed: {e}");
                }
                return;
            }
        },
    };
    let Ok(pending) = read_request(stream, state.spec.timeouts).await else { return };
    let path = asked::path(pending.request.uri().path()).to_owned();
    if state.options.debug {
        eprintln!("wstest: {peer_addr} asks for {}", pending.request.uri());
    }
    // As the reference, a bad case or agent refuses any request.
    let asked = match state.asked(&pending) {
        Ok(a) => a,
        Err(e) => return pending.refuse(400, "Bad Request", &format!("wstest: {e}")).await,
    };
    let agent = asked.agent.clone();
    match path.as_str() {
        "/getCaseCount" => announce(pending, Some(state.defs.len().to_string())).await,
        "/getCaseInfo" => match state.case(&asked) {
            Ok((_, def)) => {
                let info = serde_json::json!({"id": def.id, "description": def.description});
                announce(
                    pending,
                    Some(format!("{{\"id\": {}, \"description\": {}}}", info["id"], info["description"])),
                )
                .await;
            }
            Err(e) => pending.refuse(400, "Bad Request", &format!("wstest: {e}")).await,
        },
        "/runCase" | "/getCaseStatus" => {
            let Some(agent) = agent.filter(|a| !a.is_empty()) else {
                let body = format!("wstest: {path} needs the client's name: add agent=NAME to the query");
                return pending.refuse(400, "Bad Request", &body).await;
            };
            let (n, def) = match state.case(&asked) {
                Ok((n, def)) => (n, def.clone()),
                Err(e) => return pending.refuse(400, "Bad Request", &format!("wstest: {e}")).await,
            };
            if let Err(e) = state.check_agent(&agent) {
                return pending.refuse(400, "Bad Request", &format!("wstest: {e}")).await;
            }
            if path == "/runCase" {
                run_case(&state, pending, agent, n, def, &peer_addr).await;
            } else {
                case_status(&state, pending, &agent, &def.id).await;
            }
        }
        "/updateReports" => {
            // The reference fails such a request (500) and writes nothing.
            let Some(agent) = agent.filter(|a| !a.is_empty()) else {
                let body = "wstest: /updateReports needs the client's name: add agent=NAME to the query";
                return pending.refuse(400, "Bad Request", body).await;
            };
            let agent = Some(agent);
            state.settle(agent.as_deref()).await;
            let pages = state.clone();
            let _ = tokio::task::spawn_blocking(move || pages.flush_pages()).await;
            announce(pending, None).await;
            if let Some(agent) = agent {
                let finished = state.finished.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let n = finished.iter().filter(|r| r.agent == agent).count();
                eprintln!(
                    "wstest: reports updated for {agent:?} ({n} cases): {}",
                    state.spec.outdir.join("index.json").display()
                );
            }
            if asked.shutdown {
                state.stop.notify_one();
            }
        }
        "/stopServer" => {
            announce(pending, None).await;
            state.stop.notify_one();
        }
        other => {
            let other = crate::wire::http_head::clip(other, crate::wire::http_head::SHOWN);
            let body = format!("wstest: this fuzzing server has no {other:?}; {USAGE}");
            pending.refuse(404, "Not Found", &body).await;
        }
    }
}

/// Sends one text message (if any), then an empty close.
struct Announce(Option<String>);

impl Handler for Announce {
    fn on_open(&mut self, peer: &mut Peer) {
        if let Some(text) = self.0.take() {
            peer.send_message(bytes::Bytes::from(text), false, None, false);
        }
        peer.send_close(None, None);
    }
    fn on_message(&mut self, _: &mut Peer, _: bytes::Bytes, _: bool) {}
    fn on_pong(&mut self, _: &mut Peer, _: bytes::Bytes) {}
    fn on_step(&mut self, _: &mut Peer, _: Option<String>) {}
}

/// The longest agent name taken, in octets (after %-decoding): far past
/// any client's name (whose report file names keep at most
/// [`report::MAX_AGENT_FILE`] characters of it), and a bound on what the
/// server keeps per agent for as long as it runs.
const MAX_AGENT: usize = 1024;

/// Connections served at once; one past them is closed at once.
const MAX_CONNECTIONS: usize = 1024;

/// The longest a report request or a stop waits for cases still running.
const SETTLE: std::time::Duration = std::time::Duration::from_secs(10);

/// How long a one-message connection may take.
const ANNOUNCE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

async fn announce(pending: Pending, text: Option<String>) {
    let Ok(open) = pending.accept(None).await else { return };
    let options = DriveOptions { hard_deadline: Some(ANNOUNCE_DEADLINE), ..DriveOptions::default() };
    open.run(&mut Announce(text), options, false).await;
}

async fn case_status(state: &State, pending: Pending, agent: &str, id: &str) {
    let Ok(mut open) = pending.accept(None).await else { return };
    // Checked before the upgrade: only another client claiming a clashing
    // name in the meantime gets here, and is dropped.
    if state.claim_agent(agent).is_err() {
        return;
    }
    if open.answer_now().await.is_err() {
        return;
    }
    open.forget_request();
    // Wait for the result as long as it takes (as the reference does), or
    // until the client gives up and goes.
    let behavior = loop {
        let stored = state.stored.notified();
        tokio::pin!(stored);
        stored.as_mut().enable();
        if let Some(b) = state.behavior(agent, id) {
            break b;
        }
        tokio::select! {
            () = stored => {}
            () = open.gone() => return,
        }
    };
    let options = DriveOptions { hard_deadline: Some(ANNOUNCE_DEADLINE), ..DriveOptions::default() };
    let text = serde_json::json!({ "behavior": behavior }).to_string().replace(':', ": ");
    open.run(&mut Announce(Some(text)), options, false).await;
}

async fn run_case(state: &Arc<State>, pending: Pending, agent: String, n: usize, def: CaseDef, peer_addr: &str) {
    state.count_running(&agent, 1);
    run_accepted(state, pending, &agent, n, &def, peer_addr).await;
    state.count_running(&agent, -1);
    // Whatever way the case ended, its index rows reach the files.
    state.flush_later();
    state.stored.notify_waiters();
}

async fn run_accepted(state: &Arc<State>, pending: Pending, agent: &str, n: usize, def: &CaseDef, peer_addr: &str) {
    let agent = agent.to_owned();
    let started = pending.started;
    let accepted = pending.accept(def.deflate_acceptor()).await;
    // The agent, checked before the upgrade, is claimed once a valid
    // upgrade was made: only another client claiming a clashing name in
    // the meantime fails here, and is dropped without a result.
    if !matches!(accepted, Err(Refusal::Upgrade(_))) && state.claim_agent(&agent).is_err() {
        return;
    }
    let mut open = match accepted {
        Ok(open) => open,
        // No valid upgrade: as in the reference, whose server judges the
        // request (failHandshake) before its case exists (onConnect), the
        // case leaves no result behind, no row in the reports, and its
        // agent is not recorded.
        Err(Refusal::Upgrade(_)) => return,
        Err(Refusal::Handshake { reason, peer, head }) => {
            // Refused later (a malformed deflate offer): the case ran and
            // failed, as in the reference, rather than going missing.
            let result = never_opened(agent, n, def, &reason, started, *peer, head);
            let shared = state.clone();
            let ended = std::time::Instant::now();
            let _ = tokio::task::spawn_blocking(move || store(&shared, result, ended)).await;
            return;
        }
    };
    // With a slot free, the 101 leaves with the case's first frames, as
    // from the reference. Otherwise it is answered at once (a client's
    // handshake timeout must not run out while it queues); the case starts
    // once one of the `max_cases` slots is free, and its duration counts
    // from then. The semaphore is never closed: it lives as long as the
    // server.
    let _slot = match state.case_slots.clone().try_acquire_owned() {
        Ok(slot) => slot,
        Err(_) => {
            if open.answer_now().await.is_err() {
                return;
            }
            let Ok(slot) = state.case_slots.clone().acquire_owned().await else { return };
            slot
        }
    };
    open.peer.auto_fragment_size = state.spec.auto_fragment_size;
    let skip = state.spec.excluded_for(&agent, &def.id);
    if state.options.debug {
        let what = if skip { "Skipping" } else { "Running" };
        let agent = report::console::printable(&agent);
        eprintln!("wstest: {what} test case ID {} for agent {agent} from peer {peer_addr}", def.id);
    }
    let mut run = CaseRun::new(def);
    run.compression.cache = Some(state.cache.clone());
    let options = DriveOptions { hard_deadline: Some(def.hard_deadline()), ..DriveOptions::default() };
    let session = open.run(&mut run, options, skip).await;
    let ended = std::time::Instant::now();
    if session.skipped {
        return;
    }
    let verdict = judge(&run, &session, def.post);
    let duration_ms = session.open_time.map_or(0, |t| (t.elapsed().as_secs_f64() * 1000.0).round() as u64);
    let expect = run.expect.clone().filter(|_| session.opened);
    let result = CaseResult {
        agent,
        id: def.id.clone(),
        index: n,
        description: def.description.clone(),
        expectation: def.expectation.clone(),
        expected: expect.as_ref().map(|e| e.outcomes.clone()).unwrap_or_default(),
        expected_close: expect.map(|e| e.close),
        verdict,
        session: Some(session),
        duration_ms,
        report_time: def.report_time,
        report_compression: def.reports_compression(),
        traffic: run.compression.traffic,
    };
    if state.options.debug {
        eprintln!(
            "wstest: {} {}: {} / {} ({} ms)",
            report::console::printable(&result.agent),
            result.id,
            result.verdict.behavior,
            result.verdict.behavior_close,
            result.duration_ms
        );
    }
    let shared = state.clone();
    let written = tokio::task::spawn_blocking(move || store(&shared, result, ended)).await;
    if let Ok(Err(e)) = written {
        eprintln!("wstest: cannot write reports to {}: {e}", state.spec.outdir.display());
    }
}
