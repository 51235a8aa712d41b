// Unit tests for the glass-to-glass recorder: a fake video whose frame callbacks the test fires,
// and a fake canvas that "draws" the frame's stamp pixels.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createGlassBench, MAX_RECORDS } from '../glassbench.js';
import { stampCheck, STAMP_CELLS, CELL_PX, STAMP_WIDTH, STAMP_HEIGHT } from '../stamp.js';

const ORIGIN = 1.7e12;

/** STAMP_WIDTH x STAMP_HEIGHT RGBA showing `counter`, or a grey frame for null. */
function stampPixels(counter) {
  const rgba = new Uint8ClampedArray(STAMP_WIDTH * STAMP_HEIGHT * 4).fill(128);
  if (counter === null) return rgba;
  const bits = [1];
  for (let i = 23; i >= 0; i -= 1) bits.push((counter >> i) & 1);
  for (let i = 3; i >= 0; i -= 1) bits.push((stampCheck(counter) >> i) & 1);
  bits.push(0);
  for (let p = 0; p < STAMP_WIDTH * STAMP_HEIGHT; p += 1) {
    const v = bits[Math.floor((p % STAMP_WIDTH) / CELL_PX)] ? 255 : 0;
    rgba.set([v, v, v, 255], p * 4);
  }
  assert.equal(bits.length, STAMP_CELLS);
  return rgba;
}

/** A video with rVFC whose frames the test presents, and a canvas that copies its stamp. */
function harness({ rvfc = true } = {}) {
  const video = { frame: stampPixels(null), pending: new Map(), nextId: 1, draws: [] };
  if (rvfc) {
    video.requestVideoFrameCallback = (cb) => {
      const id = video.nextId++;
      video.pending.set(id, cb);
      return id;
    };
    video.cancelVideoFrameCallback = (id) => video.pending.delete(id);
  }
  let pixels = new Uint8ClampedArray(STAMP_WIDTH * STAMP_HEIGHT * 4);
  const ctx = {
    options: null,
    throwOnRead: null,
    clearRect() { pixels = new Uint8ClampedArray(pixels.length); },
    drawImage(source, ...rect) {
      video.draws.push(rect);
      pixels = source.frame.slice();
    },
    getImageData(x, y, w, h) {
      if (ctx.throwOnRead) throw new Error(ctx.throwOnRead);
      assert.deepEqual([x, y, w, h], [0, 0, STAMP_WIDTH, STAMP_HEIGHT]);
      return { data: pixels, width: w, height: h };
    },
  };
  const canvases = [];
  const createCanvas = (width, height) => {
    canvases.push({ width, height });
    return { getContext: (kind, options) => { assert.equal(kind, '2d'); ctx.options = options; return ctx; } };
  };
  const bench = createGlassBench(video, { createCanvas, timeOrigin: ORIGIN });
  let presentedFrames = 0;
  /** Shows `counter` as the next frame and runs the callbacks registered before it, as rVFC does. */
  const present = (counter, now = 1000 + presentedFrames * 16) => {
    video.frame = stampPixels(counter);
    presentedFrames += 1;
    const due = [...video.pending.values()];
    video.pending.clear();
    for (const cb of due) {
      cb(now, {
        expectedDisplayTime: now + 8, presentationTime: now - 2, receiveTime: now - 10,
        presentedFrames, width: 1920, height: 1080, mediaTime: 0,
      });
    }
  };
  return { bench, video, ctx, canvases, present };
}

test('idle until started: no frame callback, no canvas', () => {
  const { video, canvases, present, bench } = harness();
  present(5);
  assert.equal(video.pending.size, 0);
  assert.equal(canvases.length, 0);
  assert.deepEqual(bench.take(), { records: [], dropped: 0, errors: 0, lastError: null });
});

test('records each presented frame with its stamp and epoch times', () => {
  const { bench, video, ctx, canvases, present } = harness();
  bench.start();
  bench.start(); // a second start must not double the callbacks
  assert.deepEqual(canvases, [{ width: 480, height: 16 }]);
  assert.deepEqual(ctx.options, { willReadFrequently: true });
  present(0xabcdef, 1000);
  present(null, 1016.5);
  present(7, 1033);
  assert.deepEqual(video.draws[0], [0, 0, 480, 16, 0, 0, 480, 16]);
  const { records, dropped, errors, lastError } = bench.take();
  assert.equal(dropped, 0);
  assert.equal(errors, 0);
  assert.equal(lastError, null);
  assert.deepEqual(records.map((r) => r.stamp), [0xabcdef, null, 7]);
  assert.deepEqual(records[1], {
    stamp: null,
    displayed: ORIGIN + 1024.5,
    presented: ORIGIN + 1014.5,
    callback: ORIGIN + 1016.5,
    received: ORIGIN + 1006.5,
    presentedFrames: 2,
    width: 1920,
    height: 1080,
  });
  assert.deepEqual(bench.take().records, [], 'take() clears');
  present(8);
  assert.deepEqual(bench.take().records.map((r) => r.stamp), [8]);
});

test('receiveTime is optional', () => {
  const { bench, video } = harness();
  bench.start();
  const [cb] = video.pending.values();
  cb(5, { expectedDisplayTime: 6, presentationTime: 4, presentedFrames: 1, width: 640, height: 480 });
  assert.equal(bench.take().records[0].received, null);
});

test('stop() ends the callbacks and keeps the records for take()', () => {
  const { bench, video, present } = harness();
  bench.start();
  present(1);
  bench.stop();
  assert.equal(video.pending.size, 0);
  present(2);
  assert.deepEqual(bench.take().records.map((r) => r.stamp), [1]);
  bench.start();
  present(3);
  assert.deepEqual(bench.take().records.map((r) => r.stamp), [3]);
});

test('a frame that cannot be read counts as an error and recording goes on', () => {
  const { bench, ctx, present } = harness();
  bench.start();
  ctx.throwOnRead = 'The canvas has been tainted by cross-origin data.';
  present(1);
  present(2);
  ctx.throwOnRead = null;
  present(3);
  const taken = bench.take();
  assert.deepEqual(taken.records.map((r) => r.stamp), [null, null, 3]);
  assert.equal(taken.errors, 2);
  assert.equal(taken.lastError, 'The canvas has been tainted by cross-origin data.');
  const again = bench.take();
  assert.equal(again.errors, 0);
  assert.equal(again.lastError, null);
});

test('records beyond the cap are only counted', () => {
  const { bench, video } = harness();
  bench.start();
  const meta = { expectedDisplayTime: 1, presentationTime: 1, presentedFrames: 1, width: 1, height: 1 };
  for (let i = 0; i < MAX_RECORDS + 3; i += 1) {
    const [[id, cb]] = video.pending;
    video.pending.delete(id);
    cb(i, meta);
  }
  const taken = bench.take();
  assert.equal(taken.records.length, MAX_RECORDS);
  assert.equal(taken.dropped, 3);
  assert.equal(bench.take().dropped, 0);
});

test('start() without requestVideoFrameCallback says so', () => {
  const { bench, canvases } = harness({ rvfc: false });
  assert.throws(() => bench.start(), /requestVideoFrameCallback/);
  assert.equal(canvases.length, 0);
});
