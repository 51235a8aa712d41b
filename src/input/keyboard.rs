//! Typing keysyms on whatever layout the X server has: picks the keycode, adjusts Shift and
//! AltGr around the press when the held modifiers would give another level, and borrows a spare
//! keycode for keysyms the layout lacks (emoji, CJK from an IME, letters of other scripts).
//!
//! The fix-ups are what xdotool does: the application sees the press with the right modifiers,
//! then the modifiers go back to what the client holds, so the client's own Shift/AltGr state is
//! never lost. Keys are reference-counted so two viewers holding one key release it once.

use std::collections::HashMap;

use super::error::InputError;
use super::keymap::{legacy_keysym, Keymap, Level, ISO_LEVEL3_SHIFT, MOD_LOCK, MOD_SHIFT};

/// What the keyboard driver needs from the X server. `xtest.rs` implements it for real; tests
/// record the calls.
pub trait KeySink {
    /// The current core modifier mask (Shift 1, Lock 2, Control 4, Mod1..Mod5 8..128).
    fn modifier_state(&mut self) -> Result<u16, InputError>;
    /// Presses or releases a keycode.
    fn key(&mut self, keycode: u8, down: bool) -> Result<(), InputError>;
    /// Makes `keycode` produce `keysym` on every level.
    fn remap(&mut self, keycode: u8, keysym: u32) -> Result<(), InputError>;
}

/// A keycode we remapped to a keysym the layout lacked.
#[derive(Debug, Clone, Copy)]
struct Borrowed {
    keysym: u32,
    last_used: u64,
}

/// Keyboard state shared by every client: the map, what is held, and the borrowed keycodes.
#[derive(Debug)]
pub struct Keyboard {
    keymap: Keymap,
    /// Hold count of each keycode we pressed.
    held: HashMap<u8, u32>,
    /// Spare keycodes we remapped, and to what.
    borrowed: HashMap<u8, Borrowed>,
    /// Spare keycodes not yet borrowed.
    free: Vec<u8>,
    uses: u64,
}

impl Keyboard {
    pub fn new(keymap: Keymap) -> Self {
        let mut keyboard = Keyboard {
            free: Vec::new(),
            keymap,
            held: HashMap::new(),
            borrowed: HashMap::new(),
            uses: 0,
        };
        keyboard.rebuild_spares();
        keyboard
    }

    /// Takes a new map from the server (after `setxkbmap`, or our own remap). Borrowed keycodes
    /// that still carry our keysym stay borrowed; the rest were overwritten and are forgotten.
    pub fn set_keymap(&mut self, keymap: Keymap) {
        self.keymap = keymap;
        let map = &self.keymap;
        self.borrowed
            .retain(|&k, b| map.keysym(k, Level::Base) == b.keysym);
        self.rebuild_spares();
    }

    fn rebuild_spares(&mut self) {
        let mut free = self.keymap.spare_keycodes();
        free.retain(|k| !self.borrowed.contains_key(k));
        // Take from the top: low keycodes are the ones layouts grow into.
        free.reverse();
        self.free = free;
    }

    pub fn keymap(&self) -> &Keymap {
        &self.keymap
    }

    /// Presses `keysym`; returns the keycode to release later.
    pub fn press(&mut self, sink: &mut dyn KeySink, keysym: u32) -> Result<u8, InputError> {
        let location = self
            .keymap
            .locate(keysym)
            .or_else(|| legacy_keysym(keysym).and_then(|legacy| self.keymap.locate(legacy)));
        let keycode = match location {
            Some(location) => match self.fixups(sink, location.keycode, location.level)? {
                Some(fixups) => {
                    self.press_with(sink, location.keycode, &fixups)?;
                    location.keycode
                }
                None => self.press_borrowed(sink, keysym)?,
            },
            None => self.press_borrowed(sink, keysym)?,
        };
        if let Some(b) = self.borrowed.get_mut(&keycode) {
            self.uses += 1;
            b.last_used = self.uses;
        }
        Ok(keycode)
    }

    /// Releases one hold of `keycode`; the key goes up when nobody holds it.
    pub fn release(&mut self, sink: &mut dyn KeySink, keycode: u8) -> Result<(), InputError> {
        match self.held.get_mut(&keycode) {
            Some(n) if *n > 1 => {
                *n -= 1;
                Ok(())
            }
            Some(_) => {
                self.held.remove(&keycode);
                sink.key(keycode, false)
            }
            None => Ok(()),
        }
    }

    /// Keycodes currently held, with their hold counts.
    pub fn held(&self) -> impl Iterator<Item = (u8, u32)> + '_ {
        self.held.iter().map(|(&k, &n)| (k, n))
    }

    fn press_borrowed(&mut self, sink: &mut dyn KeySink, keysym: u32) -> Result<u8, InputError> {
        let keycode = match self.borrowed.iter().find(|(_, b)| b.keysym == keysym) {
            Some((&k, _)) => k,
            None => {
                let keycode = self.borrow_keycode(keysym)?;
                sink.remap(keycode, keysym)?;
                self.keymap.assign(keycode, keysym);
                self.borrowed.insert(
                    keycode,
                    Borrowed {
                        keysym,
                        last_used: 0,
                    },
                );
                keycode
            }
        };
        // Every level of a borrowed keycode is the keysym, so held modifiers cannot change it.
        self.press_with(sink, keycode, &[])?;
        Ok(keycode)
    }

    /// A free spare, or the least recently used borrowed keycode nobody holds.
    fn borrow_keycode(&mut self, keysym: u32) -> Result<u8, InputError> {
        if let Some(k) = self.free.pop() {
            return Ok(k);
        }
        let victim = self
            .borrowed
            .iter()
            .filter(|(k, _)| !self.held.contains_key(k))
            .min_by_key(|(_, b)| b.last_used)
            .map(|(&k, _)| k)
            .ok_or(InputError::NoSpareKeycode(keysym))?;
        self.borrowed.remove(&victim);
        Ok(victim)
    }

    fn press_with(
        &mut self,
        sink: &mut dyn KeySink,
        keycode: u8,
        fixups: &[(u8, bool)],
    ) -> Result<(), InputError> {
        let count = self.held.entry(keycode).or_insert(0);
        *count += 1;
        if *count > 1 {
            return Ok(());
        }
        for &(k, down) in fixups {
            sink.key(k, down)?;
        }
        sink.key(keycode, true)?;
        for &(k, down) in fixups.iter().rev() {
            sink.key(k, !down)?;
        }
        Ok(())
    }

    /// The modifier presses (`true`) and releases (`false`) that make `keycode` give `level`, to
    /// undo after the press; `None` when the level cannot be reached (then a spare keycode is
    /// used instead).
    fn fixups(
        &self,
        sink: &mut dyn KeySink,
        keycode: u8,
        level: Level,
    ) -> Result<Option<Vec<(u8, bool)>>, InputError> {
        let state = sink.modifier_state()?;
        let mut out = Vec::new();

        let shift_held = state & (1 << MOD_SHIFT) != 0;
        let lock = state & (1 << MOD_LOCK) != 0 && self.keymap.is_alphabetic(keycode);
        let shift_now = shift_held != lock;
        if shift_now != level.shift() {
            if shift_held {
                let ours = self.held_of(self.keymap.modifier_keycodes(MOD_SHIFT));
                if ours.is_empty() {
                    return Ok(None);
                }
                // Without Shift, Lock alone decides the case of letters, which is then right.
                out.extend(ours.into_iter().map(|k| (k, false)));
            } else {
                match self.keymap.shift_keycode() {
                    Some(k) => out.push((k, true)),
                    None => return Ok(None),
                }
            }
        }

        let level3_mask = self.keymap.modifier_mask_of(ISO_LEVEL3_SHIFT);
        let level3_now = level3_mask.is_some_and(|m| state & m != 0);
        if level3_now != level.level3() {
            if level.level3() {
                match (self.keymap.locate(ISO_LEVEL3_SHIFT), level3_mask) {
                    (Some(l), Some(_)) if l.level == Level::Base => out.push((l.keycode, true)),
                    _ => return Ok(None),
                }
            } else {
                let index = level3_mask.map_or(8, |m| m.trailing_zeros() as usize);
                let ours = self.held_of(self.keymap.modifier_keycodes(index));
                if ours.is_empty() {
                    return Ok(None);
                }
                out.extend(ours.into_iter().map(|k| (k, false)));
            }
        }
        Ok(Some(out))
    }

    fn held_of(&self, keycodes: &[u8]) -> Vec<u8> {
        keycodes
            .iter()
            .copied()
            .filter(|k| self.held.contains_key(k))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::keymap::SHIFT_L;
    use super::*;

    /// Records calls and keeps the modifier state the way the X server would.
    #[derive(Default)]
    struct Recorder {
        events: Vec<(u8, bool)>,
        remaps: Vec<(u8, u32)>,
        lock: bool,
        down: Vec<u8>,
    }

    impl KeySink for Recorder {
        fn modifier_state(&mut self) -> Result<u16, InputError> {
            let mut state = u16::from(self.lock) << MOD_LOCK;
            if self.down.contains(&50) {
                state |= 1 << MOD_SHIFT;
            }
            if self.down.contains(&92) {
                state |= 1 << 7;
            }
            Ok(state)
        }
        fn key(&mut self, keycode: u8, down: bool) -> Result<(), InputError> {
            self.events.push((keycode, down));
            if down {
                self.down.push(keycode);
            } else {
                self.down.retain(|&k| k != keycode);
            }
            Ok(())
        }
        fn remap(&mut self, keycode: u8, keysym: u32) -> Result<(), InputError> {
            self.remaps.push((keycode, keysym));
            Ok(())
        }
    }

    /// US-like keys on a map with AltGr: 24 q Q @, 38 a A, 10 1 !, 50 Shift, 92 AltGr (Mod5),
    /// keycodes 200..=201 empty.
    fn keyboard() -> Keyboard {
        let per = 6;
        let mut syms = vec![0u32; per * 248];
        let mut put = |k: usize, row: [u32; 6]| {
            syms[(k - 8) * per..(k - 8) * per + per].copy_from_slice(&row);
        };
        put(10, [0x31, 0x21, 0, 0, 0, 0]);
        put(24, [0x71, 0x51, 0, 0, 0x40, 0]);
        put(38, [0x61, 0x41, 0, 0, 0, 0]);
        put(50, [SHIFT_L, 0, 0, 0, 0, 0]);
        put(92, [ISO_LEVEL3_SHIFT, 0, 0, 0, 0, 0]);
        for k in 8..=255usize {
            if ![10, 24, 38, 50, 92, 200, 201].contains(&k) {
                put(k, [0xff00 + k as u32, 0, 0, 0, 0, 0]);
            }
        }
        let mut modmap = vec![0u8; 8];
        modmap[0] = 50;
        modmap[7] = 92;
        Keyboard::new(Keymap::new(8, 6, syms, 1, &modmap))
    }

    #[test]
    fn plain_key_is_pressed_alone() {
        let (mut kb, mut x) = (keyboard(), Recorder::default());
        let k = kb.press(&mut x, 0x61).unwrap();
        kb.release(&mut x, k).unwrap();
        assert_eq!(x.events, vec![(38, true), (38, false)]);
    }

    #[test]
    fn shifted_keysym_without_shift_held_adds_shift_around_the_press() {
        let (mut kb, mut x) = (keyboard(), Recorder::default());
        kb.press(&mut x, 0x21).unwrap();
        assert_eq!(x.events, vec![(50, true), (10, true), (50, false)]);
    }

    #[test]
    fn base_keysym_with_shift_held_drops_shift_for_the_press() {
        let (mut kb, mut x) = (keyboard(), Recorder::default());
        kb.press(&mut x, SHIFT_L).unwrap();
        kb.press(&mut x, 0x31).unwrap();
        assert_eq!(
            x.events,
            vec![(50, true), (50, false), (10, true), (50, true)]
        );
    }

    #[test]
    fn client_shift_is_used_as_is() {
        let (mut kb, mut x) = (keyboard(), Recorder::default());
        kb.press(&mut x, SHIFT_L).unwrap();
        kb.press(&mut x, 0x41).unwrap();
        assert_eq!(x.events, vec![(50, true), (38, true)]);
    }

    #[test]
    fn altgr_level_presses_level3_and_caps_lock_counts_for_letters() {
        let (mut kb, mut x) = (keyboard(), Recorder::default());
        kb.press(&mut x, 0x40).unwrap();
        assert_eq!(x.events, vec![(92, true), (24, true), (92, false)]);

        let (mut kb, mut x) = (keyboard(), Recorder::default());
        x.lock = true;
        kb.press(&mut x, 0x41).unwrap();
        kb.press(&mut x, 0x71).unwrap();
        assert_eq!(
            x.events,
            vec![(38, true), (50, true), (24, true), (50, false)]
        );
    }

    #[test]
    fn missing_keysym_borrows_a_spare_and_reuses_it() {
        let (mut kb, mut x) = (keyboard(), Recorder::default());
        let snowman = 0x0100_2603;
        let k = kb.press(&mut x, snowman).unwrap();
        kb.release(&mut x, k).unwrap();
        let again = kb.press(&mut x, snowman).unwrap();
        assert_eq!(k, again);
        assert_eq!(x.remaps, vec![(k, snowman)]);
        assert!(k == 200 || k == 201);
    }

    #[test]
    fn spares_are_recycled_least_recently_used_first_but_never_while_held() {
        let (mut kb, mut x) = (keyboard(), Recorder::default());
        let a = kb.press(&mut x, 0x0100_0101).unwrap();
        let b = kb.press(&mut x, 0x0100_0102).unwrap();
        kb.release(&mut x, b).unwrap();
        // a is held, b is free: the third keysym must take b's keycode.
        let c = kb.press(&mut x, 0x0100_0103).unwrap();
        assert_eq!(c, b);
        assert_ne!(c, a);
        // Both held now: nothing left.
        assert!(matches!(
            kb.press(&mut x, 0x0100_0104),
            Err(InputError::NoSpareKeycode(0x0100_0104))
        ));
    }

    #[test]
    fn keys_are_reference_counted() {
        let (mut kb, mut x) = (keyboard(), Recorder::default());
        let k = kb.press(&mut x, 0x61).unwrap();
        kb.press(&mut x, 0x61).unwrap();
        kb.release(&mut x, k).unwrap();
        assert_eq!(x.events, vec![(38, true)]);
        kb.release(&mut x, k).unwrap();
        kb.release(&mut x, k).unwrap();
        assert_eq!(x.events, vec![(38, true), (38, false)]);
    }

    #[test]
    fn a_new_map_keeps_our_borrowed_keycodes() {
        let (mut kb, mut x) = (keyboard(), Recorder::default());
        let k = kb.press(&mut x, 0x0100_2603).unwrap();
        let map = kb.keymap().clone();
        kb.set_keymap(map);
        kb.release(&mut x, k).unwrap();
        assert_eq!(kb.press(&mut x, 0x0100_2603).unwrap(), k);
        assert_eq!(x.remaps.len(), 1);
    }
}
