//! H.264 encoding with libx264, tuned for interactive desktop streaming.
//!
//! This crate owns every call into libx264 and the encoder settings that make it
//! low latency and browser compatible; it must not know about capture, colour
//! conversion, RTP or rate *policy* (callers decide bitrate and fps; this crate
//! applies them).
//!
//! # Layout
//! `x264_param_t` and `x264_picture_t` change layout between `X264_BUILD`
//! versions, so Rust never mirrors them. A small C shim (`shim/x264_shim.c`),
//! compiled by `build.rs` against the installed `x264.h` (found with pkg-config),
//! fills those structs and exposes a narrow API of fixed-width scalars and two
//! plain structs. `sys` declares that API by hand; `encoder` wraps it safely,
//! checking plane sizes and strides before anything reaches C.
//!
//! # Settings (see DESIGN.md §4)
//! Preset `ultrafast`, tune `zerolatency`; no B-frames, no lookahead, no
//! mb-tree, sliced threads (no frame delay): every input frame comes out of the
//! same [`Encoder::encode`] call. Infinite GOP with scene-cut detection off, so
//! IDRs happen only on the first frame and when asked for; SPS and PPS precede
//! every IDR so a browser can join on any keyframe. Annex-B, no AUDs. CBR: ABR
//! with `vbv-maxrate = bitrate` and a VBV buffer of [`Params::vbv_frames`] frame
//! times. Level is picked by x264. VUI says limited range, BT.601 matrix (what
//! our BGRx→I420 conversion produces), BT.709 primaries and sRGB transfer (what
//! desktop pixels are), so decoders convert back to the right colours.
//!
//! [`Profile::ConstrainedBaseline`] is CAVLC without 8x8 transforms, decodable
//! everywhere; `Main` adds CABAC, `High` also 8x8 transforms.
//!
//! # Live changes
//! x264 can change bitrate and VBV while running but keeps the frame rate it was
//! opened with for rate control. [`Encoder::reconfigure`] therefore scales the
//! bitrate it hands x264 by `opened fps / new fps`, so the bits per real frame
//! match the requested bitrate at the new rate without restarting the stream.
//!
//! ```
//! use selkies_x264::{Encoder, FrameOptions, Params, Picture};
//!
//! let params = Params { width: 320, height: 240, ..Params::default() };
//! let mut encoder = Encoder::open(&params)?;
//! let (y, u, v) = (vec![16u8; 320 * 240], vec![128u8; 160 * 120], vec![128u8; 160 * 120]);
//! let pic = Picture { y: &y, u: &u, v: &v, stride_y: 320, stride_uv: 160, pts: 0 };
//! let mut out = Vec::with_capacity(64 * 1024);
//! let info = encoder.encode(&pic, FrameOptions::default(), |b| out.extend_from_slice(b))?;
//! assert!(info.is_some_and(|f| f.keyframe));
//! # Ok::<(), selkies_x264::Error>(())
//! ```

#![warn(missing_docs, clippy::missing_errors_doc)]

mod encoder;
mod params;
mod sys;
#[cfg(test)]
mod test_support;

pub use encoder::{Encoder, FrameInfo, FrameOptions, Picture};
pub use params::{Params, Profile, CQP_RANGE};

/// Everything that can go wrong opening or driving the encoder.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The parameters were refused before reaching x264.
    #[error("invalid encoder parameters: {0}")]
    InvalidParams(String),
    /// x264 refused to open an encoder with these (already validated) parameters.
    #[error("x264 could not open the encoder: {0}")]
    Open(&'static str),
    /// `x264_encoder_encode` failed; the value is its return code (or the shim's
    /// -1001 when x264 returned NAL units that were not contiguous).
    #[error("x264 failed to encode a frame (code {0})")]
    Encode(i32),
    /// `x264_encoder_reconfig` refused the new rate settings.
    #[error("x264 refused the new rate settings (code {0})")]
    Reconfig(i32),
    /// A plane slice is shorter than `stride * rows`.
    #[error("{plane} plane has {len} bytes, needs at least {needed}")]
    PlaneTooSmall {
        /// `"Y"`, `"U"` or `"V"`.
        plane: &'static str,
        /// Bytes given.
        len: usize,
        /// `stride * rows`.
        needed: usize,
    },
    /// A stride is narrower than the plane's width, or does not fit a C `int`.
    #[error("{plane} stride {stride} is invalid for a plane {width} pixels wide")]
    BadStride {
        /// `"Y"`, `"U"` or `"V"`.
        plane: &'static str,
        /// Stride given, in bytes.
        stride: usize,
        /// Width of that plane in the opened picture size.
        width: usize,
    },
}

/// `X264_BUILD` of the `x264.h` the shim was compiled against.
#[doc(alias = "X264_BUILD")]
pub fn version() -> u32 {
    // SAFETY: takes no arguments and returns a compile-time constant.
    let build = unsafe { sys::selkies_x264_build() };
    // X264_BUILD is a positive constant; 0 would only flag a broken header.
    u32::try_from(build).unwrap_or(0)
}
