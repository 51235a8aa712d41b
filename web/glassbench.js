// Glass-to-glass bench recorder: for every frame the video element presents, read the stamp
// (stamp.js) off its top-left corner and record when the browser showed it. The bench harness
// paints the stamps onto the X display at instants it knows, drives this over CDP as
// `window.selkies.bench.glass` (start, stop, take) and pairs the two sides by counter.
//
// Times are milliseconds since the Unix epoch (performance.timeOrigin + the frame callback's
// DOMHighResTimeStamps), because the harness compares them with its own wall clock on the same
// machine. Until start() nothing happens: no frame callbacks, no canvas.
//
// Two ways to read the stamp, because the reading must cost the measured page as little as it can:
// - 'webcodecs' (preferred): wrap the shown frame in a VideoFrame (no copy in Chromium) and copyTo
//   only the 480x16 stamp rectangle; YUV frames are decoded from their Y plane, RGB ones from RGB.
// - 'canvas' (fallback): drawImage the stamp region onto a 480x16 canvas and getImageData it;
//   Chromium converts the whole frame to RGB for that, which at 1080p costs most of a core.
// The first path is given up for the second, for good, when the browser has no VideoFrame, the
// frame's pixel format is not one read directly, or the copy fails before any copy has worked;
// take() says which path is in use and why. copyTo is asynchronous, so a record is pushed at
// its frame callback with the callback's times and its stamp filled in when the copy resolves;
// take() hands out records in callback order and holds back those still being read.

import { decodeStamp, decodeStampLuma, STAMP_WIDTH, STAMP_HEIGHT } from './stamp.js';

/** Records kept between two take() calls; later frames only count as `dropped`. */
export const MAX_RECORDS = 100000;

/**
 * VideoFrame copies in flight at once. Past it a frame is recorded unread (an error) rather than
 * holding more of the decoder's frames open. Chromium resolves copies of CPU frames at once,
 * so this only bites on GPU frames read back slower than they arrive.
 */
export const MAX_IN_FLIGHT = 4;

// VideoFrame pixel formats whose copy is decoded directly: 8-bit YUV with luma as the first
// plane, or 4-byte RGB in the given channel order. Any other format goes to the canvas.
const FRAME_FORMATS = {
  I420: 'luma', I420A: 'luma', I422: 'luma', I422A: 'luma', I444: 'luma', I444A: 'luma', NV12: 'luma',
  RGBA: 'rgba', RGBX: 'rgba', BGRA: 'bgra', BGRX: 'bgra',
};

function documentCanvas(width, height) {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  return canvas;
}

/** `new VideoFrame(video)` where the browser has WebCodecs, else null. */
function documentVideoFrame() {
  return typeof VideoFrame === 'function' ? (video) => new VideoFrame(video) : null;
}

function message(err) {
  return String(err && err.message ? err.message : err);
}

/**
 * The recorder for `video`. `createCanvas(width, height)`, `createVideoFrame(video)` and
 * `timeOrigin` are there for tests; the defaults are a detached <canvas>, `new VideoFrame(video)`
 * (null where there is no WebCodecs: canvas only) and performance.timeOrigin.
 */
export function createGlassBench(video, {
  createCanvas = documentCanvas,
  createVideoFrame = documentVideoFrame(),
  timeOrigin = performance.timeOrigin,
} = {}) {
  let ctx = null;
  let running = false;
  let handle = null;
  let records = [];
  // Records in `records` whose stamp is still being copied; take() stops at the first of them.
  const pending = new Set();
  let dropped = 0;
  let errors = 0;
  let lastError = null;
  let readPath = createVideoFrame ? 'webcodecs' : 'canvas';
  let readPathReason = createVideoFrame ? null : 'this browser has no WebCodecs VideoFrame';
  // VideoFrame copies that worked: after one, a failing copy is a bad frame, not a missing path.
  let copies = 0;
  let inFlight = 0;
  // ArrayBuffers for copyTo, reused; one per copy in flight, so no two copies share one.
  const buffers = [];

  const noteError = (err) => {
    errors += 1;
    lastError = message(err);
  };

  const fallBack = (reason) => {
    if (readPath !== 'webcodecs') return;
    readPath = 'canvas';
    readPathReason = reason;
  };

  const canvasContext = () => {
    if (!ctx) {
      ctx = createCanvas(STAMP_WIDTH, STAMP_HEIGHT).getContext('2d', { willReadFrequently: true });
      if (!ctx) throw new Error('glass bench: no 2d canvas context');
    }
    return ctx;
  };

  const readCanvas = () => {
    const c = canvasContext();
    // Where the video is smaller than the stamp, drawImage leaves pixels alone; clear them so
    // the last frame's stamp cannot be read again.
    c.clearRect(0, 0, STAMP_WIDTH, STAMP_HEIGHT);
    // Source coordinates are the video's intrinsic pixels, whatever the CSS scaling.
    c.drawImage(video, 0, 0, STAMP_WIDTH, STAMP_HEIGHT, 0, 0, STAMP_WIDTH, STAMP_HEIGHT);
    return decodeStamp(c.getImageData(0, 0, STAMP_WIDTH, STAMP_HEIGHT).data, STAMP_WIDTH);
  };

  const takeBuffer = (size) => {
    const i = buffers.findIndex((b) => b.byteLength >= size);
    return i < 0 ? new ArrayBuffer(size) : buffers.splice(i, 1)[0];
  };

  // The stamp of `frame`, whose format reads as `kind`; closes the frame whatever happens.
  const copyStamp = async (frame, kind) => {
    let buffer = null;
    try {
      // copyTo's rect is in coded pixels; the picture shown starts at the visible rect.
      const visible = frame.visibleRect;
      if (visible && (visible.width < STAMP_WIDTH || visible.height < STAMP_HEIGHT)) return null;
      const rect = { x: visible ? visible.x : 0, y: visible ? visible.y : 0, width: STAMP_WIDTH, height: STAMP_HEIGHT };
      buffer = takeBuffer(frame.allocationSize({ rect }));
      const [plane] = await frame.copyTo(buffer, { rect });
      const bytes = new Uint8Array(buffer, plane.offset);
      if (kind === 'luma') return decodeStampLuma(bytes, plane.stride);
      if (plane.stride % 4 !== 0) throw new RangeError(`VideoFrame ${frame.format} row stride ${plane.stride} is not whole pixels`);
      return decodeStamp(bytes, plane.stride / 4, kind);
    } finally {
      frame.close();
      if (buffer && buffers.length < MAX_IN_FLIGHT) buffers.push(buffer);
    }
  };

  // Starts the WebCodecs read of the frame shown now into `record`. False when the path has just
  // been given up, so the caller reads this frame from the canvas instead.
  const readFrame = (record) => {
    if (inFlight >= MAX_IN_FLIGHT) {
      noteError(`glass bench: ${inFlight} VideoFrame copies still in flight; frame not read`);
      return true;
    }
    let frame;
    try {
      frame = createVideoFrame(video);
    } catch (err) {
      if (copies > 0) {
        noteError(err);
        return true;
      }
      fallBack(`new VideoFrame(video) failed: ${message(err)}`);
      return false;
    }
    const kind = FRAME_FORMATS[frame.format];
    if (!kind || typeof frame.copyTo !== 'function' || typeof frame.allocationSize !== 'function') {
      frame.close();
      // Permanent even after copies worked: the stream's decoder changed (e.g. a new codec).
      fallBack(kind ? 'VideoFrame has no copyTo' : `VideoFrame format ${frame.format} is not read directly`);
      return false;
    }
    inFlight += 1;
    pending.add(record);
    copyStamp(frame, kind).then(
      (stamp) => {
        copies += 1;
        record.stamp = stamp;
      },
      (err) => {
        if (copies > 0) noteError(err);
        else fallBack(`VideoFrame.copyTo failed: ${message(err)}`);
      },
    ).then(() => {
      inFlight -= 1;
      pending.delete(record);
    });
    return true;
  };

  const onFrame = (now, metadata) => {
    if (!running) return;
    // Before the work, so a frame that throws does not end the recording.
    handle = video.requestVideoFrameCallback(onFrame);
    if (records.length >= MAX_RECORDS) {
      dropped += 1;
      return;
    }
    // The times are the callback's, taken now: the stamp read (maybe asynchronous) cannot move them.
    const record = {
      stamp: null,
      displayed: timeOrigin + metadata.expectedDisplayTime,
      presented: timeOrigin + metadata.presentationTime,
      callback: timeOrigin + now,
      received: metadata.receiveTime !== undefined ? timeOrigin + metadata.receiveTime : null,
      presentedFrames: metadata.presentedFrames,
      width: metadata.width,
      height: metadata.height,
    };
    records.push(record);
    if (readPath === 'webcodecs' && readFrame(record)) return;
    try {
      record.stamp = readCanvas();
    } catch (err) {
      // e.g. a tainted canvas; the frame's timing is still worth a record.
      noteError(err);
    }
  };

  return {
    start() {
      if (typeof video.requestVideoFrameCallback !== 'function') {
        throw new Error('glass bench: this browser has no HTMLVideoElement.requestVideoFrameCallback');
      }
      if (running) return;
      // The canvas path's context up front, so a page without one fails here, not per frame.
      if (readPath === 'canvas') canvasContext();
      running = true;
      handle = video.requestVideoFrameCallback(onFrame);
    },
    stop() {
      running = false;
      if (handle !== null && typeof video.cancelVideoFrameCallback === 'function') video.cancelVideoFrameCallback(handle);
      handle = null;
    },
    /**
     * The records since the last take() whose stamp read has finished (in frame callback order;
     * any from the first still being read on stay for the next take()), the counters since the
     * last take(), and the read path in use ('webcodecs' or 'canvas') with why it is the canvas.
     */
    take() {
      let ready = records.length;
      if (pending.size > 0) ready = records.findIndex((r) => pending.has(r));
      const taken = { records: records.slice(0, ready), dropped, errors, lastError, readPath, readPathReason };
      records = records.slice(ready);
      dropped = 0;
      errors = 0;
      lastError = null;
      return taken;
    },
  };
}
