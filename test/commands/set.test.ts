// Set commands against the real redis-server 7.0, in RESP2 and RESP3, every error
// included. The suites run twice: on small integer sets (intset, whose replies are ordered
// and compared byte for byte) and on converted sets (hashtable, whose member order is the
// hash table's own, so whole-set replies are compared as multisets behind the same
// header). OBJECT ENCODING and DEBUG DIGEST-VALUE are compared after every step, DEBUG
// DIGEST after every test. SPOP and SRANDMEMBER are random: their replies are checked by
// Redis's rules (how many, which, whether distinct), and after SPOP redbun's set is made
// Redis's again.

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { Oracle, type RespConn, bulkArray } from "../oracle/harness.ts";
import { asMultiset, scanDistinct } from "../oracle/resp.ts";

let o: Oracle;
/** A RESP3 connection to each server. */
let r3: [RespConn, RespConn];

beforeAll(async () => {
  o = await Oracle.start(["--enable-debug-command", "yes"]);
  r3 = await o.connectResp3();
});
afterAll(() => o.stop());
beforeEach(async () => {
  await o.same("FLUSHALL");
  await o.same("CONFIG", "SET", "set-max-intset-entries", "512");
});
afterEach(async () => {
  await o.same("DEBUG", "DIGEST");
});

/** Integers an intset holds, at the edges of each width and of int64. */
const INTS = [
  "0", "1", "-1", "7", "32767", "-32768", "32768", "-32769", "2147483647", "-2147483648", "2147483648",
  "-2147483649", "9007199254740992", "9007199254740993", "-9007199254740993", "9223372036854775807", "-9223372036854775808",
];
/** Members that look numeric but are not int64s Redis would store in an intset, and binary ones. */
const NOT_INTS = [
  "-0", "01", "+1", " 1", "1 ", "1.0", "0x10", "", "9223372036854775808", "-9223372036854775809", "\x00", "a\x00b", "\xff\r\n",
  "x".repeat(100),
];

function expectAgree(args: string[], want: string, got: string, ordered: boolean): void {
  const [a, b] = ordered ? [want, got] : [asMultiset(want), asMultiset(got)];
  if (a !== b) throw new Error(`reply differs for ${JSON.stringify(args)}\n  redis:  ${JSON.stringify(want)}\n  redbun: ${JSON.stringify(got)}`);
}

/**
 * Sends a command to both servers in RESP2 and RESP3 and compares the replies: byte for
 * byte when `ordered`, else as multisets. Then compares the encoding and digest of `keys`
 * (by default the first argument). Returns Redis's RESP2 reply.
 */
async function check(args: string[], ordered = true, keys: string[] = args.length > 1 ? [args[1]!] : []): Promise<string> {
  const [want, got] = await o.both(...args);
  expectAgree(args, want, got, ordered);
  const [want3, got3] = await Promise.all([r3[0].call(...args), r3[1].call(...args)]);
  expectAgree(args, want3, got3, ordered);
  for (const key of keys) {
    await o.same("OBJECT", "ENCODING", key);
    await o.same("DEBUG", "DIGEST-VALUE", key);
  }
  return want;
}

async function checkAll(commands: string[][], ordered = true): Promise<void> {
  for (const c of commands) await check(c, ordered);
}

/**
 * A write whose reply is deterministic, sent once (RESP2) and compared like check's, then
 * the encodings and digests of `keys`.
 */
async function write(args: string[], keys: string[] = [args[1]!], ordered = true): Promise<string> {
  const [reply, got] = await o.both(...args);
  expectAgree(args, reply, got, ordered);
  for (const key of keys) {
    await o.same("OBJECT", "ENCODING", key);
    await o.same("DEBUG", "DIGEST-VALUE", key);
  }
  return reply;
}

/** Members on one server, sorted. */
async function membersOn(conn: RespConn, key: string): Promise<string[]> {
  return bulkArray(await conn.call("SMEMBERS", key)).sort();
}

const range = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));

for (const mode of ["intset", "hashtable"] as const) {
  describe(`${mode} sets`, () => {
    /** Whole-set replies of this suite's sets are ordered only when they are intsets. */
    const ordered = mode === "intset";

    /**
     * Creates `key` with these members in this suite's encoding: an intset of integers as
     * SADD makes it, or a hashtable by adding and removing a string member (Redis never
     * converts back).
     */
    async function fill(key: string, members: string[]): Promise<void> {
      await o.same("SADD", key, ...members);
      if (mode === "hashtable") {
        await o.same("SADD", key, "not an integer");
        await o.same("SREM", key, "not an integer");
      }
      expect(await o.encodingOf(key)).toBe(mode);
      await o.same("OBJECT", "ENCODING", key);
      await o.same("DEBUG", "DIGEST-VALUE", key);
    }

    test("SADD, SREM, SCARD, SISMEMBER, SMISMEMBER", async () => {
      await fill("s", range(1, 5));
      await write(["SADD", "s", "3", "4", "5", "6", "6"]);
      await write(["SADD", "s", "6"]);
      await checkAll([
        ["SCARD", "s"], ["SISMEMBER", "s", "3"], ["SISMEMBER", "s", "99"], ["SISMEMBER", "s", "x"], ["SISMEMBER", "s", ""],
        ["SISMEMBER", "s", "03"], ["SISMEMBER", "s", "-0"], ["SISMEMBER", "s", "+3"], ["SMISMEMBER", "s", "1", "99", "x", "3", "1"],
      ]);
      await check(["SMEMBERS", "s"], ordered);
      await write(["SREM", "s", "1", "1", "99", "x", "01"]);
      await check(["SMEMBERS", "s"], ordered);
      await write(["SREM", "s", "2", "3", "4", "5", "6", "7"]);
      await checkAll([["EXISTS", "s"], ["SCARD", "s"], ["SMEMBERS", "s"], ["SISMEMBER", "s", "2"], ["SMISMEMBER", "s", "2", "x"]]);
      await write(["SREM", "s", "1"]);
    });

    test("members of every width, int64 edges and binary strings", async () => {
      await fill("s", INTS);
      await checkAll([["SMEMBERS", "s"], ["SCARD", "s"]], ordered);
      for (const m of [...INTS, ...NOT_INTS]) await check(["SISMEMBER", "s", m]);
      await check(["SMISMEMBER", "s", ...INTS, ...NOT_INTS]);
      // Each non-integer turns an intset into a hashtable; for a hashtable it is one more member.
      for (const m of NOT_INTS) {
        await fill("t", ["5", "-5"]);
        await write(["SADD", "t", m]);
        await checkAll([["SMEMBERS", "t"], ["SISMEMBER", "t", m], ["SISMEMBER", "t", "5"]], false);
        await write(["SREM", "t", m, "5", "-5"]);
      }
      await write(["SADD", "u", ...NOT_INTS]);
      await check(["SMEMBERS", "u"], false);
      await write(["SREM", "u", ...NOT_INTS.slice(0, 5)]);
      await check(["SMEMBERS", "u"], false);
    });

    test("SMEMBERS of a large set", async () => {
      await fill("s", range(-250, 250));
      await check(["SMEMBERS", "s"], ordered);
      await write(["SADD", "big", ...range(1, 3000)]);
      await write(["SADD", "big", ...range(1, 3000).map((n) => `m${n}`)]);
      await checkAll([["SMEMBERS", "big"], ["SCARD", "big"]], false);
    });

    test("SINTER, SINTERSTORE, SINTERCARD", async () => {
      await fill("a", range(1, 10));
      await fill("b", range(5, 15));
      await fill("c", range(8, 20));
      await write(["SADD", "w", "x", "y", "9", "10", "11"]);
      await checkAll([
        ["SINTER", "a", "b", "c"], ["SINTER", "c", "b", "a"], ["SINTER", "a"], ["SINTER", "a", "a"], ["SINTER", "a", "a", "b"],
        ["SINTER", "c", "a"],
      ], ordered);
      // The smallest set is walked: here the hashtable, then the intset (or not) `a`.
      await checkAll([["SINTER", "a", "w"], ["SINTER", "w", "a"]], false);
      await write(["SADD", "wide", "x", ...range(0, 40)]);
      await checkAll([["SINTER", "wide", "a"], ["SINTER", "a", "wide", "b"]], ordered);
      await checkAll([
        ["SINTER", "a", "missing"], ["SINTER", "missing", "a"], ["SINTER", "missing"],
        ["SINTERCARD", "3", "a", "b", "c"], ["SINTERCARD", "1", "a"], ["SINTERCARD", "2", "a", "a"], ["SINTERCARD", "2", "a", "missing"],
        ["SINTERCARD", "2", "a", "b", "LIMIT", "0"], ["SINTERCARD", "2", "a", "b", "LIMIT", "1"], ["SINTERCARD", "2", "a", "b", "limit", "6"],
        ["SINTERCARD", "2", "a", "b", "LIMIT", "7"], ["SINTERCARD", "2", "a", "b", "LIMIT", "9223372036854775807"],
        ["SINTERCARD", "2", "a", "b", "LIMIT", "1", "LIMIT", "3"], ["SINTERCARD", "2", "a", "w"],
      ]);
      for (const sources of [["a", "b", "c"], ["a", "w"], ["w", "w"], ["a"], ["a", "missing"], ["a", "d"], ["d"]]) {
        await write(["SINTERSTORE", "d", ...sources]);
        await check(["SMEMBERS", "d"], false);
      }
      // The destination loses its time to live and its old value, whatever its type.
      await write(["SADD", "e", "1"]);
      await o.same("EXPIRE", "e", "1000");
      await write(["SINTERSTORE", "e", "a", "b"]);
      await o.same("TTL", "e");
      await o.same("SET", "str", "v");
      await write(["SINTERSTORE", "str", "a", "b"]);
      await o.same("TYPE", "str");
    });

    test("SUNION, SDIFF and their STORE forms", async () => {
      await fill("a", range(1, 10));
      await fill("b", range(5, 15));
      await write(["SADD", "w", "x", "y", "9"]);
      await checkAll([
        ["SUNION", "a", "b"], ["SUNION", "a"], ["SUNION", "a", "a", "missing"], ["SDIFF", "a", "b"], ["SDIFF", "b", "a"],
        ["SDIFF", "a", "missing"], ["SDIFF", "a", "b", "a"], ["SDIFF", "a", "a"],
      ]);
      await checkAll([
        ["SUNION", "a", "w"], ["SUNION", "missing", "w"], ["SDIFF", "w", "a"], ["SDIFF", "a", "w"], ["SDIFF", "missing", "a"],
        ["SUNION", "missing"], ["SDIFF", "missing"],
      ], false);
      for (const [command, sources] of [
        ["SUNIONSTORE", ["a", "b"]], ["SUNIONSTORE", ["a", "w"]], ["SUNIONSTORE", ["missing"]], ["SDIFFSTORE", ["a", "b"]],
        ["SDIFFSTORE", ["w", "a"]], ["SDIFFSTORE", ["a", "a"]], ["SDIFFSTORE", ["a", "w", "missing"]], ["SUNIONSTORE", ["d", "a"]],
        ["SDIFFSTORE", ["d", "d"]],
      ] as const) {
        await write([command, "d", ...sources]);
        await check(["SMEMBERS", "d"], false);
      }
      await write(["SADD", "e", "1"]);
      await o.same("PEXPIRE", "e", "100000");
      await write(["SUNIONSTORE", "e", "a", "b"]);
      await o.same("TTL", "e");
    });

    test("SDIFFSTORE picks Redis's algorithm, which decides the result's encoding", async () => {
      // Removing from a copy (algorithm 2) has made the result a hashtable when the first
      // set held a string; testing each member (algorithm 1) never adds the string.
      await write(["SADD", "first", "x", ...range(1, 7)]);
      await write(["SADD", "one", "x"]);
      await write(["SADD", "other", "y"]);
      await fill("ints", range(100, 103));
      for (const sources of [["first", "one", "other"], ["first", "one"], ["first", "one", "missing", "other"],
        ["first", "one", "other", "missing"], ["first", "ints", "one"], ["first", "one", "other", "ints"]]) {
        await write(["SDIFFSTORE", "d", ...sources]);
        await check(["SDIFF", ...sources], false, []);
      }
    });

    test("SMOVE", async () => {
      await fill("a", range(1, 5));
      await fill("b", range(4, 8));
      await write(["SMOVE", "a", "b", "1"], ["a", "b"]);
      await write(["SMOVE", "a", "b", "4"], ["a", "b"]);
      await write(["SMOVE", "a", "b", "99"], ["a", "b"]);
      await write(["SMOVE", "a", "b", "x"], ["a", "b"]);
      await write(["SMOVE", "a", "a", "2"], ["a"]);
      await write(["SMOVE", "a", "a", "99"], ["a"]);
      await write(["SMOVE", "missing", "a", "2"], ["a"]);
      // A new destination is made for the member: an intset for an integer, else a hashtable.
      await write(["SMOVE", "a", "new", "2"], ["a", "new"]);
      await write(["SADD", "strings", "p", "q"]);
      await write(["SMOVE", "strings", "new2", "p"], ["strings", "new2"]);
      await write(["SMOVE", "strings", "new", "q"], ["strings", "new"]);
      await write(["SMOVE", "new2", "a", "p"], ["new2", "a"]);
      await checkAll([["EXISTS", "strings", "new2"], ["SMEMBERS", "a"], ["SMEMBERS", "b"], ["SMEMBERS", "new"]], false);
      // The last member moves out and the source key goes.
      await write(["SMOVE", "new", "b", "2"], ["new", "b"]);
      await write(["SMOVE", "new", "b", "q"], ["new", "b"]);
      await check(["EXISTS", "new"]);
    });

    test("COPY, RENAME and MOVE keep members and encoding", async () => {
      await fill("s", range(1, 20));
      await write(["COPY", "s", "c"], ["s", "c"]);
      await write(["SADD", "c", "21", "x"], ["s", "c"]);
      await write(["SREM", "s", "1"], ["s", "c"]);
      await write(["RENAME", "c", "r"], ["r"]);
      await write(["MOVE", "s", "1"], ["s"]);
      await o.same("SELECT", "1");
      await check(["SMEMBERS", "s"], ordered);
      await o.same("SELECT", "0");
    });

    test("SRANDMEMBER without and with counts", async () => {
      const members = range(1, 30);
      await fill("s", members);
      for (const count of [null, "0", "1", "-1", "2", "9", "10", "11", "29", "-3", "-30", "-100", "-29"]) {
        await checkRandom(["SRANDMEMBER", "s", ...(count === null ? [] : [count])], members);
      }
      // Counts of at least the size return the whole set in its own order.
      for (const count of ["30", "31", "9223372036854775807"]) await check(["SRANDMEMBER", "s", count], ordered);
      await checkAll([["SRANDMEMBER", "missing"], ["SRANDMEMBER", "missing", "5"], ["SRANDMEMBER", "missing", "-5"], ["SRANDMEMBER", "missing", "0"]]);
      await write(["SADD", "one", "x"]);
      await checkAll([["SRANDMEMBER", "one"], ["SRANDMEMBER", "one", "-3"], ["SRANDMEMBER", "one", "3"]]);
    });

    test("SPOP without and with counts", async () => {
      const members = range(1, 40);
      await fill("s", members);
      await checkPop(["SPOP", "s"], "s");
      // Counts up to 33 of 40 pop members one by one; from 34 the members that stay are picked.
      for (const count of ["0", "1", "3", "7", "20", "33", "34", "35", "39"]) {
        await o.same("DEL", "s");
        await fill("s", members);
        await checkPop(["SPOP", "s", count], "s");
      }
      await checkAll([["SPOP", "missing"], ["SPOP", "missing", "3"], ["SPOP", "missing", "0"]]);
      // RESP3 replies with a set: the members popped one by one, or those left after picking
      // the few that stay.
      for (const count of ["2", "4"]) {
        await fill("t", range(1, 5));
        await checkRandom(["SPOP", "t", count], range(1, 5), r3);
        await resync("t");
      }
      // A count of at least the size pops everything, in the order of Redis's union.
      await fill("t", range(1, 5));
      await write(["SPOP", "t", "5"]);
      await fill("t", range(1, 5));
      await write(["SPOP", "t", "9223372036854775807"]);
      await check(["EXISTS", "t"]);
      await fill("t", ["7"]);
      await write(["SPOP", "t"]);
      await check(["EXISTS", "t"]);
    });

    test("SPOP of most of a set keeps the time to live and rebuilds the set as Redis does", async () => {
      await fill("s", range(1, 20));
      await o.same("EXPIRE", "s", "1000");
      await checkPop(["SPOP", "s", "18"], "s", async () => {
        await o.same("TTL", "s");
      });
      // A hashtable of strings stays one; of integers, what stays is rebuilt as an intset
      // unless it is more than set-max-intset-entries.
      await write(["SADD", "strings", ...range(1, 20).map((n) => `m${n}`)]);
      await checkPop(["SPOP", "strings", "17"], "strings");
      await fill("s2", range(1, 30));
      await o.same("CONFIG", "SET", "set-max-intset-entries", "2");
      await checkPop(["SPOP", "s2", "26"], "s2");
    });

    test("SSCAN", async () => {
      await fill("s", range(1, 60));
      if (mode === "intset") {
        // An intset replies whole, with cursor 0, whatever the cursor and COUNT.
        await checkAll([
          ["SSCAN", "s", "0"], ["SSCAN", "s", "123"], ["SSCAN", "s", "0", "COUNT", "1"], ["SSCAN", "s", "0", "MATCH", "1*"],
          ["SSCAN", "s", "0", "MATCH", "*", "COUNT", "1000"], ["SSCAN", "s", "0", "match", "[2-3]?", "count", "2"],
        ]);
      }
      for (const options of [[], ["COUNT", "1"], ["COUNT", "7"], ["COUNT", "1000"], ["MATCH", "1*"], ["MATCH", "*5", "COUNT", "3"]]) {
        const args = ["SSCAN", "s", "0", ...options];
        expect(await scanDistinct(o.b, args)).toEqual(await scanDistinct(o.r, args));
      }
      await write(["SADD", "t", ...range(1, 20).map((n) => `m${n}`), "\x00", ""]);
      for (const options of [[], ["COUNT", "2"], ["MATCH", "m1*"], ["MATCH", "\x00"]]) {
        const args = ["SSCAN", "t", "0", ...options];
        expect(await scanDistinct(o.b, args)).toEqual(await scanDistinct(o.r, args));
      }
      await checkAll([["SSCAN", "missing", "0"], ["SSCAN", "missing", "7", "COUNT", "0"], ["SSCAN", "missing", "0", "BAD"]]);
    });
  });
}

/**
 * Checks an SRANDMEMBER or SPOP reply on each server by Redis's rules for `members` (the
 * set before the command): the same reply type and length, only members, distinct unless
 * the count is negative, every member when the count covers the set.
 */
async function checkRandom(args: string[], members: string[], conns: RespConn[] = [o.r, o.b]): Promise<[string, string]> {
  const replies = (await Promise.all(conns.map((conn) => conn.call(...args)))) as [string, string];
  const [want, got] = replies;
  const count = args.length > 2 ? Number(args[2]) : null;
  for (const reply of replies) {
    if (count === null) {
      expect(reply[0]).toBe("$");
      expect(members).toContain(bulkArray(`*1\r\n${reply}`)[0]!);
      continue;
    }
    const items = bulkArray(reply);
    for (const item of items) expect(members).toContain(item);
    if (count >= 0) expect(new Set(items).size).toBe(items.length);
    if (count >= members.length) expect(items.sort()).toEqual([...members].sort());
  }
  // The same reply type and, for an aggregate, the same length.
  const head = (reply: string) => (count === null ? reply[0] : reply.slice(0, reply.indexOf("\r\n")));
  expect(head(got)).toBe(head(want)!);
  return replies;
}

/**
 * SPOP on both servers: checks the replies with checkRandom, that each server kept exactly
 * the members it did not pop, the same count and encoding as Redis, then runs `after` and
 * makes redbun's set Redis's again.
 */
async function checkPop(args: string[], key: string, after?: () => Promise<void>): Promise<void> {
  const before = await membersOn(o.r, key);
  expect(await membersOn(o.b, key)).toEqual(before);
  const replies = await checkRandom(args, before);
  const conns = [o.r, o.b];
  for (let k = 0; k < 2; k++) {
    const popped = args.length > 2 ? bulkArray(replies[k]!) : bulkArray(`*1\r\n${replies[k]}`);
    const kept = await membersOn(conns[k]!, key);
    expect([...kept, ...popped].sort()).toEqual(before);
  }
  await o.same("SCARD", key);
  await o.same("OBJECT", "ENCODING", key);
  if (after !== undefined) await after();
  await resync(key);
}

/** Rebuilds key on both servers from Redis's members, in Redis's encoding. */
async function resync(key: string): Promise<void> {
  const encoding = await o.encodingOf(key);
  const members = await membersOn(o.r, key);
  await o.same("DEL", key);
  if (members.length === 0) return;
  await o.same("SADD", key, ...members);
  if (encoding === "hashtable") {
    await o.same("SADD", key, "\x00resync");
    await o.same("SREM", key, "\x00resync");
  }
  await o.same("OBJECT", "ENCODING", key);
}

describe("errors", () => {
  beforeEach(async () => {
    await o.same("SET", "str", "v");
    await o.same("SADD", "s", "1", "2", "3");
  });

  test("WRONGTYPE from every command, before or after a missing key", async () => {
    await checkAll([
      ["SADD", "str", "1"], ["SREM", "str", "1"], ["SMEMBERS", "str"], ["SISMEMBER", "str", "1"], ["SMISMEMBER", "str", "1"],
      ["SCARD", "str"], ["SPOP", "str"], ["SPOP", "str", "0"], ["SPOP", "str", "2"], ["SRANDMEMBER", "str"],
      ["SRANDMEMBER", "str", "0"], ["SRANDMEMBER", "str", "-2"], ["SMOVE", "str", "s", "1"], ["SMOVE", "s", "str", "1"],
      ["SMOVE", "s", "str", "9"], ["SMOVE", "str", "str", "1"], ["SINTER", "s", "str"], ["SINTER", "missing", "str"],
      ["SINTER", "str", "missing"], ["SINTERSTORE", "d", "missing", "str"], ["SINTERCARD", "2", "missing", "str"],
      ["SINTERCARD", "2", "str", "s", "LIMIT", "1"], ["SUNION", "s", "str"], ["SUNIONSTORE", "d", "missing", "str"],
      ["SDIFF", "missing", "str"], ["SDIFF", "s", "str"], ["SDIFFSTORE", "d", "s", "str"], ["SSCAN", "str", "0"],
      ["SSCAN", "str", "0", "COUNT", "0"],
    ], true);
    // A string destination is simply replaced by the STORE forms.
    await check(["SUNIONSTORE", "str", "s"]);
    await check(["TYPE", "str"]);
  });

  test("wrong argument counts", async () => {
    await checkAll([
      ["SADD", "s"], ["SREM", "s"], ["SMEMBERS"], ["SMEMBERS", "s", "t"], ["SISMEMBER", "s"], ["SISMEMBER", "s", "1", "2"],
      ["SMISMEMBER", "s"], ["SCARD"], ["SCARD", "s", "t"], ["SPOP"], ["SRANDMEMBER"], ["SMOVE", "s", "t"],
      ["SMOVE", "s", "t", "1", "2"], ["SINTER"], ["SINTERSTORE", "d"], ["SINTERCARD", "1"], ["SUNION"], ["SUNIONSTORE", "d"],
      ["SDIFF"], ["SDIFFSTORE", "d"], ["SSCAN", "s"],
    ]);
  });

  test("SPOP and SRANDMEMBER counts", async () => {
    await checkAll([
      ["SPOP", "s", "-1"], ["SPOP", "s", "x"], ["SPOP", "s", ""], ["SPOP", "s", "1.5"], ["SPOP", "str", "-1"], ["SPOP", "missing", "-1"],
      ["SPOP", "s", "9223372036854775808"], ["SPOP", "s", "1", "2"], ["SPOP", "missing", "1", "2"], ["SPOP", "s", "-9223372036854775808"],
      ["SRANDMEMBER", "s", "x"], ["SRANDMEMBER", "str", "x"], ["SRANDMEMBER", "s", "-9223372036854775808"],
      ["SRANDMEMBER", "missing", "-9223372036854775808"], ["SRANDMEMBER", "s", "9223372036854775808"], ["SRANDMEMBER", "s", "1", "2"],
      ["SRANDMEMBER", "s", "0"], ["SRANDMEMBER", "s", "3"], ["SPOP", "s", "0"], ["SCARD", "s"],
    ]);
  });

  test("SINTERCARD numkeys and LIMIT", async () => {
    await checkAll([
      ["SINTERCARD", "0", "s"], ["SINTERCARD", "-1", "s"], ["SINTERCARD", "x", "s"], ["SINTERCARD", "", "s"],
      ["SINTERCARD", "2", "s"], ["SINTERCARD", "9223372036854775807", "s"], ["SINTERCARD", "9223372036854775808", "s"],
      ["SINTERCARD", "1", "s", "LIMIT"], ["SINTERCARD", "1", "s", "LIMIT", "-1"], ["SINTERCARD", "1", "s", "LIMIT", "x"],
      ["SINTERCARD", "1", "s", "LIMIT", "9223372036854775808"], ["SINTERCARD", "1", "s", "FOO", "1"], ["SINTERCARD", "1", "s", "s"],
      ["SINTERCARD", "1", "missing", "str"], ["SINTERCARD", "1", "s", "LIMIT", "1", "LIMIT"], ["SINTERCARD", "1", "s", "LIMIT", "-1", "FOO"],
    ]);
  });

  test("SSCAN cursor and options", async () => {
    await checkAll([
      ["SSCAN", "s", "x"], ["SSCAN", "s", "-1"], ["SSCAN", "s", "18446744073709551616"], ["SSCAN", "s", ""], ["SSCAN", "s", "1x"],
      ["SSCAN", "s", "0", "COUNT", "0"], ["SSCAN", "s", "0", "COUNT", "-1"], ["SSCAN", "s", "0", "COUNT", "x"],
      ["SSCAN", "s", "0", "COUNT"], ["SSCAN", "s", "0", "MATCH"], ["SSCAN", "s", "0", "TYPE", "set"], ["SSCAN", "s", "0", "FOO", "1"],
      ["SSCAN", "s", "0", "NOVALUES"], ["SSCAN", "missing", "x"], ["SSCAN", "missing", "0", "COUNT", "x"],
      ["SSCAN", "s", "0", "COUNT", "9223372036854775807"], ["SSCAN", "s", "0", "MATCH", "[", "COUNT", "5"],
      ["SSCAN", "s", "0", "count\x00junk", "5"], ["SSCAN", "s", "0", "match\x00", "1*"],
    ]);
  });
});

describe("set-max-intset-entries", () => {
  test("an intset converts when it grows past the limit, never back", async () => {
    await o.same("CONFIG", "SET", "set-max-intset-entries", "4");
    await write(["SADD", "s", "1", "2", "3", "4"]);
    await write(["SADD", "s", "4", "3"]);
    await write(["SADD", "s", "5"]);
    await write(["SREM", "s", "1", "2", "3", "4"]);
    await write(["SADD", "t", "1", "2", "3", "4", "5", "6"]);
    await write(["SADD", "u", "1", "2", "3"]);
    await o.same("CONFIG", "SET", "set-max-intset-entries", "2");
    // Lowering the limit converts nothing until the next member is added.
    await write(["SADD", "u", "3"]);
    await write(["SADD", "u", "4"]);
    await o.same("CONFIG", "SET", "set-max-intset-entries", "0");
    await write(["SADD", "z", "1"]);
  });

  test("at the default of 512", async () => {
    await write(["SADD", "s", ...range(1, 512)]);
    await write(["SADD", "s", "513"]);
    await write(["SADD", "t", ...range(1, 513)]);
  });

  test("results of SINTERSTORE, SUNIONSTORE, SDIFFSTORE, SMOVE and SPOP", async () => {
    await o.same("CONFIG", "SET", "set-max-intset-entries", "5");
    await write(["SADD", "a", ...range(1, 5)]);
    await write(["SADD", "b", ...range(4, 8)]);
    await write(["SUNIONSTORE", "u", "a", "b"]);
    await write(["SINTERSTORE", "i", "a", "b"]);
    await write(["SDIFFSTORE", "d", "u", "b"]);
    await write(["SMOVE", "b", "a", "8"], ["a", "b"]);
    await write(["SADD", "big", ...range(1, 12)]);
    await write(["SPOP", "big", "12"], ["big"], false);
    await write(["SADD", "big", "1", "2", "3", "4", "5", "6"]);
    await write(["SINTERSTORE", "i", "big", "big"]);
    await write(["SUNIONSTORE", "u", "a"]);
  });

  test("the limit is capped at 2^30", async () => {
    await o.same("CONFIG", "SET", "set-max-intset-entries", "9223372036854775807");
    await write(["SADD", "s", ...range(1, 100)]);
    await o.same("CONFIG", "GET", "set-max-intset-entries");
  });
});

describe("across the server", () => {
  test("keyspace hits and misses count as Redis's lookups do", async () => {
    await o.same("SADD", "a", "1", "2");
    await o.same("SADD", "b", "x");
    await o.same("CONFIG", "RESETSTAT");
    const commands = [
      ["SADD", "a", "3"], ["SREM", "missing", "1"], ["SMEMBERS", "a"], ["SISMEMBER", "missing", "1"], ["SMISMEMBER", "a", "1"],
      ["SCARD", "b"], ["SINTER", "a", "missing", "b"], ["SINTERSTORE", "d", "a", "b"], ["SINTERCARD", "2", "a", "a"],
      ["SUNION", "a", "missing"], ["SDIFFSTORE", "d", "a", "b"], ["SMOVE", "a", "b", "1"], ["SRANDMEMBER", "missing"],
      ["SSCAN", "a", "0"], ["SPOP", "a", "10"],
    ];
    for (const c of commands) await o.both(...c);
    const stats = async (conn: RespConn) => (await conn.call("INFO", "stats")).split("\r\n").filter((l) => l.startsWith("keyspace_"));
    expect(await stats(o.b)).toEqual(await stats(o.r));
  });

  test("DEBUG DIGEST over sets of both encodings in several databases", async () => {
    await o.same("SADD", "a", ...INTS);
    await o.same("SADD", "b", ...NOT_INTS);
    await o.same("SELECT", "3");
    await o.same("SADD", "a", ...range(1, 600));
    await o.same("EXPIRE", "a", "1000");
    await o.same("DEBUG", "DIGEST-VALUE", "a");
    await o.same("DEBUG", "DIGEST");
    await o.same("SELECT", "0");
  });
});
