//! The symbols this library exports, shadowing libc's.
//!
//! A Rust `cdylib` exports only Rust items: the linker version script rustc writes hides every C
//! symbol, so the C definitions of the variadic functions cannot be exported directly. Each
//! variadic one is therefore a naked Rust function that jumps to its C implementation with all
//! registers and the stack untouched, which is exactly a call to the C function. Not compiled into
//! unit tests, whose harness would otherwise route its own file I/O through these.

use std::ffi::{c_char, c_int, c_void};

use libc::{size_t, ssize_t};

use crate::hooks::{self, OpenCall};

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
compile_error!("the interposer's trampolines exist for x86_64 and aarch64 only");

unsafe extern "C" {
    fn sji_c_open();
    fn sji_c_open64();
    fn sji_c_openat();
    fn sji_c_openat64();
    fn sji_c_ioctl();
}

macro_rules! trampoline {
    ($name:ident => $target:ident) => {
        /// Jumps to the C implementation of the variadic function of the same name.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $name() {
            // `endbr64` marks a valid indirect-branch target for CET; it is a no-op elsewhere.
            #[cfg(target_arch = "x86_64")]
            core::arch::naked_asm!("endbr64", "jmp {}", sym $target);
            #[cfg(target_arch = "aarch64")]
            core::arch::naked_asm!("b {}", sym $target);
        }
    };
}

trampoline!(open => sji_c_open);
trampoline!(open64 => sji_c_open64);
trampoline!(openat => sji_c_openat);
trampoline!(openat64 => sji_c_openat64);
trampoline!(ioctl => sji_c_ioctl);

/// `__open_2(path, flags)`.
///
/// # Safety
/// libc's contract for the function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __open_2(path: *const c_char, flags: c_int) -> c_int {
    // SAFETY: forwarded from the application's call.
    unsafe { hooks::open(OpenCall::Open2, libc::AT_FDCWD, path, flags, 0) }
}

/// `__open64_2(path, flags)`.
///
/// # Safety
/// libc's contract for the function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __open64_2(path: *const c_char, flags: c_int) -> c_int {
    // SAFETY: forwarded from the application's call.
    unsafe { hooks::open(OpenCall::Open64_2, libc::AT_FDCWD, path, flags, 0) }
}

/// `__openat_2(dirfd, path, flags)`.
///
/// # Safety
/// libc's contract for the function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __openat_2(dirfd: c_int, path: *const c_char, flags: c_int) -> c_int {
    // SAFETY: forwarded from the application's call.
    unsafe { hooks::open(OpenCall::OpenAt2, dirfd, path, flags, 0) }
}

/// `__openat64_2(dirfd, path, flags)`.
///
/// # Safety
/// libc's contract for the function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __openat64_2(dirfd: c_int, path: *const c_char, flags: c_int) -> c_int {
    // SAFETY: forwarded from the application's call.
    unsafe { hooks::open(OpenCall::OpenAt64_2, dirfd, path, flags, 0) }
}

/// `read(fd, buf, count)`.
///
/// # Safety
/// libc's contract for the function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn read(fd: c_int, buf: *mut c_void, count: size_t) -> ssize_t {
    // SAFETY: forwarded from the application's call.
    unsafe { hooks::read(fd, buf, count) }
}

/// `__read_chk(fd, buf, count, buflen)`.
///
/// # Safety
/// libc's contract for the function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __read_chk(
    fd: c_int,
    buf: *mut c_void,
    count: size_t,
    buflen: size_t,
) -> ssize_t {
    // SAFETY: forwarded from the application's call.
    unsafe { hooks::read_chk(fd, buf, count, buflen) }
}

/// `close(fd)`.
#[unsafe(no_mangle)]
pub extern "C" fn close(fd: c_int) -> c_int {
    hooks::close(fd)
}
