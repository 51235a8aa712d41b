//! Changing the X screen size through RandR when a viewer asks (`r,WxH`).
//!
//! The requested size is capped to what the server allows and rounded down to even sides (I420
//! needs them). A mode of that size is created when the output lacks one, then the screen and the
//! CRTC change in an order that keeps the CRTC inside the screen at every step. The capture
//! pipeline notices the new root size and follows with an IDR; viewers keep their connection.
//!
//! The connection stays open for the server's life: modes created by a client vanish on some
//! servers (Xvfb) when that client disconnects.

use std::sync::Mutex;

use thiserror::Error;
use xcb::{randr, x, Xid};

/// Screen DPI the physical size is derived from (X's default).
const DPI: f64 = 96.0;

/// Why a resize did not happen.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ResizeError {
    #[error("cannot connect to X display {display:?} for resizing: {source}")]
    Connect {
        display: String,
        source: xcb::ConnError,
    },
    #[error("X server has no RandR 1.2 or later")]
    NoRandr,
    #[error("no connected output with a CRTC to resize")]
    NoOutput,
    #[error("X request failed: {0}")]
    X(#[from] xcb::Error),
    #[error("X protocol error: {0:?}")]
    Protocol(#[from] xcb::ProtocolError),
    #[error("an earlier resize panicked")]
    Poisoned,
    #[error("RandR refused the configuration ({0:?})")]
    Refused(randr::SetConfig),
}

/// The size a request becomes: within `[min, max]` on each side, even.
pub fn fit(
    (w, h): (u32, u32),
    (min_w, min_h): (u16, u16),
    (max_w, max_h): (u16, u16),
) -> (u16, u16) {
    let side = |v: u32, lo: u16, hi: u16| -> u16 {
        let v = u16::try_from(v.min(u32::from(hi))).unwrap_or(hi).max(lo);
        let even = v & !1;
        if even < lo {
            v
        } else {
            even
        }
    };
    (side(w, min_w, max_w), side(h, min_h, max_h))
}

/// Resizes one X screen.
pub struct Resizer {
    conn: Mutex<xcb::Connection>,
    root: x::Window,
}

impl Resizer {
    /// Connects to `display`.
    ///
    /// # Errors
    /// When the display is unreachable or lacks RandR 1.2.
    pub fn open(display: &str) -> Result<Self, ResizeError> {
        let (conn, screen_num) =
            xcb::Connection::connect_with_extensions(Some(display), &[xcb::Extension::RandR], &[])
                .map_err(|source| match source {
                    xcb::ConnError::ClosedExtNotSupported => ResizeError::NoRandr,
                    source => ResizeError::Connect {
                        display: display.to_owned(),
                        source,
                    },
                })?;
        let version = conn.wait_for_reply(conn.send_request(&randr::QueryVersion {
            major_version: 1,
            minor_version: 5,
        }))?;
        if (version.major_version(), version.minor_version()) < (1, 2) {
            return Err(ResizeError::NoRandr);
        }
        let root = crate::x11::screen_root(&conn, screen_num).ok_or(ResizeError::NoOutput)?;
        Ok(Resizer {
            conn: Mutex::new(conn),
            root,
        })
    }

    /// Resizes the screen to about `width`x`height`; returns the size applied. Blocking: call it
    /// off the async runtime.
    ///
    /// # Errors
    /// When RandR refuses or the server has no output to resize.
    pub fn resize(&self, width: u32, height: u32) -> Result<(u16, u16), ResizeError> {
        let conn = self.conn.lock().map_err(|_| ResizeError::Poisoned)?;
        let conn = &*conn;
        let root = self.root;
        let range =
            conn.wait_for_reply(conn.send_request(&randr::GetScreenSizeRange { window: root }))?;
        let (w, h) = fit(
            (width, height),
            (range.min_width(), range.min_height()),
            (range.max_width(), range.max_height()),
        );
        let res = conn.wait_for_reply(
            conn.send_request(&randr::GetScreenResourcesCurrent { window: root }),
        )?;
        let config_ts = res.config_timestamp();
        let (output, info) = res
            .outputs()
            .iter()
            .find_map(|&o| {
                let info = conn
                    .wait_for_reply(conn.send_request(&randr::GetOutputInfo {
                        output: o,
                        config_timestamp: config_ts,
                    }))
                    .ok()?;
                (info.connection() == randr::Connection::Connected && !info.crtc().is_none())
                    .then_some((o, info))
            })
            .ok_or(ResizeError::NoOutput)?;
        let crtc = info.crtc();
        let geometry = conn.wait_for_reply(conn.send_request(&x::GetGeometry {
            drawable: x::Drawable::Window(root),
        }))?;
        let (cur_w, cur_h) = (geometry.width(), geometry.height());
        if (cur_w, cur_h) == (w, h) {
            return Ok((w, h));
        }

        let mode = match info.modes().iter().copied().find(|m| {
            res.modes()
                .iter()
                .any(|mi| mi.id == m.resource_id() && (mi.width, mi.height) == (w, h))
        }) {
            Some(mode) => mode,
            None => {
                let name = format!("{w}x{h}_selkies");
                let created = conn.wait_for_reply(conn.send_request(&randr::CreateMode {
                    window: root,
                    mode_info: mode_info(w, h, &name),
                    name: name.as_bytes(),
                }))?;
                conn.send_and_check_request(&randr::AddOutputMode {
                    output,
                    mode: created.mode(),
                })?;
                created.mode()
            }
        };

        // The CRTC must fit the screen at every step: grow the screen to cover both sizes, move
        // the CRTC, then shrink the screen to the new size.
        let (big_w, big_h) = (w.max(cur_w), h.max(cur_h));
        if (big_w, big_h) != (cur_w, cur_h) {
            self.set_screen_size(conn, big_w, big_h)?;
        }
        let crtc_info = conn.wait_for_reply(conn.send_request(&randr::GetCrtcInfo {
            crtc,
            config_timestamp: config_ts,
        }))?;
        let set = conn.wait_for_reply(conn.send_request(&randr::SetCrtcConfig {
            crtc,
            timestamp: crtc_info.timestamp(),
            config_timestamp: config_ts,
            x: 0,
            y: 0,
            mode,
            rotation: randr::Rotation::ROTATE_0,
            outputs: &[output],
        }))?;
        if set.status() != randr::SetConfig::Success {
            return Err(ResizeError::Refused(set.status()));
        }
        if (big_w, big_h) != (w, h) {
            self.set_screen_size(conn, w, h)?;
        }
        Ok((w, h))
    }

    fn set_screen_size(&self, conn: &xcb::Connection, w: u16, h: u16) -> Result<(), ResizeError> {
        let mm = |px: u16| (f64::from(px) * 25.4 / DPI).round() as u32;
        conn.send_and_check_request(&randr::SetScreenSize {
            window: self.root,
            width: w,
            height: h,
            mm_width: mm(w),
            mm_height: mm(h),
        })?;
        Ok(())
    }
}

/// A 60 Hz mode of `w`x`h` with plausible blanking (a virtual screen ignores the timings, but
/// clients compute refresh rates from them).
fn mode_info(w: u16, h: u16, name: &str) -> randr::ModeInfo {
    let htotal = w.saturating_add(160);
    let vtotal = h.saturating_add(30);
    randr::ModeInfo {
        id: 0,
        width: w,
        height: h,
        dot_clock: u32::from(htotal) * u32::from(vtotal) * 60,
        hsync_start: w.saturating_add(48),
        hsync_end: w.saturating_add(80),
        htotal,
        hskew: 0,
        vsync_start: h.saturating_add(3),
        vsync_end: h.saturating_add(8),
        vtotal,
        name_len: u16::try_from(name.len()).unwrap_or(0),
        mode_flags: randr::ModeFlag::HSYNC_POSITIVE | randr::ModeFlag::VSYNC_NEGATIVE,
    }
}

#[cfg(test)]
mod tests {
    use super::fit;

    #[test]
    fn sizes_are_capped_and_even() {
        let (min, max) = ((320, 200), (3840, 2160));
        assert_eq!(fit((1280, 720), min, max), (1280, 720));
        assert_eq!(fit((1281, 721), min, max), (1280, 720));
        assert_eq!(fit((9000, 9000), min, max), (3840, 2160));
        assert_eq!(fit((10, 10), min, max), (320, 200));
        assert_eq!(fit((1000, 700), (1, 1), (999, 699)), (998, 698));
        assert_eq!(fit((5, 5), (1, 1), (1, 1)), (1, 1));
    }
}
