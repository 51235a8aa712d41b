//! Encoder parameters: their defaults, their validation, and the arithmetic that
//! turns a target bitrate and frame rate into x264's rate-control values. Pure
//! Rust, no FFI, so it is tested without opening an encoder.

use crate::{sys, Error};

/// H.264 profile of the stream. Browsers decode all three; only Constrained
/// Baseline is guaranteed by the WebRTC spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// CAVLC, no 8x8 transform (`profile-level-id` 42e0xx).
    #[default]
    ConstrainedBaseline,
    /// CABAC on: ~10 % fewer bits, more CPU.
    Main,
    /// CABAC and 8x8 transforms.
    High,
}

impl Profile {
    pub(crate) fn to_sys(self) -> i32 {
        match self {
            Profile::ConstrainedBaseline => sys::PROFILE_CONSTRAINED_BASELINE,
            Profile::Main => sys::PROFILE_MAIN,
            Profile::High => sys::PROFILE_HIGH,
        }
    }
}

/// What the encoder is opened with.
///
/// ```
/// let p = selkies_x264::Params::default();
/// assert_eq!((p.width, p.height, p.fps, p.bitrate_kbps), (1280, 720, 60, 8000));
/// assert_eq!((p.vbv_frames, p.threads), (1.5, 0));
/// assert_eq!(p.profile, selkies_x264::Profile::ConstrainedBaseline);
/// assert!(!p.intra_refresh);
/// assert_eq!(p.constant_qp, None);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Luma width in pixels; even.
    pub width: u32,
    /// Luma height in pixels; even.
    pub height: u32,
    /// Frames per second the caller feeds in.
    pub fps: u32,
    /// Target (and maximum) bitrate, kbit/s.
    pub bitrate_kbps: u32,
    /// VBV buffer size in frame times: smaller bounds latency, larger helps quality
    /// of frames that differ a lot from the previous one (IDRs, scrolling).
    pub vbv_frames: f32,
    /// Slice threads; 0 lets x264 choose from the CPU count.
    pub threads: u32,
    /// H.264 profile, and with it which coding tools are on.
    pub profile: Profile,
    /// Periodic intra refresh (one wave per second) in addition to on-demand IDRs.
    pub intra_refresh: bool,
    /// `None`: x264's own CBR, from `bitrate_kbps` and `vbv_frames`. `Some(qp)`, in
    /// [`CQP_RANGE`]: x264 runs at constant QP and the caller does rate control, passing each
    /// frame's QP to [`crate::FrameOptions::qp`] (frames without one get this QP). x264
    /// then neither analyses a low-resolution copy of each frame nor honours the bitrate, and
    /// clips every QP to [`CQP_RANGE`].
    pub constant_qp: Option<u8>,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            width: 1280,
            height: 720,
            fps: 60,
            bitrate_kbps: 8000,
            vbv_frames: 1.5,
            threads: 0,
            profile: Profile::ConstrainedBaseline,
            intra_refresh: false,
            constant_qp: None,
        }
    }
}

/// The QPs x264 can code in constant-QP mode ([`Params::constant_qp`]); the shim's x264
/// settings decide it.
pub const CQP_RANGE: std::ops::RangeInclusive<u8> = 19..=59;

/// Largest picture side we accept; beyond every H.264 level anyway.
const MAX_DIMENSION: u32 = 16_384;
const MAX_FPS: u32 = 1_000;
/// x264 clips bitrates and VBV sizes to this many kbit(/s).
const MAX_KBPS: u32 = 2_000_000;
const MAX_VBV_FRAMES: f32 = 1_000.0;
/// X264_THREAD_MAX.
const MAX_THREADS: u32 = 128;

fn invalid(msg: String) -> Error {
    Error::InvalidParams(msg)
}

pub(crate) fn validate_rate(bitrate_kbps: u32, fps: u32) -> Result<(), Error> {
    if fps == 0 || fps > MAX_FPS {
        return Err(invalid(format!("fps {fps} is outside 1..={MAX_FPS}")));
    }
    if bitrate_kbps == 0 || bitrate_kbps > MAX_KBPS {
        return Err(invalid(format!(
            "bitrate {bitrate_kbps} kbps is outside 1..={MAX_KBPS}"
        )));
    }
    Ok(())
}

impl Params {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        for (name, value) in [("width", self.width), ("height", self.height)] {
            if value == 0 || value > MAX_DIMENSION || value % 2 != 0 {
                return Err(invalid(format!(
                    "{name} {value} must be even and in 2..={MAX_DIMENSION} (I420 halves it)"
                )));
            }
        }
        validate_rate(self.bitrate_kbps, self.fps)?;
        if !(self.vbv_frames > 0.0 && self.vbv_frames <= MAX_VBV_FRAMES) {
            return Err(invalid(format!(
                "vbv_frames {} is outside (0, {MAX_VBV_FRAMES}]",
                self.vbv_frames
            )));
        }
        if let Some(qp) = self.constant_qp.filter(|qp| !CQP_RANGE.contains(qp)) {
            return Err(invalid(format!(
                "constant QP {qp} is outside {}..={}",
                CQP_RANGE.start(),
                CQP_RANGE.end()
            )));
        }
        if self.threads > MAX_THREADS {
            return Err(invalid(format!(
                "threads {} is above {MAX_THREADS}",
                self.threads
            )));
        }
        Ok(())
    }
}

/// Rate-control values exactly as x264 gets them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rate {
    pub bitrate_kbps: i32,
    pub vbv_max_kbps: i32,
    pub vbv_buffer_kbit: i32,
}

/// x264 budgets each frame as `bitrate / opened_fps` whatever the real input
/// rate, so the bitrate it is given is scaled by `opened_fps / fps`. The VBV holds
/// `vbv_frames` frames at that budget, rounded up and never 0 (0 turns VBV off).
pub(crate) fn rate(bitrate_kbps: u32, fps: u32, vbv_frames: f32, opened_fps: u32) -> Rate {
    let fps = u64::from(fps.max(1));
    let opened = u64::from(opened_fps.max(1));
    let scaled = (u64::from(bitrate_kbps) * opened + fps / 2) / fps;
    let scaled = scaled.clamp(1, u64::from(MAX_KBPS));
    // f64 is exact for these magnitudes (< 2^53).
    let buffer = (scaled as f64 * f64::from(vbv_frames) / opened as f64).ceil();
    let buffer = buffer.clamp(1.0, f64::from(MAX_KBPS));
    Rate {
        bitrate_kbps: clamp_i32(scaled),
        vbv_max_kbps: clamp_i32(scaled),
        vbv_buffer_kbit: buffer as i32,
    }
}

fn clamp_i32(v: u64) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_params_are_valid() {
        assert!(Params::default().validate().is_ok());
    }

    #[test]
    fn rejects_odd_zero_and_huge_sizes() {
        for (w, h) in [(321, 240), (320, 241), (0, 240), (320, 0), (20_000, 240)] {
            let p = Params {
                width: w,
                height: h,
                ..Params::default()
            };
            assert!(
                matches!(p.validate(), Err(Error::InvalidParams(_))),
                "{w}x{h}"
            );
        }
    }

    #[test]
    fn rejects_bad_rates_and_vbv() {
        let bad = [
            Params {
                fps: 0,
                ..Params::default()
            },
            Params {
                bitrate_kbps: 0,
                ..Params::default()
            },
            Params {
                bitrate_kbps: MAX_KBPS + 1,
                ..Params::default()
            },
            Params {
                vbv_frames: 0.0,
                ..Params::default()
            },
            Params {
                vbv_frames: f32::NAN,
                ..Params::default()
            },
            Params {
                threads: 1000,
                ..Params::default()
            },
            Params {
                constant_qp: Some(CQP_RANGE.start() - 1),
                ..Params::default()
            },
            Params {
                constant_qp: Some(CQP_RANGE.end() + 1),
                ..Params::default()
            },
        ];
        for p in bad {
            assert!(
                matches!(p.validate(), Err(Error::InvalidParams(_))),
                "{p:?}"
            );
        }
    }

    #[test]
    fn vbv_is_one_and_a_half_frames() {
        // 8000 kbps at 60 fps: 133.3 kbit per frame, 200 kbit of buffer.
        let r = rate(8000, 60, 1.5, 60);
        assert_eq!(
            r,
            Rate {
                bitrate_kbps: 8000,
                vbv_max_kbps: 8000,
                vbv_buffer_kbit: 200
            }
        );
    }

    #[test]
    fn vbv_never_rounds_to_zero() {
        assert_eq!(rate(1, 1000, 0.01, 1000).vbv_buffer_kbit, 1);
    }

    #[test]
    fn fps_change_scales_what_x264_sees() {
        // Opened at 60, now fed 30 fps: x264 still budgets 1/60 s per frame, so it
        // must be told twice the bitrate for each real frame to get 1/30 s worth.
        let r = rate(4000, 30, 1.5, 60);
        assert_eq!(r.bitrate_kbps, 8000);
        assert_eq!(r.vbv_max_kbps, 8000);
        // Still 1.5 real frame times: 4000 * 1.5 / 30 = 200 kbit.
        assert_eq!(r.vbv_buffer_kbit, 200);
    }

    #[test]
    fn scaled_bitrate_is_clamped_to_x264_range() {
        let r = rate(MAX_KBPS, 1, 1.5, 1000);
        assert_eq!(r.bitrate_kbps, MAX_KBPS as i32);
        assert!(r.vbv_buffer_kbit >= 1);
    }
}
