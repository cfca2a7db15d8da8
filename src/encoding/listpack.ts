/**
 * Listpack: the packed sequence of strings and integers behind small hashes, sorted sets
 * and list nodes, in the exact byte layout of Redis 7.0's listpack.c. RDB files hold a
 * listpack value as these very bytes, so a listpack built here must be byte-identical to
 * the one Redis builds from the same edits, and one Redis wrote must read back here.
 *
 * Layout (all multi-byte numbers little-endian):
 *
 *   <total-bytes u32> <count u16> <entry> ... <entry> <0xFF>
 *
 * `total-bytes` counts everything, header and terminator included. `count` is the number
 * of entries, or 65535 ("unknown") once there are that many or more: then the length is
 * found by walking, and written back as soon as it fits again (as lpLength does).
 *
 * An entry is its encoding, its data, then its backlen:
 *
 *   0xxxxxxx                       7-bit unsigned integer 0..127
 *   10llllll <data>                string of up to 63 bytes
 *   110xxxxx xxxxxxxx              13-bit signed integer, high bits in the first byte
 *   1110llll llllllll <data>       string of up to 4095 bytes, length high bits first
 *   0xF0 <len u32> <data>          longer string
 *   0xF1 / 0xF2 / 0xF3 / 0xF4      16 / 24 / 32 / 64-bit signed integer
 *
 * A string that is a canonical int64 (Redis's string2ll: no sign but "-", no leading zero,
 * no space, not "-0") is always stored as the smallest integer encoding that holds it, so
 * "01" and " 1" stay strings while "1" becomes 0x01.
 *
 * The backlen is the size of encoding plus data, in 1 to 5 bytes written so that it reads
 * right to left: the last byte holds the lowest 7 bits and each byte but the leftmost has
 * its high bit set to say "more to the left". It lets a reader step back from an entry to
 * the one before it, which is how the list is walked from the tail.
 *
 * Positions are absolute byte indexes into the buffer; -1 stands for "no entry" where
 * Redis returns NULL. Reading functions take `(buf, base)`, the listpack being buf[base..]
 * (a value inline in a key record lives in the middle of a page), and never allocate:
 * `lpGet` fills the module-level `lpEntry` record. Editing functions work on a standalone
 * buffer holding the listpack at offset 0, possibly with room after it, and return the
 * buffer to keep (a bigger one from `ensureRoom` when the edit needs it); where Redis hands
 * back a pointer through `newp`, they leave it in `lpEdited.pos`.
 */

import { bytesEqual, copyBytes, ensureRoom } from "../util/bytes.ts";
import { parseLongLong, parsedInt64, type Int64, INT64_MAX, INT64_MIN } from "../util/numbers.ts";
import { latin1 } from "../resp/parser.ts";
import type { ReplyWriter } from "../resp/writer.ts";

/** Header size: total bytes (u32) and entry count (u16). */
export const LP_HDR_SIZE = 6;
/** The terminator byte, which no entry encoding starts with. */
export const LP_EOF = 0xff;
/** A count header of 65535 means "count by walking". */
export const LP_COUNT_UNKNOWN = 0xffff;
/** An empty listpack: header and terminator. */
export const LP_EMPTY_SIZE = LP_HDR_SIZE + 1;

/** Where an insertion goes relative to the given entry. */
export const LP_BEFORE = 0;
export const LP_AFTER = 1;
export const LP_REPLACE = 2;
export type LpWhere = typeof LP_BEFORE | typeof LP_AFTER | typeof LP_REPLACE;

const ENC_6BIT_STR = 0x80;
const ENC_13BIT_INT = 0xc0;
const ENC_12BIT_STR = 0xe0;
const ENC_32BIT_STR = 0xf0;
const ENC_16BIT_INT = 0xf1;
const ENC_24BIT_INT = 0xf2;
const ENC_32BIT_INT = 0xf3;
const ENC_64BIT_INT = 0xf4;

const TWO_32 = 4294967296;
const MAX_TOTAL_BYTES = 0xffffffff;

// ---------------------------------------------------------------------------
// Header

function readU32(buf: Uint8Array, at: number): number {
  return (buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16)) + buf[at + 3]! * 0x1000000;
}

/** Writes the low `n` bytes of v (an integer in int32 or uint32 range) little-endian. */
function writeLE(buf: Uint8Array, at: number, v: number, n: number): void {
  for (let i = 0; i < n; i++) {
    buf[at + i] = v & 0xff;
    v >>>= 8;
  }
}

/** Size of the listpack at buf[base..] in bytes, header and terminator included. */
export function lpBytes(buf: Uint8Array, base: number): number {
  return readU32(buf, base);
}

/** The count header as stored: LP_COUNT_UNKNOWN when it must be counted by walking. */
export function lpCountHeader(buf: Uint8Array, base: number): number {
  return buf[base + 4]! | (buf[base + 5]! << 8);
}

function setTotalBytes(buf: Uint8Array, base: number, total: number): void {
  writeLE(buf, base, total, 4);
}

function setCountHeader(buf: Uint8Array, base: number, count: number): void {
  writeLE(buf, base + 4, count, 2);
}

/** Adds delta to the count header unless it says "unknown", as every Redis edit does. */
function adjustCount(buf: Uint8Array, delta: number): void {
  const count = lpCountHeader(buf, 0);
  if (count !== LP_COUNT_UNKNOWN) setCountHeader(buf, 0, count + delta);
}

// ---------------------------------------------------------------------------
// Entry sizes

/**
 * Bytes of an entry's encoding and data (Redis's lpCurrentEncodedSizeUnsafe): 1 for the
 * terminator, 0 for a byte that starts no encoding.
 */
function encodedSize(buf: Uint8Array, p: number): number {
  const b = buf[p]!;
  if (b < ENC_6BIT_STR) return 1;
  if (b < ENC_13BIT_INT) return 1 + (b & 0x3f);
  if (b < ENC_12BIT_STR) return 2;
  if (b < ENC_32BIT_STR) return 2 + (((b & 0x0f) << 8) | buf[p + 1]!);
  switch (b) {
    case ENC_32BIT_STR:
      return 5 + readU32(buf, p + 1);
    case ENC_16BIT_INT:
      return 3;
    case ENC_24BIT_INT:
      return 4;
    case ENC_32BIT_INT:
      return 5;
    case ENC_64BIT_INT:
      return 9;
    case LP_EOF:
      return 1;
    default:
      return 0;
  }
}

/**
 * Bytes needed to read an entry's size from its first byte on (lpCurrentEncodedSizeBytes),
 * or 0 for a byte that starts no encoding. Validation checks these are inside the buffer
 * before reading the size.
 */
function sizeFieldBytes(b: number): number {
  if (b < ENC_12BIT_STR) return 1;
  if (b < ENC_32BIT_STR) return 2;
  if (b === ENC_32BIT_STR) return 5;
  return b <= ENC_64BIT_INT || b === LP_EOF ? 1 : 0;
}

/** Bytes of the backlen for an entry of encoded size l (Redis's thresholds, exactly). */
function backlenSize(l: number): number {
  if (l <= 127) return 1;
  if (l < 16383) return 2;
  if (l < 2097151) return 3;
  if (l < 268435455) return 4;
  return 5;
}

/** Writes the backlen of an entry of encoded size l at `at`; returns the offset after it. */
function writeBacklen(buf: Uint8Array, at: number, l: number): number {
  const n = backlenSize(l);
  let v = l;
  for (let i = n - 1; i > 0; i--) {
    buf[at + i] = (v & 127) | 128;
    v = Math.floor(v / 128);
  }
  buf[at] = v;
  return at + n;
}

/**
 * Reads the backlen whose last byte is at `last`, right to left; -1 when it runs past 5
 * bytes, which no valid backlen does. Bytes before the buffer read as 0 and stop it.
 */
function readBacklen(buf: Uint8Array, last: number): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; ; i++) {
    const b = buf[last - i]! | 0;
    value += (b & 127) * scale;
    if ((b & 128) === 0) return value;
    if (i === 4) return -1;
    scale *= 128;
  }
}

/** Position just past the entry at p, its backlen included (Redis's lpSkip). */
export function lpSkip(buf: Uint8Array, p: number): number {
  const size = encodedSize(buf, p);
  return p + size + backlenSize(size);
}

// ---------------------------------------------------------------------------
// Navigation

/** The first entry, or -1 when the listpack is empty. */
export function lpFirst(buf: Uint8Array, base: number): number {
  const p = base + LP_HDR_SIZE;
  return buf[p] === LP_EOF ? -1 : p;
}

/** The entry after p, or -1 when p is the last one. */
export function lpNext(buf: Uint8Array, p: number): number {
  const next = lpSkip(buf, p);
  return buf[next] === LP_EOF ? -1 : next;
}

/** The entry before p (p may be the terminator), or -1 when p is the first one. */
export function lpPrev(buf: Uint8Array, base: number, p: number): number {
  if (p === base + LP_HDR_SIZE) return -1;
  const size = readBacklen(buf, p - 1);
  return p - size - backlenSize(size);
}

/** The last entry, or -1 when the listpack is empty. */
export function lpLast(buf: Uint8Array, base: number): number {
  return lpPrev(buf, base, base + lpBytes(buf, base) - 1);
}

/** Position of the terminator. */
export function lpEnd(buf: Uint8Array, base: number): number {
  return base + lpBytes(buf, base) - 1;
}

/**
 * Number of entries. Like Redis's lpLength, an "unknown" count header is settled by
 * walking, and written back when the count fits again, so the header (and any RDB dump
 * of these bytes) stays as Redis would have it.
 */
export function lpLength(buf: Uint8Array, base: number): number {
  const header = lpCountHeader(buf, base);
  if (header !== LP_COUNT_UNKNOWN) return header;
  let count = 0;
  for (let p = base + LP_HDR_SIZE; buf[p] !== LP_EOF; p = lpSkip(buf, p)) count++;
  if (count < LP_COUNT_UNKNOWN) setCountHeader(buf, base, count);
  return count;
}

/**
 * The entry at a zero-based index, negative counting from the tail (-1 is the last), or
 * -1 when out of range. Like Redis's lpSeek it walks from the nearer end when the count
 * is known, and from the tail for negative indexes when it is not.
 */
export function lpSeek(buf: Uint8Array, base: number, index: number): number {
  const count = lpCountHeader(buf, base);
  let forward = true;
  if (count !== LP_COUNT_UNKNOWN) {
    if (index < 0) index += count;
    if (index < 0 || index >= count) return -1;
    if (index > count >>> 1) {
      forward = false;
      index -= count;
    }
  } else if (index < 0) {
    forward = false;
  }
  return forward ? seekForward(buf, base, index) : seekBackward(buf, base, index);
}

function seekForward(buf: Uint8Array, base: number, index: number): number {
  let p = lpFirst(buf, base);
  for (; index > 0 && p !== -1; index--) p = lpNext(buf, p);
  return p;
}

function seekBackward(buf: Uint8Array, base: number, index: number): number {
  let p = lpLast(buf, base);
  for (; index < -1 && p !== -1; index++) p = lpPrev(buf, base, p);
  return p;
}

// ---------------------------------------------------------------------------
// Reading entries

/**
 * What `lpGet` found, filled in place so that reading allocates nothing. Valid until the
 * next lpGet, lpFind or lpCompare call.
 */
export const lpEntry = {
  /** True for an integer entry, false for a string. */
  isInt: false,
  /** The integer; when `isBig` it is only the nearest double and `big` is exact. */
  int: 0,
  /** True when the integer lies beyond 2^53: read `big`. */
  isBig: false,
  big: 0n,
  /** A string entry's bytes: buf[start .. start + len). */
  start: 0,
  len: 0,
  /** Position just past the entry, its backlen included: the next entry or the terminator. */
  after: 0,
};

function setInt(value: number, p: number, size: number): void {
  lpEntry.isInt = true;
  lpEntry.isBig = false;
  lpEntry.int = value;
  lpEntry.after = p + size + backlenSize(size);
}

function setBigInt(value: bigint, p: number, size: number): void {
  setInt(Number(value), p, size);
  lpEntry.isBig = true;
  lpEntry.big = value;
}

function setString(p: number, headerBytes: number, len: number): void {
  lpEntry.isInt = false;
  lpEntry.start = p + headerBytes;
  lpEntry.len = len;
  const size = headerBytes + len;
  lpEntry.after = p + size + backlenSize(size);
}

/** The two's complement value of u, an unsigned number of `bits` bits: shifted up to bit 31 and back. */
function signed(u: number, bits: number): number {
  return (u << (32 - bits)) >> (32 - bits);
}

/** Decodes the entry at p into `lpEntry`. */
export function lpGet(buf: Uint8Array, p: number): void {
  const b = buf[p]!;
  if (b < ENC_6BIT_STR) return setInt(b, p, 1);
  if (b < ENC_13BIT_INT) return setString(p, 1, b & 0x3f);
  if (b < ENC_12BIT_STR) return setInt(signed(((b & 0x1f) << 8) | buf[p + 1]!, 13), p, 2);
  if (b < ENC_32BIT_STR) return setString(p, 2, ((b & 0x0f) << 8) | buf[p + 1]!);
  switch (b) {
    case ENC_32BIT_STR:
      return setString(p, 5, readU32(buf, p + 1));
    case ENC_16BIT_INT:
      return setInt(signed(buf[p + 1]! | (buf[p + 2]! << 8), 16), p, 3);
    case ENC_24BIT_INT:
      return setInt(signed(buf[p + 1]! | (buf[p + 2]! << 8) | (buf[p + 3]! << 16), 24), p, 4);
    case ENC_32BIT_INT:
      return setInt(readU32(buf, p + 1) | 0, p, 5);
    case ENC_64BIT_INT:
      return get64(buf, p);
    default:
      // Like lpGet on a corrupt entry: a recognisable integer rather than a crash.
      return setBigInt(12345678900000000n + BigInt(b), p, 1);
  }
}

/** A 64-bit integer entry: a plain number when it is a safe integer, else a bigint. */
function get64(buf: Uint8Array, p: number): void {
  const lo = readU32(buf, p + 1);
  const hi = readU32(buf, p + 5) | 0;
  const value = hi * TWO_32 + lo;
  // Beyond 2^53 the double is rounded, but it cannot round into the safe range.
  if (Number.isSafeInteger(value)) return setInt(value, p, 9);
  setBigInt(BigInt(hi) * 4294967296n + BigInt(lo), p, 9);
}

/** The integer of the entry lpGet just read, in numbers.ts's canonical Int64 form. */
export function lpEntryInt64(): Int64 {
  return lpEntry.isBig ? lpEntry.big : lpEntry.int;
}

/**
 * How the searched-for bytes read as an integer, parsed at most once per search:
 * ARG_UNPARSED until an integer entry asks, then ARG_NOT_INT, ARG_SAFE (argInt) or
 * ARG_BIG (argBig).
 */
const ARG_UNPARSED = 0;
const ARG_NOT_INT = 1;
const ARG_SAFE = 2;
const ARG_BIG = 3;
const arg = { kind: ARG_UNPARSED, int: 0, big: 0n };

function parseArg(src: Uint8Array, start: number, len: number): void {
  if (!parseLongLong(src, start, len)) {
    arg.kind = ARG_NOT_INT;
  } else if (parsedInt64.safe) {
    arg.kind = ARG_SAFE;
    arg.int = parsedInt64.value;
  } else {
    arg.kind = ARG_BIG;
    arg.big = parsedInt64.big;
  }
}

/** Whether the entry in lpEntry equals the bytes, with `arg` parsed on first need. */
function entryMatches(buf: Uint8Array, src: Uint8Array, start: number, len: number): boolean {
  const e = lpEntry;
  if (!e.isInt) return e.len === len && bytesEqual(buf, e.start, src, start, len);
  // Comparing numbers, not digits: bytes that are no canonical integer equal no integer.
  if (arg.kind === ARG_UNPARSED) parseArg(src, start, len);
  if (arg.kind === ARG_SAFE) return !e.isBig && e.int === arg.int;
  return arg.kind === ARG_BIG && e.isBig && e.big === arg.big;
}

/** Whether the entry at p holds exactly these bytes (Redis's lpCompare). */
export function lpCompare(buf: Uint8Array, p: number, src: Uint8Array, start: number, len: number): boolean {
  if (buf[p] === LP_EOF) return false;
  lpGet(buf, p);
  arg.kind = ARG_UNPARSED;
  return entryMatches(buf, src, start, len);
}

/**
 * The first entry from p on (p itself included) that holds these bytes, looking only at
 * every (skip+1)th entry: skip 1 visits the fields of a hash or the members of a sorted
 * set and jumps over their values or scores. -1 when none does, or when p is -1.
 */
export function lpFind(buf: Uint8Array, p: number, src: Uint8Array, start: number, len: number, skip: number): number {
  if (p < 0) return -1;
  arg.kind = ARG_UNPARSED;
  if (len < 64) {
    parseArg(src, start, len);
    if (arg.kind === ARG_NOT_INT) return findShortString(buf, p, src, start, len, skip);
  }
  let toSkip = 0;
  while (buf[p] !== LP_EOF) {
    if (toSkip > 0) {
      toSkip--;
      p = lpSkip(buf, p);
      continue;
    }
    lpGet(buf, p);
    if (entryMatches(buf, src, start, len)) return p;
    toSkip = skip;
    p = lpEntry.after;
  }
  return -1;
}

/**
 * lpFind for bytes that are no integer and shorter than 64: only a 6-bit string entry
 * with their exact header byte can hold them, so most entries are passed over by their
 * first byte, and the two small encodings are skipped without decoding (the common case
 * of hash fields, zset members and their values).
 */
function findShortString(buf: Uint8Array, p: number, src: Uint8Array, start: number, len: number, skip: number): number {
  const header = ENC_6BIT_STR | len;
  let toSkip = 0;
  for (let b = buf[p]!; b !== LP_EOF; b = buf[p]!) {
    if (toSkip === 0) {
      // Members often share a prefix ("field:", "member:"): the last byte tells most apart.
      if (b === header && (len === 0 || buf[p + len] === src[start + len - 1]) && bytesEqual(buf, p + 1, src, start, len)) return p;
      toSkip = skip;
    } else {
      toSkip--;
    }
    // A 7-bit integer is 1 byte, a 6-bit string 1 + its length: either way a 1-byte backlen.
    if (b < ENC_6BIT_STR) p += 2;
    else if (b < ENC_13BIT_INT) p += (b & 0x3f) + 2;
    else p = lpSkip(buf, p);
  }
  return -1;
}

/** The entry at p as a latin1 string (one char per byte), integers in decimal. */
export function lpGetLatin1(buf: Uint8Array, p: number): string {
  lpGet(buf, p);
  const e = lpEntry;
  if (!e.isInt) return latin1(buf, e.start, e.len);
  return e.isBig ? e.big.toString() : String(e.int);
}

/** Bytes of the header of the entry whose first byte is b: the length field for strings. */
function headerBytes(b: number): number {
  if (b >= ENC_6BIT_STR && b < ENC_13BIT_INT) return 1;
  if (b >= ENC_12BIT_STR && b < ENC_32BIT_STR) return 2;
  return b === ENC_32BIT_STR ? 5 : 1;
}

/**
 * The listing DEBUG LISTPACK prints (Redis's lpRepr), as Redis 7.0.15 prints it: each
 * entry's offset, sizes, bytes and value (cut at 40 bytes). `address` stands for where
 * the listpack lives, which Redis prints as a pointer.
 */
export function lpRepr(buf: Uint8Array, base: number, address: number): string {
  const out = [`{total bytes ${lpBytes(buf, base)}} {num entries ${lpLength(buf, base)}}`];
  let index = 0;
  for (let p = lpFirst(buf, base); p !== -1; p = lpNext(buf, p), index++) {
    const size = encodedSize(buf, p);
    const backlen = backlenSize(size);
    const header = headerBytes(buf[p]!);
    const hex: string[] = [];
    for (let i = 0; i < size + backlen; i++) hex.push(buf[p + i]!.toString(16).padStart(2, "0"));
    const value = lpGetLatin1(buf, p);
    out.push(
      "{",
      `\taddr: 0x${(address + p - base).toString(16).padStart(8, "0")},`,
      `\tindex: ${String(index).padStart(2)},`,
      `\toffset: ${p - base},`,
      `\thdr+entrylen+backlen: ${String(size + backlen).padStart(2)},`,
      `\thdrlen: ${String(header).padStart(3)},`,
      `\tbacklen: ${String(backlen).padStart(2)},`,
      `\tpayload: ${size - header}`,
      `\tbytes: ${hex.join("|")}|`,
      `\t[str]${value.length > 40 ? `${value.slice(0, 40)}...` : value}`,
      "}",
    );
  }
  out.push("{end}", "", "");
  return out.join("\n");
}

/** Replies with the entry at p as a bulk string, integers in decimal, without allocating. */
export function lpAddReplyEntry(w: ReplyWriter, buf: Uint8Array, p: number): void {
  lpGet(buf, p);
  const e = lpEntry;
  if (!e.isInt) w.addBulkView(buf, e.start, e.len);
  else w.addBulkInteger(e.isBig ? e.big : e.int);
}

// ---------------------------------------------------------------------------
// Encoding entries

/** Bytes of the smallest integer encoding holding v (a safe integer). */
function intEncodedSize(v: number): number {
  if (v >= 0 && v <= 127) return 1;
  if (v >= -4096 && v <= 4095) return 2;
  if (v >= -32768 && v <= 32767) return 3;
  if (v >= -8388608 && v <= 8388607) return 4;
  if (v >= -2147483648 && v <= 2147483647) return 5;
  return 9;
}

function stringEncodedSize(len: number): number {
  if (len < 64) return 1 + len;
  if (len < 4096) return 2 + len;
  return 5 + len;
}

/** Writes v (a safe integer) in its smallest encoding at `at`; returns the offset after it. */
function writeInt(buf: Uint8Array, at: number, v: number): number {
  const size = intEncodedSize(v);
  if (size === 1) {
    buf[at] = v;
  } else if (size === 2) {
    const u = v & 0x1fff;
    buf[at] = ENC_13BIT_INT | (u >> 8);
    buf[at + 1] = u & 0xff;
  } else if (size < 9) {
    // 16, 24 and 32 bits: the encoding byte then the low bytes of the two's complement.
    buf[at] = ENC_16BIT_INT + size - 3;
    writeLE(buf, at + 1, v, size - 1);
  } else {
    const hi = Math.floor(v / TWO_32);
    writeInt64Halves(buf, at, v - hi * TWO_32, hi);
  }
  return at + size;
}

/** Writes an int64 beyond the safe range (always the 64-bit encoding). */
function writeBigInt(buf: Uint8Array, at: number, v: bigint): number {
  const u = BigInt.asUintN(64, v);
  writeInt64Halves(buf, at, Number(u & 0xffffffffn), Number(u >> 32n));
  return at + 9;
}

function writeInt64Halves(buf: Uint8Array, at: number, lo: number, hi: number): void {
  buf[at] = ENC_64BIT_INT;
  writeLE(buf, at + 1, lo, 4);
  writeLE(buf, at + 5, hi, 4);
}

/** Writes a string entry's encoding and bytes at `at`; returns the offset after them. */
function writeString(buf: Uint8Array, at: number, src: Uint8Array, start: number, len: number): number {
  if (len < 64) {
    buf[at++] = ENC_6BIT_STR | len;
  } else if (len < 4096) {
    buf[at++] = ENC_12BIT_STR | (len >> 8);
    buf[at++] = len & 0xff;
  } else {
    buf[at++] = ENC_32BIT_STR;
    writeLE(buf, at, len, 4);
    at += 4;
  }
  copyBytes(src, start, buf, at, len);
  return at + len;
}

// ---------------------------------------------------------------------------
// Editing (listpack at offset 0 of a standalone buffer)

/**
 * Where the last edit left off, as Redis's `newp`: the inserted or replaced entry, or
 * after a deletion the entry that followed the deleted ones (-1 when none did).
 */
export const lpEdited = { pos: -1 };

/** A new empty listpack in a buffer of at least `capacityBytes`. */
export function lpNew(capacityBytes = 0): Uint8Array {
  const buf = new Uint8Array(Math.max(capacityBytes, LP_EMPTY_SIZE));
  setTotalBytes(buf, 0, LP_EMPTY_SIZE);
  buf[LP_HDR_SIZE] = LP_EOF;
  return buf;
}

/**
 * Makes room for an entry of `entryBytes` (backlen included) before p, after p or in
 * place of p, and updates the header for it. The gap starts at lpEdited.pos.
 */
function openGap(buf: Uint8Array, p: number, where: LpWhere, entryBytes: number): Uint8Array {
  const total = lpBytes(buf, 0);
  const at = where === LP_AFTER ? lpSkip(buf, p) : p;
  const removed = where === LP_REPLACE ? lpSkip(buf, p) - p : 0;
  const newTotal = total - removed + entryBytes;
  if (newTotal > MAX_TOTAL_BYTES) throw new RangeError("listpack would exceed 4 GB");
  buf = ensureRoom(buf, total, newTotal);
  buf.copyWithin(at + entryBytes, at + removed, total);
  setTotalBytes(buf, 0, newTotal);
  if (where !== LP_REPLACE) adjustCount(buf, 1);
  lpEdited.pos = at;
  return buf;
}

/**
 * Inserts the bytes src[start .. start+len) before, after or in place of the entry at p
 * (p may be the terminator for LP_BEFORE, which appends). Stored as an integer when they
 * are a canonical int64, as Redis does.
 */
export function lpInsertString(
  buf: Uint8Array,
  p: number,
  where: LpWhere,
  src: Uint8Array,
  start: number,
  len: number,
): Uint8Array {
  if (parseLongLong(src, start, len)) {
    return lpInsertInteger(buf, p, where, parsedInt64.safe ? parsedInt64.value : parsedInt64.big);
  }
  // Opening the gap moves bytes of this very buffer, so take the source out of its way.
  if (src === buf) {
    src = buf.slice(start, start + len);
    start = 0;
  }
  const size = stringEncodedSize(len);
  buf = openGap(buf, p, where, size + backlenSize(size));
  writeBacklen(buf, writeString(buf, lpEdited.pos, src, start, len), size);
  return buf;
}

/** Inserts an int64 before, after or in place of the entry at p. */
export function lpInsertInteger(buf: Uint8Array, p: number, where: LpWhere, v: Int64): Uint8Array {
  if (typeof v === "bigint") {
    if (v > INT64_MAX || v < INT64_MIN) throw new RangeError("listpack integer outside int64");
    if (v >= -9007199254740991n && v <= 9007199254740991n) v = Number(v);
  }
  const size = typeof v === "number" ? intEncodedSize(v) : 9;
  buf = openGap(buf, p, where, size + backlenSize(size));
  const at = lpEdited.pos;
  writeBacklen(buf, typeof v === "number" ? writeInt(buf, at, v) : writeBigInt(buf, at, v), size);
  return buf;
}

/**
 * Replaces the entry at p with these bytes where it lies, when their encoding takes exactly
 * the room the entry has (a hash value updated to one of the same size): nothing moves and
 * the backlen stays right. Returns false, having written nothing, when the sizes differ.
 * Works at any base, so the value can be edited where the keyspace keeps it.
 */
export function lpReplaceInPlace(buf: Uint8Array, p: number, src: Uint8Array, start: number, len: number): boolean {
  const room = encodedSize(buf, p);
  if (parseLongLong(src, start, len)) {
    if (!parsedInt64.safe || intEncodedSize(parsedInt64.value) !== room) return false;
    writeInt(buf, p, parsedInt64.value);
    return true;
  }
  if (stringEncodedSize(len) !== room) return false;
  writeString(buf, p, src, start, len);
  return true;
}

/** Appends the bytes as the last entry (Redis's lpAppend). */
export function lpAppend(buf: Uint8Array, src: Uint8Array, start: number, len: number): Uint8Array {
  return lpInsertString(buf, lpEnd(buf, 0), LP_BEFORE, src, start, len);
}

export function lpAppendInteger(buf: Uint8Array, v: Int64): Uint8Array {
  return lpInsertInteger(buf, lpEnd(buf, 0), LP_BEFORE, v);
}

/** Inserts the bytes as the first entry (Redis's lpPrepend). */
export function lpPrepend(buf: Uint8Array, src: Uint8Array, start: number, len: number): Uint8Array {
  return lpInsertString(buf, LP_HDR_SIZE, LP_BEFORE, src, start, len);
}

export function lpPrependInteger(buf: Uint8Array, v: Int64): Uint8Array {
  return lpInsertInteger(buf, LP_HDR_SIZE, LP_BEFORE, v);
}

/** Replaces the entry at p; lpEdited.pos is the new entry (still at p). */
export function lpReplace(buf: Uint8Array, p: number, src: Uint8Array, start: number, len: number): Uint8Array {
  return lpInsertString(buf, p, LP_REPLACE, src, start, len);
}

export function lpReplaceInteger(buf: Uint8Array, p: number, v: Int64): Uint8Array {
  return lpInsertInteger(buf, p, LP_REPLACE, v);
}

/** Deletes the entry at p; lpEdited.pos is the entry that followed it, or -1. */
export function lpDelete(buf: Uint8Array, p: number): Uint8Array {
  return lpDeleteRangeWithEntry(buf, p, 1);
}

/**
 * Deletes up to `count` entries from p on (fewer when the listpack ends first);
 * lpEdited.pos is the entry that followed them, or -1. A hash deletes a field and its
 * value with count 2.
 */
export function lpDeleteRangeWithEntry(buf: Uint8Array, p: number, count: number): Uint8Array {
  lpEdited.pos = p;
  if (count <= 0) return buf;
  const total = lpBytes(buf, 0);
  let tail = p;
  let deleted = 0;
  while (deleted < count) {
    deleted++;
    tail = lpSkip(buf, tail);
    if (buf[tail] === LP_EOF) break;
  }
  buf.copyWithin(p, tail, total);
  setTotalBytes(buf, 0, total - (tail - p));
  adjustCount(buf, -deleted);
  if (buf[p] === LP_EOF) lpEdited.pos = -1;
  return buf;
}

/**
 * Deletes `count` entries from the one at `index` (negative from the tail); nothing when
 * the index is out of range. Like Redis's lpDeleteRange, a deletion that reaches the end
 * with a known count just moves the terminator and sets the count to the index.
 */
export function lpDeleteRange(buf: Uint8Array, index: number, count: number): Uint8Array {
  if (count <= 0) return buf;
  const p = lpSeek(buf, 0, index);
  if (p === -1) return buf;
  const header = lpCountHeader(buf, 0);
  if (header === LP_COUNT_UNKNOWN) return lpDeleteRangeWithEntry(buf, p, count);
  if (index < 0) index += header;
  if (header - index > count) return lpDeleteRangeWithEntry(buf, p, count);
  buf[p] = LP_EOF;
  setTotalBytes(buf, 0, p + 1);
  setCountHeader(buf, 0, index);
  return buf;
}

/**
 * Appends the entries of the listpack at second[secondBase..] to the one in `first`
 * (quicklist's node merge, Redis's lpMerge): the count is the sum, or "unknown" when that
 * reaches 65535.
 */
export function lpMerge(first: Uint8Array, second: Uint8Array, secondBase: number): Uint8Array {
  if (first === second) throw new Error("lpMerge: cannot merge a listpack into itself");
  const firstBytes = lpBytes(first, 0);
  const secondBytes = lpBytes(second, secondBase);
  const count = Math.min(lpLength(first, 0) + lpLength(second, secondBase), LP_COUNT_UNKNOWN);
  const total = firstBytes + secondBytes - LP_EMPTY_SIZE;
  if (total > MAX_TOTAL_BYTES) throw new RangeError("listpack would exceed 4 GB");
  first = ensureRoom(first, firstBytes, total);
  first.set(second.subarray(secondBase + LP_HDR_SIZE, secondBase + secondBytes), firstBytes - 1);
  setTotalBytes(first, 0, total);
  setCountHeader(first, 0, count);
  return first;
}

// ---------------------------------------------------------------------------
// Validation

/**
 * Redis's lpValidateIntegrity, for bytes from an untrusted source (RESTORE, RDB): the
 * header's size is `sizeBytes`, the last byte is the terminator and, when `deep`, every
 * entry has a known encoding, lies inside the listpack, carries the backlen matching its
 * size, and the entries add up to the count header unless it says "unknown". Never throws
 * and always ends: each step moves forward by at least two bytes or stops.
 */
export function lpValidate(buf: Uint8Array, base: number, sizeBytes: number, deep: boolean): boolean {
  if (sizeBytes < LP_EMPTY_SIZE || base < 0 || base + sizeBytes > buf.length) return false;
  if (lpBytes(buf, base) !== sizeBytes) return false;
  const end = base + sizeBytes - 1;
  if (buf[end] !== LP_EOF) return false;
  if (!deep) return true;
  let count = 0;
  let p = base + LP_HDR_SIZE;
  while (buf[p] !== LP_EOF) {
    p = validateEntry(buf, p, end);
    if (p < 0) return false;
    count++;
  }
  if (p !== end) return false;
  const header = lpCountHeader(buf, base);
  return header === LP_COUNT_UNKNOWN || header === count;
}

/**
 * Checks the entry at p (p <= end, the terminator's position) and returns the position
 * after it, or -1 when it is corrupt (Redis's lpValidateNext).
 */
function validateEntry(buf: Uint8Array, p: number, end: number): number {
  const fieldBytes = sizeFieldBytes(buf[p]!);
  if (fieldBytes === 0 || p + fieldBytes > end) return -1;
  const size = encodedSize(buf, p);
  const next = p + size + backlenSize(size);
  if (next > end) return -1;
  return readBacklen(buf, next - 1) === size ? next : -1;
}
