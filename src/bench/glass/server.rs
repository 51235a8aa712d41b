//! `selkies-rs serve` as a child process for the glass bench: this binary, on the bench's
//! display, on a free loopback port, without authentication (nothing leaves the machine), with
//! the bench's fps, bitrate and encoder. A child, not in-process, so that its CPU time and peak
//! RSS are the server's alone.

use anyhow::{bail, Context};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the server may take to answer `/health`.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// What the server is started with.
pub struct Settings<'a> {
    pub display: &'a str,
    pub fps: u32,
    pub bitrate_kbps: u32,
    pub encoder: String,
    pub codec: String,
    pub threads: u32,
    pub rate_control: String,
    pub inject_delay_ms: u64,
    /// Xvfb's framebuffer file, read in place (`SELKIES_XVFB_FRAMEBUFFER`).
    pub framebuffer: Option<std::path::PathBuf>,
}

/// A running server; killed and reaped on drop.
pub struct ServerProcess {
    child: Child,
    port: u16,
}

impl ServerProcess {
    /// Starts the server and waits until it answers `/health`.
    ///
    /// # Errors
    /// No free port, the binary cannot run, or the server exits or stays silent.
    pub fn start(s: &Settings<'_>) -> anyhow::Result<Self> {
        let port = free_port()?;
        let exe = std::env::current_exe().context("cannot find this executable to re-run it")?;
        let mut command = Command::new(exe);
        if let Some(fb) = &s.framebuffer {
            command.env("SELKIES_XVFB_FRAMEBUFFER", fb);
        }
        let child = command
            .arg("serve")
            .env("DISPLAY", s.display)
            .env("SELKIES_ADDR", "127.0.0.1")
            .env("SELKIES_PORT", port.to_string())
            .env("SELKIES_WEBRTC_ADDR", "127.0.0.1")
            .env("SELKIES_ENABLE_BASIC_AUTH", "false")
            .env("SELKIES_ENABLE_HTTPS", "false")
            .env("SELKIES_FRAMERATE", s.fps.to_string())
            .env("SELKIES_VIDEO_BITRATE", s.bitrate_kbps.to_string())
            .env("SELKIES_ENCODER", &s.encoder)
            .env("SELKIES_VIDEO_CODEC", &s.codec)
            .env("SELKIES_ENCODER_THREADS", s.threads.to_string())
            .env("SELKIES_RATE_CONTROL", &s.rate_control)
            .env("SELKIES_INJECT_DELAY_MS", s.inject_delay_ms.to_string())
            // The bench prints its own figures; the server speaks only when something is wrong.
            .env(
                "RUST_LOG",
                // webrtc-rs's DTLS warns about every extension Chromium offers that it skips.
                std::env::var("RUST_LOG").unwrap_or_else(|_| "warn,rtc_dtls=error".into()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot start `selkies-rs serve`")?;
        let mut server = Self { child, port };
        server.wait_healthy()?;
        Ok(server)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn wait_healthy(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("`selkies-rs serve` exited during start-up ({status})");
            }
            if health_ok(self.port) {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("`selkies-rs serve` did not answer /health within {START_TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on now (the OS picks it; the server binds it a moment later).
fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("no free loopback port")?;
    Ok(listener.local_addr()?.port())
}

/// Whether `GET /health` answers 200.
fn health_ok(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if write!(
        s,
        "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}
