// Redis 7.0 functions (functions.c and function_lua.c): libraries of Lua functions loaded
// with FUNCTION LOAD and kept by name, their functions callable by name with FCALL.
//
// - All libraries share one Lua state of their own (not EVAL's), as in Redis.
// - A library's code runs once, at load, with an environment holding only the load API
//   (`redis.register_function`, `redis.log`, the version): reading anything else is an
//   error. The functions it registers keep that environment, which is then switched to
//   the real globals, so at FCALL they see everything a script does.
// - The code of a library is kept as given: FUNCTION DUMP, the RDB and the AOF store it,
//   and loading it again rebuilds the library.

import { lauxlib, lua, to_luastring, type LuaState } from "fengari";
import { LuaEngine } from "./lua.ts";
import { latin1Of } from "./convert.ts";
import type { RedisApiHost } from "./redis-api.ts";
import { globMatch } from "../util/glob.ts";
import { RestorePolicy, SCRIPT_FLAG_NAMES, shebangWords } from "./flags.ts";

export interface LuaFunction {
  readonly name: string;
  readonly library: Library;
  /** Registry reference of the callback in the functions' Lua state. */
  readonly ref: number;
  readonly flags: number;
  readonly description: string | null;
}

export interface Library {
  readonly name: string;
  /** The code as loaded, shebang line included. */
  readonly code: Uint8Array;
  readonly functions: LuaFunction[];
}

const CHUNK_NAME = to_luastring("@user_function");
const LOAD_TIMEOUT_MS = 500;
/** The two texts Redis has for a library name in use: FUNCTION LOAD's and the restore's (libraryJoin). */
const LOAD_EXISTS = (name: string): string => `ERR Library '${name}' already exists`;
const RESTORE_EXISTS = (name: string): string => `ERR Library ${name} already exists`;
const LOAD_TIMEOUT = "ERR FUNCTION LOAD timeout";
const BAD_NAME = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";
/** What the load environment's `redis` holds, copied from the scripts' own `redis` table. */
const LOAD_API_FIELDS = ["log", "LOG_DEBUG", "LOG_VERBOSE", "LOG_NOTICE", "LOG_WARNING", "REDIS_VERSION", "REDIS_VERSION_NUM"];

/** A library being created: the functions its code registered so far. */
interface Pending {
  readonly library: Library;
}

export class FunctionStore {
  readonly engine: LuaEngine;
  /** Library name (case-sensitive) -> library, in load order. */
  readonly libraries = new Map<string, Library>();
  /** Function name, lowercased (FCALL finds it in any case) -> function. */
  readonly functions = new Map<string, LuaFunction>();
  /** The library whose code runs now (FUNCTION LOAD), null otherwise. */
  private pending: Pending | null = null;
  /** The environment of every library's code; its __index reads the load API or the globals. */
  private readonly envRef: number;
  private readonly loadApiRef: number;

  constructor(host: RedisApiHost) {
    this.engine = new LuaEngine(host, true);
    this.loadApiRef = this.createLoadApi();
    this.envRef = this.createEnvironment();
  }

  get functionCount(): number {
    return this.functions.size;
  }

  /** The `redis` table the load environment offers: register_function and the load-safe helpers. */
  private createLoadApi(): number {
    const L = this.engine.L;
    lua.lua_createtable(L, 0, LOAD_API_FIELDS.length + 1);
    lua.lua_pushcfunction(L, (s) => this.registerFunction(s));
    lua.lua_setfield(L, -2, to_luastring("register_function"));
    lua.lua_getglobal(L, to_luastring("redis"));
    for (const field of LOAD_API_FIELDS) {
      const name = to_luastring(field);
      if (lua.lua_getfield(L, -1, name) === lua.LUA_TNIL) lua.lua_pop(L, 1);
      else lua.lua_setfield(L, -3, name);
    }
    lua.lua_pop(L, 1);
    this.guard(L, () => null);
    return lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
  }

  /** The libraries' environment: `redis` is the load API while one loads, the globals after. */
  private createEnvironment(): number {
    const L = this.engine.L;
    lua.lua_newtable(L);
    this.guard(L, (s, key) => {
      if (this.pending !== null) {
        if (key !== "redis") return null;
        lua.lua_rawgeti(s, lua.LUA_REGISTRYINDEX, this.loadApiRef);
        return 1;
      }
      lua.lua_rawgeti(s, lua.LUA_REGISTRYINDEX, lua.LUA_RIDX_GLOBALS);
      lua.lua_pushvalue(s, 2);
      if (lua.lua_rawget(s, -2) === lua.LUA_TNIL) return null;
      return 1;
    });
    return lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
  }

  /**
   * Give the table on top the sandbox's metatable: reading a missing field (where `lookup`
   * pushes nothing) is "nonexistent global variable", writing is "readonly table".
   */
  private guard(L: LuaState, lookup: (L: LuaState, key: string) => number | null): void {
    const engine = this.engine;
    lua.lua_createtable(L, 0, 2);
    lua.lua_pushcfunction(L, (s) => {
      const key = lua.lua_type(s, 2) === lua.LUA_TSTRING ? latin1Of(lua.lua_tolstring(s, 2)) : "";
      const found = lookup(s, key);
      if (found !== null) return found;
      return engine.raise(s, `Script attempted to access nonexistent global variable '${key}'`);
    });
    lua.lua_setfield(L, -2, to_luastring("__index"));
    lua.lua_pushcfunction(L, (s) => engine.raise(s, "Attempt to modify a readonly table"));
    lua.lua_setfield(L, -2, to_luastring("__newindex"));
    lua.lua_setmetatable(L, -2);
  }

  /** FUNCTION LOAD [REPLACE]: the library's name once it is in place, or the error to reply. */
  load(code: Uint8Array, replace: boolean): Library | string {
    const created = this.create(code, replace);
    if (typeof created === "string") return created;
    const error = this.install([created], replace, LOAD_EXISTS);
    if (error !== null) {
      this.release(created);
      return error;
    }
    return created;
  }

  /**
   * Build a library from its code without installing it: null-free checks of the
   * metadata, the name against what exists (unless `replace`), then its code run once.
   */
  private create(code: Uint8Array, replace: boolean): Library | string {
    const meta = parseMetadata(code);
    if (typeof meta === "string") return meta;
    if (!isValidName(meta.name)) return `ERR ${BAD_NAME}`;
    if (meta.engine.toLowerCase() !== "lua") return `ERR Engine '${meta.engine}' not found`;
    if (!replace && this.libraries.has(meta.name)) return LOAD_EXISTS(meta.name);
    const library: Library = { name: meta.name, code: code.slice(), functions: [] };
    const engine = this.engine;
    const L = engine.L;
    const compileError = engine.compile(code.subarray(meta.bodyStart), CHUNK_NAME);
    if (compileError !== null) return `ERR Error compiling function: ${compileError}`;
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, this.envRef);
    lua.lua_setupvalue(L, -2, 1);
    this.pending = { library };
    const error = engine.runToEnd(LOAD_TIMEOUT_MS, LOAD_TIMEOUT);
    this.pending = null;
    if (error !== null) {
      this.release(library);
      return `ERR Error registering functions: ${error}`;
    }
    if (library.functions.length === 0) return "ERR No functions registered";
    return library;
  }

  /**
   * Put libraries in place, each replacing the one of its name when `replace`; nothing
   * changes when a function name is taken by a library that stays. Null, or the error.
   */
  private install(libraries: Library[], replace: boolean, exists: (name: string) => string): string | null {
    const replaced = new Set<string>();
    for (const library of libraries) {
      if (this.libraries.has(library.name)) {
        if (!replace) return exists(library.name);
        replaced.add(library.name);
      }
    }
    // Function name (any case) -> the new library registering it.
    const taken = new Map<string, Library>();
    for (const library of libraries) {
      for (const fn of library.functions) {
        const key = fn.name.toLowerCase();
        const owner = this.functions.get(key);
        const newOwner = taken.get(key);
        if ((owner !== undefined && !replaced.has(owner.library.name)) || (newOwner !== undefined && newOwner !== library)) {
          return `ERR Function ${fn.name} already exists`;
        }
        taken.set(key, library);
      }
    }
    for (const name of replaced) this.delete(name);
    for (const library of libraries) {
      this.libraries.set(library.name, library);
      for (const fn of library.functions) this.functions.set(fn.name.toLowerCase(), fn);
    }
    return null;
  }

  /** FUNCTION DELETE: false when no library has that name. */
  delete(name: string): boolean {
    const library = this.libraries.get(name);
    if (library === undefined) return false;
    this.libraries.delete(name);
    for (const fn of library.functions) this.functions.delete(fn.name.toLowerCase());
    this.release(library);
    return true;
  }

  /** FUNCTION FLUSH, and a whole new dataset loading (RDB, full sync). */
  flush(): void {
    for (const name of [...this.libraries.keys()]) this.delete(name);
  }

  /**
   * FUNCTION RESTORE and an RDB's libraries: create every one first, then install them
   * together under the policy; nothing changes if any fails. Null, or the error.
   */
  restore(codes: Uint8Array[], policy: RestorePolicy): string | null {
    const created: Library[] = [];
    const fail = (error: string): string => {
      for (const library of created) this.release(library);
      return error;
    };
    const names = new Set<string>();
    for (const code of codes) {
      const library = this.create(code, true);
      if (typeof library === "string") return fail(library);
      if (names.has(library.name)) return fail(RESTORE_EXISTS(library.name));
      names.add(library.name);
      created.push(library);
    }
    if (policy === RestorePolicy.Flush) {
      const previous = this.libraries.size > 0 ? [...this.libraries.values()] : [];
      // Detach without releasing, so that a failed install can put them back.
      this.libraries.clear();
      this.functions.clear();
      const error = this.install(created, false, RESTORE_EXISTS);
      if (error !== null) {
        this.install(previous, false, RESTORE_EXISTS);
        return fail(error);
      }
      for (const library of previous) this.release(library);
      return null;
    }
    const error = this.install(created, policy === RestorePolicy.Replace, RESTORE_EXISTS);
    return error === null ? null : fail(error);
  }

  /** The libraries whose names match `pattern` (FUNCTION LIST LIBRARYNAME, nocase), or all. */
  matching(pattern: string | null): Library[] {
    const all = [...this.libraries.values()];
    return pattern === null ? all : all.filter((library) => globMatch(pattern, library.name, true));
  }

  /** Drop the callbacks a library holds in the registry. */
  private release(library: Library): void {
    const L = this.engine.L;
    for (const fn of library.functions) lauxlib.luaL_unref(L, lua.LUA_REGISTRYINDEX, fn.ref);
  }

  // -------------------------------------------------------------------------------------
  // redis.register_function (function_lua.c luaRegisterFunction)
  // -------------------------------------------------------------------------------------

  private registerFunction(L: LuaState): number {
    const pending = this.pending;
    if (pending === null) return this.fail(L, "ERR redis.register_function can only be called on FUNCTION LOAD command");
    const args = readRegisterArgs(L);
    if (typeof args === "string") return this.fail(L, `ERR ${args}`);
    if (!isValidName(args.name)) return this.fail(L, `ERR ${BAD_NAME}`);
    // Within a library names are case-sensitive; FCALL finds them in any case.
    if (pending.library.functions.some((fn) => fn.name === args.name)) return this.fail(L, "ERR Function already exists in the library");
    // The callback was left on top by readRegisterArgs.
    const ref = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    pending.library.functions.push({ name: args.name, library: pending.library, ref, flags: args.flags, description: args.description });
    return 0;
  }

  /** Raise an error reply from register_function (no position, as Redis's own errors). */
  private fail(L: LuaState, message: string): number {
    this.engine.raiseReply(L, message);
    return 0;
  }
}

interface RegisterArgs {
  name: string;
  flags: number;
  description: string | null;
}

/**
 * register_function(name, callback) or register_function{function_name=, callback=,
 * flags=, description=}: the arguments, with the callback pushed on top, or the error.
 */
function readRegisterArgs(L: LuaState): RegisterArgs | string {
  const argc = lua.lua_gettop(L);
  if (argc === 2) {
    if (!lua.lua_isstring(L, 1)) return "first argument to redis.register_function must be a string";
    if (lua.lua_type(L, 2) !== lua.LUA_TFUNCTION) return "second argument to redis.register_function must be a function";
    const name = latin1Of(lua.lua_tolstring(L, 1));
    lua.lua_pushvalue(L, 2);
    return { name, flags: 0, description: null };
  }
  if (argc !== 1) return "wrong number of arguments to redis.register_function";
  if (lua.lua_type(L, 1) !== lua.LUA_TTABLE) {
    return "calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).";
  }
  const args: RegisterArgs = { name: "", flags: 0, description: null };
  let named = false;
  let callback = false;
  // Slot 2 will hold the callback; the iteration runs above it.
  lua.lua_settop(L, 2);
  lua.lua_pushnil(L);
  while (lua.lua_next(L, 1) !== 0) {
    if (!lua.lua_isstring(L, -2)) return "named argument key given to redis.register_function is not a string";
    // A number key reads as its text; converting a copy leaves the iteration's key alone.
    lua.lua_pushvalue(L, -2);
    const key = latin1Of(lua.lua_tolstring(L, -1));
    lua.lua_pop(L, 1);
    if (key === "function_name") {
      if (!lua.lua_isstring(L, -1)) return "function_name argument given to redis.register_function must be a string";
      args.name = latin1Of(lua.lua_tolstring(L, -1));
      named = true;
    } else if (key === "description") {
      if (!lua.lua_isstring(L, -1)) return "description argument given to redis.register_function must be a string";
      args.description = latin1Of(lua.lua_tolstring(L, -1));
    } else if (key === "callback") {
      if (lua.lua_type(L, -1) !== lua.LUA_TFUNCTION) return "callback argument given to redis.register_function must be a function";
      // Keep it in slot 2, below the iteration.
      lua.lua_pushvalue(L, -1);
      lua.lua_replace(L, 2);
      callback = true;
    } else if (key === "flags") {
      const flags = readFlags(L);
      if (flags === null) return "flags argument to redis.register_function must be a table representing function flags";
      if (typeof flags === "string") return flags;
      args.flags = flags;
    } else {
      return "unknown argument given to redis.register_function";
    }
    lua.lua_pop(L, 1);
  }
  if (!named) return "redis.register_function must get a function name argument";
  if (!callback) return "redis.register_function must get a callback argument";
  lua.lua_settop(L, 2);
  return args;
}

/** The flags table on top: its bits, null when it is no table, or the error for a bad flag. */
function readFlags(L: LuaState): number | string | null {
  if (lua.lua_type(L, -1) !== lua.LUA_TTABLE) return null;
  let flags = 0;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, -2) !== 0) {
    const name = lua.lua_type(L, -1) === lua.LUA_TSTRING ? latin1Of(lua.lua_tolstring(L, -1)) : "";
    const flag = SCRIPT_FLAG_NAMES.find(([flagName]) => flagName === name);
    if (flag === undefined) {
      lua.lua_pop(L, 2);
      return "unknown flag given";
    }
    flags |= flag[1];
    lua.lua_pop(L, 1);
  }
  return flags;
}

/** Letters, digits and underscores, at least one (functionsVerifyName). */
function isValidName(name: string): boolean {
  return /^[A-Za-z0-9_]+$/.test(name);
}

interface Metadata {
  engine: string;
  name: string;
  /** Where the code after the shebang line starts (its newline kept, so lines count from 1). */
  bodyStart: number;
}

/** The shebang line "#!<engine> name=<library>" (functionExtractLibMetaData). */
function parseMetadata(code: Uint8Array): Metadata | string {
  if (code.length < 2 || code[0] !== 35 || code[1] !== 33) return "ERR Missing library metadata";
  const end = code.indexOf(10);
  if (end < 0) return "ERR Invalid library metadata";
  const parts = shebangWords(code, end);
  let name: string | null = null;
  for (const part of parts.slice(1)) {
    if (part.slice(0, 5).toLowerCase() === "name=") {
      if (name !== null) return "ERR Invalid metadata value, name argument was given multiple times";
      name = part.slice(5);
      continue;
    }
    return `ERR Invalid metadata value given: ${part}`;
  }
  if (name === null) return "ERR Library name was not given";
  return { engine: parts[0]!.slice(2), name, bodyStart: end };
}
