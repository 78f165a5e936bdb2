//! "Unlimited" settings — `usize::MAX` sizes, `Duration::MAX` timeouts —
//! neither panic nor refuse every message, with and without compression.

mod common;

use std::time::Duration;

use autostrada::proto::deflate::DeflateConfig;
use autostrada::proto::handshake::HandshakeLimits;
use autostrada::{ClientBuilder, Config, Message};
use common::echo_server;
use futures_util::{SinkExt, StreamExt};

fn unlimited(deflate: bool) -> Config {
    let mut c = Config::default();
    c.max_frame_size = usize::MAX;
    c.max_message_size = usize::MAX;
    c.max_fragments = usize::MAX;
    c.send_frame_size = usize::MAX;
    c.flush_threshold = usize::MAX;
    c.read_buffer_size = usize::MAX;
    c.close_timeout = Duration::MAX;
    c.handshake_timeout = Duration::MAX;
    c.handshake_limits = HandshakeLimits { max_head_size: usize::MAX, max_headers: usize::MAX };
    c.deflate = deflate.then(DeflateConfig::default);
    c
}

#[tokio::test]
async fn unlimited_settings_work_in_both_roles() {
    for deflate in [false, true] {
        let (addr, mut logs) = echo_server(unlimited(deflate)).await;
        let client = ClientBuilder::new().config(unlimited(deflate));
        let (mut ws, _) = client.connect(format!("ws://{addr}/")).await.unwrap();
        assert_eq!(ws.deflate().is_some(), deflate);
        let big = "unlimited ".repeat(300_000);
        for m in [Message::text("small"), Message::text(big), Message::binary(vec![7u8; 70_000])] {
            ws.send(m.clone()).await.unwrap();
            assert_eq!(ws.next().await.unwrap().unwrap(), m);
        }
        ws.close(autostrada::CloseCode::NORMAL, "").await.unwrap();
        while let Some(m) = ws.next().await {
            assert!(matches!(m, Ok(Message::Close(_))), "{m:?}");
        }
        let log = logs.recv().await.unwrap();
        assert!(log.error.is_none(), "{:?}", log.error);
    }
}
