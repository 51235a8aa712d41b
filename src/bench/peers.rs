//! `selkies-rs bench --mode peers`: the same content on the same display through selkies-rs, the
//! Selkies 1.x GStreamer pipeline and pixelflux (Selkies 2.x's capture/encode core), one after
//! the other in one run, so the ratios compare like with like on a shared machine.
//!
//! Each peer runs as its own process and is measured from outside: CPU time from procfs over the
//! window after warm-up, frames and bytes from its own output. A peer that is not installed is
//! reported as unavailable with the reason, never silently left out.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::Serialize;

use super::report::Report;
use crate::procfs::{self, Task};

/// pixelflux's harness, run with `python3`.
const PIXELFLUX_SCRIPT: &str = include_str!("../../scripts/peers/pixelflux_bench.py");

/// One peer's figures on one display.
#[derive(Debug, Clone, Serialize)]
pub struct PeerReport {
    pub mode: &'static str,
    /// `selkies-rs`, `gstreamer-x264enc`, `pixelflux-x264`.
    pub peer: String,
    pub width: u32,
    pub height: u32,
    /// Why the peer was not measured; the figures are then zero.
    pub unavailable: Option<String>,
    pub frames: u64,
    pub seconds: f64,
    pub fps: f64,
    pub cpu_ms_per_frame: f64,
    pub kbps: f64,
    /// Capture → encoded, where the peer reports it.
    pub latency_p50_ms: Option<f64>,
    pub latency_p95_ms: Option<f64>,
    pub rss_mb: Option<f64>,
}

impl PeerReport {
    fn unavailable(peer: &str, (width, height): (u32, u32), reason: String) -> Self {
        PeerReport {
            mode: "peers",
            peer: peer.to_owned(),
            width,
            height,
            unavailable: Some(reason),
            frames: 0,
            seconds: 0.0,
            fps: 0.0,
            cpu_ms_per_frame: 0.0,
            kbps: 0.0,
            latency_p50_ms: None,
            latency_p95_ms: None,
            rss_mb: None,
        }
    }

    /// Our own row, from the pipeline bench's report.
    pub fn ours(r: &Report) -> Self {
        PeerReport {
            mode: "peers",
            peer: "selkies-rs".to_owned(),
            width: r.width,
            height: r.height,
            unavailable: None,
            frames: r.frames,
            seconds: r.seconds,
            fps: r.fps,
            cpu_ms_per_frame: r.cpu_ms_per_frame,
            kbps: r.kbps,
            latency_p50_ms: Some(r.latency_p50_ms),
            latency_p95_ms: Some(r.latency_p95_ms),
            rss_mb: Some(r.rss_mb),
        }
    }
}

/// What every peer is asked for.
#[derive(Debug, Clone, Copy)]
pub struct Job<'a> {
    pub display: &'a str,
    pub size: (u32, u32),
    pub fps: u32,
    pub kbps: u32,
    pub warmup: Duration,
    pub window: Duration,
}

/// Kills a peer process on every way out.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The Selkies 1.x pipeline (`gstwebrtc_app.py`'s x264enc settings), into a fakesink that reports
/// each buffer so frames and bytes are counted in the window.
pub fn gstreamer(job: &Job) -> PeerReport {
    match gstreamer_run(job) {
        Ok(r) => r,
        Err(e) => PeerReport::unavailable(PEER_GST, job.size, format!("{e:#}")),
    }
}

fn gstreamer_run(job: &Job) -> anyhow::Result<PeerReport> {
    let vbv_ms = (1000.0 / f64::from(job.fps) * 1.5).ceil();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get().saturating_sub(1))
        .clamp(1, 4);
    let pipeline = format!(
        "ximagesrc display-name={display} use-damage=0 show-pointer=0 remote=1 blocksize=16384 \
         ! video/x-raw,framerate={fps}/1 ! videoconvert ! video/x-raw,format=I420 \
         ! x264enc speed-preset=ultrafast tune=zerolatency bitrate={kbps} bframes=0 \
         b-adapt=false dct8x8=false key-int-max=2147483647 mb-tree=false rc-lookahead=0 \
         sync-lookahead=0 sliced-threads=true threads={threads} vbv-buf-capacity={vbv_ms} \
         pass=cbr byte-stream=true ! fakesink silent=false sync=false",
        display = job.display,
        fps = job.fps,
        kbps = job.kbps,
    );
    let mut child = Command::new("gst-launch-1.0")
        .arg("-v")
        .args(pipeline.split_whitespace())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("gst-launch-1.0 not found (Debian: gstreamer1.0-tools gstreamer1.0-plugins-ugly gstreamer1.0-x)")?;
    let stdout = child.stdout.take().context("gst-launch stdout")?;
    let running = Running(child);
    let pid = running.0.id();
    // (arrival, bytes) of every buffer the sink reports.
    let buffers: Arc<Mutex<Vec<(Instant, u64)>>> = Arc::default();
    let sink = Arc::clone(&buffers);
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(bytes) = line
                .split("last-message = chain")
                .nth(1)
                .and_then(|rest| rest.split(" bytes").next())
                .and_then(|s| s.rsplit('(').next())
                .and_then(|n| n.trim().parse::<u64>().ok())
            {
                if let Ok(mut v) = sink.lock() {
                    v.push((Instant::now(), bytes));
                }
            }
        }
    });
    measure_process(PEER_GST, pid, job, || {
        buffers.lock().map(|v| v.clone()).unwrap_or_default()
    })
}

const PEER_GST: &str = "gstreamer-x264enc";

/// CPU of `pid` over the window after warm-up, with frames and bytes from `buffers`.
fn measure_process(
    peer: &str,
    pid: u32,
    job: &Job,
    buffers: impl Fn() -> Vec<(Instant, u64)>,
) -> anyhow::Result<PeerReport> {
    let hz = procfs::ticks_per_second();
    std::thread::sleep(job.warmup);
    anyhow::ensure!(
        !buffers().is_empty(),
        "{peer} produced no frame during the warm-up"
    );
    let (t0, c0) = (Instant::now(), Task::Process(pid).cpu_time(hz));
    std::thread::sleep(job.window);
    let (t1, c1) = (Instant::now(), Task::Process(pid).cpu_time(hz));
    let (Some(c0), Some(c1)) = (c0, c1) else {
        anyhow::bail!("{peer} exited during the measurement");
    };
    let window: Vec<(Instant, u64)> = buffers()
        .into_iter()
        .filter(|(at, _)| *at >= t0 && *at < t1)
        .collect();
    let frames = window.len() as u64;
    anyhow::ensure!(frames > 0, "{peer} produced no frame in the window");
    let seconds = (t1 - t0).as_secs_f64();
    Ok(PeerReport {
        mode: "peers",
        peer: peer.to_owned(),
        width: job.size.0,
        height: job.size.1,
        unavailable: None,
        frames,
        seconds,
        fps: frames as f64 / seconds,
        cpu_ms_per_frame: (c1 - c0).as_secs_f64() * 1000.0 / frames as f64,
        kbps: window.iter().map(|(_, b)| b).sum::<u64>() as f64 * 8.0 / seconds / 1000.0,
        latency_p50_ms: None,
        latency_p95_ms: None,
        rss_mb: None,
    })
}

/// pixelflux (PyPI) through its Python API, software x264, every frame encoded.
pub fn pixelflux(job: &Job) -> PeerReport {
    const PEER: &str = "pixelflux-x264";
    match pixelflux_run(job) {
        Ok(r) => r,
        Err(e) => PeerReport::unavailable(PEER, job.size, format!("{e:#}")),
    }
}

fn pixelflux_run(job: &Job) -> anyhow::Result<PeerReport> {
    let script = std::env::temp_dir().join(format!("selkies-pixelflux-{}.py", std::process::id()));
    std::fs::write(&script, PIXELFLUX_SCRIPT).context("writing the pixelflux harness")?;
    let child = Command::new("python3")
        .arg(&script)
        .args([
            job.display.to_owned(),
            job.size.0.to_string(),
            job.size.1.to_string(),
            job.fps.to_string(),
            job.kbps.to_string(),
            job.warmup.as_secs_f64().to_string(),
            job.window.as_secs_f64().to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let out = child
        .context("python3 not found")
        .and_then(|c| wait_bounded(c, job.warmup + job.window + HARNESS_SLACK));
    let _ = std::fs::remove_file(&script);
    let out = out?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let reason = err
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        anyhow::bail!("pixelflux harness failed ({}): {reason}", out.status);
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .context("the pixelflux harness printed no result")?;
    let v: serde_json::Value = serde_json::from_str(line).context("pixelflux result")?;
    let num = |k: &str| v[k].as_f64();
    let frames = v["frames"].as_u64().unwrap_or(0);
    anyhow::ensure!(frames > 0, "pixelflux produced no frame in the window");
    let seconds = num("seconds").unwrap_or(0.0);
    Ok(PeerReport {
        mode: "peers",
        peer: "pixelflux-x264".to_owned(),
        width: job.size.0,
        height: job.size.1,
        unavailable: None,
        frames,
        seconds,
        fps: frames as f64 / seconds.max(f64::EPSILON),
        cpu_ms_per_frame: num("cpu_ms_per_frame").unwrap_or(0.0),
        kbps: num("kbps").unwrap_or(0.0),
        latency_p50_ms: num("latency_p50_ms"),
        latency_p95_ms: num("latency_p95_ms"),
        rss_mb: num("rss_mb"),
    })
}

/// How long past warm-up + window a peer harness may take before it is killed.
const HARNESS_SLACK: Duration = Duration::from_secs(30);

/// Waits for `child` at most `limit`, killing it after; its output.
fn wait_bounded(child: Child, limit: Duration) -> anyhow::Result<std::process::Output> {
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => Ok(out?),
        Err(_) => {
            // The waiting thread owns the child; signal it by pid.
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            anyhow::bail!("the harness did not finish within {limit:?} and was killed")
        }
    }
}

/// The reports as a table, each peer's CPU and latency also as selkies-rs / peer.
pub fn table(reports: &[PeerReport]) -> String {
    let mut out = String::from(
        "peer                size       fps   cpu ms/f  kbps    p50 ms  p95 ms  rss MB  ours/peer cpu  ours/peer p50\n",
    );
    let opt = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.2}"));
    for r in reports {
        let size = format!("{}x{}", r.width, r.height);
        if let Some(why) = &r.unavailable {
            out.push_str(&format!("{:<19} {size:<10} unavailable: {why}\n", r.peer));
            continue;
        }
        let ours = reports
            .iter()
            .find(|o| o.peer == "selkies-rs" && (o.width, o.height) == (r.width, r.height));
        let cpu_ratio = ours.map_or("-".to_owned(), |o| {
            format!("{:.2}", o.cpu_ms_per_frame / r.cpu_ms_per_frame)
        });
        let lat_ratio = match (ours.and_then(|o| o.latency_p50_ms), r.latency_p50_ms) {
            (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
            _ => "-".to_owned(),
        };
        out.push_str(&format!(
            "{:<19} {size:<10} {:>5.1} {:>9.2} {:>7.0} {:>7} {:>7} {:>7} {:>14} {:>14}\n",
            r.peer,
            r.fps,
            r.cpu_ms_per_frame,
            r.kbps,
            opt(r.latency_p50_ms),
            opt(r.latency_p95_ms),
            opt(r.rss_mb),
            cpu_ratio,
            lat_ratio
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_shows_ratios_and_unavailable_peers() {
        let mut ours = PeerReport::unavailable("selkies-rs", (1280, 720), String::new());
        ours.unavailable = None;
        ours.cpu_ms_per_frame = 5.0;
        ours.latency_p50_ms = Some(4.0);
        ours.fps = 60.0;
        let mut peer = ours.clone();
        peer.peer = "pixelflux-x264".into();
        peer.cpu_ms_per_frame = 10.0;
        peer.latency_p50_ms = Some(8.0);
        let gone =
            PeerReport::unavailable("gstreamer-x264enc", (1280, 720), "not installed".into());
        let t = table(&[ours, peer, gone]);
        assert!(t.contains("pixelflux-x264"), "{t}");
        assert!(
            t.lines()
                .any(|l| l.starts_with("pixelflux") && l.contains("0.50")),
            "{t}"
        );
        assert!(t.contains("unavailable: not installed"), "{t}");
    }
}
