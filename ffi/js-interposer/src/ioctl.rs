//! What a joystick or evdev node answers to each ioctl, computed from the device record. Pure: the
//! caller copies the bytes out (see `hooks`). Answers, return values and errors follow the kernel's
//! joydev and evdev drivers, so programs that check them see a real device.

use std::ffi::{c_int, c_ulong};

use crate::device::{Device, Kind};
use crate::wire::{AxisRange, DeviceConfig, ABS_MAX, KEY_MAX};

const WRITE: u32 = 1;
const READ: u32 = 2;

/// `_IOC(dir, type, nr, size)` in the encoding of x86, Arm and RISC-V (asm-generic).
pub const fn ioc(dir: u32, kind: u8, nr: u8, size: usize) -> u32 {
    (dir << 30) | ((size as u32 & 0x3fff) << 16) | ((kind as u32) << 8) | nr as u32
}

/// An ioctl request split into its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    pub raw: u32,
    pub dir: u32,
    pub kind: u8,
    pub nr: u8,
    pub size: usize,
}

impl Request {
    pub fn decode(request: c_ulong) -> Self {
        // Request numbers are 32 bits; a C library that passes an int may sign-extend it.
        let raw = request as u32;
        Request {
            raw,
            dir: raw >> 30,
            kind: (raw >> 8) as u8,
            nr: raw as u8,
            size: ((raw >> 16) & 0x3fff) as usize,
        }
    }

    /// The request without its size field (for the variable-length requests).
    fn sizeless(self) -> u32 {
        self.raw & !(0x3fff << 16)
    }
}

/// What to do for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Copy these bytes to the argument (already cut to the request's size) and return `ret`.
    Write { bytes: Vec<u8>, ret: c_int },
    /// Return this, touching nothing.
    Return(c_int),
    /// Fail with this errno.
    Fail(c_int),
    /// Keep `len` bytes read from the argument as the axis corrections (`JSIOCSCORR`).
    StoreCorrections { len: usize },
    /// Copy the kept corrections (zero-padded to `len`) to the argument (`JSIOCGCORR`).
    LoadCorrections { len: usize },
    /// Read an `int` clock id from the argument (`EVIOCSCLOCKID`).
    SetClock,
    /// Not a device request (`FIONBIO`, `FIONREAD`, `TCGETS`…): the socket answers it.
    Pass,
}

/// `JS_VERSION` (2.1.0).
const JS_VERSION: u32 = 0x020100;
/// `EV_VERSION` (1.0.1).
const EV_VERSION: i32 = 0x010001;
/// `sizeof(struct js_corr)`: `__s32 coef[8]; __s16 prec; __u16 type`.
const JS_CORR_LEN: usize = 36;
/// Entries of joydev's `abspam` and `keypam`.
const ABS_CNT: usize = ABS_MAX as usize + 1;
const KEYPAM_LEN: usize = (KEY_MAX as usize) - 0x100 + 1;
const BUS_USB: u16 = 0x03;

/// The answer of joystick node `config` to `req`.
pub fn joystick(config: &DeviceConfig, req: Request) -> Action {
    if req.kind != b'j' {
        return not_ours(req, b'E');
    }
    let naxes = config.axes.len();
    match req.raw {
        r if r == ioc(READ, b'j', 0x01, 4) => write(&JS_VERSION.to_ne_bytes(), req, 0),
        r if r == ioc(READ, b'j', 0x11, 1) => write(&[clamp_u8(naxes)], req, 0),
        r if r == ioc(READ, b'j', 0x12, 1) => write(&[clamp_u8(config.buttons.len())], req, 0),
        // Like joydev, the corrections cover every axis whatever the request's size says.
        r if r == ioc(WRITE, b'j', 0x21, JS_CORR_LEN) => Action::StoreCorrections {
            len: naxes * JS_CORR_LEN,
        },
        r if r == ioc(READ, b'j', 0x22, JS_CORR_LEN) => Action::LoadCorrections {
            len: naxes * JS_CORR_LEN,
        },
        _ => match req.sizeless() {
            r if r == ioc(READ, b'j', 0x13, 0) => c_string(&config.name, req),
            r if r == ioc(READ, b'j', 0x32, 0) => {
                let mut map = vec![0u8; ABS_CNT];
                map[..naxes].copy_from_slice(&config.axes);
                write_len(&map, req)
            }
            r if r == ioc(READ, b'j', 0x34, 0) => {
                let mut map = vec![0u8; KEYPAM_LEN * 2];
                for (slot, code) in map.chunks_exact_mut(2).zip(&config.buttons) {
                    slot.copy_from_slice(&code.to_ne_bytes());
                }
                write_len(&map, req)
            }
            // Remapping would have to happen server-side; refuse rather than pretend.
            r if r == ioc(WRITE, b'j', 0x31, 0) || r == ioc(WRITE, b'j', 0x33, 0) => {
                Action::Fail(libc::EPERM)
            }
            _ => Action::Fail(libc::EINVAL),
        },
    }
}

/// The answer of evdev node `device` with `config` to `req`.
pub fn evdev(device: Device, config: &DeviceConfig, req: Request) -> Action {
    if req.kind != b'E' {
        return not_ours(req, b'j');
    }
    match req.raw {
        r if r == ioc(READ, b'E', 0x01, 4) => write(&EV_VERSION.to_ne_bytes(), req, 0),
        r if r == ioc(READ, b'E', 0x02, 8) => {
            let mut id = Vec::with_capacity(8);
            for v in [BUS_USB, config.vendor, config.product, config.version] {
                id.extend_from_slice(&v.to_ne_bytes());
            }
            write(&id, req, 0)
        }
        // No force feedback: uploads and erases fail as on a pad without it.
        r if r == ioc(READ, b'E', 0x84, 4) => write(&0i32.to_ne_bytes(), req, 0),
        // Grab, revoke: each reader has its own stream, so there is nothing to exclude.
        r if r == ioc(WRITE, b'E', 0x90, 4) || r == ioc(WRITE, b'E', 0x91, 4) => Action::Return(0),
        r if r == ioc(WRITE, b'E', 0xa0, 4) => Action::SetClock,
        _ if req.dir == WRITE && (req.nr == 0x80 || req.nr == 0x81) => Action::Fail(libc::ENOSYS),
        // EVIOCSABS: ranges are fixed by the server; accepted and ignored.
        _ if req.dir == WRITE && req.nr >= 0xc0 => Action::Return(0),
        _ if req.dir != READ => Action::Fail(libc::EINVAL),
        _ => match req.nr {
            0x06 => c_string(&config.name, req),
            0x07 => c_string(&format!("selkies-js-interposer/pad{}", device.slot), req),
            0x08 => c_string(&format!("selkies-pad{}", device.slot), req),
            // Properties; key, LED, sound and switch state: none set, everything at rest.
            0x09 | 0x19 | 0x1a | 0x1b => bitmap(&[], 0x1f, req),
            0x18 => bitmap(&[], usize::from(KEY_MAX), req),
            0x20..=0x3f => capabilities(config, req.nr - 0x20, req),
            0x40..=0x7f => absinfo(config, req.nr - 0x40, req),
            _ => Action::Fail(libc::EINVAL),
        },
    }
}

/// `EVIOCGBIT(ev, len)`.
fn capabilities(config: &DeviceConfig, ev: u8, req: Request) -> Action {
    const EV_SYN: usize = 0;
    const EV_KEY: usize = 1;
    const EV_ABS: usize = 3;
    match ev {
        0 => bitmap(&[EV_SYN, EV_KEY, EV_ABS], 0x1f, req),
        1 => {
            let keys: Vec<usize> = config.buttons.iter().map(|c| usize::from(*c)).collect();
            bitmap(&keys, usize::from(KEY_MAX), req)
        }
        3 => {
            let axes: Vec<usize> = config.axes.iter().map(|c| usize::from(*c)).collect();
            bitmap(&axes, usize::from(ABS_MAX), req)
        }
        // REL, MSC, SW, LED, SND, FF: supported types with nothing set.
        2 | 4 | 5 | 0x11 | 0x12 => bitmap(&[], 0x1f, req),
        0x15 => bitmap(&[], 0x7f, req),
        _ => Action::Fail(libc::EINVAL),
    }
}

/// `EVIOCGABS(code)`: `struct input_absinfo` (value, min, max, fuzz, flat, resolution), at rest.
/// Like evdev, an axis the device lacks reads as zeroes.
fn absinfo(config: &DeviceConfig, code: u8, req: Request) -> Action {
    let fields = if config.axes.contains(&code) {
        let r = AxisRange::of(code);
        [r.rest, r.min, r.max, r.fuzz, r.flat, 0]
    } else {
        [0; 6]
    };
    let bytes: Vec<u8> = fields.iter().flat_map(|v| v.to_ne_bytes()).collect();
    write(&bytes, req, 0)
}

/// A request of the other node type, or not a device request at all.
fn not_ours(req: Request, other: u8) -> Action {
    if req.kind == other {
        Action::Fail(libc::EINVAL)
    } else {
        Action::Pass
    }
}

/// A bitmap of `bits` as the kernel copies it: whole `long`s covering bit `max`, cut to the
/// request's size; returns the bytes copied.
fn bitmap(bits: &[usize], max: usize, req: Request) -> Action {
    const LONG_BITS: usize = c_ulong::BITS as usize;
    let mut longs = vec![0 as c_ulong; max.div_ceil(LONG_BITS).max(1)];
    for &b in bits.iter().filter(|b| **b <= max) {
        longs[b / LONG_BITS] |= 1 << (b % LONG_BITS);
    }
    let bytes: Vec<u8> = longs.iter().flat_map(|l| l.to_ne_bytes()).collect();
    write_len(&bytes, req)
}

/// A C string cut to the request's size, returning the bytes copied (with the NUL when it fits).
fn c_string(s: &str, req: Request) -> Action {
    let mut bytes = s.as_bytes().to_vec();
    bytes.push(0);
    write_len(&bytes, req)
}

fn write(bytes: &[u8], req: Request, ret: c_int) -> Action {
    Action::Write {
        bytes: bytes[..bytes.len().min(req.size)].to_vec(),
        ret,
    }
}

fn write_len(bytes: &[u8], req: Request) -> Action {
    let n = bytes.len().min(req.size);
    Action::Write {
        bytes: bytes[..n].to_vec(),
        // n is at most the 14-bit size field.
        ret: n as c_int,
    }
}

fn clamp_u8(n: usize) -> u8 {
    u8::try_from(n).unwrap_or(u8::MAX)
}

/// Which answers apply to a node.
pub fn answer(device: Device, config: &DeviceConfig, request: c_ulong) -> Action {
    let req = Request::decode(request);
    match device.kind {
        Kind::Js => joystick(config, req),
        Kind::Evdev => evdev(device, config, req),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pad() -> DeviceConfig {
        DeviceConfig {
            name: "Microsoft X-Box 360 pad".into(),
            vendor: 0x045e,
            product: 0x028e,
            version: 0x0114,
            buttons: vec![
                0x130, 0x131, 0x133, 0x134, 0x136, 0x137, 0x13a, 0x13b, 0x13c, 0x13d, 0x13e,
            ],
            axes: vec![0, 1, 2, 3, 4, 5, 0x10, 0x11],
        }
    }

    const JS: Device = Device {
        kind: Kind::Js,
        slot: 0,
    };
    const EV: Device = Device {
        kind: Kind::Evdev,
        slot: 2,
    };

    fn ask(device: Device, raw: u32) -> Action {
        answer(device, &pad(), c_ulong::from(raw))
    }

    fn bytes(a: Action) -> (Vec<u8>, c_int) {
        match a {
            Action::Write { bytes, ret } => (bytes, ret),
            other => panic!("expected data, got {other:?}"),
        }
    }

    // The numbers as <linux/joystick.h> and <linux/input.h> define them on x86-64.
    const JSIOCGVERSION: u32 = 0x8004_6a01;
    const JSIOCGAXES: u32 = 0x8001_6a11;
    const JSIOCGBUTTONS: u32 = 0x8001_6a12;
    const JSIOCGNAME_128: u32 = 0x8080_6a13;
    const JSIOCGAXMAP: u32 = 0x8040_6a32;
    const JSIOCGBTNMAP: u32 = 0x8400_6a34;
    const JSIOCSCORR: u32 = 0x4024_6a21;
    const JSIOCGCORR: u32 = 0x8024_6a22;
    const EVIOCGVERSION: u32 = 0x8004_4501;
    const EVIOCGID: u32 = 0x8008_4502;
    const EVIOCGNAME_256: u32 = 0x8100_4506;
    const EVIOCGBIT_0_8: u32 = 0x8008_4520;
    const EVIOCGBIT_KEY_96: u32 = 0x8060_4521;
    const EVIOCGBIT_ABS_8: u32 = 0x8008_4523;
    const EVIOCGABS_RZ: u32 = 0x8018_4545;
    const EVIOCGABS_HAT0Y: u32 = 0x8018_4551;
    const EVIOCGKEY_96: u32 = 0x8060_4518;
    const EVIOCGRAB: u32 = 0x4004_4590;
    const EVIOCSCLOCKID: u32 = 0x4004_45a0;
    const FIONBIO: u32 = 0x5421;

    #[test]
    fn encoding_matches_the_kernel_headers() {
        assert_eq!(ioc(READ, b'j', 0x01, 4), JSIOCGVERSION);
        assert_eq!(ioc(READ, b'j', 0x34, 1024), JSIOCGBTNMAP);
        assert_eq!(ioc(WRITE, b'E', 0x90, 4), EVIOCGRAB);
        let r = Request::decode(c_ulong::from(EVIOCGABS_RZ));
        assert_eq!((r.dir, r.kind, r.nr, r.size), (READ, b'E', 0x45, 24));
    }

    #[test]
    fn joystick_counts_version_and_name() {
        assert_eq!(
            bytes(ask(JS, JSIOCGVERSION)),
            (0x020100u32.to_ne_bytes().to_vec(), 0)
        );
        assert_eq!(bytes(ask(JS, JSIOCGAXES)), (vec![8], 0));
        assert_eq!(bytes(ask(JS, JSIOCGBUTTONS)), (vec![11], 0));
        let (name, ret) = bytes(ask(JS, JSIOCGNAME_128));
        assert_eq!(name, b"Microsoft X-Box 360 pad\0");
        assert_eq!(ret, 24);
        let (short, ret) = bytes(ask(JS, ioc(READ, b'j', 0x13, 4)));
        assert_eq!(
            (short.as_slice(), ret),
            (&b"Micr"[..], 4),
            "cut, like joydev"
        );
    }

    #[test]
    fn joystick_maps_and_corrections() {
        let (axmap, ret) = bytes(ask(JS, JSIOCGAXMAP));
        assert_eq!(ret, 64);
        assert_eq!(&axmap[..8], &[0, 1, 2, 3, 4, 5, 0x10, 0x11]);
        assert!(axmap[8..].iter().all(|b| *b == 0));
        let (btnmap, ret) = bytes(ask(JS, JSIOCGBTNMAP));
        assert_eq!(ret, 1024);
        assert_eq!(&btnmap[..2], &0x130u16.to_ne_bytes());
        assert_eq!(&btnmap[20..22], &0x13eu16.to_ne_bytes());
        assert_eq!(
            ask(JS, JSIOCSCORR),
            Action::StoreCorrections { len: 8 * 36 }
        );
        assert_eq!(ask(JS, JSIOCGCORR), Action::LoadCorrections { len: 8 * 36 });
        assert_eq!(
            ask(JS, ioc(WRITE, b'j', 0x31, 64)),
            Action::Fail(libc::EPERM)
        );
        assert_eq!(ask(JS, EVIOCGVERSION), Action::Fail(libc::EINVAL));
        assert_eq!(
            ask(JS, ioc(READ, b'j', 0x77, 4)),
            Action::Fail(libc::EINVAL)
        );
        assert_eq!(ask(JS, FIONBIO), Action::Pass);
    }

    #[test]
    fn evdev_identity() {
        assert_eq!(
            bytes(ask(EV, EVIOCGVERSION)),
            (0x010001i32.to_ne_bytes().to_vec(), 0)
        );
        let (id, _) = bytes(ask(EV, EVIOCGID));
        let words: Vec<u16> = id
            .chunks_exact(2)
            .map(|c| u16::from_ne_bytes([c[0], c[1]]))
            .collect();
        assert_eq!(words, vec![3, 0x045e, 0x028e, 0x0114]);
        let (name, ret) = bytes(ask(EV, EVIOCGNAME_256));
        assert_eq!((name.len(), ret), (24, 24));
        let (phys, _) = bytes(ask(EV, ioc(READ, b'E', 0x07, 64)));
        assert_eq!(phys, b"selkies-js-interposer/pad2\0");
        assert_eq!(ask(EV, JSIOCGAXES), Action::Fail(libc::EINVAL));
        assert_eq!(ask(EV, FIONBIO), Action::Pass);
    }

    #[test]
    fn evdev_capabilities() {
        let (types, ret) = bytes(ask(EV, EVIOCGBIT_0_8));
        assert_eq!(ret, 8);
        assert_eq!(types[0], 0b1011, "EV_SYN, EV_KEY, EV_ABS");
        let (keys, ret) = bytes(ask(EV, EVIOCGBIT_KEY_96));
        assert_eq!(ret, 96);
        let set: Vec<usize> = (0..keys.len() * 8)
            .filter(|b| keys[b / 8] & (1 << (b % 8)) != 0)
            .collect();
        assert_eq!(
            set,
            vec![0x130, 0x131, 0x133, 0x134, 0x136, 0x137, 0x13a, 0x13b, 0x13c, 0x13d, 0x13e]
        );
        let (abs, _) = bytes(ask(EV, EVIOCGBIT_ABS_8));
        assert_eq!(&abs[..3], &[0x3f, 0, 0x03]);
        let (short, ret) = bytes(ask(EV, ioc(READ, b'E', 0x21, 4)));
        assert_eq!((short.len(), ret), (4, 4), "cut to the caller's buffer");
        let (ff, ret) = bytes(ask(EV, ioc(READ, b'E', 0x35, 16)));
        assert_eq!((ff, ret), (vec![0; 16], 16));
        assert_eq!(
            ask(EV, ioc(READ, b'E', 0x36, 8)),
            Action::Fail(libc::EINVAL)
        );
    }

    #[test]
    fn evdev_axes_and_state() {
        let field =
            |b: &[u8], i: usize| i32::from_ne_bytes(b[i * 4..i * 4 + 4].try_into().expect("4"));
        let (rz, ret) = bytes(ask(EV, EVIOCGABS_RZ));
        assert_eq!(ret, 0);
        assert_eq!(
            (0..6).map(|i| field(&rz, i)).collect::<Vec<_>>(),
            vec![-32767, -32767, 32767, 16, 0, 0],
            "a trigger rests at its minimum"
        );
        let (hat, _) = bytes(ask(EV, EVIOCGABS_HAT0Y));
        assert_eq!((field(&hat, 1), field(&hat, 2)), (-1, 1));
        let (missing, _) = bytes(ask(EV, ioc(READ, b'E', 0x40 + 0x20, 24)));
        assert_eq!(missing, vec![0; 24]);
        assert_eq!(bytes(ask(EV, EVIOCGKEY_96)), (vec![0; 96], 96));
        assert_eq!(ask(EV, EVIOCGRAB), Action::Return(0));
        assert_eq!(ask(EV, EVIOCSCLOCKID), Action::SetClock);
        assert_eq!(
            ask(EV, ioc(WRITE, b'E', 0x80, 48)),
            Action::Fail(libc::ENOSYS)
        );
    }
}
