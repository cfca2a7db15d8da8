// SORT and SORT_RO (Redis 7.0's sort.c): the elements of a list, set or sorted set in
// numeric or byte order, weighed by other keys (BY), with other keys' values in their place
// (GET), a window of the result (LIMIT), and for SORT the result kept as a list (STORE).
//
// Redis's order is reproduced exactly, including where it is an accident of its algorithms:
// - A full sort is glibc's qsort, a stable merge sort on the sizes SORT sees, so elements
//   that compare equal stay in the order they were read. Array.prototype.sort is stable too.
// - BY with a LIMIT that leaves elements out sorts partially with Redis's pqsort (NetBSD's
//   qsort that skips the partitions outside the window), which is not stable: `pqsort`
//   (util/pqsort.ts) follows it swap for swap, so equal elements come out where Redis puts them.
// - Without STORE, ALPHA compares with strcoll, which in the C and C.UTF-8 locales Redis
//   runs in is strcmp: a NUL byte ends the comparison. With STORE it compares all the bytes (memcmp). Numeric ties are
//   broken by comparing all the elements' bytes.
// - Option names, patterns and numeric weights are read as C strings, up to a NUL byte.
// - Sorting a sorted set converts it to the skiplist encoding for good, as 7.0 does.
//
// Elements are held as latin1 strings (one char per byte) while they are sorted.

import type { Client } from "../server/client.ts";
import type { Argv } from "../resp/parser.ts";
import { latin1 } from "../resp/parser.ts";
import { ERR } from "../resp/errors.ts";
import type { Db } from "../store/db.ts";
import { Enc, ObjType, metaEnc, metaLru, packMeta } from "../store/object.ts";
import { stringBytes } from "../store/string.ts";
import { LIST_TAIL, Quicklist, QuicklistIter, copyEntry, popped, quicklistLimitsOf } from "../encoding/quicklist.ts";
import { SkiplistZSet, type ZNode } from "../encoding/skiplist.ts";
import { parseStrtod } from "../util/numbers.ts";
import { pqsort } from "../util/pqsort.ts";
import { parseIntArg } from "./args.ts";
import { setMembers } from "./set.ts";
import { convertToSkiplist } from "./zset.ts";
import { hashValueBytes, valueView } from "./hash.ts";
import type { CommandDef, KeySpec } from "./table.ts";
import { NOTIFY, notifyArg } from "../server/notify.ts";

// ---------------------------------------------------------------------------------------
// Bytes scratch space
// ---------------------------------------------------------------------------------------

/** Where a latin1 string's bytes are written: element bytes, hash values of a hashtable. */
let charBytes = new Uint8Array(256);

/** Writes s's chars as bytes into charBytes (grown as needed) and returns their count. */
function toCharBytes(s: string): number {
  const n = s.length;
  if (n > charBytes.length) charBytes = new Uint8Array(n * 2);
  for (let k = 0; k < n; k++) charBytes[k] = s.charCodeAt(k);
  return n;
}

/** Points `found` at s's bytes. */
function setFoundChars(s: string): void {
  const n = toCharBytes(s);
  setFound(charBytes, 0, n);
}

/** Where a key name made from a pattern is built. */
let keyBytes = new Uint8Array(256);

// ---------------------------------------------------------------------------------------
// Patterns (Redis's lookupKeyByPattern)
// ---------------------------------------------------------------------------------------

/**
 * A BY or GET pattern, read as Redis reads it: "#" alone (up to a NUL) is the element
 * itself; otherwise the first '*' before any NUL is replaced by the element, and a "->"
 * after it, before any NUL and followed by a byte that is not NUL, splits off a hash field
 * name, which runs to the end of the argument. A pattern without '*' names no key.
 */
class Pattern {
  /** The argument holding the pattern. */
  arg = 0;
  self = false;
  /** Offset of the '*' in the argument, -1 when there is none. */
  star = -1;
  /** Where the key part of the argument ends (the "->" when there is a field). */
  keyEnd = 0;
  /** Offset of the field name in the argument, -1 for a string key. */
  fieldStart = -1;
  fieldLen = 0;

  compile(argv: Argv, arg: number): void {
    const buf = argv.buf;
    const start = argv.start[arg]!;
    const len = argv.len[arg]!;
    this.arg = arg;
    this.self = len >= 1 && buf[start] === HASH_SIGN && (len === 1 || buf[start + 1] === 0);
    this.star = cIndexOf(buf, start, len, 0, STAR);
    this.keyEnd = len;
    this.fieldStart = -1;
    if (this.self || this.star < 0) return;
    const arrow = cArrowAfter(buf, start, len, this.star + 1);
    if (arrow < 0 || arrow + 2 >= len || buf[start + arrow + 2] === 0) return;
    this.keyEnd = arrow;
    this.fieldStart = arrow + 2;
    this.fieldLen = len - arrow - 2;
  }
}

const STAR = 0x2a;
const HASH_SIGN = 0x23;
const DASH = 0x2d;
const GREATER = 0x3e;

/** strchr over the C string in buf[start, start+len): the offset of byte b from `from`, or -1. */
function cIndexOf(buf: Uint8Array, start: number, len: number, from: number, b: number): number {
  for (let k = from; k < len; k++) {
    const c = buf[start + k]!;
    if (c === b) return k;
    if (c === 0) return -1;
  }
  return -1;
}

/** strstr(p, "->") over the C string from offset `from`: the offset of the arrow, or -1. */
function cArrowAfter(buf: Uint8Array, start: number, len: number, from: number): number {
  for (let k = from; k + 1 < len; k++) {
    const c = buf[start + k]!;
    if (c === 0) return -1;
    if (c === DASH && buf[start + k + 1] === GREATER) return k;
  }
  return -1;
}

/** Patterns by use: [0] for BY, then the GETs in order; grown, never shrunk. */
const patterns: Pattern[] = [];

function patternAt(i: number): Pattern {
  while (patterns.length <= i) patterns.push(new Pattern());
  return patterns[i]!;
}

/** What lookupByPattern found: the value's bytes, buf[start .. start+len). */
const found: { buf: Uint8Array; start: number; len: number } = { buf: charBytes, start: 0, len: 0 };

function setFound(buf: Uint8Array, start: number, len: number): void {
  found.buf = buf;
  found.start = start;
  found.len = len;
}

/**
 * Redis's lookupKeyByPattern: the value the pattern names for element `elem` goes into
 * `found`; false when there is none (no '*', a missing key, a key of the wrong type, a
 * missing field). The key is looked up as a read, with its hit or miss counted.
 */
function lookupByPattern(c: Client, pattern: Pattern, elem: string): boolean {
  if (pattern.self) {
    setFoundChars(elem);
    return true;
  }
  if (pattern.star < 0) return false;
  const db = c.db;
  const argv = c.argv;
  const keyLen = buildKey(argv, pattern, elem);
  const id = db.lookupReadBytes(keyBytes, 0, keyLen);
  if (id < 0) return false;
  const type = db.typeOf(id);
  if (pattern.fieldStart >= 0) {
    return type === ObjType.Hash && findHashField(db, id, argv.buf, argv.start[pattern.arg]! + pattern.fieldStart, pattern);
  }
  if (type !== ObjType.String) return false;
  const bytes = stringBytes(db, id);
  setFound(bytes, 0, bytes.length);
  return true;
}

/** Writes the key name the pattern makes for elem into keyBytes; returns its length. */
function buildKey(argv: Argv, pattern: Pattern, elem: string): number {
  const buf = argv.buf;
  const start = argv.start[pattern.arg]!;
  const suffixLen = pattern.keyEnd - pattern.star - 1;
  const keyLen = pattern.star + elem.length + suffixLen;
  if (keyLen > keyBytes.length) keyBytes = new Uint8Array(keyLen * 2);
  const out = keyBytes;
  let o = 0;
  for (let k = 0; k < pattern.star; k++) out[o++] = buf[start + k]!;
  for (let k = 0; k < elem.length; k++) out[o++] = elem.charCodeAt(k);
  for (let k = pattern.star + 1; k < pattern.keyEnd; k++) out[o++] = buf[start + k]!;
  return keyLen;
}

/**
 * The value of the pattern's field (bytes buf[fieldAt .. +fieldLen)) in the hash `id`,
 * into `found` (Redis's hashTypeGetValueObject); false when the field is absent.
 */
function findHashField(db: Db, id: number, buf: Uint8Array, fieldAt: number, pattern: Pattern): boolean {
  if (!hashValueBytes(db, id, buf, fieldAt, pattern.fieldLen)) return false;
  setFound(valueView.buf, valueView.start, valueView.len);
  return true;
}

// ---------------------------------------------------------------------------------------
// Numeric weights: glibc strtod as sort.c checks it
// ---------------------------------------------------------------------------------------

/** The smallest normal double: below it a result is subnormal. */
const MIN_NORMAL = 2.2250738585072014e-308;

/**
 * The weight of buf[start .. start+len) as sort.c reads it with strtod, or NaN when it
 * replies "One or more scores can't be converted into double": bytes left before the end
 * of the C string, a NaN, or errno ERANGE, which glibc sets on overflow and on a result
 * that underflows (is zero or subnormal and not exact). The empty string weighs 0.
 */
function weightOf(buf: Uint8Array, start: number, len: number): number {
  let end = start;
  while (end < start + len && buf[end] !== 0) end++;
  const v = parseStrtod(buf, start, end - start);
  if (v !== v) return NaN;
  if (v === Infinity || v === -Infinity) return isInfinityText(buf, start, end) ? v : NaN;
  if (Math.abs(v) < MIN_NORMAL && !isExactText(buf, start, end, v)) return NaN;
  return v;
}

const enum Ch {
  Space = 0x20,
  Plus = 0x2b,
  Minus = 0x2d,
  Dot = 0x2e,
  Zero = 0x30,
  Nine = 0x39,
}

/** Offset of the number's first byte after C whitespace and a sign. */
function skipSpaceAndSign(buf: Uint8Array, i: number): number {
  while (buf[i] === Ch.Space || (buf[i]! >= 9 && buf[i]! <= 13)) i++;
  if (buf[i] === Ch.Plus || buf[i] === Ch.Minus) i++;
  return i;
}

/** Whether an infinite result was written as "inf"/"infinity" rather than overflowing. */
function isInfinityText(buf: Uint8Array, start: number, end: number): boolean {
  const i = skipSpaceAndSign(buf, start);
  return i < end && (buf[i]! | 0x20) === 0x69;
}

function hexDigit(b: number): number {
  if (b >= Ch.Zero && b <= Ch.Nine) return b - Ch.Zero;
  const l = b | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

/** More significant digits than any exact subnormal has (at most 767 decimal, 14 hex). */
const EXACT_DIGITS_MAX = 800;

/**
 * Whether the text, which strtod read whole as the zero or subnormal v, is exactly v: its
 * significant digits times the power of its exponent equal v's significand times 2^-1074.
 */
function isExactText(buf: Uint8Array, start: number, end: number, v: number): boolean {
  let i = skipSpaceAndSign(buf, start);
  const hex = buf[i] === Ch.Zero && (buf[i + 1]! | 0x20) === 0x78;
  if (hex) i += 2;
  let mantissaEnd = i;
  while (mantissaEnd < end && isMantissaByte(buf[mantissaEnd]!, hex)) mantissaEnd++;
  const text = latin1(buf, i, mantissaEnd - i);
  const dot = text.indexOf(".");
  let fractionDigits = dot < 0 ? 0 : text.length - dot - 1;
  let digits = dot < 0 ? text : text.slice(0, dot) + text.slice(dot + 1);
  const trimmed = digits.replace(/0+$/, "");
  fractionDigits -= digits.length - trimmed.length;
  digits = trimmed.replace(/^0+/, "");
  if (digits === "") return v === 0;
  if (v === 0 || digits.length > EXACT_DIGITS_MAX) return false;
  const exponent = mantissaEnd < end ? Number(latin1(buf, mantissaEnd + 1, end - mantissaEnd - 1)) : 0;
  const mantissa = BigInt(hex ? `0x${digits}` : digits);
  // v * 2^1074, in two steps that stay within the double range: v's integer significand.
  const significand = BigInt(Math.abs(v) * 2 ** 1000 * 2 ** 74);
  if (hex) {
    const shift = exponent - 4 * fractionDigits + 1074;
    return shift >= 0 ? mantissa << BigInt(shift) === significand : mantissa === significand << BigInt(-shift);
  }
  const e10 = exponent - fractionDigits;
  return e10 < 0 && mantissa << 1074n === significand * 10n ** BigInt(-e10);
}

/** A digit of the base, or the point. */
function isMantissaByte(b: number, hex: boolean): boolean {
  if (b === Ch.Dot) return true;
  return hex ? hexDigit(b) >= 0 : b >= Ch.Zero && b <= Ch.Nine;
}

// ---------------------------------------------------------------------------------------
// The vector to sort
// ---------------------------------------------------------------------------------------

/** The elements read from the key (Redis's vector of redisSortObject). */
const elems: string[] = [];
/** Each element's numeric weight. */
let weights = new Float64Array(64);
/** Each element's ALPHA comparison string; null when its BY key is missing. */
const alphaKeys: (string | null)[] = [];
/** The sorted order: order[j] is the index in elems of the j-th element. */
const order: number[] = [];

/** One iterator for reading lists; SORT does not run inside another SORT. */
const listIter = new QuicklistIter();

/** Appends the list's count elements from index `first`, toward the head when backward. */
function loadList(list: Quicklist, first: number, count: number, backward: boolean): void {
  if (count === 0) return;
  const it = listIter;
  list.seek(first, !backward, it);
  // No step past the last element wanted: stepping into the next node would decompress it,
  // which Redis's loop (listTypeNext count times) never does.
  for (let n = 0; ; ) {
    copyEntry(it.node!, it.p);
    elems.push(latin1(popped.bytes, 0, popped.len));
    if (++n === count) break;
    list.advance(it);
    if (!it.valid) break;
  }
}

/** Appends every member of the set: an intset in its order, a table in its own. */
function loadSet(db: Db, id: number): void {
  for (const member of setMembers(db, id)) elems.push(member);
}

/** Appends count members of the sorted set from 0-based rank `first`, from the highest when backward. */
function loadZset(zs: SkiplistZSet, first: number, count: number, backward: boolean): void {
  if (count === 0) return;
  const list = zs.list;
  let node: ZNode | null = backward ? list.byRank(list.length - first) : list.byRank(first + 1);
  for (let n = 0; n < count && node !== null; n++) {
    elems.push(node.member);
    node = backward ? node.prev : node.next;
  }
}

/**
 * The sorted set `id` in the skiplist encoding, converting a listpack for good as Redis
 * 7.0's SORT does (zsetConvert), scores read as zzlGetScore reads them.
 */
function zsetAsSkiplist(db: Db, id: number): SkiplistZSet {
  const meta = db.table.getMeta(id);
  if (metaEnc(meta) !== Enc.ListPack) return db.table.getObject(id) as SkiplistZSet;
  const zs = convertToSkiplist(db, id);
  // A read: the key keeps its access time.
  db.table.setMeta(id, packMeta(ObjType.ZSet, Enc.SkipList, metaLru(meta)));
  return zs;
}

// ---------------------------------------------------------------------------------------
// Comparing and sorting (Redis's sortCompare, qsort and pqsort)
// ---------------------------------------------------------------------------------------

/** The comparison in force (Redis keeps these in server.sort_*). */
let sortDesc = false;
let sortAlpha = false;
let sortByPattern = false;

/** memcmp order of two latin1 strings, shorter first on a common prefix. */
function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The string as strcmp sees it: up to its first NUL. */
function cString(s: string): string {
  const nul = s.indexOf("\0");
  return nul < 0 ? s : s.slice(0, nul);
}

/** sortCompare over two indexes into the vector. */
function compareElements(i: number, j: number): number {
  let cmp: number;
  if (!sortAlpha) {
    const a = weights[i]!;
    const b = weights[j]!;
    cmp = a > b ? 1 : a < b ? -1 : compareBytes(elems[i]!, elems[j]!);
  } else {
    const a = alphaKeys[i]!;
    const b = alphaKeys[j]!;
    if (sortByPattern && (a === null || b === null)) cmp = a === b ? 0 : a === null ? -1 : 1;
    else cmp = compareBytes(a, b);
  }
  return sortDesc ? -cmp : cmp;
}

// ---------------------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------------------

/** SORT's options as parsed (sortCommandGeneric's locals). */
const opts = {
  desc: false,
  alpha: false,
  limitStart: 0,
  limitCount: -1,
  /** Argument of the STORE destination, -1 without STORE. */
  storeAt: -1,
  /** Argument of the last BY pattern, -1 without BY. */
  byAt: -1,
  /** A BY pattern without '*' was given: nothing to weigh, nothing to sort. */
  dontSort: false,
  /** Number of GET patterns, compiled into patterns[1 ..]. */
  gets: 0,
};


/**
 * BY and GET patterns read keys that no key spec names: Redis refuses them in cluster mode
 * (the keys may live elsewhere) and to a user who may not read every key. False after
 * replying.
 */
function patternAllowed(c: Client, option: string): boolean {
  if (c.server.config.clusterEnabled) {
    c.w.addError(`ERR ${option} option of SORT denied in Cluster mode.`);
    return false;
  }
  if (!c.server.acl.readsEveryKey(c)) {
    c.w.addError(`ERR ${option} option of SORT denied due to insufficient ACL permissions.`);
    return false;
  }
  return true;
}

/** Parses the options in Redis's order; false after replying an error. */
function parseOptions(c: Client, readonly: boolean): boolean {
  const argv = c.argv;
  const argc = argv.count;
  opts.desc = opts.alpha = opts.dontSort = false;
  opts.limitStart = 0;
  opts.limitCount = -1;
  opts.storeAt = opts.byAt = -1;
  opts.gets = 0;
  for (let j = 2; j < argc; j++) {
    const left = argc - j - 1;
    if (argv.isOption(j, "asc")) {
      opts.desc = false;
    } else if (argv.isOption(j, "desc")) {
      opts.desc = true;
    } else if (argv.isOption(j, "alpha")) {
      opts.alpha = true;
    } else if (argv.isOption(j, "limit") && left >= 2) {
      const start = parseIntArg(c, j + 1);
      if (start === null) return false;
      const count = parseIntArg(c, j + 2);
      if (count === null) return false;
      opts.limitStart = start;
      opts.limitCount = count;
      j += 2;
    } else if (!readonly && argv.isOption(j, "store") && left >= 1) {
      opts.storeAt = ++j;
    } else if (argv.isOption(j, "by") && left >= 1) {
      opts.byAt = ++j;
      // Once a BY without '*' is seen nothing is sorted, whatever BY comes after it.
      if (cIndexOf(argv.buf, argv.start[j]!, argv.len[j]!, 0, STAR) < 0) opts.dontSort = true;
      else if (!patternAllowed(c, "BY")) return false;
    } else if (argv.isOption(j, "get") && left >= 1) {
      if (!patternAllowed(c, "GET")) return false;
      patternAt(1 + opts.gets++).compile(argv, ++j);
    } else {
      c.w.addErrorBytes(ERR.syntax);
      return false;
    }
  }
  return true;
}

/** The window of the result: elements start .. end of the sorted vector (sortCommandGeneric's). */
const range = { start: 0, end: -1 };

/** Redis's LIMIT clamping over a vector of `length` elements. */
function clampLimit(length: number): void {
  const start = Math.min(Math.max(opts.limitStart, 0), length);
  const count = Math.min(Math.max(opts.limitCount, -1), length);
  let end = count < 0 ? length - 1 : start + count - 1;
  if (start >= length) {
    range.start = length - 1;
    range.end = length - 2;
    return;
  }
  if (end >= length) end = length - 1;
  range.start = start;
  range.end = end;
}

/**
 * Reads the elements of the value `id` (-1: a missing key, an empty list) into the vector.
 * Without sorting, a list or sorted set is read only in the window, in the order DESC asks,
 * and the window becomes the whole vector.
 */
function loadVector(c: Client, id: number, type: ObjType): void {
  const db = c.db;
  const sortsNothing = opts.dontSort;
  if (id < 0) return clampLimit(0);
  if (type === ObjType.Set) {
    loadSet(db, id);
    return clampLimit(elems.length);
  }
  const zs = type === ObjType.ZSet ? zsetAsSkiplist(db, id) : null;
  const list = zs === null ? (db.table.getObject(id) as Quicklist) : null;
  const length = zs !== null ? zs.size : list!.count;
  clampLimit(length);
  if (!sortsNothing) {
    if (zs !== null) loadZset(zs, 0, length, false);
    else loadList(list!, 0, length, false);
    return;
  }
  const count = range.end >= range.start ? range.end - range.start + 1 : 0;
  const desc = opts.desc;
  if (zs !== null) loadZset(zs, range.start, count, desc);
  else loadList(list!, desc ? length - range.start - 1 : range.start, count, desc);
  if (count > 0) {
    range.end -= range.start;
    range.start = 0;
  }
}

/**
 * Weighs every element (by itself, or by the value its BY pattern names) for the numeric
 * or ALPHA comparison; returns false when a numeric weight is not a number, which Redis
 * finds out here but reports only after sorting.
 */
function weighElements(c: Client, byPattern: Pattern | null, alpha: boolean, store: boolean): boolean {
  const n = elems.length;
  if (weights.length < n) weights = new Float64Array(n * 2);
  weights.fill(0, 0, n);
  alphaKeys.length = 0;
  let valid = true;
  for (let j = 0; j < n; j++) {
    const elem = elems[j]!;
    if (alpha) {
      let key: string | null = elem;
      if (byPattern !== null) key = lookupByPattern(c, byPattern, elem) ? latin1(found.buf, found.start, found.len) : null;
      alphaKeys.push(key === null || store ? key : cString(key));
      continue;
    }
    if (byPattern !== null) {
      if (!lookupByPattern(c, byPattern, elem)) continue;
    } else {
      setFoundChars(elem);
    }
    const w = weightOf(found.buf, found.start, found.len);
    if (w !== w) valid = false;
    weights[j] = w;
  }
  return valid;
}

/** Sorts the vector into `order`, only the window when BY and LIMIT leave some out. */
function sortVector(byPattern: Pattern | null, alpha: boolean, desc: boolean): void {
  sortDesc = desc;
  sortAlpha = alpha;
  sortByPattern = byPattern !== null;
  const n = elems.length;
  if (byPattern !== null && (range.start !== 0 || range.end !== n - 1)) pqsort(order, 0, n, range.start, range.end, compareElements);
  else order.sort(compareElements);
}

/** Replies with the window: each element, or the values of the GET patterns for it. */
function replyResult(c: Client): void {
  const w = c.w;
  const gets = opts.gets;
  const { start, end } = range;
  w.addArrayLen((gets === 0 ? 1 : gets) * Math.max(end - start + 1, 0));
  for (let j = start; j <= end; j++) {
    const elem = elems[order[j]!]!;
    if (gets === 0) w.addBulkLatin1(elem);
    for (let g = 1; g <= gets; g++) {
      const pattern = patterns[g]!;
      if (pattern.self) w.addBulkLatin1(elem);
      else if (lookupByPattern(c, pattern, elem)) w.addBulkView(found.buf, found.start, found.len);
      else w.addNull();
    }
  }
}

/**
 * The list STORE makes: Redis 7.0's sort.c creates it with quicklistCreate, whose fill (-2)
 * and compress depth (0) are the defaults, not list-max-listpack-size and
 * list-compress-depth; DEBUG OBJECT shows the difference.
 */
const STORE_FILL = -2;
const STORE_COMPRESS_DEPTH = 0;

/**
 * STORE: the window (or its GET values, "" for a missing one) becomes the destination
 * list, replacing whatever it held; an empty result deletes it. Replies the length. The
 * lookups all happen before the destination changes, as in Redis.
 */
function storeResult(c: Client): void {
  const gets = opts.gets;
  const { start, end } = range;
  const list = new Quicklist(STORE_FILL, STORE_COMPRESS_DEPTH, quicklistLimitsOf(c.server.config));
  for (let j = start; j <= end; j++) {
    const elem = elems[order[j]!]!;
    if (gets === 0) {
      setFoundChars(elem);
      list.push(LIST_TAIL, found.buf, found.start, found.len);
    }
    for (let g = 1; g <= gets; g++) {
      if (lookupByPattern(c, patterns[g]!, elem)) list.push(LIST_TAIL, found.buf, found.start, found.len);
      else list.push(LIST_TAIL, charBytes, 0, 0);
    }
  }
  const db = c.db;
  const argv = c.argv;
  const at = opts.storeAt;
  if (list.count === 0) {
    // Redis's dbDelete takes the key as it is, even past its time to live.
    const id = db.table.find(argv.buf, argv.start[at]!, argv.len[at]!);
    if (id >= 0) {
      db.delete(id);
      notifyArg(c, NOTIFY.GENERIC, "del", at);
      c.server.dirty++;
    }
    return c.w.addInteger(0);
  }
  const id = db.setKeyArg(argv, at, false, 0);
  db.table.setObject(id, list);
  db.table.setMeta(id, packMeta(ObjType.List, Enc.QuickList, db.clock.lru));
  notifyArg(c, NOTIFY.LIST, "sortstore", at);
  c.server.dirty += list.count;
  c.w.addInteger(list.count);
}

/** SORT and SORT_RO (Redis's sortCommandGeneric). */
function sortGeneric(c: Client, readonly: boolean): void {
  if (!parseOptions(c, readonly)) return;
  elems.length = 0;
  const db = c.db;
  const id = db.lookupReadArg(c.argv, 1);
  const type = id < 0 ? ObjType.List : db.typeOf(id);
  if (type !== ObjType.List && type !== ObjType.Set && type !== ObjType.ZSet) return c.w.addErrorBytes(ERR.wrongType);
  const store = opts.storeAt >= 0;
  let alpha = opts.alpha;
  let byPattern = opts.byAt >= 0 ? patternAt(0) : null;
  // A set read without sorting would be stored in its table's order: Redis sorts it instead.
  if (opts.dontSort && type === ObjType.Set && store) {
    opts.dontSort = false;
    alpha = true;
    byPattern = null;
  }
  if (byPattern !== null) byPattern.compile(c.argv, opts.byAt);
  loadVector(c, id, type);
  order.length = elems.length;
  for (let j = 0; j < elems.length; j++) order[j] = j;
  let valid = true;
  if (!opts.dontSort) {
    valid = weighElements(c, byPattern, alpha, store);
    sortVector(byPattern, alpha, opts.desc);
  }
  if (!valid) c.w.addErrorBytes(ERR.sortScoresNotDouble);
  else if (store) storeResult(c);
  else replyResult(c);
  elems.length = 0;
  alphaKeys.length = 0;
}

/** SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE destination] */
function sortCommand(c: Client): void {
  sortGeneric(c, false);
}

/** SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] */
function sortRoCommand(c: Client): void {
  sortGeneric(c, true);
}

// ---------------------------------------------------------------------------------------
// Key positions (Redis's sortGetKeys and sortROGetKeys)
// ---------------------------------------------------------------------------------------

/** Options followed by arguments, and how many, as sortGetKeys skips them. */
const SKIPPED_OPTIONS: [string, number][] = [
  ["limit", 2],
  ["get", 1],
  ["by", 1],
];

/**
 * SORT's keys: the sorted key, and the destination of the last STORE that has an argument
 * after it. Like Redis, the scan skips the arguments of LIMIT, GET and BY but not STORE's.
 */
function sortGetKeys(argv: Argv, base: number, argc: number): { pos: number; flags: string }[] {
  let storeAt = -1;
  for (let i = 2; i < argc; i++) {
    const skip = SKIPPED_OPTIONS.find(([name]) => argv.isOption(base + i, name));
    if (skip !== undefined) i += skip[1];
    else if (argv.isOption(base + i, "store") && i + 1 < argc) storeAt = i + 1;
  }
  const keys = [{ pos: 1, flags: "RO access" }];
  if (storeAt >= 0) keys.push({ pos: storeAt, flags: "OW update" });
  return keys;
}

/** SORT_RO's one key: the sorted key (BY and GET keys are not told apart). */
function sortRoGetKeys(): { pos: number; flags: string }[] {
  return [{ pos: 1, flags: "RO access" }];
}

// ---------------------------------------------------------------------------------------
// The command table
// ---------------------------------------------------------------------------------------

/** Redis's "unknown" begin_search and find_keys, which the table's KeySpec type has no name for. */
const UNKNOWN_SEARCH = {} as KeySpec["begin"] & KeySpec["find"];

const SORTED_KEY: KeySpec = { flags: "RO access", begin: { index: 1 }, find: { lastkey: 0, keystep: 1, limit: 0 } };
const PATTERN_KEYS: KeySpec = {
  notes: "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort",
  flags: "RO access", begin: UNKNOWN_SEARCH, find: UNKNOWN_SEARCH,
};
const STORE_KEY: KeySpec = {
  notes: "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array",
  flags: "OW update", begin: UNKNOWN_SEARCH, find: UNKNOWN_SEARCH,
};

const SORT_ARGUMENTS = [
  { name: "key", type: "key", key_spec_index: 0 },
  { name: "pattern", type: "pattern", key_spec_index: 1, token: "BY", flags: ["optional"] },
  {
    name: "offset_count", type: "block", token: "LIMIT", flags: ["optional"],
    arguments: [{ name: "offset", type: "integer" }, { name: "count", type: "integer" }],
  },
  { name: "pattern", type: "pattern", key_spec_index: 1, token: "GET", flags: ["optional", "multiple", "multiple_token"] },
  {
    name: "order", type: "oneof", flags: ["optional"],
    arguments: [{ name: "asc", type: "pure-token", token: "ASC" }, { name: "desc", type: "pure-token", token: "DESC" }],
  },
  { name: "sorting", type: "pure-token", token: "ALPHA", flags: ["optional"] },
];

const SORT_COMPLEXITY =
  "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).";

export const sortCommands: CommandDef[] = [
  {
    name: "sort", arity: -2, flags: "write denyoom", acl: "set sortedset list dangerous", group: "generic",
    since: "1.0.0", summary: "Sort the elements in a list, set or sorted set", complexity: SORT_COMPLEXITY,
    keySpecs: [SORTED_KEY, PATTERN_KEYS, STORE_KEY], getKeys: sortGetKeys,
    arguments: [
      ...SORT_ARGUMENTS,
      { name: "destination", type: "key", key_spec_index: 2, token: "STORE", flags: ["optional"] },
    ],
    handler: sortCommand,
  },
  {
    name: "sort_ro", arity: -2, flags: "readonly", acl: "set sortedset list dangerous", group: "generic",
    since: "7.0.0", summary: "Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
    complexity: SORT_COMPLEXITY, keySpecs: [SORTED_KEY, PATTERN_KEYS], getKeys: sortRoGetKeys,
    arguments: SORT_ARGUMENTS, handler: sortRoCommand,
  },
];
