//! Why a gamepad operation failed.

use std::io;
use std::path::PathBuf;

use thiserror::Error;

use super::wire::WireError;

/// A gamepad hub failure.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum GamepadError {
    /// Kernel pads were required (`KernelPads::True`) and uinput is unusable.
    #[error("kernel gamepads unavailable: {0}")]
    Uinput(String),
    /// [`super::GamepadHub::start`] was called outside a Tokio runtime.
    #[error("the gamepad hub needs a Tokio runtime (call start from within one)")]
    NoRuntime,
    /// The socket directory could not be created.
    #[error("cannot create gamepad socket directory {path}: {source}")]
    SocketDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// Something that is not a socket sits where a socket should be created; it is left alone.
    #[error("{0} exists and is not a socket; not replacing it")]
    NotASocket(PathBuf),
    /// Another process serves this socket already.
    #[error("{0} is already served by another process (another selkies server?)")]
    InUse(PathBuf),
    /// Binding a socket failed.
    #[error("cannot listen on {path}: {source}")]
    Bind {
        /// The socket path.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The device description does not fit the wire format.
    #[error("gamepad device config: {0}")]
    Config(#[from] WireError),
    /// `apply` was given a verb that is not `js,*`.
    #[error("not a gamepad verb")]
    NotGamepad,
    /// A slot index outside `0..MAX_GAMEPADS` (only possible with a hand-built verb).
    #[error("gamepad slot {0} does not exist")]
    NoSuchSlot(u8),
}
