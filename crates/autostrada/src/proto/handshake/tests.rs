use super::*;

const REQ: &str = "GET /chat?x=1 HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

fn parse(req: &str) -> Result<String, HandshakeError> {
    let (r, n) = parse_request(req.as_bytes(), &HandshakeLimits::default())?.expect("complete");
    assert_eq!(n, req.len());
    check_request(&r)
}

#[test]
fn accepts_rfc_example() {
    assert_eq!(parse(REQ).unwrap(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    let (r, _) = parse_request(REQ.as_bytes(), &HandshakeLimits::default()).unwrap().unwrap();
    assert_eq!(r.uri().path_and_query().unwrap().as_str(), "/chat?x=1");
}

#[test]
fn partial_heads_need_more() {
    for cut in 0..REQ.len() {
        assert!(parse_request(&REQ.as_bytes()[..cut], &HandshakeLimits::default()).unwrap().is_none());
    }
}

#[test]
fn rejections() {
    let swap = |from: &str, to: &str| parse(&REQ.replace(from, to)).unwrap_err();
    assert!(matches!(swap("Upgrade: websocket\r\n", ""), HandshakeError::Header { name: "Upgrade", .. }));
    assert!(matches!(swap("Upgrade: websocket", "Upgrade: h2c"), HandshakeError::Header { name: "Upgrade", .. }));
    assert!(matches!(swap("keep-alive, Upgrade", "keep-alive"), HandshakeError::Header { name: "Connection", .. }));
    assert!(matches!(swap("Version: 13", "Version: 8"), HandshakeError::Header { name: "Sec-WebSocket-Version", .. }));
    assert!(matches!(
        swap("Sec-WebSocket-Version: 13\r\n", ""),
        HandshakeError::Header { name: "Sec-WebSocket-Version", .. }
    ));
    assert!(matches!(swap("dGhlIHNhbXBsZSBub25jZQ==", "c2hvcnQ="), HandshakeError::BadKey(_)));
    assert!(matches!(swap("dGhlIHNhbXBsZSBub25jZQ==", "not base64!!"), HandshakeError::BadKey(_)));
    assert!(matches!(swap("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""), HandshakeError::BadKey(_)));
    assert!(matches!(swap("Host: server.example.com\r\n", ""), HandshakeError::Host(_)));
    // RFC 9112 §3.2: one Host, and a host[:port] at that.
    for host in ["Host: a\r\nHost: b", "Host:", "Host: a b/c@d", "Host: user@server.example.com", "Host: a/b"] {
        let e = swap("Host: server.example.com", host);
        assert!(matches!(e, HandshakeError::Host(_)), "{host:?}: {e:?}");
        assert!(e.to_string().contains("Host"), "{e}");
    }
    for host in ["127.0.0.1:9001", "[::1]:9001", "localhost", "my_host.example:443"] {
        assert!(parse(&REQ.replace("server.example.com", host)).is_ok(), "{host}");
    }
    // RFC 9112 §3.2.2–3.2.4: a path or an absolute URI; `*` and a bare
    // authority are for OPTIONS and CONNECT.
    for target in ["*", "server.example.com:80"] {
        let e = swap("/chat?x=1", target);
        assert!(matches!(e, HandshakeError::Target(_)), "{target}: {e:?}");
    }
    assert!(parse(&REQ.replace("/chat?x=1", "ws://server.example.com/chat")).is_ok());
    // A body would be read as frames: refused, whatever its framing.
    let with = |extra: &str| parse(&REQ.replace("\r\n\r\n", &format!("\r\n{extra}\r\n\r\n")));
    assert!(matches!(with("Content-Length: 5"), Err(HandshakeError::Header { name: "Content-Length", .. })));
    assert!(matches!(with("Content-Length: 0, 7"), Err(HandshakeError::Header { name: "Content-Length", .. })));
    assert!(matches!(
        with("Transfer-Encoding: chunked"),
        Err(HandshakeError::Header { name: "Transfer-Encoding", .. })
    ));
    assert!(with("Content-Length: 0").is_ok());
    let post = REQ.replace("GET", "POST");
    assert!(matches!(parse_request(post.as_bytes(), &HandshakeLimits::default()), Err(HandshakeError::NotGet(_))));
    let old = REQ.replace("HTTP/1.1", "HTTP/1.0");
    assert_eq!(parse_request(old.as_bytes(), &HandshakeLimits::default()).unwrap_err(), HandshakeError::HttpVersion);
}

#[test]
fn head_size_and_header_count_are_bounded() {
    let limits = HandshakeLimits { max_head_size: 1000, max_headers: 4 };
    assert_eq!(parse_request(REQ.as_bytes(), &limits).unwrap_err(), HandshakeError::TooManyHeaders(4));
    let limits = HandshakeLimits { max_head_size: 100, max_headers: 64 };
    assert_eq!(parse_request(&[b'G'; 101], &limits).unwrap_err(), HandshakeError::HeadTooLarge(100));
    let huge = format!("GET / HTTP/1.1\r\n{}", "X-Pad: 1\r\n".repeat(20));
    assert!(parse_request(huge.as_bytes(), &limits).is_err());
}

#[test]
fn rejection_carries_the_reason() {
    let wrong_version = HandshakeError::Header { name: "Sec-WebSocket-Version", expected: "13", got: "8".into() };
    let text = String::from_utf8(rejection(&wrong_version)).unwrap();
    assert!(text.starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
    assert!(text.contains("Sec-WebSocket-Version: 13\r\n"));
    let text = String::from_utf8(rejection(&HandshakeError::BadKey("x".into()))).unwrap();
    assert!(text.starts_with("HTTP/1.1 400 Bad Request\r\n") && text.contains("Sec-WebSocket-Key"));
    // A head over our limits: 431, and the body names no limit or knob
    // (those are for the operator, in the error).
    for err in [HandshakeError::HeadTooLarge(16384), HandshakeError::TooManyHeaders(64)] {
        let text = String::from_utf8(rejection(&err)).unwrap();
        assert!(text.starts_with("HTTP/1.1 431 "), "{text}");
        assert!(!text.contains("HandshakeLimits") && !text.contains("16384") && !text.contains("64"), "{text}");
        assert!(err.to_string().contains("HandshakeLimits"));
    }
    // The server application's own mistake, told from the server's side.
    let chose = HandshakeError::NotOffered("b".into()).to_string();
    assert!(chose.contains("the server chose subprotocol \"b\", which the client did not offer"), "{chose}");
}

fn client_roundtrip(response: impl Fn(&str) -> String) -> Result<(), HandshakeError> {
    client_roundtrip_offering(&[], false, response)
}

/// A client's handshake that offered `protocols` and (with `extensions`)
/// an extension, answered with `response` (given the right accept key).
fn client_roundtrip_offering(
    protocols: &[String],
    extensions: bool,
    response: impl Fn(&str) -> String,
) -> Result<(), HandshakeError> {
    let target = Target::from_uri(&"ws://127.0.0.1:9001/runCase?case=1".parse().unwrap()).unwrap();
    let key = generate_key();
    let req = client_request(&target, &key, &HeaderMap::new());
    let accept = parse(std::str::from_utf8(&req).unwrap()).unwrap();
    let resp = response(&accept);
    let (r, n) = parse_response(resp.as_bytes(), &HandshakeLimits::default())?.expect("complete");
    assert_eq!(n, resp.len());
    check_response(&r, &key, protocols, extensions)
}

#[test]
fn client_checks_the_response() {
    let good = |accept: &str| String::from_utf8(server_response(accept, &HeaderMap::new())).unwrap();
    client_roundtrip(good).unwrap();
    let wrong = client_roundtrip(|_| good("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    assert!(matches!(wrong, Err(HandshakeError::BadAccept { .. })));
    let missing = client_roundtrip(|a| good(a).replace(&format!("Sec-WebSocket-Accept: {a}\r\n"), ""));
    assert!(matches!(missing, Err(HandshakeError::BadAccept { .. })));
    let status = client_roundtrip(|a| good(a).replace("101 Switching Protocols", "200 OK"));
    assert_eq!(status, Err(HandshakeError::Status(200)));
    let no_upgrade = client_roundtrip(|a| good(a).replace("Upgrade: websocket\r\n", ""));
    assert!(matches!(no_upgrade, Err(HandshakeError::Header { name: "Upgrade", .. })));
    let ext = client_roundtrip(|a| good(a).replace("\r\n\r\n", "\r\nSec-WebSocket-Extensions: x-foo\r\n\r\n"));
    assert!(matches!(ext, Err(HandshakeError::Unrequested("extension", _))));
    // The switch names websocket alone (RFC 6455 §4.1), in HTTP/1.1.
    for other in ["Upgrade: websocket, h2c", "Upgrade: foo/1, websocket"] {
        let listed = client_roundtrip(|a| good(a).replace("Upgrade: websocket", other));
        assert!(matches!(listed, Err(HandshakeError::Header { name: "Upgrade", .. })), "{other}: {listed:?}");
    }
    let shouted = client_roundtrip(|a| good(a).replace("Upgrade: websocket", "Upgrade: WebSocket "));
    assert_eq!(shouted, Ok(()));
    let old = client_roundtrip(|a| good(a).replace("HTTP/1.1 101", "HTTP/1.0 101"));
    assert_eq!(old, Err(HandshakeError::HttpVersion));
}

/// A folded header line in an answer is read on, its fold a space (RFC
/// 9112 §5.2: a user agent does so).
#[test]
fn folded_response_headers_are_unfolded() {
    let head = "HTTP/1.1 403 Forbidden\r\nX-Why: not\r\n you\r\n\r\n";
    let (r, _) = parse_response(head.as_bytes(), &HandshakeLimits::default()).unwrap().unwrap();
    let why = r.headers()["x-why"].to_str().unwrap();
    assert!(why.starts_with("not") && why.ends_with("you") && !why.contains('\n'), "{why:?}");
}

/// An HTTP/1.0 answer that is not a 101 is read whole: a refusal keeps its
/// status (the client reports it as refused, headers and body included).
#[test]
fn http10_refusals_are_read() {
    let head = "HTTP/1.0 403 Forbidden\r\nRetry-After: 5\r\n\r\n";
    let (r, n) = parse_response(head.as_bytes(), &HandshakeLimits::default()).unwrap().unwrap();
    assert_eq!((r.status(), r.version(), n), (http::StatusCode::FORBIDDEN, http::Version::HTTP_10, head.len()));
    assert_eq!(r.headers()["retry-after"], "5");
}

#[test]
fn a_client_takes_one_subprotocol_it_offered_and_only_text_extensions() {
    let good = |accept: &str| String::from_utf8(server_response(accept, &HeaderMap::new())).unwrap();
    let with = |extra: &'static str| move |a: &str| good(a).replace("\r\n\r\n", &format!("\r\n{extra}\r\n\r\n"));
    let offered = ["chat".to_owned(), "superchat".to_owned()];
    client_roundtrip_offering(&offered, false, with("Sec-WebSocket-Protocol: chat")).unwrap();
    // RFC 6455 §11.3.4: at most once in a response, even naming an offer.
    for twice in [
        "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: evil",
        "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: chat",
    ] {
        let r = client_roundtrip_offering(&offered, false, with(twice));
        assert!(matches!(&r, Err(HandshakeError::Unrequested("subprotocol", _))), "{twice}: {r:?}");
    }
    for wrong in ["Sec-WebSocket-Protocol: chat, superchat", "Sec-WebSocket-Protocol: evil"] {
        let r = client_roundtrip_offering(&offered, false, with(wrong));
        assert!(matches!(&r, Err(HandshakeError::Unrequested("subprotocol", _))), "{wrong}: {r:?}");
    }
    // An extension value that is not text is refused even when one was
    // offered (parsing would otherwise skip it unread).
    let latin1 = |a: &str| {
        let mut head = good(a).into_bytes();
        head.truncate(head.len() - 2);
        head.extend_from_slice(b"Sec-WebSocket-Extensions: x-unoffered; p=\xe9\r\n\r\n");
        // The octet becomes U+FFFD here: still three octets that are not
        // visible ASCII, which is what the check is about.
        String::from_utf8_lossy(&head).into_owned()
    };
    let r = client_roundtrip_offering(&[], true, latin1);
    assert!(r.is_err(), "{r:?}");
}

#[test]
fn keys_are_fresh_and_well_formed() {
    let (a, b) = (generate_key(), generate_key());
    assert_ne!(a, b);
    assert_eq!(BASE64.decode(a).unwrap().len(), 16);
}

#[test]
fn targets() {
    let t = Target::from_uri(&"ws://example.com".parse().unwrap()).unwrap();
    assert_eq!((t.port, t.resource.as_str(), t.host_header().as_str()), (80, "/", "example.com"));
    let t = Target::from_uri(&"wss://[::1]:8443/a?b".parse().unwrap()).unwrap();
    assert_eq!(
        (t.tls, t.host.as_str(), t.host_header().as_str(), t.resource.as_str()),
        (true, "::1", "[::1]:8443", "/a?b")
    );
    assert!(Target::from_uri(&"http://example.com/".parse().unwrap()).is_err());
}
