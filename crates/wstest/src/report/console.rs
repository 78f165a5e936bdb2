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
        let _ = writeln!(out, "\n{}: {passed}/{} cases pass", printable(agent), rs.len());
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
                    r.id,
                    r.verdict.behavior,
                    r.verdict.behavior_close,
                    printable(&r.verdict.result)
                );
            }
        }
    }
    out
}

/// `s` for a terminal: control characters (line breaks, escape sequences)
/// written as Rust escapes, so that a name or a reason that came from the
/// peer can neither forge lines of the summary nor drive the terminal.
#[must_use]
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(unsafe_on_a_terminal) {
        return s.into();
    }
    s.chars()
        .map(|c| if unsafe_on_a_terminal(c) { c.escape_default().to_string() } else { c.to_string() })
        .collect::<String>()
        .into()
}

/// Control characters (escape sequences, line breaks), and the invisible
/// ones that reorder or hide text: the bidirectional overrides, embeddings,
/// isolates and marks (a name could show its text backwards and move what
/// follows it), the zero-width characters and the byte-order mark.
fn unsafe_on_a_terminal(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061c}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(printable("autostrada 0.1 ✓"), "autostrada 0.1 ✓");
        assert_eq!(printable("Evil\n\nMyServer: 517/517\u{1b}[2K"), "Evil\\n\\nMyServer: 517/517\\u{1b}[2K");
        // Right-to-left override and a zero-width space: shown, not obeyed.
        assert_eq!(printable("abc\u{202e}fed\u{200b}"), "abc\\u{202e}fed\\u{200b}");
    }
}
