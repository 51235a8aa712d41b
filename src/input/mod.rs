//! Input from the browser: the data-channel verbs and the drivers that inject them into the X
//! server (keyboard, pointer, gamepads, clipboard).
//!
//! [`protocol`] is pure text in, typed verbs out; drivers depend on it, never the other way round.
//! [`keymap`], [`keyboard`] and [`pointer`] are pure logic; [`xtest`] is the X connection they
//! drive and [`service`] the thread that owns it.

pub mod clipboard;
pub mod error;
pub mod gamepad;
pub mod keyboard;
pub mod keymap;
pub mod keysym_table;
pub mod pointer;
pub mod protocol;
pub mod service;
pub mod settings;
pub mod xtest;
