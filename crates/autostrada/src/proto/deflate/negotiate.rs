//! Negotiating permessage-deflate (RFC 7692 §5, §7.1).
//!
//! Both roles parse the `Sec-WebSocket-Extensions` grammar of RFC 6455
//! §9.1: extensions separated by commas, parameters by semicolons, values
//! optionally quoted. Unknown, duplicate or malformed parameters are
//! errors naming the parameter.

use std::fmt;

/// The extension's name on the wire.
pub const NAME: &str = "permessage-deflate";

/// What we want from permessage-deflate; set [`Config::deflate`](crate::Config::deflate) to enable it.
///
/// Field names follow RFC 7692; "server" and "client" always mean those
/// roles, whichever side we are.
///
/// ```
/// use autostrada::Config;
/// use autostrada::proto::deflate::DeflateConfig;
///
/// let mut deflate = DeflateConfig::default();
/// deflate.client_no_context_takeover = true;
/// let mut config = Config::default();
/// config.deflate = Some(deflate);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeflateConfig {
    /// Server: always reset our compressor between messages (announced in
    /// the response). Client: ask the server to. Default false. Without
    /// context takeover the server's compressor keeps nothing between
    /// messages (not even the newest half of its window, 2 KiB at the default 12 bits),
    /// at the price of a worse ratio on small, similar messages.
    pub server_no_context_takeover: bool,
    /// Server: ask the client to reset its compressor between messages
    /// (RFC 7692 §7.1.1.1 lets a server require this even when the client
    /// did not offer it); our inflater then keeps nothing between messages
    /// (not even the peer's window, up to 32 KiB). A client's own offer of
    /// it is a hint (RFC 7692 §7.1.1.2) that a server left at false does not
    /// take up: clients that send it, the Autobahn suite's among them, keep
    /// their context unless the answer names it, and naming it would trade
    /// their ratio on small, similar messages for that window.
    /// Client: announce that we do. Default false.
    pub client_no_context_takeover: bool,
    /// Server: the largest window (9–15 bits) we compress with; announced
    /// when below 15. Client: ask the server to compress with at most this.
    /// Default `None` (15). Smaller windows use less memory and compress worse.
    pub server_max_window_bits: Option<u8>,
    /// Server: the window (8–15 bits) we ask the client to compress with, if
    /// it offered `client_max_window_bits`. Client: offered as
    /// `client_max_window_bits` with this value (8 is offered as 9: zlib
    /// cannot compress with a smaller raw window, so a server that took
    /// 8 at its word would leave us a window we cannot honour); `None`
    /// offers it without a value (the server may then choose; a server that
    /// chooses 8 gets our messages uncompressed). Default `None`.
    pub client_max_window_bits: Option<u8>,
    /// zlib compression level, 0–9. Default 6: zlib's default; 1 is faster
    /// and compresses somewhat worse.
    pub level: u32,
    /// Messages shorter than this go out uncompressed. Default 0 (compress
    /// everything); compressing a few octets mostly costs CPU. Values past
    /// 4 GiB count as 4 GiB.
    pub threshold: usize,
    /// The window (9–15 bits) our compressor uses, in either role, when the
    /// handshake allows as much (it agrees an upper bound only: a smaller
    /// window is always valid for the peer, so this is never announced).
    /// Default 12 (4 KiB), as python `websockets` uses: on JSON-like text
    /// it compresses within ~3% of a 32 KiB window at about half the CPU
    /// per 64 KiB message, and the compressor's state is ~110 KiB smaller.
    /// 15 finds repeats up to 32 KiB back (large messages that repeat
    /// themselves far apart) at that cost.
    pub window_bits: u8,
    /// Keep each connection's zlib streams between messages. Default false:
    /// a connection keeps only the windows its context takeover needs (the
    /// newest half of our compressor's, 2^(`window_bits` − 1) octets, and
    /// all of what the peer's may refer to, 2^its agreed bits: 2 KiB +
    /// 32 KiB at most with the defaults, less on a connection that has
    /// exchanged less) and borrows the streams (~220 KiB) from its worker
    /// thread for each message. A stream another connection used meanwhile
    /// is primed from the windows again, ~6 µs per message at a 12-bit
    /// window. Where the peer's agreed window is below 15 bits, the
    /// inflater is primed from it for every message (a copy of at most
    /// 16 KiB), so that a peer referring back past the window it agreed to
    /// is refused every time, not only when the thread's inflater was used
    /// by another connection in between.
    /// `true` holds ~220 KiB per connection that has sent or received a
    /// compressed message, for as long as it is open (memory a peer can
    /// make us spend by opening connections), and never pays the priming.
    pub keep_zlib_state: bool,
}

impl DeflateConfig {
    /// No context takeover either way: between messages a connection holds
    /// no window at all, so an idle connection with compression costs about
    /// what one without does (instead of up to 34 KiB of windows with the
    /// defaults). Each message is compressed on its own, which loses most on
    /// small messages that repeat each other (chat lines, JSON events).
    ///
    /// ```
    /// let mut config = autostrada::Config::default();
    /// config.deflate = Some(autostrada::proto::deflate::DeflateConfig::low_memory());
    /// ```
    #[must_use]
    pub fn low_memory() -> Self {
        Self { server_no_context_takeover: true, client_no_context_takeover: true, ..Self::default() }
    }
}

impl Default for DeflateConfig {
    fn default() -> Self {
        Self {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: None,
            client_max_window_bits: None,
            level: 6,
            threshold: 0,
            window_bits: 12,
            keep_zlib_state: false,
        }
    }
}

/// The parameters both sides agreed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflateParams {
    /// The server resets its compressor after every message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after every message.
    pub client_no_context_takeover: bool,
    /// Window bits the server compresses with (at most).
    pub server_max_window_bits: u8,
    /// Window bits the client compresses with (at most).
    pub client_max_window_bits: u8,
}

impl Default for DeflateParams {
    /// What a bare `permessage-deflate` agreement means: context kept both
    /// ways, 15-bit windows.
    fn default() -> Self {
        Self {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        }
    }
}

impl DeflateParams {
    /// Window bits and context reset of the compressor `role` sends with.
    #[must_use]
    pub fn sending(&self, role: crate::proto::Role) -> (u8, bool) {
        match role {
            crate::proto::Role::Server => (self.server_max_window_bits, self.server_no_context_takeover),
            crate::proto::Role::Client => (self.client_max_window_bits, self.client_no_context_takeover),
        }
    }

    /// Window bits and context reset of the compressor the peer of `role`
    /// sends with: what `role` inflates.
    #[must_use]
    pub fn receiving(&self, role: crate::proto::Role) -> (u8, bool) {
        match role {
            crate::proto::Role::Server => self.sending(crate::proto::Role::Client),
            crate::proto::Role::Client => self.sending(crate::proto::Role::Server),
        }
    }

    /// The `Sec-WebSocket-Extensions` value a server answers with.
    /// `server_max_window_bits` is written when below 15 or when
    /// `server_bits_in_response` (the offer asked for it: RFC 7692
    /// §7.1.2.1, leaving it out would decline that offer);
    /// `client_max_window_bits` when `client_bits_in_response`.
    #[must_use]
    pub fn response_header(&self, server_bits_in_response: bool, client_bits_in_response: bool) -> String {
        let mut out = String::from(NAME);
        if self.server_no_context_takeover {
            out.push_str("; server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            out.push_str("; client_no_context_takeover");
        }
        if server_bits_in_response || self.server_max_window_bits < 15 {
            out.push_str(&format!("; server_max_window_bits={}", self.server_max_window_bits));
        }
        if client_bits_in_response {
            out.push_str(&format!("; client_max_window_bits={}", self.client_max_window_bits));
        }
        out
    }
}

/// A malformed or unacceptable permessage-deflate negotiation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeflateError {
    /// A parameter permessage-deflate does not define.
    UnknownParameter(String),
    /// A parameter given twice in one offer or response.
    DuplicateParameter(String),
    /// A parameter with a value it may not have (or without one it needs).
    BadValue {
        /// The parameter.
        name: String,
        /// Its value, if any.
        value: Option<String>,
    },
    /// The server's response does not fit what we offered.
    Mismatch(String),
}

impl fmt::Display for DeflateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownParameter(p) => write!(f, "permessage-deflate has no parameter {p:?}"),
            Self::DuplicateParameter(p) => write!(f, "permessage-deflate parameter {p:?} appears twice"),
            Self::BadValue { name, value: Some(v) } => write!(
                f,
                "permessage-deflate parameter {name}={v:?} is invalid (window bits are 8-15; takeover flags take no value)"
            ),
            Self::BadValue { name, value: None } => {
                write!(f, "permessage-deflate parameter {name} needs a value (8-15)")
            }
            Self::Mismatch(why) => write!(f, "permessage-deflate response does not match our offer: {why}"),
        }
    }
}

impl std::error::Error for DeflateError {}

/// One extension of a `Sec-WebSocket-Extensions` list: name and parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// Extension token.
    pub name: String,
    /// Parameters in order, with optional values (quotes removed).
    pub params: Vec<(String, Option<String>)>,
}

/// Splits header values into extensions (RFC 6455 §9.1).
#[must_use]
pub fn parse_extensions<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<Extension> {
    let mut out = Vec::new();
    for value in values {
        for ext in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let mut parts = ext.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default().to_ascii_lowercase();
            let params = parts
                .filter(|p| !p.is_empty())
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v.trim().trim_matches('"').to_owned())),
                    None => (p.to_ascii_lowercase(), None),
                })
                .collect();
            out.push(Extension { name, params });
        }
    }
    out
}

/// The four parameters as written in one offer or response.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Written {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: present without a value.
    client_max_window_bits: Option<Option<u8>>,
}

fn bits(name: &str, value: Option<&String>) -> Result<Option<u8>, DeflateError> {
    match value {
        None => Ok(None),
        Some(v) => match v.parse::<u8>() {
            Ok(b @ 8..=15) if !v.starts_with('0') && !v.starts_with('+') => Ok(Some(b)),
            _ => Err(DeflateError::BadValue { name: name.into(), value: Some(v.clone()) }),
        },
    }
}

/// Reads and checks the parameters of one permessage-deflate element.
fn read_params(ext: &Extension) -> Result<Written, DeflateError> {
    let mut w = Written::default();
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in &ext.params {
        if seen.contains(&name.as_str()) {
            return Err(DeflateError::DuplicateParameter(name.clone()));
        }
        seen.push(name);
        let flag = |w: &mut bool| {
            if value.is_some() {
                Err(DeflateError::BadValue { name: name.clone(), value: value.clone() })
            } else {
                *w = true;
                Ok(())
            }
        };
        match name.as_str() {
            "server_no_context_takeover" => flag(&mut w.server_no_context_takeover)?,
            "client_no_context_takeover" => flag(&mut w.client_no_context_takeover)?,
            "server_max_window_bits" => match bits(name, value.as_ref())? {
                Some(b) => w.server_max_window_bits = Some(b),
                None => return Err(DeflateError::BadValue { name: name.clone(), value: None }),
            },
            "client_max_window_bits" => w.client_max_window_bits = Some(bits(name, value.as_ref())?),
            _ => return Err(DeflateError::UnknownParameter(name.clone())),
        }
    }
    Ok(w)
}

impl DeflateConfig {
    /// Server (RFC 7692 §7.1): chooses the first offer we can honour and
    /// returns the agreed parameters with the response header; `None`
    /// declines them all, and the connection goes on uncompressed.
    ///
    /// RFC 7692 §7.1: an offer with a parameter the extension does not
    /// define, an invalid value or a parameter given twice is declined, not
    /// refused: the next offer is tried, and a handshake whose every offer
    /// is bad still succeeds, without compression.
    ///
    /// An offer asking us to compress with an 8-bit window is declined:
    /// zlib cannot produce raw deflate with a 256-octet window (it silently
    /// uses 512, which the peer would reject), so declining — as
    /// python-websockets does — is the only honest answer; the next offer,
    /// if any, is tried.
    #[must_use]
    pub fn accept(&self, offers: &[Extension]) -> Option<(DeflateParams, String)> {
        offers.iter().filter(|e| e.name == NAME).find_map(|offer| self.accept_one(offer))
    }

    /// One offer's answer, `None` to decline it.
    fn accept_one(&self, offer: &Extension) -> Option<(DeflateParams, String)> {
        let w = read_params(offer).ok()?;
        if w.server_max_window_bits == Some(8) {
            return None;
        }
        {
            let own_bits = self.server_max_window_bits.unwrap_or(15).clamp(9, 15);
            let server_bits = w.server_max_window_bits.map_or(own_bits, |b| b.min(own_bits));
            let (client_bits, in_response) = match (w.client_max_window_bits, self.client_max_window_bits) {
                (None, _) => (15, false),
                (Some(offered), wanted) => {
                    let limit = offered.unwrap_or(15);
                    match wanted {
                        Some(b) => (b.clamp(8, 15).min(limit), true),
                        None => (limit, offered.is_some()),
                    }
                }
            };
            let params = DeflateParams {
                server_no_context_takeover: w.server_no_context_takeover || self.server_no_context_takeover,
                client_no_context_takeover: self.client_no_context_takeover,
                server_max_window_bits: server_bits,
                client_max_window_bits: client_bits,
            };
            // RFC 7692 §7.1.2.1: a server accepts an offer that names
            // server_max_window_bits only by naming it too (15 included).
            let server_in_response = w.server_max_window_bits.is_some();
            Some((params, params.response_header(server_in_response, in_response)))
        }
    }

    /// Client: the offer to send.
    #[must_use]
    pub fn offer(&self) -> String {
        let mut out = String::from(NAME);
        if self.server_no_context_takeover {
            out.push_str("; server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            out.push_str("; client_no_context_takeover");
        }
        if let Some(b) = self.server_max_window_bits {
            out.push_str(&format!("; server_max_window_bits={b}"));
        }
        match self.client_max_window_bits {
            // zlib's smallest raw window is 9 bits (see `check_response`).
            Some(b) => out.push_str(&format!("; client_max_window_bits={}", b.max(9))),
            None => out.push_str("; client_max_window_bits"),
        }
        out
    }

    /// Client (RFC 7692 §7.1): checks the server's answer to [`offer`](Self::offer).
    /// `Ok(None)` when the server did not accept the extension.
    pub fn check_response(&self, answer: &[Extension]) -> Result<Option<DeflateParams>, DeflateError> {
        let mut found = None;
        for ext in answer {
            if ext.name != NAME {
                return Err(DeflateError::Mismatch(format!(
                    "the server selected extension {:?}, which we did not offer",
                    ext.name
                )));
            }
            if found.is_some() {
                return Err(DeflateError::Mismatch("permessage-deflate selected twice".into()));
            }
            found = Some(read_params(ext)?);
        }
        let Some(w) = found else { return Ok(None) };
        if let (Some(asked), Some(got)) = (self.server_max_window_bits, w.server_max_window_bits)
            && got > asked
        {
            return Err(DeflateError::Mismatch(format!(
                "server_max_window_bits={got} exceeds the {asked} we asked for"
            )));
        }
        if self.server_max_window_bits.is_some() && w.server_max_window_bits.is_none() {
            return Err(DeflateError::Mismatch("server_max_window_bits was requested but not confirmed".into()));
        }
        if self.server_no_context_takeover && !w.server_no_context_takeover {
            return Err(DeflateError::Mismatch("server_no_context_takeover was requested but not confirmed".into()));
        }
        let client_bits = match w.client_max_window_bits {
            None => self.client_max_window_bits.map_or(15, |b| b.max(9)),
            Some(None) => return Err(DeflateError::BadValue { name: "client_max_window_bits".into(), value: None }),
            Some(Some(b)) if self.client_max_window_bits.is_some_and(|offered| b > offered.max(9)) => {
                return Err(DeflateError::Mismatch(format!("client_max_window_bits={b} exceeds what we offered")));
            }
            // RFC 7692 §7.1.2.2 lets the server choose 8 when we offered no
            // value. zlib cannot compress raw deflate with a 256-octet window
            // (see `accept`), so we then send every message uncompressed,
            // which §6 allows; the agreement stands.
            Some(Some(b)) => b,
        };
        Ok(Some(DeflateParams {
            server_no_context_takeover: w.server_no_context_takeover,
            client_no_context_takeover: w.client_no_context_takeover || self.client_no_context_takeover,
            server_max_window_bits: w.server_max_window_bits.unwrap_or(15),
            client_max_window_bits: client_bits.clamp(8, 15),
        }))
    }
}

#[cfg(test)]
#[path = "negotiate_tests.rs"]
mod tests;
