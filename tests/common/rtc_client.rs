//! A WebRTC viewer built with webrtc-rs, standing in for a browser when a test needs to see the
//! RTP itself: it speaks our signalling over the WebSocket (HELLO, answers the server's offer,
//! trickles ICE both ways), receives the H.264 track, groups packets into frames by RTP timestamp,
//! tells IDR frames from delta frames by their NAL unit types, and sends keyframe requests (PLI,
//! FIR) on the receiver's RTCP path.
//!
//! Async (tokio), unlike the other helpers: webrtc-rs needs a runtime. Dropping the viewer stops
//! its tasks; [`RtcViewer::close`] also closes the peer connection.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use base64::Engine as _;
use futures::{SinkExt, StreamExt};
use rtc::interceptor::Registry;
use rtc::peer_connection::configuration::interceptor_registry::register_default_interceptors;
use rtc::peer_connection::configuration::media_engine::MediaEngine;
use rtc::peer_connection::configuration::setting_engine::SettingEngineBuilder;
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::transport::RTCIceCandidateInit;
use rtc::rtcp::payload_feedbacks::full_intra_request::{FirEntry, FullIntraRequest};
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodecParameters, RtpCodecKind};
use rtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCPeerConnectionState,
};

/// NAL unit types (H.264, RFC 6184).
const NAL_IDR: u8 = 5;
const NAL_SPS: u8 = 7;
const NAL_STAP_A: u8 = 24;
const NAL_FU_A: u8 = 28;

/// One video frame as it arrived: all RTP packets with one timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub timestamp: u32,
    /// Whether any packet carries an IDR slice (or an SPS, which only precedes IDRs here).
    pub idr: bool,
    pub packets: usize,
    /// Whether the frame ended with the marker bit (as opposed to the next timestamp starting).
    pub complete: bool,
    /// First packet's arrival → last packet's arrival (a paced frame is spread out).
    pub span: Duration,
}

/// Whether one RTP payload (H.264 packetization mode 1) carries an IDR slice or an SPS: a single
/// NAL of type 5 or 7, a STAP-A aggregating one, or the first FU-A fragment of an IDR slice.
pub fn payload_has_idr(payload: &[u8]) -> bool {
    let Some(&first) = payload.first() else {
        return false;
    };
    match first & 0x1f {
        NAL_IDR | NAL_SPS => true,
        NAL_STAP_A => {
            // STAP-A: header, then (16-bit size, NAL) repeated.
            let mut rest = &payload[1..];
            while rest.len() >= 2 {
                let size = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
                let Some(nal) = rest.get(2..2 + size) else {
                    return false;
                };
                if nal
                    .first()
                    .is_some_and(|h| matches!(h & 0x1f, NAL_IDR | NAL_SPS))
                {
                    return true;
                }
                rest = &rest[2 + size..];
            }
            false
        }
        NAL_FU_A => payload
            .get(1)
            .is_some_and(|fu| fu & 0x80 != 0 && fu & 0x1f == NAL_IDR),
        _ => false,
    }
}

/// Groups RTP packets into frames: a frame ends at its marker bit, or when a packet with another
/// timestamp arrives (if the marker packet was lost).
#[derive(Debug, Default)]
pub struct FrameAssembler {
    current: Option<Frame>,
    first_at: Option<std::time::Instant>,
}

impl FrameAssembler {
    /// Feeds one packet; returns the frames it completed (at most two).
    pub fn push(&mut self, timestamp: u32, marker: bool, payload: &[u8]) -> Vec<Frame> {
        let mut done = Vec::new();
        let now = std::time::Instant::now();
        if let Some(cur) = &self.current {
            if cur.timestamp != timestamp {
                done.extend(self.current.take());
            }
        }
        if self.current.is_none() {
            self.first_at = Some(now);
        }
        let frame = self.current.get_or_insert(Frame {
            timestamp,
            idr: false,
            packets: 0,
            complete: false,
            span: Duration::ZERO,
        });
        frame.packets += 1;
        frame.span = self.first_at.map_or(Duration::ZERO, |t| now - t);
        frame.idr |= payload_has_idr(payload);
        if marker {
            frame.complete = true;
            done.extend(self.current.take());
        }
        done
    }
}

/// The signalling HELLO a Selkies browser sends for its video connection.
pub fn hello_message(uid: &str, res: &str, scale: f64) -> String {
    let meta = json!({ "res": res, "scale": scale }).to_string();
    format!(
        "HELLO {uid} {}",
        base64::engine::general_purpose::STANDARD.encode(meta)
    )
}

struct Handler {
    candidates: mpsc::UnboundedSender<RTCIceCandidateInit>,
    tracks: mpsc::UnboundedSender<Arc<dyn TrackRemote>>,
    /// 0 new/connecting, 1 connected, 2 failed or closed.
    state: Arc<AtomicU8>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_candidate(
        &self,
        event: rtc::peer_connection::event::RTCPeerConnectionIceEvent,
    ) {
        if let Ok(init) = event.candidate.to_json() {
            let _ = self.candidates.send(init);
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        match state {
            RTCPeerConnectionState::Connected => self.state.store(1, Ordering::Relaxed),
            RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed => {
                self.state.store(2, Ordering::Relaxed);
            }
            _ => {}
        }
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let _ = self.tracks.send(track);
    }
}

/// A connected viewer receiving the server's video.
pub struct RtcViewer {
    pc: Arc<dyn PeerConnection>,
    track: Arc<dyn TrackRemote>,
    media_ssrc: u32,
    frames: mpsc::UnboundedReceiver<Frame>,
    fir_seq: u8,
    tasks: Vec<JoinHandle<()>>,
    /// Every signalling text the server sent, in order (for failure messages).
    pub signalling: Arc<std::sync::Mutex<Vec<String>>>,
}

impl RtcViewer {
    /// Connects to the signalling socket at `ws_url`, negotiates, and waits (up to `timeout`)
    /// until the video track delivers its first packet.
    pub async fn connect(ws_url: &str, timeout: Duration) -> Result<Self> {
        tokio::time::timeout(timeout, Self::connect_inner(ws_url))
            .await
            .map_err(|_| anyhow!("no video track from {ws_url} within {timeout:?}"))?
    }

    async fn connect_inner(ws_url: &str) -> Result<Self> {
        let (ws, _) = tokio_tungstenite::connect_async(ws_url)
            .await
            .with_context(|| format!("WebSocket connect to {ws_url}"))?;
        let (mut ws_tx, mut ws_rx) = ws.split();

        let (cand_tx, mut cand_rx) = mpsc::unbounded_channel();
        let (track_tx, mut track_rx) = mpsc::unbounded_channel();
        let state = Arc::new(AtomicU8::new(0));
        let handler = Arc::new(Handler {
            candidates: cand_tx,
            tracks: track_tx,
            state: Arc::clone(&state),
        });

        let mut engine = MediaEngine::default();
        engine
            .register_codec(
                RTCRtpCodecParameters {
                    rtp_codec: selkies_rs::rtc::rtp_codec(selkies_rs::encode::Codec::H264),
                    payload_type: selkies_rs::rtc::payload_type(selkies_rs::encode::Codec::H264),
                },
                RtpCodecKind::Video,
            )
            .map_err(|e| anyhow!("register H.264: {e}"))?;
        let registry = register_default_interceptors(Registry::new(), &mut engine)
            .map_err(|e| anyhow!("interceptors: {e}"))?;
        let settings = SettingEngineBuilder::new()
            .with_multicast_dns_mode(rtc::ice::mdns::MulticastDnsMode::Disabled)
            .with_include_loopback_candidate(true)
            .build();
        let pc = PeerConnectionBuilder::new()
            .with_configuration(RTCConfigurationBuilder::new().build())
            .with_media_engine(engine)
            .with_setting_engine(settings)
            .with_interceptor_registry(registry)
            .with_handler(handler)
            .with_udp_addrs(vec!["0.0.0.0:0"])
            .build()
            .await
            .map_err(|e| anyhow!("build peer connection: {e}"))?;
        let pc: Arc<dyn PeerConnection> = Arc::new(pc);
        pc.add_transceiver_from_kind(
            RtpCodecKind::Video,
            Some(RTCRtpTransceiverInit {
                direction: RTCRtpTransceiverDirection::Recvonly,
                ..Default::default()
            }),
        )
        .await
        .map_err(|e| anyhow!("add video transceiver: {e}"))?;

        ws_tx
            .send(Message::text(hello_message("1", "1280x720", 1.0)))
            .await
            .context("send HELLO")?;

        let signalling = Arc::new(std::sync::Mutex::new(Vec::new()));
        // The signalling task: answers the offer, adds remote candidates, trickles ours.
        let (err_tx, mut err_rx) = mpsc::unbounded_channel::<String>();
        let log = Arc::clone(&signalling);
        let pc_sig = Arc::clone(&pc);
        let signalling_task = tokio::spawn(async move {
            let fail = |e: String| {
                let _ = err_tx.send(e);
            };
            loop {
                tokio::select! {
                    msg = ws_rx.next() => {
                        let text = match msg {
                            Some(Ok(Message::Text(t))) => t.as_str().to_owned(),
                            Some(Ok(Message::Close(f))) => {
                                fail(format!("server closed signalling: {f:?}"));
                                return;
                            }
                            Some(Ok(_)) => continue,
                            Some(Err(e)) => { fail(format!("signalling read: {e}")); return; }
                            None => { fail("signalling socket ended".into()); return; }
                        };
                        if let Ok(mut l) = log.lock() {
                            l.push(text.clone());
                        }
                        if let Err(e) = on_server_text(&text, pc_sig.as_ref(), &mut ws_tx).await {
                            fail(format!("{e:#}"));
                            return;
                        }
                    }
                    Some(c) = cand_rx.recv() => {
                        let msg = json!({ "ice": {
                            "candidate": c.candidate,
                            "sdpMid": c.sdp_mid.filter(|m| !m.is_empty()).unwrap_or_else(|| "0".into()),
                            "sdpMLineIndex": c.sdp_mline_index.unwrap_or(0),
                        }});
                        if ws_tx.send(Message::text(msg.to_string())).await.is_err() {
                            fail("signalling send failed".into());
                            return;
                        }
                    }
                }
            }
        });

        let track = tokio::select! {
            t = track_rx.recv() => t.context("peer connection dropped before a track arrived")?,
            e = err_rx.recv() => bail!("signalling failed: {}", e.unwrap_or_default()),
        };
        let media_ssrc = track
            .ssrcs()
            .await
            .first()
            .copied()
            .context("remote track has no SSRC")?;

        let (frames_tx, frames) = mpsc::unbounded_channel();
        let reader = Arc::clone(&track);
        let reader_task = tokio::spawn(async move {
            let mut assembler = FrameAssembler::default();
            while let Some(event) = reader.poll().await {
                match event {
                    TrackRemoteEvent::OnRtpPacket(p) => {
                        for f in assembler.push(p.header.timestamp, p.header.marker, &p.payload) {
                            if frames_tx.send(f).is_err() {
                                return;
                            }
                        }
                    }
                    TrackRemoteEvent::OnEnded => return,
                    _ => {}
                }
            }
        });

        Ok(Self {
            pc,
            track,
            media_ssrc,
            frames,
            fir_seq: 0,
            tasks: vec![signalling_task, reader_task],
            signalling,
        })
    }

    /// The SSRC of the server's video stream.
    pub fn media_ssrc(&self) -> u32 {
        self.media_ssrc
    }

    /// The next frame, waiting up to `timeout`.
    pub async fn next_frame(&mut self, timeout: Duration) -> Result<Frame> {
        match tokio::time::timeout(timeout, self.frames.recv()).await {
            Ok(Some(f)) => Ok(f),
            Ok(None) => bail!("the video track ended"),
            Err(_) => bail!("no video frame within {timeout:?}"),
        }
    }

    /// Sends an RTCP Picture Loss Indication for the server's stream.
    pub async fn send_pli(&self) -> Result<()> {
        self.track
            .write_rtcp(vec![Box::new(PictureLossIndication {
                sender_ssrc: 0,
                media_ssrc: self.media_ssrc,
            })])
            .await
            .map_err(|e| anyhow!("write PLI: {e}"))
    }

    /// Sends an RTCP Full Intra Request for the server's stream (a new sequence number each time).
    pub async fn send_fir(&mut self) -> Result<()> {
        self.fir_seq = self.fir_seq.wrapping_add(1);
        self.track
            .write_rtcp(vec![Box::new(FullIntraRequest {
                sender_ssrc: 0,
                media_ssrc: self.media_ssrc,
                fir: vec![FirEntry {
                    ssrc: self.media_ssrc,
                    sequence_number: self.fir_seq,
                }],
            })])
            .await
            .map_err(|e| anyhow!("write FIR: {e}"))
    }

    /// Closes the peer connection and stops the tasks.
    pub async fn close(self) {
        for t in &self.tasks {
            t.abort();
        }
        let _ = self.pc.close().await;
    }
}

impl Drop for RtcViewer {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

async fn on_server_text<S>(text: &str, pc: &dyn PeerConnection, ws_tx: &mut S) -> Result<()>
where
    S: futures::Sink<Message> + Unpin,
    S::Error: std::fmt::Display,
{
    if text == "HELLO" {
        return Ok(());
    }
    if let Some(reason) = text.strip_prefix("ERROR") {
        bail!("server sent ERROR{reason}");
    }
    let v: Value = serde_json::from_str(text).with_context(|| format!("server sent {text:?}"))?;
    if let Some(sdp) = v.get("sdp") {
        if sdp.get("type").and_then(Value::as_str) != Some("offer") {
            bail!("expected an offer, got {sdp}");
        }
        let offer = sdp
            .get("sdp")
            .and_then(Value::as_str)
            .context("offer without sdp")?;
        let offer = RTCSessionDescription::offer(offer.to_owned())
            .map_err(|e| anyhow!("parse offer: {e}"))?;
        pc.set_remote_description(offer)
            .await
            .map_err(|e| anyhow!("set offer: {e}"))?;
        let answer = pc
            .create_answer(None)
            .await
            .map_err(|e| anyhow!("create answer: {e}"))?;
        let answer_sdp = answer.sdp.clone();
        pc.set_local_description(answer)
            .await
            .map_err(|e| anyhow!("set answer: {e}"))?;
        let msg = json!({ "sdp": { "type": "answer", "sdp": answer_sdp } });
        ws_tx
            .send(Message::text(msg.to_string()))
            .await
            .map_err(|e| anyhow!("send answer: {e}"))?;
    } else if let Some(ice) = v.get("ice") {
        let candidate = ice
            .get("candidate")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        if candidate.is_empty() {
            return Ok(());
        }
        let init = RTCIceCandidateInit {
            candidate,
            sdp_mid: ice.get("sdpMid").and_then(Value::as_str).map(str::to_owned),
            sdp_mline_index: ice
                .get("sdpMLineIndex")
                .and_then(Value::as_u64)
                .and_then(|i| u16::try_from(i).ok()),
            username_fragment: None,
            url: None,
        };
        pc.add_ice_candidate(init)
            .await
            .map_err(|e| anyhow!("add server candidate: {e}"))?;
    } else {
        bail!("unexpected signalling message {text:?}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idr_detection() {
        assert!(payload_has_idr(&[0x65, 0x88]));
        assert!(!payload_has_idr(&[0x41, 0x9a]));
        // STAP-A with SPS (0x67) and PPS (0x68).
        assert!(payload_has_idr(&[0x78, 0, 2, 0x67, 0x42, 0, 1, 0x68]));
        assert!(!payload_has_idr(&[0x78, 0, 1, 0x68]));
        // FU-A start of an IDR, continuation of an IDR, start of a non-IDR slice.
        assert!(payload_has_idr(&[0x7c, 0x85, 0]));
        assert!(!payload_has_idr(&[0x7c, 0x05, 0]));
        assert!(!payload_has_idr(&[0x7c, 0x81, 0]));
    }
}
