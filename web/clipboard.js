// Clipboard sync over the `input` data channel, both ways, text and images (see docs/protocol.md,
// "Clipboard").
//
// Server → browser: `clipboard` {content} (Selkies 1.x text), `clipboard-msg`
// {content, mime_type, is_binary_data, total_size}, and the multipart `clipboard-msg-start` /
// `-data` / `-end` (Selkies 2.x). Reassembled content goes to the async clipboard API where the page
// may write it, and is always kept in `last` so the page (and tests) can read it.
//
// Browser → server: `cw,<b64>` / `cb,<mime>,<b64>` when one message suffices, otherwise
// `cws,<id>,<size>` `cwd,<id>,<b64>`… `cwe,<id>` (text) or `cbs,<id>,<mime>,<size>` `cbd`… `cbe`
// (binary). Every message stays under 256 KiB, the browsers' data-channel message limit.

/** Largest data-channel message browsers accept. */
export const MAX_MESSAGE_BYTES = 256 * 1024;

/** Default size limit, as the server's (Selkies' 64 MiB multipart limit). */
export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

/** Message types this module handles; route each to `onServerMessage(type, data)`. */
export const CLIPBOARD_MESSAGE_TYPES = Object.freeze([
  'clipboard',
  'clipboard-msg',
  'clipboard-msg-start',
  'clipboard-msg-data',
  'clipboard-msg-end',
]);

const TEXT_MIME = 'text/plain';
// Room for the verb, transfer id and JSON envelope around a base64 chunk (the server keeps the same).
const ENVELOPE_MARGIN = 512;
// btoa() over at most this many bytes at a time; a multiple of 3 so the pieces concatenate.
const B64_STEP = 3 * 8192;

/** Raw bytes per chunk so that its base64 fits in one message of `maxMessageBytes`. */
export function chunkBytes(maxMessageBytes = MAX_MESSAGE_BYTES) {
  const max = Math.max(1024, maxMessageBytes);
  return Math.floor((max - ENVELOPE_MARGIN) / 4) * 3;
}

export function bytesToBase64(bytes) {
  const parts = [];
  for (let i = 0; i < bytes.length; i += B64_STEP) {
    parts.push(btoa(String.fromCharCode.apply(null, bytes.subarray(i, i + B64_STEP))));
  }
  return parts.join('');
}

/** Decodes base64; throws on malformed input. */
export function base64ToBytes(b64) {
  const bin = atob(String(b64 ?? ''));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function isTextMime(mime) {
  return String(mime ?? '').split(';')[0].trim().toLowerCase() === TEXT_MIME;
}

// FNV-1a over the bytes plus the type and size: cheap, and enough to tell "the same content again".
function fingerprint(mime, bytes) {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193);
  }
  return `${isTextMime(mime) ? TEXT_MIME : mime}:${bytes.length}:${h >>> 0}`;
}

function concat(chunks, total) {
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export class ClipboardSync {
  /**
   * @param {(text: string) => void} send  sends one text message on the `input` data channel
   * @param {object} [options]
   * @param {number} [options.maxMessageBytes]  largest message to send (default 256 KiB)
   * @param {number} [options.maxBytes]  largest content accepted or sent (default 64 MiB)
   * @param {object} [options.clipboard]  the async clipboard (default navigator.clipboard)
   * @param {Function} [options.ClipboardItem]  constructor for binary writes (default global)
   * @param {(content) => void} [options.onContent]  called with each complete server content
   * @param {(error) => void} [options.onError]  called when a message or a clipboard write fails
   */
  constructor(send, options = {}) {
    this.send = send;
    this.maxMessageBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.clipboard = 'clipboard' in options ? options.clipboard : globalThis.navigator?.clipboard;
    this.ClipboardItem = 'ClipboardItem' in options ? options.ClipboardItem : globalThis.ClipboardItem;
    this.onContent = options.onContent ?? null;
    this.onError = options.onError ?? null;
    /** The last complete content from the server: {mime, bytes, text?}, or null. */
    this.last = null;
    /** The last error (bad message, refused clipboard write), or null. */
    this.lastError = null;
    this._incoming = null;
    this._synced = null;
    this._nextId = 1;
  }

  /**
   * Feeds one server message (`type` from the envelope, `data` its payload). Returns a promise of
   * true when it completed a content (written to the clipboard if permitted), false otherwise.
   * Reassembly state changes before the first await, so messages may be fed without awaiting.
   */
  async onServerMessage(type, data) {
    let content;
    try {
      content = this._reassemble(type, data ?? {});
    } catch (err) {
      this._incoming = null;
      this._fail(err);
      return false;
    }
    if (!content) return false;
    await this._deliver(content.mime, content.bytes);
    return true;
  }

  _reassemble(type, data) {
    switch (type) {
      case 'clipboard':
        return { mime: TEXT_MIME, bytes: this._checked(base64ToBytes(data.content)) };
      case 'clipboard-msg': {
        const bytes = this._checked(base64ToBytes(data.content));
        if (Number.isFinite(data.total_size) && data.total_size !== bytes.length) {
          throw new Error(`clipboard: ${bytes.length} bytes received, ${data.total_size} announced`);
        }
        return { mime: String(data.mime_type || TEXT_MIME), bytes };
      }
      case 'clipboard-msg-start': {
        const total = Number(data.total_size);
        this._incoming = null;
        if (!Number.isSafeInteger(total) || total < 0) throw new Error('clipboard: bad total_size');
        if (total > this.maxBytes) throw new Error(`clipboard: ${total} bytes exceed the ${this.maxBytes}-byte limit`);
        this._incoming = { mime: String(data.mime_type || TEXT_MIME), total, size: 0, chunks: [] };
        return null;
      }
      case 'clipboard-msg-data': {
        const t = this._incoming;
        if (!t) return null; // a stray chunk (e.g. the page reloaded mid-transfer)
        const chunk = base64ToBytes(data.content);
        t.size += chunk.length;
        if (t.size > t.total) throw new Error(`clipboard: more than the announced ${t.total} bytes`);
        t.chunks.push(chunk);
        return null;
      }
      case 'clipboard-msg-end': {
        const t = this._incoming;
        this._incoming = null;
        if (!t) return null;
        if (t.size !== t.total) throw new Error(`clipboard: ${t.size} of ${t.total} bytes received`);
        return { mime: t.mime, bytes: concat(t.chunks, t.total) };
      }
      default:
        return null;
    }
  }

  _checked(bytes) {
    if (bytes.length > this.maxBytes) {
      throw new Error(`clipboard: ${bytes.length} bytes exceed the ${this.maxBytes}-byte limit`);
    }
    return bytes;
  }

  async _deliver(mime, bytes) {
    const text = isTextMime(mime);
    const content = text
      ? { mime: TEXT_MIME, bytes, text: new TextDecoder().decode(bytes) }
      : { mime, bytes };
    this.last = content;
    // What came from the server must not be pushed straight back when the page reads it.
    this._synced = fingerprint(content.mime, bytes);
    if (this.onContent) this.onContent(content);
    try {
      if (text) {
        if (this.clipboard?.writeText) await this.clipboard.writeText(content.text);
      } else if (this.clipboard?.write && this.ClipboardItem) {
        const blob = new Blob([bytes], { type: mime });
        await this.clipboard.write([new this.ClipboardItem({ [mime]: blob })]);
      }
    } catch (err) {
      // Typically a NotAllowedError: the page has no focus or no permission. `last` still holds it.
      this._fail(err);
    }
  }

  _fail(err) {
    this.lastError = err;
    if (this.onError) this.onError(err);
  }

  /** Asks the server for its clipboard (`cr`); the answer arrives as server messages. */
  requestServerClipboard() {
    this.send('cr');
  }

  /**
   * Sends text to the server clipboard. Skipped (returns 0) when it is what was last synced either
   * way, unless `force`. Returns the number of messages sent.
   */
  async pushText(text, { force = false } = {}) {
    const bytes = new TextEncoder().encode(String(text ?? ''));
    return this._push(TEXT_MIME, bytes, force);
  }

  /** Sends a Blob (e.g. an image/png from the clipboard); text blobs go as text. */
  async pushBlob(blob, { force = false } = {}) {
    const mime = String(blob.type || 'application/octet-stream').split(';')[0].trim().toLowerCase();
    const bytes = new Uint8Array(await blob.arrayBuffer());
    return this._push(isTextMime(mime) ? TEXT_MIME : mime, bytes, force);
  }

  /**
   * Reads the local clipboard (an image/png if there is one, otherwise text) and sends it. Returns
   * the number of messages sent; 0 when unchanged, empty, or the page may not read the clipboard.
   */
  async pushLocalClipboard({ force = false } = {}) {
    try {
      if (this.clipboard?.read) {
        const items = await this.clipboard.read();
        for (const item of items) {
          if (item.types.includes('image/png')) return await this.pushBlob(await item.getType('image/png'), { force });
        }
      }
      if (this.clipboard?.readText) {
        const text = await this.clipboard.readText();
        if (text) return await this.pushText(text, { force });
      }
    } catch (err) {
      this._fail(err);
    }
    return 0;
  }

  _push(mime, bytes, force) {
    if (bytes.length > this.maxBytes) {
      throw new RangeError(`clipboard: ${bytes.length} bytes exceed the ${this.maxBytes}-byte limit`);
    }
    const key = fingerprint(mime, bytes);
    if (!force && key === this._synced) return 0;
    const text = mime === TEXT_MIME;
    const single = text ? 'cw,' : `cb,${mime},`;
    const step = chunkBytes(this.maxMessageBytes);
    let sent = 0;
    if (bytes.length <= step) {
      this.send(single + bytesToBase64(bytes));
      sent = 1;
    } else {
      const id = String(this._nextId++);
      const [start, data, end] = text ? ['cws', 'cwd', 'cwe'] : ['cbs', 'cbd', 'cbe'];
      this.send(text ? `${start},${id},${bytes.length}` : `${start},${id},${mime},${bytes.length}`);
      for (let at = 0; at < bytes.length; at += step) {
        this.send(`${data},${id},${bytesToBase64(bytes.subarray(at, at + step))}`);
      }
      this.send(`${end},${id}`);
      sent = Math.ceil(bytes.length / step) + 2;
    }
    this._synced = key;
    return sent;
  }
}
