// Hash commands (Redis's t_hash.c): HSET HSETNX HGET HMGET HMSET HDEL HLEN HSTRLEN HEXISTS
// HKEYS HVALS HGETALL HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN.
//
// A hash has one of Redis 7.0's two encodings, and the type API below hides which:
// - listpack: field, value, field, value ... in one listpack (encoding/listpack.ts) kept as
//   packed bytes (store/packed.ts), in insertion order. Reads search the bytes in place and
//   reply straight from them, so HGET and HSET on a small hash allocate nothing.
// - hashtable: a HashTable, a Dict from latin1 field to latin1 value.
// A hash starts as a listpack and becomes a hashtable, never back, once it holds more than
// hash-max-listpack-entries fields or a field or value longer than hash-max-listpack-value
// bytes. Like Redis, writes check their argument lengths before writing anything
// (hashTypeTryConversion), and every single write checks its field and value once more,
// which is what catches HINCRBY's long field names and HINCRBYFLOAT's long results.

import type { Client } from "../server/client.ts";
import type { Argv } from "../resp/parser.ts";
import { latin1 } from "../resp/parser.ts";
import { EMPTY_ARRAY, OK, type ReplyWriter } from "../resp/writer.ts";
import { ERR, wrongArity } from "../resp/errors.ts";
import { type Db, NO_KEY } from "../store/db.ts";
import { Enc, ObjType, metaEnc, packMeta } from "../store/object.ts";
import { editPacked, locatePacked, packedAt, storePacked } from "../store/packed.ts";
import { DIGEST_LEN, mixDigest, registerDigester, xorDigest } from "../store/digest.ts";
import { asciiBytes, int64Length } from "../store/string.ts";
import { Dict } from "../encoding/dict.ts";
import {
  lpAddReplyEntry,
  lpAppend,
  lpBytes,
  lpDeleteRangeWithEntry,
  lpEntry,
  lpEntryInt64,
  lpFind,
  lpFirst,
  lpGet,
  lpGetLatin1,
  lpLength,
  lpNew,
  lpNext,
  lpReplace,
  lpReplaceInPlace,
  lpSkip,
} from "../encoding/listpack.ts";
import {
  type Int64,
  INT64_MAX,
  LD_ZERO,
  formatInt64,
  formatLongDouble,
  int64Add,
  isFiniteLongDouble,
  longDoubleAdd,
  parseLongDouble,
  parseLongLong,
  parsedInt64,
} from "../util/numbers.ts";
import { randomBelow } from "../util/cursor.ts";
import { keyRange, type CommandDef } from "./table.ts";
import { parseInt64Arg } from "./args.ts";
import { type ScanSource, collectionScanDef, gatherListpack, gatherScannedPair } from "./scan.ts";
import { parseRandomCount } from "./set.ts";
import { drawDistinct, picksMostOf, shufflePrefix } from "../util/sample.ts";
import { NOTIFY, notifyArg } from "../server/notify.ts";
import type { MemoryLedger } from "../cache/memory.ts";

// ---------------------------------------------------------------------------------------
// The hashtable encoding
// ---------------------------------------------------------------------------------------

/** What a HashTable object costs besides its Dict. */
const HASH_TABLE_BYTES = 32;

/** A hash in the hashtable encoding: field -> value, both latin1 strings (one char per byte). */
export class HashTable {
  constructor(readonly fields: Dict<string> = new Dict<string>()) {}

  /** Heap bytes held (cache/memory.ts): this object and its table of fields. */
  get memoryBytes(): number {
    return HASH_TABLE_BYTES + this.fields.memoryBytes;
  }

  /** The key table holding this hash, which its table of fields reports changes to. */
  get ledger(): MemoryLedger | null {
    return this.fields.ledger;
  }

  set ledger(ledger: MemoryLedger | null) {
    this.fields.ledger = ledger;
  }

  /** A uniformly random field (HRANDFIELD), or undefined when the hash is empty. */
  random(): string | undefined {
    return this.fields.randomKey();
  }

  /** COPY's duplicate (Redis's hashTypeDup): strings are immutable, so only the table is new. */
  dup(): HashTable {
    const copy = new Dict<string>(this.fields.size);
    this.fields.forEach((value, field) => copy.set(field, value));
    return new HashTable(copy);
  }
}

/** The limits the conversion rules read: the server's config provides them. */
export interface HashLimits {
  readonly hashMaxListpackEntries: number;
  readonly hashMaxListpackValue: number;
}

/** Redis's LISTPACK_MAX_SAFETY_SIZE: a listpack that would grow past 1 GB becomes a hashtable. */
const LISTPACK_MAX_SAFETY_SIZE = 1 << 30;

/** A new hash: an empty listpack, stored inline. */
const EMPTY_LISTPACK = lpNew();

function isListpack(db: Db, id: number): boolean {
  return metaEnc(db.table.getMeta(id)) === Enc.ListPack;
}

function tableOf(db: Db, id: number): HashTable {
  return db.table.getObject(id) as HashTable;
}

/**
 * Turns the listpack at buf[base..] into the key's hashtable (Redis's hashTypeConvertListpack)
 * and returns it. The bytes are read before the key's value is replaced, so buf may be the
 * key's own inline bytes.
 */
function convertToTable(db: Db, id: number, buf: Uint8Array, base: number): HashTable {
  const fields = new Dict<string>(lpLength(buf, base) >>> 1);
  for (let p = lpFirst(buf, base); p !== -1; ) {
    const field = lpGetLatin1(buf, p);
    const valuePos = lpEntry.after;
    fields.set(field, lpGetLatin1(buf, valuePos));
    p = lpNext(buf, valuePos);
  }
  const table = new HashTable(fields);
  db.table.setObject(id, table);
  db.table.setMeta(id, packMeta(ObjType.Hash, Enc.HashTable, db.clock.lru));
  return table;
}

/** Converts a stored listpack hash to a hashtable, outside an edit. */
function convertStored(db: Db, id: number): void {
  locatePacked(db, id);
  convertToTable(db, id, packedAt.buf, packedAt.base);
}

/**
 * Redis's hashTypeTryConversion: before arguments first..last are written into the hash,
 * convert it when one of them is longer than hash-max-listpack-value or all of them would
 * take the listpack past its safety size. The field count is checked as fields are added.
 */
function tryConversion(c: Client, id: number, first: number, last: number): void {
  const db = c.db;
  if (!isListpack(db, id)) return;
  const maxValue = c.server.config.hashMaxListpackValue;
  const lens = c.argv.len;
  let sum = 0;
  for (let i = first; i <= last; i++) {
    const len = lens[i]!;
    if (len > maxValue) return convertStored(db, id);
    sum += len;
  }
  locatePacked(db, id);
  if (lpBytes(packedAt.buf, packedAt.base) + sum > LISTPACK_MAX_SAFETY_SIZE) convertStored(db, id);
}

// ---------------------------------------------------------------------------------------
// Reading. Fields are arguments of the running command, compared in place.
// ---------------------------------------------------------------------------------------

/** Number of fields (Redis's hashTypeLength). */
export function hashLength(db: Db, id: number): number {
  if (!isListpack(db, id)) return tableOf(db, id).fields.size;
  locatePacked(db, id);
  return lpLength(packedAt.buf, packedAt.base) >>> 1;
}

/**
 * In the listpack located by locatePacked, the position of the value of the field held in
 * src[start .. start+len), or -1. Fields sit at even positions, each value right after.
 */
function listpackValueOf(src: Uint8Array, start: number, len: number): number {
  const buf = packedAt.buf;
  const field = lpFind(buf, lpFirst(buf, packedAt.base), src, start, len, 1);
  return field < 0 ? -1 : lpSkip(buf, field);
}

/** Locates the listpack of `id` and the value of field argument i in it; -1 when absent. */
function listpackValueOfArg(db: Db, id: number, argv: Argv, i: number): number {
  locatePacked(db, id);
  return listpackValueOf(argv.buf, argv.start[i]!, argv.len[i]!);
}

/** Whether field argument i is in the hash (Redis's hashTypeExists). */
function hashExists(db: Db, id: number, argv: Argv, i: number): boolean {
  if (!isListpack(db, id)) return tableOf(db, id).fields.has(argv.str(i));
  return listpackValueOfArg(db, id, argv, i) >= 0;
}

/** Replies with the value of field argument i, or null (Redis's addHashFieldToReply). */
function addFieldReply(w: ReplyWriter, db: Db, id: number, argv: Argv, i: number): void {
  if (!isListpack(db, id)) {
    const value = tableOf(db, id).fields.get(argv.str(i));
    if (value === undefined) w.addNull();
    else w.addBulkLatin1(value);
    return;
  }
  const valuePos = listpackValueOfArg(db, id, argv, i);
  if (valuePos < 0) w.addNull();
  else lpAddReplyEntry(w, packedAt.buf, valuePos);
}

/** Length of the value of field argument i, 0 when absent (Redis's hashTypeGetValueLength). */
function hashValueLength(db: Db, id: number, argv: Argv, i: number): number {
  if (!isListpack(db, id)) return tableOf(db, id).fields.get(argv.str(i))?.length ?? 0;
  const valuePos = listpackValueOfArg(db, id, argv, i);
  if (valuePos < 0) return 0;
  lpGet(packedAt.buf, valuePos);
  return lpEntry.isInt ? int64Length(lpEntryInt64()) : lpEntry.len;
}

/** Where hashValueBytes put a value's bytes: buf[start .. start+len). */
export const valueView = { buf: EMPTY_LISTPACK, start: 0, len: 0 };
/** Decimal digits of an int64: listpack integers read as text, HINCRBY's results. */
const digitScratch = new Uint8Array(24);

/**
 * Finds the value of the field held in src[start .. start+len) and points valueView at its
 * bytes (Redis's hashTypeGetValue), as the number parsers and SORT's `->field` want them;
 * false when the field is absent. An integer entry is written out in decimal, which reads
 * back exactly as the integer Redis would use.
 */
export function hashValueBytes(db: Db, id: number, src: Uint8Array, start: number, len: number): boolean {
  if (!isListpack(db, id)) {
    const value = tableOf(db, id).fields.get(latin1(src, start, len));
    if (value === undefined) return false;
    setValueView(Buffer.from(value, "latin1"), 0, value.length);
    return true;
  }
  locatePacked(db, id);
  const valuePos = listpackValueOf(src, start, len);
  if (valuePos < 0) return false;
  lpGet(packedAt.buf, valuePos);
  if (lpEntry.isInt) setValueView(digitScratch, 0, formatInt64(lpEntryInt64(), digitScratch, 0));
  else setValueView(packedAt.buf, lpEntry.start, lpEntry.len);
  return true;
}

/** hashValueBytes for field argument i. */
function findValueBytes(db: Db, id: number, argv: Argv, i: number): boolean {
  return hashValueBytes(db, id, argv.buf, argv.start[i]!, argv.len[i]!);
}

function setValueView(buf: Uint8Array, start: number, len: number): void {
  valueView.buf = buf;
  valueView.start = start;
  valueView.len = len;
}

// ---------------------------------------------------------------------------------------
// Replying with many fields. The hashtable is walked with module-level callbacks and
// state, so that a reply allocates no closure.
// ---------------------------------------------------------------------------------------

const WITH_FIELDS = 1;
const WITH_VALUES = 2;
const WITH_PAIRS = WITH_FIELDS | WITH_VALUES;

/**
 * Starts a field/value pair: HRANDFIELD (`pairArrays`) makes each pair a two-element array
 * in RESP3, where HGETALL's map and every RESP2 reply keep them flat.
 */
function addPairHeader(w: ReplyWriter, what: number, pairArrays: boolean): void {
  if (pairArrays && what === WITH_PAIRS && w.resp === 3) w.addArrayLen(2);
}

/** Replies with the field at p and/or the value after it. */
function addListpackPair(w: ReplyWriter, buf: Uint8Array, p: number, what: number, pairArrays: boolean): void {
  addPairHeader(w, what, pairArrays);
  if (what & WITH_FIELDS) lpAddReplyEntry(w, buf, p);
  if (what & WITH_VALUES) lpAddReplyEntry(w, buf, lpSkip(buf, p));
}

/** Replies with a hashtable's field and/or value. */
function addTablePair(w: ReplyWriter, field: string, value: string, what: number, pairArrays: boolean): void {
  addPairHeader(w, what, pairArrays);
  if (what & WITH_FIELDS) w.addBulkLatin1(field);
  if (what & WITH_VALUES) w.addBulkLatin1(value);
}

/** What addWalkedPair replies with, set for the length of one walk. */
let walkWriter: ReplyWriter | null = null;
let walkWhat = 0;
let walkPairArrays = false;

function addWalkedPair(value: string, field: string): void {
  addTablePair(walkWriter!, field, value, walkWhat, walkPairArrays);
}

/** Replies with every field and/or value in the hash's order; the caller writes the aggregate header. */
function addAllPairs(w: ReplyWriter, db: Db, id: number, what: number, pairArrays: boolean): void {
  if (!isListpack(db, id)) {
    walkWriter = w;
    walkWhat = what;
    walkPairArrays = pairArrays;
    tableOf(db, id).fields.forEach(addWalkedPair);
    walkWriter = null;
    return;
  }
  locatePacked(db, id);
  const buf = packedAt.buf;
  for (let p = lpFirst(buf, packedAt.base); p !== -1; p = lpNext(buf, lpSkip(buf, p))) {
    addListpackPair(w, buf, p, what, pairArrays);
  }
}

// ---------------------------------------------------------------------------------------
// Editing. A write command opens the hash, sets or deletes fields, and closes it: a
// listpack is edited in one buffer (store/packed.ts) and stored back once, a hashtable is
// changed in place. Only one hash is open at a time.
// ---------------------------------------------------------------------------------------

/** The open hash: a listpack at offset 0 of editLp, or editTable once it is a hashtable. */
let editLp: Uint8Array = EMPTY_LISTPACK;
let editTable: HashTable | null = null;

function openHash(db: Db, id: number): void {
  if (isListpack(db, id)) {
    editLp = editPacked(db, id);
    editTable = null;
  } else {
    editTable = tableOf(db, id);
  }
}

/** Stores the open hash as the key's value. */
function closeHash(db: Db, id: number): void {
  if (editTable === null) storePacked(db, id, ObjType.Hash, Enc.ListPack, editLp, lpBytes(editLp, 0));
  dropHash();
}

/** Forgets the open hash without storing it: nothing changed, or the key is being deleted. */
function dropHash(): void {
  editLp = EMPTY_LISTPACK;
  editTable = null;
}

function convertOpenHash(db: Db, id: number): void {
  editTable = convertToTable(db, id, editLp, 0);
}

function openHashLength(): number {
  return editTable === null ? lpLength(editLp, 0) >>> 1 : editTable.fields.size;
}

/**
 * Sets the field held in fieldBuf[fieldStart ..] to the value in valueBuf[valueStart ..]
 * in the open hash (Redis's hashTypeSet), converting it first when either is too long
 * for a listpack and after when it has too many fields. Returns true when the field
 * existed (an update), false when it was added.
 */
function setField(
  db: Db,
  id: number,
  limits: HashLimits,
  fieldBuf: Uint8Array,
  fieldStart: number,
  fieldLen: number,
  valueBuf: Uint8Array,
  valueStart: number,
  valueLen: number,
): boolean {
  if (editTable === null && (fieldLen > limits.hashMaxListpackValue || valueLen > limits.hashMaxListpackValue)) {
    convertOpenHash(db, id);
  }
  if (editTable !== null) {
    return !editTable.fields.set(latin1(fieldBuf, fieldStart, fieldLen), latin1(valueBuf, valueStart, valueLen));
  }
  const lp = editLp;
  const field = lpFind(lp, lpFirst(lp, 0), fieldBuf, fieldStart, fieldLen, 1);
  const existed = field >= 0;
  if (existed) editLp = lpReplace(lp, lpSkip(lp, field), valueBuf, valueStart, valueLen);
  else editLp = lpAppend(lpAppend(lp, fieldBuf, fieldStart, fieldLen), valueBuf, valueStart, valueLen);
  // An update checks too: the limit may have been lowered since the hash was written.
  if (lpLength(editLp, 0) >>> 1 > limits.hashMaxListpackEntries) convertOpenHash(db, id);
  return existed;
}

/** setField with field and value given as arguments of the running command. */
function setFieldArgs(c: Client, id: number, fieldArg: number, valueArg: number): boolean {
  const argv = c.argv;
  const buf = argv.buf;
  return setField(c.db, id, c.server.config, buf, argv.start[fieldArg]!, argv.len[fieldArg]!, buf, argv.start[valueArg]!, argv.len[valueArg]!);
}

/** Sets field argument i to the value in valueBuf[0 .. valueLen) as one edit (HINCRBY, HINCRBYFLOAT). */
function setFieldTo(c: Client, id: number, i: number, valueBuf: Uint8Array, valueLen: number): void {
  const argv = c.argv;
  openHash(c.db, id);
  setField(c.db, id, c.server.config, argv.buf, argv.start[i]!, argv.len[i]!, valueBuf, 0, valueLen);
  closeHash(c.db, id);
}

/** Deletes field argument i from the open hash (Redis's hashTypeDelete); true when it was there. */
function deleteField(argv: Argv, i: number): boolean {
  if (editTable !== null) return editTable.fields.delete(argv.str(i));
  const lp = editLp;
  const field = lpFind(lp, lpFirst(lp, 0), argv.buf, argv.start[i]!, argv.len[i]!, 1);
  if (field < 0) return false;
  editLp = lpDeleteRangeWithEntry(lp, field, 2);
  return true;
}

// ---------------------------------------------------------------------------------------
// Random fields (HRANDFIELD)
// ---------------------------------------------------------------------------------------

/** Field positions of the listpack being sampled, so that each random pick is one index. */
let fieldPositions = new Int32Array(64);

/** Fills fieldPositions with the field positions of the listpack at buf[base..]; returns how many. */
function indexFields(buf: Uint8Array, base: number): number {
  let n = 0;
  for (let p = lpFirst(buf, base); p !== -1; p = lpNext(buf, lpSkip(buf, p))) {
    if (n === fieldPositions.length) {
      const grown = new Int32Array(n * 2);
      grown.set(fieldPositions);
      fieldPositions = grown;
    }
    fieldPositions[n++] = p;
  }
  return n;
}

/** Replies with one random field (HRANDFIELD without a count; Redis's hashTypeRandomElement). */
function addRandomFieldReply(w: ReplyWriter, db: Db, id: number): void {
  if (!isListpack(db, id)) return w.addBulkLatin1(tableOf(db, id).fields.randomKey()!);
  locatePacked(db, id);
  const buf = packedAt.buf;
  const n = indexFields(buf, packedAt.base);
  lpAddReplyEntry(w, buf, fieldPositions[randomBelow(n)]!);
}

/** `count` fields (and values) picked independently, repeats allowed, in pick order. */
function addRandomPairsReply(w: ReplyWriter, db: Db, id: number, count: number, what: number): void {
  if (!isListpack(db, id)) {
    const fields = tableOf(db, id).fields;
    for (let k = 0; k < count; k++) {
      const field = fields.randomKey()!;
      addTablePair(w, field, fields.get(field)!, what, true);
    }
    return;
  }
  locatePacked(db, id);
  const buf = packedAt.buf;
  const n = indexFields(buf, packedAt.base);
  for (let k = 0; k < count; k++) addListpackPair(w, buf, fieldPositions[randomBelow(n)]!, what, true);
}

/**
 * `count` distinct fields (and values), count below the hash's size, as Redis's CASE 3 and
 * CASE 4 pick them. When most of the hash is wanted, a random subset comes in random
 * order. When few are, a listpack is sampled in one pass, keeping each pair with the
 * probability still needed (Redis's lpRandomPairsUnique), so they come in listpack order,
 * and a hashtable is drawn from until enough distinct fields came up.
 */
function addDistinctPairsReply(w: ReplyWriter, db: Db, id: number, count: number, size: number, what: number): void {
  const most = picksMostOf(count, size);
  if (!isListpack(db, id)) {
    const table = tableOf(db, id);
    const fields = table.fields;
    if (!most) {
      for (const field of drawDistinct(count, table)) addTablePair(w, field, fields.get(field)!, what, true);
      return;
    }
    const all = [...fields.keys()];
    shufflePrefix(all, count, size);
    for (let k = 0; k < count; k++) addTablePair(w, all[k]!, fields.get(all[k]!)!, what, true);
    return;
  }
  locatePacked(db, id);
  const buf = packedAt.buf;
  if (most) {
    shufflePrefix(fieldPositions, count, indexFields(buf, packedAt.base));
    for (let k = 0; k < count; k++) addListpackPair(w, buf, fieldPositions[k]!, what, true);
    return;
  }
  let p = lpFirst(buf, packedAt.base);
  for (let left = size, needed = count; needed > 0; left--) {
    if (randomBelow(left) < needed) {
      addListpackPair(w, buf, p, what, true);
      needed--;
    }
    p = lpSkip(buf, lpSkip(buf, p));
  }
}

// ---------------------------------------------------------------------------------------
// DEBUG DIGEST (Redis's xorObjectDigest for hashes): each pair mixes field then value into
// a fresh digest, and the pairs are combined by XOR, so their order does not matter.
// ---------------------------------------------------------------------------------------

const pairDigest = new Uint8Array(DIGEST_LEN);

function xorPairDigest(digest: Uint8Array, field: Uint8Array, value: Uint8Array): void {
  pairDigest.fill(0);
  mixDigest(pairDigest, field);
  mixDigest(pairDigest, value);
  xorDigest(digest, pairDigest);
}

/** The bytes of the listpack entry at p, integers in decimal. */
function listpackEntryBytes(buf: Uint8Array, p: number): Uint8Array {
  lpGet(buf, p);
  if (lpEntry.isInt) return asciiBytes(String(lpEntryInt64()));
  return buf.subarray(lpEntry.start, lpEntry.start + lpEntry.len);
}

function digestHash(digest: Uint8Array, db: Db, id: number): void {
  if (!isListpack(db, id)) {
    tableOf(db, id).fields.forEach((value, field) => {
      xorPairDigest(digest, Buffer.from(field, "latin1"), Buffer.from(value, "latin1"));
    });
    return;
  }
  locatePacked(db, id);
  const buf = packedAt.buf;
  for (let p = lpFirst(buf, packedAt.base); p !== -1; p = lpNext(buf, lpSkip(buf, p))) {
    xorPairDigest(digest, listpackEntryBytes(buf, p), listpackEntryBytes(buf, lpSkip(buf, p)));
  }
}

registerDigester(ObjType.Hash, digestHash);

// ---------------------------------------------------------------------------------------
// Lookups
// ---------------------------------------------------------------------------------------

/** What the lookups return after replying WRONGTYPE. */
const WRONG_TYPE = -2;

/**
 * Redis's lookupKeyRead (or lookupKeyWrite, which counts no keyspace hit) + checkType: the
 * id of the hash at key argument 1, NO_KEY when there is none (the caller replies), or
 * WRONG_TYPE after replying.
 */
function lookupHash(c: Client, forWrite: boolean): number {
  const db = c.db;
  const id = forWrite ? db.lookupWriteArg(c.argv, 1) : db.lookupReadArg(c.argv, 1);
  if (id < 0) return NO_KEY;
  if (db.typeOf(id) === ObjType.Hash) return id;
  c.w.addErrorBytes(ERR.wrongType);
  return WRONG_TYPE;
}

function lookupHashRead(c: Client): number {
  return lookupHash(c, false);
}

/** Whether the last lookupHashWriteOrCreate made the key (whose insertion already signalled it). */
let hashCreated = false;

/**
 * Redis's hashTypeLookupWriteOrCreate: the hash at key argument 1, made empty (a listpack)
 * when missing, or WRONG_TYPE after replying.
 */
function lookupHashWriteOrCreate(c: Client): number {
  const id = lookupHash(c, true);
  hashCreated = id === NO_KEY;
  if (id !== NO_KEY) return id;
  const db = c.db;
  const created = db.insertArg(c.argv, 1, EMPTY_LISTPACK.length);
  storePacked(db, created, ObjType.Hash, Enc.ListPack, EMPTY_LISTPACK, EMPTY_LISTPACK.length);
  return created;
}

/** Signals a write to the hash, unless creating the key just did. */
function signalWritten(c: Client, id: number): void {
  if (!hashCreated) c.db.modified(id);
}

// ---------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------

/** HSET key field value [field value ...], and HMSET (the same, replying OK). */
function hsetGeneric(c: Client, name: string): void {
  const argc = c.argv.count;
  if (argc % 2 === 1) return c.w.addError(wrongArity(name));
  const id = lookupHashWriteOrCreate(c);
  if (id < 0) return;
  tryConversion(c, id, 2, argc - 1);
  const db = c.db;
  if (argc === 4 && updateInPlace(c, id)) {
    signalWritten(c, id);
    notifyArg(c, NOTIFY.HASH, "hset", 1);
    c.server.dirty++;
    if (name === "hset") c.w.addInteger(0);
    else c.w.addRaw(OK);
    return;
  }
  openHash(db, id);
  let created = 0;
  for (let i = 2; i < argc; i += 2) if (!setFieldArgs(c, id, i, i + 1)) created++;
  closeHash(db, id);
  signalWritten(c, id);
  notifyArg(c, NOTIFY.HASH, "hset", 1);
  c.server.dirty += (argc - 2) / 2;
  if (name === "hset") c.w.addInteger(created);
  else c.w.addRaw(OK);
}

/**
 * HSET's common case of one existing field of a listpack hash getting a value of the
 * same encoded size: the value is rewritten where the keyspace keeps it, without copying
 * the hash out and back. Returns false, having changed nothing, for any other case.
 */
function updateInPlace(c: Client, id: number): boolean {
  const db = c.db;
  if (!isListpack(db, id)) return false;
  const argv = c.argv;
  locatePacked(db, id);
  const { buf, base } = packedAt;
  // A lowered hash-max-listpack-entries converts the hash on any write: leave it to setField.
  if (lpLength(buf, base) >>> 1 > c.server.config.hashMaxListpackEntries) return false;
  const field = lpFind(buf, lpFirst(buf, base), argv.buf, argv.start[2]!, argv.len[2]!, 1);
  if (field < 0 || !lpReplaceInPlace(buf, lpSkip(buf, field), argv.buf, argv.start[3]!, argv.len[3]!)) return false;
  db.table.setMeta(id, packMeta(ObjType.Hash, Enc.ListPack, db.clock.lru));
  return true;
}

/** HSET key field value [field value ...] */
function hsetCommand(c: Client): void {
  hsetGeneric(c, "hset");
}

/** HMSET key field value [field value ...] */
function hmsetCommand(c: Client): void {
  hsetGeneric(c, "hmset");
}

/** HSETNX key field value */
function hsetnxCommand(c: Client): void {
  const id = lookupHashWriteOrCreate(c);
  if (id < 0) return;
  if (hashExists(c.db, id, c.argv, 2)) return c.w.addInteger(0);
  tryConversion(c, id, 2, 3);
  openHash(c.db, id);
  setFieldArgs(c, id, 2, 3);
  closeHash(c.db, id);
  signalWritten(c, id);
  notifyArg(c, NOTIFY.HASH, "hset", 1);
  c.server.dirty++;
  c.w.addInteger(1);
}

/** HGET key field */
function hgetCommand(c: Client): void {
  const id = lookupHashRead(c);
  if (id === NO_KEY) return c.w.addNull();
  if (id >= 0) addFieldReply(c.w, c.db, id, c.argv, 2);
}

/** HMGET key field [field ...] */
function hmgetCommand(c: Client): void {
  const id = lookupHashRead(c);
  if (id === WRONG_TYPE) return;
  const argv = c.argv;
  const w = c.w;
  w.addArrayLen(argv.count - 2);
  for (let i = 2; i < argv.count; i++) {
    // A missing key is an empty hash: every field is null.
    if (id === NO_KEY) w.addNull();
    else addFieldReply(w, c.db, id, argv, i);
  }
}

/** HDEL key field [field ...] */
function hdelCommand(c: Client): void {
  const id = lookupHash(c, true);
  if (id === NO_KEY) return c.w.addInteger(0);
  if (id < 0) return;
  const db = c.db;
  const argv = c.argv;
  openHash(db, id);
  let deleted = 0;
  let emptied = false;
  for (let i = 2; i < argv.count && !emptied; i++) {
    if (!deleteField(argv, i)) continue;
    deleted++;
    emptied = openHashLength() === 0;
  }
  if (emptied) {
    // An empty hash never exists: the last field takes the key with it.
    dropHash();
    db.delete(id);
  } else if (deleted > 0) {
    closeHash(db, id);
    db.modified(id);
  } else {
    dropHash();
  }
  if (deleted > 0) notifyArg(c, NOTIFY.HASH, "hdel", 1);
  if (emptied) notifyArg(c, NOTIFY.GENERIC, "del", 1);
  c.server.dirty += deleted;
  c.w.addInteger(deleted);
}

/** HLEN key */
function hlenCommand(c: Client): void {
  const id = lookupHashRead(c);
  if (id === NO_KEY) return c.w.addInteger(0);
  if (id >= 0) c.w.addInteger(hashLength(c.db, id));
}

/** HSTRLEN key field */
function hstrlenCommand(c: Client): void {
  const id = lookupHashRead(c);
  if (id === NO_KEY) return c.w.addInteger(0);
  if (id >= 0) c.w.addInteger(hashValueLength(c.db, id, c.argv, 2));
}

/** HEXISTS key field */
function hexistsCommand(c: Client): void {
  const id = lookupHashRead(c);
  if (id === NO_KEY) return c.w.addInteger(0);
  if (id >= 0) c.w.addInteger(hashExists(c.db, id, c.argv, 2) ? 1 : 0);
}

/**
 * Redis's genericHgetallCommand: HKEYS, HVALS and HGETALL. Fields with values make a map
 * (a flat array in RESP2), fields or values alone an array.
 */
function getallGeneric(c: Client, what: number): void {
  const id = lookupHashRead(c);
  if (id === WRONG_TYPE) return;
  const w = c.w;
  const both = what === WITH_PAIRS;
  const length = id === NO_KEY ? 0 : hashLength(c.db, id);
  if (both) w.addMapLen(length);
  else w.addArrayLen(length);
  if (id !== NO_KEY) addAllPairs(w, c.db, id, what, false);
}

/** HKEYS key */
function hkeysCommand(c: Client): void {
  getallGeneric(c, WITH_FIELDS);
}

/** HVALS key */
function hvalsCommand(c: Client): void {
  getallGeneric(c, WITH_VALUES);
}

/** HGETALL key */
function hgetallCommand(c: Client): void {
  getallGeneric(c, WITH_PAIRS);
}

/** HINCRBY key field increment */
function hincrbyCommand(c: Client): void {
  const by = parseInt64Arg(c, 3);
  if (by === null) return;
  const id = lookupHashWriteOrCreate(c);
  if (id < 0) return;
  let value: Int64 = 0;
  if (findValueBytes(c.db, id, c.argv, 2)) {
    if (!parseLongLong(valueView.buf, valueView.start, valueView.len)) return c.w.addErrorBytes(ERR.hashValueNotInteger);
    value = parsedInt64.safe ? parsedInt64.value : parsedInt64.big;
  }
  const result = int64Add(value, by);
  if (result === null) return c.w.addErrorBytes(ERR.overflow);
  setFieldTo(c, id, 2, digitScratch, formatInt64(result, digitScratch, 0));
  signalWritten(c, id);
  notifyArg(c, NOTIFY.HASH, "hincrby", 1);
  c.server.dirty++;
  if (typeof result === "number") c.w.addInteger(result);
  else c.w.addBigInt(result);
}

/** HINCRBYFLOAT key field increment */
function hincrbyfloatCommand(c: Client): void {
  const argv = c.argv;
  const by = parseLongDouble(argv.buf, argv.start[3]!, argv.len[3]!);
  if (by === null) return c.w.addErrorBytes(ERR.notFloat);
  if (!isFiniteLongDouble(by)) return c.w.addErrorBytes(ERR.valueNaNOrInfinity);
  const id = lookupHashWriteOrCreate(c);
  if (id < 0) return;
  let value = LD_ZERO;
  if (findValueBytes(c.db, id, argv, 2)) {
    const current = parseLongDouble(valueView.buf, valueView.start, valueView.len);
    if (current === null) return c.w.addErrorBytes(ERR.hashValueNotFloat);
    value = current;
  }
  const sum = longDoubleAdd(value, by);
  if (!isFiniteLongDouble(sum)) return c.w.addErrorBytes(ERR.nanOrInfinity);
  const text = asciiBytes(formatLongDouble(sum, true));
  setFieldTo(c, id, 2, text, text.length);
  signalWritten(c, id);
  notifyArg(c, NOTIFY.HASH, "hincrbyfloat", 1);
  c.server.dirty++;
  // Replay sets the formatted sum rather than repeating long double arithmetic.
  if (c.server.propagation.active) c.server.propagation.replaceCommand(c.db.id, ["HSET", argv.copy(1), argv.copy(2), text]);
  c.w.addBulk(text);
}

/** LONG_MAX/2: with WITHVALUES or WITHSCORES twice the count, the reply's length, must fit a long. */
const HALF_LONG_MAX = INT64_MAX / 2n;

/**
 * HRANDFIELD's and ZRANDMEMBER's `count [WITHVALUES | WITHSCORES]` from argument 2, the
 * option named by `word`: the count, or null after replying. The option is given when
 * there are four arguments.
 */
export function parseRandomPairsArgs(c: Client, word: string): number | null {
  const argv = c.argv;
  const count = parseRandomCount(c, 2);
  if (count === null) return null;
  if (argv.count > 4 || (argv.count === 4 && !argv.isOption(3, word))) {
    c.w.addErrorBytes(ERR.syntax);
    return null;
  }
  // parsedInt64 still holds the count exactly; counts within 2^53 are always in range.
  if (argv.count === 4 && !parsedInt64.safe && (parsedInt64.big < -HALF_LONG_MAX || parsedInt64.big > HALF_LONG_MAX)) {
    c.w.addErrorBytes(ERR.valueOutOfRange);
    return null;
  }
  return count;
}

/** HRANDFIELD key [count [WITHVALUES]] */
function hrandfieldCommand(c: Client): void {
  const argv = c.argv;
  if (argv.count >= 3) {
    const count = parseRandomPairsArgs(c, "withvalues");
    if (count === null) return;
    return randomFieldsWithCount(c, count, argv.count === 4 ? WITH_PAIRS : WITH_FIELDS);
  }
  const id = lookupHashRead(c);
  if (id === NO_KEY) return c.w.addNull();
  if (id >= 0) addRandomFieldReply(c.w, c.db, id);
}

/**
 * Redis's hrandfieldWithCountCommand: a negative count picks that many with repeats, a
 * positive one that many distinct fields (the whole hash when it has no more). WITHVALUES
 * adds each value after its field: flat in RESP2, a two-element array per pair in RESP3.
 */
function randomFieldsWithCount(c: Client, count: number, what: number): void {
  const id = lookupHashRead(c);
  const w = c.w;
  if (id === NO_KEY) return w.addRaw(EMPTY_ARRAY);
  if (id < 0) return;
  if (count === 0) return w.addRaw(EMPTY_ARRAY);
  const db = c.db;
  const flatPairs = what === WITH_PAIRS && w.resp === 2;
  if (count < 0 || count === 1) {
    const picks = Math.abs(count);
    w.addArrayLen(flatPairs ? picks * 2 : picks);
    return addRandomPairsReply(w, db, id, picks, what);
  }
  const size = hashLength(db, id);
  const replied = Math.min(count, size);
  w.addArrayLen(flatPairs ? replied * 2 : replied);
  if (count >= size) addAllPairs(w, db, id, what, true);
  else addDistinctPairsReply(w, db, id, count, size, what);
}

/**
 * HSCAN key cursor [MATCH pattern] [COUNT count] reads a hashtable with the cursor and a
 * listpack whole, each field with its value.
 */
const HASH_SCAN: ScanSource<(field: string, value: string) => void> = {
  type: ObjType.Hash,
  pairs: true,
  table: (db, id) => (isListpack(db, id) ? null : tableOf(db, id).fields),
  gather: gatherScannedPair,
  gatherAll: gatherListpack,
};

// ---------------------------------------------------------------------------------------
// The command table
// ---------------------------------------------------------------------------------------

const KEY = { name: "key", type: "key", key_spec_index: 0 };
const FIELD = { name: "field", type: "string" };
const FIELD_VALUE_PAIRS = {
  name: "field_value", type: "block", flags: ["multiple"], arguments: [FIELD, { name: "value", type: "string" }],
};
const RO_ACCESS = [keyRange("RO access", 1)];
const RO = [keyRange("RO", 1)];
const RW_ACCESS_UPDATE = [keyRange("RW access update", 1)];
const WHOLE_HASH = "O(N) where N is the size of the hash.";

/** HKEYS, HVALS and HGETALL differ only in name, summary and handler. */
function getallDef(name: string, summary: string, handler: (c: Client) => void): CommandDef {
  return {
    name, arity: 2, flags: "readonly", acl: "hash", group: "hash", since: "2.0.0", summary, complexity: WHOLE_HASH,
    tips: ["nondeterministic_output_order"], keySpecs: RO_ACCESS, arguments: [KEY], handler,
  };
}

/** HLEN, HSTRLEN and HEXISTS: O(1) reads whose key spec is plain RO. */
function fieldInfoDef(name: string, since: string, summary: string, handler: (c: Client) => void, withField = true): CommandDef {
  return {
    name, arity: withField ? 3 : 2, flags: "readonly fast", acl: "hash", group: "hash", since, summary,
    complexity: "O(1)", keySpecs: RO, arguments: withField ? [KEY, FIELD] : [KEY], handler,
  };
}

export const hashCommands: CommandDef[] = [
  {
    name: "hset", arity: -4, flags: "write denyoom fast", acl: "hash", group: "hash", since: "2.0.0",
    summary: "Set the string value of a hash field",
    complexity:
      "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.",
    history: [["4.0.0", "Accepts multiple `field` and `value` arguments."]],
    keySpecs: [keyRange("RW update", 1)], arguments: [KEY, FIELD_VALUE_PAIRS],
    handler: hsetCommand,
  },
  {
    name: "hsetnx", arity: 4, flags: "write denyoom fast", acl: "hash", group: "hash", since: "2.0.0",
    summary: "Set the value of a hash field, only if the field does not exist", complexity: "O(1)",
    keySpecs: [keyRange("RW insert", 1)], arguments: [KEY, FIELD, { name: "value", type: "string" }],
    handler: hsetnxCommand,
  },
  {
    name: "hget", arity: 3, flags: "readonly fast", acl: "hash", group: "hash", since: "2.0.0",
    summary: "Get the value of a hash field", complexity: "O(1)", keySpecs: RO_ACCESS, arguments: [KEY, FIELD],
    handler: hgetCommand,
  },
  {
    name: "hmget", arity: -3, flags: "readonly fast", acl: "hash", group: "hash", since: "2.0.0",
    summary: "Get the values of all the given hash fields", complexity: "O(N) where N is the number of fields being requested.",
    keySpecs: RO_ACCESS, arguments: [KEY, { ...FIELD, flags: ["multiple"] }],
    handler: hmgetCommand,
  },
  {
    name: "hmset", arity: -4, flags: "write denyoom fast", acl: "hash", group: "hash", since: "2.0.0",
    summary: "Set multiple hash fields to multiple values", complexity: "O(N) where N is the number of fields being set.",
    docFlags: ["deprecated"], deprecatedSince: "4.0.0", replacedBy: "`HSET` with multiple field-value pairs",
    keySpecs: [keyRange("RW update", 1)], arguments: [KEY, FIELD_VALUE_PAIRS],
    handler: hmsetCommand,
  },
  {
    name: "hdel", arity: -3, flags: "write fast", acl: "hash", group: "hash", since: "2.0.0",
    summary: "Delete one or more hash fields", complexity: "O(N) where N is the number of fields to be removed.",
    history: [["2.4.0", "Accepts multiple `field` arguments."]],
    keySpecs: [keyRange("RW delete", 1)], arguments: [KEY, { ...FIELD, flags: ["multiple"] }],
    handler: hdelCommand,
  },
  fieldInfoDef("hlen", "2.0.0", "Get the number of fields in a hash", hlenCommand, false),
  fieldInfoDef("hstrlen", "3.2.0", "Get the length of the value of a hash field", hstrlenCommand),
  fieldInfoDef("hexists", "2.0.0", "Determine if a hash field exists", hexistsCommand),
  getallDef("hkeys", "Get all the fields in a hash", hkeysCommand),
  getallDef("hvals", "Get all the values in a hash", hvalsCommand),
  getallDef("hgetall", "Get all the fields and values in a hash", hgetallCommand),
  {
    name: "hincrby", arity: 4, flags: "write denyoom fast", acl: "hash", group: "hash", since: "2.0.0",
    summary: "Increment the integer value of a hash field by the given number", complexity: "O(1)",
    keySpecs: RW_ACCESS_UPDATE, arguments: [KEY, FIELD, { name: "increment", type: "integer" }],
    handler: hincrbyCommand,
  },
  {
    name: "hincrbyfloat", arity: 4, flags: "write denyoom fast", acl: "hash", group: "hash", since: "2.6.0",
    summary: "Increment the float value of a hash field by the given amount", complexity: "O(1)",
    keySpecs: RW_ACCESS_UPDATE, arguments: [KEY, FIELD, { name: "increment", type: "double" }],
    handler: hincrbyfloatCommand,
  },
  {
    name: "hrandfield", arity: -2, flags: "readonly", acl: "hash", group: "hash", since: "6.2.0",
    summary: "Get one or multiple random fields from a hash", complexity: "O(N) where N is the number of fields returned",
    tips: ["nondeterministic_output"], keySpecs: RO_ACCESS,
    arguments: [
      KEY,
      {
        name: "options", type: "block", flags: ["optional"],
        arguments: [
          { name: "count", type: "integer" },
          { name: "withvalues", type: "pure-token", token: "WITHVALUES", flags: ["optional"] },
        ],
      },
    ],
    handler: hrandfieldCommand,
  },
  collectionScanDef("hscan", "hash", "hash", "Incrementally iterate hash fields and associated values", HASH_SCAN),
];
