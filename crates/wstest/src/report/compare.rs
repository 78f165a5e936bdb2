//! `wstest compare OLD NEW`: what changed between two runs' `index.json`,
//! case by case, the regressions first — so CI can fail on a case that got
//! worse rather than on an absolute count.
//!
//! A case's standing is the worse of its two verdicts, ranked: clean pass
//! (OK, INFORMATIONAL) < tolerated (NON-STRICT, WRONG CODE, FAILED BY
//! CLIENT, NO_CLOSE) < UNIMPLEMENTED < failed (anything else).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use serde_json::Value;

use crate::cases::id_key;
use crate::report::console::printable;

/// How good a verdict is; lower is better.
fn rank(verdict: &str) -> u8 {
    match verdict {
        "OK" | "INFORMATIONAL" => 0,
        "NON-STRICT" | "WRONG CODE" | "FAILED BY CLIENT" | "NO_CLOSE" => 1,
        "UNIMPLEMENTED" => 2,
        _ => 3,
    }
}

/// One case of one agent as a run left it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Standing {
    behavior: String,
    close: String,
}

impl Standing {
    fn rank(&self) -> u8 {
        rank(&self.behavior).max(rank(&self.close))
    }
}

impl std::fmt::Display for Standing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} / close {}", self.behavior, self.close)
    }
}

type Run = BTreeMap<String, BTreeMap<String, Standing>>;

fn load(dir: &Path) -> Result<Run, String> {
    let path = if dir.is_dir() { dir.join("index.json") } else { dir.to_owned() };
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let value: Value = serde_json::from_str(&text).map_err(|e| format!("{} is not valid JSON: {e}", path.display()))?;
    let agents = value.as_object().ok_or_else(|| {
        format!("{}: expected an object of agents, as wstest and the reference write", path.display())
    })?;
    let mut run = Run::new();
    for (agent, cases) in agents {
        let cases = cases
            .as_object()
            .ok_or_else(|| format!("{}: agent {agent:?} should map case ids to entries", path.display()))?;
        let entry = run.entry(agent.clone()).or_default();
        for (id, c) in cases {
            let text = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("MISSING").to_owned();
            entry.insert(id.clone(), Standing { behavior: text("behavior"), close: text("behaviorClose") });
        }
    }
    Ok(run)
}

/// What changed for one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// Worse than before.
    Regressed,
    /// Present before, gone now.
    Removed,
    /// As good as before, but a different verdict (e.g. another failure).
    Changed,
    /// Better than before.
    Improved,
    /// New in this run.
    Added,
}

impl Change {
    fn heading(self) -> &'static str {
        match self {
            Self::Regressed => "regressed",
            Self::Removed => "removed",
            Self::Changed => "changed",
            Self::Improved => "improved",
            Self::Added => "added",
        }
    }
}

/// One case that differs between the runs.
#[derive(Debug, Clone)]
pub struct Row {
    /// How it changed.
    pub change: Change,
    /// Agent name (the new one, when a single agent was renamed).
    pub agent: String,
    /// Case id.
    pub id: String,
    /// Its verdicts before (`None`: not run).
    pub old: Option<String>,
    /// Its verdicts now (`None`: not run).
    pub new: Option<String>,
}

/// The differences between two runs.
#[derive(Debug, Default)]
pub struct Comparison {
    /// The cases that differ, regressions first, then by agent and case.
    pub rows: Vec<Row>,
    /// Cases that stayed exactly as they were.
    pub unchanged: usize,
    /// Agent names matched although they differ (one agent on each side).
    pub renamed: Option<(String, String)>,
}

impl Comparison {
    /// Some case got worse, or disappeared (a run cut short loses cases):
    /// `wstest compare` then exits 1.
    #[must_use]
    pub fn regressed(&self) -> bool {
        self.rows.iter().any(|r| matches!(r.change, Change::Regressed | Change::Removed))
    }

    /// How many cases changed in `kind`.
    #[must_use]
    pub fn count(&self, kind: Change) -> usize {
        self.rows.iter().filter(|r| r.change == kind).count()
    }

    /// The comparison as text, one line per changed case.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Some((old, new)) = &self.renamed {
            let _ = writeln!(out, "comparing agent {old:?} (old) with {new:?} (new)");
        }
        let mut last = None;
        for r in &self.rows {
            if last != Some(r.change) {
                let _ = writeln!(out, "{} ({}):", r.change.heading(), self.count(r.change));
                last = Some(r.change);
            }
            // Agent names come from servers and clients (their `Server`
            // header, their `agent=`), and every field from a file that
            // may not be wstest's: escaped, so no escape sequence in them
            // rewrites the terminal (or this summary) as it is shown.
            let was = printable(r.old.as_deref().unwrap_or("not run"));
            let now = printable(r.new.as_deref().unwrap_or("not run"));
            let _ = writeln!(out, "  {}  {:<9} {was}  ->  {now}", printable(&r.agent), printable(&r.id));
        }
        let _ = writeln!(
            out,
            "{} regressed, {} removed, {} changed, {} improved, {} added, {} unchanged",
            self.count(Change::Regressed),
            self.count(Change::Removed),
            self.count(Change::Changed),
            self.count(Change::Improved),
            self.count(Change::Added),
            self.unchanged
        );
        out
    }
}

fn compare_runs(mut old: Run, new: Run) -> Comparison {
    let mut cmp = Comparison::default();
    // One agent on each side under different names (a version in the agent
    // string, say): compare them with each other.
    if old.len() == 1
        && new.len() == 1
        && old.keys().next() != new.keys().next()
        && let (Some((o, cases)), Some(n)) = (old.pop_first(), new.keys().next().cloned())
    {
        cmp.renamed = Some((o, n.clone()));
        old.insert(n, cases);
    }
    let agents: std::collections::BTreeSet<String> = old.keys().chain(new.keys()).cloned().collect();
    let empty = BTreeMap::new();
    for agent in agents {
        let (was, now) = (old.get(&agent).unwrap_or(&empty), new.get(&agent).unwrap_or(&empty));
        let ids: std::collections::BTreeSet<&String> = was.keys().chain(now.keys()).collect();
        for id in ids {
            let change = match (was.get(id), now.get(id)) {
                (Some(a), Some(b)) if a == b => {
                    cmp.unchanged += 1;
                    continue;
                }
                (Some(a), Some(b)) if b.rank() > a.rank() => Change::Regressed,
                (Some(a), Some(b)) if b.rank() < a.rank() => Change::Improved,
                (Some(_), Some(_)) => Change::Changed,
                (Some(_), None) => Change::Removed,
                (None, Some(_)) => Change::Added,
                (None, None) => continue,
            };
            let show = |s: Option<&Standing>| s.map(ToString::to_string);
            cmp.rows.push(Row {
                change,
                agent: agent.clone(),
                id: id.clone(),
                old: show(was.get(id)),
                new: show(now.get(id)),
            });
        }
    }
    cmp.rows.sort_by(|a, b| (a.change, &a.agent, id_key(&a.id)).cmp(&(b.change, &b.agent, id_key(&b.id))));
    cmp
}

/// Compares the runs in `old` and `new` (report directories, or their
/// `index.json` files).
///
/// # Errors
/// A message naming the file when either index cannot be read.
pub fn compare(old: &Path, new: &Path) -> Result<Comparison, String> {
    Ok(compare_runs(load(old)?, load(new)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(agent: &str, cases: &[(&str, &str, &str)]) -> Run {
        let mut r = Run::new();
        let e = r.entry(agent.to_owned()).or_default();
        for (id, b, c) in cases {
            e.insert((*id).to_owned(), Standing { behavior: (*b).to_owned(), close: (*c).to_owned() });
        }
        r
    }

    #[test]
    fn regressions_come_first_and_every_kind_is_named() {
        let old =
            run("a", &[("1.1.1", "OK", "OK"), ("2.1", "FAILED", "OK"), ("3.1", "OK", "OK"), ("9.1.1", "OK", "OK")]);
        let new =
            run("a", &[("1.1.1", "OK", "UNCLEAN"), ("2.1", "OK", "OK"), ("3.1", "OK", "OK"), ("10.1.1", "OK", "OK")]);
        let cmp = compare_runs(old, new);
        let kinds: Vec<Change> = cmp.rows.iter().map(|r| r.change).collect();
        assert_eq!(kinds, [Change::Regressed, Change::Removed, Change::Improved, Change::Added]);
        assert_eq!(cmp.rows[0].id, "1.1.1");
        assert_eq!(cmp.unchanged, 1);
        assert!(cmp.regressed());
        let text = cmp.render();
        assert!(text.starts_with("regressed (1):\n  a  1.1.1     OK / close OK  ->  OK / close UNCLEAN\n"), "{text}");
        assert!(text.contains("removed (1):") && text.contains("9.1.1") && text.contains("not run"));
        assert!(text.ends_with("1 regressed, 1 removed, 0 changed, 1 improved, 1 added, 1 unchanged\n"));
    }

    #[test]
    fn a_different_failure_is_a_change_not_a_regression() {
        let cmp = compare_runs(run("a", &[("1.1.1", "FAILED", "OK")]), run("a", &[("1.1.1", "FAILED", "UNCLEAN")]));
        assert_eq!(cmp.rows[0].change, Change::Changed);
        assert!(!cmp.regressed());
    }

    #[test]
    fn a_renamed_single_agent_is_compared_with_itself() {
        let cmp =
            compare_runs(run("lib/1.0", &[("1.1.1", "OK", "OK")]), run("lib/1.1", &[("1.1.1", "NON-STRICT", "OK")]));
        assert_eq!(cmp.renamed, Some(("lib/1.0".into(), "lib/1.1".into())));
        assert_eq!(cmp.rows[0].change, Change::Regressed);
        assert_eq!(cmp.rows[0].agent, "lib/1.1");
    }

    #[test]
    fn a_hostile_agent_name_cannot_rewrite_the_summary() {
        // A client's `agent=` (or a server's `Server` header) that clears
        // the screen and forges a line of its own.
        let agent = "x\u{1b}[2J\nALL GOOD";
        let cmp = compare_runs(run(agent, &[("1.1.1", "OK", "OK")]), run(agent, &[("1.1.1", "FAILED", "OK")]));
        let text = cmp.render();
        assert!(!text.contains('\u{1b}') && !text.contains("\nALL GOOD"), "{text}");
        assert!(text.contains("x\\u{1b}[2J\\nALL GOOD"), "{text}");
    }

    #[test]
    fn unimplemented_ranks_between_tolerated_and_failed() {
        assert!(rank("UNIMPLEMENTED") > rank("NON-STRICT") && rank("UNIMPLEMENTED") < rank("FAILED"));
    }
}
