//! Keyboard and mouse end to end: real key and mouse events dispatched into headless Chromium on
//! our page (CDP `Input.*`) → data channel → XTEST → what `xev`, an ordinary X client on the same
//! display, receives. Covers a US and a German server layout, Shift and AltGr, a character no
//! layout has, clicks and wheel under browser scaling, relative motion, and the release of a key
//! still held when the browser dies.

mod common;

use std::process::Command;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use common::xev::{XEvent, Xev};
use common::{Chromium, Server};
use selkies_rs::capture::display::VirtualDisplay;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(10);

/// X modifier bits in xev's `state`.
const SHIFT: u32 = 0x1;
const MOD5: u32 = 0x80;

/// CDP modifier bits.
const CDP_SHIFT: u32 = 8;

struct Key {
    key: &'static str,
    code: &'static str,
    vk: u32,
}

const SHIFT_KEY: Key = Key {
    key: "Shift",
    code: "ShiftLeft",
    vk: 16,
};
const ALTGR_KEY: Key = Key {
    key: "AltGraph",
    code: "AltRight",
    vk: 225,
};

fn key_event(browser: &mut Chromium, kind: &str, k: &Key, modifiers: u32) -> Result<()> {
    let printable = k.key.chars().count() == 1;
    let mut params = json!({
        "type": if kind == "keyDown" && printable { "keyDown" } else { kind },
        "key": k.key,
        "code": k.code,
        "windowsVirtualKeyCode": k.vk,
        "modifiers": modifiers,
    });
    if kind == "keyDown" && printable {
        params["text"] = json!(k.key);
    }
    browser.cdp().call("Input.dispatchKeyEvent", params)?;
    Ok(())
}

fn tap(browser: &mut Chromium, k: &Key, modifiers: u32) -> Result<()> {
    key_event(browser, "keyDown", k, modifiers)?;
    key_event(browser, "keyUp", k, modifiers)
}

fn mouse(browser: &mut Chromium, params: serde_json::Value) -> Result<()> {
    browser.cdp().call("Input.dispatchMouseEvent", params)?;
    Ok(())
}

fn press_of(events: &[XEvent], keysym: u32) -> Result<&XEvent> {
    events
        .iter()
        .rev()
        .find(|e| e.kind == "KeyPress" && e.keysym == keysym)
        .with_context(|| format!("no press of {keysym:#x} in {events:?}"))
}

/// Xvfb, xev over the whole screen, the server, and Chromium streaming with the channel open.
fn setup() -> Result<(VirtualDisplay, Xev, Server, Chromium)> {
    let display = VirtualDisplay::start(1920, 1080)?;
    let xev = Xev::start(&display.name(), 1920, 1080)?;
    let server = Server::start(&display.name(), &[])?;
    let browser = open_page(&server, None)?;
    Ok((display, xev, server, browser))
}

/// Chromium on the server's page, logged in with `authorization` when given, streaming with the
/// data channel open and focus emulated.
fn open_page(server: &Server, authorization: Option<&str>) -> Result<Chromium> {
    let mut browser = match authorization {
        None => Chromium::launch(&server.url())?,
        Some(value) => {
            let mut b = Chromium::launch("about:blank")?;
            b.cdp().set_extra_headers(&[("Authorization", value)])?;
            b.cdp().navigate(&server.url())?;
            b
        }
    };
    browser
        .cdp()
        .wait_for(
            "window.selkies && window.selkies.framesDecoded > 0 && window.selkies.channel \
             && window.selkies.channel.readyState === 'open'",
            Duration::from_secs(30),
        )
        .with_context(|| format!("not streaming; server log:\n{}", server.log_text()))?;
    browser.cdp().call(
        "Emulation.setFocusEmulationEnabled",
        json!({"enabled": true}),
    )?;
    Ok(browser)
}

#[test]
fn keys_reach_x_clients_on_us_and_german_layouts() -> Result<()> {
    let (display, mut xev, server, mut browser) = setup()?;

    // US layout (Xvfb's default).
    let a = Key {
        key: "a",
        code: "KeyA",
        vk: 65,
    };
    tap(&mut browser, &a, 0)?;
    let state = browser.cdp().eval("JSON.stringify(window.selkies.input)")?;
    xev.wait_key_press(0x61, WAIT)
        .with_context(|| format!("page input {state}; {}", server.log_text()))?;

    key_event(&mut browser, "keyDown", &SHIFT_KEY, CDP_SHIFT)?;
    let bang = Key {
        key: "!",
        code: "Digit1",
        vk: 49,
    };
    tap(&mut browser, &bang, CDP_SHIFT)?;
    key_event(&mut browser, "keyUp", &SHIFT_KEY, 0)?;
    let got = xev.wait_key_press(0x21, WAIT)?;
    ensure!(press_of(&got, 0x21)?.state & SHIFT != 0, "{got:?}");

    // '@' typed on a US keyboard in the browser is Shift+2; the server has no Shift+2 '@' on a
    // German layout, so it must drop Shift and use AltGr+Q instead.
    let status = Command::new("setxkbmap")
        .args(["-display", &display.name(), "de"])
        .status()
        .context("setxkbmap (Debian x11-xkb-utils)")?;
    ensure!(status.success(), "setxkbmap de failed");

    let z = Key {
        key: "z",
        code: "KeyZ",
        vk: 90,
    };
    tap(&mut browser, &z, 0)?;
    let got = xev.wait_key_press(0x7a, WAIT)?;
    // On a German keyboard z sits where US has y: keycode 29, not US z's 52.
    ensure!(press_of(&got, 0x7a)?.detail == 29, "{got:?}");

    key_event(&mut browser, "keyDown", &SHIFT_KEY, CDP_SHIFT)?;
    let at = Key {
        key: "@",
        code: "Digit2",
        vk: 50,
    };
    tap(&mut browser, &at, CDP_SHIFT)?;
    key_event(&mut browser, "keyUp", &SHIFT_KEY, 0)?;
    let got = xev.wait_key_press(0x40, WAIT)?;
    let e = press_of(&got, 0x40)?;
    ensure!(
        e.state & MOD5 != 0 && e.state & SHIFT == 0,
        "@ needs AltGr without Shift: {e:?}"
    );

    // A German user's own AltGr+E: the client sends AltGr, then the EuroSign keysym.
    key_event(&mut browser, "keyDown", &ALTGR_KEY, 0)?;
    let euro = Key {
        key: "€",
        code: "KeyE",
        vk: 69,
    };
    tap(&mut browser, &euro, 0)?;
    key_event(&mut browser, "keyUp", &ALTGR_KEY, 0)?;
    let got = xev.wait_key_press(0x20ac, WAIT)?;
    ensure!(press_of(&got, 0x20ac)?.state & MOD5 != 0, "{got:?}");

    let o_umlaut = Key {
        key: "ö",
        code: "Semicolon",
        vk: 186,
    };
    tap(&mut browser, &o_umlaut, 0)?;
    xev.wait_key_press(0xf6, WAIT)?;

    // A character no layout has, as an IME commit would deliver it.
    browser
        .cdp()
        .call("Input.insertText", json!({"text": "☃"}))?;
    let got = xev.wait_key_press(0x0100_2603, WAIT)?;
    ensure!(press_of(&got, 0x0100_2603)?.name == "U2603", "{got:?}");
    Ok(())
}

#[test]
fn mouse_clicks_and_wheel_land_at_stream_coordinates_under_browser_scaling() -> Result<()> {
    let (_display, mut xev, server, mut browser) = setup()?;
    // Show the 1920x1080 stream in a 960x540 page: every page pixel is two stream pixels.
    browser.cdp().call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 960, "height": 540, "deviceScaleFactor": 1, "mobile": false}),
    )?;
    browser.cdp().wait_for(
        "document.getElementById('stream').clientWidth === 960",
        WAIT,
    )?;

    let click = |browser: &mut Chromium, x: u32, y: u32, button: &str| -> Result<()> {
        for kind in ["mouseMoved", "mousePressed", "mouseReleased"] {
            mouse(
                browser,
                json!({"type": kind, "x": x, "y": y, "button": button, "clickCount": 1,
                       "buttons": if kind == "mousePressed" { 1 } else { 0 }}),
            )?;
        }
        Ok(())
    };
    click(&mut browser, 480, 270, "left")?;
    let got = xev
        .wait("left press", WAIT, |e| {
            e.kind == "ButtonPress" && e.detail == 1
        })
        .with_context(|| server.log_text())?;
    let e = got.last().context("no event")?;
    ensure!((e.root_x, e.root_y) == (960, 540), "{e:?}");
    let last = browser.cdp().eval("window.selkies.input")?;
    xev.wait("left release", WAIT, |e| {
        e.kind == "ButtonRelease" && e.detail == 1
    })
    .with_context(|| format!("page input {last}; {}", server.log_text()))?;

    click(&mut browser, 100, 50, "right")?;
    let got = xev.wait("right press", WAIT, |e| {
        e.kind == "ButtonPress" && e.detail == 3
    })?;
    let e = got.last().context("no event")?;
    ensure!((e.root_x, e.root_y) == (200, 100), "{e:?}");

    // Two notches down, one up, one right.
    for (dx, dy) in [(0, 200), (0, -100), (100, 0)] {
        mouse(
            &mut browser,
            json!({"type": "mouseWheel", "x": 300, "y": 200, "deltaX": dx, "deltaY": dy}),
        )?;
    }
    let mut presses = Vec::new();
    while presses.len() < 4 {
        let got = xev.wait("wheel clicks", WAIT, |e| {
            e.kind == "ButtonPress" && (4..=7).contains(&e.detail)
        })?;
        let e = got.last().context("no event")?;
        ensure!((e.root_x, e.root_y) == (600, 400), "{e:?}");
        presses.push(e.detail);
    }
    ensure!(presses == [5, 5, 4, 7], "wheel buttons {presses:?}");
    Ok(())
}

#[test]
fn relative_motion_under_pointer_lock_moves_the_x_pointer_by_the_deltas() -> Result<()> {
    let (_display, mut xev, server, mut browser) = setup()?;
    let click = |browser: &mut Chromium, x: u32, y: u32| -> Result<()> {
        for kind in ["mouseMoved", "mousePressed", "mouseReleased"] {
            mouse(
                browser,
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            )?;
        }
        Ok(())
    };
    click(&mut browser, 400, 300)?;
    let got = xev
        .wait("first click", WAIT, |e| e.kind == "ButtonPress")
        .with_context(|| server.log_text())?;
    let start = got
        .last()
        .map(|e| (e.root_x, e.root_y))
        .context("no event")?;
    // The page asks for pointer lock on click in fullscreen; a test can ask directly.
    browser
        .cdp()
        .eval("document.getElementById('stream').requestPointerLock()")?;
    browser
        .cdp()
        .wait_for("window.selkies.input.pointerLocked === true", WAIT)
        .with_context(|| server.log_text())?;
    // Locked: the page reports movement, and the X pointer moves by it from where it was.
    for (x, y) in [(430, 290), (450, 310)] {
        mouse(&mut browser, json!({"type": "mouseMoved", "x": x, "y": y}))?;
    }
    browser
        .cdp()
        .wait_for("window.selkies.input.last.startsWith('m2,')", WAIT)?;
    click(&mut browser, 450, 310)?;
    let got = xev.wait("press after relative motion", WAIT, |e| {
        e.kind == "ButtonPress" && e.detail == 1
    })?;
    let e = got.last().context("no event")?;
    ensure!(
        (e.root_x, e.root_y) == (start.0 + 50, start.1 + 10),
        "moved by (30,-10) and (20,20) from {start:?}: {e:?}"
    );
    Ok(())
}

#[test]
fn a_key_held_when_the_browser_dies_is_released() -> Result<()> {
    let (_display, mut xev, server, mut browser) = setup()?;
    let b = Key {
        key: "b",
        code: "KeyB",
        vk: 66,
    };
    key_event(&mut browser, "keyDown", &b, 0)?;
    xev.wait_key_press(0x62, WAIT)
        .with_context(|| server.log_text())?;
    // No keyup, no blur: the browser process group is killed outright.
    drop(browser);
    xev.wait("release of b", Duration::from_secs(40), |e| {
        e.kind == "KeyRelease" && e.keysym == 0x62
    })
    .with_context(|| server.log_text())?;
    Ok(())
}

#[test]
fn a_view_only_viewer_watches_but_its_input_is_dropped() -> Result<()> {
    let display = VirtualDisplay::start(1280, 720)?;
    let mut xev = Xev::start(&display.name(), 1280, 720)?;
    let server = Server::start(
        &display.name(),
        &[
            ("SELKIES_ENABLE_BASIC_AUTH", "true"),
            ("SELKIES_BASIC_AUTH_USER", "u"),
            ("SELKIES_BASIC_AUTH_PASSWORD", "control-pw"),
            ("SELKIES_VIEW_ONLY_PASSWORD", "view-pw"),
        ],
    )?;
    let mut viewer = open_page(&server, Some(&common::http::basic("u", "view-pw")))?;
    let v = Key {
        key: "v",
        code: "KeyV",
        vk: 86,
    };
    tap(&mut viewer, &v, 0)?;
    viewer.cdp().eval("window.selkies.send('vb,1234')")?;
    let deadline = std::time::Instant::now() + WAIT;
    while server
        .log_text()
        .matches("not allowed for this viewer")
        .count()
        < 3
    {
        ensure!(
            std::time::Instant::now() < deadline,
            "the viewer's key and bitrate were not refused:\n{}",
            server.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let mut controller = open_page(&server, Some(&common::http::basic("u", "control-pw")))?;
    let c = Key {
        key: "c",
        code: "KeyC",
        vk: 67,
    };
    tap(&mut controller, &c, 0)?;
    let got = xev.wait_key_press(0x63, WAIT)?;
    ensure!(
        got.iter().all(|e| e.keysym != 0x76),
        "the view-only key reached X: {got:?}"
    );
    ensure!(
        !server.log_text().contains("video_bitrate,1234"),
        "a viewer changed the bitrate"
    );
    Ok(())
}
