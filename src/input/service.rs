//! The input thread: every viewer's keyboard and pointer verbs, injected in arrival order through
//! one XTEST connection, with each viewer's held keys and buttons tracked so nothing stays stuck.
//!
//! Keys are released when the client sends `kr` (it does on blur), when it disconnects (its
//! [`ClientInput`] is dropped), when its `kh` heartbeat omits them, and when a client that sent
//! heartbeats stops sending them for [`HEARTBEAT_TIMEOUT`]. A dedicated thread, not a task: XTEST calls block on the socket and the modifier
//! query is a round trip, and a key press should never wait behind the async runtime.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::error::InputError;
use super::keyboard::Keyboard;
use super::keymap::char_keysym;
use super::pointer::{PointerAction, PointerState};
use super::protocol::{Category, Verb};
use super::xtest::XTest;

/// Keys of a client that sent `kh` heartbeats are released this long after the last one
/// (Selkies 2.x uses 2 s; its client beats every 100 ms).
pub const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(2);

/// Latency samples kept for the benchmark (the newest win).
const LATENCY_SAMPLES: usize = 65_536;

/// Counters of the input thread.
#[derive(Debug, Default)]
pub struct InputStats {
    /// Verbs injected.
    pub injected: AtomicU64,
    /// Verbs that failed in the X server (logged).
    pub failed: AtomicU64,
    /// Input verbs dropped because the viewer's role does not allow them (counted by the viewer's
    /// router, which decides access).
    pub denied: AtomicU64,
    /// Keys released because a client vanished, stopped its heartbeat, or left them out of one.
    pub released_stuck: AtomicU64,
    latency_us: Mutex<Vec<u32>>,
}

impl InputStats {
    /// Microseconds from a verb's arrival to its X requests being written to the socket, for the
    /// most recent verbs.
    pub fn latencies_us(&self) -> Vec<u32> {
        self.latency_us
            .lock()
            .map(|v| v.clone())
            .unwrap_or_default()
    }

    fn record(&self, since: Instant) {
        let us = u32::try_from(since.elapsed().as_micros()).unwrap_or(u32::MAX);
        if let Ok(mut v) = self.latency_us.lock() {
            if v.len() >= LATENCY_SAMPLES {
                v.drain(..LATENCY_SAMPLES / 2);
            }
            v.push(us);
        }
    }
}

enum Command {
    Verb {
        client: u64,
        verb: Verb,
        received: Instant,
    },
    Disconnect(u64),
}

/// The running input thread. Cheap to clone; the thread ends when every handle and client is gone.
#[derive(Clone)]
pub struct InputService {
    tx: mpsc::Sender<Command>,
    stats: Arc<InputStats>,
    next_client: Arc<AtomicU64>,
}

impl InputService {
    /// Connects to `display` (or `$DISPLAY`) and starts the thread.
    ///
    /// # Errors
    /// When the display is unreachable or has no XTEST.
    pub fn start(display: Option<&str>) -> Result<Self, InputError> {
        let xtest = XTest::open(display)?;
        let keyboard = Keyboard::new(xtest.keymap()?);
        let (tx, rx) = mpsc::channel();
        let stats = Arc::new(InputStats::default());
        let worker = Worker {
            xtest,
            keyboard,
            clients: HashMap::new(),
            stats: Arc::clone(&stats),
            actions: Vec::new(),
        };
        thread::Builder::new()
            .name("input".into())
            .spawn(move || worker.run(&rx))
            .map_err(InputError::Thread)?;
        Ok(InputService {
            tx,
            stats,
            next_client: Arc::new(AtomicU64::new(1)),
        })
    }

    /// A new client's input endpoint.
    pub fn client(&self) -> ClientInput {
        ClientInput {
            id: self.next_client.fetch_add(1, Ordering::Relaxed),
            tx: self.tx.clone(),
            stats: Arc::clone(&self.stats),
        }
    }

    pub fn stats(&self) -> &Arc<InputStats> {
        &self.stats
    }
}

/// One client's way into the input thread. Dropping it releases everything the client holds.
pub struct ClientInput {
    id: u64,
    tx: mpsc::Sender<Command>,
    stats: Arc<InputStats>,
}

impl ClientInput {
    /// Queues a keyboard or pointer verb for injection; `false` when the verb is not
    /// keyboard/pointer input or the thread has stopped. Access was decided before
    /// ([`crate::viewer::route`]).
    pub fn send(&self, verb: Verb, received: Instant) -> bool {
        if !matches!(verb.category(), Category::Keyboard | Category::Mouse) {
            return false;
        }
        self.tx
            .send(Command::Verb {
                client: self.id,
                verb,
                received,
            })
            .is_ok()
    }

    /// Counts a verb the viewer's role did not allow.
    pub fn count_denied(&self) {
        self.stats.denied.fetch_add(1, Ordering::Relaxed);
    }
}

impl Drop for ClientInput {
    fn drop(&mut self) {
        let _ = self.tx.send(Command::Disconnect(self.id));
    }
}

/// What one client holds.
#[derive(Default)]
struct Client {
    /// Keysym → the keycode it was pressed on.
    keys: HashMap<u32, u8>,
    pointer: PointerState,
    last_heartbeat: Option<Instant>,
}

struct Worker {
    xtest: XTest,
    keyboard: Keyboard,
    clients: HashMap<u64, Client>,
    stats: Arc<InputStats>,
    actions: Vec<PointerAction>,
}

impl Worker {
    fn run(mut self, rx: &mpsc::Receiver<Command>) {
        loop {
            match rx.recv_timeout(HEARTBEAT_TIMEOUT / 4) {
                Ok(Command::Verb {
                    client,
                    verb,
                    received,
                }) => {
                    match self.apply(client, &verb) {
                        Ok(()) => {
                            self.stats.injected.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => {
                            self.stats.failed.fetch_add(1, Ordering::Relaxed);
                            tracing::warn!(client, error = %e, "input not injected");
                        }
                    }
                    if let Err(e) = self.xtest.flush() {
                        tracing::error!(error = %e, "input X connection lost; input stops");
                        return;
                    }
                    self.stats.record(received);
                }
                Ok(Command::Disconnect(client)) => {
                    if let Some(mut c) = self.clients.remove(&client) {
                        self.release_client(&mut c, "client disconnected");
                        let _ = self.xtest.flush();
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            self.expire_heartbeats();
        }
    }

    fn apply(&mut self, id: u64, verb: &Verb) -> Result<(), InputError> {
        if self.xtest.keymap_changed()? {
            self.keyboard.set_keymap(self.xtest.keymap()?);
        }
        let client = self.clients.entry(id).or_default();
        match verb {
            // A second press of a held key is the browser's auto-repeat: the X server repeats.
            Verb::KeyDown(keysym) if client.keys.contains_key(keysym) => {}
            Verb::KeyDown(keysym) => {
                let keycode = self.keyboard.press(&mut self.xtest, *keysym)?;
                client.keys.insert(*keysym, keycode);
            }
            Verb::KeyUp(keysym) => {
                if let Some(keycode) = client.keys.remove(keysym) {
                    self.keyboard.release(&mut self.xtest, keycode)?;
                }
            }
            Verb::ReleaseAllKeys => {
                client.last_heartbeat = None;
                for (_, keycode) in client.keys.drain() {
                    self.keyboard.release(&mut self.xtest, keycode)?;
                }
            }
            Verb::HeldKeys(held) => {
                client.last_heartbeat = Some(Instant::now());
                let stale: Vec<u32> = client
                    .keys
                    .keys()
                    .filter(|k| !held.contains(k))
                    .copied()
                    .collect();
                for keysym in stale {
                    if let Some(keycode) = client.keys.remove(&keysym) {
                        self.stats.released_stuck.fetch_add(1, Ordering::Relaxed);
                        tracing::info!(client = id, keysym, "key not in heartbeat: released");
                        self.keyboard.release(&mut self.xtest, keycode)?;
                    }
                }
            }
            Verb::TypeText(text) => {
                for c in text.chars() {
                    let keycode = self.keyboard.press(&mut self.xtest, char_keysym(c))?;
                    self.keyboard.release(&mut self.xtest, keycode)?;
                }
            }
            Verb::PointerAbsolute(event) | Verb::PointerRelative(event) => {
                let relative = matches!(verb, Verb::PointerRelative(_));
                self.actions.clear();
                client.pointer.apply(event, relative, &mut self.actions);
                self.pointer_actions();
            }
            _ => {}
        }
        Ok(())
    }

    fn pointer_actions(&mut self) {
        for action in self.actions.drain(..) {
            match action {
                PointerAction::MoveTo(x, y) => self.xtest.move_to(x, y),
                PointerAction::MoveBy(dx, dy) => self.xtest.move_by(dx, dy),
                PointerAction::Button(b, down) => self.xtest.button(b, down),
            }
        }
    }

    fn release_client(&mut self, client: &mut Client, why: &str) {
        let n = release_keys(&mut self.keyboard, &mut self.xtest, client, Some(why));
        self.stats.released_stuck.fetch_add(n, Ordering::Relaxed);
        self.actions.clear();
        client.pointer.release_all(&mut self.actions);
        self.pointer_actions();
    }

    fn expire_heartbeats(&mut self) {
        let now = Instant::now();
        let expired: Vec<u64> = self
            .clients
            .iter()
            .filter(|(_, c)| {
                !c.keys.is_empty()
                    && c.last_heartbeat
                        .is_some_and(|t| now.duration_since(t) > HEARTBEAT_TIMEOUT)
            })
            .map(|(&id, _)| id)
            .collect();
        if expired.is_empty() {
            return;
        }
        for id in expired {
            if let Some(mut c) = self.clients.remove(&id) {
                self.release_client(&mut c, "key heartbeat stopped");
                c.last_heartbeat = None;
                self.clients.insert(id, c);
            }
        }
        let _ = self.xtest.flush();
    }
}

/// Releases every key `client` holds; returns how many. `why` is logged when given.
fn release_keys(
    keyboard: &mut Keyboard,
    xtest: &mut XTest,
    client: &mut Client,
    why: Option<&str>,
) -> u64 {
    let mut n = 0;
    for (keysym, keycode) in client.keys.drain() {
        n += 1;
        if let Some(why) = why {
            tracing::info!(keysym, why, "released held key");
        }
        if let Err(e) = keyboard.release(xtest, keycode) {
            tracing::warn!(keysym, error = %e, "release failed");
        }
    }
    n
}
