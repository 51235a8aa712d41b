//! Hand-written declarations of the C shim in `shim/x264_shim.h`. Nothing else:
//! no x264 types (their layout is the shim's problem) and no safe wrappers
//! (those live in `encoder.rs`). Keep in step with the header by hand.

use std::os::raw::c_int;

pub const PROFILE_CONSTRAINED_BASELINE: i32 = 0;
pub const PROFILE_MAIN: i32 = 1;
pub const PROFILE_HIGH: i32 = 2;

pub const OPEN_ERR_ALLOC: c_int = -1;
pub const OPEN_ERR_PRESET: c_int = -2;
pub const OPEN_ERR_PROFILE: c_int = -3;
pub const OPEN_ERR_ENCODER: c_int = -4;
pub const OPEN_ERR_ARGS: c_int = -5;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Config {
    pub width: i32,
    pub height: i32,
    pub fps: i32,
    pub bitrate_kbps: i32,
    pub vbv_max_kbps: i32,
    pub vbv_buffer_kbit: i32,
    pub threads: i32,
    pub profile: i32,
    pub intra_refresh: i32,
    pub constant_qp: i32,
}

#[repr(C)]
#[derive(Debug)]
pub struct Frame {
    pub data: *const u8,
    pub len: usize,
    pub pts: i64,
    pub idr: i32,
    pub nal_count: i32,
}

impl Default for Frame {
    fn default() -> Self {
        Frame {
            data: std::ptr::null(),
            len: 0,
            pts: 0,
            idr: 0,
            nal_count: 0,
        }
    }
}

/// Opaque `selkies_x264`.
#[repr(C)]
pub struct Handle {
    _private: [u8; 0],
}

extern "C" {
    pub fn selkies_x264_open(cfg: *const Config, out: *mut *mut Handle) -> c_int;
    #[allow(clippy::too_many_arguments)]
    pub fn selkies_x264_encode(
        enc: *mut Handle,
        y: *const u8,
        u: *const u8,
        v: *const u8,
        stride_y: i32,
        stride_uv: i32,
        pts: i64,
        force_idr: i32,
        qp: i32,
        mb_info: *const u8,
        out: *mut Frame,
    ) -> c_int;
    pub fn selkies_x264_reconfig(
        enc: *mut Handle,
        bitrate_kbps: i32,
        vbv_max_kbps: i32,
        vbv_buffer_kbit: i32,
    ) -> c_int;
    pub fn selkies_x264_close(enc: *mut Handle);
    pub fn selkies_x264_build() -> i32;
    #[cfg(test)]
    pub fn selkies_x264_config_size() -> usize;
    #[cfg(test)]
    pub fn selkies_x264_frame_size() -> usize;
}
