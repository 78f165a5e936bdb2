//! autostrada's echo, as its README shows it: `feed` queues each echo and
//! the next read writes out everything queued once no further message is
//! buffered, so messages that arrived together leave in one write. Each
//! message is bound once (not in a `while let` scrutinee, which lives for
//! the loop's whole body) and tested in the match guard (a local a method
//! borrowed keeps its slot across the `feed` that took it).
//!
//! The handshake and the loop are chained with `then` rather than written
//! as one `async fn`: an async function keeps its arguments for its whole
//! life, so one that took the `TcpStream` would carry those 32 octets next
//! to the `WebSocket` they became (rust-lang/rust#62958). The Rust peers'
//! echoes are chained the same way (`peers.rs`).

use std::sync::OnceLock;

use autostrada::proto::deflate::DeflateConfig;
use autostrada::{Config, ServerBuilder, WebSocket};
use futures_util::future::{self, Either};
use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::net::TcpStream;

fn builder(low_memory: bool) -> &'static ServerBuilder {
    static BUILDERS: OnceLock<[ServerBuilder; 2]> = OnceLock::new();
    let [default, lean] = BUILDERS.get_or_init(|| {
        [DeflateConfig::default(), DeflateConfig::low_memory()].map(|deflate| {
            let mut config = Config::default();
            config.max_frame_size = super::MAX_MESSAGE;
            config.max_message_size = super::MAX_MESSAGE;
            // permessage-deflate when the client offers it.
            config.deflate = Some(deflate);
            ServerBuilder::new().config(config)
        })
    });
    if low_memory { lean } else { default }
}

/// Echoes text and binary messages until the connection ends; with
/// `low_memory`, permessage-deflate without context takeover.
pub fn echo(tcp: TcpStream, low_memory: bool) -> impl Future<Output = ()> + Send {
    // `lazy`: the handshake (which `accept` boxes) starts on the worker
    // that polls the task, not on the thread that spawned it.
    future::lazy(move |_| builder(low_memory).accept(tcp)).flatten().then(|accepted| match accepted {
        Ok(ws) => Either::Left(echo_messages(ws)),
        Err(_) => Either::Right(std::future::ready(())),
    })
}

/// The echo loop on an accepted connection. An `async` block that uses the
/// connection in place: an `async fn` would move its argument into a
/// second slot of the same size.
// Not an `async fn`: that would move the socket into a second slot.
#[allow(clippy::manual_async_fn)]
fn echo_messages(mut ws: WebSocket<TcpStream>) -> impl Future<Output = ()> + Send {
    async move {
        loop {
            let message = match ws.next().await {
                Some(Ok(m)) if m.is_data() => m,
                // Pings and closes are answered by the library; the stream
                // ends after the closing handshake or an error.
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return,
            };
            if ws.feed(message).await.is_err() {
                return;
            }
        }
    }
}
