import test from 'node:test';
import assert from 'node:assert/strict';
import { eventKeysym, charKeysym } from '../keysym.js';
import { toStream, wheelClicks, typeVerbs } from '../input.js';
import { remoteSize } from '../resize.js';

test('printable keys are Latin-1 keysyms or Unicode keysyms', () => {
  assert.equal(eventKeysym({ key: 'a', code: 'KeyA' }), 0x61);
  assert.equal(eventKeysym({ key: 'A', code: 'KeyA' }), 0x41);
  assert.equal(eventKeysym({ key: '@', code: 'Digit2' }), 0x40);
  assert.equal(eventKeysym({ key: 'ü', code: 'BracketLeft' }), 0xfc);
  assert.equal(eventKeysym({ key: '€', code: 'KeyE' }), 0x010020ac);
  assert.equal(eventKeysym({ key: '☃', code: '' }), 0x01002603);
  assert.equal(eventKeysym({ key: '😀', code: '' }), 0x0101f600);
  assert.equal(eventKeysym({ key: ' ', code: 'Space' }), 0x20);
});

test('named keys, sides of modifiers, keypad and function keys', () => {
  assert.equal(eventKeysym({ key: 'Enter', code: 'Enter' }), 0xff0d);
  assert.equal(eventKeysym({ key: 'Shift', code: 'ShiftLeft' }), 0xffe1);
  assert.equal(eventKeysym({ key: 'Shift', code: 'ShiftRight' }), 0xffe2);
  assert.equal(eventKeysym({ key: 'Control', code: 'ControlRight' }), 0xffe4);
  assert.equal(eventKeysym({ key: 'AltGraph', code: 'AltRight' }), 0xfe03);
  assert.equal(eventKeysym({ key: 'Meta', code: 'MetaLeft' }), 0xffeb);
  assert.equal(eventKeysym({ key: 'F1', code: 'F1' }), 0xffbe);
  assert.equal(eventKeysym({ key: 'F12', code: 'F12' }), 0xffc9);
  assert.equal(eventKeysym({ key: '7', code: 'Numpad7' }), 0xffb7);
  assert.equal(eventKeysym({ key: 'Home', code: 'Numpad7' }), 0xff50);
  assert.equal(eventKeysym({ key: '+', code: 'NumpadAdd' }), 0xffab);
  assert.equal(eventKeysym({ key: 'Enter', code: 'NumpadEnter' }), 0xff8d);
});

test('keys that produce nothing by themselves give no keysym', () => {
  for (const key of ['Dead', 'Process', 'Unidentified', '', 'SomethingNew']) {
    assert.equal(eventKeysym({ key, code: 'KeyQ' }), null, key);
  }
  assert.equal(charKeysym('\u0007'), null);
  assert.equal(charKeysym('\n'), 0xff0d);
});

test('video coordinates undo object-fit: contain', () => {
  // 1920x1080 in a 960x540 element: half scale, no letterbox.
  assert.deepEqual(toStream(480, 270, 960, 540, 1920, 1080), { x: 960, y: 540 });
  // 1920x1080 in a 1000x1000 element: 1000x562.5 picture, 218.75 px bands above and below.
  assert.deepEqual(toStream(500, 500, 1000, 1000, 1920, 1080), { x: 960, y: 540 });
  assert.deepEqual(toStream(0, 0, 1000, 1000, 1920, 1080), { x: 0, y: 0 });
  assert.deepEqual(toStream(999, 999, 1000, 1000, 1920, 1080), { x: 1918, y: 1079 });
  assert.equal(toStream(10, 10, 100, 100, 0, 0), null);
});

test('wheel deltas become whole clicks with the rest carried', () => {
  assert.deepEqual(wheelClicks(0, 100, 0), { clicks: 1, rest: 0 });
  assert.deepEqual(wheelClicks(0, -250, 0), { clicks: -2, rest: -50 });
  const a = wheelClicks(0, 40, 0);
  assert.equal(a.clicks, 0);
  const b = wheelClicks(a.rest, 70, 0);
  assert.deepEqual(b, { clicks: 1, rest: 10 });
  assert.equal(wheelClicks(0, 3, 1).clicks, 1);
  assert.equal(wheelClicks(0, 1e9, 0).clicks, 64);
});

test('text is typed one code point at a time', () => {
  assert.deepEqual(typeVerbs('a☃'), ['kd,97', 'ku,97', `kd,${0x01002603}`, `ku,${0x01002603}`]);
  assert.deepEqual(typeVerbs('\u0001'), []);
});

test('remote size is the window in device pixels, even', () => {
  assert.deepEqual(remoteSize(1280, 720, 1), { width: 1280, height: 720 });
  assert.deepEqual(remoteSize(801, 601, 1), { width: 800, height: 600 });
  assert.deepEqual(remoteSize(640, 360, 2), { width: 1280, height: 720 });
  assert.deepEqual(remoteSize(0, 0, 1), { width: 2, height: 2 });
  assert.deepEqual(remoteSize(100, 100, 0), { width: 100, height: 100 });
});
