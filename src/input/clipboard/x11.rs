//! The clipboard thread: one OS thread with its own X connection (see [`super::xconn`]) that
//! waits (mio, no polling) on three things at once: the X socket, a waker the
//! [`super::Clipboard`] handle rings after queueing a command, and the next transfer deadline.
//!
//! It dispatches X events to the [`Owner`] (client → server: we own the selections and answer
//! requests) and the [`Reader`] (server → client: another client owns CLIPBOARD and we read it),
//! and publishes what the reader finds. X protocol errors from unchecked requests (a requestor
//! destroyed its window before our reply landed) are expected and ignored; a broken connection
//! ends the thread, after which writes fail with [`ClipboardError::Stopped`].

use std::os::fd::AsRawFd;
use std::sync::{mpsc, Arc};
use std::time::Instant;

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};
use tokio::sync::oneshot;
use xcb::{x, xfixes, Xid as _};

use super::content::Content;
use super::owner::Owner;
use super::reader::{Outcome, Reader};
use super::xconn::Xc;
use super::{ClipboardConfig, ClipboardError, Shared};

const X_SOCKET: Token = Token(0);
const WAKER: Token = Token(1);

/// A request from the [`super::Clipboard`] handle.
pub(super) enum Command {
    /// Own the selections with this content; `done` says whether we got them.
    Set {
        content: Arc<Content>,
        done: oneshot::Sender<Result<(), ClipboardError>>,
    },
    /// Stop the thread.
    Shutdown,
}

/// The handle's end: queue a command, then wake the thread.
pub(super) struct Commands {
    tx: mpsc::Sender<Command>,
    waker: Waker,
}

impl Commands {
    pub fn send(&self, command: Command) -> Result<(), ClipboardError> {
        self.tx.send(command).map_err(|_| ClipboardError::Stopped)?;
        self.waker.wake().map_err(|_| ClipboardError::Stopped)
    }
}

/// Starts the thread on an open connection.
pub(super) fn spawn(
    xc: Xc,
    config: ClipboardConfig,
    shared: Arc<Shared>,
) -> Result<(std::thread::JoinHandle<()>, Commands), ClipboardError> {
    let poll = Poll::new().map_err(ClipboardError::Thread)?;
    let fd = xc.conn.as_raw_fd();
    poll.registry()
        .register(&mut SourceFd(&fd), X_SOCKET, Interest::READABLE)
        .map_err(ClipboardError::Thread)?;
    let waker = Waker::new(poll.registry(), WAKER).map_err(ClipboardError::Thread)?;
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::Builder::new()
        .name("clipboard-x11".into())
        .spawn(move || run(poll, Worker::new(xc, config, shared), &rx))
        .map_err(ClipboardError::Thread)?;
    Ok((handle, Commands { tx, waker }))
}

fn run(mut poll: Poll, mut worker: Worker, rx: &mpsc::Receiver<Command>) {
    if let Err(e) = worker.init() {
        tracing::error!(error = %e, "clipboard: X setup failed; clipboard disabled");
        return;
    }
    let mut events = Events::with_capacity(4);
    'outer: loop {
        // The socket is registered edge-triggered: everything readable must be consumed before
        // waiting again, which `drain` does (it stops only when a read would block).
        if let Err(e) = worker.drain() {
            tracing::error!(error = %e, "clipboard: X connection lost; clipboard stopped");
            break;
        }
        worker.expire(Instant::now());
        if let Err(e) = worker.xc.conn.flush() {
            tracing::error!(error = %e, "clipboard: X connection lost; clipboard stopped");
            break;
        }
        // A flush blocked on a full socket reads incoming data into xcb's queue; the socket
        // then looks idle, so those events must be handled before waiting on it.
        match worker.xc.conn.poll_for_queued_event() {
            Ok(Some(event)) => {
                worker.handle(event);
                continue;
            }
            Ok(None) => {}
            Err(e) => {
                tracing::debug!(error = ?e, "clipboard: X error ignored");
                continue;
            }
        }
        let timeout = worker
            .next_deadline()
            .map(|d| d.saturating_duration_since(Instant::now()));
        if let Err(e) = poll.poll(&mut events, timeout) {
            if e.kind() != std::io::ErrorKind::Interrupted {
                tracing::error!(error = %e, "clipboard: waiting on the X socket failed; clipboard stopped");
                break;
            }
        }
        loop {
            match rx.try_recv() {
                Ok(Command::Set { content, done }) => {
                    worker.owner.begin_set(&worker.xc, content, done);
                }
                Ok(Command::Shutdown) | Err(mpsc::TryRecvError::Disconnected) => break 'outer,
                Err(mpsc::TryRecvError::Empty) => break,
            }
        }
    }
    worker.owner.abandon();
    // Writes queued after the last look fail too.
    while let Ok(command) = rx.try_recv() {
        if let Command::Set { done, .. } = command {
            let _ = done.send(Err(ClipboardError::Stopped));
        }
    }
}

struct Worker {
    xc: Xc,
    config: ClipboardConfig,
    shared: Arc<Shared>,
    owner: Owner,
    reader: Reader,
    last_published: Option<Arc<Content>>,
}

impl Worker {
    fn new(xc: Xc, config: ClipboardConfig, shared: Arc<Shared>) -> Self {
        let owner = Owner::new(xc.chunk);
        let reader = Reader::new(config.max_bytes, config.binary);
        Self {
            xc,
            config,
            shared,
            owner,
            reader,
            last_published: None,
        }
    }

    /// Watches CLIPBOARD ownership and reads the current owner's content, when reading is allowed.
    fn init(&mut self) -> Result<(), ClipboardError> {
        if !self.config.policy.allows_out() {
            return Ok(());
        }
        if !self.xc.xfixes {
            tracing::warn!(
                "clipboard: the X server has no XFIXES extension; copies made on the server \
                 will not reach browsers"
            );
            return Ok(());
        }
        self.xc
            .conn
            .send_and_check_request(&xfixes::SelectSelectionInput {
                window: self.xc.root,
                selection: self.xc.atoms.clipboard,
                event_mask: xfixes::SelectionEventMask::SET_SELECTION_OWNER
                    | xfixes::SelectionEventMask::SELECTION_WINDOW_DESTROY
                    | xfixes::SelectionEventMask::SELECTION_CLIENT_CLOSE,
            })?;
        let owner = self.xc.owner_of(self.xc.atoms.clipboard)?;
        if !owner.is_none() && owner != self.xc.window {
            self.reader.start(&self.xc, x::CURRENT_TIME, Instant::now());
        }
        Ok(())
    }

    /// Handles every event xcb has or can read without blocking.
    fn drain(&mut self) -> Result<(), xcb::ConnError> {
        loop {
            match self.xc.conn.poll_for_event() {
                Ok(Some(event)) => self.handle(event),
                // `None` also means the connection just broke.
                Ok(None) => return self.xc.conn.has_error(),
                Err(xcb::Error::Protocol(e)) => {
                    tracing::debug!(error = ?e, "clipboard: X error ignored");
                }
                Err(xcb::Error::Connection(e)) => return Err(e),
            }
        }
    }

    fn handle(&mut self, event: xcb::Event) {
        let now = Instant::now();
        match event {
            xcb::Event::X(x::Event::SelectionRequest(ev)) => {
                self.owner.on_request(&self.xc, &ev, now);
            }
            xcb::Event::X(x::Event::SelectionClear(ev)) => {
                self.owner.on_clear(&self.xc, ev.selection());
            }
            xcb::Event::X(x::Event::SelectionNotify(ev)) => {
                let outcome = self.reader.on_notify(&self.xc, &ev, now);
                self.publish(outcome);
            }
            xcb::Event::X(x::Event::PropertyNotify(ev)) => self.on_property(&ev, now),
            xcb::Event::X(x::Event::DestroyNotify(ev)) => self.owner.on_destroy(ev.window()),
            xcb::Event::XFixes(xfixes::Event::SelectionNotify(ev)) => {
                self.on_owner_change(&ev, now);
            }
            _ => {}
        }
    }

    fn on_property(&mut self, ev: &x::PropertyNotifyEvent, now: Instant) {
        if ev.window() == self.xc.window {
            if ev.state() != x::Property::NewValue {
                return;
            }
            if ev.atom() == self.xc.atoms.stamp {
                self.owner.on_stamp(&self.xc, ev.time(), &self.shared);
            } else if ev.atom() == self.xc.atoms.transfer {
                let outcome = self.reader.on_new_value(&self.xc, now);
                self.publish(outcome);
            }
        } else if ev.state() == x::Property::Delete {
            self.owner.on_delete(&self.xc, ev.window(), ev.atom(), now);
        }
    }

    fn on_owner_change(&mut self, ev: &xfixes::SelectionNotifyEvent, now: Instant) {
        if ev.selection() != self.xc.atoms.clipboard || !self.config.policy.allows_out() {
            return;
        }
        match ev.subtype() {
            // Our own ownership: the browser already has this content.
            xfixes::SelectionEvent::SetSelectionOwner if ev.owner() == self.xc.window => {}
            xfixes::SelectionEvent::SetSelectionOwner if !ev.owner().is_none() => {
                // Until the read completes, the clipboard holds something we do not know.
                self.shared.set_current(None);
                self.reader.start(&self.xc, ev.timestamp(), now);
            }
            _ => {
                self.reader.cancel();
                if !self.owner.owns_clipboard() {
                    self.shared.set_current(None);
                }
            }
        }
    }

    fn publish(&mut self, outcome: Outcome) {
        let Outcome::Content(content) = outcome else {
            return;
        };
        // We took the selection back while the read was in flight: what came back is either
        // ours or stale.
        if self.owner.owns_clipboard() {
            return;
        }
        let content = Arc::new(content);
        self.shared.set_current(Some(Arc::clone(&content)));
        if self.last_published.as_deref() == Some(&*content) {
            return;
        }
        tracing::info!(
            mime = %content.mime,
            bytes = content.len(),
            "clipboard: server clipboard changed"
        );
        self.shared.publish(Arc::clone(&content));
        self.last_published = Some(content);
    }

    fn expire(&mut self, now: Instant) {
        self.owner.expire(&self.xc, now);
        let outcome = self.reader.expire(now);
        self.publish(outcome);
    }

    fn next_deadline(&self) -> Option<Instant> {
        match (self.owner.next_deadline(), self.reader.deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}
