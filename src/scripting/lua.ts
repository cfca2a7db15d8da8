// The Lua VM behind EVAL (Redis's script_lua.c / eval.c): one fengari state per server,
// scripts compiled once and kept by the SHA1 of their body, a sandbox close to the globals
// Redis 7.0 offers, and the conversions between Lua values and RESP2 replies.
//
// fengari is Lua 5.3 written in JavaScript: a call into Lua and back is a plain JS call, and
// a Lua string is a Uint8Array of bytes, so values cross the boundary binary safe without
// any marshalling. docs/scripting.md records why it was chosen and what it costs.

import { lauxlib, lua, lualib, to_luastring, type LuaDebug, type LuaState } from "fengari";
import type { ReplyWriter } from "../resp/writer.ts";

const OK_FIELD = to_luastring("ok");
const ERR_FIELD = to_luastring("err");

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

function pushKey(L: LuaState, ref: number): void {
  lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, ref);
}
const CHUNK_NAME = to_luastring("@user_script");
const WHERE_INFO = to_luastring("Sl");
/** ASCII 'J': lua_Debug.what of a host (JS) function in fengari, where C Lua says "C". */
const WHAT_HOST = 74;

/**
 * Lua 5.1 names scripts written for Redis use, the libraries Redis does not load removed,
 * and the global table made read-only as Redis 7.0 makes it (reading an unset global is an
 * error too). KEYS and ARGV are set with rawset, below the guard.
 */
const SANDBOX = `
unpack = table.unpack
loadstring = function(s, name) return load(s, name, "t") end
io, os, package, require, dofile, loadfile, utf8 = nil, nil, nil, nil, nil, nil, nil
`;

/** The host side of redis.call and redis.pcall: runs the command on the Lua stack, pushes its reply. */
export type RedisCallHook = (L: LuaState, raise: boolean) => number;

/** The outcome of running a script: its reply is written, or the error text to reply. */
export type RunResult = null | string;

/** Instructions a script runs between two looks at the clock. */
const HOOK_INSTRUCTIONS = 100_000;
/**
 * Redis answers BUSY to other clients once a script runs past busy-reply-threshold and
 * waits for SCRIPT KILL; redbun cannot serve anyone while a script holds the event loop,
 * so it stops the script there instead of hanging for good.
 */
const SCRIPT_TIMEOUT = "ERR Script stopped: it ran past busy-reply-threshold (redbun serves no other client while a script runs)";

export class LuaEngine {
  readonly L: LuaState;
  /** How long a script may run (ms, busy-reply-threshold); 0: no limit. */
  timeLimitMs = 0;
  /** When the running script must stop (0: no limit). */
  private deadlineMs = 0;
  /** SHA1 (lowercase hex) -> registry reference of the compiled script. */
  private readonly scripts = new Map<string, number>();
  private readonly handlerRef: number;
  readonly keys: KeyRefs;
  private readonly debug: LuaDebug;
  /** Where the last error was raised, recorded by the message handler. */
  private errorSource = "";
  private errorLine = 0;

  constructor(redisCall: RedisCallHook) {
    const L = lauxlib.luaL_newstate();
    this.L = L;
    this.debug = new lua.lua_Debug();
    lualib.luaL_openlibs(L);
    if (lauxlib.luaL_dostring(L, to_luastring(SANDBOX)) !== lua.LUA_OK) throw new Error("Lua sandbox setup failed");
    this.installRedisTable(redisCall);
    this.protectGlobals();
    lua.lua_pushcfunction(L, (s) => this.onError(s));
    this.handlerRef = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    this.keys = { ok: this.stringRef("ok"), err: this.stringRef("err"), keys: this.stringRef("KEYS"), argv: this.stringRef("ARGV") };
    lua.lua_sethook(L, this.timeHook, lua.LUA_MASKCOUNT, HOOK_INSTRUCTIONS);
  }

  /** Every HOOK_INSTRUCTIONS instructions: past the deadline, the script fails with SCRIPT_TIMEOUT. */
  private readonly timeHook = (L: LuaState): void => {
    if (this.deadlineMs === 0 || Date.now() <= this.deadlineMs) return;
    lua.lua_createtable(L, 0, 1);
    pushKey(L, this.keys.err);
    lua.lua_pushstring(L, to_luastring(SCRIPT_TIMEOUT));
    lua.lua_rawset(L, -3);
    lua.lua_error(L);
  };

  private stringRef(text: string): number {
    lua.lua_pushstring(this.L, to_luastring(text));
    return lauxlib.luaL_ref(this.L, lua.LUA_REGISTRYINDEX);
  }

  has(sha: string): boolean {
    return this.scripts.has(sha);
  }

  get size(): number {
    return this.scripts.size;
  }

  /** Compile a body under its SHA1 (kept if already there): null, or the compile error reply. */
  load(sha: string, body: Uint8Array): string | null {
    if (this.scripts.has(sha)) return null;
    const L = this.L;
    if (lauxlib.luaL_loadbuffer(L, body, body.length, CHUNK_NAME) !== lua.LUA_OK) {
      const message = latin1Of(lua.lua_tolstring(L, -1));
      lua.lua_pop(L, 1);
      return `ERR Error compiling script (new function): ${message}`;
    }
    this.scripts.set(sha, lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX));
    return null;
  }

  /**
   * Run a cached script with KEYS and ARGV already pushed (two tables on the stack) and
   * write its result to `w`; returns null, or the error to reply (Redis 7.0's text).
   */
  run(sha: string, w: ReplyWriter): RunResult {
    const L = this.L;
    const ref = this.scripts.get(sha)!;
    const globals = this.pushGlobals();
    // Stack: KEYS ARGV globals. The script's globals KEYS and ARGV are set below the guard.
    pushKey(L, this.keys.keys);
    lua.lua_pushvalue(L, -4);
    lua.lua_rawset(L, globals);
    pushKey(L, this.keys.argv);
    lua.lua_pushvalue(L, -3);
    lua.lua_rawset(L, globals);
    lua.lua_settop(L, -4);
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, this.handlerRef);
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, ref);
    this.errorSource = "";
    this.deadlineMs = this.timeLimitMs > 0 ? Date.now() + this.timeLimitMs : 0;
    const status = lua.lua_pcall(L, 0, 1, -2);
    this.deadlineMs = 0;
    if (status !== lua.LUA_OK) {
      const error = this.errorText(sha);
      lua.lua_settop(L, 0);
      return error;
    }
    writeLuaReply(L, this.keys, w);
    // Drop the result and the message handler under it.
    lua.lua_settop(L, -3);
    return null;
  }

  /** Drop every script (SCRIPT FLUSH keeps the state: nothing else lives in it). */
  flush(): void {
    for (const ref of this.scripts.values()) {
      lua.lua_pushnil(this.L);
      lua.lua_rawseti(this.L, lua.LUA_REGISTRYINDEX, ref);
    }
    this.scripts.clear();
  }

  /** Raise `message` from a host function, placed at the script line that called it (luaL_error). */
  raise(L: LuaState, message: string): number {
    lua.lua_pushstring(L, latin1Bytes(this.where(L, 1) + message));
    return lua.lua_error(L);
  }

  private pushGlobals(): number {
    lua.lua_rawgeti(this.L, lua.LUA_REGISTRYINDEX, lua.LUA_RIDX_GLOBALS);
    return lua.lua_gettop(this.L);
  }

  private installRedisTable(redisCall: RedisCallHook): void {
    const L = this.L;
    lua.lua_newtable(L);
    lua.lua_pushcfunction(L, (s) => redisCall(s, true));
    lua.lua_setfield(L, -2, to_luastring("call"));
    lua.lua_pushcfunction(L, (s) => redisCall(s, false));
    lua.lua_setfield(L, -2, to_luastring("pcall"));
    lua.lua_pushcfunction(L, (s) => replyTable(s, ERR_FIELD));
    lua.lua_setfield(L, -2, to_luastring("error_reply"));
    lua.lua_pushcfunction(L, (s) => replyTable(s, OK_FIELD));
    lua.lua_setfield(L, -2, to_luastring("status_reply"));
    lua.lua_setglobal(L, to_luastring("redis"));
  }

  /** The read-only global table: host functions, so the error points at the script's line. */
  private protectGlobals(): void {
    const L = this.L;
    this.pushGlobals();
    lua.lua_createtable(L, 0, 2);
    lua.lua_pushcfunction(L, (s) => this.raise(s, `Script attempted to access nonexistent global variable '${latin1Of(lua.lua_tolstring(s, 2))}'`));
    lua.lua_setfield(L, -2, to_luastring("__index"));
    lua.lua_pushcfunction(L, (s) => this.raise(s, "Attempt to modify a readonly table"));
    lua.lua_setfield(L, -2, to_luastring("__newindex"));
    lua.lua_setmetatable(L, -2);
    lua.lua_pop(L, 1);
  }

  /** "source:line: " of the function `level` frames up, as Lua prefixes its errors. */
  private where(L: LuaState, level: number): string {
    const ar = this.debug;
    if (!lua.lua_getstack(L, level, ar)) return "";
    lua.lua_getinfo(L, WHERE_INFO, ar);
    if (ar.currentline <= 0) return "";
    return `${shortSource(ar.source)}:${ar.currentline}: `;
  }

  /**
   * The message handler: records where the error was raised (the script's frame, above
   * redis.call or error when a host function raised it) and keeps the error value.
   */
  private onError(L: LuaState): number {
    const ar = this.debug;
    for (let level = 1; lua.lua_getstack(L, level, ar); level++) {
      lua.lua_getinfo(L, WHERE_INFO, ar);
      if (ar.what !== null && ar.what[0] === WHAT_HOST) continue;
      this.errorSource = ar.source === null ? "" : latin1Of(ar.source);
      this.errorLine = ar.currentline;
      break;
    }
    return 1;
  }

  /** Redis 7.0's reply for a failed script: the error, the script and where it failed. */
  private errorText(sha: string): string {
    const L = this.L;
    let message: string;
    if (lua.lua_type(L, -1) === lua.LUA_TTABLE && fieldType(L, this.keys.err) === lua.LUA_TSTRING) {
      message = latin1Of(lua.lua_tolstring(L, -1));
      lua.lua_pop(L, 1);
    } else {
      const value = lua.lua_type(L, -1) === lua.LUA_TSTRING || lua.lua_type(L, -1) === lua.LUA_TNUMBER ? latin1Of(lua.lua_tolstring(L, -1)) : "unknown error";
      message = `ERR ${value}`;
    }
    if (this.errorSource === "") return message;
    return `${message} script: ${sha}, on ${this.errorSource}:${this.errorLine}.`;
  }
}

/** The type of the field of the table on top named by the string `ref`, leaving the field's value pushed. */
function fieldType(L: LuaState, ref: number): number {
  pushKey(L, ref);
  return lua.lua_rawget(L, -2);
}

/** redis.error_reply / redis.status_reply: a table with the one field the reply conversion reads. */
function replyTable(L: LuaState, field: Uint8Array): number {
  if (lua.lua_gettop(L) !== 1 || lua.lua_type(L, 1) !== lua.LUA_TSTRING) {
    lua.lua_pushstring(L, to_luastring("wrong number or type of arguments"));
    return lua.lua_error(L);
  }
  lua.lua_createtable(L, 0, 1);
  lua.lua_pushvalue(L, 1);
  lua.lua_setfield(L, -2, field);
  return 1;
}

/** Lua's short_src of a chunk name: "@user_script" shows as "user_script". */
function shortSource(source: Uint8Array | null): string {
  if (source === null) return "?";
  const name = latin1Of(source);
  return name.startsWith("@") || name.startsWith("=") ? name.slice(1) : name;
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
