//! What the wire peer records: the wire log, octet and frame statistics,
//! and the "log form" in which payloads appear in reports.

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// Payloads longer than this are cut in the log form.
const LOG_CUT: usize = 60;
/// How much of a cut payload is kept.
pub(crate) const LOG_KEEP: usize = 64;

/// Lower-case hex of `data`.
pub(crate) fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

/// The log form of a payload (the reference's convention): the text if the
/// (possibly cut) payload is UTF-8, else `0x` and hex; a cut payload ends in
/// `" ..."`.
#[must_use]
pub fn log_form(data: &[u8]) -> String {
    let cut = data.len() > LOG_CUT;
    let kept = &data[..data.len().min(LOG_KEEP)];
    let suffix = if cut { " ..." } else { "" };
    match std::str::from_utf8(kept) {
        Ok(text) => format!("{text}{suffix}"),
        Err(_) => format!("0x{}{suffix}", hex(kept)),
    }
}

/// Octets as a report shows them: length, and hex of at most 64 octets.
fn octets(data: &[u8]) -> Value {
    let shown = &data[..data.len().min(LOG_KEEP)];
    let suffix = if data.len() > LOG_CUT { " ..." } else { "" };
    json!([data.len(), format!("{}{suffix}", hex(shown))])
}

/// A frame as the wire log describes it.
#[derive(Debug, Clone)]
pub struct FrameInfo {
    /// Opcode (4 bits).
    pub opcode: u8,
    /// FIN bit.
    pub fin: bool,
    /// RSV bits.
    pub rsv: u8,
    /// Masking key, when masked.
    pub mask: Option<[u8; 4]>,
}

/// Rows one case's wire log keeps at most. The reference's longest log in
/// the whole suite has under 200 rows; a server flooding us would otherwise
/// make the report (and our memory) grow for as long as the case lasts.
pub const MAX_ROWS: usize = 10_000;

/// The wire log: rows in the order things happened, at most [`MAX_ROWS`];
/// a cut log ends in a `WLM` row (logging off) that says why.
#[derive(Debug, Default)]
pub struct WireLog {
    rows: Vec<Value>,
    /// Octet and frame rows are recorded only while this is on.
    pub enabled: bool,
    /// Rows left out since the log was cut.
    omitted: u64,
}

impl WireLog {
    /// A log that records.
    #[must_use]
    pub fn new() -> Self {
        Self { rows: Vec::new(), enabled: true, omitted: 0 }
    }

    /// Appends a row unless the log is full; the row that fills it is the
    /// marker of the cut.
    fn push(&mut self, row: Value) {
        match self.rows.len() {
            n if n + 1 < MAX_ROWS => self.rows.push(row),
            n if n + 1 == MAX_ROWS => {
                self.rows.push(json!(["WLM", false, format!("wstest cut the wire log here, at {MAX_ROWS} rows")]));
                self.omitted += 1;
            }
            _ => self.omitted += 1,
        }
    }

    /// Drops every row (keeping the on/off switch).
    pub fn clear_rows(&mut self) {
        self.rows = Vec::new();
    }

    /// Rows left out because the log was full.
    #[must_use]
    pub fn omitted(&self) -> u64 {
        self.omitted
    }

    /// Octets read from the socket.
    pub fn read(&mut self, data: &[u8]) {
        if self.enabled {
            self.push(json!(["RO", octets(data)]));
        }
    }

    /// Octets written to the socket.
    pub fn wrote(&mut self, data: &[u8], sync: bool) {
        if self.enabled {
            self.push(json!(["TO", octets(data), sync]));
        }
    }

    /// A complete frame received.
    pub fn rx_frame(&mut self, f: &FrameInfo, payload: &[u8]) {
        if self.enabled {
            let mask = f.mask.map(|k| hex(&k));
            self.push(json!([
                "RF",
                [payload.len(), log_form(payload)],
                f.opcode,
                f.fin,
                f.rsv,
                f.mask.is_some(),
                mask
            ]));
        }
    }

    /// A frame built by the frame API. `payload` is the pattern before any
    /// repetition; `repeat_len` the real length when repeated.
    pub fn tx_frame(
        &mut self,
        f: &FrameInfo,
        payload: &[u8],
        repeat_len: Option<usize>,
        chop: Option<usize>,
        sync: bool,
    ) {
        if self.enabled {
            let mask = f.mask.map(|k| hex(&k));
            self.push(json!([
                "TF",
                [payload.len(), log_form(payload)],
                f.opcode,
                f.fin,
                f.rsv,
                mask,
                repeat_len,
                chop,
                sync
            ]));
        }
    }

    /// A timer or scheduled step event (recorded even while logging is off).
    pub fn timer(&mut self, row: Value) {
        self.push(row);
    }

    /// Switches octet/frame logging, with a `WLM` row when it changes.
    pub fn set_enabled_logged(&mut self, on: bool) {
        if self.enabled != on {
            self.enabled = on;
            self.push(json!(["WLM", on]));
        }
    }

    /// The rows.
    #[must_use]
    pub fn rows(&self) -> &[Value] {
        &self.rows
    }

    /// Takes the rows out.
    pub fn take(&mut self) -> Vec<Value> {
        std::mem::take(&mut self.rows)
    }
}

/// Counts per key, reported as JSON objects with string keys.
#[derive(Debug, Default, Clone)]
pub struct Counter(BTreeMap<u64, u64>);

impl Counter {
    /// Adds one to `key`.
    pub fn add(&mut self, key: u64) {
        *self.0.entry(key).or_default() += 1;
    }

    /// The count for `key`.
    #[must_use]
    pub fn get(&self, key: u64) -> u64 {
        self.0.get(&key).copied().unwrap_or(0)
    }

    /// As a JSON object (`{"2": 5}`).
    #[must_use]
    pub fn to_json(&self) -> Value {
        Value::Object(self.0.iter().map(|(k, v)| (k.to_string(), json!(v))).collect())
    }
}

/// Traffic statistics of one connection.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// Read size → number of reads.
    pub rx_octets: Counter,
    /// Write size → number of writes.
    pub tx_octets: Counter,
    /// Opcode → frames received.
    pub rx_frames: Counter,
    /// Opcode → frames sent through the frame API.
    pub tx_frames: Counter,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_is_cut_with_a_marker() {
        let mut log = WireLog::new();
        for _ in 0..MAX_ROWS * 3 {
            log.read(b"\x81\x00");
        }
        assert_eq!(log.rows().len(), MAX_ROWS);
        assert_eq!(log.rows()[MAX_ROWS - 1][0], "WLM");
        assert_eq!(log.omitted(), (MAX_ROWS * 2 + 1) as u64);
    }

    #[test]
    fn log_form_rules() {
        assert_eq!(log_form(b""), "");
        assert_eq!(log_form(b"Hello"), "Hello");
        assert_eq!(log_form(&[0xfe, 0x00]), "0xfe00");
        assert_eq!(log_form(&[b'*'; 61]), format!("{} ...", "*".repeat(61)));
        assert_eq!(log_form(&[b'*'; 100]), format!("{} ...", "*".repeat(64)));
        assert_eq!(log_form(&[0xfe; 100]), format!("0x{} ...", "fe".repeat(64)));
    }
}
