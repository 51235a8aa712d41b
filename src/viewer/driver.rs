//! The per-viewer driver: carries out [`route`]'s effects against the server's services and
//! produces the messages to send back, including the unasked ones (cursor shapes, clipboard
//! changes, pings, the pipeline in use).
//!
//! A malformed message is rejected with a logged reason and counted; the viewer, the stream and
//! other viewers go on. Everything the viewer holds (keys, buttons, gamepad slots, its pointer
//! vote, its metrics entry) is released when the driver is dropped.

use super::clipboard::ClipboardSession;
use super::message::{PipelineInfo, ServerMessage, SystemAction};
use super::route::{route, Effect};
use crate::access::Role;
use crate::capture::randr::Resizer;
use crate::cursor::message::CursorMessages;
use crate::cursor::CursorShape;
use crate::input::clipboard::Content;
use crate::input::gamepad::GamepadHub;
use crate::input::protocol::{self, Size, Verb};
use crate::input::service::ClientInput;
use crate::input::settings::StreamSettings;
use crate::media::MediaHub;
use crate::metrics::ViewerHandle;
use crate::pipeline::{Control, PipelineHandle};
use crate::services::Services;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;

/// How often the server pings the client (Selkies 1.x does once a second).
const PING_INTERVAL: Duration = Duration::from_secs(1);

/// One connected viewer.
pub struct Viewer {
    peer: String,
    role: Role,
    media: Arc<MediaHub>,
    /// Dropped with the viewer, which releases whatever it still holds.
    input: Option<ClientInput>,
    resizer: Option<Arc<Resizer>>,
    pads: HeldPads,
    pointer: PointerVote,
    clipboard: Option<ClipboardSession>,
    cursor: Option<watch::Receiver<Option<Arc<CursorShape>>>>,
    cursor_messages: CursorMessages,
    /// This viewer's fps and latency reports, shown by `/metrics` while it is connected.
    report: ViewerHandle,
    /// The pipeline the viewer's answer chose, once it did.
    pipeline: watch::Receiver<Option<PipelineHandle>>,
    /// Sent again whenever it changes (an encoder switch or a fallback).
    pipeline_sent: Option<ServerMessage>,
    ping: tokio::time::Interval,
    rejected: u64,
    denied: u64,
}

impl Viewer {
    /// A viewer of `services` logged in as `role`, named `peer` in logs and metrics.
    pub fn new(
        services: &Services,
        role: Role,
        peer: &str,
        pipeline: watch::Receiver<Option<PipelineHandle>>,
    ) -> Self {
        Viewer {
            peer: peer.to_owned(),
            role,
            media: Arc::clone(&services.media),
            input: services.input.as_ref().map(|s| s.client()),
            resizer: services.resizer.clone(),
            pads: HeldPads {
                hub: services.gamepads.clone(),
                slots: 0,
            },
            pointer: PointerVote {
                control: Arc::clone(services.media.control()),
                on: false,
            },
            clipboard: services.clipboard.as_ref().map(ClipboardSession::new),
            cursor: services.cursor.as_ref().map(|c| c.subscribe()),
            cursor_messages: CursorMessages::default(),
            report: services.viewers.join(peer),
            pipeline,
            pipeline_sent: None,
            ping: tokio::time::interval(PING_INTERVAL),
            rejected: 0,
            denied: 0,
        }
    }

    /// What a viewer is told when its channel opens: the settings in force, the pipeline, the
    /// cursor and the clipboard.
    pub fn opened(&mut self) -> Vec<ServerMessage> {
        let control = self.media.control();
        let mut out = vec![
            ServerMessage::System(SystemAction::Framerate(control.fps())),
            ServerMessage::System(SystemAction::VideoBitrate(control.bitrate_kbps())),
            ServerMessage::System(SystemAction::Encoder(control.encoder().0.kind.to_string())),
        ];
        self.pipeline_sent = self.pipeline_message();
        out.extend(self.pipeline_sent.clone());
        let shape = self
            .cursor
            .as_mut()
            .and_then(|c| c.borrow_and_update().clone());
        if let Some(shape) = shape {
            out.push(self.cursor_messages.message(&shape));
        }
        if let Some(clipboard) = &self.clipboard {
            out.extend(clipboard.current());
        }
        out
    }

    /// One message from the viewer, received at `received`; returns the replies.
    pub async fn on_message(&mut self, data: &[u8], received: Instant) -> Vec<ServerMessage> {
        let text = String::from_utf8_lossy(data);
        let verb = match protocol::parse(&text) {
            Ok(verb) => verb,
            Err(e) => {
                self.rejected += 1;
                self.report.rejected();
                tracing::warn!(peer = %self.peer, error = %e, rejected = self.rejected, "rejected data-channel message");
                return Vec::new();
            }
        };
        match route(verb, self.role) {
            Effect::Denied(category) => {
                self.denied += 1;
                if let Some(input) = &self.input {
                    input.count_denied();
                }
                tracing::debug!(peer = %self.peer, role = ?self.role, verb = ?category, denied = self.denied, "input dropped: not allowed for this viewer");
            }
            Effect::Inject(verb) => self.inject(verb, received),
            Effect::Gamepad(verb) => self.gamepad(&verb),
            Effect::Clipboard(verb) => {
                if let Some(session) = self.clipboard.as_mut() {
                    return session.handle(verb, &self.peer).await;
                }
            }
            Effect::PointerInVideo(on) => self.pointer.set(on),
            Effect::SetBitrate(kbps) => {
                let v = self.media.control().set_bitrate_kbps(kbps);
                return vec![ServerMessage::System(SystemAction::VideoBitrate(v))];
            }
            Effect::SetFramerate(fps) => {
                let v = self.media.control().set_fps(fps);
                return vec![ServerMessage::System(SystemAction::Framerate(v))];
            }
            Effect::RequestKeyframe => self.media.control().request_keyframe(),
            Effect::Settings(settings) => return self.settings(settings),
            Effect::Resize(size) => self.resize(size),
            Effect::Pong(start) => {
                let rtt_ms = (unix_seconds() - start) * 1000.0;
                if rtt_ms.is_finite() && rtt_ms >= 0.0 {
                    tracing::trace!(peer = %self.peer, rtt_ms, "pong");
                    self.report.update(|r| r.one_way_ms = Some(rtt_ms / 2.0));
                    return vec![ServerMessage::LatencyMeasurement {
                        latency_ms: rtt_ms / 2.0,
                    }];
                }
            }
            Effect::ClientFps(fps) => {
                tracing::debug!(peer = %self.peer, fps, "client fps");
                self.report.update(|r| r.fps = Some(fps));
            }
            Effect::ClientLatency(ms) => {
                tracing::debug!(peer = %self.peer, ms, "client latency");
                self.report.update(|r| r.latency_ms = Some(ms));
            }
            Effect::Ignored(category) => {
                tracing::debug!(peer = %self.peer, verb = ?category, "verb not handled by the streaming core");
            }
        }
        Vec::new()
    }

    /// The next messages nobody asked for: a cursor shape, a clipboard change, the ping and a
    /// changed pipeline. Pending until there is one; call only while the channel is open.
    pub async fn unasked(&mut self) -> Vec<ServerMessage> {
        tokio::select! {
            shape = next_shape(&mut self.cursor) => {
                shape.map(|s| self.cursor_messages.message(&s)).into_iter().collect()
            }
            content = next_clipboard(self.clipboard.as_mut()) => {
                self.clipboard.as_ref().map(|s| s.messages(&content)).unwrap_or_default()
            }
            _ = self.ping.tick() => {
                let mut out = vec![ServerMessage::Ping { start_time: unix_seconds() }];
                let now = self.pipeline_message();
                if now.is_some() && now != self.pipeline_sent {
                    out.extend(now.clone());
                    self.pipeline_sent = now;
                }
                out
            }
        }
    }

    /// The `pipeline` message: what the viewer is being sent, once the answer chose it.
    fn pipeline_message(&self) -> Option<ServerMessage> {
        let pipeline = self.pipeline.borrow().clone()?;
        Some(ServerMessage::Pipeline(PipelineInfo {
            status: "streaming",
            encoder: pipeline.stats().encoder_name(),
            codec: pipeline.codec().to_string(),
            mime_type: pipeline.codec().mime_type().to_owned(),
        }))
    }

    /// Hands a keyboard or pointer verb to the input thread.
    fn inject(&self, verb: Verb, received: Instant) {
        match &self.input {
            Some(input) if input.send(verb, received) => {}
            Some(_) => {
                tracing::debug!(peer = %self.peer, "input dropped: the input thread is gone")
            }
            None => tracing::trace!(peer = %self.peer, "input dropped: injection is off"),
        }
    }

    /// Hands a `js,…` verb to the gamepad hub and remembers the slot.
    fn gamepad(&mut self, verb: &Verb) {
        let Some(hub) = &self.pads.hub else {
            tracing::trace!(peer = %self.peer, "gamepad verb dropped: gamepads are off");
            return;
        };
        if let Verb::GamepadConnect { index, .. } = verb {
            self.pads.slots |= 1u8.checked_shl(u32::from(*index)).unwrap_or(0);
        }
        if let Err(e) = hub.apply(verb) {
            tracing::debug!(peer = %self.peer, error = %e, "gamepad verb not applied");
        }
    }

    /// Applies `SETTINGS`; Selkies answers each applied setting with its `system` action, and so
    /// do we.
    fn settings(&self, settings: StreamSettings) -> Vec<ServerMessage> {
        let control = self.media.control();
        let mut replies = Vec::new();
        if let Some(kind) = settings.encoder {
            tracing::info!(peer = %self.peer, encoder = %kind, "encoder switch asked");
            self.media.set_encoder(kind);
            replies.push(SystemAction::Encoder(kind.to_string()));
        }
        if let Some(fps) = settings.framerate {
            replies.push(SystemAction::Framerate(control.set_fps(fps)));
        }
        if let Some(kbps) = settings.video_bitrate {
            replies.push(SystemAction::VideoBitrate(control.set_bitrate_kbps(kbps)));
        }
        replies.into_iter().map(ServerMessage::System).collect()
    }

    /// Resizes the X screen off the runtime (RandR round trips block); the pipeline follows.
    fn resize(&self, size: Size) {
        let Size { width, height } = size;
        let Some(resizer) = self.resizer.clone() else {
            tracing::info!(peer = %self.peer, width, height, "resize request ignored: resizing is disabled");
            return;
        };
        let peer = self.peer.clone();
        tokio::task::spawn_blocking(move || match resizer.resize(width, height) {
            Ok((w, h)) => {
                tracing::info!(peer, width = w, height = h, "display resized for a viewer")
            }
            Err(e) => tracing::warn!(peer, width, height, error = %e, "resize refused"),
        });
    }
}

impl Drop for Viewer {
    fn drop(&mut self) {
        tracing::debug!(peer = %self.peer, "viewer gone");
    }
}

fn unix_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The next cursor shape; pending forever when there is no cursor feed (or it ended).
async fn next_shape(
    feed: &mut Option<watch::Receiver<Option<Arc<CursorShape>>>>,
) -> Option<Arc<CursorShape>> {
    let Some(rx) = feed.as_mut() else {
        return std::future::pending().await;
    };
    if rx.changed().await.is_err() {
        *feed = None;
        return None;
    }
    rx.borrow_and_update().clone()
}

/// The next X clipboard change for this viewer; pending forever without a clipboard.
async fn next_clipboard(session: Option<&mut ClipboardSession>) -> Arc<Content> {
    match session {
        Some(s) => s.next_change().await,
        None => std::future::pending().await,
    }
}

/// One viewer's wish to see the pointer drawn into the video; withdrawn when it leaves.
struct PointerVote {
    control: Arc<Control>,
    on: bool,
}

impl PointerVote {
    fn set(&mut self, on: bool) {
        if on != self.on {
            self.control.vote_pointer(on);
            self.on = on;
        }
    }
}

impl Drop for PointerVote {
    fn drop(&mut self) {
        self.set(false);
    }
}

/// The gamepad slots one viewer connected; dropping it releases them.
struct HeldPads {
    hub: Option<Arc<GamepadHub>>,
    slots: u8,
}

impl Drop for HeldPads {
    fn drop(&mut self) {
        if let Some(hub) = &self.hub {
            for slot in (0..8).filter(|s| self.slots & (1 << s) != 0) {
                let _ = hub.release(slot);
            }
        }
    }
}
