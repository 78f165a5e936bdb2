//! A `wss://` echo server: TLS with tokio-rustls in front of autostrada.
//!
//! ```sh
//! cargo run --release -p autostrada --features rustls --example wss_echo_server -- \
//!     127.0.0.1:9443 cert.pem key.pem
//! ```
//!
//! `cert.pem` holds the server's certificate chain (its own first), `key.pem`
//! its private key (PKCS#8, PKCS#1 or SEC1). Clients connect to
//! `wss://HOST:9443/` and must trust the chain's root.

use std::sync::Arc;

use autostrada::rustls::pki_types::pem::PemObject;
use autostrada::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use autostrada::tokio_rustls::TlsAcceptor;
use autostrada::{Config, ServerBuilder, rustls};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: wss_echo_server ADDR CERT.pem KEY.pem";
    let (Some(addr), Some(cert), Some(key)) = (args.next(), args.next(), args.next()) else {
        return Err(usage.into());
    };
    let chain = CertificateDer::pem_file_iter(&cert)
        .map_err(|e| format!("{cert}: {e}"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{cert}: {e}"))?;
    let key = PrivateKeyDer::from_pem_file(&key).map_err(|e| format!("{key}: {e}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    // The upgrade is an HTTP/1.1 request (RFC 6455 §4.1).
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = TlsAcceptor::from(Arc::new(tls));

    // The same limits as examples/echo_server.rs: the conformance suite's
    // largest messages (16 MiB) pass.
    let mut config = Config::default();
    config.max_frame_size = 64 << 20;
    config.max_message_size = 64 << 20;
    config.deflate = Some(Default::default());
    let server = ServerBuilder::new().config(config);
    let listener = TcpListener::bind(&addr).await?;
    eprintln!("wss_echo_server on wss://{}", listener.local_addr()?);
    loop {
        let (tcp, peer) = listener.accept().await?;
        let (acceptor, server) = (acceptor.clone(), server.clone());
        tokio::spawn(async move {
            let _ = tcp.set_nodelay(true);
            // A client that never finishes TLS does not keep its task.
            let limit = std::time::Duration::from_secs(10);
            let tls = match tokio::time::timeout(limit, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => return eprintln!("{peer}: TLS handshake failed: {e}"),
                Err(_) => return eprintln!("{peer}: no TLS handshake within {limit:?}"),
            };
            let Ok(mut ws) = server.accept(tls).await else { return };
            while let Some(Ok(message)) = ws.next().await {
                if message.is_data() && ws.feed(message).await.is_err() {
                    break;
                }
            }
            let _ = ws.flush().await;
        });
    }
}
