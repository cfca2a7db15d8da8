// The `cmsgpack` library of Redis 7.0's scripts (lua-cmsgpack 0.4.0 built for Lua 5.1):
// pack any number of values into one MessagePack string, unpack a stream of them back,
// with the same bytes and errors. Lua 5.1 numbers are doubles, so a number is packed as
// the smallest integer type when it holds an int64 exactly and as a float or double
// otherwise; strings use fixstr/str8/str16/str32; a table whose keys are exactly 1..n is
// an array, any other a map; tables nested 16 deep are packed as nil.

import { lauxlib, lua, to_luastring, type LuaState } from "fengari";
import { argError, checkInteger51, hasStackRoom, raiseError, toCInt } from "./luaargs.ts";

/** Deeper tables are packed as nil, which stops cycles (LUACMSGPACK_MAX_NESTING). */
const MAX_NESTING = 16;

// What a stack check that fails names (luaL_checkstack's "stack overflow (...)"), as the library words it.
const IN_IS_ARRAY = to_luastring("in function table_is_an_array");
const IN_PACK_ARRAY = to_luastring("in function mp_encode_lua_table_as_array");
const IN_PACK_MAP = to_luastring("in function mp_encode_lua_table_as_map");
const IN_PACK = to_luastring("in function mp_check");
const IN_UNPACK_ARRAY = to_luastring("in function mp_decode_to_lua_array");
const IN_UNPACK = to_luastring("in function mp_unpack_full");

// ---------------------------------------------------------------------------------------
// Packing
// ---------------------------------------------------------------------------------------

/** The bytes being packed: one buffer reused by every call (a script runs alone). */
let out = new Uint8Array(256);
let outLength = 0;
const scratch = new DataView(new ArrayBuffer(8));

function reserve(bytes: number): void {
  if (outLength + bytes <= out.length) return;
  const grown = new Uint8Array(Math.max(out.length * 2, outLength + bytes));
  grown.set(out.subarray(0, outLength));
  out = grown;
}

/** A type byte followed by `size` big-endian bytes of `value` (size 0, 1, 2 or 4). */
function appendHeader(type: number, size: number, value: number): void {
  reserve(1 + size);
  out[outLength++] = type;
  for (let shift = (size - 1) * 8; shift >= 0; shift -= 8) out[outLength++] = Math.floor(value / 2 ** shift) & 0xff;
}

function appendScratch(type: number, size: number): void {
  reserve(1 + size);
  out[outLength++] = type;
  for (let i = 0; i < size; i++) out[outLength++] = scratch.getUint8(i);
}

function packBytes(bytes: Uint8Array): void {
  const n = bytes.length;
  if (n < 32) appendHeader(0xa0 | n, 0, 0);
  else if (n <= 0xff) appendHeader(0xd9, 1, n);
  else if (n <= 0xffff) appendHeader(0xda, 2, n);
  else appendHeader(0xdb, 4, n);
  reserve(n);
  out.set(bytes, outLength);
  outLength += n;
}

/** An integer in the smallest MessagePack type that holds it (|n| < 2^63). */
function packInteger(n: number): void {
  if (n >= 0) {
    if (n <= 127) appendHeader(n, 0, 0);
    else if (n <= 0xff) appendHeader(0xcc, 1, n);
    else if (n <= 0xffff) appendHeader(0xcd, 2, n);
    else if (n <= 0xffffffff) appendHeader(0xce, 4, n);
    else {
      scratch.setBigUint64(0, BigInt(n));
      appendScratch(0xcf, 8);
    }
  } else if (n >= -32) {
    appendHeader(n & 0xff, 0, 0);
  } else if (n >= -128) {
    appendHeader(0xd0, 1, n & 0xff);
  } else if (n >= -32768) {
    appendHeader(0xd1, 2, n & 0xffff);
  } else if (n >= -2147483648) {
    appendHeader(0xd2, 4, n >>> 0);
  } else {
    scratch.setBigInt64(0, BigInt(n));
    appendScratch(0xd3, 8);
  }
}

const TWO_63 = 2 ** 63;

/**
 * A Lua 5.1 number: an integer when casting it to int64 and back gives it again (so not
 * NaN, infinite, fractional or out of range; -2^63 is in), else a float when a float
 * holds it exactly, else a double.
 */
function packNumber(n: number): void {
  if (Number.isInteger(n) && n >= -TWO_63 && n < TWO_63) return packInteger(n);
  if (Math.fround(n) === n) {
    scratch.setFloat32(0, n);
    return appendScratch(0xca, 4);
  }
  if (n !== n) {
    // JS keeps no NaN sign. A script's NaN comes from arithmetic like 0/0, where x86
    // produces its default NaN, whose sign bit is set.
    scratch.setUint32(0, 0xfff80000);
    scratch.setUint32(4, 0);
  } else {
    scratch.setFloat64(0, n);
  }
  appendScratch(0xcb, 8);
}

/**
 * Whether the table on top has exactly the keys 1..n (n may be 0): number keys that are
 * positive and fit a C int, the largest equal to their count.
 */
function isArray(L: LuaState): boolean {
  let count = 0;
  let max = 0;
  lauxlib.luaL_checkstack(L, 2, IN_IS_ARRAY);
  lua.lua_pushnil(L);
  while (lua.lua_next(L, -2) !== 0) {
    lua.lua_pop(L, 1);
    const n = lua.lua_type(L, -1) === lua.LUA_TNUMBER ? lua.lua_tonumber(L, -1) : 0;
    if (!(n > 0) || !Number.isInteger(n) || n > 2147483647) {
      lua.lua_pop(L, 1);
      return false;
    }
    if (n > max) max = n;
    count++;
  }
  return max === count;
}

function packArray(L: LuaState, level: number): void {
  const n = lua.lua_rawlen(L, -1);
  if (n <= 15) appendHeader(0x90 | n, 0, 0);
  else if (n <= 0xffff) appendHeader(0xdc, 2, n);
  else appendHeader(0xdd, 4, n);
  lauxlib.luaL_checkstack(L, 1, IN_PACK_ARRAY);
  for (let i = 1; i <= n; i++) {
    lua.lua_pushnumber(L, i);
    lua.lua_gettable(L, -2);
    packValue(L, level + 1);
  }
}

function packMap(L: LuaState, level: number): void {
  lauxlib.luaL_checkstack(L, 3, IN_PACK_MAP);
  let n = 0;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, -2) !== 0) {
    lua.lua_pop(L, 1);
    n++;
  }
  if (n <= 15) appendHeader(0x80 | n, 0, 0);
  else if (n <= 0xffff) appendHeader(0xde, 2, n);
  else appendHeader(0xdf, 4, n);
  lua.lua_pushnil(L);
  while (lua.lua_next(L, -2) !== 0) {
    lua.lua_pushvalue(L, -2);
    packValue(L, level + 1);
    packValue(L, level + 1);
  }
}

/** Pack the value on top of the stack and pop it. */
function packValue(L: LuaState, level: number): void {
  let type = lua.lua_type(L, -1);
  if (type === lua.LUA_TTABLE && level === MAX_NESTING) type = lua.LUA_TNIL;
  switch (type) {
    case lua.LUA_TSTRING:
      packBytes(lua.lua_tolstring(L, -1));
      break;
    case lua.LUA_TBOOLEAN:
      appendHeader(lua.lua_toboolean(L, -1) ? 0xc3 : 0xc2, 0, 0);
      break;
    case lua.LUA_TNUMBER:
      packNumber(lua.lua_tonumber(L, -1));
      break;
    case lua.LUA_TTABLE:
      if (isArray(L)) packArray(L, level);
      else packMap(L, level);
      break;
    default:
      // nil, and what MessagePack cannot hold (functions, userdata, cjson.null).
      appendHeader(0xc0, 0, 0);
  }
  lua.lua_pop(L, 1);
}

/** cmsgpack.pack(v1, ...): the values packed one after another. */
function pack(L: LuaState): number {
  const count = lua.lua_gettop(L);
  if (count === 0) return argError(L, 0, "MessagePack pack needs input.");
  if (!hasStackRoom(L, count)) return argError(L, 0, "Too many arguments for MessagePack pack.");
  outLength = 0;
  for (let i = 1; i <= count; i++) {
    lauxlib.luaL_checkstack(L, 1, IN_PACK);
    lua.lua_pushvalue(L, i);
    packValue(L, 0);
  }
  lua.lua_pushlstring(L, out.subarray(0, outLength), outLength);
  if (out.length > 65536) out = new Uint8Array(256);
  return 1;
}

// ---------------------------------------------------------------------------------------
// Unpacking
// ---------------------------------------------------------------------------------------

const ERROR_NONE = 0;
/** The input ends inside a value. */
const ERROR_EOF = 1;
/** A type byte the library does not read (bin, ext, fixext, 0xc1). */
const ERROR_BAD_FORMAT = 2;

const TOO_MANY_VALUES = "too many return values at once; use unpack_one or unpack_limit instead.";

/** A read position in the input, and the first error met. */
class Cursor {
  pos: number;
  error = ERROR_NONE;
  readonly view: DataView;

  constructor(
    readonly data: Uint8Array,
    start: number,
  ) {
    this.pos = start;
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  get left(): number {
    return this.data.length - this.pos;
  }

  /** Whether `bytes` more are there; sets ERROR_EOF when not. */
  need(bytes: number): boolean {
    if (this.left >= bytes) return true;
    this.error = ERROR_EOF;
    return false;
  }
}

/** Push the string of `length` bytes after a header of `header` bytes. */
function unpackString(L: LuaState, c: Cursor, header: number, length: number): void {
  if (!c.need(header + length)) return;
  const start = c.pos + header;
  lua.lua_pushlstring(L, c.data.subarray(start, start + length), length);
  c.pos = start + length;
}

function unpackArray(L: LuaState, c: Cursor, length: number): void {
  lua.lua_newtable(L);
  lauxlib.luaL_checkstack(L, 1, IN_UNPACK_ARRAY);
  for (let index = 1; index <= length; index++) {
    lua.lua_pushnumber(L, index);
    unpackValue(L, c);
    if (c.error !== ERROR_NONE) return;
    lua.lua_settable(L, -3);
  }
}

function unpackMap(L: LuaState, c: Cursor, length: number): void {
  lua.lua_newtable(L);
  for (let i = 0; i < length; i++) {
    unpackValue(L, c);
    if (c.error !== ERROR_NONE) return;
    unpackValue(L, c);
    if (c.error !== ERROR_NONE) return;
    lua.lua_settable(L, -3);
  }
}

/** A length or count of `size` big-endian bytes after the type byte, the cursor moved past them; -1 at EOF. */
function readSize(c: Cursor, size: number): number {
  if (!c.need(1 + size)) return -1;
  const v = c.view;
  const at = c.pos + 1;
  const n = size === 1 ? v.getUint8(at) : size === 2 ? v.getUint16(at) : v.getUint32(at);
  c.pos += 1 + size;
  return n;
}

/** A fixed-size scalar: `size` bytes after the type byte, read with `read` at their offset. */
function unpackFixed(L: LuaState, c: Cursor, size: number, read: (v: DataView, at: number) => number): void {
  if (!c.need(1 + size)) return;
  lua.lua_pushnumber(L, read(c.view, c.pos + 1));
  c.pos += 1 + size;
}

/**
 * The scalars after a type byte (0xca to 0xd3): how many bytes and how to read them. The
 * 64-bit ones become doubles as Lua 5.1 holds them; a uint64 goes through the library's
 * signed lua_Integer first, so values from 2^63 on read as negative.
 */
const FIXED_READERS = new Map<number, [number, (v: DataView, at: number) => number]>([
  [0xcc, [1, (v, at) => v.getUint8(at)]],
  [0xcd, [2, (v, at) => v.getUint16(at)]],
  [0xce, [4, (v, at) => v.getUint32(at)]],
  [0xcf, [8, (v, at) => Number(v.getBigInt64(at))]],
  [0xd0, [1, (v, at) => v.getInt8(at)]],
  [0xd1, [2, (v, at) => v.getInt16(at)]],
  [0xd2, [4, (v, at) => v.getInt32(at)]],
  [0xd3, [8, (v, at) => Number(v.getBigInt64(at))]],
  [0xca, [4, (v, at) => v.getFloat32(at)]],
  [0xcb, [8, (v, at) => v.getFloat64(at)]],
]);

/** Push the value at the cursor (sets c.error instead when it cannot). */
function unpackValue(L: LuaState, c: Cursor): void {
  if (!c.need(1)) return;
  if (!hasStackRoom(L, 1)) raiseError(L, `stack overflow (${TOO_MANY_VALUES})`);
  const type = c.data[c.pos]!;
  const fixed = FIXED_READERS.get(type);
  if (fixed !== undefined) return unpackFixed(L, c, fixed[0], fixed[1]);
  switch (type) {
    case 0xc0:
      lua.lua_pushnil(L);
      c.pos++;
      return;
    case 0xc2:
    case 0xc3:
      lua.lua_pushboolean(L, type === 0xc3);
      c.pos++;
      return;
    case 0xd9:
    case 0xda:
    case 0xdb: {
      const size = type === 0xd9 ? 1 : type === 0xda ? 2 : 4;
      const start = c.pos;
      const length = readSize(c, size);
      if (length < 0) return;
      c.pos = start;
      return unpackString(L, c, 1 + size, length);
    }
    case 0xdc:
    case 0xdd:
    case 0xde:
    case 0xdf: {
      const count = readSize(c, type === 0xdc || type === 0xde ? 2 : 4);
      if (count < 0) return;
      return type <= 0xdd ? unpackArray(L, c, count) : unpackMap(L, c, count);
    }
  }
  if ((type & 0x80) === 0) {
    lua.lua_pushnumber(L, type);
    c.pos++;
  } else if ((type & 0xe0) === 0xe0) {
    lua.lua_pushnumber(L, type - 256);
    c.pos++;
  } else if ((type & 0xe0) === 0xa0) {
    unpackString(L, c, 1, type & 0x1f);
  } else if ((type & 0xf0) === 0x90) {
    c.pos++;
    unpackArray(L, c, type & 0x0f);
  } else if ((type & 0xf0) === 0x80) {
    c.pos++;
    unpackMap(L, c, type & 0x0f);
  } else {
    c.error = ERROR_BAD_FORMAT;
  }
}

/**
 * Unpack up to `limit` values from byte `offset` of argument 1 (limit and offset both 0:
 * every value, and no offset returned). With a limit, the first result is where the next
 * value starts, or -1 at the end of the input.
 */
function unpackFull(L: LuaState, limit: number, offset: number): number {
  const data = lauxlib.luaL_checklstring(L, 1);
  // The library prints the input length where it means the limit.
  if (offset < 0 || limit < 0) return raiseError(L, `Invalid request to unpack with offset of ${toCInt(offset)} and limit of ${toCInt(data.length)}.`);
  if (offset > data.length) return raiseError(L, `Start offset ${toCInt(offset)} greater than input length ${toCInt(data.length)}.`);
  const all = limit === 0 && offset === 0;
  if (all) limit = 2147483647;
  const c = new Cursor(data, offset);
  let count = 0;
  for (; c.left > 0 && count < limit; count++) {
    unpackValue(L, c);
    if (c.error === ERROR_EOF) return raiseError(L, "Missing bytes in input.");
    if (c.error === ERROR_BAD_FORMAT) return raiseError(L, "Bad data format in input.");
  }
  if (all) return count;
  lauxlib.luaL_checkstack(L, 1, IN_UNPACK);
  lua.lua_pushinteger(L, c.left === 0 ? -1 : c.pos);
  lua.lua_insert(L, 2);
  return count + 1;
}

function unpack(L: LuaState): number {
  return unpackFull(L, 0, 0);
}

function unpackOne(L: LuaState): number {
  const offset = lua.lua_type(L, 2) <= lua.LUA_TNIL ? 0 : checkInteger51(L, 2);
  lua.lua_settop(L, 1);
  return unpackFull(L, 1, offset);
}

function unpackLimit(L: LuaState): number {
  const limit = checkInteger51(L, 2);
  const offset = lua.lua_type(L, 3) <= lua.LUA_TNIL ? 0 : checkInteger51(L, 3);
  lua.lua_settop(L, 1);
  return unpackFull(L, limit, offset);
}

// ---------------------------------------------------------------------------------------
// The module table
// ---------------------------------------------------------------------------------------

const FUNCTIONS: [string, (L: LuaState) => number][] = [
  ["pack", pack],
  ["unpack", unpack],
  ["unpack_one", unpackOne],
  ["unpack_limit", unpackLimit],
];

const FIELDS: [string, string][] = [
  ["_NAME", "cmsgpack"],
  ["_VERSION", "lua-cmsgpack 0.4.0"],
  ["_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo"],
  ["_DESCRIPTION", "MessagePack C implementation for Lua"],
];

/** Set the global `cmsgpack`. */
export function openCmsgpack(L: LuaState): void {
  lua.lua_newtable(L);
  for (const [name, fn] of FUNCTIONS) {
    lua.lua_pushcfunction(L, fn);
    lua.lua_setfield(L, -2, to_luastring(name));
  }
  for (const [name, text] of FIELDS) {
    lua.lua_pushstring(L, to_luastring(text));
    lua.lua_setfield(L, -2, to_luastring(name));
  }
  lua.lua_setglobal(L, to_luastring("cmsgpack"));
}
