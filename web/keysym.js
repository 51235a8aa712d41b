// KeyboardEvent → X11 keysym. The client sends keysyms, not scancodes, so the server's layout
// decides the keycode and non-US layouts, dead keys (the browser composes them) and IME text work.

const NAMED = {
  Backspace: 0xff08, Tab: 0xff09, Enter: 0xff0d, Escape: 0xff1b, Delete: 0xffff,
  Home: 0xff50, ArrowLeft: 0xff51, ArrowUp: 0xff52, ArrowRight: 0xff53, ArrowDown: 0xff54,
  PageUp: 0xff55, PageDown: 0xff56, End: 0xff57, Insert: 0xff63, ContextMenu: 0xff67,
  Pause: 0xff13, ScrollLock: 0xff14, PrintScreen: 0xff61, NumLock: 0xff7f, CapsLock: 0xffe5,
  Clear: 0xff0b, Help: 0xff6a, Cancel: 0xff69, Select: 0xff60, Execute: 0xff62,
  AltGraph: 0xfe03, Compose: 0xff20, Hyper: 0xffed,
  KanaMode: 0xff2d, HiraganaKatakana: 0xff27, Convert: 0xff23, NonConvert: 0xff22,
  HangulMode: 0xff31, HanjaMode: 0xff34, Eisu: 0xff2f, Zenkaku: 0xff28, Hankaku: 0xff29,
  ZenkakuHankaku: 0xff2a, Romaji: 0xff24,
  AudioVolumeMute: 0x1008ff12, AudioVolumeDown: 0x1008ff11, AudioVolumeUp: 0x1008ff13,
  MediaPlayPause: 0x1008ff14, MediaStop: 0x1008ff15, MediaTrackPrevious: 0x1008ff16,
  MediaTrackNext: 0x1008ff17, BrowserBack: 0x1008ff26, BrowserForward: 0x1008ff27,
  BrowserRefresh: 0x1008ff29, BrowserHome: 0x1008ff18,
};

// Modifiers: left or right by `code`.
const SIDED = {
  Shift: [0xffe1, 0xffe2], Control: [0xffe3, 0xffe4], Alt: [0xffe9, 0xffea],
  Meta: [0xffeb, 0xffec], OS: [0xffeb, 0xffec], Super: [0xffeb, 0xffec],
};

// Keypad keys when NumLock gives digits and operators; with it off `key` is already Home etc.
const KEYPAD = {
  NumpadDecimal: 0xffae, NumpadComma: 0xffac, NumpadAdd: 0xffab, NumpadSubtract: 0xffad,
  NumpadMultiply: 0xffaa, NumpadDivide: 0xffaf, NumpadEnter: 0xff8d, NumpadEqual: 0xffbd,
};

/** The keysym of one character: Latin-1 is the code point, anything else 0x01000000 | cp. */
export function charKeysym(ch) {
  const cp = ch.codePointAt(0);
  if (cp === undefined) return null;
  if ((cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xff)) return cp;
  if (cp === 0x0a || cp === 0x0d) return 0xff0d;
  if (cp === 0x09) return 0xff09;
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return null;
  return (0x01000000 | cp) >>> 0;
}

/**
 * The keysym for a keydown/keyup, or null for keys that produce nothing by themselves (dead keys,
 * IME processing, unidentified keys).
 */
export function eventKeysym(event) {
  const { key, code = '' } = event;
  if (typeof key !== 'string' || key === '' || key === 'Dead' || key === 'Process' || key === 'Unidentified') {
    return null;
  }
  if (SIDED[key]) return SIDED[key][code.endsWith('Right') ? 1 : 0];
  if (code === 'NumpadEnter') return KEYPAD.NumpadEnter;
  if (code in KEYPAD && [...key].length === 1 && key !== ' ') return KEYPAD[code];
  if (/^Numpad[0-9]$/.test(code) && /^[0-9]$/.test(key)) return 0xffb0 + Number(code.slice(6));
  if (NAMED[key] !== undefined) return NAMED[key];
  const fn = /^F([1-9]|1[0-9]|2[0-4])$/.exec(key);
  if (fn) return 0xffbe + Number(fn[1]) - 1;
  const chars = [...key];
  if (chars.length === 1) return charKeysym(chars[0]);
  return null;
}
