//! The `cursor` data-channel message, per viewer: a shape's PNG goes to each viewer once; after
//! that the handle alone tells the client which cached shape to show.

use std::collections::HashSet;

use super::CursorShape;
use crate::viewer::message::{CursorData, Hotspot, ServerMessage};

/// Most shapes remembered per viewer; past it the set is cleared and PNGs are sent again, which
/// the client's own bounded cache expects.
const MAX_REMEMBERED: usize = 256;

/// What one viewer has been sent.
#[derive(Debug, Default)]
pub struct CursorMessages {
    sent: HashSet<u32>,
}

impl CursorMessages {
    /// The `cursor` message for `shape`.
    pub fn message(&mut self, shape: &CursorShape) -> ServerMessage {
        if self.sent.len() >= MAX_REMEMBERED {
            self.sent.clear();
        }
        let first = self.sent.insert(shape.handle);
        ServerMessage::Cursor(CursorData {
            handle: shape.handle,
            override_name: None,
            hotspot: Hotspot {
                x: shape.xhot,
                y: shape.yhot,
            },
            hotx: shape.xhot,
            hoty: shape.yhot,
            width: shape.width,
            height: shape.height,
            curdata: first.then(|| shape.png_base64.clone()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(handle: u32) -> CursorShape {
        CursorShape {
            handle,
            width: 16,
            height: 16,
            xhot: 3,
            yhot: 4,
            png_base64: "iVBORw0KGgo=".into(),
        }
    }

    fn data(m: ServerMessage) -> CursorData {
        match m {
            ServerMessage::Cursor(d) => d,
            other => panic!("not a cursor message: {other:?}"),
        }
    }

    #[test]
    fn png_once_then_handle_only() {
        let mut m = CursorMessages::default();
        let first = data(m.message(&shape(7)));
        assert_eq!(first.curdata.as_deref(), Some("iVBORw0KGgo="));
        assert_eq!(first.hotspot, Hotspot { x: 3, y: 4 });
        assert_eq!(first.handle, 7);
        assert_eq!(data(m.message(&shape(7))).curdata, None);
        assert!(data(m.message(&shape(8))).curdata.is_some());
    }
}
