//! Soak load for an echo server: N connections held open for T seconds,
//! each sending a message, checking that exactly that message comes back,
//! then pausing (`SOAK_PAUSE_MS`, default 1000), over and over. Prints one JSON line per interval and a
//! final total; exits non-zero on any error or wrong echo.
//!
//! ```text
//! cargo run --release -p autostrada --example soak_client -- ws://127.0.0.1:9001 10000 60 [--deflate]
//! ```
//! Used by `tools/soak` (which also samples the server's memory).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use autostrada::proto::deflate::DeflateConfig;
use autostrada::{ClientBuilder, Config, Message};
use futures_util::{SinkExt, StreamExt};

#[derive(Default)]
struct Totals {
    connected: AtomicU64,
    echoed: AtomicU64,
    errors: AtomicU64,
    wrong: AtomicU64,
}

/// A JSON-ish message of about 200 octets, different for every send.
fn message(conn: usize, seq: u64) -> String {
    format!(
        r#"{{"conn":{conn},"seq":{seq},"kind":"soak","payload":"{}","note":"the quick brown fox jumps over the lazy dog"}}"#,
        "abcdefghij".repeat(10)
    )
}

async fn one(url: Arc<str>, conn: usize, deflate: bool, until: Instant, pause: Duration, totals: Arc<Totals>) {
    let mut config = Config::default();
    if deflate {
        config.deflate = Some(DeflateConfig::default());
    }
    let client = ClientBuilder::new().config(config);
    let mut ws = match client.connect(&*url).await {
        Ok((ws, _)) => ws,
        Err(e) => {
            totals.errors.fetch_add(1, Ordering::Relaxed);
            return eprintln!("soak_client: connection {conn}: {e}");
        }
    };
    totals.connected.fetch_add(1, Ordering::Relaxed);
    let mut seq = 0u64;
    while Instant::now() < until {
        let sent = message(conn, seq);
        if let Err(e) = ws.send(Message::text(sent.clone())).await {
            totals.errors.fetch_add(1, Ordering::Relaxed);
            return eprintln!("soak_client: connection {conn}: send: {e}");
        }
        match ws.next().await {
            Some(Ok(Message::Text(t))) if t.as_str() == sent => {
                totals.echoed.fetch_add(1, Ordering::Relaxed);
            }
            Some(Ok(other)) => {
                totals.wrong.fetch_add(1, Ordering::Relaxed);
                return eprintln!("soak_client: connection {conn}: wrong echo {other:?}");
            }
            Some(Err(e)) => {
                totals.errors.fetch_add(1, Ordering::Relaxed);
                return eprintln!("soak_client: connection {conn}: {e}");
            }
            None => {
                totals.errors.fetch_add(1, Ordering::Relaxed);
                return eprintln!("soak_client: connection {conn}: closed by the server");
            }
        }
        seq += 1;
        tokio::time::sleep(pause).await;
    }
    if ws.close(autostrada::CloseCode::NORMAL, "").await.is_err() {
        totals.errors.fetch_add(1, Ordering::Relaxed);
    }
    while ws.next().await.is_some() {}
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: soak_client URL CONNECTIONS SECONDS [--deflate]";
    let url: Arc<str> = args.first().ok_or(usage)?.as_str().into();
    let conns: usize = args.get(1).ok_or(usage)?.parse()?;
    let secs: u64 = args.get(2).ok_or(usage)?.parse()?;
    let deflate = args.iter().any(|a| a == "--deflate");
    let totals = Arc::new(Totals::default());
    let started = Instant::now();
    let until = started + Duration::from_secs(secs);
    // Each connection sends a message, awaits its echo, then pauses:
    // SOAK_PAUSE_MS (default 1000 ms, about one message a second each).
    let pause_ms = std::env::var("SOAK_PAUSE_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let pause = Duration::from_millis(pause_ms);
    let mut tasks = tokio::task::JoinSet::new();
    for conn in 0..conns {
        tasks.spawn(one(url.clone(), conn, deflate, until, pause, totals.clone()));
        // Connect in bursts so the listen backlog is not overrun.
        if conn % 200 == 199 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let report = |label: &str| {
        println!(
            r#"{{"at":"{label}","secs":{:.1},"connected":{},"echoed":{},"errors":{},"wrong":{}}}"#,
            started.elapsed().as_secs_f64(),
            totals.connected.load(Ordering::Relaxed),
            totals.echoed.load(Ordering::Relaxed),
            totals.errors.load(Ordering::Relaxed),
            totals.wrong.load(Ordering::Relaxed)
        );
    };
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    tick.tick().await;
    loop {
        tokio::select! {
            done = tasks.join_next() => if done.is_none() { break },
            _ = tick.tick() => report("progress"),
        }
    }
    report("total");
    let failed = totals.errors.load(Ordering::Relaxed) + totals.wrong.load(Ordering::Relaxed);
    if failed > 0 || totals.connected.load(Ordering::Relaxed) != conns as u64 {
        return Err(format!("{failed} connections failed").into());
    }
    Ok(())
}
