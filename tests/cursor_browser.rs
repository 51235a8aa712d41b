//! Cursor end to end: an X client shows the `xterm` I-beam over its window; the browser gets a
//! `cursor` message whose PNG decodes to that cursor's size, with its hotspot, and shows it as the
//! CSS cursor of the video.

mod common;

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use common::x11::XClient;
use common::{Chromium, Server};
use selkies_rs::capture::display::VirtualDisplay;
use xcb::x;

/// `XC_xterm` in the X cursor font; the mask glyph follows it.
const XC_XTERM: u16 = 152;

/// A window covering the screen with the xterm cursor, and the pointer moved into it.
fn show_xterm_cursor(x11: &XClient, w: u16, h: u16) -> Result<()> {
    let (conn, root) = (&x11.conn, x11.root);
    let font: x::Font = conn.generate_id();
    conn.send_and_check_request(&x::OpenFont {
        fid: font,
        name: b"cursor",
    })?;
    let cursor: x::Cursor = conn.generate_id();
    conn.send_and_check_request(&x::CreateGlyphCursor {
        cid: cursor,
        source_font: font,
        mask_font: font,
        source_char: XC_XTERM,
        mask_char: XC_XTERM + 1,
        fore_red: 0,
        fore_green: 0,
        fore_blue: 0,
        back_red: 0xffff,
        back_green: 0xffff,
        back_blue: 0xffff,
    })?;
    let window: x::Window = conn.generate_id();
    conn.send_and_check_request(&x::CreateWindow {
        depth: x::COPY_FROM_PARENT as u8,
        wid: window,
        parent: root,
        x: 0,
        y: 0,
        width: w,
        height: h,
        border_width: 0,
        class: x::WindowClass::InputOutput,
        visual: x::COPY_FROM_PARENT,
        value_list: &[x::Cw::Cursor(cursor)],
    })?;
    conn.send_and_check_request(&x::MapWindow { window })?;
    x11.warp_pointer(300, 200)
}

#[test]
fn a_cursor_change_reaches_the_browser_as_a_png_with_its_hotspot() -> Result<()> {
    let display = VirtualDisplay::start(1280, 720)?;
    let server = Server::start(&display.name(), &[])?;
    let mut browser = Chromium::launch(&server.url())?;
    browser
        .cdp()
        .wait_for(
            "window.selkies && window.selkies.framesDecoded > 0 && window.selkies.cursor",
            Duration::from_secs(30),
        )
        .with_context(|| {
            format!(
                "no video or first cursor; server log:\n{}",
                server.log_text()
            )
        })?;
    let first = browser.cdp().eval("window.selkies.cursor.handle")?;

    let x = XClient::connect(&display.name(), &[xcb::Extension::XFixes])?;
    show_xterm_cursor(&x, 1280, 720)?;

    // What the X server itself says the cursor now is.
    let truth = x.cursor_image()?;
    let want = (
        u64::from(truth.width()),
        u64::from(truth.height()),
        u64::from(truth.xhot()),
        u64::from(truth.yhot()),
    );
    ensure!(want.0 > 0 && want.1 > 0, "X reports an empty cursor");

    let got = browser
        .cdp()
        .wait_for(
            &format!(
                "window.selkies.cursor.handle !== {first} && window.selkies.cursor \
                 && window.selkies.cursor.width === {}",
                want.0
            ),
            Duration::from_secs(10),
        )
        .and_then(|_| browser.cdp().eval("window.selkies.cursor"))
        .with_context(|| server.log_text())?;
    let shown = (
        got["width"].as_u64().unwrap_or(0),
        got["height"].as_u64().unwrap_or(0),
        got["hotspot"]["x"].as_u64().unwrap_or(u64::MAX),
        got["hotspot"]["y"].as_u64().unwrap_or(u64::MAX),
    );
    ensure!(shown == want, "browser shape {got} vs X cursor {want:?}");
    let css = got["css"].as_str().unwrap_or_default();
    ensure!(
        css.starts_with("url(\"data:image/png;base64,") || css.starts_with("url(data:image/png"),
        "video CSS cursor is {css:?}"
    );
    Ok(())
}
