//! The `input` data channel of one viewer: receives the client's verbs and sends it server
//! messages (`{"type": T, "data": D}`).
//!
//! This file handles the streaming-core verbs (bitrate, fps, keyframe, pings and client stats) and
//! hands keyboard and pointer verbs to the input thread. A malformed message is rejected with a
//! logged reason and counted; the channel, the stream and other viewers go on.

use crate::capture::randr::Resizer;
use crate::cursor::message::CursorMessages;
use crate::cursor::watch::CursorWatcher;
use crate::cursor::CursorShape;
use crate::input::gamepad::GamepadHub;
use crate::input::protocol::{self, Category, Verb};
use crate::input::service::{ClientInput, Role};
use crate::media::MediaHub;
use crate::metrics::ViewerHandle;
use crate::pipeline::Control;
use crate::rtc::clipboard::ClipboardSession;
use crate::rtc::peer::Negotiated;
use crate::services::Services;
use serde_json::json;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;
use webrtc::data_channel::{DataChannel, DataChannelEvent};

/// How often the server pings the client (Selkies 1.x does once a second).
const PING_INTERVAL: Duration = Duration::from_secs(1);

fn unix_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Formats a server → client message.
pub fn message(kind: &str, data: serde_json::Value) -> String {
    json!({ "type": kind, "data": data }).to_string()
}

/// The `pipeline` message: what the viewer is being sent, once the answer chose it.
fn pipeline_message(negotiated: &watch::Receiver<Option<Negotiated>>) -> Option<String> {
    let n = negotiated.borrow().clone()?;
    let stats = n.media.stats();
    Some(message(
        "pipeline",
        json!({
            "status": "streaming",
            "encoder": stats.encoder_name(),
            "codec": n.media.codec().to_string(),
            "mime_type": n.media.codec().mime_type(),
        }),
    ))
}

/// Runs the channel until it closes.
pub async fn serve(
    dc: Arc<dyn DataChannel>,
    services: Services,
    role: Role,
    peer: String,
    negotiated: watch::Receiver<Option<Negotiated>>,
) {
    let media = Arc::clone(&services.media);
    // Sent again whenever it changes (an encoder switch or a fallback).
    let mut pipeline_sent: Option<String> = None;
    // Dropped when the channel ends, which releases whatever this viewer still holds.
    let input = services.input.as_ref().map(|s| s.client(role));
    let mut cursor = services.cursor.as_ref().map(CursorWatcher::subscribe);
    let mut cursor_messages = CursorMessages::default();
    let mut ping = tokio::time::interval(PING_INTERVAL);
    let mut open = false;
    let mut rejected: u64 = 0;
    // This viewer's fps and latency reports, shown by `/metrics` while the channel is open.
    let viewer = services.viewers.join(&peer);
    let mut denied: u64 = 0;
    // Gamepad slots this viewer drove, released when it leaves (also when the peer's teardown
    // aborts this task: hence a guard, not code after the loop).
    let mut clipboard = services.clipboard.as_ref().map(ClipboardSession::new);
    let mut pointer = PointerVote {
        control: Arc::clone(media.control()),
        on: false,
    };
    let mut pads = HeldPads {
        hub: services.gamepads.clone(),
        slots: 0,
    };
    loop {
        tokio::select! {
            event = dc.poll() => match event {
                None | Some(DataChannelEvent::OnClose) => break,
                Some(DataChannelEvent::OnOpen) => {
                    open = true;
                    let control = media.control();
                    for text in [
                        message("system", json!({ "action": format!("framerate,{}", control.fps()) })),
                        message("system", json!({ "action": format!("video_bitrate,{}", control.bitrate_kbps()) })),
                        message("system", json!({ "action": format!("encoder,{}", control.encoder().0.kind) })),
                    ] {
                        let _ = dc.send_text(&text).await;
                    }
                    pipeline_sent = pipeline_message(&negotiated);
                    if let Some(text) = &pipeline_sent {
                        let _ = dc.send_text(text).await;
                    }
                    let current = cursor.as_mut().and_then(|c| c.borrow_and_update().clone());
                    if let Some(shape) = current {
                        let _ = dc.send_text(&message("cursor", cursor_messages.data(&shape))).await;
                    }
                    for text in clipboard.as_ref().map(ClipboardSession::current).unwrap_or_default() {
                        let _ = dc.send_text(&text).await;
                    }
                }
                Some(DataChannelEvent::OnMessage(msg)) => {
                    let received = Instant::now();
                    let text = String::from_utf8_lossy(&msg.data);
                    match protocol::parse(&text) {
                        Ok(verb) if !role.allows(verb.category()) => {
                            denied += 1;
                            if let Some(input) = &services.input {
                                input.stats().denied.fetch_add(1, Ordering::Relaxed);
                            }
                            tracing::debug!(peer = %peer, ?role, verb = ?verb.category(), denied, "input dropped: not allowed for this viewer");
                        }
                        Ok(Verb::PointerVisible(on) | Verb::NativeCursorRendering(on)) => {
                            pointer.set(on);
                        }
                        Ok(verb) if ClipboardSession::handles(&verb) => {
                            if let Some(session) = clipboard.as_mut() {
                                for text in session.handle(verb, &peer).await {
                                    let _ = dc.send_text(&text).await;
                                }
                            }
                        }
                        Ok(verb) if verb.category() == Category::Gamepad => {
                            gamepad(services.gamepads.as_deref(), &verb, &mut pads, &peer);
                        }
                        Ok(verb) if is_input(&verb) => {
                            inject(input.as_ref(), verb, received, &peer);
                        }
                        Ok(verb) => {
                            for reply in apply(&verb, &media, services.resizer.as_ref(), &viewer, &peer) {
                                let _ = dc.send_text(&reply).await;
                            }
                        }
                        Err(e) => {
                            rejected += 1;
                            viewer.rejected();
                            tracing::warn!(peer = %peer, error = %e, rejected, "rejected data-channel message");
                        }
                    }
                }
                Some(_) => {}
            },
            shape = next_shape(&mut cursor), if open => {
                if let Some(shape) = shape {
                    let _ = dc.send_text(&message("cursor", cursor_messages.data(&shape))).await;
                }
            }
            content = next_clipboard(clipboard.as_mut()), if open => {
                if let Some(session) = clipboard.as_ref() {
                    for text in session.messages(&content) {
                        let _ = dc.send_text(&text).await;
                    }
                }
            }
            _ = ping.tick(), if open => {
                let _ = dc.send_text(&message("ping", json!({ "start_time": unix_seconds() }))).await;
                let now = pipeline_message(&negotiated);
                if now.is_some() && now != pipeline_sent {
                    if let Some(text) = &now {
                        let _ = dc.send_text(text).await;
                    }
                    pipeline_sent = now;
                }
            }
        }
    }
    tracing::debug!(peer = %peer, "data channel closed");
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

/// Resizes the X screen off the runtime (RandR round trips block); the pipeline follows.
fn resize(resizer: Option<&Arc<Resizer>>, width: u32, height: u32, peer: &str) {
    let Some(resizer) = resizer.cloned() else {
        tracing::info!(
            peer,
            width,
            height,
            "resize request ignored: resizing is disabled"
        );
        return;
    };
    let peer = peer.to_owned();
    tokio::task::spawn_blocking(move || match resizer.resize(width, height) {
        Ok((w, h)) => tracing::info!(peer, width = w, height = h, "display resized for a viewer"),
        Err(e) => tracing::warn!(peer, width, height, error = %e, "resize refused"),
    });
}

/// The next X clipboard change for this viewer; pending forever without a clipboard.
async fn next_clipboard(
    session: Option<&mut ClipboardSession>,
) -> Arc<crate::input::clipboard::Content> {
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

/// Hands a `js,…` verb to the gamepad hub and remembers the slot.
fn gamepad(hub: Option<&GamepadHub>, verb: &Verb, pads: &mut HeldPads, peer: &str) {
    let Some(hub) = hub else {
        tracing::trace!(peer, "gamepad verb dropped: gamepads are off");
        return;
    };
    if let Verb::GamepadConnect { index, .. } = verb {
        pads.slots |= 1u8.checked_shl(u32::from(*index)).unwrap_or(0);
    }
    if let Err(e) = hub.apply(verb) {
        tracing::debug!(peer, error = %e, "gamepad verb not applied");
    }
}

fn is_input(verb: &Verb) -> bool {
    matches!(verb.category(), Category::Keyboard | Category::Mouse)
}

/// Hands a keyboard or pointer verb to the input thread.
fn inject(input: Option<&ClientInput>, verb: Verb, received: Instant, peer: &str) {
    match input {
        Some(input) if input.send(verb, received) => {}
        Some(input) => {
            tracing::debug!(peer, role = ?input.role(), "input dropped: not allowed for this viewer");
        }
        None => tracing::trace!(peer, "input dropped: injection is off"),
    }
}

/// Applies one verb; returns the messages to send back.
fn apply(
    verb: &Verb,
    media: &MediaHub,
    resizer: Option<&Arc<Resizer>>,
    viewer: &ViewerHandle,
    peer: &str,
) -> Vec<String> {
    let control = media.control();
    match verb {
        Verb::VideoBitrate(kbps) => {
            let v = control.set_bitrate_kbps(*kbps);
            vec![message(
                "system",
                json!({ "action": format!("video_bitrate,{v}") }),
            )]
        }
        Verb::Framerate(fps) => {
            let v = control.set_fps(*fps);
            vec![message(
                "system",
                json!({ "action": format!("framerate,{v}") }),
            )]
        }
        Verb::RequestKeyframe => {
            control.request_keyframe();
            Vec::new()
        }
        Verb::Settings(settings) => {
            // Selkies answers each applied setting with its `system` action; so do we.
            let mut replies = Vec::new();
            if let Some(kind) = settings.encoder {
                tracing::info!(peer, encoder = %kind, "encoder switch asked");
                media.set_encoder(kind);
                replies.push(format!("encoder,{kind}"));
            }
            if let Some(fps) = settings.framerate {
                replies.push(format!("framerate,{}", control.set_fps(fps)));
            }
            if let Some(kbps) = settings.video_bitrate {
                replies.push(format!("video_bitrate,{}", control.set_bitrate_kbps(kbps)));
            }
            replies
                .into_iter()
                .map(|action| message("system", json!({ "action": action })))
                .collect()
        }
        Verb::Resize { size, .. }
        | Verb::ResizeMode {
            enabled: true,
            size: Some(size),
        } => {
            resize(resizer, size.width, size.height, peer);
            Vec::new()
        }
        Verb::Pong(start) => {
            let rtt_ms = (unix_seconds() - start) * 1000.0;
            if rtt_ms.is_finite() && rtt_ms >= 0.0 {
                tracing::trace!(peer, rtt_ms, "pong");
                viewer.update(|r| r.one_way_ms = Some(rtt_ms / 2.0));
                vec![message(
                    "latency_measurement",
                    json!({ "latency_ms": rtt_ms / 2.0 }),
                )]
            } else {
                Vec::new()
            }
        }
        Verb::ClientFps(fps) => {
            tracing::debug!(peer, fps, "client fps");
            viewer.update(|r| r.fps = Some(*fps));
            Vec::new()
        }
        Verb::ClientLatency(ms) => {
            tracing::debug!(peer, ms, "client latency");
            viewer.update(|r| r.latency_ms = Some(*ms));
            Vec::new()
        }
        other => {
            tracing::debug!(peer, verb = ?other.category(), "verb not handled by the streaming core");
            Vec::new()
        }
    }
}
