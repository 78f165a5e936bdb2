//! Helpers shared by the integration tests: an echo server on an ephemeral
//! port, and a raw client that speaks frames by hand.
#![allow(dead_code)]

use std::net::SocketAddr;

use autostrada::proto::{FrameHeader, OpCode, Receiver, Role, Sender, handshake};
use autostrada::{Config, Message, ServerBuilder};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// What the echo server saw on one connection.
#[derive(Debug)]
pub struct ServerLog {
    pub messages: Vec<Message>,
    pub error: Option<String>,
}

/// Starts an echo server with `config`; each finished connection's log is
/// sent on the returned channel.
pub async fn echo_server(config: Config) -> (SocketAddr, mpsc::UnboundedReceiver<ServerLog>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    let server = ServerBuilder::new().config(config);
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let server = server.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut log = ServerLog { messages: Vec::new(), error: None };
                match server.accept(tcp).await {
                    Ok(mut ws) => {
                        while let Some(m) = ws.next().await {
                            match m {
                                Ok(m) => {
                                    if m.is_data() {
                                        let _ = ws.send(m.clone()).await;
                                    }
                                    log.messages.push(m);
                                }
                                Err(e) => log.error = Some(e.to_string()),
                            }
                        }
                    }
                    Err(e) => log.error = Some(e.to_string()),
                }
                let _ = tx.send(log);
            });
        }
    });
    (addr, rx)
}

/// A client that writes frames by hand over a raw TCP stream.
pub struct RawClient {
    pub tcp: TcpStream,
    pub rx: Receiver,
    pub tx: Sender,
}

impl RawClient {
    /// Connects and performs the opening handshake by hand.
    pub async fn connect(addr: SocketAddr) -> Self {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        let target = handshake::Target::from_uri(&format!("ws://{addr}/").parse().unwrap()).unwrap();
        let key = handshake::generate_key();
        tcp.write_all(&handshake::client_request(&target, &key, &http::HeaderMap::new())).await.unwrap();
        let mut buf = Vec::new();
        let mut rx = Receiver::new(Role::Client, &Config::default());
        loop {
            let mut chunk = [0u8; 1024];
            let n = tcp.read(&mut chunk).await.unwrap();
            assert!(n > 0, "server closed during handshake");
            buf.extend_from_slice(&chunk[..n]);
            if let Some((resp, n)) = handshake::parse_response(&buf, &Default::default()).unwrap() {
                handshake::check_response(&resp, &key, &[], false).unwrap();
                rx.receive_data(&buf[n..]);
                break;
            }
        }
        Self { tcp, rx, tx: Sender::new(Role::Client, &Config::default()) }
    }

    /// Writes one frame, masked with a fixed key, exactly as described.
    pub async fn frame(&mut self, fin: bool, rsv: u8, opcode: OpCode, payload: &[u8]) {
        let header = FrameHeader { fin, rsv, opcode, mask: Some([1, 2, 3, 4]), payload_len: payload.len() as u64 };
        self.tx.write_raw(&header, &Bytes::copy_from_slice(payload));
        self.tcp.write_all(&self.tx.take_bytes()).await.unwrap();
    }

    /// Reads until the next message; `None` at end of stream.
    pub async fn next(&mut self) -> Option<Message> {
        loop {
            if let Some(m) = self.rx.next_message().expect("server broke the protocol") {
                return Some(m);
            }
            let mut chunk = [0u8; 65536];
            let n = self.tcp.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            self.rx.receive_data(&chunk[..n]);
        }
    }

    /// Reads until the server closes TCP; true if it did (rather than erroring).
    pub async fn expect_eof(&mut self) -> bool {
        let mut chunk = [0u8; 1024];
        loop {
            match self.tcp.read(&mut chunk).await {
                Ok(0) => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
    }
}

/// Reads an HTTP head from `stream` an octet at a time, so that nothing
/// past its blank line is taken (what follows is the tunnel's, or the
/// WebSocket's). `None` when the stream ends or fails first.
pub async fn read_head(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        if stream.read(&mut byte).await.unwrap_or(0) == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    Some(head)
}
