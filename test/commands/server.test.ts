// INFO, TIME, LASTSAVE and SHUTDOWN against real Redis 7.0: INFO's sections and field names
// in Redis's order, the values that are deterministic after a known command sequence, the
// reply shapes in RESP2 and RESP3; a real shutdown by command and by signal, with its log.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { Oracle, RespConn, encodeCommand } from "../oracle/harness.ts";
import { freshDir, logMessages, spawnReady, type ServerKind } from "../fixtures/logged-server.ts";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { LatencyHistogram } from "../../src/metrics/latency.ts";

let o: Oracle;
beforeAll(async () => {
  o = await Oracle.start();
});
afterAll(() => o.stop());
beforeEach(async () => {
  await o.same("FLUSHALL");
  await o.same("SELECT", "0");
});

// ---------------------------------------------------------------------------------------
// INFO text helpers.

/** The text of an INFO reply: a RESP2 bulk string or a RESP3 verbatim string ("txt:"). */
function infoBody(reply: string): string {
  const m = /^([$=])(\d+)\r\n/.exec(reply);
  if (m === null) throw new Error(`not an INFO reply: ${JSON.stringify(reply.slice(0, 80))}`);
  const start = m[0].length;
  const body = reply.slice(start, start + Number(m[2]));
  expect(reply.length).toBe(start + Number(m[2]) + 2);
  if (m[1] === "=") {
    expect(body.startsWith("txt:")).toBe(true);
    return body.slice(4);
  }
  return body;
}

interface Section {
  title: string;
  fields: [name: string, value: string][];
}

function parseInfo(reply: string): Section[] {
  const out: Section[] = [];
  for (const line of infoBody(reply).split("\r\n")) {
    if (line.startsWith("# ")) out.push({ title: line.slice(2), fields: [] });
    else if (line !== "") {
      const colon = line.indexOf(":");
      out.at(-1)!.fields.push([line.slice(0, colon), line.slice(colon + 1)]);
    }
  }
  return out;
}

/** Sections whose lines Redis prints in hash-table order, which its random seed changes. */
const UNORDERED = new Set(["Commandstats", "Latencystats"]);

/** Titles and field names, sorted where Redis's own order is random. */
function infoShape(reply: string): string[] {
  return parseInfo(reply).map((s) => {
    const names = s.fields.map(([n]) => n);
    if (UNORDERED.has(s.title)) names.sort();
    return `${s.title}: ${names.join(" ")}`;
  });
}

function field(reply: string, name: string): string {
  for (const s of parseInfo(reply)) for (const [n, v] of s.fields) if (n === name) return v;
  throw new Error(`INFO has no ${name}`);
}

/** A field's value on both servers, for one INFO section. */
async function bothField(section: string, name: string): Promise<[string, string]> {
  const [r, b] = await o.both("INFO", section);
  return [field(r, name), field(b, name)];
}

/** Commandstats lines without the timings, sorted: "get:calls=2,rejected_calls=1,failed_calls=0". */
function commandCounts(reply: string): string[] {
  const section = parseInfo(reply).find((s) => s.title === "Commandstats");
  return (section?.fields ?? []).map(([n, v]) => `${n}:${v.replace(/usec=\d+,usec_per_call=[\d.]+,/, "")}`).sort();
}

// ---------------------------------------------------------------------------------------
// INFO sections and field names.

describe("INFO sections and field names", () => {
  const selectors: string[][] = [
    [],
    ["default"],
    ["all"],
    ["everything"],
    ["server"],
    ["clients"],
    ["memory"],
    ["persistence"],
    ["stats"],
    ["replication"],
    ["cpu"],
    ["modules"],
    ["module_list"],
    ["commandstats"],
    ["errorstats"],
    ["latencystats"],
    ["cluster"],
    ["keyspace"],
    ["SERVER", "Clients"],
    ["keyspace", "server", "cpu"],
    ["default", "commandstats"],
    ["keyspace", "keyspace"],
    ["foo"],
    ["foo", "cluster"],
    ["all", "foo"],
    ["EveryThing"],
  ];
  for (const sel of selectors) {
    test(`INFO ${sel.join(" ")}`.trimEnd(), async () => {
      // Some data and errors first, so that keyspace, errorstats and commandstats have lines.
      await o.sameAll([["SET", "k", "v"], ["LPUSH", "k", "x"], ["GET", "k"], ["GET"], ["SELECT", "3"], ["SET", "t", "1", "EX", "100"], ["SELECT", "0"]]);
      const [r, b] = await o.both("INFO", ...sel);
      expect(infoShape(b)).toEqual(infoShape(r));
    });
  }

  test("an unknown section alone is an empty bulk string", async () => {
    expect(await o.same("INFO", "nosuchsection")).toBe("$0\r\n\r\n");
  });

  test("RESP3 replies with a verbatim string, RESP2 with a bulk string", async () => {
    // HELLO's reply holds the connection id, which differs between the servers.
    for (const reply of await o.both("HELLO", "3")) expect(reply.startsWith("%7\r\n")).toBe(true);
    try {
      const [r, b] = await o.both("INFO", "server");
      expect(b.startsWith("=")).toBe(true);
      expect(infoShape(b)).toEqual(infoShape(r));
      expect(await o.same("INFO", "cluster")).toBe("=34\r\ntxt:# Cluster\r\ncluster_enabled:0\r\n\r\n");
      expect(await o.same("INFO", "nosuchsection")).toBe("=4\r\ntxt:\r\n");
    } finally {
      await o.both("HELLO", "2");
    }
    expect(await o.same("INFO", "cluster")).toBe("$30\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n");
  });
});

// ---------------------------------------------------------------------------------------
// INFO values that a known command sequence determines.

describe("INFO values", () => {
  test("keyspace lines count keys and keys with a TTL per database", async () => {
    await o.sameAll([
      ["SET", "a", "1"],
      ["SET", "b", "2", "EX", "100"],
      ["SET", "\x00bin\xff", "3", "PX", "100000"],
      ["SELECT", "5"],
      ["SET", "z", "1"],
      ["SELECT", "0"],
    ]);
    const [r, b] = await o.both("INFO", "keyspace");
    // avg_ttl is an estimate the expiry cycle keeps, sampled at different moments.
    const strip = (s: string) => infoBody(s).replace(/,avg_ttl=\d+/g, "");
    expect(strip(b)).toBe(strip(r));
    expect(strip(b)).toBe("# Keyspace\r\ndb0:keys=3,expires=2\r\ndb5:keys=1,expires=0\r\n");
  });

  test("command, hit, miss and error counters after a known sequence", async () => {
    await o.same("CONFIG", "RESETSTAT");
    await o.sameAll([
      ["SET", "a", "1"],
      ["GET", "a"],
      ["GET", "nope"],
      ["GET"],
      ["NOSUCHCOMMAND", "x"],
      ["SET", "a", "1", "EX", "0"],
      ["INCR", "a"],
      ["SET", "s", "hello"],
      ["INCR", "s"],
      ["MGET", "a", "nope", "s"],
      ["EXISTS", "a", "nope"],
      ["SET", "a", "1", "BADOPTION"],
      ["CONFIG", "GET", "nope"],
    ]);
    for (const name of ["total_commands_processed", "keyspace_hits", "keyspace_misses", "total_error_replies", "expired_keys"]) {
      const [want, got] = await bothField("stats", name);
      expect(`${name}:${got}`).toBe(`${name}:${want}`);
    }
    const [re, be] = await o.both("INFO", "errorstats");
    expect(infoBody(be)).toBe(infoBody(re));
    const [rc, bc] = await o.both("INFO", "commandstats");
    // CONFIG RESETSTAT's own line is checked by the next test.
    const noResetstat = (lines: string[]) => lines.filter((l) => !l.startsWith("cmdstat_config|resetstat"));
    expect(noResetstat(commandCounts(bc))).toEqual(noResetstat(commandCounts(rc)));
    expect(commandCounts(bc)).toContain("cmdstat_get:calls=2,rejected_calls=1,failed_calls=0");
    expect(commandCounts(bc)).toContain("cmdstat_set:calls=4,rejected_calls=0,failed_calls=2");
    expect(commandCounts(bc)).toContain("cmdstat_incr:calls=2,rejected_calls=0,failed_calls=1");
  });

  test("CONFIG RESETSTAT itself is one successful call", async () => {
    await o.same("GET");
    await o.same("CONFIG", "RESETSTAT");
    const [r, b] = await o.both("INFO", "commandstats");
    expect(commandCounts(b)).toEqual(commandCounts(r));
  });

  test("an unknown subcommand is an error but no command's rejected call", async () => {
    await o.same("CONFIG", "RESETSTAT");
    await o.same("CONFIG", "NOSUCHSUB");
    await o.same("CONFIG");
    const [r, b] = await o.both("INFO", "commandstats");
    expect(commandCounts(b)).toEqual(commandCounts(r));
    const [re, be] = await o.both("INFO", "errorstats");
    expect(infoBody(be)).toBe(infoBody(re));
  });

  test("errorstats lines come in byte order, whatever order the errors happened in", async () => {
    await o.same("CONFIG", "RESETSTAT");
    // The codes first happen as WRONGTYPE, ERR, EXECABORT; Redis prints them sorted.
    await o.sameAll([["SET", "s", "x"], ["LPUSH", "s", "x"], ["GET"], ["MULTI"], ["NOSUCHCOMMAND"], ["EXEC"]]);
    const [re, be] = await o.both("INFO", "errorstats");
    expect(infoBody(be)).toBe(infoBody(re));
    expect(infoBody(be)).toBe("# Errorstats\r\nerrorstat_ERR:count=2\r\nerrorstat_EXECABORT:count=1\r\nerrorstat_WRONGTYPE:count=1\r\n");
  });

  test("a key expired on access counts in expired_keys", async () => {
    await o.same("CONFIG", "RESETSTAT");
    await o.same("SET", "short", "v", "PX", "1");
    await Bun.sleep(20);
    await o.same("GET", "short");
    const [want, got] = await bothField("stats", "expired_keys");
    expect(got).toBe(want);
    expect(got).toBe("1");
  });

  test("connected_clients and total_connections_received follow connections", async () => {
    const [r0, b0] = await Promise.all([o.r.call("INFO", "everything"), o.b.call("INFO", "everything")]);
    const extra: RespConn[] = [];
    for (let i = 0; i < 3; i++) extra.push(...(await o.connectBoth()));
    for (const c of extra) expect(await c.call("PING")).toBe("+PONG\r\n");
    const [r1, b1] = await o.both("INFO", "everything");
    expect(Number(field(b1, "connected_clients"))).toBe(Number(field(b0, "connected_clients")) + 3);
    expect(Number(field(r1, "connected_clients"))).toBe(Number(field(r0, "connected_clients")) + 3);
    const received = (a: string, z: string) => Number(field(z, "total_connections_received")) - Number(field(a, "total_connections_received"));
    expect(received(b0, b1)).toBe(received(r0, r1));
    for (const c of extra) c.close();
    // The servers see the closes asynchronously: wait for both counts to drop back.
    for (let i = 0; i < 200; i++) {
      const [r2, b2] = await o.both("INFO", "clients");
      if (field(r2, "connected_clients") === field(r0, "connected_clients") && field(b2, "connected_clients") === field(b0, "connected_clients")) return;
      await Bun.sleep(10);
    }
    throw new Error("connected_clients did not drop back after the connections closed");
  });

  test("rdb_last_save_time equals LASTSAVE", async () => {
    const lastsave = await o.b.call("LASTSAVE");
    const info = await o.b.call("INFO", "persistence");
    expect(lastsave).toBe(`:${field(info, "rdb_last_save_time")}\r\n`);
  });

  test("configured values appear as set", async () => {
    await o.same("CONFIG", "SET", "maxclients", "123", "hz", "17", "maxmemory", "10mb", "maxmemory-policy", "allkeys-lru");
    try {
      for (const [section, name] of [["clients", "maxclients"], ["server", "hz"], ["server", "configured_hz"], ["memory", "maxmemory"], ["memory", "maxmemory_human"], ["memory", "maxmemory_policy"]]) {
        const [want, got] = await bothField(section!, name!);
        expect(`${name}:${got}`).toBe(`${name}:${want}`);
      }
    } finally {
      await o.same("CONFIG", "SET", "maxclients", "10000", "hz", "10", "maxmemory", "0", "maxmemory-policy", "noeviction");
    }
  });
});

// ---------------------------------------------------------------------------------------
// INFO latencystats.

describe("INFO latencystats", () => {
  test("the histogram reports Redis's bucket bounds", () => {
    const h = new LatencyHistogram();
    // Below 256 ns every value has its own bucket; above, buckets double in width.
    h.record(0);
    expect(h.valueAtPercentile(50)).toBe(1);
    const big = new LatencyHistogram();
    big.record(50_000);
    expect(big.valueAtPercentile(0)).toBe(49_920);
    expect(big.valueAtPercentile(50)).toBe(50_175);
    expect(big.valueAtPercentile(100)).toBe(50_175);
    const clamped = new LatencyHistogram();
    clamped.record(5e9);
    expect(clamped.valueAtPercentile(99)).toBeGreaterThanOrEqual(1e9);
  });

  test("percentiles split a distribution as Redis's do", () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 100; i++) h.record(i * 1000);
    expect(h.valueAtPercentile(50)).toBe(50_175);
    expect(h.valueAtPercentile(99)).toBe(99_327);
    expect(h.valueAtPercentile(100)).toBe(100_351);
    expect(h.valueAtPercentile(0)).toBe(1000);
  });

  test("a line per called command, with the configured percentiles", async () => {
    await o.same("CONFIG", "RESETSTAT");
    await o.sameAll([["SET", "a", "1"], ["GET", "a"], ["CONFIG", "GET", "hz"]]);
    const [r, b] = await o.both("INFO", "latencystats");
    expect(infoShape(b)).toEqual(infoShape(r));
    const line = infoBody(b).split("\r\n").find((l) => l.startsWith("latency_percentiles_usec_get:"));
    expect(line).toMatch(/^latency_percentiles_usec_get:p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}$/);
    await o.same("CONFIG", "SET", "latency-tracking-info-percentiles", "12.5 100 0");
    try {
      const [r2, b2] = await o.both("INFO", "latencystats");
      const names = (s: string) => [...infoBody(s).matchAll(/p[\d.]+=/g)].map((m) => m[0]);
      expect(names(b2)).toEqual(names(r2));
    } finally {
      await o.same("CONFIG", "SET", "latency-tracking-info-percentiles", "50 99 99.9");
    }
  });

  test("latency-tracking no hides the lines", async () => {
    await o.same("CONFIG", "SET", "latency-tracking", "no");
    try {
      expect(await o.same("INFO", "latencystats")).toBe("$16\r\n# Latencystats\r\n\r\n");
    } finally {
      await o.same("CONFIG", "SET", "latency-tracking", "yes");
    }
  });
});

// ---------------------------------------------------------------------------------------
// TIME and LASTSAVE.

test("TIME: seconds and microseconds as bulk strings, close to the clock, never going back", async () => {
  const shape = /^\*2\r\n\$(\d+)\r\n(\d+)\r\n\$(\d+)\r\n(\d+)\r\n$/;
  expect(await o.r.call("TIME")).toMatch(shape);
  let previousUs = 0;
  for (let i = 0; i < 50; i++) {
    const before = Date.now();
    const reply = await o.b.call("TIME");
    const after = Date.now();
    const m = shape.exec(reply)!;
    expect(m).not.toBeNull();
    expect(Number(m[1])).toBe(m[2]!.length);
    expect(Number(m[3])).toBe(m[4]!.length);
    const micros = Number(m[4]);
    expect(micros).toBeLessThan(1_000_000);
    const us = Number(m[2]) * 1e6 + micros;
    expect(us).toBeGreaterThanOrEqual(previousUs);
    expect(us / 1000).toBeGreaterThanOrEqual(before - 50);
    expect(us / 1000).toBeLessThanOrEqual(after + 50);
    previousUs = us;
  }
  await o.same("TIME", "extra");
});

test("LASTSAVE: a Unix time no later than now", async () => {
  const [r, b] = await o.both("LASTSAVE");
  for (const reply of [r, b]) {
    expect(reply).toMatch(/^:\d+\r\n$/);
    expect(Number(reply.slice(1, -2))).toBeLessThanOrEqual(Date.now() / 1000);
  }
  await o.same("LASTSAVE", "extra");
});

// ---------------------------------------------------------------------------------------
// SHUTDOWN.

test("SHUTDOWN argument errors and ABORT with no shutdown in progress", async () => {
  await o.sameAll([
    ["SHUTDOWN", "foo"],
    ["SHUTDOWN", "SAVE", "NOSAVE"],
    ["SHUTDOWN", "nosave", "save"],
    ["SHUTDOWN", "ABORT"],
    ["shutdown", "abort"],
    ["SHUTDOWN", "ABORT", "NOW"],
    ["SHUTDOWN", "NOW", "ABORT"],
    ["SHUTDOWN", "FORCE", "ABORT"],
    ["SHUTDOWN", "NOSAVE", "ABORT"],
    ["SHUTDOWN", "NOW", "FORCE", "BOGUS"],
  ]);
  // Both are still up.
  await o.same("PING");
});

/** The last `n` log messages of a server that stopped, normalised for comparison. */
function lastMessages(log: string, n: number): string[] {
  return logMessages(log).slice(-n);
}

/** Run `stop` on a fresh redis-server and redbun; both must exit 0 with the same last log lines. */
async function compareStop(stop: (kind: ServerKind, s: Awaited<ReturnType<typeof spawnReady>>) => Promise<string>, lines: number) {
  const results: Record<string, { code: number; messages: string[]; said: string }> = {};
  await Promise.all(
    (["redis", "redbun"] as const).map(async (kind) => {
      await using s = await spawnReady(kind);
      const said = await stop(kind, s);
      const code = await s.exited();
      results[kind] = { code, messages: lastMessages(s.log, lines), said };
    }),
  );
  expect(results.redbun!.code).toBe(0);
  expect(results.redis!.code).toBe(0);
  expect(results.redbun!.said).toBe(results.redis!.said);
  expect(results.redbun!.messages).toEqual(results.redis!.messages);
  return results.redbun!;
}

for (const args of [["SHUTDOWN"], ["SHUTDOWN", "NOSAVE"], ["shutdown", "now", "force", "nosave"]]) {
  test(`${args.join(" ")} closes the connection without a reply, logs like Redis and exits 0`, async () => {
    const r = await compareStop(async (_kind, s) => {
      const c = await s.connect();
      c.write(encodeCommand([...args]));
      return c.readUntilClosed();
    }, 2);
    expect(r.said).toBe("");
    expect(r.messages).toEqual(["# User requested shutdown...", "# SERVER is now ready to exit, bye bye..."]);
  });
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  test(`${signal} shuts down cleanly with Redis's log lines`, async () => {
    const r = await compareStop(async (_kind, s) => {
      s.proc.kill(signal);
      return "";
    }, 3);
    expect(r.messages).toEqual([
      `signal-handler Received ${signal} scheduling shutdown...`,
      "# User requested shutdown...",
      "# SERVER is now ready to exit, bye bye...",
    ]);
  });
}

test("a shutdown with save points, or SAVE, writes the RDB file first, as Redis does", async () => {
  for (const [args, saves] of [[["SHUTDOWN"], true], [["SHUTDOWN", "NOSAVE"], false], [["SHUTDOWN", "SAVE"], true]] as const) {
    const dir = freshDir();
    // Redis's default save points, which the other tests turn off.
    await using s = await spawnReady("redbun", ["--save", "3600 1"], { cwd: dir });
    const c = await s.connect();
    c.write(encodeCommand([...args]));
    expect(await c.readUntilClosed()).toBe("");
    expect(await s.exited()).toBe(0);
    const messages = logMessages(s.log);
    expect(messages.includes("* Saving the final RDB snapshot before exiting.")).toBe(saves);
    expect(messages.includes("* DB saved on disk")).toBe(saves);
    expect(existsSync(join(dir, "dump.rdb"))).toBe(saves);
  }
});

test("SHUTDOWN fails with Redis's error when the final save cannot be written, and FORCE exits anyway", async () => {
  const dir = freshDir();
  await using s = await spawnReady("redbun", ["--save", "3600 1"], { cwd: dir });
  const c = await s.connect();
  // A directory where the file should go makes the rename fail.
  mkdirSync(join(dir, "dump.rdb"));
  await c.call("SET", "k", "v");
  expect(await c.call("SHUTDOWN")).toBe("-ERR Errors trying to SHUTDOWN. Check logs.\r\n");
  expect(await c.call("PING")).toBe("+PONG\r\n");
  c.write(encodeCommand(["SHUTDOWN", "FORCE"]));
  expect(await c.readUntilClosed()).toBe("");
  expect(await s.exited()).toBe(0);
  expect(logMessages(s.log)).toContain("# Error trying to save the DB. Exit anyway.");
});

test("a signal whose final save fails leaves the server up, with Redis's log lines in Redis's order", async () => {
  const logs: string[][] = [];
  for (const kind of ["redis", "redbun"] as const) {
    const dir = freshDir();
    await using s = await spawnReady(kind, ["--save", "3600 1", "--dir", dir]);
    const c = await s.connect();
    mkdirSync(join(dir, "dump.rdb"));
    await c.call("SET", "k", "v");
    s.proc.kill("SIGTERM");
    await s.waitForLog(/Errors trying to shut down the server/);
    expect(await c.call("PING")).toBe("+PONG\r\n");
    const messages = logMessages(s.log);
    // From the signal on; the save's own error lines name Redis's or redbun's temp file.
    const from = messages.findIndex((m) => m.includes("Received SIGTERM"));
    logs.push(messages.slice(from).filter((m) => !m.includes("temp-")));
  }
  expect(logs[1]).toEqual(logs[0]!);
});
