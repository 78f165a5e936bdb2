//! Memory per idle connection: the server's resident set before and after
//! N connections have opened and each exchanged one small message (with
//! compression: after permessage-deflate was negotiated and used once), the
//! growth divided by N.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::cells::{Cell, Kind};
use crate::load::{Conn, LoadSpec, open_all};
use crate::{payload, procstat};

/// The size of the one message each idle connection exchanges.
const HELLO: usize = 64;

/// What the memory run measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdleResult {
    /// Connections that opened and echoed.
    pub conns: usize,
    /// Whether permessage-deflate was negotiated on each.
    pub deflate: bool,
    /// The server's RSS before, in KiB.
    pub rss_before_kib: u64,
    /// The server's RSS with every connection open and idle, in KiB.
    pub rss_after_kib: u64,
    /// (after − before) / conns, in octets.
    pub bytes_per_conn: f64,
}

/// Opens `conns` connections to the server at `addr` (process `pid`), has
/// each exchange one message, and reads the server's RSS growth.
///
/// # Errors
/// When the server cannot be reached or its `/proc` entry read.
pub async fn run(addr: &str, websocket: bool, deflate: bool, conns: usize, pid: u32) -> Result<IdleResult, String> {
    let kind = if deflate { Kind::Deflate } else { Kind::Binary };
    let spec = LoadSpec {
        addr: addr.to_owned(),
        websocket,
        cell: Cell { conns, size: HELLO, inflight: 1, kind },
        warmup: Duration::ZERO,
        duration: Duration::ZERO,
        server_pid: Some(pid),
        batch_writes: false,
    };
    let before = procstat::rss_kib(pid)?;
    let mut open = open_all(&spec, conns).await?;
    let hello = payload::make(kind, HELLO);
    let mut echoed = 0;
    for chunk in open.chunks_mut(256) {
        let rounds = chunk.iter_mut().map(|c| exchange(c, kind, hello.clone()));
        echoed += futures_util::future::join_all(rounds).await.into_iter().filter(|ok| *ok).count();
    }
    let after = settled_rss(pid).await?;
    drop(open);
    if echoed == 0 {
        return Err(format!("none of the {conns} connections to {addr} echoed its message"));
    }
    Ok(IdleResult {
        conns: echoed,
        deflate,
        rss_before_kib: before,
        rss_after_kib: after,
        bytes_per_conn: (after.saturating_sub(before) * 1024) as f64 / echoed as f64,
    })
}

/// One message out and its echo back.
async fn exchange(conn: &mut Conn, kind: Kind, hello: bytes::Bytes) -> bool {
    match conn {
        Conn::Ws(ws) => {
            if ws.send(crate::load::message(kind, &hello)).await.is_err() {
                return false;
            }
            matches!(ws.next().await, Some(Ok(m)) if m.is_data() && m.len() == HELLO)
        }
        Conn::Raw(tcp) => {
            let mut back = [0u8; HELLO];
            tcp.write_all(&hello).await.is_ok() && tcp.read_exact(&mut back).await.is_ok()
        }
    }
}

/// The server's RSS once it stops moving: read every 200 ms until two
/// readings agree within 0.1%, at most 5 s.
async fn settled_rss(pid: u32) -> Result<u64, String> {
    let mut last = procstat::rss_kib(pid)?;
    for _ in 0..25 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = procstat::rss_kib(pid)?;
        if now.abs_diff(last) * 1000 <= last {
            return Ok(now);
        }
        last = now;
    }
    Ok(last)
}
