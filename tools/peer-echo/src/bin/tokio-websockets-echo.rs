//! tokio-websockets echo server.
use futures_util::{SinkExt, StreamExt};

#[tokio::main]
async fn main() {
    peer_echo::run("tokio-websockets", |tcp| async move {
        let builder = tokio_websockets::ServerBuilder::new()
            .limits(tokio_websockets::Limits::default().max_payload_len(Some(64 << 20)));
        let Ok((_req, mut ws)) = builder.accept(tcp).await else { return };
        while let Some(Ok(msg)) = ws.next().await {
            if (msg.is_text() || msg.is_binary()) && ws.send(msg).await.is_err() {
                break;
            }
        }
    })
    .await;
}
