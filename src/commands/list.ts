// List commands (Redis's t_list.c), the non-blocking ones: LPUSH RPUSH LPUSHX RPUSHX LPOP
// RPOP LLEN LRANGE LINDEX LSET LINSERT LREM LTRIM LPOS LMOVE RPOPLPUSH LMPOP. Every list is
// a Quicklist (encoding/quicklist.ts) held as the key's object, as Redis 7.0 keeps every
// list a quicklist.
//
// The pop, pop-range and move steps are exported (popOneAndReply, popRangeAndReply,
// popRangeWithKeyAndReply, moveAndReply, with parseMpopArgs for BLMPOP's arguments) so
// that the blocking commands can serve a client with them when a key becomes ready,
// replying through whichever writer they are given; every new list is made by createList.

import type { Client } from "../server/client.ts";
import type { Db } from "../store/db.ts";
import { Enc, ObjType, packMeta } from "../store/object.ts";
import { mixDigest, registerDigester } from "../store/digest.ts";
import { EMPTY_ARRAY, OK, type ReplyWriter } from "../resp/writer.ts";
import { ERR, wrongArity } from "../resp/errors.ts";
import { keyRange, type CommandDef, type KeySpec } from "./table.ts";
import { TimeoutUnit, parseInt64Arg, parseIntArg, parseRangeArgOr, parseTimeoutArg } from "./args.ts";
import type { BlockedWait } from "../server/blocking.ts";
import { INT64_MIN } from "../util/numbers.ts";
import type { PropArg } from "../server/propagate.ts";
import { NOTIFY, notifyArg, notifyBytes, notifyId } from "../server/notify.ts";
import {
  LIST_HEAD,
  LIST_TAIL,
  type ListEnd,
  Quicklist,
  QuicklistIter,
  addEntryReply,
  copyEntry,
  popped,
  quicklistLimitsOf,
} from "../encoding/quicklist.ts";

/** C's LONG_MAX, as the double parseIntArg gives for it. */
const LONG_MAX = 9223372036854775807;

// ---------------------------------------------------------------------------------------
// The list type's API
// ---------------------------------------------------------------------------------------

/** The one iterator the commands walk lists with; none of them runs inside another. */
const cursor = new QuicklistIter();

function listAt(db: Db, id: number): Quicklist {
  return db.table.getObject(id) as Quicklist;
}

/**
 * Adds the key (bytes buf[start .. start+len)) holding a new empty list, shaped by the
 * list-max-listpack-size and list-compress-depth in force now, as Redis fixes them when a
 * list is made. The caller pushes onto it at once.
 */
export function createList(c: Client, buf: Uint8Array, start: number, len: number): Quicklist {
  const db = c.db;
  const config = c.server.config;
  const list = new Quicklist(config.listMaxListpackSize, config.listCompressDepth, quicklistLimitsOf(config));
  const id = db.insertBytes(buf, start, len);
  db.table.setObject(id, list);
  db.table.setMeta(id, packMeta(ObjType.List, Enc.QuickList, db.clock.lru));
  return list;
}

/**
 * After elements left the list `id`: notifies `event`, deletes the key when it is empty
 * (no empty list exists; notified as `del`), else signals the change; counts the removed
 * elements as changes.
 */
function elementsRemoved(c: Client, id: number, list: Quicklist, removed: number, event: string): void {
  notifyId(c, NOTIFY.LIST, event, id);
  if (list.count === 0) {
    notifyId(c, NOTIFY.GENERIC, "del", id);
    c.db.delete(id);
  } else c.db.modified(id);
  c.server.dirty += removed;
}

/**
 * Pops one element from the list `id` of c's database and replies with it as a bulk
 * string through w (LPOP, BLPOP).
 */
export function popOneAndReply(c: Client, w: ReplyWriter, id: number, where: ListEnd): void {
  const list = listAt(c.db, id);
  list.popReply(w, where);
  elementsRemoved(c, id, list, 1, popEvent(where));
}

/**
 * Pops up to count elements (count >= 1) from the list `id` and replies with them as an
 * array, in the order they were popped (LPOP key count).
 */
export function popRangeAndReply(c: Client, w: ReplyWriter, id: number, where: ListEnd, count: number): number {
  const list = listAt(c.db, id);
  const n = Math.min(count, list.count);
  w.addArrayLen(n);
  if (where === LIST_HEAD) {
    list.addRangeReply(w, 0, n, false);
    list.deleteRange(0, n);
  } else {
    list.addRangeReply(w, list.count - 1, n, true);
    list.deleteRange(list.count - n, n);
  }
  elementsRemoved(c, id, list, n, popEvent(where));
  return n;
}

/** LMPOP's reply: [key, [elements]] for up to count elements popped from the list `id`. Returns how many were popped. */
export function popRangeWithKeyAndReply(
  c: Client,
  w: ReplyWriter,
  id: number,
  keyBuf: Uint8Array,
  keyStart: number,
  keyLen: number,
  where: ListEnd,
  count: number,
): number {
  w.addArrayLen(2);
  w.addBulkView(keyBuf, keyStart, keyLen);
  return popRangeAndReply(c, w, id, where, count);
}

/**
 * Blocking and multi-key pops propagate as the plain pop they did (Redis rewrites them):
 * `LPOP|RPOP key`, with the number popped when the command took a count.
 */
function propagatePop(c: Client, key: PropArg, where: ListEnd, popped: number): void {
  const args: PropArg[] = [where === LIST_HEAD ? "LPOP" : "RPOP", key];
  if (popped > 0) args.push(String(popped));
  c.server.propagation.replaceCommand(c.db.id, args);
}

/** BLMOVE and BRPOPLPUSH propagate as LMOVE and RPOPLPUSH, their ends as Redis names them. */
function propagateMove(c: Client, source: PropArg, destination: PropArg, wherefrom: ListEnd, whereto: ListEnd, asRpoplpush: boolean): void {
  const args: PropArg[] = asRpoplpush
    ? ["RPOPLPUSH", source, destination]
    : ["LMOVE", source, destination, endName(wherefrom), endName(whereto)];
  c.server.propagation.replaceCommand(c.db.id, args);
}

/** The event a pop from `where` notifies. */
function popEvent(where: ListEnd): string {
  return where === LIST_HEAD ? "lpop" : "rpop";
}

/** The event a push at `where` notifies. */
function pushEvent(where: ListEnd): string {
  return where === LIST_HEAD ? "lpush" : "rpush";
}

function endName(where: ListEnd): string {
  return where === LIST_HEAD ? "left" : "right";
}

/**
 * Moves an element from the list `srcId` to the destination key, made a list if absent,
 * and replies with it (Redis's lmoveGenericCommand after the source lookup). Returns
 * false after replying WRONGTYPE, having moved nothing, when the destination holds
 * another type.
 */
export function moveAndReply(
  c: Client,
  w: ReplyWriter,
  srcId: number,
  dstBuf: Uint8Array,
  dstStart: number,
  dstLen: number,
  wherefrom: ListEnd,
  whereto: ListEnd,
): boolean {
  const db = c.db;
  const dstId = db.lookupWriteBytes(dstBuf, dstStart, dstLen);
  if (dstId >= 0 && db.typeOf(dstId) !== ObjType.List) {
    w.addErrorBytes(ERR.wrongType);
    return false;
  }
  const source = listAt(db, srcId);
  source.popTo(wherefrom);
  // The source may be the destination: it stays, emptied for a moment, until the push.
  const destination = dstId >= 0 ? listAt(db, dstId) : createList(c, dstBuf, dstStart, dstLen);
  destination.push(whereto, popped.bytes, 0, popped.len);
  if (dstId >= 0) db.modified(dstId);
  notifyBytes(c, NOTIFY.LIST, pushEvent(whereto), dstBuf, dstStart, dstLen);
  w.addBulkView(popped.bytes, 0, popped.len);
  elementsRemoved(c, srcId, source, 1, popEvent(wherefrom));
  return true;
}

/** What a command replies when its key is missing (Redis's lookupKey*OrReply's reply). */
const enum Missing {
  Zero,
  Ok,
  Null,
  NullArray,
  EmptyArray,
  NoSuchKey,
}

function replyMissing(c: Client, missing: Missing): void {
  const w = c.w;
  switch (missing) {
    case Missing.Zero:
      return w.addInteger(0);
    case Missing.Ok:
      return w.addRaw(OK);
    case Missing.Null:
      return w.addNull();
    case Missing.NullArray:
      return w.addNullArray();
    case Missing.EmptyArray:
      return w.addRaw(EMPTY_ARRAY);
    case Missing.NoSuchKey:
      return w.addErrorBytes(ERR.noSuchKey);
  }
}

/** The list at argument i for reading, or -1 after replying for a missing key or WRONGTYPE. */
function readListOrReply(c: Client, i: number, missing: Missing): number {
  return listOrReply(c, c.db.lookupReadArg(c.argv, i), missing);
}

/** The list at argument i for writing, or -1 after replying for a missing key or WRONGTYPE. */
function writeListOrReply(c: Client, i: number, missing: Missing): number {
  return listOrReply(c, c.db.lookupWriteArg(c.argv, i), missing);
}

function listOrReply(c: Client, id: number, missing: Missing): number {
  if (id < 0) {
    replyMissing(c, missing);
    return -1;
  }
  if (c.db.typeOf(id) !== ObjType.List) {
    c.w.addErrorBytes(ERR.wrongType);
    return -1;
  }
  return id;
}

/** LEFT or RIGHT at argument i (getListPositionFromObjectOrReply), or -1 after a syntax error. */
function parseEndOrReply(c: Client, i: number): ListEnd | -1 {
  if (c.argv.is(i, "left")) return LIST_HEAD;
  if (c.argv.is(i, "right")) return LIST_TAIL;
  c.w.addErrorBytes(ERR.syntax);
  return -1;
}

// ---------------------------------------------------------------------------------------
// Push
// ---------------------------------------------------------------------------------------

/** LPUSH RPUSH LPUSHX RPUSHX: pushes every element, creating the list unless onlyIfExists. */
function pushGeneric(c: Client, where: ListEnd, onlyIfExists: boolean): void {
  const db = c.db;
  const argv = c.argv;
  const id = db.lookupWriteArg(argv, 1);
  let list: Quicklist;
  if (id >= 0) {
    if (db.typeOf(id) !== ObjType.List) return c.w.addErrorBytes(ERR.wrongType);
    list = listAt(db, id);
  } else {
    if (onlyIfExists) return c.w.addInteger(0);
    list = createList(c, argv.buf, argv.start[1]!, argv.len[1]!);
  }
  const buf = argv.buf;
  for (let j = 2; j < argv.count; j++) list.push(where, buf, argv.start[j]!, argv.len[j]!);
  if (id >= 0) db.modified(id);
  notifyArg(c, NOTIFY.LIST, pushEvent(where), 1);
  c.w.addInteger(list.count);
  c.server.dirty += argv.count - 2;
}

/** LPUSH key element [element ...] */
function lpushCommand(c: Client): void {
  pushGeneric(c, LIST_HEAD, false);
}

/** RPUSH key element [element ...] */
function rpushCommand(c: Client): void {
  pushGeneric(c, LIST_TAIL, false);
}

/** LPUSHX key element [element ...] */
function lpushxCommand(c: Client): void {
  pushGeneric(c, LIST_HEAD, true);
}

/** RPUSHX key element [element ...] */
function rpushxCommand(c: Client): void {
  pushGeneric(c, LIST_TAIL, true);
}

/** LINSERT key BEFORE|AFTER pivot element */
function linsertCommand(c: Client): void {
  const argv = c.argv;
  let after: boolean;
  if (argv.is(2, "after")) after = true;
  else if (argv.is(2, "before")) after = false;
  else return c.w.addErrorBytes(ERR.syntax);
  const id = writeListOrReply(c, 1, Missing.Zero);
  if (id < 0) return;
  const list = listAt(c.db, id);
  const it = cursor;
  const buf = argv.buf;
  for (list.seek(0, true, it); it.valid; list.advance(it)) {
    if (!list.equalsAt(it, buf, argv.start[3]!, argv.len[3]!)) continue;
    list.insertAt(it, after, buf, argv.start[4]!, argv.len[4]!);
    c.db.modified(id);
    notifyArg(c, NOTIFY.LIST, "linsert", 1);
    c.server.dirty++;
    return c.w.addInteger(list.count);
  }
  c.w.addInteger(-1);
}

// ---------------------------------------------------------------------------------------
// Pop and move
// ---------------------------------------------------------------------------------------

const POSITIVE_COUNT = "ERR value is out of range, must be positive";

/** LPOP and RPOP: key [count] */
function popGeneric(c: Client, where: ListEnd): void {
  const argv = c.argv;
  if (argv.count > 3) return c.w.addError(wrongArity(where === LIST_HEAD ? "lpop" : "rpop"));
  const hasCount = argv.count === 3;
  let count = 0;
  if (hasCount) {
    const n = parseRangeArgOr(c, 2, 0, LONG_MAX, POSITIVE_COUNT);
    if (n === null) return;
    count = n;
  }
  const id = writeListOrReply(c, 1, hasCount ? Missing.NullArray : Missing.Null);
  if (id < 0) return;
  if (hasCount && count === 0) return c.w.addRaw(EMPTY_ARRAY);
  if (!hasCount) popOneAndReply(c, c.w, id, where);
  else popRangeAndReply(c, c.w, id, where, count);
}

/** LPOP key [count] */
function lpopCommand(c: Client): void {
  popGeneric(c, LIST_HEAD);
}

/** RPOP key [count] */
function rpopCommand(c: Client): void {
  popGeneric(c, LIST_TAIL);
}

/** LMOVE and RPOPLPUSH once the ends are known. */
function moveGeneric(c: Client, wherefrom: ListEnd, whereto: ListEnd): void {
  const id = writeListOrReply(c, 1, Missing.Null);
  if (id < 0) return;
  const argv = c.argv;
  moveAndReply(c, c.w, id, argv.buf, argv.start[2]!, argv.len[2]!, wherefrom, whereto);
}

/** LMOVE source destination LEFT|RIGHT LEFT|RIGHT */
function lmoveCommand(c: Client): void {
  const wherefrom = parseEndOrReply(c, 3);
  if (wherefrom === -1) return;
  const whereto = parseEndOrReply(c, 4);
  if (whereto === -1) return;
  moveGeneric(c, wherefrom, whereto);
}

/** RPOPLPUSH source destination */
function rpoplpushCommand(c: Client): void {
  moveGeneric(c, LIST_TAIL, LIST_HEAD);
}

/** What parseMpopArgs found. */
export const mpop = { where: LIST_HEAD as ListEnd, count: 1, numkeys: 0 };

/**
 * LMPOP's (and BLMPOP's) arguments from numkeys at argument `numkeysAt` on: the key count,
 * LEFT|RIGHT and COUNT. Returns false after replying an error.
 */
export function parseMpopArgs(c: Client, numkeysAt: number): boolean {
  const argv = c.argv;
  const numkeys = parseRangeArgOr(c, numkeysAt, 1, LONG_MAX, "ERR numkeys should be greater than 0");
  if (numkeys === null) return false;
  const whereAt = numkeysAt + numkeys + 1;
  if (whereAt >= argv.count) {
    c.w.addErrorBytes(ERR.syntax);
    return false;
  }
  const where = parseEndOrReply(c, whereAt);
  if (where === -1) return false;
  let count = -1;
  for (let j = whereAt + 1; j < argv.count; j++) {
    if (count !== -1 || !argv.is(j, "count") || j === argv.count - 1) {
      c.w.addErrorBytes(ERR.syntax);
      return false;
    }
    const n = parseRangeArgOr(c, ++j, 1, LONG_MAX, "ERR count should be greater than 0");
    if (n === null) return false;
    count = n;
  }
  mpop.where = where;
  mpop.count = count === -1 ? 1 : count;
  mpop.numkeys = numkeys;
  return true;
}

/** LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count] */
function lmpopCommand(c: Client): void {
  if (!parseMpopArgs(c, 1)) return;
  const db = c.db;
  const argv = c.argv;
  for (let j = 2; j < 2 + mpop.numkeys; j++) {
    const id = db.lookupWriteArg(argv, j);
    if (id < 0) continue;
    if (db.typeOf(id) !== ObjType.List) return c.w.addErrorBytes(ERR.wrongType);
    const popped = popRangeWithKeyAndReply(c, c.w, id, argv.buf, argv.start[j]!, argv.len[j]!, mpop.where, mpop.count);
    if (c.server.propagation.active) propagatePop(c, argv.copy(j), mpop.where, popped);
    return;
  }
  c.w.addNullArray();
}

// ---------------------------------------------------------------------------------------
// Blocking pops (Redis's blockingPopGenericCommand and serveClientBlockedOnList)
// ---------------------------------------------------------------------------------------

/** The latin1 string of argument i, for keys a blocked client waits on. */
function keyStrings(c: Client, from: number, to: number): string[] {
  const keys: string[] = [];
  for (let i = from; i < to; i++) keys.push(c.argv.str(i));
  return keys;
}

/** What a blocked BLPOP/BRPOP/BLMPOP/BLMOVE waits to do once a key holds a list. */
class ListWait implements BlockedWait {
  constructor(
    readonly db: Db,
    readonly keys: string[],
    readonly deadlineMs: number,
    private readonly where: ListEnd,
    /** BLMPOP's COUNT, or 0 for BLPOP/BRPOP's one element with its key. */
    private readonly count: number,
    /** BLMOVE's destination (latin1) and end, or null. */
    private readonly destination: string | null,
    private readonly whereto: ListEnd,
  ) {}

  serve(c: Client, w: ReplyWriter, key: string): boolean {
    const db = this.db;
    const id = db.lookupWrite(key);
    if (id < 0 || db.typeOf(id) !== ObjType.List) return false;
    const keyBytes = latin1Bytes(key);
    const propagating = c.server.propagation.active;
    if (this.destination !== null) {
      const dst = latin1Bytes(this.destination);
      // A destination of another type ends the wait with WRONGTYPE, nothing moved (Redis 7.0).
      const moved = moveAndReply(c, w, id, dst, 0, dst.length, this.where, this.whereto);
      if (moved && propagating) propagateMove(c, key, this.destination, this.where, this.whereto, c.lastCommand?.name === "brpoplpush");
    } else if (this.count > 0) {
      const popped = popRangeWithKeyAndReply(c, w, id, keyBytes, 0, keyBytes.length, this.where, this.count);
      if (propagating) propagatePop(c, key, this.where, popped);
    } else {
      w.addArrayLen(2);
      w.addBulkView(keyBytes, 0, keyBytes.length);
      popOneAndReply(c, w, id, this.where);
      if (propagating) propagatePop(c, key, this.where, 0);
    }
    return true;
  }

  timeoutReply(_c: Client, w: ReplyWriter): void {
    w.addNullArray();
  }

  /** Inside EXEC: BLMOVE and BRPOPLPUSH answer a null bulk, unlike their timeout. */
  deniedReply(_c: Client, w: ReplyWriter): void {
    if (this.destination === null) w.addNullArray();
    else w.addNull();
  }
}

function latin1Bytes(s: string): Uint8Array {
  return Buffer.from(s, "latin1");
}

/**
 * BLPOP, BRPOP, BLMPOP: pops from the first of keys[from .. to) holding a list, as the
 * non-blocking command would, or blocks on all of them. `count` 0 is BLPOP's single
 * element replied with its key; BLMPOP passes its COUNT.
 */
function blockingPopGeneric(c: Client, from: number, to: number, where: ListEnd, timeoutAt: number, count: number): void {
  const deadlineMs = parseTimeoutArg(c, timeoutAt, TimeoutUnit.Seconds);
  if (deadlineMs === null) return;
  const db = c.db;
  const argv = c.argv;
  for (let j = from; j < to; j++) {
    const id = db.lookupWriteArg(argv, j);
    if (id < 0) continue;
    if (db.typeOf(id) !== ObjType.List) return c.w.addErrorBytes(ERR.wrongType);
    let popped = 0;
    if (count > 0) {
      popped = popRangeWithKeyAndReply(c, c.w, id, argv.buf, argv.start[j]!, argv.len[j]!, where, count);
    } else {
      c.w.addArrayLen(2);
      c.w.addBulkView(argv.buf, argv.start[j]!, argv.len[j]!);
      popOneAndReply(c, c.w, id, where);
    }
    if (c.server.propagation.active) propagatePop(c, argv.copy(j), where, popped);
    return;
  }
  c.server.blocking.block(c, new ListWait(db, keyStrings(c, from, to), deadlineMs, where, count, null, LIST_HEAD));
}

/** BLPOP key [key ...] timeout */
function blpopCommand(c: Client): void {
  blockingPopGeneric(c, 1, c.argv.count - 1, LIST_HEAD, c.argv.count - 1, 0);
}

/** BRPOP key [key ...] timeout */
function brpopCommand(c: Client): void {
  blockingPopGeneric(c, 1, c.argv.count - 1, LIST_TAIL, c.argv.count - 1, 0);
}

/** BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count] */
function blmpopCommand(c: Client): void {
  if (!parseMpopArgs(c, 2)) return;
  blockingPopGeneric(c, 3, 3 + mpop.numkeys, mpop.where, 1, mpop.count);
}

/** BLMOVE and BRPOPLPUSH once the ends are known: LMOVE now, or block on the source. */
function blockingMoveGeneric(c: Client, wherefrom: ListEnd, whereto: ListEnd, timeoutAt: number): void {
  const deadlineMs = parseTimeoutArg(c, timeoutAt, TimeoutUnit.Seconds);
  if (deadlineMs === null) return;
  const db = c.db;
  const argv = c.argv;
  const id = db.lookupWriteArg(argv, 1);
  if (id >= 0) {
    if (db.typeOf(id) !== ObjType.List) return c.w.addErrorBytes(ERR.wrongType);
    const moved = moveAndReply(c, c.w, id, argv.buf, argv.start[2]!, argv.len[2]!, wherefrom, whereto);
    if (moved && c.server.propagation.active) propagateImmediateMove(c);
    return;
  }
  c.server.blocking.block(c, new ListWait(db, [argv.str(1)], deadlineMs, wherefrom, 0, argv.str(2), whereto));
}

/** A BLMOVE served at once keeps the client's own end arguments, as Redis rewrites only the name and drops the timeout. */
function propagateImmediateMove(c: Client): void {
  const argv = c.argv;
  const args: PropArg[] = argv.count === 4 ? ["RPOPLPUSH", argv.copy(1), argv.copy(2)] : ["LMOVE", argv.copy(1), argv.copy(2), argv.copy(3), argv.copy(4)];
  c.server.propagation.replaceCommand(c.db.id, args);
}

/** BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout */
function blmoveCommand(c: Client): void {
  const wherefrom = parseEndOrReply(c, 3);
  if (wherefrom === -1) return;
  const whereto = parseEndOrReply(c, 4);
  if (whereto === -1) return;
  blockingMoveGeneric(c, wherefrom, whereto, 5);
}

/** BRPOPLPUSH source destination timeout */
function brpoplpushCommand(c: Client): void {
  blockingMoveGeneric(c, LIST_TAIL, LIST_HEAD, 3);
}

// ---------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------

/** LLEN key */
function llenCommand(c: Client): void {
  const id = readListOrReply(c, 1, Missing.Zero);
  if (id >= 0) c.w.addInteger(listAt(c.db, id).count);
}

/** What rangeOrReply found: the list and its elements start .. start+count-1 (count 0: none). */
const range = { id: -1, length: 0, start: 0, count: 0 };

/**
 * LRANGE's and LTRIM's common part: parses start and stop (arguments 2 and 3), looks the
 * list up, and clamps the range to it as Redis does. Returns false after replying.
 */
function rangeOrReply(c: Client, forWrite: boolean, missing: Missing): boolean {
  let start = parseIntArg(c, 2);
  if (start === null) return false;
  let end = parseIntArg(c, 3);
  if (end === null) return false;
  const id = forWrite ? writeListOrReply(c, 1, missing) : readListOrReply(c, 1, missing);
  if (id < 0) return false;
  const length = listAt(c.db, id).count;
  if (start < 0) start = Math.max(length + start, 0);
  if (end < 0) end = length + end;
  range.id = id;
  range.length = length;
  range.start = start;
  range.count = start > end || start >= length ? 0 : Math.min(end, length - 1) - start + 1;
  return true;
}

/** LRANGE key start stop */
function lrangeCommand(c: Client): void {
  if (!rangeOrReply(c, false, Missing.EmptyArray)) return;
  if (range.count === 0) return c.w.addRaw(EMPTY_ARRAY);
  c.w.addArrayLen(range.count);
  listAt(c.db, range.id).addRangeReply(c.w, range.start, range.count, false);
}

/** LINDEX key index */
function lindexCommand(c: Client): void {
  const id = readListOrReply(c, 1, Missing.Null);
  if (id < 0) return;
  let index = parseIntArg(c, 2);
  if (index === null) return;
  const list = listAt(c.db, id);
  if (index < 0) index += list.count;
  if (index < 0 || index >= list.count) return c.w.addNull();
  const it = cursor;
  list.seek(index, true, it);
  addEntryReply(c.w, it.node!, it.p);
}

/** What parseLposOptions found; count -1 means no COUNT option. */
const lpos = { rank: 1, rankIsLongMin: false, count: -1, maxlen: 0 };

/** LPOS's RANK, COUNT and MAXLEN options, or false after replying an error. */
function parseLposOptions(c: Client): boolean {
  const argv = c.argv;
  lpos.rank = 1;
  lpos.rankIsLongMin = false;
  lpos.count = -1;
  lpos.maxlen = 0;
  for (let j = 3; j < argv.count; j++) {
    const hasValue = j < argv.count - 1;
    let n: number | null;
    if (hasValue && argv.is(j, "rank")) {
      const rank = parseInt64Arg(c, ++j);
      if (rank === null) return false;
      if (rank === 0) {
        c.w.addErrorBytes(ERR.lposRankZero);
        return false;
      }
      lpos.rank = Number(rank);
      // Told apart exactly: its neighbours round to the same double (see lposCommand).
      lpos.rankIsLongMin = rank === INT64_MIN;
    } else if (hasValue && argv.is(j, "count")) {
      if ((n = parseRangeArgOr(c, ++j, 0, LONG_MAX, "ERR COUNT can't be negative")) === null) return false;
      lpos.count = n;
    } else if (hasValue && argv.is(j, "maxlen")) {
      if ((n = parseRangeArgOr(c, ++j, 0, LONG_MAX, "ERR MAXLEN can't be negative")) === null) return false;
      lpos.maxlen = n;
    } else {
      c.w.addErrorBytes(ERR.syntax);
      return false;
    }
  }
  return true;
}

/** LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len] */
function lposCommand(c: Client): void {
  if (!parseLposOptions(c)) return;
  const withCount = lpos.count !== -1;
  const id = readListOrReply(c, 1, withCount ? Missing.EmptyArray : Missing.Null);
  if (id < 0) return;
  const list = listAt(c.db, id);
  const fromTail = lpos.rank < 0;
  // Redis negates the rank in a C long: LONG_MIN stays negative, so every match counts
  // from the first, and COUNT's stopping test overflows and never stops the search.
  const unbounded = lpos.rankIsLongMin;
  const rank = unbounded ? 1 : Math.abs(lpos.rank);
  const limit = unbounded || lpos.count === 0 ? Infinity : lpos.count;
  const maxlen = lpos.maxlen === 0 ? Infinity : lpos.maxlen;
  const w = c.w;
  const at = withCount ? w.deferLen() : 0;
  const argv = c.argv;
  const it = cursor;
  let matches = 0;
  let reported = 0;
  let scanned = 0;
  for (list.seek(fromTail ? list.count - 1 : 0, !fromTail, it); it.valid && scanned < maxlen; list.advance(it), scanned++) {
    if (!list.equalsAt(it, argv.buf, argv.start[2]!, argv.len[2]!) || ++matches < rank) continue;
    const index = fromTail ? list.count - 1 - scanned : scanned;
    if (!withCount) return w.addInteger(index);
    w.addInteger(index);
    if (++reported >= limit) break;
  }
  if (withCount) w.setDeferredLen(at, "array", reported);
  else w.addNull();
}

// ---------------------------------------------------------------------------------------
// Changing elements in place
// ---------------------------------------------------------------------------------------

/** LSET key index element */
function lsetCommand(c: Client): void {
  const argv = c.argv;
  const id = writeListOrReply(c, 1, Missing.NoSuchKey);
  if (id < 0) return;
  let index = parseIntArg(c, 2);
  if (index === null) return;
  const list = listAt(c.db, id);
  if (index < 0) index += list.count;
  if (index < 0 || index >= list.count) return c.w.addErrorBytes(ERR.outOfRange);
  list.replaceAt(index, argv.buf, argv.start[3]!, argv.len[3]!);
  c.w.addRaw(OK);
  c.db.modified(id);
  notifyArg(c, NOTIFY.LIST, "lset", 1);
  c.server.dirty++;
}

/** LREM key count element */
function lremCommand(c: Client): void {
  const argv = c.argv;
  let toRemove = parseIntArg(c, 2);
  if (toRemove === null) return;
  const id = writeListOrReply(c, 1, Missing.Zero);
  if (id < 0) return;
  const list = listAt(c.db, id);
  const fromTail = toRemove < 0;
  // 0 removes every match, as does any count beyond the list's length.
  toRemove = toRemove === 0 ? Infinity : Math.abs(toRemove);
  const it = cursor;
  let removed = 0;
  list.seek(fromTail ? list.count - 1 : 0, !fromTail, it);
  while (it.valid) {
    if (!list.equalsAt(it, argv.buf, argv.start[3]!, argv.len[3]!)) {
      list.advance(it);
      continue;
    }
    // The last removal ends the iteration, which settles the node under it as Redis does.
    list.deleteAt(it, ++removed === toRemove);
    if (removed === toRemove) break;
  }
  if (removed > 0) elementsRemoved(c, id, list, removed, "lrem");
  c.w.addInteger(removed);
}

/** LTRIM key start stop */
function ltrimCommand(c: Client): void {
  if (!rangeOrReply(c, true, Missing.Ok)) return;
  const { id, length, start, count } = range;
  const list = listAt(c.db, id);
  const fromHead = count === 0 ? length : start;
  const fromTail = count === 0 ? 0 : length - start - count;
  list.deleteRange(0, fromHead);
  list.deleteRange(list.count - fromTail, fromTail);
  elementsRemoved(c, id, list, fromHead + fromTail, "ltrim");
  c.w.addRaw(OK);
}

// ---------------------------------------------------------------------------------------
// DEBUG DIGEST: each element in order, integers in decimal (debug.c xorObjectDigest)
// ---------------------------------------------------------------------------------------

registerDigester(ObjType.List, (digest, db, id) => {
  const list = listAt(db, id);
  const it = cursor;
  for (list.seek(0, true, it); it.valid; list.advance(it)) {
    copyEntry(it.node!, it.p);
    mixDigest(digest, popped.bytes.subarray(0, popped.len));
  }
});

// ---------------------------------------------------------------------------------------
// The command table
// ---------------------------------------------------------------------------------------

const KEY = { name: "key", type: "key", key_spec_index: 0 };
const ELEMENTS = { name: "element", type: "string", flags: ["multiple"] };
const LEFT_RIGHT = [
  { name: "left", type: "pure-token", token: "LEFT" },
  { name: "right", type: "pure-token", token: "RIGHT" },
];
const RW_INSERT = [keyRange("RW insert", 1)];
const RW_ACCESS_DELETE = [keyRange("RW access delete", 1)];
const RW_DELETE = [keyRange("RW delete", 1)];
const RO_ACCESS = [keyRange("RO access", 1)];
const MOVE_KEYS: KeySpec[] = [keyRange("RW access delete", 1), keyRange("RW insert", 2)];
const MOVE_ARGS = [
  { name: "source", type: "key", key_spec_index: 0 },
  { name: "destination", type: "key", key_spec_index: 1 },
];
const TIMEOUT = { name: "timeout", type: "double" };
const TIMEOUT_HISTORY: [string, string] = ["6.0.0", "`timeout` is interpreted as a double instead of an integer."];

function blockingPopDef(name: string, summary: string, handler: (c: Client) => void): CommandDef {
  return {
    name, arity: -3, flags: "write noscript blocking", acl: "list", group: "list", since: "2.0.0", summary,
    complexity: "O(N) where N is the number of provided keys.", history: [TIMEOUT_HISTORY],
    keySpecs: [keyRange("RW access delete", 1, -2)], arguments: [{ ...KEY, flags: ["multiple"] }, TIMEOUT], handler,
  };
}

const PUSH_COMPLEXITY =
  "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.";

function pushDef(name: string, since: string, summary: string, history: [string, string], handler: (c: Client) => void): CommandDef {
  return {
    name, arity: -3, flags: "write denyoom fast", acl: "list", group: "list", since, summary,
    complexity: PUSH_COMPLEXITY, history: [history], keySpecs: RW_INSERT, arguments: [KEY, ELEMENTS], handler,
  };
}

function popDef(name: string, summary: string, handler: (c: Client) => void): CommandDef {
  return {
    name, arity: -2, flags: "write fast", acl: "list", group: "list", since: "1.0.0", summary,
    complexity: "O(N) where N is the number of elements returned",
    history: [["6.2.0", "Added the `count` argument."]], keySpecs: RW_ACCESS_DELETE,
    arguments: [KEY, { name: "count", type: "integer", since: "6.2.0", flags: ["optional"] }], handler,
  };
}

export const listCommands: CommandDef[] = [
  pushDef("lpush", "1.0.0", "Prepend one or multiple elements to a list", ["2.4.0", "Accepts multiple `element` arguments."], lpushCommand),
  pushDef("rpush", "1.0.0", "Append one or multiple elements to a list", ["2.4.0", "Accepts multiple `element` arguments."], rpushCommand),
  pushDef("lpushx", "2.2.0", "Prepend an element to a list, only if the list exists", ["4.0.0", "Accepts multiple `element` arguments."], lpushxCommand),
  pushDef("rpushx", "2.2.0", "Append an element to a list, only if the list exists", ["4.0.0", "Accepts multiple `element` arguments."], rpushxCommand),
  popDef("lpop", "Remove and get the first elements in a list", lpopCommand),
  popDef("rpop", "Remove and get the last elements in a list", rpopCommand),
  {
    name: "llen", arity: 2, flags: "readonly fast", acl: "list", group: "list", since: "1.0.0",
    summary: "Get the length of a list", complexity: "O(1)", keySpecs: [keyRange("RO", 1)], arguments: [KEY],
    handler: llenCommand,
  },
  {
    name: "lrange", arity: 4, flags: "readonly", acl: "list", group: "list", since: "1.0.0",
    summary: "Get a range of elements from a list",
    complexity:
      "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.",
    keySpecs: RO_ACCESS,
    arguments: [KEY, { name: "start", type: "integer" }, { name: "stop", type: "integer" }],
    handler: lrangeCommand,
  },
  {
    name: "lindex", arity: 3, flags: "readonly", acl: "list", group: "list", since: "1.0.0",
    summary: "Get an element from a list by its index",
    complexity:
      "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).",
    keySpecs: RO_ACCESS, arguments: [KEY, { name: "index", type: "integer" }],
    handler: lindexCommand,
  },
  {
    name: "lset", arity: 4, flags: "write denyoom", acl: "list", group: "list", since: "1.0.0",
    summary: "Set the value of an element in a list by its index",
    complexity: "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).",
    keySpecs: [keyRange("RW update", 1)],
    arguments: [KEY, { name: "index", type: "integer" }, { name: "element", type: "string" }],
    handler: lsetCommand,
  },
  {
    name: "linsert", arity: 5, flags: "write denyoom", acl: "list", group: "list", since: "2.2.0",
    summary: "Insert an element before or after another element in a list",
    complexity:
      "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).",
    keySpecs: RW_INSERT,
    arguments: [
      KEY,
      {
        name: "where", type: "oneof",
        arguments: [
          { name: "before", type: "pure-token", token: "BEFORE" },
          { name: "after", type: "pure-token", token: "AFTER" },
        ],
      },
      { name: "pivot", type: "string" },
      { name: "element", type: "string" },
    ],
    handler: linsertCommand,
  },
  {
    name: "lrem", arity: 4, flags: "write", acl: "list", group: "list", since: "1.0.0",
    summary: "Remove elements from a list",
    complexity: "O(N+M) where N is the length of the list and M is the number of elements removed.",
    keySpecs: RW_DELETE, arguments: [KEY, { name: "count", type: "integer" }, { name: "element", type: "string" }],
    handler: lremCommand,
  },
  {
    name: "ltrim", arity: 4, flags: "write", acl: "list", group: "list", since: "1.0.0",
    summary: "Trim a list to the specified range",
    complexity: "O(N) where N is the number of elements to be removed by the operation.",
    keySpecs: RW_DELETE, arguments: [KEY, { name: "start", type: "integer" }, { name: "stop", type: "integer" }],
    handler: ltrimCommand,
  },
  {
    name: "lpos", arity: -3, flags: "readonly", acl: "list", group: "list", since: "6.0.6",
    summary: "Return the index of matching elements on a list",
    complexity:
      "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.",
    keySpecs: RO_ACCESS,
    arguments: [
      KEY,
      { name: "element", type: "string" },
      { name: "rank", type: "integer", token: "RANK", flags: ["optional"] },
      { name: "num-matches", type: "integer", token: "COUNT", flags: ["optional"] },
      { name: "len", type: "integer", token: "MAXLEN", flags: ["optional"] },
    ],
    handler: lposCommand,
  },
  {
    name: "lmove", arity: 5, flags: "write denyoom", acl: "list", group: "list", since: "6.2.0",
    summary: "Pop an element from a list, push it to another list and return it", complexity: "O(1)",
    keySpecs: MOVE_KEYS,
    arguments: [
      ...MOVE_ARGS,
      { name: "wherefrom", type: "oneof", arguments: LEFT_RIGHT },
      { name: "whereto", type: "oneof", arguments: LEFT_RIGHT },
    ],
    handler: lmoveCommand,
  },
  {
    name: "rpoplpush", arity: 3, flags: "write denyoom", acl: "list", group: "list", since: "1.2.0",
    summary: "Remove the last element in a list, prepend it to another list and return it", complexity: "O(1)",
    docFlags: ["deprecated"], deprecatedSince: "6.2.0", replacedBy: "`LMOVE` with the `RIGHT` and `LEFT` arguments",
    keySpecs: MOVE_KEYS, arguments: MOVE_ARGS,
    handler: rpoplpushCommand,
  },
  {
    name: "lmpop", arity: -4, flags: "write", acl: "list", group: "list", since: "7.0.0",
    summary: "Pop elements from a list",
    complexity: "O(N+M) where N is the number of provided keys and M is the number of elements returned.",
    keySpecs: [{ flags: "RW access delete", begin: { index: 1 }, find: { keynumidx: 0, firstkey: 1, keystep: 1 } }],
    arguments: [
      { name: "numkeys", type: "integer" },
      { ...KEY, flags: ["multiple"] },
      { name: "where", type: "oneof", arguments: LEFT_RIGHT },
      { name: "count", type: "integer", token: "COUNT", flags: ["optional"] },
    ],
    handler: lmpopCommand,
  },
  blockingPopDef("blpop", "Remove and get the first element in a list, or block until one is available", blpopCommand),
  blockingPopDef("brpop", "Remove and get the last element in a list, or block until one is available", brpopCommand),
  {
    name: "blmove", arity: 6, flags: "write denyoom noscript blocking", acl: "list", group: "list", since: "6.2.0",
    summary: "Pop an element from a list, push it to another list and return it; or block until one is available", complexity: "O(1)",
    keySpecs: MOVE_KEYS,
    arguments: [
      ...MOVE_ARGS,
      { name: "wherefrom", type: "oneof", arguments: LEFT_RIGHT },
      { name: "whereto", type: "oneof", arguments: LEFT_RIGHT },
      TIMEOUT,
    ],
    handler: blmoveCommand,
  },
  {
    name: "brpoplpush", arity: 4, flags: "write denyoom noscript blocking", acl: "list", group: "list", since: "2.2.0",
    summary: "Pop an element from a list, push it to another list and return it; or block until one is available", complexity: "O(1)",
    docFlags: ["deprecated"], deprecatedSince: "6.2.0", replacedBy: "`BLMOVE` with the `RIGHT` and `LEFT` arguments",
    history: [TIMEOUT_HISTORY], keySpecs: MOVE_KEYS, arguments: [...MOVE_ARGS, TIMEOUT],
    handler: brpoplpushCommand,
  },
  {
    name: "blmpop", arity: -5, flags: "write blocking", acl: "list", group: "list", since: "7.0.0",
    summary: "Pop elements from a list, or block until one is available",
    complexity: "O(N+M) where N is the number of provided keys and M is the number of elements returned.",
    keySpecs: [{ flags: "RW access delete", begin: { index: 2 }, find: { keynumidx: 0, firstkey: 1, keystep: 1 } }],
    arguments: [
      TIMEOUT,
      { name: "numkeys", type: "integer" },
      { ...KEY, flags: ["multiple"] },
      { name: "where", type: "oneof", arguments: LEFT_RIGHT },
      { name: "count", type: "integer", token: "COUNT", flags: ["optional"] },
    ],
    handler: blmpopCommand,
  },
];
