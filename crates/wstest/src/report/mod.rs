//! Reports: `index.json` and one `<agent>_case_<id>.json` per case in the
//! reference's schema, the HTML pages beside them ([`html`]), a JUnit file,
//! and the console summary. Reports only
//! read finished results; they never touch a socket.

pub mod compare;
pub mod console;
pub mod html;
pub mod junit;
pub mod pyjson;
mod writer;

pub use writer::CaseWriter;

/// How often, at most, `index.json` and `index.html` are rewritten while a run goes on.
pub(crate) const INDEX_EVERY: Duration = Duration::from_millis(500);

use std::path::Path;
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::cases::{ExpectedClose, id_key};
use crate::verdict::Verdict;
use crate::wire::log::log_form;
use crate::wire::{Event, Session};

/// Everything known about one finished case of one agent.
#[derive(Debug)]
pub struct CaseResult {
    /// Agent name.
    pub agent: String,
    /// Case id.
    pub id: String,
    /// 1-based position in the reference's full case list.
    pub index: usize,
    /// Our description.
    pub description: String,
    /// Our statement of what should happen.
    pub expectation: String,
    /// Expected outcomes (empty if the connection never opened).
    pub expected: Vec<(&'static str, Vec<Event>)>,
    /// Expected closing behaviour (`None` if never opened).
    pub expected_close: Option<ExpectedClose>,
    /// The verdicts.
    pub verdict: Verdict,
    /// The connection's records (`None` if no connection was made).
    pub session: Option<Session>,
    /// Milliseconds from the handshake to the verdict.
    pub duration_ms: u64,
    /// The case is timed.
    pub report_time: bool,
    /// The case reports compression ratios (12.x, 13.x).
    pub report_compression: bool,
    /// Traffic counters when a compression case passed (`trafficStats`).
    pub traffic: Option<crate::wire::traffic::Traffic>,
}

/// How [`agent_file`] makes an agent's name into a file-name part, in
/// words, for errors about two agents whose parts coincide.
pub const AGENT_FILE_RULE: &str =
    "file names keep an agent's letters and digits, lower-cased, each other character an _";

/// `agent` as the reference turns it into a file-name part.
#[must_use]
pub fn agent_file(agent: &str) -> String {
    let lowered: String = agent
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() { c } else { ' ' })
        .collect();
    lowered.trim().replace(' ', "_")
}

/// The longest [`agent_file`] wstest accepts: the most that still leaves
/// room, in the 255 octets Linux and macOS allow a file name, for the
/// longest suffix a report takes (`_case_13_7_18.json`, or `.html`). The
/// reference takes any agent and writes its reports under such names, so
/// up to here wstest serves every agent the reference serves in full.
pub const MAX_AGENT_FILE: usize = 255 - "_case_13_7_18.json".len();

/// Checks that `agent`'s report files can be written: its file-name part
/// (letters and digits, see [`agent_file`]) is at most [`MAX_AGENT_FILE`]
/// long.
///
/// # Errors
/// A message that names the length and the limit.
pub fn check_agent(agent: &str) -> Result<(), String> {
    let part = agent_file(agent).len();
    if part > MAX_AGENT_FILE {
        return Err(format!(
            "the agent name is too long for report file names: their agent part (letters and digits, \
             _ between words) would be {part} characters, and at most {MAX_AGENT_FILE} fit; use a shorter name"
        ));
    }
    Ok(())
}

/// The per-case report's file name.
#[must_use]
pub fn report_file(agent: &str, id: &str) -> String {
    format!("{}_case_{}.json", agent_file(agent), id.replace('.', "_"))
}

fn event_json(e: &Event) -> Value {
    match e {
        Event::Message { payload, binary } => json!(["message", log_form(payload), binary]),
        Event::Pong(p) => json!(["pong", log_form(p)]),
        Event::Timeout(tag) => json!(["timeout", tag]),
    }
}

fn hex(octets: &[u8]) -> String {
    octets.iter().map(|b| format!("{b:02x}")).collect()
}

impl CaseResult {
    /// Frees the parts only the per-case report uses (wire log, received
    /// payloads, buffers, zlib state) once that report is written; what
    /// `index.json`, the summary and JUnit need stays. After this,
    /// [`CaseResult::to_json`] describes a case without its wire log.
    pub fn release_details(&mut self) {
        if let Some(s) = self.session.as_mut() {
            s.peer.release();
        }
    }

    /// The per-case report object.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        let s = self.session.as_ref();
        let peer = s.map(|s| &s.peer);
        let close = peer.map(|p| p.close.clone()).unwrap_or_default();
        let flag = |b: bool| Value::Bool(b);
        m.insert("agent".into(), json!(self.agent));
        m.insert("behavior".into(), json!(self.verdict.behavior));
        m.insert("behaviorClose".into(), json!(self.verdict.behavior_close));
        m.insert("case".into(), json!(self.index));
        m.insert("closedByMe".into(), flag(close.closed_by_me));
        m.insert("createStats".into(), flag(true));
        m.insert("createWirelog".into(), flag(peer.is_none_or(|p| p.log.enabled)));
        m.insert("description".into(), json!(self.description));
        m.insert("droppedByMe".into(), flag(close.dropped_by_me));
        m.insert("duration".into(), json!(self.duration_ms));
        m.insert("expectation".into(), json!(self.expectation));
        let expected: Map<String, Value> = self
            .expected
            .iter()
            .map(|(k, evs)| ((*k).to_owned(), Value::Array(evs.iter().map(event_json).collect())))
            .collect();
        m.insert("expected".into(), Value::Object(expected));
        let expected_close = self.expected_close.as_ref().map_or_else(
            || json!({}),
            |ec| {
                let mut o =
                    json!({"closeCode": ec.codes, "closedByMe": ec.closed_by_me, "requireClean": ec.require_clean});
                if ec.wrong_endpoint_fatal {
                    o["closedByWrongEndpointIsFatal"] = json!(true);
                }
                o
            },
        );
        m.insert("expectedClose".into(), expected_close);
        m.insert("failedByMe".into(), flag(close.failed_by_me));
        m.insert("httpRequest".into(), json!(s.map_or("?", |s| s.http_request.as_str())));
        m.insert("httpResponse".into(), json!(s.and_then(|s| s.http_response.as_deref()).unwrap_or("?")));
        m.insert("id".into(), json!(self.id));
        m.insert("isServer".into(), flag(peer.is_some_and(|p| p.role == autostrada::Role::Server)));
        m.insert("localCloseCode".into(), json!(close.local_close_code));
        let reason = if self.id == "7.5.1" {
            // The octets as sent, invalid UTF-8 included.
            Some(close.local_close_reason.as_deref().filter(|r| !r.is_empty()).map_or_else(|| "?".to_owned(), hex))
        } else {
            close.local_close_reason.as_deref().map(|r| String::from_utf8_lossy(r).into_owned())
        };
        m.insert("localCloseReason".into(), json!(reason));
        m.insert(
            "received".into(),
            Value::Array(peer.map_or_else(Vec::new, |p| p.received.iter().map(event_json).collect())),
        );
        m.insert("remoteCloseCode".into(), json!(close.remote_close_code));
        m.insert("remoteCloseReason".into(), json!(close.remote_close_reason));
        m.insert("reportCompressionRatio".into(), flag(self.report_compression));
        m.insert("reportTime".into(), flag(self.report_time));
        m.insert("result".into(), json!(self.verdict.result));
        m.insert("resultClose".into(), json!(self.verdict.result_close));
        let stats = peer.map(|p| p.stats.clone()).unwrap_or_default();
        m.insert("rxFrameStats".into(), stats.rx_frames.to_json());
        m.insert("rxOctetStats".into(), stats.rx_octets.to_json());
        let started = s.map_or_else(chrono::Utc::now, |s| s.started);
        m.insert("started".into(), json!(started.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()));
        m.insert("trafficStats".into(), self.traffic.map_or(Value::Null, |t| t.to_json()));
        m.insert("txFrameStats".into(), stats.tx_frames.to_json());
        m.insert("txOctetStats".into(), stats.tx_octets.to_json());
        m.insert("wasClean".into(), flag(close.was_clean));
        m.insert("wasCloseHandshakeTimeout".into(), flag(close.was_close_handshake_timeout));
        m.insert("wasNotCleanReason".into(), json!(close.was_not_clean_reason));
        m.insert("wasOpenHandshakeTimeout".into(), flag(close.was_open_handshake_timeout));
        m.insert("wasServerConnectionDropTimeout".into(), flag(close.was_server_connection_drop_timeout));
        m.insert("wirelog".into(), Value::Array(peer.map_or_else(Vec::new, |p| p.log.rows().to_vec())));
        Value::Object(m)
    }
}

/// The rows of `index.json`: agent → case id → the five summary fields.
pub type Index = std::collections::BTreeMap<String, std::collections::BTreeMap<String, Value>>;

impl CaseResult {
    /// This case's row of `index.json`.
    #[must_use]
    pub fn index_entry(&self) -> Value {
        json!({
            "behavior": self.verdict.behavior,
            "behaviorClose": self.verdict.behavior_close,
            "duration": self.duration_ms,
            "remoteCloseCode": self.session.as_ref().and_then(|s| s.peer.close.remote_close_code),
            "reportfile": report_file(&self.agent, &self.id),
        })
    }
}

/// Writes `data` to `path` through a temporary file and a rename, so a
/// reader (or a run killed half-way) never sees half a file.
pub(crate) fn write_atomically(path: &Path, data: &str) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    std::fs::write(&tmp, data)?;
    std::fs::rename(&tmp, path)
}

/// Writes `index.json` into `outdir` from finished results (the per-case
/// files are written apart, see [`CaseWriter`] and [`write_case`]).
///
/// # Errors
/// When `outdir` or the file cannot be written.
pub fn write_index(outdir: &Path, results: &[CaseResult]) -> std::io::Result<()> {
    let mut index = Index::new();
    for r in results {
        index.entry(r.agent.clone()).or_default().insert(r.id.clone(), r.index_entry());
    }
    write_index_rows(outdir, &index)
}

/// Writes `index.json` into `outdir` from its rows.
///
/// # Errors
/// When `outdir` or the file cannot be written.
pub fn write_index_rows(outdir: &Path, index: &Index) -> std::io::Result<()> {
    std::fs::create_dir_all(outdir)?;
    let value: Map<String, Value> = index
        .iter()
        .map(|(agent, cases)| {
            (agent.clone(), Value::Object(cases.iter().map(|(k, v)| (k.clone(), v.clone())).collect()))
        })
        .collect();
    write_atomically(&outdir.join("index.json"), &pyjson::to_string(&Value::Object(value)))
}

/// Writes one case's `<agent>_case_<id>.json` and its HTML page into
/// `outdir`; `order` lists the run's case ids in suite order (the page links
/// to its neighbours). Returns the page's row of `index.html`.
///
/// # Errors
/// When a file cannot be written.
pub fn write_case(outdir: &Path, result: &CaseResult, order: &[String]) -> std::io::Result<html::IndexRow> {
    let case = result.to_json();
    std::fs::write(outdir.join(report_file(&result.agent, &result.id)), pyjson::to_string(&case))?;
    html::write_case(outdir, &case, &html::nav(order, &result.agent, &result.id))
}

/// Sorts results by agent, then case id.
pub fn sort(results: &mut [CaseResult]) {
    results.sort_by(|a, b| a.agent.cmp(&b.agent).then_with(|| id_key(&a.id).cmp(&id_key(&b.id))));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_file_names() {
        assert_eq!(agent_file("Testee Server/1.0"), "testee_server_1_0");
        assert_eq!(agent_file("AutobahnPython/0.10.9"), "autobahnpython_0_10_9");
        assert_eq!(agent_file(" a  b "), "a__b");
        assert_eq!(report_file("AgentX/1.0", "12.2.10"), "agentx_1_0_case_12_2_10.json");
    }
}
