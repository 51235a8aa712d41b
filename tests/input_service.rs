//! The input thread against a real X server, without a browser: the ways a held key is let go
//! (heartbeat omission, heartbeat silence, `kr`, client gone) and the refcount across viewers,
//! observed by `xev`.

mod common;

use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use common::xev::Xev;
use selkies_rs::capture::display::VirtualDisplay;
use selkies_rs::input::protocol::Verb;
use selkies_rs::input::service::{InputService, HEARTBEAT_TIMEOUT};

const WAIT: Duration = Duration::from_secs(10);
const A: u32 = 0x61;
const B: u32 = 0x62;

fn setup() -> Result<(VirtualDisplay, Xev, InputService)> {
    let display = VirtualDisplay::start(640, 480)?;
    let xev = Xev::start(&display.name(), 640, 480)?;
    let service = InputService::start(Some(&display.name()))?;
    Ok((display, xev, service))
}

fn released(xev: &mut Xev, keysym: u32, timeout: Duration) -> Result<()> {
    xev.wait(&format!("release of {keysym:#x}"), timeout, |e| {
        e.kind == "KeyRelease" && e.keysym == keysym
    })?;
    Ok(())
}

#[test]
fn a_key_missing_from_the_heartbeat_is_released_at_once() -> Result<()> {
    let (_d, mut xev, service) = setup()?;
    let client = service.client();
    client.send(Verb::KeyDown(A), Instant::now());
    client.send(Verb::KeyDown(B), Instant::now());
    xev.wait_key_press(B, WAIT)?;
    client.send(Verb::HeldKeys(vec![B]), Instant::now());
    let got = xev.wait("release of a", WAIT, |e| e.kind == "KeyRelease")?;
    ensure!(got.last().map(|e| e.keysym) == Some(A), "{got:?}");
    Ok(())
}

#[test]
fn keys_are_released_when_the_heartbeat_stops() -> Result<()> {
    let (_d, mut xev, service) = setup()?;
    let client = service.client();
    client.send(Verb::KeyDown(A), Instant::now());
    client.send(Verb::HeldKeys(vec![A]), Instant::now());
    let pressed = Instant::now();
    xev.wait_key_press(A, WAIT)?;
    released(&mut xev, A, HEARTBEAT_TIMEOUT * 3)?;
    ensure!(
        pressed.elapsed() >= HEARTBEAT_TIMEOUT,
        "released before the timeout"
    );
    drop(client);
    Ok(())
}

#[test]
fn release_all_and_disconnect_let_go_and_shared_keys_wait_for_the_last_holder() -> Result<()> {
    let (_d, mut xev, service) = setup()?;
    let first = service.client();
    let second = service.client();
    first.send(Verb::KeyDown(A), Instant::now());
    second.send(Verb::KeyDown(A), Instant::now());
    xev.wait_key_press(A, WAIT)?;
    first.send(Verb::ReleaseAllKeys, Instant::now());
    // The second viewer still holds it: a key pressed afterwards comes before any release of a.
    first.send(Verb::KeyDown(B), Instant::now());
    let got = xev.wait_key_press(B, WAIT)?;
    ensure!(
        got.iter().all(|e| e.kind != "KeyRelease"),
        "a was released while held: {got:?}"
    );
    drop(second);
    released(&mut xev, A, WAIT)?;
    drop(first);
    released(&mut xev, B, WAIT)?;
    Ok(())
}
