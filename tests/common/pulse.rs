//! A private PulseAudio server for a test: a null sink named `desktop` (what the desktop would
//! play to) on a socket of its own, stopped by PID on drop. `module-sine` plays tones into it.

use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub struct Pulse {
    child: Child,
    dir: PathBuf,
    /// For `PULSE_SERVER`.
    pub server: String,
}

impl Pulse {
    pub fn start() -> Result<Self> {
        if !std::path::Path::new("/usr/bin/pulseaudio").exists() {
            bail!("pulseaudio not found (Debian: apt-get install pulseaudio pulseaudio-utils)");
        }
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "selkies-test-pulse-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)?;
        let socket = dir.join("native");
        let log = std::fs::File::create(dir.join("log"))?;
        // Its own HOME and runtime directory: no user configuration, no clash with a session's
        // server. Root is allowed to run it, with a warning.
        let child = Command::new("/usr/bin/pulseaudio")
            .args([
                "-n",
                "--daemonize=no",
                "--exit-idle-time=-1",
                "--disallow-exit",
            ])
            .args(["--use-pid-file=no", "--log-target=stderr"])
            .args([
                "-L",
                "module-null-sink sink_name=desktop rate=48000 channels=2",
            ])
            .arg("-L")
            .arg(format!(
                "module-native-protocol-unix auth-anonymous=1 socket={}",
                socket.display()
            ))
            .env("HOME", &dir)
            .env("XDG_RUNTIME_DIR", &dir)
            .env("XDG_CONFIG_HOME", &dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("starting pulseaudio")?;
        let mut pulse = Self {
            child,
            server: format!("unix:{}", socket.display()),
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = pulse.child.try_wait()? {
                bail!("pulseaudio exited with {status}:\n{}", pulse.log_text());
            }
            if pulse.pactl(&["info"]).is_ok() {
                return Ok(pulse);
            }
            if Instant::now() > deadline {
                bail!("pulseaudio did not answer:\n{}", pulse.log_text());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    /// Runs `pactl` against this server; its stdout on success.
    pub fn pactl(&self, args: &[&str]) -> Result<String> {
        let Output {
            status,
            stdout,
            stderr,
        } = Command::new("pactl")
            .args(args)
            .env("PULSE_SERVER", &self.server)
            .output()
            .context("running pactl (Debian: pulseaudio-utils)")?;
        if !status.success() {
            bail!("pactl {args:?}: {}", String::from_utf8_lossy(&stderr));
        }
        Ok(String::from_utf8_lossy(&stdout).into_owned())
    }

    /// Plays a sine at `hz` into the `desktop` sink until [`Pulse::stop_tone`]; returns its module.
    pub fn play_tone(&self, hz: u32) -> Result<String> {
        let out = self.pactl(&[
            "load-module",
            "module-sine",
            "sink=desktop",
            &format!("frequency={hz}"),
        ])?;
        Ok(out.trim().to_owned())
    }

    pub fn stop_tone(&self, module: &str) -> Result<()> {
        self.pactl(&["unload-module", module]).map(drop)
    }
}

impl Drop for Pulse {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
