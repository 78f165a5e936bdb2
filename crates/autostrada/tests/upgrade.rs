//! The upgrade before the 101: refusing with any status, headers and body
//! (and what the client then sees), choosing the subprotocol per request,
//! adding response headers.
// The deciding closures return a whole refusal response as their error.
#![allow(clippy::result_large_err)]

use autostrada::{Accept, ClientBuilder, Error, Message, ServerBuilder};
use futures_util::{SinkExt, StreamExt};
use http::{Response, StatusCode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

/// A server that answers every upgrade with `decide`, and echoes on the
/// connections it accepts.
async fn server<F>(decide: F) -> std::net::SocketAddr
where
    F: Fn(&http::Request<()>) -> Result<Accept, Response<&'static str>> + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let decide = std::sync::Arc::new(decide);
    let builder = ServerBuilder::new().protocols(["chat.v2", "chat.v1"]);
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let (decide, builder) = (decide.clone(), builder.clone());
            tokio::spawn(async move {
                let upgrade = builder.read_request(tcp).await.unwrap();
                match decide(upgrade.request()) {
                    Err(refusal) => upgrade.reject(refusal).await.unwrap(),
                    Ok(answer) => {
                        let Ok(mut ws) = upgrade.accept_with(answer).await else { return };
                        // Tell the client which subprotocol the server holds.
                        let chosen = ws.protocol().unwrap_or("none").to_owned();
                        ws.send(Message::text(chosen)).await.unwrap();
                        while let Some(Ok(m)) = ws.next().await {
                            if m.is_data() {
                                ws.send(m).await.unwrap();
                            }
                        }
                    }
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn a_refusal_reaches_the_client_with_status_headers_and_body() {
    let addr = server(|request| {
        if request.headers().contains_key("authorization") {
            return Ok(Accept::new());
        }
        Err(Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .header("www-authenticate", "Bearer realm=\"chat\"")
            .body("a token is required\n")
            .unwrap())
    })
    .await;
    let url = format!("ws://{addr}/chat");
    match ClientBuilder::new().connect(&url).await {
        Err(Error::Refused(response)) => {
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            assert_eq!(response.headers()["www-authenticate"], "Bearer realm=\"chat\"");
            assert_eq!(response.body().as_ref(), b"a token is required\n");
            let text = Error::Refused(response).to_string();
            assert!(text.contains("401 Unauthorized") && text.contains("a token is required"), "{text}");
        }
        other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
    }
    // The same server lets a client with credentials in.
    let (mut ws, _) = ClientBuilder::new().header("Authorization", "Bearer t").unwrap().connect(&url).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("none"));
}

#[tokio::test]
async fn the_subprotocol_is_chosen_per_request_and_seen_on_both_sides() {
    // Old clients (path /v1) are held to chat.v1 even when they offer v2.
    let addr = server(|request| {
        Ok(if request.uri().path() == "/v1" { Accept::new().protocol("chat.v1") } else { Accept::new() })
    })
    .await;
    for (path, expected) in [("/v1", "chat.v1"), ("/", "chat.v2")] {
        let client = ClientBuilder::new().protocols(["chat.v2", "chat.v1"]);
        let (mut ws, response) = client.connect(format!("ws://{addr}{path}")).await.unwrap();
        assert_eq!(ws.protocol(), Some(expected));
        assert_eq!(response.headers()["sec-websocket-protocol"], expected);
        assert_eq!(ws.next().await.unwrap().unwrap(), Message::text(expected), "the server's view");
    }
    // No subprotocol offered: none chosen, on both sides.
    let (mut ws, _) = ClientBuilder::new().connect(format!("ws://{addr}/")).await.unwrap();
    assert_eq!(ws.protocol(), None);
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("none"));
}

#[tokio::test]
async fn response_headers_and_misuse() {
    let addr = server(|request| match request.uri().path() {
        "/unoffered" => Ok(Accept::new().protocol("chat.v9")),
        "/none" => Ok(Accept::new().no_protocol()),
        _ => Ok(Accept::new().header("x-session", "42").unwrap()),
    })
    .await;
    let client = ClientBuilder::new().protocols(["chat.v1"]);
    let (_, response) = client.connect(format!("ws://{addr}/")).await.unwrap();
    assert_eq!(response.headers()["x-session"], "42");
    let (ws, _) = client.connect(format!("ws://{addr}/none")).await.unwrap();
    assert_eq!(ws.protocol(), None);
    // A subprotocol the client did not offer is the server's bug: 500.
    match client.connect(format!("ws://{addr}/unoffered")).await {
        Err(Error::Refused(r)) => assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR),
        other => panic!("expected a 500, got {:?}", other.map(|_| ())),
    }
    // The handshake's own headers cannot be set by hand.
    assert!(Accept::new().header("sec-websocket-accept", "x").is_err());
    assert!(Accept::new().header("bad name", "x").is_err());
}

/// A raw HTTP server that answers the first request with `response`.
async fn raw_server(response: Vec<u8>) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut head = vec![0; 4096];
        let _ = tcp.read(&mut head).await;
        let _ = tcp.write_all(&response).await;
    });
    addr
}

#[tokio::test]
async fn refusal_bodies_chunked_unsized_and_too_long() {
    let chunked = b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 30\r\nTransfer-Encoding: chunked\r\n\r\n\
                    5\r\nslow \r\n6;x=y\r\ndown!\n\r\n0\r\n\r\n"
        .to_vec();
    let mut long = b"HTTP/1.1 503 Service Unavailable\r\n\r\n".to_vec();
    long.extend(std::iter::repeat_n(b'x', autostrada::client::MAX_REFUSAL_BODY + 5000));
    let cases: [(Vec<u8>, StatusCode, Vec<u8>); 2] = [
        (chunked, StatusCode::TOO_MANY_REQUESTS, b"slow down!\n".to_vec()),
        (long, StatusCode::SERVICE_UNAVAILABLE, vec![b'x'; autostrada::client::MAX_REFUSAL_BODY]),
    ];
    for (response, status, body) in cases {
        let addr = raw_server(response).await;
        match autostrada::connect(format!("ws://{addr}/")).await {
            Err(Error::Refused(r)) => {
                assert_eq!(r.status(), status);
                assert_eq!(r.body().as_ref(), &body[..]);
                if status == StatusCode::TOO_MANY_REQUESTS {
                    assert_eq!(r.headers()["retry-after"], "30");
                }
            }
            other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
        }
    }
}

/// A raw HTTP server that answers the first request with what `answer`
/// makes of it, then keeps the connection open until the client leaves:
/// nothing ends the response but its own framing.
async fn holding_server(answer: impl FnOnce(&str) -> Vec<u8> + Send + 'static) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        answer_and_hold(tcp, answer).await;
    });
    addr
}

/// Reads a request head from `conn`, writes what `answer` makes of it,
/// then reads on until the client leaves.
async fn answer_and_hold<C: AsyncRead + AsyncWrite + Unpin>(mut conn: C, answer: impl FnOnce(&str) -> Vec<u8>) {
    let mut request = Vec::new();
    let mut chunk = [0u8; 1024];
    while !request.ends_with(b"\r\n\r\n") {
        let n = conn.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the client left before its request was whole");
        request.extend_from_slice(&chunk[..n]);
    }
    conn.write_all(&answer(std::str::from_utf8(&request).unwrap())).await.unwrap();
    // Until the client closes.
    while conn.read(&mut chunk).await.is_ok_and(|n| n > 0) {}
}

/// Turns a hang into a failure; nothing here should come near it.
const GUARD: std::time::Duration = std::time::Duration::from_secs(20);

#[tokio::test]
async fn interim_answers_before_the_final_one_are_skipped() {
    // 100 and 103 before a 101: the connection opens.
    let addr = holding_server(|request| {
        let key = request
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: ").or_else(|| l.strip_prefix("sec-websocket-key: ")))
            .expect("the request carries a key");
        let accept = autostrada::proto::handshake::accept_key(key.trim().as_bytes());
        format!(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </app.css>; rel=preload\r\n\r\n\
             HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {accept}\r\n\r\n"
        )
        .into_bytes()
    })
    .await;
    let opened = tokio::time::timeout(GUARD, autostrada::connect(format!("ws://{addr}/"))).await.unwrap();
    let (_ws, response) = opened.expect("interim answers are not a refusal");
    assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
    // 100 before a 403: the refusal is the 403's, with its body.
    let addr = holding_server(|_| {
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 403 Forbidden\r\nContent-Length: 7\r\n\r\nno way!".to_vec()
    })
    .await;
    match tokio::time::timeout(GUARD, autostrada::connect(format!("ws://{addr}/"))).await.unwrap() {
        Err(Error::Refused(r)) => {
            assert_eq!(r.status(), StatusCode::FORBIDDEN);
            assert_eq!(r.body().as_ref(), b"no way!");
        }
        other => panic!("expected the 403, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn endless_interim_answers_fail_the_handshake() {
    let addr = holding_server(|_| b"HTTP/1.1 100 Continue\r\n\r\n".repeat(17)).await;
    match tokio::time::timeout(GUARD, autostrada::connect(format!("ws://{addr}/"))).await.unwrap() {
        Err(Error::Handshake(e)) => assert!(e.to_string().contains("interim"), "{e}"),
        other => panic!("expected a handshake error, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn refusals_without_a_body_are_not_read_as_if_they_had_one() {
    // The server keeps the connection open: reading a body would wait
    // until the handshake timeout and lose the status.
    for status in [StatusCode::NO_CONTENT, StatusCode::NOT_MODIFIED] {
        let addr =
            holding_server(move |_| format!("HTTP/1.1 {} {}\r\n\r\n", status.as_u16(), status.as_str()).into_bytes())
                .await;
        match tokio::time::timeout(GUARD, autostrada::connect(format!("ws://{addr}/"))).await.unwrap() {
            Err(Error::Refused(r)) => {
                assert_eq!(r.status(), status);
                assert!(r.body().is_empty());
            }
            other => panic!("expected a {status} refusal, got {:?}", other.map(|_| ())),
        }
    }
}

#[tokio::test]
async fn a_refusal_whose_body_stalls_keeps_its_status_and_what_arrived() {
    // The body promises 100 octets, sends 7 and stalls: at the handshake
    // timeout the client reports the refusal, not a timeout.
    let addr =
        holding_server(|_| b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 100\r\n\r\npartial".to_vec()).await;
    let mut config = autostrada::Config::default();
    config.handshake_timeout = std::time::Duration::from_millis(300);
    let client = ClientBuilder::new().config(config);
    match tokio::time::timeout(GUARD, client.connect(format!("ws://{addr}/"))).await.unwrap() {
        Err(Error::Refused(r)) => {
            assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(r.body().as_ref(), b"partial");
        }
        other => panic!("expected the 503, got {:?}", other.map(|_| ())),
    }
}

/// A client that sends its request and then never reads: the refusal (here
/// far larger than the pipe holds) and the 101 alike give up after
/// `handshake_timeout` with `HandshakeTimeout`, instead of holding the task
/// for ever. Paused time: the timeout passes as soon as nothing else can
/// happen.
#[tokio::test(start_paused = true)]
async fn an_answer_the_client_never_reads_times_out() {
    let request = "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                   Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    let config = autostrada::Config::default().with_handshake_timeout(std::time::Duration::from_secs(3));
    for refuse in [true, false] {
        // The pipe holds less than either answer: nothing goes out whole.
        let (mut client, server) = tokio::io::duplex(64);
        // The request goes in as the server reads it; the client then holds
        // its end open and reads nothing.
        let client = tokio::spawn(async move {
            client.write_all(request.as_bytes()).await.unwrap();
            std::future::pending::<()>().await;
        });
        let upgrade = ServerBuilder::new().config(config.clone()).read_request(server).await.unwrap();
        let answering = async {
            if refuse {
                let refusal = Response::builder().status(StatusCode::FORBIDDEN).body(vec![b'x'; 1 << 20]).unwrap();
                upgrade.reject(refusal).await
            } else {
                upgrade.accept().await.map(drop)
            }
        };
        // An hour of paused time passes at once if the answer waits for ever.
        let outcome = tokio::time::timeout(std::time::Duration::from_secs(3600), answering).await.expect("gives up");
        assert!(matches!(outcome, Err(Error::HandshakeTimeout)), "refuse {refuse}: {outcome:?}");
        client.abort();
    }
}

/// A body that stalls is given up after `REFUSAL_BODY_SILENCE`, not at the
/// handshake timeout: here unlimited, so before the change `connect_on`
/// never returned. Two shapes: a `Content-Length` the server never
/// reaches, and a body without a length on a connection it keeps open.
/// Paused time: the silence passes as soon as nothing else can happen.
#[tokio::test(start_paused = true)]
async fn a_stalled_refusal_body_costs_seconds_even_without_a_handshake_timeout() {
    let answers: [&[u8]; 2] = [
        b"HTTP/1.1 403 Forbidden\r\nContent-Length: 100000\r\n\r\nnot you, 1",
        b"HTTP/1.1 403 Forbidden\r\n\r\nnot you, 2",
    ];
    for answer in answers {
        let (client, server) = tokio::io::duplex(4096);
        let serving = tokio::spawn(answer_and_hold(server, move |_| answer.to_vec()));
        let config = autostrada::Config::default().with_handshake_timeout(std::time::Duration::MAX);
        let started = tokio::time::Instant::now();
        let builder = ClientBuilder::new().config(config);
        let connecting = builder.connect_on(client, "ws://example.com/");
        let outcome = tokio::time::timeout(std::time::Duration::from_secs(3600), connecting).await.expect("gives up");
        match outcome {
            Err(Error::Refused(r)) => {
                assert_eq!(r.status(), StatusCode::FORBIDDEN);
                assert!(r.body().starts_with(b"not you, "), "{:?}", r.body());
            }
            other => panic!("expected the 403, got {:?}", other.map(|_| ())),
        }
        // Virtual time: the silence, give or take the timer's millisecond.
        let waited = started.elapsed();
        let silence = autostrada::client::REFUSAL_BODY_SILENCE;
        assert!(waited >= silence && waited < silence + std::time::Duration::from_millis(10), "{waited:?}");
        serving.await.unwrap();
    }
}

/// A body that trickles (an octet every 1.5 s: never silent for
/// `REFUSAL_BODY_SILENCE`) is given up after `REFUSAL_BODY_TIME` in all,
/// with what arrived, though the handshake timeout is unlimited. Paused
/// time.
#[tokio::test(start_paused = true)]
async fn a_trickled_refusal_body_costs_seconds_even_without_a_handshake_timeout() {
    let (client, mut server) = tokio::io::duplex(4096);
    let serving = tokio::spawn(async move {
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut octet = [0; 1];
            if server.read_exact(&mut octet).await.is_err() {
                return;
            }
            head.push(octet[0]);
        }
        let _ = server.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 100000\r\n\r\n").await;
        for _ in 0..100_000 {
            tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
            if server.write_all(b"x").await.is_err() {
                return;
            }
        }
    });
    let config = autostrada::Config::default().with_handshake_timeout(std::time::Duration::MAX);
    let started = tokio::time::Instant::now();
    let builder = ClientBuilder::new().config(config);
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(3600), builder.connect_on(client, "ws://h/"))
        .await
        .expect("gives up");
    match outcome {
        Err(Error::Refused(r)) => {
            assert_eq!(r.status(), StatusCode::FORBIDDEN);
            assert_eq!(r.body().len(), 6, "{:?}", r.body());
        }
        other => panic!("expected the 403, got {:?}", other.map(|_| ())),
    }
    let waited = started.elapsed();
    let budget = autostrada::client::REFUSAL_BODY_TIME;
    assert!(waited >= budget && waited < budget + std::time::Duration::from_millis(10), "{waited:?}");
    serving.abort();
}

/// The connect futures own what they need: spawned as they are, with the
/// builder and the URL they were made from dropped before they run.
#[tokio::test]
async fn connect_futures_can_be_spawned_as_they_are() {
    let addr = server(|_| Ok(Accept::new())).await;
    let url = format!("ws://{addr}/");
    let builder = ClientBuilder::new().protocols(["chat.v1"]);
    let with_builder = tokio::spawn(builder.connect(&url));
    let plain = tokio::spawn(autostrada::connect(&url));
    drop((builder, url));
    let (ws, _) = with_builder.await.unwrap().unwrap();
    assert_eq!(ws.protocol(), Some("chat.v1"));
    let (mut ws, _) = plain.await.unwrap().unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("none"));
}
