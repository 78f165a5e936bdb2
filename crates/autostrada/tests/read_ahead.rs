//! Memory follows what a peer sends, not what its frame header claims: a
//! header announcing a 16 MiB frame, followed by a hundred octets, costs a
//! read buffer, not 16 MiB and not the 1 MiB read-ahead cap; as its
//! payload arrives, the buffer stays within a few times what came. And a frame
//! that arrives in two reads is read into one buffer, not moved into a
//! larger one halfway. Measured with a counting global allocator (this file
//! holds one test so that nothing else allocates meanwhile).

use std::sync::atomic::Ordering;

use autostrada::proto::{FrameHeader, OpCode, Role};
use autostrada::{Config, WebSocket};
use bytes::BytesMut;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

#[path = "common/counting.rs"]
mod counting;

use counting::{CURRENT, PEAK};

#[global_allocator]
static ALLOCATOR: counting::Counting = counting::Counting;

#[tokio::test(flavor = "current_thread")]
async fn a_claimed_frame_length_does_not_size_the_read_buffer() {
    let (ours, mut theirs) = tokio::io::duplex(64 * 1024);
    let header = FrameHeader {
        fin: true,
        rsv: 0,
        opcode: OpCode::Binary,
        mask: Some([9, 8, 7, 6]),
        payload_len: (16 << 20) - 1,
    };
    let (head, n) = header.encode();
    let mut wire = head[..n].to_vec();
    wire.extend_from_slice(&[0u8; 100]);
    theirs.write_all(&wire).await.unwrap();
    let mut ws = WebSocket::from_upgraded(ours, Role::Server, &Config::default(), BytesMut::new(), None);
    let chunk = vec![0u8; 32 << 10];
    let before = CURRENT.load(Ordering::Relaxed);
    // One poll: it reads the header and the hundred octets, then waits.
    assert!(futures_util::poll!(ws.next()).is_pending());
    let grown = CURRENT.load(Ordering::Relaxed).saturating_sub(before);
    assert!(grown < 128 << 10, "reading a 16 MiB claim and 100 octets took {grown} octets");
    // As octets do arrive, the buffer keeps up with them, and stays within
    // four times what arrived, and a burst read, as it grows.
    let mut arrived = 100;
    for _ in 0..12 {
        theirs.write_all(&chunk).await.unwrap();
        arrived += 32 << 10;
        assert!(futures_util::poll!(ws.next()).is_pending());
        let grown = CURRENT.load(Ordering::Relaxed).saturating_sub(before);
        assert!(grown <= arrived * 4 + (128 << 10), "{arrived} octets of a frame arrived, the buffer took {grown}");
    }
    drop(theirs);
    drop(ws);
    a_frame_in_two_reads_is_not_moved().await;
}

/// A 16 KiB frame, all there at once: the first read (the 8 KiB stack
/// scratch) sees its header and sizes the buffer for all of it; the second
/// fills it. Growing the buffer instead would allocate a second one while
/// the first still holds the 8 KiB.
async fn a_frame_in_two_reads_is_not_moved() {
    let (ours, mut theirs) = tokio::io::duplex(64 * 1024);
    let len = 16 << 10;
    let header = FrameHeader { fin: true, rsv: 0, opcode: OpCode::Binary, mask: Some([1, 2, 3, 4]), payload_len: len };
    let (head, n) = header.encode();
    let mut wire = head[..n].to_vec();
    wire.resize(n + len as usize, 0);
    theirs.write_all(&wire).await.unwrap();
    let mut ws = WebSocket::from_upgraded(ours, Role::Server, &Config::default(), BytesMut::new(), None);
    let before = CURRENT.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let message = ws.next().await.unwrap().unwrap();
    assert_eq!(message.len(), len as usize);
    let peak = PEAK.load(Ordering::Relaxed) - before;
    assert!(peak < wire.len() + 4096, "a {}-octet frame took {peak} octets at peak", wire.len());
}
