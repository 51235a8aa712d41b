//! The part of the root window the painter owns, and the one graphics context it draws with.

use xcb::x;

pub(super) struct Canvas<'c> {
    pub conn: &'c xcb::Connection,
    pub root: x::Window,
    pub gc: x::Gcontext,
    pub depth: u8,
    pub width: u16,
    /// First row the painter may draw on; rows above belong to someone else (the glass stamp).
    pub top: u16,
    /// Rows from `top` to the bottom of the screen.
    pub height: u16,
}

impl<'c> Canvas<'c> {
    /// `None` when the connection has no such screen.
    pub fn new(conn: &'c xcb::Connection, screen_num: i32, top: u16) -> Option<Self> {
        let setup = conn.get_setup();
        let screen = setup
            .roots()
            .nth(usize::try_from(screen_num).unwrap_or(0))?;
        let root = screen.root();
        let (width, full_h) = (screen.width_in_pixels(), screen.height_in_pixels());
        let top = top.min(full_h);
        let gc: x::Gcontext = conn.generate_id();
        // No exposure events: CopyArea within the root would otherwise queue one per scroll.
        conn.send_request(&x::CreateGc {
            cid: gc,
            drawable: x::Drawable::Window(root),
            value_list: &[x::Gc::GraphicsExposures(false)],
        });
        Some(Self {
            conn,
            root,
            gc,
            depth: screen.root_depth(),
            width,
            top,
            height: full_h - top,
        })
    }

    pub fn drawable(&self) -> x::Drawable {
        x::Drawable::Window(self.root)
    }

    /// Fills `r` (screen coordinates) with the colour `rgb`.
    pub fn fill(&self, rgb: u32, r: x::Rectangle) {
        self.foreground(rgb);
        self.conn.send_request(&x::PolyFillRectangle {
            drawable: self.drawable(),
            gc: self.gc,
            rectangles: &[r],
        });
    }

    pub fn foreground(&self, rgb: u32) {
        self.conn.send_request(&x::ChangeGc {
            gc: self.gc,
            value_list: &[x::Gc::Foreground(rgb)],
        });
    }

    /// A rectangle `height` rows high starting `y` rows below `top`, `x`..`x + width` across.
    pub fn rect(&self, x: u16, y: u16, width: u16, height: u16) -> x::Rectangle {
        x::Rectangle {
            x: x as i16,
            y: (self.top + y) as i16,
            width,
            height,
        }
    }
}
