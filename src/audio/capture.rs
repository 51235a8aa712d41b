//! Recording from PulseAudio (or PipeWire's Pulse server) through its simple API: 48 kHz stereo
//! s16le, delivered in 10 ms fragments so a frame is handed over as soon as it is complete.

use super::{AudioError, CHANNELS, FRAME_BYTES, SAMPLE_RATE};
use libpulse_binding::def::BufferAttr;
use libpulse_binding::sample::{Format, Spec};
use libpulse_binding::stream::Direction;
use libpulse_simple_binding::Simple;

/// The default sink's monitor: whatever the desktop is playing.
pub const DEFAULT_MONITOR: &str = "@DEFAULT_MONITOR@";

/// An open record stream.
pub struct PulseCapture {
    simple: Simple,
}

impl std::fmt::Debug for PulseCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PulseCapture").finish_non_exhaustive()
    }
}

fn pulse_error(what: &str, e: &libpulse_binding::error::PAErr) -> AudioError {
    AudioError::Pulse(format!("{what}: {e}"))
}

impl PulseCapture {
    /// Connects to the server in `$PULSE_SERVER` (else the session's) and records `device`
    /// (a source name; `None` for the default sink's monitor).
    ///
    /// # Errors
    /// [`AudioError::Pulse`] when no server answers or the source does not exist.
    pub fn open(device: Option<&str>) -> Result<Self, AudioError> {
        let spec = Spec {
            format: Format::S16le,
            channels: CHANNELS as u8,
            rate: SAMPLE_RATE,
        };
        // `u32::MAX` leaves a field to the server; `fragsize` is what bounds record latency.
        let attr = BufferAttr {
            maxlength: u32::MAX,
            tlength: u32::MAX,
            prebuf: u32::MAX,
            minreq: u32::MAX,
            fragsize: FRAME_BYTES as u32,
        };
        let simple = Simple::new(
            None,
            "selkies-rs",
            Direction::Record,
            Some(device.unwrap_or(DEFAULT_MONITOR)),
            "desktop audio",
            &spec,
            None,
            Some(&attr),
        )
        .map_err(|e| pulse_error("cannot record", &e))?;
        Ok(Self { simple })
    }

    /// Fills `pcm` (interleaved s16le bytes), blocking until the samples exist.
    ///
    /// # Errors
    /// [`AudioError::Pulse`] when the server goes away.
    pub fn read(&mut self, pcm: &mut [u8]) -> Result<(), AudioError> {
        self.simple
            .read(pcm)
            .map_err(|e| pulse_error("read failed", &e))
    }
}
