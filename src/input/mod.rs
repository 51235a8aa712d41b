//! Input from the browser: the data-channel verbs and, in later modules, the drivers that inject
//! them into the X server (keyboard, pointer, gamepads, clipboard).
//!
//! [`protocol`] is pure text in, typed verbs out; drivers depend on it, never the other way round.

pub mod protocol;
