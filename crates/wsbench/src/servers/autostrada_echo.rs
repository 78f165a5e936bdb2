//! autostrada's echo, as its README shows it: `feed` queues each echo and
//! the next read writes out everything queued once no further message is
//! buffered, so messages that arrived together leave in one write. Each
//! message is bound once (not in a `while let` scrutinee, which lives for
//! the loop's whole body) and tested in the match guard (a local a method
//! borrowed keeps its slot across the `feed` that took it): the task's
//! future is 312 octets.

use std::sync::OnceLock;

use autostrada::proto::deflate::DeflateConfig;
use autostrada::{Config, ServerBuilder};
use futures_util::{SinkExt, StreamExt};
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
pub async fn echo(tcp: TcpStream, low_memory: bool) {
    let Ok(mut ws) = builder(low_memory).accept(tcp).await else { return };
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
