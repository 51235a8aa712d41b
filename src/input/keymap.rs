//! Where a keysym lives on the X server's current keyboard map, and which modifiers reach it.
//!
//! The client sends keysyms, not scancodes, so the server's layout decides which keycode and level
//! produce each one. This module is pure: it reads the core-protocol view of the map (the table
//! `GetKeyboardMapping` returns, which XKB servers fill as G1L1, G1L2, G2L1, G2L2, G1L3, G1L4) and
//! the modifier map, and answers lookups. Talking to the X server is `xtest.rs`'s job.

/// `NoSymbol`.
const NO_SYMBOL: u32 = 0;

/// `Shift_L`, `Shift_R`.
pub const SHIFT_L: u32 = 0xffe1;
const SHIFT_R: u32 = 0xffe2;
/// `ISO_Level3_Shift` (AltGr on XKB layouts).
pub const ISO_LEVEL3_SHIFT: u32 = 0xfe03;

/// Modifier indices of the core protocol (`Shift`, `Lock`, `Control`, `Mod1`..`Mod5`).
pub const MOD_SHIFT: usize = 0;
pub const MOD_LOCK: usize = 1;

/// A shift level of group 1, the group XKB layouts put the whole layout in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// No modifier.
    Base,
    /// Shift.
    Shift,
    /// AltGr (`ISO_Level3_Shift`).
    Level3,
    /// AltGr + Shift.
    Level3Shift,
}

impl Level {
    /// The core-protocol column of this level.
    fn column(self) -> usize {
        match self {
            Level::Base => 0,
            Level::Shift => 1,
            Level::Level3 => 4,
            Level::Level3Shift => 5,
        }
    }

    /// Whether the level needs Shift in effect.
    pub fn shift(self) -> bool {
        matches!(self, Level::Shift | Level::Level3Shift)
    }

    /// Whether the level needs the level-3 modifier.
    pub fn level3(self) -> bool {
        matches!(self, Level::Level3 | Level::Level3Shift)
    }
}

const LEVELS: [Level; 4] = [Level::Base, Level::Shift, Level::Level3, Level::Level3Shift];

/// A keycode and the level that produces a keysym on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyLocation {
    pub keycode: u8,
    pub level: Level,
}

/// The core-protocol keyboard and modifier maps of one X server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    min_keycode: u8,
    per_keycode: usize,
    syms: Vec<u32>,
    /// For each of the 8 modifiers, the keycodes bound to it.
    modifiers: [Vec<u8>; 8],
}

impl Keymap {
    /// Builds a map from `GetKeyboardMapping` (starting at `min_keycode`, `per_keycode` keysyms a
    /// keycode) and `GetModifierMapping` (`per_modifier` keycodes for each of the 8 modifiers,
    /// zero meaning none).
    pub fn new(
        min_keycode: u8,
        per_keycode: u8,
        syms: Vec<u32>,
        per_modifier: u8,
        modifier_keycodes: &[u8],
    ) -> Self {
        let per_modifier = usize::from(per_modifier).max(1);
        let mut modifiers: [Vec<u8>; 8] = Default::default();
        for (i, chunk) in modifier_keycodes.chunks(per_modifier).take(8).enumerate() {
            modifiers[i] = chunk.iter().copied().filter(|&k| k != 0).collect();
        }
        Keymap {
            min_keycode,
            per_keycode: usize::from(per_keycode).max(1),
            syms,
            modifiers,
        }
    }

    /// Number of keycodes described.
    fn len(&self) -> usize {
        self.syms.len() / self.per_keycode
    }

    fn row(&self, keycode: u8) -> Option<&[u32]> {
        let index = usize::from(keycode.checked_sub(self.min_keycode)?);
        if index >= self.len() {
            return None;
        }
        let start = index * self.per_keycode;
        self.syms.get(start..start + self.per_keycode)
    }

    /// The keysym at `level` of `keycode`, following the core protocol's rule that a missing
    /// second column repeats the first.
    pub fn keysym(&self, keycode: u8, level: Level) -> u32 {
        let Some(row) = self.row(keycode) else {
            return NO_SYMBOL;
        };
        let at = |c: usize| row.get(c).copied().unwrap_or(NO_SYMBOL);
        match level {
            Level::Shift if at(1) == NO_SYMBOL => at(0),
            Level::Level3Shift if at(5) == NO_SYMBOL => at(4),
            _ => at(level.column()),
        }
    }

    /// The keycode and lowest level that produce `keysym`; among equal levels, the lowest keycode.
    pub fn locate(&self, keysym: u32) -> Option<KeyLocation> {
        if keysym == NO_SYMBOL {
            return None;
        }
        LEVELS.iter().find_map(|&level| {
            self.keycodes()
                .find(|&k| self.row(k).and_then(|r| r.get(level.column())) == Some(&keysym))
                .map(|keycode| KeyLocation { keycode, level })
        })
    }

    fn keycodes(&self) -> impl Iterator<Item = u8> + '_ {
        let last = usize::from(self.min_keycode) + self.len();
        (usize::from(self.min_keycode)..last.min(256)).filter_map(|k| u8::try_from(k).ok())
    }

    /// Keycodes with no keysym at all: free for typing keysyms the layout lacks.
    pub fn spare_keycodes(&self) -> Vec<u8> {
        self.keycodes()
            .filter(|&k| {
                self.row(k)
                    .is_some_and(|r| r.iter().all(|&s| s == NO_SYMBOL))
            })
            .collect()
    }

    /// Records that `keycode` now carries `keysym` on every level (after we remapped it).
    pub fn assign(&mut self, keycode: u8, keysym: u32) {
        let per = self.per_keycode;
        if let Some(index) = keycode.checked_sub(self.min_keycode).map(usize::from) {
            if let Some(row) = self.syms.get_mut(index * per..(index + 1) * per) {
                row.fill(NO_SYMBOL);
                row.iter_mut().take(2).for_each(|s| *s = keysym);
            }
        }
    }

    /// How many keysyms each keycode carries.
    pub fn per_keycode(&self) -> u8 {
        u8::try_from(self.per_keycode).unwrap_or(u8::MAX)
    }

    /// The keycodes bound to modifier `index` (`MOD_SHIFT`, ..., 7 for Mod5).
    pub fn modifier_keycodes(&self, index: usize) -> &[u8] {
        self.modifiers.get(index).map_or(&[], Vec::as_slice)
    }

    /// The mask bit of the modifier that `keysym`'s key is bound to, e.g. Mod5 for AltGr.
    pub fn modifier_mask_of(&self, keysym: u32) -> Option<u16> {
        let key = self.locate(keysym)?.keycode;
        (0..8)
            .find(|&i| self.modifiers[i].contains(&key))
            .map(|i| 1u16 << i)
    }

    /// A keycode that produces Shift, to press when a level needs it.
    pub fn shift_keycode(&self) -> Option<u8> {
        self.locate(SHIFT_L)
            .or_else(|| self.locate(SHIFT_R))
            .map(|l| l.keycode)
            .or_else(|| self.modifier_keycodes(MOD_SHIFT).first().copied())
    }

    /// Whether Caps Lock swaps the first two levels of `keycode`: its first two keysyms are the
    /// lower and upper case of one letter.
    pub fn is_alphabetic(&self, keycode: u8) -> bool {
        let (lower, upper) = (
            self.keysym(keycode, Level::Base),
            self.keysym(keycode, Level::Shift),
        );
        match (keysym_char(lower), keysym_char(upper)) {
            (Some(l), Some(u)) if l != u => {
                l.is_lowercase() && l.to_uppercase().eq(std::iter::once(u))
            }
            _ => false,
        }
    }
}

/// The character of a Latin-1 or Unicode keysym, if it is one.
pub fn keysym_char(keysym: u32) -> Option<char> {
    match keysym {
        0x20..=0x7e | 0xa0..=0xff => char::from_u32(keysym),
        0x0100_0100..=0x0110_ffff => char::from_u32(keysym & 0x00ff_ffff),
        _ => None,
    }
}

/// The legacy keysym of a Unicode keysym (`0x01000000 | cp`), e.g. `EuroSign` for U+20AC or
/// `Cyrillic_a` for U+0430: layouts carry those, and clients that send Unicode keysyms for every
/// non-Latin-1 character would otherwise miss them.
pub fn legacy_keysym(keysym: u32) -> Option<u32> {
    if !(0x0100_0100..=0x0110_ffff).contains(&keysym) {
        return None;
    }
    let cp = keysym & 0x00ff_ffff;
    let table = super::keysym_table::UNICODE_TO_KEYSYM;
    table
        .binary_search_by_key(&cp, |&(c, _)| c)
        .ok()
        .and_then(|i| table.get(i))
        .map(|&(_, k)| k)
}

/// The keysym of a character: Latin-1 keysyms are the code point, everything else is
/// `0x01000000 | code point`, as X11 and the Selkies clients agree.
pub fn char_keysym(c: char) -> u32 {
    let cp = u32::from(c);
    match cp {
        0x20..=0x7e | 0xa0..=0xff => cp,
        0x0a => 0xff0d, // Return
        0x09 => 0xff09, // Tab
        _ => 0x0100_0000 | cp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A slice of a German XKB map as Xvfb reports it after `setxkbmap de`, 6 keysyms a keycode.
    fn german() -> Keymap {
        let mut syms = vec![0u32; 6 * 100];
        let mut put = |keycode: usize, row: [u32; 6]| {
            let start = (keycode - 8) * 6;
            syms[start..start + 6].copy_from_slice(&row);
        };
        put(11, [0x32, 0x22, 0x32, 0x22, 0xb2, 0]); // 2 " ² (de)
        put(24, [0x71, 0x51, 0x71, 0x51, 0x40, 0]); // q Q @
        put(26, [0x65, 0x45, 0x65, 0x45, 0x20ac, 0]); // e E EuroSign
        put(29, [0x7a, 0x5a, 0x7a, 0x5a, 0, 0]); // z Z (the key US calls y)
        put(47, [0xf6, 0xd6, 0xf6, 0xd6, 0, 0]); // ö Ö
        put(50, [SHIFT_L, 0, SHIFT_L, 0, 0, 0]);
        put(66, [0xffe5, 0, 0xffe5, 0, 0, 0]); // Caps_Lock
        put(92, [ISO_LEVEL3_SHIFT, 0, ISO_LEVEL3_SHIFT, 0, 0, 0]);
        put(94, [0x3c, 0x3e, 0x3c, 0x3e, 0x7c, 0]); // < > |
                                                    // keycodes 8..10 stay empty: spares.
        let mut modmap = vec![0u8; 16];
        modmap[0] = 50; // Shift
        modmap[2] = 66; // Lock
        modmap[14] = 92; // Mod5
        Keymap::new(8, 6, syms, 2, &modmap)
    }

    #[test]
    fn finds_the_lowest_level() {
        let map = german();
        let at = |ks| map.locate(ks);
        assert_eq!(
            at(0x71),
            Some(KeyLocation {
                keycode: 24,
                level: Level::Base
            })
        );
        assert_eq!(at(0x51).map(|l| l.level), Some(Level::Shift));
        assert_eq!(
            at(0x40),
            Some(KeyLocation {
                keycode: 24,
                level: Level::Level3
            })
        );
        assert_eq!(
            at(0x3c).map(|l| (l.keycode, l.level)),
            Some((94, Level::Base))
        );
        assert_eq!(at(0x2603), None);
        assert_eq!(at(0), None);
    }

    #[test]
    fn shift_level_repeats_a_lone_keysym() {
        let map = german();
        assert_eq!(map.keysym(50, Level::Shift), SHIFT_L);
        assert_eq!(map.keysym(7, Level::Base), 0);
        assert_eq!(map.keysym(200, Level::Base), 0);
    }

    #[test]
    fn spare_keycodes_are_the_empty_ones() {
        let map = german();
        let spares = map.spare_keycodes();
        assert!(spares.contains(&8) && spares.contains(&9) && !spares.contains(&24));
    }

    #[test]
    fn assign_makes_a_spare_type_its_keysym() {
        let mut map = german();
        map.assign(8, 0x0100_2603);
        assert_eq!(
            map.locate(0x0100_2603),
            Some(KeyLocation {
                keycode: 8,
                level: Level::Base
            })
        );
        assert!(!map.spare_keycodes().contains(&8));
    }

    #[test]
    fn modifiers_and_case() {
        let map = german();
        assert_eq!(map.shift_keycode(), Some(50));
        assert_eq!(map.modifier_mask_of(ISO_LEVEL3_SHIFT), Some(1 << 7));
        assert!(map.is_alphabetic(24));
        assert!(map.is_alphabetic(47), "ö/Ö is a case pair");
        assert!(!map.is_alphabetic(11));
        assert!(!map.is_alphabetic(94));
    }

    #[test]
    fn keysyms_of_characters() {
        assert_eq!(char_keysym('a'), 0x61);
        assert_eq!(char_keysym('ü'), 0xfc);
        assert_eq!(char_keysym('☃'), 0x0100_2603);
        assert_eq!(char_keysym('\n'), 0xff0d);
        assert_eq!(keysym_char(0x0100_2603), Some('☃'));
        assert_eq!(keysym_char(0xff0d), None);
    }

    #[test]
    fn unicode_keysyms_have_legacy_equivalents() {
        assert_eq!(legacy_keysym(0x0100_20ac), Some(0x20ac));
        assert_eq!(legacy_keysym(0x0100_0430), Some(0x06c1));
        assert_eq!(legacy_keysym(0x0100_2603), None);
        assert_eq!(legacy_keysym(0x20ac), None);
        let table = super::super::keysym_table::UNICODE_TO_KEYSYM;
        assert!(
            table.windows(2).all(|w| w[0].0 < w[1].0),
            "sorted, no duplicates"
        );
    }
}
