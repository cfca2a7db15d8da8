// String commands (Redis's t_string.c): GET SET SETNX SETEX PSETEX GETSET GETDEL GETEX MGET
// MSET MSETNX APPEND STRLEN GETRANGE SUBSTR SETRANGE INCR DECR INCRBY DECRBY INCRBYFLOAT LCS.
// Handlers are thin: the string type's encodings are handled by store/string.ts. GET SET
// INCR MGET MSET are the hot path: they look keys up by their argument bytes, copy a value
// once into the keyspace table, and reply straight from the stored bytes.

import type { Client } from "../server/client.ts";
import type { Argv } from "../resp/parser.ts";
import { ObjType } from "../store/object.ts";
import { type Db, NO_KEY } from "../store/db.ts";
import { EMPTY_BULK, OK, type ReplyWriter } from "../resp/writer.ts";
import { ERR, invalidExpireTime, wrongArity } from "../resp/errors.ts";
import { keyRange, type CommandDef } from "./table.ts";
import { parseInt64Arg, parseIntArg } from "./args.ts";
import type { PropArg } from "../server/propagate.ts";
import { NOTIFY, notifyArg } from "../server/notify.ts";
import {
  type Int64,
  INT64_MAX,
  LD_ZERO,
  formatLongDouble,
  int64Add,
  int64Negate,
  isFiniteLongDouble,
  longDoubleAdd,
  parseLongDouble,
} from "../util/numbers.ts";
import {
  addReplyString,
  INT64_RESERVE,
  asciiBytes,
  setPlainString,
  setRawString,
  setString,
  setStringInt64,
  stringAppend,
  stringBytes,
  stringLength,
  stringReserve,
  stringSetRange,
  stringToInt64,
  stringToLongDouble,
} from "../store/string.ts";

// ---------------------------------------------------------------------------------------
// SET options (t_string.c parseExtendedStringArgumentsOrReply)
// ---------------------------------------------------------------------------------------

const OPT_NX = 1 << 0;
const OPT_XX = 1 << 1;
const OPT_EX = 1 << 2;
const OPT_PX = 1 << 3;
const OPT_KEEPTTL = 1 << 4;
const OPT_GET = 1 << 5;
const OPT_EXAT = 1 << 6;
const OPT_PXAT = 1 << 7;
const OPT_PERSIST = 1 << 8;

/** The options that take a time argument. */
const OPT_EXPIRE = OPT_EX | OPT_PX | OPT_EXAT | OPT_PXAT;
/** Options whose time argument is relative to now. */
const OPT_RELATIVE = OPT_EX | OPT_PX;
/** Options whose time argument is in milliseconds. */
const OPT_MILLIS = OPT_PX | OPT_PXAT;

/**
 * For each option, the options it may not follow. Each expire option excludes the other
 * expire options but not itself: Redis accepts `EX 1 EX 2` and keeps the last one.
 */
function optionConflicts(opt: number): number {
  switch (opt) {
    case OPT_NX:
      return OPT_XX;
    case OPT_XX:
      return OPT_NX;
    case OPT_GET:
      return 0;
    case OPT_KEEPTTL:
      return OPT_EXPIRE | OPT_PERSIST;
    case OPT_PERSIST:
      return OPT_EXPIRE | OPT_KEEPTTL;
    default:
      return (OPT_EXPIRE & ~opt) | OPT_KEEPTTL | OPT_PERSIST;
  }
}

/** Options only SET knows; GETEX knows PERSIST instead. */
const SET_ONLY = OPT_NX | OPT_XX | OPT_GET | OPT_KEEPTTL;

/** The option word argument j spells, or 0. */
function optionAt(c: Client, j: number): number {
  const argv = c.argv;
  switch (argv.len[j]) {
    case 2:
      if (argv.is(j, "nx")) return OPT_NX;
      if (argv.is(j, "xx")) return OPT_XX;
      if (argv.is(j, "ex")) return OPT_EX;
      if (argv.is(j, "px")) return OPT_PX;
      return 0;
    case 3:
      return argv.is(j, "get") ? OPT_GET : 0;
    case 4:
      if (argv.is(j, "exat")) return OPT_EXAT;
      if (argv.is(j, "pxat")) return OPT_PXAT;
      return 0;
    case 7:
      if (argv.is(j, "keepttl")) return OPT_KEEPTTL;
      if (argv.is(j, "persist")) return OPT_PERSIST;
      return 0;
    default:
      return 0;
  }
}

/** What parseStringOptions found: the option bits and the index of the time argument. */
let parsedOptions = 0;
let parsedExpireIndex = -1;

/**
 * Parse SET's options from argument 3 or GETEX's from argument 2 into parsedOptions and
 * parsedExpireIndex. Replies "syntax error" and returns false on an unknown, misplaced,
 * conflicting or incomplete option.
 */
function parseStringOptions(c: Client, first: number, forSet: boolean): boolean {
  let flags = 0;
  let expireIndex = -1;
  const argc = c.argv.count;
  for (let j = first; j < argc; j++) {
    const opt = optionAt(c, j);
    const allowedHere = forSet ? opt !== OPT_PERSIST : (opt & SET_ONLY) === 0;
    if (opt === 0 || !allowedHere || (flags & optionConflicts(opt)) !== 0) {
      c.w.addErrorBytes(ERR.syntax);
      return false;
    }
    if (opt & OPT_EXPIRE) {
      if (j === argc - 1) {
        c.w.addErrorBytes(ERR.syntax);
        return false;
      }
      expireIndex = ++j;
    }
    flags |= opt;
  }
  parsedOptions = flags;
  parsedExpireIndex = expireIndex;
  return true;
}

/** Largest seconds value whose milliseconds fit an int64 (LLONG_MAX / 1000). */
const MAX_EXPIRE_SECONDS = 9223372036854775n;

/**
 * Redis's getExpireMillisecondsOrReply: argument i as an absolute Unix time in ms for the
 * option bits given (EX/PX relative to nowMs, EX/EXAT in seconds). Replies and returns -1
 * when it is not an integer, not positive, or overflows int64 once scaled and offset.
 * Times beyond 2^53 ms come back as the nearest double.
 */
function expireAtOrReply(c: Client, i: number, opt: number, nowMs: number, command: string): number {
  const v = parseInt64Arg(c, i);
  if (v === null) return -1;
  const seconds = (opt & OPT_MILLIS) === 0;
  const relative = (opt & OPT_RELATIVE) !== 0;
  if (v <= 0 || (seconds && v > MAX_EXPIRE_SECONDS)) {
    c.w.addError(invalidExpireTime(command));
    return -1;
  }
  // Below 4e12 every step stays an exact safe integer; beyond, bigint checks the overflow.
  if (typeof v === "number" && v < 4e12) return (seconds ? v * 1000 : v) + (relative ? nowMs : 0);
  const ms = BigInt(v) * (seconds ? 1000n : 1n) + (relative ? BigInt(nowMs) : 0n);
  if (ms > INT64_MAX) {
    c.w.addError(invalidExpireTime(command));
    return -1;
  }
  return Number(ms);
}

// ---------------------------------------------------------------------------------------
// GET family
// ---------------------------------------------------------------------------------------

/** What getGeneric returns after replying WRONGTYPE. */
const WRONG_TYPE = -2;

/**
 * Redis's getGenericCommand: reply with the string at key (argument 1), or nil. Returns
 * the key's id, NO_KEY, or WRONG_TYPE after replying WRONGTYPE.
 */
function getGeneric(c: Client, nowMs: number): number {
  const db = c.db;
  const id = db.lookupReadArg(c.argv, 1, nowMs);
  if (id < 0) {
    c.w.addNull();
    return NO_KEY;
  }
  if (db.typeOf(id) !== ObjType.String) {
    c.w.addErrorBytes(ERR.wrongType);
    return WRONG_TYPE;
  }
  addReplyString(c.w, db, id);
  return id;
}

/** GET key */
function getCommand(c: Client): void {
  const db = c.db;
  const id = db.lookupReadArg(c.argv, 1);
  if (id < 0) return c.w.addNull();
  if (db.typeOf(id) !== ObjType.String) return c.w.addErrorBytes(ERR.wrongType);
  addReplyString(c.w, db, id);
}

/** GETDEL key */
function getdelCommand(c: Client): void {
  const id = getGeneric(c, c.server.clock.nowMs);
  if (id < 0) return;
  c.db.delete(id);
  notifyArg(c, NOTIFY.GENERIC, "del", 1);
  c.server.dirty++;
  if (c.server.propagation.active) c.server.propagation.replaceCommand(c.db.id, ["DEL", c.argv.copy(1)]);
}

/** GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | PERSIST] */
function getexCommand(c: Client): void {
  if (!parseStringOptions(c, 2, false)) return;
  const flags = parsedOptions;
  const db = c.db;
  const nowMs = c.server.clock.nowMs;
  const id = db.lookupReadArg(c.argv, 1, nowMs);
  if (id < 0) return c.w.addNull();
  if (db.typeOf(id) !== ObjType.String) return c.w.addErrorBytes(ERR.wrongType);
  let when = 0;
  if (flags & OPT_EXPIRE) {
    when = expireAtOrReply(c, parsedExpireIndex, flags, nowMs, "getex");
    if (when < 0) return;
  }
  // Reply before the key may go away below.
  addReplyString(c.w, db, id);
  if ((flags & (OPT_EXAT | OPT_PXAT)) !== 0 && when <= nowMs) {
    // An absolute time already past deletes the key now (not counted as an expiry).
    db.delete(id);
    notifyArg(c, NOTIFY.GENERIC, "del", 1);
    c.server.dirty++;
    if (c.server.propagation.active) propagateGetex(c, c.server.config.lazyfreeLazyExpire ? "UNLINK" : "DEL", -1);
  } else if (flags & OPT_EXPIRE) {
    db.setExpire(id, when);
    db.modified(id);
    notifyArg(c, NOTIFY.GENERIC, "expire", 1);
    c.server.dirty++;
    if (c.server.propagation.active) propagateGetex(c, "PEXPIREAT", when);
  } else if (flags & OPT_PERSIST) {
    if (db.removeExpire(id)) {
      db.modified(id);
      notifyArg(c, NOTIFY.GENERIC, "persist", 1);
      c.server.dirty++;
      if (c.server.propagation.active) propagateGetex(c, "PERSIST", -1);
    }
  }
}

/** GETEX propagates as what it did to the key: `name key [when]` (Redis rewrites the command vector). */
function propagateGetex(c: Client, name: string, when: number): void {
  const args: PropArg[] = [name, c.argv.copy(1)];
  if (when >= 0) args.push(String(when));
  c.server.propagation.replaceCommand(c.db.id, args);
}

/** GETSET key value */
function getsetCommand(c: Client): void {
  const nowMs = c.server.clock.nowMs;
  if (getGeneric(c, nowMs) === WRONG_TYPE) return;
  setValueArg(c, 1, 2, false, nowMs);
  notifyArg(c, NOTIFY.STRING, "set", 1);
  c.server.dirty++;
  if (c.server.propagation.active) c.server.propagation.replaceCommand(c.db.id, ["SET", c.argv.copy(1), c.argv.copy(2)]);
}

/** MGET key [key ...] */
function mgetCommand(c: Client): void {
  const argc = c.argv.count;
  const db = c.db;
  const w = c.w;
  const nowMs = c.server.clock.nowMs;
  w.addArrayLen(argc - 1);
  for (let j = 1; j < argc; j++) {
    const id = db.lookupReadArg(c.argv, j, nowMs);
    if (id < 0 || db.typeOf(id) !== ObjType.String) w.addNull();
    else addReplyString(w, db, id);
  }
}

/** STRLEN key */
function strlenCommand(c: Client): void {
  const db = c.db;
  const id = db.lookupReadArg(c.argv, 1);
  if (id < 0) return c.w.addInteger(0);
  if (db.typeOf(id) !== ObjType.String) return c.w.addErrorBytes(ERR.wrongType);
  c.w.addInteger(stringLength(db, id));
}

/** GETRANGE key start end (and SUBSTR, its older name) */
function getrangeCommand(c: Client): void {
  let start = parseIntArg(c, 2);
  if (start === null) return;
  let end = parseIntArg(c, 3);
  if (end === null) return;
  const db = c.db;
  const id = db.lookupReadArg(c.argv, 1);
  if (id < 0) return c.w.addRaw(EMPTY_BULK);
  if (db.typeOf(id) !== ObjType.String) return c.w.addErrorBytes(ERR.wrongType);
  const bytes = stringBytes(db, id);
  const len = bytes.length;
  if (start < 0 && end < 0 && start > end) return c.w.addRaw(EMPTY_BULK);
  if (start < 0) start = Math.max(len + start, 0);
  if (end < 0) end = Math.max(len + end, 0);
  if (end >= len) end = len - 1;
  if (start > end || len === 0) return c.w.addRaw(EMPTY_BULK);
  c.w.addBulkView(bytes, start, end - start + 1);
}

// ---------------------------------------------------------------------------------------
// SET family
// ---------------------------------------------------------------------------------------

/**
 * Redis's setKey of a string: key argument k gets value argument v, with the encoding
 * tryObjectEncoding would give it. Returns the key's id.
 */
function setValueArg(c: Client, k: number, v: number, keepTtl: boolean, nowMs: number): number {
  const argv = c.argv;
  const db = c.db;
  const buf = argv.buf;
  const start = argv.start[v]!;
  const len = argv.len[v]!;
  const id = db.setKeyArg(argv, k, keepTtl, stringReserve(buf, start, len), nowMs);
  setString(db, id, buf, start, len);
  return id;
}

/** A new key for argument k holding value argument v (the caller knows the key is absent). */
function addValueArg(c: Client, k: number, v: number): number {
  const argv = c.argv;
  const db = c.db;
  const buf = argv.buf;
  const start = argv.start[v]!;
  const len = argv.len[v]!;
  const id = db.insertArg(argv, k, stringReserve(buf, start, len));
  setString(db, id, buf, start, len);
  return id;
}

/** What setGeneric replies: SET's OK and nil, or SETNX's 1 and 0. */
const enum SetReply {
  OkOrNil = 0,
  OneOrZero = 1,
}

/**
 * Redis's setGenericCommand for SET, SETNX, SETEX and PSETEX: `flags` are option bits,
 * `expireIndex` the time argument (-1 for none), `command` the name for the invalid
 * expire time error.
 */
function setGeneric(c: Client, flags: number, valueIndex: number, expireIndex: number, reply: SetReply, command: string): void {
  const nowMs = c.server.clock.nowMs;
  let when = 0;
  if (expireIndex >= 0) {
    when = expireAtOrReply(c, expireIndex, flags, nowMs, command);
    if (when < 0) return;
  }
  const db = c.db;
  if (flags & OPT_GET && getGeneric(c, nowMs) === WRONG_TYPE) return;
  if (flags & (OPT_NX | OPT_XX)) {
    const found = db.lookupWriteArg(c.argv, 1, nowMs) >= 0;
    if ((flags & OPT_NX && found) || (flags & OPT_XX && !found)) {
      if (!(flags & OPT_GET)) replyNotSet(c.w, reply);
      return;
    }
  }
  // Like Redis's setKey lookup, this expires (and counts) a key past its time first.
  const id = setValueArg(c, 1, valueIndex, (flags & OPT_KEEPTTL) !== 0 || expireIndex >= 0, nowMs);
  c.server.dirty++;
  notifyArg(c, NOTIFY.STRING, "set", 1);
  if (expireIndex >= 0) {
    db.setExpire(id, when);
    notifyArg(c, NOTIFY.GENERIC, "expire", 1);
    // A relative time would move on replay: Redis propagates SET key value PXAT when,
    // dropping the other options (NX, XX, GET) whatever time form the client used.
    if (c.server.propagation.active) {
      c.server.propagation.replaceCommand(db.id, ["SET", c.argv.copy(1), c.argv.copy(valueIndex), "PXAT", String(when)]);
    }
  }
  if (!(flags & OPT_GET)) {
    if (reply === SetReply.OkOrNil) c.w.addRaw(OK);
    else c.w.addInteger(1);
  }
}

function replyNotSet(w: ReplyWriter, reply: SetReply): void {
  if (reply === SetReply.OkOrNil) w.addNull();
  else w.addInteger(0);
}

/** SET key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL] */
function setCommand(c: Client): void {
  if (c.argv.count === 3) {
    // The common case, without option parsing.
    setValueArg(c, 1, 2, false, c.server.clock.nowMs);
    notifyArg(c, NOTIFY.STRING, "set", 1);
    c.server.dirty++;
    c.w.addRaw(OK);
    return;
  }
  if (!parseStringOptions(c, 3, true)) return;
  setGeneric(c, parsedOptions, 2, parsedExpireIndex, SetReply.OkOrNil, "set");
}

/** SETNX key value */
function setnxCommand(c: Client): void {
  setGeneric(c, OPT_NX, 2, -1, SetReply.OneOrZero, "setnx");
}

/** SETEX key seconds value */
function setexCommand(c: Client): void {
  setGeneric(c, OPT_EX, 3, 2, SetReply.OkOrNil, "setex");
}

/** PSETEX key milliseconds value */
function psetexCommand(c: Client): void {
  setGeneric(c, OPT_PX, 3, 2, SetReply.OkOrNil, "psetex");
}

/** MSET key value [key value ...] */
function msetCommand(c: Client): void {
  const argc = c.argv.count;
  if (argc % 2 === 0) return c.w.addError(wrongArity("mset"));
  const nowMs = c.server.clock.nowMs;
  for (let j = 1; j < argc; j += 2) {
    setValueArg(c, j, j + 1, false, nowMs);
    notifyArg(c, NOTIFY.STRING, "set", j);
  }
  c.server.dirty += (argc - 1) / 2;
  c.w.addRaw(OK);
}

/** MSETNX key value [key value ...] */
function msetnxCommand(c: Client): void {
  const argc = c.argv.count;
  if (argc % 2 === 0) return c.w.addError(wrongArity("msetnx"));
  const db = c.db;
  const nowMs = c.server.clock.nowMs;
  for (let j = 1; j < argc; j += 2) {
    if (db.lookupWriteArg(c.argv, j, nowMs) >= 0) return c.w.addInteger(0);
  }
  for (let j = 1; j < argc; j += 2) {
    setValueArg(c, j, j + 1, false, nowMs);
    notifyArg(c, NOTIFY.STRING, "set", j);
  }
  c.server.dirty += (argc - 1) / 2;
  c.w.addInteger(1);
}

/** APPEND key value */
function appendCommand(c: Client): void {
  const argv = c.argv;
  const db = c.db;
  const id = db.lookupWriteArg(argv, 1);
  let total: number;
  if (id < 0) {
    total = stringLength(db, addValueArg(c, 1, 2));
  } else {
    if (db.typeOf(id) !== ObjType.String) return c.w.addErrorBytes(ERR.wrongType);
    const len = argv.len[2]!;
    if (stringLength(db, id) + len > c.server.config.protoMaxBulkLen) return c.w.addErrorBytes(ERR.stringTooLong);
    total = stringAppend(db, id, argv.buf, argv.start[2]!, len);
    db.modified(id);
  }
  notifyArg(c, NOTIFY.STRING, "append", 1);
  c.server.dirty++;
  c.w.addInteger(total);
}

/** SETRANGE key offset value */
function setrangeCommand(c: Client): void {
  const argv = c.argv;
  const offset = parseIntArg(c, 2);
  if (offset === null) return;
  if (offset < 0) return c.w.addErrorBytes(ERR.offsetOutOfRange);
  const db = c.db;
  const len = argv.len[3]!;
  const id = db.lookupWriteArg(argv, 1);
  if (id >= 0 && db.typeOf(id) !== ObjType.String) return c.w.addErrorBytes(ERR.wrongType);
  // Writing nothing changes nothing, whatever the offset.
  if (len === 0) return c.w.addInteger(id < 0 ? 0 : stringLength(db, id));
  if (offset + len > c.server.config.protoMaxBulkLen) return c.w.addErrorBytes(ERR.stringTooLong);
  let total: number;
  if (id < 0) {
    const bytes = new Uint8Array(offset + len);
    bytes.set(argv.buf.subarray(argv.start[3]!, argv.start[3]! + len), offset);
    setRawString(db, db.insertArg(argv, 1), bytes, 0, bytes.length);
    total = bytes.length;
  } else {
    total = stringSetRange(db, id, offset, argv.buf, argv.start[3]!, len);
    db.modified(id);
  }
  notifyArg(c, NOTIFY.STRING, "setrange", 1);
  c.server.dirty++;
  c.w.addInteger(total);
}

// ---------------------------------------------------------------------------------------
// Counters
// ---------------------------------------------------------------------------------------

function addReplyInt64(w: ReplyWriter, v: Int64): void {
  if (typeof v === "number") w.addInteger(v);
  else w.addBigInt(v);
}

/** Redis's incrDecrCommand: add `by` to the integer at key (0 when missing). */
function incrDecr(c: Client, by: Int64): void {
  const db = c.db;
  const id = db.lookupWriteArg(c.argv, 1);
  let value: Int64 | null = 0;
  if (id >= 0) {
    if (db.typeOf(id) !== ObjType.String) return c.w.addErrorBytes(ERR.wrongType);
    value = stringToInt64(db, id);
    if (value === null) return c.w.addErrorBytes(ERR.notInteger);
  }
  const result = int64Add(value, by);
  if (result === null) return c.w.addErrorBytes(ERR.overflow);
  // The value belongs to this key alone, so it takes the new value in place.
  if (id >= 0) {
    setStringInt64(db, id, result);
    db.modified(id);
  } else {
    setStringInt64(db, db.insertArg(c.argv, 1, INT64_RESERVE), result);
  }
  notifyArg(c, NOTIFY.STRING, "incrby", 1);
  c.server.dirty++;
  addReplyInt64(c.w, result);
}

/** INCR key */
function incrCommand(c: Client): void {
  incrDecr(c, 1);
}

/** DECR key */
function decrCommand(c: Client): void {
  incrDecr(c, -1);
}

/** INCRBY key increment */
function incrbyCommand(c: Client): void {
  const by = parseInt64Arg(c, 2);
  if (by !== null) incrDecr(c, by);
}

/** DECRBY key decrement */
function decrbyCommand(c: Client): void {
  const by = parseInt64Arg(c, 2);
  if (by === null) return;
  const negated = int64Negate(by);
  if (negated === null) return c.w.addErrorBytes(ERR.decrementOverflow);
  incrDecr(c, negated);
}

/** INCRBYFLOAT key increment */
function incrbyfloatCommand(c: Client): void {
  const argv = c.argv;
  const db = c.db;
  let id = db.lookupWriteArg(argv, 1);
  if (id >= 0 && db.typeOf(id) !== ObjType.String) return c.w.addErrorBytes(ERR.wrongType);
  const value = id < 0 ? LD_ZERO : stringToLongDouble(db, id);
  if (value === null) return c.w.addErrorBytes(ERR.notFloat);
  const by = parseLongDouble(argv.buf, argv.start[2]!, argv.len[2]!);
  if (by === null) return c.w.addErrorBytes(ERR.notFloat);
  const sum = longDoubleAdd(value, by);
  if (!isFiniteLongDouble(sum)) return c.w.addErrorBytes(ERR.nanOrInfinity);
  const bytes = asciiBytes(formatLongDouble(sum, true));
  // Redis's dbOverwrite: the new value keeps the key's time to live.
  if (id < 0) id = db.insertArg(argv, 1, bytes.length);
  else db.overwrite(id, true);
  setPlainString(db, id, bytes, 0, bytes.length);
  notifyArg(c, NOTIFY.STRING, "incrbyfloat", 1);
  c.server.dirty++;
  // The sum is formatted once: replay sets it rather than repeating long double arithmetic.
  if (c.server.propagation.active) c.server.propagation.replaceCommand(db.id, ["SET", argv.copy(1), bytes, "KEEPTTL"]);
  c.w.addBulk(bytes);
}

// ---------------------------------------------------------------------------------------
// LCS
// ---------------------------------------------------------------------------------------

const EMPTY_BYTES = new Uint8Array(0);
/** Redis refuses strings whose length does not fit its uint32 table cells (UINT32_MAX-1). */
const LCS_MAX_LEN = 4294967294;

/** LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN] */
function lcsCommand(c: Client): void {
  const argv = c.argv;
  const db = c.db;
  const idA = db.lookupReadArg(argv, 1);
  const idB = db.lookupReadArg(argv, 2);
  if ((idA >= 0 && db.typeOf(idA) !== ObjType.String) || (idB >= 0 && db.typeOf(idB) !== ObjType.String)) {
    return c.w.addErrorBytes(ERR.lcsNotStrings);
  }
  let getLen = false;
  let getIdx = false;
  let withMatchLen = false;
  let minMatchLen = 0;
  for (let j = 3; j < argv.count; j++) {
    if (argv.is(j, "idx")) getIdx = true;
    else if (argv.is(j, "len")) getLen = true;
    else if (argv.is(j, "withmatchlen")) withMatchLen = true;
    else if (argv.is(j, "minmatchlen") && j < argv.count - 1) {
      const v = parseInt64Arg(c, ++j);
      if (v === null) return;
      minMatchLen = v < 0 ? 0 : Number(v);
    } else return c.w.addErrorBytes(ERR.syntax);
  }
  if (getLen && getIdx) return c.w.addErrorBytes(ERR.lcsLenAndIdx);
  const a = stringOrEmpty(db, idA);
  const b = stringOrEmpty(db, idB);
  if (a.length >= LCS_MAX_LEN || b.length >= LCS_MAX_LEN) return c.w.addErrorBytes(ERR.lcsTooLong);
  const table = lcsTableOrReply(c, a, b);
  if (table === null) return;
  if (getLen) return c.w.addInteger(table[table.length - 1]!);
  if (getIdx) return addLcsMatches(c.w, table, a, b, minMatchLen, withMatchLen);
  c.w.addBulk(lcsString(table, a, b));
}

/** The bytes of a string key, or none for a missing one (LCS treats both alike). */
function stringOrEmpty(db: Db, id: number): Uint8Array {
  return id < 0 ? EMPTY_BYTES : stringBytes(db, id);
}

/**
 * The dynamic programming table: cell (i, j), at i*(b.length+1)+j, holds the LCS length of
 * a[0, i) and b[0, j). Replies and returns null when it would exceed proto-max-bulk-len
 * bytes (Redis's limit on this transient allocation) or cannot be allocated.
 */
function lcsTableOrReply(c: Client, a: Uint8Array, b: Uint8Array): Uint32Array | null {
  const cells = (a.length + 1) * (b.length + 1);
  if (cells * 4 > c.server.config.protoMaxBulkLen) {
    c.w.addErrorBytes(ERR.lcsTableTooBig);
    return null;
  }
  let table: Uint32Array;
  try {
    table = new Uint32Array(cells);
  } catch {
    c.w.addErrorBytes(ERR.lcsNoMemory);
    return null;
  }
  const width = b.length + 1;
  for (let i = 1; i <= a.length; i++) {
    const row = i * width;
    const above = row - width;
    const ai = a[i - 1];
    for (let j = 1; j <= b.length; j++) {
      if (ai === b[j - 1]) {
        table[row + j] = table[above + j - 1]! + 1;
      } else {
        const up = table[above + j]!;
        const left = table[row + j - 1]!;
        table[row + j] = up > left ? up : left;
      }
    }
  }
  return table;
}

/** The common subsequence itself, walking the table back from its last cell as Redis does. */
function lcsString(table: Uint32Array, a: Uint8Array, b: Uint8Array): Uint8Array {
  const width = b.length + 1;
  let k = table[table.length - 1]!;
  const out = new Uint8Array(k);
  let i = a.length;
  let j = b.length;
  while (i > 0 && j > 0) {
    if (a[i - 1] === b[j - 1]) {
      out[--k] = a[i - 1]!;
      i--;
      j--;
    } else if (table[(i - 1) * width + j]! > table[i * width + j - 1]!) {
      i--;
    } else {
      j--;
    }
  }
  return out;
}

/**
 * LCS IDX: a map of "matches" (ranges of a and b, last first, each optionally with its
 * length, filtered by minMatchLen) and "len". The walk is Redis's, so the ranges split
 * exactly where its do.
 */
function addLcsMatches(w: ReplyWriter, table: Uint32Array, a: Uint8Array, b: Uint8Array, minMatchLen: number, withMatchLen: boolean): void {
  const width = b.length + 1;
  w.addMapLen(2);
  w.addBulkLatin1("matches");
  const at = w.deferLen();
  let emitted = 0;
  // aStart === a.length means "no range open".
  let aStart = a.length;
  let aEnd = 0;
  let bStart = 0;
  let bEnd = 0;
  let i = a.length;
  let j = b.length;
  while (i > 0 && j > 0) {
    let emit = false;
    if (a[i - 1] === b[j - 1]) {
      if (aStart === a.length) {
        aStart = aEnd = i - 1;
        bStart = bEnd = j - 1;
      } else if (aStart === i && bStart === j) {
        // Contiguous with the open range: extend it backwards.
        aStart--;
        bStart--;
      } else {
        emit = true;
      }
      if (aStart === 0 || bStart === 0) emit = true;
      i--;
      j--;
    } else {
      if (table[(i - 1) * width + j]! > table[i * width + j - 1]!) i--;
      else j--;
      if (aStart !== a.length) emit = true;
    }
    if (emit) {
      const matchLen = aEnd - aStart + 1;
      if (minMatchLen === 0 || matchLen >= minMatchLen) {
        w.addArrayLen(withMatchLen ? 3 : 2);
        w.addArrayLen(2);
        w.addInteger(aStart);
        w.addInteger(aEnd);
        w.addArrayLen(2);
        w.addInteger(bStart);
        w.addInteger(bEnd);
        if (withMatchLen) w.addInteger(matchLen);
        emitted++;
      }
      aStart = a.length;
    }
  }
  w.setDeferredLen(at, "array", emitted);
  w.addBulkLatin1("len");
  w.addInteger(table[table.length - 1]!);
}

// ---------------------------------------------------------------------------------------
// The command table
// ---------------------------------------------------------------------------------------

const KEY = { name: "key", type: "key", key_spec_index: 0 };
/** A key argument with another name (LCS's key1 and key2 share key spec 0). */
const keyNamed = (name: string) => ({ ...KEY, name });
const VALUE = { name: "value", type: "string" };
const RO_ACCESS = [keyRange("RO access", 1)];
const RW_ACCESS_UPDATE = [keyRange("RW access update", 1)];
const OW_UPDATE = [keyRange("OW update", 1)];
const RANGE_COMPLEXITY =
  "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.";

/** INCR, DECR, INCRBY and DECRBY differ only in name, summary, argument and handler. */
function counterDef(name: string, summary: string, handler: (c: Client) => void, amount?: string): CommandDef {
  return {
    name, arity: amount === undefined ? 2 : 3, flags: "write denyoom fast", acl: "string", group: "string",
    since: "1.0.0", summary, complexity: "O(1)", keySpecs: RW_ACCESS_UPDATE,
    arguments: amount === undefined ? [KEY] : [KEY, { name: amount, type: "integer" }],
    handler,
  };
}

/** GETRANGE and its deprecated twin SUBSTR. */
function rangeDef(name: string, since: string, deprecated: boolean): CommandDef {
  const def: CommandDef = {
    name, arity: 4, flags: "readonly", acl: "string", group: "string", since,
    summary: "Get a substring of the string stored at a key", complexity: RANGE_COMPLEXITY,
    keySpecs: RO_ACCESS,
    arguments: [KEY, { name: "start", type: "integer" }, { name: "end", type: "integer" }],
    handler: getrangeCommand,
  };
  if (deprecated) {
    def.docFlags = ["deprecated"];
    def.deprecatedSince = "2.0.0";
    def.replacedBy = "`GETRANGE`";
  }
  return def;
}

const EXPIRE_TIME_ARGS = [
  { name: "seconds", type: "integer", token: "EX" },
  { name: "milliseconds", type: "integer", token: "PX" },
  { name: "unix-time-seconds", type: "unix-time", token: "EXAT" },
  { name: "unix-time-milliseconds", type: "unix-time", token: "PXAT" },
];

/**
 * SET's key function (Redis's setGetKeys): with a GET option the key is read and written
 * (RW access update), otherwise only overwritten (OW update).
 */
function setGetKeys(argv: Argv, base: number, argc: number): { pos: number; flags: string }[] {
  for (let i = 3; i < argc; i++) {
    if (argv.is(base + i, "get")) return [{ pos: 1, flags: "RW access update" }];
  }
  return [{ pos: 1, flags: "OW update" }];
}

export const stringCommands: CommandDef[] = [
  {
    name: "get", arity: 2, flags: "readonly fast", acl: "string", group: "string", since: "1.0.0",
    summary: "Get the value of a key", complexity: "O(1)", keySpecs: RO_ACCESS, arguments: [KEY],
    handler: getCommand,
  },
  {
    name: "set", arity: -3, flags: "write denyoom", acl: "string", group: "string", since: "1.0.0",
    summary: "Set the string value of a key", complexity: "O(1)", getKeys: setGetKeys,
    history: [
      ["2.6.12", "Added the `EX`, `PX`, `NX` and `XX` options."],
      ["6.0.0", "Added the `KEEPTTL` option."],
      ["6.2.0", "Added the `GET`, `EXAT` and `PXAT` option."],
      ["7.0.0", "Allowed the `NX` and `GET` options to be used together."],
    ],
    keySpecs: [{ ...keyRange("RW access update variable_flags", 1), notes: "RW and ACCESS due to the optional `GET` argument" }],
    arguments: [
      KEY,
      VALUE,
      {
        name: "condition", type: "oneof", since: "2.6.12", flags: ["optional"],
        arguments: [{ name: "nx", type: "pure-token", token: "NX" }, { name: "xx", type: "pure-token", token: "XX" }],
      },
      { name: "get", type: "pure-token", token: "GET", since: "6.2.0", flags: ["optional"] },
      {
        name: "expiration", type: "oneof", flags: ["optional"],
        arguments: [
          { ...EXPIRE_TIME_ARGS[0], since: "2.6.12" },
          { ...EXPIRE_TIME_ARGS[1], since: "2.6.12" },
          { ...EXPIRE_TIME_ARGS[2], since: "6.2.0" },
          { ...EXPIRE_TIME_ARGS[3], since: "6.2.0" },
          { name: "keepttl", type: "pure-token", token: "KEEPTTL", since: "6.0.0" },
        ],
      },
    ],
    handler: setCommand,
  },
  {
    name: "setnx", arity: 3, flags: "write denyoom fast", acl: "string", group: "string", since: "1.0.0",
    summary: "Set the value of a key, only if the key does not exist", complexity: "O(1)",
    keySpecs: [keyRange("OW insert", 1)], arguments: [KEY, VALUE],
    handler: setnxCommand,
  },
  {
    name: "setex", arity: 4, flags: "write denyoom", acl: "string", group: "string", since: "2.0.0",
    summary: "Set the value and expiration of a key", complexity: "O(1)", keySpecs: OW_UPDATE,
    arguments: [KEY, { name: "seconds", type: "integer" }, VALUE],
    handler: setexCommand,
  },
  {
    name: "psetex", arity: 4, flags: "write denyoom", acl: "string", group: "string", since: "2.6.0",
    summary: "Set the value and expiration in milliseconds of a key", complexity: "O(1)", keySpecs: OW_UPDATE,
    arguments: [KEY, { name: "milliseconds", type: "integer" }, VALUE],
    handler: psetexCommand,
  },
  {
    name: "getset", arity: 3, flags: "write denyoom fast", acl: "string", group: "string", since: "1.0.0",
    summary: "Set the string value of a key and return its old value", complexity: "O(1)",
    docFlags: ["deprecated"], deprecatedSince: "6.2.0", replacedBy: "`SET` with the `!GET` argument",
    keySpecs: RW_ACCESS_UPDATE, arguments: [KEY, VALUE],
    handler: getsetCommand,
  },
  {
    name: "getdel", arity: 2, flags: "write fast", acl: "string", group: "string", since: "6.2.0",
    summary: "Get the value of a key and delete the key", complexity: "O(1)",
    keySpecs: [keyRange("RW access delete", 1)], arguments: [KEY],
    handler: getdelCommand,
  },
  {
    name: "getex", arity: -2, flags: "write fast", acl: "string", group: "string", since: "6.2.0",
    summary: "Get the value of a key and optionally set its expiration", complexity: "O(1)",
    keySpecs: [{ ...keyRange("RW access update", 1), notes: "RW and UPDATE because it changes the TTL" }],
    arguments: [
      KEY,
      {
        name: "expiration", type: "oneof", flags: ["optional"],
        arguments: [...EXPIRE_TIME_ARGS, { name: "persist", type: "pure-token", token: "PERSIST" }],
      },
    ],
    handler: getexCommand,
  },
  {
    name: "mget", arity: -2, flags: "readonly fast", acl: "string", group: "string", since: "1.0.0",
    summary: "Get the values of all the given keys", complexity: "O(N) where N is the number of keys to retrieve.",
    tips: ["request_policy:multi_shard"],
    keySpecs: [keyRange("RO access", 1, -1)],
    arguments: [{ ...KEY, flags: ["multiple"] }],
    handler: mgetCommand,
  },
  {
    name: "mset", arity: -3, flags: "write denyoom", acl: "string", group: "string", since: "1.0.1",
    summary: "Set multiple keys to multiple values", complexity: "O(N) where N is the number of keys to set.",
    tips: ["request_policy:multi_shard", "response_policy:all_succeeded"],
    keySpecs: [keyRange("OW update", 1, -1, 2)],
    arguments: [{ name: "key_value", type: "block", flags: ["multiple"], arguments: [KEY, VALUE] }],
    handler: msetCommand,
  },
  {
    name: "msetnx", arity: -3, flags: "write denyoom", acl: "string", group: "string", since: "1.0.1",
    summary: "Set multiple keys to multiple values, only if none of the keys exist",
    complexity: "O(N) where N is the number of keys to set.",
    tips: ["request_policy:multi_shard", "response_policy:agg_min"],
    keySpecs: [keyRange("OW insert", 1, -1, 2)],
    arguments: [{ name: "key_value", type: "block", flags: ["multiple"], arguments: [KEY, VALUE] }],
    handler: msetnxCommand,
  },
  {
    name: "append", arity: 3, flags: "write denyoom fast", acl: "string", group: "string", since: "2.0.0",
    summary: "Append a value to a key",
    complexity:
      "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.",
    keySpecs: [keyRange("RW insert", 1)], arguments: [KEY, VALUE],
    handler: appendCommand,
  },
  {
    name: "strlen", arity: 2, flags: "readonly fast", acl: "string", group: "string", since: "2.2.0",
    summary: "Get the length of the value stored in a key", complexity: "O(1)",
    keySpecs: [keyRange("RO", 1)], arguments: [KEY],
    handler: strlenCommand,
  },
  rangeDef("getrange", "2.4.0", false),
  {
    name: "setrange", arity: 4, flags: "write denyoom", acl: "string", group: "string", since: "2.2.0",
    summary: "Overwrite part of a string at key starting at the specified offset",
    complexity:
      "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.",
    keySpecs: [keyRange("RW update", 1)],
    arguments: [KEY, { name: "offset", type: "integer" }, VALUE],
    handler: setrangeCommand,
  },
  rangeDef("substr", "1.0.0", true),
  counterDef("incr", "Increment the integer value of a key by one", incrCommand),
  counterDef("decr", "Decrement the integer value of a key by one", decrCommand),
  counterDef("incrby", "Increment the integer value of a key by the given amount", incrbyCommand, "increment"),
  counterDef("decrby", "Decrement the integer value of a key by the given number", decrbyCommand, "decrement"),
  {
    name: "incrbyfloat", arity: 3, flags: "write denyoom fast", acl: "string", group: "string", since: "2.6.0",
    summary: "Increment the float value of a key by the given amount", complexity: "O(1)",
    keySpecs: RW_ACCESS_UPDATE, arguments: [KEY, { name: "increment", type: "double" }],
    handler: incrbyfloatCommand,
  },
  {
    name: "lcs", arity: -3, flags: "readonly", acl: "string", group: "string", since: "7.0.0",
    summary: "Find longest common substring", complexity: "O(N*M) where N and M are the lengths of s1 and s2, respectively",
    keySpecs: [keyRange("RO access", 1, 1)],
    arguments: [
      keyNamed("key1"),
      keyNamed("key2"),
      { name: "len", type: "pure-token", token: "LEN", flags: ["optional"] },
      { name: "idx", type: "pure-token", token: "IDX", flags: ["optional"] },
      { name: "len", type: "integer", token: "MINMATCHLEN", flags: ["optional"] },
      { name: "withmatchlen", type: "pure-token", token: "WITHMATCHLEN", flags: ["optional"] },
    ],
    handler: lcsCommand,
  },
];
