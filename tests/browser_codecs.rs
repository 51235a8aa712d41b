//! End to end for every codec but H.264 (which `browser_stream` covers at 1080p): the server is
//! told to send VP8, VP9 or AV1, headless Chromium negotiates it, decodes it (its own
//! `getStats()` names the codec) and shows the painted colours, and a repaint arrives.

mod common;

use anyhow::{Context, Result};
use common::{wait_colours, Chromium, Painter, Server};
use selkies_rs::capture::display::VirtualDisplay;
use std::time::Duration;

const RED: [u8; 3] = [220, 30, 30];
const BLUE: [u8; 3] = [30, 60, 220];
const GREEN: [u8; 3] = [40, 200, 60];
const YELLOW: [u8; 3] = [230, 220, 40];

fn streams(codec: &str, mime: &str) -> Result<()> {
    let display = VirtualDisplay::start(640, 360)?;
    let mut painter = Painter::connect(&display.name())?;
    painter.fill_rect(0, 0, 320, 360, RED)?;
    painter.fill_rect(320, 0, 320, 360, BLUE)?;
    painter.fill_rect(260, 120, 120, 120, GREEN)?;
    painter.sync()?;

    let server = Server::start(&display.name(), &[("SELKIES_VIDEO_CODEC", codec)])?;
    let mut browser = Chromium::launch(&server.url())?;
    browser
        .cdp()
        .wait_for(
            "window.selkies && window.selkies.framesDecoded > 5 && window.selkies.frameWidth > 0",
            Duration::from_secs(30),
        )
        .with_context(|| {
            format!(
                "{codec}: no video decoded; server log:\n{}",
                server.log_text()
            )
        })?;
    let got = browser.cdp().eval("window.selkies.codec")?;
    assert!(
        got.as_str().unwrap_or("").eq_ignore_ascii_case(mime),
        "{codec}: the browser decodes {got}, not {mime}"
    );
    let points = [(100, 100), (560, 300), (320, 180)];
    wait_colours(
        &mut browser,
        &points,
        &[RED, BLUE, GREEN],
        Duration::from_secs(15),
    )
    .with_context(|| format!("{codec}: first picture"))?;
    painter.fill_rect(260, 120, 120, 120, YELLOW)?;
    painter.fill_rect(0, 0, 320, 360, BLUE)?;
    painter.sync()?;
    wait_colours(
        &mut browser,
        &points,
        &[BLUE, BLUE, YELLOW],
        Duration::from_secs(15),
    )
    .with_context(|| format!("{codec}: repaint"))?;
    Ok(())
}

#[test]
fn vp8_in_chromium() -> Result<()> {
    streams("vp8", "video/VP8")
}

#[test]
fn vp9_in_chromium() -> Result<()> {
    streams("vp9", "video/VP9")
}

#[test]
fn av1_in_chromium() -> Result<()> {
    streams("av1", "video/AV1")
}
