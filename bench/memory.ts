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
// INFO memory's used_memory is reported when the server has it. The data sets are in
// lib/datasets.ts.
import { parseArgs } from "node:util";
import { type Dataset, datasets, loadFile, pipeLoad } from "./lib/datasets.ts";
import {
  type ServerName,
  type ServerProcess,
  formatMachine,
  machineInfo,
  readRss,
  sendCommand,
  startServers,
} from "./lib/servers.ts";
import { type Table, fmtBytes, fmtFixed, fmtRatio, renderMarkdown, renderPlain } from "./lib/table.ts";

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
