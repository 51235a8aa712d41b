//! `--encoder`: which backend to use, spelled our way or as Selkies' GStreamer element names.

use super::Codec;
use std::fmt;

/// An encoder backend, or `Auto` for the best one that opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum EncoderKind {
    /// NVENC, then VA-API, then software, then GStreamer: the first that opens.
    #[default]
    Auto,
    /// libx264 through our own bindings (H.264).
    X264,
    /// NVIDIA NVENC through libavcodec (H.264, H.265, AV1).
    Nvenc,
    /// VA-API through libavcodec (H.264, H.265, VP8, VP9, AV1).
    Vaapi,
    /// Software encoders in libavcodec: libvpx (VP8, VP9), SVT-AV1 or libaom (AV1).
    Software,
    /// Any GStreamer encoder element or pipeline (`--gstreamer-encoder`).
    Gstreamer,
}

impl EncoderKind {
    /// Every concrete backend, in the order `Auto` tries them.
    pub const AUTO_ORDER: [EncoderKind; 5] = [
        EncoderKind::Nvenc,
        EncoderKind::Vaapi,
        EncoderKind::X264,
        EncoderKind::Software,
        EncoderKind::Gstreamer,
    ];

    /// Whether this backend can produce `codec` at all (before asking the host).
    pub fn supports(self, codec: Codec) -> bool {
        match self {
            EncoderKind::Auto | EncoderKind::Gstreamer => true,
            EncoderKind::X264 => codec == Codec::H264,
            EncoderKind::Nvenc => matches!(codec, Codec::H264 | Codec::H265 | Codec::Av1),
            EncoderKind::Vaapi => true,
            EncoderKind::Software => matches!(codec, Codec::Vp8 | Codec::Vp9 | Codec::Av1),
        }
    }

    /// The backends to try for `codec`, in order: the chosen one first, then (so that a stream
    /// still starts when it cannot) the rest of the automatic order.
    pub fn candidates(self, codec: Codec) -> Vec<EncoderKind> {
        let mut out: Vec<EncoderKind> = Vec::new();
        if self != EncoderKind::Auto && self.supports(codec) {
            out.push(self);
        }
        for k in EncoderKind::AUTO_ORDER {
            if k.supports(codec) && !out.contains(&k) {
                out.push(k);
            }
        }
        out
    }
}

/// The codec a Selkies element name implies (`vp8enc` → VP8), so `SELKIES_ENCODER=vp9enc`
/// streams VP9 as it does in Selkies.
pub fn codec_hint(name: &str) -> Option<Codec> {
    let n = name.to_ascii_lowercase();
    let n = n.as_str();
    if n.contains("265") || n.contains("hevc") {
        Some(Codec::H265)
    } else if n.contains("264") {
        Some(Codec::H264)
    } else if n.contains("vp8") {
        Some(Codec::Vp8)
    } else if n.contains("vp9") {
        Some(Codec::Vp9)
    } else if n.contains("av1") || n == "libaom" {
        Some(Codec::Av1)
    } else {
        None
    }
}

impl std::str::FromStr for EncoderKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "auto" | "" => Ok(Self::Auto),
            "x264" | "x264enc" | "h264enc" | "libx264" => Ok(Self::X264),
            "nvenc" | "nvh264enc" | "nvh265enc" | "nvav1enc" | "h264_nvenc" | "hevc_nvenc"
            | "av1_nvenc" => Ok(Self::Nvenc),
            "vaapi" | "va" | "vah264enc" | "vah265enc" | "vavp8enc" | "vavp9enc" | "vaav1enc"
            | "h264_vaapi" | "hevc_vaapi" | "vp8_vaapi" | "vp9_vaapi" | "av1_vaapi" => {
                Ok(Self::Vaapi)
            }
            "software" | "libvpx" | "vp8enc" | "vp9enc" | "libvpx-vp9" | "svtav1enc"
            | "libsvtav1" | "av1enc" | "libaom" | "libaom-av1" => Ok(Self::Software),
            "gstreamer" | "gst" => Ok(Self::Gstreamer),
            other => Err(format!(
                "unknown encoder {other:?}; available: auto, x264, nvenc, vaapi, software, gstreamer \
                 (or a Selkies element name such as nvh264enc, vah264enc, vp8enc, vp9enc, av1enc)"
            )),
        }
    }
}

impl fmt::Display for EncoderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EncoderKind::Auto => "auto",
            EncoderKind::X264 => "x264",
            EncoderKind::Nvenc => "nvenc",
            EncoderKind::Vaapi => "vaapi",
            EncoderKind::Software => "software",
            EncoderKind::Gstreamer => "gstreamer",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selkies_names_parse_with_their_codec() {
        assert_eq!("nvh265enc".parse(), Ok(EncoderKind::Nvenc));
        assert_eq!(codec_hint("nvh265enc"), Some(Codec::H265));
        assert_eq!("vp9enc".parse(), Ok(EncoderKind::Software));
        assert_eq!(codec_hint("vp9enc"), Some(Codec::Vp9));
        assert_eq!("x264enc".parse(), Ok(EncoderKind::X264));
        assert_eq!(codec_hint("x264enc"), Some(Codec::H264));
        assert_eq!(codec_hint("auto"), None);
        assert!("quicksync".parse::<EncoderKind>().is_err());
    }

    #[test]
    fn candidates_start_with_the_choice_and_keep_only_capable_backends() {
        use EncoderKind::*;
        assert_eq!(
            Auto.candidates(Codec::H264),
            vec![Nvenc, Vaapi, X264, Gstreamer]
        );
        assert_eq!(
            Auto.candidates(Codec::Vp8),
            vec![Vaapi, Software, Gstreamer]
        );
        assert_eq!(
            X264.candidates(Codec::H264),
            vec![X264, Nvenc, Vaapi, Gstreamer]
        );
        assert_eq!(
            Gstreamer.candidates(Codec::Av1),
            vec![Gstreamer, Nvenc, Vaapi, Software]
        );
        // A backend that cannot make the codec is skipped, not tried.
        assert_eq!(
            X264.candidates(Codec::Vp9),
            vec![Vaapi, Software, Gstreamer]
        );
    }
}

/// `--encoder` as given: the backend, and the codec a Selkies element name implies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EncoderArg {
    pub kind: EncoderKind,
    /// `vp9enc` implies VP9; `auto` or `nvenc` imply nothing.
    pub codec: Option<Codec>,
}

impl std::str::FromStr for EncoderArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self {
            kind: s.parse()?,
            codec: codec_hint(s),
        })
    }
}

impl fmt::Display for EncoderArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.kind.fmt(f)
    }
}
