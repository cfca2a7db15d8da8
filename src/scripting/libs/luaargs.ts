// What the C libraries Redis links into its Lua 5.1 (cjson, cmsgpack) get from the C API
// and fengari's Lua 5.3 API does differently: 5.1's integer arguments (a double cast to a
// 64-bit integer, never "number has no integer representation"), its type names, and its
// C stack limit, which decides where deep nesting fails and with which message.

import { lauxlib, lua, type LuaState } from "fengari";
// A cycle (lua.ts opens these libraries), harmless: only called once scripts run.
import { latin1Bytes } from "../convert.ts";

const FORMAT_STRING = new Uint8Array([37, 115]); // "%s"

/**
 * Lua 5.1's LUAI_MAXCSTACK: lua_checkstack refuses to let one C function's frame grow
 * past this many slots. Redis's libraries fail on deep nesting because of it, at a depth
 * that depends on how many slots each level holds.
 */
const LUA51_MAX_C_STACK = 8000;

/** luaL_error: raise `message`, prefixed with the calling script's "source:line: ". */
export function raiseError(L: LuaState, message: string): number {
  return lauxlib.luaL_error(L, FORMAT_STRING, latin1Bytes(message));
}

/** luaL_argerror: "bad argument #arg to 'name' (message)". */
export function argError(L: LuaState, arg: number, message: string): number {
  return lauxlib.luaL_argerror(L, arg, latin1Bytes(message));
}

/** Lua 5.1's lua_checkstack as seen by a C function: false once its frame would pass 8000 slots. */
export function hasStackRoom(L: LuaState, slots: number): boolean {
  return lua.lua_gettop(L) + slots <= LUA51_MAX_C_STACK && lua.lua_checkstack(L, slots);
}

const TWO_63 = 2 ** 63;

/**
 * Lua 5.1's luaL_checkinteger on x86-64: the number (or numeric string) truncated to a
 * 64-bit integer, where a value out of range (or NaN) becomes INT64_MIN as the CPU's
 * conversion makes it. Other types: "number expected, got <type>".
 */
export function checkInteger51(L: LuaState, arg: number): number {
  const n = lauxlib.luaL_checknumber(L, arg);
  if (!(n >= -TWO_63 && n < TWO_63)) return -TWO_63;
  return Math.trunc(n);
}

/** A 64-bit integer stored into a C int: its low 32 bits, signed. */
export function toCInt(n: number): number {
  if (Number.isSafeInteger(n)) return n | 0;
  return Number(BigInt.asIntN(32, BigInt(n)));
}

const TYPE_NAMES = ["nil", "boolean", "userdata", "number", "string", "table", "function", "userdata", "thread"];

/** Lua's name for the type of the value at `idx` (a light userdata is "userdata", as lua_typename says). */
export function typeNameAt(L: LuaState, idx: number): string {
  return TYPE_NAMES[lua.lua_type(L, idx)] ?? "no value";
}
