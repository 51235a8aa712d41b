// Unit tests for the settings verbs: SETTINGS JSON, vb and _arg_fps.
import test from 'node:test';
import assert from 'node:assert/strict';
import { settingsMessage, bitrateMessage, framerateMessage, formatKbps, ENCODERS, FRAMERATES, BITRATES_KBPS } from '../settings.js';

function payload(msg) {
  assert.ok(msg.startsWith('SETTINGS,'), msg);
  return JSON.parse(msg.slice('SETTINGS,'.length));
}

test('SETTINGS carries only the changed key, as valid JSON', () => {
  for (const kind of ENCODERS) {
    const msg = settingsMessage({ encoder: kind });
    assert.deepEqual(payload(msg), { encoder: kind });
    assert.equal(msg, `SETTINGS,{"encoder":"${kind}"}`);
  }
  assert.deepEqual(payload(settingsMessage({ framerate: '60' })), { framerate: 60 });
  assert.deepEqual(payload(settingsMessage({ video_bitrate: 8000.4 })), { video_bitrate: 8000 });
  assert.deepEqual(payload(settingsMessage({ encoder: 'x264', framerate: 30 })), { encoder: 'x264', framerate: 30 });
});

test('SETTINGS refuses anything the server would not take', () => {
  for (const bad of [
    { encoder: 'hevc' }, { encoder: 'X264' }, { encoder: '"},{"x":"' }, { framerate: 0 }, { framerate: 241 },
    { framerate: 'abc' }, { video_bitrate: 99 }, { video_bitrate: 1000001 }, { video_bitrate: '' },
    { resolution: '1920x1080' }, { encoder: 'x264', bogus: 1 }, {}, null, 'encoder',
  ]) {
    assert.equal(settingsMessage(bad), null, JSON.stringify(bad));
  }
});

test('vb and _arg_fps', () => {
  assert.equal(bitrateMessage(8000), 'vb,8000');
  assert.equal(bitrateMessage('500'), 'vb,500');
  assert.equal(bitrateMessage(100), 'vb,100');
  assert.equal(bitrateMessage(1000000), 'vb,1000000');
  assert.equal(bitrateMessage(50), null);
  assert.equal(bitrateMessage(null), null);
  assert.equal(bitrateMessage(NaN), null);
  assert.equal(framerateMessage(60), '_arg_fps,60');
  assert.equal(framerateMessage(240), '_arg_fps,240');
  assert.equal(framerateMessage(0), null);
  assert.equal(framerateMessage(300), null);
});

test('panel choices', () => {
  assert.deepEqual(FRAMERATES, [15, 30, 60, 90, 120, 144, 240]);
  assert.equal(BITRATES_KBPS[0], 500);
  assert.equal(BITRATES_KBPS[BITRATES_KBPS.length - 1], 100000);
  for (const kbps of BITRATES_KBPS) assert.equal(bitrateMessage(kbps), `vb,${kbps}`);
  assert.equal(formatKbps(500), '500 kb/s');
  assert.equal(formatKbps(2500), '2.5 Mb/s');
  assert.equal(formatKbps(100000), '100 Mb/s');
});
