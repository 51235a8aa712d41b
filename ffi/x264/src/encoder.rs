//! The safe encoder: owns one x264 instance through the shim, checks every
//! picture's planes before C reads them, and copies each encoded frame once into
//! the caller's buffer. It must not allocate per frame on its own or decide when
//! to send keyframes (the caller passes `force_idr`).

use std::ptr::NonNull;

use crate::params::{rate, validate_rate};
use crate::{sys, Error, Params};

/// One I420 picture borrowed from the caller; x264 copies it during `encode` and
/// keeps no reference.
#[derive(Debug, Clone, Copy)]
pub struct Picture<'a> {
    /// Luma, `stride_y * height` bytes or more.
    pub y: &'a [u8],
    /// Cb, `stride_uv * height / 2` bytes or more.
    pub u: &'a [u8],
    /// Cr, `stride_uv * height / 2` bytes or more.
    pub v: &'a [u8],
    /// Bytes from one luma row to the next; at least `width`.
    pub stride_y: usize,
    /// Bytes from one chroma row to the next (both chroma planes); at least `width / 2`.
    pub stride_uv: usize,
    /// Presentation time in frame ticks; must increase from frame to frame.
    pub pts: i64,
}

/// How to code one frame; the default lets x264's rate control decide everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct FrameOptions<'a> {
    /// Make this frame an IDR with SPS/PPS in front (the caller decides when to send keyframes).
    pub force_idr: bool,
    /// Code this frame at this quantiser (lower is better; clamped to 1 up to the top of
    /// [`crate::CQP_RANGE`], past H.264's 51 into x264's coarser quantisation) instead of what
    /// rate control would pick: a high-quality refresh of a screen that stopped changing under
    /// CBR, whose rate control counts its bits and resumes afterwards.
    pub qp: Option<u8>,
    /// One byte per macroblock in raster order ([`Encoder::macroblocks`]), `1` where the
    /// picture is the same as the last one encoded and `0` elsewhere (x264's
    /// `X264_MBINFO_CONSTANT`). x264 codes those as skipped without analysing them (unless the
    /// reference there is of lower quality than this frame asks for). A wrong flag leaves a
    /// stale block on screen until it changes again, so the caller must know.
    pub unchanged: Option<&'a [u8]>,
}

impl FrameOptions<'_> {
    /// Rate control decides; an IDR when `force_idr`.
    pub fn keyframe(force_idr: bool) -> Self {
        FrameOptions {
            force_idr,
            ..FrameOptions::default()
        }
    }
}

/// What `encode` appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameInfo {
    /// The frame is an IDR (preceded by SPS and PPS): a decoder can start here.
    pub keyframe: bool,
    /// Bytes appended to `out`.
    pub bytes: usize,
    /// The `pts` of the picture this frame encodes.
    pub pts: i64,
}

/// An open libx264 encoder. `Send` so it can live on the encoding thread; not
/// `Sync` (every method takes `&mut self` anyway).
#[derive(Debug)]
pub struct Encoder {
    handle: NonNull<sys::Handle>,
    params: Params,
    /// x264 keeps this frame rate for rate control whatever `reconfigure` says.
    opened_fps: u32,
}

// SAFETY: an x264 encoder has no thread affinity (no TLS, no thread-bound
// handles); it only must not be used from two threads at once, which `&mut self`
// on every call and the absence of `Sync` rule out.
unsafe impl Send for Encoder {}

fn to_i32(v: u32) -> Result<i32, Error> {
    i32::try_from(v).map_err(|_| Error::InvalidParams(format!("{v} does not fit a C int")))
}

impl Encoder {
    /// Opens an encoder; the first frame it produces is an IDR.
    ///
    /// # Errors
    /// [`Error::InvalidParams`] for odd or zero sizes, zero fps or bitrate, or other
    /// out-of-range values; [`Error::Open`] if x264 refuses them anyway.
    pub fn open(params: &Params) -> Result<Encoder, Error> {
        params.validate()?;
        let r = rate(
            params.bitrate_kbps,
            params.fps,
            params.vbv_frames,
            params.fps,
        );
        let cfg = sys::Config {
            width: to_i32(params.width)?,
            height: to_i32(params.height)?,
            fps: to_i32(params.fps)?,
            bitrate_kbps: r.bitrate_kbps,
            vbv_max_kbps: r.vbv_max_kbps,
            vbv_buffer_kbit: r.vbv_buffer_kbit,
            threads: to_i32(params.threads)?,
            profile: params.profile.to_sys(),
            intra_refresh: i32::from(params.intra_refresh),
            constant_qp: params.constant_qp.map_or(0, i32::from),
        };
        let mut handle: *mut sys::Handle = std::ptr::null_mut();
        // SAFETY: `cfg` and `handle` are live locals for the whole call; the shim
        // only reads `cfg` and writes one pointer through `handle`.
        let rc = unsafe { sys::selkies_x264_open(&cfg, &mut handle) };
        let handle = match (rc, NonNull::new(handle)) {
            (0, Some(h)) => h,
            (sys::OPEN_ERR_ALLOC, _) => return Err(Error::Open("out of memory")),
            (sys::OPEN_ERR_PRESET, _) => return Err(Error::Open("preset ultrafast/zerolatency")),
            (sys::OPEN_ERR_PROFILE, _) => return Err(Error::Open("profile restrictions")),
            (sys::OPEN_ERR_ARGS, _) => return Err(Error::Open("arguments refused by the shim")),
            (sys::OPEN_ERR_ENCODER, _) => return Err(Error::Open("x264_encoder_open failed")),
            _ => return Err(Error::Open("unexpected result from the shim")),
        };
        Ok(Encoder {
            handle,
            params: params.clone(),
            opened_fps: params.fps,
        })
    }

    /// Macroblocks in the opened picture size: the length [`FrameOptions::unchanged`] wants.
    pub fn macroblocks(&self) -> (usize, usize) {
        (
            (self.params.width as usize).div_ceil(16),
            (self.params.height as usize).div_ceil(16),
        )
    }

    /// Encodes one picture and hands the Annex-B bytes of all its NAL units to `sink` (called
    /// once, only when x264 emitted bytes), so the caller copies the access unit once, straight
    /// from x264's memory, into its own buffer type. `Ok(None)` when x264 emitted nothing, which
    /// these low-latency settings should not do. `options` asks for an IDR, a fixed quantiser
    /// or macroblock skip hints for this one frame.
    ///
    /// # Errors
    /// [`Error::BadStride`] / [`Error::PlaneTooSmall`] when the planes do not hold a
    /// picture of the opened size (nothing reaches x264 then); [`Error::InvalidParams`] when
    /// [`FrameOptions::unchanged`] has the wrong length; [`Error::Encode`] when x264 fails.
    pub fn encode(
        &mut self,
        pic: &Picture<'_>,
        options: FrameOptions<'_>,
        sink: impl FnOnce(&[u8]),
    ) -> Result<Option<FrameInfo>, Error> {
        let FrameOptions {
            force_idr,
            qp,
            unchanged,
        } = options;
        let (stride_y, stride_uv) = self.check_planes(pic)?;
        let (mbw, mbh) = self.macroblocks();
        if let Some(flags) = unchanged {
            if flags.len() != mbw * mbh {
                return Err(Error::InvalidParams(format!(
                    "{} macroblock flags for {mbw}x{mbh} macroblocks",
                    flags.len()
                )));
            }
        }
        let mut frame = sys::Frame::default();
        // SAFETY: `check_planes` proved each plane holds `stride * rows` bytes with
        // `stride >= row width` for the size the encoder was opened with, which is
        // all x264 reads (it copies the planes and keeps no pointer). `unchanged`, when
        // given, holds one byte per macroblock (checked above), only read during the call:
        // sliced threads and no lookahead encode the picture before the call returns. `self.handle`
        // is a live encoder that only this `&mut self` uses; `frame` is a live local.
        let rc = unsafe {
            sys::selkies_x264_encode(
                self.handle.as_ptr(),
                pic.y.as_ptr(),
                pic.u.as_ptr(),
                pic.v.as_ptr(),
                stride_y,
                stride_uv,
                pic.pts,
                i32::from(force_idr),
                qp.map_or(0, |q| i32::from(q.clamp(1, *crate::CQP_RANGE.end()))),
                unchanged.map_or(std::ptr::null(), <[u8]>::as_ptr),
                &mut frame,
            )
        };
        if rc < 0 {
            return Err(Error::Encode(rc));
        }
        if rc == 0 || frame.len == 0 || frame.data.is_null() {
            return Ok(None);
        }
        // SAFETY: the shim checked that x264's NAL payloads are one contiguous run
        // of `frame.len` bytes at `frame.data`; they stay valid until the next call
        // on this encoder, and `&mut self` keeps any such call out until `sink` returns
        // (its `&[u8]` argument cannot outlive the call).
        let bytes = unsafe { std::slice::from_raw_parts(frame.data, frame.len) };
        sink(bytes);
        Ok(Some(FrameInfo {
            keyframe: frame.idr != 0,
            bytes: frame.len,
            pts: frame.pts,
        }))
    }

    /// Changes bitrate (and VBV) live, effective from the next frame; a new `fps`
    /// rescales the rate budget (see the crate docs). The stream continues without
    /// an IDR.
    ///
    /// # Errors
    /// [`Error::InvalidParams`] for zero or out-of-range values, [`Error::Reconfig`]
    /// if x264 refuses; the previous settings stay in force either way.
    pub fn reconfigure(&mut self, bitrate_kbps: u32, fps: u32) -> Result<(), Error> {
        validate_rate(bitrate_kbps, fps)?;
        if self.params.constant_qp.is_some() {
            // The caller's rate control owns the bitrate; x264 has none to change.
            self.params.bitrate_kbps = bitrate_kbps;
            self.params.fps = fps;
            return Ok(());
        }
        let r = rate(bitrate_kbps, fps, self.params.vbv_frames, self.opened_fps);
        // SAFETY: `self.handle` is a live encoder used only through `&mut self`.
        let rc = unsafe {
            sys::selkies_x264_reconfig(
                self.handle.as_ptr(),
                r.bitrate_kbps,
                r.vbv_max_kbps,
                r.vbv_buffer_kbit,
            )
        };
        if rc != 0 {
            return Err(Error::Reconfig(rc));
        }
        self.params.bitrate_kbps = bitrate_kbps;
        self.params.fps = fps;
        Ok(())
    }

    /// The parameters in force, including changes made by `reconfigure`.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Returns the strides as C ints once every plane is known to be large enough.
    fn check_planes(&self, pic: &Picture<'_>) -> Result<(i32, i32), Error> {
        // `open` validated both as even and small, so these cannot truncate.
        let width = self.params.width as usize;
        let height = self.params.height as usize;
        let stride_y = check_plane("Y", pic.y, pic.stride_y, width, height)?;
        let stride_u = check_plane("U", pic.u, pic.stride_uv, width / 2, height / 2)?;
        check_plane("V", pic.v, pic.stride_uv, width / 2, height / 2)?;
        Ok((stride_y, stride_u))
    }
}

fn check_plane(
    plane: &'static str,
    data: &[u8],
    stride: usize,
    width: usize,
    rows: usize,
) -> Result<i32, Error> {
    let c_stride = i32::try_from(stride).ok().filter(|_| stride >= width);
    let Some(c_stride) = c_stride else {
        return Err(Error::BadStride {
            plane,
            stride,
            width,
        });
    };
    let needed = stride.saturating_mul(rows);
    if data.len() < needed {
        return Err(Error::PlaneTooSmall {
            plane,
            len: data.len(),
            needed,
        });
    }
    Ok(c_stride)
}

impl Drop for Encoder {
    fn drop(&mut self) {
        // SAFETY: the handle came from a successful open and is closed exactly once,
        // here; no borrow of its output can outlive `self`.
        unsafe { sys::selkies_x264_close(self.handle.as_ptr()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{nal_types, nal_units, slice_type, I420};
    use crate::Profile;

    fn params(width: u32, height: u32) -> Params {
        Params {
            width,
            height,
            threads: 1,
            ..Params::default()
        }
    }

    /// Encodes `count` frames, forcing IDRs at `force`; returns each frame's bytes.
    fn encode_frames(
        enc: &mut Encoder,
        count: usize,
        force: &[usize],
        content: impl Fn(usize) -> I420,
        first_pts: i64,
    ) -> Vec<(FrameInfo, Vec<u8>)> {
        let mut frames = Vec::with_capacity(count);
        for i in 0..count {
            let img = content(i);
            let mut out = Vec::new();
            let pts = first_pts + i as i64;
            let info = enc
                .encode(
                    &img.picture(pts),
                    FrameOptions::keyframe(force.contains(&i)),
                    |b| out.extend_from_slice(b),
                )
                .expect("encode")
                .expect("zero-latency settings emit every frame at once");
            assert_eq!(info.bytes, out.len());
            assert_eq!(info.pts, pts);
            frames.push((info, out));
        }
        frames
    }

    fn is_idr_with_headers(bytes: &[u8]) -> bool {
        let types = nal_types(bytes);
        let pos = |t| types.iter().position(|&x| x == t);
        matches!((pos(7), pos(8), pos(5)), (Some(s), Some(p), Some(i)) if s < p && p < i)
    }

    fn slice_types(bytes: &[u8]) -> Vec<u32> {
        nal_units(bytes)
            .into_iter()
            .filter_map(slice_type)
            .collect()
    }

    fn average(frames: &[(FrameInfo, Vec<u8>)]) -> usize {
        frames.iter().map(|(f, _)| f.bytes).sum::<usize>() / frames.len()
    }

    #[test]
    fn shim_structs_match_rust_layout() {
        // SAFETY: both return sizeof of a struct; no arguments.
        let (config, frame) = unsafe {
            (
                sys::selkies_x264_config_size(),
                sys::selkies_x264_frame_size(),
            )
        };
        assert_eq!(config, std::mem::size_of::<sys::Config>());
        assert_eq!(frame, std::mem::size_of::<sys::Frame>());
    }

    #[test]
    fn a_fixed_qp_applies_to_that_frame_only() {
        // A generous bitrate lets rate control spend freely on moving content; a frame forced to
        // the coarse QP 45 comes out far smaller, and the next frame is back to normal. (VBV may
        // still raise a forced QP row by row when the buffer runs dry, never lower it.)
        let mut p = params(320, 240);
        p.bitrate_kbps = 8000;
        let mut enc = Encoder::open(&p).expect("open");
        let mut sizes = Vec::new();
        for t in 0..12usize {
            let pic = I420::moving(320, 240, t);
            let mut out = Vec::new();
            let qp = (t == 8).then_some(45);
            let options = FrameOptions {
                qp,
                ..FrameOptions::default()
            };
            enc.encode(&pic.picture(t as i64), options, |b| {
                out.extend_from_slice(b)
            })
            .expect("encode");
            sizes.push(out.len());
        }
        assert!(sizes[8] * 3 < sizes[7], "sizes {sizes:?}");
        assert!(sizes[10] > sizes[8] * 2, "sizes {sizes:?}");
    }

    #[test]
    fn constant_qp_mode_codes_each_frame_at_the_qp_given() {
        // No bitrate holds here: the same moving content costs what its QP says, whatever the
        // (tiny) bitrate, and a live bitrate change is accepted without touching x264.
        let mut p = params(320, 240);
        p.bitrate_kbps = 50;
        p.constant_qp = Some(40);
        let mut enc = Encoder::open(&p).expect("open");
        let mut sizes = Vec::new();
        for t in 0..16usize {
            let pic = I420::moving(320, 240, t);
            let qp = match t {
                0..=5 => None,
                6..=10 => Some(*crate::CQP_RANGE.start()),
                _ => Some(*crate::CQP_RANGE.end()),
            };
            let mut out = Vec::new();
            let options = FrameOptions {
                qp,
                ..FrameOptions::default()
            };
            enc.encode(&pic.picture(t as i64), options, |b| {
                out.extend_from_slice(b)
            })
            .expect("encode");
            sizes.push(out.len());
            if t == 3 {
                enc.reconfigure(20_000, 30).expect("reconfigure");
                assert_eq!(enc.params().bitrate_kbps, 20_000);
            }
        }
        let fine = sizes[7..=10].iter().sum::<usize>();
        let default = sizes[2..=5].iter().sum::<usize>();
        let coarse = sizes[12..=15].iter().sum::<usize>();
        // 50 kbit/s at 60 fps is ~100 bytes a frame; CBR would hold the frames near that.
        assert!(default > 4 * 104, "sizes {sizes:?}");
        assert!(
            2 * fine > 3 * default && 2 * default > 3 * coarse,
            "sizes {sizes:?}"
        );
    }

    #[test]
    fn reports_the_header_build() {
        assert!(crate::version() >= 148, "x264 build {}", crate::version());
    }

    #[test]
    fn encoder_is_send() {
        fn assert_send<T: Send>() {}
        assert_send::<Encoder>();
    }

    #[test]
    fn first_frame_is_idr_and_the_rest_are_p_frames() {
        for (w, h) in [(320, 240), (1280, 720)] {
            let mut enc = Encoder::open(&params(w, h)).expect("open");
            let frames = encode_frames(
                &mut enc,
                30,
                &[],
                |t| I420::moving(w as usize, h as usize, t),
                100,
            );
            let (first, first_bytes) = &frames[0];
            assert!(first.keyframe, "{w}x{h}: first frame not an IDR");
            assert!(
                is_idr_with_headers(first_bytes),
                "{:?}",
                nal_types(first_bytes)
            );
            assert!(slice_types(first_bytes).iter().all(|&t| t == 2));
            for (i, (info, bytes)) in frames.iter().enumerate().skip(1) {
                assert!(!info.keyframe, "{w}x{h}: frame {i} is a keyframe");
                let types = nal_types(bytes);
                assert!(types.iter().all(|&t| t == 1), "frame {i}: {types:?}");
                assert!(slice_types(bytes).iter().all(|&t| t == 0), "frame {i}");
            }
        }
    }

    #[test]
    fn forced_idr_repeats_sps_and_pps() {
        let mut enc = Encoder::open(&params(320, 240)).expect("open");
        let frames = encode_frames(&mut enc, 30, &[10, 20], |t| I420::moving(320, 240, t), 0);
        for (i, (info, bytes)) in frames.iter().enumerate() {
            let expect_key = matches!(i, 0 | 10 | 20);
            assert_eq!(info.keyframe, expect_key, "frame {i}");
            assert_eq!(is_idr_with_headers(bytes), expect_key, "frame {i}");
            assert!(!slice_types(bytes).contains(&1), "B-slice in frame {i}");
        }
    }

    #[test]
    fn output_is_appended_without_reallocating() {
        let mut enc = Encoder::open(&params(320, 240)).expect("open");
        let img = I420::moving(320, 240, 0);
        let mut out = Vec::with_capacity(1 << 20);
        out.extend_from_slice(b"prefix");
        let before = out.as_ptr();
        let info = enc
            .encode(&img.picture(0), FrameOptions::keyframe(false), |b| {
                out.extend_from_slice(b)
            })
            .expect("encode")
            .expect("a frame");
        assert_eq!(&out[..6], b"prefix");
        assert_eq!(out.len(), 6 + info.bytes);
        assert_eq!(out.as_ptr(), before);
        assert!(is_idr_with_headers(&out[6..]));
    }

    #[test]
    fn sliced_threads_split_frames_into_slices() {
        let mut enc = Encoder::open(&Params {
            threads: 2,
            ..params(1280, 720)
        })
        .expect("open");
        let frames = encode_frames(&mut enc, 3, &[], |t| I420::moving(1280, 720, t), 0);
        assert_eq!(nal_types(&frames[2].1), vec![1, 1]);
    }

    #[test]
    fn bitrate_change_applies_live() {
        let (w, h) = (640, 360);
        let mut enc = Encoder::open(&Params {
            bitrate_kbps: 8000,
            ..params(w, h)
        })
        .expect("open");
        let noise = |t| I420::noise(w as usize, h as usize, t as u64);
        let high = encode_frames(&mut enc, 40, &[], noise, 0);
        enc.reconfigure(500, 60).expect("reconfigure");
        assert_eq!(enc.params().bitrate_kbps, 500);
        let low = encode_frames(&mut enc, 40, &[], |t| noise(t + 40), 40);
        assert!(
            low.iter().all(|(f, _)| !f.keyframe),
            "reconfigure restarted the GOP"
        );

        let (high, low) = (average(&high[10..]), average(&low[10..]));
        // 8000 kbps at 60 fps is 16.7 kB per frame; 500 kbps is 1.04 kB.
        assert!(high > 10_000, "8000 kbps averaged {high} B/frame");
        assert!(
            high > 5 * low,
            "8000 kbps: {high} B/frame, 500 kbps: {low} B/frame"
        );
    }

    #[test]
    fn fps_change_keeps_the_bitrate() {
        let (w, h) = (640, 360);
        let mut enc = Encoder::open(&Params {
            bitrate_kbps: 2000,
            ..params(w, h)
        })
        .expect("open");
        let noise = |t| I420::noise(w as usize, h as usize, t as u64);
        let at60 = encode_frames(&mut enc, 40, &[], noise, 0);
        enc.reconfigure(2000, 30).expect("reconfigure");
        assert_eq!(enc.params().fps, 30);
        let at30 = encode_frames(&mut enc, 40, &[], |t| noise(t + 40), 40);
        // Same bitrate at half the frame rate: about twice the bytes per frame.
        let ratio = average(&at30[10..]) as f64 / average(&at60[10..]) as f64;
        assert!((1.6..2.5).contains(&ratio), "bytes per frame ratio {ratio}");
    }

    #[test]
    fn invalid_params_are_errors() {
        for p in [
            params(321, 240),
            params(320, 239),
            Params {
                fps: 0,
                ..params(320, 240)
            },
            Params {
                bitrate_kbps: 0,
                ..params(320, 240)
            },
        ] {
            assert!(
                matches!(Encoder::open(&p), Err(Error::InvalidParams(_))),
                "{p:?}"
            );
        }
        let mut enc = Encoder::open(&params(320, 240)).expect("open");
        assert!(matches!(
            enc.reconfigure(0, 60),
            Err(Error::InvalidParams(_))
        ));
        assert!(matches!(
            enc.reconfigure(1000, 0),
            Err(Error::InvalidParams(_))
        ));
        assert_eq!(enc.params(), &params(320, 240));
    }

    #[test]
    fn bad_planes_are_refused_before_x264() {
        let mut enc = Encoder::open(&params(320, 240)).expect("open");
        let img = I420::moving(320, 240, 0);
        let mut out = Vec::new();
        let short_y = Picture {
            y: &img.y[..img.y.len() - 1],
            ..img.picture(0)
        };
        let short_v = Picture {
            v: &img.v[..100],
            ..img.picture(0)
        };
        let narrow = Picture {
            stride_y: 319,
            ..img.picture(0)
        };
        let narrow_uv = Picture {
            stride_uv: 159,
            ..img.picture(0)
        };
        // A wide stride needs more bytes than a packed plane has.
        let wide = Picture {
            stride_y: 400,
            ..img.picture(0)
        };
        assert!(matches!(
            enc.encode(&short_y, FrameOptions::keyframe(false), |b| out
                .extend_from_slice(b)),
            Err(Error::PlaneTooSmall { plane: "Y", .. })
        ));
        assert!(matches!(
            enc.encode(&short_v, FrameOptions::keyframe(false), |b| out
                .extend_from_slice(b)),
            Err(Error::PlaneTooSmall { plane: "V", .. })
        ));
        assert!(matches!(
            enc.encode(&narrow, FrameOptions::keyframe(false), |b| out
                .extend_from_slice(b)),
            Err(Error::BadStride { plane: "Y", .. })
        ));
        assert!(matches!(
            enc.encode(&narrow_uv, FrameOptions::keyframe(false), |b| out
                .extend_from_slice(b)),
            Err(Error::BadStride { plane: "U", .. })
        ));
        assert!(matches!(
            enc.encode(&wide, FrameOptions::keyframe(false), |b| out
                .extend_from_slice(b)),
            Err(Error::PlaneTooSmall { plane: "Y", .. })
        ));
        assert!(out.is_empty());
        // Refused pictures leave the encoder usable; its first frame is still the IDR.
        let info = enc
            .encode(&img.picture(0), FrameOptions::keyframe(false), |b| {
                out.extend_from_slice(b)
            })
            .expect("encode");
        assert!(info.is_some_and(|f| f.keyframe));
    }

    #[test]
    fn padded_strides_are_accepted() {
        let (w, h, sy, suv) = (320usize, 240usize, 384usize, 192usize);
        let y = vec![100u8; sy * h];
        let u = vec![90u8; suv * h / 2];
        let v = vec![160u8; suv * h / 2];
        let mut enc = Encoder::open(&params(w as u32, h as u32)).expect("open");
        let pic = Picture {
            y: &y,
            u: &u,
            v: &v,
            stride_y: sy,
            stride_uv: suv,
            pts: 0,
        };
        let mut out = Vec::new();
        assert!(enc
            .encode(&pic, FrameOptions::keyframe(false), |b| out
                .extend_from_slice(b))
            .expect("encode")
            .is_some());
    }

    #[test]
    fn profiles_are_signalled_in_the_sps() {
        for (profile, idc) in [
            (Profile::ConstrainedBaseline, 66),
            (Profile::Main, 77),
            (Profile::High, 100),
        ] {
            let mut enc = Encoder::open(&Params {
                profile,
                ..params(320, 240)
            })
            .expect("open");
            let frames = encode_frames(&mut enc, 1, &[], |t| I420::moving(320, 240, t), 0);
            let sps = nal_units(&frames[0].1)
                .into_iter()
                .find(|n| n.first().is_some_and(|b| b & 0x1f == 7))
                .expect("SPS");
            assert_eq!(sps[1], idc, "{profile:?}");
            if profile == Profile::ConstrainedBaseline {
                // constraint_set1_flag: what makes Baseline "Constrained" (42e0xx).
                assert_ne!(sps[2] & 0x40, 0, "constraint flags {:#x}", sps[2]);
            }
        }
    }

    #[test]
    fn intra_refresh_still_honours_forced_idr() {
        let mut enc = Encoder::open(&Params {
            intra_refresh: true,
            fps: 10,
            ..params(320, 240)
        })
        .expect("open");
        let frames = encode_frames(&mut enc, 25, &[15], |t| I420::moving(320, 240, t), 0);
        let keys: Vec<usize> = (0..frames.len())
            .filter(|&i| frames[i].0.keyframe)
            .collect();
        assert_eq!(keys, vec![0, 15]);
        assert!(is_idr_with_headers(&frames[15].1));
    }

    /// Runs a tool, or `None` when it is not installed (the test then skips).
    fn run(tool: &str, args: &[&std::ffi::OsStr]) -> Option<std::process::Output> {
        std::process::Command::new(tool).args(args).output().ok()
    }

    #[test]
    fn ffmpeg_decodes_the_stream_without_b_frames() {
        use std::ffi::OsStr;
        for profile in [Profile::ConstrainedBaseline, Profile::Main, Profile::High] {
            let mut enc = Encoder::open(&Params {
                profile,
                ..params(320, 240)
            })
            .expect("open");
            let frames = encode_frames(&mut enc, 60, &[30], |t| I420::moving(320, 240, t), 0);
            let stream: Vec<u8> = frames.iter().flat_map(|(_, b)| b.iter().copied()).collect();
            let path = std::env::temp_dir().join(format!(
                "selkies-x264-{}-{profile:?}.h264",
                std::process::id()
            ));
            std::fs::write(&path, &stream).expect("write temp file");
            let file = path.as_os_str();

            let decode = run(
                "ffmpeg",
                &[
                    OsStr::new("-v"),
                    OsStr::new("error"),
                    OsStr::new("-i"),
                    file,
                    OsStr::new("-f"),
                    OsStr::new("null"),
                    OsStr::new("-"),
                ],
            );
            let probe = |entries: &str| {
                run(
                    "ffprobe",
                    &[
                        OsStr::new("-v"),
                        OsStr::new("error"),
                        OsStr::new("-show_entries"),
                        OsStr::new(entries),
                        OsStr::new("-of"),
                        OsStr::new("default=noprint_wrappers=1"),
                        file,
                    ],
                )
            };
            let frame_probe = probe("frame=key_frame,pict_type");
            let stream_probe =
                probe("stream=profile,color_range,color_space,color_primaries,color_transfer");
            let _ = std::fs::remove_file(&path);

            let (Some(decode), Some(frame_probe), Some(stream_probe)) =
                (decode, frame_probe, stream_probe)
            else {
                eprintln!("ffmpeg/ffprobe not installed: decoder check skipped");
                return;
            };
            let stderr = String::from_utf8_lossy(&decode.stderr);
            assert!(
                decode.status.success() && stderr.trim().is_empty(),
                "{profile:?}: {stderr}"
            );

            assert!(frame_probe.status.success());
            let text = String::from_utf8_lossy(&frame_probe.stdout);
            let types: Vec<&str> = text
                .lines()
                .filter_map(|l| l.strip_prefix("pict_type="))
                .collect();
            assert_eq!(types.len(), 60, "{profile:?}: {text}");
            assert!(!types.contains(&"B"), "{profile:?}: {types:?}");
            let keys: Vec<usize> = text
                .lines()
                .filter_map(|l| l.strip_prefix("key_frame="))
                .enumerate()
                .filter(|(_, k)| *k == "1")
                .map(|(i, _)| i)
                .collect();
            assert_eq!(keys, vec![0, 30], "{profile:?}");

            let info = String::from_utf8_lossy(&stream_probe.stdout);
            let expected_profile = match profile {
                Profile::ConstrainedBaseline => "profile=Constrained Baseline",
                Profile::Main => "profile=Main",
                Profile::High => "profile=High",
            };
            for line in [
                expected_profile,
                "color_range=tv",
                "color_space=smpte170m",
                "color_primaries=bt709",
                "color_transfer=iec61966-2-1",
            ] {
                assert!(
                    info.lines().any(|l| l == line),
                    "{line} missing from {info}"
                );
            }
        }
    }
}
