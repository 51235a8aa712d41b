//! The encoder abstraction: pictures in from reusable planes, encoded access units out as bytes.
//!
//! Backends implement [`Encoder`]; the pipeline owns one and drives it from the media thread.
//! This module must not know about RTP or peers: what leaves it is an Annex-B (H.264) access
//! unit, whoever sends it.

pub mod av;
mod codec;
pub mod gst;
mod kind;
pub mod rate;
pub mod x264;

pub use codec::{Codec, CodecChoice};
pub use kind::{codec_hint, EncoderArg, EncoderKind};

use crate::area::Area;
use crate::convert::I420;
use bytes::BytesMut;
use std::path::PathBuf;
use thiserror::Error;

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

impl EncoderConfig {
    /// A small encoder that opens fast, to learn whether a backend works here at all (`probe`,
    /// and the codecs the server offers).
    pub const PROBE: EncoderConfig = EncoderConfig {
        width: 320,
        height: 240,
        fps: 30,
        bitrate_kbps: 500,
        threads: 1,
    };
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
    #[error("no encoder for {codec} works here: {reasons}")]
    Unavailable { codec: Codec, reasons: String },
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
    /// The implementation in use, for logs, `probe` and the web client ("x264", "libvpx-vp9",
    /// "h264_nvenc", "gstreamer: x264enc").
    fn name(&self) -> &str;
    fn kind(&self) -> EncoderKind;
    fn codec(&self) -> Codec;
    /// What this encoder can do besides encoding.
    fn capabilities(&self) -> Capabilities;
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
    /// Where the next picture can differ from the last one this encoder was given. `Some(area)`
    /// promises that everything outside `area` is unchanged; x264 then codes those macroblocks
    /// as skipped without analysing them. `None` promises nothing. It holds for the next
    /// `encode`/`encode_refresh` call only. Backends that cannot use it ignore it.
    fn hint_changed(&mut self, changed: Option<&Area>) {
        let _ = changed;
    }
    /// Changes the target bitrate and frame rate. Backends that cannot retune in place reopen
    /// themselves, and then their next frame is a keyframe.
    ///
    /// # Errors
    /// [`EncodeError::Reconfigure`] when the backend rejects the values.
    fn reconfigure(&mut self, bitrate_kbps: u32, fps: u32) -> Result<(), EncodeError>;
}

/// What an open encoder can do besides encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    /// Runs on a GPU or other hardware block.
    pub hardware: bool,
    /// Bitrate and fps change without a new keyframe.
    pub live_retune: bool,
    /// [`Encoder::encode_refresh`] really raises the quality of one frame.
    pub refresh_qp: bool,
}

/// Which encoders may be used, and the settings some of them need.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EncoderSettings {
    pub kind: EncoderKind,
    /// A GStreamer element (`x264enc bitrate=…`) or pipeline section (`videoconvert ! …`) for
    /// the GStreamer backend; its default element for the codec when unset.
    pub gstreamer: Option<String>,
    /// The DRM render node for VA-API; the first one found when unset.
    pub render_node: Option<PathBuf>,
    /// x264: a periodic intra refresh wave besides the keyframes viewers ask for.
    pub intra_refresh: bool,
    /// x264: who picks each frame's QP.
    pub rate_control: RateControlChoice,
}

/// Who picks each x264 frame's QP to hold the bitrate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum RateControlChoice {
    /// Our frame-level rate control over constant-QP x264 ([`rate`]): without x264's
    /// analysis of every frame, 20–45 % less CPU per frame (BENCHMARKS.md).
    #[default]
    Selkies,
    /// x264's own CBR with a VBV of 1.5 frames.
    X264,
}

impl std::fmt::Display for RateControlChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RateControlChoice::Selkies => "selkies",
            RateControlChoice::X264 => "x264",
        })
    }
}

impl EncoderSettings {
    pub fn new(kind: EncoderKind) -> Self {
        Self {
            kind,
            ..Self::default()
        }
    }
}

/// Opens the first encoder for `codec` that works here, in the order `settings.kind` gives
/// (see [`EncoderKind::candidates`]), logging why each earlier one did not.
///
/// # Errors
/// [`EncodeError::Unavailable`] with every backend's reason when none opens.
pub fn open(
    settings: &EncoderSettings,
    codec: Codec,
    config: EncoderConfig,
) -> Result<Box<dyn Encoder>, EncodeError> {
    open_excluding(settings, codec, config, &[])
}

/// As [`open`], skipping the backends in `exclude` (ones that already failed mid-stream).
///
/// # Errors
/// As [`open`].
pub fn open_excluding(
    settings: &EncoderSettings,
    codec: Codec,
    config: EncoderConfig,
    exclude: &[EncoderKind],
) -> Result<Box<dyn Encoder>, EncodeError> {
    let mut reasons = Vec::new();
    for kind in settings.kind.candidates(codec) {
        if exclude.contains(&kind) {
            continue;
        }
        match open_one(kind, settings, codec, config) {
            Ok(encoder) => {
                if settings.kind != EncoderKind::Auto && kind != settings.kind {
                    tracing::warn!(
                        asked = %settings.kind,
                        using = encoder.name(),
                        reasons = reasons.join("; "),
                        "the chosen encoder is unavailable; falling back"
                    );
                } else if !reasons.is_empty() {
                    tracing::info!(
                        using = encoder.name(),
                        skipped = reasons.join("; "),
                        "encoder chosen"
                    );
                }
                return Ok(encoder);
            }
            Err(e) => reasons.push(e.to_string()),
        }
    }
    Err(EncodeError::Unavailable {
        codec,
        reasons: reasons.join("; "),
    })
}

/// Opens exactly the backend `kind` (no fallback; `Auto` means [`open`]).
///
/// # Errors
/// [`EncodeError::Open`] with the backend's reason.
pub fn open_one(
    kind: EncoderKind,
    settings: &EncoderSettings,
    codec: Codec,
    config: EncoderConfig,
) -> Result<Box<dyn Encoder>, EncodeError> {
    match kind {
        EncoderKind::Auto => open(settings, codec, config),
        EncoderKind::X264 if codec == Codec::H264 => Ok(Box::new(x264::X264Encoder::open(
            config,
            settings.intra_refresh,
            settings.rate_control,
        )?)),
        EncoderKind::X264 => Err(EncodeError::Open {
            backend: "x264",
            reason: format!("x264 encodes H.264 only, not {codec}"),
        }),
        EncoderKind::Nvenc | EncoderKind::Vaapi | EncoderKind::Software => Ok(Box::new(
            av::LibavEncoder::open(kind, codec, config, settings.render_node.as_deref())?,
        )),
        EncoderKind::Gstreamer => {
            gst::GstEncoder::open_for(settings.gstreamer.as_deref(), codec, config)
        }
    }
}
