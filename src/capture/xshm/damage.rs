//! What changed on screen since the last grab: XDamage on the root window, waited for on the X
//! socket, and fetched as a region so only the changed rows are grabbed and converted.

use super::{CaptureError, XshmCapture};
use crate::area::Area;
use xcb::{damage, x, xfixes, Xid};

/// Readiness of the X socket, for sleeping until damage arrives instead of until the next tick.
pub(super) struct Waiter {
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
        // Damage needs XFixes, so it is there; without regions every change is the whole screen.
        if self.xfixes().is_ok() {
            let region: xfixes::Region = self.conn.generate_id();
            self.conn.send_and_check_request(&xfixes::CreateRegion {
                region,
                rectangles: &[],
            })?;
            self.region = Some(region);
        }
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

    /// What changed on screen since the last call (the bounding box of the damage), `None`
    /// when nothing did (always the whole screen without damage tracking). Takes the damage
    /// before the caller grabs, so a change during the grab is reported next time, not lost.
    ///
    /// # Errors
    /// A broken connection.
    pub fn take_damage(&mut self) -> Result<Option<Area>, CaptureError> {
        let whole = Area::whole(self.width, self.height);
        let Some(id) = self.damage else {
            return Ok(Some(whole));
        };
        let damaged = self.read_damage()?;
        self.pending_damage = false;
        if !damaged {
            return Ok(None);
        }
        let Some(region) = self.region else {
            self.conn.send_request(&damage::Subtract {
                damage: id,
                repair: xfixes::Region::none(),
                parts: xfixes::Region::none(),
            });
            self.conn
                .flush()
                .map_err(|e| CaptureError::X(xcb::Error::Connection(e)))?;
            return Ok(Some(whole));
        };
        // Moves the damage into `region` in one step: a change after it is reported next time,
        // and one before it is in the region, so no change falls between the two.
        self.conn.send_request(&damage::Subtract {
            damage: id,
            repair: xfixes::Region::none(),
            parts: region,
        });
        let fetched = self
            .conn
            .wait_for_reply(self.conn.send_request(&xfixes::FetchRegion { region }))?;
        let e = fetched.extents();
        let span = |start: i16, len: u16, end: u32| {
            let start = i32::from(start);
            start.clamp(0, end as i32) as u32..(start + i32::from(len)).clamp(0, end as i32) as u32
        };
        let area = Area {
            x: span(e.x, e.width, self.width),
            y: span(e.y, e.height, self.height),
        };
        Ok((!area.is_empty()).then_some(area))
    }
}
