//! Desktop sound end to end: a tone played into PulseAudio's default sink is heard in headless
//! Chromium at its pitch (measured with WebAudio's analyser on the received track), follows a
//! change of tone, and PulseAudio sees the server record only while someone listens.

mod common;

use anyhow::{ensure, Context, Result};
use common::pulse::Pulse;
use common::{Chromium, Server};
use selkies_rs::capture::display::VirtualDisplay;
use serde_json::Value;
use std::time::{Duration, Instant};

/// Analyses what the page's `<audio>` element receives (created once).
const ATTACH: &str = r#"(() => {
  const el = document.getElementById('audio');
  if (!el || !el.srcObject || el.srcObject.getAudioTracks().length === 0) return false;
  if (!window.__tone) {
    const ctx = new AudioContext();
    const an = ctx.createAnalyser();
    an.fftSize = 8192;
    an.smoothingTimeConstant = 0;
    ctx.createMediaStreamSource(el.srcObject).connect(an);
    ctx.resume();
    window.__tone = { ctx, an };
  }
  return true;
})()"#;

/// The loudest frequency and its level in dB: `[hz, db]`.
const PEAK: &str = r#"(() => {
  const { ctx, an } = window.__tone;
  const bins = new Float32Array(an.frequencyBinCount);
  an.getFloatFrequencyData(bins);
  let best = 1;
  for (let i = 2; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
  return [best * ctx.sampleRate / an.fftSize, bins[best]];
})()"#;

/// The codec of the inbound audio stream, from the page's own WebRTC stats.
const CODEC: &str = r#"(async () => {
  const stats = await window.selkies.pc.getStats();
  let codecId = null;
  stats.forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'audio') codecId = s.codecId; });
  const codec = codecId && stats.get(codecId);
  return codec ? codec.mimeType : null;
})()"#;

/// Waits until the loudest frequency the browser hears is within 2 % of `hz` and clearly
/// louder than silence.
fn hear(browser: &mut Chromium, server: &Server, hz: f64) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last = Value::Null;
    while Instant::now() < deadline {
        last = browser.cdp().eval(PEAK)?;
        let heard = last[0].as_f64().unwrap_or(0.0);
        let db = last[1].as_f64().unwrap_or(f64::NEG_INFINITY);
        if (heard - hz).abs() < hz * 0.02 && db > -60.0 {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    anyhow::bail!(
        "the browser does not hear {hz} Hz; loudest [Hz, dB] {last}\nserver log:\n{}",
        server.log_text()
    )
}

/// `selkies_audio_packets_total` from the server's `/metrics`.
fn audio_packets(server: &Server) -> Result<f64> {
    let metrics = common::http::get(server.port, "/metrics", None)?;
    metrics
        .body
        .lines()
        .find_map(|l| l.strip_prefix("selkies_audio_packets_total "))
        .and_then(|v| v.trim().parse().ok())
        .with_context(|| format!("no audio packets in /metrics:\n{}", metrics.body))
}

/// The server's record streams in PulseAudio.
fn recordings(pulse: &Pulse) -> Result<usize> {
    Ok(pulse
        .pactl(&["list", "short", "source-outputs"])?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count())
}

/// Waits until PulseAudio shows `n` record streams.
fn wait_recordings(pulse: &Pulse, server: &Server, n: usize, what: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let now = recordings(pulse)?;
        if now == n {
            return Ok(());
        }
        ensure!(
            Instant::now() < deadline,
            "{what}: {now} record streams, not {n}\nserver log:\n{}",
            server.log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_tone_on_the_desktop_is_heard_in_the_browser() -> Result<()> {
    let pulse = Pulse::start()?;
    let tone = pulse.play_tone(440)?;
    let display = VirtualDisplay::start(320, 240)?;
    let server = Server::start(
        &display.name(),
        &[
            ("SELKIES_ENABLE_AUDIO", "true"),
            ("SELKIES_ENABLE_METRICS_HTTP", "true"),
            ("PULSE_SERVER", pulse.server.as_str()),
        ],
    )?;
    ensure!(
        server.log_text().contains("audio: PulseAudio ready"),
        "{}",
        server.log_text()
    );
    // Nobody listens yet: nothing is recorded.
    ensure!(recordings(&pulse)? == 0, "recording before anyone listens");

    let mut browser = Chromium::launch(&server.url())?;
    browser
        .cdp()
        .wait_for(ATTACH, Duration::from_secs(30))
        .with_context(|| format!("no audio track; server log:\n{}", server.log_text()))?;
    wait_recordings(&pulse, &server, 1, "one recording for the listener")?;
    let codec = browser.cdp().wait_for(CODEC, Duration::from_secs(10))?;
    ensure!(
        codec
            .as_str()
            .is_some_and(|c| c.eq_ignore_ascii_case("audio/opus")),
        "{codec}"
    );
    hear(&mut browser, &server, 440.0)?;

    // The sound is live: another tone replaces it.
    pulse.stop_tone(&tone)?;
    let _tone = pulse.play_tone(1500)?;
    hear(&mut browser, &server, 1500.0)?;
    // Operators see the sound being encoded: 100 packets of 10 ms a second.
    let before = audio_packets(&server)?;
    std::thread::sleep(Duration::from_secs(1));
    let after = audio_packets(&server)?;
    ensure!(
        before > 0.0 && (50.0..=150.0).contains(&(after - before)),
        "audio packets {before} then {after} a second later"
    );

    // The listener leaves: the recording stops soon after.
    drop(browser);
    wait_recordings(&pulse, &server, 0, "nobody listens")?;
    Ok(())
}

#[test]
fn without_pulseaudio_the_video_streams_and_the_log_says_why_there_is_no_sound() -> Result<()> {
    let display = VirtualDisplay::start(320, 240)?;
    let missing = std::env::temp_dir().join(format!("selkies-no-pulse-{}", std::process::id()));
    let server = Server::start(
        &display.name(),
        &[
            ("SELKIES_ENABLE_AUDIO", "true"),
            ("PULSE_SERVER", &format!("unix:{}", missing.display())),
        ],
    )?;
    ensure!(
        server.log_text().contains("audio unavailable: PulseAudio"),
        "{}",
        server.log_text()
    );
    let mut browser = Chromium::launch(&server.url())?;
    browser
        .cdp()
        .wait_for(
            "window.selkies && window.selkies.framesDecoded > 2",
            Duration::from_secs(30),
        )
        .with_context(|| format!("no video; server log:\n{}", server.log_text()))?;
    let tracks = browser.cdp().eval(
        "window.selkies.pc.getReceivers().map((r) => r.track && r.track.kind).filter(Boolean)",
    )?;
    ensure!(tracks == serde_json::json!(["video"]), "{tracks}");
    Ok(())
}
