//! What an X application receives: `xev` (Debian `x11-utils`) in a window covering the screen,
//! its output parsed into events. xev translates keycodes with Xlib's own XKB lookup, so a keysym
//! here is exactly what a real application on that display would see.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// One key or button event xev printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XEvent {
    /// `KeyPress`, `KeyRelease`, `ButtonPress` or `ButtonRelease`.
    pub kind: String,
    pub root_x: i32,
    pub root_y: i32,
    /// Modifier and button state before the event.
    pub state: u32,
    /// Keycode, or button number for button events.
    pub detail: u32,
    /// Keysym value (key events).
    pub keysym: u32,
    /// Keysym name as xev prints it, e.g. `at`, `U2603`.
    pub name: String,
}

impl XEvent {
    pub fn is_press(&self) -> bool {
        self.kind.ends_with("Press")
    }
}

/// A running xev whose window covers the screen.
pub struct Xev {
    child: Child,
    events: Arc<Mutex<Vec<XEvent>>>,
    /// Index of the first event not yet handed out by [`Xev::take`].
    read: usize,
}

impl Xev {
    /// Starts xev on `display` with a window of `width`x`height` at the origin and waits until it
    /// prints its window ids. Turns the display's key auto-repeat off first: a held key would
    /// otherwise show KeyRelease/KeyPress pairs, and a release must mean the key went up.
    pub fn start(display: &str, width: u32, height: u32) -> Result<Self> {
        let (conn, _) = xcb::Connection::connect(Some(display))
            .with_context(|| format!("connect to {display}"))?;
        conn.send_and_check_request(&xcb::x::ChangeKeyboardControl {
            value_list: &[xcb::x::Kb::AutoRepeatMode(xcb::x::AutoRepeatMode::Off)],
        })
        .context("turning auto-repeat off")?;
        let mut child = Command::new("xev")
            .args([
                "-display",
                display,
                "-geometry",
                &format!("{width}x{height}+0+0"),
                "-event",
                "keyboard",
                "-event",
                "button",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting xev (Debian package x11-utils)")?;
        let stdout = child.stdout.take().context("xev stdout")?;
        let events = Arc::new(Mutex::new(Vec::new()));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let sink = Arc::clone(&events);
        std::thread::spawn(move || parse(BufReader::new(stdout), &sink, &ready_tx));
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .context("xev did not start")?;
        Ok(Xev {
            child,
            events,
            read: 0,
        })
    }

    /// Waits until an event not yet taken matches `pred`; returns it and every event before it,
    /// and marks them taken.
    pub fn wait(
        &mut self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&XEvent) -> bool,
    ) -> Result<Vec<XEvent>> {
        let deadline = Instant::now() + timeout;
        loop {
            {
                let events = self
                    .events
                    .lock()
                    .map_err(|_| anyhow::anyhow!("poisoned"))?;
                if let Some(i) = events[self.read..].iter().position(&pred) {
                    let out = events[self.read..=self.read + i].to_vec();
                    self.read += i + 1;
                    return Ok(out);
                }
                if Instant::now() >= deadline {
                    bail!(
                        "X client never received {what}; it got: {:?}",
                        &events[self.read..]
                    );
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the press of keysym `keysym`.
    pub fn wait_key_press(&mut self, keysym: u32, timeout: Duration) -> Result<Vec<XEvent>> {
        self.wait(&format!("a press of keysym {keysym:#x}"), timeout, |e| {
            e.kind == "KeyPress" && e.keysym == keysym
        })
    }

    /// Every event so far that was not taken.
    pub fn take(&mut self) -> Vec<XEvent> {
        let events = self.events.lock().map(|e| e.clone()).unwrap_or_default();
        let out = events[self.read.min(events.len())..].to_vec();
        self.read = events.len();
        out
    }
}

impl Drop for Xev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Parses xev's blocks: a header line `KeyPress event, serial …`, then indented lines with
/// `root:(x,y)`, `state 0x…`, and `keycode N (keysym 0x…, name)` or `button N`.
fn parse(out: impl BufRead, sink: &Mutex<Vec<XEvent>>, ready: &std::sync::mpsc::Sender<()>) {
    let mut current: Option<XEvent> = None;
    for line in out.lines().map_while(Result::ok) {
        if line.starts_with("Outer window is") {
            let _ = ready.send(());
            continue;
        }
        if !line.starts_with(' ') {
            if let Some(done) = current.take() {
                if let Ok(mut v) = sink.lock() {
                    v.push(done);
                }
            }
            let kind = line.split(' ').next().unwrap_or_default();
            if matches!(
                kind,
                "KeyPress" | "KeyRelease" | "ButtonPress" | "ButtonRelease"
            ) {
                current = Some(XEvent {
                    kind: kind.to_owned(),
                    root_x: 0,
                    root_y: 0,
                    state: 0,
                    detail: 0,
                    keysym: 0,
                    name: String::new(),
                });
            }
            continue;
        }
        // xev starts each block with a blank line, so a block is complete at its own last line:
        // `XFilterEvent returns` for keys, the `same_screen` line for buttons.
        let last_line = line.contains("XFilterEvent returns")
            || (line.contains("same_screen")
                && current
                    .as_ref()
                    .is_some_and(|e| e.kind.starts_with("Button")));
        let Some(ev) = current.as_mut() else { continue };
        if let Some(rest) = line.split("root:(").nth(1) {
            let mut it = rest.split([',', ')']);
            ev.root_x = it.next().and_then(|v| v.trim().parse().ok()).unwrap_or(0);
            ev.root_y = it.next().and_then(|v| v.trim().parse().ok()).unwrap_or(0);
        }
        if let Some(rest) = line.trim_start().strip_prefix("state 0x") {
            let hex: String = rest.chars().take_while(char::is_ascii_hexdigit).collect();
            ev.state = u32::from_str_radix(&hex, 16).unwrap_or(0);
            if let Some(k) = rest.split("keycode ").nth(1) {
                ev.detail = k
                    .split(' ')
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
            }
            if let Some(k) = rest.split("(keysym 0x").nth(1) {
                let mut it = k.splitn(2, ", ");
                ev.keysym = it
                    .next()
                    .and_then(|v| u32::from_str_radix(v, 16).ok())
                    .unwrap_or(0);
                ev.name = it
                    .next()
                    .and_then(|v| v.split(')').next())
                    .unwrap_or_default()
                    .to_owned();
            }
            if let Some(b) = rest.split("button ").nth(1) {
                ev.detail = b
                    .split(',')
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
            }
        }
        if last_line {
            if let Some(done) = current.take() {
                if let Ok(mut v) = sink.lock() {
                    v.push(done);
                }
            }
        }
    }
}
