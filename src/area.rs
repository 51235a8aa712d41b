//! A rectangle of the screen as two pixel ranges: what changed between two frames, from XDamage
//! to the grab, the conversion and the encoder's skip hints.

use std::ops::Range;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Area {
    /// Columns, left to right.
    pub x: Range<u32>,
    /// Rows, top to bottom.
    pub y: Range<u32>,
}

impl Area {
    /// Nothing at all.
    pub const EMPTY: Area = Area { x: 0..0, y: 0..0 };

    /// The whole of a `width`×`height` screen.
    pub fn whole(width: u32, height: u32) -> Self {
        Area {
            x: 0..width,
            y: 0..height,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.x.is_empty() || self.y.is_empty()
    }

    /// The smallest area covering both.
    pub fn union(&self, other: &Area) -> Area {
        if self.is_empty() {
            return other.clone();
        }
        if other.is_empty() {
            return self.clone();
        }
        Area {
            x: self.x.start.min(other.x.start)..self.x.end.max(other.x.end),
            y: self.y.start.min(other.y.start)..self.y.end.max(other.y.end),
        }
    }

    /// This area cut to a `width`×`height` screen.
    pub fn clamp(&self, width: u32, height: u32) -> Area {
        Area {
            x: self.x.start.min(width)..self.x.end.min(width),
            y: self.y.start.min(height)..self.y.end.min(height),
        }
    }

    /// Whether the two share at least one pixel.
    pub fn intersects(&self, other: &Area) -> bool {
        !self.is_empty()
            && !other.is_empty()
            && self.x.start < other.x.end
            && other.x.start < self.x.end
            && self.y.start < other.y.end
            && other.y.start < self.y.end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(x: Range<u32>, y: Range<u32>) -> Area {
        Area { x, y }
    }

    #[test]
    fn union_covers_both_and_ignores_empty() {
        assert_eq!(a(0..4, 2..3).union(&a(10..12, 0..1)), a(0..12, 0..3));
        assert_eq!(Area::EMPTY.union(&a(5..6, 7..8)), a(5..6, 7..8));
        assert_eq!(a(5..6, 7..8).union(&a(9..9, 0..100)), a(5..6, 7..8));
    }

    #[test]
    fn intersection_needs_a_shared_pixel() {
        assert!(a(0..16, 0..16).intersects(&a(15..20, 15..20)));
        assert!(
            !a(0..16, 0..16).intersects(&a(16..20, 0..16)),
            "edges touch"
        );
        assert!(!a(0..16, 0..16).intersects(&Area::EMPTY));
        assert_eq!(a(0..5000, 10..20).clamp(100, 15), a(0..100, 10..15));
    }
}
