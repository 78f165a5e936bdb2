//! One load shape ("cell"): connections × message size × messages in flight,
//! and the kind of payload.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What the messages carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Binary messages of random octets.
    Binary,
    /// Text messages of mixed-script UTF-8 (the server validates them).
    Text,
    /// JSON-like text with permessage-deflate negotiated.
    Deflate,
}

/// One load shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    /// Concurrent connections.
    pub conns: usize,
    /// Octets per message.
    pub size: usize,
    /// Messages each connection keeps in flight (closed loop).
    pub inflight: usize,
    /// Payload kind.
    pub kind: Kind,
}

impl Cell {
    /// Parses `CONNS:SIZE:INFLIGHT[:KIND]`, SIZE with an optional `k`/`m`
    /// suffix (KiB, MiB) and KIND one of `binary` (default), `text`,
    /// `deflate`: `100:1k:16`, `10:64k:4:text`.
    ///
    /// # Errors
    /// A message naming the part that is wrong and the expected form.
    pub fn parse(s: &str) -> Result<Self, String> {
        let form = "expected CONNS:SIZE:INFLIGHT[:binary|text|deflate], e.g. 100:1k:16 or 10:64k:4:text";
        let parts: Vec<&str> = s.split(':').collect();
        if !(3..=4).contains(&parts.len()) {
            return Err(format!("cell {s:?}: {form}"));
        }
        let number = |what: &str, v: &str| -> Result<usize, String> {
            v.parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("cell {s:?}: {what} {v:?} is not a positive number; {form}"))
        };
        let size = parts[1].to_ascii_lowercase();
        let (digits, unit) = match size.strip_suffix('k').or_else(|| size.strip_suffix("kib")) {
            Some(d) => (d, 1024),
            None => match size.strip_suffix('m').or_else(|| size.strip_suffix("mib")) {
                Some(d) => (d, 1 << 20),
                None => (size.trim_end_matches('b'), 1),
            },
        };
        let kind = match parts.get(3).copied().unwrap_or("binary") {
            "binary" => Kind::Binary,
            "text" => Kind::Text,
            "deflate" => Kind::Deflate,
            other => return Err(format!("cell {s:?}: unknown kind {other:?}; {form}")),
        };
        Ok(Self {
            conns: number("connections", parts[0])?,
            size: number("size", digits)? * unit,
            inflight: number("in-flight", parts[2])?,
            kind,
        })
    }

    /// The issue's matrix: connections {1, 100, 500} × size {20 B, 1 KiB,
    /// 16 KiB, 1 MiB} × in flight {1, 16}, binary; text at 1 KiB and 64 KiB;
    /// permessage-deflate at 1 KiB and 64 KiB of JSON-like text.
    #[must_use]
    pub fn default_matrix() -> Vec<Self> {
        let mut cells = Vec::new();
        for conns in [1, 100, 500] {
            for size in [20, 1024, 16 << 10, 1 << 20] {
                for inflight in [1, 16] {
                    cells.push(Self { conns, size, inflight, kind: Kind::Binary });
                }
            }
        }
        for size in [1024, 64 << 10] {
            cells.push(Self { conns: 100, size, inflight: 1, kind: Kind::Text });
        }
        for size in [1024, 64 << 10] {
            cells.push(Self { conns: 100, size, inflight: 1, kind: Kind::Deflate });
        }
        cells
    }
}

/// `1 KiB`, `20 B`, `1 MiB`.
#[must_use]
pub fn size_label(size: usize) -> String {
    if size >= 1 << 20 && size.is_multiple_of(1 << 20) {
        format!("{} MiB", size >> 20)
    } else if size >= 1024 && size.is_multiple_of(1024) {
        format!("{} KiB", size >> 10)
    } else {
        format!("{size} B")
    }
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.conns, size_label(self.size), self.inflight)?;
        match self.kind {
            Kind::Binary => Ok(()),
            Kind::Text => f.write_str(" text"),
            Kind::Deflate => f.write_str(" deflate"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_it_documents() {
        assert_eq!(
            Cell::parse("100:1k:16").unwrap(),
            Cell { conns: 100, size: 1024, inflight: 16, kind: Kind::Binary }
        );
        assert_eq!(Cell::parse("10:64k:4:text").unwrap().size, 64 << 10);
        assert_eq!(Cell::parse("4:1m:1").unwrap().size, 1 << 20);
        assert_eq!(Cell::parse("1:20:1:deflate").unwrap().kind, Kind::Deflate);
        assert_eq!(Cell::parse("1:20b:1").unwrap().size, 20);
    }

    #[test]
    fn errors_name_the_part_and_the_form() {
        let e = Cell::parse("100:1k").unwrap_err();
        assert!(e.contains("CONNS:SIZE:INFLIGHT"), "{e}");
        let e = Cell::parse("0:1k:1").unwrap_err();
        assert!(e.contains("connections \"0\""), "{e}");
        let e = Cell::parse("1:1k:1:json").unwrap_err();
        assert!(e.contains("unknown kind \"json\""), "{e}");
    }

    #[test]
    fn the_default_matrix_is_the_issues() {
        let m = Cell::default_matrix();
        assert_eq!(m.len(), 3 * 4 * 2 + 2 + 2);
        assert_eq!(m.iter().filter(|c| c.kind == Kind::Deflate).count(), 2);
        assert_eq!(Cell::parse("100:64k:1:text").unwrap().to_string(), "100:64 KiB:1 text");
    }
}
