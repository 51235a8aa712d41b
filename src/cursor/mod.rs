//! The X cursor, sent to viewers as an image so the browser draws it at the local pointer (no
//! waiting for video to see the pointer move).
//!
//! [`watch`] follows cursor changes with XFixes on its own X connection; [`image`] turns each
//! shape into the PNG and handle of Selkies' `cursor` message.

pub mod image;
pub mod message;
pub mod watch;

/// One cursor shape, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorShape {
    /// Content hash; clients cache shapes under it.
    pub handle: u32,
    pub width: u16,
    pub height: u16,
    /// Hotspot, from the image's top-left corner.
    pub xhot: u16,
    pub yhot: u16,
    /// The PNG, base64 (standard alphabet), as the `curdata` field carries it.
    pub png_base64: String,
}
