//! Clipboard end to end: the page writes text and a PNG through the data channel and `xclip` on
//! the same display pastes them; `xclip` copies text and the page receives it.

mod common;

use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use base64::Engine as _;
use common::xclip::{make_png, xclip_out, XclipOwner};
use common::{Chromium, Server};
use selkies_rs::capture::display::VirtualDisplay;

const WAIT: Duration = Duration::from_secs(15);

fn until_xclip(display: &str, args: &[&str], want: &[u8]) -> Result<()> {
    let deadline = Instant::now() + WAIT;
    let mut last = Vec::new();
    while Instant::now() < deadline {
        if let Ok(out) = xclip_out(display, args) {
            if out == want {
                return Ok(());
            }
            last = out;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    anyhow::bail!(
        "xclip {args:?} gave {} bytes ({:?}…), expected {} bytes",
        last.len(),
        String::from_utf8_lossy(&last[..last.len().min(40)]),
        want.len()
    )
}

#[test]
fn text_and_images_cross_between_the_page_and_x_clients() -> Result<()> {
    let display = VirtualDisplay::start(640, 480)?;
    let d = display.name();
    let server = Server::start(&d, &[])?;
    let mut browser = Chromium::launch(&server.url())?;
    browser
        .cdp()
        .wait_for(
            "window.selkies && window.selkies.channel && window.selkies.channel.readyState === 'open'",
            Duration::from_secs(30),
        )
        .with_context(|| server.log_text())?;

    // Page → X: text.
    let text = "grüße ☃ from the page";
    browser.cdp().eval(&format!(
        "window.selkies.clipboard.pushText({}, {{ force: true }})",
        serde_json::to_string(text)?
    ))?;
    until_xclip(&d, &["-selection", "clipboard", "-o"], text.as_bytes())
        .with_context(|| server.log_text())?;

    // Page → X: a PNG.
    let png = make_png(64, 48, 7);
    let b64 = base64::engine::general_purpose::STANDARD.encode(&png);
    browser.cdp().eval(&format!(
        "window.selkies.clipboard.pushBlob(new Blob([Uint8Array.from(atob('{b64}'), c => c.charCodeAt(0))], \
         {{ type: 'image/png' }}), {{ force: true }})"
    ))?;
    until_xclip(
        &d,
        &["-selection", "clipboard", "-t", "image/png", "-o"],
        &png,
    )
    .with_context(|| server.log_text())?;

    // X → page: xclip takes the clipboard; the page receives the text.
    let from_x = "copied in X 日本";
    let _owner = XclipOwner::start(&d, None, from_x.as_bytes())?;
    browser
        .cdp()
        .wait_for(
            &format!(
                "window.selkies.clipboard.last && window.selkies.clipboard.last.text === {}",
                serde_json::to_string(from_x)?
            ),
            WAIT,
        )
        .with_context(|| server.log_text())?;
    let last = browser.cdp().eval("window.selkies.clipboard.last.mime")?;
    ensure!(
        last.as_str().is_some_and(|m| m.starts_with("text/plain")),
        "mime {last}"
    );
    Ok(())
}
