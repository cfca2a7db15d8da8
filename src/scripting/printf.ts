// C's printf conversions of numbers as glibc on x86-64 prints them, for Lua 5.1's tostring
// ("%.14g") and string.format: exact decimal digits (ties rounded to even, which
// JavaScript's toFixed and toExponential break upwards), "inf" and "nan" with their signs,
// and the casts of a double to long and unsigned long, out-of-range values included.

// ---------------------------------------------------------------------------------------
// Exact decimal digits of a double
// ---------------------------------------------------------------------------------------

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** A decimal rounding of |v|: v = 0.digits x 10^point; digits "" is zero. */
interface Decimal {
  digits: string;
  point: number;
}

/** Every digit of |v| (finite, nonzero), trailing zeros dropped: a double is m x 2^e, exactly m x 5^-e / 10^-e. */
function exactDecimal(v: number): Decimal {
  f64[0] = v;
  const hi = u32[1]!;
  const biased = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(u32[0]!);
  let exp = -1074;
  if (biased !== 0) {
    mant |= 1n << 52n;
    exp = biased - 1075;
  }
  let digits: string;
  let point: number;
  if (exp >= 0) {
    digits = (mant << BigInt(exp)).toString();
    point = digits.length;
  } else {
    digits = (mant * 5n ** BigInt(-exp)).toString();
    point = digits.length + exp;
  }
  let end = digits.length;
  while (digits.charCodeAt(end - 1) === 48) end--;
  return { digits: digits.slice(0, end), point };
}

/** `exact` rounded to its first `keep` digits, ties to even as glibc rounds. */
function roundDecimal(exact: Decimal, keep: number): Decimal {
  const digits = exact.digits;
  if (keep >= digits.length) return exact;
  if (keep < 0) return { digits: "", point: exact.point };
  const next = digits.charCodeAt(keep) - 48;
  const head = digits.slice(0, keep);
  const tie = next === 5 && digits.length === keep + 1;
  const odd = keep > 0 && (digits.charCodeAt(keep - 1) - 48) % 2 === 1;
  if (next < 5 || (tie && !odd)) return { digits: head, point: exact.point };
  if (keep === 0) return { digits: "1", point: exact.point + 1 };
  const up = (BigInt(head) + 1n).toString();
  // A carry into a new digit ("999" -> "1000") moves the point.
  if (up.length > keep) return { digits: up.slice(0, keep), point: exact.point + 1 };
  return { digits: up, point: exact.point };
}

/** |v| rounded to `n` significant digits (1 <= n). */
function significant(v: number, n: number): Decimal {
  if (v === 0) return { digits: "", point: 1 };
  // toExponential rounds correctly except on exact ties, which it breaks upwards where
  // glibc breaks them to even. A tie at n digits shows as a 5 in the (n+1)th digit of the
  // correctly rounded n+1 digits; anything else is safe to take from toExponential.
  if (n <= 100) {
    const a = Math.abs(v);
    const longer = a.toExponential(n);
    if (longer.charCodeAt(n + 1) !== 53 /* '5' */) {
      const s = a.toExponential(n - 1);
      const e = s.indexOf("e");
      const digits = n === 1 ? s[0]! : s[0]! + s.slice(2, e);
      return { digits, point: Number(s.slice(e + 1)) + 1 };
    }
  }
  return roundDecimal(exactDecimal(v), n);
}

/** |v| rounded to `n` digits after the point. */
function fixed(v: number, n: number): Decimal {
  if (v === 0) return { digits: "", point: 1 };
  const exact = exactDecimal(v);
  return roundDecimal(exact, exact.point + n);
}

// ---------------------------------------------------------------------------------------
// C's printf conversions of a double
// ---------------------------------------------------------------------------------------

/** A printf conversion's flags, width and precision (-1: none). */
export interface Spec {
  left: boolean;
  plus: boolean;
  space: boolean;
  alt: boolean;
  zero: boolean;
  width: number;
  precision: number;
}

export const TOSTRING_SPEC: Spec = { left: false, plus: false, space: false, alt: false, zero: false, width: 0, precision: 14 };

function digitAt(d: Decimal, i: number): string {
  return i >= 0 && i < d.digits.length ? d.digits[i]! : "0";
}

/** "d.ddde+XX" of a rounding to precision+1 significant digits. */
function renderExponent(d: Decimal, precision: number, alt: boolean, upper: boolean): string {
  const exp = d.digits === "" ? 0 : d.point - 1;
  let out = digitAt(d, 0);
  if (precision > 0 || alt) out += ".";
  for (let i = 1; i <= precision; i++) out += digitAt(d, i);
  const ax = Math.abs(exp);
  return `${out}${upper ? "E" : "e"}${exp < 0 ? "-" : "+"}${ax < 10 ? "0" : ""}${ax}`;
}

/** "ddd.ddd" of a rounding to `precision` digits after the point. */
function renderFixed(d: Decimal, precision: number, alt: boolean): string {
  let out = "";
  if (d.digits === "" || d.point <= 0) out = "0";
  else for (let i = 0; i < d.point; i++) out += digitAt(d, i);
  if (precision > 0 || alt) out += ".";
  for (let i = 0; i < precision; i++) out += digitAt(d, d.point + i);
  return out;
}

/** Drop the zeros that end a fraction, and its point when nothing follows (%g without '#'). */
function trimFraction(s: string): string {
  if (!s.includes(".")) return s;
  let end = s.length;
  while (s.charCodeAt(end - 1) === 48) end--;
  if (s.charCodeAt(end - 1) === 46) end--;
  return s.slice(0, end);
}

function renderGeneral(v: number, spec: Spec, upper: boolean): string {
  const p = spec.precision < 0 ? 6 : spec.precision === 0 ? 1 : spec.precision;
  const d = significant(v, p);
  const x = d.digits === "" ? 0 : d.point - 1;
  let body: string;
  if (x < p && x >= -4) body = renderFixed(d, p - 1 - x, spec.alt);
  else {
    // glibc picks the digits after the point from the exponent before rounding: a value
    // that rounds up into exponent p (99.5 under "%#.2g") gets none, "1.e+02".
    const carried = x === p && Math.abs(v) < 10 ** p;
    body = renderExponent(d, carried ? 0 : p - 1, spec.alt, upper);
    if (!spec.alt) {
      const e = body.indexOf(upper ? "E" : "e");
      return trimFraction(body.slice(0, e)) + body.slice(e);
    }
  }
  return spec.alt ? body : trimFraction(body);
}

/** The digits of a finite double under %e, %f or %g, without sign or padding. */
function renderFloatBody(v: number, conversion: number, spec: Spec): string {
  switch (conversion) {
    case 101 /* e */:
    case 69 /* E */: {
      const precision = spec.precision < 0 ? 6 : spec.precision;
      return renderExponent(significant(v, precision + 1), precision, spec.alt, conversion === 69);
    }
    case 102 /* f */:
      return renderFixed(fixed(v, spec.precision < 0 ? 6 : spec.precision), spec.precision < 0 ? 6 : spec.precision, spec.alt);
    default:
      return renderGeneral(v, spec, conversion === 71 /* G */);
  }
}

/** Sign, zero padding and width around a converted body, as printf lays them out. */
function pad(body: string, negative: boolean, spec: Spec, zeroAllowed: boolean, prefix = ""): string {
  const sign = negative ? "-" : spec.plus ? "+" : spec.space ? " " : "";
  const lead = sign + prefix;
  const fill = spec.width - lead.length - body.length;
  if (fill <= 0) return lead + body;
  if (spec.left) return lead + body + " ".repeat(fill);
  if (spec.zero && zeroAllowed) return lead + "0".repeat(fill) + body;
  return " ".repeat(fill) + lead + body;
}

/**
 * Whether a NaN has its sign bit set, which glibc prints as "-nan". x86 arithmetic makes
 * such NaNs (0/0, inf-inf, sqrt(-1)), negation clears the bit, and strtod's "nan" has it
 * clear. JavaScriptCore keeps these bits on the doubles it computes, but a NaN read back
 * from a typed array comes out positive: unpacked bytes lose their NaN's sign.
 */
function nanIsNegative(v: number): boolean {
  f64[0] = v;
  return u32[1]! >>> 31 === 1;
}

/** A double under %e %E %f %g %G. */
export function formatFloat(v: number, conversion: number, spec: Spec): string {
  const upper = conversion === 69 || conversion === 71;
  if (v !== v) return pad(upper ? "NAN" : "nan", nanIsNegative(v), spec, false);
  const negative = v < 0 || Object.is(v, -0);
  if (v === Infinity || v === -Infinity) return pad(upper ? "INF" : "inf", negative, spec, false);
  return pad(renderFloatBody(v, conversion, spec), negative, spec, true);
}

/** Lua 5.1's tostring of a number: "%.14g". */
export function formatLuaNumber(v: number): string {
  // Integers of up to 14 digits print whole; String spells them exactly.
  if (Number.isInteger(v) && v < 1e14 && v > -1e14 && !Object.is(v, -0)) return String(v);
  return formatFloat(v, 103 /* g */, TOSTRING_SPEC);
}

// ---------------------------------------------------------------------------------------
// C's printf conversions of an integer (a double cast to a 64-bit long)
// ---------------------------------------------------------------------------------------

const TWO_63 = 2 ** 63;
const TWO_64 = 2 ** 64;
const LONG_MIN = -(2n ** 63n);

/** (long)v on x86-64: truncation, and LONG_MIN for NaN or a value out of range. */
export function toLong(v: number): bigint {
  return v >= -TWO_63 && v < TWO_63 ? BigInt(Math.trunc(v)) : LONG_MIN;
}

/**
 * (unsigned long)v as gcc compiles it on x86-64: below 2^63 through long (so -1 is 2^64-1
 * and NaN 2^63), from 2^63 directly, and 2^64 and above (infinity too) wrap to 0.
 */
export function toUnsignedLong(v: number): bigint {
  if (v >= TWO_64) return 0n;
  if (v >= TWO_63) return BigInt(v);
  return BigInt.asUintN(64, toLong(v));
}

export function formatInteger(v: number, conversion: number, spec: Spec): string {
  const signed = conversion === 100 /* d */ || conversion === 105 /* i */;
  const n = signed ? toLong(v) : toUnsignedLong(v);
  const negative = n < 0n;
  const magnitude = negative ? -n : n;
  const radix = conversion === 111 /* o */ ? 8 : conversion === 120 || conversion === 88 ? 16 : 10;
  let body = spec.precision === 0 && magnitude === 0n ? "" : magnitude.toString(radix);
  if (conversion === 88 /* X */) body = body.toUpperCase();
  if (spec.precision > body.length) body = "0".repeat(spec.precision - body.length) + body;
  let prefix = "";
  if (spec.alt && radix === 8 && body[0] !== "0") body = "0" + body;
  if (spec.alt && radix === 16 && magnitude !== 0n) prefix = conversion === 88 ? "0X" : "0x";
  const sign: Spec = signed ? spec : { ...spec, plus: false, space: false };
  return pad(body, negative, sign, spec.precision < 0, prefix);
}

// ---------------------------------------------------------------------------------------
// NaN signs and integer replies
// ---------------------------------------------------------------------------------------

/**
 * x86's default NaN (sign bit set, "-nan"), computed at run time: what glibc's pow and log
 * return for an invalid operand, where JavaScriptCore's Math functions give a positive NaN.
 */
export const X86_DEFAULT_NAN = divide(new Float64Array(1)[0]!, new Float64Array(1)[0]!);

/** A division no bundler folds into a NaN literal (whose sign would be JavaScript's, positive). */
function divide(a: number, b: number): number {
  return a / b;
}

/** `v`, or when it is a NaN (read from bytes, which loses the sign), the NaN of that sign. */
export function withNaNSign(v: number, negative: boolean): number {
  if (v === v) return v;
  return negative ? X86_DEFAULT_NAN : NaN;
}

/**
 * The integer reply of a Lua number: Redis casts the double to long long, truncating, and
 * x86 turns NaN, infinities and values out of range into INT64_MIN.
 */
export function luaNumberToReplyInteger(v: number): number | bigint {
  if (v >= -TWO_63 && v < TWO_63) {
    const n = Math.trunc(v);
    return Number.isSafeInteger(n) ? n : BigInt(n);
  }
  return LONG_MIN;
}
