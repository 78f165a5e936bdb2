//! The connection state machine: a [`Receiver`] and a [`Sender`] plus the
//! rules that tie them together — automatic pongs, the closing handshake,
//! failing the connection on a protocol error.
//!
//! Modelled on python-websockets' sans-IO protocol: feed received octets
//! with [`Connection::receive_data`], take messages with
//! [`Connection::next_message`], send with [`Connection::send`], write what
//! [`Connection::sender`] holds to the socket, and close the transport when
//! [`Connection::close_expected`] says so.

use super::deflate::DeflateParams;
use super::{Receiver, Role, Sender};
use crate::config::Config;
use crate::message::Message;
use crate::proto::outbox::Outbox;
use crate::proto::{ProtocolError, SendError};

/// Applies the automatic replies an incoming event calls for.
///
/// - a ping is answered with a pong carrying its payload (RFC 6455 §5.5.2);
/// - a close is answered with a close echoing its code (§5.5.1), unless we
///   sent ours first;
/// - a protocol error fails the connection with the error's close code and a
///   reason (§7.1.7).
///
/// Used by [`Connection`]; the tokio front end's read half applies the same
/// replies to the outbox behind its writer.
pub fn auto_reply(tx: &mut Sender, event: &Result<Option<Message>, ProtocolError>) {
    auto_reply_to(&mut tx.outbox, event);
}

/// [`auto_reply`] on an outbox.
pub(crate) fn auto_reply_to(tx: &mut Outbox, event: &Result<Option<Message>, ProtocolError>) {
    match event {
        Ok(Some(Message::Ping(payload))) => tx.reply_pong(payload.clone()),
        Ok(Some(Message::Close(frame))) => tx.reply_close(frame.as_ref()),
        Err(e) => tx.fail(e.close_code(), &e.to_string()),
        Ok(_) => {}
    }
}

/// One WebSocket connection without I/O.
///
/// ```
/// use autostrada::proto::{Connection, Role};
/// use autostrada::{Config, Message};
///
/// let mut server = Connection::new(Role::Server, &Config::default());
/// // A masked ping from the client: the server answers it by itself.
/// server.receive_data(&[0x89, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2]);
/// assert_eq!(server.next_message().unwrap(), Some(Message::Ping("hi".into())));
/// assert_eq!(server.sender().take_bytes(), b"\x8a\x02hi");
/// ```
#[derive(Debug)]
pub struct Connection {
    role: Role,
    rx: Receiver,
    tx: Sender,
}

impl Connection {
    /// A connection in the OPEN state, after the opening handshake.
    #[must_use]
    pub fn new(role: Role, config: &Config) -> Self {
        Self { role, rx: Receiver::new(role, config), tx: Sender::new(role, config) }
    }

    /// As [`new`](Self::new), with permessage-deflate as negotiated.
    #[must_use]
    pub fn with_deflate(role: Role, config: &Config, deflate: Option<DeflateParams>) -> Self {
        let mut c = Self::new(role, config);
        c.rx.set_deflate(deflate);
        c.tx.set_deflate(deflate);
        c
    }

    /// Our role.
    #[must_use]
    pub fn role(&self) -> Role {
        self.role
    }

    /// Appends received octets.
    pub fn receive_data(&mut self, data: &[u8]) {
        self.rx.receive_data(data);
    }

    /// The next message, answering pings and closes and failing the
    /// connection on a protocol error; `Ok(None)` when more octets are needed.
    pub fn next_message(&mut self) -> Result<Option<Message>, ProtocolError> {
        let event = self.rx.next_message();
        auto_reply(&mut self.tx, &event);
        event
    }

    /// Queues a message to send.
    pub fn send(&mut self, message: Message) -> Result<(), SendError> {
        self.tx.send(message)
    }

    /// The write side: what is waiting to be written.
    pub fn sender(&mut self) -> &mut Sender {
        &mut self.tx
    }

    /// The read side.
    pub fn receiver(&mut self) -> &mut Receiver {
        &mut self.rx
    }

    /// True once the closing handshake is done or the connection has
    /// failed (in either role): the transport is to be closed now. Write out
    /// pending octets first. A server then closes TCP at once; a client
    /// should let the server close it first and close it itself only after
    /// a timeout (RFC 6455 §7.1.1) — this answers the same in both roles,
    /// so the waiting is the client's to do.
    #[must_use]
    pub fn close_expected(&self) -> bool {
        self.rx.is_finished() && self.tx.close_sent()
    }

    /// Splits into the two sides, for a front end that reads and writes from
    /// different tasks. Use [`auto_reply`] to keep the automatic replies.
    #[must_use]
    pub fn into_parts(self) -> (Receiver, Sender) {
        (self.rx, self.tx)
    }
}
