//! Keyframes on request: a new viewer's first frame is an IDR; with an infinite GOP no IDR comes
//! unasked; an RTCP PLI (and likewise a FIR) from the viewer makes the next frames include an IDR.
//!
//! The viewer is a webrtc-rs client (`common::rtc_client`) so the test sees the RTP itself and
//! can tell IDR frames apart by their NAL unit types.

mod common;

use anyhow::{bail, Context, Result};
use common::rtc_client::{Frame, RtcViewer};
use common::Server;
use selkies_rs::capture::animate::{Animator, Content};
use selkies_rs::capture::display::VirtualDisplay;
use std::time::Duration;

/// Delta frames that must pass without an IDR before a keyframe request is sent.
const QUIET_FRAMES: usize = 30;
/// Frames after the request within which an IDR must arrive.
const IDR_WITHIN: usize = 5;
/// Generous per-frame wait: the display animates continuously, so frames keep coming.
const FRAME_TIMEOUT: Duration = Duration::from_secs(10);

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("tokio runtime")
}

/// Waits for `QUIET_FRAMES` consecutive frames without an IDR; fails if an IDR keeps coming.
async fn wait_quiet(viewer: &mut RtcViewer, server: &Server) -> Result<Vec<Frame>> {
    let mut run = Vec::new();
    let mut seen = 0;
    while run.len() < QUIET_FRAMES {
        let f = viewer.next_frame(FRAME_TIMEOUT).await.with_context(|| {
            format!(
                "waiting for delta frames ({seen} frames so far); server log:\n{}",
                server.log_text()
            )
        })?;
        seen += 1;
        if f.idr {
            // An IDR nobody asked for restarts the count; more than a few means no infinite GOP.
            run.clear();
        } else {
            run.push(f);
        }
        if seen > QUIET_FRAMES * 3 {
            bail!(
                "IDR frames keep arriving without a request ({seen} frames seen, longest run \
                 without an IDR {}): the GOP should be infinite",
                run.len()
            );
        }
    }
    Ok(run)
}

/// Counts the frames after a keyframe request until one is an IDR; `None` if none within
/// `IDR_WITHIN`.
async fn frames_until_idr(viewer: &mut RtcViewer) -> Result<Option<usize>> {
    for i in 1..=IDR_WITHIN {
        let f = viewer.next_frame(FRAME_TIMEOUT).await?;
        if f.idr {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

#[test]
fn pli_and_fir_each_bring_an_idr_and_none_comes_unasked() -> Result<()> {
    let display = VirtualDisplay::start(1280, 720)?;
    let _animator = Animator::start(&display.name(), Content::Desktop, 30)?;
    let server = Server::start(&display.name(), &[])?;
    let rt = runtime()?;
    rt.block_on(async {
        let mut viewer = RtcViewer::connect(&server.ws_url(), Duration::from_secs(30))
            .await
            .with_context(|| {
                format!("viewer did not connect; server log:\n{}", server.log_text())
            })?;

        // A new viewer gets an IDR at once: its very first frame.
        let first = viewer.next_frame(FRAME_TIMEOUT).await?;
        assert!(
            first.idr,
            "the first frame a new viewer receives must be an IDR, got {first:?}"
        );

        // PLI.
        let quiet = wait_quiet(&mut viewer, &server).await?;
        assert!(quiet.iter().all(|f| !f.idr));
        viewer.send_pli().await?;
        let after_pli = frames_until_idr(&mut viewer).await?;
        assert!(
            after_pli.is_some(),
            "no IDR within {IDR_WITHIN} frames after a PLI (after {QUIET_FRAMES} frames without \
             one); server log:\n{}",
            server.log_text()
        );

        // FIR, the same way.
        wait_quiet(&mut viewer, &server).await?;
        viewer.send_fir().await?;
        let after_fir = frames_until_idr(&mut viewer).await?;
        assert!(
            after_fir.is_some(),
            "no IDR within {IDR_WITHIN} frames after a FIR (after {QUIET_FRAMES} frames without \
             one); server log:\n{}",
            server.log_text()
        );

        // The server saw each request as one (its log names them).
        let log = server.log_text();
        assert!(
            log.matches("keyframe requested by the browser").count() >= 2,
            "server log should record both keyframe requests:\n{log}"
        );
        viewer.close().await;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(())
}
