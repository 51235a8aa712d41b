//! One browser viewer: its peer connection, H.264 track, `input` data channel, and the task that
//! writes the shared encoded frames onto its track.
//!
//! The server always offers (as Selkies does). Frames start flowing once ICE/DTLS connect, with
//! an IDR first; a viewer that falls behind skips to the next IDR instead of decoding garbage.

use super::{channel, configuration, interceptors, media_engine, settings, RtcConfig, RtcError};
use crate::input::service::Role;
use crate::pipeline::{EncodedFrame, PipelineHandle};
use crate::services::Services;
use rtc::media::Sample;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::transport::RTCIceCandidateInit;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{broadcast, mpsc, Notify};
use tokio::task::JoinHandle;
use webrtc::data_channel::DataChannel;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCIceGatheringState,
    RTCPeerConnectionState,
};
use webrtc::rtp_transceiver::RtpSender;

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
    connected: Arc<Notify>,
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
                self.connected.notify_one();
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
}

impl Peer {
    /// Builds the connection with its track and data channel, and returns it with the offer SDP.
    ///
    /// # Errors
    /// [`RtcError`] when webrtc-rs refuses the setup (e.g. no usable network interface).
    pub async fn offer(
        config: &RtcConfig,
        services: &Services,
        role: Role,
        peer_id: &str,
    ) -> Result<(Peer, String), RtcError> {
        let media = services.media.clone();
        let (events_tx, events) = mpsc::unbounded_channel();
        let connected = Arc::new(Notify::new());
        let handler = Arc::new(Handler {
            events: events_tx,
            connected: Arc::clone(&connected),
        });
        let mut engine = media_engine()?;
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
        let track = Arc::new(
            TrackLocalStaticSample::new(
                Instant::now(),
                MediaStreamTrack::new(
                    "selkies".to_owned(),
                    format!("video-{peer_id}"),
                    "desktop".to_owned(),
                    RtpCodecKind::Video,
                    vec![RTCRtpEncodingParameters {
                        rtp_coding_parameters: RTCRtpCodingParameters {
                            ssrc: Some(ssrc),
                            ..Default::default()
                        },
                        codec: super::h264_codec(),
                        ..Default::default()
                    }],
                ),
            )
            .map_err(RtcError::from_any)?,
        );
        let sender = pc
            .add_track(Arc::clone(&track) as Arc<dyn TrackLocal>)
            .await
            .map_err(RtcError::from_any)?;
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

        let tasks = vec![
            tokio::spawn(keyframe_requests(Arc::clone(&track), media.clone())),
            tokio::spawn(write_video(track, sender, ssrc, media.clone(), connected)),
            tokio::spawn(channel::serve(
                dc,
                services.clone(),
                role,
                peer_id.to_owned(),
            )),
        ];
        Ok((Peer { pc, events, tasks }, sdp))
    }

    /// Applies the browser's answer.
    ///
    /// # Errors
    /// [`RtcError`] when the SDP does not parse or does not match the offer.
    pub async fn apply_answer(&self, sdp: String) -> Result<(), RtcError> {
        let answer = RTCSessionDescription::answer(sdp).map_err(RtcError::from_any)?;
        self.pc
            .set_remote_description(answer)
            .await
            .map_err(RtcError::from_any)
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

/// Turns the browser's PLI/FIR into an IDR request to the encoder.
async fn keyframe_requests(track: Arc<TrackLocalStaticSample>, media: PipelineHandle) {
    while let Some(TrackLocalEvent::OnRtcpPacket(packets)) = track.poll().await {
        if packets
            .iter()
            .any(|p| super::keyframe::is_keyframe_request(p.as_ref()))
        {
            tracing::debug!("keyframe requested by the browser");
            media.control().request_keyframe();
        }
    }
}

async fn write_video(
    track: Arc<TrackLocalStaticSample>,
    sender: Arc<dyn RtpSender>,
    ssrc: u32,
    media: PipelineHandle,
    connected: Arc<Notify>,
) {
    connected.notified().await;
    let payload_type = match sender.get_parameters().await {
        Ok(p) => match p.rtp_parameters.codecs.first() {
            Some(c) => c.payload_type,
            None => {
                tracing::warn!("{}", RtcError::NoCodec);
                return;
            }
        },
        Err(e) => {
            tracing::warn!(error = %e, "sender parameters unavailable");
            return;
        }
    };
    let mut frames = media.subscribe();
    // Until an IDR arrives, deltas would reference pictures this viewer never had.
    let mut need_keyframe = true;
    loop {
        let frame: EncodedFrame = match frames.recv().await {
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
        let sample = Sample {
            data: frame.data,
            duration: frame.duration,
            ..Sample::new(frame.captured_at)
        };
        if let Err(e) = track
            .sample_writer(ssrc, payload_type)
            .write_sample(&sample)
            .await
        {
            tracing::debug!(error = %e, "video write failed; viewer gone");
            return;
        }
    }
}
