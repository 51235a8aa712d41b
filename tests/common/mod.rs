//! Helpers shared by the integration tests: free ports, headless Chromium driven over CDP,
//! FFmpeg decoding, and an X11 painter. Each test file does `mod common;` and uses what it needs.
//!
//! Every helper that starts a process owns it and stops it on drop, so a failing test leaves
//! nothing behind. Missing tools fail with a message naming the Debian package.

// Each test file compiles this module on its own and uses only part of it.
#![allow(dead_code, unused_imports)]

pub mod bench;
pub mod bitstream;
pub mod cdp;
pub mod chromium;
pub mod coturn;
pub mod ffmpeg;
pub mod http;
pub mod painter;
pub mod ports;
pub mod procs;
pub mod pulse;
pub mod rtc_client;
pub mod server;
pub mod server_stdout;
pub mod ws;
pub mod x11;
pub mod xclip;
pub mod xev;

pub use cdp::Cdp;
pub use chromium::Chromium;
pub use ffmpeg::{decode_h264_to_rgb, decode_i420, probe_pict_types, Frame};
pub use painter::Painter;
pub use ports::free_port;
pub use server::Server;

/// Whether two colours differ by at most `tolerance` in every channel.
pub fn colour_close(a: [u8; 3], b: [u8; 3], tolerance: u8) -> bool {
    a.iter()
        .zip(b.iter())
        .all(|(x, y)| x.abs_diff(*y) <= tolerance)
}

/// How far lossy coding and colour conversion may move a flat colour: 40 steps still tell the
/// test colours apart.
pub const TOLERANCE: u8 = 40;

/// Waits until the browser's `<video>` shows `want` at `points` (each within [`TOLERANCE`]).
pub fn wait_colours(
    browser: &mut chromium::Chromium,
    points: &[(u32, u32)],
    want: &[[u8; 3]],
    timeout: std::time::Duration,
) -> anyhow::Result<()> {
    let deadline = std::time::Instant::now() + timeout;
    let mut last = Vec::new();
    while std::time::Instant::now() < deadline {
        if let Ok(got) = browser.cdp().video_pixels(points) {
            if got
                .iter()
                .zip(want)
                .all(|(g, w)| colour_close(*g, *w, TOLERANCE))
            {
                return Ok(());
            }
            last = got;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    anyhow::bail!("video shows {last:?} at {points:?}, expected {want:?}")
}
