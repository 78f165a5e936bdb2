//! A `wss://` echo server in hyper that takes WebSockets over HTTP/1.1 and
//! over HTTP/2 (RFC 8441): TLS offers both by ALPN, the HTTP/2 side
//! announces the extended CONNECT, and every request goes to
//! `autostrada::hyper::upgrade`, which tells the two apart.
//!
//! ```sh
//! cargo run --release -p autostrada --features hyper-http2,rustls --example h2_echo_server -- \
//!     127.0.0.1:9443 cert.pem key.pem
//! ```
//!
//! A browser opens a WebSocket over HTTP/2 only on a connection it already
//! holds to the server: fetch something from `https://HOST:9443/` first (a
//! request that is not a WebSocket is answered 400 with the reason, which
//! is enough), then open `wss://HOST:9443/`. Each socket is logged with the
//! HTTP version it came over.

use std::convert::Infallible;
use std::sync::Arc;

use autostrada::rustls::pki_types::pem::PemObject;
use autostrada::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use autostrada::tokio_rustls::TlsAcceptor;
use autostrada::{Config, ServerBuilder, rustls};
use futures_util::{SinkExt, StreamExt};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: h2_echo_server ADDR CERT.pem KEY.pem";
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
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = TlsAcceptor::from(Arc::new(tls));

    // The limits of examples/echo_server.rs, and permessage-deflate.
    let mut config = Config::default();
    config.max_frame_size = 64 << 20;
    config.max_message_size = 64 << 20;
    config.deflate = Some(Default::default());
    let server = ServerBuilder::new().config(config);
    let listener = TcpListener::bind(&addr).await?;
    eprintln!("h2_echo_server on wss://{}", listener.local_addr()?);
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
            let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
            let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                let server = server.clone();
                async move {
                    let version = request.version();
                    let response = match autostrada::hyper::upgrade::<Full<Bytes>, _>(&mut request, &server) {
                        Ok((response, socket)) => {
                            tokio::spawn(async move {
                                let Ok(mut ws) = socket.await else { return };
                                eprintln!("{peer}: socket over {version:?}");
                                while let Some(Ok(message)) = ws.next().await {
                                    if message.is_data() && ws.feed(message).await.is_err() {
                                        break;
                                    }
                                }
                                let _ = ws.flush().await;
                            });
                            response
                        }
                        Err(e) => autostrada::hyper::bad_request(&e),
                    };
                    Ok::<_, Infallible>(response)
                }
            });
            let io = TokioIo::new(tls);
            let served = if h2 {
                // RFC 8441 §3: SETTINGS_ENABLE_CONNECT_PROTOCOL, or no
                // client sends the extended CONNECT.
                hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .enable_connect_protocol()
                    .serve_connection(io, service)
                    .await
            } else {
                hyper::server::conn::http1::Builder::new().serve_connection(io, service).with_upgrades().await
            };
            if let Err(e) = served {
                eprintln!("{peer}: {e}");
            }
        });
    }
}
