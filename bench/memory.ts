// Memory per key: redbun vs Redis.
//
//   bun run bench:memory [--keys 1000000] [--servers redis,redbun] [--settle-ms 2000] [--markdown]
//
// Loads N keys `key:0000000`.. with 10-byte values (`SET key v000000042`) into a fresh
// server through `redis-cli --pipe`, from a RESP file generated once in the temp dir, and
// compares the server's resident set size (/proc/<pid>/status VmRSS) before and after.
// Servers are measured one after another, never side by side, so that one's memory
// pressure cannot touch the other. INFO memory's used_memory is reported when the server
// has it. redis-cli --pipe ends the stream with an ECHO of a random marker to know when the
// last reply has arrived, so the server must implement ECHO.
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

  --keys N          keys to load (default 1000000)
  --servers LIST    subset of redis,redbun (default both; one that fails to start is skipped)
  --settle-ms MS    idle time between the end of the load and the RSS reading used for
                    bytes/key, so a garbage-collected heap can shrink (default 2000)
  --markdown        also print the table as markdown (for the README)
  -h, --help        this text

environment:
  REDBUN_BIN=path     run this executable as redbun (e.g. dist/redbun from \`bun run build\`)
                      instead of \`bun src/main.ts\``;

/** The ceiling stores nothing, so it has no place in a memory comparison. */
const MEMORY_SERVERS: readonly ServerName[] = ["redis", "redbun"];
const VALUE_BYTES = 10;
const LOAD_TIMEOUT_MS = 600_000;
const WRITE_BATCH_COMMANDS = 10_000;

class UsageError extends Error {}

interface Options {
  keys: number;
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
        keys: { type: "string", default: "1000000" },
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
  const keys = Number(values.keys);
  if (!Number.isInteger(keys) || keys <= 0 || keys > 1e9) throw new UsageError(`--keys must be an integer in 1..1e9, got ${values.keys}`);
  const settleMs = Number(values["settle-ms"]);
  if (!Number.isInteger(settleMs) || settleMs < 0) throw new UsageError(`--settle-ms must be a non-negative integer`);
  const servers = values.servers!.split(",").map((s) => s.trim()).filter((s) => s !== "");
  for (const s of servers) {
    if (!MEMORY_SERVERS.includes(s as ServerName)) throw new UsageError(`unknown server ${JSON.stringify(s)} (want ${MEMORY_SERVERS.join(",")})`);
  }
  return { keys, servers: MEMORY_SERVERS.filter((s) => servers.includes(s)), settleMs, markdown: values.markdown! };
}

// ---------------------------------------------------------------------------------------
// The load file.

/**
 * Write (or reuse) `SET key:<i> v<i>` for i in [0, keys) as RESP. Every command has the
 * same length (fixed-width key and value), so a reusable file is recognised by its size.
 */
async function loadFile(keys: number): Promise<string> {
  const keyDigits = Math.max(7, String(keys - 1).length);
  const path = join(BENCH_TMP_DIR, `set-${keys}-k${keyDigits}-v${VALUE_BYTES}.resp`);
  const keyBytes = 4 + keyDigits; // "key:" + digits
  const commandBytes =
    "*3\r\n$3\r\nSET\r\n".length + `$${keyBytes}\r\n`.length + keyBytes + 2 + `$${VALUE_BYTES}\r\n`.length + VALUE_BYTES + 2;
  const expectedBytes = commandBytes * keys;
  if (existsSync(path) && statSync(path).size === expectedBytes) {
    console.error(`reusing ${path} (${fmtBytes(expectedBytes)})`);
    return path;
  }
  const t0 = performance.now();
  // Written under a temporary name and renamed, so an interrupted run leaves no
  // half-written file behind under the real name.
  const partial = `${path}.${process.pid}.partial`;
  const writer = Bun.file(partial).writer();
  for (let start = 0; start < keys; start += WRITE_BATCH_COMMANDS) {
    let chunk = "";
    const end = Math.min(keys, start + WRITE_BATCH_COMMANDS);
    for (let i = start; i < end; i++) {
      const key = `key:${String(i).padStart(keyDigits, "0")}`;
      const value = `v${String(i).padStart(VALUE_BYTES - 1, "0")}`;
      chunk += `*3\r\n$3\r\nSET\r\n$${keyBytes}\r\n${key}\r\n$${VALUE_BYTES}\r\n${value}\r\n`;
    }
    writer.write(chunk);
    await writer.flush();
  }
  await writer.end();
  const size = statSync(partial).size;
  if (size !== expectedBytes) throw new Error(`${partial}: wrote ${size} bytes, expected ${expectedBytes}`);
  renameSync(partial, path);
  console.error(`generated ${path} (${fmtBytes(size)}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return path;
}

// ---------------------------------------------------------------------------------------
// Measuring one server.

interface Measurement {
  name: ServerName;
  loadSeconds: number;
  rssBefore: number;
  rssLoaded: number;
  rssSettled: number;
  peakRss: number;
  usedBefore: number;
  usedAfter: number;
  dbsize: number;
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

async function pipeLoad(server: ServerProcess, file: string, keys: number): Promise<{ seconds: number; warnings: string[] }> {
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
  // The closing ECHO's reply is not counted: one reply per SET.
  const m = output.match(/errors: (\d+), replies: (\d+)/);
  // redis-cli exits 1 when any reply was an error; the counts say how bad it is.
  if (m === null) throw new Error(`redis-cli --pipe into ${server.name} failed (exit ${exit.code}):\n${output}`);
  const warnings: string[] = [];
  if (Number(m[1]) !== 0) warnings.push(`${m[1]} error replies during load`);
  if (Number(m[2]) !== keys) warnings.push(`${m[2]} replies for ${keys} SETs`);
  return { seconds, warnings };
}

async function measure(server: ServerProcess, file: string, opts: Options): Promise<Measurement> {
  const rssBefore = readRss(server.pid).rssBytes;
  const usedBefore = await usedMemory(server.port);
  const load = await pipeLoad(server, file, opts.keys);
  const dbsizeReply = await sendCommand(server.port, ["DBSIZE"]);
  const dbsize = typeof dbsizeReply === "number" ? dbsizeReply : NaN;
  const rssLoaded = readRss(server.pid).rssBytes;
  // A fixed idle interval, not a readiness wait: a garbage-collected server may give memory
  // back some time after the load, and bytes/key should not count transient garbage.
  if (opts.settleMs > 0) await Bun.sleep(opts.settleMs);
  const { rssBytes: rssSettled, peakBytes: peakRss } = readRss(server.pid);
  const usedAfter = await usedMemory(server.port);
  const warnings = [...load.warnings];
  if (dbsize !== opts.keys) warnings.push(`DBSIZE is ${dbsizeReply instanceof Error ? dbsizeReply.message : dbsizeReply}, expected ${opts.keys}`);
  return { name: server.name, loadSeconds: load.seconds, rssBefore, rssLoaded, rssSettled, peakRss, usedBefore, usedAfter, dbsize, warnings };
}

// ---------------------------------------------------------------------------------------
// Report.

function buildTable(ms: readonly Measurement[], keys: number): Table {
  const headers = [
    "server", "keys", "load s", "keys/s", "RSS before", "RSS loaded", "RSS settled", "peak RSS",
    "RSS B/key", "used_memory B/key",
  ];
  const rows = ms.map((m) => [
    m.name, fmtInt(m.dbsize), fmtFixed(m.loadSeconds, 2), fmtInt(keys / m.loadSeconds),
    fmtBytes(m.rssBefore), fmtBytes(m.rssLoaded), fmtBytes(m.rssSettled), fmtBytes(m.peakRss),
    // Bytes per key only mean something if every key was stored.
    m.warnings.length === 0 ? fmtFixed((m.rssSettled - m.rssBefore) / keys, 1) : "invalid",
    m.warnings.length === 0 ? fmtFixed((m.usedAfter - m.usedBefore) / keys, 1) : "invalid",
  ]);
  const redis = ms.find((m) => m.name === "redis");
  const redbun = ms.find((m) => m.name === "redbun");
  const ratio = (f: (m: Measurement) => number) => (redis && redbun ? f(redbun) / f(redis) : NaN);
  if (redis && redbun && redis.warnings.length === 0 && redbun.warnings.length === 0) rows.push([
    "redbun/redis", "", "", fmtRatio(ratio((m) => keys / m.loadSeconds)), "", "", "", fmtRatio(ratio((m) => m.peakRss)),
    fmtRatio(ratio((m) => m.rssSettled - m.rssBefore)), fmtRatio(ratio((m) => m.usedAfter - m.usedBefore)),
  ]);
  return { headers, align: ["left", ...Array<"right">(headers.length - 1).fill("right")], rows };
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const machine = formatMachine(machineInfo());
  console.error(machine);
  const file = await loadFile(opts.keys);
  const results: Measurement[] = [];
  const skipped: string[] = [];
  for (const name of opts.servers) {
    // One server at a time, each fresh.
    const [server] = await startServers([name]);
    if (server === undefined) {
      skipped.push(`${name} (did not start)`);
      continue;
    }
    await using _ = server;
    let m: Measurement;
    try {
      m = await measure(server, file, opts);
    } catch (err) {
      // One server failing (missing commands, a crash) must not cost the other's numbers.
      console.error(`${name}: ${(err as Error).message}`);
      skipped.push(`${name} (failed: ${(err as Error).message.split("\n")[0]})`);
      continue;
    }
    console.error(`${name}: loaded ${fmtInt(m.dbsize)} keys in ${m.loadSeconds.toFixed(2)} s, RSS ${fmtBytes(m.rssBefore)} -> ${fmtBytes(m.rssSettled)}`);
    results.push(m);
  }
  if (results.length === 0) {
    console.error("no server started; nothing to measure");
    process.exitCode = 1;
    return;
  }
  const table = buildTable(results, opts.keys);
  const notes = [
    `${fmtInt(opts.keys)} x SET key:<${Math.max(7, String(opts.keys - 1).length)} digits> <${VALUE_BYTES}-byte value> via redis-cli --pipe; ` +
      `B/key = (after - before) / keys; RSS from /proc/<pid>/status, read ${opts.settleMs} ms after the load ("settled").`,
    ...(skipped.length > 0 ? [`skipped: ${skipped.join(", ")}`] : []),
    ...results.flatMap((m) => m.warnings.map((w) => `WARNING ${m.name}: ${w}`)),
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
