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
//! Not handled here, by design: `_gz` (gzip negotiation), `SETTINGS`, `cmd` (remote shell),
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
        _ => Err(unsupported(name).unwrap_or_else(|| VerbError::Unknown(snippet(name)))),
    }
}

/// Range of the stats numbers: any finite non-negative value.
const NON_NEGATIVE: RangeInclusive<f64> = 0.0..=f64::MAX;

fn unsupported(name: &str) -> Option<VerbError> {
    const KNOWN: [&str; 11] = [
        "_gz",
        "SETTINGS",
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
