// Unit tests for the codec choice: preference ordering, decodable codecs, the offer's codecs,
// the `pipeline` message and the overlay's codec/encoder lines.
import test from 'node:test';
import assert from 'node:assert/strict';
import { preferCodec, decodableCodecs, normalizeCodec, codecFromMime, codecInUse } from '../codecs.js';
import { videoCodecsInSdp } from '../sdp.js';
import { parsePipeline, parseSystemAction } from '../channel.js';
import { parseOptions, withOption } from '../options.js';
import { formatOverlay } from '../overlay.js';

// Shaped like Chromium's RTCRtpReceiver.getCapabilities('video').codecs.
const CAPS = [
  { mimeType: 'video/VP8', clockRate: 90000 },
  { mimeType: 'video/rtx', clockRate: 90000 },
  { mimeType: 'video/VP9', clockRate: 90000, sdpFmtpLine: 'profile-id=0' },
  { mimeType: 'video/VP9', clockRate: 90000, sdpFmtpLine: 'profile-id=2' },
  { mimeType: 'video/H264', clockRate: 90000, sdpFmtpLine: 'packetization-mode=1;profile-level-id=42001f' },
  { mimeType: 'video/H264', clockRate: 90000, sdpFmtpLine: 'packetization-mode=1;profile-level-id=42e01f' },
  { mimeType: 'video/AV1', clockRate: 90000 },
  { mimeType: 'video/red', clockRate: 90000 },
  { mimeType: 'video/ulpfec', clockRate: 90000 },
  { mimeType: 'video/flexfec-03', clockRate: 90000 },
];
const mimes = (list) => list.map((c) => `${c.mimeType}${c.sdpFmtpLine ? ' ' + c.sdpFmtpLine : ''}`);

test('the preferred codec goes first, everything else keeps its order', () => {
  const vp9 = preferCodec(CAPS, 'vp9');
  assert.deepEqual(mimes(vp9), [
    'video/VP9 profile-id=0', 'video/VP9 profile-id=2', 'video/VP8', 'video/rtx',
    'video/H264 packetization-mode=1;profile-level-id=42001f', 'video/H264 packetization-mode=1;profile-level-id=42e01f',
    'video/AV1', 'video/red', 'video/ulpfec', 'video/flexfec-03',
  ]);
  const h264 = preferCodec(CAPS, 'H264');
  assert.deepEqual(mimes(h264).slice(0, 3), [
    'video/H264 packetization-mode=1;profile-level-id=42001f', 'video/H264 packetization-mode=1;profile-level-id=42e01f', 'video/VP8',
  ]);
  for (const list of [vp9, h264, preferCodec(CAPS, 'av1')]) {
    assert.equal(list.length, CAPS.length);
    for (const fec of ['video/rtx', 'video/red', 'video/ulpfec', 'video/flexfec-03']) {
      assert.ok(list.some((c) => c.mimeType === fec), fec);
    }
  }
  assert.equal(preferCodec(CAPS, 'av1')[0].mimeType, 'video/AV1');
  assert.equal(preferCodec(CAPS, 'vp9')[0], CAPS[2], 'entries are the capability objects themselves');
});

test('auto, unknown or absent codecs leave the list unchanged', () => {
  const noAv1 = CAPS.filter((c) => c.mimeType !== 'video/AV1');
  for (const [list, codec] of [[CAPS, 'auto'], [CAPS, 'hevc'], [CAPS, ''], [CAPS, undefined], [CAPS, 'rtx'], [noAv1, 'av1']]) {
    const out = preferCodec(list, codec);
    assert.deepEqual(out, list, String(codec));
    assert.notEqual(out, list, 'a copy, never the caller\'s array');
  }
  assert.deepEqual(preferCodec(null, 'vp9'), []);
  assert.equal(preferCodec([{ mimeType: 'video/AV1X' }, { mimeType: 'video/VP8' }], 'vp8')[0].mimeType, 'video/VP8');
  assert.equal(preferCodec([{ mimeType: 'video/VP8' }, { mimeType: 'video/AV1X' }], 'av1')[0].mimeType, 'video/AV1X');
});

test('decodable codecs and names', () => {
  assert.deepEqual(decodableCodecs(CAPS), ['h264', 'vp9', 'av1', 'vp8']);
  assert.deepEqual(decodableCodecs(CAPS.filter((c) => !/AV1|H264/.test(c.mimeType))), ['vp9', 'vp8']);
  assert.deepEqual(decodableCodecs(undefined), []);
  assert.equal(normalizeCodec('VP9'), 'vp9');
  assert.equal(normalizeCodec(' av1 '), 'av1');
  assert.equal(normalizeCodec('hevc'), 'auto');
  assert.equal(normalizeCodec(null), 'auto');
  assert.equal(codecFromMime('video/H264'), 'h264');
  assert.equal(codecFromMime('video/AV1X'), 'av1');
  assert.equal(codecFromMime('VP8'), 'vp8');
});

test('codec in use prefers what the browser decodes', () => {
  assert.deepEqual(codecInUse('h264', 'video/H264'), { codec: 'h264', mismatch: false });
  assert.deepEqual(codecInUse('h264', 'video/VP9'), { codec: 'vp9', mismatch: true });
  assert.deepEqual(codecInUse('vp9', null), { codec: 'vp9', mismatch: false });
  assert.deepEqual(codecInUse(undefined, 'video/AV1'), { codec: 'av1', mismatch: false });
  assert.deepEqual(codecInUse('', ''), { codec: '', mismatch: false });
});

test('?codec= option, default auto', () => {
  assert.equal(parseOptions('').codec, 'auto');
  assert.equal(parseOptions('?codec=vp9').codec, 'vp9');
  assert.equal(parseOptions('?codec=AV1').codec, 'av1');
  assert.equal(parseOptions('?codec=auto').codec, 'auto');
  assert.equal(parseOptions('?codec=hevc').codec, 'auto');
  assert.equal(withOption('?debug=1', 'codec', 'vp8'), '?debug=1&codec=vp8');
  assert.equal(withOption('?codec=vp8&debug=1', 'codec', null), '?debug=1');
  assert.equal(withOption('?codec=vp8', 'codec', null), '');
});

test('codecs of the offer\'s video m-section, in its order', () => {
  const offer = [
    'v=0', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=rtpmap:111 OPUS/48000/2',
    'm=video 9 UDP/TLS/RTP/SAVPF 102 98 45 96 103', 'a=rtpmap:96 VP8/90000', 'a=rtpmap:98 VP9/90000',
    'a=rtpmap:102 H264/90000', 'a=rtpmap:45 AV1/90000', 'a=rtpmap:103 rtx/90000',
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', '',
  ].join('\r\n');
  assert.deepEqual(videoCodecsInSdp(offer), ['h264', 'vp9', 'av1', 'vp8', 'rtx']);
  assert.deepEqual(videoCodecsInSdp('v=0\nm=audio 9 RTP/AVP 0\n'), []);
  assert.deepEqual(videoCodecsInSdp(undefined), []);
});

test('pipeline message', () => {
  assert.deepEqual(parsePipeline({ status: 'streaming', encoder: 'x264', codec: 'h264', mime_type: 'video/H264' }),
    { status: 'streaming', encoder: 'x264', codec: 'h264' });
  assert.deepEqual(parsePipeline({ status: 'streaming', encoder: 'libvpx-vp9', mime_type: 'video/VP9' }),
    { status: 'streaming', encoder: 'libvpx-vp9', codec: 'vp9' });
  assert.deepEqual(parsePipeline({ status: 'streaming', encoder: 'gstreamer:x264enc', codec: 'H264' }),
    { status: 'streaming', encoder: 'gstreamer:x264enc', codec: 'h264' });
  // Selkies sends only a status.
  assert.deepEqual(parsePipeline({ status: 'ready' }), { status: 'ready', encoder: '', codec: '' });
  assert.deepEqual(parsePipeline({ foo: 1 }), { status: '{"foo":1}', encoder: '', codec: '' });
  assert.deepEqual(parsePipeline(null), { status: '', encoder: '', codec: '' });
  assert.deepEqual(parsePipeline('up'), { status: 'up', encoder: '', codec: '' });
  assert.deepEqual(parsePipeline({ status: 'streaming', encoder: { x: 1 } }), { status: 'streaming', encoder: '', codec: '' });
});

test('system encoder action', () => {
  assert.deepEqual(parseSystemAction('encoder,software'), { key: 'encoder', value: 'software' });
  assert.deepEqual(parseSystemAction('encoder,auto'), { key: 'encoder', value: 'auto' });
  assert.deepEqual(parseSystemAction('video_bitrate,8000'), { key: 'video_bitrate', value: '8000' });
});

test('overlay codec and encoder lines', () => {
  const server = { pipeline: 'streaming', encoder: 'libvpx-vp9', codec: 'vp9', encoder_kind: 'software', framerate: '60' };
  const text = formatOverlay('streaming', { codec: 'video/VP9', framesDecoded: 1 }, server);
  assert.ok(text.includes('codec   vp9\n'), text);
  assert.ok(text.includes('encoder libvpx-vp9 (software)'), text);
  assert.ok(text.includes('pipeline streaming'), text);
  assert.ok(text.includes('framerate 60'), text);
  assert.ok(!text.includes('encoder_kind'), text);
  assert.ok(formatOverlay('streaming', { codec: 'video/H264' }, { codec: 'vp9' }).includes('codec   h264 (server says vp9)'));
  assert.ok(formatOverlay('connecting', null, { codec: 'av1' }).includes('codec   av1'));
  assert.ok(!formatOverlay('connecting', null, {}).includes('codec'));
});
