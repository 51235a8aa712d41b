//! The byte formats on the joystick-interposer sockets, shared by both ends: the server
//! ([`super::hub`]) encodes them and the LD_PRELOAD interposer (`ffi/js-interposer`) decodes them.
//!
//! The interposer compiles this same file (`#[path]`), so it must stay dependency-free: only `core`
//! and `std`, no `crate::` paths, no `unsafe`. Everything is native-endian, because both ends run on
//! the same machine and the layouts mirror C structs.
//!
//! A connection carries, in order:
//! 1. the device description ([`DeviceConfig`]), in the layout of [`WireVersion::Selkies1`]
//!    (1348 bytes) or [`WireVersion::Selkies2`] (1360 bytes);
//! 2. with `Selkies2` only, one byte from the interposer: `sizeof(long)` of the reading process
//!    ([`WordSize`]);
//! 3. event records until either side closes: [`JsEvent`] on joystick sockets, [`InputEvent`]
//!    (each change followed by a `SYN_REPORT`) on evdev sockets.

use std::fmt;

/// Bytes of the name field (a NUL-terminated C string, so at most 254 bytes of text).
pub const NAME_LEN: usize = 255;
/// Capacity of the button map.
pub const MAX_BUTTONS: usize = 512;
/// Capacity of the axis map.
pub const MAX_AXES: usize = 64;

/// evdev event types used here.
pub const EV_SYN: u16 = 0x00;
/// Key and button events.
pub const EV_KEY: u16 = 0x01;
/// Absolute axis events.
pub const EV_ABS: u16 = 0x03;
/// The end of one frame of events.
pub const SYN_REPORT: u16 = 0;
/// Largest key code (`KEY_MAX`); button map entries must not exceed it.
pub const KEY_MAX: u16 = 0x2ff;
/// Largest absolute axis code (`ABS_MAX`); axis map entries must not exceed it.
pub const ABS_MAX: u8 = 0x3f;

/// `struct js_event.type`: a button changed.
pub const JS_EVENT_BUTTON: u8 = 0x01;
/// `struct js_event.type`: an axis moved.
pub const JS_EVENT_AXIS: u8 = 0x02;
/// Flag on the state a joystick reports right after it is opened.
pub const JS_EVENT_INIT: u8 = 0x80;

/// Key codes of the Xbox 360 pad's buttons (`linux/input-event-codes.h`).
pub mod code {
    pub const BTN_A: u16 = 0x130;
    pub const BTN_B: u16 = 0x131;
    pub const BTN_X: u16 = 0x133;
    pub const BTN_Y: u16 = 0x134;
    pub const BTN_TL: u16 = 0x136;
    pub const BTN_TR: u16 = 0x137;
    pub const BTN_SELECT: u16 = 0x13a;
    pub const BTN_START: u16 = 0x13b;
    pub const BTN_MODE: u16 = 0x13c;
    pub const BTN_THUMBL: u16 = 0x13d;
    pub const BTN_THUMBR: u16 = 0x13e;
    pub const ABS_X: u8 = 0x00;
    pub const ABS_Y: u8 = 0x01;
    pub const ABS_Z: u8 = 0x02;
    pub const ABS_RX: u8 = 0x03;
    pub const ABS_RY: u8 = 0x04;
    pub const ABS_RZ: u8 = 0x05;
    pub const ABS_GAS: u8 = 0x09;
    pub const ABS_BRAKE: u8 = 0x0a;
    pub const ABS_HAT0X: u8 = 0x10;
    pub const ABS_HAT0Y: u8 = 0x11;
    pub const ABS_HAT3Y: u8 = 0x17;
}

/// Which Selkies generation's socket protocol a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WireVersion {
    /// selkies-gstreamer 1.x: `255s name, u16 nbtn, u16 naxes, u16 btn_map[512], u8 axes_map[64]`
    /// (1348 bytes with the C padding byte after the name), then `js_event` records. No reply from
    /// the interposer, no evdev sockets.
    Selkies1,
    /// Selkies 2.x: the name, then `u16 vendor, product, version` before the counts, 6 bytes of
    /// tail padding (1360 bytes); the interposer answers with one byte, `sizeof(long)`.
    #[default]
    Selkies2,
}

impl WireVersion {
    /// Length of the configuration record.
    pub const fn config_len(self) -> usize {
        match self {
            WireVersion::Selkies1 => 1348,
            WireVersion::Selkies2 => 1360,
        }
    }

    /// Whether the interposer replies with its word size after the configuration.
    pub const fn has_arch_byte(self) -> bool {
        matches!(self, WireVersion::Selkies2)
    }

    /// Offsets of (counts, button map, axis map); the name is always at 0.
    const fn layout(self) -> (usize, usize, usize) {
        match self {
            WireVersion::Selkies1 => (256, 260, 1284),
            WireVersion::Selkies2 => (262, 266, 1290),
        }
    }
}

/// Why a record could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// The record has the wrong size.
    Length {
        /// Bytes the layout needs.
        expected: usize,
        /// Bytes given.
        got: usize,
    },
    /// More buttons than the map holds.
    TooManyButtons(usize),
    /// More axes than the map holds.
    TooManyAxes(usize),
    /// A button maps to a code above `KEY_MAX`.
    BadKeyCode(u16),
    /// An axis maps to a code above `ABS_MAX`.
    BadAbsCode(u8),
    /// The name does not fit (254 bytes) or contains a NUL.
    BadName,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Length { expected, got } => {
                write!(f, "device config is {got} bytes, expected {expected}")
            }
            WireError::TooManyButtons(n) => {
                write!(
                    f,
                    "device config declares {n} buttons (at most {MAX_BUTTONS})"
                )
            }
            WireError::TooManyAxes(n) => {
                write!(f, "device config declares {n} axes (at most {MAX_AXES})")
            }
            WireError::BadKeyCode(c) => write!(f, "button code {c:#x} is above KEY_MAX"),
            WireError::BadAbsCode(c) => write!(f, "axis code {c:#x} is above ABS_MAX"),
            WireError::BadName => write!(f, "device name is over 254 bytes or contains NUL"),
        }
    }
}

impl std::error::Error for WireError {}

/// What a virtual device is: the record the server sends first on every connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceConfig {
    /// Reported by `JSIOCGNAME` / `EVIOCGNAME`; at most 254 bytes, no NUL.
    pub name: String,
    /// USB vendor id (`EVIOCGID`); not carried by [`WireVersion::Selkies1`], which decodes it as 0.
    pub vendor: u16,
    /// USB product id.
    pub product: u16,
    /// Device version.
    pub version: u16,
    /// For joystick button `i`, its evdev key code (`JSIOCGBTNMAP`, `EVIOCGBIT(EV_KEY)`).
    pub buttons: Vec<u16>,
    /// For joystick axis `i`, its evdev absolute axis code (`JSIOCGAXMAP`, `EVIOCGBIT(EV_ABS)`).
    pub axes: Vec<u8>,
}

impl DeviceConfig {
    /// The record in `version`'s layout.
    ///
    /// # Errors
    /// When a field does not fit the layout (see [`WireError`]).
    pub fn encode(&self, version: WireVersion) -> Result<Vec<u8>, WireError> {
        self.validate()?;
        let mut out = vec![0u8; version.config_len()];
        out[..self.name.len()].copy_from_slice(self.name.as_bytes());
        if version == WireVersion::Selkies2 {
            put_u16(&mut out, 256, self.vendor);
            put_u16(&mut out, 258, self.product);
            put_u16(&mut out, 260, self.version);
        }
        let (counts, btn_map, axes_map) = version.layout();
        // validate() bounded both lengths by the map capacities, far below u16::MAX.
        put_u16(&mut out, counts, self.buttons.len() as u16);
        put_u16(&mut out, counts + 2, self.axes.len() as u16);
        for (i, code) in self.buttons.iter().enumerate() {
            put_u16(&mut out, btn_map + 2 * i, *code);
        }
        out[axes_map..axes_map + self.axes.len()].copy_from_slice(&self.axes);
        Ok(out)
    }

    /// Reads a record in `version`'s layout. Map entries past the counts are ignored; a name that
    /// is not UTF-8 is decoded lossily (and shortened to fit again).
    ///
    /// # Errors
    /// When the record has the wrong length, counts over capacity, or codes out of range.
    pub fn decode(bytes: &[u8], version: WireVersion) -> Result<Self, WireError> {
        if bytes.len() != version.config_len() {
            return Err(WireError::Length {
                expected: version.config_len(),
                got: bytes.len(),
            });
        }
        let raw_name = &bytes[..NAME_LEN];
        let end = raw_name.iter().position(|b| *b == 0).unwrap_or(NAME_LEN);
        let name = fit_name(String::from_utf8_lossy(&raw_name[..end]).into_owned());
        let (vendor, product, dev_version) = match version {
            WireVersion::Selkies1 => (0, 0, 0),
            WireVersion::Selkies2 => (
                get_u16(bytes, 256),
                get_u16(bytes, 258),
                get_u16(bytes, 260),
            ),
        };
        let (counts, btn_map, axes_map) = version.layout();
        let nbtn = usize::from(get_u16(bytes, counts));
        let naxes = usize::from(get_u16(bytes, counts + 2));
        if nbtn > MAX_BUTTONS {
            return Err(WireError::TooManyButtons(nbtn));
        }
        if naxes > MAX_AXES {
            return Err(WireError::TooManyAxes(naxes));
        }
        let config = DeviceConfig {
            name,
            vendor,
            product,
            version: dev_version,
            buttons: (0..nbtn).map(|i| get_u16(bytes, btn_map + 2 * i)).collect(),
            axes: bytes[axes_map..axes_map + naxes].to_vec(),
        };
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), WireError> {
        if self.name.len() >= NAME_LEN || self.name.contains('\0') {
            return Err(WireError::BadName);
        }
        if self.buttons.len() > MAX_BUTTONS {
            return Err(WireError::TooManyButtons(self.buttons.len()));
        }
        if self.axes.len() > MAX_AXES {
            return Err(WireError::TooManyAxes(self.axes.len()));
        }
        if let Some(c) = self.buttons.iter().find(|c| **c > KEY_MAX) {
            return Err(WireError::BadKeyCode(*c));
        }
        if let Some(c) = self.axes.iter().find(|c| **c > ABS_MAX) {
            return Err(WireError::BadAbsCode(*c));
        }
        Ok(())
    }
}

/// Shortens a name to what the record holds, on a character boundary.
fn fit_name(mut name: String) -> String {
    let mut end = name.len().min(NAME_LEN - 1);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name.truncate(end);
    name
}

fn put_u16(out: &mut [u8], at: usize, v: u16) {
    out[at..at + 2].copy_from_slice(&v.to_ne_bytes());
}

fn get_u16(bytes: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes([bytes[at], bytes[at + 1]])
}

/// Range and resting value of an absolute axis, by evdev code. Both ends use it: the server to
/// scale values, the interposer to answer `EVIOCGABS`. Sticks are ±32767 like joydev's output;
/// triggers use the same range and rest at the minimum (as Selkies sends them); hats are -1..1 on
/// evdev (and ±32767 on joystick nodes, see [`hat_js_value`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AxisRange {
    /// Smallest value.
    pub min: i32,
    /// Largest value.
    pub max: i32,
    /// The value with nothing touched.
    pub rest: i32,
    /// Noise filter hint (`input_absinfo.fuzz`).
    pub fuzz: i32,
    /// Dead zone hint (`input_absinfo.flat`).
    pub flat: i32,
}

/// Largest magnitude of a stick or trigger value.
pub const AXIS_MAX: i32 = 32767;

impl AxisRange {
    /// The range of evdev axis `code`.
    pub const fn of(code: u8) -> Self {
        if is_hat(code) {
            AxisRange {
                min: -1,
                max: 1,
                rest: 0,
                fuzz: 0,
                flat: 0,
            }
        } else if is_trigger(code) {
            AxisRange {
                min: -AXIS_MAX,
                max: AXIS_MAX,
                rest: -AXIS_MAX,
                fuzz: 16,
                flat: 0,
            }
        } else {
            AxisRange {
                min: -AXIS_MAX,
                max: AXIS_MAX,
                rest: 0,
                fuzz: 16,
                flat: 128,
            }
        }
    }
}

/// Whether `code` is a hat (d-pad) axis.
pub const fn is_hat(code: u8) -> bool {
    code >= code::ABS_HAT0X && code <= code::ABS_HAT3Y
}

/// Whether `code` is an analog trigger.
pub const fn is_trigger(code: u8) -> bool {
    matches!(
        code,
        code::ABS_Z | code::ABS_RZ | code::ABS_GAS | code::ABS_BRAKE
    )
}

/// A hat's direction (-1, 0, 1) as a joystick node reports it (joydev scales hats to the full
/// axis range).
pub const fn hat_js_value(direction: i8) -> i16 {
    // AXIS_MAX fits i16 by definition.
    (direction as i32 * AXIS_MAX) as i16
}

/// `struct js_event`: what `read()` on `/dev/input/jsN` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsEvent {
    /// Milliseconds, from an arbitrary start; wraps.
    pub time_ms: u32,
    /// Button 0/1, or axis position.
    pub value: i16,
    /// [`JS_EVENT_BUTTON`] or [`JS_EVENT_AXIS`], maybe with [`JS_EVENT_INIT`].
    pub kind: u8,
    /// Button or axis number.
    pub number: u8,
}

impl JsEvent {
    /// Bytes of one record.
    pub const LEN: usize = 8;

    /// The record as the kernel lays it out.
    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[..4].copy_from_slice(&self.time_ms.to_ne_bytes());
        out[4..6].copy_from_slice(&self.value.to_ne_bytes());
        out[6] = self.kind;
        out[7] = self.number;
        out
    }

    /// Reads one record.
    pub fn decode(bytes: &[u8; Self::LEN]) -> Self {
        JsEvent {
            time_ms: u32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]),
            value: i16::from_ne_bytes([bytes[4], bytes[5]]),
            kind: bytes[6],
            number: bytes[7],
        }
    }
}

/// `sizeof(long)` of the process reading an evdev node, which sets the size of `struct timeval`
/// inside `struct input_event`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WordSize {
    /// 32-bit process: 16-byte events.
    Four,
    /// 64-bit process: 24-byte events.
    Eight,
}

impl WordSize {
    /// The interposer's reply byte, if it is a size we serve.
    pub const fn from_arch_byte(b: u8) -> Option<Self> {
        match b {
            4 => Some(WordSize::Four),
            8 => Some(WordSize::Eight),
            _ => None,
        }
    }

    /// The reply byte for this size.
    pub const fn arch_byte(self) -> u8 {
        match self {
            WordSize::Four => 4,
            WordSize::Eight => 8,
        }
    }

    /// This process's word size.
    pub const fn native() -> Self {
        if std::mem::size_of::<usize>() == 8 {
            WordSize::Eight
        } else {
            WordSize::Four
        }
    }

    /// Bytes of one `struct input_event`.
    pub const fn event_len(self) -> usize {
        match self {
            WordSize::Four => 16,
            WordSize::Eight => 24,
        }
    }
}

/// `struct input_event`: what `read()` on `/dev/input/eventN` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputEvent {
    /// Seconds of the timestamp.
    pub sec: i64,
    /// Microseconds of the timestamp.
    pub usec: i64,
    /// `EV_*`.
    pub kind: u16,
    /// Key or axis code.
    pub code: u16,
    /// 0/1 for keys, the position for axes.
    pub value: i32,
}

impl InputEvent {
    /// Appends the record in `word`'s layout. A 32-bit reader gets the timestamp truncated to
    /// 32-bit fields, as its `struct timeval` holds it.
    pub fn encode_into(&self, word: WordSize, out: &mut Vec<u8>) {
        match word {
            WordSize::Eight => {
                out.extend_from_slice(&self.sec.to_ne_bytes());
                out.extend_from_slice(&self.usec.to_ne_bytes());
            }
            WordSize::Four => {
                out.extend_from_slice(&(self.sec as i32).to_ne_bytes());
                out.extend_from_slice(&(self.usec as i32).to_ne_bytes());
            }
        }
        out.extend_from_slice(&self.kind.to_ne_bytes());
        out.extend_from_slice(&self.code.to_ne_bytes());
        out.extend_from_slice(&self.value.to_ne_bytes());
    }

    /// Reads one record in `word`'s layout; `None` unless `bytes` is exactly one record.
    pub fn decode(bytes: &[u8], word: WordSize) -> Option<Self> {
        if bytes.len() != word.event_len() {
            return None;
        }
        let (sec, usec, rest) = match word {
            WordSize::Eight => (
                i64::from_ne_bytes(bytes[0..8].try_into().ok()?),
                i64::from_ne_bytes(bytes[8..16].try_into().ok()?),
                &bytes[16..],
            ),
            WordSize::Four => (
                i64::from(i32::from_ne_bytes(bytes[0..4].try_into().ok()?)),
                i64::from(i32::from_ne_bytes(bytes[4..8].try_into().ok()?)),
                &bytes[8..],
            ),
        };
        Some(InputEvent {
            sec,
            usec,
            kind: u16::from_ne_bytes([rest[0], rest[1]]),
            code: u16::from_ne_bytes([rest[2], rest[3]]),
            value: i32::from_ne_bytes([rest[4], rest[5], rest[6], rest[7]]),
        })
    }

    /// The frame terminator that follows each change.
    pub const fn syn_report(sec: i64, usec: i64) -> Self {
        InputEvent {
            sec,
            usec,
            kind: EV_SYN,
            code: SYN_REPORT,
            value: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xbox() -> DeviceConfig {
        DeviceConfig {
            name: "Microsoft X-Box 360 pad".into(),
            vendor: 0x045e,
            product: 0x028e,
            version: 0x0114,
            buttons: vec![
                0x130, 0x131, 0x133, 0x134, 0x136, 0x137, 0x13a, 0x13b, 0x13c,
            ],
            axes: vec![0, 1, 2, 3, 4, 5, 0x10, 0x11],
        }
    }

    #[test]
    fn selkies1_layout_matches_the_python_struct() {
        // struct.pack("255sHH512H64B", ...) with native alignment: one pad byte after the name.
        let bytes = xbox().encode(WireVersion::Selkies1).expect("fits");
        assert_eq!(bytes.len(), 1348);
        assert_eq!(&bytes[..23], b"Microsoft X-Box 360 pad");
        assert_eq!(bytes[23], 0);
        assert_eq!(u16::from_ne_bytes([bytes[256], bytes[257]]), 9);
        assert_eq!(u16::from_ne_bytes([bytes[258], bytes[259]]), 8);
        assert_eq!(u16::from_ne_bytes([bytes[260], bytes[261]]), 0x130);
        assert_eq!(u16::from_ne_bytes([bytes[276], bytes[277]]), 0x13c);
        assert_eq!(&bytes[1284..1292], &[0, 1, 2, 3, 4, 5, 0x10, 0x11]);
        let back = DeviceConfig::decode(&bytes, WireVersion::Selkies1).expect("decodes");
        assert_eq!(
            back,
            DeviceConfig {
                vendor: 0,
                product: 0,
                version: 0,
                ..xbox()
            }
        );
    }

    #[test]
    fn selkies2_layout_matches_the_c_struct() {
        // name[255], pad, u16 vendor/product/version/num_btns/num_axes, u16 btn_map[512],
        // u8 axes_map[64], u8 padding[6].
        let bytes = xbox().encode(WireVersion::Selkies2).expect("fits");
        assert_eq!(bytes.len(), 1360);
        assert_eq!(u16::from_ne_bytes([bytes[256], bytes[257]]), 0x045e);
        assert_eq!(u16::from_ne_bytes([bytes[258], bytes[259]]), 0x028e);
        assert_eq!(u16::from_ne_bytes([bytes[260], bytes[261]]), 0x0114);
        assert_eq!(u16::from_ne_bytes([bytes[262], bytes[263]]), 9);
        assert_eq!(u16::from_ne_bytes([bytes[264], bytes[265]]), 8);
        assert_eq!(u16::from_ne_bytes([bytes[266], bytes[267]]), 0x130);
        assert_eq!(&bytes[1290..1298], &[0, 1, 2, 3, 4, 5, 0x10, 0x11]);
        assert_eq!(&bytes[1354..], &[0; 6]);
        assert_eq!(
            DeviceConfig::decode(&bytes, WireVersion::Selkies2),
            Ok(xbox())
        );
    }

    #[test]
    fn decode_rejects_what_would_overrun_the_maps() {
        let good = xbox().encode(WireVersion::Selkies2).expect("fits");
        assert_eq!(
            DeviceConfig::decode(&good[..1348], WireVersion::Selkies2),
            Err(WireError::Length {
                expected: 1360,
                got: 1348
            })
        );
        let mut bad = good.clone();
        bad[262..264].copy_from_slice(&513u16.to_ne_bytes());
        assert_eq!(
            DeviceConfig::decode(&bad, WireVersion::Selkies2),
            Err(WireError::TooManyButtons(513))
        );
        let mut bad = good.clone();
        bad[264..266].copy_from_slice(&65u16.to_ne_bytes());
        assert_eq!(
            DeviceConfig::decode(&bad, WireVersion::Selkies2),
            Err(WireError::TooManyAxes(65))
        );
        let mut bad = good.clone();
        bad[266..268].copy_from_slice(&0x300u16.to_ne_bytes());
        assert_eq!(
            DeviceConfig::decode(&bad, WireVersion::Selkies2),
            Err(WireError::BadKeyCode(0x300))
        );
        let mut bad = good;
        bad[1290] = 0x40;
        assert_eq!(
            DeviceConfig::decode(&bad, WireVersion::Selkies2),
            Err(WireError::BadAbsCode(0x40))
        );
    }

    #[test]
    fn names_are_c_strings_of_at_most_254_bytes() {
        let mut bytes = vec![0u8; 1360];
        bytes[..NAME_LEN].fill(b'x');
        let c = DeviceConfig::decode(&bytes, WireVersion::Selkies2).expect("decodes");
        assert_eq!(c.name.len(), 254);
        bytes[..3].copy_from_slice(&[0xff, b'a', 0]);
        let c = DeviceConfig::decode(&bytes, WireVersion::Selkies2).expect("decodes");
        assert_eq!(c.name, "\u{fffd}a");
        let long = DeviceConfig {
            name: "é".repeat(128),
            ..xbox()
        };
        assert_eq!(long.encode(WireVersion::Selkies2), Err(WireError::BadName));
        assert_eq!(fit_name("é".repeat(128)).len(), 254);
        assert_eq!(fit_name("aé".repeat(85)).len(), 253);
    }

    #[test]
    fn js_event_is_the_kernel_struct() {
        let e = JsEvent {
            time_ms: 0x0102_0304,
            value: -2,
            kind: JS_EVENT_AXIS | JS_EVENT_INIT,
            number: 7,
        };
        let b = e.encode();
        assert_eq!(&b[..4], &0x0102_0304u32.to_ne_bytes());
        assert_eq!(&b[4..6], &(-2i16).to_ne_bytes());
        assert_eq!(b[6..], [0x82, 7]);
        assert_eq!(JsEvent::decode(&b), e);
    }

    #[test]
    fn input_event_follows_the_readers_word_size() {
        let e = InputEvent {
            sec: 1_700_000_000,
            usec: 999_999,
            kind: EV_ABS,
            code: 0x11,
            value: -1,
        };
        for word in [WordSize::Four, WordSize::Eight] {
            let mut b = Vec::new();
            e.encode_into(word, &mut b);
            assert_eq!(b.len(), word.event_len());
            assert_eq!(InputEvent::decode(&b, word), Some(e));
            assert_eq!(InputEvent::decode(&b[1..], word), None);
            assert_eq!(WordSize::from_arch_byte(word.arch_byte()), Some(word));
        }
        let mut b = Vec::new();
        e.encode_into(WordSize::Eight, &mut b);
        assert_eq!(&b[16..18], &EV_ABS.to_ne_bytes());
        assert_eq!(WordSize::from_arch_byte(2), None);
        assert_eq!(
            WordSize::native().event_len(),
            16 + 2 * std::mem::size_of::<usize>() - 8
        );
    }

    #[test]
    fn axis_ranges() {
        assert_eq!(AxisRange::of(code::ABS_X).rest, 0);
        assert_eq!(AxisRange::of(code::ABS_RZ).rest, -AXIS_MAX);
        assert_eq!(AxisRange::of(code::ABS_HAT0Y).max, 1);
        assert_eq!(hat_js_value(-1), -32767);
        assert_eq!(hat_js_value(0), 0);
    }
}
