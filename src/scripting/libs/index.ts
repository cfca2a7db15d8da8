// The libraries Redis 7.0 loads into every script's Lua state besides Lua's own (its
// script_lua.c luaLoadLibraries): cjson, cmsgpack, bit and struct. Each module exports an
// opener that sets its global table; the engine calls openRedisLibraries once per state,
// before the global table is made read-only.

import type { LuaState } from "fengari";
import { openCjson } from "./cjson.ts";
import { openCmsgpack } from "./cmsgpack.ts";
import { openLua51 } from "../lua51.ts";
import { openBit } from "./bit.ts";
import { openStruct } from "./struct.ts";

/** Open each library Redis exposes to scripts as a global of the state. */
export function openRedisLibraries(L: LuaState): void {
  openLua51(L);
  openCjson(L);
  openCmsgpack(L);
  openBit(L);
  openStruct(L);
}
