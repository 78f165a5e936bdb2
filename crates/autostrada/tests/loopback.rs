//! Our client against our server over loopback: messages of every kind and size.

mod common;

use autostrada::{ClientBuilder, Config, Message, connect};
use bytes::Bytes;
use common::echo_server;
use futures_util::{SinkExt, StreamExt};

#[tokio::test]
async fn text_and_binary_echo() {
    let (addr, _logs) = echo_server(Config::default()).await;
    let (mut ws, response) = connect(format!("ws://{addr}/echo")).await.unwrap();
    assert_eq!(response.status(), 101);
    let sent = vec![
        Message::text("Hello, κόσμε"),
        Message::binary(vec![0u8, 1, 2, 255]),
        Message::text(""),
        Message::binary(Bytes::new()),
        Message::text("x".repeat(70_000)),
    ];
    for m in &sent {
        ws.send(m.clone()).await.unwrap();
    }
    for m in &sent {
        assert_eq!(&ws.next().await.unwrap().unwrap(), m);
    }
}

#[tokio::test]
async fn fragmented_messages_reassemble() {
    let (addr, mut logs) = echo_server(Config::default()).await;
    let mut config = Config::default();
    config.send_frame_size = 7;
    let client = ClientBuilder::new().config(config);
    let (mut ws, _) = client.connect(format!("ws://{addr}/")).await.unwrap();
    let text = "fragmented across many frames: ½ ⅓ ¼ 🎉".repeat(20);
    ws.send(Message::text(text.clone())).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text(text.clone()));
    ws.close(autostrada::CloseCode::NORMAL, "").await.unwrap();
    while ws.next().await.is_some() {}
    let log = logs.recv().await.unwrap();
    assert_eq!(log.messages[0], Message::text(text));
}

#[tokio::test]
async fn pings_between_fragments_are_answered_first() {
    use autostrada::proto::OpCode;
    let (addr, _logs) = echo_server(Config::default()).await;
    let mut raw = common::RawClient::connect(addr).await;
    raw.frame(false, 0, OpCode::Text, b"frag").await;
    raw.frame(true, 0, OpCode::Ping, b"one").await;
    raw.frame(false, 0, OpCode::Continuation, b"men").await;
    raw.frame(true, 0, OpCode::Ping, b"two").await;
    raw.frame(true, 0, OpCode::Continuation, b"ted").await;
    assert_eq!(raw.next().await, Some(Message::Pong("one".into())));
    assert_eq!(raw.next().await, Some(Message::Pong("two".into())));
    assert_eq!(raw.next().await, Some(Message::text("fragmented")));
}

#[tokio::test]
async fn a_16_mib_message() {
    let (addr, _logs) = echo_server(Config::default()).await;
    let (mut ws, _) = connect(format!("ws://{addr}/")).await.unwrap();
    let big: Vec<u8> = (0..16u32 << 20).map(|i| (i % 251) as u8).collect();
    ws.send(Message::binary(big.clone())).await.unwrap();
    match ws.next().await.unwrap().unwrap() {
        Message::Binary(b) => assert!(b == big, "echo differs"),
        other => panic!("expected binary, got {other:?}"),
    }
}

#[tokio::test]
async fn a_hundred_concurrent_connections() {
    let (addr, _logs) = echo_server(Config::default()).await;
    let url = format!("ws://{addr}/");
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let url = url.clone();
            tokio::spawn(async move {
                let (mut ws, _) = connect(&url).await.unwrap();
                for j in 0..20 {
                    let m = Message::text(format!("connection {i} message {j}"));
                    ws.send(m.clone()).await.unwrap();
                    assert_eq!(ws.next().await.unwrap().unwrap(), m);
                }
                ws.close(autostrada::CloseCode::NORMAL, "").await.unwrap();
                while let Some(m) = ws.next().await {
                    m.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

#[tokio::test]
async fn split_halves_in_two_tasks() {
    let (addr, _logs) = echo_server(Config::default()).await;
    let (ws, _) = connect(format!("ws://{addr}/")).await.unwrap();
    let (mut read, mut write) = ws.split();
    let writer = tokio::spawn(async move {
        for i in 0..1000 {
            write.feed(Message::text(i.to_string())).await.unwrap();
        }
        write.flush().await.unwrap();
        write.close(autostrada::CloseCode::NORMAL, "").await.unwrap();
    });
    let mut expected = 0;
    while let Some(m) = read.next().await {
        match m.unwrap() {
            Message::Text(t) => {
                assert_eq!(t.as_str(), expected.to_string());
                expected += 1;
            }
            Message::Close(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(expected, 1000);
    writer.await.unwrap();
}

#[tokio::test]
async fn auto_pong_flows_from_the_read_half_while_the_writer_idles() {
    use autostrada::proto::OpCode;
    // Our *server* gets a ping from a raw client; the server application
    // never sends anything itself, yet the pong must arrive.
    let (addr, _logs) = echo_server(Config::default()).await;
    let mut raw = common::RawClient::connect(addr).await;
    raw.frame(true, 0, OpCode::Ping, b"are you there").await;
    assert_eq!(raw.next().await, Some(Message::Pong("are you there".into())));
}

#[tokio::test]
async fn permessage_deflate_end_to_end() {
    use autostrada::proto::deflate::DeflateConfig;
    let mut config = Config::default();
    config.deflate = Some(DeflateConfig::default());
    let (addr, _logs) = echo_server(config.clone()).await;
    let mut client_config = config;
    let mut offer = DeflateConfig::default();
    offer.client_no_context_takeover = true;
    client_config.deflate = Some(offer);
    let (mut ws, response) = ClientBuilder::new().config(client_config).connect(format!("ws://{addr}/")).await.unwrap();
    let ext = response.headers().get("sec-websocket-extensions").unwrap().to_str().unwrap().to_owned();
    assert!(ext.starts_with("permessage-deflate"), "{ext}");
    let params = ws.deflate().expect("negotiated");
    assert!(params.client_no_context_takeover);
    let big = "compressible text, ".repeat(100_000);
    for m in [Message::text(big), Message::binary(vec![0u8; 3 << 20]), Message::text("é"), Message::text("")] {
        ws.send(m.clone()).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), m);
    }
    ws.queue_uncompressed(Message::binary(vec![1u8, 2, 3])).unwrap();
    ws.flush().await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::binary(vec![1u8, 2, 3]));
}

#[tokio::test]
async fn deflate_is_declined_when_the_server_does_not_want_it() {
    use autostrada::proto::deflate::DeflateConfig;
    let (addr, _logs) = echo_server(Config::default()).await;
    let mut config = Config::default();
    config.deflate = Some(DeflateConfig::default());
    let (mut ws, response) = ClientBuilder::new().config(config).connect(format!("ws://{addr}/")).await.unwrap();
    assert!(response.headers().get("sec-websocket-extensions").is_none());
    assert!(ws.deflate().is_none());
    ws.send(Message::text("plain")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("plain"));
}

#[cfg(not(feature = "rustls"))]
#[tokio::test]
async fn wss_without_a_tls_feature_names_the_features() {
    // Nothing listens on port 1: the error comes before any connection.
    match connect("wss://127.0.0.1:1/").await {
        Err(autostrada::Error::Tls(text)) => assert!(text.contains("rustls-webpki-roots"), "{text}"),
        other => panic!("expected Error::Tls, got {:?}", other.map(|_| ())),
    }
}
