// Copying bytes between Uint8Arrays without the view object that `to.set(from.subarray())`
// allocates: the hot paths copy keys and values on every write and must allocate nothing.

/** Buffer's copy (memmove), applied to any Uint8Array source. */
const bufferCopy = Buffer.prototype.copy as (
  this: Uint8Array,
  target: Uint8Array,
  targetStart: number,
  sourceStart: number,
  sourceEnd: number,
) => number;

/** Below this many bytes a loop beats the native call. */
const LOOP_MAX = 16;

/** Copies `len` bytes of `from` at fromStart into `to` at toStart; the two may overlap. */
export function copyBytes(from: Uint8Array, fromStart: number, to: Uint8Array, toStart: number, len: number): void {
  if (len > LOOP_MAX) {
    bufferCopy.call(from, to, toStart, fromStart, fromStart + len);
  } else if (from === to && fromStart < toStart) {
    for (let i = len - 1; i >= 0; i--) to[toStart + i] = from[fromStart + i]!;
  } else {
    for (let i = 0; i < len; i++) to[toStart + i] = from[fromStart + i]!;
  }
}

/**
 * A buffer at least `sizeBytes` long holding buf's first `usedBytes`: buf itself when it
 * is big enough, else a bigger copy (grown by half, like a vector). The byte encodings
 * (listpack, intset) call it before an edit that lengthens a value.
 */
export function ensureRoom(buf: Uint8Array, usedBytes: number, sizeBytes: number): Uint8Array {
  if (buf.length >= sizeBytes) return buf;
  const out = new Uint8Array(sizeBytes + (sizeBytes >> 1) + 16);
  copyBytes(buf, 0, out, 0, usedBytes);
  return out;
}

/**
 * Whether `len` bytes of a at aStart equal those of b at bStart. Four bytes are compared
 * as one word: a plain byte loop measured over twice as slow on 16-byte keys, and every
 * key lookup ends here.
 */
export function bytesEqual(a: Uint8Array, aStart: number, b: Uint8Array, bStart: number, len: number): boolean {
  let i = 0;
  for (const words = len - 3; i < words; i += 4) {
    const p = aStart + i;
    const q = bStart + i;
    if ((a[p]! | (a[p + 1]! << 8) | (a[p + 2]! << 16) | (a[p + 3]! << 24)) !== (b[q]! | (b[q + 1]! << 8) | (b[q + 2]! << 16) | (b[q + 3]! << 24))) {
      return false;
    }
  }
  for (; i < len; i++) if (a[aStart + i] !== b[bStart + i]) return false;
  return true;
}
