//! A viewer's audio track: the shared Opus packets, one per RTP packet (RFC 7587), on a 48 kHz
//! RTP clock.

use super::packetize::packetizer;
use crate::audio::{AudioHub, FRAME_SAMPLES, SAMPLE_RATE};
use rtc::rtp::packetizer::Packetizer;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodec, RTCRtpCodecParameters};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{broadcast, watch};
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::TrackLocal;

/// The payload type we offer Opus under (Chromium's own number for it).
pub const OPUS_PAYLOAD_TYPE: u8 = 111;

/// Opus as browsers expect it: stereo at 48 kHz, with our 10 ms packets allowed (`minptime`).
pub fn opus_codec() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: "audio/opus".to_owned(),
        clock_rate: SAMPLE_RATE,
        channels: 2,
        sdp_fmtp_line: "minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1".to_owned(),
        rtcp_feedback: Vec::new(),
    }
}

pub fn opus_parameters() -> RTCRtpCodecParameters {
    RTCRtpCodecParameters {
        rtp_codec: opus_codec(),
        payload_type: OPUS_PAYLOAD_TYPE,
    }
}

/// Sends the hub's packets on `track` once the connection is up and the answer accepted audio
/// (`payload_type` holds the type it accepted Opus under).
pub async fn write_audio(
    track: Arc<TrackLocalStaticRTP>,
    ssrc: u32,
    hub: Arc<AudioHub>,
    mut connected: watch::Receiver<bool>,
    mut payload_type: watch::Receiver<Option<u8>>,
) {
    if connected.wait_for(|c| *c).await.is_err() {
        return;
    }
    let payload_type = match payload_type.wait_for(Option::is_some).await {
        Ok(pt) => pt.unwrap_or(OPUS_PAYLOAD_TYPE),
        Err(_) => return,
    };
    let payloader = match opus_codec().payloader() {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "no Opus payloader: no sound for this viewer");
            return;
        }
    };
    let mut packetizer = packetizer(payload_type, ssrc, payloader, SAMPLE_RATE);
    let mut packets = hub.subscribe();
    tracing::debug!(payload_type, "audio flowing");
    loop {
        let packet = match packets.recv().await {
            Ok(p) => p,
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::debug!(skipped = n, "audio listener lagged");
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let rtp = match packetizer.packetize(Instant::now(), &packet, FRAME_SAMPLES as u32) {
            Ok(rtp) => rtp,
            Err(e) => {
                tracing::debug!(error = %e, "audio packet not packetized");
                continue;
            }
        };
        for p in rtp {
            if let Err(e) = track.write_rtp(p).await {
                tracing::debug!(error = %e, "audio write failed; viewer gone");
                return;
            }
        }
    }
}

/// Reads the audio track's RTCP (receiver reports) so it does not pile up; nothing in it asks
/// anything of us.
pub async fn drain_rtcp(track: Arc<TrackLocalStaticRTP>) {
    while track.poll().await.is_some() {}
}
