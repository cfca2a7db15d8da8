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
