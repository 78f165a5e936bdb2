//! Keepalive pings and the idle timeout, run by the read half.
//!
//! - Keepalive ([`Config::ping_interval`]): when a whole interval passes in
//!   which nothing arrived from the peer, send a ping; if nothing arrives in
//!   the [`Config::pong_timeout`] after it, the peer is gone. Any octet
//!   counts as a sign of life, not only the pong: a peer busy sending is
//!   alive even if its pong is queued behind a large message.
//! - Idle ([`Config::idle_timeout`]): no data message in either direction
//!   for that long closes the connection (1000, "idle timeout").
//! - Slow message ([`Config::message_timeout`]): a received data message
//!   that the reader waited on for that long without it completing closes
//!   the connection (1008, "message timeout").
//!
//! One timer serves all three, set to whichever is due first; connections
//! with none configured carry no timer at all.
//!
//! The last two and the keepalive's "no answer" judge the peer's silence,
//! so they are acted on only once the reader has taken what the socket
//! holds: an application that stopped polling for a while (a `select!`
//! that took another branch) must not fail a peer whose pong, message or
//! rest of a message has been waiting in the socket since before the
//! deadline. See [`GRACE_OCTETS`].

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::{Instant, Sleep, sleep_until};

use crate::config::Config;

/// What the timers ask the read half to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Due {
    /// Send a keepalive ping.
    Ping,
    /// The peer stayed silent past the pong timeout: drop it.
    Dead,
    /// No data for `idle_timeout`: close the connection.
    Idle,
    /// A message still incomplete `message_timeout` after the reader first
    /// waited for its rest: close the connection.
    SlowMessage,
}

/// How much the reader may still read, once a deadline on the peer's
/// silence is found passed while the socket may hold more, before acting
/// on it anyway: more than any socket's receive buffer holds by default
/// (Linux grows one to 6 MiB), so what the peer sent before the deadline
/// is read and counts; a peer that keeps sending other frames (pings, say)
/// to stretch the deadline gains at most this many octets.
const GRACE_OCTETS: usize = 8 << 20;

/// The keepalive and idle state of one connection.
#[derive(Debug)]
pub(crate) struct Timers {
    ping_interval: Option<Duration>,
    pong_timeout: Duration,
    idle_timeout: Option<Duration>,
    message_timeout: Option<Duration>,
    /// Made on the first wait, so that a socket can be built outside a runtime.
    sleep: Option<Pin<Box<Sleep>>>,
    /// Octets arrived since the keepalive last looked.
    heard: bool,
    /// Octets read since a deadline on the peer's silence was found passed
    /// by a reader not yet drained (see [`GRACE_OCTETS`]); `None` while no
    /// such deadline is pending.
    overdue_read: Option<usize>,
    /// `Receiver::data_progress` when the idle clock last started inside a
    /// data message (0 when it started between messages).
    progress_mark: usize,
    /// When the keepalive ping that is out (and unanswered so far) was sent.
    pinged: Option<Instant>,
    /// When the keepalive looks next.
    ping_due: Option<Instant>,
    /// When the connection counts as idle unless a data message passes.
    idle_due: Option<Instant>,
    /// When the data message being received must be complete (set once
    /// the reader waits in its middle, cleared when it completes).
    message_due: Option<Instant>,
    /// Octets our stream had taken when the keepalive ping was queued, or
    /// when the wait for its pong was last extended (kept by the read half).
    pub(crate) written_at_ping: u64,
    /// What our stream will have taken once the ping itself has left.
    pub(crate) ping_leaves_at: u64,
}

/// `now + d`, or as far off as tokio's timer goes (about 30 years) when
/// that overflows: how every timer here reads `Duration::MAX` as "never".
pub(crate) fn after(now: Instant, d: Duration) -> Instant {
    now.checked_add(d).unwrap_or_else(|| now + Duration::from_secs(86_400 * 365 * 30))
}

impl Timers {
    /// The timers `config` asks for; `None` (no allocation, no timer) when it
    /// asks for no keepalive, no idle timeout and no message timeout.
    pub(crate) fn new(config: &Config) -> Option<Box<Self>> {
        if config.ping_interval.is_none() && config.idle_timeout.is_none() && config.message_timeout.is_none() {
            return None;
        }
        let now = Instant::now();
        let ping_due = config.ping_interval.map(|d| after(now, d));
        let idle_due = config.idle_timeout.map(|d| after(now, d));
        Some(Box::new(Self {
            ping_interval: config.ping_interval,
            pong_timeout: config.pong_timeout,
            idle_timeout: config.idle_timeout,
            message_timeout: config.message_timeout,
            sleep: None,
            heard: false,
            overdue_read: None,
            progress_mark: 0,
            pinged: None,
            ping_due,
            idle_due,
            message_due: None,
            written_at_ping: 0,
            ping_leaves_at: 0,
        }))
    }

    /// `n` octets arrived from the peer.
    pub(crate) fn heard(&mut self, n: usize) {
        self.heard = true;
        if let Some(read) = &mut self.overdue_read {
            *read = read.saturating_add(n);
        }
    }

    /// Whether a deadline on the peer's silence has passed: a message
    /// still incomplete, no data, or no sign of life since the keepalive
    /// ping.
    fn silence_passed(&self, now: Instant) -> bool {
        let passed = |due: Option<Instant>| due.is_some_and(|due| now >= due);
        passed(self.message_due) || passed(self.idle_due) || (self.pinged.is_some() && passed(self.ping_due))
    }

    /// A data message arrived: its own clock stops, the idle clock starts
    /// again.
    pub(crate) fn data_received(&mut self) {
        self.progress_mark = 0;
        self.message_due = None;
        self.restart_idle();
    }

    /// The idle clock starts again (and only it: a message still arriving
    /// keeps its own deadline).
    fn restart_idle(&mut self) {
        if let Some(t) = self.idle_timeout {
            self.idle_due = Some(after(Instant::now(), t));
        }
    }

    /// The reader waits for more of a data message: its clock starts now,
    /// unless it already runs.
    pub(crate) fn waiting_in_message(&mut self) {
        if let (None, Some(t)) = (self.message_due, self.message_timeout) {
            self.message_due = Some(after(Instant::now(), t));
        }
    }

    /// When the idle clock ran out inside a data message whose payload has
    /// reached `progress` octets (`Receiver::data_progress`): true, and the
    /// clock starts again, if that payload grew since the clock last
    /// started (a large message still arriving is not idleness); false if
    /// it did not, which is idleness however many pings or pongs came
    /// meanwhile.
    pub(crate) fn still_arriving(&mut self, progress: usize) -> bool {
        if progress == self.progress_mark {
            return false;
        }
        self.restart_idle();
        self.progress_mark = progress;
        true
    }

    /// The keepalive ping is still out but the peer showed life another way:
    /// give it another `pong_timeout`.
    pub(crate) fn extend_pong_wait(&mut self) {
        let now = Instant::now();
        self.pinged = Some(now);
        self.ping_due = Some(after(now, self.pong_timeout));
    }

    /// Looks at the clock: what is due now, if anything. `data_sent` is the
    /// send half's "a data message was queued" flag, taken here. `drained`:
    /// the socket was just found empty; if it was not, a passed deadline on
    /// the peer's silence waits until it is, or until [`GRACE_OCTETS`] more
    /// have been read.
    pub(crate) fn check(&mut self, data_sent: &AtomicBool, drained: bool) -> Option<Due> {
        let now = Instant::now();
        if !drained && self.silence_passed(now) {
            match self.overdue_read {
                Some(read) if read >= GRACE_OCTETS => {}
                Some(_) => return None,
                None => {
                    self.overdue_read = Some(0);
                    return None;
                }
            }
        }
        self.overdue_read = None;
        if self.message_due.is_some_and(|due| now >= due) {
            self.message_due = None;
            return Some(Due::SlowMessage);
        }
        if let (Some(due), Some(t)) = (self.idle_due, self.idle_timeout)
            && now >= due
        {
            // Sends are seen only here, so a connection that last sent
            // just after the previous look idles up to twice the timeout.
            if !data_sent.swap(false, Ordering::Relaxed) {
                self.idle_due = None;
                return Some(Due::Idle);
            }
            self.idle_due = Some(after(now, t));
        }
        let (Some(due), Some(interval)) = (self.ping_due, self.ping_interval) else { return None };
        if now < due {
            return None;
        }
        if std::mem::take(&mut self.heard) {
            // Alive: look again a whole interval after the last sign of
            // life we know the time of (the ping, if one was out).
            let since = self.pinged.take().unwrap_or(now);
            self.ping_due = Some(after(since, interval).max(now));
            return None;
        }
        if self.pinged.is_some() {
            self.ping_due = None;
            return Some(Due::Dead);
        }
        self.pinged = Some(now);
        self.ping_due = Some(after(now, self.pong_timeout));
        Some(Due::Ping)
    }

    /// [`check`](Self::check) once the socket has been found empty, and
    /// when nothing is due, arms the timer for the next deadline so that
    /// the task wakes then.
    pub(crate) fn poll_due(&mut self, cx: &mut Context<'_>, data_sent: &AtomicBool) -> Poll<Due> {
        loop {
            if let Some(due) = self.check(data_sent, true) {
                return Poll::Ready(due);
            }
            let Some(next) = self.ping_due.into_iter().chain(self.idle_due).chain(self.message_due).min() else {
                return Poll::Pending;
            };
            let sleep = self.sleep.get_or_insert_with(|| Box::pin(sleep_until(next)));
            if sleep.deadline() != next {
                sleep.as_mut().reset(next);
            }
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            // The deadline has passed: look again.
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(ping: Option<u64>, idle: Option<u64>) -> Config {
        Config {
            ping_interval: ping.map(Duration::from_secs),
            pong_timeout: Duration::from_secs(5),
            idle_timeout: idle.map(Duration::from_secs),
            ..Config::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_message_has_its_time_from_the_first_wait_in_it() {
        let sent = AtomicBool::new(false);
        let mut t = Timers::new(&Config::default().with_message_timeout(Duration::from_secs(20))).unwrap();
        tokio::time::advance(Duration::from_secs(100)).await;
        assert_eq!(t.check(&sent, true), None, "between messages nothing is timed");
        t.waiting_in_message();
        tokio::time::advance(Duration::from_secs(15)).await;
        t.waiting_in_message();
        assert_eq!(t.check(&sent, true), None);
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(t.check(&sent, true), Some(Due::SlowMessage), "later waits do not restart the clock");
        // The next message has a clock of its own.
        t.data_received();
        t.waiting_in_message();
        tokio::time::advance(Duration::from_secs(19)).await;
        t.data_received();
        tokio::time::advance(Duration::from_secs(100)).await;
        assert_eq!(t.check(&sent, true), None, "a completed message is no longer timed");
    }

    #[tokio::test(start_paused = true)]
    async fn a_passed_deadline_waits_for_the_socket_to_be_read_but_not_for_ever() {
        let sent = AtomicBool::new(false);
        let mut t = Timers::new(&Config::default().with_message_timeout(Duration::from_secs(20))).unwrap();
        t.waiting_in_message();
        tokio::time::advance(Duration::from_secs(25)).await;
        // A busy reader (the socket not yet found empty) reads on first.
        assert_eq!(t.check(&sent, false), None);
        t.heard(GRACE_OCTETS - 1);
        assert_eq!(t.check(&sent, false), None);
        // Once the socket is empty, or once a peer that keeps it full has
        // had its grace, the deadline counts.
        assert_eq!(t.check(&sent, true), Some(Due::SlowMessage));
        t.waiting_in_message();
        tokio::time::advance(Duration::from_secs(25)).await;
        assert_eq!(t.check(&sent, false), None);
        t.heard(GRACE_OCTETS);
        assert_eq!(t.check(&sent, false), Some(Due::SlowMessage));
        // The keepalive ping itself is not a judgement: it goes out at once.
        let mut t = Timers::new(&config(Some(10), None)).unwrap();
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(t.check(&sent, false), Some(Due::Ping));
    }

    #[tokio::test(start_paused = true)]
    async fn idleness_put_off_by_a_message_arriving_leaves_its_deadline_alone() {
        // An idle timeout shorter than the message timeout, and a message
        // trickling in: progress puts idleness off, not the message's end.
        let sent = AtomicBool::new(false);
        let config =
            Config::default().with_idle_timeout(Duration::from_secs(20)).with_message_timeout(Duration::from_secs(30));
        let mut t = Timers::new(&config).unwrap();
        t.waiting_in_message();
        tokio::time::advance(Duration::from_secs(20)).await;
        assert_eq!(t.check(&sent, true), Some(Due::Idle));
        assert!(t.still_arriving(5));
        t.waiting_in_message();
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(t.check(&sent, true), Some(Due::SlowMessage), "30 s after the first wait");
    }

    #[test]
    fn no_timers_without_keepalive_or_idle() {
        assert!(Timers::new(&Config::default()).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_peer_is_pinged_then_dropped() {
        let sent = AtomicBool::new(false);
        let mut t = Timers::new(&config(Some(10), None)).unwrap();
        assert_eq!(t.check(&sent, true), None);
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(t.check(&sent, true), Some(Due::Ping));
        tokio::time::advance(Duration::from_secs(4)).await;
        assert_eq!(t.check(&sent, true), None);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(t.check(&sent, true), Some(Due::Dead));
    }

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_is_heard_is_not_pinged() {
        let sent = AtomicBool::new(false);
        let mut t = Timers::new(&config(Some(10), None)).unwrap();
        t.heard(1);
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(t.check(&sent, true), None);
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(t.check(&sent, true), Some(Due::Ping));
        // The answer arrives: alive again, and pinged an interval after
        // the last ping.
        t.heard(1);
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(t.check(&sent, true), None);
        tokio::time::advance(Duration::from_secs(4)).await;
        assert_eq!(t.check(&sent, true), None);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(t.check(&sent, true), Some(Due::Ping));
    }

    #[tokio::test(start_paused = true)]
    async fn data_either_way_keeps_a_connection_from_idling() {
        let sent = AtomicBool::new(false);
        let mut t = Timers::new(&config(None, Some(30))).unwrap();
        tokio::time::advance(Duration::from_secs(20)).await;
        t.data_received();
        tokio::time::advance(Duration::from_secs(20)).await;
        assert_eq!(t.check(&sent, true), None);
        sent.store(true, Ordering::Relaxed);
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(t.check(&sent, true), None, "a send pushes the deadline");
        tokio::time::advance(Duration::from_secs(30)).await;
        assert_eq!(t.check(&sent, true), Some(Due::Idle));
    }

    #[tokio::test(start_paused = true)]
    async fn a_message_counts_against_idleness_only_while_it_arrives() {
        let sent = AtomicBool::new(false);
        let mut t = Timers::new(&config(None, Some(30))).unwrap();
        tokio::time::advance(Duration::from_secs(30)).await;
        assert_eq!(t.check(&sent, true), Some(Due::Idle));
        assert!(t.still_arriving(100), "100 octets of the message came in the last 30 s");
        tokio::time::advance(Duration::from_secs(29)).await;
        assert_eq!(t.check(&sent, true), None, "the clock started again");
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(t.check(&sent, true), Some(Due::Idle));
        assert!(!t.still_arriving(100), "none came for 30 s: idle, mid-message or not");
    }
}
