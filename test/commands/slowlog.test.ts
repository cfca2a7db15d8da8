// SLOWLOG and LATENCY against the real redis-server. Ids, times, durations and client
// addresses differ between the servers by nature, so entries are compared with those
// normalised; everything else (shapes, arguments, truncation, redaction, errors, help)
// must match byte for byte.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { Oracle, type RespConn, encodeCommand } from "../oracle/harness.ts";
import { blockedClients, sameOnBoth } from "../oracle/sides.ts";
import { decodeReply, type Reply } from "../oracle/resp.ts";
import { LatencyHistogram } from "../../src/metrics/latency.ts";
import { cumulativeBuckets } from "../../src/commands/slowlog.ts";
import { HISTORY_LEN, LatencySeries } from "../../src/metrics/latency-monitor.ts";

let o: Oracle;

beforeAll(async () => {
  o = await Oracle.start(["--enable-debug-command", "yes"]);
});
afterAll(async () => {
  await o.stop();
});
beforeEach(async () => {
  await o.same("CONFIG", "SET", "slowlog-log-slower-than", "10000");
  await o.same("CONFIG", "SET", "slowlog-max-len", "128");
  await o.same("CONFIG", "SET", "latency-monitor-threshold", "0");
  await o.same("FLUSHALL");
  await o.same("SLOWLOG", "RESET");
  await o.both("LATENCY", "RESET");
});

/** A SLOWLOG GET reply with each entry's id, time, duration and address blanked. */
function normalised(reply: string): Reply {
  const entries = decodeReply(reply) as Reply[];
  return entries.map((e) => {
    const [id, time, duration, args, addr, name] = e as Reply[];
    expect(typeof id).toBe("number");
    expect(Math.abs((time as number) - Date.now() / 1000)).toBeLessThan(5);
    expect(duration as number).toBeGreaterThanOrEqual(0);
    expect(addr as string).toMatch(/^127\.0\.0\.1:\d+$/);
    return [args!, name!];
  });
}

/** SLOWLOG GET on both servers, compared once normalised. */
async function sameSlowlog(...args: string[]): Promise<Reply> {
  const [want, got] = await o.both("SLOWLOG", "GET", ...args);
  expect(normalised(got)).toEqual(normalised(want));
  return normalised(want);
}

test("every command is logged with slower-than 0, newest first, ids rising", async () => {
  await o.same("CONFIG", "SET", "slowlog-log-slower-than", "0");
  await o.same("SET", "k", "v");
  await o.same("CLIENT", "SETNAME", "me");
  await o.same("GET", "k");
  const entries = (await sameSlowlog("-1")) as Reply[];
  expect(entries.length).toBe(4);
  const [, got] = await o.both("SLOWLOG", "GET");
  const ids = (decodeReply(got) as Reply[][]).map((e) => e[0] as number);
  expect(ids).toEqual([...ids].sort((a, b) => b - a));
  await o.same("SLOWLOG", "LEN");
  await sameSlowlog("2");
  await sameSlowlog("0");
  await o.same("SLOWLOG", "RESET");
  await o.same("SLOWLOG", "LEN");
  await o.same("CLIENT", "SETNAME", "");
});

test("nothing is logged under the threshold or when off", async () => {
  await o.same("SET", "k", "v");
  await o.same("SLOWLOG", "LEN");
  await o.same("CONFIG", "SET", "slowlog-log-slower-than", "-1");
  await o.same("DEBUG", "SLEEP", "0.02");
  await o.same("SLOWLOG", "LEN");
});

test("RESP3 entries have the same shape", async () => {
  const [r, b] = await o.connectBoth();
  await Promise.all([r.call("HELLO", "3"), b.call("HELLO", "3")]);
  await o.same("CONFIG", "SET", "slowlog-log-slower-than", "0");
  await Promise.all([r.call("SET", "a", "1"), b.call("SET", "a", "1")]);
  const [want, got] = await Promise.all([r.call("SLOWLOG", "GET", "1"), b.call("SLOWLOG", "GET", "1")]);
  expect(normalised(got)).toEqual(normalised(want));
  r.close();
  b.close();
});

test("long commands and long arguments are truncated as Redis truncates them", async () => {
  await o.same("CONFIG", "SET", "slowlog-log-slower-than", "0");
  const members = Array.from({ length: 40 }, (_, i) => `m${i}`);
  await o.same("SADD", "s", ...members);
  await o.same("SET", "big", "x".repeat(200));
  await o.same("RPUSH", "l", ...Array.from({ length: 31 }, (_, i) => `${i}`));
  await sameSlowlog("3");
});

test("AUTH and HELLO AUTH arguments are redacted", async () => {
  await o.same("CONFIG", "SET", "slowlog-log-slower-than", "0");
  await o.both("AUTH", "secret");
  await o.both("AUTH", "user", "secret");
  await o.both("HELLO", "2", "AUTH", "default", "secret");
  const entries = (await sameSlowlog("3")) as Reply[][];
  expect(JSON.stringify(entries)).not.toContain("secret");
});

test("slowlog-max-len trims the oldest entries", async () => {
  await o.same("CONFIG", "SET", "slowlog-log-slower-than", "0");
  await o.same("CONFIG", "SET", "slowlog-max-len", "3");
  for (let i = 0; i < 6; i++) await o.same("SET", `k${i}`, "v");
  await o.same("SLOWLOG", "LEN");
  await sameSlowlog("-1");
});

test("EXEC is not logged, the commands it ran are", async () => {
  await o.same("CONFIG", "SET", "slowlog-log-slower-than", "0");
  await o.same("MULTI");
  await o.same("SET", "a", "1");
  await o.same("INCR", "a");
  await o.same("EXEC");
  await sameSlowlog("-1");
});

test("CONFIG RESETSTAT keeps the slow log", async () => {
  await o.same("CONFIG", "SET", "slowlog-log-slower-than", "0");
  await o.same("PING");
  await o.same("CONFIG", "RESETSTAT");
  await o.same("SLOWLOG", "LEN");
});

test("SLOWLOG errors and help", async () => {
  await o.sameAll([
    ["SLOWLOG", "HELP"],
    ["SLOWLOG", "GET", "-2"],
    ["SLOWLOG", "GET", "x"],
    ["SLOWLOG", "GET", "9223372036854775807"],
    ["SLOWLOG", "GET", "9223372036854775808"],
    ["SLOWLOG", "GET", " 1"],
    ["SLOWLOG", "GET", "1", "2"],
    ["SLOWLOG", "LEN", "1"],
    ["SLOWLOG", "RESET", "x"],
    ["SLOWLOG", "FOO"],
    ["SLOWLOG"],
  ]);
});

test("a slow command shows in LATENCY LATEST and HISTORY", async () => {
  await o.same("LATENCY", "LATEST");
  await o.same("LATENCY", "HISTORY", "command");
  await o.same("LATENCY", "DOCTOR");
  await o.same("CONFIG", "SET", "latency-monitor-threshold", "10");
  await o.same("LATENCY", "DOCTOR");
  await o.same("DEBUG", "SLEEP", "0.02");
  const shape = (reply: string): Reply =>
    JSON.parse(JSON.stringify(decodeReply(reply), (_k, v) => (typeof v === "number" ? 0 : v)));
  const [want, got] = await o.both("LATENCY", "LATEST");
  expect(shape(got)).toEqual(shape(want));
  const latest = decodeReply(got) as Reply[][];
  expect(latest[0]![0]).toBe("command");
  expect(latest[0]![2] as number).toBeGreaterThanOrEqual(20);
  const [wantHistory, gotHistory] = await o.both("LATENCY", "HISTORY", "command");
  expect(shape(gotHistory)).toEqual(shape(wantHistory));
  // Figures and time labels differ by a millisecond or a second; the text must not.
  const digitsBlanked = (s: string): string => s.replace(/\d/g, "0");
  // Redis adds advice about transparent huge pages when its process has some; redbun cannot know.
  const withoutThp = (s: string): string => s.replace(/- I detected a non zero amount of anonymous huge pages[^\n]*\n/, "");
  const [wantDoctor, gotDoctor] = await o.both("LATENCY", "DOCTOR");
  expect(digitsBlanked(gotDoctor)).toEqual(digitsBlanked(withoutThp(wantDoctor)));
  expect(gotDoctor).toContain("1. command: 1 latency spikes");
  const [wantGraph, gotGraph] = await o.both("LATENCY", "GRAPH", "command");
  expect(digitsBlanked(gotGraph)).toEqual(digitsBlanked(wantGraph));
  await o.same("LATENCY", "RESET", "nosuch");
  await o.same("LATENCY", "RESET", "COMMAND", "command");
  await o.same("LATENCY", "LATEST");
  await o.same("LATENCY", "GRAPH", "command");
});

/** Key/value pairs of a map reply in either protocol (RESP2 answers a flat array). */
function pairsOf(reply: Reply): Reply[][] {
  if (!Array.isArray(reply)) return (reply as { map: Reply[][] }).map;
  const pairs: Reply[][] = [];
  for (let i = 0; i < reply.length; i += 2) pairs.push([reply[i]!, reply[i + 1]!]);
  return pairs;
}

/**
 * A LATENCY HISTOGRAM reply with each command's buckets checked (rising bucket names,
 * rising cumulative counts ending at the calls) and reduced to their count of buckets > 0;
 * commands sorted, as Redis lists them in its hash table's order.
 */
function histogramShape(reply: string): Reply {
  const top = decodeReply(reply);
  const shape = pairsOf(top).map(([name, value]) => {
    const [[callsName, calls], [bucketsName, buckets]] = pairsOf(value!) as [Reply[], Reply[]];
    const flat = pairsOf(buckets!).flat() as number[];
    const keys = flat.filter((_, i) => i % 2 === 0);
    const counts = flat.filter((_, i) => i % 2 === 1);
    expect(keys).toEqual([...keys].sort((a, b) => a - b));
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(counts.at(-1)).toBe(calls as number);
    return [name, callsName, calls, bucketsName, Array.isArray(top), Array.isArray(buckets), keys.length > 0];
  });
  return shape.sort((a, b) => String(a[0]).localeCompare(String(b[0])));
}

test("LATENCY HISTOGRAM has Redis's shape in RESP2 and RESP3", async () => {
  await o.same("CONFIG", "RESETSTAT");
  for (let i = 0; i < 5; i++) await o.same("SET", "k", "v");
  await o.same("CONFIG", "GET", "maxmemory");
  const [want, got] = await o.both("LATENCY", "HISTOGRAM", "set", "nosuch", "config");
  expect(histogramShape(got)).toEqual(histogramShape(want));
  const [r, b] = await o.connectBoth();
  await Promise.all([r.call("HELLO", "3"), b.call("HELLO", "3")]);
  const [want3, got3] = await Promise.all([r.call("LATENCY", "HISTOGRAM", "set"), b.call("LATENCY", "HISTOGRAM", "set")]);
  expect(histogramShape(got3)).toEqual(histogramShape(want3));
  r.close();
  b.close();
  await o.same("LATENCY", "HISTOGRAM", "nosuch");
});

test("histogram buckets follow the HDR log iteration", () => {
  const h = new LatencyHistogram();
  for (const ns of [500, 1500, 1500, 3000, 70_000, 2_000_000]) h.record(ns);
  // 500 ns counts in the first level (1.031 µs), 1500 in the second, 3000 in the third ...
  expect(cumulativeBuckets(h)).toEqual([1, 1, 2, 3, 4, 4, 132, 5, 2113, 6]);
});

test("LATENCY errors and help", async () => {
  await o.same("LATENCY", "HELP");
  await o.same("LATENCY", "FOO");
  await o.same("LATENCY", "HISTORY");
  await o.same("LATENCY", "GRAPH", "nosuch");
  await o.same("LATENCY", "LATEST", "x");
});


test("an event keeps one sample per second, the highest, 160 seconds deep", () => {
  const series = new LatencySeries();
  series.add(1000, 5);
  series.add(1000, 12);
  series.add(1000, 7);
  expect([...series.slots()].map((i) => [series.timesS[i], series.latenciesMs[i]])).toEqual([[1000, 12]]);
  for (let s = 1001; s < 1200; s++) series.add(s, s - 1000);
  const slots = [...series.slots()];
  expect(slots.length).toBe(HISTORY_LEN);
  expect(series.timesS[slots[0]!]).toBe(1200 - HISTORY_LEN);
  expect(series.timesS[series.last]).toBe(1199);
  expect(series.maxMs).toBe(199);
});

// A command that blocks is logged and sampled when its wait ends, not when it blocks: with
// its arguments when a write serves it, with none when CLIENT UNBLOCK ends it (Redis has
// dropped them by then), and not at all when it times out. Its call is counted when it
// blocks, its time again when it is served or unblocked.
describe("blocking commands", () => {
  /** The command's INFO commandstats and latencystats lines, without the times that differ. */
  async function statsOf(admin: RespConn, name: string): Promise<string[]> {
    const commandstats = (await admin.call("INFO", "commandstats")).split("\r\n");
    const latencystats = (await admin.call("INFO", "latencystats")).split("\r\n");
    const counts = commandstats.filter((l) => l.startsWith(`cmdstat_${name}:`)).map((l) => l.replace(/usec=[^,]*,usec_per_call=[^,]*,/, ""));
    const sampled = latencystats.filter((l) => l.startsWith(`latency_percentiles_usec_${name}:`)).map((l) => l.split(":")[0]!);
    return [...counts, ...sampled];
  }

  /**
   * Block a client named "blk" with `command` (slow log reset once it waits), end the wait
   * with `end`, and return what it was answered, the slow log and the command's statistics.
   */
  async function blockThen(command: string[], end: (admin: RespConn, blockedId: string) => Promise<unknown>): Promise<Reply> {
    await o.same("CONFIG", "SET", "slowlog-log-slower-than", "0");
    await o.same("CONFIG", "SET", "latency-tracking", "yes");
    await o.both("CONFIG", "RESETSTAT");
    return await sameOnBoth(o, async (side) => {
      const [admin, blocked] = [await side.connect(), await side.connect()];
      await blocked.call("CLIENT", "SETNAME", "blk");
      const blockedId = (await blocked.call("CLIENT", "ID")).slice(1).trim();
      blocked.write(encodeCommand(command));
      await blockedClients(admin, 1);
      await admin.call("SLOWLOG", "RESET");
      const ended = await end(admin, blockedId);
      const reply = await blocked.read();
      // CLIENT UNBLOCK's own entry names the client by its id, which differs between servers.
      const log = (normalised(await admin.call("SLOWLOG", "GET")) as Reply[][]).map(([args, name]) => [(args as Reply[]).map((a) => (a === blockedId ? "<id>" : a)), name!]);
      return [reply, ended, log, await statsOf(admin, command[0]!.toLowerCase())] as Reply;
    });
  }

  test("a served command is logged after the write that served it", async () => {
    await blockThen(["BLPOP", "missing", "k", "0"], (admin) => admin.call("RPUSH", "k", "a", "b"));
    await blockThen(["BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"], (admin) => admin.call("LPUSH", "src", "x"));
    await blockThen(["BZPOPMIN", "z", "0"], (admin) => admin.call("ZADD", "z", "1", "m"));
  });

  test("long arguments of a served command are truncated as at once", async () => {
    const long = "x".repeat(300);
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    await blockThen(["BLPOP", long, ...keys, "0"], (admin) => admin.call("RPUSH", "k39", "v"));
  });

  test("a command that times out is not logged", async () => {
    await blockThen(["BRPOP", "k", "0.3"], async () => "waited");
  });

  test("CLIENT UNBLOCK logs the command without its arguments and counts it failed", async () => {
    await blockThen(["BRPOP", "k", "0"], (admin, id) => admin.call("CLIENT", "UNBLOCK", id));
    await blockThen(["BLPOP", "k", "100"], (admin, id) => admin.call("CLIENT", "UNBLOCK", id, "ERROR"));
  });
});
