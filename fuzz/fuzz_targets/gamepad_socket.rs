//! Fuzzes the gamepad socket records (`input::gamepad::wire`), which the LD_PRELOAD interposer
//! decodes from whatever listens on the socket path.
//!
//! Checked: nothing panics; an accepted device record is within the map capacities and its
//! name is a C string that fits; it encodes back to a record that decodes to the same value; event
//! records decode and encode back to the same bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use selkies_rs::input::gamepad::wire::{
    DeviceConfig, InputEvent, JsEvent, WireVersion, WordSize, MAX_AXES, MAX_BUTTONS, NAME_LEN,
};

fuzz_target!(|data: &[u8]| {
    for version in [WireVersion::Selkies1, WireVersion::Selkies2] {
        // The data as the record, and padded or cut to the record's length.
        let mut sized = data.to_vec();
        sized.resize(version.config_len(), 0);
        for bytes in [data, &sized[..]] {
            let Ok(config) = DeviceConfig::decode(bytes, version) else {
                continue;
            };
            assert_eq!(bytes.len(), version.config_len());
            assert!(config.buttons.len() <= MAX_BUTTONS);
            assert!(config.axes.len() <= MAX_AXES);
            assert!(config.name.len() < NAME_LEN && !config.name.contains('\0'));
            let encoded = config.encode(version).expect("a decoded record encodes");
            assert_eq!(encoded.len(), version.config_len());
            assert_eq!(DeviceConfig::decode(&encoded, version).as_ref(), Ok(&config));
        }
    }
    for chunk in data.chunks_exact(JsEvent::LEN) {
        let raw: &[u8; JsEvent::LEN] = chunk.try_into().expect("exact chunk");
        assert_eq!(&JsEvent::decode(raw).encode(), raw);
    }
    for word in [WordSize::Four, WordSize::Eight] {
        for chunk in data.chunks_exact(word.event_len()) {
            let event = InputEvent::decode(chunk, word).expect("one record");
            let mut out = Vec::new();
            event.encode_into(word, &mut out);
            assert_eq!(out, chunk);
        }
    }
});
