//! Browser gamepads as Linux joysticks, with no kernel module and no root: games see
//! `/dev/input/js0..3` and `/dev/input/event1000..1003` through the LD_PRELOAD interposer in
//! `ffi/js-interposer`, which turns each `open()` of those paths into a connection to one of our
//! Unix sockets and answers the device ioctls itself.
//!
//! - [`wire`]: the socket protocol (device record, `js_event`, `input_event`), Selkies 1.x and
//!   2.x layouts. Pure; the interposer compiles the same file.
//! - [`mapping`]: the browser's standard layout as an Xbox 360 pad. Pure.
//! - [`GamepadHub`]: four slots, their sockets, the `js,*` verbs, heartbeat timeouts.
//!
//! This module owns what the pads report; it must not decide which client may drive which slot
//! (the server does, from [`crate::input::protocol::Verb::category`]).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use selkies_rs::input::gamepad::{GamepadConfig, GamepadHub};
//! use selkies_rs::input::protocol::parse;
//!
//! let hub = GamepadHub::start(GamepadConfig::default())?;
//! hub.apply(&parse("js,c,0,WGJveCBwYWQ=,4,17")?)?;
//! hub.apply(&parse("js,b,0,0,1")?)?; // A pressed: js0 readers see button 0 = 1
//! hub.release_all(); // the client left
//! # Ok(()) }
//! ```

mod conn;
mod error;
mod hub;
pub mod kernel;
pub mod mapping;
mod slot;
pub mod wire;

pub use conn::{socket_path, NodeKind};
pub use error::GamepadError;
pub use hub::{GamepadConfig, GamepadHub};
pub use kernel::KernelPads;
