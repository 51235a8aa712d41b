//! Kernel virtual input devices through `/dev/uinput`, for gamepads that every program sees
//! without an LD_PRELOAD interposer. The C shim (compiled against the installed
//! `linux/uinput.h`) does the setup ioctls; events are written as `struct input_event` records.
//!
//! Whether uinput is usable is a runtime matter (module loaded, device node present, permission),
//! so [`probe`] says why not, and callers fall back.

use std::ffi::CString;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::FromRawFd;
use std::os::raw::{c_char, c_int};
use std::path::Path;

/// The usual device node.
pub const DEFAULT_PATH: &str = "/dev/uinput";

/// One absolute axis of a device.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Axis {
    /// `ABS_*` code.
    pub code: u16,
    pub minimum: i32,
    pub maximum: i32,
    pub fuzz: i32,
    pub flat: i32,
}

/// What a device is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceSpec {
    pub name: String,
    pub vendor: u16,
    pub product: u16,
    pub version: u16,
    /// `BTN_*` / `KEY_*` codes.
    pub keys: Vec<u16>,
    pub axes: Vec<Axis>,
}

extern "C" {
    fn selkies_uinput_open(path: *const c_char) -> c_int;
    #[allow(clippy::too_many_arguments)]
    fn selkies_uinput_create(
        path: *const c_char,
        name: *const c_char,
        vendor: u16,
        product: u16,
        version: u16,
        keys: *const u16,
        nkeys: usize,
        axes: *const Axis,
        naxes: usize,
    ) -> c_int;
    fn selkies_uinput_destroy(fd: c_int);
    fn selkies_uinput_event_size() -> usize;
}

fn c_string(s: &str) -> io::Result<CString> {
    CString::new(s).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in string"))
}

fn path_string(path: &Path) -> io::Result<CString> {
    c_string(
        path.to_str()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path is not UTF-8"))?,
    )
}

/// Whether a device can be created at `path`; the reason when not ("/dev/uinput: No such file
/// or directory (the uinput module is not loaded, or the container has no such device)", ...).
///
/// # Errors
/// The reason, for the operator.
pub fn probe(path: &Path) -> Result<(), String> {
    let c = path_string(path).map_err(|e| e.to_string())?;
    // SAFETY: `c` is a valid NUL-terminated string for the call's duration.
    let fd = unsafe { selkies_uinput_open(c.as_ptr()) };
    if fd < 0 {
        let err = io::Error::from_raw_os_error(-fd);
        let hint = match err.kind() {
            io::ErrorKind::NotFound => {
                " (the uinput module is not loaded, or the container has no such device)"
            }
            io::ErrorKind::PermissionDenied => {
                " (needs write access: a udev rule or the input group)"
            }
            _ => "",
        };
        return Err(format!("{}: {err}{hint}", path.display()));
    }
    // SAFETY: `fd` was just opened by the shim and is owned by nothing else.
    drop(unsafe { File::from_raw_fd(fd) });
    Ok(())
}

/// A created kernel device; destroyed on drop.
#[derive(Debug)]
pub struct Device {
    file: Option<File>,
}

impl Device {
    /// Creates the device at `path` (usually [`DEFAULT_PATH`]).
    ///
    /// # Errors
    /// When uinput is unusable or refuses the description.
    pub fn create(path: &Path, spec: &DeviceSpec) -> io::Result<Self> {
        let path = path_string(path)?;
        let name = c_string(&spec.name)?;
        // SAFETY: the strings and slices outlive the call; `Axis` is `repr(C)` and matches the
        // shim's `struct selkies_abs` field for field.
        let fd = unsafe {
            selkies_uinput_create(
                path.as_ptr(),
                name.as_ptr(),
                spec.vendor,
                spec.product,
                spec.version,
                spec.keys.as_ptr(),
                spec.keys.len(),
                spec.axes.as_ptr(),
                spec.axes.len(),
            )
        };
        if fd < 0 {
            return Err(io::Error::from_raw_os_error(-fd));
        }
        // SAFETY: the shim returned a freshly opened fd that nothing else owns.
        let file = unsafe { File::from_raw_fd(fd) };
        Ok(Device { file: Some(file) })
    }

    /// Writes whole `struct input_event` records (see [`event_size`]), ending with `SYN_REPORT`.
    ///
    /// # Errors
    /// When the kernel refuses the write.
    pub fn write_events(&mut self, records: &[u8]) -> io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.write_all(records),
            None => Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "device destroyed",
            )),
        }
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        if let Some(file) = self.file.take() {
            use std::os::fd::IntoRawFd;
            // SAFETY: the fd is ours; destroy closes it, so `File` must not close it again.
            unsafe { selkies_uinput_destroy(file.into_raw_fd()) };
        }
    }
}

/// `sizeof(struct input_event)` on this build (24 on 64-bit Linux).
pub fn event_size() -> usize {
    // SAFETY: a pure function of the headers.
    unsafe { selkies_uinput_event_size() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_event_is_the_64_bit_layout() {
        #[cfg(target_pointer_width = "64")]
        assert_eq!(event_size(), 24);
    }

    #[test]
    fn probe_explains_a_missing_node() {
        let err = probe(Path::new("/nonexistent/uinput")).unwrap_err();
        assert!(err.contains("/nonexistent/uinput"), "{err}");
        assert!(err.contains("not loaded"), "{err}");
    }

    #[test]
    fn create_fails_cleanly_without_a_node() {
        let spec = DeviceSpec {
            name: "test".into(),
            vendor: 1,
            product: 2,
            version: 3,
            keys: vec![0x130],
            axes: vec![Axis {
                code: 0,
                minimum: -32767,
                maximum: 32767,
                fuzz: 16,
                flat: 128,
            }],
        };
        let err = Device::create(Path::new("/nonexistent/uinput"), &spec).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(Device::create(
            Path::new("/nonexistent/uinput"),
            &DeviceSpec {
                name: "a\0b".into(),
                ..spec
            }
        )
        .is_err());
    }
}
