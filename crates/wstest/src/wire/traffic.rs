//! Traffic counters of one connection, as the reference reports them in
//! `trafficStats` for the compression cases: octets at three levels (on the
//! wire, as WebSocket payload, as application data), data frames and
//! messages in each direction, and what crossed before the connection opened.

use serde_json::{Value, json};

/// One direction's counters.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Direction {
    /// Every octet of the connection after the opening handshake.
    pub wire: u64,
    /// Payload octets of data frames as they crossed (compressed if compressed).
    pub websocket: u64,
    /// Payload octets of data messages before compression / after inflation.
    pub app: u64,
    /// Data frames (text, binary, continuation).
    pub frames: u64,
    /// Data messages.
    pub messages: u64,
    /// Octets of the opening handshake.
    pub preopen: u64,
}

/// Both directions.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Traffic {
    /// What we received.
    pub incoming: Direction,
    /// What we sent.
    pub outgoing: Direction,
}

/// `num / den` as the report gives a ratio: `null` when nothing was counted.
fn ratio(num: u64, den: u64) -> Value {
    if den == 0 { Value::Null } else { json!(num as f64 / den as f64) }
}

impl Traffic {
    /// The `trafficStats` object: compression ratio is websocket / app
    /// octets (smaller is better), overhead is (wire − websocket) / websocket.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let (i, o) = (&self.incoming, &self.outgoing);
        json!({
            "incomingCompressionRatio": ratio(i.websocket, i.app),
            "incomingOctetsAppLevel": i.app,
            "incomingOctetsWebSocketLevel": i.websocket,
            "incomingOctetsWireLevel": i.wire,
            "incomingWebSocketFrames": i.frames,
            "incomingWebSocketMessages": i.messages,
            "incomingWebSocketOverhead": ratio(i.wire.saturating_sub(i.websocket), i.websocket),
            "outgoingCompressionRatio": ratio(o.websocket, o.app),
            "outgoingOctetsAppLevel": o.app,
            "outgoingOctetsWebSocketLevel": o.websocket,
            "outgoingOctetsWireLevel": o.wire,
            "outgoingWebSocketFrames": o.frames,
            "outgoingWebSocketMessages": o.messages,
            "outgoingWebSocketOverhead": ratio(o.wire.saturating_sub(o.websocket), o.websocket),
            "preopenIncomingOctetsWireLevel": i.preopen,
            "preopenOutgoingOctetsWireLevel": o.preopen,
        })
    }

    /// The two compression ratios (incoming, outgoing), when defined.
    #[must_use]
    pub fn ratios(&self) -> (Option<f64>, Option<f64>) {
        let r = |d: &Direction| (d.app > 0).then(|| d.websocket as f64 / d.app as f64);
        (r(&self.incoming), r(&self.outgoing))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_and_overheads() {
        let incoming =
            Direction { wire: 6673, websocket: 4673, app: 16000, frames: 1000, messages: 1000, preopen: 200 };
        let t = Traffic { incoming, ..Traffic::default() };
        let j = t.to_json();
        assert_eq!(j["incomingCompressionRatio"], json!(0.2920625));
        assert_eq!(j["outgoingCompressionRatio"], Value::Null);
        assert_eq!(j["outgoingWebSocketOverhead"], Value::Null);
        assert_eq!(j["incomingOctetsWireLevel"], json!(6673));
        assert_eq!(t.ratios(), (Some(0.2920625), None));
    }
}
