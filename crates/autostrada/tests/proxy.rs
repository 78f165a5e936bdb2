//! The client through proxies run in-process on loopback: an HTTP CONNECT
//! proxy (with and without basic authentication) and a SOCKS5 proxy (with
//! and without username/password), each counting the tunnels it opened.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use autostrada::{ClientBuilder, Message, Proxy, ServerBuilder};
use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

mod common;

/// An echo server; returns its port.
async fn echo_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(mut ws) = ServerBuilder::new().accept(tcp).await else { return };
                while let Some(Ok(m)) = ws.next().await {
                    if m.is_data() && ws.send(m).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    port
}

/// Relays octets both ways until either side closes.
async fn relay(mut a: TcpStream, mut b: TcpStream) {
    let _ = tokio::io::copy_bidirectional(&mut a, &mut b).await;
}

/// An HTTP CONNECT proxy; with `auth`, it wants `Proxy-Authorization: Basic`
/// for those credentials and answers 407 otherwise. Only tunnels to
/// `localhost` or 127.0.0.1 (a test must never reach out).
async fn connect_proxy(auth: Option<(&'static str, &'static str)>) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let tunnels = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&tunnels);
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let count = Arc::clone(&count);
            tokio::spawn(async move {
                let Some(head) = common::read_head(&mut client).await else { return };
                let head = String::from_utf8(head).unwrap();
                let target = head.strip_prefix("CONNECT ").and_then(|r| r.split(' ').next()).unwrap().to_owned();
                let wanted = auth.map(|(u, p)| {
                    format!("basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}")))
                });
                let given =
                    head.lines().find_map(|l| l.strip_prefix("Proxy-Authorization: ")).map(str::to_ascii_lowercase);
                let authorised = match &wanted {
                    None => true,
                    Some(w) => given.as_deref() == Some(w.to_ascii_lowercase().as_str()),
                };
                if !authorised {
                    let _ = client
                        .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
                        .await;
                    return;
                }
                let (host, port) = target.rsplit_once(':').unwrap();
                assert!(host == "localhost" || host == "127.0.0.1", "tunnel to {host}");
                let Ok(upstream) = TcpStream::connect((host, port.parse::<u16>().unwrap())).await else {
                    let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n").await;
                    return;
                };
                count.fetch_add(1, Ordering::SeqCst);
                client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await.unwrap();
                relay(client, upstream).await;
            });
        }
    });
    (port, tunnels)
}

/// A SOCKS5 proxy (RFC 1928, CONNECT only); with `auth`, it insists on
/// username/password (RFC 1929).
async fn socks5_proxy(auth: Option<(&'static str, &'static str)>) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let tunnels = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&tunnels);
    tokio::spawn(async move {
        while let Ok((mut c, _)) = listener.accept().await {
            let count = Arc::clone(&count);
            tokio::spawn(async move {
                let mut hello = [0u8; 2];
                c.read_exact(&mut hello).await.unwrap();
                let mut methods = vec![0u8; usize::from(hello[1])];
                c.read_exact(&mut methods).await.unwrap();
                let method = if auth.is_some() { 2 } else { 0 };
                if !methods.contains(&method) {
                    let _ = c.write_all(&[5, 0xff]).await;
                    return;
                }
                c.write_all(&[5, method]).await.unwrap();
                if let Some((user, password)) = auth {
                    let mut v = [0u8; 2];
                    c.read_exact(&mut v).await.unwrap();
                    let mut u = vec![0u8; usize::from(v[1])];
                    c.read_exact(&mut u).await.unwrap();
                    let mut plen = [0u8; 1];
                    c.read_exact(&mut plen).await.unwrap();
                    let mut p = vec![0u8; usize::from(plen[0])];
                    c.read_exact(&mut p).await.unwrap();
                    let ok = u == user.as_bytes() && p == password.as_bytes();
                    c.write_all(&[1, u8::from(!ok)]).await.unwrap();
                    if !ok {
                        return;
                    }
                }
                let mut req = [0u8; 4];
                c.read_exact(&mut req).await.unwrap();
                let host = match req[3] {
                    1 => {
                        let mut ip = [0u8; 4];
                        c.read_exact(&mut ip).await.unwrap();
                        std::net::Ipv4Addr::from(ip).to_string()
                    }
                    3 => {
                        let mut len = [0u8; 1];
                        c.read_exact(&mut len).await.unwrap();
                        let mut name = vec![0u8; usize::from(len[0])];
                        c.read_exact(&mut name).await.unwrap();
                        String::from_utf8(name).unwrap()
                    }
                    other => panic!("address type {other}"),
                };
                let mut port = [0u8; 2];
                c.read_exact(&mut port).await.unwrap();
                assert!(host == "localhost" || host == "127.0.0.1", "tunnel to {host}");
                let Ok(upstream) = TcpStream::connect((host.as_str(), u16::from_be_bytes(port))).await else {
                    let _ = c.write_all(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]).await;
                    return;
                };
                count.fetch_add(1, Ordering::SeqCst);
                c.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0]).await.unwrap();
                relay(c, upstream).await;
            });
        }
    });
    (port, tunnels)
}

/// Connects through `proxy` to the echo server and checks two echoes.
async fn echo_through(proxy: Proxy, host: &str, server: u16) -> Result<(), autostrada::Error> {
    let (mut ws, _) = ClientBuilder::new().proxy(proxy).connect(format!("ws://{host}:{server}/")).await?;
    for text in ["through", "the proxy"] {
        ws.send(Message::text(text)).await?;
        assert_eq!(ws.next().await.unwrap()?.as_text(), Some(text));
    }
    Ok(())
}

#[tokio::test]
async fn http_connect_proxy_without_and_with_basic_auth() {
    let server = echo_server().await;
    let (open, open_tunnels) = connect_proxy(None).await;
    echo_through(Proxy::http("127.0.0.1", open), "localhost", server).await.unwrap();
    assert_eq!(open_tunnels.load(Ordering::SeqCst), 1);

    let (guarded, tunnels) = connect_proxy(Some(("alice", "s3cret:x"))).await;
    let url = format!("http://alice:s3cret%3Ax@127.0.0.1:{guarded}");
    echo_through(Proxy::from_url(&url).unwrap(), "127.0.0.1", server).await.unwrap();
    assert_eq!(tunnels.load(Ordering::SeqCst), 1);

    let err = echo_through(Proxy::http("127.0.0.1", guarded), "localhost", server).await.unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, autostrada::Error::Proxy(_)) && text.contains("407") && text.contains("credentials"),
        "{text}"
    );
    let wrong = Proxy::http("127.0.0.1", guarded).with_credentials("alice", "guess");
    assert!(echo_through(wrong, "localhost", server).await.unwrap_err().to_string().contains("407"));
    assert_eq!(tunnels.load(Ordering::SeqCst), 1, "refused attempts open no tunnel");
}

#[tokio::test]
async fn socks5_proxy_without_and_with_password() {
    let server = echo_server().await;
    let (open, open_tunnels) = socks5_proxy(None).await;
    echo_through(Proxy::socks5("127.0.0.1", open), "localhost", server).await.unwrap();
    echo_through(Proxy::from_url(&format!("socks5h://127.0.0.1:{open}")).unwrap(), "127.0.0.1", server).await.unwrap();
    assert_eq!(open_tunnels.load(Ordering::SeqCst), 2);

    let (guarded, tunnels) = socks5_proxy(Some(("bob", "hunter2"))).await;
    let with = Proxy::socks5("127.0.0.1", guarded).with_credentials("bob", "hunter2");
    echo_through(with, "localhost", server).await.unwrap();
    let err = echo_through(Proxy::socks5("127.0.0.1", guarded), "localhost", server).await.unwrap_err();
    assert!(err.to_string().contains("credentials"), "{err}");
    let wrong = Proxy::socks5("127.0.0.1", guarded).with_credentials("bob", "hunter3");
    assert!(echo_through(wrong, "localhost", server).await.unwrap_err().to_string().contains("refused"));
    assert_eq!(tunnels.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn proxy_failures_name_the_proxy_and_the_target() {
    // Nothing listens on the server port: the proxies say so.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
    let (socks, _) = socks5_proxy(None).await;
    let err = echo_through(Proxy::socks5("127.0.0.1", socks), "127.0.0.1", closed).await.unwrap_err();
    assert!(err.to_string().contains("connection refused"), "{err}");
    let (http, _) = connect_proxy(None).await;
    let err = echo_through(Proxy::http("127.0.0.1", http), "127.0.0.1", closed).await.unwrap_err();
    assert!(err.to_string().contains("502"), "{err}");
    // No proxy at all.
    let err = echo_through(Proxy::http("127.0.0.1", closed), "127.0.0.1", closed).await.unwrap_err();
    assert!(err.to_string().contains("cannot reach the proxy"), "{err}");
}

/// Proxies whose answers are odd but valid: lines ending in a bare LF, as
/// some minimal ones send (the head ends at the blank line either way, not
/// at a CRLF CRLF that never comes); empty lines before the status line;
/// interim answers (`100 Continue`, `103`) before the 200.
#[tokio::test]
async fn proxies_answering_oddly_but_validly_are_understood() {
    let answers: [&'static [u8]; 3] = [
        b"HTTP/1.0 200 OK\nProxy-Agent: minimal\n\n",
        b"\r\n\r\nHTTP/1.1 200 Connection established\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
    ];
    for answer in answers {
        let server = echo_server().await;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut client, _) = listener.accept().await.unwrap();
            common::read_head(&mut client).await.expect("a CONNECT request");
            let upstream = TcpStream::connect(("127.0.0.1", server)).await.unwrap();
            client.write_all(answer).await.unwrap();
            relay(client, upstream).await;
        });
        let echoed = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            echo_through(Proxy::http("127.0.0.1", port), "127.0.0.1", server),
        )
        .await;
        assert!(matches!(echoed, Ok(Ok(()))), "{}: {echoed:?}", String::from_utf8_lossy(answer));
    }
}
