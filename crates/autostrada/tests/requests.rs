//! Every form `connect` takes, over loopback, checked from the server's
//! side: the request the server parsed, each header exactly once.

use autostrada::http::{HeaderName, HeaderValue, Request, Uri, header};
use autostrada::{ClientBuilder, IntoClientRequest, Message, ServerBuilder, connect};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// A server that accepts one upgrade (choosing the first offered
/// subprotocol), reports the request it saw, and echoes.
async fn server() -> (String, oneshot::Receiver<Request<()>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/path?q=1", listener.local_addr().unwrap());
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let upgrade = ServerBuilder::new().read_request(tcp).await.unwrap();
        let _ = tx.send(upgrade.request().clone());
        let chosen = upgrade.offered_protocols().first().cloned();
        let accept = match chosen {
            Some(p) => autostrada::Accept::new().protocol(p),
            None => autostrada::Accept::new(),
        };
        let mut ws = upgrade.accept_with(accept).await.unwrap();
        while let Some(Ok(m)) = ws.next().await {
            if m.is_data() && ws.send(m).await.is_err() {
                break;
            }
        }
    });
    (url, rx)
}

/// Connects with `request`, checks an echo, and returns what the server saw
/// and the subprotocol it chose.
async fn exchange(
    request: impl IntoClientRequest,
    builder: ClientBuilder,
    seen: oneshot::Receiver<Request<()>>,
) -> (Request<()>, Option<String>) {
    let (mut ws, _) = builder.connect(request).await.unwrap();
    ws.send(Message::text("ping?")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap().as_text(), Some("ping?"));
    (seen.await.unwrap(), ws.protocol().map(str::to_owned))
}

fn once(request: &Request<()>, name: HeaderName) -> &str {
    let all: Vec<_> = request.headers().get_all(&name).iter().collect();
    assert_eq!(all.len(), 1, "{name} sent {} times: {all:?}", all.len());
    all[0].to_str().unwrap()
}

#[tokio::test]
async fn str_string_and_uri_all_connect() {
    for form in 0..5 {
        let (url, seen) = server().await;
        let uri: Uri = url.parse().unwrap();
        let (mut ws, _) = match form {
            0 => connect(url.as_str()).await,
            1 => connect(url.clone()).await,
            2 => connect(&url).await,
            3 => connect(uri).await,
            _ => connect(&uri).await,
        }
        .unwrap();
        let request = seen.await.unwrap();
        assert_eq!(request.uri().path_and_query().unwrap().as_str(), "/path?q=1", "form {form}");
        ws.send(Message::text("x")).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap().as_text(), Some("x"));
    }
}

#[tokio::test]
async fn a_prepared_request_keeps_its_host_protocol_and_headers_once() {
    let (url, seen) = server().await;
    let request = Request::get(&url)
        .header(header::HOST, "chat.example:443")
        .header(header::SEC_WEBSOCKET_PROTOCOL, "feed.v2, feed.v1")
        .header(header::AUTHORIZATION, "Bearer abc")
        .header("x-trace", "7")
        .body(())
        .unwrap();
    let (request, protocol) = exchange(request, ClientBuilder::new(), seen).await;
    assert_eq!(once(&request, header::HOST), "chat.example:443");
    assert_eq!(once(&request, header::SEC_WEBSOCKET_PROTOCOL), "feed.v2, feed.v1");
    assert_eq!(once(&request, header::AUTHORIZATION), "Bearer abc");
    assert_eq!(once(&request, HeaderName::from_static("x-trace")), "7");
    for name in [header::UPGRADE, header::CONNECTION, header::SEC_WEBSOCKET_VERSION, header::SEC_WEBSOCKET_KEY] {
        once(&request, name);
    }
    assert_eq!(protocol.as_deref(), Some("feed.v2"));
}

#[tokio::test]
async fn a_request_builder_and_its_own_key() {
    let (url, seen) = server().await;
    let key = "dGhlIHNhbXBsZSBub25jZQ==";
    let request = Request::get(&url).header(header::SEC_WEBSOCKET_KEY, key);
    let (request, _) = exchange(request, ClientBuilder::new(), seen).await;
    assert_eq!(once(&request, header::SEC_WEBSOCKET_KEY), key);
}

#[tokio::test]
async fn typed_builder_headers_yield_to_the_request() {
    let builder = ClientBuilder::new()
        .header(header::ORIGIN, HeaderValue::from_static("https://builder.example"))
        .unwrap()
        .header("X-Build", String::from("1"))
        .unwrap()
        .protocols(["chat"]);
    let (request, protocol) = round_trip_with_origin(builder).await;
    assert_eq!(once(&request, header::ORIGIN), "https://request.example");
    assert_eq!(once(&request, HeaderName::from_static("x-build")), "1");
    assert_eq!(protocol.as_deref(), Some("chat"));
}

async fn round_trip_with_origin(builder: ClientBuilder) -> (Request<()>, Option<String>) {
    let (url, seen) = server().await;
    let request = Request::get(&url).header(header::ORIGIN, "https://request.example").body(()).unwrap();
    exchange(request, builder, seen).await
}

#[tokio::test]
async fn conflicting_or_malformed_requests_are_refused_before_connecting() {
    let url = "ws://127.0.0.1:9/"; // nothing listens: errors must come first
    let both = Request::get(url).header(header::SEC_WEBSOCKET_PROTOCOL, "a").body(()).unwrap();
    let err = ClientBuilder::new().protocols(["b"]).connect(both).await.unwrap_err();
    assert!(err.to_string().contains("keep one"), "{err}");
    let ext = Request::get(url).header(header::SEC_WEBSOCKET_EXTENSIONS, "permessage-deflate").body(()).unwrap();
    let err = connect(ext).await.unwrap_err();
    assert!(err.to_string().contains("Config::deflate"), "{err}");
    let err = ClientBuilder::new().header("bad name", "x").unwrap_err();
    assert!(err.to_string().contains("invalid header name"), "{err}");
    let err = ClientBuilder::new().header("X-Ok", "line\nbreak").unwrap_err();
    assert!(err.to_string().contains("x-ok"), "{err}");
    let err = connect(Request::post(url).body(()).unwrap()).await.unwrap_err();
    assert!(err.to_string().contains("GET"), "{err}");
    let err = connect("http://127.0.0.1:9/").await.unwrap_err();
    assert!(err.to_string().contains("ws://"), "{err}");
}
