//! Our own Xvfb keeps its screen in a file (`-fbdir`), and capture reads that file in place:
//! what it reads must be exactly what an MIT-SHM grab of the screen shows, follow every change,
//! survive a RandR resize, and a file that is not this screen's must be refused (grabs then go
//! through MIT-SHM).

mod common;

use anyhow::{ensure, Context, Result};
use common::Painter;
use selkies_rs::area::Area;
use selkies_rs::capture::display::VirtualDisplay;
use selkies_rs::capture::randr::Resizer;
use selkies_rs::capture::{FramebufferError, XshmCapture};

const W: u32 = 320;
const H: u32 = 240;

/// The screen's colours (BGR bytes of each pixel, row by row) as `capture` reads it.
fn read_colours(capture: &mut XshmCapture, pointer: bool) -> Result<Vec<u8>> {
    let (w, h) = capture.size();
    let whole = Area::whole(w, h);
    let pixels = capture.read_area(whole, pointer, |frame, _| {
        let mut out = Vec::with_capacity((w * h * 3) as usize);
        for row in frame.data.chunks(frame.stride).take(h as usize) {
            for px in row[..w as usize * 4].chunks_exact(4) {
                out.extend_from_slice(&px[..3]);
            }
        }
        out
    })?;
    Ok(pixels)
}

/// The same through a plain MIT-SHM capture of the display.
fn xshm_colours(display: &str) -> Result<Vec<u8>> {
    let mut capture = XshmCapture::open(Some(display))?;
    read_colours(&mut capture, false)
}

/// The display's framebuffer file (test machines have a `/dev/shm` with room for it).
fn framebuffer(display: &VirtualDisplay) -> Result<std::path::PathBuf> {
    display
        .framebuffer()
        .context("Xvfb started without a framebuffer file (is /dev/shm missing or full?)")
}

fn colour_at(colours: &[u8], width: u32, x: u32, y: u32) -> [u8; 3] {
    let i = ((y * width + x) * 3) as usize;
    [colours[i + 2], colours[i + 1], colours[i]]
}

#[test]
fn the_framebuffer_is_read_in_place_and_shows_what_xshm_shows() -> Result<()> {
    let display = VirtualDisplay::start(W, H)?;
    let mut painter = Painter::connect(&display.name())?;
    painter.fill_screen([10, 80, 160])?;
    painter.fill_rect(30, 100, 50, 40, [250, 20, 0])?;
    painter.sync()?;
    let mut capture = XshmCapture::open(Some(&display.name()))?;
    capture
        .use_framebuffer(&framebuffer(&display)?)
        .context("our own Xvfb's framebuffer is taken")?;
    ensure!(capture.reads_framebuffer());
    let read = read_colours(&mut capture, false)?;
    ensure!(
        read == xshm_colours(&display.name())?,
        "framebuffer differs from MIT-SHM"
    );
    ensure!(colour_at(&read, W, 40, 110) == [250, 20, 0]);

    // A change shows at the next read: nothing was copied, the file is the screen.
    painter.fill_rect(200, 10, 20, 20, [0, 240, 30])?;
    painter.sync()?;
    let read = read_colours(&mut capture, false)?;
    ensure!(colour_at(&read, W, 205, 15) == [0, 240, 30]);
    ensure!(read == xshm_colours(&display.name())?);

    // What a read reports as changed: the rows asked for, nothing more.
    let band = Area { x: 0..W, y: 50..60 };
    let dirty = capture.read_area(band.clone(), false, |_, dirty| dirty.clone())?;
    ensure!(dirty == band, "{dirty:?}");

    // With the pointer drawn into the video, reads go through MIT-SHM. The segment was not kept
    // up to date while the file was read, so even a read of a small band must show the whole
    // screen as it is now (a change made meanwhile, far from the band, included).
    painter.fill_rect(100, 200, 20, 20, [200, 0, 200])?;
    painter.sync()?;
    let (at_change, at_first, dirty) = capture.read_area(band, true, |frame, dirty| {
        let colour = |x: u32, y: u32| {
            let i = y as usize * frame.stride + x as usize * 4;
            [frame.data[i + 2], frame.data[i + 1], frame.data[i]]
        };
        (colour(105, 205), colour(40, 110), dirty.clone())
    })?;
    ensure!(at_change == [200, 0, 200], "stale segment: {at_change:?}");
    ensure!(at_first == [250, 20, 0]);
    ensure!(
        dirty.y == (0..H),
        "the whole screen was read again: {dirty:?}"
    );

    // Once more, after the segment was up to date: reads of the file in between leave it behind.
    read_colours(&mut capture, false)?;
    painter.fill_rect(250, 180, 20, 20, [0, 200, 200])?;
    painter.sync()?;
    read_colours(&mut capture, false)?;
    let at_change = capture.read_area(Area { x: 0..W, y: 50..60 }, true, |frame, _| {
        let i = 185 * frame.stride + 255 * 4;
        [frame.data[i + 2], frame.data[i + 1], frame.data[i]]
    })?;
    ensure!(at_change == [0, 200, 200], "stale segment: {at_change:?}");
    Ok(())
}

#[test]
fn after_a_resize_the_screen_is_the_framebuffer_corner() -> Result<()> {
    // Xvfb's RandR only shrinks the screen inside the framebuffer it started with.
    let display = VirtualDisplay::start(640, 480)?;
    Resizer::open(&display.name())?.resize(W, H)?;
    let mut painter = Painter::connect(&display.name())?;
    painter.fill_screen([200, 200, 40])?;
    painter.fill_rect(W - 10, H - 10, 10, 10, [5, 6, 7])?;
    painter.sync()?;
    let mut capture = XshmCapture::open(Some(&display.name()))?;
    ensure!(capture.size() == (W, H), "{:?}", capture.size());
    capture.use_framebuffer(&framebuffer(&display)?)?;
    let read = read_colours(&mut capture, false)?;
    ensure!(read == xshm_colours(&display.name())?);
    ensure!(colour_at(&read, W, W - 1, H - 1) == [5, 6, 7]);
    Ok(())
}

#[test]
fn a_file_that_is_not_this_screen_is_refused() -> Result<()> {
    let display = VirtualDisplay::start(W, H)?;
    let other = VirtualDisplay::start(W, H)?;
    let mut painter = Painter::connect(&display.name())?;
    painter.fill_screen([10, 80, 160])?;
    painter.sync()?;
    let mut capture = XshmCapture::open(Some(&display.name()))?;
    let scratch =
        |what: &str| std::env::temp_dir().join(format!("selkies-fb-{what}-{}", std::process::id()));

    // Another display's screen, though both are idle and alike: its name gives it away.
    let err = capture.use_framebuffer(&framebuffer(&other)?);
    ensure!(
        matches!(err, Err(FramebufferError::OtherDisplay { .. })),
        "{err:?}"
    );
    // This display's file as it was: a copy no longer follows the screen.
    let stale = scratch("stale");
    std::fs::copy(framebuffer(&display)?, &stale)?;
    painter.fill_rect(0, 0, W, 1, [1, 2, 3])?;
    painter.sync()?;
    let err = capture.use_framebuffer(&stale);
    // Its header says a smaller screen: refused before any pixel is compared.
    let mut small = std::fs::read(&stale)?;
    small[20..24].copy_from_slice(&(H - 10).to_be_bytes());
    let short = scratch("short");
    std::fs::write(&short, small)?;
    let err_small = capture.use_framebuffer(&short);
    let junk = scratch("junk");
    std::fs::write(&junk, vec![0x5A; 4096])?;
    let err_junk = capture.use_framebuffer(&junk);
    for f in [&stale, &short, &junk] {
        let _ = std::fs::remove_file(f);
    }
    ensure!(
        matches!(err, Err(FramebufferError::Differs { row: 0, .. })),
        "{err:?}"
    );
    ensure!(
        matches!(err_small, Err(FramebufferError::TooSmall { .. })),
        "{err_small:?}"
    );
    ensure!(
        matches!(err_junk, Err(FramebufferError::Layout { .. })),
        "{err_junk:?}"
    );
    let err = capture.use_framebuffer(&junk);
    ensure!(matches!(err, Err(FramebufferError::Map { .. })), "{err:?}");

    // Refused: reads still go through MIT-SHM and show this display.
    ensure!(!capture.reads_framebuffer());
    let read = read_colours(&mut capture, false)?;
    ensure!(colour_at(&read, W, 5, 5) == [10, 80, 160]);
    ensure!(colour_at(&read, W, 5, 0) == [1, 2, 3]);
    Ok(())
}
