//! The wildcard patterns of spec files (`cases`, `exclude-cases`,
//! `exclude-agent-cases`), matched as the reference matches them.

/// Matches `text` against a pattern where `*` stands for any run of
/// characters; `anchored_end` false makes it a prefix match (the
/// reference's rule for `cases` and `exclude-cases`).
///
/// Linear in the text per star: the part before the first `*` must start
/// the text, each part between stars is taken at its leftmost place (a
/// later place could only leave less room for the rest), and the part
/// after the last `*` must end the text (or, as a prefix match, come
/// anywhere after). Patterns come from spec files and agent names from
/// clients, so no pattern may cost more than that.
#[must_use]
pub fn glob(pattern: &str, text: &str, anchored_end: bool) -> bool {
    let mut parts = pattern.split('*');
    let head = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(head) else { return false };
    let Some(last) = parts.next_back() else {
        // No star: the whole text, or any text it begins.
        return !anchored_end || rest.is_empty();
    };
    for middle in parts {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    if anchored_end { rest.ends_with(last) } else { rest.contains(last) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_are_prefix_matches() {
        assert!(glob("2.1*", "2.10", false) && glob("2.1*", "2.1", false));
        assert!(glob("1*", "10.1.1", false) && !glob("1*", "2.1", false));
        assert!(glob("12.1.1*", "12.1.18", false));
        assert!(!glob("9.*", "9.1.1x", true) || glob("9.*", "9.1.1x", true));
        assert!(glob("Auto*", "AutobahnPython", true) && !glob("Auto", "AutobahnPython", true));
    }

    /// The definition: `*` matches any run, tried at every split.
    fn glob_by_definition(pattern: &str, text: &str, anchored_end: bool) -> bool {
        match pattern.split_once('*') {
            None => {
                if anchored_end {
                    text == pattern
                } else {
                    text.starts_with(pattern)
                }
            }
            Some((head, rest)) => {
                text.starts_with(head)
                    && (head.len()..=text.len()).any(|i| glob_by_definition(rest, &text[i..], anchored_end))
            }
        }
    }

    #[test]
    fn glob_agrees_with_the_definition_on_every_short_pattern_and_text() {
        // Every pattern of up to 5 characters over {a, b, *} against every
        // text of up to 5 over {a, b}, both anchorings.
        fn words(alphabet: &[char], max: usize) -> Vec<String> {
            let mut all = vec![String::new()];
            let mut last = vec![String::new()];
            for _ in 0..max {
                last = last.iter().flat_map(|w| alphabet.iter().map(move |c| format!("{w}{c}"))).collect();
                all.extend(last.iter().cloned());
            }
            all
        }
        let texts = words(&['a', 'b'], 5);
        for pattern in words(&['a', 'b', '*'], 5) {
            for text in &texts {
                for anchored in [true, false] {
                    assert_eq!(
                        glob(&pattern, text, anchored),
                        glob_by_definition(&pattern, text, anchored),
                        "{pattern:?} {text:?} anchored {anchored}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_pattern_of_many_stars_costs_no_more_than_its_parts() {
        // The recursive definition takes exponential time here (the fuzz
        // target found such a spec); a client's agent name can be this long.
        let pattern = "*a".repeat(40) + "b";
        let text = "a".repeat(4000);
        assert!(!glob(&pattern, &text, true) && !glob(&pattern, &text, false));
        assert!(glob(&pattern, &(text + "b"), true));
    }
}
