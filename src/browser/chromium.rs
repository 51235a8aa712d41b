//! Headless Chromium driven over CDP: the browser side of `bench --mode glass` and of the
//! integration tests.
//!
//! Uses the flags DESIGN.md lists as working here (loopback ICE candidates without mDNS,
//! autoplay without a gesture), a fresh profile per instance, and its own process group so drop
//! can stop the browser with every renderer and helper it forked.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use serde_json::Value;

use super::cdp::Cdp;
use super::procs;

/// The browser binary; `SELKIES_CHROMIUM` (or, for the tests, `SELKIES_TEST_CHROMIUM`)
/// overrides it.
pub const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";

/// The browser to run: `SELKIES_CHROMIUM`, then `SELKIES_TEST_CHROMIUM`, then
/// [`DEFAULT_CHROMIUM`].
pub fn chromium_path() -> String {
    std::env::var("SELKIES_CHROMIUM")
        .or_else(|_| std::env::var("SELKIES_TEST_CHROMIUM"))
        .unwrap_or_else(|_| DEFAULT_CHROMIUM.into())
}

/// Chromium can be slow to start on a loaded 2-core machine.
const START_TIMEOUT: Duration = Duration::from_secs(30);

const STDERR_TAIL: usize = 8192;

/// A headless Chromium with one page, and a CDP session on that page.
pub struct Chromium {
    child: Child,
    profile: PathBuf,
    browser_ws: String,
    port: u16,
    stderr: Arc<Mutex<String>>,
    cdp: Cdp,
}

impl Chromium {
    /// Starts Chromium showing `url`. To set headers (e.g. basic auth) before the first request,
    /// launch with `about:blank`, call [`Cdp::set_extra_headers`], then [`Cdp::navigate`].
    pub fn launch(url: &str) -> Result<Self> {
        Self::launch_with_args(url, &[])
    }

    /// Like [`Chromium::launch`] with extra command-line flags.
    pub fn launch_with_args(url: &str, extra_args: &[&str]) -> Result<Self> {
        let bin = chromium_path();
        if !std::path::Path::new(&bin).exists() {
            bail!(
                "chromium not found at {bin}: install it (Debian: apt-get install chromium) \
                 or set SELKIES_CHROMIUM to its path"
            );
        }
        let profile = fresh_profile_dir()?;
        let spawned = Command::new(&bin)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args([
                "--allow-loopback-in-peer-connection",
                "--disable-features=WebRtcHideLocalIpsWithMdns",
                "--autoplay-policy=no-user-gesture-required",
                "--remote-debugging-port=0",
                "--window-size=1920,1080",
            ])
            .args(extra_args)
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            // Its own group, so drop can kill the renderers and helpers it forks.
            .process_group(0)
            .spawn();
        let mut child = match spawned {
            Ok(c) => c,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&profile);
                return Err(e).with_context(|| format!("start {bin}"));
            }
        };

        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        if let Some(pipe) = child.stderr.take() {
            watch_stderr(pipe, tx, Arc::clone(&stderr));
        }
        let tail = |s: &Arc<Mutex<String>>| s.lock().map(|t| t.clone()).unwrap_or_default();

        // From here on a failure must still stop the browser: build the value first.
        let browser_ws = match rx.recv_timeout(START_TIMEOUT) {
            Ok(url) => url,
            Err(e) => {
                procs::kill_group(child.id());
                let _ = child.kill();
                let _ = child.wait();
                let _ = std::fs::remove_dir_all(&profile);
                let why = match e {
                    mpsc::RecvTimeoutError::Timeout => "did not open DevTools in time",
                    mpsc::RecvTimeoutError::Disconnected => "exited during start-up",
                };
                bail!("chromium {why}; its stderr:\n{}", tail(&stderr));
            }
        };
        let port = match devtools_port(&browser_ws) {
            Some(p) => p,
            None => {
                procs::kill_group(child.id());
                let _ = child.kill();
                let _ = child.wait();
                let _ = std::fs::remove_dir_all(&profile);
                bail!("cannot read a port from the DevTools URL {browser_ws}");
            }
        };
        let mut partial = Partial {
            child: Some(child),
            profile: Some(profile),
        };
        let page_ws = wait_page_target(port, START_TIMEOUT)
            .with_context(|| format!("chromium stderr:\n{}", tail(&stderr)))?;
        let cdp = Cdp::connect(&page_ws)?;
        let (Some(child), Some(profile)) = (partial.child.take(), partial.profile.take()) else {
            bail!("internal: start-up state taken twice");
        };
        Ok(Self {
            child,
            profile,
            browser_ws,
            port,
            stderr,
            cdp,
        })
    }

    /// The CDP session on the page.
    pub fn cdp(&mut self) -> &mut Cdp {
        &mut self.cdp
    }

    /// The browser process id (also its process group id).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The live processes of this browser (the main process and everything it forked).
    pub fn pids(&self) -> Vec<u32> {
        procs::group_members(self.child.id())
    }

    /// The browser-wide DevTools WebSocket URL.
    pub fn browser_ws_url(&self) -> &str {
        &self.browser_ws
    }

    /// The DevTools HTTP port on 127.0.0.1.
    pub fn devtools_port(&self) -> u16 {
        self.port
    }

    /// The last few KiB Chromium wrote to stderr, for failure messages.
    pub fn stderr_tail(&self) -> String {
        self.stderr.lock().map(|t| t.clone()).unwrap_or_default()
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        stop(&mut self.child, &self.profile);
    }
}

/// What `launch_with_args` must clean up if it fails after the browser started.
struct Partial {
    child: Option<Child>,
    profile: Option<PathBuf>,
}

impl Drop for Partial {
    fn drop(&mut self) {
        if let (Some(child), Some(profile)) = (self.child.as_mut(), self.profile.as_ref()) {
            stop(child, profile);
        }
    }
}

fn stop(child: &mut Child, profile: &std::path::Path) {
    let pgid = child.id();
    let members = procs::group_members(pgid);
    procs::kill_group(pgid);
    let _ = child.kill();
    let _ = child.wait();
    let left = procs::wait_gone(&members, Duration::from_secs(5));
    if !left.is_empty() {
        eprintln!("warning: chromium processes {left:?} survived SIGKILL");
    }
    // Files may still be closing for a moment after the kill.
    for _ in 0..20 {
        if std::fs::remove_dir_all(profile).is_ok() || !profile.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn fresh_profile_dir() -> Result<PathBuf> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "selkies-chromium-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir(&dir).with_context(|| format!("create {}", dir.display()))?;
    Ok(dir)
}

/// Sends the `DevTools listening on ws://…` URL to `tx` and keeps a tail of stderr.
fn watch_stderr(
    pipe: impl Read + Send + 'static,
    tx: mpsc::Sender<String>,
    tail: Arc<Mutex<String>>,
) {
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        let mut reader = BufReader::new(pipe);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let text = String::from_utf8_lossy(&line);
            if let Some(url) = text.trim().strip_prefix("DevTools listening on ") {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(url.to_owned());
                }
            }
            let Ok(mut t) = tail.lock() else { break };
            t.push_str(&text);
            if t.len() > STDERR_TAIL {
                let mut cut = t.len() - STDERR_TAIL;
                while !t.is_char_boundary(cut) {
                    cut += 1;
                }
                t.drain(..cut);
            }
        }
    });
}

/// `ws://127.0.0.1:PORT/devtools/browser/…` → PORT.
fn devtools_port(ws_url: &str) -> Option<u16> {
    let host_port = ws_url.strip_prefix("ws://")?.split('/').next()?;
    host_port.rsplit_once(':')?.1.parse().ok()
}

/// Polls `/json/list` until a page target exists; returns its WebSocket URL.
fn wait_page_target(port: u16, timeout: Duration) -> Result<String> {
    let deadline = Instant::now() + timeout;
    loop {
        let listed = http_get_json(port, "/json/list");
        if let Ok(Value::Array(targets)) = &listed {
            let page = targets.iter().find(|t| {
                t.get("type").and_then(Value::as_str) == Some("page")
                    && t.get("webSocketDebuggerUrl").is_some()
            });
            if let Some(url) = page
                .and_then(|t| t.get("webSocketDebuggerUrl"))
                .and_then(Value::as_str)
            {
                return Ok(url.to_owned());
            }
        }
        if Instant::now() >= deadline {
            bail!("no page target in /json/list after {timeout:?} (last answer: {listed:?})");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A plain HTTP/1.1 GET to the DevTools HTTP endpoint on loopback (it rejects HTTP/1.0).
fn http_get_json(port: u16, path: &str) -> Result<Value> {
    let mut s = TcpStream::connect(("127.0.0.1", port))
        .with_context(|| format!("connect to DevTools HTTP on port {port}"))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .context("set read timeout")?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .context("send HTTP request")?;
    // Read by Content-Length: the server may keep the connection open regardless.
    let mut resp = Vec::new();
    let mut buf = [0u8; 8192];
    let mut want: Option<usize> = None;
    loop {
        if let Some(end) = resp.windows(4).position(|w| w == b"\r\n\r\n") {
            let body_start = end + 4;
            if want.is_none() {
                let head = String::from_utf8_lossy(&resp[..end]);
                let status = head.lines().next().unwrap_or_default().to_owned();
                if !status.contains(" 200 ") {
                    bail!("GET {path}: {status}");
                }
                let len = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.trim()
                            .eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse::<usize>().ok())?
                    })
                    .context("DevTools answered without Content-Length")?;
                want = Some(body_start + len);
            }
            if want.is_some_and(|w| resp.len() >= w) {
                let body = &resp[body_start..want.unwrap_or(resp.len())];
                return serde_json::from_slice(body)
                    .with_context(|| format!("GET {path}: invalid JSON"));
            }
        }
        let n = s.read(&mut buf).context("read HTTP response")?;
        if n == 0 {
            bail!("GET {path}: connection closed mid-response");
        }
        resp.extend_from_slice(&buf[..n]);
    }
}
