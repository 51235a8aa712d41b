//! Fuzzes the data-channel verb parser.
//!
//! Checked: nothing panics; an accepted message is within the size limit; every accepted verb
//! formats back to text that parses to the same verb; error messages are short single lines.

#![no_main]

use libfuzzer_sys::fuzz_target;
use selkies_rs::input::protocol::{parse, MAX_VERB_BYTES};

/// Formatting may add base64 padding the client left out, so a message within a few bytes of the
/// limit can format to one just over it; the round trip is only checked below this size.
const ROUND_TRIP_LIMIT: usize = MAX_VERB_BYTES - 64;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match parse(&text) {
        Ok(verb) => {
            assert!(text.len() <= MAX_VERB_BYTES);
            if text.len() <= ROUND_TRIP_LIMIT {
                let formatted = verb.to_text();
                assert_eq!(
                    parse(&formatted).as_ref(),
                    Ok(&verb),
                    "{text:?} -> {formatted:?}"
                );
            }
        }
        Err(error) => {
            let message = error.to_string();
            assert!(!message.is_empty());
            assert!(message.len() < 256, "{message:?}");
            assert!(
                !message
                    .chars()
                    .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')),
                "error not single-line: {message:?}"
            );
        }
    }
});
