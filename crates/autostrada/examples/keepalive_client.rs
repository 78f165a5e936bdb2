//! Keepalive and round-trip times: connects, lets the library ping a quiet
//! server every few seconds (and drop it if it stops answering), and
//! measures a ping's round trip now and then.
//!
//! ```text
//! cargo run -p autostrada --example echo_server &
//! cargo run -p autostrada --example keepalive_client -- ws://127.0.0.1:9001 5
//! ```

use std::time::Duration;

use autostrada::{ClientBuilder, Config, Error};
use futures_util::StreamExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| "ws://127.0.0.1:9001".to_owned());
    let rounds: u32 = args.next().map_or(Ok(5), |n| n.parse()).map_err(|e| format!("rounds: {e}"))?;
    let config = Config::default()
        .with_ping_interval(Duration::from_secs(2))
        .with_pong_timeout(Duration::from_secs(3))
        .with_idle_timeout(Duration::from_secs(600));
    let (ws, _) = ClientBuilder::new().config(config).connect(url.as_str()).await?;
    let (mut read, mut write) = ws.split();
    // The read half runs keepalive and completes pongs: keep it polled.
    let reader = tokio::spawn(async move {
        while let Some(item) = read.next().await {
            match item {
                Err(Error::KeepaliveTimeout) => return eprintln!("the server stopped answering"),
                Err(e) => return eprintln!("connection ended: {e}"),
                Ok(message) => println!("received {message:?}"),
            }
        }
    });
    for round in 1..=rounds {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let pong = write.ping().await?;
        match tokio::time::timeout(Duration::from_secs(5), pong).await {
            Ok(Ok(rtt)) => println!("round {round}: round trip {rtt:?}"),
            Ok(Err(e)) => return Err(e.into()),
            Err(_) => println!("round {round}: no pong within 5 s"),
        }
    }
    write.close(autostrada::CloseCode::NORMAL, "done").await?;
    reader.await?;
    Ok(())
}
