// redbun as a cache next to Redis: the same maxmemory, the same traffic, measured.
//
//   bun run bench:cache [--maxmemory 20mb] [--keys 1000000] [--zipf 0.99] [--value 100]
//                       [--warmup 1000000] [--requests 2000000] [--policies allkeys-lru,allkeys-lfu]
//                       [--set-requests 2000000] [--markdown]
//
// 1. Hit rate. A cache-aside client reads keys drawn from a Zipf distribution over a key
//    space far larger than what fits in maxmemory (by default 1,000,000 keys of 100 bytes,
//    about ten times what 20 MB holds), and writes each key it misses. After a warm-up the
//    hits are counted; the table shows each server's hit rate, the keys it holds at the
//    end (DBSIZE) and keys per MiB of maxmemory. Both servers get the very same sequence
//    of keys (a seeded generator). What decides the figures: how close each server's
//    memory count is to the truth (more keys fit) and how well its sampling approximates
//    LRU or LFU.
// 2. SET throughput under constant eviction: redis-benchmark writing random keys (-r 10M)
//    into a server capped at maxmemory, so nearly every SET evicts a key.
//
// Servers start fresh for each policy, without persistence. Nothing is asserted.
import { parseArgs } from "node:util";
import {
  type ServerName,
  type ServerProcess,
  exitedWithin,
  formatMachine,
  machineInfo,
  sendCommand,
  startServers,
  stopAll,
  track,
} from "./lib/servers.ts";
import { type Table, fmtFixed, fmtInt, fmtRatio, renderMarkdown, renderPlain } from "./lib/table.ts";
import { rng } from "../test/oracle/harness.ts";

const HELP = `usage: bun run bench:cache [options]

  --maxmemory SIZE     the cap both servers run with (default 20mb)
  --keys N             key space of the hit-rate run (default 1000000)
  --zipf S             Zipf exponent of the key popularity (default 0.99)
  --value BYTES        value size (default 100)
  --warmup N           reads before counting (default 1000000)
  --requests N         reads counted (default 2000000)
  --policies LIST      maxmemory policies of the hit-rate run (default allkeys-lru,allkeys-lfu)
  --set-requests N     requests of the SET run at pipeline 16 (default 2000000; a tenth at 1)
  --markdown           also print the tables as markdown (for the README)
  -h, --help           this text`;

const SERVERS: readonly ServerName[] = ["redis", "redbun"];
/** Reads sent at once on the client's connection; the misses' SETs follow as one batch. */
const BATCH = 512;
const SEED = 0x5eed;

interface Options {
  maxmemory: string;
  keys: number;
  zipf: number;
  valueBytes: number;
  warmup: number;
  requests: number;
  policies: string[];
  setRequests: number;
  markdown: boolean;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      maxmemory: { type: "string", default: "20mb" },
      keys: { type: "string", default: "1000000" },
      zipf: { type: "string", default: "0.99" },
      value: { type: "string", default: "100" },
      warmup: { type: "string", default: "1000000" },
      requests: { type: "string", default: "2000000" },
      policies: { type: "string", default: "allkeys-lru,allkeys-lfu" },
      "set-requests": { type: "string", default: "2000000" },
      markdown: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  return {
    maxmemory: values.maxmemory!,
    keys: Number(values.keys),
    zipf: Number(values.zipf),
    valueBytes: Number(values.value),
    warmup: Number(values.warmup),
    requests: Number(values.requests),
    policies: values.policies!.split(","),
    setRequests: Number(values["set-requests"]),
    markdown: values.markdown!,
  };
}

// ---------------------------------------------------------------------------------------
// The traffic: Zipf-distributed keys from a seeded generator (the same for both servers).

/** Draws ranks 0..n-1 with probability proportional to 1/(rank+1)^s, by inverting the CDF. */
class Zipf {
  private readonly cdf: Float64Array;

  constructor(n: number, s: number) {
    this.cdf = new Float64Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) this.cdf[i] = sum += 1 / Math.pow(i + 1, s);
    for (let i = 0; i < n; i++) this.cdf[i]! /= sum;
  }

  rank(u: number): number {
    const cdf = this.cdf;
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

// ---------------------------------------------------------------------------------------
// A pipelining client that only needs to tell a null bulk (a miss) from anything else.

class CacheClient {
  private chunks: Buffer[] = [];
  private buffered = Buffer.alloc(0);
  private waiting: (() => void) | null = null;
  private socket!: Awaited<ReturnType<typeof Bun.connect>>;
  private pendingOut: Uint8Array[] = [];

  static async connect(port: number): Promise<CacheClient> {
    const c = new CacheClient();
    c.socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data: (_s, d) => {
          c.chunks.push(Buffer.from(d));
          c.waiting?.();
        },
        drain: () => c.flush(),
        close: () => c.waiting?.(),
      },
    });
    return c;
  }

  send(bytes: Uint8Array): void {
    if (this.pendingOut.length > 0) {
      this.pendingOut.push(bytes);
      return;
    }
    const n = this.socket.write(bytes);
    if (n < bytes.length) this.pendingOut.push(bytes.subarray(Math.max(n, 0)));
  }

  private flush(): void {
    while (this.pendingOut.length > 0) {
      const head = this.pendingOut[0]!;
      const n = this.socket.write(head);
      if (n < head.length) {
        this.pendingOut[0] = head.subarray(Math.max(n, 0));
        return;
      }
      this.pendingOut.shift();
    }
  }

  /** Read `count` replies; returns which ones were a null bulk. Throws on an error reply. */
  async replies(count: number): Promise<boolean[]> {
    const isNull: boolean[] = [];
    let pos = 0;
    for (;;) {
      if (this.chunks.length > 0) {
        this.buffered = Buffer.concat([this.buffered.subarray(pos), ...this.chunks]);
        this.chunks = [];
        pos = 0;
      }
      const buf = this.buffered;
      while (isNull.length < count) {
        const eol = buf.indexOf("\r\n", pos);
        if (eol < 0) break;
        const type = buf[pos];
        if (type === 45) throw new Error(`error reply: ${buf.toString("latin1", pos, eol)}`); // '-'
        if (type === 36) {
          // '$': a bulk, or null when its length is -1.
          const len = Number(buf.toString("latin1", pos + 1, eol));
          if (len < 0) {
            isNull.push(true);
            pos = eol + 2;
            continue;
          }
          if (eol + 2 + len + 2 > buf.length) break;
          isNull.push(false);
          pos = eol + 2 + len + 2;
          continue;
        }
        isNull.push(false); // '+OK' and the like
        pos = eol + 2;
      }
      if (isNull.length === count) {
        this.buffered = buf.subarray(pos);
        return isNull;
      }
      this.buffered = buf.subarray(pos);
      pos = 0;
      await new Promise<void>((r) => (this.waiting = r));
      this.waiting = null;
    }
  }

  close(): void {
    this.socket.end();
  }
}

function encode(args: string[]): string {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${a.length}\r\n${a}\r\n`;
  return s;
}

// ---------------------------------------------------------------------------------------
// 1. Hit rate

interface HitRun {
  hitRate: number;
  keysHeld: number;
  evicted: number;
  seconds: number;
}

async function hitRateRun(server: ServerProcess, policy: string, zipf: Zipf, opts: Options): Promise<HitRun> {
  await configure(server, policy, opts.maxmemory);
  const client = await CacheClient.connect(server.port);
  const random = rng(SEED);
  const value = "v".repeat(opts.valueBytes);
  const keys = new Array<string>(BATCH);
  let hits = 0;
  let counted = 0;
  const t0 = performance.now();
  for (let done = 0; done < opts.warmup + opts.requests; done += BATCH) {
    let reads = "";
    for (let i = 0; i < BATCH; i++) {
      keys[i] = `key:${zipf.rank(random())}`;
      reads += encode(["GET", keys[i]!]);
    }
    client.send(Buffer.from(reads, "latin1"));
    const misses = await client.replies(BATCH);
    let writes = "";
    let written = 0;
    for (let i = 0; i < BATCH; i++) {
      if (misses[i]) {
        writes += encode(["SET", keys[i]!, value]);
        written++;
      } else if (done >= opts.warmup) hits++;
    }
    if (done >= opts.warmup) counted += BATCH;
    if (written > 0) {
      client.send(Buffer.from(writes, "latin1"));
      await client.replies(written);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  client.close();
  const keysHeld = Number(await sendCommand(server.port, ["DBSIZE"]));
  const stats = String(await sendCommand(server.port, ["INFO", "stats"]));
  const evicted = Number(stats.match(/evicted_keys:(\d+)/)?.[1] ?? NaN);
  return { hitRate: hits / counted, keysHeld, evicted, seconds };
}

async function configure(server: ServerProcess, policy: string, maxmemory: string): Promise<void> {
  for (const [name, value] of [
    ["maxmemory-policy", policy],
    ["maxmemory", maxmemory],
  ]) {
    const reply = await sendCommand(server.port, ["CONFIG", "SET", name!, value!]);
    if (reply !== "OK") throw new Error(`${server.name}: CONFIG SET ${name} ${value}: ${String(reply)}`);
  }
}

/** maxmemory as a number of bytes, read back from the server. */
async function maxmemoryBytes(server: ServerProcess): Promise<number> {
  const info = String(await sendCommand(server.port, ["INFO", "memory"]));
  return Number(info.match(/maxmemory:(\d+)/)?.[1] ?? NaN);
}

// ---------------------------------------------------------------------------------------
// 2. SET under constant eviction

async function setThroughput(server: ServerProcess, requests: number, pipeline: number, opts: Options): Promise<{ rps: number; evicted: number }> {
  await configure(server, "allkeys-lru", opts.maxmemory);
  const argv = ["redis-benchmark", "-h", "127.0.0.1", "-p", String(server.port), "-t", "set", "-r", "10000000", "-n", String(requests), "-d", String(opts.valueBytes), "-P", String(pipeline), "-c", "50", "-q", "--csv"];
  const proc = track(Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" }));
  const [stdout, , exit] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), exitedWithin(proc, 300_000)]);
  if (exit.code !== 0) throw new Error(`redis-benchmark against ${server.name} exited ${exit.code ?? "on timeout"}`);
  const row = stdout.split("\n").find((line) => line.startsWith('"SET"'));
  const rps = row === undefined ? NaN : Number(row.replace(/"/g, "").split(",")[1]);
  const stats = String(await sendCommand(server.port, ["INFO", "stats"]));
  return { rps, evicted: Number(stats.match(/evicted_keys:(\d+)/)?.[1] ?? NaN) };
}

// ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseOptions();
  console.error(formatMachine(machineInfo()));
  const zipf = new Zipf(opts.keys, opts.zipf);
  const hitTable: Table = {
    headers: ["policy", "redis hit rate", "redbun hit rate", "difference (points)", "redis keys held", "redbun keys held", "redbun/redis keys", "redis keys/MiB", "redbun keys/MiB"],
    align: ["left", "right", "right", "right", "right", "right", "right", "right", "right"],
    rows: [],
  };
  for (const policy of opts.policies) {
    const runs = new Map<string, HitRun>();
    let limitBytes = NaN;
    for (const name of SERVERS) {
      const [server] = await startServers([name]);
      if (server === undefined) continue;
      try {
        runs.set(name, await hitRateRun(server, policy, zipf, opts));
        limitBytes = await maxmemoryBytes(server);
      } finally {
        await stopAll([server]);
      }
      const r = runs.get(name)!;
      console.error(`${policy} ${name}: hit rate ${(r.hitRate * 100).toFixed(2)}%, ${r.keysHeld} keys held, ${r.evicted} evicted, ${r.seconds.toFixed(1)} s`);
    }
    const redis = runs.get("redis");
    const redbun = runs.get("redbun");
    const perMiB = (keys: number | undefined) => (keys === undefined ? NaN : keys / (limitBytes / (1024 * 1024)));
    hitTable.rows.push([
      policy,
      `${fmtFixed((redis?.hitRate ?? NaN) * 100, 2)}%`,
      `${fmtFixed((redbun?.hitRate ?? NaN) * 100, 2)}%`,
      fmtFixed(((redbun?.hitRate ?? NaN) - (redis?.hitRate ?? NaN)) * 100, 2),
      fmtInt(redis?.keysHeld ?? NaN),
      fmtInt(redbun?.keysHeld ?? NaN),
      fmtRatio((redbun?.keysHeld ?? NaN) / (redis?.keysHeld ?? NaN)),
      fmtInt(perMiB(redis?.keysHeld)),
      fmtInt(perMiB(redbun?.keysHeld)),
    ]);
  }

  const setTable: Table = {
    headers: ["P", "n", "redis rps", "redbun rps", "redbun/redis", "redis evicted", "redbun evicted"],
    align: ["right", "right", "right", "right", "right", "right", "right"],
    rows: [],
  };
  for (const pipeline of [1, 16]) {
    const requests = pipeline === 1 ? Math.round(opts.setRequests / 10) : opts.setRequests;
    const results = new Map<string, { rps: number; evicted: number }>();
    for (const name of SERVERS) {
      const [server] = await startServers([name]);
      if (server === undefined) continue;
      try {
        results.set(name, await setThroughput(server, requests, pipeline, opts));
      } finally {
        await stopAll([server]);
      }
    }
    const redis = results.get("redis");
    const redbun = results.get("redbun");
    setTable.rows.push([
      String(pipeline),
      fmtInt(requests),
      fmtInt(redis?.rps ?? NaN),
      fmtInt(redbun?.rps ?? NaN),
      fmtRatio((redbun?.rps ?? NaN) / (redis?.rps ?? NaN)),
      fmtInt(redis?.evicted ?? NaN),
      fmtInt(redbun?.evicted ?? NaN),
    ]);
  }

  const params = `maxmemory ${opts.maxmemory}, ${fmtInt(opts.keys)} keys of ${opts.valueBytes} bytes, Zipf ${opts.zipf}, ${fmtInt(opts.warmup)} warm-up + ${fmtInt(opts.requests)} counted reads`;
  console.log(`\nHit rate (${params})\n`);
  console.log(renderPlain(hitTable));
  console.log(`\nSET under constant eviction (allkeys-lru, maxmemory ${opts.maxmemory}, -r 10000000 -d ${opts.valueBytes} -c 50)\n`);
  console.log(renderPlain(setTable));
  if (opts.markdown) {
    console.log(`\n${renderMarkdown(hitTable)}\n\n${renderMarkdown(setTable)}`);
  }
}

await main();
