//! Who may do what: the [`Role`] a viewer logs in with and the kinds of verbs it may send.
//!
//! The one place that decides access. A leaf: it names the verb categories of the pure input
//! protocol and nothing else, so authentication, the per-viewer routing and the input thread all
//! ask it the same question.

use crate::input::protocol::Category;

/// What a viewer may do, decided by the credentials it logged in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Watch and control.
    Control,
    /// Watch only: keyboard, mouse, gamepad and clipboard input is dropped and counted.
    ViewOnly,
}

impl Role {
    /// Whether this role may send verbs of `category`.
    pub fn allows(self, category: Category) -> bool {
        match self {
            Role::Control => true,
            // A viewer must not steer the desktop, nor the stream every other viewer shares.
            Role::ViewOnly => matches!(category, Category::Stats | Category::Control),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_only_sends_stats_and_keyframe_requests_only() {
        use Category::*;
        for c in [
            Keyboard, Mouse, Gamepad, Clipboard, Settings, Stats, Control,
        ] {
            assert!(Role::Control.allows(c), "{c:?}");
            assert_eq!(
                Role::ViewOnly.allows(c),
                matches!(c, Stats | Control),
                "{c:?}"
            );
        }
    }
}
