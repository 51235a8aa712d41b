//! Everything the server sends a viewer on the `input` data channel, as one typed value that
//! writes itself as Selkies' JSON envelope `{"type": T, "data": D}`.
//!
//! Pure and a leaf: the routing, the cursor feed and the clipboard build these values; the
//! transport only sends [`ServerMessage::to_text`]. Field names and forms are Selkies' own (1.x
//! for `system`, `cursor`, `clipboard`, `ping`; 2.x for the `clipboard-msg*` family), documented
//! in `docs/protocol.md`.

use serde::ser::SerializeStruct as _;
use serde::{Serialize, Serializer};
use std::fmt;

/// A server → client message.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum ServerMessage {
    /// `system`: a setting in force, as `{"action": "<name>,<value>"}`.
    System(SystemAction),
    /// `pipeline`: what the viewer is being sent.
    Pipeline(PipelineInfo),
    /// `ping`: the client answers `pong,<start_time>`.
    Ping { start_time: f64 },
    /// `latency_measurement`: half the ping's round trip.
    LatencyMeasurement { latency_ms: f64 },
    /// `cursor`: the X cursor's shape.
    Cursor(CursorData),
    /// `clipboard` (Selkies 1.x): small text, base64.
    Clipboard { content: String },
    /// `clipboard-msg` (2.x): content that fits in one message.
    #[serde(rename = "clipboard-msg")]
    ClipboardMsg {
        content: String,
        mime_type: String,
        is_binary_data: bool,
        total_size: usize,
    },
    /// `clipboard-msg-start` (2.x): a multipart transfer begins.
    #[serde(rename = "clipboard-msg-start")]
    ClipboardStart {
        mime_type: String,
        is_binary_data: bool,
        total_size: usize,
    },
    /// `clipboard-msg-data` (2.x): one chunk, base64 of a multiple of 3 bytes but the last.
    #[serde(rename = "clipboard-msg-data")]
    ClipboardData { content: String },
    /// `clipboard-msg-end` (2.x): the transfer is complete (`data` is `{}`).
    #[serde(rename = "clipboard-msg-end")]
    ClipboardEnd {},
}

impl ServerMessage {
    /// The message as sent: one line of JSON.
    pub fn to_text(&self) -> String {
        // Cannot fail: every field is a string, number, bool or struct of them (serde_json
        // writes non-finite floats as null).
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The settings a `system` message reports (Selkies 1.x's `action` strings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SystemAction {
    /// `framerate,<fps>`.
    Framerate(u32),
    /// `video_bitrate,<kbps>`.
    VideoBitrate(u32),
    /// `encoder,<name>`.
    Encoder(String),
    /// `resize,<true|false>`: whether the client may resize the remote screen.
    Resize(bool),
}

impl fmt::Display for SystemAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SystemAction::Framerate(fps) => write!(f, "framerate,{fps}"),
            SystemAction::VideoBitrate(kbps) => write!(f, "video_bitrate,{kbps}"),
            SystemAction::Encoder(name) => write!(f, "encoder,{name}"),
            SystemAction::Resize(on) => write!(f, "resize,{on}"),
        }
    }
}

impl Serialize for SystemAction {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("System", 1)?;
        s.serialize_field("action", &self.to_string())?;
        s.end()
    }
}

/// The `pipeline` message's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PipelineInfo {
    /// Always `streaming`: the message is sent once frames can flow.
    pub status: &'static str,
    /// The encoder running (`x264`, `libvpx-vp9`).
    pub encoder: String,
    pub codec: String,
    pub mime_type: String,
}

/// A cursor hotspot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Hotspot {
    pub x: u16,
    pub y: u16,
}

/// The `cursor` message's data: Selkies 1.x fields plus 2.x's `width`, `height`, `hotx`, `hoty`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CursorData {
    /// Content hash; clients cache shapes under it.
    pub handle: u32,
    /// A CSS cursor name instead of an image; always null (we always send the image).
    #[serde(rename = "override")]
    pub override_name: Option<String>,
    pub hotspot: Hotspot,
    pub hotx: u16,
    pub hoty: u16,
    pub width: u16,
    pub height: u16,
    /// The PNG, base64; `None` for a shape this viewer was sent before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub curdata: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn value(m: &ServerMessage) -> Value {
        serde_json::from_str(&m.to_text()).expect("valid JSON")
    }

    #[test]
    fn envelopes_are_selkies_json() {
        assert_eq!(
            ServerMessage::System(SystemAction::Framerate(60)).to_text(),
            r#"{"type":"system","data":{"action":"framerate,60"}}"#
        );
        for (action, text) in [
            (SystemAction::VideoBitrate(8000), "video_bitrate,8000"),
            (SystemAction::Encoder("x264enc".into()), "encoder,x264enc"),
            (SystemAction::Resize(false), "resize,false"),
        ] {
            assert_eq!(
                value(&ServerMessage::System(action)),
                json!({"type": "system", "data": {"action": text}})
            );
        }
        assert_eq!(
            value(&ServerMessage::Ping { start_time: 1.5 }),
            json!({"type": "ping", "data": {"start_time": 1.5}})
        );
        assert_eq!(
            value(&ServerMessage::LatencyMeasurement { latency_ms: 2.0 }),
            json!({"type": "latency_measurement", "data": {"latency_ms": 2.0}})
        );
        assert_eq!(
            value(&ServerMessage::Pipeline(PipelineInfo {
                status: "streaming",
                encoder: "x264".into(),
                codec: "h264".into(),
                mime_type: "video/H264".into(),
            })),
            json!({"type": "pipeline", "data": {"status": "streaming", "encoder": "x264",
                   "codec": "h264", "mime_type": "video/H264"}})
        );
        assert_eq!(
            ServerMessage::ClipboardEnd {}.to_text(),
            r#"{"type":"clipboard-msg-end","data":{}}"#
        );
    }

    #[test]
    fn cursor_leaves_out_an_image_already_sent() {
        let mut data = CursorData {
            handle: 7,
            override_name: None,
            hotspot: Hotspot { x: 3, y: 4 },
            hotx: 3,
            hoty: 4,
            width: 16,
            height: 16,
            curdata: Some("iVBO".into()),
        };
        let v = value(&ServerMessage::Cursor(data.clone()));
        assert_eq!(v["type"], "cursor");
        assert_eq!(v["data"]["curdata"], "iVBO");
        assert_eq!(v["data"]["override"], Value::Null);
        assert_eq!(v["data"]["hotspot"], json!({"x": 3, "y": 4}));
        data.curdata = None;
        let v = value(&ServerMessage::Cursor(data));
        assert!(v["data"].get("curdata").is_none());
    }
}
