//! Settings a viewer changes while it watches take effect at once, on a real X display with
//! full-screen motion: bitrate, frame rate, a keyframe request and an encoder switch.

mod common;

use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Result};
use selkies_rs::capture::animate::{Animator, Content};
use selkies_rs::capture::display::VirtualDisplay;
use selkies_rs::encode::{Codec, EncoderKind, EncoderSettings};
use selkies_rs::pipeline::{EncodedFrame, Pipeline, PipelineConfig};
use tokio::sync::broadcast::{self, error::TryRecvError};

struct Stage {
    _display: VirtualDisplay,
    _animator: Animator,
    pipeline: Pipeline,
}

fn stage(kind: EncoderKind, codec: Codec, kbps: u32) -> Result<Stage> {
    let display = VirtualDisplay::start(640, 360)?;
    let animator = Animator::start(&display.name(), Content::Motion, 60)?;
    let pipeline = Pipeline::start(PipelineConfig {
        display: Some(display.name()),
        fps: 60,
        bitrate_kbps: kbps,
        encoder: EncoderSettings::new(kind),
        codec,
        threads: 1,
        always_encode: true,
        skip_unchanged: false,
        framebuffer: None,
    })?;
    Ok(Stage {
        _display: display,
        _animator: animator,
        pipeline,
    })
}

/// Every frame that arrives within `window`.
fn collect(
    rx: &mut broadcast::Receiver<EncodedFrame>,
    window: Duration,
) -> Result<Vec<EncodedFrame>> {
    let end = Instant::now() + window;
    let mut frames = Vec::new();
    while Instant::now() < end {
        match rx.try_recv() {
            Ok(f) => frames.push(f),
            Err(TryRecvError::Empty) => std::thread::sleep(Duration::from_millis(2)),
            Err(TryRecvError::Lagged(_)) => {}
            Err(e) => bail!("pipeline stopped: {e:?}"),
        }
    }
    Ok(frames)
}

fn bytes(frames: &[EncodedFrame]) -> usize {
    frames.iter().map(|f| f.data.len()).sum()
}

#[test]
fn bitrate_fps_and_keyframe_requests_apply_within_a_second() -> Result<()> {
    // x264 retunes in place; libvpx through libavcodec reopens (with a keyframe): both must
    // follow within a second.
    for (kind, codec) in [
        (EncoderKind::X264, Codec::H264),
        (EncoderKind::Software, Codec::Vp8),
    ] {
        let s = stage(kind, codec, 4000)?;
        let handle = s.pipeline.handle();
        let mut rx = handle.subscribe();
        collect(&mut rx, Duration::from_millis(700))?; // first IDR, rate control settling
        let before = collect(&mut rx, Duration::from_secs(1))?;

        handle.control().set_bitrate_kbps(400);
        let after = collect(&mut rx, Duration::from_secs(1))?;
        println!(
            "{kind} {codec}: {} bytes/s at 4000 kbps, {} in the second after asking 400 kbps",
            bytes(&before),
            bytes(&after)
        );
        ensure!(
            bytes(&after) * 2 < bytes(&before),
            "{kind} {codec}: bitrate change not applied within a second ({} → {} bytes)",
            bytes(&before),
            bytes(&after)
        );

        handle.control().set_fps(15);
        collect(&mut rx, Duration::from_millis(200))?;
        let slow = collect(&mut rx, Duration::from_secs(1))?;
        println!(
            "{kind} {codec}: {} frames/s at 60 fps, {} after asking 15",
            before.len(),
            slow.len()
        );
        ensure!(
            before.len() >= 40,
            "{kind} {codec}: only {} frames/s at 60 fps",
            before.len()
        );
        ensure!(
            (10..=20).contains(&slow.len()),
            "{kind} {codec}: {} frames/s after asking 15",
            slow.len()
        );

        // A keyframe request: the first frame captured after it is an IDR.
        collect(&mut rx, Duration::from_millis(300))?;
        let asked = Instant::now();
        handle.control().request_keyframe();
        let next = collect(&mut rx, Duration::from_millis(400))?
            .into_iter()
            .find(|f| f.captured_at >= asked);
        ensure!(
            next.as_ref().is_some_and(|f| f.keyframe),
            "{kind} {codec}: the frame after a keyframe request is not an IDR"
        );
    }
    Ok(())
}

#[test]
fn switching_encoder_resumes_with_an_idr_from_the_new_one() -> Result<()> {
    let s = stage(EncoderKind::Software, Codec::Vp8, 2000)?;
    let handle = s.pipeline.handle();
    let mut rx = handle.subscribe();
    collect(&mut rx, Duration::from_millis(500))?;
    ensure!(
        handle.stats().encoder_name() == "libvpx",
        "started with {}",
        handle.stats().encoder_name()
    );

    handle.control().set_encoder(EncoderKind::Gstreamer);
    let frames = collect(&mut rx, Duration::from_secs(1))?;
    ensure!(
        handle.stats().encoder_name() == "gstreamer:vp8enc",
        "still on {}",
        handle.stats().encoder_name()
    );
    ensure!(
        frames.len() > 20,
        "the stream stalled during the switch: {} frames",
        frames.len()
    );
    ensure!(frames.iter().any(|f| f.keyframe), "no IDR after the switch");
    Ok(())
}

#[test]
fn an_encoder_that_dies_mid_stream_is_replaced_and_the_stream_goes_on() -> Result<()> {
    // A GStreamer pipeline that errors after 30 buffers stands in for a GPU encoder lost
    // mid-stream (a driver reset): the pipeline must move to the next backend, with an IDR.
    let display = VirtualDisplay::start(640, 360)?;
    let _animator = Animator::start(&display.name(), Content::Motion, 60)?;
    let pipeline = Pipeline::start(PipelineConfig {
        display: Some(display.name()),
        fps: 60,
        bitrate_kbps: 2000,
        encoder: EncoderSettings {
            gstreamer: Some(
                "x264enc tune=zerolatency speed-preset=ultrafast ! identity error-after=30".into(),
            ),
            ..EncoderSettings::new(EncoderKind::Gstreamer)
        },
        codec: Codec::H264,
        threads: 1,
        always_encode: true,
        skip_unchanged: false,
        framebuffer: None,
    })?;
    let handle = pipeline.handle();
    let mut rx = handle.subscribe();
    ensure!(
        handle.stats().encoder_name().starts_with("gstreamer"),
        "started with {}",
        handle.stats().encoder_name()
    );
    let frames = collect(&mut rx, Duration::from_secs(2))?;
    ensure!(
        handle.stats().encoder_name() == "x264",
        "no fallback: still {} after {} frames ({} keyframes)",
        handle.stats().encoder_name(),
        frames.len(),
        frames.iter().filter(|f| f.keyframe).count()
    );
    ensure!(pipeline.is_running(), "the media thread stopped");
    let keyframes = frames.iter().filter(|f| f.keyframe).count();
    ensure!(
        keyframes >= 2,
        "the new encoder must start with an IDR ({keyframes} keyframes)"
    );
    ensure!(
        frames.len() > 60,
        "the stream stalled: {} frames in 2 s",
        frames.len()
    );
    Ok(())
}
