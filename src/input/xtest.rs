//! The X connection input is injected through: XTEST fake key, button and motion events, plus the
//! keyboard map they are resolved against.
//!
//! It has its own connection, apart from capture's, so a slow grab never delays a key press. The
//! requests are unchecked and flushed by the caller once per message: one `write` per verb.

use xcb::{x, xtest, Xid};

use super::error::InputError;
use super::keyboard::KeySink;
use super::keymap::Keymap;

/// Core event codes XTEST fakes.
const KEY_PRESS: u8 = 2;
const KEY_RELEASE: u8 = 3;
const BUTTON_PRESS: u8 = 4;
const BUTTON_RELEASE: u8 = 5;
const MOTION_NOTIFY: u8 = 6;

/// An XTEST connection to one X screen.
pub struct XTest {
    conn: xcb::Connection,
    root: x::Window,
}

impl XTest {
    /// Connects to `display` (or `$DISPLAY`).
    ///
    /// # Errors
    /// When the display is unreachable or lacks XTEST.
    pub fn open(display: Option<&str>) -> Result<Self, InputError> {
        let (conn, screen_num) =
            xcb::Connection::connect_with_extensions(display, &[xcb::Extension::Test], &[])
                .map_err(|source| match source {
                    xcb::ConnError::ClosedExtNotSupported => InputError::NoXTest,
                    source => InputError::Connect {
                        display: display
                            .map(str::to_owned)
                            .unwrap_or_else(|| std::env::var("DISPLAY").unwrap_or_default()),
                        source,
                    },
                })?;
        let root = crate::x11::screen_root(&conn, screen_num).ok_or(InputError::Connect {
            display: display.unwrap_or_default().to_owned(),
            source: xcb::ConnError::ClosedInvalidScreen,
        })?;
        Ok(XTest { conn, root })
    }

    /// Reads the server's current keyboard and modifier maps.
    ///
    /// # Errors
    /// When a request fails.
    pub fn keymap(&self) -> Result<Keymap, InputError> {
        let setup = self.conn.get_setup();
        let (min, max) = (setup.min_keycode(), setup.max_keycode());
        let keys = self.conn.send_request(&x::GetKeyboardMapping {
            first_keycode: min,
            count: max.saturating_sub(min).saturating_add(1),
        });
        let mods = self.conn.send_request(&x::GetModifierMapping {});
        let keys = self.conn.wait_for_reply(keys)?;
        let mods = self.conn.wait_for_reply(mods)?;
        Ok(Keymap::new(
            min,
            keys.keysyms_per_keycode(),
            keys.keysyms().to_vec(),
            mods.keycodes_per_modifier(),
            mods.keycodes(),
        ))
    }

    /// Whether the keyboard map changed since the last call (another client ran `setxkbmap`, or we
    /// remapped a spare). Drains the connection's events, which are only ever `MappingNotify`.
    ///
    /// # Errors
    /// When the connection broke.
    pub fn keymap_changed(&self) -> Result<bool, InputError> {
        let mut changed = false;
        while let Some(event) = self.conn.poll_for_event()? {
            if let xcb::Event::X(x::Event::MappingNotify(n)) = event {
                changed |= n.request() != x::Mapping::Pointer;
            }
        }
        Ok(changed)
    }

    fn fake(&self, kind: u8, detail: u8, x: i16, y: i16) {
        self.conn.send_request(&xtest::FakeInput {
            r#type: kind,
            detail,
            time: x::CURRENT_TIME,
            root: if kind == MOTION_NOTIFY {
                self.root
            } else {
                x::Window::none()
            },
            root_x: x,
            root_y: y,
            deviceid: 0,
        });
    }

    /// Presses or releases pointer button `button` (1 left, 2 middle, 3 right, 4/5 wheel, ...).
    pub fn button(&self, button: u8, down: bool) {
        let kind = if down { BUTTON_PRESS } else { BUTTON_RELEASE };
        self.fake(kind, button, 0, 0);
    }

    /// Moves the pointer to `(x, y)` on the root window; the server confines it to the screen.
    pub fn move_to(&self, x: i32, y: i32) {
        self.fake(MOTION_NOTIFY, 0, clamp_i16(x), clamp_i16(y));
    }

    /// Moves the pointer by `(dx, dy)` (pointer lock).
    pub fn move_by(&self, dx: i32, dy: i32) {
        self.fake(MOTION_NOTIFY, 1, clamp_i16(dx), clamp_i16(dy));
    }

    /// Sends everything queued.
    ///
    /// # Errors
    /// When the connection broke.
    pub fn flush(&self) -> Result<(), InputError> {
        Ok(self.conn.flush()?)
    }

    /// Where the pointer is, for tests and the cursor overlay.
    ///
    /// # Errors
    /// When the request fails.
    pub fn pointer(&self) -> Result<(i16, i16), InputError> {
        let reply = self.conn.wait_for_reply(
            self.conn
                .send_request(&x::QueryPointer { window: self.root }),
        )?;
        Ok((reply.root_x(), reply.root_y()))
    }
}

fn clamp_i16(v: i32) -> i16 {
    i16::try_from(v.clamp(i32::from(i16::MIN), i32::from(i16::MAX))).unwrap_or_default()
}

impl KeySink for XTest {
    fn modifier_state(&mut self) -> Result<u16, InputError> {
        let reply = self.conn.wait_for_reply(
            self.conn
                .send_request(&x::QueryPointer { window: self.root }),
        )?;
        // The low 8 bits are the modifiers; button bits above are not ours to fix up.
        Ok((reply.mask().bits() & 0xff) as u16)
    }

    fn key(&mut self, keycode: u8, down: bool) -> Result<(), InputError> {
        self.fake(if down { KEY_PRESS } else { KEY_RELEASE }, keycode, 0, 0);
        Ok(())
    }

    fn remap(&mut self, keycode: u8, keysym: u32) -> Result<(), InputError> {
        // Both core levels carry the keysym, so Shift held by the client cannot change it; XKB
        // servers turn this into a one-group key of a fitting type.
        let syms = [keysym, keysym];
        self.conn
            .send_and_check_request(&x::ChangeKeyboardMapping {
                keycode_count: 1,
                first_keycode: keycode,
                keysyms_per_keycode: 2,
                keysyms: &syms,
            })?;
        Ok(())
    }
}
