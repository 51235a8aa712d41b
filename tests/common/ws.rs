//! A synchronous signalling WebSocket client for tests that speak the protocol by hand: send
//! one message, read what the server answers, see how it closes.

use std::io::ErrorKind;
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Message, WebSocket};

/// What the server said when it rejected a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The text after `ERROR `.
    pub reason: String,
    /// Text messages that came before the `ERROR` (e.g. `HELLO`, the offer, candidates).
    pub before: Vec<String>,
    /// The close code that followed, if the server closed with a Close frame.
    pub close_code: Option<u16>,
}

/// How a read ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    Text(String),
    /// A Close frame (with its code) or the connection ending.
    Closed(Option<u16>),
}

pub struct WsClient {
    ws: WebSocket<TcpStream>,
}

impl WsClient {
    /// Opens `ws://127.0.0.1:<port>/<path>`.
    pub fn connect(url: &str) -> Result<Self> {
        let rest = url
            .strip_prefix("ws://")
            .with_context(|| format!("not a ws:// URL: {url}"))?;
        let host_port = rest.split('/').next().unwrap_or(rest);
        let stream = TcpStream::connect(host_port).with_context(|| format!("connect {url}"))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let (ws, _) = tungstenite::client(url, stream)
            .map_err(|e| anyhow!("WebSocket handshake with {url}: {e}"))?;
        Ok(Self { ws })
    }

    pub fn send_text(&mut self, text: &str) -> Result<()> {
        self.ws
            .send(Message::text(text))
            .context("send text message")
    }

    pub fn send_binary(&mut self, data: Vec<u8>) -> Result<()> {
        self.ws
            .send(Message::binary(data))
            .context("send binary message")
    }

    /// The next text message or the close, waiting up to `timeout`.
    pub fn read(&mut self, timeout: Duration) -> Result<Incoming> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                bail!("nothing from the server within {timeout:?}");
            }
            self.ws.get_ref().set_read_timeout(Some(left))?;
            match self.ws.read() {
                Ok(Message::Text(t)) => return Ok(Incoming::Text(t.as_str().to_owned())),
                Ok(Message::Close(frame)) => {
                    return Ok(Incoming::Closed(frame.map(|f| u16::from(f.code))))
                }
                Ok(_) => continue,
                Err(tungstenite::Error::Io(e))
                    if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                {
                    continue
                }
                Err(
                    tungstenite::Error::ConnectionClosed
                    | tungstenite::Error::AlreadyClosed
                    | tungstenite::Error::Io(_)
                    | tungstenite::Error::Protocol(_),
                ) => return Ok(Incoming::Closed(None)),
                Err(e) => return Err(e).context("read from the server"),
            }
        }
    }

    /// Reads text messages until one satisfies `pred` and returns it (with those before it).
    pub fn read_until(
        &mut self,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> Result<(String, Vec<String>)> {
        let deadline = Instant::now() + timeout;
        let mut before = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.read(left)? {
                Incoming::Text(t) if pred(&t) => return Ok((t, before)),
                Incoming::Text(t) => before.push(t),
                Incoming::Closed(code) => {
                    bail!(
                        "the server closed ({code:?}) before the expected message; got {before:?}"
                    )
                }
            }
        }
    }

    /// Reads until `ERROR <reason>`, then until the server closes; fails if it never does either.
    pub fn expect_error(&mut self, timeout: Duration) -> Result<Rejection> {
        let (error, before) = self.read_until(timeout, |t| t.starts_with("ERROR"))?;
        let reason = error
            .strip_prefix("ERROR")
            .unwrap_or_default()
            .trim_start()
            .to_owned();
        let close_code = match self.read(timeout) {
            Ok(Incoming::Closed(code)) => code,
            Ok(Incoming::Text(t)) => bail!("after ERROR {reason}, the server sent {t:?}"),
            Err(e) => return Err(e).context(format!("server did not close after ERROR {reason}")),
        };
        Ok(Rejection {
            reason,
            before,
            close_code,
        })
    }

    /// Drops the TCP connection without a WebSocket close handshake.
    pub fn abort(self) {
        let _ = self.ws.get_ref().shutdown(Shutdown::Both);
    }
}

/// The close code a server uses for a protocol error.
pub fn protocol_error_code() -> u16 {
    u16::from(CloseCode::Protocol)
}
