//! Getting pixels from the X server: MIT-SHM grabs of the root window, and our own virtual
//! display (Xvfb) when there is no `DISPLAY` to capture.

pub mod animate;
pub mod display;
pub mod overlay;
pub mod randr;
pub mod xshm;
pub mod xwd;

pub use xshm::{CaptureError, Frame, FramebufferError, XshmCapture};
