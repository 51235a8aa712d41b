//! A [`Snapshot`] written as OpenMetrics text, the format Prometheus scrapes.

use super::histogram::HistogramSnapshot;
use super::{PipelineSnapshot, Snapshot, ViewerReport};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use std::fmt;

type Labels = Vec<(&'static str, String)>;

/// A per-pipeline family: name, help, and how to read its value from a pipeline.
type PipelineFamily = (
    &'static str,
    &'static str,
    for<'p> fn(&'p PipelineSnapshot) -> Value<'p>,
);

enum Value<'a> {
    Count(u64),
    Seconds(f64),
    Gauge(f64),
    Histogram(&'a HistogramSnapshot),
}

impl Value<'_> {
    fn metric_type(&self) -> MetricType {
        match self {
            Value::Count(_) | Value::Seconds(_) => MetricType::Counter,
            Value::Gauge(_) => MetricType::Gauge,
            Value::Histogram(_) => MetricType::Histogram,
        }
    }
}

/// One metric family: a descriptor and its samples. A family without samples is left out, as
/// Prometheus clients do for label sets nobody filled.
fn family(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    samples: &[(Labels, Value<'_>)],
) -> fmt::Result {
    let Some((_, first)) = samples.first() else {
        return Ok(());
    };
    let mut metric = encoder.encode_descriptor(name, help, None, first.metric_type())?;
    for (labels, value) in samples {
        let mut sample = metric.encode_family(labels)?;
        match value {
            Value::Count(v) => sample.encode_counter::<NoLabelSet, _, u64>(v, None)?,
            Value::Seconds(v) => sample.encode_counter::<NoLabelSet, _, f64>(v, None)?,
            Value::Gauge(v) => sample.encode_gauge(v)?,
            Value::Histogram(h) => {
                sample.encode_histogram::<NoLabelSet>(h.sum_seconds, h.count, &h.buckets, None)?
            }
        }
    }
    Ok(())
}

fn one<'a>(value: Value<'a>) -> [(Labels, Value<'a>); 1] {
    [(Vec::new(), value)]
}

#[derive(Debug)]
struct Scrape(Snapshot);

impl Collector for Scrape {
    fn encode(&self, mut e: DescriptorEncoder<'_>) -> fmt::Result {
        let s = &self.0;
        let mut build = e.encode_descriptor(
            "selkies_build",
            "The running selkies-rs",
            None,
            MetricType::Info,
        )?;
        build.encode_info(&vec![("version", env!("CARGO_PKG_VERSION").to_owned())])?;

        family(
            &mut e,
            "selkies_viewers",
            "Signalling sessions open (browsers connected or connecting)",
            &one(Value::Gauge(s.viewers_connected as f64)),
        )?;
        family(
            &mut e,
            "selkies_sessions_rejected",
            "Signalling sessions closed for a protocol error",
            &one(Value::Count(s.sessions_rejected)),
        )?;
        family(
            &mut e,
            "selkies_datachannel_messages_rejected",
            "Data-channel messages that did not parse (each logged with its reason)",
            &one(Value::Count(s.messages_rejected)),
        )?;

        let per_pipeline = |value: fn(&PipelineSnapshot) -> Value<'_>| {
            s.pipelines
                .iter()
                .map(|p| {
                    let labels = vec![("codec", p.codec.clone()), ("encoder", p.encoder.clone())];
                    (labels, value(p))
                })
                .collect::<Vec<_>>()
        };
        let pipeline_families: [PipelineFamily; 10] = [
            ("selkies_frames_encoded", "Frames encoded and sent to viewers", |p| {
                Value::Count(p.frames_encoded)
            }),
            (
                "selkies_frames_unchanged",
                "Frame ticks with nothing changed on screen, so nothing encoded",
                |p| Value::Count(p.frames_unchanged),
            ),
            (
                "selkies_frame_ticks_missed",
                "Frame ticks that passed while the previous frame was still being made",
                |p| Value::Count(p.ticks_missed),
            ),
            ("selkies_keyframes", "Keyframes encoded", |p| {
                Value::Count(p.keyframes)
            }),
            (
                "selkies_paint_overs",
                "High-quality refreshes after the screen went still",
                |p| Value::Count(p.paint_overs),
            ),
            ("selkies_encoded_bytes", "Bytes of encoded video", |p| {
                Value::Count(p.bytes)
            }),
            ("selkies_video_width_pixels", "Width of the encoded video", |p| {
                Value::Gauge(f64::from(p.width))
            }),
            ("selkies_video_height_pixels", "Height of the encoded video", |p| {
                Value::Gauge(f64::from(p.height))
            }),
            (
                "selkies_capture_in_place",
                "1 when the screen is read in place from Xvfb's framebuffer file, 0 when copied through MIT-SHM",
                |p| Value::Gauge(if p.reads_framebuffer { 1.0 } else { 0.0 }),
            ),
            (
                "selkies_capture_to_encoded_seconds",
                "From the frame tick (or the damage that triggered the grab) to the encoded frame",
                |p| Value::Histogram(&p.latency),
            ),
        ];
        for (name, help, value) in pipeline_families {
            family(&mut e, name, help, &per_pipeline(value))?;
        }

        if let Some(input) = &s.input {
            for (name, help, v) in [
                (
                    "selkies_input_injected",
                    "Input events injected into the X server",
                    input.injected,
                ),
                (
                    "selkies_input_failed",
                    "Input events the X server refused (logged)",
                    input.failed,
                ),
                (
                    "selkies_input_denied",
                    "Input events dropped because the viewer is view-only",
                    input.denied,
                ),
                (
                    "selkies_input_keys_released",
                    "Keys released because a viewer left, or stopped saying it held them",
                    input.keys_released,
                ),
            ] {
                family(&mut e, name, help, &one(Value::Count(v)))?;
            }
        }

        if let Some(audio) = &s.audio {
            family(
                &mut e,
                "selkies_audio_packets",
                "Opus packets (10 ms each) encoded from the desktop's sound",
                &one(Value::Count(audio.packets)),
            )?;
            family(
                &mut e,
                "selkies_audio_encoded_bytes",
                "Bytes of Opus encoded",
                &one(Value::Count(audio.bytes)),
            )?;
        }

        let per_viewer = |value: fn(&ViewerReport) -> Option<f64>, scale: f64| {
            s.viewers
                .iter()
                .filter_map(|(peer, r)| {
                    let v = value(r)?;
                    Some((vec![("peer", peer.clone())], Value::Gauge(v * scale)))
                })
                .collect::<Vec<_>>()
        };
        family(
            &mut e,
            "selkies_viewer_fps",
            "Frames a second the viewer's browser reports showing",
            &per_viewer(|r| r.fps, 1.0),
        )?;
        family(
            &mut e,
            "selkies_viewer_latency_seconds",
            "Latency the viewer's browser reports",
            &per_viewer(|r| r.latency_ms, 1e-3),
        )?;
        family(
            &mut e,
            "selkies_viewer_one_way_delay_seconds",
            "Half the data channel's ping round trip to the viewer",
            &per_viewer(|r| r.one_way_ms, 1e-3),
        )?;

        if let Some(cpu) = s.process.cpu_seconds {
            family(
                &mut e,
                "process_cpu_seconds",
                "User and system CPU time of this process",
                &one(Value::Seconds(cpu)),
            )?;
        }
        if let Some(rss) = s.process.resident_bytes {
            family(
                &mut e,
                "process_resident_memory_bytes",
                "Resident memory of this process",
                &one(Value::Gauge(rss as f64)),
            )?;
        }
        Ok(())
    }
}

/// The snapshot as an OpenMetrics text exposition, ending in `# EOF`.
///
/// # Errors
/// Only a formatter error, which writing into a `String` does not produce.
pub fn render(snapshot: Snapshot) -> Result<String, fmt::Error> {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Scrape(snapshot)));
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &registry)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::histogram::LatencyHistogram;
    use crate::metrics::{PipelineSnapshot, ProcessSnapshot, ViewerReport};
    use std::time::Duration;

    fn snapshot() -> Snapshot {
        let latency = LatencyHistogram::default();
        latency.observe(Duration::from_micros(2500));
        latency.observe(Duration::from_millis(40));
        Snapshot {
            viewers_connected: 2,
            sessions_rejected: 1,
            messages_rejected: 3,
            pipelines: vec![PipelineSnapshot {
                codec: "h264".into(),
                encoder: "x264".into(),
                frames_encoded: 120,
                frames_unchanged: 7,
                ticks_missed: 0,
                keyframes: 2,
                paint_overs: 1,
                bytes: 65536,
                width: 1920,
                height: 1080,
                reads_framebuffer: true,
                latency: latency.snapshot(),
            }],
            input: None,
            audio: Some(crate::metrics::AudioSnapshot {
                packets: 500,
                bytes: 80_000,
            }),
            viewers: vec![
                (
                    "1".into(),
                    ViewerReport {
                        fps: Some(59.5),
                        latency_ms: None,
                        one_way_ms: Some(0.5),
                    },
                ),
                ("2".into(), ViewerReport::default()),
            ],
            process: ProcessSnapshot {
                cpu_seconds: Some(1.5),
                resident_bytes: None,
            },
        }
    }

    #[test]
    fn counters_gauges_and_histograms_are_written_as_openmetrics() {
        let text = render(snapshot()).expect("renders");
        for line in [
            "# TYPE selkies_frames_encoded counter",
            "selkies_frames_encoded_total{codec=\"h264\",encoder=\"x264\"} 120",
            "selkies_encoded_bytes_total{codec=\"h264\",encoder=\"x264\"} 65536",
            "selkies_viewers 2.0",
            "selkies_sessions_rejected_total 1",
            "selkies_datachannel_messages_rejected_total 3",
            "selkies_capture_in_place{codec=\"h264\",encoder=\"x264\"} 1.0",
            // Cumulative buckets, `+Inf` equal to the count.
            "selkies_capture_to_encoded_seconds_bucket{le=\"0.002\",codec=\"h264\",encoder=\"x264\"} 0",
            "selkies_capture_to_encoded_seconds_bucket{le=\"0.003\",codec=\"h264\",encoder=\"x264\"} 1",
            "selkies_capture_to_encoded_seconds_bucket{le=\"0.033\",codec=\"h264\",encoder=\"x264\"} 1",
            "selkies_capture_to_encoded_seconds_bucket{le=\"0.05\",codec=\"h264\",encoder=\"x264\"} 2",
            "selkies_capture_to_encoded_seconds_bucket{le=\"+Inf\",codec=\"h264\",encoder=\"x264\"} 2",
            "selkies_capture_to_encoded_seconds_count{codec=\"h264\",encoder=\"x264\"} 2",
            "selkies_viewer_fps{peer=\"1\"} 59.5",
            "selkies_viewer_one_way_delay_seconds{peer=\"1\"} 0.0005",
            "process_cpu_seconds_total 1.5",
            "selkies_audio_packets_total 500",
            "selkies_audio_encoded_bytes_total 80000",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in:\n{text}"
            );
        }
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    #[test]
    fn what_is_unknown_is_left_out() {
        let text = render(snapshot()).expect("renders");
        // No viewer reported a latency, viewer 2 reported nothing, there is no input thread and
        // no memory figure: none of these may show as a made-up zero.
        for absent in [
            "selkies_viewer_latency_seconds",
            "peer=\"2\"",
            "selkies_input_",
            "process_resident_memory_bytes",
        ] {
            assert!(!text.contains(absent), "{absent} in:\n{text}");
        }
    }
}
