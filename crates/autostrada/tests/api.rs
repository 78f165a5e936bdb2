//! The socket's everyday API over loopback TCP: closing with a code and a
//! reason, reaching the stream underneath, taking it back, splitting and
//! reuniting, and a stream that stays ended.

use autostrada::{CloseCode, CloseFrame, Config, Message, ServerBuilder, WebSocket, connect};
use futures_util::stream::FusedStream;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Accepts one connection and hands the server's socket to the test.
async fn pair() -> (WebSocket<TcpStream>, WebSocket<autostrada::MaybeTlsStream<TcpStream>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        ServerBuilder::new().config(Config::default()).accept(tcp).await.unwrap()
    });
    let (client, _) = connect(format!("ws://{addr}/").as_str()).await.unwrap();
    (server.await.unwrap(), client)
}

/// Every message until the stream ends (an error ends it too).
async fn everything<S: futures_util::Stream<Item = Result<Message, autostrada::Error>> + Unpin>(
    ws: &mut S,
) -> Vec<Message> {
    let mut seen = Vec::new();
    while let Some(Ok(m)) = ws.next().await {
        seen.push(m);
    }
    seen
}

#[tokio::test]
async fn close_with_a_code_and_reason_reaches_the_peer() {
    let (mut server, mut client) = pair().await;
    client.close(CloseCode(4001), "shift over").await.unwrap();
    // Both ends read to the end together: each waits for the other's TCP close.
    let (server_saw, client_saw) = tokio::join!(everything(&mut server), everything(&mut client));
    assert_eq!(server_saw, [Message::Close(Some(CloseFrame::new(CloseCode(4001), "shift over")))]);
    // The server echoed the code.
    assert!(matches!(&client_saw[..], [Message::Close(Some(f))] if f.code == CloseCode(4001)), "{client_saw:?}");
    assert!(client.is_terminated() && server.is_terminated());
    assert!(client.next().await.is_none(), "a fused stream stays ended");
}

#[tokio::test]
async fn close_refuses_codes_that_may_not_be_sent_and_a_second_close() {
    let (_server, mut client) = pair().await;
    let err = client.close(CloseCode::ABNORMAL, "").await.unwrap_err();
    assert!(err.to_string().contains("1006"), "{err}");
    let (_read, mut write) = client.split();
    write.close(CloseCode::GOING_AWAY, &"é".repeat(100)).await.unwrap();
    assert!(write.close(CloseCode::NORMAL, "").await.is_err(), "one close only");
}

#[tokio::test]
async fn get_ref_reaches_the_tcp_stream_from_the_socket_and_both_halves() {
    let (server, client) = pair().await;
    let client_addr = client.get_ref().get_ref().local_addr().unwrap();
    assert_eq!(server.get_ref().peer_addr().unwrap(), client_addr);
    server.get_ref().set_nodelay(true).unwrap();
    let (read, write) = server.split();
    assert_eq!(read.get_ref().peer_addr().unwrap(), client_addr);
    assert!(write.get_ref().nodelay().unwrap());
}

#[tokio::test]
async fn into_inner_gives_the_stream_back() {
    let (server, client) = pair().await;
    let mut server = server;
    server.send(Message::text("last words")).await.unwrap();
    let mut tcp = server.into_inner();
    // The raw stream goes on working: the client reads our frame, then raw octets.
    tcp.write_all(b"\x81\x03raw").await.unwrap();
    let mut client = client;
    assert_eq!(client.next().await.unwrap().unwrap().as_text(), Some("last words"));
    assert_eq!(client.next().await.unwrap().unwrap().as_text(), Some("raw"));
    let mut raw = client.into_inner();
    drop(tcp);
    let mut rest = Vec::new();
    raw.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty());
}

#[tokio::test]
async fn halves_reunite_only_with_their_own() {
    let (a, _) = pair().await;
    let (b, _) = pair().await;
    let (a_read, a_write) = a.split();
    let (b_read, b_write) = b.split();
    let mismatch = a_read.reunite(b_write).unwrap_err();
    assert!(mismatch.to_string().contains("two different"));
    let autostrada::ReuniteError(a_read, b_write) = *mismatch;
    let mut a = a_read.reunite(a_write).expect("a's halves");
    let _b = b_read.reunite(b_write).expect("b's halves");
    a.send(Message::text("whole again")).await.unwrap();
}

#[tokio::test]
async fn buffered_amount_counts_what_the_stream_has_not_taken() {
    let (server, mut client) = pair().await;
    let (read, mut write) = server.split();
    assert_eq!(write.buffered_amount(), 0);
    write.feed(Message::binary(vec![7u8; 200])).await.unwrap();
    write.feed(Message::text("hi")).await.unwrap();
    // 200 octets behind a 4-octet header, 2 behind a 2-octet one.
    assert_eq!(write.buffered_amount(), 204 + 4);
    write.flush().await.unwrap();
    assert_eq!(write.buffered_amount(), 0);
    assert_eq!(client.next().await.unwrap().unwrap(), Message::binary(vec![7u8; 200]));
    assert_eq!(client.next().await.unwrap().unwrap(), Message::text("hi"));
    // Reunited, the socket reports the same queue.
    write.feed(Message::text("x")).await.unwrap();
    let ws = read.reunite(write).unwrap();
    assert_eq!(ws.buffered_amount(), 3);
}
