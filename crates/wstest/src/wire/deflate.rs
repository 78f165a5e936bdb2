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

use autostrada::proto::Role;
use autostrada::proto::deflate::Compressor;
use autostrada::proto::deflate::negotiate::{Extension, NAME};
use bytes::{Bytes, BytesMut};
use flate2::{Decompress, FlushDecompress, Status};

use super::duplicates::first_repeat;
use super::window_audit::WindowAudit;

/// zlib's default compression level, which the reference uses.
const LEVEL: u32 = 6;

/// A message inflates to at most this many octets (far above the
/// suite's largest compressed message, 128 KiB); past it the connection
/// is failed rather than our memory spent.
pub const MAX_INFLATED: usize = 64 << 20;

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

fn window_bits(name: &str, value: Option<&String>) -> Result<u8, String> {
    match value.map(|v| v.parse::<u8>()) {
        Some(Ok(b @ 8..=15)) => Ok(b),
        _ => Err(format!(
            "illegal extension parameter value '{}' for parameter '{name}' of extension '{NAME}'",
            // (A missing value reads as True, which the reference takes as 1.)
            value.map_or("1", String::as_str)
        )),
    }
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

/// Reads a `permessage-bzip2` answer as the reference does before
/// declining it: each parameter once, only the two compress levels, each
/// an integer from 1 to 9 (a level without a value reads as True, which
/// Python takes as 1).
fn bzip2_response(ext: &Extension) -> Result<(), String> {
    if let Some(name) = first_repeat(ext.params.iter().map(|(name, _)| name.as_str())) {
        return Err(format!("multiple occurrence of extension parameter '{name}' for extension '{BZIP2}'"));
    }
    for (name, value) in &ext.params {
        if name != "client_max_compress_level" && name != "server_max_compress_level" {
            return Err(format!("illegal extension parameter '{name}' for extension '{BZIP2}'"));
        }
        let illegal =
            |v: &str| format!("illegal extension parameter value '{v}' for parameter '{name}' of extension '{BZIP2}'");
        match value.as_deref().map(super::http_head::py_int) {
            None | Some(Some(1..=9)) => {}
            Some(Some(level)) => return Err(illegal(&level.to_string())),
            Some(None) => return Err(illegal(value.as_deref().unwrap_or_default())),
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
            bzip2_response(ext)?;
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
    offered.iter().filter(|e| e.name == NAME).map(parse_offer).collect()
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

/// RFC 7692 §7.2.2: the octets a sender strips from the end of each
/// compressed message, put back before inflating it.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Inflates the peer's messages the way the reference's zlib does. While
/// context is kept, the reference inflates every message of a connection
/// with one zlib stream (one `decompressobj`, made once): whatever state a
/// message leaves the stream in — a stored block whose length the tail
/// began, a block not yet ended — is where the next message starts. So is
/// ours: one stream, reset only where no context is kept. zlib-rs resolves
/// any distance up to 32 KiB whatever window it is told, so a window below
/// that is held to the reference's rule (at most `2^bits` octets back,
/// into this message or earlier ones) by a [`WindowAudit`] of every
/// inflate call.
struct Inflater {
    inner: Decompress,
    /// Messages refer back into earlier ones (no `*_no_context_takeover`).
    keep_context: bool,
    /// Where a message's octets are inflated before they join the message.
    scratch: Vec<u8>,
    /// A message is being inflated.
    in_message: bool,
    /// The peer's deflate stream has ended: a block marked final (BFINAL)
    /// was inflated. The reference keeps one zlib stream for all messages
    /// when context is kept, and an ended zlib stream takes no more input:
    /// the rest of that message, and every later message, inflate to
    /// nothing. Without context takeover the next message starts afresh.
    ended: bool,
    /// The reference's window rule, when the window is below 32 KiB.
    audit: Option<WindowAudit>,
}

/// Output grows by at most this much per step.
const STEP: usize = 64 * 1024;

impl Inflater {
    fn new(bits: u8, keep_context: bool) -> Self {
        Self {
            inner: Decompress::new_with_window_bits(false, 15),
            keep_context,
            scratch: Vec::with_capacity(STEP),
            in_message: false,
            ended: false,
            audit: WindowAudit::new(bits),
        }
    }

    /// Inflates `data` onto `out` (which holds the message so far), never
    /// past [`MAX_INFLATED`].
    fn inflate(&mut self, data: &[u8], out: &mut BytesMut) -> Result<(), String> {
        if !self.in_message {
            self.in_message = true;
            if !self.keep_context {
                self.ended = false;
                self.audit.as_mut().map(WindowAudit::restart);
                self.inner.reset(false);
            }
        }
        if self.ended {
            return Ok(());
        }
        let before = out.len();
        self.inflate_call(data, out)?;
        match self.audit.as_mut() {
            Some(audit) => audit.check(data, &out[before..]),
            None => Ok(()),
        }
    }

    /// Inflates `data` onto `out` in steps of at most [`STEP`].
    fn inflate_call(&mut self, data: &[u8], out: &mut BytesMut) -> Result<(), String> {
        let start = self.inner.total_in();
        loop {
            let consumed = usize::try_from(self.inner.total_in() - start).unwrap_or(usize::MAX);
            self.scratch.clear();
            let room = (MAX_INFLATED + 1).saturating_sub(out.len()).min(STEP);
            if room == 0 {
                return Err(format!("a compressed message inflates past {MAX_INFLATED} octets"));
            }
            self.scratch.reserve(room);
            let status = self
                .inner
                .decompress_vec(&data[consumed.min(data.len())..], &mut self.scratch, FlushDecompress::Sync)
                .map_err(|e| {
                    format!("the peer's compressed data is invalid: {}", e.message().unwrap_or("inflate error"))
                })?;
            out.extend_from_slice(&self.scratch);
            let taken = usize::try_from(self.inner.total_in() - start).unwrap_or(usize::MAX);
            let all_in = taken >= data.len();
            let filled = self.scratch.len() == self.scratch.capacity();
            match status {
                Status::StreamEnd => {
                    self.ended = true;
                    return Ok(());
                }
                _ if all_in && !filled => return Ok(()),
                // No step may take nothing and give nothing: that would loop forever.
                _ if self.scratch.is_empty() && taken == consumed => {
                    return if all_in { Ok(()) } else { Err("the peer's compressed data does not progress".into()) };
                }
                _ => {}
            }
        }
    }

    /// Ends the message held in `out`: inflates the stripped tail.
    /// Whatever the tail itself inflates to (its four octets, when the
    /// peer's data stopped inside a stored block) joins the stream's window
    /// but not the message: the reference drops the output of its tail call.
    fn finish(&mut self, out: &mut BytesMut) -> Result<(), String> {
        let end = out.len();
        self.inflate(&TAIL, out)?;
        self.in_message = false;
        out.truncate(end);
        Ok(())
    }
}

/// The compressor and inflater of one connection.
pub struct Deflate {
    /// What was agreed.
    pub agreement: Agreement,
    compressor: Compressor,
    inflater: Inflater,
    /// How we compress: our window bits, and whether each message is
    /// compressed on its own (no context takeover in our direction).
    ours: (u8, bool),
}

impl std::fmt::Debug for Deflate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deflate").field("agreement", &self.agreement).finish_non_exhaustive()
    }
}

fn bits_or_default(bits: u8) -> u8 {
    if bits == 0 { 15 } else { bits }
}

impl Deflate {
    /// Compression for `role` under `agreement`: we compress with our
    /// direction's window and reset per message if our direction keeps no
    /// context; we inflate with the peer's.
    #[must_use]
    pub fn new(agreement: Agreement, role: Role) -> Self {
        let a = agreement;
        let (ours, theirs) = match role {
            Role::Client => (
                (a.client_max_window_bits, a.client_no_context_takeover),
                (a.server_max_window_bits, a.server_no_context_takeover),
            ),
            Role::Server => (
                (a.server_max_window_bits, a.server_no_context_takeover),
                (a.client_max_window_bits, a.client_no_context_takeover),
            ),
        };
        Self {
            agreement,
            compressor: Compressor::new(LEVEL, bits_or_default(ours.0), ours.1).keep_state(true),
            inflater: Inflater::new(bits_or_default(theirs.0), !theirs.1),
            ours: (bits_or_default(ours.0), ours.1),
        }
    }

    /// How our messages are compressed: window bits, and whether each one
    /// is compressed on its own (then its octets depend only on the
    /// message; otherwise on every message before it as well).
    #[must_use]
    pub fn compression(&self) -> (u8, bool) {
        self.ours
    }

    /// Compresses one whole message (sync flush, the 4-octet tail stripped).
    pub fn compress(&mut self, data: &[u8]) -> Bytes {
        self.compressor.compress(data)
    }

    /// Inflates one frame's payload of a compressed message onto `out`,
    /// which holds the message so far.
    ///
    /// # Errors
    /// Corrupt data, a reference past the agreed window, or a message past
    /// [`MAX_INFLATED`]; the text says which.
    pub fn inflate(&mut self, data: &[u8], out: &mut BytesMut) -> Result<(), String> {
        self.inflater.inflate(data, out)
    }

    /// Ends a compressed message, held whole in `out`.
    ///
    /// # Errors
    /// As [`inflate`](Self::inflate).
    pub fn finish(&mut self, out: &mut BytesMut) -> Result<(), String> {
        self.inflater.finish(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::extension_header::read_extensions;

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

    #[test]
    fn a_reference_past_the_agreed_window_fails() {
        // The peer agreed to a 512-octet window but compresses with 32 KiB:
        // a later message that repeats an early one refers too far back.
        let agreement = Agreement { server_max_window_bits: 9, ..Agreement::default() };
        let mut ours = Deflate::new(agreement, Role::Client);
        let mut theirs = Compressor::new(6, 15, false);
        let first: Vec<u8> = (0..2000u32).map(|i| (i * 7919 % 251) as u8).collect();
        let mut out = BytesMut::new();
        ours.inflate(&theirs.compress(&first), &mut out).unwrap();
        ours.finish(&mut out).unwrap();
        assert_eq!(&out[..], &first[..]);
        let mut out = BytesMut::new();
        let again = ours.inflate(&theirs.compress(&first[..100]), &mut out).and_then(|()| ours.finish(&mut out));
        assert!(again.unwrap_err().contains("too far back"));
        // Within the window, context is kept.
        let mut ours = Deflate::new(Agreement { server_max_window_bits: 12, ..agreement }, Role::Client);
        let mut theirs = Compressor::new(6, 12, false);
        for _ in 0..3 {
            let mut out = BytesMut::new();
            ours.inflate(&theirs.compress(&first), &mut out).unwrap();
            ours.finish(&mut out).unwrap();
            assert_eq!(&out[..], &first[..]);
        }
    }

    #[test]
    fn a_finished_stream_takes_nothing_more_while_context_is_kept() {
        // Each message a whole deflate stream, its last block final.
        let whole = |m: &[u8]| miniz_oxide::deflate::compress_to_vec(m, 6);
        let inflate = |d: &mut Deflate, m: &[u8]| {
            let mut out = BytesMut::new();
            d.inflate(&whole(m), &mut out).and_then(|()| d.finish(&mut out)).unwrap();
            out
        };
        let mut kept = Deflate::new(Agreement::default(), Role::Client);
        assert_eq!(&inflate(&mut kept, b"first")[..], b"first");
        assert!(inflate(&mut kept, b"second").is_empty());
        let fresh = Agreement { server_no_context_takeover: true, ..Agreement::default() };
        let mut fresh = Deflate::new(fresh, Role::Client);
        assert_eq!(&inflate(&mut fresh, b"first")[..], b"first");
        assert_eq!(&inflate(&mut fresh, b"second")[..], b"second");
    }

    #[test]
    fn what_the_tail_inflates_to_is_no_part_of_the_message() {
        // A stored block cut four octets short: the tail completes it.
        let whole = miniz_oxide::deflate::compress_to_vec(b"0123456789abcdef", 0);
        let fresh = Agreement { server_no_context_takeover: true, ..Agreement::default() };
        let mut ours = Deflate::new(fresh, Role::Client);
        let mut out = BytesMut::new();
        ours.inflate(&whole[..whole.len() - 4], &mut out).and_then(|()| ours.finish(&mut out)).unwrap();
        assert_eq!(&out[..], b"0123456789ab");
    }

    #[test]
    fn both_roles_roundtrip() {
        let agreement =
            Agreement { client_no_context_takeover: true, client_max_window_bits: 9, ..Agreement::default() };
        let mut client = Deflate::new(agreement, Role::Client);
        let mut server = Deflate::new(agreement, Role::Server);
        for msg in [&b"hello hello hello"[..], b"", &[7u8; 5000]] {
            let z = client.compress(msg);
            let mut out = BytesMut::new();
            server.inflate(&z, &mut out).unwrap();
            server.finish(&mut out).unwrap();
            assert_eq!(&out[..], msg);
        }
    }
}
