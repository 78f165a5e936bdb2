//! What the wire peer does with received octets: decode frames with the
//! lenient codec, enforce RFC 6455 the way the reference fuzzer does (a
//! violation fails the connection with 1002, bad UTF-8 with 1007), answer
//! pings, run the closing handshake, and hand complete messages and pongs to
//! the case.

use autostrada::proto::{FrameHeader, OpCode, ParsedHeader, Role, Utf8Validator, apply_mask};
use bytes::{Buf, Bytes, BytesMut};

mod compressed;
mod text;

pub(crate) use text::python2_decodes;
use text::utf8_reject_index;

use super::frame_spec::FrameSpec;
use super::log::FrameInfo;
use super::peer::{Peer, State};

/// The receiving side's decoder state.
#[derive(Debug, Default)]
pub(crate) struct Incoming {
    buf: BytesMut,
    /// A fragmented or compressed message in progress.
    message: Option<Partial>,
    utf8: Utf8Validator,
    /// Set after a close frame, a violation that dropped TCP or wstest's
    /// own size limit: nothing more is decoded.
    stopped: bool,
    /// The frame at the front of the buffer broke a header rule and failed
    /// the connection already; it is processed all the same. (While its
    /// header is incomplete, only until more octets come: they have it
    /// judged again, as the reference re-reads an incomplete header.)
    excused: bool,
    /// The buffer's length when an incomplete header broke a rule.
    judged_at: Option<usize>,
    /// The message length that went past [`MAX_MESSAGE`], if one did.
    over_limit: Option<u64>,
    /// Payload octets of the frame at the front of the buffer that were
    /// taken before the frame was whole: checked for UTF-8, if it is
    /// uncompressed text (`text.rs`), inflated (and checked), if it is
    /// compressed (`compressed.rs`).
    frame_checked: usize,
    /// What of that frame was checked is not UTF-8 (the connection failed).
    frame_bad: bool,
    /// Where the front frame's inflated octets begin in its message's data,
    /// once some of them were inflated before the frame was whole.
    frame_inflated_from: usize,
    /// The front frame began its message when its first octets were taken
    /// (no message was in progress before it).
    frame_began: bool,
}

/// A data message being received. As in the reference, any data frame
/// begins one when none is in progress (after a violation, a continuation
/// or a reserved opcode too), and continues the one in progress otherwise
/// (after a violation, a text or binary frame too): its first frame alone
/// decides whether it is compressed and whether it is checked for UTF-8.
#[derive(Debug)]
struct Partial {
    /// Not checked for UTF-8: begun by anything but a text frame.
    binary: bool,
    /// RSV1 on its first frame: permessage-deflate compressed.
    compressed: bool,
    /// Octets so far (inflated, if compressed).
    data: BytesMut,
    /// Its text was found to be invalid UTF-8 (the connection failed).
    bad_utf8: bool,
}

/// What of the frame at the front of the buffer was taken before it was
/// whole.
#[derive(Debug, Clone, Copy)]
struct Taken {
    /// Payload octets taken (checked for UTF-8, or inflated).
    octets: usize,
    /// Their text was not UTF-8 (the connection failed).
    bad: bool,
    /// The frame began its message.
    began: bool,
}

/// Something to hand to the case.
#[derive(Debug)]
pub enum Delivery {
    /// A complete data message.
    Message(Bytes, bool),
    /// A pong.
    Pong(Bytes),
}

/// Frames and messages wstest takes, at most (4× the suite's largest).
pub const MAX_MESSAGE: usize = 64 << 20;

/// Pings are answered only while fewer unsent octets than this wait for
/// the socket: a server that floods pings and never reads gets no more.
const MAX_UNSENT_FOR_PONG: usize = 1 << 20;

/// At most this many octets per socket read, like the reference's transport
/// (so `rxOctetStats` has the same shape).
pub(crate) const READ_CHUNK: usize = 64 * 1024;

/// The read buffer is sized up front for a frame of at most this length (the
/// suite's largest echo, 16 MiB, plus its header); a longer announced length
/// grows the buffer only as octets arrive, so a server that merely claims a
/// huge frame cannot make us allocate for it.
const MAX_PRESIZE: usize = (16 << 20) + 16;

/// Feeds `data` to a fresh open connection's decoder, in chunks, for the
/// fuzz targets (`fuzz/`): bit 0 of `control` picks the role we play, bit 1
/// permessage-deflate, bits 2–3 the context takeover of each side. Each
/// chunk is a length octet followed by that many octets.
#[doc(hidden)]
pub fn decode_for_fuzzing(control: u8, data: &[u8]) {
    let role = if control & 1 == 0 { Role::Client } else { Role::Server };
    let mut peer = Peer::new(role);
    peer.state = State::Open;
    if control & 2 != 0 {
        let agreement = super::deflate::Agreement {
            server_no_context_takeover: control & 4 != 0,
            client_no_context_takeover: control & 8 != 0,
            server_max_window_bits: 9 + (control >> 4) % 7,
            client_max_window_bits: 15,
        };
        peer.deflate = Some(super::deflate::Deflate::new(agreement, role));
    }
    let mut rest = data;
    while let Some((&len, tail)) = rest.split_first() {
        let take = usize::from(len).min(tail.len());
        peer.receive(&tail[..take]);
        rest = &tail[take..];
        while peer.next_delivery().is_some() {}
        while peer.pop_unit().is_some() {}
    }
}

/// Close codes the reference fuzzer accepts from a peer (it predates the
/// registration of 1012–1014).
fn close_code_ok(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1011 | 3000..=4999)
}

/// The rules of a whole header's extended length, checked once the header
/// is in (after those of [`Peer::check_start`]).
fn check_length(parsed: &ParsedHeader) -> Vec<String> {
    let mut broken = Vec::new();
    if parsed.header.payload_len > i64::MAX as u64 {
        broken.push("invalid data frame length (>2^63)".into());
    }
    if !parsed.length_is_minimal() {
        broken.push("invalid data frame length (not using minimal length encoding)".into());
    }
    broken
}

impl Peer {
    /// Octets arrived from the socket.
    pub(crate) fn receive(&mut self, data: &[u8]) {
        self.log.read(data);
        self.stats.rx_octets.add(data.len() as u64);
        self.count_read(data.len());
        if self.state != State::Closed && !self.incoming.stopped {
            self.incoming.buf.extend_from_slice(data);
        }
    }

    /// The buffer the next socket read appends to (then call
    /// [`Peer::note_read`]), with room for the whole frame being received so
    /// a large frame lands in one allocation and is never copied again.
    pub(crate) fn read_buffer(&mut self) -> &mut BytesMut {
        let frame = FrameHeader::parse(&self.incoming.buf)
            .filter(|_| !self.incoming.stopped)
            .map_or(0, |p| p.header_len.saturating_add(usize::try_from(p.header.payload_len).unwrap_or(usize::MAX)));
        let room = frame.min(MAX_PRESIZE).saturating_sub(self.incoming.buf.len()).max(READ_CHUNK);
        self.incoming.buf.reserve(room);
        &mut self.incoming.buf
    }

    /// The buffer a read of the upgrade request appends to (then call
    /// [`Peer::note_read`]): room for one read and no more. What it holds is
    /// no frame yet, so its first octets size nothing; read as a frame
    /// header, ten octets from a client that has not even finished asking
    /// for a case would reserve 16 MiB.
    pub(crate) fn head_buffer(&mut self) -> &mut BytesMut {
        self.incoming.buf.reserve(READ_CHUNK);
        &mut self.incoming.buf
    }

    /// Records the octets a read appended to [`Peer::read_buffer`] from
    /// offset `from` on (dropped again once the connection is closed).
    pub(crate) fn note_read(&mut self, from: usize) {
        // Nothing may consume the buffer between the read and this call; if
        // something did, log what is left rather than panic on a peer's input.
        debug_assert!(from <= self.incoming.buf.len(), "the read buffer was consumed before its octets were logged");
        let from = from.min(self.incoming.buf.len());
        let data = &self.incoming.buf[from..];
        self.log.read(data);
        self.stats.rx_octets.add(data.len() as u64);
        self.count_read(data.len());
        // Nothing more is decoded once the connection is closed, or the
        // peer's close (or a violation) stopped decoding: a peer that keeps
        // sending must not fill our memory meanwhile.
        if self.state == State::Closed || self.incoming.stopped {
            self.incoming.buf.truncate(from);
        }
    }

    /// Counts a read's octets at wire level: before the connection opened,
    /// or while it is open (not once closing).
    fn count_read(&mut self, n: usize) {
        match self.state {
            State::Connecting => self.traffic.incoming.preopen += n as u64,
            State::Open => self.traffic.incoming.wire += n as u64,
            _ => {}
        }
    }

    /// Decoded octets waiting in the buffer (used by the opening handshake).
    pub(crate) fn take_buffer(&mut self) -> BytesMut {
        std::mem::take(&mut self.incoming.buf)
    }

    /// Puts octets back in front of the decoder (after the handshake).
    pub(crate) fn restore_buffer(&mut self, buf: BytesMut) {
        self.incoming.buf = buf;
    }

    /// The length of a message that went past wstest's limit, if one did:
    /// the case was cut short by our limit, not by the server's behaviour.
    #[must_use]
    pub fn over_limit(&self) -> Option<u64> {
        self.incoming.over_limit
    }

    fn violation(&mut self, code: u16, reason: &str) {
        self.incoming.stopped = true;
        self.fail(code, reason);
    }

    /// Decodes until something is to be handed to the case, or more octets are needed.
    pub(crate) fn next_delivery(&mut self) -> Option<Delivery> {
        loop {
            if self.incoming.stopped || !matches!(self.state, State::Open | State::Closing) {
                return None;
            }
            let [b0, b1, ..] = self.incoming.buf[..] else { return None };
            // New octets behind an incomplete header that broke a rule: it
            // is judged again (a timer firing meanwhile does not).
            if self.incoming.judged_at.is_some_and(|at| self.incoming.buf.len() > at) {
                self.incoming.judged_at = None;
                self.incoming.excused = false;
            }
            // As the reference: a header's first two octets are judged as
            // soon as they are in, and again at every read until the rest of
            // the header is (so a header that breaks a rule and arrives in
            // parts fails the connection, then drops TCP).
            let parsed = FrameHeader::parse(&self.incoming.buf);
            let broken = if self.incoming.excused {
                Vec::new()
            } else {
                let mut broken = self.check_start(b0, b1);
                broken.extend(parsed.as_ref().map(check_length).unwrap_or_default());
                broken
            };
            for reason in &broken {
                // As the reference's fuzzer (failByDrop off, autobahn.md
                // §6.6): a violation while open sends our close, and then
                // this very frame is processed all the same, as are the ones
                // after it while closing (its protocolViolation returns False
                // "to continue to later receive the closing handshake
                // reply"): an unmasked pong from a client is still recorded
                // (2.1), an unmasked close still answers ours. A violation
                // while closing drops TCP, and nothing more is decoded; so
                // does a second rule broken by the same header (a pong with
                // a 64-bit length of 5 breaks two).
                self.fail(1002, reason);
                if self.state != State::Closing {
                    self.incoming.stopped = true;
                    return None;
                }
                self.incoming.excused = true;
            }
            let Some(parsed) = parsed else {
                if self.incoming.excused {
                    self.incoming.judged_at = Some(self.incoming.buf.len());
                }
                return None;
            };
            let h = parsed.header;
            // Far above the suite's largest message (16 MiB): a peer that
            // announces or assembles more is failed, not buffered (a control
            // frame only gets this far so long after a violation).
            // (The message before this frame: a compressed frame's octets
            // inflated as they arrived are in it already.)
            let so_far = match self.incoming.message.as_ref() {
                Some(m) if !self.incoming.frame_began => {
                    if m.compressed && self.incoming.frame_checked > 0 {
                        self.incoming.frame_inflated_from
                    } else {
                        m.data.len()
                    }
                }
                _ => 0,
            } as u64;
            if h.payload_len.saturating_add(so_far) > MAX_MESSAGE as u64 {
                // A frame that broke a header rule first (a length with its
                // top bit set, say) failed the connection already: the
                // reference reads on, taking all that comes as its payload,
                // until the closing handshake times out or the peer goes.
                // So do we, without keeping it: nothing more is decoded.
                if self.incoming.excused {
                    self.incoming.stopped = true;
                    return None;
                }
                self.incoming.over_limit = Some(h.payload_len.saturating_add(so_far));
                self.violation(1009, "message larger than wstest's limit of 64 MiB");
                return None;
            }
            let len = h.payload_len as usize;
            if self.incoming.buf.len() < parsed.header_len + len {
                // As the reference: what arrived of a data frame is taken
                // (inflated, checked for UTF-8) before the rest comes.
                if self.message_is_compressed(&h) {
                    self.inflate_so_far(&parsed);
                } else {
                    self.take_plain_so_far(&parsed);
                }
                return None;
            }
            let checked = Taken {
                octets: std::mem::take(&mut self.incoming.frame_checked),
                bad: std::mem::take(&mut self.incoming.frame_bad),
                began: std::mem::take(&mut self.incoming.frame_began),
            };
            self.incoming.buf.advance(parsed.header_len);
            self.incoming.excused = false;
            self.incoming.judged_at = None;
            let mut payload = self.incoming.buf.split_to(len);
            if let Some(key) = h.mask {
                apply_mask(&mut payload, key, 0);
            }
            let payload = payload.freeze();
            let op = h.opcode.bits();
            self.stats.rx_frames.add(u64::from(op));
            if h.opcode.is_control() {
                self.log.rx_frame(&FrameInfo { opcode: op, fin: h.fin, rsv: h.rsv, mask: h.mask }, &payload);
            }
            match h.opcode {
                OpCode::Ping => {
                    // A server that pings without reading our pongs would
                    // otherwise have us queue them without end.
                    if self.state == State::Open && self.unsent() < MAX_UNSENT_FOR_PONG {
                        self.send_frame(FrameSpec::new(10, payload));
                    }
                }
                OpCode::Pong => return Some(Delivery::Pong(payload)),
                OpCode::Close => {
                    self.on_close_payload(&payload);
                    // A server drops TCP at a close; a client waits for the
                    // server to, and decodes what comes meanwhile as the
                    // reference does (it reads on until its state is
                    // CLOSED): a message sent after the server's close is
                    // still recorded.
                    if self.state == State::Closed {
                        self.incoming.stopped = true;
                        return None;
                    }
                }
                // (A reserved data opcode gets this far only after its
                // violation failed the connection: it is a data frame like
                // any other there, its message delivered to no one.)
                OpCode::Reserved(_) if h.opcode.is_control() => {}
                _ => {
                    if let Some(d) = self.on_data_frame(h, payload, checked) {
                        return Some(d);
                    }
                }
            }
        }
    }

    /// RFC 6455's rules for a header, as the reference fuzzer applies them
    /// to its first two octets `b0` and `b1`: every rule the header breaks,
    /// in the order it checks them (the RSV bits, the mask, the opcode
    /// against the message state), since each one fails the connection
    /// again. The rules of the extended length follow in [`check_length`].
    fn check_start(&self, b0: u8, b1: u8) -> Vec<String> {
        // The reasons (our close frame's, and the report's localCloseReason)
        // are the reference's own words, numbers included.
        let (fin, rsv, opcode) = (b0 & 0x80 != 0, (b0 >> 4) & 7, OpCode::from_bits(b0 & 0x0f));
        let (masked, len7) = (b1 & 0x80 != 0, b1 & 0x7f);
        // (A text or binary frame taken as it arrived began its message
        // then: what counts is whether one was in progress before it.)
        let in_message = self.incoming.message.is_some() && !self.incoming.frame_began;
        let deflate = self.deflate.is_some();
        // RFC 7692 §6: with permessage-deflate, RSV1 marks the first frame of
        // a compressed message; nothing else may set it, or any other bit.
        let rsv1 = rsv == 4 && deflate;
        let mut broken = Vec::new();
        if rsv != 0 && !rsv1 {
            // (Worded so even when an extension was agreed.)
            broken.push(format!("RSV = {rsv} and no extension negotiated"));
        }
        if masked && self.role == Role::Client {
            broken.push("masked server-to-client frame".into());
        }
        if !masked && self.role == Role::Server {
            broken.push("unmasked client-to-server frame".into());
        }
        let op = opcode.bits();
        let rules: Vec<(bool, String)> = if opcode.is_control() {
            vec![
                (!fin, "fragmented control frame".into()),
                // The 7-bit length field: a control frame whose length takes
                // the extended form breaks it, however short.
                (len7 > 125, "control frame with payload length > 125 octets".into()),
                (matches!(opcode, OpCode::Reserved(_)), format!("control frame using reserved opcode {op}")),
                // RFC 6455 §5.5.1: a close's body, if any, starts with a
                // two-octet code.
                (opcode == OpCode::Close && len7 == 1, "received close control frame with payload len 1".into()),
                (rsv1, "received compressed control frame [permessage-deflate]".into()),
            ]
        } else {
            let continuation = opcode == OpCode::Continuation;
            vec![
                (matches!(opcode, OpCode::Reserved(_)), format!("data frame using reserved opcode {op}")),
                (continuation && !in_message, "received continuation data frame outside fragmented message".into()),
                (
                    !continuation && in_message,
                    "received non-continuation data frame while inside fragmented message".into(),
                ),
                // Any data frame inside a message: a text or binary one
                // there breaks this rule too, on top of the one above.
                (
                    rsv1 && in_message,
                    "received continuation data frame with compress bit set [permessage-deflate]".into(),
                ),
            ]
        };
        broken.extend(rules.into_iter().filter(|(b, _)| *b).map(|(_, reason)| reason));
        broken
    }

    /// A data frame begins a message (none is in progress).
    fn begin_message(&mut self, h: &FrameHeader) {
        // As the reference: compressed when deflate was agreed and the RSV
        // bits are RSV1 alone. Past a violation (RSV1 with nothing agreed,
        // RSV1 with RSV2), the payload is taken as it is: a text one is
        // then checked for UTF-8 like any other.
        let compressed = h.rsv == 4 && self.deflate.is_some();
        self.incoming.message =
            Some(Partial { binary: h.opcode != OpCode::Text, compressed, data: BytesMut::new(), bad_utf8: false });
        self.incoming.utf8.reset();
    }

    /// `checked`: what of the frame's payload was taken as it arrived.
    fn on_data_frame(&mut self, h: FrameHeader, payload: Bytes, checked: Taken) -> Option<Delivery> {
        let Taken { octets: checked, bad: frame_bad, began } = checked;
        let open = self.state == State::Open;
        // (Begun already, if at all, when its first octets were taken.)
        let began = began || (checked == 0 && self.incoming.message.is_none());
        if began && checked == 0 {
            self.begin_message(&h);
        }
        let (binary, compressed) = self.incoming.message.as_ref().map(|m| (m.binary, m.compressed))?;
        // What was taken as it arrived was counted then.
        let rest = checked.min(payload.len());
        if open {
            self.traffic.incoming.frames += 1;
            self.traffic.incoming.websocket += (payload.len() - rest) as u64;
        }
        let info = FrameInfo { opcode: h.opcode.bits(), fin: h.fin, rsv: h.rsv, mask: h.mask };
        if compressed {
            return self.on_compressed_frame(&info, &payload, (rest, frame_bad), open);
        }
        self.log.rx_frame(&info, &payload);
        if open {
            self.traffic.incoming.app += (payload.len() - rest) as u64;
        }
        if !binary && (self.bad_utf8_so_far() || frame_bad || self.incoming.utf8.feed(&payload[rest..]).is_err()) {
            let before = self.incoming.message.as_ref().map_or(&[][..], |m| &m.data[..]);
            let at = utf8_reject_index(&[before, &payload].concat());
            self.invalid_utf8(h.fin, at);
            return None;
        }
        let data = if h.fin && began {
            // An unfragmented message: hand over the frame's payload as it is.
            self.incoming.message = None;
            payload
        } else {
            let message = self.incoming.message.as_mut()?;
            message.data.extend_from_slice(&payload);
            if !h.fin {
                return None;
            }
            self.incoming.message.take()?.data.freeze()
        };
        self.message_done(data, binary, open)
    }

    /// Where the reference's protocol code raises, Twisted tears the
    /// connection down under it, with no close frame: autobahn never failed
    /// nor dropped anything itself (unless it had before), so its report
    /// reads droppedByMe and failedByMe false and the reason of any
    /// connection lost while open (autobahn.md §2.7). We drop TCP at once
    /// and record the same.
    pub(crate) fn torn_down(&mut self) {
        self.incoming.stopped = true;
        if self.state == State::Closed {
            return;
        }
        self.drop_tcp(true);
        self.close.dropped_by_me = false;
        self.close.was_not_clean_reason = Some(super::peer::PEER_DROPPED.into());
    }

    /// A message is complete: its UTF-8 must be too.
    fn message_done(&mut self, data: Bytes, binary: bool, open: bool) -> Option<Delivery> {
        if !binary && self.incoming.utf8.finish().is_err() {
            // The reference checks this at the message's last frame: a
            // failure like any other, and decoding goes on (its close reply
            // is the peer's, say), as after invalid_utf8.
            let reason = format!(
                "UTF-8 text message payload ended within Unicode code point at payload octet index {}",
                data.len()
            );
            self.fail(1007, &reason);
            return None;
        }
        if open {
            self.traffic.incoming.messages += 1;
        }
        (!self.close.failed_by_me).then_some(Delivery::Message(data, binary))
    }

    /// A close frame's payload. As the reference's onCloseFrame (autobahn.md
    /// §2.7): the peer's code is recorded before it is judged, and a close
    /// that breaks a rule fails the connection and is then processed all
    /// the same: while open, our close goes out and the peer's counts as its
    /// reply (clean; as server we drop TCP); while closing, TCP is dropped.
    /// So a client that echoes an invalid code in 7.9.x gets WRONG CODE.
    fn on_close_payload(&mut self, payload: &[u8]) {
        let code = match payload {
            [hi, lo, ..] => Some(u16::from_be_bytes([*hi, *lo])),
            _ => None,
        };
        // (A body of one octet failed the connection at the header.)
        self.close.remote_close_code = code;
        if let Some(code) = code.filter(|&c| !close_code_ok(c)) {
            self.fail(1002, &format!("invalid close code {code}"));
        }
        let rest = payload.get(2..).unwrap_or_default();
        let reason = match std::str::from_utf8(rest) {
            Ok(r) => (!rest.is_empty()).then(|| r.to_owned()),
            // The reference fails the connection only where its validator
            // meets an octet that cannot be UTF-8 there (a reason that just
            // ends inside a character passes), then decodes the reason with
            // Python 2's codec, which takes encoded surrogates and raises on
            // anything else that is not UTF-8, a cut last character too.
            // (Where it decodes, the reference's reason is that lenient
            // decoding; ours stays empty.)
            Err(_) => {
                if self.state != State::Closed && Utf8Validator::new().feed(rest).is_err() {
                    self.fail(1007, "invalid close reason (non-UTF-8 payload)");
                }
                if !python2_decodes(rest) {
                    self.torn_down();
                    return;
                }
                None
            }
        };
        self.on_close_frame(code, reason);
    }
}
