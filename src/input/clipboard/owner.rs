//! Owning CLIPBOARD and PRIMARY for content from the browser, and answering other clients'
//! conversion requests (ICCCM §2.2–2.6): `TARGETS`, `TIMESTAMP`, `MULTIPLE`, the text targets
//! (`UTF8_STRING`, `text/plain;charset=utf-8`, `text/plain`, `TEXT` as UTF-8, `STRING` as lossy
//! Latin-1) or the content's own MIME type (`image/png`). Values above the chunk size go by INCR.
//!
//! The conversion itself ([`convert`]) is pure; the rest drives the X connection.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use tokio::sync::oneshot;
use xcb::x;

use super::atoms::Atoms;
use super::content::{Content, PNG_MIME};
use super::incr::Sends;
use super::xconn::Xc;
use super::{ClipboardError, Shared};

/// Longest `MULTIPLE` pair list read from a requestor (pairs of 4-byte atoms).
const MAX_MULTIPLE_BYTES: usize = 64 * 1024;

/// What we own, since when.
#[derive(Debug)]
pub(super) struct Owned {
    pub content: Arc<Content>,
    /// The server time our ownership began; older requests are refused.
    pub time: x::Timestamp,
    /// The target naming binary content (`ATOM_NONE` for text).
    pub mime_atom: x::Atom,
    pub clipboard: bool,
    pub primary: bool,
}

/// The value of a converted target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Data {
    /// Format 8 data of this type.
    Bytes { r#type: x::Atom, data: Bytes },
    /// An `ATOM` list.
    Atoms(Vec<x::Atom>),
    /// One `INTEGER`.
    Integer(u32),
}

/// The targets `owned` converts to, in preference order.
pub(super) fn targets(atoms: &Atoms, owned: &Owned) -> Vec<x::Atom> {
    let mut list = vec![atoms.targets, atoms.timestamp, atoms.multiple];
    if owned.content.is_text() {
        list.extend([
            atoms.utf8_string,
            atoms.text_plain_utf8,
            atoms.text_plain,
            x::ATOM_STRING,
            atoms.text,
        ]);
    } else {
        list.push(owned.mime_atom);
    }
    list
}

/// Converts `owned` to `target`; `None` when it does not convert to that.
pub(super) fn convert(atoms: &Atoms, owned: &Owned, target: x::Atom) -> Option<Data> {
    if target == atoms.targets {
        return Some(Data::Atoms(targets(atoms, owned)));
    }
    if target == atoms.timestamp {
        return Some(Data::Integer(owned.time));
    }
    let data = owned.content.data.clone();
    if owned.content.is_text() {
        let r#type = if target == atoms.utf8_string || target == atoms.text {
            atoms.utf8_string
        } else if target == atoms.text_plain_utf8 || target == atoms.text_plain {
            // Modern readers of `text/plain` expect UTF-8 (GTK and Qt both send it).
            target
        } else if target == x::ATOM_STRING {
            let text = String::from_utf8_lossy(&data);
            return Some(Data::Bytes {
                r#type: x::ATOM_STRING,
                data: Bytes::from(latin1_lossy(&text)),
            });
        } else {
            return None;
        };
        return Some(Data::Bytes { r#type, data });
    }
    (target == owned.mime_atom && target != x::ATOM_NONE).then_some(Data::Bytes {
        r#type: target,
        data,
    })
}

/// `STRING` is ISO Latin-1: characters outside it become `?`, as Xlib's conversions do.
pub(super) fn latin1_lossy(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}

struct Pending {
    content: Arc<Content>,
    mime_atom: x::Atom,
    done: oneshot::Sender<Result<(), ClipboardError>>,
}

/// The selection-owner half of the clipboard thread.
pub(super) struct Owner {
    owned: Option<Owned>,
    /// Writes waiting for their timestamp, in request order (their `PropertyNotify`s come back in
    /// the same order).
    pending: VecDeque<Pending>,
    sends: Sends,
}

impl Owner {
    pub fn new(chunk: usize) -> Self {
        Self {
            owned: None,
            pending: VecDeque::new(),
            sends: Sends::new(chunk),
        }
    }

    /// Whether we own CLIPBOARD.
    pub fn owns_clipboard(&self) -> bool {
        self.owned.as_ref().is_some_and(|o| o.clipboard)
    }

    /// First step of taking the selections for `content`: ask for a timestamp (a zero-length
    /// append to our own property; the server answers with a `PropertyNotify` carrying its time).
    pub fn begin_set(
        &mut self,
        xc: &Xc,
        content: Arc<Content>,
        done: oneshot::Sender<Result<(), ClipboardError>>,
    ) {
        let mime_atom = if content.is_text() {
            x::ATOM_NONE
        } else if content.mime == PNG_MIME {
            xc.atoms.image_png
        } else {
            match xc.intern(&content.mime) {
                Ok(atom) => atom,
                Err(e) => {
                    let _ = done.send(Err(e.into()));
                    return;
                }
            }
        };
        xc.conn.send_request(&x::ChangeProperty::<u8> {
            mode: x::PropMode::Append,
            window: xc.window,
            property: xc.atoms.stamp,
            r#type: x::ATOM_INTEGER,
            data: &[],
        });
        self.pending.push_back(Pending {
            content,
            mime_atom,
            done,
        });
    }

    /// The timestamp for the oldest pending write arrived: take both selections.
    pub fn on_stamp(&mut self, xc: &Xc, time: x::Timestamp, shared: &Shared) {
        let Some(p) = self.pending.pop_front() else {
            return;
        };
        for selection in [xc.atoms.clipboard, x::ATOM_PRIMARY] {
            xc.conn.send_request(&x::SetSelectionOwner {
                owner: xc.window,
                selection,
                time,
            });
        }
        // SetSelectionOwner has no reply; asking who owns it now tells whether we won.
        let result = xc.owner_of(xc.atoms.clipboard).and_then(|clip| {
            let primary = xc.owner_of(x::ATOM_PRIMARY)?;
            Ok((clip == xc.window, primary == xc.window))
        });
        let result = match result {
            Ok((true, primary)) => {
                tracing::debug!(
                    mime = %p.content.mime,
                    bytes = p.content.len(),
                    primary,
                    "clipboard: now owner"
                );
                shared.set_current(Some(Arc::clone(&p.content)));
                self.owned = Some(Owned {
                    content: p.content,
                    time,
                    mime_atom: p.mime_atom,
                    clipboard: true,
                    primary,
                });
                Ok(())
            }
            Ok((false, _)) => Err(ClipboardError::NotOwner),
            Err(e) => Err(e.into()),
        };
        let _ = p.done.send(result);
    }

    /// Another client took `selection`.
    pub fn on_clear(&mut self, xc: &Xc, selection: x::Atom) {
        if let Some(owned) = self.owned.as_mut() {
            if selection == xc.atoms.clipboard {
                owned.clipboard = false;
            } else if selection == x::ATOM_PRIMARY {
                owned.primary = false;
            }
            if !owned.clipboard && !owned.primary {
                self.owned = None;
            }
        }
    }

    /// Answers a `SelectionRequest`.
    pub fn on_request(&mut self, xc: &Xc, ev: &x::SelectionRequestEvent, now: Instant) {
        let (requestor, selection, target, time) =
            (ev.requestor(), ev.selection(), ev.target(), ev.time());
        // Obsolete clients (ICCCM §2.2) send no property: the target names it.
        let property = if ev.property() == x::ATOM_NONE {
            target
        } else {
            ev.property()
        };
        let owned = self.owned.as_ref().filter(|o| {
            let ours = (selection == xc.atoms.clipboard && o.clipboard)
                || (selection == x::ATOM_PRIMARY && o.primary);
            ours && (time == x::CURRENT_TIME || time >= o.time)
        });
        let Some(owned) = owned else {
            xc.notify(requestor, selection, target, x::ATOM_NONE, time);
            return;
        };
        if target == xc.atoms.multiple {
            let converted = self.multiple(xc, requestor, property, now);
            let property = if converted { property } else { x::ATOM_NONE };
            xc.notify(requestor, selection, target, property, time);
            return;
        }
        match convert(&xc.atoms, owned, target) {
            Some(data) => {
                self.write(xc, requestor, property, data, now);
                xc.notify(requestor, selection, target, property, time);
            }
            None => xc.notify(requestor, selection, target, x::ATOM_NONE, time),
        }
    }

    /// `MULTIPLE` (ICCCM §2.6.2): converts each (target, property) pair on the requestor's
    /// property, setting the property of each failed pair to `None`, and writes the list back.
    fn multiple(&mut self, xc: &Xc, requestor: x::Window, property: x::Atom, now: Instant) -> bool {
        let pairs = match xc.read(requestor, property, false, MAX_MULTIPLE_BYTES) {
            Ok(Some(p)) if p.format == 32 && p.words.len() % 2 == 0 => p.atoms(),
            _ => return false,
        };
        let mut answer = Vec::with_capacity(pairs.len());
        for pair in pairs.chunks_exact(2) {
            let (target, prop) = (pair[0], pair[1]);
            let data = self
                .owned
                .as_ref()
                .filter(|_| target != xc.atoms.multiple && prop != x::ATOM_NONE)
                .and_then(|o| convert(&xc.atoms, o, target));
            answer.push(target);
            match data {
                Some(data) => {
                    self.write(xc, requestor, prop, data, now);
                    answer.push(prop);
                }
                None => answer.push(x::ATOM_NONE),
            }
        }
        let words: Vec<u32> = answer.iter().map(xcb::Xid::resource_id).collect();
        xc.write32(requestor, property, xc.atoms.atom_pair, &words);
        true
    }

    fn write(
        &mut self,
        xc: &Xc,
        requestor: x::Window,
        property: x::Atom,
        data: Data,
        now: Instant,
    ) {
        match data {
            Data::Atoms(atoms) => {
                let words: Vec<u32> = atoms.iter().map(xcb::Xid::resource_id).collect();
                xc.write32(requestor, property, x::ATOM_ATOM, &words);
            }
            Data::Integer(v) => xc.write32(requestor, property, x::ATOM_INTEGER, &[v]),
            Data::Bytes { r#type, data } if data.len() > xc.chunk => {
                // The requestor's deletions drive the transfer, and its destruction ends it.
                if requestor != xc.window {
                    xc.select(
                        requestor,
                        x::EventMask::PROPERTY_CHANGE | x::EventMask::STRUCTURE_NOTIFY,
                    );
                }
                let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
                tracing::debug!(bytes = data.len(), "clipboard: INCR transfer started");
                xc.write32(requestor, property, xc.atoms.incr, &[len]);
                self.sends.start(requestor, property, r#type, data, now);
            }
            Data::Bytes { r#type, data } => xc.write8(requestor, property, r#type, &data),
        }
    }

    /// A property was deleted on another client's window: maybe the next INCR chunk is due.
    pub fn on_delete(&mut self, xc: &Xc, window: x::Window, property: x::Atom, now: Instant) {
        if let Some(step) = self.sends.on_delete(window, property, now) {
            xc.write8(step.requestor, step.property, step.r#type, &step.chunk);
            if step.chunk.is_empty() {
                tracing::debug!("clipboard: INCR transfer finished");
                self.unwatch(xc, window);
            }
        }
    }

    /// A requestor's window is gone: its transfers end.
    pub fn on_destroy(&mut self, window: x::Window) {
        let n = self.sends.on_destroy(window);
        if n > 0 {
            tracing::debug!(transfers = n, "clipboard: requestor vanished mid-INCR");
        }
    }

    /// Drops silent transfers.
    pub fn expire(&mut self, xc: &Xc, now: Instant) {
        for window in self.sends.expire(now) {
            tracing::debug!("clipboard: INCR requestor went silent; transfer dropped");
            self.unwatch(xc, window);
        }
    }

    /// When the next transfer times out.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.sends.next_deadline()
    }

    /// Stops receiving events from `window` once no transfer uses it.
    fn unwatch(&self, xc: &Xc, window: x::Window) {
        if window != xc.window && !self.sends.uses(window) {
            xc.select(window, x::EventMask::NO_EVENT);
        }
    }

    /// Fails every write still waiting for a timestamp (the thread is stopping).
    pub fn abandon(&mut self) {
        for p in self.pending.drain(..) {
            let _ = p.done.send(Err(ClipboardError::Stopped));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(content: Content, mime_atom: x::Atom) -> Owned {
        Owned {
            content: Arc::new(content),
            time: 1234,
            mime_atom,
            clipboard: true,
            primary: true,
        }
    }

    #[test]
    fn text_targets_and_conversions() {
        let a = Atoms::fake();
        let o = owned(Content::text("grüße ☃ 日本"), x::ATOM_NONE);
        let t = targets(&a, &o);
        for target in [
            a.targets,
            a.utf8_string,
            a.text_plain_utf8,
            x::ATOM_STRING,
            a.text,
        ] {
            assert!(t.contains(&target));
        }
        assert!(!t.contains(&a.image_png));
        assert_eq!(convert(&a, &o, a.targets), Some(Data::Atoms(t)));
        assert_eq!(convert(&a, &o, a.timestamp), Some(Data::Integer(1234)));
        let utf8 = Bytes::from("grüße ☃ 日本");
        assert_eq!(
            convert(&a, &o, a.utf8_string),
            Some(Data::Bytes {
                r#type: a.utf8_string,
                data: utf8.clone()
            })
        );
        assert_eq!(
            convert(&a, &o, a.text),
            Some(Data::Bytes {
                r#type: a.utf8_string,
                data: utf8.clone()
            })
        );
        assert_eq!(
            convert(&a, &o, a.text_plain_utf8),
            Some(Data::Bytes {
                r#type: a.text_plain_utf8,
                data: utf8
            })
        );
        assert_eq!(
            convert(&a, &o, x::ATOM_STRING),
            Some(Data::Bytes {
                r#type: x::ATOM_STRING,
                data: Bytes::from_static(b"gr\xfc\xdfe ? ??")
            })
        );
        assert_eq!(convert(&a, &o, a.image_png), None);
        assert_eq!(convert(&a, &o, x::ATOM_NONE), None);
    }

    #[test]
    fn binary_targets_and_conversions() {
        let a = Atoms::fake();
        let png = Bytes::from_static(b"\x89PNG\r\n\x1a\n....");
        let o = owned(Content::new(PNG_MIME, png.clone()), a.image_png);
        let t = targets(&a, &o);
        assert!(t.contains(&a.image_png) && !t.contains(&a.utf8_string));
        assert_eq!(
            convert(&a, &o, a.image_png),
            Some(Data::Bytes {
                r#type: a.image_png,
                data: png
            })
        );
        for target in [a.utf8_string, x::ATOM_STRING, a.text, x::ATOM_NONE] {
            assert_eq!(convert(&a, &o, target), None);
        }
    }

    #[test]
    fn latin1() {
        assert_eq!(latin1_lossy("aé€ÿ"), b"a\xe9?\xff");
    }
}
