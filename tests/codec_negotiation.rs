//! The codec is negotiated per viewer: a viewer that cannot receive the codec the operator forced
//! is refused with the reason (and the server goes on), while a browser that can receives it.

mod common;

use anyhow::{ensure, Context, Result};
use common::rtc_client::RtcViewer;
use common::{Chromium, Server};
use selkies_rs::capture::display::VirtualDisplay;
use std::time::Duration;

#[test]
fn a_viewer_without_the_forced_codec_is_refused_and_others_still_stream() -> Result<()> {
    let display = VirtualDisplay::start(320, 240)?;
    let server = Server::start(&display.name(), &[("SELKIES_VIDEO_CODEC", "vp8")])?;

    // The test viewer receives H.264 only.
    let runtime = tokio::runtime::Runtime::new()?;
    let refused = runtime.block_on(RtcViewer::connect(
        &server.ws_url(),
        Duration::from_secs(20),
    ));
    let err = match refused {
        Ok(_) => anyhow::bail!("an H.264-only viewer was streamed VP8"),
        Err(e) => format!("{e:#}"),
    };
    ensure!(
        err.contains("accepts none of the offered codecs (vp8)"),
        "unclear refusal: {err}"
    );
    ensure!(
        server.log_text().contains("no codec for this viewer"),
        "the refusal is not logged:\n{}",
        server.log_text()
    );

    // The server is unharmed: Chromium gets VP8.
    let mut browser = Chromium::launch(&server.url())?;
    browser
        .cdp()
        .wait_for(
            "window.selkies && window.selkies.framesDecoded > 5",
            Duration::from_secs(30),
        )
        .with_context(|| {
            format!(
                "no video after the refusal; server log:\n{}",
                server.log_text()
            )
        })?;
    let codec = browser.cdp().eval("window.selkies.codec")?;
    ensure!(codec.as_str() == Some("video/VP8"), "decoding {codec}");
    Ok(())
}
