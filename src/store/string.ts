// The string type over its three encodings (Redis's object.c string layer and the sds
// operations t_string.c uses): setting a value with tryObjectEncoding's choice of
// encoding, reading the bytes and the length, numeric views, and the in-place edits APPEND
// and SETRANGE make. Keyspace, DEBUG, RDB and AOF code read and write strings through here
// so that every string has the encoding Redis would give it, and this is the one place that
// knows where a string's bytes live.
//
// A string is a KeyTable entry (see store/db.ts). The encoding Redis reports is in the
// entry's metadata; where the value lives depends on its size and kind:
//
//   int           a Number value when it is a safe integer (INCR rewrites it in place),
//                 an Object value holding a bigint for the rest of the int64 range
//   embstr, raw   Bytes inline in the entry's record up to INLINE_MAX bytes, else an
//                 Object value holding a Uint8Array (growable for APPEND and SETRANGE)
//
// Every value belongs to exactly one entry, so COPY duplicates it with `dupString`.

import { INLINE_MAX, ValueKind } from "./keytable.ts";
import type { Db } from "./db.ts";
import { Enc, EMBSTR_SIZE_LIMIT, META_UNSHARED, ObjType, metaEnc, packMeta } from "./object.ts";
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

/** The room an int-encoded value takes in a record (a Number), to reserve for a new key. */
export const INT64_RESERVE = 8;

/**
 * Buffers this module allocated with room to grow into (by APPEND and SETRANGE). Only
 * these may be written past a string's end: any other Uint8Array may be a view into a
 * shared pool or socket buffer.
 */
const growable = new WeakSet<ArrayBuffer>();

/** Where APPEND and SETRANGE build a short result before it goes back inline. */
const inlineScratch = new Uint8Array(INLINE_MAX);

// ---------------------------------------------------------------------------
// Setting a value. Each setter writes the whole metadata word, so the key's LRU clock is
// now and COPY's UNSHARED mark is gone.

/** Writes the string metadata of `id`: this encoding, used now. */
function setStringMeta(db: Db, id: number, enc: Enc): void {
  db.table.setMeta(id, packMeta(ObjType.String, enc, db.clock.lru));
}

/**
 * The room to reserve in a new entry's record for the value set from these bytes, so that
 * setting it moves nothing: what an integer takes as a Number, or the bytes themselves.
 */
export function stringReserve(buf: Uint8Array, start: number, len: number): number {
  if (len > INLINE_MAX) return 0;
  const first = buf[start]!;
  const maybeInteger = len <= INT_ENCODING_MAX_LEN && ((first >= 48 && first <= 57) || first === 45); // digit or '-'
  return maybeInteger && len < INT64_RESERVE ? INT64_RESERVE : len;
}

/**
 * Redis's tryObjectEncoding applied to bytes that are only borrowed (a command argument):
 * a canonical int64 of at most 20 bytes becomes `int` without copying anything, up to 44
 * bytes `embstr`, longer `raw`. The bytes are copied once, into the table when they fit.
 */
export function setString(db: Db, id: number, buf: Uint8Array, start: number, len: number): void {
  if (len <= INT_ENCODING_MAX_LEN && parseLongLong(buf, start, len)) {
    return setStringInt64(db, id, parsedInt64.safe ? parsedInt64.value : parsedInt64.big);
  }
  setPlainString(db, id, buf, start, len);
}

/**
 * Redis's createStringObject: `embstr` up to 44 bytes, `raw` above, never `int`. This is
 * what INCRBYFLOAT stores.
 */
export function setPlainString(db: Db, id: number, buf: Uint8Array, start: number, len: number): void {
  setStringBytes(db, id, buf, start, len);
  setStringMeta(db, id, len <= EMBSTR_SIZE_LIMIT ? Enc.EmbStr : Enc.Raw);
}

/** Redis's createRawStringObject (SETRANGE on a new key): `raw` whatever the length. */
export function setRawString(db: Db, id: number, buf: Uint8Array, start: number, len: number): void {
  setStringBytes(db, id, buf, start, len);
  setStringMeta(db, id, Enc.Raw);
}

/** The value of `id` becomes a copy of the bytes, inline when they fit. */
function setStringBytes(db: Db, id: number, buf: Uint8Array, start: number, len: number): void {
  if (len <= INLINE_MAX) db.table.setBytes(id, buf, start, len);
  else db.table.setObject(id, copyBytes(buf, start, len));
}

/** The `int` encoding of v (Redis's createStringObjectFromLongLongForValue: INCR, DECRBY ...). */
export function setStringInt64(db: Db, id: number, v: Int64): void {
  if (typeof v === "number") db.table.setNumber(id, v);
  else db.table.setObject(id, v);
  setStringMeta(db, id, Enc.Int);
}

/**
 * Gives `toId` in `to` an independent copy of the string `fromId` in `from`, with the same
 * encoding (Redis's dupStringObject, for COPY). A copied integer is a private object.
 */
export function dupString(from: Db, fromId: number, to: Db, toId: number): void {
  const source = from.table;
  const enc = metaEnc(source.getMeta(fromId));
  switch (source.valueKind(fromId)) {
    case ValueKind.Bytes:
      to.table.setBytes(toId, source.valuePage(fromId), source.valueOffset(fromId), source.valueLength(fromId));
      break;
    case ValueKind.Number:
      to.table.setNumber(toId, source.getNumber(fromId));
      break;
    default: {
      const value = source.getObject(fromId) as Uint8Array | bigint;
      to.table.setObject(toId, typeof value === "bigint" ? value : copyBytes(value, 0, value.length));
    }
  }
  setStringMeta(to, toId, enc);
  if (enc === Enc.Int) to.table.setMeta(toId, to.table.getMeta(toId) | META_UNSHARED);
}

// ---------------------------------------------------------------------------
// Reading

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

/** The bytes of ASCII text (formatted numbers), one per char. */
export function asciiBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let k = 0; k < text.length; k++) out[k] = text.charCodeAt(k);
  return out;
}

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
export function stringLength(db: Db, id: number): number {
  const table = db.table;
  switch (table.valueKind(id)) {
    case ValueKind.Bytes:
      return table.valueLength(id);
    case ValueKind.Number:
      return int64Length(table.getNumber(id));
    default: {
      const value = table.getObject(id) as Uint8Array | bigint;
      return typeof value === "bigint" ? int64Length(value) : value.length;
    }
  }
}

/**
 * The bytes of a string (Redis's getDecodedObject): a view of the stored bytes, valid
 * until the key's value changes and not to be modified, or fresh decimal bytes for int.
 */
export function stringBytes(db: Db, id: number): Uint8Array {
  const table = db.table;
  switch (table.valueKind(id)) {
    case ValueKind.Bytes: {
      const offset = table.valueOffset(id);
      return table.valuePage(id).subarray(offset, offset + table.valueLength(id));
    }
    case ValueKind.Number:
      return int64Bytes(table.getNumber(id));
    default: {
      const value = table.getObject(id) as Uint8Array | bigint;
      return typeof value === "bigint" ? int64Bytes(value) : value;
    }
  }
}

/** Reply with the string as a bulk string (Redis's addReplyBulk of a string object). */
export function addReplyString(w: ReplyWriter, db: Db, id: number): void {
  const table = db.table;
  const kind = table.valueKind(id);
  if (kind === ValueKind.Bytes) return w.addBulkView(table.valuePage(id), table.valueOffset(id), table.valueLength(id));
  if (kind === ValueKind.Number) return w.addBulkInteger(table.getNumber(id));
  const value = table.getObject(id) as Uint8Array | bigint;
  if (typeof value === "bigint") w.addBulkInteger(value);
  else w.addBulkView(value, 0, value.length);
}

/** Redis's getLongLongFromObject: the int64 a string holds, or null when it holds none. */
export function stringToInt64(db: Db, id: number): Int64 | null {
  const table = db.table;
  // Numbers first: INCR's case.
  switch (table.valueKind(id)) {
    case ValueKind.Number:
      return table.getNumber(id);
    case ValueKind.Bytes:
      return parseInt64(table.valuePage(id), table.valueOffset(id), table.valueLength(id));
    default: {
      const value = table.getObject(id) as Uint8Array | bigint;
      return typeof value === "bigint" ? value : parseInt64(value, 0, value.length);
    }
  }
}

/** Redis's getLongDoubleFromObject: the long double a string holds, or null. */
export function stringToLongDouble(db: Db, id: number): LongDouble | null {
  if (metaEnc(db.table.getMeta(id)) === Enc.Int) return longDoubleFromInt64(stringToInt64(db, id)!);
  const bytes = stringBytes(db, id);
  return parseLongDouble(bytes, 0, bytes.length);
}

// ---------------------------------------------------------------------------
// In-place edits. Both leave the string `raw`, as Redis's dbUnshareStringValue does.

/**
 * Where the string of `id` is edited to `newLen` bytes, its current bytes first: the
 * inline scratch when the result fits the record, else its own growable buffer (the one it
 * has when that is big enough). Growth follows sdsMakeRoomFor, so repeated APPENDs cost
 * amortized O(1) per byte.
 */
function editBuffer(db: Db, id: number, newLen: number): Uint8Array {
  const table = db.table;
  const current = table.valueKind(id) === ValueKind.Object ? table.getObject(id) : null;
  if (current instanceof Uint8Array && growable.has(current.buffer as ArrayBuffer) && current.buffer.byteLength >= newLen) {
    return new Uint8Array(current.buffer, 0, newLen);
  }
  const cur = current instanceof Uint8Array ? current : stringBytes(db, id);
  let out: Uint8Array;
  if (newLen <= INLINE_MAX) {
    out = inlineScratch.subarray(0, newLen);
  } else {
    const capacity = newLen < MAX_PREALLOC_BYTES ? newLen * 2 : newLen + MAX_PREALLOC_BYTES;
    const buf = new ArrayBuffer(capacity);
    growable.add(buf);
    out = new Uint8Array(buf, 0, newLen);
  }
  out.set(cur);
  return out;
}

/** Stores the edited bytes back as the raw value of `id`; returns its length. */
function storeEdited(db: Db, id: number, out: Uint8Array): number {
  if (out.buffer === inlineScratch.buffer) db.table.setBytes(id, out, 0, out.length);
  else db.table.setObject(id, out);
  setStringMeta(db, id, Enc.Raw);
  return out.length;
}

/** Append src[start, start+len) to the string (APPEND). Returns the new length. */
export function stringAppend(db: Db, id: number, src: Uint8Array, start: number, len: number): number {
  const oldLen = stringLength(db, id);
  const out = editBuffer(db, id, oldLen + len);
  out.set(src.subarray(start, start + len), oldLen);
  return storeEdited(db, id, out);
}

/**
 * Write src[start, start+len) at `offset`, zero-padding any gap past the old end
 * (SETRANGE, sdsgrowzero + memcpy). Returns the new length.
 */
export function stringSetRange(db: Db, id: number, offset: number, src: Uint8Array, start: number, len: number): number {
  const oldLen = stringLength(db, id);
  const out = editBuffer(db, id, Math.max(oldLen, offset + len));
  // Clear the gap rather than rely on the spare room of the buffer being zero.
  if (offset > oldLen) out.fill(0, oldLen, offset);
  out.set(src.subarray(start, start + len), offset);
  return storeEdited(db, id, out);
}

// ---------------------------------------------------------------------------
// Views for the bit commands. GETBIT, SETBIT and BITCOUNT are hot paths: they read and
// write a string's bytes where they are, so these report a place (buffer, base, length)
// in a shared result object instead of allocating a view per call.

/** Where `locateString` and `editStringInPlace` found a string's bytes: buf[base, base+len). */
export const stringAt = { buf: inlineScratch as Uint8Array, base: 0, len: 0 };

/** Where an int-encoded string's decimal text is written to be read (Redis's llbuf). */
const decimalScratch = new Uint8Array(24);

/**
 * Points `stringAt` at the bytes of the string `id` for reading, valid until the key's
 * value changes: the stored bytes, or the decimal text of an int-encoded value written
 * into a scratch buffer (Redis's getObjectReadOnlyString).
 */
export function locateString(db: Db, id: number): void {
  const table = db.table;
  switch (table.valueKind(id)) {
    case ValueKind.Bytes:
      stringAt.buf = table.valuePage(id);
      stringAt.base = table.valueOffset(id);
      stringAt.len = table.valueLength(id);
      return;
    case ValueKind.Number:
      stringAt.buf = decimalScratch;
      stringAt.base = 0;
      stringAt.len = formatInt64(table.getNumber(id), decimalScratch, 0);
      return;
    default: {
      const value = table.getObject(id) as Uint8Array | bigint;
      if (typeof value === "bigint") {
        stringAt.buf = decimalScratch;
        stringAt.len = formatInt64(value, decimalScratch, 0);
      } else {
        stringAt.buf = value;
        stringAt.len = value.length;
      }
      stringAt.base = 0;
    }
  }
}

/**
 * Makes the string `id` a raw string of at least `minLen` bytes, growing it with zero
 * bytes when shorter (Redis's dbUnshareStringValue then sdsgrowzero), and points
 * `stringAt` at its bytes, which the caller may then change in place until the key's value
 * changes. Returns whether the string grew. Once a string is raw and inline, or in a buffer
 * of this module, nothing is allocated unless it grows past its room.
 */
export function editStringInPlace(db: Db, id: number, minLen: number): boolean {
  const table = db.table;
  const oldLen = stringLength(db, id);
  const grows = minLen > oldLen;
  const kind = table.valueKind(id);
  const value = kind === ValueKind.Object ? table.getObject(id) : null;
  const editable = kind === ValueKind.Bytes || (value instanceof Uint8Array && growable.has(value.buffer as ArrayBuffer));
  if (grows || !editable || metaEnc(table.getMeta(id)) !== Enc.Raw) {
    const out = editBuffer(db, id, grows ? minLen : oldLen);
    // A reused buffer's spare room may hold old bytes: the growth must read as zeros.
    if (grows) out.fill(0, oldLen);
    storeEdited(db, id, out);
  }
  locateString(db, id);
  return grows;
}

/**
 * Makes `bytes` the raw string value of `id`, keeping the buffer itself when it is too big
 * to go inline (Redis's createObject of a freshly built sds: BITOP's result). The caller
 * gives the buffer up.
 */
export function adoptRawString(db: Db, id: number, bytes: Uint8Array): void {
  if (bytes.length <= INLINE_MAX) db.table.setBytes(id, bytes, 0, bytes.length);
  else db.table.setObject(id, bytes);
  setStringMeta(db, id, Enc.Raw);
}
