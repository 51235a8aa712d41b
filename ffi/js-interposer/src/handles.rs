//! The descriptors our `open()` returned, and what each one is.
//!
//! An entry lives from our `open()` to the application's `close()`. A descriptor can also be closed
//! behind our back (`fclose()` of an `fdopen()`ed stream, `close_range()`), and its number reused
//! for an unrelated file; so each entry remembers its socket's inode and a lookup that finds a
//! different file there drops the entry instead of hijacking the file.

use std::ffi::c_int;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::device::Device;
use crate::wire::DeviceConfig;

/// One open device node.
pub struct Handle {
    pub fd: c_int,
    pub device: Device,
    pub config: Arc<DeviceConfig>,
    /// `JSIOCSCORR` data, handed back by `JSIOCGCORR` (corrections are not applied).
    pub corrections: Vec<u8>,
    /// Clock chosen with `EVIOCSCLOCKID`; events are restamped with it on read.
    pub clock: Option<libc::clockid_t>,
    ino: u64,
    dev: u64,
}

impl Handle {
    /// A handle for socket `fd`, or `None` if `fd` cannot be examined.
    pub fn new(fd: c_int, device: Device, config: DeviceConfig) -> Option<Self> {
        let (dev, ino) = identity(fd)?;
        Some(Handle {
            fd,
            device,
            config: Arc::new(config),
            corrections: Vec::new(),
            clock: None,
            ino,
            dev,
        })
    }
}

static TABLE: Mutex<Vec<Handle>> = Mutex::new(Vec::new());
/// Entries in `TABLE`, so that the hooks skip the lock entirely in a process with no pad open
/// (every `read()` and `close()` of the process passes through them).
static COUNT: AtomicUsize = AtomicUsize::new(0);

fn table() -> MutexGuard<'static, Vec<Handle>> {
    // Entries stay well formed even if a holder panicked.
    TABLE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Records a new handle, replacing a stale entry for the same number.
pub fn insert(handle: Handle) {
    let mut t = table();
    t.retain(|h| h.fd != handle.fd);
    t.push(handle);
    COUNT.store(t.len(), Ordering::Release);
}

/// Forgets `fd`; true if it was ours.
pub fn remove(fd: c_int) -> bool {
    if COUNT.load(Ordering::Acquire) == 0 {
        return false;
    }
    let mut t = table();
    let before = t.len();
    t.retain(|h| h.fd != fd);
    COUNT.store(t.len(), Ordering::Release);
    t.len() != before
}

/// Runs `f` on `fd`'s handle, if `fd` is still the socket our `open()` returned.
pub fn with<R>(fd: c_int, f: impl FnOnce(&mut Handle) -> R) -> Option<R> {
    if fd < 0 || COUNT.load(Ordering::Acquire) == 0 {
        return None;
    }
    let mut t = table();
    let i = t.iter().position(|h| h.fd == fd)?;
    if identity(fd) != Some((t[i].dev, t[i].ino)) {
        t.swap_remove(i);
        COUNT.store(t.len(), Ordering::Release);
        return None;
    }
    Some(f(&mut t[i]))
}

/// The (device, inode) of the file `fd` refers to.
fn identity(fd: c_int) -> Option<(u64, u64)> {
    let mut st = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: fstat writes a whole `struct stat` to the pointer on success; it is not one of the
    // functions this library shadows, so this does not re-enter the hooks.
    let rc = unsafe { libc::fstat(fd, st.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: fstat returned 0, so it initialised the struct.
    let st = unsafe { st.assume_init() };
    Some((st.st_dev, st.st_ino))
}
