// Signalling: the Selkies 1.x WebSocket dialogue (HELLO, server offer, trickle ICE, ERROR).
// Pure helpers are exported separately so they can be unit-tested without a browser.

/** WebSocket URL of the signalling endpoint, relative to the page so a path prefix keeps working. */
export function signallingUrl(href) {
  const url = new URL('ws', href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.hash = '';
  url.search = '';
  return url.toString();
}

/** Device-pixel size of the window; encoders need even dimensions, so round down to even. */
export function evenResolution(cssWidth, cssHeight, dpr) {
  const even = (v) => {
    const n = Math.max(2, Math.round(v));
    return n - (n % 2);
  };
  const scale = dpr > 0 ? dpr : 1;
  return { width: even(cssWidth * scale), height: even(cssHeight * scale) };
}

/** `HELLO <uid> <base64 JSON meta>`: Selkies' browser video peer is uid 1. */
export function helloMessage(width, height, dpr, uid = 1) {
  const meta = JSON.stringify({ res: `${width}x${height}`, scale: dpr });
  return `HELLO ${uid} ${btoa(meta)}`;
}

export function formatSdp(desc) {
  return JSON.stringify({ sdp: { type: desc.type, sdp: desc.sdp } });
}

export function formatIce(candidate) {
  return JSON.stringify({
    ice: {
      candidate: candidate.candidate,
      sdpMid: candidate.sdpMid,
      sdpMLineIndex: candidate.sdpMLineIndex,
    },
  });
}

/**
 * Classify one server text frame.
 * Returns {type:'hello'} | {type:'error',reason} | {type:'sdp',sdp:{type,sdp}}
 * | {type:'ice',candidate:RTCIceCandidateInit|null} (null = end of candidates) | {type:'unknown',text}.
 */
export function parseSignal(text) {
  if (typeof text !== 'string') return { type: 'unknown', text: String(text) };
  const trimmed = text.trim();
  if (trimmed === 'HELLO' || trimmed.startsWith('HELLO ')) return { type: 'hello' };
  if (trimmed === 'ERROR' || trimmed.startsWith('ERROR ')) {
    return { type: 'error', reason: trimmed.slice(5).trim() || 'unknown error' };
  }
  if (!trimmed.startsWith('{')) return { type: 'unknown', text };
  let msg;
  try {
    msg = JSON.parse(trimmed);
  } catch {
    return { type: 'unknown', text };
  }
  if (msg && typeof msg === 'object' && 'sdp' in msg) {
    const sdp = msg.sdp;
    if (sdp && typeof sdp.type === 'string' && typeof sdp.sdp === 'string') {
      return { type: 'sdp', sdp: { type: sdp.type, sdp: sdp.sdp } };
    }
    return { type: 'unknown', text };
  }
  if (msg && typeof msg === 'object' && 'ice' in msg) {
    const ice = msg.ice;
    if (!ice || !ice.candidate) return { type: 'ice', candidate: null };
    const hasMid = ice.sdpMid !== undefined && ice.sdpMid !== null;
    const hasIndex = Number.isInteger(ice.sdpMLineIndex);
    return {
      type: 'ice',
      candidate: {
        candidate: String(ice.candidate),
        sdpMid: hasMid ? String(ice.sdpMid) : null,
        // Selkies only sends sdpMLineIndex; with neither, the first (only bundled) m-line is meant.
        sdpMLineIndex: hasIndex ? ice.sdpMLineIndex : hasMid ? null : 0,
      },
    };
  }
  return { type: 'unknown', text };
}

/**
 * One WebSocket signalling session. Callbacks: onopen(), onhello(), onsdp(desc), onice(cand|null),
 * onservererror(reason), onclose(reason). Never reconnects itself: the app owns that policy.
 */
export class Signalling {
  constructor(url, { debug = false } = {}) {
    this.url = url;
    this.debug = debug;
    this.ws = null;
    this.closed = false;
    this.onopen = () => {};
    this.onhello = () => {};
    this.onsdp = () => {};
    this.onice = () => {};
    this.onservererror = () => {};
    this.onclose = () => {};
  }

  connect(helloText) {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => {
      if (this.closed) return;
      this.onopen();
      this.send(helloText);
    };
    ws.onmessage = (event) => {
      if (this.closed) return;
      if (this.debug) console.debug('[signalling] <', abbreviate(event.data));
      const msg = parseSignal(event.data);
      switch (msg.type) {
        case 'hello': this.onhello(); break;
        case 'error': this.onservererror(msg.reason); break;
        case 'sdp': this.onsdp(msg.sdp); break;
        case 'ice': this.onice(msg.candidate); break;
        default: if (this.debug) console.debug('[signalling] ignored', abbreviate(msg.text));
      }
    };
    ws.onerror = () => {
      // A close event always follows; the reason is reported there.
    };
    ws.onclose = (event) => {
      if (this.closed) return;
      this.closed = true;
      this.onclose(`signalling closed (${event.code}${event.reason ? ' ' + event.reason : ''})`);
    };
  }

  send(text) {
    if (!this.ws || this.ws.readyState !== 1) return false;
    if (this.debug) console.debug('[signalling] >', abbreviate(text));
    this.ws.send(text);
    return true;
  }

  sendSdp(desc) { return this.send(formatSdp(desc)); }
  sendIce(candidate) { return this.send(formatIce(candidate)); }

  close() {
    this.closed = true;
    if (this.ws) {
      try { this.ws.close(); } catch { /* already closing */ }
    }
  }
}

function abbreviate(text) {
  const s = String(text);
  return s.length > 300 ? s.slice(0, 300) + `… (${s.length} chars)` : s;
}
