//! Moving content painted onto an X display, so a fresh virtual display streams something
//! visibly live and benchmarks have controlled content.
//!
//! It runs on its own thread with its own X connection, as an ordinary X client would, and must
//! stay cheap in `Desktop` mode: it shares the machine with the encoder it is there to exercise.

mod bars;
mod canvas;
mod scrolling;
mod text;
mod typing;
mod zoneplate;

use canvas::Canvas;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What to paint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// Nothing moves: the screen is painted once (static-screen figures).
    Static,
    /// A desktop-like scene: a few coloured bars and a moving block (cheap to paint).
    Desktop,
    /// Full-screen motion: a zone plate whose phase moves every frame (the encoder's worst case).
    Motion,
    /// An editor being typed into: one character a frame on a white page, a line scrolled away
    /// when the page is full (small changes every frame).
    Typing,
    /// A page of text scrolling smoothly, a few rows a frame (the whole screen changes, by a
    /// vertical shift the encoder can find).
    Scrolling,
}

impl Content {
    /// Every content, by the name `FromStr` takes.
    pub const NAMES: [(&'static str, Content); 5] = [
        ("static", Content::Static),
        ("desktop", Content::Desktop),
        ("motion", Content::Motion),
        ("typing", Content::Typing),
        ("scrolling", Content::Scrolling),
    ];

    /// The name `FromStr` takes.
    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, c)| *c == self)
            .map_or("?", |(n, _)| n)
    }

    /// Whether every frame differs from the one before (so a bench can wait until it does).
    pub fn moves(self) -> bool {
        self != Content::Static
    }
}

impl std::str::FromStr for Content {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == s)
            .map(|(_, c)| *c)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::NAMES.iter().map(|(n, _)| *n).collect();
                format!("unknown content {s:?} ({})", names.join(", "))
            })
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

/// One kind of content: paints its first picture when made, then one change per frame.
trait Scene {
    fn frame(&mut self, canvas: &Canvas<'_>, frame: u32) -> xcb::Result<()>;
}

fn paint_loop(
    conn: &xcb::Connection,
    screen_num: i32,
    area: Area,
    stop: &AtomicBool,
) -> xcb::Result<()> {
    let Area { content, fps, top } = area;
    let Some(canvas) = Canvas::new(conn, screen_num, top) else {
        return Ok(());
    };
    let mut scene: Box<dyn Scene> = match content {
        Content::Static => {
            bars::paint(&canvas);
            conn.flush()?;
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(50));
            }
            return Ok(());
        }
        Content::Desktop => Box::new(bars::MovingBlock::new(&canvas)),
        Content::Motion => Box::new(zoneplate::ZonePlate::new(&canvas)),
        Content::Typing => Box::new(typing::Typing::new(&canvas)?),
        Content::Scrolling => Box::new(scrolling::Scrolling::new(&canvas)?),
    };
    conn.flush()?;
    let interval = Duration::from_secs_f64(1.0 / f64::from(fps));
    let start = Instant::now();
    let mut frame: u32 = 0;
    while !stop.load(Ordering::Relaxed) {
        scene.frame(&canvas, frame)?;
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
