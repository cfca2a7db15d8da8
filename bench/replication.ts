// Master write throughput with 0, 1 and 2 replicas attached, and replication lag under
// load: redbun vs Redis 7.0 as the master.
//
//   bun run bench:replication [--rounds 3] [-n 200000] [--pipelines 1,16] [-c 50]
//                             [--counts 0,1,2] [--replicas redis|same] [--markdown]
//
// Every (round, replica count, system) gets a fresh master and fresh replicas, each on a
// free port in a temp directory of its own. Once the master's INFO replication lists every
// replica as online, a short warm-up runs, then `redis-benchmark -t set -r 100000 -d 64`
// once per pipeline depth. During a run the master's and the replicas' INFO replication are
// polled every 100 ms for the largest lag in bytes; after it, the replicas' INFO is polled
// until each has applied everything the master produced (the catch-up time).
//
// The lag is read two ways. The master's `slaveN:...offset=` is what the replica last
// acknowledged, and a replica acknowledges once a second (REPLCONF ACK from its cron), so
// that view trails by up to a second of writes. The replica's own `slave_repl_offset` is
// what it has applied: that is the real lag, and the catch-up time uses it.
import { rmSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  type ServerName,
  type ServerProcess,
  formatMachine,
  haltIfInterrupted,
  machineInfo,
  sendCommand,
  startServer,
  stopAll,
} from "./lib/servers.ts";
import { runRedisBenchmark } from "./lib/redis-benchmark.ts";
import { type Table, fmtFixed, fmtInt, fmtRatio, median, renderMarkdown, renderPlain } from "./lib/table.ts";

const HELP = `usage: bun run bench:replication [options]

  --rounds N          rounds; the system that goes first alternates (default 3)
  -n, --requests N    SET requests per redis-benchmark run (default 200000)
  --pipelines LIST    redis-benchmark -P depths (default 1,16)
  -c, --clients N     parallel connections (default 50)
  --counts LIST       replica counts (default 0,1,2)
  --replicas KIND     redis: every replica is a real redis-server (default);
                      same: replicas run the master's system (redbun replicas of redbun)
  --markdown          also print the tables as markdown (for the README)
  -h, --help          this text`;

const SYSTEMS: readonly ServerName[] = ["redis", "redbun"];
/** Without it a master waits 5 s for more replicas before a diskless full sync. */
const MASTER_DIRECTIVES = ["--repl-diskless-sync-delay", "0"];
const ONLINE_TIMEOUT_MS = 10_000;
const LAG_POLL_MS = 100;
const CATCH_UP_POLL_MS = 2;
const CATCH_UP_TIMEOUT_MS = 30_000;

interface Options {
  rounds: number;
  requests: number;
  pipelines: number[];
  clients: number;
  counts: number[];
  replicas: "redis" | "same";
  markdown: boolean;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "3" },
      requests: { type: "string", short: "n", default: "200000" },
      pipelines: { type: "string", default: "1,16" },
      clients: { type: "string", short: "c", default: "50" },
      counts: { type: "string", default: "0,1,2" },
      replicas: { type: "string", default: "redis" },
      markdown: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const whole = (name: string, v: string, min: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${v}`);
    return n;
  };
  if (values.replicas !== "redis" && values.replicas !== "same") throw new Error(`--replicas must be redis or same, got ${values.replicas}`);
  return {
    rounds: whole("rounds", values.rounds!, 1),
    requests: whole("requests", values.requests!, 1),
    pipelines: values.pipelines!.split(",").map((p) => whole("pipelines", p, 1)),
    clients: whole("clients", values.clients!, 1),
    counts: values.counts!.split(",").map((c) => whole("counts", c, 0)),
    replicas: values.replicas,
    markdown: values.markdown!,
  };
}

// ---------------------------------------------------------------------------------------
// INFO replication

async function replicationInfo(port: number): Promise<string> {
  const reply = await sendCommand(port, ["INFO", "replication"]);
  if (typeof reply !== "string") throw new Error(`INFO replication on port ${port} replied ${String(reply)}`);
  return reply;
}

function infoNumber(info: string, name: string): number {
  return Number(info.match(new RegExp(`^${name}:(-?\\d+)`, "m"))?.[1] ?? NaN);
}

/** The master's `slaveN:ip=...,state=online,offset=...` lines as records. */
function slaveLines(info: string): Record<string, string>[] {
  return [...info.matchAll(/^slave\d+:(.*?)\r?$/gm)].map((m) => Object.fromEntries(m[1]!.split(",").map((kv) => kv.split("=") as [string, string])));
}

// ---------------------------------------------------------------------------------------
// A master and its replicas

interface Setup {
  master: ServerProcess;
  replicas: ServerProcess[];
}

/** Servers not yet stopped: their data directories are removed even when Ctrl-C ends us. */
const liveServers = new Set<ServerProcess>();
process.on("exit", () => {
  for (const s of liveServers) if (s.dataDir !== null) rmSync(s.dataDir, { recursive: true, force: true });
});

async function stopSetup(setup: Setup): Promise<void> {
  await stopAll([...setup.replicas, setup.master]);
  for (const s of [...setup.replicas, setup.master]) liveServers.delete(s);
}

async function waitOnline(master: ServerProcess, count: number): Promise<boolean> {
  const deadline = performance.now() + ONLINE_TIMEOUT_MS;
  while (performance.now() < deadline) {
    const online = slaveLines(await replicationInfo(master.port)).filter((s) => s.state === "online").length;
    if (online === count) return true;
    await Bun.sleep(50);
  }
  return false;
}

/** Start a master of `system` and `count` replicas; a string says why it could not be done. */
async function startSetup(system: ServerName, count: number, opts: Options): Promise<Setup | string> {
  const started = await startServer(system, { directives: MASTER_DIRECTIVES });
  if (!started.ok) return `${system} master did not start: ${started.reason}`;
  const setup: Setup = { master: started.server, replicas: [] };
  liveServers.add(setup.master);
  const replicaSystem = opts.replicas === "same" ? system : "redis";
  for (let i = 0; i < count; i++) {
    const r = await startServer(replicaSystem, { directives: ["--replicaof", "127.0.0.1", String(setup.master.port)] });
    if (!r.ok) {
      await stopSetup(setup);
      return `${replicaSystem} replica did not start: ${r.reason}`;
    }
    setup.replicas.push(r.server);
    liveServers.add(r.server);
  }
  if (await waitOnline(setup.master, count)) return setup;
  await stopSetup(setup);
  return `${replicaSystem} replica did not come online`;
}

// ---------------------------------------------------------------------------------------
// Lag

interface Lag {
  /** master_repl_offset minus the replicas' own slave_repl_offset: bytes not yet applied. */
  appliedBytes: number;
  /** master_repl_offset minus the offsets the replicas last acknowledged to the master. */
  ackedBytes: number;
}

async function sampleLag(setup: Setup): Promise<Lag> {
  const [master, ...replicas] = await Promise.all([setup.master, ...setup.replicas].map((s) => replicationInfo(s.port)));
  const offset = infoNumber(master!, "master_repl_offset");
  const worst = (offsets: number[]) => Math.max(0, ...offsets.map((o) => offset - o));
  return {
    appliedBytes: worst(replicas.map((r) => infoNumber(r, "slave_repl_offset"))),
    ackedBytes: worst(slaveLines(master!).map((s) => Number(s.offset))),
  };
}

/** Poll the lag until `running` settles; the largest of each kind. */
async function maxLagWhile(setup: Setup, running: Promise<unknown>): Promise<Lag> {
  let finished = false;
  const finish = () => (finished = true);
  running.then(finish, finish);
  const max: Lag = { appliedBytes: 0, ackedBytes: 0 };
  while (!finished && setup.replicas.length > 0) {
    // A server that died mid-run fails the run itself: stop sampling and let it report.
    const lag = await sampleLag(setup).catch(() => null);
    if (lag === null) break;
    max.appliedBytes = Math.max(max.appliedBytes, lag.appliedBytes);
    max.ackedBytes = Math.max(max.ackedBytes, lag.ackedBytes);
    await Promise.race([Bun.sleep(LAG_POLL_MS), running]);
  }
  return max;
}

/** Milliseconds from `sinceMs` until every replica has applied the master's whole stream. */
async function catchUpMs(setup: Setup, sinceMs: number): Promise<number> {
  const target = infoNumber(await replicationInfo(setup.master.port), "master_repl_offset");
  while (performance.now() - sinceMs < CATCH_UP_TIMEOUT_MS) {
    const offsets = await Promise.all(setup.replicas.map(async (r) => infoNumber(await replicationInfo(r.port), "slave_repl_offset")));
    if (offsets.every((o) => o >= target)) return performance.now() - sinceMs;
    await Bun.sleep(CATCH_UP_POLL_MS);
  }
  return NaN;
}

// ---------------------------------------------------------------------------------------
// Runs

interface Sample {
  rps: number;
  cpuUsPerRequest: number;
  lag: Lag;
  catchUpMs: number;
}

function benchmarkFlags(requests: number, depth: number, opts: Options): string[] {
  return ["-t", "set", "-n", String(requests), "-P", String(depth), "-c", String(opts.clients), "-r", "100000", "-d", "64"];
}

async function measureRun(setup: Setup, depth: number, opts: Options): Promise<Sample | string> {
  const run = runRedisBenchmark(setup.master, benchmarkFlags(opts.requests, depth, opts));
  const lag = await maxLagWhile(setup, run);
  const result = await run;
  const endedMs = performance.now();
  if (result.error !== undefined) return result.error;
  let catchUp = NaN;
  try {
    if (setup.replicas.length > 0) catchUp = await catchUpMs(setup, endedMs);
  } catch (err) {
    return `catch-up: ${(err as Error).message}`;
  }
  return { rps: result.rows[0]!.rps, cpuUsPerRequest: (result.cpuSeconds * 1e6) / opts.requests, lag, catchUpMs: catchUp };
}

type Samples = Map<string, Sample[]>;
const sampleKey = (system: ServerName, count: number, depth: number) => `${system}|${count}|${depth}`;

/** One fresh setup: warm up (the JIT, the replicas' first full sync), then each depth. */
async function measureSetup(system: ServerName, count: number, round: number, opts: Options, samples: Samples, problems: Set<string>): Promise<void> {
  await haltIfInterrupted();
  const setup = await startSetup(system, count, opts);
  if (typeof setup === "string") {
    const line = `skipped: ${system} master with ${count} replica(s): ${setup}`;
    console.error(line);
    problems.add(line.split("\n")[0]!);
    return;
  }
  try {
    await runRedisBenchmark(setup.master, benchmarkFlags(Math.max(50_000, Math.round(opts.requests / 4)), 16, opts));
    if (count > 0) await catchUpMs(setup, performance.now());
    for (const depth of opts.pipelines) {
      const s = await measureRun(setup, depth, opts);
      const label = `round ${round + 1} ${system.padEnd(6)} replicas=${count} P=${String(depth).padEnd(2)}`;
      if (typeof s === "string") {
        console.error(`${label}  FAILED (${s})`);
        problems.add(`failed: ${system} replicas=${count} P=${depth}: ${s}`);
        continue;
      }
      const key = sampleKey(system, count, depth);
      samples.set(key, [...(samples.get(key) ?? []), s]);
      const lag = count > 0 ? `  lag ${fmtInt(s.lag.appliedBytes)} B (acked ${fmtInt(s.lag.ackedBytes)} B)  catch-up ${fmtFixed(s.catchUpMs, 0)} ms` : "";
      console.error(`${label}  ${fmtInt(s.rps)} rps  cpu ${fmtFixed(s.cpuUsPerRequest, 2)} us/req${lag}`);
    }
  } finally {
    await stopSetup(setup);
  }
}

// ---------------------------------------------------------------------------------------
// Report

function buildTables(samples: Samples, opts: Options): { throughput: Table; lag: Table } {
  const of = (system: ServerName, count: number, depth: number, f: (s: Sample) => number) =>
    median((samples.get(sampleKey(system, count, depth)) ?? []).map(f));
  const right = (n: number) => Array<"right">(n).fill("right");
  const throughput: Table = {
    headers: ["P", "replicas", "redis rps", "redbun rps", "redbun/redis", "redis vs 0", "redbun vs 0", "redis us/req", "redbun us/req", "CPU redbun/redis"],
    align: right(10),
    rows: [],
  };
  const lag: Table = {
    headers: ["P", "replicas", "redis lag B", "redbun lag B", "redis acked lag B", "redbun acked lag B", "redis catch-up ms", "redbun catch-up ms"],
    align: right(8),
    rows: [],
  };
  for (const depth of opts.pipelines) {
    for (const count of opts.counts) {
      const rps = (s: ServerName) => of(s, count, depth, (x) => x.rps);
      const cpu = (s: ServerName) => of(s, count, depth, (x) => x.cpuUsPerRequest);
      const vsNone = (s: ServerName) => rps(s) / of(s, 0, depth, (x) => x.rps);
      throughput.rows.push([
        String(depth), String(count), fmtInt(rps("redis")), fmtInt(rps("redbun")), fmtRatio(rps("redbun") / rps("redis")),
        fmtRatio(vsNone("redis")), fmtRatio(vsNone("redbun")),
        fmtFixed(cpu("redis"), 2), fmtFixed(cpu("redbun"), 2), fmtRatio(cpu("redbun") / cpu("redis")),
      ]);
      if (count === 0) continue;
      const lagCell = (s: ServerName, f: (x: Sample) => number) => fmtInt(of(s, count, depth, f));
      lag.rows.push([
        String(depth), String(count),
        lagCell("redis", (x) => x.lag.appliedBytes), lagCell("redbun", (x) => x.lag.appliedBytes),
        lagCell("redis", (x) => x.lag.ackedBytes), lagCell("redbun", (x) => x.lag.ackedBytes),
        fmtFixed(of("redis", count, depth, (x) => x.catchUpMs), 1), fmtFixed(of("redbun", count, depth, (x) => x.catchUpMs), 1),
      ]);
    }
  }
  return { throughput, lag };
}

function printReport(samples: Samples, problems: Set<string>, machine: string, opts: Options): void {
  const { throughput, lag } = buildTables(samples, opts);
  const notes = [
    `Medians of ${opts.rounds} round(s); redis-benchmark -t set -n ${opts.requests} -c ${opts.clients} -r 100000 -d 64. ` +
      `Replicas: ${opts.replicas === "redis" ? "real redis-server for both masters" : "the master's own system"}.`,
    `"vs 0": throughput with that many replicas relative to none. us/req: the master's utime+stime per request.`,
    `lag B: largest master_repl_offset - replica slave_repl_offset seen every ${LAG_POLL_MS} ms; acked lag B: the same ` +
      `against the offsets the master has acknowledged (replicas ACK once a second, so it trails). ` +
      `catch-up ms: from the end of the run until every replica has applied the whole stream.`,
    ...problems,
  ];
  const sections = [machine, renderPlain(throughput), renderPlain(lag), notes.join("\n")];
  console.log(`\n${sections.join("\n\n")}`);
  if (opts.markdown) console.log(`\n${[renderMarkdown(throughput), renderMarkdown(lag), notes.map((n) => `- ${n}`).join("\n")].join("\n\n")}`);
}

async function main(): Promise<void> {
  const opts = parseOptions();
  const machine = formatMachine(machineInfo());
  console.error(machine);
  const samples: Samples = new Map();
  const problems = new Set<string>();
  for (let round = 0; round < opts.rounds; round++) {
    // Alternate which system goes first so slow drift of a shared machine hits both alike.
    const order = round % 2 === 0 ? SYSTEMS : [...SYSTEMS].reverse();
    for (const count of opts.counts) {
      for (const system of order) await measureSetup(system, count, round, opts, samples, problems);
    }
  }
  printReport(samples, problems, machine, opts);
}

await main();
