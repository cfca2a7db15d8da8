// maxmemory and eviction against the real redis-server 7.0: the OOM refusal byte for byte
// (inside MULTI and for EXEC too), what each maxmemory-policy evicts, the evicted_keys
// counter, `evicted` keyspace events, WATCH seeing an eviction, DELs in the AOF, OBJECT
// FREQ and IDLETIME, and CONFIG SET maxmemory shrinking the dataset at once or, with a
// small tenacity, between commands.
//
// The two servers count memory differently, so the tests compare behaviour rather than
// key counts: `maxmemory 1` (every server is over it) evicts everything a policy may evict
// and nothing else, which is exact; partial evictions run from each server's own present
// usage, found by probing with SET under noeviction, and are judged by which keys remain.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { Oracle, RespConn, bulkArray, encodeCommand } from "../oracle/harness.ts";
import { type Side, sameOnBoth } from "../oracle/sides.ts";
import { dumpPayload } from "../oracle/dump.ts";
import { AOF_ARGS, aofFile, readCommands, startIn, tempDir } from "../persistence/aof-helpers.ts";

const OOM = "-OOM command not allowed when used memory > 'maxmemory'.\r\n";
/** A value large enough that one key outweighs the noise of the servers' own allocations. */
const VALUE = "x".repeat(200);

let o: Oracle;
beforeAll(async () => {
  o = await Oracle.start(["--enable-debug-command", "yes"]);
});
afterAll(() => o.stop());
beforeEach(async () => {
  await o.sameAll([
    ["CONFIG", "SET", "maxmemory", "0"],
    ["CONFIG", "SET", "maxmemory-policy", "noeviction"],
    ["CONFIG", "SET", "maxmemory-samples", "5"],
    ["CONFIG", "SET", "maxmemory-eviction-tenacity", "10"],
    ["CONFIG", "SET", "lfu-log-factor", "10"],
    ["CONFIG", "SET", "notify-keyspace-events", ""],
    ["FLUSHALL"],
  ]);
});

/** Send commands pipelined on one connection and return their replies. */
async function pipeline(conn: RespConn, commands: string[][]): Promise<string[]> {
  for (const cmd of commands) conn.write(encodeCommand(cmd));
  const replies: string[] = [];
  for (let i = 0; i < commands.length; i++) replies.push(await conn.read());
  return replies;
}

/** Run the same commands on both servers, pipelined, without comparing the replies. */
async function onEach(commands: string[][]): Promise<void> {
  await Promise.all([pipeline(o.r, commands), pipeline(o.b, commands)]);
}

/**
 * The memory a server counts against maxmemory now, to within 1 KiB: a binary search for
 * the lowest maxmemory under which a SET is still accepted with noeviction. Leaves
 * maxmemory at 0 and the policy at noeviction.
 */
async function usedMemoryByProbe(conn: RespConn): Promise<number> {
  await conn.call("CONFIG", "SET", "maxmemory-policy", "noeviction");
  await conn.call("SET", "__probe", "v");
  let over = 1;
  let under = 2 ** 34;
  while (under - over > 1024) {
    const mid = Math.floor((over + under) / 2);
    await conn.call("CONFIG", "SET", "maxmemory", String(mid));
    if ((await conn.call("SET", "__probe", "v")) === OOM) over = mid;
    else under = mid;
  }
  await conn.call("CONFIG", "SET", "maxmemory", "0");
  await conn.call("DEL", "__probe");
  return under;
}

/** Set maxmemory on a server to what it uses now (so each further key evicts), under `policy`. */
async function capAtPresentUsage(conn: RespConn, policy: string): Promise<void> {
  const used = await usedMemoryByProbe(conn);
  await conn.call("CONFIG", "SET", "maxmemory-policy", policy);
  await conn.call("CONFIG", "SET", "maxmemory", String(used));
}

/** How many of the keys exist on a server. */
async function existing(conn: RespConn, keys: string[]): Promise<number> {
  const reply = await conn.call("EXISTS", ...keys);
  return Number(reply.slice(1, -2));
}

/** The items of an EXEC reply made of integers and bulk strings, as text. */
function bulkOrIntegers(reply: string): string[] {
  const items: string[] = [];
  let pos = reply.indexOf("\r\n") + 2;
  while (pos < reply.length) {
    const cr = reply.indexOf("\r\n", pos);
    if (reply[pos] === ":") {
      items.push(reply.slice(pos + 1, cr));
      pos = cr + 2;
    } else {
      const len = Number(reply.slice(pos + 1, cr));
      items.push(reply.slice(cr + 2, cr + 2 + len));
      pos = cr + 2 + len + 2;
    }
  }
  return items;
}

function infoField(info: string, name: string): string {
  return info.match(new RegExp(`^${name}:(.*)\r$`, "m"))?.[1] ?? "";
}

function range(prefix: string, from: number, to: number): string[] {
  const out: string[] = [];
  for (let i = from; i < to; i++) out.push(`${prefix}:${i}`);
  return out;
}

describe("the OOM refusal", () => {
  test("noeviction refuses denyoom commands byte for byte; reads, DEL and CONFIG still run", async () => {
    await o.sameAll([["SET", "a", "1"], ["RPUSH", "l", "x"], ["CONFIG", "RESETSTAT"], ["CONFIG", "SET", "maxmemory", "1"]]);
    expect(await o.same("SET", "b", "2")).toBe(OOM);
    await o.sameAll([
      ["RPUSH", "l", "y"],
      ["INCR", "a"],
      ["APPEND", "a", "z"],
      ["SETNX", "b", "2"],
      ["GET", "a"],
      ["LRANGE", "l", "0", "-1"],
      ["EXISTS", "a", "b"],
      ["PING"],
      ["DEL", "a"],
      ["LPOP", "l"],
      ["DBSIZE"],
    ]);
    const [redisStats, redbunStats] = await o.both("INFO", "errorstats");
    expect(infoField(redbunStats, "errorstat_OOM")).toBe(infoField(redisStats, "errorstat_OOM"));
    expect(infoField(redbunStats, "errorstat_OOM")).toBe("count=5");
    await o.same("CONFIG", "SET", "maxmemory", "0");
    await o.same("SET", "b", "2");
  });

  test("inside MULTI every command but EXEC, DISCARD, QUIT and RESET is refused, and EXEC aborts", async () => {
    await o.sameAll([
      ["SET", "a", "1"],
      ["CONFIG", "SET", "maxmemory", "1"],
      ["MULTI"],
      ["GET", "a"],
      ["PING"],
      ["EXEC"],
      ["MULTI"],
      ["DISCARD"],
      ["MULTI"],
      ["EXEC"],
      ["CONFIG", "SET", "maxmemory", "0"],
    ]);
  });

  test("EXEC of a transaction queued before memory ran short: refused when it holds a denyoom command", async () => {
    await sameOnBoth(o, async (side: Side) => {
      const [client, admin] = [await side.connect(), await side.connect()];
      const seen: string[] = [];
      for (const queued of [["SET", "x", "1"], ["GET", "x"]]) {
        seen.push(await client.call("MULTI"), await client.call(...queued));
        seen.push(await admin.call("CONFIG", "SET", "maxmemory", "1"));
        seen.push(await client.call("EXEC"));
        seen.push(await admin.call("CONFIG", "SET", "maxmemory", "0"));
      }
      return seen;
    });
  });

  test("volatile policies with no key that has a TTL cannot free anything: OOM", async () => {
    for (const policy of ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"]) {
      await o.sameAll([
        ["SET", "a", "1"],
        ["CONFIG", "SET", "maxmemory-policy", policy],
        ["CONFIG", "SET", "maxmemory", "1"],
        ["SET", "b", "1"],
        ["DBSIZE"],
        ["CONFIG", "SET", "maxmemory", "0"],
      ]);
    }
  });
});

describe("what each policy evicts", () => {
  /** Keys with and without a TTL in two databases. */
  async function mixedDataset(): Promise<void> {
    const commands: string[][] = [];
    for (const db of ["0", "3"]) {
      commands.push(["SELECT", db]);
      for (let i = 0; i < 40; i++) commands.push(["SET", `p:${i}`, VALUE]);
      for (let i = 0; i < 30; i++) commands.push(["SET", `v:${i}`, VALUE, "EX", String(1000 + i)]);
      commands.push(["HSET", "vh", "f", "v"], ["EXPIRE", "vh", "500"], ["RPUSH", "pl", "a", "b"]);
    }
    commands.push(["SELECT", "0"]);
    for (const cmd of commands) await o.same(...cmd);
  }

  for (const policy of ["noeviction", "allkeys-lru", "volatile-lru", "allkeys-lfu", "volatile-lfu", "allkeys-random", "volatile-random", "volatile-ttl"]) {
    test(`${policy} under maxmemory 1 evicts exactly what it may, counted and refused alike`, async () => {
      await mixedDataset();
      // No time limit: every key the policy allows goes within CONFIG SET.
      await o.sameAll([
        ["CONFIG", "RESETSTAT"],
        ["CONFIG", "SET", "maxmemory-eviction-tenacity", "100"],
        ["CONFIG", "SET", "maxmemory-policy", policy],
        ["CONFIG", "SET", "maxmemory", "1"],
      ]);
      // Evictions ran in CONFIG SET (Redis's updateMaxmemory); the next write finds nothing more to free.
      await o.same("SET", "new", "1");
      const [redisStats, redbunStats] = await o.both("INFO", "stats");
      expect(infoField(redbunStats, "evicted_keys")).toBe(infoField(redisStats, "evicted_keys"));
      await o.same("CONFIG", "SET", "maxmemory", "0");
      for (const db of ["0", "3"]) {
        await o.same("SELECT", db);
        const [want, got] = await o.both("KEYS", "*");
        expect(bulkArray(got).sort()).toEqual(bulkArray(want).sort());
      }
      await o.same("SELECT", "0");
    });
  }

  test("volatile-ttl evicts the keys nearest to expiring first, and only keys with a TTL", async () => {
    const setup: string[][] = [["CONFIG", "SET", "maxmemory-samples", "10"]];
    for (let i = 0; i < 300; i++) setup.push(["SET", `v:${i}`, VALUE, "EX", String(10_000 + i * 10)]);
    for (let i = 0; i < 100; i++) setup.push(["SET", `p:${i}`, VALUE]);
    await onEach(setup);
    await Promise.all([capAtPresentUsage(o.r, "volatile-ttl"), capAtPresentUsage(o.b, "volatile-ttl")]);
    await onEach(range("new", 0, 150).map((key) => ["SET", key, VALUE]));
    for (const conn of [o.r, o.b]) {
      expect(await existing(conn, [...range("p", 0, 100), ...range("new", 0, 150)])).toBe(250);
      const survivors: number[] = [];
      const evicted: number[] = [];
      for (let i = 0; i < 300; i++) ((await conn.call("EXISTS", `v:${i}`)) === ":1\r\n" ? survivors : evicted).push(i);
      expect(evicted.length).toBeGreaterThan(50);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      // A perfect order would evict 0..n-1; sampling approximates it.
      expect(mean(evicted)).toBeLessThan(evicted.length);
      expect(mean(survivors)).toBeGreaterThan(mean(evicted) + 80);
    }
  });

  /**
   * With the 600 keys old:* in place, cap each server at its present usage under `policy`
   * and write 400 new keys, reading the hot ones between batches: most cold old keys go,
   * nearly every hot one stays.
   */
  async function fillReadingHotKeys(policy: string, hot: string[]): Promise<void> {
    await Promise.all([capAtPresentUsage(o.r, policy), capAtPresentUsage(o.b, policy)]);
    const readHot = hot.map((key) => ["GET", key]);
    for (let batch = 0; batch < 8; batch++) {
      await onEach([...range("new", batch * 50, batch * 50 + 50).map((key) => ["SET", key, VALUE]), ...readHot]);
    }
    for (const conn of [o.r, o.b]) {
      expect(await existing(conn, range("old", 100, 600))).toBeLessThan(300);
      // Sampling is approximate: once few cold keys are left, a read key may go now and then
      // (on either server). Random eviction would keep about 60 of the 100.
      expect(await existing(conn, hot)).toBeGreaterThanOrEqual(80);
    }
  }

  test("allkeys-lru keeps the keys read while the dataset is filled past maxmemory", async () => {
    // The LRU clock counts seconds: keys restored with IDLETIME look a minute old without a wait.
    await o.r.call("SET", "src", VALUE);
    const payload = Buffer.from(dumpPayload(await o.r.call("DUMP", "src"))!).toString("latin1");
    await o.r.call("DEL", "src");
    await onEach(range("old", 0, 600).map((key) => ["RESTORE", key, "0", payload, "IDLETIME", "60"]));
    const hot = range("old", 0, 100);
    await onEach(hot.map((key) => ["GET", key]));
    await fillReadingHotKeys("allkeys-lru", hot);
  });

  test("allkeys-lfu keeps the keys read often while the dataset is filled past maxmemory", async () => {
    // The keys count their reads only while an LFU policy is set.
    await o.same("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu");
    await onEach(range("old", 0, 600).map((key) => ["SET", key, VALUE]));
    const hot = range("old", 0, 100);
    for (let i = 0; i < 5; i++) await onEach(hot.map((key) => ["GET", key]));
    await fillReadingHotKeys("allkeys-lfu", hot);
  });
});

describe("what an eviction tells", () => {
  test("`evicted` keyspace events, one per key, on both channels", async () => {
    await sameOnBoth(o, async (side: Side) => {
      const [admin, sub] = [await side.connect(), await side.connect()];
      await sub.call("PSUBSCRIBE", "__key*__:*");
      await admin.call("CONFIG", "SET", "notify-keyspace-events", "KEe");
      for (let i = 0; i < 10; i++) await admin.call("SET", `v:${i}`, "1", "EX", "100");
      await admin.call("SET", "keep", "1");
      await admin.call("CONFIG", "SET", "maxmemory-policy", "volatile-random");
      await admin.call("CONFIG", "SET", "maxmemory", "1");
      await admin.call("CONFIG", "SET", "maxmemory", "0");
      const events: string[] = [];
      for (let i = 0; i < 20; i++) events.push(await sub.read());
      return events.sort();
    });
  });

  test("a WATCHed key that is evicted makes EXEC fail", async () => {
    await sameOnBoth(o, async (side: Side) => {
      const [client, admin] = [await side.connect(), await side.connect()];
      const seen = [await client.call("SET", "w", "1", "EX", "100"), await client.call("SET", "other", "1"), await client.call("WATCH", "w", "other")];
      seen.push(await admin.call("CONFIG", "SET", "maxmemory-policy", "volatile-lru"), await admin.call("CONFIG", "SET", "maxmemory", "1"));
      seen.push(await admin.call("CONFIG", "SET", "maxmemory", "0"));
      seen.push(await client.call("MULTI"), await client.call("SET", "x", "1"), await client.call("EXEC"), await client.call("EXISTS", "w", "other", "x"));
      return seen;
    });
  });

  test("evictions reach the AOF as DEL, or UNLINK with lazyfree-lazy-eviction", async () => {
    const commands = [
      ["SET", "keep", "1"],
      ["SET", "v1", "1"],
      ["PEXPIREAT", "v1", "99999999999999"],
      ["CONFIG", "SET", "maxmemory-policy", "volatile-lru"],
      ["CONFIG", "SET", "maxmemory", "1"],
      ["CONFIG", "SET", "maxmemory", "0"],
      ["SELECT", "2"],
      ["SET", "v2", "1"],
      ["PEXPIREAT", "v2", "99999999999999"],
      ["CONFIG", "SET", "lazyfree-lazy-eviction", "yes"],
      ["CONFIG", "SET", "maxmemory", "1"],
      ["CONFIG", "SET", "maxmemory", "0"],
      ["SET", "after", "1"],
    ];
    const files: string[][][] = [];
    for (const which of ["redis", "redbun"] as const) {
      const dir = tempDir(`evict-aof-${which}`);
      try {
        await using server = await startIn(which, dir, AOF_ARGS);
        const conn = await RespConn.connect(server.port);
        for (const cmd of commands) await conn.call(...cmd);
        conn.close();
        files.push(readCommands(aofFile(dir, ".1.incr.aof")));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    expect(files[1]).toEqual(files[0]!);
    expect(files[0]).toContainEqual(["DEL", "v1"]);
    expect(files[0]).toContainEqual(["UNLINK", "v2"]);
  });
});

describe("access data", () => {
  test("OBJECT FREQ counts accesses as Redis does (deterministic with lfu-log-factor 0)", async () => {
    // A maxmemory keeps small integers unshared, as their shared objects carry no data of their own.
    await o.sameAll([
      ["CONFIG", "SET", "maxmemory", "100mb"],
      ["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
      ["SET", "k", "v"],
      ["OBJECT", "FREQ", "k"],
      ["GET", "k"],
      ["OBJECT", "FREQ", "k"],
      ["CONFIG", "SET", "lfu-log-factor", "0"],
    ]);
    const steps = [
      ["GET", "k"], ["SET", "k", "v2"], ["GETSET", "k", "z"], ["MSET", "k", "a", "k2", "b"], ["SETNX", "k", "q"], ["EXISTS", "k"], ["TYPE", "k"],
      ["INCR", "n"], ["INCR", "n"], ["APPEND", "n", "5"], ["SETRANGE", "n", "0", "9"],
      ["HSET", "h", "a", "1"], ["HSET", "h", "b", "2"], ["HGET", "h", "a"],
      ["SADD", "s", "1"], ["SADD", "s", "a"], ["SUNIONSTORE", "d", "s"],
      ["RPUSH", "l", "a"], ["RPUSH", "l", "b"], ["LRANGE", "l", "0", "-1"], ["COPY", "l", "l2"], ["RENAME", "l", "l3"], ["LPUSH", "l3", "x"],
      ["ZADD", "z", "1", "a"], ["ZINCRBY", "z", "1", "a"], ["ZSCORE", "z", "a"],
    ];
    for (const step of steps) {
      await o.same(...step);
      for (const key of ["k", "k2", "n", "h", "s", "d", "l2", "l3", "z"]) await o.same("OBJECT", "FREQ", key);
    }
    await o.same("OBJECT", "IDLETIME", "k");
  });

  test("OBJECT IDLETIME: zero after an access, RESTORE IDLETIME sets it, no access from OBJECT itself", async () => {
    await o.r.call("SET", "src", "v");
    const payload = Buffer.from(dumpPayload(await o.r.call("DUMP", "src"))!).toString("latin1");
    await o.r.call("DEL", "src");
    await o.sameAll([
      ["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"],
      ["SET", "k", "v"],
      ["OBJECT", "IDLETIME", "k"],
      ["RESTORE", "old", "0", payload, "IDLETIME", "1000"],
      ["OBJECT", "IDLETIME", "old"],
      ["OBJECT", "IDLETIME", "old"],
      ["TYPE", "old"],
      ["OBJECT", "IDLETIME", "old"],
      ["GET", "old"],
      ["OBJECT", "IDLETIME", "old"],
      ["OBJECT", "FREQ", "old"],
      ["CONFIG", "SET", "maxmemory-policy", "volatile-lfu"],
      ["OBJECT", "IDLETIME", "old"],
    ]);
  });
});

describe("CONFIG SET maxmemory at runtime", () => {
  test("accepts units and reads back in bytes", async () => {
    for (const value of ["100mb", "1gb", "1GB", "512kb", "3k", "2m", "1g", "12345", "0", "1.5mb", "-1", "10xb", ""]) {
      await o.same("CONFIG", "SET", "maxmemory", value);
      await o.same("CONFIG", "GET", "maxmemory");
    }
    await o.same("CONFIG", "SET", "maxmemory", "0");
  });

  test("shrinking it evicts at once, down to the new limit, and writes go on", async () => {
    await onEach([["CONFIG", "RESETSTAT"], ...range("k", 0, 4000).map((key) => ["SET", key, VALUE])]);
    for (const conn of [o.r, o.b]) {
      const used = await usedMemoryByProbe(conn);
      await conn.call("CONFIG", "SET", "maxmemory-policy", "allkeys-random");
      await conn.call("CONFIG", "SET", "maxmemory-eviction-tenacity", "100");
      // Drop about half of what the keys take; the rest of the usage is the server's own.
      const keyBytes = 4000 * VALUE.length;
      expect(await conn.call("CONFIG", "SET", "maxmemory", String(used - keyBytes / 2))).toBe("+OK\r\n");
      // Read both at once: memory that frees later (the big pipeline's buffers) may let
      // the check before a later command evict a few more.
      await conn.call("MULTI");
      await conn.call("DBSIZE");
      await conn.call("INFO", "stats");
      const [dbsize, stats] = bulkOrIntegers(await conn.call("EXEC"));
      const left = Number(dbsize);
      expect(left).toBeLessThan(3500);
      expect(left).toBeGreaterThan(500);
      expect(Number(infoField(stats!, "evicted_keys"))).toBe(4000 - left);
      expect(await conn.call("SET", "after", VALUE)).toBe("+OK\r\n");
    }
  });

  test("with tenacity 0 a large deficit is worked off between commands, not in one go", async () => {
    await onEach(range("k", 0, 30_000).map((key) => ["SET", key, "v"]));
    for (const conn of [o.r, o.b]) {
      await conn.call("CONFIG", "SET", "maxmemory-policy", "allkeys-random");
      await conn.call("CONFIG", "SET", "maxmemory-eviction-tenacity", "0");
      // Every key has to go: CONFIG SET evicts 16 and leaves the rest to the event loop.
      await conn.call("CONFIG", "SET", "maxmemory", "1");
      const first = Number((await conn.call("DBSIZE")).slice(1, -2));
      expect(first).toBeGreaterThan(0);
      const deadline = Date.now() + 10_000;
      while ((await conn.call("DBSIZE")) !== ":0\r\n") {
        if (Date.now() > deadline) throw new Error("keys left after 10 s");
        await Bun.sleep(5);
      }
      await conn.call("CONFIG", "SET", "maxmemory", "0");
    }
  });
});
