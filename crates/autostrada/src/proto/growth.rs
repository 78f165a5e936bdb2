//! Growing a received message's buffer without passing its limit.

use bytes::BytesMut;

/// Makes room in `out` for `more` octets as `Vec` would (at least doubling,
/// so that appending stays linear), except that growth stops at `limit`
/// octets in all: amortised doubling alone would let a message of just
/// over half the limit hold storage for twice the limit.
pub(crate) fn grow_within(out: &mut BytesMut, more: usize, limit: usize) {
    let need = out.len().saturating_add(more);
    if need <= out.capacity() {
        return;
    }
    let doubled = out.capacity().saturating_mul(2).max(need);
    let capped = doubled.min(limit.max(need));
    if capped == doubled {
        out.reserve(more);
    } else {
        // The one copy that doubling in place would (usually) have made anyway.
        let mut bigger = BytesMut::with_capacity(capped);
        bigger.extend_from_slice(out);
        *out = bigger;
    }
}
