// Page entry point: options, test hooks, overlay, and the reconnect loop around one Session.

import { parseOptions } from './options.js';
import { createHooks, pushLog } from './hooks.js';
import { Overlay } from './overlay.js';
import { CursorController } from './cursor.js';
import { backoffDelayMs } from './backoff.js';
import { Session } from './session.js';
import { InputController } from './input.js';
import { RemoteResizer } from './resize.js';
import { GamepadPoller } from './gamepad.js';
import { ClipboardSync } from './clipboard.js';

const options = parseOptions(location.search);
const hooks = createHooks(window);
hooks.options = options;

const video = document.getElementById('stream');
const audio = document.getElementById('audio');
const overlay = new Overlay(document.getElementById('overlay'), document.getElementById('status'), options.overlay);
const cursor = new CursorController(video, 256, hooks);
const input = new InputController(video, (text) => hooks.send(text), hooks);
const gamepads = new GamepadPoller((text) => hooks.send(text));
const clipboard = new ClipboardSync((text) => hooks.send(text), {
  onError: (err) => log(`clipboard: ${err && err.message ? err.message : err}`, 'warn'),
});
hooks.clipboard = clipboard;
const resizer = options.resize ? new RemoteResizer((text) => hooks.send(text)) : null;

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

function setState(state) {
  if (hooks.state === state) return;
  hooks.state = state;
  if (state === 'streaming') lastError = '';
  const shown = lastError && state !== 'streaming' ? `${state} — ${lastError}` : state;
  overlay.status(shown, state === 'streaming');
  overlay.render(state, session && session.lastStats, hooks.server);
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
      overlay.render(hooks.state, s.lastStats, hooks.server);
    },
    onstats: (stats) => overlay.render(hooks.state, stats, hooks.server),
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

// Capture phase, so the input controller never forwards this chord to the remote desktop.
window.addEventListener('keydown', (event) => {
  if (event.ctrlKey && event.shiftKey && !event.altKey && event.code === 'KeyS') {
    event.preventDefault();
    event.stopImmediatePropagation();
    overlay.toggle();
    overlay.render(hooks.state, session && session.lastStats, hooks.server);
  }
}, true);

input.attach();
if (resizer) resizer.attach();
// The page's clipboard goes to the desktop when the page gets focus and on paste shortcuts (the
// browser only lets a focused page read it).
window.addEventListener('focus', () => { clipboard.pushLocalClipboard(); });
window.addEventListener('keydown', (event) => {
  if ((event.ctrlKey || event.metaKey) && event.code === 'KeyV') clipboard.pushLocalClipboard();
}, true);
connect();
