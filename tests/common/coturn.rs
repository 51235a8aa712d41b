//! coturn (`turnserver`) on loopback for a test: TURN REST auth with a shared secret, relays on
//! 127.0.0.1 (loopback peers allowed, which coturn refuses by default), stopped by PID on drop.

use anyhow::{bail, Context, Result};
use std::net::UdpSocket;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Coturn {
    child: Child,
    pub port: u16,
    log: std::path::PathBuf,
}

impl Coturn {
    /// Starts coturn on a free UDP/TCP port with `secret` as its `static-auth-secret`.
    pub fn start(secret: &str) -> Result<Self> {
        if !std::path::Path::new("/usr/bin/turnserver").exists() {
            bail!("turnserver not found: install coturn (Debian: apt-get install coturn)");
        }
        let port = super::free_port();
        let log = std::env::temp_dir().join(format!("selkies-test-coturn-{port}.log"));
        let child = Command::new("/usr/bin/turnserver")
            .args(["-n", "--no-cli", "--no-tls", "--no-dtls", "--fingerprint"])
            .args(["--listening-ip", "127.0.0.1", "--relay-ip", "127.0.0.1"])
            .args(["--listening-port", &port.to_string()])
            .args(["--use-auth-secret", "--static-auth-secret", secret])
            .args(["--realm", "selkies-test", "--allow-loopback-peers"])
            .args(["--no-stdout-log", "--simple-log", "--log-file"])
            .arg(&log)
            .args(["--pidfile", "/dev/null"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("start turnserver")?;
        let mut turn = Self { child, port, log };
        turn.wait_listening()?;
        Ok(turn)
    }

    /// Waits until a STUN binding request on the port gets an answer.
    fn wait_listening(&mut self) -> Result<()> {
        let socket = UdpSocket::bind("127.0.0.1:0")?;
        socket.set_read_timeout(Some(Duration::from_millis(200)))?;
        // A STUN Binding Request: type 0x0001, length 0, magic cookie, transaction id.
        let mut request = vec![0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42];
        request.extend_from_slice(b"selkiestest1");
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut buf = [0u8; 512];
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                bail!("turnserver exited with {status}:\n{}", self.log_text());
            }
            socket.send_to(&request, ("127.0.0.1", self.port))?;
            if let Ok((n, _)) = socket.recv_from(&mut buf) {
                if n >= 20 && buf[0] == 0x01 && buf[1] == 0x01 {
                    return Ok(());
                }
            }
        }
        bail!("turnserver did not answer STUN:\n{}", self.log_text())
    }

    /// What coturn logged (it names each allocation and relayed peer).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}
