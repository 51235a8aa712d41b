//! `/metrics`: what a Prometheus scrape shows follows what happens. A browser connects, streams,
//! types, sends a malformed message and reports its fps; each shows in the next scrapes, read with
//! an independent OpenMetrics parser (the Python client's, which rejects malformed expositions).
//! The endpoint is off by default and behind basic auth when on.

mod common;

use anyhow::{bail, ensure, Context, Result};
use common::http::{basic, get};
use common::{Chromium, Painter, Server};
use selkies_rs::capture::display::VirtualDisplay;
use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One sample: its name (with `_total`, `_bucket`…), labels and value.
#[derive(Debug, Clone, serde::Deserialize)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses an exposition with `prometheus_client.openmetrics.parser`, which fails on anything
/// that is not valid OpenMetrics (a missing `# EOF`, a counter without `_total`, buckets out of
/// order, a `+Inf` bucket that differs from the count…).
fn parse(text: &str) -> Result<Vec<Sample>> {
    const SCRIPT: &str = r#"
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
out = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        out.append({"name": s.name, "labels": s.labels, "value": s.value})
print(json.dumps(out))
"#;
    // Debian's interpreter, where python3-prometheus-client is installed (not a pyenv shim).
    let mut child = Command::new("/usr/bin/python3")
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running /usr/bin/python3 (scripts/install-deps.sh installs it)")?;
    child
        .stdin
        .take()
        .context("python stdin")?
        .write_all(text.as_bytes())?;
    let out = child.wait_with_output()?;
    ensure!(
        out.status.success(),
        "not valid OpenMetrics: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(serde_json::from_slice(&out.stdout)?)
}

struct Scrape(Vec<Sample>);

impl Scrape {
    fn take(port: u16, auth: Option<&str>) -> Result<Self> {
        let reply = get(port, "/metrics", auth)?;
        ensure!(reply.status == 200, "{reply:?}");
        ensure!(
            reply
                .header("content-type")
                .is_some_and(|t| t.starts_with("application/openmetrics-text")),
            "{reply:?}"
        );
        Ok(Self(parse(&reply.body)?))
    }

    /// Every sample named `name` whose labels include `labels`.
    fn all(&self, name: &str, labels: &[(&str, &str)]) -> Vec<&Sample> {
        self.0
            .iter()
            .filter(|s| {
                s.name == name
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).is_some_and(|x| x == v))
            })
            .collect()
    }

    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Result<f64> {
        match self.all(name, labels).as_slice() {
            [one] => Ok(one.value),
            other => bail!("{name} {labels:?}: {} samples", other.len()),
        }
    }
}

/// Scrapes until `check` passes, for at most `timeout`; the last failure is the error.
fn scrape_until(
    server: &Server,
    timeout: Duration,
    mut check: impl FnMut(&Scrape) -> Result<()>,
) -> Result<Scrape> {
    let deadline = Instant::now() + timeout;
    loop {
        let scrape = Scrape::take(server.port, None)?;
        match check(&scrape) {
            Ok(()) => return Ok(scrape),
            Err(e) if Instant::now() > deadline => {
                return Err(e.context(format!("server log:\n{}", server.log_text())))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(250)),
        }
    }
}

const H264: [(&str, &str); 2] = [("codec", "h264"), ("encoder", "x264")];

#[test]
fn a_scrape_follows_a_viewer_from_connect_to_leave() -> Result<()> {
    let display = VirtualDisplay::start(640, 480)?;
    let mut painter = Painter::connect(&display.name())?;
    painter.fill_rect(0, 0, 640, 480, [200, 40, 40])?;
    painter.sync()?;
    let framebuffer = display
        .framebuffer()
        .context("our Xvfb has no framebuffer file")?;
    let server = Server::start(
        &display.name(),
        &[
            ("SELKIES_ENABLE_METRICS_HTTP", "true"),
            ("SELKIES_ENCODER", "x264"),
            (
                "SELKIES_XVFB_FRAMEBUFFER",
                framebuffer.to_str().context("path")?,
            ),
        ],
    )?;

    // Nobody watches: the pipeline idles.
    let idle = Scrape::take(server.port, None)?;
    ensure!(idle.value("selkies_viewers", &[])? == 0.0);
    ensure!(idle.value("selkies_frames_encoded_total", &H264)? == 0.0);
    ensure!(idle.value("selkies_video_width_pixels", &H264)? == 640.0);
    ensure!(idle.value("selkies_capture_in_place", &H264)? == 1.0);
    ensure!(idle.all("selkies_build_info", &[]).len() == 1);
    ensure!(idle.value("process_resident_memory_bytes", &[])? > 1e6);

    let mut browser = Chromium::launch(&server.url())?;
    browser
        .cdp()
        .wait_for(
            "window.selkies && window.selkies.framesDecoded > 5 && window.selkies.channel \
             && window.selkies.channel.readyState === 'open'",
            Duration::from_secs(30),
        )
        .with_context(|| format!("not streaming; server log:\n{}", server.log_text()))?;

    let streaming = scrape_until(&server, Duration::from_secs(10), |s| {
        ensure!(s.value("selkies_viewers", &[])? == 1.0, "viewers");
        ensure!(s.value("selkies_frames_encoded_total", &H264)? >= 1.0);
        ensure!(s.value("selkies_keyframes_total", &H264)? >= 1.0);
        ensure!(s.value("selkies_encoded_bytes_total", &H264)? > 0.0);
        Ok(())
    })?;
    let count = streaming.value("selkies_capture_to_encoded_seconds_count", &H264)?;
    let sum = streaming.value("selkies_capture_to_encoded_seconds_sum", &H264)?;
    ensure!(count >= 1.0 && sum > 0.0, "count {count}, sum {sum}");
    // Every frame is observed once, when it is published: the histogram counts what was encoded
    // (read a moment later, so perhaps a frame more).
    let encoded = streaming.value("selkies_frames_encoded_total", &H264)?;
    ensure!(count >= encoded, "histogram {count} < frames {encoded}");

    // Type a key, then send a message that does not parse.
    let sent = browser.cdp().eval(
        "[window.selkies.send('kd,97'), window.selkies.send('ku,97'), \
          window.selkies.send('kd,not-a-keysym')]",
    )?;
    ensure!(sent == serde_json::json!([true, true, true]), "{sent}");
    // The page reports its fps and latency every 5 s.
    let reporting = scrape_until(&server, Duration::from_secs(20), |s| {
        ensure!(
            s.value("selkies_input_injected_total", &[])? >= 2.0,
            "injected"
        );
        ensure!(
            s.value("selkies_datachannel_messages_rejected_total", &[])? == 1.0,
            "rejected"
        );
        ensure!(s.all("selkies_viewer_fps", &[]).len() == 1, "fps");
        ensure!(
            s.all("selkies_viewer_latency_seconds", &[]).len() == 1,
            "latency"
        );
        Ok(())
    })?;
    let fps = reporting.all("selkies_viewer_fps", &[])[0];
    ensure!(
        fps.labels.contains_key("peer") && fps.value >= 0.0,
        "{fps:?}"
    );
    // The rejected message ended nothing: the same viewer still streams.
    ensure!(reporting.value("selkies_viewers", &[])? == 1.0);

    // The viewer leaves: its reports go with it, the counters stay.
    drop(browser);
    scrape_until(&server, Duration::from_secs(20), |s| {
        ensure!(s.value("selkies_viewers", &[])? == 0.0, "viewers");
        ensure!(s.all("selkies_viewer_fps", &[]).is_empty(), "fps");
        ensure!(s.value("selkies_datachannel_messages_rejected_total", &[])? == 1.0);
        ensure!(s.value("selkies_frames_encoded_total", &H264)? >= encoded);
        Ok(())
    })?;
    Ok(())
}

#[test]
fn metrics_are_off_by_default_and_behind_basic_auth_when_on() -> Result<()> {
    let display = VirtualDisplay::start(320, 240)?;

    let off = Server::start(&display.name(), &[])?;
    let reply = get(off.port, "/metrics", None)?;
    ensure!(reply.status == 404, "{reply:?}");
    drop(off);

    let on = Server::start(
        &display.name(),
        &[
            ("SELKIES_ENABLE_METRICS_HTTP", "true"),
            ("SELKIES_ENABLE_BASIC_AUTH", "true"),
            ("SELKIES_BASIC_AUTH_USER", "ops"),
            ("SELKIES_BASIC_AUTH_PASSWORD", "scrape-me"),
        ],
    )?;
    for auth in [None, Some(basic("ops", "wrong"))] {
        let reply = get(on.port, "/metrics", auth.as_deref())?;
        ensure!(reply.status == 401, "{auth:?}: {reply:?}");
        ensure!(!reply.body.contains("selkies_"), "{reply:?}");
    }
    let good = basic("ops", "scrape-me");
    let scrape = Scrape::take(on.port, Some(&good))?;
    ensure!(scrape.value("selkies_viewers", &[])? == 0.0);
    // Selkies 2.x serves it at /api/metrics; a proxy prefix works too.
    for path in ["/api/metrics", "/desktop/metrics"] {
        let reply = get(on.port, path, Some(&good))?;
        ensure!(reply.status == 200, "{path}: {reply:?}");
        parse(&reply.body)?;
    }
    Ok(())
}
