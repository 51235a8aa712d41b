//! Bad signalling input is refused one client at a time: with a real browser viewer streaming,
//! other WebSocket clients each send one kind of bad input and each gets `ERROR <reason>` and a
//! close (code 1002), while the server keeps running and the browser keeps decoding frames.

mod common;

use anyhow::{Context, Result};
use common::rtc_client::hello_message;
use common::ws::{protocol_error_code, Incoming, Rejection, WsClient};
use common::{Chromium, Server};
use selkies_rs::capture::animate::{Animator, Content};
use selkies_rs::capture::display::VirtualDisplay;
use std::time::Duration;

const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

fn hello() -> String {
    hello_message("1", "1280x720", 1.0)
}

/// Opens a client, lets `setup` send its messages, and returns how the server rejected it.
fn rejected(server: &Server, setup: impl FnOnce(&mut WsClient) -> Result<()>) -> Result<Rejection> {
    let mut c = WsClient::connect(&server.ws_url())?;
    setup(&mut c)?;
    c.expect_error(REPLY_TIMEOUT)
}

fn frames_decoded(browser: &mut Chromium) -> Result<u64> {
    browser
        .cdp()
        .eval("window.selkies.framesDecoded")?
        .as_u64()
        .context("framesDecoded is not a number")
}

#[test]
fn each_bad_client_gets_an_error_and_the_viewer_keeps_streaming() -> Result<()> {
    let display = VirtualDisplay::start(1280, 720)?;
    let _animator = Animator::start(&display.name(), Content::Desktop, 30)?;
    let mut server = Server::start(&display.name(), &[])?;
    let mut browser = Chromium::launch(&server.url())?;
    browser
        .cdp()
        .wait_for(
            "window.selkies && window.selkies.framesDecoded > 5",
            Duration::from_secs(30),
        )
        .with_context(|| format!("no video decoded; server log:\n{}", server.log_text()))?;
    let attempt = browser.cdp().eval("window.selkies.attempt")?;

    // (case, the rejection, the reason it must contain)
    let mut cases: Vec<(&str, Rejection, &str)> = Vec::new();

    let r = rejected(&server, |c| c.send_text("this is not signalling"))?;
    cases.push(("garbage text", r, "unrecognised message"));

    let r = rejected(&server, |c| {
        c.send_text(r#"{"sdp":{"type":"answer","sdp":"v=0\r\n"}}"#)
    })?;
    cases.push(("sdp before HELLO", r, "expected HELLO"));

    let r = rejected(&server, |c| {
        c.send_text(&hello())?;
        c.send_text(&hello())
    })?;
    cases.push(("two HELLOs", r, "already registered"));

    let r = rejected(&server, |c| {
        c.send_text(&hello())?;
        c.send_text("SESSION 7")
    })?;
    cases.push(("SESSION with an unknown peer", r, "peer '7' not found"));

    let r = rejected(&server, |c| c.send_text(&"x".repeat(70_000)))?;
    cases.push((
        "oversized message",
        r,
        "message too large (70000 bytes, limit 65536)",
    ));

    let r = rejected(&server, |c| c.send_binary(b"HELLO 1".to_vec()))?;
    cases.push(("binary frame", r, "binary messages are not part of"));

    let r = rejected(&server, |c| c.send_text("HELLO 1 !!!not-base64!!!"))?;
    cases.push((
        "HELLO with invalid base64 meta",
        r,
        "meta is not valid base64",
    ));

    let r = rejected(&server, |c| {
        c.send_text(&hello())?;
        c.read_until(REPLY_TIMEOUT, |t| t.starts_with(r#"{"sdp""#))?;
        c.send_text(r#"{"sdp":{"type":"answer","sdp":"v=0 garbage"}}"#)
    })?;
    cases.push(("garbage SDP answer", r, "invalid answer"));

    let mut failures = Vec::new();
    for (case, r, want) in &cases {
        if !r.reason.contains(want) {
            failures.push(format!(
                "{case}: ERROR {:?} does not contain {want:?}",
                r.reason
            ));
        }
        if r.close_code != Some(protocol_error_code()) {
            failures.push(format!(
                "{case}: closed with {:?}, expected code {}",
                r.close_code,
                protocol_error_code()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Abrupt TCP disconnect in the middle of the handshake (HELLO sent, offer not answered).
    let mut c = WsClient::connect(&server.ws_url())?;
    c.send_text(&hello())?;
    c.read_until(REPLY_TIMEOUT, |t| t.starts_with(r#"{"sdp""#))?;
    c.abort();

    // A well-behaved client still gets through the handshake after all that.
    let mut ok = WsClient::connect(&server.ws_url())?;
    ok.send_text(&hello())?;
    let (first, _) = ok.read_until(REPLY_TIMEOUT, |_| true)?;
    assert_eq!(first, "HELLO");
    let (offer, _) = ok.read_until(REPLY_TIMEOUT, |t| t.starts_with('{'))?;
    let offer: serde_json::Value = serde_json::from_str(&offer).context("offer is not JSON")?;
    assert_eq!(offer.pointer("/sdp/type"), Some(&"offer".into()), "{offer}");
    ok.send_text("SESSION 0")?;
    // SESSION 0 is ignored: no ERROR, the socket stays open.
    match ok.read(Duration::from_millis(500)) {
        Ok(Incoming::Text(t)) => assert!(!t.starts_with("ERROR"), "SESSION 0 got {t}"),
        Ok(Incoming::Closed(code)) => panic!("SESSION 0 closed the socket ({code:?})"),
        Err(_) => {} // silence is right
    }
    ok.abort();

    assert!(server.alive(), "the server died:\n{}", server.log_text());
    // The browser viewer is unaffected: still the same connection, and still decoding.
    let before = frames_decoded(&mut browser)?;
    browser
        .cdp()
        .wait_for(
            &format!("window.selkies.framesDecoded > {}", before + 30),
            Duration::from_secs(30),
        )
        .with_context(|| {
            format!(
                "the viewer stopped decoding; server log:\n{}",
                server.log_text()
            )
        })?;
    assert_eq!(
        browser.cdp().eval("window.selkies.attempt")?,
        attempt,
        "the browser had to reconnect"
    );
    assert_eq!(
        browser.cdp().eval("window.selkies.connected")?,
        serde_json::Value::Bool(true)
    );

    // Every session but the browser's has ended, including the two dropped without a close.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let open_sessions = |log: &str| {
        log.matches("signalling connected").count() - log.matches("signalling closed").count()
    };
    while open_sessions(&server.log_text()) > 1 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = server.log_text();
    assert_eq!(
        open_sessions(&log),
        1,
        "sessions left open after their clients went away:\n{log}"
    );

    // The server log records each rejection with its reason.
    let missing: Vec<&str> = cases
        .iter()
        .map(|(_, r, _)| r.reason.as_str())
        .filter(|reason| !log.contains(reason))
        .collect();
    assert!(
        missing.is_empty(),
        "rejection reasons missing from the server log: {missing:?}\n{log}"
    );
    assert!(
        log.matches("closing session: protocol error").count() >= cases.len(),
        "expected {} protocol-error closes in the log:\n{log}",
        cases.len()
    );
    Ok(())
}
