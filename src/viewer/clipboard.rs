//! One viewer's side of the clipboard: reassembles its writes, answers its reads, and follows the
//! X clipboard for it. The X side (owning and reading selections) is `input::clipboard`.

use std::sync::Arc;

use tokio::sync::broadcast;

use super::message::ServerMessage;
use crate::input::clipboard::{outgoing, Assembler, Clipboard, Content, Dialect};
use crate::input::protocol::Verb;

/// The clipboard as one viewer sees it.
pub struct ClipboardSession {
    clipboard: Clipboard,
    assembler: Assembler,
    dialect: Dialect,
    changes: Option<broadcast::Receiver<Arc<Content>>>,
}

impl ClipboardSession {
    pub fn new(clipboard: &Clipboard) -> Self {
        let out = clipboard.config().policy.allows_out();
        ClipboardSession {
            assembler: clipboard.assembler(),
            dialect: Dialect::default(),
            changes: out.then(|| clipboard.subscribe()),
            clipboard: clipboard.clone(),
        }
    }

    /// Applies a clipboard verb; returns the messages to send back (the clipboard, for reads).
    pub async fn handle(&mut self, verb: Verb, peer: &str) -> Vec<ServerMessage> {
        // Selkies 2.x clients announce themselves by the verbs only they send.
        if matches!(
            verb,
            Verb::RequestClipboard
                | Verb::ClipboardBinary { .. }
                | Verb::ClipboardTextStart { .. }
                | Verb::ClipboardBinaryStart { .. }
        ) {
            self.dialect = Dialect::Selkies2;
        }
        if matches!(verb, Verb::ClipboardRead | Verb::RequestClipboard) {
            return self.current();
        }
        if !self.clipboard.config().policy.allows_in() {
            // Checked before assembling, so a refused transfer is not buffered first.
            tracing::debug!(
                peer,
                "clipboard write dropped: the policy forbids browser → server"
            );
            return Vec::new();
        }
        match self.assembler.push(verb) {
            Ok(Some(content)) => {
                let (mime, len) = (content.mime.clone(), content.data.len());
                match self.clipboard.set(content).await {
                    Ok(()) => tracing::debug!(peer, %mime, len, "clipboard set from the browser"),
                    Err(e) => tracing::warn!(peer, error = %e, "clipboard write refused"),
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(peer, error = %e, "clipboard transfer rejected"),
        }
        Vec::new()
    }

    /// The messages carrying the current X clipboard, if there is one and it may go out.
    pub fn current(&self) -> Vec<ServerMessage> {
        self.clipboard
            .current()
            .map(|c| self.messages(&c))
            .unwrap_or_default()
    }

    /// The messages for `content`, in order.
    pub fn messages(&self, content: &Content) -> Vec<ServerMessage> {
        outgoing::messages(content, self.dialect, outgoing::DEFAULT_MAX_MESSAGE_BYTES).collect()
    }

    /// The next change of the X clipboard; pending forever when none can come.
    pub async fn next_change(&mut self) -> Arc<Content> {
        loop {
            let Some(rx) = self.changes.as_mut() else {
                return std::future::pending().await;
            };
            match rx.recv().await {
                Ok(content) => return content,
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => self.changes = None,
            }
        }
    }
}
