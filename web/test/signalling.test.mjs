// Unit tests for the pure signalling helpers (URL, HELLO, message parse/format).
import test from 'node:test';
import assert from 'node:assert/strict';
import { signallingUrl, evenResolution, helloMessage, parseSignal, formatSdp, formatIce } from '../signalling.js';

test('signalling URL follows scheme and path prefix', () => {
  assert.equal(signallingUrl('http://h:8080/'), 'ws://h:8080/ws');
  assert.equal(signallingUrl('https://h/desk/?debug=1#x'), 'wss://h/desk/ws');
  assert.equal(signallingUrl('http://h/desk/index.html'), 'ws://h/desk/ws');
});

test('resolution is device pixels rounded down to even', () => {
  assert.deepEqual(evenResolution(800, 600, 1), { width: 800, height: 600 });
  assert.deepEqual(evenResolution(683, 384, 1), { width: 682, height: 384 });
  assert.deepEqual(evenResolution(1280, 720, 1.5), { width: 1920, height: 1080 });
  assert.deepEqual(evenResolution(0, 0, 0), { width: 2, height: 2 });
});

test('HELLO carries base64 JSON res and scale', () => {
  const msg = helloMessage(1920, 1080, 1.5);
  const [verb, uid, b64] = msg.split(' ');
  assert.equal(verb, 'HELLO');
  assert.equal(uid, '1');
  assert.deepEqual(JSON.parse(atob(b64)), { res: '1920x1080', scale: 1.5 });
});

test('parse HELLO and ERROR', () => {
  assert.deepEqual(parseSignal('HELLO'), { type: 'hello' });
  assert.deepEqual(parseSignal('ERROR peer \'1\' busy'), { type: 'error', reason: "peer '1' busy" });
  assert.deepEqual(parseSignal('ERROR'), { type: 'error', reason: 'unknown error' });
});

test('parse offer', () => {
  const m = parseSignal(JSON.stringify({ sdp: { type: 'offer', sdp: 'v=0\r\n' } }));
  assert.deepEqual(m, { type: 'sdp', sdp: { type: 'offer', sdp: 'v=0\r\n' } });
  assert.equal(parseSignal('{"sdp":{"type":"offer"}}').type, 'unknown');
});

test('parse ICE, including end of candidates', () => {
  const c = 'candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host';
  assert.deepEqual(parseSignal(JSON.stringify({ ice: { candidate: c, sdpMid: '0', sdpMLineIndex: 0 } })),
    { type: 'ice', candidate: { candidate: c, sdpMid: '0', sdpMLineIndex: 0 } });
  // Selkies sends only sdpMLineIndex.
  assert.deepEqual(parseSignal(JSON.stringify({ ice: { candidate: c, sdpMLineIndex: 0 } })),
    { type: 'ice', candidate: { candidate: c, sdpMid: null, sdpMLineIndex: 0 } });
  assert.deepEqual(parseSignal(JSON.stringify({ ice: { candidate: c } })).candidate.sdpMLineIndex, 0);
  assert.deepEqual(parseSignal('{"ice":{"candidate":"","sdpMLineIndex":0}}'), { type: 'ice', candidate: null });
  assert.deepEqual(parseSignal('{"ice":null}'), { type: 'ice', candidate: null });
});

test('unknown and malformed messages are not errors', () => {
  assert.equal(parseSignal('SESSION_OK abc').type, 'unknown');
  assert.equal(parseSignal('{not json').type, 'unknown');
  assert.equal(parseSignal('{"foo":1}').type, 'unknown');
  assert.equal(parseSignal(42).type, 'unknown');
});

test('format answer and candidate', () => {
  assert.deepEqual(JSON.parse(formatSdp({ type: 'answer', sdp: 'v=0' })), { sdp: { type: 'answer', sdp: 'v=0' } });
  const ice = JSON.parse(formatIce({ candidate: 'candidate:x', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'u' }));
  assert.deepEqual(ice, { ice: { candidate: 'candidate:x', sdpMid: '0', sdpMLineIndex: 0 } });
});
