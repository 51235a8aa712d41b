// `window.selkies`: the stable surface integration tests and automation read (state, counters,
// stats, pc, channel, send, log). Field names here are a contract; add, never rename.
// Codec and encoder: `codec` is getStats' mime type (what the browser decodes), `videoCodec` the
// codec in use ('h264', …; getStats' when known, else the server's), `server.codec` and
// `server.encoder` what the server's pipeline message reports, `server.encoder_kind` its backend
// choice (auto, x264, …). The set* functions are replaced by app.js once the page is wired.
// `bench.glass`: the glass-to-glass recorder on the page's video (glassbench.js: start, stop,
// take; take() also reports `readPath`, 'webcodecs' or 'canvas'), idle until the bench harness
// starts it.

const LOG_LINES = 100;

export function createHooks(target = globalThis) {
  const hooks = {
    state: 'starting',
    connected: false,
    framesDecoded: 0,
    framesPresented: 0,
    frameWidth: 0,
    frameHeight: 0,
    codec: '',
    videoCodec: '',
    decodableCodecs: [],
    stats: {},
    server: {},
    pc: null,
    channel: null,
    attempt: 0,
    options: {},
    log: [],
    bench: { glass: null },
    send(text) {
      const ch = hooks.channel;
      if (!ch || ch.readyState !== 'open') return false;
      try {
        ch.send(String(text));
        return true;
      } catch {
        return false;
      }
    },
    reconnect() {},
    setEncoder() { return false; },
    setCodec() { return false; },
    setBitrate() { return false; },
    setFramerate() { return false; },
    toggleSettings() { return false; },
  };
  target.selkies = hooks;
  return hooks;
}

export function pushLog(hooks, line) {
  const stamp = new Date().toISOString().slice(11, 23);
  hooks.log.push(`${stamp} ${line}`);
  if (hooks.log.length > LOG_LINES) hooks.log.splice(0, hooks.log.length - LOG_LINES);
}
