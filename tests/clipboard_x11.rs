//! The X11 clipboard against a real X server (Xvfb) and a real X client (`xclip`): text and PNG
//! both ways, PRIMARY, `TARGETS`, INCR in both directions (multi-MB values), a requestor that
//! vanishes or hangs mid-INCR, each policy's refusals, and the size limit.
//!
//! Every test starts its own Xvfb, and every xclip it starts is killed by pid when the test ends.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

mod common;

use anyhow::{bail, ensure, Result};
use common::xclip::{make_png, xclip_out, XclipOwner};
use selkies_rs::capture::display::VirtualDisplay;
use selkies_rs::input::clipboard::{
    Clipboard, ClipboardConfig, ClipboardError, Content, Policy, PNG_MIME,
};
use tokio::sync::broadcast;
use xcb::x;

/// How long a change may take to reach a subscriber.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(10);

/// How long to wait before concluding that nothing is published.
const QUIET_PERIOD: Duration = Duration::from_millis(1500);

const TEXT: &str = "grüße ☃ 日本";

// ---- helpers ---------------------------------------------------------------------------------

fn config(policy: Policy, max_bytes: usize) -> ClipboardConfig {
    ClipboardConfig {
        policy,
        max_bytes,
        binary: true,
    }
}

/// The next published value, skipping lag notices.
async fn next(rx: &mut broadcast::Receiver<Arc<Content>>) -> Result<Arc<Content>> {
    let deadline = tokio::time::Instant::now() + PUBLISH_TIMEOUT;
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Ok(content)) => return Ok(content),
            Ok(Err(broadcast::error::RecvError::Lagged(_))) => continue,
            Ok(Err(e)) => bail!("subscription closed: {e}"),
            Err(_) => bail!("nothing published within {PUBLISH_TIMEOUT:?}"),
        }
    }
}

/// Fails if anything is published within [`QUIET_PERIOD`].
async fn nothing_published(rx: &mut broadcast::Receiver<Arc<Content>>) -> Result<()> {
    match tokio::time::timeout(QUIET_PERIOD, rx.recv()).await {
        Err(_) => Ok(()),
        Ok(Ok(c)) => bail!("unexpectedly published {} bytes of {}", c.len(), c.mime),
        Ok(Err(e)) => bail!("subscription ended: {e}"),
    }
}

/// Text of `len` bytes (ASCII and multi-byte characters) that differs for each `seed`.
fn big_text(len: usize, seed: u32) -> String {
    let mut s = String::with_capacity(len + 4);
    let mut i = seed;
    while s.len() < len {
        i = i.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        match i >> 29 {
            0 => s.push('é'),
            1 => s.push('日'),
            2 => s.push('\n'),
            _ => s.push(char::from(b'a' + (i >> 24) as u8 % 26)),
        }
    }
    s
}

/// Log lines from every thread (the clipboard logs from its own), for the limit test.
fn logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = Arc::clone(&buf);
        let _ = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || LogWriter(Arc::clone(&writer)))
            .try_init();
        buf
    })
    .clone()
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut buf) = self.0.lock() {
            buf.extend_from_slice(data);
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logged(needles: &[&str]) -> bool {
    let buf = logs();
    let text = buf
        .lock()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    text.lines().any(|l| needles.iter().all(|n| l.contains(n)))
}

// ---- tests -----------------------------------------------------------------------------------

/// (a) Text from the browser is pasted by X clients from CLIPBOARD and PRIMARY, in every text
/// target, and is not published back.
#[tokio::test]
async fn browser_text_is_pasted_by_xclip() -> Result<()> {
    logs();
    let display = VirtualDisplay::start(320, 240)?;
    let d = display.name();
    let clipboard = Clipboard::start(&d, ClipboardConfig::default())?;
    let mut changes = clipboard.subscribe();
    clipboard.set(Content::text(TEXT)).await?;

    let out = xclip_out(&d, &["-selection", "clipboard", "-o"])?;
    assert_eq!(String::from_utf8(out)?, TEXT);
    let out = xclip_out(&d, &["-selection", "primary", "-o"])?;
    assert_eq!(String::from_utf8(out)?, TEXT);
    for target in [
        "UTF8_STRING",
        "text/plain;charset=utf-8",
        "text/plain",
        "TEXT",
    ] {
        let out = xclip_out(&d, &["-selection", "clipboard", "-t", target, "-o"])?;
        assert_eq!(String::from_utf8(out)?, TEXT, "target {target}");
    }
    let latin1 = xclip_out(&d, &["-selection", "clipboard", "-t", "STRING", "-o"])?;
    assert_eq!(latin1, b"gr\xfc\xdfe ? ??");

    let targets = String::from_utf8(xclip_out(
        &d,
        &["-selection", "clipboard", "-t", "TARGETS", "-o"],
    )?)?;
    let targets: Vec<&str> = targets.lines().collect();
    for t in [
        "TARGETS",
        "TIMESTAMP",
        "MULTIPLE",
        "UTF8_STRING",
        "STRING",
        "TEXT",
        "text/plain;charset=utf-8",
        "text/plain",
    ] {
        assert!(targets.contains(&t), "{t} missing from {targets:?}");
    }
    assert!(!targets.contains(&"image/png"), "{targets:?}");
    check_multiple(&d)?;

    assert_eq!(clipboard.current().as_deref(), Some(&Content::text(TEXT)));
    // Our own ownership is never published back to the browser.
    nothing_published(&mut changes).await?;

    // A second value replaces the first.
    clipboard.set(Content::text("second")).await?;
    let out = xclip_out(&d, &["-selection", "clipboard", "-o"])?;
    assert_eq!(out, b"second");
    Ok(())
}

/// (b) A multi-MB PNG from the browser goes to X clients by INCR, byte for byte.
#[tokio::test]
async fn browser_png_is_served_by_incr() -> Result<()> {
    logs();
    let display = VirtualDisplay::start(320, 240)?;
    let d = display.name();
    let clipboard = Clipboard::start(&d, ClipboardConfig::default())?;
    let png = make_png(1100, 1000, 7);
    assert!(png.len() > 3_000_000);
    clipboard.set(Content::new(PNG_MIME, png.clone())).await?;

    let targets = String::from_utf8(xclip_out(
        &d,
        &["-selection", "clipboard", "-t", "TARGETS", "-o"],
    )?)?;
    assert!(targets.lines().any(|t| t == "image/png"), "{targets}");
    assert!(!targets.lines().any(|t| t == "UTF8_STRING"), "{targets}");

    for _ in 0..2 {
        let out = xclip_out(&d, &["-selection", "clipboard", "-t", "image/png", "-o"])?;
        assert_eq!(out.len(), png.len());
        assert!(out == png, "image bytes differ");
    }
    let out = xclip_out(&d, &["-selection", "primary", "-t", "image/png", "-o"])?;
    assert!(out == png, "image bytes differ on PRIMARY");
    // Text targets are refused, not faked.
    assert!(xclip_out(&d, &["-selection", "clipboard", "-o"]).is_err());
    Ok(())
}

/// A bare X client with one window that receives its own property changes, for requests xclip
/// cannot make.
struct RawClient {
    conn: xcb::Connection,
    window: x::Window,
}

impl RawClient {
    fn connect(display: &str) -> Result<Self> {
        let common::x11::XClient { conn, root } = common::x11::XClient::connect(display, &[])?;
        let window: x::Window = conn.generate_id();
        conn.send_and_check_request(&x::CreateWindow {
            depth: x::COPY_FROM_PARENT as u8,
            wid: window,
            parent: root,
            x: 0,
            y: 0,
            width: 1,
            height: 1,
            border_width: 0,
            class: x::WindowClass::InputOnly,
            visual: x::COPY_FROM_PARENT,
            value_list: &[x::Cw::EventMask(x::EventMask::PROPERTY_CHANGE)],
        })?;
        Ok(Self { conn, window })
    }

    fn atom(&self, name: &str) -> Result<x::Atom> {
        let cookie = self.conn.send_request(&x::InternAtom {
            only_if_exists: false,
            name: name.as_bytes(),
        });
        Ok(self.conn.wait_for_reply(cookie)?.atom())
    }

    fn convert(&self, target: x::Atom, property: x::Atom) -> Result<()> {
        self.conn.send_request(&x::ConvertSelection {
            requestor: self.window,
            selection: self.atom("CLIPBOARD")?,
            target,
            property,
            time: x::CURRENT_TIME,
        });
        self.conn.flush()?;
        Ok(())
    }

    /// The next event, waiting up to 10 s.
    fn event(&self) -> Result<xcb::Event> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(event) = self.conn.poll_for_event()? {
                return Ok(event);
            }
            ensure!(Instant::now() < deadline, "no X event within 10 s");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn get(&self, property: x::Atom, delete: bool) -> Result<x::GetPropertyReply> {
        let cookie = self.conn.send_request(&x::GetProperty {
            delete,
            window: self.window,
            property,
            r#type: x::GETPROPERTYTYPE_ANY,
            long_offset: 0,
            long_length: 1 << 20,
        });
        let reply = self.conn.wait_for_reply(cookie)?;
        self.conn.flush()?;
        Ok(reply)
    }
}

/// Asks for `image/png`, takes the `INCR` start and the first chunk, then stops: returns the
/// client, still connected (a hung requestor) until dropped (a vanished one).
fn start_incr_and_stall(display: &str) -> Result<RawClient> {
    let client = RawClient::connect(display)?;
    let (prop, incr) = (client.atom("STALLED_TRANSFER")?, client.atom("INCR")?);
    client.convert(client.atom("image/png")?, prop)?;
    loop {
        match client.event()? {
            xcb::Event::X(x::Event::SelectionNotify(ev)) => {
                ensure!(ev.property() == prop, "conversion refused");
                // Deleting the INCR property asks for the first chunk.
                let reply = client.get(prop, true)?;
                ensure!(reply.r#type() == incr, "expected an INCR transfer");
            }
            xcb::Event::X(x::Event::PropertyNotify(ev))
                if ev.atom() == prop && ev.state() == x::Property::NewValue =>
            {
                // Read the first chunk without deleting it: the owner now waits for us forever.
                let reply = client.get(prop, false)?;
                if reply.r#type() == incr {
                    continue; // the INCR header itself
                }
                ensure!(reply.format() == 8 && !reply.value::<u8>().is_empty());
                return Ok(client);
            }
            _ => {}
        }
    }
}

/// `MULTIPLE` for `UTF8_STRING` and `image/png` of text content: the first converts, the second
/// comes back with its property set to `None`.
fn check_multiple(display: &str) -> Result<()> {
    let client = RawClient::connect(display)?;
    let (utf8, png, pair) = (
        client.atom("UTF8_STRING")?,
        client.atom("image/png")?,
        client.atom("ATOM_PAIR")?,
    );
    let (list, p1, p2) = (
        client.atom("MULTI_LIST")?,
        client.atom("MULTI_1")?,
        client.atom("MULTI_2")?,
    );
    let words: Vec<u32> = [utf8, p1, png, p2]
        .iter()
        .map(xcb::Xid::resource_id)
        .collect();
    client.conn.send_and_check_request(&x::ChangeProperty {
        mode: x::PropMode::Replace,
        window: client.window,
        property: list,
        r#type: pair,
        data: &words[..],
    })?;
    client.convert(client.atom("MULTIPLE")?, list)?;
    loop {
        if let xcb::Event::X(x::Event::SelectionNotify(ev)) = client.event()? {
            ensure!(ev.property() == list, "MULTIPLE refused");
            break;
        }
    }
    let answer = client.get(list, true)?;
    ensure!(
        answer.format() == 32,
        "pair list format {}",
        answer.format()
    );
    let expected: Vec<u32> = [utf8, p1, png, x::ATOM_NONE]
        .iter()
        .map(xcb::Xid::resource_id)
        .collect();
    assert_eq!(answer.value::<u32>(), &expected[..]);
    let text = client.get(p1, true)?;
    ensure!(text.format() == 8 && text.r#type() == utf8);
    assert_eq!(text.value::<u8>(), TEXT.as_bytes());
    Ok(())
}

/// (b) A requestor that hangs, or vanishes, in the middle of an INCR transfer blocks nothing:
/// other clients paste meanwhile and afterwards.
#[tokio::test]
async fn requestor_vanishing_mid_incr_does_not_hang() -> Result<()> {
    logs();
    let display = VirtualDisplay::start(320, 240)?;
    let d = display.name();
    let clipboard = Clipboard::start(&d, ClipboardConfig::default())?;
    let png = make_png(800, 700, 3);
    clipboard.set(Content::new(PNG_MIME, png.clone())).await?;

    let hung = start_incr_and_stall(&d)?;
    let out = xclip_out(&d, &["-selection", "clipboard", "-t", "image/png", "-o"])?;
    assert!(out == png, "image differs while another transfer hangs");
    drop(hung);

    let vanished = start_incr_and_stall(&d)?;
    drop(vanished);
    let out = xclip_out(&d, &["-selection", "clipboard", "-t", "image/png", "-o"])?;
    assert!(out == png, "image differs after a requestor vanished");

    // The browser can still set new content.
    clipboard.set(Content::text("still alive")).await?;
    assert_eq!(
        xclip_out(&d, &["-selection", "clipboard", "-o"])?,
        b"still alive"
    );
    Ok(())
}

/// (c) What X clients copy reaches subscribers: text, a PNG, and multi-MB text read by INCR.
#[tokio::test]
async fn xclip_copies_reach_subscribers() -> Result<()> {
    logs();
    let display = VirtualDisplay::start(320, 240)?;
    let d = display.name();
    let clipboard = Clipboard::start(&d, ClipboardConfig::default())?;
    let mut changes = clipboard.subscribe();

    let owner = XclipOwner::start(&d, None, TEXT.as_bytes())?;
    let got = next(&mut changes).await?;
    assert_eq!(*got, Content::text(TEXT));
    assert_eq!(clipboard.current().as_deref(), Some(&Content::text(TEXT)));
    drop(owner);

    let png = make_png(640, 480, 11);
    let owner = XclipOwner::start(&d, Some("image/png"), &png)?;
    let got = next(&mut changes).await?;
    assert_eq!(got.mime, PNG_MIME);
    assert!(got.data == png, "image differs");
    drop(owner);

    let text = big_text(5 * 1024 * 1024, 5);
    let owner = XclipOwner::start(&d, None, text.as_bytes())?;
    let got = next(&mut changes).await?;
    assert_eq!(got.mime, "text/plain");
    assert_eq!(got.len(), text.len());
    assert!(got.as_text() == Some(text.as_str()), "large text differs");
    drop(owner);

    // Taking the clipboard back from the browser side stops xclip and publishes nothing.
    let _owner = XclipOwner::start(&d, None, b"from xclip")?;
    assert_eq!(next(&mut changes).await?.as_text(), Some("from xclip"));
    clipboard.set(Content::text("from the browser")).await?;
    nothing_published(&mut changes).await?;
    assert_eq!(
        clipboard
            .current()
            .and_then(|c| c.as_text().map(str::to_owned)),
        Some("from the browser".to_owned())
    );
    Ok(())
}

/// (d) Each policy refuses the forbidden direction.
#[tokio::test]
async fn policies_refuse_the_forbidden_direction() -> Result<()> {
    logs();
    let display = VirtualDisplay::start(320, 240)?;
    let d = display.name();

    // in: browser → server only.
    let clipboard = Clipboard::start(&d, config(Policy::In, 1 << 20))?;
    let mut changes = clipboard.subscribe();
    clipboard.set(Content::text("in only")).await?;
    assert_eq!(
        xclip_out(&d, &["-selection", "clipboard", "-o"])?,
        b"in only"
    );
    let owner = XclipOwner::start(&d, None, b"must not leave")?;
    nothing_published(&mut changes).await?;
    assert_eq!(clipboard.current(), None);
    drop(owner);
    drop(clipboard);

    // out: server → browser only.
    let clipboard = Clipboard::start(&d, config(Policy::Out, 1 << 20))?;
    let mut changes = clipboard.subscribe();
    let refused = clipboard.set(Content::text("must not enter")).await;
    assert!(
        matches!(refused, Err(ClipboardError::Forbidden { .. })),
        "{refused:?}"
    );
    let owner = XclipOwner::start(&d, None, b"out only")?;
    assert_eq!(next(&mut changes).await?.as_text(), Some("out only"));
    assert_eq!(
        clipboard.current().as_deref(),
        Some(&Content::text("out only"))
    );
    drop(owner);
    drop(clipboard);

    // off: neither, and no X connection at all (this display does not exist).
    let clipboard = Clipboard::start(":65000", config(Policy::Off, 1 << 20))?;
    let refused = clipboard.set(Content::text("x")).await;
    assert!(
        matches!(refused, Err(ClipboardError::Forbidden { .. })),
        "{refused:?}"
    );
    assert_eq!(clipboard.current(), None);
    Ok(())
}

/// (e) Values over the limit are refused (browser → server) or dropped with a log line (server
/// → browser, small and INCR-sized), and the clipboard keeps working.
#[tokio::test]
async fn limit_exceeded_is_refused_and_logged() -> Result<()> {
    logs();
    let display = VirtualDisplay::start(320, 240)?;
    let d = display.name();
    const LIMIT: usize = 4099;
    let clipboard = Clipboard::start(&d, config(Policy::Both, LIMIT))?;
    let mut changes = clipboard.subscribe();

    let refused = clipboard.set(Content::text("x".repeat(LIMIT + 1))).await;
    assert!(
        matches!(
            refused,
            Err(ClipboardError::TooLarge {
                len: 4100,
                max: LIMIT
            })
        ),
        "{refused:?}"
    );
    assert!(logged(&["write refused", "4100 bytes", "limit 4099"]));

    let owner = XclipOwner::start(&d, None, big_text(6000, 1).as_bytes())?;
    nothing_published(&mut changes).await?;
    assert!(logged(&["too large", "limit=4099"]));
    drop(owner);

    // Large enough that xclip announces it by INCR.
    let owner = XclipOwner::start(&d, None, big_text(3 * 1024 * 1024, 2).as_bytes())?;
    nothing_published(&mut changes).await?;
    drop(owner);

    let owner = XclipOwner::start(&d, None, b"small is fine")?;
    assert_eq!(next(&mut changes).await?.as_text(), Some("small is fine"));
    drop(owner);
    clipboard.set(Content::text("y".repeat(LIMIT))).await?;
    assert_eq!(
        xclip_out(&d, &["-selection", "clipboard", "-o"])?,
        "y".repeat(LIMIT).as_bytes()
    );
    Ok(())
}
