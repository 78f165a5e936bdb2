//! An axum app with a route that upgrades to an autostrada WebSocket, with
//! permessage-deflate negotiated by autostrada.
//!
//! ```sh
//! cargo run -p autostrada --features hyper --example axum_echo -- 127.0.0.1:3000
//! ```
//!
//! `ws://127.0.0.1:3000/ws` echoes; `GET /` answers with plain text.

use autostrada::proto::deflate::DeflateConfig;
use autostrada::{Config, ServerBuilder};
use axum::Router;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::get;
use futures_util::{SinkExt, StreamExt};

async fn ws(State(server): State<ServerBuilder>, mut request: Request) -> Response {
    let (response, socket) = match autostrada::hyper::upgrade(&mut request, &server) {
        Ok(upgrade) => upgrade,
        Err(e) => return autostrada::hyper::bad_request(&e),
    };
    tokio::spawn(async move {
        let Ok(mut ws) = socket.await else { return };
        while let Some(Ok(message)) = ws.next().await {
            if message.is_data() && ws.feed(message).await.is_err() {
                break;
            }
        }
        let _ = ws.flush().await;
    });
    response
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:3000".into());
    let mut config = Config::default();
    config.deflate = Some(DeflateConfig::default());
    let app = Router::new()
        .route("/", get(|| async { "WebSocket echo at /ws\n" }))
        .route("/ws", get(ws))
        .with_state(ServerBuilder::new().config(config));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("axum_echo on ws://{}/ws", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
