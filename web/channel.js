// The `input` data channel's server→client JSON envelope ({type, data}) and the client's
// text replies (pong, _f, _l). Input capture (keyboard/mouse/gamepad) will send on the same channel.

import { codecFromMime } from './codecs.js';

/** Returns {type, data} or null when the text is not a Selkies envelope. */
export function parseChannelMessage(text) {
  if (typeof text !== 'string') return null;
  let msg;
  try {
    msg = JSON.parse(text);
  } catch {
    return null;
  }
  if (!msg || typeof msg !== 'object' || typeof msg.type !== 'string') return null;
  return { type: msg.type, data: msg.data === undefined ? null : msg.data };
}

export function formatPong(startTime) {
  return `pong,${startTime}`;
}

export function formatFps(fps) {
  return `_f,${Math.max(0, Math.round(Number(fps) || 0))}`;
}

export function formatLatency(ms) {
  return `_l,${Math.max(0, Math.round(Number(ms) || 0))}`;
}

/**
 * `system` actions: "reload" → {reload:true}; "name,value" → {key, value}; anything else → {key, value:''}.
 */
export function parseSystemAction(action) {
  const s = String(action ?? '');
  if (s === 'reload') return { reload: true };
  const comma = s.indexOf(',');
  if (comma < 0) return { key: s, value: '' };
  return { key: s.slice(0, comma), value: s.slice(comma + 1) };
}

/**
 * `pipeline` data → {status, encoder, codec}. Selkies sends only a status; selkies-rs adds the
 * encoder implementation ('x264', 'libvpx-vp9', …), the codec and its mime type. Missing fields
 * come back as '' so a caller can tell "not reported" from a value.
 */
export function parsePipeline(data) {
  if (data === null || data === undefined || typeof data !== 'object') {
    return { status: data === null || data === undefined ? '' : String(data), encoder: '', codec: '' };
  }
  const str = (v) => (typeof v === 'string' || typeof v === 'number' ? String(v).trim() : '');
  let codec = str(data.codec).toLowerCase();
  if (!codec && str(data.mime_type)) codec = codecFromMime(data.mime_type);
  return {
    status: data.status !== undefined ? String(data.status) : JSON.stringify(data),
    encoder: str(data.encoder),
    codec,
  };
}

/**
 * Route each envelope to handlers[type](data, channel). Unknown types and malformed messages are
 * dropped so a newer server cannot break an older page; handler exceptions are reported, not thrown.
 */
export function attachChannel(channel, handlers, { debug = false, onerror = () => {} } = {}) {
  channel.addEventListener('message', (event) => {
    if (typeof event.data !== 'string') return;
    const msg = parseChannelMessage(event.data);
    if (!msg) {
      if (debug) console.debug('[channel] not an envelope:', event.data.slice(0, 200));
      return;
    }
    const handler = Object.prototype.hasOwnProperty.call(handlers, msg.type) ? handlers[msg.type] : null;
    if (!handler) {
      if (debug) console.debug('[channel] ignored type', msg.type);
      return;
    }
    try {
      handler(msg.data, channel);
    } catch (err) {
      onerror(err);
    }
  });
}
