//! `p,1`: the pointer drawn into the captured frame. X leaves the cursor out of MIT-SHM grabs;
//! after `draw_pointer` exactly the cursor's visible pixels, at the pointer position minus the
//! hotspot, differ from the painted background.

mod common;

use anyhow::{ensure, Context, Result};
use common::Painter;
use selkies_rs::capture::display::VirtualDisplay;
use selkies_rs::capture::XshmCapture;
use std::collections::HashSet;
use xcb::{x, xfixes, Xid};

#[test]
fn draw_pointer_paints_exactly_the_cursor_at_the_pointer() -> Result<()> {
    let display = VirtualDisplay::start(320, 240)?;
    let name = display.name();
    let mut painter = Painter::connect(&name)?;
    painter.fill_screen([200, 20, 20])?;
    painter.sync()?;

    let (conn, screen) =
        xcb::Connection::connect_with_extensions(Some(&name), &[xcb::Extension::XFixes], &[])?;
    let root = conn
        .get_setup()
        .roots()
        .nth(usize::try_from(screen)?)
        .context("no screen")?
        .root();
    conn.send_and_check_request(&x::WarpPointer {
        src_window: x::Window::none(),
        dst_window: root,
        src_x: 0,
        src_y: 0,
        src_width: 0,
        src_height: 0,
        dst_x: 100,
        dst_y: 80,
    })?;
    conn.wait_for_reply(conn.send_request(&xfixes::QueryVersion {
        client_major_version: 4,
        client_minor_version: 0,
    }))?;
    let img = conn.wait_for_reply(conn.send_request(&xfixes::GetCursorImage {}))?;
    ensure!(
        (img.x(), img.y()) == (100, 80),
        "pointer at {:?}",
        (img.x(), img.y())
    );
    let mut expected = HashSet::new();
    for row in 0..i32::from(img.height()) {
        for col in 0..i32::from(img.width()) {
            let p = img.cursor_image()[(row * i32::from(img.width()) + col) as usize];
            let (x, y) = (
                100 - i32::from(img.xhot()) + col,
                80 - i32::from(img.yhot()) + row,
            );
            if p >> 24 != 0 && (0..320).contains(&x) && (0..240).contains(&y) {
                expected.insert((x, y));
            }
        }
    }
    ensure!(!expected.is_empty(), "the X cursor has no visible pixel");

    let mut capture = XshmCapture::open(Some(&name))?;
    let before = capture.grab()?.data.to_vec();
    let background = before[..4].to_vec();
    ensure!(
        before.chunks(4).all(|p| p == background.as_slice()),
        "the grab already shows something besides the background"
    );
    capture.draw_pointer()?;
    let after = capture.frame();
    let mut changed = HashSet::new();
    for (i, (a, b)) in after.data.chunks(4).zip(before.chunks(4)).enumerate() {
        if a[..3] != b[..3] {
            changed.insert(((i % 320) as i32, (i / 320) as i32));
        }
    }
    ensure!(
        changed == expected,
        "changed {} pixels, cursor has {} visible; extra {:?}, missing {:?}",
        changed.len(),
        expected.len(),
        changed.difference(&expected).take(5).collect::<Vec<_>>(),
        expected.difference(&changed).take(5).collect::<Vec<_>>()
    );
    Ok(())
}
