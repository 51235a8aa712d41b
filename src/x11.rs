//! What every X connection of ours needs and no single module owns.

use xcb::x;

/// The root window of screen `screen_num` of `conn` (the screen number `connect` returned);
/// `None` when the server has no such screen.
pub fn screen_root(conn: &xcb::Connection, screen_num: i32) -> Option<x::Window> {
    usize::try_from(screen_num)
        .ok()
        .and_then(|n| conn.get_setup().roots().nth(n))
        .map(|s| s.root())
}
