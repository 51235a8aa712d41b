//! `/metrics`: the server's counters for Prometheus, read at scrape time.
//!
//! Everything exported already exists as atomics where the work happens (the pipeline's
//! [`Stats`](crate::pipeline::Stats), the input thread's counters, the session counts), so a
//! scrape takes a [`Snapshot`] of them and writes it out; nothing on the media path does more
//! per frame than before except the latency histogram's two atomic adds.

pub mod exposition;
pub mod histogram;
pub mod viewers;

pub use exposition::render;
pub use viewers::{ViewerHandle, ViewerReport, Viewers};

use crate::bench::{cpu, rss};
use crate::services::Services;
use histogram::HistogramSnapshot;
use std::sync::atomic::Ordering;
use std::sync::OnceLock;

/// The content type of [`render`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// One pipeline's figures (one per codec in use).
#[derive(Debug, Clone)]
pub struct PipelineSnapshot {
    pub codec: String,
    pub encoder: String,
    pub frames_encoded: u64,
    pub frames_unchanged: u64,
    pub ticks_missed: u64,
    pub keyframes: u64,
    pub paint_overs: u64,
    pub bytes: u64,
    pub width: u32,
    pub height: u32,
    pub reads_framebuffer: bool,
    pub latency: HistogramSnapshot,
}

/// The input thread's counters.
#[derive(Debug, Clone, Copy)]
pub struct InputSnapshot {
    pub injected: u64,
    pub failed: u64,
    pub denied: u64,
    pub keys_released: u64,
}

/// The audio hub's counters, when the server has sound.
#[derive(Debug, Clone, Copy)]
pub struct AudioSnapshot {
    pub packets: u64,
    pub bytes: u64,
}

/// This process's CPU and memory; `None` where procfs could not be read.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessSnapshot {
    pub cpu_seconds: Option<f64>,
    pub resident_bytes: Option<u64>,
}

/// Everything one scrape reports.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub viewers_connected: u64,
    pub sessions_rejected: u64,
    pub messages_rejected: u64,
    pub pipelines: Vec<PipelineSnapshot>,
    pub input: Option<InputSnapshot>,
    pub audio: Option<AudioSnapshot>,
    pub viewers: Vec<(String, ViewerReport)>,
    pub process: ProcessSnapshot,
}

impl Snapshot {
    /// Reads the server's counters now.
    pub fn gather(services: &Services, sessions: &crate::signal::session::Sessions) -> Self {
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
        Self {
            viewers_connected: sessions.active.load(Ordering::Relaxed),
            sessions_rejected: sessions.rejected.load(Ordering::Relaxed),
            messages_rejected: services.viewers.rejected_messages(),
            pipelines,
            input,
            audio,
            viewers: services.viewers.reports(),
            process: process(),
        }
    }
}

fn process() -> ProcessSnapshot {
    // `getconf` is a process to spawn: once is enough.
    static TICKS: OnceLock<u64> = OnceLock::new();
    let ticks = *TICKS.get_or_init(cpu::ticks_per_second);
    let cpu_seconds = cpu::Task::Process(std::process::id())
        .cpu_time(ticks)
        .map(|d| d.as_secs_f64());
    let resident_bytes = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| rss::status_kib(&status, "VmRSS"))
        .map(|kib| kib * 1024);
    ProcessSnapshot {
        cpu_seconds,
        resident_bytes,
    }
}
