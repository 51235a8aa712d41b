//! Drawing the pointer into a captured frame, for viewers that cannot show it themselves (pointer
//! lock hides the local cursor). X leaves the cursor out of screen grabs; XFixes hands us its
//! image and position, and this blends it in.

/// The cursor to draw: premultiplied ARGB words, as XFixes `GetCursorImage` returns them.
#[derive(Debug, Clone, Copy)]
pub struct CursorImage<'a> {
    /// Top-left corner on the screen (the pointer position minus the hotspot).
    pub left: i32,
    pub top: i32,
    pub width: u32,
    pub height: u32,
    pub pixels: &'a [u32],
}

/// Blends `cursor` over a BGRx frame of `width`x`height` with `stride` bytes per row; the parts
/// off screen are clipped. Returns how many frame pixels it touched.
pub fn blend(
    frame: &mut [u8],
    width: u32,
    height: u32,
    stride: usize,
    cursor: &CursorImage,
) -> usize {
    let mut touched = 0;
    let cw = cursor.width as usize;
    for row in 0..cursor.height {
        let y = i64::from(cursor.top) + i64::from(row);
        if y < 0 || y >= i64::from(height) {
            continue;
        }
        for col in 0..cursor.width {
            let x = i64::from(cursor.left) + i64::from(col);
            if x < 0 || x >= i64::from(width) {
                continue;
            }
            let Some(&p) = cursor.pixels.get(row as usize * cw + col as usize) else {
                continue;
            };
            let a = p >> 24;
            if a == 0 {
                continue;
            }
            // In bounds: 0 <= x < width, 0 <= y < height, and the frame holds height rows.
            let at = y as usize * stride + x as usize * 4;
            let Some(px) = frame.get_mut(at..at + 3) else {
                continue;
            };
            // Premultiplied source over opaque destination: d = s + d * (255 - a) / 255.
            let inv = 255 - a;
            for (i, shift) in [(0, 0), (1, 8), (2, 16)] {
                let s = (p >> shift) & 0xff;
                let d = u32::from(px[i]);
                px[i] = u8::try_from((s + (d * inv + 127) / 255).min(255)).unwrap_or(255);
            }
            touched += 1;
        }
    }
    touched
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opaque_transparent_and_half_pixels_clipped_at_the_edges() {
        // A 4x2 red frame (BGRx), a 2x2 cursor hanging off the left edge by one column.
        let mut frame = [0u8, 0, 255, 0].repeat(8);
        let cursor = CursorImage {
            left: -1,
            top: 0,
            width: 2,
            height: 2,
            // off-screen white, opaque black | off-screen, half white (premultiplied 0x80)
            pixels: &[0xffff_ffff, 0xff00_0000, 0xffff_ffff, 0x8080_8080],
        };
        assert_eq!(blend(&mut frame, 4, 2, 16, &cursor), 2);
        assert_eq!(&frame[0..4], &[0, 0, 0, 0], "opaque black");
        assert_eq!(&frame[16..20], &[128, 128, 255, 0], "half white over red");
        assert_eq!(&frame[4..8], &[0, 0, 255, 0], "untouched");
    }

    #[test]
    fn fully_off_screen_touches_nothing() {
        let mut frame = vec![7u8; 16];
        let cursor = CursorImage {
            left: 10,
            top: 10,
            width: 1,
            height: 1,
            pixels: &[0xffff_ffff],
        };
        assert_eq!(blend(&mut frame, 2, 2, 8, &cursor), 0);
        assert!(frame.iter().all(|&b| b == 7));
    }
}
