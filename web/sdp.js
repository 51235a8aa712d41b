// SDP munging of the browser's answer. Kept opt-in (?spsppsidr=1): Chromium's defaults already
// decode our stream, and a stricter keyframe rule only helps when every IDR carries SPS/PPS.

/** Payload types whose rtpmap names the given codec (case-insensitive), e.g. 'H264'. */
export function payloadTypesFor(sdp, codec) {
  const pts = [];
  const re = /^a=rtpmap:(\d+) ([^/\s]+)\//gim;
  let m;
  while ((m = re.exec(sdp)) !== null) {
    if (m[2].toLowerCase() === codec.toLowerCase()) pts.push(m[1]);
  }
  return pts;
}

/**
 * Append `param` (`key=value`) to the fmtp line of every H.264 payload type that lacks the key.
 * Payload types without an fmtp line are left alone rather than inventing parameters.
 */
export function addH264FmtpParam(sdp, param) {
  const key = param.split('=')[0].trim().toLowerCase();
  const pts = new Set(payloadTypesFor(sdp, 'H264'));
  if (pts.size === 0) return sdp;
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  return sdp
    .split(eol)
    .map((line) => {
      const m = /^a=fmtp:(\d+) (.*)$/.exec(line);
      if (!m || !pts.has(m[1])) return line;
      const keys = m[2].split(';').map((kv) => kv.split('=')[0].trim().toLowerCase());
      if (keys.includes(key)) return line;
      return `${line};${param}`;
    })
    .join(eol);
}

/** What Selkies' own client does to its answer: require SPS+PPS+IDR for an H.264 keyframe. */
export function mungeAnswer(sdp, { spsPpsIdr = false } = {}) {
  return spsPpsIdr ? addH264FmtpParam(sdp, 'sps-pps-idr-in-keyframe=1') : sdp;
}

/**
 * Codec names (lower case, e.g. 'h264', 'rtx') of the first video m-section, in the order it lists
 * its payload types, i.e. the offerer's preference.
 */
export function videoCodecsInSdp(sdp) {
  const lines = String(sdp ?? '').split(/\r?\n/);
  const start = lines.findIndex((l) => l.startsWith('m=video '));
  if (start < 0) return [];
  const pts = lines[start].trim().split(/\s+/).slice(3);
  const names = new Map();
  for (let i = start + 1; i < lines.length && !lines[i].startsWith('m='); i += 1) {
    const m = /^a=rtpmap:(\d+) ([^/\s]+)/.exec(lines[i]);
    if (m) names.set(m[1], m[2].toLowerCase());
  }
  return pts.filter((pt) => names.has(pt)).map((pt) => names.get(pt));
}
