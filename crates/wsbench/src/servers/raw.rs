//! The ceiling: a TCP echo of the same octets, no WebSocket. Each
//! connection reads what is there and writes it back, as tight as tokio
//! allows, so its CPU per message is the kernel's share of every subject's.
//!
//! It is also the floor for memory: a connection waiting for data holds
//! its socket and its task and nothing else. Each read goes to a scratch
//! buffer on the stack inside one poll (never held across an await), and
//! only octets the socket would not take at once are copied out to wait.

use std::future::poll_fn;
use std::io::ErrorKind;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Poll, ready};

use tokio::io::{AsyncRead, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

/// The most one read takes in.
const READ: usize = 64 << 10;

/// Echoes until the peer closes.
pub async fn echo(mut tcp: TcpStream) {
    loop {
        // `poll_read`, not `readable` + `try_read`: tokio forgets the
        // socket's readiness after a short read, so the next round waits
        // for data instead of making a read that would block.
        let step = poll_fn(|cx| {
            // Uninitialised: clearing 64 KiB per read would cost more than the echo.
            let mut scratch = [MaybeUninit::<u8>::uninit(); READ];
            let mut buf = ReadBuf::uninit(&mut scratch);
            if ready!(Pin::new(&mut tcp).poll_read(cx, &mut buf)).is_err() || buf.filled().is_empty() {
                return Poll::Ready(None);
            }
            Poll::Ready(Some(write_now(&tcp, buf.filled())))
        })
        .await;
        match step {
            None | Some(Err(())) => return,
            Some(Ok(None)) => {}
            Some(Ok(Some(rest))) => {
                if tcp.write_all(&rest).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Writes `data` as far as the socket takes it without waiting; returns
/// what it would not take yet, copied out.
fn write_now(tcp: &TcpStream, data: &[u8]) -> Result<Option<Vec<u8>>, ()> {
    let mut sent = 0;
    while sent < data.len() {
        match tcp.try_write(&data[sent..]) {
            Ok(0) => return Err(()),
            Ok(k) => sent += k,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(Some(data[sent..].to_vec())),
            Err(_) => return Err(()),
        }
    }
    Ok(None)
}
