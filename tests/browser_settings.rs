//! The page chooses the codec and changes the encoder, bitrate and frame rate while it plays,
//! against a real server offering every codec: `?codec=vp9` is honoured through the answer,
//! `setCodec` reconnects onto another codec, `setEncoder` switches the server's encoder and the
//! page shows which one is in use.

mod common;

use anyhow::{Context, Result};
use common::{Chromium, Server};
use selkies_rs::capture::display::VirtualDisplay;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

fn decoding(browser: &mut Chromium, mime: &str, server: &Server) -> Result<()> {
    let before = browser
        .cdp()
        .eval("(window.selkies && window.selkies.framesDecoded) || 0")?
        .as_u64()
        .unwrap_or(0);
    browser
        .cdp()
        .wait_for(
            &format!(
                "window.selkies && window.selkies.state === 'streaming' && window.selkies.codec === '{mime}' \
                 && window.selkies.framesDecoded > {before} + 5"
            ),
            WAIT,
        )
        .with_context(|| {
            let state = browser
                .cdp()
                .eval("JSON.stringify({codec: window.selkies.codec, state: window.selkies.state, server: window.selkies.server})")
                .map(|v| v.to_string())
                .unwrap_or_default();
            format!("not decoding {mime}: {state}\nserver log:\n{}", server.log_text())
        })?;
    Ok(())
}

#[test]
fn the_page_picks_the_codec_and_switches_encoder_live() -> Result<()> {
    let display = VirtualDisplay::start(640, 360)?;
    let _motion = selkies_rs::capture::animate::Animator::start(
        &display.name(),
        selkies_rs::capture::animate::Content::Desktop,
        30,
    )?;
    let server = Server::start(&display.name(), &[])?;
    let mut browser = Chromium::launch(&format!("{}?codec=vp9", server.url()))?;

    // The page's preference wins over the server's order (H.264 first).
    decoding(&mut browser, "video/VP9", &server)?;
    browser.cdp().wait_for(
        "window.selkies.server.codec === 'vp9' && window.selkies.server.encoder === 'libvpx-vp9'",
        WAIT,
    )?;

    // Another codec: the page reconnects with a new preference.
    browser.cdp().eval("window.selkies.setCodec('vp8')")?;
    decoding(&mut browser, "video/VP8", &server)?;

    // Another encoder for the same codec: the server reopens and says which one it uses now.
    browser
        .cdp()
        .eval("window.selkies.setEncoder('gstreamer')")?;
    browser
        .cdp()
        .wait_for("window.selkies.server.encoder === 'gstreamer:vp8enc'", WAIT)
        .with_context(|| format!("no encoder switch; server log:\n{}", server.log_text()))?;
    decoding(&mut browser, "video/VP8", &server)?;

    // Bitrate and frame rate are applied and echoed back.
    browser
        .cdp()
        .eval("window.selkies.setBitrate(2500) && window.selkies.setFramerate(30)")?;
    browser.cdp().wait_for(
        "String(window.selkies.server.video_bitrate) === '2500' && String(window.selkies.server.framerate) === '30'",
        WAIT,
    )?;
    Ok(())
}
