//! A page of text scrolling smoothly upwards, as a browser does under a mouse wheel.
//!
//! Each frame the screen moves up `STEP` rows (CopyArea, cheap for the painter) and the strip
//! that comes in at the bottom is drawn from the document: the whole screen changes every frame
//! by a shift an encoder's motion search can find.

use super::canvas::Canvas;
use super::text::{Font, Line, Prose, PAPER};
use super::Scene;
use std::collections::VecDeque;
use xcb::x;
use xcb::Xid;

const MARGIN: u16 = 24;
/// Rows a frame: 240 rows a second at 60 fps.
const STEP: u16 = 4;

pub(super) struct Scrolling {
    font: Font,
    prose: Prose,
    columns: usize,
    /// Lines that can still be on screen, with the document row of their top.
    lines: VecDeque<(u64, Line)>,
    /// Document row of the next line to be written.
    next_top: u64,
    /// Document row at the top of the canvas.
    offset: u64,
}

impl Scrolling {
    pub fn new(canvas: &Canvas<'_>) -> xcb::Result<Self> {
        canvas.fill(PAPER, canvas.rect(0, 0, canvas.width, canvas.height));
        let font = Font::open(canvas)?;
        let columns = usize::from(canvas.width.saturating_sub(2 * MARGIN) / font.advance).max(1);
        let mut page = Self {
            font,
            prose: Prose::new(),
            columns,
            lines: VecDeque::new(),
            next_top: u64::from(MARGIN),
            offset: 0,
        };
        page.draw_rows(canvas, 0, canvas.height);
        Ok(page)
    }

    /// Draws the document lines that fall in canvas rows `from..to`, clipped to them.
    fn draw_rows(&mut self, canvas: &Canvas<'_>, from: u16, to: u16) {
        let bottom = self.offset + u64::from(to);
        while self.next_top < bottom {
            let line = self.prose.line(self.columns);
            self.lines.push_back((self.next_top, line));
            self.next_top += u64::from(self.font.line_height);
        }
        let lh = u64::from(self.font.line_height);
        while self
            .lines
            .front()
            .is_some_and(|(top, _)| top + lh <= self.offset)
        {
            self.lines.pop_front();
        }
        let strip = canvas.rect(0, from, canvas.width, to - from);
        canvas.conn.send_request(&x::SetClipRectangles {
            ordering: x::ClipOrdering::Unsorted,
            gc: canvas.gc,
            clip_x_origin: 0,
            clip_y_origin: 0,
            rectangles: &[strip],
        });
        let top = self.offset + u64::from(from);
        for (line_top, line) in &self.lines {
            if line_top + lh <= top || *line_top >= bottom {
                continue;
            }
            // On screen, so within i16 (line_top >= offset - lh).
            let y = i64::from(canvas.top) + (*line_top as i64 - self.offset as i64);
            let baseline = (y + i64::from(self.font.ascent)) as i16;
            self.font
                .draw(canvas, line.colour, MARGIN, baseline, &line.text);
        }
        canvas.conn.send_request(&x::ChangeGc {
            gc: canvas.gc,
            value_list: &[x::Gc::ClipMask(x::Pixmap::none())],
        });
    }
}

impl Scene for Scrolling {
    fn frame(&mut self, canvas: &Canvas<'_>, _frame: u32) -> xcb::Result<()> {
        let step = STEP.min(canvas.height);
        let kept = canvas.height - step;
        canvas.conn.send_request(&x::CopyArea {
            src_drawable: canvas.drawable(),
            dst_drawable: canvas.drawable(),
            gc: canvas.gc,
            src_x: 0,
            src_y: (canvas.top + step) as i16,
            dst_x: 0,
            dst_y: canvas.top as i16,
            width: canvas.width,
            height: kept,
        });
        self.offset += u64::from(step);
        canvas.fill(PAPER, canvas.rect(0, kept, canvas.width, step));
        self.draw_rows(canvas, kept, canvas.height);
        Ok(())
    }
}
