//! A peer that first drives the read size up with a flood of small
//! messages and then leaves a frame half sent must not make the connection
//! hold the large read buffer while it waits: what a waiting connection
//! holds stays in proportion to the frame it waits on, whatever came
//! before (a review measured 117–140 KB per connection for 12 KiB of a
//! 16 KiB frame, against 20 KB without the flood).

#[path = "common/counting.rs"]
mod counting;

use std::sync::atomic::Ordering;

use autostrada::proto::Role;
use autostrada::{Config, WebSocket};
use bytes::BytesMut;
use futures_util::{FutureExt, StreamExt};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

#[global_allocator]
static A: counting::Counting = counting::Counting;

/// A masked binary frame (all-zero key) claiming `len` octets of payload
/// and carrying the first `sent` of them.
fn frame(len: usize, sent: usize) -> Vec<u8> {
    let mut f = vec![0x82];
    if len < 126 {
        f.push(0x80 | len as u8);
    } else {
        f.push(0x80 | 126);
        f.extend_from_slice(&(len as u16).to_be_bytes());
    }
    f.extend_from_slice(&[0; 4]);
    f.resize(f.len() + sent, b'x');
    f
}

/// What the server's connection holds (heap octets freed when it is
/// dropped) once it waits on `partial` octets of a 16 KiB frame, after
/// `flood` 120-octet messages.
async fn held_while_waiting(flood: usize, partial: usize) -> usize {
    let config = Config::default().with_max_frame_size(16 << 10).with_max_message_size(16 << 10);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut peer = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    let (ours, _) = listener.accept().await.unwrap();
    let mut ws = WebSocket::from_upgraded(ours, Role::Server, &config, BytesMut::new(), None);
    let mut octets: Vec<u8> = (0..flood).flat_map(|_| frame(120, 120)).collect();
    octets.extend(frame(16 << 10, partial));
    let writer = tokio::spawn(async move {
        peer.write_all(&octets).await.unwrap();
        peer
    });
    for _ in 0..flood {
        assert!(matches!(ws.next().await, Some(Ok(_))));
    }
    // Everything is in the socket once the writer is done; the reader then
    // takes it all and waits for the rest of the frame.
    let peer = writer.await.unwrap();
    if let Some(polled) = ws.next().now_or_never() {
        panic!("the frame is incomplete, yet the stream gave {polled:?}");
    }
    let before = counting::CURRENT.load(Ordering::Relaxed);
    drop(ws);
    let held = before - counting::CURRENT.load(Ordering::Relaxed);
    drop(peer);
    held
}

#[tokio::test]
async fn a_flood_of_small_messages_does_not_inflate_a_later_wait() {
    for partial in [100, 2 << 10, 12 << 10, (16 << 10) - 1] {
        let quiet = held_while_waiting(0, partial).await;
        let flooded = held_while_waiting(2000, partial).await;
        eprintln!(
            "waiting on {partial} octets of a 16 KiB frame: {quiet} octets held without a flood, {flooded} after one"
        );
        // The frame's 16 KiB, twice, at most.
        assert!(flooded <= 32 << 10, "{partial} octets: {flooded} held after a flood (without: {quiet})");
    }
}
