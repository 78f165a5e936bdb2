//! WebSockets over HTTP/2 (RFC 8441) inside a hyper server, over loopback:
//! an extended CONNECT answered 200 with the subprotocol and
//! permessage-deflate, echo both ways on the stream, and the refusals (a
//! GET, another `:protocol`, a wrong version) answered with the reason. The
//! client is hyper's HTTP/2 client with autostrada's `WebSocket` on the
//! stream it hands over: autostrada's own client speaks HTTP/1.1 only.
#![cfg(feature = "hyper-http2")]

use std::convert::Infallible;
use std::net::SocketAddr;

use autostrada::proto::Role;
use autostrada::proto::deflate::DeflateConfig;
use autostrada::{Config, Message, ServerBuilder, WebSocket};
use bytes::{Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use http::{Method, Request, StatusCode, Version};
use http_body_util::{BodyExt, Empty, Full};
use hyper::client::conn::http2::SendRequest;
use hyper::ext::Protocol;
use hyper::upgrade::Upgraded;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::{TcpListener, TcpStream};

#[path = "common/round_trips.rs"]
mod round_trips;

fn config() -> Config {
    let mut config = Config::default();
    config.deflate = Some(DeflateConfig::default());
    config
}

/// An HTTP/2 server (extended CONNECT announced) whose every request goes
/// to `autostrada::hyper::upgrade`; upgraded sockets echo, after a first
/// message naming the subprotocol.
async fn serve() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let service = hyper::service::service_fn(|mut request: hyper::Request<hyper::body::Incoming>| async move {
                let server = ServerBuilder::new().config(config()).protocols(["echo.v1"]);
                let response = match autostrada::hyper::upgrade::<Full<Bytes>, _>(&mut request, &server) {
                    Ok((response, socket)) => {
                        tokio::spawn(async move {
                            let mut ws = socket.await.unwrap();
                            let chosen = ws.protocol().unwrap_or("none").to_owned();
                            ws.send(Message::text(chosen)).await.unwrap();
                            while let Some(Ok(message)) = ws.next().await {
                                if message.is_data() {
                                    ws.send(message).await.unwrap();
                                }
                            }
                        });
                        response
                    }
                    Err(e) => autostrada::hyper::bad_request(&e),
                };
                Ok::<_, Infallible>(response)
            });
            tokio::spawn(async move {
                let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .enable_connect_protocol()
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    addr
}

/// An HTTP/2 connection to `addr`, after one ordinary request has been
/// answered: the server's settings (extended CONNECT among them) are in
/// by then, so a CONNECT with `:protocol` may go out. That request, a GET
/// on the socket's path, is refused with the reason.
async fn connect(addr: SocketAddr) -> SendRequest<Empty<Bytes>> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp)).await.unwrap();
    tokio::spawn(connection);
    let get = Request::builder().uri(format!("http://{addr}/socket")).body(Empty::new()).unwrap();
    let refused = sender.send_request(get).await.unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let body = refused.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&body).contains("extended CONNECT"), "{body:?}");
    sender
}

/// An extended CONNECT for `protocol`, offering a subprotocol and
/// permessage-deflate, with `version` as `Sec-WebSocket-Version`.
fn websocket_connect(addr: SocketAddr, protocol: &'static str, version: &str) -> Request<Empty<Bytes>> {
    Request::builder()
        .method(Method::CONNECT)
        .version(Version::HTTP_2)
        .uri(format!("http://{addr}/socket"))
        .header("sec-websocket-version", version)
        .header("sec-websocket-protocol", "echo.v1")
        .header("sec-websocket-extensions", DeflateConfig::default().offer())
        .extension(Protocol::from_static(protocol))
        .body(Empty::new())
        .unwrap()
}

/// Opens a socket with an extended CONNECT on `sender`'s connection and
/// checks the answer: RFC 8441 §5's 200 with no accept key, the
/// subprotocol, permessage-deflate; and the server's first message.
async fn open(sender: &mut SendRequest<Empty<Bytes>>, addr: SocketAddr) -> WebSocket<TokioIo<Upgraded>> {
    let response = sender.send_request(websocket_connect(addr, "websocket", "13")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(!response.headers().contains_key("sec-websocket-accept"));
    assert_eq!(response.headers()["sec-websocket-protocol"], "echo.v1");
    let agreed =
        DeflateConfig::default().check_response(&autostrada::proto::handshake::extensions(response.headers())).unwrap();
    assert!(agreed.is_some(), "permessage-deflate negotiated over HTTP/2");
    let stream = hyper::upgrade::on(response).await.unwrap();
    let mut ws = WebSocket::from_upgraded(TokioIo::new(stream), Role::Client, &config(), BytesMut::new(), agreed);
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("echo.v1"));
    ws
}

#[tokio::test]
async fn an_extended_connect_upgrades_and_echoes_with_compression() {
    let addr = serve().await;
    let mut sender = connect(addr).await;
    let mut first = open(&mut sender, addr).await;
    // A second socket on the same HTTP/2 connection: each is a stream.
    let mut second = open(&mut sender, addr).await;
    round_trips::round_trips(&mut first).await;
    round_trips::round_trips(&mut second).await;
}

#[tokio::test]
async fn connects_for_another_protocol_or_version_are_refused_with_the_reason() {
    let addr = serve().await;
    let mut sender = connect(addr).await;
    let refusal = |response: http::Response<hyper::body::Incoming>| async move {
        let status = response.status();
        let version = response.headers().get("sec-websocket-version").cloned();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, version, String::from_utf8_lossy(&body).into_owned())
    };
    let (status, _, body) = refusal(sender.send_request(websocket_connect(addr, "chat", "13")).await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains(":protocol is \"chat\""), "{body}");
    // RFC 6455 §4.4, as over HTTP/1.1: 426 and the version we speak.
    let (status, version, body) =
        refusal(sender.send_request(websocket_connect(addr, "websocket", "8")).await.unwrap()).await;
    assert_eq!(status, StatusCode::UPGRADE_REQUIRED);
    assert_eq!(version.unwrap(), "13");
    assert!(body.contains("Sec-WebSocket-Version"), "{body}");
}
