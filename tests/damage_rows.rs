//! Only what changed is grabbed: XDamage tells the area that changed, a grab of it copies just
//! its rows into the segment and leaves the others as the last grab left them, and a pointer
//! drawn into the frame is erased by the next grab wherever it was.

mod common;

use anyhow::{ensure, Context, Result};
use common::x11::XClient;
use common::Painter;
use selkies_rs::area::Area;
use selkies_rs::capture::display::VirtualDisplay;
use selkies_rs::capture::XshmCapture;
use std::time::Duration;

const W: u32 = 320;
const H: u32 = 240;
const BLUE: [u8; 3] = [10, 80, 160];

fn bgr(frame_data: &[u8], x: u32, y: u32) -> [u8; 3] {
    let i = ((y * W + x) * 4) as usize;
    [frame_data[i + 2], frame_data[i + 1], frame_data[i]]
}

/// A blue screen, a capture on it with damage tracked, and the damage of the fill taken.
fn blue_screen() -> Result<(VirtualDisplay, Painter, XshmCapture)> {
    let display = VirtualDisplay::start(W, H)?;
    let mut painter = Painter::connect(&display.name())?;
    let mut capture = XshmCapture::open(Some(&display.name()))?;
    ensure!(capture.track_damage()?, "Xvfb has DAMAGE");
    painter.fill_screen(BLUE)?;
    painter.sync()?;
    capture.wait_damage(Duration::from_secs(2))?;
    capture.take_damage()?;
    capture.grab()?;
    capture.take_dirty();
    Ok((display, painter, capture))
}

/// The damaged area once a change has been reported.
fn damaged(capture: &mut XshmCapture) -> Result<Area> {
    ensure!(
        capture.wait_damage(Duration::from_secs(2))?,
        "no damage reported"
    );
    capture.take_damage()?.context("damage without an area")
}

#[test]
fn damage_names_the_area_that_changed() -> Result<()> {
    let (_display, mut painter, mut capture) = blue_screen()?;
    painter.fill_rect(30, 100, 50, 40, [250, 0, 0])?;
    painter.sync()?;
    let area = damaged(&mut capture)?;
    ensure!(
        area == Area {
            x: 30..80,
            y: 100..140
        },
        "{area:?}"
    );
    // Taken: nothing is left until the next change.
    ensure!(capture.take_damage()?.is_none());
    painter.fill_rect(200, 7, 10, 3, [0, 250, 0])?;
    painter.fill_rect(10, 60, 10, 5, [0, 250, 0])?;
    painter.sync()?;
    // Two changes: the box around both.
    let area = damaged(&mut capture)?;
    ensure!(
        area == Area {
            x: 10..210,
            y: 7..65
        },
        "{area:?}"
    );
    Ok(())
}

#[test]
fn a_band_grab_copies_only_its_rows() -> Result<()> {
    let (_display, mut painter, mut capture) = blue_screen()?;
    painter.fill_rect(0, 10, W, 20, [250, 0, 0])?;
    painter.fill_rect(0, 200, W, 20, [0, 250, 0])?;
    painter.sync()?;
    let frame = capture.grab_area(Area { x: 0..5, y: 10..30 })?;
    ensure!(bgr(frame.data, 5, 15) == [250, 0, 0], "band grabbed");
    ensure!(
        bgr(frame.data, 5, 210) == BLUE,
        "rows outside the band keep the last grab"
    );
    ensure!(capture.take_dirty() == Area { x: 0..5, y: 10..30 });
    let frame = capture.grab_area(Area {
        x: 0..W,
        y: 200..220,
    })?;
    ensure!(bgr(frame.data, 5, 210) == [0, 250, 0]);
    ensure!(bgr(frame.data, 5, 15) == [250, 0, 0]);
    Ok(())
}

#[test]
fn the_next_grab_erases_the_pointer_where_it_was_drawn() -> Result<()> {
    let (display, _painter, mut capture) = blue_screen()?;
    let x = XClient::connect(&display.name(), &[xcb::Extension::XFixes])?;
    x.warp_pointer(160, 120)?;
    capture.draw_pointer()?;
    let pointer = capture.take_dirty();
    ensure!(
        pointer.x.contains(&160) && pointer.y.contains(&120) && pointer.y.len() < 64,
        "the pointer's area is dirty: {pointer:?}"
    );
    let rows = pointer.y.clone();
    let drawn =
        |data: &[u8]| (0..W).any(|col| (rows.start..rows.end).any(|r| bgr(data, col, r) != BLUE));
    ensure!(drawn(capture.frame().data), "the cursor is in the frame");
    // The pointer moves away; a grab of unrelated rows takes the old pointer's rows again.
    x.warp_pointer(40, 30)?;
    let frame = capture.grab_area(Area { x: 0..2, y: 0..2 })?;
    ensure!(!drawn(frame.data), "the old cursor is gone");
    let dirty = capture.take_dirty();
    ensure!(
        dirty == Area { x: 0..2, y: 0..2 }.union(&pointer),
        "the grab and the old pointer's area are dirty: {dirty:?}"
    );
    Ok(())
}
