//! `wss://` over loopback with certificates made at test time: echo both
//! ways with compression, client certificates checked by the server, and
//! the errors a client gets for a certificate it does not trust.
#![cfg(feature = "rustls")]

use std::net::SocketAddr;
use std::sync::Arc;

use autostrada::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use autostrada::rustls::server::WebPkiClientVerifier;
use autostrada::rustls::{self, RootCertStore, ServerConfig};
use autostrada::tokio_rustls::TlsAcceptor;
use autostrada::{ClientBuilder, Config, Connector, Error, Message, ServerBuilder};
use futures_util::{SinkExt, StreamExt};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

mod common;

/// A private CA with one server and one client certificate under it.
struct Pki {
    roots: RootCertStore,
    server: (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>),
    client: (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>),
}

fn leaf(
    ca: &CertifiedIssuer<'_, KeyPair>,
    names: &[&str],
    purpose: ExtendedKeyUsagePurpose,
) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>()).unwrap();
    params.distinguished_name.push(DnType::CommonName, names[0]);
    params.extended_key_usages = vec![purpose];
    let cert = params.signed_by(&key, ca).unwrap();
    let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    (vec![cert.der().clone(), ca.der().clone()], der)
}

fn pki() -> Pki {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, "autostrada test CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
    let mut roots = RootCertStore::empty();
    roots.add(ca.der().clone()).unwrap();
    Pki {
        roots,
        server: leaf(&ca, &["localhost", "127.0.0.1"], ExtendedKeyUsagePurpose::ServerAuth),
        client: leaf(&ca, &["client.test"], ExtendedKeyUsagePurpose::ClientAuth),
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn server_config(pki: &Pki, require_client_cert: bool) -> ServerConfig {
    let builder = ServerConfig::builder_with_provider(provider()).with_safe_default_protocol_versions().unwrap();
    let builder = if require_client_cert {
        let verifier =
            WebPkiClientVerifier::builder_with_provider(Arc::new(pki.roots.clone()), provider()).build().unwrap();
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    builder.with_single_cert(pki.server.0.clone(), pki.server.1.clone_key()).unwrap()
}

/// What the server saw of a connection's TLS session.
#[derive(Debug, PartialEq)]
struct Seen {
    client_certs: usize,
    alpn: Option<Vec<u8>>,
}

/// A `wss://` server for one connection: it greets first, then echoes
/// until the client closes. Yields what it saw of the TLS session, or the
/// error that ended it.
async fn serve_one(config: ServerConfig) -> (SocketAddr, JoinHandle<Result<Seen, String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let tls = acceptor.accept(tcp).await.map_err(|e| e.to_string())?;
        let session = tls.get_ref().1;
        let seen = Seen {
            client_certs: session.peer_certificates().map_or(0, <[_]>::len),
            alpn: session.alpn_protocol().map(<[u8]>::to_vec),
        };
        let mut config = Config::default();
        config.deflate = Some(Default::default());
        let mut ws = ServerBuilder::new().config(config).accept(tls).await.map_err(|e| e.to_string())?;
        ws.send(Message::text("hello from the server")).await.map_err(|e| e.to_string())?;
        while let Some(Ok(message)) = ws.next().await {
            if message.is_data() {
                ws.send(message).await.map_err(|e| e.to_string())?;
            }
        }
        Ok(seen)
    });
    (addr, task)
}

fn client(connector: Connector) -> ClientBuilder {
    let mut config = Config::default();
    config.deflate = Some(Default::default());
    ClientBuilder::new().config(config).connector(connector)
}

#[tokio::test]
async fn wss_echo_both_ways_with_compression() {
    let pki = pki();
    let (addr, server) = serve_one(server_config(&pki, false)).await;
    let url = format!("wss://localhost:{}/echo", addr.port());
    let (mut ws, response) = client(Connector::with_roots(pki.roots.clone())).connect(&url).await.unwrap();
    assert!(response.headers()["sec-websocket-extensions"].to_str().unwrap().starts_with("permessage-deflate"));
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("hello from the server"));
    let big = "wss ".repeat(50_000);
    for text in ["hi", big.as_str()] {
        ws.send(Message::text(text)).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), Message::text(text));
    }
    ws.close(autostrada::CloseCode::NORMAL, "").await.unwrap();
    while ws.next().await.is_some() {}
    assert_eq!(server.await.unwrap(), Ok(Seen { client_certs: 0, alpn: None }), "no ALPN: the server offered none");
}

#[tokio::test]
async fn wss_by_ip_address_and_alpn() {
    let pki = pki();
    let mut config = server_config(&pki, false);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let (addr, server) = serve_one(config).await;
    let (mut ws, _) = client(Connector::with_roots(pki.roots.clone())).connect(format!("wss://{addr}/")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("hello from the server"));
    ws.close(autostrada::CloseCode::NORMAL, "").await.unwrap();
    while ws.next().await.is_some() {}
    let seen = server.await.unwrap().unwrap();
    assert_eq!(seen.alpn.as_deref(), Some(&b"http/1.1"[..]), "the connector offers http/1.1");
}

#[tokio::test]
async fn the_server_checks_the_client_certificate() {
    let pki = pki();
    let (addr, server) = serve_one(server_config(&pki, true)).await;
    let connector =
        Connector::with_client_auth(pki.roots.clone(), pki.client.0.clone(), pki.client.1.clone_key()).unwrap();
    let (mut ws, _) = client(connector).connect(format!("wss://localhost:{}/", addr.port())).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("hello from the server"));
    ws.close(autostrada::CloseCode::NORMAL, "").await.unwrap();
    while ws.next().await.is_some() {}
    assert_eq!(server.await.unwrap().unwrap().client_certs, 2, "the server saw the client's chain");

    // Without a certificate the server refuses the connection.
    let (addr, server) = serve_one(server_config(&pki, true)).await;
    let refused =
        client(Connector::with_roots(pki.roots.clone())).connect(format!("wss://localhost:{}/", addr.port())).await;
    let err = refused.expect_err("the server requires a client certificate");
    assert!(err.to_string().to_lowercase().contains("certificate"), "{err}");
    let server_side = server.await.unwrap().unwrap_err();
    assert!(server_side.to_lowercase().contains("certificate"), "{server_side}");
}

#[tokio::test]
async fn an_untrusted_server_certificate_is_a_tls_error() {
    let pki = pki();
    let other = self::pki();
    let (addr, _server) = serve_one(server_config(&pki, false)).await;
    let url = format!("wss://localhost:{}/", addr.port());
    match client(Connector::with_roots(other.roots)).connect(&url).await {
        Err(Error::Tls(text)) => assert!(text.contains("localhost") && text.contains("certificate"), "{text}"),
        other => panic!("expected a TLS error, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn the_default_connector_trusts_only_the_enabled_roots() {
    let pki = pki();
    let (addr, _server) = serve_one(server_config(&pki, false)).await;
    let url = format!("wss://localhost:{}/", addr.port());
    match autostrada::connect(&url).await {
        // With a roots feature the private CA is unknown; without one the
        // error names the features.
        Err(Error::Tls(text)) => {
            let roots = cfg!(any(feature = "rustls-webpki-roots", feature = "rustls-native-roots"));
            let expected = if roots { "certificate" } else { "rustls-webpki-roots" };
            assert!(text.contains(expected), "{text}");
        }
        other => panic!("expected a TLS error, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn ws_urls_stay_plain_with_a_tls_connector() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = autostrada::accept(tcp).await.unwrap();
        while let Some(Ok(m)) = ws.next().await {
            if m.is_data() {
                ws.send(m).await.unwrap();
            }
        }
    });
    let (mut ws, _) = client(Connector::with_roots(pki().roots)).connect(format!("ws://{addr}/")).await.unwrap();
    ws.send(Message::binary(vec![1, 2, 3])).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::binary(vec![1, 2, 3]));
    ws.close(autostrada::CloseCode::NORMAL, "").await.unwrap();
    while ws.next().await.is_some() {}
    server.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fed_echoes_of_large_messages_leave_tls_whole() {
    // An echo that feeds (queues) its replies, as examples/echo_server does:
    // the last records of a large reply must leave even when the queue is
    // empty and only TLS still holds them.
    let pki = pki();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(server_config(&pki, false)));
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let tls = acceptor.accept(tcp).await.unwrap();
        let mut config = Config::default();
        config.max_message_size = 16 << 20;
        config.max_frame_size = 16 << 20;
        let mut ws = ServerBuilder::new().config(config).accept(tls).await.unwrap();
        while let Some(Ok(message)) = ws.next().await {
            if message.is_data() && ws.feed(message).await.is_err() {
                break;
            }
        }
    });
    let mut config = Config::default();
    config.max_message_size = 16 << 20;
    config.max_frame_size = 16 << 20;
    let client = ClientBuilder::new().config(config).connector(Connector::with_roots(pki.roots.clone()));
    let (mut ws, _) = client.connect(format!("wss://localhost:{}/", addr.port())).await.unwrap();
    for round in 0..8u8 {
        let message = Message::binary(vec![round; (4 << 20) + usize::from(round) * 977]);
        ws.send(message.clone()).await.unwrap();
        // A stalled echo fails the test instead of hanging it.
        let echo = tokio::time::timeout(std::time::Duration::from_secs(60), ws.next()).await;
        let echo = echo.unwrap_or_else(|_| panic!("round {round}: the echo never completed"));
        assert!(echo.unwrap().unwrap() == message, "round {round}: the echo differs");
    }
}

/// A one-connection HTTP CONNECT proxy: reads the request head, opens the
/// tunnel, relays. Returns its port and the CONNECT target it was asked for.
async fn connect_proxy() -> (u16, JoinHandle<String>) {
    use tokio::io::AsyncWriteExt;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (mut client, _) = listener.accept().await.unwrap();
        let head = String::from_utf8(common::read_head(&mut client).await.expect("a CONNECT request")).unwrap();
        let target = head.split(' ').nth(1).unwrap().to_owned();
        let port: u16 = target.rsplit_once(':').unwrap().1.parse().unwrap();
        let mut upstream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        client.write_all(b"HTTP/1.1 200 OK\r\n\r\n").await.unwrap();
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
        target
    });
    (port, task)
}

#[tokio::test]
async fn wss_through_an_http_proxy_keeps_tls_end_to_end() {
    let pki = pki();
    let (addr, server) = serve_one(server_config(&pki, false)).await;
    let (proxy_port, proxy) = connect_proxy().await;
    let (mut ws, _) = client(Connector::with_roots(pki.roots.clone()))
        .proxy(autostrada::Proxy::http("127.0.0.1", proxy_port))
        .connect(format!("wss://localhost:{}/", addr.port()))
        .await
        .unwrap();
    assert!(ws.get_ref().tls_session().is_some(), "TLS runs through the tunnel");
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("hello from the server"));
    ws.send(Message::text("via proxy")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("via proxy"));
    ws.close(autostrada::CloseCode::NORMAL, "").await.unwrap();
    while ws.next().await.is_some() {}
    server.await.unwrap().unwrap();
    assert_eq!(proxy.await.unwrap(), format!("localhost:{}", addr.port()), "the proxy saw the name, not an address");
}
