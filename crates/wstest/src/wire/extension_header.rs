//! `Sec-WebSocket-Extensions` read the way the reference reads it (autobahn's
//! `_parseExtensionsHeader`), on both sides of the handshake: a server's
//! answer and a client's offers.
//!
//! It is no RFC 6455 §9.1 parser: the value is cut at every comma and every
//! semicolon (quotes protect nothing), each piece trimmed; an empty element
//! is passed over, but an empty parameter (`permessage-deflate;`, or `;;`)
//! is kept, as a parameter named "" without a value, which permessage-deflate
//! then refuses as unknown. A parameter is cut at every `=`: its name is the
//! first piece, its value the others joined again with `=`, each piece
//! trimmed, and one double quote is taken off each end of the value. Names
//! of extensions and parameters are lower-cased.

use autostrada::proto::deflate::negotiate::Extension;

/// Whitespace as Python's `str.strip` (of a byte string) sees it.
fn strip(s: &str) -> &str {
    s.trim_matches(|c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{b}' | '\u{c}'))
}

/// The extensions of one `Sec-WebSocket-Extensions` value, in order.
#[must_use]
pub fn read_extensions(value: &str) -> Vec<Extension> {
    value
        .split(',')
        // Each element is stripped while still unicode (Unicode white space
        // and U+001C to U+001F), then made a byte string; its parts are
        // stripped as byte strings.
        .map(|e| e.trim_matches(super::http_head::py_space))
        .filter(|e| !e.is_empty())
        .map(|element| {
            let mut parts = element.split(';').map(strip);
            let name = parts.next().unwrap_or_default().to_ascii_lowercase();
            let params = parts
                .map(|param| {
                    let mut pieces = param.split('=').map(strip);
                    let key = pieces.next().unwrap_or_default().to_ascii_lowercase();
                    let rest: Vec<&str> = pieces.collect();
                    let value = (!rest.is_empty()).then(|| {
                        let joined = rest.join("=");
                        let unquoted = joined.strip_prefix('"').unwrap_or(&joined);
                        unquoted.strip_suffix('"').unwrap_or(unquoted).to_owned()
                    });
                    (key, value)
                })
                .collect();
            Extension { name, params }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    type Params = Vec<(String, Option<String>)>;

    fn read(value: &str) -> Vec<(String, Params)> {
        read_extensions(value).into_iter().map(|e| (e.name, e.params)).collect()
    }

    fn param(name: &str, value: Option<&str>) -> (String, Option<String>) {
        (name.to_owned(), value.map(str::to_owned))
    }

    #[test]
    fn extensions_are_read_as_the_reference_reads_them() {
        let deflate = |params| vec![("permessage-deflate".to_owned(), params)];
        assert_eq!(read("permessage-deflate;"), deflate(vec![param("", None)]));
        assert_eq!(
            read(" Permessage-Deflate ; Server_Max_Window_Bits = \"10\" ;; , ,"),
            deflate(vec![param("server_max_window_bits", Some("10")), param("", None), param("", None)])
        );
        assert_eq!(read("permessage-deflate; a = b = c"), deflate(vec![param("a", Some("b=c"))]));
        assert_eq!(read("permessage-deflate; x=\"\"\"\""), deflate(vec![param("x", Some("\"\""))]));
        assert_eq!(read("x; q=\"a,b\"").len(), 2);
        // A unit separator (U+001F) at an element's end goes with the
        // element's white space, not with a parameter's.
        assert_eq!(read("permessage-deflate\u{1f},"), deflate(Vec::new()));
        assert_eq!(read("permessage-deflate; a\u{1f}; b"), deflate(vec![param("a\u{1f}", None), param("b", None)]));
    }
}
