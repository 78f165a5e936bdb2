//! Drives a fuzzingserver of the Autobahn test suite (the reference's or
//! `wstest`'s): asks for the case count, runs every case as an echo client,
//! then asks the server to write its reports.
//!
//! ```text
//! cargo run --release -p autostrada --example autobahn_client -- ws://127.0.0.1:9001 autostrada
//! cargo run --release -p autostrada --features rustls --example autobahn_client -- \
//!     wss://localhost:9443 autostrada ca.pem
//! ```
//!
//! The optional third argument, a PEM file of CA certificates, is what a
//! `wss://` server's certificate is checked against (feature `rustls`).

use autostrada::proto::deflate::DeflateConfig;
use autostrada::{ClientBuilder, Config, Message};
use futures_util::{SinkExt, StreamExt};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let base = args.next().unwrap_or_else(|| "ws://127.0.0.1:9001".to_owned());
    let agent = args.next().unwrap_or_else(|| "autostrada".to_owned());
    let base = base.trim_end_matches('/');
    let mut config = Config::default();
    config.max_frame_size = 64 << 20;
    config.max_message_size = 64 << 20;
    // permessage-deflate when the peer offers (server) / offered to the server (client).
    config.deflate = Some(DeflateConfig::default());
    let client = ClientBuilder::new().config(config);
    let client = match args.next() {
        None => client,
        Some(ca) => with_ca(client, &ca)?,
    };

    let count = case_count(&client, base).await?;
    eprintln!("autobahn_client: {count} cases, agent {agent:?}");
    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={}", encode(&agent));
        if let Err(e) = run_case(&client, &url).await {
            eprintln!("autobahn_client: case {case}: {e}");
        }
    }
    let (mut ws, _) = client.connect(format!("{base}/updateReports?agent={}", encode(&agent))).await?;
    while ws.next().await.is_some() {}
    eprintln!("autobahn_client: reports updated");
    Ok(())
}

#[cfg(feature = "rustls")]
fn with_ca(client: ClientBuilder, ca: &str) -> Result<ClientBuilder, Box<dyn std::error::Error>> {
    use autostrada::rustls::RootCertStore;
    use autostrada::rustls::pki_types::{CertificateDer, pem::PemObject};
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).map_err(|e| format!("{ca}: {e}"))? {
        roots.add(cert.map_err(|e| format!("{ca}: {e}"))?)?;
    }
    Ok(client.connector(autostrada::Connector::with_roots(roots)))
}

#[cfg(not(feature = "rustls"))]
fn with_ca(_: ClientBuilder, _: &str) -> Result<ClientBuilder, Box<dyn std::error::Error>> {
    Err("a CA file needs wss://: build with --features rustls".into())
}

async fn case_count(client: &ClientBuilder, base: &str) -> Result<u32, Box<dyn std::error::Error>> {
    let (mut ws, _) = client.connect(format!("{base}/getCaseCount")).await?;
    let mut count = None;
    while let Some(message) = ws.next().await {
        if let Message::Text(t) = message? {
            count = Some(t.as_str().trim().parse()?);
        }
    }
    count.ok_or_else(|| "the server sent no case count".into())
}

/// Echoes every data message until the server closes.
async fn run_case(client: &ClientBuilder, url: &str) -> Result<(), autostrada::Error> {
    let (mut ws, _) = client.connect(url).await?;
    while let Some(message) = ws.next().await {
        match message {
            Ok(m) if m.is_data() => ws.send(m).await?,
            Ok(_) => {}
            Err(autostrada::Error::Protocol(_)) => {} // our close is out; wait for the end
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Percent-encodes an agent name for a query string.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
