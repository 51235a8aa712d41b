//! A headless Chromium to measure and test with: launched in its own process group with a
//! throw-away profile, driven over the DevTools protocol, stopped with everything it forked.

pub mod cdp;
pub mod chromium;
pub mod procs;

pub use cdp::Cdp;
pub use chromium::Chromium;
