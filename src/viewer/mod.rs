//! One viewer's control plane, whatever transport carries it: what it may do ([`route`]), what
//! the server tells it ([`message`]), and the driver that joins those to the server's services
//! ([`Viewer`]): its input endpoint, gamepad slots, clipboard session, cursor feed, pointer vote
//! and reports.
//!
//! The transport ([`transport::Transport`]; the WebRTC data channel today) only moves text:
//! [`transport::serve`] hands [`Viewer`] each message it receives and sends what comes back.
//! Nothing here knows WebRTC.

pub mod clipboard;
mod driver;
pub mod message;
pub mod route;
pub mod transport;

pub use driver::Viewer;
pub use message::ServerMessage;
