//! Drives one signalling WebSocket: feeds its messages to the pure [`SignalSession`], creates
//! the viewer's peer connection on `HELLO`, sends the offer and trickles candidates.
//!
//! A protocol error is answered with `ERROR <reason>`, logged, and ends this socket and its peer
//! only; other viewers and the media pipeline are untouched.

use super::protocol::{Action, Candidate, PeerRole, ServerMessage, SignalSession};
use super::state::ServerState;
use crate::access::Role;
use crate::rtc::peer::{Peer, PeerEvent};
use crate::rtc::RtcError;
use crate::viewer::Viewer;
use futures::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use tracing::Instrument as _;

async fn next_peer_event(peer: &mut Option<Peer>) -> Option<PeerEvent> {
    match peer {
        Some(p) => p.next_event().await,
        None => std::future::pending().await,
    }
}

enum Outcome {
    Continue,
    /// End the session; `Some(reason)` is a protocol error to report first.
    End(Option<String>),
}

/// Runs a session until the browser leaves, the peer fails, or the browser breaks the protocol.
pub async fn run<S>(ws: WebSocketStream<S>, state: Arc<ServerState>, remote: SocketAddr, role: Role)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (id, _active) = state.sessions.open();
    // Instrument, not `span.enter()`: an entered guard held across awaits would tag whatever
    // else runs on this worker thread with this session's span.
    let span = tracing::info_span!("session", id, %remote, ?role);
    drive(ws, &state, id, role).instrument(span).await;
}

async fn drive<S>(mut ws: WebSocketStream<S>, state: &ServerState, id: u64, role: Role)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    tracing::info!("signalling connected");
    let mut signal = SignalSession::new();
    let mut peer: Option<Peer> = None;
    let end_reason = loop {
        let outcome = tokio::select! {
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(text))) => match signal.on_text(text.as_str()) {
                    Ok(action) => act(action, &mut signal, &mut peer, &mut ws, state, id, role).await,
                    Err(e) => Outcome::End(Some(e.to_string())),
                },
                Some(Ok(Message::Binary(_))) => Outcome::End(Some("binary messages are not part of the signalling protocol".into())),
                Some(Ok(Message::Close(_))) | None => Outcome::End(None),
                Some(Ok(_)) => Outcome::Continue,
                Some(Err(e)) => {
                    tracing::info!(error = %e, "signalling socket error");
                    Outcome::End(None)
                }
            },
            event = next_peer_event(&mut peer) => match event {
                Some(PeerEvent::Candidate { candidate, sdp_mid, sdp_mline_index }) => {
                    let c = Candidate { candidate, sdp_mid, sdp_mline_index };
                    send(&mut ws, ServerMessage::Ice(&c).to_text()).await
                }
                Some(PeerEvent::GatheringComplete) => Outcome::Continue,
                Some(PeerEvent::Connected) => {
                    tracing::info!("viewer connected");
                    Outcome::Continue
                }
                Some(PeerEvent::Ended(why)) => {
                    tracing::info!(state = %why, "peer connection ended");
                    Outcome::End(None)
                }
                None => Outcome::End(None),
            },
        };
        if let Outcome::End(reason) = outcome {
            break reason;
        }
    };
    if let Some(reason) = end_reason {
        state.sessions.reject();
        tracing::warn!(%reason, "closing session: protocol error");
        let _ = ws
            .send(Message::text(ServerMessage::Error(&reason).to_text()))
            .await;
        let _ = ws
            .send(Message::Close(Some(CloseFrame {
                code: CloseCode::Protocol,
                reason: "protocol error".into(),
            })))
            .await;
    } else {
        let _ = ws.close(None).await;
    }
    if let Some(p) = peer.take() {
        p.close().await;
    }
    tracing::info!("signalling closed");
}

async fn send<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<S>,
    text: String,
) -> Outcome {
    match ws.send(Message::text(text)).await {
        Ok(()) => Outcome::Continue,
        Err(_) => Outcome::End(None),
    }
}

async fn act<S: AsyncRead + AsyncWrite + Unpin>(
    action: Action,
    signal: &mut SignalSession,
    peer: &mut Option<Peer>,
    ws: &mut WebSocketStream<S>,
    state: &ServerState,
    id: u64,
    role: Role,
) -> Outcome {
    match action {
        Action::ReplyHello { uid, meta } => {
            tracing::info!(%uid, res = ?meta.res, scale = ?meta.scale, "HELLO");
            if let Outcome::End(r) = send(ws, ServerMessage::Hello.to_text()).await {
                return Outcome::End(r);
            }
            if PeerRole::from_uid(&uid) == PeerRole::Audio {
                // Selkies 1.x's client opens a second socket for audio; our sound rides the
                // video peer connection, so this one idles.
                return Outcome::Continue;
            }
            let services = &state.services;
            let name = id.to_string();
            match Peer::offer(&state.rtc, &services.media, services.audio.as_ref(), &name).await {
                Ok((mut p, sdp)) => {
                    let viewer = Viewer::new(services, role, &name, p.pipeline());
                    p.serve_channel(viewer, name);
                    *peer = Some(p);
                    let out = send(ws, ServerMessage::Offer(&sdp).to_text()).await;
                    signal.offer_sent();
                    out
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot create the peer connection");
                    Outcome::End(Some(format!("server cannot create a peer connection: {e}")))
                }
            }
        }
        Action::ApplyAnswer(sdp) => match peer {
            Some(p) => match p.apply_answer(sdp).await {
                Ok(_) => Outcome::Continue,
                Err(e @ (RtcError::NoCodec { .. } | RtcError::Media(_))) => {
                    // Our own words only: safe to tell the client.
                    tracing::warn!(error = %e, "no codec for this viewer");
                    Outcome::End(Some(e.to_string()))
                }
                Err(e) => {
                    // The detail may quote the client's SDP: log it, but don't echo it back.
                    tracing::warn!(error = %e, "answer rejected");
                    Outcome::End(Some("invalid answer: the SDP was rejected".into()))
                }
            },
            None => Outcome::End(Some("no session for this answer".into())),
        },
        Action::AddIce(c) => match peer {
            Some(p) => {
                if let Err(e) = p
                    .add_candidate(c.candidate, c.sdp_mid, c.sdp_mline_index)
                    .await
                {
                    // A single unusable candidate (e.g. an mDNS name) is not fatal: others may work.
                    tracing::debug!(error = %e, "ignoring remote candidate");
                }
                Outcome::Continue
            }
            None => Outcome::Continue,
        },
        Action::EndOfCandidates | Action::Ignore => Outcome::Continue,
    }
}
