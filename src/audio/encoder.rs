//! Opus for interactive use: the low-delay mode (Selkies' `restricted-lowdelay`), constant
//! bitrate, 10 ms frames.

use super::{AudioError, CHANNELS, FRAME_SAMPLES, SAMPLE_RATE};

/// The largest packet we let Opus write (RFC 6716 allows 1275 bytes per frame).
pub const MAX_PACKET: usize = 1500;

/// A stereo 48 kHz Opus encoder.
pub struct OpusEncoder {
    inner: opus::Encoder,
}

impl std::fmt::Debug for OpusEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusEncoder").finish_non_exhaustive()
    }
}

fn opus_error(what: &str, e: &opus::Error) -> AudioError {
    AudioError::Opus(format!("{what}: {e}"))
}

impl OpusEncoder {
    /// # Errors
    /// [`AudioError::Opus`] when libopus refuses the settings (a bitrate outside 6–510 kb/s).
    pub fn new(bitrate_bps: u32) -> Result<Self, AudioError> {
        let mut inner = opus::Encoder::new(
            SAMPLE_RATE,
            opus::Channels::Stereo,
            opus::Application::LowDelay,
        )
        .map_err(|e| opus_error("cannot create the encoder", &e))?;
        let bits = i32::try_from(bitrate_bps)
            .map_err(|_| AudioError::Opus(format!("bitrate {bitrate_bps} is too large")))?;
        inner
            .set_bitrate(opus::Bitrate::Bits(bits))
            .map_err(|e| opus_error("bitrate refused", &e))?;
        // Constant size per frame: no burst when the sound gets busy.
        inner
            .set_vbr(false)
            .map_err(|e| opus_error("CBR refused", &e))?;
        Ok(Self { inner })
    }

    /// Encodes one 10 ms frame of interleaved stereo samples into `out`, returning the packet's
    /// length.
    ///
    /// # Errors
    /// [`AudioError::Opus`] when `pcm` is not one frame or `out` is too small.
    pub fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<usize, AudioError> {
        if pcm.len() != FRAME_SAMPLES * CHANNELS {
            return Err(AudioError::Opus(format!(
                "{} samples is not one 10 ms stereo frame",
                pcm.len()
            )));
        }
        self.inner
            .encode(pcm, out)
            .map_err(|e| opus_error("encode failed", &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One 10 ms stereo frame of a sine at `hz`, starting at sample `start`.
    fn tone(hz: f64, start: usize) -> Vec<i16> {
        (start..start + FRAME_SAMPLES)
            .flat_map(|n| {
                let v = (2.0 * std::f64::consts::PI * hz * n as f64 / f64::from(SAMPLE_RATE)).sin()
                    * 12_000.0;
                [v as i16, v as i16]
            })
            .collect()
    }

    /// Zero crossings a second of the left channel: twice the frequency of a pure tone.
    fn frequency(pcm: &[i16]) -> f64 {
        let left: Vec<i16> = pcm.iter().step_by(2).copied().collect();
        let crossings = left.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
        crossings as f64 / 2.0 / (left.len() as f64 / f64::from(SAMPLE_RATE))
    }

    #[test]
    fn a_tone_comes_back_at_its_pitch_in_constant_size_packets() {
        let mut encoder = OpusEncoder::new(128_000).expect("encoder");
        let mut decoder = opus::Decoder::new(SAMPLE_RATE, opus::Channels::Stereo).expect("decoder");
        let mut sizes = Vec::new();
        let mut decoded = Vec::new();
        let mut out = [0u8; MAX_PACKET];
        for i in 0..50 {
            let n = encoder
                .encode(&tone(1000.0, i * FRAME_SAMPLES), &mut out)
                .expect("encodes");
            sizes.push(n);
            let mut pcm = vec![0i16; FRAME_SAMPLES * CHANNELS];
            let got = decoder.decode(&out[..n], &mut pcm, false).expect("decodes");
            assert_eq!(got, FRAME_SAMPLES);
            decoded.extend_from_slice(&pcm);
        }
        // 128 kb/s in 10 ms frames is 160 bytes a packet, every packet (CBR).
        assert!(sizes.iter().all(|&n| n == 160), "{sizes:?}");
        // Skip the codec's start-up; the rest is the tone.
        let hz = frequency(&decoded[10 * FRAME_SAMPLES * CHANNELS..]);
        assert!((hz - 1000.0).abs() < 20.0, "{hz} Hz");
    }

    #[test]
    fn a_frame_of_the_wrong_length_is_refused() {
        let mut encoder = OpusEncoder::new(64_000).expect("encoder");
        let mut out = [0u8; MAX_PACKET];
        assert!(encoder.encode(&[0; 100], &mut out).is_err());
        assert!(OpusEncoder::new(u32::MAX).is_err());
    }
}
