//! Paints known colours straight onto an X server's root window, so tests can check what
//! capture, encode and the browser see.
//!
//! Core protocol only (a GC and `PolyFillRectangle`), independent of the code under test.

use anyhow::{bail, Context, Result};
use xcb::x;

/// An X connection that draws solid rectangles on the root window of the default screen.
pub struct Painter {
    conn: xcb::Connection,
    root: x::Window,
    gc: x::Gcontext,
    masks: [u32; 3],
    width: u32,
    height: u32,
    foreground: Option<u32>,
}

impl Painter {
    /// Connects to `display` (e.g. `":99"`); needs a TrueColor root visual (Xvfb's default).
    pub fn connect(display: &str) -> Result<Self> {
        let (conn, screen_num) = xcb::Connection::connect(Some(display))
            .with_context(|| format!("connect to X display {display}"))?;
        let setup = conn.get_setup();
        let screen = usize::try_from(screen_num)
            .ok()
            .and_then(|n| setup.roots().nth(n))
            .with_context(|| format!("display {display} has no screen {screen_num}"))?;
        let visual = screen
            .allowed_depths()
            .flat_map(|d| d.visuals().iter())
            .find(|v| v.visual_id() == screen.root_visual())
            .context("root visual not listed among the screen's visuals")?;
        if visual.class() != x::VisualClass::TrueColor {
            bail!("root visual is {:?}, not TrueColor", visual.class());
        }
        let masks = [visual.red_mask(), visual.green_mask(), visual.blue_mask()];
        let root = screen.root();
        let (width, height) = (
            u32::from(screen.width_in_pixels()),
            u32::from(screen.height_in_pixels()),
        );
        let gc: x::Gcontext = conn.generate_id();
        conn.send_and_check_request(&x::CreateGc {
            cid: gc,
            drawable: x::Drawable::Window(root),
            // Paint over any client windows too: tests want the colour on screen, whatever runs.
            value_list: &[x::Gc::SubwindowMode(x::SubwindowMode::IncludeInferiors)],
        })
        .context("CreateGc")?;
        Ok(Self {
            conn,
            root,
            gc,
            masks,
            width,
            height,
            foreground: None,
        })
    }

    /// The root window size at connect time.
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// Queues a filled rectangle; call [`Painter::sync`] to know it has been drawn.
    pub fn fill_rect(&mut self, x: u32, y: u32, w: u32, h: u32, rgb: [u8; 3]) -> Result<()> {
        let rect = x::Rectangle {
            x: i16::try_from(x).context("x out of range")?,
            y: i16::try_from(y).context("y out of range")?,
            width: u16::try_from(w).context("width out of range")?,
            height: u16::try_from(h).context("height out of range")?,
        };
        let pixel = self.pixel_value(rgb);
        if self.foreground != Some(pixel) {
            self.conn.send_request(&x::ChangeGc {
                gc: self.gc,
                value_list: &[x::Gc::Foreground(pixel)],
            });
            self.foreground = Some(pixel);
        }
        self.conn.send_request(&x::PolyFillRectangle {
            drawable: x::Drawable::Window(self.root),
            gc: self.gc,
            rectangles: &[rect],
        });
        Ok(())
    }

    /// Fills the whole root window.
    pub fn fill_screen(&mut self, rgb: [u8; 3]) -> Result<()> {
        let (w, h) = (self.width, self.height);
        self.fill_rect(0, 0, w, h, rgb)
    }

    /// Sends queued requests without waiting.
    pub fn flush(&self) -> Result<()> {
        self.conn.flush().context("flush X connection")
    }

    /// Round trip: when this returns, the server has executed everything sent before. Reports
    /// any X error those requests caused.
    pub fn sync(&self) -> Result<()> {
        let cookie = self.conn.send_request(&x::GetInputFocus {});
        self.conn
            .wait_for_reply(cookie)
            .context("GetInputFocus round trip")?;
        while let Some(ev) = self.conn.poll_for_event().transpose() {
            if let Err(e) = ev {
                bail!("X error from an earlier paint request: {e:?}");
            }
        }
        Ok(())
    }

    /// Reads back one pixel of the root window (to check a paint landed).
    pub fn pixel(&self, x: u32, y: u32) -> Result<[u8; 3]> {
        let cookie = self.conn.send_request(&x::GetImage {
            format: x::ImageFormat::ZPixmap,
            drawable: x::Drawable::Window(self.root),
            x: i16::try_from(x).context("x out of range")?,
            y: i16::try_from(y).context("y out of range")?,
            width: 1,
            height: 1,
            plane_mask: u32::MAX,
        });
        let reply = self.conn.wait_for_reply(cookie).context("GetImage")?;
        let data = reply.data();
        let bytes: [u8; 4] = data
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .with_context(|| format!("GetImage returned {} bytes, expected 32 bpp", data.len()))?;
        let value = match self.conn.get_setup().image_byte_order() {
            x::ImageOrder::LsbFirst => u32::from_le_bytes(bytes),
            x::ImageOrder::MsbFirst => u32::from_be_bytes(bytes),
        };
        Ok(self.masks.map(|m| channel_from(value, m)))
    }

    /// The pixel value of `rgb` for the root visual (0xRRGGBB on 24-bit TrueColor).
    fn pixel_value(&self, rgb: [u8; 3]) -> u32 {
        self.masks
            .iter()
            .zip(rgb)
            .fold(0, |acc, (&m, c)| acc | channel_to(c, m))
    }
}

fn channel_to(c: u8, mask: u32) -> u32 {
    if mask == 0 {
        return 0;
    }
    let bits = mask.count_ones().min(8);
    (u32::from(c) >> (8 - bits)) << mask.trailing_zeros()
}

fn channel_from(value: u32, mask: u32) -> u8 {
    if mask == 0 {
        return 0;
    }
    let bits = mask.count_ones().min(8);
    let v = (value & mask) >> mask.trailing_zeros();
    // Only the top 8 bits of wider channels fit; narrower ones are scaled up to 8.
    u8::try_from((v >> (mask.count_ones() - bits)) << (8 - bits)).unwrap_or(u8::MAX)
}
