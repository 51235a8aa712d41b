//! The libc functions we shadow, found with `dlsym(RTLD_NEXT)`: whatever the process would have
//! called without us (libc, or another preloaded library).

use std::ffi::{c_char, c_int, c_uint, c_ulong, c_void, CStr};
use std::sync::OnceLock;

use libc::{size_t, ssize_t};

pub type OpenFn = unsafe extern "C" fn(*const c_char, c_int, ...) -> c_int;
pub type OpenAtFn = unsafe extern "C" fn(c_int, *const c_char, c_int, ...) -> c_int;
pub type Open2Fn = unsafe extern "C" fn(*const c_char, c_int) -> c_int;
pub type OpenAt2Fn = unsafe extern "C" fn(c_int, *const c_char, c_int) -> c_int;
pub type IoctlFn = unsafe extern "C" fn(c_int, c_ulong, ...) -> c_int;
pub type ReadFn = unsafe extern "C" fn(c_int, *mut c_void, size_t) -> ssize_t;
pub type ReadChkFn = unsafe extern "C" fn(c_int, *mut c_void, size_t, size_t) -> ssize_t;
pub type CloseFn = unsafe extern "C" fn(c_int) -> c_int;

/// The next definitions of every function we define. `None` when the C library has no such symbol
/// (the fortified `__*_2` variants are glibc's; musl has none).
pub struct Real {
    pub open: Option<OpenFn>,
    pub open64: Option<OpenFn>,
    pub openat: Option<OpenAtFn>,
    pub openat64: Option<OpenAtFn>,
    pub open_2: Option<Open2Fn>,
    pub open64_2: Option<Open2Fn>,
    pub openat_2: Option<OpenAt2Fn>,
    pub openat64_2: Option<OpenAt2Fn>,
    pub ioctl: Option<IoctlFn>,
    pub read: Option<ReadFn>,
    pub read_chk: Option<ReadChkFn>,
    pub close: Option<CloseFn>,
}

fn next(name: &CStr) -> *mut c_void {
    // SAFETY: `name` is NUL-terminated; RTLD_NEXT looks the symbol up in the objects loaded after
    // this one and has no other effect.
    unsafe { libc::dlsym(libc::RTLD_NEXT, name.as_ptr()) }
}

macro_rules! resolve {
    ($name:literal as $ty:ty) => {{
        let p = next($name);
        if p.is_null() {
            None
        } else {
            // SAFETY: the symbol of this name in the C library has exactly this signature (the
            // declarations in <fcntl.h>, <sys/ioctl.h>, <unistd.h>), and a non-null dlsym result
            // is the function's address.
            Some(unsafe { std::mem::transmute::<*mut c_void, $ty>(p) })
        }
    }};
}

/// The real functions, resolved on first use.
pub fn real() -> &'static Real {
    static REAL: OnceLock<Real> = OnceLock::new();
    REAL.get_or_init(|| Real {
        open: resolve!(c"open" as OpenFn),
        open64: resolve!(c"open64" as OpenFn),
        openat: resolve!(c"openat" as OpenAtFn),
        openat64: resolve!(c"openat64" as OpenAtFn),
        open_2: resolve!(c"__open_2" as Open2Fn),
        open64_2: resolve!(c"__open64_2" as Open2Fn),
        openat_2: resolve!(c"__openat_2" as OpenAt2Fn),
        openat64_2: resolve!(c"__openat64_2" as OpenAt2Fn),
        ioctl: resolve!(c"ioctl" as IoctlFn),
        read: resolve!(c"read" as ReadFn),
        read_chk: resolve!(c"__read_chk" as ReadChkFn),
        close: resolve!(c"close" as CloseFn),
    })
}

/// `mode` for a variadic open: `c_uint` is what `mode_t` promotes to.
pub type Mode = c_uint;
