//! `selkies-rs bench --mode input`: the input path's latency and throughput, measured on the real
//! input thread against an X server, with an ordinary X client counting what arrives.
//!
//! Three runs: pointer moves paced at 1000 Hz (a gaming mouse), key taps paced at 100 Hz, and a
//! burst of moves sent as fast as possible. Latency is the input thread's own figure: a verb's
//! arrival (as the data channel hands it over) to its X requests written to the socket. Loss is
//! what the observing client did not receive. The WebRTC hop is not included.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::Serialize;
use xcb::x;

use super::stats::summarize;
use crate::capture::display::VirtualDisplay;
use crate::input::protocol::{ButtonMask, PointerEvent, Verb};
use crate::input::service::InputService;

/// How long the observer may take to see the last event after the last send.
const DRAIN: Duration = Duration::from_secs(3);

/// One measured run.
#[derive(Debug, Clone, Serialize)]
pub struct InputReport {
    pub mode: &'static str,
    /// `pointer-1000hz`, `keys-100hz`, `pointer-burst`.
    pub run: &'static str,
    /// X events the run should produce.
    pub events: u64,
    /// X events the observing client received.
    pub received: u64,
    pub lost: u64,
    pub seconds: f64,
    /// Events received per second.
    pub events_per_second: f64,
    pub latency_p50_us: f64,
    pub latency_p95_us: f64,
    pub latency_p99_us: f64,
    pub latency_max_us: f64,
}

/// Counts motion and key presses on the root window from a connection of its own.
struct Observer {
    motion: Arc<AtomicU64>,
    keys: Arc<AtomicU64>,
}

impl Observer {
    fn start(display: &str) -> anyhow::Result<Self> {
        let (conn, screen) = xcb::Connection::connect(Some(display))
            .with_context(|| format!("observer: connect to {display}"))?;
        let root = crate::x11::screen_root(&conn, screen).context("observer: no screen")?;
        conn.send_and_check_request(&x::ChangeWindowAttributes {
            window: root,
            value_list: &[x::Cw::EventMask(
                x::EventMask::POINTER_MOTION | x::EventMask::KEY_PRESS,
            )],
        })?;
        let (motion, keys) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let (m, k) = (Arc::clone(&motion), Arc::clone(&keys));
        std::thread::Builder::new()
            .name("bench-observer".into())
            .spawn(move || {
                while let Ok(event) = conn.wait_for_event() {
                    match event {
                        xcb::Event::X(x::Event::MotionNotify(_)) => {
                            m.fetch_add(1, Ordering::Relaxed)
                        }
                        xcb::Event::X(x::Event::KeyPress(_)) => k.fetch_add(1, Ordering::Relaxed),
                        _ => 0,
                    };
                }
            })?;
        Ok(Observer { motion, keys })
    }
}

/// Runs the three measurements on `display` (or a fresh 1920x1080 Xvfb) for about `seconds` each.
///
/// # Errors
/// When the display or the input thread cannot start.
pub fn run(display: Option<&str>, seconds: f64) -> anyhow::Result<Vec<InputReport>> {
    let own = match display {
        Some(_) => None,
        None => Some(VirtualDisplay::start(1920, 1080)?),
    };
    let name = match (&own, display) {
        (Some(vd), _) => vd.name(),
        (None, Some(d)) => d.to_owned(),
        (None, None) => anyhow::bail!("no display"),
    };
    let observer = Observer::start(&name)?;
    let service = InputService::start(Some(&name))?;
    let client = service.client();
    let window = Duration::from_secs_f64(seconds.max(0.1));

    let mut reports = Vec::new();
    let pointer_events = (window.as_secs_f64() * 1000.0) as u64;
    reports.push(measure(
        "pointer-1000hz",
        &service,
        &observer.motion,
        pointer_events,
        Some(Duration::from_millis(1)),
        |i| client.send(Verb::PointerAbsolute(point(i)), Instant::now()),
    )?);
    let taps = (window.as_secs_f64() * 100.0) as u64;
    reports.push(measure(
        "keys-100hz",
        &service,
        &observer.keys,
        taps,
        Some(Duration::from_millis(10)),
        |i| {
            // Alternate two keys so every tap is a fresh press.
            let ks = if i % 2 == 0 { 0x61 } else { 0x62 };
            client.send(Verb::KeyDown(ks), Instant::now())
                && client.send(Verb::KeyUp(ks), Instant::now())
        },
    )?);
    reports.push(measure(
        "pointer-burst",
        &service,
        &observer.motion,
        pointer_events.max(1000),
        None,
        |i| client.send(Verb::PointerAbsolute(point(i)), Instant::now()),
    )?);
    drop(own);
    Ok(reports)
}

/// A point that differs from the previous one, so the server reports every move.
fn point(i: u64) -> PointerEvent {
    let i = i32::try_from(i % 1000).unwrap_or(0);
    PointerEvent {
        x: 100 + i,
        y: 100 + (i % 2) * 50,
        buttons: ButtonMask(0),
        scroll: 0,
    }
}

fn measure(
    run: &'static str,
    service: &InputService,
    counter: &AtomicU64,
    events: u64,
    pace: Option<Duration>,
    send: impl Fn(u64) -> bool,
) -> anyhow::Result<InputReport> {
    let start_count = counter.load(Ordering::Relaxed);
    let before = service.stats().latencies_us().len();
    let start = Instant::now();
    for i in 0..events {
        if let Some(pace) = pace {
            let due = start + pace.mul_f64(i as f64);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
        anyhow::ensure!(send(i), "the input thread stopped");
    }
    let deadline = Instant::now() + DRAIN;
    while counter.load(Ordering::Relaxed) - start_count < events && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
    let elapsed = start.elapsed().as_secs_f64();
    let received = (counter.load(Ordering::Relaxed) - start_count).min(events);
    let all = service.stats().latencies_us();
    let mut samples: Vec<f64> = all
        .get(before.min(all.len())..)
        .unwrap_or_default()
        .iter()
        .map(|&us| f64::from(us))
        .collect();
    let s = summarize(&mut samples).context("no latency samples")?;
    Ok(InputReport {
        mode: "input",
        run,
        events,
        received,
        lost: events - received,
        seconds: elapsed,
        events_per_second: received as f64 / elapsed,
        latency_p50_us: s.p50,
        latency_p95_us: s.p95,
        latency_p99_us: s.p99,
        latency_max_us: s.max,
    })
}

/// The reports as a table.
pub fn table(reports: &[InputReport]) -> String {
    let mut out = String::from(
        "run              events  received  lost  events/s   p50 µs   p95 µs   p99 µs   max µs\n",
    );
    for r in reports {
        out.push_str(&format!(
            "{:<15} {:>7} {:>9} {:>5} {:>9.0} {:>8.0} {:>8.0} {:>8.0} {:>8.0}\n",
            r.run,
            r.events,
            r.received,
            r.lost,
            r.events_per_second,
            r.latency_p50_us,
            r.latency_p95_us,
            r.latency_p99_us,
            r.latency_max_us
        ));
    }
    out
}
