//! Like [`super::Server`], but keeps what the server prints on stdout (its start-up banner and,
//! with basic auth on and no password set, the generated password), and passes the environment
//! through as given: nothing is set or defaulted besides the display, address and port.

use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct CapturedServer {
    child: Child,
    pub port: u16,
    stdout: PathBuf,
    log: PathBuf,
}

impl CapturedServer {
    /// Starts `selkies-rs serve` on `display` with `env` (and without `remove` from the test's
    /// own environment); waits for `/health`.
    pub fn start(display: &str, env: &[(&str, &str)], remove: &[&str]) -> Result<Self> {
        let port = super::free_port();
        let dir = std::env::temp_dir();
        let stdout = dir.join(format!("selkies-test-{port}.stdout"));
        let log = dir.join(format!("selkies-test-{port}.stderr"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_selkies-rs"));
        cmd.arg("serve")
            .env("DISPLAY", display)
            .env("SELKIES_ADDR", "127.0.0.1")
            .env("SELKIES_PORT", port.to_string())
            .env(
                "SELKIES_INTERPOSER_SOCKET_DIR",
                super::server::gamepad_dir(port),
            )
            .env("SELKIES_UINPUT_GAMEPAD", "false")
            .env("RUST_LOG", "info,selkies_rs=debug")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout)?)
            .stderr(std::fs::File::create(&log)?);
        for k in remove {
            cmd.env_remove(k);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().context("starting selkies-rs")?;
        let mut server = Self {
            child,
            port,
            stdout,
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(status) = server.child.try_wait()? {
                bail!("selkies-rs exited with {status}:\n{}", server.log_text());
            }
            if super::http::get(port, "/health", None).is_ok_and(|r| r.status == 200) {
                return Ok(server);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("selkies-rs did not answer /health:\n{}", server.log_text())
    }

    /// Everything printed on stdout so far.
    pub fn stdout_text(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    /// The log (stderr) so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for CapturedServer {
    fn drop(&mut self) {
        super::server::stop_child(&mut self.child);
        let _ = std::fs::remove_file(&self.stdout);
        let _ = std::fs::remove_file(&self.log);
        let _ = std::fs::remove_dir_all(super::server::gamepad_dir(self.port));
    }
}
