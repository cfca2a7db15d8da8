// Lua 5.1 as Redis 7.0 runs it, on fengari's Lua 5.3. The language and number model (every
// value a double, numerals and coercions read as C's strtod reads them, integer arguments
// cast as 5.1 casts them, no 5.3 operators, 5.1's call depth and error texts) are patched
// into fengari (patches/fengari@0.1.5.patch); this module supplies the rest: tostring's
// "%.14g" (printf.ts), string.format with C's conversions, the library functions whose 5.1
// behaviour differs, and the globals 5.1 has and 5.3 dropped (or the reverse). Redis's
// drand48 math.random is the server's own, set with the redis table (redis-api.ts).

import { lauxlib, lua, luaconf, type LuaState } from "fengari";
import { latin1Bytes, latin1Of } from "./convert.ts";
import { argError, checkInteger51, hasStackRoom, raiseError, toCInt, typeNameAt } from "./libs/luaargs.ts";
import { X86_DEFAULT_NAN, formatFloat, formatInteger, formatLuaNumber, TOSTRING_SPEC, type Spec } from "./printf.ts";

// The reply conversion takes its integer cast from here, with the rest of the 5.1 number model.
export { luaNumberToReplyInteger } from "./printf.ts";

// ---------------------------------------------------------------------------------------
// string.format (5.1's str_format)
// ---------------------------------------------------------------------------------------

const PERCENT = 37;
/** 5.1 accepts at most 5 flag characters ("-+ #0" is 5 long) before complaining. */
const MAX_FLAGS = 5;

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 48 && c <= 57;
}

/** Parse the spec after '%' at `i` into `spec`; returns the index of the conversion character. */
function scanSpec(L: LuaState, fmt: Uint8Array, i: number, spec: Spec): number {
  const start = i;
  spec.left = spec.plus = spec.space = spec.alt = spec.zero = false;
  for (;;) {
    const c = fmt[i];
    if (c === 45 /* - */) spec.left = true;
    else if (c === 43 /* + */) spec.plus = true;
    else if (c === 32 /* space */) spec.space = true;
    else if (c === 35 /* # */) spec.alt = true;
    else if (c === 48 /* 0 */) spec.zero = true;
    else break;
    i++;
  }
  if (i - start > MAX_FLAGS) raiseError(L, "invalid format (repeated flags)");
  spec.width = 0;
  for (let k = 0; k < 2 && isDigit(fmt[i]); k++) spec.width = spec.width * 10 + fmt[i++]! - 48;
  spec.precision = -1;
  if (fmt[i] === 46 /* . */) {
    i++;
    spec.precision = 0;
    for (let k = 0; k < 2 && isDigit(fmt[i]); k++) spec.precision = spec.precision * 10 + fmt[i++]! - 48;
  }
  if (isDigit(fmt[i])) raiseError(L, "invalid format (width or precision too long)");
  return i;
}

/** %q: the string between quotes with '"', '\\', newline, '\r' and NUL escaped as 5.1 escapes them. */
function quoteString(s: Uint8Array, out: number[]): void {
  out.push(34);
  for (const c of s) {
    if (c === 34 || c === 92 || c === 10) out.push(92, c);
    else if (c === 13) out.push(92, 114);
    else if (c === 0) out.push(92, 48, 48, 48);
    else out.push(c);
  }
  out.push(34);
}

/** %s: the string up to its first NUL (C's view), cut to the precision and padded to the width. */
function formatString(s: Uint8Array, spec: Spec, out: number[]): void {
  // Without a precision, a long string is kept whole (zeros included), as 5.1 does.
  if (spec.precision < 0 && s.length >= 100) {
    for (const c of s) out.push(c);
    return;
  }
  let len = s.indexOf(0);
  if (len < 0) len = s.length;
  if (spec.precision >= 0 && spec.precision < len) len = spec.precision;
  const fill = Math.max(0, spec.width - len);
  if (!spec.left) for (let k = 0; k < fill; k++) out.push(32);
  for (let k = 0; k < len; k++) out.push(s[k]!);
  if (spec.left) for (let k = 0; k < fill; k++) out.push(32);
}

function pushAscii(text: string, out: number[]): void {
  for (let k = 0; k < text.length; k++) out.push(text.charCodeAt(k));
}

/** One conversion of argument `arg` into `out`. */
function formatOne(L: LuaState, conversion: number, arg: number, spec: Spec, out: number[]): void {
  switch (conversion) {
    case 99 /* c */: {
      // (int)v: x86 turns a value out of the int range into INT_MIN, whose low byte is 0.
      const v = lauxlib.luaL_checknumber(L, arg);
      const byte = v >= -(2 ** 31) && v < 2 ** 31 ? Math.trunc(v) & 0xff : 0;
      const fill = Math.max(0, spec.width - 1);
      if (!spec.left) for (let k = 0; k < fill; k++) out.push(32);
      // 5.1 copies sprintf's output up to its first NUL: a NUL character ends the field.
      if (byte === 0) return;
      out.push(byte);
      if (spec.left) for (let k = 0; k < fill; k++) out.push(32);
      return;
    }
    case 100: case 105: case 111: case 117: case 120: case 88: // d i o u x X
      return pushAscii(formatInteger(lauxlib.luaL_checknumber(L, arg), conversion, spec), out);
    case 101: case 69: case 102: case 103: case 71: // e E f g G
      return pushAscii(formatFloat(lauxlib.luaL_checknumber(L, arg), conversion, spec), out);
    case 113 /* q */:
      return quoteString(lauxlib.luaL_checklstring(L, arg), out);
    case 115 /* s */:
      return formatString(lauxlib.luaL_checklstring(L, arg), spec, out);
    default:
      // A format ending in its spec has C's NUL there, which prints as nothing.
      raiseError(L, `invalid option '%${conversion === 0 ? "" : String.fromCharCode(conversion)}' to 'format'`);
  }
}

const formatSpec: Spec = { ...TOSTRING_SPEC };

/** string.format as Lua 5.1 has it: C's conversions, numbers cast, strings only for %s. */
function stringFormat(L: LuaState): number {
  const top = lua.lua_gettop(L);
  const fmt = lauxlib.luaL_checklstring(L, 1);
  const out: number[] = [];
  let arg = 1;
  for (let i = 0; i < fmt.length; ) {
    const c = fmt[i++]!;
    if (c !== PERCENT) out.push(c);
    else if (fmt[i] === PERCENT) out.push(fmt[i++]!);
    else {
      if (++arg > top) argError(L, arg, "no value");
      i = scanSpec(L, fmt, i, formatSpec);
      formatOne(L, fmt[i++] ?? 0, arg, formatSpec, out);
    }
  }
  const bytes = Uint8Array.from(out);
  lua.lua_pushlstring(L, bytes, bytes.length);
  return 1;
}

// ---------------------------------------------------------------------------------------
// Lua 5.1 library functions 5.3 lacks
// ---------------------------------------------------------------------------------------

function checkTable(L: LuaState, arg: number): void {
  if (lua.lua_type(L, arg) !== lua.LUA_TTABLE) argError(L, arg, `table expected, got ${typeNameAt(L, arg)}`);
}

function checkFunction(L: LuaState, arg: number): void {
  if (lua.lua_type(L, arg) !== lua.LUA_TFUNCTION) argError(L, arg, `function expected, got ${typeNameAt(L, arg)}`);
}

/** table.getn(t): the length of t. */
function tableGetn(L: LuaState): number {
  checkTable(L, 1);
  lua.lua_pushnumber(L, lua.lua_rawlen(L, 1));
  return 1;
}

/** table.setn: 5.1 keeps the name only to say it is gone. */
function tableSetn(L: LuaState): number {
  checkTable(L, 1);
  return raiseError(L, "'setn' is obsolete");
}

/** table.maxn(t): the largest positive numeric key, 0 if none. */
function tableMaxn(L: LuaState): number {
  checkTable(L, 1);
  let max = 0;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, 1) !== 0) {
    lua.lua_pop(L, 1);
    if (lua.lua_type(L, -1) === lua.LUA_TNUMBER) {
      const key = lua.lua_tonumber(L, -1);
      if (key > max) max = key;
    }
  }
  lua.lua_pushnumber(L, max);
  return 1;
}

/** table.foreach(t, f): f(k, v) for every pair until one returns a non-nil value, which is returned. */
function tableForeach(L: LuaState): number {
  checkTable(L, 1);
  checkFunction(L, 2);
  lua.lua_pushnil(L);
  while (lua.lua_next(L, 1) !== 0) {
    lua.lua_pushvalue(L, 2);
    lua.lua_pushvalue(L, -3);
    lua.lua_pushvalue(L, -3);
    lua.lua_call(L, 2, 1);
    if (lua.lua_type(L, -1) !== lua.LUA_TNIL) return 1;
    lua.lua_pop(L, 2);
  }
  return 0;
}

/** table.foreachi(t, f): f(i, t[i]) for i = 1 .. #t until one returns a non-nil value. */
function tableForeachi(L: LuaState): number {
  checkTable(L, 1);
  checkFunction(L, 2);
  const n = lua.lua_rawlen(L, 1);
  for (let i = 1; i <= n; i++) {
    lua.lua_pushvalue(L, 2);
    lua.lua_pushnumber(L, i);
    lua.lua_rawgeti(L, 1, i);
    lua.lua_call(L, 2, 1);
    if (lua.lua_type(L, -1) !== lua.LUA_TNIL) return 1;
    lua.lua_pop(L, 1);
  }
  return 0;
}

/** string.char(...): each byte from a number cast to int; 5.1 refuses anything but 0..255 as "invalid value". */
function stringChar(L: LuaState): number {
  const n = lua.lua_gettop(L);
  const bytes = new Uint8Array(n);
  for (let i = 1; i <= n; i++) {
    const c = toCInt(checkInteger51(L, i));
    if (c < 0 || c > 255) argError(L, i, "invalid value");
    bytes[i - 1] = c;
  }
  lua.lua_pushlstring(L, bytes, n);
  return 1;
}

/** An optional 64-bit integer argument (luaL_optinteger): `fallback` when absent or nil. */
function optInteger(L: LuaState, arg: number, fallback: number): number {
  return lua.lua_type(L, arg) <= lua.LUA_TNIL ? fallback : checkInteger51(L, arg);
}

/** 5.1's posrelat: a negative position counts from the end; before the start is 0. */
function relativePosition(pos: number, length: number): number {
  if (pos < 0) pos += length + 1;
  return pos >= 0 ? pos : 0;
}

/**
 * string.sub(s, i [, j]). Its positions are 64-bit in 5.1, where fengari's integers
 * would wrap them at 32 bits: string.sub(s, 2, 2^40) is the rest of s.
 */
function stringSub(L: LuaState): number {
  const s = lauxlib.luaL_checklstring(L, 1);
  const start = Math.max(1, relativePosition(checkInteger51(L, 2), s.length));
  const end = Math.min(s.length, relativePosition(optInteger(L, 3, -1), s.length));
  if (start <= end) lua.lua_pushlstring(L, s.subarray(start - 1, end), end - start + 1);
  else lua.lua_pushlstring(L, s.subarray(0, 0), 0);
  return 1;
}

/** string.byte(s [, i [, j]]): the bytes of s[i..j] as numbers (64-bit positions, as string.sub's). */
function stringByte(L: LuaState): number {
  const s = lauxlib.luaL_checklstring(L, 1);
  const first = Math.max(1, relativePosition(optInteger(L, 2, 1), s.length));
  const last = Math.min(s.length, relativePosition(optInteger(L, 3, first), s.length));
  if (first > last) return 0;
  const n = last - first + 1;
  if (!hasStackRoom(L, n)) return raiseError(L, "stack overflow (string slice too long)");
  for (let i = first - 1; i < last; i++) lua.lua_pushnumber(L, s[i]!);
  return n;
}

/**
 * unpack(t [, i [, j]]): t[i] .. t[j]. Lua 5.1 grows a C function's stack to 8000 slots at
 * most, so past that many values it fails with "too many results to unpack".
 */
function unpack51(L: LuaState): number {
  checkTable(L, 1);
  const first = lua.lua_type(L, 2) <= lua.LUA_TNIL ? 1 : toCInt(checkInteger51(L, 2));
  const last = lua.lua_type(L, 3) <= lua.LUA_TNIL ? lua.lua_rawlen(L, 1) : toCInt(checkInteger51(L, 3));
  if (first > last) return 0;
  const n = last - first + 1;
  if (n <= 0 || n >= 2 ** 31 || !hasStackRoom(L, n)) return raiseError(L, "too many results to unpack");
  for (let i = first; i <= last; i++) lua.lua_rawgeti(L, 1, i);
  return n;
}

/** math.min / math.max: every argument a number, at least one (5.1 has no "value expected"). */
function extreme(pick: (best: number, d: number) => boolean): (L: LuaState) => number {
  return (L) => {
    let best = lauxlib.luaL_checknumber(L, 1);
    const n = lua.lua_gettop(L);
    for (let i = 2; i <= n; i++) {
      const d = lauxlib.luaL_checknumber(L, i);
      if (pick(best, d)) best = d;
    }
    lua.lua_pushnumber(L, best);
    return 1;
  };
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** ldexp without overflowing halfway: 2^e in steps that each fit a double. */
function ldexp(m: number, e: number): number {
  let result = m;
  while (e > 1023) {
    result *= 2 ** 1023;
    e -= 1023;
  }
  while (e < -1022) {
    result *= 2 ** -1022;
    e += 1022;
  }
  return result * 2 ** e;
}

/** math.ldexp(m, e) = m * 2^e. */
function mathLdexp(L: LuaState): number {
  const m = lauxlib.luaL_checknumber(L, 1);
  const e = checkInteger51(L, 2) | 0;
  lua.lua_pushnumber(L, ldexp(m, e));
  return 1;
}

/** math.frexp(x): m in [0.5, 1) and e with x = m * 2^e (x itself and 0 for 0, inf and nan). */
function mathFrexp(L: LuaState): number {
  const x = lauxlib.luaL_checknumber(L, 1);
  let m = x;
  let e = 0;
  if (x !== 0 && Number.isFinite(x)) {
    f64[0] = x;
    let biased = (u32[1]! >>> 20) & 0x7ff;
    if (biased === 0) {
      // Subnormal: scale into the normal range first.
      f64[0] = x * 2 ** 64;
      biased = ((u32[1]! >>> 20) & 0x7ff) - 64;
    }
    e = biased - 1022;
    m = ldexp(x, -e);
  }
  lua.lua_pushnumber(L, m);
  lua.lua_pushnumber(L, e);
  return 2;
}

/** `f`, with an invalid operation's NaN made x86's, as glibc's function returns it. */
function x86Invalid<A extends number[]>(f: (...x: A) => number): (...x: A) => number {
  return (...x) => {
    const r = f(...x);
    return r === r || x.some((a) => a !== a) ? r : X86_DEFAULT_NAN;
  };
}

/** A math function of one number. */
function unary(f: (x: number) => number): (L: LuaState) => number {
  return (L) => {
    lua.lua_pushnumber(L, f(lauxlib.luaL_checknumber(L, 1)));
    return 1;
  };
}

/** A math function of two numbers. */
function binary(f: (x: number, y: number) => number): (L: LuaState) => number {
  return (L) => {
    lua.lua_pushnumber(L, f(lauxlib.luaL_checknumber(L, 1), lauxlib.luaL_checknumber(L, 2)));
    return 1;
  };
}

/** The kilobytes the Lua heap holds: fengari's heap is the JS heap, so that is what is counted. */
function heapKilobytes(): number {
  return process.memoryUsage().heapUsed / 1024;
}

/** gcinfo(): the heap's size in whole kilobytes. */
function gcinfo(L: LuaState): number {
  lua.lua_pushnumber(L, Math.floor(heapKilobytes()));
  return 1;
}

const GC_OPTIONS = ["stop", "restart", "collect", "count", "step", "setpause", "setstepmul"];
/** The collector's tuning as collectgarbage reports it back (the JS heap has its own collector). */
const gcTuning = { setpause: 200, setstepmul: 200 };

/** collectgarbage([opt [, arg]]) with 5.1's options; the JS engine collects on its own schedule. */
function collectGarbage(L: LuaState): number {
  const opt = lua.lua_type(L, 1) > lua.LUA_TNIL ? latin1Of(lauxlib.luaL_checklstring(L, 1)) : "collect";
  if (!GC_OPTIONS.includes(opt)) return argError(L, 1, `invalid option '${opt}'`);
  const arg = lua.lua_type(L, 2) > lua.LUA_TNIL ? checkInteger51(L, 2) : 0;
  if (opt === "count") lua.lua_pushnumber(L, heapKilobytes());
  else if (opt === "step") lua.lua_pushboolean(L, false);
  else if (opt === "setpause" || opt === "setstepmul") {
    lua.lua_pushnumber(L, gcTuning[opt]);
    gcTuning[opt] = arg;
  } else lua.lua_pushnumber(L, 0);
  return 1;
}

const TEXT_MODE = new Uint8Array([116]); // "t"

/** load(f [, name]): 5.1 loads chunks from a reader function only (strings go through loadstring). */
function makeLoad(L: LuaState): void {
  lua.lua_getglobal(L, latin1Bytes("load"));
  const load53 = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
  lua.lua_pushcfunction(L, (s) => {
    checkFunction(s, 1);
    lua.lua_settop(s, 2);
    lua.lua_rawgeti(s, lua.LUA_REGISTRYINDEX, load53);
    lua.lua_insert(s, 1);
    lua.lua_call(s, 2, lua.LUA_MULTRET);
    return lua.lua_gettop(s);
  });
  lua.lua_setglobal(L, latin1Bytes("load"));
  // loadstring keeps 5.3's load, which reads strings (text only, as Redis refuses bytecode).
  lua.lua_pushcfunction(L, (s) => {
    lauxlib.luaL_checklstring(s, 1);
    lua.lua_settop(s, 2);
    lua.lua_rawgeti(s, lua.LUA_REGISTRYINDEX, load53);
    lua.lua_pushvalue(s, 1);
    lua.lua_pushvalue(s, 2);
    lua.lua_pushstring(s, TEXT_MODE);
    lua.lua_call(s, 3, lua.LUA_MULTRET);
    return lua.lua_gettop(s) - 2;
  });
  lua.lua_setglobal(L, latin1Bytes("loadstring"));
}

/** The threads the engine runs scripts in, which are the main chunk's as far as scripts can tell. */
const scriptThreads = new WeakSet<LuaState>();

/** Have coroutine.running() answer nil in `thread`, as it does in 5.1's main thread (the engine runs scripts in a thread of its own). */
export function markScriptThread(thread: LuaState): void {
  scriptThreads.add(thread);
}

/** coroutine.running(): the running coroutine, nil outside any (5.1 returns no "is main" flag). */
function coroutineRunning(L: LuaState): number {
  if (lua.lua_pushthread(L) || scriptThreads.has(L)) {
    lua.lua_pop(L, 1);
    lua.lua_pushnil(L);
  }
  return 1;
}

/** Set field `name` of the global table `lib` to a host function (null: remove it). */
function setLibField(L: LuaState, lib: string, name: string, f: ((L: LuaState) => number) | null): void {
  lua.lua_getglobal(L, latin1Bytes(lib));
  if (f === null) lua.lua_pushnil(L);
  else lua.lua_pushcfunction(L, f);
  lua.lua_setfield(L, -2, latin1Bytes(name));
  lua.lua_pop(L, 1);
}

/** Copy field `from` of the global table `lib` to its field `to` (5.1's aliases). */
function aliasLibField(L: LuaState, lib: string, from: string, to: string): void {
  lua.lua_getglobal(L, latin1Bytes(lib));
  lua.lua_getfield(L, -1, latin1Bytes(from));
  lua.lua_setfield(L, -2, latin1Bytes(to));
  lua.lua_pop(L, 1);
}

/** What Redis 7.0's Lua 5.1 lacks of fengari's 5.3 (library fields; whole globals below). */
const REMOVED_FIELDS: [string, string][] = [
  ["coroutine", "isyieldable"],
  ["math", "maxinteger"],
  ["math", "mininteger"],
  ["math", "tointeger"],
  ["math", "type"],
  ["math", "ult"],
  ["string", "pack"],
  ["string", "packsize"],
  ["string", "unpack"],
  ["table", "move"],
  ["table", "pack"],
  ["table", "unpack"],
];
const REMOVED_GLOBALS = ["debug", "fengari", "print", "rawlen"];

/** Library functions 5.1 has and 5.3 lacks, or has with other behaviour. */
const FIVE_ONE_FUNCTIONS: [string, string, (L: LuaState) => number][] = [
  ["string", "format", stringFormat],
  ["string", "char", stringChar],
  ["string", "sub", stringSub],
  ["string", "byte", stringByte],
  ["table", "getn", tableGetn],
  ["table", "setn", tableSetn],
  ["table", "maxn", tableMaxn],
  ["table", "foreach", tableForeach],
  ["table", "foreachi", tableForeachi],
  ["math", "min", extreme((best, d) => d < best)],
  ["math", "max", extreme((best, d) => d > best)],
  ["math", "floor", unary(Math.floor)],
  ["math", "ceil", unary(Math.ceil)],
  ["math", "ldexp", mathLdexp],
  ["math", "frexp", mathFrexp],
  ["math", "pow", binary(x86Invalid(Math.pow))],
  ["math", "atan2", binary(Math.atan2)],
  ["math", "log", unary(x86Invalid(Math.log))],
  ["math", "log10", unary(Math.log10)],
  ["math", "cosh", unary(Math.cosh)],
  ["math", "sinh", unary(Math.sinh)],
  ["math", "tanh", unary(Math.tanh)],
  ["coroutine", "running", coroutineRunning],
];

/**
 * Make the state's globals those of Redis 7.0's Lua 5.1, and numbers print as 5.1's. Call
 * once per state after the standard libraries (and after the engine's sandbox chunk, whose
 * unpack and loadstring this replaces), before the global table is made read-only.
 */
export function openLua51(L: LuaState): void {
  // fengari prints every state's numbers through this one hook.
  luaconf.set_lua_number2str(formatLuaNumber);
  for (const [lib, name, f] of FIVE_ONE_FUNCTIONS) setLibField(L, lib, name, f);
  aliasLibField(L, "math", "fmod", "mod");
  aliasLibField(L, "string", "gmatch", "gfind");
  for (const [lib, name] of REMOVED_FIELDS) setLibField(L, lib, name, null);
  for (const name of REMOVED_GLOBALS) {
    lua.lua_pushnil(L);
    lua.lua_setglobal(L, latin1Bytes(name));
  }
  lua.lua_pushcfunction(L, unpack51);
  lua.lua_setglobal(L, latin1Bytes("unpack"));
  lua.lua_pushcfunction(L, gcinfo);
  lua.lua_setglobal(L, latin1Bytes("gcinfo"));
  lua.lua_pushcfunction(L, collectGarbage);
  lua.lua_setglobal(L, latin1Bytes("collectgarbage"));
  lua.lua_pushstring(L, latin1Bytes("Lua 5.1"));
  lua.lua_setglobal(L, latin1Bytes("_VERSION"));
  makeLoad(L);
}
