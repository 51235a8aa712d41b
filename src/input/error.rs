//! Why injecting input failed.

use thiserror::Error;

/// An input driver failure. Each is about one event; the input service logs it and goes on.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum InputError {
    #[error("cannot connect to X display {display:?} for input: {source}")]
    Connect {
        display: String,
        source: xcb::ConnError,
    },
    #[error("X server has no XTEST extension (needed to inject input)")]
    NoXTest,
    #[error("no spare keycode left to type keysym {0:#x}")]
    NoSpareKeycode(u32),
    #[error("X request failed: {0}")]
    X(#[from] xcb::Error),
    #[error("X protocol error: {0:?}")]
    Protocol(#[from] xcb::ProtocolError),
    #[error("cannot start the input thread: {0}")]
    Thread(std::io::Error),
    #[error("X connection: {0}")]
    Conn(#[from] xcb::ConnError),
}
