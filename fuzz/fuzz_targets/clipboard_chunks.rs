//! Fuzzes the clipboard reassembly (`input::clipboard::Assembler`).
//!
//! Input layout: the first byte sets the limit (bit 0: 64 bytes instead of 4096) and disables
//! binary content (bit 1); the rest is split at 0xFF bytes (never part of UTF-8) into the data
//! channel messages of one client, each parsed as a verb and, when it is a clipboard write, fed to
//! one `Assembler`.
//!
//! Checked: nothing panics; the buffer never exceeds the limit; complete content is within the
//! limit, text is valid UTF-8 and binary content only appears when allowed; no transfer is left
//! open after a completed one; error messages are short single lines.

#![no_main]

use libfuzzer_sys::fuzz_target;
use selkies_rs::input::clipboard::Assembler;
use selkies_rs::input::protocol::parse;

const SEPARATOR: u8 = 0xFF;

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let limit = if control & 1 == 0 { 4096 } else { 64 };
    let binary = control & 2 == 0;
    let mut assembler = Assembler::new(limit, binary);
    for message in rest.split(|&b| b == SEPARATOR) {
        let text = String::from_utf8_lossy(message);
        let Ok(verb) = parse(&text) else {
            continue;
        };
        if !Assembler::accepts(&verb) {
            assert!(assembler.push(verb).is_err());
            continue;
        }
        match assembler.push(verb) {
            Ok(Some(content)) => {
                assert!(content.len() <= limit);
                if content.is_text() {
                    assert!(content.as_text().is_some(), "text not UTF-8");
                } else {
                    assert!(binary, "binary content while disabled");
                }
                assert!(!assembler.in_progress());
            }
            Ok(None) => {}
            Err(error) => {
                let message = error.to_string();
                assert!(!message.is_empty());
                assert!(message.len() < 300, "{message:?}");
                assert!(
                    !message.chars().any(char::is_control),
                    "error not single-line: {message:?}"
                );
            }
        }
        assert!(assembler.buffered() <= limit);
    }
});
