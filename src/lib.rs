//! selkies-rs: low-latency WebRTC streaming of an X11 desktop to the browser.
//!
//! Media plane (one OS thread, no locks or awaits per frame): [`capture`] → [`convert`] →
//! [`encode`], driven by [`pipeline`]. Control plane (tokio): [`signal`] (HTTP, WebSocket,
//! auth), [`rtc`] (webrtc-rs peers), [`input`] (data-channel verbs). All `unsafe` lives in the
//! `ffi/` crates.
#![forbid(unsafe_code)]

pub mod access;
pub mod area;
pub mod audio;
pub mod bench;
pub mod browser;
pub mod capture;
pub mod clock;
pub mod config;
pub mod convert;
pub mod cursor;
pub mod diff;
pub mod encode;
pub mod input;
pub mod media;
pub mod metrics;
pub mod pipeline;
pub mod probe;
pub mod procfs;
pub mod rtc;
pub mod serve;
pub mod services;
pub mod signal;
pub mod viewer;
pub mod x11;
