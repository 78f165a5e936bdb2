//! The `echoserver` and `testeeserver` modes, and the server behind the
//! no-argument run: an autostrada echo server.

use std::net::SocketAddr;

use autostrada::proto::deflate::DeflateConfig;
use autostrada::{Config, ServerBuilder};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;

/// Limits raised so the suite's 16 MiB messages fit.
fn config() -> Config {
    let mut config = Config::default();
    config.max_frame_size = 64 << 20;
    config.max_message_size = 64 << 20;
    // permessage-deflate when the peer offers (server) / offered to the server (client).
    config.deflate = Some(DeflateConfig::default());
    config
}

/// Binds an echo server to `addr`; returns the bound address and the task
/// that serves it until dropped or aborted.
pub async fn start(addr: &str) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let server = ServerBuilder::new().config(config());
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let _ = tcp.set_nodelay(true);
            let server = server.clone();
            tokio::spawn(async move {
                let Ok(mut ws) = server.accept(tcp).await else {
                    return;
                };
                while let Some(message) = ws.next().await {
                    if let Ok(m) = message {
                        if m.is_data() && ws.send(m).await.is_err() {
                            break;
                        }
                    }
                }
            });
        }
    });
    Ok((local, task))
}
