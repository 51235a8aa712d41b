//! The `input` data channel as a viewer's [`Transport`]: text and bytes in, text out. What the
//! messages mean is the viewer's business ([`crate::viewer`]).

use crate::viewer::transport::{Inbound, Transport};
use std::sync::Arc;
use std::time::Instant;
use webrtc::data_channel::{DataChannel, DataChannelEvent};

/// One viewer's data channel.
pub struct Channel(pub Arc<dyn DataChannel>);

#[async_trait::async_trait]
impl Transport for Channel {
    async fn next(&mut self) -> Option<Inbound> {
        loop {
            match self.0.poll().await? {
                DataChannelEvent::OnOpen => return Some(Inbound::Opened),
                DataChannelEvent::OnMessage(msg) => {
                    return Some(Inbound::Message(msg.data.freeze(), Instant::now()))
                }
                DataChannelEvent::OnClose => return None,
                _ => {}
            }
        }
    }

    async fn send(&mut self, text: String) -> Result<(), String> {
        self.0.send_text(&text).await.map_err(|e| e.to_string())
    }
}
