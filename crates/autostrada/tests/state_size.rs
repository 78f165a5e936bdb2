//! The state every connection's task carries for as long as it lives,
//! kept small (see also `idle_memory.rs`, which measures the heap). Apart
//! from `idle_memory.rs`, whose process-wide heap counter must see no other
//! test's allocations.

use autostrada::ServerBuilder;

/// What every connection's task carries for as long as it lives.
#[test]
fn connection_state_stays_small() {
    use std::mem::size_of_val;
    // The stream is inline, and tokio's `TcpStream` is 32 to 168 octets
    // depending on tokio's features: what is bounded is the rest.
    let stream = size_of::<tokio::net::TcpStream>();
    let ws = size_of::<autostrada::WebSocket<tokio::net::TcpStream>>() - stream;
    // 264 when written: the reader's state (128), the encoder (24) and,
    // beside the stream, the outbox and flags the halves share once split
    // (112). A connection that is not split makes no allocation of its own.
    // Every octet counts: tokio allocates a task in steps of 128 octets,
    // and 8 more here once cost wsbench's idle connections 128 each.
    assert!(ws <= 264, "WebSocket<TcpStream> is {ws} octets and the stream");
    // Split, each half keeps its part and a pointer to the shared state.
    let recv = size_of::<autostrada::RecvHalf<tokio::net::TcpStream>>();
    assert!(recv <= 136, "RecvHalf<TcpStream> is {recv} octets");
    let send = size_of::<autostrada::SendHalf<tokio::net::TcpStream>>();
    assert!(send <= 32, "SendHalf<TcpStream> is {send} octets");
    // The handshake runs boxed: awaiting it adds a pointer or two to the
    // caller's task, not the handshake's buffers and timer.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tcp = tokio::net::TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let server = ServerBuilder::new();
        let handshake = server.accept(tcp);
        assert!(size_of_val(&handshake) <= 32, "accept's future is {} octets", size_of_val(&handshake));
        // The same on the client side, with or without a stream of one's own.
        let tcp = tokio::net::TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let client = autostrada::ClientBuilder::new();
        let on = client.connect_on(tcp, "ws://localhost/");
        assert!(size_of_val(&on) <= 32, "connect_on's future is {} octets", size_of_val(&on));
        let connecting = client.connect("ws://localhost/");
        assert!(size_of_val(&connecting) <= 32, "connect's future is {} octets", size_of_val(&connecting));
        let free = autostrada::connect("ws://localhost/");
        assert!(size_of_val(&free) <= 32, "autostrada::connect's future is {} octets", size_of_val(&free));
    });
}
