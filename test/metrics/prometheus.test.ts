// The Prometheus endpoint (src/metrics/prometheus.ts), scraped over HTTP from a redbun
// process started with --metrics-port: the text format parses, the figures are INFO's under
// redis_exporter's names, and CONFIG SET opens, moves and closes the listener.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { REPO_ROOT, RespConn, bulkArray, configMap, freePort, startRedbun, type ServerProcess } from "../oracle/harness.ts";

/** One sample line: `name{labels} value`, labels parsed. */
interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** A parsed scrape: samples plus the HELP and TYPE seen per family. */
interface Scrape {
  readonly samples: Sample[];
  readonly types: Map<string, string>;
  readonly helps: Map<string, string>;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/;
const LABEL_PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/y;

/**
 * Parses the text format strictly: every line is a HELP, a TYPE or a sample, each family's
 * HELP and TYPE come once and before its samples, and the samples of a family are contiguous.
 */
function parseExposition(text: string): Scrape {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const helps = new Map<string, string>();
  const finished = new Set<string>();
  let currentFamily = "";
  expect(text.endsWith("\n")).toBe(true);
  for (const line of text.slice(0, -1).split("\n")) {
    const meta = /^# (HELP|TYPE) (\S+) (.+)$/.exec(line);
    if (meta !== null) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      const seen = kind === "HELP" ? helps : types;
      expect({ line, duplicate: seen.has(name) }).toEqual({ line, duplicate: false });
      seen.set(name, rest);
      if (currentFamily !== name) finished.add(currentFamily);
      currentFamily = name;
      continue;
    }
    const m = SAMPLE_LINE.exec(line);
    expect({ line, parses: m !== null }).toEqual({ line, parses: true });
    const [, name, labelText, value] = m as unknown as [string, string, string | undefined, string];
    // A summary's _sum and _count samples belong to its family.
    const summaryPart = types.get(currentFamily) === "summary" && (name === `${currentFamily}_sum` || name === `${currentFamily}_count`);
    const family = summaryPart ? currentFamily : name;
    expect({ line, family, finished: finished.has(family) }).toEqual({ line, family: currentFamily, finished: false });
    samples.push({ name, labels: parseLabels(labelText ?? ""), value: Number(value) });
  }
  return { samples, types, helps };
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL_PAIR.lastIndex = 0;
  while (LABEL_PAIR.lastIndex < text.length) {
    const start = LABEL_PAIR.lastIndex;
    const m = LABEL_PAIR.exec(text);
    expect({ text, at: start, parses: m !== null }).toEqual({ text, at: start, parses: true });
    labels[m![1]!] = m![2]!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
  }
  return labels;
}

/** The value of the one sample with that name and those labels (all of them). */
function valueOf(scrape: Scrape, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = scrape.samples.filter((s) => s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels));
  expect(found.length).toBeLessThanOrEqual(1);
  return found[0]?.value;
}

/** INFO's `field:value` lines as a map. */
async function info(conn: RespConn, section: string): Promise<Map<string, string>> {
  const reply = await conn.call("INFO", section);
  const fields = new Map<string, string>();
  for (const line of reply.slice(reply.indexOf("\r\n") + 2).split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0 && !line.startsWith("#")) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

async function scrape(port: number): Promise<Scrape> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  return parseExposition(await res.text());
}

/** True when something accepts HTTP on the port. */
async function answers(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/metrics`);
    return true;
  } catch {
    return false;
  }
}

let redbun: ServerProcess;
let conn: RespConn;
let metricsPort: number;

beforeAll(async () => {
  metricsPort = freePort();
  redbun = await startRedbun(["--metrics-port", String(metricsPort)]);
  conn = await RespConn.connect(redbun.port);
});
afterAll(async () => {
  conn?.close();
  await redbun?.stop();
});

describe("GET /metrics", () => {
  test("answers in the text format 0.0.4, with HELP and TYPE for every family", async () => {
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const parsed = parseExposition(await res.text());
    expect(parsed.samples.length).toBeGreaterThan(50);
    for (const s of parsed.samples) {
      // A summary's _sum and _count samples come under its family's HELP and TYPE.
      const summaryFamily = s.name.replace(/_(sum|count)$/, "");
      const family = parsed.types.get(summaryFamily) === "summary" ? summaryFamily : s.name;
      expect({ name: s.name, type: parsed.types.get(family) }).toEqual({ name: s.name, type: expect.stringMatching(/^(gauge|counter|summary)$/) });
      expect(parsed.helps.has(family)).toBe(true);
      expect(s.name.startsWith("redis_")).toBe(true);
      // Prometheus's convention: _total names are counters. redis_exporter breaks it once,
      // for a gauge, and dashboards use its name, so redbun keeps it.
      if (s.name.endsWith("_total") && s.name !== "redis_migrate_cached_sockets_total") expect({ name: s.name, type: parsed.types.get(s.name) }).toEqual({ name: s.name, type: "counter" });
    }
    expect(valueOf(parsed, "redis_up")).toBe(1);
  });

  test("other paths are 404, other methods 405", async () => {
    expect((await fetch(`http://127.0.0.1:${metricsPort}/`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/metricsx`)).status).toBe(404);
    const post = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { method: "POST", body: "x" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });

  test("command counters match INFO commandstats and stats", async () => {
    await conn.call("FLUSHALL");
    for (let i = 0; i < 7; i++) await conn.call("SET", `k${i}`, "v");
    for (let i = 0; i < 3; i++) await conn.call("GET", `k${i}`);
    await conn.call("GET", "missing");
    await conn.call("CONFIG", "GET", "maxmemory");
    await conn.call("INCR", "k0"); // fails: not an integer
    const s = await scrape(metricsPort);
    // INFO counts itself only once it has run, so it sees what the scrape saw.
    const stats = await info(conn, "stats");
    const cmdstats = await info(conn, "commandstats");
    expect(valueOf(s, "redis_commands_processed_total")).toBe(Number(stats.get("total_commands_processed")));
    expect(valueOf(s, "redis_keyspace_hits_total")).toBe(Number(stats.get("keyspace_hits")));
    expect(valueOf(s, "redis_keyspace_misses_total")).toBe(Number(stats.get("keyspace_misses")));
    expect(valueOf(s, "redis_connections_received_total")).toBe(Number(stats.get("total_connections_received")));
    expect(valueOf(s, "redis_expired_keys_total")).toBe(Number(stats.get("expired_keys")));
    expect(valueOf(s, "redis_evicted_keys_total")).toBe(Number(stats.get("evicted_keys")));
    for (const cmd of ["set", "get", "config|get", "incr"]) {
      const fields = new Map(cmdstats.get(`cmdstat_${cmd}`)!.split(",").map((kv) => kv.split("=") as [string, string]));
      expect({ cmd, calls: valueOf(s, "redis_commands_total", { cmd }) }).toEqual({ cmd, calls: Number(fields.get("calls")) });
      expect(valueOf(s, "redis_commands_duration_seconds_total", { cmd })).toBeCloseTo(Number(fields.get("usec")) / 1e6, 6);
      expect(valueOf(s, "redis_commands_failed_calls_total", { cmd })).toBe(Number(fields.get("failed_calls")));
    }
    expect(valueOf(s, "redis_commands_total", { cmd: "set" })).toBeGreaterThanOrEqual(7);
    expect(valueOf(s, "redis_commands_failed_calls_total", { cmd: "incr" })).toBeGreaterThanOrEqual(1);
    expect(valueOf(s, "redis_errors_total", { err: "ERR" })).toBeGreaterThanOrEqual(1);
    // latencystats as redis_exporter's summary: the quantiles INFO prints, with calls as _count.
    const latency = await info(conn, "latencystats");
    const getLatency = new Map(latency.get("latency_percentiles_usec_get")!.split(",").map((kv) => kv.split("=") as [string, string]));
    for (const [p, v] of getLatency) expect(valueOf(s, "redis_latency_percentiles_usec", { cmd: "get", quantile: p.slice(1) })).toBe(Number(v));
    expect(valueOf(s, "redis_latency_percentiles_usec_count", { cmd: "get" })).toBe(4);
    expect(s.types.get("redis_latency_percentiles_usec")).toBe("summary");
    // Network counters only grow between the scrape and INFO.
    expect(valueOf(s, "redis_net_input_bytes_total")!).toBeLessThanOrEqual(Number(stats.get("total_net_input_bytes")));
    expect(valueOf(s, "redis_net_input_bytes_total")!).toBeGreaterThan(0);
  });

  test("keys per database, expiring keys, and empty databases as 0", async () => {
    await conn.call("FLUSHALL");
    for (let i = 0; i < 5; i++) await conn.call("SET", `a${i}`, "v");
    await conn.call("EXPIRE", "a0", "1000");
    await conn.call("SELECT", "3");
    await conn.call("HSET", "h", "f", "v");
    await conn.call("SELECT", "0");
    const s = await scrape(metricsPort);
    const keyspace = await info(conn, "keyspace");
    expect(keyspace.get("db0")).toStartWith("keys=5,expires=1,");
    expect(keyspace.get("db3")).toStartWith("keys=1,expires=0,");
    expect(valueOf(s, "redis_db_keys", { db: "db0" })).toBe(5);
    expect(valueOf(s, "redis_db_keys_expiring", { db: "db0" })).toBe(1);
    expect(valueOf(s, "redis_db_keys", { db: "db3" })).toBe(1);
    expect(valueOf(s, "redis_db_keys_expiring", { db: "db3" })).toBe(0);
    expect(valueOf(s, "redis_db_keys", { db: "db1" })).toBe(0);
    expect(valueOf(s, "redis_db_keys", { db: "db15" })).toBe(0);
    // avg_ttl is an estimate the expiry cycle refreshes at any moment (0 until it has run),
    // so only its range is certain: seconds, at most the one TTL set.
    const avgTtlS = valueOf(s, "redis_db_avg_ttl_seconds", { db: "db0" })!;
    expect(avgTtlS).toBeGreaterThanOrEqual(0);
    expect(avgTtlS).toBeLessThanOrEqual(1000);
    expect(s.samples.filter((x) => x.name === "redis_db_keys").length).toBe(16);
  });

  test("memory, clients, persistence and the instance labels match INFO", async () => {
    await conn.call("FLUSHALL");
    await conn.call("SET", "big", "x".repeat(100_000));
    await conn.call("CONFIG", "SET", "maxmemory", "123mb");
    const s = await scrape(metricsPort);
    const all = await info(conn, "everything");
    // The reply buffers of the INFO call itself may move used_memory by a little.
    const used = Number(all.get("used_memory"));
    expect(Math.abs(valueOf(s, "redis_memory_used_bytes")! - used)).toBeLessThan(64 * 1024);
    expect(valueOf(s, "redis_memory_used_bytes")!).toBeGreaterThan(100_000);
    expect(valueOf(s, "redis_memory_max_bytes")).toBe(123 * 1024 * 1024);
    expect(valueOf(s, "redis_memory_used_rss_bytes")!).toBeGreaterThan(0);
    expect(valueOf(s, "redis_connected_clients")).toBe(Number(all.get("connected_clients")));
    expect(valueOf(s, "redis_blocked_clients")).toBe(0);
    expect(valueOf(s, "redis_aof_enabled")).toBe(0);
    expect(valueOf(s, "redis_rdb_last_bgsave_status")).toBe(1);
    expect(valueOf(s, "redis_rdb_last_save_timestamp_seconds")).toBe(Number(all.get("rdb_last_save_time")));
    expect(valueOf(s, "redis_uptime_in_seconds")!).toBeLessThanOrEqual(Number(all.get("uptime_in_seconds")));
    expect(valueOf(s, "redis_cpu_user_seconds_total")!).toBeGreaterThan(0);
    const instance = s.samples.find((x) => x.name === "redis_instance_info")!;
    expect(instance.value).toBe(1);
    expect(instance.labels).toMatchObject({
      redis_version: all.get("redis_version")!,
      redis_mode: "standalone",
      role: "master",
      run_id: all.get("run_id")!,
      tcp_port: String(redbun.port),
      process_id: all.get("process_id")!,
      maxmemory_policy: "noeviction",
    });
    await conn.call("CONFIG", "SET", "maxmemory", "0");
  });
});

describe("metrics-port and metrics-bind", () => {
  test("redbun-only parameters: hidden from CONFIG GET *, shown by their exact name", async () => {
    expect(configMap(await conn.call("CONFIG", "GET", "metrics-port"))).toEqual(new Map([["metrics-port", String(metricsPort)]]));
    expect(configMap(await conn.call("CONFIG", "GET", "metrics-bind"))).toEqual(new Map([["metrics-bind", "127.0.0.1"]]));
    const names = bulkArray(await conn.call("CONFIG", "GET", "*")).filter((_, i) => i % 2 === 0);
    expect(names.filter((n) => n.startsWith("metrics"))).toEqual([]);
    expect(await conn.call("CONFIG", "SET", "metrics-port", "65536")).toStartWith("-ERR CONFIG SET failed");
  });

  test("CONFIG SET moves the endpoint, refuses a busy port, and 0 closes it", async () => {
    const moved = freePort();
    expect(await conn.call("CONFIG", "SET", "metrics-port", String(moved))).toBe("+OK\r\n");
    expect(await answers(moved)).toBe(true);
    expect(await answers(metricsPort)).toBe(false);
    // The Redis port is taken: the change fails, the endpoint stays where it was.
    const busy = await conn.call("CONFIG", "SET", "metrics-port", String(redbun.port));
    expect(busy).toBe(
      `-ERR CONFIG SET failed (possibly related to argument 'metrics-port') - Unable to listen on metrics port 127.0.0.1:${redbun.port}: Address already in use\r\n`,
    );
    expect(configMap(await conn.call("CONFIG", "GET", "metrics-port")).get("metrics-port")).toBe(String(moved));
    expect(await answers(moved)).toBe(true);
    expect(await conn.call("CONFIG", "SET", "metrics-port", "0")).toBe("+OK\r\n");
    expect(await answers(moved)).toBe(false);
    expect(await conn.call("CONFIG", "SET", "metrics-port", String(metricsPort))).toBe("+OK\r\n");
    expect((await scrape(metricsPort)).samples.length).toBeGreaterThan(0);
  });

  test("off by default; a busy port at start-up stops the server", async () => {
    const plain = await startRedbun();
    try {
      const c = await RespConn.connect(plain.port);
      expect(configMap(await c.call("CONFIG", "GET", "metrics-port")).get("metrics-port")).toBe("0");
      c.close();
    } finally {
      await plain.stop();
    }
    const proc = Bun.spawn(["bun", "src/main.ts", "--port", String(freePort()), "--save", "", "--metrics-port", String(redbun.port)], {
      cwd: REPO_ROOT,
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await proc.exited).toBe(1);
    expect(await new Response(proc.stdout).text()).toContain(`Unable to listen on metrics port 127.0.0.1:${redbun.port}: Address already in use`);
  });
});
