//! Where two pictures of one size differ, as one box.
//!
//! The whole-screen grab made once a second (insurance against damage the X server did not
//! report) usually finds nothing new. Comparing it with the last picture tells the encoder to
//! analyse only what really changed, instead of the whole screen: a full analysis would cost a
//! frame's worth of CPU each second and teach the rate control that a whole screen is nearly
//! free to code.

use crate::area::Area;
use crate::convert::I420;

/// The box holding every pixel where `old` and `new` differ in luma or chroma; the whole
/// picture when their sizes differ, [`Area::EMPTY`] when they are the same.
pub fn changed_area(old: &I420, new: &I420) -> Area {
    if (old.width, old.height) != (new.width, new.height) {
        return Area::whole(new.width, new.height);
    }
    let mut changed = Area::EMPTY;
    let w = new.stride_y();
    for (y, (a, b)) in old.y.chunks_exact(w).zip(new.y.chunks_exact(w)).enumerate() {
        if let Some(x) = differing(a, b) {
            changed = changed.union(&span(x, y..y + 1));
        }
    }
    let cw = new.stride_uv();
    for (old_plane, new_plane) in [(&old.u, &new.u), (&old.v, &new.v)] {
        let rows = old_plane.chunks_exact(cw).zip(new_plane.chunks_exact(cw));
        for (y, (a, b)) in rows.enumerate() {
            if let Some(x) = differing(a, b) {
                // One chroma sample covers 2x2 pixels.
                let pixels = 2 * x.start..2 * x.end;
                changed = changed.union(&span(pixels, 2 * y..2 * y + 2));
            }
        }
    }
    changed
}

/// The first and one past the last index where the rows differ; `None` when they are equal
/// (the common case, a plain memory comparison).
fn differing(a: &[u8], b: &[u8]) -> Option<std::ops::Range<usize>> {
    if a == b {
        return None;
    }
    let first = a.iter().zip(b).position(|(p, q)| p != q)?;
    let last = a.iter().zip(b).rposition(|(p, q)| p != q)?;
    Some(first..last + 1)
}

fn span(x: std::ops::Range<usize>, y: std::ops::Range<usize>) -> Area {
    let to_u32 = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
    Area {
        x: to_u32(x.start)..to_u32(x.end),
        y: to_u32(y.start)..to_u32(y.end),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_pictures_differ_nowhere() {
        let a = I420::new(64, 32);
        assert!(changed_area(&a, &a.clone()).is_empty());
    }

    #[test]
    fn a_luma_change_is_boxed_to_its_pixels() {
        let old = I420::new(64, 32);
        let mut new = old.clone();
        new.y[5 * 64 + 10] = 200;
        new.y[9 * 64 + 3] = 200;
        assert_eq!(changed_area(&old, &new), Area { x: 3..11, y: 5..10 });
    }

    #[test]
    fn a_chroma_only_change_counts_for_its_four_pixels() {
        // Red to a green of equal luma leaves Y alone; the box covers the 2x2 pixels.
        let old = I420::new(64, 32);
        let mut new = old.clone();
        new.v[3 * 32 + 7] = 40;
        assert_eq!(changed_area(&old, &new), Area { x: 14..16, y: 6..8 });
    }

    #[test]
    fn different_sizes_differ_everywhere() {
        let (a, b) = (I420::new(64, 32), I420::new(32, 32));
        assert_eq!(changed_area(&a, &b), Area::whole(32, 32));
    }
}
