//! The echo servers under test: every subject echoes each text and binary
//! message back as it came, written the way each library's documentation
//! shows, with message limits raised to 64 MiB so the 1 MiB cells fit.
//!
//! Rust subjects are served by this binary (`wsbench serve SUBJECT ADDR`);
//! Node's `ws` and python `websockets` by scripts beside this crate, which
//! install their library on first use.

mod autostrada_echo;
mod peers;
mod raw;

pub use peers::{fastwebsockets_echo, tokio_tungstenite_echo, tokio_websockets_echo};

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};
use tokio::net::{TcpListener, TcpStream};

/// The largest message any subject accepts: far above the 1 MiB cells.
pub const MAX_MESSAGE: usize = 64 << 20;

/// A server measured by `wsbench`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Subject {
    /// A TCP echo of the same octets, no WebSocket: the ceiling.
    RawTcp,
    /// autostrada (this workspace), permessage-deflate with its defaults
    /// (context takeover both ways).
    Autostrada,
    /// autostrada with `DeflateConfig::low_memory()` (no context takeover):
    /// measured in the compression cells and the memory rows only.
    AutostradaLowMemory,
    /// tokio-websockets.
    TokioWebsockets,
    /// fastwebsockets (with its `FragmentCollector`).
    Fastwebsockets,
    /// tokio-tungstenite.
    TokioTungstenite,
    /// Node's `ws`, with permessage-deflate.
    NodeWs,
    /// python `websockets`, with permessage-deflate.
    PythonWebsockets,
}

impl Subject {
    /// Every subject, in table order.
    pub const ALL: [Self; 8] = [
        Self::RawTcp,
        Self::Autostrada,
        Self::AutostradaLowMemory,
        Self::TokioWebsockets,
        Self::Fastwebsockets,
        Self::TokioTungstenite,
        Self::NodeWs,
        Self::PythonWebsockets,
    ];

    /// The name used on the command line and in tables.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::RawTcp => "raw-tcp",
            Self::Autostrada => "autostrada",
            Self::AutostradaLowMemory => "autostrada-low-memory",
            Self::TokioWebsockets => "tokio-websockets",
            Self::Fastwebsockets => "fastwebsockets",
            Self::TokioTungstenite => "tokio-tungstenite",
            Self::NodeWs => "node-ws",
            Self::PythonWebsockets => "python-websockets",
        }
    }

    /// Whether the subject negotiates permessage-deflate.
    #[must_use]
    pub fn deflates(self) -> bool {
        matches!(self, Self::Autostrada | Self::AutostradaLowMemory | Self::NodeWs | Self::PythonWebsockets)
    }

    /// Whether it is measured only with compression (cells and memory).
    #[must_use]
    pub fn deflate_only(self) -> bool {
        matches!(self, Self::AutostradaLowMemory | Self::NodeWs | Self::PythonWebsockets)
    }

    /// Whether the subject speaks WebSocket (all but the raw TCP ceiling).
    #[must_use]
    pub fn is_websocket(self) -> bool {
        self != Self::RawTcp
    }

    /// Whether it is one of the Rust peers autostrada is compared with.
    #[must_use]
    pub fn is_rust_peer(self) -> bool {
        matches!(self, Self::TokioWebsockets | Self::Fastwebsockets | Self::TokioTungstenite)
    }

    /// The command that serves this subject on `addr`: this binary for the
    /// Rust subjects, a script under `scripts/` for the others.
    #[must_use]
    pub fn command(self, wsbench: &Path, addr: &str) -> Command {
        match self {
            Self::NodeWs => {
                let mut c = Command::new("bash");
                c.arg(scripts_dir().join("node-ws-echo")).arg(addr);
                c
            }
            Self::PythonWebsockets => {
                let mut c = Command::new("bash");
                c.arg(scripts_dir().join("python-websockets-echo")).arg(addr);
                c
            }
            _ => {
                let mut c = Command::new(wsbench);
                c.args(["serve", self.name(), addr]);
                c
            }
        }
    }
}

/// `crates/wsbench/scripts`, found from the source tree this binary was built in.
fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts")
}

/// Serves `subject` on `addr` until the process is killed.
///
/// # Errors
/// When the address cannot be bound, or the subject is not one this binary serves.
pub async fn serve(subject: Subject, addr: &str) -> Result<(), String> {
    let listener = TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    eprintln!("wsbench: {} echo server on {addr}", subject.name());
    serve_on(subject, listener).await
}

/// Serves `subject` on a bound listener until the task is dropped.
///
/// # Errors
/// When the subject is not one this binary serves (Node's and python's).
pub async fn serve_on(subject: Subject, listener: TcpListener) -> Result<(), String> {
    let echo: fn(TcpStream) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> = match subject {
        Subject::RawTcp => |tcp| Box::pin(raw::echo(tcp)),
        Subject::Autostrada => |tcp| Box::pin(autostrada_echo::echo(tcp, false)),
        Subject::AutostradaLowMemory => |tcp| Box::pin(autostrada_echo::echo(tcp, true)),
        Subject::TokioWebsockets => |tcp| Box::pin(peers::tokio_websockets(tcp)),
        Subject::Fastwebsockets => |tcp| Box::pin(peers::fastwebsockets(tcp)),
        Subject::TokioTungstenite => |tcp| Box::pin(peers::tokio_tungstenite(tcp)),
        Subject::NodeWs | Subject::PythonWebsockets => {
            return Err(format!("{} is served by scripts/{}-echo, not by this binary", subject.name(), subject.name()));
        }
    };
    loop {
        match listener.accept().await {
            Ok((tcp, _)) => {
                // Every subject gets the same socket options.
                let _ = tcp.set_nodelay(true);
                tokio::spawn(echo(tcp));
            }
            // Out of descriptors, say: back off rather than spin.
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
        }
    }
}
