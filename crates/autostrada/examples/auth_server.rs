//! Authentication in the upgrade hook: a request without the right bearer
//! token gets `401 Unauthorized` with a `WWW-Authenticate` header and a body
//! the client can show, before any WebSocket exists; the rest are echoed.
//!
//! ```text
//! cargo run -p autostrada --example auth_server -- 127.0.0.1:9003 s3cret
//! ```

use autostrada::http::{Response, StatusCode, header};
use autostrada::{Accept, ServerBuilder};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9003".to_owned());
    let token = args.next().unwrap_or_else(|| "s3cret".to_owned());
    let listener = TcpListener::bind(&addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    eprintln!("auth_server: ws://{} (Authorization: Bearer {token})", listener.local_addr()?);
    let server = ServerBuilder::new();
    loop {
        let (tcp, peer) = listener.accept().await?;
        let (server, wanted) = (server.clone(), format!("Bearer {token}"));
        tokio::spawn(async move {
            let upgrade = match server.read_request(tcp).await {
                Ok(upgrade) => upgrade,
                Err(e) => return eprintln!("auth_server: {peer}: {e}"),
            };
            let given = upgrade.request().headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
            if given != Some(wanted.as_str()) {
                let refusal = Response::builder()
                    .status(StatusCode::UNAUTHORIZED)
                    .header(header::WWW_AUTHENTICATE, "Bearer realm=\"echo\"")
                    .body("a bearer token is required\n")
                    .expect("a valid response");
                let _ = upgrade.reject(refusal).await;
                return eprintln!("auth_server: {peer}: refused");
            }
            let user = Accept::new().header("x-welcome", "authenticated").expect("a valid header");
            let Ok(mut ws) = upgrade.accept_with(user).await else { return };
            while let Some(Ok(message)) = ws.next().await {
                if message.is_data() && ws.send(message).await.is_err() {
                    break;
                }
            }
        });
    }
}
