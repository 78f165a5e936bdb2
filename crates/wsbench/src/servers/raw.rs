//! The ceiling: a TCP echo of the same octets, no WebSocket. Each
//! connection reads what is there and writes it back, as tight as tokio
//! allows, so its CPU per message is the kernel's share of every subject's.
//!
//! It is also the floor for memory: a connection waiting for data holds
//! its socket and its task and nothing else. Reads go to a scratch buffer
//! on the stack (never held across an await), and only octets the socket
//! would not take at once are copied out to wait for it.

use std::io::ErrorKind;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// The most one read takes in.
const READ: usize = 64 << 10;

/// Echoes until the peer closes.
pub async fn echo(mut tcp: TcpStream) {
    loop {
        if tcp.readable().await.is_err() {
            return;
        }
        let rest = match read_and_echo(&tcp) {
            Step::Again => continue,
            Step::Done => return,
            Step::Echoed => continue,
            Step::Blocked(rest) => rest,
        };
        if tcp.write_all(&rest).await.is_err() {
            return;
        }
    }
}

/// What one read-and-echo round did.
enum Step {
    /// The readiness was stale: nothing to read yet.
    Again,
    /// The peer closed, or the socket failed.
    Done,
    /// All that was read went straight back out.
    Echoed,
    /// The socket took only part of it: the rest, to write when it can.
    Blocked(Vec<u8>),
}

/// Reads what is there into the stack scratch and writes it back as far as
/// the socket takes it without waiting.
fn read_and_echo(tcp: &TcpStream) -> Step {
    let mut buf = [0u8; READ];
    let n = match tcp.try_read(&mut buf) {
        Ok(0) => return Step::Done,
        Ok(n) => n,
        Err(e) if e.kind() == ErrorKind::WouldBlock => return Step::Again,
        Err(_) => return Step::Done,
    };
    let mut sent = 0;
    while sent < n {
        match tcp.try_write(&buf[sent..n]) {
            Ok(0) => return Step::Done,
            Ok(k) => sent += k,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Step::Blocked(buf[sent..n].to_vec()),
            Err(_) => return Step::Done,
        }
    }
    Step::Echoed
}
