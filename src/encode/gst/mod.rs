//! GStreamer fallback backend: any installed GStreamer encoder element, or a whole user-given
//! pipeline section, driven through `appsrc` → … → `appsink`.
//!
//! Frames go in as I420 with our own timestamps and come out in the form WebRTC packetizers
//! need: H.264/H.265 Annex-B access units with parameter sets on every keyframe, VP8/VP9 one
//! frame per buffer, AV1 low-overhead OBU temporal units. Known encoder elements get Selkies'
//! low-latency tuning (CBR, no B-frames or lookahead, infinite GOP, a VBV of 1.5 frame times).

use super::{Capabilities, Codec, EncodeError, Encoded, Encoder, EncoderConfig, EncoderKind};
use crate::convert::I420;
use bytes::BytesMut;
use gst::glib;
use gst::prelude::*;
use gstreamer as gst;
use gstreamer_app as gst_app;
use gstreamer_video as gst_video;
use std::time::Duration;
use tune::*;

mod tune;

const NAME: &str = "gstreamer";
const SRC: &str = "selkies_src";
const SINK: &str = "selkies_sink";
/// Some encoders (and GPU ones especially) take this long to produce their first frame.
const FIRST_OUTPUT_TIMEOUT: Duration = Duration::from_secs(1);
/// After the first frame, never wait less than this for an output (scheduling jitter).
const MIN_OUTPUT_TIMEOUT: Duration = Duration::from_millis(50);

/// What the GStreamer backend encodes with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GstSpec {
    /// One encoder element with optional properties, as in `gst-launch-1.0`: `x264enc` or
    /// `vp8enc deadline=1`. Known elements get low-latency defaults for every property not
    /// given, and the configured bitrate.
    Element(String),
    /// The section between the raw I420 source and the output parser, used as given:
    /// `videoconvert ! x264enc tune=zerolatency ! h264parse`. Its properties win at open;
    /// [`Encoder::reconfigure`] still retunes the first encoder element in it.
    Pipeline(String),
}

/// An [`Encoder`] over a GStreamer pipeline.
pub struct GstEncoder {
    pipeline: gst::Pipeline,
    src: gst_app::AppSrc,
    sink: gst_app::AppSink,
    /// The element `reconfigure` retunes.
    encoder: Option<gst::Element>,
    /// Input buffers come back here once the encoder is done with them.
    pool: gst::BufferPool,
    info: gst_video::VideoInfo,
    codec: Codec,
    config: EncoderConfig,
    description: String,
    /// "gstreamer:x264enc": the backend and the encoder element, for logs and the web client.
    label: String,
    /// Timestamps restart from here at each fps change so they stay monotonic.
    pts_base: gst::ClockTime,
    frames_since_base: u64,
    frames_in: u64,
}

impl GstEncoder {
    /// Opens the user's `--gstreamer-encoder` (an element when it has no `!`, else a pipeline
    /// section), or the codec's usual element when none is given.
    ///
    /// # Errors
    /// [`EncodeError::Open`]: GStreamer missing, no element for the codec, a description that
    /// does not parse, or an element that cannot produce the codec.
    pub fn open_for(
        description: Option<&str>,
        codec: Codec,
        config: EncoderConfig,
    ) -> Result<Box<dyn Encoder>, EncodeError> {
        let spec = match description.map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) if d.contains('!') => GstSpec::Pipeline(d.to_owned()),
            Some(d) => GstSpec::Element(d.to_owned()),
            None => {
                probe().map_err(open_err)?;
                let element = default_element(codec).ok_or_else(|| {
                    open_err(format!(
                        "no GStreamer encoder element for {codec} is installed"
                    ))
                })?;
                GstSpec::Element(element.to_owned())
            }
        };
        Ok(Box::new(Self::open(&spec, codec, config)?))
    }

    /// Builds and starts the pipeline for `spec` producing `codec`.
    ///
    /// # Errors
    /// [`EncodeError::Open`] with GStreamer's message when the description does not parse, an
    /// element is missing, the element cannot produce `codec`, or the pipeline will not start.
    pub fn open(spec: &GstSpec, codec: Codec, config: EncoderConfig) -> Result<Self, EncodeError> {
        gst::init().map_err(open_err)?;
        if config.fps == 0 || config.width == 0 || config.height == 0 {
            return Err(open_err("width, height and fps must be non-zero"));
        }
        let (media, output) = output_stage(codec);
        let middle = match spec {
            GstSpec::Element(e) => {
                let factory = e
                    .split_whitespace()
                    .next()
                    .ok_or_else(|| open_err("empty encoder element"))?;
                check_produces(factory, media)?;
                format!("videoconvert ! {e}")
            }
            GstSpec::Pipeline(p) => p.clone(),
        };
        let launch = format!(
            "appsrc name={SRC} is-live=true format=time do-timestamp=false block=false ! \
             {middle} ! {output} ! \
             appsink name={SINK} sync=false emit-signals=false max-buffers=8 drop=false"
        );
        let pipeline = gst::parse::launch(&launch)
            .map_err(|e| open_err(format!("{} in \"{middle}\"", e.message())))?
            .downcast::<gst::Pipeline>()
            .map_err(|_| open_err("the description did not build a pipeline"))?;
        let src = by_name::<gst_app::AppSrc>(&pipeline, SRC)?;
        let sink = by_name::<gst_app::AppSink>(&pipeline, SINK)?;

        let info = video_info(config.width, config.height, config.fps).map_err(open_err)?;
        let caps = info.to_caps().map_err(|e| open_err(e.message))?;
        src.set_caps(Some(&caps));
        let pool = input_pool(&caps, &info).map_err(open_err)?;

        let (encoder, description) = match spec {
            GstSpec::Element(e) => {
                let factory = e.split_whitespace().next().unwrap_or_default();
                let enc = find_element(&pipeline, |f| f.name() == factory);
                let applied = match &enc {
                    Some(enc) => tune(enc, factory, e, &config),
                    None => String::new(),
                };
                (
                    enc,
                    format!(
                        "videoconvert ! {factory}{applied}{} ! {output}",
                        user_props(e)
                    ),
                )
            }
            GstSpec::Pipeline(p) => (
                find_element(&pipeline, |f| f.has_type(gst::ElementFactoryType::ENCODER)),
                format!("{p} ! {output}"),
            ),
        };

        let mut this = Self {
            pipeline,
            src,
            sink,
            encoder,
            pool,
            info,
            codec,
            config,
            description,
            label: String::new(),
            pts_base: gst::ClockTime::ZERO,
            frames_since_base: 0,
            frames_in: 0,
        };
        if this.pipeline.set_state(gst::State::Playing).is_err() {
            let reason = this
                .bus_error()
                .unwrap_or_else(|| "the pipeline refused to start".into());
            return Err(open_err(reason));
        }
        this.label = match &this.encoder {
            Some(e) => format!("{NAME}:{}", factory_name(e)),
            None => format!("{NAME}:pipeline"),
        };
        tracing::debug!(pipeline = %this.description, "GStreamer encoder open");
        Ok(this)
    }

    /// The encoder section actually used, with the properties this backend set.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Pops every pending bus message, logging warnings; returns the first error's text.
    fn bus_error(&self) -> Option<String> {
        let bus = self.pipeline.bus()?;
        let mut first = None;
        while let Some(msg) =
            bus.pop_filtered(&[gst::MessageType::Error, gst::MessageType::Warning])
        {
            let from = msg
                .src()
                .map(|s| s.path_string().to_string())
                .unwrap_or_default();
            match msg.view() {
                gst::MessageView::Error(e) => {
                    let text = match e.debug() {
                        Some(d) => format!("{from}: {} ({d})", e.error()),
                        None => format!("{from}: {}", e.error()),
                    };
                    first.get_or_insert(text);
                }
                gst::MessageView::Warning(w) => tracing::warn!("GStreamer {from}: {}", w.error()),
                _ => {}
            }
        }
        first
    }

    fn fail(&self, fallback: String) -> EncodeError {
        EncodeError::Encode {
            backend: NAME,
            reason: self.bus_error().unwrap_or(fallback),
        }
    }

    fn frame_duration(&self) -> gst::ClockTime {
        gst::ClockTime::from_nseconds(1_000_000_000 / u64::from(self.config.fps.max(1)))
    }

    /// Copies `picture` into a pooled buffer laid out as GStreamer expects I420.
    fn input_buffer(&self, picture: &I420) -> Result<gst::Buffer, EncodeError> {
        let mut buffer = self
            .pool
            .acquire_buffer(None)
            .map_err(|e| self.fail(format!("no input buffer: {e:?}")))?;
        let fps = u64::from(self.config.fps.max(1));
        let pts = self.pts_base
            + gst::ClockTime::from_nseconds(self.frames_since_base * 1_000_000_000 / fps);
        let buf = buffer.make_mut();
        buf.set_pts(pts);
        buf.set_duration(self.frame_duration());
        let mut map = buf
            .map_writable()
            .map_err(|e| self.fail(format!("cannot map input buffer: {e}")))?;
        let (w, h) = (picture.width as usize, picture.height as usize);
        let planes = [
            (&picture.y, picture.stride_y(), h),
            (&picture.u, picture.stride_uv(), h / 2),
            (&picture.v, picture.stride_uv(), h / 2),
        ];
        for (i, (plane, stride, rows)) in planes.into_iter().enumerate() {
            let (Some(&offset), Some(&dst_stride)) =
                (self.info.offset().get(i), self.info.stride().get(i))
            else {
                return Err(self.fail(format!("I420 layout has no plane {i}")));
            };
            let dst_stride = usize::try_from(dst_stride).unwrap_or(0);
            let width = if i == 0 { w } else { w / 2 };
            for r in 0..rows {
                let dst = offset + r * dst_stride;
                let (Some(to), Some(from)) = (
                    map.get_mut(dst..dst + width),
                    plane.get(r * stride..r * stride + width),
                ) else {
                    return Err(self.fail(format!("plane {i} is smaller than {w}x{h} I420")));
                };
                to.copy_from_slice(from);
            }
        }
        drop(map);
        Ok(buffer)
    }

    /// Appends one sample's bytes to `out`; returns whether it is a keyframe.
    fn append(&self, sample: &gst::Sample, out: &mut BytesMut) -> Result<bool, EncodeError> {
        let buffer = sample
            .buffer()
            .ok_or_else(|| self.fail("sample without a buffer".into()))?;
        let map = buffer
            .map_readable()
            .map_err(|e| self.fail(format!("cannot map output: {e}")))?;
        out.extend_from_slice(&map);
        Ok(!buffer.flags().contains(gst::BufferFlags::DELTA_UNIT))
    }
}

impl Encoder for GstEncoder {
    fn kind(&self) -> EncoderKind {
        EncoderKind::Gstreamer
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            hardware: self.encoder.as_ref().is_some_and(|e| {
                factory_name(e).starts_with("nv") || factory_name(e).starts_with("va")
            }),
            live_retune: self.encoder.is_some(),
            refresh_qp: false,
        }
    }

    fn name(&self) -> &str {
        &self.label
    }

    fn codec(&self) -> Codec {
        self.codec
    }

    fn config(&self) -> EncoderConfig {
        self.config
    }

    fn encode(
        &mut self,
        picture: &I420,
        force_keyframe: bool,
        out: &mut BytesMut,
    ) -> Result<Option<Encoded>, EncodeError> {
        if let Some(reason) = self.bus_error() {
            return Err(EncodeError::Encode {
                backend: NAME,
                reason,
            });
        }
        if (picture.width, picture.height) != (self.config.width, self.config.height) {
            return Err(self.fail(format!(
                "picture is {}x{}, the encoder was opened for {}x{}",
                picture.width, picture.height, self.config.width, self.config.height
            )));
        }
        let buffer = self.input_buffer(picture)?;
        // appsrc queues serialized events in order with buffers, so this applies to this frame;
        // no running time means "the next frame" to GstVideoEncoder.
        if force_keyframe {
            let event = gst_video::DownstreamForceKeyUnitEvent::builder()
                .all_headers(true)
                .build();
            if !self.src.send_event(event) {
                tracing::debug!("GStreamer: force-key-unit event not handled");
            }
        }
        self.src
            .push_buffer(buffer)
            .map_err(|e| self.fail(format!("appsrc refused the frame: {e:?}")))?;
        self.frames_in += 1;
        self.frames_since_base += 1;

        let timeout = if self.frames_in == 1 {
            FIRST_OUTPUT_TIMEOUT
        } else {
            (4 * Duration::from(self.frame_duration())).max(MIN_OUTPUT_TIMEOUT)
        };
        let Some(sample) = self
            .sink
            .try_pull_sample(gst::ClockTime::try_from(timeout).ok())
        else {
            if self.sink.is_eos() {
                return Err(self.fail("the pipeline ended".into()));
            }
            if let Some(reason) = self.bus_error() {
                return Err(EncodeError::Encode {
                    backend: NAME,
                    reason,
                });
            }
            return Ok(None);
        };
        let keyframe = self.append(&sample, out)?;
        // A slow frame leaves the next output queued behind; Annex-B access units can be
        // concatenated, so catch up instead of lagging one frame for good.
        if matches!(self.codec, Codec::H264 | Codec::H265) {
            while let Some(more) = self.sink.try_pull_sample(gst::ClockTime::ZERO) {
                self.append(&more, out)?;
            }
        }
        Ok(Some(Encoded { keyframe }))
    }

    fn reconfigure(&mut self, bitrate_kbps: u32, fps: u32) -> Result<(), EncodeError> {
        let reconf_err = |reason: String| EncodeError::Reconfigure {
            backend: NAME,
            reason,
        };
        if fps == 0 {
            return Err(reconf_err("fps must be non-zero".into()));
        }
        if fps != self.config.fps {
            let info =
                video_info(self.config.width, self.config.height, fps).map_err(reconf_err)?;
            let caps = info.to_caps().map_err(|e| reconf_err(e.message.into()))?;
            self.src.set_caps(Some(&caps));
            self.info = info;
            self.pts_base += gst::ClockTime::from_nseconds(
                self.frames_since_base * 1_000_000_000 / u64::from(self.config.fps),
            );
            self.frames_since_base = 0;
            self.config.fps = fps;
        }
        let enc = self
            .encoder
            .as_ref()
            .ok_or_else(|| reconf_err("no encoder element found in the pipeline".into()))?;
        let factory = factory_name(enc);
        let (prop, _) = bitrate_property(&factory);
        if enc.find_property(prop).is_none() {
            return Err(reconf_err(format!("{factory} has no {prop} property")));
        }
        for (name, value) in rate_settings(&factory, bitrate_kbps, fps) {
            if enc.find_property(name).is_some() {
                set_number(enc, name, value).map_err(reconf_err)?;
            }
        }
        self.config.bitrate_kbps = bitrate_kbps;
        Ok(())
    }
}

impl Drop for GstEncoder {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
        let _ = self.pool.set_active(false);
    }
}

/// Initialises GStreamer and reports its version ("GStreamer 1.22.0").
///
/// # Errors
/// GStreamer's reason when it cannot initialise (library or registry problem).
pub fn probe() -> Result<String, String> {
    gst::init().map_err(|e| e.to_string())?;
    let (major, minor, micro, _) = gst::version();
    Ok(format!("GStreamer {major}.{minor}.{micro}"))
}

/// Encoder elements Selkies knows that are installed here.
pub fn encoders_available() -> Vec<&'static str> {
    const KNOWN: [&str; 10] = [
        "x264enc",
        "nvh264enc",
        "vah264enc",
        "vp8enc",
        "vp9enc",
        "av1enc",
        "svtav1enc",
        "rav1enc",
        "openh264enc",
        "x265enc",
    ];
    if gst::init().is_err() {
        return Vec::new();
    }
    KNOWN
        .into_iter()
        .filter(|n| gst::ElementFactory::find(n).is_some())
        .collect()
}

/// The installed element to use for `codec` when none is named: software encoders first,
/// as they work on every machine.
pub fn default_element(codec: Codec) -> Option<&'static str> {
    let candidates: &[&'static str] = match codec {
        Codec::H264 => &["x264enc", "openh264enc", "vah264enc", "nvh264enc"],
        Codec::H265 => &["x265enc", "vah265enc", "nvh265enc"],
        Codec::Vp8 => &["vp8enc"],
        Codec::Vp9 => &["vp9enc", "vavp9enc"],
        Codec::Av1 => &["av1enc", "svtav1enc", "rav1enc", "vaav1enc", "nvav1enc"],
    };
    gst::init().ok()?;
    candidates
        .iter()
        .copied()
        .find(|n| gst::ElementFactory::find(n).is_some())
}

fn open_err(reason: impl std::fmt::Display) -> EncodeError {
    EncodeError::Open {
        backend: NAME,
        reason: reason.to_string(),
    }
}

/// The caps media type for `codec` and the tail that turns encoder output into what the
/// packetizers want. Parsers come from gst-plugins-bad, so caps alone must do without them.
fn output_stage(codec: Codec) -> (&'static str, String) {
    let (media, parser, caps) = match codec {
        Codec::H264 => (
            "video/x-h264",
            Some("h264parse config-interval=-1"),
            "video/x-h264,stream-format=byte-stream,alignment=au",
        ),
        Codec::H265 => (
            "video/x-h265",
            Some("h265parse config-interval=-1"),
            "video/x-h265,stream-format=byte-stream,alignment=au",
        ),
        Codec::Vp8 => ("video/x-vp8", None, "video/x-vp8"),
        Codec::Vp9 => ("video/x-vp9", None, "video/x-vp9"),
        Codec::Av1 => (
            "video/x-av1",
            Some("av1parse"),
            "video/x-av1,stream-format=obu-stream,alignment=tu",
        ),
    };
    let parser = parser.filter(|p| {
        let name = p.split_whitespace().next().unwrap_or_default();
        gst::ElementFactory::find(name).is_some()
    });
    let tail = match parser {
        Some(p) => format!("{p} ! {caps}"),
        None => caps.to_string(),
    };
    (media, tail)
}

/// Fails early, with a clear message, when `factory` is missing or cannot output `media`.
fn check_produces(factory: &str, media: &str) -> Result<(), EncodeError> {
    let f = gst::ElementFactory::find(factory).ok_or_else(|| {
        open_err(format!(
            "no GStreamer element \"{factory}\" (is its plugin installed?)"
        ))
    })?;
    let want = gst::Caps::new_empty_simple(media);
    let outputs: Vec<gst::Caps> = f
        .static_pad_templates()
        .iter()
        .filter(|t| t.direction() == gst::PadDirection::Src)
        .map(|t| t.caps())
        .collect();
    if outputs.iter().any(|caps| caps.can_intersect(&want)) {
        return Ok(());
    }
    let outputs: Vec<String> = outputs.iter().map(ToString::to_string).collect();
    Err(open_err(format!(
        "{factory} cannot produce {media}; it outputs {}",
        outputs.join("; ")
    )))
}

fn by_name<T: IsA<gst::Element>>(pipeline: &gst::Pipeline, name: &str) -> Result<T, EncodeError> {
    pipeline
        .by_name(name)
        .and_then(|e| e.downcast::<T>().ok())
        .ok_or_else(|| open_err(format!("{name} missing from the pipeline")))
}

fn find_element(
    pipeline: &gst::Pipeline,
    pred: impl Fn(&gst::ElementFactory) -> bool,
) -> Option<gst::Element> {
    pipeline
        .iterate_recurse()
        .into_iter()
        .filter_map(Result::ok)
        .find(|e| e.factory().is_some_and(|f| pred(&f)))
}

fn factory_name(e: &gst::Element) -> String {
    e.factory()
        .map(|f| f.name().to_string())
        .unwrap_or_default()
}

fn video_info(width: u32, height: u32, fps: u32) -> Result<gst_video::VideoInfo, String> {
    // Our conversion is BT.601 limited range; say so, or GStreamer assumes BT.709 for HD.
    let colorimetry: gst_video::VideoColorimetry = "bt601"
        .parse()
        .map_err(|e: glib::BoolError| e.to_string())?;
    let fps = i32::try_from(fps).map_err(|_| format!("fps {fps} too large"))?;
    gst_video::VideoInfo::builder(gst_video::VideoFormat::I420, width, height)
        .fps(gst::Fraction::new(fps, 1))
        .par(gst::Fraction::new(1, 1))
        .colorimetry(&colorimetry)
        .build()
        .map_err(|e| e.to_string())
}

fn input_pool(caps: &gst::Caps, info: &gst_video::VideoInfo) -> Result<gst::BufferPool, String> {
    let size = u32::try_from(info.size()).map_err(|_| "frame too large".to_string())?;
    let pool = gst::BufferPool::new();
    let mut config = pool.config();
    config.set_params(Some(caps), size, 2, 0);
    pool.set_config(config).map_err(|e| e.to_string())?;
    pool.set_active(true).map_err(|e| e.to_string())?;
    Ok(pool)
}

#[cfg(test)]
mod tests;
