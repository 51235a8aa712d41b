// Remote cursor shapes (XFixes PNGs from the server) applied as the CSS cursor of the video.

/**
 * CSS cursor value for a `cursor` message; `cache` maps handle → data URL so repeated shapes may
 * arrive without curdata. Mirrors Selkies: handle 0 → auto, override (e.g. "none") wins.
 */
export function cursorCss(data, cache) {
  if (!data || typeof data !== 'object') return 'auto';
  if (data.override) return String(data.override);
  const handle = data.handle;
  if (handle === 0 || handle === '0') return 'auto';
  let url = null;
  if (typeof data.curdata === 'string' && data.curdata.length > 0) {
    url = `url(data:image/png;base64,${data.curdata})`;
    if (handle !== undefined && handle !== null) cache.set(String(handle), url);
  } else if (handle !== undefined && handle !== null) {
    url = cache.get(String(handle)) || null;
  }
  if (!url) return 'auto';
  const hs = data.hotspot;
  if (hs && Number.isFinite(Number(hs.x)) && Number.isFinite(Number(hs.y))) {
    return `${url} ${Math.round(Number(hs.x))} ${Math.round(Number(hs.y))}, auto`;
  }
  return `${url}, auto`;
}

export class CursorController {
  /** `hooks.cursor` gets the last shape's handle, hotspot and decoded PNG size (for tests). */
  constructor(element, maxEntries = 256, hooks = null) {
    this.element = element;
    this.cache = new Map();
    this.maxEntries = maxEntries;
    this.hooks = hooks;
  }

  apply(data) {
    // Bounded so a server cycling through animated cursors cannot grow memory forever.
    if (this.cache.size > this.maxEntries) this.cache.clear();
    this.element.style.cursor = cursorCss(data, this.cache);
    if (this.hooks && data && typeof data.curdata === 'string' && typeof Image !== 'undefined') {
      const img = new Image();
      const hs = data.hotspot || {};
      img.onload = () => {
        this.hooks.cursor = {
          handle: data.handle, width: img.naturalWidth, height: img.naturalHeight,
          hotspot: { x: Number(hs.x), y: Number(hs.y) }, css: this.element.style.cursor,
        };
        this.hooks.cursorShapes = (this.hooks.cursorShapes || 0) + 1;
      };
      img.src = `data:image/png;base64,${data.curdata}`;
    }
  }

  reset() {
    this.element.style.cursor = 'auto';
  }
}
