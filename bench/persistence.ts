// Persistence: redbun vs Redis on the same data, one server after the other.
//
//   bun run bench:persistence [--scale 1] [--servers redis,redbun] [--markdown]
//
// For each server: load 1,000,000 x SET key:<7 digits> <10-byte value> (bench/lib/datasets.ts),
// then
//   - BGSAVE and BGREWRITEAOF, each while a probe client sends PING after PING on its own
//     connection: the longest wait for a PONG is the longest stall a client saw;
//   - SAVE, stop, and start again on that dump.rdb: the time until the server answers PING
//     with every key back, less the same server's start-up time on an empty directory;
//   - likewise from the AOF that BGREWRITEAOF wrote (aof-use-rdb-preamble no, so the base
//     file is commands, not an RDB).
// A step the server fails (an error reply, a key count that does not match) is reported
// under the table and its cell shows "-".
import { parseArgs } from "node:util";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { datasets, loadFile, pipeLoad } from "./lib/datasets.ts";
import {
  BENCH_TMP_DIR,
  type ServerName,
  type ServerProcess,
  formatMachine,
  machineInfo,
  sendCommand,
  startServer,
} from "./lib/servers.ts";
import { type Table, fmtFixed, fmtInt, fmtRatio, renderMarkdown, renderPlain } from "./lib/table.ts";

const HELP = `usage: bun run bench:persistence [options]

  --scale X         multiply the 1,000,000 keys by X (default 1; 0.1 for a quick run)
  --servers LIST    subset of redis,redbun (default both)
  --markdown        also print the table as markdown (for the README)
  -h, --help        this text

environment:
  REDBUN_BIN=path     run this executable as redbun (e.g. dist/redbun from \`bun run build\`)
                      instead of \`bun src/main.ts\``;

const PERSISTENCE_SERVERS: readonly ServerName[] = ["redis", "redbun"];
/** Persistence on, but no automatic saves or rewrites while measuring. */
const DIRECTIVES = ["--appendonly", "no", "--aof-use-rdb-preamble", "no", "--auto-aof-rewrite-percentage", "0"];
const POLL_MS = 20;
const BACKGROUND_TIMEOUT_MS = 600_000;
const LOAD_TIMEOUT_MS = 600_000;

class UsageError extends Error {}

interface Options {
  scale: number;
  servers: ServerName[];
  markdown: boolean;
}

function parseOptions(argv: string[]): Options {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        scale: { type: "string", default: "1" },
        servers: { type: "string", default: PERSISTENCE_SERVERS.join(",") },
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
  const scale = Number(values.scale);
  if (!(scale > 0 && scale <= 10)) throw new UsageError(`--scale must be a number in (0, 10], got ${values.scale}`);
  const names = values.servers!.split(",").map((s) => s.trim());
  for (const n of names) {
    if (!PERSISTENCE_SERVERS.includes(n as ServerName)) throw new UsageError(`unknown server ${JSON.stringify(n)}`);
  }
  return { scale, servers: PERSISTENCE_SERVERS.filter((s) => names.includes(s)), markdown: values.markdown! };
}

// ---------------------------------------------------------------------------------------
// The stall probe: one connection, one PING in flight at a time.

class StallProbe {
  private maxWaitMs = 0;
  private pings = 0;
  private sentAt = 0;
  private running = true;
  private socket: Awaited<ReturnType<typeof Bun.connect>> | undefined;
  private finished = Promise.withResolvers<void>();

  static async open(port: number): Promise<StallProbe> {
    const probe = new StallProbe();
    probe.socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data: () => probe.onReply(),
        close: () => probe.finished.resolve(),
        error: () => probe.finished.resolve(),
      },
    });
    probe.send();
    return probe;
  }

  private send(): void {
    this.sentAt = performance.now();
    this.socket!.write("PING\r\n");
  }

  // "+PONG\r\n" is 7 bytes and arrives whole on loopback; one data event is one reply.
  private onReply(): void {
    const waited = performance.now() - this.sentAt;
    if (waited > this.maxWaitMs) this.maxWaitMs = waited;
    this.pings++;
    if (this.running) this.send();
    else this.finished.resolve();
  }

  /** Stop after the PING in flight; returns the longest wait and the PINGs answered. */
  async stop(): Promise<{ maxWaitMs: number; pings: number }> {
    this.running = false;
    await Promise.race([this.finished.promise, Bun.sleep(5_000)]);
    this.socket?.end();
    return { maxWaitMs: this.maxWaitMs, pings: this.pings };
  }
}

// ---------------------------------------------------------------------------------------
// Steps.

/** INFO persistence as a field map. */
async function persistenceInfo(port: number): Promise<Map<string, string>> {
  const r = await sendCommand(port, ["INFO", "persistence"]);
  if (typeof r !== "string") throw new Error(`INFO persistence replied ${r instanceof Error ? r.message : JSON.stringify(r)}`);
  const fields = new Map<string, string>();
  for (const line of r.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

interface BackgroundJob {
  command: string;
  /** The INFO persistence fields that are "0" again once the job is over. */
  busyFields: string[];
  /** The INFO persistence field saying how the last such job ended ("ok"). */
  statusField: string;
}

const BGSAVE: BackgroundJob = {
  command: "BGSAVE",
  busyFields: ["rdb_bgsave_in_progress"],
  statusField: "rdb_last_bgsave_status",
};
const BGREWRITEAOF: BackgroundJob = {
  command: "BGREWRITEAOF",
  busyFields: ["aof_rewrite_in_progress", "aof_rewrite_scheduled"],
  statusField: "aof_last_bgrewrite_status",
};

/** Runs a background job under the stall probe: its duration and the longest stall. */
async function stallDuring(server: ServerProcess, job: BackgroundJob): Promise<{ seconds: number; maxStallMs: number }> {
  const probe = await StallProbe.open(server.port);
  const t0 = performance.now();
  let stalls: { maxWaitMs: number; pings: number };
  try {
    const reply = await sendCommand(server.port, [job.command]);
    if (reply instanceof Error) throw new Error(`${job.command}: ${reply.message}`);
    while (true) {
      const info = await persistenceInfo(server.port);
      if (job.busyFields.every((f) => info.get(f) === "0")) {
        const status = info.get(job.statusField);
        if (status !== "ok") throw new Error(`${job.command} ended with ${job.statusField}:${status}`);
        break;
      }
      if (performance.now() - t0 > BACKGROUND_TIMEOUT_MS) throw new Error(`${job.command} still running after ${BACKGROUND_TIMEOUT_MS} ms`);
      await Bun.sleep(POLL_MS);
    }
  } finally {
    stalls = await probe.stop();
  }
  return { seconds: (performance.now() - t0) / 1000, maxStallMs: stalls.maxWaitMs };
}

/** Starts the server in dataDir and times it until it answers with `keys` keys. */
async function timeStart(name: ServerName, dataDir: string, directives: string[], keys: number): Promise<number> {
  const t0 = performance.now();
  const r = await startServer(name, { dataDir, directives }, LOAD_TIMEOUT_MS);
  if (!r.ok) throw new Error(`${name} did not start: ${r.reason}`);
  const seconds = (performance.now() - t0) / 1000;
  try {
    const dbsize = await sendCommand(r.server.port, ["DBSIZE"]);
    if (dbsize !== keys) throw new Error(`DBSIZE after loading is ${dbsize instanceof Error ? dbsize.message : dbsize}, expected ${keys}`);
  } finally {
    await r.server.stop();
  }
  return seconds;
}

interface Measurement {
  name: ServerName;
  bgsave?: { seconds: number; maxStallMs: number };
  bgrewriteaof?: { seconds: number; maxStallMs: number };
  rdbLoadSeconds?: number;
  aofLoadSeconds?: number;
  failures: string[];
}

/** Runs `step`, recording a failure instead of throwing. */
async function attempt<T>(m: Measurement, what: string, step: () => Promise<T>): Promise<T | undefined> {
  try {
    return await step();
  } catch (err) {
    m.failures.push(`${m.name} ${what}: ${(err as Error).message.split("\n")[0]}`);
    return undefined;
  }
}

async function measure(name: ServerName, opts: Options): Promise<Measurement> {
  const m: Measurement = { name, failures: [] };
  const dataset = datasets(opts.scale).find((d) => d.name === "strings")!;
  const file = await loadFile(dataset);
  mkdirSync(BENCH_TMP_DIR, { recursive: true });
  const dataDir = mkdtempSync(join(BENCH_TMP_DIR, `${name}-persistence-`));
  try {
    const emptyStart = await timeStart(name, mkdtempSync(join(dataDir, "empty-")), DIRECTIVES, 0);
    const started = await startServer(name, { dataDir, directives: DIRECTIVES });
    if (!started.ok) throw new Error(`${name} did not start: ${started.reason}`);
    const server = started.server;
    try {
      const load = await pipeLoad(server, file, dataset.commands);
      m.failures.push(...load.warnings.map((w) => `${name} load: ${w}`));
      console.error(`${name}: loaded ${fmtInt(dataset.keys)} keys in ${load.seconds.toFixed(1)} s`);
      m.bgsave = await attempt(m, "BGSAVE", () => stallDuring(server, BGSAVE));
      m.bgrewriteaof = await attempt(m, "BGREWRITEAOF", () => stallDuring(server, BGREWRITEAOF));
      await attempt(m, "SAVE", async () => {
        const r = await sendCommand(server.port, ["SAVE"], LOAD_TIMEOUT_MS);
        if (r !== "OK") throw new Error(`replied ${r instanceof Error ? r.message : JSON.stringify(r)}`);
      });
    } finally {
      await server.stop();
    }
    const rdb = await attempt(m, "RDB load", () => timeStart(name, dataDir, DIRECTIVES, dataset.keys));
    if (rdb !== undefined) m.rdbLoadSeconds = Math.max(0, rdb - emptyStart);
    const aofDirectives = [...DIRECTIVES, "--appendonly", "yes"];
    const aof = await attempt(m, "AOF load", () => timeStart(name, dataDir, aofDirectives, dataset.keys));
    if (aof !== undefined) m.aofLoadSeconds = Math.max(0, aof - emptyStart);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  console.error(`${name}: ${JSON.stringify({ ...m, failures: m.failures.length })}`);
  return m;
}

// ---------------------------------------------------------------------------------------
// Report.

function buildTable(ms: readonly Measurement[]): Table {
  const redis = ms.find((m) => m.name === "redis");
  const redbun = ms.find((m) => m.name === "redbun");
  const row = (what: string, unit: string, pick: (m: Measurement) => number | undefined, digits: number): string[] => {
    const a = redis === undefined ? undefined : pick(redis);
    const b = redbun === undefined ? undefined : pick(redbun);
    return [what, unit, fmtFixed(a ?? NaN, digits), fmtFixed(b ?? NaN, digits), fmtRatio((b ?? NaN) / (a ?? NaN))];
  };
  return {
    headers: ["measure", "unit", "Redis", "redbun", "redbun/Redis"],
    align: ["left", "left", "right", "right", "right"],
    rows: [
      row("RDB load", "s", (m) => m.rdbLoadSeconds, 2),
      row("AOF load (no preamble)", "s", (m) => m.aofLoadSeconds, 2),
      row("BGSAVE", "s", (m) => m.bgsave?.seconds, 2),
      row("longest stall during BGSAVE", "ms", (m) => m.bgsave?.maxStallMs, 1),
      row("BGREWRITEAOF", "s", (m) => m.bgrewriteaof?.seconds, 2),
      row("longest stall during BGREWRITEAOF", "ms", (m) => m.bgrewriteaof?.maxStallMs, 1),
    ],
  };
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const machine = formatMachine(machineInfo());
  console.error(machine);
  const results: Measurement[] = [];
  for (const name of opts.servers) results.push(await measure(name, opts));
  const table = buildTable(results);
  const keys = datasets(opts.scale).find((d) => d.name === "strings")!.describe;
  const notes = [
    `data: ${keys}; load times are start-up until PING answers with every key, less the start-up on an empty directory.`,
    `stall: the longest PING round trip of a client pinging back to back while the job ran.`,
    ...results.flatMap((m) => m.failures.map((f) => `failed: ${f}`)),
  ];
  console.log(`\n${machine}\n`);
  console.log(renderPlain(table));
  console.log(`\n${notes.join("\n")}`);
  if (opts.markdown) {
    console.log(`\n${renderMarkdown(table)}\n\n${notes.map((n) => `- ${n}`).join("\n")}`);
  }
}

if (import.meta.main) {
  try {
    await main();
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`${err.message}\n\n${HELP}`);
      process.exit(2);
    }
    throw err;
  }
}
