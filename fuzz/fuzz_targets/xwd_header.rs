//! Fuzzes the XWD framebuffer header parser (`capture::xwd::XwdLayout::parse`): Xvfb's
//! framebuffer file is written by another process and read in place.
//!
//! Checked: nothing panics; an accepted layout's pixels lie inside the bytes given, rows are at
//! least a row of 32-bit pixels wide and the size is not empty; errors are short single lines.

#![no_main]

use libfuzzer_sys::fuzz_target;
use selkies_rs::capture::xwd::XwdLayout;

fuzz_target!(|data: &[u8]| {
    match XwdLayout::parse(data) {
        Ok(layout) => {
            let end = layout.offset.checked_add(layout.pixel_bytes());
            assert!(end.is_some_and(|end| end <= data.len()), "{layout:?}");
            assert!(layout.width > 0 && layout.height > 0);
            assert!(u64::from(layout.bytes_per_line) >= u64::from(layout.width) * 4);
        }
        Err(error) => {
            let message = error.to_string();
            assert!(!message.is_empty() && message.len() < 300, "{message:?}");
            assert!(!message.chars().any(char::is_control), "{message:?}");
        }
    }
});
