/**
 * Intset: the `intset` encoding of small sets of integers, in Redis's exact byte layout
 * (intset.c), so that RDB and DUMP can write it as it is:
 *
 *   u32 LE  encoding: the bytes per entry, 2, 4 or 8 (int16, int32 or int64)
 *   u32 LE  length: the number of entries
 *   length entries, little-endian signed integers of that width, strictly ascending
 *
 * Every entry has the width of the widest value the set ever held: adding a value that
 * does not fit upgrades every entry first. Removing never downgrades, as in Redis.
 *
 * Two kinds of functions, as src/store/packed.ts expects of a packed encoding:
 * - reads take `(buf, base)`, the intset at buf[base ..], which may sit inside a shared
 *   page of the key table, and allocate nothing;
 * - edits take a standalone buffer holding the intset at offset 0, possibly with room to
 *   spare after it; an edit that lengthens it returns the buffer to keep (the same one or
 *   a bigger copy made by ensureRoom).
 *
 * Values are `Int64`s: JS numbers when safe integers, bigints beyond 2^53, so every int64
 * stays exact while the common case never touches a bigint. Int64 entries are compared as
 * two 32-bit halves, which is exact for both forms.
 */

import { ensureRoom } from "../util/bytes.ts";
import { randomBelow } from "../util/cursor.ts";
import type { Int64 } from "../util/numbers.ts";

/** Bytes before the first entry: the encoding and the length. */
export const INTSET_HEADER_BYTES = 8;
export const INTSET_ENC_INT16 = 2;
export const INTSET_ENC_INT32 = 4;
export const INTSET_ENC_INT64 = 8;

const TWO_POW_32 = 4294967296;
/** An int64 whose high half lies in this range is a safe integer or -2^53. */
const SAFE_HIGH_MIN = -2097152;
const SAFE_HIGH_MAX = 2097151;

// ---------------------------------------------------------------------------------------
// Little-endian fields
// ---------------------------------------------------------------------------------------

function readInt16(buf: Uint8Array, p: number): number {
  return ((buf[p]! | (buf[p + 1]! << 8)) << 16) >> 16;
}

function readInt32(buf: Uint8Array, p: number): number {
  return buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24);
}

function readUint32(buf: Uint8Array, p: number): number {
  return readInt32(buf, p) >>> 0;
}

/** Writes the low 32 bits of v (a number, taken modulo 2^32). */
function writeInt32(buf: Uint8Array, p: number, v: number): void {
  buf[p] = v & 0xff;
  buf[p + 1] = (v >>> 8) & 0xff;
  buf[p + 2] = (v >>> 16) & 0xff;
  buf[p + 3] = (v >>> 24) & 0xff;
}

// ---------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------

/** Bytes per entry: 2, 4 or 8. */
export function intsetEncoding(buf: Uint8Array, base: number): number {
  return readUint32(buf, base);
}

/** The number of entries. */
export function intsetLength(buf: Uint8Array, base: number): number {
  return readUint32(buf, base + 4);
}

/** The size of the whole intset in bytes, header included. */
export function intsetBytes(buf: Uint8Array, base: number): number {
  return INTSET_HEADER_BYTES + intsetLength(buf, base) * intsetEncoding(buf, base);
}

/** The entry at `index` (0 .. length-1), in ascending order. */
export function intsetGet(buf: Uint8Array, base: number, index: number): Int64 {
  const enc = intsetEncoding(buf, base);
  return readEntry(buf, base + INTSET_HEADER_BYTES + index * enc, enc);
}

/** A uniformly random entry of a non-empty intset (Redis's intsetRandom). */
export function intsetRandom(buf: Uint8Array, base: number): Int64 {
  return intsetGet(buf, base, randomBelow(intsetLength(buf, base)));
}

/** Whether `value` is an entry (Redis's intsetFind). */
export function intsetFind(buf: Uint8Array, base: number, value: Int64): boolean {
  const enc = intsetEncoding(buf, base);
  if (valueEncoding(value) > enc) return false;
  setProbe(value);
  return search(buf, base, enc, intsetLength(buf, base)) >= 0;
}

/** The entry of width `enc` at byte p, as an Int64. */
function readEntry(buf: Uint8Array, p: number, enc: number): Int64 {
  if (enc === INTSET_ENC_INT16) return readInt16(buf, p);
  if (enc === INTSET_ENC_INT32) return readInt32(buf, p);
  const high = readInt32(buf, p + 4);
  const low = readUint32(buf, p);
  if (high >= SAFE_HIGH_MIN && high <= SAFE_HIGH_MAX) {
    // Exact here: |value| <= 2^53. Only -2^53 itself is not a safe integer.
    const value = high * TWO_POW_32 + low;
    if (value >= -Number.MAX_SAFE_INTEGER) return value;
  }
  return (BigInt(high) << 32n) + BigInt(low);
}

/** The narrowest encoding that holds v (Redis's _intsetValueEncoding). */
export function valueEncoding(v: Int64): number {
  if (typeof v === "bigint") return INTSET_ENC_INT64;
  if (v < -2147483648 || v > 2147483647) return INTSET_ENC_INT64;
  if (v < -32768 || v > 32767) return INTSET_ENC_INT32;
  return INTSET_ENC_INT16;
}

// ---------------------------------------------------------------------------------------
// Binary search
// ---------------------------------------------------------------------------------------

/*
 * The value being searched for, kept in module state so that a search allocates nothing:
 * as a number (exact for int16 and int32 entries, which only safe values can match) and
 * as the signed high and unsigned low 32-bit halves int64 entries are compared by.
 */
let probeNumber = 0;
let probeHigh = 0;
let probeLow = 0;

function setProbe(v: Int64): void {
  if (typeof v === "number") {
    probeNumber = v;
    probeHigh = Math.floor(v / TWO_POW_32);
    probeLow = v - probeHigh * TWO_POW_32;
  } else {
    probeNumber = Number(v);
    probeHigh = Number(BigInt.asIntN(32, v >> 32n));
    probeLow = Number(BigInt.asUintN(32, v));
  }
}

/** Entry at byte p compared with the probe: negative, zero or positive. */
function compareWithProbe(buf: Uint8Array, p: number, enc: number): number {
  if (enc === INTSET_ENC_INT16) return readInt16(buf, p) - probeNumber;
  if (enc === INTSET_ENC_INT32) return readInt32(buf, p) - probeNumber;
  const high = readInt32(buf, p + 4);
  if (high !== probeHigh) return high - probeHigh;
  return readUint32(buf, p) - probeLow;
}

/**
 * The index of the probe among `length` entries of width `enc`, or, when absent, the
 * bitwise complement (~) of the index where it would be inserted. The probe must fit `enc`.
 */
function search(buf: Uint8Array, base: number, enc: number, length: number): number {
  const first = base + INTSET_HEADER_BYTES;
  let low = 0;
  let high = length - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    const cmp = compareWithProbe(buf, first + mid * enc, enc);
    if (cmp < 0) low = mid + 1;
    else if (cmp > 0) high = mid - 1;
    else return mid;
  }
  return ~low;
}

// ---------------------------------------------------------------------------------------
// Editing (a standalone buffer, the intset at offset 0)
// ---------------------------------------------------------------------------------------

/** A new empty intset (int16 entries) with room for `capacity` int16 entries. */
export function intsetNew(capacity = 0): Uint8Array {
  const buf = new Uint8Array(INTSET_HEADER_BYTES + capacity * INTSET_ENC_INT16);
  writeInt32(buf, 0, INTSET_ENC_INT16);
  return buf;
}

/**
 * Adds value (Redis's intsetAdd). Returns the buffer to keep, which may be a bigger copy,
 * or null when value was already an entry and nothing changed.
 */
export function intsetAdd(buf: Uint8Array, value: Int64): Uint8Array | null {
  const enc = intsetEncoding(buf, 0);
  const length = intsetLength(buf, 0);
  const wanted = valueEncoding(value);
  if (wanted > enc) return upgradeAndAdd(buf, value, wanted, enc, length);
  setProbe(value);
  const found = search(buf, 0, enc, length);
  if (found >= 0) return null;
  const at = INTSET_HEADER_BYTES + ~found * enc;
  const used = INTSET_HEADER_BYTES + length * enc;
  const out = ensureRoom(buf, used, used + enc);
  out.copyWithin(at + enc, at, used);
  writeEntry(out, at, enc, value);
  writeInt32(out, 4, length + 1);
  return out;
}

/**
 * Widens every entry to `wanted` bytes and adds value, which, being too wide for the old
 * encoding, is below every entry (negative) or above every entry. Entries move from the
 * last to the first, so each one is read before its wider copy can overwrite it.
 */
function upgradeAndAdd(buf: Uint8Array, value: Int64, wanted: number, enc: number, length: number): Uint8Array {
  const prepend = value < 0 ? 1 : 0;
  const out = ensureRoom(buf, INTSET_HEADER_BYTES + length * enc, INTSET_HEADER_BYTES + (length + 1) * wanted);
  for (let i = length - 1; i >= 0; i--) {
    // Old entries are int16 or int32, always plain numbers.
    const entry = readEntry(out, INTSET_HEADER_BYTES + i * enc, enc);
    writeEntry(out, INTSET_HEADER_BYTES + (i + prepend) * wanted, wanted, entry);
  }
  writeEntry(out, INTSET_HEADER_BYTES + (prepend === 1 ? 0 : length) * wanted, wanted, value);
  writeInt32(out, 0, wanted);
  writeInt32(out, 4, length + 1);
  return out;
}

/** Writes v as an entry of width enc at byte p; v must fit. */
function writeEntry(buf: Uint8Array, p: number, enc: number, v: Int64): void {
  if (enc === INTSET_ENC_INT16) {
    const n = v as number;
    buf[p] = n & 0xff;
    buf[p + 1] = (n >> 8) & 0xff;
  } else if (enc === INTSET_ENC_INT32) {
    writeInt32(buf, p, v as number);
  } else if (typeof v === "number") {
    const high = Math.floor(v / TWO_POW_32);
    writeInt32(buf, p, v - high * TWO_POW_32);
    writeInt32(buf, p + 4, high);
  } else {
    writeInt32(buf, p, Number(BigInt.asUintN(32, v)));
    writeInt32(buf, p + 4, Number(BigInt.asIntN(32, v >> 32n)));
  }
}

/** Removes value in place (Redis's intsetRemove). Returns true when it was an entry. */
export function intsetRemove(buf: Uint8Array, value: Int64): boolean {
  const enc = intsetEncoding(buf, 0);
  if (valueEncoding(value) > enc) return false;
  const length = intsetLength(buf, 0);
  setProbe(value);
  const index = search(buf, 0, enc, length);
  if (index < 0) return false;
  const at = INTSET_HEADER_BYTES + index * enc;
  buf.copyWithin(at, at + enc, INTSET_HEADER_BYTES + length * enc);
  writeInt32(buf, 4, length - 1);
  return true;
}

// ---------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------

/**
 * Whether buf[base .. base+size) is a well-formed intset, as Redis's
 * intsetValidateIntegrity with deep checking decides before trusting loaded bytes: a
 * known encoding, a length that accounts for exactly `size` bytes, at least one entry,
 * entries strictly ascending. Never throws, and never reads outside the given range.
 */
export function intsetValidate(buf: Uint8Array, base: number, size: number): boolean {
  if (!(size >= INTSET_HEADER_BYTES) || base < 0 || base + size > buf.length) return false;
  const enc = intsetEncoding(buf, base);
  if (enc !== INTSET_ENC_INT16 && enc !== INTSET_ENC_INT32 && enc !== INTSET_ENC_INT64) return false;
  const length = intsetLength(buf, base);
  if (INTSET_HEADER_BYTES + length * enc !== size || length === 0) return false;
  const first = base + INTSET_HEADER_BYTES;
  for (let i = 1; i < length; i++) {
    // Each entry, as the probe, must be above the one before it.
    setProbe(readEntry(buf, first + i * enc, enc));
    if (compareWithProbe(buf, first + (i - 1) * enc, enc) >= 0) return false;
  }
  return true;
}
