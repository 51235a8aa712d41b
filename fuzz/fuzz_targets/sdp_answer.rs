//! Fuzzes reading the browser's codec choice, header extension ids and Opus payload type out of
//! its SDP answer.
//!
//! Checked: nothing panics; every codec returned was offered, under the payload type it was
//! offered with, and appears once; an extension id fits a one-byte header (1–14); an Opus
//! payload type fits RTP's 7 bits.

#![no_main]

use libfuzzer_sys::fuzz_target;
use selkies_rs::encode::Codec;
use selkies_rs::rtc::negotiate::{accepted, audio_payload_type, extension_id};
use selkies_rs::rtc::{payload_type, PLAYOUT_DELAY_URI};

fuzz_target!(|data: &[u8]| {
    let sdp = String::from_utf8_lossy(data);
    let offered: Vec<(u8, Codec)> = Codec::PREFERENCE
        .iter()
        .map(|&c| (payload_type(c), c))
        .collect();
    let got = accepted(&sdp, &offered);
    for (i, (codec, pt)) in got.iter().enumerate() {
        assert!(offered.contains(&(*pt, *codec)));
        assert!(!got[..i].iter().any(|(c, _)| c == codec));
    }
    if let Some(id) = extension_id(&sdp, PLAYOUT_DELAY_URI) {
        assert!((1..=14).contains(&id));
    }
    if let Some(pt) = audio_payload_type(&sdp) {
        assert!(pt < 128, "an RTP payload type has 7 bits");
    }
});
