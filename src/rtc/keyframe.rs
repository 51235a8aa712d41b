//! Lets the browser's keyframe requests (RTCP PLI and FIR) reach the application.
//!
//! webrtc-rs ends inbound RTCP at the last interceptor unless one marks a packet for delivery;
//! without this stage a PLI would never reach the encoder and a browser that lost a packet would
//! show a frozen or smeared picture until the next IDR, which with an infinite GOP never comes.
//! Everything else (receiver reports, NACKs, transport feedback) is for the other interceptors
//! and is not passed on.

use rtc::interceptor::{Attribute, Interceptor, Packet, StreamInfo, TaggedPacket};
use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::sansio::Protocol;
use std::collections::VecDeque;
use std::time::Instant;

/// Position in the chain: after every built-in interceptor, so they all see the full RTCP first.
pub const SLOT: usize = 14_000;

/// Whether an RTCP packet asks the sender for a new keyframe.
pub fn is_keyframe_request(packet: &dyn rtc::rtcp::Packet) -> bool {
    let any = packet.as_any();
    any.is::<PictureLossIndication>() || any.is::<FullIntraRequest>()
}

/// The interceptor stage (a pass-through for everything outbound).
#[derive(Default)]
pub struct KeyframeRequests {
    inbound: VecDeque<TaggedPacket>,
    outbound: VecDeque<TaggedPacket>,
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for KeyframeRequests {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = rtc::shared::error::Error;
    type Time = Instant;

    fn handle_read(&mut self, mut msg: TaggedPacket) -> Result<(), Self::Error> {
        if let Packet::Rtcp(packets) = &msg.message.packet {
            let wanted: Vec<Box<dyn rtc::rtcp::Packet>> = packets
                .iter()
                .filter(|p| is_keyframe_request(p.as_ref()))
                .cloned()
                .collect();
            if wanted.is_empty() {
                return Ok(());
            }
            msg.message.packet = Packet::Rtcp(wanted);
            msg.message.add(Attribute::DeliverToApplication);
        }
        self.inbound.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<Self::Rout> {
        self.inbound.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        self.outbound.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<Self::Wout> {
        self.outbound.pop_front()
    }
}

impl Interceptor for KeyframeRequests {
    fn bind_local_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_local_stream(&mut self, _info: &StreamInfo) {}
    fn bind_remote_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}
