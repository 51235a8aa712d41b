// Unit tests for options, backoff, RTC config normalisation and answer munging.
import test from 'node:test';
import assert from 'node:assert/strict';
import { parseOptions } from '../options.js';
import { backoffDelayMs } from '../backoff.js';
import { normalizeRtcConfig, turnUrl } from '../rtcconfig.js';
import { addH264FmtpParam, mungeAnswer, payloadTypesFor } from '../sdp.js';

test('options', () => {
  assert.deepEqual(parseOptions(''), { debug: false, relay: false, overlay: true, spsPpsIdr: false, resize: false, codec: 'auto' });
  assert.deepEqual(parseOptions('?debug=1&relay=1&overlay=0'), { debug: true, relay: true, overlay: false, spsPpsIdr: false, resize: false, codec: 'auto' });
  assert.equal(parseOptions('?debug').debug, true);
  assert.equal(parseOptions('?overlay=false').overlay, false);
});

test('backoff 1,2,4,8,10,10 s', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 9].map(backoffDelayMs), [0, 1000, 2000, 4000, 8000, 10000, 10000]);
});

test('rtc config', () => {
  assert.equal(turnUrl('http://h/p/?x=1'), 'http://h/p/turn');
  const server = { urls: ['turn:t:3478?transport=udp'], username: '1:u', credential: 'c' };
  assert.deepEqual(normalizeRtcConfig({ iceServers: [server, null, { foo: 1 }], iceTransportPolicy: 'all', lifetimeDuration: '86400s' }),
    { iceServers: [server], iceTransportPolicy: 'all' });
  assert.deepEqual(normalizeRtcConfig(null, { relay: true }), { iceServers: [], iceTransportPolicy: 'relay' });
  assert.deepEqual(normalizeRtcConfig({ iceServers: 'x', iceTransportPolicy: 'bogus' }), { iceServers: [] });
});

const ANSWER = [
  'v=0', 'm=video 9 UDP/TLS/RTP/SAVPF 97 98 96',
  'a=rtpmap:97 H264/90000', 'a=fmtp:97 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  'a=rtpmap:98 h264/90000', 'a=fmtp:98 sps-pps-idr-in-keyframe=1;packetization-mode=0',
  'a=rtpmap:96 VP8/90000', 'a=fmtp:96 x-google-foo=1', '',
].join('\r\n');

test('H.264 fmtp munging is opt-in and idempotent', () => {
  assert.deepEqual(payloadTypesFor(ANSWER, 'H264'), ['97', '98']);
  assert.equal(mungeAnswer(ANSWER), ANSWER);
  const m = mungeAnswer(ANSWER, { spsPpsIdr: true });
  assert.ok(m.includes('a=fmtp:97 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f;sps-pps-idr-in-keyframe=1\r\n'));
  assert.ok(m.includes('a=fmtp:98 sps-pps-idr-in-keyframe=1;packetization-mode=0\r\n'));
  assert.ok(m.includes('a=fmtp:96 x-google-foo=1\r\n'));
  assert.equal(addH264FmtpParam(m, 'sps-pps-idr-in-keyframe=1'), m);
  assert.equal(m.split('\r\n').length, ANSWER.split('\r\n').length);
});
