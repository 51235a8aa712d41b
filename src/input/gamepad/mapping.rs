//! The browser's "standard" gamepad (W3C mapping: 17 buttons, 4 axes) as an Xbox 360 pad, the way
//! Selkies presents it to Linux games: 11 buttons and 8 axes, triggers and d-pad turned into axes.
//!
//! Pure state: values in, [`Change`]s out, no I/O. The hub turns changes into records.
//!
//! | browser | pad |
//! |---|---|
//! | buttons 0–5 (A B X Y LB RB) | buttons 0–5 (`BTN_A` … `BTN_TR`) |
//! | button 6 / 7 (LT / RT, 0..1) | axis 2 `ABS_Z` / axis 5 `ABS_RZ`, -32767 (released) .. 32767 |
//! | button 8 / 9 (Back / Start) | button 6 `BTN_SELECT` / 7 `BTN_START` |
//! | button 10 / 11 (stick presses) | button 9 `BTN_THUMBL` / 10 `BTN_THUMBR` |
//! | button 16 (Guide) | button 8 `BTN_MODE` |
//! | buttons 12–15 (d-pad up, down, left, right) | axes 6 `ABS_HAT0X`, 7 `ABS_HAT0Y` |
//! | axes 0, 1 (left stick) | axes 0 `ABS_X`, 1 `ABS_Y` |
//! | axes 2, 3 (right stick) | axes 3 `ABS_RX`, 4 `ABS_RY` |
//!
//! Two deliberate differences from Selkies: a button counts as pressed from 0.5 (Selkies truncates,
//! so a half-pressed analog face button is never pressed), and the hats are computed from all four
//! d-pad buttons (Selkies sets the hat from the last button alone, so releasing Up while Down is
//! held centres it).

use super::wire::{code, hat_js_value, AxisRange, DeviceConfig, AXIS_MAX};

/// Name the pad reports. It and the ids below are those of a wired Xbox 360 pad, which games and
/// SDL's controller database recognise (Selkies 2.x and its fake-udev use the same).
pub const PAD_NAME: &str = "Microsoft X-Box 360 pad";
/// USB vendor id (Microsoft).
pub const PAD_VENDOR: u16 = 0x045e;
/// USB product id (Xbox 360 controller).
pub const PAD_PRODUCT: u16 = 0x028e;
/// Device version.
pub const PAD_VERSION: u16 = 0x0114;

/// Key code of each pad button.
pub const BUTTON_CODES: [u16; 11] = [
    code::BTN_A,
    code::BTN_B,
    code::BTN_X,
    code::BTN_Y,
    code::BTN_TL,
    code::BTN_TR,
    code::BTN_SELECT,
    code::BTN_START,
    code::BTN_MODE,
    code::BTN_THUMBL,
    code::BTN_THUMBR,
];

/// Absolute axis code of each pad axis.
pub const AXIS_CODES: [u8; 8] = [
    code::ABS_X,
    code::ABS_Y,
    code::ABS_Z,
    code::ABS_RX,
    code::ABS_RY,
    code::ABS_RZ,
    code::ABS_HAT0X,
    code::ABS_HAT0Y,
];

const HAT_X: usize = 6;
const HAT_Y: usize = 7;

/// A browser button press at or above this value is a press.
pub const PRESS_THRESHOLD: f64 = 0.5;

/// The record every interposer connection starts with.
pub fn device_config() -> DeviceConfig {
    DeviceConfig {
        name: PAD_NAME.into(),
        vendor: PAD_VENDOR,
        product: PAD_PRODUCT,
        version: PAD_VERSION,
        buttons: BUTTON_CODES.to_vec(),
        axes: AXIS_CODES.to_vec(),
    }
}

/// A pad control, by its index on the pad (not in the browser).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Button `0..11`.
    Button(u8),
    /// Axis `0..8`.
    Axis(u8),
}

/// One control's new value, as a joystick node reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// What changed.
    pub control: Control,
    /// 0/1 for buttons, -32767..32767 for axes (hats at ±32767, as joydev reports them).
    pub value: i16,
}

impl Change {
    /// The evdev (type, code, value) of this change: hats become -1/0/1.
    pub fn evdev(&self) -> (u16, u16, i32) {
        match self.control {
            Control::Button(i) => (
                super::wire::EV_KEY,
                BUTTON_CODES[usize::from(i)],
                i32::from(self.value),
            ),
            Control::Axis(i) => {
                let code = AXIS_CODES[usize::from(i)];
                let value = if super::wire::is_hat(code) {
                    i32::from(self.value.signum())
                } else {
                    i32::from(self.value)
                };
                (super::wire::EV_ABS, u16::from(code), value)
            }
        }
    }
}

/// The pad's current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PadState {
    buttons: [bool; BUTTON_CODES.len()],
    axes: [i16; AXIS_CODES.len()],
    /// Up, down, left, right.
    dpad: [bool; 4],
}

impl Default for PadState {
    fn default() -> Self {
        let mut axes = [0i16; AXIS_CODES.len()];
        for (value, code) in axes.iter_mut().zip(AXIS_CODES) {
            *value = rest_value(code);
        }
        PadState {
            buttons: [false; BUTTON_CODES.len()],
            axes,
            dpad: [false; 4],
        }
    }
}

impl PadState {
    /// Browser button `button` is now at `value` (0..1). `None` when the button has no place on
    /// the pad or nothing changed.
    pub fn button(&mut self, button: u16, value: f64) -> Option<Change> {
        let pressed = value >= PRESS_THRESHOLD;
        match button {
            6 => self.set_axis(2, trigger_value(value)),
            7 => self.set_axis(5, trigger_value(value)),
            12..=15 => {
                self.dpad[usize::from(button - 12)] = pressed;
                let [up, down, left, right] = self.dpad.map(i8::from);
                if button < 14 {
                    self.set_axis(HAT_Y, hat_js_value(down - up))
                } else {
                    self.set_axis(HAT_X, hat_js_value(right - left))
                }
            }
            _ => {
                let index = match button {
                    0..=5 => button,
                    8 => 6,
                    9 => 7,
                    16 => 8,
                    10 => 9,
                    11 => 10,
                    _ => return None,
                };
                let slot = &mut self.buttons[usize::from(index)];
                if *slot == pressed {
                    return None;
                }
                *slot = pressed;
                Some(Change {
                    control: Control::Button(index as u8),
                    value: i16::from(pressed),
                })
            }
        }
    }

    /// Browser axis `axis` is now at `value` (-1..1).
    pub fn axis(&mut self, axis: u8, value: f64) -> Option<Change> {
        let index = match axis {
            0 => 0,
            1 => 1,
            2 => 3,
            3 => 4,
            _ => return None,
        };
        self.set_axis(index, stick_value(value))
    }

    /// Brings every control back to rest, returning the changes that takes.
    pub fn release(&mut self) -> Vec<Change> {
        let rest = PadState::default();
        let changes = rest
            .snapshot()
            .into_iter()
            .zip(self.snapshot())
            .filter(|(rest, now)| rest != now)
            .map(|(rest, _)| rest)
            .collect();
        *self = rest;
        changes
    }

    /// Every control's value, buttons first, as a joystick node reports it on open.
    pub fn snapshot(&self) -> Vec<Change> {
        let buttons = self.buttons.iter().enumerate().map(|(i, b)| Change {
            control: Control::Button(i as u8),
            value: i16::from(*b),
        });
        let axes = self.axes.iter().enumerate().map(|(i, v)| Change {
            control: Control::Axis(i as u8),
            value: *v,
        });
        buttons.chain(axes).collect()
    }

    /// The controls away from rest, with their current values.
    pub fn non_rest(&self) -> Vec<Change> {
        let rest = PadState::default();
        self.snapshot()
            .into_iter()
            .zip(rest.snapshot())
            .filter(|(now, rest)| now != rest)
            .map(|(now, _)| now)
            .collect()
    }

    fn set_axis(&mut self, index: usize, value: i16) -> Option<Change> {
        if self.axes[index] == value {
            return None;
        }
        self.axes[index] = value;
        Some(Change {
            control: Control::Axis(index as u8),
            value,
        })
    }
}

fn rest_value(code: u8) -> i16 {
    // Rest values are within ±AXIS_MAX, which fits i16.
    AxisRange::of(code).rest as i16
}

/// A stick position -1..1 as -32767..32767.
pub fn stick_value(value: f64) -> i16 {
    scale(value.clamp(-1.0, 1.0) * f64::from(AXIS_MAX))
}

/// A trigger 0..1 as -32767..32767 (Selkies' `normalize_trigger_val`).
pub fn trigger_value(value: f64) -> i16 {
    scale(-f64::from(AXIS_MAX) + value.clamp(0.0, 1.0) * 2.0 * f64::from(AXIS_MAX))
}

fn scale(v: f64) -> i16 {
    let v = if v.is_finite() { v.round() } else { 0.0 };
    // Clamped to the i16 range first, so the cast cannot saturate surprisingly.
    v.clamp(-f64::from(AXIS_MAX), f64::from(AXIS_MAX)) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(index: u8, value: i16) -> Option<Change> {
        Some(Change {
            control: Control::Axis(index),
            value,
        })
    }

    fn button(index: u8, value: i16) -> Option<Change> {
        Some(Change {
            control: Control::Button(index),
            value,
        })
    }

    #[test]
    fn face_and_menu_buttons_follow_the_xbox_order() {
        let mut pad = PadState::default();
        for (browser, pad_index) in [
            (0, 0),
            (1, 1),
            (2, 2),
            (3, 3),
            (4, 4),
            (5, 5),
            (8, 6),
            (9, 7),
            (16, 8),
            (10, 9),
            (11, 10),
        ] {
            assert_eq!(pad.button(browser, 1.0), button(pad_index, 1), "{browser}");
            assert_eq!(pad.button(browser, 1.0), None, "no repeat for {browser}");
            assert_eq!(pad.button(browser, 0.0), button(pad_index, 0));
        }
        assert_eq!(pad.button(17, 1.0), None);
        assert_eq!(pad.button(511, 1.0), None);
    }

    #[test]
    fn buttons_press_at_half_travel() {
        let mut pad = PadState::default();
        assert_eq!(pad.button(0, 0.49), None);
        assert_eq!(pad.button(0, 0.5), button(0, 1));
        assert_eq!(pad.button(0, 0.7), None);
        assert_eq!(pad.button(0, 0.2), button(0, 0));
    }

    #[test]
    fn triggers_are_full_range_axes() {
        let mut pad = PadState::default();
        assert_eq!(pad.button(6, 0.0), None, "released is the rest value");
        assert_eq!(pad.button(6, 1.0), axis(2, 32767));
        assert_eq!(pad.button(6, 0.5), axis(2, 0));
        assert_eq!(pad.button(7, 0.25), axis(5, -16384));
        assert_eq!(trigger_value(0.0), -32767);
    }

    #[test]
    fn sticks_scale_to_i16() {
        let mut pad = PadState::default();
        assert_eq!(pad.axis(0, -1.0), axis(0, -32767));
        assert_eq!(pad.axis(1, 0.5), axis(1, 16384));
        assert_eq!(pad.axis(2, 1.0), axis(3, 32767));
        assert_eq!(pad.axis(3, -0.25), axis(4, -8192));
        assert_eq!(pad.axis(3, -0.25), None);
        assert_eq!(
            pad.axis(4, 1.0),
            None,
            "only 4 browser axes exist on the pad"
        );
        assert_eq!(stick_value(f64::NAN), 0);
        assert_eq!(stick_value(7.0), 32767);
    }

    #[test]
    fn dpad_is_a_hat_from_all_four_buttons() {
        let mut pad = PadState::default();
        assert_eq!(pad.button(12, 1.0), axis(7, -32767), "up");
        assert_eq!(pad.button(13, 1.0), axis(7, 0), "up and down cancel");
        assert_eq!(pad.button(12, 0.0), axis(7, 32767), "down still held");
        assert_eq!(pad.button(15, 1.0), axis(6, 32767), "right");
        assert_eq!(pad.button(14, 1.0), axis(6, 0));
        assert_eq!(pad.button(15, 0.0), axis(6, -32767), "left still held");
        let hat = pad.button(14, 0.0).expect("changes");
        assert_eq!(hat.evdev(), (0x03, 0x10, 0));
        assert_eq!(pad.button(13, 0.0).map(|c| c.evdev()), Some((3, 0x11, 0)));
        let down = pad.button(13, 1.0).expect("changes");
        assert_eq!(down.evdev(), (3, 0x11, 1), "evdev hats are -1..1");
    }

    #[test]
    fn release_returns_only_what_was_away_from_rest() {
        let mut pad = PadState::default();
        assert!(pad.release().is_empty());
        pad.button(0, 1.0);
        pad.button(7, 1.0);
        pad.axis(1, -1.0);
        pad.button(12, 1.0);
        let changes = pad.release();
        assert_eq!(
            changes,
            vec![
                button(0, 0).expect("some"),
                axis(1, 0).expect("some"),
                axis(5, -32767).expect("some"),
                axis(7, 0).expect("some"),
            ]
        );
        assert_eq!(pad, PadState::default());
        assert_eq!(pad.button(13, 1.0), axis(7, 32767), "d-pad memory cleared");
    }

    #[test]
    fn snapshot_lists_every_control() {
        let mut pad = PadState::default();
        pad.button(1, 1.0);
        let snap = pad.snapshot();
        assert_eq!(snap.len(), 19);
        assert_eq!(snap[1], button(1, 1).expect("some"));
        assert_eq!(snap[11 + 2], axis(2, -32767).expect("some"));
        assert_eq!(pad.non_rest(), vec![button(1, 1).expect("some")]);
    }

    #[test]
    fn config_describes_the_pad() {
        let c = device_config();
        assert_eq!(c.buttons.len(), 11);
        assert_eq!(c.axes, vec![0, 1, 2, 3, 4, 5, 0x10, 0x11]);
        assert_eq!(
            Change {
                control: Control::Button(10),
                value: 1
            }
            .evdev(),
            (1, 0x13e, 1)
        );
    }
}
