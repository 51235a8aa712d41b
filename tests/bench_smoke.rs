//! `selkies-rs bench --json` runs end to end on its own Xvfb and prints sane figures.
//!
//! Checks shape and consistency only; speed is never asserted (these machines are shared and
//! their timings drift).

mod common;

use common::bench::{bench_json, num};

const NUMBERS: [&str; 26] = [
    "width",
    "height",
    "threads",
    "target_fps",
    "bitrate_kbps",
    "frames",
    "seconds",
    "fps",
    "skipped",
    "lagged",
    "keyframes",
    "cpu_ms_per_frame",
    "cpu_percent",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "latency_mean_ms",
    "latency_max_ms",
    "capture_p50_ms",
    "capture_p95_ms",
    "convert_p50_ms",
    "convert_p95_ms",
    "encode_p50_ms",
    "encode_p95_ms",
    "rss_mb",
    "kbps",
];

#[test]
fn bench_json_on_its_own_xvfb() {
    let plot = std::env::temp_dir().join(format!("selkies-bench-{}.svg", std::process::id()));
    let plot_arg = plot.to_string_lossy().into_owned();
    let rows = bench_json(&[
        "--json",
        "--seconds",
        "2",
        "--resolutions",
        "640x480",
        "--plot",
        &plot_arg,
    ]);
    assert_eq!(rows.len(), 1, "one configuration, one line: {rows:?}");
    let svg = std::fs::read_to_string(&plot).expect("--plot wrote the picture");
    let _ = std::fs::remove_file(&plot);
    // One curve for the one configuration, its percentiles in the legend.
    assert!(
        svg.starts_with("<svg") && svg.contains("motion 640x480"),
        "{svg:.300}"
    );
    assert!(svg.contains("<polyline"), "{svg:.300}");
    assert!(
        rows[0].get("latency_samples_ms").is_none(),
        "samples stay internal"
    );
    for v in rows {
        for key in NUMBERS {
            let x = num(&v, key);
            assert!(x.is_finite() && x >= 0.0, "{key} = {x} in {v}");
        }
        assert_eq!(v["mode"], "pipeline");
        assert_eq!(v["content"], "motion");
        assert_eq!(v["encoder"], "x264");
        assert!(v["display"].as_str().is_some_and(|d| d.starts_with(':')));
        assert_eq!((num(&v, "width"), num(&v, "height")), (640.0, 480.0));
        assert_eq!(
            (num(&v, "target_fps"), num(&v, "bitrate_kbps")),
            (60.0, 8000.0)
        );
        assert_eq!(num(&v, "seconds"), 2.0);
        assert!(num(&v, "frames") > 0.0 && num(&v, "fps") > 0.0, "{v}");
        assert!(num(&v, "kbps") > 0.0 && num(&v, "rss_mb") > 0.0, "{v}");
        assert!(num(&v, "cpu_ms_per_frame") > 0.0, "{v}");
        let (p50, p95, p99) = (
            num(&v, "latency_p50_ms"),
            num(&v, "latency_p95_ms"),
            num(&v, "latency_p99_ms"),
        );
        assert!(
            0.0 < p50 && p50 <= p95 && p95 <= p99 && p99 <= num(&v, "latency_max_ms"),
            "{v}"
        );
        // Each stage is part of the whole.
        for stage in ["capture_p50_ms", "convert_p50_ms", "encode_p50_ms"] {
            assert!(num(&v, stage) > 0.0 && num(&v, stage) <= num(&v, "latency_max_ms"));
        }
        // We started the display and the painter, so both are accounted for.
        assert!(v["paint_cpu_ms_per_frame"].as_f64().is_some(), "{v}");
        assert!(v["xserver_cpu_ms_per_frame"].as_f64().is_some(), "{v}");
    }
}

#[test]
fn input_bench_reports_every_run_with_sane_figures() {
    let runs = bench_json(&["--mode", "input", "--seconds", "0.3", "--json"]);
    let names: Vec<&str> = runs
        .iter()
        .map(|r| r["run"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(names, ["pointer-1000hz", "keys-100hz", "pointer-burst"]);
    for r in &runs {
        assert_eq!(r["mode"], "input");
        let events = num(r, "events");
        assert!(events > 0.0, "{r}");
        assert_eq!(num(r, "received") + num(r, "lost"), events, "{r}");
        assert!(num(r, "events_per_second") > 0.0, "{r}");
        let p50 = num(r, "latency_p50_us");
        assert!(p50 > 0.0 && p50 <= num(r, "latency_p99_us"), "{r}");
    }
}

#[test]
fn peers_bench_reports_each_peer_or_why_not() {
    let rows = bench_json(&[
        "--mode",
        "peers",
        "--resolutions",
        "320x240",
        "--seconds",
        "1",
        "--warmup",
        "0.5",
        "--json",
    ]);
    let peers: Vec<&str> = rows
        .iter()
        .map(|r| r["peer"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(peers, ["selkies-rs", "gstreamer-x264enc", "pixelflux-x264"]);
    for r in &rows {
        assert_eq!(r["mode"], "peers");
        assert_eq!((num(r, "width"), num(r, "height")), (320.0, 240.0), "{r}");
        match r["unavailable"].as_str() {
            Some(why) => {
                assert_ne!(r["peer"], "selkies-rs", "we are always measured: {why}");
                assert!(!why.is_empty(), "{r}");
            }
            None => {
                assert!(num(r, "frames") > 0.0 && num(r, "fps") > 0.0, "{r}");
                assert!(num(r, "cpu_ms_per_frame") > 0.0, "{r}");
                assert!(num(r, "kbps") > 0.0, "{r}");
            }
        }
    }
    // CI installs GStreamer (scripts/install-deps.sh), so there it must have been measured.
    if std::env::var_os("CI").is_some() {
        assert!(rows[1]["unavailable"].is_null(), "gstreamer: {}", rows[1]);
    }
}

#[test]
fn pipeline_bench_measures_the_desktop_contents() {
    for content in ["typing", "scrolling", "desktop", "static"] {
        let rows = bench_json(&[
            "--json",
            "--seconds",
            "1",
            "--warmup",
            "0.5",
            "--resolutions",
            "640x480",
            "--content",
            content,
        ]);
        assert_eq!(rows.len(), 1, "{content}: {rows:?}");
        let v = &rows[0];
        assert_eq!(v["content"], content, "{v}");
        assert!(num(v, "frames") > 0.0 && num(v, "fps") > 0.0, "{v}");
        assert!(
            num(v, "kbps") > 0.0 && num(v, "latency_p50_ms") > 0.0,
            "{v}"
        );
    }
}
