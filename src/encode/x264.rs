//! The libx264 backend, over our own bindings in `ffi/x264`.
//!
//! Low-latency settings (ultrafast, zerolatency, no B-frames, infinite GOP, headers on every
//! IDR) are applied by the binding; this file adapts it to the [`Encoder`] trait and, by
//! default, drives x264 at a constant QP chosen frame by frame by [`RateControl`] instead of
//! x264's own CBR (VBV of about 1.5 frame times), which stays selectable.

use super::rate::{RateControl, QP_MAX};
use super::{
    Capabilities, Codec, EncodeError, Encoded, Encoder, EncoderConfig, EncoderKind,
    RateControlChoice,
};
use crate::area::Area;
use crate::convert::I420;
use bytes::BytesMut;
use selkies_x264 as sys;

const NAME: &str = "x264";

/// Frames' worth of bits that may queue ahead of the link (x264's VBV size under CBR).
const BUFFER_FRAMES: f32 = 1.5;

pub struct X264Encoder {
    inner: sys::Encoder,
    config: EncoderConfig,
    pts: i64,
    /// The changed area promised for the next picture ([`Encoder::hint_changed`]).
    hint: Option<Area>,
    /// One flag per macroblock for x264, rebuilt from the hint (kept to avoid an allocation).
    unchanged: Vec<u8>,
    /// `None` when x264's own CBR picks the QPs.
    rate: Option<RateControl>,
}

impl X264Encoder {
    /// # Errors
    /// [`EncodeError::Open`] when libx264 rejects the parameters.
    pub fn open(
        config: EncoderConfig,
        intra_refresh: bool,
        rate_control: RateControlChoice,
    ) -> Result<Self, EncodeError> {
        let ours = rate_control == RateControlChoice::Selkies;
        let params = sys::Params {
            width: config.width,
            height: config.height,
            fps: config.fps,
            bitrate_kbps: config.bitrate_kbps,
            vbv_frames: BUFFER_FRAMES,
            threads: config.threads,
            profile: sys::Profile::ConstrainedBaseline,
            intra_refresh,
            // Any frame the rate control does not plan (none should) is coded coarse.
            constant_qp: ours.then_some(QP_MAX),
        };
        let inner = sys::Encoder::open(&params).map_err(|e| EncodeError::Open {
            backend: NAME,
            reason: e.to_string(),
        })?;
        let (mbw, mbh) = inner.macroblocks();
        let rate = ours.then(|| {
            RateControl::new(
                config.bitrate_kbps,
                config.fps,
                f64::from(BUFFER_FRAMES),
                mbw * mbh,
            )
        });
        Ok(Self {
            inner,
            config,
            pts: 0,
            hint: None,
            unchanged: vec![0; mbw * mbh],
            rate,
        })
    }
}

impl Encoder for X264Encoder {
    fn name(&self) -> &str {
        if self.rate.is_some() {
            NAME
        } else {
            "x264-cbr"
        }
    }

    fn kind(&self) -> EncoderKind {
        EncoderKind::X264
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            hardware: false,
            live_retune: true,
            refresh_qp: true,
        }
    }

    fn codec(&self) -> Codec {
        Codec::H264
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
        self.encode_at(picture, force_keyframe, None, out)
    }

    fn encode_refresh(
        &mut self,
        picture: &I420,
        qp: u8,
        out: &mut BytesMut,
    ) -> Result<Option<Encoded>, EncodeError> {
        self.encode_at(picture, false, Some(qp), out)
    }

    fn hint_changed(&mut self, changed: Option<&Area>) {
        self.hint = changed.cloned();
    }

    fn reconfigure(&mut self, bitrate_kbps: u32, fps: u32) -> Result<(), EncodeError> {
        self.inner
            .reconfigure(bitrate_kbps, fps)
            .map_err(|e| EncodeError::Reconfigure {
                backend: NAME,
                reason: e.to_string(),
            })?;
        if let Some(rate) = &mut self.rate {
            rate.set_rate(bitrate_kbps, fps);
        }
        self.config.bitrate_kbps = bitrate_kbps;
        self.config.fps = fps;
        Ok(())
    }
}

impl X264Encoder {
    fn encode_at(
        &mut self,
        picture: &I420,
        force_keyframe: bool,
        qp: Option<u8>,
        out: &mut BytesMut,
    ) -> Result<Option<Encoded>, EncodeError> {
        let mut pic = sys::Picture {
            y: &picture.y,
            u: &picture.u,
            v: &picture.v,
            stride_y: picture.stride_y(),
            stride_uv: picture.stride_uv(),
            pts: self.pts,
        };
        self.pts += 1;
        let unchanged = match self.hint.take() {
            Some(changed) => {
                mark_unchanged(&mut self.unchanged, self.inner.macroblocks().0, &changed);
                Some(&self.unchanged[..])
            }
            None => None,
        };
        let mut plan = self.rate.as_ref().map(|rate| match qp {
            Some(wanted) => rate.plan_refresh(wanted),
            None => rate.plan(unchanged, force_keyframe),
        });
        let start = out.len();
        let mut force = force_keyframe;
        loop {
            let info = self
                .inner
                .encode(
                    &pic,
                    sys::FrameOptions {
                        force_idr: force,
                        qp: plan.map_or(qp, |p| Some(p.qp)),
                        unchanged,
                    },
                    |bytes| out.extend_from_slice(bytes),
                )
                .map_err(|e| EncodeError::Encode {
                    backend: NAME,
                    reason: e.to_string(),
                })?;
            let (Some(rate), Some(done), Some(frame)) = (&mut self.rate, &plan, &info) else {
                return Ok(info.map(|info| Encoded {
                    keyframe: info.keyframe,
                }));
            };
            if let Some(again) = rate.retry(done, frame.bytes, frame.keyframe) {
                // Far too large a keyframe: nothing refers to it yet, so it is dropped and the
                // same picture coded again as a keyframe, coarser.
                tracing::debug!(
                    qp = done.qp,
                    bytes = frame.bytes,
                    retry_qp = again.qp,
                    "keyframe over budget; encoding it again"
                );
                out.truncate(start);
                force = true;
                // x264 wants each picture it is given to carry a later timestamp.
                pic.pts = self.pts;
                self.pts += 1;
                plan = Some(again);
                continue;
            }
            rate.record(done, unchanged, frame.bytes, frame.keyframe);
            return Ok(Some(Encoded {
                keyframe: frame.keyframe,
            }));
        }
    }
}

/// Sets `flags` (one per 16x16 macroblock, `mb_cols` a row) to 1 outside `changed` and to 0 on
/// every macroblock it touches.
fn mark_unchanged(flags: &mut [u8], mb_cols: usize, changed: &Area) {
    flags.fill(1);
    if changed.is_empty() {
        return;
    }
    let cols = changed.x.start as usize / 16..(changed.x.end as usize).div_ceil(16);
    let rows = changed.y.start as usize / 16..(changed.y.end as usize).div_ceil(16);
    for row in flags
        .chunks_exact_mut(mb_cols)
        .take(rows.end)
        .skip(rows.start)
    {
        let end = cols.end.min(row.len());
        if let Some(touched) = row.get_mut(cols.start.min(end)..end) {
            touched.fill(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_control_asks_only_for_qps_x264_codes() {
        assert_eq!(
            super::super::rate::QP_MIN..=QP_MAX,
            sys::CQP_RANGE,
            "x264 would clip the rate control's QPs"
        );
    }

    #[test]
    fn only_macroblocks_the_change_touches_are_analysed() {
        // 4x3 macroblocks; a change from pixel (17,0) to (33,20) touches columns 1–2, rows 0–1.
        let mut flags = vec![9; 12];
        mark_unchanged(
            &mut flags,
            4,
            &Area {
                x: 17..33,
                y: 0..20,
            },
        );
        assert_eq!(flags, [1, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1]);
        mark_unchanged(&mut flags, 4, &Area::EMPTY);
        assert_eq!(flags, [1; 12]);
        mark_unchanged(
            &mut flags,
            4,
            &Area {
                x: 0..5000,
                y: 40..5000,
            },
        );
        assert_eq!(flags, [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0]);
    }
}
