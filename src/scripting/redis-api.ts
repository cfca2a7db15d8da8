// The `redis` table scripts see (Redis 7.0's script_lua.c luaRegisterRedisAPI and eval.c's
// additions): call and pcall run commands through the host (the script runner), the rest
// are helpers a script calls for itself. Also what Redis replaces in Lua's own library when
// it registers the table: the global pcall, and math.random / math.randomseed.
//
// Argument errors are Redis's: an error table {err="ERR ..."} raised from the helper, to
// which the engine adds " script: <sha>, on @user_script:<line>." as Redis does.

import { createHash } from "node:crypto";
import { lua, to_luastring, type LuaState } from "fengari";
import { REDIS_VERSION } from "../version.ts";
import { cString, latin1Bytes, latin1Of } from "./convert.ts";
import { argError, checkInteger51, raiseError, toCInt } from "./libs/luaargs.ts";

const OK_FIELD = to_luastring("ok");
const ERR_FIELD = to_luastring("err");

/** What the `redis` table needs from the script runner. */
export interface RedisApiHost {
  /** redis.call (raise) and redis.pcall: run the command whose arguments are on the stack, push its reply. */
  redisCall(L: LuaState, raise: boolean): number;
  /** redis.setresp: the protocol of the replies redis.call converts from now on (2 or 3). */
  setResp(resp: 2 | 3): void;
  /** redis.set_repl: where the script's next commands propagate (REPL_* bits: 1 the AOF, 2 replicas). */
  setRepl(flags: number): void;
  /** redis.log: a line in the server's log at a Redis level (0 debug ... 3 warning). */
  log(level: number, message: string): void;
  /** redis.acl_check_cmd: push whether the script's user may run the command whose arguments are on the stack. */
  aclCheckCmd(L: LuaState): number;
  /** math.random's generator, shared by the server's EVAL and FCALL states. */
  readonly rand48: Rand48;
}

/** Redis's LL_DEBUG .. LL_WARNING, the levels redis.log takes. */
const LOG_LEVELS: readonly [string, number][] = [
  ["LOG_DEBUG", 0],
  ["LOG_VERBOSE", 1],
  ["LOG_NOTICE", 2],
  ["LOG_WARNING", 3],
];
const LOG_WARNING = 3;

/** Redis's PROPAGATE_AOF (1) and PROPAGATE_REPL (2) under the names scripts use. */
const REPL_FLAGS: readonly [string, number][] = [
  ["REPL_NONE", 0],
  ["REPL_AOF", 1],
  ["REPL_SLAVE", 2],
  ["REPL_REPLICA", 2],
  ["REPL_ALL", 3],
];
const REPL_ALL = 3;

/** REDIS_VERSION_NUM: 0x00MMmmpp, as version.h computes it from the version's parts. */
const VERSION_NUM = REDIS_VERSION.split(".").reduce((num, part) => num * 256 + Number(part), 0);

/**
 * Set the global `redis` table of a fresh state, and Redis's pcall and math.random. EVAL's
 * table also has breakpoint, debug and replicate_commands (Redis's eval.c adds them); a
 * state for FUNCTION / FCALL passes `evalHelpers` false, as Redis's functions lack them.
 */
export function installRedisApi(L: LuaState, host: RedisApiHost, evalHelpers = true): void {
  lua.lua_newtable(L);
  setFunction(L, "call", (s) => host.redisCall(s, true));
  setFunction(L, "pcall", (s) => host.redisCall(s, false));
  setFunction(L, "log", (s) => redisLog(s, host));
  for (const [name, level] of LOG_LEVELS) setNumber(L, name, level);
  setNumber(L, "REDIS_VERSION_NUM", VERSION_NUM);
  lua.lua_pushstring(L, latin1Bytes(REDIS_VERSION));
  lua.lua_setfield(L, -2, latin1Bytes("REDIS_VERSION"));
  setFunction(L, "setresp", (s) => setResp(s, host));
  setFunction(L, "sha1hex", sha1hex);
  setFunction(L, "error_reply", errorReply);
  setFunction(L, "status_reply", statusReply);
  setFunction(L, "set_repl", (s) => setRepl(s, host));
  for (const [name, flags] of REPL_FLAGS) setNumber(L, name, flags);
  setFunction(L, "acl_check_cmd", (s) => host.aclCheckCmd(s));
  if (evalHelpers) {
    setFunction(L, "replicate_commands", replicateCommands);
    setFunction(L, "breakpoint", breakpoint);
    setFunction(L, "debug", debugLog);
  }
  lua.lua_setglobal(L, latin1Bytes("redis"));
  lua.lua_pushcfunction(L, pcall);
  lua.lua_setglobal(L, latin1Bytes("pcall"));
  lua.lua_getglobal(L, latin1Bytes("math"));
  setFunction(L, "random", (s) => mathRandom(s, host.rand48));
  setFunction(L, "randomseed", (s) => mathRandomSeed(s, host.rand48));
  lua.lua_pop(L, 1);
}

function setFunction(L: LuaState, name: string, f: (L: LuaState) => number): void {
  lua.lua_pushcfunction(L, f);
  lua.lua_setfield(L, -2, latin1Bytes(name));
}

function setNumber(L: LuaState, name: string, n: number): void {
  lua.lua_pushnumber(L, n);
  lua.lua_setfield(L, -2, latin1Bytes(name));
}

/** Push Redis's error table {err="ERR message"} (luaPushError of a message without a code). */
function pushErrorTable(L: LuaState, message: string): void {
  lua.lua_createtable(L, 0, 1);
  lua.lua_pushstring(L, latin1Bytes(`ERR ${message}`));
  lua.lua_setfield(L, -2, ERR_FIELD);
}

/** Raise Redis's error table; the engine adds the script and line to the reply. */
function raiseRedisError(L: LuaState, message: string): number {
  pushErrorTable(L, message);
  return lua.lua_error(L);
}

/** A Lua number stored into a C int: truncated, and INT_MIN when out of range (x86's conversion). */
function toCIntFromDouble(n: number): number {
  return n > -2147483649 && n < 2147483648 ? Math.trunc(n) : -2147483648;
}

// ---------------------------------------------------------------------------------------
// redis.log, redis.setresp, redis.set_repl, redis.sha1hex
// ---------------------------------------------------------------------------------------

/**
 * redis.log(level, ...): the arguments that read as strings (numbers included), joined by
 * spaces, as one log line that Redis does not truncate. A value of another type is skipped,
 * and the space before it with it, except after the first message argument.
 */
function redisLog(L: LuaState, host: RedisApiHost): number {
  const argc = lua.lua_gettop(L);
  if (argc < 2) return raiseRedisError(L, "redis.log() requires two arguments or more.");
  if (!lua.lua_isnumber(L, 1)) return raiseRedisError(L, "First argument must be a number (log level).");
  const level = toCIntFromDouble(lua.lua_tonumber(L, 1));
  if (level < 0 || level > LOG_WARNING) return raiseRedisError(L, "Invalid debug level.");
  let message = "";
  for (let i = 2; i <= argc; i++) {
    if (!lua.lua_isstring(L, i)) continue;
    if (i !== 2) message += " ";
    message += latin1Of(lua.lua_tolstring(L, i));
  }
  // Redis writes the line with printf's %s: it ends at a NUL byte.
  const nul = message.indexOf("\0");
  host.log(level, nul < 0 ? message : message.slice(0, nul));
  return 0;
}

/** redis.setresp(2|3): the protocol of the replies redis.call converts from now on. */
function setResp(L: LuaState, host: RedisApiHost): number {
  if (lua.lua_gettop(L) !== 1) return raiseRedisError(L, "redis.setresp() requires one argument.");
  const resp = toCIntFromDouble(lua.lua_tonumber(L, 1));
  if (resp !== 2 && resp !== 3) return raiseRedisError(L, "RESP version must be 2 or 3.");
  host.setResp(resp);
  return 0;
}

/** redis.set_repl(flags): where the script's next writes propagate. Redis's text asks for "two" arguments. */
function setRepl(L: LuaState, host: RedisApiHost): number {
  if (lua.lua_gettop(L) !== 1) return raiseRedisError(L, "redis.set_repl() requires two arguments.");
  const flags = toCIntFromDouble(lua.lua_tonumber(L, 1));
  if ((flags & ~REPL_ALL) !== 0) {
    return raiseRedisError(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.");
  }
  host.setRepl(flags);
  return 0;
}

/** redis.sha1hex(s): the SHA1 of the bytes of s (or of a number's text); other values hash as "". */
function sha1hex(L: LuaState): number {
  if (lua.lua_gettop(L) !== 1) return raiseRedisError(L, "wrong number of arguments");
  const bytes = lua.lua_isstring(L, 1) ? lua.lua_tolstring(L, 1) : EMPTY;
  lua.lua_pushstring(L, latin1Bytes(createHash("sha1").update(bytes).digest("hex")));
  return 1;
}
const EMPTY = new Uint8Array(0);

// ---------------------------------------------------------------------------------------
// redis.error_reply, redis.status_reply
// ---------------------------------------------------------------------------------------

/** True when the only argument is a string; otherwise the error table is returned, not raised, as Redis does. */
function hasOneString(L: LuaState): boolean {
  if (lua.lua_gettop(L) === 1 && lua.lua_type(L, 1) === lua.LUA_TSTRING) return true;
  pushErrorTable(L, "wrong number or type of arguments");
  return false;
}

/**
 * redis.error_reply(text): {err=text} with an error code: text's first word when it starts
 * with '-' and has a space, else "ERR" before it. Like Redis, the text is read as a C
 * string (up to a NUL) and the message loses CR and LF at both ends.
 */
function errorReply(L: LuaState): number {
  if (!hasOneString(L)) return 1;
  let text = latin1Of(cString(lua.lua_tolstring(L, 1)));
  if (!text.startsWith("-")) text = `-${text}`;
  const space = text.indexOf(" ");
  const code = space < 0 ? "ERR" : text.slice(1, space);
  const message = (space < 0 ? text.slice(1) : text.slice(space + 1)).replace(/^[\r\n]+|[\r\n]+$/g, "");
  lua.lua_createtable(L, 0, 1);
  lua.lua_pushstring(L, latin1Bytes(`${code} ${message}`));
  lua.lua_setfield(L, -2, ERR_FIELD);
  return 1;
}

/** redis.status_reply(text): {ok=text}. */
function statusReply(L: LuaState): number {
  if (!hasOneString(L)) return 1;
  lua.lua_createtable(L, 0, 1);
  lua.lua_pushvalue(L, 1);
  lua.lua_setfield(L, -2, OK_FIELD);
  return 1;
}

// ---------------------------------------------------------------------------------------
// redis.replicate_commands, redis.breakpoint, redis.debug (EVAL's debugger is not offered)
// ---------------------------------------------------------------------------------------

/** Redis 7.0 always replicates a script's effects: the call is kept for old scripts and says yes. */
function replicateCommands(L: LuaState): number {
  lua.lua_pushboolean(L, true);
  return 1;
}

/** redis.breakpoint(): false, since no script runs under the Lua debugger (SCRIPT DEBUG). */
function breakpoint(L: LuaState): number {
  lua.lua_pushboolean(L, false);
  return 1;
}

/** redis.debug(...): writes to the debugger's console, so without a debugger it does nothing. */
function debugLog(_L: LuaState): number {
  return 0;
}

// ---------------------------------------------------------------------------------------
// pcall
// ---------------------------------------------------------------------------------------

/**
 * Redis 7.0's pcall: Lua's, except that an error table with an err field (what redis.call
 * and the redis helpers raise) is caught as its err string, as scripts written for older
 * Redis versions expect. It yields like Lua's own (through a continuation), so a busy
 * script inside pcall still gives the event loop back.
 */
function pcall(L: LuaState): number {
  lua.lua_pushboolean(L, true);
  lua.lua_insert(L, 1);
  // Without arguments Redis calls its placeholder `true` itself, failing as Lua does.
  const nargs = Math.max(lua.lua_gettop(L) - 2, 0);
  const status = lua.lua_pcallk(L, nargs, lua.LUA_MULTRET, 0, 0, finishPcall);
  return finishPcall(L, status, 0);
}

function finishPcall(L: LuaState, status: number, _ctx: number): number {
  if (status === lua.LUA_OK || status === lua.LUA_YIELD) return lua.lua_gettop(L);
  if (lua.lua_type(L, -1) === lua.LUA_TTABLE) {
    lua.lua_getfield(L, -1, ERR_FIELD);
    if (lua.lua_isstring(L, -1)) lua.lua_replace(L, -2);
    else lua.lua_pop(L, 1);
  }
  lua.lua_pushboolean(L, false);
  lua.lua_pushvalue(L, -2);
  return 2;
}

// ---------------------------------------------------------------------------------------
// math.random and math.randomseed: rand48 (Redis's rand.c), one sequence per process
// ---------------------------------------------------------------------------------------

/**
 * The 48-bit state of rand48's generator x' = (a x + c) mod 2^48, in two 24-bit halves so
 * that every product stays exact in a double. Redis 7.0 never reseeds it between scripts:
 * the sequence runs on from the start-up state (rand48's own, 0x1234ABCD330E) across every
 * script, EVAL's and FCALL's, until a script calls math.randomseed. Each server holds its
 * own, so that servers embedded in one process draw what a fresh Redis would.
 */
export class Rand48 {
  private high = 0x1234ab;
  private low = 0xcd330e;

  /** The next lrand48(): the top 31 bits of the advanced state. */
  next(): number {
    const low = MULTIPLIER_LOW * this.low + INCREMENT;
    const carry = Math.floor(low / TWO_24);
    this.high = (MULTIPLIER_LOW * this.high + MULTIPLIER_HIGH * this.low + carry) % TWO_24;
    this.low = low % TWO_24;
    return this.high * 128 + Math.floor(this.low / 131072);
  }

  /** srand48(seed): the seed's 32 bits above rand48's fixed low 16 bits. */
  seed(seed: number): void {
    const bits = seed >>> 0;
    this.high = bits >>> 8;
    this.low = ((bits & 0xff) << 16) | 0x330e;
  }
}

const MULTIPLIER_HIGH = 0x5de;
const MULTIPLIER_LOW = 0xece66d;
const INCREMENT = 0xb;
const TWO_24 = 0x1000000;
/** Redis's REDIS_LRAND48_MAX: INT32_MAX. */
const LRAND48_MAX = 2147483647;

/** math.random([m [, n]]): Lua 5.1's, over rand48 (integer bounds are C ints, as 5.1's luaL_checkint). */
function mathRandom(L: LuaState, rand: Rand48): number {
  const r = (rand.next() % LRAND48_MAX) / LRAND48_MAX;
  switch (lua.lua_gettop(L)) {
    case 0:
      lua.lua_pushnumber(L, r);
      return 1;
    case 1: {
      const upper = toCInt(checkInteger51(L, 1));
      if (upper < 1) return argError(L, 1, "interval is empty");
      lua.lua_pushnumber(L, Math.floor(r * upper) + 1);
      return 1;
    }
    case 2: {
      const lower = toCInt(checkInteger51(L, 1));
      const upper = toCInt(checkInteger51(L, 2));
      if (lower > upper) return argError(L, 2, "interval is empty");
      // C computes u-l+1 in int arithmetic, which wraps.
      lua.lua_pushnumber(L, Math.floor(r * ((upper - lower + 1) | 0)) + lower);
      return 1;
    }
    default:
      return raiseError(L, "wrong number of arguments");
  }
}

/** math.randomseed(n): restart the server's sequence from n (a C int). */
function mathRandomSeed(L: LuaState, rand: Rand48): number {
  rand.seed(toCInt(checkInteger51(L, 1)));
  return 0;
}
