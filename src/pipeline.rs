//! The media thread: frame clock → MIT-SHM grab → BGRx→I420 → encode → fan-out.
//!
//! One dedicated OS thread does the whole chain for a frame before starting the next: on two
//! cores a hand-off between threads adds a queue and a wake-up to every frame's latency and buys
//! no throughput that x264's own slice threads don't already give. Nothing here takes a lock or
//! awaits; the control plane talks to it through atomics ([`Control`]) and receives frames through
//! a broadcast channel whose items share one buffer (`Bytes`) among all peers.

use crate::area::Area;
use crate::capture::CaptureError;
use crate::capture::XshmCapture;
use crate::clock::{FrameClock, Tick};
use crate::convert::{self, ConvertError, I420};
use crate::diff;
use crate::encode::{self, Codec, EncoderConfig, EncoderKind, EncoderSettings};
use crate::metrics::histogram::LatencyHistogram;
use bytes::{Bytes, BytesMut};
use selkies_fork::ForkJoin;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// Bounds for settings that arrive from clients: Selkies' own limits.
pub const BITRATE_KBPS_RANGE: std::ops::RangeInclusive<u32> = 100..=1_000_000;
pub const FPS_RANGE: std::ops::RangeInclusive<u32> = 1..=240;

/// One encoded access unit, shared by every peer.
#[derive(Debug, Clone)]
pub struct EncodedFrame {
    pub data: Bytes,
    pub codec: Codec,
    pub keyframe: bool,
    pub seq: u64,
    pub width: u32,
    pub height: u32,
    /// When the frame clock fired and the grab started.
    pub captured_at: Instant,
    pub grabbed_at: Instant,
    pub converted_at: Instant,
    pub encoded_at: Instant,
    /// Time since the previous frame sent (advances the RTP clock).
    pub duration: Duration,
}

/// Settings the control plane changes while the media thread runs.
#[derive(Debug)]
pub struct Control {
    /// Keyframe requests so far: each pipeline serves every increase once, so a request reaches
    /// every codec's pipeline and many requests before a frame still give one IDR.
    keyframes: AtomicU64,
    /// Bumped when the encoder choice changes: each pipeline reopens its encoder.
    encoder_generation: AtomicU64,
    encoder: Mutex<EncoderSettings>,
    /// Viewers that asked for the pointer in the video (`p,1`).
    pointer_viewers: AtomicU32,
    bitrate_kbps: AtomicU32,
    fps: AtomicU32,
}

impl Control {
    /// Settings shared by every pipeline started with this control.
    pub fn new(encoder: EncoderSettings, bitrate_kbps: u32, fps: u32) -> Self {
        Self {
            keyframes: AtomicU64::new(0),
            encoder_generation: AtomicU64::new(0),
            encoder: Mutex::new(encoder),
            pointer_viewers: AtomicU32::new(0),
            bitrate_kbps: AtomicU32::new(bitrate_kbps),
            fps: AtomicU32::new(fps),
        }
    }

    /// Switches every pipeline to the encoder `kind` (they reopen on their next frame, which is
    /// an IDR).
    pub fn set_encoder(&self, kind: EncoderKind) {
        if let Ok(mut e) = self.encoder.lock() {
            e.kind = kind;
        }
        self.encoder_generation.fetch_add(1, Ordering::Relaxed);
    }

    /// The encoder settings in force, and their generation.
    pub fn encoder(&self) -> (EncoderSettings, u64) {
        let generation = self.encoder_generation();
        let settings = self.encoder.lock().map(|e| e.clone()).unwrap_or_default();
        (settings, generation)
    }

    fn encoder_generation(&self) -> u64 {
        self.encoder_generation.load(Ordering::Relaxed)
    }

    fn keyframe_requests(&self) -> u64 {
        self.keyframes.load(Ordering::Relaxed)
    }

    /// One more (`true`) or one fewer viewer wants the pointer drawn into the video. Each viewer
    /// must undo its own vote when it leaves.
    pub fn vote_pointer(&self, wants: bool) {
        if wants {
            self.pointer_viewers.fetch_add(1, Ordering::Relaxed);
        } else {
            let _ = self
                .pointer_viewers
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
        }
    }

    /// Whether any viewer wants the pointer in the video.
    pub fn draws_pointer(&self) -> bool {
        self.pointer_viewers.load(Ordering::Relaxed) > 0
    }

    /// The next frame of every pipeline will be an IDR (coalesces: many requests before a frame
    /// give one IDR).
    pub fn request_keyframe(&self) {
        self.keyframes.fetch_add(1, Ordering::Relaxed);
    }

    /// Sets the video bitrate, clamped to [`BITRATE_KBPS_RANGE`]; returns the value applied.
    pub fn set_bitrate_kbps(&self, kbps: u32) -> u32 {
        let v = kbps.clamp(*BITRATE_KBPS_RANGE.start(), *BITRATE_KBPS_RANGE.end());
        self.bitrate_kbps.store(v, Ordering::Relaxed);
        v
    }

    /// Sets the frame rate, clamped to [`FPS_RANGE`]; returns the value applied.
    pub fn set_fps(&self, fps: u32) -> u32 {
        let v = fps.clamp(*FPS_RANGE.start(), *FPS_RANGE.end());
        self.fps.store(v, Ordering::Relaxed);
        v
    }

    pub fn bitrate_kbps(&self) -> u32 {
        self.bitrate_kbps.load(Ordering::Relaxed)
    }

    pub fn fps(&self) -> u32 {
        self.fps.load(Ordering::Relaxed)
    }
}

/// Counters for `/metrics`, the overlay and benchmarks.
#[derive(Debug, Default)]
pub struct Stats {
    pub frames_encoded: AtomicU64,
    pub frames_skipped: AtomicU64,
    /// Ticks with nothing changed on screen, not encoded.
    pub frames_unchanged: AtomicU64,
    /// High-quality refreshes sent after the screen went still.
    pub paint_overs: AtomicU64,
    pub keyframes: AtomicU64,
    pub bytes: AtomicU64,
    pub width: AtomicU32,
    pub height: AtomicU32,
    /// The encoder in use ("x264", "libvpx-vp9"), for the web client and logs.
    pub encoder: Mutex<String>,
    /// Whether grabs read Xvfb's framebuffer file in place (else MIT-SHM copies).
    pub reads_framebuffer: AtomicBool,
    /// Capture tick → encoded, per frame sent.
    pub latency: LatencyHistogram,
}

impl Stats {
    /// The encoder in use.
    pub fn encoder_name(&self) -> String {
        self.encoder.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// X display to capture (`:0`); `None` uses `$DISPLAY`.
    pub display: Option<String>,
    pub fps: u32,
    pub bitrate_kbps: u32,
    pub encoder: EncoderSettings,
    /// The codec this pipeline encodes.
    pub codec: Codec,
    pub threads: u32,
    /// Encode even when nobody watches (benchmarks); otherwise idle without subscribers.
    pub always_encode: bool,
    /// Skip frames in which nothing on screen changed (XDamage): a still desktop costs almost
    /// nothing. A keyframe request is always served.
    pub skip_unchanged: bool,
    /// Xvfb's framebuffer file for this display (`-fbdir`), read in place instead of grabbed
    /// through MIT-SHM ([`VirtualDisplay::framebuffer`](crate::capture::display::VirtualDisplay::framebuffer)).
    pub framebuffer: Option<PathBuf>,
}

/// Still ticks before the paint-over refresh (Selkies 2.x: 15 frames).
pub const PAINT_OVER_AFTER: u32 = 15;

/// Quantiser asked for the paint-over frames (Selkies 2.x paints over at CRF 18). The VBV still
/// caps each frame's size, hence a burst: each frame refines the last.
pub const PAINT_OVER_QP: u8 = 18;

/// Frames in a paint-over burst (Selkies 2.x: 5).
pub const PAINT_OVER_BURST: u32 = 5;

/// Errors that stop the pipeline from starting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    #[error(transparent)]
    Capture(#[from] crate::capture::CaptureError),
    #[error(transparent)]
    Encode(#[from] encode::EncodeError),
    #[error("cannot start the media thread: {0}")]
    Thread(std::io::Error),
    #[error("the pipeline table was poisoned by a panic")]
    Poisoned,
}

/// A running media thread. Dropping it stops the thread.
pub struct Pipeline {
    control: Arc<Control>,
    codec: Codec,
    stop: Arc<AtomicBool>,
    stats: Arc<Stats>,
    tx: broadcast::Sender<EncodedFrame>,
    thread: Option<JoinHandle<()>>,
}

impl Pipeline {
    /// Opens the capture and encoder (so configuration errors surface here, not later) and
    /// starts the media thread.
    ///
    /// # Errors
    /// [`PipelineError`] when the display or the encoder cannot be opened.
    pub fn start(config: PipelineConfig) -> Result<Self, PipelineError> {
        let control = Arc::new(Control::new(
            config.encoder.clone(),
            config.bitrate_kbps,
            config.fps,
        ));
        Self::start_with(config, control)
    }

    /// As [`Pipeline::start`], sharing `control` (bitrate, fps, encoder, keyframe requests) with
    /// other pipelines: one per codec that viewers negotiated. `config.encoder`, bitrate and fps
    /// are taken from `control`.
    ///
    /// # Errors
    /// As [`Pipeline::start`].
    pub fn start_with(
        mut config: PipelineConfig,
        control: Arc<Control>,
    ) -> Result<Self, PipelineError> {
        let (settings, generation) = control.encoder();
        config.encoder = settings;
        config.bitrate_kbps = control.bitrate_kbps();
        config.fps = control.fps();
        let capture = open_capture(&config)?;
        let (w, h) = capture.size();
        let planes = I420::new(w, h);
        let encoder = encode::open(
            &config.encoder,
            config.codec,
            encoder_config(&config, &planes, config.fps, config.bitrate_kbps),
        )?;
        tracing::info!(
            width = planes.width,
            height = planes.height,
            fps = config.fps,
            kbps = config.bitrate_kbps,
            encoder = encoder.name(),
            codec = %config.codec,
            "pipeline started"
        );
        let stats = Arc::new(Stats::default());
        if let Ok(mut name) = stats.encoder.lock() {
            *name = encoder.name().to_owned();
        }
        stats.width.store(planes.width, Ordering::Relaxed);
        stats.height.store(planes.height, Ordering::Relaxed);
        stats
            .reads_framebuffer
            .store(capture.reads_framebuffer(), Ordering::Relaxed);
        // Small: a peer that lags by more than a few frames gets `Lagged` and asks for an IDR.
        let (tx, _) = broadcast::channel(4);
        let stop = Arc::new(AtomicBool::new(false));
        let codec = config.codec;
        let media = MediaThread {
            config,
            stop: Arc::clone(&stop),
            encoder_generation: generation,
            failed: Vec::new(),
            capture,
            whole: I420::new(planes.width, planes.height),
            planes,
            convert_helper: ForkJoin::new("convert")
                .map_err(|e| tracing::warn!(error = %e, "converting on one thread"))
                .ok(),
            encoder,
            control: Arc::clone(&control),
            stats: Arc::clone(&stats),
            tx: tx.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("media".into())
            .spawn(move || media.run())
            .map_err(PipelineError::Thread)?;
        Ok(Self {
            control,
            codec,
            stop,
            stats,
            tx,
            thread: Some(thread),
        })
    }

    /// A cheap, cloneable handle for the control plane (one per viewer).
    pub fn handle(&self) -> PipelineHandle {
        PipelineHandle {
            codec: self.codec,
            tx: self.tx.clone(),
            control: Arc::clone(&self.control),
            stats: Arc::clone(&self.stats),
        }
    }

    /// Whether the media thread is still running (it ends when the X server goes away).
    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }
}

/// What viewers hold of the pipeline: frames, control and stats, but not the thread.
#[derive(Clone)]
pub struct PipelineHandle {
    codec: Codec,
    tx: broadcast::Sender<EncodedFrame>,
    control: Arc<Control>,
    stats: Arc<Stats>,
}

impl PipelineHandle {
    /// A new viewer: its receiver gets frames from the next one on; an IDR is requested for it.
    pub fn subscribe(&self) -> broadcast::Receiver<EncodedFrame> {
        let rx = self.tx.subscribe();
        self.control.request_keyframe();
        rx
    }

    pub fn control(&self) -> &Arc<Control> {
        &self.control
    }

    pub fn stats(&self) -> &Arc<Stats> {
        &self.stats
    }

    /// The codec this pipeline encodes.
    pub fn codec(&self) -> Codec {
        self.codec
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Opens the capture of `config.display`, tracking damage, reading the framebuffer file in place
/// when there is one that matches the screen.
fn open_capture(config: &PipelineConfig) -> Result<XshmCapture, PipelineError> {
    let mut capture = XshmCapture::open(config.display.as_deref())?;
    // Damage also says which rows to grab and convert, so it is tracked in every mode.
    if !capture.track_damage()? {
        tracing::info!("X server has no DAMAGE: every frame is grabbed whole and encoded");
    }
    if let Some(path) = &config.framebuffer {
        match capture.use_framebuffer(path) {
            Ok(()) => tracing::debug!(path = %path.display(), "reading the framebuffer in place"),
            Err(e) => tracing::warn!(error = %e, "grabbing through MIT-SHM instead"),
        }
    }
    Ok(capture)
}

fn encoder_config(config: &PipelineConfig, planes: &I420, fps: u32, kbps: u32) -> EncoderConfig {
    EncoderConfig {
        width: planes.width,
        height: planes.height,
        fps,
        bitrate_kbps: kbps,
        threads: config.threads,
    }
}

struct MediaThread {
    config: PipelineConfig,
    stop: Arc<AtomicBool>,
    /// The [`Control::encoder`] generation the encoder was opened for.
    encoder_generation: u64,
    /// Backends that failed mid-stream, skipped when reopening.
    failed: Vec<EncoderKind>,
    capture: XshmCapture,
    planes: I420,
    /// Where the once-a-second whole grab is converted, to be compared with `planes`.
    whole: I420,
    /// Converts the lower half of a large change while this thread does the upper half: the
    /// X server is held meanwhile (framebuffer grabs), so the other core is idle.
    convert_helper: Option<ForkJoin>,
    encoder: Box<dyn encode::Encoder>,
    control: Arc<Control>,
    stats: Arc<Stats>,
    tx: broadcast::Sender<EncodedFrame>,
}

impl MediaThread {
    fn run(mut self) {
        let mut clock = FrameClock::new(self.control.fps(), Instant::now());
        let mut out = BytesMut::with_capacity(1 << 20);
        let mut seq = 0u64;
        let mut last_sent: Option<Instant> = None;
        let mut last_size_check = Instant::now();
        // Ticks in a row with nothing changed on screen.
        let mut still = 0u32;
        // A picture was grabbed but not encoded: the encoder's last picture is older than the
        // damage taken since, so the next one gets no "unchanged" hint.
        let mut reanalyse = false;
        let (mut kbps, mut fps) = (self.control.bitrate_kbps(), self.control.fps());
        // The first frame is a keyframe whatever the requests say.
        let mut keyframes_served: Option<u64> = None;
        while !self.stop.load(Ordering::Relaxed) {
            let captured_at = match clock.poll(Instant::now()) {
                // Still screen: the last slot found nothing to send, so a change now need not
                // wait up to a frame for the next slot; the clock still caps the rate.
                Tick::Wait(d) if still > 0 && self.config.skip_unchanged => {
                    match self.capture.wait_damage(d.min(Duration::from_millis(50))) {
                        Ok(true) => {
                            let now = Instant::now();
                            clock.fire_now(now);
                            now
                        }
                        Ok(false) => continue,
                        Err(e) => {
                            tracing::error!(error = %e, "display lost; media thread stops");
                            return;
                        }
                    }
                }
                Tick::Wait(d) => {
                    // Short sleeps so a stop or a rate change is noticed promptly.
                    std::thread::sleep(d.min(Duration::from_millis(50)));
                    continue;
                }
                Tick::Due { missed } => {
                    self.stats
                        .frames_skipped
                        .fetch_add(u64::from(missed), Ordering::Relaxed);
                    Instant::now()
                }
            };
            if self.tx.receiver_count() == 0 && !self.config.always_encode {
                last_sent = None;
                continue;
            }
            let (new_kbps, new_fps) = (self.control.bitrate_kbps(), self.control.fps());
            if (new_kbps, new_fps) != (kbps, fps) {
                match self.encoder.reconfigure(new_kbps, new_fps) {
                    Ok(()) => tracing::info!(kbps = new_kbps, fps = new_fps, "encoder retuned"),
                    Err(e) => tracing::warn!(error = %e, "encoder retune refused"),
                }
                clock.set_fps(new_fps);
                (kbps, fps) = (new_kbps, new_fps);
            }
            if let Err(e) = self.follow_encoder_choice(kbps, fps) {
                tracing::error!(error = %e, "no encoder opens; media thread stops");
                return;
            }
            let requests = self.control.keyframe_requests();
            let keyframe_due = keyframes_served != Some(requests);
            let damaged = self.capture.take_damage().unwrap_or_else(|e| {
                tracing::debug!(error = %e, "damage unknown; grabbing the whole screen");
                Some(Area::whole(u32::MAX, u32::MAX))
            });
            if self.config.skip_unchanged && !keyframe_due && damaged.is_none() {
                self.stats.frames_unchanged.fetch_add(1, Ordering::Relaxed);
                still += 1;
                if (PAINT_OVER_AFTER..PAINT_OVER_AFTER + PAINT_OVER_BURST).contains(&still)
                    && last_sent.is_some()
                {
                    let duration = last_sent.map_or(clock.interval(), |t| captured_at - t);
                    last_sent = Some(captured_at);
                    self.paint_over(&mut out, &mut seq, duration, !reanalyse);
                }
                continue;
            }
            still = 0;
            // A keyframe, and once a second, grab the whole screen: cheap insurance against a
            // change the X server did not report as damage.
            let mut whole = keyframe_due;
            if captured_at.duration_since(last_size_check) > Duration::from_secs(1) {
                last_size_check = captured_at;
                whole = true;
                if let Err(e) = self.follow_resize(kbps, fps) {
                    tracing::error!(error = %e, "display lost; media thread stops");
                    return;
                }
            }
            let area = if whole {
                Area::whole(u32::MAX, u32::MAX)
            } else {
                damaged.unwrap_or(Area::EMPTY)
            };
            let insurance = whole && !keyframe_due;
            let (grabbed_at, converted) = match self.grab_and_convert(area, insurance) {
                Ok(done) => done,
                // Through MIT-SHM, a screen that shrank makes the grab fail before the periodic
                // size check sees it (a framebuffer file keeps its size: that check finds it).
                Err(e) => match self.capture.size_changed() {
                    Ok(true) => {
                        if let Err(e) = self.follow_resize(kbps, fps) {
                            tracing::error!(error = %e, "display lost; media thread stops");
                            return;
                        }
                        continue;
                    }
                    _ => {
                        tracing::error!(error = %e, "capture failed; media thread stops");
                        return;
                    }
                },
            };
            let dirty = match converted {
                Ok(dirty) => dirty,
                Err(e) => {
                    tracing::error!(error = %e, "conversion failed");
                    reanalyse = true;
                    continue;
                }
            };
            let converted_at = Instant::now();
            let force = keyframe_due;
            keyframes_served = Some(requests);
            // Outside what the grabs and the pointer changed, the planes are the last picture
            // encoded, unless a picture was lost on the way since.
            self.encoder.hint_changed((!reanalyse).then_some(&dirty));
            let encoded = match self.encoder.encode(&self.planes, force, &mut out) {
                Ok(Some(e)) => {
                    reanalyse = false;
                    e
                }
                Ok(None) => {
                    reanalyse = true;
                    continue;
                }
                Err(e) => {
                    // A backend that dies mid-stream is not tried again: the next one takes over.
                    tracing::warn!(error = %e, encoder = self.encoder.name(), "encoder failed; falling back");
                    self.failed.push(self.encoder.kind());
                    reanalyse = true;
                    if let Err(e) = self.reopen_encoder(kbps, fps) {
                        tracing::error!(error = %e, "encoder cannot be reopened; media thread stops");
                        return;
                    }
                    continue;
                }
            };
            let encoded_at = Instant::now();
            let duration = last_sent.map_or(clock.interval(), |t| captured_at - t);
            last_sent = Some(captured_at);
            seq += 1;
            self.publish(
                &mut out,
                encoded.keyframe,
                seq,
                [captured_at, grabbed_at, converted_at, encoded_at],
                duration,
            );
        }
    }

    /// Grabs `area` and converts it into the planes; returns when the pixels were there to read
    /// and what changed. The insurance grab (`insurance`: the whole screen, not for a keyframe)
    /// is converted aside and compared with the planes, so that only what really differs counts
    /// as changed.
    fn grab_and_convert(
        &mut self,
        area: Area,
        insurance: bool,
    ) -> Result<(Instant, Result<Area, ConvertError>), CaptureError> {
        let target = if insurance {
            &mut self.whole
        } else {
            &mut self.planes
        };
        let pointer = self.control.draws_pointer();
        let helper = self.convert_helper.as_mut();
        let (grabbed_at, converted) = self.capture.read_area(area, pointer, |frame, dirty| {
            let grabbed_at = Instant::now();
            let rows = if insurance {
                0..frame.height
            } else {
                dirty.y.clone()
            };
            let converted = convert::bgrx_to_i420_rows(
                frame.data,
                frame.width,
                frame.height,
                frame.stride,
                target,
                rows,
                helper,
            );
            (grabbed_at, converted.map(|()| dirty.clone()))
        })?;
        let changed = converted.map(|dirty| {
            if insurance {
                let changed = diff::changed_area(&self.planes, &self.whole);
                std::mem::swap(&mut self.planes, &mut self.whole);
                changed
            } else {
                dirty
            }
        });
        Ok((grabbed_at, changed))
    }

    /// After [`PAINT_OVER_AFTER`] still ticks, re-encodes the last picture (the screen as it still
    /// is) on each of [`PAINT_OVER_BURST`] ticks at [`PAINT_OVER_QP`], so detail that CBR blurred
    /// while things moved turns sharp.
    ///
    /// `unchanged`: the planes are the last picture encoded, so x264 may skip the macroblocks
    /// already at the paint-over quality and refine only the rest.
    fn paint_over(
        &mut self,
        out: &mut BytesMut,
        seq: &mut u64,
        duration: Duration,
        unchanged: bool,
    ) {
        let at = Instant::now();
        self.encoder.hint_changed(unchanged.then_some(&Area::EMPTY));
        match self
            .encoder
            .encode_refresh(&self.planes, PAINT_OVER_QP, out)
        {
            Ok(Some(encoded)) => {
                *seq += 1;
                self.stats.paint_overs.fetch_add(1, Ordering::Relaxed);
                let done = Instant::now();
                self.publish(out, encoded.keyframe, *seq, [at, at, at, done], duration);
            }
            Ok(None) => {}
            Err(e) => tracing::debug!(error = %e, "paint-over frame not encoded"),
        }
    }

    /// Counts and broadcasts the access unit in `out`.
    fn publish(
        &self,
        out: &mut BytesMut,
        keyframe: bool,
        seq: u64,
        [captured_at, grabbed_at, converted_at, encoded_at]: [Instant; 4],
        duration: Duration,
    ) {
        let data = out.split().freeze();
        self.stats.frames_encoded.fetch_add(1, Ordering::Relaxed);
        self.stats
            .bytes
            .fetch_add(data.len() as u64, Ordering::Relaxed);
        if keyframe {
            self.stats.keyframes.fetch_add(1, Ordering::Relaxed);
        }
        self.stats
            .latency
            .observe(encoded_at.saturating_duration_since(captured_at));
        let _ = self.tx.send(EncodedFrame {
            data,
            codec: self.encoder.codec(),
            keyframe,
            seq,
            width: self.planes.width,
            height: self.planes.height,
            captured_at,
            grabbed_at,
            converted_at,
            encoded_at,
            duration,
        });
    }

    /// Reopens capture and encoder when the X screen changed size (RandR), then forces an IDR.
    fn follow_resize(&mut self, kbps: u32, fps: u32) -> Result<(), PipelineError> {
        if !self.capture.size_changed()? {
            return Ok(());
        }
        self.capture = open_capture(&self.config)?;
        self.stats
            .reads_framebuffer
            .store(self.capture.reads_framebuffer(), Ordering::Relaxed);
        let (w, h) = self.capture.size();
        self.planes = I420::new(w, h);
        self.whole = I420::new(w, h);
        self.stats.width.store(self.planes.width, Ordering::Relaxed);
        self.stats
            .height
            .store(self.planes.height, Ordering::Relaxed);
        tracing::info!(
            width = self.planes.width,
            height = self.planes.height,
            "display resized"
        );
        self.reopen_encoder(kbps, fps)
    }

    fn reopen_encoder(&mut self, kbps: u32, fps: u32) -> Result<(), PipelineError> {
        self.encoder = encode::open_excluding(
            &self.config.encoder,
            self.config.codec,
            encoder_config(&self.config, &self.planes, fps, kbps),
            &self.failed,
        )?;
        if let Ok(mut name) = self.stats.encoder.lock() {
            *name = self.encoder.name().to_owned();
        }
        self.control.request_keyframe();
        Ok(())
    }

    /// Reopens the encoder when a viewer chose another one ([`Control::set_encoder`]).
    fn follow_encoder_choice(&mut self, kbps: u32, fps: u32) -> Result<(), PipelineError> {
        // Checked every tick: one atomic load, no lock and no clone unless the choice changed.
        if self.control.encoder_generation() == self.encoder_generation {
            return Ok(());
        }
        let (settings, generation) = self.control.encoder();
        self.encoder_generation = generation;
        tracing::info!(encoder = %settings.kind, codec = %self.config.codec, "switching encoder");
        self.config.encoder = settings;
        self.failed.clear();
        self.reopen_encoder(kbps, fps)
    }
}
