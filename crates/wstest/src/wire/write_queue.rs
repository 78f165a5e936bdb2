//! The octets a peer has yet to write, in the units the reference's
//! transport would write them in: plain writes, sync writes and chops of
//! a write, each logged when the reference would log it. The driver
//! (`driver.rs`) takes them off in writes (`Batch::take`).

use bytes::Bytes;

use super::peer::{Peer, State};

/// A chunk of octets waiting to be written.
#[derive(Debug)]
pub(crate) struct Unit {
    pub(crate) data: Bytes,
    /// Logged as a sync write.
    pub(crate) sync: bool,
    /// Written alone, with a yield before the next write (but for the
    /// start of a run, which the driver's `Batch::take` joins as the
    /// reference's transport does).
    pub(crate) queued: bool,
    /// A small chop: the next write waits [`SMALL_CHOP_GAP`] after this one.
    pub(crate) paced: bool,
    /// A piece of a chopped write (otherwise a whole write: sync, or
    /// queued behind one).
    pub(crate) chop: bool,
    /// Already in the wire log and the statistics (see [`Peer::push_unit`]);
    /// otherwise they take it when the driver has written it.
    pub(crate) logged: bool,
    /// Queued while a timer fired (see [`Peer::in_timer`]).
    pub(crate) from_timer: bool,
}

/// Chop pieces smaller than this are paced.
pub const SMALL_CHOP: usize = 64;

/// The least time between a small chop and the next write. The reference
/// writes each chop in its own event-loop turn, tens of microseconds apart
/// at best; peers that fail a connection right after a frame need time
/// between chops to get their previous answer out, and cases such as 3.4 or
/// 4.1.5 see the difference (OK versus NON-STRICT; python `websockets` is
/// such a peer). Timers are no finer than a millisecond, so small chops are
/// a millisecond apart: slower than the reference, never faster. Larger
/// chops — the throughput cases 9.5/9.6 — go as fast as the socket takes them.
pub const SMALL_CHOP_GAP: std::time::Duration = std::time::Duration::from_millis(1);

impl Peer {
    /// Unsent octets queued for the socket.
    #[must_use]
    pub fn unsent(&self) -> usize {
        self.out_octets
    }

    /// Writes octets: in pieces of `chop` (each written alone), alone if
    /// `sync`, or straight away — but never ahead of octets still queued.
    pub fn send_data(&mut self, data: Bytes, sync: bool, chop: Option<usize>) {
        match chop {
            Some(n) if n > 0 => {
                let mut rest = data;
                while !rest.is_empty() {
                    let piece = rest.split_to(rest.len().min(n));
                    self.push_unit(Unit {
                        data: piece,
                        sync: true,
                        queued: true,
                        paced: n < SMALL_CHOP,
                        chop: true,
                        logged: false,
                        from_timer: false,
                    });
                }
            }
            // Behind octets the reference still holds in its send queue, a
            // plain write waits its turn; once the queue is empty it goes
            // at once, even while the first of a run is unwritten here.
            _ if sync || self.unlogged_queued > 0 => {
                self.push_unit(Unit {
                    data,
                    sync,
                    queued: true,
                    paced: false,
                    chop: false,
                    logged: false,
                    from_timer: false,
                });
            }
            _ => self.push_unit(Unit {
                data,
                sync: false,
                queued: false,
                paced: false,
                chop: false,
                logged: false,
                from_timer: false,
            }),
        }
    }

    /// Queues a unit for the driver. The reference writes a plain unit to
    /// its transport at once, and the first of a run of queued units too
    /// (the rest one event-loop turn apart): those get their `TO` row and
    /// their statistics now, so that the rows the case logs next (a `KL`
    /// timer, say) come after them, as in the reference's log; the rest
    /// when the driver has written them.
    fn push_unit(&mut self, mut unit: Unit) {
        unit.from_timer = self.in_timer;
        if !unit.queued || self.queued_units == 0 {
            self.account_written(&unit.data, unit.sync);
            unit.logged = true;
        }
        self.queued_units += usize::from(unit.queued);
        self.unlogged_queued += usize::from(unit.queued && !unit.logged);
        self.out_octets += unit.data.len();
        self.out.push_back(unit);
    }

    /// Records octets as written: a `TO` row, the octet statistics, and
    /// the wire-level traffic while the connection is open.
    pub(crate) fn account_written(&mut self, data: &[u8], sync: bool) {
        self.log.wrote(data, sync);
        self.stats.tx_octets.add(data.len() as u64);
        if self.state == State::Open {
            self.traffic.outgoing.wire += data.len() as u64;
        }
    }

    /// True if some octets waiting to be written are paced chops.
    #[must_use]
    pub fn has_paced_writes(&self) -> bool {
        self.out.iter().any(|u| u.paced)
    }

    /// Takes the next unit to write off the queue.
    pub(crate) fn pop_unit(&mut self) -> Option<Unit> {
        let unit = self.out.pop_front()?;
        self.queued_units -= usize::from(unit.queued);
        self.unlogged_queued -= usize::from(unit.queued && !unit.logged);
        self.out_octets -= unit.data.len();
        Some(unit)
    }
}
