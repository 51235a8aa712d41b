//! The client → server verbs of the `input` data channel (Selkies 1.x and the data-channel verbs of
//! 2.x): comma-separated text in, a typed [`Verb`] out, and back to text.
//!
//! Every argument is checked here, once, so drivers receive values they can use directly: numbers
//! within the ranges documented on the constants below, base64 decoded, text valid UTF-8, MIME
//! types and ids well formed. A message that breaks any rule is a [`VerbError`] naming the verb and
//! the argument; nothing is clamped or guessed, with one documented exception (the scroll
//! magnitude, see [`MAX_SCROLL`]). The parser never panics, whatever the input (the `input_verbs`
//! fuzz target checks this, and that `parse(v.to_text()) == v` for every verb it accepts).
//!
//! Forms accepted where clients disagree:
//! - `kh` with no keys is sent as `kh,` by the 2.x client; `kh` alone is accepted too.
//! - The multipart clipboard verbs exist with a transfer id (`cws,<id>,<total>`, newer 2.x
//!   clients) and without (`cws,<total>`, older 2.x). Base64 never contains a comma, so the field
//!   count tells them apart.
//! - `_arg_resize,<bool>,` with an empty size is accepted: the 2.x server ignores an empty size.
//!
//! `SETTINGS,<json>` is read for its encoder, frame rate and bitrate ([`super::settings`]).
//!
//! Not handled here, by design: `_gz` (gzip negotiation), `cmd` (remote shell),
//! `_ebc`, `_rc`, `_crf` and the WebSocket-only verbs are [`VerbError::Unsupported`], so the
//! server can tell "known but refused" from garbage.
//!
//! This module must stay pure: no X11, no sockets, no policy. Which client may send which verb is
//! the server's decision, made from [`Verb::category`].

use std::fmt::{self, Display, Write as _};
use std::ops::RangeInclusive;

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;

/// Largest accepted message, in bytes. Browsers cap data-channel messages at 256 KiB; 1 MiB leaves
/// room for a Selkies 2.x clipboard chunk (750 KiB raw, 1,000 KiB in base64) over other transports.
pub const MAX_VERB_BYTES: usize = 1024 * 1024;

/// Largest X11 keysym: keysyms are 29-bit values.
pub const MAX_KEYSYM: u32 = 0x1FFF_FFFF;

/// Unicode keysyms are `UNICODE_KEYSYM_BASE | codepoint`.
pub const UNICODE_KEYSYM_BASE: u32 = 0x0100_0000;

/// Most keys one `kh` heartbeat may list. A keyboard rolls over at far fewer; this bounds the work.
pub const MAX_HELD_KEYS: usize = 256;

/// Largest absolute pointer coordinate or relative motion, either sign.
pub const MAX_POINTER_COORD: i32 = 65_535;

/// Largest scroll magnitude a parsed verb carries. Selkies 2.x clamps the magnitude to 64 (each
/// unit is one wheel click), and browsers with high-resolution wheels do send more, so magnitudes
/// in `MAX_SCROLL + 1..=MAX_SCROLL_ACCEPTED` become `MAX_SCROLL`; only larger ones are errors.
pub const MAX_SCROLL: u8 = 64;

/// Largest scroll magnitude accepted on the wire (see [`MAX_SCROLL`]).
pub const MAX_SCROLL_ACCEPTED: u32 = 1000;

/// Number of gamepad slots; indices are `0..MAX_GAMEPADS`.
pub const MAX_GAMEPADS: u8 = 4;

/// Most axes a gamepad may declare (the Linux joystick API's `ABS_CNT`-derived limit Selkies uses).
pub const MAX_GAMEPAD_AXES: u16 = 64;

/// Most buttons a gamepad may declare (Linux joystick `KEY_MAX - BTN_MISC + 1`, as Selkies uses).
pub const MAX_GAMEPAD_BUTTONS: u16 = 512;

/// Longest gamepad name, in bytes of UTF-8. The joystick interposer keeps 255 bytes; browsers'
/// ids with vendor and product fit well within this, and the driver truncates.
pub const MAX_GAMEPAD_NAME_BYTES: usize = 1024;

/// Video bitrate range in kbit/s (Selkies `video_bitrate`).
pub const VIDEO_KBPS: RangeInclusive<u32> = 100..=1_000_000;

/// Audio bitrate range in bit/s (Opus' own limits).
pub const AUDIO_BPS: RangeInclusive<u32> = 6_000..=510_000;

/// Framerate range in frames per second.
pub const FPS: RangeInclusive<u32> = 1..=240;

/// Range of each side of a requested display size, in pixels. Sizes are kept as sent; rounding to
/// even and RandR's own limits are the resize code's business.
pub const RESIZE_SIDE: RangeInclusive<u32> = 64..=7680;

/// Device pixel ratio range for `s`.
pub const DPR: RangeInclusive<f64> = 0.5..=5.0;

/// Largest declared multipart clipboard transfer, in bytes (Selkies `MULTIPART_CLIPBOARD_MAX_SIZE`).
pub const MAX_CLIPBOARD_TOTAL: u32 = 64 * 1024 * 1024;

/// Longest MIME type, in bytes.
pub const MAX_MIME_BYTES: usize = 127;

/// Longest multipart transfer id or display id, in bytes.
pub const MAX_ID_BYTES: usize = 64;

/// Longest `_stats_video` / `_stats_audio` JSON, in bytes. It is logged or exported, never parsed
/// here, so it stays a string.
pub const MAX_STATS_JSON_BYTES: usize = 256 * 1024;

/// Longest numeric token; longer ones are rejected before any parsing work.
const MAX_NUMBER_BYTES: usize = 64;

/// Longest piece of client input quoted in an error.
const MAX_SNIPPET_BYTES: usize = 32;

/// Base64 as `btoa()` writes it; padding is optional on input because some clients strip it.
/// Trailing bits must be zero, so every accepted encoding is the canonical one of its bytes.
const B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A data-channel message that is not a valid verb. `Display` is one line that quotes at most a
/// short, sanitised piece of the input, so it is safe to log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerbError {
    /// The message is larger than [`MAX_VERB_BYTES`].
    #[error("message too large ({len} bytes, limit {MAX_VERB_BYTES})")]
    TooLarge {
        /// Size of the rejected message in bytes.
        len: usize,
    },
    /// The message is empty.
    #[error("empty message")]
    Empty,
    /// The verb is not one we know (the name, truncated and sanitised).
    #[error("unknown verb {0:?}")]
    Unknown(String),
    /// A Selkies verb this server knows but deliberately does not implement.
    #[error("{0}: not supported")]
    Unsupported(&'static str),
    /// A required argument is missing.
    #[error("{verb}: missing {arg}")]
    Missing {
        /// The verb.
        verb: &'static str,
        /// The missing argument.
        arg: &'static str,
    },
    /// More arguments than the verb takes.
    #[error("{verb}: too many arguments")]
    Extra {
        /// The verb.
        verb: &'static str,
    },
    /// An argument that must be a number is not one (or is longer than 64 characters).
    #[error("{verb}: {arg} is not a number: {value:?}")]
    NotANumber {
        /// The verb.
        verb: &'static str,
        /// The argument.
        arg: &'static str,
        /// The offending text, truncated and sanitised.
        value: String,
    },
    /// A number that must be finite is NaN or infinite.
    #[error("{verb}: {arg} is not finite")]
    NotFinite {
        /// The verb.
        verb: &'static str,
        /// The argument.
        arg: &'static str,
    },
    /// A number outside its allowed range.
    #[error("{verb}: {arg} {value} out of range (expected {expected})")]
    OutOfRange {
        /// The verb.
        verb: &'static str,
        /// The argument.
        arg: &'static str,
        /// The offending text, truncated and sanitised.
        value: String,
        /// What is allowed.
        expected: String,
    },
    /// An argument that must be base64 (standard alphabet) is not.
    #[error("{verb}: {arg} is not valid base64")]
    Base64 {
        /// The verb.
        verb: &'static str,
        /// The argument.
        arg: &'static str,
    },
    /// Decoded text that must be UTF-8 is not.
    #[error("{verb}: {arg} is not valid UTF-8")]
    Utf8 {
        /// The verb.
        verb: &'static str,
        /// The argument.
        arg: &'static str,
    },
    /// An argument longer than its limit.
    #[error("{verb}: {arg} too long ({len}, limit {max})")]
    TooLong {
        /// The verb.
        verb: &'static str,
        /// The argument.
        arg: &'static str,
        /// Its length (bytes, or items for lists).
        len: usize,
        /// The limit.
        max: usize,
    },
    /// An argument not of the expected form (a flag, a size, a MIME type, an id, a subcommand).
    #[error("{verb}: invalid {arg} {value:?} (expected {expected})")]
    Invalid {
        /// The verb.
        verb: &'static str,
        /// The argument.
        arg: &'static str,
        /// The offending text, truncated and sanitised.
        value: String,
        /// What is allowed.
        expected: &'static str,
    },
}

/// Which kind of input a verb is, so the server can apply role policies (a view-only client, for
/// instance, may send stats but not keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// `kd`, `ku`, `kr`, `kh`, `co`.
    Keyboard,
    /// `m`, `m2`.
    Mouse,
    /// `js,*`.
    Gamepad,
    /// `cr`, `cw`, `cb`, the multipart verbs, `REQUEST_CLIPBOARD`.
    Clipboard,
    /// `p`, `SET_NATIVE_CURSOR_RENDERING`, `vb`, `ab`, `_arg_fps`, `_arg_resize`, `r`, `s`.
    Settings,
    /// `_f`, `_l`, `pong`, `_stats_video`, `_stats_audio`.
    Stats,
    /// `REQUEST_KEYFRAME`.
    Control,
}

/// Pointer button and wheel state, as the mask field of `m` / `m2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ButtonMask(pub u8);

impl ButtonMask {
    /// Left button.
    pub const LEFT: u8 = 1 << 0;
    /// Middle button.
    pub const MIDDLE: u8 = 1 << 1;
    /// Right button.
    pub const RIGHT: u8 = 1 << 2;
    /// Wheel up; with a zero scroll magnitude, Selkies 2.x means "Back".
    pub const WHEEL_UP: u8 = 1 << 3;
    /// Wheel down; with a zero scroll magnitude, Selkies 2.x means "Forward".
    pub const WHEEL_DOWN: u8 = 1 << 4;
    /// Pen eraser (Selkies 2.x).
    pub const ERASER: u8 = 1 << 5;
    /// Horizontal scroll left (Selkies 2.x; X11 button 6).
    pub const SCROLL_LEFT: u8 = 1 << 6;
    /// Horizontal scroll right (Selkies 2.x; X11 button 7).
    pub const SCROLL_RIGHT: u8 = 1 << 7;

    /// Whether every bit of `bits` is set.
    pub fn contains(self, bits: u8) -> bool {
        self.0 & bits == bits
    }
}

/// One pointer report (`m` absolute, `m2` relative).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PointerEvent {
    /// X in server pixels (`m`), or X motion (`m2`); within ±[`MAX_POINTER_COORD`]. Absolute
    /// positions may lie off screen; the injector clamps.
    pub x: i32,
    /// Y, as `x`.
    pub y: i32,
    /// Buttons held and wheel bits.
    pub buttons: ButtonMask,
    /// Wheel clicks for the wheel bits, `0..=MAX_SCROLL`.
    pub scroll: u8,
}

/// A display size in pixels, each side within [`RESIZE_SIDE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Size {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}

/// A client → server data-channel message. Values are as validated by [`parse`]; a verb built by
/// hand with values outside those ranges formats, but does not parse back.
#[derive(Debug, Clone, PartialEq)]
pub enum Verb {
    /// `kd,<keysym>`: key press. Keysyms are in `1..=MAX_KEYSYM`; Unicode keysyms name a scalar value.
    KeyDown(u32),
    /// `ku,<keysym>`: key release.
    KeyUp(u32),
    /// `kr`: release every key and reset modifiers.
    ReleaseAllKeys,
    /// `kh,<keysym>,…`: the keys the client still holds (2.x heartbeat, every 100 ms).
    HeldKeys(Vec<u32>),
    /// `co,end,<text>`: type this text (the rest of the message, verbatim).
    TypeText(String),
    /// `m,<x>,<y>,<mask>,<scroll>`: absolute pointer.
    PointerAbsolute(PointerEvent),
    /// `m2,<dx>,<dy>,<mask>,<scroll>`: relative pointer motion (pointer lock).
    PointerRelative(PointerEvent),
    /// `p,<0|1>`: draw the pointer into the video.
    PointerVisible(bool),
    /// `SET_NATIVE_CURSOR_RENDERING,<0|1>` (2.x). Selkies treats it as `p`; kept apart so the
    /// driver sees which the client sent.
    NativeCursorRendering(bool),
    /// `vb,<kbps>`: video bitrate in kbit/s, within [`VIDEO_KBPS`].
    VideoBitrate(u32),
    /// `ab,<bps>`: audio bitrate in bit/s, within [`AUDIO_BPS`].
    AudioBitrate(u32),
    /// `_arg_fps,<fps>`: framerate, within [`FPS`].
    Framerate(u32),
    /// `_arg_resize,<true|false>,<WxH>`: enable or disable remote resize; the size may be empty.
    ResizeMode {
        /// Whether the client may resize the display.
        enabled: bool,
        /// The size to apply, when given.
        size: Option<Size>,
    },
    /// `r,<WxH>[,<displayId>]`: resize the display.
    Resize {
        /// The requested size, unrounded.
        size: Size,
        /// Which display (2.x), e.g. `primary` or `display2`.
        display: Option<String>,
    },
    /// `s,<dpr>`: device pixel ratio, within [`DPR`].
    Scale(f64),
    /// `js,c,<idx>,<b64 name>,<axes>,<buttons>`: a gamepad connected.
    GamepadConnect {
        /// Slot, `0..MAX_GAMEPADS`.
        index: u8,
        /// The browser's id for the pad (UTF-8; Latin-1 when the client's bytes are not UTF-8).
        name: String,
        /// Axis count, `0..=MAX_GAMEPAD_AXES`.
        axes: u16,
        /// Button count, `0..=MAX_GAMEPAD_BUTTONS`.
        buttons: u16,
    },
    /// `js,d,<idx>`: a gamepad disconnected.
    GamepadDisconnect {
        /// Slot.
        index: u8,
    },
    /// `js,b,<idx>,<button>,<value>`: a button changed.
    GamepadButton {
        /// Slot.
        index: u8,
        /// Button number, `0..MAX_GAMEPAD_BUTTONS`.
        button: u16,
        /// Pressure, `0.0..=1.0`.
        value: f64,
    },
    /// `js,a,<idx>,<axis>,<value>`: an axis moved.
    GamepadAxis {
        /// Slot.
        index: u8,
        /// Axis number, `0..MAX_GAMEPAD_AXES`.
        axis: u8,
        /// Position, `-1.0..=1.0`.
        value: f64,
    },
    /// `js,h,<idx>`: the pad is still there (2.x heartbeat).
    GamepadHeartbeat {
        /// Slot.
        index: u8,
    },
    /// `cr`: send the server clipboard.
    ClipboardRead,
    /// `REQUEST_CLIPBOARD` (2.x, on Ctrl/Cmd+C): send the server clipboard.
    RequestClipboard,
    /// `cw,<b64 utf8>`: set the clipboard text.
    ClipboardText(String),
    /// `cb,<mime>,<b64>`: set binary clipboard content (2.x).
    ClipboardBinary {
        /// MIME type, e.g. `image/png`.
        mime: String,
        /// The content.
        data: Vec<u8>,
    },
    /// `cws,[<id>,]<total>`: a multipart text clipboard starts.
    ClipboardTextStart {
        /// Transfer id, when the client sends one.
        id: Option<String>,
        /// Total size in bytes, `0..=MAX_CLIPBOARD_TOTAL`.
        total: u32,
    },
    /// `cwd,[<id>,]<b64>`: a chunk of multipart text. Bytes, not text: a chunk may end inside a
    /// UTF-8 sequence, so only the reassembled whole can be checked.
    ClipboardTextData {
        /// Transfer id, when the client sends one.
        id: Option<String>,
        /// The chunk.
        chunk: Vec<u8>,
    },
    /// `cwe[,<id>]`: the multipart text is complete.
    ClipboardTextEnd {
        /// Transfer id, when the client sends one.
        id: Option<String>,
    },
    /// `cbs,[<id>,]<mime>,<total>`: a multipart binary clipboard starts.
    ClipboardBinaryStart {
        /// Transfer id, when the client sends one.
        id: Option<String>,
        /// MIME type.
        mime: String,
        /// Total size in bytes, `0..=MAX_CLIPBOARD_TOTAL`.
        total: u32,
    },
    /// `cbd,[<id>,]<b64>`: a chunk of multipart binary content.
    ClipboardBinaryData {
        /// Transfer id, when the client sends one.
        id: Option<String>,
        /// The chunk.
        chunk: Vec<u8>,
    },
    /// `cbe[,<id>]`: the multipart binary content is complete.
    ClipboardBinaryEnd {
        /// Transfer id, when the client sends one.
        id: Option<String>,
    },
    /// `_f,<fps>`: frames per second the client shows (non-negative, finite).
    ClientFps(f64),
    /// `_l,<ms>`: latency the client measures, in milliseconds (non-negative, finite).
    ClientLatency(f64),
    /// `pong,<ts>`: echo of the server's `ping` timestamp (non-negative, finite).
    Pong(f64),
    /// `_stats_video,<json>`: the client's WebRTC video stats, unparsed.
    VideoStats(String),
    /// `_stats_audio,<json>`: the client's WebRTC audio stats, unparsed.
    AudioStats(String),
    /// `REQUEST_KEYFRAME` (2.x): send an IDR.
    RequestKeyframe,
    /// `SETTINGS,<json>` (2.x): encoder, frame rate and bitrate in one message.
    Settings(super::settings::StreamSettings),
}

impl Verb {
    /// The kind of input this is, for role policies.
    pub fn category(&self) -> Category {
        match self {
            Verb::KeyDown(_)
            | Verb::KeyUp(_)
            | Verb::ReleaseAllKeys
            | Verb::HeldKeys(_)
            | Verb::TypeText(_) => Category::Keyboard,
            Verb::PointerAbsolute(_) | Verb::PointerRelative(_) => Category::Mouse,
            Verb::GamepadConnect { .. }
            | Verb::GamepadDisconnect { .. }
            | Verb::GamepadButton { .. }
            | Verb::GamepadAxis { .. }
            | Verb::GamepadHeartbeat { .. } => Category::Gamepad,
            Verb::ClipboardRead
            | Verb::RequestClipboard
            | Verb::ClipboardText(_)
            | Verb::ClipboardBinary { .. }
            | Verb::ClipboardTextStart { .. }
            | Verb::ClipboardTextData { .. }
            | Verb::ClipboardTextEnd { .. }
            | Verb::ClipboardBinaryStart { .. }
            | Verb::ClipboardBinaryData { .. }
            | Verb::ClipboardBinaryEnd { .. } => Category::Clipboard,
            Verb::PointerVisible(_)
            | Verb::NativeCursorRendering(_)
            | Verb::VideoBitrate(_)
            | Verb::AudioBitrate(_)
            | Verb::Framerate(_)
            | Verb::ResizeMode { .. }
            | Verb::Resize { .. }
            | Verb::Scale(_) => Category::Settings,
            Verb::ClientFps(_)
            | Verb::ClientLatency(_)
            | Verb::Pong(_)
            | Verb::VideoStats(_)
            | Verb::AudioStats(_) => Category::Stats,
            Verb::RequestKeyframe => Category::Control,
            Verb::Settings(_) => Category::Settings,
        }
    }

    /// The wire form, as a Selkies client writes it (base64 padded, floats in their shortest
    /// exact form). For any verb [`parse`] returned, `parse(&v.to_text()) == Ok(v)`.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail; the results are discarded for that reason only.
        let _ = self.write_text(&mut out);
        out
    }

    fn write_text(&self, out: &mut String) -> fmt::Result {
        match self {
            Verb::KeyDown(k) => write!(out, "kd,{k}"),
            Verb::KeyUp(k) => write!(out, "ku,{k}"),
            Verb::ReleaseAllKeys => write!(out, "kr"),
            Verb::HeldKeys(keys) => {
                out.push_str("kh,");
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write!(out, "{k}")?;
                }
                Ok(())
            }
            Verb::TypeText(text) => write!(out, "co,end,{text}"),
            Verb::PointerAbsolute(p) => write_pointer(out, "m", p),
            Verb::PointerRelative(p) => write_pointer(out, "m2", p),
            Verb::PointerVisible(on) => write!(out, "p,{}", u8::from(*on)),
            Verb::NativeCursorRendering(on) => {
                write!(out, "SET_NATIVE_CURSOR_RENDERING,{}", u8::from(*on))
            }
            Verb::VideoBitrate(kbps) => write!(out, "vb,{kbps}"),
            Verb::AudioBitrate(bps) => write!(out, "ab,{bps}"),
            Verb::Framerate(fps) => write!(out, "_arg_fps,{fps}"),
            Verb::ResizeMode { enabled, size } => {
                write!(out, "_arg_resize,{enabled},")?;
                match size {
                    Some(size) => write!(out, "{size}"),
                    None => Ok(()),
                }
            }
            Verb::Resize { size, display } => {
                write!(out, "r,{size}")?;
                write_opt_suffix(out, display.as_deref())
            }
            Verb::Scale(dpr) => write!(out, "s,{}", Float(*dpr)),
            Verb::GamepadConnect {
                index,
                name,
                axes,
                buttons,
            } => write!(
                out,
                "js,c,{index},{},{axes},{buttons}",
                B64.encode(name.as_bytes())
            ),
            Verb::GamepadDisconnect { index } => write!(out, "js,d,{index}"),
            Verb::GamepadButton {
                index,
                button,
                value,
            } => write!(out, "js,b,{index},{button},{}", Float(*value)),
            Verb::GamepadAxis { index, axis, value } => {
                write!(out, "js,a,{index},{axis},{}", Float(*value))
            }
            Verb::GamepadHeartbeat { index } => write!(out, "js,h,{index}"),
            Verb::ClipboardRead => write!(out, "cr"),
            Verb::RequestClipboard => write!(out, "REQUEST_CLIPBOARD"),
            Verb::ClipboardText(text) => write!(out, "cw,{}", B64.encode(text.as_bytes())),
            Verb::ClipboardBinary { mime, data } => {
                write!(out, "cb,{mime},{}", B64.encode(data))
            }
            Verb::ClipboardTextStart { id, total } => {
                out.push_str("cws,");
                write_opt_prefix(out, id.as_deref())?;
                write!(out, "{total}")
            }
            Verb::ClipboardTextData { id, chunk } => {
                out.push_str("cwd,");
                write_opt_prefix(out, id.as_deref())?;
                out.push_str(&B64.encode(chunk));
                Ok(())
            }
            Verb::ClipboardTextEnd { id } => {
                out.push_str("cwe");
                write_opt_suffix(out, id.as_deref())
            }
            Verb::ClipboardBinaryStart { id, mime, total } => {
                out.push_str("cbs,");
                write_opt_prefix(out, id.as_deref())?;
                write!(out, "{mime},{total}")
            }
            Verb::ClipboardBinaryData { id, chunk } => {
                out.push_str("cbd,");
                write_opt_prefix(out, id.as_deref())?;
                out.push_str(&B64.encode(chunk));
                Ok(())
            }
            Verb::ClipboardBinaryEnd { id } => {
                out.push_str("cbe");
                write_opt_suffix(out, id.as_deref())
            }
            Verb::ClientFps(fps) => write!(out, "_f,{}", Float(*fps)),
            Verb::ClientLatency(ms) => write!(out, "_l,{}", Float(*ms)),
            Verb::Pong(ts) => write!(out, "pong,{}", Float(*ts)),
            Verb::VideoStats(json) => write!(out, "_stats_video,{json}"),
            Verb::AudioStats(json) => write!(out, "_stats_audio,{json}"),
            Verb::RequestKeyframe => write!(out, "REQUEST_KEYFRAME"),
            Verb::Settings(s) => write!(out, "SETTINGS,{}", s.to_json()),
        }
    }
}

fn write_pointer(out: &mut String, verb: &str, p: &PointerEvent) -> fmt::Result {
    write!(out, "{verb},{},{},{},{}", p.x, p.y, p.buttons.0, p.scroll)
}

fn write_opt_prefix(out: &mut String, id: Option<&str>) -> fmt::Result {
    match id {
        Some(id) => write!(out, "{id},"),
        None => Ok(()),
    }
}

fn write_opt_suffix(out: &mut String, id: Option<&str>) -> fmt::Result {
    match id {
        Some(id) => write!(out, ",{id}"),
        None => Ok(()),
    }
}

/// Formats a float so that it parses back to the same value: `Debug` is the shortest exact form
/// and switches to exponent notation for very large or small magnitudes, where `Display` would
/// print hundreds of digits.
struct Float(f64);

impl Display for Float {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// Parses one data-channel message.
///
/// # Errors
///
/// A [`VerbError`] naming the verb and argument when the message is too large, unknown,
/// unsupported, or any argument is missing, extra, malformed or out of range.
pub fn parse(text: &str) -> Result<Verb, VerbError> {
    if text.len() > MAX_VERB_BYTES {
        return Err(VerbError::TooLarge { len: text.len() });
    }
    if text.is_empty() {
        return Err(VerbError::Empty);
    }
    let (name, rest) = match text.split_once(',') {
        Some((name, rest)) => (name, Some(rest)),
        None => (text, None),
    };
    match name {
        "kd" => parse_key(Args::new("kd", rest), Verb::KeyDown),
        "ku" => parse_key(Args::new("ku", rest), Verb::KeyUp),
        "kr" => bare(Args::new("kr", rest), Verb::ReleaseAllKeys),
        "kh" => parse_held(Args::new("kh", rest)),
        "co" => parse_type_text(Args::new("co", rest)),
        "m" => parse_pointer(Args::new("m", rest)).map(Verb::PointerAbsolute),
        "m2" => parse_pointer(Args::new("m2", rest)).map(Verb::PointerRelative),
        "p" => parse_flag(Args::new("p", rest), Verb::PointerVisible),
        "SET_NATIVE_CURSOR_RENDERING" => parse_flag(
            Args::new("SET_NATIVE_CURSOR_RENDERING", rest),
            Verb::NativeCursorRendering,
        ),
        "vb" => parse_u32(
            Args::new("vb", rest),
            "kbps",
            VIDEO_KBPS,
            Verb::VideoBitrate,
        ),
        "ab" => parse_u32(Args::new("ab", rest), "bps", AUDIO_BPS, Verb::AudioBitrate),
        "_arg_fps" => parse_u32(Args::new("_arg_fps", rest), "fps", FPS, Verb::Framerate),
        "_arg_resize" => parse_resize_mode(Args::new("_arg_resize", rest)),
        "r" => parse_resize(Args::new("r", rest)),
        "s" => parse_f64(Args::new("s", rest), "dpr", DPR, Verb::Scale),
        "js" => parse_gamepad(rest),
        "cr" => bare(Args::new("cr", rest), Verb::ClipboardRead),
        "REQUEST_CLIPBOARD" => bare(Args::new("REQUEST_CLIPBOARD", rest), Verb::RequestClipboard),
        "cw" => parse_clipboard_text(Args::new("cw", rest)),
        "cb" => parse_clipboard_binary(Args::new("cb", rest)),
        "cws" => parse_text_start(Args::new("cws", rest)),
        "cwd" => parse_chunk(Args::new("cwd", rest))
            .map(|(id, chunk)| Verb::ClipboardTextData { id, chunk }),
        "cwe" => parse_end(Args::new("cwe", rest)).map(|id| Verb::ClipboardTextEnd { id }),
        "cbs" => parse_binary_start(Args::new("cbs", rest)),
        "cbd" => parse_chunk(Args::new("cbd", rest))
            .map(|(id, chunk)| Verb::ClipboardBinaryData { id, chunk }),
        "cbe" => parse_end(Args::new("cbe", rest)).map(|id| Verb::ClipboardBinaryEnd { id }),
        "_f" => parse_f64(Args::new("_f", rest), "fps", NON_NEGATIVE, Verb::ClientFps),
        "_l" => parse_f64(
            Args::new("_l", rest),
            "ms",
            NON_NEGATIVE,
            Verb::ClientLatency,
        ),
        "pong" => parse_f64(
            Args::new("pong", rest),
            "timestamp",
            NON_NEGATIVE,
            Verb::Pong,
        ),
        "_stats_video" => parse_stats(Args::new("_stats_video", rest), Verb::VideoStats),
        "_stats_audio" => parse_stats(Args::new("_stats_audio", rest), Verb::AudioStats),
        "REQUEST_KEYFRAME" => bare(Args::new("REQUEST_KEYFRAME", rest), Verb::RequestKeyframe),
        "SETTINGS" => parse_settings(Args::new("SETTINGS", rest)),
        _ => Err(unsupported(name).unwrap_or_else(|| VerbError::Unknown(snippet(name)))),
    }
}

/// Range of the stats numbers: any finite non-negative value.
const NON_NEGATIVE: RangeInclusive<f64> = 0.0..=f64::MAX;

fn unsupported(name: &str) -> Option<VerbError> {
    const KNOWN: [&str; 10] = [
        "_gz",
        "cmd",
        "_ebc",
        "_rc",
        "_crf",
        "START_VIDEO",
        "STOP_VIDEO",
        "START_AUDIO",
        "STOP_AUDIO",
        "CLIENT_FRAME_ACK",
    ];
    KNOWN
        .into_iter()
        .find(|known| *known == name)
        .map(VerbError::Unsupported)
}

/// The comma-separated arguments after the verb name.
struct Args<'a> {
    verb: &'static str,
    /// What follows the last consumed comma; `None` once no comma is left.
    rest: Option<&'a str>,
}

impl<'a> Args<'a> {
    fn new(verb: &'static str, rest: Option<&'a str>) -> Self {
        Self { verb, rest }
    }

    fn next(&mut self, arg: &'static str) -> Result<&'a str, VerbError> {
        let rest = self.rest.ok_or(VerbError::Missing {
            verb: self.verb,
            arg,
        })?;
        match rest.split_once(',') {
            Some((token, tail)) => {
                self.rest = Some(tail);
                Ok(token)
            }
            None => {
                self.rest = None;
                Ok(rest)
            }
        }
    }

    /// Everything left, commas included.
    fn rest(&mut self, arg: &'static str) -> Result<&'a str, VerbError> {
        self.rest.take().ok_or(VerbError::Missing {
            verb: self.verb,
            arg,
        })
    }

    /// How many comma-separated fields are left.
    fn remaining(&self) -> usize {
        self.rest
            .map_or(0, |rest| rest.bytes().filter(|&b| b == b',').count() + 1)
    }

    fn finish(&self) -> Result<(), VerbError> {
        match self.rest {
            Some(_) => Err(VerbError::Extra { verb: self.verb }),
            None => Ok(()),
        }
    }

    fn int<T>(&mut self, arg: &'static str, range: RangeInclusive<T>) -> Result<T, VerbError>
    where
        T: Copy + Into<i64> + TryFrom<i64> + Display,
    {
        let token = self.next(arg)?;
        int(token, self.verb, arg, range)
    }

    fn float(&mut self, arg: &'static str, range: RangeInclusive<f64>) -> Result<f64, VerbError> {
        let token = self.next(arg)?;
        float(token, self.verb, arg, range)
    }
}

fn bare(args: Args<'_>, verb: Verb) -> Result<Verb, VerbError> {
    args.finish()?;
    Ok(verb)
}

fn parse_key(mut args: Args<'_>, make: fn(u32) -> Verb) -> Result<Verb, VerbError> {
    let token = args.next("keysym")?;
    let keysym = keysym(token, args.verb)?;
    args.finish()?;
    Ok(make(keysym))
}

fn parse_held(mut args: Args<'_>) -> Result<Verb, VerbError> {
    let mut keys = Vec::new();
    // `kh,` is how the 2.x client says "nothing held" (an empty join).
    if args.rest == Some("") {
        return Ok(Verb::HeldKeys(keys));
    }
    while args.rest.is_some() {
        if keys.len() == MAX_HELD_KEYS {
            return Err(VerbError::TooLong {
                verb: args.verb,
                arg: "keysyms",
                len: keys.len() + args.remaining(),
                max: MAX_HELD_KEYS,
            });
        }
        let token = args.next("keysym")?;
        keys.push(keysym(token, args.verb)?);
    }
    Ok(Verb::HeldKeys(keys))
}

fn parse_settings(mut args: Args<'_>) -> Result<Verb, VerbError> {
    let json = args.rest("settings")?;
    super::settings::parse(json)
        .map(Verb::Settings)
        .map_err(|(arg, expected)| VerbError::Invalid {
            verb: args.verb,
            arg,
            value: snippet(json),
            expected,
        })
}

fn parse_type_text(mut args: Args<'_>) -> Result<Verb, VerbError> {
    let sub = args.next("subcommand")?;
    if sub != "end" {
        return Err(VerbError::Invalid {
            verb: args.verb,
            arg: "subcommand",
            value: snippet(sub),
            expected: "end",
        });
    }
    Ok(Verb::TypeText(args.rest("text")?.to_owned()))
}

fn parse_pointer(mut args: Args<'_>) -> Result<PointerEvent, VerbError> {
    let coords = -MAX_POINTER_COORD..=MAX_POINTER_COORD;
    let x = args.int("x", coords.clone())?;
    let y = args.int("y", coords)?;
    let buttons = ButtonMask(args.int("button mask", 0..=u8::MAX)?);
    let scroll: u32 = args.int("scroll magnitude", 0..=MAX_SCROLL_ACCEPTED)?;
    args.finish()?;
    let scroll = u8::try_from(scroll).map_or(MAX_SCROLL, |s| s.min(MAX_SCROLL));
    Ok(PointerEvent {
        x,
        y,
        buttons,
        scroll,
    })
}

fn parse_flag(mut args: Args<'_>, make: fn(bool) -> Verb) -> Result<Verb, VerbError> {
    let token = args.next("flag")?;
    let on = match token {
        "0" => false,
        "1" => true,
        _ => {
            return Err(VerbError::Invalid {
                verb: args.verb,
                arg: "flag",
                value: snippet(token),
                expected: "0 or 1",
            })
        }
    };
    args.finish()?;
    Ok(make(on))
}

fn parse_u32(
    mut args: Args<'_>,
    arg: &'static str,
    range: RangeInclusive<u32>,
    make: fn(u32) -> Verb,
) -> Result<Verb, VerbError> {
    let value = args.int(arg, range)?;
    args.finish()?;
    Ok(make(value))
}

fn parse_f64(
    mut args: Args<'_>,
    arg: &'static str,
    range: RangeInclusive<f64>,
    make: fn(f64) -> Verb,
) -> Result<Verb, VerbError> {
    let value = args.float(arg, range)?;
    args.finish()?;
    Ok(make(value))
}

fn parse_resize_mode(mut args: Args<'_>) -> Result<Verb, VerbError> {
    let token = args.next("enabled")?;
    let enabled = if token.eq_ignore_ascii_case("true") {
        true
    } else if token.eq_ignore_ascii_case("false") {
        false
    } else {
        return Err(VerbError::Invalid {
            verb: args.verb,
            arg: "enabled",
            value: snippet(token),
            expected: "true or false",
        });
    };
    let token = args.next("size")?;
    let size = if token.is_empty() {
        None
    } else {
        Some(size(token, args.verb)?)
    };
    args.finish()?;
    Ok(Verb::ResizeMode { enabled, size })
}

fn parse_resize(mut args: Args<'_>) -> Result<Verb, VerbError> {
    let size = size(args.next("size")?, args.verb)?;
    let display = match args.rest {
        Some(_) => Some(id(args.next("display id")?, args.verb, "display id")?),
        None => None,
    };
    args.finish()?;
    Ok(Verb::Resize { size, display })
}

fn parse_gamepad(rest: Option<&str>) -> Result<Verb, VerbError> {
    let mut args = Args::new("js", rest);
    let sub = args.next("subcommand")?;
    let index_range = 0..=MAX_GAMEPADS.saturating_sub(1);
    match sub {
        "c" => {
            args.verb = "js,c";
            let index = args.int("index", index_range)?;
            let name = gamepad_name(args.next("name")?)?;
            let axes = args.int("axis count", 0..=MAX_GAMEPAD_AXES)?;
            let buttons = args.int("button count", 0..=MAX_GAMEPAD_BUTTONS)?;
            args.finish()?;
            Ok(Verb::GamepadConnect {
                index,
                name,
                axes,
                buttons,
            })
        }
        "d" | "h" => {
            args.verb = if sub == "d" { "js,d" } else { "js,h" };
            let index = args.int("index", index_range)?;
            args.finish()?;
            Ok(if sub == "d" {
                Verb::GamepadDisconnect { index }
            } else {
                Verb::GamepadHeartbeat { index }
            })
        }
        "b" => {
            args.verb = "js,b";
            let index = args.int("index", index_range)?;
            let button = args.int("button", 0..=MAX_GAMEPAD_BUTTONS.saturating_sub(1))?;
            let value = args.float("value", 0.0..=1.0)?;
            args.finish()?;
            Ok(Verb::GamepadButton {
                index,
                button,
                value,
            })
        }
        "a" => {
            args.verb = "js,a";
            let index = args.int("index", index_range)?;
            let max_axis = u8::try_from(MAX_GAMEPAD_AXES.saturating_sub(1)).unwrap_or(u8::MAX);
            let axis = args.int("axis", 0..=max_axis)?;
            let value = args.float("value", -1.0..=1.0)?;
            args.finish()?;
            Ok(Verb::GamepadAxis { index, axis, value })
        }
        _ => Err(VerbError::Unknown(snippet(&format!("js,{sub}")))),
    }
}

/// Decodes a gamepad name. Clients pass the pad id to `btoa()`, which encodes Latin-1 code units,
/// so bytes that are not UTF-8 are read as Latin-1 rather than losing the pad.
fn gamepad_name(token: &str) -> Result<String, VerbError> {
    const VERB: &str = "js,c";
    let bytes = base64(token, VERB, "name")?;
    let name = match String::from_utf8(bytes) {
        Ok(name) => name,
        Err(e) => e.into_bytes().into_iter().map(char::from).collect(),
    };
    if name.len() > MAX_GAMEPAD_NAME_BYTES {
        return Err(VerbError::TooLong {
            verb: VERB,
            arg: "name",
            len: name.len(),
            max: MAX_GAMEPAD_NAME_BYTES,
        });
    }
    Ok(name)
}

fn parse_clipboard_text(mut args: Args<'_>) -> Result<Verb, VerbError> {
    let bytes = base64(args.next("text")?, args.verb, "text")?;
    args.finish()?;
    let text = String::from_utf8(bytes).map_err(|_| VerbError::Utf8 {
        verb: args.verb,
        arg: "text",
    })?;
    Ok(Verb::ClipboardText(text))
}

fn parse_clipboard_binary(mut args: Args<'_>) -> Result<Verb, VerbError> {
    let mime = mime(args.next("mime type")?, args.verb)?;
    let data = base64(args.next("data")?, args.verb, "data")?;
    args.finish()?;
    Ok(Verb::ClipboardBinary { mime, data })
}

fn parse_text_start(mut args: Args<'_>) -> Result<Verb, VerbError> {
    let id = optional_id(&mut args, 2)?;
    let total = args.int("total size", 0..=MAX_CLIPBOARD_TOTAL)?;
    args.finish()?;
    Ok(Verb::ClipboardTextStart { id, total })
}

fn parse_binary_start(mut args: Args<'_>) -> Result<Verb, VerbError> {
    let id = optional_id(&mut args, 3)?;
    let mime = mime(args.next("mime type")?, args.verb)?;
    let total = args.int("total size", 0..=MAX_CLIPBOARD_TOTAL)?;
    args.finish()?;
    Ok(Verb::ClipboardBinaryStart { id, mime, total })
}

fn parse_chunk(mut args: Args<'_>) -> Result<(Option<String>, Vec<u8>), VerbError> {
    let id = optional_id(&mut args, 2)?;
    let chunk = base64(args.next("chunk")?, args.verb, "chunk")?;
    args.finish()?;
    Ok((id, chunk))
}

fn parse_end(mut args: Args<'_>) -> Result<Option<String>, VerbError> {
    let id = optional_id(&mut args, 1)?;
    args.finish()?;
    Ok(id)
}

/// Reads the transfer id when at least `with_id` fields are left: the id-less and id forms of the
/// multipart verbs differ only in field count.
fn optional_id(args: &mut Args<'_>, with_id: usize) -> Result<Option<String>, VerbError> {
    if args.remaining() < with_id {
        return Ok(None);
    }
    let token = args.next("transfer id")?;
    id(token, args.verb, "transfer id").map(Some)
}

fn parse_stats(mut args: Args<'_>, make: fn(String) -> Verb) -> Result<Verb, VerbError> {
    let json = args.rest("json")?;
    if json.len() > MAX_STATS_JSON_BYTES {
        return Err(VerbError::TooLong {
            verb: args.verb,
            arg: "json",
            len: json.len(),
            max: MAX_STATS_JSON_BYTES,
        });
    }
    Ok(make(json.to_owned()))
}

fn keysym(token: &str, verb: &'static str) -> Result<u32, VerbError> {
    let keysym = int(token, verb, "keysym", 1..=MAX_KEYSYM)?;
    let unicode_block = UNICODE_KEYSYM_BASE..=(UNICODE_KEYSYM_BASE | 0x00FF_FFFF);
    if unicode_block.contains(&keysym) && char::from_u32(keysym - UNICODE_KEYSYM_BASE).is_none() {
        return Err(VerbError::OutOfRange {
            verb,
            arg: "keysym",
            value: snippet(token),
            expected: "a Unicode keysym (0x01000000 | code point) naming a Unicode scalar value"
                .to_owned(),
        });
    }
    Ok(keysym)
}

fn size(token: &str, verb: &'static str) -> Result<Size, VerbError> {
    let (w, h) = token.split_once('x').ok_or_else(|| VerbError::Invalid {
        verb,
        arg: "size",
        value: snippet(token),
        expected: "WxH",
    })?;
    Ok(Size {
        width: int(w, verb, "width", RESIZE_SIDE)?,
        height: int(h, verb, "height", RESIZE_SIDE)?,
    })
}

/// A transfer or display id: 1 to [`MAX_ID_BYTES`] of `A-Z a-z 0-9 _ - .`.
fn id(token: &str, verb: &'static str, arg: &'static str) -> Result<String, VerbError> {
    let valid = !token.is_empty()
        && token.len() <= MAX_ID_BYTES
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if !valid {
        return Err(VerbError::Invalid {
            verb,
            arg,
            value: snippet(token),
            expected: "1 to 64 characters of A-Z a-z 0-9 _ - .",
        });
    }
    Ok(token.to_owned())
}

/// A MIME type `type/subtype`, both RFC 9110 tokens, without parameters.
fn mime(token: &str, verb: &'static str) -> Result<String, VerbError> {
    let is_token = |s: &str| {
        !s.is_empty()
            && s.bytes().all(|b| {
                b.is_ascii_alphanumeric()
                    || matches!(
                        b,
                        b'!' | b'#'
                            | b'$'
                            | b'%'
                            | b'&'
                            | b'\''
                            | b'*'
                            | b'+'
                            | b'-'
                            | b'.'
                            | b'^'
                            | b'_'
                            | b'`'
                            | b'|'
                            | b'~'
                    )
            })
    };
    let valid = token.len() <= MAX_MIME_BYTES
        && token
            .split_once('/')
            .is_some_and(|(t, s)| is_token(t) && is_token(s));
    if !valid {
        return Err(VerbError::Invalid {
            verb,
            arg: "mime type",
            value: snippet(token),
            expected: "type/subtype, at most 127 characters",
        });
    }
    Ok(token.to_owned())
}

fn base64(token: &str, verb: &'static str, arg: &'static str) -> Result<Vec<u8>, VerbError> {
    B64.decode(token)
        .map_err(|_| VerbError::Base64 { verb, arg })
}

/// A decimal integer, optionally negative, within `range`. Hand-rolled rather than `str::parse`
/// so that `+5`, whitespace and other forms no Selkies client writes are rejected, and overflow
/// is reported as out of range rather than as not-a-number.
fn int<T>(
    token: &str,
    verb: &'static str,
    arg: &'static str,
    range: RangeInclusive<T>,
) -> Result<T, VerbError>
where
    T: Copy + Into<i64> + TryFrom<i64> + Display,
{
    let (negative, digits) = match token.strip_prefix('-') {
        Some(digits) => (true, digits),
        None => (false, token),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(VerbError::NotANumber {
            verb,
            arg,
            value: snippet(token),
        });
    }
    let out_of_range = || VerbError::OutOfRange {
        verb,
        arg,
        value: snippet(token),
        expected: format!("{}..={}", range.start(), range.end()),
    };
    let mut value: i64 = 0;
    for digit in digits.bytes() {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(digit - b'0')))
            .ok_or_else(out_of_range)?;
    }
    if negative {
        value = -value;
    }
    let (start, end): (i64, i64) = ((*range.start()).into(), (*range.end()).into());
    if value < start || value > end {
        return Err(out_of_range());
    }
    T::try_from(value).map_err(|_| out_of_range())
}

/// A finite decimal number within `range`. Clients send floats where Selkies' server reads ints
/// (`_f`, `_l`), so any form `f64` parses is accepted, then checked.
fn float(
    token: &str,
    verb: &'static str,
    arg: &'static str,
    range: RangeInclusive<f64>,
) -> Result<f64, VerbError> {
    let not_a_number = || VerbError::NotANumber {
        verb,
        arg,
        value: snippet(token),
    };
    if token.len() > MAX_NUMBER_BYTES {
        return Err(not_a_number());
    }
    let value: f64 = token.parse().map_err(|_| not_a_number())?;
    if !value.is_finite() {
        return Err(VerbError::NotFinite { verb, arg });
    }
    if !range.contains(&value) {
        let expected = if *range.end() == f64::MAX {
            format!("a finite number >= {}", range.start())
        } else {
            format!("{}..={}", range.start(), range.end())
        };
        return Err(VerbError::OutOfRange {
            verb,
            arg,
            value: snippet(token),
            expected,
        });
    }
    Ok(value)
}

/// A short, single-line copy of client input for error messages.
fn snippet(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        let c = if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
            '?'
        } else {
            c
        };
        if out.len() + c.len_utf8() > MAX_SNIPPET_BYTES {
            out.push('…');
            break;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(bytes: &[u8]) -> String {
        B64.encode(bytes)
    }

    fn err(text: &str) -> VerbError {
        match parse(text) {
            Ok(verb) => panic!("{text:?} parsed as {verb:?}"),
            Err(e) => e,
        }
    }

    fn ok(text: &str) -> Verb {
        match parse(text) {
            Ok(verb) => verb,
            Err(e) => panic!("{text:?}: {e}"),
        }
    }

    fn pointer(x: i32, y: i32, mask: u8, scroll: u8) -> PointerEvent {
        PointerEvent {
            x,
            y,
            buttons: ButtonMask(mask),
            scroll,
        }
    }

    /// Canonical messages: each parses to the verb, and the verb prints back to the same text.
    fn canonical() -> Vec<(String, Verb)> {
        let tid = || Some("7".to_owned());
        vec![
            ("kd,65307".into(), Verb::KeyDown(65307)),
            ("ku,97".into(), Verb::KeyUp(97)),
            ("kd,16785613".into(), Verb::KeyDown(0x0100_20CD)),
            ("kd,17891327".into(), Verb::KeyDown(0x0110_FFFF)),
            ("kd,536870911".into(), Verb::KeyDown(MAX_KEYSYM)),
            ("kr".into(), Verb::ReleaseAllKeys),
            ("kh,".into(), Verb::HeldKeys(vec![])),
            ("kh,65505".into(), Verb::HeldKeys(vec![65505])),
            ("kh,65505,97,98".into(), Verb::HeldKeys(vec![65505, 97, 98])),
            ("co,end,hello".into(), Verb::TypeText("hello".into())),
            (
                "co,end,a,b,,c ünï 😀".into(),
                Verb::TypeText("a,b,,c ünï 😀".into()),
            ),
            ("co,end,".into(), Verb::TypeText(String::new())),
            (
                "m,100,200,1,0".into(),
                Verb::PointerAbsolute(pointer(100, 200, 1, 0)),
            ),
            (
                "m,-5,65535,255,64".into(),
                Verb::PointerAbsolute(pointer(-5, 65535, 255, 64)),
            ),
            (
                "m2,-12,7,0,0".into(),
                Verb::PointerRelative(pointer(-12, 7, 0, 0)),
            ),
            (
                "m2,-65535,0,8,3".into(),
                Verb::PointerRelative(pointer(-65535, 0, 8, 3)),
            ),
            ("p,1".into(), Verb::PointerVisible(true)),
            ("p,0".into(), Verb::PointerVisible(false)),
            (
                "SET_NATIVE_CURSOR_RENDERING,1".into(),
                Verb::NativeCursorRendering(true),
            ),
            ("vb,8000".into(), Verb::VideoBitrate(8000)),
            ("vb,100".into(), Verb::VideoBitrate(100)),
            ("vb,1000000".into(), Verb::VideoBitrate(1_000_000)),
            ("ab,128000".into(), Verb::AudioBitrate(128_000)),
            ("_arg_fps,60".into(), Verb::Framerate(60)),
            ("_arg_fps,240".into(), Verb::Framerate(240)),
            (
                "_arg_resize,true,1920x1080".into(),
                Verb::ResizeMode {
                    enabled: true,
                    size: Some(Size {
                        width: 1920,
                        height: 1080,
                    }),
                },
            ),
            (
                "_arg_resize,false,".into(),
                Verb::ResizeMode {
                    enabled: false,
                    size: None,
                },
            ),
            (
                "r,1281x721".into(),
                Verb::Resize {
                    size: Size {
                        width: 1281,
                        height: 721,
                    },
                    display: None,
                },
            ),
            (
                "r,7680x64,display2".into(),
                Verb::Resize {
                    size: Size {
                        width: 7680,
                        height: 64,
                    },
                    display: Some("display2".into()),
                },
            ),
            ("s,1.5".into(), Verb::Scale(1.5)),
            ("s,0.5".into(), Verb::Scale(0.5)),
            ("s,5.0".into(), Verb::Scale(5.0)),
            (
                format!(
                    "js,c,0,{},8,17",
                    b64(b"Xbox 360 Controller (STANDARD GAMEPAD)")
                ),
                Verb::GamepadConnect {
                    index: 0,
                    name: "Xbox 360 Controller (STANDARD GAMEPAD)".into(),
                    axes: 8,
                    buttons: 17,
                },
            ),
            (
                "js,c,3,,64,512".into(),
                Verb::GamepadConnect {
                    index: 3,
                    name: String::new(),
                    axes: 64,
                    buttons: 512,
                },
            ),
            ("js,d,2".into(), Verb::GamepadDisconnect { index: 2 }),
            ("js,h,1".into(), Verb::GamepadHeartbeat { index: 1 }),
            (
                "js,b,0,7,0.5".into(),
                Verb::GamepadButton {
                    index: 0,
                    button: 7,
                    value: 0.5,
                },
            ),
            (
                "js,b,3,511,1.0".into(),
                Verb::GamepadButton {
                    index: 3,
                    button: 511,
                    value: 1.0,
                },
            ),
            (
                "js,a,1,63,-1.0".into(),
                Verb::GamepadAxis {
                    index: 1,
                    axis: 63,
                    value: -1.0,
                },
            ),
            (
                "js,a,0,0,0.25".into(),
                Verb::GamepadAxis {
                    index: 0,
                    axis: 0,
                    value: 0.25,
                },
            ),
            ("cr".into(), Verb::ClipboardRead),
            ("REQUEST_CLIPBOARD".into(), Verb::RequestClipboard),
            (
                format!("cw,{}", b64("héllo, wörld".as_bytes())),
                Verb::ClipboardText("héllo, wörld".into()),
            ),
            ("cw,".into(), Verb::ClipboardText(String::new())),
            (
                format!("cb,image/png,{}", b64(&[0x89, b'P', b'N', b'G', 0, 0xff])),
                Verb::ClipboardBinary {
                    mime: "image/png".into(),
                    data: vec![0x89, b'P', b'N', b'G', 0, 0xff],
                },
            ),
            (
                "cws,1048576".into(),
                Verb::ClipboardTextStart {
                    id: None,
                    total: 1_048_576,
                },
            ),
            (
                "cws,7,67108864".into(),
                Verb::ClipboardTextStart {
                    id: tid(),
                    total: MAX_CLIPBOARD_TOTAL,
                },
            ),
            (
                format!("cwd,{}", b64(&[0xe2, 0x82])),
                Verb::ClipboardTextData {
                    id: None,
                    chunk: vec![0xe2, 0x82],
                },
            ),
            (
                format!("cwd,7,{}", b64(&[0xac])),
                Verb::ClipboardTextData {
                    id: tid(),
                    chunk: vec![0xac],
                },
            ),
            ("cwe".into(), Verb::ClipboardTextEnd { id: None }),
            ("cwe,7".into(), Verb::ClipboardTextEnd { id: tid() }),
            (
                "cbs,image/png,300".into(),
                Verb::ClipboardBinaryStart {
                    id: None,
                    mime: "image/png".into(),
                    total: 300,
                },
            ),
            (
                "cbs,7,image/svg+xml,0".into(),
                Verb::ClipboardBinaryStart {
                    id: tid(),
                    mime: "image/svg+xml".into(),
                    total: 0,
                },
            ),
            (
                format!("cbd,{}", b64(b"abc")),
                Verb::ClipboardBinaryData {
                    id: None,
                    chunk: b"abc".to_vec(),
                },
            ),
            (
                format!("cbd,7,{}", b64(b"abcd")),
                Verb::ClipboardBinaryData {
                    id: tid(),
                    chunk: b"abcd".to_vec(),
                },
            ),
            ("cbe".into(), Verb::ClipboardBinaryEnd { id: None }),
            ("cbe,7".into(), Verb::ClipboardBinaryEnd { id: tid() }),
            ("_f,59.94".into(), Verb::ClientFps(59.94)),
            ("_l,0.0".into(), Verb::ClientLatency(0.0)),
            ("pong,1712345678.123".into(), Verb::Pong(1_712_345_678.123)),
            (
                r#"_stats_video,{"a":1,"b":[1,2],"c":"x,y"}"#.into(),
                Verb::VideoStats(r#"{"a":1,"b":[1,2],"c":"x,y"}"#.into()),
            ),
            ("_stats_audio,{}".into(), Verb::AudioStats("{}".into())),
            ("REQUEST_KEYFRAME".into(), Verb::RequestKeyframe),
            (
                r#"SETTINGS,{"encoder":"software","framerate":30,"video_bitrate":4000}"#.into(),
                Verb::Settings(super::super::settings::StreamSettings {
                    encoder: Some(crate::encode::EncoderKind::Software),
                    framerate: Some(30),
                    video_bitrate: Some(4000),
                }),
            ),
        ]
    }

    #[test]
    fn every_verb_parses_and_prints_back() {
        for (text, verb) in canonical() {
            assert_eq!(parse(&text), Ok(verb.clone()), "{text:?}");
            assert_eq!(verb.to_text(), text, "{verb:?}");
        }
    }

    #[test]
    fn lenient_forms_parse_and_round_trip() {
        let cases: Vec<(&str, Verb)> = vec![
            ("kh", Verb::HeldKeys(vec![])),
            ("kd,000065", Verb::KeyDown(65)),
            ("m,-0,0,0,0", Verb::PointerAbsolute(pointer(0, 0, 0, 0))),
            (
                "_arg_resize,TRUE,800x600",
                Verb::ResizeMode {
                    enabled: true,
                    size: Some(Size {
                        width: 800,
                        height: 600,
                    }),
                },
            ),
            ("s,2", Verb::Scale(2.0)),
            ("_f,60", Verb::ClientFps(60.0)),
            ("_l,1e-300", Verb::ClientLatency(1e-300)),
            ("pong,1.7976931348623157e308", Verb::Pong(f64::MAX)),
            (
                "js,b,0,0,1",
                Verb::GamepadButton {
                    index: 0,
                    button: 0,
                    value: 1.0,
                },
            ),
            (
                "js,a,0,0,-0",
                Verb::GamepadAxis {
                    index: 0,
                    axis: 0,
                    value: -0.0,
                },
            ),
            // Unpadded base64, as some clients strip the padding.
            ("cw,aGk", Verb::ClipboardText("hi".into())),
        ];
        for (text, verb) in cases {
            assert_eq!(parse(text), Ok(verb.clone()), "{text:?}");
            assert_eq!(parse(&verb.to_text()), Ok(verb), "{text:?}");
        }
    }

    #[test]
    fn scroll_magnitude_clamps_to_64_up_to_1000() {
        assert_eq!(
            ok("m,0,0,8,65"),
            Verb::PointerAbsolute(pointer(0, 0, 8, 64))
        );
        assert_eq!(
            ok("m2,0,0,16,1000"),
            Verb::PointerRelative(pointer(0, 0, 16, 64))
        );
        assert!(matches!(
            err("m,0,0,8,1001"),
            VerbError::OutOfRange {
                verb: "m",
                arg: "scroll magnitude",
                ..
            }
        ));
    }

    #[test]
    fn gamepad_name_falls_back_to_latin1() {
        let text = format!("js,c,1,{},4,11", b64(&[b'P', b'a', b'd', b' ', 0xe9]));
        let verb = ok(&text);
        assert_eq!(
            verb,
            Verb::GamepadConnect {
                index: 1,
                name: "Pad é".into(),
                axes: 4,
                buttons: 11,
            }
        );
        assert_eq!(parse(&verb.to_text()), Ok(verb));
    }

    #[test]
    fn button_mask_bits() {
        let mask = ButtonMask(ButtonMask::LEFT | ButtonMask::WHEEL_DOWN);
        assert!(mask.contains(ButtonMask::LEFT));
        assert!(mask.contains(ButtonMask::WHEEL_DOWN));
        assert!(!mask.contains(ButtonMask::RIGHT));
        assert!(!mask.contains(ButtonMask::LEFT | ButtonMask::RIGHT));
        assert_eq!(ButtonMask::SCROLL_RIGHT, 0x80);
    }

    #[test]
    fn categories() {
        let cat = |t: &str| ok(t).category();
        assert_eq!(cat("kd,97"), Category::Keyboard);
        assert_eq!(cat("kh,"), Category::Keyboard);
        assert_eq!(cat("co,end,x"), Category::Keyboard);
        assert_eq!(cat("m,1,1,0,0"), Category::Mouse);
        assert_eq!(cat("m2,1,1,0,0"), Category::Mouse);
        assert_eq!(cat("js,d,0"), Category::Gamepad);
        assert_eq!(cat("js,h,0"), Category::Gamepad);
        assert_eq!(cat("cr"), Category::Clipboard);
        assert_eq!(cat("cwe"), Category::Clipboard);
        assert_eq!(cat("REQUEST_CLIPBOARD"), Category::Clipboard);
        assert_eq!(cat("p,1"), Category::Settings);
        assert_eq!(cat("vb,5000"), Category::Settings);
        assert_eq!(cat("r,800x600"), Category::Settings);
        assert_eq!(cat("_f,30"), Category::Stats);
        assert_eq!(cat("pong,1.5"), Category::Stats);
        assert_eq!(cat("_stats_audio,{}"), Category::Stats);
        assert_eq!(cat("REQUEST_KEYFRAME"), Category::Control);
        // Every canonical verb has some category (the match is exhaustive); spot-check a count.
        let settings = canonical()
            .iter()
            .filter(|(_, v)| v.category() == Category::Settings)
            .count();
        assert!(settings >= 10);
    }

    #[test]
    fn empty_oversized_unknown_unsupported() {
        assert_eq!(err(""), VerbError::Empty);
        let big = format!("co,end,{}", "x".repeat(MAX_VERB_BYTES));
        assert_eq!(err(&big), VerbError::TooLarge { len: big.len() });
        // Exactly at the limit is fine.
        let at_limit = format!("co,end,{}", "x".repeat(MAX_VERB_BYTES - 7));
        assert!(parse(&at_limit).is_ok());

        assert_eq!(err("zz,1"), VerbError::Unknown("zz".into()));
        assert_eq!(err("KD,65"), VerbError::Unknown("KD".into()));
        assert_eq!(err(" kd,65"), VerbError::Unknown(" kd".into()));
        assert_eq!(err("js,x,0"), VerbError::Unknown("js,x".into()));
        let long = "q".repeat(10_000);
        match err(&long) {
            VerbError::Unknown(name) => assert!(name.len() <= MAX_SNIPPET_BYTES + 3),
            e => panic!("{e:?}"),
        }
        match err("a\nb\u{2028}c") {
            VerbError::Unknown(name) => assert_eq!(name, "a?b?c"),
            e => panic!("{e:?}"),
        }
        assert_eq!(err("_gz,1"), VerbError::Unsupported("_gz"));
        assert!(matches!(
            err(r#"SETTINGS,{"framerate":"x"}"#),
            VerbError::Invalid {
                arg: "framerate",
                ..
            }
        ));
        assert_eq!(err("cmd,rm -rf /"), VerbError::Unsupported("cmd"));
        assert_eq!(err("_crf,25"), VerbError::Unsupported("_crf"));
    }

    #[test]
    fn missing_arguments() {
        let cases = [
            ("kd", "kd", "keysym"),
            ("ku", "ku", "keysym"),
            ("co", "co", "subcommand"),
            ("co,end", "co", "text"),
            ("m,1,2,3", "m", "scroll magnitude"),
            ("m2", "m2", "x"),
            ("p", "p", "flag"),
            ("vb", "vb", "kbps"),
            ("_arg_resize,true", "_arg_resize", "size"),
            ("r", "r", "size"),
            ("s", "s", "dpr"),
            ("js", "js", "subcommand"),
            ("js,c,0,AA==,4", "js,c", "button count"),
            ("js,d", "js,d", "index"),
            ("js,b,0,1", "js,b", "value"),
            ("js,a,0", "js,a", "axis"),
            ("cw", "cw", "text"),
            ("cb,image/png", "cb", "data"),
            ("cws", "cws", "total size"),
            ("cwd", "cwd", "chunk"),
            ("cbs,image/png", "cbs", "total size"),
            ("_f", "_f", "fps"),
            ("pong", "pong", "timestamp"),
            ("_stats_video", "_stats_video", "json"),
        ];
        for (text, verb, arg) in cases {
            assert_eq!(err(text), VerbError::Missing { verb, arg }, "{text:?}");
        }
    }

    #[test]
    fn extra_arguments() {
        let cases = [
            ("kd,65,66", "kd"),
            ("kr,", "kr"),
            ("kr,1", "kr"),
            ("m,1,2,3,4,5", "m"),
            ("m2,1,2,3,4,", "m2"),
            ("p,1,1", "p"),
            (
                "SET_NATIVE_CURSOR_RENDERING,0,0",
                "SET_NATIVE_CURSOR_RENDERING",
            ),
            ("vb,1000,1", "vb"),
            ("_arg_resize,true,800x600,1", "_arg_resize"),
            ("r,800x600,primary,x", "r"),
            ("s,1,2", "s"),
            ("js,d,0,0", "js,d"),
            ("js,h,0,1", "js,h"),
            ("js,b,0,1,1,1", "js,b"),
            ("js,c,0,AA==,1,1,1", "js,c"),
            ("cr,1", "cr"),
            ("REQUEST_CLIPBOARD,", "REQUEST_CLIPBOARD"),
            ("REQUEST_KEYFRAME,1", "REQUEST_KEYFRAME"),
            ("cw,aGk=,aGk=", "cw"),
            ("cws,1,2,3", "cws"),
            ("cwd,1,aGk=,x", "cwd"),
            ("cwe,1,2", "cwe"),
            ("cbe,1,2", "cbe"),
            ("cbs,1,image/png,3,4", "cbs"),
            ("_f,1,2", "_f"),
            ("pong,1,2", "pong"),
        ];
        for (text, verb) in cases {
            assert_eq!(err(text), VerbError::Extra { verb }, "{text:?}");
        }
    }

    #[test]
    fn non_numeric() {
        let cases = [
            ("kd,a", "keysym"),
            ("kd,", "keysym"),
            ("kd,+65", "keysym"),
            ("kd, 65", "keysym"),
            ("kd,0x41", "keysym"),
            ("kd,6.5", "keysym"),
            ("kd,-", "keysym"),
            ("kh,1,,2", "keysym"),
            ("kh,1,", "keysym"),
            ("m,1.5,2,0,0", "x"),
            ("m,1,,0,0", "y"),
            ("m2,1,2,x,0", "button mask"),
            ("vb,8k", "kbps"),
            ("_arg_fps,60.0", "fps"),
            ("js,b,0,1,", "value"),
            ("js,a,0,1,half", "value"),
            ("js,d,one", "index"),
            ("cws,x", "total size"),
            ("_f,fast", "fps"),
            ("s,1;5", "dpr"),
        ];
        for (text, arg) in cases {
            match err(text) {
                VerbError::NotANumber { arg: a, .. } if a == arg => {}
                e => panic!("{text:?}: {e:?}"),
            }
        }
        // A 100-digit float is refused before parsing.
        let long = format!("_l,{}", "1".repeat(100));
        assert!(matches!(
            err(&long),
            VerbError::NotANumber { arg: "ms", .. }
        ));
    }

    #[test]
    fn out_of_range_and_huge() {
        let cases = [
            ("kd,0", "keysym"),
            ("kd,536870912", "keysym"),
            ("kd,-1", "keysym"),
            ("kd,99999999999999999999999999", "keysym"),
            // Unicode keysyms beyond U+10FFFF, and surrogates.
            ("kd,17891328", "keysym"),
            ("kd,33554431", "keysym"),
            ("ku,16832512", "keysym"),
            ("m,65536,0,0,0", "x"),
            ("m,0,-65536,0,0", "y"),
            ("m,0,0,256,0", "button mask"),
            ("m,0,0,-1,0", "button mask"),
            ("m,0,0,0,-1", "scroll magnitude"),
            ("m2,9223372036854775808,0,0,0", "x"),
            ("vb,99", "kbps"),
            ("vb,1000001", "kbps"),
            ("ab,5999", "bps"),
            ("ab,510001", "bps"),
            ("_arg_fps,0", "fps"),
            ("_arg_fps,241", "fps"),
            ("r,63x600", "width"),
            ("r,800x7681", "height"),
            ("_arg_resize,true,8000x600", "width"),
            ("s,0.49", "dpr"),
            ("s,5.01", "dpr"),
            ("s,-1", "dpr"),
            ("js,d,4", "index"),
            ("js,c,0,,65,1", "axis count"),
            ("js,c,0,,1,513", "button count"),
            ("js,b,0,512,1", "button"),
            ("js,b,0,1,1.01", "value"),
            ("js,b,0,1,-0.1", "value"),
            ("js,a,0,64,0", "axis"),
            ("js,a,0,1,-1.5", "value"),
            ("js,a,0,1,1e300", "value"),
            ("cws,67108865", "total size"),
            ("cws,-1", "total size"),
            ("cbs,image/png,99999999999", "total size"),
            ("_f,-1", "fps"),
            ("_l,-0.001", "ms"),
            ("pong,-5", "timestamp"),
        ];
        for (text, arg) in cases {
            match err(text) {
                VerbError::OutOfRange { arg: a, .. } if a == arg => {}
                e => panic!("{text:?}: {e:?}"),
            }
        }
    }

    #[test]
    fn nan_and_infinity() {
        for text in [
            "s,NaN",
            "s,nan",
            "s,inf",
            "s,-infinity",
            "js,a,0,0,NaN",
            "js,b,0,0,inf",
            "_f,NaN",
            "_l,1e400",
            "pong,Infinity",
        ] {
            assert!(
                matches!(err(text), VerbError::NotFinite { .. }),
                "{text:?}: {:?}",
                parse(text)
            );
        }
    }

    #[test]
    fn bad_base64_and_utf8() {
        for (text, verb, arg) in [
            ("cw,not base64", "cw", "text"),
            ("cw,a", "cw", "text"),
            ("cw,aGk=====", "cw", "text"),
            ("cw,aGl=", "cw", "text"), // non-zero trailing bits
            ("cw,aGk-", "cw", "text"), // URL-safe alphabet
            ("cb,image/png,@@@@", "cb", "data"),
            ("cwd,%%%%", "cwd", "chunk"),
            ("cbd,7,a", "cbd", "chunk"),
            ("js,c,0,*,1,1", "js,c", "name"),
        ] {
            assert_eq!(err(text), VerbError::Base64 { verb, arg }, "{text:?}");
        }
        let bad_utf8 = format!("cw,{}", b64(&[b'a', 0xff, 0xfe]));
        assert_eq!(
            err(&bad_utf8),
            VerbError::Utf8 {
                verb: "cw",
                arg: "text"
            }
        );
        let overlong = format!("cw,{}", b64(&[0xc0, 0x80]));
        assert!(matches!(err(&overlong), VerbError::Utf8 { .. }));
    }

    #[test]
    fn malformed_flags_sizes_ids_and_mime_types() {
        let cases: [(&str, &str, &str); 22] = [
            ("p,2", "p", "flag"),
            ("p,true", "p", "flag"),
            ("p,", "p", "flag"),
            (
                "SET_NATIVE_CURSOR_RENDERING,yes",
                "SET_NATIVE_CURSOR_RENDERING",
                "flag",
            ),
            ("_arg_resize,1,800x600", "_arg_resize", "enabled"),
            ("_arg_resize,,800x600", "_arg_resize", "enabled"),
            ("r,800", "r", "size"),
            ("r,", "r", "size"),
            ("r,800X600", "r", "size"),
            ("r,800x600,", "r", "display id"),
            ("r,800x600,dis play", "r", "display id"),
            ("co,start,x", "co", "subcommand"),
            ("cb,image,aGk=", "cb", "mime type"),
            ("cb,/png,aGk=", "cb", "mime type"),
            ("cb,image/,aGk=", "cb", "mime type"),
            ("cb,image/png;x=1,aGk=", "cb", "mime type"),
            ("cb,a/b/c,aGk=", "cb", "mime type"),
            ("cbs,,5", "cbs", "mime type"),
            ("cws,,5", "cws", "transfer id"),
            ("cwd,a b,aGk=", "cwd", "transfer id"),
            ("cwe,", "cwe", "transfer id"),
            ("cbe,x/y", "cbe", "transfer id"),
        ];
        for (text, verb, arg) in cases {
            match err(text) {
                VerbError::Invalid {
                    verb: v, arg: a, ..
                } if v == verb && a == arg => {}
                e => panic!("{text:?}: {e:?}"),
            }
        }
        let long_mime = format!("cb,image/{},aGk=", "x".repeat(MAX_MIME_BYTES));
        assert!(matches!(err(&long_mime), VerbError::Invalid { .. }));
        let long_id = format!("cwe,{}", "7".repeat(MAX_ID_BYTES + 1));
        assert!(matches!(err(&long_id), VerbError::Invalid { .. }));
        assert!(parse(&format!("cwe,{}", "7".repeat(MAX_ID_BYTES))).is_ok());
    }

    #[test]
    fn length_limits() {
        let held = vec!["97"; MAX_HELD_KEYS].join(",");
        assert!(parse(&format!("kh,{held}")).is_ok());
        assert_eq!(
            err(&format!("kh,{held},98,99")),
            VerbError::TooLong {
                verb: "kh",
                arg: "keysyms",
                len: MAX_HELD_KEYS + 2,
                max: MAX_HELD_KEYS,
            }
        );
        let name = "n".repeat(MAX_GAMEPAD_NAME_BYTES + 1);
        assert!(matches!(
            err(&format!("js,c,0,{},1,1", b64(name.as_bytes()))),
            VerbError::TooLong {
                verb: "js,c",
                arg: "name",
                ..
            }
        ));
        let stats = format!("_stats_video,{}", "1".repeat(MAX_STATS_JSON_BYTES + 1));
        assert!(matches!(
            err(&stats),
            VerbError::TooLong {
                verb: "_stats_video",
                ..
            }
        ));
        // A clipboard chunk as large as Selkies sends (750 KiB raw) fits in one message.
        let chunk = vec![0xab_u8; 750 * 1024];
        let text = format!("cbd,12345,{}", b64(&chunk));
        assert!(text.len() <= MAX_VERB_BYTES);
        assert_eq!(
            ok(&text),
            Verb::ClipboardBinaryData {
                id: Some("12345".into()),
                chunk,
            }
        );
    }

    #[test]
    fn error_messages_are_short_single_lines() {
        let junk = format!("kd,{}\n\r\u{2028}{}", "9".repeat(100), "é".repeat(100));
        let texts = [
            junk.as_str(),
            "m,1,2,3",
            "m,1,2,3,4,5",
            "s,NaN",
            "cw,!!",
            "\u{0}\u{1}\u{2}",
            "r,800x600,\n",
            "cb,\t/x,aGk=",
        ];
        for text in texts {
            let message = err(text).to_string();
            assert!(!message.is_empty());
            assert!(message.len() < 200, "{message:?}");
            assert!(
                !message
                    .chars()
                    .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')),
                "{message:?}"
            );
        }
    }

    /// Tiny xorshift so the property loop is deterministic and needs no dependency.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            let i = usize::try_from(self.next() % items.len() as u64).unwrap_or(0);
            items.get(i).copied().unwrap_or("")
        }
    }

    #[test]
    fn random_messages_never_panic_and_round_trip() {
        const PREFIXES: &[&str] = &[
            "kd",
            "ku",
            "kr",
            "kh",
            "co",
            "co,end",
            "m",
            "m2",
            "p",
            "SET_NATIVE_CURSOR_RENDERING",
            "vb",
            "ab",
            "_arg_fps",
            "_arg_resize",
            "_arg_resize,true",
            "r",
            "s",
            "js",
            "js,c",
            "js,d",
            "js,b",
            "js,a",
            "js,h",
            "cr",
            "cw",
            "cb",
            "cb,image/png",
            "cws",
            "cwd",
            "cwe",
            "cbs",
            "cbd",
            "cbe",
            "REQUEST_CLIPBOARD",
            "_f",
            "_l",
            "pong",
            "_stats_video",
            "_stats_audio",
            "REQUEST_KEYFRAME",
            "_gz",
            "",
            "x",
        ];
        const TOKENS: &[&str] = &[
            "",
            "0",
            "1",
            "-1",
            "3",
            "4",
            "64",
            "65",
            "255",
            "256",
            "511",
            "512",
            "1000",
            "1001",
            "65535",
            "-65535",
            "65536",
            "8000",
            "128000",
            "16785101",
            "17891328",
            "536870911",
            "99999999999999999999",
            "0.5",
            "-0.5",
            "1.0",
            "1e300",
            "1e-300",
            "NaN",
            "inf",
            "-0",
            "true",
            "FALSE",
            "1920x1080",
            "64x64",
            "7680x7681",
            "x",
            "1x",
            "primary",
            "image/png",
            "a/b/c",
            "aGk=",
            "aGk",
            "AA==",
            "/w==",
            "_w",
            "=",
            "é",
            "😀",
            "\u{0}",
            ",",
            " ",
            "{}",
            "7",
            "a b",
        ];
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let mut accepted = 0;
        for _ in 0..20_000 {
            let mut text = rng.pick(PREFIXES).to_owned();
            let n = rng.next() % 7;
            for _ in 0..n {
                text.push(',');
                text.push_str(rng.pick(TOKENS));
            }
            if rng.next() % 10 == 3 {
                // Cut at a random char boundary to exercise truncated messages.
                let cut = usize::try_from(rng.next() % (text.len() as u64 + 1)).unwrap_or(0);
                let cut = (0..=cut)
                    .rev()
                    .find(|&i| text.is_char_boundary(i))
                    .unwrap_or(0);
                text.truncate(cut);
            }
            if let Ok(verb) = parse(&text) {
                accepted += 1;
                assert_eq!(parse(&verb.to_text()), Ok(verb), "{text:?}");
            }
        }
        // The generator must reach the accepting paths, or the loop proves little.
        assert!(accepted > 500, "only {accepted} accepted");
    }
}
