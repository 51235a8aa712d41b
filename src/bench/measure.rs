//! `--mode pipeline`, measuring side: runs the real media thread against one display and turns
//! the timestamps it stamps on every [`EncodedFrame`] into a [`Report`].
//!
//! Runs in a child process of its own (see [`super`]), so its CPU time and peak RSS are the
//! pipeline's and nobody else's. It must not paint or start X servers: the parent does that.

use super::report::Report;
use super::stats::{summarize, Summary};
use super::Mode;
use crate::procfs::{self, Task};

use crate::encode::{Codec, EncoderSettings};
use crate::pipeline::{EncodedFrame, Pipeline, PipelineConfig};
use anyhow::{bail, Context};
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tokio::sync::broadcast::error::RecvError;

/// How long without a frame before the run is declared stuck.
const STALL: Duration = Duration::from_secs(5);

/// What the measuring child is told by the parent.
#[derive(Debug, Clone)]
pub struct Spec {
    pub display: String,
    pub fps: u32,
    pub bitrate_kbps: u32,
    pub encoder: EncoderSettings,
    pub codec: Codec,
    pub threads: u32,
    pub warmup: Duration,
    pub window: Duration,
    /// The painter thread in the parent, to report its CPU apart.
    pub painter: Option<Task>,
    /// The X server process, to report its CPU apart.
    pub xserver: Option<Task>,
    /// Keep every latency sample in the report (for `--plot`).
    pub samples: bool,
    /// Xvfb's framebuffer file, read in place when it matches the screen.
    pub framebuffer: Option<std::path::PathBuf>,
}

/// What the receiving thread passes on: just the stamps and the size, not the bytes.
enum Event {
    Frame(Sample),
    Lagged(u64),
}

struct Sample {
    captured_at: Instant,
    grabbed_at: Instant,
    converted_at: Instant,
    encoded_at: Instant,
    bytes: usize,
    keyframe: bool,
    width: u32,
    height: u32,
}

impl From<&EncodedFrame> for Sample {
    fn from(f: &EncodedFrame) -> Self {
        Self {
            captured_at: f.captured_at,
            grabbed_at: f.grabbed_at,
            converted_at: f.converted_at,
            encoded_at: f.encoded_at,
            bytes: f.data.len(),
            keyframe: f.keyframe,
            width: f.width,
            height: f.height,
        }
    }
}

/// CPU counters read at the edges of the window.
struct Snapshot {
    at: Instant,
    own: Option<Duration>,
    painter: Option<Duration>,
    xserver: Option<Duration>,
    skipped: u64,
}

/// Runs the pipeline for warm-up + window and reports the window.
///
/// # Errors
/// When the pipeline cannot start, stops, or produces no frame in the window.
pub fn run(spec: &Spec) -> anyhow::Result<Report> {
    let hz = procfs::ticks_per_second();
    let pipeline = Pipeline::start(PipelineConfig {
        display: Some(spec.display.clone()),
        fps: spec.fps,
        bitrate_kbps: spec.bitrate_kbps,
        encoder: spec.encoder.clone(),
        codec: spec.codec,
        threads: spec.threads,
        always_encode: true,
        // Every tick is measured; a static screen's cost is a question for its own run.
        skip_unchanged: false,
        framebuffer: spec.framebuffer.clone(),
    })
    .with_context(|| format!("cannot start the pipeline on {}", spec.display))?;
    let handle = pipeline.handle();
    let stats = std::sync::Arc::clone(handle.stats());
    let mut rx = handle.subscribe();
    // The handle holds a sender: dropped, the channel closes when the pipeline does, which ends
    // the receiving thread.
    drop(handle);

    // `blocking_recv` has no timeout; a thread forwards into a std channel that does, so a
    // stalled pipeline is reported instead of hanging the bench.
    let (tx, events) = mpsc::channel();
    let receiver = std::thread::Builder::new()
        .name("bench-rx".into())
        .spawn(move || loop {
            let event = match rx.blocking_recv() {
                Ok(frame) => Event::Frame(Sample::from(&frame)),
                Err(RecvError::Lagged(n)) => Event::Lagged(n),
                Err(RecvError::Closed) => break,
            };
            if tx.send(event).is_err() {
                break;
            }
        })
        .context("cannot start the receiving thread")?;

    let snapshot = || Snapshot {
        at: Instant::now(),
        own: Task::Process(std::process::id()).cpu_time(hz),
        painter: spec.painter.and_then(|t| t.cpu_time(hz)),
        xserver: spec.xserver.and_then(|t| t.cpu_time(hz)),
        skipped: stats.frames_skipped.load(Ordering::Relaxed),
    };

    let started = Instant::now();
    let warm_until = started + spec.warmup;
    let next = |pipeline: &Pipeline| -> anyhow::Result<Event> {
        match events.recv_timeout(STALL) {
            Ok(e) => Ok(e),
            Err(_) if !pipeline.is_running() => bail!("the media thread stopped (see its log)"),
            Err(_) => bail!("no frame for {STALL:?}"),
        }
    };
    // Warm-up: the first IDR, x264's rate control settling, the painter reaching full speed.
    loop {
        if let Event::Frame(s) = next(&pipeline)? {
            if s.captured_at >= warm_until {
                break;
            }
        }
    }

    let start = snapshot();
    let window_end = start.at + spec.window;
    let mut frames: Vec<Sample> = Vec::with_capacity((spec.window.as_secs_f64() * 250.0) as usize);
    let mut lagged = 0u64;
    loop {
        match next(&pipeline)? {
            Event::Lagged(n) => lagged += n,
            Event::Frame(s) if s.captured_at >= window_end => break,
            Event::Frame(s) if s.captured_at >= start.at => frames.push(s),
            Event::Frame(_) => {}
        }
    }
    let end = snapshot();
    // Before anything else is opened or freed, so the peak is the pipeline's.
    let peak_rss = procfs::peak_rss_bytes().unwrap_or(0);
    drop(pipeline);
    let _ = receiver.join();

    let Some(first) = frames.first() else {
        bail!("no frame encoded in the measured window");
    };
    let (width, height) = (first.width, first.height);
    let count = frames.len();
    let n = count as f64;
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let summary = |f: &dyn Fn(&Sample) -> Duration| -> anyhow::Result<Summary> {
        let mut v: Vec<f64> = frames.iter().map(|s| ms(f(s))).collect();
        summarize(&mut v).context("no samples")
    };
    let latency = summary(&|s| s.encoded_at - s.captured_at)?;
    let capture = summary(&|s| s.grabbed_at - s.captured_at)?;
    let convert = summary(&|s| s.converted_at - s.grabbed_at)?;
    let encode = summary(&|s| s.encoded_at - s.converted_at)?;
    let seconds = spec.window.as_secs_f64();
    let bytes: usize = frames.iter().map(|s| s.bytes).sum();
    let cpu_wall = (end.at - start.at).as_secs_f64();
    let delta = |a: Option<Duration>, b: Option<Duration>| Some(ms(b?.checked_sub(a?)?));
    let own_ms = delta(start.own, end.own).context("cannot read this process's CPU time")?;

    Ok(Report {
        mode: Mode::Pipeline,
        display: spec.display.clone(),
        width,
        height,
        content: String::new(),
        encoder: stats.encoder_name(),
        grab: if stats.reads_framebuffer.load(Ordering::Relaxed) {
            "framebuffer"
        } else {
            "xshm"
        }
        .to_owned(),
        threads: spec.threads,
        target_fps: spec.fps,
        bitrate_kbps: spec.bitrate_kbps,
        frames: count as u64,
        seconds,
        fps: n / seconds,
        skipped: end.skipped.saturating_sub(start.skipped),
        lagged,
        keyframes: frames.iter().filter(|s| s.keyframe).count() as u64,
        cpu_ms_per_frame: own_ms / n,
        cpu_percent: own_ms / 1e3 / cpu_wall * 100.0,
        paint_cpu_ms_per_frame: delta(start.painter, end.painter).map(|t| t / n),
        xserver_cpu_ms_per_frame: delta(start.xserver, end.xserver).map(|t| t / n),
        latency_p50_ms: latency.p50,
        latency_p95_ms: latency.p95,
        latency_p99_ms: latency.p99,
        latency_mean_ms: latency.mean,
        latency_max_ms: latency.max,
        capture_p50_ms: capture.p50,
        capture_p95_ms: capture.p95,
        convert_p50_ms: convert.p50,
        convert_p95_ms: convert.p95,
        encode_p50_ms: encode.p50,
        encode_p95_ms: encode.p95,
        rss_mb: peak_rss as f64 / (1024.0 * 1024.0),
        kbps: bytes as f64 * 8.0 / seconds / 1e3,
        latency_samples_ms: if spec.samples {
            frames
                .iter()
                .map(|s| ms(s.encoded_at - s.captured_at))
                .collect()
        } else {
            Vec::new()
        },
    })
}
