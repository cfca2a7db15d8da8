// Pub/Sub fan-out: one publisher, many subscribers, messages delivered per second, redbun
// against Redis 7.0.15.
//
//   bun run bench:pubsub [--rounds 3] [--subscribers 100] [--pipelines 1,32]
//                        [--messages N] [--size 32] [--markdown]
//
// Every subscriber is a raw socket subscribed to one channel that counts the bytes it
// receives: messages have one fixed size, so bytes / size is the message count and nothing
// is parsed. The subscribers live in a child process of their own, so that reading them
// does not slow the publisher down. The publisher sends PUBLISH in batches of the pipeline
// depth and waits for each batch's replies. A run ends when every subscriber has every
// message; delivered/s is messages x subscribers over that time. Rounds alternate which
// server goes first; the table shows medians and redbun's ratio to Redis.
import { parseArgs } from "node:util";
import {
  type ServerName,
  type ServerProcess,
  clockTicksPerSecond,
  formatMachine,
  haltIfInterrupted,
  machineInfo,
  readCpuTicks,
  startServers,
  stopAll,
  track,
} from "./lib/servers.ts";
import { type Table, fmtFixed, fmtInt, fmtRatio, median, renderMarkdown, renderPlain } from "./lib/table.ts";

const HELP = `usage: bun run bench:pubsub [options]

  --rounds N          rounds, alternating which server goes first (default 3)
  --subscribers N     subscriber connections (default 100)
  --pipelines LIST    PUBLISH commands per batch (default 1,32)
  --messages N        messages per run (default: 20000 at depth 1, 200000 deeper)
  --size N            message payload bytes (default 32)
  --markdown          also print the table as markdown (for the README)
  -h, --help          this text`;

const CHANNEL = "bench-channel";

interface Options {
  rounds: number;
  subscribers: number;
  pipelines: number[];
  messages: number | null;
  size: number;
  markdown: boolean;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "3" },
      subscribers: { type: "string", default: "100" },
      pipelines: { type: "string", default: "1,32" },
      messages: { type: "string" },
      size: { type: "string", default: "32" },
      markdown: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const positive = (name: string, v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${v}`);
    return n;
  };
  return {
    rounds: positive("rounds", values.rounds!),
    subscribers: positive("subscribers", values.subscribers!),
    pipelines: values.pipelines!.split(",").map((p) => positive("pipelines", p)),
    messages: values.messages === undefined ? null : positive("messages", values.messages),
    size: positive("size", values.size!),
    markdown: values.markdown!,
  };
}

/** The bytes of one delivered message, as every subscriber receives it (RESP2). */
function messageLength(size: number): number {
  const bulk = (n: number) => `$${n}\r\n`.length + n + 2;
  return "*3\r\n".length + bulk(7) + bulk(CHANNEL.length) + bulk(size);
}

// ---------------------------------------------------------------------------------------
// Subscribers: a child process (this file run with --subscriber-process) that connects,
// subscribes, says "ready", then prints the total messages received whenever asked.

async function subscriberProcess(port: number, count: number, size: number): Promise<void> {
  const length = messageLength(size);
  const confirmation = `*3\r\n$9\r\nsubscribe\r\n$${CHANNEL.length}\r\n${CHANNEL}\r\n:1\r\n`.length;
  const received = new Float64Array(count);
  let subscribed = 0;
  const command = `*2\r\n$9\r\nSUBSCRIBE\r\n$${CHANNEL.length}\r\n${CHANNEL}\r\n`;
  for (let i = 0; i < count; i++) {
    await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(s) {
          s.write(command);
        },
        data(_s, chunk) {
          const before = received[i]!;
          received[i] = before + chunk.length;
          if (before < confirmation && received[i]! >= confirmation) subscribed++;
        },
      },
    });
  }
  while (subscribed < count) await Bun.sleep(5);
  process.stdout.write("ready\n");
  // Each line on stdin asks for the total; the answer is messages summed over subscribers.
  for await (const _line of console) {
    let total = 0;
    for (let i = 0; i < count; i++) total += Math.floor((received[i]! - confirmation) / length);
    process.stdout.write(`${total}\n`);
  }
}

/** The parent's handle on the subscriber process. */
class Subscribers {
  private lines: string[] = [];
  private waiting: ((line: string) => void) | null = null;
  private constructor(private readonly proc: ReturnType<typeof Bun.spawn<"pipe", "pipe", "inherit">>) {}

  static async start(port: number, count: number, size: number): Promise<Subscribers> {
    const proc = track(
      Bun.spawn([process.execPath, import.meta.path, "--subscriber-process", String(port), String(count), String(size)], {
        stdin: "pipe",
        stdout: "pipe",
        stderr: "inherit",
      }),
    );
    const subs = new Subscribers(proc);
    subs.readLines();
    const ready = await subs.nextLine();
    if (ready !== "ready") throw new Error(`subscriber process said ${JSON.stringify(ready)}`);
    return subs;
  }

  private async readLines(): Promise<void> {
    let pending = "";
    for await (const chunk of this.proc.stdout) {
      pending += new TextDecoder().decode(chunk);
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (this.waiting !== null) {
          const w = this.waiting;
          this.waiting = null;
          w(line);
        } else {
          this.lines.push(line);
        }
      }
    }
  }

  private nextLine(): Promise<string> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  async total(): Promise<number> {
    this.proc.stdin.write("?\n");
    this.proc.stdin.flush();
    return Number(await this.nextLine());
  }

  async stop(): Promise<void> {
    this.proc.kill();
    await this.proc.exited;
  }
}

// ---------------------------------------------------------------------------------------
// The publisher

/** Publish `messages` messages in batches of `depth`; resolves when the last batch is answered. */
async function publish(port: number, messages: number, depth: number, size: number): Promise<void> {
  const payload = "m".repeat(size);
  const one = `*3\r\n$7\r\nPUBLISH\r\n$${CHANNEL.length}\r\n${CHANNEL}\r\n$${size}\r\n${payload}\r\n`;
  const batch = Buffer.from(one.repeat(depth), "latin1");
  let answered = 0;
  let sent = 0;
  let wake: (() => void) | null = null;
  let replyBytes = 0;
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_s, chunk) {
        // Every reply is `:<receivers>\r\n`: count the line ends.
        for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) answered++;
        replyBytes += chunk.length;
        if (wake !== null && answered === sent) {
          const w = wake;
          wake = null;
          w();
        }
      },
    },
  });
  while (sent < messages) {
    const n = Math.min(depth, messages - sent);
    const done = new Promise<void>((resolve) => (wake = resolve));
    sent += n;
    socket.write(n === depth ? batch : Buffer.from(one.repeat(n), "latin1"));
    await done;
  }
  socket.end();
}

interface Run {
  deliveredPerSecond: number;
  cpuMsPerMillion: number;
}

/** One measured run: publish, then wait until every subscriber has every message. */
async function run(server: ServerProcess, subs: Subscribers, opts: Options, depth: number, messages: number): Promise<Run> {
  const before = await subs.total();
  const expected = before + messages * opts.subscribers;
  const cpuBefore = readCpuTicks(server.pid);
  const t0 = performance.now();
  await publish(server.port, messages, depth, opts.size);
  for (;;) {
    const total = await subs.total();
    if (total >= expected) break;
    await Bun.sleep(1);
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = (readCpuTicks(server.pid) - cpuBefore) / clockTicksPerSecond();
  const delivered = messages * opts.subscribers;
  return { deliveredPerSecond: delivered / seconds, cpuMsPerMillion: (cpuSeconds * 1000 * 1e6) / delivered };
}

async function main(): Promise<void> {
  const opts = parseOptions();
  console.log(formatMachine(machineInfo()));
  const names: ServerName[] = ["redis", "redbun"];
  const servers = await startServers(names);
  if (servers.length !== 2) throw new Error("both redis and redbun are needed");
  const subscribers = new Map<ServerName, Subscribers>();
  for (const s of servers) subscribers.set(s.name, await Subscribers.start(s.port, opts.subscribers, opts.size));
  const results = new Map<string, Run[]>();
  try {
    for (const depth of opts.pipelines) {
      const messages = opts.messages ?? (depth === 1 ? 20_000 : 200_000);
      // A warm-up run per server, so the JIT has compiled the delivery path before measuring.
      for (const s of servers) await run(s, subscribers.get(s.name)!, opts, depth, Math.ceil(messages / 4));
      for (let round = 0; round < opts.rounds; round++) {
        const order = round % 2 === 0 ? servers : [...servers].reverse();
        for (const s of order) {
          await haltIfInterrupted();
          const r = await run(s, subscribers.get(s.name)!, opts, depth, messages);
          const key = `${depth}/${s.name}`;
          results.set(key, [...(results.get(key) ?? []), r]);
          console.error(`P=${depth} ${s.name.padEnd(6)} round ${round + 1}: ${fmtInt(r.deliveredPerSecond)} delivered/s, ${fmtFixed(r.cpuMsPerMillion, 0)} CPU ms per million`);
        }
      }
    }
  } finally {
    for (const subs of subscribers.values()) await subs.stop();
    await stopAll(servers);
  }
  printTable(opts, results);
}

function printTable(opts: Options, results: Map<string, Run[]>): void {
  const table: Table = {
    headers: ["pipeline", "redis delivered/s", "redbun delivered/s", "redbun/redis", "redis CPU ms/M", "redbun CPU ms/M"],
    align: ["right", "right", "right", "right", "right", "right"],
    rows: [],
  };
  for (const depth of opts.pipelines) {
    const of = (name: string, f: (r: Run) => number) => median((results.get(`${depth}/${name}`) ?? []).map(f));
    const redis = of("redis", (r) => r.deliveredPerSecond);
    const redbun = of("redbun", (r) => r.deliveredPerSecond);
    table.rows.push([
      String(depth),
      fmtInt(redis),
      fmtInt(redbun),
      fmtRatio(redbun / redis),
      fmtFixed(of("redis", (r) => r.cpuMsPerMillion), 0),
      fmtFixed(of("redbun", (r) => r.cpuMsPerMillion), 0),
    ]);
  }
  console.log(`\n${opts.subscribers} subscribers, ${opts.size}-byte messages, medians of ${opts.rounds} rounds\n`);
  console.log(renderPlain(table));
  if (opts.markdown) console.log(`\n${renderMarkdown(table)}`);
}

if (process.argv[2] === "--subscriber-process") {
  await subscriberProcess(Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5]));
} else {
  await main();
}
