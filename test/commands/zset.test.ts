// Sorted set commands against the real redis-server: every reply byte for byte, errors
// included. The main suite runs once per way of reaching each encoding (a listpack; a
// skiplist reached by size, by a long member, and by CONFIG SET) and once per protocol,
// checking OBJECT ENCODING, DEBUG DIGEST-VALUE and DEBUG DIGEST as it goes. Replies that
// Redis randomizes (ZRANDMEMBER, ZSCAN of a hash table) are checked by their rules.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { Oracle, type RespConn } from "../oracle/harness.ts";
import { decodeReply, replyPairs, scanPairs } from "../oracle/resp.ts";

let o: Oracle;
beforeAll(async () => {
  o = await Oracle.start(["--enable-debug-command", "yes"]);
});
afterAll(() => o.stop());

const same = (...args: string[]): Promise<string> => o.same(...args);

async function sameAll(commands: string[][]): Promise<void> {
  for (const c of commands) await o.same(...c);
}

/** Switches both connections to RESP2 or RESP3 (HELLO replies name the server, so differ). */
async function hello(resp: number): Promise<void> {
  const [want, got] = await o.both("HELLO", String(resp));
  expect(got.slice(0, 1)).toBe(want.slice(0, 1));
}

/** [member, score] pairs of a WITHSCORES reply in either protocol. */
function pairs(reply: string): [string, string][] {
  return replyPairs(decodeReply(reply));
}

// ---------------------------------------------------------------------------------------
// The suite, once per encoding and protocol
// ---------------------------------------------------------------------------------------

/** A way to give every sorted set the tests build one encoding. */
interface Encoding {
  name: string;
  expected: "listpack" | "skiplist";
  /** Elements added after the test's own, in the score of its last element. */
  extra: (score: string) => string[];
  config?: string;
}

const padding = (score: string): string[] => Array.from({ length: 130 }, (_, i) => [score, `~pad${String(i).padStart(3, "0")}`]).flat();

const ENCODINGS: Encoding[] = [
  { name: "listpack", expected: "listpack", extra: () => [] },
  { name: "skiplist by size", expected: "skiplist", extra: padding },
  { name: "skiplist by a long member", expected: "skiplist", extra: (score) => [score, "~".repeat(65)] },
  { name: "skiplist by zset-max-listpack-entries 0", expected: "skiplist", extra: () => [], config: "0" },
];

/** Members that stress the listpack: integers of every width, binary bytes, the empty string. */
const ODD_MEMBERS = ["", "0", "-1", "127", "128", "-4096", "4096", "65536", "9007199254740993", "9223372036854775807", "\x00", "\xff\x00\r\n", "a b"];

for (const enc of ENCODINGS) {
  for (const resp of [2, 3]) {
    describe(`${enc.name}, RESP${resp}`, () => {
      beforeAll(async () => {
        await hello(resp);
        if (enc.config !== undefined) await same("CONFIG", "SET", "zset-max-listpack-entries", enc.config);
      });
      afterAll(async () => {
        await same("CONFIG", "SET", "zset-max-listpack-entries", "128");
        await hello(2);
      });
      beforeEach(async () => {
        await same("FLUSHALL");
      });

      /** ZADD the pairs (then the encoding's extra elements) and check the encoding. */
      async function seed(key: string, ...scoreMembers: string[]): Promise<void> {
        await same("ZADD", key, ...scoreMembers);
        const extra = enc.extra(scoreMembers[scoreMembers.length - 2]!);
        if (extra.length > 0) await same("ZADD", key, ...extra);
        expect(await same("OBJECT", "ENCODING", key)).toBe(`$8\r\n${enc.expected}\r\n`);
      }

      /** Whole contents, digest of the key and of the data set: all equal on both servers. */
      async function sameState(...keys: string[]): Promise<void> {
        for (const key of keys) {
          await same("ZRANGE", key, "0", "-1", "WITHSCORES");
          await same("DEBUG", "DIGEST-VALUE", key);
          await same("OBJECT", "ENCODING", key);
        }
        await same("DEBUG", "DIGEST");
      }

      const SCORES = ["1", "2", "2", "3.5", "-1", "0", "1e20", "-inf", "+inf", "0.1", "-0", "4611686018427387904", "4611686018427387905", "1e-300"];
      const members = (n: number): string[] => Array.from({ length: n }, (_, i) => `m${i}`);
      /** The default set: scores from SCORES, members m0.. */
      const basic = (): string[] => SCORES.flatMap((s, i) => [s, `m${i}`]);

      test("ZADD with every option combination on new and existing members", async () => {
        await seed("z", ...basic());
        const options = [[], ["NX"], ["XX"], ["GT"], ["LT"], ["CH"], ["XX", "GT"], ["XX", "LT", "CH"], ["NX", "CH"], ["GT", "CH"], ["LT", "CH"]];
        for (const opts of options) {
          await same("ZADD", "z", ...opts, "5", "m1", "-5", "m2", "0", "fresh" + opts.join(""), "2", "m3");
          await same("ZADD", "z", ...opts, "INCR", "1.5", "m4");
          await same("ZADD", "z", ...opts, "INCR", "-100", "new-incr" + opts.join(""));
        }
        await same("ZADD", "z", "CH", "nx", "1", "m5", "1", "m5");
        await same("ZADD", "z", "1", "dup", "2", "dup", "3", "dup");
        await same("ZADD", "z", "INCR", "+inf", "m0");
        await same("ZADD", "z", "INCR", "-inf", "m0");
        await same("ZADD", "z", "XX", "1", "absent");
        await same("ZADD", "missing", "XX", "1", "a");
        await same("ZADD", "missing", "XX", "INCR", "1", "a");
        await same("EXISTS", "missing");
        await sameState("z");
      });

      test("ZADD and ZINCRBY with scores at the edges, infinities and NaN", async () => {
        await seed("z", "0", "a", "-0", "b");
        for (const score of ["-0", "0", "0.0", "1e-320", "-1e-320", "4503599627370496", "9007199254740993", "4.611686018427388e18", "-4.611686018427388e18", "9.3e18", "1e308", "0x1p-3", " 1", "inf", "-INF", "+Infinity"]) {
          await same("ZADD", "z", score, `s${score}`);
          await same("ZSCORE", "z", `s${score}`);
          await same("ZINCRBY", "z", score, "acc");
        }
        await same("ZINCRBY", "z", "-0", "neg-zero");
        await same("ZINCRBY", "z", "1", "inf-member");
        await same("ZINCRBY", "z", "inf", "inf-member");
        await same("ZINCRBY", "z", "-inf", "inf-member");
        await same("ZADD", "z", "INCR", "-inf", "inf-member");
        await same("ZINCRBY", "z", "nan", "a");
        await same("ZINCRBY", "z", "x", "a");
        await same("ZADD", "z", "1", "a", "nan", "b");
        await same("ZADD", "z", "1e400", "a");
        await sameState("z");
      });

      test("ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK and ZREVRANK", async () => {
        await seed("z", ...basic(), ...ODD_MEMBERS.flatMap((m, i) => [String(i % 3), m]));
        const probe = ["m0", "m3", "m13", "absent", ...ODD_MEMBERS, "~pad000", "~pad129", "~".repeat(65)];
        for (const m of probe) {
          await same("ZSCORE", "z", m);
          await same("ZRANK", "z", m);
          await same("ZREVRANK", "z", m);
        }
        await same("ZMSCORE", "z", ...probe);
        await same("ZMSCORE", "nokey", "a", "b");
        await same("ZCARD", "z");
        await same("ZCARD", "nokey");
        await same("ZSCORE", "nokey", "a");
        await same("ZRANK", "nokey", "a");
        await same("ZREM", "z", "m0", "m0", "absent", "", "\x00");
        await same("ZREM", "nokey", "a");
        await sameState("z");
        await seed("small", "1", "a", "2", "b");
        await same("ZREM", "small", "a", "b", "c");
        await same("EXISTS", "small");
      });

      test("ZCOUNT and ZRANGEBYSCORE bounds: exclusive, infinite, strtod's forms", async () => {
        await seed("z", ...basic());
        const bounds = ["-inf", "+inf", "inf", "(-inf", "(+inf", "0", "(0", "1", "(1", "2", "(2", "3.5", "(3.5", "-1", "1e20", "(1e20", "0.1", "(0.1", "", "(", " 2", "1e400", "-1e400", "0x2", "(0x1p1"];
        for (const min of bounds) {
          for (const max of ["+inf", "2", "(2", "3.5", "-inf", "0", "1e20"]) {
            await same("ZCOUNT", "z", min, max);
            await same("ZRANGEBYSCORE", "z", min, max, "WITHSCORES");
            await same("ZREVRANGEBYSCORE", "z", max, min);
          }
        }
        for (const bad of ["x", "nan", "(nan", "1 ", "((1", "1e", " "]) {
          await same("ZCOUNT", "z", bad, "1");
          await same("ZCOUNT", "z", "1", bad);
          await same("ZRANGEBYSCORE", "z", bad, "1");
        }
        await same("ZCOUNT", "nokey", "0", "1");
        await same("ZCOUNT", "nokey", "x", "1");
      });

      test("ZRANGE by rank, forwards and reversed, with and without scores", async () => {
        await seed("z", ...basic());
        const indexes = ["0", "1", "-1", "-2", "5", "13", "14", "200", "-200", "-14", "-15", "9223372036854775807", "-9223372036854775808"];
        for (const start of indexes) {
          for (const stop of indexes) {
            await same("ZRANGE", "z", start, stop);
            await same("ZRANGE", "z", start, stop, "REV", "WITHSCORES");
          }
          await same("ZREVRANGE", "z", start, "-1", "WITHSCORES");
        }
        await same("ZRANGE", "nokey", "0", "-1");
        await same("ZRANGE", "z", "0", "x");
        await same("ZRANGE", "z", "a", "1");
        await same("ZRANGE", "z", "0", "-1", "withscores", "rev");
        await same("ZREVRANGE", "z", "0", "-1", "REV");
      });

      test("ZRANGE BYSCORE and ZRANGEBYSCORE with LIMIT", async () => {
        await seed("z", ...basic());
        const limits = [["0", "3"], ["1", "-1"], ["2", "0"], ["-1", "5"], ["13", "5"], ["14", "1"], ["200", "1"], ["0", "-5"], ["5", "9223372036854775807"]];
        for (const [offset, count] of limits) {
          await same("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", offset!, count!, "WITHSCORES");
          await same("ZRANGE", "z", "+inf", "(0", "BYSCORE", "REV", "LIMIT", offset!, count!);
          await same("ZRANGEBYSCORE", "z", "(1", "1e20", "LIMIT", offset!, count!);
          await same("ZREVRANGEBYSCORE", "z", "inf", "-inf", "WITHSCORES", "LIMIT", offset!, count!);
        }
        await same("ZRANGEBYSCORE", "z", "0", "10", "LIMIT", "0");
        await same("ZRANGEBYSCORE", "z", "0", "10", "LIMIT", "x", "1");
        await same("ZRANGEBYSCORE", "z", "0", "10", "LIMIT", "1", "x");
        await same("ZRANGEBYSCORE", "z", "0", "10", "REV");
        await same("ZRANGEBYSCORE", "z", "0", "10", "BYSCORE");
        await same("ZRANGE", "z", "0", "10", "BYSCORE", "BYLEX");
        await same("ZRANGE", "z", "0", "10", "BYSCORE", "BYSCORE");
        await same("ZRANGE", "z", "0", "10", "REV", "REV");
        await same("ZRANGE", "z", "0", "10", "LIMIT", "0", "1");
        await same("ZRANGEBYSCORE", "nokey", "0", "1", "WITHSCORES");
      });

      test("lex ranges over equal scores: ZRANGE BYLEX, ZRANGEBYLEX, ZREVRANGEBYLEX, ZLEXCOUNT", async () => {
        const lexMembers = ["a", "aa", "ab", "b", "ba", "c", "d", "e\x00", "e", "\xff", "", "1", "10", "2", "-5", "9223372036854775807"];
        await seed("z", ...lexMembers.flatMap((m) => ["0", m]));
        const bounds = ["-", "+", "[a", "(a", "[aa", "(ab", "[b", "(c", "[e", "[e\x00", "(e\x00", "[\xff", "[", "(", "[1", "(10", "[2", "[-5", "(9223372036854775807"];
        for (const min of bounds) {
          for (const max of ["+", "[c", "(c", "[b", "-", "[\xff", "(2"]) {
            await same("ZLEXCOUNT", "z", min, max);
            await same("ZRANGEBYLEX", "z", min, max);
            await same("ZREVRANGEBYLEX", "z", max, min, "LIMIT", "1", "3");
            await same("ZRANGE", "z", min, max, "BYLEX", "LIMIT", "0", "-1");
          }
        }
        for (const bad of ["a", "", "+a", "-a", "x"]) {
          await same("ZLEXCOUNT", "z", bad, "+");
          await same("ZRANGEBYLEX", "z", "-", bad);
        }
        await same("ZRANGEBYLEX", "z", "-", "+", "WITHSCORES");
        await same("ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES");
        await same("ZRANGEBYLEX", "z", "-", "+", "LIMIT", "-1", "2");
        await same("ZLEXCOUNT", "nokey", "-", "+");
        await same("ZRANGEBYLEX", "nokey", "-", "+");
      });

      test("ZRANGESTORE: contents, destination encoding, TTL and type replaced, empty results", async () => {
        await seed("z", ...basic());
        const forms = [
          ["0", "-1"], ["2", "5"], ["5", "2"], ["0", "-1", "REV"], ["-inf", "+inf", "BYSCORE"], ["(0", "2", "BYSCORE", "LIMIT", "1", "2"],
          ["+inf", "-inf", "BYSCORE", "REV"], ["-", "+", "BYLEX"], ["10", "20", "BYSCORE"], ["[m", "[n", "BYLEX"],
        ];
        for (const form of forms) {
          await same("SET", "dst", "string");
          await same("EXPIRE", "dst", "1000");
          await same("ZRANGESTORE", "dst", "z", ...form);
          await same("TTL", "dst");
          await same("TYPE", "dst");
          await sameState("dst");
        }
        await same("ZRANGESTORE", "dst", "nokey", "0", "-1");
        await same("EXISTS", "dst");
        await same("ZRANGESTORE", "z", "z", "0", "2");
        await sameState("z");
        await same("ZRANGESTORE", "dst", "z", "0", "-1", "WITHSCORES");
        await same("ZRANGESTORE", "dst", "z", "0", "-1", "LIMIT", "0", "1");
      });

      test("ZREMRANGEBYRANK, ZREMRANGEBYSCORE and ZREMRANGEBYLEX", async () => {
        for (const [start, stop] of [["0", "0"], ["-1", "-1"], ["2", "4"], ["5", "2"], ["-100", "1"], ["20", "30"], ["0", "-1"]]) {
          await seed("z", ...basic());
          await same("ZREMRANGEBYRANK", "z", start!, stop!);
          await sameState("z");
          await same("DEL", "z");
        }
        for (const [min, max] of [["-inf", "0"], ["(0", "(2"], ["2", "2"], ["(2", "2"], ["1e20", "+inf"], ["5", "1"], ["-inf", "+inf"]]) {
          await seed("z", ...basic());
          await same("ZREMRANGEBYSCORE", "z", min!, max!);
          await sameState("z");
          await same("DEL", "z");
        }
        for (const [min, max] of [["-", "[m1"], ["(m1", "(m5"], ["[m3", "[m3"], ["[m9", "+"], ["+", "-"], ["-", "+"]]) {
          await seed("z", ...members(12).flatMap((m) => ["0", m]));
          await same("ZREMRANGEBYLEX", "z", min!, max!);
          await sameState("z");
          await same("DEL", "z");
        }
        await same("ZREMRANGEBYRANK", "nokey", "0", "-1");
        await same("ZREMRANGEBYSCORE", "nokey", "x", "1");
        await same("ZREMRANGEBYLEX", "nokey", "x", "+");
        await same("ZREMRANGEBYRANK", "nokey", "x", "1");
      });

      test("ZPOPMIN, ZPOPMAX and ZMPOP", async () => {
        await seed("z", ...basic());
        await same("ZPOPMIN", "z");
        await same("ZPOPMAX", "z");
        await same("ZPOPMIN", "z", "2");
        await same("ZPOPMAX", "z", "3");
        await same("ZPOPMIN", "z", "0");
        await same("ZPOPMIN", "z", "-1");
        await same("ZPOPMIN", "z", "x");
        await same("ZPOPMIN", "z", "1", "2");
        await same("ZPOPMIN", "nokey");
        await same("ZPOPMAX", "nokey", "3");
        await sameState("z");
        await same("ZMPOP", "2", "nokey", "z", "MIN");
        await same("ZMPOP", "2", "nokey", "z", "max", "COUNT", "2");
        await same("ZMPOP", "1", "nokey", "MIN");
        await same("ZMPOP", "1", "z", "MIN", "COUNT", "1000");
        await same("EXISTS", "z");
        await seed("y", "1", "a", "2", "b");
        await same("ZPOPMAX", "y", "100");
        await same("EXISTS", "y");
      });

      /** Three sets overlapping in some members, with infinite scores that weights can turn into NaN. */
      async function seedOperands(): Promise<void> {
        await seed("a", ...basic());
        await seed("b", "1", "m1", "10", "m2", "-inf", "m3", "inf", "m7", "0", "only-b", "5", "m10");
        await same("ZADD", "c", "7", "m1", "inf", "m8", "-3", "m2");
      }
      const KEY_LISTS = [["a"], ["a", "b"], ["b", "a"], ["a", "b", "c"], ["a", "nokey"], ["nokey", "a"], ["a", "a"], ["a", "b", "a"]];
      /** WEIGHTS (the first key's weight varies) and AGGREGATE combinations for these keys. */
      const operationOptions = (keys: string[]): string[][] => {
        const weights = (first: string): string[] => ["WEIGHTS", first, ...keys.slice(1).map((_, i) => String(i + 2))];
        return [
          [], ["AGGREGATE", "MIN"], ["AGGREGATE", "max"], ["AGGREGATE", "SUM"],
          ...["0", "-1", "inf", "2.5", "1e308"].flatMap((w) => [weights(w), [...weights(w), "AGGREGATE", "MAX"], [...weights(w), "AGGREGATE", "MIN"]]),
        ];
      };

      test("ZUNION, ZINTER, ZDIFF and ZINTERCARD with WEIGHTS and AGGREGATE", async () => {
        await seedOperands();
        for (const keys of KEY_LISTS) {
          const n = String(keys.length);
          await same("ZDIFF", n, ...keys, "WITHSCORES");
          await same("ZINTERCARD", n, ...keys);
          await same("ZINTERCARD", n, ...keys, "LIMIT", "2");
          for (const options of operationOptions(keys)) {
            await same("ZUNION", n, ...keys, ...options, "WITHSCORES");
            await same("ZINTER", n, ...keys, ...options, ...(keys.length > 1 ? ["WITHSCORES"] : []));
          }
        }
      }, 30_000);

      test("ZUNIONSTORE, ZINTERSTORE and ZDIFFSTORE: contents, encodings, digests", async () => {
        await seedOperands();
        for (const keys of KEY_LISTS) {
          const n = String(keys.length);
          await same("ZDIFFSTORE", "dst", n, ...keys);
          await sameState("dst");
          for (const options of operationOptions(keys).filter((_, i) => i % 3 === 0)) {
            await same("ZUNIONSTORE", "dst", n, ...keys, ...options);
            await sameState("dst");
            await same("ZINTERSTORE", "dst", n, ...keys, ...options);
            await sameState("dst");
          }
        }
        await same("ZUNIONSTORE", "a", "2", "a", "b");
        await sameState("a");
        await same("ZINTERSTORE", "dst", "2", "nokey", "a");
        await same("EXISTS", "dst");
      }, 30_000);

      test("ZSCAN returns every element with its score", async () => {
        await seed("z", ...basic(), ...ODD_MEMBERS.flatMap((m, i) => [String(i), m]));
        if (enc.expected === "listpack") {
          await same("ZSCAN", "z", "0");
          await same("ZSCAN", "z", "0", "MATCH", "m1*", "COUNT", "1");
          await same("ZSCAN", "z", "123", "MATCH", "*");
        }
        for (const opts of [[], ["COUNT", "3"], ["MATCH", "m1*"], ["MATCH", "*pad0*", "COUNT", "100"], ["COUNT", "1000"]]) {
          const [want, got] = await Promise.all([scanSorted(o.r, opts), scanSorted(o.b, opts)]);
          expect(got).toEqual(want);
        }
        if (enc.expected === "skiplist") {
          // COUNT counts pairs, as Redis doubles it for a zset: a call that does not end the
          // scan gathered at least 2*COUNT items (its step budget is far from running out).
          for (const conn of [o.r, o.b]) expect(await fewestItemsBeforeTheEnd(conn, 3)).toBeGreaterThanOrEqual(6);
        }
        await same("ZSCAN", "nokey", "0");
        await same("ZSCAN", "nokey", "0", "BADOPTION");
        await same("ZSCAN", "z", "0", "COUNT", "0");
        await same("ZSCAN", "z", "0", "COUNT");
        await same("ZSCAN", "z", "0", "TYPE", "zset");
        await same("ZSCAN", "z", "x");
        await same("ZSCAN", "z", "-1", "COUNT", "x");
      });

      test("ZRANDMEMBER: distinct or repeated members, scores, and the whole set", async () => {
        await seed("z", ...basic());
        const content = new Map(pairs(await same("ZRANGE", "z", "0", "-1", "WITHSCORES")));
        const size = content.size;
        // Asking for the whole set or more gives it from the highest element, deterministically.
        await same("ZRANDMEMBER", "z", String(size), "WITHSCORES");
        await same("ZRANDMEMBER", "z", String(size + 5));
        await same("ZRANDMEMBER", "z", "0");
        await same("ZRANDMEMBER", "nokey");
        await same("ZRANDMEMBER", "nokey", "3", "WITHSCORES");
        for (const count of [1, 3, Math.floor(size / 3) + 1, size - 1, -1, -5, -(size * 3)]) {
          for (const withScores of [false, true]) {
            const reply = await o.b.call("ZRANDMEMBER", "z", String(count), ...(withScores ? ["WITHSCORES"] : []));
            const got = withScores ? pairs(reply) : (decodeReply(reply) as string[]).map((m) => [m, ""] as [string, string]);
            expect(got.length).toBe(Math.abs(count));
            for (const [member, score] of got) {
              expect(content.has(member)).toBe(true);
              if (withScores) expect(score).toBe(content.get(member)!);
            }
            if (count > 0) expect(new Set(got.map(([m]) => m)).size).toBe(count);
          }
        }
        const one = decodeReply(await o.b.call("ZRANDMEMBER", "z")) as string;
        expect(content.has(one)).toBe(true);
      });

      test("binary members, COPY, RENAME and digests", async () => {
        const binary = ["\x00", "\x00\x00", "\xff", "\r\n", "a\x00b", "", " ", "\x80abc", "x".repeat(64)];
        await seed("z", ...binary.flatMap((m, i) => [String(i % 4), m]));
        for (const m of binary) {
          await same("ZSCORE", "z", m);
          await same("ZRANK", "z", m);
        }
        await same("ZRANGEBYLEX", "z", "-", "+");
        await same("COPY", "z", "copy");
        await sameState("z", "copy");
        await same("ZADD", "copy", "100", "only-in-copy");
        await same("ZREM", "z", "\x00");
        await sameState("z", "copy");
        await same("RENAME", "copy", "renamed");
        await sameState("z", "renamed");
      });
    });
  }
}

/** The fewest items a ZSCAN of "z" with this COUNT returned in a call that did not end the scan. */
async function fewestItemsBeforeTheEnd(conn: RespConn, count: number): Promise<number> {
  let fewest = Infinity;
  let cursor = "0";
  do {
    const [next, items] = decodeReply(await conn.call("ZSCAN", "z", cursor, "COUNT", String(count))) as [string, string[]];
    if (next !== "0") fewest = Math.min(fewest, items.length);
    cursor = next;
  } while (cursor !== "0");
  return fewest;
}

/** Every element a full ZSCAN iteration of "z" returns, as sorted [member, score] pairs. */
async function scanSorted(conn: RespConn, opts: string[]): Promise<[string, string][]> {
  const pairs = await scanPairs(conn, ["ZSCAN", "z", "0", ...opts]);
  return pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

describe("errors", () => {
  beforeEach(async () => {
    await same("FLUSHALL");
  });

  test("WRONGTYPE from every command, after its own argument checks", async () => {
    await same("SET", "s", "v");
    await same("ZADD", "z", "1", "a");
    await sameAll([
      ["ZADD", "s", "1", "a"], ["ZADD", "s", "XX", "1", "a"], ["ZADD", "s", "x", "a"], ["ZINCRBY", "s", "1", "a"],
      ["ZREM", "s", "a"], ["ZCARD", "s"], ["ZSCORE", "s", "a"], ["ZMSCORE", "s", "a", "b"], ["ZRANK", "s", "a"],
      ["ZREVRANK", "s", "a"], ["ZCOUNT", "s", "0", "1"], ["ZCOUNT", "s", "x", "1"], ["ZLEXCOUNT", "s", "-", "+"],
      ["ZLEXCOUNT", "s", "x", "+"], ["ZRANGE", "s", "0", "1"], ["ZRANGE", "s", "0", "1", "BADOPT"],
      ["ZRANGESTORE", "d", "s", "0", "1"], ["ZREVRANGE", "s", "0", "1"], ["ZRANGEBYSCORE", "s", "0", "1"],
      ["ZREVRANGEBYSCORE", "s", "1", "0"], ["ZRANGEBYLEX", "s", "-", "+"], ["ZREVRANGEBYLEX", "s", "+", "-"],
      ["ZREMRANGEBYRANK", "s", "0", "1"], ["ZREMRANGEBYSCORE", "s", "0", "1"], ["ZREMRANGEBYLEX", "s", "-", "+"],
      ["ZPOPMIN", "s"], ["ZPOPMAX", "s", "2"], ["ZPOPMIN", "s", "-1"], ["ZMPOP", "2", "nokey", "s", "MIN"],
      ["ZMPOP", "2", "z", "s", "MIN"], ["ZRANDMEMBER", "s"], ["ZRANDMEMBER", "s", "2"], ["ZRANDMEMBER", "s", "2", "x"],
      ["ZUNION", "2", "z", "s"], ["ZINTER", "2", "s", "z", "BADOPT"], ["ZDIFF", "1", "s"], ["ZUNIONSTORE", "d", "1", "s"],
      ["ZINTERSTORE", "d", "2", "z", "s"], ["ZDIFFSTORE", "d", "1", "s"], ["ZINTERCARD", "1", "s"], ["ZSCAN", "s", "0"],
      ["ZSCAN", "s", "x"], ["EXISTS", "d"], ["GET", "s"],
    ]);
  });

  test("ZADD and ZINCRBY option and score errors", async () => {
    await same("ZADD", "z", "1", "a");
    await sameAll([
      ["ZADD", "z", "NX", "XX", "1", "a"], ["ZADD", "z", "GT", "LT", "1", "a"], ["ZADD", "z", "NX", "GT", "1", "a"],
      ["ZADD", "z", "LT", "NX", "1", "a"], ["ZADD", "z", "XX", "NX", "GT", "1", "a"], ["ZADD", "z", "INCR", "1", "a", "2", "b"],
      ["ZADD", "z", "INCR", "GT", "LT", "1", "a"], ["ZADD", "z", "1", "a", "2"], ["ZADD", "z", "CH", "1"], ["ZADD", "z", "1"],
      ["ZADD", "z", "NX", "XX"], ["ZADD", "z", "x", "a"], ["ZADD", "z", "1", "a", "y", "b"], ["ZADD", "z", "nan", "a"],
      ["ZADD", "z", "", "a"], ["ZADD", "z", " 1", "a"], ["ZADD", "z", "1 ", "a"], ["ZADD", "z", "1e400", "a"],
      ["ZADD", "z", "1e-400", "a"], ["ZADD", "z", "1\x00", "a"], ["ZADD", "z", "GT", "GT", "1", "a"],
      ["ZADD", "z", "nx\x00junk", "5", "a"], ["ZADD", "z", "CH\x00", "5", "a"], ["ZINCRBY", "z", "NX", "a"],
      ["ZINCRBY", "z", "nan", "a"], ["ZINCRBY", "z", "1e400", "a"], ["ZINCRBY", "z"], ["ZSCORE", "z", "a"],
    ]);
  });

  test("range option errors and their order", async () => {
    await same("ZADD", "z", "1", "a", "2", "b");
    await sameAll([
      ["ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"], ["ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"],
      ["ZRANGE", "z", "0", "-1", "LIMIT", "x", "1"], ["ZRANGE", "z", "0", "-1", "LIMIT", "0"], ["ZRANGE", "z", "x", "-1"],
      ["ZRANGE", "z", "0", "-1", "BYSCORE", "BYLEX"], ["ZRANGE", "z", "0", "-1", "BYLEX", "BYLEX"],
      ["ZRANGE", "z", "0", "-1", "REV", "REV"], ["ZRANGE", "z", "0", "-1", "withscores\x00x"], ["ZRANGE", "z", "0", "-1", "WITHSCORE"],
      ["ZRANGE", "z", "(1", "x", "BYSCORE"], ["ZRANGE", "z", "a", "+", "BYLEX"], ["ZRANGESTORE", "d", "z", "0", "-1", "WITHSCORES"],
      ["ZRANGESTORE", "d", "z", "0", "-1", "LIMIT", "0", "1"], ["ZREVRANGE", "z", "0", "-1", "BYSCORE"],
      ["ZRANGEBYSCORE", "z", "0", "1", "BYLEX"], ["ZRANGEBYSCORE", "z", "0", "1", "WITHSCORES", "LIMIT", "0", "x"],
      ["ZRANGEBYLEX", "z", "-", "+", "REV"], ["ZRANGEBYLEX", "z", "-", "+", "WITHSCORES"], ["ZREVRANGEBYLEX", "z", "+", "[a", "LIMIT", "0"],
      ["ZREMRANGEBYRANK", "z", "x", "1"], ["ZREMRANGEBYRANK", "z", "0", "1.5"], ["ZREMRANGEBYSCORE", "z", "(", "x"],
      ["ZREMRANGEBYLEX", "z", "[a", "b"], ["ZRANGE", "z"], ["ZRANGEBYSCORE", "z", "0"],
    ]);
  });

  test("pop and random member errors", async () => {
    await same("ZADD", "z", "1", "a", "2", "b");
    await sameAll([
      ["ZPOPMIN", "z", "-1"], ["ZPOPMIN", "z", "x"], ["ZPOPMAX", "z", "1", "1"], ["ZPOPMIN", "z", "9223372036854775808"],
      ["ZMPOP", "0", "z", "MIN"], ["ZMPOP", "-1", "z", "MIN"], ["ZMPOP", "x", "z", "MIN"], ["ZMPOP", "1", "z", "LEFT"],
      ["ZMPOP", "2", "z", "MIN"], ["ZMPOP", "1", "z", "MIN", "COUNT", "0"], ["ZMPOP", "1", "z", "MIN", "COUNT", "x"],
      ["ZMPOP", "1", "z", "MIN", "COUNT"], ["ZMPOP", "1", "z", "MIN", "COUNT", "1", "COUNT", "1"], ["ZMPOP", "1", "z", "MIN", "EXTRA"],
      ["ZMPOP", "9223372036854775807", "z", "MIN"], ["ZRANDMEMBER", "z", "-9223372036854775808"],
      ["ZRANDMEMBER", "z", "-9223372036854775807", "WITHSCORES"], ["ZRANDMEMBER", "z", "4611686018427387904", "WITHSCORES"],
      ["ZRANDMEMBER", "z", "-4611686018427387905", "WITHSCORES"], ["ZRANDMEMBER", "z", "-4611686018427387904", "WITHSCORES"],
      ["ZRANDMEMBER", "z", "2", "withscores\x00junk"], ["ZSCAN", "z", "0", "count\x00", "1"],
      ["ZRANDMEMBER", "z", "x"], ["ZRANDMEMBER", "z", "1", "x"],
      ["ZRANDMEMBER", "z", "1", "WITHSCORES", "x"], ["ZRANDMEMBER", "nokey", "x"], ["ZRANDMEMBER", "nokey", "1", "x"],
      ["ZCARD", "z"],
    ]);
  });

  test("set operation errors", async () => {
    await same("ZADD", "z", "1", "a");
    await sameAll([
      ["ZUNION", "0", "z"], ["ZUNION", "-1", "z"], ["ZUNION", "x", "z"], ["ZUNION", "2", "z"], ["ZUNIONSTORE", "d", "0", "z"],
      ["ZINTERSTORE", "d", "3", "z", "z"], ["ZDIFF", "0", "z"], ["ZDIFFSTORE", "d", "0", "z"], ["ZINTERCARD", "0", "z"],
      ["ZINTER", "1", "z", "WEIGHTS"], ["ZINTER", "1", "z", "WEIGHTS", "x"], ["ZINTER", "1", "z", "WEIGHTS", "nan"],
      ["ZINTER", "2", "z", "z", "WEIGHTS", "1"], ["ZUNION", "1", "z", "AGGREGATE"], ["ZUNION", "1", "z", "AGGREGATE", "AVG"],
      ["ZUNION", "1", "z", "AGGREGATE", "sum\x00"], ["ZDIFF", "1", "z", "WEIGHTS", "1"], ["ZDIFF", "1", "z", "AGGREGATE", "SUM"],
      ["ZUNIONSTORE", "d", "1", "z", "WITHSCORES"], ["ZINTERCARD", "1", "z", "WITHSCORES"], ["ZINTERCARD", "1", "z", "WEIGHTS", "1"],
      ["ZINTERCARD", "1", "z", "LIMIT"], ["ZINTERCARD", "1", "z", "LIMIT", "-1"], ["ZINTERCARD", "1", "z", "LIMIT", "x"],
      ["ZINTERCARD", "1", "z", "LIMIT", "0"], ["ZINTERCARD", "1", "z", "LIMIT", "1", "LIMIT", "2"], ["ZUNION", "1", "z", "WITHSCORES", "WITHSCORES"],
      ["EXISTS", "d"],
    ]);
  });
});

// ---------------------------------------------------------------------------------------
// Sets as inputs
// ---------------------------------------------------------------------------------------

describe("sets as inputs of ZUNION, ZINTER, ZDIFF and ZINTERCARD: every member scores 1", () => {
  test("intsets, hashtables, weights, aggregates, stores", async () => {
    await same("FLUSHALL");
    await same("ZADD", "z", "1", "1", "2", "2", "5", "a", "-inf", "b", "0.5", "10", "3", "-7");
    await same("SADD", "ints", "1", "2", "3", "-7", "9223372036854775807");
    await same("SADD", "strs", "a", "b", "c", "1", "01", "\x00");
    await same("OBJECT", "ENCODING", "ints");
    await same("OBJECT", "ENCODING", "strs");
    const keyLists = [["z", "ints"], ["ints", "z"], ["z", "strs"], ["strs", "z", "ints"], ["ints"], ["strs", "strs"], ["ints", "nokey"], ["z", "ints", "strs"]];
    for (const keys of keyLists) {
      const n = String(keys.length);
      for (const options of [[], ["WEIGHTS", ...keys.map((_, i) => String(i + 2))], ["AGGREGATE", "MAX"], ["WEIGHTS", ...keys.map(() => "inf"), "AGGREGATE", "MIN"]]) {
        await same("ZUNION", n, ...keys, ...options, "WITHSCORES");
        await same("ZINTER", n, ...keys, ...options, "WITHSCORES");
        await same("ZUNIONSTORE", "dst", n, ...keys, ...options);
        await same("ZRANGE", "dst", "0", "-1", "WITHSCORES");
        await same("OBJECT", "ENCODING", "dst");
      }
      await same("ZDIFF", n, ...keys, "WITHSCORES");
      await same("ZDIFFSTORE", "dst", n, ...keys);
      await same("ZINTERCARD", n, ...keys);
      await same("DEBUG", "DIGEST");
    }
  });
});

// ---------------------------------------------------------------------------------------
// Encodings
// ---------------------------------------------------------------------------------------

describe("encoding conversions", () => {
  beforeEach(async () => {
    await same("FLUSHALL");
    await same("CONFIG", "SET", "zset-max-listpack-entries", "128");
    await same("CONFIG", "SET", "zset-max-listpack-value", "64");
  });
  afterAll(async () => {
    await same("CONFIG", "SET", "zset-max-listpack-entries", "128");
    await same("CONFIG", "SET", "zset-max-listpack-value", "64");
  });

  const encoding = (key: string): Promise<string> => same("OBJECT", "ENCODING", key);
  const elements = (n: number, prefix = "m"): string[] => Array.from({ length: n }, (_, i) => [String(i), `${prefix}${i}`]).flat();

  test("entries: a listpack up to the limit, a skiplist past it, and never back", async () => {
    await same("ZADD", "z", ...elements(128));
    expect(await encoding("z")).toBe("$8\r\nlistpack\r\n");
    await same("ZADD", "z", "5", "m5");
    await same("ZINCRBY", "z", "1", "m7");
    await same("ZADD", "z", "XX", "1", "new");
    expect(await encoding("z")).toBe("$8\r\nlistpack\r\n");
    await same("ZADD", "z", "1000", "m128");
    expect(await encoding("z")).toBe("$8\r\nskiplist\r\n");
    await same("ZREMRANGEBYRANK", "z", "0", "-3");
    expect(await encoding("z")).toBe("$8\r\nskiplist\r\n");
    await same("ZRANGE", "z", "0", "-1", "WITHSCORES");
    await same("DEBUG", "DIGEST-VALUE", "z");
    // ZADD adds one element at a time, so a new key given the same member many times stays small.
    await same("ZADD", "dup", ...Array.from({ length: 200 }, () => ["1", "same"]).flat());
    expect(await encoding("dup")).toBe("$8\r\nlistpack\r\n");
    await same("ZADD", "many", ...elements(200));
    expect(await encoding("many")).toBe("$8\r\nskiplist\r\n");
  });

  test("member length: the limit itself fits, one byte more does not", async () => {
    await same("ZADD", "z", "1", "x".repeat(64));
    expect(await encoding("z")).toBe("$8\r\nlistpack\r\n");
    await same("ZADD", "z", "2", "y".repeat(65));
    expect(await encoding("z")).toBe("$8\r\nskiplist\r\n");
    // A new key is created as a skiplist when its first member is already too long...
    await same("ZADD", "first", "1", "y".repeat(65), "2", "short");
    expect(await encoding("first")).toBe("$8\r\nskiplist\r\n");
    // ...and only the first member decides at creation.
    await same("ZADD", "second", "1", "short", "2", "y".repeat(65));
    expect(await encoding("second")).toBe("$8\r\nskiplist\r\n");
    // Updating a long member already present is no insertion: no conversion.
    await same("CONFIG", "SET", "zset-max-listpack-value", "100");
    await same("ZADD", "up", "1", "y".repeat(80));
    await same("CONFIG", "SET", "zset-max-listpack-value", "64");
    await same("ZADD", "up", "2", "y".repeat(80));
    await same("ZINCRBY", "up", "2", "y".repeat(80));
    expect(await encoding("up")).toBe("$8\r\nlistpack\r\n");
    await same("ZADD", "up", "NX", "3", "y".repeat(81));
    expect(await encoding("up")).toBe("$8\r\nskiplist\r\n");
  });

  test("zset-max-listpack-entries 0 and a lowered limit", async () => {
    await same("CONFIG", "SET", "zset-max-listpack-entries", "0");
    await same("ZADD", "z", "1", "a");
    expect(await encoding("z")).toBe("$8\r\nskiplist\r\n");
    await same("ZUNIONSTORE", "u", "1", "z");
    expect(await encoding("u")).toBe("$8\r\nskiplist\r\n");
    await same("CONFIG", "SET", "zset-max-listpack-entries", "3");
    await same("ZADD", "y", "1", "a", "2", "b", "3", "c");
    expect(await encoding("y")).toBe("$8\r\nlistpack\r\n");
    await same("ZADD", "y", "4", "d");
    expect(await encoding("y")).toBe("$8\r\nskiplist\r\n");
    await same("CONFIG", "SET", "zset-max-listpack-value", "0");
    await same("ZADD", "e", "1", "");
    expect(await encoding("e")).toBe("$8\r\nlistpack\r\n");
    await same("ZADD", "e", "1", "a");
    expect(await encoding("e")).toBe("$8\r\nskiplist\r\n");
  });

  test("destinations of the STORE commands get the encoding of their result", async () => {
    await same("ZADD", "big", ...elements(200));
    await same("ZADD", "long", "1", "short", "2", "y".repeat(65), "3", "other");
    for (const [command, ...args] of [
      ["ZRANGESTORE", "d", "big", "0", "127"], ["ZRANGESTORE", "d", "big", "0", "128"], ["ZRANGESTORE", "d", "big", "0", "127", "REV"],
      ["ZRANGESTORE", "d", "big", "-inf", "+inf", "BYSCORE", "LIMIT", "0", "128"], ["ZRANGESTORE", "d", "big", "-inf", "+inf", "BYSCORE"],
      ["ZRANGESTORE", "d", "long", "0", "0"], ["ZRANGESTORE", "d", "long", "0", "-1"], ["ZRANGESTORE", "d", "long", "-", "+", "BYLEX"],
      ["ZUNIONSTORE", "d", "1", "big"], ["ZUNIONSTORE", "d", "1", "long"], ["ZINTERSTORE", "d", "2", "big", "long"],
      ["ZDIFFSTORE", "d", "2", "long", "big"], ["ZDIFFSTORE", "d", "1", "long"], ["ZINTERSTORE", "d", "2", "big", "big"],
    ]) {
      await same(command!, ...args);
      await same("OBJECT", "ENCODING", "d");
      await same("ZRANGE", "d", "0", "-1", "WITHSCORES");
      await same("DEBUG", "DIGEST-VALUE", "d");
    }
  });

  test("ZRANGESTORE unsigns the zeros it added while its destination was still a listpack", async () => {
    await same("CONFIG", "SET", "zset-max-listpack-entries", "2");
    await same("ZADD", "src", "-0", "a", "-0", "b", "-0", "c", "-0", "d", "-0", "e");
    for (const form of [["-inf", "+inf", "BYSCORE"], ["+inf", "-inf", "BYSCORE", "REV"], ["0", "-1"], ["0", "1"], ["-", "+", "BYLEX"]]) {
      await same("ZRANGESTORE", "dst", "src", ...form);
      await same("ZRANGE", "dst", "0", "-1", "WITHSCORES");
      await same("OBJECT", "ENCODING", "dst");
    }
    await same("ZUNIONSTORE", "dst", "1", "src");
    await same("ZRANGE", "dst", "0", "-1", "WITHSCORES");
    await same("ZINTERSTORE", "dst", "1", "src", "WEIGHTS", "0");
    await same("ZRANGE", "dst", "0", "-1", "WITHSCORES");
    await same("DEBUG", "DIGEST");
  });

  test("scores as a listpack stores them: integers within 2^62, text otherwise, zero unsigned", async () => {
    const scores = [
      "0", "-0", "1", "-1", "0.5", "0.1", "1e-5", "4503599627370496", "9007199254740993", "1e17", "1e18",
      "4611686018427387904", "-4611686018427387904", "4611686018427388905", "9.3e18", "-9.3e18", "1e308", "inf", "-inf",
    ];
    await same("ZADD", "z", ...scores.flatMap((s, i) => [s, `m${i}`]));
    await same("ZSCAN", "z", "0");
    await same("ZRANGE", "z", "0", "-1", "WITHSCORES");
    await same("DEBUG", "DIGEST-VALUE", "z");
    await same("CONFIG", "SET", "zset-max-listpack-entries", "0");
    await same("ZADD", "s", ...scores.flatMap((s, i) => [s, `m${i}`]));
    await same("ZRANGE", "s", "0", "-1", "WITHSCORES");
    await same("ZSCORE", "s", "m1");
    await same("DEBUG", "DIGEST-VALUE", "s");
  });
});

describe("keyspace statistics", () => {
  test("reads count hits and misses, writes do not, as Redis's lookups do", async () => {
    await same("FLUSHALL");
    await same("ZADD", "z", "1", "a", "2", "b");
    const commands = [
      ["ZSCORE", "z", "a"], ["ZSCORE", "nokey", "a"], ["ZMSCORE", "nokey", "a"], ["ZCARD", "z"], ["ZRANK", "z", "a"], ["ZCOUNT", "z", "0", "1"],
      ["ZLEXCOUNT", "z", "-", "+"], ["ZRANGE", "z", "0", "-1"], ["ZRANGESTORE", "d", "z", "0", "-1"], ["ZRANGESTORE", "d", "nokey", "0", "-1"],
      ["ZUNION", "2", "z", "nokey"], ["ZINTERSTORE", "d", "2", "z", "nokey"], ["ZINTERCARD", "1", "z"], ["ZRANDMEMBER", "z"],
      ["ZRANDMEMBER", "nokey", "2"], ["ZSCAN", "z", "0"], ["ZADD", "z", "3", "c"], ["ZINCRBY", "z", "1", "a"], ["ZREM", "nokey", "a"],
      ["ZPOPMIN", "nokey"], ["ZMPOP", "2", "nokey", "z", "MAX"], ["ZREMRANGEBYRANK", "z", "5", "6"],
    ];
    for (const command of commands) {
      await same("CONFIG", "RESETSTAT");
      // ZRANDMEMBER's pick is random: only its counters are compared.
      if (command[0] === "ZRANDMEMBER") await o.both(...command);
      else await same(...command);
      const [want, got] = await o.both("INFO", "stats");
      const counters = (info: string) => info.split("\r\n").filter((line) => line.startsWith("keyspace_")).join(",");
      expect(`${command.join(" ")}: ${counters(got)}`).toBe(`${command.join(" ")}: ${counters(want)}`);
    }
  });
});

describe("arguments as C strings", () => {
  test("score bounds end at a NUL byte, as strtod reads them", async () => {
    await same("FLUSHALL");
    await same("ZADD", "z", "0", "zero", "1", "a", "2", "b", "3", "c");
    for (const min of ["1\x00junk", "(1\x00", "\x00", "(\x00x", " \x00", "2\x00\x00", "\t2"]) {
      await same("ZRANGEBYSCORE", "z", min, "+inf");
      await same("ZCOUNT", "z", "-inf", min);
    }
    await same("ZRANGEBYLEX", "z", "-\x00x", "+\x00");
    await same("ZRANGEBYLEX", "z", "[a\x00", "+");
  });
});
