//! What [`connect`](crate::connect) accepts as the request: a URL in any of
//! its usual forms, or an `http::Request` prepared with headers.

use http::{Request, Uri};

use crate::error::Error;
use crate::proto::handshake::HandshakeError;

/// Anything [`connect`](crate::connect) and
/// [`ClientBuilder::connect`](crate::ClientBuilder::connect) take: `&str`,
/// `String`, `http::Uri` (by value or reference), or an `http::Request<()>`
/// whose headers go out with the upgrade request.
///
/// In a prepared request, a `Host` you set replaces the one made from the
/// URL, a `Sec-WebSocket-Protocol` you set is the subprotocol offer (and is
/// checked against the answer), and a `Sec-WebSocket-Key` you set is used
/// and checked; none is sent twice. `Upgrade`, `Connection` and
/// `Sec-WebSocket-Version` are sent as you set them, or made for you.
///
/// ```no_run
/// use autostrada::http::{Request, header};
///
/// # async fn run() -> Result<(), autostrada::Error> {
/// let request = Request::get("ws://127.0.0.1:9001/feed")
///     .header(header::AUTHORIZATION, "Bearer 7b1d")
///     .header(header::SEC_WEBSOCKET_PROTOCOL, "feed.v2")
///     .body(())
///     .expect("a valid request");
/// let (ws, _response) = autostrada::connect(request).await?;
/// assert_eq!(ws.protocol(), Some("feed.v2"));
/// # Ok(())
/// # }
/// ```
pub trait IntoClientRequest {
    /// The request, or an error naming what is wrong with it.
    fn into_client_request(self) -> Result<Request<()>, Error>;
}

fn from_uri(uri: Uri) -> Result<Request<()>, Error> {
    let mut request = Request::new(());
    *request.uri_mut() = uri;
    Ok(request)
}

impl IntoClientRequest for &str {
    fn into_client_request(self) -> Result<Request<()>, Error> {
        let uri: Uri =
            self.parse().map_err(|e| HandshakeError::Url(format!("{:?}: {e}", crate::proxy::redacted(self))))?;
        from_uri(uri)
    }
}

impl IntoClientRequest for &String {
    fn into_client_request(self) -> Result<Request<()>, Error> {
        self.as_str().into_client_request()
    }
}

impl IntoClientRequest for String {
    fn into_client_request(self) -> Result<Request<()>, Error> {
        self.as_str().into_client_request()
    }
}

impl IntoClientRequest for Uri {
    fn into_client_request(self) -> Result<Request<()>, Error> {
        from_uri(self)
    }
}

impl IntoClientRequest for &Uri {
    fn into_client_request(self) -> Result<Request<()>, Error> {
        from_uri(self.clone())
    }
}

/// A prepared request. It must be a `GET` over HTTP/1.1 (the defaults of
/// `http::Request`).
impl IntoClientRequest for Request<()> {
    fn into_client_request(self) -> Result<Request<()>, Error> {
        if self.method() != http::Method::GET {
            return Err(HandshakeError::MalformedHttp(format!(
                "a WebSocket upgrade is a GET request, not {}",
                self.method()
            ))
            .into());
        }
        if self.version() != http::Version::HTTP_11 {
            return Err(HandshakeError::MalformedHttp(format!(
                "a WebSocket upgrade goes over HTTP/1.1, not {:?}",
                self.version()
            ))
            .into());
        }
        Ok(self)
    }
}

/// An unfinished request builder: `Request::get(url).header(..)`.
impl IntoClientRequest for http::request::Builder {
    fn into_client_request(self) -> Result<Request<()>, Error> {
        self.body(())
            .map_err(|e| Error::Handshake(HandshakeError::MalformedHttp(format!("invalid request: {e}"))))?
            .into_client_request()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_gives_the_same_uri() {
        let url = "ws://example.com:8080/a?b=c";
        let uri: Uri = url.parse().unwrap();
        for request in [
            url.into_client_request().unwrap(),
            url.to_string().into_client_request().unwrap(),
            (&url.to_string()).into_client_request().unwrap(),
            uri.clone().into_client_request().unwrap(),
            (&uri).into_client_request().unwrap(),
            Request::get(url).body(()).unwrap().into_client_request().unwrap(),
            Request::get(url).into_client_request().unwrap(),
        ] {
            assert_eq!(request.uri(), &uri);
        }
    }

    #[test]
    fn bad_requests_are_named() {
        let err = "ws://exa mple".into_client_request().unwrap_err();
        assert!(err.to_string().contains("exa mple"), "{err}");
        let err = Request::post("ws://a/").body(()).unwrap().into_client_request().unwrap_err();
        assert!(err.to_string().contains("POST"), "{err}");
        let err = Request::get("ws://a/").header("bad name", "x").into_client_request().unwrap_err();
        assert!(err.to_string().contains("invalid request"), "{err}");
    }
}
