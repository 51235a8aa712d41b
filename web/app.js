// Page entry point: options, test hooks, overlay, and the reconnect loop around one Session.

import { parseOptions, withOption } from './options.js';
import { createHooks, pushLog } from './hooks.js';
import { Overlay } from './overlay.js';
import { CursorController } from './cursor.js';
import { backoffDelayMs } from './backoff.js';
import { Session } from './session.js';
import { InputController } from './input.js';
import { RemoteResizer } from './resize.js';
import { GamepadPoller } from './gamepad.js';
import { ClipboardSync } from './clipboard.js';
import { SettingsPanel, settingsMessage, bitrateMessage, framerateMessage } from './settings.js';
import { CODEC_CHOICES, codecInUse, decodableCodecs } from './codecs.js';
import { createGlassBench } from './glassbench.js';

const options = parseOptions(location.search);
const hooks = createHooks(window);
hooks.options = options;

const video = document.getElementById('stream');
const audio = document.getElementById('audio');
const overlay = new Overlay(document.getElementById('overlay'), document.getElementById('status'), options.overlay,
  document.getElementById('hud'));
const cursor = new CursorController(video, 256, hooks);
const input = new InputController(video, (text) => hooks.send(text), hooks);
const gamepads = new GamepadPoller((text) => hooks.send(text));
const clipboard = new ClipboardSync((text) => hooks.send(text), {
  onError: (err) => log(`clipboard: ${err && err.message ? err.message : err}`, 'warn'),
});
hooks.clipboard = clipboard;
hooks.bench.glass = createGlassBench(video);
const resizer = options.resize ? new RemoteResizer((text) => hooks.send(text)) : null;

hooks.decodableCodecs = decodableCodecs(videoCapabilities());
const settings = new SettingsPanel(document.getElementById('settings'), {
  codecs: ['auto', ...hooks.decodableCodecs],
  overlay: options.overlay,
  onencoder: (kind) => hooks.setEncoder(kind),
  oncodec: (codec) => hooks.setCodec(codec),
  onbitrate: (kbps) => hooks.setBitrate(kbps),
  onframerate: (fps) => hooks.setFramerate(fps),
  onoverlay: (show) => {
    overlay.setVisible(show);
    renderOverlay();
  },
  // Keys held for the remote would otherwise stay down while the panel has the keyboard.
  onfocus: () => input.releaseAll(),
  onclose: (hadFocus) => { if (hadFocus) input.focus(); },
});

let session = null;
let failures = 0;
let reconnectTimer = null;
let lastError = '';

function log(line, level = 'info') {
  pushLog(hooks, level === 'info' ? line : `${level}: ${line}`);
  if (level === 'error') console.error('[selkies]', line);
  else if (level === 'warn') console.warn('[selkies]', line);
  else if (options.debug) console.log('[selkies]', line);
}

function videoCapabilities() {
  try {
    const caps = window.RTCRtpReceiver && RTCRtpReceiver.getCapabilities ? RTCRtpReceiver.getCapabilities('video') : null;
    return caps && Array.isArray(caps.codecs) ? caps.codecs : [];
  } catch {
    return [];
  }
}

function renderOverlay() {
  overlay.render(hooks.state, session && session.lastStats, hooks.server);
}

/** Codec in use, overlay and panel, after the server or getStats told us something new. */
function refresh() {
  hooks.videoCodec = codecInUse(hooks.server.codec, hooks.codec).codec;
  renderOverlay();
  const { server } = hooks;
  settings.reflect({
    encoder: server.encoder_kind,
    codec: options.codec,
    bitrate: server.video_bitrate,
    framerate: server.framerate,
    inUse: server.encoder || hooks.videoCodec ? `in use: ${server.encoder || '–'} · ${hooks.videoCodec || '–'}` : '',
  });
}

function setState(state) {
  if (hooks.state === state) return;
  hooks.state = state;
  if (state === 'streaming') lastError = '';
  const shown = lastError && state !== 'streaming' ? `${state} — ${lastError}` : state;
  overlay.status(shown, state === 'streaming');
  renderOverlay();
  pushLog(hooks, `state: ${state}`);
  console.info('[selkies] state:', state);
}

function connect() {
  reconnectTimer = null;
  const s = new Session({
    options, hooks, video, audio, cursor, clipboard, setState, log,
    onstreaming: () => {
      failures = 0;
      if (resizer) resizer.reset();
      gamepads.start();
    },
    onserver: (key, value) => {
      hooks.server[key] = value;
      refresh();
    },
    onstats: () => refresh(),
    onend: (reason) => onSessionEnd(s, reason),
    reload: () => location.reload(),
  });
  session = s;
  hooks.attempt += 1;
  s.start().catch((err) => s.end(`session start failed: ${err && err.message ? err.message : err}`));
}

function onSessionEnd(s, reason) {
  if (s !== session) return;
  session = null;
  input.releaseAll(); // the server already released them; forget our side too
  gamepads.stop({ detach: false });
  lastError = reason;
  hooks.lastError = reason;
  log(`session ended: ${reason}`, 'warn');
  failures += 1;
  scheduleReconnect(backoffDelayMs(failures));
}

function scheduleReconnect(delayMs) {
  clearTimeout(reconnectTimer);
  const deadline = Date.now() + delayMs;
  const tick = () => {
    const left = Math.ceil((deadline - Date.now()) / 1000);
    if (left <= 0) {
      connect();
      return;
    }
    setState(`reconnecting in ${left}s`);
    reconnectTimer = setTimeout(tick, Math.min(1000, deadline - Date.now() - (left - 1) * 1000));
  };
  tick();
}

/** For tests and the console: drop the current session and connect again at once. */
hooks.reconnect = () => {
  clearTimeout(reconnectTimer);
  reconnectTimer = null;
  failures = 0;
  if (session) {
    const s = session;
    session = null;
    s.end('reconnect requested');
  }
  connect();
};

// Settings for tests, the console and the panel. Each returns whether it was sent (or, for the
// codec, accepted); the server's reply then shows in hooks.server and the panel.
hooks.setEncoder = (kind) => sendVerb(settingsMessage({ encoder: kind }));
hooks.setBitrate = (kbps) => sendVerb(bitrateMessage(kbps));
hooks.setFramerate = (fps) => sendVerb(framerateMessage(fps));
hooks.toggleSettings = (show) => settings.toggle(show);

function sendVerb(verb) {
  if (verb === null) return false;
  log(`settings: ${verb}`);
  return hooks.send(verb);
}

/**
 * The codec is fixed when the connection is negotiated, so a new one means a new peer connection.
 * The choice also goes into the URL, so a reload (or the server's `reload`) keeps it.
 */
hooks.setCodec = (name) => {
  const codec = String(name ?? '').trim().toLowerCase();
  if (!CODEC_CHOICES.includes(codec)) return false;
  if (codec !== 'auto' && !hooks.decodableCodecs.includes(codec)) {
    log(`this browser cannot decode ${codec}`, 'warn');
    return false;
  }
  if (codec === options.codec) return true;
  options.codec = codec;
  try {
    history.replaceState(history.state, '', `${location.pathname}${withOption(location.search, 'codec', codec === 'auto' ? null : codec)}${location.hash}`);
  } catch { /* e.g. a sandboxed frame; the choice still holds until a reload */ }
  log(`codec preference ${codec}; reconnecting`);
  refresh();
  hooks.reconnect();
  return true;
};

// Capture phase, so the input controller never forwards this chord (nor its key's release) to the
// remote desktop; Ctrl and Shift went before the chord was recognisable, as with Ctrl+Shift+F.
let swallowKeyUp = '';
window.addEventListener('keydown', (event) => {
  if (event.ctrlKey && event.shiftKey && !event.altKey && event.code === 'KeyS') {
    event.preventDefault();
    event.stopImmediatePropagation();
    swallowKeyUp = event.code;
    if (!event.repeat) settings.toggle();
  }
}, true);
window.addEventListener('keyup', (event) => {
  if (swallowKeyUp && event.code === swallowKeyUp) {
    swallowKeyUp = '';
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);
const settingsButton = document.getElementById('settings-button');
// The button never takes focus, so the keyboard stays with the remote desktop (and any IME).
settingsButton.addEventListener('mousedown', (event) => event.preventDefault());
settingsButton.addEventListener('click', () => settings.toggle());

refresh();
input.attach();
if (resizer) resizer.attach();
// The page's clipboard goes to the desktop when the page gets focus and on paste shortcuts (the
// browser only lets a focused page read it).
window.addEventListener('focus', () => { clipboard.pushLocalClipboard(); });
window.addEventListener('keydown', (event) => {
  if ((event.ctrlKey || event.metaKey) && event.code === 'KeyV') clipboard.pushLocalClipboard();
}, true);
connect();
