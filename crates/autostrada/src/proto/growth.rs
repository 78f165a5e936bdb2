//! Growing a received message's buffer without passing its limit.

use bytes::BytesMut;

/// Makes room in `out` for `more` octets as `Vec` would (at least doubling,
/// so that appending stays linear), except near `limit`: once doubling
/// would pass half the limit, the storage goes to the limit in one step.
/// Doubling alone would let a message of just over half the limit hold
/// storage for twice the limit, or stop just short of the limit and then
/// need one more copy there, holding nearly twice the limit at once (old
/// storage and new); this way growth holds at most 1.5 times the limit
/// while it copies, and the limit after.
pub(crate) fn grow_within(out: &mut BytesMut, more: usize, limit: usize) {
    let need = out.len().saturating_add(more);
    if need <= out.capacity() {
        return;
    }
    let doubled = out.capacity().saturating_mul(2).max(need);
    if doubled <= limit / 2 {
        out.reserve(more);
    } else {
        // The one copy that doubling in place would (usually) have made anyway.
        let mut bigger = BytesMut::with_capacity(limit.max(need));
        bigger.extend_from_slice(out);
        *out = bigger;
    }
}
