// The `cjson` library of Redis 7.0's scripts (lua-cjson 2.1.0 as Redis bundles it):
// encode and decode with the same bytes and the same error texts, "/" escaped as "\/",
// numbers printed with "%.14g", sparse arrays refused, nesting limited, JSON null as the
// light userdata cjson.null, and the configuration functions with their return values.
// cjson.new() makes an independent copy with its own configuration.
//
// Encoding and decoding walk nested values by recursion, as the C library does; the depth
// is bounded by encode_max_depth / decode_max_depth and by Lua 5.1's C stack limit, both
// checked before each descent, so the JS stack never holds more than those levels.

import { lauxlib, lua, to_luastring, type LuaState } from "fengari";
import { argError, checkInteger51, hasStackRoom, raiseError, toCInt, typeNameAt } from "./luaargs.ts";

/**
 * cjson.null: JSON null inside Lua tables (nil cannot be stored), shared by every copy. As
 * in C it is the NULL light userdata, which prints as "userdata: (nil)".
 */
export const JSON_NULL = null;

const INT_MAX = 2147483647;

interface JsonConfig {
  sparseConvert: number;
  sparseRatio: number;
  sparseSafe: number;
  encodeMaxDepth: number;
  decodeMaxDepth: number;
  /** 0 refuse NaN and Inf, 1 write them ("nan", "inf"), 2 write them as null. */
  encodeInvalidNumbers: number;
  decodeInvalidNumbers: number;
  encodeKeepBuffer: number;
  precision: number;
}

function defaultConfig(): JsonConfig {
  return {
    sparseConvert: 0,
    sparseRatio: 2,
    sparseSafe: 10,
    encodeMaxDepth: 1000,
    decodeMaxDepth: 1000,
    encodeInvalidNumbers: 0,
    decodeInvalidNumbers: 1,
    encodeKeepBuffer: 1,
    precision: 14,
  };
}

// ---------------------------------------------------------------------------------------
// printf("%.<precision>g")
// ---------------------------------------------------------------------------------------

/** The digits of String(v) without zeros at either end, and the exponent of the first: set by shortestDigits. */
let shortDigits = "";
let shortExponent = 0;

/** Split JS's shortest round-trip text of a finite positive number into digits and exponent. */
function shortestDigits(magnitude: number): void {
  const text = String(magnitude);
  const mark = text.indexOf("e");
  const mantissa = mark < 0 ? text : text.slice(0, mark);
  const exponent = mark < 0 ? 0 : Number(text.slice(mark + 1));
  const point = mantissa.indexOf(".");
  const whole = point < 0 ? mantissa : mantissa.slice(0, point);
  const all = point < 0 ? mantissa : whole + mantissa.slice(point + 1);
  let first = 0;
  while (all.charCodeAt(first) === 48) first++;
  let last = all.length;
  while (last > first && all.charCodeAt(last - 1) === 48) last--;
  shortDigits = all.slice(first, last);
  shortExponent = exponent + whole.length - 1 - first;
}

/**
 * printf("%.Pg", v) as glibc writes it (P from 1 to 14), from JS's shortest round-trip
 * digits S. A double's 15.95 digits keep distinct decimals of at most 15 digits more than
 * an ulp apart, so when the exact value has that few digits S is exactly them. Hence:
 * S of at most P digits is the answer; an exact tie (which glibc breaks to even) is S of
 * P+1 digits ending in 5 (which may also be a value just off the tie, so the exact digits
 * decide); anything else is no tie, and toExponential, which rounds correctly but breaks
 * ties away from zero, is right.
 */
export function formatG(v: number, precision: number): string {
  if (v !== v) return "nan";
  if (v === Infinity) return "inf";
  if (v === -Infinity) return "-inf";
  if (v === 0) return Object.is(v, -0) ? "-0" : "0";
  const magnitude = Math.abs(v);
  // Subnormals have fewer digits of precision than the reasoning below needs.
  if (magnitude < MIN_NORMAL) return formatExactG(v, precision);
  shortestDigits(magnitude);
  if (shortDigits.length <= precision) return layoutG(v < 0, shortDigits, shortExponent, precision);
  if (shortDigits.length === precision + 1 && shortDigits.charCodeAt(precision) === 53 /* '5' */) return formatExactG(v, precision);
  const text = magnitude.toExponential(precision - 1);
  const at = text.indexOf("e");
  const digits = precision === 1 ? text[0]! : text[0]! + text.slice(2, at);
  return layoutG(v < 0, digits, Number(text.slice(at + 1)), precision);
}

const MIN_NORMAL = 2 ** -1022;
const f64 = new Float64Array(1);
const f64Words = new Uint32Array(f64.buffer);
const LOW_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;

/** formatG from the exact decimal digits of v, rounded half to even: for near-ties and subnormals, both rare. */
function formatExactG(v: number, precision: number): string {
  f64[0] = Math.abs(v);
  const hi = f64Words[1 - LOW_WORD]!;
  const biased = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(f64Words[LOW_WORD]!);
  if (biased !== 0) mantissa |= 1n << 52n;
  const exp2 = biased === 0 ? -1074 : biased - 1075;
  // m * 2^e is m * 5^-e / 10^-e when e < 0: the digits of m * 5^-e with the point moved.
  const digits = exp2 >= 0 ? String(mantissa << BigInt(exp2)) : String(mantissa * 5n ** BigInt(-exp2));
  let exponent = digits.length - 1 + Math.min(exp2, 0);
  const next = digits.charCodeAt(precision) - 48;
  const beyond = digits.slice(precision + 1);
  let kept = digits.slice(0, precision);
  const odd = (kept.charCodeAt(precision - 1) - 48) % 2 === 1;
  if (next > 5 || (next === 5 && (/[1-9]/.test(beyond) || odd))) {
    kept = String(BigInt(kept) + 1n);
    if (kept.length > precision) {
      kept = kept.slice(0, precision);
      exponent++;
    }
  }
  return layoutG(v < 0, kept, exponent, precision);
}

/** %g's layout: d.ddde±XX outside -4 <= exponent < precision, plain otherwise, trailing zeros dropped. */
function layoutG(negative: boolean, digits: string, exponent: number, precision: number): string {
  const sign = negative ? "-" : "";
  let end = digits.length;
  while (end > 1 && digits.charCodeAt(end - 1) === 48) end--;
  digits = digits.slice(0, end);
  if (exponent < -4 || exponent >= precision) {
    const frac = digits.slice(1);
    const magnitude = Math.abs(exponent);
    return `${sign}${digits[0]}${frac ? "." + frac : ""}e${exponent < 0 ? "-" : "+"}${magnitude < 10 ? "0" : ""}${magnitude}`;
  }
  if (exponent < 0) return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, "0");
  const frac = digits.slice(exponent + 1);
  return `${sign}${whole}${frac ? "." + frac : ""}`;
}

// ---------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------

/** How each byte is written inside a JSON string: null keeps it as it is. */
const ESCAPES: (Uint8Array | null)[] = Array.from({ length: 256 }, (_, byte) => {
  if (byte < 32 || byte === 127) return to_luastring(`\\u${byte.toString(16).padStart(4, "0")}`);
  return null;
});
ESCAPES[8] = to_luastring("\\b");
ESCAPES[9] = to_luastring("\\t");
ESCAPES[10] = to_luastring("\\n");
ESCAPES[12] = to_luastring("\\f");
ESCAPES[13] = to_luastring("\\r");
ESCAPES[34] = to_luastring('\\"');
ESCAPES[47] = to_luastring("\\/");
ESCAPES[92] = to_luastring("\\\\");

const TRUE_TEXT = to_luastring("true");
const FALSE_TEXT = to_luastring("false");
const NULL_TEXT = to_luastring("null");

/** The JSON being built: one buffer reused by every encode (a script runs alone). */
let out = new Uint8Array(256);
let outLength = 0;

function reserve(bytes: number): void {
  if (outLength + bytes <= out.length) return;
  const grown = new Uint8Array(Math.max(out.length * 2, outLength + bytes));
  grown.set(out.subarray(0, outLength));
  out = grown;
}

function appendByte(byte: number): void {
  reserve(1);
  out[outLength++] = byte;
}

function appendBytes(bytes: Uint8Array): void {
  reserve(bytes.length);
  out.set(bytes, outLength);
  outLength += bytes.length;
}

function appendLatin1(text: string): void {
  reserve(text.length);
  for (let i = 0; i < text.length; i++) out[outLength++] = text.charCodeAt(i);
}

/** A JSON string: at most 6 bytes ("\u001f") for each byte of the Lua string, and the quotes. */
function appendString(bytes: Uint8Array): void {
  reserve(bytes.length * 6 + 2);
  out[outLength++] = 34; // '"'
  for (let i = 0; i < bytes.length; i++) {
    const escape = ESCAPES[bytes[i]!];
    if (escape === null) {
      out[outLength++] = bytes[i]!;
    } else {
      out.set(escape!, outLength);
      outLength += escape!.length;
    }
  }
  out[outLength++] = 34;
}

function encodeError(L: LuaState, idx: number, reason: string): number {
  return raiseError(L, `Cannot serialise ${typeNameAt(L, idx)}: ${reason}`);
}

function appendNumber(L: LuaState, cfg: JsonConfig, idx: number): void {
  const n = lua.lua_tonumber(L, idx);
  const invalid = n !== n || n === Infinity || n === -Infinity;
  if (invalid && cfg.encodeInvalidNumbers === 0) encodeError(L, idx, "must not be NaN or Inf");
  if (invalid && cfg.encodeInvalidNumbers === 2) return appendBytes(NULL_TEXT);
  // glibc would print a negative NaN as "-nan": the library writes "nan" for every NaN.
  appendLatin1(formatG(n, cfg.precision));
}

/**
 * The array length of the table on top: its largest key when every key is an integer
 * >= 1 (stored in a C int, as the library does), or -1 for an object. An array with too
 * many holes is an error, or an object when sparse arrays are converted.
 */
function arrayLength(L: LuaState, cfg: JsonConfig): number {
  let max = 0;
  let items = 0;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, -2) !== 0) {
    const k = lua.lua_type(L, -2) === lua.LUA_TNUMBER ? lua.lua_tonumber(L, -2) : 0;
    if (k !== 0 && Math.floor(k) === k && k >= 1) {
      if (k > max) max = k <= INT_MAX ? k : -INT_MAX - 1;
      items++;
      lua.lua_pop(L, 1);
      continue;
    }
    lua.lua_pop(L, 2);
    return -1;
  }
  // The product is a C int multiplication, wrapping like one.
  if (cfg.sparseRatio > 0 && max > Math.imul(items, cfg.sparseRatio) && max > cfg.sparseSafe) {
    if (!cfg.sparseConvert) encodeError(L, -1, "excessively sparse array");
    return -1;
  }
  return max;
}

function appendArray(L: LuaState, cfg: JsonConfig, depth: number, length: number): void {
  appendByte(91); // '['
  for (let i = 1; i <= length; i++) {
    if (i > 1) appendByte(44); // ','
    lua.lua_rawgeti(L, -1, i);
    appendValue(L, cfg, depth);
    lua.lua_pop(L, 1);
  }
  appendByte(93); // ']'
}

function appendObject(L: LuaState, cfg: JsonConfig, depth: number): void {
  appendByte(123); // '{'
  let first = true;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, -2) !== 0) {
    if (!first) appendByte(44);
    first = false;
    const keyType = lua.lua_type(L, -2);
    if (keyType === lua.LUA_TNUMBER) {
      appendByte(34);
      appendNumber(L, cfg, -2);
      appendByte(34);
      appendByte(58); // ':'
    } else if (keyType === lua.LUA_TSTRING) {
      appendString(lua.lua_tolstring(L, -2));
      appendByte(58);
    } else {
      encodeError(L, -2, "table key must be a number or string");
    }
    appendValue(L, cfg, depth);
    lua.lua_pop(L, 1);
  }
  appendByte(125); // '}'
}

/** Write the value on top of the stack, leaving it there. */
function appendValue(L: LuaState, cfg: JsonConfig, depth: number): void {
  switch (lua.lua_type(L, -1)) {
    case lua.LUA_TSTRING:
      return appendString(lua.lua_tolstring(L, -1));
    case lua.LUA_TNUMBER:
      return appendNumber(L, cfg, -1);
    case lua.LUA_TBOOLEAN:
      return appendBytes(lua.lua_toboolean(L, -1) ? TRUE_TEXT : FALSE_TEXT);
    case lua.LUA_TNIL:
      return appendBytes(NULL_TEXT);
    case lua.LUA_TTABLE: {
      depth++;
      // Key, value and an error message must fit: Lua 5.1's stack limit stops deep tables too.
      if (depth > cfg.encodeMaxDepth || !hasStackRoom(L, 3)) raiseError(L, `Cannot serialise, excessive nesting (${depth})`);
      const length = arrayLength(L, cfg);
      if (length > 0) appendArray(L, cfg, depth, length);
      else appendObject(L, cfg, depth);
      return;
    }
    default:
      // Functions, userdata, threads: only cjson.null among light userdata is written.
      if (lua.lua_type(L, -1) === lua.LUA_TLIGHTUSERDATA && lua.lua_touserdata(L, -1) === JSON_NULL) return appendBytes(NULL_TEXT);
      encodeError(L, -1, "type not supported");
  }
}

function encode(L: LuaState, cfg: JsonConfig): number {
  if (lua.lua_gettop(L) !== 1) return argError(L, 1, "expected 1 argument");
  outLength = 0;
  appendValue(L, cfg, 0);
  lua.lua_pushlstring(L, out.subarray(0, outLength), outLength);
  if (out.length > 65536) out = new Uint8Array(256);
  return 1;
}

// ---------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------

const T_OBJ_BEGIN: number = 0;
const T_OBJ_END: number = 1;
const T_ARR_BEGIN: number = 2;
const T_ARR_END: number = 3;
const T_STRING: number = 4;
const T_NUMBER: number = 5;
const T_BOOLEAN: number = 6;
const T_NULL: number = 7;
const T_COLON: number = 8;
const T_COMMA: number = 9;
const T_END: number = 10;
const T_WHITESPACE: number = 11;
const T_ERROR: number = 12;
const T_UNKNOWN: number = 13;

const TOKEN_NAMES = ["T_OBJ_BEGIN", "T_OBJ_END", "T_ARR_BEGIN", "T_ARR_END", "T_STRING", "T_NUMBER", "T_BOOLEAN", "T_NULL", "T_COLON", "T_COMMA", "T_END", "T_WHITESPACE", "T_ERROR", "T_UNKNOWN"];

/** The token each byte starts; T_UNKNOWN needs a closer look (strings, numbers, words). */
const CHAR_TOKENS = new Uint8Array(256).fill(T_ERROR);
CHAR_TOKENS[123] = T_OBJ_BEGIN; // '{'
CHAR_TOKENS[125] = T_OBJ_END; // '}'
CHAR_TOKENS[91] = T_ARR_BEGIN; // '['
CHAR_TOKENS[93] = T_ARR_END; // ']'
CHAR_TOKENS[44] = T_COMMA; // ','
CHAR_TOKENS[58] = T_COLON; // ':'
CHAR_TOKENS[0] = T_END;
for (const c of [32, 9, 10, 13]) CHAR_TOKENS[c] = T_WHITESPACE;
for (const c of "fiInNt\"+-0123456789") CHAR_TOKENS[c.charCodeAt(0)] = T_UNKNOWN;

/** What each escape letter stands for inside a string; 0 is an invalid escape, 'u' a \uXXXX. */
const ESCAPED_CHARS = new Uint8Array(256);
for (const [letter, value] of [['"', 34], ["\\", 92], ["/", 47], ["b", 8], ["t", 9], ["n", 10], ["f", 12], ["r", 13], ["u", 117]] as const) {
  ESCAPED_CHARS[letter.charCodeAt(0)] = value;
}

/** The token just read (one at a time: the parser looks no further ahead). */
const token = { type: 0, index: 0, number: 0, boolean: false, error: "", stringLength: 0 };

/** The JSON being decoded. Lua strings end with a NUL, which the parser reads as the end. */
class JsonParser {
  pos = 0;
  depth = 0;
  /** The text of the last string token. */
  text: Uint8Array;

  constructor(
    readonly L: LuaState,
    readonly cfg: JsonConfig,
    readonly data: Uint8Array,
  ) {
    this.text = new Uint8Array(data.length);
  }

  byteAt(i: number): number {
    return i < this.data.length ? this.data[i]! : 0;
  }

  setError(message: string): void {
    token.type = T_ERROR;
    token.index = this.pos;
    token.error = message;
  }

  nextToken(): void {
    let ch = this.byteAt(this.pos);
    while (CHAR_TOKENS[ch] === T_WHITESPACE) ch = this.byteAt(++this.pos);
    token.type = CHAR_TOKENS[ch]!;
    token.index = this.pos;
    if (token.type === T_ERROR) return this.setError("invalid token");
    if (token.type === T_END) return;
    if (token.type !== T_UNKNOWN) {
      this.pos++;
      return;
    }
    if (ch === 34 /* '"' */) return this.stringToken();
    if (ch === 45 /* '-' */ || (ch >= 48 && ch <= 57)) {
      if (!this.cfg.decodeInvalidNumbers && this.isInvalidNumber()) return this.setError("invalid number");
      return this.numberToken();
    }
    if (this.startsWith("true")) return this.wordToken(T_BOOLEAN, true, 4);
    if (this.startsWith("false")) return this.wordToken(T_BOOLEAN, false, 5);
    if (this.startsWith("null")) return this.wordToken(T_NULL, false, 4);
    // Numbers JSON forbids (inf, nan, +1) when they are allowed, to name the right error.
    if (this.cfg.decodeInvalidNumbers && this.isInvalidNumber()) return this.numberToken();
    this.setError("invalid token");
  }

  startsWith(word: string): boolean {
    for (let i = 0; i < word.length; i++) if (this.byteAt(this.pos + i) !== word.charCodeAt(i)) return false;
    return true;
  }

  wordToken(type: number, value: boolean, length: number): void {
    token.type = type;
    token.boolean = value;
    this.pos += length;
  }

  stringToken(): void {
    this.pos++;
    let length = 0;
    for (;;) {
      let ch = this.byteAt(this.pos);
      if (ch === 34) break;
      if (ch === 0) return this.setError("unexpected end of string");
      if (ch === 92 /* '\\' */) {
        ch = ESCAPED_CHARS[this.byteAt(this.pos + 1)]!;
        if (ch === 117 /* 'u' */) {
          const written = this.unicodeEscape(length);
          if (written < 0) return this.setError("invalid unicode escape code");
          length = written;
          continue;
        }
        if (ch === 0) return this.setError("invalid escape code");
        this.pos++;
      }
      this.text[length++] = ch;
      this.pos++;
    }
    this.pos++;
    token.type = T_STRING;
    token.stringLength = length;
  }

  /** Four hex digits at `at`, or -1 (a NUL past the end stops it like any non-digit). */
  hex4(at: number): number {
    let value = 0;
    for (let i = 0; i < 4; i++) {
      const c = this.byteAt(at + i);
      const lower = c | 0x20;
      let digit: number;
      if (c >= 48 && c <= 57) digit = c - 48;
      else if (lower >= 97 && lower <= 102) digit = lower - 87;
      else return -1;
      value = (value << 4) | digit;
    }
    return value;
  }

  /** \uXXXX (or a surrogate pair of them) as UTF-8 at text[length]; the new length, or -1. */
  unicodeEscape(length: number): number {
    let codepoint = this.hex4(this.pos + 2);
    if (codepoint < 0) return -1;
    let escapeLength = 6;
    if ((codepoint & 0xf800) === 0xd800) {
      // A high surrogate must come first, followed at once by an escaped low one.
      if (codepoint & 0x400) return -1;
      if (this.byteAt(this.pos + 6) !== 92 || this.byteAt(this.pos + 7) !== 117) return -1;
      const low = this.hex4(this.pos + 8);
      if (low < 0 || (low & 0xfc00) !== 0xdc00) return -1;
      codepoint = (((codepoint & 0x3ff) << 10) | (low & 0x3ff)) + 0x10000;
      escapeLength = 12;
    }
    const text = this.text;
    if (codepoint <= 0x7f) {
      text[length++] = codepoint;
    } else if (codepoint <= 0x7ff) {
      text[length++] = (codepoint >> 6) | 0xc0;
      text[length++] = (codepoint & 0x3f) | 0x80;
    } else if (codepoint <= 0xffff) {
      text[length++] = (codepoint >> 12) | 0xe0;
      text[length++] = ((codepoint >> 6) & 0x3f) | 0x80;
      text[length++] = (codepoint & 0x3f) | 0x80;
    } else {
      text[length++] = (codepoint >> 18) | 0xf0;
      text[length++] = ((codepoint >> 12) & 0x3f) | 0x80;
      text[length++] = ((codepoint >> 6) & 0x3f) | 0x80;
      text[length++] = (codepoint & 0x3f) | 0x80;
    }
    this.pos += escapeLength;
    return length;
  }

  /** Numbers strtod reads but JSON forbids: a leading '+', hex, leading zeros, inf, nan. */
  isInvalidNumber(): boolean {
    let p = this.pos;
    const first = this.byteAt(p);
    if (first === 43 /* '+' */) return true;
    if (first === 45) p++;
    const c = this.byteAt(p);
    if (c === 48) {
      const next = this.byteAt(p + 1);
      return (next | 0x20) === 120 /* 'x' */ || (next >= 48 && next <= 57);
    }
    if (c <= 57) return false;
    return this.matchesFolded(p, "inf") || this.matchesFolded(p, "nan");
  }

  matchesFolded(at: number, word: string): boolean {
    for (let i = 0; i < word.length; i++) if ((this.byteAt(at + i) | 0x20) !== word.charCodeAt(i)) return false;
    return true;
  }

  numberToken(): void {
    const end = strtodPrefix(this.data, this.pos);
    if (end === this.pos) return this.setError("invalid number");
    token.type = T_NUMBER;
    token.number = strtodValue;
    this.pos = end;
  }

  throwParseError(expected: string): never {
    const found = token.type === T_ERROR ? token.error : TOKEN_NAMES[token.type]!;
    raiseError(this.L, `Expected ${expected} but found ${found} at character ${token.index + 1}`);
    throw new Error("unreachable: lua_error does not return");
  }

  /** One more level of nesting, with room for `slots` more values on the stack. */
  descend(slots: number): void {
    this.depth++;
    if (this.depth <= this.cfg.decodeMaxDepth && hasStackRoom(this.L, slots)) return;
    raiseError(this.L, `Found too many nested data structures (${this.depth}) at character ${this.pos}`);
  }

  objectContext(): void {
    const L = this.L;
    this.descend(3);
    lua.lua_newtable(L);
    this.nextToken();
    if (token.type === T_OBJ_END) {
      this.depth--;
      return;
    }
    for (;;) {
      if (token.type !== T_STRING) this.throwParseError("object key string");
      lua.lua_pushlstring(L, this.text.subarray(0, token.stringLength), token.stringLength);
      this.nextToken();
      if (token.type !== T_COLON) this.throwParseError("colon");
      this.nextToken();
      this.processValue();
      lua.lua_rawset(L, -3);
      this.nextToken();
      if (token.type === T_OBJ_END) {
        this.depth--;
        return;
      }
      if (token.type !== T_COMMA) this.throwParseError("comma or object end");
      this.nextToken();
    }
  }

  arrayContext(): void {
    const L = this.L;
    this.descend(2);
    lua.lua_newtable(L);
    this.nextToken();
    if (token.type === T_ARR_END) {
      this.depth--;
      return;
    }
    for (let i = 1; ; i++) {
      this.processValue();
      lua.lua_rawseti(L, -2, i);
      this.nextToken();
      if (token.type === T_ARR_END) {
        this.depth--;
        return;
      }
      if (token.type !== T_COMMA) this.throwParseError("comma or array end");
      this.nextToken();
    }
  }

  /** Push the value the current token starts. */
  processValue(): void {
    const L = this.L;
    switch (token.type) {
      case T_STRING:
        return lua.lua_pushlstring(L, this.text.subarray(0, token.stringLength), token.stringLength);
      case T_NUMBER:
        return lua.lua_pushnumber(L, token.number);
      case T_BOOLEAN:
        return lua.lua_pushboolean(L, token.boolean);
      case T_OBJ_BEGIN:
        return this.objectContext();
      case T_ARR_BEGIN:
        return this.arrayContext();
      case T_NULL:
        return lua.lua_pushlightuserdata(L, JSON_NULL);
      default:
        this.throwParseError("value");
    }
  }
}

function decode(L: LuaState, cfg: JsonConfig): number {
  if (lua.lua_gettop(L) !== 1) return argError(L, 1, "expected 1 argument");
  const data = lauxlib.luaL_checklstring(L, 1);
  // Only the first character is sure to be ASCII: a NUL in the first two means UTF-16/32.
  if (data.length >= 2 && (data[0] === 0 || data[1] === 0)) return raiseError(L, "JSON parser does not support UTF-16 or UTF-32");
  const parser = new JsonParser(L, cfg, data);
  parser.nextToken();
  parser.processValue();
  parser.nextToken();
  if (token.type !== T_END) parser.throwParseError("the end");
  return 1;
}

// ---------------------------------------------------------------------------------------
// strtod over a prefix
// ---------------------------------------------------------------------------------------

/** The value of the number strtodPrefix read last. */
let strtodValue = 0;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function hexDigit(c: number): number {
  if (isDigit(c)) return c - 48;
  const lower = c | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}

function foldedAt(data: Uint8Array, at: number, word: string): boolean {
  for (let i = 0; i < word.length; i++) if (((data[at + i] ?? 0) | 0x20) !== word.charCodeAt(i)) return false;
  return true;
}

/**
 * glibc's strtod from `start` (whose first byte is not a space): the end of the longest
 * number there, or `start` when there is none, with the value in strtodValue. Reads what
 * strtod reads: a sign, decimal with optional exponent, hex with optional binary exponent,
 * inf, infinity and nan(...), in any case.
 */
function strtodPrefix(data: Uint8Array, start: number): number {
  let i = start;
  const negative = data[i] === 45;
  if (data[i] === 45 || data[i] === 43) i++;
  const sign = negative ? -1 : 1;
  if (foldedAt(data, i, "inf")) {
    strtodValue = sign * Infinity;
    return foldedAt(data, i, "infinity") ? i + 8 : i + 3;
  }
  if (foldedAt(data, i, "nan")) {
    strtodValue = NaN;
    let end = i + 3;
    if (data[end] === 40 /* '(' */) {
      let j = end + 1;
      while (j < data.length && (isDigit(data[j]!) || ((data[j]! | 0x20) >= 97 && (data[j]! | 0x20) <= 122) || data[j] === 95)) j++;
      if (data[j] === 41 /* ')' */) end = j + 1;
    }
    return end;
  }
  if (data[i] === 48 && ((data[i + 1] ?? 0) | 0x20) === 120) {
    const end = hexFloat(data, i + 2, sign);
    if (end > 0) return end;
  }
  return decimalFloat(data, start, i);
}

/** Decimal digits [.digits] [e[sign]digits] from `i`; `start` includes the sign. */
function decimalFloat(data: Uint8Array, start: number, i: number): number {
  let digits = 0;
  while (isDigit(data[i] ?? 0)) (i++, digits++);
  if (data[i] === 46 /* '.' */) {
    i++;
    while (isDigit(data[i] ?? 0)) (i++, digits++);
  }
  if (digits === 0) return start;
  if (((data[i] ?? 0) | 0x20) === 101 /* 'e' */) {
    let j = i + 1;
    if (data[j] === 43 || data[j] === 45) j++;
    if (isDigit(data[j] ?? 0)) {
      while (isDigit(data[j] ?? 0)) j++;
      i = j;
    }
  }
  // JS reads the same syntax (a bare trailing or leading point included), correctly rounded.
  strtodValue = Number(Buffer.prototype.latin1Slice.call(data, start, i));
  return i;
}

/** Hex digits [.digits] [p[sign]digits] after "0x"; 0 when no digit follows (strtod then reads the "0"). */
function hexFloat(data: Uint8Array, i: number, sign: number): number {
  let mantissa = 0n;
  let digits = 0;
  let scale = 0;
  while (hexDigit(data[i] ?? 0) >= 0) {
    mantissa = mantissa * 16n + BigInt(hexDigit(data[i++]!));
    digits++;
  }
  if (data[i] === 46) {
    i++;
    while (hexDigit(data[i] ?? 0) >= 0) {
      mantissa = mantissa * 16n + BigInt(hexDigit(data[i++]!));
      digits++;
      scale -= 4;
    }
  }
  if (digits === 0) return 0;
  if (((data[i] ?? 0) | 0x20) === 112 /* 'p' */) {
    let j = i + 1;
    const negativeExponent = data[j] === 45;
    if (data[j] === 43 || data[j] === 45) j++;
    if (isDigit(data[j] ?? 0)) {
      let exponent = 0;
      while (isDigit(data[j] ?? 0)) exponent = Math.min(exponent * 10 + data[j++]! - 48, 100000);
      scale += negativeExponent ? -exponent : exponent;
      i = j;
    }
  }
  // Scaled in two steps so that a small power of two does not underflow before the product.
  const half = Math.trunc(scale / 2);
  strtodValue = sign * Number(mantissa) * 2 ** half * 2 ** (scale - half);
  return i;
}

// ---------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------

const OFF_ON = ["off", "on"];
const INVALID_NUMBER_OPTIONS = ["off", "on", "null"];

/** At most `count` arguments ("found too many arguments" past them), padded with nils. */
function configArgs(L: LuaState, count: number): void {
  if (lua.lua_gettop(L) > count) argError(L, count + 1, "found too many arguments");
  lua.lua_settop(L, count);
}

/** An integer option: set it when given (checked against min..max), push its value. */
function integerOption(L: LuaState, arg: number, cfg: JsonConfig, field: keyof JsonConfig, min: number, max: number): void {
  if (lua.lua_type(L, arg) !== lua.LUA_TNIL) {
    const value = toCInt(checkInteger51(L, arg));
    // The library names argument 1 whichever argument it checks.
    if (value < min || value > max) argError(L, 1, `expected integer between ${min} and ${max}`);
    cfg[field] = value;
  }
  lua.lua_pushinteger(L, cfg[field]);
}

/** An option given as a boolean or one of `options` by name: set it when given, push it. */
function enumOption(L: LuaState, arg: number, cfg: JsonConfig, field: keyof JsonConfig, options: string[]): void {
  if (lua.lua_type(L, arg) !== lua.LUA_TNIL) {
    if (lua.lua_type(L, arg) === lua.LUA_TBOOLEAN) {
      cfg[field] = lua.lua_toboolean(L, arg) ? 1 : 0;
    } else {
      const name = Buffer.prototype.latin1Slice.call(lauxlib.luaL_checklstring(L, arg), 0);
      const index = options.indexOf(name);
      if (index < 0) argError(L, arg, `invalid option '${name}'`);
      cfg[field] = index;
    }
  }
  const setting = cfg[field];
  if (setting <= 1) lua.lua_pushboolean(L, setting === 1);
  else lua.lua_pushstring(L, to_luastring(options[setting]!));
}

type ConfigFunction = (L: LuaState, cfg: JsonConfig) => number;

const CONFIG_FUNCTIONS: [string, ConfigFunction][] = [
  [
    "encode_sparse_array",
    (L, cfg) => {
      configArgs(L, 3);
      enumOption(L, 1, cfg, "sparseConvert", OFF_ON);
      integerOption(L, 2, cfg, "sparseRatio", 0, INT_MAX);
      integerOption(L, 3, cfg, "sparseSafe", 0, INT_MAX);
      return 3;
    },
  ],
  ["encode_max_depth", (L, cfg) => (configArgs(L, 1), integerOption(L, 1, cfg, "encodeMaxDepth", 1, INT_MAX), 1)],
  ["decode_max_depth", (L, cfg) => (configArgs(L, 1), integerOption(L, 1, cfg, "decodeMaxDepth", 1, INT_MAX), 1)],
  ["encode_number_precision", (L, cfg) => (configArgs(L, 1), integerOption(L, 1, cfg, "precision", 1, 14), 1)],
  // Whether the encoder keeps its buffer between calls: nothing a script can observe but the setting.
  ["encode_keep_buffer", (L, cfg) => (configArgs(L, 1), enumOption(L, 1, cfg, "encodeKeepBuffer", OFF_ON), 1)],
  ["encode_invalid_numbers", (L, cfg) => (configArgs(L, 1), enumOption(L, 1, cfg, "encodeInvalidNumbers", INVALID_NUMBER_OPTIONS), 1)],
  ["decode_invalid_numbers", (L, cfg) => (configArgs(L, 1), enumOption(L, 1, cfg, "decodeInvalidNumbers", OFF_ON), 1)],
];

// ---------------------------------------------------------------------------------------
// The module table
// ---------------------------------------------------------------------------------------

function setFunction(L: LuaState, name: string, fn: (L: LuaState) => number): void {
  lua.lua_pushcfunction(L, fn);
  lua.lua_setfield(L, -2, to_luastring(name));
}

/** Push a fresh cjson table with its own configuration (lua_cjson_new). */
function pushCjsonTable(L: LuaState): number {
  const cfg = defaultConfig();
  lua.lua_newtable(L);
  setFunction(L, "encode", (s) => encode(s, cfg));
  setFunction(L, "decode", (s) => decode(s, cfg));
  for (const [name, fn] of CONFIG_FUNCTIONS) setFunction(L, name, (s) => fn(s, cfg));
  setFunction(L, "new", pushCjsonTable);
  lua.lua_pushlightuserdata(L, JSON_NULL);
  lua.lua_setfield(L, -2, to_luastring("null"));
  lua.lua_pushstring(L, to_luastring("cjson"));
  lua.lua_setfield(L, -2, to_luastring("_NAME"));
  lua.lua_pushstring(L, to_luastring("2.1.0"));
  lua.lua_setfield(L, -2, to_luastring("_VERSION"));
  return 1;
}

/** Set the global `cjson`. */
export function openCjson(L: LuaState): void {
  pushCjsonTable(L);
  lua.lua_setglobal(L, to_luastring("cjson"));
}
