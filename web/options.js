// Page options from the URL query string (?debug=1, ?relay=1, ?overlay=0, ?spsppsidr=1,
// ?resize=1 to resize the remote screen to this window, ?codec=h264|vp9|av1|vp8|auto to ask the
// server for a codec; auto, the default, leaves the choice to the server).

import { normalizeCodec } from './codecs.js';

function flag(params, name, fallback) {
  const v = params.get(name);
  if (v === null) return fallback;
  return !['0', 'false', 'no', 'off'].includes(v.toLowerCase());
}

export function parseOptions(search) {
  const params = new URLSearchParams(search || '');
  return {
    debug: flag(params, 'debug', false),
    relay: flag(params, 'relay', false),
    overlay: flag(params, 'overlay', true),
    spsPpsIdr: flag(params, 'spsppsidr', false),
    resize: flag(params, 'resize', false),
    codec: normalizeCodec(params.get('codec')),
  };
}

/** `search` with `name` set to `value`, or removed when value is null; for history.replaceState. */
export function withOption(search, name, value) {
  const params = new URLSearchParams(search || '');
  if (value === null || value === undefined) params.delete(name);
  else params.set(name, value);
  const s = params.toString();
  return s ? `?${s}` : '';
}
