//! MIT-SHM capture of the X root window.
//!
//! The X server copies the root window's pixels straight into a shared-memory segment that this
//! process maps; [`XshmCapture::grab`] returns a borrow of that segment, so the converter reads
//! the pixels in place and nothing is copied on this side. From an Xvfb whose screen is a file
//! ([`XshmCapture::use_framebuffer`]), [`XshmCapture::read_area`] reads that file instead and
//! the server copies nothing either. This module owns the X connection used
//! for capture and must not do input injection (that has its own connection, so a slow grab never
//! delays a key press).

mod damage;
mod framebuffer;

pub use framebuffer::FramebufferError;

use crate::area::Area;
use damage::Waiter;
use selkies_shm::ShmSegment;
use thiserror::Error;
use xcb::{shm, x, xfixes, Xid};

use super::overlay::{blend, CursorImage};

/// Why capture could not start or a grab failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CaptureError {
    #[error("cannot connect to X display {display:?}: {source}")]
    Connect {
        display: String,
        source: xcb::ConnError,
    },
    #[error("X server has no MIT-SHM extension (start Xvfb with +extension MIT-SHM)")]
    NoShm,
    #[error(
        "unsupported X screen format: {0} (need a 24/32-bit TrueColor screen, 32 bits per pixel)"
    )]
    Format(String),
    #[error("X server has no XFIXES extension: the pointer cannot be drawn into the video")]
    NoXFixes,
    #[error("shared memory: {0}")]
    Shm(#[from] std::io::Error),
    #[error("waiting on the X connection: {0}")]
    Wait(std::io::Error),
    #[error("X request failed: {0}")]
    X(#[from] xcb::Error),
    #[error("X protocol error: {0:?}")]
    Protocol(#[from] xcb::ProtocolError),
}

/// A borrowed, captured frame: BGRx pixels, 4 bytes each, `stride` bytes per row.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    pub data: &'a [u8],
    pub width: u32,
    pub height: u32,
    pub stride: usize,
}

/// Grabs the root window of one X screen through MIT-SHM.
pub struct XshmCapture {
    conn: xcb::Connection,
    root: x::Window,
    width: u32,
    height: u32,
    segment: ShmSegment,
    seg_id: shm::Seg,
    /// XFixes version negotiated (done on the first pointer draw).
    xfixes_ready: bool,
    /// XDamage on the root window, once [`XshmCapture::track_damage`] turned it on.
    damage: Option<xcb::damage::Damage>,
    /// Where the damage is moved to when taken, to learn which rows changed (XFixes 2).
    region: Option<xfixes::Region>,
    /// Waits on the X socket for damage (made with the damage tracking).
    waiter: Option<Waiter>,
    /// A damage event already read (by [`XshmCapture::wait_damage`]) and not yet taken.
    pending_damage: bool,
    /// Nothing read yet: the first read takes the whole screen whatever it is asked for.
    fresh: bool,
    /// The segment no longer holds the screen outside the rows a grab takes (the framebuffer
    /// file was read instead, or the check used the segment): the next MIT-SHM grab takes the
    /// whole screen.
    segment_stale: bool,
    /// Where the segment changed (grabbed or drawn on) since [`XshmCapture::take_dirty`].
    dirty: Area,
    /// Where the pointer was last drawn: the next grab takes those rows again to erase it.
    pointer: Area,
    /// The display's number and our screen on it (`:N.S`), to recognise its framebuffer file.
    display_number: Option<u32>,
    screen: u32,
    /// Xvfb's framebuffer file, read in place instead of grabbed ([`XshmCapture::use_framebuffer`]).
    framebuffer: Option<framebuffer::Framebuffer>,
}

impl XshmCapture {
    /// Connects to `display` (or `$DISPLAY` when `None`) and attaches a segment sized for the
    /// whole root window.
    ///
    /// # Errors
    /// [`CaptureError`] when the display is unreachable, lacks MIT-SHM, or is not 32 bpp.
    pub fn open(display: Option<&str>) -> Result<Self, CaptureError> {
        let (conn, screen_num) = xcb::Connection::connect_with_extensions(
            display,
            &[xcb::Extension::Shm],
            &[xcb::Extension::XFixes, xcb::Extension::Damage],
        )
        .map_err(|source| CaptureError::Connect {
            display: display
                .map(str::to_owned)
                .unwrap_or_else(|| std::env::var("DISPLAY").unwrap_or_default()),
            source,
        })?;
        let setup = conn.get_setup();
        if setup.image_byte_order() != x::ImageOrder::LsbFirst {
            return Err(CaptureError::Format("MSB-first image byte order".into()));
        }
        let screen = setup
            .roots()
            .nth(usize::try_from(screen_num).unwrap_or(0))
            .ok_or_else(|| CaptureError::Format(format!("screen {screen_num} missing")))?;
        let depth = screen.root_depth();
        let bpp = setup
            .pixmap_formats()
            .iter()
            .find(|f| f.depth() == depth)
            .map(|f| f.bits_per_pixel());
        if !(depth == 24 || depth == 32) || bpp != Some(32) {
            return Err(CaptureError::Format(format!("depth {depth}, bpp {bpp:?}")));
        }
        let root = screen.root();
        let (width, height) = (
            u32::from(screen.width_in_pixels()),
            u32::from(screen.height_in_pixels()),
        );
        let segment = ShmSegment::new(width as usize * height as usize * 4)?;
        let mut capture = Self {
            conn,
            root,
            width,
            height,
            segment,
            seg_id: shm::Seg::none(),
            xfixes_ready: false,
            damage: None,
            region: None,
            waiter: None,
            pending_damage: false,
            fresh: true,
            segment_stale: true,
            dirty: Area::EMPTY,
            pointer: Area::EMPTY,
            display_number: display_number(
                &display
                    .map(str::to_owned)
                    .unwrap_or_else(|| std::env::var("DISPLAY").unwrap_or_default()),
            ),
            screen: u32::try_from(screen_num).unwrap_or(0),
            framebuffer: None,
        };
        capture.attach()?;
        Ok(capture)
    }

    fn attach(&mut self) -> Result<(), CaptureError> {
        let seg_id: shm::Seg = self.conn.generate_id();
        let cookie = self.conn.send_request_checked(&shm::Attach {
            shmseg: seg_id,
            shmid: self.segment.id(),
            read_only: false,
        });
        self.conn.check_request(cookie).map_err(|e| match e {
            xcb::ProtocolError::X(..) => CaptureError::NoShm,
            other => CaptureError::Protocol(other),
        })?;
        // The server has attached it now, so removal can no longer race with its shmat.
        self.segment.mark_removed();
        self.seg_id = seg_id;
        Ok(())
    }

    /// The size of the root window at open time.
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// Copies the current root window into the segment and returns it.
    ///
    /// # Errors
    /// [`CaptureError::X`] when the X server went away or refused the request (e.g. the screen
    /// shrank under us: reopen the capture).
    pub fn grab(&mut self) -> Result<Frame<'_>, CaptureError> {
        self.grab_area(Area::whole(self.width, self.height))
    }

    /// Copies the rows of `area` from the root window into the same rows of the segment, whole
    /// rows so that the X server writes them in place at the frame's stride; the other rows
    /// keep what the last grabs left. Also takes again the rows the pointer was drawn over. The
    /// first grab takes the whole screen.
    ///
    /// # Errors
    /// As [`XshmCapture::grab`].
    pub fn grab_area(&mut self, area: Area) -> Result<Frame<'_>, CaptureError> {
        let area = self.area_to_grab(area, self.segment_stale);
        if !area.is_empty() {
            let rows = &area.y;
            let cookie = self.conn.send_request(&shm::GetImage {
                drawable: x::Drawable::Window(self.root),
                x: 0,
                y: rows.start as i16,
                width: self.width as u16,
                height: (rows.end - rows.start) as u16,
                plane_mask: u32::MAX,
                format: x::ImageFormat::ZPixmap as u8,
                shmseg: self.seg_id,
                offset: rows.start * self.width * 4,
            });
            self.conn.wait_for_reply(cookie)?;
            self.fresh = false;
            self.segment_stale = false;
            self.dirty = self.dirty.union(&area);
        }
        Ok(self.frame())
    }

    /// Grabs `area` (as [`XshmCapture::grab_area`]), draws the pointer into it when `pointer`,
    /// and hands `read` the frame and the rows that changed in it since the last read (what was
    /// grabbed or drawn on). From a framebuffer file ([`XshmCapture::use_framebuffer`]) nothing
    /// is copied: `read` runs while the server is held, so keep it short (a conversion).
    ///
    /// # Errors
    /// As [`XshmCapture::grab`]. A pointer that cannot be drawn is left out (logged), not an error.
    pub fn read_area<T>(
        &mut self,
        area: Area,
        pointer: bool,
        read: impl FnOnce(Frame<'_>, &Area) -> T,
    ) -> Result<T, CaptureError> {
        if !pointer {
            if let Some(fb) = self.framebuffer.take() {
                let out = self.read_framebuffer(&fb, area, read);
                self.framebuffer = Some(fb);
                return out;
            }
        }
        self.grab_area(area)?;
        if pointer {
            if let Err(e) = self.draw_pointer() {
                tracing::debug!(error = %e, "pointer not drawn");
            }
        }
        let dirty = self.take_dirty();
        Ok(read(self.frame(), &dirty))
    }

    /// What a read asked for `area` must take: the whole screen the first time (and, with
    /// `whole`, this time), else `area` and the rows the pointer was last drawn over (to erase
    /// it), cut to the screen.
    fn area_to_grab(&mut self, area: Area, whole: bool) -> Area {
        if self.fresh || whole {
            Area::whole(self.width, self.height)
        } else {
            let pointer = std::mem::replace(&mut self.pointer, Area::EMPTY);
            area.union(&pointer).clamp(self.width, self.height)
        }
    }

    /// Where the segment changed (grabbed or drawn on) since the last call.
    pub fn take_dirty(&mut self) -> Area {
        std::mem::replace(&mut self.dirty, Area::EMPTY)
    }

    /// The segment as the last [`XshmCapture::grab`] left it.
    pub fn frame(&self) -> Frame<'_> {
        Frame {
            data: self.segment.as_slice(),
            width: self.width,
            height: self.height,
            stride: self.width as usize * 4,
        }
    }

    /// Draws the pointer into the last grabbed frame (XFixes cursor image at its position).
    ///
    /// # Errors
    /// [`CaptureError::NoXFixes`] on a server without XFIXES, or a failed request.
    pub fn draw_pointer(&mut self) -> Result<(), CaptureError> {
        self.xfixes()?;
        let img = self
            .conn
            .wait_for_reply(self.conn.send_request(&xfixes::GetCursorImage {}))?;
        let cursor = CursorImage {
            left: i32::from(img.x()) - i32::from(img.xhot()),
            top: i32::from(img.y()) - i32::from(img.yhot()),
            width: u32::from(img.width()),
            height: u32::from(img.height()),
            pixels: img.cursor_image(),
        };
        let span = |start: i32, len: u32, end: u32| {
            start.clamp(0, end as i32) as u32..(start + len as i32).clamp(0, end as i32) as u32
        };
        self.pointer = Area {
            x: span(cursor.left, cursor.width, self.width),
            y: span(cursor.top, cursor.height, self.height),
        };
        self.dirty = self.dirty.union(&self.pointer);
        let stride = self.width as usize * 4;
        blend(
            self.segment.as_mut_slice(),
            self.width,
            self.height,
            stride,
            &cursor,
        );
        Ok(())
    }

    /// Says which XFixes version we speak, once: XFixes answers nothing before that.
    ///
    /// # Errors
    /// [`CaptureError::NoXFixes`] on a server without XFIXES, or a failed request.
    fn xfixes(&mut self) -> Result<(), CaptureError> {
        if self.xfixes_ready {
            return Ok(());
        }
        if !self
            .conn
            .active_extensions()
            .any(|e| e == xcb::Extension::XFixes)
        {
            return Err(CaptureError::NoXFixes);
        }
        self.conn
            .wait_for_reply(self.conn.send_request(&xfixes::QueryVersion {
                client_major_version: 4,
                client_minor_version: 0,
            }))?;
        self.xfixes_ready = true;
        Ok(())
    }

    /// Whether the root window no longer has the size this capture was opened for (a RandR
    /// resize): the caller reopens the capture.
    pub fn size_changed(&self) -> Result<bool, CaptureError> {
        let cookie = self.conn.send_request(&x::GetGeometry {
            drawable: x::Drawable::Window(self.root),
        });
        let geo = self.conn.wait_for_reply(cookie)?;
        Ok(u32::from(geo.width()) != self.width || u32::from(geo.height()) != self.height)
    }
}

/// `N` of a display name `[host]:N[.S]`.
fn display_number(name: &str) -> Option<u32> {
    let (_, after) = name.rsplit_once(':')?;
    after.split('.').next()?.parse().ok()
}

impl Drop for XshmCapture {
    fn drop(&mut self) {
        if !self.seg_id.is_none() {
            // Best effort: the server detaches on disconnect anyway.
            let _ = self.conn.send_and_check_request(&shm::Detach {
                shmseg: self.seg_id,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_numbers_are_read_from_names() {
        assert_eq!(display_number(":7"), Some(7));
        assert_eq!(display_number("host:12.1"), Some(12));
        assert_eq!(display_number("unix:0.0"), Some(0));
        assert_eq!(display_number(""), None);
        assert_eq!(display_number("nonsense"), None);
    }
}
