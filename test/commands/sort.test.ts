// SORT and SORT_RO against the real redis-server 7.0, in RESP2 and RESP3: every option and
// their combinations over lists, sets (intset and hashtable) and sorted sets (listpack and
// skiplist); numeric weights the way strtod reads them, byte order with and without STORE,
// BY and GET through strings and hash fields, LIMIT at its edges, STORE over every kind of
// destination, the key positions COMMAND GETKEYS reports, and a seeded fuzzer for the
// partial sort BY with LIMIT does, whose order of equal elements is Redis's pqsort's.
//
// A hashtable set (and a sorted set sorted by its elements) is read in its hash table's
// order, which is redbun's own: those replies are compared byte for byte only when the
// order asked for is total, and as multisets otherwise.

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { Oracle, type RespConn, rng } from "../oracle/harness.ts";
import { asMultiset } from "../oracle/resp.ts";
import { pick, seedFromEnv } from "../oracle/fuzz.ts";

let o: Oracle;
/** A RESP3 connection to each server. */
let r3: [RespConn, RespConn];

beforeAll(async () => {
  o = await Oracle.start(["--enable-debug-command", "yes"]);
  r3 = await o.connectResp3();
});
afterAll(() => o.stop());
beforeEach(async () => {
  await o.sameAll([
    ["FLUSHALL"],
    ["CONFIG", "SET", "list-max-listpack-size", "-2"],
    ["CONFIG", "SET", "set-max-intset-entries", "512"],
    ["CONFIG", "SET", "zset-max-listpack-entries", "128"],
    ["CONFIG", "SET", "hash-max-listpack-entries", "128"],
  ]);
  await clearErrno();
});
afterEach(async () => {
  await o.same("DEBUG", "DIGEST");
});

/**
 * Redis 7.0's SORT tests errno for ERANGE after strtod without clearing it first, so once a
 * weight is out of range every later SORT that reads a weight with strtod (any element not
 * held as an integer) fails too, until something else clears errno: a new connection, a
 * ZADD's score parsing (string2d) ... redbun does not keep that stale state, so the tests
 * clear it on Redis after each weight that may be out of range (on both servers alike).
 */
async function clearErrno(): Promise<void> {
  await o.sameAll([["ZADD", "errno-reset", "1", "m"], ["DEL", "errno-reset"]]);
}

/** The command in RESP2 and RESP3, replies byte for byte; returns Redis's RESP2 reply. */
async function same(...args: string[]): Promise<string> {
  const want = await o.same(...args);
  const [want3, got3] = await Promise.all([r3[0].call(...args), r3[1].call(...args)]);
  if (want3 !== got3) throw new Error(`RESP3 reply differs for ${JSON.stringify(args)}\n  redis:  ${JSON.stringify(want3)}\n  redbun: ${JSON.stringify(got3)}`);
  return want;
}

/** The command in RESP2, its reply compared as a multiset (elements read in hash table order). */
async function sameMembers(...args: string[]): Promise<void> {
  const [want, got] = await o.both(...args);
  expect(asMultiset(got)).toBe(asMultiset(want));
}

/** A STORE (RESP2 only: it writes), then the destination as Redis has it. */
async function sameStore(dst: string, ...args: string[]): Promise<string> {
  const reply = await o.same(...args);
  await o.sameAll([
    ["TYPE", dst],
    ["OBJECT", "ENCODING", dst],
    ["LRANGE", dst, "0", "-1"],
    ["TTL", dst],
    ["DEBUG", "DIGEST-VALUE", dst],
  ]);
  return reply;
}

/** The key's type, encoding and digest as Redis has them (SORT may convert a sorted set). */
async function sameValue(key: string): Promise<void> {
  await o.sameAll([["TYPE", key], ["OBJECT", "ENCODING", key], ["DEBUG", "DIGEST-VALUE", key]]);
}

async function rpush(key: string, ...elements: string[]): Promise<void> {
  await o.same("RPUSH", key, ...elements);
}

/** Numbers as strtod reads them: signs, fractions, exponents, hex, infinities, spaces, integers of every listpack width. */
const NUMBERS = [
  "0", "1", "-1", "3", "10", "2", "-10", "1.5", "-1.5", "0.1", "1e3", "1E-3", "-2.5e+2", "+7", ".5", "5.", "0x10", "0X1p3",
  "-0x1.8p1", "inf", "-inf", "+Infinity", "INF", " 4", "\t\n 6", "1e308", "-1e308", "2.2250738585072014e-308", "0x1p-1070",
  "0x100p-1080", "0x1.000p-1074", "-0x1p-1074", "0x0.0000000000001p-1022",
  "0e-500", "0x0p-3000", "", "127", "128", "-4096", "32767", "-8388608", "2147483647", "-2147483649",
  "9007199254740993", "9223372036854775807", "-9223372036854775808", "18446744073709551616", "1\x00junk",
];
/** Elements strtod reads only in part, or out of range, or as NaN: each makes numeric SORT fail. */
const NOT_NUMBERS = [
  "a", "1 ", "1a", "--1", "nan", "-nan", "NaN", "1e400", "-1e400", "1e-400", "1e-310", "4.9406564584124654e-324",
  "2.2250738585072011e-308", "0x1p-1075", "0x1.8p-1074", "0x3p-1076", "-5e-324", "0x", " ", "\x00", "1,5",
];
/** Elements equal as numbers, told apart by their bytes. */
const TIES = ["0", "-0", "+0", "0.0", "00", ".0", "0e5", "0x0", " 0", "1", "1.0", "01", "+1", "1e0", "0x1"];
/** Binary elements: NULs before and after differences, high bytes, CRLF, empty. */
const BINARY = [
  "a", "b", "", "\x00", "a\x00", "a\x00b", "a\x00a", "a\x00c", "\x00a", "\xff", "\xfe\xff", "\x80", "ab", "A", "B", "\r\n",
  "a\r\nb", "z".repeat(100), "y".repeat(70), "é", "10", "9", "-1",
];

describe("arguments", () => {
  test("syntax errors come before the key is read, in Redis's order", async () => {
    await o.same("SET", "str", "v");
    await rpush("l", "3", "1", "2");
    for (const key of ["l", "str", "nokey"]) {
      await same("SORT", key, "LIMIT", "1");
      await same("SORT", key, "LIMIT", "a", "b");
      await same("SORT", key, "LIMIT", "1", "b");
      await same("SORT", key, "LIMIT", "1.5", "2");
      await same("SORT", key, "LIMIT", "1", "99999999999999999999");
      await same("SORT", key, "foo");
      await same("SORT", key, "BY");
      await same("SORT", key, "GET");
      await same("SORT", key, "STORE");
      await same("SORT", key, "ASC", "DESC", "ALPHA", "bogus", "LIMIT", "x", "y");
      await same("SORT", key, "LIMIT", "x", "y", "bogus");
      await same("SORT_RO", key, "STORE", "d");
      await same("SORT_RO", key, "LIMIT", "0");
      await same("SORT", key);
    }
    await o.same("EXISTS", "d");
  });

  test("option names are read up to a NUL byte, case-insensitively", async () => {
    await rpush("l", "3", "1", "2", "b", "a");
    await same("SORT", "l", "ALPHA\x00x", "DeSc\x00");
    await same("SORT", "l", "alpha", "LIMIT\x00", "1", "2");
    await same("SORT", "l", "ALPH");
    await same("SORT", "l", "alphaa");
    await same("SORT", "l", "\x00alpha");
    await same("SORT", "l", "BY\x00zz", "nosort", "GET\x00", "#");
  });

  test("wrong types and missing keys", async () => {
    await o.sameAll([["SET", "s", "1"], ["HSET", "h", "f", "1"], ["SET", "d", "x"]]);
    for (const key of ["s", "h"]) {
      await same("SORT", key);
      await same("SORT_RO", key, "BY", "nosort");
      await same("SORT", key, "STORE", "d");
    }
    await same("GET", "d");
    await same("SORT", "nokey");
    await same("SORT_RO", "nokey", "ALPHA", "DESC", "LIMIT", "0", "10", "BY", "w_*", "GET", "#");
    await same("SORT", "nokey", "BY", "nosort", "LIMIT", "0", "0");
  });

  test("the last of repeated options counts; a BY without '*' stops sorting for good", async () => {
    await rpush("l", "3", "1", "2");
    await o.sameAll([["SET", "w_1", "3"], ["SET", "w_2", "2"], ["SET", "w_3", "1"]]);
    await same("SORT", "l", "DESC", "ASC");
    await same("SORT", "l", "ASC", "DESC");
    await same("SORT", "l", "LIMIT", "0", "1", "LIMIT", "1", "2");
    await same("SORT", "l", "BY", "w_*", "BY", "nosort");
    await same("SORT", "l", "BY", "nosort", "BY", "w_*");
    await same("SORT", "l", "BY", "nosort", "BY", "w_*", "GET", "w_*");
    await same("SORT", "l", "BY", "w_*", "BY", "x_*");
  });
});

describe("numeric order", () => {
  test("weights as strtod reads them, ties broken by the elements' bytes", async () => {
    await rpush("l", ...NUMBERS, ...TIES);
    await same("SORT", "l");
    await same("SORT", "l", "DESC");
    await same("SORT_RO", "l", "LIMIT", "3", "12");
    await same("SORT", "l", "DESC", "LIMIT", "40", "100");
    await sameValue("l");
  });

  test("one element that is not a number fails the sort", async () => {
    for (const bad of NOT_NUMBERS) {
      await o.same("DEL", "l");
      await rpush("l", "1", bad, "2");
      await same("SORT", "l");
      await same("SORT", "l", "LIMIT", "0", "1");
      await same("SORT", "l", "BY", "nosort");
      await same("SORT", "l", "ALPHA");
      await o.same("SET", "d", "kept");
      await sameStore("d", "SORT", "l", "STORE", "d");
      await clearErrno();
    }
  });

  test("an exact decimal subnormal is a number, the same value one digit shorter is not", async () => {
    const exact = "0." + "0".repeat(323) + "4940656458412465441765687928682213723650598026143247644255856825006755072702087518652998363616359923797965646954457177309266567103559397963987747960107818781263007131903114045278458171678489821036887186360569987307230500063874091535649843873124733972731696151400317153853980741262385655911710266585566867681870395603106249319452715914924553293054565444011274801297099995419319894090804165633245247571478690147267801593552386115501348035264934720193790268107107491703332226844753335720832431936092382893458368060106011506169809753078342277318329247904982524730776375927247874656084778203734469699533647017972677717585125660551199131504891101451037862738167250955837389733598993664809941164205702637090279242767544565229087538682506419718265533447265625";
    await rpush("l", exact, "0.5");
    await same("SORT", "l");
    await rpush("m", exact.slice(0, -1), "0.5");
    await same("SORT", "m");
    await clearErrno();
    await rpush("n", `${exact}000`, `-${exact}e0`, "0.5");
    await same("SORT", "n");
  });

  test("integers beyond 2^53 weigh as their nearest double, then compare as bytes", async () => {
    const big = ["9007199254740993", "9007199254740992", "9007199254740994", "9007199254740995", "-9223372036854775808", "-9223372036854775807"];
    await rpush("l", ...big);
    await o.same("SADD", "s", ...big);
    await same("SORT", "l");
    await same("SORT", "s");
    await same("SORT", "s", "DESC");
  });
});

describe("ALPHA order", () => {
  test("strcmp order to the client, memcmp order into STORE", async () => {
    await rpush("l", ...BINARY, ...BINARY.slice(0, 5));
    await same("SORT", "l", "ALPHA");
    await same("SORT", "l", "ALPHA", "DESC");
    await same("SORT_RO", "l", "ALPHA", "LIMIT", "2", "9");
    await sameStore("d", "SORT", "l", "ALPHA", "STORE", "d");
    await sameStore("d", "SORT", "l", "ALPHA", "DESC", "STORE", "d");
    await sameStore("d", "SORT", "l", "ALPHA", "LIMIT", "4", "6", "STORE", "d");
  });

  test("numbers compare as text", async () => {
    await rpush("l", ...NUMBERS, ...NOT_NUMBERS);
    await same("SORT", "l", "ALPHA");
    await same("SORT", "l", "ALPHA", "DESC", "LIMIT", "1", "20");
  });
});

describe("LIMIT", () => {
  /** Offsets and counts at and around the edges of a 10-element list and of a C long. */
  const BOUNDS = ["0", "1", "-1", "3", "9", "10", "11", "-5", "9223372036854775807", "-9223372036854775808", "4611686018427387904"];

  test("clamped as Redis clamps it, sorted and unsorted, both ways", async () => {
    await rpush("l", "5", "3", "8", "1", "9", "2", "7", "0", "6", "4");
    await o.same("ZADD", "z", "5", "e", "3", "c", "8", "h", "1", "a", "9", "i", "2", "b", "7", "g", "0", "z", "6", "f", "4", "d");
    await o.same("SADD", "s", "5", "3", "8", "1", "9", "2", "7", "0", "6", "4");
    for (const offset of BOUNDS) {
      for (const count of BOUNDS) {
        for (const key of ["l", "z", "s"]) {
          await same("SORT", key, "BY", "nosort", "LIMIT", offset, count);
          await same("SORT", key, "BY", "nosort", "LIMIT", offset, count, "DESC");
          await same("SORT", key, "ALPHA", "LIMIT", offset, count);
        }
        await same("SORT", "l", "LIMIT", offset, count, "DESC");
      }
    }
  });

  test("on a missing key and an empty window", async () => {
    await rpush("l", "2", "1");
    for (const key of ["l", "nokey"]) {
      await same("SORT", key, "LIMIT", "0", "0");
      await same("SORT", key, "LIMIT", "5", "1");
      await same("SORT", key, "BY", "nosort", "LIMIT", "2", "-1", "DESC");
      await same("SORT", key, "BY", "w_*", "LIMIT", "1", "0", "GET", "#", "GET", "x_*");
    }
  });
});

describe("BY", () => {
  beforeEach(async () => {
    await rpush("l", "1", "2", "3", "4", "5", "6", "a", "", "x\x00y");
    await o.sameAll([
      ["MSET", "w_1", "50", "w_2", "-1.5", "w_3", "zz", "w_4", "1e2", "w_a", "3", "w_", "2", "w_x\x00y", "7\x00rest"],
      ["RPUSH", "w_5", "wrong type"],
      ["HSET", "h_1", "f", "9", "g", "a", "f\x00x", "bin"],
      ["HSET", "h_2", "f", "-3", "g", "c"],
      ["HSET", "h_3", "f", "1.25", "g", "b", "-", "dash"],
      ["HSET", "h_a", "f", "12345678901", "g", "\xff"],
      ["HSET", "h_", "f", "-9223372036854775808", "g", ""],
      ["SET", "h_4", "string, not hash"],
      ["MSET", "s_1", "b", "s_2", "a", "s_3", "b", "s_4", "a", "s_5", "c", "s_6", "a", "s_a", "", "s_", "b"],
    ]);
  });

  test("string weights, missing keys and keys of other types", async () => {
    await same("SORT", "l", "BY", "s_*", "ALPHA");
    await same("SORT", "l", "BY", "s_*", "ALPHA", "DESC");
    await same("SORT", "l", "BY", "w_*");
    await same("SORT", "l", "BY", "w_*", "ALPHA");
    await o.same("SET", "w_3", "3");
    await same("SORT", "l", "BY", "w_*");
    await same("SORT", "l", "BY", "w_*", "DESC", "GET", "#", "GET", "w_*");
    await same("SORT", "l", "BY", "nokey_*");
    await same("SORT", "l", "BY", "nokey_*", "ALPHA", "DESC");
  });

  test("hash fields as weights, in both hash encodings", async () => {
    for (const encoding of ["listpack", "hashtable"]) {
      if (encoding === "hashtable") {
        await o.same("CONFIG", "SET", "hash-max-listpack-entries", "0");
        for (const key of ["h_1", "h_2", "h_3", "h_a", "h_"]) await o.same("HSET", key, "new", "1");
        expect(await o.encodingOf("h_1")).toBe("hashtable");
      }
      await same("SORT", "l", "BY", "h_*->f", "GET", "#", "GET", "h_*->f");
      await same("SORT", "l", "BY", "h_*->g", "ALPHA", "GET", "h_*->g", "GET", "h_*->nofield");
      await same("SORT", "l", "BY", "h_*->g", "ALPHA", "DESC", "LIMIT", "1", "3");
      await same("SORT", "l", "BY", "h_*->f\x00x", "ALPHA", "GET", "h_*->f\x00x");
      await same("SORT", "l", "BY", "h_*->", "GET", "h_*->", "GET", "h_*->-");
      await same("SORT", "l", "BY", "h_*->\x00f", "GET", "h_*->\x00f");
    }
  });

  test("patterns read as C strings: the first '*' and the first '->' after it count", async () => {
    await o.sameAll([["SET", "a_1_b", "x"], ["SET", "w_*1", "y"], ["HSET", "p*1", "q->r", "z"], ["HSET", "p*1->q", "r", "zz"]]);
    await same("SORT", "l", "BY", "nosort", "GET", "a_*_b", "GET", "w_**", "GET", "p**->q->r", "GET", "p**->q->r\x00");
    await same("SORT", "l", "BY", "nosort", "GET", "p\x00*", "GET", "#\x00", "GET", "#\x00x", "GET", "#x", "GET", "#*", "GET", "");
    await same("SORT", "l", "BY", "x\x00*", "GET", "#");
    await same("SORT", "l", "BY", "#", "DESC");
    await same("SORT", "l", "BY", "w_*\x00tail", "GET", "w_*\x00tail");
  });

  test("BY without '*' keeps the native order, except a set stored, which is sorted as bytes", async () => {
    await o.same("ZADD", "z", "3", "a", "1", "c", "2", "b", "2", "bb");
    await o.same("SADD", "s", "3", "10", "-2", "7");
    for (const key of ["l", "z", "s"]) {
      await same("SORT", key, "BY", "nosort");
      await same("SORT", key, "BY", "nosort", "DESC");
      await same("SORT", key, "BY", "nosort", "DESC", "LIMIT", "1", "2", "GET", "#", "GET", "w_*");
      await sameStore("d", "SORT", key, "BY", "nosort", "STORE", "d");
      await sameStore("d", "SORT", key, "BY", "nosort", "DESC", "LIMIT", "1", "2", "STORE", "d");
    }
  });

  test("equal weights keep the list's order in a full sort", async () => {
    await same("SORT", "l", "BY", "nokey_*", "ALPHA");
    await same("SORT", "l", "BY", "s_*", "ALPHA");
    await same("SORT", "l", "BY", "s_*", "ALPHA", "DESC");
    await sameStore("d", "SORT", "l", "BY", "s_*", "ALPHA", "STORE", "d");
  });
});

describe("GET", () => {
  test("values of strings and hash fields, the element itself, and nulls", async () => {
    await rpush("l", "2", "1", "3", "\x00", "x");
    await o.sameAll([
      ["MSET", "v_1", "one", "v_2", "", "v_\x00", "nul"],
      ["SADD", "v_3", "not a string"],
      ["HSET", "h_1", "name", "n1", "num", "100"],
      ["HSET", "h_2", "name", "n2"],
      ["SET", "h_3", "not a hash"],
    ]);
    await same("SORT", "l", "ALPHA", "GET", "#", "GET", "v_*", "GET", "h_*->name", "GET", "h_*->num", "GET", "nostar", "GET", "#");
    await same("SORT", "l", "ALPHA", "GET", "v_*");
    await same("SORT", "l", "BY", "nosort", "GET", "v_*", "GET", "v_*", "LIMIT", "1", "2");
    await sameStore("d", "SORT", "l", "ALPHA", "GET", "#", "GET", "v_*", "GET", "h_*->name", "GET", "nostar", "STORE", "d");
    await sameStore("d", "SORT", "l", "ALPHA", "GET", "nostar", "STORE", "d");
  });

  test("many GETs over a long list", async () => {
    const elements = Array.from({ length: 300 }, (_, i) => String((i * 7919) % 1000));
    await rpush("l", ...elements);
    for (let i = 0; i < 1000; i += 3) await o.same("SET", `k_${i}`, `value ${i}`);
    for (let i = 0; i < 1000; i += 5) await o.same("HSET", `h_${i}`, "f", String(-i));
    await same("SORT", "l", "GET", "#", "GET", "k_*", "GET", "h_*->f");
    await same("SORT", "l", "BY", "h_*->f", "GET", "k_*", "LIMIT", "10", "50");
    await same("SORT", "l", "BY", "k_*", "ALPHA", "GET", "h_*->f", "LIMIT", "100", "30");
    await sameStore("d", "SORT", "l", "BY", "h_*->f", "GET", "#", "GET", "k_*", "STORE", "d");
  });
});

describe("STORE", () => {
  test("replaces a value of any type, drops its time to live, replies the length", async () => {
    await rpush("l", "3", "1", "2");
    const destinations: string[][] = [
      ["SET", "d", "string"],
      ["SADD", "d", "a"],
      ["ZADD", "d", "1", "a"],
      ["HSET", "d", "f", "v"],
      ["RPUSH", "d", "old", "list"],
    ];
    for (const make of destinations) {
      await o.same("DEL", "d");
      await o.same(...make);
      await o.same("EXPIRE", "d", "1000");
      await sameStore("d", "SORT", "l", "STORE", "d");
    }
    await sameStore("l", "SORT", "l", "DESC", "STORE", "l");
    await sameStore("l", "SORT", "l", "ALPHA", "GET", "#", "GET", "#", "STORE", "l");
  });

  test("an empty result deletes the destination", async () => {
    await rpush("l", "1");
    await o.same("SET", "d", "x");
    await sameStore("d", "SORT", "nokey", "STORE", "d");
    await o.same("SET", "d", "x");
    await sameStore("d", "SORT", "l", "LIMIT", "1", "1", "STORE", "d");
    await sameStore("d", "SORT", "l", "LIMIT", "1", "1", "STORE", "d");
    await o.same("SET", "d", "x");
    await sameStore("d", "SORT", "l", "BY", "nosort", "LIMIT", "0", "0", "GET", "#", "STORE", "d");
  });

  test("a destination past its time: deleted as it is when empty, expired first when written", async () => {
    await rpush("l", "1");
    await o.same("DEBUG", "SET-ACTIVE-EXPIRE", "0");
    try {
      for (const source of ["nokey", "l"]) {
        await o.same("SET", "d", "x", "PX", "1");
        // KEYS leaves keys past their time in place but does not list them.
        for (;;) {
          const [want, got] = await o.both("KEYS", "d");
          if (want === "*0\r\n" && got === "*0\r\n") break;
        }
        await o.same("DBSIZE");
        await o.same("CONFIG", "RESETSTAT");
        await sameStore("d", "SORT", source, "STORE", "d");
        const [want, got] = await o.both("INFO", "stats");
        const expired = (info: string) => info.split("\r\n").find((line) => line.startsWith("expired_keys:"));
        expect(expired(got)).toBe(expired(want));
        await o.same("DBSIZE");
      }
    } finally {
      await o.same("DEBUG", "SET-ACTIVE-EXPIRE", "1");
    }
  });

  test("the last STORE counts; a long result is a quicklist of many nodes", async () => {
    await o.same("CONFIG", "SET", "list-max-listpack-size", "5");
    const elements = Array.from({ length: 200 }, (_, i) => (i % 3 === 0 ? `e${i}` : String(200 - i)));
    await rpush("l", ...elements);
    await sameStore("d2", "SORT", "l", "ALPHA", "STORE", "d1", "STORE", "d2");
    await o.same("EXISTS", "d1");
    const [want, got] = await o.both("DEBUG", "OBJECT", "d2");
    expect(got.slice(got.indexOf(" ql_nodes:"))).toBe(want.slice(want.indexOf(" ql_nodes:")));
  });

  test("STORE inside a word is an argument, not an option", async () => {
    await rpush("l", "2", "1");
    await sameStore("store", "SORT", "l", "STORE", "store");
    await sameStore("limit", "SORT", "l", "STORE", "limit", "LIMIT", "0", "1");
  });
});

describe("sets", () => {
  test("intsets are read in order: unsorted replies compare byte for byte", async () => {
    await o.same("SADD", "s", "5", "-3", "100", "0", "9223372036854775807", "-9223372036854775808", "42");
    expect(await o.encodingOf("s")).toBe("intset");
    await same("SORT", "s");
    await same("SORT", "s", "DESC", "LIMIT", "1", "3");
    await same("SORT", "s", "ALPHA");
    await same("SORT", "s", "BY", "nosort");
    await same("SORT", "s", "BY", "nosort", "LIMIT", "2", "3", "DESC", "GET", "#", "GET", "x_*");
    await o.sameAll([["SET", "w_5", "a"], ["SET", "w_0", "b"], ["SET", "w_42", "a"]]);
    await same("SORT", "s", "BY", "w_*", "ALPHA");
    await same("SORT", "s", "BY", "w_*", "ALPHA", "LIMIT", "1", "4");
    await sameStore("d", "SORT", "s", "BY", "nosort", "STORE", "d");
    await sameStore("d", "SORT", "s", "BY", "nosort", "DESC", "LIMIT", "1", "2", "STORE", "d");
    await sameValue("s");
  });

  test("hashtable sets: total orders byte for byte, their own order as a multiset", async () => {
    // Members equal as C strings would tie in ALPHA order and stay in hash table order.
    const members = [...BINARY.filter((m) => !m.includes("\x00")), "x1", "x2", "x3"];
    await o.same("SADD", "s", ...members);
    await o.same("SADD", "n", ...NUMBERS.filter((n) => n !== "1\x00junk"), "z");
    await o.same("SREM", "n", "z");
    expect(await o.encodingOf("s")).toBe("hashtable");
    expect(await o.encodingOf("n")).toBe("hashtable");
    await same("SORT", "s", "ALPHA");
    await same("SORT", "s", "ALPHA", "DESC", "LIMIT", "2", "5");
    await same("SORT", "s");
    await same("SORT", "n");
    await same("SORT", "n", "DESC", "LIMIT", "5", "10", "GET", "#");
    await sameStore("d", "SORT", "s", "ALPHA", "STORE", "d");
    await sameStore("d", "SORT", "s", "BY", "nosort", "STORE", "d");
    await sameStore("d", "SORT", "s", "BY", "nosort", "DESC", "LIMIT", "3", "4", "STORE", "d");
    await sameMembers("SORT", "s", "BY", "nosort");
    await sameMembers("SORT_RO", "s", "BY", "nosort", "DESC");
    await o.sameAll(members.map((m, i) => ["SET", `w_${m}`, String(i % 4 === 0 ? -i : i)]));
    await same("SORT", "s", "BY", "w_*");
    await same("SORT", "s", "BY", "w_*", "DESC", "LIMIT", "0", "7", "GET", "w_*");
    await sameValue("s");
  });
});

describe("sorted sets", () => {
  // No two of them equal as C strings: ALPHA would keep such a pair in hash table order.
  const MEMBERS = ["b", "a", "c", "10", "9", "-1", "\x00b", "\xff", "ab\x00c"];

  for (const encoding of ["listpack", "skiplist"]) {
    test(`${encoding}: sorted by the members, or kept in score order without sorting`, async () => {
      if (encoding === "skiplist") await o.same("CONFIG", "SET", "zset-max-listpack-entries", "0");
      await o.same("ZADD", "z", ...MEMBERS.flatMap((m, i) => [String((i * 37) % 5), m]));
      await o.same("ZADD", "n", "3", "10", "1", "-2", "2", "7.5", "-1", "0x10", "1.5e10", "4", "1e1", "5");
      await o.same("ZADD", "f", "1.5", "one", "-inf", "low", "+inf", "high", "0.1", "tenth", "1e-300", "tiny");
      await sameValue("z");
      await same("SORT_RO", "z", "ALPHA");
      await sameValue("z");
      await same("SORT", "z", "ALPHA", "DESC", "LIMIT", "1", "5");
      await same("SORT", "z");
      await same("SORT", "n");
      await same("SORT", "n", "DESC", "LIMIT", "2", "3");
      for (const key of ["z", "n", "f"]) {
        await same("SORT", key, "BY", "nosort");
        await same("SORT", key, "BY", "nosort", "DESC");
        for (const [offset, count] of [["0", "1"], ["1", "3"], ["3", "-1"], ["4", "100"], ["100", "1"], ["-2", "2"]]) {
          await same("SORT", key, "BY", "nosort", "LIMIT", offset!, count!);
          await same("SORT", key, "BY", "nosort", "DESC", "LIMIT", offset!, count!, "GET", "#");
        }
        await sameStore("d", "SORT", key, "BY", "nosort", "DESC", "STORE", "d");
        await sameValue(key);
      }
      await o.same("ZADD", "z", "100", "added after");
      await sameValue("z");
      await o.same("ZRANGE", "z", "0", "-1", "WITHSCORES");
    });
  }

  test("members weighed by other keys", async () => {
    await o.same("ZADD", "z", "1", "x", "2", "y", "3", "z", "4", "w");
    await o.sameAll([["SET", "w_x", "4"], ["SET", "w_y", "3"], ["SET", "w_z", "2"], ["SET", "w_w", "1"]]);
    await same("SORT", "z", "BY", "w_*");
    await same("SORT", "z", "BY", "w_*", "DESC", "GET", "w_*", "GET", "#");
    await same("SORT", "z", "BY", "w_*", "LIMIT", "1", "2");
  });
});

describe("COMMAND", () => {
  test("GETKEYS and GETKEYSANDFLAGS find the sorted key and the last STORE", async () => {
    const lines = [
      ["SORT", "k"],
      ["SORT", "k", "STORE", "d"],
      ["SORT", "k", "STORE", "d", "STORE", "e"],
      ["SORT", "k", "STORE"],
      ["SORT", "k", "LIMIT", "STORE", "d"],
      ["SORT", "k", "GET", "store", "STORE", "d"],
      ["SORT", "k", "BY", "store", "d"],
      ["SORT", "k", "STORE", "limit", "1", "2"],
      ["SORT", "k", "STORE", "limit", "1", "2", "STORE", "x"],
      ["SORT", "k", "STORE\x00x", "d"],
      ["SORT", "k", "ALPHA", "LIMIT", "0", "1", "GET", "#", "DESC", "STORE", "dst"],
      ["SORT_RO", "k"],
      ["SORT_RO", "k", "BY", "x", "GET", "y", "STORE", "d"],
    ];
    for (const line of lines) {
      await same("COMMAND", "GETKEYS", ...line);
      await same("COMMAND", "GETKEYSANDFLAGS", ...line);
    }
    await same("COMMAND", "GETKEYS", "SORT");
  });

  test("INFO and DOCS", async () => {
    await same("COMMAND", "INFO", "sort", "sort_ro");
    await same("COMMAND", "DOCS", "sort", "sort_ro");
  });
});

describe("side effects", () => {
  test("every BY and GET lookup counts a keyspace hit or miss", async () => {
    await rpush("l", "1", "2", "3", "4");
    await o.sameAll([["SET", "w_1", "1"], ["SET", "w_3", "3"], ["HSET", "h_2", "f", "2"], ["CONFIG", "RESETSTAT"]]);
    await o.same("SORT", "l", "BY", "w_*", "GET", "#", "GET", "h_*->f", "GET", "nostar", "LIMIT", "1", "2");
    await o.same("SORT", "nokey", "BY", "w_*");
    await o.same("SORT", "l", "BY", "nosort", "GET", "w_*");
    await o.same("SORT", "l", "BY", "h_*->f", "ALPHA");
    const [want, got] = await o.both("INFO", "stats");
    const hits = (info: string) => info.split("\r\n").filter((line) => /^keyspace_(hits|misses):/.test(line));
    expect(hits(got)).toEqual(hits(want));
  });
});

describe("fuzz", () => {
  /** Weights drawn from few values, so that many elements tie. */
  const WEIGHTS = ["1", "2", "3", "a", "b", "", "1.0", "x\x00y", "x\x00z"];

  test("BY with LIMIT: Redis's partial quicksort, equal weights included", async () => {
    const seed = seedFromEnv();
    const r = rng(seed);
    try {
      for (let round = 0; round < 30; round++) {
        await o.same("FLUSHALL");
        const length = 1 + Math.floor(r() * (r() < 0.5 ? 12 : 150));
        const elements = Array.from({ length }, (_, i) => (r() < 0.3 ? pick(r, WEIGHTS) : `e${i % Math.max(1, Math.floor(length / 2))}`));
        await rpush("l", ...elements);
        for (const element of new Set(elements)) {
          if (r() < 0.8) await o.same("SET", `w_${element}`, pick(r, WEIGHTS));
          if (r() < 0.5) await o.same("SET", `n_${element}`, String(Math.floor(r() * 5)));
        }
        for (let query = 0; query < 20; query++) {
          const args = ["SORT", "l", "BY", pick(r, ["w_*", "n_*", "missing_*"])];
          if (r() < 0.7 || args[3] !== "n_*") args.push("ALPHA");
          if (r() < 0.5) args.push("DESC");
          const offset = Math.floor(r() * (length + 3)) - 1;
          args.push("LIMIT", String(offset), String(Math.floor(r() * (length + 3)) - 1));
          if (r() < 0.3) args.push("GET", "#", "GET", "w_*");
          await same(...args);
          if (r() < 0.2) await sameStore("d", ...args, "STORE", "d");
        }
      }
    } catch (error) {
      console.error(`sort fuzz failed with SEED=${seed}`);
      throw error;
    }
  });
});
