// Unit tests for getStats() → overlay numbers, including per-second deltas.
import test from 'node:test';
import assert from 'node:assert/strict';
import { computeStats, estimateLatencyMs } from '../stats.js';
import { formatOverlay } from '../overlay.js';

function report(t, over = {}) {
  const inbound = {
    id: 'IT01V1', type: 'inbound-rtp', kind: 'video', timestamp: t, codecId: 'CIT01_97',
    bytesReceived: 0, framesDecoded: 0, packetsReceived: 0, packetsLost: 0, totalDecodeTime: 0,
    jitterBufferDelay: 0, jitterBufferEmittedCount: 0, totalProcessingDelay: 0, frameWidth: 1920,
    frameHeight: 1080, framesPerSecond: 30, decoderImplementation: 'libavcodec', ...over,
  };
  return new Map([
    ['IT01V1', inbound],
    ['IT01A1', { id: 'IT01A1', type: 'inbound-rtp', kind: 'audio', bytesReceived: 10 ** 9 }],
    ['CIT01_97', { id: 'CIT01_97', type: 'codec', mimeType: 'video/H264' }],
    ['T01', { id: 'T01', type: 'transport', selectedCandidatePairId: 'CP1' }],
    ['CP1', { id: 'CP1', type: 'candidate-pair', localCandidateId: 'L1', remoteCandidateId: 'R1', currentRoundTripTime: 0.004 }],
    ['CP2', { id: 'CP2', type: 'candidate-pair', localCandidateId: 'L2', remoteCandidateId: 'R1', currentRoundTripTime: 0.5 }],
    ['L1', { id: 'L1', type: 'local-candidate', candidateType: 'relay', relayProtocol: 'tcp', protocol: 'udp' }],
    ['L2', { id: 'L2', type: 'local-candidate', candidateType: 'host', protocol: 'udp' }],
    ['R1', { id: 'R1', type: 'remote-candidate', candidateType: 'host' }],
  ]);
}

test('first sample uses totals and framesPerSecond', () => {
  const { stats, snapshot } = computeStats(report(1000, {
    framesDecoded: 100, totalDecodeTime: 0.2, jitterBufferDelay: 1.0, jitterBufferEmittedCount: 100,
    totalProcessingDelay: 1.5, bytesReceived: 5000,
  }), null);
  assert.equal(stats.fps, 30);
  assert.equal(stats.bitrateKbps, null);
  assert.equal(stats.codec, 'video/H264');
  assert.equal(stats.connectionType, 'relay');
  assert.equal(stats.protocol, 'tcp');
  assert.equal(stats.rttMs, 4);
  assert.ok(Math.abs(stats.decodeMs - 2) < 1e-9);
  assert.ok(Math.abs(stats.jitterBufferMs - 10) < 1e-9);
  assert.ok(Math.abs(stats.processingMs - 15) < 1e-9);
  assert.ok(Math.abs(stats.latencyMs - 17) < 1e-9);
  assert.equal(stats.frameWidth, 1920);
  assert.equal(snapshot.framesDecoded, 100);
});

test('deltas over the interval', () => {
  const a = computeStats(report(1000, {
    framesDecoded: 100, totalDecodeTime: 0.2, jitterBufferDelay: 1.0, jitterBufferEmittedCount: 100,
    totalProcessingDelay: 1.5, bytesReceived: 5000,
  }), null);
  const b = computeStats(report(2000, {
    framesDecoded: 160, totalDecodeTime: 0.26, jitterBufferDelay: 1.3, jitterBufferEmittedCount: 160,
    totalProcessingDelay: 1.8, bytesReceived: 1005000, packetsLost: 3,
  }), a.snapshot);
  assert.ok(Math.abs(b.stats.fps - 60) < 1e-9);
  assert.ok(Math.abs(b.stats.bitrateKbps - 8000) < 1e-9);
  assert.ok(Math.abs(b.stats.decodeMs - 1) < 1e-9);
  assert.ok(Math.abs(b.stats.jitterBufferMs - 5) < 1e-9);
  assert.ok(Math.abs(b.stats.processingMs - 5) < 1e-9);
  assert.equal(b.stats.packetsLost, 3);
});

test('an idle interval (no new frames) falls back to cumulative averages', () => {
  const a = computeStats(report(1000, { framesDecoded: 10, totalDecodeTime: 0.05, bytesReceived: 100 }), null);
  const b = computeStats(report(2000, { framesDecoded: 10, totalDecodeTime: 0.05, bytesReceived: 100 }), a.snapshot);
  assert.equal(b.stats.fps, 0);
  assert.equal(b.stats.bitrateKbps, 0);
  assert.ok(Math.abs(b.stats.decodeMs - 5) < 1e-9);
});

test('a new stream resets the baseline', () => {
  const a = computeStats(report(1000, { framesDecoded: 500, bytesReceived: 10 ** 7 }), null);
  const b = computeStats(report(2000, { framesDecoded: 5, bytesReceived: 1000 }), a.snapshot);
  assert.equal(b.stats.bitrateKbps, null);
  assert.equal(b.stats.fps, 30);
});

test('no video yet, and pair selection fallbacks', () => {
  const r = new Map([
    ['CP1', { id: 'CP1', type: 'candidate-pair', nominated: true, state: 'succeeded', localCandidateId: 'L1', currentRoundTripTime: 0.01 }],
    ['L1', { id: 'L1', type: 'local-candidate', candidateType: 'srflx', protocol: 'udp' }],
  ]);
  const { stats, snapshot } = computeStats(r, null);
  assert.equal(snapshot, null);
  assert.equal(stats.framesDecoded, 0);
  assert.equal(stats.connectionType, 'srflx');
  assert.equal(stats.rttMs, 10);
  assert.equal(computeStats([], null).stats.connectionType, null);
});

test('latency estimate without processing delay', () => {
  assert.equal(estimateLatencyMs({ rttMs: 10, processingMs: null, jitterBufferMs: 4, decodeMs: 2 }), 11);
  assert.equal(estimateLatencyMs({ rttMs: null, processingMs: null, jitterBufferMs: null, decodeMs: null }), null);
});

test('overlay text has the key figures', () => {
  const { stats } = computeStats(report(1000, { framesDecoded: 10, bytesReceived: 100 }), null);
  const text = formatOverlay('streaming', stats, { framerate: '60' });
  for (const s of ['streaming', '1920x1080', 'H264', 'relay/tcp', 'rtt', 'framerate 60']) assert.ok(text.includes(s), s);
  assert.ok(formatOverlay('connecting', null).startsWith('state   connecting'));
});
