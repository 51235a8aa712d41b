//! Moved into the library (`bench --mode glass` drives Chromium too); kept as a path here so
//! the tests keep saying `common::procs`.

pub use selkies_rs::browser::procs::*;
