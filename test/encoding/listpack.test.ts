import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  LP_AFTER,
  LP_BEFORE,
  LP_COUNT_UNKNOWN,
  LP_EMPTY_SIZE,
  LP_REPLACE,
  type LpWhere,
  lpAddReplyEntry,
  lpAppend,
  lpAppendInteger,
  lpBytes,
  lpCompare,
  lpCountHeader,
  lpDelete,
  lpDeleteRange,
  lpDeleteRangeWithEntry,
  lpEdited,
  lpEntry,
  lpEntryInt64,
  lpFind,
  lpFirst,
  lpGet,
  lpGetLatin1,
  lpInsertInteger,
  lpInsertString,
  lpLast,
  lpLength,
  lpMerge,
  lpNew,
  lpNext,
  lpPrepend,
  lpPrependInteger,
  lpPrev,
  lpReplace,
  lpReplaceInPlace,
  lpReplaceInteger,
  lpSeek,
  lpValidate,
} from "../../src/encoding/listpack.ts";
import { ReplyWriter } from "../../src/resp/writer.ts";
import { INT64_MAX, INT64_MIN, type Int64 } from "../../src/util/numbers.ts";
import { type RespConn, type ServerProcess, rng, withSeed } from "../oracle/harness.ts";
import { seedFromEnv } from "../oracle/fuzz.ts";
import { dumpPayload, dumpedString, startDumpServer } from "../oracle/dump.ts";

type Random = () => number;

const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "latin1"));
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

function append(buf: Uint8Array, s: string): Uint8Array {
  const b = bytes(s);
  return lpAppend(buf, b, 0, b.length);
}

function build(values: readonly string[]): Uint8Array {
  let buf = lpNew();
  for (const v of values) buf = append(buf, v);
  return buf;
}

/** The listpack's bytes alone, without the room after them. */
const used = (buf: Uint8Array): Uint8Array => buf.slice(0, lpBytes(buf, 0));

/** Every entry, first to last, as latin1 strings. */
function forward(buf: Uint8Array, base = 0): string[] {
  const out: string[] = [];
  for (let p = lpFirst(buf, base); p !== -1; p = lpNext(buf, p)) out.push(lpGetLatin1(buf, p));
  return out;
}

/** Every entry, last to first, as latin1 strings. */
function backward(buf: Uint8Array, base = 0): string[] {
  const out: string[] = [];
  for (let p = lpLast(buf, base); p !== -1; p = lpPrev(buf, base, p)) out.push(lpGetLatin1(buf, p));
  return out;
}

/** The index of the entry at position p, or -1 for p = -1. */
function indexOf(buf: Uint8Array, p: number): number {
  if (p === -1) return -1;
  let i = 0;
  for (let q = lpFirst(buf, 0); q !== -1; q = lpNext(buf, q), i++) if (q === p) return i;
  throw new Error(`no entry at ${p}`);
}

/** Asserts the listpack is valid and holds exactly `model`, walked both ways. */
function expectHolds(buf: Uint8Array, model: readonly string[]): void {
  expect(lpValidate(buf, 0, lpBytes(buf, 0), true)).toBe(true);
  expect(forward(buf)).toEqual([...model]);
  expect(backward(buf)).toEqual([...model].reverse());
  expect(lpLength(buf, 0)).toBe(model.length);
}

/** First byte and total entry size (encoding, data, backlen) of a one-entry listpack. */
function entryShape(buf: Uint8Array): [number, number] {
  return [buf[6]!, lpBytes(buf, 0) - LP_EMPTY_SIZE];
}

describe("encodings", () => {
  // [value, first byte of its encoding, entry size with backlen]
  const ints: [Int64, number, number][] = [
    [0, 0x00, 2],
    [127, 0x7f, 2],
    [128, 0xc0, 3],
    [-1, 0xdf, 3],
    [4095, 0xcf, 3],
    [-4096, 0xd0, 3],
    [4096, 0xf1, 4],
    [-4097, 0xf1, 4],
    [32767, 0xf1, 4],
    [-32768, 0xf1, 4],
    [32768, 0xf2, 5],
    [-32769, 0xf2, 5],
    [8388607, 0xf2, 5],
    [-8388608, 0xf2, 5],
    [8388608, 0xf3, 6],
    [-8388609, 0xf3, 6],
    [2147483647, 0xf3, 6],
    [-2147483648, 0xf3, 6],
    [2147483648, 0xf4, 10],
    [-2147483649, 0xf4, 10],
    [Number.MAX_SAFE_INTEGER, 0xf4, 10],
    [-Number.MAX_SAFE_INTEGER, 0xf4, 10],
    [9007199254740992n, 0xf4, 10],
    [-9007199254740992n, 0xf4, 10],
    [INT64_MAX, 0xf4, 10],
    [INT64_MIN, 0xf4, 10],
  ];

  test("every integer width at its boundaries, inserted as an integer or as its digits", () => {
    for (const [v, first, size] of ints) {
      const asInt = lpAppendInteger(lpNew(), v);
      const asString = append(lpNew(), String(v));
      expect(used(asString)).toEqual(used(asInt));
      expect(entryShape(asInt)).toEqual([first, size]);
      lpGet(asInt, 6);
      expect(lpEntry.isInt).toBe(true);
      expect(lpEntryInt64()).toBe(v);
      expect(lpGetLatin1(asInt, 6)).toBe(String(v));
      expectHolds(asInt, [String(v)]);
    }
  });

  test("integers beyond 2^53 round-trip exactly, inside 2^53 they read as numbers", () => {
    const buf = lpAppendInteger(lpAppendInteger(lpNew(), 2 ** 40), -(2n ** 60n) - 7n);
    lpGet(buf, 6);
    expect([lpEntry.isBig, lpEntry.int]).toEqual([false, 2 ** 40]);
    lpGet(buf, lpNext(buf, 6));
    expect([lpEntry.isBig, lpEntry.big]).toEqual([true, -(2n ** 60n) - 7n]);
    // A bigint inside the safe range is stored and read back as a plain number.
    lpGet(lpAppendInteger(lpNew(), 5000n), 6);
    expect(lpEntryInt64()).toBe(5000);
  });

  test("the little-endian two's complement bytes match Redis's", () => {
    // Header (total bytes, count), entry, backlen, terminator.
    expect(hex(used(lpAppendInteger(lpNew(), -5000)))).toBe("0b000000" + "0100" + "f178ec" + "03" + "ff");
    expect(hex(used(lpAppendInteger(lpNew(), -1)))).toBe("0a000000" + "0100" + "dfff" + "02" + "ff");
    expect(hex(used(lpAppendInteger(lpNew(), INT64_MIN)))).toBe("11000000" + "0100" + "f40000000000000080" + "09" + "ff");
  });

  test("strings that are not canonical int64 stay strings", () => {
    const strings = ["-0", "01", " 1", "1 ", "+1", "", "-", "00", "1.0", "0x1", "1e3", "9223372036854775808", "-9223372036854775809", "99999999999999999999", "1\0"];
    for (const s of strings) {
      const buf = append(lpNew(), s);
      lpGet(buf, 6);
      expect(lpEntry.isInt).toBe(false);
      expect(buf[6]).toBe(0x80 | s.length);
      expectHolds(buf, [s]);
    }
  });

  test("string widths at 63/64 and 4095/4096 bytes", () => {
    const cases: [number, number, number][] = [
      [0, 0x80, 2],
      [63, 0xbf, 65],
      [64, 0xe0, 67],
      [4095, 0xef, 4099],
      [4096, 0xf0, 4103],
    ];
    for (const [len, first, size] of cases) {
      const s = "x".repeat(len);
      const buf = append(lpNew(), s);
      expect(entryShape(buf)).toEqual([first, size]);
      expectHolds(buf, [s]);
    }
  });

  test("backlen widths at their thresholds, walked backwards across them", () => {
    // Entry size (encoding + data) -> backlen bytes: <=127: 1, <16383: 2, <2097151: 3.
    const cases: [number, number][] = [
      [125, 1], // 12-bit string: 2 + 125 = 127
      [126, 2],
      [16377, 2], // 32-bit string: 5 + 16377 = 16382
      [16378, 3],
      [2097145, 3],
      [2097146, 4],
    ];
    const values = ["a"];
    for (const [len, backlen] of cases) {
      const s = String.fromCharCode(97 + (len % 26)).repeat(len);
      const header = len < 4096 ? 2 : 5;
      expect(lpBytes(append(lpNew(), s), 0) - LP_EMPTY_SIZE).toBe(header + len + backlen);
      values.push(s, "7");
    }
    expectHolds(build(values), values);
  });

  test("binary bytes survive", () => {
    let s = "";
    for (let i = 0; i < 256; i++) s += String.fromCharCode(i);
    expectHolds(build([s, "\xff", "\xff\xff"]), [s, "\xff", "\xff\xff"]);
  });
});

describe("navigation and reading", () => {
  const values = ["hello", "1024", "-7", "x".repeat(70), "9223372036854775807", "", "quux"];

  test("prev and next walk the whole listpack both ways", () => {
    const buf = build(values);
    expectHolds(buf, values);
    expect(lpPrev(buf, 0, lpFirst(buf, 0))).toBe(-1);
    expect(lpNext(buf, lpLast(buf, 0))).toBe(-1);
    expect(lpFirst(lpNew(), 0)).toBe(-1);
    expect(lpLast(lpNew(), 0)).toBe(-1);
  });

  test("seek by positive and negative index, out of range on both sides", () => {
    const buf = build(values);
    for (let i = 0; i < values.length; i++) {
      expect(lpGetLatin1(buf, lpSeek(buf, 0, i))).toBe(values[i]!);
      expect(lpGetLatin1(buf, lpSeek(buf, 0, -1 - i))).toBe(values[values.length - 1 - i]!);
    }
    expect(lpSeek(buf, 0, values.length)).toBe(-1);
    expect(lpSeek(buf, 0, -values.length - 1)).toBe(-1);
    expect(lpSeek(lpNew(), 0, 0)).toBe(-1);
    expect(lpSeek(lpNew(), 0, -1)).toBe(-1);
  });

  test("reads work at a base offset inside a larger buffer", () => {
    const lp = used(build(values));
    const page = new Uint8Array(lp.length + 20).fill(0xff);
    page.set(lp, 9);
    expect(forward(page, 9)).toEqual(values);
    expect(backward(page, 9)).toEqual([...values].reverse());
    expect(lpGetLatin1(page, lpSeek(page, 9, -2))).toBe("");
    expect(lpValidate(page, 9, lp.length, true)).toBe(true);
  });

  test("lpFind compares strings by bytes and integers by value, with skip", () => {
    const buf = build(["f1", "1", "01", "v", "1", "x", "-9223372036854775808", "big", "9007199254740993", "y"]);
    const find = (s: string, skip: number, from = lpFirst(buf, 0)) => {
      const b = bytes(s);
      return indexOf(buf, lpFind(buf, from, b, 0, b.length, skip));
    };
    expect(find("1", 0)).toBe(1);
    expect(find("1", 1)).toBe(4); // fields only: index 1 is a value
    expect(find("01", 0)).toBe(2);
    expect(find("01", 1)).toBe(2);
    expect(find("v", 1)).toBe(-1); // "v" is a value
    expect(find("-9223372036854775808", 1)).toBe(6);
    expect(find("9007199254740993", 0)).toBe(8);
    expect(find("9007199254740992", 0)).toBe(-1);
    expect(find("+1", 0)).toBe(-1);
    expect(find("nope", 0)).toBe(-1);
    expect(find("y", 1, lpSeek(buf, 0, 9))).toBe(9);
    expect(lpFind(buf, -1, bytes("y"), 0, 1, 0)).toBe(-1);
  });

  test("lpCompare matches like Redis's: integers against canonical digits only", () => {
    const buf = build(["12", "ab", "-4097"]);
    const eq = (i: number, s: string) => lpCompare(buf, lpSeek(buf, 0, i), bytes(s), 0, s.length);
    expect([eq(0, "12"), eq(0, "012"), eq(0, "12 "), eq(1, "ab"), eq(1, "abc"), eq(2, "-4097")]).toEqual([true, false, false, true, false, true]);
    expect(lpCompare(buf, lpBytes(buf, 0) - 1, bytes(""), 0, 0)).toBe(false);
  });

  test("entries reply as RESP bulk strings", () => {
    const buf = build(["abc", "42", "-9223372036854775808", "x".repeat(100)]);
    const w = new ReplyWriter(16);
    for (let p = lpFirst(buf, 0); p !== -1; p = lpNext(buf, p)) lpAddReplyEntry(w, buf, p);
    const want = `$3\r\nabc\r\n$2\r\n42\r\n$20\r\n-9223372036854775808\r\n$100\r\n${"x".repeat(100)}\r\n`;
    expect(Buffer.from(w.bytes()).toString("latin1")).toBe(want);
  });
});

describe("edits", () => {
  test("replacing in place only when the new entry takes the same room, at any base", () => {
    const inner = build(["f", "abc", "g", "100", "h", "x"]);
    // The listpack at offset 5 of a bigger buffer, as the keyspace keeps one inline.
    const outer = new Uint8Array(5 + inner.length);
    outer.set(inner, 5);
    const at = (i: number) => lpSeek(outer, 5, i);
    expect(lpReplaceInPlace(outer, at(1), bytes("xyz"), 0, 3)).toBe(true);
    expect(lpReplaceInPlace(outer, at(1), bytes("xyzw"), 0, 4)).toBe(false);
    expect(lpReplaceInPlace(outer, at(3), bytes("99"), 0, 2)).toBe(true);
    // 4095 needs the 13-bit encoding, 100 the 7-bit one: refused, nothing written.
    expect(lpReplaceInPlace(outer, at(3), bytes("4095"), 0, 4)).toBe(false);
    expect(lpReplaceInPlace(outer, at(5), bytes("7"), 0, 1)).toBe(false);
    expect(forward(outer, 5)).toEqual(["f", "xyz", "g", "99", "h", "x"]);
    expect(backward(outer, 5)).toEqual(["x", "h", "99", "g", "xyz", "f"]);
    expect(lpValidate(outer, 5, lpBytes(outer, 5), true)).toBe(true);
  });

  test("insert before, after and in place of middle entries", () => {
    let buf = build(["a", "b", "c"]);
    buf = lpInsertString(buf, lpSeek(buf, 0, 1), LP_BEFORE, bytes("x"), 0, 1);
    expect(lpGetLatin1(buf, lpEdited.pos)).toBe("x");
    buf = lpInsertInteger(buf, lpSeek(buf, 0, 2), LP_AFTER, -300);
    expect(lpGetLatin1(buf, lpEdited.pos)).toBe("-300");
    expectHolds(buf, ["a", "x", "b", "-300", "c"]);
    buf = lpReplace(buf, lpSeek(buf, 0, 2), bytes("a longer one"), 0, 12);
    expectHolds(buf, ["a", "x", "a longer one", "-300", "c"]);
    buf = lpReplaceInteger(buf, lpSeek(buf, 0, 2), INT64_MAX);
    expect(lpGetLatin1(buf, lpEdited.pos)).toBe(String(INT64_MAX));
    buf = lpPrependInteger(lpPrepend(buf, bytes("p"), 0, 1), 7);
    expectHolds(buf, ["7", "p", "a", "x", String(INT64_MAX), "-300", "c"]);
    expect(lpCountHeader(buf, 0)).toBe(7);
  });

  test("delete in the middle and at the ends, with the next position", () => {
    let buf = build(["a", "b", "c", "d"]);
    buf = lpDelete(buf, lpSeek(buf, 0, 1));
    expect(lpGetLatin1(buf, lpEdited.pos)).toBe("c");
    buf = lpDelete(buf, lpLast(buf, 0));
    expect(lpEdited.pos).toBe(-1);
    expectHolds(buf, ["a", "c"]);
    buf = lpDelete(buf, lpFirst(buf, 0));
    buf = lpDelete(buf, lpFirst(buf, 0));
    expect(used(buf)).toEqual(used(lpNew()));
  });

  test("delete ranges by entry and by index", () => {
    const values = ["a", "b", "c", "d", "e"];
    const cases: [number, number, string[]][] = [
      [0, 2, ["c", "d", "e"]],
      [1, 2, ["a", "d", "e"]],
      [3, 10, ["a", "b", "c"]],
      [-2, 2, ["a", "b", "c"]],
      [-5, 5, []],
      [0, 0, values],
      [5, 1, values],
      [-6, 1, values],
    ];
    for (const [index, count, want] of cases) {
      expectHolds(lpDeleteRange(build(values), index, count), want);
      const buf = build(values);
      const p = lpSeek(buf, 0, index);
      if (p !== -1) expectHolds(lpDeleteRangeWithEntry(buf, p, count), want);
    }
    const buf = lpDeleteRangeWithEntry(build(values), lpFirst(build(values), 0), 2);
    expect(lpGetLatin1(buf, lpEdited.pos)).toBe("c");
  });

  test("merge appends a second listpack, read at a base offset", () => {
    const second = used(build(["x", "200"]));
    const page = new Uint8Array(second.length + 3);
    page.set(second, 3);
    const merged = lpMerge(build(["a", "b"]), page, 3);
    expectHolds(merged, ["a", "b", "x", "200"]);
    expect(used(merged)).toEqual(used(build(["a", "b", "x", "200"])));
  });

  test("the source may be the listpack being edited", () => {
    const s = "hello world, a string to copy";
    let buf = build([s, "b"]);
    lpGet(buf, lpFirst(buf, 0));
    buf = lpInsertString(buf, lpFirst(buf, 0), LP_BEFORE, buf, lpEntry.start, lpEntry.len);
    expectHolds(buf, [s, s, "b"]);
  });

  test("the count header goes to 65535 (unknown) and comes back", () => {
    let buf = lpNew();
    for (let i = 0; i < 65534; i++) buf = lpAppendInteger(buf, i % 100);
    expect(lpCountHeader(buf, 0)).toBe(65534);
    buf = lpAppendInteger(buf, 1);
    expect(lpCountHeader(buf, 0)).toBe(LP_COUNT_UNKNOWN);
    for (let i = 0; i < 10; i++) buf = lpAppendInteger(buf, 2);
    expect(lpCountHeader(buf, 0)).toBe(LP_COUNT_UNKNOWN);
    expect(lpValidate(buf, 0, lpBytes(buf, 0), true)).toBe(true);
    expect(lpGetLatin1(buf, lpSeek(buf, 0, -11))).toBe("1");
    expect(lpGetLatin1(buf, lpSeek(buf, 0, 65533))).toBe("33");
    expect(lpSeek(buf, 0, 65545)).toBe(-1);
    expect(lpLength(buf, 0)).toBe(65545);
    // Deletions keep "unknown" until a walk finds the count fits again and writes it back.
    buf = lpDeleteRange(buf, -20, 20);
    expect(lpCountHeader(buf, 0)).toBe(LP_COUNT_UNKNOWN);
    expect(lpLength(buf, 0)).toBe(65525);
    expect(lpCountHeader(buf, 0)).toBe(65525);
    expect(lpValidate(buf, 0, lpBytes(buf, 0), true)).toBe(true);
  });

  test("merging past 65534 entries sets the count to unknown", () => {
    let half = lpNew();
    for (let i = 0; i < 40000; i++) half = lpAppendInteger(half, 3);
    const merged = lpMerge(half.slice(), half, 0);
    expect(lpCountHeader(merged, 0)).toBe(LP_COUNT_UNKNOWN);
    expect(lpLength(merged, 0)).toBe(80000);
    expect(lpValidate(merged, 0, lpBytes(merged, 0), true)).toBe(true);
  });
});

// ---------------------------------------------------------------------------
// Random values and the array model

const NEAR_INTEGERS = ["-0", "01", " 1", "+1", "", "-", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "4096", "-4097", "127", "128"];

function randomBytes(r: Random, len: number): string {
  let s = "";
  for (let i = 0; i < len; i++) s += String.fromCharCode(Math.floor(r() * 256));
  return s;
}

/** A random int64 whose magnitude is spread over every encoding width. */
function randomInt(r: Random): Int64 {
  const bits = BigInt(1 + Math.floor(r() * 64));
  const wide = (BigInt(Math.floor(r() * 2 ** 32)) << 32n) | BigInt(Math.floor(r() * 2 ** 32));
  let v = wide % (1n << bits);
  if (r() < 0.5) v = -v;
  if (v > INT64_MAX) v = INT64_MAX;
  if (v < INT64_MIN) v = INT64_MIN;
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

/** A random value as a latin1 string: integers, near-integers, short and longer binary strings. */
function randomValue(r: Random, maxLong = 70): string {
  const x = r();
  if (x < 0.35) return String(randomInt(r));
  if (x < 0.45) return NEAR_INTEGERS[Math.floor(r() * NEAR_INTEGERS.length)]!;
  if (x < 0.95) return randomBytes(r, Math.floor(r() * 12));
  return randomBytes(r, Math.floor(r() * maxLong));
}

const CANONICAL_INT = /^(0|-?[1-9][0-9]*)$/;

/** Inserts v, through the integer path half of the time when it is a canonical int64. */
function insert(buf: Uint8Array, p: number, where: LpWhere, v: string, r: Random): Uint8Array {
  if (CANONICAL_INT.test(v) && r() < 0.5) {
    const big = BigInt(v);
    if (big <= INT64_MAX && big >= INT64_MIN) {
      return lpInsertInteger(buf, p, where, Number.isSafeInteger(Number(big)) && r() < 0.5 ? Number(big) : big);
    }
  }
  const b = bytes(v);
  return lpInsertString(buf, p, where, b, 0, b.length);
}

/** One random edit applied to both the listpack and the model; returns the buffer to keep. */
function randomEdit(r: Random, buf: Uint8Array, model: string[]): Uint8Array {
  const n = model.length;
  const op = n === 0 ? 0 : Math.floor(r() * 9);
  if (op <= 1) return pushRandom(r, buf, model);
  const i = Math.floor(r() * n);
  // Positions reached from either end, so that seek walks both ways.
  const p = lpSeek(buf, 0, r() < 0.5 ? i : i - n);
  const count = Math.floor(r() * 4);
  switch (op) {
    case 2:
    case 3: {
      const v = randomValue(r);
      model.splice(op === 2 ? i : i + 1, 0, v);
      return insert(buf, p, op === 2 ? LP_BEFORE : LP_AFTER, v, r);
    }
    case 4:
      model[i] = randomValue(r);
      return insert(buf, p, LP_REPLACE, model[i]!, r);
    case 5:
      model.splice(i, 1);
      return lpDelete(buf, p);
    case 6:
      model.splice(i, count);
      return lpDeleteRangeWithEntry(buf, p, count);
    case 7:
      model.splice(i, count);
      return lpDeleteRange(buf, r() < 0.5 ? i : i - n, count);
    default: {
      const other = Array.from({ length: count }, () => randomValue(r));
      model.push(...other);
      return lpMerge(buf, build(other), 0);
    }
  }
}

function pushRandom(r: Random, buf: Uint8Array, model: string[]): Uint8Array {
  const v = randomValue(r);
  const b = bytes(v);
  if (r() < 0.5) {
    model.unshift(v);
    return lpPrepend(buf, b, 0, b.length);
  }
  model.push(v);
  return lpAppend(buf, b, 0, b.length);
}

describe("random edits against an array model", () => {
  test("every edit keeps the listpack valid, equal to the model, and byte-identical to a fresh build", () => {
    withSeed("listpack model", (r) => {
      for (let round = 0; round < 40; round++) {
        let buf = lpNew();
        const model: string[] = [];
        for (let step = 0; step < 60; step++) {
          buf = randomEdit(r, buf, model);
          expectHolds(buf, model);
          expect(used(buf)).toEqual(used(build(model)));
          if (model.length === 0) continue;
          const target = model[Math.floor(r() * model.length)]!;
          const b = bytes(target);
          expect(indexOf(buf, lpFind(buf, lpFirst(buf, 0), b, 0, b.length, 0))).toBe(model.indexOf(target));
        }
      }
    });
  });
});

// ---------------------------------------------------------------------------
// Validation of corrupted input

/**
 * Validates, and when lpValidate accepts the listpack walks it both ways with a bound on
 * the steps: whatever it accepts must be safe to walk.
 */
function validateAndWalk(buf: Uint8Array, base: number, size: number): boolean {
  if (!lpValidate(buf, base, size, true)) return false;
  let count = 0;
  for (let p = lpFirst(buf, base); p !== -1; p = lpNext(buf, p)) {
    if (p < base + 6 || p >= base + size || ++count > size) throw new Error("forward walk left the listpack");
    lpGet(buf, p);
  }
  let steps = 0;
  for (let p = lpLast(buf, base); p !== -1; p = lpPrev(buf, base, p)) {
    if (p < base + 6 || p >= base + size || ++steps > size) throw new Error("backward walk left the listpack");
  }
  if (steps !== count) throw new Error("the walks disagree");
  return true;
}

describe("lpValidate", () => {
  const samples = [
    build([]),
    build(["a", "1", "-1", "300", "-70000", "2147483648", "hello", ""]),
    build(["x".repeat(70), "9223372036854775807", "-32768", "8388607", "f"]),
    build(["y".repeat(300), "z", "-4096"]),
  ].map(used);

  test("accepts valid listpacks, deep and shallow", () => {
    for (const lp of samples) {
      expect(lpValidate(lp, 0, lp.length, true)).toBe(true);
      expect(lpValidate(lp, 0, lp.length, false)).toBe(true);
    }
  });

  test("rejects wrong sizes, truncation and a wrong count", () => {
    const lp = samples[1]!;
    expect(lpValidate(lp, 0, lp.length - 1, true)).toBe(false);
    expect(lpValidate(lp, 0, lp.length + 1, true)).toBe(false);
    expect(lpValidate(lp.subarray(0, lp.length - 1), 0, lp.length, true)).toBe(false);
    expect(lpValidate(lp.subarray(0, 5), 0, 5, true)).toBe(false);
    const wrongCount = lp.slice();
    wrongCount[4] = wrongCount[4]! + 1;
    expect(lpValidate(wrongCount, 0, lp.length, true)).toBe(false);
    expect(lpValidate(wrongCount, 0, lp.length, false)).toBe(true);
    wrongCount[4] = 0xff;
    wrongCount[5] = 0xff;
    expect(lpValidate(wrongCount, 0, lp.length, true)).toBe(true);
  });

  test("every single-byte corruption is rejected or safe to walk, and never throws", () => {
    const someBytes = [0x00, 0x01, 0x7f, 0x80, 0xbf, 0xc0, 0xdf, 0xe0, 0xef, 0xf0, 0xf1, 0xf4, 0xf5, 0xfe, 0xff];
    const allBytes = Array.from({ length: 256 }, (_, v) => v);
    const headerOrEndAccepted: string[] = [];
    let rejected = 0;
    for (const lp of samples) {
      const values = lp.length <= 100 ? allBytes : someBytes;
      for (let i = 0; i < lp.length; i++) {
        for (const v of values) {
          if (v === lp[i]) continue;
          // Bytes around the view too, so that reading outside it would show.
          const page = new Uint8Array(lp.length + 8).fill(0x80);
          page.set(lp, 4);
          page[4 + i] = v;
          const accepted = validateAndWalk(page, 4, lp.length);
          if (!accepted) rejected++;
          // The size, the count (these are all under 65535) and the terminator are checked exactly.
          if (accepted && (i < 6 || i === lp.length - 1)) headerOrEndAccepted.push(`${hex(lp)} [${i}] = ${v}`);
        }
      }
    }
    expect(headerOrEndAccepted).toEqual([]);
    expect(rejected).toBeGreaterThan(5000);
  });

  test("random garbage behind a plausible header is rejected or safe to walk", () => {
    withSeed("listpack garbage", (r) => {
      let accepted = 0;
      for (let round = 0; round < 20000; round++) {
        const size = 7 + Math.floor(r() * 40);
        const buf = bytes(randomBytes(r, size));
        buf.set([size, 0, 0, 0], 0);
        buf[size - 1] = 0xff;
        if (r() < 0.5) buf.set([0xff, 0xff], 4);
        if (validateAndWalk(buf, 0, size)) accepted++;
      }
      expect(accepted).toBeLessThan(20000);
    });
  });
});

// ---------------------------------------------------------------------------
// Byte layout against the real redis-server

/** withSeed for an async body: prints the seed when the body fails. */
async function withSeedAsync(name: string, body: (r: Random) => Promise<void>): Promise<void> {
  const seed = seedFromEnv();
  try {
    await body(rng(seed));
  } catch (error) {
    console.error(`${name} failed with SEED=${seed}`);
    throw error;
  }
}

const TYPE_HASH_LISTPACK = 16;
const TYPE_LIST_QUICKLIST_2 = 18;
/** A quicklist of one node holding a listpack (QUICKLIST_NODE_CONTAINER_PACKED). */
const ONE_PACKED_NODE = [1, 2];

describe("byte layout matches redis-server 7.0", () => {
  let redis: ServerProcess;
  let conn: RespConn;

  beforeAll(async () => {
    // Long values stay in the listpack, so that 12- and 32-bit strings are compared too.
    ({ redis, conn } = await startDumpServer(["hash-max-listpack-value", "100000"]));
  });

  afterAll(async () => {
    conn?.close();
    await redis?.stop();
  });

  /** Asserts the key's DUMP holds exactly our listpack, or that the key is gone when ours is empty. */
  async function expectSameBytes(key: string, buf: Uint8Array, type: number, prefix: number[]): Promise<void> {
    const payload = dumpPayload(await conn.call("DUMP", key));
    if (lpLength(buf, 0) === 0) {
      expect(payload).toBeNull();
      return;
    }
    expect(payload).not.toBeNull();
    expect(hex(dumpedString(payload!, type, prefix))).toBe(hex(used(buf)));
  }

  test("HSET of new fields equals appending the fields and values", async () => {
    await withSeedAsync("listpack hset", async (r) => {
      for (let round = 0; round < 40; round++) {
        await conn.call("DEL", "h");
        const seen = new Set<string>();
        const args: string[] = [];
        let buf = lpNew();
        for (let i = 1 + Math.floor(r() * 100); i > 0; i--) {
          const field = randomValue(r);
          if (seen.has(field)) continue;
          seen.add(field);
          const value = r() < 0.03 ? randomBytes(r, 4090 + Math.floor(r() * 10)) : randomValue(r);
          args.push(field, value);
          buf = append(append(buf, field), value);
        }
        expect(await conn.call("HSET", "h", ...args)).toBe(`:${args.length / 2}\r\n`);
        await expectSameBytes("h", buf, TYPE_HASH_LISTPACK, []);
      }
    });
  }, 30000);

  test("HSET and HDEL sequences equal t_hash.c's lpFind / lpReplace / lpDeleteRangeWithEntry", async () => {
    await withSeedAsync("listpack hash edits", async (r) => {
      const fields = Array.from({ length: 40 }, () => bytes(randomValue(r)));
      let buf = lpNew();
      await conn.call("DEL", "h");
      for (let step = 0; step < 800; step++) {
        const field = fields[Math.floor(r() * fields.length)]!;
        const p = lpFind(buf, lpFirst(buf, 0), field, 0, field.length, 1);
        if (r() < 0.3) {
          await conn.call("HDEL", "h", field);
          if (p !== -1) buf = lpDeleteRangeWithEntry(buf, p, 2);
        } else {
          const value = bytes(r() < 0.02 ? randomBytes(r, 4096) : randomValue(r));
          await conn.call("HSET", "h", field, value);
          if (p !== -1) buf = lpReplace(buf, lpNext(buf, p), value, 0, value.length);
          else buf = lpAppend(lpAppend(buf, field, 0, field.length), value, 0, value.length);
        }
        await expectSameBytes("h", buf, TYPE_HASH_LISTPACK, []);
      }
    });
  }, 30000);

  test("list pushes, pops, inserts, sets, removes and trims equal our edits of one quicklist node", async () => {
    await withSeedAsync("listpack list edits", async (r) => {
      let buf = lpNew();
      await conn.call("DEL", "l");
      for (let step = 0; step < 800; step++) {
        buf = await listEdit(r, buf);
        await expectSameBytes("l", buf, TYPE_LIST_QUICKLIST_2, ONE_PACKED_NODE);
      }
    });
  }, 30000);

  /** A short value, often repeated, so that lists stay in one 8 KB node and LREM finds matches. */
  function listValue(r: Random): Uint8Array {
    return bytes(r() < 0.6 ? randomValue(r, 20) : String(Math.floor(r() * 5)));
  }

  /** Sends one random list command and applies the edit t_list.c / quicklist.c make for it. */
  async function listEdit(r: Random, buf: Uint8Array): Promise<Uint8Array> {
    const n = lpLength(buf, 0);
    const op = n === 0 || n > 120 ? 0 : Math.floor(r() * 6);
    if (op === 0) return pushOrPop(r, buf, n > 120);
    if (op === 1) return listInsert(r, buf);
    if (op === 2) return listSet(r, buf, n);
    if (op === 3) return listRemove(r, buf);
    if (op === 4) return listTrim(r, buf, n);
    return pushOrPop(r, buf, true);
  }

  async function pushOrPop(r: Random, buf: Uint8Array, pop: boolean): Promise<Uint8Array> {
    const head = r() < 0.5;
    if (pop) {
      await conn.call(head ? "LPOP" : "RPOP", "l");
      return lpDelete(buf, head ? lpFirst(buf, 0) : lpLast(buf, 0));
    }
    const v = listValue(r);
    await conn.call(head ? "LPUSH" : "RPUSH", "l", v);
    return head ? lpPrepend(buf, v, 0, v.length) : lpAppend(buf, v, 0, v.length);
  }

  /** LINSERT: before or after the first entry equal to the pivot, from the head. */
  async function listInsert(r: Random, buf: Uint8Array): Promise<Uint8Array> {
    const pivot = listValue(r);
    const v = listValue(r);
    const before = r() < 0.5;
    await conn.call("LINSERT", "l", before ? "BEFORE" : "AFTER", pivot, v);
    const p = lpFind(buf, lpFirst(buf, 0), pivot, 0, pivot.length, 0);
    return p === -1 ? buf : lpInsertString(buf, p, before ? LP_BEFORE : LP_AFTER, v, 0, v.length);
  }

  async function listSet(r: Random, buf: Uint8Array, n: number): Promise<Uint8Array> {
    const index = Math.floor(r() * n) - (r() < 0.5 ? n : 0);
    const v = listValue(r);
    await conn.call("LSET", "l", String(index), v);
    return lpReplace(buf, lpSeek(buf, 0, index), v, 0, v.length);
  }

  /** LREM: deletes up to |count| matches (all for 0) from the head, or from the tail when count < 0. */
  async function listRemove(r: Random, buf: Uint8Array): Promise<Uint8Array> {
    const v = listValue(r);
    const count = Math.floor(r() * 5) - 2;
    await conn.call("LREM", "l", String(count), v);
    const limit = count === 0 ? Infinity : Math.abs(count);
    let removed = 0;
    let p = count >= 0 ? lpFirst(buf, 0) : lpLast(buf, 0);
    while (p !== -1 && removed < limit) {
      const matches = lpCompare(buf, p, v, 0, v.length);
      // Entries before p keep their positions when p is deleted.
      const prev = lpPrev(buf, 0, p);
      if (matches) {
        buf = lpDelete(buf, p);
        removed++;
      }
      if (count < 0) p = prev;
      else p = matches ? lpEdited.pos : lpNext(buf, p);
    }
    return buf;
  }

  /** LTRIM: quicklistDelRange from the head, then from the tail, as ltrimCommand does. */
  async function listTrim(r: Random, buf: Uint8Array, n: number): Promise<Uint8Array> {
    let start = Math.floor(r() * (n + 4)) - 2 - (r() < 0.3 ? n : 0);
    let end = Math.floor(r() * (n + 4)) - 2 - (r() < 0.3 ? n : 0);
    await conn.call("LTRIM", "l", String(start), String(end));
    if (start < 0) start += n;
    if (end < 0) end += n;
    if (start < 0) start = 0;
    let ltrim = n;
    let rtrim = 0;
    if (start <= end && start < n) {
      ltrim = start;
      rtrim = n - Math.min(end, n - 1) - 1;
    }
    buf = lpDeleteRange(buf, 0, ltrim);
    return lpDeleteRange(buf, -rtrim, rtrim);
  }
});
