//! Which paths are ours, and where their sockets are.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// Number of pads.
pub const SLOTS: u8 = 4;

/// Joystick or evdev node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `/dev/input/jsN`.
    Js,
    /// `/dev/input/event{1000+N}` (Selkies 2.x numbering, far above real devices).
    Evdev,
}

/// One of our device nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Device {
    pub kind: Kind,
    pub slot: u8,
}

const DIR: &[u8] = b"/dev/input/";

/// The device an absolute path names, if it is one of ours.
pub fn classify(path: &[u8]) -> Option<Device> {
    file_name_device(path.strip_prefix(DIR)?)
}

/// The device a bare file name (`js0`, `event1002`) would be, used to skip resolving relative
/// paths that cannot be ours.
pub fn file_name_device(name: &[u8]) -> Option<Device> {
    let (kind, number, base) = if let Some(n) = name.strip_prefix(b"js") {
        (Kind::Js, n, 0)
    } else if let Some(n) = name.strip_prefix(b"event") {
        (Kind::Evdev, n, 1000)
    } else {
        return None;
    };
    if number.is_empty() || number.len() > 4 || !number.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if number.len() > 1 && number[0] == b'0' {
        return None;
    }
    let n: u32 = std::str::from_utf8(number).ok()?.parse().ok()?;
    let slot = n.checked_sub(base).filter(|s| *s < u32::from(SLOTS))?;
    Some(Device {
        kind,
        slot: u8::try_from(slot).ok()?,
    })
}

/// The socket for `device` in `dir` (`$SELKIES_INTERPOSER_SOCKET_DIR`, else `/tmp`).
pub fn socket_path(device: Device, dir: Option<OsString>) -> Vec<u8> {
    let mut path = dir
        .filter(|d| !d.is_empty())
        .map_or_else(|| b"/tmp".to_vec(), OsStringExt::into_vec);
    if path.last() != Some(&b'/') {
        path.push(b'/');
    }
    let name = match device.kind {
        Kind::Js => format!("selkies_js{}.sock", device.slot),
        Kind::Evdev => format!("selkies_event{}.sock", 1000 + u32::from(device.slot)),
    };
    path.extend_from_slice(name.as_bytes());
    path
}

/// The socket for `device`, from the environment.
pub fn socket_path_from_env(device: Device) -> Vec<u8> {
    socket_path(device, std::env::var_os("SELKIES_INTERPOSER_SOCKET_DIR"))
}

/// The last component of `path`.
pub fn file_name(path: &[u8]) -> &[u8] {
    path.rsplit(|b| *b == b'/').next().unwrap_or(path)
}

/// Joins a directory and a relative path.
pub fn join(dir: &[u8], rel: &[u8]) -> Vec<u8> {
    let mut out = dir.to_vec();
    if out.last() != Some(&b'/') {
        out.push(b'/');
    }
    out.extend_from_slice(rel);
    out
}

/// For log messages.
pub fn display(path: &[u8]) -> std::borrow::Cow<'_, str> {
    std::ffi::OsStr::from_bytes(path).to_string_lossy()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_four_slots_of_each_kind_are_ours() {
        assert_eq!(
            classify(b"/dev/input/js0"),
            Some(Device {
                kind: Kind::Js,
                slot: 0
            })
        );
        assert_eq!(
            classify(b"/dev/input/event1003"),
            Some(Device {
                kind: Kind::Evdev,
                slot: 3
            })
        );
        for other in [
            &b"/dev/input/js4"[..],
            b"/dev/input/js",
            b"/dev/input/js00",
            b"/dev/input/js0/",
            b"/dev/input/event0",
            b"/dev/input/event999",
            b"/dev/input/event1004",
            b"/dev/input/event01000",
            b"/dev/input/mice",
            b"/dev/input/js+1",
            b"/tmp/js0",
            b"dev/input/js0",
            b"",
        ] {
            assert_eq!(classify(other), None, "{}", display(other));
        }
    }

    #[test]
    fn socket_paths_follow_selkies_names() {
        let js2 = Device {
            kind: Kind::Js,
            slot: 2,
        };
        let ev1 = Device {
            kind: Kind::Evdev,
            slot: 1,
        };
        assert_eq!(socket_path(js2, None), b"/tmp/selkies_js2.sock");
        assert_eq!(
            socket_path(ev1, Some("/run/x/".into())),
            b"/run/x/selkies_event1001.sock"
        );
        assert_eq!(
            socket_path(ev1, Some("".into())),
            b"/tmp/selkies_event1001.sock"
        );
    }

    #[test]
    fn path_helpers() {
        assert_eq!(file_name(b"/dev/input/js1"), b"js1");
        assert_eq!(file_name(b"js1"), b"js1");
        assert_eq!(join(b"/dev/input", b"js1"), b"/dev/input/js1");
        assert_eq!(join(b"/", b"js1"), b"/js1");
    }
}
