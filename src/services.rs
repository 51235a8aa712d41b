//! The bundle of server-wide services a viewer's session reaches: the shared video pipelines and,
//! when they started, the input drivers, cursor, clipboard, resizer and audio. One per server,
//! cloned into every viewer. What a viewer may use of it is decided in [`crate::access`].

use std::sync::Arc;

use crate::audio::AudioHub;
use crate::capture::randr::Resizer;
use crate::cursor::watch::CursorWatcher;
use crate::input::clipboard::Clipboard;
use crate::input::gamepad::GamepadHub;
use crate::input::service::InputService;
use crate::media::MediaHub;
use crate::metrics::Viewers;

/// The server-wide services a viewer's peer connection and data channel use.
#[derive(Clone)]
pub struct Services {
    /// The video pipelines (one per codec in use) and the controls they share.
    pub media: Arc<MediaHub>,
    /// Keyboard and pointer injection; `None` when it could not start (the stream still runs).
    pub input: Option<InputService>,
    /// The X cursor shape, sent to viewers as an image; `None` without XFIXES.
    pub cursor: Option<CursorWatcher>,
    /// The four virtual gamepads games read through the interposer; `None` when the sockets could
    /// not be created.
    pub gamepads: Option<Arc<GamepadHub>>,
    /// The X clipboard; `None` when the policy is off or it could not start.
    pub clipboard: Option<Clipboard>,
    /// Screen resizing for `r,WxH`; `None` unless resizing is enabled (and RandR works).
    pub resizer: Option<Arc<Resizer>>,
    /// Desktop sound for every viewer; `None` when audio is off or PulseAudio is unavailable.
    pub audio: Option<Arc<AudioHub>>,
    /// What connected viewers report (fps, latency), for `/metrics`.
    pub viewers: Arc<Viewers>,
}
