//! The clipboard's own X connection and its unmapped window, with the few property and event
//! helpers the owner and reader share. Requests here are unchecked: their errors (a requestor's
//! window destroyed under us, typically) arrive in the event loop, which logs and ignores them.

use xcb::{x, xfixes};

use super::atoms::Atoms;
use super::ClipboardError;

/// Largest property write, in bytes, before INCR is used. Smaller than the server's maximum
/// request (16 MiB with BIG-REQUESTS) on purpose: one huge `ChangeProperty` stalls the X server
/// for every client, and requestors handle INCR anyway.
pub(super) const MAX_CHUNK: usize = 256 * 1024;

/// Room left in a request for the `ChangeProperty` header.
const REQUEST_HEADER: usize = 64;

/// A property value as read back.
#[derive(Debug)]
pub(super) struct Prop {
    pub r#type: x::Atom,
    pub format: u8,
    /// Format 8 and 16 values, as bytes.
    pub bytes: Vec<u8>,
    /// Format 32 values.
    pub words: Vec<u32>,
}

impl Prop {
    /// The size of the value in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len() + self.words.len() * 4
    }

    /// Format 32 values as atoms (for `TARGETS` and `ATOM_PAIR` lists).
    pub fn atoms(&self) -> Vec<x::Atom> {
        use xcb::XidNew as _;
        self.words.iter().map(|&w| x::Atom::new(w)).collect()
    }
}

/// Why a property could not be read.
#[derive(Debug, thiserror::Error)]
pub(super) enum ReadError {
    #[error("property too large ({len} bytes, limit {limit})")]
    TooLarge { len: usize, limit: usize },
    #[error("X request failed: {0}")]
    X(#[from] xcb::Error),
}

/// The connection, the window that owns and receives selections, and the atoms.
pub(super) struct Xc {
    pub conn: xcb::Connection,
    pub root: x::Window,
    pub window: x::Window,
    pub atoms: Atoms,
    /// Whether XFIXES selection events are available (needed to see other owners come and go).
    pub xfixes: bool,
    /// Largest single property write in bytes; larger values go by INCR.
    pub chunk: usize,
}

impl Xc {
    /// Connects to `display`, checks XFIXES, creates the window and interns the atoms.
    pub fn connect(display: &str) -> Result<Self, ClipboardError> {
        let (conn, screen_num) =
            xcb::Connection::connect_with_extensions(Some(display), &[], &[xcb::Extension::XFixes])
                .map_err(|source| ClipboardError::Connect {
                    display: display.to_owned(),
                    source,
                })?;
        let root = crate::x11::screen_root(&conn, screen_num)
            .ok_or(ClipboardError::NoScreen(screen_num))?;
        // XFIXES must be told which version we speak before any other request of it.
        let xfixes = conn
            .active_extensions()
            .any(|e| e == xcb::Extension::XFixes)
            && conn
                .wait_for_reply(conn.send_request(&xfixes::QueryVersion {
                    client_major_version: 5,
                    client_minor_version: 0,
                }))
                .is_ok();
        let window: x::Window = conn.generate_id();
        conn.send_and_check_request(&x::CreateWindow {
            depth: x::COPY_FROM_PARENT as u8,
            wid: window,
            parent: root,
            x: -10,
            y: -10,
            width: 1,
            height: 1,
            border_width: 0,
            class: x::WindowClass::InputOnly,
            visual: x::COPY_FROM_PARENT,
            value_list: &[x::Cw::EventMask(x::EventMask::PROPERTY_CHANGE)],
        })?;
        let name = b"selkies-rs clipboard";
        conn.send_request(&x::ChangeProperty {
            mode: x::PropMode::Replace,
            window,
            property: x::ATOM_WM_NAME,
            r#type: x::ATOM_STRING,
            data: &name[..],
        });
        let atoms = Atoms::intern(&conn)?;
        let max_request = usize::try_from(conn.get_maximum_request_length())
            .unwrap_or(usize::MAX)
            .saturating_mul(4);
        let chunk = MAX_CHUNK
            .min(max_request.saturating_sub(REQUEST_HEADER))
            .max(1024);
        Ok(Self {
            conn,
            root,
            window,
            atoms,
            xfixes,
            chunk,
        })
    }

    /// Interns an atom for a MIME type the fixed set lacks.
    pub fn intern(&self, name: &str) -> Result<x::Atom, xcb::Error> {
        let cookie = self.conn.send_request(&x::InternAtom {
            only_if_exists: false,
            name: name.as_bytes(),
        });
        Ok(self.conn.wait_for_reply(cookie)?.atom())
    }

    pub fn write8(&self, window: x::Window, property: x::Atom, r#type: x::Atom, data: &[u8]) {
        self.conn.send_request(&x::ChangeProperty {
            mode: x::PropMode::Replace,
            window,
            property,
            r#type,
            data,
        });
    }

    pub fn write32(&self, window: x::Window, property: x::Atom, r#type: x::Atom, data: &[u32]) {
        self.conn.send_request(&x::ChangeProperty {
            mode: x::PropMode::Replace,
            window,
            property,
            r#type,
            data,
        });
    }

    pub fn delete(&self, window: x::Window, property: x::Atom) {
        self.conn
            .send_request(&x::DeleteProperty { window, property });
    }

    /// Tells `requestor` its conversion is done (`property`) or refused (`ATOM_NONE`).
    pub fn notify(
        &self,
        requestor: x::Window,
        selection: x::Atom,
        target: x::Atom,
        property: x::Atom,
        time: x::Timestamp,
    ) {
        let event = x::SelectionNotifyEvent::new(time, requestor, selection, target, property);
        self.conn.send_request(&x::SendEvent {
            propagate: false,
            destination: x::SendEventDest::Window(requestor),
            event_mask: x::EventMask::NO_EVENT,
            event: &event,
        });
    }

    /// Sets the events this connection receives from another client's window.
    pub fn select(&self, window: x::Window, mask: x::EventMask) {
        self.conn.send_request(&x::ChangeWindowAttributes {
            window,
            value_list: &[x::Cw::EventMask(mask)],
        });
    }

    /// Reads a whole property, deleting it when `delete` (which, for a transfer, tells the owner
    /// we have it). `Ok(None)` when the property does not exist. A value above `limit` bytes is
    /// not transferred at all: the size is probed first.
    pub fn read(
        &self,
        window: x::Window,
        property: x::Atom,
        delete: bool,
        limit: usize,
    ) -> Result<Option<Prop>, ReadError> {
        let probe = self.get(window, property, false, 0, 0)?;
        if probe.r#type() == x::ATOM_NONE {
            return Ok(None);
        }
        let size = usize::try_from(probe.bytes_after()).unwrap_or(usize::MAX);
        if size > limit {
            if delete {
                self.delete(window, property);
            }
            return Err(ReadError::TooLarge { len: size, limit });
        }
        let mut prop = Prop {
            r#type: probe.r#type(),
            format: probe.format(),
            bytes: Vec::new(),
            words: Vec::new(),
        };
        // One read normally suffices; the loop only matters if the value grows meanwhile.
        loop {
            let offset = u32::try_from(prop.len() / 4).unwrap_or(u32::MAX);
            let want =
                u32::try_from(limit.saturating_sub(prop.len()).div_ceil(4) + 1).unwrap_or(u32::MAX);
            let reply = self.get(window, property, delete, offset, want)?;
            match reply.format() {
                8 => prop.bytes.extend_from_slice(reply.value::<u8>()),
                16 => prop
                    .bytes
                    .extend(reply.value::<u16>().iter().flat_map(|v| v.to_ne_bytes())),
                32 => prop.words.extend_from_slice(reply.value::<u32>()),
                _ => {}
            }
            if prop.len() > limit {
                if delete {
                    self.delete(window, property);
                }
                return Err(ReadError::TooLarge {
                    len: prop.len(),
                    limit,
                });
            }
            if reply.bytes_after() == 0 || reply.value_len_bytes() == 0 {
                return Ok(Some(prop));
            }
        }
    }

    fn get(
        &self,
        window: x::Window,
        property: x::Atom,
        delete: bool,
        long_offset: u32,
        long_length: u32,
    ) -> Result<x::GetPropertyReply, xcb::Error> {
        let cookie = self.conn.send_request(&x::GetProperty {
            delete,
            window,
            property,
            r#type: x::GETPROPERTYTYPE_ANY,
            long_offset,
            long_length,
        });
        self.conn.wait_for_reply(cookie)
    }

    /// The current owner of `selection` (`Window::none()` when unowned).
    pub fn owner_of(&self, selection: x::Atom) -> Result<x::Window, xcb::Error> {
        let cookie = self.conn.send_request(&x::GetSelectionOwner { selection });
        Ok(self.conn.wait_for_reply(cookie)?.owner())
    }
}

/// Length helpers the generated reply type lacks.
trait ValueLen {
    fn value_len_bytes(&self) -> usize;
}

impl ValueLen for x::GetPropertyReply {
    fn value_len_bytes(&self) -> usize {
        match self.format() {
            8 => self.value::<u8>().len(),
            16 => self.value::<u16>().len() * 2,
            32 => self.value::<u32>().len() * 4,
            _ => 0,
        }
    }
}
