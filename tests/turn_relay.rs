//! Through TURN only: with `SELKIES_TURN_FORCE_RELAY` both the browser and the server gather
//! relayed candidates from coturn (REST credentials minted from the shared secret), so the only
//! path the video can take is through the relay; the browser still shows the painted screen.

mod common;

use anyhow::{ensure, Context, Result};
use common::coturn::Coturn;
use common::{wait_colours, Chromium, Painter, Server};
use selkies_rs::capture::display::VirtualDisplay;
use std::time::Duration;

const ORANGE: [u8; 3] = [240, 140, 20];
const TEAL: [u8; 3] = [20, 160, 160];

#[test]
fn video_flows_through_coturn_when_relay_is_forced() -> Result<()> {
    let secret = "selkies-turn-test-secret";
    let turn = Coturn::start(secret)?;
    let display = VirtualDisplay::start(640, 360)?;
    let mut painter = Painter::connect(&display.name())?;
    painter.fill_rect(0, 0, 640, 360, ORANGE)?;
    painter.sync()?;
    let port = turn.port.to_string();
    let server = Server::start(
        &display.name(),
        &[
            ("SELKIES_TURN_HOST", "127.0.0.1"),
            ("SELKIES_TURN_PORT", &port),
            ("SELKIES_TURN_SHARED_SECRET", secret),
            ("SELKIES_TURN_FORCE_RELAY", "true"),
        ],
    )?;
    let mut browser = Chromium::launch(&server.url())?;
    browser
        .cdp()
        .wait_for(
            "window.selkies && window.selkies.framesDecoded > 5",
            Duration::from_secs(40),
        )
        .with_context(|| {
            format!(
                "no video through TURN\nserver log:\n{}\ncoturn log:\n{}",
                server.log_text(),
                turn.log_text()
            )
        })?;
    wait_colours(
        &mut browser,
        &[(320, 180)],
        &[ORANGE],
        Duration::from_secs(15),
    )?;
    painter.fill_rect(200, 100, 240, 160, TEAL)?;
    painter.sync()?;
    wait_colours(
        &mut browser,
        &[(320, 180)],
        &[TEAL],
        Duration::from_secs(15),
    )?;

    // The pair in use: both ends relayed.
    let pair = browser.cdp().eval(
        "(async () => { const r = await window.selkies.pc.getStats(); let out = null; \
          r.forEach(t => { const s = t.type === 'transport' && r.get(t.selectedCandidatePairId); \
            if (s) { const l = r.get(s.localCandidateId), m = r.get(s.remoteCandidateId); \
            out = [l && l.candidateType, m && m.candidateType]; } }); return out; })()",
    )?;
    ensure!(
        pair == serde_json::json!(["relay", "relay"]),
        "the browser's selected pair is {pair}, not relay ↔ relay"
    );
    Ok(())
}
