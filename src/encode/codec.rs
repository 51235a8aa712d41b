//! The video codecs a browser can be sent, and how users and SDP name them.

use std::fmt;

/// A video codec as negotiated with the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    H264,
    H265,
    Vp8,
    Vp9,
    Av1,
}

impl Codec {
    /// Every codec, in the order the server prefers them when the browser leaves the choice to
    /// it: H.264 decodes in hardware almost everywhere; VP9 and AV1 compress better; VP8 is the
    /// last resort every WebRTC browser has. H.265 comes last because few browsers receive it.
    pub const PREFERENCE: [Codec; 5] =
        [Codec::H264, Codec::Vp9, Codec::Av1, Codec::Vp8, Codec::H265];

    /// The RTP/SDP MIME type.
    pub fn mime_type(self) -> &'static str {
        match self {
            Codec::H264 => "video/H264",
            Codec::H265 => "video/H265",
            Codec::Vp8 => "video/VP8",
            Codec::Vp9 => "video/VP9",
            Codec::Av1 => "video/AV1",
        }
    }

    /// The codec with this MIME type (case-insensitive), if we send it.
    pub fn from_mime_type(mime: &str) -> Option<Codec> {
        Codec::PREFERENCE
            .into_iter()
            .find(|c| c.mime_type().eq_ignore_ascii_case(mime))
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Codec::H264 => "h264",
            Codec::H265 => "h265",
            Codec::Vp8 => "vp8",
            Codec::Vp9 => "vp9",
            Codec::Av1 => "av1",
        })
    }
}

impl std::str::FromStr for Codec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "h264" | "avc" | "h.264" => Ok(Codec::H264),
            "h265" | "hevc" | "h.265" => Ok(Codec::H265),
            "vp8" => Ok(Codec::Vp8),
            "vp9" => Ok(Codec::Vp9),
            "av1" => Ok(Codec::Av1),
            other => Err(format!(
                "unknown codec {other:?}; available: h264, vp9, av1, vp8, h265"
            )),
        }
    }
}

/// `--codec`: a codec to force, or the best one the browser accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CodecChoice {
    #[default]
    Auto,
    Only(Codec),
}

impl std::str::FromStr for CodecChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() || s.eq_ignore_ascii_case("auto") {
            Ok(CodecChoice::Auto)
        } else {
            s.parse().map(CodecChoice::Only)
        }
    }
}

impl fmt::Display for CodecChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodecChoice::Auto => f.write_str("auto"),
            CodecChoice::Only(c) => c.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in Codec::PREFERENCE {
            assert_eq!(c.to_string().parse::<Codec>(), Ok(c));
            assert_eq!(
                Codec::from_mime_type(&c.mime_type().to_lowercase()),
                Some(c)
            );
        }
        assert_eq!("HEVC".parse::<Codec>(), Ok(Codec::H265));
        assert!("mpeg2".parse::<Codec>().is_err());
        assert_eq!("auto".parse::<CodecChoice>(), Ok(CodecChoice::Auto));
        assert_eq!(
            "vp9".parse::<CodecChoice>(),
            Ok(CodecChoice::Only(Codec::Vp9))
        );
    }
}
