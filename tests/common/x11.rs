//! A plain X client for tests: the root window, pointer warps, and what XFixes says the cursor
//! is. Independent of the code under test, so it can serve as the ground truth.

use anyhow::{Context, Result};
use xcb::{x, xfixes, Xid};

/// A connection to one display and its root window.
pub struct XClient {
    pub conn: xcb::Connection,
    pub root: x::Window,
}

impl XClient {
    /// Connects to `display`; `extensions` must be present.
    pub fn connect(display: &str, extensions: &[xcb::Extension]) -> Result<Self> {
        let (conn, screen) =
            xcb::Connection::connect_with_extensions(Some(display), extensions, &[])
                .with_context(|| format!("connect to X display {display}"))?;
        let root = selkies_rs::x11::screen_root(&conn, screen)
            .with_context(|| format!("display {display} has no screen {screen}"))?;
        Ok(XClient { conn, root })
    }

    /// The root window's size.
    pub fn root_size(&self) -> Result<(u16, u16)> {
        let geo = self
            .conn
            .wait_for_reply(self.conn.send_request(&x::GetGeometry {
                drawable: x::Drawable::Window(self.root),
            }))?;
        Ok((geo.width(), geo.height()))
    }

    /// Moves the pointer to `(x, y)` on the root window.
    pub fn warp_pointer(&self, x: i16, y: i16) -> Result<()> {
        self.conn.send_and_check_request(&x::WarpPointer {
            src_window: x::Window::none(),
            dst_window: self.root,
            src_x: 0,
            src_y: 0,
            src_width: 0,
            src_height: 0,
            dst_x: x,
            dst_y: y,
        })?;
        Ok(())
    }

    /// The cursor now on screen, as XFixes reports it (connect with the XFixes extension).
    pub fn cursor_image(&self) -> Result<xfixes::GetCursorImageReply> {
        self.conn
            .wait_for_reply(self.conn.send_request(&xfixes::QueryVersion {
                client_major_version: 4,
                client_minor_version: 0,
            }))?;
        Ok(self
            .conn
            .wait_for_reply(self.conn.send_request(&xfixes::GetCursorImage {}))?)
    }
}
