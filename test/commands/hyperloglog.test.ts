// HyperLogLog commands against the real redis-server 7.0: replies byte for byte, and the
// values themselves (GET) byte for byte, sparse and dense, so that an HLL made by either
// server reads the same on the other. Also the errors for strings that are no HLL, the
// cached cardinality, PFMERGE's destinations, PFDEBUG, keyspace events and what counts as
// a change (rdb_changes_since_last_save, which decides propagation).

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { Oracle, RespConn } from "../oracle/harness.ts";
import { eventsUntilMarker, listenForEvents } from "../oracle/keyspace-events.ts";
import { aofFile, readCommands, startIn, tempDir } from "../persistence/aof-helpers.ts";
import { HLL_DENSE_SIZE, HLL_REGISTERS, denseSetRegister } from "../../src/store/hyperloglog.ts";

let o: Oracle;

beforeAll(async () => {
  o = await Oracle.start(["--enable-debug-command", "yes"]);
});
afterAll(() => o.stop());
beforeEach(async () => {
  await o.same("FLUSHALL");
  await o.same("CONFIG", "SET", "hll-sparse-max-bytes", "3000");
});

/** The content of a bulk string reply. */
function bulk(reply: string): string {
  const cr = reply.indexOf("\r\n");
  return reply.slice(cr + 2, cr + 2 + Number(reply.slice(1, cr)));
}

/** Elements e<from> .. e<to-1>. */
const elements = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => `e${from + i}`);

/** The value, its count, encoding, and the value again (the count caches itself), all equal. */
async function sameHll(key: string): Promise<void> {
  await o.same("GET", key);
  await o.same("PFCOUNT", key);
  await o.same("GET", key);
  await o.same("OBJECT", "ENCODING", key);
  await o.same("PFDEBUG", "ENCODING", key);
}

/** A valid sparse HLL with a given body of opcodes (cache marked invalid). */
function sparseHll(body: number[], card = [0, 0, 0, 0, 0, 0, 0, 0x80]): string {
  return String.fromCharCode(72, 89, 76, 76, 1, 0, 0, 0, ...card, ...body);
}

describe("PFADD and PFCOUNT", () => {
  test("sparse values grow byte for byte identical, then turn dense", async () => {
    let added = 0;
    for (const step of [1, 1, 2, 5, 10, 30, 50, 100, 200, 400, 600, 1000, 3000, 10000]) {
      await o.same("PFADD", "h", ...elements(added, added + step));
      added += step;
      await sameHll("h");
    }
    expect(await o.same("PFDEBUG", "ENCODING", "h")).toBe("+dense\r\n");
  });

  test("one element at a time up to the promotion, for each small hll-sparse-max-bytes", async () => {
    // Every limit from 24 to 64 bytes: the value turns dense exactly when an edit would
    // make it longer than the limit, not one byte earlier or later.
    for (let limit = 24; limit <= 64; limit++) {
      await o.same("CONFIG", "SET", "hll-sparse-max-bytes", String(limit));
      await o.same("DEL", "h");
      for (let i = 0; (await o.same("PFDEBUG", "ENCODING", "h").catch(() => "")) !== "+dense\r\n" && i < 100; i++) {
        await o.same("PFADD", "h", `x${limit}.${i}`);
        await o.same("GET", "h");
      }
      await sameHll("h");
    }
  });

  test("replies: created, changed, unchanged, no elements, binary elements", async () => {
    await o.sameAll([
      ["PFADD", "h"], ["GET", "h"], ["PFADD", "h"], ["PFADD", "h", "a"], ["PFADD", "h", "a"], ["PFADD", "h", "a", "b"],
      ["PFADD", "h", "", "\x00", "\xff\xfe", "x".repeat(1000)], ["PFCOUNT", "h"], ["PFCOUNT", "missing"],
      ["PFADD", "h2", "a"], ["PFCOUNT", "h", "h2", "missing"], ["PFCOUNT", "h2", "h"],
    ]);
    // Elements of every length cover each tail length of the hash.
    const long = Array.from({ length: 40 }, (_, n) => "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH".slice(0, n));
    await o.same("PFADD", "h3", ...long);
    await sameHll("h3");
  });

  test("dense adds change the value in place, the cache is invalidated and rewritten", async () => {
    await o.same("PFADD", "h", ...elements(0, 5000));
    for (let round = 0; round < 5; round++) {
      await o.same("PFADD", "h", ...elements(5000 + round * 37, 5000 + round * 37 + 40));
      await sameHll("h");
      await o.same("PFADD", "h", "e1");
      await o.same("GET", "h");
    }
  });

  test("an HLL from Redis counts the same on redbun, and the other way round", async () => {
    for (const n of [3, 300, 30000]) {
      await o.r.call("PFADD", `r${n}`, ...elements(0, n));
      await o.b.call("PFADD", `b${n}`, ...elements(n, 2 * n));
      const fromRedis = bulk(await o.r.call("GET", `r${n}`));
      const fromRedbun = bulk(await o.b.call("GET", `b${n}`));
      await o.same("SET", `r${n}`, fromRedis);
      await o.same("SET", `b${n}`, fromRedbun);
      await sameHll(`r${n}`);
      await sameHll(`b${n}`);
      await o.same("PFADD", `r${n}`, "more", "elements");
      await o.same("PFCOUNT", `r${n}`, `b${n}`);
      await o.same("GET", `r${n}`);
    }
  });

  test("a value that SET made embstr becomes raw when a PF command touches it", async () => {
    await o.r.call("PFADD", "src", "a");
    const value = bulk(await o.r.call("GET", "src"));
    for (const command of [["PFCOUNT", "h"], ["PFADD", "h"], ["PFADD", "h", "a"], ["PFDEBUG", "ENCODING", "h"], ["PFMERGE", "h"]]) {
      await o.same("SET", "h", value);
      await o.same("OBJECT", "ENCODING", "h");
      await o.same(...command);
      await o.same("OBJECT", "ENCODING", "h");
      await o.same("GET", "h");
    }
  });

  test("the cached cardinality is used while valid", async () => {
    await o.same("PFADD", "h", "a", "b", "c");
    await o.same("PFCOUNT", "h");
    const value = bulk(await o.r.call("GET", "h"));
    // A forged cache of 12345, then of 2^62 + 1: PFCOUNT believes it.
    const forged = (card: number[]) => value.slice(0, 8) + String.fromCharCode(...card) + value.slice(16);
    await o.same("SET", "h", forged([0x39, 0x30, 0, 0, 0, 0, 0, 0]));
    await o.same("PFCOUNT", "h");
    await o.same("SET", "h", forged([1, 0, 0, 0, 0, 0, 0, 0x40]));
    await o.same("PFCOUNT", "h");
    await o.same("PFCOUNT", "h", "h");
    await o.same("PFADD", "h", "d");
    await sameHll("h");
  });
});

describe("crafted dense values", () => {
  /** A dense HLL with every register at `value` (cache invalid). */
  function denseAll(value: number): string {
    const hll = new Uint8Array(HLL_DENSE_SIZE);
    hll.set([72, 89, 76, 76, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80]);
    for (let reg = 0; reg < HLL_REGISTERS; reg++) denseSetRegister(hll, reg, value);
    return Buffer.from(hll).toString("latin1");
  }

  test("registers above Redis's reach: huge and overflowing estimates", async () => {
    for (const value of [1, 32, 40, 50, 51, 63]) {
      await o.same("SET", "d", denseAll(value));
      await o.same("PFCOUNT", "d", "missing");
      await o.same("PFCOUNT", "d");
      await o.same("GET", "d");
      await o.same("PFCOUNT", "d");
      await o.same("PFMERGE", "m", "d");
      await o.same("GET", "m");
      await o.same("PFADD", "d", "a", "b");
      await o.same("GET", "d");
    }
  });
});

describe("errors", () => {
  const notHll = [
    "", "HYLL", "x".repeat(20), "12345678901234567890", "HYLL\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff",
    "HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80" + "\x00".repeat(100), "hyll\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff",
  ];
  test("strings that are no HLL, and keys of other types", async () => {
    await o.same("RPUSH", "list", "a");
    for (const value of notHll) {
      await o.same("SET", "s", value);
      for (const cmd of [["PFADD", "s", "a"], ["PFCOUNT", "s"], ["PFCOUNT", "missing", "s"], ["PFMERGE", "s"], ["PFMERGE", "d", "s"], ["PFDEBUG", "GETREG", "s"]]) {
        await o.same(...cmd);
      }
      await o.same("EXISTS", "d");
    }
    for (const cmd of [["PFADD", "list", "a"], ["PFCOUNT", "list"], ["PFCOUNT", "list", "x"], ["PFMERGE", "list", "x"], ["PFMERGE", "x", "list"], ["PFDEBUG", "ENCODING", "list"]]) {
      await o.same(...cmd);
    }
  });

  test("corrupted sparse values", async () => {
    const corrupt = [
      sparseHll([0x7f, 0xfe]), // XZERO covering 16383 registers
      sparseHll([0x7f, 0xff, 0x00]), // one register too many
      sparseHll([0x80, 0x7f, 0xfe, 0x80]), // VAL past the end
      sparseHll([0x40]), // XZERO cut short
      sparseHll([]),
      sparseHll([0x3f, 0x3f]), // 128 registers only
    ];
    for (const value of corrupt) {
      for (const cmd of [
        ["PFADD", "c", "a", "b", "c", "d", "e", "f"], ["PFADD", "c"], ["PFCOUNT", "c"], ["PFCOUNT", "c", "c"], ["PFMERGE", "d", "c"],
        ["PFMERGE", "c"], ["PFDEBUG", "GETREG", "c"], ["PFDEBUG", "DECODE", "c"], ["PFDEBUG", "TODENSE", "c"], ["PFDEBUG", "ENCODING", "c"],
      ]) {
        await o.same("SET", "c", value);
        await o.same(...cmd);
        await o.same("GET", "c");
        await o.same("EXISTS", "d");
      }
    }
  });

  test("PFDEBUG's own errors and arity", async () => {
    await o.same("PFADD", "h", "a");
    await o.sameAll([
      ["PFDEBUG", "GETREG", "missing"], ["PFDEBUG", "nosuch", "missing"], ["PFDEBUG", "nosuch", "h"], ["PFDEBUG", "no\x00such\r\nthing", "h"], ["PFDEBUG", "GETREG"],
      ["PFDEBUG", "GETREG", "h", "x"], ["PFADD"], ["PFCOUNT"], ["PFMERGE"], ["PFSELFTEST", "x"],
    ]);
  });
});

describe("PFMERGE", () => {
  test("into missing and existing destinations, from sparse, dense and missing sources", async () => {
    await o.same("PFADD", "s1", ...elements(0, 20));
    await o.same("PFADD", "s2", ...elements(10, 60));
    await o.same("PFADD", "d1", ...elements(0, 4000));
    await o.sameAll([
      ["PFMERGE", "m1", "s1", "s2"], ["GET", "m1"], ["PFMERGE", "m1", "missing"], ["GET", "m1"], ["PFMERGE", "m2"], ["GET", "m2"],
      ["PFMERGE", "s1", "s2"], ["GET", "s1"], ["PFMERGE", "m3", "s1", "d1"], ["GET", "m3"], ["PFMERGE", "s2", "d1"], ["GET", "s2"],
      ["PFMERGE", "d1", "s1"], ["GET", "d1"], ["PFMERGE", "m4", "missing", "nothing"], ["GET", "m4"],
    ]);
    for (const key of ["m1", "m2", "m3", "s1", "s2", "d1", "m4"]) await sameHll(key);
  });

  test("merging many sparse values crosses hll-sparse-max-bytes on the way", async () => {
    const sources: string[] = [];
    for (let k = 0; k < 8; k++) {
      await o.same("PFADD", `src${k}`, ...elements(k * 150, k * 150 + 150));
      sources.push(`src${k}`);
    }
    await o.same("PFMERGE", "all", ...sources);
    await sameHll("all");
    await o.same("CONFIG", "SET", "hll-sparse-max-bytes", "200");
    await o.same("PFMERGE", "small", "src0", "src1");
    await sameHll("small");
  });
});

describe("PFDEBUG and PFSELFTEST", () => {
  test("GETREG, DECODE, ENCODING, TODENSE", async () => {
    await o.same("PFADD", "h", ...elements(0, 100));
    await o.sameAll([
      ["PFDEBUG", "DECODE", "h"], ["PFDEBUG", "encoding", "h"], ["PFDEBUG", "TODENSE", "h"], ["PFDEBUG", "TODENSE", "h"],
      ["PFDEBUG", "DECODE", "h"], ["GET", "h"], ["PFDEBUG", "GETREG", "h"],
    ]);
    await o.same("PFADD", "g", "a", "b");
    await o.sameAll([["PFDEBUG", "GetReg", "g"], ["PFDEBUG", "ENCODING", "g"], ["GET", "g"]]);
  });

  test("PFSELFTEST passes", async () => {
    expect(await o.same("PFSELFTEST")).toBe("+OK\r\n");
  }, 60_000);
});

describe("side effects", () => {
  /** rdb_changes_since_last_save of a server. */
  async function changes(conn: RespConn): Promise<number> {
    const info = await conn.call("INFO", "persistence");
    return Number(/rdb_changes_since_last_save:(\d+)/.exec(info)![1]);
  }

  test("the changes each command counts, which decide what is propagated", async () => {
    await o.r.call("PFADD", "src", "a");
    const embstr = bulk(await o.r.call("GET", "src"));
    const steps: string[][] = [
      ["PFADD", "h", "a", "b", "c"], ["PFADD", "h", "a"], ["PFADD", "h"], ["PFADD", "n"], ["PFCOUNT", "h"], ["PFCOUNT", "h"],
      ["PFCOUNT", "h", "n"], ["PFMERGE", "m", "h"], ["PFMERGE", "m"], ["PFDEBUG", "ENCODING", "h"], ["PFDEBUG", "TODENSE", "h"],
      ["PFDEBUG", "TODENSE", "h"], ["PFDEBUG", "GETREG", "m"], ["PFDEBUG", "GETREG", "m"], ["SET", "e", embstr], ["PFCOUNT", "e"],
      ["PFCOUNT", "e"], ["PFCOUNT", "missing"],
    ];
    for (const step of steps) {
      const before = await Promise.all([changes(o.r), changes(o.b)]);
      await o.same(...step);
      const after = await Promise.all([changes(o.r), changes(o.b)]);
      expect([step, after[1] - before[1]]).toEqual([step, after[0] - before[0]]);
    }
  });

  test("what reaches the AOF: changes only, PFCOUNT's cache write included", async () => {
    const servers = await Promise.all((["redis", "redbun"] as const).map(async (which) => {
      const dir = tempDir(`hll-aof-${which}`);
      return { dir, server: await startIn(which, dir) };
    }));
    try {
      const conns = await Promise.all(servers.map(({ server }) => RespConn.connect(server.port)));
      const commands = [
        ["PFADD", "h", "a", "b"], ["PFADD", "h", "a"], ["PFCOUNT", "h"], ["PFCOUNT", "h"], ["PFCOUNT", "h", "x"],
        ["PFADD", "h"], ["PFMERGE", "m", "h"], ["PFDEBUG", "ENCODING", "m"], ["PFDEBUG", "GETREG", "m"], ["PFDEBUG", "TODENSE", "h"],
        ["PFDEBUG", "TODENSE", "h"], ["PFCOUNT", "m"], ["PFCOUNT", "m"], ["PFCOUNT", "missing"],
      ];
      for (const command of commands) {
        const [want, got] = await Promise.all(conns.map((conn) => conn.call(...command)));
        expect(got).toBe(want!);
      }
      for (const conn of conns) conn.close();
      const [want, got] = servers.map(({ dir }) => readCommands(aofFile(dir, ".1.incr.aof")));
      expect(got).toEqual(want!);
      expect(want!.map((c) => c[0])).toContain("PFCOUNT");
    } finally {
      await Promise.all(servers.map(({ server }) => server.stop()));
    }
  });

  test("time to live kept, WATCH broken by every change including PFCOUNT's cache write", async () => {
    await o.same("PFADD", "h", "a");
    await o.same("EXPIRE", "h", "1000");
    for (const command of [["PFADD", "h", "b"], ["PFCOUNT", "h"], ["PFMERGE", "h"], ["PFDEBUG", "TODENSE", "h"], ["PFADD", "h", "c"]]) {
      await o.same(...command);
      await o.same("TTL", "h");
    }
    for (const command of [["PFADD", "h", "d"], ["PFADD", "h", "d"], ["PFCOUNT", "h"], ["PFCOUNT", "h"], ["PFCOUNT", "h", "x"]]) {
      await o.same("WATCH", "h");
      await o.same(...command);
      await o.same("MULTI");
      await o.same("PING");
      await o.same("EXEC");
    }
  });

  test("keyspace hits and misses", async () => {
    const stats = async (conn: RespConn): Promise<string> => {
      const info = await conn.call("INFO", "stats");
      return /keyspace_hits:\d+\r\nkeyspace_misses:\d+/.exec(info)![0];
    };
    await o.same("CONFIG", "RESETSTAT");
    await o.sameAll([["PFADD", "h", "a"], ["PFCOUNT", "h"], ["PFCOUNT", "h", "x", "h"], ["PFMERGE", "m", "h", "y"], ["PFDEBUG", "ENCODING", "h"], ["PFCOUNT", "z"]]);
    const [want, got] = await Promise.all([stats(o.r), stats(o.b)]);
    expect(got).toBe(want);
  });

  test("keyspace events", async () => {
    const subs = await o.connectBoth();
    try {
      await listenForEvents(subs, "hll-test-marker");
      await o.same("CONFIG", "SET", "notify-keyspace-events", "KEA");
      await o.sameAll([
        ["PFADD", "h", "a"], ["PFADD", "h", "a"], ["PFCOUNT", "h"], ["PFMERGE", "m", "h"], ["PFMERGE", "m"],
        ["PFDEBUG", "TODENSE", "h"], ["PFCOUNT", "nothing"], ["PFADD", "n"],
      ]);
      await o.same("PUBLISH", "hll-test-marker", "end");
      const [want, got] = await Promise.all(subs.map((sub) => eventsUntilMarker(sub, "hll-test-marker")));
      expect(got).toEqual(want!);
      expect(want!.length).toBeGreaterThan(6);
    } finally {
      await o.same("CONFIG", "SET", "notify-keyspace-events", "");
      for (const sub of subs) sub.close();
    }
  });
});
