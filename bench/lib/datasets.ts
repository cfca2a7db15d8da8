// The data sets the comparison benchmarks load into Redis and redbun (memory.ts,
// persistence.ts), written once as RESP files in the temp dir and fed through
// `redis-cli --pipe`, which ends the stream with an ECHO of a random marker to know when
// the last reply has arrived (so the server must implement ECHO).
import { existsSync, renameSync, statSync } from "node:fs";
import { join } from "node:path";
import { BENCH_TMP_DIR, type ServerProcess, exitedWithin, haltIfInterrupted, track } from "./servers.ts";
import { fmtBytes, fmtInt } from "./table.ts";

const WRITE_BATCH_COMMANDS = 10_000;
const LOAD_TIMEOUT_MS = 600_000;

/** One data set: `commands` RESP commands, each made by `command(i)`, storing `units`. */
export interface Dataset {
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

export function datasets(scale: number): Dataset[] {
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
export async function loadFile(d: Dataset, commands = d.commands): Promise<string> {
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

export async function pipeLoad(server: ServerProcess, file: string, commands: number): Promise<{ seconds: number; warnings: string[] }> {
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

