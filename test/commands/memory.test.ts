// MEMORY and the accounting behind it (INFO memory's used_memory, cache/memory.ts).
//
// Three kinds of checks:
// - against the real redis-server: errors, arity, HELP, USAGE of a missing or expired key,
//   DOCTOR on an empty instance and the shape of STATS, byte for byte where the replies are
//   deterministic; MEMORY USAGE of every type and encoding within a stated ratio of Redis's;
// - the accounting stays exact while values change: an in-process server runs a seeded
//   random mix of every mutating command (blocking pops served, SORT STORE, RESTORE,
//   RENAME, MOVE, COPY, SWAPDB, expiry, conversions, compressed lists) over a socket, and
//   its key tables are validated in between, which checks that the bytes counted for the
//   held values equal what those values hold (SEED=n replays a run);
// - used_memory against the process: a redbun process loads a mixed data set of 200,000
//   keys, and the growth of used_memory must stay within 35% of the growth of the heap in
//   use measured by the runtime after a full collection (MEMORY PURGE); FLUSHALL brings
//   used_memory back to where it started.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Oracle, RespConn, encodeCommand, freePort, rng, startRedbun, withHistory } from "../oracle/harness.ts";
import { decodeReply, withObjects } from "../oracle/resp.ts";
import { type Maker, type Random, pick, seedFromEnv, stepsFromEnv, weightedCommands } from "../oracle/fuzz.ts";
import { loadStartupConfig } from "../../src/config/parse.ts";
import { Logger } from "../../src/log/log.ts";
import { Server } from "../../src/server/server.ts";
import { usedMemory } from "../../src/cache/memory.ts";

// ---------------------------------------------------------------------------------------
// Against Redis
// ---------------------------------------------------------------------------------------

describe("MEMORY against Redis", () => {
  let o: Oracle;
  beforeAll(async () => {
    o = await Oracle.start(["--enable-debug-command", "yes"]);
  });
  afterAll(() => o.stop());

  test("errors and arity", async () => {
    await o.sameAll([
      ["MEMORY"],
      ["MEMORY", "nosuch"],
      ["MEMORY", "STATS", "x"],
      ["MEMORY", "DOCTOR", "x"],
      ["MEMORY", "PURGE", "x"],
      ["MEMORY", "MALLOC-STATS", "x"],
      ["MEMORY", "HELP", "x"],
      ["MEMORY", "USAGE"],
      ["SET", "k", "v"],
      ["MEMORY", "USAGE", "k", "SAMPLES"],
      ["MEMORY", "USAGE", "k", "SAMPLES", "-1"],
      ["MEMORY", "USAGE", "k", "SAMPLES", "x"],
      ["MEMORY", "USAGE", "k", "SAMPLES", "99999999999999999999"],
      ["MEMORY", "USAGE", "k", "samples", "1", "foo"],
      ["MEMORY", "USAGE", "k", "foo"],
      // Options are checked before the key is looked up.
      ["MEMORY", "USAGE", "missing", "SAMPLES", "x"],
      ["MEMORY", "USAGE", "missing"],
      ["MEMORY", "USAGE", "missing", "SAMPLES", "0", "SAMPLES", "3"],
      ["MEMORY", "HELP"],
      ["MEMORY", "help"],
      ["MEMORY", "PURGE"],
      ["DEL", "k"],
    ]);
  });

  test("USAGE measures a key past its time that nothing removed yet, as Redis does", async () => {
    await o.same("DEBUG", "SET-ACTIVE-EXPIRE", "0");
    try {
      await o.same("SET", "gone", "v", "PX", "1");
      await Bun.sleep(10);
      const [want, got] = await o.both("MEMORY", "USAGE", "gone");
      expect(want).toMatch(/^:\d+\r\n$/);
      expect(got).toMatch(/^:\d+\r\n$/);
      // The lookup neither expired the key nor counted a keyspace miss.
      await o.same("DBSIZE");
      await o.same("GET", "gone");
    } finally {
      await o.same("DEBUG", "SET-ACTIVE-EXPIRE", "1");
    }
  });

  test("DOCTOR on an empty instance, in RESP2 and RESP3", async () => {
    await o.same("FLUSHALL");
    await o.same("MEMORY", "DOCTOR");
    const [r3, b3] = await o.connectResp3();
    expect(await b3.call("MEMORY", "DOCTOR")).toBe(await r3.call("MEMORY", "DOCTOR"));
  });

  test("MALLOC-STATS answers as Redis built without jemalloc", async () => {
    expect(await o.b.call("MEMORY", "MALLOC-STATS")).toBe("$45\r\nStats not supported for the current allocator\r\n");
  });

  test("STATS has Redis's fields, nesting and reply types, in RESP2 and RESP3", async () => {
    await o.same("FLUSHALL");
    await o.sameAll([
      ["SET", "a", "1"],
      ["SET", "b", "v", "EX", "100"],
      ["SELECT", "3"],
      ["RPUSH", "l", "x"],
      ["SELECT", "0"],
    ]);
    const [want, got] = await o.both("MEMORY", "STATS");
    expect(shape(got)).toBe(shape(want));
    const [r3, b3] = await o.connectResp3();
    const got3 = await b3.call("MEMORY", "STATS");
    expect(shape(got3)).toBe(shape(await r3.call("MEMORY", "STATS")));
    // The figures hang together: the total splits into overhead and dataset.
    const stats = withObjects(decodeReply(got3)) as Record<string, number>;
    expect(stats["keys.count"]).toBe(3);
    expect(stats["overhead.total"]! + stats["dataset.bytes"]!).toBe(stats["total.allocated"]!);
    expect(stats["peak.allocated"]!).toBeGreaterThanOrEqual(stats["total.allocated"]!);
    await o.same("FLUSHALL");
  });

  test("USAGE of every type and encoding is within a stated ratio of Redis's", async () => {
    const many = (n: number, item: (i: number) => string[]): string[] => Array.from({ length: n }, (_, i) => item(i)).flat();
    // [name, command, redbun/Redis ratio allowed]. Small lists and big skiplists cost
    // more on a JavaScript heap than in C: a quicklist node is an object with a typed
    // array, a skiplist node an object with two arrays.
    const cases: [string, string[], number, number][] = [
      ["int", ["SET", "k", "12345"], 0.5, 2],
      ["embstr", ["SET", "k", "hello world"], 0.5, 2],
      ["raw", ["SET", "k", "x".repeat(100)], 0.5, 2],
      ["long raw", ["SET", "k", "x".repeat(5000)], 0.8, 1.25],
      ["small quicklist", ["RPUSH", "k", "a", "b", "c"], 0.5, 3],
      ["quicklist", ["RPUSH", "k", ...many(10000, (i) => [`element:${i}`])], 0.8, 1.25],
      ["listpack hash", ["HSET", "k", ...many(10, (i) => [`f${i}`, `value${i}`])], 0.5, 2],
      ["hashtable hash", ["HSET", "k", ...many(1000, (i) => [`field:${i}`, `value:${i}`])], 0.7, 2],
      ["intset", ["SADD", "k", ...many(400, (i) => [String(i)])], 0.5, 2],
      ["hashtable set", ["SADD", "k", ...many(1000, (i) => [`member:${i}`])], 0.7, 2],
      ["listpack zset", ["ZADD", "k", ...many(10, (i) => [String(i), `m${i}`])], 0.5, 2],
      ["skiplist zset", ["ZADD", "k", ...many(1000, (i) => [String(i), `member:${i}`])], 0.7, 3],
    ];
    const report: string[] = [];
    for (const [name, command, low, high] of cases) {
      await o.same("DEL", "k");
      await o.same(...command);
      await o.same("OBJECT", "ENCODING", "k");
      // Redis measures every element with SAMPLES 0; redbun's figure is exact either way.
      const [want, got] = await o.both("MEMORY", "USAGE", "k", "SAMPLES", "0");
      const ratio = Number(got.slice(1)) / Number(want.slice(1));
      report.push(`${name}: redis ${want.trim().slice(1)} redbun ${got.trim().slice(1)} ratio ${ratio.toFixed(2)}`);
      expect(`${name} ${ratio >= low && ratio <= high}`).toBe(`${name} true`);
      // SAMPLES changes nothing: the figure is kept exact, not estimated.
      expect(await o.b.call("MEMORY", "USAGE", "k")).toBe(got);
    }
    console.log(`MEMORY USAGE, redbun against Redis:\n  ${report.join("\n  ")}`);
    await o.same("DEL", "k");
  });
});

/** A reply with every figure replaced by its kind, to compare two servers' MEMORY STATS. */
function shape(reply: string): string {
  return reply
    .replace(/:-?\d+\r\n/g, ":N\r\n")
    .replace(/,[^\r]*\r\n/g, ",D\r\n")
    .replace(/\$\d+\r\n-?[\d.e+-]+\r\n/g, "$D\r\n");
}

// ---------------------------------------------------------------------------------------
// The accounting stays exact as values change
// ---------------------------------------------------------------------------------------

describe("the bytes counted for held values follow every change", () => {
  const STEPS = stepsFromEnv(15000);
  const SEED = seedFromEnv();
  let server: Server;
  let c: RespConn;
  /** A second client, blocked in pops that c's pushes serve. */
  let blocked: RespConn;

  beforeAll(async () => {
    const port = freePort();
    const config = loadStartupConfig(["--port", String(port), "--bind", "127.0.0.1", "--loglevel", "warning", "--save", "", "--appendonly", "no"]);
    server = new Server(config, new Logger(config));
    server.listen();
    [c, blocked] = await Promise.all([RespConn.connect(port), RespConn.connect(port)]);
    // Small limits, so that values cross between encodings, and compressed list nodes.
    for (const [name, value] of [
      ["hash-max-listpack-entries", "8"],
      ["zset-max-listpack-entries", "8"],
      ["set-max-intset-entries", "8"],
      ["list-max-listpack-size", "4"],
      ["list-compress-depth", "1"],
    ]) {
      expect(await c.call("CONFIG", "SET", name!, value!)).toBe("+OK\r\n");
    }
  });

  afterAll(() => {
    c.close();
    blocked.close();
    server.close();
  });

  const KEYS = ["a", "b", "c", "d", "e"];
  const small = (r: Random): string => pick(r, ["1", "2", "3", "-7", "42", "x", "yy", "member", "\x00\xff"]);
  const any = (r: Random): string => (r() < 0.7 ? small(r) : pick(r, ["z".repeat(80), "w".repeat(300), "q".repeat(1200)]) + Math.floor(r() * 50));
  const several = (r: Random, make: (r: Random) => string, max: number): string[] => Array.from({ length: 1 + Math.floor(r() * max) }, () => make(r));
  const score = (r: Random): string => pick(r, ["0", "1", "2.5", "-3", "100", "inf", "-inf"]);

  const GENERATORS: [number, Maker][] = [
    // Strings, long enough to be held as objects, changed in place and replaced.
    [3, (r, k) => ["SET", k, any(r)]],
    [1, (r, k) => ["APPEND", k, any(r)]],
    [1, (r, k) => ["SETRANGE", k, String(Math.floor(r() * 600)), any(r)]],
    [1, (r, k) => ["INCRBY", k, pick(r, ["1", "9007199254740993"])]],
    [1, (r, k) => ["SET", k, any(r), "PX", pick(r, ["1", "2", "50000"])]],
    // Lists.
    [4, (r, k) => [pick(r, ["LPUSH", "RPUSH"]), k, ...several(r, any, 8)]],
    [2, (r, k) => [pick(r, ["LPOP", "RPOP"]), k, String(1 + Math.floor(r() * 4))]],
    [1, (r, k) => ["LINSERT", k, pick(r, ["BEFORE", "AFTER"]), small(r), any(r)]],
    [1, (r, k) => ["LSET", k, String(Math.floor(r() * 10) - 5), any(r)]],
    [1, (r, k) => ["LREM", k, String(Math.floor(r() * 5) - 2), small(r)]],
    [1, (r, k) => ["LTRIM", k, String(Math.floor(r() * 4)), String(Math.floor(r() * 20) - 5)]],
    [1, (r, k, k2) => ["LMOVE", k, k2, pick(r, ["LEFT", "RIGHT"]), pick(r, ["LEFT", "RIGHT"])]],
    [0.5, (r, k) => ["LRANGE", k, "0", "-1"]],
    // Hashes.
    [4, (r, k) => ["HSET", k, ...several(r, (r) => `${small(r)}\n${any(r)}`, 6).flatMap((p) => p.split("\n"))]],
    [2, (r, k) => ["HDEL", k, ...several(r, small, 4)]],
    [1, (r, k) => ["HINCRBY", k, small(r), "3"]],
    [1, (r, k) => ["HINCRBYFLOAT", k, small(r), "1.5"]],
    [1, (r, k) => ["HSETNX", k, small(r), any(r)]],
    // Sets.
    [4, (r, k) => ["SADD", k, ...several(r, (r) => (r() < 0.6 ? String(Math.floor(r() * 30)) : any(r)), 8)]],
    [2, (r, k) => ["SREM", k, ...several(r, (r) => String(Math.floor(r() * 30)), 4)]],
    [1, (r, k) => ["SPOP", k, String(1 + Math.floor(r() * 3))]],
    [1, (r, k, k2) => ["SMOVE", k, k2, String(Math.floor(r() * 30))]],
    [1, (r, k, k2) => [pick(r, ["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]), k, k2, pick(r, KEYS)]],
    // Sorted sets.
    [4, (r, k) => ["ZADD", k, ...several(r, (r) => `${score(r)}\n${any(r)}`, 6).flatMap((p) => p.split("\n"))]],
    [1, (r, k) => ["ZINCRBY", k, "2", small(r)]],
    [2, (r, k) => ["ZREM", k, ...several(r, small, 4)]],
    [1, (r, k) => ["ZREMRANGEBYSCORE", k, "-inf", score(r)]],
    [1, (r, k) => ["ZREMRANGEBYRANK", k, "0", String(Math.floor(r() * 3))]],
    [1, (r, k) => ["ZPOPMIN", k, String(1 + Math.floor(r() * 3))]],
    [1, (r, k, k2) => [pick(r, ["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"]), k, "2", k2, pick(r, KEYS)]],
    [1, (r, k, k2) => ["ZRANGESTORE", k, k2, "0", "-1"]],
    // The keyspace.
    [1, (_, k) => ["DEL", k]],
    [1, (r, k, k2) => [pick(r, ["RENAME", "RENAMENX"]), k, k2]],
    [1, (r, k, k2) => ["COPY", k, k2, ...(r() < 0.5 ? ["REPLACE"] : ["DB", "1"])]],
    [1, (_, k) => ["MOVE", k, "1"]],
    [0.5, (r) => ["SELECT", pick(r, ["0", "0", "1"])]],
    [0.3, () => ["SWAPDB", "0", "1"]],
    [0.1, () => ["FLUSHDB"]],
    [1, (r, k) => ["PEXPIRE", k, pick(r, ["1", "3", "100000"])]],
    [1, (r, k, k2) => ["SORT", k, "ALPHA", "STORE", k2]],
  ];
  const next = weightedCommands(GENERATORS, KEYS);

  /**
   * Throws unless every value object's own count of its bytes matches what it holds, and
   * every table's count of object bytes matches what its values report.
   */
  function validateAll(): void {
    for (const db of server.dbs) {
      const table = db.table;
      for (let id = 0; id < table.idLimit; id++) {
        if (!table.isLive(id) || !table.hasObject(id)) continue;
        const value = table.getObject(id) as { validate?: () => void; fields?: { validate(): void } };
        if (value.validate !== undefined) value.validate();
        else value.fields?.validate();
      }
      table.validate();
    }
  }

  /** BLPOP, BLMOVE or BZPOPMIN waiting on another client, served by a push from c. */
  async function servedPop(r: Random, history: string[][]): Promise<void> {
    const zset = r() < 0.4;
    const wait = zset ? ["BZPOPMIN", "bq", "0"] : r() < 0.5 ? ["BLPOP", "bq", "0"] : ["BLMOVE", "bq", pick(r, KEYS), "LEFT", "RIGHT", "0"];
    // The blocked client stays in database 0, where the push must go.
    await c.call("SELECT", "0");
    await c.call("DEL", "bq");
    blocked.write(encodeCommand(wait));
    while (!(await c.call("INFO", "clients")).includes("blocked_clients:1")) await Bun.sleep(1);
    const push = zset ? ["ZADD", "bq", "1", any(r), "2", any(r)] : ["RPUSH", "bq", any(r), any(r), any(r)];
    history.push(["SELECT", "0"], wait, push);
    await c.call(...push);
    await blocked.read();
  }

  test("random writes of every type", async () => {
    await withHistory("memory accounting", SEED, async (history) => {
      const r = rng(SEED);
      for (let step = 0; step < STEPS; step++) {
        const command = next(r);
        history.push(command);
        await c.call(...command);
        if (step % 400 === 0) await servedPop(r, history);
        if (step % 250 === 0) {
          // RESTORE builds the value from its serialized form, as loading does.
          const key = pick(r, KEYS);
          const dump = await c.call("DUMP", key);
          if (dump.startsWith("$") && !dump.startsWith("$-1")) {
            const payload = Buffer.from(decodeReply(dump) as string, "latin1");
            history.push(["RESTORE", "r", "0", "<payload>", "REPLACE"]);
            expect(await c.call("RESTORE", "r", "0", payload, "REPLACE")).toBe("+OK\r\n");
          }
        }
        if (step % 50 === 49) validateAll();
      }
      validateAll();
    });
  }, 20000);

  test("FLUSHALL brings used_memory back to start-up plus the clients' buffers", async () => {
    expect(await c.call("FLUSHALL")).toBe("+OK\r\n");
    validateAll();
    expect(usedMemory(server)).toBe(server.startupMemory + server.clientBufferBytes);
  });
});

// ---------------------------------------------------------------------------------------
// used_memory against the process
// ---------------------------------------------------------------------------------------

describe("used_memory against the process's heap", () => {
  /** How far the growth of used_memory may be from the heap's growth, as a share of the latter. */
  const TOLERANCE = 0.35;

  /** Pipelines commands in batches, checking that none failed. */
  async function load(c: RespConn, commands: string[][]): Promise<void> {
    const BATCH = 500;
    for (let i = 0; i < commands.length; i += BATCH) {
      const batch = commands.slice(i, i + BATCH);
      c.write(Buffer.concat(batch.map((a) => encodeCommand(a))));
      const replies = await c.readReplies(batch.length);
      expect(replies.includes("\r\n-")).toBe(false);
    }
  }

  /**
   * About 200,000 keys of every type, each collection type in both encodings: strings
   * short, long and integer, small hashes, sets and zsets packed, big ones in tables, lists
   * of one node and of many.
   */
  function mixedDataset(tag: string, scale: number): string[][] {
    const out: string[][] = [];
    const value = (i: number, len: number): string => `${tag}${i.toString(36)}`.padEnd(len, "x");
    const items = (n: number, item: (j: number) => string[]): string[] => Array.from({ length: n }, (_, j) => item(j)).flat();
    const n = (count: number): number => Math.max(1, Math.floor(count * scale));
    for (let i = 0; i < n(110000); i++) out.push(["SET", `${tag}:s:${i}`, value(i, 10)]);
    for (let i = 0; i < n(20000); i++) out.push(["SET", `${tag}:i:${i}`, String(i * 7919)]);
    for (let i = 0; i < n(4000); i++) out.push(["SET", `${tag}:raw:${i}`, value(i, 400)]);
    for (let i = 0; i < n(20000); i++) out.push(["HSET", `${tag}:h:${i}`, ...items(8, (j) => [`f${j}`, value(j, 8)])]);
    for (let i = 0; i < n(20000); i++) out.push(["SADD", `${tag}:si:${i}`, ...items(8, (j) => [String(j * 3 + i)])]);
    for (let i = 0; i < n(15000); i++) out.push(["ZADD", `${tag}:z:${i}`, ...items(8, (j) => [String(j), `m${j}`])]);
    for (let i = 0; i < n(10000); i++) out.push(["RPUSH", `${tag}:l:${i}`, ...items(5, (j) => [value(j, 6)])]);
    for (let i = 0; i < 20; i++) {
      for (let j = 0; j < n(2000); j += 100) {
        out.push(["HSET", `${tag}:H:${i}`, ...items(100, (k) => [`field:${j + k}`, value(j + k, 10)])]);
        out.push(["SADD", `${tag}:S:${i}`, ...items(100, (k) => [`member:${j + k}`])]);
        out.push(["ZADD", `${tag}:Z:${i}`, ...items(100, (k) => [String(j + k), `member:${j + k}`])]);
        out.push(["RPUSH", `${tag}:L:${i}`, ...items(100, (k) => [value(j + k, 12)])]);
      }
    }
    return out;
  }

  /** used_memory and the runtime's heap in use (allocator_allocated) after a full collection. */
  async function measure(c: RespConn): Promise<{ used: number; heap: number; rss: number }> {
    expect(await c.call("MEMORY", "PURGE")).toBe("+OK\r\n");
    const text = decodeReply(await c.call("INFO", "memory")) as string;
    const field = (name: string): number => Number(new RegExp(`^${name}:(\\d+)`, "m").exec(text)![1]);
    return { used: field("used_memory"), heap: field("allocator_allocated"), rss: field("used_memory_rss") };
  }

  test("a mixed data set grows used_memory as much as the heap, and FLUSHALL gives it back", async () => {
    await using server = await startRedbun();
    const c = await RespConn.connect(server.port);
    try {
      // The same commands once over, so that code compiled for them is not counted as data.
      await load(c, mixedDataset("warm", 0.02));
      expect(await c.call("FLUSHALL")).toBe("+OK\r\n");
      const before = await measure(c);
      await load(c, mixedDataset("k", 1));
      expect(await c.call("DBSIZE")).toBe(":199080\r\n");
      const after = await measure(c);
      const usedGrowth = after.used - before.used;
      const heapGrowth = after.heap - before.heap;
      const ratio = usedGrowth / heapGrowth;
      console.log(
        `used_memory grew ${usedGrowth} bytes, the heap ${heapGrowth} (ratio ${ratio.toFixed(3)}), ` +
          `the resident set ${after.rss - before.rss} (ratio ${(usedGrowth / (after.rss - before.rss)).toFixed(3)})`,
      );
      expect(Math.abs(ratio - 1)).toBeLessThanOrEqual(TOLERANCE);
      expect(await c.call("FLUSHALL")).toBe("+OK\r\n");
      const flushed = await measure(c);
      // What remains is at most the connection's query buffer.
      expect(Math.abs(flushed.used - before.used)).toBeLessThanOrEqual(64 * 1024);
      const info = decodeReply(await c.call("INFO", "memory")) as string;
      expect(Number(/^used_memory_peak:(\d+)/m.exec(info)![1])).toBeGreaterThanOrEqual(after.used);
    } finally {
      c.close();
    }
  }, 20000);
});
