//! A client behind a proxy: an explicit `http://` or `socks5://` proxy URL,
//! or, without one, whatever `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` /
//! `NO_PROXY` say.
//!
//! ```text
//! cargo run -p autostrada --example proxy_client -- ws://echo.internal:9001 socks5://127.0.0.1:1080
//! ALL_PROXY=http://user:pass@proxy:3128 cargo run -p autostrada --example proxy_client -- ws://echo.internal:9001
//! ```

use autostrada::{ClientBuilder, CloseCode, Message, Proxy};
use futures_util::{SinkExt, StreamExt};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().ok_or("usage: proxy_client WS-URL [PROXY-URL]")?;
    let builder = match args.next() {
        Some(proxy) => ClientBuilder::new().proxy(Proxy::from_url(&proxy)?),
        None => ClientBuilder::new().proxy_from_env(),
    };
    let (mut ws, _) = builder.connect(url.as_str()).await?;
    ws.send(Message::text("hello through the proxy")).await?;
    if let Some(reply) = ws.next().await {
        println!("{:?}", reply?);
    }
    ws.close(CloseCode::NORMAL, "").await?;
    while ws.next().await.is_some() {}
    Ok(())
}
