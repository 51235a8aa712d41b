//! Packet pacing: a frame far above the average size (here a keyframe from an encoder given a
//! large VBV buffer) reaches the viewer spread over a few milliseconds instead of in one burst
//! (unpaced, a few packets arrive within microseconds of each other on loopback).

mod common;

use anyhow::{Context, Result};
use common::rtc_client::RtcViewer;
use common::Server;
use selkies_rs::capture::animate::{Animator, Content};
use selkies_rs::capture::display::VirtualDisplay;
use std::time::Duration;

#[test]
fn a_keyframe_far_above_average_is_spread_out() -> Result<()> {
    let display = VirtualDisplay::start(1280, 720)?;
    let _animator = Animator::start(&display.name(), Content::Motion, 30)?;
    // 1000 kbps at 60 fps is about 2 KB a frame; x264enc with a 2 s VBV makes its first IDR
    // many times that, which the server must not send as one burst.
    let server = Server::start(
        &display.name(),
        &[
            ("SELKIES_ENCODER", "gstreamer"),
            ("SELKIES_GSTREAMER_ENCODER", "x264enc vbv-buf-capacity=2000"),
            ("SELKIES_VIDEO_BITRATE", "1000"),
        ],
    )?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut viewer = RtcViewer::connect(&server.ws_url(), Duration::from_secs(30))
            .await
            .with_context(|| format!("no viewer; server log:\n{}", server.log_text()))?;
        // The painter renders its zone plate first; once the screen moves, ask for an IDR of it.
        for _ in 0..90 {
            viewer.next_frame(Duration::from_secs(10)).await?;
        }
        viewer.send_pli().await?;
        let mut first = viewer.next_frame(Duration::from_secs(10)).await?;
        for _ in 0..10 {
            if first.idr {
                break;
            }
            first = viewer.next_frame(Duration::from_secs(10)).await?;
        }
        assert!(first.idr && first.complete, "{first:?}");
        // Far above the burst size: at least three groups, 1 ms or more apart.
        assert!(first.packets >= 20, "the IDR is small: {first:?}");
        assert!(
            first.span >= Duration::from_millis(2),
            "the IDR's {} packets arrived within {:?}: not paced",
            first.packets,
            first.span
        );
        // Not held back either: within the frame interval plus scheduling slack.
        assert!(first.span < Duration::from_millis(50), "{first:?}");
        viewer.close().await;
        Ok(())
    })
}
