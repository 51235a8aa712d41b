//! Colour bars, still or with one block moving across them (the cheap "desktop" scene).

use super::canvas::Canvas;
use super::Scene;

const BARS: [u32; 8] = [
    0xC0C0C0, 0xC0C000, 0x00C0C0, 0x00C000, 0xC000C0, 0xC00000, 0x0000C0, 0x202020,
];

fn bar_width(canvas: &Canvas<'_>) -> u16 {
    (canvas.width / BARS.len() as u16).max(1)
}

/// Colour bars over the whole canvas, so the first frame already shows something recognisable.
pub(super) fn paint(canvas: &Canvas<'_>) {
    let bw = bar_width(canvas);
    for (i, c) in BARS.iter().enumerate() {
        canvas.fill(*c, canvas.rect(i as u16 * bw, 0, bw, canvas.height));
    }
}

/// A block bouncing across the bars, 8 px a frame, changing colour as it goes.
pub(super) struct MovingBlock {
    last_x: u16,
}

impl MovingBlock {
    pub fn new(canvas: &Canvas<'_>) -> Self {
        paint(canvas);
        Self { last_x: 0 }
    }
}

impl Scene for MovingBlock {
    fn frame(&mut self, canvas: &Canvas<'_>, frame: u32) -> xcb::Result<()> {
        let block = (canvas.height / 6).max(8);
        let y = canvas.height / 2;
        // Erase the old block with the bar colour beneath it, then draw it moved.
        let under = BARS
            .get(usize::from(self.last_x / bar_width(canvas)))
            .copied()
            .unwrap_or(0);
        canvas.fill(under, canvas.rect(self.last_x, y, block, block));
        let span = u32::from(canvas.width.saturating_sub(block).max(1));
        let pos = (frame.wrapping_mul(8)) % (2 * span);
        let x = if pos < span { pos } else { 2 * span - pos };
        self.last_x = x as u16;
        let colour = 0xFF0000u32.rotate_right(frame % 24);
        canvas.fill(colour, canvas.rect(self.last_x, y, block, block));
        Ok(())
    }
}
