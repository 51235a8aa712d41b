//! `selkies-rs bench --mode glass`: glass-to-glass latency into a real browser.
//!
//! Per resolution: an Xvfb with full-screen motion below a frame stamp ([`super::stamp`]) that
//! changes at `--stamp-hz` (47 Hz by default, so stamps and frames drift against each other and
//! every phase is sampled); `selkies-rs serve` on it as a child process; headless Chromium on
//! the server's page. The page's bench recorder (`window.selkies.bench.glass`, `web/glassbench.js`)
//! reads the stamp of every frame it shows and when it expects it on screen; both clocks are this
//! machine's wall clock, so paint → displayed is a subtraction ([`analyse`]).
//!
//! `--inject-delay-ms` makes the server hold every frame that long before sending it, which
//! checks that the figure measures what it claims (`tests/bench_glass.rs`).

pub mod analyse;
pub mod server;

use super::stamp::{self, StampPainter};
use super::{BenchArgs, Mode, Stage, Target};
use crate::procfs::{self, Task};

use crate::browser::Chromium;
use analyse::{Shown, Window};
use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::{Duration, Instant};

/// How long the page may take to show its first decoded frame.
const FIRST_FRAME_TIMEOUT: Duration = Duration::from_secs(60);
/// The page's records are fetched this often, so a long window never fills its buffer.
const TAKE_EVERY: Duration = Duration::from_secs(5);
/// After the window: time for the last stamps painted in it to reach the screen.
const TAIL: Duration = Duration::from_millis(500);

/// Figures for one glass run. Times in ms; `frames` counts stamps painted in the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GlassReport {
    pub mode: Mode,
    pub display: String,
    pub width: u32,
    pub height: u32,
    pub content: String,
    pub encoder: String,
    pub codec: String,
    pub target_fps: u32,
    pub bitrate_kbps: u32,
    pub stamp_hz: f64,
    /// Hold the server put on every frame (`--inject-delay-ms`); 0 in a real measurement.
    pub inject_delay_ms: u64,
    /// Stamps painted in the window.
    pub frames: u64,
    pub seconds: f64,
    /// Frames the browser showed per second.
    pub fps: f64,
    pub stamps_shown: u64,
    /// Painted in the window and never on screen.
    pub stamps_missed: u64,
    /// Gaps between shown frames over three frame intervals.
    pub freezes: u64,
    pub longest_gap_ms: f64,
    /// Paint → displayed (the browser's expected display time of the first frame with it).
    pub latency_p50_ms: f64,
    pub latency_p95_ms: f64,
    pub latency_p99_ms: f64,
    pub latency_mean_ms: f64,
    pub latency_max_ms: f64,
    /// Paint → that frame's last packet in the browser, when Chromium reports it.
    pub received_p50_ms: Option<f64>,
    pub received_p95_ms: Option<f64>,
    /// Paint → the frame handed to the compositor (`presentationTime`): the display time less
    /// the wait for the browser's next frame.
    pub presented_p50_ms: Option<f64>,
    /// The server process's CPU time per frame shown.
    pub cpu_ms_per_frame: f64,
    pub cpu_percent: f64,
    /// Every process of the browser, CPU as a share of one core.
    pub browser_cpu_percent: f64,
    /// How the page read the stamps: `webcodecs` (luma copied out of the decoded frame) or
    /// `canvas` (the frame drawn and read back in RGB, costlier).
    pub read_path: String,
    /// The server's peak resident memory, MiB.
    pub rss_mb: f64,
    /// Video received by the browser.
    pub kbps: f64,
    /// Every paint → displayed sample, for `--plot`; not printed.
    #[serde(skip)]
    pub samples: Vec<f64>,
    /// What was painted and shown, for `--records`; not printed.
    #[serde(skip)]
    pub records: Value,
}

/// Runs the glass measurement on `target`.
///
/// # Errors
/// A display, server or browser that cannot start, a page that never shows video.
pub(super) fn run(args: &BenchArgs, target: &Target) -> anyhow::Result<GlassReport> {
    let stage = Stage::prepare(args, target, stamp::HEIGHT)?;
    let server = server::ServerProcess::start(&server::Settings {
        display: &stage.display,
        fps: args.fps,
        bitrate_kbps: args.bitrate,
        encoder: args.encoder.to_string(),
        codec: args.codec.to_string(),
        threads: args.threads,
        rate_control: args.rate_control.to_string(),
        inject_delay_ms: args.inject_delay_ms,
        framebuffer: stage.framebuffer(args),
    })?;
    let mut browser = Chromium::launch(&format!("http://127.0.0.1:{}/", server.port()))
        .context("cannot start the browser for the glass bench")?;
    let cdp = browser.cdp();
    cdp.wait_for(
        "window.selkies && window.selkies.framesDecoded > 0",
        FIRST_FRAME_TIMEOUT,
    )
    .context("the page never decoded a frame")?;
    let stamps = StampPainter::start(&stage.display, args.stamp_hz)?;
    browser
        .cdp()
        .eval("window.selkies.bench.glass.start(), true")?;
    std::thread::sleep(super::secs("--warmup", args.warmup)?);

    let window_len = super::secs("--seconds", args.seconds)?;
    let ticks = procfs::ticks_per_second();
    let server_task = Task::Process(server.pid());
    let browser_pids = browser.pids();
    let browser_cpu = |pids: &[u32]| -> f64 {
        pids.iter()
            .filter_map(|&p| Task::Process(p).cpu_time(ticks))
            .map(|d| d.as_secs_f64())
            .sum()
    };
    let mut read_path = String::new();
    // Warm-up frames: before the window.
    let mut shown: Vec<Shown> = take(&mut browser, &mut read_path)?;
    shown.clear();
    let (cpu0, bcpu0, bytes0) = (
        server_task.cpu_time(ticks),
        browser_cpu(&browser_pids),
        received_bytes(&mut browser)?,
    );
    let (start, started) = (stamp::epoch_ms(), Instant::now());
    while started.elapsed() < window_len {
        std::thread::sleep(TAKE_EVERY.min(window_len.saturating_sub(started.elapsed())));
        shown.extend(take(&mut browser, &mut read_path)?);
    }
    let end = stamp::epoch_ms();
    let (cpu1, bcpu1, bytes1) = (
        server_task.cpu_time(ticks),
        browser_cpu(&browser_pids),
        received_bytes(&mut browser)?,
    );
    let peak_rss = server_peak_rss(server.pid());
    std::thread::sleep(TAIL + Duration::from_millis(args.inject_delay_ms));
    shown.extend(take(&mut browser, &mut read_path)?);
    browser
        .cdp()
        .eval("window.selkies.bench.glass.stop(), true")?;
    let painted = stamps.finish();

    drop(browser);
    drop(server);

    let records = match args.records {
        Some(_) => serde_json::json!({ "painted": painted, "shown": shown }),
        None => Value::Null,
    };
    let a = analyse::analyse(&painted, &shown, Window { start, end }, args.fps);
    let Some(latency) = a.latency else {
        bail!(
            "the browser showed none of the {} stamps painted on {}",
            a.stamps,
            stage.display
        );
    };
    let (width, height) = stage.size;
    let seconds = (end - start) / 1e3;
    let frames_shown = a.frames.max(1) as f64;
    let cpu_ms = match (cpu0, cpu1) {
        (Some(a), Some(b)) => b.saturating_sub(a).as_secs_f64() * 1e3,
        _ => bail!("cannot read the server's CPU time"),
    };
    Ok(GlassReport {
        mode: Mode::Glass,
        display: stage.display.clone(),
        width,
        height,
        content: super::content_label(stage.content).to_owned(),
        encoder: args.encoder.to_string(),
        codec: args.codec.to_string(),
        target_fps: args.fps,
        bitrate_kbps: args.bitrate,
        stamp_hz: args.stamp_hz,
        inject_delay_ms: args.inject_delay_ms,
        frames: a.stamps as u64,
        seconds,
        fps: a.frames as f64 / seconds,
        stamps_shown: a.shown as u64,
        stamps_missed: a.missed as u64,
        freezes: a.freezes as u64,
        longest_gap_ms: a.longest_gap_ms,
        latency_p50_ms: latency.p50,
        latency_p95_ms: latency.p95,
        latency_p99_ms: latency.p99,
        latency_mean_ms: latency.mean,
        latency_max_ms: latency.max,
        received_p50_ms: a.received.map(|r| r.p50),
        received_p95_ms: a.received.map(|r| r.p95),
        presented_p50_ms: a.presented.map(|r| r.p50),
        cpu_ms_per_frame: cpu_ms / frames_shown,
        cpu_percent: cpu_ms / 10.0 / seconds,
        browser_cpu_percent: (bcpu1 - bcpu0) * 100.0 / seconds,
        read_path,
        rss_mb: peak_rss as f64 / (1024.0 * 1024.0),
        kbps: bytes1.saturating_sub(bytes0) as f64 * 8.0 / seconds / 1e3,
        samples: a.samples,
        records,
    })
}

/// The page's records since the last call, and how it reads stamps (`webcodecs`: the luma
/// of the stamp's rectangle copied out of the decoded frame; `canvas`: the frame drawn in RGB).
fn take(browser: &mut Chromium, read_path: &mut String) -> anyhow::Result<Vec<Shown>> {
    let taken = browser.cdp().eval("window.selkies.bench.glass.take()")?;
    if let Some(e) = taken.get("lastError").and_then(Value::as_str) {
        tracing::warn!(error = e, "the page could not read some frames");
    }
    if let Some(path) = taken.get("readPath").and_then(Value::as_str) {
        if path != read_path {
            let why = taken.get("readPathReason").and_then(Value::as_str);
            tracing::info!(path, why, "stamp read path");
            *read_path = path.to_owned();
        }
    }
    let records = taken.get("records").cloned().unwrap_or(Value::Null);

    serde_json::from_value(records).context("unreadable records from the page")
}

/// Video bytes the page has received so far (`getStats`, every inbound video stream).
fn received_bytes(browser: &mut Chromium) -> anyhow::Result<u64> {
    let v = browser.cdp().eval(
        "(async () => { let b = 0; const r = await window.selkies.pc.getStats(); \
         r.forEach(s => { if (s.type === 'inbound-rtp' && s.kind === 'video') b += s.bytesReceived || 0; }); \
         return b; })()",
    )?;
    v.as_u64().context("getStats gave no byte count")
}

/// VmHWM of another process, bytes (0 when it cannot be read).
fn server_peak_rss(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| procfs::status_kib(&s, "VmHWM"))
        .map_or(0, |k| k * 1024)
}

/// An aligned text table, one row per report.
pub fn table(reports: &[GlassReport]) -> String {
    let opt = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"));
    let mut out = format!(
        "{:<10} {:>6} {:>13} {:>6} {:>7} {:>7} {:>7} {:>8} {:>7} {:>8} {:>8} {:>7} {:>7}\n",
        "size",
        "fps",
        "shown/stamps",
        "missed",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "recv p50",
        "freezes",
        "srv ms/f",
        "brws %",
        "rss MB",
        "kbps"
    );
    for r in reports {
        out.push_str(&format!(
            "{:<10} {:>6.1} {:>13} {:>6} {:>7.1} {:>7.1} {:>7.1} {:>8} {:>7} {:>8.2} {:>8.0} {:>7.1} {:>7.0}\n",
            format!("{}x{}", r.width, r.height),
            r.fps,
            format!("{}/{}", r.stamps_shown, r.frames),
            r.stamps_missed,
            r.latency_p50_ms,
            r.latency_p95_ms,
            r.latency_p99_ms,
            opt(r.received_p50_ms),
            r.freezes,
            r.cpu_ms_per_frame,
            r.browser_cpu_percent,
            r.rss_mb,
            r.kbps,
        ));
    }
    out.push_str(
        "latency: stamp painted on X → the browser's expected display time of the first frame \
         showing it; recv: → its last packet received. srv: the server process.\n",
    );
    out
}
