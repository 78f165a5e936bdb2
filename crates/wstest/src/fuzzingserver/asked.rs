//! What a request to the fuzzing server asks for, read from its target the
//! way the reference's server reads it (Python 2's `urlparse` and
//! `parse_qs`, then its `onConnect`), not by the rules of RFC 3986 and
//! HTML forms:
//!
//! - the path loses the parameters of its last segment (`/runCase;v=1` is
//!   `/runCase`: everything from the first `;` after the last `/`);
//! - the query is cut at `&` and at `;` alike; a piece without `=`, or with
//!   nothing after it, is passed over; `+` is a space and `%XX` an octet;
//! - `agent`, `case`, `casetuple` and `shutdownOnComplete` may each be
//!   given once (any other parameter as often as one likes), and a bad
//!   `case` or `casetuple` refuses the request whatever its path;
//! - `case` is read as Python's `int` reads it (white space around it, a
//!   sign, leading zeros), `casetuple` trimmed; a case number of 0 names no
//!   case, and `case` wins over `casetuple`.

use crate::wire::http_head::{SHOWN, clip, py_int, py_space};

/// What the request asks for.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Asked {
    /// The agent, if named.
    pub agent: Option<String>,
    /// The case (1-based), if named: within the server's cases.
    pub case: Option<usize>,
    /// `shutdownOnComplete` is true or yes (any case).
    pub shutdown: bool,
}

/// The path the reference's server dispatches on: `path` without the
/// parameters of its last segment.
pub(super) fn path(path: &str) -> &str {
    let last = path.rfind('/').unwrap_or(0);
    path[last..].find(';').map_or(path, |i| &path[..last + i])
}

/// The query's parameters, in order.
fn pairs(query: &str) -> Vec<(String, String)> {
    query
        .split(['&', ';'])
        .filter_map(|piece| piece.split_once('='))
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| (py_unquote(name), py_unquote(value)))
        .collect()
}

/// `s` decoded as Python 2's `parse_qs` decodes a name or value of a
/// request target that is text (the reference decodes the head as UTF-8
/// first): `+` is a space, and each `%XX` the character U+00XX (Latin-1:
/// `%C3%A9` is `Ã©`, not `é`); a `%` not followed by two hex digits stays.
fn py_unquote(s: &str) -> String {
    let s = s.replace('+', " ");
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let hex = rest.get(i + 1..i + 3).filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(octet) => {
                out.push(char::from(octet));
                rest = &rest[i + 3..];
            }
            None => {
                out.push('%');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Reads `query` (`None`: the target has none) for a server whose cases
/// are `count` many, `tuple` finding a case id among them (1-based).
///
/// # Errors
/// What the reference's server would refuse the request for.
pub(super) fn read(query: Option<&str>, count: usize, tuple: impl Fn(&str) -> Option<usize>) -> Result<Asked, String> {
    let pairs = pairs(query.unwrap_or(""));
    let once = |name: &str| -> Result<Option<&str>, String> {
        let mut values = pairs.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str());
        match (values.next(), values.next()) {
            (first, None) => Ok(first),
            _ => Err(format!("the query parameter \"{name}\" is given more than once")),
        }
    };
    let agent = once("agent")?.map(str::to_owned);
    let mut case: Option<i128> = None;
    if let Some(id) = once("casetuple")? {
        let id = id.trim_matches(py_space);
        let n = tuple(id).ok_or_else(|| {
            format!("casetuple={:?} is not among the {count} cases this server runs", clip(id, SHOWN))
        })?;
        case = Some(n as i128);
    }
    if let Some(n) = once("case")? {
        case = Some(py_int(n).ok_or_else(|| format!("case={:?} is not a case number", clip(n, SHOWN)))?);
    }
    let shutdown = once("shutdownOnComplete")?.is_some_and(|v| matches!(v.to_lowercase().as_str(), "true" | "yes"));
    let case = match case {
        None | Some(0) => None,
        Some(n) => match usize::try_from(n) {
            Ok(i @ 1..) if i <= count => Some(i),
            _ => return Err(format!("case {n} not found: this server runs cases 1 to {count}")),
        },
    };
    Ok(Asked { agent, case, shutdown })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(query: &str) -> Result<Asked, String> {
        read(Some(query), 5, |id| (id == "2.1").then_some(3))
    }

    #[test]
    fn the_path_loses_its_last_segments_parameters() {
        assert_eq!(path("/runCase;v=1"), "/runCase");
        assert_eq!(path("/runCase;a;b"), "/runCase");
        assert_eq!(path("/a;x/runCase"), "/a;x/runCase");
        assert_eq!(path("/runCase"), "/runCase");
    }

    #[test]
    fn queries_are_read_as_python_2_reads_them() {
        let a = asked("case=2;agent=a+b%21&x=1&x=2&agent=").unwrap();
        assert_eq!(a, Asked { agent: Some("a b!".into()), case: Some(2), shutdown: false });
        assert_eq!(asked("case=+3&agent").unwrap().case, Some(3));
        assert_eq!(asked("case=%2B%203%20").unwrap().case, Some(3));
        assert_eq!(asked("case=004").unwrap().case, Some(4));
        assert_eq!(asked("case=0&casetuple=2.1").unwrap().case, None);
        assert_eq!(asked("casetuple=+2.1+").unwrap().case, Some(3));
        assert_eq!(asked("case=1&casetuple=2.1").unwrap().case, Some(1));
        assert!(asked("shutdownOnComplete=YES").unwrap().shutdown);
        assert!(asked("case=6").is_err());
        assert!(asked("case=-1").is_err());
        assert!(asked("case=3x").is_err());
        assert!(asked("case=1&case=2").is_err());
        assert!(asked("agent=a&agent=b").is_err());
        assert!(asked("casetuple=9.9").is_err());
    }

    #[test]
    fn escapes_are_latin_1_as_in_python_2() {
        assert_eq!(py_unquote("caf%C3%A9"), "caf\u{c3}\u{a9}");
        assert_eq!(py_unquote("caf%e9+x"), "caf\u{e9} x");
        assert_eq!(py_unquote("100%"), "100%");
        assert_eq!(py_unquote("%zz%4"), "%zz%4");
        assert_eq!(py_unquote("é%41"), "éA");
        // A non-breaking space is white space to Python's int.
        assert_eq!(asked("case=%A03").unwrap().case, Some(3));
    }
}
