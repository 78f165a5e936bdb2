//! The byte stream under the wire peer: a TCP connection as is (`ws://`),
//! or TLS over it (`wss://`, client or server side). Split into a read side
//! and a write side the driver polls at once.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use autostrada::tokio_rustls::{client, server};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// A connected stream, before it is split.
#[derive(Debug)]
pub enum Stream {
    /// Plain TCP.
    Tcp(TcpStream),
    /// TLS, we are the client.
    TlsClient(Box<client::TlsStream<TcpStream>>),
    /// TLS, we are the server.
    TlsServer(Box<server::TlsStream<TcpStream>>),
}

type BoxedRead = Box<dyn AsyncRead + Send + Unpin>;
type BoxedWrite = Box<dyn AsyncWrite + Send + Unpin>;

/// The read side of a [`Stream`].
pub enum Reader {
    /// Plain TCP: its socket can be peeked at (the driver's busy poll).
    Tcp(OwnedReadHalf),
    /// TLS.
    Tls(BoxedRead),
}

/// The write side of a [`Stream`].
pub enum Writer {
    /// Plain TCP.
    Tcp(OwnedWriteHalf),
    /// TLS.
    Tls(BoxedWrite),
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Tcp(_) => "Reader::Tcp",
            Self::Tls(_) => "Reader::Tls",
        })
    }
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Tcp(_) => "Writer::Tcp",
            Self::Tls(_) => "Writer::Tls",
        })
    }
}

impl Stream {
    /// Splits into halves that can be read and written at once.
    #[must_use]
    pub fn split(self) -> (Reader, Writer) {
        fn tls<S: AsyncRead + AsyncWrite + Send + 'static>(s: S) -> (Reader, Writer) {
            let (r, w) = tokio::io::split(s);
            (Reader::Tls(Box::new(r)), Writer::Tls(Box::new(w)))
        }
        match self {
            Self::Tcp(tcp) => {
                let (r, w) = tcp.into_split();
                (Reader::Tcp(r), Writer::Tcp(w))
            }
            Self::TlsClient(s) => tls(*s),
            Self::TlsServer(s) => tls(*s),
        }
    }
}

impl Reader {
    /// The TCP socket, when there is no TLS between it and us.
    #[must_use]
    pub fn tcp(&self) -> Option<&OwnedReadHalf> {
        match self {
            Self::Tcp(r) => Some(r),
            Self::Tls(_) => None,
        }
    }
}

impl Writer {
    /// True over TLS, which holds written octets until flushed.
    #[must_use]
    pub fn is_tls(&self) -> bool {
        matches!(self, Self::Tls(_))
    }
}

impl AsyncRead for Reader {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(r) => Pin::new(r).poll_read(cx, buf),
            Self::Tls(r) => Pin::new(r).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Writer {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Tcp(w) => Pin::new(w).poll_write(cx, buf),
            Self::Tls(w) => Pin::new(w).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(w) => Pin::new(w).poll_flush(cx),
            Self::Tls(w) => Pin::new(w).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(w) => Pin::new(w).poll_shutdown(cx),
            Self::Tls(w) => Pin::new(w).poll_shutdown(cx),
        }
    }
}
