//! Server → client clipboard messages on the `input` data channel ([`ServerMessage`]s), each at
//! most `max_message_bytes` long once written (browsers refuse data-channel messages over 256 KiB).
//!
//! - Text that fits in one message, for [`Dialect::Selkies1`]: Selkies 1.x's
//!   `{"type":"clipboard","data":{"content":"<base64 UTF-8>"}}`.
//! - Anything else that fits in one message: Selkies 2.x's `clipboard-msg`,
//!   `{"content":"<base64>","mime_type":"image/png","is_binary_data":true,"total_size":<bytes>}`.
//! - Larger content: Selkies 2.x's multipart form, `clipboard-msg-start`
//!   `{"mime_type","is_binary_data","total_size"}`, then `clipboard-msg-data` `{"content":"<base64>"}`
//!   as often as needed, then `clipboard-msg-end` `{}`. Every chunk but the last carries a multiple of
//!   3 bytes, so the chunks' base64 strings may be decoded one by one or concatenated and decoded
//!   once (Selkies 2.x clients do the latter).
//!
//! With the default 256 KiB limit a chunk carries 196,224 bytes, exactly Selkies 2.x's fallback
//! chunk size. Pure: no I/O; the caller sends the messages in order on one ordered channel and
//! paces them against the channel's buffered amount.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use bytes::Bytes;

use super::content::Content;
use crate::viewer::message::ServerMessage;

/// The largest message browsers accept on a data channel (Chromium's limit; Firefox allows more).
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// Bytes of each message kept for the JSON envelope around a base64 chunk (Selkies' margin).
const ENVELOPE_MARGIN: usize = 512;

/// Smallest `max_message_bytes` honoured; smaller values are raised to it.
const MIN_MESSAGE_BYTES: usize = 1024;

/// Which client generation small text is shaped for. Larger and binary content always uses the
/// Selkies 2.x forms, which 1.x clients ignore (they have no binary or chunked clipboard).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Dialect {
    /// Small text as `clipboard` (`{content}`), which Selkies 1.x clients and ours read.
    #[default]
    Selkies1,
    /// Small content as `clipboard-msg`, which Selkies 2.x clients and ours read.
    Selkies2,
}

/// Raw bytes per `clipboard-msg-data` chunk for messages of at most `max_message_bytes`: the
/// largest multiple of 3 whose base64 fits with the envelope margin.
pub fn chunk_bytes(max_message_bytes: usize) -> usize {
    let max = max_message_bytes.max(MIN_MESSAGE_BYTES);
    (max - ENVELOPE_MARGIN) / 4 * 3
}

/// The messages that carry `content` to a client, in order. Empty content yields none.
///
/// ```
/// use selkies_rs::input::clipboard::{outgoing, Content};
/// let msgs: Vec<String> =
///     outgoing::messages(&Content::text("hi"), outgoing::Dialect::Selkies1, 256 * 1024)
///         .map(|m| m.to_text())
///         .collect();
/// assert_eq!(msgs, [r#"{"type":"clipboard","data":{"content":"aGk="}}"#]);
/// ```
pub fn messages(content: &Content, dialect: Dialect, max_message_bytes: usize) -> Messages {
    let max = max_message_bytes.max(MIN_MESSAGE_BYTES);
    let chunk = chunk_bytes(max);
    let text = content.is_text();
    let mime = content.mime.clone();
    let len = content.data.len();
    let b64_len = len.div_ceil(3) * 4;
    let single_v1 = text && dialect == Dialect::Selkies1;
    let overhead = if single_v1 {
        ServerMessage::Clipboard {
            content: String::new(),
        }
    } else {
        single_v2(&mime, String::new(), text, len)
    }
    .to_text()
    .len();
    let stage = if len == 0 {
        Stage::Done
    } else if overhead.saturating_add(b64_len) <= max {
        if single_v1 {
            Stage::SingleV1
        } else {
            Stage::SingleV2
        }
    } else {
        Stage::Start
    };
    Messages {
        mime,
        data: content.data.clone(),
        text,
        chunk,
        offset: 0,
        stage,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    SingleV1,
    SingleV2,
    Start,
    Data,
    End,
    Done,
}

/// Iterator over the messages of one clipboard value (see [`messages`]). Messages are built one
/// at a time, so a large image never exists as base64 all at once.
#[derive(Debug, Clone)]
pub struct Messages {
    mime: String,
    data: Bytes,
    text: bool,
    chunk: usize,
    offset: usize,
    stage: Stage,
}

impl Iterator for Messages {
    type Item = ServerMessage;

    fn next(&mut self) -> Option<ServerMessage> {
        match self.stage {
            Stage::Done => None,
            Stage::SingleV1 => {
                self.stage = Stage::Done;
                Some(ServerMessage::Clipboard {
                    content: B64.encode(&self.data),
                })
            }
            Stage::SingleV2 => {
                self.stage = Stage::Done;
                let b64 = B64.encode(&self.data);
                Some(single_v2(&self.mime, b64, self.text, self.data.len()))
            }
            Stage::Start => {
                self.stage = Stage::Data;
                Some(ServerMessage::ClipboardStart {
                    mime_type: self.mime.clone(),
                    is_binary_data: !self.text,
                    total_size: self.data.len(),
                })
            }
            Stage::Data => {
                let end = self.offset.saturating_add(self.chunk).min(self.data.len());
                let content = B64.encode(self.data.get(self.offset..end).unwrap_or_default());
                self.offset = end;
                if self.offset >= self.data.len() {
                    self.stage = Stage::End;
                }
                Some(ServerMessage::ClipboardData { content })
            }
            Stage::End => {
                self.stage = Stage::Done;
                Some(ServerMessage::ClipboardEnd {})
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.remaining();
        (n, Some(n))
    }
}

impl ExactSizeIterator for Messages {}

impl Messages {
    fn remaining(&self) -> usize {
        let chunks = |from: usize| (self.data.len().saturating_sub(from)).div_ceil(self.chunk);
        match self.stage {
            Stage::Done => 0,
            Stage::SingleV1 | Stage::SingleV2 | Stage::End => 1,
            Stage::Start => 2 + chunks(0),
            Stage::Data => 1 + chunks(self.offset),
        }
    }

    /// Whether the content goes in one message.
    pub fn is_single(&self) -> bool {
        matches!(self.stage, Stage::SingleV1 | Stage::SingleV2)
    }
}

fn single_v2(mime: &str, content: String, text: bool, len: usize) -> ServerMessage {
    ServerMessage::ClipboardMsg {
        content,
        mime_type: mime.to_owned(),
        is_binary_data: !text,
        total_size: len,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn texts(messages: Messages) -> Vec<String> {
        messages.map(|m| m.to_text()).collect()
    }

    fn parse(msg: &str) -> Value {
        serde_json::from_str(msg).unwrap_or_else(|e| panic!("{msg:?}: {e}"))
    }

    /// Reassembles like a client: start/data/end, decoding each chunk on its own.
    fn reassemble(msgs: &[String]) -> (String, Vec<u8>) {
        let mut mime = String::new();
        let mut out = Vec::new();
        let mut total = None;
        for m in msgs {
            let v = parse(m);
            let data = &v["data"];
            match v["type"].as_str() {
                Some("clipboard") => {
                    mime = "text/plain".into();
                    out = B64
                        .decode(data["content"].as_str().unwrap_or(""))
                        .unwrap_or_default();
                }
                Some("clipboard-msg") => {
                    mime = data["mime_type"].as_str().unwrap_or("").into();
                    out = B64
                        .decode(data["content"].as_str().unwrap_or(""))
                        .unwrap_or_default();
                    total = data["total_size"].as_u64();
                }
                Some("clipboard-msg-start") => {
                    mime = data["mime_type"].as_str().unwrap_or("").into();
                    total = data["total_size"].as_u64();
                }
                Some("clipboard-msg-data") => {
                    let chunk = data["content"].as_str().unwrap_or("");
                    out.extend(B64.decode(chunk).unwrap_or_default());
                }
                Some("clipboard-msg-end") => assert!(data.is_object()),
                other => panic!("unexpected {other:?}"),
            }
        }
        if let Some(total) = total {
            assert_eq!(total as usize, out.len());
        }
        (mime, out)
    }

    #[test]
    fn small_text_in_both_dialects() {
        let c = Content::text("grüße ☃ 日本");
        let v1: Vec<String> = texts(messages(&c, Dialect::Selkies1, DEFAULT_MAX_MESSAGE_BYTES));
        assert_eq!(v1.len(), 1);
        assert_eq!(parse(&v1[0])["type"], "clipboard");
        assert_eq!(reassemble(&v1), ("text/plain".into(), c.data.to_vec()));
        let v2: Vec<String> = texts(messages(&c, Dialect::Selkies2, DEFAULT_MAX_MESSAGE_BYTES));
        assert_eq!(
            v2,
            [format!(
                r#"{{"type":"clipboard-msg","data":{{"content":"{}","mime_type":"text/plain","is_binary_data":false,"total_size":{}}}}}"#,
                B64.encode(&c.data),
                c.data.len()
            )]
        );
    }

    #[test]
    fn binary_and_large_content_is_chunked_under_the_limit() {
        assert_eq!(chunk_bytes(DEFAULT_MAX_MESSAGE_BYTES), 196_224);
        let data: Vec<u8> = (0..1_000_003u32).map(|i| (i * 7 % 251) as u8).collect();
        for (mime, dialect) in [
            ("image/png", Dialect::Selkies1),
            ("image/png", Dialect::Selkies2),
            ("text/plain", Dialect::Selkies1),
        ] {
            let c = Content::new(mime, data.clone());
            let it = messages(&c, dialect, DEFAULT_MAX_MESSAGE_BYTES);
            let expected = it.len();
            let msgs: Vec<String> = texts(it);
            assert_eq!(msgs.len(), expected);
            // start + 6 chunks (5 full, 1 partial) + end.
            assert_eq!(msgs.len(), 8);
            assert!(msgs.iter().all(|m| m.len() <= DEFAULT_MAX_MESSAGE_BYTES));
            let start = parse(&msgs[0]);
            assert_eq!(start["type"], "clipboard-msg-start");
            assert_eq!(start["data"]["is_binary_data"], mime != "text/plain");
            assert_eq!(start["data"]["total_size"], 1_000_003);
            assert_eq!(reassemble(&msgs), (mime.to_owned(), data.clone()));
            // Concatenated chunks decode too (what Selkies 2.x clients do).
            let joined: String = msgs[1..msgs.len() - 1]
                .iter()
                .map(|m| {
                    parse(m)["data"]["content"]
                        .as_str()
                        .unwrap_or("")
                        .to_owned()
                })
                .collect();
            assert_eq!(B64.decode(joined).ok(), Some(data.clone()));
        }
    }

    #[test]
    fn small_binary_is_one_clipboard_msg_in_both_dialects() {
        let c = Content::new("image/png", vec![1, 2, 3]);
        for dialect in [Dialect::Selkies1, Dialect::Selkies2] {
            let msgs: Vec<String> = texts(messages(&c, dialect, DEFAULT_MAX_MESSAGE_BYTES));
            assert_eq!(msgs.len(), 1);
            let v = parse(&msgs[0]);
            assert_eq!(v["type"], "clipboard-msg");
            assert_eq!(v["data"]["is_binary_data"], true);
            assert_eq!(reassemble(&msgs), ("image/png".into(), vec![1, 2, 3]));
        }
    }

    #[test]
    fn boundaries_and_odd_limits() {
        for max in [0, 1000, 1024, 1500, 4096, 65_536] {
            let chunk = chunk_bytes(max);
            assert_eq!(chunk % 3, 0);
            for len in [1, chunk - 1, chunk, chunk + 1, 3 * chunk, 3 * chunk + 2] {
                let data = vec![0xabu8; len];
                for mime in ["text/plain", "image/png", "x/\"quoted\"\\mime"] {
                    let c = Content::new(mime, data.clone());
                    for dialect in [Dialect::Selkies1, Dialect::Selkies2] {
                        let msgs: Vec<String> = texts(messages(&c, dialect, max));
                        let limit = max.max(MIN_MESSAGE_BYTES);
                        assert!(msgs.iter().all(|m| m.len() <= limit), "{max} {len}");
                        assert_eq!(reassemble(&msgs), (mime.to_owned(), data.clone()));
                    }
                }
            }
        }
        assert_eq!(
            messages(&Content::text(""), Dialect::Selkies1, 1024).count(),
            0
        );
    }
}
