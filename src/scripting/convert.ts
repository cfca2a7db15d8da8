// The conversions between Lua values and replies (Redis's script_lua.c): a script's result
// into a reply (luaReplyToRedisReply), and a command's reply into the Lua value redis.call
// returns (redisProtocolToLuaType).

import { lauxlib, lua, to_luastring, type LuaState } from "fengari";
import { OK, type ReplyWriter } from "../resp/writer.ts";
import { hasStackRoom } from "./libs/luaargs.ts";
import { luaNumberToReplyInteger, withNaNSign } from "./printf.ts";

/**
 * Registry references of the strings used as table keys on every call. A Lua string
 * caches its hash, which fengari computes by building a JS string of its bytes: pushing
 * the same string each time hashes once, pushing a fresh copy hashes every time.
 */
export interface KeyRefs {
  readonly ok: number;
  readonly err: number;
  readonly keys: number;
  readonly argv: number;
}

export function pushKey(L: LuaState, ref: number): void {
  lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, ref);
}
/** The type of the field of the table on top named by the string `ref`, leaving the field's value pushed. */
export function fieldType(L: LuaState, ref: number): number {
  pushKey(L, ref);
  return lua.lua_rawget(L, -2);
}

export function latin1Of(bytes: Uint8Array): string {
  return Buffer.prototype.latin1Slice.call(bytes, 0, bytes.length);
}

export function latin1Bytes(s: string): Uint8Array {
  return Buffer.from(s, "latin1");
}

/**
 * Registry references of the RESP3 type names scripts and replies use as table fields,
 * made once per Lua state (the state's KeyRefs stand for it).
 */
interface TypeFieldRefs {
  readonly double: number;
  readonly bigNumber: number;
  readonly verbatim: number;
  readonly map: number;
  readonly set: number;
  readonly format: number;
  readonly string: number;
  readonly ignoreErrorStats: number;
}

const typeFieldsOf = new WeakMap<KeyRefs, TypeFieldRefs>();
let lastKeys: KeyRefs | null = null;
let lastFields: TypeFieldRefs | null = null;

function typeFields(L: LuaState, keys: KeyRefs): TypeFieldRefs {
  if (keys === lastKeys) return lastFields!;
  let fields = typeFieldsOf.get(keys);
  if (fields === undefined) {
    const ref = (name: string): number => {
      lua.lua_pushstring(L, to_luastring(name));
      return lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    };
    fields = {
      double: ref("double"),
      bigNumber: ref("big_number"),
      verbatim: ref("verbatim_string"),
      map: ref("map"),
      set: ref("set"),
      format: ref("format"),
      string: ref("string"),
      ignoreErrorStats: ref("ignore_error_stats_update"),
    };
    typeFieldsOf.set(keys, fields);
  }
  lastKeys = keys;
  lastFields = fields;
  return fields;
}

/** The parts of fengari's state and tables (0.1.5 as redbun's patch makes it) hasNoFields reads. */
interface FengariState {
  readonly stack: { readonly value: unknown }[];
  readonly top: number;
}
interface FengariTable {
  /** True while the table's hash part is Lua 5.1's shared empty node (undefined in another layout). */
  readonly dummy: boolean | undefined;
}

/**
 * True when the table on top has no hash part, so no field named err, ok, map ...: an
 * array, known without the seven lookups through the API that every other table a script
 * returns gets (read from fengari's table, which keeps Lua 5.1's layout).
 */
function hasNoFields(L: LuaState): boolean {
  const state = L as unknown as FengariState;
  return (state.stack[state.top - 1]!.value as FengariTable).dummy === true;
}

/** A C string's bytes: what Redis reads with lua_tostring (no length) ends at the first NUL. */
export function cString(bytes: Uint8Array): Uint8Array {
  const nul = bytes.indexOf(0);
  return nul < 0 ? bytes : bytes.subarray(0, nul);
}

function cStringOf(bytes: Uint8Array): string {
  return latin1Of(cString(bytes));
}

/** A status line's text: a C string, CR and LF replaced with spaces (most have neither: no copy). */
function statusText(bytes: Uint8Array): string {
  const text = cStringOf(bytes);
  return bytes.indexOf(13) < 0 && bytes.indexOf(10) < 0 ? text : text.replace(/[\r\n]/g, " ");
}

// ---------------------------------------------------------------------------------------
// Lua -> RESP (Redis's luaReplyToRedisReply)
// ---------------------------------------------------------------------------------------

/** The value was written and popped. */
const SCALAR = 0;
/** A table written as an array, kept on the stack: elements 1, 2 ... up to the first nil. */
const ARRAY = 1;
/** A {map=t} table: it, t and the key lua_next goes on from are on the stack (as many slots as Redis holds). */
const MAP = 2;
/** A map whose next value sits on top of its key, to be written next. */
const MAP_VALUE = 3;
/** A {set=t} table: t's keys are the members, iterated as a map's. */
const SET = 4;

/** Written in place of a value nested past Lua 5.1's stack limit. */
const STACK_LIMIT = "ERR reached lua stack limit";

/**
 * The aggregates being written, innermost last: their kind, where their length goes and how
 * many elements they have so far. Shared: a reply is written by one script at a time, start
 * to end.
 */
const writeKind: number[] = [];
const writeAt: number[] = [];
const writeCount: number[] = [];
/** Error replies the reply being written holds that their commands counted already. */
let uncountedErrors = 0;

/**
 * Write the value on top of the stack as a reply, without popping it: numbers truncate to
 * integers, true is 1, false is nil (with redis.setresp(3) both are booleans), {err=} and
 * {ok=} are error and status replies, {double=}, {big_number=}, {verbatim_string=},
 * {map=} and {set=} the RESP3 types (written in the caller's protocol), and any other table
 * is an array up to its first nil. Nested tables are walked with an explicit stack of
 * frames, each frame's table kept on the Lua stack.
 *
 * Returns how many errors it wrote without error statistics: those of tables marked
 * ignore_error_stats_update (what redis.pcall returns: its command counted the error), which
 * Redis counts as failed calls of the script's command instead.
 */
export function writeLuaReply(L: LuaState, keys: KeyRefs, w: ReplyWriter, scriptResp: 2 | 3): number {
  const fields = typeFields(L, keys);
  uncountedErrors = 0;
  writeKind.length = 0;
  writeAt.length = 0;
  writeCount.length = 0;
  lua.lua_pushvalue(L, -1);
  do {
    // Redis's Lua refuses to grow the stack past 8000 slots: a value nested that deep (a
    // table that holds itself) is written as this error, and the reply goes on.
    if (!hasStackRoom(L, 4)) {
      w.addError(STACK_LIMIT);
      lua.lua_pop(L, 1);
      continue;
    }
    const kind = writeValue(L, keys, fields, w, scriptResp);
    if (kind !== SCALAR) {
      writeKind.push(kind);
      writeAt.push(w.deferLen());
      writeCount.push(0);
      if (kind !== ARRAY) lua.lua_pushnil(L);
    }
  } while (nextToWrite(L, w));
  return uncountedErrors;
}

/**
 * Push the next element of the innermost open aggregate, closing finished ones; false once
 * the outermost is closed.
 */
function nextToWrite(L: LuaState, w: ReplyWriter): boolean {
  for (;;) {
    const top = writeKind.length - 1;
    if (top < 0) return false;
    switch (writeKind[top]) {
      case ARRAY: {
        const next = writeCount[top]! + 1;
        if (lua.lua_rawgeti(L, -1, next) !== lua.LUA_TNIL) {
          writeCount[top] = next;
          return true;
        }
        lua.lua_pop(L, 2);
        w.setDeferredLen(writeAt.pop()!, "array", next - 1);
        break;
      }
      case MAP_VALUE:
        writeKind[top] = MAP;
        return true;
      case MAP:
        // Stack: {map=t}, t, key. Then t, key, value and a copy of the key, written first.
        if (lua.lua_next(L, -2) !== 0) {
          lua.lua_pushvalue(L, -2);
          writeKind[top] = MAP_VALUE;
          writeCount[top]!++;
          return true;
        }
        lua.lua_pop(L, 2);
        w.setDeferredLen(writeAt.pop()!, "map", writeCount[top]!);
        break;
      default:
        // SET. Stack: {set=t}, t, key. Then t, key and a copy of the key (the value is dropped).
        if (lua.lua_next(L, -2) !== 0) {
          lua.lua_pop(L, 1);
          lua.lua_pushvalue(L, -1);
          writeCount[top]!++;
          return true;
        }
        lua.lua_pop(L, 2);
        w.setDeferredLen(writeAt.pop()!, "set", writeCount[top]!);
    }
    writeKind.pop();
    writeCount.pop();
  }
}

/** Write the value on top and pop it (SCALAR), or leave the table to write as an aggregate of the kind returned. */
function writeValue(L: LuaState, keys: KeyRefs, fields: TypeFieldRefs, w: ReplyWriter, scriptResp: 2 | 3): number {
  switch (lua.lua_type(L, -1)) {
    case lua.LUA_TNUMBER: {
      const n = luaNumberToReplyInteger(lua.lua_tonumber(L, -1));
      if (typeof n === "number") w.addInteger(n);
      else w.addBigInt(n);
      break;
    }
    case lua.LUA_TSTRING:
      w.addBulk(lua.lua_tolstring(L, -1));
      break;
    case lua.LUA_TBOOLEAN:
      // A RESP2 script's false is the caller's null, as it always was; a RESP3 script's booleans are booleans.
      if (scriptResp === 3) w.addBool(lua.lua_toboolean(L, -1));
      else if (lua.lua_toboolean(L, -1)) w.addInteger(1);
      else w.addNull();
      break;
    case lua.LUA_TTABLE:
      return writeTable(L, keys, fields, w);
    default:
      w.addNull();
  }
  lua.lua_pop(L, 1);
  return SCALAR;
}

/**
 * A table: the first of err, ok, double, big_number, verbatim_string, map, set it has with
 * the right type decides what it is (Redis's order), else it is an array. Scalars are
 * written and the table popped; for map and set the inner table is pushed above it.
 */
function writeTable(L: LuaState, keys: KeyRefs, fields: TypeFieldRefs, w: ReplyWriter): number {
  if (hasNoFields(L)) return ARRAY;
  if (hasField(L, keys.err, lua.LUA_TSTRING)) {
    writeErrorTable(L, fields, w);
    return SCALAR;
  }
  if (hasField(L, keys.ok, lua.LUA_TSTRING)) {
    // A status line cannot hold CR or LF: Redis replaces them with spaces.
    const status = lua.lua_tolstring(L, -1);
    // "OK" (what a script returning redis.call('SET', ...) answers) goes out pre-encoded.
    if (status.length === 2 && status[0] === 79 && status[1] === 75) w.addRaw(OK);
    else w.addSimple(statusText(status));
  } else if (hasField(L, fields.double, lua.LUA_TNUMBER)) {
    writeDouble(w, lua.lua_tonumber(L, -1));
  } else if (hasField(L, fields.bigNumber, lua.LUA_TSTRING)) {
    w.addBigNumber(latin1Of(lua.lua_tolstring(L, -1)).replace(/[\r\n]/g, " "));
  } else if (!writtenVerbatim(L, fields, w)) {
    if (hasField(L, fields.map, lua.LUA_TTABLE)) return MAP;
    if (hasField(L, fields.set, lua.LUA_TTABLE)) return SET;
    return ARRAY;
  }
  lua.lua_pop(L, 2);
  return SCALAR;
}

/** True, with the field's value pushed, when the table on top has the field named by `ref` with a value of type `type`; else nothing pushed. */
function hasField(L: LuaState, ref: number, type: number): boolean {
  if (fieldType(L, ref) === type) return true;
  lua.lua_pop(L, 1);
  return false;
}

/** An {err=} table, its err field pushed above it: the error reply; both popped. */
function writeErrorTable(L: LuaState, fields: TypeFieldRefs, w: ReplyWriter): void {
  // Redis drops the CRs and LFs that end the message; those inside become spaces.
  const message = cStringOf(lua.lua_tolstring(L, -1)).replace(/[\r\n]+$/, "");
  lua.lua_pop(L, 1);
  if (isUncountedError(L, fields)) {
    addUncountedError(w, message);
    uncountedErrors++;
  } else {
    w.addError(message);
  }
  lua.lua_pop(L, 1);
}

/** The value on top is an error table whose command counted it already (a script's error raised from redis.call). */
export function countedAlready(L: LuaState, keys: KeyRefs): boolean {
  return lua.lua_type(L, -1) === lua.LUA_TTABLE && isUncountedError(L, typeFields(L, keys));
}

/** The error table on top says its command counted it already (ignore_error_stats_update true). */
function isUncountedError(L: LuaState, fields: TypeFieldRefs): boolean {
  if (!hasField(L, fields.ignoreErrorStats, lua.LUA_TBOOLEAN)) return false;
  const ignore = lua.lua_toboolean(L, -1);
  lua.lua_pop(L, 1);
  return ignore;
}

/** An error reply left out of the error statistics (Redis's ERR_REPLY_FLAG_NO_STATS_UPDATE). */
export function addUncountedError(w: ReplyWriter, message: string): void {
  const countError = w.onError;
  w.onError = null;
  w.addError(message);
  w.onError = countError;
}

/** A {verbatim_string=} table written (its field left pushed), or false with nothing pushed. */
function writtenVerbatim(L: LuaState, fields: TypeFieldRefs, w: ReplyWriter): boolean {
  if (!hasField(L, fields.verbatim, lua.LUA_TTABLE)) return false;
  if (writeVerbatim(L, fields, w)) return true;
  lua.lua_pop(L, 1);
  return false;
}

const NEGATIVE_NAN2 = latin1Bytes("$4\r\n-nan\r\n");
const NEGATIVE_NAN3 = latin1Bytes(",-nan\r\n");
const nanValue = new Float64Array(1);
const nanBytes = new Uint8Array(nanValue.buffer);

/**
 * {double=n}: Redis prints it with "%.17g", which prints a NaN with its sign bit set (x86's
 * 0/0) as "-nan". JavaScriptCore keeps a NaN's sign, so it is read from the bits.
 */
function writeDouble(w: ReplyWriter, n: number): void {
  if (n !== n) {
    nanValue[0] = n;
    if (nanBytes[7]! >= 0x80) return w.addRaw(w.resp === 3 ? NEGATIVE_NAN3 : NEGATIVE_NAN2);
  }
  w.addDouble(n);
}

/**
 * {verbatim_string={format=, string=}} with both fields strings: a verbatim string in RESP3
 * (the format's first three characters, padded with spaces), a bulk string in RESP2.
 * False (nothing written) when a field is missing, and the table is an array after all.
 */
function writeVerbatim(L: LuaState, fields: TypeFieldRefs, w: ReplyWriter): boolean {
  if (fieldType(L, fields.format) !== lua.LUA_TSTRING) {
    lua.lua_pop(L, 1);
    return false;
  }
  const format = cStringOf(lua.lua_tolstring(L, -1)).slice(0, 3).padEnd(3, " ");
  lua.lua_pop(L, 1);
  if (fieldType(L, fields.string) !== lua.LUA_TSTRING) {
    lua.lua_pop(L, 1);
    return false;
  }
  const text = lua.lua_tolstring(L, -1);
  lua.lua_pop(L, 1);
  if (w.resp === 3) {
    w.addRaw(latin1Bytes(`=${text.length + 4}\r\n${format}:`));
    w.addRaw(text);
    w.addRaw(CRLF);
  } else {
    w.addBulk(text);
  }
  return true;
}

const CRLF = latin1Bytes("\r\n");

// ---------------------------------------------------------------------------------------
// RESP -> Lua (Redis's redisProtocolToLuaType)
// ---------------------------------------------------------------------------------------

/** Read the decimal number of a RESP header starting at `pos` (after the type byte). */
function headerNumber(buf: Uint8Array, pos: number): number {
  let negative = false;
  if (buf[pos] === 45 /* '-' */) {
    negative = true;
    pos++;
  }
  let n = 0;
  for (; buf[pos] !== 13; pos++) n = n * 10 + (buf[pos]! - 48);
  return negative ? -n : n;
}

/** The offset just past the CRLF that ends the line starting at `pos`. */
function lineEnd(buf: Uint8Array, pos: number): number {
  while (buf[pos] !== 13) pos++;
  return pos + 2;
}

/** The offset just past `count` whole replies starting at `pos` (what an attribute annotates with). */
function skipReplies(buf: Uint8Array, pos: number, count: number): number {
  for (let pending = count; pending > 0; pending--) {
    const type = buf[pos]!;
    const lineStart = pos + 1;
    pos = lineEnd(buf, lineStart);
    const n = headerNumber(buf, lineStart);
    if (type === 36 /* '$' */ || type === 61 /* '=' */ || type === 33 /* '!' */) {
      if (n >= 0) pos += n + 2;
    } else if (type === 42 /* '*' */ || type === 126 /* '~' */ || type === 62 /* '>' */) {
      if (n > 0) pending += n;
    } else if (type === 37 /* '%' */ || type === 124 /* '|' */) {
      pending += 2 * n;
    }
  }
  return pos;
}

/** An integer reply as Redis pushes it: the long long as a double (correctly rounded past 2^53). */
function integerValue(buf: Uint8Array, lineStart: number, lineStop: number): number {
  if (lineStop - lineStart <= 16) return headerNumber(buf, lineStart);
  return Number(latin1Of(buf.subarray(lineStart, lineStop)));
}

/** A RESP3 double's text as strtod reads it: "inf", "-inf", "nan" and "-nan" included. */
function doubleValue(text: string): number {
  if (text === "inf") return Infinity;
  if (text === "-inf") return -Infinity;
  const n = Number(text);
  return n === n ? n : withNaNSign(NaN, text.startsWith("-"));
}

/**
 * The aggregates being filled, innermost last: their kind (ARRAY, MAP, SET), the elements
 * still to read (a map counts keys and values) and, for arrays, the next index to store at.
 * Shared: one reply is converted at a time, start to end.
 */
const fillKind: number[] = [];
const fillLeft: number[] = [];
const fillNext: number[] = [];

/**
 * Push one reply, buf[pos..end), as a Lua value. RESP2: integer -> number, bulk -> string,
 * nil -> false, array -> table, status -> {ok=}, error -> {err=, ignore_error_stats_update=
 * true}. RESP3 (a script that called redis.setresp(3)): map -> {map={k=v}}, set ->
 * {set={member=true}}, double -> {double=n}, big number -> {big_number="digits"},
 * verbatim -> {verbatim_string={format=, string=}}, boolean -> true/false, null -> nil;
 * attributes are skipped. lua_pushlstring
 * copies the bytes, so views of the reply buffer (reused by the next command) are enough.
 * Returns whether the reply was an error.
 */
export function pushRespReply(L: LuaState, keys: KeyRefs, buf: Uint8Array, pos: number): boolean {
  fillKind.length = 0;
  fillLeft.length = 0;
  fillNext.length = 0;
  const isError = buf[pos] === 45; // '-'
  let fields: TypeFieldRefs | null = null;
  for (;;) {
    if (!lua.lua_checkstack(L, 6)) throw new Error("reply nesting too deep");
    const type = buf[pos]!;
    const lineStart = pos + 1;
    pos = lineEnd(buf, lineStart);
    const lineStop = pos - 2;
    switch (type) {
      case 42 /* '*' */:
      case 62 /* '>' */: {
        const n = headerNumber(buf, lineStart);
        if (n < 0) {
          lua.lua_pushboolean(L, false);
          break;
        }
        lua.lua_createtable(L, n, 0);
        if (n === 0) break;
        openFill(ARRAY, n);
        continue;
      }
      case 36 /* '$' */: {
        const n = headerNumber(buf, lineStart);
        if (n < 0) lua.lua_pushboolean(L, false);
        else {
          lua.lua_pushbytes(L, buf, pos, pos + n);
          pos += n + 2;
        }
        break;
      }
      case 58 /* ':' */: {
        // fengari's integers are 32 bits: larger replies become floats, exact up to 2^53.
        const n = integerValue(buf, lineStart, lineStop);
        if ((n | 0) === n) lua.lua_pushinteger(L, n);
        else lua.lua_pushnumber(L, n);
        break;
      }
      case 43 /* '+' */:
        lua.lua_createtable(L, 0, 1);
        pushKey(L, keys.ok);
        lua.lua_pushbytes(L, buf, lineStart, lineStop);
        lua.lua_rawset(L, -3);
        break;
      case 45 /* '-' */:
        // {err=line, ignore_error_stats_update=true}: the command counted its error already,
        // which Redis marks so that the error returned as the script's reply is not counted again.
        fields ??= typeFields(L, keys);
        lua.lua_createtable(L, 0, 2);
        pushKey(L, keys.err);
        lua.lua_pushbytes(L, buf, lineStart, lineStop);
        lua.lua_rawset(L, -3);
        pushKey(L, fields.ignoreErrorStats);
        lua.lua_pushboolean(L, true);
        lua.lua_rawset(L, -3);
        break;
      case 124 /* '|' */:
        // An attribute: its pairs are skipped, the reply after it is the value.
        pos = skipReplies(buf, pos, 2 * headerNumber(buf, lineStart));
        continue;
      default: {
        fields ??= typeFields(L, keys);
        const complete = pushResp3(L, fields, buf, type, lineStart, lineStop, pos);
        // A verbatim string's text follows its line.
        if (type === 61 /* '=' */) pos += headerNumber(buf, lineStart) + 2;
        if (!complete) continue;
      }
    }
    if (storeFilled(L)) return isError;
  }
}

function openFill(kind: number, left: number): void {
  fillKind.push(kind);
  fillLeft.push(left);
  fillNext.push(1);
}

/**
 * Store the value just pushed into the open aggregate, closing the ones it completes; true
 * once the outermost value is complete. Stacks: array: table; map: wrapper, "map", map
 * (and a key waiting for its value); set: wrapper, "set", set.
 */
function storeFilled(L: LuaState): boolean {
  for (;;) {
    const top = fillKind.length - 1;
    if (top < 0) return true;
    const kind = fillKind[top]!;
    const left = --fillLeft[top]!;
    if (kind === ARRAY) lua.lua_rawseti(L, -2, fillNext[top]!++);
    else if (kind === SET) {
      lua.lua_pushboolean(L, true);
      lua.lua_rawset(L, -3);
    } else if (left % 2 === 0) lua.lua_rawset(L, -3); // a value: store it under the key below it
    if (left > 0) return false;
    fillKind.pop();
    fillLeft.pop();
    fillNext.pop();
    // The finished map or set goes into its wrapper, which is the completed value.
    if (kind !== ARRAY) lua.lua_rawset(L, -3);
  }
}

/**
 * Push a RESP3 value (type byte `type`, its line at [lineStart, lineStop), the bytes after
 * the line from `after`). True when the value is complete; false when it opened a map or
 * set whose elements follow.
 */
function pushResp3(L: LuaState, fields: TypeFieldRefs, buf: Uint8Array, type: number, lineStart: number, lineStop: number, after: number): boolean {
  switch (type) {
    case 37 /* '%' */:
    case 126 /* '~' */: {
      const n = headerNumber(buf, lineStart);
      lua.lua_createtable(L, 0, 1);
      pushKey(L, type === 37 ? fields.map : fields.set);
      lua.lua_createtable(L, 0, n);
      if (n === 0) {
        lua.lua_rawset(L, -3);
        return true;
      }
      openFill(type === 37 ? MAP : SET, type === 37 ? 2 * n : n);
      return false;
    }
    case 44 /* ',' */:
      pushField(L, fields.double);
      lua.lua_pushnumber(L, doubleValue(latin1Of(buf.subarray(lineStart, lineStop))));
      lua.lua_rawset(L, -3);
      return true;
    case 40 /* '(' */:
      pushField(L, fields.bigNumber);
      lua.lua_pushbytes(L, buf, lineStart, lineStop);
      lua.lua_rawset(L, -3);
      return true;
    case 61 /* '=' */: {
      // "=len\r\nfmt:text\r\n": the three-byte format, a colon, then the text.
      const n = headerNumber(buf, lineStart);
      pushField(L, fields.verbatim);
      lua.lua_createtable(L, 0, 2);
      pushKey(L, fields.string);
      lua.lua_pushbytes(L, buf, after + 4, after + n);
      lua.lua_rawset(L, -3);
      pushKey(L, fields.format);
      lua.lua_pushbytes(L, buf, after, after + 3);
      lua.lua_rawset(L, -3);
      lua.lua_rawset(L, -3);
      return true;
    }
    case 35 /* '#' */:
      lua.lua_pushboolean(L, buf[lineStart] === 116 /* 't' */);
      return true;
    default:
      // '_' null.
      lua.lua_pushnil(L);
      return true;
  }
}

/** A one-field table {name=...} under construction: the table and its field's name pushed. */
function pushField(L: LuaState, ref: number): void {
  lua.lua_createtable(L, 0, 1);
  pushKey(L, ref);
}
