// The settings panel (Ctrl+Shift+S or the overlay's ⚙ button) and the data channel verbs it sends:
// `SETTINGS,{"encoder":…}` (Selkies 2.x), `vb,<kbps>` and `_arg_fps,<fps>`. It shows what the
// server reports back rather than what was asked for, so a refused change is visible.

export const ENCODERS = ['auto', 'x264', 'nvenc', 'vaapi', 'software', 'gstreamer'];
export const FRAMERATES = [15, 30, 60, 90, 120, 144, 240];
export const BITRATES_KBPS = [500, 1000, 2000, 3000, 4000, 6000, 8000, 10000, 15000, 20000, 30000, 50000, 75000, 100000];

// What the server accepts; anything else it would ignore, so it is not sent.
const FRAMERATE_RANGE = [1, 240];
const BITRATE_RANGE_KBPS = [100, 1000000];

function intIn(value, [lo, hi]) {
  if (value === null || value === undefined || value === '') return null;
  const n = Math.round(Number(value));
  return Number.isFinite(n) && n >= lo && n <= hi ? n : null;
}

const SETTINGS_KEYS = {
  encoder: (v) => (ENCODERS.includes(String(v)) ? String(v) : null),
  framerate: (v) => intIn(v, FRAMERATE_RANGE),
  video_bitrate: (v) => intIn(v, BITRATE_RANGE_KBPS),
};

/**
 * `SETTINGS,<json>` carrying exactly the given keys (encoder, framerate, video_bitrate); null when
 * any key is unknown or its value invalid, so nothing half-meant reaches the server.
 */
export function settingsMessage(changes) {
  if (!changes || typeof changes !== 'object') return null;
  const out = {};
  for (const [key, value] of Object.entries(changes)) {
    const check = Object.prototype.hasOwnProperty.call(SETTINGS_KEYS, key) ? SETTINGS_KEYS[key] : null;
    const valid = check ? check(value) : null;
    if (valid === null) return null;
    out[key] = valid;
  }
  return Object.keys(out).length > 0 ? `SETTINGS,${JSON.stringify(out)}` : null;
}

export function bitrateMessage(kbps) {
  const n = intIn(kbps, BITRATE_RANGE_KBPS);
  return n === null ? null : `vb,${n}`;
}

export function framerateMessage(fps) {
  const n = intIn(fps, FRAMERATE_RANGE);
  return n === null ? null : `_arg_fps,${n}`;
}

export function formatKbps(kbps) {
  const n = Number(kbps);
  return n >= 1000 ? `${Math.round(n / 100) / 10} Mb/s` : `${n} kb/s`;
}

/**
 * callbacks: onencoder(kind), oncodec(codec), onbitrate(kbps), onframerate(fps), onoverlay(bool),
 * onfocus() when focus enters the panel, onclose(hadFocus) when it is hidden.
 */
export class SettingsPanel {
  constructor(root, { codecs = ['auto'], overlay = true, ...callbacks } = {}) {
    this.root = root;
    this.cb = callbacks;
    root.hidden = true;
    root.textContent = '';
    root.addEventListener('submit', (e) => e.preventDefault());
    // Keys typed here are for the panel, never the remote desktop: the input controller listens on
    // window in the bubble phase, so stopping here keeps them local (the chord itself is caught
    // earlier, in the capture phase, so it still closes the panel).
    for (const type of ['keydown', 'keyup', 'keypress']) {
      root.addEventListener(type, (e) => {
        e.stopPropagation();
        if (e.key !== 'Escape') return;
        // Closed on the release, so neither half of the key reaches the remote desktop.
        e.preventDefault();
        if (type === 'keyup') this.close();
      });
    }
    root.addEventListener('focusin', () => this.call('onfocus'));

    const head = el('div', 'settings-head');
    head.append(el('span', '', 'Settings'));
    const close = el('button', 'settings-close', '×');
    close.type = 'button';
    close.title = 'Close (Ctrl+Shift+S)';
    close.addEventListener('click', () => this.close());
    head.append(close);
    root.append(head);

    this.encoder = this.row('encoder', ENCODERS.map((v) => [v, v]), (v) => this.call('onencoder', v));
    this.codec = this.row('codec', codecs.map((v) => [v, v]), (v) => this.call('oncodec', v));
    this.bitrate = this.row('bitrate', BITRATES_KBPS.map((v) => [String(v), formatKbps(v)]), (v) => this.call('onbitrate', Number(v)));
    this.framerate = this.row('fps', FRAMERATES.map((v) => [String(v), String(v)]), (v) => this.call('onframerate', Number(v)));
    // Until the server reports a value, a select shows a blank rather than a guess.
    for (const s of [this.encoder, this.bitrate, this.framerate]) s.value = '';

    const label = el('label', 'settings-check');
    this.overlay = el('input');
    this.overlay.type = 'checkbox';
    this.overlay.checked = overlay;
    this.overlay.addEventListener('change', () => this.call('onoverlay', this.overlay.checked));
    label.append(this.overlay, ' stats overlay');
    root.append(label);

    this.inUse = el('div', 'settings-inuse', '');
    root.append(this.inUse);
  }

  row(name, choices, onchange) {
    const label = el('label', 'settings-row');
    label.append(el('span', '', name));
    const select = el('select');
    select.name = name;
    for (const [value, text] of choices) select.append(option(value, text));
    select.addEventListener('change', () => { if (select.value !== '') onchange(select.value); });
    label.append(select);
    this.root.append(label);
    return select;
  }

  call(name, ...args) {
    if (typeof this.cb[name] === 'function') this.cb[name](...args);
  }

  get visible() {
    return !this.root.hidden;
  }

  open() {
    this.root.hidden = false;
  }

  close() {
    if (this.root.hidden) return;
    const hadFocus = this.root.contains(document.activeElement);
    this.root.hidden = true;
    this.call('onclose', hadFocus);
  }

  /** Shows or hides; `show` forces a state. Returns whether the panel is now shown. */
  toggle(show = !this.visible) {
    if (show) this.open();
    else this.close();
    return this.visible;
  }

  /** {encoder, codec, bitrate, framerate, overlay, inUse}; absent or empty values leave a select as is. */
  reflect(values) {
    setSelect(this.encoder, values.encoder);
    setSelect(this.codec, values.codec);
    setSelect(this.bitrate, values.bitrate, formatKbps);
    setSelect(this.framerate, values.framerate);
    if (values.overlay !== undefined) this.overlay.checked = Boolean(values.overlay);
    if (values.inUse !== undefined) this.inUse.textContent = values.inUse;
  }
}

function el(tag, className = '', text = '') {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text) e.textContent = text;
  return e;
}

function option(value, text) {
  const o = document.createElement('option');
  o.value = value;
  o.textContent = text;
  return o;
}

/** Selects `value`, adding it as an option first when the server reports one off the list. */
function setSelect(select, value, label = String) {
  if (value === undefined || value === null || value === '') return;
  const v = String(value);
  if (select.value === v) return;
  if (!Array.from(select.options).some((o) => o.value === v)) {
    if (select.name === 'codec') return; // only codecs this browser decodes are choosable
    select.append(option(v, label(v)));
  }
  select.value = v;
}
