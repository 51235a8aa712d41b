// Unit tests for the frame stamp: synthetic 480x16 RGBA frames in, counter or null out.
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeStamp, decodeStampLuma, stampCheck, STAMP_CELLS, CELL_PX, STAMP_WIDTH, STAMP_HEIGHT,
} from '../stamp.js';

/** The 30 cell bits for `counter`, written out from the layout rather than from stamp.js. */
function bitsFor(counter, check = (counter ^ (counter >> 4) ^ (counter >> 8) ^ (counter >> 12) ^ (counter >> 16) ^ (counter >> 20)) & 0xf) {
  const bits = [1];
  for (let i = 23; i >= 0; i -= 1) bits.push((counter >> i) & 1);
  for (let i = 3; i >= 0; i -= 1) bits.push((check >> i) & 1);
  bits.push(0);
  return bits;
}

/** A frame `width` pixels wide showing `bits`; `level(bit, x, y)` picks each pixel's grey. */
function paint(bits, { width = STAMP_WIDTH, level = (bit) => (bit ? 255 : 0) } = {}) {
  const rgba = new Uint8ClampedArray(width * STAMP_HEIGHT * 4);
  for (let y = 0; y < STAMP_HEIGHT; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const cell = Math.floor(x / CELL_PX);
      const v = cell < STAMP_CELLS ? level(bits[cell], x, y) : 128;
      rgba.set([v, v, v, 255], (y * width + x) * 4);
    }
  }
  return rgba;
}

/** Deterministic noise in [-amp, amp], so a failure reproduces. */
function noise(seed, amp) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return Math.round(((s / 0x7fffffff) * 2 - 1) * amp);
  };
}

test('layout constants', () => {
  assert.equal(STAMP_CELLS, 30);
  assert.equal(CELL_PX, 16);
  assert.equal(STAMP_WIDTH, 480);
  assert.equal(STAMP_HEIGHT, 16);
});

test('valid counters decode', () => {
  for (const c of [0, 1, 2, 0x800000, 0xabcdef, 0x123456, 0xfffffe, 0xffffff]) {
    assert.equal(decodeStamp(paint(bitsFor(c)), STAMP_WIDTH), c, `counter ${c.toString(16)}`);
  }
  assert.equal(stampCheck(0xabcdef), (0xa ^ 0xb ^ 0xc ^ 0xd ^ 0xe ^ 0xf) & 0xf);
});

test('a wider frame is read by its stride', () => {
  assert.equal(decodeStamp(paint(bitsFor(0xabcdef), { width: 640 }), 640), 0xabcdef);
});

test('a wrong check is no stamp', () => {
  const c = 0xabcdef;
  for (let flip = 1; flip < 16; flip += 1) {
    assert.equal(decodeStamp(paint(bitsFor(c, stampCheck(c) ^ flip))), null);
  }
  // One counter bit flipped (e.g. a smeared cell) no longer matches its check.
  const bits = bitsFor(c);
  bits[5] ^= 1;
  assert.equal(decodeStamp(paint(bits)), null);
});

test('missing sync cells are no stamp', () => {
  const noStart = bitsFor(0x123456);
  noStart[0] = 0;
  assert.equal(decodeStamp(paint(noStart)), null);
  const noEnd = bitsFor(0x123456);
  noEnd[29] = 1;
  assert.equal(decodeStamp(paint(noEnd)), null);
});

test('plain frames are no stamp', () => {
  assert.equal(decodeStamp(paint(new Array(30).fill(0))), null);
  assert.equal(decodeStamp(paint(new Array(30).fill(1))), null);
  assert.equal(decodeStamp(new Uint8ClampedArray(STAMP_WIDTH * STAMP_HEIGHT * 4)), null);
});

test('washed-out levels, noise and soft edges still decode', () => {
  const c = 0xabcdef;
  assert.equal(decodeStamp(paint(bitsFor(c), { level: (bit) => (bit ? 200 : 40) })), c);
  const rand = noise(7, 30);
  assert.equal(decodeStamp(paint(bitsFor(c), { level: (bit) => (bit ? 255 : 0) + rand() })), c);
  // Edges blurred over 6 px toward the neighbour's level (into the sampled square), as a scaler
  // or the encoder would.
  const bits = bitsFor(c);
  const blurred = (bit, x) => {
    const cell = Math.floor(x / CELL_PX);
    const edge = Math.min(x % CELL_PX, CELL_PX - 1 - (x % CELL_PX));
    const next = x % CELL_PX < CELL_PX / 2 ? bits[cell - 1] ?? bit : bits[cell + 1] ?? bit;
    const w = edge < 6 ? 0.5 + edge / 12 : 1;
    return Math.round(255 * (w * bit + (1 - w) * next));
  };
  assert.equal(decodeStamp(paint(bits, { level: blurred })), c);
});

test('colour is read as luma', () => {
  // Saturated green is bright (luma 150), saturated blue dark (29).
  const c = 0x0f0f0f;
  const bits = bitsFor(c);
  const rgba = paint(bits);
  for (let p = 0; p < rgba.length; p += 4) {
    const on = rgba[p] === 255;
    rgba.set(on ? [0, 255, 0] : [0, 0, 255], p);
  }
  assert.equal(decodeStamp(rgba), c);
});

test('a buffer too small for the stamp is a caller error', () => {
  assert.throws(() => decodeStamp(new Uint8ClampedArray(100), STAMP_WIDTH), RangeError);
  assert.throws(() => decodeStamp(paint(bitsFor(1)), 320), RangeError);
  assert.throws(() => decodeStamp(null), RangeError);
});

test('BGRA pixels are read in their channel order', () => {
  // Orange-red (R 255, G 100) is bright (luma 135); read as RGBA it would be dark blue (88).
  const c = 0x5a5a5a;
  const bgra = paint(bitsFor(c));
  for (let p = 0; p < bgra.length; p += 4) {
    const on = bgra[p] === 255;
    bgra.set(on ? [0, 100, 255] : [0, 0, 0], p);
  }
  assert.equal(decodeStamp(bgra, STAMP_WIDTH, 'bgra'), c);
  assert.equal(decodeStamp(bgra, STAMP_WIDTH, 'rgba'), null);
  assert.throws(() => decodeStamp(bgra, STAMP_WIDTH, 'argb'), RangeError);
});

/** A luma plane, rows `stride` bytes apart, showing `bits`; `level(bit, x, y)` picks each sample. */
function paintLuma(bits, { stride = STAMP_WIDTH, rows = STAMP_HEIGHT, level = (bit) => (bit ? 235 : 16) } = {}) {
  const y = new Uint8Array(stride * rows).fill(77); // padding and anything past the stamp
  for (let row = 0; row < STAMP_HEIGHT; row += 1) {
    for (let x = 0; x < STAMP_WIDTH; x += 1) {
      y[row * stride + x] = Math.max(0, Math.min(255, level(bits[Math.floor(x / CELL_PX)], x, row)));
    }
  }
  return y;
}

test('luma planes decode, limited range included', () => {
  for (const c of [0, 1, 0x800000, 0xabcdef, 0x123456, 0xffffff]) {
    assert.equal(decodeStampLuma(paintLuma(bitsFor(c))), c, `counter ${c.toString(16)}`);
    assert.equal(decodeStampLuma(paintLuma(bitsFor(c), { level: (bit) => (bit ? 255 : 0) })), c);
  }
});

test('a luma plane is read by its stride', () => {
  // A Y plane of a 1920-wide frame, and one whose rows are padded to 512; only 15 full rows
  // plus 480 samples of the last are needed.
  assert.equal(decodeStampLuma(paintLuma(bitsFor(0xabcdef), { stride: 1920 }), 1920), 0xabcdef);
  const padded = paintLuma(bitsFor(0x123456), { stride: 512 });
  assert.equal(decodeStampLuma(padded, 512), 0x123456);
  assert.equal(decodeStampLuma(padded.subarray(0, 512 * 15 + 480), 512), 0x123456);
});

test('noisy, washed-out luma still decodes; wrong checks and plain planes do not', () => {
  const c = 0xabcdef;
  const rand = noise(11, 30);
  assert.equal(decodeStampLuma(paintLuma(bitsFor(c), { level: (bit) => (bit ? 235 : 16) + rand() })), c);
  assert.equal(decodeStampLuma(paintLuma(bitsFor(c), { level: (bit) => (bit ? 180 : 60) })), c);
  assert.equal(decodeStampLuma(paintLuma(bitsFor(c, stampCheck(c) ^ 1))), null);
  assert.equal(decodeStampLuma(paintLuma(new Array(30).fill(0))), null);
  assert.equal(decodeStampLuma(paintLuma(new Array(30).fill(1))), null);
  assert.equal(decodeStampLuma(new Uint8Array(STAMP_WIDTH * STAMP_HEIGHT).fill(128)), null);
});

test('luma and RGB decoding agree on the same frame', () => {
  const bits = bitsFor(0x0f1e2d);
  const rand = noise(3, 20);
  const levels = Array.from({ length: STAMP_WIDTH * STAMP_HEIGHT }, (_, p) => (bits[Math.floor((p % STAMP_WIDTH) / CELL_PX)] ? 220 : 30) + rand());
  const rgba = new Uint8ClampedArray(levels.length * 4);
  levels.forEach((v, p) => rgba.set([v, v, v, 255], p * 4));
  assert.equal(decodeStampLuma(Uint8Array.from(levels)), decodeStamp(rgba));
  assert.equal(decodeStamp(rgba), 0x0f1e2d);
});

test('a luma buffer too small for the stamp is a caller error', () => {
  assert.throws(() => decodeStampLuma(new Uint8Array(STAMP_WIDTH * STAMP_HEIGHT - 1)), RangeError);
  assert.throws(() => decodeStampLuma(new Uint8Array(640 * 16), 320), RangeError);
  assert.throws(() => decodeStampLuma(new Uint8Array(640 * 16), 480.5), RangeError);
  assert.throws(() => decodeStampLuma(null), RangeError);
});
