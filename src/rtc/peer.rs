//! One browser viewer: its peer connection, video and audio tracks, `input` data channel, and the
//! tasks that write the shared encoded frames and Opus packets onto its tracks.
//!
//! The server always offers (as Selkies does), listing every codec it can encode; the browser's
//! answer picks one ([`super::negotiate`]) and the viewer joins that codec's pipeline. Frames
//! start flowing once ICE/DTLS connect, with an IDR first; a viewer that falls behind skips to
//! the next IDR instead of decoding garbage.

use super::delay::DelayLine;
use super::pace;
use super::packetize::FramePacketizer;
use super::{
    channel, codec_parameters, configuration, interceptors, media_engine, negotiate, payload_type,
    rtp_codec, settings, RtcConfig, RtcError,
};
use crate::audio::AudioHub;
use crate::encode::Codec;
use crate::media::MediaHub;
use crate::pipeline::{Control, EncodedFrame, PipelineHandle};
use crate::viewer::{transport, Viewer};
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::transport::RTCIceCandidateInit;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;
use webrtc::data_channel::DataChannel;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCIceGatheringState,
    RTCPeerConnectionState,
};

/// What the answer settled for this viewer: the pipeline it watches and the payload type to send
/// its frames under.
#[derive(Clone)]
pub struct Negotiated {
    pub media: PipelineHandle,
    pub payload_type: u8,
    /// The answer's id for the playout-delay header extension, when the browser takes it.
    pub playout_delay_id: Option<u8>,
}

/// What the peer connection tells the signalling side.
#[derive(Debug, Clone, PartialEq)]
pub enum PeerEvent {
    /// A local ICE candidate to trickle to the browser.
    Candidate {
        candidate: String,
        sdp_mid: Option<String>,
        sdp_mline_index: Option<u16>,
    },
    /// Candidate gathering finished.
    GatheringComplete,
    Connected,
    /// Failed or closed: the session is over.
    Ended(String),
}

struct Handler {
    events: mpsc::UnboundedSender<PeerEvent>,
    /// Set once ICE and DTLS are up: the video and audio writers wait for it.
    connected: watch::Sender<bool>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_candidate(
        &self,
        event: rtc::peer_connection::event::RTCPeerConnectionIceEvent,
    ) {
        match event.candidate.to_json() {
            Ok(init) => {
                // Browsers expect the attribute form with its "candidate:" prefix.
                let candidate = if init.candidate.starts_with("candidate:") {
                    init.candidate
                } else {
                    format!("candidate:{}", init.candidate)
                };
                let _ = self.events.send(PeerEvent::Candidate {
                    candidate,
                    sdp_mid: init.sdp_mid,
                    sdp_mline_index: init.sdp_mline_index,
                });
            }
            Err(e) => tracing::debug!(error = %e, "unusable local candidate"),
        }
    }

    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.events.send(PeerEvent::GatheringComplete);
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        tracing::debug!(%state, "peer connection state");
        match state {
            RTCPeerConnectionState::Connected => {
                self.connected.send_replace(true);
                let _ = self.events.send(PeerEvent::Connected);
            }
            RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed => {
                let _ = self.events.send(PeerEvent::Ended(state.to_string()));
            }
            _ => {}
        }
    }
}

/// A viewer's WebRTC session. Dropping it without [`Peer::close`] leaves tasks to end when the
/// connection does; call `close` for a prompt teardown.
pub struct Peer {
    pc: Arc<dyn PeerConnection>,
    events: mpsc::UnboundedReceiver<PeerEvent>,
    tasks: Vec<JoinHandle<()>>,
    hub: Arc<MediaHub>,
    negotiated: watch::Sender<Option<Negotiated>>,
    /// The answer's pipeline alone, for the viewer (which needs no RTP details).
    pipeline: watch::Sender<Option<PipelineHandle>>,
    /// The `input` data channel, until [`Peer::serve_channel`] hands it to its viewer.
    channel: Option<Arc<dyn DataChannel>>,
    /// The answer's payload type for Opus; stays `None` when it declined audio.
    audio_payload_type: watch::Sender<Option<u8>>,
}

impl Peer {
    /// Builds the connection with a video track for `media`'s codecs, an audio track when
    /// `audio` is given, and the data channel; returns it with the offer SDP.
    ///
    /// # Errors
    /// [`RtcError`] when webrtc-rs refuses the setup (e.g. no usable network interface).
    pub async fn offer(
        config: &RtcConfig,
        media: &Arc<MediaHub>,
        audio: Option<&Arc<AudioHub>>,
        peer_id: &str,
    ) -> Result<(Peer, String), RtcError> {
        let hub = Arc::clone(media);
        let codecs = hub.codecs().to_vec();
        let Some(&primary) = codecs.first() else {
            return Err(RtcError::NoCodec {
                offered: String::new(),
            });
        };
        let (events_tx, events) = mpsc::unbounded_channel();
        let (connected_tx, connected) = watch::channel(false);
        let handler = Arc::new(Handler {
            events: events_tx,
            connected: connected_tx,
        });
        let mut engine = media_engine(&codecs, audio.is_some())?;
        let registry = interceptors(&mut engine)?;
        let pc = PeerConnectionBuilder::new()
            .with_configuration(configuration(config))
            .with_media_engine(engine)
            .with_setting_engine(settings())
            .with_interceptor_registry(registry)
            .with_handler(handler)
            .with_udp_addrs(vec![std::net::SocketAddr::new(config.udp_addr, 0)])
            .build()
            .await
            .map_err(RtcError::from_any)?;
        let pc: Arc<dyn PeerConnection> = Arc::new(pc);

        let ssrc = rand::random::<u32>();
        // The track is declared with the first codec (so the interceptors bind its SSRC); what it
        // carries is packetized by us for whichever codec the answer picks.
        let track = local_track(
            format!("video-{peer_id}"),
            "desktop",
            RtpCodecKind::Video,
            ssrc,
            rtp_codec(primary),
        );
        pc.add_track(Arc::clone(&track) as Arc<dyn TrackLocal>)
            .await
            .map_err(RtcError::from_any)?;
        if codecs.len() > 1 {
            // A track's codec would otherwise be the only one offered.
            let preferences = codecs.iter().map(|&c| codec_parameters(c)).collect();
            if let Some(t) = pc.get_transceivers().await.last() {
                t.set_codec_preferences(preferences)
                    .await
                    .map_err(RtcError::from_any)?;
            }
        }
        let (audio_payload_type, audio_payload_type_rx) = watch::channel(None);
        let mut audio_tasks = Vec::new();
        if let Some(audio) = audio {
            let ssrc = rand::random::<u32>();
            let track = local_track(
                format!("audio-{peer_id}"),
                "desktop-audio",
                RtpCodecKind::Audio,
                ssrc,
                super::audio::opus_codec(),
            );
            pc.add_track(Arc::clone(&track) as Arc<dyn TrackLocal>)
                .await
                .map_err(RtcError::from_any)?;
            audio_tasks.push(tokio::spawn(super::audio::drain_rtcp(Arc::clone(&track))));
            audio_tasks.push(tokio::spawn(super::audio::write_audio(
                track,
                ssrc,
                Arc::clone(audio),
                connected.clone(),
                audio_payload_type_rx,
            )));
        }
        let init = rtc::data_channel::RTCDataChannelInit {
            ordered: true,
            ..Default::default()
        };
        let dc: Arc<dyn DataChannel> = pc
            .create_data_channel("input", Some(init))
            .await
            .map_err(RtcError::from_any)?;

        let offer = pc.create_offer(None).await.map_err(RtcError::from_any)?;
        let sdp = offer.sdp.clone();
        pc.set_local_description(offer)
            .await
            .map_err(RtcError::from_any)?;

        let (negotiated, negotiated_rx) = watch::channel(None);
        let mut tasks = vec![
            tokio::spawn(keyframe_requests(
                Arc::clone(&track),
                Arc::clone(hub.control()),
            )),
            tokio::spawn(write_video(
                track,
                ssrc,
                negotiated_rx,
                connected,
                DelayLine::new(config.inject_delay),
            )),
        ];
        tasks.extend(audio_tasks);
        Ok((
            Peer {
                pc,
                events,
                tasks,
                hub,
                negotiated,
                pipeline: watch::channel(None).0,
                channel: Some(dc),
                audio_payload_type,
            },
            sdp,
        ))
    }

    /// The pipeline this viewer watches, once the answer chose it.
    pub fn pipeline(&self) -> watch::Receiver<Option<PipelineHandle>> {
        self.pipeline.subscribe()
    }

    /// Runs `viewer` on this peer's data channel until it closes (or the peer does).
    pub fn serve_channel(&mut self, viewer: Viewer, peer_id: String) {
        let Some(dc) = self.channel.take() else {
            tracing::warn!(peer = %peer_id, "data channel already served");
            return;
        };
        self.tasks.push(tokio::spawn(async move {
            transport::serve(viewer, channel::Channel(dc), &peer_id).await;
        }));
    }

    /// Applies the browser's answer and joins the pipeline of the first codec in it that starts
    /// (a codec whose encoder fails falls back to the browser's next choice).
    ///
    /// # Errors
    /// [`RtcError`] when the SDP does not parse or does not match the offer, when the browser
    /// accepts none of the offered codecs, or when no pipeline starts for those it accepts.
    pub async fn apply_answer(&self, sdp: String) -> Result<Codec, RtcError> {
        let answer = RTCSessionDescription::answer(sdp.clone()).map_err(RtcError::from_any)?;
        self.pc
            .set_remote_description(answer)
            .await
            .map_err(RtcError::from_any)?;
        let offered: Vec<(u8, Codec)> = self
            .hub
            .codecs()
            .iter()
            .map(|&c| (payload_type(c), c))
            .collect();
        let accepted = negotiate::accepted(&sdp, &offered);
        if accepted.is_empty() {
            return Err(RtcError::NoCodec {
                offered: offered
                    .iter()
                    .map(|(_, c)| c.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let playout_delay_id = negotiate::extension_id(&sdp, super::PLAYOUT_DELAY_URI);
        self.audio_payload_type
            .send_replace(negotiate::audio_payload_type(&sdp));
        let mut failures = Vec::new();
        for (codec, payload_type) in accepted {
            let hub = Arc::clone(&self.hub);
            // Starting a pipeline opens X and an encoder: blocking work, off the runtime.
            let started = tokio::task::spawn_blocking(move || hub.pipeline(codec))
                .await
                .map_err(RtcError::from_any)?;
            match started {
                Ok(media) => {
                    tracing::info!(%codec, payload_type, encoder = %media.stats().encoder_name(), "codec negotiated");
                    self.pipeline.send_replace(Some(media.clone()));
                    self.negotiated.send_replace(Some(Negotiated {
                        media,
                        payload_type,
                        playout_delay_id,
                    }));
                    return Ok(codec);
                }
                Err(e) => {
                    tracing::warn!(%codec, error = %e, "no pipeline for the negotiated codec; trying the browser's next");
                    failures.push(format!("{codec}: {e}"));
                }
            }
        }
        Err(RtcError::Media(failures.join("; ")))
    }

    /// Adds a trickled remote candidate.
    ///
    /// # Errors
    /// [`RtcError`] when the candidate is malformed.
    pub async fn add_candidate(
        &self,
        candidate: String,
        sdp_mid: Option<String>,
        sdp_mline_index: Option<u16>,
    ) -> Result<(), RtcError> {
        let init = RTCIceCandidateInit {
            candidate,
            sdp_mid,
            sdp_mline_index,
            username_fragment: None,
            url: None,
        };
        self.pc
            .add_ice_candidate(init)
            .await
            .map_err(RtcError::from_any)
    }

    /// The next event, or `None` once the connection is gone.
    pub async fn next_event(&mut self) -> Option<PeerEvent> {
        self.events.recv().await
    }

    /// Closes the connection and stops its tasks.
    pub async fn close(self) {
        for t in &self.tasks {
            t.abort();
        }
        if let Err(e) = self.pc.close().await {
            tracing::debug!(error = %e, "closing peer connection");
        }
    }
}

/// A track of stream `selkies` whose RTP we write ourselves, on `ssrc`.
fn local_track(
    id: String,
    label: &str,
    kind: RtpCodecKind,
    ssrc: u32,
    codec: rtc::rtp_transceiver::rtp_sender::RTCRtpCodec,
) -> Arc<TrackLocalStaticRTP> {
    Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
        "selkies".to_owned(),
        id,
        label.to_owned(),
        kind,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(ssrc),
                ..Default::default()
            },
            codec,
            ..Default::default()
        }],
    )))
}

/// Turns the browser's PLI/FIR into an IDR request to the encoder.
async fn keyframe_requests(track: Arc<TrackLocalStaticRTP>, control: Arc<Control>) {
    while let Some(TrackLocalEvent::OnRtcpPacket(packets)) = track.poll().await {
        if packets
            .iter()
            .any(|p| super::keyframe::is_keyframe_request(p.as_ref()))
        {
            tracing::debug!("keyframe requested by the browser");
            control.request_keyframe();
        }
    }
}

async fn write_video(
    track: Arc<TrackLocalStaticRTP>,
    ssrc: u32,
    mut negotiated: watch::Receiver<Option<Negotiated>>,
    mut connected: watch::Receiver<bool>,
    mut delay: DelayLine,
) {
    if connected.wait_for(|c| *c).await.is_err() {
        return;
    }
    let chosen = match negotiated.wait_for(Option::is_some).await {
        Ok(chosen) => chosen.clone(),
        Err(_) => return,
    };
    let Some(Negotiated {
        media,
        payload_type,
        playout_delay_id,
    }) = chosen
    else {
        return;
    };
    let mut packetizer =
        match FramePacketizer::new(media.codec(), payload_type, ssrc, playout_delay_id) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(codec = %media.codec(), error = %e, "no RTP payloader");
                return;
            }
        };
    let mut frames = media.subscribe();
    // Until an IDR arrives, deltas would reference pictures this viewer never had.
    let mut need_keyframe = true;
    loop {
        let frame: EncodedFrame = match delay.next(&mut frames).await {
            Ok(f) => f,
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::debug!(skipped = n, "viewer lagged; waiting for an IDR");
                need_keyframe = true;
                media.control().request_keyframe();
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        if need_keyframe && !frame.keyframe {
            continue;
        }
        need_keyframe = false;
        let packets = match packetizer.packetize(&frame) {
            Ok(p) => p,
            Err(e) => {
                // One bad access unit (an encoder bug) costs that frame, not the viewer.
                tracing::warn!(error = %e, bytes = frame.data.len(), "frame not packetized");
                need_keyframe = true;
                media.control().request_keyframe();
                continue;
            }
        };
        let plan = pace::plan(
            frame.data.len(),
            packets.len(),
            media.control().bitrate_kbps(),
            media.control().fps(),
        );
        let started = tokio::time::Instant::now();
        for (i, packet) in packets.into_iter().enumerate() {
            if i > 0 && i % plan.group == 0 {
                let due = started + plan.gap * (i / plan.group) as u32;
                tokio::time::sleep_until(due).await;
            }
            if let Err(e) = track.write_rtp(packet).await {
                tracing::debug!(error = %e, "video write failed; viewer gone");
                return;
            }
        }
    }
}
