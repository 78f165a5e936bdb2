//! Categories 12 and 13: permessage-deflate. Each case sends 1000 messages
//! cut from one of five corpora, one at a time, each after the previous
//! echo, compressed with the agreed parameters and (in some size rows) cut
//! into frames of a fixed number of *compressed* octets. Category 12 varies
//! the data with the default offer; category 13 varies the offers (fuzzer
//! as client) and the acceptors (fuzzer as server) over the JSON corpus.
//! A peer that agrees to no compression leaves the case `UNIMPLEMENTED`.

use std::sync::OnceLock;

use bytes::Bytes;

use super::corpus::Corpus;
use super::message_cache::MessageCache;
use super::{CaseDef, Expectation, ExpectedClose, Logic, Post};
use crate::wire::Peer;
use crate::wire::deflate::{Acceptor, Deflate, Offer};
use crate::wire::traffic::Traffic;

/// One size row: (message length, messages, seconds allowed, fragment size).
/// The same 18 rows make every 12.j and 13.j subgroup.
pub const ROWS: [(usize, usize, u32, usize); 18] = [
    (16, 1000, 60, 0),
    (64, 1000, 60, 0),
    (256, 1000, 120, 0),
    (1024, 1000, 240, 0),
    (4096, 1000, 480, 0),
    (8192, 1000, 480, 0),
    (16384, 1000, 480, 0),
    (32768, 1000, 480, 0),
    (65536, 1000, 480, 0),
    (131_072, 1000, 480, 0),
    (8192, 1000, 480, 256),
    (16384, 1000, 480, 256),
    (32768, 1000, 480, 256),
    (65536, 1000, 480, 256),
    (131_072, 1000, 480, 256),
    (131_072, 1000, 480, 1024),
    (131_072, 1000, 480, 4096),
    (131_072, 1000, 480, 32768),
];

/// The offers (fuzzer as client) and acceptor (fuzzer as server) of each
/// 13.j subgroup.
fn parameters() -> [(Vec<Offer>, Acceptor); 7] {
    let offer = |no_context_takeover, max_window_bits| Offer { no_context_takeover, max_window_bits };
    [
        (vec![offer(false, 0)], Acceptor::First),
        (vec![offer(true, 0)], Acceptor::NoContextTakeover),
        (vec![offer(false, 9)], Acceptor::MaxWindowBits(9)),
        (vec![offer(false, 15)], Acceptor::MaxWindowBits(15)),
        (vec![offer(true, 9)], Acceptor::Both(9)),
        (vec![offer(true, 15)], Acceptor::Both(15)),
        (vec![offer(true, 9), offer(true, 0), offer(false, 0)], Acceptor::Fallback),
    ]
}

/// What a compression case does.
#[derive(Debug, Clone)]
pub struct Compression {
    /// Where the messages come from.
    pub corpus: Corpus,
    /// Message length: octets, or code points for the text corpora.
    pub len: usize,
    /// Messages to exchange.
    pub count: usize,
    /// Seconds the whole exchange may take.
    pub wait: u32,
    /// Compressed octets per frame (0: one frame per message).
    pub fragment: usize,
    /// What we offer as client.
    pub offers: Vec<Offer>,
    /// How we answer as server.
    pub acceptor: Acceptor,
}

fn case(id: String, c: Compression, how: &str) -> CaseDef {
    let unit = if c.corpus.is_text() { "code points" } else { "octets" };
    let framing = if c.fragment == 0 {
        "each in one frame".to_owned()
    } else {
        format!("each cut into frames of {} compressed octets", c.fragment)
    };
    let description = format!(
        "Sends {} {} messages of {} {unit} taken in turn from the {}, compressed with permessage-deflate ({how}), {framing}; \
         the next message goes out when the previous one has come back.",
        c.count,
        if c.corpus.is_text() { "text" } else { "binary" },
        c.len,
        c.corpus.label(),
    );
    let expectation = format!(
        "Every message comes back with the same type, length and content, all {} within {} seconds.",
        c.count, c.wait
    );
    CaseDef {
        id,
        description,
        expectation,
        expect: Expectation { outcomes: Vec::new(), close: ExpectedClose::normal() },
        suppress_close: false,
        report_time: true,
        post: Post::None,
        logic: Logic::Compression(c),
    }
}

/// The 216 cases of categories 12 and 13, in id order.
#[must_use]
pub fn cases() -> Vec<CaseDef> {
    let mut out = Vec::new();
    for (j, corpus) in Corpus::ALL.into_iter().enumerate() {
        for (i, &(len, count, wait, fragment)) in ROWS.iter().enumerate() {
            let c = Compression {
                corpus,
                len,
                count,
                wait,
                fragment,
                offers: vec![Offer { no_context_takeover: false, max_window_bits: 0 }],
                acceptor: Acceptor::First,
            };
            out.push(case(format!("12.{}.{}", j + 1, i + 1), c, "the default offer"));
        }
    }
    for (j, (offers, acceptor)) in parameters().into_iter().enumerate() {
        let listed: Vec<String> = offers.iter().map(Offer::tuple).collect();
        let how = format!(
            "client offers (noContextTakeover, maxWindowBits) [{}], server acceptance {}",
            listed.join(", "),
            acceptor.tuples()
        );
        for (i, &(len, count, wait, fragment)) in ROWS.iter().enumerate() {
            let c = Compression { corpus: Corpus::Json, len, count, wait, fragment, offers: offers.clone(), acceptor };
            out.push(case(format!("13.{}.{}", j + 1, i + 1), c, &how));
        }
    }
    out
}

/// Where each code point of a text corpus starts (cached per corpus).
fn char_starts(corpus: Corpus) -> &'static [u32] {
    static STARTS: [OnceLock<Vec<u32>>; 5] = [const { OnceLock::new() }; 5];
    let slot = Corpus::ALL.iter().position(|c| *c == corpus).unwrap_or(0);
    STARTS[slot].get_or_init(|| {
        let data = corpus.bytes();
        (0..data.len()).filter(|&i| data[i] & 0xc0 != 0x80).map(|i| i as u32).collect()
    })
}

/// The reference's fuzzer told to compress with a window of 8 bits (RFC
/// 7692 allows 8 to 15; as server when the client asks for
/// `server_max_window_bits=8`, as client when the server answers
/// `client_max_window_bits=8`): its zlib (1.2.9 and later) makes no raw
/// deflate stream with so small a window, so its first compressed message
/// raises. That happens as the case opens, still within the callbacks that
/// read the opening handshake. As server, they answer any error with an
/// HTTP 500 response (after the 101) and drop TCP: the case is FAILED, and
/// dropped by us. As client, the error escapes to Twisted, which tears the
/// connection down with nothing sent: the case is FAILED, and neither
/// failed nor dropped by us (the reason is that of a peer that dropped).
fn no_compressor(peer: &mut Peer) {
    if peer.role == autostrada::Role::Client {
        peer.torn_down();
        return;
    }
    let reason = "Internal Server Error";
    peer.send_data(Bytes::from(format!("HTTP/1.1 500 {reason}\r\n\r\n")), false, None);
    peer.drop_tcp(false);
    peer.close.was_not_clean_reason = Some(reason.into());
}

/// A run of a compression case: where in the corpus the next message
/// starts, what was sent last, and how many went out.
#[derive(Debug, Default)]
pub struct Progress {
    /// Next message's start, in units (octets or code points).
    next: usize,
    /// The message waiting for its echo.
    last: Bytes,
    /// Messages sent.
    sent: usize,
    /// The traffic counters when the last echo arrived (a passed case only).
    pub traffic: Option<Traffic>,
    /// Compressed messages shared with the run's other cases.
    pub cache: Option<std::sync::Arc<MessageCache>>,
    /// This case sends cached messages (decided at its first message).
    reading: bool,
}

impl Progress {
    /// The next message: `len` units from the ring position, wrapping
    /// around the end of the corpus.
    fn take(&mut self, c: &Compression) -> Bytes {
        let data = c.corpus.bytes();
        let starts = c.corpus.is_text().then(|| char_starts(c.corpus));
        let units = starts.map_or(data.len(), <[u32]>::len);
        let offset = |unit: usize| match starts {
            Some(s) => s.get(unit).map_or(data.len(), |&b| b as usize),
            None => unit,
        };
        let from = self.next;
        let to = (from + c.len) % units;
        self.next = to;
        if to > from {
            Bytes::from_static(&data[offset(from)..offset(to)])
        } else {
            let mut joined = Vec::with_capacity(c.len * 2);
            joined.extend_from_slice(&data[offset(from)..]);
            joined.extend_from_slice(&data[..offset(to)]);
            Bytes::from(joined)
        }
    }

    /// Sends the next message.
    pub fn send_one(&mut self, c: &Compression, peer: &mut Peer) {
        self.last = self.take(c);
        let index = self.sent;
        self.sent += 1;
        let binary = !c.corpus.is_text();
        let (Some(cache), Some(mode)) = (self.cache.as_ref(), peer.deflate.as_ref().map(Deflate::compression)) else {
            peer.send_message(self.last.clone(), binary, None, false);
            return;
        };
        let sequence = (c.corpus, c.len);
        let (_, fresh) = mode;
        // With context takeover, decide once: read a whole sequence or
        // compress every message (see message_cache).
        if index == 0 {
            self.reading = fresh || cache.holds(sequence, mode, c.count);
        }
        let cached = if self.reading { cache.get(sequence, mode, index) } else { None };
        let compressed = match cached {
            Some(z) => z,
            None => {
                let Some(deflate) = peer.deflate.as_mut() else { return };
                let z = deflate.compress(&self.last);
                cache.put(sequence, mode, index, &z);
                z
            }
        };
        peer.send_compressed(self.last.len(), compressed, binary);
    }

    /// Starts the case once the connection is open; returns the case's
    /// behaviour and result so far.
    pub fn open(&mut self, c: &Compression, peer: &mut Peer) -> (&'static str, String) {
        peer.log.set_enabled_logged(false);
        peer.auto_fragment_size = c.fragment;
        if peer.deflate.is_none() {
            peer.send_close(Some(1000), None);
            return ("UNIMPLEMENTED", "Actual events differ from any expected.".into());
        }
        peer.close_after(f64::from(c.wait));
        if peer.deflate.as_ref().is_some_and(|d| d.compression().0 == 8) {
            no_compressor(peer);
        } else {
            self.send_one(c, peer);
        }
        ("FAILED", format!("Case did not finish within {} seconds.", c.wait))
    }

    /// An echo arrived: checks it, then sends the next message or ends the
    /// case. Returns a new behaviour and result when the case is decided.
    pub fn echo(
        &mut self,
        c: &Compression,
        peer: &mut Peer,
        payload: &Bytes,
        binary: bool,
    ) -> Option<(&'static str, String)> {
        let want_binary = !c.corpus.is_text();
        // A text corpus's echo is decoded before anything is compared: a
        // (binary) message Python 2 cannot decode raises there, and Twisted
        // tears the connection down; the verdict stays what it was.
        if !want_binary && !crate::wire::incoming::python2_decodes(payload) {
            peer.torn_down();
            return None;
        }
        let py = |b: bool| if b { "True" } else { "False" };
        // The fast path compares octets; the figures for a report are only
        // computed when they differ.
        let failure = if binary != want_binary {
            Some(format!(
                "Echo'ed message type differs from what I sent (got binary {}, expected binary {}).",
                py(binary),
                py(want_binary)
            ))
        } else if *payload != self.last {
            let len = if binary { payload.len() } else { payload.iter().filter(|&&b| b & 0xc0 != 0x80).count() };
            if len == c.len {
                Some(format!(
                    "Echo'ed message contents differs from what I sent (got SHA1 {}, expected SHA1 {}).",
                    sha1_hex(payload),
                    sha1_hex(&self.last)
                ))
            } else {
                Some(format!(
                    "Echo'ed message length differs from what I sent (got length {len}, expected length {}).",
                    c.len
                ))
            }
        } else {
            None
        };
        if let Some(result) = failure {
            peer.log.set_enabled_logged(true);
            peer.send_close(Some(1000), None);
            return Some(("FAILED", result));
        }
        if self.sent < c.count {
            self.send_one(c, peer);
            return None;
        }
        self.traffic = Some(peer.traffic);
        peer.log.set_enabled_logged(true);
        peer.send_close(Some(1000), None);
        Some(("OK", "Ok, received all echo'ed messages in time.".into()))
    }
}

fn sha1_hex(data: &[u8]) -> String {
    use sha1::Digest;
    crate::wire::log::hex(&sha1::Sha1::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_hundred_and_sixteen_cases() {
        let all = cases();
        assert_eq!(all.len(), 216);
        assert_eq!(all[0].id, "12.1.1");
        assert_eq!(all[89].id, "12.5.18");
        assert_eq!(all[215].id, "13.7.18");
        let Logic::Compression(c) = &all[215].logic else { panic!() };
        assert_eq!((c.len, c.fragment, c.wait, c.offers.len()), (131_072, 32768, 480, 3));
    }

    #[test]
    fn messages_wrap_around_the_corpus_by_code_points() {
        let c = Compression {
            corpus: Corpus::Html,
            len: 131_072,
            count: 1000,
            wait: 480,
            fragment: 0,
            offers: Vec::new(),
            acceptor: Acceptor::First,
        };
        let mut p = Progress::default();
        let total_points = char_starts(Corpus::Html).len();
        let mut points = 0;
        for _ in 0..5 {
            let m = p.take(&c);
            let text = std::str::from_utf8(&m).expect("whole code points");
            assert_eq!(text.chars().count(), c.len);
            points += c.len;
        }
        assert_eq!(p.next, points % total_points);
    }
}
