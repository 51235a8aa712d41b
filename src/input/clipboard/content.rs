//! What a clipboard holds: a MIME type and bytes. Text is always UTF-8 under [`TEXT_MIME`], the
//! MIME type Selkies 2.x uses on the wire; X11 target names never leave the `x11` modules.

use bytes::Bytes;

/// MIME type of clipboard text (UTF-8). Selkies 2.x marks text with exactly this string.
pub const TEXT_MIME: &str = "text/plain";

/// MIME type of clipboard images: the one image type browsers may write (`ClipboardItem`).
pub const PNG_MIME: &str = "image/png";

/// The first eight bytes of every PNG file.
pub const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

/// One clipboard value.
///
/// ```
/// use selkies_rs::input::clipboard::Content;
/// let text = Content::text("grüße");
/// assert_eq!(text.as_text(), Some("grüße"));
/// assert_eq!(text.mime, "text/plain");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    /// MIME type: [`TEXT_MIME`] for text, otherwise what the source said (e.g. [`PNG_MIME`]).
    pub mime: String,
    /// The bytes; UTF-8 when [`Content::is_text`].
    pub data: Bytes,
}

impl Content {
    /// UTF-8 text.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            mime: TEXT_MIME.to_owned(),
            data: Bytes::from(text.into().into_bytes()),
        }
    }

    /// Any content; `mime` is kept as given.
    pub fn new(mime: impl Into<String>, data: impl Into<Bytes>) -> Self {
        Self {
            mime: mime.into(),
            data: data.into(),
        }
    }

    /// Whether this is text: the MIME type is `text/plain`, with or without parameters (a
    /// `charset` other than UTF-8 is not something any client sends).
    pub fn is_text(&self) -> bool {
        is_text_mime(&self.mime)
    }

    /// The text, when this is text and valid UTF-8.
    pub fn as_text(&self) -> Option<&str> {
        if self.is_text() {
            std::str::from_utf8(&self.data).ok()
        } else {
            None
        }
    }

    /// Whether the bytes start with the PNG signature.
    pub fn is_png(&self) -> bool {
        self.data.starts_with(&PNG_SIGNATURE)
    }

    /// Size in bytes.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// Whether `mime` names plain text (`text/plain`, any parameters, any case).
pub fn is_text_mime(mime: &str) -> bool {
    let essence = mime.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case(TEXT_MIME)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_binary() {
        assert!(Content::text("a").is_text());
        assert!(Content::new("text/plain;charset=utf-8", "a").is_text());
        assert!(Content::new("Text/Plain", "a").is_text());
        assert!(!Content::new("text/html", "a").is_text());
        assert!(!Content::new(PNG_MIME, vec![0xff]).is_text());
        assert_eq!(Content::new(TEXT_MIME, vec![0xff]).as_text(), None);
        let mut png = PNG_SIGNATURE.to_vec();
        png.push(0);
        assert!(Content::new(PNG_MIME, png).is_png());
        assert!(!Content::text("x").is_png());
        assert!(Content::text("").is_empty());
        assert_eq!(Content::text("日本").len(), 6);
    }
}
