//! A still screen costs nothing: with XDamage the pipeline encodes only when something on the X
//! screen changed, or when a keyframe is asked for, plus one high-quality refresh (paint-over)
//! once the screen has been still for a moment. The screen is read as `serve` reads its own
//! Xvfb: in place, from the framebuffer file.

mod common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use common::Painter;
use selkies_rs::capture::display::VirtualDisplay;
use selkies_rs::encode::{Codec, EncoderKind, EncoderSettings};
use selkies_rs::pipeline::{EncodedFrame, Pipeline, PipelineConfig, PAINT_OVER_BURST};
use tokio::sync::broadcast::{self, error::TryRecvError};

fn next_frame(
    rx: &mut broadcast::Receiver<EncodedFrame>,
    within: Duration,
) -> Result<EncodedFrame> {
    let deadline = Instant::now() + within;
    loop {
        match rx.try_recv() {
            Ok(f) => return Ok(f),
            Err(TryRecvError::Empty) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => bail!("no frame within {within:?}: {e:?}"),
        }
    }
}

/// A display painted once, and a pipeline on it as `serve` runs it (XDamage on, encoding only
/// for viewers). The display is returned so it outlives the pipeline.
fn still_screen(width: u32, height: u32, fps: u32) -> Result<(VirtualDisplay, Painter, Pipeline)> {
    let display = VirtualDisplay::start(width, height)?;
    let mut painter = Painter::connect(&display.name())?;
    painter.fill_screen([10, 80, 160])?;
    painter.sync()?;
    let pipeline = Pipeline::start(PipelineConfig {
        display: Some(display.name()),
        fps,
        bitrate_kbps: 2000,
        encoder: EncoderSettings::new(EncoderKind::X264),
        codec: Codec::H264,
        threads: 1,
        always_encode: false,
        skip_unchanged: true,
        framebuffer: display.framebuffer(),
    })?;
    // As `serve` on its own display: the screen is read in place, not copied.
    ensure!(
        pipeline
            .handle()
            .stats()
            .reads_framebuffer
            .load(Ordering::Relaxed),
        "the pipeline fell back to MIT-SHM grabs"
    );
    Ok((display, painter, pipeline))
}

/// Empties the channel; frames lost to lag count too (the channel holds only a few).
fn drain(rx: &mut broadcast::Receiver<EncodedFrame>) -> usize {
    let mut n = 0;
    loop {
        match rx.try_recv() {
            Ok(_) => n += 1,
            Err(TryRecvError::Lagged(k)) => n += k as usize,
            Err(_) => return n,
        }
    }
}

#[test]
fn only_changes_and_keyframe_requests_are_encoded() -> Result<()> {
    let (_display, mut painter, pipeline) = still_screen(640, 360, 60)?;
    let handle = pipeline.handle();
    // Subscribing asks for a keyframe: it comes although nothing changes.
    let mut rx = handle.subscribe();
    let first = next_frame(&mut rx, Duration::from_secs(5))?;
    ensure!(first.keyframe, "the first frame must be an IDR");

    // Half a second of a still screen: nothing encoded, the ticks counted as unchanged.
    let unchanged_before = handle.stats().frames_unchanged.load(Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(500));
    let extra = drain(&mut rx);
    // The keyframe's own paint-over burst, and a frame or two of the fill's damage racing the
    // subscription.
    ensure!(
        extra <= PAINT_OVER_BURST as usize + 2,
        "{extra} frames encoded for a still screen"
    );
    let unchanged = handle.stats().frames_unchanged.load(Ordering::Relaxed) - unchanged_before;
    ensure!(
        unchanged >= 15,
        "only {unchanged} ticks were skipped as unchanged"
    );

    // A change arrives at once, as a delta frame.
    painter.fill_rect(100, 100, 50, 50, [250, 250, 0])?;
    painter.sync()?;
    let changed = next_frame(&mut rx, Duration::from_secs(2))?;
    ensure!(!changed.keyframe, "a change is a delta frame");

    // Once the screen is still again: a paint-over burst of refinement frames, then nothing.
    let overs = handle.stats().paint_overs.load(Ordering::Relaxed);
    // Drain until the stream has been silent for 500 ms; it must go silent within 3 s.
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut last_frame = Instant::now();
    loop {
        match rx.try_recv() {
            Ok(f) => {
                ensure!(!f.keyframe, "a paint-over frame is a keyframe");
                last_frame = Instant::now();
            }
            Err(TryRecvError::Empty) if last_frame.elapsed() >= Duration::from_millis(500) => break,
            Err(TryRecvError::Empty) => {
                ensure!(Instant::now() < deadline, "the stream never went silent");
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => bail!("{e:?}"),
        }
    }
    ensure!(
        handle.stats().paint_overs.load(Ordering::Relaxed) - overs == u64::from(PAINT_OVER_BURST),
        "{} paint-over frames, expected one burst of {PAINT_OVER_BURST}",
        handle.stats().paint_overs.load(Ordering::Relaxed) - overs
    );

    // A keyframe request is served on a still screen.
    std::thread::sleep(Duration::from_millis(200));
    drain(&mut rx);
    handle.control().request_keyframe();
    let idr = next_frame(&mut rx, Duration::from_secs(2))?;
    ensure!(
        idr.keyframe,
        "a keyframe request on a still screen gives an IDR"
    );
    drop(pipeline);
    Ok(())
}

/// After a still spell the pipeline sleeps on the X socket, not on its frame clock: a change is
/// grabbed when it happens instead of at the next tick. At 1 fps a tick-bound capture would come
/// 0–1000 ms after the paint (all three under 300 ms by chance: 2.7 %); damage-bound, at once.
#[test]
fn a_change_after_a_still_spell_is_grabbed_at_once() -> Result<()> {
    let (_display, mut painter, pipeline) = still_screen(320, 240, 1)?;
    let handle = pipeline.handle();
    let mut rx = handle.subscribe();
    ensure!(next_frame(&mut rx, Duration::from_secs(5))?.keyframe);
    let mut delays = Vec::new();
    for (i, colour) in [[250, 0, 0], [0, 250, 0], [250, 250, 250]]
        .iter()
        .enumerate()
    {
        // Two ticks: the first may still see the damage of the last grab; the second finds
        // nothing new, and the pipeline waits for damage.
        std::thread::sleep(Duration::from_millis(2500));
        drain(&mut rx);
        let painted = Instant::now();
        painter.fill_rect(20 * i as u32, 20, 40, 40, *colour)?;
        painter.sync()?;
        let frame = next_frame(&mut rx, Duration::from_secs(3))?;
        delays.push(frame.captured_at.saturating_duration_since(painted));
    }
    ensure!(
        delays.iter().all(|d| *d < Duration::from_millis(300)),
        "changes were grabbed {delays:?} after their paint, as if waiting for the 1 fps tick"
    );
    Ok(())
}

/// Small changes are grabbed and converted as bands of rows; the picture the viewer decodes must
/// still be the whole screen: each square where it was painted, earlier squares kept, and the
/// background everywhere else.
#[test]
fn small_changes_keep_the_whole_picture() -> Result<()> {
    squares_show(Duration::from_millis(700))
}

/// As above, with each square painted over a second after the last frame: the pipeline then
/// grabs the whole screen (insurance against unreported damage) and tells the encoder only
/// what differs from the last picture, which must still be each new square.
#[test]
fn what_the_whole_grab_finds_changed_is_shown() -> Result<()> {
    squares_show(Duration::from_millis(1200))
}

/// Paints four squares one by one, each once the stream has been quiet for `quiet`, and checks
/// the last picture the stream decodes to.
fn squares_show(quiet: Duration) -> Result<()> {
    let (_display, mut painter, pipeline) = still_screen(640, 360, 30)?;
    let handle = pipeline.handle();
    let mut rx = handle.subscribe();
    let mut stream = next_frame(&mut rx, Duration::from_secs(5))?.data.to_vec();
    let squares = [
        (20, 20, [250, 0, 0]),
        (560, 290, [0, 250, 0]),
        (300, 150, [250, 250, 0]),
        (20, 290, [250, 250, 250]),
    ];
    let mut frames = 1;
    for (x, y, colour) in squares {
        painter.fill_rect(x, y, 48, 48, colour)?;
        painter.sync()?;
        // Everything sent until the stream is quiet (the paint-over burst included).
        let mut quiet_since = Instant::now();
        while quiet_since.elapsed() < quiet {
            match rx.try_recv() {
                Ok(f) => {
                    stream.extend_from_slice(&f.data);
                    frames += 1;
                    quiet_since = Instant::now();
                }
                Err(TryRecvError::Empty) => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => bail!("{e:?}: the decoded stream would miss a frame"),
            }
        }
    }
    let decoded = common::ffmpeg::decode_h264_bytes_to_rgb(&stream)?;
    ensure!(
        decoded.len() == frames,
        "{} of {frames} frames decoded",
        decoded.len()
    );
    let last = decoded.last().context("no frame")?;
    let near = |a: [u8; 3], b: [u8; 3]| a.iter().zip(b).all(|(p, q)| p.abs_diff(q) <= 12);
    for (x, y, colour) in squares {
        let got = last.pixel(x + 24, y + 24);
        ensure!(
            near(got, colour),
            "square at {x},{y}: {got:?}, painted {colour:?}"
        );
    }
    for (x, y) in [(320, 20), (100, 180), (620, 20), (320, 340), (450, 200)] {
        let got = last.pixel(x, y);
        ensure!(near(got, [10, 80, 160]), "background at {x},{y}: {got:?}");
    }
    Ok(())
}
