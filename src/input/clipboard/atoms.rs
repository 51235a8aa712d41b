//! The X atoms the clipboard uses, interned once per connection.

use xcb::x;

/// Atom of our own property that receives converted selections.
const TRANSFER_NAME: &str = "_SELKIES_RS_CLIPBOARD";

/// Atom of the zero-length property we append to, to learn the server time (ICCCM §2.1: a
/// selection owner must use a real timestamp, never `CurrentTime`).
const STAMP_NAME: &str = "_SELKIES_RS_TIMESTAMP";

/// Interned atoms. `PRIMARY`, `STRING`, `ATOM` and `INTEGER` are predefined and not listed.
#[derive(Debug, Clone, Copy)]
pub(super) struct Atoms {
    pub clipboard: x::Atom,
    pub targets: x::Atom,
    pub multiple: x::Atom,
    pub timestamp: x::Atom,
    pub incr: x::Atom,
    pub atom_pair: x::Atom,
    pub utf8_string: x::Atom,
    pub text: x::Atom,
    pub text_plain_utf8: x::Atom,
    pub text_plain: x::Atom,
    pub image_png: x::Atom,
    pub transfer: x::Atom,
    pub stamp: x::Atom,
}

const NAMES: [&str; 13] = [
    "CLIPBOARD",
    "TARGETS",
    "MULTIPLE",
    "TIMESTAMP",
    "INCR",
    "ATOM_PAIR",
    "UTF8_STRING",
    "TEXT",
    "text/plain;charset=utf-8",
    "text/plain",
    "image/png",
    TRANSFER_NAME,
    STAMP_NAME,
];

impl Atoms {
    /// Interns every atom, pipelined: all requests go out before the first reply is awaited.
    pub fn intern(conn: &xcb::Connection) -> Result<Self, xcb::Error> {
        let cookies = NAMES.map(|name| {
            conn.send_request(&x::InternAtom {
                only_if_exists: false,
                name: name.as_bytes(),
            })
        });
        let mut atoms = [x::ATOM_NONE; NAMES.len()];
        for (atom, cookie) in atoms.iter_mut().zip(cookies) {
            *atom = conn.wait_for_reply(cookie)?.atom();
        }
        Ok(Self::from_array(atoms))
    }

    fn from_array(a: [x::Atom; NAMES.len()]) -> Self {
        let [clipboard, targets, multiple, timestamp, incr, atom_pair, utf8_string, text, text_plain_utf8, text_plain, image_png, transfer, stamp] =
            a;
        Self {
            clipboard,
            targets,
            multiple,
            timestamp,
            incr,
            atom_pair,
            utf8_string,
            text,
            text_plain_utf8,
            text_plain,
            image_png,
            transfer,
            stamp,
        }
    }

    /// Made-up atoms for tests of the pure conversion code: 100, 101, …
    #[cfg(test)]
    pub fn fake() -> Self {
        use xcb::XidNew as _;
        let mut a = [x::ATOM_NONE; NAMES.len()];
        for (i, atom) in a.iter_mut().enumerate() {
            *atom = x::Atom::new(100 + i as u32);
        }
        Self::from_array(a)
    }
}
