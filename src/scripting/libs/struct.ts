// The `struct` library Redis 7.0 ships (Roberto Ierusalimschy's struct 1.4, with Redis's
// bounds checks): struct.pack, struct.unpack and struct.size over C layouts as x86-64 Linux
// lays them out (short 2, int 4, long and size_t 8 bytes, native little endian, doubles
// aligned to 8). Integers travel as C's unsigned long (64 bits): wider fields are padded
// or truncated the way the C shifts do, so the odd sizes match byte for byte too.

import { lauxlib, lua, type LuaState } from "fengari";
import { latin1Bytes } from "../convert.ts";
import { argError, checkInteger51, hasStackRoom, raiseError } from "./luaargs.ts";
import { toUnsignedLong, withNaNSign } from "../printf.ts";

/** Widest integer field, in bytes (MAXINTSIZE). */
const MAX_INT_SIZE = 32;
/** Alignment "!" stands for without a number: a double's, 8 on x86-64. */
const MAX_ALIGN = 8;
const INT_MAX = 2147483647;

/** The state of one walk over a format: where it reads, and the current byte order and alignment. */
interface Walk {
  fmt: Uint8Array;
  at: number;
  little: boolean;
  align: number;
}

function newWalk(fmt: Uint8Array): Walk {
  return { fmt, at: 0, little: true, align: 1 };
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 48 && c <= 57;
}

function isAlnum(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** The number at the walk's position, or `fallback` when none; past INT_MAX is an error. */
function readNumber(L: LuaState, walk: Walk, fallback: number): number {
  const fmt = walk.fmt;
  if (!isDigit(fmt[walk.at])) return fallback;
  let n = 0;
  do {
    const d = fmt[walk.at]! - 48;
    if (n > Math.floor(INT_MAX / 10) || n * 10 > INT_MAX - d) raiseError(L, "integral size overflow");
    n = n * 10 + d;
    walk.at++;
  } while (isDigit(fmt[walk.at]));
  return n;
}

/** The size in bytes of option `opt` (reading its number), 0 for the options without one. */
function optionSize(L: LuaState, opt: number, walk: Walk): number {
  switch (opt) {
    case 66: case 98: return 1; // B b
    case 72: case 104: return 2; // H h
    case 76: case 108: case 84: case 100: return 8; // L l T d
    case 102: return 4; // f
    case 120: return 1; // x
    case 99: return readNumber(L, walk, 1); // c
    case 105: case 73: { // i I
      const size = readNumber(L, walk, 4);
      if (size > MAX_INT_SIZE) raiseError(L, `integral size ${size} is larger than limit of ${MAX_INT_SIZE}`);
      return size;
    }
    default:
      return 0;
  }
}

/** Padding before a field of `size` bytes at offset `len` (the C formula, also for sizes that are not powers of 2). */
function paddingFor(len: number, walk: Walk, opt: number, size: number): number {
  if (size === 0 || opt === 99 /* c */) return 0;
  if (size > walk.align) size = walk.align;
  return (size - (len & (size - 1))) & (size - 1);
}

/** ' ', '<', '>' and '!n'; anything else is not an option. */
function controlOption(L: LuaState, opt: number, walk: Walk): void {
  switch (opt) {
    case 32:
      return;
    case 62:
      walk.little = false;
      return;
    case 60:
      walk.little = true;
      return;
    case 33: {
      const align = readNumber(L, walk, MAX_ALIGN);
      if (align <= 0 || (align & (align - 1)) !== 0) raiseError(L, `alignment ${align} is not a power of 2`);
      walk.align = align;
      return;
    }
    default:
      argError(L, 1, `invalid format option '${String.fromCharCode(opt)}'`);
  }
}

function isIntegerOption(opt: number): boolean {
  // b B h H l L T i I
  return opt === 98 || opt === 66 || opt === 104 || opt === 72 || opt === 108 || opt === 76 || opt === 84 || opt === 105 || opt === 73;
}

// ---------------------------------------------------------------------------------------
// Numbers as C converts them
// ---------------------------------------------------------------------------------------

const TWO_64 = 2 ** 64;
const MASK_64 = (1n << 64n) - 1n;

/** `size` bytes of `value`, low byte first or last; bytes past the 8 of a long are zero. */
function putInteger(out: number[], value: bigint, size: number, little: boolean): void {
  const bytes = new Array<number>(size);
  for (let i = 0; i < size; i++) {
    bytes[little ? i : size - 1 - i] = Number(value & 0xffn);
    value >>= 8n;
  }
  for (const b of bytes) out.push(b);
}

/**
 * A `size`-byte integer at data[pos]: the last 8 bytes read stay (C's 64-bit shifts), and a
 * signed field extends the bit at size*8-1, a shift count x86 takes modulo 64.
 */
function getInteger(data: Uint8Array, pos: number, size: number, little: boolean, signed: boolean): number {
  let value = 0n;
  for (let i = 0; i < size; i++) {
    const byte = data[pos + (little ? size - 1 - i : i)]!;
    value = ((value << 8n) | BigInt(byte)) & MASK_64;
  }
  if (!signed) return Number(value);
  const mask = (MASK_64 << BigInt((size * 8 - 1) & 63)) & MASK_64;
  if (value & mask) value |= mask;
  return Number(BigInt.asIntN(64, value));
}

const f32 = new Float32Array(1);
const f64 = new Float64Array(1);
const f32Bytes = new Uint8Array(f32.buffer);
const f64Bytes = new Uint8Array(f64.buffer);

/** The native (little-endian) bytes of a float or double, reversed for big endian. */
function putFloat(out: number[], bytes: Uint8Array, little: boolean): void {
  if (little) for (let i = 0; i < bytes.length; i++) out.push(bytes[i]!);
  else for (let i = bytes.length - 1; i >= 0; i--) out.push(bytes[i]!);
}

function getFloat(data: Uint8Array, pos: number, bytes: Uint8Array, little: boolean): void {
  const size = bytes.length;
  for (let i = 0; i < size; i++) bytes[i] = data[pos + (little ? i : size - 1 - i)]!;
}

// ---------------------------------------------------------------------------------------
// struct.pack / struct.unpack / struct.size
// ---------------------------------------------------------------------------------------

/** struct.pack(fmt, ...): the values laid out as the format says. */
function pack(L: LuaState): number {
  const walk = newWalk(lauxlib.luaL_checklstring(L, 1));
  const fmt = walk.fmt;
  // Like C's b_pack, a nil marks the end of the arguments: a missing value is "got nil".
  lua.lua_pushnil(L);
  const out: number[] = [];
  let arg = 2;
  while (walk.at < fmt.length) {
    const opt = fmt[walk.at++]!;
    let size = optionSize(L, opt, walk);
    for (let pad = paddingFor(out.length, walk, opt, size); pad > 0; pad--) out.push(0);
    if (isIntegerOption(opt)) putInteger(out, toUnsignedLong(lauxlib.luaL_checknumber(L, arg++)), size, walk.little);
    else if (opt === 120 /* x */) out.push(0);
    else if (opt === 102 /* f */) {
      f32[0] = lauxlib.luaL_checknumber(L, arg++);
      putFloat(out, f32Bytes, walk.little);
    } else if (opt === 100 /* d */) {
      f64[0] = lauxlib.luaL_checknumber(L, arg++);
      putFloat(out, f64Bytes, walk.little);
    } else if (opt === 99 /* c */ || opt === 115 /* s */) {
      const s = lauxlib.luaL_checklstring(L, arg++);
      if (size === 0) size = s.length;
      if (s.length < size) argError(L, arg, "string too short");
      for (let i = 0; i < size; i++) out.push(s[i]!);
      if (opt === 115) out.push(0);
    } else controlOption(L, opt, walk);
  }
  const bytes = Uint8Array.from(out);
  lua.lua_pushlstring(L, bytes, bytes.length);
  return 1;
}

/**
 * (size_t)n as x86-64 converts it: truncation (so -0.5 is 0), a negative number or NaN
 * becomes huge (Infinity here: it fits nowhere), and 2^64 and above wrap to 0.
 */
function toSizeT(n: number): number {
  const t = Math.trunc(n);
  if (t >= TWO_64) return 0;
  return t >= 0 ? t : Infinity;
}

/** Whether `size` bytes fit at `pos` of `length` (a negative start offset wrapped to a huge one in C). */
function fits(pos: number, size: number, length: number): boolean {
  return pos >= 0 && size <= length && pos <= length - size;
}

/** One field of struct.unpack at `pos`, pushed; returns its size (which 'c0' and 's' only know now). */
function unpackField(L: LuaState, opt: number, walk: Walk, data: Uint8Array, pos: number, size: number): number {
  if (isIntegerOption(opt)) {
    lua.lua_pushnumber(L, getInteger(data, pos, size, walk.little, opt >= 97 /* lowercase: signed */));
  } else if (opt === 102 /* f */) {
    getFloat(data, pos, f32Bytes, walk.little);
    lua.lua_pushnumber(L, withNaNSign(f32[0]!, f32Bytes[3]! >= 0x80));
  } else if (opt === 100 /* d */) {
    getFloat(data, pos, f64Bytes, walk.little);
    lua.lua_pushnumber(L, withNaNSign(f64[0]!, f64Bytes[7]! >= 0x80));
  } else if (opt === 99 /* c */) {
    if (size === 0) {
      // The length is the value unpacked just before (which this consumes).
      if (!lua.lua_isnumber(L, -1)) raiseError(L, "format 'c0' needs a previous size");
      size = toSizeT(lua.lua_tonumber(L, -1));
      lua.lua_pop(L, 1);
      if (!fits(pos, size, data.length)) argError(L, 2, "data string too short");
    }
    lua.lua_pushlstring(L, data.subarray(pos, pos + size), size);
  } else if (opt === 115 /* s */) {
    const end = data.indexOf(0, pos);
    if (end < 0) raiseError(L, "unfinished string in data");
    lua.lua_pushlstring(L, data.subarray(pos, end), end - pos);
    size = end - pos + 1;
  } else if (opt !== 120 /* x */) controlOption(L, opt, walk);
  return size;
}

/** struct.unpack(fmt, data [, offset]): the values, then the offset after them. */
function unpack(L: LuaState): number {
  const walk = newWalk(lauxlib.luaL_checklstring(L, 1));
  const fmt = walk.fmt;
  const data = lauxlib.luaL_checklstring(L, 2);
  const offset = lua.lua_type(L, 3) > lua.LUA_TNIL ? checkInteger51(L, 3) : 1;
  if (offset === 0) argError(L, 3, "offset must be 1 or greater");
  // C keeps the position in a size_t: a negative offset is a huge one, past any data.
  let pos = offset - 1;
  lua.lua_settop(L, 2);
  while (walk.at < fmt.length) {
    const opt = fmt[walk.at++]!;
    const size = optionSize(L, opt, walk);
    if (pos >= 0) pos += paddingFor(pos, walk, opt, size);
    if (!fits(pos, size, data.length)) argError(L, 2, "data string too short");
    if (!hasStackRoom(L, 2)) raiseError(L, "stack overflow (too many results)");
    pos += unpackField(L, opt, walk, data, pos, size);
  }
  lua.lua_pushnumber(L, pos + 1);
  return lua.lua_gettop(L) - 2;
}

/** struct.size(fmt): the bytes a pack with this format takes (no 's' or 'c0', whose size varies). */
function size(L: LuaState): number {
  const walk = newWalk(lauxlib.luaL_checklstring(L, 1));
  const fmt = walk.fmt;
  let pos = 0;
  while (walk.at < fmt.length) {
    const opt = fmt[walk.at++]!;
    const optSize = optionSize(L, opt, walk);
    pos += paddingFor(pos, walk, opt, optSize);
    if (opt === 115 /* s */) argError(L, 1, "option 's' has no fixed size");
    else if (opt === 99 /* c */ && optSize === 0) argError(L, 1, "option 'c0' has no fixed size");
    // Letters other than the options are skipped here, where pack and unpack reject them.
    if (!isAlnum(opt)) controlOption(L, opt, walk);
    pos += optSize;
  }
  lua.lua_pushnumber(L, pos);
  return 1;
}

/** Set the global `struct` table. */
export function openStruct(L: LuaState): void {
  lua.lua_createtable(L, 0, 3);
  lua.lua_pushcfunction(L, pack);
  lua.lua_setfield(L, -2, latin1Bytes("pack"));
  lua.lua_pushcfunction(L, unpack);
  lua.lua_setfield(L, -2, latin1Bytes("unpack"));
  lua.lua_pushcfunction(L, size);
  lua.lua_setfield(L, -2, latin1Bytes("size"));
  lua.lua_setglobal(L, latin1Bytes("struct"));
}
