//! `selkies-rs bench --mode glass`: the glass-to-glass figure comes from a real browser showing
//! real stamps, and it measures what it claims: a delay injected on the server side shows up in
//! it. The size of the shift is checked with a wide margin; speed itself is never asserted.

mod common;

use common::bench::{bench_json, num};
use serde_json::Value;

/// Held on every frame by the server in the second run.
const INJECTED_MS: f64 = 150.0;

/// One glass run at 640x480 for 3 s; its single JSON line.
fn glass(inject_delay_ms: u32, extra: &[&str]) -> Value {
    let delay = inject_delay_ms.to_string();
    let mut args = vec!["--mode", "glass", "--json", "--resolutions", "640x480"];
    args.extend(["--seconds", "3", "--inject-delay-ms", &delay]);
    args.extend(extra);
    let mut rows = bench_json(&args);
    assert_eq!(rows.len(), 1, "one configuration, one line: {rows:?}");
    rows.remove(0)
}

fn check_sane(v: &Value) {
    for key in [
        "width",
        "height",
        "frames",
        "seconds",
        "fps",
        "cpu_ms_per_frame",
        "latency_p50_ms",
        "latency_p95_ms",
        "latency_p99_ms",
        "rss_mb",
        "kbps",
        "stamps_shown",
        "stamps_missed",
        "freezes",
    ] {
        let x = num(v, key);
        assert!(x.is_finite() && x >= 0.0, "{key} = {x} in {v}");
    }
    assert_eq!(v["mode"], "glass");
    assert_eq!((num(v, "width"), num(v, "height")), (640.0, 480.0));
    // 47 stamps a second for 3 s, and the browser showed most of them.
    assert!(num(v, "frames") >= 100.0, "{v}");
    assert!(num(v, "stamps_shown") >= num(v, "frames") / 2.0, "{v}");
    assert_eq!(
        num(v, "stamps_shown") + num(v, "stamps_missed"),
        num(v, "frames")
    );
    assert!(num(v, "fps") > 0.0 && num(v, "kbps") > 0.0, "{v}");
    let (p50, p95, p99) = (
        num(v, "latency_p50_ms"),
        num(v, "latency_p95_ms"),
        num(v, "latency_p99_ms"),
    );
    assert!(0.0 < p50 && p50 <= p95 && p95 <= p99, "{v}");
}

#[test]
fn glass_latency_sees_a_delay_injected_in_the_server() {
    let plot = std::env::temp_dir().join(format!("selkies-glass-{}.svg", std::process::id()));
    let plot_arg = plot.to_string_lossy().into_owned();
    let base = glass(0, &["--plot", &plot_arg]);
    check_sane(&base);
    let svg = std::fs::read_to_string(&plot).expect("--plot wrote the picture");
    let _ = std::fs::remove_file(&plot);
    assert!(
        svg.starts_with("<svg") && svg.contains("glass 640x480"),
        "{svg:.200}"
    );

    let delayed = glass(INJECTED_MS as u32, &[]);
    check_sane(&delayed);
    assert_eq!(num(&delayed, "inject_delay_ms"), INJECTED_MS);
    let shift = num(&delayed, "latency_p50_ms") - num(&base, "latency_p50_ms");
    assert!(
        (INJECTED_MS * 0.6..INJECTED_MS * 1.6).contains(&shift),
        "injecting {INJECTED_MS} ms moved p50 by {shift:.1} ms:\nbase {base}\ndelayed {delayed}"
    );
    // The hold is before sending, so arrival moves too, not only display.
    if let (Some(a), Some(b)) = (
        base["received_p50_ms"].as_f64(),
        delayed["received_p50_ms"].as_f64(),
    ) {
        assert!(b - a > INJECTED_MS * 0.6, "received p50 {a} → {b}");
    }
}
