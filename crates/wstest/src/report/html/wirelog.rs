//! The wire log (report schema rows `RO`, `TO`, `RF`, `TF`, timers, `WLM`)
//! turned into lines a person can follow: frames decoded, octets as spaced
//! hex, timers in words, and runs of identical rows folded into one line
//! with a count (a 9.x case writes the same chop thousands of times).

use serde_json::{Value, json};

use super::show;
use crate::wire::log::LOG_KEEP;

/// One line of the page's wire log.
fn line(n: usize, class: &str, what: &str, detail: String, body: String) -> Value {
    json!({"n": n, "class": class, "what": what, "detail": detail, "body": body, "repeat": 1})
}

fn flag(v: Option<&Value>) -> &'static str {
    if v.and_then(Value::as_bool).unwrap_or(false) { "1" } else { "0" }
}

fn num(v: Option<&Value>) -> String {
    v.map_or_else(|| "?".to_owned(), show::value)
}

/// `[len, text]` of an octet or frame row.
fn len_and(v: Option<&Value>) -> (String, Value) {
    let pair = v.and_then(Value::as_array);
    let len = num(pair.and_then(|p| p.first()));
    let data = pair.and_then(|p| p.get(1)).cloned().unwrap_or(Value::Null);
    (len, data)
}

fn delay(v: Option<&Value>) -> String {
    v.and_then(Value::as_f64).map_or_else(|| "?".to_owned(), |d| format!("{d} s"))
}

/// One report row as a page line (`n` counts from 1).
fn decode(n: usize, row: &Value) -> Value {
    let r = row.as_array().map_or(&[][..], Vec::as_slice);
    let kind = r.first().and_then(Value::as_str).unwrap_or("?");
    match kind {
        "RO" | "TO" => {
            let (len, hex) = len_and(r.get(1));
            let sync = kind == "TO" && r.get(2).and_then(Value::as_bool).unwrap_or(false);
            let (class, what) = if kind == "RO" { ("rx-octets", "RX octets") } else { ("tx-octets", "TX octets") };
            let detail = format!("{len} octets{}", if sync { ", written on its own (sync)" } else { "" });
            let mut l = line(n, class, what, detail, show::spaced_hex(hex.as_str().unwrap_or("")));
            l["octets"] = json!(len.parse::<u64>().unwrap_or(0));
            l
        }
        "RF" => {
            let (len, text) = len_and(r.get(1));
            let op = r.get(2).and_then(Value::as_u64).unwrap_or(99);
            let mask = match r.get(6) {
                Some(Value::String(m)) => format!(", mask {m}"),
                _ if r.get(5).and_then(Value::as_bool).unwrap_or(false) => ", masked".to_owned(),
                _ => ", unmasked".to_owned(),
            };
            let detail =
                format!("{}, FIN {}, RSV {}, {len} octets{mask}", show::opcode(op), flag(r.get(3)), num(r.get(4)));
            let body = if op == 8 { close_payload(len.parse().ok(), &text) } else { preview(len.parse().ok(), &text) };
            line(n, "rx-frame", "RX frame", detail, body)
        }
        "TF" => {
            let (len, text) = len_and(r.get(1));
            let op = r.get(2).and_then(Value::as_u64).unwrap_or(99);
            let mut detail =
                format!("{}, FIN {}, RSV {}, {len} octets", show::opcode(op), flag(r.get(3)), num(r.get(4)));
            if let Some(Value::String(m)) = r.get(5) {
                detail.push_str(&format!(", mask {m}"));
            }
            if let Some(rep @ Value::Number(_)) = r.get(6) {
                detail.push_str(&format!(", pattern repeated to {} octets", show::value(rep)));
            }
            if let Some(chop @ Value::Number(_)) = r.get(7) {
                detail.push_str(&format!(", written in chops of {}", show::value(chop)));
            }
            if r.get(8).and_then(Value::as_bool).unwrap_or(false) {
                detail.push_str(", sync");
            }
            let body = if op == 8 { close_payload(len.parse().ok(), &text) } else { preview(len.parse().ok(), &text) };
            line(n, "tx-frame", "TX frame", detail, body)
        }
        "CT" => line(n, "timer", "Timer", format!("step {} in {}", tag(r.get(2)), delay(r.get(1))), String::new()),
        "CTE" => line(n, "timer", "Timer", format!("step {} runs", tag(r.get(1))), String::new()),
        "KL" => line(n, "kill", "Kill timer", format!("drop TCP after {}", delay(r.get(1))), String::new()),
        "KLE" => line(n, "kill", "Kill timer", "fired: dropping TCP".to_owned(), String::new()),
        "TI" => line(n, "kill", "Close timer", format!("close after {}", delay(r.get(1))), String::new()),
        "TIE" => line(n, "kill", "Close timer", "fired: closing".to_owned(), String::new()),
        "WLM" => {
            let on = r.get(1).and_then(Value::as_bool).unwrap_or(false);
            let note = r.get(2).and_then(Value::as_str).unwrap_or("").to_owned();
            line(n, "timer", "Wire log", if on { "on" } else { "off" }.to_owned(), note)
        }
        other => line(n, "timer", "Row", other.to_owned(), row.to_string()),
    }
}

fn tag(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        _ => "(untagged)".to_owned(),
    }
}

/// Whether a payload's log form is hex (`0x` and two digits an octet)
/// rather than text that happens to start with `0x`.
///
/// The report writes a payload as its text when it is UTF-8, else as `0x`
/// and hex, so the text `0xab` and the octets `ab` look alike. The row's
/// length settles it: a log form keeps the payload's first 64 octets (all
/// of a shorter one), so a text form is exactly that many octets long,
/// where a hex form is two more than twice that; the two never agree.
/// Without a length, a hex-shaped form is taken as hex.
fn is_hex(len: Option<u64>, form: &str) -> bool {
    let body = form.strip_suffix(" ...").unwrap_or(form);
    let Some(hex) = body.strip_prefix("0x") else { return false };
    let kept = len.map(|len| usize::try_from(len).unwrap_or(usize::MAX).min(LOG_KEEP));
    hex.len() % 2 == 0 && hex.bytes().all(|b| b.is_ascii_hexdigit()) && kept != Some(body.len())
}

/// The octets behind a payload's log form of a `len`-octet payload (`0x…`
/// hex, or the text itself), and whether the log form was cut.
fn octets(len: Option<u64>, form: &str) -> (Vec<u8>, bool) {
    let (body, cut) = form.strip_suffix(" ...").map_or((form, false), |b| (b, true));
    if is_hex(len, form) {
        let hex = &body[2..];
        let bytes = (0..hex.len()).step_by(2).filter_map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok());
        return (bytes.collect(), cut);
    }
    (body.as_bytes().to_vec(), cut)
}

/// A close frame's payload in words (RFC 6455 §5.5.1: a two-octet code,
/// then a UTF-8 reason).
fn close_payload(len: Option<u64>, text: &Value) -> String {
    let (data, cut) = octets(len, text.as_str().unwrap_or(""));
    match data.as_slice() {
        [] => "no code".to_owned(),
        [_] => format!("one octet {:02x}: too short for a code", data[0]),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            let more = if cut { " …" } else { "" };
            match std::str::from_utf8(reason) {
                Ok("") => format!("code {code}"),
                Ok(r) => format!("code {code}, reason “{r}{more}”"),
                Err(_) => {
                    format!("code {code}, reason not UTF-8: {}{more}", show::spaced_hex(&crate::wire::log::hex(reason)))
                }
            }
        }
    }
}

/// A frame payload of `len` octets in log form: text as text, `0x…` hex
/// spaced (see [`is_hex`]).
fn preview(len: Option<u64>, text: &Value) -> String {
    match text.as_str() {
        Some(s) if is_hex(len, s) => show::spaced_hex(&s[2..]),
        Some(s) => s.to_owned(),
        None => show::value(text),
    }
}

/// Runs of octet rows longer than this are folded (the first and last
/// [`FOLD_KEEP`] stay in view).
const FOLD_OVER: usize = 8;
/// Rows kept in view at each end of a folded run.
const FOLD_KEEP: usize = 2;

/// The page's wire log: groups of lines, where a long run of octet rows in
/// one direction (a message written in 1-octet chops, say) is a folded
/// group with a summary, and every other line is a group of its own.
#[must_use]
pub fn groups(rows: &[Value], dropped_by_me: bool) -> Vec<Value> {
    let all = lines(rows, dropped_by_me);
    let mut out = Vec::new();
    let mut i = 0;
    while i < all.len() {
        let class = all[i]["class"].as_str().unwrap_or("");
        let run = all[i..].iter().take_while(|l| l["class"].as_str() == Some(class)).count();
        if (class == "rx-octets" || class == "tx-octets") && run > FOLD_OVER {
            let (head, rest) = all[i..i + run].split_at(FOLD_KEEP);
            let (middle, tail) = rest.split_at(rest.len() - FOLD_KEEP);
            let rows: u64 = middle.iter().map(|l| l["repeat"].as_u64().unwrap_or(1)).sum();
            let octets: u64 =
                middle.iter().map(|l| l["octets"].as_u64().unwrap_or(0) * l["repeat"].as_u64().unwrap_or(1)).sum();
            let direction = if class == "rx-octets" { "reads" } else { "writes" };
            out.extend(head.iter().map(|l| json!({"fold": false, "lines": [l]})));
            out.push(json!({"fold": true, "class": class,
                "summary": format!("{rows} more {direction}, {octets} octets"), "lines": middle}));
            out.extend(tail.iter().map(|l| json!({"fold": false, "lines": [l]})));
        } else {
            out.extend(all[i..i + run].iter().map(|l| json!({"fold": false, "lines": [l]})));
        }
        i += run;
    }
    out
}

/// The page's lines for `rows`, identical neighbours folded, then the line
/// that says who closed TCP.
#[must_use]
pub fn lines(rows: &[Value], dropped_by_me: bool) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    let mut previous: Option<&Value> = None;
    for (i, row) in rows.iter().enumerate() {
        if previous == Some(row) {
            if let Some(last) = out.last_mut() {
                let count = last["repeat"].as_u64().unwrap_or(1) + 1;
                last["repeat"] = json!(count);
            }
            continue;
        }
        previous = Some(row);
        out.push(decode(i + 1, row));
    }
    let who = if dropped_by_me { "TCP closed by the fuzzer" } else { "TCP closed by the peer" };
    out.push(line(rows.len() + 1, "tcp", "End", who.to_owned(), String::new()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_runs_of_octet_rows_fold_between_their_ends() {
        let rows: Vec<Value> = (0..20).map(|i| json!(["TO", [1, format!("{i:02x}")], false])).collect();
        let g = groups(&rows, false);
        // 2 in view, 16 folded, 2 in view, then the end line.
        assert_eq!(g.len(), 6);
        assert_eq!(g[2]["fold"], true);
        assert_eq!(g[2]["summary"], "16 more writes, 16 octets");
        assert_eq!(g[2]["lines"][0]["n"], 3);
        assert_eq!(g[3]["lines"][0]["n"], 19);
    }

    #[test]
    fn frames_are_decoded_and_repeats_folded() {
        let rows = vec![
            json!(["TO", [2, "8100"], false]),
            json!(["TO", [2, "8100"], false]),
            json!(["TO", [2, "8100"], false]),
            json!(["RF", [5, "Hello"], 1, true, 0, false, null]),
            json!(["TF", [10, "BAsd7&jh23"], 2, true, 0, "a738aca5", 65536, 997, false]),
            json!(["KL", 1]),
            json!(["WLM", false, "cut here"]),
        ];
        let out = lines(&rows, true);
        let close = lines(
            &[
                json!(["RF", [6, "0x03ea6279"], 8, true, 0, false, null]),
                json!(["TF", [2, "\u{0}\u{0}"], 8, true, 0, null, null, null, false]),
            ],
            false,
        );
        assert_eq!(close[0]["body"], "code 1002, reason “by”");
        assert_eq!(close[1]["body"], "code 0");
        assert_eq!(out.len(), 6);
        assert_eq!(out[0]["repeat"], 3);
        assert_eq!(out[0]["body"], "81 00");
        assert_eq!(out[1]["n"], 4);
        assert_eq!(out[1]["detail"], "text, FIN 1, RSV 0, 5 octets, unmasked");
        assert_eq!(out[1]["body"], "Hello");
        let tf = out[2]["detail"].as_str().unwrap();
        assert!(tf.contains("binary") && tf.contains("mask a738aca5") && tf.contains("65536") && tf.contains("997"));
        assert_eq!(out[3]["detail"], "drop TCP after 1 s");
        assert_eq!(out[4]["body"], "cut here");
        assert_eq!(out[5]["detail"], "TCP closed by the fuzzer");
    }

    #[test]
    fn text_that_starts_with_0x_is_told_from_hex_by_its_length() {
        let text_70 = format!("0x{}", "ab".repeat(34));
        let rows = vec![
            // The text "0xab" (4 octets) and the octets ab cd (2).
            json!(["RF", [4, "0xab"], 1, true, 0, false, null]),
            json!(["RF", [2, "0xabcd"], 2, true, 0, false, null]),
            // Cut forms keep 64 octets: 64 of text, or 128 hex digits.
            json!(["RF", [70, format!("{} ...", &text_70[..64])], 1, true, 0, false, null]),
            json!(["RF", [100, format!("0x{} ...", "0f".repeat(64))], 2, true, 0, false, null]),
            // A close frame whose octets are all UTF-8 (code 771) and whose
            // reason reads "0x12".
            json!(["RF", [6, "\u{3}\u{3}0x12"], 8, true, 0, false, null]),
            // With no length (a row from elsewhere), hex-shaped means hex.
            json!(["RF", ["?", "0xabcd"], 2, true, 0, false, null]),
        ];
        let out = lines(&rows, false);
        assert_eq!(out[0]["body"], "0xab");
        assert_eq!(out[1]["body"], "ab cd");
        assert_eq!(out[2]["body"], format!("{} ...", &text_70[..64]));
        assert!(out[3]["body"].as_str().unwrap().starts_with("0f 0f"), "{}", out[3]["body"]);
        assert_eq!(out[4]["body"], "code 771, reason “0x12”");
        assert_eq!(out[5]["body"], "ab cd");
        assert!(is_hex(Some(2), "0xabcd") && !is_hex(Some(6), "0xabcd") && !is_hex(Some(2), "0xzz"));
    }
}
