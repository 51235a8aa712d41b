// Unit tests for the clipboard sync: server message reassembly, clipboard writes, and the
// client → server verbs, with fake clipboard and ClipboardItem objects.
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  ClipboardSync, chunkBytes, bytesToBase64, base64ToBytes, isTextMime, CLIPBOARD_MESSAGE_TYPES, MAX_MESSAGE_BYTES,
} from '../clipboard.js';

class FakeItem {
  constructor(items) { this.items = items; this.types = Object.keys(items); }
  async getType(type) { return this.items[type]; }
}

function fakeClipboard({ deny = false, read = [] } = {}) {
  return {
    texts: [],
    items: [],
    async writeText(t) { if (deny) throw new Error('NotAllowedError'); this.texts.push(t); },
    async write(items) { if (deny) throw new Error('NotAllowedError'); this.items.push(...items); },
    async read() { return read; },
    async readText() { return ''; },
  };
}

function setup(opts = {}) {
  const sent = [];
  const clipboard = opts.clipboard ?? fakeClipboard();
  const sync = new ClipboardSync((m) => sent.push(m), { clipboard, ClipboardItem: FakeItem, ...opts });
  return { sync, sent, clipboard };
}

const enc = (s) => new TextEncoder().encode(s);
const TEXT = 'grüße ☃ 日本';
const pattern = (n) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + (i >> 9)) & 0xff);

/** The server's multipart form (mirrors src/input/clipboard/outgoing.rs). */
function serverMessages(mime, bytes, max = MAX_MESSAGE_BYTES) {
  const step = chunkBytes(max);
  const msgs = [['clipboard-msg-start', { mime_type: mime, is_binary_data: mime !== 'text/plain', total_size: bytes.length }]];
  for (let i = 0; i < bytes.length; i += step) msgs.push(['clipboard-msg-data', { content: bytesToBase64(bytes.subarray(i, i + step)) }]);
  msgs.push(['clipboard-msg-end', {}]);
  return msgs;
}

test('base64 helpers round-trip large and odd sizes', () => {
  for (const n of [0, 1, 2, 3, 24575, 24576, 24577, 100003]) {
    const b = pattern(n);
    assert.deepEqual(base64ToBytes(bytesToBase64(b)), b);
    assert.equal(bytesToBase64(b), Buffer.from(b).toString('base64'));
  }
  assert.equal(chunkBytes(), 196224);
  assert.equal(chunkBytes(10) % 3, 0);
  assert.ok(isTextMime('text/plain;charset=utf-8') && !isTextMime('image/png'));
  assert.equal(CLIPBOARD_MESSAGE_TYPES.length, 5);
});

test('Selkies 1.x text message is written with writeText and kept in last', async () => {
  const { sync, clipboard } = setup();
  const parsed = JSON.parse('{"type":"clipboard","data":{"content":"' + Buffer.from(TEXT).toString('base64') + '"}}');
  assert.equal(await sync.onServerMessage(parsed.type, parsed.data), true);
  assert.equal(sync.last.text, TEXT);
  assert.equal(sync.last.mime, 'text/plain');
  assert.deepEqual(clipboard.texts, [TEXT]);
});

test('clipboard-msg image is written as a ClipboardItem', async () => {
  const { sync, clipboard } = setup();
  const png = pattern(1000);
  const done = await sync.onServerMessage('clipboard-msg', {
    content: bytesToBase64(png), mime_type: 'image/png', is_binary_data: true, total_size: png.length,
  });
  assert.equal(done, true);
  assert.equal(sync.last.mime, 'image/png');
  assert.deepEqual(sync.last.bytes, png);
  assert.equal(clipboard.items.length, 1);
  const blob = await clipboard.items[0].getType('image/png');
  assert.equal(blob.type, 'image/png');
  assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), png);
});

test('multipart image and text are reassembled', async () => {
  const { sync, clipboard } = setup();
  const png = pattern(700_001);
  const msgs = serverMessages('image/png', png);
  assert.equal(msgs.length, 2 + 4);
  const results = msgs.map(([t, d]) => sync.onServerMessage(t, d)); // fed without awaiting
  assert.deepEqual(await Promise.all(results), [false, false, false, false, false, true]);
  assert.deepEqual(sync.last.bytes, png);
  assert.equal(clipboard.items.length, 1);

  const text = TEXT.repeat(30000);
  for (const [t, d] of serverMessages('text/plain', enc(text))) await sync.onServerMessage(t, d);
  assert.equal(sync.last.text, text);
  assert.deepEqual(clipboard.texts, [text]);
});

test('bad transfers are rejected and leave no state behind', async () => {
  const errors = [];
  const { sync, clipboard } = setup({ maxBytes: 1000, onError: (e) => errors.push(e.message) });
  // Shorter than announced.
  await sync.onServerMessage('clipboard-msg-start', { mime_type: 'text/plain', total_size: 10 });
  await sync.onServerMessage('clipboard-msg-data', { content: bytesToBase64(enc('abc')) });
  assert.equal(await sync.onServerMessage('clipboard-msg-end', {}), false);
  // Longer than announced.
  await sync.onServerMessage('clipboard-msg-start', { mime_type: 'text/plain', total_size: 2 });
  assert.equal(await sync.onServerMessage('clipboard-msg-data', { content: bytesToBase64(enc('abc')) }), false);
  assert.equal(await sync.onServerMessage('clipboard-msg-end', {}), false);
  // Over the limit, and stray chunks or ends.
  await sync.onServerMessage('clipboard-msg-start', { mime_type: 'image/png', total_size: 5000 });
  assert.equal(await sync.onServerMessage('clipboard-msg-data', { content: 'AAAA' }), false);
  assert.equal(await sync.onServerMessage('clipboard-msg-end', {}), false);
  assert.equal(await sync.onServerMessage('clipboard', { content: '!!not base64' }), false);
  assert.equal(await sync.onServerMessage('clipboard-msg', { content: 'AAAA', mime_type: 'image/png', total_size: 9 }), false);
  assert.equal(await sync.onServerMessage('cursor', {}), false);
  assert.equal(errors.length, 5, errors.join('\n'));
  assert.equal(sync.last, null);
  assert.deepEqual(clipboard.texts, []);
  // A good transfer still works afterwards.
  assert.equal(await sync.onServerMessage('clipboard', { content: bytesToBase64(enc('ok')) }), true);
  assert.equal(sync.last.text, 'ok');
});

test('a refused clipboard write keeps the content readable', async () => {
  const { sync } = setup({ clipboard: fakeClipboard({ deny: true }) });
  assert.equal(await sync.onServerMessage('clipboard', { content: bytesToBase64(enc(TEXT)) }), true);
  assert.equal(sync.last.text, TEXT);
  assert.match(String(sync.lastError), /NotAllowed/);
  // No clipboard API at all (insecure origin).
  const bare = new ClipboardSync(() => {}, { clipboard: undefined, ClipboardItem: undefined });
  assert.equal(await bare.onServerMessage('clipboard-msg', { content: 'AAEC', mime_type: 'image/png', total_size: 3 }), true);
  assert.deepEqual(bare.last.bytes, Uint8Array.from([0, 1, 2]));
});

test('pushText sends cw, or cws/cwd/cwe under the message limit', async () => {
  const { sync, sent } = setup();
  assert.equal(await sync.pushText(TEXT), 1);
  assert.deepEqual(sent, ['cw,' + Buffer.from(TEXT).toString('base64')]);

  sent.length = 0;
  const big = 'x€'.repeat(150_000); // 600 kB
  const n = await sync.pushText(big);
  assert.equal(n, sent.length);
  assert.ok(sent.every((m) => m.length < MAX_MESSAGE_BYTES), 'message over the limit');
  const [start, ...rest] = sent;
  const end = rest.pop();
  const m = /^cws,(\d+),(\d+)$/.exec(start);
  assert.ok(m, start);
  assert.equal(Number(m[2]), enc(big).length);
  assert.equal(end, `cwe,${m[1]}`);
  const chunks = rest.map((c) => {
    const [verb, id, b64] = c.split(',');
    assert.equal(verb, 'cwd');
    assert.equal(id, m[1]);
    return base64ToBytes(b64);
  });
  const joined = Buffer.concat(chunks.map((c) => Buffer.from(c)));
  assert.equal(joined.toString('utf8'), big);
});

test('pushBlob sends cb, or cbs/cbd/cbe with the MIME type', async () => {
  const { sync, sent } = setup();
  const small = pattern(100);
  assert.equal(await sync.pushBlob(new Blob([small], { type: 'image/png' })), 1);
  assert.equal(sent[0], 'cb,image/png,' + bytesToBase64(small));

  sent.length = 0;
  const big = pattern(500_000);
  const n = await sync.pushBlob(new Blob([big], { type: 'image/png' }));
  assert.equal(n, 5);
  assert.match(sent[0], /^cbs,\d+,image\/png,500000$/);
  const id = sent[0].split(',')[1];
  assert.equal(sent[4], `cbe,${id}`);
  const bytes = sent.slice(1, 4).map((c) => base64ToBytes(c.split(',')[2]));
  assert.deepEqual(new Uint8Array(Buffer.concat(bytes.map((b) => Buffer.from(b)))), big);
  assert.ok(sent.every((m) => m.length < MAX_MESSAGE_BYTES));

  // Transfer ids differ between transfers.
  sent.length = 0;
  await sync.pushText('y'.repeat(300_000));
  assert.notEqual(sent[0].split(',')[1], id);

  // Text blobs go as text.
  sent.length = 0;
  await sync.pushBlob(new Blob(['hello'], { type: 'text/plain;charset=utf-8' }));
  assert.deepEqual(sent, ['cw,aGVsbG8=']);
});

test('server content is not pushed back, unless forced', async () => {
  const { sync, sent } = setup();
  await sync.onServerMessage('clipboard', { content: bytesToBase64(enc(TEXT)) });
  assert.equal(await sync.pushText(TEXT), 0);
  assert.equal(await sync.pushText(TEXT, { force: true }), 1);
  assert.equal(await sync.pushText('other'), 1);
  assert.equal(await sync.pushText('other'), 0);
  assert.equal(sent.length, 2);
  await assert.rejects(() => new ClipboardSync(() => {}, { maxBytes: 3 }).pushText('four'), RangeError);
});

test('pushLocalClipboard prefers an image and falls back to text', async () => {
  const png = pattern(50);
  const withImage = fakeClipboard({ read: [new FakeItem({ 'image/png': new Blob([png], { type: 'image/png' }) })] });
  const a = setup({ clipboard: withImage });
  assert.equal(await a.sync.pushLocalClipboard(), 1);
  assert.equal(a.sent[0], 'cb,image/png,' + bytesToBase64(png));

  const textOnly = fakeClipboard();
  textOnly.read = undefined;
  textOnly.readText = async () => TEXT;
  const b = setup({ clipboard: textOnly });
  assert.equal(await b.sync.pushLocalClipboard(), 1);
  assert.equal(b.sent[0], 'cw,' + Buffer.from(TEXT).toString('base64'));

  const denied = fakeClipboard();
  denied.read = async () => { throw new Error('NotAllowedError'); };
  const c = setup({ clipboard: denied });
  assert.equal(await c.sync.pushLocalClipboard(), 0);
  assert.ok(c.sync.lastError);

  // Content over the limit is reported, not thrown.
  const huge = fakeClipboard();
  huge.read = undefined;
  huge.readText = async () => 'x'.repeat(100);
  const e = setup({ clipboard: huge, maxBytes: 10 });
  assert.equal(await e.sync.pushLocalClipboard(), 0);
  assert.ok(e.sync.lastError instanceof RangeError);

  const d = setup();
  d.sync.requestServerClipboard();
  assert.deepEqual(d.sent, ['cr']);
});
