// Page options from the URL query string (?debug=1, ?relay=1, ?overlay=0, ?spsppsidr=1,
// ?resize=1 to resize the remote screen to this window).

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
  };
}
