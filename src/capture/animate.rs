//! Moving content painted onto an X display, so a fresh virtual display streams something
//! visibly live and benchmarks have controlled content.
//!
//! It runs on its own thread with its own X connection, as an ordinary X client would, and must
//! stay cheap in `Desktop` mode: it shares the machine with the encoder it is there to exercise.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use xcb::x;

/// What to paint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// Nothing moves: the screen is painted once (static-screen figures).
    Static,
    /// A desktop-like scene: a few coloured bars and a moving block (cheap to paint).
    Desktop,
    /// Full-screen motion: a zone plate whose phase moves every frame (the encoder's worst case).
    Motion,
}

impl std::str::FromStr for Content {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "static" => Ok(Self::Static),
            "desktop" => Ok(Self::Desktop),
            "motion" => Ok(Self::Motion),
            other => Err(format!(
                "unknown content {other:?} (static, desktop, motion)"
            )),
        }
    }
}

/// A running painter; stops and joins its thread on drop.
pub struct Animator {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Animator {
    /// Starts painting `content` on `display` at `fps` frames per second.
    ///
    /// # Errors
    /// When the display cannot be reached.
    pub fn start(display: &str, content: Content, fps: u32) -> Result<Self, xcb::ConnError> {
        Self::start_below(display, content, fps, 0)
    }

    /// Like [`Animator::start`], leaving the top `top` rows of the screen alone: the glass bench
    /// paints its frame stamp there, and full-screen content drawn over it would erase it.
    ///
    /// # Errors
    /// When the display cannot be reached.
    pub fn start_below(
        display: &str,
        content: Content,
        fps: u32,
        top: u16,
    ) -> Result<Self, xcb::ConnError> {
        let (conn, screen_num) = xcb::Connection::connect(Some(display))?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("animate".into())
            .spawn(move || {
                let area = Area {
                    content,
                    fps: fps.max(1),
                    top,
                };
                if let Err(e) = paint_loop(&conn, screen_num, area, &flag) {
                    tracing::warn!(error = %e, "animation stopped");
                }
            })
            .map_err(|_| xcb::ConnError::ClosedMemInsufficient)?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Animator {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What the painter paints, how often, and below which row.
struct Area {
    content: Content,
    fps: u32,
    top: u16,
}

fn paint_loop(
    conn: &xcb::Connection,
    screen_num: i32,
    area: Area,
    stop: &AtomicBool,
) -> xcb::Result<()> {
    let Area { content, fps, top } = area;
    let setup = conn.get_setup();
    let Some(screen) = setup.roots().nth(usize::try_from(screen_num).unwrap_or(0)) else {
        return Ok(());
    };
    let root = screen.root();
    let depth = screen.root_depth();
    let (w, full_h) = (screen.width_in_pixels(), screen.height_in_pixels());
    let top = top.min(full_h);
    let h = full_h - top;
    let gc: x::Gcontext = conn.generate_id();
    conn.send_request(&x::CreateGc {
        cid: gc,
        drawable: x::Drawable::Window(root),
        value_list: &[x::Gc::GraphicsExposures(false)],
    });
    let fill = |rgb: u32, r: x::Rectangle| {
        conn.send_request(&x::ChangeGc {
            gc,
            value_list: &[x::Gc::Foreground(rgb)],
        });
        conn.send_request(&x::PolyFillRectangle {
            drawable: x::Drawable::Window(root),
            gc,
            rectangles: &[r],
        });
    };
    // Background: colour bars, so the first frame already shows something recognisable.
    let bars = [
        0xC0C0C0, 0xC0C000, 0x00C0C0, 0x00C000, 0xC000C0, 0xC00000, 0x0000C0, 0x202020,
    ];
    let bw = (w / bars.len() as u16).max(1);
    for (i, c) in bars.iter().enumerate() {
        let x = i as i16 * bw as i16;
        fill(
            *c,
            x::Rectangle {
                x,
                y: top as i16,
                width: bw,
                height: h,
            },
        );
    }
    conn.flush()?;
    if content == Content::Static {
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(50));
        }
        return Ok(());
    }
    let interval = Duration::from_secs_f64(1.0 / f64::from(fps));
    let plate = (content == Content::Motion).then(|| ZonePlate::new(w, h));
    let start = Instant::now();
    let mut frame: u32 = 0;
    let block = (h / 6).max(8);
    let mut last_x: i16 = 0;
    while !stop.load(Ordering::Relaxed) {
        match &plate {
            Some(p) => p.paint(conn, (root, gc, depth), top, frame)?,
            None => {
                // Erase the old block with the bar colour beneath it, then draw it moved.
                let bar = (last_x.max(0) as u16 / bw) as usize;
                let under = bars.get(bar).copied().unwrap_or(0);
                fill(
                    under,
                    x::Rectangle {
                        x: last_x,
                        y: (top + h / 2) as i16,
                        width: block,
                        height: block,
                    },
                );
                let span = w.saturating_sub(block).max(1);
                let pos = (frame * 8) % (2 * u32::from(span));
                let xpos = if pos < u32::from(span) {
                    pos
                } else {
                    2 * u32::from(span) - pos
                };
                last_x = xpos as i16;
                let colour = 0xFF0000u32.rotate_right(frame % 24);
                fill(
                    colour,
                    x::Rectangle {
                        x: last_x,
                        y: (top + h / 2) as i16,
                        width: block,
                        height: block,
                    },
                );
            }
        }
        conn.flush()?;
        frame = frame.wrapping_add(1);
        let next = start + interval * frame;
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        }
    }
    Ok(())
}

/// Pre-rendered zone-plate frames (a few phases), uploaded in bands with PutImage: the content
/// changes everywhere every frame, as in a game or a video, without costing a render per frame.
struct ZonePlate {
    width: u16,
    height: u16,
    phases: Vec<Vec<u8>>,
}

impl ZonePlate {
    const PHASES: usize = 8;

    fn new(width: u16, height: u16) -> Self {
        let (w, h) = (usize::from(width), usize::from(height));
        let phases = (0..Self::PHASES)
            .map(|p| {
                let shift = p as f32 * std::f32::consts::TAU / Self::PHASES as f32;
                let mut buf = vec![0u8; w * h * 4];
                let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
                let k = std::f32::consts::PI / (w.max(h) as f32 * 1.5);
                for (i, px) in buf.chunks_exact_mut(4).enumerate() {
                    let (x, y) = ((i % w) as f32 - cx, (i / w) as f32 - cy);
                    let r2 = x * x + y * y;
                    let v = (r2 * k + shift).sin();
                    let g = ((v * 0.5 + 0.5) * 255.0) as u8;
                    px[0] = g;
                    px[1] = 255 - g;
                    px[2] = g / 2 + 64;
                }
                buf
            })
            .collect();
        Self {
            width,
            height,
            phases,
        }
    }

    /// Uploads one phase with its first row at screen row `top`.
    fn paint(
        &self,
        conn: &xcb::Connection,
        (root, gc, depth): (x::Window, x::Gcontext, u8),
        top: u16,
        frame: u32,
    ) -> xcb::Result<()> {
        let img = &self.phases[frame as usize % self.phases.len()];
        let row = usize::from(self.width) * 4;
        // Bands of about 256 KiB stay under the core protocol's request size limit.
        let rows_per_band = (256 * 1024 / row).max(1);
        let mut y = 0usize;
        while y < usize::from(self.height) {
            let rows = rows_per_band.min(usize::from(self.height) - y);
            conn.send_request(&x::PutImage {
                format: x::ImageFormat::ZPixmap,
                drawable: x::Drawable::Window(root),
                gc,
                width: self.width,
                height: rows as u16,
                dst_x: 0,
                dst_y: (usize::from(top) + y) as i16,
                left_pad: 0,
                depth,
                data: &img[y * row..(y + rows) * row],
            });
            y += rows;
        }
        Ok(())
    }
}
