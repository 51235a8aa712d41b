//! Remote resize: RandR on Xvfb through `Resizer`, and end to end a page with `?resize=1` whose
//! window size becomes the X screen size, with the stream following without a reconnect.

mod common;

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use common::x11::XClient;
use common::{Chromium, Server};
use selkies_rs::capture::display::VirtualDisplay;
use selkies_rs::capture::randr::Resizer;
use serde_json::json;

fn root_size(display: &str) -> Result<(u16, u16)> {
    XClient::connect(display, &[])?.root_size()
}

#[test]
fn randr_resizes_xvfb_within_its_limits() -> Result<()> {
    let display = VirtualDisplay::start(1920, 1080)?;
    let name = display.name();
    let resizer = Resizer::open(&name)?;
    for (ask, want) in [
        ((1280, 720), (1280, 720)),
        ((1001, 777), (1000, 776)),
        ((1600, 900), (1600, 900)),
        ((5000, 5000), (1920, 1080)),
        ((1280, 720), (1280, 720)),
    ] {
        let applied = resizer.resize(ask.0, ask.1)?;
        ensure!(applied == want, "asked {ask:?}: applied {applied:?}");
        ensure!(
            root_size(&name)? == want,
            "asked {ask:?}: root is {:?}",
            root_size(&name)?
        );
    }
    Ok(())
}

#[test]
fn the_stream_follows_the_browser_window_without_reconnecting() -> Result<()> {
    let display = VirtualDisplay::start(1920, 1080)?;
    let server = Server::start(&display.name(), &[("SELKIES_ENABLE_RESIZE", "true")])?;
    let mut browser = Chromium::launch(&format!("{}?resize=1", server.url()))?;
    browser.cdp().call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 1000, "height": 700, "deviceScaleFactor": 1, "mobile": false}),
    )?;
    browser
        .cdp()
        .wait_for(
            "window.selkies.frameWidth === 1000 && window.selkies.frameHeight === 700",
            Duration::from_secs(30),
        )
        .with_context(|| format!("stream never became 1000x700:\n{}", server.log_text()))
        .with_context(|| {
            browser
                .cdp()
                .eval("JSON.stringify([window.selkies.options, window.selkies.input, window.selkies.frameWidth, window.selkies.log])")
                .map(|v| v.to_string())
                .unwrap_or_default()
        })?;
    ensure!(root_size(&display.name())? == (1000, 700));

    browser.cdp().call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 1280, "height": 720, "deviceScaleFactor": 1, "mobile": false}),
    )?;
    browser
        .cdp()
        .wait_for(
            "window.selkies.frameWidth === 1280 && window.selkies.frameHeight === 720",
            Duration::from_secs(20),
        )
        .with_context(|| server.log_text())?;
    let attempts = browser.cdp().eval("window.selkies.attempt")?;
    ensure!(
        attempts.as_u64() == Some(1),
        "the page reconnected: {attempts}"
    );
    Ok(())
}
