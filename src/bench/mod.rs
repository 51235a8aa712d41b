//! `selkies-rs bench`: figures for the media path, printed as a table or as JSON lines.
//!
//! `--mode pipeline` measures capture → convert → encode on the real media thread against a
//! display that moves; `--mode input` measures the input thread ([`input`]); `--mode glass`
//! paint → displayed in a real browser ([`glass`]); `--mode peers` Selkies 1.x and pixelflux on
//! the same content ([`peers`]). `--plot` draws the latency distributions ([`plot`]).
//!
//! Each configuration runs in a fresh child process (this binary, `bench --measure-child`), so
//! that its CPU time and peak RSS belong to the pipeline alone: the parent starts Xvfb and the
//! painter ([`Animator`]), whose zone-plate frames alone are tens of MB, and the child reads the
//! painter's and the X server's CPU time from procfs to report them apart. This module owns the
//! command line and that orchestration; it must not touch the pipeline's internals, only what
//! [`crate::pipeline`] exposes to any viewer.

pub mod glass;
pub mod input;
pub mod measure;
pub mod peers;
pub mod plot;
pub mod report;
pub mod stamp;
pub mod stats;

use crate::capture::animate::{Animator, Content};
use crate::capture::display::VirtualDisplay;
use crate::capture::XshmCapture;
use crate::config::parse_size;
use crate::encode::{Codec, EncoderKind, EncoderSettings, RateControlChoice};
use crate::pipeline::{BITRATE_KBPS_RANGE, FPS_RANGE};
use crate::procfs::{self, Task};
use anyhow::{bail, ensure, Context};
use report::Report;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Mode {
    /// Capture → convert → encode on the media thread, timed per frame.
    Pipeline,
    /// Input thread: verb arrival → XTEST written, paced pointer and keys, and a burst.
    Input,
    /// The same content through selkies-rs, the Selkies 1.x GStreamer pipeline and pixelflux.
    Peers,
    /// Glass to glass: a frame stamp painted on X → shown by headless Chromium.
    Glass,
}

/// `selkies-rs bench` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// What to measure.
    #[arg(long, value_enum, default_value_t = Mode::Pipeline)]
    pub mode: Mode,
    /// Measure this existing X display at its own size instead of starting Xvfb per resolution.
    #[arg(long, conflicts_with = "resolutions")]
    pub display: Option<String>,
    /// Content painted on the display: motion (full-screen zone plate), desktop (bars and a
    /// moving block), typing (an editor), scrolling (a page of text), static.
    /// Default: motion on displays the bench starts; nothing painted on an existing --display.
    #[arg(long)]
    pub content: Option<Content>,
    /// Screen sizes to start Xvfb at, comma-separated.
    #[arg(long, value_delimiter = ',', value_parser = parse_size, default_value = "1280x720,1920x1080")]
    pub resolutions: Vec<(u32, u32)>,
    /// Frame rate of the pipeline and of the painter.
    #[arg(long, default_value_t = 60)]
    pub fps: u32,
    /// Video bitrate, kbit/s.
    #[arg(long, default_value_t = 8000)]
    pub bitrate: u32,
    /// Length of the measured window per configuration, seconds.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Warm-up before the window, seconds (first IDR, rate control settling); not measured.
    #[arg(long, default_value_t = 1.0)]
    pub warmup: f64,
    /// Encoder: auto, x264, nvenc, vaapi, software, gstreamer.
    #[arg(long, default_value = "auto")]
    pub encoder: EncoderKind,
    /// Codec: h264, vp8, vp9, av1, h265.
    #[arg(long, default_value = "h264")]
    pub codec: Codec,
    /// For --encoder gstreamer: the element or pipeline section (as `serve` takes it).
    #[arg(long)]
    pub gstreamer_encoder: Option<String>,
    /// Encoder threads (0 = automatic, as `serve` defaults to).
    #[arg(long, default_value_t = 0)]
    pub threads: u32,
    /// x264 rate control: selkies (ours, the default of `serve`) or x264 (its own CBR).
    #[arg(long, default_value = "selkies")]
    pub rate_control: RateControlChoice,
    /// One JSON object per configuration per line instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Pipeline and glass modes: also draw the latency distributions (CDF per configuration)
    /// into this SVG file.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<std::path::PathBuf>,
    /// Glass mode: frame stamps painted per second (not a divisor of --fps, so every phase of
    /// stamp against frame is sampled).
    #[arg(long, default_value_t = 47.0)]
    pub stamp_hz: f64,
    /// Glass mode: the server holds every frame this long before sending it, ms. Checks the
    /// measurement; leave at 0 to measure.
    #[arg(long, default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(0..=crate::rtc::delay::MAX_DELAY_MS))]
    pub inject_delay_ms: u64,
    /// Glass mode: write every stamp painted and every frame the browser showed (raw times,
    /// ms since the Unix epoch), per configuration, to this JSON file.
    #[arg(long, value_name = "FILE.json")]
    pub records: Option<std::path::PathBuf>,
    /// Internal: the measuring child also prints every latency sample (for --plot).
    #[arg(long, hide = true)]
    pub samples: bool,
    /// Internal: measure `--display` once in this process and print one JSON line.
    #[arg(long, hide = true, requires = "display")]
    pub measure_child: bool,
    /// Grab through MIT-SHM even from the bench's own Xvfb, instead of reading its framebuffer
    /// file in place (to compare the two).
    #[arg(long)]
    pub xshm: bool,
    /// Internal: Xvfb's framebuffer file for the measuring child.
    #[arg(long, hide = true, value_name = "FILE")]
    pub framebuffer: Option<std::path::PathBuf>,
    /// Internal: `PID:TID` of the painter thread, for its CPU time.
    #[arg(long, hide = true)]
    pub painter_task: Option<String>,
    /// Internal: pid of the X server, for its CPU time.
    #[arg(long, hide = true)]
    pub xserver_pid: Option<u32>,
}

/// How long the parent waits for a freshly painted display to start changing.
const MOTION_TIMEOUT: Duration = Duration::from_secs(20);

/// Runs the bench as the command line asks.
///
/// # Errors
/// Invalid flags, a display or encoder that cannot start, a stalled pipeline, or a measuring
/// child that fails.
pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let window = secs("--seconds", args.seconds)?;
    ensure!(window > Duration::ZERO, "--seconds must be above 0");
    let warmup = secs("--warmup", args.warmup)?;
    ensure!(
        FPS_RANGE.contains(&args.fps),
        "--fps {} is outside {FPS_RANGE:?}",
        args.fps
    );
    ensure!(
        BITRATE_KBPS_RANGE.contains(&args.bitrate),
        "--bitrate {} is outside {BITRATE_KBPS_RANGE:?}",
        args.bitrate
    );
    if args.measure_child {
        return measure_child(&args, warmup, window);
    }
    match args.mode {
        Mode::Pipeline => pipeline(&args),
        Mode::Peers => peers(&args),
        Mode::Glass => glass_mode(&args),
        Mode::Input => {
            let reports = input::run(args.display.as_deref(), args.seconds)?;
            let mut out = std::io::stdout().lock();
            if args.json {
                for r in &reports {
                    writeln!(out, "{}", serde_json::to_string(r)?)?;
                }
            } else {
                write!(out, "{}", input::table(&reports))?;
            }
            Ok(())
        }
    }
}

fn glass_mode(args: &BenchArgs) -> anyhow::Result<()> {
    let mut reports = Vec::new();
    for target in &targets(args) {
        let report = glass::run(args, target)?;
        if args.json {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", serde_json::to_string(&report)?)?;
            out.flush()?;
        }
        reports.push(report);
    }
    if !args.json {
        print!("{}", glass::table(&reports));
    }
    if let Some(path) = &args.records {
        let all: Vec<serde_json::Value> = reports
            .iter()
            .map(|r| serde_json::json!({ "width": r.width, "height": r.height, "records": r.records }))
            .collect();
        std::fs::write(path, serde_json::to_string(&all)?)
            .with_context(|| format!("cannot write the records to {}", path.display()))?;
    }
    if let Some(path) = &args.plot {
        let labels: Vec<String> = reports
            .iter()
            .map(|r| format!("glass {}x{} paint → displayed", r.width, r.height))
            .collect();
        let series: Vec<plot::Series<'_>> = reports
            .iter()
            .zip(&labels)
            .map(|(r, label)| plot::Series {
                label,
                samples_ms: &r.samples,
            })
            .collect();
        write_plot(path, "selkies-rs glass-to-glass latency", &series)?;
    }
    Ok(())
}

/// Writes the latency picture.
fn write_plot(
    path: &std::path::Path,
    title: &str,
    series: &[plot::Series<'_>],
) -> anyhow::Result<()> {
    std::fs::write(path, plot::cdf_svg(title, series))
        .with_context(|| format!("cannot write the plot to {}", path.display()))?;
    tracing::info!(path = %path.display(), "latency plot written");
    Ok(())
}

fn secs(flag: &str, v: f64) -> anyhow::Result<Duration> {
    ensure!(v <= 3600.0, "{flag} {v} is above an hour");
    Duration::try_from_secs_f64(v).with_context(|| format!("{flag} {v} is not a duration"))
}

/// The child side: one measurement, one JSON line on stdout.
fn measure_child(args: &BenchArgs, warmup: Duration, window: Duration) -> anyhow::Result<()> {
    let display = args
        .display
        .clone()
        .context("--measure-child needs --display")?;
    let painter = args
        .painter_task
        .as_deref()
        .map(|s| {
            let (pid, tid) = s.split_once(':')?;
            Some(Task::Thread {
                pid: pid.parse().ok()?,
                tid: tid.parse().ok()?,
            })
        })
        .map(|t| t.context("--painter-task is not PID:TID"))
        .transpose()?;
    let spec = measure::Spec {
        display,
        fps: args.fps,
        bitrate_kbps: args.bitrate,
        encoder: EncoderSettings {
            gstreamer: args.gstreamer_encoder.clone(),
            rate_control: args.rate_control,
            ..EncoderSettings::new(args.encoder)
        },
        codec: args.codec,
        threads: args.threads,
        warmup,
        window,
        painter,
        xserver: args.xserver_pid.map(Task::Process),
        samples: args.samples,
        framebuffer: args.framebuffer.clone(),
    };
    let report = measure::run(&spec)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", report.to_json_line()?)?;
    out.flush()?;
    Ok(())
}

/// Where a configuration runs.
enum Target {
    /// A fresh Xvfb at this size.
    Own(u32, u32),
    /// An existing display, as it is.
    Existing(String),
}

/// `--display`, or a fresh Xvfb per `--resolutions` entry.
fn targets(args: &BenchArgs) -> Vec<Target> {
    match &args.display {
        Some(d) => vec![Target::Existing(d.clone())],
        None => args
            .resolutions
            .iter()
            .map(|&(w, h)| Target::Own(w, h))
            .collect(),
    }
}

/// A display ready to measure: started when the target is our own, painted when content is
/// asked for (motion by default on our own), already changing when it should be.
struct Stage {
    // Declared first, so dropped first: the painter leaves while X is still up.
    animator: Option<Animator>,
    virtual_display: Option<VirtualDisplay>,
    display: String,
    content: Option<Content>,
    size: (u32, u32),
}

impl Stage {
    /// The framebuffer file of our own Xvfb, unless `--xshm` asks for MIT-SHM grabs.
    pub(super) fn framebuffer(&self, args: &BenchArgs) -> Option<std::path::PathBuf> {
        self.virtual_display
            .as_ref()
            .filter(|_| !args.xshm)
            .and_then(VirtualDisplay::framebuffer)
    }

    /// `top`: rows at the top the painter leaves alone (for the glass bench's stamp).
    fn prepare(args: &BenchArgs, target: &Target, top: u16) -> anyhow::Result<Self> {
        let (virtual_display, display, content) = match target {
            Target::Own(w, h) => {
                let vd = VirtualDisplay::start(*w, *h)
                    .with_context(|| format!("cannot start Xvfb at {w}x{h}"))?;
                let name = vd.name();
                (
                    Some(vd),
                    name,
                    Some(args.content.unwrap_or(Content::Motion)),
                )
            }
            Target::Existing(d) => (None, d.clone(), args.content),
        };
        let animator = content
            .map(|c| Animator::start_below(&display, c, args.fps, top))
            .transpose()
            .with_context(|| format!("cannot paint on {display}"))?;
        let size = if content.is_some_and(Content::moves) {
            wait_for_motion(&display)?
        } else {
            XshmCapture::open(Some(&display))
                .with_context(|| format!("cannot open {display}"))?
                .size()
        };
        Ok(Stage {
            animator,
            virtual_display,
            display,
            content,
            size,
        })
    }
}

fn pipeline(args: &BenchArgs) -> anyhow::Result<()> {
    let targets = targets(args);
    let mut reports = Vec::with_capacity(targets.len());
    for target in &targets {
        let mut report = run_one(args, target)?;
        let samples = std::mem::take(&mut report.latency_samples_ms);
        if args.json {
            // Printed as each finishes so a long run shows progress and survives a later failure.
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", report.to_json_line()?)?;
            out.flush()?;
        }
        reports.push((report, samples));
    }
    if !args.json {
        let plain: Vec<Report> = reports.iter().map(|(r, _)| r.clone()).collect();
        print!("{}", report::table(&plain));
    }
    if let Some(path) = &args.plot {
        let labels: Vec<String> = reports
            .iter()
            .map(|(r, _)| format!("{} {}x{} capture → encoded", r.content, r.width, r.height))
            .collect();
        let series: Vec<plot::Series<'_>> = reports
            .iter()
            .zip(&labels)
            .map(|((_, samples), label)| plot::Series {
                label,
                samples_ms: samples,
            })
            .collect();
        write_plot(path, "selkies-rs pipeline latency", &series)?;
    }
    Ok(())
}

/// `--mode peers`: per resolution, one painted display measured by each peer in turn.
fn peers(args: &BenchArgs) -> anyhow::Result<()> {
    let mut reports = Vec::new();
    let targets = targets(args);
    for target in &targets {
        let stage = Stage::prepare(args, target, 0)?;
        let display = stage.display.clone();
        // The display is painted once for all peers; our own run must not paint again.
        let ours_args = BenchArgs {
            content: None,
            ..args.clone()
        };
        let ours = run_one(&ours_args, &Target::Existing(display.clone()))?;
        let size = (ours.width, ours.height);
        let job = peers::Job {
            display: &display,
            size,
            fps: args.fps,
            kbps: args.bitrate,
            warmup: secs("--warmup", args.warmup)?,
            window: secs("--seconds", args.seconds)?,
        };
        let mut rows = vec![
            peers::PeerReport::ours(&ours),
            peers::gstreamer(&job),
            peers::pixelflux(&job),
        ];
        if args.json {
            let mut out = std::io::stdout().lock();
            for r in &rows {
                writeln!(out, "{}", serde_json::to_string(r)?)?;
            }
            out.flush()?;
        }
        reports.append(&mut rows);
        drop(stage);
    }
    if !args.json {
        print!("{}", peers::table(&reports));
    }
    Ok(())
}

/// Sets up the display and painter for `target`, runs a measuring child against it, and
/// returns the child's report.
fn run_one(args: &BenchArgs, target: &Target) -> anyhow::Result<Report> {
    let stage = Stage::prepare(args, target, 0)?;
    let (display, content) = (stage.display.clone(), stage.content);
    let painter = match stage.animator {
        Some(_) => Some(painter_thread()?),
        None => None,
    };
    let xserver = stage
        .virtual_display
        .as_ref()
        .map(VirtualDisplay::pid)
        .or_else(|| server_pid_from_lock(&display));
    let shown = display.as_str();
    tracing::info!(
        display = shown,
        content = content_label(content),
        "measuring"
    );

    let exe = std::env::current_exe().context("cannot find this executable to re-run it")?;
    let mut cmd = Command::new(exe);
    cmd.args(["bench", "--measure-child", "--display", &display])
        .args(["--fps", &args.fps.to_string()])
        .args(["--bitrate", &args.bitrate.to_string()])
        .args(["--seconds", &args.seconds.to_string()])
        .args(["--warmup", &args.warmup.to_string()])
        .args(["--encoder", &args.encoder.to_string()])
        .args(["--codec", &args.codec.to_string()])
        .args(["--threads", &args.threads.to_string()])
        .args(["--rate-control", &args.rate_control.to_string()])
        .args(args.plot.is_some().then_some("--samples"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(g) = &args.gstreamer_encoder {
        cmd.args(["--gstreamer-encoder", g]);
    }
    if let Some(Task::Thread { pid, tid }) = painter {
        cmd.args(["--painter-task", &format!("{pid}:{tid}")]);
    }
    if let Some(pid) = xserver {
        cmd.args(["--xserver-pid", &pid.to_string()]);
    }
    if let Some(fb) = stage.framebuffer(args) {
        cmd.arg("--framebuffer").arg(fb);
    }
    let out = cmd.output().context("cannot run the measuring process")?;
    if !out.status.success() {
        bail!("measuring {display} failed ({})", out.status);
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .context("the measuring process printed nothing")?;
    let mut report: Report = serde_json::from_str(line)
        .with_context(|| format!("unreadable report from the measuring process: {line}"))?;
    report.content = content_label(content).to_owned();
    drop(stage);
    Ok(report)
}

fn content_label(content: Option<Content>) -> &'static str {
    content.map_or("as-is", Content::name)
}

/// The painter's thread in this process. `std` names a thread from inside it once it runs, so
/// the name may appear a moment after `Animator::start` returns.
fn painter_thread() -> anyhow::Result<Task> {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        if let [tid] = procfs::threads_named("animate")[..] {
            return Ok(Task::Thread {
                pid: std::process::id(),
                tid,
            });
        }
        if Instant::now() > deadline {
            bail!("cannot find the painter thread (\"animate\") in /proc/self/task");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits until two grabs of `display` differ: the painter renders its frames before it starts
/// drawing (the 1080p zone plate takes a while), and that must not fall in the window. Returns
/// the display's size.
fn wait_for_motion(display: &str) -> anyhow::Result<(u32, u32)> {
    let mut capture = XshmCapture::open(Some(display))
        .with_context(|| format!("cannot grab {display} to see it move"))?;
    let deadline = Instant::now() + MOTION_TIMEOUT;
    let mut previous = capture.grab()?.data.to_vec();
    loop {
        std::thread::sleep(Duration::from_millis(30));
        let frame = capture.grab()?;
        if frame.data != previous.as_slice() {
            return Ok(capture.size());
        }
        if Instant::now() > deadline {
            bail!("{display} did not change within {MOTION_TIMEOUT:?} of starting the painter");
        }
        previous.clear();
        previous.extend_from_slice(frame.data);
    }
}

/// The pid of the local X server for `:N` (or `:N.S`), from the lock file it writes.
fn server_pid_from_lock(display: &str) -> Option<u32> {
    let number = display.strip_prefix(':')?.split('.').next()?;
    let number: u32 = number.parse().ok()?;
    let pid = std::fs::read_to_string(format!("/tmp/.X{number}-lock"))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    std::path::Path::new(&format!("/proc/{pid}"))
        .exists()
        .then_some(pid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        a: BenchArgs,
    }

    fn parse(args: &[&str]) -> Result<BenchArgs, clap::Error> {
        T::try_parse_from(std::iter::once("t").chain(args.iter().copied())).map(|t| t.a)
    }

    #[test]
    fn defaults() {
        let a = parse(&[]).expect("no flags");
        assert_eq!(a.mode, Mode::Pipeline);
        assert_eq!(a.resolutions, vec![(1280, 720), (1920, 1080)]);
        assert_eq!(
            (a.fps, a.bitrate, a.seconds, a.warmup),
            (60, 8000, 10.0, 1.0)
        );
        assert_eq!((a.content, a.display, a.json), (None, None, false));
    }

    #[test]
    fn flags() {
        let a = parse(&[
            "--json",
            "--content",
            "desktop",
            "--resolutions",
            "640x480,800x600",
            "--seconds",
            "2.5",
        ])
        .expect("valid flags");
        assert!(a.json);
        assert_eq!(a.content, Some(Content::Desktop));
        assert_eq!(a.resolutions, vec![(640, 480), (800, 600)]);
        assert_eq!(a.seconds, 2.5);
    }

    #[test]
    fn rejects_bad_flags() {
        assert!(parse(&["--mode", "latency"]).is_err());
        assert!(parse(&["--inject-delay-ms", "10001"]).is_err());
        assert!(parse(&["--resolutions", "640"]).is_err());
        assert!(parse(&["--content", "video"]).is_err());
        assert!(parse(&["--display", ":1", "--resolutions", "640x480"]).is_err());
        assert!(parse(&["--measure-child"]).is_err());
    }

    #[test]
    fn rejects_bad_values_before_starting_anything() {
        for flags in [
            &["--seconds", "0"][..],
            &["--seconds=-1"],
            &["--seconds", "NaN"],
            &["--warmup", "inf"],
            &["--fps", "0"],
            &["--bitrate", "1"],
        ] {
            let a = parse(flags).expect("parses");
            assert!(run(a).is_err(), "{flags:?} accepted");
        }
    }

    #[test]
    fn lock_file_lookup_needs_a_local_display() {
        assert_eq!(server_pid_from_lock("remote:0"), None);
        assert_eq!(server_pid_from_lock(":x"), None);
        assert_eq!(server_pid_from_lock(":4000000000"), None);
    }
}
