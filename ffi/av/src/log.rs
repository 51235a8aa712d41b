//! FFmpeg's log, captured per thread so that errors carry FFmpeg's reason (see `shim/av_log.c`).

use std::ffi::{c_char, c_int};

unsafe extern "C" {
    fn selkies_av_log_install(echo: c_int);
    fn selkies_av_log_take(buf: *mut c_char, cap: usize) -> usize;
}

/// AV_LOG_QUIET: FFmpeg's lines are kept for our errors, never printed on their own.
const ECHO_NONE: c_int = -8;

pub(crate) fn install() {
    // SAFETY: installs a callback that only formats into thread-local storage.
    unsafe { selkies_av_log_install(ECHO_NONE) }
}

/// The last error line FFmpeg logged on this thread since the previous call ("" if none).
pub(crate) fn take_last_error() -> String {
    let mut buf = [0u8; 1024];
    // SAFETY: the shim writes at most `buf.len()` bytes including the NUL.
    let len = unsafe { selkies_av_log_take(buf.as_mut_ptr().cast(), buf.len()) };
    String::from_utf8_lossy(&buf[..len.min(buf.len())]).into_owned()
}
