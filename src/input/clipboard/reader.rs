//! Reading CLIPBOARD when another client owns it: ask for `TARGETS`, pick `image/png` (when
//! binary content is allowed and offered) or the best text target, convert, and read the result,
//! by INCR when the owner chooses it. Every step has a deadline, so a dead owner never wedges the
//! reader, and the size limit holds before any large value is transferred.
//!
//! Target choice and decoding ([`choose`], [`decode`]) are pure.

use std::time::Instant;

use xcb::x;

use super::atoms::Atoms;
use super::content::{Content, PNG_MIME, TEXT_MIME};
use super::incr::{Receive, TIMEOUT};
use super::xconn::{Prop, ReadError, Xc};

/// Largest `TARGETS` list read (a few hundred atoms in practice).
const MAX_TARGETS_BYTES: usize = 64 * 1024;

/// The targets to try, in order, among those offered.
pub(super) fn choose(atoms: &Atoms, offered: &[x::Atom], binary: bool) -> Vec<x::Atom> {
    let mut preference = Vec::with_capacity(6);
    if binary {
        preference.push(atoms.image_png);
    }
    preference.extend([
        atoms.utf8_string,
        atoms.text_plain_utf8,
        x::ATOM_STRING,
        atoms.text_plain,
        atoms.text,
    ]);
    preference.retain(|t| offered.contains(t));
    preference
}

/// Targets tried when the owner does not answer `TARGETS` (pre-ICCCM 2 clients): text only.
fn fallback(atoms: &Atoms) -> Vec<x::Atom> {
    vec![atoms.utf8_string, x::ATOM_STRING]
}

/// The content of a converted `target` whose property had type `type_`; `None` when empty.
pub(super) fn decode(
    atoms: &Atoms,
    target: x::Atom,
    r#type: x::Atom,
    bytes: Vec<u8>,
) -> Option<Content> {
    if bytes.is_empty() {
        return None;
    }
    if target == atoms.image_png {
        return Some(Content::new(PNG_MIME, bytes));
    }
    let text = if r#type == x::ATOM_STRING {
        bytes.iter().map(|&b| char::from(b)).collect()
    } else {
        // UTF8_STRING, text/plain;charset=utf-8, and the unlabelled rest: UTF-8 is the only
        // sensible guess, and invalid sequences must not cost the whole text.
        match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
    };
    Some(Content::new(TEXT_MIME, text.into_bytes()))
}

#[derive(Debug)]
enum State {
    Idle,
    /// A `ConvertSelection` is out for `target`; `rest` are the targets to try after it.
    Converting {
        target: x::Atom,
        time: x::Timestamp,
        rest: Vec<x::Atom>,
        deadline: Instant,
    },
    /// An INCR transfer of `target` is coming in.
    Incr {
        target: x::Atom,
        r#type: x::Atom,
        buf: Receive,
        deadline: Instant,
    },
}

/// What a step of the reader produced.
#[derive(Debug)]
pub(super) enum Outcome {
    /// Nothing yet (or a step was ignored).
    Pending,
    /// The owner's content, complete.
    Content(Content),
    /// The read ended without content (refused, empty, too large, timed out).
    Nothing,
}

/// The reader half of the clipboard thread.
pub(super) struct Reader {
    state: State,
    limit: usize,
    binary: bool,
}

impl Reader {
    pub fn new(limit: usize, binary: bool) -> Self {
        Self {
            state: State::Idle,
            limit,
            binary,
        }
    }

    /// A new owner took CLIPBOARD at `time`: start over with `TARGETS`.
    pub fn start(&mut self, xc: &Xc, time: x::Timestamp, now: Instant) {
        xc.delete(xc.window, xc.atoms.transfer);
        self.convert(xc, xc.atoms.targets, time, fallback(&xc.atoms), now);
    }

    /// Abandons the read in progress.
    pub fn cancel(&mut self) {
        self.state = State::Idle;
    }

    /// When the current step times out.
    pub fn deadline(&self) -> Option<Instant> {
        match &self.state {
            State::Idle => None,
            State::Converting { deadline, .. } | State::Incr { deadline, .. } => Some(*deadline),
        }
    }

    /// Gives up on a step past its deadline.
    pub fn expire(&mut self, now: Instant) -> Outcome {
        if self.deadline().is_some_and(|d| d <= now) {
            tracing::info!("clipboard: the X clipboard owner did not answer in time; read dropped");
            self.state = State::Idle;
            return Outcome::Nothing;
        }
        Outcome::Pending
    }

    fn convert(
        &mut self,
        xc: &Xc,
        target: x::Atom,
        time: x::Timestamp,
        rest: Vec<x::Atom>,
        now: Instant,
    ) {
        xc.conn.send_request(&x::ConvertSelection {
            requestor: xc.window,
            selection: xc.atoms.clipboard,
            target,
            property: xc.atoms.transfer,
            time,
        });
        self.state = State::Converting {
            target,
            time,
            rest,
            deadline: now + TIMEOUT,
        };
    }

    /// Tries the next target after a failure, or ends the read.
    fn next(
        &mut self,
        xc: &Xc,
        time: x::Timestamp,
        mut rest: Vec<x::Atom>,
        now: Instant,
    ) -> Outcome {
        if rest.is_empty() {
            self.state = State::Idle;
            return Outcome::Nothing;
        }
        let target = rest.remove(0);
        self.convert(xc, target, time, rest, now);
        Outcome::Pending
    }

    /// The owner answered a `ConvertSelection`.
    pub fn on_notify(&mut self, xc: &Xc, ev: &x::SelectionNotifyEvent, now: Instant) -> Outcome {
        let State::Converting { target, time, .. } = &self.state else {
            return Outcome::Pending;
        };
        let (target, time) = (*target, *time);
        if ev.requestor() != xc.window
            || ev.selection() != xc.atoms.clipboard
            || ev.target() != target
        {
            return Outcome::Pending;
        }
        let State::Converting { rest, .. } = std::mem::replace(&mut self.state, State::Idle) else {
            return Outcome::Pending;
        };
        if ev.property() == x::ATOM_NONE {
            return self.next(xc, time, rest, now);
        }
        let limit = if target == xc.atoms.targets {
            MAX_TARGETS_BYTES
        } else {
            self.limit
        };
        let prop = match xc.read(xc.window, ev.property(), true, limit) {
            Ok(Some(prop)) => prop,
            Ok(None) => return self.next(xc, time, rest, now),
            Err(ReadError::TooLarge { len, limit }) => {
                tracing::warn!(
                    bytes = len,
                    limit,
                    "clipboard: X clipboard content too large; dropped"
                );
                return Outcome::Nothing;
            }
            Err(ReadError::X(e)) => {
                tracing::warn!(error = %e, "clipboard: reading the X clipboard failed");
                return Outcome::Nothing;
            }
        };
        if target == xc.atoms.targets {
            let offered = if prop.format == 32 {
                prop.atoms()
            } else {
                Vec::new()
            };
            let mut chosen = choose(&xc.atoms, &offered, self.binary);
            if chosen.is_empty() {
                tracing::debug!(
                    offered = offered.len(),
                    "clipboard: no usable target offered"
                );
                return Outcome::Nothing;
            }
            let first = chosen.remove(0);
            self.convert(xc, first, time, chosen, now);
            return Outcome::Pending;
        }
        if prop.r#type == xc.atoms.incr {
            let announced = prop.words.first().map_or(0, |&n| n as usize);
            return match Receive::new(announced, self.limit) {
                Ok(buf) => {
                    // Deleting the INCR property (done by the read) asked for the first chunk.
                    self.state = State::Incr {
                        target,
                        r#type: x::ATOM_NONE,
                        buf,
                        deadline: now + TIMEOUT,
                    };
                    Outcome::Pending
                }
                Err(e) => {
                    tracing::warn!(
                        bytes = e.len,
                        limit = e.limit,
                        "clipboard: X clipboard content too large; dropped"
                    );
                    Outcome::Nothing
                }
            };
        }
        finish(&xc.atoms, target, prop)
    }

    /// Our transfer property got a new value: the next INCR chunk.
    pub fn on_new_value(&mut self, xc: &Xc, now: Instant) -> Outcome {
        let State::Incr {
            buf,
            r#type,
            deadline,
            target,
        } = &mut self.state
        else {
            return Outcome::Pending;
        };
        let room = buf.room();
        let step = match xc.read(xc.window, xc.atoms.transfer, true, room) {
            Ok(Some(prop)) => {
                if *r#type == x::ATOM_NONE {
                    *r#type = prop.r#type;
                }
                let bytes = prop_bytes(prop);
                buf.push(&bytes).map_err(|e| (e.len, e.limit))
            }
            // Deleted before we looked: the notification was for an old value.
            Ok(None) => return Outcome::Pending,
            Err(ReadError::TooLarge { len, .. }) => Err((
                self.limit.saturating_sub(room).saturating_add(len),
                self.limit,
            )),
            Err(ReadError::X(e)) => {
                tracing::warn!(error = %e, "clipboard: reading the X clipboard failed");
                self.state = State::Idle;
                return Outcome::Nothing;
            }
        };
        match step {
            Ok(false) => {
                *deadline = now + TIMEOUT;
                Outcome::Pending
            }
            Ok(true) => {
                let (target, r#type) = (*target, *r#type);
                let State::Incr { buf, .. } = std::mem::replace(&mut self.state, State::Idle)
                else {
                    return Outcome::Nothing;
                };
                match decode(&xc.atoms, target, r#type, buf.into_data()) {
                    Some(c) => Outcome::Content(c),
                    None => Outcome::Nothing,
                }
            }
            Err((len, limit)) => {
                tracing::warn!(
                    bytes_at_least = len,
                    limit,
                    "clipboard: X clipboard content too large; dropped"
                );
                self.state = State::Idle;
                Outcome::Nothing
            }
        }
    }
}

fn prop_bytes(prop: Prop) -> Vec<u8> {
    if prop.words.is_empty() {
        prop.bytes
    } else {
        prop.words.iter().flat_map(|w| w.to_ne_bytes()).collect()
    }
}

fn finish(atoms: &Atoms, target: x::Atom, prop: Prop) -> Outcome {
    let r#type = prop.r#type;
    match decode(atoms, target, r#type, prop_bytes(prop)) {
        Some(c) => Outcome::Content(c),
        None => Outcome::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefers_png_then_utf8() {
        let a = Atoms::fake();
        let offered = [a.targets, x::ATOM_STRING, a.image_png, a.utf8_string];
        assert_eq!(
            choose(&a, &offered, true),
            vec![a.image_png, a.utf8_string, x::ATOM_STRING]
        );
        assert_eq!(
            choose(&a, &offered, false),
            vec![a.utf8_string, x::ATOM_STRING]
        );
        assert_eq!(choose(&a, &[a.image_png], false), Vec::<x::Atom>::new());
        assert_eq!(choose(&a, &[a.text], true), vec![a.text]);
    }

    #[test]
    fn decodes_text_and_images() {
        let a = Atoms::fake();
        let c = decode(&a, a.utf8_string, a.utf8_string, "日本".as_bytes().to_vec());
        assert_eq!(c, Some(Content::text("日本")));
        let c = decode(&a, x::ATOM_STRING, x::ATOM_STRING, b"gr\xfc\xdfe".to_vec());
        assert_eq!(c, Some(Content::text("grüße")));
        let c = decode(&a, a.utf8_string, a.utf8_string, b"a\xffb".to_vec());
        assert_eq!(c, Some(Content::text("a\u{fffd}b")));
        let c = decode(&a, a.image_png, a.image_png, vec![0x89, b'P']);
        assert_eq!(c, Some(Content::new(PNG_MIME, vec![0x89, b'P'])));
        assert_eq!(decode(&a, a.utf8_string, a.utf8_string, Vec::new()), None);
    }
}
