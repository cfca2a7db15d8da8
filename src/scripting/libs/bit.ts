// The `bit` library Redis 7.0 ships (LuaBitOp 1.0.2): bitwise operations on 32-bit integers
// held in Lua 5.1's doubles. Every argument becomes 32 bits the way LuaBitOp converts it:
// the double plus 2^52 + 2^51, whose low 32 bits of mantissa are the number rounded to an
// integer (ties to even) modulo 2^32; results come back as signed 32-bit numbers.

import { lua, type LuaState } from "fengari";
import { latin1Bytes } from "../convert.ts";
import { argError, typeNameAt } from "./luaargs.ts";

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
/** 2^52 + 2^51: adding it leaves the rounded integer in the low mantissa bits. */
const BIT_BIAS = 6755399441055744.0;

/** LuaBitOp's barg: argument `idx` as 32 bits (a signed JS int); anything but a number (or numeric string) fails. */
function bitArg(L: LuaState, idx: number): number {
  f64[0] = lua.lua_tonumber(L, idx) + BIT_BIAS;
  const bits = u32[0]! | 0;
  // Zero bits are also what a non-number converts to; only then is the type checked.
  if (bits === 0 && !lua.lua_isnumber(L, idx)) argError(L, idx, `number expected, got ${typeNameAt(L, idx)}`);
  return bits;
}

function pushBits(L: LuaState, bits: number): number {
  lua.lua_pushnumber(L, bits | 0);
  return 1;
}

/** bit.tobit(x): x normalized to a signed 32-bit number. */
function tobit(L: LuaState): number {
  return pushBits(L, bitArg(L, 1));
}

function bnot(L: LuaState): number {
  return pushBits(L, ~bitArg(L, 1));
}

/**
 * band/bor/bxor over any number of arguments. LuaBitOp converts the first argument, then
 * the others from the last one down, which decides which bad argument is reported.
 */
function fold(op: (a: number, b: number) => number): (L: LuaState) => number {
  return (L) => {
    let bits = bitArg(L, 1);
    for (let i = lua.lua_gettop(L); i > 1; i--) bits = op(bits, bitArg(L, i));
    return pushBits(L, bits);
  };
}

/** A shift or rotation of x by n & 31 bits. */
function shift(op: (b: number, n: number) => number): (L: LuaState) => number {
  return (L) => {
    const bits = bitArg(L, 1);
    return pushBits(L, op(bits, bitArg(L, 2) & 31));
  };
}

function bswap(L: LuaState): number {
  const b = bitArg(L, 1);
  return pushBits(L, (b >>> 24) | ((b >>> 8) & 0xff00) | ((b & 0xff00) << 8) | (b << 24));
}

const LOWER_HEX = "0123456789abcdef";
const UPPER_HEX = "0123456789ABCDEF";

/** bit.tohex(x [, n]): the low |n| hex digits of x (8 by default, at most 8), uppercase when n < 0. */
function tohex(L: LuaState): number {
  let bits = bitArg(L, 1);
  let n = lua.lua_type(L, 2) === -1 /* none */ ? 8 : bitArg(L, 2);
  let digits = LOWER_HEX;
  if (n < 0) {
    n = -n;
    digits = UPPER_HEX;
  }
  if (n > 8) n = 8;
  // -(-2^31) stays negative in 32 bits: no digits.
  if (n < 0) n = 0;
  const out = new Uint8Array(n);
  for (let i = n - 1; i >= 0; i--) {
    out[i] = digits.charCodeAt(bits & 15);
    bits >>>= 4;
  }
  lua.lua_pushlstring(L, out, n);
  return 1;
}

const FUNCTIONS: [string, (L: LuaState) => number][] = [
  ["tobit", tobit],
  ["bnot", bnot],
  ["band", fold((a, b) => a & b)],
  ["bor", fold((a, b) => a | b)],
  ["bxor", fold((a, b) => a ^ b)],
  ["lshift", shift((b, n) => b << n)],
  ["rshift", shift((b, n) => b >>> n)],
  ["arshift", shift((b, n) => b >> n)],
  // A rotation by 0 shifts right by 32, which both x86 and JS reduce to 0: b | b.
  ["rol", shift((b, n) => (b << n) | (b >>> (32 - n)))],
  ["ror", shift((b, n) => (b >>> n) | (b << (32 - n)))],
  ["bswap", bswap],
  ["tohex", tohex],
];

/** Set the global `bit` table. */
export function openBit(L: LuaState): void {
  lua.lua_createtable(L, 0, FUNCTIONS.length);
  for (const [name, f] of FUNCTIONS) {
    lua.lua_pushcfunction(L, f);
    lua.lua_setfield(L, -2, latin1Bytes(name));
  }
  lua.lua_setglobal(L, latin1Bytes("bit"));
}
