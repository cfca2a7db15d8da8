// Set commands (Redis 7.0's t_set.c): SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD SPOP
// SRANDMEMBER SMOVE SINTER SINTERSTORE SINTERCARD SUNION SUNIONSTORE SDIFF SDIFFSTORE SSCAN.
//
// A set has one of Redis 7.0's two encodings:
// - `intset`: sorted integers in Redis's byte layout (encoding/intset.ts), stored as packed
//   bytes (store/packed.ts), inline in the key's record while small;
// - `hashtable`: a SetTable (a Dict of latin1-string members) held as the key's object.
// A set starts as an intset when its first member is an integer and becomes a hashtable,
// for good, when a member is not an integer or it grows past `set-max-intset-entries`.
// Sets that commands build (SINTERSTORE, SUNIONSTORE, SDIFFSTORE, what SPOP leaves) are
// built the way Redis builds them, so they end up in the encoding Redis would give them.
//
// The file has three parts: the set type over its encodings (stored sets by key id, and
// SetValue for sets at hand), then the command handlers, then the command table. SADD,
// SREM and SISMEMBER on an intset read their arguments in place and allocate nothing.

import type { Client } from "../server/client.ts";
import type { Argv } from "../resp/parser.ts";
import { type Db, NO_KEY } from "../store/db.ts";
import { Enc, ObjType, metaEnc, packMeta } from "../store/object.ts";
import { editPacked, locatePacked, packedAt, storePacked } from "../store/packed.ts";
import { registerDigester, xorDigest } from "../store/digest.ts";
import { Dict } from "../encoding/dict.ts";
import {
  INTSET_HEADER_BYTES,
  intsetAdd,
  intsetBytes,
  intsetFind,
  intsetGet,
  intsetLength,
  intsetNew,
  intsetRandom,
  intsetRemove,
} from "../encoding/intset.ts";
import { EMPTY_ARRAY, type ReplyWriter } from "../resp/writer.ts";
import { ERR } from "../resp/errors.ts";
import { type Int64, INT64_MIN, parseLongLong, parsedInt64 } from "../util/numbers.ts";
import { drawDistinct, picksMostOf, shufflePrefix } from "../util/sample.ts";
import { keyRange, type CommandDef } from "./table.ts";
import { type ScanSource, collectionScanDef, gatherScanned } from "./scan.ts";
import { NOTIFY, notifyArg, notifyId } from "../server/notify.ts";

// ---------------------------------------------------------------------------------------
// The hashtable encoding
// ---------------------------------------------------------------------------------------

/** The `hashtable` encoding: members are the keys (latin1 strings), values are unused. */
export class SetTable extends Dict<null> {
  /** A copy for COPY (commands/keyspace.ts duplicateValue). */
  dup(): SetTable {
    const copy = new SetTable(this.size);
    for (const member of this.keys()) copy.set(member, null);
    return copy;
  }
}

/** Redis's setTypeConvert: the members of an intset as a table of their decimal forms. */
function tableFromIntset(buf: Uint8Array, base: number): SetTable {
  const length = intsetLength(buf, base);
  const table = new SetTable(length);
  for (let i = 0; i < length; i++) table.set(String(intsetGet(buf, base, i)), null);
  return table;
}

/** Redis caps set-max-intset-entries at 2^30 because of the intset's internals. */
const INTSET_ENTRIES_CAP = 1 << 30;

/** The set-max-intset-entries in force: more entries than this make an intset a hashtable. */
function maxIntsetEntries(c: Client): number {
  const configured = c.server.config.setMaxIntsetEntries;
  return configured < INTSET_ENTRIES_CAP ? configured : INTSET_ENTRIES_CAP;
}

// ---------------------------------------------------------------------------------------
// Members
// ---------------------------------------------------------------------------------------

/** A member as the encodings hand it out: an intset's integer or a table's latin1 string. */
type Member = Int64 | string;

/** The value parseLongLong just parsed, in Int64's canonical form. */
function parsedValue(): Int64 {
  return parsedInt64.safe ? parsedInt64.value : parsedInt64.big;
}

/** Whether argument i is an integer an intset can hold (Redis's isSdsRepresentableAsLongLong); see parsedValue. */
function isIntegerArg(argv: Argv, i: number): boolean {
  return parseLongLong(argv.buf, argv.start[i]!, argv.len[i]!);
}

/** Where memberInt writes a string's chars to parse them; int64s have at most 20. */
const digitScratch = new Uint8Array(24);

/** The member as an integer an intset can hold, or null when it is not one. */
function memberInt(m: Member): Int64 | null {
  if (typeof m !== "string") return m;
  const n = m.length;
  if (n > 20) return null;
  for (let k = 0; k < n; k++) digitScratch[k] = m.charCodeAt(k);
  return parseLongLong(digitScratch, 0, n) ? parsedValue() : null;
}

/** The member as a table key: integers in decimal, as Redis's sdsfromlonglong writes them. */
function memberString(m: Member): string {
  return typeof m === "string" ? m : String(m);
}

function addMemberReply(w: ReplyWriter, m: Member): void {
  if (typeof m === "string") w.addBulkLatin1(m);
  else w.addBulkInteger(m);
}

// ---------------------------------------------------------------------------------------
// Stored sets, by key id. The caller has checked that the key holds a set.
// ---------------------------------------------------------------------------------------

function isIntset(db: Db, id: number): boolean {
  return metaEnc(db.table.getMeta(id)) === Enc.IntSet;
}

function tableOf(db: Db, id: number): SetTable {
  return db.table.getObject(id) as SetTable;
}

function storeTable(db: Db, id: number, table: SetTable): void {
  db.table.setObject(id, table);
  db.table.setMeta(id, packMeta(ObjType.Set, Enc.HashTable, db.clock.lru));
}

/** Makes the intset at buf[0 ..] the value of id. */
function storeIntset(db: Db, id: number, buf: Uint8Array): void {
  storePacked(db, id, ObjType.Set, Enc.IntSet, buf, intsetBytes(buf, 0));
}

/** The number of members (Redis's setTypeSize). */
export function setCard(db: Db, id: number): number {
  if (!isIntset(db, id)) return tableOf(db, id).size;
  locatePacked(db, id);
  return intsetLength(packedAt.buf, packedAt.base);
}

const EMPTY_INTSET = intsetNew();

/**
 * Redis's setTypeCreate and dbAdd: a new empty set under key argument keyIndex, an intset
 * when the member it is created for (argument memberIndex) is an integer, else a table.
 * The caller adds that member at once, since empty sets never stay in the keyspace.
 */
function createSetArg(db: Db, argv: Argv, keyIndex: number, memberIndex: number): number {
  if (!isIntegerArg(argv, memberIndex)) {
    const id = db.insertArg(argv, keyIndex);
    storeTable(db, id, new SetTable());
    return id;
  }
  // Room for int16 entries of every member argument, so that the first adds move nothing.
  const id = db.insertArg(argv, keyIndex, INTSET_HEADER_BYTES + 2 * (argv.count - memberIndex));
  storeIntset(db, id, EMPTY_INTSET);
  return id;
}

/**
 * Adds arguments from .. to-1 as members (Redis's setTypeAdd for each) and returns how
 * many were new. An intset is edited once and stored once for all of them; a member that
 * is not an integer, or an intset growing past maxEntries, turns it into a table.
 */
export function setAddArgs(db: Db, id: number, argv: Argv, from: number, to: number, maxEntries: number): number {
  let added = 0;
  let i = from;
  if (isIntset(db, id)) {
    let buf = editPacked(db, id);
    let convert = false;
    for (; i < to; i++) {
      if (!isIntegerArg(argv, i)) {
        convert = true;
        break;
      }
      const grown = intsetAdd(buf, parsedValue());
      if (grown === null) continue;
      buf = grown;
      added++;
      if (intsetLength(buf, 0) > maxEntries) {
        convert = true;
        i++;
        break;
      }
    }
    if (!convert) {
      if (added > 0) storeIntset(db, id, buf);
      return added;
    }
    storeTable(db, id, tableFromIntset(buf, 0));
  }
  const table = tableOf(db, id);
  for (; i < to; i++) {
    // Adding a member already there is common (and allocation-free): only a new one needs its string.
    if (!table.hasBytes(argv.buf, argv.start[i]!, argv.len[i]!) && table.set(argv.str(i), null)) added++;
  }
  return added;
}

/**
 * Removes arguments from .. to-1 (Redis's setTypeRemove for each) and returns how many
 * were members. A set left empty stays empty: the caller deletes the key.
 */
export function setRemoveArgs(db: Db, id: number, argv: Argv, from: number, to: number): number {
  let removed = 0;
  if (isIntset(db, id)) {
    const buf = editPacked(db, id);
    for (let i = from; i < to; i++) {
      if (isIntegerArg(argv, i) && intsetRemove(buf, parsedValue())) removed++;
    }
    if (removed > 0) storeIntset(db, id, buf);
    return removed;
  }
  const table = tableOf(db, id);
  for (let i = from; i < to; i++) if (table.delete(argv.str(i))) removed++;
  return removed;
}

/** Whether argument i is a member (Redis's setTypeIsMember). */
export function setIsMemberArg(db: Db, id: number, argv: Argv, i: number): boolean {
  if (!isIntset(db, id)) return tableOf(db, id).hasBytes(argv.buf, argv.start[i]!, argv.len[i]!);
  if (!isIntegerArg(argv, i)) return false;
  locatePacked(db, id);
  return intsetFind(packedAt.buf, packedAt.base, parsedValue());
}

/**
 * Whether the set holds `member`, a latin1 string (Redis's setTypeIsMember): an intset
 * holds only the canonical decimal forms of its integers.
 */
export function setIsMember(db: Db, id: number, member: string): boolean {
  if (!isIntset(db, id)) return tableOf(db, id).has(member);
  const v = memberInt(member);
  if (v === null) return false;
  locatePacked(db, id);
  return intsetFind(packedAt.buf, packedAt.base, v);
}

/**
 * The members of the stored set `id` as latin1 strings, integers in decimal (Redis's
 * setTypeIterator), in the encoding's order: ascending for an intset. The set must not
 * be written while they are read.
 */
export function* setMembers(db: Db, id: number): IterableIterator<string> {
  for (const m of readSet(db, id).members()) yield memberString(m);
}

/** Removes a random member and returns it (Redis's setTypePopRandom). */
function setPopRandom(db: Db, id: number): Member {
  if (!isIntset(db, id)) {
    const table = tableOf(db, id);
    const member = table.randomKey()!;
    table.delete(member);
    return member;
  }
  const buf = editPacked(db, id);
  const member = intsetRandom(buf, 0);
  intsetRemove(buf, member);
  storeIntset(db, id, buf);
  return member;
}

/** Redis's setKey: the value of key argument i becomes `value`, its time to live dropped. */
function setKeyToSet(db: Db, argv: Argv, i: number, value: SetValue): void {
  const id = db.setKeyArg(argv, i, false, 0);
  value.storeInto(db, id);
}

/** After members left the set `id`: deletes the key when it is empty (notified as `del`), else signals the change. */
function removeIfEmpty(c: Client, id: number): void {
  if (setCard(c.db, id) !== 0) return c.db.modified(id);
  notifyId(c, NOTIFY.GENERIC, "del", id);
  c.db.delete(id);
}

/** Deletes the key of argument i if it exists; returns whether it did. */
function deleteKeyArg(db: Db, argv: Argv, i: number): boolean {
  const id = db.peekArg(argv, i);
  if (id < 0) return false;
  db.delete(id);
  return true;
}

// ---------------------------------------------------------------------------------------
// SetValue: a set at hand for the commands that combine or rebuild sets
// ---------------------------------------------------------------------------------------

/**
 * A set in either encoding, the counterpart of Redis's set robj: intset bytes at `base`,
 * or a table. A stored set is read in place (readSet), and must not be written while the
 * view is in use. A new set (newIntsetValue, newValueFor) owns its intset buffer and can be
 * edited; its encoding changes as Redis's would, against its own maxEntries.
 */
class SetValue {
  constructor(
    private intset: Uint8Array | null,
    private readonly base: number,
    private table: SetTable | null,
    private readonly maxEntries: number,
  ) {}

  get size(): number {
    return this.intset !== null ? intsetLength(this.intset, this.base) : this.table!.size;
  }

  has(m: Member): boolean {
    if (this.intset === null) return this.table!.has(memberString(m));
    const v = memberInt(m);
    return v !== null && intsetFind(this.intset, this.base, v);
  }

  random(): Member {
    return this.intset !== null ? intsetRandom(this.intset, this.base) : this.table!.randomKey()!;
  }

  /** The members in the encoding's order: ascending for an intset. */
  *members(): IterableIterator<Member> {
    if (this.intset === null) {
      yield* this.table!.keys();
      return;
    }
    const length = intsetLength(this.intset, this.base);
    for (let i = 0; i < length; i++) yield intsetGet(this.intset, this.base, i);
  }

  /** Adds a member of a set this value owns (Redis's setTypeAdd). Returns true when new. */
  add(m: Member): boolean {
    if (this.intset !== null) {
      const v = memberInt(m);
      if (v !== null) {
        const grown = intsetAdd(this.intset, v);
        if (grown === null) return false;
        this.intset = grown;
        if (intsetLength(grown, 0) > this.maxEntries) this.convertToTable();
        return true;
      }
      this.convertToTable();
    }
    return this.table!.set(memberString(m), null);
  }

  /** Removes a member of a set this value owns. Returns true when it was there. */
  remove(m: Member): boolean {
    if (this.intset === null) return this.table!.delete(memberString(m));
    const v = memberInt(m);
    return v !== null && intsetRemove(this.intset, v);
  }

  /** Makes this owned set the value of key `id`; the set must not be used afterwards. */
  storeInto(db: Db, id: number): void {
    if (this.intset !== null) storeIntset(db, id, this.intset);
    else storeTable(db, id, this.table!);
  }

  private convertToTable(): void {
    this.table = tableFromIntset(this.intset!, 0);
    this.intset = null;
  }
}

/** The stored set of key `id`, read in place. */
function readSet(db: Db, id: number): SetValue {
  if (!isIntset(db, id)) return new SetValue(null, 0, tableOf(db, id), 0);
  locatePacked(db, id);
  return new SetValue(packedAt.buf, packedAt.base, null, 0);
}

/** A new empty intset value, which Redis's set operations build their results in. */
function newIntsetValue(maxEntries: number): SetValue {
  return new SetValue(intsetNew(4), 0, null, maxEntries);
}

/** Redis's setTypeCreate: a new empty set in the encoding suited to its first member. */
function newValueFor(first: Member, maxEntries: number): SetValue {
  return memberInt(first) !== null ? newIntsetValue(maxEntries) : new SetValue(null, 0, new SetTable(), maxEntries);
}

// ---------------------------------------------------------------------------------------
// Replies with every member
// ---------------------------------------------------------------------------------------

/** Where addTableMember writes: set before a table's forEach, so no closure is made per call. */
let memberReplyTarget: ReplyWriter | null = null;
function addTableMember(_: null, member: string): void {
  memberReplyTarget!.addBulkLatin1(member);
}

/** Every member of the stored set `id`, without a length header. */
function addAllMembers(w: ReplyWriter, db: Db, id: number): void {
  if (!isIntset(db, id)) {
    memberReplyTarget = w;
    tableOf(db, id).forEach(addTableMember);
    memberReplyTarget = null;
    return;
  }
  locatePacked(db, id);
  const buf = packedAt.buf;
  const base = packedAt.base;
  const length = intsetLength(buf, base);
  for (let i = 0; i < length; i++) w.addBulkInteger(intsetGet(buf, base, i));
}

/** A set reply (RESP3 `~`) holding every member of `value`. */
function addSetValueReply(w: ReplyWriter, value: SetValue): void {
  w.addSetLen(value.size);
  for (const m of value.members()) addMemberReply(w, m);
}

// ---------------------------------------------------------------------------------------
// Argument helpers
// ---------------------------------------------------------------------------------------

/**
 * Argument i as a non-negative count, or -1 after replying `error`, which Redis gives for a
 * non-integer too (getPositiveLongFromObjectOrReply with a message). Counts beyond 2^53
 * come back rounded, which only matters to counts no set reaches.
 */
function countArgOr(c: Client, i: number, error: Uint8Array): number {
  const argv = c.argv;
  if (!parseLongLong(argv.buf, argv.start[i]!, argv.len[i]!) || parsedInt64.value < 0) {
    c.w.addErrorBytes(error);
    return -1;
  }
  return parsedInt64.value;
}

/**
 * The set at key argument i for a read: its id, NO_KEY when missing, or WRONG_TYPE after
 * replying WRONGTYPE.
 */
const WRONG_TYPE = -2;
function lookupSetRead(c: Client, i: number): number {
  const db = c.db;
  const id = db.lookupReadArg(c.argv, i);
  if (id < 0) return NO_KEY;
  if (db.typeOf(id) !== ObjType.Set) {
    c.w.addErrorBytes(ERR.wrongType);
    return WRONG_TYPE;
  }
  return id;
}

/** lookupSetRead for a write (no hit/miss counting). */
function lookupSetWrite(c: Client, i: number): number {
  const db = c.db;
  const id = db.lookupWriteArg(c.argv, i);
  if (id < 0) return NO_KEY;
  if (db.typeOf(id) !== ObjType.Set) {
    c.w.addErrorBytes(ERR.wrongType);
    return WRONG_TYPE;
  }
  return id;
}

// ---------------------------------------------------------------------------------------
// SADD, SREM, SISMEMBER, SMISMEMBER, SCARD, SMOVE
// ---------------------------------------------------------------------------------------

/** SADD key member [member ...] */
function saddCommand(c: Client): void {
  const db = c.db;
  const argv = c.argv;
  let id = lookupSetWrite(c, 1);
  if (id === WRONG_TYPE) return;
  if (id === NO_KEY) id = createSetArg(db, argv, 1, 2);
  const added = setAddArgs(db, id, argv, 2, argv.count, maxIntsetEntries(c));
  if (added > 0) {
    db.modified(id);
    notifyArg(c, NOTIFY.SET, "sadd", 1);
  }
  c.server.dirty += added;
  c.w.addInteger(added);
}

/** SREM key member [member ...] */
function sremCommand(c: Client): void {
  const db = c.db;
  const id = lookupSetWrite(c, 1);
  if (id === WRONG_TYPE) return;
  if (id === NO_KEY) return c.w.addInteger(0);
  const removed = setRemoveArgs(db, id, c.argv, 2, c.argv.count);
  if (removed > 0) {
    notifyArg(c, NOTIFY.SET, "srem", 1);
    removeIfEmpty(c, id);
    c.server.dirty += removed;
  }
  c.w.addInteger(removed);
}

/** SISMEMBER key member */
function sismemberCommand(c: Client): void {
  const id = lookupSetRead(c, 1);
  if (id === WRONG_TYPE) return;
  c.w.addInteger(id !== NO_KEY && setIsMemberArg(c.db, id, c.argv, 2) ? 1 : 0);
}

/** SMISMEMBER key member [member ...] */
function smismemberCommand(c: Client): void {
  const id = lookupSetRead(c, 1);
  if (id === WRONG_TYPE) return;
  const argv = c.argv;
  const w = c.w;
  w.addArrayLen(argv.count - 2);
  for (let i = 2; i < argv.count; i++) w.addInteger(id !== NO_KEY && setIsMemberArg(c.db, id, argv, i) ? 1 : 0);
}

/** SCARD key */
function scardCommand(c: Client): void {
  const id = lookupSetRead(c, 1);
  if (id === WRONG_TYPE) return;
  c.w.addInteger(id === NO_KEY ? 0 : setCard(c.db, id));
}

/** SMOVE source destination member */
function smoveCommand(c: Client): void {
  const db = c.db;
  const argv = c.argv;
  const source = db.lookupWriteArg(argv, 1);
  let destination = db.lookupWriteArg(argv, 2);
  if (source < 0) return c.w.addInteger(0);
  if (db.typeOf(source) !== ObjType.Set || (destination >= 0 && db.typeOf(destination) !== ObjType.Set)) {
    return c.w.addErrorBytes(ERR.wrongType);
  }
  // Moving within one set changes nothing; Redis still says whether the member is there.
  if (source === destination) return c.w.addInteger(setIsMemberArg(db, source, argv, 3) ? 1 : 0);
  if (setRemoveArgs(db, source, argv, 3, 4) === 0) return c.w.addInteger(0);
  notifyArg(c, NOTIFY.SET, "srem", 1);
  removeIfEmpty(c, source);
  if (destination < 0) destination = createSetArg(db, argv, 2, 3);
  c.server.dirty++;
  if (setAddArgs(db, destination, argv, 3, 4, maxIntsetEntries(c)) > 0) {
    c.server.dirty++;
    db.modified(destination);
    notifyArg(c, NOTIFY.SET, "sadd", 2);
  }
  c.w.addInteger(1);
}

// ---------------------------------------------------------------------------------------
// Random picks: SRANDMEMBER's count and sampling strategies, which HRANDFIELD and
// ZRANDMEMBER share
// ---------------------------------------------------------------------------------------

/**
 * The count of SRANDMEMBER, HRANDFIELD and ZRANDMEMBER at argument i: any long but
 * LONG_MIN, whose negation would overflow (Redis's getRangeLongFromObjectOrReply over
 * -LONG_MAX..LONG_MAX). Checked on the exact value, since -2^63 and -2^63+1 are the same
 * double. Replies and returns null when it is not accepted; parsedInt64 keeps the exact
 * value, and counts beyond 2^53 come back rounded, which only matters to counts no
 * collection reaches.
 */
export function parseRandomCount(c: Client, i: number): number | null {
  const argv = c.argv;
  if (!parseLongLong(argv.buf, argv.start[i]!, argv.len[i]!)) {
    c.w.addErrorBytes(ERR.notInteger);
    return null;
  }
  if (!parsedInt64.safe && parsedInt64.big === INT64_MIN) {
    c.w.addErrorBytes(ERR.notLongExceptMin);
    return null;
  }
  return parsedInt64.value;
}

// ---------------------------------------------------------------------------------------
// SPOP, SRANDMEMBER
// ---------------------------------------------------------------------------------------

/**
 * SPOP with a count takes the remaining members one by one while they are more than this
 * share of the count; otherwise it picks the members that stay instead (Redis's
 * SPOP_MOVE_STRATEGY_MUL).
 */
const SPOP_MOVE_STRATEGY_MUL = 5;

/** SPOP key [count] */
function spopCommand(c: Client): void {
  const argc = c.argv.count;
  if (argc === 3) return spopWithCount(c);
  if (argc > 3) return c.w.addErrorBytes(ERR.syntax);
  const db = c.db;
  const id = lookupSetWrite(c, 1);
  if (id === WRONG_TYPE) return;
  if (id === NO_KEY) return c.w.addNull();
  const member = setPopRandom(db, id);
  addMemberReply(c.w, member);
  notifyArg(c, NOTIFY.SET, "spop", 1);
  removeIfEmpty(c, id);
  c.server.dirty++;
  // The pick is random: replay removes the member that was picked.
  if (c.server.propagation.active) c.server.propagation.replaceCommand(db.id, ["SREM", c.argv.copy(1), String(member)]);
}

/** SPOP with a count propagates each member it took as an SREM of its own, as Redis 7.0 does. */
function propagateSpopped(c: Client, member: Member): void {
  c.server.propagation.add(c.db.id, ["SREM", c.argv.copy(1), String(member)]);
}

function spopWithCount(c: Client): void {
  const count = countArgOr(c, 2, ERR.mustBePositive);
  if (count < 0) return;
  const db = c.db;
  const id = lookupSetWrite(c, 1);
  if (id === WRONG_TYPE) return;
  if (id === NO_KEY || count === 0) return c.w.addSetLen(0);
  const size = setCard(db, id);
  if (count >= size) {
    // Redis replies with the union of the set alone, then deletes it.
    unionDiffGeneric(c, 1, 1, -1, false);
    notifyArg(c, NOTIFY.SET, "spop", 1);
    db.delete(id);
    notifyArg(c, NOTIFY.GENERIC, "del", 1);
    c.server.dirty += size;
    if (c.server.propagation.active) {
      c.server.propagation.replaceCommand(db.id, [c.server.config.lazyfreeLazyServerDel ? "UNLINK" : "DEL", c.argv.copy(1)]);
    }
    return;
  }
  c.server.dirty += count;
  const propagating = c.server.propagation.active;
  if (propagating) c.server.propagation.preventCommand();
  const remaining = size - count;
  if (remaining * SPOP_MOVE_STRATEGY_MUL > count) {
    c.w.addSetLen(count);
    for (let k = 0; k < count; k++) {
      const member = setPopRandom(db, id);
      addMemberReply(c.w, member);
      if (propagating) propagateSpopped(c, member);
    }
  } else {
    spopKeepingFew(c, id, size, remaining);
  }
  db.modified(id);
  notifyArg(c, NOTIFY.SET, "spop", 1);
}

/**
 * SPOP of most of a set: picks the `remaining` members that stay, builds a new set of them
 * (created for the first one picked, as Redis does, so it may change encoding), replies
 * with the others in the old set's order, and makes the new set the key's value (its time
 * to live kept, as dbOverwrite keeps it).
 */
function spopKeepingFew(c: Client, id: number, size: number, remaining: number): void {
  const db = c.db;
  const members = Array.from(readSet(db, id).members());
  const order = Int32Array.from({ length: size }, (_, i) => i);
  shufflePrefix(order, remaining, size);
  const stays = new Uint8Array(size);
  let kept: SetValue | null = null;
  for (let k = 0; k < remaining; k++) {
    const picked = order[k]!;
    stays[picked] = 1;
    kept ??= newValueFor(members[picked]!, maxIntsetEntries(c));
    kept.add(members[picked]!);
  }
  c.w.addSetLen(size - remaining);
  const propagating = c.server.propagation.active;
  for (let i = 0; i < size; i++) {
    if (stays[i] !== 0) continue;
    addMemberReply(c.w, members[i]!);
    if (propagating) propagateSpopped(c, members[i]!);
  }
  kept!.storeInto(db, id);
}

/** SRANDMEMBER key [count] */
function srandmemberCommand(c: Client): void {
  const argc = c.argv.count;
  if (argc === 3) return srandmemberWithCount(c);
  if (argc > 3) return c.w.addErrorBytes(ERR.syntax);
  const id = lookupSetRead(c, 1);
  if (id === WRONG_TYPE) return;
  if (id === NO_KEY) return c.w.addNull();
  addMemberReply(c.w, readSet(c.db, id).random());
}

/**
 * SRANDMEMBER key count: a positive count asks for distinct members, a negative one for
 * that many independent picks. Redis takes the count in [-LONG_MAX, LONG_MAX].
 */
function srandmemberWithCount(c: Client): void {
  const requested = parseRandomCount(c, 2);
  if (requested === null) return;
  const distinct = requested >= 0;
  const count = Math.abs(requested);
  const id = lookupSetRead(c, 1);
  if (id === WRONG_TYPE) return;
  if (id === NO_KEY || count === 0) return c.w.addRaw(EMPTY_ARRAY);
  const w = c.w;
  const set = readSet(c.db, id);
  if (!distinct || count === 1) {
    w.addArrayLen(count);
    for (let k = 0; k < count; k++) addMemberReply(w, set.random());
    return;
  }
  const size = set.size;
  if (count >= size) {
    w.addArrayLen(size);
    return addAllMembers(w, c.db, id);
  }
  w.addArrayLen(count);
  if (picksMostOf(count, size)) addSampleOfMany(w, set, count);
  else for (const m of drawDistinct(count, set)) addMemberReply(w, m);
}

/** `count` distinct members of a set not much bigger: a partial shuffle of all of them. */
function addSampleOfMany(w: ReplyWriter, set: SetValue, count: number): void {
  const members = Array.from(set.members());
  shufflePrefix(members, count, members.length);
  for (let k = 0; k < count; k++) addMemberReply(w, members[k]!);
}

// ---------------------------------------------------------------------------------------
// SINTER, SINTERSTORE, SINTERCARD, SMEMBERS
// ---------------------------------------------------------------------------------------

/**
 * Redis's sinterGenericCommand over `count` keys from argument `first`: replies with the
 * members (SINTER, SMEMBERS), stores them at key argument dstIndex (SINTERSTORE, when
 * dstIndex >= 0), or counts them up to `limit`, 0 meaning no limit (SINTERCARD). Every key
 * is type-checked before a missing one, an empty set, settles the answer.
 */
function interGeneric(c: Client, first: number, count: number, dstIndex: number, cardinalityOnly: boolean, limit: number): void {
  const db = c.db;
  const sets: SetValue[] = [];
  const ids: number[] = [];
  let anyMissing = false;
  for (let j = 0; j < count; j++) {
    const id = lookupSetRead(c, first + j);
    if (id === WRONG_TYPE) return;
    if (id === NO_KEY) anyMissing = true;
    else {
      sets.push(readSet(db, id));
      ids.push(id);
    }
  }
  const w = c.w;
  if (anyMissing) {
    if (dstIndex >= 0) {
      if (deleteKeyArg(db, c.argv, dstIndex)) {
        notifyArg(c, NOTIFY.GENERIC, "del", dstIndex);
        c.server.dirty++;
      }
      w.addInteger(0);
    } else if (cardinalityOnly) w.addInteger(0);
    else w.addSetLen(0);
    return;
  }
  // Walk the smallest set, testing its members against the others (a stable sort, like
  // glibc's qsort, so equal sizes keep the order of the keys).
  const order = sets.map((_, j) => j).sort((a, b) => sets[a]!.size - sets[b]!.size);
  const smallest = sets[order[0]!]!;
  const smallestId = ids[order[0]!]!;
  const result = dstIndex >= 0 ? newIntsetValue(maxIntsetEntries(c)) : null;
  const at = result === null && !cardinalityOnly ? w.deferLen() : 0;
  let cardinality = 0;
  candidates: for (const m of smallest.members()) {
    for (let k = 1; k < order.length; k++) {
      const j = order[k]!;
      if (ids[j] !== smallestId && !sets[j]!.has(m)) continue candidates;
    }
    cardinality++;
    if (cardinalityOnly) {
      if (cardinality === limit) break;
    } else if (result === null) addMemberReply(w, m);
    else result.add(m);
  }
  if (cardinalityOnly) w.addInteger(cardinality);
  else if (result === null) w.setDeferredLen(at, "set", cardinality);
  else storeResult(c, dstIndex, result, "sinterstore");
}

/**
 * The end of the STORE variants: the result becomes the value of key argument dstIndex
 * (notified as `event`) and its size the reply; an empty result deletes the key instead.
 */
function storeResult(c: Client, dstIndex: number, result: SetValue, event: string): void {
  const db = c.db;
  const size = result.size;
  if (size > 0) {
    setKeyToSet(db, c.argv, dstIndex, result);
    notifyArg(c, NOTIFY.SET, event, dstIndex);
  } else if (deleteKeyArg(db, c.argv, dstIndex)) {
    notifyArg(c, NOTIFY.GENERIC, "del", dstIndex);
  } else return c.w.addInteger(0);
  c.server.dirty++;
  c.w.addInteger(size);
}

/** SMEMBERS key (in Redis 7.0, SINTER of one key: the same lookups and replies) */
function smembersCommand(c: Client): void {
  const id = lookupSetRead(c, 1);
  if (id === WRONG_TYPE) return;
  if (id === NO_KEY) return c.w.addSetLen(0);
  c.w.addSetLen(setCard(c.db, id));
  addAllMembers(c.w, c.db, id);
}

/** SINTER key [key ...] */
function sinterCommand(c: Client): void {
  interGeneric(c, 1, c.argv.count - 1, -1, false, 0);
}

/** SINTERSTORE destination key [key ...] */
function sinterstoreCommand(c: Client): void {
  interGeneric(c, 2, c.argv.count - 2, 1, false, 0);
}

/** SINTERCARD numkeys key [key ...] [LIMIT limit] */
function sintercardCommand(c: Client): void {
  const argv = c.argv;
  const argc = argv.count;
  const numkeys = countArgOr(c, 1, ERR.numkeysNotPositive);
  if (numkeys < 0) return;
  if (numkeys === 0) return c.w.addErrorBytes(ERR.numkeysNotPositive);
  if (numkeys > argc - 2) return c.w.addErrorBytes(ERR.numkeysOverArgs);
  let limit = 0;
  for (let j = 2 + numkeys; j < argc; j++) {
    if (argv.is(j, "limit") && j + 1 < argc) {
      limit = countArgOr(c, ++j, ERR.limitNegative);
      if (limit < 0) return;
    } else {
      return c.w.addErrorBytes(ERR.syntax);
    }
  }
  interGeneric(c, 2, numkeys, -1, true, limit);
}

// ---------------------------------------------------------------------------------------
// SUNION, SUNIONSTORE, SDIFF, SDIFFSTORE
// ---------------------------------------------------------------------------------------

/**
 * Redis's sunionDiffGenericCommand over `count` keys from argument `first`: the union, or
 * (diff) the members of the first set in none of the others, built in a new intset value
 * like Redis's dstset, so its encoding and, for an intset, its order are Redis's. Replies
 * with it, or stores it at key argument dstIndex when dstIndex >= 0.
 */
function unionDiffGeneric(c: Client, first: number, count: number, dstIndex: number, diff: boolean): void {
  const sets: (SetValue | null)[] = [];
  const ids: number[] = [];
  for (let j = 0; j < count; j++) {
    const id = lookupSetRead(c, first + j);
    if (id === WRONG_TYPE) return;
    sets.push(id === NO_KEY ? null : readSet(c.db, id));
    ids.push(id);
  }
  const result = newIntsetValue(maxIntsetEntries(c));
  if (!diff) {
    for (const set of sets) if (set !== null) for (const m of set.members()) result.add(m);
  } else if (sets[0] !== null && !ids.includes(ids[0]!, 1)) {
    // A key repeated after the first leaves nothing: the result stays empty.
    diffInto(result, sets as [SetValue, ...(SetValue | null)[]]);
  }
  if (dstIndex >= 0) return storeResult(c, dstIndex, result, diff ? "sdiffstore" : "sunionstore");
  addSetValueReply(c.w, result);
}

/**
 * The difference of sets[0] and the rest, by the algorithm Redis would pick, since the
 * result's encoding depends on it: the second adds all of the first set before removing,
 * so a non-integer it removes has already made the result a table.
 */
function diffInto(result: SetValue, sets: [SetValue, ...(SetValue | null)[]]): void {
  const [head, ...rest] = sets;
  // Algorithm 1 tests each member of the first set against every other set; algorithm 2
  // copies the first set and removes the others. Redis compares their work, integer-halving
  // the first's as a head start, and picks the first on a tie.
  let checkWork = 0;
  let copyWork = 0;
  for (const set of sets) {
    if (set === null) continue;
    checkWork += head.size;
    copyWork += set.size;
  }
  if (Math.floor(checkWork / 2) <= copyWork) {
    candidates: for (const m of head.members()) {
      for (const set of rest) if (set !== null && set.has(m)) continue candidates;
      result.add(m);
    }
    return;
  }
  for (const m of head.members()) result.add(m);
  for (const set of rest) {
    if (set === null) continue;
    for (const m of set.members()) result.remove(m);
    if (result.size === 0) return;
  }
}

/** SUNION key [key ...] */
function sunionCommand(c: Client): void {
  unionDiffGeneric(c, 1, c.argv.count - 1, -1, false);
}

/** SUNIONSTORE destination key [key ...] */
function sunionstoreCommand(c: Client): void {
  unionDiffGeneric(c, 2, c.argv.count - 2, 1, false);
}

/** SDIFF key [key ...] */
function sdiffCommand(c: Client): void {
  unionDiffGeneric(c, 1, c.argv.count - 1, -1, true);
}

/** SDIFFSTORE destination key [key ...] */
function sdiffstoreCommand(c: Client): void {
  unionDiffGeneric(c, 2, c.argv.count - 2, 1, true);
}

// ---------------------------------------------------------------------------------------
// SSCAN
// ---------------------------------------------------------------------------------------

/**
 * SSCAN key cursor [MATCH pattern] [COUNT count] reads a table with the cursor and an
 * intset whole, its integers in decimal.
 */
const SET_SCAN: ScanSource<(member: string) => void> = {
  type: ObjType.Set,
  pairs: false,
  table: (db, id) => (isIntset(db, id) ? null : tableOf(db, id)),
  gather: gatherScanned,
  gatherAll: (db, id) => {
    for (const member of setMembers(db, id)) gatherScanned(member);
  },
};

// ---------------------------------------------------------------------------------------
// DEBUG DIGEST
// ---------------------------------------------------------------------------------------

/** Redis's xorObjectDigest for a set: the SHA1 of each member's bytes xored in, in any order. */
function digestSet(digest: Uint8Array, db: Db, id: number): void {
  for (const member of setMembers(db, id)) xorDigest(digest, Buffer.from(member, "latin1"));
}

registerDigester(ObjType.Set, digestSet);

// ---------------------------------------------------------------------------------------
// Command table
// ---------------------------------------------------------------------------------------

const KEY = { name: "key", type: "key", key_spec_index: 0 };
const KEYS = { ...KEY, flags: ["multiple"] };
const DESTINATION = { name: "destination", type: "key", key_spec_index: 0 };
const SOURCE_KEYS = { name: "key", type: "key", key_spec_index: 1, flags: ["multiple"] };
const MEMBER = { name: "member", type: "string" };
const MEMBERS = { ...MEMBER, flags: ["multiple"] };
const MULTIPLE_MEMBERS_HISTORY: [string, string][] = [["2.4.0", "Accepts multiple `member` arguments."]];
const INTER_COMPLEXITY = "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.";
const TOTAL_COMPLEXITY = "O(N) where N is the total number of elements in all given sets.";

/** A set-operation command replying with members: SINTER, SUNION, SDIFF. */
function readAllDef(name: string, summary: string, complexity: string, handler: (c: Client) => void): CommandDef {
  return {
    name, arity: -2, flags: "readonly", acl: "set", group: "set", since: "1.0.0", summary, complexity,
    tips: ["nondeterministic_output_order"],
    keySpecs: [keyRange("RO access", 1, -1)],
    arguments: [KEYS],
    handler,
  };
}

/** A STORE variant: SINTERSTORE (its destination spec is RW), SUNIONSTORE, SDIFFSTORE (OW). */
function storeDef(name: string, destinationFlags: string, summary: string, complexity: string, handler: (c: Client) => void): CommandDef {
  return {
    name, arity: -3, flags: "write denyoom", acl: "set", group: "set", since: "1.0.0", summary, complexity,
    keySpecs: [keyRange(destinationFlags, 1), keyRange("RO access", 2, -1)],
    arguments: [DESTINATION, SOURCE_KEYS],
    handler,
  };
}

export const setCommands: CommandDef[] = [
  {
    name: "sadd", arity: -3, flags: "write denyoom fast", acl: "set", group: "set", since: "1.0.0",
    summary: "Add one or more members to a set",
    complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
    history: MULTIPLE_MEMBERS_HISTORY,
    keySpecs: [keyRange("RW insert", 1)], arguments: [KEY, MEMBERS],
    handler: saddCommand,
  },
  {
    name: "srem", arity: -3, flags: "write fast", acl: "set", group: "set", since: "1.0.0",
    summary: "Remove one or more members from a set",
    complexity: "O(N) where N is the number of members to be removed.",
    history: MULTIPLE_MEMBERS_HISTORY,
    keySpecs: [keyRange("RW delete", 1)], arguments: [KEY, MEMBERS],
    handler: sremCommand,
  },
  {
    name: "smembers", arity: 2, flags: "readonly", acl: "set", group: "set", since: "1.0.0",
    summary: "Get all the members in a set", complexity: "O(N) where N is the set cardinality.",
    tips: ["nondeterministic_output_order"],
    keySpecs: [keyRange("RO access", 1)], arguments: [KEY],
    handler: smembersCommand,
  },
  {
    name: "sismember", arity: 3, flags: "readonly fast", acl: "set", group: "set", since: "1.0.0",
    summary: "Determine if a given value is a member of a set", complexity: "O(1)",
    keySpecs: [keyRange("RO", 1)], arguments: [KEY, MEMBER],
    handler: sismemberCommand,
  },
  {
    name: "smismember", arity: -3, flags: "readonly fast", acl: "set", group: "set", since: "6.2.0",
    summary: "Returns the membership associated with the given elements for a set",
    complexity: "O(N) where N is the number of elements being checked for membership",
    keySpecs: [keyRange("RO access", 1)], arguments: [KEY, MEMBERS],
    handler: smismemberCommand,
  },
  {
    name: "scard", arity: 2, flags: "readonly fast", acl: "set", group: "set", since: "1.0.0",
    summary: "Get the number of members in a set", complexity: "O(1)",
    keySpecs: [keyRange("RO", 1)], arguments: [KEY],
    handler: scardCommand,
  },
  {
    name: "spop", arity: -2, flags: "write fast", acl: "set", group: "set", since: "1.0.0",
    summary: "Remove and return one or multiple random members from a set",
    complexity: "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.",
    history: [["3.2.0", "Added the `count` argument."]],
    tips: ["nondeterministic_output"],
    keySpecs: [keyRange("RW access delete", 1)],
    arguments: [KEY, { name: "count", type: "integer", since: "3.2.0", flags: ["optional"] }],
    handler: spopCommand,
  },
  {
    name: "srandmember", arity: -2, flags: "readonly", acl: "set", group: "set", since: "1.0.0",
    summary: "Get one or multiple random members from a set",
    complexity: "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.",
    history: [["2.6.0", "Added the optional `count` argument."]],
    tips: ["nondeterministic_output"],
    keySpecs: [keyRange("RO access", 1)],
    arguments: [KEY, { name: "count", type: "integer", since: "2.6.0", flags: ["optional"] }],
    handler: srandmemberCommand,
  },
  {
    name: "smove", arity: 4, flags: "write fast", acl: "set", group: "set", since: "1.0.0",
    summary: "Move a member from one set to another", complexity: "O(1)",
    keySpecs: [keyRange("RW access delete", 1), keyRange("RW insert", 2)],
    arguments: [
      { name: "source", type: "key", key_spec_index: 0 },
      { name: "destination", type: "key", key_spec_index: 1 },
      MEMBER,
    ],
    handler: smoveCommand,
  },
  readAllDef("sinter", "Intersect multiple sets", INTER_COMPLEXITY, sinterCommand),
  storeDef("sinterstore", "RW update", "Intersect multiple sets and store the resulting set in a key", INTER_COMPLEXITY, sinterstoreCommand),
  {
    name: "sintercard", arity: -3, flags: "readonly", acl: "set", group: "set", since: "7.0.0",
    summary: "Intersect multiple sets and return the cardinality of the result", complexity: INTER_COMPLEXITY,
    keySpecs: [{ flags: "RO access", begin: { index: 1 }, find: { keynumidx: 0, firstkey: 1, keystep: 1 } }],
    arguments: [
      { name: "numkeys", type: "integer" },
      KEYS,
      { name: "limit", type: "integer", token: "LIMIT", flags: ["optional"] },
    ],
    handler: sintercardCommand,
  },
  readAllDef("sunion", "Add multiple sets", TOTAL_COMPLEXITY, sunionCommand),
  storeDef("sunionstore", "OW update", "Add multiple sets and store the resulting set in a key", TOTAL_COMPLEXITY, sunionstoreCommand),
  readAllDef("sdiff", "Subtract multiple sets", TOTAL_COMPLEXITY, sdiffCommand),
  storeDef("sdiffstore", "OW update", "Subtract multiple sets and store the resulting set in a key", TOTAL_COMPLEXITY, sdiffstoreCommand),
  collectionScanDef("sscan", "set", "set", "Incrementally iterate Set elements", SET_SCAN),
];
