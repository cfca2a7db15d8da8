/**
 * Decoding RDB values (Redis 7.0's rdbLoadObject), for RDB files and RESTORE payloads.
 *
 * `RdbReader` walks a byte range with an offset and throws `RdbError` (naming the problem
 * and the offset) on anything short or malformed, so a caller never sees a partial value.
 * `loadValue` reads one value of a given RDB type into `loaded`, in the encoding Redis would
 * hold after loading it under the limits in force (a listpack hash over
 * hash-max-listpack-entries becomes a hashtable, a small skiplist zset becomes a listpack,
 * ziplists and zipmaps of older versions become listpacks ...); `storeLoaded` then makes it
 * the value of a key. Splitting the two lets RESTORE check a payload fully before it touches
 * the keyspace.
 *
 * Packed blobs (listpacks, intsets, ziplists, zipmaps) are always checked deeply, whatever
 * `sanitize-dump-payload` says: entries inside their bounds, counts that add up, no
 * duplicate hash fields, set or zset members. Redis trusts its own files unless asked to
 * sanitize; redbun cannot afford to crash on a bad blob later, so it pays for the check.
 *
 * Strings are read as views (`RdbReader.sBuf/sStart/sLen`) into the input or, for integer
 * and LZF encodings, into one of three scratch slots, so that a key (slot KEY_SLOT), a
 * field and its value can be held at once without allocating.
 */

import type { Db } from "../store/db.ts";
import { Enc, ObjType, packMeta } from "../store/object.ts";
import { INLINE_MAX } from "../store/keytable.ts";
import { setString } from "../store/string.ts";
import type { Config } from "../config/params.ts";
import { lzfDecompress } from "./lzf.ts";
import { RdbType } from "./rdb-value.ts";
import { loadStream } from "../store/stream-rdb.ts";
import {
  LP_AFTER,
  lpAppend,
  lpAppendInteger,
  lpBytes,
  lpCompare,
  lpEntry,
  lpFirst,
  lpGet,
  lpGetLatin1,
  lpInsertString,
  lpLength,
  lpNew,
  lpNext,
  lpSkip,
  lpValidate,
  lpEnd,
  lpEdited,
  LP_BEFORE,
} from "../encoding/listpack.ts";
import { intsetAdd, intsetBytes, intsetGet, intsetLength, intsetNew, intsetValidate } from "../encoding/intset.ts";
import { Quicklist, LIST_TAIL, quicklistLimitsOf } from "../encoding/quicklist.ts";
import { SkiplistZSet } from "../encoding/skiplist.ts";
import { Dict } from "../encoding/dict.ts";
import { HashTable } from "../commands/hash.ts";
import { SetTable } from "../commands/set.ts";
import { lpInsertScore } from "../commands/zset.ts";
import { latin1 } from "../resp/parser.ts";
import { type Int64, formatInt64, parseLongLong, parsedInt64, parseStrtod } from "../util/numbers.ts";

/** Whether `t` is a type byte Redis 7.0 knows rather than an opcode (rdbIsObjectType: 0..7 and 9..19). */
export function isObjectType(t: number): boolean {
  return (t >= 0 && t <= 7) || (t >= 9 && t <= RdbType.StreamListpacks2);
}

/** Why a load failed, and where in the input: the offset of the byte that could not be used. */
export class RdbError extends Error {
  constructor(
    message: string,
    readonly offset: number,
    /** True when the input ended early (Redis's "Short read" path). */
    readonly truncated = false,
  ) {
    super(message);
  }
}

/** A value Redis would refuse to keep because it holds no elements (RDB_LOAD_ERR_EMPTY_KEY). */
export class EmptyKeyError extends RdbError {}

const EMPTY: Uint8Array = new Uint8Array(0);

/** Special string encodings after 11 in a length's top bits (RDB_ENC_*). */
const ENC_INT8 = 0;
const ENC_INT16 = 1;
const ENC_INT32 = 2;
const ENC_LZF = 3;

/** Scratch slots of string views: values use 0 and 1, the key of a record KEY_SLOT. */
export const KEY_SLOT = 2;
const SLOTS = 3;

/** Quicklist node containers (QUICKLIST_NODE_CONTAINER_*). */
const CONTAINER_PLAIN = 1;
const CONTAINER_PACKED = 2;

/** Redis's LISTPACK_MAX_SAFETY_SIZE: a listpack is never allowed to grow past 1 GB. */
const LISTPACK_MAX_SAFETY_SIZE = 1 << 30;
/** Redis caps set-max-intset-entries at 2^30. */
const INTSET_ENTRIES_CAP = 1 << 30;
/** Pairs up to this many are checked for duplicates by comparing bytes; more go through a Set. */
const PAIRWISE_DUP_CHECK_MAX = 32;

const doubleView = new DataView(new ArrayBuffer(8));
/** The most bytes LZF can produce per compressed byte (a 3-byte reference yields 264). */
const LZF_MAX_EXPANSION = 88;

/**
 * A cursor over buf[pos .. end). Every read checks the bounds first, so a short input is
 * always an RdbError with `truncated` set, never an out-of-range read.
 */
export class RdbReader {
  buf: Uint8Array = EMPTY;
  pos = 0;
  end = 0;
  /** The string the last readString produced: sBuf[sStart .. sStart + sLen). */
  sBuf: Uint8Array = EMPTY;
  sStart = 0;
  sLen = 0;
  /** Set by readLength when the length byte announced a special string encoding. */
  private encoded = false;
  private readonly scratch: Uint8Array[] = [];

  constructor() {
    for (let i = 0; i < SLOTS; i++) this.scratch.push(new Uint8Array(64));
  }

  reset(buf: Uint8Array, start: number, end: number): void {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  fail(message: string, at = this.pos): never {
    throw new RdbError(message, at);
  }

  /** Throws the truncation error unless n more bytes are there. */
  need(n: number): void {
    if (this.end - this.pos < n) throw new RdbError("Unexpected EOF reading RDB file", this.pos, true);
  }

  byte(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  /** rdbLoadLenByRef: a length, or with `encoded` set the number of a special string encoding. */
  readLengthOrEncoding(): number {
    const first = this.byte();
    const kind = first >> 6;
    this.encoded = false;
    if (kind === 0) return first & 0x3f;
    if (kind === 1) return ((first & 0x3f) << 8) | this.byte();
    if (kind === 3) {
      this.encoded = true;
      return first & 0x3f;
    }
    if (first === 0x80) {
      this.need(4);
      const b = this.buf;
      const p = this.pos;
      this.pos += 4;
      return ((b[p]! << 24) >>> 0) + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
    }
    if (first === 0x81) {
      this.need(8);
      const hi = this.uint32BE(this.pos);
      const lo = this.uint32BE(this.pos + 4);
      if (hi >= 0x200000) this.fail(`RDB length out of range`);
      this.pos += 8;
      return hi * 2 ** 32 + lo;
    }
    return this.fail(`Unknown length encoding ${first} in rdbLoadLen()`, this.pos - 1);
  }

  /**
   * An element count: each element takes at least one byte, so a count larger than what
   * is left is a short input, found before anything is sized for it.
   */
  readCount(): number {
    const count = this.readLength();
    if (count > this.end - this.pos) throw new RdbError("Unexpected EOF reading RDB file", this.pos, true);
    return count;
  }

  /** rdbLoadLen for places where only a plain length may appear. */
  readLength(): number {
    const at = this.pos;
    const len = this.readLengthOrEncoding();
    if (this.encoded) this.fail("Unexpected string encoding where a length was expected", at);
    return len;
  }

  private uint32BE(p: number): number {
    const b = this.buf;
    return ((b[p]! << 24) >>> 0) + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
  }

  uint32LE(): number {
    this.need(4);
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
  }

  /** A signed 64-bit little-endian integer (expiry times), as a double. */
  int64LE(): number {
    const lo = this.uint32LE();
    const hi = this.uint32LE() | 0;
    return hi * 2 ** 32 + lo;
  }

  /** rdbLoadBinaryDoubleValue. */
  binaryDouble(): number {
    this.need(8);
    const b = this.buf;
    for (let i = 0; i < 8; i++) doubleView.setUint8(i, b[this.pos + i]!);
    this.pos += 8;
    return doubleView.getFloat64(0, true);
  }

  /** rdbLoadDoubleValue (ZSET version 1): a length byte, 253 NaN, 254 +inf, 255 -inf, else text. */
  textDouble(): number {
    const len = this.byte();
    if (len === 253) return NaN;
    if (len === 254) return Infinity;
    if (len === 255) return -Infinity;
    this.need(len);
    const v = parseStrtod(this.buf, this.pos, len);
    this.pos += len;
    return v;
  }

  /**
   * rdbGenericLoadStringObject: the next string, as a view in sBuf/sStart/sLen. An integer
   * encoding is written as its decimal digits and an LZF string decompressed, into the
   * scratch of `slot`: the view stays valid until the next read into the same slot.
   */
  readString(slot = 0): void {
    const at = this.pos;
    const len = this.readLengthOrEncoding();
    if (!this.encoded) {
      this.need(len);
      this.sBuf = this.buf;
      this.sStart = this.pos;
      this.sLen = len;
      this.pos += len;
      return;
    }
    switch (len) {
      case ENC_INT8:
      case ENC_INT16:
      case ENC_INT32:
        return this.readIntegerString(len, slot);
      case ENC_LZF:
        return this.readLzfString(slot);
      default:
        this.fail(`Unknown RDB string encoding type ${len}`, at);
    }
  }

  /** readString as a latin1 JS string (one char per byte). */
  readLatin1(slot = 0): string {
    this.readString(slot);
    return latin1(this.sBuf, this.sStart, this.sLen);
  }

  private slotRoom(slot: number, bytes: number): Uint8Array {
    let out = this.scratch[slot]!;
    if (out.length < bytes) {
      out = new Uint8Array(Math.max(bytes, 2 * out.length));
      this.scratch[slot] = out;
    }
    return out;
  }

  private readIntegerString(enc: number, slot: number): void {
    const bytes = 1 << enc;
    this.need(bytes);
    const b = this.buf;
    const p = this.pos;
    let v: number;
    if (enc === ENC_INT8) v = (b[p]! << 24) >> 24;
    else if (enc === ENC_INT16) v = ((b[p]! | (b[p + 1]! << 8)) << 16) >> 16;
    else v = b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24);
    this.pos += bytes;
    const out = this.slotRoom(slot, 24);
    this.sBuf = out;
    this.sStart = 0;
    this.sLen = formatInt64(v, out, 0);
  }

  private readLzfString(slot: number): void {
    const compressedLen = this.readLength();
    const at = this.pos;
    const originalLen = this.readLength();
    this.need(compressedLen);
    // LZF expands a byte by at most 264 (a 3-byte back reference): a larger claim is corrupt
    // and must not size a buffer.
    if (originalLen > compressedLen * LZF_MAX_EXPANSION) this.fail("Invalid LZF compressed string", at);
    const out = this.slotRoom(slot, originalLen);
    // liblzf refuses an empty input, and so does Redis: a zero length is corrupt.
    if (originalLen === 0 || lzfDecompress(this.buf, this.pos, compressedLen, out, 0, originalLen) !== originalLen) {
      this.fail("Invalid LZF compressed string", at);
    }
    this.pos += compressedLen;
    this.sBuf = out;
    this.sStart = 0;
    this.sLen = originalLen;
  }

  /** The current string view copied into a fresh array of exactly its length. */
  copyString(): Uint8Array {
    return this.sBuf.slice(this.sStart, this.sStart + this.sLen);
  }
}

// ---------------------------------------------------------------------------------------
// The loaded value
// ---------------------------------------------------------------------------------------

const enum LoadedKind {
  /** A string value held as the reader's view. */
  StringView,
  /** A listpack or intset in buf[start .. start + len). */
  Packed,
  /** A JS object (a quicklist, a table, a skiplist). */
  Object,
}

/** What loadValue produced; storeLoaded consumes it before the next load. */
const loaded = {
  kind: LoadedKind.Object,
  type: ObjType.String,
  enc: Enc.Raw,
  object: null as unknown,
  buf: EMPTY,
  start: 0,
  len: 0,
};

function loadedPacked(type: ObjType, enc: Enc, buf: Uint8Array, start: number, len: number): void {
  loaded.kind = LoadedKind.Packed;
  loaded.type = type;
  loaded.enc = enc;
  loaded.buf = buf;
  loaded.start = start;
  loaded.len = len;
  loaded.object = null;
}

function loadedObject(type: ObjType, enc: Enc, object: unknown): void {
  loaded.kind = LoadedKind.Object;
  loaded.type = type;
  loaded.enc = enc;
  loaded.object = object;
  loaded.buf = EMPTY;
}

/**
 * Makes the value the last loadValue produced the value of `id` (a key just inserted or
 * being replaced), used now. Packed bytes go inline when they fit, else into an array of
 * their own; the reader's views are copied, never kept.
 */
export function storeLoaded(db: Db, id: number, reader: RdbReader): void {
  const table = db.table;
  switch (loaded.kind) {
    case LoadedKind.StringView:
      return setString(db, id, reader.sBuf, reader.sStart, reader.sLen);
    case LoadedKind.Packed: {
      const { buf, start, len } = loaded;
      if (len <= INLINE_MAX) table.setBytes(id, buf, start, len);
      // Always a copy: the view may be the reader's scratch, which the next read reuses.
      else table.setObject(id, buf.slice(start, start + len));
      break;
    }
    default:
      table.setObject(id, loaded.object);
  }
  table.setMeta(id, packMeta(loaded.type, loaded.enc, db.clock.lru));
  loaded.object = null;
  loaded.buf = EMPTY;
}

/**
 * rdbLoadObject: reads a value of RDB type `rdbType` into `loaded`, converted as Redis
 * would under `config`. Throws RdbError on bad input and EmptyKeyError for a value with
 * no elements; throws RdbError naming the type for module values, which this server does
 * not hold.
 */
export function loadValue(r: RdbReader, rdbType: number, config: Config): void {
  switch (rdbType) {
    case RdbType.String:
      r.readString(0);
      loaded.kind = LoadedKind.StringView;
      loaded.type = ObjType.String;
      return;
    case RdbType.List:
      return loadLinkedList(r, config);
    case RdbType.ListQuicklist:
    case RdbType.ListQuicklist2:
      return loadQuicklist(r, config, rdbType === RdbType.ListQuicklist2);
    case RdbType.ListZiplist:
      return loadZiplistList(r, config);
    case RdbType.Set:
      return loadSet(r, config);
    case RdbType.SetIntset:
      return loadIntset(r, config);
    case RdbType.ZSet:
    case RdbType.ZSet2:
      return loadSkiplist(r, config, rdbType === RdbType.ZSet2);
    case RdbType.ZSetListpack:
    case RdbType.ZSetZiplist:
      return loadPackedZset(r, config, rdbType === RdbType.ZSetZiplist);
    case RdbType.Hash:
      return loadHash(r, config);
    case RdbType.HashListpack:
    case RdbType.HashZiplist:
    case RdbType.HashZipmap:
      return loadPackedHash(r, config, rdbType);
    case RdbType.Module:
    case RdbType.Module2:
      return r.fail(`Module values (RDB type ${rdbType}) cannot be loaded: this server has no modules`);
    case RdbType.StreamListpacks:
    case RdbType.StreamListpacks2:
      return loadedObject(ObjType.Stream, Enc.Stream, loadStream(r, rdbType === RdbType.StreamListpacks2));
    default:
      return r.fail(`Unknown RDB encoding type ${rdbType}`);
  }
}

function emptyKey(r: RdbReader, at: number): never {
  throw new EmptyKeyError("Empty keys are not allowed", at);
}

// ---------------------------------------------------------------------------------------
// Lists
// ---------------------------------------------------------------------------------------

function newList(config: Config): Quicklist {
  return new Quicklist(config.listMaxListpackSize, config.listCompressDepth, quicklistLimitsOf(config));
}

/** RDB_TYPE_LIST (before 3.2): a count, then each element, pushed at the tail. */
function loadLinkedList(r: RdbReader, config: Config): void {
  const at = r.pos;
  const count = r.readCount();
  if (count === 0) emptyKey(r, at);
  const list = newList(config);
  for (let i = 0; i < count; i++) {
    r.readString(0);
    list.push(LIST_TAIL, r.sBuf, r.sStart, r.sLen);
  }
  loadedObject(ObjType.List, Enc.QuickList, list);
}

/**
 * RDB_TYPE_LIST_QUICKLIST(_2): a node count, then per node (version 2) its container and
 * its bytes: an element (plain) or a listpack, a ziplist in version 1. Empty nodes are
 * skipped, as Redis does; a list left with no element is an empty key.
 */
function loadQuicklist(r: RdbReader, config: Config, version2: boolean): void {
  const at = r.pos;
  const nodes = r.readCount();
  if (nodes === 0) emptyKey(r, at);
  const list = newList(config);
  for (let i = 0; i < nodes; i++) {
    let container = CONTAINER_PACKED;
    const nodeAt = r.pos;
    if (version2) {
      container = r.readLength();
      if (container !== CONTAINER_PACKED && container !== CONTAINER_PLAIN) r.fail("Quicklist integrity check failed.", nodeAt);
    }
    r.readString(0);
    if (container === CONTAINER_PLAIN) {
      list.appendPlainNode(r.copyString());
      continue;
    }
    let lp: Uint8Array;
    if (version2) {
      checkListpack(r, nodeAt, false);
      lp = r.copyString();
    } else {
      lp = ziplistToListpack(r, nodeAt, false);
    }
    if (lpLength(lp, 0) > 0) list.appendListpackNode(lp);
  }
  if (list.count === 0) emptyKey(r, at);
  loadedObject(ObjType.List, Enc.QuickList, list);
}

/** RDB_TYPE_LIST_ZIPLIST (3.0): the whole list as one ziplist, kept as one listpack node. */
function loadZiplistList(r: RdbReader, config: Config): void {
  const at = r.pos;
  r.readString(0);
  const lp = ziplistToListpack(r, at, false);
  if (lpLength(lp, 0) === 0) emptyKey(r, at);
  const list = newList(config);
  list.appendListpackNode(lp);
  loadedObject(ObjType.List, Enc.QuickList, list);
}

/** Checks the listpack in the reader's string view deeply (and as pairs for hashes and sorted sets). */
function checkListpack(r: RdbReader, at: number, pairs: boolean): void {
  if (!lpValidate(r.sBuf, r.sStart, r.sLen, true)) r.fail("Listpack integrity check failed.", at);
  if (pairs) checkPairs(r, r.sBuf, r.sStart, at);
}

/**
 * The packed value of a hash or sorted set being loaded: a listpack checked in place in
 * the reader's view, or one converted from a ziplist or zipmap into a fresh array.
 */
const pack = { buf: EMPTY, base: 0, size: 0 };

function packFromView(r: RdbReader): void {
  pack.buf = r.sBuf;
  pack.base = r.sStart;
  pack.size = r.sLen;
}

function packFromArray(lp: Uint8Array): void {
  pack.buf = lp;
  pack.base = 0;
  pack.size = lpBytes(lp, 0);
}

// ---------------------------------------------------------------------------------------
// Sets
// ---------------------------------------------------------------------------------------

function maxIntsetEntries(config: Config): number {
  return Math.min(config.setMaxIntsetEntries, INTSET_ENTRIES_CAP);
}

/**
 * RDB_TYPE_SET: a count and the members. Up to set-max-intset-entries members start as an
 * intset, which turns into a table at the first member that is not an integer.
 */
function loadSet(r: RdbReader, config: Config): void {
  const at = r.pos;
  const count = r.readCount();
  if (count === 0) emptyKey(r, at);
  let intset: Uint8Array | null = count <= maxIntsetEntries(config) ? intsetNew(count * 8) : null;
  let table: SetTable | null = intset === null ? new SetTable(count) : null;
  for (let i = 0; i < count; i++) {
    const memberAt = r.pos;
    r.readString(0);
    if (intset !== null) {
      if (r.sLen <= 20 && parseLongLong(r.sBuf, r.sStart, r.sLen)) {
        const grown = intsetAdd(intset, parsedInt64.safe ? parsedInt64.value : parsedInt64.big);
        if (grown === null) r.fail("Duplicate set members detected", memberAt);
        intset = grown;
        continue;
      }
      table = intsetToTable(intset, 0, count);
      intset = null;
    }
    if (!table!.set(latin1(r.sBuf, r.sStart, r.sLen), null)) r.fail("Duplicate set members detected", memberAt);
  }
  if (intset !== null) loadedPacked(ObjType.Set, Enc.IntSet, intset, 0, intsetBytes(intset, 0));
  else loadedObject(ObjType.Set, Enc.HashTable, table);
}

/** setTypeConvert: an intset's members as a table of their decimal forms, sized for `sizeHint`. */
function intsetToTable(buf: Uint8Array, base: number, sizeHint: number): SetTable {
  const length = intsetLength(buf, base);
  const table = new SetTable(Math.max(sizeHint, length));
  for (let i = 0; i < length; i++) table.set(String(intsetGet(buf, base, i)), null);
  return table;
}

/** RDB_TYPE_SET_INTSET: the intset's bytes; a table when it holds more than set-max-intset-entries. */
function loadIntset(r: RdbReader, config: Config): void {
  const at = r.pos;
  r.readString(0);
  const { sBuf, sStart, sLen } = r;
  if (sLen === 8 && intsetLength(sBuf, sStart) === 0) emptyKey(r, at);
  if (!intsetValidate(sBuf, sStart, sLen)) r.fail("Intset integrity check failed.", at);
  if (intsetLength(sBuf, sStart) > maxIntsetEntries(config)) {
    loadedObject(ObjType.Set, Enc.HashTable, intsetToTable(sBuf, sStart, 0));
    return;
  }
  // A view: storeLoaded copies it before anything reads again.
  loadedPacked(ObjType.Set, Enc.IntSet, sBuf, sStart, sLen);
}

// ---------------------------------------------------------------------------------------
// Sorted sets
// ---------------------------------------------------------------------------------------

/**
 * RDB_TYPE_ZSET(_2): a count, then member and score pairs (text doubles in version 1,
 * binary in 2). Loaded into a skiplist, then turned into a listpack when it fits the
 * zset-max-listpack limits, as Redis does.
 */
function loadSkiplist(r: RdbReader, config: Config, binaryScores: boolean): void {
  const at = r.pos;
  const count = r.readCount();
  if (count === 0) emptyKey(r, at);
  const zs = SkiplistZSet.withCapacity(count);
  let longest = 0;
  let total = 0;
  for (let i = 0; i < count; i++) {
    const memberAt = r.pos;
    const member = r.readLatin1(0);
    const score = binaryScores ? r.binaryDouble() : r.textDouble();
    if (score !== score) r.fail("Zset with NAN score detected", memberAt);
    if (!zs.add(member, score)) r.fail("Duplicate zset fields detected", memberAt);
    longest = Math.max(longest, member.length);
    total += member.length;
  }
  const fits = zs.size <= config.zsetMaxListpackEntries && longest <= config.zsetMaxListpackValue && total < LISTPACK_MAX_SAFETY_SIZE;
  if (!fits) return loadedObject(ObjType.ZSet, Enc.SkipList, zs);
  const lp = skiplistToListpack(zs);
  loadedPacked(ObjType.ZSet, Enc.ListPack, lp, 0, lpBytes(lp, 0));
}

/** zsetConvert to a listpack: members in order, each followed by its score entry. */
function skiplistToListpack(zs: SkiplistZSet): Uint8Array {
  let lp = lpNew(64);
  for (let node = zs.list.first; node !== null; node = node.next) {
    const member = node.member;
    const bytes = latin1Scratch(member);
    lp = lpInsertString(lp, lpEnd(lp, 0), LP_BEFORE, bytes, 0, member.length);
    lp = lpInsertScore(lp, lpEdited.pos, LP_AFTER, node.score);
  }
  return lp;
}

/** Where a member's bytes are written before going into a listpack. */
let textScratch: Uint8Array = new Uint8Array(64);

function latin1Scratch(s: string): Uint8Array {
  if (textScratch.length < s.length) textScratch = new Uint8Array(2 * s.length);
  for (let i = 0; i < s.length; i++) textScratch[i] = s.charCodeAt(i);
  return textScratch;
}

/**
 * RDB_TYPE_ZSET_LISTPACK, or ZSET_ZIPLIST converted: member and score pairs with distinct
 * members; a skiplist when it holds more than zset-max-listpack-entries elements.
 */
function loadPackedZset(r: RdbReader, config: Config, ziplist: boolean): void {
  const at = r.pos;
  r.readString(0);
  if (ziplist) {
    packFromArray(ziplistToListpack(r, at, true));
  } else {
    checkListpack(r, at, true);
    packFromView(r);
  }
  const { buf: lp, base, size } = pack;
  const length = lpLength(lp, base) >>> 1;
  if (length === 0) emptyKey(r, at);
  if (length <= config.zsetMaxListpackEntries) return loadedPacked(ObjType.ZSet, Enc.ListPack, lp, base, size);
  const zs = SkiplistZSet.withCapacity(length);
  for (let p = lpFirst(lp, base); p >= 0; ) {
    const member = lpGetLatin1(lp, p);
    const scoreAt = lpSkip(lp, p);
    zs.add(member, scoreOf(lp, scoreAt));
    p = lpNext(lp, scoreAt);
  }
  loadedObject(ObjType.ZSet, Enc.SkipList, zs);
}

/** zzlGetScore: a score entry as a number. */
function scoreOf(lp: Uint8Array, p: number): number {
  lpGet(lp, p);
  const e = lpEntry;
  if (e.isInt) return e.isBig ? Number(e.big) : e.int;
  return parseStrtod(lp, e.start, Math.min(e.len, 127));
}

// ---------------------------------------------------------------------------------------
// Hashes
// ---------------------------------------------------------------------------------------

/**
 * RDB_TYPE_HASH: a count, then fields and values. Up to hash-max-listpack-entries pairs
 * start as a listpack, which becomes a table at the first field or value longer than
 * hash-max-listpack-value (or when it would pass the listpack safety size).
 */
function loadHash(r: RdbReader, config: Config): void {
  const at = r.pos;
  const count = r.readCount();
  if (count === 0) emptyKey(r, at);
  const maxValue = config.hashMaxListpackValue;
  let lp: Uint8Array | null = count <= config.hashMaxListpackEntries ? lpNew(64) : null;
  let table: Dict<string> | null = lp === null ? new Dict<string>(count) : null;
  for (let i = 0; i < count; i++) {
    const fieldAt = r.pos;
    r.readString(0);
    const fieldBuf = r.sBuf;
    const fieldStart = r.sStart;
    const fieldLen = r.sLen;
    r.readString(1);
    if (lp !== null) {
      const fits = fieldLen <= maxValue && r.sLen <= maxValue && lpBytes(lp, 0) + fieldLen + r.sLen < LISTPACK_MAX_SAFETY_SIZE;
      if (fits) {
        if (lpFindField(lp, fieldBuf, fieldStart, fieldLen)) r.fail("Duplicate hash fields detected", fieldAt);
        lp = lpAppend(lp, fieldBuf, fieldStart, fieldLen);
        lp = lpAppend(lp, r.sBuf, r.sStart, r.sLen);
        continue;
      }
      table = listpackToDict(lp, 0, count);
      lp = null;
    }
    if (!table!.set(latin1(fieldBuf, fieldStart, fieldLen), latin1(r.sBuf, r.sStart, r.sLen))) {
      r.fail("Duplicate hash fields detected", fieldAt);
    }
  }
  if (lp !== null) loadedPacked(ObjType.Hash, Enc.ListPack, lp, 0, lpBytes(lp, 0));
  else loadedObject(ObjType.Hash, Enc.HashTable, new HashTable(table!));
}

/** Whether a field of the listpack hash (every other entry from the first) holds these bytes. */
function lpFindField(lp: Uint8Array, src: Uint8Array, start: number, len: number): boolean {
  for (let p = lpFirst(lp, 0); p >= 0; p = lpNext(lp, lpSkip(lp, p))) {
    if (lpCompare(lp, p, src, start, len)) return true;
  }
  return false;
}

/** hashTypeConvertListpack: the pairs of a listpack as a table sized for `sizeHint` fields. */
function listpackToDict(lp: Uint8Array, base: number, sizeHint: number): Dict<string> {
  const fields = new Dict<string>(Math.max(sizeHint, lpLength(lp, base) >>> 1));
  for (let p = lpFirst(lp, base); p >= 0; ) {
    const field = lpGetLatin1(lp, p);
    const valueAt = lpSkip(lp, p);
    fields.set(field, lpGetLatin1(lp, valueAt));
    p = lpNext(lp, valueAt);
  }
  return fields;
}

/**
 * RDB_TYPE_HASH_LISTPACK, or HASH_ZIPLIST / HASH_ZIPMAP converted: field and value pairs
 * with distinct fields; a table when it holds more than hash-max-listpack-entries pairs.
 * A zipmap becomes a table too when a field or value passes hash-max-listpack-value.
 */
function loadPackedHash(r: RdbReader, config: Config, rdbType: number): void {
  const at = r.pos;
  r.readString(0);
  let longest = 0;
  if (rdbType === RdbType.HashZipmap) {
    packFromArray(zipmapToListpack(r, at));
    longest = zipmapLongest;
  } else if (rdbType === RdbType.HashZiplist) {
    packFromArray(ziplistToListpack(r, at, true));
  } else {
    checkListpack(r, at, true);
    packFromView(r);
  }
  const { buf: lp, base, size } = pack;
  const pairs = lpLength(lp, base) >>> 1;
  if (pairs === 0) emptyKey(r, at);
  if (pairs <= config.hashMaxListpackEntries && longest <= config.hashMaxListpackValue) {
    return loadedPacked(ObjType.Hash, Enc.ListPack, lp, base, size);
  }
  loadedObject(ObjType.Hash, Enc.HashTable, new HashTable(listpackToDict(lp, base, 0)));
}

/**
 * lpValidateIntegrityAndDups for hashes and sorted sets: an even number of entries and no
 * two equal fields (or members) among the entries at even positions.
 */
function checkPairs(r: RdbReader, buf: Uint8Array, base: number, at: number): void {
  const entries = lpLength(buf, base);
  if (entries % 2 !== 0) r.fail("Listpack integrity check failed: odd number of entries", at);
  const pairs = entries >>> 1;
  if (pairs <= 1) return;
  if (pairs <= PAIRWISE_DUP_CHECK_MAX) {
    for (let p = lpFirst(buf, base); p >= 0; p = lpNext(buf, lpSkip(buf, p))) {
      const next = lpNext(buf, lpSkip(buf, p));
      if (next >= 0 && findFieldFrom(buf, next, buf, p)) r.fail("Listpack integrity check failed: duplicate fields", at);
    }
    return;
  }
  const seen = new Set<string>();
  for (let p = lpFirst(buf, base); p >= 0; p = lpNext(buf, lpSkip(buf, p))) {
    const field = lpGetLatin1(buf, p);
    if (seen.has(field)) r.fail("Listpack integrity check failed: duplicate fields", at);
    seen.add(field);
  }
}

/** Where an integer entry's digits go to be compared as text. */
const entryDigits = new Uint8Array(24);

/** Whether a field at or after `from` (every other entry) equals the entry at `p`. */
function findFieldFrom(buf: Uint8Array, from: number, entryBuf: Uint8Array, p: number): boolean {
  lpGet(entryBuf, p);
  let src = entryBuf;
  let start = lpEntry.start;
  let len = lpEntry.len;
  if (lpEntry.isInt) {
    const v: Int64 = lpEntry.isBig ? lpEntry.big : lpEntry.int;
    src = entryDigits;
    start = 0;
    len = formatInt64(v, entryDigits, 0);
  }
  for (let q = from; q >= 0; q = lpNext(buf, lpSkip(buf, q))) {
    if (lpCompare(buf, q, src, start, len)) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------
// Ziplists and zipmaps (RDB versions before 10), converted to listpacks on load
// ---------------------------------------------------------------------------------------

const ZIPLIST_HEADER_BYTES = 10;
const ZIP_END = 0xff;
const ZIP_BIG_PREVLEN = 0xfe;

/**
 * Converts the ziplist in the reader's string view to a fresh listpack, checking it as
 * ziplistValidateIntegrity does deeply: the header's size, every entry inside the blob
 * with a known encoding and a prevlen equal to the previous entry's size, the count
 * matching the header (unless it says "unknown"), and the terminator. `pairs` adds the
 * duplicate check of hashes and sorted sets.
 */
function ziplistToListpack(r: RdbReader, at: number, pairs: boolean): Uint8Array {
  const buf = r.sBuf;
  const base = r.sStart;
  const size = r.sLen;
  const bad = (): never => r.fail("Ziplist integrity check failed.", at);
  if (size < ZIPLIST_HEADER_BYTES + 1) bad();
  const declared = (buf[base]! | (buf[base + 1]! << 8) | (buf[base + 2]! << 16) | (buf[base + 3]! << 24)) >>> 0;
  const headerCount = buf[base + 8]! | (buf[base + 9]! << 8);
  const end = base + size - 1;
  if (declared !== size || buf[end] !== ZIP_END) bad();
  let lp = lpNew(size + 16);
  let p = base + ZIPLIST_HEADER_BYTES;
  let prevSize = 0;
  let count = 0;
  while (p < end) {
    const next = ziplistEntry(buf, p, end, prevSize);
    if (next < 0) bad();
    lp = zipEntry.isInt ? lpAppendInteger(lp, zipEntry.int) : lpAppend(lp, buf, zipEntry.start, zipEntry.len);
    prevSize = next - p;
    p = next;
    count++;
  }
  if (p !== end || (headerCount !== 0xffff && headerCount !== count)) bad();
  if (pairs) checkPairs(r, lp, 0, at);
  return lp;
}

/** The entry ziplistEntry decoded: an integer or the bytes buf[start .. start + len). */
const zipEntry = { isInt: false, int: 0 as Int64, start: 0, len: 0 };

/** Decodes the ziplist entry at p (before end), checking its prevlen; returns the next position or -1. */
function ziplistEntry(buf: Uint8Array, p: number, end: number, prevSize: number): number {
  let q = p;
  let prevlen = buf[q]!;
  if (prevlen === ZIP_BIG_PREVLEN) {
    if (q + 5 > end) return -1;
    prevlen = (buf[q + 1]! | (buf[q + 2]! << 8) | (buf[q + 3]! << 16) | (buf[q + 4]! << 24)) >>> 0;
    q += 5;
  } else {
    q += 1;
  }
  if (prevlen !== prevSize || q >= end) return -1;
  const e = buf[q]!;
  zipEntry.isInt = false;
  let headerBytes = 1;
  let len = 0;
  switch (e >> 6) {
    case 0:
      len = e & 0x3f;
      break;
    case 1:
      if (q + 2 > end) return -1;
      len = ((e & 0x3f) << 8) | buf[q + 1]!;
      headerBytes = 2;
      break;
    case 2:
      if (e !== 0x80 || q + 5 > end) return -1;
      len = ((buf[q + 1]! << 24) >>> 0) + ((buf[q + 2]! << 16) | (buf[q + 3]! << 8) | buf[q + 4]!);
      headerBytes = 5;
      break;
    default:
      return ziplistInteger(buf, q, end, e);
  }
  zipEntry.start = q + headerBytes;
  zipEntry.len = len;
  const next = zipEntry.start + len;
  return next <= end ? next : -1;
}

/** A ziplist integer entry whose encoding byte e is at q; returns the next position or -1. */
function ziplistInteger(buf: Uint8Array, q: number, end: number, e: number): number {
  zipEntry.isInt = true;
  const body = q + 1;
  let width: number;
  switch (e) {
    case 0xc0:
      width = 2;
      break;
    case 0xd0:
      width = 4;
      break;
    case 0xe0:
      width = 8;
      break;
    case 0xf0:
      width = 3;
      break;
    case 0xfe:
      width = 1;
      break;
    default:
      // 1111xxxx with xxxx in 0001..1101: the values 0..12 in the encoding byte itself.
      if (e < 0xf1 || e > 0xfd) return -1;
      zipEntry.int = (e & 0x0f) - 1;
      return body;
  }
  if (body + width > end) return -1;
  zipEntry.int = readLittleEndianSigned(buf, body, width);
  return body + width;
}

/** A signed little-endian integer of `width` bytes (1, 2, 3, 4 or 8). */
function readLittleEndianSigned(buf: Uint8Array, p: number, width: number): Int64 {
  if (width === 8) {
    let v = 0n;
    for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(buf[p + i]!);
    const signedV = BigInt.asIntN(64, v);
    return Number.isSafeInteger(Number(signedV)) ? Number(signedV) : signedV;
  }
  let v = 0;
  for (let i = width - 1; i >= 0; i--) v = v * 256 + buf[p + i]!;
  const bits = width * 8;
  return v >= 2 ** (bits - 1) ? v - 2 ** bits : v;
}

/** The longest field or value of the zipmap zipmapToListpack last converted. */
let zipmapLongest = 0;

const ZIPMAP_BIGLEN = 254;
const ZIPMAP_END = 255;

/**
 * Converts the zipmap (Redis 2.x hashes) in the reader's string view to a listpack of
 * field, value pairs, checking every length against the blob. Layout: a count byte, then
 * per pair a length (one byte below 254, or 254 and four bytes little-endian), the field,
 * a length, a free-byte count, the value and the free bytes; 255 ends it.
 */
function zipmapToListpack(r: RdbReader, at: number): Uint8Array {
  const buf = r.sBuf;
  const end = r.sStart + r.sLen;
  const bad = (): never => r.fail("Zipmap integrity check failed.", at);
  let p = r.sStart + 1;
  let lp = lpNew(r.sLen + 16);
  zipmapLongest = 0;
  for (;;) {
    if (p >= end) bad();
    if (buf[p] === ZIPMAP_END) break;
    const fieldLen = zipmapLength(buf, p, end);
    if (fieldLen < 0) bad();
    p += buf[p]! === ZIPMAP_BIGLEN ? 5 : 1;
    if (p + fieldLen > end) bad();
    const fieldStart = p;
    p += fieldLen;
    if (p >= end) bad();
    const valueLen = zipmapLength(buf, p, end);
    if (valueLen < 0) bad();
    p += buf[p]! === ZIPMAP_BIGLEN ? 5 : 1;
    if (p >= end) bad();
    const free = buf[p++]!;
    if (p + valueLen + free > end) bad();
    lp = lpAppend(lp, buf, fieldStart, fieldLen);
    lp = lpAppend(lp, buf, p, valueLen);
    zipmapLongest = Math.max(zipmapLongest, fieldLen, valueLen);
    p += valueLen + free;
  }
  if (p !== end - 1) bad();
  checkPairs(r, lp, 0, at);
  return lp;
}

/** A zipmap length at p, or -1 when it runs past the end or is the end marker. */
function zipmapLength(buf: Uint8Array, p: number, end: number): number {
  const first = buf[p]!;
  if (first < ZIPMAP_BIGLEN) return first;
  if (first === ZIPMAP_END || p + 5 > end) return -1;
  return (buf[p + 1]! | (buf[p + 2]! << 8) | (buf[p + 3]! << 16) | (buf[p + 4]! << 24)) >>> 0;
}

