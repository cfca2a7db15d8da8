// The conversions between Lua values and replies (Redis's script_lua.c): a script's result
// into a reply (luaReplyToRedisReply), and a command's reply into the Lua value redis.call
// returns (redisProtocolToLuaType).

import { lua, to_luastring, type LuaState } from "fengari";
import type { ReplyWriter } from "../resp/writer.ts";

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

// ---------------------------------------------------------------------------------------
// Lua -> RESP (Redis's luaReplyToRedisReply)
// ---------------------------------------------------------------------------------------

/**
 * The tables being written as arrays, innermost last: where each one's length goes and the
 * next index to read. Shared: a reply is written by one script at a time, start to end.
 */
const writeAt: number[] = [];
const writeNext: number[] = [];

/**
 * Write the value on top of the stack as a reply, without popping it: numbers truncate to
 * integers, true is 1, false and nil are nil, {err=} and {ok=} are error and status replies,
 * and any other table is an array up to its first nil. Nested tables are walked with an
 * explicit stack of frames, each frame's table kept on the Lua stack.
 */
export function writeLuaReply(L: LuaState, keys: KeyRefs, w: ReplyWriter): void {
  writeAt.length = 0;
  writeNext.length = 0;
  lua.lua_pushvalue(L, -1);
  for (;;) {
    if (writeValue(L, keys, w)) {
      writeAt.push(w.deferLen());
      writeNext.push(1);
    } else {
      lua.lua_pop(L, 1);
    }
    // Move to the next element of the innermost open table, closing finished ones.
    for (;;) {
      const top = writeAt.length - 1;
      if (top < 0) return;
      const next = writeNext[top]!;
      if (lua.lua_rawgeti(L, -1, next) !== lua.LUA_TNIL) {
        writeNext[top] = next + 1;
        if (!lua.lua_checkstack(L, 4)) throw new Error("reply nesting too deep");
        break;
      }
      lua.lua_pop(L, 2);
      w.setDeferredLen(writeAt.pop()!, "array", next - 1);
      writeNext.pop();
    }
  }
}

/** Write a scalar (or an ok/err table) on top; true when it is a table to write as an array. */
function writeValue(L: LuaState, keys: KeyRefs, w: ReplyWriter): boolean {
  switch (lua.lua_type(L, -1)) {
    case lua.LUA_TNUMBER:
      w.addInteger(lua.lua_isinteger(L, -1) ? lua.lua_tointeger(L, -1) : Math.trunc(lua.lua_tonumber(L, -1)));
      return false;
    case lua.LUA_TSTRING:
      w.addBulk(lua.lua_tolstring(L, -1));
      return false;
    case lua.LUA_TBOOLEAN:
      if (lua.lua_toboolean(L, -1)) w.addInteger(1);
      else w.addNull();
      return false;
    case lua.LUA_TTABLE:
      return !writeStatusTable(L, keys, w);
    default:
      w.addNull();
      return false;
  }
}

/** A table with a string err or ok field is an error or status reply (err first, as Redis checks). */
function writeStatusTable(L: LuaState, keys: KeyRefs, w: ReplyWriter): boolean {
  if (fieldType(L, keys.err) === lua.LUA_TSTRING) {
    w.addError(latin1Of(lua.lua_tolstring(L, -1)));
    lua.lua_pop(L, 1);
    return true;
  }
  lua.lua_pop(L, 1);
  if (fieldType(L, keys.ok) === lua.LUA_TSTRING) {
    // A status line cannot hold CR or LF: Redis replaces them with spaces.
    w.addSimple(latin1Of(lua.lua_tolstring(L, -1)).replace(/[\r\n]/g, " "));
    lua.lua_pop(L, 1);
    return true;
  }
  lua.lua_pop(L, 1);
  return false;
}

// ---------------------------------------------------------------------------------------
// RESP2 -> Lua (Redis's redisProtocolToLuaType)
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

/**
 * The arrays being filled, innermost last: elements still to read and the next index to
 * store at. Shared: one reply is converted at a time, start to end.
 */
const fillLeft: number[] = [];
const fillNext: number[] = [];

/**
 * Push one RESP2 reply, buf[pos..end), as a Lua value: integer -> number, bulk -> string,
 * nil -> false, array -> table, status -> {ok=}, error -> {err=}. lua_pushlstring copies
 * the bytes, so views of the reply buffer (reused by the next command) are enough. Returns whether the reply was an error.
 */
export function pushRespReply(L: LuaState, keys: KeyRefs, buf: Uint8Array, pos: number): boolean {
  fillLeft.length = 0;
  fillNext.length = 0;
  const isError = buf[pos] === 45; // '-'
  for (;;) {
    if (!lua.lua_checkstack(L, 4)) throw new Error("reply nesting too deep");
    const type = buf[pos]!;
    const lineStart = pos + 1;
    pos = lineEnd(buf, lineStart);
    if (type === 42 /* '*' */) {
      const n = headerNumber(buf, lineStart);
      if (n < 0) lua.lua_pushboolean(L, false);
      else {
        lua.lua_createtable(L, n, 0);
        if (n > 0) {
          fillLeft.push(n);
          fillNext.push(1);
          continue;
        }
      }
    } else if (type === 36 /* '$' */) {
      const n = headerNumber(buf, lineStart);
      if (n < 0) lua.lua_pushboolean(L, false);
      else {
        lua.lua_pushlstring(L, buf.subarray(pos, pos + n), n);
        pos += n + 2;
      }
    } else if (type === 58 /* ':' */) {
      // fengari's integers are 32 bits: larger replies become floats, exact up to 2^53.
      const n = headerNumber(buf, lineStart);
      if ((n | 0) === n) lua.lua_pushinteger(L, n);
      else lua.lua_pushnumber(L, n);
    } else {
      // '+' status or '-' error: a table with the line as its one field.
      lua.lua_createtable(L, 0, 1);
      pushKey(L, type === 45 ? keys.err : keys.ok);
      lua.lua_pushlstring(L, buf.subarray(lineStart, pos - 2), pos - 2 - lineStart);
      lua.lua_rawset(L, -3);
    }
    // The value is complete: store it in the open array, closing arrays that are full.
    for (;;) {
      const top = fillLeft.length - 1;
      if (top < 0) return isError;
      lua.lua_rawseti(L, -2, fillNext[top]!++);
      if (--fillLeft[top]! > 0) break;
      fillLeft.pop();
      fillNext.pop();
    }
  }
}
