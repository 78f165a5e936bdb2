//! Keepalive, the idle timeout and pings that await their pong, over
//! in-memory pipes on tokio's paused clock: timers fire in virtual time, so
//! a five-minute keepalive test takes milliseconds and never flakes.

use std::time::Duration;

use autostrada::proto::Role;
use autostrada::{CloseCode, Config, Error, Message, WebSocket};
use bytes::BytesMut;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::time::Instant;

fn socket(io: DuplexStream, role: Role, config: &Config) -> WebSocket<DuplexStream> {
    WebSocket::from_upgraded(io, role, config, BytesMut::new(), None)
}

fn keepalive(interval: u64, timeout: u64) -> Config {
    Config::default().with_ping_interval(Duration::from_secs(interval)).with_pong_timeout(Duration::from_secs(timeout))
}

/// Reads everything a raw peer receives until the other side closes.
async fn drain(mut io: DuplexStream) -> Vec<u8> {
    let mut seen = Vec::new();
    let _ = io.read_to_end(&mut seen).await;
    seen
}

/// A masked client frame.
fn masked(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let key = [9, 8, 7, 6];
    let mut f = vec![0x80 | opcode, 0x80 | payload.len() as u8];
    f.extend_from_slice(&key);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    f
}

#[tokio::test(start_paused = true)]
async fn keepalive_drops_a_peer_that_stops_answering() {
    let (ours, peer) = tokio::io::duplex(1 << 16);
    let mut ws = socket(ours, Role::Server, &keepalive(30, 10));
    let seen = tokio::spawn(drain(peer));
    let start = Instant::now();
    let ended = ws.next().await;
    assert!(matches!(ended, Some(Err(Error::KeepaliveTimeout))), "{ended:?}");
    // Pinged after 30 s of silence, given 10 s to answer.
    assert_eq!(start.elapsed(), Duration::from_secs(40));
    assert!(ws.next().await.is_none(), "the stream ends after the keepalive error");
    drop(ws);
    let seen = seen.await.unwrap();
    let ping = b"\x89\x09keepalive";
    assert_eq!(&seen[..ping.len()], ping, "a ping first: {seen:?}");
    // RFC 6455 §7.4.1: 1011 (0x03f3), then the reason.
    let close = &seen[ping.len()..];
    assert_eq!(&close[..4], b"\x88\x13\x03\xf3", "then a close with 1011: {close:?}");
    assert_eq!(&close[4..], b"keepalive timeout");
}

#[tokio::test(start_paused = true)]
async fn keepalive_on_split_halves_as_a_client() {
    let (ours, peer) = tokio::io::duplex(1 << 16);
    let (mut read, _write) = socket(ours, Role::Client, &keepalive(5, 5)).split();
    let seen = tokio::spawn(drain(peer));
    let ended = read.next().await;
    assert!(matches!(ended, Some(Err(Error::KeepaliveTimeout))), "{ended:?}");
    drop((read, _write));
    let seen = seen.await.unwrap();
    // Client frames are masked: opcode 0x9 with the mask bit and 9 octets.
    assert_eq!(&seen[..2], b"\x89\x89", "a masked keepalive ping: {seen:?}");
}

#[tokio::test(start_paused = true)]
async fn keepalive_keeps_a_peer_that_answers_and_hides_its_pongs() {
    let (ours, theirs) = tokio::io::duplex(1 << 16);
    let mut server = socket(ours, Role::Server, &keepalive(30, 10));
    // The peer is an ordinary client that reads (and so answers pings).
    let mut client = socket(theirs, Role::Client, &Config::default());
    let client_saw = tokio::spawn(async move {
        let mut pings = 0;
        while let Some(Ok(m)) = client.next().await {
            if matches!(m, Message::Ping(_)) {
                pings += 1;
            }
        }
        pings
    });
    // Five quiet minutes: no error, and no keepalive pong handed to us.
    let quiet = tokio::time::timeout(Duration::from_secs(300), server.next()).await;
    assert!(quiet.is_err(), "nothing should surface while the peer answers: {quiet:?}");
    server.close(CloseCode::NORMAL, "done").await.unwrap();
    while server.next().await.is_some() {}
    let pings = client_saw.await.unwrap();
    assert!((9..=10).contains(&pings), "one ping per 30 s of silence, got {pings}");
}

#[tokio::test(start_paused = true)]
async fn a_peer_busy_sending_is_alive_without_answering() {
    let (ours, mut peer) = tokio::io::duplex(1 << 16);
    let mut ws = socket(ours, Role::Server, &keepalive(10, 5));
    tokio::spawn(async move {
        // A message every 4 s and never a pong.
        for _ in 0..30 {
            tokio::time::sleep(Duration::from_secs(4)).await;
            if peer.write_all(&masked(0x1, b"tick")).await.is_err() {
                return;
            }
        }
        let _ = peer.read_to_end(&mut Vec::new()).await;
    });
    for _ in 0..30 {
        let m = ws.next().await.expect("open").expect("no keepalive error while data flows");
        assert_eq!(m.as_text(), Some("tick"));
    }
}

#[tokio::test(start_paused = true)]
async fn the_idle_timeout_closes_a_quiet_connection() {
    let (ours, theirs) = tokio::io::duplex(1 << 16);
    let mut server = socket(ours, Role::Server, &Config::default().with_idle_timeout(Duration::from_secs(60)));
    let mut client = socket(theirs, Role::Client, &Config::default());
    let start = Instant::now();
    client.send(Message::text("hello")).await.unwrap();
    let client = tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Some(m) = client.next().await {
            seen.push(m);
        }
        seen
    });
    assert_eq!(server.next().await.unwrap().unwrap().as_text(), Some("hello"));
    let ended = server.next().await;
    assert!(matches!(ended, Some(Err(Error::IdleTimeout))), "{ended:?}");
    assert_eq!(start.elapsed(), Duration::from_secs(60));
    assert!(server.next().await.is_none());
    let seen = client.await.unwrap();
    let Some(Ok(Message::Close(Some(frame)))) = seen.first() else { panic!("the client sees our close: {seen:?}") };
    assert_eq!((frame.code, frame.reason.as_str()), (CloseCode::NORMAL, "idle timeout"));
}

/// A masked client frame without FIN: `payload` is the start of a message.
fn unfinished(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = masked(opcode, payload);
    f[0] &= 0x7f;
    f
}

#[tokio::test(start_paused = true)]
async fn a_message_begun_and_abandoned_does_not_keep_a_connection_open() {
    // The peer starts a message and goes quiet: idle once a whole timeout
    // passed without more of it. The clock that runs out first saw one
    // octet of payload arrive (120 s), or none, only a header (60 s).
    for (start, idle_after) in [(unfinished(0x1, b"h"), 120), (vec![0x82, 0xfe, 0x10, 0x00, 1, 2, 3, 4], 60)] {
        let (ours, mut peer) = tokio::io::duplex(1 << 16);
        let mut server = socket(ours, Role::Server, &Config::default().with_idle_timeout(Duration::from_secs(60)));
        let begun = Instant::now();
        peer.write_all(&start).await.unwrap();
        let ended = server.next().await;
        assert!(matches!(ended, Some(Err(Error::IdleTimeout))), "{ended:?}");
        assert_eq!(begun.elapsed(), Duration::from_secs(idle_after));
        drop(peer);
    }
}

/// Answering our keepalive pings is a sign of life, not progress on the
/// message it left unfinished.
#[tokio::test(start_paused = true)]
async fn pongs_do_not_keep_an_abandoned_message_open() {
    let (ours, mut peer) = tokio::io::duplex(1 << 16);
    let config = keepalive(20, 10).with_idle_timeout(Duration::from_secs(60));
    let mut server = socket(ours, Role::Server, &config);
    let begun = Instant::now();
    peer.write_all(&unfinished(0x2, b"x")).await.unwrap();
    // The peer answers every ping (server frames are unmasked, short).
    let answering = tokio::spawn(async move {
        let mut head = [0u8; 2];
        while peer.read_exact(&mut head).await.is_ok() {
            let mut payload = vec![0; usize::from(head[1] & 0x7f)];
            if peer.read_exact(&mut payload).await.is_err() {
                break;
            }
            if head[0] & 0x0f == 0x9 && peer.write_all(&masked(0xa, &payload)).await.is_err() {
                break;
            }
        }
    });
    let ended = server.next().await;
    assert!(matches!(ended, Some(Err(Error::IdleTimeout))), "{ended:?}");
    assert_eq!(begun.elapsed(), Duration::from_secs(120));
    drop(server);
    let _ = answering.await;
}

#[tokio::test(start_paused = true)]
async fn a_message_that_keeps_arriving_is_not_idleness() {
    let (ours, mut peer) = tokio::io::duplex(1 << 16);
    let mut server = socket(ours, Role::Server, &Config::default().with_idle_timeout(Duration::from_secs(60)));
    let reader = tokio::spawn(async move { server.next().await });
    // One fragment every 40 s for five minutes: never 60 s without octets.
    peer.write_all(&unfinished(0x1, b"a")).await.unwrap();
    for _ in 0..7 {
        tokio::time::sleep(Duration::from_secs(40)).await;
        assert!(!reader.is_finished(), "closed while the message was arriving");
        peer.write_all(&unfinished(0x0, b"a")).await.unwrap();
    }
    tokio::time::sleep(Duration::from_secs(40)).await;
    peer.write_all(&masked(0x0, b"!")).await.unwrap();
    let m = reader.await.unwrap().expect("open").expect("the message");
    assert_eq!(m.as_text(), Some("aaaaaaaa!"));
}

/// A peer that never reads: the send waiting on it fails after
/// `write_timeout`, even on an unsplit socket whose read half nobody polls.
#[tokio::test(start_paused = true)]
async fn a_send_to_a_peer_that_reads_nothing_times_out() {
    let (ours, _peer) = tokio::io::duplex(1024);
    let config = Config::default().with_write_timeout(Some(Duration::from_secs(30)));
    let mut server = socket(ours, Role::Server, &config);
    let begun = Instant::now();
    let sent = server.send(Message::binary(vec![7u8; 64 << 10])).await;
    let Err(Error::Io(e)) = sent else { panic!("{sent:?}") };
    assert_eq!(e.kind(), std::io::ErrorKind::TimedOut, "{e}");
    assert_eq!(begun.elapsed(), Duration::from_secs(30));
    // Broken for writing from then on (a frame may be half out): the next
    // send fails at once, not after another wait.
    let again = server.send(Message::text("later")).await;
    assert!(matches!(&again, Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::TimedOut), "{again:?}");
    assert_eq!(begun.elapsed(), Duration::from_secs(30));
}

/// An application that only reads: the writes are the library's own (pongs
/// to a peer that pings and never reads), and when they stall for
/// `write_timeout` the stream ends with that error instead of reading on
/// from a peer that can no longer be answered.
#[tokio::test(start_paused = true)]
async fn a_reader_whose_replies_stall_ends_after_the_write_timeout() {
    let (ours, mut peer) = tokio::io::duplex(256);
    let config = Config::default().with_write_timeout(Some(Duration::from_secs(30)));
    let mut server = socket(ours, Role::Server, &config);
    let begun = Instant::now();
    let pinger = tokio::spawn(async move {
        // Pings at 1 s intervals, their pongs never read.
        for _ in 0..120 {
            if peer.write_all(&masked(0x9, &[b'p'; 100])).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        peer
    });
    let ended = loop {
        match server.next().await {
            Some(Ok(Message::Ping(_))) => continue,
            other => break other,
        }
    };
    assert!(matches!(&ended, Some(Err(Error::Io(e))) if e.kind() == std::io::ErrorKind::TimedOut), "{ended:?}");
    // The pipe filled with the second pong; 30 s later it is over.
    assert!(begun.elapsed() <= Duration::from_secs(33), "{:?}", begun.elapsed());
    assert!(server.next().await.is_none(), "the stream ends after the error");
    pinger.abort();
}

/// A slow reader is not a dead one: every octet it takes restarts the clock.
#[tokio::test(start_paused = true)]
async fn a_send_to_a_slow_reader_completes() {
    let (ours, mut peer) = tokio::io::duplex(1024);
    let config = Config::default().with_write_timeout(Some(Duration::from_secs(30)));
    let mut server = socket(ours, Role::Server, &config);
    // 16 KiB taken 1 KiB every 20 s: five minutes, never 30 s without progress.
    let reader = tokio::spawn(async move {
        let mut got = 0;
        let mut chunk = [0u8; 1024];
        while got < (16 << 10) + 4 {
            tokio::time::sleep(Duration::from_secs(20)).await;
            got += peer.read(&mut chunk).await.unwrap();
        }
        got
    });
    server.send(Message::binary(vec![7u8; 16 << 10])).await.expect("sent, slowly");
    assert_eq!(reader.await.unwrap(), (16 << 10) + 4);
}

#[tokio::test(start_paused = true)]
async fn sending_keeps_a_connection_from_idling() {
    let (ours, theirs) = tokio::io::duplex(1 << 20);
    let config = Config::default().with_idle_timeout(Duration::from_secs(60));
    let (mut read, mut write) = socket(ours, Role::Server, &config).split();
    let mut client = socket(theirs, Role::Client, &Config::default());
    tokio::spawn(async move { while let Some(Ok(_)) = client.next().await {} });
    let reader = tokio::spawn(async move { read.next().await });
    // A broadcast every 30 s for ten minutes; the client never speaks.
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_secs(30)).await;
        write.send(Message::text("news")).await.unwrap();
        assert!(!reader.is_finished(), "closed while we were sending");
    }
    // Once we stop, the connection idles out within twice the timeout.
    let ended = tokio::time::timeout(Duration::from_secs(121), reader).await.expect("idle").unwrap();
    assert!(matches!(ended, Some(Err(Error::IdleTimeout))), "{ended:?}");
}

#[tokio::test(start_paused = true)]
async fn ping_resolves_with_the_round_trip_time() {
    let (ours, theirs) = tokio::io::duplex(1 << 16);
    let (mut read, mut write) = socket(ours, Role::Client, &Config::default()).split();
    let mut server = socket(theirs, Role::Server, &Config::default());
    // The server answers after a 250 ms delay in virtual time.
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(250)).await;
        while let Some(Ok(_)) = server.next().await {}
    });
    let reader = tokio::spawn(async move {
        let mut pongs = 0;
        while let Some(Ok(m)) = read.next().await {
            pongs += usize::from(matches!(m, Message::Pong(_)));
        }
        pongs
    });
    let pong = write.ping().await.unwrap();
    let rtt = pong.await.unwrap();
    assert!(rtt >= Duration::from_millis(250), "{rtt:?}");
    // Several at once resolve in order.
    let (a, b) = (write.ping().await.unwrap(), write.ping().await.unwrap());
    assert!(a.await.is_ok() && b.await.is_ok());
    write.close(CloseCode::NORMAL, "").await.unwrap();
    assert_eq!(reader.await.unwrap(), 3, "application pings' pongs are still handed over");
}

#[tokio::test(start_paused = true)]
async fn ping_on_an_unsplit_socket_with_select() {
    let (ours, theirs) = tokio::io::duplex(1 << 16);
    let mut ws = socket(ours, Role::Client, &Config::default());
    let mut server = socket(theirs, Role::Server, &Config::default());
    tokio::spawn(async move { while let Some(Ok(_)) = server.next().await {} });
    let mut pong = ws.ping().await.unwrap();
    let rtt = loop {
        tokio::select! {
            rtt = &mut pong => break rtt.unwrap(),
            m = ws.next() => assert!(matches!(m, Some(Ok(Message::Pong(_)))), "{m:?}"),
        }
    };
    assert!(rtt < Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn a_pong_that_never_comes_resolves_when_the_connection_ends() {
    let (ours, mut peer) = tokio::io::duplex(1 << 16);
    let (mut read, mut write) = socket(ours, Role::Client, &Config::default()).split();
    let pong = write.ping().await.unwrap();
    let reader = tokio::spawn(async move { read.next().await });
    // The peer reads the ping and hangs up without answering.
    let mut frame = [0u8; 2];
    peer.read_exact(&mut frame).await.unwrap();
    drop(peer);
    assert!(matches!(pong.await, Err(Error::NoPong)));
    assert!(matches!(reader.await.unwrap(), Some(Err(Error::ConnectionReset))));
}

#[tokio::test(start_paused = true)]
async fn a_ping_queued_behind_a_large_send_gets_its_time() {
    // The peer reads slowly (64 KiB every 5 s) and never speaks: our 1 MiB
    // message takes far longer than the pong timeout to leave, and the
    // keepalive ping waits behind it. The connection must live until the
    // data is through, then die once the ping has left unanswered.
    let (ours, mut peer) = tokio::io::duplex(64 << 10);
    let (mut read, mut write) = socket(ours, Role::Server, &keepalive(10, 5)).split();
    let reader = tokio::spawn(async move { read.next().await });
    let slow = tokio::spawn(async move {
        let mut buf = vec![0u8; 64 << 10];
        let mut total = 0usize;
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            match peer.read(&mut buf).await {
                Ok(0) | Err(_) => return total,
                Ok(n) => total += n,
            }
        }
    });
    write.send(Message::binary(vec![7u8; 1 << 20])).await.unwrap();
    let ended = reader.await.unwrap();
    assert!(matches!(ended, Some(Err(Error::KeepaliveTimeout))), "{ended:?}");
    assert!(slow.await.unwrap() > 1 << 20, "the whole message (and the ping) left first");
}

#[tokio::test(start_paused = true)]
async fn a_send_blocked_on_a_dead_peer_fails_when_keepalive_ends_the_connection() {
    // The peer neither reads nor speaks: our send fills the pipe and waits.
    let (ours, _peer) = tokio::io::duplex(4096);
    let (mut read, mut write) = socket(ours, Role::Server, &keepalive(10, 5)).split();
    let sender = tokio::spawn(async move {
        let sent = write.send(Message::binary(vec![1u8; 1 << 20])).await;
        (sent, write)
    });
    let ended = read.next().await;
    assert!(matches!(ended, Some(Err(Error::KeepaliveTimeout))), "{ended:?}");
    let (sent, mut write) = sender.await.unwrap();
    assert!(matches!(sent, Err(Error::ConnectionClosed)), "the blocked send is released: {sent:?}");
    // Our 1011 close went out before the end: later sends hear so.
    let more = write.send(Message::text("more")).await;
    assert!(matches!(more, Err(Error::Send(_) | Error::ConnectionClosed)), "{more:?}");
    let late = write.ping().await;
    assert!(late.is_err(), "no ping after the end: {late:?}");
}

/// A peer that trickles a message never looks idle; `message_timeout` is
/// the deadline that catches it, counted from the first wait inside the
/// message, whatever else (pings, more octets of it) arrives meanwhile,
/// and whether the idle timeout is longer or shorter.
#[tokio::test(start_paused = true)]
async fn a_trickled_message_runs_out_of_time() {
    // Fragmented (a first fragment, then octets of the last one) or one
    // frame whose payload trickles.
    let fragmented = [unfinished(0x1, b"ab"), masked(0x9, b"p"), vec![0x80, 0x85, 0, 0, 0, 0]].concat();
    let one_frame = vec![0x82, 0x8a, 0, 0, 0, 0];
    let starts = [(60, fragmented.clone()), (60, one_frame.clone()), (15, fragmented), (15, one_frame)];
    for (idle, start) in starts {
        let config = Config::default()
            .with_idle_timeout(Duration::from_secs(idle))
            .with_message_timeout(Duration::from_secs(30));
        let (ours, mut peer) = tokio::io::duplex(1 << 16);
        let mut server = socket(ours, Role::Server, &config);
        let begun = Instant::now();
        peer.write_all(&start).await.unwrap();
        let reader = tokio::spawn(async move {
            loop {
                match server.next().await {
                    Some(Ok(Message::Ping(_))) => continue,
                    ended => return (ended, Instant::now()),
                }
            }
        });
        // An octet every 10 s: progress enough for the idle timeout.
        for _ in 0..4 {
            tokio::time::sleep(Duration::from_secs(10)).await;
            if peer.write_all(b"x").await.is_err() {
                break;
            }
        }
        let (ended, at) = reader.await.unwrap();
        assert!(matches!(ended, Some(Err(Error::MessageTimeout))), "{ended:?}");
        assert_eq!(at - begun, Duration::from_secs(30));
        let mut seen = Vec::new();
        let _ = peer.read_to_end(&mut seen).await;
        // RFC 6455 §7.4.1: 1008 (0x03f0), then the reason (after the pong
        // the fragmented variant asked for).
        let close = &seen[seen.len() - 19..];
        assert_eq!(close, b"\x88\x11\x03\xf0message timeout", "{seen:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn each_message_has_its_own_deadline() {
    let (ours, mut peer) = tokio::io::duplex(1 << 16);
    let mut server = socket(ours, Role::Server, &Config::default().with_message_timeout(Duration::from_secs(30)));
    let reader = tokio::spawn(async move {
        let mut got = Vec::new();
        while let Some(Ok(message)) = server.next().await {
            got.push(message);
        }
        got
    });
    // Three messages, each 25 s in the making, and 100 s of quiet between
    // them: nothing runs out.
    for _ in 0..3 {
        peer.write_all(&[0x82, 0x82, 0, 0, 0, 0, b'o']).await.unwrap();
        tokio::time::sleep(Duration::from_secs(25)).await;
        peer.write_all(b"k").await.unwrap();
        tokio::time::sleep(Duration::from_secs(100)).await;
    }
    peer.write_all(&masked(0x8, b"\x03\xe8")).await.unwrap();
    let got = reader.await.unwrap();
    assert_eq!(got.len(), 4, "{got:?}");
    assert!(got[..3].iter().all(|m| *m == Message::Binary(bytes::Bytes::from_static(b"ok"))), "{got:?}");
}

/// Polls `ws` for one second of virtual time: a reader the application
/// stops polling (a `select!` that took another branch, a timeout).
async fn glance(ws: &mut WebSocket<DuplexStream>) {
    let looked = tokio::time::timeout(Duration::from_secs(1), ws.next()).await;
    assert!(looked.is_err(), "nothing to read yet: {looked:?}");
}

/// The timers judge the peer, not the application: what the peer sent in
/// time counts even when the application reads it late. Three deadlines,
/// each passed while the application looked away and the answer waited in
/// the socket: the rest of a message (`message_timeout`), a data message
/// (`idle_timeout`) and the keepalive's pong.
#[tokio::test(start_paused = true)]
async fn what_arrived_in_time_counts_however_late_it_is_read() {
    let slow = Config::default().with_message_timeout(Duration::from_secs(30));
    let idle = Config::default().with_idle_timeout(Duration::from_secs(30));
    let cases: [(&str, Config, Vec<u8>, Vec<u8>); 3] = [
        ("message", slow, vec![0x82, 0x82, 0, 0, 0, 0, b'o'], b"k".to_vec()),
        ("idle", idle, Vec::new(), masked(0x2, b"ok")),
        ("keepalive", keepalive(10, 5), Vec::new(), masked(0xa, b"keepalive")),
    ];
    for (name, config, start, rest) in cases {
        let (ours, mut peer) = tokio::io::duplex(1 << 16);
        let mut server = socket(ours, Role::Server, &config);
        peer.write_all(&start).await.unwrap();
        // Waits in the message (or between messages), then looks away.
        glance(&mut server).await;
        if name == "keepalive" {
            // Long enough for the keepalive ping to go out.
            tokio::time::sleep(Duration::from_secs(10)).await;
            glance(&mut server).await;
            let mut ping = [0; 11];
            peer.read_exact(&mut ping).await.unwrap();
            assert_eq!(&ping, b"\x89\x09keepalive");
        }
        // The peer answers within the deadline; the application reads a
        // minute later.
        tokio::time::sleep(Duration::from_secs(2)).await;
        peer.write_all(&rest).await.unwrap();
        tokio::time::sleep(Duration::from_secs(60)).await;
        peer.write_all(&masked(0x2, b"later")).await.unwrap();
        let want = if name == "keepalive" { vec![] } else { vec![Message::binary(&b"ok"[..])] };
        let mut got = Vec::new();
        while got.len() < want.len() + 1 {
            match tokio::time::timeout(Duration::from_secs(1), server.next()).await {
                Ok(Some(Ok(m))) => got.push(m),
                other => panic!("{name}: the connection should stay open, got {got:?} then {other:?}"),
            }
        }
        assert_eq!(&got[..want.len()], &want[..], "{name}");
        assert_eq!(got.last(), Some(&Message::binary(&b"later"[..])), "{name}");
    }
}
