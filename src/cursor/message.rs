//! The `cursor` data-channel message, per viewer: a shape's PNG goes to each viewer once; after
//! that the handle alone tells the client which cached shape to show.

use std::collections::HashSet;

use serde_json::json;

use super::CursorShape;

/// Most shapes remembered per viewer; past it the set is cleared and PNGs are sent again, which
/// the client's own bounded cache expects.
const MAX_REMEMBERED: usize = 256;

/// What one viewer has been sent.
#[derive(Debug, Default)]
pub struct CursorMessages {
    sent: HashSet<u32>,
}

impl CursorMessages {
    /// The `data` of a `cursor` message for `shape` (Selkies 1.x fields plus 2.x's `width`,
    /// `height`, `hotx`, `hoty`).
    pub fn data(&mut self, shape: &CursorShape) -> serde_json::Value {
        if self.sent.len() >= MAX_REMEMBERED {
            self.sent.clear();
        }
        let first = self.sent.insert(shape.handle);
        let mut data = json!({
            "handle": shape.handle,
            "override": null,
            "hotspot": { "x": shape.xhot, "y": shape.yhot },
            "hotx": shape.xhot,
            "hoty": shape.yhot,
            "width": shape.width,
            "height": shape.height,
        });
        if first {
            data["curdata"] = json!(shape.png_base64);
        }
        data
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

    #[test]
    fn png_once_then_handle_only() {
        let mut m = CursorMessages::default();
        let first = m.data(&shape(7));
        assert_eq!(first["curdata"], "iVBORw0KGgo=");
        assert_eq!(first["hotspot"]["x"], 3);
        assert_eq!(first["handle"], 7);
        let again = m.data(&shape(7));
        assert!(again.get("curdata").is_none());
        assert!(m.data(&shape(8)).get("curdata").is_some());
    }
}
