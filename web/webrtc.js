// One RTCPeerConnection per signalling session: answers the server's offer, trickles ICE,
// keeps every receiver at minimum playout delay, and exposes the server-created `input` channel.

import { mungeAnswer, videoCodecsInSdp } from './sdp.js';
import { codecFromMime, decodableCodecs, preferCodec } from './codecs.js';

const LOW_LATENCY_INTERVAL_MS = 100;

/**
 * Ask the receiver to play out as early as it can. Set unconditionally and repeatedly, as Selkies
 * does, so a receiver the browser re-creates or re-configures (renegotiation) is covered too.
 */
export function applyLowLatency(receiver) {
  if (!receiver) return;
  try {
    if ('jitterBufferTarget' in receiver) receiver.jitterBufferTarget = 0;
  } catch { /* not settable in this browser */ }
  try {
    if ('playoutDelayHint' in receiver) receiver.playoutDelayHint = 0;
  } catch { /* not settable in this browser */ }
}

/**
 * Callbacks: onlocalcandidate(RTCIceCandidate), ontrack(track, stream), ondatachannel(channel),
 * onstate(connectionState), onlog(text).
 */
export class PeerSession {
  constructor(config, { debug = false, spsPpsIdr = false, codec = 'auto' } = {}) {
    this.debug = debug;
    this.spsPpsIdr = spsPpsIdr;
    this.codec = codec;
    this.pc = new RTCPeerConnection(config);
    this.channel = null;
    this.closed = false;
    this.remoteCandidates = [];
    this.localCandidates = [];
    this.answerSent = false;
    this.queue = Promise.resolve();

    this.onlocalcandidate = () => {};
    this.ontrack = () => {};
    this.ondatachannel = () => {};
    this.onstate = () => {};
    this.onlog = () => {};

    const pc = this.pc;
    pc.onicecandidate = (event) => {
      const c = event.candidate;
      // null / empty candidate marks end of gathering; Selkies servers do not expect it.
      if (!c || !c.candidate) return;
      if (this.answerSent) this.onlocalcandidate(c);
      else this.localCandidates.push(c);
    };
    pc.ontrack = (event) => {
      applyLowLatency(event.receiver);
      const stream = event.streams && event.streams[0] ? event.streams[0] : new MediaStream([event.track]);
      this.ontrack(event.track, stream);
    };
    pc.ondatachannel = (event) => {
      const ch = event.channel;
      if (this.debug) console.debug('[webrtc] data channel', ch.label);
      if (ch.label === 'input' || !this.channel) this.channel = ch;
      this.ondatachannel(ch);
    };
    const reportState = () => this.onstate(this.connectionState());
    pc.onconnectionstatechange = reportState;
    pc.oniceconnectionstatechange = reportState;

    this.lowLatencyTimer = setInterval(() => {
      for (const r of this.pc.getReceivers()) applyLowLatency(r);
    }, LOW_LATENCY_INTERVAL_MS);
  }

  /** connectionState where supported; otherwise derived from the ICE state (older Firefox). */
  connectionState() {
    const pc = this.pc;
    if (pc.connectionState) return pc.connectionState;
    const ice = pc.iceConnectionState;
    if (ice === 'completed') return 'connected';
    if (ice === 'checking') return 'connecting';
    return ice;
  }

  /** Signalling steps run strictly in order; an offer's async work must finish before ICE for it. */
  enqueue(step) {
    this.queue = this.queue.then(() => (this.closed ? undefined : step()));
    return this.queue;
  }

  /** Returns a promise of the answer to send back (already set as the local description). */
  handleOffer(offer) {
    return this.enqueue(async () => {
      await this.pc.setRemoteDescription(offer);
      await this.flushRemoteCandidates();
      this.applyCodecPreference(offer.sdp);
      const answer = await this.pc.createAnswer();
      const munged = { type: 'answer', sdp: mungeAnswer(answer.sdp, { spsPpsIdr: this.spsPpsIdr }) };
      await this.pc.setLocalDescription(munged);
      return munged;
    });
  }

  /**
   * Put the chosen codec first in the video transceiver's preferences, so the answer lists it first
   * and the server sends it. Skipped when the server did not offer it or this browser cannot decode
   * it: the rest of the list would then follow the browser's order instead of the server's.
   */
  applyCodecPreference(offerSdp) {
    const codec = this.codec;
    if (!codec || codec === 'auto') return;
    let caps = null;
    try {
      caps = RTCRtpReceiver.getCapabilities('video');
    } catch { /* no getCapabilities: nothing to prefer with */ }
    const codecs = caps && Array.isArray(caps.codecs) ? caps.codecs : [];
    if (!decodableCodecs(codecs).includes(codec)) {
      this.onlog(`this browser cannot decode ${codec}; using the server's choice`);
      return;
    }
    if (!videoCodecsInSdp(offerSdp).map(codecFromMime).includes(codec)) {
      this.onlog(`the server does not offer ${codec}; using its choice`);
      return;
    }
    const ordered = preferCodec(codecs, codec);
    for (const t of this.pc.getTransceivers()) {
      const kind = t.receiver && t.receiver.track ? t.receiver.track.kind : '';
      if (kind !== 'video' || typeof t.setCodecPreferences !== 'function') continue;
      try {
        t.setCodecPreferences(ordered);
      } catch (err) {
        this.onlog(`setCodecPreferences(${codec}) failed: ${err && err.message ? err.message : err}`);
      }
    }
  }

  /** After the answer is on the wire, release candidates gathered while it was being built. */
  markAnswerSent() {
    this.answerSent = true;
    const pending = this.localCandidates;
    this.localCandidates = [];
    for (const c of pending) this.onlocalcandidate(c);
  }

  /** Remote trickle candidate; null means end of candidates. Queued until an offer is applied. */
  addRemoteCandidate(candidate) {
    if (!this.pc.remoteDescription) {
      this.remoteCandidates.push(candidate);
      return Promise.resolve();
    }
    return this.enqueue(() => this.addCandidateNow(candidate));
  }

  async flushRemoteCandidates() {
    const pending = this.remoteCandidates;
    this.remoteCandidates = [];
    for (const c of pending) await this.addCandidateNow(c);
  }

  async addCandidateNow(candidate) {
    try {
      if (candidate) await this.pc.addIceCandidate(candidate);
      else await this.pc.addIceCandidate();
    } catch (err) {
      // One bad candidate (e.g. an mDNS name or unsupported transport) must not end the session.
      this.onlog(`addIceCandidate failed: ${err && err.message ? err.message : err}`);
    }
  }

  /** Send on the input data channel; false when it is not open. */
  send(text) {
    const ch = this.channel;
    if (!ch || ch.readyState !== 'open') return false;
    try {
      ch.send(text);
      return true;
    } catch {
      return false;
    }
  }

  getStats() {
    return this.pc.getStats();
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.lowLatencyTimer);
    const pc = this.pc;
    pc.onicecandidate = pc.ontrack = pc.ondatachannel = null;
    pc.onconnectionstatechange = pc.oniceconnectionstatechange = null;
    try { if (this.channel) this.channel.close(); } catch { /* already closed */ }
    try { pc.close(); } catch { /* already closed */ }
  }
}
