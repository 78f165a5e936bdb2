//! Reaching a server through a proxy: HTTP `CONNECT` (RFC 9110 §9.3.6) with
//! optional basic authentication, or SOCKS5 (RFC 1928) with optional
//! username/password (RFC 1929). The proxy only opens a TCP tunnel; TLS for
//! `wss://` and the WebSocket handshake then run through it end to end.

use std::fmt;

use base64::Engine;
use bytes::BytesMut;
use http::{StatusCode, Uri};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::error::Error;

/// Most octets of a proxy's answer to `CONNECT` we read before giving up.
const MAX_CONNECT_RESPONSE: usize = 16 * 1024;

/// The most interim (1xx) answers to CONNECT passed over before the final one.
const MAX_INTERIM: usize = 16;

/// One answer head to CONNECT, read an octet at a time so that nothing of
/// the tunnel is taken: up to its blank line, whether its lines end in
/// CRLF or in a bare LF (which some proxies send, and httparse reads).
/// Empty lines before the status line are passed over (RFC 9112 §2.2).
async fn read_connect_head(tcp: &mut TcpStream) -> Result<BytesMut, Error> {
    let mut head = BytesMut::with_capacity(512);
    while !(head.ends_with(b"\n\r\n") || head.ends_with(b"\n\n")) {
        if head.len() >= MAX_CONNECT_RESPONSE {
            return Err(bad("the proxy's answer to CONNECT is too long"));
        }
        let mut byte = [0u8; 1];
        if tcp.read(&mut byte).await? == 0 {
            return Err(bad("the proxy closed the connection instead of answering CONNECT"));
        }
        if head.is_empty() && (byte[0] == b'\r' || byte[0] == b'\n') {
            continue;
        }
        head.extend_from_slice(&byte);
    }
    Ok(head)
}

/// Which protocol the proxy speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyKind {
    /// An HTTP proxy, asked for a tunnel with `CONNECT host:port`.
    Http,
    /// A SOCKS5 proxy; the server's host name is resolved by the proxy.
    Socks5,
}

/// A proxy for [`ClientBuilder::proxy`](crate::ClientBuilder::proxy).
///
/// ```
/// use autostrada::Proxy;
///
/// let proxy = Proxy::from_url("http://alice:s3cret@proxy.internal:3128")?;
/// let socks = Proxy::from_url("socks5://127.0.0.1:1080")?;
/// # Ok::<(), autostrada::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    kind: ProxyKind,
    host: String,
    port: u16,
    credentials: Option<(String, String)>,
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the password.
        f.debug_struct("Proxy")
            .field("kind", &self.kind)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.credentials.as_ref().map(|(u, _)| u))
            .finish()
    }
}

/// `url` with any `user:password@` replaced by `***@`, for error messages.
pub(crate) fn redacted(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let end = url[start..].find(['/', '?', '#']).map_or(url.len(), |i| start + i);
    match url[start..end].rfind('@') {
        Some(at) => format!("{}***{}", &url[..start], &url[start + at..]),
        None => url.to_owned(),
    }
}

fn bad(what: impl fmt::Display) -> Error {
    Error::Proxy(what.to_string())
}

/// Undoes the percent-encoding of a URL's user or password.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Proxy {
    /// An HTTP proxy at `host:port`.
    pub fn http(host: impl Into<String>, port: u16) -> Self {
        Self { kind: ProxyKind::Http, host: host.into(), port, credentials: None }
    }

    /// A SOCKS5 proxy at `host:port`.
    pub fn socks5(host: impl Into<String>, port: u16) -> Self {
        Self { kind: ProxyKind::Socks5, host: host.into(), port, credentials: None }
    }

    /// Authenticates to the proxy: HTTP basic (`Proxy-Authorization`) or
    /// SOCKS5 username/password.
    #[must_use]
    pub fn with_credentials(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.credentials = Some((user.into(), password.into()));
        self
    }

    /// Reads a proxy URL: `http://[user:password@]host[:port]` (port 80 by
    /// default; `https://` proxies are not supported) or
    /// `socks5://…` / `socks5h://…` (port 1080 by default; both let the
    /// proxy resolve the server's name). Percent-encoded credentials are
    /// decoded.
    pub fn from_url(url: &str) -> Result<Self, Error> {
        // The URL may carry a password: errors show it redacted.
        let shown = redacted(url.trim());
        let uri: Uri = url.trim().parse().map_err(|e| bad(format!("proxy URL {shown:?}: {e}")))?;
        let (kind, default_port) = match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
            Some("http") => (ProxyKind::Http, 80),
            Some("socks5" | "socks5h") => (ProxyKind::Socks5, 1080),
            Some(other) => {
                return Err(bad(format!(
                    "proxy URL {shown:?}: scheme {other:?} is not supported; use http:// or socks5://"
                )));
            }
            None => {
                return Err(bad(format!(
                    "proxy URL {shown:?} has no scheme; write http://host:port or socks5://host:port"
                )));
            }
        };
        let authority = uri.authority().ok_or_else(|| bad(format!("proxy URL {shown:?} has no host")))?;
        let host = authority.host().trim_start_matches('[').trim_end_matches(']').to_string();
        if host.is_empty() {
            return Err(bad(format!("proxy URL {shown:?} has no host")));
        }
        // `http` reads a port past 65535 as none at all: look for one ourselves.
        let hostport = authority.as_str().rsplit_once('@').map_or(authority.as_str(), |(_, h)| h);
        let written = match hostport.strip_prefix('[') {
            Some(v6) => v6.split_once("]:").map(|(_, p)| p),
            None => hostport.rsplit_once(':').map(|(_, p)| p),
        };
        let port = match written.filter(|p| !p.is_empty()) {
            None => default_port,
            Some(p) => p.parse::<u16>().map_err(|_| bad(format!("proxy URL {shown:?}: port {p} is out of range")))?,
        };
        let credentials = authority.as_str().rsplit_once('@').and_then(|(userinfo, _)| {
            let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            (!userinfo.is_empty()).then(|| (percent_decode(user), percent_decode(password)))
        });
        Ok(Self { kind, host, port, credentials })
    }

    /// The proxy the environment names for a server at `host`, the way curl
    /// and most HTTP clients read it: for `wss://` `HTTPS_PROXY`, for
    /// `ws://` `HTTP_PROXY`, else `ALL_PROXY` (each also in lower case,
    /// which wins); none when `NO_PROXY` lists the host. `NO_PROXY` is a
    /// comma-separated list of host names (matching the name and its
    /// subdomains; a leading dot is optional), IP addresses, or `*` for
    /// every host. `Ok(None)` when no proxy applies.
    pub fn from_env(host: &str, tls: bool) -> Result<Option<Self>, Error> {
        Self::from_vars(host, tls, |name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) with the variables looked up by `var`.
    pub fn from_vars(host: &str, tls: bool, var: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, Error> {
        let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        // Under CGI a request's `Proxy:` header arrives as HTTP_PROXY
        // ("httpoxy"): there, as curl does, only the lower-case name counts.
        let cgi = set("REQUEST_METHOD").is_some();
        let get = |name: &str| {
            set(&name.to_ascii_lowercase()).or_else(|| if cgi && name == "HTTP_PROXY" { None } else { set(name) })
        };
        if get("NO_PROXY").is_some_and(|list| bypasses(&list, host)) {
            return Ok(None);
        }
        let scheme_var = if tls { "HTTPS_PROXY" } else { "HTTP_PROXY" };
        match get(scheme_var).or_else(|| get("ALL_PROXY")) {
            Some(url) => Self::from_url(&url).map(Some),
            None => Ok(None),
        }
    }

    /// What the proxy speaks.
    pub fn kind(&self) -> ProxyKind {
        self.kind
    }

    /// Opens a TCP connection to the proxy and a tunnel through it to
    /// `host:port`.
    pub(crate) async fn tunnel(&self, host: &str, port: u16) -> Result<TcpStream, Error> {
        let mut tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| bad(format!("cannot reach the proxy at {}:{}: {e}", self.host, self.port)))?;
        tcp.set_nodelay(true)?;
        match self.kind {
            ProxyKind::Http => self.http_connect(&mut tcp, host, port).await?,
            ProxyKind::Socks5 => self.socks5_connect(&mut tcp, host, port).await?,
        }
        Ok(tcp)
    }

    async fn http_connect(&self, tcp: &mut TcpStream, host: &str, port: u16) -> Result<(), Error> {
        let authority = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
        let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
        if let Some((user, password)) = &self.credentials {
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            request.push_str(&format!("Proxy-Authorization: Basic {token}\r\n"));
        }
        request.push_str("\r\n");
        tcp.write_all(request.as_bytes()).await?;
        // Read the answer's head only: the tunnel's first octets are the
        // server's. Interim (1xx) answers before it are passed over (RFC 9110
        // §15.2), a bounded number of them.
        let mut interim = 0;
        let status = loop {
            let head = read_connect_head(tcp).await?;
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut response = httparse::Response::new(&mut headers);
            let parsed =
                response.parse(&head).map_err(|e| bad(format!("the proxy's answer to CONNECT is not HTTP: {e}")))?;
            let code = match (parsed, response.code) {
                (httparse::Status::Complete(_), Some(code)) => code,
                _ => return Err(bad("the proxy's answer to CONNECT is not HTTP: an incomplete head")),
            };
            let status = StatusCode::from_u16(code)
                .map_err(|_| bad(format!("the proxy answered CONNECT with status {code}, which HTTP has not")))?;
            if !status.is_informational() {
                break status;
            }
            interim += 1;
            if interim > MAX_INTERIM {
                return Err(bad(format!("the proxy sent more than {MAX_INTERIM} interim (1xx) answers to CONNECT")));
            }
        };
        if status.is_success() {
            return Ok(());
        }
        let hint = if status == StatusCode::PROXY_AUTHENTICATION_REQUIRED {
            "; give credentials with Proxy::with_credentials or user:password@ in the proxy URL"
        } else {
            ""
        };
        Err(bad(format!(
            "the proxy refused CONNECT {authority}: {} {}{hint}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        )))
    }

    async fn socks5_connect(&self, tcp: &mut TcpStream, host: &str, port: u16) -> Result<(), Error> {
        // RFC 1928 §3: version 5, the methods we offer: 0 (none), 2 (user/password).
        let methods: &[u8] = if self.credentials.is_some() { &[0x00, 0x02] } else { &[0x00] };
        let mut hello = vec![5, methods.len() as u8];
        hello.extend_from_slice(methods);
        tcp.write_all(&hello).await?;
        let mut choice = [0u8; 2];
        tcp.read_exact(&mut choice).await?;
        if choice[0] != 5 {
            return Err(bad(format!("the SOCKS proxy answered version {}, not 5", choice[0])));
        }
        match (choice[1], &self.credentials) {
            (0x00, _) => {}
            (0x02, Some((user, password))) => {
                // RFC 1929: version 1, then the length-prefixed user and password.
                let (user, password) = (user.as_bytes(), password.as_bytes());
                if user.is_empty() || password.is_empty() || user.len() > 255 || password.len() > 255 {
                    return Err(bad("SOCKS5 user names and passwords are 1 to 255 octets each (RFC 1929)"));
                }
                let mut auth = vec![1, user.len() as u8];
                auth.extend_from_slice(user);
                auth.push(password.len() as u8);
                auth.extend_from_slice(password);
                tcp.write_all(&auth).await?;
                let mut status = [0u8; 2];
                tcp.read_exact(&mut status).await?;
                if status[0] != 1 {
                    return Err(bad(format!("the SOCKS proxy answered authentication version {}, not 1", status[0])));
                }
                if status[1] != 0 {
                    return Err(bad("the SOCKS proxy refused the user name and password"));
                }
            }
            (0xff | 0x02, _) => {
                return Err(bad(
                    "the SOCKS proxy accepts none of our authentication methods; it may want credentials \
                     (Proxy::with_credentials)",
                ));
            }
            (other, _) => return Err(bad(format!("the SOCKS proxy chose method {other}, which we did not offer"))),
        }
        // RFC 1928 §4: CONNECT to an IPv4 (1), domain name (3) or IPv6 (4) address.
        let mut request = vec![5, 1, 0];
        match host.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(ip)) => {
                request.push(1);
                request.extend_from_slice(&ip.octets());
            }
            Ok(std::net::IpAddr::V6(ip)) => {
                request.push(4);
                request.extend_from_slice(&ip.octets());
            }
            Err(_) => {
                let name = host.as_bytes();
                if name.len() > 255 {
                    return Err(bad("a host name for SOCKS5 is at most 255 octets"));
                }
                request.push(3);
                request.push(name.len() as u8);
                request.extend_from_slice(name);
            }
        }
        request.extend_from_slice(&port.to_be_bytes());
        tcp.write_all(&request).await?;
        let mut reply = [0u8; 4];
        tcp.read_exact(&mut reply).await?;
        if reply[0] != 5 {
            return Err(bad(format!("the SOCKS proxy answered version {}, not 5", reply[0])));
        }
        if reply[1] != 0 {
            return Err(bad(format!("the SOCKS proxy could not connect to {host}:{port}: {}", socks_reply(reply[1]))));
        }
        // The address the proxy bound: read past it.
        let rest = match reply[3] {
            1 => 4 + 2,
            4 => 16 + 2,
            3 => {
                let mut len = [0u8; 1];
                tcp.read_exact(&mut len).await?;
                usize::from(len[0]) + 2
            }
            other => return Err(bad(format!("the SOCKS proxy answered with address type {other}"))),
        };
        let mut skip = vec![0u8; rest];
        tcp.read_exact(&mut skip).await?;
        Ok(())
    }
}

/// RFC 1928 §6: what a SOCKS5 reply code means.
fn socks_reply(code: u8) -> &'static str {
    match code {
        1 => "general failure",
        2 => "connection not allowed by the proxy's rules",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => "unknown error",
    }
}

/// True when the `NO_PROXY` list names `host`. Entries: `*`, a host name
/// (also matching its subdomains; a leading `.` or `*.` is allowed), an IP
/// address (`[::1]` for IPv6), each optionally with a port, which is not
/// compared. CIDR ranges are not supported.
fn bypasses(list: &str, host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    list.split(',').map(str::trim).filter(|e| !e.is_empty()).any(|entry| {
        if entry == "*" {
            return true;
        }
        let entry = entry.to_ascii_lowercase();
        let name = if let Some(rest) = entry.strip_prefix('[') {
            // "[v6]" or "[v6]:port"
            rest.split(']').next().unwrap_or(rest)
        } else {
            match entry.rsplit_once(':') {
                // "name:port" (a bare IPv6 address has more than one colon).
                Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => name,
                _ => entry.as_str(),
            }
        };
        let name = name.trim_start_matches("*.").trim_start_matches('.');
        !name.is_empty() && (host == name || host.ends_with(&format!(".{name}")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_read_with_defaults_and_credentials() {
        let p = Proxy::from_url("http://al%40ice:p%3Ass@proxy.example:3128").unwrap();
        assert_eq!(p, Proxy::http("proxy.example", 3128).with_credentials("al@ice", "p:ss"));
        assert_eq!(Proxy::from_url("socks5h://[::1]").unwrap(), Proxy::socks5("::1", 1080));
        assert_eq!(Proxy::from_url("HTTP://proxy").unwrap(), Proxy::http("proxy", 80));
        assert!(!format!("{p:?}").contains("p:ss"), "the password stays out of logs");
        let err = Proxy::from_url("https://alice:s3cret@proxy:443").unwrap_err().to_string();
        assert!(!err.contains("s3cret") && err.contains("***@proxy"), "{err}");
        let err = Proxy::from_url("http://alice:s3cret@proxy:99999").unwrap_err().to_string();
        assert!(!err.contains("s3cret"), "{err}");
        assert_eq!(Proxy::from_url("http://@proxy").unwrap(), Proxy::http("proxy", 80));
        for (url, says) in [("https://p:1", "not supported"), ("proxy:3128", "no scheme"), ("ftp://p", "not supported")]
        {
            let err = Proxy::from_url(url).unwrap_err().to_string();
            assert!(err.contains(says), "{url}: {err}");
        }
    }

    #[test]
    fn the_environment_picks_by_scheme_and_honours_no_proxy() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_string())
        };
        let vars = env(&[
            ("HTTPS_PROXY", "http://secure:3128"),
            ("http_proxy", "http://plain:3128"),
            ("ALL_PROXY", "socks5://any:1080"),
            ("NO_PROXY", "localhost, .internal.example,10.0.0.7:8080,[::1]:8080,*.corp"),
        ]);
        assert_eq!(Proxy::from_vars("example.com", true, vars).unwrap(), Some(Proxy::http("secure", 3128)));
        assert_eq!(Proxy::from_vars("example.com", false, vars).unwrap(), Some(Proxy::http("plain", 3128)));
        for host in ["localhost", "internal.example", "db.internal.example", "10.0.0.7", "::1", "[::1]", "a.corp"] {
            assert_eq!(Proxy::from_vars(host, true, vars).unwrap(), None, "{host}");
        }
        assert!(Proxy::from_vars("notinternal.example", true, vars).unwrap().is_some());
        let all = env(&[("all_proxy", "socks5://any:1080")]);
        assert_eq!(Proxy::from_vars("x", true, all).unwrap(), Some(Proxy::socks5("any", 1080)));
        let star = env(&[("ALL_PROXY", "socks5://any:1080"), ("no_proxy", "*")]);
        assert_eq!(Proxy::from_vars("x", true, star).unwrap(), None);
        assert_eq!(Proxy::from_vars("x", true, env(&[])).unwrap(), None);
        assert!(Proxy::from_vars("x", true, env(&[("HTTPS_PROXY", "gopher://p")])).is_err());
        // An empty lower-case variable does not hide the upper-case one.
        let both = env(&[("https_proxy", ""), ("HTTPS_PROXY", "http://up:1")]);
        assert_eq!(Proxy::from_vars("x", true, both).unwrap(), Some(Proxy::http("up", 1)));
        // Under CGI, HTTP_PROXY may come from the request: ignored.
        let cgi = env(&[("REQUEST_METHOD", "GET"), ("HTTP_PROXY", "http://evil:1")]);
        assert_eq!(Proxy::from_vars("x", false, cgi).unwrap(), None);
    }
}
