//! Storing a finished case: its report file at once, its row in the
//! index files (written at most twice a second), and the result of a case
//! whose handshake was refused.

use crate::cases::CaseDef;
use crate::report::{self, CaseResult};
use crate::wire::Peer;

use super::State;

/// The result of a case whose opening handshake we refused, `peer` the
/// connection's (its log and octet counts hold the request, `head`, and
/// the refusal).
pub(super) fn never_opened(
    agent: String,
    n: usize,
    def: &CaseDef,
    reason: &str,
    started: chrono::DateTime<chrono::Utc>,
    mut peer: Peer,
    head: String,
) -> CaseResult {
    let mut verdict = crate::verdict::Verdict::not_run("The WebSocket opening handshake was never completed!");
    verdict.result = "Actual events differ from any expected.".into();
    peer.close.dropped_by_me = true;
    peer.close.was_not_clean_reason = Some(reason.to_owned());
    peer.state = crate::wire::State::Closed;
    let session = crate::wire::Session {
        peer,
        opened: false,
        started,
        open_time: None,
        http_request: head,
        http_response: None,
        server_header: None,
        skipped: false,
    };
    CaseResult {
        agent,
        id: def.id.clone(),
        index: n,
        description: def.description.clone(),
        expectation: def.expectation.clone(),
        expected: Vec::new(),
        // The compression cases expect their close from the start (the
        // reference sets it as it makes the case, not when it opens).
        expected_close: matches!(def.logic, crate::cases::Logic::Compression(_)).then(|| def.expect.close.clone()),
        verdict,
        session: Some(session),
        duration_ms: 0,
        report_time: def.report_time,
        report_compression: def.reports_compression(),
        traffic: None,
    }
}

/// `index.json` and `index.html` as cases finish. Rewriting them after
/// every case would cost time quadratic in the cases stored (many agents
/// run against one server, each with hundreds of cases), so they are
/// written at most twice a second, and whatever is left when reports are
/// asked for (`/updateReports`) or the server stops.
#[derive(Debug, Default)]
pub(super) struct Indexes {
    pub(super) html: report::html::HtmlIndex,
    /// Rows were stored since `index.json` was last written.
    pub(super) json_dirty: bool,
    /// When the index files were last written.
    written: Option<std::time::Instant>,
    /// A task will write what is left shortly (see [`State::flush_later`]).
    pub(super) flush_scheduled: bool,
    /// When the connection of each (agent, case) result kept ended.
    ended: std::collections::HashMap<(String, String), std::time::Instant>,
}

impl Indexes {
    /// Writes what changed, both files together: at once with `now`, else
    /// only when the last write is old enough.
    pub(super) fn write(&mut self, state: &State, now: bool) -> std::io::Result<()> {
        let outdir = &state.spec.outdir;
        if now {
            // This is the write a scheduled flush waits for (or makes it
            // moot), even if it fails: later cases schedule another.
            self.flush_scheduled = false;
        }
        if now && !outdir.join("index.json").exists() {
            // Asked for reports before any case left a row (every handshake
            // refused, say): an index with no rows, `{}`, as the reference
            // writes one.
            self.json_dirty = true;
        }
        let due = now || self.written.is_none_or(|t| t.elapsed() >= report::INDEX_EVERY);
        if !due || !(self.json_dirty || self.html.pending()) {
            return Ok(());
        }
        self.written = Some(std::time::Instant::now());
        if self.json_dirty {
            let rows = state.index.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
            report::write_index_rows(outdir, &rows)?;
            self.json_dirty = false;
        }
        self.html.flush(outdir)
    }
}

/// Keeps a finished case (its index row, and the case without its records
/// for the summary), then writes its report and `index.json`. The verdict
/// is kept even when the files cannot be written.
///
/// A case an agent runs twice keeps, as in the reference, the result of
/// the connection that `ended` last: the reference stores a result as its
/// connection goes, one at a time. Here results are stored from several
/// threads, and one that took longer to store (a client that gives up on
/// a connection and runs the case again at once) may come in after the
/// newer one: it is dropped, files and all.
pub(super) fn store(state: &State, mut result: CaseResult, ended: std::time::Instant) -> std::io::Result<()> {
    let outdir = &state.spec.outdir;
    let entry = result.index_entry();
    // One writer at a time, each writing the index as it stands then.
    let mut pages = state.writing.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let key = (result.agent.clone(), result.id.clone());
    if pages.ended.get(&key).is_some_and(|&kept| kept > ended) {
        return Ok(());
    }
    pages.ended.insert(key, ended);
    let written = {
        let case = std::fs::create_dir_all(outdir)
            .and_then(|()| report::write_case(outdir, &result, &state.spec.cases))
            .map(|row| pages.html.add(row));
        // The verdict becomes visible (to `/getCaseStatus`) only once the
        // case's report is on disk, so a client told it finds the file.
        state
            .index
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(result.agent.clone())
            .or_default()
            .insert(result.id.clone(), entry);
        pages.json_dirty = true;
        // The index lists the case even when its own file failed.
        case.and(pages.write(state, false))
    };
    result.session = None;
    // (Still writing: the summary keeps the result the index keeps.)
    let mut finished = state.finished.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    finished.retain(|r| !(r.agent == result.agent && r.id == result.id));
    finished.push(result);
    drop(pages);
    written
}
