//! How report values read on a page: verdict words and their colour
//! classes, flags as yes/no, events and opcodes in words. Shared by the
//! index and the case pages so both say the same thing the same way.

use serde_json::Value;

/// A value of the per-case JSON as a reader wants it: `yes`/`no` for flags,
/// `—` for "none", numbers and strings as they are (never `True`/`None`).
#[must_use]
pub fn value(v: &Value) -> String {
    match v {
        Value::Null => "—".to_owned(),
        Value::Bool(true) => "yes".to_owned(),
        Value::Bool(false) => "no".to_owned(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// The behaviour verdict's short word and CSS class.
#[must_use]
pub fn behavior(b: &str) -> (&'static str, &'static str) {
    match b {
        "OK" => ("Pass", "ok"),
        "NON-STRICT" => ("Non-strict", "non-strict"),
        "NO_CLOSE" => ("No close", "non-strict"),
        "INFORMATIONAL" => ("Info", "info"),
        "UNIMPLEMENTED" => ("Unimplemented", "unimplemented"),
        _ => ("Fail", "failed"),
    }
}

/// The closing verdict's CSS class: the reference's colours (a client that
/// had to drop TCP is "almost" OK, a wrong close code is non-strict).
#[must_use]
pub fn close_class(c: &str) -> &'static str {
    match c {
        "OK" => "ok",
        "FAILED BY CLIENT" => "almost",
        "WRONG CODE" => "non-strict",
        "INFORMATIONAL" => "info",
        _ => "failed",
    }
}

/// The closing verdict as a matrix cell shows it: the peer's close code
/// where the close went as it should (or nearly), else what went wrong.
#[must_use]
pub fn close_word(c: &str, remote_code: &Value) -> String {
    match c {
        "OK" | "FAILED BY CLIENT" | "WRONG CODE" | "INFORMATIONAL" => match remote_code {
            Value::Number(n) => n.to_string(),
            _ => "no code".to_owned(),
        },
        "UNCLEAN" => "unclean".to_owned(),
        _ => "fail".to_owned(),
    }
}

/// Both verdicts are clean passes (not merely tolerated): the rows the
/// index's "only what did not pass" switch hides.
#[must_use]
pub fn clean_pass(behavior: &str, close: &str) -> bool {
    matches!(behavior, "OK" | "INFORMATIONAL") && matches!(close, "OK" | "INFORMATIONAL")
}

/// An opcode's name (RFC 6455 §5.2).
#[must_use]
pub fn opcode(op: u64) -> String {
    match op {
        0 => "continuation".to_owned(),
        1 => "text".to_owned(),
        2 => "binary".to_owned(),
        8 => "close".to_owned(),
        9 => "ping".to_owned(),
        10 => "pong".to_owned(),
        n => format!("reserved {n}"),
    }
}

/// A payload in log form as a page shows it.
#[must_use]
pub fn payload(p: &Value) -> String {
    match p.as_str() {
        Some("") => "(empty)".to_owned(),
        Some(s) => format!("“{s}”"),
        None => value(p),
    }
}

/// One recorded event (`["message", payload, binary]`, `["pong", payload]`,
/// `["timeout", tag]`) in words.
#[must_use]
pub fn event(e: &Value) -> String {
    let Some(parts) = e.as_array() else { return value(e) };
    let kind = parts.first().and_then(Value::as_str).unwrap_or("?");
    let arg = parts.get(1).unwrap_or(&Value::Null);
    match kind {
        "message" => {
            let binary = parts.get(2).and_then(Value::as_bool).unwrap_or(false);
            format!("{} message {}", if binary { "binary" } else { "text" }, payload(arg))
        }
        "pong" => format!("pong {}", payload(arg)),
        "timeout" => format!("timeout {}", value(arg)),
        other => format!("{other} {}", value(arg)),
    }
}

/// Milliseconds as a duration a person reads.
#[must_use]
pub fn millis(ms: u64) -> String {
    match ms {
        // The reference reports a case that never opened with the Unix
        // time as its duration.
        86_400_000.. => "—".to_owned(),
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.1} s", ms as f64 / 1_000.0),
        _ => format!("{}:{:02} min", ms / 60_000, (ms / 1_000) % 60),
    }
}

/// A compression ratio, or `–` when there was nothing to compare.
#[must_use]
pub fn ratio(v: &Value) -> String {
    v.as_f64().map_or_else(|| "–".to_owned(), |r| format!("{r:.3}"))
}

/// Hex as a page shows it: octets apart, so the browser can wrap them.
#[must_use]
pub fn spaced_hex(hex: &str) -> String {
    let (digits, rest) = hex.split_once(' ').unwrap_or((hex, ""));
    let mut out = String::with_capacity(digits.len() * 3 / 2 + rest.len());
    for (i, pair) in digits.as_bytes().chunks(2).enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(std::str::from_utf8(pair).unwrap_or("??"));
    }
    if !rest.is_empty() {
        out.push_str(" …");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_read_as_words_not_python() {
        assert_eq!(value(&json!(true)), "yes");
        assert_eq!(value(&json!(null)), "—");
        assert_eq!(value(&json!(1000)), "1000");
        assert_eq!(event(&json!(["message", "Hello", false])), "text message “Hello”");
        assert_eq!(event(&json!(["message", "", true])), "binary message (empty)");
        assert_eq!(event(&json!(["timeout", "A"])), "timeout A");
        assert_eq!(close_word("OK", &json!(1000)), "1000");
        assert_eq!(close_word("UNCLEAN", &json!(null)), "unclean");
        assert_eq!(spaced_hex("81000102 ..."), "81 00 01 02 …");
        assert_eq!(millis(843), "843 ms");
        assert_eq!(millis(61_500), "1:01 min");
    }
}
