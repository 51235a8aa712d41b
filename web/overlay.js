// The stats overlay (top-left; shown or hidden from the settings panel) and the centred status line.

import { codecInUse } from './codecs.js';

// Server values with a line of their own below; every other one is listed as `key value`.
const OWN_LINE = new Set(['codec', 'encoder', 'encoder_kind']);

function fixed(v, digits, unit = '') {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : `${v.toFixed(digits)}${unit}`;
}

function bitrate(kbps) {
  if (kbps === null || kbps === undefined || !Number.isFinite(kbps)) return '–';
  return kbps >= 1000 ? `${(kbps / 1000).toFixed(2)} Mb/s` : `${kbps.toFixed(0)} kb/s`;
}

/** Overlay text for the current state, stats (from stats.js) and server-reported values. */
export function formatOverlay(state, stats, server = {}) {
  const lines = [`state   ${state}`];
  if (stats) {
    const res = stats.frameWidth && stats.frameHeight ? `${stats.frameWidth}x${stats.frameHeight}` : '–';
    const codec = stats.codec ? stats.codec.replace(/^video\//, '') : '–';
    const conn = stats.connectionType
      ? `${stats.connectionType}${stats.protocol ? '/' + stats.protocol : ''}`
      : '–';
    lines.push(
      `video   ${res} ${codec}${stats.decoder ? ' (' + stats.decoder + ')' : ''}`,
      `fps     ${fixed(stats.fps, 1)}   frames ${stats.framesDecoded ?? 0}`,
      `bitrate ${bitrate(stats.bitrateKbps)}`,
      `rtt     ${fixed(stats.rttMs, 1, ' ms')}   conn ${conn}`,
      `decode  ${fixed(stats.decodeMs, 2, ' ms')}   jbuf ${fixed(stats.jitterBufferMs, 1, ' ms')}`,
      `latency ${fixed(stats.latencyMs, 1, ' ms')} (rtt/2 + receive)`,
      `lost    ${stats.packetsLost ?? '–'}   dropped ${stats.framesDropped ?? '–'}`,
    );
  }
  // The browser's decoder is the truth about the codec; a differing server claim is worth seeing.
  const codec = codecInUse(server.codec, stats && stats.codec);
  if (codec.codec) lines.push(`codec   ${codec.codec}${codec.mismatch ? ` (server says ${server.codec})` : ''}`);
  if (server.encoder || server.encoder_kind) {
    lines.push(`encoder ${server.encoder || '–'}${server.encoder_kind ? ` (${server.encoder_kind})` : ''}`);
  }
  for (const [key, value] of Object.entries(server)) {
    if (OWN_LINE.has(key)) continue;
    lines.push(`${key.padEnd(7)} ${value}`);
  }
  return lines.join('\n');
}

export class Overlay {
  /** `box`, when given, is hidden with the overlay (it holds the overlay and its settings button). */
  constructor(overlayElement, statusElement, visible = true, box = null) {
    this.el = overlayElement;
    this.statusEl = statusElement;
    this.box = box;
    this.setVisible(visible);
  }

  setVisible(visible) {
    this.visible = Boolean(visible);
    this.el.hidden = !this.visible;
    if (this.box) this.box.hidden = !this.visible;
  }

  toggle() {
    this.setVisible(!this.visible);
  }

  render(state, stats, server) {
    if (!this.visible) return;
    this.el.textContent = formatOverlay(state, stats, server);
  }

  /** The status line is only shown while not streaming, so it never covers the desktop. */
  status(text, streaming) {
    this.statusEl.textContent = text;
    this.statusEl.hidden = streaming;
  }
}
