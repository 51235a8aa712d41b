//! Content shared by the micro-benchmarks.

/// A BGRx zone plate at `phase` (0..8): detail everywhere, different in every phase, like the
/// motion content `selkies-rs bench` paints.
pub fn zone_plate(w: u32, h: u32, phase: u32) -> Vec<u8> {
    let (w, h) = (w as usize, h as usize);
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let k = std::f32::consts::PI / (w.max(h) as f32 * 1.5);
    let shift = phase as f32 * std::f32::consts::TAU / 8.0;
    let mut buf = vec![0u8; w * h * 4];
    for (i, px) in buf.chunks_exact_mut(4).enumerate() {
        let (x, y) = ((i % w) as f32 - cx, (i / w) as f32 - cy);
        let g = (((x * x + y * y) * k + shift).sin() * 0.5 + 0.5) * 255.0;
        let g = g as u8;
        px.copy_from_slice(&[g, 255 - g, g / 2 + 64, 0xFF]);
    }
    buf
}
