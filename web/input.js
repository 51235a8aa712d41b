// Keyboard, mouse, wheel, touch and IME text from the page to the server's `input` data channel,
// in the Selkies verbs (kd/ku/kr/kh, m/m2, p). Coordinates are stream pixels: the video is shown
// with `object-fit: contain`, so the letterbox and the scale are undone here.

import { eventKeysym, charKeysym } from './keysym.js';

export const MASK = { LEFT: 1, MIDDLE: 2, RIGHT: 4, WHEEL_UP: 8, WHEEL_DOWN: 16, SCROLL_LEFT: 64, SCROLL_RIGHT: 128 };
const BUTTON_BITS = [MASK.LEFT, MASK.MIDDLE, MASK.RIGHT];
// Browser buttons 3 and 4 (Back, Forward) go as a wheel bit with magnitude 0 (Selkies 2.x).
const BACK_FORWARD = { 3: MASK.WHEEL_UP, 4: MASK.WHEEL_DOWN };
export const HEARTBEAT_MS = 100;
// Chromium and Firefox report about 100 px per wheel notch; trackpads send less, so accumulate.
export const WHEEL_PIXELS_PER_CLICK = 100;
const WHEEL_LINES_PER_CLICK = 3;
const MAX_CLICKS = 64;

/**
 * Stream pixel under a point of the video element, for `object-fit: contain`; null when the
 * video has no size yet. Points in the letterbox clamp to the nearest edge.
 */
export function toStream(offsetX, offsetY, elemW, elemH, videoW, videoH) {
  if (!(videoW > 0 && videoH > 0 && elemW > 0 && elemH > 0)) return null;
  const scale = Math.min(elemW / videoW, elemH / videoH);
  const left = (elemW - videoW * scale) / 2;
  const top = (elemH - videoH * scale) / 2;
  const clamp = (v, max) => Math.min(Math.max(v, 0), max - 1);
  return {
    x: clamp(Math.floor((offsetX - left) / scale), videoW),
    y: clamp(Math.floor((offsetY - top) / scale), videoH),
  };
}

/** Whole wheel clicks in `acc + delta` (delta in the WheelEvent's deltaMode), and the remainder. */
export function wheelClicks(acc, delta, deltaMode) {
  let units = delta;
  if (deltaMode === 1) units = (delta / WHEEL_LINES_PER_CLICK) * WHEEL_PIXELS_PER_CLICK;
  else if (deltaMode === 2) units = delta * WHEEL_PIXELS_PER_CLICK * 3;
  const total = acc + units;
  const clicks = Math.trunc(total / WHEEL_PIXELS_PER_CLICK);
  return { clicks: Math.max(-MAX_CLICKS, Math.min(MAX_CLICKS, clicks)), rest: total - clicks * WHEEL_PIXELS_PER_CLICK };
}

/** Verbs typing `text` one code point at a time (IME commits, pasted input events). */
export function typeVerbs(text) {
  const out = [];
  for (const ch of text) {
    const ks = charKeysym(ch);
    if (ks !== null) out.push(`kd,${ks}`, `ku,${ks}`);
  }
  return out;
}

export class InputController {
  /**
   * @param {HTMLVideoElement} video the stream element; mouse coordinates are relative to it
   * @param {(text: string) => boolean} send puts one verb on the data channel
   * @param {object} hooks `window.selkies`, where counters for tests live
   */
  constructor(video, send, hooks = {}) {
    this.video = video;
    this.send = send;
    this.hooks = hooks;
    this.pressed = new Map(); // KeyboardEvent.code → keysym sent with kd
    this.buttons = 0;
    this.wheelAcc = { x: 0, y: 0 };
    this.last = { x: 0, y: 0 };
    this.listeners = [];
    this.heartbeat = null;
    this.ime = null;
    hooks.input = { sent: 0, last: '', pointerLocked: false };
  }

  emit(verb) {
    if (this.send(verb)) {
      this.hooks.input.sent += 1;
      this.hooks.input.last = verb;
    }
  }

  on(target, type, fn, opts) {
    target.addEventListener(type, fn, opts);
    this.listeners.push(() => target.removeEventListener(type, fn, opts));
  }

  attach() {
    const v = this.video;
    this.ime = document.createElement('textarea');
    this.ime.id = 'ime';
    this.ime.setAttribute('aria-hidden', 'true');
    this.ime.autocomplete = 'off';
    this.ime.spellcheck = false;
    document.body.appendChild(this.ime);

    this.on(window, 'keydown', (e) => this.keydown(e));
    this.on(window, 'keyup', (e) => this.keyup(e));
    this.on(window, 'blur', () => this.releaseAll());
    this.on(document, 'visibilitychange', () => { if (document.hidden) this.releaseAll(); });
    this.on(this.ime, 'compositionend', (e) => this.typeText(e.data || ''));
    this.on(this.ime, 'input', (e) => {
      if (!e.isComposing && e.inputType === 'insertText' && e.data) this.typeText(e.data);
      if (!e.isComposing) this.ime.value = '';
    });

    this.on(v, 'mousemove', (e) => this.mouse(e));
    this.on(v, 'mousedown', (e) => { this.focus(); this.mouse(e); });
    this.on(v, 'mouseup', (e) => this.mouse(e));
    this.on(v, 'contextmenu', (e) => e.preventDefault());
    this.on(v, 'wheel', (e) => this.wheel(e), { passive: false });
    this.on(v, 'touchstart', (e) => this.touch(e, true), { passive: false });
    this.on(v, 'touchmove', (e) => this.touch(e, true), { passive: false });
    this.on(v, 'touchend', (e) => this.touch(e, false), { passive: false });
    this.on(document, 'pointerlockchange', () => this.lockChanged());
    this.on(document, 'fullscreenchange', () => this.fullscreenChanged());
    this.heartbeat = setInterval(() => {
      if (this.pressed.size > 0) this.emit(`kh,${[...new Set(this.pressed.values())].join(',')}`);
    }, HEARTBEAT_MS);
    this.focus();
  }

  detach() {
    this.releaseAll();
    clearInterval(this.heartbeat);
    for (const off of this.listeners.splice(0)) off();
    if (this.ime) this.ime.remove();
  }

  /** Keeps keyboard focus on the IME sink so compositions have somewhere to happen. */
  focus() {
    if (this.ime && document.activeElement !== this.ime) this.ime.focus({ preventScroll: true });
  }

  keydown(e) {
    if (e.ctrlKey && e.shiftKey && !e.altKey && e.code === 'KeyF') {
      e.preventDefault();
      this.toggleFullscreen();
      return;
    }
    const ks = eventKeysym(e);
    if (ks === null) return; // dead key or IME: the composition's result arrives as text
    e.preventDefault();
    if (e.repeat && this.pressed.has(e.code)) return; // the X server repeats held keys itself
    const previous = this.pressed.get(e.code);
    if (previous !== undefined && previous !== ks) this.emit(`ku,${previous}`);
    this.pressed.set(e.code, ks);
    this.emit(`kd,${ks}`);
  }

  keyup(e) {
    const ks = this.pressed.has(e.code) ? this.pressed.get(e.code) : eventKeysym(e);
    if (ks === null || ks === undefined) return;
    e.preventDefault();
    this.pressed.delete(e.code);
    this.emit(`ku,${ks}`);
  }

  typeText(text) {
    for (const verb of typeVerbs(text)) this.emit(verb);
    if (this.ime) this.ime.value = '';
  }

  /** Lets go of every key and button (focus lost, page hidden, session over). */
  releaseAll() {
    if (this.pressed.size > 0) this.emit('kr');
    this.pressed.clear();
    if (this.buttons !== 0) {
      this.buttons = 0;
      this.emit(`m,${this.last.x},${this.last.y},0,0`);
    }
  }

  locked() {
    return document.pointerLockElement === this.video;
  }

  mouse(e) {
    if (e.type === 'mousedown' || e.type === 'mouseup') {
      const down = e.type === 'mousedown';
      if (BACK_FORWARD[e.button] !== undefined) {
        if (down) this.pointer(e, BACK_FORWARD[e.button], 0);
        e.preventDefault();
        return;
      }
      const bit = BUTTON_BITS[e.button];
      if (bit === undefined) return;
      this.buttons = down ? this.buttons | bit : this.buttons & ~bit;
      e.preventDefault();
      if (down && document.fullscreenElement && !this.locked() && this.video.requestPointerLock) {
        Promise.resolve(this.video.requestPointerLock({ unadjustedMovement: true }))
          .catch(() => this.video.requestPointerLock());
      }
    }
    this.pointer(e, 0, 0);
  }

  /** One m/m2 report: the held buttons plus `extra` wheel bits clicked `clicks` times. */
  pointer(e, extra, clicks) {
    const mask = this.buttons | extra;
    if (this.locked()) {
      this.emit(`m2,${Math.round(e.movementX || 0)},${Math.round(e.movementY || 0)},${mask},${clicks}`);
      return;
    }
    const v = this.video;
    const p = toStream(e.offsetX, e.offsetY, v.clientWidth, v.clientHeight, v.videoWidth, v.videoHeight);
    if (!p) return;
    this.last = p;
    this.emit(`m,${p.x},${p.y},${mask},${clicks}`);
  }

  wheel(e) {
    e.preventDefault();
    const y = wheelClicks(this.wheelAcc.y, e.deltaY, e.deltaMode);
    const x = wheelClicks(this.wheelAcc.x, e.deltaX, e.deltaMode);
    this.wheelAcc = { x: x.rest, y: y.rest };
    if (y.clicks !== 0) this.pointer(e, y.clicks < 0 ? MASK.WHEEL_UP : MASK.WHEEL_DOWN, Math.abs(y.clicks));
    if (x.clicks !== 0) this.pointer(e, x.clicks < 0 ? MASK.SCROLL_LEFT : MASK.SCROLL_RIGHT, Math.abs(x.clicks));
  }

  touch(e, down) {
    const t = e.changedTouches && e.changedTouches[0];
    if (!t) return;
    e.preventDefault();
    const r = this.video.getBoundingClientRect();
    this.buttons = down ? this.buttons | MASK.LEFT : this.buttons & ~MASK.LEFT;
    this.pointer({ offsetX: t.clientX - r.left, offsetY: t.clientY - r.top }, 0, 0);
  }

  lockChanged() {
    const on = this.locked();
    this.hooks.input.pointerLocked = on;
    // Under pointer lock the local cursor is hidden, so the server draws its pointer in the video.
    this.emit(`p,${on ? 1 : 0}`);
  }

  async toggleFullscreen() {
    if (document.fullscreenElement) {
      await document.exitFullscreen().catch(() => {});
    } else {
      await document.documentElement.requestFullscreen().catch(() => {});
    }
  }

  fullscreenChanged() {
    // Keyboard Lock keeps Escape, Alt+Tab and the like for the remote desktop while fullscreen.
    const kb = navigator.keyboard;
    if (!kb || !kb.lock) return;
    if (document.fullscreenElement) kb.lock().catch(() => {});
    else kb.unlock();
  }
}
