//! The upgrade request as the reference's server judges it, where that
//! differs from RFC 6455 as autostrada's `check_request` reads it: what is
//! taken more leniently, and what is refused besides.

use std::borrow::Cow;

use http::header::{CONNECTION, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_PROTOCOL, SEC_WEBSOCKET_VERSION, UPGRADE};
use http::{HeaderValue, Request};

use crate::wire::duplicates::first_repeat;
use crate::wire::http_head::{py_int, py_space, read_head};

/// The request as `check_request` is to judge it, where the reference's
/// server is more lenient than RFC 6455:
/// - it speaks draft hybi-10 as well (its protocol versions are 0, 8 and
///   13; 0, Hixie-76, has framing of its own that wstest does not speak):
///   a client asking for version 8, whose handshake and framing are RFC
///   6455's, is served like one asking for 13;
/// - it reads the version with Python's `int`, so `013`, `+13` or `+ 8`
///   name a version as well as `13` and `8` do;
/// - it reads `Upgrade` and `Connection` as text (the head decoded as
///   UTF-8), cut at commas, each piece trimmed and lower-cased as Python
///   does: a list holding `websocket` (`upgrade`) counts whatever else it
///   holds, characters past ASCII too, which an HTTP header value may not;
/// - it checks only the key's shape (22 characters of the base64 alphabet,
///   then `==`), not that the bits its last character leaves unused are
///   zero, as a strict base64 decoder does: such a key is judged in its
///   canonical form;
/// - it never looks at `Content-Length` or `Transfer-Encoding`: whatever
///   follows the head is read as frames, a body announced or not, so a
///   request announcing one is not refused for it.
pub(super) fn as_the_reference_judges(request: &Request<()>) -> Cow<'_, Request<()>> {
    let mut judged = Cow::Borrowed(request);
    for name in [http::header::CONTENT_LENGTH, http::header::TRANSFER_ENCODING] {
        if request.headers().contains_key(&name) {
            judged.to_mut().headers_mut().remove(name);
        }
    }
    for (name, token, canonical) in [(UPGRADE, "websocket", "websocket"), (CONNECTION, "upgrade", "Upgrade")] {
        let mut pieces = request.headers().get_all(&name).iter().flat_map(|v| {
            let text = String::from_utf8_lossy(v.as_bytes()).into_owned();
            text.split(',').map(|piece| piece.trim_matches(py_space).to_lowercase()).collect::<Vec<_>>()
        });
        if pieces.any(|piece| piece == token) {
            judged.to_mut().headers_mut().insert(name, HeaderValue::from_static(canonical));
        }
    }
    if matches!(version(request), Some(8 | 13)) {
        judged.to_mut().headers_mut().insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
    }
    let mut keys = request.headers().get_all(SEC_WEBSOCKET_KEY).iter();
    if let (Some(key), None) = (keys.next(), keys.next())
        && let Some(canonical) = canonical_key(key.as_bytes())
    {
        judged.to_mut().headers_mut().insert(SEC_WEBSOCKET_KEY, canonical);
    }
    judged
}

/// The version the request asks for, read as the reference reads it
/// (Python's `int`), if it gives one `Sec-WebSocket-Version` that reads.
fn version(request: &Request<()>) -> Option<i128> {
    let mut versions = request.headers().get_all(SEC_WEBSOCKET_VERSION).iter();
    match (versions.next(), versions.next()) {
        (Some(v), None) => py_int(&String::from_utf8_lossy(v.as_bytes())),
        _ => None,
    }
}

/// The port of the `Host` header, when it has one that Python's `int`
/// cannot read: the reference's server takes what follows the last colon
/// as the port (unless the value ends in `]`, an IPv6 address alone) and
/// refuses the request when that is no number.
pub(super) fn bad_host_port(request: &Request<()>) -> Option<String> {
    let host = String::from_utf8_lossy(request.headers().get(http::header::HOST)?.as_bytes()).into_owned();
    let host = host.trim_matches(py_space);
    let (_, port) = host.rsplit_once(':').filter(|_| !host.ends_with(']'))?;
    py_int(port).is_none().then(|| port.to_owned())
}

/// A key of the reference's shape, with the unused low four bits of its
/// 22nd character cleared (`None` for any other key).
fn canonical_key(key: &[u8]) -> Option<HeaderValue> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let key = key.trim_ascii();
    let (chars, b"==") = key.split_at_checked(22)? else { return None };
    let sextets: Vec<usize> = chars.iter().map(|c| ALPHABET.iter().position(|a| a == c)).collect::<Option<_>>()?;
    let mut canonical = key.to_vec();
    canonical[21] = ALPHABET[sextets[21] & 0b11_0000];
    HeaderValue::from_bytes(&canonical).ok()
}

/// A header the request has more than once, of those the reference's
/// server wants once at most: `Host` (RFC 7230 §5.4 asks for a 400), the
/// origin (`Origin`, or hybi-10's `Sec-WebSocket-Origin` with version 8)
/// and `Sec-WebSocket-Extensions` (which RFC 6455 §9.1 would let repeat).
/// `Sec-WebSocket-Key` and `Sec-WebSocket-Version` are `check_request`'s.
pub(super) fn repeated_header(request: &Request<()>) -> Option<&'static str> {
    let headers = request.headers();
    let hybi10 = version(request) == Some(8);
    let origin = if hybi10 { "Sec-WebSocket-Origin" } else { "Origin" };
    [("Host", "host"), (origin, origin), ("Sec-WebSocket-Extensions", "sec-websocket-extensions")]
        .into_iter()
        .find(|(_, name)| headers.get_all(*name).iter().count() > 1)
        .map(|(name, _)| name)
}

/// The fragment of the request target in `head` (the request as received),
/// if it has a non-empty one. The target is the request line's second word,
/// the line and its words cut as [`parse_head`](super::parse_head) cuts them.
pub(super) fn target_fragment(head: &str) -> Option<&str> {
    let target = read_head(head).0.split(py_space).filter(|w| !w.is_empty()).nth(1)?;
    target.split_once('#').map(|(_, fragment)| fragment).filter(|f| !f.is_empty())
}

/// A subprotocol the request offers more than once: the reference's server
/// refuses such a request (RFC 6455 §4.1: the values MUST be unique), as it
/// splits the values of all `Sec-WebSocket-Protocol` fields at commas.
pub(super) fn duplicate_protocol(request: &Request<()>) -> Option<String> {
    let values = request.headers().get_all(SEC_WEBSOCKET_PROTOCOL);
    let offered = values.iter().flat_map(|v| v.to_str().unwrap_or_default().split(',')).map(str::trim);
    first_repeat(offered).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &str)]) -> Request<()> {
        let mut r = Request::new(());
        for (name, value) in headers {
            r.headers_mut().append(http::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
        }
        r
    }

    #[test]
    fn a_key_of_the_references_shape_is_judged_in_its_canonical_form() {
        // 'B' (000001) ends a key whose last character should leave its
        // low four bits zero: 'A'.
        assert_eq!(
            canonical_key(b"AAAAAAAAAAAAAAAAAAAAAB=="),
            Some(HeaderValue::from_static("AAAAAAAAAAAAAAAAAAAAAA=="))
        );
        assert_eq!(
            canonical_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            Some(HeaderValue::from_static("dGhlIHNhbXBsZSBub25jZQ=="))
        );
        // Other shapes are left to check_request (which refuses them).
        assert_eq!(canonical_key(b"AAAAAAAAAAAAAAAAAAAAAAAAAAA="), None);
        assert_eq!(canonical_key(b"AAAAAAAAAAAAAAAAAAAAA!=="), None);
    }

    #[test]
    fn upgrade_and_connection_lists_are_read_as_text() {
        let judged = |connection: &str| {
            let mut r = request(&[("upgrade", "h2c, WebSocket"), ("sec-websocket-version", "13")]);
            let value = HeaderValue::from_bytes(connection.as_bytes()).unwrap();
            r.headers_mut().insert(CONNECTION, value);
            let judged = as_the_reference_judges(&r).into_owned();
            let text = |name| String::from_utf8_lossy(judged.headers()[name].as_bytes()).into_owned();
            (text(UPGRADE), text(CONNECTION))
        };
        assert_eq!(judged("Upgrade, Keep-Aliv\u{e9}"), ("websocket".into(), "Upgrade".into()));
        assert_eq!(judged("Keep-Aliv\u{e9}"), ("websocket".into(), "Keep-Aliv\u{e9}".into()));
    }

    #[test]
    fn versions_and_host_ports_are_read_with_pythons_int() {
        assert_eq!(version(&request(&[("sec-websocket-version", "013")])), Some(13));
        assert_eq!(version(&request(&[("sec-websocket-version", "+ 8")])), Some(8));
        assert_eq!(version(&request(&[("sec-websocket-version", "13, 8")])), None);
        let twice = request(&[("sec-websocket-version", "13"), ("sec-websocket-version", "13")]);
        assert_eq!(version(&twice), None);
        let port = |host| bad_host_port(&request(&[("host", host)]));
        assert_eq!(port("127.0.0.1:ws").as_deref(), Some("ws"));
        assert_eq!(port("[::1]:").as_deref(), Some(""));
        assert_eq!(port("127.0.0.1: 9001"), None);
        assert_eq!(port("localhost"), None);
        assert_eq!(port("[::1]"), None);
    }

    #[test]
    fn headers_the_reference_wants_once_are_found_repeated() {
        let twice = |name| request(&[(name, "a"), (name, "b")]);
        assert_eq!(repeated_header(&twice("host")), Some("Host"));
        assert_eq!(repeated_header(&twice("origin")), Some("Origin"));
        assert_eq!(repeated_header(&twice("sec-websocket-extensions")), Some("Sec-WebSocket-Extensions"));
        assert_eq!(repeated_header(&twice("sec-websocket-protocol")), None);
        let hybi10 = request(&[("sec-websocket-version", "8"), ("origin", "a"), ("origin", "b")]);
        assert_eq!(repeated_header(&hybi10), None);
        assert_eq!(repeated_header(&request(&[("host", "a"), ("origin", "b")])), None);
    }

    #[test]
    fn a_fragment_is_found_on_the_request_line_only() {
        assert_eq!(target_fragment("GET /runCase?case=1#case HTTP/1.1\r\nHost: x#y\r\n\r\n"), Some("case"));
        assert_eq!(target_fragment("GET /runCase?case=1# HTTP/1.1\r\n\r\n"), None);
        assert_eq!(target_fragment("GET /runCase?case=1 HTTP/1.1\r\nHost: x#y\r\n\r\n"), None);
        // Words split at Python's white space (U+001F too), lines at its
        // line breaks (U+0085 too).
        assert_eq!(target_fragment("GET\u{1f}/a#f\u{1f}HTTP/1.1\r\n\r\n"), Some("f"));
        assert_eq!(target_fragment("GET /a\u{85}#f HTTP/1.1\r\n\r\n"), None);
    }

    #[test]
    fn a_subprotocol_offered_twice_is_found_across_fields() {
        assert_eq!(duplicate_protocol(&request(&[("sec-websocket-protocol", "chat, chat")])).as_deref(), Some("chat"));
        let split = request(&[("sec-websocket-protocol", "chat, superchat"), ("sec-websocket-protocol", "chat")]);
        assert_eq!(duplicate_protocol(&split).as_deref(), Some("chat"));
        assert_eq!(duplicate_protocol(&request(&[("sec-websocket-protocol", "chat, superchat")])), None);
        assert_eq!(duplicate_protocol(&request(&[])), None);
        // 238k distinct tokens (a 1 MiB head): a pairwise scan took minutes.
        let many: String = (0..238_000).map(|i| format!("p{i},")).collect();
        let started = std::time::Instant::now();
        assert_eq!(duplicate_protocol(&request(&[("sec-websocket-protocol", &many)])), None);
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "{:?}", started.elapsed());
    }
}
