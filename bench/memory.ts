// Memory per key: redbun vs Redis, one data set at a time.
//
//   bun run bench:memory [--datasets strings,hashes,sets,zsets,list] [--scale 1]
//                        [--servers redis,redbun] [--settle-ms 2000] [--markdown]
//
// Each data set is loaded into a fresh server through `redis-cli --pipe`, from a RESP file
// generated once in the temp dir, and the server's resident set size (/proc/<pid>/status
// VmRSS) is compared before and after (the first 2,000 commands are run and flushed
// before "before", so one-time costs such as JIT-compiled code are not counted per unit):
//
//   strings  1,000,000 x SET key:<7 digits> <10-byte value>
//   hashes     100,000 x HSET hash:<7 digits> with 10 fields (listpack-encoded in Redis)
//   sets       100,000 x SADD set:<7 digits> with 10 small integers (intset)
//   zsets      100,000 x ZADD zset:<7 digits> with 10 members (listpack)
//   list     one list of 1,000,000 items, pushed 1,000 per RPUSH (quicklist)
//
// --scale multiplies every count (0.1 for a quick run). Servers are measured one after
// another, never side by side, so that one's memory pressure cannot touch the other.
// INFO memory's used_memory is reported when the server has it. redis-cli --pipe ends the
// stream with an ECHO of a random marker to know when the last reply has arrived, so the
// server must implement ECHO.
import { parseArgs } from "node:util";
import { existsSync, renameSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  BENCH_TMP_DIR,
  type ServerName,
  type ServerProcess,
  exitedWithin,
  formatMachine,
  haltIfInterrupted,
  machineInfo,
  readRss,
  sendCommand,
  startServers,
  track,
} from "./lib/servers.ts";
import { type Table, fmtBytes, fmtFixed, fmtInt, fmtRatio, renderMarkdown, renderPlain } from "./lib/table.ts";

const HELP = `usage: bun run bench:memory [options]

  --datasets LIST   subset of ${"strings,hashes,sets,zsets,list"} (default all)
  --scale X         multiply every data set's size by X (default 1; 0.1 for a quick run)
  --servers LIST    subset of redis,redbun (default both; one that fails to start is skipped)
  --settle-ms MS    idle time between the end of a load and the RSS reading used for
                    bytes/unit, so a garbage-collected heap can shrink (default 2000)
  --markdown        also print the table as markdown (for the README)
  -h, --help        this text

environment:
  REDBUN_BIN=path     run this executable as redbun (e.g. dist/redbun from \`bun run build\`)
                      instead of \`bun src/main.ts\``;

/** The ceiling stores nothing, so it has no place in a memory comparison. */
const MEMORY_SERVERS: readonly ServerName[] = ["redis", "redbun"];
const LOAD_TIMEOUT_MS = 600_000;
const WRITE_BATCH_COMMANDS = 10_000;

// ---------------------------------------------------------------------------------------
// The data sets.

/** One data set: `commands` RESP commands, each made by `command(i)`, storing `units`. */
interface Dataset {
  name: string;
  /** What is counted per unit in the table (a key, or a list item). */
  unit: string;
  units: number;
  commands: number;
  /** Keys the data set leaves, which DBSIZE must show. */
  keys: number;
  describe: string;
  command(i: number): string[];
}

const pad7 = (i: number): string => String(i).padStart(7, "0");
/** A 10-byte value that differs per key, like `v000000042`. */
const value10 = (i: number): string => `v${String(i).padStart(9, "0")}`;
const LIST_BATCH = 1000;

function datasets(scale: number): Dataset[] {
  const n = (count: number) => Math.max(1, Math.round(count * scale));
  const strings = n(1_000_000);
  const hashes = n(100_000);
  const sets = n(100_000);
  const zsets = n(100_000);
  const listItems = n(1_000_000);
  return [
    {
      name: "strings", unit: "key", units: strings, commands: strings, keys: strings,
      describe: `${fmtInt(strings)} x SET key:<7 digits> <10-byte value>`,
      command: (i) => ["SET", `key:${pad7(i)}`, value10(i)],
    },
    {
      name: "hashes", unit: "hash", units: hashes, commands: hashes, keys: hashes,
      describe: `${fmtInt(hashes)} x HSET hash:<7 digits> field:0..9 <10-byte values>`,
      command: (i) => ["HSET", `hash:${pad7(i)}`, ...Array.from({ length: 10 }, (_, f) => [`field:${f}`, value10(i + f)]).flat()],
    },
    {
      name: "sets", unit: "set", units: sets, commands: sets, keys: sets,
      describe: `${fmtInt(sets)} x SADD set:<7 digits> <10 integers below 1000>`,
      command: (i) => ["SADD", `set:${pad7(i)}`, ...Array.from({ length: 10 }, (_, m) => String((i * 7 + m * 97) % 1000))],
    },
    {
      name: "zsets", unit: "zset", units: zsets, commands: zsets, keys: zsets,
      describe: `${fmtInt(zsets)} x ZADD zset:<7 digits> <10 members member:0..9 with small scores>`,
      command: (i) => ["ZADD", `zset:${pad7(i)}`, ...Array.from({ length: 10 }, (_, m) => [String((i + m) % 100), `member:${m}`]).flat()],
    },
    {
      name: "list", unit: "item", units: listItems, commands: Math.ceil(listItems / LIST_BATCH), keys: 1,
      describe: `one list of ${fmtInt(listItems)} 10-byte items, ${LIST_BATCH} per RPUSH`,
      command: (i) => {
        const first = i * LIST_BATCH;
        const count = Math.min(LIST_BATCH, listItems - first);
        return ["RPUSH", "list", ...Array.from({ length: count }, (_, k) => value10(first + k))];
      },
    },
  ];
}

const DATASET_NAMES = datasets(1).map((d) => d.name);

class UsageError extends Error {}

interface Options {
  datasets: string[];
  scale: number;
  servers: ServerName[];
  settleMs: number;
  markdown: boolean;
}

function parseOptions(argv: string[]): Options {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        datasets: { type: "string", default: DATASET_NAMES.join(",") },
        scale: { type: "string", default: "1" },
        servers: { type: "string", default: MEMORY_SERVERS.join(",") },
        "settle-ms": { type: "string", default: "2000" },
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
  if (!(scale > 0 && scale <= 100)) throw new UsageError(`--scale must be a number in (0, 100], got ${values.scale}`);
  const settleMs = Number(values["settle-ms"]);
  if (!Number.isInteger(settleMs) || settleMs < 0) throw new UsageError(`--settle-ms must be a non-negative integer`);
  const chosen = (list: string, known: readonly string[], what: string): string[] => {
    const names = list.split(",").map((s) => s.trim()).filter((s) => s !== "");
    for (const name of names) {
      if (!known.includes(name)) throw new UsageError(`unknown ${what} ${JSON.stringify(name)} (want ${known.join(",")})`);
    }
    return known.filter((k) => names.includes(k));
  };
  return {
    datasets: chosen(values.datasets!, DATASET_NAMES, "data set"),
    scale,
    servers: chosen(values.servers!, MEMORY_SERVERS, "server") as ServerName[],
    settleMs,
    markdown: values.markdown!,
  };
}

// ---------------------------------------------------------------------------------------
// The load files.

const encoder = new TextEncoder();

/** One command as RESP, lengths in bytes. */
function resp(args: readonly string[]): string {
  let out = `*${args.length}\r\n`;
  for (const a of args) out += `$${encoder.encode(a).length}\r\n${a}\r\n`;
  return out;
}

/**
 * Write (or reuse) the data set's commands as RESP. The file name carries the data set and
 * its size; a file is reused only when a trailing marker says it was written to the end.
 */
async function loadFile(d: Dataset, commands = d.commands): Promise<string> {
  const path = join(BENCH_TMP_DIR, `${d.name}-${d.units}-${commands}-v3.resp`);
  if (existsSync(path) && statSync(path).size > 0) {
    console.error(`reusing ${path} (${fmtBytes(statSync(path).size)})`);
    return path;
  }
  const t0 = performance.now();
  // Written under a temporary name and renamed, so an interrupted run leaves no
  // half-written file behind under the real name.
  const partial = `${path}.${process.pid}.partial`;
  const writer = Bun.file(partial).writer();
  for (let start = 0; start < commands; start += WRITE_BATCH_COMMANDS) {
    let chunk = "";
    const end = Math.min(commands, start + WRITE_BATCH_COMMANDS);
    for (let i = start; i < end; i++) chunk += resp(d.command(i));
    writer.write(chunk);
    await writer.flush();
  }
  await writer.end();
  renameSync(partial, path);
  console.error(`generated ${path} (${fmtBytes(statSync(path).size)}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return path;
}

// ---------------------------------------------------------------------------------------
// Measuring one server.

interface Measurement {
  dataset: Dataset;
  name: ServerName;
  loadSeconds: number;
  rssBefore: number;
  rssSettled: number;
  usedBefore: number;
  usedAfter: number;
  warnings: string[];
}

/** INFO memory's used_memory, or NaN if the server does not report it. */
async function usedMemory(port: number): Promise<number> {
  try {
    const r = await sendCommand(port, ["INFO", "memory"]);
    const m = typeof r === "string" ? r.match(/^used_memory:(\d+)/m) : null;
    return m === null ? NaN : Number(m[1]);
  } catch {
    return NaN;
  }
}

async function pipeLoad(server: ServerProcess, file: string, commands: number): Promise<{ seconds: number; warnings: string[] }> {
  const t0 = performance.now();
  const proc = track(
    Bun.spawn(["redis-cli", "-h", "127.0.0.1", "-p", String(server.port), "--pipe"], {
      stdin: Bun.file(file),
      stdout: "pipe",
      stderr: "pipe",
    }),
  );
  const [stdout, stderr, exit] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    exitedWithin(proc, LOAD_TIMEOUT_MS),
  ]);
  const seconds = (performance.now() - t0) / 1000;
  await haltIfInterrupted();
  const output = `${stdout}${stderr}`.trim();
  if (exit.timedOut) throw new Error(`redis-cli --pipe into ${server.name} timed out:\n${output}`);
  // The closing ECHO's reply is not counted: one reply per command.
  const m = output.match(/errors: (\d+), replies: (\d+)/);
  // redis-cli exits 1 when any reply was an error; the counts say how bad it is.
  if (m === null) throw new Error(`redis-cli --pipe into ${server.name} failed (exit ${exit.code}):\n${output}`);
  const warnings: string[] = [];
  if (Number(m[1]) !== 0) warnings.push(`${m[1]} error replies during load`);
  if (Number(m[2]) !== commands) warnings.push(`${m[2]} replies for ${commands} commands`);
  return { seconds, warnings };
}

/** Commands of a data set run once and flushed before measuring (see warmUp). */
const WARMUP_COMMANDS = 2000;

/**
 * Runs the start of the data set once and flushes it, so that what is measured after is
 * the memory the data takes, not one-time costs of the first commands of a kind (a JIT
 * compiles their code paths; Redis has nothing of the sort, so this changes only redbun's
 * figures, by a fixed few MB that would otherwise be spread over the units).
 */
async function warmUp(server: ServerProcess, d: Dataset, opts: Options): Promise<void> {
  const commands = Math.min(WARMUP_COMMANDS, d.commands);
  await pipeLoad(server, await loadFile(d, commands), commands);
  await sendCommand(server.port, ["FLUSHALL"]);
  if (opts.settleMs > 0) await Bun.sleep(opts.settleMs);
}

async function measure(server: ServerProcess, d: Dataset, file: string, opts: Options): Promise<Measurement> {
  await warmUp(server, d, opts);
  const rssBefore = readRss(server.pid).rssBytes;
  const usedBefore = await usedMemory(server.port);
  const load = await pipeLoad(server, file, d.commands);
  const dbsizeReply = await sendCommand(server.port, ["DBSIZE"]);
  // A fixed idle interval, not a readiness wait: a garbage-collected server may give memory
  // back some time after the load, and bytes per unit should not count transient garbage.
  if (opts.settleMs > 0) await Bun.sleep(opts.settleMs);
  const rssSettled = readRss(server.pid).rssBytes;
  const usedAfter = await usedMemory(server.port);
  const warnings = [...load.warnings];
  if (dbsizeReply !== d.keys) warnings.push(`DBSIZE is ${dbsizeReply instanceof Error ? dbsizeReply.message : dbsizeReply}, expected ${d.keys}`);
  return { dataset: d, name: server.name, loadSeconds: load.seconds, rssBefore, rssSettled, usedBefore, usedAfter, warnings };
}

// ---------------------------------------------------------------------------------------
// Report.

const perUnit = (m: Measurement, after: number, before: number): number => (after - before) / m.dataset.units;

function buildTable(ms: readonly Measurement[], datasetNames: readonly string[]): Table {
  const headers = ["data set", "unit", "Redis RSS B/unit", "redbun RSS B/unit", "redbun/Redis", "Redis load s", "redbun load s", "redbun used_memory B/unit"];
  const rows = datasetNames.flatMap((name) => {
    const redis = ms.find((m) => m.dataset.name === name && m.name === "redis");
    const redbun = ms.find((m) => m.dataset.name === name && m.name === "redbun");
    const d = (redis ?? redbun)?.dataset;
    if (d === undefined) return [];
    // Bytes per unit only mean something if every command was stored.
    const rss = (m: Measurement | undefined) => (m === undefined || m.warnings.length > 0 ? NaN : perUnit(m, m.rssSettled, m.rssBefore));
    const cell = (x: number) => (Number.isNaN(x) ? "-" : fmtFixed(x, 1));
    return [[
      d.name, d.unit, cell(rss(redis)), cell(rss(redbun)), Number.isNaN(rss(redis) + rss(redbun)) ? "-" : fmtRatio(rss(redbun) / rss(redis)),
      redis ? fmtFixed(redis.loadSeconds, 2) : "-", redbun ? fmtFixed(redbun.loadSeconds, 2) : "-",
      redbun ? cell(perUnit(redbun, redbun.usedAfter, redbun.usedBefore)) : "-",
    ]];
  });
  return { headers, align: ["left", "left", ...Array<"right">(headers.length - 2).fill("right")], rows };
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const machine = formatMachine(machineInfo());
  console.error(machine);
  const chosen = datasets(opts.scale).filter((d) => opts.datasets.includes(d.name));
  const results: Measurement[] = [];
  const skipped: string[] = [];
  for (const d of chosen) {
    const file = await loadFile(d);
    for (const name of opts.servers) {
      // One server at a time, each fresh.
      const [server] = await startServers([name]);
      if (server === undefined) {
        skipped.push(`${name} for ${d.name} (did not start)`);
        continue;
      }
      await using _ = server;
      try {
        const m = await measure(server, d, file, opts);
        console.error(`${d.name} ${name}: ${m.loadSeconds.toFixed(2)} s, RSS ${fmtBytes(m.rssBefore)} -> ${fmtBytes(m.rssSettled)}`);
        results.push(m);
      } catch (err) {
        // One server failing (missing commands, a crash) must not cost the other's numbers.
        console.error(`${d.name} ${name}: ${(err as Error).message}`);
        skipped.push(`${name} for ${d.name} (failed: ${(err as Error).message.split("\n")[0]})`);
      }
    }
  }
  if (results.length === 0) {
    console.error("nothing measured");
    process.exitCode = 1;
    return;
  }
  const table = buildTable(results, opts.datasets);
  const notes = [
    ...chosen.map((d) => `${d.name}: ${d.describe}`),
    `B/unit = (RSS after - RSS before) / units, RSS from /proc/<pid>/status read ${opts.settleMs} ms after the load.`,
    ...(skipped.length > 0 ? [`skipped: ${skipped.join(", ")}`] : []),
    ...results.flatMap((m) => m.warnings.map((w) => `WARNING ${m.name} ${m.dataset.name}: ${w}`)),
  ];
  console.log(`\n${machine}\n`);
  console.log(renderPlain(table));
  console.log(`\n${notes.join("\n")}`);
  if (opts.markdown) {
    console.log(`\n${machine}\n`);
    console.log(renderMarkdown(table));
    console.log(`\n${notes.map((n) => `- ${n}`).join("\n")}`);
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
