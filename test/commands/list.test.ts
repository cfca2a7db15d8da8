// List commands against the real redis-server: every reply byte for byte, errors included,
// in RESP2 and RESP3, binary elements, and long lists of many nodes, whose quicklist shape
// (DEBUG OBJECT's ql_* fields) and DEBUG DIGEST-VALUE must come out as Redis's do.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { Oracle, RespConn, bulkArray, rng } from "../oracle/harness.ts";

let o: Oracle;
/** A RESP3 connection to each server. */
let r3: [RespConn, RespConn];

beforeAll(async () => {
  o = await Oracle.start(["--enable-debug-command", "yes"]);
  r3 = await o.connectResp3();
});
afterAll(() => o.stop());
beforeEach(async () => {
  await o.sameAll([["FLUSHALL"], ["CONFIG", "SET", "list-max-listpack-size", "-2"], ["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0"]]);
});

/** Send a command on the RESP3 connections and require identical replies. */
async function same3(...args: string[]): Promise<string> {
  const [want, got] = await Promise.all([r3[0].call(...args), r3[1].call(...args)]);
  if (want !== got) throw new Error(`RESP3 reply differs for ${JSON.stringify(args)}\n  redis:  ${JSON.stringify(want)}\n  redbun: ${JSON.stringify(got)}`);
  return want;
}

/** The same command in RESP2 and RESP3 (for read-only commands, or on keys the first leaves alone). */
async function sameBoth(...args: string[]): Promise<void> {
  await o.same(...args);
  await same3(...args);
}

/** DEBUG OBJECT's quicklist fields for key must match Redis's. */
async function sameShape(key: string): Promise<string> {
  const [want, got] = await o.both("DEBUG", "OBJECT", key);
  const shape = (reply: string) => reply.slice(reply.indexOf(" ql_nodes:"));
  expect(want).toContain("ql_nodes:");
  expect(shape(got)).toBe(shape(want));
  return shape(want);
}

/** Elements, shape and digest of key all as Redis has them. */
async function sameList(key: string): Promise<void> {
  await o.same("LRANGE", key, "0", "-1");
  await sameShape(key);
  await o.same("DEBUG", "DIGEST-VALUE", key);
}

/** Elements of every encoding a listpack has, strings that only look like integers, and binary ones. */
const ELEMENTS = [
  "a", "", "0", "1", "-1", "127", "128", "-4096", "4095", "-4097", "32767", "32768", "-8388608", "8388608",
  "2147483647", "-2147483649", "9007199254740993", "9223372036854775807", "-9223372036854775808",
  "9223372036854775808", "-0", "01", "+1", " 1", "1.5", "\x00", "\x00\xff\r\n", "x".repeat(63), "y".repeat(64),
  "z".repeat(4095), "w".repeat(4096),
];

describe("push", () => {
  test("LPUSH and RPUSH of every kind of element, and their replies", async () => {
    await o.same("RPUSH", "l", ...ELEMENTS);
    await o.same("LPUSH", "l", ...ELEMENTS);
    await o.same("LPUSH", "\x00key\xff", "v");
    await sameList("l");
    await sameList("\x00key\xff");
    await sameBoth("TYPE", "l");
    await sameBoth("OBJECT", "ENCODING", "l");
  });

  test("LPUSHX and RPUSHX only push onto an existing list", async () => {
    await o.sameAll([
      ["LPUSHX", "l", "a"], ["RPUSHX", "l", "a", "b"], ["EXISTS", "l"], ["RPUSH", "l", "x"],
      ["LPUSHX", "l", "a", "b"], ["RPUSHX", "l", "c", "d"], ["LRANGE", "l", "0", "-1"],
    ]);
  });

  test("wrong type and arity", async () => {
    await o.same("SET", "s", "v");
    for (const cmd of ["LPUSH", "RPUSH", "LPUSHX", "RPUSHX"]) {
      await o.same(cmd, "s", "x");
      await o.same(cmd, "l");
      await o.same(cmd);
    }
    await o.same("GET", "s");
  });
});

describe("pop", () => {
  test("LPOP and RPOP with and without a count", async () => {
    await o.same("RPUSH", "l", ...ELEMENTS.slice(0, 20));
    const counts = ["0", "1", "2", "3", "100"];
    for (const cmd of ["LPOP", "RPOP"]) {
      await o.same(cmd, "l");
      for (const count of counts) await o.same(cmd, "l", count);
      await o.same("RPUSH", "l", ...ELEMENTS.slice(0, 20));
    }
    await o.same("LPOP", "l", "100");
    await o.same("EXISTS", "l");
  });

  test("count errors come before the key is looked at, and missing keys answer nil", async () => {
    await o.same("SET", "s", "v");
    await o.same("RPUSH", "l", "a");
    for (const cmd of ["LPOP", "RPOP"]) {
      for (const key of ["l", "s", "missing"]) {
        for (const count of ["-1", "x", "", "1.5", "9223372036854775808", "0", "9223372036854775807"]) {
          await o.same(cmd, key, count);
          await same3(cmd, key, count);
        }
      }
      await sameBoth(cmd, "missing");
      await sameBoth(cmd, "s");
      await o.same(cmd, "l", "1", "2");
      await o.same(cmd);
    }
  });
});

describe("reading", () => {
  beforeEach(async () => {
    await o.same("RPUSH", "l", ...ELEMENTS);
    await o.same("SET", "s", "v");
  });

  test("LLEN", async () => {
    await o.sameAll([["LLEN", "l"], ["LLEN", "missing"], ["LLEN", "s"], ["LLEN"], ["LLEN", "l", "x"]]);
  });

  test("LINDEX at every position, out of range, and with bad indexes", async () => {
    for (let i = -ELEMENTS.length - 2; i <= ELEMENTS.length + 1; i++) await o.same("LINDEX", "l", String(i));
    for (const index of ["x", "", "1.0", "9223372036854775807", "-9223372036854775808", "9223372036854775808"]) {
      await o.same("LINDEX", "l", index);
      await o.same("LINDEX", "missing", index);
      await o.same("LINDEX", "s", index);
    }
    await sameBoth("LINDEX", "missing", "0");
    await sameBoth("LINDEX", "l", "1000");
  });

  test("LRANGE over every kind of range", async () => {
    const ends = ["0", "1", "5", "-1", "-2", "-5", "30", "31", "-31", "-32", "100", "-100", "9223372036854775807", "-9223372036854775808"];
    for (const start of ends) for (const stop of ends) await o.same("LRANGE", "l", start, stop);
    await o.sameAll([
      ["LRANGE", "l", "x", "1"], ["LRANGE", "l", "0", "x"], ["LRANGE", "missing", "x", "0"], ["LRANGE", "s", "0", "1"],
      ["LRANGE", "s", "x", "1"], ["LRANGE", "missing", "0", "-1"], ["LRANGE", "l", "0"],
    ]);
    await same3("LRANGE", "l", "0", "-1");
    await same3("LRANGE", "missing", "0", "-1");
  });

  test("LPOS with RANK, COUNT and MAXLEN", async () => {
    await o.same("RPUSH", "p", "a", "b", "c", "a", "b", "a", "1", "01", "1");
    const options = [
      [], ["RANK", "1"], ["RANK", "2"], ["RANK", "3"], ["RANK", "4"], ["RANK", "-1"], ["RANK", "-2"], ["RANK", "-4"],
      ["COUNT", "0"], ["COUNT", "1"], ["COUNT", "2"], ["COUNT", "10"], ["MAXLEN", "1"], ["MAXLEN", "4"], ["MAXLEN", "0"],
      ["RANK", "2", "COUNT", "0"], ["RANK", "-1", "COUNT", "2"], ["RANK", "-2", "COUNT", "0", "MAXLEN", "5"],
      ["COUNT", "1", "MAXLEN", "3", "RANK", "1"], ["rank", "1", "count", "1", "maxlen", "1"], ["RANK", "1", "RANK", "2"],
      ["RANK", "-9223372036854775808"], ["RANK", "-9223372036854775808", "COUNT", "1"], ["RANK", "-9223372036854775808", "COUNT", "0"],
      ["RANK", "9223372036854775807"], ["RANK", "-9223372036854775807", "COUNT", "0"],
    ];
    for (const element of ["a", "b", "c", "1", "01", "z"]) {
      for (const opts of options) await sameBoth("LPOS", "p", element, ...opts);
    }
  });

  test("LPOS errors", async () => {
    const bad = [
      ["RANK", "0"], ["RANK", "x"], ["COUNT", "-1"], ["COUNT", "x"], ["MAXLEN", "-1"], ["MAXLEN", "x"], ["RANK"], ["COUNT"],
      ["MAXLEN"], ["FOO"], ["FOO", "1"], ["RANK", "1", "COUNT"], ["COUNT", "9223372036854775808"],
    ];
    for (const opts of bad) {
      await o.same("LPOS", "l", "a", ...opts);
      await o.same("LPOS", "missing", "a", ...opts);
      await o.same("LPOS", "s", "a", ...opts);
    }
    await sameBoth("LPOS", "missing", "a");
    await sameBoth("LPOS", "missing", "a", "COUNT", "1");
    await sameBoth("LPOS", "s", "a");
    await o.same("LPOS", "l");
  });
});

describe("changing elements", () => {
  test("LSET at every position, changing the element's encoding", async () => {
    await o.same("RPUSH", "l", ...ELEMENTS);
    for (let i = 0; i < ELEMENTS.length; i++) {
      await o.same("LSET", "l", String(i), ELEMENTS[(i * 7) % ELEMENTS.length]!);
      await o.same("LSET", "l", String(-i - 1), ELEMENTS[(i * 3) % ELEMENTS.length]!);
    }
    await sameList("l");
    await o.same("SET", "s", "v");
    await o.sameAll([
      ["LSET", "l", "31", "x"], ["LSET", "l", "-32", "x"], ["LSET", "l", "x", "y"], ["LSET", "missing", "0", "x"],
      ["LSET", "missing", "x", "x"], ["LSET", "s", "0", "x"], ["LSET", "s", "x", "x"], ["LSET", "l", "0"],
      ["LSET", "l", "9223372036854775807", "x"], ["LSET", "l", "-9223372036854775808", "x"],
    ]);
  });

  test("LINSERT before and after, missing pivots and errors", async () => {
    await o.same("RPUSH", "l", "a", "b", "c", "1", "-1");
    await o.sameAll([
      ["LINSERT", "l", "BEFORE", "a", "x"], ["LINSERT", "l", "AFTER", "c", "y"], ["LINSERT", "l", "after", "-1", "z"],
      ["LINSERT", "l", "Before", "1", "\x00"], ["LINSERT", "l", "BEFORE", "nope", "x"], ["LINSERT", "l", "BEFORE", "01", "x"],
      ["LINSERT", "l", "MIDDLE", "a", "x"], ["LINSERT", "missing", "BEFORE", "a", "x"], ["LINSERT", "missing", "FOO", "a", "x"],
      ["LRANGE", "l", "0", "-1"], ["SET", "s", "v"], ["LINSERT", "s", "BEFORE", "a", "x"], ["LINSERT", "s", "X", "a", "x"],
      ["LINSERT", "l", "BEFORE", "a"],
    ]);
    await sameList("l");
  });

  test("LREM from either end, all of them, and the key going away", async () => {
    const fill = ["a", "b", "a", "1", "a", "c", "1", "a", "b"];
    for (const count of ["0", "1", "2", "-1", "-2", "100", "-100", "-9223372036854775808", "9223372036854775807"]) {
      await o.same("DEL", "l");
      await o.same("RPUSH", "l", ...fill);
      for (const element of ["a", "1", "01", "z"]) {
        await o.same("LREM", "l", count, element);
        await o.same("LRANGE", "l", "0", "-1");
      }
    }
    await o.sameAll([
      ["DEL", "l"], ["RPUSH", "l", "a", "a"], ["LREM", "l", "0", "a"], ["EXISTS", "l"], ["LREM", "l", "x", "a"],
      ["LREM", "missing", "x", "a"], ["LREM", "missing", "1", "a"], ["SET", "s", "v"], ["LREM", "s", "0", "a"], ["LREM", "s", "x", "a"],
    ]);
  });

  test("LTRIM over every kind of range", async () => {
    const ends = ["0", "1", "3", "-1", "-3", "9", "10", "-10", "-11", "100", "-100", "9223372036854775807", "-9223372036854775808"];
    const fill = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
    for (const start of ends) {
      for (const stop of ends) {
        await o.same("RPUSH", "l", ...fill);
        await o.same("LTRIM", "l", start, stop);
        await o.same("LRANGE", "l", "0", "-1");
        await o.same("DEL", "l");
      }
    }
    await o.sameAll([["LTRIM", "missing", "0", "1"], ["LTRIM", "l", "x", "1"], ["SET", "s", "v"], ["LTRIM", "s", "0", "1"], ["LTRIM", "s", "x", "1"]]);
  });
});

describe("move", () => {
  test("LMOVE in every direction, onto itself and onto new keys", async () => {
    // Enough for the 17 elements moved away (sameBoth sends each command twice).
    await o.same("RPUSH", "src", ...ELEMENTS.slice(0, 25));
    for (const from of ["LEFT", "RIGHT", "left", "Right"]) {
      for (const to of ["LEFT", "RIGHT"]) {
        await sameBoth("LMOVE", "src", "dst", from, to);
        await sameBoth("LMOVE", "src", "src", from, to);
      }
    }
    await o.sameAll([["LRANGE", "src", "0", "-1"], ["LRANGE", "dst", "0", "-1"], ["RPOPLPUSH", "src", "dst"], ["RPOPLPUSH", "dst", "dst"]]);
    await sameList("src");
    await sameList("dst");
  });

  test("the last element moves, onto itself or away, and the source goes", async () => {
    await o.sameAll([
      ["RPUSH", "one", "x"], ["LMOVE", "one", "one", "LEFT", "RIGHT"], ["LRANGE", "one", "0", "-1"],
      ["RPOPLPUSH", "one", "other"], ["EXISTS", "one"], ["LRANGE", "other", "0", "-1"],
    ]);
  });

  test("errors: missing source, wrong types, bad directions", async () => {
    await o.sameAll([["RPUSH", "l", "a", "b"], ["SET", "s", "v"]]);
    await sameBoth("LMOVE", "missing", "l", "LEFT", "LEFT");
    await sameBoth("RPOPLPUSH", "missing", "l");
    await o.sameAll([
      ["LMOVE", "l", "s", "LEFT", "RIGHT"], ["LRANGE", "l", "0", "-1"], ["LMOVE", "s", "l", "LEFT", "RIGHT"],
      ["LMOVE", "s", "missing", "LEFT", "RIGHT"], ["RPOPLPUSH", "l", "s"], ["RPOPLPUSH", "s", "l"],
      ["LMOVE", "l", "l", "UP", "LEFT"], ["LMOVE", "l", "l", "LEFT", "DOWN"], ["LMOVE", "missing", "l", "UP", "LEFT"],
      ["LMOVE", "l", "l", "LEFT"], ["RPOPLPUSH", "l"], ["LRANGE", "l", "0", "-1"],
    ]);
  });

  test("LMPOP from the first non-empty key, with and without COUNT", async () => {
    await o.sameAll([["RPUSH", "a", "1", "2", "3"], ["RPUSH", "b", "x", "y"]]);
    for (const where of ["LEFT", "RIGHT"]) {
      await sameBoth("LMPOP", "3", "missing", "b", "a", where);
      await sameBoth("LMPOP", "2", "missing", "a", where, "COUNT", "2");
      await sameBoth("LMPOP", "1", "a", where, "count", "10");
      await sameBoth("LMPOP", "2", "a", "b", where, "COUNT", "10");
      await sameBoth("LMPOP", "1", "missing", where);
    }
    await o.sameAll([["EXISTS", "a", "b"], ["RPUSH", "a", "1"], ["SET", "s", "v"]]);
    await o.sameAll([["LMPOP", "2", "missing", "s", "LEFT"], ["LMPOP", "2", "a", "s", "LEFT"], ["LMPOP", "2", "s", "a", "LEFT"]]);
  });

  test("LMPOP errors", async () => {
    await o.same("RPUSH", "a", "1");
    const bad = [
      ["0", "a", "LEFT"], ["-1", "a", "LEFT"], ["x", "a", "LEFT"], ["1", "a", "MIDDLE"], ["1", "a", "LEFT", "COUNT", "0"],
      ["1", "a", "LEFT", "COUNT", "-1"], ["1", "a", "LEFT", "COUNT", "x"], ["1", "a", "LEFT", "COUNT"], ["1", "a", "LEFT", "COUNT", "1", "COUNT", "1"],
      ["1", "a", "LEFT", "FOO"], ["2", "a", "LEFT"], ["5", "a", "b"], ["9223372036854775807", "a", "LEFT"], ["1", "a"],
      ["1", "a", "LEFT", "COUNT", "9223372036854775808"],
    ];
    for (const args of bad) await o.same("LMPOP", ...args);
    await o.same("LRANGE", "a", "0", "-1");
  });
});

describe("long lists", () => {
  /** Elements of varied length, so node sizes land everywhere. */
  function elements(r: () => number, n: number, maxLen: number): string[] {
    return Array.from({ length: n }, (_, i) => `e${i}:` + "x".repeat(Math.floor(r() * maxLen)));
  }

  test("pushes build the same nodes for every fill", async () => {
    const r = rng(1);
    for (const fill of ["-1", "-2", "-3", "-4", "-5", "1", "2", "5", "100", "1000", "0", "-6", "40000"]) {
      await o.same("CONFIG", "SET", "list-max-listpack-size", fill);
      const key = `fill${fill}`;
      const values = elements(r, 3000, fill === "1000" ? 20 : 60);
      for (let i = 0; i < values.length; i += 500) {
        await o.same("RPUSH", key, ...values.slice(i, i + 250));
        await o.same("LPUSH", key, ...values.slice(i + 250, i + 500));
      }
      await sameList(key);
    }
  });

  test("a list keeps the fill it was made with", async () => {
    await o.same("CONFIG", "SET", "list-max-listpack-size", "3");
    await o.same("RPUSH", "l", "a", "b");
    await o.same("CONFIG", "SET", "list-max-listpack-size", "-2");
    await o.same("RPUSH", "l", "c", "d", "e", "f");
    expect(await sameShape("l")).toContain("ql_listpack_max:3");
    await o.same("CONFIG", "SET", "list-compress-depth", "1");
    await o.same("RPUSH", "m", "a");
    expect(await sameShape("m")).toContain("ql_compressed:1");
    await o.same("CONFIG", "SET", "list-compress-depth", "0");
  });

  test("LINSERT splits full nodes and merges them like Redis", async () => {
    const r = rng(2);
    for (const fill of ["-1", "4", "17"]) {
      await o.same("CONFIG", "SET", "list-max-listpack-size", fill);
      const values = elements(r, 600, 40);
      await o.same("RPUSH", "l", ...values);
      for (let i = 0; i < 400; i++) {
        const pivot = values[Math.floor(r() * values.length)]!;
        const value = `n${i}:` + "y".repeat(Math.floor(r() * 40));
        values.push(value);
        await o.same("LINSERT", "l", r() < 0.5 ? "BEFORE" : "AFTER", pivot, value);
        await sameShape("l");
      }
      await sameList("l");
      await o.same("DEL", "l");
    }
  });

  test("LSET, LREM, LTRIM and pops across many nodes", async () => {
    const r = rng(3);
    await o.same("CONFIG", "SET", "list-max-listpack-size", "-1");
    const values = elements(r, 5000, 30);
    await o.same("RPUSH", "l", ...values);
    for (let i = 0; i < 200; i++) {
      await o.same("LSET", "l", String(Math.floor(r() * 4000) - 2000), "v".repeat(Math.floor(r() * 300)));
      if (i % 10 === 0) await sameShape("l");
    }
    await o.same("LREM", "l", "0", "v".repeat(10));
    await o.same("LREM", "l", "-3", "v".repeat(20));
    await sameShape("l");
    for (const [start, stop] of [["100", "-100"], ["37", "4000"], ["-2000", "-3"]]) {
      await o.same("LTRIM", "l", start!, stop!);
      await sameShape("l");
    }
    for (const cmd of ["LPOP", "RPOP"]) {
      await o.same(cmd, "l", "777");
      await sameShape("l");
    }
    for (let i = 0; i < 300; i++) await o.same(i % 2 ? "LPOP" : "RPOP", "l");
    await sameList("l");
    await o.same("LRANGE", "l", "-1500", "1500");
  });

  test("elements at or above the packed threshold get plain nodes", async () => {
    await o.same("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "100");
    const small = Array.from({ length: 50 }, (_, i) => `s${i}`);
    const big = Array.from({ length: 10 }, (_, i) => `${i}`.repeat(100 + i));
    await o.same("RPUSH", "l", ...small.slice(0, 20), big[0]!, ...small.slice(20), big[1]!);
    await o.same("LPUSH", "l", big[2]!, "123", big[3]!);
    await sameList("l");
    await o.sameAll([
      ["LINSERT", "l", "BEFORE", "s10", big[4]!], ["LINSERT", "l", "AFTER", "s0", big[5]!], ["LINSERT", "l", "AFTER", big[0]!, "tiny"],
      ["LINSERT", "l", "BEFORE", big[1]!, big[6]!], ["LSET", "l", "5", big[7]!], ["LSET", "l", "0", "back to small"],
      ["LSET", "l", "-1", big[8]!], ["LPOS", "l", big[4]!], ["LREM", "l", "0", big[5]!], ["LINDEX", "l", "3"],
    ]);
    await sameList("l");
    await o.sameAll([["LMOVE", "l", "m", "RIGHT", "LEFT"], ["LMOVE", "l", "m", "LEFT", "LEFT"], ["LTRIM", "l", "1", "-2"], ["LPOP", "l", "3"]]);
    await sameList("l");
    await sameList("m");
    // The threshold counts the element's bytes, integers included.
    await o.same("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "2");
    await o.same("RPUSH", "ints", "1", "12", "123", "-5");
    await sameList("ints");
  });
});

describe("node boundaries", () => {
  test("an element joins a node while the node's size, its length and 8 stay within the limit", async () => {
    // 7 header bytes and k entries of 62 bytes (a 60-byte string), then one element whose
    // length puts Redis's estimate just under, at or just over the limit.
    const limits: [string, number][] = [["-1", 4096], ["-2", 8192], ["-3", 16384], ["-4", 32768], ["-5", 65536], ["1000", 8192]];
    for (const [fill, limit] of limits) {
      await o.same("CONFIG", "SET", "list-max-listpack-size", fill);
      const k = Math.floor((limit - 200) / 62);
      for (let delta = -2; delta <= 2; delta++) {
        const len = limit + delta - 8 - (7 + 62 * k);
        await o.same("DEL", "l");
        await o.same("RPUSH", "l", ...Array<string>(k).fill("f".repeat(60)), "e".repeat(len));
        expect(await sameShape("l")).toContain(delta <= 0 ? "ql_nodes:1 " : "ql_nodes:2 ");
      }
    }
  });

  test("two nodes merge after a split while their sizes less 11 stay within the limit", async () => {
    // With fill -1 a node of small integers (2-byte entries) takes 2041 of them. The list
    // is three such nodes, the first shortened by `popped` elements. LINSERT after the
    // marker at `offset` in the middle node splits it; its first half merges into the
    // first node when 4087 - 2 * popped + 2 * offset <= 4096, else back with its second
    // half. Either way three nodes remain, but only in the second case does the first
    // node keep room for the LPUSH that follows.
    await o.same("CONFIG", "SET", "list-max-listpack-size", "-1");
    const ones = (n: number) => Array<string>(n).fill("1");
    for (const popped of [1, 3]) {
      for (let offset = popped; offset <= popped + 7; offset++) {
        await o.same("DEL", "l");
        await o.same("RPUSH", "l", ...ones(2041), ...ones(offset), "2", ...ones(2040 - offset), ...ones(2041));
        await o.same("LPOP", "l", String(popped));
        await o.same("LINSERT", "l", "AFTER", "2", "3");
        await o.same("LPUSH", "l", "1");
        expect(await sameShape("l")).toContain(offset - popped <= 4 ? "ql_nodes:4 " : "ql_nodes:3 ");
      }
    }
  });
});

describe("the rest of the keyspace", () => {
  test("COPY, RENAME and MOVE carry lists whole", async () => {
    await o.same("CONFIG", "SET", "list-max-listpack-size", "3");
    await o.same("RPUSH", "l", ...ELEMENTS.slice(0, 12));
    await o.sameAll([["COPY", "l", "c"], ["RPUSH", "c", "new"], ["LPOP", "l"], ["RENAME", "c", "r"], ["MOVE", "r", "1"]]);
    await sameList("l");
    await o.same("SELECT", "1");
    await sameList("r");
    await o.same("SELECT", "0");
    await o.same("DEBUG", "DIGEST");
  });

  test("DEBUG LISTPACK, QUICKLIST and QUICKLIST-PACKED-THRESHOLD", async () => {
    await o.sameAll([["RPUSH", "l", "a"], ["SET", "s", "v"]]);
    await o.sameAll([
      ["DEBUG", "LISTPACK", "l"], ["DEBUG", "LISTPACK", "s"], ["DEBUG", "LISTPACK", "missing"], ["DEBUG", "LISTPACK"],
      ["DEBUG", "QUICKLIST", "l"], ["DEBUG", "QUICKLIST", "l", "1"], ["DEBUG", "QUICKLIST", "s"], ["DEBUG", "QUICKLIST", "missing"],
      ["DEBUG", "QUICKLIST", "l", "1", "2"],
    ]);
    for (const size of ["10", "0", "1k", "4g", "4293918720", "4293918721", "-1", "x", "5000000000"]) {
      await o.same("DEBUG", "QUICKLIST-PACKED-THRESHOLD", size);
    }
    await o.same("DEBUG", "QUICKLIST-PACKED-THRESHOLD");
  });

  test("DEBUG DIGEST-VALUE mixes each element in order", async () => {
    await o.same("RPUSH", "a", "1", "2", "x");
    await o.same("RPUSH", "b", "2", "1", "x");
    await o.same("RPUSH", "c", "\x00", "-9223372036854775808", "9223372036854775807", "01");
    await o.same("DEBUG", "DIGEST-VALUE", "a", "b", "c", "missing");
    await o.same("EXPIRE", "c", "1000");
    await o.same("DEBUG", "DIGEST");
  });

  test("LRANGE of a long list returns what was pushed", async () => {
    const values = Array.from({ length: 20000 }, (_, i) => (i % 3 ? `v${i}` : String(i * 7919)));
    for (let i = 0; i < values.length; i += 1000) await o.same("RPUSH", "l", ...values.slice(i, i + 1000));
    const reply = await o.same("LRANGE", "l", "0", "-1");
    expect(bulkArray(reply)).toEqual(values);
    await sameShape("l");
  });
});
