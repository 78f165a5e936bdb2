//! When a handshake head that is still arriving is worth parsing again.
//!
//! Parsing from the start after every read makes a peer that sends its
//! head an octet at a time cost work quadratic in the head's size (a
//! 16 KiB head in 16,384 reads is 134 million octets scanned, and the
//! limit is configurable). [`HeadProgress`] keeps that linear: a head can
//! only end on an empty line, so between those it is parsed again only
//! when what has arrived has doubled, which still refuses what is not
//! HTTP at all on the first read.

use super::HandshakeLimits;

/// Tracks one head as it arrives and says when to parse it: on its first
/// octets, when the octets that came since the last call hold an empty line
/// after the first line's start (`\n\n` or `\n\r\n`: where a head ends),
/// when it has doubled since the last parse, and once it is over the size
/// limit (so that the parse refuses it). Empty lines before the first line
/// are skipped by the parser and do not count.
///
/// ```
/// use autostrada::proto::handshake::{HandshakeLimits, HeadProgress};
///
/// let head = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
/// let limits = HandshakeLimits::default();
/// let mut progress = HeadProgress::default();
/// // Arriving an octet at a time, it is parsed a handful of times (the
/// // last when its empty line has come), not 37.
/// let parsed_at: Vec<usize> = (1..=head.len()).filter(|&n| progress.worth_parsing(&head[..n], &limits)).collect();
/// assert_eq!(parsed_at, [1, 2, 4, 8, 16, 32, 37]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct HeadProgress {
    /// How much of the head the last call saw.
    scanned: usize,
    /// Where the first line starts, once an octet other than CR or LF came.
    start: Option<usize>,
    /// The head's length at the last parse this advised (0: none yet).
    parsed: usize,
}

impl HeadProgress {
    /// Whether to parse `buf` (the head so far: what the last call saw and
    /// what came since) now. Call it after every read; after a head has
    /// been taken off the front of the buffer, start a new `HeadProgress`.
    pub fn worth_parsing(&mut self, buf: &[u8], limits: &HandshakeLimits) -> bool {
        let new = self.scanned.min(buf.len());
        self.scanned = buf.len();
        if self.start.is_none() {
            self.start = buf[new..].iter().position(|b| !matches!(b, b'\r' | b'\n')).map(|i| new + i);
        }
        // Two octets back: an empty line's `\n\r\n` may straddle two reads.
        let ends = self.start.is_some_and(|start| {
            let seen = &buf[new.saturating_sub(2).max(start)..];
            seen.windows(2).any(|w| w == b"\n\n") || seen.windows(3).any(|w| w == b"\n\r\n")
        });
        let parse = self.parsed == 0 || ends || buf.len() >= 2 * self.parsed || buf.len() > limits.max_head_size;
        if parse {
            self.parsed = buf.len();
        }
        parse
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parses(head: &[u8], step: usize) -> Vec<usize> {
        let limits = HandshakeLimits::default();
        let mut progress = HeadProgress::default();
        (1..=head.len().div_ceil(step))
            .map(|i| (i * step).min(head.len()))
            .filter(|&n| progress.worth_parsing(&head[..n], &limits))
            .collect()
    }

    #[test]
    fn a_head_sent_an_octet_at_a_time_is_parsed_at_its_end_and_as_it_doubles() {
        let mut head = b"GET / HTTP/1.1\r\nHost: example.com\r\n".to_vec();
        head.extend(b"X-Filler: abcdefghijklmnopqrstuvwxyz\r\n".repeat(200));
        head.extend(b"\r\n");
        let at = parses(&head, 1);
        assert_eq!(at.last(), Some(&head.len()), "parsed once its empty line came");
        assert!(at.len() <= 16, "{} parses: {at:?}", at.len());
    }

    #[test]
    fn an_empty_line_split_across_reads_is_seen() {
        for head in [&b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"[..], b"GET / HTTP/1.1\nHost: a\n\n"] {
            for step in 1..=4 {
                assert_eq!(parses(head, step).last(), Some(&head.len()), "step {step}");
            }
        }
    }

    #[test]
    fn leading_empty_lines_do_not_count_as_ends() {
        let newlines = b"\r\n".repeat(4000);
        let at = parses(&newlines, 1);
        assert!(at.len() <= 16, "{} parses", at.len());
    }

    #[test]
    fn a_head_past_the_limit_is_parsed_so_that_it_is_refused() {
        let limits = HandshakeLimits { max_head_size: 100, max_headers: 64 };
        let mut progress = HeadProgress::default();
        let head =
            b"GET / HTTP/1.1\r\nX: ".iter().copied().chain(std::iter::repeat(b'a')).take(101).collect::<Vec<_>>();
        assert!(progress.worth_parsing(&head[..1], &limits));
        assert!(progress.worth_parsing(&head[..60], &limits), "doubled");
        assert!(!progress.worth_parsing(&head[..100], &limits), "neither doubled nor over");
        assert!(progress.worth_parsing(&head, &limits), "over the limit");
    }
}
