//! A message the application holds keeps the storage it was read into
//! alive, and a burst or a large frame is read into a large buffer: small
//! messages that arrived in one are copied out of it, so that holding them
//! holds about their own size, not the buffer. Measured with a counting
//! global allocator (this file holds one test so that nothing else
//! allocates meanwhile).

use std::sync::atomic::Ordering;

use autostrada::proto::{FrameHeader, OpCode, Role, apply_mask};
use autostrada::{Config, Message, WebSocket};
use bytes::BytesMut;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

#[path = "common/counting.rs"]
mod counting;

use counting::CURRENT;

#[global_allocator]
static ALLOCATOR: counting::Counting = counting::Counting;

/// A client's binary frame carrying `payload`.
fn frame(payload: &[u8]) -> Vec<u8> {
    let key = [1, 2, 3, 4];
    let header =
        FrameHeader { fin: true, rsv: 0, opcode: OpCode::Binary, mask: Some(key), payload_len: payload.len() as u64 };
    let (head, n) = header.encode();
    let mut wire = head[..n].to_vec();
    let start = wire.len();
    wire.extend_from_slice(payload);
    apply_mask(&mut wire[start..], key, 0);
    wire
}

/// Reads messages of `sizes` octets, all sent in one write, on a thread of
/// its own (whose spare buffers go when it ends); returns those `keep`
/// picks, the others dropped as they come.
fn read_in_one_write(sizes: Vec<usize>, keep: fn(usize) -> bool) -> Vec<Message> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let wire: Vec<u8> = sizes.iter().flat_map(|&size| frame(&vec![9u8; size])).collect();
            let (ours, mut theirs) = tokio::io::duplex(wire.len() + 1);
            theirs.write_all(&wire).await.unwrap();
            drop(wire);
            let mut ws = WebSocket::from_upgraded(ours, Role::Server, &Config::default(), BytesMut::new(), None);
            let mut held = Vec::new();
            for (i, &size) in sizes.iter().enumerate() {
                let message = ws.next().await.unwrap().unwrap();
                assert_eq!(message.len(), size);
                if keep(i) {
                    held.push(message);
                }
            }
            held
        })
    })
    .join()
    .unwrap()
}

/// What `held` keeps allocated beyond `before`, checking that they are intact.
fn holding(before: usize, held: Vec<Message>) -> (usize, usize) {
    let now = CURRENT.load(Ordering::Relaxed).saturating_sub(before);
    let mut own = 0;
    for message in held {
        own += message.len();
        assert!(message.into_payload().iter().all(|&b| b == 9), "a held message was written over");
    }
    (own, now)
}

#[test]
fn small_messages_read_in_a_large_buffer_do_not_hold_it() {
    // Behind a megabyte frame (dropped): a few octets, 2 KiB, 20 KiB.
    let before = CURRENT.load(Ordering::Relaxed);
    let held = read_in_one_write(vec![1 << 20, 10, 2 << 10, 20 << 10], |i| i > 0);
    let (own, now) = holding(before, held);
    // Their own octets and the vector's, give or take allocator rounding:
    // nowhere near the megabyte they arrived behind.
    assert!(now < own * 2 + 4096, "messages of {own} octets read behind a megabyte frame hold {now}");
    // A burst of 1 KiB messages, read in large reads, of which one in 16 is
    // kept. A read of under 4 KiB goes into storage of its own size, which
    // its messages share: each may keep up to that.
    let before = CURRENT.load(Ordering::Relaxed);
    let held = read_in_one_write(vec![1 << 10; 256], |i| i % 16 == 0);
    let (own, now) = holding(before, held);
    assert!(now <= own * 4 + 4096, "messages of {own} octets kept from a burst hold {now}");
}
