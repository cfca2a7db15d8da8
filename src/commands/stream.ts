// Stream commands (Redis's t_stream.c), the core ones: XADD XLEN XRANGE XREVRANGE XDEL
// XTRIM XSETID XREAD (blocking too) XINFO. The type itself, its listpack nodes and its
// consumer groups, is store/stream.ts; the consumer group commands are stream-groups.ts.

import type { Client } from "../server/client.ts";
import type { Db } from "../store/db.ts";
import type { Argv } from "../resp/parser.ts";
import { Enc, ObjType, packMeta } from "../store/object.ts";
import { EMPTY_ARRAY, OK, type ReplyWriter, encode } from "../resp/writer.ts";
import { ERR, subcommandSyntaxError, wrongArity } from "../resp/errors.ts";
import { type CommandDef, keyRange } from "./table.ts";
import { TimeoutUnit, parseTimeoutArg } from "./args.ts";
import type { BlockedWait } from "../server/blocking.ts";
import type { PropArg } from "../server/propagate.ts";
import { NOTIFY, notifyArg } from "../server/notify.ts";
import { parseLongLong, parsedInt64 } from "../util/numbers.ts";
import { lpAddReplyEntry, lpGetLatin1 } from "../encoding/listpack.ts";
import { mixDigest, registerDigester } from "../store/digest.ts";
import {
  ENTRIES_READ_INVALID,
  Stream,
  StreamId,
  StreamIterator,
  TRIM_MAXLEN,
  TRIM_MINID,
  TRIM_NONE,
  type TrimSpec,
  U64_MAX,
  compareIds,
  decrId,
  encodeId,
  incrId,
  pelKeyId,
  sortedKeys,
} from "../store/stream.ts";

const INVALID_ID = "ERR Invalid stream ID specified as stream command argument";
/** The longest ID argument Redis copies into its 128-byte buffer. */
const ID_ARG_MAX = 127;
/**
 * XREAD_BLOCKED_DEFAULT_COUNT: what a blocked read without COUNT returns at most, so that
 * a low ID does not have the server send a huge stream at once.
 */
export const BLOCKED_DEFAULT_COUNT = 1000;
/** The client id AOF loading runs with (aof-load.ts's AOF_CLIENT_ID), obeyed like a master. */
const AOF_CLIENT_ID = Number.MAX_SAFE_INTEGER;

// ---------------------------------------------------------------------------------------
// IDs
// ---------------------------------------------------------------------------------------

const CH_0 = 48;
const CH_9 = 57;
const CH_MINUS = 45;
const CH_PLUS = 43;
const CH_STAR = 42;
const CH_OPEN = 40;

/**
 * Redis's string2ull over buf[start .. end): a canonical integer (negative ones refused),
 * else what strtoull accepts whole (leading spaces, a sign, leading zeros; a minus wraps
 * modulo 2^64); null when neither takes it or it overflows.
 */
function parseU64(buf: Uint8Array, start: number, end: number): bigint | null {
  if (parseLongLong(buf, start, end - start)) {
    const v = parsedInt64.safe ? BigInt(parsedInt64.value) : parsedInt64.big;
    return v < 0n ? null : v;
  }
  let p = start;
  while (p < end && (buf[p] === 32 || (buf[p]! >= 9 && buf[p]! <= 13))) p++;
  let negative = false;
  if (p < end && (buf[p] === CH_PLUS || buf[p] === CH_MINUS)) negative = buf[p++] === CH_MINUS;
  if (p === end) return null;
  let v = 0n;
  for (; p < end; p++) {
    const ch = buf[p]!;
    if (ch < CH_0 || ch > CH_9) return null;
    v = v * 10n + BigInt(ch - CH_0);
    if (v > U64_MAX) return null;
  }
  return negative ? BigInt.asUintN(64, -v) : v;
}

/** Whether the `ms-*` form was used: set by parseIdArg when `allowSeqStar`. */
let seqGiven = true;

/**
 * streamGenericParseIDOrReply on buf[start .. start+len): `-` and `+` (unless strict),
 * `ms`, `ms-seq`, and with `allowSeqStar` `ms-*`; the argument is read as a C string, up
 * to a NUL byte. Replies and returns null when invalid.
 */
export function parseIdBytes(
  w: ReplyWriter,
  buf: Uint8Array,
  start: number,
  len: number,
  missingSeq: bigint,
  strict: boolean,
  allowSeqStar: boolean,
): StreamId | null {
  seqGiven = true;
  if (len > ID_ARG_MAX) return invalidId(w);
  let end = start;
  while (end < start + len && buf[end] !== 0) end++;
  const single = end - start === 1;
  if (single && (buf[start] === CH_MINUS || buf[start] === CH_PLUS)) {
    if (strict) return invalidId(w);
    return buf[start] === CH_MINUS ? new StreamId(0n, 0n) : new StreamId(U64_MAX, U64_MAX);
  }
  let dash = start;
  while (dash < end && buf[dash] !== CH_MINUS) dash++;
  const ms = parseU64(buf, start, dash);
  if (ms === null) return invalidId(w);
  if (dash === end) return new StreamId(ms, missingSeq);
  if (allowSeqStar && end - dash === 2 && buf[dash + 1] === CH_STAR) {
    seqGiven = false;
    return new StreamId(ms, 0n);
  }
  const seq = parseU64(buf, dash + 1, end);
  if (seq === null) return invalidId(w);
  return new StreamId(ms, seq);
}

function invalidId(w: ReplyWriter): null {
  w.addError(INVALID_ID);
  return null;
}

/** streamParseStrictIDOrReply for argument i. */
export function parseStrictId(c: Client, i: number, missingSeq = 0n): StreamId | null {
  const argv = c.argv;
  return parseIdBytes(c.w, argv.buf, argv.start[i]!, argv.len[i]!, missingSeq, true, false);
}

/** Whether the last parseIntervalId read an exclusive bound. */
export let exclusive = false;

/** streamParseIntervalIDOrReply: an ID, `-`, `+`, or `(id` for an exclusive bound (in `exclusive`). */
export function parseIntervalId(c: Client, i: number, missingSeq: bigint): StreamId | null {
  const argv = c.argv;
  const start = argv.start[i]!;
  const len = argv.len[i]!;
  exclusive = len > 1 && argv.buf[start] === CH_OPEN;
  if (exclusive) return parseIdBytes(c.w, argv.buf, start + 1, len - 1, missingSeq, true, false);
  return parseIdBytes(c.w, argv.buf, start, len, missingSeq, false, false);
}

/** An unsigned 64-bit counter as an integer reply. */
function addU64(w: ReplyWriter, v: bigint): void {
  if (v <= 9007199254740991n) w.addInteger(Number(v));
  else w.addBigInt(v);
}

/** A signed 64-bit number as an integer reply. */
function addI64(w: ReplyWriter, v: bigint): void {
  if (v <= 9007199254740991n && v >= -9007199254740991n) w.addInteger(Number(v));
  else w.addBigInt(v);
}

export function addId(w: ReplyWriter, id: StreamId): void {
  w.addBulkLatin1(id.toString());
}

// ---------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------

export function streamAt(db: Db, id: number): Stream {
  return db.table.getObject(id) as Stream;
}

/** A new empty stream as argument i's key (streamTypeLookupWriteOrCreate's create). */
export function createStream(c: Client, i: number): number {
  const db = c.db;
  const id = db.insertArg(c.argv, i);
  db.table.setObject(id, new Stream());
  db.table.setMeta(id, packMeta(ObjType.Stream, Enc.Stream, db.clock.lru));
  return id;
}

/** The one iterator commands walk streams with; none of them runs inside another. */
const cursor = new StreamIterator();

/** The current entry of `it` as [id, [field, value, ...]]. */
export function addEntry(w: ReplyWriter, it: StreamIterator): void {
  w.addArrayLen(2);
  addId(w, it.id);
  w.addArrayLen(2 * it.fieldCount);
  const lp = it.lp;
  for (let more = it.firstPair(); more; more = it.nextPair()) {
    lpAddReplyEntry(w, lp, it.fieldP);
    lpAddReplyEntry(w, lp, it.valueP);
  }
}

/** streamReplyWithRange: the entries from start to end (inclusive), at most `count` (0: all), as an array. */
function replyRange(w: ReplyWriter, stream: Stream, start: StreamId, end: StreamId | null, count: number, reverse: boolean): void {
  const it = cursor;
  it.start(stream, start, end, reverse);
  const at = w.deferLen();
  let emitted = 0;
  while ((count === 0 || emitted < count) && it.next()) {
    addEntry(w, it);
    emitted++;
  }
  w.setDeferredLen(at, "array", emitted);
}

/** streamLastValidID: the last live entry's ID (the stream must not be empty). */
export function lastValidId(stream: Stream): StreamId {
  const out = new StreamId(0n, 0n);
  stream.edgeId(false, out);
  return out;
}

/** Bytes of a latin1 string, for the digest. */
export function latin1Bytes(s: string): Uint8Array {
  return Buffer.from(s, "latin1");
}

/**
 * DEBUG DIGEST of a stream (Redis's xorObjectDigest): each live entry's ID as "ms.seq",
 * then its fields and values, in order; metadata and groups are left out, as in Redis.
 */
registerDigester(ObjType.Stream, (digest, db, id) => {
  const it = cursor;
  it.start(streamAt(db, id), null, null, false);
  while (it.next()) {
    mixDigest(digest, latin1Bytes(`${it.id.ms}.${it.id.seq}`));
    const lp = it.lp;
    for (let more = it.firstPair(); more; more = it.nextPair()) {
      mixDigest(digest, latin1Bytes(lpGetLatin1(lp, it.fieldP)));
      mixDigest(digest, latin1Bytes(lpGetLatin1(lp, it.valueP)));
    }
  }
});

// ---------------------------------------------------------------------------------------
// XADD and XTRIM arguments (streamParseAddOrTrimArgsOrReply)
// ---------------------------------------------------------------------------------------

const addArgs = {
  trim: { strategy: TRIM_NONE, maxlen: 0, minid: new StreamId(0n, 0n), approx: false, limit: 0 } as TrimSpec,
  /** Index of the MAXLEN/MINID threshold argument. */
  thresholdAt: 0,
  noMkStream: false,
  /** XADD's ID: null for `*`; seqGiven false for `ms-*`. */
  id: null as StreamId | null,
  seqGiven: true,
  /** Index of XADD's ID argument. */
  idAt: 0,
};

/** Whether argument i is exactly the one character `ch`. */
function isChar(argv: Argv, i: number, ch: number): boolean {
  return argv.len[i] === 1 && argv.buf[argv.start[i]!] === ch;
}

const CH_TILDE = 126;
const CH_EQUAL = 61;

/** Reads argument i as a long long, replying Redis's error when it is none. */
export function parseLongLongArg(c: Client, i: number): number | null {
  const argv = c.argv;
  if (!parseLongLong(argv.buf, argv.start[i]!, argv.len[i]!)) {
    c.w.addErrorBytes(ERR.notInteger);
    return null;
  }
  return parsedInt64.safe ? parsedInt64.value : Number(parsedInt64.big);
}

/** Parses MAXLEN/MINID [=|~] threshold starting at the option at i; returns the last index used, or -1 after replying. */
function parseTrimOption(c: Client, i: number, isMaxlen: boolean): number {
  const argv = c.argv;
  const trim = addArgs.trim;
  if (trim.strategy !== TRIM_NONE) {
    c.w.addError("ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
    return -1;
  }
  const moreArgs = argv.count - 1 - i;
  trim.approx = false;
  if (moreArgs >= 2 && isChar(argv, i + 1, CH_TILDE)) {
    trim.approx = true;
    i++;
  } else if (moreArgs >= 2 && isChar(argv, i + 1, CH_EQUAL)) i++;
  if (isMaxlen) {
    const maxlen = parseLongLongArg(c, i + 1);
    if (maxlen === null) return -1;
    if (maxlen < 0) {
      c.w.addError("ERR The MAXLEN argument must be >= 0.");
      return -1;
    }
    trim.maxlen = maxlen;
    trim.strategy = TRIM_MAXLEN;
  } else {
    const minid = parseStrictId(c, i + 1);
    if (minid === null) return -1;
    trim.minid = minid;
    trim.strategy = TRIM_MINID;
  }
  addArgs.thresholdAt = i + 1;
  return i + 1;
}

/**
 * The work an approximate trim without LIMIT may do: 100 nodes' worth of entries, 10000
 * when nodes have no entry limit, at most a million.
 */
function approxTrimLimit(nodeMaxEntries: number): number {
  const limit = 100 * nodeMaxEntries;
  if (limit <= 0) return 10000;
  return limit > 1000000 ? 1000000 : limit;
}

/** Whether the client's writes must be applied as sent (a master's stream, the AOF). */
function mustObey(c: Client): boolean {
  return c.isMaster || c.id === AOF_CLIENT_ID;
}

/**
 * streamParseAddOrTrimArgsOrReply: fills addArgs; returns the index XADD's ID is at (or
 * past the options for XTRIM), or -1 after replying.
 */
function parseAddOrTrimArgs(c: Client, xadd: boolean): number {
  const argv = c.argv;
  const trim = addArgs.trim;
  trim.strategy = TRIM_NONE;
  trim.approx = false;
  trim.limit = 0;
  addArgs.noMkStream = false;
  addArgs.id = null;
  addArgs.seqGiven = true;
  let limitGiven = false;
  let i = 2;
  for (; i < argv.count; i++) {
    const moreArgs = argv.count - 1 - i;
    if (xadd && isChar(argv, i, CH_STAR)) break;
    if (argv.is(i, "maxlen") && moreArgs > 0) {
      i = parseTrimOption(c, i, true);
      if (i < 0) return -1;
    } else if (argv.is(i, "minid") && moreArgs > 0) {
      i = parseTrimOption(c, i, false);
      if (i < 0) return -1;
    } else if (argv.is(i, "limit") && moreArgs > 0) {
      const limit = parseLongLongArg(c, i + 1);
      if (limit === null) return -1;
      if (limit < 0) {
        c.w.addError("ERR The LIMIT argument must be >= 0.");
        return -1;
      }
      trim.limit = limit;
      limitGiven = true;
      i++;
    } else if (xadd && argv.is(i, "nomkstream")) {
      addArgs.noMkStream = true;
    } else if (xadd) {
      const id = parseIdBytes(c.w, argv.buf, argv.start[i]!, argv.len[i]!, 0n, true, true);
      if (id === null) return -1;
      addArgs.id = id;
      addArgs.seqGiven = seqGiven;
      break;
    } else {
      c.w.addErrorBytes(ERR.syntax);
      return -1;
    }
  }
  if (trim.limit !== 0 && trim.strategy === TRIM_NONE) {
    c.w.addError("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
    return -1;
  }
  if (!xadd && trim.strategy === TRIM_NONE) {
    c.w.addError("ERR syntax error, XTRIM must be called with a trimming strategy");
    return -1;
  }
  if (mustObey(c)) {
    // The threshold was rewritten to an exact one when this was first run.
    trim.limit = 0;
  } else if (limitGiven) {
    if (!trim.approx) {
      c.w.addError("ERR syntax error, LIMIT cannot be used without the special ~ option");
      return -1;
    }
  } else {
    trim.limit = trim.approx ? approxTrimLimit(c.server.config.streamNodeMaxEntries) : 0;
  }
  addArgs.idAt = i;
  return i;
}

// ---------------------------------------------------------------------------------------
// XADD
// ---------------------------------------------------------------------------------------

/**
 * The ID the new entry gets (streamAppendItem's choice): the given one when it is above
 * the top item, `ms-*` completed, or `*` from the clock; null (having replied) when it
 * cannot be.
 */
function chooseId(c: Client, stream: Stream): StreamId | null {
  const last = stream.lastId;
  const given = addArgs.id;
  if (given === null) {
    const now = BigInt(Date.now());
    const id = now > last.ms ? new StreamId(now, 0n) : last.clone();
    if (now <= last.ms) incrId(id);
    return id;
  }
  if (!addArgs.seqGiven) {
    if (given.ms === last.ms) {
      if (last.seq === U64_MAX) return idTooSmall(c);
      given.seq = last.seq + 1n;
    } else if (given.ms < last.ms) return idTooSmall(c);
    return given;
  }
  if (compareIds(given, last) <= 0) return idTooSmall(c);
  return given;
}

function idTooSmall(c: Client): null {
  c.w.addError("ERR The ID specified in XADD is equal or smaller than the target stream top item");
  return null;
}

/** XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...] */
function xaddCommand(c: Client): void {
  const idAt = parseAddOrTrimArgs(c, true);
  if (idAt < 0) return;
  const argv = c.argv;
  const fieldsAt = idAt + 1;
  if (argv.count - fieldsAt < 2 || (argv.count - fieldsAt) % 2 === 1) return c.w.addError(wrongArity("xadd"));
  const given = addArgs.id;
  if (given !== null && addArgs.seqGiven && given.isZero()) return c.w.addError("ERR The ID specified in XADD must be greater than 0-0");
  const db = c.db;
  let key = db.lookupWriteArg(argv, 1);
  if (key < 0) {
    if (addArgs.noMkStream) return c.w.addNull();
    key = createStream(c, 1);
  } else if (db.typeOf(key) !== ObjType.Stream) return c.w.addErrorBytes(ERR.wrongType);
  const stream = streamAt(db, key);
  if (stream.lastId.ms === U64_MAX && stream.lastId.seq === U64_MAX) {
    return c.w.addError("ERR The stream has exhausted the last possible ID, unable to add more items");
  }
  const id = chooseId(c, stream);
  if (id === null) return;
  const config = c.server.config;
  stream.append(id, argv, fieldsAt, (argv.count - fieldsAt) / 2, config.streamNodeMaxBytes, config.streamNodeMaxEntries);
  addId(c.w, id);
  db.modified(key);
  notifyArg(c, NOTIFY.STREAM, "xadd", 1);
  c.server.dirty++;
  const trim = addArgs.trim;
  if (trim.strategy !== TRIM_NONE && stream.trim(trim) > 0) notifyArg(c, NOTIFY.STREAM, "xtrim", 1);
  if (c.server.propagation.active && (given === null || !addArgs.seqGiven || trim.approx)) propagateRewritten(c, stream, id);
}

/**
 * XADD and XTRIM as replicas and the AOF must replay them: an approximate trim becomes an
 * exact one to where this one stopped (streamRewriteApproxSpecifier and
 * streamRewriteTrimArgument), and XADD's generated ID is written out.
 */
function propagateRewritten(c: Client, stream: Stream, id: StreamId | null): void {
  const argv = c.argv;
  const args: PropArg[] = [];
  const trim = addArgs.trim;
  for (let i = 0; i < argv.count; i++) {
    if (trim.approx && i === addArgs.thresholdAt - 1) args.push("=");
    else if (trim.approx && i === addArgs.thresholdAt) args.push(trim.strategy === TRIM_MAXLEN ? String(stream.length) : stream.firstId.toString());
    else if (id !== null && i === addArgs.idAt) args.push(id.toString());
    else args.push(argv.copy(i));
  }
  c.server.propagation.replaceCommand(c.db.id, args);
}

// ---------------------------------------------------------------------------------------
// XLEN XRANGE XREVRANGE XDEL XTRIM XSETID
// ---------------------------------------------------------------------------------------

/** The key streamOrReply found (for signalling a write). */
let foundKey = -1;

/**
 * The stream at argument `at`, looked up for reading or writing (lookupKeyReadOrReply /
 * lookupKeyWriteOrReply plus checkType): null after replying `missing` when there is no
 * key, WRONGTYPE when it holds something else. Its key is left in foundKey.
 */
function streamOrReply(c: Client, at: number, write: boolean, missing: Uint8Array): Stream | null {
  const db = c.db;
  const key = write ? db.lookupWriteArg(c.argv, at) : db.lookupReadArg(c.argv, at);
  foundKey = key;
  if (key < 0) {
    c.w.addRaw(missing);
    return null;
  }
  if (db.typeOf(key) !== ObjType.Stream) {
    c.w.addErrorBytes(ERR.wrongType);
    return null;
  }
  return streamAt(db, key);
}

const ZERO = encode(":0\r\n");

/** XLEN key */
function xlenCommand(c: Client): void {
  const stream = streamOrReply(c, 1, false, ZERO);
  if (stream !== null) c.w.addInteger(stream.length);
}

/** XRANGE and XREVRANGE: argument 2 and 3 are the bounds, in the command's order. */
function xrangeGeneric(c: Client, reverse: boolean): void {
  const startAt = reverse ? 3 : 2;
  const endAt = reverse ? 2 : 3;
  const start = parseIntervalId(c, startAt, 0n);
  if (start === null) return;
  if (exclusive && !incrId(start)) return c.w.addError("ERR invalid start ID for the interval");
  const end = parseIntervalId(c, endAt, U64_MAX);
  if (end === null) return;
  if (exclusive && !decrId(end)) return c.w.addError("ERR invalid end ID for the interval");
  const argv = c.argv;
  let count = -1;
  for (let j = 4; j < argv.count; j++) {
    if (argv.is(j, "count") && argv.count - j - 1 >= 1) {
      const n = parseLongLongArg(c, j + 1);
      if (n === null) return;
      count = n < 0 ? 0 : n;
      j++;
    } else return c.w.addErrorBytes(ERR.syntax);
  }
  const stream = streamOrReply(c, 1, false, EMPTY_ARRAY);
  if (stream === null) return;
  if (count === 0) return c.w.addNullArray();
  replyRange(c.w, stream, start, end, count < 0 ? 0 : count, reverse);
}

/** XRANGE key start end [COUNT count] */
function xrangeCommand(c: Client): void {
  xrangeGeneric(c, false);
}

/** XREVRANGE key end start [COUNT count] */
function xrevrangeCommand(c: Client): void {
  xrangeGeneric(c, true);
}

/** XDEL key id [id ...] */
function xdelCommand(c: Client): void {
  const stream = streamOrReply(c, 1, true, ZERO);
  if (stream === null) return;
  const argv = c.argv;
  const ids: StreamId[] = [];
  for (let j = 2; j < argv.count; j++) {
    const id = parseStrictId(c, j);
    if (id === null) return;
    ids.push(id);
  }
  let deleted = 0;
  let firstDeleted = false;
  for (const id of ids) {
    if (!stream.deleteId(id)) continue;
    if (compareIds(id, stream.firstId) === 0) firstDeleted = true;
    if (compareIds(id, stream.maxDeletedId) > 0) stream.maxDeletedId.copyFrom(id);
    deleted++;
  }
  if (deleted > 0) {
    if (stream.length === 0 || firstDeleted) stream.refreshFirstId();
    c.db.modified(foundKey);
    notifyArg(c, NOTIFY.STREAM, "xdel", 1);
    c.server.dirty += deleted;
  }
  c.w.addInteger(deleted);
}

/** XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count] */
function xtrimCommand(c: Client): void {
  const stream = streamOrReply(c, 1, true, ZERO);
  if (stream === null) return;
  if (parseAddOrTrimArgs(c, false) < 0) return;
  const deleted = stream.trim(addArgs.trim);
  if (deleted > 0) {
    notifyArg(c, NOTIFY.STREAM, "xtrim", 1);
    if (addArgs.trim.approx && c.server.propagation.active) propagateRewritten(c, stream, null);
    c.db.modified(foundKey);
    c.server.dirty += deleted;
  }
  c.w.addInteger(deleted);
}

/** XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id] */
function xsetidCommand(c: Client): void {
  const id = parseStrictId(c, 2);
  if (id === null) return;
  const argv = c.argv;
  let entriesAdded = -1n;
  let maxDeleted = new StreamId(0n, 0n);
  for (let i = 3; i < argv.count; i += 2) {
    const moreArgs = argv.count - 1 - i;
    if (argv.is(i, "entriesadded") && moreArgs > 0) {
      if (!parseLongLong(argv.buf, argv.start[i + 1]!, argv.len[i + 1]!)) return c.w.addErrorBytes(ERR.notInteger);
      entriesAdded = parsedInt64.safe ? BigInt(parsedInt64.value) : parsedInt64.big;
      if (entriesAdded < 0n) return c.w.addError("ERR entries_added must be positive");
    } else if (argv.is(i, "maxdeletedid") && moreArgs > 0) {
      const parsed = parseStrictId(c, i + 1);
      if (parsed === null) return;
      if (compareIds(id, parsed) < 0) return c.w.addError("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
      maxDeleted = parsed;
    } else return c.w.addErrorBytes(ERR.syntax);
  }
  const stream = streamOrReply(c, 1, true, ERR.noSuchKey);
  if (stream === null) return;
  if (stream.length > 0) {
    if (compareIds(id, lastValidId(stream)) < 0) return c.w.addError("ERR The ID specified in XSETID is smaller than the target stream top item");
    if (entriesAdded !== -1n && BigInt(stream.length) > entriesAdded) {
      return c.w.addError("ERR The entries_added specified in XSETID is smaller than the target stream length");
    }
  }
  stream.lastId.copyFrom(id);
  if (entriesAdded !== -1n) stream.entriesAdded = entriesAdded;
  if (!maxDeleted.isZero()) stream.maxDeletedId.copyFrom(maxDeleted);
  c.w.addRaw(OK);
  c.db.modified(foundKey);
  notifyArg(c, NOTIFY.STREAM, "xsetid", 1);
  c.server.dirty++;
}

// ---------------------------------------------------------------------------------------
// XREAD
// ---------------------------------------------------------------------------------------

/** One stream's part of an XREAD reply: [key, entries] (in RESP3 a map entry). */
function addStreamPart(w: ReplyWriter, key: Uint8Array, keyStart: number, keyLen: number, stream: Stream, after: StreamId, count: number): void {
  if (w.resp === 2) w.addArrayLen(2);
  w.addBulkView(key, keyStart, keyLen);
  const start = after.clone();
  incrId(start);
  replyRange(w, stream, start, null, count, false);
}

/**
 * What a blocked XREAD waits for: an entry above its ID in one of its streams. Redis
 * looks again only when an entry is added (or the key is made anew), not on every write
 * (XSETID raising the last ID serves nobody), so each key remembers the stream it held
 * and how many entries that had taken when the client blocked.
 */
class StreamWait implements BlockedWait {
  private readonly addedWhenBlocked: bigint[];

  constructor(
    readonly db: Db,
    readonly keys: string[],
    readonly deadlineMs: number,
    /** Per key, the ID entries must be greater than. */
    private readonly after: StreamId[],
    private readonly count: number,
    /** Per key, the stream it held when the client blocked, or null. */
    private readonly blockedOn: (Stream | null)[],
  ) {
    this.addedWhenBlocked = blockedOn.map((stream) => (stream === null ? 0n : stream.entriesAdded));
  }

  serve(_c: Client, w: ReplyWriter, key: string): boolean {
    const id = this.db.lookupRead(key);
    if (id < 0 || this.db.typeOf(id) !== ObjType.Stream) return false;
    const stream = streamAt(this.db, id);
    const at = this.keys.indexOf(key);
    if (stream === this.blockedOn[at] && stream.entriesAdded === this.addedWhenBlocked[at]) return false;
    const after = this.after[at]!;
    if (compareIds(stream.lastId, after) <= 0) return false;
    if (w.resp === 2) w.addArrayLen(1);
    else w.addMapLen(1);
    addStreamPart(w, latin1Bytes(key), 0, key.length, stream, after, this.count);
    return true;
  }

  timeoutReply(_c: Client, w: ReplyWriter): void {
    w.addNullArray();
  }
}

/** XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...] */
function xreadCommand(c: Client): void {
  const argv = c.argv;
  let deadlineMs = -1;
  let count = 0;
  let streamsAt = 0;
  for (let i = 1; i < argv.count; i++) {
    const moreArgs = argv.count - i - 1;
    if (argv.is(i, "block") && moreArgs > 0) {
      i++;
      const parsed = parseTimeoutArg(c, i, TimeoutUnit.Milliseconds);
      if (parsed === null) return;
      deadlineMs = parsed;
    } else if (argv.is(i, "count") && moreArgs > 0) {
      i++;
      const n = parseLongLongArg(c, i);
      if (n === null) return;
      count = n < 0 ? 0 : n;
    } else if (argv.is(i, "streams") && moreArgs > 0) {
      streamsAt = i + 1;
      break;
    } else if (argv.is(i, "group") && moreArgs >= 2) {
      return c.w.addError("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
    } else if (argv.is(i, "noack")) {
      return c.w.addError("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
    } else return c.w.addErrorBytes(ERR.syntax);
  }
  if (streamsAt === 0) return c.w.addErrorBytes(ERR.syntax);
  if ((argv.count - streamsAt) % 2 !== 0) {
    return c.w.addError("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
  }
  const streamCount = (argv.count - streamsAt) / 2;
  const after = parseReadIds(c, streamsAt, streamCount);
  if (after === null) return;
  if (serveNow(c, streamsAt, streamCount, after, count)) return;
  if (deadlineMs !== -1) {
    if (c.denyBlocking) return c.w.addNullArray();
    const keys: string[] = [];
    for (let i = 0; i < streamCount; i++) keys.push(argv.str(streamsAt + i));
    c.server.blocking.block(c, new StreamWait(c.db, keys, deadlineMs, after, count || BLOCKED_DEFAULT_COUNT, readStreams.slice(0, streamCount)));
    return;
  }
  c.w.addNullArray();
}

/** The streams XREAD's keys held (null where none), as parseReadIds found them. */
const readStreams: (Stream | null)[] = [];

/**
 * The IDs after XREAD's keys, `$` resolved to each stream's last ID, with the streams in
 * readStreams; null after replying.
 */
function parseReadIds(c: Client, streamsAt: number, streamCount: number): StreamId[] | null {
  const argv = c.argv;
  const db = c.db;
  const after: StreamId[] = [];
  readStreams.length = 0;
  for (let i = 0; i < streamCount; i++) {
    const idAt = streamsAt + streamCount + i;
    const key = db.lookupReadArg(argv, streamsAt + i);
    if (key >= 0 && db.typeOf(key) !== ObjType.Stream) {
      c.w.addErrorBytes(ERR.wrongType);
      return null;
    }
    readStreams.push(key >= 0 ? streamAt(db, key) : null);
    if (argv.len[idAt] === 1 && argv.buf[argv.start[idAt]!] === 36 /* '$' */) {
      after.push(key >= 0 ? streamAt(db, key).lastId.clone() : new StreamId(0n, 0n));
      continue;
    }
    if (argv.len[idAt] === 1 && argv.buf[argv.start[idAt]!] === 62 /* '>' */) {
      c.w.addError("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.");
      return null;
    }
    const id = parseStrictId(c, idAt);
    if (id === null) return null;
    after.push(id);
  }
  return after;
}

/** Replies with every stream that has entries above its ID; false (nothing written) when none has. */
function serveNow(c: Client, streamsAt: number, streamCount: number, after: StreamId[], count: number): boolean {
  const argv = c.argv;
  const db = c.db;
  const w = c.w;
  let served = 0;
  let at = 0;
  for (let i = 0; i < streamCount; i++) {
    const key = db.lookupReadArg(argv, streamsAt + i);
    if (key < 0) continue;
    const stream = streamAt(db, key);
    if (stream.length === 0 || compareIds(lastValidId(stream), after[i]!) <= 0) continue;
    if (served++ === 0) at = w.deferLen();
    addStreamPart(w, argv.buf, argv.start[streamsAt + i]!, argv.len[streamsAt + i]!, stream, after[i]!, count);
  }
  if (served > 0) w.setDeferredLen(at, w.resp === 2 ? "array" : "map", served);
  return served > 0;
}

// ---------------------------------------------------------------------------------------
// XINFO
// ---------------------------------------------------------------------------------------

const XINFO_HELP = [
  "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "CONSUMERS <key> <groupname>",
  "    Show consumers of <groupname>.",
  "GROUPS <key>",
  "    Show the stream consumer groups.",
  "STREAM <key> [FULL [COUNT <count>]",
  "    Show information about the stream.",
  "HELP",
  "    Prints this help.",
];

/** XINFO HELP */
function xinfoHelpCommand(c: Client): void {
  c.w.addHelp(XINFO_HELP);
}

/**
 * How many nodes Redis's radix tree has for these 16-byte keys (XINFO's
 * radix-tree-nodes): rax keeps a compressed trie, one node per run of bytes without a
 * branch, one per branching point and one empty node per key end; the root alone when empty.
 */
function raxNodeCount(stream: Stream): number {
  const keys = stream.nodes.map((node) => {
    const key = new Uint8Array(16);
    encodeId(node.master, key, 0);
    return key;
  });
  if (keys.length === 0) return 1;
  return trieNodes(keys, 0, keys.length, 0);
}

/** Nodes under the trie position shared by keys[lo .. hi) at `depth` bytes. */
function trieNodes(keys: Uint8Array[], lo: number, hi: number, depth: number): number {
  if (depth === 16) return 1;
  const first = keys[lo]!;
  const last = keys[hi - 1]!;
  let common = depth;
  while (common < 16 && first[common] === last[common]) common++;
  if (common > depth) return 1 + trieNodes(keys, lo, hi, common);
  let total = 1;
  let groupStart = lo;
  for (let k = lo + 1; k <= hi; k++) {
    if (k === hi || keys[k]![depth] !== keys[groupStart]![depth]) {
      total += trieNodes(keys, groupStart, k, depth + 1);
      groupStart = k;
    }
  }
  return total;
}

/** The stream's first or last entry as [id, [field, value ...]], or a null. */
function addEdgeEntry(w: ReplyWriter, stream: Stream, last: boolean): void {
  const it = cursor;
  it.start(stream, null, null, last);
  if (it.next()) addEntry(w, it);
  else w.addNull();
}

/** XINFO STREAM key [FULL [COUNT count]] */
function xinfoStreamCommand(c: Client): void {
  const stream = streamOrReply(c, 2, false, ERR.noSuchKey);
  if (stream === null) return;
  const argv = c.argv;
  const options = argv.count - 3;
  let full = false;
  let count = 10;
  if (options > 0) {
    if ((options !== 1 && options !== 3) || !argv.is(3, "full") || (options === 3 && !argv.is(4, "count"))) {
      return c.w.addError(subcommandSyntaxError(argv.str(1), "xinfo"));
    }
    full = true;
    if (options === 3) {
      const n = parseLongLongArg(c, 5);
      if (n === null) return;
      count = n < 0 ? 10 : n;
    }
  }
  const w = c.w;
  w.addMapLen(full ? 9 : 10);
  w.addBulkLatin1("length");
  w.addInteger(stream.length);
  w.addBulkLatin1("radix-tree-keys");
  w.addInteger(stream.nodes.length);
  w.addBulkLatin1("radix-tree-nodes");
  w.addInteger(raxNodeCount(stream));
  w.addBulkLatin1("last-generated-id");
  addId(w, stream.lastId);
  w.addBulkLatin1("max-deleted-entry-id");
  addId(w, stream.maxDeletedId);
  w.addBulkLatin1("entries-added");
  addU64(w, stream.entriesAdded);
  w.addBulkLatin1("recorded-first-entry-id");
  addId(w, stream.firstId);
  if (!full) {
    w.addBulkLatin1("groups");
    w.addInteger(stream.groups.size);
    w.addBulkLatin1("first-entry");
    addEdgeEntry(w, stream, false);
    w.addBulkLatin1("last-entry");
    addEdgeEntry(w, stream, true);
    return;
  }
  w.addBulkLatin1("entries");
  replyRange(w, stream, new StreamId(0n, 0n), null, count, false);
  w.addBulkLatin1("groups");
  addGroupsFull(w, stream, count);
}

/** XINFO STREAM FULL's groups: each with its PEL and consumers, up to `count` pending entries each (0: all). */
function addGroupsFull(w: ReplyWriter, stream: Stream, count: number): void {
  w.addArrayLen(stream.groups.size);
  for (const name of sortedKeys(stream.groups)) {
    const group = stream.groups.get(name)!;
    w.addMapLen(7);
    w.addBulkLatin1("name");
    w.addBulkLatin1(name);
    w.addBulkLatin1("last-delivered-id");
    addId(w, group.lastId);
    w.addBulkLatin1("entries-read");
    if (group.entriesRead === ENTRIES_READ_INVALID) w.addNull();
    else addI64(w, group.entriesRead);
    w.addBulkLatin1("lag");
    addLag(w, stream, group.lastId, group.entriesRead);
    w.addBulkLatin1("pel-count");
    w.addInteger(group.pel.size);
    w.addBulkLatin1("pending");
    const pelKeys = sortedKeys(group.pel);
    const shown = count === 0 ? pelKeys.length : Math.min(count, pelKeys.length);
    w.addArrayLen(shown);
    for (let i = 0; i < shown; i++) {
      const nack = group.pel.get(pelKeys[i]!)!;
      w.addArrayLen(4);
      addId(w, pelKeyId(pelKeys[i]!));
      w.addBulkLatin1(nack.consumer?.name ?? "");
      w.addInteger(nack.deliveryTimeMs);
      w.addInteger(nack.deliveryCount);
    }
    w.addBulkLatin1("consumers");
    w.addArrayLen(group.consumers.size);
    for (const consumerName of sortedKeys(group.consumers)) {
      const consumer = group.consumers.get(consumerName)!;
      w.addMapLen(4);
      w.addBulkLatin1("name");
      w.addBulkLatin1(consumerName);
      w.addBulkLatin1("seen-time");
      w.addInteger(consumer.seenTimeMs);
      w.addBulkLatin1("pel-count");
      w.addInteger(consumer.pel.size);
      w.addBulkLatin1("pending");
      const ownKeys = sortedKeys(consumer.pel);
      const ownShown = count === 0 ? ownKeys.length : Math.min(count, ownKeys.length);
      w.addArrayLen(ownShown);
      for (let i = 0; i < ownShown; i++) {
        const nack = consumer.pel.get(ownKeys[i]!)!;
        w.addArrayLen(3);
        addId(w, pelKeyId(ownKeys[i]!));
        w.addInteger(nack.deliveryTimeMs);
        w.addInteger(nack.deliveryCount);
      }
    }
  }
}

/** A group's lag (streamReplyWithCGLag): entries added after its last delivered one, or null when unknown. */
function addLag(w: ReplyWriter, stream: Stream, lastId: StreamId, entriesRead: bigint): void {
  let read: bigint;
  if (stream.entriesAdded === 0n) read = 0n;
  else if (entriesRead !== ENTRIES_READ_INVALID && !rangeHasTombstones(stream, lastId)) read = entriesRead;
  else {
    const estimated = estimateEntriesRead(stream, lastId);
    if (estimated === ENTRIES_READ_INVALID) return w.addNull();
    read = estimated;
  }
  // Redis subtracts as long longs: a group set ahead of the stream shows a negative lag.
  addI64(w, BigInt.asIntN(64, stream.entriesAdded - read));
}

/**
 * streamEstimateDistanceFromFirstEverEntry: how many entries were added up to `id`, when
 * the metadata tells; ENTRIES_READ_INVALID when it cannot.
 */
export function estimateEntriesRead(stream: Stream, id: StreamId): bigint {
  if (stream.entriesAdded === 0n) return 0n;
  const cmpLast = compareIds(id, stream.lastId);
  if (stream.length === 0 && cmpLast < 1) return stream.entriesAdded;
  if (cmpLast === 0) return stream.entriesAdded;
  if (cmpLast > 0) return ENTRIES_READ_INVALID;
  const cmpFirst = compareIds(id, stream.firstId);
  // No entry deleted since the first live one: the entries before `id` are all counted.
  const deletedBeforeFirst = compareIds(stream.maxDeletedId, stream.firstId) < 0;
  if (stream.maxDeletedId.isZero() || deletedBeforeFirst) {
    if (cmpFirst < 0) return stream.entriesAdded - BigInt(stream.length);
    if (cmpFirst === 0) return stream.entriesAdded - BigInt(stream.length) + 1n;
  }
  return ENTRIES_READ_INVALID;
}

/** streamRangeHasTombstones from `start` to the stream's end. */
export function rangeHasTombstones(stream: Stream, start: StreamId): boolean {
  if (stream.length === 0 || stream.maxDeletedId.isZero()) return false;
  if (compareIds(stream.firstId, stream.maxDeletedId) > 0) return false;
  return compareIds(start, stream.maxDeletedId) <= 0;
}

/** XINFO GROUPS key */
function xinfoGroupsCommand(c: Client): void {
  const stream = streamOrReply(c, 2, false, ERR.noSuchKey);
  if (stream === null) return;
  const w = c.w;
  w.addArrayLen(stream.groups.size);
  for (const name of sortedKeys(stream.groups)) {
    const group = stream.groups.get(name)!;
    w.addMapLen(6);
    w.addBulkLatin1("name");
    w.addBulkLatin1(name);
    w.addBulkLatin1("consumers");
    w.addInteger(group.consumers.size);
    w.addBulkLatin1("pending");
    w.addInteger(group.pel.size);
    w.addBulkLatin1("last-delivered-id");
    addId(w, group.lastId);
    w.addBulkLatin1("entries-read");
    if (group.entriesRead === ENTRIES_READ_INVALID) w.addNull();
    else addI64(w, group.entriesRead);
    w.addBulkLatin1("lag");
    addLag(w, stream, group.lastId, group.entriesRead);
  }
}

/** XINFO CONSUMERS key group */
function xinfoConsumersCommand(c: Client): void {
  const stream = streamOrReply(c, 2, false, ERR.noSuchKey);
  if (stream === null) return;
  const argv = c.argv;
  const group = stream.groups.get(argv.str(3));
  if (group === undefined) {
    return c.w.addError(`NOGROUP No such consumer group '${argv.str(3)}' for key name '${argv.str(2)}'`);
  }
  const w = c.w;
  const nowMs = Date.now();
  w.addArrayLen(group.consumers.size);
  for (const name of sortedKeys(group.consumers)) {
    const consumer = group.consumers.get(name)!;
    w.addMapLen(3);
    w.addBulkLatin1("name");
    w.addBulkLatin1(name);
    w.addBulkLatin1("pending");
    w.addInteger(consumer.pel.size);
    w.addBulkLatin1("idle");
    w.addInteger(Math.max(nowMs - consumer.seenTimeMs, 0));
  }
}

// ---------------------------------------------------------------------------------------
// Command table (as Redis 7.0's COMMAND INFO and COMMAND DOCS give them)
// ---------------------------------------------------------------------------------------

const KEY = { name: "key", type: "key", key_spec_index: 0 };

export const streamCommands: CommandDef[] = [
  {
    name: "xadd", handler: xaddCommand, arity: -5, flags: "write denyoom fast", acl: "stream", group: "stream", since: "5.0.0",
    summary: "Appends a new entry to a stream",
    complexity: "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.",
    history: [["6.2.0", "Added the `NOMKSTREAM` option, `MINID` trimming strategy and the `LIMIT` option."], ["7.0.0", "Added support for the `<ms>-*` explicit ID form."]],
    tips: ["nondeterministic_output"],
    keySpecs: [{ flags: "RW update", begin: { index: 1 }, find: { lastkey: 0, keystep: 1, limit: 0 }, notes: "UPDATE instead of INSERT because of the optional trimming feature" }],
    arguments: [
      KEY,
      { name: "nomkstream", type: "pure-token", token: "NOMKSTREAM", flags: ["optional"], since: "6.2.0" },
      { name: "trim", type: "block", flags: ["optional"], arguments: [{ name: "strategy", type: "oneof", arguments: [{ name: "maxlen", type: "pure-token", token: "MAXLEN" }, { name: "minid", type: "pure-token", token: "MINID", since: "6.2.0" }] }, { name: "operator", type: "oneof", flags: ["optional"], arguments: [{ name: "equal", type: "pure-token", token: "=" }, { name: "approximately", type: "pure-token", token: "~" }] }, { name: "threshold", type: "string" }, { name: "count", type: "integer", token: "LIMIT", flags: ["optional"], since: "6.2.0" }] },
      { name: "id_or_auto", type: "oneof", arguments: [{ name: "auto_id", type: "pure-token", token: "*" }, { name: "id", type: "string" }] },
      { name: "field_value", type: "block", flags: ["multiple"], arguments: [{ name: "field", type: "string" }, { name: "value", type: "string" }] },
    ],
  },
  {
    name: "xlen", handler: xlenCommand, arity: 2, flags: "readonly fast", acl: "stream", group: "stream", since: "5.0.0",
    summary: "Return the number of entries in a stream",
    complexity: "O(1)",
    keySpecs: [keyRange("RO", 1)],
    arguments: [KEY],
  },
  {
    name: "xrange", handler: xrangeCommand, arity: -4, flags: "readonly", acl: "stream", group: "stream", since: "5.0.0",
    summary: "Return a range of elements in a stream, with IDs matching the specified IDs interval",
    complexity: "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
    history: [["6.2.0", "Added exclusive ranges."]],
    keySpecs: [keyRange("RO access", 1)],
    arguments: [
      KEY,
      { name: "start", type: "string" },
      { name: "end", type: "string" },
      { name: "count", type: "integer", token: "COUNT", flags: ["optional"] },
    ],
  },
  {
    name: "xrevrange", handler: xrevrangeCommand, arity: -4, flags: "readonly", acl: "stream", group: "stream", since: "5.0.0",
    summary: "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE",
    complexity: "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
    history: [["6.2.0", "Added exclusive ranges."]],
    keySpecs: [keyRange("RO access", 1)],
    arguments: [
      KEY,
      { name: "end", type: "string" },
      { name: "start", type: "string" },
      { name: "count", type: "integer", token: "COUNT", flags: ["optional"] },
    ],
  },
  {
    name: "xdel", handler: xdelCommand, arity: -3, flags: "write fast", acl: "stream", group: "stream", since: "5.0.0",
    summary: "Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist.",
    complexity: "O(1) for each single item to delete in the stream, regardless of the stream size.",
    keySpecs: [keyRange("RW delete", 1)],
    arguments: [
      KEY,
      { name: "id", type: "string", flags: ["multiple"] },
    ],
  },
  {
    name: "xtrim", handler: xtrimCommand, arity: -4, flags: "write", acl: "stream", group: "stream", since: "5.0.0",
    summary: "Trims the stream to (approximately if '~' is passed) a certain size",
    complexity: "O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.",
    history: [["6.2.0", "Added the `MINID` trimming strategy and the `LIMIT` option."]],
    tips: ["nondeterministic_output"],
    keySpecs: [keyRange("RW delete", 1)],
    arguments: [
      KEY,
      { name: "trim", type: "block", arguments: [{ name: "strategy", type: "oneof", arguments: [{ name: "maxlen", type: "pure-token", token: "MAXLEN" }, { name: "minid", type: "pure-token", token: "MINID", since: "6.2.0" }] }, { name: "operator", type: "oneof", flags: ["optional"], arguments: [{ name: "equal", type: "pure-token", token: "=" }, { name: "approximately", type: "pure-token", token: "~" }] }, { name: "threshold", type: "string" }, { name: "count", type: "integer", token: "LIMIT", flags: ["optional"], since: "6.2.0" }] },
    ],
  },
  {
    name: "xsetid", handler: xsetidCommand, arity: -3, flags: "write denyoom fast", acl: "stream", group: "stream", since: "5.0.0",
    summary: "An internal command for replicating stream values",
    complexity: "O(1)",
    history: [["7.0.0", "Added the `entries_added` and `max_deleted_entry_id` arguments."]],
    keySpecs: [keyRange("RW update", 1)],
    arguments: [
      KEY,
      { name: "last-id", type: "string" },
      { name: "entries_added", type: "integer", token: "ENTRIESADDED", flags: ["optional"], since: "7.0.0" },
      { name: "max_deleted_entry_id", type: "string", token: "MAXDELETEDID", flags: ["optional"], since: "7.0.0" },
    ],
  },
  {
    name: "xread", handler: xreadCommand, arity: -4, flags: "readonly blocking movablekeys", acl: "stream", group: "stream", since: "5.0.0",
    summary: "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.",
    complexity: "For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data.",
    keySpecs: [{ flags: "RO access", begin: { keyword: "STREAMS", startfrom: 1 }, find: { lastkey: -1, keystep: 1, limit: 2 } }],
    arguments: [
      { name: "count", type: "integer", token: "COUNT", flags: ["optional"] },
      { name: "milliseconds", type: "integer", token: "BLOCK", flags: ["optional"] },
      { name: "streams", type: "block", token: "STREAMS", arguments: [{ name: "key", type: "key", flags: ["multiple"], key_spec_index: 0 }, { name: "id", type: "string", flags: ["multiple"] }] },
    ],
  },
  {
    name: "xinfo", arity: -2, flags: "", group: "stream", since: "5.0.0",
    summary: "A container for stream introspection commands",
    complexity: "Depends on subcommand.",
    subcommands: [
      {
        name: "xinfo|groups", handler: xinfoGroupsCommand, arity: 3, flags: "readonly", acl: "stream", group: "stream", since: "5.0.0",
        summary: "List the consumer groups of a stream",
        complexity: "O(1)",
        history: [["7.0.0", "Added the `entries-read` and `lag` fields"]],
        keySpecs: [keyRange("RO access", 2)],
        arguments: [KEY],
      },
      {
        name: "xinfo|stream", handler: xinfoStreamCommand, arity: -3, flags: "readonly", acl: "stream", group: "stream", since: "5.0.0",
        summary: "Get information about a stream",
        complexity: "O(1)",
        history: [["6.0.0", "Added the `FULL` modifier."], ["7.0.0", "Added the `max-deleted-entry-id`, `entries-added`, `recorded-first-entry-id`, `entries-read` and `lag` fields"]],
        keySpecs: [keyRange("RO access", 2)],
        arguments: [
          KEY,
          { name: "full", type: "block", token: "FULL", flags: ["optional"], arguments: [{ name: "count", type: "integer", token: "COUNT", flags: ["optional"] }] },
        ],
      },
      {
        name: "xinfo|help", handler: xinfoHelpCommand, arity: 2, flags: "loading stale", acl: "stream", group: "stream", since: "5.0.0",
        summary: "Show helpful text about the different subcommands",
        complexity: "O(1)",
      },
      {
        name: "xinfo|consumers", handler: xinfoConsumersCommand, arity: 4, flags: "readonly", acl: "stream", group: "stream", since: "5.0.0",
        summary: "List the consumers in a consumer group",
        complexity: "O(1)",
        tips: ["nondeterministic_output"],
        keySpecs: [keyRange("RO access", 2)],
        arguments: [
          KEY,
          { name: "groupname", type: "string" },
        ],
      },
    ],
  },
];

// ---------------------------------------------------------------------------------------
// AOF rewrite (Redis's rewriteStreamObject)
// ---------------------------------------------------------------------------------------

/**
 * The commands that rebuild `stream` at `key` (latin1): an XADD per entry (for an empty
 * stream, one XADD MAXLEN 0 that leaves it empty), an XSETID restoring its metadata, then
 * per group XGROUP CREATE and, per consumer, XCLAIMs of its pending entries or XGROUP
 * CREATECONSUMER when it has none.
 */
export function streamRewriteCommands(key: string, stream: Stream): string[][] {
  const commands: string[][] = [];
  if (stream.length > 0) {
    const it = new StreamIterator();
    it.start(stream, null, null, false);
    while (it.next()) {
      const command = ["XADD", key, it.id.toString()];
      const lp = it.lp;
      for (let more = it.firstPair(); more; more = it.nextPair()) {
        command.push(lpGetLatin1(lp, it.fieldP), lpGetLatin1(lp, it.valueP));
      }
      commands.push(command);
    }
  } else {
    commands.push(["XADD", key, "MAXLEN", "0", "0-1", "x", "y"]);
  }
  commands.push(["XSETID", key, stream.lastId.toString(), "ENTRIESADDED", stream.entriesAdded.toString(), "MAXDELETEDID", stream.maxDeletedId.toString()]);
  for (const name of sortedKeys(stream.groups)) {
    const group = stream.groups.get(name)!;
    commands.push(["XGROUP", "CREATE", key, name, group.lastId.toString(), "ENTRIESREAD", group.entriesRead.toString()]);
    for (const consumerName of sortedKeys(group.consumers)) {
      const consumer = group.consumers.get(consumerName)!;
      if (consumer.pel.size === 0) {
        commands.push(["XGROUP", "CREATECONSUMER", key, name, consumerName]);
        continue;
      }
      for (const pelId of sortedKeys(consumer.pel)) {
        const nack = consumer.pel.get(pelId)!;
        commands.push([
          "XCLAIM", key, name, consumerName, "0", pelKeyId(pelId).toString(),
          "TIME", String(nack.deliveryTimeMs), "RETRYCOUNT", String(nack.deliveryCount),
          "JUSTID", "FORCE", "LASTID", group.lastId.toString(),
        ]);
      }
    }
  }
  return commands;
}
