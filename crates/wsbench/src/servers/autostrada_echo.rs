//! autostrada's echo, as its README shows it: `feed` queues each echo and
//! the next read writes out everything queued once no further message is
//! buffered, so messages that arrived together leave in one write.

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
    while let Some(message) = ws.next().await {
        match message {
            Ok(m) if m.is_data() => {
                if ws.feed(m).await.is_err() {
                    return;
                }
            }
            // Pings and closes are answered by the library.
            Ok(_) => {}
            Err(_) => return,
        }
    }
}
