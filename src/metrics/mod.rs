//! `/metrics`: the server's counters for Prometheus, read at scrape time.
//!
//! Everything exported already exists as atomics where the work happens (the pipeline's
//! [`Stats`](crate::pipeline::Stats), the input thread's counters, the session counts), so a
//! scrape takes a [`Snapshot`] of them and writes it out; nothing on the media path does more
//! per frame than before except the latency histogram's two atomic adds.
//!
//! A leaf: others write into its types ([`Viewers`], the histogram) and the server gathers a
//! [`Snapshot`] (`signal::state`); nothing here reaches back into the services it describes.

pub mod exposition;
pub mod histogram;
pub mod viewers;

pub use exposition::render;
pub use viewers::{ViewerHandle, ViewerReport, Viewers};

use crate::procfs;
use histogram::HistogramSnapshot;

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

impl ProcessSnapshot {
    /// This process's CPU time and resident memory now.
    pub fn now() -> Self {
        let cpu_seconds = procfs::Task::Process(std::process::id())
            .cpu_time(procfs::ticks_per_second())
            .map(|d| d.as_secs_f64());
        ProcessSnapshot {
            cpu_seconds,
            resident_bytes: procfs::rss_bytes(),
        }
    }
}
