// `window.selkies`: the stable surface integration tests and automation read (state, counters,
// stats, pc, channel, send, log). Field names here are a contract; add, never rename.

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
    stats: {},
    server: {},
    pc: null,
    channel: null,
    attempt: 0,
    options: {},
    log: [],
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
  };
  target.selkies = hooks;
  return hooks;
}

export function pushLog(hooks, line) {
  const stamp = new Date().toISOString().slice(11, 23);
  hooks.log.push(`${stamp} ${line}`);
  if (hooks.log.length > LOG_LINES) hooks.log.splice(0, hooks.log.length - LOG_LINES);
}
