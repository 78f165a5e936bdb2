//! Interop check: connects with permessage-deflate to an echo server (any
//! implementation), sends 1000 messages — text with non-ASCII characters and
//! binary, 0 B to 1 MiB — and verifies every echo. Exits 1 on any mismatch.
//!
//! ```text
//! cargo run --release -p autostrada --example interop_client -- ws://127.0.0.1:9002/
//! ```

use autostrada::proto::deflate::DeflateConfig;
use autostrada::{ClientBuilder, Config, Message};
use futures_util::{SinkExt, StreamExt};

/// The i-th message: sizes from 0 to 1 MiB, alternating text and binary.
fn message(i: usize) -> Message {
    let size = match i % 50 {
        0 => 1 << 20,
        1 => 0,
        _ => (i * 7919) % 70_000,
    };
    if i.is_multiple_of(2) {
        // Text mixing ASCII with 2-, 3- and 4-octet characters.
        let unit = "Zürich → 東京 🚄 ";
        let mut s: String = unit.chars().cycle().take(size).collect();
        while s.len() > size {
            s.pop();
        }
        Message::text(s)
    } else {
        Message::binary((0..size).map(|j| (j * 31 + i) as u8).collect::<Vec<u8>>())
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args().nth(1).unwrap_or_else(|| "ws://127.0.0.1:9002/".into());
    let mut config = Config::default();
    config.max_message_size = 64 << 20;
    config.deflate = Some(DeflateConfig::default());
    let (mut ws, response) = ClientBuilder::new().config(config).connect(&url).await?;
    let ext = response.headers().get("sec-websocket-extensions").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    if ws.deflate().is_none() {
        return Err(format!("{url} did not negotiate permessage-deflate (Sec-WebSocket-Extensions: {ext:?})").into());
    }
    let (mut sent_octets, mut wire_check) = (0usize, 0usize);
    for i in 0..1000 {
        let m = message(i);
        sent_octets += m.len();
        ws.send(m.clone()).await?;
        match ws.next().await {
            Some(Ok(echo)) if echo == m => wire_check += 1,
            Some(Ok(other)) => {
                return Err(format!("message {i}: echo differs ({} octets back for {})", other.len(), m.len()).into());
            }
            Some(Err(e)) => return Err(format!("message {i}: {e}").into()),
            None => return Err(format!("message {i}: connection ended").into()),
        }
    }
    ws.close(autostrada::CloseCode::NORMAL, "").await?;
    while ws.next().await.is_some() {}
    println!("interop_client: {wire_check}/1000 echoes verified ({sent_octets} octets) with {ext}");
    Ok(())
}
