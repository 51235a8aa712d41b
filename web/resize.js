// Resizes the remote screen to this window (`r,WxH` in device pixels, even sides), on start and
// after the window stops changing size. Only with ?resize=1 and a server with resizing enabled.

export const SETTLE_MS = 300;

/** The remote size for a window of `w`x`h` CSS pixels at device pixel ratio `dpr`. */
export function remoteSize(w, h, dpr) {
  const even = (v) => Math.max(2, Math.floor((v * (dpr > 0 ? dpr : 1)) / 2) * 2);
  return { width: even(w), height: even(h) };
}

export class RemoteResizer {
  constructor(send) {
    this.send = send;
    this.timer = null;
    this.last = '';
  }

  attach() {
    window.addEventListener('resize', () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.sendNow(), SETTLE_MS);
    });
    // Also catches the moment the data channel opens, and a send that failed.
    setInterval(() => this.sendNow(), SETTLE_MS * 2);
  }

  /** A new session: its server has not been told the size yet. */
  reset() {
    this.last = '';
  }

  /** Sends the current window size unless it was the last one sent. */
  sendNow() {
    const { width, height } = remoteSize(window.innerWidth, window.innerHeight, window.devicePixelRatio);
    const verb = `r,${width}x${height}`;
    if (verb === this.last) return;
    if (this.send(verb)) this.last = verb;
  }
}
