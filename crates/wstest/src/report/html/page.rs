//! The view of one case page, built from the per-case JSON (ours or the
//! reference suite's: the schema is the same): every figure already turned
//! into the words the template prints.

use serde_json::{Map, Value, json};

use super::{show, wirelog};

/// Links from a case page to its neighbours in the run.
#[derive(Debug, Clone, Default)]
pub struct Nav {
    /// The previous case of the same agent: (id, page file).
    pub prev: Option<(String, String)>,
    /// The next case of the same agent: (id, page file).
    pub next: Option<(String, String)>,
}

/// The closing-behaviour flags in the reference's order, each with what it
/// means (our words). "The fuzzer" is wstest — or the reference suite, when
/// `wstest report` renders its JSON.
const CLOSING_FLAGS: [(&str, &str); 13] = [
    ("isServer", "The fuzzer was the server and the peer the client."),
    ("closedByMe", "The fuzzer sent the first close frame."),
    ("failedByMe", "The fuzzer failed the connection on a protocol error, by a close frame or by dropping TCP."),
    ("droppedByMe", "The fuzzer closed the TCP connection."),
    ("wasClean", "Close frames went both ways and the server closed TCP, which is its duty (RFC 6455 §7.1.1)."),
    ("wasNotCleanReason", "Why the close was not clean, when it was not."),
    (
        "wasServerConnectionDropTimeout",
        "The fuzzer, as client, waited for the server to close TCP after the closing handshake, in vain.",
    ),
    ("wasOpenHandshakeTimeout", "The opening handshake did not finish in time."),
    ("wasCloseHandshakeTimeout", "The fuzzer sent a close frame and no answer came in time."),
    ("localCloseCode", "The close code the fuzzer sent."),
    ("localCloseReason", "The close reason the fuzzer sent."),
    ("remoteCloseCode", "The close code the peer sent."),
    ("remoteCloseReason", "The close reason the peer sent."),
];

/// The trafficStats keys a compression case reports, with their meaning.
const TRAFFIC: [(&str, &str); 16] = [
    ("outgoingOctetsAppLevel", "Octets the fuzzer sent, before compression"),
    ("outgoingOctetsWebSocketLevel", "… as payload on the wire"),
    ("outgoingOctetsWireLevel", "… with frame headers"),
    ("outgoingCompressionRatio", "Compression ratio, outgoing"),
    ("outgoingWebSocketOverhead", "Frame overhead, outgoing"),
    ("outgoingWebSocketFrames", "Data frames sent"),
    ("outgoingWebSocketMessages", "Messages sent"),
    ("incomingOctetsAppLevel", "Octets received, after decompression"),
    ("incomingOctetsWebSocketLevel", "… as payload on the wire"),
    ("incomingOctetsWireLevel", "… with frame headers"),
    ("incomingCompressionRatio", "Compression ratio, incoming"),
    ("incomingWebSocketOverhead", "Frame overhead, incoming"),
    ("incomingWebSocketFrames", "Data frames received"),
    ("incomingWebSocketMessages", "Messages received"),
    ("preopenOutgoingOctetsWireLevel", "Handshake octets sent"),
    ("preopenIncomingOctetsWireLevel", "Handshake octets received"),
];

fn s<'a>(case: &'a Value, key: &str) -> &'a str {
    case.get(key).and_then(Value::as_str).unwrap_or("")
}

/// A statistics object (`{"size or opcode": count}`) as table rows, sorted
/// by number, with a total; `weigh` adds an octets column (size × count).
fn stats(v: Option<&Value>, weigh: bool, name: impl Fn(u64) -> String) -> Value {
    let mut rows: Vec<(u64, u64)> = v
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, c)| (k.parse().unwrap_or(u64::MAX), c.as_u64().unwrap_or(0))).collect())
        .unwrap_or_default();
    rows.sort_unstable();
    let (mut count, mut octets) = (0u64, 0u64);
    let rows: Vec<Value> = rows
        .into_iter()
        .map(|(k, c)| {
            count += c;
            octets = octets.saturating_add(k.saturating_mul(c));
            json!({"key": name(k), "count": c, "octets": if weigh { k.saturating_mul(c).to_string() } else { String::new() }})
        })
        .collect();
    json!({"rows": rows, "count": count, "octets": if weigh { octets.to_string() } else { String::new() }})
}

/// The expected outcomes: each name (`OK`, `NON-STRICT`) with its events.
fn expected(case: &Value) -> Vec<Value> {
    let Some(m) = case.get("expected").and_then(Value::as_object) else { return Vec::new() };
    let mut names: Vec<&String> = m.keys().collect();
    // OK first: it is what a conforming peer does; the tolerated ones follow.
    names.sort_by_key(|n| (n.as_str() != "OK", n.as_str().to_owned()));
    names
        .into_iter()
        .map(|n| {
            let events: Vec<String> = m[n].as_array().map(|e| e.iter().map(show::event).collect()).unwrap_or_default();
            json!({"name": n, "events": events})
        })
        .collect()
}

/// The template context of one case page.
#[must_use]
pub fn context(case: &Value, nav: &Nav, generator: &str) -> Value {
    let id = s(case, "id");
    let behavior = s(case, "behavior");
    let close = s(case, "behaviorClose");
    let (word, class) = show::behavior(behavior);
    let closing: Vec<Value> = CLOSING_FLAGS
        .iter()
        .map(|(k, meaning)| json!({"key": k, "value": show::value(case.get(*k).unwrap_or(&Value::Null)), "meaning": meaning}))
        .collect();
    let traffic: Vec<Value> = case
        .get("trafficStats")
        .and_then(Value::as_object)
        .map(|t| {
            TRAFFIC
                .iter()
                .filter_map(|(k, label)| {
                    let v = t.get(*k)?;
                    let shown =
                        if k.ends_with("Ratio") || k.ends_with("Overhead") { show::ratio(v) } else { show::value(v) };
                    Some(json!({"label": label, "value": shown}))
                })
                .collect()
        })
        .unwrap_or_default();
    let rows = case.get("wirelog").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    let dropped_by_me = case.get("droppedByMe").and_then(Value::as_bool).unwrap_or(false);
    let link = |n: &Option<(String, String)>| n.as_ref().map(|(id, file)| json!({"id": id, "href": file}));
    let mut m = Map::new();
    m.insert("generator".into(), json!(generator));
    m.insert("agent".into(), json!(s(case, "agent")));
    m.insert("id".into(), json!(id));
    m.insert("index_href".into(), json!(format!("index.html#case-{id}")));
    m.insert("prev".into(), link(&nav.prev).unwrap_or(Value::Null));
    m.insert("next".into(), link(&nav.next).unwrap_or(Value::Null));
    m.insert("verdict".into(), json!({"word": word, "class": class, "raw": behavior}));
    m.insert("close".into(), json!({"raw": close, "class": show::close_class(close)}));
    m.insert("duration".into(), json!(show::millis(case.get("duration").and_then(Value::as_u64).unwrap_or(0))));
    m.insert("started".into(), json!(s(case, "started").replace('T', " ")));
    m.insert(
        "role".into(),
        json!(if case["isServer"] == json!(true) { "fuzzer as server" } else { "fuzzer as client" }),
    );
    m.insert("description".into(), json!(s(case, "description")));
    m.insert("expectation".into(), json!(s(case, "expectation")));
    m.insert("result".into(), json!(s(case, "result")));
    m.insert("result_close".into(), json!(s(case, "resultClose")));
    m.insert("expected".into(), Value::Array(expected(case)));
    let received: Vec<String> =
        case.get("received").and_then(Value::as_array).map(|e| e.iter().map(show::event).collect()).unwrap_or_default();
    m.insert("received".into(), json!(received));
    m.insert("http_request".into(), json!(s(case, "httpRequest").trim()));
    m.insert("http_response".into(), json!(s(case, "httpResponse").trim()));
    m.insert("closing".into(), Value::Array(closing));
    m.insert("rx_octets".into(), stats(case.get("rxOctetStats"), true, |k| k.to_string()));
    m.insert("tx_octets".into(), stats(case.get("txOctetStats"), true, |k| k.to_string()));
    let op = |k: u64| format!("{k} ({})", show::opcode(k));
    m.insert("rx_frames".into(), stats(case.get("rxFrameStats"), false, op));
    m.insert("tx_frames".into(), stats(case.get("txFrameStats"), false, op));
    m.insert("traffic".into(), Value::Array(traffic));
    m.insert("wirelog_off".into(), json!(case.get("createWirelog") == Some(&json!(false))));
    m.insert("wirelog".into(), Value::Array(wirelog::groups(rows, dropped_by_me)));
    Value::Object(m)
}
