//! Servers that pass the suite only one case at a time: one that serves a
//! single connection at a time (the next waits in the listen queue), and a
//! chat room that echoes every message to every open connection. The
//! reference runs one case at a time and finds both OK (recorded with
//! python probes of the same two kinds under `../shared/tools/autobahn`:
//! OK/OK on 1.1.1, 1.1.2, 2.1, 2.2, 5.19, 5.20 and 6.4.x, and on 1.1.x and
//! 1.2.x); so must wstest with its default jobs. In parallel the first
//! made queued cases miss their 5 s opening handshake and the second
//! crossed the cases' messages.

use std::net::SocketAddr;

use autostrada::Message;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use wstest::runner::{self, RunOptions};
use wstest::spec;

/// Cases that take a few seconds between them (5.19, 5.20 and 6.4.x wait
/// on timers), so that any overlap would show.
const CASES: &[&str] =
    &["1.1.1", "1.1.2", "1.2.1", "2.1", "2.2", "3.1", "5.19", "5.20", "6.4.1", "6.4.2", "6.4.3", "7.1.1"];

/// Echoes on one connection at a time: the next is accepted only once
/// this one has ended.
async fn one_connection_at_a_time() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let Ok(mut ws) = autostrada::accept(tcp).await else { continue };
            while let Some(Ok(message)) = ws.next().await {
                if message.is_data() && ws.send(message).await.is_err() {
                    break;
                }
            }
        }
    });
    addr
}

/// Sends every data message it receives to every open connection.
async fn chat_room() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (room, _) = broadcast::channel::<Message>(1024);
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let room = room.clone();
            tokio::spawn(async move {
                let Ok(ws) = autostrada::accept(tcp).await else { return };
                let (mut rx, mut tx) = ws.split();
                let mut heard = room.subscribe();
                let speaker = tokio::spawn(async move {
                    while let Ok(message) = heard.recv().await {
                        if tx.send(message).await.is_err() {
                            return;
                        }
                    }
                });
                while let Some(Ok(message)) = rx.next().await {
                    if message.is_data() {
                        let _ = room.send(message);
                    }
                }
                speaker.abort();
            });
        }
    });
    addr
}

async fn run_default(addr: SocketAddr, agent: &str) {
    let text = serde_json::json!({"servers": [{"agent": agent, "url": format!("ws://{addr}")}], "cases": CASES});
    let spec = spec::parse_client(&text.to_string(), None).unwrap();
    let options = RunOptions {
        jobs: RunOptions::default_jobs(),
        quiet: true,
        debug: false,
        busy_poll: Some(RunOptions::BUSY_POLL),
        case_timeout: None,
    };
    let results = runner::run(spec, &options, std::future::pending()).await;
    assert_eq!(results.len(), CASES.len());
    let not_ok: Vec<String> = results
        .iter()
        .filter(|r| (r.verdict.behavior.as_str(), r.verdict.behavior_close.as_str()) != ("OK", "OK"))
        .map(|r| format!("{} {}/{}: {}", r.id, r.verdict.behavior, r.verdict.behavior_close, r.verdict.result))
        .collect();
    assert!(not_ok.is_empty(), "{agent}: {not_ok:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_of_one_connection_at_a_time_passes_as_under_the_reference() {
    run_default(one_connection_at_a_time().await, "one-at-a-time").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_room_passes_as_under_the_reference() {
    run_default(chat_room().await, "chat-room").await;
}
