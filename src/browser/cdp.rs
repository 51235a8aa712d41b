//! A minimal synchronous Chrome DevTools Protocol client for one page target.
//!
//! Commands are sent one at a time and their replies matched by id; events that arrive in between
//! are kept (bounded) so a caller can wait for one. No async: the bench and the tests that use it
//! read top to bottom.

use std::collections::VecDeque;
use std::io::ErrorKind;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};
use tungstenite::{Message, WebSocket};

/// How long a command may take unless the caller says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Events kept for [`Cdp::wait_event`]; older ones are dropped.
const MAX_EVENTS: usize = 10_000;

/// A CDP session on one target's WebSocket (`ws://127.0.0.1:<port>/devtools/page/<id>`).
pub struct Cdp {
    ws: WebSocket<TcpStream>,
    next_id: u64,
    events: VecDeque<Value>,
    /// Per-command deadline.
    pub timeout: Duration,
}

impl Cdp {
    /// Connects to a DevTools WebSocket URL on loopback.
    pub fn connect(ws_url: &str) -> Result<Self> {
        let rest = ws_url
            .strip_prefix("ws://")
            .with_context(|| format!("not a ws:// DevTools URL: {ws_url}"))?;
        let host_port = rest.split('/').next().unwrap_or(rest);
        let stream = TcpStream::connect(host_port)
            .with_context(|| format!("connect to DevTools at {host_port}"))?;
        stream.set_nodelay(true).context("set TCP_NODELAY")?;
        stream
            .set_read_timeout(Some(DEFAULT_TIMEOUT))
            .context("set read timeout")?;
        let (ws, _) = tungstenite::client(ws_url, stream)
            .map_err(|e| anyhow!("DevTools WebSocket handshake with {ws_url}: {e}"))?;
        Ok(Self {
            ws,
            next_id: 1,
            events: VecDeque::new(),
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// Sends `method` with `params` and returns its `result`; a CDP error becomes `Err`.
    pub fn call(&mut self, method: &str, params: Value) -> Result<Value> {
        let id = self.next_id;
        self.next_id += 1;
        let msg = json!({ "id": id, "method": method, "params": params });
        self.ws
            .send(Message::text(msg.to_string()))
            .with_context(|| format!("send CDP {method}"))?;
        let deadline = Instant::now() + self.timeout;
        loop {
            let msg = self
                .read_before(deadline)
                .with_context(|| format!("waiting for the reply to CDP {method}"))?;
            if msg.get("id").and_then(Value::as_u64) == Some(id) {
                if let Some(err) = msg.get("error") {
                    bail!("CDP {method} failed: {err}");
                }
                return Ok(msg.get("result").cloned().unwrap_or(Value::Null));
            }
            if msg.get("method").is_some() {
                self.keep_event(msg);
            }
        }
    }

    /// Evaluates `js` in the page (awaiting a returned promise) and returns its value as JSON;
    /// `undefined` and values JSON cannot carry come back as `null`. A thrown exception is `Err`.
    pub fn eval(&mut self, js: &str) -> Result<Value> {
        let reply = self.call(
            "Runtime.evaluate",
            json!({
                "expression": js,
                "awaitPromise": true,
                "returnByValue": true,
                "userGesture": true,
            }),
        )?;
        if let Some(ex) = reply.get("exceptionDetails") {
            let what = ex
                .pointer("/exception/description")
                .and_then(Value::as_str)
                .or_else(|| ex.get("text").and_then(Value::as_str))
                .unwrap_or("unknown exception");
            bail!("JavaScript threw: {what}\n  in: {}", shorten(js));
        }
        Ok(reply
            .pointer("/result/value")
            .cloned()
            .unwrap_or(Value::Null))
    }

    /// Evaluates `js_condition` every 50 ms until it is truthy and returns that value. Exceptions
    /// count as "not yet" (the page may still be loading); the last one is reported on timeout.
    pub fn wait_for(&mut self, js_condition: &str, timeout: Duration) -> Result<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let last = match self.eval(js_condition) {
                Ok(v) if truthy(&v) => return Ok(v),
                Ok(v) => format!("last value {v}"),
                Err(e) => format!("last error {e:#}"),
            };
            if Instant::now() >= deadline {
                bail!(
                    "timed out after {timeout:?} waiting for `{}` ({last})",
                    shorten(js_condition)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Adds `headers` to every request the page makes from now on (page loads, fetches and
    /// WebSocket handshakes), e.g. `("Authorization", "Basic …")`.
    pub fn set_extra_headers(&mut self, headers: &[(&str, &str)]) -> Result<()> {
        let map: serde_json::Map<String, Value> = headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
            .collect();
        self.call("Network.enable", json!({}))?;
        self.call("Network.setExtraHTTPHeaders", json!({ "headers": map }))?;
        Ok(())
    }

    /// Loads `url` in the page and waits for its `load` event.
    pub fn navigate(&mut self, url: &str) -> Result<()> {
        self.call("Page.enable", json!({}))?;
        self.events
            .retain(|e| e.get("method").and_then(Value::as_str) != Some("Page.loadEventFired"));
        let reply = self.call("Page.navigate", json!({ "url": url }))?;
        if let Some(err) = reply.get("errorText").and_then(Value::as_str) {
            bail!("navigating to {url} failed: {err}");
        }
        self.wait_event("Page.loadEventFired", self.timeout)
            .with_context(|| format!("loading {url}"))?;
        Ok(())
    }

    /// Returns the first event named `method` received since the last call that consumed it,
    /// waiting up to `timeout` for one. Enable its domain first (e.g. `Page.enable`).
    pub fn wait_event(&mut self, method: &str, timeout: Duration) -> Result<Value> {
        let is_it = |e: &Value| e.get("method").and_then(Value::as_str) == Some(method);
        if let Some(i) = self.events.iter().position(is_it) {
            return Ok(self.events.remove(i).unwrap_or(Value::Null));
        }
        let deadline = Instant::now() + timeout;
        loop {
            let msg = self
                .read_before(deadline)
                .with_context(|| format!("waiting for CDP event {method}"))?;
            if is_it(&msg) {
                return Ok(msg);
            }
            if msg.get("method").is_some() {
                self.keep_event(msg);
            }
        }
    }

    /// Takes every event received so far.
    pub fn take_events(&mut self) -> Vec<Value> {
        self.events.drain(..).collect()
    }

    /// Reads the colour of the `<video id="stream">` at (`x`, `y`) in the video's own pixels
    /// (`videoWidth`x`videoHeight`, whatever size the element is shown at).
    pub fn video_pixel(&mut self, x: u32, y: u32) -> Result<[u8; 3]> {
        let px = self.video_pixels(&[(x, y)])?;
        px.first()
            .copied()
            .context("video_pixels returned no pixel")
    }

    /// Like [`Cdp::video_pixel`] for several points, all from the same video frame.
    pub fn video_pixels(&mut self, points: &[(u32, u32)]) -> Result<Vec<[u8; 3]>> {
        let pts = serde_json::to_string(points).context("serialise points")?;
        let js = format!(
            r#"(() => {{
  const v = document.getElementById('stream');
  if (!v) throw new Error('no element with id "stream"');
  const w = v.videoWidth, h = v.videoHeight;
  if (!w || !h) throw new Error('the video has no frame yet');
  const c = window.__harnessCanvas || (window.__harnessCanvas = document.createElement('canvas'));
  if (c.width !== w || c.height !== h) {{ c.width = w; c.height = h; }}
  const g = c.getContext('2d', {{ willReadFrequently: true }});
  g.drawImage(v, 0, 0, w, h);
  return {pts}.map(([x, y]) => {{
    if (x >= w || y >= h) throw new Error(`pixel (${{x}},${{y}}) outside the ${{w}}x${{h}} video`);
    const d = g.getImageData(x, y, 1, 1).data;
    return [d[0], d[1], d[2]];
  }});
}})()"#
        );
        let v = self.eval(&js)?;
        let arr = v
            .as_array()
            .with_context(|| format!("video_pixels: expected an array, got {v}"))?;
        arr.iter()
            .map(|p| {
                let c = |i: usize| {
                    p.get(i)
                        .and_then(Value::as_u64)
                        .and_then(|n| u8::try_from(n).ok())
                        .with_context(|| format!("video_pixels: bad pixel {p}"))
                };
                Ok([c(0)?, c(1)?, c(2)?])
            })
            .collect()
    }

    /// Reads one message as JSON, giving up at `deadline`.
    fn read_before(&mut self, deadline: Instant) -> Result<Value> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                bail!("CDP timeout");
            }
            self.ws
                .get_ref()
                .set_read_timeout(Some(left))
                .context("set read timeout")?;
            match self.ws.read() {
                Ok(Message::Text(t)) => {
                    return serde_json::from_str(t.as_str())
                        .with_context(|| format!("CDP sent invalid JSON: {}", shorten(&t)));
                }
                Ok(Message::Close(frame)) => bail!("DevTools closed the connection: {frame:?}"),
                Ok(_) => continue,
                Err(tungstenite::Error::Io(e))
                    if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                {
                    continue
                }
                Err(e) => return Err(e).context("read from DevTools"),
            }
        }
    }

    fn keep_event(&mut self, event: Value) {
        if self.events.len() >= MAX_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }
}

/// JavaScript truthiness of a JSON value.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

fn shorten(s: &str) -> String {
    const MAX: usize = 200;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}
