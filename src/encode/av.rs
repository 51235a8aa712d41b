//! Encoders in libavcodec, over `ffi/av`: NVENC (H.264, H.265, AV1), VA-API (H.264, H.265, VP8,
//! VP9, AV1) and software VP8/VP9 (libvpx) and AV1 (SVT-AV1, else libaom).
//!
//! Each is tuned for latency the way Selkies tunes its GStreamer equivalents (see
//! `../shared/selkies-reference.md`): constant bitrate with a 1.5-frame buffer, no B-frames, no
//! lookahead, keyframes only on request, headers in band on every keyframe.

use super::{Capabilities, Codec, EncodeError, Encoded, Encoder, EncoderConfig, EncoderKind};
use crate::convert::I420;
use bytes::BytesMut;
use selkies_av::{EncoderSpec, Input, Planes, VideoEncoder};
use std::path::{Path, PathBuf};

/// Rate-control buffer in frame times, as for x264.
const VBV_FRAMES: f32 = 1.5;

/// Where NVENC's driver libraries come from; FFmpeg loads both at run time.
const NVIDIA_LIBRARIES: [&str; 2] = ["libcuda.so.1", "libnvidia-encode.so.1"];

/// Where render nodes are looked for when none is configured.
pub const DRI_DIR: &str = "/dev/dri";

/// A libavcodec encoder with what it needs to reopen itself.
pub struct LibavEncoder {
    inner: VideoEncoder,
    kind: EncoderKind,
    codec: Codec,
    config: EncoderConfig,
    node: Option<PathBuf>,
    name: String,
    /// The next frame must be a keyframe (after a reopen the encoder starts with one anyway,
    /// but the pipeline counts on the flag being reported).
    reopened: bool,
}

impl LibavEncoder {
    /// Opens the `kind` backend (NVENC, VA-API or software) for `codec`.
    ///
    /// # Errors
    /// [`EncodeError::Open`] with the reason: a missing driver library or render node, an
    /// encoder this FFmpeg lacks, or FFmpeg's own refusal.
    pub fn open(
        kind: EncoderKind,
        codec: Codec,
        config: EncoderConfig,
        render_node: Option<&Path>,
    ) -> Result<Self, EncodeError> {
        let node = match kind {
            EncoderKind::Vaapi => {
                Some(find_render_node(render_node).map_err(|r| open_err(kind, r))?)
            }
            EncoderKind::Nvenc => {
                nvidia_driver().map_err(|r| open_err(kind, r))?;
                None
            }
            _ => None,
        };
        let (inner, name) = open_inner(kind, codec, &config, node.as_deref())?;
        Ok(Self {
            inner,
            kind,
            codec,
            config,
            node,
            name,
            reopened: false,
        })
    }
}

/// Whether the NVIDIA driver libraries FFmpeg needs for NVENC load here.
///
/// # Errors
/// Which library is missing and the loader's message.
pub fn nvidia_driver() -> Result<(), String> {
    for lib in NVIDIA_LIBRARIES {
        selkies_av::probe_library(lib)
            .map_err(|e| format!("{lib} not found (no NVIDIA driver): {e}"))?;
    }
    Ok(())
}

/// The configured render node, or the first in `/dev/dri`.
///
/// # Errors
/// "no /dev/dri render node" (or the configured one is missing).
pub fn find_render_node(configured: Option<&Path>) -> Result<PathBuf, String> {
    match configured {
        Some(p) if p.exists() => Ok(p.to_owned()),
        Some(p) => Err(format!("render node {} does not exist", p.display())),
        None => selkies_av::render_nodes(Path::new(DRI_DIR))
            .into_iter()
            .next()
            .ok_or_else(|| format!("no {DRI_DIR} render node")),
    }
}

/// libavcodec's encoder names for `kind` and `codec`, in the order to try them.
pub fn implementations(kind: EncoderKind, codec: Codec) -> &'static [&'static str] {
    match (kind, codec) {
        (EncoderKind::Nvenc, Codec::H264) => &["h264_nvenc"],
        (EncoderKind::Nvenc, Codec::H265) => &["hevc_nvenc"],
        (EncoderKind::Nvenc, Codec::Av1) => &["av1_nvenc"],
        (EncoderKind::Vaapi, Codec::H264) => &["h264_vaapi"],
        (EncoderKind::Vaapi, Codec::H265) => &["hevc_vaapi"],
        (EncoderKind::Vaapi, Codec::Vp8) => &["vp8_vaapi"],
        (EncoderKind::Vaapi, Codec::Vp9) => &["vp9_vaapi"],
        (EncoderKind::Vaapi, Codec::Av1) => &["av1_vaapi"],
        (EncoderKind::Software, Codec::Vp8) => &["libvpx"],
        (EncoderKind::Software, Codec::Vp9) => &["libvpx-vp9"],
        // libaom in its real-time mode first: SVT-AV1 1.4 through FFmpeg 5.1 rejects a CBR whose
        // maximum equals its target, and calls its low-delay mode experimental.
        (EncoderKind::Software, Codec::Av1) => &["libaom-av1", "libsvtav1"],
        _ => &[],
    }
}

fn open_inner(
    kind: EncoderKind,
    codec: Codec,
    config: &EncoderConfig,
    node: Option<&Path>,
) -> Result<(VideoEncoder, String), EncodeError> {
    let names = implementations(kind, codec);
    if names.is_empty() {
        return Err(open_err(kind, format!("{kind} cannot encode {codec}")));
    }
    let mut reasons = Vec::new();
    for &name in names {
        let spec = spec(kind, codec, name, config, node);
        match VideoEncoder::open(&spec) {
            Ok(enc) => return Ok((enc, name.to_owned())),
            Err(e) => reasons.push(e.to_string()),
        }
    }
    Err(open_err(kind, reasons.join("; ")))
}

fn open_err(kind: EncoderKind, reason: String) -> EncodeError {
    EncodeError::Open {
        backend: backend_name(kind),
        reason,
    }
}

fn backend_name(kind: EncoderKind) -> &'static str {
    match kind {
        EncoderKind::Nvenc => "nvenc",
        EncoderKind::Vaapi => "vaapi",
        _ => "libavcodec",
    }
}

/// The options for one implementation: Selkies' low-latency tunings, translated to libavcodec.
fn spec<'a>(
    kind: EncoderKind,
    codec: Codec,
    name: &'a str,
    config: &EncoderConfig,
    node: Option<&Path>,
) -> EncoderSpec<'a> {
    let threads = config.threads;
    let o = |pairs: &[(&'a str, &str)]| -> Vec<(&'a str, String)> {
        pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
    };
    let (input, gop, options) = match kind {
        EncoderKind::Nvenc => {
            let mut opts = o(&[
                ("preset", "p4"),
                ("tune", "ull"),
                ("rc", "cbr"),
                ("multipass", "qres"),
                ("zerolatency", "1"),
                ("delay", "0"),
                ("rc-lookahead", "0"),
                ("no-scenecut", "1"),
                ("forced-idr", "1"),
                ("strict_gop", "1"),
            ]);
            if codec == Codec::H264 {
                opts.extend(o(&[("profile", "main"), ("coder", "cabac")]));
            }
            (Input::I420, i32::MAX, opts)
        }
        EncoderKind::Vaapi => {
            let mut opts = o(&[("rc_mode", "CBR"), ("async_depth", "1")]);
            if codec == Codec::H264 {
                opts.extend(o(&[("profile", "main")]));
            }
            // Some VA drivers reject a GOP beyond 16 bits; at 60 fps that is 18 minutes, and a
            // viewer asks for keyframes anyway.
            let input = Input::Vaapi(node.map(Path::to_owned).unwrap_or_default());
            (input, i32::from(i16::MAX), opts)
        }
        _ => match name {
            "libvpx" | "libvpx-vp9" => {
                let mut opts = o(&[
                    ("deadline", "realtime"),
                    ("lag-in-frames", "0"),
                    ("auto-alt-ref", "0"),
                    ("undershoot-pct", "25"),
                    ("overshoot-pct", "10"),
                    ("max-intra-rate", "250"),
                    ("static-thresh", "0"),
                ]);
                if name == "libvpx" {
                    opts.extend(o(&[("cpu-used", "12"), ("error-resilient", "1")]));
                } else {
                    opts.extend(o(&[
                        ("cpu-used", "8"),
                        ("row-mt", "1"),
                        ("aq-mode", "3"),
                        ("frame-parallel", "0"),
                    ]));
                    opts.push(("tile-columns", tile_columns_log2(config.width).to_string()));
                }
                (Input::I420, i32::MAX, opts)
            }
            "libsvtav1" => (
                Input::I420,
                // SVT-AV1 counts its intra period as gop - 1 in a signed field; this is still
                // "never" at any frame rate.
                i32::MAX - 1,
                o(&[
                    ("preset", "12"),
                    ("svtav1-params", "pred-struct=1:lookahead=0"),
                ]),
            ),
            _ => (
                Input::I420,
                i32::MAX,
                vec![
                    ("usage", "realtime".to_owned()),
                    ("cpu-used", "8".to_owned()),
                    ("lag-in-frames", "0".to_owned()),
                    ("row-mt", "1".to_owned()),
                    ("aq-mode", "3".to_owned()),
                    ("tile-columns", tile_columns_log2(config.width).to_string()),
                ],
            ),
        },
    };
    EncoderSpec {
        encoder: name,
        width: config.width,
        height: config.height,
        fps: config.fps,
        bitrate_kbps: config.bitrate_kbps,
        vbv_frames: VBV_FRAMES,
        gop,
        threads,
        options,
        input,
    }
}

/// VP9/AV1 tile columns (log2): tiles at least 256 pixels wide, at most 4, so row-mt has work
/// for every core without costing much compression.
fn tile_columns_log2(width: u32) -> u32 {
    let tiles = (width / 256).clamp(1, 4);
    31 - tiles.leading_zeros()
}

impl Encoder for LibavEncoder {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> EncoderKind {
        self.kind
    }

    fn codec(&self) -> Codec {
        self.codec
    }

    fn config(&self) -> EncoderConfig {
        self.config
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            hardware: matches!(self.kind, EncoderKind::Nvenc | EncoderKind::Vaapi),
            live_retune: self.inner.applies_bitrate_live(),
            refresh_qp: false,
        }
    }

    fn encode(
        &mut self,
        picture: &I420,
        force_keyframe: bool,
        out: &mut BytesMut,
    ) -> Result<Option<Encoded>, EncodeError> {
        let planes = Planes {
            width: picture.width,
            height: picture.height,
            y: &picture.y,
            u: &picture.u,
            v: &picture.v,
            stride_y: picture.stride_y(),
            stride_uv: picture.stride_uv(),
        };
        let force = force_keyframe || std::mem::take(&mut self.reopened);
        let mut keyframe = false;
        let packets = self
            .inner
            .encode(&planes, force, |bytes, key| {
                out.extend_from_slice(bytes);
                keyframe |= key;
            })
            .map_err(|e| EncodeError::Encode {
                backend: backend_name(self.kind),
                reason: e.to_string(),
            })?;
        Ok((packets > 0).then_some(Encoded { keyframe }))
    }

    fn reconfigure(&mut self, bitrate_kbps: u32, fps: u32) -> Result<(), EncodeError> {
        if fps == self.config.fps && self.inner.applies_bitrate_live() {
            self.inner.set_bitrate(bitrate_kbps, fps, VBV_FRAMES);
            self.config.bitrate_kbps = bitrate_kbps;
            return Ok(());
        }
        // libvpx and SVT-AV1 in this FFmpeg read the rate only when opened.
        let mut config = self.config;
        config.bitrate_kbps = bitrate_kbps;
        config.fps = fps;
        let (inner, name) = open_inner(self.kind, self.codec, &config, self.node.as_deref())
            .map_err(|e| EncodeError::Reconfigure {
                backend: backend_name(self.kind),
                reason: e.to_string(),
            })?;
        self.inner = inner;
        self.name = name;
        self.config = config;
        self.reopened = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_follow_width() {
        assert_eq!(tile_columns_log2(640), 1);
        assert_eq!(tile_columns_log2(1280), 2);
        assert_eq!(tile_columns_log2(1920), 2);
        assert_eq!(tile_columns_log2(200), 0);
    }

    #[test]
    fn missing_hardware_gives_reasons() {
        assert!(find_render_node(Some(Path::new("/nonexistent/renderD128")))
            .is_err_and(|e| e.contains("does not exist")));
        let err = selkies_av::probe_library("libselkies-not-a-library.so.9").unwrap_err();
        assert!(err.contains("libselkies-not-a-library.so.9"), "{err}");
    }
}
