//! Signalling: how a browser finds and sets up its WebRTC session with us.
//!
//! `protocol` is the Selkies 1.x WebSocket message format and per-connection state machine;
//! `turn` computes the RTC configuration served at `/turn`. Both are pure (no I/O). `server` is
//! the hyper front (HTTP, auth, TLS, upgrade), `session` drives one WebSocket, and `state` is
//! what they share.

pub mod assets;
pub mod auth;
pub mod protocol;
pub mod server;
pub mod session;
pub mod state;
pub mod tls;
pub mod turn;
