//! A peer that keeps sending frames larger than the 8 KiB read scratch
//! (16 KiB here) gets each one read in a single read, into storage that is
//! reused from one frame to the next instead of allocated per frame —
//! whether the application drops each message before reading the next, or
//! echoes it with `feed` (the message then lives in the send queue until
//! the next read finds nothing and pushes the writes out). Measured with a
//! counting global allocator and a stream that counts the reads that
//! brought data (this file holds one test so that nothing else allocates
//! meanwhile).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use autostrada::proto::{FrameHeader, OpCode, Role};
use autostrada::{Config, WebSocket};
use bytes::BytesMut;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

#[path = "common/counted_io.rs"]
mod counted_io;
#[path = "common/counting.rs"]
mod counting;

use counted_io::{Counted, Counts};
use counting::LARGE;

#[global_allocator]
static ALLOCATOR: counting::Counting = counting::Counting;

/// The payload of each frame.
const LEN: usize = 16 << 10;
/// Frames sent before counting: the first ones size the reads.
const WARM_UP: usize = 4;
/// Frames counted.
const FRAMES: usize = 40;

/// One masked binary frame of `LEN` octets, as a client sends it.
fn frame(fill: u8) -> Vec<u8> {
    frame_of(LEN, fill)
}

/// One masked binary frame of `len` octets.
fn frame_of(len: usize, fill: u8) -> Vec<u8> {
    let header =
        FrameHeader { fin: true, rsv: 0, opcode: OpCode::Binary, mask: Some([1, 2, 3, 4]), payload_len: len as u64 };
    let (head, n) = header.encode();
    let mut wire = head[..n].to_vec();
    wire.resize(n + len, fill);
    wire
}

/// A server connection on a fresh pipe, and what its reads moved.
fn server() -> (WebSocket<Counted>, DuplexStream, Arc<Counts>) {
    let (ours, theirs) = tokio::io::duplex(4 << 20);
    let (stream, counts) = Counted::new(ours);
    (WebSocket::from_upgraded(stream, Role::Server, &Config::default(), BytesMut::new(), None), theirs, counts)
}

#[tokio::test(flavor = "current_thread")]
async fn frames_larger_than_the_scratch_take_one_read_each_into_reused_storage() {
    // Made before counting: the test's own allocations are not counted.
    let frames: Vec<Vec<u8>> = (0..WARM_UP + FRAMES).map(|i| frame(i as u8)).collect();
    // The application drops each message before it reads the next.
    let (mut ws, mut peer, counts) = server();
    let mut counted = (0, 0);
    for (i, wire) in frames.iter().enumerate() {
        if i == WARM_UP {
            counted = (counts.reads.load(Ordering::Relaxed), LARGE.load(Ordering::Relaxed));
        }
        peer.write_all(wire).await.unwrap();
        let payload = ws.next().await.unwrap().unwrap().into_payload();
        assert_eq!(payload.len(), LEN);
        // Unmasked: each octet is the fill XOR its key octet.
        let fill = i as u8;
        assert!(payload.chunks(4).all(|c| c == [fill ^ 1, fill ^ 2, fill ^ 3, fill ^ 4]), "frame {i} intact");
    }
    let read = counts.reads.load(Ordering::Relaxed) - counted.0;
    let allocated = LARGE.load(Ordering::Relaxed) - counted.1;
    assert_eq!(read, FRAMES, "{FRAMES} frames of {LEN} octets took {read} reads");
    assert!(allocated <= 1, "{FRAMES} frames allocated {allocated} buffers of 4 KiB or more");
    drop((ws, peer));

    // An echo: each message waits in the send queue until the next read
    // finds nothing and pushes the writes out.
    let (mut ws, peer, counts) = server();
    let (mut from_us, mut to_us) = tokio::io::split(peer);
    let mut echo = vec![0u8; LEN + 4];
    for (i, wire) in frames.iter().enumerate() {
        if i == WARM_UP {
            counted = (counts.reads.load(Ordering::Relaxed), LARGE.load(Ordering::Relaxed));
        }
        // The echo's read finds nothing yet and pushes the last echo out,
        // as it does while the peer waits for that echo; the peer reads it.
        // A task that waits gets a fresh cooperative budget from tokio, and
        // this one never waits otherwise: without it the pipe would refuse
        // writes after a while (the budget spent), and the echo stall.
        tokio::task::yield_now().await;
        assert!(futures_util::poll!(ws.next()).is_pending());
        if i > 0 {
            from_us.read_exact(&mut echo).await.unwrap();
            let fill = (i - 1) as u8;
            assert_eq!(echo[..4], [0x82, 126, 0x40, 0x00], "an unmasked 16 KiB binary frame");
            assert!(echo[4..].chunks(4).all(|c| c == [fill ^ 1, fill ^ 2, fill ^ 3, fill ^ 4]), "echo {fill} intact");
        }
        to_us.write_all(wire).await.unwrap();
        let message = ws.next().await.unwrap().unwrap();
        ws.feed(message).await.unwrap();
    }
    let read = counts.reads.load(Ordering::Relaxed) - counted.0;
    let allocated = LARGE.load(Ordering::Relaxed) - counted.1;
    assert_eq!(read, FRAMES, "{FRAMES} echoed frames of {LEN} octets took {read} reads");
    assert!(allocated <= 1, "{FRAMES} echoed frames allocated {allocated} buffers of 4 KiB or more");
    ws.flush().await.unwrap();
    from_us.read_exact(&mut echo).await.unwrap();

    // Two 1 MiB frames sent back to back: the reads into the first stop
    // soon past its end, so the second does not start in storage the
    // first message takes along (growing it for the rest of the second
    // would copy all of that into new storage).
    let (mut ws, mut peer, counts) = server();
    let (first, second) = (frame_of(1 << 20, 7), frame_of(1 << 20, 8));
    peer.write_all(&first).await.unwrap();
    peer.write_all(&second).await.unwrap();
    let held = ws.next().await.unwrap().unwrap();
    let read = counts.read_octets.load(Ordering::Relaxed);
    // At most a burst's read (128 KiB at most) past it; a grown buffer used
    // to read on to its end, here 2 MiB in all.
    assert!(read <= first.len() + (128 << 10), "{read} octets read for a frame of {}", first.len());
    let next = ws.next().await.unwrap().unwrap();
    assert_eq!((held.len(), next.len()), (1 << 20, 1 << 20));
}
