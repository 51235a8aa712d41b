//! The encoder abstraction: pictures in from reusable planes, encoded access units out as bytes.
//!
//! Backends implement [`Encoder`]; the pipeline owns one and drives it from the media thread.
//! This module must not know about RTP or peers: what leaves it is an Annex-B (H.264) access
//! unit, whoever sends it.

pub mod x264;

use crate::convert::I420;
use bytes::BytesMut;
use thiserror::Error;

/// A video codec as negotiated with the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Codec {
    H264,
}

impl Codec {
    pub fn mime_type(self) -> &'static str {
        match self {
            Codec::H264 => "video/H264",
        }
    }
}

/// Which encoder implementation to use (`--encoder`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncoderKind {
    /// The best one available (today: x264).
    Auto,
    X264,
}

impl std::str::FromStr for EncoderKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Selkies names its encoders after GStreamer elements; accept those spellings too.
        match s.to_ascii_lowercase().as_str() {
            "auto" | "" => Ok(Self::Auto),
            "x264" | "x264enc" | "h264enc" | "libx264" => Ok(Self::X264),
            other => Err(format!("unknown encoder {other:?}; available: auto, x264")),
        }
    }
}

impl std::fmt::Display for EncoderKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EncoderKind::Auto => "auto",
            EncoderKind::X264 => "x264",
        })
    }
}

/// Settings an encoder is opened with; bitrate and fps can change later without reopening.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EncoderConfig {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub bitrate_kbps: u32,
    /// Worker threads (0 = the backend decides).
    pub threads: u32,
}

/// Why an encoder could not open or encode.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EncodeError {
    #[error("{backend}: cannot open: {reason}")]
    Open {
        backend: &'static str,
        reason: String,
    },
    #[error("{backend}: encode failed: {reason}")]
    Encode {
        backend: &'static str,
        reason: String,
    },
    #[error("{backend}: reconfigure failed: {reason}")]
    Reconfigure {
        backend: &'static str,
        reason: String,
    },
}

/// What one call to [`Encoder::encode`] produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoded {
    /// An IDR: a decoder can start here.
    pub keyframe: bool,
}

/// A video encoder backend.
pub trait Encoder: Send {
    /// Short backend name for logs and `probe` ("x264").
    fn name(&self) -> &'static str;
    fn codec(&self) -> Codec;
    fn config(&self) -> EncoderConfig;
    /// Encodes one picture, appending the access unit to `out`; `Ok(None)` if the backend
    /// produced nothing for this picture.
    ///
    /// # Errors
    /// [`EncodeError::Encode`] when the backend fails; the pipeline then reopens it.
    fn encode(
        &mut self,
        picture: &I420,
        force_keyframe: bool,
        out: &mut BytesMut,
    ) -> Result<Option<Encoded>, EncodeError>;
    /// Encodes one frame at the fixed quantiser `qp`, for a high-quality refresh of a screen that
    /// stopped changing ("paint-over"); rate control resumes on the next frame. Backends without
    /// per-frame quality control encode it as usual.
    ///
    /// # Errors
    /// As [`Encoder::encode`].
    fn encode_refresh(
        &mut self,
        picture: &I420,
        qp: u8,
        out: &mut BytesMut,
    ) -> Result<Option<Encoded>, EncodeError> {
        let _ = qp;
        self.encode(picture, false, out)
    }
    /// Changes the target bitrate and frame rate in place.
    ///
    /// # Errors
    /// [`EncodeError::Reconfigure`] when the backend rejects the values.
    fn reconfigure(&mut self, bitrate_kbps: u32, fps: u32) -> Result<(), EncodeError>;
}

/// Opens the encoder `kind` for `config`.
///
/// # Errors
/// [`EncodeError::Open`] with the backend's reason.
pub fn open(kind: EncoderKind, config: EncoderConfig) -> Result<Box<dyn Encoder>, EncodeError> {
    match kind {
        EncoderKind::Auto | EncoderKind::X264 => Ok(Box::new(x264::X264Encoder::open(config)?)),
    }
}
