//! An LD_PRELOAD library that makes selkies-rs gamepads look like joystick devices, with no kernel
//! module and no root:
//!
//! ```sh
//! LD_PRELOAD=/path/to/libselkies_js_interposer.so jstest /dev/input/js0
//! ```
//!
//! `open()` of `/dev/input/js0..3` or `/dev/input/event1000..1003` connects to the server's Unix
//! socket for that node (`selkies_js{N}.sock`, `selkies_event{1000+N}.sock` in `/tmp`, or in
//! `$SELKIES_INTERPOSER_SOCKET_DIR`) and returns the socket as the file descriptor. The server
//! first sends the device description, which this library keeps to answer the joystick and evdev
//! ioctls; then `read()` returns the `js_event` / `input_event` records the server streams, whole
//! records only. Every other path and descriptor goes to the real libc function untouched. With no
//! server listening, `open()` fails with `ENOENT`, as for a missing device.
//!
//! The protocol is Selkies 2.x's (`src/input/gamepad/wire.rs` in the main crate, compiled here too),
//! so this library also works against Selkies' own server, and Selkies' interposer against ours.
//!
//! # Layout
//! - `exports`: the exported symbols. Variadic ones jump to `shim/variadic.c`, which reads the
//!   optional argument and calls back into `hooks`.
//! - `hooks`: decide whether a call is ours; pass it on to `real` if not.
//! - `device` (paths), `connect` (socket and handshake), `handles` (open descriptors),
//!   `ioctl` (the answers, pure), `read` (record framing).
//!
//! Not emulated: `stat()` of the device paths, directory listings of `/dev/input`, `dup()` of an
//! open device (the copy reads raw records but has no ioctls). Set `SELKIES_INTERPOSER_LOG=1` to
//! log to stderr why an open failed.

// Unit tests leave out `exports`, the only caller of some hooks.
#![cfg_attr(test, allow(dead_code))]

mod connect;
mod device;
#[cfg(not(test))]
mod exports;
mod handles;
mod hooks;
mod ioctl;
mod read;
mod real;

/// The socket protocol, shared with the server.
#[allow(dead_code)]
#[path = "../../../src/input/gamepad/wire.rs"]
mod wire;

use std::sync::OnceLock;

/// Whether `SELKIES_INTERPOSER_LOG` asks for messages on stderr.
fn logging() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("SELKIES_INTERPOSER_LOG").is_some_and(|v| v != "0"))
}

macro_rules! log {
    ($($arg:tt)*) => {
        if $crate::logging() {
            eprintln!("[selkies-js-interposer] {}", format_args!($($arg)*));
        }
    };
}
pub(crate) use log;
