// One connection attempt: signalling + peer connection + data channel + watchdogs. It ends
// exactly once (calling onend with a reason) and never reconnects itself; app.js owns that.

import { Signalling, signallingUrl, evenResolution, helloMessage } from './signalling.js';
import { PeerSession } from './webrtc.js';
import { fetchRtcConfig } from './rtcconfig.js';
import { computeStats } from './stats.js';
import { attachChannel, formatPong, formatFps, formatLatency, parseSystemAction, parsePipeline } from './channel.js';
import { CLIPBOARD_MESSAGE_TYPES } from './clipboard.js';

const SETUP_TIMEOUT_MS = 20000; // WS + offer + ICE + DTLS; generous for TURN over TCP/TLS
const DISCONNECT_GRACE_MS = 3000; // ICE often recovers from a short 'disconnected'
const FIRST_FRAME_TIMEOUT_MS = 5000; // the server sends an IDR on join, so a frame is due quickly
const STATS_INTERVAL_MS = 1000;
const REPORT_INTERVAL_MS = 5000;

/**
 * env: {options, hooks, video, audio, cursor, setState(state), log(text, level),
 *       onstreaming(), onserver(key, value), onstats(stats), onend(reason), reload()}
 */
export class Session {
  constructor(env) {
    this.env = env;
    this.ended = false;
    this.streaming = false;
    this.everConnected = false;
    this.timers = new Set();
    this.intervals = new Set();
    this.sig = null;
    this.peer = null;
    this.prevSnapshot = null;
    this.lastStats = null;
  }

  async start() {
    const { options, hooks, log, setState } = this.env;
    // Per-connection figures start afresh so a test never reads the previous session's values.
    hooks.framesDecoded = 0;
    hooks.framesPresented = 0;
    hooks.frameWidth = 0;
    hooks.frameHeight = 0;
    hooks.codec = '';
    hooks.videoCodec = '';
    hooks.stats = {};
    hooks.server = {};
    setState('connecting');
    this.after(SETUP_TIMEOUT_MS, () => {
      if (!this.everConnected) this.end('timed out before the media connection was established');
    });

    const config = await fetchRtcConfig(location.href, { relay: options.relay }, (t) => log(t, 'warn'));
    if (this.ended) return;
    if (options.debug) log(`rtc config: ${JSON.stringify({ ...config, iceServers: config.iceServers.map((s) => s.urls) })}`);

    let peer;
    try {
      peer = new PeerSession(config, { debug: options.debug, spsPpsIdr: options.spsPpsIdr, codec: options.codec });
    } catch (err) {
      this.end(`cannot create RTCPeerConnection: ${err && err.message ? err.message : err}`);
      return;
    }
    this.peer = peer;
    hooks.pc = peer.pc;
    this.wirePeer(peer);

    const sig = new Signalling(signallingUrl(location.href), { debug: options.debug });
    this.sig = sig;
    sig.onhello = () => setState('waiting for offer');
    sig.onsdp = (desc) => this.onRemoteSdp(desc);
    sig.onice = (cand) => { peer.addRemoteCandidate(cand); };
    sig.onservererror = (reason) => {
      log(`server error: ${reason}`, 'error');
      this.end(`ERROR ${reason}`);
    };
    sig.onclose = (reason) => this.end(reason);

    const dpr = window.devicePixelRatio || 1;
    const { width, height } = evenResolution(window.innerWidth, window.innerHeight, dpr);
    log(`signalling ${sig.url} as ${width}x${height} @${dpr}`);
    sig.connect(helloMessage(width, height, dpr));

    this.every(STATS_INTERVAL_MS, () => this.pollStats());
    this.every(REPORT_INTERVAL_MS, () => this.report());
  }

  async onRemoteSdp(desc) {
    const { log, setState } = this.env;
    if (desc.type !== 'offer') {
      log(`ignoring remote ${desc.type}: the server is expected to offer`, 'warn');
      return;
    }
    setState('negotiating');
    try {
      const answer = await this.peer.handleOffer(desc);
      if (this.ended || !answer) return;
      this.sig.sendSdp(answer);
      this.peer.markAnswerSent();
    } catch (err) {
      this.end(`cannot answer the offer: ${err && err.message ? err.message : err}`);
    }
  }

  wirePeer(peer) {
    const { hooks, log, audio, setState } = this.env;
    peer.onlog = (t) => log(t, 'warn');
    peer.onlocalcandidate = (c) => { if (this.sig) this.sig.sendIce(c); };
    peer.ontrack = (track) => {
      log(`track ${track.kind} ${track.id}`);
      if (track.kind === 'video') this.attachVideo(track);
      else if (track.kind === 'audio') this.attachAudio(track, audio);
    };
    peer.ondatachannel = (ch) => this.wireChannel(ch);
    peer.onstate = (state) => {
      if (this.ended) return;
      if (this.env.options.debug) log(`peer connection ${state}`);
      hooks.connected = state === 'connected';
      if (state === 'connected') {
        this.clearNamed('disconnect');
        if (!this.everConnected) {
          this.everConnected = true;
          if (!this.streaming) setState('waiting for video');
          this.after(FIRST_FRAME_TIMEOUT_MS, () => {
            if (!this.streaming) this.end(`no video frame decoded ${FIRST_FRAME_TIMEOUT_MS / 1000} s after connecting`);
          });
        }
      } else if (state === 'disconnected') {
        if (!this.named('disconnect')) {
          log('peer connection disconnected; waiting for ICE to recover', 'warn');
          this.after(DISCONNECT_GRACE_MS, () => {
            if (peer.connectionState() !== 'connected') this.end('peer connection lost');
          }, 'disconnect');
        }
      } else if (state === 'failed' || state === 'closed') {
        this.end(`peer connection ${state}`);
      }
    };
  }

  attachVideo(track) {
    const { video, log } = this.env;
    video.srcObject = new MediaStream([track]);
    const play = video.play();
    if (play && play.catch) play.catch((err) => log(`video.play(): ${err && err.message ? err.message : err}`, 'warn'));
    video.onresize = () => {
      if (this.ended) return;
      this.env.hooks.frameWidth = video.videoWidth;
      this.env.hooks.frameHeight = video.videoHeight;
      if (video.videoWidth > 0) this.markFrame('video resize');
    };
    if (typeof video.requestVideoFrameCallback === 'function') {
      const onFrame = () => {
        if (this.ended) return;
        this.env.hooks.framesPresented += 1;
        this.markFrame('frame presented');
        video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);
    }
  }

  attachAudio(track, audio) {
    if (!audio) return;
    audio.srcObject = new MediaStream([track]);
    const play = audio.play();
    if (play && play.catch) {
      // Unmuted audio needs a user gesture in ordinary browsers; retry on the first one.
      play.catch(() => {
        const retry = () => {
          audio.play().catch(() => {});
          window.removeEventListener('pointerdown', retry, true);
          window.removeEventListener('keydown', retry, true);
        };
        window.addEventListener('pointerdown', retry, true);
        window.addEventListener('keydown', retry, true);
      });
    }
  }

  wireChannel(ch) {
    const { hooks, log, options, cursor } = this.env;
    if (ch !== this.peer.channel) {
      log(`ignoring extra data channel "${ch.label}"`);
      return;
    }
    const onopen = () => {
      if (this.ended) return;
      hooks.channel = ch;
      log(`data channel "${ch.label}" open`);
    };
    if (ch.readyState === 'open') onopen();
    else ch.addEventListener('open', onopen);
    ch.addEventListener('close', () => {
      if (!this.ended) log(`data channel "${ch.label}" closed`, 'warn');
      if (hooks.channel === ch) hooks.channel = null;
    });
    attachChannel(ch, {
      ping: (data) => {
        if (data && data.start_time !== undefined) this.peer.send(formatPong(data.start_time));
      },
      system: (data) => {
        const action = parseSystemAction(data && data.action);
        if (action.reload) {
          log('server asked for a reload');
          this.env.reload();
        } else if (action.key) {
          // `encoder,<kind>` is the backend choice (auto, x264, nvenc…); `encoder` itself is the
          // implementation the pipeline message names, so the two are kept apart.
          this.env.onserver(action.key === 'encoder' ? 'encoder_kind' : action.key, action.value);
        }
      },
      pipeline: (data) => {
        const p = parsePipeline(data);
        this.env.onserver('pipeline', p.status);
        if (p.encoder) this.env.onserver('encoder', p.encoder);
        if (p.codec) this.env.onserver('codec', p.codec);
      },
      stats: (data) => this.env.onserver('server', compact(data)),
      system_stats: (data) => this.env.onserver('system', compact(data)),
      gpu_stats: (data) => this.env.onserver('gpu', compact(data)),
      latency_measurement: (data) => this.env.onserver('srv lat', data && data.latency_ms !== undefined ? `${data.latency_ms} ms` : compact(data)),
      cursor: (data) => cursor.apply(data),
      // clipboard, clipboard-msg and the chunked clipboard-msg-start/-data/-end.
      ...Object.fromEntries(CLIPBOARD_MESSAGE_TYPES.map((type) => [type, (data) => {
        if (this.env.clipboard) this.env.clipboard.onServerMessage(type, data);
      }])),
    }, { debug: options.debug, onerror: (err) => log(`channel handler: ${err && err.message ? err.message : err}`, 'warn') });
  }

  markFrame(why) {
    if (this.streaming || this.ended) return;
    this.streaming = true;
    this.env.log(`first video frame (${why})`);
    this.env.setState('streaming');
    this.env.onstreaming();
  }

  async pollStats() {
    if (!this.peer || this.ended) return;
    let report;
    try {
      report = await this.peer.getStats();
    } catch {
      return;
    }
    if (this.ended) return;
    const { stats, snapshot } = computeStats(report, this.prevSnapshot, Date.now());
    this.prevSnapshot = snapshot;
    this.lastStats = stats;
    const { hooks } = this.env;
    hooks.stats = stats;
    hooks.framesDecoded = stats.framesDecoded;
    if (stats.frameWidth) hooks.frameWidth = stats.frameWidth;
    if (stats.frameHeight) hooks.frameHeight = stats.frameHeight;
    if (stats.codec) hooks.codec = stats.codec;
    if (stats.framesDecoded > 0) this.markFrame('stats framesDecoded');
    this.env.onstats(stats);
  }

  /** Selkies' client reports fps and latency every 5 s; the server exports them as metrics. */
  report() {
    const s = this.lastStats;
    if (!s || !this.peer) return;
    if (s.fps !== null) this.peer.send(formatFps(s.fps));
    if (s.latencyMs !== null) this.peer.send(formatLatency(s.latencyMs));
  }

  after(ms, fn, name) {
    const id = setTimeout(() => {
      this.timers.delete(entry);
      if (!this.ended) fn();
    }, ms);
    const entry = { id, name };
    this.timers.add(entry);
  }

  named(name) {
    for (const t of this.timers) if (t.name === name) return true;
    return false;
  }

  clearNamed(name) {
    for (const t of this.timers) {
      if (t.name === name) {
        clearTimeout(t.id);
        this.timers.delete(t);
      }
    }
  }

  every(ms, fn) {
    this.intervals.add(setInterval(() => { if (!this.ended) fn(); }, ms));
  }

  end(reason) {
    if (this.ended) return;
    this.ended = true;
    for (const t of this.timers) clearTimeout(t.id);
    for (const i of this.intervals) clearInterval(i);
    this.timers.clear();
    this.intervals.clear();
    if (this.sig) this.sig.close();
    if (this.peer) this.peer.close();
    const { hooks, video, audio, cursor } = this.env;
    hooks.pc = null;
    hooks.channel = null;
    hooks.connected = false;
    video.onresize = null;
    video.srcObject = null;
    if (audio) audio.srcObject = null;
    cursor.reset();
    this.env.onend(reason);
  }
}

function compact(data) {
  if (data === null || data === undefined) return '';
  if (typeof data !== 'object') return String(data);
  return Object.entries(data)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? Math.round(v * 100) / 100 : typeof v === 'object' ? JSON.stringify(v) : v}`)
    .join(' ')
    .slice(0, 160);
}
