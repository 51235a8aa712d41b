//! The libx264 backend, over our own bindings in `ffi/x264`.
//!
//! Low-latency settings (ultrafast, zerolatency, no B-frames, infinite GOP, CBR with a VBV of
//! about 1.5 frame times, headers on every IDR) are applied by the binding; this file adapts it
//! to the [`Encoder`] trait.

use super::{Capabilities, Codec, EncodeError, Encoded, Encoder, EncoderConfig, EncoderKind};
use crate::convert::I420;
use bytes::BytesMut;
use selkies_x264 as sys;

const NAME: &str = "x264";

pub struct X264Encoder {
    inner: sys::Encoder,
    config: EncoderConfig,
    pts: i64,
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
        Ok(Self {
            inner,
            config,
            pts: 0,
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
        let info = self
            .inner
            .encode_into_at(&pic, force_keyframe, qp, |bytes| {
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
