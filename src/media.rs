//! The server's video: one shared [`Control`] and one pipeline per codec that viewers
//! negotiated, started on first use.
//!
//! Most sessions use one codec, so one pipeline; a second codec (a browser that accepts only VP8
//! while others take H.264) costs a second capture and encode, not a transcode.

use crate::encode::{self, Codec, CodecChoice, EncoderConfig, EncoderKind, EncoderSettings};
use crate::pipeline::{Control, Pipeline, PipelineConfig, PipelineError, PipelineHandle};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Every pipeline of the server, by codec.
pub struct MediaHub {
    base: PipelineConfig,
    control: Arc<Control>,
    /// Codecs an encoder opened for at start, in the order offered to browsers.
    codecs: Vec<Codec>,
    pipelines: Mutex<HashMap<Codec, Pipeline>>,
}

impl MediaHub {
    /// Finds which codecs can be encoded here (all of them, or only `choice`), and starts the
    /// pipeline of the first so that a display or encoder problem shows at start.
    ///
    /// # Errors
    /// [`PipelineError`] when no codec can be encoded, or the display cannot be captured.
    pub fn start(base: PipelineConfig, choice: CodecChoice) -> Result<Self, PipelineError> {
        let control = Arc::new(Control::new(
            base.encoder.clone(),
            base.bitrate_kbps,
            base.fps,
        ));
        let wanted: Vec<Codec> = match choice {
            CodecChoice::Auto => Codec::PREFERENCE.to_vec(),
            CodecChoice::Only(c) => vec![c],
        };
        let mut codecs = Vec::new();
        let mut last_error = None;
        for codec in wanted {
            match probe(&base.encoder, codec) {
                Ok(name) => {
                    tracing::info!(%codec, encoder = name, "codec available");
                    codecs.push(codec);
                }
                Err(e) => {
                    tracing::info!(%codec, reason = %e, "codec unavailable");
                    last_error = Some(e);
                }
            }
        }
        let Some(&first) = codecs.first() else {
            return Err(PipelineError::Encode(last_error.unwrap_or(
                encode::EncodeError::Unavailable {
                    codec: Codec::H264,
                    reasons: "no codec".into(),
                },
            )));
        };
        let hub = Self {
            base,
            control,
            codecs,
            pipelines: Mutex::new(HashMap::new()),
        };
        hub.pipeline(first)?;
        Ok(hub)
    }

    /// The codecs to offer, best first.
    pub fn codecs(&self) -> &[Codec] {
        &self.codecs
    }

    /// Bitrate, fps, encoder choice and keyframe requests, shared by every pipeline.
    pub fn control(&self) -> &Arc<Control> {
        &self.control
    }

    /// The pipeline for `codec`, started if none runs (or the last one stopped).
    ///
    /// # Errors
    /// [`PipelineError`] when it cannot start.
    pub fn pipeline(&self, codec: Codec) -> Result<PipelineHandle, PipelineError> {
        let mut pipelines = self.pipelines.lock().map_err(|_| PipelineError::Poisoned)?;
        if let Some(p) = pipelines.get(&codec).filter(|p| p.is_running()) {
            return Ok(p.handle());
        }
        let config = PipelineConfig {
            codec,
            ..self.base.clone()
        };
        let pipeline = Pipeline::start_with(config, Arc::clone(&self.control))?;
        let handle = pipeline.handle();
        pipelines.insert(codec, pipeline);
        Ok(handle)
    }

    /// The pipelines running now, one per codec in use.
    pub fn running(&self) -> Vec<PipelineHandle> {
        self.pipelines
            .lock()
            .map(|p| {
                p.values()
                    .filter(|p| p.is_running())
                    .map(Pipeline::handle)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether the first pipeline still runs (it stops when the X server goes away).
    pub fn is_running(&self) -> bool {
        self.pipelines
            .lock()
            .is_ok_and(|p| p.values().any(Pipeline::is_running))
    }

    /// Switches every pipeline to `kind`.
    pub fn set_encoder(&self, kind: EncoderKind) {
        self.control.set_encoder(kind);
    }
}

/// Opens a small encoder for `codec` to learn whether one works here, and which.
fn probe(settings: &EncoderSettings, codec: Codec) -> Result<String, encode::EncodeError> {
    let config = EncoderConfig::PROBE;
    encode::open(settings, codec, config).map(|e| e.name().to_owned())
}
