//! Every way a connection ends: both closing handshakes, protocol errors,
//! limits, a peer that vanishes, a peer that never answers.

mod common;

use std::time::Duration;

use autostrada::proto::OpCode;
use autostrada::{CloseCode, CloseFrame, Config, Error, Message, ServerBuilder, connect};
use common::{RawClient, echo_server};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;

#[tokio::test]
async fn client_initiated_close() {
    let (addr, mut logs) = echo_server(Config::default()).await;
    let (mut ws, _) = connect(format!("ws://{addr}/")).await.unwrap();
    ws.send(Message::Close(Some(CloseFrame::new(CloseCode(4000), "done")))).await.unwrap();
    // The server echoes the code, then closes TCP; our stream then ends.
    let reply = ws.next().await.unwrap().unwrap();
    assert_eq!(reply, Message::Close(Some(CloseFrame::new(CloseCode(4000), ""))));
    assert!(ws.next().await.is_none());
    assert!(matches!(ws.send(Message::text("late")).await, Err(Error::Send(_))));
    let log = logs.recv().await.unwrap();
    assert_eq!(log.messages, vec![Message::Close(Some(CloseFrame::new(CloseCode(4000), "done")))]);
    assert!(log.error.is_none());
}

#[tokio::test]
async fn server_initiated_close() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = autostrada::accept(tcp).await.unwrap();
        ws.send(Message::Close(Some(CloseFrame::new(CloseCode::GOING_AWAY, "bye")))).await.unwrap();
        let mut seen = Vec::new();
        while let Some(m) = ws.next().await {
            seen.push(m.unwrap());
        }
        seen
    });
    let (mut ws, _) = connect(format!("ws://{addr}/")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::Close(Some(CloseFrame::new(CloseCode::GOING_AWAY, "bye"))));
    assert!(ws.next().await.is_none(), "client stream ends once the server drops TCP");
    assert_eq!(server.await.unwrap(), vec![Message::Close(Some(CloseFrame::new(CloseCode::GOING_AWAY, "")))]);
}

async fn protocol_error(frames: &[(bool, u8, OpCode, &[u8])], code: CloseCode) {
    let (addr, mut logs) = echo_server(Config::default()).await;
    let mut raw = RawClient::connect(addr).await;
    for &(fin, rsv, op, payload) in frames {
        raw.frame(fin, rsv, op, payload).await;
    }
    match raw.next().await {
        Some(Message::Close(Some(f))) => assert_eq!(f.code, code, "reason: {}", f.reason),
        other => panic!("expected a close frame with {code}, got {other:?}"),
    }
    assert!(raw.expect_eof().await, "the server closes TCP after failing");
    // The server lingers until we close our side too.
    drop(raw);
    assert!(logs.recv().await.unwrap().error.unwrap().contains(&code.to_string()));
}

#[tokio::test]
async fn reserved_bits_fail_with_1002() {
    protocol_error(&[(true, 0b010, OpCode::Text, b"x")], CloseCode::PROTOCOL_ERROR).await;
}

#[tokio::test]
async fn reserved_opcode_fails_with_1002() {
    protocol_error(&[(true, 0, OpCode::Reserved(0xb), b"")], CloseCode::PROTOCOL_ERROR).await;
}

#[tokio::test]
async fn invalid_utf8_fails_with_1007() {
    protocol_error(
        &[(false, 0, OpCode::Text, b"ok"), (true, 0, OpCode::Continuation, b"\xed\xa0\x80")],
        CloseCode::INVALID_PAYLOAD,
    )
    .await;
}

#[tokio::test]
async fn invalid_close_code_fails_with_1002() {
    protocol_error(&[(true, 0, OpCode::Close, b"\x03\xed")], CloseCode::PROTOCOL_ERROR).await;
}

#[tokio::test]
async fn oversized_message_fails_with_1009() {
    let mut config = Config::default();
    config.max_message_size = 1000;
    let (addr, _logs) = echo_server(config).await;
    let mut raw = RawClient::connect(addr).await;
    raw.frame(false, 0, OpCode::Binary, &[0; 600]).await;
    raw.frame(true, 0, OpCode::Continuation, &[0; 600]).await;
    match raw.next().await {
        Some(Message::Close(Some(f))) => assert_eq!(f.code, CloseCode::MESSAGE_TOO_BIG),
        other => panic!("expected close 1009, got {other:?}"),
    }
}

#[tokio::test]
async fn peer_vanishing_is_reported() {
    let (addr, mut logs) = echo_server(Config::default()).await;
    let raw = RawClient::connect(addr).await;
    drop(raw);
    let log = logs.recv().await.unwrap();
    assert!(log.error.unwrap().contains("without a closing handshake"));
}

#[tokio::test]
async fn unanswered_close_times_out() {
    // A "peer" that completes the handshake and then never reads or writes.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = tokio::spawn(async move { RawClient::connect(addr).await });
    let (tcp, _) = listener.accept().await.unwrap();
    let mut config = Config::default();
    config.close_timeout = Duration::from_millis(100);
    let mut ws = ServerBuilder::new().config(config).accept(tcp).await.unwrap();
    let _peer = peer.await.unwrap();
    ws.send(Message::Close(None)).await.unwrap();
    assert!(matches!(ws.next().await, Some(Err(Error::CloseTimeout))));
    assert!(ws.next().await.is_none());
}

#[tokio::test]
async fn bad_handshakes_get_an_http_error() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (addr, mut logs) = echo_server(Config::default()).await;
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n").await.unwrap();
    let mut response = String::new();
    tcp.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 426"), "{response}");
    assert!(response.contains("Sec-WebSocket-Version"));
    assert!(logs.recv().await.unwrap().error.unwrap().contains("handshake"));
}

#[tokio::test]
async fn client_rejects_a_wrong_accept() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 1024];
        let _ = tcp.read(&mut buf).await.unwrap();
        let bogus = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
        tcp.write_all(bogus.as_bytes()).await.unwrap();
    });
    let err = connect(format!("ws://{addr}/")).await.unwrap_err();
    assert!(err.to_string().contains("Sec-WebSocket-Accept"), "{err}");
}

#[tokio::test]
async fn malformed_deflate_offers_are_declined_not_refused() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let mut config = Config::default();
    config.deflate = Some(autostrada::proto::deflate::DeflateConfig::default());
    let (addr, _logs) = echo_server(config).await;
    // RFC 7692 §7.1: a bad offer is declined; the next one may be accepted.
    for (offers, answer) in [
        ("permessage-deflate; server_max_window_bits=99", None),
        ("permessage-deflate; x-unknown=1", None),
        (
            "permessage-deflate; bogus, permessage-deflate; server_no_context_takeover",
            Some("permessage-deflate; server_no_context_takeover"),
        ),
    ] {
        let mut tcp = BufReader::new(tokio::net::TcpStream::connect(addr).await.unwrap());
        let request = format!(
            "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Extensions: {offers}\r\n\r\n"
        );
        tcp.get_mut().write_all(request.as_bytes()).await.unwrap();
        let mut head = Vec::new();
        loop {
            let mut line = String::new();
            assert!(tcp.read_line(&mut line).await.unwrap() > 0, "the server closed mid-response");
            if line == "\r\n" {
                break;
            }
            head.push(line.trim_end().to_owned());
        }
        assert_eq!(head[0], "HTTP/1.1 101 Switching Protocols", "{offers}");
        let extensions = head.iter().find_map(|l| {
            l.strip_prefix("sec-websocket-extensions: ").or_else(|| l.strip_prefix("Sec-WebSocket-Extensions: "))
        });
        assert_eq!(extensions, answer, "{offers}");
    }
}
