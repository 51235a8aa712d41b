//! A private X server (Xvfb) for when there is no `DISPLAY` to stream, and for tests.
//!
//! Owns the Xvfb child process: starts it with `-displayfd` so the server itself picks a free
//! display number (no guessing, no races on lock files), and stops it on drop. It does not talk
//! X11: capture, input and RandR resizing connect to [`VirtualDisplay::name`] like to any other
//! server. When `/dev/shm` has room, the screen lives in a file there (`-fbdir`) that capture
//! reads in place ([`VirtualDisplay::framebuffer`]).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long Xvfb may take to announce its display number before we give up.
pub const START_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a stopping Xvfb gets to clean up its socket and lock file before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// Xvfb's own limit on a screen side (`MAXSCREENSIZE`-like; X11 coordinates are 16-bit signed).
const MAX_SIDE: u32 = 32767;

/// Keep this much of Xvfb's stderr to explain a failure.
const STDERR_TAIL: usize = 4096;

/// Why a virtual display could not be started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DisplayError {
    /// The `Xvfb` binary is not on `PATH`.
    #[error("Xvfb not found: install xvfb (Debian/Ubuntu: apt-get install xvfb)")]
    NotInstalled,
    /// The requested screen size is not one Xvfb can make.
    #[error("invalid virtual screen size {width}x{height}: each side must be 1..={MAX_SIDE}")]
    InvalidSize {
        /// Requested width in pixels.
        width: u32,
        /// Requested height in pixels.
        height: u32,
    },
    /// Starting the process failed for another reason than a missing binary.
    #[error("could not start Xvfb: {0}")]
    Spawn(#[source] std::io::Error),
    /// Xvfb exited before announcing a display.
    #[error("Xvfb exited before it was ready ({status}): {stderr}")]
    Exited {
        /// How it ended.
        status: ExitStatus,
        /// The end of what it wrote to stderr.
        stderr: String,
    },
    /// Xvfb did not announce a display in time.
    #[error("Xvfb did not report a display number within {timeout:?}: {stderr}")]
    Timeout {
        /// How long we waited.
        timeout: Duration,
        /// The end of what it wrote to stderr.
        stderr: String,
    },
    /// Xvfb wrote something other than a display number on the `-displayfd` channel.
    #[error("Xvfb reported an unreadable display number {0:?}")]
    BadDisplayNumber(String),
}

/// A running Xvfb server that lives as long as this value.
///
/// ```no_run
/// # use selkies_rs::capture::display::VirtualDisplay;
/// let display = VirtualDisplay::start(1920, 1080)?;
/// println!("streaming {}", display.name()); // ":N"
/// # Ok::<(), selkies_rs::capture::display::DisplayError>(())
/// ```
#[derive(Debug)]
pub struct VirtualDisplay {
    child: Child,
    number: u32,
    width: u32,
    height: u32,
    /// Our private directory for Xvfb's framebuffer file (`-fbdir`), removed on drop; `None`
    /// when no tmpfs had room for it.
    fbdir: Option<PathBuf>,
}

impl VirtualDisplay {
    /// Starts `Xvfb` with one `width`x`height` 24-bit screen and RandR, MIT-SHM, DAMAGE, XFIXES
    /// and XTEST enabled, and waits (up to [`START_TIMEOUT`]) until it accepts clients.
    ///
    /// # Errors
    /// [`DisplayError::NotInstalled`] when there is no `Xvfb` on `PATH`, [`DisplayError::InvalidSize`]
    /// for a side of 0 or above 32767, and the other variants when Xvfb fails or hangs; they carry
    /// the end of its stderr.
    pub fn start(width: u32, height: u32) -> Result<Self, DisplayError> {
        if !(1..=MAX_SIDE).contains(&width) || !(1..=MAX_SIDE).contains(&height) {
            return Err(DisplayError::InvalidSize { width, height });
        }
        let Some(fbdir) = framebuffer_dir(u64::from(width) * u64::from(height) * 4) else {
            return Self::launch(width, height, None);
        };
        match Self::launch(width, height, Some(fbdir.clone())) {
            Ok(display) => Ok(display),
            Err(e) => {
                // A killed or failed Xvfb leaves its file behind.
                remove_framebuffer_dir(Some(&fbdir));
                match e {
                    // Xvfb writes its framebuffer file whole at start: a tmpfs filled meanwhile
                    // by someone else makes it exit. Without the file it copies through MIT-SHM.
                    DisplayError::Exited { status, stderr } => {
                        tracing::warn!(%status, stderr, "Xvfb with a framebuffer file failed; starting it without");
                        Self::launch(width, height, None)
                    }
                    e => Err(e),
                }
            }
        }
    }

    /// Starts Xvfb, with its framebuffer file in `fbdir` when given. On failure the directory is
    /// the caller's to remove.
    fn launch(width: u32, height: u32, fbdir: Option<PathBuf>) -> Result<Self, DisplayError> {
        let mut command = Command::new("Xvfb");
        if let Some(dir) = &fbdir {
            // The screen in a file we map, so capture reads it in place (`XshmCapture::
            // use_framebuffer`).
            command.arg("-fbdir").arg(dir);
        }
        let mut child = command
            // `-displayfd 1`: the server picks a free display and writes its number to our pipe
            // once it accepts connections. Passing a separate pipe fd would need `pre_exec`.
            .args(["-displayfd", "1", "-screen", "0"])
            .arg(format!("{width}x{height}x24"))
            // No cursor drawn into the screen: viewers get it apart (XFixes still reports it),
            // and a framebuffer file read in place would show it.
            .arg("-nocursor")
            .args([
                "-nolisten",
                "tcp",
                "-noreset",
                "-dpi",
                "96",
                "+extension",
                "RANDR",
                "+extension",
                "MIT-SHM",
                "+extension",
                "DAMAGE",
                "+extension",
                "XFIXES",
                "+extension",
                "XTEST",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => DisplayError::NotInstalled,
                _ => DisplayError::Spawn(e),
            })?;

        let stderr_tail = Arc::new(Mutex::new(String::new()));
        if let Some(stderr) = child.stderr.take() {
            drain_stderr(stderr, Arc::clone(&stderr_tail));
        }
        let (tx, rx) = mpsc::channel();
        if let Some(stdout) = child.stdout.take() {
            read_display_number(stdout, tx);
        }

        let tail = |tail: &Arc<Mutex<String>>| -> String {
            tail.lock().map(|s| s.trim().to_owned()).unwrap_or_default()
        };
        let line = match rx.recv_timeout(START_TIMEOUT) {
            Ok(line) => line,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                stop(&mut child);
                return Err(DisplayError::Timeout {
                    timeout: START_TIMEOUT,
                    stderr: tail(&stderr_tail),
                });
            }
            // stdout closed without a number: Xvfb is exiting.
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = wait_timeout(&mut child, STOP_GRACE);
                let status = match status {
                    Some(status) => status,
                    None => {
                        stop(&mut child);
                        return Err(DisplayError::Timeout {
                            timeout: START_TIMEOUT,
                            stderr: tail(&stderr_tail),
                        });
                    }
                };
                // The stderr thread may still be copying the last lines.
                thread::sleep(Duration::from_millis(50));
                return Err(DisplayError::Exited {
                    status,
                    stderr: tail(&stderr_tail),
                });
            }
        };
        let number = match line.trim().parse::<u32>() {
            Ok(n) => n,
            Err(_) => {
                stop(&mut child);
                return Err(DisplayError::BadDisplayNumber(line));
            }
        };
        tracing::debug!(
            display = number,
            pid = child.id(),
            width,
            height,
            "Xvfb started"
        );
        Ok(Self {
            child,
            number,
            width,
            height,
            fbdir,
        })
    }

    /// Xvfb's framebuffer file: the screen's pixels, mapped by the server (`-fbdir`), for
    /// [`XshmCapture::use_framebuffer`](crate::capture::XshmCapture::use_framebuffer); `None`
    /// when no tmpfs had room for it (capture then copies through MIT-SHM).
    pub fn framebuffer(&self) -> Option<PathBuf> {
        self.fbdir.as_ref().map(|dir| dir.join("Xvfb_screen0"))
    }

    /// The X display name, `":N"`, for `DISPLAY` or `xcb::Connection::connect`.
    pub fn name(&self) -> String {
        format!(":{}", self.number)
    }

    /// The display number `N` of `":N"`.
    pub fn number(&self) -> u32 {
        self.number
    }

    /// The process id of the Xvfb server.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The screen size Xvfb was started with (RandR may have changed it since).
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }
}

impl Drop for VirtualDisplay {
    fn drop(&mut self) {
        let number = self.number;
        let pid = self.child.id();
        if !stop(&mut self.child) {
            // A killed Xvfb cannot remove its own lock and socket; they name our pid, so no
            // other server owns them.
            let lock = format!("/tmp/.X{number}-lock");
            if lock_owner(Path::new(&lock)) == Some(pid) {
                let _ = std::fs::remove_file(&lock);
                let _ = std::fs::remove_file(format!("/tmp/.X11-unix/X{number}"));
            }
        }
        // Xvfb removes its file on a clean exit, not when killed.
        remove_framebuffer_dir(self.fbdir.as_deref());
        tracing::debug!(display = number, pid, "Xvfb stopped");
    }
}

/// Where Xvfb's framebuffer files go: memory, never disk (a file on disk would be written back
/// over and over as the screen changes).
const FRAMEBUFFER_TMPFS: &str = "/dev/shm";

/// How our framebuffer directories start: `selkies-xvfb-<pid>-<n>`.
const DIR_PREFIX: &str = "selkies-xvfb-";

/// Room left on [`FRAMEBUFFER_TMPFS`] beside the file for everyone else (browsers in the desktop
/// need `/dev/shm`; containers often have only 64 MiB of it).
const TMPFS_HEADROOM: u64 = 64 << 20;

/// A new private directory on [`FRAMEBUFFER_TMPFS`] for a framebuffer file of about `bytes`, or
/// `None` when it is missing or has not the file plus [`TMPFS_HEADROOM`] free.
fn framebuffer_dir(bytes: u64) -> Option<PathBuf> {
    let base = Path::new(FRAMEBUFFER_TMPFS);
    remove_orphans(base);
    let free = match selkies_shm::available_bytes(base) {
        Ok(free) => free,
        Err(e) => {
            tracing::info!(error = %e, "no {FRAMEBUFFER_TMPFS}: Xvfb's screen will be copied through MIT-SHM");
            return None;
        }
    };
    let needed = bytes.saturating_add(TMPFS_HEADROOM);
    if free < needed {
        tracing::info!(
            free_mb = free >> 20,
            needed_mb = needed >> 20,
            "{FRAMEBUFFER_TMPFS} is too small for Xvfb's framebuffer file: the screen will be copied through MIT-SHM"
        );
        return None;
    }
    match private_dir(base) {
        Ok(dir) => Some(dir),
        Err(e) => {
            tracing::info!(error = %e, "no private directory for Xvfb's framebuffer file");
            None
        }
    }
}

/// Removes the framebuffer directories of processes that are gone (killed before their drop
/// could): on a tmpfs they hold memory until reboot.
fn remove_orphans(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(DIR_PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn remove_framebuffer_dir(dir: Option<&Path>) {
    if let Some(dir) = dir {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// A new directory under `base` only this user can enter.
fn private_dir(base: &Path) -> std::io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let pid = std::process::id();
    let mut last = None;
    for attempt in 0..64u32 {
        let dir = base.join(format!("{DIR_PREFIX}{pid}-{attempt}"));
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free directory name")))
}

/// Sends the first line of `stdout` (the display number) to `tx`, then keeps the pipe drained.
fn read_display_number(stdout: ChildStdout, tx: mpsc::Sender<String>) {
    let spawned = thread::Builder::new()
        .name("xvfb-displayfd".into())
        .spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(n) if n > 0 => {
                    let _ = tx.send(line);
                }
                // EOF or error: dropping `tx` tells the waiter that Xvfb is gone.
                _ => return,
            }
            drop(tx);
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "could not start a thread to read Xvfb's display number");
    }
}

/// Keeps the last [`STDERR_TAIL`] bytes of Xvfb's stderr; draining also keeps a chatty server
/// from blocking on a full pipe.
fn drain_stderr(mut stderr: impl Read + Send + 'static, tail: Arc<Mutex<String>>) {
    let spawned = thread::Builder::new()
        .name("xvfb-stderr".into())
        .spawn(move || {
            let mut buf = [0u8; 1024];
            loop {
                match stderr.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let Ok(mut t) = tail.lock() else { break };
                        t.push_str(&String::from_utf8_lossy(&buf[..n]));
                        if t.len() > STDERR_TAIL {
                            let mut cut = t.len() - STDERR_TAIL;
                            while !t.is_char_boundary(cut) {
                                cut += 1;
                            }
                            t.drain(..cut);
                        }
                    }
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "could not start a thread to read Xvfb's stderr");
    }
}

/// Stops `child`: SIGTERM first so Xvfb removes its lock file and socket, SIGKILL if it lingers.
/// Returns whether it ended on SIGTERM (or had already ended).
fn stop(child: &mut Child) -> bool {
    if let Ok(Some(_)) = child.try_wait() {
        return true;
    }
    // std can only send SIGKILL; `kill(1)` sends SIGTERM without `unsafe`.
    let termed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if termed && wait_timeout(child, STOP_GRACE).is_some() {
        return true;
    }
    let _ = child.kill();
    let _ = child.wait();
    false
}

/// Waits up to `timeout` for `child` to exit.
fn wait_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
            _ => return None,
        }
    }
}

/// The pid written in an X server lock file (`/tmp/.XN-lock`: the pid as text).
fn lock_owner(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_of_processes_that_are_gone_are_removed() {
        let base = std::env::temp_dir().join(format!("selkies-orphans-{}", std::process::id()));
        // pid_max is at most 2^22: this process cannot exist.
        let gone = base.join(format!("{DIR_PREFIX}4194305-0"));
        let ours = base.join(format!("{DIR_PREFIX}{}-0", std::process::id()));
        let other = base.join("something-else");
        for dir in [&gone, &ours, &other] {
            std::fs::create_dir_all(dir).expect("temp dir");
        }
        std::fs::write(gone.join("Xvfb_screen0"), b"x").expect("write");
        remove_orphans(&base);
        let kept = (gone.exists(), ours.exists(), other.exists());
        let _ = std::fs::remove_dir_all(&base);
        assert_eq!(kept, (false, true, true));
    }

    fn xdpyinfo(name: &str) -> std::process::Output {
        Command::new("xdpyinfo")
            .args(["-display", name])
            .output()
            .expect("run xdpyinfo (Debian: x11-utils)")
    }

    fn alive(pid: u32) -> bool {
        // A zombie still has a /proc entry; it is dead for our purposes.
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) => !stat
                .rsplit_once(") ")
                .is_some_and(|(_, rest)| rest.starts_with('Z')),
            Err(_) => false,
        }
    }

    #[test]
    fn starts_and_is_reachable_with_the_requested_size() {
        let display = VirtualDisplay::start(800, 600).expect("start Xvfb");
        assert!(display.name().starts_with(':'));
        assert_eq!(display.name(), format!(":{}", display.number()));
        assert_eq!(display.size(), (800, 600));
        let out = xdpyinfo(&display.name());
        assert!(out.status.success(), "xdpyinfo failed: {out:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("800x600 pixels"),
            "unexpected xdpyinfo output:\n{text}"
        );
        for ext in ["RANDR", "MIT-SHM", "DAMAGE", "XFIXES", "XTEST"] {
            assert!(text.contains(ext), "extension {ext} missing:\n{text}");
        }
        assert!(
            text.contains("depth of root window:    24 planes"),
            "{text}"
        );
    }

    #[test]
    fn two_displays_get_different_numbers() {
        let a = VirtualDisplay::start(320, 240).expect("start first Xvfb");
        let b = VirtualDisplay::start(320, 240).expect("start second Xvfb");
        assert_ne!(a.number(), b.number());
        assert_ne!(a.pid(), b.pid());
        assert!(xdpyinfo(&a.name()).status.success());
        assert!(xdpyinfo(&b.name()).status.success());
    }

    #[test]
    fn drop_stops_the_server_and_cleans_up() {
        let display = VirtualDisplay::start(320, 240).expect("start Xvfb");
        let (pid, number) = (display.pid(), display.number());
        assert!(alive(pid));
        drop(display);
        assert!(!alive(pid), "Xvfb {pid} still running after drop");
        // Not "`name` no longer answers": a parallel test may already have been given the number.
        let lock = format!("/tmp/.X{number}-lock");
        assert_ne!(lock_owner(Path::new(&lock)), Some(pid), "stale {lock}");
    }

    #[test]
    fn rejects_impossible_sizes() {
        assert!(matches!(
            VirtualDisplay::start(0, 480),
            Err(DisplayError::InvalidSize { .. })
        ));
        assert!(matches!(
            VirtualDisplay::start(640, 40_000),
            Err(DisplayError::InvalidSize { .. })
        ));
    }
}
