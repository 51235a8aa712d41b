//! Runs the real `selkies-rs serve` binary for a test, on a free port, against a given display,
//! and stops it by PID on drop.

use anyhow::{bail, Context, Result};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    child: Child,
    pub port: u16,
    log: std::path::PathBuf,
}

impl Server {
    /// Starts the server on `display` with auth off unless `env` turns it on; waits for /health.
    pub fn start(display: &str, env: &[(&str, &str)]) -> Result<Self> {
        let port = super::free_port();
        let log = std::env::temp_dir().join(format!("selkies-test-{port}.log"));
        let logfile = std::fs::File::create(&log)?;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_selkies-rs"));
        cmd.arg("serve")
            .env("DISPLAY", display)
            .env("SELKIES_ADDR", "127.0.0.1")
            .env("SELKIES_PORT", port.to_string())
            .env("SELKIES_ENABLE_BASIC_AUTH", "false")
            // Gamepad sockets per server: tests run servers side by side, and /tmp is shared.
            .env("SELKIES_INTERPOSER_SOCKET_DIR", gamepad_dir(port))
            // Never real kernel devices from a test, on hosts that have uinput.
            .env("SELKIES_UINPUT_GAMEPAD", "false")
            // Sound only where a test asks for it (with its own PULSE_SERVER).
            .env("SELKIES_ENABLE_AUDIO", "false")
            .env("RUST_LOG", "info,selkies_rs=debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(logfile);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().context("starting selkies-rs")?;
        let mut server = Self { child, port, log };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(status) = server.child.try_wait()? {
                bail!("selkies-rs exited with {status}:\n{}", server.log_text());
            }
            if server
                .get("/health", None)
                .is_ok_and(|(code, _)| code == 200)
            {
                return Ok(server);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("selkies-rs did not answer /health:\n{}", server.log_text())
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/ws", self.port)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// A plain HTTP/1.1 GET; returns the status code and body.
    pub fn get(&self, path: &str, authorization: Option<&str>) -> Result<(u16, String)> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port))?;
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        let auth = authorization
            .map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n"
        )?;
        let mut buf = String::new();
        s.read_to_string(&mut buf)?;
        let code = buf
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .context("no status line")?;
        let body = buf
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        Ok((code, body))
    }
}

/// Stops a server process: SIGTERM (so it tears down cleanly), then SIGKILL after 3 s.
/// Where the server on `port` puts its gamepad sockets.
pub fn gamepad_dir(port: u16) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("selkies-test-gamepads-{port}"))
}

pub fn stop_child(child: &mut Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        if !matches!(child.try_wait(), Ok(None)) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

impl Drop for Server {
    fn drop(&mut self) {
        stop_child(&mut self.child);
        let _ = std::fs::remove_file(&self.log);
        let _ = std::fs::remove_dir_all(gamepad_dir(self.port));
    }
}
