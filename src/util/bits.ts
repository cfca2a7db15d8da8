// Bit-level helpers over byte ranges for the bitmap commands (Redis's bitops.c helpers):
// population count, the first set or clear bit in a range, and reading and writing
// integer fields of 1 to 64 bits at any bit offset. Bits are numbered from the most
// significant bit of the first byte, as SETBIT and GETBIT number them. Nothing here
// allocates except the bigints a field of more than 32 bits needs.

/**
 * The number of set bits of every 16-bit value (64 KB, built once): two lookups count a
 * word, which measured faster than the shift-and-mask reduction in JavaScriptCore.
 */
const POPCOUNT16 = buildPopcountTable(1 << 16);

function buildPopcountTable(size: number): Uint8Array {
  const table = new Uint8Array(size);
  for (let v = 1; v < size; v++) table[v] = (v & 1) + table[v >> 1]!;
  return table;
}

/** Set bits in a byte (the low 256 entries of the 16-bit table). */
function popcount8(byte: number): number {
  return POPCOUNT16[byte]!;
}

/** Set bits in a 32-bit word. */
function popcount32(word: number): number {
  return POPCOUNT16[word & 0xffff]! + POPCOUNT16[word >>> 16]!;
}

/**
 * A 32-bit view of each buffer a long range was read from, made once per buffer: the
 * keyspace's pages and a string's own buffer live long, so reading a range word by word
 * costs no allocation per call.
 */
const wordViews = new WeakMap<ArrayBufferLike, Uint32Array>();

/** Ranges shorter than this are read byte by byte: the word view's lookup would cost more. */
const WORD_RANGE_MIN = 64;

function wordsOf(buf: Uint8Array): Uint32Array {
  let words = wordViews.get(buf.buffer);
  if (words === undefined) {
    words = new Uint32Array(buf.buffer, 0, buf.buffer.byteLength >>> 2);
    wordViews.set(buf.buffer, words);
  }
  return words;
}

/** Set bits in buf[start, start+len): the aligned middle of a long range a word at a time. */
export function popcount(buf: Uint8Array, start: number, len: number): number {
  let count = 0;
  let i = start;
  const end = start + len;
  if (len >= WORD_RANGE_MIN) {
    const words = wordsOf(buf);
    for (; ((buf.byteOffset + i) & 3) !== 0; i++) count += popcount8(buf[i]!);
    let word = (buf.byteOffset + i) >>> 2;
    const lastWord = ((buf.byteOffset + end) >>> 2) - 1;
    for (; word <= lastWord; word++) count += popcount32(words[word]!);
    i = (word << 2) - buf.byteOffset;
  }
  for (; i < end; i++) count += popcount8(buf[i]!);
  return count;
}

/**
 * The first byte index in buf[from, to) that is not `skip` (0 or 0xff), or `to`: aligned
 * words at a time over long runs.
 */
function skipBytes(buf: Uint8Array, from: number, to: number, skip: number): number {
  let i = from;
  if (to - from >= WORD_RANGE_MIN) {
    const words = wordsOf(buf);
    const skipWord = skip === 0 ? 0 : 0xffffffff;
    for (; ((buf.byteOffset + i) & 3) !== 0; i++) if (buf[i] !== skip) return i;
    let word = (buf.byteOffset + i) >>> 2;
    const lastWord = ((buf.byteOffset + to) >>> 2) - 1;
    while (word <= lastWord && words[word] === skipWord) word++;
    i = (word << 2) - buf.byteOffset;
  }
  while (i < to && buf[i] === skip) i++;
  return i;
}

/** The bit at absolute bit index `bit` of the bytes starting at buf[base]. */
export function bitAt(buf: Uint8Array, base: number, bit: number): number {
  return (buf[base + Math.floor(bit / 8)]! >> (7 - (bit & 7))) & 1;
}

/** Set bits among bits [firstBit, lastBit] of the bytes from buf[base] (BITCOUNT ... BIT). */
export function popcountBits(buf: Uint8Array, base: number, firstBit: number, lastBit: number): number {
  const firstByte = Math.floor(firstBit / 8);
  const lastByte = Math.floor(lastBit / 8);
  let count = popcount(buf, base + firstByte, lastByte - firstByte + 1);
  // Take back the bits of the edge bytes that lie outside the range.
  const headMask = ~(0xff >> (firstBit & 7)) & 0xff;
  const tailMask = 0xff >> ((lastBit & 7) + 1);
  count -= popcount8(buf[base + firstByte]! & headMask);
  count -= popcount8(buf[base + lastByte]! & tailMask);
  return count;
}

/**
 * The index of the first bit equal to `bit` among bits [firstBit, lastBit] of the bytes
 * from buf[base], or -1 when there is none: partial edge bytes bit by bit, whole bytes by
 * skipping those that are all the other bit.
 */
export function findBit(buf: Uint8Array, base: number, firstBit: number, lastBit: number, bit: number): number {
  let i = firstBit;
  for (; i <= lastBit && (i & 7) !== 0; i++) if (bitAt(buf, base, i) === bit) return i;
  const skip = bit === 1 ? 0 : 0xff;
  const lastWholeByte = base + Math.floor((lastBit + 1) / 8) - 1;
  const byte = skipBytes(buf, base + i / 8, lastWholeByte + 1, skip);
  if (byte <= lastWholeByte) {
    const b = bit === 1 ? buf[byte]! : ~buf[byte]! & 0xff;
    return (byte - base) * 8 + Math.clz32(b) - 24;
  }
  for (i = (byte - base) * 8; i <= lastBit; i++) if (bitAt(buf, base, i) === bit) return i;
  return -1;
}

/**
 * The unsigned value of the `bits`-bit field at bit `offset` of buf[base, base+len), bits
 * past the end reading as zeros: a number for up to 32 bits, else a bigint.
 */
export function readField(buf: Uint8Array, base: number, len: number, offset: number, bits: number): number | bigint {
  const limit = len * 8;
  let high = 0;
  let low = 0;
  // The lowest 32 bits of the field go to `low`, any above them to `high`.
  const highBits = bits > 32 ? bits - 32 : 0;
  for (let k = 0; k < bits; k++) {
    const at = offset + k;
    const value = at < limit ? bitAt(buf, base, at) : 0;
    if (k < highBits) high = high * 2 + value;
    else low = low * 2 + value;
  }
  return highBits === 0 ? low : (BigInt(high) << 32n) | BigInt(low);
}

/**
 * Writes the low `bits` bits of `value` as the field at bit `offset` of the bytes from
 * buf[base]: a number (a field of at most 32 bits, in two's complement) or a bigint.
 */
export function writeField(buf: Uint8Array, base: number, offset: number, bits: number, value: number | bigint): void {
  if (typeof value === "number") {
    let rest = value >>> 0;
    for (let k = bits - 1; k >= 0; k--) {
      writeBit(buf, base, offset + k, rest & 1);
      rest >>>= 1;
    }
    return;
  }
  let rest = BigInt.asUintN(bits, value);
  for (let k = bits - 1; k >= 0; k--) {
    writeBit(buf, base, offset + k, Number(rest & 1n));
    rest >>= 1n;
  }
}

function writeBit(buf: Uint8Array, base: number, at: number, bit: number): void {
  const index = base + Math.floor(at / 8);
  const mask = 1 << (7 - (at & 7));
  buf[index] = bit === 1 ? buf[index]! | mask : buf[index]! & ~mask;
}
