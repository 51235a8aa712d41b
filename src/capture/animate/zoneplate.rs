//! Full-screen motion: a zone plate whose phase changes every frame.

use super::canvas::Canvas;
use super::Scene;
use xcb::x;

/// Pre-rendered zone-plate frames (a few phases), uploaded in bands with PutImage: the content
/// changes everywhere every frame, as in a game or a video, without costing a render per frame.
pub(super) struct ZonePlate {
    width: u16,
    height: u16,
    phases: Vec<Vec<u8>>,
}

impl ZonePlate {
    const PHASES: usize = 8;

    pub fn new(canvas: &Canvas<'_>) -> Self {
        let (width, height) = (canvas.width, canvas.height);
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
}

impl Scene for ZonePlate {
    /// Uploads one phase below the canvas's top.
    fn frame(&mut self, canvas: &Canvas<'_>, frame: u32) -> xcb::Result<()> {
        let img = &self.phases[frame as usize % self.phases.len()];
        let row = usize::from(self.width) * 4;
        // Bands of about 256 KiB stay under the core protocol's request size limit.
        let rows_per_band = (256 * 1024 / row).max(1);
        let mut y = 0usize;
        while y < usize::from(self.height) {
            let rows = rows_per_band.min(usize::from(self.height) - y);
            canvas.conn.send_request(&x::PutImage {
                format: x::ImageFormat::ZPixmap,
                drawable: canvas.drawable(),
                gc: canvas.gc,
                width: self.width,
                height: rows as u16,
                dst_x: 0,
                dst_y: (usize::from(canvas.top) + y) as i16,
                left_pad: 0,
                depth: canvas.depth,
                data: &img[y * row..(y + rows) * row],
            });
            y += rows;
        }
        Ok(())
    }
}
