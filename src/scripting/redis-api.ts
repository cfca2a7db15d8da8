// The `redis` table scripts see (Redis 7.0's script_lua.c luaRegisterRedisAPI): call and
// pcall run commands through the host (the script runner), the rest are helpers a script
// calls for itself.

import { lua, to_luastring, type LuaState } from "fengari";

const OK_FIELD = to_luastring("ok");
const ERR_FIELD = to_luastring("err");

/** What the `redis` table needs from the script runner. */
export interface RedisApiHost {
  /** redis.call (raise) and redis.pcall: run the command whose arguments are on the stack, push its reply. */
  redisCall(L: LuaState, raise: boolean): number;
}

/** Set the global `redis` table of a fresh state. */
export function installRedisApi(L: LuaState, host: RedisApiHost): void {
  lua.lua_newtable(L);
  lua.lua_pushcfunction(L, (s) => host.redisCall(s, true));
  lua.lua_setfield(L, -2, to_luastring("call"));
  lua.lua_pushcfunction(L, (s) => host.redisCall(s, false));
  lua.lua_setfield(L, -2, to_luastring("pcall"));
  lua.lua_pushcfunction(L, (s) => replyTable(s, ERR_FIELD));
  lua.lua_setfield(L, -2, to_luastring("error_reply"));
  lua.lua_pushcfunction(L, (s) => replyTable(s, OK_FIELD));
  lua.lua_setfield(L, -2, to_luastring("status_reply"));
  lua.lua_setglobal(L, to_luastring("redis"));
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
