/**
 * Number parsing and formatting with the exact semantics of Redis 7.0
 * (src/util.c: string2ll, string2d, string2ld, ld2string, d2string; and
 * src/networking.c: addReplyDouble).
 *
 * Three number types appear in replies and need three representations:
 *
 * - int64 (INCR, INCRBY, LPUSH counts ...). Held as an `Int64`: a JS number
 *   when it is a safe integer (|v| <= 2^53-1), a bigint otherwise. The
 *   common case stays in plain double arithmetic; the full int64 range stays
 *   exact. Every function here returns Int64 values in that canonical form.
 * - double (ZADD scores ...). A JS number is already an IEEE double. Parsing
 *   follows glibc strtod's grammar (hex floats, "inf", "infinity") and
 *   rounding; formatting is glibc's "%.17g", whose exact ties round to even
 *   where JS's toPrecision rounds them up.
 * - long double (INCRBYFLOAT, HINCRBYFLOAT). Redis computes these in x87
 *   80-bit extended precision (64-bit significand), which is why
 *   `INCRBYFLOAT k 0.1` on "0" replies "0.1" rather than the double
 *   0.10000000000000001. A JS double cannot reproduce that, so `LongDouble`
 *   emulates the format exactly with bigint arithmetic: correctly rounded
 *   decimal and hex parsing, round-to-nearest-even addition with the x87
 *   exponent range and subnormals, and exact "%.17Lf" / "%.17Lg" printing.
 *   These commands are not hot paths; each operation costs microseconds.
 *
 * Parsers take `(buf, start, len)` byte views and never read outside them.
 */

// ---------------------------------------------------------------------------
// int64

export type Int64 = number | bigint;

export const INT64_MAX = 9223372036854775807n;
export const INT64_MIN = -9223372036854775808n;

/** Redis's LONG_STR_SIZE: string2ll rejects strings of this length or more. */
export const LONG_STR_SIZE = 21;

/** Redis's MAX_LONG_DOUBLE_CHARS: string2ld rejects strings of this length or more. */
export const MAX_LONG_DOUBLE_CHARS = 5 * 1024;

const CH_0 = 48; // '0'
const CH_1 = 49; // '1'
const CH_9 = 57; // '9'
const CH_MINUS = 45; // '-'
const CH_PLUS = 43; // '+'
const CH_DOT = 46; // '.'

/**
 * Where parseLongLong leaves its result, so parsing allocates nothing in the
 * common case. When `safe` is true, `value` is the exact integer. When it is
 * false, `big` is the exact value and `value` its nearest double, which
 * callers may use for clamping (GETRANGE-style arguments) but not for
 * arithmetic.
 */
export const parsedInt64 = { value: 0, big: 0n, safe: true };

/**
 * Redis's string2ll: an optional "-" then digits, no leading zeros (only "0"
 * itself), no "+", no spaces, no "-0", fewer than LONG_STR_SIZE bytes, and
 * within int64. Returns false on any of those, leaving parsedInt64 alone.
 */
export function parseLongLong(buf: Uint8Array, start: number, len: number): boolean {
  if (len === 0 || len >= LONG_STR_SIZE) return false;
  let i = start;
  const end = start + len;
  if (len === 1 && buf[i] === CH_0) {
    parsedInt64.value = 0;
    parsedInt64.safe = true;
    return true;
  }
  const negative = buf[i] === CH_MINUS;
  if (negative) {
    i++;
    if (i === end) return false;
  }
  let c = buf[i]!;
  if (c < CH_1 || c > CH_9) return false;
  const digits = end - i;
  // Up to 15 digits fit a double exactly; 20 or more always overflow.
  if (digits > 19) return false;
  // Split at 9 digits from the end so each part is an exact double.
  const split = digits > 15 ? end - 9 : end;
  let hi = 0;
  for (; i < split; i++) {
    c = buf[i]!;
    if (c < CH_0 || c > CH_9) return false;
    hi = hi * 10 + (c - CH_0);
  }
  if (split === end) {
    parsedInt64.value = negative ? -hi : hi;
    parsedInt64.safe = true;
    return true;
  }
  let lo = 0;
  for (; i < end; i++) {
    c = buf[i]!;
    if (c < CH_0 || c > CH_9) return false;
    lo = lo * 10 + (c - CH_0);
  }
  // hi*1e9 + lo <= 2^53-1 = 9007199254740991 exactly when this holds.
  if (hi < 9007199 || (hi === 9007199 && lo <= 254740991)) {
    const v = hi * 1e9 + lo;
    parsedInt64.value = negative ? -v : v;
    parsedInt64.safe = true;
    return true;
  }
  let big = BigInt(hi) * 1000000000n + BigInt(lo);
  if (negative) big = -big;
  if (big > INT64_MAX || big < INT64_MIN) return false;
  parsedInt64.big = big;
  parsedInt64.value = Number(big);
  parsedInt64.safe = false;
  return true;
}

/** parseLongLong returning the canonical Int64, or null when Redis would reject it. */
export function parseInt64(buf: Uint8Array, start: number, len: number): Int64 | null {
  if (!parseLongLong(buf, start, len)) return null;
  return parsedInt64.safe ? parsedInt64.value : parsedInt64.big;
}

/** The canonical Int64 for a bigint already known to lie in int64 range. */
export function toInt64(v: bigint): Int64 {
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

/**
 * a + b, or null when the exact sum leaves int64: the condition under which
 * Redis replies "increment or decrement would overflow".
 */
export function int64Add(a: Int64, b: Int64): Int64 | null {
  if (typeof a === "number" && typeof b === "number") {
    const sum = a + b;
    // Both inputs are safe integers, so a rounded sum inside the safe range
    // means the exact sum is inside it too, and equals the rounded one.
    if (sum <= Number.MAX_SAFE_INTEGER && sum >= -Number.MAX_SAFE_INTEGER) return sum;
  }
  const sum = BigInt(a) + BigInt(b);
  if (sum > INT64_MAX || sum < INT64_MIN) return null;
  return toInt64(sum);
}

/** -v, or null for INT64_MIN (DECRBY's "decrement would overflow"). */
export function int64Negate(v: Int64): Int64 | null {
  if (typeof v === "number") return v === 0 ? 0 : -v;
  if (v === INT64_MIN) return null;
  return toInt64(-v);
}

/**
 * Writes v in decimal ASCII at out[offset..] and returns the offset after
 * it. Needs at most 20 bytes of room. Numbers are written without building
 * a string; bigints (outside the safe range, so rare) go through toString.
 */
export function formatInt64(v: Int64, out: Uint8Array, offset: number): number {
  if (typeof v === "bigint") {
    const s = v.toString();
    for (let i = 0; i < s.length; i++) out[offset + i] = s.charCodeAt(i);
    return offset + s.length;
  }
  if (v < 0) {
    out[offset++] = CH_MINUS;
    v = -v;
  }
  if (v < 100000000) return writeDigits(v, out, offset, decimalLength(v));
  // Split so both halves stay in int32 arithmetic, which is much cheaper
  // than double division.
  const hi = Math.floor(v / 100000000);
  offset = writeDigits(hi, out, offset, decimalLength(hi));
  return writeDigits(v - hi * 100000000, out, offset, 8);
}

/** Digits in v, for 0 <= v < 2^31. */
function decimalLength(v: number): number {
  if (v < 10000) return v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : 4;
  if (v < 100000000) return v < 100000 ? 5 : v < 1000000 ? 6 : v < 10000000 ? 7 : 8;
  return v < 1000000000 ? 9 : 10;
}

/** Writes 0 <= v < 2^31 as exactly `width` digits (zero-padded) at offset. */
function writeDigits(v: number, out: Uint8Array, offset: number, width: number): number {
  const end = offset + width;
  for (let i = end - 1; i >= offset; i--) {
    const q = (v / 10) | 0;
    out[i] = CH_0 + v - q * 10;
    v = q;
  }
  return end;
}

// ---------------------------------------------------------------------------
// strtod grammar, shared by string2d and string2ld

/**
 * The scanner's findings for the last scanned string. Mantissa digits are
 * the bytes in [intStart, intEnd) and [fracStart, fracEnd); `exp` is the
 * explicit exponent (decimal for decimal input, binary for hex input),
 * clamped far outside any representable range so it cannot overflow.
 */
const scan = {
  negative: false,
  kind: 0, // KIND_*
  hex: false,
  intStart: 0,
  intEnd: 0,
  fracStart: 0,
  fracEnd: 0,
  exp: 0,
};
const KIND_FINITE = 0;
const KIND_INF = 1;
const KIND_NAN = 2;
const EXP_CLAMP = 100_000_000;

function isDigit(c: number): boolean {
  return c >= CH_0 && c <= CH_9;
}

function hexValue(c: number): number {
  if (c >= CH_0 && c <= CH_9) return c - CH_0;
  const l = c | 0x20;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

/** Case-insensitive match of an ASCII lowercase word at buf[i..]. */
function matchWord(buf: Uint8Array, i: number, end: number, word: string): boolean {
  if (end - i < word.length) return false;
  for (let k = 0; k < word.length; k++) if ((buf[i + k]! | 0x20) !== word.charCodeAt(k)) return false;
  return true;
}

/** C isspace in the "C" locale. */
function isCSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/**
 * True when the whole of buf[start, end) is one strtod number (glibc syntax)
 * that does not start with whitespace: exactly what string2d and string2ld
 * accept before looking at the value. Fills `scan`.
 */
function scanFloat(buf: Uint8Array, start: number, end: number): boolean {
  let i = start;
  if (i === end || isCSpace(buf[i]!)) return false;
  scan.negative = false;
  scan.kind = KIND_FINITE;
  const sign = buf[i];
  if (sign === CH_MINUS || sign === CH_PLUS) {
    scan.negative = sign === CH_MINUS;
    i++;
  }
  if (matchWord(buf, i, end, "inf")) {
    scan.kind = KIND_INF;
    const rest = end - i;
    return rest === 3 || (rest === 8 && matchWord(buf, i, end, "infinity"));
  }
  if (matchWord(buf, i, end, "nan")) {
    // "nan" and "nan(chars)": both parse, both are then rejected as NaN.
    scan.kind = KIND_NAN;
    return true;
  }
  let hex = false;
  if (end - i >= 3 && buf[i] === CH_0 && (buf[i + 1]! | 0x20) === 120 /* x */) {
    // "0x" without hex digits after it parses as "0" and leaves "x..." over.
    const j = i + 2;
    const c = buf[j]!;
    if (hexValue(c) >= 0 || (c === CH_DOT && j + 1 < end && hexValue(buf[j + 1]!) >= 0)) {
      hex = true;
      i = j;
    }
  }
  scan.hex = hex;
  scan.intStart = i;
  while (i < end && (hex ? hexValue(buf[i]!) >= 0 : isDigit(buf[i]!))) i++;
  scan.intEnd = i;
  scan.fracStart = scan.fracEnd = i;
  if (i < end && buf[i] === CH_DOT) {
    i++;
    scan.fracStart = i;
    while (i < end && (hex ? hexValue(buf[i]!) >= 0 : isDigit(buf[i]!))) i++;
    scan.fracEnd = i;
  }
  if (scan.intEnd === scan.intStart && scan.fracEnd === scan.fracStart) return false;
  scan.exp = 0;
  if (i < end) {
    // An exponent marker must be followed by a well-formed exponent that
    // runs to the end; otherwise strtod would stop before the marker.
    if ((buf[i]! | 0x20) !== (hex ? 112 /* p */ : 101) /* e */) return false;
    i++;
    let expNegative = false;
    if (i < end && (buf[i] === CH_MINUS || buf[i] === CH_PLUS)) {
      expNegative = buf[i] === CH_MINUS;
      i++;
    }
    if (i === end) return false;
    let exp = 0;
    for (; i < end; i++) {
      const c = buf[i]!;
      if (!isDigit(c)) return false;
      if (exp < EXP_CLAMP) exp = exp * 10 + (c - CH_0);
    }
    scan.exp = expNegative ? -exp : exp;
  }
  return true;
}

/** The scanned decimal mantissa digits as one integer, ignoring the point. */
function scannedMantissa(buf: Uint8Array): bigint {
  const count = scan.intEnd - scan.intStart + (scan.fracEnd - scan.fracStart);
  if (count <= 15) {
    let m = 0;
    for (let i = scan.intStart; i < scan.intEnd; i++) m = m * 10 + (buf[i]! - CH_0);
    for (let i = scan.fracStart; i < scan.fracEnd; i++) m = m * 10 + (buf[i]! - CH_0);
    return BigInt(m);
  }
  return BigInt(latin1(buf, scan.intStart, scan.intEnd) + latin1(buf, scan.fracStart, scan.fracEnd));
}

function latin1(buf: Uint8Array, start: number, end: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString("latin1");
}

// ---------------------------------------------------------------------------
// Binary floating point formats, rounding, and exact decimal printing

/** A binary format: precision in bits, and the exponent range of the lowest significand bit. */
interface BinaryFormat {
  precision: number;
  minExp: number; // LSB exponent of subnormals
  maxExp: number; // LSB exponent of the largest finite values
}

/** IEEE double. */
const DOUBLE: BinaryFormat = { precision: 53, minExp: -1074, maxExp: 971 };
/** x87 extended precision (the x86-64 `long double`). */
const EXTENDED: BinaryFormat = { precision: 64, minExp: -16445, maxExp: 16320 };

const TWO_POW_53 = 9007199254740992n;

function bitLength(v: bigint): number {
  if (v < TWO_POW_53) {
    const n = Number(v);
    const hi = Math.floor(n / 4294967296);
    return hi > 0 ? 64 - Math.clz32(hi) : 32 - Math.clz32(n);
  }
  const hex = v.toString(16);
  return hex.length * 4 - Math.clz32(parseInt(hex[0]!, 16)) + 28;
}

/** Rounding result scratch: value = mant * 2^exp, or overflow to infinity. */
const rounded = { mant: 0n, exp: 0, overflow: false };

/**
 * Rounds m * 2^e (m > 0), plus a nonzero amount below its last bit when
 * `sticky`, to nearest-even in `fmt`. Callers with `sticky` set supply at
 * least precision + 2 bits in m, so the sticky part always lies below the
 * rounding position. A zero mantissa in the result means underflow to zero.
 */
function roundToFormat(m: bigint, e: number, sticky: boolean, fmt: BinaryFormat): void {
  const targetExp = Math.max(e + bitLength(m) - fmt.precision, fmt.minExp);
  let mant = m;
  let exp = e;
  if (targetExp > e) {
    const shift = BigInt(targetExp - e);
    mant = m >> shift;
    const rem = m - (mant << shift);
    const half = 1n << (shift - 1n);
    if (rem > half || (rem === half && (sticky || (mant & 1n) === 1n))) {
      mant++;
      if (bitLength(mant) > fmt.precision) {
        mant >>= 1n;
        exp = targetExp + 1;
      } else {
        exp = targetExp;
      }
    } else {
      exp = targetExp;
    }
  }
  rounded.mant = mant;
  rounded.exp = exp;
  rounded.overflow = mant !== 0n && exp + bitLength(mant) > fmt.maxExp + fmt.precision;
}

const pow5Cache: bigint[] = [1n];
function pow5(k: number): bigint {
  if (k < 64) {
    while (pow5Cache.length <= k) pow5Cache.push(pow5Cache[pow5Cache.length - 1]! * 5n);
    return pow5Cache[k]!;
  }
  return 5n ** BigInt(k);
}

/** Rounds the decimal D * 10^E (D > 0) to `fmt`, correctly, like glibc strtod. */
function roundDecimal(d: bigint, e10: number, digitCount: number, fmt: BinaryFormat): void {
  // Cheap range checks first, so no huge power of ten is ever built.
  const maxDecimalExp = Math.ceil((fmt.maxExp + fmt.precision) * Math.LOG10E * Math.LN2) + 1;
  const minDecimalExp = Math.floor((fmt.minExp - 1) * Math.LOG10E * Math.LN2) - 1;
  if (digitCount + e10 - 1 > maxDecimalExp) {
    rounded.mant = 1n;
    rounded.overflow = true;
    return;
  }
  if (digitCount + e10 < minDecimalExp) {
    rounded.mant = 0n;
    rounded.overflow = false;
    return;
  }
  if (e10 >= 0) {
    // 10^E = 5^E * 2^E: the power of two goes into the exponent.
    roundToFormat(d * pow5(e10), e10, false, fmt);
    return;
  }
  const den = pow5(-e10);
  const shift = Math.max(0, fmt.precision + 2 + bitLength(den) - bitLength(d));
  const num = d << BigInt(shift);
  const q = num / den;
  roundToFormat(q, e10 - shift, q * den !== num, fmt);
}

/**
 * Rounds the scanned hex mantissa times 2^exp to `fmt`. Digits past the
 * first 40 significant ones only matter as a sticky bit.
 */
function roundHex(buf: Uint8Array, fmt: BinaryFormat): void {
  let m = 0n;
  let kept = 0;
  let sticky = false;
  let e = scan.exp;
  const take = (c: number, fractional: boolean) => {
    const v = hexValue(c);
    if (kept < 40) {
      if (v !== 0 || kept > 0) kept++;
      m = (m << 4n) | BigInt(v);
      if (fractional) e -= 4;
    } else {
      if (v !== 0) sticky = true;
      if (!fractional) e += 4;
    }
  };
  for (let i = scan.intStart; i < scan.intEnd; i++) take(buf[i]!, false);
  for (let i = scan.fracStart; i < scan.fracEnd; i++) take(buf[i]!, true);
  if (m === 0n) {
    rounded.mant = 0n;
    rounded.overflow = false;
    return;
  }
  if (sticky) {
    m = (m << 2n) | 1n;
    e -= 2;
    sticky = false;
  }
  // Decide far-out-of-range values from the magnitude alone, so no huge
  // shift is ever built: the value lies in [2^(top-1), 2^top).
  const top = e + bitLength(m);
  if (top > fmt.maxExp + fmt.precision + 1) {
    rounded.mant = 1n;
    rounded.overflow = true;
  } else if (top < fmt.minExp - 1) {
    rounded.mant = 0n;
    rounded.overflow = false;
  } else {
    roundToFormat(m, e, sticky, fmt);
  }
}

const TEN_POW_17 = 10n ** 17n;

/**
 * round-half-even(m * 2^e * 10^s) as a bigint, for m >= 0: the digit
 * generator behind glibc's exact printf of binary floating point values.
 */
function scaleRound(m: bigint, e: number, s: number): bigint {
  let num = s >= 0 ? m * (s === 17 ? TEN_POW_17 : 10n ** BigInt(s)) : m;
  let den = s >= 0 ? 1n : 10n ** BigInt(-s);
  if (e >= 0) num <<= BigInt(e);
  else den <<= BigInt(-e);
  if (den === 1n) return num;
  const q = num / den;
  const twiceRem = (num - q * den) * 2n;
  if (twiceRem > den || (twiceRem === den && (q & 1n) === 1n)) return q + 1n;
  return q;
}

/** printf("%.17f")-style fixed notation of ±m * 2^e, glibc-exact. */
function formatFixed17(negative: boolean, m: bigint, e: number): string {
  const digits = scaleRound(m, e, 17).toString().padStart(18, "0");
  const cut = digits.length - 17;
  return (negative ? "-" : "") + digits.slice(0, cut) + "." + digits.slice(cut);
}

/** printf("%.17g")-style notation of ±m * 2^e (m > 0), glibc-exact. */
function formatGeneral17(negative: boolean, m: bigint, e: number): string {
  // Estimate the decimal exponent X, then correct it against the rounded digits.
  let x = Math.floor((bitLength(m) + e - 1) * Math.LOG10E * Math.LN2);
  let n = scaleRound(m, e, 16 - x);
  for (;;) {
    if (n >= TEN_POW_17) {
      x++;
    } else if (n < TEN_POW_17 / 10n) {
      x--;
    } else {
      break;
    }
    n = scaleRound(m, e, 16 - x);
  }
  return renderGeneral(negative, n.toString(), x);
}

/**
 * Lays out 17 significant digits with decimal exponent x as "%.17g" does:
 * plain notation when -4 <= x < 17, otherwise d.ddde±XX; trailing zeros of
 * the fraction and a bare point are dropped.
 */
function renderGeneral(negative: boolean, digits: string, x: number): string {
  const sign = negative ? "-" : "";
  if (x < -4 || x >= 17) {
    const frac = stripZeros(digits.slice(1));
    const ax = Math.abs(x);
    return `${sign}${digits[0]}${frac ? "." + frac : ""}e${x < 0 ? "-" : "+"}${ax < 10 ? "0" : ""}${ax}`;
  }
  if (x >= 0) {
    const frac = stripZeros(digits.slice(x + 1));
    return `${sign}${digits.slice(0, x + 1)}${frac ? "." + frac : ""}`;
  }
  return `${sign}0.${"0".repeat(-x - 1)}${stripZeros(digits)}`;
}

function stripZeros(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === CH_0) end--;
  return s.slice(0, end);
}

// ---------------------------------------------------------------------------
// double: string2d and addReplyDouble

/** Exact powers of ten for Clinger's fast path. */
const EXACT_POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = LITTLE_ENDIAN ? 0 : 1;

/** 2^k for -1022 <= k <= 1023, built from its bits so it is exact. */
function pow2(k: number): number {
  u32[HI] = (k + 1023) << 20;
  u32[LO] = 0;
  return f64[0]!;
}

/** mant * 2^exp as a double, for values already rounded to DOUBLE. */
function composeDouble(negative: boolean, mant: bigint, exp: number): number {
  let v = Number(mant);
  // Two exact steps: the first keeps the value normal.
  if (exp < -1022) v = v * pow2(exp + 60) * pow2(-60);
  else v *= pow2(exp);
  return negative ? -v : v;
}

/** The exact significand and exponent of a finite double: |v| = mant * 2^exp. */
function decomposeDouble(v: number): { mant: bigint; exp: number } {
  f64[0] = v;
  const hi = u32[HI]!;
  const biased = (hi >>> 20) & 0x7ff;
  const mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(u32[LO]!);
  return biased === 0 ? { mant, exp: -1074 } : { mant: mant | (1n << 52n), exp: biased - 1075 };
}

/**
 * Redis's string2d (ZADD scores, ZRANGEBYSCORE bounds, ...): glibc strtod
 * over the whole string, rejecting a leading space, any leftover byte
 * (including an embedded NUL), NaN, and results that overflow to infinity or
 * underflow to zero (subnormal results are accepted). "inf", "+inf",
 * "-infinity" and hex floats such as "0x1p3" are accepted.
 *
 * Returns the double, or NaN when Redis would reply "value is not a valid
 * float" (a valid result is never NaN).
 */
export function parseDouble(buf: Uint8Array, start: number, len: number): number {
  if (!scanFloat(buf, start, start + len)) return NaN;
  const negative = scan.negative;
  if (scan.kind === KIND_INF) return negative ? -Infinity : Infinity;
  if (scan.kind === KIND_NAN) return NaN;
  if (scan.hex) {
    roundHex(buf, DOUBLE);
    if (rounded.overflow) return NaN;
    if (rounded.mant === 0n) return hexIsZero(buf) ? (negative ? -0 : 0) : NaN;
    return composeDouble(negative, rounded.mant, rounded.exp);
  }
  // Clinger's fast path: up to 15 significant digits and |10^E| <= 10^22 make
  // both operands exact, so one IEEE operation rounds correctly.
  let m = 0;
  let significant = 0;
  for (let i = scan.intStart; i < scan.intEnd; i++) {
    const d = buf[i]! - CH_0;
    if (significant > 0 || d !== 0) significant++;
    m = m * 10 + d;
  }
  for (let i = scan.fracStart; i < scan.fracEnd; i++) {
    const d = buf[i]! - CH_0;
    if (significant > 0 || d !== 0) significant++;
    m = m * 10 + d;
  }
  const e10 = scan.exp - (scan.fracEnd - scan.fracStart);
  if (significant <= 15 && e10 >= -22 && e10 <= 22) {
    const v = e10 < 0 ? m / EXACT_POW10[-e10]! : m * EXACT_POW10[e10]!;
    return negative ? -v : v;
  }
  // JS number parsing is correctly rounded (round-half-even) like glibc, and
  // the scanner has already checked the syntax is one both accept alike.
  const v = Number(latin1(buf, start, start + len));
  if (v === Infinity || v === -Infinity) return NaN;
  if (v === 0 && significant > 0) return NaN;
  return v;
}

/**
 * C's strtod over a C string, which is how Redis reads ZRANGEBYSCORE-style bounds
 * (zslParseRange) and the scores a listpack holds as text (zzlStrtod). Unlike string2d
 * the argument ends at its first NUL byte, leading whitespace is skipped, an empty
 * string reads as 0, and a value beyond the double range is clamped (to ±inf, or to zero
 * on underflow) rather than refused.
 *
 * Returns NaN where Redis replies "min or max is not a float": bytes left over after the
 * number, only whitespace, or a NaN.
 */
export function parseStrtod(buf: Uint8Array, start: number, len: number): number {
  let end = start;
  while (end < start + len && buf[end] !== 0) end++;
  // Nothing to convert leaves strtod's end pointer at the start: fine only on the NUL.
  if (end === start) return 0;
  let i = start;
  while (i < end && isCSpace(buf[i]!)) i++;
  if (i === end) return NaN;
  const v = parseDouble(buf, i, end - i);
  if (v === v) return v;
  // parseDouble refuses a result outside the double range; strtod clamps it.
  if (!scanFloat(buf, i, end) || scan.kind !== KIND_FINITE) return NaN;
  if (!scan.hex) return Number(latin1(buf, i, end));
  roundHex(buf, DOUBLE);
  const clamped = rounded.overflow ? Infinity : 0;
  return scan.negative ? -clamped : clamped;
}

/** Scanned decimal mantissa digits from the first nonzero one on. */
function significantDigits(buf: Uint8Array): number {
  let count = scan.intEnd - scan.intStart + (scan.fracEnd - scan.fracStart);
  for (let i = scan.intStart; i < scan.intEnd && buf[i] === CH_0; i++) count--;
  if (count === scan.fracEnd - scan.fracStart) {
    for (let i = scan.fracStart; i < scan.fracEnd && buf[i] === CH_0; i++) count--;
  }
  return count;
}

function hexIsZero(buf: Uint8Array): boolean {
  for (let i = scan.intStart; i < scan.intEnd; i++) if (hexValue(buf[i]!) !== 0) return false;
  for (let i = scan.fracStart; i < scan.fracEnd; i++) if (hexValue(buf[i]!) !== 0) return false;
  return true;
}

/**
 * A double as Redis 7.0 replies it (addReplyDouble, d2string): "%.17g",
 * with "inf", "-inf", "nan" and "-0". ZSCORE of 1.1 is "1.1000000000000001".
 * A negative NaN prints "nan" here where glibc's "%.17g" would print "-nan";
 * Redis never replies NaN scores.
 */
export function formatDouble(v: number): string {
  if (v !== v) return "nan";
  if (v === Infinity) return "inf";
  if (v === -Infinity) return "-inf";
  if (v === 0) return Object.is(v, -0) ? "-0" : "0";
  // Safe integers have at most 16 digits, so "%.17g" prints them whole, and
  // String prints them exactly (above 2^53 it would print shortest digits).
  if (Number.isSafeInteger(v)) return String(v);
  // toExponential is correctly rounded, but breaks exact ties upwards where
  // glibc breaks them to even. A tie means |v| = M * 10^k with M an
  // 18-digit number ending in 5, so M is odd and the lowest set bit of v is
  // 2^k, where k is the decimal exponent minus 17 (minus 18 if rounding
  // carried into a new digit). Any other value is safe with toExponential.
  const e17 = v.toExponential(16);
  const mark = e17.indexOf("e");
  const x = Number(e17.slice(mark + 1));
  const low = lowestBitExponent(v);
  if (low === x - 17 || low === x - 18) return formatDoubleExact(v);
  const negative = v < 0;
  const first = negative ? 1 : 0;
  return renderGeneral(negative, e17[first]! + e17.slice(first + 2, mark), x);
}

/** The exponent of the lowest set bit of a finite nonzero double. */
function lowestBitExponent(v: number): number {
  f64[0] = v;
  const hi = u32[HI]!;
  const lo = u32[LO]!;
  const biased = (hi >>> 20) & 0x7ff;
  const exp = biased === 0 ? -1074 : biased - 1075;
  if (lo !== 0) return exp + 31 - Math.clz32(lo & -lo);
  const top = (hi & 0xfffff) | (biased === 0 ? 0 : 0x100000);
  return exp + 63 - Math.clz32(top & -top);
}

/** formatDouble without the fast paths: exact bigint digit generation. */
export function formatDoubleExact(v: number): string {
  if (v !== v || v === Infinity || v === -Infinity || v === 0) return formatDouble(v);
  const { mant, exp } = decomposeDouble(v);
  return formatGeneral17(v < 0, mant, exp);
}

// ---------------------------------------------------------------------------
// long double: string2ld, addition, ld2string

export const LD_FINITE = 0;
export const LD_INF = 1;
export const LD_NAN = 2;

/**
 * An x87 80-bit extended value: (-1)^negative * mant * 2^exp when finite,
 * with mant < 2^64. Immutable.
 */
export interface LongDouble {
  readonly kind: typeof LD_FINITE | typeof LD_INF | typeof LD_NAN;
  readonly negative: boolean;
  readonly mant: bigint;
  readonly exp: number;
}

function makeLongDouble(kind: LongDouble["kind"], negative: boolean, mant: bigint, exp: number): LongDouble {
  return { kind, negative, mant, exp };
}

export const LD_ZERO: LongDouble = makeLongDouble(LD_FINITE, false, 0n, 0);

/**
 * Redis's string2ld (INCRBYFLOAT, HINCRBYFLOAT): glibc strtold over the whole
 * string, which must be shorter than MAX_LONG_DOUBLE_CHARS, and rejecting a
 * leading space, leftover bytes, NaN, and overflow to infinity or underflow
 * to zero. Literal "inf" is accepted (the command then refuses the result).
 * Returns null when Redis would reply "value is not a valid float".
 */
export function parseLongDouble(buf: Uint8Array, start: number, len: number): LongDouble | null {
  if (len >= MAX_LONG_DOUBLE_CHARS || !scanFloat(buf, start, start + len)) return null;
  const negative = scan.negative;
  if (scan.kind === KIND_INF) return makeLongDouble(LD_INF, negative, 0n, 0);
  if (scan.kind === KIND_NAN) return null;
  if (scan.hex) {
    roundHex(buf, EXTENDED);
    if (rounded.overflow) return null;
    if (rounded.mant === 0n) return hexIsZero(buf) ? makeLongDouble(LD_FINITE, negative, 0n, 0) : null;
    return makeLongDouble(LD_FINITE, negative, rounded.mant, rounded.exp);
  }
  const d = scannedMantissa(buf);
  if (d === 0n) return makeLongDouble(LD_FINITE, negative, 0n, 0);
  const e10 = scan.exp - (scan.fracEnd - scan.fracStart);
  roundDecimal(d, e10, significantDigits(buf), EXTENDED);
  if (rounded.overflow || rounded.mant === 0n) return null;
  return makeLongDouble(LD_FINITE, negative, rounded.mant, rounded.exp);
}

/** The exact long double of an int64 (Redis reads INT-encoded strings this way). */
export function longDoubleFromInt64(v: Int64): LongDouble {
  const b = BigInt(v);
  return makeLongDouble(LD_FINITE, b < 0n, b < 0n ? -b : b, 0);
}

/** The exact long double of a double (widening is always exact). */
export function longDoubleFromNumber(v: number): LongDouble {
  if (v !== v) return makeLongDouble(LD_NAN, false, 0n, 0);
  if (v === Infinity || v === -Infinity) return makeLongDouble(LD_INF, v < 0, 0n, 0);
  if (v === 0) return makeLongDouble(LD_FINITE, Object.is(v, -0), 0n, 0);
  const { mant, exp } = decomposeDouble(v);
  return makeLongDouble(LD_FINITE, v < 0, mant, exp);
}

export function isFiniteLongDouble(v: LongDouble): boolean {
  return v.kind === LD_FINITE;
}

/** a + b in x87 extended precision, rounded to nearest-even. */
export function longDoubleAdd(a: LongDouble, b: LongDouble): LongDouble {
  if (a.kind === LD_NAN || b.kind === LD_NAN) return makeLongDouble(LD_NAN, false, 0n, 0);
  if (a.kind === LD_INF || b.kind === LD_INF) {
    if (a.kind === LD_INF && b.kind === LD_INF && a.negative !== b.negative) {
      return makeLongDouble(LD_NAN, true, 0n, 0);
    }
    return a.kind === LD_INF ? a : b;
  }
  if (a.mant === 0n && b.mant === 0n) return makeLongDouble(LD_FINITE, a.negative && b.negative, 0n, 0);
  if (a.mant === 0n) return b;
  if (b.mant === 0n) return a;
  // Exact sum on the common exponent, then one rounding.
  const exp = Math.min(a.exp, b.exp);
  const sa = a.mant << BigInt(a.exp - exp);
  const sb = b.mant << BigInt(b.exp - exp);
  const sum = (a.negative ? -sa : sa) + (b.negative ? -sb : sb);
  if (sum === 0n) return LD_ZERO;
  const negative = sum < 0n;
  roundToFormat(negative ? -sum : sum, exp, false, EXTENDED);
  if (rounded.overflow) return makeLongDouble(LD_INF, negative, 0n, 0);
  return makeLongDouble(LD_FINITE, negative, rounded.mant, rounded.exp);
}

/**
 * Redis's ld2string. Human-friendly mode (LD_STR_HUMAN, used for the
 * INCRBYFLOAT and HINCRBYFLOAT results) prints "%.17Lf", strips trailing
 * zeros and a bare point, and turns "-0" into "0": 10 + 10.5 gives "20.5",
 * 3.0e3 gives "3000", and exponents never appear. Otherwise (LD_STR_AUTO)
 * it prints "%.17Lg". Infinities print "inf" / "-inf" in both modes. A JS
 * number argument is widened to long double first, exactly.
 */
export function formatLongDouble(v: LongDouble | number, humanFriendly: boolean): string {
  const ld = typeof v === "number" ? longDoubleFromNumber(v) : v;
  if (ld.kind === LD_INF) return ld.negative ? "-inf" : "inf";
  if (ld.kind === LD_NAN) return ld.negative ? "-nan" : "nan";
  if (humanFriendly) {
    let s = formatFixed17(ld.negative, ld.mant, ld.exp);
    s = s.slice(0, s.length - (17 - stripZeros(s.slice(s.length - 17)).length));
    if (s.charCodeAt(s.length - 1) === CH_DOT) s = s.slice(0, -1);
    return s === "-0" ? "0" : s;
  }
  if (ld.mant === 0n) return ld.negative ? "-0" : "0";
  return formatGeneral17(ld.negative, ld.mant, ld.exp);
}
