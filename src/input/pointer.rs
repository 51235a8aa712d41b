//! From `m` / `m2` reports (a position and the full button mask each time) to X pointer events:
//! motion first, then the buttons whose bit changed, then wheel clicks.
//!
//! Pure, so the mask semantics are tested without an X server.

use super::protocol::{ButtonMask, PointerEvent};

/// One X pointer event to inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointerAction {
    /// Absolute position on the root window.
    MoveTo(i32, i32),
    /// Relative motion.
    MoveBy(i32, i32),
    /// X button press (`true`) or release.
    Button(u8, bool),
}

/// Mask bits that are held buttons, and their X button numbers.
const HELD: [(u8, u8); 3] = [
    (ButtonMask::LEFT, 1),
    (ButtonMask::MIDDLE, 2),
    (ButtonMask::RIGHT, 3),
];

/// X buttons 8 and 9 are a mouse's Back and Forward; Selkies 2.x sends them as a wheel bit with
/// a zero magnitude.
const BACK: u8 = 8;
const FORWARD: u8 = 9;

/// The buttons one client holds.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PointerState {
    held: u8,
}

impl PointerState {
    /// The events for one report. `relative` for `m2`.
    pub fn apply(&mut self, event: &PointerEvent, relative: bool, out: &mut Vec<PointerAction>) {
        if relative {
            if event.x != 0 || event.y != 0 {
                out.push(PointerAction::MoveBy(event.x, event.y));
            }
        } else {
            out.push(PointerAction::MoveTo(event.x, event.y));
        }
        let mask = event.buttons.0;
        for (bit, button) in HELD {
            let (was, is) = (self.held & bit != 0, mask & bit != 0);
            if was != is {
                out.push(PointerAction::Button(button, is));
            }
        }
        self.held = mask & HELD.iter().fold(0, |m, (bit, _)| m | bit);

        let clicks = event.scroll;
        let wheel = [
            (ButtonMask::WHEEL_UP, 4, BACK),
            (ButtonMask::WHEEL_DOWN, 5, FORWARD),
            (ButtonMask::SCROLL_LEFT, 6, 6),
            (ButtonMask::SCROLL_RIGHT, 7, 7),
        ];
        for (bit, button, zero_button) in wheel {
            if mask & bit == 0 {
                continue;
            }
            let (button, times) = if clicks == 0 {
                (zero_button, 1)
            } else {
                (button, clicks)
            };
            for _ in 0..times {
                out.push(PointerAction::Button(button, true));
                out.push(PointerAction::Button(button, false));
            }
        }
    }

    /// Releases for every held button (client gone, or `kr`-style reset).
    pub fn release_all(&mut self, out: &mut Vec<PointerAction>) {
        for (bit, button) in HELD {
            if self.held & bit != 0 {
                out.push(PointerAction::Button(button, false));
            }
        }
        self.held = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::PointerAction::{Button, MoveBy, MoveTo};
    use super::*;

    fn ev(x: i32, y: i32, mask: u8, scroll: u8) -> PointerEvent {
        PointerEvent {
            x,
            y,
            buttons: ButtonMask(mask),
            scroll,
        }
    }

    fn run(state: &mut PointerState, e: PointerEvent, relative: bool) -> Vec<PointerAction> {
        let mut out = Vec::new();
        state.apply(&e, relative, &mut out);
        out
    }

    #[test]
    fn press_drag_release() {
        let mut s = PointerState::default();
        assert_eq!(
            run(&mut s, ev(10, 20, 1, 0), false),
            [MoveTo(10, 20), Button(1, true)]
        );
        assert_eq!(run(&mut s, ev(30, 40, 1, 0), false), [MoveTo(30, 40)]);
        assert_eq!(
            run(&mut s, ev(30, 40, 4, 0), false),
            [MoveTo(30, 40), Button(1, false), Button(3, true)]
        );
        let mut out = Vec::new();
        s.release_all(&mut out);
        assert_eq!(out, [Button(3, false)]);
        s.release_all(&mut out);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn wheel_bits_click_magnitude_times_and_are_not_held() {
        let mut s = PointerState::default();
        let out = run(&mut s, ev(0, 0, ButtonMask::WHEEL_DOWN, 2), false);
        assert_eq!(
            out[1..],
            [
                Button(5, true),
                Button(5, false),
                Button(5, true),
                Button(5, false)
            ]
        );
        assert_eq!(run(&mut s, ev(0, 0, 0, 0), false), [MoveTo(0, 0)]);
        let out = run(&mut s, ev(0, 0, ButtonMask::SCROLL_RIGHT, 1), false);
        assert_eq!(out[1..], [Button(7, true), Button(7, false)]);
    }

    #[test]
    fn zero_magnitude_wheel_is_back_and_forward() {
        let mut s = PointerState::default();
        let out = run(&mut s, ev(0, 0, ButtonMask::WHEEL_UP, 0), false);
        assert_eq!(out[1..], [Button(8, true), Button(8, false)]);
        let out = run(&mut s, ev(0, 0, ButtonMask::WHEEL_DOWN, 0), false);
        assert_eq!(out[1..], [Button(9, true), Button(9, false)]);
    }

    #[test]
    fn relative_motion_skips_empty_moves() {
        let mut s = PointerState::default();
        assert_eq!(run(&mut s, ev(-5, 7, 0, 0), true), [MoveBy(-5, 7)]);
        assert_eq!(run(&mut s, ev(0, 0, 2, 0), true), [Button(2, true)]);
    }
}
