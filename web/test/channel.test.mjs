// Unit tests for the data channel envelope, replies, system actions and cursor CSS.
import test from 'node:test';
import assert from 'node:assert/strict';
import { parseChannelMessage, formatPong, formatFps, formatLatency, parseSystemAction, attachChannel } from '../channel.js';
import { cursorCss } from '../cursor.js';

test('envelope parse', () => {
  assert.deepEqual(parseChannelMessage('{"type":"ping","data":{"start_time":12.5}}'), { type: 'ping', data: { start_time: 12.5 } });
  assert.deepEqual(parseChannelMessage('{"type":"x"}'), { type: 'x', data: null });
  assert.equal(parseChannelMessage('kd,65'), null);
  assert.equal(parseChannelMessage('{"data":1}'), null);
  assert.equal(parseChannelMessage('null'), null);
});

test('replies', () => {
  assert.equal(formatPong(1700000000.123), 'pong,1700000000.123');
  assert.equal(formatFps(59.6), '_f,60');
  assert.equal(formatFps(null), '_f,0');
  assert.equal(formatLatency(12.4), '_l,12');
});

test('system actions', () => {
  assert.deepEqual(parseSystemAction('reload'), { reload: true });
  assert.deepEqual(parseSystemAction('framerate,60'), { key: 'framerate', value: '60' });
  assert.deepEqual(parseSystemAction('resolution,1920x1080'), { key: 'resolution', value: '1920x1080' });
  assert.deepEqual(parseSystemAction('encoder,x264enc'), { key: 'encoder', value: 'x264enc' });
  assert.deepEqual(parseSystemAction(undefined), { key: '', value: '' });
});

test('dispatch ignores unknown types and survives handler errors', () => {
  const listeners = [];
  const channel = { addEventListener: (name, fn) => listeners.push(fn) };
  const seen = [];
  const errors = [];
  attachChannel(channel, {
    ping: (d) => seen.push(['ping', d.start_time]),
    bad: () => { throw new Error('boom'); },
  }, { onerror: (e) => errors.push(e.message) });
  for (const data of ['{"type":"ping","data":{"start_time":1}}', '{"type":"nope","data":{}}', 'garbage', '{"type":"bad"}', '{"type":"toString"}']) {
    listeners[0]({ data });
  }
  assert.deepEqual(seen, [['ping', 1]]);
  assert.deepEqual(errors, ['boom']);
});

test('cursor CSS, cache by handle, override and reset', () => {
  const cache = new Map();
  assert.equal(cursorCss({ curdata: 'QUJD', handle: 7, hotspot: { x: 3, y: 4 }, override: null }, cache),
    'url(data:image/png;base64,QUJD) 3 4, auto');
  assert.equal(cursorCss({ curdata: '', handle: 7, hotspot: { x: 1, y: 2 } }, cache),
    'url(data:image/png;base64,QUJD) 1 2, auto');
  assert.equal(cursorCss({ curdata: 'QUJD', handle: 8 }, cache), 'url(data:image/png;base64,QUJD), auto');
  assert.equal(cursorCss({ handle: 9 }, cache), 'auto');
  assert.equal(cursorCss({ handle: 0, curdata: 'QUJD' }, cache), 'auto');
  assert.equal(cursorCss({ curdata: 'QUJD', handle: 7, override: 'none' }, cache), 'none');
  assert.equal(cursorCss(null, cache), 'auto');
});
