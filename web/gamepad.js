// Browser gamepads → the Selkies `js,*` verbs on the input channel.
//
// Every animation frame the poller reads navigator.getGamepads() and sends what changed since the
// last frame: `js,c` when a pad appears (then its controls that are not at rest), `js,b` / `js,a`
// for each button and axis that moved, `js,d` when it goes away, and `js,h` every second per pad
// so the server can release a pad whose page stopped (closed, hidden, crashed). The server maps
// the W3C "standard" layout onto an Xbox 360 pad; non-standard pads are sent as they are.
//
// Animation frames stop while the tab is hidden, and so do heartbeats; the server then releases
// the pads. When polling resumes after such a gap, every pad is announced again with its state.

/** Slots the server has (`js,c,<0..3>`). */
export const MAX_PADS = 4;
/** Axis values closer to 0 than this are sent as 0 (stick drift). */
export const DEAD_ZONE = 0.05;
/** Interval of `js,h` per pad. */
export const HEARTBEAT_MS = 1000;
/** A pause between polls this long means the server may have released our pads. */
export const RESYNC_AFTER_MS = 2000;

// The parser's limits (src/input/protocol.rs).
const MAX_AXES = 64;
const MAX_BUTTONS = 512;
const MAX_NAME_CHARS = 256;

/** base64 of the UTF-8 bytes of `text` (btoa alone rejects characters beyond Latin-1). */
export function base64Utf8(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** A value as the wire carries it: finite, clamped, 4 decimals, never in exponent notation. */
export function wireValue(v, min, max) {
  const n = Number(v);
  if (!Number.isFinite(n)) return 0;
  const r = Math.round(Math.min(max, Math.max(min, n)) * 10000) / 10000;
  return r === 0 ? 0 : r; // no "-0"
}

/** An axis position after the dead zone. */
export function axisValue(v) {
  const n = wireValue(v, -1, 1);
  return Math.abs(n) < DEAD_ZONE ? 0 : n;
}

/** A button's pressure; a pressed button that reports no value counts as fully pressed. */
export function buttonValue(button) {
  if (button === null || button === undefined) return 0;
  if (typeof button === 'number') return wireValue(button, 0, 1);
  const v = wireValue(button.value, 0, 1);
  return button.pressed && v === 0 ? 1 : v;
}

export class GamepadPoller {
  /**
   * @param {(text: string) => void} send  writes one verb to the input channel
   * @param {object} [env]  injectable for tests: getGamepads, now, requestFrame, cancelFrame
   */
  constructor(send, env = {}) {
    this.send = send;
    this.getGamepads = env.getGamepads ?? (() => (globalThis.navigator?.getGamepads?.() ?? []));
    this.now = env.now ?? (() => performance.now());
    this.requestFrame = env.requestFrame ?? ((cb) => requestAnimationFrame(cb));
    this.cancelFrame = env.cancelFrame ?? ((id) => cancelAnimationFrame(id));
    /** browser gamepad index → {slot, id, axes[], buttons[], beat} */
    this.pads = new Map();
    this.frame = null;
    this.lastPoll = null;
  }

  /** Polls on every animation frame until stop(). */
  start() {
    if (this.frame !== null) return;
    const loop = () => {
      this.frame = this.requestFrame(loop);
      this.poll();
    };
    this.frame = this.requestFrame(loop);
  }

  /** Stops polling; with `detach` (default), tells the server every pad is gone. */
  stop({ detach = true } = {}) {
    if (this.frame !== null) this.cancelFrame(this.frame);
    this.frame = null;
    if (detach) {
      for (const pad of this.pads.values()) this.send(`js,d,${pad.slot}`);
    }
    this.pads.clear();
    this.lastPoll = null;
  }

  /** The slots in use, for a status display: [{slot, id}]. */
  connected() {
    return [...this.pads.values()].map(({ slot, id }) => ({ slot, id }));
  }

  /** One pass: compare every pad with what was last sent, send the differences. */
  poll(now = this.now()) {
    const resync = this.lastPoll !== null && now - this.lastPoll >= RESYNC_AFTER_MS;
    this.lastPoll = now;
    let list;
    try {
      list = Array.from(this.getGamepads() ?? []);
    } catch {
      list = []; // getGamepads throws where a permissions policy forbids gamepads
    }
    const present = new Map();
    for (const gp of list) {
      if (gp && gp.connected !== false && Number.isInteger(gp.index)) present.set(gp.index, gp);
    }
    for (const [index, pad] of this.pads) {
      const gp = present.get(index);
      if (!gp || gp.id !== pad.id) {
        this.send(`js,d,${pad.slot}`);
        this.pads.delete(index);
      }
    }
    for (const [index, gp] of present) {
      let pad = this.pads.get(index);
      if (!pad) {
        const slot = this.freeSlot(index);
        if (slot === null) continue; // more pads than the server has slots
        pad = this.attach(index, gp, slot, now);
      } else if (resync) {
        pad = this.attach(index, gp, pad.slot, now);
      }
      this.sendChanges(pad, gp);
      if (now - pad.beat >= HEARTBEAT_MS) {
        pad.beat = now;
        this.send(`js,h,${pad.slot}`);
      }
    }
  }

  /** The browser's index when it is a free slot, else the lowest free slot. */
  freeSlot(index) {
    const used = new Set([...this.pads.values()].map((p) => p.slot));
    if (index >= 0 && index < MAX_PADS && !used.has(index)) return index;
    for (let s = 0; s < MAX_PADS; s++) if (!used.has(s)) return s;
    return null;
  }

  attach(index, gp, slot, now) {
    const id = String(gp.id ?? '').slice(0, MAX_NAME_CHARS);
    const axes = Math.min(gp.axes?.length ?? 0, MAX_AXES);
    const buttons = Math.min(gp.buttons?.length ?? 0, MAX_BUTTONS);
    this.send(`js,c,${slot},${base64Utf8(id)},${axes},${buttons}`);
    // The server starts every control at rest, so only what differs from rest gets sent.
    const pad = { slot, id: gp.id, axes: new Array(axes).fill(0), buttons: new Array(buttons).fill(0), beat: now };
    this.pads.set(index, pad);
    return pad;
  }

  sendChanges(pad, gp) {
    const buttons = gp.buttons ?? [];
    for (let i = 0; i < pad.buttons.length && i < buttons.length; i++) {
      const v = buttonValue(buttons[i]);
      if (v !== pad.buttons[i]) {
        pad.buttons[i] = v;
        this.send(`js,b,${pad.slot},${i},${v}`);
      }
    }
    const axes = gp.axes ?? [];
    for (let i = 0; i < pad.axes.length && i < axes.length; i++) {
      const v = axisValue(axes[i]);
      if (v !== pad.axes[i]) {
        pad.axes[i] = v;
        this.send(`js,a,${pad.slot},${i},${v}`);
      }
    }
  }
}
