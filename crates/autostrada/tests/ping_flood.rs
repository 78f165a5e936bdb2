//! A peer that floods pings and never reads our replies must not make us
//! queue a pong per ping: a million pings over a 1 KiB in-memory pipe leave
//! the pongs the pipe holds plus a kilobyte's worth, the last of them
//! answering the newest ping (RFC 6455 §5.5.3).

use autostrada::proto::{PONG_BUDGET, Role};
use autostrada::{Config, Message, WebSocket};
use bytes::BytesMut;
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PINGS: u32 = 1_000_000;
const PIPE: usize = 1024;

/// A masked client frame with a 4-octet payload.
fn masked(opcode: u8, payload: [u8; 4]) -> [u8; 10] {
    let key = [0x37, 0xfa, 0x21, 0x3d];
    let mut f = [0x80 | opcode, 0x80 | 4, key[0], key[1], key[2], key[3], 0, 0, 0, 0];
    for i in 0..4 {
        f[6 + i] = payload[i] ^ key[i];
    }
    f
}

#[tokio::test]
async fn a_million_unread_pings_leave_a_bounded_queue_of_pongs() {
    let (ours, theirs) = tokio::io::duplex(PIPE);
    let (mut their_read, mut their_write) = tokio::io::split(theirs);
    let flood = tokio::spawn(async move {
        let mut batch = Vec::with_capacity(4096 * 10);
        for i in 0..PINGS {
            batch.extend_from_slice(&masked(0x9, i.to_be_bytes()));
            if batch.len() == batch.capacity() || i == PINGS - 1 {
                their_write.write_all(&batch).await.unwrap();
                batch.clear();
            }
        }
        // Close with 1000 (payload 03 e8 plus two octets of reason "ok").
        their_write.write_all(&masked(0x8, [0x03, 0xe8, b'o', b'k'])).await.unwrap();
        their_write
    });
    let mut ws = WebSocket::from_upgraded(ours, Role::Server, &Config::default(), BytesMut::new(), None);
    let server = tokio::spawn(async move {
        let mut pings = 0u32;
        while let Some(m) = ws.next().await {
            match m.expect("no error") {
                Message::Ping(_) => pings += 1,
                Message::Close(_) => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        pings
    });
    // Every ping is read while none of our pongs is: the flood ends.
    let _their_write = flood.await.unwrap();
    // Now read what we were sent: pongs, then the close reply.
    let mut wire = Vec::new();
    their_read.read_to_end(&mut wire).await.unwrap();
    assert_eq!(server.await.unwrap(), PINGS);
    let mut pongs = Vec::new();
    let mut rest = &wire[..];
    while rest.len() >= 2 && rest[0] == 0x8a {
        let len = usize::from(rest[1]);
        pongs.push(rest[2..2 + len].to_vec());
        rest = &rest[2 + len..];
    }
    assert_eq!(rest, b"\x88\x02\x03\xe8", "the pongs are followed by the close reply");
    // What the pipe took (one pong perhaps cut in two, then finished), and
    // what the pong budget holds: the last one answering the newest ping.
    assert!(
        pongs.len() <= PIPE.div_ceil(6) + PONG_BUDGET / 6 + 1,
        "{} pongs were queued for {PINGS} pings",
        pongs.len()
    );
    assert_eq!(pongs.last().unwrap(), &(PINGS - 1).to_be_bytes(), "the last pong answers the newest ping");
}
