//! The glass bench's frame stamp: a counter painted onto the X display as black and white blocks
//! at known instants, read back by the web client from each frame it shows (`web/stamp.js`
//! decodes the same layout).
//!
//! Layout: one row of [`CELLS`] cells of [`CELL`]×[`CELL`] px at the top-left corner. Cell 0 is
//! white and the last cell black (they show the row is there and aligned); cells 1–24 carry the
//! counter, most significant bit first, white = 1; cells 25–28 a 4-bit check (the counter's
//! nibbles XORed). A 16 px cell is one H.264 macroblock at an aligned position, so even a coarse
//! quantiser leaves each cell one flat colour.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use xcb::x;

/// Side of one cell, px.
pub const CELL: u16 = 16;
/// Cells in the row: white marker, 24 counter bits, 4 check bits, black marker.
pub const CELLS: usize = 30;
/// Counter bits.
const BITS: u32 = 24;
/// Width and height of the stamp on screen, px.
pub const WIDTH: u16 = CELL * CELLS as u16;
pub const HEIGHT: u16 = CELL;

/// The check nibble of `counter`: its six nibbles XORed.
pub fn check(counter: u32) -> u32 {
    (0..6).fold(0, |acc, i| acc ^ (counter >> (4 * i))) & 0xF
}

/// Which cells are white for `counter` (taken modulo 2^24).
pub fn cells(counter: u32) -> [bool; CELLS] {
    let c = counter & ((1 << BITS) - 1);
    let mut out = [false; CELLS];
    out[0] = true;
    for bit in 0..BITS {
        out[1 + bit as usize] = c >> (BITS - 1 - bit) & 1 == 1;
    }
    let k = check(c);
    for bit in 0..4 {
        out[1 + BITS as usize + bit as usize] = k >> (3 - bit) & 1 == 1;
    }
    out
}

/// Reads a stamp back from the cells' colours (the reference for `web/stamp.js`; tests use it).
pub fn decode(white: &[bool; CELLS]) -> Option<u32> {
    if !white[0] || white[CELLS - 1] {
        return None;
    }
    let bits = |from: usize, n: usize| {
        white[from..from + n]
            .iter()
            .fold(0u32, |acc, &w| (acc << 1) | u32::from(w))
    };
    let counter = bits(1, BITS as usize);
    (bits(1 + BITS as usize, 4) == check(counter)).then_some(counter)
}

/// One stamp on screen: its counter and when the X server had it, ms since the Unix epoch
/// (the browser reports in the same clock: both run on this machine).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Painted {
    pub counter: u32,
    pub at_ms: f64,
}

/// Paints a new stamp every `1/hz` s on its own X connection and thread until dropped.
pub struct StampPainter {
    stop: Arc<AtomicBool>,
    painted: Arc<Mutex<Vec<Painted>>>,
    thread: Option<JoinHandle<()>>,
}

impl StampPainter {
    /// Starts stamping `display` at `hz`, counting from 1.
    ///
    /// # Errors
    /// When the display cannot be reached or the thread cannot start.
    pub fn start(display: &str, hz: f64) -> anyhow::Result<Self> {
        anyhow::ensure!(
            hz.is_finite() && (1.0..=240.0).contains(&hz),
            "stamp rate {hz} Hz is outside 1–240"
        );
        let (conn, screen_num) = xcb::Connection::connect(Some(display))?;
        let stop = Arc::new(AtomicBool::new(false));
        let painted = Arc::new(Mutex::new(Vec::new()));
        let (flag, log) = (Arc::clone(&stop), Arc::clone(&painted));
        let interval = Duration::from_secs_f64(1.0 / hz);
        let thread = std::thread::Builder::new()
            .name("stamp".into())
            .spawn(move || {
                if let Err(e) = stamp_loop(&conn, screen_num, interval, &flag, &log) {
                    tracing::warn!(error = %e, "stamping stopped");
                }
            })?;
        Ok(Self {
            stop,
            painted,
            thread: Some(thread),
        })
    }

    /// Stops stamping and returns every stamp painted, in order.
    pub fn finish(mut self) -> Vec<Painted> {
        self.halt();
        self.painted
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default()
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for StampPainter {
    fn drop(&mut self) {
        self.halt();
    }
}

fn stamp_loop(
    conn: &xcb::Connection,
    screen_num: i32,
    interval: Duration,
    stop: &AtomicBool,
    painted: &Mutex<Vec<Painted>>,
) -> anyhow::Result<()> {
    let setup = conn.get_setup();
    let screen = setup
        .roots()
        .nth(usize::try_from(screen_num).unwrap_or(0))
        .ok_or_else(|| anyhow::anyhow!("X screen {screen_num} does not exist"))?;
    let (root, black, white) = (screen.root(), screen.black_pixel(), screen.white_pixel());
    anyhow::ensure!(
        screen.width_in_pixels() >= WIDTH && screen.height_in_pixels() >= HEIGHT,
        "the screen is smaller than the {WIDTH}x{HEIGHT} stamp"
    );
    let gc: x::Gcontext = conn.generate_id();
    conn.send_request(&x::CreateGc {
        cid: gc,
        drawable: x::Drawable::Window(root),
        value_list: &[x::Gc::GraphicsExposures(false)],
    });
    let start = Instant::now();
    let mut counter: u32 = 0;
    let mut rects = Vec::with_capacity(CELLS);
    while !stop.load(Ordering::Relaxed) {
        counter += 1;
        let white_cells = cells(counter);
        for (colour, want) in [(black, false), (white, true)] {
            rects.clear();
            rects.extend(
                white_cells
                    .iter()
                    .enumerate()
                    .filter(|(_, &w)| w == want)
                    .map(|(i, _)| x::Rectangle {
                        x: (i as u16 * CELL) as i16,
                        y: 0,
                        width: CELL,
                        height: CELL,
                    }),
            );
            conn.send_request(&x::ChangeGc {
                gc,
                value_list: &[x::Gc::Foreground(colour)],
            });
            conn.send_request(&x::PolyFillRectangle {
                drawable: x::Drawable::Window(root),
                gc,
                rectangles: &rects,
            });
        }
        // A round trip: once it returns the X server has drawn the stamp, so `at` is no earlier
        // than the paint (late by the reply's trip, tens of µs on loopback).
        conn.wait_for_reply(conn.send_request(&x::GetInputFocus {}))?;
        let at_ms = epoch_ms();
        if let Ok(mut p) = painted.lock() {
            p.push(Painted { counter, at_ms });
        }
        let next = start + interval * counter;
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        }
    }
    Ok(())
}

/// Now, in ms since the Unix epoch: the clock the browser's `performance.timeOrigin` is on.
pub fn epoch_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_counters() {
        for c in [0, 1, 2, 47, 0xABCDEF, 0xFF_FFFF] {
            assert_eq!(decode(&cells(c)), Some(c), "{c:#x}");
        }
        assert_eq!(decode(&cells(1 << 24)), Some(0), "wraps at 24 bits");
    }

    #[test]
    fn rejects_what_is_not_a_stamp() {
        assert_eq!(decode(&[false; CELLS]), None);
        assert_eq!(decode(&[true; CELLS]), None);
        let mut flipped = cells(0x123456);
        flipped[10] = !flipped[10];
        assert_eq!(decode(&flipped), None, "a flipped bit fails the check");
    }

    #[test]
    fn layout_matches_the_web_decoder() {
        // web/stamp.js reads 30 cells of 16 px; a change here must change it too.
        assert_eq!((WIDTH, HEIGHT, CELLS), (480, 16, 30));
        let c = cells(0x800001);
        assert!(c[0] && c[1] && c[24] && !c[29]);
        assert!(c[2..24].iter().all(|w| !w));
    }
}
