//! Echo round trips for the tests of sockets an echo server holds: a short
//! text, a large compressible text and a large binary message, each echoed
//! unchanged, then the closing handshake. Include with `#[path =
//! "common/round_trips.rs"] mod round_trips;`.

use autostrada::{CloseCode, Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};

/// Sends each message, expects its echo, then closes and drains.
pub async fn round_trips<S: AsyncRead + AsyncWrite + Unpin>(ws: &mut WebSocket<S>) {
    let big = "compressible ".repeat(20_000);
    for message in [Message::text("hi"), Message::text(big.as_str()), Message::binary(vec![7; 100_000])] {
        ws.send(message.clone()).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), message);
    }
    ws.close(CloseCode::NORMAL, "").await.unwrap();
    while ws.next().await.is_some() {}
}
