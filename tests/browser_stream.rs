//! End to end: Xvfb → selkies-rs serve → headless Chromium on our page. The colours painted on
//! the X display are the colours the browser's <video> shows, at the display's resolution, and
//! a change on the display arrives in the browser.

mod common;

use anyhow::{Context, Result};
use common::{wait_colours, Chromium, Painter, Server};
use selkies_rs::capture::display::VirtualDisplay;
use std::time::Duration;

const RED: [u8; 3] = [220, 30, 30];
const BLUE: [u8; 3] = [30, 60, 220];
const GREEN: [u8; 3] = [40, 200, 60];
const YELLOW: [u8; 3] = [230, 220, 40];

#[test]
fn browser_shows_the_x_display_live_at_1080p() -> Result<()> {
    let display = VirtualDisplay::start(1920, 1080)?;
    let mut painter = Painter::connect(&display.name())?;
    painter.fill_rect(0, 0, 960, 1080, RED)?;
    painter.fill_rect(960, 0, 960, 1080, BLUE)?;
    painter.fill_rect(800, 400, 320, 280, GREEN)?;
    painter.sync()?;

    let server = Server::start(&display.name(), &[])?;
    let mut browser = Chromium::launch(&server.url())?;
    let frames = browser
        .cdp()
        .wait_for(
            "window.selkies && window.selkies.framesDecoded > 5 && window.selkies.frameWidth > 0",
            Duration::from_secs(30),
        )
        .with_context(|| format!("no video decoded; server log:\n{}", server.log_text()))?;
    assert!(frames.as_bool().unwrap_or(true));
    let size = browser
        .cdp()
        .eval("[window.selkies.frameWidth, window.selkies.frameHeight, window.selkies.codec]")?;
    assert_eq!(size[0].as_u64(), Some(1920), "{size}");
    assert_eq!(size[1].as_u64(), Some(1080), "{size}");
    assert!(
        size[2].as_str().unwrap_or("").contains("H264"),
        "codec {size}"
    );

    let points = [(200, 200), (1700, 900), (960, 540)];
    wait_colours(
        &mut browser,
        &points,
        &[RED, BLUE, GREEN],
        Duration::from_secs(10),
    )?;

    // A change on the display arrives in the browser.
    painter.fill_rect(800, 400, 320, 280, YELLOW)?;
    painter.fill_rect(0, 0, 960, 1080, BLUE)?;
    painter.sync()?;
    wait_colours(
        &mut browser,
        &points,
        &[BLUE, BLUE, YELLOW],
        Duration::from_secs(10),
    )?;

    let before = browser
        .cdp()
        .eval("window.selkies.framesDecoded")?
        .as_u64()
        .unwrap_or(0);
    browser.cdp().wait_for(
        &format!("window.selkies.framesDecoded > {before}"),
        Duration::from_secs(10),
    )?;
    Ok(())
}
