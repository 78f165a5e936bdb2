//! Spec files, read exactly as the reference reads them, with errors that
//! name the bad key and say how to fix it (the reference crashes instead).
//!
//! ```json
//! {
//!    "outdir": "./reports/servers",
//!    "servers": [ { "agent": "MyServer", "url": "ws://127.0.0.1:9001" } ],
//!    "cases": ["*"],
//!    "exclude-cases": ["9.*"],
//!    "exclude-agent-cases": {}
//! }
//! ```
//!
//! `options` (top level, or per server in a `fuzzingclient` spec, where it
//! wins key by key) holds the reference's protocol options, in seconds from
//! 0 to a day: `openHandshakeTimeout` (default 5), `closeHandshakeTimeout`
//! (1: after a close of ours that is not a reply) and
//! `serverConnectionDropTimeout` (1: `fuzzingclient` only, for the server to
//! drop TCP after the closing handshake; the reference's `fuzzingserver`
//! stops on it), plus `autoFragmentSize` (octets, 0: none). A timeout of 0
//! arms no timer, as in the reference, which arms each only when it is
//! above 0 (autobahn 0.10.9 `websocket/protocol.py`: `_connectionMade`,
//! `sendCloseFrame`, `onCloseFrame`). The wait is then bounded by the case's
//! own timers (most cases fail the connection a second or so after they
//! start) and, where the reference would wait for ever, by wstest's hard
//! deadline of the case (`--case-timeout`); in `fuzzingserver` mode a client
//! that never sends its request keeps its connection until it goes.
//! `version`, `failByDrop`, `tcpNoDelay` and `utf8validateIncoming` are
//! accepted and change nothing; other options are ignored with a warning.

use std::path::{Path, PathBuf};
use std::time::Duration;

use autostrada::proto::handshake::Target;
use serde_json::{Map, Value};

use crate::cases;
use crate::wire::peer::Timeouts;

mod glob;
pub use glob::glob;

/// A spec file that cannot be used; the message names the key and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError(pub String);

impl std::fmt::Display for SpecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SpecError {}

fn err<T>(msg: impl Into<String>) -> Result<T, SpecError> {
    Err(SpecError(msg.into()))
}

/// One server to test.
#[derive(Debug, Clone)]
pub struct Server {
    /// Name in the reports; from the `Server` header when absent.
    pub agent: Option<String>,
    /// The URL as written.
    pub url: String,
    /// Where to connect.
    pub target: Target,
    /// `Origin` header to send.
    pub origin: Option<String>,
    /// Subprotocols to offer.
    pub protocols: Vec<String>,
    /// Protocol timeouts (spec `options`).
    pub timeouts: Timeouts,
    /// Fragment size for the message API (`autoFragmentSize` option; 0: none).
    pub auto_fragment_size: usize,
    /// For `wss://`: the TLS connector, which checks the server's
    /// certificate against `"trust-ca": "ca.pem"`, or not at all with
    /// `"skip-verify": true`, or by default against the public roots.
    pub tls: Option<crate::tls::ClientTls>,
}

/// A `fuzzingclient` spec, resolved.
#[derive(Debug, Clone)]
pub struct ClientSpec {
    /// Where reports go.
    pub outdir: PathBuf,
    /// Servers, in spec order.
    pub servers: Vec<Server>,
    /// Selected case ids, in id order.
    pub cases: Vec<String>,
    /// `exclude-agent-cases`: agent pattern → case patterns (both anchored).
    pub exclude_agent_cases: Vec<(String, Vec<String>)>,
}

impl ClientSpec {
    /// True if `case` is excluded for `agent`.
    #[must_use]
    pub fn excluded_for(&self, agent: &str, case: &str) -> bool {
        self.exclude_agent_cases.iter().any(|(a, cs)| glob(a, agent, true) && cs.iter().any(|c| glob(c, case, true)))
    }
}

fn all_ids() -> Vec<String> {
    cases::all().into_iter().map(|c| c.id).collect()
}

fn string_list(obj: &Map<String, Value>, key: &str, default: &[&str]) -> Result<Vec<String>, SpecError> {
    match obj.get(key) {
        None => Ok(default.iter().map(|s| (*s).to_owned()).collect()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str().map(str::to_owned).ok_or_else(|| {
                    SpecError(format!("\"{key}\"[{i}] must be a string such as \"1.1.1\" or \"6.*\", not {v}"))
                })
            })
            .collect(),
        Some(other) => {
            err(format!("\"{key}\" must be a list of case ids or patterns such as [\"1.*\", \"2.1\"], not {other}"))
        }
    }
}

/// Resolves case patterns to ids; a literal id must exist.
fn resolve(patterns: &[String], key: &str, known: &[String]) -> Result<Vec<String>, SpecError> {
    let mut out = Vec::new();
    for p in patterns {
        if p.contains('*') {
            out.extend(known.iter().filter(|id| glob(p, id, false)).cloned());
        } else if known.contains(p) {
            out.push(p.clone());
        } else {
            return err(format!(
                "\"{key}\" names the case \"{p}\", which does not exist; ids look like \"1.1.1\", \"6.4.3\" or \"12.2.10\" (see the report's case list)"
            ));
        }
    }
    Ok(out)
}

/// The longest protocol timeout a spec may set, in seconds: the reference's
/// are a few seconds; a day is far past any use and far inside what a
/// deadline (now plus the timeout) can hold.
const MAX_TIMEOUT_SECS: f64 = 86_400.0;

fn timeouts_from(
    options: Option<&Value>,
    key: &str,
    base: Timeouts,
    auto_fragment: &mut usize,
) -> Result<Timeouts, SpecError> {
    let Some(options) = options else {
        return Ok(base);
    };
    let Some(map) = options.as_object() else {
        return err(format!(
            "\"{key}\" must be an object of protocol options such as {{\"closeHandshakeTimeout\": 1}}, not {options}"
        ));
    };
    let mut t = base;
    for (name, value) in map {
        let secs = || {
            value
                .as_f64()
                .filter(|s| *s >= 0.0)
                .ok_or_else(|| SpecError(format!("\"{key}\".\"{name}\" must be a number of seconds, not {value}")))
        };
        // A deadline is the time now plus this: past the range an Instant
        // holds, that addition panics (and from_secs_f64 itself past u64).
        let timeout = || {
            value
                .as_f64()
                .filter(|s| (0.0..=MAX_TIMEOUT_SECS).contains(s))
                .and_then(|s| Duration::try_from_secs_f64(s).ok())
                .ok_or_else(|| {
                    SpecError(format!(
                        "\"{key}\".\"{name}\" must be a number of seconds from 0 to {MAX_TIMEOUT_SECS} (a day), not {value}"
                    ))
                })
        };
        match name.as_str() {
            "openHandshakeTimeout" => t.open_handshake = timeout()?,
            "closeHandshakeTimeout" => t.close_handshake = timeout()?,
            "serverConnectionDropTimeout" => t.server_drop = timeout()?,
            "autoFragmentSize" => *auto_fragment = secs()? as usize,
            // Options of the reference that change nothing here (version 18 is RFC 6455).
            "version" | "failByDrop" | "tcpNoDelay" | "utf8validateIncoming" => {}
            other => {
                eprintln!("wstest: ignoring unsupported protocol option \"{key}\".\"{other}\"")
            }
        }
    }
    Ok(t)
}

/// Reads and resolves a `fuzzingclient` spec. `wsuri` stands in for
/// `servers` when that key is missing or empty (the `-w` option).
pub fn load_client(path: &Path, wsuri: Option<&str>) -> Result<ClientSpec, SpecError> {
    parse_client(&read(path)?, wsuri)
}

fn read(path: &Path) -> Result<String, SpecError> {
    std::fs::read_to_string(path).map_err(|e| SpecError(format!("cannot read spec file {}: {e}", path.display())))
}

/// The spec's top-level object; `keys` names what it should hold, for the error.
fn object(text: &str, keys: &str) -> Result<Map<String, Value>, SpecError> {
    match serde_json::from_str(text) {
        Ok(Value::Object(obj)) => Ok(obj),
        Ok(_) => err(format!("the spec must be a JSON object with {keys}")),
        Err(e) => err(format!("the spec is not valid JSON: {e}")),
    }
}

/// Parses a `fuzzingclient` spec from JSON text.
pub fn parse_client(text: &str, wsuri: Option<&str>) -> Result<ClientSpec, SpecError> {
    let obj = object(text, "\"servers\", \"cases\" and \"outdir\"")?;
    for key in obj.keys() {
        if !["outdir", "servers", "options", "cases", "exclude-cases", "exclude-agent-cases"].contains(&key.as_str()) {
            eprintln!("wstest: ignoring unknown spec key \"{key}\"");
        }
    }
    let outdir = outdir(&obj, "./reports/servers/")?;
    let mut auto_fragment = 0;
    let global = timeouts_from(obj.get("options"), "options", Timeouts::default(), &mut auto_fragment)?;
    let mut servers: Vec<Server> = Vec::new();
    let listed = match obj.get("servers") {
        None => Vec::new(),
        Some(Value::Array(list)) => list.clone(),
        Some(other) => {
            return err(format!(
                "\"servers\" must be a list such as [{{\"agent\": \"MyServer\", \"url\": \"ws://127.0.0.1:9001\"}}], not {other}"
            ));
        }
    };
    let listed = if listed.is_empty() {
        match wsuri {
            Some(uri) => vec![serde_json::json!({ "url": uri })],
            None => {
                return err(
                    "the spec lists no servers: add \"servers\": [{\"agent\": \"MyServer\", \"url\": \"ws://127.0.0.1:9001\"}] or pass -w URL",
                );
            }
        }
    } else {
        listed
    };
    for (i, s) in listed.iter().enumerate() {
        let key = format!("servers[{i}]");
        let Some(s) = s.as_object() else {
            return err(format!("\"{key}\" must be an object with a \"url\""));
        };
        let url = match s.get("url") {
            Some(Value::String(u)) => u.clone(),
            Some(other) => {
                return err(format!("\"{key}\".\"url\" must be a string such as \"ws://127.0.0.1:9001\", not {other}"));
            }
            None => {
                return err(format!("\"{key}\" has no \"url\": add \"url\": \"ws://host:port/path\""));
            }
        };
        let uri: http::Uri =
            url.parse().map_err(|e| SpecError(format!("\"{key}\".\"url\" {url:?} is not a URL: {e}")))?;
        let target = Target::from_uri(&uri).map_err(|e| SpecError(format!("\"{key}\".\"url\": {e}")))?;
        let opt_str = |name: &str| -> Result<Option<String>, SpecError> {
            match s.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(v)) => Ok(Some(v.clone())),
                Some(other) => err(format!("\"{key}\".\"{name}\" must be a string, not {other}")),
            }
        };
        let protocols = string_list(s, "protocols", &[]).map_err(|e| SpecError(format!("in \"{key}\": {e}")))?;
        let trust = match (opt_str("trust-ca")?, s.get("skip-verify")) {
            (Some(_), Some(Value::Bool(true))) => {
                return err(format!("\"{key}\": \"trust-ca\" and \"skip-verify\" exclude each other; keep one"));
            }
            (Some(ca), _) => crate::tls::Trust::Ca(PathBuf::from(ca)),
            (None, Some(Value::Bool(true))) => crate::tls::Trust::SkipVerify,
            (None, None | Some(Value::Bool(false))) => crate::tls::Trust::PublicRoots,
            (None, Some(other)) => return err(format!("\"{key}\".\"skip-verify\" must be true or false, not {other}")),
        };
        if trust != crate::tls::Trust::PublicRoots && !target.tls {
            eprintln!("wstest: \"{key}\": \"trust-ca\"/\"skip-verify\" only matter for wss:// URLs");
        }
        let tls = if target.tls {
            let connector = crate::tls::connector(&trust)
                .map_err(|e| SpecError(format!("\"{key}\": {e} (\"trust-ca\" names a PEM file of CA certificates)")))?;
            Some(crate::tls::ClientTls(connector))
        } else {
            None
        };
        let mut fragment = auto_fragment;
        let timeouts = timeouts_from(s.get("options"), &format!("{key}.options"), global, &mut fragment)?;
        let agent = opt_str("agent")?;
        if let Some(a) = &agent {
            crate::report::check_agent(a).map_err(|e| SpecError(format!("\"{key}\".\"agent\": {e}")))?;
            let file = crate::report::agent_file(a);
            if let Some((j, other)) = servers
                .iter()
                .enumerate()
                .find_map(|(j, o)| o.agent.as_deref().filter(|o| crate::report::agent_file(o) == file).map(|o| (j, o)))
            {
                return err(format!(
                    "\"{key}\".\"agent\": {a:?} would share report files with \"servers[{j}]\"'s {other:?} ({}): \
                     give each server a distinct name",
                    crate::report::AGENT_FILE_RULE
                ));
            }
        }
        servers.push(Server {
            agent,
            url,
            target,
            origin: opt_str("origin")?,
            protocols,
            timeouts,
            auto_fragment_size: fragment,
            tls,
        });
    }
    let cases = selection(&obj)?;
    let exclude_agent_cases = exclude_agent_cases(&obj)?;
    Ok(ClientSpec { outdir, servers, cases, exclude_agent_cases })
}

/// `outdir`, or `default` when the key is missing.
fn outdir(obj: &Map<String, Value>, default: &str) -> Result<PathBuf, SpecError> {
    match obj.get("outdir") {
        None => Ok(PathBuf::from(default)),
        Some(Value::String(s)) => Ok(PathBuf::from(s)),
        Some(other) => err(format!("\"outdir\" must be a directory path string, not {other}")),
    }
}

/// `cases` minus `exclude-cases`, in id order.
fn selection(obj: &Map<String, Value>) -> Result<Vec<String>, SpecError> {
    let known = all_ids();
    let selected = resolve(&string_list(obj, "cases", &["*"])?, "cases", &known)?;
    let excluded = resolve(&string_list(obj, "exclude-cases", &[])?, "exclude-cases", &known)?;
    let mut ids: Vec<String> = selected.into_iter().filter(|id| !excluded.contains(id)).collect();
    ids.sort_by_key(|id| cases::id_key(id));
    ids.dedup();
    Ok(ids)
}

/// `exclude-agent-cases`: agent pattern → case patterns.
fn exclude_agent_cases(obj: &Map<String, Value>) -> Result<Vec<(String, Vec<String>)>, SpecError> {
    let mut out = Vec::new();
    match obj.get("exclude-agent-cases") {
        None => {}
        Some(Value::Object(map)) => {
            for (agent, list) in map {
                let Some(list) = list.as_array() else {
                    return err(format!(
                        "\"exclude-agent-cases\".\"{agent}\" must be a list of case patterns, not {list}"
                    ));
                };
                let patterns = list.iter().map(|v| v.as_str().map(str::to_owned)).collect::<Option<Vec<_>>>();
                let Some(patterns) = patterns else {
                    return err(format!("\"exclude-agent-cases\".\"{agent}\" must hold only strings"));
                };
                out.push((agent.clone(), patterns));
            }
        }
        Some(other) => {
            return err(format!(
                "\"exclude-agent-cases\" must be an object such as {{\"MyServer*\": [\"9.*\"]}}, not {other}"
            ));
        }
    }
    Ok(out)
}

/// A `fuzzingserver` spec, resolved.
#[derive(Debug, Clone)]
pub struct ServerSpec {
    /// The URL as written (`ws://127.0.0.1:9001`).
    pub url: String,
    /// Host and port to listen on, from the URL.
    pub listen: String,
    /// Where reports go.
    pub outdir: PathBuf,
    /// Selected case ids, in id order: `/runCase?case=N` runs the Nth.
    pub cases: Vec<String>,
    /// `exclude-agent-cases`: agent pattern → case patterns (both anchored).
    pub exclude_agent_cases: Vec<(String, Vec<String>)>,
    /// Protocol timeouts (`options`).
    pub timeouts: Timeouts,
    /// Fragment size for the message API (`autoFragmentSize` option; 0: none).
    pub auto_fragment_size: usize,
    /// `wss://`: the certificate chain and key files (`cert`, `key`).
    pub tls: Option<(PathBuf, PathBuf)>,
}

impl ServerSpec {
    /// True if `case` is excluded for `agent`.
    #[must_use]
    pub fn excluded_for(&self, agent: &str, case: &str) -> bool {
        self.exclude_agent_cases.iter().any(|(a, cs)| glob(a, agent, true) && cs.iter().any(|c| glob(c, case, true)))
    }
}

/// Reads and resolves a `fuzzingserver` spec; `wsuri` (the `-w` option)
/// stands in for a missing `url`.
pub fn load_server(path: &Path, wsuri: Option<&str>) -> Result<ServerSpec, SpecError> {
    parse_server(&read(path)?, wsuri)
}

/// Parses a `fuzzingserver` spec from JSON text.
pub fn parse_server(text: &str, wsuri: Option<&str>) -> Result<ServerSpec, SpecError> {
    let obj = object(text, "\"url\", \"cases\" and \"outdir\"")?;
    for key in obj.keys() {
        match key.as_str() {
            "url" | "outdir" | "options" | "cases" | "exclude-cases" | "exclude-agent-cases" | "webport" => {}
            "protocols" => eprintln!("wstest: \"protocols\" is accepted and, as in the reference, not used"),
            "key" | "cert" => {}
            other => eprintln!("wstest: ignoring unknown spec key \"{other}\""),
        }
    }
    let url = match (obj.get("url"), wsuri) {
        (Some(Value::String(u)), _) => u.clone(),
        (None, Some(u)) => u.to_owned(),
        (None, None) => {
            return err(
                "the spec has no \"url\": add \"url\": \"ws://127.0.0.1:9001\" (where to listen) or pass -w URL",
            );
        }
        (Some(other), _) => {
            return err(format!("\"url\" must be a string such as \"ws://127.0.0.1:9001\", not {other}"));
        }
    };
    let uri: http::Uri = url.parse().map_err(|e| SpecError(format!("\"url\" {url:?} is not a URL: {e}")))?;
    let target = Target::from_uri(&uri).map_err(|e| SpecError(format!("\"url\": {e}")))?;
    let path = |name: &str| match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(p)) => Ok(Some(PathBuf::from(p))),
        Some(other) => err(format!("\"{name}\" must be a PEM file path, not {other}")),
    };
    let tls = match (path("cert")?, path("key")?) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) => None,
        _ => return err("TLS needs both \"cert\" (the certificate chain, PEM) and \"key\" (its private key, PEM)"),
    };
    if target.tls && tls.is_none() {
        return err("\"url\" uses wss://: add \"cert\" and \"key\" (PEM files), or pass -c CERT -k KEY");
    }
    if uri.query().is_some() {
        return err(format!("\"url\" {url:?} must not have a query: the clients add /runCase?case=N&agent=A to it"));
    }
    let listen = if target.host.contains(':') {
        format!("[{}]:{}", target.host, target.port)
    } else {
        format!("{}:{}", target.host, target.port)
    };
    let mut auto_fragment_size = 0;
    let timeouts = timeouts_from(obj.get("options"), "options", Timeouts::default(), &mut auto_fragment_size)?;
    Ok(ServerSpec {
        url,
        listen,
        outdir: outdir(&obj, "./reports/clients/")?,
        cases: selection(&obj)?,
        exclude_agent_cases: exclude_agent_cases(&obj)?,
        timeouts,
        auto_fragment_size,
        tls,
    })
}

/// The `fuzzingserver` spec written when none is given.
pub const SERVER_TEMPLATE: &str = r#"{
   "url": "ws://127.0.0.1:9001",
   "outdir": "./reports/clients",
   "cases": ["*"],
   "exclude-cases": [],
   "exclude-agent-cases": {}
}
"#;

/// The `fuzzingclient` spec written when none is given.
pub const CLIENT_TEMPLATE: &str = r#"{
   "outdir": "./reports/servers",
   "servers": [ { "url": "ws://127.0.0.1:9001" } ],
   "cases": ["*"],
   "exclude-cases": [],
   "exclude-agent-cases": {}
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_and_exclusion() {
        let s = parse_client(r#"{"servers": [{"agent": "A", "url": "ws://127.0.0.1:9001"}], "cases": ["2.1*", "1.1.1"], "exclude-cases": ["2.11"]}"#, None).unwrap();
        assert_eq!(s.cases, vec!["1.1.1", "2.1", "2.10"]);
        let s = parse_client(r#"{"servers": [{"url": "ws://h:1"}], "cases": ["*"]}"#, None).unwrap();
        assert_eq!(s.cases.len(), 517);
        assert_eq!(s.outdir, PathBuf::from("./reports/servers/"));
    }

    #[test]
    fn errors_name_the_key() {
        let e = |t: &str| parse_client(t, None).unwrap_err().0;
        assert!(
            e(r#"{"servers": [{"agent": "Foo", "url": "ws://h:1"}, {"agent": "foo!", "url": "ws://h:2"}]}"#)
                .contains("\"servers[1]\".\"agent\": \"foo!\" would share report files with \"servers[0]\"'s \"Foo\"")
        );
        assert!(
            e(r#"{"servers": [{"url": "ws://h:1"}], "cases": ["1.1.99"]}"#)
                .contains("\"cases\" names the case \"1.1.99\"")
        );
        assert!(e(r#"{"servers": [{"agent": "x"}]}"#).contains("servers[0]"));
        assert!(e(r#"{"servers": [{"url": 5}]}"#).contains("\"servers[0]\".\"url\""));
        assert!(e(r#"{"servers": [{"url": "http://h/"}]}"#).contains("ws://"));
        assert!(e(r#"{"servers": []}"#).contains("no servers"));
        let long = format!(r#"{{"servers": [{{"url": "ws://h:1", "agent": "{}"}}]}}"#, "x-".repeat(201));
        assert!(e(&long).contains("\"servers[0]\".\"agent\": the agent name is too long for report file names: their agent part (letters and digits, _ between words) would be 401 characters"));
        assert!(e(r#"{"servers": [{"url": "ws://h:1"}], "cases": "1.*"}"#).contains("\"cases\" must be a list"));
        assert!(e("{").contains("not valid JSON"));
        assert!(parse_client(r#"{"servers": []}"#, Some("ws://127.0.0.1:9001")).is_ok());
    }

    #[test]
    fn timeouts_past_a_day_are_refused_naming_the_key() {
        let with = |options: &str| {
            parse_client(&format!(r#"{{"servers": [{{"url": "ws://h:1", "options": {options}}}]}}"#), None)
        };
        for huge in ["1e20", "1e19", "86401", "-1", "\"5\""] {
            let e = with(&format!(r#"{{"closeHandshakeTimeout": {huge}}}"#)).unwrap_err().0;
            assert!(
                e.contains(
                    "\"servers[0].options\".\"closeHandshakeTimeout\" must be a number of seconds from 0 to 86400"
                ),
                "{e}"
            );
        }
        let e = parse_server(r#"{"url": "ws://h:1", "options": {"openHandshakeTimeout": 1e20}}"#, None).unwrap_err().0;
        assert!(e.contains("\"openHandshakeTimeout\" must be a number of seconds from 0 to 86400"), "{e}");
        let s = with(r#"{"serverConnectionDropTimeout": 86400, "openHandshakeTimeout": 0.5}"#).unwrap();
        assert_eq!(s.servers[0].timeouts.server_drop, Duration::from_secs(86_400));
        assert_eq!(s.servers[0].timeouts.open_handshake, Duration::from_millis(500));
    }

    #[test]
    fn timeouts_of_0_set_no_deadline() {
        let s = parse_client(
            r#"{"servers": [{"url": "ws://h:1", "options": {"openHandshakeTimeout": 0}}],
                "options": {"openHandshakeTimeout": 2, "closeHandshakeTimeout": 0, "serverConnectionDropTimeout": 0}}"#,
            None,
        )
        .unwrap();
        let t = s.servers[0].timeouts;
        assert_eq!(
            (t.close_handshake, t.server_drop, t.open_handshake),
            (Duration::ZERO, Duration::ZERO, Duration::ZERO)
        );
        assert_eq!(t.open_handshake_deadline(), None);
        let s = parse_server(r#"{"url": "ws://h:1", "options": {"openHandshakeTimeout": 0.25}}"#, None).unwrap();
        assert!(s.timeouts.open_handshake_deadline().is_some());
    }

    #[test]
    fn server_specs() {
        let s = parse_server(r#"{"url": "ws://0.0.0.0:9001", "cases": ["12.*"], "exclude-cases": ["12.5.*"]}"#, None)
            .unwrap();
        assert_eq!((s.listen.as_str(), s.cases.len()), ("0.0.0.0:9001", 72));
        assert_eq!(s.outdir, PathBuf::from("./reports/clients/"));
        let e = |t: &str| parse_server(t, None).unwrap_err().0;
        assert!(e("{}").contains("no \"url\""));
        assert!(e(r#"{"url": "ws://h:1/?a=b"}"#).contains("must not have a query"));
        assert!(e(r#"{"url": "ws://h:1", "cert": "c.pem"}"#).contains("TLS"));
        assert!(parse_server("{}", Some("ws://127.0.0.1:9001")).is_ok());
    }

    #[test]
    fn exclude_agent_cases_are_anchored() {
        let s = parse_client(r#"{"servers": [{"url": "ws://h:1"}], "exclude-agent-cases": {"Srv*": ["6.4.*"]}}"#, None)
            .unwrap();
        assert!(s.excluded_for("Srv1", "6.4.1"));
        assert!(!s.excluded_for("MySrv", "6.4.1"));
        assert!(!s.excluded_for("Srv1", "6.5.1"));
    }
}
