//! An in-memory stream that counts the reads and writes that moved data,
//! and the octets read: for tests about system calls per message, run on
//! the server's side of a pipe. Include with `#[path =
//! "common/counted_io.rs"] mod counted_io;`.
#![allow(dead_code)]

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};

/// What a [`Counted`] stream has moved so far.
#[derive(Debug, Default)]
pub struct Counts {
    /// Reads that brought at least one octet.
    pub reads: AtomicUsize,
    /// Octets those reads brought.
    pub read_octets: AtomicUsize,
    /// Writes that took at least one octet.
    pub writes: AtomicUsize,
}

/// A pipe end that counts what moves through it.
pub struct Counted {
    inner: DuplexStream,
    counts: Arc<Counts>,
}

impl Counted {
    /// Wraps `inner`; the counts are read through the returned handle.
    pub fn new(inner: DuplexStream) -> (Self, Arc<Counts>) {
        let counts = Arc::new(Counts::default());
        (Self { inner, counts: counts.clone() }, counts)
    }
}

impl AsyncRead for Counted {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        let moved = buf.filled().len() - before;
        if matches!(polled, Poll::Ready(Ok(()))) && moved > 0 {
            self.counts.reads.fetch_add(1, Ordering::Relaxed);
            self.counts.read_octets.fetch_add(moved, Ordering::Relaxed);
        }
        polled
    }
}

impl AsyncWrite for Counted {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.counts.writes.fetch_add(1, Ordering::Relaxed);
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
