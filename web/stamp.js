// The frame stamp the glass-to-glass bench paints onto the X display, read back from a decoded
// video frame. Pure (pixels in, counter out, no DOM), so node tests it; glassbench.js feeds it.
//
// Layout; the Rust painter uses exactly this, so change both or neither:
// - Top-left of the frame, 30 cells in one row, each 16x16 px: cell i covers x in
//   [16*i, 16*i+16), y in [0, 16). The stamp is 480x16 px.
// - Each cell is solid white (255,255,255) or solid black (0,0,0).
// - Cell 0 is always white, cell 29 always black (sync markers).
// - Cells 1..=24: a 24-bit counter c, most significant bit first, white = 1.
// - Cells 25..=28: a 4-bit check, MSB first:
//   (c ^ (c >> 4) ^ (c >> 8) ^ (c >> 12) ^ (c >> 16) ^ (c >> 20)) & 0xF.
//
// Each cell is read from the mean luma of its inner 8x8 pixels, so the encoder's ringing and
// chroma bleed at cell edges do not flip bits; bit = mean > 128. From RGB pixels (a canvas
// readback, an RGBA VideoFrame) luma is 0.299 R + 0.587 G + 0.114 B; from a YUV VideoFrame it is
// the Y plane's samples as they are: limited range (16..235) still splits at 128.

export const STAMP_CELLS = 30;
export const CELL_PX = 16;
export const STAMP_WIDTH = STAMP_CELLS * CELL_PX;
export const STAMP_HEIGHT = CELL_PX;
export const COUNTER_BITS = 24;
export const CHECK_BITS = 4;

// The sampled square inside each cell.
const INSET = 4;
const SAMPLE_PX = CELL_PX - 2 * INSET;

/** The 4-bit check of a 24-bit counter: the XOR of its nibbles. */
export function stampCheck(counter) {
  const c = counter >>> 0;
  return (c ^ (c >>> 4) ^ (c >>> 8) ^ (c >>> 12) ^ (c >>> 16) ^ (c >>> 20)) & 0xf;
}

// The 30 cells to the counter: sync markers, counter bits, check. `cellMean(i)` is cell i's
// mean luma, 0..255. The one place the bit layout is read; both decoders below feed it.
function decodeCells(cellMean) {
  const bit = (cell) => (cellMean(cell) > 128 ? 1 : 0);
  if (bit(0) !== 1 || bit(STAMP_CELLS - 1) !== 0) return null;
  let counter = 0;
  for (let i = 1; i <= COUNTER_BITS; i += 1) counter = counter * 2 + bit(i);
  let check = 0;
  for (let i = COUNTER_BITS + 1; i <= COUNTER_BITS + CHECK_BITS; i += 1) check = check * 2 + bit(i);
  return check === stampCheck(counter) ? counter : null;
}

// Byte offsets of red and blue in a 4-byte pixel, by channel order.
const CHANNELS = { rgba: [0, 2], bgra: [2, 0] };

/**
 * The counter in the stamp at the top-left of `rgba` (4-byte pixels, rows of `width` pixels, at
 * least STAMP_WIDTH x STAMP_HEIGHT), or null when the frame carries no valid stamp: not stamped
 * yet, or the video is not showing it cleanly. `order` is 'rgba' (canvas ImageData, RGBA/RGBX
 * VideoFrames) or 'bgra' (BGRA/BGRX VideoFrames); the fourth byte is ignored.
 */
export function decodeStamp(rgba, width = STAMP_WIDTH, order = 'rgba') {
  // A wrong buffer is the caller's bug, not a frame without a stamp; don't let it pass as null.
  if (!Number.isInteger(width) || width < STAMP_WIDTH || !rgba || rgba.length < width * STAMP_HEIGHT * 4) {
    throw new RangeError(`decodeStamp needs ${STAMP_WIDTH}x${STAMP_HEIGHT} RGBA pixels, got width ${width} and ${rgba ? rgba.length : 0} bytes`);
  }
  if (!Object.hasOwn(CHANNELS, order)) throw new RangeError(`decodeStamp: unknown channel order ${order}`);
  const [r, b] = CHANNELS[order];
  return decodeCells((cell) => {
    let sum = 0;
    const x0 = cell * CELL_PX + INSET;
    for (let y = INSET; y < INSET + SAMPLE_PX; y += 1) {
      let p = (y * width + x0) * 4;
      for (let x = 0; x < SAMPLE_PX; x += 1, p += 4) {
        sum += 0.299 * rgba[p + r] + 0.587 * rgba[p + 1] + 0.114 * rgba[p + b];
      }
    }
    return sum / (SAMPLE_PX * SAMPLE_PX);
  });
}

/**
 * The counter in the stamp at the top-left of an 8-bit luma (Y) plane whose rows are `stride`
 * bytes apart (at least STAMP_WIDTH x STAMP_HEIGHT samples), or null as for decodeStamp. This is
 * the first plane of an I420, I420A, NV12, I422 or I444 VideoFrame copy.
 */
export function decodeStampLuma(y, stride = STAMP_WIDTH) {
  if (!Number.isInteger(stride) || stride < STAMP_WIDTH || !y || y.length < stride * (STAMP_HEIGHT - 1) + STAMP_WIDTH) {
    throw new RangeError(`decodeStampLuma needs ${STAMP_WIDTH}x${STAMP_HEIGHT} luma samples, got stride ${stride} and ${y ? y.length : 0} bytes`);
  }
  return decodeCells((cell) => {
    let sum = 0;
    const x0 = cell * CELL_PX + INSET;
    for (let row = INSET; row < INSET + SAMPLE_PX; row += 1) {
      const p = row * stride + x0;
      for (let x = 0; x < SAMPLE_PX; x += 1) sum += y[p + x];
    }
    return sum / (SAMPLE_PX * SAMPLE_PX);
  });
}
