// Types for the part of fengari (Lua 5.3 in JavaScript, which ships no declarations) that
// redbun uses. Lua strings are Uint8Arrays of bytes on both sides, which is what makes
// the engine binary safe; JS strings are taken as UTF-8 only by to_luastring.

declare module "fengari" {
  export type LuaState = { readonly __luaState: unique symbol };
  export type LuaCFunction = (L: LuaState) => number;

  export interface LuaDebug {
    source: Uint8Array | null;
    currentline: number;
    what: Uint8Array | null;
  }

  export const lua: {
    readonly LUA_OK: 0;
    readonly LUA_TNIL: 0;
    readonly LUA_TBOOLEAN: 1;
    readonly LUA_TLIGHTUSERDATA: 2;
    readonly LUA_TNUMBER: 3;
    readonly LUA_TSTRING: 4;
    readonly LUA_TTABLE: 5;
    readonly LUA_TFUNCTION: 6;
    readonly LUA_MULTRET: -1;
    readonly LUA_REGISTRYINDEX: number;
    readonly LUA_RIDX_GLOBALS: number;
    readonly LUA_MASKCOUNT: number;
    readonly LUA_MASKLINE: number;
    readonly LUA_YIELD: 1;
    lua_newthread(L: LuaState): LuaState;
    lua_setupvalue(L: LuaState, funcindex: number, n: number): Uint8Array | null;
    lua_isstring(L: LuaState, idx: number): boolean;
    lua_resume(L: LuaState, from: LuaState | null, nargs: number): number;
    lua_yield(L: LuaState, nresults: number): number;
    lua_isyieldable(L: LuaState): boolean;
    lua_xmove(from: LuaState, to: LuaState, n: number): void;
    lua_Debug: new () => LuaDebug;
    lua_call(L: LuaState, nargs: number, nresults: number): void;
    lua_getfield(L: LuaState, idx: number, k: Uint8Array): number;
    lua_getglobal(L: LuaState, name: Uint8Array): number;
    lua_isnumber(L: LuaState, idx: number): boolean;
    lua_pushthread(L: LuaState): boolean;
    lua_absindex(L: LuaState, idx: number): number;
    lua_checkstack(L: LuaState, n: number): boolean;
    lua_createtable(L: LuaState, narr: number, nrec: number): void;
    lua_error(L: LuaState): number;
    lua_getinfo(L: LuaState, what: Uint8Array, ar: LuaDebug): number;
    lua_getstack(L: LuaState, level: number, ar: LuaDebug): number;
    lua_gettable(L: LuaState, idx: number): number;
    lua_gettop(L: LuaState): number;
    lua_insert(L: LuaState, idx: number): void;
    lua_isinteger(L: LuaState, idx: number): boolean;
    lua_newtable(L: LuaState): void;
    lua_next(L: LuaState, idx: number): number;
    lua_pcall(L: LuaState, nargs: number, nresults: number, msgh: number): number;
    lua_pcallk(L: LuaState, nargs: number, nresults: number, msgh: number, ctx: number, k: (L: LuaState, status: number, ctx: number) => number): number;
    lua_remove(L: LuaState, idx: number): void;
    lua_replace(L: LuaState, idx: number): void;
    lua_pop(L: LuaState, n: number): void;
    lua_pushboolean(L: LuaState, b: boolean): void;
    lua_pushcfunction(L: LuaState, f: LuaCFunction): void;
    lua_pushinteger(L: LuaState, n: number): void;
    lua_pushlightuserdata(L: LuaState, p: object | null): void;
    lua_pushlstring(L: LuaState, s: Uint8Array, len: number): void;
    /** redbun's patch: push buf[start..end) as a string, copied once. */
    lua_pushbytes(L: LuaState, buf: Uint8Array, start: number, end: number): void;
    lua_pushnil(L: LuaState): void;
    lua_pushnumber(L: LuaState, n: number): void;
    lua_pushstring(L: LuaState, s: Uint8Array): void;
    lua_pushvalue(L: LuaState, idx: number): void;
    lua_rawget(L: LuaState, idx: number): number;
    lua_rawlen(L: LuaState, idx: number): number;
    lua_rawgeti(L: LuaState, idx: number, n: number): number;
    lua_rawset(L: LuaState, idx: number): void;
    lua_rawseti(L: LuaState, idx: number, n: number): void;
    /** redbun's patch: Redis 7.0's read-only tables (every write to the table raises). */
    lua_enablereadonlytable(L: LuaState, idx: number, enabled: boolean): void;
    lua_isreadonlytable(L: LuaState, idx: number): boolean;
    lua_getmetatable(L: LuaState, idx: number): boolean;
    lua_setfield(L: LuaState, idx: number, k: Uint8Array): void;
    lua_setglobal(L: LuaState, name: Uint8Array): void;
    lua_setmetatable(L: LuaState, idx: number): void;
    lua_settable(L: LuaState, idx: number): void;
    lua_sethook(L: LuaState, f: ((L: LuaState, ar: LuaDebug) => void) | null, mask: number, count: number): void;
    lua_settop(L: LuaState, idx: number): void;
    lua_toboolean(L: LuaState, idx: number): boolean;
    lua_tointeger(L: LuaState, idx: number): number;
    lua_tolstring(L: LuaState, idx: number): Uint8Array;
    lua_tonumber(L: LuaState, idx: number): number;
    lua_touserdata(L: LuaState, idx: number): unknown;
    lua_type(L: LuaState, idx: number): number;
  };
  export const lauxlib: {
    luaL_newstate(): LuaState;
    luaL_argerror(L: LuaState, arg: number, extramsg: Uint8Array): number;
    luaL_checklstring(L: LuaState, arg: number): Uint8Array;
    luaL_checknumber(L: LuaState, arg: number): number;
    luaL_checkstack(L: LuaState, space: number, msg: Uint8Array | null): void;
    luaL_error(L: LuaState, fmt: Uint8Array, ...args: (Uint8Array | number)[]): number;
    luaL_loadbuffer(L: LuaState, buf: Uint8Array, size: number | null, name: Uint8Array): number;
    luaL_ref(L: LuaState, t: number): number;
    luaL_unref(L: LuaState, t: number, ref: number): void;
    luaL_dostring(L: LuaState, s: Uint8Array): number;
  };
  export const lualib: {
    luaL_openlibs(L: LuaState): void;
  };
  export function to_luastring(s: string): Uint8Array;
  /** luaconf's number printer, which redbun's patch makes settable (Lua 5.1's "%.14g"). */
  export const luaconf: {
    set_lua_number2str(f: (n: number) => string): void;
  };
}
