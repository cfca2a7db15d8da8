// The intset encoding (src/encoding/intset.ts): a random model test of adds, removes and
// reads; upgrades from 16 to 32 to 64 bits at both ends; int64s beyond 2^53 exactly;
// validation of corrupt bytes; and the bytes themselves against real Redis, taken from
// DUMP payloads (RDB type 11: the intset as a length-prefixed string).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  INTSET_HEADER_BYTES,
  intsetAdd,
  intsetBytes,
  intsetEncoding,
  intsetFind,
  intsetGet,
  intsetLength,
  intsetNew,
  intsetRandom,
  intsetRemove,
  intsetValidate,
  valueEncoding,
} from "../../src/encoding/intset.ts";
import type { Int64 } from "../../src/util/numbers.ts";
import { type RespConn, type ServerProcess, withSeed } from "../oracle/harness.ts";
import { dumpPayload, dumpedString, startDumpServer } from "../oracle/dump.ts";

const RDB_TYPE_SET_INTSET = 11;

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** The canonical Int64 form of a bigint: a number when safe. */
function int64(v: bigint): Int64 {
  return v >= BigInt(-Number.MAX_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Builds an intset by adding the values in order. */
function build(values: Int64[]): Uint8Array {
  let buf = intsetNew();
  for (const v of values) buf = intsetAdd(buf, v) ?? buf;
  return buf;
}

/** The entries, read one by one. */
function entries(buf: Uint8Array, base = 0): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < intsetLength(buf, base); i++) out.push(BigInt(intsetGet(buf, base, i)));
  return out;
}

/** The exact bytes Redis's intset holds for these values at this width. */
function expectedBytes(values: bigint[], enc: number): Uint8Array {
  const sorted = [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out = new Uint8Array(INTSET_HEADER_BYTES + sorted.length * enc);
  const view = new DataView(out.buffer);
  view.setUint32(0, enc, true);
  view.setUint32(4, sorted.length, true);
  sorted.forEach((v, i) => {
    const p = INTSET_HEADER_BYTES + i * enc;
    if (enc === 2) view.setInt16(p, Number(v), true);
    else if (enc === 4) view.setInt32(p, Number(v), true);
    else view.setBigInt64(p, v, true);
  });
  return out;
}

function used(buf: Uint8Array): Uint8Array {
  return buf.slice(0, intsetBytes(buf, 0));
}

describe("adding, finding, removing", () => {
  test("a new intset is empty, int16, and 8 bytes", () => {
    const buf = intsetNew();
    expect(Array.from(used(buf))).toEqual([2, 0, 0, 0, 0, 0, 0, 0]);
    expect(intsetFind(buf, 0, 0)).toBe(false);
    expect(intsetRemove(buf, 0)).toBe(false);
  });

  test("entries stay sorted and distinct; adding a member again changes nothing", () => {
    const buf = build([5, -3, 100, 5, 0, -32768, 32767]);
    expect(entries(buf)).toEqual([-32768n, -3n, 0n, 5n, 100n, 32767n]);
    expect(intsetEncoding(buf, 0)).toBe(2);
    expect(intsetAdd(buf, 100)).toBeNull();
    expect(used(buf)).toEqual(expectedBytes([5n, -3n, 100n, 0n, -32768n, 32767n], 2));
  });

  test("removing shifts the tail down and never narrows the encoding", () => {
    let buf = build([1, 2, 3, 70000]);
    expect(intsetEncoding(buf, 0)).toBe(4);
    expect(intsetRemove(buf, 70000)).toBe(true);
    expect(intsetRemove(buf, 70000)).toBe(false);
    expect(intsetRemove(buf, 2)).toBe(true);
    expect(used(buf)).toEqual(expectedBytes([1n, 3n], 4));
    // A value wider than the encoding cannot be an entry.
    expect(intsetRemove(buf, 5000000000)).toBe(false);
    expect(intsetFind(buf, 0, 5000000000)).toBe(false);
    buf = intsetAdd(buf, 2)!;
    expect(used(buf)).toEqual(expectedBytes([1n, 2n, 3n], 4));
  });

  test("an edit that needs room returns a bigger buffer; one that fits keeps the buffer", () => {
    const tight = intsetNew();
    const grown = intsetAdd(tight, 1)!;
    expect(grown).not.toBe(tight);
    const roomy = intsetNew(10);
    expect(intsetAdd(roomy, 1)).toBe(roomy);
    expect(intsetAdd(roomy, 2)).toBe(roomy);
    expect(entries(roomy)).toEqual([1n, 2n]);
  });

  test("random entries cover the whole set", () => {
    const buf = build([1, 2, 3, 4]);
    const seen = new Set<Int64>();
    for (let k = 0; k < 400 && seen.size < 4; k++) seen.add(intsetRandom(buf, 0));
    expect([...seen].sort()).toEqual([1, 2, 3, 4]);
  });

  test("reads work on an intset embedded at any offset", () => {
    const inner = used(build([-7, 9, 70000]));
    const page = new Uint8Array(inner.length + 13).fill(0xee);
    page.set(inner, 5);
    expect(entries(page, 5)).toEqual([-7n, 9n, 70000n]);
    expect(intsetFind(page, 5, 9)).toBe(true);
    expect(intsetFind(page, 5, 10)).toBe(false);
    expect(intsetBytes(page, 5)).toBe(inner.length);
    expect(intsetValidate(page, 5, inner.length)).toBe(true);
  });
});

describe("upgrades", () => {
  const edges: [bigint, number][] = [
    [32767n, 2], [-32768n, 2], [32768n, 4], [-32769n, 4],
    [2147483647n, 4], [-2147483648n, 4], [2147483648n, 8], [-2147483649n, 8],
    [INT64_MAX, 8], [INT64_MIN, 8],
  ];

  test("valueEncoding picks the narrowest width", () => {
    for (const [v, enc] of edges) expect(valueEncoding(int64(v))).toBe(enc);
  });

  for (const sign of [1n, -1n]) {
    test(`16 -> 32 -> 64 bits with ${sign > 0 ? "appended" : "prepended"} values`, () => {
      let buf = build([-2, 0, 7]);
      const all = [-2n, 0n, 7n];
      for (const [magnitude, enc] of [[100000n, 4], [10000000000n, 8]] as const) {
        buf = intsetAdd(buf, int64(sign * magnitude))!;
        all.push(sign * magnitude);
        expect(intsetEncoding(buf, 0)).toBe(enc);
        expect(used(buf)).toEqual(expectedBytes(all, enc));
      }
    });
  }

  test("16 -> 64 bits in one step, at both ends", () => {
    let buf = build([1, 2]);
    buf = intsetAdd(buf, int64(INT64_MIN))!;
    buf = intsetAdd(buf, int64(INT64_MAX))!;
    expect(used(buf)).toEqual(expectedBytes([1n, 2n, INT64_MIN, INT64_MAX], 8));
  });
});

describe("int64 beyond 2^53", () => {
  const big = [
    2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 53n + 2n, -(2n ** 53n) + 1n, -(2n ** 53n), -(2n ** 53n) - 1n,
    INT64_MAX, INT64_MAX - 1n, INT64_MIN, INT64_MIN + 1n, 2n ** 32n, 2n ** 32n - 1n, -(2n ** 32n), -(2n ** 32n) - 1n,
  ];

  test("stay exact and come back in canonical form", () => {
    const buf = build(big.map(int64));
    const got = entries(buf);
    expect(got).toEqual([...big].sort((a, b) => (a < b ? -1 : 1)));
    const safe = BigInt(Number.MAX_SAFE_INTEGER);
    for (let i = 0; i < got.length; i++) {
      expect(typeof intsetGet(buf, 0, i)).toBe(got[i]! >= -safe && got[i]! <= safe ? "number" : "bigint");
    }
    expect(used(buf)).toEqual(expectedBytes(big, 8));
  });

  test("neighbours that round to the same double are told apart", () => {
    const buf = build([int64(2n ** 53n + 1n)]);
    expect(intsetFind(buf, 0, int64(2n ** 53n + 1n))).toBe(true);
    expect(intsetFind(buf, 0, int64(2n ** 53n))).toBe(false);
    expect(intsetFind(buf, 0, int64(2n ** 53n + 2n))).toBe(false);
    expect(intsetAdd(buf, int64(2n ** 53n + 2n))).not.toBeNull();
  });
});

describe("random operations against a model", () => {
  test("adds, removes and finds match a sorted set of bigints", () => {
    withSeed("intset model", (random) => {
      const widths = [10n, 40000n, 3000000000n, 2n ** 62n];
      for (let round = 0; round < 30; round++) {
        let buf = intsetNew();
        const model = new Set<bigint>();
        let widest = 2;
        const range = widths[Math.floor(random() * widths.length)]!;
        for (let step = 0; step < 300; step++) {
          const raw = (BigInt(Math.floor(random() * 2 ** 32)) << 32n) | BigInt(Math.floor(random() * 2 ** 32));
          const v = (raw % (2n * range + 1n)) - range;
          const value = int64(v);
          if (random() < 0.6) {
            const out = intsetAdd(buf, value);
            expect(out === null).toBe(model.has(v));
            if (out !== null) buf = out;
            model.add(v);
            widest = Math.max(widest, valueEncoding(value));
          } else {
            expect(intsetRemove(buf, value)).toBe(model.delete(v));
          }
          expect(intsetFind(buf, 0, value)).toBe(model.has(v));
        }
        expect(intsetEncoding(buf, 0)).toBe(widest);
        expect(used(buf)).toEqual(expectedBytes([...model], widest));
        expect(intsetValidate(buf, 0, intsetBytes(buf, 0))).toBe(model.size > 0);
      }
    });
  });
});

describe("validate", () => {
  const good = used(build([-5, 1, 70000]));

  test("accepts well-formed intsets of every width", () => {
    expect(intsetValidate(good, 0, good.length)).toBe(true);
    for (const values of [[1], [1, 2], [int64(INT64_MIN), int64(INT64_MAX)]]) {
      const buf = used(build(values));
      expect(intsetValidate(buf, 0, buf.length)).toBe(true);
    }
  });

  /** A copy of `good` with one change made. */
  function corrupt(edit: (b: Uint8Array, view: DataView) => void): Uint8Array {
    const b = good.slice();
    edit(b, new DataView(b.buffer));
    return b;
  }

  const cases: [string, Uint8Array, number?][] = [
    ["encoding 0", corrupt((_, v) => v.setUint32(0, 0, true))],
    ["encoding 3", corrupt((_, v) => v.setUint32(0, 3, true))],
    ["encoding 16", corrupt((_, v) => v.setUint32(0, 16, true))],
    ["length too large", corrupt((_, v) => v.setUint32(4, 4, true))],
    ["length too small", corrupt((_, v) => v.setUint32(4, 2, true))],
    ["length near 2^32", corrupt((_, v) => v.setUint32(4, 0xffffffff, true))],
    ["length zero", corrupt((_, v) => v.setUint32(4, 0, true)), INTSET_HEADER_BYTES],
    ["entries out of order", corrupt((_, v) => v.setInt32(8, 2, true))],
    ["duplicate entries", corrupt((_, v) => v.setInt32(8, 1, true))],
    ["a truncated buffer", good.slice(0, good.length - 1), good.length - 1],
    ["a size with a byte to spare", (() => { const b = new Uint8Array(good.length + 1); b.set(good); return b; })(), good.length + 1],
    ["shorter than a header", good.slice(0, 5), 5],
    ["empty", new Uint8Array(0), 0],
  ];
  for (const [name, bytes, size] of cases) {
    test(`rejects ${name}`, () => {
      expect(intsetValidate(bytes, 0, size ?? bytes.length)).toBe(false);
    });
  }

  test("rejects a size reaching past the buffer, or a negative one", () => {
    expect(intsetValidate(good, 0, good.length + 8)).toBe(false);
    expect(intsetValidate(good, 4, good.length)).toBe(false);
    expect(intsetValidate(good, 0, -1)).toBe(false);
  });

  test("unsorted int64 entries that differ only in the low half are rejected", () => {
    const b = used(build([int64(2n ** 40n), int64(2n ** 40n + 5n)]));
    new DataView(b.buffer).setUint32(8, 9, true);
    expect(intsetValidate(b, 0, b.length)).toBe(false);
  });

  test("never throws on random bytes", () => {
    withSeed("intset validate garbage", (random) => {
      for (let k = 0; k < 2000; k++) {
        const b = new Uint8Array(Math.floor(random() * 40));
        for (let i = 0; i < b.length; i++) b[i] = Math.floor(random() * 256);
        if (b.length >= 4 && random() < 0.7) new DataView(b.buffer).setUint32(0, [2, 4, 8][k % 3]!, true);
        if (b.length >= 8 && random() < 0.7) new DataView(b.buffer).setUint32(4, Math.floor(random() * 5), true);
        const size = Math.floor(random() * (b.length + 4));
        expect(typeof intsetValidate(b, 0, size)).toBe("boolean");
      }
    });
  });
});

describe("bytes equal to Redis's (DUMP payloads)", () => {
  let redis: ServerProcess;
  let conn: RespConn;
  beforeAll(async () => {
    // Large enough for the 3000-entry case to stay an intset.
    ({ redis, conn } = await startDumpServer(["set-max-intset-entries", "5000"]));
  });
  afterAll(async () => {
    conn.close();
    await redis.stop();
  });

  /** The intset bytes inside a DUMP reply (RDB_TYPE_SET_INTSET), after checking the framing. */
  function intsetFromDump(reply: string): Uint8Array {
    return dumpedString(dumpPayload(reply)!, RDB_TYPE_SET_INTSET);
  }

  /** Adds the values to a Redis set and to an intset, removes some, and compares the bytes. */
  async function compare(key: string, values: bigint[], removed: bigint[] = []): Promise<void> {
    await conn.call("DEL", key);
    for (let i = 0; i < values.length; i += 500) {
      expect(await conn.call("SADD", key, ...values.slice(i, i + 500).map(String))).toStartWith(":");
    }
    if (removed.length > 0) await conn.call("SREM", key, ...removed.map(String));
    expect(await conn.call("OBJECT", "ENCODING", key)).toBe("$6\r\nintset\r\n");
    let buf = build(values.map(int64));
    for (const v of removed) intsetRemove(buf, int64(v));
    buf = used(buf);
    expect(buf).toEqual(intsetFromDump(await conn.call("DUMP", key)));
    expect(intsetValidate(buf, 0, buf.length)).toBe(true);
  }

  test("small sets of each width", async () => {
    await compare("a", [5n, -3n, 70000n]);
    await compare("b", [1n]);
    await compare("c", [-1n, 0n, 1n, 32767n, -32768n]);
    await compare("d", [INT64_MAX, INT64_MIN, 0n]);
    await compare("e", [2n ** 53n + 1n, -(2n ** 53n) - 1n, 2n ** 31n, -(2n ** 31n) - 1n]);
  });

  test("upgrades in every order, then removals that leave the width", async () => {
    await compare("f", [1n, 2n, 3n, 100000n, -100000n, 10000000000n], [10000000000n, 100000n]);
    await compare("g", [-10000000000n, 5n, -70000n, 9n], [-10000000000n]);
  });

  test("large sets, whose DUMP lengths take 14 and 32 bits", async () => {
    const medium = Array.from({ length: 300 }, (_, i) => BigInt(i * 7919 - 1000000));
    await compare("h", medium, medium.slice(0, 40));
    const large = Array.from({ length: 3000 }, (_, i) => BigInt(i) * 3037000493n - 4000000000000n);
    await compare("i", large, large.filter((_, i) => i % 3 === 0));
  });
});
