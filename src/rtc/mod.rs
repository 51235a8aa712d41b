//! WebRTC for one browser viewer: building the peer connection, the video track (in whichever codec
//! the browser's answer picks), the audio track (Opus, when the server has sound) and the data
//! channel, and feeding the tracks from the shared pipeline and audio hub.
//!
//! Kept narrow (create / apply answer / add candidate / events / close) so that the signalling
//! code does not see webrtc-rs types and the stack could be swapped (str0m) behind it.

pub mod audio;
pub mod channel;
pub mod delay;
pub mod keyframe;
pub mod negotiate;
pub mod pace;
pub mod packetize;
pub mod peer;

use crate::encode::Codec;
use rtc::interceptor::Registry;
use rtc::peer_connection::configuration::interceptor_registry::register_default_interceptors;
use rtc::peer_connection::configuration::media_engine::MediaEngine;
use rtc::peer_connection::configuration::setting_engine::{SettingEngine, SettingEngineBuilder};
use rtc::peer_connection::configuration::{RTCConfigurationBuilder, RTCIceTransportPolicy};
use rtc::peer_connection::transport::RTCIceServer;
use rtc::rtp_transceiver::rtp_sender::{
    RTCPFeedback, RTCRtpCodec, RTCRtpCodecParameters, RTCRtpHeaderExtensionCapability, RtpCodecKind,
};
use std::net::IpAddr;

/// The RTP payload type we offer each codec under (Chromium's usual numbers where it has one, so
/// logged SDP reads familiar).
pub fn payload_type(codec: Codec) -> u8 {
    match codec {
        Codec::Vp8 => 96,
        Codec::Vp9 => 98,
        Codec::H265 => 100,
        Codec::H264 => 102,
        Codec::Av1 => 104,
    }
}

/// What every peer connection is built with.
#[derive(Debug, Clone)]
pub struct RtcConfig {
    /// Local address for media sockets; unspecified = one socket per non-loopback interface.
    pub udp_addr: IpAddr,
    /// The STUN and TURN servers the browser is told of (`/turn`): the server's own side
    /// gathers from the same ones, relays included, so it can be reached where only TURN can.
    pub ice: crate::signal::turn::TurnConfig,
    /// Extra hold on every frame before it is sent (zero in normal use; see [`delay`]).
    pub inject_delay: std::time::Duration,
}

/// Why a peer connection could not be set up or driven.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RtcError {
    #[error("webrtc: {0}")]
    WebRtc(String),
    #[error("the browser accepts none of the offered codecs ({offered})")]
    NoCodec { offered: String },
    #[error("no pipeline could start for the codecs the browser accepts: {0}")]
    Media(String),
}

impl RtcError {
    pub(crate) fn from_any(e: impl std::fmt::Display) -> Self {
        RtcError::WebRtc(e.to_string())
    }
}

/// The codec as we offer it: H.264 as Constrained Baseline level 3.1 in the SDP (the level is a
/// decoder capability hint; browsers accept higher levels with `level-asymmetry-allowed`) in
/// packetization mode 1, VP9 profile 0, AV1 main profile; keyframe and loss feedback on all.
pub fn rtp_codec(codec: Codec) -> RTCRtpCodec {
    let fmtp = match codec {
        Codec::H264 => "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
        Codec::H265 => "level-id=93;profile-id=1;tier-flag=0;tx-mode=SRST",
        Codec::Vp9 => "profile-id=0",
        Codec::Av1 => "level-idx=5;profile=0;tier=0",
        Codec::Vp8 => "",
    };
    RTCRtpCodec {
        mime_type: codec.mime_type().to_owned(),
        clock_rate: 90_000,
        channels: 0,
        sdp_fmtp_line: fmtp.to_owned(),
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

/// The codec with its payload type.
pub fn codec_parameters(codec: Codec) -> RTCRtpCodecParameters {
    RTCRtpCodecParameters {
        rtp_codec: rtp_codec(codec),
        payload_type: payload_type(codec),
    }
}

/// The RTP header extension that tells the browser how long it may hold a frame before showing
/// it; we send 0–0 ms on every packet (see [`PLAYOUT_DELAY_NONE`]).
pub const PLAYOUT_DELAY_URI: &str = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay";

/// Playout delay min 0, max 0 (two 12-bit fields in 10 ms units): libwebrtc then renders each
/// frame as soon as it is decoded instead of smoothing playout through its jitter buffer. A
/// receiver's `jitterBufferTarget = 0` only lowers the minimum; this removes the smoothing.
pub const PLAYOUT_DELAY_NONE: [u8; 3] = [0, 0, 0];

/// A media engine that knows `codecs`, in that order, the playout-delay extension, and Opus
/// when the server has sound.
pub(crate) fn media_engine(codecs: &[Codec], audio: bool) -> Result<MediaEngine, RtcError> {
    let mut engine = MediaEngine::default();
    for &codec in codecs {
        engine
            .register_codec(codec_parameters(codec), RtpCodecKind::Video)
            .map_err(RtcError::from_any)?;
    }
    if audio {
        engine
            .register_codec(audio::opus_parameters(), RtpCodecKind::Audio)
            .map_err(RtcError::from_any)?;
    }
    engine
        .register_header_extension(
            RTCRtpHeaderExtensionCapability {
                uri: PLAYOUT_DELAY_URI.to_owned(),
            },
            RtpCodecKind::Video,
            None,
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
    // Checked at start-up (`/turn` serves the same); a failure here leaves host candidates.
    let ice = crate::signal::turn::rtc_configuration_now(&config.ice);
    let (servers, relay_only) = match ice {
        Ok(c) => (
            c.ice_servers
                .into_iter()
                .filter_map(|s| {
                    // webrtc-rs allocates TURN relays over UDP only.
                    let urls: Vec<String> = s
                        .urls
                        .into_iter()
                        .filter(|u| !u.contains("transport=tcp"))
                        .collect();
                    (!urls.is_empty()).then(|| RTCIceServer {
                        urls,
                        username: s.username.unwrap_or_default(),
                        credential: s.credential.unwrap_or_default(),
                    })
                })
                .collect(),
            c.relay_only,
        ),
        Err(e) => {
            tracing::warn!(error = %e, "no ICE servers for the server's side");
            (Vec::new(), false)
        }
    };
    let policy = if relay_only {
        RTCIceTransportPolicy::Relay
    } else {
        RTCIceTransportPolicy::All
    };
    RTCConfigurationBuilder::new()
        .with_ice_servers(servers)
        .with_ice_transport_policy(policy)
        .build()
}
