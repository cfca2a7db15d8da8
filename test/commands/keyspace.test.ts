// Keyspace commands against the real redis-server: every reply byte for byte, except where
// Redis's own order is a hash-table accident (KEYS, SCAN), where the keys are compared as
// sorted lists.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { Oracle, RespConn, replyEnd } from "../oracle/harness.ts";
import { rawItems, scanAll as scanIteration } from "../oracle/resp.ts";

let o: Oracle;
beforeAll(async () => {
  o = await Oracle.start();
});
afterAll(() => o.stop());
beforeEach(async () => {
  await o.same("SELECT", "0");
  await o.same("FLUSHALL");
});

/** The elements of an array reply as raw RESP strings, sorted: order-free comparison. */
function sortedElements(reply: string): string[] {
  return rawItems(reply).sort();
}

/** Send to both and compare array replies without regard to order. */
async function sameSet(...args: string[]): Promise<string[]> {
  const [want, got] = await o.both(...args);
  expect(got.slice(0, got.indexOf("\r\n"))).toBe(want.slice(0, want.indexOf("\r\n")));
  expect(sortedElements(got)).toEqual(sortedElements(want));
  return sortedElements(want);
}

/** Run a whole SCAN on one connection and return every key it gave, with repeats. */
function scanAll(conn: RespConn, ...options: string[]): Promise<string[]> {
  return scanIteration(conn, ["SCAN", "0", ...options]);
}

const BINARY_KEYS = ["\x00", "\xff", "a\x00b", "\xff\xfe\x00\r\n", ""];

describe("DEL UNLINK EXISTS TOUCH TYPE", () => {
  test("count existing keys, repeats included", async () => {
    await o.sameAll([["SET", "a", "1"], ["SET", "b", "2"], ["SET", "c", "3"]]);
    expect(await o.same("EXISTS", "a", "a", "b", "nokey")).toBe(":3\r\n");
    await o.same("TOUCH", "a", "nokey", "b", "b");
    expect(await o.same("DEL", "a", "a", "nokey")).toBe(":1\r\n");
    await o.same("UNLINK", "b", "c", "b");
    await o.same("EXISTS", "a", "b", "c");
    await o.sameAll([["DEL"], ["UNLINK"], ["EXISTS"], ["TOUCH"], ["TYPE"], ["TYPE", "a", "b"]]);
  });

  test("binary keys", async () => {
    for (const key of BINARY_KEYS) await o.same("SET", key, "v");
    await o.same("EXISTS", ...BINARY_KEYS);
    for (const key of BINARY_KEYS) await o.same("TYPE", key);
    await o.same("DEL", BINARY_KEYS[0]!, BINARY_KEYS[2]!);
    await o.same("EXISTS", ...BINARY_KEYS);
    await o.same("DEL", ...BINARY_KEYS);
    await o.same("DBSIZE");
  });

  test("TYPE names", async () => {
    await o.sameAll([["SET", "s", "x"], ["TYPE", "s"], ["TYPE", "nokey"], ["type", "S"]]);
  });
});

describe("KEYS", () => {
  test("patterns", async () => {
    for (const key of ["foo", "foobar", "fo", "f*o", "bar", "b[a]r", "hello\x00world", ...BINARY_KEYS]) {
      await o.same("SET", key, "1");
    }
    for (const pattern of ["*", "**", "f*", "fo?", "*bar", "f\\*o", "b[a-c]r", "b\\[a]r", "[^f]*", "*\x00*", "\xff*", "", "nomatch*", "h*d", "?"]) {
      await sameSet("KEYS", pattern);
    }
    await o.sameAll([["KEYS"], ["KEYS", "a", "b"]]);
  });

  test("leaves out keys past their time without removing them", async () => {
    await o.sameAll([["SET", "live", "1"], ["SET", "gone", "1"], ["PEXPIRE", "gone", "1"]]);
    await waitUntilPast(2);
    await sameSet("KEYS", "*");
    await o.same("KEYS", "g*");
  });
});

/** Wait until Date.now() has passed the time a PEXPIRE of `ms` set just before the call. */
async function waitUntilPast(ms: number): Promise<void> {
  const until = Date.now() + ms + 1;
  while (Date.now() <= until) await Bun.sleep(1);
}

describe("SCAN", () => {
  test("cursor parsing", async () => {
    await o.same("SET", "k", "v");
    for (const cursor of ["0", "", "+0", "-0", " 0", "0 ", "0x1", "abc", "-", "+", "00",
      "18446744073709551615", "18446744073709551616", "-18446744073709551615", "-18446744073709551616",
      "99999999999999999999", "0\x00junk", "\x00", "-\x00", "4294967296", "-1"]) {
      const [want, got] = await o.both("SCAN", cursor);
      // Only the verdict is comparable: valid cursors land in hash-order specific places.
      expect(got.startsWith("-")).toBe(want.startsWith("-"));
      if (want.startsWith("-")) expect(got).toBe(want);
    }
  });

  test("options and their errors", async () => {
    await o.sameAll([
      ["SCAN", "0", "COUNT", "0"], ["SCAN", "0", "COUNT", "-1"], ["SCAN", "0", "COUNT", "x"],
      ["SCAN", "0", "COUNT"], ["SCAN", "0", "MATCH"], ["SCAN", "0", "TYPE"], ["SCAN", "0", "foo", "bar"],
      ["SCAN", "0", "COUNT", "99999999999999999999"], ["SCAN", "x", "COUNT", "x"], ["SCAN"],
      ["SCAN", "0", "COUNT", "1", "COUNT", "5", "MATCH", "a", "MATCH", "*"],
      ["SCAN", "0", "TYPE", "nosuchtype"], ["SCAN", "0", "count", "3", "match", "*", "type", "STRING"],
    ]);
  });

  test("a full iteration returns every key, with MATCH and TYPE filters", async () => {
    const keys: string[] = [];
    for (let i = 0; i < 300; i++) keys.push(`key:${i}`);
    keys.push(...BINARY_KEYS);
    for (const key of keys) await o.same("SET", key, "x");
    for (const options of [[], ["COUNT", "1"], ["COUNT", "7"], ["COUNT", "1000"], ["MATCH", "key:1*"],
      ["MATCH", "*\x00*", "COUNT", "3"], ["TYPE", "string"], ["TYPE", "list"], ["TYPE", "String\x00x"], ["MATCH", "*"]]) {
      const [want, got] = await Promise.all([scanAll(o.r, ...options), scanAll(o.b, ...options)]);
      // Redis may repeat keys across a resize; a table that is not resized gives each once.
      expect([...new Set(got)].sort()).toEqual([...new Set(want)].sort());
    }
    await o.same("DBSIZE");
  });

  test("every key present for the whole scan is returned, while others come and go", async () => {
    const stable = new Set<string>();
    for (let i = 0; i < 200; i++) {
      stable.add(`stable:${i}`);
      await o.b.call("SET", `stable:${i}`, "1");
    }
    // Grow and shrink the table under the cursor so its guarantee is tested across resizes.
    let cursor = "0";
    const seen = new Set<string>();
    let step = 0;
    do {
      const reply = await o.b.call("SCAN", cursor, "COUNT", "5");
      const lines = reply.split("\r\n");
      cursor = lines[2]!;
      for (let i = 5; i < lines.length; i += 2) seen.add(lines[i]!);
      step++;
      if (step % 3 === 0) for (let i = 0; i < 150; i++) await o.b.call("SET", `churn:${step}:${i}`, "1");
      if (step % 3 === 2) await o.b.call("DEL", ...Array.from({ length: 150 }, (_, i) => `churn:${step - 2}:${i}`));
    } while (cursor !== "0");
    for (const key of stable) expect(seen.has(key)).toBe(true);
  });

  test("keys past their time are not returned", async () => {
    await o.sameAll([["SET", "a", "1"], ["SET", "b", "1"], ["PEXPIRE", "b", "1"], ["SET", "c", "1"], ["PEXPIRE", "c", "100000"]]);
    await waitUntilPast(2);
    const [want, got] = await Promise.all([scanAll(o.r), scanAll(o.b)]);
    expect(got.sort()).toEqual(want.sort());
    await o.same("EXISTS", "b");
  });

  test("an empty database ends at once", async () => {
    await o.sameAll([["SCAN", "0"], ["SCAN", "123"], ["SCAN", "0", "MATCH", "x", "COUNT", "100", "TYPE", "hash"]]);
  });
});

describe("RANDOMKEY", () => {
  test("empty, one key, several keys", async () => {
    await o.same("RANDOMKEY");
    await o.same("SET", "\xffonly\x00", "1");
    await o.same("RANDOMKEY");
    await o.sameAll([["SET", "a", "1"], ["SET", "b", "1"]]);
    const got = await o.b.call("RANDOMKEY");
    expect(["$6\r\n\xffonly\x00\r\n", "$1\r\na\r\n", "$1\r\nb\r\n"]).toContain(got);
    await o.same("RANDOMKEY", "extra");
  });

  test("skips keys past their time", async () => {
    await o.sameAll([["SET", "a", "1"], ["PEXPIRE", "a", "1"], ["SET", "b", "1"], ["PEXPIRE", "b", "1"]]);
    await waitUntilPast(2);
    await o.same("RANDOMKEY");
    await o.same("DBSIZE");
  });
});

describe("RANDOMKEY when every key is past its time", () => {
  // Known divergence: Db.randomKey gives up after 100 expired picks when every key has a
  // time to live and returns an expired key. Redis does that only on a replica (which may
  // not delete); a master deletes each expired pick and goes on, ending with nil. The fix
  // is to apply the give-up only on replicas. This turns into a failure once it is made.
  test("removes them all and answers nil", async () => {
    await using debug = await Oracle.start(["--enable-debug-command", "yes"]);
    await debug.same("DEBUG", "SET-ACTIVE-EXPIRE", "0");
    for (let i = 0; i < 300; i++) await debug.sameAll([["SET", `k${i}`, "v"], ["PEXPIRE", `k${i}`, "1"]]);
    await waitUntilPast(2);
    await debug.sameAll([["RANDOMKEY"], ["DBSIZE"]]);
  });
});

describe("RENAME RENAMENX", () => {
  test("moves the value and its time to live", async () => {
    await o.sameAll([
      ["SET", "a", "1"], ["PEXPIREAT", "a", "99999999999999"], ["RENAME", "a", "b"], ["EXISTS", "a"],
      ["GET", "b"], ["PEXPIRETIME", "b"], ["SET", "c", "2"], ["RENAME", "c", "b"], ["PEXPIRETIME", "b"],
      ["GET", "b"], ["RENAME", "b", "\x00\xff"], ["GET", "\x00\xff"],
    ]);
  });

  test("same key, missing key, NX", async () => {
    await o.sameAll([
      ["RENAME", "nokey", "x"], ["RENAME", "nokey", "nokey"], ["RENAMENX", "nokey", "x"], ["RENAMENX", "nokey", "nokey"],
      ["SET", "a", "1"], ["RENAME", "a", "a"], ["RENAMENX", "a", "a"], ["SET", "b", "2"], ["RENAMENX", "a", "b"],
      ["GET", "b"], ["RENAMENX", "a", "c"], ["GET", "c"], ["EXISTS", "a"], ["RENAME", "a"], ["RENAMENX", "a", "b", "c"],
    ]);
  });

  test("a destination past its time is replaced", async () => {
    await o.sameAll([["SET", "src", "1"], ["SET", "dst", "2"], ["PEXPIRE", "dst", "1"]]);
    await waitUntilPast(2);
    await o.sameAll([["RENAMENX", "src", "dst"], ["GET", "dst"], ["PTTL", "dst"]]);
  });
});

describe("COPY", () => {
  test("same and other databases, REPLACE, time to live", async () => {
    await o.sameAll([
      ["SET", "a", "hello"], ["PEXPIREAT", "a", "99999999999999"], ["COPY", "a", "b"], ["GET", "b"], ["PEXPIRETIME", "b"],
      ["SET", "c", "other"], ["COPY", "a", "c"], ["GET", "c"], ["COPY", "a", "c", "REPLACE"], ["GET", "c"],
      ["COPY", "a", "a", "DB", "1"], ["SELECT", "1"], ["GET", "a"], ["PEXPIRETIME", "a"], ["SELECT", "0"],
      ["COPY", "a", "a", "DB", "1"], ["COPY", "a", "a", "db", "1", "replace"], ["COPY", "nokey", "x"],
      ["COPY", "a", "d", "REPLACE", "REPLACE", "DB", "0"], ["GET", "d"],
    ]);
  });

  test("errors", async () => {
    await o.sameAll([
      ["SET", "a", "1"], ["COPY", "a", "a"], ["COPY", "a", "a", "DB", "0"], ["COPY", "nokey", "nokey"],
      ["COPY", "a", "b", "DB", "16"], ["COPY", "a", "b", "DB", "-1"], ["COPY", "a", "b", "DB", "x"],
      ["COPY", "a", "b", "DB", "2147483648"], ["COPY", "a", "b", "DB", "-2147483649"], ["COPY", "a", "b", "DB"],
      ["COPY", "a", "b", "foo"], ["COPY", "a"], ["COPY", "a", "b", "DB", "16", "foo"], ["EXISTS", "b"],
    ]);
  });

  test("the copy is independent and keeps the encoding", async () => {
    await o.sameAll([
      ["SET", "int", "123"], ["SET", "big", "12345678"], ["SET", "emb", "abc"], ["SET", "raw", "x".repeat(50)],
      ["COPY", "int", "int2"], ["COPY", "big", "big2"], ["COPY", "emb", "emb2"], ["COPY", "raw", "raw2"],
      ["OBJECT", "ENCODING", "int2"], ["OBJECT", "ENCODING", "big2"], ["OBJECT", "ENCODING", "emb2"], ["OBJECT", "ENCODING", "raw2"],
      // A copied small integer is a private object, not the shared one.
      ["OBJECT", "REFCOUNT", "int"], ["OBJECT", "REFCOUNT", "int2"],
      ["APPEND", "raw2", "y"], ["GET", "raw"], ["GET", "raw2"], ["INCR", "big2"], ["GET", "big"], ["GET", "big2"],
    ]);
  });
});

describe("MOVE", () => {
  test("moves to another database with its time to live", async () => {
    await o.sameAll([
      ["SET", "a", "1"], ["PEXPIREAT", "a", "99999999999999"], ["MOVE", "a", "1"], ["EXISTS", "a"], ["SELECT", "1"],
      ["GET", "a"], ["PEXPIRETIME", "a"], ["SET", "b", "in1"], ["SELECT", "0"], ["SET", "b", "in0"], ["MOVE", "b", "1"],
      ["GET", "b"], ["MOVE", "nokey", "1"], ["MOVE", "\xff\x00", "2"],
    ]);
  });

  test("errors", async () => {
    await o.sameAll([
      ["SET", "a", "1"], ["MOVE", "a", "0"], ["MOVE", "nokey", "0"], ["MOVE", "a", "16"], ["MOVE", "a", "-1"],
      ["MOVE", "a", "x"], ["MOVE", "a", "2147483648"], ["MOVE", "a", ""], ["MOVE", "a"], ["MOVE", "a", "1", "2"],
      ["SELECT", "3"], ["MOVE", "a", "3"], ["MOVE", "a", "0"],
    ]);
  });
});

describe("DBSIZE FLUSHDB FLUSHALL", () => {
  test("per database and all databases", async () => {
    await o.sameAll([
      ["SET", "a", "1"], ["SET", "b", "1"], ["DBSIZE"], ["SELECT", "5"], ["SET", "a", "1"], ["DBSIZE"],
      ["FLUSHDB"], ["DBSIZE"], ["SELECT", "0"], ["DBSIZE"], ["SELECT", "5"], ["SET", "x", "1"],
      ["FLUSHALL", "ASYNC"], ["DBSIZE"], ["SELECT", "0"], ["DBSIZE"], ["SET", "y", "1"], ["FLUSHDB", "sync"],
      ["DBSIZE"], ["FLUSHALL", "SYNC"], ["FLUSHDB", "ASYNC"], ["DBSIZE", "x"],
    ]);
  });

  test("option errors leave the data alone", async () => {
    await o.sameAll([
      ["SET", "a", "1"], ["FLUSHDB", "foo"], ["FLUSHDB", "ASYNC", "SYNC"], ["FLUSHALL", "now"],
      ["FLUSHALL", "SYNC", "ASYNC"], ["FLUSHALL", "sync", "sync"], ["DBSIZE"],
    ]);
  });

  test("DBSIZE counts keys past their time until they are removed", async () => {
    // Both servers answer the same once the key is gone by either route; EXISTS removes it.
    await o.sameAll([["SET", "a", "1"], ["PEXPIRE", "a", "1"]]);
    await waitUntilPast(2);
    await o.sameAll([["EXISTS", "a"], ["DBSIZE"]]);
  });
});

describe("OBJECT", () => {
  test("ENCODING of strings", async () => {
    await o.sameAll([
      ["SET", "i", "12345"], ["SET", "neg", "-5"], ["SET", "e", "hello"], ["SET", "r", "y".repeat(45)],
      ["SET", "lead0", "0123"], ["SET", "max", "9223372036854775807"], ["SET", "over", "9223372036854775808"],
      ["OBJECT", "ENCODING", "i"], ["OBJECT", "ENCODING", "neg"], ["OBJECT", "ENCODING", "e"], ["OBJECT", "ENCODING", "r"],
      ["OBJECT", "ENCODING", "lead0"], ["OBJECT", "ENCODING", "max"], ["OBJECT", "ENCODING", "over"],
      ["OBJECT", "ENCODING", "nokey"], ["object", "encoding", "I"],
    ]);
  });

  test("REFCOUNT: shared integers 0..9999 and everything else", async () => {
    for (const v of ["0", "1", "9999", "10000", "-1", "abc", "1.5", " 1"]) {
      await o.sameAll([["SET", "k", v], ["OBJECT", "REFCOUNT", "k"]]);
    }
    await o.sameAll([["SET", "n", "41"], ["INCR", "n"], ["OBJECT", "REFCOUNT", "n"], ["OBJECT", "REFCOUNT", "nokey"]]);
  });

  test("IDLETIME, and FREQ without an LFU policy", async () => {
    await o.sameAll([["SET", "k", "v"], ["OBJECT", "IDLETIME", "k"], ["OBJECT", "FREQ", "k"], ["OBJECT", "FREQ", "nokey"], ["OBJECT", "IDLETIME", "nokey"]]);
  });

  test("IDLETIME grows, inspecting commands leave it, reads and TOUCH reset it", async () => {
    await o.same("SET", "k", "v");
    // The same predicates must hold on both servers; the LRU clock ticks in seconds.
    await Promise.all([o.r, o.b].map(async (conn) => {
      const idle = async () => Number((await conn.call("OBJECT", "IDLETIME", "k")).slice(1, -2));
      const deadline = Date.now() + 4000;
      while ((await idle()) < 1) {
        if (Date.now() > deadline) throw new Error("IDLETIME stayed 0");
        await Bun.sleep(50);
      }
      for (const inspect of [["EXISTS", "k"], ["TYPE", "k"], ["TTL", "k"], ["OBJECT", "ENCODING", "k"], ["SCAN", "0", "TYPE", "string"]]) {
        await conn.call(...inspect);
      }
      expect(await idle()).toBeGreaterThanOrEqual(1);
      await conn.call("TOUCH", "k");
      expect(await idle()).toBeLessThanOrEqual(1);
    }));
  });

  test("HELP, unknown subcommands and arity", async () => {
    await o.sameAll([
      ["OBJECT", "HELP"], ["object", "help"], ["OBJECT", "HELP", "x"], ["OBJECT", "foo"], ["OBJECT", "foo", "k"],
      ["OBJECT"], ["OBJECT", "ENCODING"], ["OBJECT", "ENCODING", "a", "b"], ["OBJECT", "REFCOUNT"], ["OBJECT", "FREQ"],
      ["OBJECT", "IDLETIME", "a", "b"], ["OBJECT", "\x00bad"],
    ]);
  });

  test("lookups count keyspace hits and misses as Redis does", async () => {
    await sameCounterDeltas(["keyspace_hits", "keyspace_misses"], [
      ["SET", "a", "1"], ["EXISTS", "a", "nokey"], ["TYPE", "a"], ["TYPE", "nokey"], ["TOUCH", "a", "nokey"],
      ["OBJECT", "ENCODING", "a"], ["OBJECT", "REFCOUNT", "nokey"], ["TTL", "a"], ["PTTL", "nokey"],
      ["EXPIRETIME", "a"], ["DEL", "nokey"], ["RENAME", "a", "b"], ["COPY", "b", "c"], ["COPY", "nokey", "c"],
      ["MOVE", "b", "1"], ["SCAN", "0", "TYPE", "string"], ["KEYS", "*"], ["RANDOMKEY"], ["EXPIRE", "c", "100"], ["PERSIST", "c"],
    ]);
  });
});

describe("changes since the last save", () => {
  test("every write counts as Redis counts it", async () => {
    await sameCounterDeltas(["rdb_changes_since_last_save"], [
      ["SET", "a", "1"], ["SET", "b", "1"], ["DEL", "a", "b", "nokey"], ["SET", "a", "1"], ["RENAME", "a", "b"],
      ["RENAMENX", "b", "b"], ["RENAME", "b", "b"], ["COPY", "b", "c"], ["COPY", "b", "c"], ["MOVE", "c", "1"],
      ["MOVE", "nokey", "1"], ["UNLINK", "b"], ["SET", "x", "1"], ["SET", "y", "1"], ["FLUSHDB"], ["FLUSHDB"],
      ["SET", "x", "1"], ["EXPIRE", "x", "100"], ["PERSIST", "x"], ["PERSIST", "x"], ["EXPIRE", "x", "-1"],
      ["SELECT", "1"], ["FLUSHALL"], ["FLUSHALL", "ASYNC"], ["FLUSHDB", "bad"], ["SELECT", "0"],
    ]);
  });
});

/** Run commands through both servers and check that INFO counters moved by the same amounts. */
async function sameCounterDeltas(fields: string[], commands: string[][]): Promise<void> {
  const before = await Promise.all([infoCounters(o.r, fields), infoCounters(o.b, fields)]);
  await o.sameAll(commands);
  const after = await Promise.all([infoCounters(o.r, fields), infoCounters(o.b, fields)]);
  const delta = (k: number) => fields.map((_, i) => after[k]![i]! - before[k]![i]!);
  expect(delta(1)).toEqual(delta(0));
}

async function infoCounters(conn: RespConn, fields: string[]): Promise<number[]> {
  const info = await conn.call("INFO", "everything");
  return fields.map((name) => Number(info.match(new RegExp(`\\r\\n${name}:(\\d+)`))![1]));
}

describe("RESP3", () => {
  test("null, status and array replies", async () => {
    const [r, b] = await o.connectBoth();
    try {
      const same = async (...args: string[]) => {
        const [want, got] = await Promise.all([r.call(...args), b.call(...args)]);
        expect(got).toBe(want);
      };
      await r.call("HELLO", "3");
      await b.call("HELLO", "3");
      for (const args of [["RANDOMKEY"], ["OBJECT", "ENCODING", "nokey"], ["OBJECT", "HELP"], ["SET", "k", "1"], ["TYPE", "k"],
        ["KEYS", "*"], ["SCAN", "0"], ["OBJECT", "ENCODING", "k"], ["RANDOMKEY"], ["TTL", "k"], ["COPY", "k", "k"]]) {
        await same(...args);
      }
    } finally {
      r.close();
      b.close();
    }
  });
});

describe("OBJECT under other maxmemory policies", () => {
  test("LFU: IDLETIME errors, missing keys, shared integers", async () => {
    await using lfu = await Oracle.start(["--maxmemory-policy", "allkeys-lfu"]);
    await lfu.sameAll([
      ["SET", "k", "v"], ["OBJECT", "IDLETIME", "k"], ["OBJECT", "IDLETIME", "nokey"], ["OBJECT", "FREQ", "nokey"],
      ["SET", "n", "5"], ["OBJECT", "REFCOUNT", "n"], ["CONFIG", "SET", "maxmemory-policy", "noeviction"], ["OBJECT", "FREQ", "k"],
    ]);
  });

  // Known divergence: objects start with LRU data and lookups only refresh the LRU clock,
  // so under an LFU policy the counter Redis starts at 5 and raises on access is missing.
  // This turns into a failure, to be made a plain test, once LFU counters are kept.
  test("LFU: FREQ reports the access counter", async () => {
    await using lfu = await Oracle.start(["--maxmemory-policy", "allkeys-lfu"]);
    await lfu.sameAll([["SET", "k", "v"], ["OBJECT", "FREQ", "k"], ["GET", "k"], ["OBJECT", "FREQ", "k"]]);
  });

  test("maxmemory with an LRU policy stops sharing integers", async () => {
    await using limited = await Oracle.start(["--maxmemory-policy", "allkeys-lru", "--maxmemory", "100mb"]);
    await limited.sameAll([
      ["SET", "n", "5"], ["OBJECT", "REFCOUNT", "n"], ["OBJECT", "FREQ", "n"], ["OBJECT", "IDLETIME", "n"],
      ["CONFIG", "SET", "maxmemory-policy", "volatile-ttl"], ["SET", "m", "5"], ["OBJECT", "REFCOUNT", "m"],
      ["CONFIG", "SET", "maxmemory", "0"], ["CONFIG", "SET", "maxmemory-policy", "volatile-lru"], ["SET", "z", "5"],
      ["OBJECT", "REFCOUNT", "z"],
    ]);
  });
});

describe("COMMAND INFO and COMMAND DOCS", () => {
  const names = ["del", "unlink", "exists", "type", "keys", "scan", "randomkey", "rename", "renamenx", "copy", "move",
    "dbsize", "flushdb", "flushall", "touch", "object|freq", "object|encoding", "object|idletime", "object|help", "object|refcount"];

  test("match Redis for every keyspace command", async () => {
    for (const name of names) {
      await o.same("COMMAND", "INFO", name);
      await o.same("COMMAND", "DOCS", name);
    }
    await o.same("COMMAND", "GETKEYS", "OBJECT", "ENCODING", "k");
    await o.same("COMMAND", "GETKEYS", "COPY", "a", "b", "DB", "1");
  });

  test("OBJECT matches Redis up to the order of its subcommands", async () => {
    // Redis keeps subcommands in a hash table with a per-process seed: their order varies.
    const [infoWant, infoGot] = await o.both("COMMAND", "INFO", "object");
    expect(withSortedTail(infoGot, 9)).toEqual(withSortedTail(infoWant, 9));
    const [docsWant, docsGot] = await o.both("COMMAND", "DOCS", "object");
    expect(withSortedTail(docsGot, 9, 2)).toEqual(withSortedTail(docsWant, 9, 2));
  });
});

/**
 * A reply `*1 *N ...` (or `*2 name *N ...` for DOCS) split into its first `fixed` fields and
 * then the items of the trailing aggregate, sorted in groups of `group` (name/doc pairs).
 */
function withSortedTail(reply: string, fixed: number, group = 1): { head: string[]; tail: string[] } {
  const buf = Buffer.from(reply, "latin1");
  let pos = 0;
  const next = () => {
    const end = replyEnd(buf, pos);
    const item = reply.slice(pos, end);
    pos = end;
    return item;
  };
  const header = () => {
    const end = reply.indexOf("\r\n", pos) + 2;
    const line = reply.slice(pos, end);
    pos = end;
    return line;
  };
  const head = [header()];
  if (group === 2) head.push(next());
  head.push(header());
  for (let i = 0; i < fixed; i++) head.push(next());
  const count = Number(header().slice(1, -2)) / group;
  const tail: string[] = [];
  for (let i = 0; i < count; i++) {
    let item = "";
    for (let k = 0; k < group; k++) item += next();
    tail.push(item);
  }
  return { head, tail: tail.sort() };
}
