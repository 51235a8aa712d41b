//! One viewer's RTP packetization of an access unit: the codec's payloader at our MTU, the RTP
//! clock advanced by the frame's duration, and the playout-delay extension on every packet.
//!
//! Each viewer has its own packetizer (its own SSRC and sequence numbers), so this runs once per
//! frame per viewer; `benches/packetize.rs` measures it.

use super::rtp_codec;
use crate::encode::Codec;
use crate::pipeline::EncodedFrame;
use bytes::Bytes;
use rtc::rtp::packet::Packet;
use rtc::rtp::packetizer::{new_packetizer, Packetizer};
use std::time::Instant;

/// Largest RTP packet we send (webrtc-rs' own default): fits any path with TURN overhead.
pub const RTP_MTU: usize = 1200;

/// The RTP clock of every video codec.
const VIDEO_CLOCK: u32 = 90_000;

/// A packetizer for `payloader` on a random sequence, as every track of ours uses.
pub fn packetizer(
    payload_type: u8,
    ssrc: u32,
    payloader: Box<dyn rtc::rtp::packetizer::Payloader>,
    clock_rate: u32,
) -> impl Packetizer {
    new_packetizer(
        Instant::now(),
        RTP_MTU,
        payload_type,
        ssrc,
        payloader,
        Box::new(rtc::rtp::sequence::new_random_sequencer()),
        clock_rate,
    )
}

pub struct FramePacketizer {
    inner: Box<dyn Packetizer + Send>,
    playout_delay_id: Option<u8>,
}

impl FramePacketizer {
    /// `playout_delay_id`: the extension id the answer gave the playout-delay extension, if any.
    ///
    /// # Errors
    /// When webrtc-rs has no payloader for `codec`.
    pub fn new(
        codec: Codec,
        payload_type: u8,
        ssrc: u32,
        playout_delay_id: Option<u8>,
    ) -> Result<Self, rtc::shared::error::Error> {
        let payloader = rtp_codec(codec).payloader()?;
        let inner = packetizer(payload_type, ssrc, payloader, VIDEO_CLOCK);
        Ok(Self {
            inner: Box::new(inner),
            playout_delay_id,
        })
    }

    /// The packets that carry `frame`, in order.
    ///
    /// # Errors
    /// When the payloader rejects the access unit (an encoder bug).
    pub fn packetize(
        &mut self,
        frame: &EncodedFrame,
    ) -> Result<Vec<Packet>, rtc::shared::error::Error> {
        let samples = (frame.duration.as_secs_f64() * f64::from(VIDEO_CLOCK)) as u32;
        let mut packets = self
            .inner
            .packetize(frame.captured_at, &frame.data, samples)?;
        if let Some(id) = self.playout_delay_id {
            for packet in &mut packets {
                // Fails only for an id outside 1–14, which `extension_id` never returns.
                let _ = packet
                    .header
                    .set_extension(id, Bytes::from_static(&super::PLAYOUT_DELAY_NONE));
            }
        }
        Ok(packets)
    }
}
