//! An editor being typed into: one character a frame at a cursor on a white page.
//!
//! Every frame changes one glyph cell and the cursor; when the page is full the text moves up a
//! line, as a terminal or an editor does, which changes the whole text area once per line.

use super::canvas::Canvas;
use super::text::{Font, Line, Prose, INK, PAPER};
use super::Scene;
use xcb::x;

const MARGIN: u16 = 24;

pub(super) struct Typing {
    font: Font,
    prose: Prose,
    line: Line,
    /// Characters of `line` typed so far.
    typed: usize,
    row: u16,
    rows: u16,
    columns: usize,
}

impl Typing {
    pub fn new(canvas: &Canvas<'_>) -> xcb::Result<Self> {
        canvas.fill(PAPER, canvas.rect(0, 0, canvas.width, canvas.height));
        let font = Font::open(canvas)?;
        let rows = (canvas.height.saturating_sub(2 * MARGIN) / font.line_height).max(1);
        let columns = usize::from(canvas.width.saturating_sub(2 * MARGIN) / font.advance).max(1);
        let mut page = Self {
            font,
            prose: Prose::new(),
            line: Line {
                text: Vec::new(),
                colour: INK,
            },
            typed: 0,
            row: 0,
            rows,
            columns,
        };
        // An open document: the top half of the page is already written.
        for row in 0..rows / 2 {
            let line = page.prose.line(columns);
            let baseline = (page.row_top(canvas, row) + page.font.ascent) as i16;
            page.font
                .draw(canvas, line.colour, MARGIN, baseline, &line.text);
        }
        page.row = rows / 2;
        page.line = page.prose.line(columns);
        Ok(page)
    }

    /// Screen row of the top of text row `row`.
    fn row_top(&self, canvas: &Canvas<'_>, row: u16) -> u16 {
        canvas.top + MARGIN + row * self.font.line_height
    }

    fn cursor(&self, canvas: &Canvas<'_>, colour: u32) {
        let x = MARGIN + self.typed as u16 * self.font.advance;
        canvas.fill(
            colour,
            x::Rectangle {
                x: x as i16,
                y: self.row_top(canvas, self.row) as i16,
                width: 2,
                // The glyph cell's height, so typing the next character covers it exactly.
                height: self.font.cell,
            },
        );
    }

    /// Moves to the next line, moving the text up a line when the page is full.
    fn new_line(&mut self, canvas: &Canvas<'_>) {
        self.cursor(canvas, PAPER);
        self.line = self.prose.line(self.columns);
        self.typed = 0;
        if self.row + 1 < self.rows {
            self.row += 1;
            return;
        }
        let lh = self.font.line_height;
        let text_top = self.row_top(canvas, 0);
        canvas.conn.send_request(&x::CopyArea {
            src_drawable: canvas.drawable(),
            dst_drawable: canvas.drawable(),
            gc: canvas.gc,
            src_x: 0,
            src_y: (text_top + lh) as i16,
            dst_x: 0,
            dst_y: text_top as i16,
            width: canvas.width,
            height: (self.rows - 1) * lh,
        });
        canvas.fill(
            PAPER,
            x::Rectangle {
                x: 0,
                y: self.row_top(canvas, self.row) as i16,
                width: canvas.width,
                height: lh,
            },
        );
    }
}

impl Scene for Typing {
    fn frame(&mut self, canvas: &Canvas<'_>, _frame: u32) -> xcb::Result<()> {
        match self.line.text.get(self.typed).copied() {
            None => self.new_line(canvas),
            Some(ch) => {
                let x = MARGIN + self.typed as u16 * self.font.advance;
                let baseline = (self.row_top(canvas, self.row) + self.font.ascent) as i16;
                self.font.draw(canvas, self.line.colour, x, baseline, &[ch]);
                self.typed += 1;
            }
        }
        self.cursor(canvas, INK);
        Ok(())
    }
}
