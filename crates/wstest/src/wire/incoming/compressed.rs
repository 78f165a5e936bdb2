//! Compressed messages (RFC 7692 §7.2.2), inflated as the reference
//! inflates them: each read's share of a frame's payload is handed to the
//! inflater as it arrives (one `decompress` call per read), and what it
//! inflates to is checked for UTF-8 then. So a frame whose compressed
//! octets are corrupt, or inflate to invalid text, fails the connection
//! (torn down, or 1007) before the rest of the frame comes; a server that
//! then stalls or drops TCP is judged on that.

use autostrada::proto::{FrameHeader, ParsedHeader, apply_mask};
use bytes::Bytes;

use super::super::deflate::MAX_INFLATED;
use super::super::log::FrameInfo;
use super::super::peer::{Peer, State};
use super::Delivery;
use super::text::{invalid_utf8_reason, utf8_reject_index};

impl Peer {
    /// The data frame `h` belongs to a compressed message: it continues
    /// one, or starts one (RSV1 alone, deflate agreed).
    pub(super) fn message_is_compressed(&self, h: &FrameHeader) -> bool {
        if h.opcode.is_control() {
            return false;
        }
        match self.incoming.message.as_ref() {
            Some(m) => m.compressed,
            None => h.rsv == 4 && self.deflate.is_some(),
        }
    }

    /// The compressed frame at the front of the buffer is not whole yet:
    /// what arrived of its payload since the last look is inflated onto
    /// the message, and checked if it is text.
    pub(super) fn inflate_so_far(&mut self, parsed: &ParsedHeader) {
        let h = &parsed.header;
        let arrived = self.incoming.buf.len().saturating_sub(parsed.header_len);
        let from = self.incoming.frame_checked;
        if arrived <= from {
            return;
        }
        if from == 0 && self.incoming.message.is_none() {
            self.begin_message(h);
            self.incoming.frame_began = true;
        }
        let start = parsed.header_len;
        let mut part = self.incoming.buf[start + from..start + arrived].to_vec();
        if let Some(key) = h.mask {
            apply_mask(&mut part, key, from);
        }
        let (Some(deflate), Some(message)) = (self.deflate.as_mut(), self.incoming.message.as_mut()) else { return };
        if from == 0 {
            self.incoming.frame_inflated_from = message.data.len();
        }
        self.incoming.frame_checked = arrived;
        let before = message.data.len();
        let inflated = deflate.inflate(&part, &mut message.data);
        let new = message.data.len() - before;
        // The reference counts each read's octets as it takes them.
        if self.state == State::Open {
            self.traffic.incoming.websocket += part.len() as u64;
            self.traffic.incoming.app += new as u64;
        }
        if inflated.is_err() {
            self.inflate_failed();
            return;
        }
        if message.binary {
            return;
        }
        // Text that failed before fails again with every read of it (which,
        // while closing, drops TCP), as in `text.rs`.
        let failed =
            self.incoming.frame_bad || message.bad_utf8 || self.incoming.utf8.feed(&message.data[before..]).is_err();
        if failed {
            self.incoming.frame_bad = true;
            let at = utf8_reject_index(&message.data);
            self.fail(1007, &invalid_utf8_reason(at));
        }
    }

    /// A compressed frame is whole: its payload's octets from `checked` on
    /// (the rest were inflated as they arrived, and their text failed if
    /// `frame_bad`) are inflated onto the message, then checked like any
    /// other; the message ends with a final frame.
    pub(super) fn on_compressed_frame(
        &mut self,
        info: &FrameInfo,
        payload: &Bytes,
        (checked, frame_bad): (usize, bool),
        open: bool,
    ) -> Option<Delivery> {
        let deflate = self.deflate.as_mut()?;
        let message = self.incoming.message.as_mut()?;
        let before = message.data.len();
        let frame_from = if checked > 0 { self.incoming.frame_inflated_from.min(before) } else { before };
        let mut inflated = deflate.inflate(&payload[checked..], &mut message.data);
        if inflated.is_ok() && info.fin {
            inflated = deflate.finish(&mut message.data);
        }
        self.log.rx_frame(info, &message.data[frame_from..]);
        if open {
            self.traffic.incoming.app += (message.data.len() - before) as u64;
        }
        let binary = message.binary;
        let utf8_ok =
            binary || (!message.bad_utf8 && !frame_bad && self.incoming.utf8.feed(&message.data[before..]).is_ok());
        if inflated.is_err() {
            self.inflate_failed();
            return None;
        }
        if !utf8_ok {
            let at = self.incoming.message.as_ref().map_or(0, |m| utf8_reject_index(&m.data));
            self.invalid_utf8(info.fin, at);
            return None;
        }
        if !info.fin {
            return None;
        }
        let data = self.incoming.message.take()?.data.freeze();
        self.message_done(data, binary, open)
    }

    /// Inflating failed. Past wstest's own limit the connection is failed
    /// as for an oversized frame, and the report says our limit did it
    /// (the reference has none: it would inflate on). Otherwise the data
    /// was invalid and the reference's inflater raises (zlib.error, e.g.
    /// "invalid distance too far back"; the reference's fuzzingserver on
    /// the `deflate-keeps-context` / `deflate-ignores-window-bits` fixture
    /// clients, 13.2.1 and 13.3.1): the connection is torn down.
    fn inflate_failed(&mut self) {
        let len = self.incoming.message.as_ref().map_or(0, |m| m.data.len());
        if len > MAX_INFLATED {
            self.incoming.message = None;
            self.incoming.over_limit = Some(len as u64);
            self.violation(1009, "message larger than wstest's limit of 64 MiB");
        } else {
            self.torn_down();
        }
    }
}
