//! fastwebsockets echo server (FragmentCollector, auto pong and close).
use fastwebsockets::{FragmentCollector, OpCode, Role, WebSocket};

#[tokio::main]
async fn main() {
    peer_echo::run("fastwebsockets", |mut tcp| async move {
        if !peer_echo::upgrade(&mut tcp).await {
            return;
        }
        let mut ws = WebSocket::after_handshake(tcp, Role::Server);
        ws.set_auto_close(true);
        ws.set_auto_pong(true);
        ws.set_max_message_size(64 << 20);
        let mut ws = FragmentCollector::new(ws);
        while let Ok(frame) = ws.read_frame().await {
            match frame.opcode {
                OpCode::Close => break,
                OpCode::Text | OpCode::Binary => {
                    if ws.write_frame(frame).await.is_err() {
                        break;
                    }
                }
                _ => {}
            }
        }
    })
    .await;
}
