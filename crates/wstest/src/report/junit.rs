//! JUnit XML: one test suite per agent, one test case per case; a case that
//! does not pass is a failure carrying both verdicts and their reasons.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::CaseResult;
use crate::cases::{category_name, id_key};

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 §2.2: outside its Char production a document is not
            // well-formed, escaped or not; such characters (C0 controls,
            // U+FFFE, U+FFFF) become U+FFFD.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => out.push('\u{fffd}'),
            '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// The JUnit document for `results`.
#[must_use]
pub fn render(results: &[CaseResult]) -> String {
    let mut agents: BTreeMap<&str, Vec<&CaseResult>> = BTreeMap::new();
    for r in results {
        agents.entry(r.agent.as_str()).or_default().push(r);
    }
    let total = results.len();
    let failures = results.iter().filter(|r| !r.verdict.passed()).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, "<testsuites name=\"wstest\" tests=\"{total}\" failures=\"{failures}\">");
    for (agent, rs) in agents {
        let fails = rs.iter().filter(|r| !r.verdict.passed()).count();
        let secs: f64 = rs.iter().map(|r| r.duration_ms as f64 / 1000.0).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{fails}\" time=\"{secs:.3}\">",
            escape(agent),
            rs.len()
        );
        for r in rs {
            let cat = id_key(&r.id)[0];
            let _ = write!(
                out,
                "    <testcase classname=\"{}.{}\" name=\"{}\" time=\"{:.3}\"",
                escape(agent),
                escape(category_name(cat)),
                escape(&r.id),
                r.duration_ms as f64 / 1000.0
            );
            if r.verdict.passed() {
                out.push_str("/>\n");
            } else {
                let v = &r.verdict;
                let _ = writeln!(
                    out,
                    ">\n      <failure message=\"behavior {} / close {}\">{}\n{}\n{}</failure>\n    </testcase>",
                    escape(&v.behavior),
                    escape(&v.behavior_close),
                    escape(&r.description),
                    escape(&v.result),
                    escape(&v.result_close)
                );
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn characters_xml_cannot_hold_become_replacement_characters() {
        assert_eq!(escape("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
        assert_eq!(escape("J\u{ffff}\u{fffe}\u{1b}\tok\u{e9}"), "J\u{fffd}\u{fffd}\u{fffd}\tok\u{e9}");
    }
}
