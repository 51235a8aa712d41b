//! MIT-SHM capture of the X root window.
//!
//! The X server copies the root window's pixels straight into a shared-memory segment that this
//! process maps; [`XshmCapture::grab`] returns a borrow of that segment, so the converter reads
//! the pixels in place and nothing is copied on this side. This module owns the X connection used
//! for capture and must not do input injection (that has its own connection, so a slow grab never
//! delays a key press).

use selkies_shm::ShmSegment;
use thiserror::Error;
use xcb::{damage, shm, x, xfixes, Xid};

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
    damage: Option<damage::Damage>,
    /// Waits on the X socket for damage (made with the damage tracking).
    waiter: Option<Waiter>,
    /// A damage event already read (by [`XshmCapture::wait_damage`]) and not yet taken.
    pending_damage: bool,
}

/// Readiness of the X socket, for sleeping until damage arrives instead of until the next tick.
struct Waiter {
    poll: mio::Poll,
    events: mio::Events,
}

impl Waiter {
    fn new(conn: &xcb::Connection) -> std::io::Result<Self> {
        use std::os::fd::AsRawFd;
        let poll = mio::Poll::new()?;
        let fd = conn.as_raw_fd();
        poll.registry().register(
            &mut mio::unix::SourceFd(&fd),
            mio::Token(0),
            mio::Interest::READABLE,
        )?;
        Ok(Self {
            poll,
            events: mio::Events::with_capacity(2),
        })
    }
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
            waiter: None,
            pending_damage: false,
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
        let cookie = self.conn.send_request(&shm::GetImage {
            drawable: x::Drawable::Window(self.root),
            x: 0,
            y: 0,
            width: self.width as u16,
            height: self.height as u16,
            plane_mask: u32::MAX,
            format: x::ImageFormat::ZPixmap as u8,
            shmseg: self.seg_id,
            offset: 0,
        });
        self.conn.wait_for_reply(cookie)?;
        Ok(self.frame())
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

    /// Starts tracking changes of the screen with XDamage; `false` when the server has no DAMAGE
    /// (then [`XshmCapture::take_damage`] always answers `true`).
    ///
    /// # Errors
    /// A failed request.
    pub fn track_damage(&mut self) -> Result<bool, CaptureError> {
        if self.damage.is_some() {
            return Ok(true);
        }
        if !self
            .conn
            .active_extensions()
            .any(|e| e == xcb::Extension::Damage)
        {
            return Ok(false);
        }
        self.conn
            .wait_for_reply(self.conn.send_request(&damage::QueryVersion {
                client_major_version: 1,
                client_minor_version: 1,
            }))?;
        let id: damage::Damage = self.conn.generate_id();
        // NonEmpty: one event when the screen goes from unchanged to changed, re-armed by the
        // subtract in `take_damage`; no per-rectangle event flood during full-screen motion.
        self.conn.send_and_check_request(&damage::Create {
            damage: id,
            drawable: x::Drawable::Window(self.root),
            level: damage::ReportLevel::NonEmpty,
        })?;
        self.damage = Some(id);
        self.waiter = Waiter::new(&self.conn)
            .map_err(|e| tracing::debug!(error = %e, "no socket wait; damage is polled per tick"))
            .ok();
        Ok(true)
    }

    /// Sleeps until the screen changes or `timeout` passes; `true` when it changed. The change
    /// stays for [`XshmCapture::take_damage`] to report. Without damage tracking (or a socket
    /// wait), just sleeps and answers `false`, so the caller keeps to its frame clock.
    ///
    /// # Errors
    /// A broken connection.
    pub fn wait_damage(&mut self, timeout: std::time::Duration) -> Result<bool, CaptureError> {
        let deadline = std::time::Instant::now() + timeout;
        if self.damage.is_none() || self.waiter.is_none() {
            std::thread::sleep(timeout);
            return Ok(false);
        }
        loop {
            if self.read_damage()? {
                return Ok(true);
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Ok(false);
            }
            let Some(w) = self.waiter.as_mut() else {
                return Ok(false);
            };
            // Edge-triggered: `read_damage` just read the socket dry, so new bytes wake us.
            if let Err(e) = w.poll.poll(&mut w.events, Some(left)) {
                if e.kind() != std::io::ErrorKind::Interrupted {
                    return Err(CaptureError::Wait(e));
                }
            }
        }
    }

    /// Reads what the X server sent (xcb's queue first: a reply read may have queued events
    /// behind it, and the socket then looks idle); `true` when damage is pending.
    fn read_damage(&mut self) -> Result<bool, CaptureError> {
        while let Some(event) = self.conn.poll_for_queued_event()? {
            self.pending_damage |= matches!(event, xcb::Event::Damage(damage::Event::Notify(_)));
        }
        while let Some(event) = self.conn.poll_for_event()? {
            self.pending_damage |= matches!(event, xcb::Event::Damage(damage::Event::Notify(_)));
        }
        Ok(self.pending_damage)
    }

    /// Whether anything on screen changed since the last call (always `true` without damage
    /// tracking). Clears the damage before the caller grabs, so a change during the grab is
    /// reported next time rather than lost.
    ///
    /// # Errors
    /// A broken connection.
    pub fn take_damage(&mut self) -> Result<bool, CaptureError> {
        let Some(id) = self.damage else {
            return Ok(true);
        };
        let damaged = self.read_damage()?;
        self.pending_damage = false;
        if damaged {
            self.conn.send_request(&damage::Subtract {
                damage: id,
                repair: xfixes::Region::none(),
                parts: xfixes::Region::none(),
            });
            self.conn
                .flush()
                .map_err(|e| CaptureError::X(xcb::Error::Connection(e)))?;
        }
        Ok(damaged)
    }

    /// Draws the pointer into the last grabbed frame (XFixes cursor image at its position).
    ///
    /// # Errors
    /// [`CaptureError::NoXFixes`] on a server without XFIXES, or a failed request.
    pub fn draw_pointer(&mut self) -> Result<(), CaptureError> {
        if !self.xfixes_ready {
            if !self
                .conn
                .active_extensions()
                .any(|e| e == xcb::Extension::XFixes)
            {
                return Err(CaptureError::NoXFixes);
            }
            // XFixes answers nothing before the client says which version it speaks.
            self.conn
                .wait_for_reply(self.conn.send_request(&xfixes::QueryVersion {
                    client_major_version: 4,
                    client_minor_version: 0,
                }))?;
            self.xfixes_ready = true;
        }
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
