//! One configuration's figures, and how they are printed: a JSON object per line (`--json`) or
//! an aligned table for people.
//!
//! The measuring child process prints a [`Report`] as JSON and the parent reads it back, so the
//! field names are the interface for scripts and the smoke test alike.

use super::Mode;
use serde::{Deserialize, Serialize};

/// Figures for one mode × resolution × content run. Times in milliseconds, rates per second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub mode: Mode,
    /// The X display measured (`:N`).
    pub display: String,
    pub width: u32,
    pub height: u32,
    /// What was on screen: `motion`, `desktop`, `static`, or `as-is` for an existing display
    /// the bench did not paint.
    pub content: String,
    pub encoder: String,
    /// How the screen was read: `framebuffer` (Xvfb's framebuffer file, in place) or `xshm`
    /// (MIT-SHM copies).
    #[serde(default)]
    pub grab: String,
    /// Encoder threads asked for (0 = the encoder chose).
    pub threads: u32,
    pub target_fps: u32,
    pub bitrate_kbps: u32,
    /// Frames encoded in the measured window.
    pub frames: u64,
    /// Length of the measured window (warm-up excluded).
    pub seconds: f64,
    pub fps: f64,
    /// Frame-clock ticks the media thread missed because it was still busy.
    pub skipped: u64,
    /// Frames the bench's own receiver missed (should be 0: it only counts).
    pub lagged: u64,
    pub keyframes: u64,
    /// CPU time of the measuring process (every thread: media thread, x264 workers, the bench's
    /// receiver) per encoded frame. Not the painter and not the X server.
    pub cpu_ms_per_frame: f64,
    /// The same CPU time as a share of one core.
    pub cpu_percent: f64,
    /// CPU time of the thread painting the test content, per encoded frame (when we paint).
    pub paint_cpu_ms_per_frame: Option<f64>,
    /// CPU time of the X server process per encoded frame (it serves both the grabs and the
    /// painter's uploads), when its pid is known.
    pub xserver_cpu_ms_per_frame: Option<f64>,
    /// Capture tick → encoded access unit ready.
    pub latency_p50_ms: f64,
    pub latency_p95_ms: f64,
    pub latency_p99_ms: f64,
    pub latency_mean_ms: f64,
    pub latency_max_ms: f64,
    /// The grab: tick → pixels readable (in our MIT-SHM segment, or Xvfb's framebuffer held
    /// still for us).
    pub capture_p50_ms: f64,
    pub capture_p95_ms: f64,
    /// BGRx → I420.
    pub convert_p50_ms: f64,
    pub convert_p95_ms: f64,
    /// x264 encode call.
    pub encode_p50_ms: f64,
    pub encode_p95_ms: f64,
    /// Peak resident memory of the measuring process (VmHWM), MiB.
    pub rss_mb: f64,
    /// Encoded bitrate over the window.
    pub kbps: f64,
    /// Every capture → encoded latency, ms: only between the measuring child and the parent,
    /// when `--plot` wants them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub latency_samples_ms: Vec<f64>,
}

impl Report {
    /// One line of JSON (no trailing newline).
    ///
    /// # Errors
    /// Never in practice: every field serialises; the error is serde_json's.
    pub fn to_json_line(&self) -> serde_json::Result<String> {
        serde_json::to_string(self)
    }
}

const COLUMNS: [&str; 17] = [
    "mode",
    "size",
    "content",
    "fps",
    "frames",
    "skip",
    "cpu ms/f",
    "cpu %",
    "lat p50",
    "p95",
    "p99",
    "grab",
    "conv",
    "enc",
    "kbps",
    "rss MB",
    "paint+X ms/f",
];

/// An aligned text table, one row per report, with a header and a units note.
pub fn table(reports: &[Report]) -> String {
    let opt = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.2}"));
    let rows: Vec<[String; 17]> = reports
        .iter()
        .map(|r| {
            [
                format!("{:?}", r.mode).to_lowercase(),
                format!("{}x{}", r.width, r.height),
                r.content.clone(),
                format!("{:.1}", r.fps),
                r.frames.to_string(),
                r.skipped.to_string(),
                format!("{:.2}", r.cpu_ms_per_frame),
                format!("{:.0}", r.cpu_percent),
                format!("{:.2}", r.latency_p50_ms),
                format!("{:.2}", r.latency_p95_ms),
                format!("{:.2}", r.latency_p99_ms),
                format!("{:.2}", r.capture_p50_ms),
                format!("{:.2}", r.convert_p50_ms),
                format!("{:.2}", r.encode_p50_ms),
                format!("{:.0}", r.kbps),
                format!("{:.1}", r.rss_mb),
                format!(
                    "{}+{}",
                    opt(r.paint_cpu_ms_per_frame),
                    opt(r.xserver_cpu_ms_per_frame)
                ),
            ]
        })
        .collect();
    let mut widths = COLUMNS.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut first = true;
        for (cell, w) in cells.zip(widths) {
            if !first {
                out.push_str("  ");
            }
            // Text columns left-aligned, numbers right-aligned.
            if first || cell.chars().next().is_some_and(char::is_alphabetic) {
                out.push_str(&format!("{cell:<w$}"));
            } else {
                out.push_str(&format!("{cell:>w$}"));
            }
            first = false;
        }
        out.push('\n');
    };
    line(&mut COLUMNS.iter().copied());
    for row in &rows {
        line(&mut row.iter().map(String::as_str));
    }
    out.push_str(
        "times in ms (lat = capture tick → encoded; grab/conv/enc are p50 per stage); \
         cpu = this process per frame; paint+X = painter thread + X server per frame\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> Report {
        Report {
            mode: Mode::Pipeline,
            display: ":99".into(),
            width: 1280,
            height: 720,
            content: "motion".into(),
            encoder: "x264".into(),
            grab: "xshm".into(),
            threads: 0,
            target_fps: 60,
            bitrate_kbps: 8000,
            frames: 600,
            seconds: 10.0,
            fps: 60.0,
            skipped: 0,
            lagged: 0,
            keyframes: 0,
            cpu_ms_per_frame: 3.2,
            cpu_percent: 19.2,
            paint_cpu_ms_per_frame: Some(0.5),
            xserver_cpu_ms_per_frame: None,
            latency_p50_ms: 3.0,
            latency_p95_ms: 3.5,
            latency_p99_ms: 4.0,
            latency_mean_ms: 3.1,
            latency_max_ms: 6.0,
            capture_p50_ms: 0.4,
            capture_p95_ms: 0.6,
            convert_p50_ms: 0.5,
            convert_p95_ms: 0.7,
            encode_p50_ms: 2.1,
            encode_p95_ms: 2.5,
            rss_mb: 40.0,
            kbps: 7900.0,
            latency_samples_ms: Vec::new(),
        }
    }

    #[test]
    fn json_round_trips_with_the_documented_names() {
        let r = sample();
        let line = r.to_json_line().expect("serialise");
        assert!(!line.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&line).expect("parse");
        assert_eq!(v["mode"], "pipeline");
        assert_eq!(v["latency_p95_ms"], 3.5);
        assert!(v["xserver_cpu_ms_per_frame"].is_null());
        let back: Report = serde_json::from_str(&line).expect("round trip");
        assert_eq!(back, r);
    }

    #[test]
    fn table_is_aligned() {
        let mut other = sample();
        other.width = 1920;
        other.height = 1080;
        other.content = "desktop".into();
        let text = table(&[sample(), other]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("mode"));
        assert_eq!(lines[1].len(), lines[2].len(), "{text}");
        assert!(lines[1].contains("1280x720") && lines[2].contains("1920x1080"));
        assert!(lines[1].contains("0.50+-"));
    }
}
