//! What every connection shares: the services, the RTC and TURN settings, auth, and the session
//! counters. Held apart from [`super::server`] (the HTTP front) and [`super::session`] (one
//! WebSocket) so that both read it and neither imports the other's internals.

use super::auth::BasicAuth;
use super::turn::TurnConfig;
use crate::metrics::{AudioSnapshot, InputSnapshot, PipelineSnapshot, ProcessSnapshot, Snapshot};
use crate::rtc::RtcConfig;
use crate::services::Services;
use std::sync::atomic::{AtomicU64, Ordering};

/// Shared by every connection.
pub struct ServerState {
    pub services: Services,
    pub rtc: RtcConfig,
    pub auth: Option<BasicAuth>,
    /// Everything `/turn` needs except the time, which is taken per request.
    pub turn: TurnConfig,
    pub sessions: Sessions,
    /// Serve `/metrics` (behind the same auth as the page).
    pub metrics: bool,
}

/// Live session counters.
#[derive(Debug, Default)]
pub struct Sessions {
    next_id: AtomicU64,
    active: AtomicU64,
    rejected: AtomicU64,
}

impl Sessions {
    /// Counts a new session in and returns its id (from 1); it counts as active until the
    /// guard drops.
    pub fn open(&self) -> (u64, ActiveSession<'_>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        self.active.fetch_add(1, Ordering::Relaxed);
        (id, ActiveSession(self))
    }

    /// Counts a session ended for breaking the protocol.
    pub fn reject(&self) {
        self.rejected.fetch_add(1, Ordering::Relaxed);
    }
}

/// One open session; dropping it counts the session out.
pub struct ActiveSession<'a>(&'a Sessions);

impl Drop for ActiveSession<'_> {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::Relaxed);
    }
}

impl ServerState {
    /// The server's counters now, for `/metrics`.
    pub fn snapshot(&self) -> Snapshot {
        let services = &self.services;
        let pipelines = services
            .media
            .running()
            .into_iter()
            .map(|p| {
                let s = p.stats();
                PipelineSnapshot {
                    codec: p.codec().to_string(),
                    encoder: s.encoder_name(),
                    frames_encoded: s.frames_encoded.load(Ordering::Relaxed),
                    frames_unchanged: s.frames_unchanged.load(Ordering::Relaxed),
                    ticks_missed: s.frames_skipped.load(Ordering::Relaxed),
                    keyframes: s.keyframes.load(Ordering::Relaxed),
                    paint_overs: s.paint_overs.load(Ordering::Relaxed),
                    bytes: s.bytes.load(Ordering::Relaxed),
                    width: s.width.load(Ordering::Relaxed),
                    height: s.height.load(Ordering::Relaxed),
                    reads_framebuffer: s.reads_framebuffer.load(Ordering::Relaxed),
                    latency: s.latency.snapshot(),
                }
            })
            .collect();
        let input = services.input.as_ref().map(|i| {
            let s = i.stats();
            InputSnapshot {
                injected: s.injected.load(Ordering::Relaxed),
                failed: s.failed.load(Ordering::Relaxed),
                denied: s.denied.load(Ordering::Relaxed),
                keys_released: s.released_stuck.load(Ordering::Relaxed),
            }
        });
        let audio = services.audio.as_ref().map(|a| AudioSnapshot {
            packets: a.stats().packets.load(Ordering::Relaxed),
            bytes: a.stats().bytes.load(Ordering::Relaxed),
        });
        Snapshot {
            viewers_connected: self.sessions.active.load(Ordering::Relaxed),
            sessions_rejected: self.sessions.rejected.load(Ordering::Relaxed),
            messages_rejected: services.viewers.rejected_messages(),
            pipelines,
            input,
            audio,
            viewers: services.viewers.reports(),
            process: ProcessSnapshot::now(),
        }
    }
}
