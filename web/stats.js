// getStats() report → the numbers the overlay, the test hooks and the _f/_l reports use.
// Pure: the caller keeps the previous snapshot so per-second deltas can be computed.

function statsValues(report) {
  if (!report) return [];
  if (typeof report.values === 'function') return Array.from(report.values());
  if (Array.isArray(report)) return report;
  return Object.values(report);
}

function num(v) {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Ratio of two counter deltas, or of the totals when nothing new arrived in this interval. */
function perUnit(cur, prev, numKey, denKey, scale) {
  const n = num(cur[numKey]);
  const d = num(cur[denKey]);
  if (n === null || d === null) return null;
  if (prev) {
    const dn = n - (prev[numKey] ?? 0);
    const dd = d - (prev[denKey] ?? 0);
    if (dd > 0 && dn >= 0) return (dn / dd) * scale;
  }
  return d > 0 ? (n / d) * scale : null;
}

function pickInboundVideo(values) {
  let best = null;
  for (const s of values) {
    if (s.type !== 'inbound-rtp') continue;
    if ((s.kind || s.mediaType) !== 'video') continue;
    if (!best || (s.bytesReceived || 0) > (best.bytesReceived || 0)) best = s;
  }
  return best;
}

function pickCandidatePair(values, byId) {
  for (const s of values) {
    if (s.type === 'transport' && s.selectedCandidatePairId && byId.has(s.selectedCandidatePairId)) {
      return byId.get(s.selectedCandidatePairId);
    }
  }
  // Firefox marks the pair itself; otherwise fall back to a nominated, working pair.
  let fallback = null;
  for (const s of values) {
    if (s.type !== 'candidate-pair') continue;
    if (s.selected) return s;
    if (s.nominated && s.state === 'succeeded' && !fallback) fallback = s;
  }
  return fallback;
}

const COUNTERS = [
  'bytesReceived', 'framesDecoded', 'framesDropped', 'framesReceived', 'packetsReceived',
  'packetsLost', 'totalDecodeTime', 'jitterBufferDelay', 'jitterBufferEmittedCount',
  'totalProcessingDelay',
];

/**
 * Compute display stats. `prev` is the snapshot returned by the previous call (or null);
 * `nowMs` is used when the report carries no timestamp. Returns {stats, snapshot}.
 */
export function computeStats(report, prev, nowMs = Date.now()) {
  const values = statsValues(report);
  const byId = new Map(values.map((s) => [s.id, s]));
  const inbound = pickInboundVideo(values);
  const pair = pickCandidatePair(values, byId);
  const local = pair ? byId.get(pair.localCandidateId) : null;
  const remote = pair ? byId.get(pair.remoteCandidateId) : null;

  const stats = {
    framesDecoded: 0, framesDropped: null, framesReceived: null, keyFramesDecoded: null,
    fps: null, bitrateKbps: null, bytesReceived: 0, packetsReceived: null, packetsLost: null,
    rttMs: null, decodeMs: null, jitterBufferMs: null, processingMs: null, latencyMs: null,
    frameWidth: null, frameHeight: null, codec: null, decoder: null,
    connectionType: null, remoteCandidateType: null, protocol: null,
    nackCount: null, pliCount: null, firCount: null, freezeCount: null,
  };

  if (pair) {
    const rtt = num(pair.currentRoundTripTime);
    if (rtt !== null) stats.rttMs = rtt * 1000;
  }
  if (local) {
    stats.connectionType = local.candidateType || null;
    stats.protocol = local.relayProtocol || local.protocol || null;
  }
  if (remote) stats.remoteCandidateType = remote.candidateType || null;

  if (!inbound) return { stats, snapshot: null };

  const snapshot = { id: inbound.id, t: num(inbound.timestamp) ?? nowMs };
  for (const k of COUNTERS) snapshot[k] = num(inbound[k]);
  // A new SSRC or counters going backwards means a new stream: deltas against it are meaningless.
  const base = prev && prev.id === snapshot.id
    && (snapshot.framesDecoded ?? 0) >= (prev.framesDecoded ?? 0)
    && (snapshot.bytesReceived ?? 0) >= (prev.bytesReceived ?? 0) ? prev : null;
  const dt = base ? (snapshot.t - base.t) / 1000 : 0;

  stats.framesDecoded = snapshot.framesDecoded ?? 0;
  stats.framesDropped = snapshot.framesDropped;
  stats.framesReceived = snapshot.framesReceived;
  stats.keyFramesDecoded = num(inbound.keyFramesDecoded);
  stats.bytesReceived = snapshot.bytesReceived ?? 0;
  stats.packetsReceived = snapshot.packetsReceived;
  stats.packetsLost = snapshot.packetsLost;
  stats.frameWidth = num(inbound.frameWidth);
  stats.frameHeight = num(inbound.frameHeight);
  stats.decoder = inbound.decoderImplementation || null;
  stats.nackCount = num(inbound.nackCount);
  stats.pliCount = num(inbound.pliCount);
  stats.firCount = num(inbound.firCount);
  stats.freezeCount = num(inbound.freezeCount);
  const codec = inbound.codecId ? byId.get(inbound.codecId) : null;
  stats.codec = codec && codec.mimeType ? codec.mimeType : null;

  if (base && dt > 0) {
    stats.fps = ((snapshot.framesDecoded ?? 0) - (base.framesDecoded ?? 0)) / dt;
    stats.bitrateKbps = (((snapshot.bytesReceived ?? 0) - (base.bytesReceived ?? 0)) * 8) / dt / 1000;
  } else {
    stats.fps = num(inbound.framesPerSecond);
  }
  stats.decodeMs = perUnit(snapshot, base, 'totalDecodeTime', 'framesDecoded', 1000);
  stats.jitterBufferMs = perUnit(snapshot, base, 'jitterBufferDelay', 'jitterBufferEmittedCount', 1000);
  stats.processingMs = perUnit(snapshot, base, 'totalProcessingDelay', 'framesDecoded', 1000);
  stats.latencyMs = estimateLatencyMs(stats);
  return { stats, snapshot };
}

/**
 * Glass-to-glass is not observable from the browser; report the receiver's share: half the RTT
 * (one-way network) plus packet-arrival→decoded time (processing delay, which already contains
 * the jitter buffer), or jitter buffer + decode where processing delay is not reported.
 */
export function estimateLatencyMs(s) {
  const network = s.rttMs !== null ? s.rttMs / 2 : 0;
  let receiver = s.processingMs;
  if (receiver === null) {
    if (s.jitterBufferMs === null && s.decodeMs === null) return s.rttMs !== null ? network : null;
    receiver = (s.jitterBufferMs ?? 0) + (s.decodeMs ?? 0);
  }
  return network + receiver;
}
