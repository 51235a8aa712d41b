//! The libx264 backend, over our own bindings in `ffi/x264`.
//!
//! Low-latency settings (ultrafast, zerolatency, no B-frames, infinite GOP, CBR with a VBV of
//! about 1.5 frame times, headers on every IDR) are applied by the binding; this file adapts it
//! to the [`Encoder`] trait.

use super::{Capabilities, Codec, EncodeError, Encoded, Encoder, EncoderConfig, EncoderKind};
use crate::area::Area;
use crate::convert::I420;
use bytes::BytesMut;
use selkies_x264 as sys;

const NAME: &str = "x264";

pub struct X264Encoder {
    inner: sys::Encoder,
    config: EncoderConfig,
    pts: i64,
    /// The changed area promised for the next picture ([`Encoder::hint_changed`]).
    hint: Option<Area>,
    /// One flag per macroblock for x264, rebuilt from the hint (kept to avoid an allocation).
    unchanged: Vec<u8>,
}

impl X264Encoder {
    /// # Errors
    /// [`EncodeError::Open`] when libx264 rejects the parameters.
    pub fn open(config: EncoderConfig, intra_refresh: bool) -> Result<Self, EncodeError> {
        let params = sys::Params {
            width: config.width,
            height: config.height,
            fps: config.fps,
            bitrate_kbps: config.bitrate_kbps,
            vbv_frames: 1.5,
            threads: config.threads,
            profile: sys::Profile::ConstrainedBaseline,
            intra_refresh,
        };
        let inner = sys::Encoder::open(&params).map_err(|e| EncodeError::Open {
            backend: NAME,
            reason: e.to_string(),
        })?;
        let (mbw, mbh) = inner.macroblocks();
        Ok(Self {
            inner,
            config,
            pts: 0,
            hint: None,
            unchanged: vec![0; mbw * mbh],
        })
    }
}

impl Encoder for X264Encoder {
    fn name(&self) -> &str {
        NAME
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
        let pic = sys::Picture {
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
        let info = self
            .inner
            .encode_hinted(&pic, force_keyframe, qp, unchanged, |bytes| {
                out.extend_from_slice(bytes)
            })
            .map_err(|e| EncodeError::Encode {
                backend: NAME,
                reason: e.to_string(),
            })?;
        Ok(info.map(|info| Encoded {
            keyframe: info.keyframe,
        }))
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
