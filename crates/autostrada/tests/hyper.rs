//! WebSockets inside hyper and axum servers over loopback: the upgrade,
//! permessage-deflate and the subprotocol negotiated by autostrada, echo
//! both ways; invalid upgrades answered 400.
#![cfg(feature = "hyper")]

use std::convert::Infallible;

use autostrada::proto::deflate::DeflateConfig;
use autostrada::proto::handshake::HandshakeError;
use autostrada::{ClientBuilder, Config, Error, Message, ServerBuilder};
use futures_util::{SinkExt, StreamExt};
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

#[path = "common/round_trips.rs"]
mod round_trips;

fn server() -> ServerBuilder {
    let mut config = Config::default();
    config.deflate = Some(DeflateConfig::default());
    ServerBuilder::new().config(config).protocols(["echo.v1"])
}

fn client() -> ClientBuilder {
    let mut config = Config::default();
    config.deflate = Some(DeflateConfig::default());
    ClientBuilder::new().config(config).protocols(["echo.v1"])
}

/// Echoes on an upgraded socket; the first message says which subprotocol
/// the server holds.
async fn echo(socket: autostrada::hyper::PendingWebSocket) {
    let mut ws = socket.await.unwrap();
    assert!(ws.deflate().is_some(), "permessage-deflate negotiated on the hyper path");
    let chosen = ws.protocol().unwrap_or("none").to_owned();
    ws.send(Message::text(chosen)).await.unwrap();
    while let Some(Ok(message)) = ws.next().await {
        if message.is_data() {
            ws.send(message).await.unwrap();
        }
    }
}

/// Connects, checks the negotiation seen from the client, echoes a few
/// messages (one large enough to compress well).
async fn exercise(url: &str) {
    let (mut ws, response) = client().connect(url).await.unwrap();
    assert!(response.headers()["sec-websocket-extensions"].to_str().unwrap().starts_with("permessage-deflate"));
    assert_eq!(ws.protocol(), Some("echo.v1"));
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("echo.v1"));
    round_trips::round_trips(&mut ws).await;
}

#[tokio::test]
async fn a_hyper_service_upgrades_and_echoes_with_compression() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let service = hyper::service::service_fn(|mut request: hyper::Request<hyper::body::Incoming>| async move {
                let response = match autostrada::hyper::upgrade::<Full<bytes::Bytes>, _>(&mut request, &server()) {
                    Ok((response, socket)) => {
                        tokio::spawn(echo(socket));
                        response
                    }
                    Err(e) => autostrada::hyper::bad_request(&e),
                };
                Ok::<_, Infallible>(response)
            });
            tokio::spawn(async move {
                let connection =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tcp), service);
                let _ = connection.with_upgrades().await;
            });
        }
    });
    exercise(&format!("ws://{addr}/socket")).await;

    // A plain GET to the same service is refused with the reason.
    match ClientBuilder::new().header("Sec-WebSocket-Version", "8").unwrap().connect(format!("ws://{addr}/")).await {
        Err(Error::Refused(r)) => {
            // Our client sent version 13 and then 8: not a single "13".
            assert_eq!(r.status(), http::StatusCode::UPGRADE_REQUIRED);
            assert_eq!(r.headers()["sec-websocket-version"], "13");
            assert!(String::from_utf8_lossy(r.body()).contains("Sec-WebSocket-Version"));
        }
        other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn an_axum_route_upgrades_and_echoes_with_compression() {
    use axum::extract::{Request, State};
    use axum::response::Response;

    async fn ws(State(server): State<ServerBuilder>, mut request: Request) -> Response {
        match autostrada::hyper::upgrade(&mut request, &server) {
            Ok((response, socket)) => {
                tokio::spawn(echo(socket));
                response
            }
            Err(e) => autostrada::hyper::bad_request(&e),
        }
    }
    let app = axum::Router::new()
        .route("/", axum::routing::get(|| async { "not a socket" }))
        .route("/ws", axum::routing::get(ws))
        .with_state(server());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    exercise(&format!("ws://{addr}/ws")).await;
    // The other route answers 200, which a WebSocket client sees as a refusal.
    match autostrada::connect(format!("ws://{addr}/")).await {
        Err(Error::Refused(r)) => {
            assert_eq!(r.status(), http::StatusCode::OK);
            assert_eq!(r.body().as_ref(), b"not a socket");
        }
        other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
    }
}

/// An HTTP/2 request that is not an extended CONNECT for `websocket` (any
/// HTTP/2 request, without the `hyper-http2` feature) is refused, 400,
/// saying why: not as an HTTP version too old.
#[test]
fn an_http2_get_is_refused_with_the_reason() {
    let mut request = http::Request::builder()
        .version(http::Version::HTTP_2)
        .uri("https://example.com/socket")
        .header("sec-websocket-version", "13")
        .body(())
        .unwrap();
    let e = autostrada::hyper::upgrade::<String, _>(&mut request, &server()).unwrap_err();
    assert!(matches!(e, Error::Handshake(HandshakeError::Http2(_))), "{e:?}");
    assert!(e.to_string().contains("HTTP/2"), "{e}");
    assert_eq!(autostrada::hyper::bad_request::<String>(&e).status(), http::StatusCode::BAD_REQUEST);
}
