//! permessage-deflate (RFC 7692) on the fuzzer's side, as the reference
//! negotiates and uses it in the compression cases (12.x, 13.x).
//!
//! As a client the fuzzer sends one or more [`Offer`]s and takes whatever
//! valid permessage-deflate answer the server gives ([`parse_response`]).
//! As a server it answers the client's offers with one of seven
//! [`Acceptor`]s. Either way the outcome is an [`Agreement`], and
//! [`Deflate`] compresses what we send and inflates what we receive with
//! the agreed window sizes and context takeover (zlib's default level and
//! memory level, like the reference), so the compression ratios the
//! reports give are comparable with the reference's.
//!
//! Negotiation is here; compressing and inflating, in `deflate/codec.rs`.

use autostrada::proto::deflate::negotiate::{Extension, NAME};

use super::duplicates::first_repeat;
use super::http_head::py_int;

mod codec;

pub use codec::{Deflate, MAX_INFLATED};

/// One permessage-deflate offer of the fuzzer as client. Every offer also
/// says the client accepts `client_no_context_takeover` and
/// `client_max_window_bits` from the server, as the reference's do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offer {
    /// Ask the server not to keep its compression context between messages.
    pub no_context_takeover: bool,
    /// Ask the server for at most this window (8–15); 0 asks nothing.
    pub max_window_bits: u8,
}

impl Offer {
    /// The offer as a `Sec-WebSocket-Extensions` element.
    #[must_use]
    pub fn header(&self) -> String {
        let mut s = format!("{NAME}; client_no_context_takeover; client_max_window_bits");
        if self.no_context_takeover {
            s.push_str("; server_no_context_takeover");
        }
        if self.max_window_bits != 0 {
            s.push_str(&format!("; server_max_window_bits={}", self.max_window_bits));
        }
        s
    }

    /// Several offers as one header value, in order of preference.
    #[must_use]
    pub fn header_list(offers: &[Offer]) -> String {
        offers.iter().map(Offer::header).collect::<Vec<_>>().join(", ")
    }

    /// The offer as the case descriptions list it: `(noContextTakeover, maxWindowBits)`.
    #[must_use]
    pub fn tuple(&self) -> String {
        format!("({}, {})", if self.no_context_takeover { "True" } else { "False" }, self.max_window_bits)
    }
}

/// What both sides agreed on. Window bits of 0 mean "not given" (15).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Agreement {
    /// The server resets its compressor after each message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after each message.
    pub client_no_context_takeover: bool,
    /// Window the server compresses with.
    pub server_max_window_bits: u8,
    /// Window the client compresses with.
    pub client_max_window_bits: u8,
}

/// Window bits as the reference reads them: Python's `int()` (white space
/// around, a sign, leading zeros: `" 9"` and `"+09"` are 9), then 8 to 15.
/// The error names the value as given when it is no number, else as the
/// number it read (`+016` is reported as `16`).
fn window_bits(name: &str, value: Option<&String>) -> Result<u8, String> {
    let shown = match value.map(|v| (v, py_int(v))) {
        Some((_, Some(b @ 8..=15))) => return Ok(u8::try_from(b).unwrap_or(15)),
        Some((_, Some(n))) => n.to_string(),
        Some((v, None)) => v.clone(),
        // A missing value reads as True, which `int()` takes as 1.
        None => "1".to_owned(),
    };
    Err(format!("illegal extension parameter value '{shown}' for parameter '{name}' of extension '{NAME}'"))
}

fn flag(name: &str, value: Option<&String>) -> Result<bool, String> {
    match value {
        None => Ok(true),
        Some(v) => Err(format!("illegal extension parameter value '{v}' for parameter '{name}' of extension '{NAME}'")),
    }
}

fn no_duplicates(ext: &Extension) -> Result<(), String> {
    match first_repeat(ext.params.iter().map(|(name, _)| name.as_str())) {
        Some(name) => Err(format!("multiple occurrence of extension parameter '{name}' for extension '{NAME}'")),
        None => Ok(()),
    }
}

/// The other compression extension the reference knows (its Python has
/// the bz2 module): a server's answer naming it is read by its rules, then
/// declined, as no case accepts it.
const BZIP2: &str = "permessage-bzip2";

/// Reads `permessage-bzip2` parameters as the reference does before
/// declining the extension: each parameter once, only the two compress
/// levels, each an integer from 1 to 9 (a level without a value reads as
/// True, which Python takes as 1); in a client's offer (`offer`),
/// `client_max_compress_level` takes no value at all.
fn bzip2_params(ext: &Extension, offer: bool) -> Result<(), String> {
    if let Some(name) = first_repeat(ext.params.iter().map(|(name, _)| name.as_str())) {
        return Err(format!("multiple occurrence of extension parameter '{name}' for extension '{BZIP2}'"));
    }
    for (name, value) in &ext.params {
        if name != "client_max_compress_level" && name != "server_max_compress_level" {
            return Err(format!("illegal extension parameter '{name}' for extension '{BZIP2}'"));
        }
        let illegal =
            |v: &str| format!("illegal extension parameter value '{v}' for parameter '{name}' of extension '{BZIP2}'");
        let valueless = offer && name == "client_max_compress_level";
        match value.as_deref() {
            Some(v) if valueless => return Err(illegal(v)),
            Some(v) => match py_int(v) {
                Some(1..=9) => {}
                Some(level) => return Err(illegal(&level.to_string())),
                None => return Err(illegal(v)),
            },
            None => {}
        }
    }
    Ok(())
}

/// Client role: reads the server's answer (all `Sec-WebSocket-Extensions`
/// elements). `Ok(None)`: no extension; `Err`: the handshake fails, with
/// the reason the report gives.
pub fn parse_response(answer: &[Extension]) -> Result<Option<Agreement>, String> {
    let mut agreed = None;
    for ext in answer {
        if ext.name == BZIP2 {
            if agreed.is_some() {
                return Err("multiple occurrence of a permessage-compress extension".into());
            }
            bzip2_params(ext, false)?;
            return Err("WebSocket permessage-compress extension response from server denied by client".into());
        }
        if ext.name != NAME {
            return Err(format!(
                "server wants to use extension '{}' we did not request, haven't implemented or did not enable",
                ext.name
            ));
        }
        if agreed.is_some() {
            return Err("multiple occurrence of a permessage-compress extension".into());
        }
        no_duplicates(ext)?;
        let mut a = Agreement::default();
        for (name, value) in &ext.params {
            match name.as_str() {
                "client_max_window_bits" => a.client_max_window_bits = window_bits(name, value.as_ref())?,
                "server_max_window_bits" => a.server_max_window_bits = window_bits(name, value.as_ref())?,
                "client_no_context_takeover" => a.client_no_context_takeover = flag(name, value.as_ref())?,
                "server_no_context_takeover" => a.server_no_context_takeover = flag(name, value.as_ref())?,
                other => return Err(format!("illegal extension parameter '{other}' for extension '{NAME}'")),
            }
        }
        agreed = Some(a);
    }
    Ok(agreed)
}

/// A client's offer as the server side reads it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ClientOffer {
    /// The client named `client_max_window_bits` (with or without a value).
    accepts_max_window_bits: bool,
    /// `server_no_context_takeover` asked for.
    requests_no_context_takeover: bool,
    /// `server_max_window_bits` asked for (0: not asked).
    requests_max_window_bits: u8,
}

fn parse_offer(ext: &Extension) -> Result<ClientOffer, String> {
    no_duplicates(ext)?;
    let mut o = ClientOffer::default();
    for (name, value) in &ext.params {
        match name.as_str() {
            "client_max_window_bits" => {
                if value.is_some() {
                    window_bits(name, value.as_ref())?;
                }
                o.accepts_max_window_bits = true;
            }
            // The reference takes every offer as accepting client_no_context_takeover anyway.
            "client_no_context_takeover" => {
                flag(name, value.as_ref())?;
            }
            "server_max_window_bits" => o.requests_max_window_bits = window_bits(name, value.as_ref())?,
            "server_no_context_takeover" => o.requests_no_context_takeover = flag(name, value.as_ref())?,
            other => return Err(format!("illegal extension parameter '{other}' for extension '{NAME}'")),
        }
    }
    Ok(o)
}

/// Server role: reads every permessage-deflate offer among `offered`. As
/// the reference's server, which reads the offers on every connection
/// before its case decides whether to take one, a malformed offer fails
/// the handshake even where no offer would be accepted.
///
/// # Errors
/// The reason the first malformed offer gives.
pub fn check_offers(offered: &[Extension]) -> Result<(), String> {
    parse_offers(offered).map(drop)
}

fn parse_offers(offered: &[Extension]) -> Result<Vec<ClientOffer>, String> {
    let mut offers = Vec::new();
    for ext in offered {
        if ext.name == NAME {
            offers.push(parse_offer(ext)?);
        } else if ext.name == BZIP2 {
            bzip2_params(ext, true)?;
        }
    }
    Ok(offers)
}

/// How the fuzzer as server answers the client's offers (one per 13.x
/// subgroup; the 12.x cases use [`Acceptor::First`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acceptor {
    /// The first offer, asking nothing of the client.
    First,
    /// The first offer, asking the client not to keep its context.
    NoContextTakeover,
    /// The first offer that lets us limit the client's window, limited to this.
    MaxWindowBits(u8),
    /// As `MaxWindowBits`, also asking the client not to keep its context.
    Both(u8),
    /// `Both(9)` if any offer allows it, else `NoContextTakeover`, else `First`.
    Fallback,
}

impl Acceptor {
    /// What this acceptor asks of the client, as the case descriptions list
    /// it: `(noContextTakeover, maxWindowBits)`.
    #[must_use]
    pub fn tuples(&self) -> &'static str {
        match self {
            Self::First => "[(False, 0)]",
            Self::NoContextTakeover => "[(True, 0)]",
            Self::MaxWindowBits(9) => "[(False, 9)]",
            Self::MaxWindowBits(_) => "[(False, 15)]",
            Self::Both(9) => "[(True, 9)]",
            Self::Both(_) => "[(True, 15)]",
            Self::Fallback => "[(True, 9), (True, 0), (False, 0)]",
        }
    }

    fn pick(self, offers: &[ClientOffer]) -> Option<(ClientOffer, bool, u8)> {
        let first = |pred: &dyn Fn(&ClientOffer) -> bool| offers.iter().copied().find(|o| pred(o));
        match self {
            Self::First => first(&|_| true).map(|o| (o, false, 0)),
            Self::NoContextTakeover => first(&|_| true).map(|o| (o, true, 0)),
            Self::MaxWindowBits(b) => first(&|o| o.accepts_max_window_bits).map(|o| (o, false, b)),
            Self::Both(b) => first(&|o| o.accepts_max_window_bits).map(|o| (o, true, b)),
            Self::Fallback => Self::Both(9)
                .pick(offers)
                .or_else(|| Self::NoContextTakeover.pick(offers))
                .or_else(|| Self::First.pick(offers)),
        }
    }

    /// Server role: answers the client's extension offers. `Ok(None)`: no
    /// offer suits, no extension; `Err`: a malformed offer fails the
    /// handshake. `Ok(Some)` holds the agreement and the response header value.
    pub fn accept(self, offered: &[Extension]) -> Result<Option<(Agreement, String)>, String> {
        let offers = parse_offers(offered)?;
        let Some((offer, client_reset, client_bits)) = self.pick(&offers) else { return Ok(None) };
        let agreed = Agreement {
            server_no_context_takeover: offer.requests_no_context_takeover,
            client_no_context_takeover: client_reset,
            server_max_window_bits: offer.requests_max_window_bits,
            client_max_window_bits: client_bits,
        };
        let mut header = NAME.to_owned();
        if offer.requests_no_context_takeover {
            header.push_str("; server_no_context_takeover");
        }
        if offer.requests_max_window_bits != 0 {
            header.push_str(&format!("; server_max_window_bits={}", offer.requests_max_window_bits));
        }
        if client_reset {
            header.push_str("; client_no_context_takeover");
        }
        if client_bits != 0 {
            header.push_str(&format!("; client_max_window_bits={client_bits}"));
        }
        Ok(Some((agreed, header)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::extension_header::read_extensions;

    /// A `permessage-bzip2` offer is read by the reference's rules (and
    /// then declined): a malformed one fails the handshake.
    #[test]
    fn bzip2_offers_are_read_and_declined() {
        for good in ["permessage-bzip2", "permessage-bzip2; client_max_compress_level; server_max_compress_level=9"] {
            assert_eq!(parse_offers(&offers(good)), Ok(Vec::new()), "{good}");
        }
        for (bad, why) in [
            ("permessage-bzip2; foo", "illegal extension parameter 'foo' for extension 'permessage-bzip2'"),
            ("permessage-bzip2; client_max_compress_level=9", "value '9' for parameter 'client_max_compress_level'"),
            ("permessage-bzip2; server_max_compress_level=+010", "value '10' for parameter"),
            ("permessage-bzip2; server_max_compress_level=1; server_max_compress_level=2", "multiple occurrence"),
        ] {
            let e = parse_offers(&offers(bad)).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    /// Window bits go through Python's `int()`: white space and a sign are
    /// taken, and an out-of-range value is named as the number read.
    #[test]
    fn window_bits_read_as_python_ints() {
        let bits = |v: &str| window_bits("server_max_window_bits", Some(&v.to_owned()));
        assert_eq!(bits(" 9"), Ok(9));
        assert_eq!(bits("10 "), Ok(10));
        assert_eq!(bits("+09"), Ok(9));
        assert!(bits("+016").unwrap_err().contains("value '16'"));
        assert!(bits("nine").unwrap_err().contains("value 'nine'"));
        assert!(window_bits("server_max_window_bits", None).unwrap_err().contains("value '1'"));
    }

    /// `s` read as both of wstest's sides read a `Sec-WebSocket-Extensions` value.
    fn offers(s: &str) -> Vec<Extension> {
        read_extensions(s)
    }

    #[test]
    fn offers_read_like_the_reference() {
        let o = Offer { no_context_takeover: true, max_window_bits: 9 };
        assert_eq!(
            o.header(),
            "permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover; server_max_window_bits=9"
        );
        assert_eq!(Offer { no_context_takeover: false, max_window_bits: 0 }.tuple(), "(False, 0)");
    }

    #[test]
    fn responses() {
        assert_eq!(parse_response(&offers("")).unwrap(), None);
        let a = parse_response(&offers("permessage-deflate; server_max_window_bits=10; client_no_context_takeover"))
            .unwrap()
            .unwrap();
        assert_eq!((a.server_max_window_bits, a.client_no_context_takeover), (10, true));
        assert!(parse_response(&offers("permessage-deflate; client_max_window_bits")).is_err());
        assert!(parse_response(&offers("permessage-deflate; foo")).is_err());
        assert!(parse_response(&offers("permessage-deflate, permessage-deflate")).is_err());
        assert!(parse_response(&offers("x-webkit-deflate-frame")).is_err());
    }

    #[test]
    fn acceptors_answer_like_the_reference() {
        let bare = offers("permessage-deflate");
        let bits = offers("permessage-deflate; client_max_window_bits");
        let asks =
            offers("permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits");
        let header = |a: Acceptor, o: &[Extension]| a.accept(o).unwrap().map(|(_, h)| h);
        assert_eq!(header(Acceptor::First, &bare).as_deref(), Some("permessage-deflate"));
        assert_eq!(
            header(Acceptor::NoContextTakeover, &bare).as_deref(),
            Some("permessage-deflate; client_no_context_takeover")
        );
        assert_eq!(header(Acceptor::MaxWindowBits(9), &bare), None);
        assert_eq!(
            header(Acceptor::MaxWindowBits(9), &bits).as_deref(),
            Some("permessage-deflate; client_max_window_bits=9")
        );
        assert_eq!(
            header(Acceptor::Fallback, &bits).as_deref(),
            Some("permessage-deflate; client_no_context_takeover; client_max_window_bits=9")
        );
        assert_eq!(
            header(Acceptor::Fallback, &bare).as_deref(),
            Some("permessage-deflate; client_no_context_takeover")
        );
        assert_eq!(
            header(Acceptor::First, &asks).as_deref(),
            Some("permessage-deflate; server_no_context_takeover; server_max_window_bits=10")
        );
        assert!(Acceptor::First.accept(&offers("permessage-deflate; bogus")).is_err());
    }

    #[test]
    fn offers_are_judged_without_an_acceptor() {
        let bare_server_bits = check_offers(&offers("permessage-deflate; server_max_window_bits"));
        assert_eq!(
            bare_server_bits.unwrap_err(),
            "illegal extension parameter value '1' for parameter 'server_max_window_bits' of extension 'permessage-deflate'"
        );
        assert!(check_offers(&offers("x-webkit-deflate-frame; bogus, permessage-deflate")).is_ok());
        assert!(check_offers(&offers("permessage-deflate, permessage-deflate; client_max_window_bits=16")).is_err());
    }
}
