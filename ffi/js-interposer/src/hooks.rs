//! The shadowed calls: ours go to the device emulation, everything else to the real function.
//!
//! Each entry point catches panics (a bug here must not unwind into C or abort a game) and turns
//! them into `EIO`. Errors are returned as `-1` with `errno` set, as libc does.

use std::ffi::{c_char, c_int, c_ulong, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use libc::{size_t, ssize_t};

use crate::connect;
use crate::device::{self, Device, Kind};
use crate::handles::{self, Handle};
use crate::ioctl::{self, Action};
use crate::read;
use crate::real::{real, Mode};

/// Which libc open function the application called (the numbering of `shim/variadic.c`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenCall {
    Open,
    Open64,
    OpenAt,
    OpenAt64,
    /// `__open_2` and friends: glibc's fortified variants, called without a mode.
    Open2,
    Open64_2,
    OpenAt2,
    OpenAt64_2,
}

impl OpenCall {
    fn from_shim(which: c_int) -> Self {
        match which {
            1 => OpenCall::Open64,
            2 => OpenCall::OpenAt,
            3 => OpenCall::OpenAt64,
            _ => OpenCall::Open,
        }
    }
}

pub fn set_errno(e: c_int) {
    // SAFETY: __errno_location returns the calling thread's errno, valid for the thread's life.
    unsafe { *libc::__errno_location() = e };
}

fn guard<R>(failed: R, f: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        set_errno(libc::EIO);
        failed
    })
}

/// Entry from `shim/variadic.c` for `open`, `open64`, `openat`, `openat64`.
///
/// # Safety
/// The arguments are those the application passed to the libc function.
#[no_mangle]
pub unsafe extern "C" fn sji_open(
    which: c_int,
    dirfd: c_int,
    path: *const c_char,
    flags: c_int,
    mode: Mode,
) -> c_int {
    // SAFETY: forwarded from the application's call.
    unsafe { open(OpenCall::from_shim(which), dirfd, path, flags, mode) }
}

/// Shared by every open entry point.
///
/// # Safety
/// `path` is null or a C string, as the libc function requires.
pub unsafe fn open(
    call: OpenCall,
    dirfd: c_int,
    path: *const c_char,
    flags: c_int,
    mode: Mode,
) -> c_int {
    let device = if path.is_null() {
        None
    } else {
        // SAFETY: open's contract: `path` is a NUL-terminated string.
        let bytes = unsafe { CStr::from_ptr(path) }.to_bytes();
        guard(None, || resolve(dirfd, bytes))
    };
    match device {
        Some(device) => guard(-1, || open_device(device, flags)),
        // SAFETY: the application's own arguments, passed on unchanged.
        None => unsafe { open_real(call, dirfd, path, flags, mode) },
    }
}

/// Our device named by `path` (relative to `dirfd` when not absolute), if it is one.
fn resolve(dirfd: c_int, path: &[u8]) -> Option<Device> {
    if path.first() == Some(&b'/') {
        return device::classify(path);
    }
    // Relative: only worth resolving when the file name could be ours.
    device::file_name_device(device::file_name(path))?;
    let dir = if dirfd == libc::AT_FDCWD {
        cwd()?
    } else {
        readlink(format!("/proc/self/fd/{dirfd}\0").as_bytes())?
    };
    device::classify(&device::join(&dir, path))
}

fn open_device(device: Device, flags: c_int) -> c_int {
    let path = device::socket_path_from_env(device);
    match connect::connect(device, &path, flags) {
        Ok(conn) => match Handle::new(conn.fd, device, conn.config) {
            Some(handle) => {
                handles::insert(handle);
                conn.fd
            }
            None => {
                let e = connect::errno();
                connect::close_raw(conn.fd);
                set_errno(e);
                -1
            }
        },
        Err(e) => {
            set_errno(e);
            -1
        }
    }
}

/// # Safety
/// The application's arguments to `call`.
unsafe fn open_real(
    call: OpenCall,
    dirfd: c_int,
    path: *const c_char,
    flags: c_int,
    mode: Mode,
) -> c_int {
    let r = real();
    // SAFETY: each function is called with the arguments the application gave its namesake; a
    // mode is passed only to the variadic ones, which read it only when the flags call for it.
    let result = unsafe {
        match call {
            OpenCall::Open => r.open.map(|f| f(path, flags, mode)),
            OpenCall::Open64 => r.open64.or(r.open).map(|f| f(path, flags, mode)),
            OpenCall::OpenAt => r.openat.map(|f| f(dirfd, path, flags, mode)),
            OpenCall::OpenAt64 => r.openat64.or(r.openat).map(|f| f(dirfd, path, flags, mode)),
            OpenCall::Open2 => r.open_2.map(|f| f(path, flags)),
            OpenCall::Open64_2 => r.open64_2.or(r.open_2).map(|f| f(path, flags)),
            OpenCall::OpenAt2 => r.openat_2.map(|f| f(dirfd, path, flags)),
            OpenCall::OpenAt64_2 => r.openat64_2.or(r.openat_2).map(|f| f(dirfd, path, flags)),
        }
    };
    result.unwrap_or_else(|| {
        set_errno(libc::ENOSYS);
        -1
    })
}

/// Entry from `shim/variadic.c` for `ioctl`.
///
/// # Safety
/// The arguments are those the application passed to `ioctl`.
#[no_mangle]
pub unsafe extern "C" fn sji_ioctl(fd: c_int, request: c_ulong, arg: *mut c_void) -> c_int {
    let ours = guard(None, || {
        handles::with(fd, |h| {
            let action = ioctl::answer(h.device, &h.config, request);
            // SAFETY: `arg` is what the application passed for this request.
            unsafe { perform(h, action, arg) }
        })
    });
    match ours {
        Some(Some(ret)) => ret,
        _ => match real().ioctl {
            // SAFETY: the application's arguments, passed on unchanged.
            Some(f) => unsafe { f(fd, request, arg) },
            None => {
                set_errno(libc::ENOSYS);
                -1
            }
        },
    }
}

/// Carries out an ioctl answer on the application's argument; `None` to pass the request on.
///
/// # Safety
/// `arg` must be valid for the request, as the ioctl contract requires: writable for the request's
/// size (or, for the corrections, one `struct js_corr` per axis, as joydev requires), readable
/// for the write requests.
unsafe fn perform(h: &mut Handle, action: Action, arg: *mut c_void) -> Option<c_int> {
    let fail = |e| {
        set_errno(e);
        Some(-1)
    };
    match action {
        Action::Pass => None,
        Action::Return(ret) => Some(ret),
        Action::Fail(e) => fail(e),
        _ if arg.is_null() => fail(libc::EFAULT),
        Action::Write { bytes, ret } => {
            // SAFETY: `bytes` was cut to the request's size, which the caller's buffer holds.
            unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), arg.cast(), bytes.len()) };
            Some(ret)
        }
        Action::StoreCorrections { len } => {
            // SAFETY: JSIOCSCORR reads one js_corr per axis from the argument.
            let src = unsafe { std::slice::from_raw_parts(arg.cast::<u8>(), len) };
            h.corrections = src.to_vec();
            Some(0)
        }
        Action::LoadCorrections { len } => {
            let mut out = h.corrections.clone();
            out.resize(len, 0);
            // SAFETY: JSIOCGCORR writes one js_corr per axis to the argument.
            unsafe { std::ptr::copy_nonoverlapping(out.as_ptr(), arg.cast(), len) };
            Some(0)
        }
        Action::SetClock => {
            // SAFETY: EVIOCSCLOCKID passes a pointer to an int.
            let clock = unsafe { arg.cast::<c_int>().read_unaligned() };
            match clock {
                libc::CLOCK_REALTIME | libc::CLOCK_MONOTONIC | libc::CLOCK_BOOTTIME => {
                    h.clock = Some(clock);
                    Some(0)
                }
                _ => fail(libc::EINVAL),
            }
        }
    }
}

/// `read()`.
///
/// # Safety
/// `buf` is writable for `count` bytes, as read(2) requires.
pub unsafe fn read(fd: c_int, buf: *mut c_void, count: size_t) -> ssize_t {
    let ours = guard(None, || handles::with(fd, |h| (h.device.kind, h.clock)));
    match ours {
        Some((kind, clock)) => guard(-1, || {
            if buf.is_null() && count > 0 {
                set_errno(libc::EFAULT);
                return -1;
            }
            let buf = if count == 0 {
                &mut [][..]
            } else {
                // SAFETY: read(2)'s contract: `buf` holds `count` writable bytes.
                unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), count) }
            };
            match read::read_records(fd, buf, read::record_len(kind)) {
                Ok(n) => {
                    if let (Kind::Evdev, Some(clock)) = (kind, clock) {
                        read::restamp(&mut buf[..n], clock);
                    }
                    // n ≤ count, which fits ssize_t for any buffer that exists.
                    n as ssize_t
                }
                Err(e) => {
                    set_errno(e);
                    -1
                }
            }
        }),
        None => match real().read {
            // SAFETY: the application's arguments, passed on unchanged.
            Some(f) => unsafe { f(fd, buf, count) },
            None => {
                set_errno(libc::ENOSYS);
                -1
            }
        },
    }
}

/// `__read_chk()`: glibc's fortified `read`, used when the buffer size is known at compile time
/// but the count is not.
///
/// # Safety
/// As for `read`; `buflen` is the buffer's real size.
pub unsafe fn read_chk(fd: c_int, buf: *mut c_void, count: size_t, buflen: size_t) -> ssize_t {
    if count <= buflen && handles::with(fd, |_| ()).is_some() {
        // SAFETY: as for read; the buffer holds `count` bytes since count ≤ buflen.
        return unsafe { read(fd, buf, count) };
    }
    match real().read_chk {
        // SAFETY: the application's arguments, passed on unchanged; the real function reports an
        // overflow itself.
        Some(f) => unsafe { f(fd, buf, count, buflen) },
        // SAFETY: as for read (a C library without __read_chk never calls it).
        None => unsafe { read(fd, buf, count) },
    }
}

/// `close()`: forget the descriptor first, so a number the kernel frees is never ours.
pub fn close(fd: c_int) -> c_int {
    guard((), || {
        handles::remove(fd);
    });
    match real().close {
        // SAFETY: the application's argument, passed on unchanged.
        Some(f) => unsafe { f(fd) },
        None => {
            set_errno(libc::ENOSYS);
            -1
        }
    }
}

/// The current directory, without the trailing NUL.
fn cwd() -> Option<Vec<u8>> {
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    // SAFETY: `buf` is writable for its length.
    let p = unsafe { libc::getcwd(buf.as_mut_ptr().cast(), buf.len()) };
    if p.is_null() {
        return None;
    }
    let len = buf.iter().position(|b| *b == 0)?;
    buf.truncate(len);
    Some(buf)
}

/// Where symlink `link` (NUL-terminated) points.
fn readlink(link: &[u8]) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    // SAFETY: `link` is NUL-terminated and `buf` writable for its length.
    let n = unsafe { libc::readlink(link.as_ptr().cast(), buf.as_mut_ptr().cast(), buf.len()) };
    let n = usize::try_from(n).ok().filter(|n| *n < buf.len())?;
    buf.truncate(n);
    Some(buf)
}
