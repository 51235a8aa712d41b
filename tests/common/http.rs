//! Raw HTTP/1.1 requests to a server under test, returning status, headers and body, so tests
//! can check headers (`WWW-Authenticate`) and answers to WebSocket upgrades (`101` vs `401`).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use base64::Engine as _;

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    /// Header names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `Authorization` header value for basic auth.
pub fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// `GET path` on 127.0.0.1:`port`, with an optional `Authorization` value.
pub fn get(port: u16, path: &str, authorization: Option<&str>) -> Result<Reply> {
    let mut headers = vec![("Connection", "close".to_owned())];
    if let Some(a) = authorization {
        headers.push(("Authorization", a.to_owned()));
    }
    request(port, path, &headers)
}

/// A WebSocket upgrade request for `path` (a browser's handshake), returning the server's answer
/// without continuing as a WebSocket.
pub fn ws_upgrade(port: u16, path: &str, authorization: Option<&str>) -> Result<Reply> {
    let mut headers = vec![
        ("Connection", "Upgrade".to_owned()),
        ("Upgrade", "websocket".to_owned()),
        ("Sec-WebSocket-Version", "13".to_owned()),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==".to_owned()),
    ];
    if let Some(a) = authorization {
        headers.push(("Authorization", a.to_owned()));
    }
    request(port, path, &headers)
}

/// Sends `GET path` with `headers` and reads the head and a `Content-Length` body (none for 101).
pub fn request(port: u16, path: &str, headers: &[(&str, String)]) -> Result<Reply> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).context("connect")?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).context("send request")?;

    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = s.read(&mut chunk).context("read response head")?;
        if n == 0 {
            bail!(
                "connection closed before the end of the response head: {:?}",
                String::from_utf8_lossy(&buf)
            );
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .with_context(|| format!("bad status line {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = buf[head_end + 4..].to_vec();
    if status != 101 {
        let len = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse::<usize>().ok());
        match len {
            Some(len) => {
                while body.len() < len {
                    let n = s.read(&mut chunk).context("read response body")?;
                    if n == 0 {
                        break;
                    }
                    body.extend_from_slice(&chunk[..n]);
                }
            }
            None => {
                let _ = s.read_to_end(&mut body);
            }
        }
    }
    Ok(Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}
