//! Browser gamepads reach unmodified Linux programs: `js,*` verbs go into a `GamepadHub`, whose
//! sockets feed the LD_PRELOAD interposer (`ffi/js-interposer`) inside the real `jstest` (Debian
//! `joystick`) and `evtest` (Debian `evtest`), which print the device and its events. No kernel
//! module, no `/dev/input`, no root.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use selkies_rs::input::gamepad::{GamepadConfig, GamepadHub};
use selkies_rs::input::protocol::parse;

const TIMEOUT: Duration = Duration::from_secs(15);

/// The interposer library, built once per test run. `cargo test` does not build a `cdylib` that
/// no test target links, so this asks cargo for it (a no-op when it is up to date) and takes the
/// file name from cargo's own report.
fn interposer() -> Result<PathBuf> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| build_interposer().map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(|e| anyhow!(e))
}

fn build_interposer() -> Result<PathBuf> {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args([
        "build",
        "-p",
        "selkies-js-interposer",
        "--lib",
        "--message-format=json-render-diagnostics",
    ])
    .current_dir(env!("CARGO_MANIFEST_DIR"))
    .stderr(Stdio::inherit());
    let exe = std::env::current_exe()?;
    // target/<profile>/deps/<test>: build the library with the same profile.
    if let Some(profile) = exe
        .parent()
        .and_then(Path::parent)
        .and_then(Path::file_name)
    {
        if profile != "debug" {
            cmd.args(["--profile", &profile.to_string_lossy()]);
        }
    }
    let out = cmd
        .output()
        .context("running cargo build -p selkies-js-interposer")?;
    if !out.status.success() {
        bail!(
            "cargo build -p selkies-js-interposer failed: {}",
            out.status
        );
    }
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] == "compiler-artifact" && msg["target"]["name"] == "selkies_js_interposer"
        {
            let files = msg["filenames"].as_array().cloned().unwrap_or_default();
            if let Some(so) = files
                .iter()
                .filter_map(|f| f.as_str())
                .find(|f| f.ends_with(".so"))
            {
                return Ok(PathBuf::from(so));
            }
        }
    }
    bail!("cargo did not report libselkies_js_interposer.so")
}

/// A fresh socket directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Result<Self> {
        let dir = std::env::temp_dir().join(format!("selkies-gp-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A program run with the interposer preloaded, its stdout read line by line. Killed by pid on
/// drop.
struct Preloaded {
    name: String,
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Preloaded {
    fn spawn(program: &str, package: &str, args: &[&str], socket_dir: &Path) -> Result<Self> {
        let mut child = Command::new(program)
            .args(args)
            .env("LD_PRELOAD", interposer()?)
            .env("SELKIES_INTERPOSER_SOCKET_DIR", socket_dir)
            .env("SELKIES_INTERPOSER_LOG", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {program} (Debian: apt-get install {package})"))?;
        let (tx, lines) = mpsc::channel();
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        Ok(Preloaded {
            name: format!("{program} {}", args.join(" ")),
            child,
            lines,
            seen: Vec::new(),
        })
    }

    /// The next line matching `want`, waiting up to [`TIMEOUT`].
    fn expect(&mut self, want: impl Fn(&str) -> bool, what: &str) -> Result<String> {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if want(&line) {
                        return Ok(line);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    bail!(
                        "{}: no {what} in {TIMEOUT:?}; output:\n{}",
                        self.name,
                        self.seen.join("\n")
                    )
                }
                Err(RecvTimeoutError::Disconnected) => bail!(
                    "{}: exited without {what}; output:\n{}",
                    self.name,
                    self.seen.join("\n")
                ),
            }
        }
    }

    fn expect_line(&mut self, exact: &str) -> Result<String> {
        self.expect(|l| l == exact, exact)
    }

    /// jstest's `--event` lines up to and including the one matching `until`, as
    /// (type, number, value).
    fn js_events_until(&mut self, until: (u8, u8, i32)) -> Result<Vec<(u8, u8, i32)>> {
        let mut events = Vec::new();
        loop {
            let line = self.expect(|l| l.starts_with("Event: type "), "jstest event")?;
            let e = parse_js_event(&line).with_context(|| format!("parsing {line:?}"))?;
            events.push(e);
            if e == until {
                return Ok(events);
            }
        }
    }

    /// Waits for the program to exit on its own; its status and output.
    fn exit(mut self) -> Result<(std::process::ExitStatus, String)> {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
                    self.seen.push(line);
                }
                return Ok((status, self.seen.join("\n")));
            }
            if Instant::now() >= deadline {
                bail!("{} did not exit", self.name);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Preloaded {
    fn drop(&mut self) {
        // SIGKILL to this pid only, then reap it.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// "Event: type 2, time 123, number 0, value -32767"
fn parse_js_event(line: &str) -> Option<(u8, u8, i32)> {
    let field = |name: &str| -> Option<i64> {
        let rest = line.split(&format!("{name} ")).nth(1)?;
        rest.split(',').next()?.trim().parse().ok()
    };
    Some((
        u8::try_from(field("type")?).ok()?,
        u8::try_from(field("number")?).ok()?,
        i32::try_from(field("value")?).ok()?,
    ))
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?)
}

fn apply(hub: &GamepadHub, verb: &str) -> Result<()> {
    hub.apply(&parse(verb)?)?;
    Ok(())
}

fn wait_readers(hub: &GamepadHub, slot: u8, n: usize) -> Result<()> {
    let deadline = Instant::now() + TIMEOUT;
    while hub.reader_count(slot) != n {
        if Instant::now() >= deadline {
            bail!(
                "slot {slot} has {} readers, expected {n}",
                hub.reader_count(slot)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

const BUTTONS: &str = "BtnA, BtnB, BtnX, BtnY, BtnTL, BtnTR, BtnSelect, BtnStart, BtnMode, \
                       BtnThumbL, BtnThumbR";

fn expect_jstest_header(js: &mut Preloaded) -> Result<()> {
    js.expect_line("Driver version is 2.1.0.")?;
    js.expect_line(
        "Joystick (Microsoft X-Box 360 pad) has 8 axes (X, Y, Z, Rx, Ry, Rz, Hat0X, Hat0Y)",
    )?;
    js.expect_line(&format!("and 11 buttons ({BUTTONS})."))?;
    js.expect_line("Testing ... (interrupt to exit)")?;
    Ok(())
}

/// The state joydev reports on open: every button and axis flagged `JS_EVENT_INIT`.
fn expect_init_state(js: &mut Preloaded, pressed: &[u8]) -> Result<()> {
    let init = js.js_events_until((0x82, 7, 0))?;
    let mut want: Vec<(u8, u8, i32)> = (0..11)
        .map(|b| (0x81, b, i32::from(pressed.contains(&b))))
        .collect();
    want.extend([
        (0x82, 0, 0),
        (0x82, 1, 0),
        (0x82, 2, -32767),
        (0x82, 3, 0),
        (0x82, 4, 0),
        (0x82, 5, -32767),
        (0x82, 6, 0),
        (0x82, 7, 0),
    ]);
    assert_eq!(init, want, "{}: initial state", js.name);
    Ok(())
}

#[test]
fn two_pads_reach_jstest_through_the_interposer() -> Result<()> {
    let dir = TempDir::new("js")?;
    let rt = runtime()?;
    let _enter = rt.enter();
    let hub = GamepadHub::start(GamepadConfig {
        socket_dir: dir.0.clone(),
        ..GamepadConfig::default()
    })?;
    apply(
        &hub,
        "js,c,0,WGJveCAzNjAgQ29udHJvbGxlciAoWElucHV0IFNUQU5EQVJEIEdBTUVQQUQp,4,17",
    )?;
    apply(&hub, "js,c,1,RHVhbFNlbnNlIFdpcmVsZXNzIENvbnRyb2xsZXI=,4,17")?;
    apply(&hub, "js,b,1,3,1")?;

    let mut pad0 = Preloaded::spawn("jstest", "joystick", &["--event", "/dev/input/js0"], &dir.0)?;
    let mut pad1 = Preloaded::spawn("jstest", "joystick", &["--event", "/dev/input/js1"], &dir.0)?;
    // A second program on the same pad gets the same events.
    let mut pad0_again =
        Preloaded::spawn("jstest", "joystick", &["--event", "/dev/input/js0"], &dir.0)?;
    for js in [&mut pad0, &mut pad1, &mut pad0_again] {
        expect_jstest_header(js)?;
    }
    expect_init_state(&mut pad0, &[])?;
    expect_init_state(&mut pad0_again, &[])?;
    expect_init_state(&mut pad1, &[3])?;
    wait_readers(&hub, 0, 2)?;
    wait_readers(&hub, 1, 1)?;

    // Interleaved input on both pads; each reader must see exactly its own pad's, in order.
    for verb in [
        "js,a,0,0,0.5",   // left stick X → axis 0
        "js,b,1,0,1",     // A → button 0
        "js,b,0,7,1",     // right trigger → axis 5, full range
        "js,b,1,12,1",    // d-pad up → hat Y
        "js,a,1,3,-1",    // right stick Y → axis 4
        "js,b,0,9,1",     // Start → button 7
        "js,b,1,3,0",     // Y released
        "js,a,0,1,-0.25", // left stick Y → axis 1
    ] {
        apply(&hub, verb)?;
    }
    let want0 = vec![(2, 0, 16384), (2, 5, 32767), (1, 7, 1), (2, 1, -8192)];
    assert_eq!(pad0.js_events_until((2, 1, -8192))?, want0);
    assert_eq!(pad0_again.js_events_until((2, 1, -8192))?, want0);
    assert_eq!(
        pad1.js_events_until((1, 3, 0))?,
        vec![(1, 0, 1), (2, 7, -32767), (2, 4, -32767), (1, 3, 0)]
    );

    // The client leaves: everything returns to rest.
    hub.release_all();
    assert_eq!(
        pad0.js_events_until((2, 5, -32767))?,
        vec![(1, 7, 0), (2, 0, 0), (2, 1, 0), (2, 5, -32767)]
    );
    assert_eq!(
        pad1.js_events_until((2, 7, 0))?,
        vec![(1, 0, 0), (2, 4, 0), (2, 7, 0)]
    );

    // Closing a reader (the program exits) unregisters it; the others go on.
    drop(pad0_again);
    wait_readers(&hub, 0, 1)?;
    apply(&hub, "js,b,0,16,1")?;
    assert_eq!(pad0.js_events_until((1, 8, 1))?, vec![(1, 8, 1)]);

    let pids = [pad0.child.id(), pad1.child.id()];
    drop((pad0, pad1));
    assert!(common::procs::wait_gone(&pids, Duration::from_secs(5)).is_empty());
    Ok(())
}

#[test]
fn evtest_reads_the_evdev_node() -> Result<()> {
    let dir = TempDir::new("ev")?;
    let rt = runtime()?;
    let _enter = rt.enter();
    let hub = GamepadHub::start(GamepadConfig {
        socket_dir: dir.0.clone(),
        ..GamepadConfig::default()
    })?;
    apply(&hub, "js,c,2,UGFk,4,17")?;
    let mut ev = Preloaded::spawn("evtest", "evtest", &["/dev/input/event1002"], &dir.0)?;
    ev.expect_line("Input driver version is 1.0.1")?;
    ev.expect_line("Input device ID: bus 0x3 vendor 0x45e product 0x28e version 0x114")?;
    ev.expect_line("Input device name: \"Microsoft X-Box 360 pad\"")?;
    ev.expect(|l| l.contains("Event code 304 (BTN_SOUTH)"), "BTN_SOUTH")?;
    ev.expect(|l| l.contains("Event code 318 (BTN_THUMBR)"), "BTN_THUMBR")?;
    ev.expect(|l| l.contains("Event code 5 (ABS_RZ)"), "ABS_RZ")?;
    ev.expect_line("      Value -32767")?;
    ev.expect_line("      Min   -32767")?;
    ev.expect_line("      Max    32767")?;
    ev.expect(|l| l.contains("Event code 17 (ABS_HAT0Y)"), "ABS_HAT0Y")?;
    ev.expect_line("Testing ... (interrupt to exit)")?;
    wait_readers(&hub, 2, 1)?;

    apply(&hub, "js,b,2,0,1")?;
    ev.expect(
        |l| l.ends_with("type 1 (EV_KEY), code 304 (BTN_SOUTH), value 1"),
        "A pressed",
    )?;
    ev.expect(|l| l.contains("SYN_REPORT"), "SYN_REPORT")?;
    apply(&hub, "js,a,2,1,-1")?;
    ev.expect(
        |l| l.ends_with("type 3 (EV_ABS), code 1 (ABS_Y), value -32767"),
        "stick up",
    )?;
    apply(&hub, "js,b,2,15,1")?;
    ev.expect(
        |l| l.ends_with("type 3 (EV_ABS), code 16 (ABS_HAT0X), value 1"),
        "d-pad right (evdev hats are -1..1)",
    )?;
    apply(&hub, "js,b,2,6,0.5")?;
    ev.expect(
        |l| l.ends_with("type 3 (EV_ABS), code 2 (ABS_Z), value 0"),
        "left trigger half way",
    )?;
    apply(&hub, "js,d,2")?;
    ev.expect(
        |l| l.ends_with("type 1 (EV_KEY), code 304 (BTN_SOUTH), value 0"),
        "released on detach",
    )?;
    Ok(())
}

#[test]
fn without_a_server_the_device_is_missing_and_other_files_still_work() -> Result<()> {
    let dir = TempDir::new("none")?;
    let (status, output) =
        Preloaded::spawn("jstest", "joystick", &["/dev/input/js3"], &dir.0)?.exit()?;
    assert!(!status.success());
    assert!(
        output.contains("No such file or directory"),
        "expected ENOENT, got:\n{output}"
    );

    let (status, output) =
        Preloaded::spawn("cat", "coreutils", &["/etc/hostname"], &dir.0)?.exit()?;
    let hostname = std::fs::read_to_string("/etc/hostname")?;
    assert!(status.success(), "{output}");
    assert_eq!(output.trim(), hostname.trim());

    // Real device paths outside our range are left to the system.
    let (_, output) =
        Preloaded::spawn("jstest", "joystick", &["/dev/input/js4"], &dir.0)?.exit()?;
    assert!(output.contains("No such file or directory"), "{output}");
    Ok(())
}

/// End to end: verbs from the page's data channel, through `selkies-rs serve`, to `jstest`.
#[test]
fn verbs_from_the_browser_reach_jstest_through_the_server() -> Result<()> {
    let display = selkies_rs::capture::display::VirtualDisplay::start(640, 480)?;
    let server = common::Server::start(&display.name(), &[])?;
    let dir = common::server::gamepad_dir(server.port);
    let mut browser = common::Chromium::launch(&server.url())?;
    browser
        .cdp()
        .wait_for(
            "window.selkies && window.selkies.channel && window.selkies.channel.readyState === 'open'",
            TIMEOUT,
        )
        .with_context(|| server.log_text())?;
    let send = |browser: &mut common::Chromium, verb: &str| -> Result<()> {
        let ok = browser
            .cdp()
            .eval(&format!("window.selkies.send('{verb}')"))?;
        anyhow::ensure!(ok.as_bool() == Some(true), "page could not send {verb}");
        Ok(())
    };
    send(&mut browser, "js,c,0,WGJveCAzNjAgQ29udHJvbGxlcg==,4,17")?;
    let mut pad = Preloaded::spawn("jstest", "joystick", &["--event", "/dev/input/js0"], &dir)?;
    expect_jstest_header(&mut pad)?;
    expect_init_state(&mut pad, &[])?;
    send(&mut browser, "js,a,0,0,0.5")?;
    send(&mut browser, "js,b,0,0,1")?;
    let events = pad.js_events_until((1, 0, 1))?;
    anyhow::ensure!(
        events.contains(&(2, 0, 16384)) || events.contains(&(2, 0, 16383)),
        "axis 0 at half: {events:?}"
    );
    // The page goes away: the server lets go of the button.
    drop(browser);
    pad.js_events_until((1, 0, 0))
        .with_context(|| server.log_text())?;
    Ok(())
}

/// Kernel pads: required without a usable uinput node is a clear error at start; `auto` falls
/// back to the interposer sockets and attaching still works.
#[test]
fn kernel_pads_fall_back_or_fail_clearly_without_uinput() -> Result<()> {
    use selkies_rs::input::gamepad::KernelPads;
    let rt = runtime()?;
    let _enter = rt.enter();
    let missing = PathBuf::from("/nonexistent/uinput");
    let dir = TempDir::new("uinput-required")?;
    let err = GamepadHub::start(GamepadConfig {
        socket_dir: dir.0.clone(),
        kernel: KernelPads::True,
        uinput_path: missing.clone(),
        ..GamepadConfig::default()
    })
    .err()
    .context("start succeeded without uinput")?
    .to_string();
    anyhow::ensure!(
        err.contains("kernel gamepads unavailable") && err.contains("/nonexistent/uinput"),
        "{err}"
    );
    let dir = TempDir::new("uinput-auto")?;
    let hub = GamepadHub::start(GamepadConfig {
        socket_dir: dir.0.clone(),
        kernel: KernelPads::Auto,
        uinput_path: missing,
        ..GamepadConfig::default()
    })?;
    apply(&hub, "js,c,0,WGJveCAzNjAgQ29udHJvbGxlcg==,4,17")?;
    apply(&hub, "js,b,0,0,1")?;
    Ok(())
}
