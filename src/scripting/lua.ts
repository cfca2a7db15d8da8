// The Lua VM behind EVAL (Redis's script_lua.c / eval.c): one fengari state per server,
// scripts compiled once and kept by the SHA1 of their body, a sandbox close to the globals
// Redis 7.0 offers, and the conversions between Lua values and RESP2 replies.
//
// fengari is Lua 5.3 written in JavaScript: a call into Lua and back is a plain JS call, and
// a Lua string is a Uint8Array of bytes, so values cross the boundary binary safe without
// any marshalling. docs/scripting.md records why it was chosen and what it costs.

import { lauxlib, lua, lualib, to_luastring, type LuaDebug, type LuaState } from "fengari";
import type { ReplyWriter } from "../resp/writer.ts";
import { countedAlready, fieldType, latin1Bytes, latin1Of, pushKey, writeLuaReply, type KeyRefs } from "./convert.ts";
import { openRedisLibraries } from "./libs/index.ts";
import { markScriptThread } from "./lua51.ts";
import { installRedisApi, type RedisApiHost } from "./redis-api.ts";


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
io, os, package, require, dofile, loadfile, utf8 = nil, nil, nil, nil, nil, nil, nil
`;

/** A script gave the event loop back, its time being past busy-reply-threshold: resume() goes on. */
export const YIELDED = 1;

/** The outcome of running a script: its reply is written (null), the error text to reply, or YIELDED. */
export type RunResult = null | string | typeof YIELDED;

/** Instructions a script runs between two looks at the clock (Redis's hook runs as often). */
const HOOK_INSTRUCTIONS = 100_000;
/**
 * Where a script cannot give the event loop back (inside EXEC, which runs its commands in
 * one go), redbun could serve no client until it ends, so it stops the script at
 * busy-reply-threshold instead of hanging for good.
 */
const SCRIPT_TIMEOUT = "ERR Script stopped: it ran past busy-reply-threshold inside a transaction (redbun serves no other client until such a script ends)";
const SCRIPT_KILLED = "ERR Script killed by user with SCRIPT KILL...";

/** Make the table on top read-only, with the tables it holds and its metatable (a table seen twice is skipped). */
function protectRecursively(L: LuaState): void {
  if (lua.lua_isreadonlytable(L, -1)) return;
  lua.lua_enablereadonlytable(L, -1, true);
  lua.lua_pushnil(L);
  while (lua.lua_next(L, -2)) {
    if (lua.lua_type(L, -1) === lua.LUA_TTABLE) protectRecursively(L);
    lua.lua_pop(L, 1);
  }
  if (lua.lua_getmetatable(L, -1)) {
    protectRecursively(L);
    lua.lua_pop(L, 1);
  }
}

export class LuaEngine {
  readonly L: LuaState;
  /**
   * The coroutine scripts run in: past busy-reply-threshold a script yields from the count
   * hook, the server serves other clients (BUSY, SCRIPT KILL) and resumes it, as Redis
   * processes events from its hook. A thread that ended in an error is dead: replaced.
   */
  private thread: LuaState;
  private threadRef: number;
  /** How long a script may run before it gives the event loop back (ms, busy-reply-threshold); 0: no limit. */
  timeLimitMs = 0;
  /** When the running script passes the threshold (0: no limit). */
  private deadlineMs = 0;
  /** The running script may yield (false inside EXEC: it stops at the threshold instead). */
  private canYield = false;
  /** The error a run that cannot yield gets at its deadline. */
  private timeoutText = SCRIPT_TIMEOUT;
  /** SCRIPT KILL or FUNCTION KILL asked the running script to stop. */
  killRequested = false;
  /** The protocol the running script chose with redis.setresp: the replies redis.call converts, and how booleans return. */
  resp: 2 | 3 = 2;
  /**
   * Error replies in the script's reply (or its raised error) that the commands behind them
   * counted already: written without error statistics, they count as failed calls of the
   * script's command instead (Redis's ignore_error_stats_update).
   */
  uncountedErrors = 0;
  /** The running script's name in error replies: its SHA1, or the function's name. */
  runningName = "";
  /** Arguments the next resume passes to a function just started (FCALL's two tables). */
  private pendingArgs = 0;
  /** SHA1 (lowercase hex) -> registry reference of the compiled script. */
  private readonly scripts = new Map<string, number>();
  /** SHA1 -> the script's flags (ScriptFlag; EvalCompat without a shebang). */
  private readonly scriptFlags = new Map<string, number>();
  readonly keys: KeyRefs;
  private readonly debug: LuaDebug;

  /** `forFunctions`: the functions' state, whose `redis` table lacks EVAL's debugging helpers. */
  constructor(host: RedisApiHost, forFunctions = false) {
    const L = lauxlib.luaL_newstate();
    this.L = L;
    this.debug = new lua.lua_Debug();
    lualib.luaL_openlibs(L);
    if (lauxlib.luaL_dostring(L, to_luastring(SANDBOX)) !== lua.LUA_OK) throw new Error("Lua sandbox setup failed");
    openRedisLibraries(L);
    installRedisApi(L, host, !forFunctions);
    this.protectGlobals();
    this.protectTables();
    this.keys = { ok: this.stringRef("ok"), err: this.stringRef("err"), keys: this.stringRef("KEYS"), argv: this.stringRef("ARGV") };
    // Threads inherit the hook of the state that creates them, coroutine.create's included.
    lua.lua_sethook(L, this.timeHook, lua.LUA_MASKCOUNT, HOOK_INSTRUCTIONS);
    this.thread = lua.lua_newthread(L);
    markScriptThread(this.thread);
    this.threadRef = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
  }

  /**
   * Every HOOK_INSTRUCTIONS instructions: a killed script fails (on every line from then
   * on, so that its own pcall cannot keep it alive); past the deadline the script yields.
   */
  private readonly timeHook = (L: LuaState): void => {
    if (this.killRequested) {
      lua.lua_sethook(L, this.timeHook, lua.LUA_MASKLINE, 0);
      return this.raiseReply(L, SCRIPT_KILLED);
    }
    if (this.deadlineMs === 0 || Date.now() <= this.deadlineMs) return;
    if (!this.canYield) return this.raiseReply(L, this.timeoutText);
    // Inside a coroutine of the script's own, or under a host call (table.sort's comparator),
    // the yield would not reach the server: the script goes on until a point where it can.
    if (L === this.thread && lua.lua_isyieldable(L)) lua.lua_yield(L, 0);
  };

  /** Raise an error reply ({err=message}): no position is added, as Redis raises its own errors. */
  raiseReply(L: LuaState, message: string): void {
    lua.lua_createtable(L, 0, 1);
    pushKey(L, this.keys.err);
    lua.lua_pushstring(L, to_luastring(message));
    lua.lua_rawset(L, -3);
    lua.lua_error(L);
  }

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

  /** Compile a chunk, leaving it pushed on the main stack: null, or Lua's error message. */
  compile(body: Uint8Array, chunkName: Uint8Array): string | null {
    const L = this.L;
    if (lauxlib.luaL_loadbuffer(L, body, body.length, chunkName) === lua.LUA_OK) return null;
    const message = latin1Of(lua.lua_tolstring(L, -1));
    lua.lua_pop(L, 1);
    return message;
  }

  /**
   * Compile a body under its SHA1 (kept if already there), from `bodyStart` on (after a
   * shebang line): null, or the compile error reply.
   */
  load(sha: string, body: Uint8Array, bodyStart: number, flags: number): string | null {
    if (this.scripts.has(sha)) return null;
    const message = this.compile(body.subarray(bodyStart), CHUNK_NAME);
    if (message !== null) return `ERR Error compiling script (new function): ${message}`;
    this.scripts.set(sha, lauxlib.luaL_ref(this.L, lua.LUA_REGISTRYINDEX));
    this.scriptFlags.set(sha, flags);
    return null;
  }

  /** The flags of a cached script. */
  flagsOf(sha: string): number {
    return this.scriptFlags.get(sha)!;
  }

  /**
   * Start a cached script with KEYS and ARGV already pushed (two tables on the stack):
   * its reply is written to `w`, or the error to reply (Redis 7.0's text) is returned, or
   * YIELDED when it passed the time limit and `canYield`.
   */
  run(sha: string, w: ReplyWriter, canYield: boolean): RunResult {
    const L = this.L;
    const globals = this.pushGlobals();
    // Stack: KEYS ARGV globals. The script's globals KEYS and ARGV are set below the guard.
    lua.lua_enablereadonlytable(L, globals, false);
    pushKey(L, this.keys.keys);
    lua.lua_pushvalue(L, -4);
    lua.lua_rawset(L, globals);
    pushKey(L, this.keys.argv);
    lua.lua_pushvalue(L, -3);
    lua.lua_rawset(L, globals);
    lua.lua_enablereadonlytable(L, globals, true);
    lua.lua_settop(L, -4);
    lua.lua_rawgeti(this.thread, lua.LUA_REGISTRYINDEX, this.scripts.get(sha)!);
    return this.start(sha, 0, w, canYield);
  }

  /**
   * Start the function in registry slot `ref` (FCALL) with the keys and arguments tables
   * pushed on the state as its two arguments; as run() otherwise.
   */
  call(ref: number, name: string, w: ReplyWriter, canYield: boolean): RunResult {
    const T = this.thread;
    lua.lua_rawgeti(T, lua.LUA_REGISTRYINDEX, ref);
    lua.lua_xmove(this.L, T, 2);
    return this.start(name, 2, w, canYield);
  }

  private start(name: string, nargs: number, w: ReplyWriter, canYield: boolean): RunResult {
    this.runningName = name;
    this.canYield = canYield;
    this.timeoutText = SCRIPT_TIMEOUT;
    this.killRequested = false;
    this.resp = 2;
    this.deadlineMs = this.timeLimitMs > 0 ? Date.now() + this.timeLimitMs : 0;
    this.pendingArgs = nargs;
    return this.resume(w);
  }

  /**
   * Run the function on top of the main stack (a library's body) with nothing yielding,
   * stopped with `timeoutText` after `timeoutMs`: null, or the error value's text (string
   * errors prefixed with "ERR ", as Redis reports a library's load errors).
   */
  runToEnd(timeoutMs: number, timeoutText: string): string | null {
    const L = this.L;
    this.canYield = false;
    this.timeoutText = timeoutText;
    this.killRequested = false;
    this.deadlineMs = Date.now() + timeoutMs;
    const status = lua.lua_pcall(L, 0, 0, 0);
    this.deadlineMs = 0;
    if (status === lua.LUA_OK) return null;
    const message = this.errorMessage();
    return message;
  }

  /** The text of the error value on top of the main stack, popped. */
  private errorMessage(): string {
    const L = this.L;
    let message: string;
    if (lua.lua_type(L, -1) === lua.LUA_TTABLE && fieldType(L, this.keys.err) === lua.LUA_TSTRING) {
      message = latin1Of(lua.lua_tolstring(L, -1));
      lua.lua_pop(L, 1);
    } else {
      const value = lua.lua_type(L, -1) === lua.LUA_TSTRING || lua.lua_type(L, -1) === lua.LUA_TNUMBER ? latin1Of(lua.lua_tolstring(L, -1)) : "unknown error";
      message = `ERR ${value}`;
    }
    lua.lua_pop(L, 1);
    return message;
  }

  /** Run the started script on until it ends (its reply written to `w`) or yields again. */
  resume(w: ReplyWriter): RunResult {
    const T = this.thread;
    const status = lua.lua_resume(T, this.L, this.pendingArgs);
    this.pendingArgs = 0;
    if (status === lua.LUA_YIELD) return YIELDED;
    this.deadlineMs = 0;
    this.killRequested = false;
    if (status !== lua.LUA_OK) {
      const error = this.errorText();
      this.replaceThread();
      return error;
    }
    // The script's first result is its reply; none is nil.
    lua.lua_settop(T, 1);
    this.uncountedErrors = writeLuaReply(T, this.keys, w, this.resp);
    lua.lua_settop(T, 0);
    return null;
  }

  /** A thread that ended in an error cannot run again: anchor a fresh one. */
  private replaceThread(): void {
    const L = this.L;
    lauxlib.luaL_unref(L, lua.LUA_REGISTRYINDEX, this.threadRef);
    this.thread = lua.lua_newthread(L);
    markScriptThread(this.thread);
    this.threadRef = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    lua.lua_sethook(this.thread, this.timeHook, lua.LUA_MASKCOUNT, HOOK_INSTRUCTIONS);
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

  /** The read-only global table: host functions, so the error points at the script's line. */
  private protectGlobals(): void {
    const L = this.L;
    this.pushGlobals();
    lua.lua_createtable(L, 0, 2);
    lua.lua_pushcfunction(L, (s) => this.raise(s, `Script attempted to access nonexistent global variable '${latin1Of(lua.lua_tolstring(s, 2))}'`));
    lua.lua_setfield(L, -2, to_luastring("__index"));
    lua.lua_setmetatable(L, -2);
    lua.lua_pop(L, 1);
  }

  /** Redis 7.0's read-only tables: the globals, every table reachable from them, their metatables, the string metatable. */
  private protectTables(): void {
    const L = this.L;
    this.pushGlobals();
    protectRecursively(L);
    lua.lua_pushstring(L, to_luastring(""));
    lua.lua_getmetatable(L, -1);
    protectRecursively(L);
    lua.lua_pop(L, 3);
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
   * Redis 7.0's reply for a failed script: the error, the script and where it failed. A
   * failed thread keeps its frames, so where is the innermost script frame (host functions
   * such as redis.call or error raise on behalf of the line that called them).
   */
  private errorText(): string {
    const T = this.thread;
    const L = this.L;
    // The dead thread has no stack room left: the error value is read on the main state.
    lua.lua_xmove(T, L, 1);
    this.uncountedErrors = countedAlready(L, this.keys) ? 1 : 0;
    const message = this.errorMessage();
    const ar = this.debug;
    for (let level = 0; lua.lua_getstack(T, level, ar); level++) {
      lua.lua_getinfo(T, WHERE_INFO, ar);
      if (ar.what !== null && ar.what[0] === WHAT_HOST) continue;
      const source = ar.source === null ? "" : latin1Of(ar.source);
      return `${message} script: ${this.runningName}, on ${source}:${ar.currentline}.`;
    }
    return message;
  }
}

/** Lua's short_src of a chunk name: "@user_script" shows as "user_script". */
function shortSource(source: Uint8Array | null): string {
  if (source === null) return "?";
  const name = latin1Of(source);
  return name.startsWith("@") || name.startsWith("=") ? name.slice(1) : name;
}
