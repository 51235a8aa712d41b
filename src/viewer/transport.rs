//! What carries a viewer's messages: text and bytes in, text out. The WebRTC data channel is one
//! ([`crate::rtc::channel`]); a WebSocket can be another. [`serve`] is the one loop that joins a
//! transport to a [`Viewer`], so every transport behaves the same.

use super::Viewer;
use bytes::Bytes;
use std::time::Instant;

/// What a transport delivers.
#[derive(Debug)]
pub enum Inbound {
    /// The channel opened: the viewer can be told the state of the stream.
    Opened,
    /// One message from the browser, and when it arrived.
    Message(Bytes, Instant),
}

/// A viewer's channel to its browser.
#[async_trait::async_trait]
pub trait Transport: Send {
    /// The next event; `None` once the channel closed. Must be cancel-safe (it races the
    /// viewer's unasked messages).
    async fn next(&mut self) -> Option<Inbound>;
    /// Sends one text message; an error means the channel is going away.
    async fn send(&mut self, text: String) -> Result<(), String>;
}

/// Runs `viewer` over `transport` until the channel closes, then drops the viewer, which
/// releases everything it held.
pub async fn serve(mut viewer: Viewer, mut transport: impl Transport, peer: &str) {
    let mut open = false;
    loop {
        let out = tokio::select! {
            event = transport.next() => match event {
                None => break,
                Some(Inbound::Opened) => {
                    open = true;
                    viewer.opened()
                }
                Some(Inbound::Message(data, received)) => viewer.on_message(&data, received).await,
            },
            out = viewer.unasked(), if open => out,
        };
        for message in out {
            if let Err(e) = transport.send(message.to_text()).await {
                tracing::debug!(peer, error = %e, "message not sent");
            }
        }
    }
    tracing::debug!(peer, "viewer channel closed");
}
