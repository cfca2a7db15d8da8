// The string type over its three encodings (Redis's object.c string layer and the sds
// operations t_string.c uses): creation with tryObjectEncoding's choice of encoding,
// reading the bytes and the length, numeric views, and the in-place edits APPEND and
// SETRANGE make. Keyspace, DEBUG, RDB and AOF code build and read strings through here so
// that every string has the encoding Redis would give it.
//
// Representation (see RObj): `int` holds the value itself, a number when it is a safe
// integer and a bigint for the rest of the int64 range; `embstr` and `raw` hold a
// Uint8Array. A string object belongs to exactly one key: APPEND, SETRANGE and INCR change
// it in place, so code that copies a value to a second key (COPY) duplicates it with
// `dupString` (moving it, as RENAME does, is fine).

import { Enc, EMBSTR_SIZE_LIMIT, ObjType, RObj, lruClock } from "./object.ts";
import type { ReplyWriter } from "../resp/writer.ts";
import {
  type Int64,
  type LongDouble,
  formatInt64,
  longDoubleFromInt64,
  parseInt64,
  parseLongDouble,
  parseLongLong,
  parsedInt64,
} from "../util/numbers.ts";

/** Redis's OBJ_ENCODING_INT applies to canonical integers of at most this many bytes. */
const INT_ENCODING_MAX_LEN = 20;

/** sdsMakeRoomFor's SDS_MAX_PREALLOC: growth doubles below it and adds it above. */
const MAX_PREALLOC_BYTES = 1024 * 1024;

/**
 * Buffers this module allocated with room to grow into (by APPEND and SETRANGE). Only
 * these may be written past a string's end: any other Uint8Array may be a view into a
 * shared pool or socket buffer.
 */
const growable = new WeakSet<ArrayBuffer>();

// ---------------------------------------------------------------------------
// Creation

/** A copy of buf[start, start+len) in a buffer of its own. */
export function copyBytes(buf: Uint8Array, start: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  if (len <= 32) {
    for (let k = 0; k < len; k++) out[k] = buf[start + k]!;
  } else {
    out.set(buf.subarray(start, start + len));
  }
  return out;
}

/**
 * Redis's tryObjectEncoding applied to bytes that are only borrowed (a command argument):
 * a canonical int64 of at most 20 bytes becomes `int` without copying anything, up to 44
 * bytes `embstr`, longer `raw`. The bytes are copied once when they are kept.
 */
export function createStringFromView(buf: Uint8Array, start: number, len: number, nowMs: number): RObj {
  if (len <= INT_ENCODING_MAX_LEN && parseLongLong(buf, start, len)) {
    return new RObj(ObjType.String, Enc.Int, parsedInt64.safe ? parsedInt64.value : parsedInt64.big, lruClock(nowMs));
  }
  const enc = len <= EMBSTR_SIZE_LIMIT ? Enc.EmbStr : Enc.Raw;
  return new RObj(ObjType.String, enc, copyBytes(buf, start, len), lruClock(nowMs));
}

/** tryObjectEncoding over bytes the new object takes ownership of (RDB loading, DEBUG). */
export function createString(bytes: Uint8Array, nowMs: number): RObj {
  const len = bytes.length;
  if (len <= INT_ENCODING_MAX_LEN && parseLongLong(bytes, 0, len)) {
    return new RObj(ObjType.String, Enc.Int, parsedInt64.safe ? parsedInt64.value : parsedInt64.big, lruClock(nowMs));
  }
  return createPlainString(bytes, nowMs);
}

/**
 * Redis's createStringObject: `embstr` up to 44 bytes, `raw` above, never `int`. This is
 * what INCRBYFLOAT stores. Takes ownership of the bytes.
 */
export function createPlainString(bytes: Uint8Array, nowMs: number): RObj {
  const enc = bytes.length <= EMBSTR_SIZE_LIMIT ? Enc.EmbStr : Enc.Raw;
  return new RObj(ObjType.String, enc, bytes, lruClock(nowMs));
}

/** Redis's createRawStringObject (SETRANGE on a new key). Takes ownership of the bytes. */
export function createRawString(bytes: Uint8Array, nowMs: number): RObj {
  return new RObj(ObjType.String, Enc.Raw, bytes, lruClock(nowMs));
}

/** The bytes of ASCII text (formatted numbers), one per char. */
export function asciiBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let k = 0; k < text.length; k++) out[k] = text.charCodeAt(k);
  return out;
}

/** Redis's createStringObjectFromLongLongForValue: always `int` (INCR, DECRBY ...). */
export function createStringFromInt64(v: Int64, nowMs: number): RObj {
  return new RObj(ObjType.String, Enc.Int, v, lruClock(nowMs));
}

/** An independent copy with the same encoding (Redis's dupStringObject). */
export function dupString(o: RObj, nowMs: number): RObj {
  const ptr = o.enc === Enc.Int ? o.ptr : copyBytes(o.ptr, 0, (o.ptr as Uint8Array).length);
  return new RObj(ObjType.String, o.enc, ptr, lruClock(nowMs));
}

/** Turn an existing object into the int encoding of v, in place (INCR's fast path). */
export function setStringInt64(o: RObj, v: Int64): void {
  o.enc = Enc.Int;
  o.ptr = v;
}

// ---------------------------------------------------------------------------
// Reading

/** Number of decimal characters of an int64, sign included, without building a string. */
export function int64Length(v: Int64): number {
  if (typeof v === "bigint") return v.toString().length;
  let n = v < 0 ? 2 : 1;
  for (let t = Math.abs(v); t >= 10; t = Math.floor(t / 10)) n++;
  return n;
}

/** The decimal bytes of an int64 (Redis's ll2string). */
export function int64Bytes(v: Int64): Uint8Array {
  const out = new Uint8Array(int64Length(v));
  formatInt64(v, out, 0);
  return out;
}

/** Redis's stringObjectLen. */
export function stringLength(o: RObj): number {
  return o.enc === Enc.Int ? int64Length(o.ptr) : (o.ptr as Uint8Array).length;
}

/**
 * The bytes of a string (Redis's getDecodedObject): the stored bytes themselves for raw
 * and embstr, which callers must not modify, or fresh decimal bytes for int.
 */
export function stringBytes(o: RObj): Uint8Array {
  return o.enc === Enc.Int ? int64Bytes(o.ptr) : (o.ptr as Uint8Array);
}

/** Reply with the string as a bulk string (Redis's addReplyBulk of a string object). */
export function addReplyString(w: ReplyWriter, o: RObj): void {
  if (o.enc === Enc.Int) return w.addBulkInteger(o.ptr);
  const p = o.ptr as Uint8Array;
  w.addBulkView(p, 0, p.length);
}

/** Redis's getLongLongFromObject: the int64 a string holds, or null when it holds none. */
export function stringToInt64(o: RObj): Int64 | null {
  if (o.enc === Enc.Int) return o.ptr;
  const p = o.ptr as Uint8Array;
  return parseInt64(p, 0, p.length);
}

/** Redis's getLongDoubleFromObject: the long double a string holds, or null. */
export function stringToLongDouble(o: RObj): LongDouble | null {
  if (o.enc === Enc.Int) return longDoubleFromInt64(o.ptr);
  const p = o.ptr as Uint8Array;
  return parseLongDouble(p, 0, p.length);
}

// ---------------------------------------------------------------------------
// In-place edits. Both leave the object `raw`, as Redis's dbUnshareStringValue does.

/**
 * Make `o` raw with room for `newLen` bytes, keeping its current bytes, and return the
 * buffer to write into (its first `newLen` bytes are what the string will hold). Growth
 * follows sdsMakeRoomFor, so repeated APPENDs cost amortized O(1) per byte.
 */
function reserveRaw(o: RObj, newLen: number): Uint8Array {
  const cur = stringBytes(o);
  if (o.enc === Enc.Raw && cur.byteOffset === 0 && growable.has(cur.buffer as ArrayBuffer) && cur.buffer.byteLength >= newLen) {
    return new Uint8Array(cur.buffer, 0, newLen);
  }
  const capacity = newLen < MAX_PREALLOC_BYTES ? newLen * 2 : newLen + MAX_PREALLOC_BYTES;
  const buf = new ArrayBuffer(capacity);
  growable.add(buf);
  const out = new Uint8Array(buf, 0, newLen);
  out.set(cur);
  o.enc = Enc.Raw;
  return out;
}

/** Append src[start, start+len) to the string (APPEND). Returns the new length. */
export function stringAppend(o: RObj, src: Uint8Array, start: number, len: number): number {
  const oldLen = stringLength(o);
  const out = reserveRaw(o, oldLen + len);
  out.set(src.subarray(start, start + len), oldLen);
  o.ptr = out;
  return out.length;
}

/**
 * Write src[start, start+len) at `offset`, zero-padding any gap past the old end
 * (SETRANGE, sdsgrowzero + memcpy). Returns the new length.
 */
export function stringSetRange(o: RObj, offset: number, src: Uint8Array, start: number, len: number): number {
  const oldLen = stringLength(o);
  const newLen = Math.max(oldLen, offset + len);
  const out = reserveRaw(o, newLen);
  // Clear the gap rather than rely on the spare room of the buffer being zero.
  if (offset > oldLen) out.fill(0, oldLen, offset);
  out.set(src.subarray(start, start + len), offset);
  o.ptr = out;
  return newLen;
}
