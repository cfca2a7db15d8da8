// Redis's SCAN cursor arithmetic and the random helpers of table sampling, shared by the
// keyspace table (store/keytable.ts) and the hash table (encoding/dict.ts).

/**
 * The cursor after `cursor` for a table with this mask (Redis's reverse-binary increment).
 * Setting the bits above the mask first makes the increment of the reversed cursor carry
 * straight into the masked bits, which also clears those high bits; overflowing 32 bits
 * wraps to 0, meaning "done".
 */
export function nextCursor(cursor: number, mask: number): number {
  return reverseBits((reverseBits(cursor | ~mask) + 1) | 0);
}

/** The 32 bits of v in reverse order, as an unsigned number. */
export function reverseBits(v: number): number {
  v = ((v >>> 1) & 0x55555555) | ((v & 0x55555555) << 1);
  v = ((v >>> 2) & 0x33333333) | ((v & 0x33333333) << 2);
  v = ((v >>> 4) & 0x0f0f0f0f) | ((v & 0x0f0f0f0f) << 4);
  v = ((v >>> 8) & 0x00ff00ff) | ((v & 0x00ff00ff) << 8);
  return ((v >>> 16) | (v << 16)) >>> 0;
}

/** A uniform integer in [0, n) for n < 2^31. */
export function randomBelow(n: number): number {
  return Math.floor(Math.random() * n);
}

/** A random step in [1, total) sharing no factor with total (> 1), so a stride visits distinct slots. */
export function coprimeStep(total: number): number {
  let step = 1 + randomBelow(total - 1);
  // Step 1 is always coprime, so walking up (and wrapping to 1) terminates quickly.
  while (gcd(step, total) !== 1) step = step + 1 < total ? step + 1 : 1;
  return step;
}

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const r = a % b;
    a = b;
    b = r;
  }
  return a;
}
