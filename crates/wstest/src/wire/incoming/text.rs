//! Text: the UTF-8 checks of received text messages, as the reference
//! makes them. Its validator reads each read's octets as they arrive, not
//! whole frames: a frame whose arrived part is not UTF-8 fails the
//! connection (1007) before the rest of it comes, and each further part
//! of it that arrives fails it again (which, while closing, drops TCP).
//! (A compressed frame's octets are inflated as they arrive, and checked
//! then: `compressed.rs`.)

use autostrada::proto::{ParsedHeader, apply_mask};

use super::super::peer::{Peer, State};

impl Peer {
    /// The uncompressed data frame at the front of the buffer is not whole
    /// yet: what arrived of its payload since the last look is taken as the
    /// reference takes each read's share (counted while open, and checked,
    /// if it is text). Compressed frames: `compressed.rs`.
    pub(super) fn take_plain_so_far(&mut self, parsed: &ParsedHeader) {
        let h = &parsed.header;
        let arrived = self.incoming.buf.len().saturating_sub(parsed.header_len);
        let from = self.incoming.frame_checked;
        if h.opcode.is_control() || arrived <= from {
            return;
        }
        let start = parsed.header_len;
        if from == 0 && self.incoming.message.is_none() {
            self.begin_message(h);
            self.incoming.frame_began = true;
        }
        self.incoming.frame_checked = arrived;
        if self.state == State::Open {
            self.traffic.incoming.websocket += (arrived - from) as u64;
            self.traffic.incoming.app += (arrived - from) as u64;
        }
        let text = self.incoming.message.as_ref().is_some_and(|m| !m.binary);
        if !text {
            return;
        }
        // A frame adds to the message so far, or starts one.
        let continuing = !self.incoming.frame_began;
        let bad_before = self.incoming.frame_bad || (continuing && self.bad_utf8_so_far());
        // Unmasked (a server's frames), the new octets are read where they
        // lie; masked, they are unmasked in a copy.
        let new = &self.incoming.buf[start + from..start + arrived];
        let failed = bad_before
            || match h.mask {
                Some(key) => {
                    let mut part = new.to_vec();
                    apply_mask(&mut part, key, from);
                    self.incoming.utf8.feed(&part).is_err()
                }
                None => self.incoming.utf8.feed(new).is_err(),
            };
        if failed {
            self.incoming.frame_bad = true;
            let mut so_far =
                self.incoming.message.as_ref().filter(|_| continuing).map_or_else(Vec::new, |m| m.data.to_vec());
            let mut frame = self.incoming.buf[start..start + arrived].to_vec();
            if let Some(key) = h.mask {
                apply_mask(&mut frame, key, 0);
            }
            so_far.extend_from_slice(&frame);
            self.fail(1007, &invalid_utf8_reason(utf8_reject_index(&so_far)));
        }
    }

    /// A text message's octets are not UTF-8. As the reference's fuzzer
    /// (failByDrop off; autobahn.md §6.6): the connection fails with 1007
    /// (our close goes out while open; TCP is dropped while closing), and
    /// decoding goes on: the frame's end is checked too, and the text is
    /// still invalid there, so at a final frame (or at the message's next
    /// frame) that is a second failure, which drops TCP at once.
    /// `at`: the message's first octet that cannot be UTF-8 there.
    pub(super) fn invalid_utf8(&mut self, fin: bool, at: usize) {
        let reason = invalid_utf8_reason(at);
        self.fail(1007, &reason);
        if fin && self.state == State::Closing {
            self.fail(1007, &reason);
        }
        if let Some(m) = self.incoming.message.as_mut() {
            m.bad_utf8 = true;
        }
    }

    /// The message in progress already failed its UTF-8 check.
    pub(super) fn bad_utf8_so_far(&self) -> bool {
        self.incoming.message.as_ref().is_some_and(|m| m.bad_utf8)
    }
}

/// The reference's reason for text that is not UTF-8 from octet `at` of
/// its message on.
pub(super) fn invalid_utf8_reason(at: usize) -> String {
    format!("encountered invalid UTF-8 while processing text message at payload octet index {at}")
}

/// Where a validator that reads `octets` one at a time (the reference's
/// DFA) rejects them: the first octet that no UTF-8 text can have there.
/// That is the start of the invalid sequence when its first octet can
/// begin no character, else the octet after the valid part of it (`E0 80`:
/// the `80`). `octets.len()` when they are UTF-8 or end inside a character.
pub(super) fn utf8_reject_index(octets: &[u8]) -> usize {
    let Err(e) = std::str::from_utf8(octets) else { return octets.len() };
    let (at, Some(len)) = (e.valid_up_to(), e.error_len()) else { return octets.len() };
    if (0xc2..=0xf4).contains(&octets[at]) { at + len } else { at }
}

/// Python 2's UTF-8 codec decodes `octets` without raising: they are UTF-8
/// once encoded surrogates (U+D800 to U+DFFF, which that codec takes) are
/// allowed.
pub(crate) fn python2_decodes(mut octets: &[u8]) -> bool {
    loop {
        let Err(e) = std::str::from_utf8(octets) else { return true };
        let at = e.valid_up_to();
        match octets[at..] {
            [0xED, 0xA0..=0xBF, 0x80..=0xBF, ..] => octets = &octets[at + 3..],
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::python2_decodes;

    /// The octet the reference's validator stops at.
    #[test]
    fn utf8_is_rejected_where_an_octet_at_a_time_validator_stops() {
        use super::utf8_reject_index as at;
        assert_eq!(at(b"\x80"), 0);
        assert_eq!(at(b"ab\xc0\x80"), 2);
        assert_eq!(at(b"ab\xe0\x80"), 3);
        assert_eq!(at(b"\xf0\x90\x80A"), 3);
        assert_eq!(at(b"\xed\xa0\x80"), 1);
        assert_eq!(at(b"\xf4\x90\x80\x80"), 1);
        assert_eq!(at(b"a\xff"), 1);
        assert_eq!(at(b"ok\xe2\x82"), 4);
    }

    #[test]
    fn python2_decodes_encoded_surrogates_and_nothing_else_invalid() {
        assert!(python2_decodes("κόσμε".as_bytes()));
        assert!(python2_decodes(b"a\xed\xa0\x80b\xed\xbf\xbf"));
        assert!(!python2_decodes(b"\xc3\xa9\xc3"));
        assert!(!python2_decodes(b"Ferm\xe9: \xe9chec"));
        assert!(!python2_decodes(b"\xc0\xaf"));
        assert!(!python2_decodes(b"\xf4\x90\x80\x80"));
    }
}
