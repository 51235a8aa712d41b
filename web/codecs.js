// Video codec choice. The server offers every codec it can encode, best first, and sends the first
// of them that the browser's answer lists; so the page picks a codec by putting it first in the
// video transceiver's codec preferences. 'auto' never touches the preferences (Selkies servers).

/** Codecs the page can ask for, in the server's order of preference. */
export const CODECS = ['h264', 'vp9', 'av1', 'vp8'];
export const CODEC_CHOICES = ['auto', ...CODECS];

/** 'VP9' → 'vp9'; '', 'auto' and anything unknown → 'auto', so a bad ?codec= keeps the default. */
export function normalizeCodec(name) {
  const c = String(name ?? '').trim().toLowerCase();
  return CODECS.includes(c) ? c : 'auto';
}

/** 'video/H264' → 'h264'; Chromium's early 'video/AV1X' → 'av1'; unknown → lower-cased subtype. */
export function codecFromMime(mimeType) {
  const sub = String(mimeType ?? '').split('/').pop().trim().toLowerCase();
  return sub === 'av1x' ? 'av1' : sub;
}

function isCodec(entry, codec) {
  return Boolean(entry && entry.mimeType) && codecFromMime(entry.mimeType) === codec;
}

/**
 * `RTCRtpReceiver.getCapabilities('video').codecs` with every entry of `codec` moved to the front,
 * everything else (other codecs, rtx, red, ulpfec) kept after it in its order, so the preference
 * can never make negotiation fail. Unknown codecs, 'auto', or one the list lacks: a copy unchanged.
 */
export function preferCodec(capabilities, codec) {
  const list = Array.isArray(capabilities) ? capabilities.slice() : [];
  const want = normalizeCodec(codec);
  if (want === 'auto' || !list.some((e) => isCodec(e, want))) return list;
  return [...list.filter((e) => isCodec(e, want)), ...list.filter((e) => !isCodec(e, want))];
}

/** The choosable codecs this browser can decode, in CODECS order. */
export function decodableCodecs(capabilities) {
  const list = Array.isArray(capabilities) ? capabilities : [];
  return CODECS.filter((c) => list.some((e) => isCodec(e, c)));
}

/**
 * The codec being decoded: getStats' (what the browser really decodes) when known, else the one
 * the server reports. `mismatch` flags the two disagreeing, which is worth showing.
 */
export function codecInUse(serverCodec, statsMime) {
  const server = serverCodec ? String(serverCodec).toLowerCase() : '';
  const decoded = statsMime ? codecFromMime(statsMime) : '';
  return { codec: decoded || server, mismatch: Boolean(server && decoded && server !== decoded) };
}
