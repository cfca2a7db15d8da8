// redbun vs Redis vs the Bun transport ceiling, measured with redis-benchmark.
//
//   bun run bench:vs-redis [--rounds 3] [--tests ping,set,get,incr,mset] [--pipelines 1,16]
//                          [-n N] [-c 50] [--seconds 1.5] [--servers redis,redbun,ceiling]
//                          [--aof] [--markdown]
//
// The three servers run side by side on free ports. Every (pipeline depth, test) is run
// against each server in turn, and each round rotates the server order, so slow drift of a
// shared machine (other tenants, thermal state) is spread evenly instead of landing on one
// column. Throughput is the median over rounds; server CPU per request is the server's own
// utime+stime from /proc/<pid>/stat over the run divided by the requests, which is far less
// sensitive to a noisy neighbour than requests per second.
//
// `-t ping` makes redis-benchmark run PING_INLINE and PING_MBULK back to back in one
// process; it is split here into two runs (`ping_inline`, `ping_mbulk`) so that each row
// gets its own CPU figure. Likewise `lrange` becomes lrange_100/300/500/600.
//
// `--aof` starts Redis and redbun with `appendonly yes appendfsync everysec` (each in a data
// directory of its own) for the AOF row: `--aof --tests set,lpush`. The ceiling server
// writes no file, so its column is left out unless asked for.
import { parseArgs } from "node:util";
import {
  type ServerName,
  type ServerProcess,
  SERVER_NAMES,
  clockTicksPerSecond,
  formatMachine,
  machineInfo,
  startServers,
  stopAll,
} from "./lib/servers.ts";
import { runRedisBenchmark } from "./lib/redis-benchmark.ts";
import { type Table, fmtFixed, fmtInt, fmtRatio, median, renderMarkdown, renderPlain } from "./lib/table.ts";

const HELP = `usage: bun run bench:vs-redis [options]

  --rounds N          rounds; each round rotates the server order (default 3)
  --tests LIST        redis-benchmark -t names, comma separated (default ping,set,get,incr,mset);
                      "ping" is split into ping_inline and ping_mbulk, "lrange" into its 4 sizes;
                      "pfadd" runs PFADD hll element:__rand_int__, "xadd" XADD stream * field
                      value, "eval"/"evalsha" a SET through redis.call (no -t names exist)
  --pipelines LIST    pipeline depths for -P (default 1,16)
  -n, --requests N    requests per run; default: calibrated per test and depth so a run
                      against Redis takes --seconds
  --seconds S         target duration of one run when calibrating (default 1.5)
  -c, --clients N     parallel connections (default 50)
  --servers LIST      subset of redis,redbun,ceiling (default all; missing ones are skipped)
  --aof               run Redis and redbun with appendonly yes, appendfsync everysec
                      (the ceiling is then skipped unless --servers names it)
  --markdown          also print the table as markdown (for the README)
  -h, --help          this text

environment:
  REDBUN_BIN=path     run this executable as redbun (e.g. dist/redbun from \`bun run build\`)
                      instead of \`bun src/main.ts\``;

const TEST_EXPANSION: Record<string, string[]> = {
  ping: ["ping_inline", "ping_mbulk"],
  lrange: ["lrange_100", "lrange_300", "lrange_500", "lrange_600"],
};

/** Requests per calibration probe at pipeline depth 1; scaled by depth. */
const PROBE_REQUESTS = 20_000;
/** Smallest calibrated run at pipeline depth 1; scaled by depth. */
const MIN_REQUESTS = 10_000;
/** A run is killed (and reported failed) after max(RUN_TIMEOUT_MS, 20 x --seconds). */
const RUN_TIMEOUT_MS = 60_000;

interface Options {
  rounds: number;
  tests: string[];
  pipelines: number[];
  requests: number | undefined;
  seconds: number;
  clients: number;
  servers: ServerName[];
  aof: boolean;
  markdown: boolean;
}

/** The directives of the `--aof` row, given to Redis and redbun alike. */
const AOF_DIRECTIVES = ["--appendonly", "yes", "--appendfsync", "everysec"];

/** Bad command line: reported as one line plus the usage text, without a stack. */
class UsageError extends Error {}

function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

function list(value: string): string[] {
  return value.split(",").map((s) => s.trim().toLowerCase()).filter((s) => s.length > 0);
}

function parseOptions(argv: string[]): Options {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        rounds: { type: "string", default: "3" },
        tests: { type: "string", default: "ping,set,get,incr,mset" },
        pipelines: { type: "string", default: "1,16" },
        requests: { type: "string", short: "n" },
        seconds: { type: "string", default: "1.5" },
        clients: { type: "string", short: "c", default: "50" },
        servers: { type: "string" },
        aof: { type: "boolean", default: false },
        markdown: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  // The ceiling persists nothing: an AOF comparison leaves it out unless it is named.
  const defaultServers = values.aof ? ["redis", "redbun"] : SERVER_NAMES;
  const servers = values.servers === undefined ? [...defaultServers] : list(values.servers);
  for (const s of servers) {
    if (!SERVER_NAMES.includes(s as ServerName)) throw new UsageError(`unknown server ${JSON.stringify(s)} (want ${SERVER_NAMES.join(",")})`);
  }
  const seconds = Number(values.seconds);
  if (!(seconds > 0)) throw new UsageError(`--seconds must be positive, got ${values.seconds}`);
  return {
    rounds: positiveInt("rounds", values.rounds!),
    tests: list(values.tests!).flatMap((t) => TEST_EXPANSION[t] ?? [t]),
    pipelines: list(values.pipelines!).map((p) => positiveInt("pipelines", p)),
    requests: values.requests === undefined ? undefined : positiveInt("requests", values.requests),
    seconds,
    clients: positiveInt("clients", values.clients!),
    // Keep the canonical column order whatever order was asked for.
    servers: SERVER_NAMES.filter((s) => servers.includes(s)),
    aof: values.aof!,
    markdown: values.markdown!,
  };
}

// ---------------------------------------------------------------------------------------
// One redis-benchmark run.

interface RunResult {
  /** redis-benchmark's row names ("PING_MBULK", "MSET (10 keys)") with requests/second. */
  rows: { name: string; rps: number }[];
  /** Server CPU (utime+stime) per request, microseconds. */
  cpuUsPerRequest: number;
  wallMs: number;
  error?: string;
}

/**
 * Tests redis-benchmark has no -t name for, given as its arbitrary-command form (options
 * first, then the command). `pfadd`: one HLL, a random element each, so that after the
 * first few thousand the key is dense and most adds change no register.
 */
const SET_SCRIPT = "return redis.call('SET',KEYS[1],ARGV[1])";
const CUSTOM_TESTS: Record<string, string[]> = {
  pfadd: ["-r", "1000000", "PFADD", "hll", "element:__rand_int__"],
  // `xadd`: one stream, an auto-generated ID each, entries with the master entry's fields.
  xadd: ["XADD", "stream", "*", "field", "value"],
  // `eval`, `evalsha`: the issue's script, a SET through redis.call; EVALSHA runs it cached.
  eval: ["EVAL", SET_SCRIPT, "1", "k", "v"],
  evalsha: ["EVALSHA", new Bun.CryptoHasher("sha1").update(SET_SCRIPT).digest("hex"), "1", "k", "v"],
};

/** What a custom test needs on the server before it runs: EVALSHA's script in the cache. */
const CUSTOM_SETUP: Record<string, string[]> = {
  evalsha: ["SCRIPT", "LOAD", SET_SCRIPT],
};

export async function runBenchmark(server: ServerProcess, test: string, depth: number, requests: number, opts: Options): Promise<RunResult> {
  const common = ["-c", String(opts.clients), "-n", String(requests), "-P", String(depth)];
  const custom = CUSTOM_TESTS[test];
  const setup = CUSTOM_SETUP[test];
  if (setup !== undefined) Bun.spawnSync(["redis-cli", "-p", String(server.port), ...setup], { stdout: "ignore" });
  const flags = custom === undefined ? ["-t", test, ...common] : [...common, ...custom];
  const run = await runRedisBenchmark(server, flags, Math.max(RUN_TIMEOUT_MS, opts.seconds * 20_000));
  // A -t name that expands to several rows inside one process (none of ours after
  // TEST_EXPANSION) shares one CPU figure, spread over all its requests.
  const cpuUsPerRequest = (run.cpuSeconds * 1e6) / (requests * Math.max(1, run.rows.length));
  return { rows: run.rows, cpuUsPerRequest, wallMs: run.wallMs, error: run.error };
}

// ---------------------------------------------------------------------------------------
// Samples, keyed by (test, depth) then row name then server.

type Samples = { rps: number[]; cpu: number[] };

class Results {
  /** (test, depth) -> row name -> server -> samples, in first-seen order. */
  readonly byJob = new Map<string, Map<string, Map<ServerName, Samples>>>();
  readonly requests = new Map<string, number>();
  /** "server test P=n: error" -> how many runs failed that way. */
  readonly failures = new Map<string, number>();

  static key(test: string, depth: number): string {
    return `${test}|${depth}`;
  }

  add(test: string, depth: number, server: ServerName, r: RunResult): void {
    const key = Results.key(test, depth);
    let rows = this.byJob.get(key);
    if (rows === undefined) this.byJob.set(key, (rows = new Map()));
    if (r.error !== undefined) {
      const f = `${server} ${test} P=${depth}: ${r.error}`;
      this.failures.set(f, (this.failures.get(f) ?? 0) + 1);
    }
    // A failed run contributes nothing: a partial rps or CPU figure would mislead.
    if (r.error !== undefined) return;
    for (const row of r.rows) {
      let servers = rows.get(row.name);
      if (servers === undefined) rows.set(row.name, (servers = new Map()));
      let s = servers.get(server);
      if (s === undefined) servers.set(server, (s = { rps: [], cpu: [] }));
      s.rps.push(row.rps);
      s.cpu.push(r.cpuUsPerRequest);
    }
  }
}

function rotate<T>(xs: readonly T[], by: number): T[] {
  const k = xs.length === 0 ? 0 : by % xs.length;
  return [...xs.slice(k), ...xs.slice(0, k)];
}

function roundRequests(n: number, depth: number): number {
  // Two significant digits: the run length is a target, not a measurement. The floor
  // scales with depth so one unlucky probe cannot shrink a pipelined run to nothing.
  const scale = 10 ** Math.max(0, Math.floor(Math.log10(n)) - 1);
  return Math.max(MIN_REQUESTS * depth, Math.round(n / scale) * scale);
}

function progress(label: string, server: ServerProcess, requests: number, r: RunResult): void {
  const rps = r.rows.map((row) => `${fmtInt(row.rps)} rps`).join(", ");
  const status = r.error === undefined ? `${rps}  cpu ${fmtFixed(r.cpuUsPerRequest, 2)} us/req` : `FAILED (${r.error})`;
  console.error(`${label}  ${server.name.padEnd(7)}  n=${fmtInt(requests).padStart(9)}  ${status}  (${(r.wallMs / 1000).toFixed(1)} s)`);
}

/**
 * Warm every server up on every job and size the measured runs: a short probe per
 * (test, depth) against each server, then requests = Redis's probe throughput x --seconds.
 */
async function calibrate(servers: readonly ServerProcess[], opts: Options): Promise<Map<string, number>> {
  const requests = new Map<string, number>();
  const reference = servers.find((s) => s.name === "redis") ?? servers[0]!;
  for (const depth of opts.pipelines) {
    for (const test of opts.tests) {
      const probe = PROBE_REQUESTS * depth;
      let refRps = NaN;
      for (const server of servers) {
        const r = await runBenchmark(server, test, depth, probe, opts);
        progress(`warm-up P=${String(depth).padEnd(2)} ${test.padEnd(11)}`, server, probe, r);
        if (server === reference && r.error === undefined) refRps = median(r.rows.map((row) => row.rps));
      }
      const n = opts.requests ?? (Number.isFinite(refRps) ? roundRequests(refRps * opts.seconds, depth) : probe * 10);
      requests.set(Results.key(test, depth), n);
    }
  }
  return requests;
}

async function measure(servers: readonly ServerProcess[], requests: Map<string, number>, opts: Options): Promise<Results> {
  const results = new Results();
  for (let round = 0; round < opts.rounds; round++) {
    const order = rotate(servers, round);
    console.error(`round ${round + 1}/${opts.rounds}: order ${order.map((s) => s.name).join(", ")}`);
    for (const depth of opts.pipelines) {
      for (const test of opts.tests) {
        const n = requests.get(Results.key(test, depth))!;
        results.requests.set(Results.key(test, depth), n);
        for (const server of order) {
          const r = await runBenchmark(server, test, depth, n, opts);
          progress(`round ${round + 1} P=${String(depth).padEnd(2)} ${test.padEnd(11)}`, server, n, r);
          results.add(test, depth, server.name, r);
        }
      }
    }
  }
  return results;
}

// ---------------------------------------------------------------------------------------
// Report.

function buildTable(results: Results, opts: Options): { table: Table; maxSpread: number } {
  const headers = [
    "test", "P", "n", "redis rps", "redbun rps", "redbun/redis", "ceiling rps", "redbun/ceiling",
    "redis us/req", "redbun us/req", "ceiling us/req", "CPU redbun/redis",
  ];
  const align: Table["align"] = ["left", ...Array<"right">(headers.length - 1).fill("right")];
  const rows: string[][] = [];
  let maxSpread = 0;
  for (const depth of opts.pipelines) {
    for (const test of opts.tests) {
      const key = Results.key(test, depth);
      for (const [rowName, byServer] of results.byJob.get(key) ?? []) {
        const rps = (s: ServerName) => median(byServer.get(s)?.rps ?? []);
        const cpu = (s: ServerName) => median(byServer.get(s)?.cpu ?? []);
        for (const s of byServer.values()) {
          const m = median(s.rps);
          if (s.rps.length > 1 && m > 0) maxSpread = Math.max(maxSpread, (Math.max(...s.rps) - Math.min(...s.rps)) / m);
        }
        rows.push([
          rowName, String(depth), fmtInt(results.requests.get(key) ?? NaN),
          fmtInt(rps("redis")), fmtInt(rps("redbun")), fmtRatio(rps("redbun") / rps("redis")),
          fmtInt(rps("ceiling")), fmtRatio(rps("redbun") / rps("ceiling")),
          fmtFixed(cpu("redis"), 2), fmtFixed(cpu("redbun"), 2), fmtFixed(cpu("ceiling"), 2),
          fmtRatio(cpu("redbun") / cpu("redis")),
        ]);
      }
    }
  }
  return { table: { headers, align, rows }, maxSpread };
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const machine = formatMachine(machineInfo());
  console.error(machine);
  const servers = await startServers(opts.servers, { directives: opts.aof ? AOF_DIRECTIVES : [] });
  const skipped = opts.servers.filter((name) => !servers.some((s) => s.name === name));
  if (servers.length === 0) {
    console.error("no server started; nothing to measure");
    process.exitCode = 1;
    return;
  }
  try {
    const requests = await calibrate(servers, opts);
    const results = await measure(servers, requests, opts);
    const { table, maxSpread } = buildTable(results, opts);
    const notes = [
      `rps: median of ${opts.rounds} round(s), ${opts.clients} clients; us/req: server utime+stime ` +
        `(/proc/<pid>/stat, CLK_TCK=${clockTicksPerSecond()}) / requests, median of rounds; ` +
        `MSET counts one 10-key command as one request.` +
        (opts.aof ? ` Redis and redbun ran with ${AOF_DIRECTIVES.join(" ")}.` : ""),
      `redis-benchmark runs on the same ${navigator.hardwareConcurrency}-core machine as the servers; ` +
        `on a shared machine the CPU columns are steadier than the rps columns.`,
      ...(opts.rounds > 1 ? [`largest (max-min)/median of rps across rounds in any cell: ${(maxSpread * 100).toFixed(0)}%`] : []),
      ...(skipped.length > 0 ? [`skipped (did not start): ${skipped.join(", ")}`] : []),
      ...[...results.failures].map(([f, count]) => `failed run${count > 1 ? ` (x${count})` : ""}: ${f}`),
    ];
    console.log(`\n${machine}\n`);
    console.log(renderPlain(table));
    console.log(`\n${notes.join("\n")}`);
    if (opts.markdown) {
      console.log(`\n${machine}\n`);
      console.log(renderMarkdown(table));
      console.log(`\n${notes.map((n) => `- ${n}`).join("\n")}`);
    }
  } finally {
    await stopAll(servers);
  }
}

if (import.meta.main) {
  try {
    await main();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${err.message}\n\n${HELP}`);
    process.exitCode = 2;
  }
}
