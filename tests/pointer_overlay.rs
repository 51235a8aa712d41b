//! `p,1`: the pointer drawn into the captured frame. X leaves the cursor out of MIT-SHM grabs;
//! after `draw_pointer` exactly the cursor's visible pixels, at the pointer position minus the
//! hotspot, differ from the painted background.

mod common;

use anyhow::{ensure, Result};
use common::x11::XClient;
use common::Painter;
use selkies_rs::capture::display::VirtualDisplay;
use selkies_rs::capture::XshmCapture;
use std::collections::HashSet;

#[test]
fn draw_pointer_paints_exactly_the_cursor_at_the_pointer() -> Result<()> {
    let display = VirtualDisplay::start(320, 240)?;
    let name = display.name();
    let mut painter = Painter::connect(&name)?;
    painter.fill_screen([200, 20, 20])?;
    painter.sync()?;

    let x = XClient::connect(&name, &[xcb::Extension::XFixes])?;
    x.warp_pointer(100, 80)?;
    let img = x.cursor_image()?;
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
