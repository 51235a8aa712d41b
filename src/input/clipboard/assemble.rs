//! Reassembly of the browser's clipboard writes: the one-message verbs (`cw`, `cb`) and the
//! multipart ones (`cws`/`cwd`/`cwe` for text, `cbs`/`cbd`/`cbe` for binary, each with or without a
//! transfer id) become one [`Content`].
//!
//! Pure and per client: no X11, no policy beyond the size limit and the binary switch. It never
//! panics, and it holds at most one transfer whose buffer never exceeds the declared total, which
//! itself never exceeds the configured limit (the `clipboard_chunks` fuzz target checks this).
//!
//! Rules, where clients leave room:
//! - A new start (`cws`/`cbs`) or a one-message write (`cw`/`cb`) while a transfer is open
//!   replaces it: Selkies 2.x clients start over when the user copies again before a transfer
//!   ends, and the older copy must not land after the newer one.
//! - A chunk or end whose id does not match the open transfer is refused and the open transfer is
//!   kept (a stray message must not cost the user a good transfer). Every other error discards the
//!   open transfer, so the next start begins clean.
//! - Ids must match exactly: a transfer started without an id takes only id-less chunks.

use bytes::Bytes;

use super::content::{is_text_mime, Content, TEXT_MIME};
use crate::input::protocol::{Category, Verb};

/// Why a clipboard message was refused. `Display` is one short line, safe to log: ids are at most
/// 64 characters of `A-Z a-z 0-9 _ - .` (the parser checks), MIME types at most 127 printable ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AssembleError {
    /// The declared or actual size is above the configured limit.
    #[error("clipboard content too large ({len} bytes, limit {max})")]
    TooLarge {
        /// The size in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Binary content while the binary clipboard is disabled.
    #[error("binary clipboard content ({mime}) is disabled")]
    BinaryDisabled {
        /// Its MIME type.
        mime: String,
    },
    /// A chunk or end with no transfer open.
    #[error("{verb}: no clipboard transfer in progress")]
    NoTransfer {
        /// The verb.
        verb: &'static str,
    },
    /// A chunk or end for another transfer than the open one (which is kept).
    #[error("{verb}: transfer id {got:?} does not match the open transfer {open:?}")]
    UnknownId {
        /// The verb.
        verb: &'static str,
        /// Its id.
        got: Option<String>,
        /// The open transfer's id.
        open: Option<String>,
    },
    /// A text chunk in a binary transfer or the reverse.
    #[error("{verb}: does not belong to a {open} transfer")]
    WrongKind {
        /// The verb.
        verb: &'static str,
        /// The open transfer's kind, `text` or `binary`.
        open: &'static str,
    },
    /// More bytes than the start declared.
    #[error("clipboard transfer overflows its declared size ({received} bytes received, {total} declared)")]
    Overflow {
        /// Declared total.
        total: usize,
        /// Received, including the refused chunk.
        received: usize,
    },
    /// The end came before the declared size was reached.
    #[error("clipboard transfer ended early ({received} of {total} bytes)")]
    Incomplete {
        /// Declared total.
        total: usize,
        /// Received.
        received: usize,
    },
    /// The reassembled text is not UTF-8 (single chunks may split a character, the whole may not).
    #[error("clipboard text is not valid UTF-8")]
    InvalidUtf8,
    /// The verb is not a clipboard write (see [`Assembler::accepts`]).
    #[error("not a clipboard write")]
    NotAWrite,
}

#[derive(Debug)]
enum Kind {
    Text,
    Binary { mime: String },
}

impl Kind {
    fn name(&self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Binary { .. } => "binary",
        }
    }
}

#[derive(Debug)]
struct Transfer {
    id: Option<String>,
    kind: Kind,
    total: usize,
    data: Vec<u8>,
}

/// Turns one client's clipboard write verbs into complete [`Content`]s.
///
/// ```
/// use selkies_rs::input::clipboard::Assembler;
/// use selkies_rs::input::protocol::parse;
/// let mut assembler = Assembler::new(1024, true);
/// assert_eq!(assembler.push(parse("cws,7,5")?)?, None);
/// assert_eq!(assembler.push(parse("cwd,7,aGVs")?)?, None);
/// assert_eq!(assembler.push(parse("cwd,7,bG8=")?)?, None);
/// let content = assembler.push(parse("cwe,7")?)?.expect("complete");
/// assert_eq!(content.as_text(), Some("hello"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Assembler {
    max_bytes: usize,
    allow_binary: bool,
    transfer: Option<Transfer>,
}

impl Assembler {
    /// An assembler refusing content above `max_bytes`, and binary content unless `allow_binary`.
    pub fn new(max_bytes: usize, allow_binary: bool) -> Self {
        Self {
            max_bytes,
            allow_binary,
            transfer: None,
        }
    }

    /// Whether `verb` is one [`push`](Self::push) takes: `cw`, `cb` and the six multipart verbs,
    /// that is every clipboard verb but the two reads.
    pub fn accepts(verb: &Verb) -> bool {
        verb.category() == Category::Clipboard
            && !matches!(verb, Verb::ClipboardRead | Verb::RequestClipboard)
    }

    /// Whether a multipart transfer is open.
    pub fn in_progress(&self) -> bool {
        self.transfer.is_some()
    }

    /// Bytes buffered by the open transfer.
    pub fn buffered(&self) -> usize {
        self.transfer.as_ref().map_or(0, |t| t.data.len())
    }

    /// Drops the open transfer, if any.
    pub fn reset(&mut self) {
        self.transfer = None;
    }

    /// Feeds one verb. Returns the content when it is complete, `None` while a transfer goes on.
    ///
    /// # Errors
    /// [`AssembleError`] for a refused message; see the module documentation for which errors
    /// keep the open transfer.
    pub fn push(&mut self, verb: Verb) -> Result<Option<Content>, AssembleError> {
        match verb {
            Verb::ClipboardText(text) => {
                self.transfer = None;
                self.check_size(text.len())?;
                Ok(Some(Content::text(text)))
            }
            Verb::ClipboardBinary { mime, data } => {
                self.transfer = None;
                self.check_binary(&mime)?;
                self.check_size(data.len())?;
                Ok(Some(content(mime, data)?))
            }
            Verb::ClipboardTextStart { id, total } => self.start(id, Kind::Text, total),
            Verb::ClipboardBinaryStart { id, mime, total } => {
                self.check_binary(&mime)?;
                self.start(id, Kind::Binary { mime }, total)
            }
            Verb::ClipboardTextData { id, chunk } => self.data("cwd", id, false, &chunk),
            Verb::ClipboardBinaryData { id, chunk } => self.data("cbd", id, true, &chunk),
            Verb::ClipboardTextEnd { id } => self.end("cwe", id, false),
            Verb::ClipboardBinaryEnd { id } => self.end("cbe", id, true),
            _ => Err(AssembleError::NotAWrite),
        }
    }

    fn check_size(&self, len: usize) -> Result<(), AssembleError> {
        if len > self.max_bytes {
            return Err(AssembleError::TooLarge {
                len,
                max: self.max_bytes,
            });
        }
        Ok(())
    }

    fn check_binary(&self, mime: &str) -> Result<(), AssembleError> {
        if !self.allow_binary && !is_text_mime(mime) {
            return Err(AssembleError::BinaryDisabled {
                mime: mime.to_owned(),
            });
        }
        Ok(())
    }

    fn start(
        &mut self,
        id: Option<String>,
        kind: Kind,
        total: u32,
    ) -> Result<Option<Content>, AssembleError> {
        self.transfer = None;
        let total = usize::try_from(total).unwrap_or(usize::MAX);
        self.check_size(total)?;
        self.transfer = Some(Transfer {
            id,
            kind,
            total,
            data: Vec::new(),
        });
        Ok(None)
    }

    /// The open transfer, when `id` and the kind match it.
    fn open(
        &mut self,
        verb: &'static str,
        id: Option<String>,
        binary: bool,
    ) -> Result<&mut Transfer, AssembleError> {
        let Some(transfer) = self.transfer.as_ref() else {
            return Err(AssembleError::NoTransfer { verb });
        };
        if transfer.id != id {
            return Err(AssembleError::UnknownId {
                verb,
                got: id,
                open: transfer.id.clone(),
            });
        }
        if matches!(transfer.kind, Kind::Binary { .. }) != binary {
            let open = transfer.kind.name();
            self.transfer = None;
            return Err(AssembleError::WrongKind { verb, open });
        }
        self.transfer
            .as_mut()
            .ok_or(AssembleError::NoTransfer { verb })
    }

    fn data(
        &mut self,
        verb: &'static str,
        id: Option<String>,
        binary: bool,
        chunk: &[u8],
    ) -> Result<Option<Content>, AssembleError> {
        let transfer = self.open(verb, id, binary)?;
        let received = transfer.data.len().saturating_add(chunk.len());
        if received > transfer.total {
            let total = transfer.total;
            self.transfer = None;
            return Err(AssembleError::Overflow { total, received });
        }
        transfer.data.extend_from_slice(chunk);
        Ok(None)
    }

    fn end(
        &mut self,
        verb: &'static str,
        id: Option<String>,
        binary: bool,
    ) -> Result<Option<Content>, AssembleError> {
        self.open(verb, id, binary)?;
        let Some(transfer) = self.transfer.take() else {
            return Err(AssembleError::NoTransfer { verb });
        };
        if transfer.data.len() != transfer.total {
            return Err(AssembleError::Incomplete {
                total: transfer.total,
                received: transfer.data.len(),
            });
        }
        let mime = match transfer.kind {
            Kind::Text => TEXT_MIME.to_owned(),
            Kind::Binary { mime } => mime,
        };
        content(mime, transfer.data).map(Some)
    }
}

/// Content from finished bytes; text must be UTF-8 whichever verb carried it.
fn content(mime: String, data: Vec<u8>) -> Result<Content, AssembleError> {
    if is_text_mime(&mime) && std::str::from_utf8(&data).is_err() {
        return Err(AssembleError::InvalidUtf8);
    }
    Ok(Content {
        mime,
        data: Bytes::from(data),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::protocol::parse;

    fn push(a: &mut Assembler, text: &str) -> Result<Option<Content>, AssembleError> {
        a.push(parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}")))
    }

    fn b64(bytes: &[u8]) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    #[test]
    fn single_messages() {
        let mut a = Assembler::new(16, true);
        let c = push(&mut a, &format!("cw,{}", b64("grüße ☃".as_bytes())));
        assert_eq!(c, Ok(Some(Content::text("grüße ☃"))));
        let c = push(&mut a, "cb,image/png,AAEC");
        assert_eq!(c, Ok(Some(Content::new("image/png", vec![0, 1, 2]))));
        assert_eq!(
            push(&mut a, &format!("cw,{}", b64(&[b'x'; 17]))),
            Err(AssembleError::TooLarge { len: 17, max: 16 })
        );
        assert_eq!(a.push(Verb::ClipboardRead), Err(AssembleError::NotAWrite));
        // Text sent through `cb` must be UTF-8 too.
        assert_eq!(
            push(&mut a, &format!("cb,text/plain,{}", b64(&[0xff]))),
            Err(AssembleError::InvalidUtf8)
        );
    }

    #[test]
    fn multipart_text_split_inside_a_character() {
        let text = "日本語のテキスト";
        let bytes = text.as_bytes();
        for id in ["", "42,"] {
            let mut a = Assembler::new(1024, true);
            assert_eq!(push(&mut a, &format!("cws,{id}{}", bytes.len())), Ok(None));
            // 4-byte chunks cut the 3-byte characters.
            for chunk in bytes.chunks(4) {
                assert_eq!(push(&mut a, &format!("cwd,{id}{}", b64(chunk))), Ok(None));
            }
            assert!(a.in_progress());
            assert_eq!(a.buffered(), bytes.len());
            let end = if id.is_empty() { "cwe" } else { "cwe,42" };
            assert_eq!(push(&mut a, end), Ok(Some(Content::text(text))));
            assert!(!a.in_progress());
        }
    }

    #[test]
    fn multipart_binary() {
        let data: Vec<u8> = (0..=255).collect();
        let mut a = Assembler::new(1024, true);
        assert_eq!(push(&mut a, "cbs,t1,image/png,256"), Ok(None));
        for chunk in data.chunks(100) {
            assert_eq!(push(&mut a, &format!("cbd,t1,{}", b64(chunk))), Ok(None));
        }
        assert_eq!(
            push(&mut a, "cbe,t1"),
            Ok(Some(Content::new("image/png", data.clone())))
        );
        // Without ids (older 2.x clients).
        assert_eq!(push(&mut a, "cbs,image/png,3"), Ok(None));
        assert_eq!(push(&mut a, "cbd,AAEC"), Ok(None));
        assert_eq!(
            push(&mut a, "cbe"),
            Ok(Some(Content::new("image/png", vec![0, 1, 2])))
        );
        // An empty transfer.
        assert_eq!(push(&mut a, "cws,0"), Ok(None));
        assert_eq!(push(&mut a, "cwe"), Ok(Some(Content::text(""))));
    }

    #[test]
    fn limits() {
        let mut a = Assembler::new(10, true);
        assert_eq!(
            push(&mut a, "cws,11"),
            Err(AssembleError::TooLarge { len: 11, max: 10 })
        );
        assert!(!a.in_progress());
        assert_eq!(push(&mut a, "cws,4"), Ok(None));
        assert_eq!(push(&mut a, "cwd,YWJj"), Ok(None));
        assert_eq!(
            push(&mut a, "cwd,YWJj"),
            Err(AssembleError::Overflow {
                total: 4,
                received: 6
            })
        );
        assert!(!a.in_progress());
        assert_eq!(push(&mut a, "cws,4"), Ok(None));
        assert_eq!(push(&mut a, "cwd,YWJj"), Ok(None));
        assert_eq!(
            push(&mut a, "cwe"),
            Err(AssembleError::Incomplete {
                total: 4,
                received: 3
            })
        );
        assert!(!a.in_progress());
    }

    #[test]
    fn out_of_order_and_ids() {
        let mut a = Assembler::new(100, true);
        assert_eq!(
            push(&mut a, "cwd,YWJj"),
            Err(AssembleError::NoTransfer { verb: "cwd" })
        );
        assert_eq!(
            push(&mut a, "cbe,1"),
            Err(AssembleError::NoTransfer { verb: "cbe" })
        );
        assert_eq!(push(&mut a, "cws,a,3"), Ok(None));
        // Unknown ids are refused and the open transfer survives them.
        assert!(matches!(
            push(&mut a, "cwd,b,YWJj"),
            Err(AssembleError::UnknownId { .. })
        ));
        assert!(matches!(
            push(&mut a, "cwd,YWJj"),
            Err(AssembleError::UnknownId { got: None, .. })
        ));
        assert!(matches!(
            push(&mut a, "cwe,b"),
            Err(AssembleError::UnknownId { .. })
        ));
        assert_eq!(push(&mut a, "cwd,a,YWJj"), Ok(None));
        // A binary chunk in a text transfer discards it.
        assert_eq!(
            push(&mut a, "cbd,a,YWJj"),
            Err(AssembleError::WrongKind {
                verb: "cbd",
                open: "text"
            })
        );
        assert!(!a.in_progress());
        // A one-message write replaces the open transfer.
        assert_eq!(push(&mut a, "cws,a,3"), Ok(None));
        assert_eq!(push(&mut a, "cw,eA=="), Ok(Some(Content::text("x"))));
        assert!(!a.in_progress());
        assert_eq!(
            push(&mut a, "cwe,a"),
            Err(AssembleError::NoTransfer { verb: "cwe" })
        );
        // A new start replaces the open transfer.
        assert_eq!(push(&mut a, "cws,a,3"), Ok(None));
        assert_eq!(push(&mut a, "cwd,a,eA=="), Ok(None));
        assert_eq!(push(&mut a, "cbs,b,image/png,1"), Ok(None));
        assert_eq!(push(&mut a, "cbd,b,AA=="), Ok(None));
        assert_eq!(
            push(&mut a, "cbe,b"),
            Ok(Some(Content::new("image/png", vec![0])))
        );
    }

    #[test]
    fn invalid_utf8_and_binary_switch() {
        let mut a = Assembler::new(100, false);
        assert_eq!(push(&mut a, "cws,2"), Ok(None));
        assert_eq!(push(&mut a, &format!("cwd,{}", b64(&[0xc3]))), Ok(None));
        assert_eq!(push(&mut a, &format!("cwd,{}", b64(&[0x28]))), Ok(None));
        assert_eq!(push(&mut a, "cwe"), Err(AssembleError::InvalidUtf8));
        assert!(matches!(
            push(&mut a, "cbs,image/png,3"),
            Err(AssembleError::BinaryDisabled { .. })
        ));
        assert!(!a.in_progress());
        assert!(matches!(
            push(&mut a, "cb,image/png,AAEC"),
            Err(AssembleError::BinaryDisabled { .. })
        ));
        // Text through the binary verbs is still text.
        assert_eq!(
            push(&mut a, "cb,text/plain,aGk="),
            Ok(Some(Content::new("text/plain", "hi")))
        );
    }

    #[test]
    fn errors_are_short_lines() {
        let errors = [
            AssembleError::UnknownId {
                verb: "cwd",
                got: Some("x".repeat(64)),
                open: Some("y".repeat(64)),
            },
            AssembleError::BinaryDisabled {
                mime: "a".repeat(127),
            },
            AssembleError::Overflow {
                total: usize::MAX,
                received: usize::MAX,
            },
        ];
        for e in errors {
            let text = e.to_string();
            assert!(text.len() < 300 && !text.contains('\n'), "{text}");
        }
    }
}
