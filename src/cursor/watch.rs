//! A thread that waits for XFixes `DisplayCursorNotify` and publishes each new shape.
//!
//! A watch channel, not a broadcast: a viewer only ever needs the current shape, and one that
//! joins late gets it at once.

use std::sync::Arc;
use std::thread;

use base64::Engine as _;
use thiserror::Error;
use tokio::sync::watch;
use xcb::xfixes;

use super::image::{argb_to_rgba, encode_png, handle_of};
use super::CursorShape;

/// Largest cursor side we send. X allows 64 KiB; browsers ignore CSS cursors above 128 px.
const MAX_SIDE: u16 = 256;

/// Why the cursor cannot be followed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CursorError {
    #[error("cannot connect to X display {display:?} to follow the cursor: {source}")]
    Connect {
        display: String,
        source: xcb::ConnError,
    },
    #[error("X server has no XFIXES extension: the cursor is not sent to viewers")]
    NoXFixes,
    #[error("X request failed: {0}")]
    X(#[from] xcb::Error),
    #[error("X protocol error: {0:?}")]
    Protocol(#[from] xcb::ProtocolError),
    #[error("cannot start the cursor thread: {0}")]
    Thread(std::io::Error),
}

/// Follows the cursor of one X display.
#[derive(Clone)]
pub struct CursorWatcher {
    shapes: watch::Receiver<Option<Arc<CursorShape>>>,
}

impl CursorWatcher {
    /// Connects, reads the current cursor and starts following changes.
    ///
    /// # Errors
    /// When the display is unreachable or lacks XFIXES.
    pub fn start(display: &str) -> Result<Self, CursorError> {
        let (conn, screen_num) =
            xcb::Connection::connect_with_extensions(Some(display), &[xcb::Extension::XFixes], &[])
                .map_err(|source| match source {
                    xcb::ConnError::ClosedExtNotSupported => CursorError::NoXFixes,
                    source => CursorError::Connect {
                        display: display.to_owned(),
                        source,
                    },
                })?;
        // XFixes answers nothing before the client says which version it speaks.
        conn.wait_for_reply(conn.send_request(&xfixes::QueryVersion {
            client_major_version: 4,
            client_minor_version: 0,
        }))?;
        let root = crate::x11::screen_root(&conn, screen_num).ok_or(CursorError::Connect {
            display: display.to_owned(),
            source: xcb::ConnError::ClosedInvalidScreen,
        })?;
        conn.send_and_check_request(&xfixes::SelectCursorInput {
            window: root,
            event_mask: xfixes::CursorNotifyMask::DISPLAY_CURSOR,
        })?;
        let first = current_shape(&conn)?;
        let (tx, shapes) = watch::channel(first.map(Arc::new));
        thread::Builder::new()
            .name("cursor".into())
            .spawn(move || follow(&conn, &tx))
            .map_err(CursorError::Thread)?;
        Ok(CursorWatcher { shapes })
    }

    /// The current shape and every later change.
    pub fn subscribe(&self) -> watch::Receiver<Option<Arc<CursorShape>>> {
        self.shapes.clone()
    }
}

fn follow(conn: &xcb::Connection, tx: &watch::Sender<Option<Arc<CursorShape>>>) {
    loop {
        match conn.wait_for_event() {
            Ok(xcb::Event::XFixes(xfixes::Event::CursorNotify(_))) => {}
            Ok(_) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "cursor: X connection lost; cursor updates stop");
                return;
            }
        }
        match current_shape(conn) {
            Ok(Some(shape)) => {
                let new = tx
                    .borrow()
                    .as_ref()
                    .is_none_or(|old| old.handle != shape.handle);
                if new {
                    tracing::debug!(
                        handle = shape.handle,
                        width = shape.width,
                        height = shape.height,
                        "cursor changed"
                    );
                    tx.send_replace(Some(Arc::new(shape)));
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "cursor: cannot read the cursor image"),
        }
    }
}

/// The cursor now on screen; `None` for an empty or oversized one.
fn current_shape(conn: &xcb::Connection) -> Result<Option<CursorShape>, CursorError> {
    let img = conn.wait_for_reply(conn.send_request(&xfixes::GetCursorImage {}))?;
    let (w, h) = (img.width(), img.height());
    if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE {
        return Ok(None);
    }
    let pixels = img.cursor_image();
    if pixels.len() < usize::from(w) * usize::from(h) {
        return Ok(None);
    }
    let handle = handle_of(w, h, img.xhot(), img.yhot(), pixels);
    let png = match encode_png(w, h, &argb_to_rgba(pixels)) {
        Ok(png) => png,
        Err(e) => {
            tracing::warn!(error = %e, "cursor: PNG encoding failed");
            return Ok(None);
        }
    };
    Ok(Some(CursorShape {
        handle,
        width: w,
        height: h,
        xhot: img.xhot(),
        yhot: img.yhot(),
        png_base64: base64::engine::general_purpose::STANDARD.encode(png),
    }))
}
