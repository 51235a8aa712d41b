// RTCPeerConnection configuration from the server's `turn` endpoint (ICE/TURN servers, policy).

export function turnUrl(href) {
  const url = new URL('turn', href);
  url.hash = '';
  url.search = '';
  return url.toString();
}

/** Keep only what RTCPeerConnection understands; ?relay=1 overrides the server's policy. */
export function normalizeRtcConfig(json, { relay = false } = {}) {
  const config = { iceServers: [] };
  if (json && Array.isArray(json.iceServers)) {
    config.iceServers = json.iceServers.filter((s) => s && (typeof s.urls === 'string' || Array.isArray(s.urls)));
  }
  if (json && (json.iceTransportPolicy === 'relay' || json.iceTransportPolicy === 'all')) {
    config.iceTransportPolicy = json.iceTransportPolicy;
  }
  if (relay) config.iceTransportPolicy = 'relay';
  return config;
}

/** A failed fetch is not fatal: host candidates still work on a LAN or loopback. */
export async function fetchRtcConfig(href, options = {}, log = () => {}) {
  let json = null;
  try {
    const res = await fetch(turnUrl(href), { cache: 'no-store', credentials: 'same-origin' });
    if (res.ok) json = await res.json();
    else log(`turn: HTTP ${res.status}, using no ICE servers`);
  } catch (err) {
    log(`turn: ${err && err.message ? err.message : err}, using no ICE servers`);
  }
  return normalizeRtcConfig(json, options);
}
