/**
 * The RDB encoding of values, byte for byte as Redis 7.0's rdb.c writes them: the object
 * type byte (rdbSaveObjectType) and the value (rdbSaveObject), with the length and string
 * encodings they are built from. RDB files, DUMP payloads and DEBUG OBJECT's
 * `serializedlength` (rdbSavedObjectLen: the value without its type byte) all come from here.
 *
 * ## Lengths (rdbSaveLen)
 *
 *   00LLLLLL                       6-bit length, below 64
 *   01LLLLLL LLLLLLLL              14-bit length, big-endian, below 16384
 *   10000000 <4 bytes big-endian>  32-bit length
 *   10000001 <8 bytes big-endian>  64-bit length
 *
 * ## Strings (rdbSaveRawString)
 *
 * The first byte 11xxxxxx marks a special encoding instead of a length:
 *
 *   11000000 <1 byte>    INT8:  a string of at most 11 bytes that is a canonical integer
 *   11000001 <2 bytes>   INT16  (little-endian), for the ranges of 8, 16 and 32 bits
 *   11000010 <4 bytes>   INT32
 *   11000011 <clen> <len> <clen bytes>
 *                        LZF: with `rdbcompression` on, a string longer than 20 bytes that
 *                        liblzf shrinks by at least 4 bytes
 *
 * Anything else is a length then the bytes as they are.
 *
 * ## Values
 *
 * - string (type 0): one string. An int-encoded value is written from its number; the
 *   result is the same as for its decimal bytes.
 * - list (type 18, QUICKLIST_2): the node count, then for each node its container (1 plain,
 *   2 packed) and its bytes (the element, or the listpack) as a string. A node Redis holds
 *   LZF-compressed is written as that compressed blob, even with `rdbcompression` off.
 * - set: intset (type 11) as the intset's bytes as one string; hashtable (type 2) as the
 *   count and the members, in the table's order.
 * - sorted set: listpack (type 17) as one string; skiplist (type 5, ZSET_2) as the count
 *   and then each member with its score as a little-endian binary double, from the highest
 *   element to the lowest (Redis walks the list from the tail, so loading only ever
 *   inserts at the head).
 * - hash: listpack (type 16) as one string; hashtable (type 4) as the count and then each
 *   field and value, in the table's order.
 *
 * The hashtable orders are this server's, not Redis's: both are the order of a table
 * seeded at random per process, so no two servers agree on them and nothing reads them.
 *
 * ## Sinks
 *
 * Everything is written into an RdbSink: a growable byte buffer that the RDB writer and
 * DUMP drain, or (measureOnly) a counter that only adds up the bytes, for DEBUG OBJECT.
 * Both take exactly the same path, LZF included, so the count is the length of the bytes.
 */

import { Enc, ObjType, metaEnc, metaType } from "../store/object.ts";
import { type KeyTable, ValueKind } from "../store/keytable.ts";
import { locatePackedIn, packedAt } from "../store/packed.ts";
import { lpBytes } from "../encoding/listpack.ts";
import { intsetBytes } from "../encoding/intset.ts";
import type { Quicklist } from "../encoding/quicklist.ts";
import type { SkiplistZSet } from "../encoding/skiplist.ts";
import type { Dict } from "../encoding/dict.ts";
import type { Stream } from "../store/stream.ts";
import { saveStream } from "../store/stream-rdb.ts";
import type { HashTable } from "../commands/hash.ts";
import { lzfCompress } from "./lzf.ts";
import { copyBytes } from "../util/bytes.ts";
import { type Int64, formatInt64, parseLongLong, parsedInt64 } from "../util/numbers.ts";

/**
 * RDB object type bytes (rdb.h's RDB_TYPE_*): the ones Redis 7.0 saves, and the older or
 * foreign ones it still loads (rdb-load.ts converts or refuses them).
 */
export const enum RdbType {
  String = 0,
  List = 1,
  Set = 2,
  ZSet = 3,
  Hash = 4,
  ZSet2 = 5,
  Module = 6,
  Module2 = 7,
  HashZipmap = 9,
  ListZiplist = 10,
  SetIntset = 11,
  ZSetZiplist = 12,
  HashZiplist = 13,
  ListQuicklist = 14,
  StreamListpacks = 15,
  HashListpack = 16,
  ZSetListpack = 17,
  ListQuicklist2 = 18,
  StreamListpacks2 = 19,
}

/** The first byte of a special string encoding: 11 in the top two bits (RDB_ENCVAL). */
const ENC_INT8 = 0xc0;
const ENC_INT16 = 0xc1;
const ENC_INT32 = 0xc2;
const ENC_LZF = 0xc3;
/** Length prefixes: 01 in the top bits announces 14 bits, then 32 or 64 bits follow. */
const LEN_14BIT = 0x40;
const LEN_32BIT = 0x80;
const LEN_64BIT = 0x81;

/** Strings of more bytes than this cannot hold an integer rdbTryIntegerEncoding accepts. */
const INT_STRING_MAX_LEN = 11;
/** Redis does not try LZF on strings this short: they cannot shrink by enough. */
const LZF_MIN_INPUT = 21;
/** Compression must save at least this many bytes, or the string is stored as it is. */
const LZF_MIN_SAVING = 4;

/** Quicklist containers (QUICKLIST_NODE_CONTAINER_*), written before each node. */
const CONTAINER_PLAIN = 1;
const CONTAINER_PACKED = 2;

const TWO_POW_32 = 2 ** 32;

// ---------------------------------------------------------------------------------------
// The sink
// ---------------------------------------------------------------------------------------

const EMPTY = new Uint8Array(0);

/** Where a binary double is laid out before it is copied into a sink. */
const doubleScratch = new DataView(new ArrayBuffer(8));
const doubleBytes = new Uint8Array(doubleScratch.buffer);

/**
 * Where serialized bytes go: `bytes[0 .. length)`, grown as needed. A measuring sink keeps
 * no bytes and only advances `length`. `compress` is the `rdbcompression` in force; the
 * caller sets it before each use, as Redis reads server.rdb_compression on every string.
 */
export class RdbSink {
  bytes: Uint8Array;
  length = 0;
  compress: boolean;
  readonly measureOnly: boolean;

  constructor(compress: boolean, measureOnly = false, capacityBytes = 4096) {
    this.compress = compress;
    this.measureOnly = measureOnly;
    this.bytes = measureOnly ? EMPTY : new Uint8Array(capacityBytes);
  }

  /** Forgets what was written, keeping the buffer (the RDB writer drains it per key). */
  clear(): void {
    this.length = 0;
  }

  /** The bytes written so far: a view, valid until the next write or clear. */
  written(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }

  writeByte(b: number): void {
    if (!this.measureOnly) {
      this.room(1);
      this.bytes[this.length] = b;
    }
    this.length++;
  }

  writeBytes(src: Uint8Array, start: number, len: number): void {
    if (!this.measureOnly) {
      this.room(len);
      copyBytes(src, start, this.bytes, this.length, len);
    }
    this.length += len;
  }

  /** A latin1 string (one char per byte), as the bytes it stands for. */
  writeLatin1(s: string): void {
    const n = s.length;
    if (!this.measureOnly) {
      this.room(n);
      const out = this.bytes;
      const at = this.length;
      for (let k = 0; k < n; k++) out[at + k] = s.charCodeAt(k);
    }
    this.length += n;
  }

  /** `v` (below 2^32) in 4 bytes, most significant first (htonl). */
  writeUint32BE(v: number): void {
    if (!this.measureOnly) {
      this.room(4);
      const out = this.bytes;
      const at = this.length;
      out[at] = v >>> 24;
      out[at + 1] = (v >>> 16) & 0xff;
      out[at + 2] = (v >>> 8) & 0xff;
      out[at + 3] = v & 0xff;
    }
    this.length += 4;
  }

  /** A safe integer in 8 bytes, most significant first (htonu64). */
  writeUint64BE(v: number): void {
    this.writeUint32BE(Math.floor(v / TWO_POW_32));
    this.writeUint32BE(v % TWO_POW_32);
  }

  /** An IEEE 754 double in 8 bytes, least significant first (rdbSaveBinaryDoubleValue). */
  writeDoubleLE(v: number): void {
    doubleScratch.setFloat64(0, v, true);
    this.writeBytes(doubleBytes, 0, 8);
  }

  /** Makes room for n more bytes, at least doubling, so writes stay amortised O(1). */
  private room(n: number): void {
    const needed = this.length + n;
    if (needed <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(needed, 2 * this.bytes.length));
    copyBytes(this.bytes, 0, grown, 0, this.length);
    this.bytes = grown;
  }
}

// ---------------------------------------------------------------------------------------
// Lengths and strings
// ---------------------------------------------------------------------------------------

/** rdbSaveLen: a length (a safe integer) in 1, 2, 5 or 9 bytes. */
export function saveLength(sink: RdbSink, len: number): void {
  if (len < 1 << 6) {
    sink.writeByte(len);
  } else if (len < 1 << 14) {
    sink.writeByte(LEN_14BIT | (len >>> 8));
    sink.writeByte(len & 0xff);
  } else if (len < TWO_POW_32) {
    sink.writeByte(LEN_32BIT);
    sink.writeUint32BE(len);
  } else {
    sink.writeByte(LEN_64BIT);
    sink.writeUint64BE(len);
  }
}

/** rdbEncodeInteger: v in the smallest INTn encoding, or false when v needs more than 32 bits. */
function saveEncodedInteger(sink: RdbSink, v: number): boolean {
  if (v >= -128 && v <= 127) {
    sink.writeByte(ENC_INT8);
    sink.writeByte(v & 0xff);
  } else if (v >= -32768 && v <= 32767) {
    sink.writeByte(ENC_INT16);
    sink.writeByte(v & 0xff);
    sink.writeByte((v >> 8) & 0xff);
  } else if (v >= -2147483648 && v <= 2147483647) {
    sink.writeByte(ENC_INT32);
    sink.writeByte(v & 0xff);
    sink.writeByte((v >> 8) & 0xff);
    sink.writeByte((v >> 16) & 0xff);
    sink.writeByte((v >>> 24) & 0xff);
  } else {
    return false;
  }
  return true;
}

/** Where LZF output is built before it goes into a sink (or is only counted). */
let lzfScratch = new Uint8Array(1024);

function lzfRoom(bytes: number): Uint8Array {
  if (lzfScratch.length < bytes) lzfScratch = new Uint8Array(Math.max(bytes, 2 * lzfScratch.length));
  return lzfScratch;
}

/** rdbSaveLzfBlob: compressed bytes with their compressed and original lengths. */
function saveLzfBlob(sink: RdbSink, compressed: Uint8Array, compressedLen: number, originalLen: number): void {
  sink.writeByte(ENC_LZF);
  saveLength(sink, compressedLen);
  saveLength(sink, originalLen);
  sink.writeBytes(compressed, 0, compressedLen);
}

/**
 * rdbSaveLzfStringObject: the string LZF-compressed when that saves at least 4 bytes
 * (liblzf given an output limit of len - 4); false, writing nothing, when it does not.
 */
function saveLzfString(sink: RdbSink, buf: Uint8Array, start: number, len: number): boolean {
  const limit = len - LZF_MIN_SAVING;
  const out = lzfRoom(limit);
  const compressedLen = lzfCompress(buf, start, len, out, 0, limit);
  if (compressedLen === 0) return false;
  saveLzfBlob(sink, out, compressedLen, len);
  return true;
}

/**
 * rdbSaveRawString: buf[start .. start + len) as an integer when it is a canonical one of
 * 32 bits or less, LZF-compressed when the sink compresses and that pays, else as is.
 */
export function saveRawString(sink: RdbSink, buf: Uint8Array, start: number, len: number): void {
  // parseLongLong is string2ll, which takes canonical integers only, so the round trip
  // rdbTryIntegerEncoding checks always holds; up to 11 bytes the value is a safe integer.
  if (len <= INT_STRING_MAX_LEN && parseLongLong(buf, start, len) && saveEncodedInteger(sink, parsedInt64.value)) return;
  if (sink.compress && len >= LZF_MIN_INPUT && saveLzfString(sink, buf, start, len)) return;
  saveLength(sink, len);
  sink.writeBytes(buf, start, len);
}

/** Where a latin1 string goes as bytes when its bytes must be examined. */
let latin1Scratch = new Uint8Array(256);

/**
 * saveRawString of a latin1 string (hashtable members, fields and values). Only strings
 * that may be integers or may be compressed are turned into bytes first; the rest go
 * straight into the sink, and a measuring sink only counts them.
 */
export function saveLatin1String(sink: RdbSink, s: string): void {
  const n = s.length;
  if (n > INT_STRING_MAX_LEN && !(sink.compress && n >= LZF_MIN_INPUT)) {
    saveLength(sink, n);
    sink.writeLatin1(s);
    return;
  }
  if (latin1Scratch.length < n) latin1Scratch = new Uint8Array(Math.max(n, 2 * latin1Scratch.length));
  const bytes = latin1Scratch;
  for (let k = 0; k < n; k++) bytes[k] = s.charCodeAt(k);
  saveRawString(sink, bytes, 0, n);
}

/** Decimal digits of an int64 that needs more than 32 bits (at most 20 bytes). */
const digitScratch = new Uint8Array(24);

/**
 * rdbSaveLongLongAsStringObject (an int-encoded string): the INTn encoding when v fits 32
 * bits, else its decimal digits with their length. Never LZF: 20 digits are too few.
 */
export function saveInt64String(sink: RdbSink, v: Int64): void {
  if (typeof v === "number" && saveEncodedInteger(sink, v)) return;
  const len = formatInt64(v, digitScratch, 0);
  saveLength(sink, len);
  sink.writeBytes(digitScratch, 0, len);
}

// ---------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------

/** rdbSaveObjectType: the type byte of a value with this metadata word. */
export function rdbTypeOf(meta: number): RdbType {
  const enc = metaEnc(meta);
  switch (metaType(meta)) {
    case ObjType.String:
      return RdbType.String;
    case ObjType.List:
      return RdbType.ListQuicklist2;
    case ObjType.Set:
      return enc === Enc.IntSet ? RdbType.SetIntset : RdbType.Set;
    case ObjType.ZSet:
      return enc === Enc.ListPack ? RdbType.ZSetListpack : RdbType.ZSet2;
    case ObjType.Hash:
      return enc === Enc.ListPack ? RdbType.HashListpack : RdbType.Hash;
    case ObjType.Stream:
      return RdbType.StreamListpacks2;
    default:
      throw new Error(`no RDB encoding for values of type ${metaType(meta)}`);
  }
}

/** rdbSaveObjectType. */
export function saveObjectType(sink: RdbSink, table: KeyTable, id: number): void {
  sink.writeByte(rdbTypeOf(table.getMeta(id)));
}

/**
 * rdbSaveObject: the value of key `id`, without its type byte. It takes the table, not a
 * database, because a background save also writes from tables FLUSHDB took away.
 */
export function saveObject(sink: RdbSink, table: KeyTable, id: number): void {
  const meta = table.getMeta(id);
  const enc = metaEnc(meta);
  switch (metaType(meta)) {
    case ObjType.String:
      return saveStringValue(sink, table, id);
    case ObjType.List:
      return saveQuicklist(sink, table.getObject(id) as Quicklist);
    case ObjType.Set:
      if (enc === Enc.IntSet) return savePacked(sink, table, id, enc);
      return saveMembers(sink, table.getObject(id) as Dict<null>);
    case ObjType.ZSet:
      if (enc === Enc.ListPack) return savePacked(sink, table, id, enc);
      return saveSkiplist(sink, table.getObject(id) as SkiplistZSet);
    case ObjType.Hash:
      if (enc === Enc.ListPack) return savePacked(sink, table, id, enc);
      return saveFields(sink, (table.getObject(id) as HashTable).fields);
    case ObjType.Stream:
      return saveStream(sink, table.getObject(id) as Stream);
    default:
      throw new Error(`no RDB encoding for values of type ${metaType(meta)}`);
  }
}

/** The sink DEBUG OBJECT measures with; it holds no bytes, so one serves every call. */
const measurer = new RdbSink(true, true);

/** rdbSavedObjectLen: how many bytes saveObject writes for `id` (DEBUG OBJECT's serializedlength). */
export function savedObjectLength(table: KeyTable, id: number, compress: boolean): number {
  measurer.compress = compress;
  measurer.clear();
  saveObject(measurer, table, id);
  return measurer.length;
}

/** A string value from wherever the keyspace keeps it (see store/string.ts). */
function saveStringValue(sink: RdbSink, table: KeyTable, id: number): void {
  switch (table.valueKind(id)) {
    case ValueKind.Bytes:
      return saveRawString(sink, table.valuePage(id), table.valueOffset(id), table.valueLength(id));
    case ValueKind.Number:
      return saveInt64String(sink, table.getNumber(id));
    default: {
      const value = table.getObject(id) as Uint8Array | bigint;
      if (typeof value === "bigint") return saveInt64String(sink, value);
      return saveRawString(sink, value, 0, value.length);
    }
  }
}

/** A listpack or an intset: its bytes, as one string. */
function savePacked(sink: RdbSink, table: KeyTable, id: number, enc: Enc): void {
  locatePackedIn(table, id);
  const { buf, base } = packedAt;
  const size = enc === Enc.IntSet ? intsetBytes(buf, base) : lpBytes(buf, base);
  saveRawString(sink, buf, base, size);
}

/** A hashtable set: the count, then the members. */
function saveMembers(sink: RdbSink, members: Dict<null>): void {
  saveLength(sink, members.size);
  for (const member of members.keys()) saveLatin1String(sink, member);
}

/** A hashtable hash: the count, then each field and its value. */
function saveFields(sink: RdbSink, fields: Dict<string>): void {
  saveLength(sink, fields.size);
  for (const [field, value] of fields.entries()) {
    saveLatin1String(sink, field);
    saveLatin1String(sink, value);
  }
}

/** A skiplist sorted set: the count, then member and binary score from the highest element down. */
function saveSkiplist(sink: RdbSink, zset: SkiplistZSet): void {
  saveLength(sink, zset.size);
  for (let node = zset.list.last; node !== null; node = node.prev) {
    saveLatin1String(sink, node.member);
    sink.writeDoubleLE(node.score);
  }
}

/**
 * A list: the node count, then each node's container and bytes. A node the list holds
 * LZF-compressed (list-compress-depth) is written as its LZF bytes, whatever
 * `rdbcompression` says, as Redis writes it.
 */
function saveQuicklist(sink: RdbSink, list: Quicklist): void {
  list.settle();
  saveLength(sink, list.len);
  for (let node = list.head; node !== null; node = node.next) {
    sink.writeByte(node.plain ? CONTAINER_PLAIN : CONTAINER_PACKED);
    if (node.compressed) saveLzfBlob(sink, node.buf, node.buf.length, node.sz);
    else saveRawString(sink, node.buf, 0, node.sz);
  }
}
