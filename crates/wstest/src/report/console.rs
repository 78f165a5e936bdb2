//! The summary printed at the end of a run: pass counts per category and
//! agent, then every case that did not pass with its verdicts.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::CaseResult;
use crate::cases::{category_name, id_key};

/// The summary text for `results` (sorted by agent and id).
#[must_use]
pub fn summary(results: &[CaseResult]) -> String {
    let mut out = String::new();
    let mut agents: BTreeMap<&str, Vec<&CaseResult>> = BTreeMap::new();
    for r in results {
        agents.entry(r.agent.as_str()).or_default().push(r);
    }
    for (agent, rs) in &agents {
        let passed = rs.iter().filter(|r| r.verdict.passed()).count();
        let _ = writeln!(out, "\n{agent}: {passed}/{} cases pass", rs.len());
        let mut cats: BTreeMap<u32, (usize, usize)> = BTreeMap::new();
        for r in rs {
            let c = cats.entry(id_key(&r.id)[0]).or_default();
            c.1 += 1;
            if r.verdict.passed() {
                c.0 += 1;
            }
        }
        let _ = writeln!(out, "  {:<4} {:<44} {:>9}", "cat", "name", "passed");
        for (cat, (ok, n)) in &cats {
            let mark = if ok == n { "" } else { "  <-" };
            let _ = writeln!(out, "  {cat:<4} {:<44} {ok:>4}/{n:<4}{mark}", category_name(*cat));
        }
        let mut counts: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        for r in rs {
            *counts.entry((r.verdict.behavior.as_str(), r.verdict.behavior_close.as_str())).or_default() += 1;
        }
        let tally: Vec<String> = counts.iter().map(|((b, c), n)| format!("{b}/{c}: {n}")).collect();
        let _ = writeln!(out, "  verdicts (behavior/close): {}", tally.join(", "));
        let failing: Vec<&&CaseResult> = rs.iter().filter(|r| !r.verdict.passed()).collect();
        if !failing.is_empty() {
            let _ = writeln!(out, "  not passing:");
            for r in failing {
                let _ = writeln!(
                    out,
                    "    {:<8} {:<14} close={:<16} {}",
                    r.id, r.verdict.behavior, r.verdict.behavior_close, r.verdict.result
                );
            }
        }
    }
    out
}
