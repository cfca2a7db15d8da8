// SCAN, HSCAN, SSCAN and ZSCAN: one implementation for the keyspace and every collection
// type, after Redis's scanGenericCommand (db.c). It parses the options, gathers elements
// from a hash table with the cursor (the keyspace's KeyTable, a collection's Dict) or,
// for a compact value (listpack, intset), all of them with cursor 0, then filters them
// and replies. A collection type says how its values are read through a ScanSource;
// SCAN over the keyspace is the case without one, as Redis's is the case without an
// object, and is the only one that takes TYPE and filters expired keys.

import type { Client } from "../server/client.ts";
import type { Argv } from "../resp/parser.ts";
import { encode, type ReplyWriter } from "../resp/writer.ts";
import { ERR } from "../resp/errors.ts";
import type { Db } from "../store/db.ts";
import { type ObjType, typeName } from "../store/object.ts";
import { locatePacked, packedAt } from "../store/packed.ts";
import { lpFirst, lpGetLatin1, lpNext } from "../encoding/listpack.ts";
import { type Int64, parseLongLong, parsedInt64 } from "../util/numbers.ts";
import { globMatch, isMatchAll } from "../util/glob.ts";
import { keyRange, type CommandDef } from "./table.ts";
import { NOTIFY, notifyKey } from "../server/notify.ts";

// ---------------------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------------------


/** 2^32: Dict cursors only ever use their low 32 bits. */
const CURSOR_MODULUS = 4294967296;
const ULONG_MAX = 18446744073709551615n;

/**
 * Argument i as a SCAN cursor reduced to its low 32 bits, or -1 when Redis replies
 * "invalid cursor". Redis parses with strtoul: an optional sign (a negative number wraps
 * around 2^64), decimal digits, no leading space, nothing after the digits but a NUL
 * (which ends a C string), and at most ULONG_MAX. The empty string is cursor 0.
 */
export function parseScanCursor(c: Client, i: number): number {
  const argv = c.argv;
  const buf = argv.buf;
  let p = argv.start[i]!;
  let end = p;
  const limit = p + argv.len[i]!;
  while (end < limit && buf[end] !== 0) end++;
  if (p === end) return 0;
  const negative = buf[p] === 45; // '-'
  if (negative || buf[p] === 43 /* '+' */) p++;
  if (p === end) return -1;
  let low = 0;
  for (let k = p; k < end; k++) {
    const d = buf[k]! - 48;
    if (d < 0 || d > 9) return -1;
    low = (low * 10 + d) % CURSOR_MODULUS;
  }
  // Up to 19 digits always fit an unsigned 64-bit long; longer ones need the exact value.
  if (end - p > 19 && decimalValue(buf, p, end) > ULONG_MAX) return -1;
  if (negative && low !== 0) low = CURSOR_MODULUS - low;
  return low;
}

function decimalValue(buf: Uint8Array, start: number, end: number): bigint {
  let v = 0n;
  for (let k = start; k < end; k++) v = v * 10n + BigInt(buf[k]! - 48);
  return v;
}

/** SCAN's default COUNT. */
const SCAN_DEFAULT_COUNT = 10;

/** The options of the running SCAN, as parseScanOptions read them. */
const options = {
  /** COUNT, exactly: the step budget is computed from it in C's long arithmetic. */
  count: SCAN_DEFAULT_COUNT as Int64,
  /** MATCH, or null when absent or "*" (which matches everything). */
  pattern: null as string | null,
  /** TYPE (SCAN only), lower-cased up to its first NUL, or null. */
  type: null as string | null,
};

/**
 * Reads COUNT, MATCH and (with `takesType`, for SCAN) TYPE from argument `first` on into
 * `options`, in any order, the last of each winning. Replies and returns false on an error.
 */
function parseScanOptions(c: Client, first: number, takesType: boolean): boolean {
  const argv = c.argv;
  options.count = SCAN_DEFAULT_COUNT;
  options.pattern = null;
  options.type = null;
  for (let i = first; i < argv.count; i += 2) {
    const hasValue = i + 1 < argv.count;
    if (hasValue && argv.isOption(i, "count")) {
      if (!parseLongLong(argv.buf, argv.start[i + 1]!, argv.len[i + 1]!)) {
        c.w.addErrorBytes(ERR.notInteger);
        return false;
      }
      if (parsedInt64.value < 1) {
        c.w.addErrorBytes(ERR.syntax);
        return false;
      }
      options.count = parsedInt64.safe ? parsedInt64.value : parsedInt64.big;
    } else if (hasValue && argv.isOption(i, "match")) {
      const pattern = argv.str(i + 1);
      options.pattern = isMatchAll(pattern) ? null : pattern;
    } else if (hasValue && takesType && argv.isOption(i, "type")) {
      options.type = cStringLower(argv.str(i + 1));
    } else {
      c.w.addErrorBytes(ERR.syntax);
      return false;
    }
  }
  return true;
}

/** The lower-cased string up to its first NUL: how strcasecmp sees a C string argument. */
function cStringLower(s: string): string {
  const nul = s.indexOf("\0");
  return (nul < 0 ? s : s.slice(0, nul)).toLowerCase();
}

// ---------------------------------------------------------------------------------------
// Gathering
// ---------------------------------------------------------------------------------------

/**
 * What the running SCAN gathered: collection elements in `scanned` (a pair's two items
 * side by side), keyspace key ids in `scannedKeys`. Module-level, so that scanning makes
 * no closure and no per-call array.
 */
const scanned: string[] = [];
let scannedKeys = new Int32Array(64);
let scannedKeyCount = 0;

/** Gathers one element: a set member, or one item of a pair. */
export function gatherScanned(item: string): void {
  scanned.push(item);
}

/** Gathers an element and its value: a hash field and value, a zset member and score. */
export function gatherScannedPair(element: string, value: string): void {
  scanned.push(element, value);
}

function gatherKeyId(id: number): void {
  if (scannedKeyCount === scannedKeys.length) {
    const grown = new Int32Array(scannedKeyCount * 2);
    grown.set(scannedKeys);
    scannedKeys = grown;
  }
  scannedKeys[scannedKeyCount++] = id;
}

/** Gathers every entry of a listpack value, in order: a compact hash's or zset's pairs. */
export function gatherListpack(db: Db, id: number): void {
  locatePacked(db, id);
  const buf = packedAt.buf;
  for (let p = lpFirst(buf, packedAt.base); p >= 0; p = lpNext(buf, p)) scanned.push(lpGetLatin1(buf, p));
}

/** A hash table SCAN walks with a cursor (KeyTable, Dict): one bucket per call, returning the next cursor. */
export interface CursorTable<F> {
  scan(cursor: number, fn: F): number;
}

/**
 * How SCAN reads one collection type: what Redis's scanGenericCommand decides from the
 * object's type and encoding.
 */
export interface ScanSource<F> {
  /** The type the key must hold; another is WRONGTYPE. */
  readonly type: ObjType;
  /** Elements come with values (field and value, member and score): MATCH tests the element, and COUNT counts pairs. */
  readonly pairs: boolean;
  /** The value's hash table, scanned with the cursor; null for a compact value, which is gathered whole. */
  table(db: Db, id: number): CursorTable<F> | null;
  /** The table's scan callback, which gathers each element (gatherScanned, gatherScannedPair). */
  readonly gather: F;
  /** Gathers every element of a compact value, in its order. */
  gatherAll(db: Db, id: number): void;
}

/**
 * Scans `table` from `cursor` until a step comes back to cursor 0, `perElement` times
 * COUNT items were gathered, or ten steps per item were taken, so that a sparse table
 * still answers quickly. Like Redis, the limits are computed in C's wrapping long
 * arithmetic (a COUNT near 2^62 wraps them) and compared as unsigned (a negative one is
 * no limit). Returns the next cursor.
 */
function walkTable<F>(table: CursorTable<F>, gather: F, cursor: number, perElement: number): number {
  const count = options.count;
  let maxItems: number;
  let stepsLeft: number;
  if (typeof count === "number" && count <= SMALL_COUNT_MAX) {
    maxItems = count * perElement;
    stepsLeft = maxItems * 10;
  } else {
    const items = BigInt.asIntN(64, BigInt(count) * BigInt(perElement));
    const steps = BigInt.asIntN(64, items * 10n);
    maxItems = items < 0n ? Infinity : Number(items);
    stepsLeft = steps < 0n ? Infinity : Number(steps);
  }
  do {
    cursor = table.scan(cursor, gather);
  } while (cursor !== 0 && stepsLeft-- !== 0 && scanned.length + scannedKeyCount < maxItems);
  return cursor;
}

/** Counts up to this need no 64-bit arithmetic: twenty times it is an exact double. */
const SMALL_COUNT_MAX = 2 ** 48;

// ---------------------------------------------------------------------------------------
// The commands
// ---------------------------------------------------------------------------------------

/** An empty reply for a missing key: cursor 0 and no elements. */
const EMPTY_SCAN = encode("*2\r\n$1\r\n0\r\n*0\r\n");

/**
 * Redis's scanGenericCommand. `source` is null for SCAN over the keyspace; otherwise it
 * reads the collection value of key `id`, whose options start after the key and cursor.
 */
function scanGeneric<F>(c: Client, source: ScanSource<F> | null, id: number, cursor: number): void {
  if (!parseScanOptions(c, source === null ? 2 : 3, source === null)) return;
  scanned.length = 0;
  scannedKeyCount = 0;
  if (source === null) return replyScannedKeys(c, walkTable(c.db.table, gatherKeyId, cursor, 1));
  const table = source.table(c.db, id);
  if (table === null) {
    // A compact value is small by definition: all of it goes in one reply, with cursor 0.
    source.gatherAll(c.db, id);
    cursor = 0;
  } else {
    cursor = walkTable(table, source.gather, cursor, source.pairs ? 2 : 1);
  }
  replyScanned(c.w, cursor, source.pairs);
}

/** SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] */
export function scanCommand(c: Client): void {
  const cursor = parseScanCursor(c, 1);
  if (cursor < 0) return c.w.addErrorBytes(ERR.invalidCursor);
  scanGeneric(c, null, -1, cursor);
}

/**
 * HSCAN, SSCAN and ZSCAN: key cursor [MATCH pattern] [COUNT count]. The cursor is checked
 * first, then the key (missing: an empty scan), then the options, as Redis does.
 */
export function scanCollectionCommand<F>(c: Client, source: ScanSource<F>): void {
  const cursor = parseScanCursor(c, 2);
  if (cursor < 0) return c.w.addErrorBytes(ERR.invalidCursor);
  const db = c.db;
  const id = db.lookupReadArg(c.argv, 1);
  if (id < 0) return c.w.addRaw(EMPTY_SCAN);
  if (db.typeOf(id) !== source.type) return c.w.addErrorBytes(ERR.wrongType);
  scanGeneric(c, source, id, cursor);
}

/**
 * Replies with the gathered elements whose element (not value) matches MATCH, each with
 * its value when they come in pairs, and empties the list.
 */
function replyScanned(w: ReplyWriter, cursor: number, pairs: boolean): void {
  const pattern = options.pattern;
  const step = pairs ? 2 : 1;
  w.addArrayLen(2);
  w.addBulkInteger(cursor);
  const at = w.deferLen();
  let n = 0;
  for (let i = 0; i < scanned.length; i += step) {
    if (pattern !== null && !globMatch(pattern, scanned[i]!, false)) continue;
    w.addBulkLatin1(scanned[i]!);
    if (pairs) w.addBulkLatin1(scanned[i + 1]!);
    n += step;
  }
  w.setDeferredLen(at, "array", n);
  scanned.length = 0;
}

/** Filters the gathered keys in Redis's order (pattern, type, expiry) and replies. */
function replyScannedKeys(c: Client, cursor: number): void {
  const { pattern, type } = options;
  const db = c.db;
  const table = db.table;
  const now = c.server.clock.nowMs;
  const w = c.w;
  w.addArrayLen(2);
  w.addBulkInteger(cursor);
  const at = w.deferLen();
  let n = 0;
  // Ids of keys gathered are all live: nothing was deleted since, and each step below
  // deletes at most the key it looks at.
  for (let i = 0; i < scannedKeyCount; i++) {
    const id = scannedKeys[i]!;
    if (pattern !== null && !globMatch(pattern, table.keyString(id), false)) continue;
    if (type !== null && db.isExpired(id, now)) {
      // Redis looks the key up for its type, which removes it and counts a miss; its type
      // is then "none", and, finding no expiry left, Redis still returns it for TYPE none.
      db.stats.misses++;
      const key = type === "none" || db.notices !== null ? table.keyString(id) : "";
      db.expireIfNeeded(id, now);
      if (db.notices !== null) notifyKey(c, NOTIFY.KEY_MISS, "keymiss", key);
      if (type === "none") {
        w.addBulkLatin1(key);
        n++;
      }
      continue;
    }
    if (type !== null) {
      db.stats.hits++;
      if (typeName(db.typeOf(id)) !== type) continue;
    }
    if (db.expireIfNeeded(id, now)) continue;
    w.addBulkView(table.keyPage(id), table.keyOffset(id), table.keyLength(id));
    n++;
  }
  w.setDeferredLen(at, "array", n);
  scannedKeyCount = 0;
}

// ---------------------------------------------------------------------------------------
// Command table entries
// ---------------------------------------------------------------------------------------

/** The arguments SCAN takes after its name (then TYPE), and HSCAN, SSCAN and ZSCAN after the key. */
export const SCAN_ARGUMENTS = [
  { name: "cursor", type: "integer" },
  { name: "pattern", type: "pattern", token: "MATCH", flags: ["optional"] },
  { name: "count", type: "integer", token: "COUNT", flags: ["optional"] },
];

/**
 * The table entry of HSCAN, SSCAN or ZSCAN, which differ only in name, ACL category,
 * group, summary and what they read (COMMAND DOCS keeps Redis's double full stop).
 */
export function collectionScanDef<F>(name: string, acl: string, group: string, summary: string, source: ScanSource<F>): CommandDef {
  return {
    name, arity: -3, flags: "readonly", acl, group, since: "2.8.0", summary,
    complexity:
      "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
    tips: ["nondeterministic_output"], keySpecs: [keyRange("RO access", 1)],
    arguments: [{ name: "key", type: "key", key_spec_index: 0 }, ...SCAN_ARGUMENTS],
    handler: (c) => scanCollectionCommand(c, source),
  };
}
