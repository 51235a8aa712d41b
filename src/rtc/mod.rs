//! WebRTC for one browser viewer: building the peer connection, the H.264 track and the data
//! channel, and feeding the track from the pipeline.
//!
//! Kept narrow (create / apply answer / add candidate / events / close) so that the signalling
//! code does not see webrtc-rs types and the stack could be swapped (str0m) behind it.

pub mod channel;
pub mod clipboard;
pub mod keyframe;
pub mod peer;

use rtc::interceptor::Registry;
use rtc::peer_connection::configuration::interceptor_registry::register_default_interceptors;
use rtc::peer_connection::configuration::media_engine::{MediaEngine, MIME_TYPE_H264};
use rtc::peer_connection::configuration::setting_engine::{SettingEngine, SettingEngineBuilder};
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::transport::RTCIceServer;
use rtc::rtp_transceiver::rtp_sender::{
    RTCPFeedback, RTCRtpCodec, RTCRtpCodecParameters, RtpCodecKind,
};
use std::net::IpAddr;

/// RTP payload type for H.264: Chromium's usual number, so munged or logged SDP reads familiar.
pub const H264_PAYLOAD_TYPE: u8 = 102;

/// What every peer connection is built with.
#[derive(Debug, Clone)]
pub struct RtcConfig {
    /// Local address for media sockets; unspecified = one socket per non-loopback interface.
    pub udp_addr: IpAddr,
    /// STUN/TURN servers the server side gathers candidates from.
    pub ice_servers: Vec<IceServer>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceServer {
    pub urls: Vec<String>,
    pub username: String,
    pub credential: String,
}

/// Why a peer connection could not be set up or driven.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RtcError {
    #[error("webrtc: {0}")]
    WebRtc(String),
    #[error("no H.264 codec was negotiated (the browser's answer has no compatible H.264)")]
    NoCodec,
}

impl RtcError {
    pub(crate) fn from_any(e: impl std::fmt::Display) -> Self {
        RtcError::WebRtc(e.to_string())
    }
}

/// The H.264 codec we send: Constrained Baseline level 3.1 in the SDP (the level is a decoder
/// capability hint; every browser accepts higher levels with `level-asymmetry-allowed`), both
/// packetization modes answered by mode 1, keyframe and loss feedback enabled.
pub fn h264_codec() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_H264.to_owned(),
        clock_rate: 90_000,
        channels: 0,
        sdp_fmtp_line: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
            .to_owned(),
        rtcp_feedback: vec![
            RTCPFeedback {
                typ: "nack".into(),
                parameter: String::new(),
            },
            RTCPFeedback {
                typ: "nack".into(),
                parameter: "pli".into(),
            },
            RTCPFeedback {
                typ: "ccm".into(),
                parameter: "fir".into(),
            },
        ],
    }
}

pub(crate) fn media_engine() -> Result<MediaEngine, RtcError> {
    let mut engine = MediaEngine::default();
    engine
        .register_codec(
            RTCRtpCodecParameters {
                rtp_codec: h264_codec(),
                payload_type: H264_PAYLOAD_TYPE,
            },
            RtpCodecKind::Video,
        )
        .map_err(RtcError::from_any)?;
    Ok(engine)
}

pub(crate) fn interceptors(engine: &mut MediaEngine) -> Result<Registry, RtcError> {
    let registry =
        register_default_interceptors(Registry::new(), engine).map_err(RtcError::from_any)?;
    Ok(registry.with(
        rtc::interceptor::Slot::from(keyframe::SLOT),
        keyframe::KeyframeRequests::default(),
    ))
}

pub(crate) fn settings() -> SettingEngine {
    // Sandboxes and containers often have no multicast: mDNS would fail ICE with ENODEV.
    SettingEngineBuilder::new()
        .with_multicast_dns_mode(rtc::ice::mdns::MulticastDnsMode::Disabled)
        .with_include_loopback_candidate(true)
        .build()
}

pub(crate) fn configuration(
    config: &RtcConfig,
) -> rtc::peer_connection::configuration::RTCConfiguration {
    let servers = config
        .ice_servers
        .iter()
        .map(|s| RTCIceServer {
            urls: s.urls.clone(),
            username: s.username.clone(),
            credential: s.credential.clone(),
        })
        .collect();
    RTCConfigurationBuilder::new()
        .with_ice_servers(servers)
        .build()
}
