//! The one audio capture and encode every viewer shares: started by the first listener, stopped
//! a moment after the last one leaves (so a still, silent server records nothing).

use super::capture::PulseCapture;
use super::encoder::{OpusEncoder, MAX_PACKET};
use super::{AudioConfig, AudioError, CHANNELS, FRAME_BYTES, FRAME_SAMPLES};
use bytes::{Bytes, BytesMut};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// How long the worker keeps recording with nobody listening: a viewer who reconnects at once
/// hears sound without PulseAudio's stream setup.
const IDLE_EXIT: Duration = Duration::from_secs(2);

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct AudioStats {
    pub packets: AtomicU64,
    pub bytes: AtomicU64,
}

/// What the hub and its worker thread share.
#[derive(Debug)]
struct Shared {
    config: AudioConfig,
    /// 10 ms Opus packets.
    tx: broadcast::Sender<Bytes>,
    /// Whether a worker runs; changed only under this lock, together with subscribing, so a
    /// listener never joins a worker that has decided to stop.
    running: Mutex<bool>,
    stop: AtomicBool,
    stats: AudioStats,
}

/// Shared by every viewer's peer connection.
#[derive(Debug)]
pub struct AudioHub {
    shared: Arc<Shared>,
}

impl AudioHub {
    /// Checks that PulseAudio can be recorded and Opus opened with `config`, so the log tells at
    /// start whether viewers will hear anything. Records nothing until someone listens.
    ///
    /// # Errors
    /// [`AudioError`] naming what is missing.
    pub fn start(config: AudioConfig) -> Result<Self, AudioError> {
        drop(PulseCapture::open(config.device.as_deref())?);
        drop(OpusEncoder::new(config.bitrate_bps)?);
        // A second of packets: a listener further behind skips ahead.
        let (tx, _) = broadcast::channel(100);
        Ok(Self {
            shared: Arc::new(Shared {
                config,
                tx,
                running: Mutex::new(false),
                stop: AtomicBool::new(false),
                stats: AudioStats::default(),
            }),
        })
    }

    /// The packets from now on; starts the worker if none runs.
    pub fn subscribe(&self) -> broadcast::Receiver<Bytes> {
        let mut running = match self.shared.running.lock() {
            Ok(r) => r,
            Err(poisoned) => poisoned.into_inner(),
        };
        let rx = self.shared.tx.subscribe();
        if !*running {
            let shared = Arc::clone(&self.shared);
            match std::thread::Builder::new()
                .name("audio".into())
                .spawn(move || shared.run())
            {
                Ok(_) => *running = true,
                Err(e) => tracing::error!(error = %e, "cannot start the audio thread"),
            }
        }
        rx
    }

    pub fn stats(&self) -> &AudioStats {
        &self.shared.stats
    }
}

impl Drop for AudioHub {
    fn drop(&mut self) {
        // The worker sees it after its current 10 ms read.
        self.shared.stop.store(true, Ordering::Relaxed);
    }
}

impl Shared {
    /// The worker thread.
    fn run(&self) {
        match self.record() {
            Ok(()) => tracing::info!("audio stopped: nobody listens"),
            Err(e) => tracing::warn!(error = %e, "audio stopped"),
        }
        if let Ok(mut running) = self.running.lock() {
            *running = false;
        }
    }

    /// Whether to stop: asked to, or nobody has listened for [`IDLE_EXIT`]. Decided under the
    /// lock [`AudioHub::subscribe`] takes, so no listener is left without a worker.
    fn done(&self, idle_since: &mut Option<Instant>) -> bool {
        if self.stop.load(Ordering::Relaxed) {
            return true;
        }
        if self.tx.receiver_count() > 0 {
            *idle_since = None;
            return false;
        }
        let since = *idle_since.get_or_insert_with(Instant::now);
        if since.elapsed() < IDLE_EXIT {
            return false;
        }
        match self.running.lock() {
            Ok(mut running) if self.tx.receiver_count() == 0 => {
                *running = false;
                true
            }
            _ => false,
        }
    }

    fn record(&self) -> Result<(), AudioError> {
        let mut capture = PulseCapture::open(self.config.device.as_deref())?;
        let mut encoder = OpusEncoder::new(self.config.bitrate_bps)?;
        tracing::info!(kbps = self.config.bitrate_bps / 1000, "audio started");
        let mut bytes = [0u8; FRAME_BYTES];
        let mut pcm = [0i16; FRAME_SAMPLES * CHANNELS];
        // Packets are split off this buffer; its memory is reused once every viewer has sent
        // them, so steady state allocates only when the buffer runs dry.
        let mut out = BytesMut::new();
        let mut idle_since = None;
        while !self.done(&mut idle_since) {
            capture.read(&mut bytes)?;
            if self.tx.receiver_count() == 0 {
                continue;
            }
            for (sample, le) in pcm.iter_mut().zip(bytes.chunks_exact(2)) {
                *sample = i16::from_le_bytes([le[0], le[1]]);
            }
            if out.capacity() < MAX_PACKET {
                out.reserve(MAX_PACKET * 32);
            }
            out.resize(MAX_PACKET, 0);
            let n = encoder.encode(&pcm, &mut out)?;
            out.truncate(n);
            self.stats.packets.fetch_add(1, Ordering::Relaxed);
            self.stats.bytes.fetch_add(n as u64, Ordering::Relaxed);
            let _ = self.tx.send(out.split().freeze());
        }
        Ok(())
    }
}
