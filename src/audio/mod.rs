//! Desktop sound: what PulseAudio plays to its default sink, read back from that sink's monitor,
//! encoded as Opus in 10 ms frames, and sent on an audio track beside the video. One capture and
//! one encode serve every viewer; nothing runs while nobody listens.
//!
//! Selkies does the same with `pulsesrc ! opusenc frame-size=10 audio-type=restricted-lowdelay`
//! (CBR, 128 kb/s stereo by default); so do we, without GStreamer.

pub mod capture;
pub mod encoder;
pub mod hub;

pub use hub::AudioHub;

/// Opus' native rate, which browsers expect.
pub const SAMPLE_RATE: u32 = 48_000;
pub const CHANNELS: usize = 2;
/// Samples per channel in one 10 ms Opus frame: short, as Selkies uses, so a packet waits at
/// most 10 ms for its samples.
pub const FRAME_SAMPLES: usize = 480;
/// Bytes of interleaved signed 16-bit PCM in one frame.
pub const FRAME_BYTES: usize = FRAME_SAMPLES * CHANNELS * 2;

/// Audio settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioConfig {
    /// Opus bitrate in bits per second (Selkies' `audio_bitrate`).
    pub bitrate_bps: u32,
    /// The PulseAudio source to record; `None` is the default sink's monitor.
    pub device: Option<String>,
}

/// Why there is no sound.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum AudioError {
    #[error("PulseAudio: {0}")]
    Pulse(String),
    #[error("Opus: {0}")]
    Opus(String),
}
