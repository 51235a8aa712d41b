//! One gamepad slot: the pad's state and the interposer connections reading it.
//!
//! A change is applied and handed to every reader under one lock, so a reader that joins gets a
//! snapshot followed by exactly the changes after it. Readers never block the caller: each has a
//! bounded queue, and a reader whose queue is full (a game that stopped reading) skips changes and
//! gets the whole current state once it has drained, the way joydev re-sends its init events after
//! an overflow. Nothing here does I/O; the connection tasks write the queued bytes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tokio::sync::mpsc::{self, error::TrySendError};

use super::mapping::{Change, Control, PadState};
use super::wire::{InputEvent, JsEvent, WordSize, JS_EVENT_AXIS, JS_EVENT_BUTTON, JS_EVENT_INIT};

/// Queued writes per reader before it counts as lagging.
pub(super) const READER_QUEUE: usize = 64;

/// Which node a reader opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Node {
    /// `/dev/input/jsN`: `js_event` records.
    Js,
    /// `/dev/input/event100N`: `input_event` records for a reader of this word size.
    Evdev(WordSize),
}

/// A registered reader, as the slot sees it.
struct Reader {
    id: u64,
    node: Node,
    tx: mpsc::Sender<Bytes>,
    /// Set when a change could not be queued; the connection task then asks for a resync.
    lagged: Arc<AtomicBool>,
}

/// The connection task's end of a registration.
pub(super) struct Registration {
    pub id: u64,
    pub rx: mpsc::Receiver<Bytes>,
    pub lagged: Arc<AtomicBool>,
}

#[derive(Default)]
struct State {
    pad: PadState,
    /// A browser pad is attached (`js,c` seen, no `js,d` or timeout since).
    attached: bool,
    /// Last sign of life, once the client has sent a heartbeat (a client that never sends `js,h`,
    /// like Selkies 1.x's, is never timed out: it sends nothing while a button is held).
    last_heartbeat: Option<Instant>,
    readers: Vec<Reader>,
    next_id: u64,
    closed: bool,
}

/// One of the four pads.
pub(super) struct Slot {
    index: u8,
    /// Zero of the joystick timestamps.
    epoch: Instant,
    state: Mutex<State>,
}

impl Slot {
    pub fn new(index: u8, epoch: Instant) -> Self {
        Slot {
            index,
            epoch,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves a pad state that is still well formed.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn attach(&self, name: &str, now: Instant) {
        let mut st = self.lock();
        let released = st.pad.release();
        self.send(&mut st, &released);
        st.attached = true;
        st.last_heartbeat = st.last_heartbeat.map(|_| now);
        tracing::info!(slot = self.index, name = ?name, "gamepad attached");
    }

    pub fn detach(&self, reason: &str) {
        let mut st = self.lock();
        let released = st.pad.release();
        self.send(&mut st, &released);
        if st.attached {
            tracing::info!(slot = self.index, reason, "gamepad detached");
        }
        st.attached = false;
        st.last_heartbeat = None;
    }

    pub fn button(&self, button: u16, value: f64, now: Instant) {
        let mut st = self.lock();
        st.touch(now);
        if let Some(change) = st.pad.button(button, value) {
            self.send(&mut st, &[change]);
        }
    }

    pub fn axis(&self, axis: u8, value: f64, now: Instant) {
        let mut st = self.lock();
        st.touch(now);
        if let Some(change) = st.pad.axis(axis, value) {
            self.send(&mut st, &[change]);
        }
    }

    pub fn heartbeat(&self, now: Instant) {
        self.lock().last_heartbeat = Some(now);
    }

    /// Detaches the pad if its client stopped heartbeating `timeout` ago; true if it did.
    pub fn expire(&self, now: Instant, timeout: Duration) -> bool {
        let stale = self
            .lock()
            .last_heartbeat
            .is_some_and(|t| now.saturating_duration_since(t) > timeout);
        if stale {
            self.detach("heartbeat timeout");
        }
        stale
    }

    /// Adds a reader; the queue starts with the current state. `None` once the hub is closed.
    pub fn register(&self, node: Node) -> Option<Registration> {
        let mut st = self.lock();
        if st.closed {
            return None;
        }
        let (tx, rx) = mpsc::channel(READER_QUEUE);
        let opening = self.opening_state(&st.pad, node);
        if !opening.is_empty() {
            // The queue is new and empty, so this cannot fail.
            let _ = tx.try_send(opening);
        }
        let id = st.next_id;
        st.next_id += 1;
        let lagged = Arc::new(AtomicBool::new(false));
        st.readers.push(Reader {
            id,
            node,
            tx,
            lagged: Arc::clone(&lagged),
        });
        tracing::debug!(
            slot = self.index,
            reader = id,
            ?node,
            "gamepad reader joined"
        );
        Some(Registration { id, rx, lagged })
    }

    pub fn unregister(&self, id: u64) {
        let mut st = self.lock();
        st.readers.retain(|r| r.id != id);
        tracing::debug!(slot = self.index, reader = id, "gamepad reader left");
    }

    /// The full current state for a reader that lagged, queued behind what it has; clears its
    /// lag. Called by its connection task once its queue is empty.
    pub fn resync(&self, id: u64) {
        let st = self.lock();
        let Some(reader) = st.readers.iter().find(|r| r.id == id) else {
            return;
        };
        let bytes = match reader.node {
            Node::Js => self.js_bytes(&st.pad.snapshot(), JS_EVENT_INIT),
            Node::Evdev(word) => evdev_bytes(&st.pad.snapshot(), word),
        };
        if reader.tx.try_send(bytes).is_ok() {
            reader.lagged.store(false, Ordering::Release);
        }
    }

    /// Ends every reader (their tasks see their queues close) and refuses new ones.
    pub fn close(&self) {
        let mut st = self.lock();
        st.closed = true;
        st.readers.clear();
    }

    pub fn reader_count(&self) -> usize {
        self.lock().readers.len()
    }

    /// What a reader gets right after connecting. A joystick node reports every control with
    /// `JS_EVENT_INIT`, as joydev does on open. An evdev node reports nothing on open (readers ask
    /// with ioctls, which the interposer answers with rest values), so it gets one frame with the
    /// controls that are away from rest, if any.
    fn opening_state(&self, pad: &PadState, node: Node) -> Bytes {
        match node {
            Node::Js => self.js_bytes(&pad.snapshot(), JS_EVENT_INIT),
            Node::Evdev(word) => {
                let moved = pad.non_rest();
                if moved.is_empty() {
                    Bytes::new()
                } else {
                    evdev_bytes(&moved, word)
                }
            }
        }
    }

    /// Queues `changes` for every reader that keeps up.
    fn send(&self, st: &mut State, changes: &[Change]) {
        if changes.is_empty() || st.readers.is_empty() {
            return;
        }
        let js = self.js_bytes(changes, 0);
        let mut evdev: [Option<Bytes>; 2] = [None, None];
        let index = self.index;
        st.readers.retain(|reader| {
            if reader.lagged.load(Ordering::Acquire) {
                return true;
            }
            let bytes = match reader.node {
                Node::Js => js.clone(),
                Node::Evdev(word) => evdev[usize::from(word == WordSize::Eight)]
                    .get_or_insert_with(|| evdev_bytes(changes, word))
                    .clone(),
            };
            match reader.tx.try_send(bytes) {
                Ok(()) => true,
                Err(TrySendError::Full(_)) => {
                    tracing::debug!(slot = index, reader = reader.id, "gamepad reader lagging");
                    reader.lagged.store(true, Ordering::Release);
                    true
                }
                Err(TrySendError::Closed(_)) => false,
            }
        });
    }

    fn js_bytes(&self, changes: &[Change], flags: u8) -> Bytes {
        // Milliseconds wrap like joydev's jiffies-based stamps.
        let time_ms = self.epoch.elapsed().as_millis() as u32;
        let mut out = Vec::with_capacity(changes.len() * JsEvent::LEN);
        for c in changes {
            let (kind, number) = match c.control {
                Control::Button(n) => (JS_EVENT_BUTTON, n),
                Control::Axis(n) => (JS_EVENT_AXIS, n),
            };
            let event = JsEvent {
                time_ms,
                value: c.value,
                kind: kind | flags,
                number,
            };
            out.extend_from_slice(&event.encode());
        }
        out.into()
    }
}

impl State {
    fn touch(&mut self, now: Instant) {
        if self.last_heartbeat.is_some() {
            self.last_heartbeat = Some(now);
        }
    }
}

/// One evdev frame: the changes, then `SYN_REPORT`, stamped with the wall clock (evdev's default
/// clock).
fn evdev_bytes(changes: &[Change], word: WordSize) -> Bytes {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let sec = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    let usec = i64::from(now.subsec_micros());
    let mut out = Vec::with_capacity((changes.len() + 1) * word.event_len());
    for c in changes {
        let (kind, code, value) = c.evdev();
        InputEvent {
            sec,
            usec,
            kind,
            code,
            value,
        }
        .encode_into(word, &mut out);
    }
    InputEvent::syn_report(sec, usec).encode_into(word, &mut out);
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::gamepad::wire::{EV_ABS, EV_KEY, EV_SYN};

    fn js_records(bytes: &[u8]) -> Vec<(u8, u8, i16)> {
        bytes
            .chunks_exact(JsEvent::LEN)
            .map(|c| {
                let e = JsEvent::decode(c.try_into().expect("8 bytes"));
                (e.kind, e.number, e.value)
            })
            .collect()
    }

    fn ev_records(bytes: &[u8]) -> Vec<(u16, u16, i32)> {
        bytes
            .chunks_exact(24)
            .map(|c| {
                let e = InputEvent::decode(c, WordSize::Eight).expect("24 bytes");
                (e.kind, e.code, e.value)
            })
            .collect()
    }

    #[test]
    fn a_js_reader_gets_init_state_then_changes() {
        let slot = Slot::new(0, Instant::now());
        let now = Instant::now();
        slot.button(0, 1.0, now);
        let mut reg = slot.register(Node::Js).expect("open");
        let opening = js_records(&reg.rx.try_recv().expect("init burst"));
        assert_eq!(opening.len(), 19);
        assert_eq!(opening[0], (0x81, 0, 1));
        assert_eq!(opening[1], (0x81, 1, 0));
        assert_eq!(opening[11 + 2], (0x82, 2, -32767), "trigger rests at min");
        slot.axis(0, -1.0, now);
        assert_eq!(
            js_records(&reg.rx.try_recv().expect("change")),
            vec![(2, 0, -32767)]
        );
        slot.axis(0, -1.0, now);
        assert!(reg.rx.try_recv().is_err(), "no change, no event");
    }

    #[test]
    fn an_evdev_reader_gets_moved_controls_then_framed_changes() {
        let slot = Slot::new(1, Instant::now());
        let now = Instant::now();
        let mut idle = slot.register(Node::Evdev(WordSize::Eight)).expect("open");
        assert!(idle.rx.try_recv().is_err(), "nothing to report at rest");
        slot.button(7, 1.0, now);
        assert_eq!(
            ev_records(&idle.rx.try_recv().expect("change")),
            vec![(EV_ABS, 5, 32767), (EV_SYN, 0, 0)]
        );
        let mut late = slot.register(Node::Evdev(WordSize::Eight)).expect("open");
        assert_eq!(
            ev_records(&late.rx.try_recv().expect("opening frame")),
            vec![(EV_ABS, 5, 32767), (EV_SYN, 0, 0)]
        );
        slot.detach("test");
        let released = vec![(EV_ABS, 5, -32767), (EV_SYN, 0, 0)];
        assert_eq!(ev_records(&idle.rx.try_recv().expect("release")), released);
        assert_eq!(ev_records(&late.rx.try_recv().expect("release")), released);
        slot.button(0, 1.0, now);
        assert_eq!(
            ev_records(&late.rx.try_recv().expect("press")),
            vec![(EV_KEY, 0x130, 1), (EV_SYN, 0, 0)]
        );
    }

    #[test]
    fn a_lagging_reader_skips_changes_and_resyncs_with_the_whole_state() {
        let slot = Slot::new(2, Instant::now());
        let now = Instant::now();
        let mut reg = slot.register(Node::Js).expect("open");
        for i in 0..READER_QUEUE * 2 {
            slot.axis(0, if i % 2 == 0 { 1.0 } else { -1.0 }, now);
        }
        assert!(reg.lagged.load(Ordering::Acquire));
        let mut got = 0;
        while reg.rx.try_recv().is_ok() {
            got += 1;
        }
        assert_eq!(got, READER_QUEUE, "the queue is bounded");
        slot.button(3, 1.0, now);
        assert!(reg.rx.try_recv().is_err(), "lagging readers are skipped");
        slot.resync(reg.id);
        assert!(!reg.lagged.load(Ordering::Acquire));
        let state = js_records(&reg.rx.try_recv().expect("resync"));
        assert_eq!(state.len(), 19);
        assert_eq!(state[3], (0x81, 3, 1));
        assert_eq!(state[11], (0x82, 0, -32767));
    }

    #[test]
    fn heartbeat_timeout_only_applies_to_clients_that_beat() {
        let slot = Slot::new(3, Instant::now());
        let t0 = Instant::now();
        slot.attach("pad", t0);
        slot.button(0, 1.0, t0);
        let later = t0 + Duration::from_secs(60);
        assert!(!slot.expire(later, Duration::from_secs(5)), "never beat");
        slot.heartbeat(t0);
        slot.button(1, 1.0, t0 + Duration::from_secs(3));
        assert!(!slot.expire(t0 + Duration::from_secs(7), Duration::from_secs(5)));
        let mut reg = slot.register(Node::Js).expect("open");
        let _ = reg.rx.try_recv();
        assert!(slot.expire(t0 + Duration::from_secs(9), Duration::from_secs(5)));
        assert_eq!(
            js_records(&reg.rx.try_recv().expect("release")),
            vec![(1, 0, 0), (1, 1, 0)]
        );
        assert!(!slot.expire(later, Duration::from_secs(5)), "disarmed");
    }

    #[test]
    fn closing_ends_readers() {
        let slot = Slot::new(0, Instant::now());
        let mut reg = slot.register(Node::Js).expect("open");
        let _ = reg.rx.try_recv();
        slot.close();
        assert_eq!(slot.reader_count(), 0);
        assert!(reg.rx.try_recv().is_err());
        assert!(slot.register(Node::Js).is_none());
    }
}
