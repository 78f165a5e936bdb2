//! A chat room: every text message a client sends goes to every client.
//!
//! ```text
//! cargo run -p autostrada --example chat_server -- 127.0.0.1:9002
//! ```
//!
//! Each connection is split: its read half feeds the room's broadcast
//! channel, its send half (in a task of its own) forwards the room to the
//! client. A client too slow to keep up loses the oldest messages and is
//! told how many, instead of holding the room's memory hostage.

use autostrada::{CloseCode, Message, ServerBuilder};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio::sync::broadcast;

/// Messages kept for a client that falls behind.
const BACKLOG: usize = 256;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9002".to_owned());
    let listener = TcpListener::bind(&addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    eprintln!("chat_server: ws://{}", listener.local_addr()?);
    let (room, _) = broadcast::channel::<String>(BACKLOG);
    loop {
        let (tcp, peer) = listener.accept().await?;
        let room = room.clone();
        tokio::spawn(async move {
            let ws = match ServerBuilder::new().accept(tcp).await {
                Ok(ws) => ws,
                Err(e) => return eprintln!("chat_server: {peer}: {e}"),
            };
            let (mut read, mut write) = ws.split();
            let mut inbox = room.subscribe();
            let _ = room.send(format!("{peer} joined"));
            // The room to this client.
            let forward = tokio::spawn(async move {
                loop {
                    let text = match inbox.recv().await {
                        Ok(text) => text,
                        Err(broadcast::error::RecvError::Lagged(n)) => format!("({n} messages skipped)"),
                        Err(broadcast::error::RecvError::Closed) => break,
                    };
                    if write.send(Message::text(text)).await.is_err() {
                        break;
                    }
                }
                let _ = write.close(CloseCode::GOING_AWAY, "room closed").await;
            });
            // This client to the room; pings and closes are answered by the read half.
            while let Some(Ok(message)) = read.next().await {
                if let Some(text) = message.as_text() {
                    let _ = room.send(format!("{peer}: {text}"));
                }
            }
            forward.abort();
            let _ = room.send(format!("{peer} left"));
        });
    }
}
