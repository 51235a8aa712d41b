// Reconnect delay policy: doubling from 1 s, capped at 10 s so a restarted server is found fast.

export function backoffDelayMs(attempt) {
  if (!(attempt >= 1)) return 0;
  return Math.min(10000, 1000 * 2 ** (attempt - 1));
}
