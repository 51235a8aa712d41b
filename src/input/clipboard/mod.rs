//! The clipboard, both ways, text (UTF-8) and images (PNG), with the server owning and reading the
//! X selections itself: no helper programs, no polling.
//!
//! - **Browser → server** ("in"): [`Clipboard::set`] makes our own unmapped window the owner of
//!   CLIPBOARD and PRIMARY (so both Ctrl+V and middle-click paste work) and answers other
//!   clients' requests, by INCR for large values. Per client, an [`Assembler`] turns the
//!   data-channel verbs (`cw`, `cb`, `cws/cwd/cwe`, `cbs/cbd/cbe`) into [`Content`].
//! - **Server → browser** ("out"): XFIXES reports every new CLIPBOARD owner; the thread asks it
//!   for `TARGETS`, reads `image/png` (when binary content is allowed and offered) or text, and
//!   publishes the result to subscribers ([`Clipboard::subscribe`]). [`Clipboard::current`]
//!   answers `cr` and `REQUEST_CLIPBOARD`. [`outgoing::messages`] shapes content into data-channel messages.
//!
//! [`Policy`] (Selkies' `enable_clipboard`) gates each direction; `max_bytes` bounds every value
//! in both. Content the browser set is never published back to subscribers.
//!
//! Module map: [`content`] and [`policy`] (values), [`assemble`] (browser → server reassembly,
//! pure), [`outgoing`] (server → browser messages, pure), and the X side: `x11` (the thread and
//! its event loop), `owner` (serving requests), `reader` (reading other owners), `incr` (INCR
//! bookkeeping), `xconn` (connection helpers), `atoms`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), selkies_rs::input::clipboard::ClipboardError> {
//! use selkies_rs::input::clipboard::{Clipboard, ClipboardConfig, Content, Policy};
//! let clipboard = Clipboard::start(":0", ClipboardConfig {
//!     policy: "true".parse().unwrap_or(Policy::Both),
//!     max_bytes: 64 * 1024 * 1024,
//!     binary: true,
//! })?;
//! let mut changes = clipboard.subscribe();
//! clipboard.set(Content::text("from the browser")).await?;
//! while let Ok(content) = changes.recv().await {
//!     println!("server copied {} bytes of {}", content.len(), content.mime);
//! }
//! # Ok(()) }
//! ```

pub mod assemble;
mod atoms;
pub mod content;
mod incr;
pub mod outgoing;
mod owner;
pub mod policy;
mod reader;
mod x11;
mod xconn;

use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use tokio::sync::{broadcast, oneshot};

pub use assemble::{AssembleError, Assembler};
pub use content::{Content, PNG_MIME, TEXT_MIME};
pub use outgoing::Dialect;
pub use policy::{Direction, Policy, PolicyParseError};

use crate::input::protocol::{MAX_CLIPBOARD_TOTAL, MAX_MIME_BYTES};
use x11::{Command, Commands};

/// Default size limit: Selkies 2.x's `MULTIPART_CLIPBOARD_MAX_SIZE` (64 MiB), which is also the
/// largest multipart transfer the verb parser accepts.
pub const DEFAULT_MAX_BYTES: usize = MAX_CLIPBOARD_TOTAL as usize;

/// Clipboard settings.
///
/// ```
/// use selkies_rs::input::clipboard::{ClipboardConfig, Policy};
/// let config = ClipboardConfig::default();
/// assert_eq!(config.policy, Policy::Both);
/// assert_eq!(config.max_bytes, 64 * 1024 * 1024);
/// assert!(config.binary);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClipboardConfig {
    /// Which directions are allowed (`SELKIES_ENABLE_CLIPBOARD`).
    pub policy: Policy,
    /// Largest value in bytes, either direction. Larger values are refused (browser → server) or
    /// dropped with a log line (server → browser).
    pub max_bytes: usize,
    /// Whether non-text content (images) may flow (Selkies 2.x `enable_binary_clipboard`).
    pub binary: bool,
}

impl Default for ClipboardConfig {
    fn default() -> Self {
        Self {
            policy: Policy::Both,
            max_bytes: DEFAULT_MAX_BYTES,
            binary: true,
        }
    }
}

/// Why the clipboard refused a value or could not start. `Display` is one line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClipboardError {
    /// The policy forbids this direction.
    #[error("clipboard {direction} is disabled (enable_clipboard={policy})")]
    Forbidden {
        /// The configured policy.
        policy: Policy,
        /// The refused direction.
        direction: Direction,
    },
    /// The value is above `max_bytes`.
    #[error("clipboard content too large ({len} bytes, limit {max})")]
    TooLarge {
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Non-text content while the binary clipboard is disabled.
    #[error("binary clipboard content ({mime}) is disabled (enable_binary_clipboard=false)")]
    BinaryDisabled {
        /// Its MIME type.
        mime: String,
    },
    /// Text content that is not UTF-8.
    #[error("clipboard text is not valid UTF-8")]
    InvalidText,
    /// A MIME type that cannot name an X target (empty, too long, or not printable ASCII).
    #[error("invalid clipboard MIME type {0:?}")]
    InvalidMime(String),
    /// The X display is unreachable.
    #[error("clipboard: cannot connect to X display {display:?}: {source}")]
    Connect {
        /// The display name.
        display: String,
        /// Why.
        source: xcb::ConnError,
    },
    /// The display has no such screen.
    #[error("clipboard: X display has no screen {0}")]
    NoScreen(i32),
    /// An X request failed.
    #[error("clipboard: X request failed: {0:?}")]
    X(#[from] xcb::Error),
    /// The X server refused a request.
    #[error("clipboard: X protocol error: {0:?}")]
    Protocol(#[from] xcb::ProtocolError),
    /// The thread or its runtime could not be created.
    #[error("clipboard: cannot start the X clipboard thread: {0}")]
    Thread(#[source] std::io::Error),
    /// Another X client took the selection at the same moment.
    #[error("clipboard: another X client took the clipboard first")]
    NotOwner,
    /// The clipboard thread has ended (the X connection was lost, or the clipboard is off).
    #[error("clipboard: the X clipboard thread has stopped")]
    Stopped,
}

/// State the thread writes and the handle reads.
pub(crate) struct Shared {
    current: Mutex<Option<Arc<Content>>>,
    changes: broadcast::Sender<Arc<Content>>,
}

impl Shared {
    fn new() -> Self {
        // One slot: only the newest value matters, and each slot may pin a large image.
        let (changes, _) = broadcast::channel(1);
        Self {
            current: Mutex::new(None),
            changes,
        }
    }

    fn current(&self) -> Option<Arc<Content>> {
        self.current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set_current(&self, content: Option<Arc<Content>>) {
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = content;
    }

    fn publish(&self, content: Arc<Content>) {
        // No subscriber is not an error: nobody is connected.
        let _ = self.changes.send(content);
    }
}

/// Owner of the thread; stopping it when the last [`Clipboard`] clone goes.
struct Inner {
    config: ClipboardConfig,
    shared: Arc<Shared>,
    commands: Option<Commands>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let commands = self.commands.take();
        if let Some(commands) = &commands {
            let _ = commands.send(Command::Shutdown);
        }
        if let Some(thread) = self.thread.take() {
            // The thread leaves its loop as soon as it sees the command; a panic there has been
            // reported by the panic hook already.
            let _ = thread.join();
        }
        // Only now: closing the waker's eventfd would withdraw a wake-up not yet collected.
        drop(commands);
    }
}

/// The server's clipboard: a handle on the X clipboard thread. Cheap to clone; the thread stops
/// when the last clone is dropped.
#[derive(Clone)]
pub struct Clipboard {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Clipboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clipboard")
            .field("config", &self.inner.config)
            .field("running", &self.inner.commands.is_some())
            .finish()
    }
}

impl Clipboard {
    /// Connects to X display `display` (e.g. `":0"`) and starts the clipboard thread. With
    /// [`Policy::Off`] nothing connects: the handle refuses writes and never publishes.
    ///
    /// # Errors
    /// [`ClipboardError::Connect`] when the display is unreachable, and the X or thread errors
    /// when setup fails.
    pub fn start(display: &str, config: ClipboardConfig) -> Result<Self, ClipboardError> {
        let shared = Arc::new(Shared::new());
        let (commands, thread) = if config.policy == Policy::Off {
            (None, None)
        } else {
            let xc = xconn::Xc::connect(display)?;
            let (thread, commands) = x11::spawn(xc, config, Arc::clone(&shared))?;
            // A field named `display` would resolve to tracing's own `display` helper.
            let x_display = display;
            tracing::info!(
                policy = %config.policy,
                max_bytes = config.max_bytes,
                binary = config.binary,
                x_display,
                "clipboard: started"
            );
            (Some(commands), Some(thread))
        };
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                shared,
                commands,
                thread,
            }),
        })
    }

    /// The configuration it runs with.
    pub fn config(&self) -> ClipboardConfig {
        self.inner.config
    }

    /// A fresh [`Assembler`] for one client, with this clipboard's limits. It does not know the
    /// policy: check `config().policy.allows_in()` before feeding it, so a transfer that would be
    /// refused is not buffered first.
    pub fn assembler(&self) -> Assembler {
        Assembler::new(self.inner.config.max_bytes, self.inner.config.binary)
    }

    /// Whether `content` would be accepted by [`set`](Self::set): the policy allows "in", it is
    /// within `max_bytes`, binary content is enabled if it is binary, text is UTF-8, and the MIME
    /// type can name an X target.
    ///
    /// # Errors
    /// The [`ClipboardError`] `set` would return.
    pub fn check(&self, content: &Content) -> Result<(), ClipboardError> {
        let config = self.inner.config;
        if !config.policy.allows_in() {
            return Err(ClipboardError::Forbidden {
                policy: config.policy,
                direction: Direction::In,
            });
        }
        if content.len() > config.max_bytes {
            return Err(ClipboardError::TooLarge {
                len: content.len(),
                max: config.max_bytes,
            });
        }
        let mime = &content.mime;
        if mime.is_empty()
            || mime.len() > MAX_MIME_BYTES
            || !mime.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(ClipboardError::InvalidMime(mime.chars().take(64).collect()));
        }
        if content.is_text() {
            if content.as_text().is_none() {
                return Err(ClipboardError::InvalidText);
            }
        } else if !config.binary {
            return Err(ClipboardError::BinaryDisabled { mime: mime.clone() });
        }
        Ok(())
    }

    /// Sets the server clipboard (CLIPBOARD and PRIMARY) to `content`, from a browser. Resolves
    /// once the X server has made us the owner; other X clients can paste from then on. A refusal
    /// is logged here, so callers need not log it again.
    ///
    /// # Errors
    /// See [`check`](Self::check); also [`ClipboardError::NotOwner`] when another X client took
    /// the selection in the same instant, and [`ClipboardError::Stopped`] when the thread is gone.
    pub async fn set(&self, content: Content) -> Result<(), ClipboardError> {
        if let Err(e) = self.check(&content) {
            tracing::warn!(error = %e, mime = %content.mime, bytes = content.len(), "clipboard: write refused");
            return Err(e);
        }
        let commands = self
            .inner
            .commands
            .as_ref()
            .ok_or(ClipboardError::Stopped)?;
        let (done, result) = oneshot::channel();
        commands.send(Command::Set {
            content: Arc::new(content),
            done,
        })?;
        result.await.map_err(|_| ClipboardError::Stopped)?
    }

    /// Server clipboard changes made by X clients (never the values [`set`](Self::set) wrote).
    /// The channel keeps only the newest value: a slow receiver gets `Lagged`, then the newest.
    /// Nothing is ever sent when the policy forbids "out".
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Content>> {
        self.inner.shared.changes.subscribe()
    }

    /// What the server clipboard holds now, for `cr` / `REQUEST_CLIPBOARD`: the last value read
    /// from an X client, or the last one a browser set while we still own it. `None` when the
    /// clipboard is empty, unknown (a read is in flight or was dropped), or "out" is forbidden.
    pub fn current(&self) -> Option<Arc<Content>> {
        if !self.inner.config.policy.allows_out() {
            return None;
        }
        self.inner.shared.current()
    }
}
