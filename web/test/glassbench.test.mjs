// Unit tests for the glass-to-glass recorder: a fake video whose frame callbacks the test fires,
// a fake canvas that "draws" the frame's stamp pixels, and fake VideoFrames whose copyTo writes
// them as a Y (or RGB) plane and resolves when the test says.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createGlassBench, MAX_RECORDS, MAX_IN_FLIGHT } from '../glassbench.js';
import { stampCheck, STAMP_CELLS, CELL_PX, STAMP_WIDTH, STAMP_HEIGHT } from '../stamp.js';

const ORIGIN = 1.7e12;

/** The record both read paths must make of the second frame the tests present: no stamp (grey),
 * presented at 1016.5 ms, with the fake callback's fixed offsets turned into epoch times. */
const GREY_AT_1016_5 = {
  stamp: null,
  displayed: ORIGIN + 1024.5,
  presented: ORIGIN + 1014.5,
  callback: ORIGIN + 1016.5,
  received: ORIGIN + 1006.5,
  presentedFrames: 2,
  width: 1920,
  height: 1080,
};

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
function harness({ rvfc = true, createVideoFrame } = {}) {
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
  const bench = createGlassBench(video, { createCanvas, createVideoFrame, timeOrigin: ORIGIN });
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
  assert.deepEqual(bench.take(), {
    records: [], dropped: 0, errors: 0, lastError: null,
    readPath: 'canvas', readPathReason: 'this browser has no WebCodecs VideoFrame',
  });
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
  assert.deepEqual(records[1], GREY_AT_1016_5);
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

// --- The WebCodecs read path ---

const settle = () => new Promise((resolve) => setImmediate(resolve));

const LUMA_FORMATS = new Set(['I420', 'I420A', 'I422', 'I444', 'NV12']);

/**
 * `createVideoFrame` for harness(): each frame holds the stamp pixels the video shows when it is
 * made. Its copyTo writes them into the buffer as `format` at `offset` with rows `stride` bytes
 * apart (YUV as limited-range luma, 16..235), and `mode` says how: 'resolve' at once, 'defer'
 * until the test calls `copies[i].resolve()` or `.reject()`, 'reject', or 'throw' synchronously.
 */
function fakeFrames({ format = 'I420', stride, offset = 0, mode = 'resolve', visibleRect = { x: 0, y: 0, width: 1920, height: 1080 } } = {}) {
  const frames = [];
  const copies = [];
  const luma = LUMA_FORMATS.has(format);
  const rowBytes = stride ?? (luma ? STAMP_WIDTH : STAMP_WIDTH * 4);
  const createVideoFrame = (video) => {
    const pixels = video.frame;
    const frame = {
      format,
      visibleRect,
      closed: false,
      sizes: [],
      allocationSize({ rect }) {
        assert.ok(!frame.closed, 'allocationSize on a closed frame');
        frame.sizes.push(rect);
        // The luma (or RGB) plane, then room for chroma the recorder must not read.
        return offset + rowBytes * STAMP_HEIGHT + (luma ? STAMP_WIDTH * STAMP_HEIGHT : 0);
      },
      copyTo(buffer, { rect }) {
        assert.ok(!frame.closed, 'copyTo on a closed frame');
        if (mode === 'throw') throw new TypeError('destination is not large enough.');
        const write = () => {
          const out = new Uint8Array(buffer);
          out.fill(128); // chroma and padding: mid grey
          for (let y = 0; y < STAMP_HEIGHT; y += 1) {
            for (let x = 0; x < STAMP_WIDTH; x += 1) {
              const v = pixels[(y * STAMP_WIDTH + x) * 4];
              if (luma) out[offset + y * rowBytes + x] = Math.round(16 + (v * 219) / 255);
              else out.set([v, v, v, 255], offset + y * rowBytes + x * 4);
            }
          }
          return [{ offset, stride: rowBytes }, { offset: offset + rowBytes * STAMP_HEIGHT, stride: STAMP_WIDTH / 2 }];
        };
        const copy = { frame, buffer, rect };
        copies.push(copy);
        if (mode === 'reject') return Promise.reject(new Error('readback failed'));
        if (mode === 'defer') {
          return new Promise((resolve, reject) => {
            copy.resolve = () => resolve(write());
            copy.reject = (why) => reject(new Error(why));
          });
        }
        return Promise.resolve(write());
      },
      close() { frame.closed = true; },
    };
    frames.push(frame);
    return frame;
  };
  return { createVideoFrame, frames, copies };
}

test('webcodecs: the stamp is read from the Y plane of the stamp rectangle, with no canvas', async () => {
  // A padded layout, as a browser may return: copyTo's layout is what the recorder must follow.
  const fake = fakeFrames({ format: 'I420', stride: 512, offset: 64 });
  const { bench, canvases, present } = harness({ createVideoFrame: fake.createVideoFrame });
  bench.start();
  assert.equal(canvases.length, 0, 'no canvas unless the canvas path is needed');
  // Separate tasks, as frame callbacks are: each copy resolves before the next frame.
  present(0xabcdef, 1000);
  await settle();
  present(null, 1016.5);
  await settle();
  present(7, 1033);
  await settle();
  const taken = bench.take();
  assert.deepEqual(taken.records.map((r) => r.stamp), [0xabcdef, null, 7]);
  assert.deepEqual(taken.records[1], GREY_AT_1016_5);
  assert.equal(taken.readPath, 'webcodecs');
  assert.equal(taken.readPathReason, null);
  assert.equal(taken.errors, 0);
  const rect = { x: 0, y: 0, width: 480, height: 16 };
  for (const copy of fake.copies) assert.deepEqual(copy.rect, rect);
  for (const frame of fake.frames) assert.deepEqual(frame.sizes, [rect]);
  assert.ok(fake.frames.every((f) => f.closed), 'every frame closed');
  assert.equal(new Set(fake.copies.map((c) => c.buffer)).size, 1, 'one buffer, reused');
  assert.equal(canvases.length, 0);
});

test('webcodecs: every 8-bit YUV format is read as luma, RGB formats as RGB', async () => {
  for (const format of ['I420', 'I420A', 'I422', 'I444', 'NV12', 'RGBA', 'RGBX', 'BGRA', 'BGRX']) {
    const fake = fakeFrames({ format });
    const { bench, present } = harness({ createVideoFrame: fake.createVideoFrame });
    bench.start();
    present(0x123456);
    await settle();
    const taken = bench.take();
    assert.deepEqual(taken.records.map((r) => r.stamp), [0x123456], format);
    assert.equal(taken.readPath, 'webcodecs', format);
  }
});

test('webcodecs: the copy starts at the visible rect; a frame smaller than the stamp is not copied', async () => {
  const shifted = fakeFrames({ visibleRect: { x: 8, y: 2, width: 1920, height: 1080 } });
  const a = harness({ createVideoFrame: shifted.createVideoFrame });
  a.bench.start();
  a.present(5);
  await settle();
  assert.deepEqual(shifted.copies[0].rect, { x: 8, y: 2, width: 480, height: 16 });

  const small = fakeFrames({ visibleRect: { x: 0, y: 0, width: 320, height: 240 } });
  const b = harness({ createVideoFrame: small.createVideoFrame });
  b.bench.start();
  b.present(5);
  await settle();
  const taken = b.bench.take();
  assert.deepEqual(taken.records.map((r) => r.stamp), [null]);
  assert.equal(taken.errors, 0);
  assert.equal(taken.readPath, 'webcodecs');
  assert.equal(small.copies.length, 0);
  assert.ok(small.frames[0].closed);
});

test('webcodecs: records keep callback order and times when copies resolve out of order', async () => {
  const fake = fakeFrames({ mode: 'defer' });
  const { bench, present } = harness({ createVideoFrame: fake.createVideoFrame });
  bench.start();
  present(1, 1000);
  present(2, 1016);
  present(3, 1032);
  assert.equal(new Set(fake.copies.map((c) => c.buffer)).size, 3, 'copies in flight do not share a buffer');
  assert.deepEqual(bench.take().records, [], 'nothing read yet');
  fake.copies[2].resolve();
  fake.copies[0].resolve();
  await settle();
  let taken = bench.take();
  assert.deepEqual(taken.records.map((r) => [r.stamp, r.callback]), [[1, ORIGIN + 1000]], 'frame 3 waits behind frame 2');
  present(4, 1048);
  fake.copies[1].resolve();
  await settle();
  taken = bench.take();
  assert.deepEqual(taken.records.map((r) => [r.stamp, r.callback, r.presentedFrames]), [[2, ORIGIN + 1016, 2], [3, ORIGIN + 1032, 3]]);
  fake.copies[3].resolve();
  await settle();
  assert.deepEqual(bench.take().records.map((r) => r.stamp), [4]);
  assert.ok(fake.frames.every((f) => f.closed));
  // Buffers come back to the pool once read, and two copies in flight never get the same one.
  present(5, 1064);
  present(6, 1080);
  const [five, six] = fake.copies.slice(4);
  assert.ok(fake.copies.slice(0, 4).some((c) => c.buffer === five.buffer), 'reused');
  assert.notEqual(five.buffer, six.buffer);
  five.resolve();
  six.resolve();
  await settle();
  assert.deepEqual(bench.take().records.map((r) => r.stamp), [5, 6]);
});

test('webcodecs: stop() lets copies in flight finish for the next take()', async () => {
  const fake = fakeFrames({ mode: 'defer' });
  const { bench, present } = harness({ createVideoFrame: fake.createVideoFrame });
  bench.start();
  present(1);
  bench.stop();
  assert.deepEqual(bench.take().records, []);
  fake.copies[0].resolve();
  await settle();
  assert.deepEqual(bench.take().records.map((r) => r.stamp), [1]);
});

test('webcodecs: a copy that fails first closes its frame and falls back to the canvas for good', async () => {
  const fake = fakeFrames({ mode: 'reject' });
  let made = 0;
  const createVideoFrame = (video) => { made += 1; return fake.createVideoFrame(video); };
  const { bench, canvases, present } = harness({ createVideoFrame });
  bench.start();
  present(1);
  await settle();
  assert.ok(fake.frames[0].closed, 'closed although copyTo rejected');
  present(2);
  present(3);
  const taken = bench.take();
  // The failed frame keeps its record (its timing still counts), with no stamp.
  assert.deepEqual(taken.records.map((r) => r.stamp), [null, 2, 3]);
  assert.equal(taken.readPath, 'canvas');
  assert.match(taken.readPathReason, /copyTo failed: readback failed/);
  assert.equal(taken.errors, 0, 'a missing path is not a frame error');
  assert.equal(made, 1, 'no VideoFrame after the fallback');
  assert.deepEqual(canvases, [{ width: 480, height: 16 }]);
  assert.equal(bench.take().readPath, 'canvas', 'and it stays');
});

test('webcodecs: copyTo throwing synchronously still closes the frame', async () => {
  const fake = fakeFrames({ mode: 'throw' });
  const { bench, present } = harness({ createVideoFrame: fake.createVideoFrame });
  bench.start();
  present(1);
  await settle();
  assert.ok(fake.frames[0].closed);
  const taken = bench.take();
  assert.equal(taken.readPath, 'canvas');
  assert.match(taken.readPathReason, /not large enough/);
});

test('webcodecs: after copies have worked, a failed copy is a frame error, not a fallback', async () => {
  const fake = fakeFrames({ mode: 'defer' });
  const { bench, present } = harness({ createVideoFrame: fake.createVideoFrame });
  bench.start();
  present(1);
  fake.copies[0].resolve();
  await settle();
  present(2);
  present(3);
  fake.copies[1].reject('GPU readback lost');
  fake.copies[2].resolve();
  await settle();
  const taken = bench.take();
  assert.deepEqual(taken.records.map((r) => r.stamp), [1, null, 3]);
  assert.equal(taken.errors, 1);
  assert.equal(taken.lastError, 'GPU readback lost');
  assert.equal(taken.readPath, 'webcodecs');
  assert.ok(fake.frames.every((f) => f.closed));
});

test('webcodecs: an unreadable format or no VideoFrame sends this very frame to the canvas', async () => {
  for (const format of [null, 'I420P10', 'NV12A']) {
    const fake = fakeFrames({ format });
    const { bench, canvases, present } = harness({ createVideoFrame: fake.createVideoFrame });
    bench.start();
    present(9);
    present(10);
    const taken = bench.take(); // no await: the canvas read is synchronous
    assert.deepEqual(taken.records.map((r) => r.stamp), [9, 10], String(format));
    assert.equal(taken.readPath, 'canvas');
    assert.equal(taken.readPathReason, `VideoFrame format ${format} is not read directly`);
    assert.equal(fake.frames.length, 1);
    assert.ok(fake.frames[0].closed);
    assert.equal(fake.copies.length, 0);
    assert.equal(canvases.length, 1);
  }
  const { bench, present } = harness({
    createVideoFrame: () => { throw new DOMException('Invalid source state', 'InvalidStateError'); },
  });
  bench.start();
  present(11);
  const taken = bench.take();
  assert.deepEqual(taken.records.map((r) => r.stamp), [11]);
  assert.equal(taken.readPathReason, 'new VideoFrame(video) failed: Invalid source state');
  assert.equal(taken.errors, 0);
});

test('webcodecs: a format change after copies worked also falls back', async () => {
  const fake = fakeFrames();
  let format = 'I420';
  const createVideoFrame = (video) => Object.assign(fake.createVideoFrame(video), { format });
  const { bench, present } = harness({ createVideoFrame });
  bench.start();
  present(1);
  await settle();
  format = null; // e.g. a hardware decoder's opaque frames after a codec change
  present(2);
  await settle();
  const taken = bench.take();
  assert.deepEqual(taken.records.map((r) => r.stamp), [1, 2]);
  assert.equal(taken.readPath, 'canvas');
  assert.match(taken.readPathReason, /format null/);
});

test('webcodecs: frames beyond the copies in flight are recorded unread', async () => {
  const fake = fakeFrames({ mode: 'defer' });
  const { bench, present } = harness({ createVideoFrame: fake.createVideoFrame });
  bench.start();
  for (let i = 1; i <= MAX_IN_FLIGHT + 1; i += 1) present(i);
  assert.equal(fake.frames.length, MAX_IN_FLIGHT, 'no VideoFrame for the frame over the limit');
  for (const copy of fake.copies) copy.resolve();
  await settle();
  const taken = bench.take();
  const expected = Array.from({ length: MAX_IN_FLIGHT }, (_, i) => i + 1);
  assert.deepEqual(taken.records.map((r) => r.stamp), [...expected, null]);
  assert.equal(taken.errors, 1);
  assert.match(taken.lastError, /in flight/);
  assert.equal(taken.readPath, 'webcodecs');
  present(99);
  fake.copies[MAX_IN_FLIGHT].resolve();
  await settle();
  assert.deepEqual(bench.take().records.map((r) => r.stamp), [99], 'reads resume once copies finish');
});
