//! INCR transfers (ICCCM §2.7.2), both ways, as bookkeeping without X calls: which chunk goes
//! next to which requestor, when a transfer is finished or stale, and how much an incoming one
//! may grow.
//!
//! Sending: the owner writes `INCR` (with the total size) to the requestor's property and waits;
//! each time the requestor deletes the property, the next chunk is written; after the last chunk
//! a zero-length write ends the transfer. A requestor that stops deleting (it hung, or its window
//! is gone and we missed the `DestroyNotify`) is dropped after [`TIMEOUT`].
//!
//! Receiving: the mirror image; the total announced with `INCR` is only a lower bound, so the
//! limit is enforced on every chunk.

use std::time::{Duration, Instant};

use bytes::Bytes;
use xcb::x;

/// How long either side of a transfer may stay silent before the transfer is abandoned.
pub(super) const TIMEOUT: Duration = Duration::from_secs(5);

/// One transfer to a requestor.
#[derive(Debug)]
struct Send {
    requestor: x::Window,
    property: x::Atom,
    r#type: x::Atom,
    data: Bytes,
    offset: usize,
    deadline: Instant,
}

/// What to write next for a transfer whose property was just deleted.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Step {
    pub requestor: x::Window,
    pub property: x::Atom,
    pub r#type: x::Atom,
    /// The chunk; empty for the end marker, after which the transfer is gone.
    pub chunk: Bytes,
}

/// The outgoing transfers in flight.
#[derive(Debug)]
pub(super) struct Sends {
    chunk: usize,
    list: Vec<Send>,
}

impl Sends {
    /// Transfers sending at most `chunk` bytes per property write.
    pub fn new(chunk: usize) -> Self {
        Self {
            chunk: chunk.max(1),
            list: Vec::new(),
        }
    }

    /// Starts a transfer; the first chunk goes when the requestor deletes the `INCR` property.
    /// A transfer already using the same window and property is replaced (the requestor asked
    /// again, so it gave up on the old one).
    pub fn start(
        &mut self,
        requestor: x::Window,
        property: x::Atom,
        r#type: x::Atom,
        data: Bytes,
        now: Instant,
    ) {
        self.list
            .retain(|s| !(s.requestor == requestor && s.property == property));
        self.list.push(Send {
            requestor,
            property,
            r#type,
            data,
            offset: 0,
            deadline: now + TIMEOUT,
        });
    }

    /// The requestor deleted `property` on `window`: the next chunk, or the end marker (which
    /// removes the transfer). `None` when no transfer uses that property.
    pub fn on_delete(
        &mut self,
        window: x::Window,
        property: x::Atom,
        now: Instant,
    ) -> Option<Step> {
        let i = self
            .list
            .iter()
            .position(|s| s.requestor == window && s.property == property)?;
        let send = self.list.get_mut(i)?;
        let end = send.offset.saturating_add(self.chunk).min(send.data.len());
        let chunk = send.data.slice(send.offset..end);
        let step = Step {
            requestor: send.requestor,
            property: send.property,
            r#type: send.r#type,
            chunk,
        };
        if step.chunk.is_empty() {
            self.list.swap_remove(i);
        } else {
            send.offset = end;
            send.deadline = now + TIMEOUT;
        }
        Some(step)
    }

    /// Drops every transfer to `window` (destroyed); returns how many there were.
    pub fn on_destroy(&mut self, window: x::Window) -> usize {
        let before = self.list.len();
        self.list.retain(|s| s.requestor != window);
        before - self.list.len()
    }

    /// Drops the transfers that went silent; returns their requestor windows.
    pub fn expire(&mut self, now: Instant) -> Vec<x::Window> {
        let mut gone = Vec::new();
        self.list.retain(|s| {
            let alive = s.deadline > now;
            if !alive {
                gone.push(s.requestor);
            }
            alive
        });
        gone
    }

    /// Whether some transfer still goes to `window` (so its events are still needed).
    pub fn uses(&self, window: x::Window) -> bool {
        self.list.iter().any(|s| s.requestor == window)
    }

    /// The earliest deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.list.iter().map(|s| s.deadline).min()
    }

    /// Transfers in flight.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.list.len()
    }
}

/// A value over the limit.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct TooLarge {
    pub len: usize,
    pub limit: usize,
}

/// The buffer of one incoming transfer.
#[derive(Debug)]
pub(super) struct Receive {
    data: Vec<u8>,
    limit: usize,
}

impl Receive {
    /// A transfer the owner announced as at least `announced` bytes.
    pub fn new(announced: usize, limit: usize) -> Result<Self, TooLarge> {
        if announced > limit {
            return Err(TooLarge {
                len: announced,
                limit,
            });
        }
        Ok(Self {
            // The announced size is a hint; reserving it (bounded by the limit) saves copies.
            data: Vec::with_capacity(announced),
            limit,
        })
    }

    /// Room left under the limit.
    pub fn room(&self) -> usize {
        self.limit.saturating_sub(self.data.len())
    }

    /// Adds a chunk; `Ok(true)` when it was the empty end marker.
    pub fn push(&mut self, chunk: &[u8]) -> Result<bool, TooLarge> {
        if chunk.is_empty() {
            return Ok(true);
        }
        let len = self.data.len().saturating_add(chunk.len());
        if len > self.limit {
            return Err(TooLarge {
                len,
                limit: self.limit,
            });
        }
        self.data.extend_from_slice(chunk);
        Ok(false)
    }

    /// The received bytes.
    pub fn into_data(self) -> Vec<u8> {
        self.data
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xcb::XidNew as _;

    fn win(n: u32) -> x::Window {
        x::Window::new(n)
    }

    fn atom(n: u32) -> x::Atom {
        x::Atom::new(n)
    }

    #[test]
    fn sends_chunks_then_end_marker() {
        let now = Instant::now();
        let mut sends = Sends::new(4);
        let data = Bytes::from_static(b"0123456789");
        sends.start(win(1), atom(7), atom(9), data, now);
        assert!(sends.uses(win(1)));
        // Deletes of other properties or windows are not ours.
        assert_eq!(sends.on_delete(win(1), atom(8), now), None);
        assert_eq!(sends.on_delete(win(2), atom(7), now), None);
        let mut got = Vec::new();
        loop {
            let step = sends.on_delete(win(1), atom(7), now).expect("transfer");
            assert_eq!(
                (step.requestor, step.property, step.r#type),
                (win(1), atom(7), atom(9))
            );
            if step.chunk.is_empty() {
                break;
            }
            assert!(step.chunk.len() <= 4);
            got.extend_from_slice(&step.chunk);
        }
        assert_eq!(got, b"0123456789");
        assert_eq!(sends.len(), 0);
        assert!(!sends.uses(win(1)));
        assert_eq!(sends.on_delete(win(1), atom(7), now), None);
    }

    #[test]
    fn destroyed_and_silent_requestors_are_dropped() {
        let now = Instant::now();
        let mut sends = Sends::new(4);
        sends.start(
            win(1),
            atom(7),
            atom(9),
            Bytes::from_static(b"abcdefgh"),
            now,
        );
        sends.start(
            win(2),
            atom(7),
            atom(9),
            Bytes::from_static(b"abcdefgh"),
            now,
        );
        sends.start(
            win(2),
            atom(8),
            atom(9),
            Bytes::from_static(b"abcdefgh"),
            now,
        );
        assert_eq!(sends.len(), 3);
        assert_eq!(sends.on_destroy(win(2)), 2);
        assert_eq!(sends.next_deadline(), Some(now + TIMEOUT));
        // Progress pushes the deadline back.
        let later = now + Duration::from_secs(3);
        assert!(sends.on_delete(win(1), atom(7), later).is_some());
        assert!(sends.expire(now + TIMEOUT).is_empty());
        assert_eq!(sends.expire(later + TIMEOUT), vec![win(1)]);
        assert_eq!(sends.len(), 0);
        assert_eq!(sends.next_deadline(), None);
    }

    #[test]
    fn a_repeated_request_replaces_the_transfer() {
        let now = Instant::now();
        let mut sends = Sends::new(4);
        sends.start(
            win(1),
            atom(7),
            atom(9),
            Bytes::from_static(b"old data"),
            now,
        );
        sends.start(win(1), atom(7), atom(9), Bytes::from_static(b"new"), now);
        assert_eq!(sends.len(), 1);
        let step = sends.on_delete(win(1), atom(7), now).expect("transfer");
        assert_eq!(&step.chunk[..], b"new");
    }

    #[test]
    fn receive_enforces_the_limit() {
        assert_eq!(
            Receive::new(11, 10).err(),
            Some(TooLarge { len: 11, limit: 10 })
        );
        let mut r = Receive::new(4, 10).expect("within limit");
        assert_eq!(r.push(b"12345"), Ok(false));
        assert_eq!(r.room(), 5);
        assert_eq!(r.push(b"123456"), Err(TooLarge { len: 11, limit: 10 }));
        assert_eq!(r.push(b"12345"), Ok(false));
        assert_eq!(r.push(b""), Ok(true));
        assert_eq!(r.into_data(), b"1234512345");
    }
}
