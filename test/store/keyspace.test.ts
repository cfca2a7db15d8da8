// Binary keys and values through every path of the keyspace table, against the real
// redis-server: keys with NUL, CR LF and high bytes, the empty key, keys around the
// table's short/long key boundary (255 bytes) and one too long for a shared slab page;
// values around every representation boundary (inline bytes up to 255, numbers, int64
// beyond 2^53, objects for longer strings). Each key/value pair goes through writes,
// reads, in-place edits, renames, copies, moves, expiry and the DEBUG digests.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { Oracle } from "../oracle/harness.ts";

const KEYS = [
  "", "\x00", "\xff\xfe\x80", "a\r\nb", "k".repeat(254), "k".repeat(255), "\x00".repeat(256), "x".repeat(70_000),
];
const VALUES = [
  "", "\x00\xff\r\n", "e".repeat(44), "r".repeat(45), "i".repeat(255), "o".repeat(256), "b\x00".repeat(35_000),
  "123", "-9223372036854775808", "9007199254740993", "9223372036854775808", "0", "01",
];

let o: Oracle;
beforeAll(async () => {
  o = await Oracle.start(["--enable-debug-command", "yes"]);
});
afterAll(() => o.stop());
beforeEach(async () => {
  await o.same("SELECT", "0");
  await o.same("FLUSHALL");
});

/** The reply's bulk strings of an array reply, sorted (for KEYS and SCAN, whose order is the table's). */
function sortedBulks(reply: string): string[] {
  const items: string[] = [];
  let pos = 0;
  for (;;) {
    const at = reply.indexOf("$", pos);
    if (at < 0) break;
    const lineEnd = reply.indexOf("\r\n", at);
    const len = Number(reply.slice(at + 1, lineEnd));
    items.push(reply.slice(lineEnd + 2, lineEnd + 2 + len));
    pos = lineEnd + 4 + len;
  }
  return items.sort();
}

describe("binary keys and values", () => {
  test("reads and writes of every key with every value", async () => {
    for (const key of KEYS) {
      for (const value of VALUES) {
        await o.sameAll([
          ["SET", key, value], ["GET", key], ["STRLEN", key], ["OBJECT", "ENCODING", key], ["EXISTS", key, key],
          ["TYPE", key], ["GETRANGE", key, "1", "-2"], ["MGET", key, "missing", key], ["DEBUG", "DIGEST-VALUE", key],
        ]);
      }
      await o.same("DEBUG", "DIGEST");
      await o.sameAll([["GETDEL", key], ["GET", key], ["GETSET", key, "v"], ["GETSET", key, VALUES[6]!], ["DEL", key, key]]);
    }
  });

  test("in-place edits cross every representation boundary", async () => {
    for (const key of KEYS) {
      await o.sameAll([
        ["SET", key, "12"], ["INCR", key], ["APPEND", key, "x".repeat(250)], ["STRLEN", key], ["OBJECT", "ENCODING", key],
        ["APPEND", key, "yz"], ["GET", key], ["SETRANGE", key, "300", "\x00end"], ["GET", key], ["STRLEN", key],
        ["SET", key, "9007199254740990"], ["INCRBY", key, "5"], ["GET", key], ["DECRBY", key, "10"], ["INCRBYFLOAT", key, "0.5"],
        ["OBJECT", "ENCODING", key], ["SET", key, "9223372036854775806"], ["INCR", key], ["INCR", key], ["GET", key],
        ["SETRANGE", key, "0", "abc"], ["GET", key], ["DEL", key], ["SETRANGE", key, "254", "\xff"], ["GET", key],
        ["DEL", key], ["APPEND", key, "1"], ["OBJECT", "ENCODING", key], ["INCR", key], ["LCS", key, key], ["DEBUG", "DIGEST"],
      ]);
    }
  });

  test("multi-key writes, renames, copies and moves keep bytes and times to live", async () => {
    const pairs = KEYS.flatMap((key, i) => [key, VALUES[i % VALUES.length]!]);
    await o.same("MSET", ...pairs);
    await o.same("MGET", ...KEYS);
    await o.same("MSETNX", ...pairs);
    for (const [i, key] of KEYS.entries()) {
      const other = `${key}\x01`;
      await o.sameAll([
        ["PEXPIREAT", key, String(99999999999000 + i)], ["RENAME", key, other], ["GET", other], ["PEXPIRETIME", other],
        ["RENAMENX", other, key], ["EXISTS", other], ["COPY", key, other], ["GET", other], ["PEXPIRETIME", other],
        ["COPY", key, other, "DB", "3"], ["MOVE", other, "3"], ["COPY", key, other, "DB", "3", "REPLACE"], ["MOVE", key, "2"],
        ["SELECT", "2"], ["GET", key], ["PEXPIRETIME", key], ["SELECT", "3"], ["GET", other], ["PEXPIRETIME", other],
        ["SELECT", "0"], ["SETNX", key, "again"], ["GET", key], ["PERSIST", other], ["TTL", other],
      ]);
    }
    await o.same("DEBUG", "DIGEST");
    await o.sameAll([["SWAPDB", "0", "2"], ["DBSIZE"], ["DEBUG", "DIGEST"], ["FLUSHDB"], ["DBSIZE"], ["DEBUG", "DIGEST"]]);
  });

  test("KEYS, SCAN and RANDOMKEY return keys byte for byte", async () => {
    for (const key of KEYS) await o.same("SET", key, "v");
    const [wantKeys, gotKeys] = await o.both("KEYS", "*");
    expect(sortedBulks(gotKeys)).toEqual(sortedBulks(wantKeys));
    const [wantMatch, gotMatch] = await o.both("KEYS", "*\x00*");
    expect(sortedBulks(gotMatch)).toEqual(sortedBulks(wantMatch));
    const scanned: string[] = [];
    let cursor = "0";
    do {
      const reply = await o.b.call("SCAN", cursor, "COUNT", "3");
      cursor = reply.split("\r\n")[2]!;
      scanned.push(...sortedBulks(reply.slice(reply.indexOf("*", 1))));
    } while (cursor !== "0");
    expect([...new Set(scanned)].sort()).toEqual(sortedBulks(wantKeys));
    for (const key of KEYS) {
      await o.sameAll([["FLUSHDB"], ["SET", key, "only"], ["RANDOMKEY"], ["EXPIRE", key, "100"], ["TTL", key], ["DEL", key]]);
    }
  });

  test("SET options and expiry on binary keys", async () => {
    for (const key of KEYS) {
      await o.sameAll([
        ["SET", key, "1", "EX", "100"], ["TTL", key], ["SET", key, "2", "KEEPTTL", "GET"], ["TTL", key], ["SET", key, "3", "XX"],
        ["TTL", key], ["SET", key, "4", "NX", "GET"], ["SETEX", key, "50", "x".repeat(300)], ["GETEX", key, "PERSIST"],
        ["TTL", key], ["PSETEX", key, "100000", "gone"], ["GETEX", key, "PXAT", "1"], ["EXISTS", key],
      ]);
    }
  });
});
