//! `SETTINGS,<json>` (Selkies 2.x): the stream settings a client asks for in one message. We act
//! on the encoder, the frame rate and the video bitrate; Selkies' other keys (CRF, full colour,
//! audio, …) are accepted and ignored, so a Selkies 2.x client is not rejected for sending them.

use crate::encode::EncoderKind;
use crate::pipeline::{BITRATE_KBPS_RANGE, FPS_RANGE};
use serde_json::{Map, Value};

/// What a `SETTINGS` message asks for; `None` leaves a setting as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StreamSettings {
    pub encoder: Option<EncoderKind>,
    pub framerate: Option<u32>,
    pub video_bitrate: Option<u32>,
}

/// Why a `SETTINGS` payload was refused: `(argument, expected)`.
pub type Refusal = (&'static str, &'static str);

/// Parses the JSON object after `SETTINGS,`.
///
/// # Errors
/// A [`Refusal`] naming the offending key when the payload is not an object, or a known key
/// has a value of the wrong type or outside its range.
pub fn parse(json: &str) -> Result<StreamSettings, Refusal> {
    let object: Map<String, Value> =
        serde_json::from_str(json).map_err(|_| ("json", "a JSON object"))?;
    let encoder = match object.get("encoder") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(
            s.parse::<EncoderKind>()
                .map_err(|_| ("encoder", "auto, x264, nvenc, vaapi, software or gstreamer"))?,
        ),
        Some(_) => return Err(("encoder", "a string")),
    };
    let number =
        |key: &'static str, range: std::ops::RangeInclusive<u32>, expected| match object.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| range.contains(n))
                .map(Some)
                .ok_or((key, expected)),
        };
    Ok(StreamSettings {
        encoder,
        framerate: number("framerate", FPS_RANGE, "an integer 1–240")?,
        video_bitrate: number(
            "video_bitrate",
            BITRATE_KBPS_RANGE,
            "an integer 100–1000000 (kbps)",
        )?,
    })
}

impl StreamSettings {
    /// The canonical JSON form (only the keys that are set).
    pub fn to_json(&self) -> String {
        let mut object = Map::new();
        if let Some(e) = self.encoder {
            object.insert("encoder".into(), Value::String(e.to_string()));
        }
        if let Some(f) = self.framerate {
            object.insert("framerate".into(), f.into());
        }
        if let Some(b) = self.video_bitrate {
            object.insert("video_bitrate".into(), b.into());
        }
        Value::Object(object).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_keys_are_read_and_others_ignored() {
        let s = parse(
            r#"{"encoder":"vp8enc","framerate":30,"video_bitrate":4000,"video_crf":25,"audio_bitrate":128000}"#,
        );
        assert_eq!(
            s,
            Ok(StreamSettings {
                encoder: Some(EncoderKind::Software),
                framerate: Some(30),
                video_bitrate: Some(4000),
            })
        );
        assert_eq!(parse("{}"), Ok(StreamSettings::default()));
        let back = parse(&s.unwrap_or_default().to_json());
        assert_eq!(back.map(|s| s.framerate), Ok(Some(30)));
    }

    #[test]
    fn bad_values_name_their_key() {
        assert_eq!(parse("[1]").unwrap_err().0, "json");
        assert_eq!(parse("{").unwrap_err().0, "json");
        assert_eq!(
            parse(r#"{"encoder":"quicksync"}"#).unwrap_err().0,
            "encoder"
        );
        assert_eq!(parse(r#"{"encoder":5}"#).unwrap_err().0, "encoder");
        assert_eq!(parse(r#"{"framerate":0}"#).unwrap_err().0, "framerate");
        assert_eq!(parse(r#"{"framerate":-3}"#).unwrap_err().0, "framerate");
        assert_eq!(
            parse(r#"{"video_bitrate":1e12}"#).unwrap_err().0,
            "video_bitrate"
        );
        assert_eq!(
            parse(r#"{"video_bitrate":"fast"}"#).unwrap_err().0,
            "video_bitrate"
        );
    }
}
