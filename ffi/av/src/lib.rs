//! libavcodec video encoders for selkies-rs: hardware (NVENC, VA-API) and software (libvpx VP8/VP9,
//! SVT-AV1, libaom) behind one small safe API, with every `unsafe` call of their setup in this
//! crate.
//!
//! FFmpeg loads the NVIDIA and VA-API drivers at run time, so a binary linked against it starts
//! on any host; what is missing shows up as an [`AvError`] with FFmpeg's own reason.

mod encoder;
mod hw;
mod log;

pub use encoder::{EncoderSpec, Input, Planes, VideoEncoder};
pub use hw::{probe_library, render_nodes};

use std::sync::Once;

/// Why an encoder could not be found, opened or driven.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AvError {
    /// The local FFmpeg was built without this encoder.
    #[error("this FFmpeg (libavcodec {version}) has no encoder {name:?}")]
    NoEncoder { name: String, version: String },
    /// FFmpeg refused a call; `reason` carries its log line when it printed one.
    #[error("{what}: {reason}")]
    Ffmpeg { what: &'static str, reason: String },
    /// The plane slices are shorter than their size and strides say.
    #[error("picture planes are shorter than their size and strides")]
    Planes,
    /// The picture does not match the size the encoder was opened with.
    #[error("picture {got_w}x{got_h} does not match the encoder's {want_w}x{want_h}")]
    Size {
        got_w: u32,
        got_h: u32,
        want_w: u32,
        want_h: u32,
    },
}

impl AvError {
    pub(crate) fn ffmpeg(what: &'static str, err: impl std::fmt::Display) -> Self {
        let logged = log::take_last_error();
        let reason = if logged.is_empty() {
            err.to_string()
        } else {
            format!("{err} ({logged})")
        };
        AvError::Ffmpeg { what, reason }
    }
}

static INIT: Once = Once::new();

/// Initialises FFmpeg once per process and routes its log through our callback.
pub fn init() {
    INIT.call_once(|| {
        // ffmpeg::init only registers devices and sets nothing we need to check.
        let _ = ffmpeg_next::init();
        log::install();
    });
}

/// The libavcodec version, as "59.37.100".
pub fn libavcodec_version() -> String {
    let v = ffmpeg_next::codec::version();
    format!("{}.{}.{}", v >> 16, (v >> 8) & 0xff, v & 0xff)
}

/// Whether this FFmpeg has the encoder `name` (e.g. "h264_nvenc").
pub fn has_encoder(name: &str) -> bool {
    init();
    ffmpeg_next::encoder::find_by_name(name).is_some()
}

/// The names of every video encoder this FFmpeg offers, in libavcodec's order.
pub fn video_encoders() -> Vec<String> {
    init();
    hw::video_encoder_names()
}
