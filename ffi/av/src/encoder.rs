//! One libavcodec video encoder opened for low-latency streaming: constant bitrate, no B-frames,
//! keyframes only on request, one packet out per picture in.

use crate::hw::VaapiFrames;
use crate::{init, AvError};
use ffmpeg_next::{codec, encoder, ffi, format, frame, picture, Dictionary, Packet, Rational};
use std::path::PathBuf;

/// What the encoder consumes, and where the picture is uploaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Planar 4:2:0 in system memory (libvpx, SVT-AV1, libaom, NVENC).
    I420,
    /// Semi-planar 4:2:0 in system memory.
    Nv12,
    /// NV12 uploaded into VA-API surfaces on this DRM render node.
    Vaapi(PathBuf),
}

/// How to open an encoder.
#[derive(Debug, Clone)]
pub struct EncoderSpec<'a> {
    /// libavcodec's encoder name ("libvpx-vp9", "h264_nvenc").
    pub encoder: &'a str,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub bitrate_kbps: u32,
    /// Rate-control buffer in frame times (Selkies: 1.5).
    pub vbv_frames: f32,
    /// Frames between keyframes; `i32::MAX` means only on request.
    pub gop: i32,
    /// Worker threads (0 = libavcodec decides).
    pub threads: u32,
    /// The encoder's private options (`preset`, `deadline`, …).
    pub options: Vec<(&'a str, String)>,
    pub input: Input,
}

/// One I420 picture in memory we own.
#[derive(Debug, Clone, Copy)]
pub struct Planes<'a> {
    pub width: u32,
    pub height: u32,
    pub y: &'a [u8],
    pub u: &'a [u8],
    pub v: &'a [u8],
    pub stride_y: usize,
    pub stride_uv: usize,
}

impl Planes<'_> {
    /// Whether the slices hold every row their size and strides promise (so copying cannot run
    /// off their end).
    fn covers(&self) -> bool {
        let (w, h) = (self.width as usize, self.height as usize);
        let (cw, ch) = (w / 2, h / 2);
        let fits = |plane: &[u8], stride: usize, w: usize, h: usize| {
            h == 0 || (stride >= w && plane.len() >= stride * (h - 1) + w)
        };
        fits(self.y, self.stride_y, w, h)
            && fits(self.u, self.stride_uv, cw, ch)
            && fits(self.v, self.stride_uv, cw, ch)
    }
}

/// An open encoder. Not shared between threads; moved to the media thread whole.
pub struct VideoEncoder {
    enc: encoder::Video,
    /// The picture in system memory, refilled for every frame.
    sw: frame::Video,
    /// VA-API: the surface pool and the frame that holds the current surface.
    hw: Option<(VaapiFrames, frame::Video)>,
    packet: Packet,
    pts: i64,
    width: u32,
    height: u32,
    layout: format::Pixel,
    name: String,
}

// SAFETY: the encoder context and frames are owned exclusively by this value; libavcodec allows an
// AVCodecContext to move between threads as long as it is used by one at a time.
unsafe impl Send for VideoEncoder {}

impl VideoEncoder {
    /// Opens `spec.encoder` with constant bitrate, no B-frames and the given GOP.
    ///
    /// # Errors
    /// [`AvError::NoEncoder`] if this FFmpeg lacks it; [`AvError::Ffmpeg`] with FFmpeg's reason if
    /// the device or the encoder refuses to open (no driver, unsupported size, bad option).
    pub fn open(spec: &EncoderSpec<'_>) -> Result<Self, AvError> {
        init();
        let codec = encoder::find_by_name(spec.encoder).ok_or_else(|| AvError::NoEncoder {
            name: spec.encoder.to_owned(),
            version: crate::libavcodec_version(),
        })?;
        let (layout, hw) = match &spec.input {
            Input::I420 => (format::Pixel::YUV420P, None),
            Input::Nv12 => (format::Pixel::NV12, None),
            Input::Vaapi(node) => (
                format::Pixel::NV12,
                Some(VaapiFrames::open(node, spec.width, spec.height)?),
            ),
        };
        let mut ctx = codec::context::Context::new_with_codec(codec)
            .encoder()
            .video()
            .map_err(|e| AvError::ffmpeg("encoder context", e))?;
        let fps = spec.fps.max(1);
        ctx.set_width(spec.width);
        ctx.set_height(spec.height);
        ctx.set_time_base(Rational::new(1, fps as i32));
        ctx.set_frame_rate(Some(Rational::new(fps as i32, 1)));
        ctx.set_format(if hw.is_some() {
            format::Pixel::VAAPI
        } else {
            layout
        });
        ctx.set_max_b_frames(0);
        // What our BGRx→I420 conversion writes: BT.601, limited range.
        ctx.set_colorspace(ffmpeg_next::color::Space::SMPTE170M);
        ctx.set_color_range(ffmpeg_next::color::Range::MPEG);
        // SAFETY: plain fields of a context that is not open yet; hw_frames_ctx takes ownership
        // of the new reference.
        unsafe {
            let p = ctx.as_mut_ptr();
            set_rate(p, spec.bitrate_kbps, fps, spec.vbv_frames);
            (*p).gop_size = spec.gop;
            (*p).thread_count = spec.threads as i32;
            // Headers in band on every keyframe: a viewer can join at any IDR.
            (*p).flags &= !(ffi::AV_CODEC_FLAG_GLOBAL_HEADER as i32);
            (*p).flags |= ffi::AV_CODEC_FLAG_LOW_DELAY as i32;
            if let Some(frames) = &hw {
                (*p).hw_frames_ctx = frames.frames_ref();
            }
        }
        let mut options = Dictionary::new();
        for (k, v) in &spec.options {
            options.set(k, v);
        }
        let enc = ctx
            .open_with(options)
            .map_err(|e| AvError::ffmpeg("open encoder", format!("{}: {e}", spec.encoder)))?;
        let sw = frame::Video::new(layout, spec.width, spec.height);
        Ok(Self {
            enc,
            sw,
            hw: hw.map(|f| (f, frame::Video::empty())),
            packet: Packet::empty(),
            pts: 0,
            width: spec.width,
            height: spec.height,
            layout,
            name: spec.encoder.to_owned(),
        })
    }

    /// libavcodec's name of this encoder.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Encodes one picture and hands each packet it yields to `sink(bytes, keyframe)`; returns
    /// how many packets that was (0 while an encoder still fills its pipeline).
    ///
    /// # Errors
    /// [`AvError::Size`] for a picture of the wrong size; [`AvError::Ffmpeg`] when the encoder
    /// fails (a lost device, a driver error).
    pub fn encode(
        &mut self,
        planes: &Planes<'_>,
        force_keyframe: bool,
        mut sink: impl FnMut(&[u8], bool),
    ) -> Result<usize, AvError> {
        if (planes.width, planes.height) != (self.width, self.height) {
            return Err(AvError::Size {
                got_w: planes.width,
                got_h: planes.height,
                want_w: self.width,
                want_h: self.height,
            });
        }
        if !planes.covers() {
            return Err(AvError::Planes);
        }
        // SAFETY: the encoder may still hold a reference to last frame's buffers; this copies
        // them away first if so, so that refilling cannot change a picture it has not encoded.
        let ret = unsafe { ffi::av_frame_make_writable(self.sw.as_mut_ptr()) };
        if ret < 0 {
            return Err(AvError::ffmpeg("frame", ffmpeg_next::Error::from(ret)));
        }
        fill(&mut self.sw, self.layout, planes);
        let kind = if force_keyframe {
            picture::Type::I
        } else {
            picture::Type::None
        };
        let pts = Some(self.pts);
        self.pts += 1;
        let sent = match &mut self.hw {
            Some((frames, surface)) => {
                frames.upload(&self.sw, surface)?;
                surface.set_pts(pts);
                surface.set_kind(kind);
                self.enc.send_frame(surface)
            }
            None => {
                self.sw.set_pts(pts);
                self.sw.set_kind(kind);
                self.enc.send_frame(&self.sw)
            }
        };
        sent.map_err(|e| AvError::ffmpeg("encode", e))?;
        let mut count = 0;
        loop {
            match self.enc.receive_packet(&mut self.packet) {
                Ok(()) => {
                    sink(self.packet.data().unwrap_or_default(), self.packet.is_key());
                    count += 1;
                }
                Err(ffmpeg_next::Error::Other { errno }) if errno == libc::EAGAIN => break,
                Err(ffmpeg_next::Error::Eof) => break,
                Err(e) => return Err(AvError::ffmpeg("encode", e)),
            }
        }
        Ok(count)
    }

    /// Sets a new target bitrate on the open encoder. Only encoders that re-read it per frame
    /// apply it (NVENC, with dynamic bitrate support); see [`VideoEncoder::applies_bitrate_live`].
    pub fn set_bitrate(&mut self, kbps: u32, fps: u32, vbv_frames: f32) {
        // SAFETY: plain fields of an open context, read by the encoder on its next frame.
        unsafe { set_rate(self.enc.as_mut_ptr(), kbps, fps.max(1), vbv_frames) }
    }

    /// Whether [`VideoEncoder::set_bitrate`] takes effect without reopening.
    pub fn applies_bitrate_live(&self) -> bool {
        self.name.ends_with("_nvenc")
    }
}

/// Constant bitrate as libavcodec spells it: average = max = min, and a buffer of `vbv_frames`
/// frame times (libvpx switches to CBR exactly when min = max = average).
///
/// # Safety
/// `p` must point to a live AVCodecContext.
unsafe fn set_rate(p: *mut ffi::AVCodecContext, kbps: u32, fps: u32, vbv_frames: f32) {
    let bps = i64::from(kbps) * 1000;
    (*p).bit_rate = bps;
    (*p).rc_max_rate = bps;
    (*p).rc_min_rate = bps;
    (*p).rc_buffer_size = (bps as f64 * f64::from(vbv_frames) / f64::from(fps)) as i32;
}

/// Copies an I420 picture into `dst`, interleaving chroma for NV12.
fn fill(dst: &mut frame::Video, layout: format::Pixel, src: &Planes<'_>) {
    let (w, h) = (src.width as usize, src.height as usize);
    let (cw, ch) = (w / 2, h / 2);
    copy_plane(dst, 0, src.y, src.stride_y, w, h);
    if layout == format::Pixel::NV12 {
        let stride = dst.stride(1);
        let uv = dst.data_mut(1);
        for row in 0..ch {
            let u = &src.u[row * src.stride_uv..][..cw];
            let v = &src.v[row * src.stride_uv..][..cw];
            let out = &mut uv[row * stride..][..cw * 2];
            for ((pair, &u), &v) in out.chunks_exact_mut(2).zip(u).zip(v) {
                pair[0] = u;
                pair[1] = v;
            }
        }
    } else {
        copy_plane(dst, 1, src.u, src.stride_uv, cw, ch);
        copy_plane(dst, 2, src.v, src.stride_uv, cw, ch);
    }
}

fn copy_plane(dst: &mut frame::Video, index: usize, src: &[u8], stride: usize, w: usize, h: usize) {
    let dst_stride = dst.stride(index);
    let out = dst.data_mut(index);
    for row in 0..h {
        out[row * dst_stride..][..w].copy_from_slice(&src[row * stride..][..w]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn libvpx(w: u32, h: u32) -> VideoEncoder {
        VideoEncoder::open(&EncoderSpec {
            encoder: "libvpx",
            width: w,
            height: h,
            fps: 30,
            bitrate_kbps: 300,
            vbv_frames: 1.5,
            gop: i32::MAX,
            threads: 1,
            options: vec![("deadline", "realtime".into())],
            input: Input::I420,
        })
        .expect("libvpx opens")
    }

    #[test]
    fn bad_pictures_are_errors_not_panics() {
        let mut enc = libvpx(64, 64);
        let (y, c) = (vec![16u8; 64 * 64], vec![128u8; 32 * 32]);
        let good = Planes {
            width: 64,
            height: 64,
            y: &y,
            u: &c,
            v: &c,
            stride_y: 64,
            stride_uv: 32,
        };
        let mut keys = Vec::new();
        assert_eq!(enc.encode(&good, false, |_, k| keys.push(k)).ok(), Some(1));
        assert_eq!(keys, [true]);
        let short = Planes {
            y: &y[..100],
            ..good
        };
        assert!(matches!(
            enc.encode(&short, false, |_, _| {}),
            Err(AvError::Planes)
        ));
        let narrow = Planes {
            stride_uv: 16,
            ..good
        };
        assert!(matches!(
            enc.encode(&narrow, false, |_, _| {}),
            Err(AvError::Planes)
        ));
        let wrong = Planes { width: 32, ..good };
        assert!(matches!(
            enc.encode(&wrong, false, |_, _| {}),
            Err(AvError::Size { .. })
        ));
    }

    #[test]
    fn a_missing_encoder_is_named() {
        let err = VideoEncoder::open(&EncoderSpec {
            encoder: "not_an_encoder",
            width: 64,
            height: 64,
            fps: 30,
            bitrate_kbps: 300,
            vbv_frames: 1.5,
            gop: 30,
            threads: 1,
            options: Vec::new(),
            input: Input::I420,
        })
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.contains("no encoder \"not_an_encoder\""), "{err}");
    }
}
