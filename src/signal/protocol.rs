//! The signalling wire protocol (Selkies 1.x, as the browser sees it): text in, typed messages
//! out, and typed messages back to text, plus the per-connection state machine.
//!
//! The server is the in-process peer `"0"` and always makes the offer. A browser registers with
//! `HELLO <uid> [<base64 JSON meta>]`, receives `HELLO`, then an offer, answers, and both sides
//! trickle ICE candidates. Any protocol violation is a [`ProtocolError`] whose `Display` is the
//! reason the driver sends as `ERROR <reason>` before closing that socket.
//!
//! This module must stay pure: no sockets, no tokio, no webrtc types. The driver in
//! `signal::server` owns the WebSocket and the peer connection and feeds text to
//! [`SignalSession::on_text`], which says what to do with it.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use serde_json::{json, Map, Value};

/// Largest signalling message accepted, in bytes. An SDP answer for audio + video + data is a few
/// KiB; this leaves room for many codecs while bounding what one socket can make us parse.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Longest accepted peer uid, in bytes.
pub const MAX_UID_LEN: usize = 64;

/// Largest width or height accepted in the HELLO meta `res` (RandR's own limit is 32767, but no
/// display we drive is larger than 16K).
pub const MAX_RES_SIDE: u32 = 16384;

/// Smallest accepted HELLO meta `scale` (device pixel ratio).
pub const MIN_SCALE: f64 = 0.1;

/// Largest accepted HELLO meta `scale` (device pixel ratio).
pub const MAX_SCALE: f64 = 10.0;

/// Longest `ERROR` reason we send, in bytes; longer reasons are cut at a character boundary.
pub const MAX_REASON_BYTES: usize = 256;

/// The server's own peer id (Selkies' "Python video app"). A browser may not register with it.
pub const SERVER_PEER_ID: &str = "0";

/// The peer id Selkies' browser uses for its video (and data channel) connection.
pub const VIDEO_PEER_ID: &str = "1";

/// The peer id Selkies' browser uses for its separate audio connection.
pub const AUDIO_PEER_ID: &str = "3";

/// Longest JSON error detail kept in a [`ProtocolError`]; serde_json quotes offending input in its
/// messages, and an error reason must stay short.
const MAX_JSON_DETAIL: usize = 120;

/// Base64 as `btoa()` writes it; padding is optional on input because some clients strip it.
const META_B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A signalling protocol violation. `Display` is the reason sent to the client as
/// `ERROR <reason>`: one line, no control characters, never more than a short token of input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The message is larger than [`MAX_MESSAGE_BYTES`].
    #[error("message too large ({len} bytes, limit {MAX_MESSAGE_BYTES})")]
    TooLarge {
        /// Size of the rejected message in bytes.
        len: usize,
    },
    /// The message is empty or only whitespace.
    #[error("empty message")]
    Empty,
    /// The message is none of the known forms.
    #[error(
        "unrecognised message: expected HELLO, SESSION, or a JSON object with \"sdp\" or \"ice\""
    )]
    Unrecognised,
    /// A Selkies command this server does not implement (rooms).
    #[error("{0} is not supported")]
    Unsupported(&'static str),
    /// `HELLO` without a uid.
    #[error("HELLO: missing uid")]
    MissingUid,
    /// The uid is not 1 to 64 characters of `[A-Za-z0-9_-]`.
    #[error("HELLO: invalid uid (1 to 64 characters of A-Z a-z 0-9 _ -)")]
    InvalidUid,
    /// The uid is the server's own.
    #[error("HELLO: uid '0' is reserved for the server")]
    ReservedUid,
    /// A command has more fields than its form allows.
    #[error("{0}: too many fields")]
    TooManyFields(&'static str),
    /// The HELLO meta is not base64.
    #[error("HELLO: meta is not valid base64")]
    MetaBase64,
    /// The HELLO meta is not a JSON object, or a field has the wrong type.
    #[error("HELLO: invalid meta: {0}")]
    MetaJson(String),
    /// The HELLO meta `res` is not `WxH` within `1..=16384`.
    #[error("HELLO: meta res must be WxH with each side in 1..=16384")]
    InvalidRes,
    /// The HELLO meta `scale` is not a finite number within `0.1..=10`.
    #[error("HELLO: meta scale must be a finite number in 0.1..=10")]
    InvalidScale,
    /// `SESSION` without a peer id.
    #[error("SESSION: missing peer id")]
    MissingPeer,
    /// The `SESSION` peer id is not a valid uid.
    #[error("SESSION: invalid peer id")]
    InvalidPeer,
    /// `SESSION` names a peer other than the server.
    #[error("peer '{0}' not found")]
    PeerNotFound(String),
    /// A message starting with `{` is not valid JSON.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// A JSON message is not an object with exactly one of `sdp` or `ice`.
    #[error("JSON message must be an object with exactly one of \"sdp\" or \"ice\"")]
    JsonShape,
    /// The `sdp` object is malformed.
    #[error("sdp: {0}")]
    InvalidSdp(&'static str),
    /// The `ice` object is malformed.
    #[error("ice: {0}")]
    InvalidIce(&'static str),
    /// Anything but `HELLO` before registration.
    #[error("expected HELLO")]
    ExpectedHello,
    /// A second `HELLO` on the same connection.
    #[error("already registered")]
    DuplicateHello,
    /// The client sent an SDP whose type is not `answer` (the server always offers).
    #[error("unexpected sdp type: the server makes the offer, expected \"answer\"")]
    UnexpectedSdpType,
    /// An answer arrived before the server's offer.
    #[error("unexpected sdp: no offer has been sent")]
    SdpBeforeOffer,
    /// A second answer to the same offer.
    #[error("unexpected sdp: the offer was already answered")]
    DuplicateAnswer,
    /// A candidate arrived before the server's offer.
    #[error("unexpected ice: no offer has been sent")]
    IceBeforeOffer,
}

/// Parameters a browser announces in its `HELLO`: the size of its viewport and its device pixel
/// ratio, both optional.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HelloMeta {
    /// Requested display size `(width, height)`, each in `1..=16384`.
    pub res: Option<(u32, u32)>,
    /// Device pixel ratio, finite, in `0.1..=10`.
    pub scale: Option<f64>,
}

/// One ICE candidate, as in the browser's `RTCIceCandidateInit`. An empty `candidate` means
/// end-of-candidates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Candidate {
    /// The `candidate:` attribute line without `a=`, or empty for end-of-candidates.
    pub candidate: String,
    /// The media stream identification tag, when known.
    pub sdp_mid: Option<String>,
    /// The m-line index, when known.
    pub sdp_mline_index: Option<u16>,
}

/// A message from a browser to the server.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientMessage {
    /// `HELLO <uid> [<base64 JSON meta>]`: registration.
    Hello {
        /// The client's peer id.
        uid: String,
        /// The decoded meta, all `None` when absent.
        meta: HelloMeta,
    },
    /// `SESSION <peer>`: a request to connect to a peer (sent by Selkies apps, not browsers).
    Session {
        /// The requested peer id.
        peer: String,
    },
    /// `{"sdp":{"type":…,"sdp":…}}`.
    Sdp {
        /// The SDP type (`offer`, `answer`, `pranswer`, `rollback`, …).
        kind: String,
        /// The session description.
        sdp: String,
    },
    /// `{"ice":{"candidate":…,"sdpMid":…,"sdpMLineIndex":…}}`.
    Ice(Candidate),
}

/// A message from the server to a browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerMessage<'a> {
    /// `HELLO`: registration accepted.
    Hello,
    /// `ERROR <reason>`: the reason is made single-line when formatted.
    Error(&'a str),
    /// `{"sdp":{"type":"offer","sdp":…}}`.
    Offer(&'a str),
    /// `{"ice":{…}}`. Browsers reject a candidate with neither `sdp_mid` nor `sdp_mline_index`.
    Ice(&'a Candidate),
}

/// An owned [`ServerMessage`], as parsed by [`parse_server`] (for clients and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnedServerMessage {
    /// `HELLO`.
    Hello,
    /// `ERROR <reason>`.
    Error(String),
    /// An SDP offer.
    Offer(String),
    /// An ICE candidate.
    Ice(Candidate),
}

/// What a peer id means in Selkies 1.x, where ids are fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerRole {
    /// `1`: the video peer connection, which also carries the `input` data channel.
    Video,
    /// `3`: the separate audio peer connection.
    Audio,
    /// Any other id; the driver decides (our own client uses one connection for everything).
    Other,
}

impl PeerRole {
    /// The role Selkies gives to `uid`.
    pub fn from_uid(uid: &str) -> Self {
        match uid {
            VIDEO_PEER_ID => PeerRole::Video,
            AUDIO_PEER_ID => PeerRole::Audio,
            _ => PeerRole::Other,
        }
    }
}

/// Parses one text message from a client.
///
/// # Errors
/// Returns the [`ProtocolError`] to report when the message is oversized, malformed, or not a
/// client message.
pub fn parse_client(text: &str) -> Result<ClientMessage, ProtocolError> {
    let body = trim_message(text)?;
    if body.starts_with('{') {
        return match parse_json(body)? {
            Payload::Sdp { kind, sdp } => Ok(ClientMessage::Sdp { kind, sdp }),
            Payload::Ice(candidate) => Ok(ClientMessage::Ice(candidate)),
        };
    }
    let mut fields = body.split_ascii_whitespace();
    match fields.next() {
        Some("HELLO") => parse_hello(fields),
        Some("SESSION") => {
            let peer = fields.next().ok_or(ProtocolError::MissingPeer)?;
            if fields.next().is_some() {
                return Err(ProtocolError::TooManyFields("SESSION"));
            }
            if !is_valid_uid(peer) {
                return Err(ProtocolError::InvalidPeer);
            }
            Ok(ClientMessage::Session {
                peer: peer.to_owned(),
            })
        }
        Some("ROOM") => Err(ProtocolError::Unsupported("ROOM")),
        _ => Err(ProtocolError::Unrecognised),
    }
}

/// Parses one text message from the server (what a browser receives).
///
/// # Errors
/// Returns a [`ProtocolError`] when the message is oversized, malformed, or not a server message.
pub fn parse_server(text: &str) -> Result<OwnedServerMessage, ProtocolError> {
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(ProtocolError::TooLarge { len: text.len() });
    }
    // Exact matches: the reason after `ERROR ` is kept byte for byte.
    if text == "HELLO" {
        return Ok(OwnedServerMessage::Hello);
    }
    if text == "ERROR" {
        return Ok(OwnedServerMessage::Error(String::new()));
    }
    if let Some(reason) = text.strip_prefix("ERROR ") {
        return Ok(OwnedServerMessage::Error(reason.to_owned()));
    }
    let body = trim_message(text)?;
    if !body.starts_with('{') {
        return Err(ProtocolError::Unrecognised);
    }
    match parse_json(body)? {
        Payload::Sdp { kind, sdp } if kind == "offer" => Ok(OwnedServerMessage::Offer(sdp)),
        Payload::Sdp { .. } => Err(ProtocolError::InvalidSdp("the server only sends offers")),
        Payload::Ice(candidate) => Ok(OwnedServerMessage::Ice(candidate)),
    }
}

impl ClientMessage {
    /// Formats the message as a client would send it.
    pub fn to_text(&self) -> String {
        match self {
            ClientMessage::Hello { uid, meta } => match meta.to_json() {
                Some(json) => format!("HELLO {uid} {}", META_B64.encode(json)),
                None => format!("HELLO {uid}"),
            },
            ClientMessage::Session { peer } => format!("SESSION {peer}"),
            ClientMessage::Sdp { kind, sdp } => sdp_json(kind, sdp),
            ClientMessage::Ice(candidate) => ice_json(candidate),
        }
    }
}

impl ServerMessage<'_> {
    /// Formats the message as the server sends it.
    pub fn to_text(&self) -> String {
        match self {
            ServerMessage::Hello => "HELLO".to_owned(),
            ServerMessage::Error(reason) => format!("ERROR {}", sanitize_reason(reason)),
            ServerMessage::Offer(sdp) => sdp_json("offer", sdp),
            ServerMessage::Ice(candidate) => ice_json(candidate),
        }
    }
}

impl OwnedServerMessage {
    /// Borrows this as a [`ServerMessage`], e.g. to format it again.
    pub fn as_message(&self) -> ServerMessage<'_> {
        match self {
            OwnedServerMessage::Hello => ServerMessage::Hello,
            OwnedServerMessage::Error(reason) => ServerMessage::Error(reason),
            OwnedServerMessage::Offer(sdp) => ServerMessage::Offer(sdp),
            OwnedServerMessage::Ice(candidate) => ServerMessage::Ice(candidate),
        }
    }
}

impl HelloMeta {
    /// The meta as compact JSON, or `None` when no field is set (then HELLO carries no meta).
    fn to_json(self) -> Option<String> {
        if self.res.is_none() && self.scale.is_none() {
            return None;
        }
        let mut obj = Map::new();
        if let Some((w, h)) = self.res {
            obj.insert("res".to_owned(), Value::String(format!("{w}x{h}")));
        }
        if let Some(scale) = self.scale {
            // Validated scales are finite, so this is always a JSON number.
            obj.insert("scale".to_owned(), json!(scale));
        }
        Some(Value::Object(obj).to_string())
    }
}

/// Where a connection is in the signalling exchange.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SessionState {
    /// Nothing received yet; only `HELLO` is allowed.
    #[default]
    AwaitHello,
    /// Registered; the driver is preparing the offer.
    Ready,
    /// The offer went out; waiting for the answer. Candidates are accepted.
    OfferSent,
    /// The answer arrived. Candidates are still accepted (trickle ICE).
    Answered,
}

/// What the driver must do after a client message.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Reply `HELLO`, then create the peer connection for `uid` and send the offer.
    ReplyHello {
        /// The registered peer id (see [`PeerRole::from_uid`]).
        uid: String,
        /// The client's viewport and scale, if it sent them.
        meta: HelloMeta,
    },
    /// Apply this SDP as the remote answer.
    ApplyAnswer(String),
    /// Add this remote ICE candidate (never the empty end-of-candidates marker).
    AddIce(Candidate),
    /// The client has no more candidates.
    EndOfCandidates,
    /// Nothing to do.
    Ignore,
}

/// The signalling state machine of one WebSocket connection.
///
/// Pure: feed it each text message with [`on_text`](Self::on_text) and tell it when the offer
/// went out with [`offer_sent`](Self::offer_sent). A rejected message leaves the state unchanged;
/// the driver reports the error and closes the socket.
#[derive(Debug, Clone, Default)]
pub struct SignalSession {
    state: SessionState,
    uid: Option<String>,
    meta: HelloMeta,
}

impl SignalSession {
    /// A session waiting for `HELLO`.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current state.
    pub fn state(&self) -> SessionState {
        self.state
    }

    /// The registered peer id, once `HELLO` was accepted.
    pub fn uid(&self) -> Option<&str> {
        self.uid.as_deref()
    }

    /// The registered peer's role, once `HELLO` was accepted.
    pub fn role(&self) -> Option<PeerRole> {
        self.uid.as_deref().map(PeerRole::from_uid)
    }

    /// The meta from `HELLO` (all `None` before registration or when the client sent none).
    pub fn meta(&self) -> HelloMeta {
        self.meta
    }

    /// Parses and handles one text message.
    ///
    /// # Errors
    /// Returns the [`ProtocolError`] to send as `ERROR <reason>`; the state is unchanged.
    pub fn on_text(&mut self, text: &str) -> Result<Action, ProtocolError> {
        let message = parse_client(text)?;
        self.on_message(message)
    }

    /// Handles one parsed message.
    ///
    /// # Errors
    /// Returns the [`ProtocolError`] to send as `ERROR <reason>`; the state is unchanged.
    pub fn on_message(&mut self, message: ClientMessage) -> Result<Action, ProtocolError> {
        if self.state == SessionState::AwaitHello {
            let ClientMessage::Hello { uid, meta } = message else {
                return Err(ProtocolError::ExpectedHello);
            };
            if uid == SERVER_PEER_ID {
                return Err(ProtocolError::ReservedUid);
            }
            self.uid = Some(uid.clone());
            self.meta = meta;
            self.state = SessionState::Ready;
            return Ok(Action::ReplyHello { uid, meta });
        }
        match message {
            ClientMessage::Hello { .. } => Err(ProtocolError::DuplicateHello),
            // The server is peer 0 and is always "in session" with its client.
            ClientMessage::Session { peer } if peer == SERVER_PEER_ID => Ok(Action::Ignore),
            ClientMessage::Session { peer } => Err(ProtocolError::PeerNotFound(peer)),
            ClientMessage::Sdp { kind, sdp } => {
                if kind != "answer" {
                    return Err(ProtocolError::UnexpectedSdpType);
                }
                match self.state {
                    SessionState::OfferSent => {
                        if sdp.trim().is_empty() {
                            return Err(ProtocolError::InvalidSdp("empty description"));
                        }
                        self.state = SessionState::Answered;
                        Ok(Action::ApplyAnswer(sdp))
                    }
                    SessionState::Answered => Err(ProtocolError::DuplicateAnswer),
                    SessionState::AwaitHello | SessionState::Ready => {
                        Err(ProtocolError::SdpBeforeOffer)
                    }
                }
            }
            ClientMessage::Ice(candidate) => match self.state {
                SessionState::OfferSent | SessionState::Answered => {
                    if candidate.candidate.is_empty() {
                        Ok(Action::EndOfCandidates)
                    } else {
                        Ok(Action::AddIce(candidate))
                    }
                }
                SessionState::AwaitHello | SessionState::Ready => {
                    Err(ProtocolError::IceBeforeOffer)
                }
            },
        }
    }

    /// Records that the driver sent an offer. Returns whether the session now waits for an
    /// answer: `false` before `HELLO` (a driver bug; the state is unchanged). Sending a new offer
    /// after an answer (renegotiation, ICE restart) waits for a new answer.
    pub fn offer_sent(&mut self) -> bool {
        match self.state {
            SessionState::AwaitHello => false,
            SessionState::Ready | SessionState::OfferSent | SessionState::Answered => {
                self.state = SessionState::OfferSent;
                true
            }
        }
    }
}

/// The JSON payloads shared by both directions.
enum Payload {
    Sdp { kind: String, sdp: String },
    Ice(Candidate),
}

/// Applies the size limit and trims surrounding ASCII whitespace (clients may add a newline).
fn trim_message(text: &str) -> Result<&str, ProtocolError> {
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(ProtocolError::TooLarge { len: text.len() });
    }
    let body = text.trim_matches(|c: char| c.is_ascii_whitespace());
    if body.is_empty() {
        return Err(ProtocolError::Empty);
    }
    Ok(body)
}

fn parse_hello<'a>(
    mut fields: impl Iterator<Item = &'a str>,
) -> Result<ClientMessage, ProtocolError> {
    let uid = fields.next().ok_or(ProtocolError::MissingUid)?;
    if !is_valid_uid(uid) {
        return Err(ProtocolError::InvalidUid);
    }
    let meta = match fields.next() {
        Some(encoded) => parse_meta(encoded)?,
        None => HelloMeta::default(),
    };
    if fields.next().is_some() {
        return Err(ProtocolError::TooManyFields("HELLO"));
    }
    Ok(ClientMessage::Hello {
        uid: uid.to_owned(),
        meta,
    })
}

fn parse_meta(encoded: &str) -> Result<HelloMeta, ProtocolError> {
    let bytes = META_B64
        .decode(encoded)
        .map_err(|_| ProtocolError::MetaBase64)?;
    let value: Value =
        serde_json::from_slice(&bytes).map_err(|e| ProtocolError::MetaJson(json_detail(&e)))?;
    let Value::Object(obj) = value else {
        return Err(ProtocolError::MetaJson("not a JSON object".to_owned()));
    };
    // Unknown fields are ignored: Selkies clients may add more in later versions.
    let res = match obj.get("res") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(parse_res(s).ok_or(ProtocolError::InvalidRes)?),
        Some(_) => return Err(ProtocolError::InvalidRes),
    };
    let scale = match obj.get("scale") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => {
            let scale = n.as_f64().ok_or(ProtocolError::InvalidScale)?;
            if !(scale.is_finite() && (MIN_SCALE..=MAX_SCALE).contains(&scale)) {
                return Err(ProtocolError::InvalidScale);
            }
            Some(scale)
        }
        Some(_) => return Err(ProtocolError::InvalidScale),
    };
    Ok(HelloMeta { res, scale })
}

/// Parses `WxH`, each side decimal digits only (no sign, no spaces) in `1..=MAX_RES_SIDE`.
fn parse_res(s: &str) -> Option<(u32, u32)> {
    let (w, h) = s.split_once('x')?;
    Some((parse_side(w)?, parse_side(h)?))
}

fn parse_side(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let side: u32 = s.parse().ok()?;
    (1..=MAX_RES_SIDE).contains(&side).then_some(side)
}

/// A uid is a short token: it is echoed in logs and error reasons and used as a map key.
fn is_valid_uid(uid: &str) -> bool {
    !uid.is_empty()
        && uid.len() <= MAX_UID_LEN
        && uid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn parse_json(body: &str) -> Result<Payload, ProtocolError> {
    let value: Value =
        serde_json::from_str(body).map_err(|e| ProtocolError::Json(json_detail(&e)))?;
    let Value::Object(mut obj) = value else {
        return Err(ProtocolError::JsonShape);
    };
    // Other top-level keys are ignored, as Selkies' relay does.
    match (obj.remove("sdp"), obj.remove("ice")) {
        (Some(sdp), None) => parse_sdp(sdp),
        (None, Some(ice)) => parse_ice(ice).map(Payload::Ice),
        _ => Err(ProtocolError::JsonShape),
    }
}

fn parse_sdp(value: Value) -> Result<Payload, ProtocolError> {
    let Value::Object(mut obj) = value else {
        return Err(ProtocolError::InvalidSdp("must be an object"));
    };
    let Some(Value::String(kind)) = obj.remove("type") else {
        return Err(ProtocolError::InvalidSdp("\"type\" must be a string"));
    };
    let Some(Value::String(sdp)) = obj.remove("sdp") else {
        return Err(ProtocolError::InvalidSdp("\"sdp\" must be a string"));
    };
    Ok(Payload::Sdp { kind, sdp })
}

fn parse_ice(value: Value) -> Result<Candidate, ProtocolError> {
    let Value::Object(mut obj) = value else {
        return Err(ProtocolError::InvalidIce("must be an object"));
    };
    let Some(Value::String(candidate)) = obj.remove("candidate") else {
        return Err(ProtocolError::InvalidIce("\"candidate\" must be a string"));
    };
    // The candidate becomes an SDP attribute line: a line break in it would inject SDP.
    if candidate.chars().any(char::is_control) {
        return Err(ProtocolError::InvalidIce(
            "\"candidate\" contains control characters",
        ));
    }
    let sdp_mid = match obj.remove("sdpMid") {
        None | Some(Value::Null) => None,
        Some(Value::String(mid)) if !mid.chars().any(char::is_control) => Some(mid),
        Some(_) => {
            return Err(ProtocolError::InvalidIce(
                "\"sdpMid\" must be a string without control characters",
            ))
        }
    };
    let sdp_mline_index = match obj.remove("sdpMLineIndex") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(n.as_u64().and_then(|i| u16::try_from(i).ok()).ok_or(
            ProtocolError::InvalidIce("\"sdpMLineIndex\" must be an integer in 0..=65535"),
        )?),
        Some(_) => {
            return Err(ProtocolError::InvalidIce(
                "\"sdpMLineIndex\" must be an integer in 0..=65535",
            ))
        }
    };
    Ok(Candidate {
        candidate,
        sdp_mid,
        sdp_mline_index,
    })
}

fn sdp_json(kind: &str, sdp: &str) -> String {
    json!({ "sdp": { "type": kind, "sdp": sdp } }).to_string()
}

/// Absent optional fields are left out rather than written as `null`: that is what
/// `RTCIceCandidate.toJSON()` produces for them in every browser we target.
fn ice_json(candidate: &Candidate) -> String {
    let mut obj = Map::new();
    obj.insert(
        "candidate".to_owned(),
        Value::String(candidate.candidate.clone()),
    );
    if let Some(mid) = &candidate.sdp_mid {
        obj.insert("sdpMid".to_owned(), Value::String(mid.clone()));
    }
    if let Some(index) = candidate.sdp_mline_index {
        obj.insert("sdpMLineIndex".to_owned(), Value::from(index));
    }
    json!({ "ice": Value::Object(obj) }).to_string()
}

/// Makes `reason` safe for one `ERROR` line: control characters and Unicode line/paragraph
/// separators become spaces, and the result is cut to [`MAX_REASON_BYTES`].
fn sanitize_reason(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len().min(MAX_REASON_BYTES));
    for c in reason.chars() {
        let c = if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
            ' '
        } else {
            c
        };
        if out.len() + c.len_utf8() > MAX_REASON_BYTES {
            break;
        }
        out.push(c);
    }
    out
}

/// serde_json's message, made single-line and short (it may quote the offending input).
fn json_detail(error: &serde_json::Error) -> String {
    let full = sanitize_reason(&error.to_string());
    match full.char_indices().nth(MAX_JSON_DETAIL) {
        Some((cut, _)) => format!("{}…", &full[..cut]),
        None => full,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    fn hello(uid: &str, meta_json: &str) -> String {
        format!("HELLO {uid} {}", b64(meta_json))
    }

    fn parse_err(text: &str) -> ProtocolError {
        match parse_client(text) {
            Err(e) => e,
            Ok(m) => panic!("{text:?} parsed as {m:?}"),
        }
    }

    fn assert_round_trip(text: &str) -> ClientMessage {
        let parsed = parse_client(text).expect("test input parses");
        let again = parse_client(&parsed.to_text()).expect("formatted message parses");
        assert_eq!(parsed, again, "round trip of {text:?}");
        parsed
    }

    fn assert_single_line(reason: &str) {
        assert!(!reason.is_empty());
        assert!(
            !reason
                .chars()
                .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')),
            "{reason:?}"
        );
        assert!(reason.len() <= MAX_REASON_BYTES + 3, "{reason:?}");
    }

    // --- HELLO ---

    #[test]
    fn hello_without_meta() {
        assert_eq!(
            parse_client("HELLO 1").unwrap(),
            ClientMessage::Hello {
                uid: "1".into(),
                meta: HelloMeta::default()
            }
        );
    }

    #[test]
    fn hello_with_selkies_meta() {
        let text = hello("1", r#"{"res":"1920x1080","scale":1.5}"#);
        assert_eq!(
            parse_client(&text).unwrap(),
            ClientMessage::Hello {
                uid: "1".into(),
                meta: HelloMeta {
                    res: Some((1920, 1080)),
                    scale: Some(1.5)
                }
            }
        );
    }

    #[test]
    fn hello_meta_fields_are_optional_and_unknown_fields_ignored() {
        let meta = |json: &str| match parse_client(&hello("3", json)).unwrap() {
            ClientMessage::Hello { meta, .. } => meta,
            other => panic!("{other:?}"),
        };
        assert_eq!(meta("{}"), HelloMeta::default());
        assert_eq!(meta(r#"{"res":null,"scale":null}"#), HelloMeta::default());
        assert_eq!(
            meta(r#"{"scale":2}"#),
            HelloMeta {
                res: None,
                scale: Some(2.0)
            }
        );
        assert_eq!(
            meta(r#"{"res":"800x600","extra":{"nested":[1,2]},"名前":"ü"}"#),
            HelloMeta {
                res: Some((800, 600)),
                scale: None
            }
        );
    }

    #[test]
    fn hello_meta_without_padding_is_accepted() {
        let padded = b64(r#"{"scale":1}"#);
        let unpadded = padded.trim_end_matches('=');
        assert_ne!(padded, unpadded, "the test needs a padded encoding");
        assert!(parse_client(&format!("HELLO 1 {unpadded}")).is_ok());
    }

    #[test]
    fn hello_tolerates_surrounding_whitespace() {
        assert!(parse_client("HELLO 1\r\n").is_ok());
        assert!(parse_client("  HELLO\t1  ").is_ok());
    }

    #[test]
    fn hello_errors() {
        assert_eq!(parse_err("HELLO"), ProtocolError::MissingUid);
        assert_eq!(parse_err("HELLO "), ProtocolError::MissingUid);
        assert_eq!(parse_err("HELLO a.b"), ProtocolError::InvalidUid);
        assert_eq!(parse_err("HELLO é"), ProtocolError::InvalidUid);
        assert_eq!(parse_err("HELLO 😀"), ProtocolError::InvalidUid);
        assert_eq!(
            parse_err(&format!("HELLO {}", "a".repeat(MAX_UID_LEN + 1))),
            ProtocolError::InvalidUid
        );
        assert!(parse_client(&format!("HELLO {}", "a".repeat(MAX_UID_LEN))).is_ok());
        assert!(parse_client("HELLO Ab_9-z").is_ok());
        assert_eq!(
            parse_err("HELLO 1 e30= extra"),
            ProtocolError::TooManyFields("HELLO")
        );
        assert_eq!(parse_err("HELLO 1 !!!"), ProtocolError::MetaBase64);
        assert_eq!(parse_err("HELLO 1 ===="), ProtocolError::MetaBase64);
        assert!(matches!(
            parse_err(&format!("HELLO 1 {}", b64("not json"))),
            ProtocolError::MetaJson(_)
        ));
        assert!(matches!(
            parse_err(&format!("HELLO 1 {}", b64("[1,2]"))),
            ProtocolError::MetaJson(_)
        ));
        assert!(matches!(
            parse_err(&format!("HELLO 1 {}", b64("  "))),
            ProtocolError::MetaJson(_)
        ));
        // Keyword is case sensitive and must stand alone.
        assert_eq!(parse_err("hello 1"), ProtocolError::Unrecognised);
        assert_eq!(parse_err("HELLO1"), ProtocolError::Unrecognised);
    }

    #[test]
    fn hello_meta_in_invalid_utf8_is_rejected() {
        let encoded = base64::engine::general_purpose::STANDARD.encode([0xff, 0xfe, b'{']);
        assert!(matches!(
            parse_err(&format!("HELLO 1 {encoded}")),
            ProtocolError::MetaJson(_)
        ));
    }

    #[test]
    fn res_validation() {
        let res = |r: &str| parse_client(&hello("1", &format!(r#"{{"res":{r}}}"#)));
        assert!(res(r#""1x1""#).is_ok());
        assert!(res(r#""16384x16384""#).is_ok());
        assert!(res(r#""01920x1080""#).is_ok());
        for bad in [
            r#""0x1080""#,
            r#""1920x0""#,
            r#""16385x100""#,
            r#""1920X1080""#,
            r#""1920*1080""#,
            r#""+1920x1080""#,
            r#""1920x-1""#,
            r#""1920 x 1080""#,
            r#""1920x1080x3""#,
            r#""x1080""#,
            r#""1920x""#,
            r#""""#,
            r#""99999999999999999999x1""#,
            r#""１９２０x1080""#,
            "1920",
            "[1920,1080]",
        ] {
            assert_eq!(res(bad), Err(ProtocolError::InvalidRes), "{bad}");
        }
    }

    #[test]
    fn scale_validation() {
        let scale = |s: &str| parse_client(&hello("1", &format!(r#"{{"scale":{s}}}"#)));
        for good in ["0.1", "1", "2.25", "10", "10.0", "1e0"] {
            assert!(scale(good).is_ok(), "{good}");
        }
        for bad in [
            "0", "0.09", "10.01", "-1", r#""1.5""#, "true", "[]", "1e400",
        ] {
            assert!(scale(bad).is_err(), "{bad}");
        }
        assert_eq!(scale("-1"), Err(ProtocolError::InvalidScale));
        assert_eq!(scale(r#""1.5""#), Err(ProtocolError::InvalidScale));
    }

    // --- SESSION, ROOM, unknown ---

    #[test]
    fn session_forms() {
        assert_eq!(
            parse_client("SESSION 0").unwrap(),
            ClientMessage::Session { peer: "0".into() }
        );
        assert_eq!(parse_err("SESSION"), ProtocolError::MissingPeer);
        assert_eq!(
            parse_err("SESSION 1 2"),
            ProtocolError::TooManyFields("SESSION")
        );
        assert_eq!(parse_err("SESSION a'b"), ProtocolError::InvalidPeer);
        assert_eq!(parse_err("ROOM lobby"), ProtocolError::Unsupported("ROOM"));
    }

    #[test]
    fn unrecognised_and_empty() {
        assert_eq!(parse_err(""), ProtocolError::Empty);
        assert_eq!(parse_err(" \r\n\t"), ProtocolError::Empty);
        assert_eq!(parse_err("SESSION_OK"), ProtocolError::Unrecognised);
        assert_eq!(parse_err("héllo wörld"), ProtocolError::Unrecognised);
        assert_eq!(parse_err("\u{0}"), ProtocolError::Unrecognised);
        assert_eq!(parse_err("[1,2]"), ProtocolError::Unrecognised);
        assert_eq!(parse_err("\"sdp\""), ProtocolError::Unrecognised);
    }

    #[test]
    fn size_limit() {
        let big = format!(
            r#"{{"sdp":{{"type":"answer","sdp":"{}"}}}}"#,
            "a".repeat(MAX_MESSAGE_BYTES)
        );
        assert_eq!(parse_err(&big), ProtocolError::TooLarge { len: big.len() });
        // Whitespace padding counts too: the limit applies to the bytes received.
        let padded = format!("HELLO 1{}", " ".repeat(MAX_MESSAGE_BYTES));
        assert!(matches!(parse_err(&padded), ProtocolError::TooLarge { .. }));
        let overhead = r#"{"sdp":{"type":"answer","sdp":""}}"#.len();
        let exact = format!(
            r#"{{"sdp":{{"type":"answer","sdp":"{}"}}}}"#,
            "a".repeat(MAX_MESSAGE_BYTES - overhead)
        );
        assert_eq!(exact.len(), MAX_MESSAGE_BYTES);
        assert!(parse_client(&exact).is_ok());
    }

    // --- SDP ---

    #[test]
    fn sdp_forms() {
        let answer = r#"{"sdp":{"type":"answer","sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}}"#;
        assert_eq!(
            parse_client(answer).unwrap(),
            ClientMessage::Sdp {
                kind: "answer".into(),
                sdp: "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n".into()
            }
        );
        // Any type parses; the session decides what is acceptable.
        assert!(matches!(
            parse_client(r#"{"sdp":{"type":"offer","sdp":""}}"#).unwrap(),
            ClientMessage::Sdp { kind, sdp } if kind == "offer" && sdp.is_empty()
        ));
        // Extra keys are tolerated at both levels.
        assert!(parse_client(r#"{"x":1,"sdp":{"type":"answer","sdp":"v=0","y":[]}}"#).is_ok());
    }

    #[test]
    fn sdp_errors() {
        for (text, want) in [
            (
                r#"{"sdp":"v=0"}"#,
                ProtocolError::InvalidSdp("must be an object"),
            ),
            (
                r#"{"sdp":{"sdp":"v=0"}}"#,
                ProtocolError::InvalidSdp("\"type\" must be a string"),
            ),
            (
                r#"{"sdp":{"type":1,"sdp":"v=0"}}"#,
                ProtocolError::InvalidSdp("\"type\" must be a string"),
            ),
            (
                r#"{"sdp":{"type":"answer"}}"#,
                ProtocolError::InvalidSdp("\"sdp\" must be a string"),
            ),
            (
                r#"{"sdp":{"type":"answer","sdp":null}}"#,
                ProtocolError::InvalidSdp("\"sdp\" must be a string"),
            ),
            (r#"{}"#, ProtocolError::JsonShape),
            (r#"{"sdp":{},"ice":{}}"#, ProtocolError::JsonShape),
            (r#"{"other":1}"#, ProtocolError::JsonShape),
        ] {
            assert_eq!(parse_err(text), want, "{text}");
        }
        assert!(matches!(parse_err("{"), ProtocolError::Json(_)));
        assert!(matches!(
            parse_err(r#"{"sdp":{"type":"answer","sdp":"v=0"}} trailing"#),
            ProtocolError::Json(_)
        ));
    }

    #[test]
    fn deep_json_nesting_is_an_error_not_a_crash() {
        let deep = format!("{{\"sdp\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(matches!(parse_err(&deep), ProtocolError::Json(_)));
    }

    // --- ICE ---

    #[test]
    fn ice_forms() {
        let text = r#"{"ice":{"candidate":"candidate:1 1 udp 2122260223 192.0.2.1 54321 typ host","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"abcd"}}"#;
        assert_eq!(
            parse_client(text).unwrap(),
            ClientMessage::Ice(Candidate {
                candidate: "candidate:1 1 udp 2122260223 192.0.2.1 54321 typ host".into(),
                sdp_mid: Some("0".into()),
                sdp_mline_index: Some(0),
            })
        );
        // Selkies 1.x sends only the m-line index.
        assert_eq!(
            parse_client(r#"{"ice":{"candidate":"candidate:x","sdpMLineIndex":65535}}"#).unwrap(),
            ClientMessage::Ice(Candidate {
                candidate: "candidate:x".into(),
                sdp_mid: None,
                sdp_mline_index: Some(65535),
            })
        );
        assert_eq!(
            parse_client(r#"{"ice":{"candidate":"","sdpMid":null,"sdpMLineIndex":null}}"#).unwrap(),
            ClientMessage::Ice(Candidate::default())
        );
    }

    #[test]
    fn ice_errors() {
        for text in [
            r#"{"ice":"candidate:x"}"#,
            r#"{"ice":{}}"#,
            r#"{"ice":{"candidate":null}}"#,
            r#"{"ice":{"candidate":5}}"#,
            r#"{"ice":{"candidate":"a\r\na=evil"}}"#,
            r#"{"ice":{"candidate":"a\u0000"}}"#,
            r#"{"ice":{"candidate":"a","sdpMid":0}}"#,
            r#"{"ice":{"candidate":"a","sdpMid":"0\n"}}"#,
            r#"{"ice":{"candidate":"a","sdpMLineIndex":-1}}"#,
            r#"{"ice":{"candidate":"a","sdpMLineIndex":65536}}"#,
            r#"{"ice":{"candidate":"a","sdpMLineIndex":0.5}}"#,
            r#"{"ice":{"candidate":"a","sdpMLineIndex":"0"}}"#,
        ] {
            assert!(
                matches!(parse_err(text), ProtocolError::InvalidIce(_)),
                "{text}"
            );
        }
    }

    // --- round trips ---

    #[test]
    fn client_round_trips() {
        let cases = [
            "HELLO 1".to_owned(),
            hello("1", r#"{"res":"1920x1080","scale":1.25}"#),
            hello("3", r#"{"res":"1x16384"}"#),
            hello("my-client_2", r#"{"scale":0.1}"#),
            hello("1", r#"{"scale":1.0000000000000002}"#),
            hello("1", "{}"),
            "SESSION 0".to_owned(),
            r#"{"sdp":{"type":"answer","sdp":"v=0\r\ns=ünïcødé 😀 \"quoted\" \\ \u0001\r\n"}}"#
                .to_owned(),
            r#"{"sdp":{"type":"","sdp":""}}"#.to_owned(),
            r#"{"ice":{"candidate":"candidate:1 1 UDP 1 ::1 9 typ host","sdpMid":"vidéo"}}"#
                .to_owned(),
            r#"{"ice":{"candidate":"","sdpMLineIndex":3}}"#.to_owned(),
            r#"{"ice":{"candidate":""}}"#.to_owned(),
        ];
        for text in &cases {
            assert_round_trip(text);
        }
    }

    #[test]
    fn hello_meta_formats_exactly() {
        let msg = ClientMessage::Hello {
            uid: "1".into(),
            meta: HelloMeta {
                res: Some((1280, 720)),
                scale: Some(2.0),
            },
        };
        assert_eq!(
            msg.to_text(),
            format!("HELLO 1 {}", b64(r#"{"res":"1280x720","scale":2.0}"#))
        );
    }

    #[test]
    fn server_messages_format() {
        assert_eq!(ServerMessage::Hello.to_text(), "HELLO");
        assert_eq!(
            ServerMessage::Error("peer '5' not found").to_text(),
            "ERROR peer '5' not found"
        );
        let offer: Value =
            serde_json::from_str(&ServerMessage::Offer("v=0\r\n").to_text()).unwrap();
        assert_eq!(offer, json!({"sdp":{"type":"offer","sdp":"v=0\r\n"}}));
        let c = Candidate {
            candidate: "candidate:1".into(),
            sdp_mid: Some("0".into()),
            sdp_mline_index: Some(0),
        };
        let text = ServerMessage::Ice(&c).to_text();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            v,
            json!({"ice":{"candidate":"candidate:1","sdpMid":"0","sdpMLineIndex":0}})
        );
        let bare = ServerMessage::Ice(&Candidate::default()).to_text();
        assert_eq!(bare, r#"{"ice":{"candidate":""}}"#);
    }

    #[test]
    fn error_reason_is_single_line_and_bounded() {
        let text = ServerMessage::Error("bad\r\nthing\u{2028}\u{0}\u{85}é").to_text();
        assert_eq!(text, "ERROR bad  thing   é");
        let long = "é".repeat(MAX_REASON_BYTES);
        let text = ServerMessage::Error(&long).to_text();
        let reason = text.strip_prefix("ERROR ").unwrap();
        assert!(reason.len() <= MAX_REASON_BYTES);
        assert_eq!(reason.len(), MAX_REASON_BYTES); // "é" is two bytes
        assert_eq!(ServerMessage::Error("").to_text(), "ERROR ");
    }

    #[test]
    fn server_round_trips() {
        let c = Candidate {
            candidate: "candidate:2 1 tcp 5 192.0.2.9 443 typ relay".into(),
            sdp_mid: Some("1".into()),
            sdp_mline_index: Some(1),
        };
        for msg in [
            ServerMessage::Hello,
            ServerMessage::Error("expected HELLO"),
            ServerMessage::Error(""),
            ServerMessage::Error("  spaced  "),
            ServerMessage::Offer("v=0\r\na=group:BUNDLE 0 1\r\n"),
            ServerMessage::Offer(""),
            ServerMessage::Ice(&c),
            ServerMessage::Ice(&Candidate::default()),
        ] {
            let parsed = parse_server(&msg.to_text()).unwrap();
            assert_eq!(parsed.as_message(), msg);
        }
        assert_eq!(
            parse_server("ERROR").unwrap(),
            OwnedServerMessage::Error(String::new())
        );
    }

    #[test]
    fn parse_server_rejects_client_forms() {
        assert_eq!(parse_server("HELLO 1"), Err(ProtocolError::Unrecognised));
        assert_eq!(parse_server(""), Err(ProtocolError::Empty));
        assert_eq!(
            parse_server(r#"{"sdp":{"type":"answer","sdp":"v=0"}}"#),
            Err(ProtocolError::InvalidSdp("the server only sends offers"))
        );
        assert!(matches!(
            parse_server(&"x".repeat(MAX_MESSAGE_BYTES + 1)),
            Err(ProtocolError::TooLarge { .. })
        ));
    }

    #[test]
    fn every_error_reason_is_single_line() {
        let errors = [
            ProtocolError::TooLarge { len: 70_000 },
            ProtocolError::Empty,
            ProtocolError::Unrecognised,
            ProtocolError::Unsupported("ROOM"),
            ProtocolError::MissingUid,
            ProtocolError::InvalidUid,
            ProtocolError::ReservedUid,
            ProtocolError::TooManyFields("HELLO"),
            ProtocolError::MetaBase64,
            ProtocolError::InvalidRes,
            ProtocolError::InvalidScale,
            ProtocolError::MissingPeer,
            ProtocolError::InvalidPeer,
            ProtocolError::PeerNotFound("7".into()),
            ProtocolError::JsonShape,
            ProtocolError::InvalidSdp("x"),
            ProtocolError::InvalidIce("x"),
            ProtocolError::ExpectedHello,
            ProtocolError::DuplicateHello,
            ProtocolError::UnexpectedSdpType,
            ProtocolError::SdpBeforeOffer,
            ProtocolError::DuplicateAnswer,
            ProtocolError::IceBeforeOffer,
        ];
        for e in &errors {
            assert_single_line(&e.to_string());
        }
        // JSON errors quote input: a nasty string must still give a safe, short reason.
        let nasty = format!(
            "HELLO 1 {}",
            b64(&format!(r#"{{"res":"{}\n{}""#, "é".repeat(500), "\u{2028}"))
        );
        assert_single_line(&parse_err(&nasty).to_string());
        let nasty_json = format!("{{\"sdp\": \"{}\u{2028}\n", "x".repeat(1000));
        assert_single_line(&parse_err(&nasty_json).to_string());
        let bad_type = format!(r#"{{"scale":"{}"}}"#, "\\n".repeat(300));
        assert_single_line(&parse_err(&hello("1", &bad_type)).to_string());
    }

    #[test]
    fn peer_roles() {
        assert_eq!(PeerRole::from_uid("1"), PeerRole::Video);
        assert_eq!(PeerRole::from_uid("3"), PeerRole::Audio);
        assert_eq!(PeerRole::from_uid("2"), PeerRole::Other);
        assert_eq!(PeerRole::from_uid("web"), PeerRole::Other);
    }

    // --- session state machine ---

    const ANSWER: &str = r#"{"sdp":{"type":"answer","sdp":"v=0\r\n"}}"#;
    const ICE: &str =
        r#"{"ice":{"candidate":"candidate:1 1 udp 1 192.0.2.1 9 typ host","sdpMLineIndex":0}}"#;
    const END_ICE: &str = r#"{"ice":{"candidate":"","sdpMid":"0"}}"#;

    #[test]
    fn session_happy_path() {
        let mut s = SignalSession::new();
        assert_eq!(s.state(), SessionState::AwaitHello);
        assert_eq!(s.uid(), None);
        assert_eq!(s.role(), None);
        let action = s
            .on_text(&hello("1", r#"{"res":"1024x768","scale":1}"#))
            .unwrap();
        let meta = HelloMeta {
            res: Some((1024, 768)),
            scale: Some(1.0),
        };
        assert_eq!(
            action,
            Action::ReplyHello {
                uid: "1".into(),
                meta
            }
        );
        assert_eq!(s.state(), SessionState::Ready);
        assert_eq!(s.uid(), Some("1"));
        assert_eq!(s.role(), Some(PeerRole::Video));
        assert_eq!(s.meta(), meta);
        assert_eq!(s.on_text("SESSION 0").unwrap(), Action::Ignore);
        assert!(s.offer_sent());
        assert_eq!(s.state(), SessionState::OfferSent);
        // Trickle ICE may overtake the answer.
        assert!(
            matches!(s.on_text(ICE).unwrap(), Action::AddIce(c) if c.sdp_mline_index == Some(0))
        );
        assert_eq!(
            s.on_text(ANSWER).unwrap(),
            Action::ApplyAnswer("v=0\r\n".into())
        );
        assert_eq!(s.state(), SessionState::Answered);
        assert!(matches!(s.on_text(ICE).unwrap(), Action::AddIce(_)));
        assert_eq!(s.on_text(END_ICE).unwrap(), Action::EndOfCandidates);
        assert_eq!(s.state(), SessionState::Answered);
    }

    #[test]
    fn first_message_must_be_hello() {
        for text in ["SESSION 0", "SESSION 1", ANSWER, ICE, END_ICE] {
            let mut s = SignalSession::new();
            assert_eq!(s.on_text(text), Err(ProtocolError::ExpectedHello), "{text}");
            assert_eq!(s.state(), SessionState::AwaitHello);
        }
        // A parse error is reported as such, not as "expected HELLO".
        let mut s = SignalSession::new();
        assert_eq!(s.on_text("nonsense"), Err(ProtocolError::Unrecognised));
        assert!(!s.offer_sent());
        assert_eq!(s.state(), SessionState::AwaitHello);
        assert!(s.on_text("HELLO 1").is_ok());
    }

    #[test]
    fn reserved_and_duplicate_hello() {
        let mut s = SignalSession::new();
        assert_eq!(s.on_text("HELLO 0"), Err(ProtocolError::ReservedUid));
        assert_eq!(s.state(), SessionState::AwaitHello);
        assert!(s.on_text("HELLO 3").is_ok());
        assert_eq!(s.role(), Some(PeerRole::Audio));
        assert_eq!(s.on_text("HELLO 1"), Err(ProtocolError::DuplicateHello));
        assert_eq!(s.uid(), Some("3"), "a rejected HELLO changes nothing");
    }

    #[test]
    fn session_to_other_peer_is_not_found() {
        let mut s = SignalSession::new();
        s.on_text("HELLO 1").unwrap();
        assert_eq!(
            s.on_text("SESSION 1"),
            Err(ProtocolError::PeerNotFound("1".into()))
        );
        assert_eq!(
            s.on_text("SESSION 1").unwrap_err().to_string(),
            "peer '1' not found"
        );
        assert_eq!(s.state(), SessionState::Ready);
    }

    #[test]
    fn sdp_out_of_order() {
        let mut s = SignalSession::new();
        s.on_text("HELLO 1").unwrap();
        assert_eq!(s.on_text(ANSWER), Err(ProtocolError::SdpBeforeOffer));
        assert_eq!(s.on_text(ICE), Err(ProtocolError::IceBeforeOffer));
        assert_eq!(s.on_text(END_ICE), Err(ProtocolError::IceBeforeOffer));
        assert!(s.offer_sent());
        assert_eq!(
            s.on_text(r#"{"sdp":{"type":"offer","sdp":"v=0"}}"#),
            Err(ProtocolError::UnexpectedSdpType)
        );
        assert_eq!(
            s.on_text(r#"{"sdp":{"type":"pranswer","sdp":"v=0"}}"#),
            Err(ProtocolError::UnexpectedSdpType)
        );
        assert_eq!(
            s.on_text(r#"{"sdp":{"type":"answer","sdp":" \r\n"}}"#),
            Err(ProtocolError::InvalidSdp("empty description"))
        );
        assert_eq!(s.state(), SessionState::OfferSent);
        assert!(s.on_text(ANSWER).is_ok());
        assert_eq!(s.on_text(ANSWER), Err(ProtocolError::DuplicateAnswer));
        // Renegotiation: a new offer waits for a new answer.
        assert!(s.offer_sent());
        assert_eq!(
            s.on_text(ANSWER).unwrap(),
            Action::ApplyAnswer("v=0\r\n".into())
        );
    }

    #[test]
    fn oversized_message_rejected_by_session() {
        let mut s = SignalSession::new();
        let big = format!("HELLO 1 {}", "A".repeat(MAX_MESSAGE_BYTES));
        assert!(matches!(
            s.on_text(&big),
            Err(ProtocolError::TooLarge { .. })
        ));
        assert_eq!(s.state(), SessionState::AwaitHello);
    }
}
