// Glass-to-glass bench recorder: for every frame the video element presents, read the stamp
// (stamp.js) off its top-left corner and record when the browser showed it. The bench harness
// paints the stamps onto the X display at instants it knows, drives this over CDP as
// `window.selkies.bench.glass` (start, stop, take) and pairs the two sides by counter.
//
// Times are milliseconds since the Unix epoch (performance.timeOrigin + the frame callback's
// DOMHighResTimeStamps), because the harness compares them with its own wall clock on the same
// machine. Until start() nothing happens: no frame callbacks, no canvas.

import { decodeStamp, STAMP_WIDTH, STAMP_HEIGHT } from './stamp.js';

/** Records kept between two take() calls; later frames only count as `dropped`. */
export const MAX_RECORDS = 100000;

function documentCanvas(width, height) {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  return canvas;
}

/**
 * The recorder for `video`. `createCanvas(width, height)` and `timeOrigin` are there for tests;
 * the defaults are a detached <canvas> and performance.timeOrigin.
 */
export function createGlassBench(video, { createCanvas = documentCanvas, timeOrigin = performance.timeOrigin } = {}) {
  let ctx = null;
  let running = false;
  let handle = null;
  let records = [];
  let dropped = 0;
  let errors = 0;
  let lastError = null;

  const readStamp = () => {
    // Where the video is smaller than the stamp, drawImage leaves pixels alone; clear them so
    // the last frame's stamp cannot be read again.
    ctx.clearRect(0, 0, STAMP_WIDTH, STAMP_HEIGHT);
    // Source coordinates are the video's intrinsic pixels, whatever the CSS scaling.
    ctx.drawImage(video, 0, 0, STAMP_WIDTH, STAMP_HEIGHT, 0, 0, STAMP_WIDTH, STAMP_HEIGHT);
    return decodeStamp(ctx.getImageData(0, 0, STAMP_WIDTH, STAMP_HEIGHT).data, STAMP_WIDTH);
  };

  const onFrame = (now, metadata) => {
    if (!running) return;
    // Before the work, so a frame that throws does not end the recording.
    handle = video.requestVideoFrameCallback(onFrame);
    let stamp = null;
    try {
      stamp = readStamp();
    } catch (err) {
      // e.g. a tainted canvas; the frame's timing is still worth a record.
      errors += 1;
      lastError = String(err && err.message ? err.message : err);
    }
    if (records.length >= MAX_RECORDS) {
      dropped += 1;
      return;
    }
    records.push({
      stamp,
      displayed: timeOrigin + metadata.expectedDisplayTime,
      presented: timeOrigin + metadata.presentationTime,
      callback: timeOrigin + now,
      received: metadata.receiveTime !== undefined ? timeOrigin + metadata.receiveTime : null,
      presentedFrames: metadata.presentedFrames,
      width: metadata.width,
      height: metadata.height,
    });
  };

  return {
    start() {
      if (typeof video.requestVideoFrameCallback !== 'function') {
        throw new Error('glass bench: this browser has no HTMLVideoElement.requestVideoFrameCallback');
      }
      if (running) return;
      if (!ctx) {
        ctx = createCanvas(STAMP_WIDTH, STAMP_HEIGHT).getContext('2d', { willReadFrequently: true });
        if (!ctx) throw new Error('glass bench: no 2d canvas context');
      }
      running = true;
      handle = video.requestVideoFrameCallback(onFrame);
    },
    stop() {
      running = false;
      if (handle !== null && typeof video.cancelVideoFrameCallback === 'function') video.cancelVideoFrameCallback(handle);
      handle = null;
    },
    /** The records since the last take(), then forgets them and the counters. */
    take() {
      const taken = { records, dropped, errors, lastError };
      records = [];
      dropped = 0;
      errors = 0;
      lastError = null;
      return taken;
    },
  };
}
