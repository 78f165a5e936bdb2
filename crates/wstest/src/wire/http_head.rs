//! HTTP heads (the upgrade request and its response) read the way the
//! reference reads them: with Python's notions of line breaks and white
//! space, not by an HTTP/1.1 parser. Both sides of the fuzzer use it, so
//! that a peer's head is taken or refused as the reference takes or refuses
//! it.

/// Where a head ends: the offset just past the first CRLF CRLF in `buf`,
/// which was searched up to `scanned` before (a terminator straddling the
/// two reads is still found).
pub(crate) fn head_end(buf: &[u8], scanned: usize) -> Option<usize> {
    let from = scanned.saturating_sub(3);
    buf[from..].windows(4).position(|w| w == b"\r\n\r\n").map(|i| from + i + 4)
}

/// Whether `octets` decode as UTF-8 the way Python 2's codec decodes them
/// (`str.decode('utf8')`, which the reference applies to a whole head): as
/// UTF-8, except that an encoded UTF-16 surrogate (`ED A0..BF 80..BF`) is
/// taken, where Rust (and Python 3) refuse it. Overlong forms, code points
/// past U+10FFFF and cut sequences are refused by both.
pub(crate) fn py2_utf8(octets: &[u8]) -> bool {
    py2_text(octets).is_some()
}

/// `octets` as text the way Python 2 decodes them ([`py2_utf8`]), `None`
/// where its codec raises. An encoded surrogate, which a Rust string
/// cannot hold, becomes U+FFFD: as long in UTF-8 (three octets), and like
/// the lone surrogate Python holds neither white space, nor a line break,
/// nor ASCII, so the lines and fields read from the text are the
/// reference's.
pub(crate) fn py2_text(octets: &[u8]) -> Option<std::borrow::Cow<'_, str>> {
    if let Ok(text) = std::str::from_utf8(octets) {
        return Some(text.into());
    }
    let mut fixed = octets.to_vec();
    let mut at = 0;
    while let Err(e) = std::str::from_utf8(&fixed[at..]) {
        at += e.valid_up_to();
        // Only an encoded surrogate is taken; any other error is Python's too.
        if !matches!(fixed[at..], [0xed, 0xa0..=0xbf, 0x80..=0xbf, ..]) {
            return None;
        }
        fixed[at..at + 3].copy_from_slice("\u{fffd}".as_bytes());
        at += 3;
    }
    String::from_utf8(fixed).ok().map(Into::into)
}

/// A request target as our HTTP types can hold it, read the same by the
/// reference's rules: the reference takes any octet in a target (Python's
/// `urlparse` and `parse_qs`), the `http` crate refuses controls and some
/// of `"<>\^`{|}`. Those are written as `%XX`, which `parse_qs` decodes to
/// the very character (a `%` before them, not followed by two hex digits,
/// stays a `%` either way), and which keeps a path that held one from
/// naming a resource, as it did.
pub(crate) fn holdable_target(target: &str) -> std::borrow::Cow<'_, str> {
    let escape = |c: char| c.is_ascii_control() || "\"<>\\^`{|}".contains(c);
    if !target.contains(escape) {
        return target.into();
    }
    let mut out = String::with_capacity(target.len() + 8);
    for c in target.chars() {
        if escape(c) {
            out.push_str(&format!("%{:02X}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out.into()
}

/// Whitespace as Python's unicode `strip` and `split` see it: Unicode
/// White_Space and the separators U+001C to U+001F.
pub(crate) fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// A number as Python 2's `int` reads a string: white space around it, a
/// sign (white space may follow it), then decimal digits, leading zeros
/// allowed. (Python takes digits of other scripts too; only ASCII ones are
/// read here.)
pub(crate) fn py_int(s: &str) -> Option<i128> {
    let s = s.trim_matches(py_space);
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'+') => (false, s[1..].trim_start_matches(py_space)),
        Some(b'-') => (true, s[1..].trim_start_matches(py_space)),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Past i128 a number is far out of any range asked about: saturate.
    let n = digits.bytes().fold(0i128, |n, d| n.saturating_mul(10).saturating_add(i128::from(d - b'0')));
    Some(if negative { -n } else { n })
}

/// Whether Python 2's `str()` fails on one of the comma-separated pieces
/// of `value` (a header's value, as [`read_head`] gives it): the
/// reference's server cuts the values of `Sec-WebSocket-Protocol` and
/// `Sec-WebSocket-Extensions` at commas and turns each piece, trimmed of
/// Python's white space, into a byte string with `str()`, which only
/// encodes ASCII. On any other character it raises, its handshake code
/// with it: the connection is closed without an answer.
pub(crate) fn py_str_fails(value: &str) -> bool {
    value.split(',').any(|piece| !piece.trim_matches(py_space).is_ascii())
}

/// The line boundaries of Python's unicode `splitlines`.
fn py_line_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{b}' | '\u{c}' | '\u{1c}'..='\u{1e}' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// Reads a request or response head the way the reference reads both
/// (autobahn's parseHttpHeader), not as an HTTP/1.1 parser would (RFC 7230):
/// the first line, trimmed, is the request or status line; each later line with a
/// colon past its first character is a header field, cut at that colon,
/// its name trimmed and lower-cased (so `Name : value` counts) and its value
/// trimmed; any other line (an obsolete folded continuation, say) is passed
/// over, and there is no limit on the number of fields. Returns the first
/// line and the fields in order.
pub(crate) fn read_head(head: &str) -> (&str, Vec<(String, &str)>) {
    // Splitting at each boundary character leaves an empty line inside
    // every CR LF, which has no colon and is passed over like the rest.
    let mut lines = head.split(py_line_break);
    let status_line = lines.next().unwrap_or_default().trim_matches(py_space);
    let fields = lines
        .filter_map(|line| {
            let colon = line.find(':').filter(|&i| i > 0)?;
            Some((line[..colon].trim_matches(py_space).to_lowercase(), line[colon + 1..].trim_matches(py_space)))
        })
        .collect();
    (status_line, fields)
}

/// How many characters of a peer's text a message quotes (see [`clip`]).
pub(crate) const SHOWN: usize = 200;

/// `text` cut after `max` characters, with `…` to say so: a message that
/// quotes what a peer sent (a request line of a megabyte, say) stays short.
pub(crate) fn clip(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]).into(),
        None => text.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::{clip, holdable_target, py_str_fails, py2_text, py2_utf8};

    #[test]
    fn quoted_text_is_clipped_at_a_character() {
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("abcd", 3), "abc…");
        assert_eq!(clip("\u{e9}\u{e9}\u{e9}\u{e9}", 2), "\u{e9}\u{e9}…");
        assert_eq!(clip("", 0), "");
    }

    #[test]
    fn heads_decode_as_python_2_decodes_them() {
        assert!(py2_utf8(b"Server: Caf\xc3\xa9\r\n"));
        // An encoded surrogate: Python 2 takes it.
        assert!(py2_utf8(b"Server: \xed\xa0\x80 and \xed\xbf\xbf\r\n"));
        // Latin-1, an overlong NUL, past U+10FFFF, a cut sequence: refused.
        for bad in [&b"Server: Caf\xe9\r\n"[..], b"\xc0\x80", b"\xf4\x90\x80\x80", b"x\xed\xa0"] {
            assert!(!py2_utf8(bad), "{bad:?}");
        }
    }

    #[test]
    fn non_ascii_pieces_are_found_as_python_2_finds_them() {
        assert!(py_str_fails("chat, ch\u{e4}t"));
        assert!(py_str_fails("permessage-deflate; x=\u{e9}"));
        // White space Python trims (a no-break space) is no obstacle.
        assert!(!py_str_fails("chat\u{a0}, superchat"));
        assert!(!py_str_fails(""));
    }

    #[test]
    fn surrogates_are_kept_in_their_place() {
        let text = py2_text(b"User-Agent: a \xed\xa0\xbd\xed\xb8\x80 b\r\n").unwrap();
        assert_eq!(text, "User-Agent: a \u{fffd}\u{fffd} b\r\n");
        assert!(py2_text(b"Caf\xe9").is_none());
    }

    #[test]
    fn targets_keep_what_python_reads_in_them() {
        assert_eq!(holdable_target("/runCase?case=1&agent=a"), "/runCase?case=1&agent=a");
        assert_eq!(holdable_target("/runCase?agent=\"x\"|{y}#f"), "/runCase?agent=%22x%22%7C%7By%7D#f");
        assert_eq!(holdable_target("/a?b=%2<\u{7f}"), "/a?b=%2%3C%7F");
    }
}
