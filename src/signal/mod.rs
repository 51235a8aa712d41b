//! Signalling: how a browser finds and sets up its WebRTC session with us.
//!
//! `protocol` is the Selkies 1.x WebSocket message format and per-connection state machine;
//! `turn` computes the RTC configuration served at `/turn`. Both are pure (no I/O). `server` is
//! the hyper front (HTTP, auth, TLS, upgrade) and `session` drives one WebSocket.

pub mod assets;
pub mod auth;
pub mod protocol;
pub mod server;
pub mod session;
pub mod tls;
pub mod turn;
