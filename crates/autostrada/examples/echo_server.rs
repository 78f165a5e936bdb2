//! Echoes every text and binary message back to its sender.
//!
//! ```text
//! cargo run --release -p autostrada --example echo_server -- 127.0.0.1:9001
//! ```
//!
//! Limits are raised above the defaults so the reference suite's 16 MiB
//! messages (case 9.1.6 and friends) fit. Logs connections that fail, never
//! individual messages.

use autostrada::proto::deflate::DeflateConfig;
use autostrada::{Config, ServerBuilder};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9001".to_owned());
    let listener = TcpListener::bind(&addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let mut config = Config::default();
    config.max_frame_size = 64 << 20;
    config.max_message_size = 64 << 20;
    // permessage-deflate when the peer offers (server) / offered to the server (client).
    config.deflate = Some(DeflateConfig::default());
    let server = ServerBuilder::new().config(config);
    eprintln!("echo_server: listening on ws://{}", listener.local_addr()?);
    loop {
        let (tcp, peer) = listener.accept().await?;
        tcp.set_nodelay(true)?;
        let server = server.clone();
        tokio::spawn(async move {
            let mut ws = match server.accept(tcp).await {
                Ok(ws) => ws,
                Err(e) => return eprintln!("echo_server: {peer}: {e}"),
            };
            // Each message is bound once and tested in the match guard: a
            // `while let` scrutinee, or a message a method was called on,
            // would keep a slot in the task's state across the `feed`.
            loop {
                let message = match ws.next().await {
                    Some(Ok(m)) if m.is_data() => m,
                    // Pings, pongs and closes are answered by the library.
                    Some(Ok(_)) => continue,
                    // A protocol error: the close frame is out; let the stream finish.
                    Some(Err(_)) => continue,
                    None => break,
                };
                // Data is queued, and written with whatever else is queued
                // once no further message is buffered (see SendHalf).
                if ws.feed(message).await.is_err() {
                    break;
                }
            }
        });
    }
}
