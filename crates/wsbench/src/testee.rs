//! `wsbench testee-client`: the Rust peers as clients of a fuzzing server
//! (the reference suite's `wstest -m fuzzingserver`, or ours), so that the
//! two suites' verdicts can be compared on clients they were not written
//! against (`MODE=server tools/agreement`).
//!
//! The driver is the one every Autobahn testee client follows: ask
//! `/getCaseCount`, open `/runCase?case=N&agent=A` for each case and echo
//! every text and binary message until the connection ends, then
//! `/updateReports?agent=A`. Each case's connection is made and served by
//! the library under test, written the way its documentation shows; the
//! count and the report request go through tokio-tungstenite.

use std::time::Duration;

use autostrada::proto::handshake::{self, HandshakeLimits, Target};
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::servers::MAX_MESSAGE;

/// A library that can drive a fuzzing server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Client {
    /// tokio-websockets.
    TokioWebsockets,
    /// fastwebsockets (with its `FragmentCollector`).
    Fastwebsockets,
    /// tokio-tungstenite.
    TokioTungstenite,
}

/// How long one case may take before the client gives up on it and moves
/// on: far beyond any case's own timers, so only a stuck connection hits it.
const CASE_DEADLINE: Duration = Duration::from_secs(120);

/// Runs every case the fuzzing server at `base` (`ws://host:port`) offers
/// with `client`, then asks it to write its reports for `agent`.
///
/// # Errors
/// When the case count cannot be had; a case that fails is the server's to
/// judge, and the run goes on.
pub async fn run(client: Client, base: &str, agent: &str) -> Result<usize, String> {
    let base = base.trim_end_matches('/');
    let count = case_count(base).await?;
    let agent_q = url_encode(agent);
    for n in 1..=count {
        let url = format!("{base}/runCase?case={n}&agent={agent_q}");
        let echo = async {
            match client {
                Client::TokioWebsockets => tokio_websockets(&url).await,
                Client::Fastwebsockets => fastwebsockets(&url).await,
                Client::TokioTungstenite => tokio_tungstenite(&url).await,
            }
        };
        if let Err(e) = tokio::time::timeout(CASE_DEADLINE, echo).await.unwrap_or_else(|_| Err("timed out".into())) {
            eprintln!("wsbench testee-client: case {n}: {e}");
        }
    }
    // The reference writes its reports when this connection is opened and
    // then closes it; wait for that.
    let url = format!("{base}/updateReports?agent={agent_q}");
    let (mut ws, _) =
        tokio_tungstenite::connect_async(&url).await.map_err(|e| format!("cannot ask {url} for the reports: {e}"))?;
    while let Some(Ok(_)) = ws.next().await {}
    Ok(count)
}

/// `/getCaseCount`: one text message with the number of cases.
async fn case_count(base: &str) -> Result<usize, String> {
    let url = format!("{base}/getCaseCount");
    let (mut ws, _) = tokio_tungstenite::connect_async(&url).await.map_err(|e| format!("cannot reach {url}: {e}"))?;
    while let Some(message) = ws.next().await {
        let message = message.map_err(|e| format!("{url}: {e}"))?;
        if let Ok(text) = message.to_text()
            && let Ok(count) = text.trim().parse::<usize>()
        {
            // The suite has 517 cases: far more is no fuzzing server's count,
            // and would have us ask for cases without end.
            if count > 10_000 {
                return Err(format!("{url} says it runs {count} cases; a fuzzing server runs at most 10000"));
            }
            return Ok(count);
        }
    }
    Err(format!("{url} sent no case count"))
}

/// Percent-encodes everything but unreserved characters (RFC 3986 §2.3).
fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// tokio-websockets: `ClientBuilder`, then the server side's echo.
async fn tokio_websockets(url: &str) -> Result<(), String> {
    let uri: http::Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
    let (ws, _) = tokio_websockets::ClientBuilder::from_uri(uri)
        .limits(tokio_websockets::Limits::default().max_payload_len(Some(MAX_MESSAGE)))
        .connect()
        .await
        .map_err(|e| e.to_string())?;
    crate::servers::tokio_websockets_echo(ws).await;
    Ok(())
}

/// tokio-tungstenite: `connect_async`, then the server side's echo.
async fn tokio_tungstenite(url: &str) -> Result<(), String> {
    use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
    let config = WebSocketConfig::default().max_message_size(Some(MAX_MESSAGE)).max_frame_size(Some(MAX_MESSAGE));
    let (ws, _) =
        tokio_tungstenite::connect_async_with_config(url, Some(config), false).await.map_err(|e| e.to_string())?;
    crate::servers::tokio_tungstenite_echo(ws).await;
    Ok(())
}

/// fastwebsockets: it leaves the handshake to the application (or to
/// hyper); this one is made with autostrada's sans-IO handshake, then the
/// server side's echo runs in the client role.
async fn fastwebsockets(url: &str) -> Result<(), String> {
    let uri: http::Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
    let target = Target::from_uri(&uri).map_err(|e| e.to_string())?;
    let mut tcp = TcpStream::connect((target.host.as_str(), target.port)).await.map_err(|e| e.to_string())?;
    let key = handshake::generate_key();
    tcp.write_all(&handshake::client_request(&target, &key, &http::HeaderMap::new()))
        .await
        .map_err(|e| e.to_string())?;
    // The head is read an octet at a time: fastwebsockets takes the socket
    // as it is, so nothing past the head may be read here.
    let mut head = Vec::with_capacity(256);
    let limits = HandshakeLimits::default();
    let response = loop {
        if head.len() >= limits.max_head_size {
            return Err(format!("response head longer than {} octets", limits.max_head_size));
        }
        let octet = tcp.read_u8().await.map_err(|e| format!("response head: {e}"))?;
        head.push(octet);
        if head.ends_with(b"\r\n\r\n") {
            match handshake::parse_response(&head, &limits).map_err(|e| e.to_string())? {
                Some((response, _)) => break response,
                None => continue,
            }
        }
    };
    handshake::check_response(&response, &key, &[], false).map_err(|e| e.to_string())?;
    crate::servers::fastwebsockets_echo(tcp, fastwebsockets::Role::Client).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_are_percent_encoded_outside_the_unreserved_set() {
        assert_eq!(url_encode("tokio-websockets_0.13~x"), "tokio-websockets_0.13~x");
        assert_eq!(url_encode("a b/c&d=é"), "a%20b%2Fc%26d%3D%C3%A9");
    }
}
