// Throughput of a 3-master cluster: redbun vs Redis 7.0, measured by redis-benchmark's own
// cluster mode.
//
//   bun run bench:cluster [--rounds 3] [-n 400000] [--pipelines 1,16] [-c 50] [--markdown]
//
// Both clusters are started once (three nodes each, on free ports with a free bus port given
// by cluster-port, joined by `redis-cli --cluster create`) and reused by every round: forming
// a cluster takes seconds, and redis-benchmark --cluster needs one that is up. Each round
// runs, per system (the one that goes first alternates) and pipeline depth, FLUSHALL on
// every master, then `redis-benchmark --cluster -t set` and `-t get` (in separate processes,
// so each row has its own CPU figure; GET reads the keys SET wrote). CPU per request is the
// utime+stime of all three nodes over the run, divided by the requests.
//
// redis-benchmark --cluster runs one thread per master, and the threads notice the end of
// a run on their 250 ms throughput timer: the run times it reports come in steps of 250 ms.
// Runs of a few seconds keep that step small against the run; the CPU figures do not have
// it (the servers are idle during the wait).
import { parseArgs } from "node:util";
import {
  type ServerName,
  type ServerProcess,
  formatMachine,
  freePort,
  machineInfo,
  sendCommand,
  startServer,
  stopAll,
} from "./lib/servers.ts";
import { runRedisBenchmark } from "./lib/redis-benchmark.ts";
import { type Table, fmtFixed, fmtInt, fmtRatio, median, renderMarkdown, renderPlain } from "./lib/table.ts";

const HELP = `usage: bun run bench:cluster [options]

  --rounds N          rounds; the system that goes first alternates (default 3)
  -n, --requests N    requests per redis-benchmark run (default 400000 at -P 1;
                      eight times as many at deeper pipelines)
  --pipelines LIST    redis-benchmark -P depths (default 1,16)
  -c, --clients N     parallel connections, spread over the masters (default 50)
  --markdown          also print the table as markdown (for the README)
  -h, --help          this text`;

const SYSTEMS: readonly ServerName[] = ["redis", "redbun"];
const TESTS = ["set", "get"] as const;
const MASTERS = 3;
/** A deeper pipeline goes this much faster, so its runs get this many more requests. */
const PIPELINED_REQUEST_FACTOR = 8;
const STATE_OK_TIMEOUT_MS = 15_000;

interface Options {
  rounds: number;
  requests: number;
  pipelines: number[];
  clients: number;
  markdown: boolean;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "3" },
      requests: { type: "string", short: "n", default: "400000" },
      pipelines: { type: "string", default: "1,16" },
      clients: { type: "string", short: "c", default: "50" },
      markdown: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const whole = (name: string, v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${v}`);
    return n;
  };
  return {
    rounds: whole("rounds", values.rounds!),
    requests: whole("requests", values.requests!),
    pipelines: values.pipelines!.split(",").map((p) => whole("pipelines", p)),
    clients: whole("clients", values.clients!),
    markdown: values.markdown!,
  };
}

// ---------------------------------------------------------------------------------------
// Clusters

/** Send one command to every node; throw on an error reply. */
async function onEach(nodes: readonly ServerProcess[], args: readonly string[]): Promise<void> {
  for (const node of nodes) {
    const reply = await sendCommand(node.port, args);
    if (reply instanceof Error) throw new Error(`${args.join(" ")} on ${node.name} :${node.port}: ${reply.message}`);
  }
}

async function clusterStateOk(node: ServerProcess): Promise<boolean> {
  const info = await sendCommand(node.port, ["CLUSTER", "INFO"]);
  return typeof info === "string" && /^cluster_state:ok\r?$/m.test(info);
}

/** Three cluster-enabled nodes of `system`, joined and reporting cluster_state:ok. */
async function startCluster(system: ServerName): Promise<ServerProcess[]> {
  const nodes: ServerProcess[] = [];
  try {
    for (let i = 0; i < MASTERS; i++) {
      // A free port's port+10000 may be taken or above 65535: name the bus port instead.
      const directives = ["--cluster-enabled", "yes", "--cluster-port", String(freePort())];
      const started = await startServer(system, { directives });
      if (!started.ok) throw new Error(`${system} node did not start: ${started.reason}`);
      nodes.push(started.server);
    }
    const create = Bun.spawnSync(
      ["redis-cli", "--cluster", "create", ...nodes.map((n) => `127.0.0.1:${n.port}`), "--cluster-replicas", "0", "--cluster-yes"],
      { stderr: "pipe" },
    );
    if (create.exitCode !== 0) throw new Error(`redis-cli --cluster create (${system}) failed:\n${create.stdout}${create.stderr}`);
    const deadline = performance.now() + STATE_OK_TIMEOUT_MS;
    for (const node of nodes) {
      while (!(await clusterStateOk(node))) {
        if (performance.now() > deadline) throw new Error(`${system} node :${node.port} never reached cluster_state:ok`);
        await Bun.sleep(50);
      }
    }
    console.error(`${system} cluster up on ports ${nodes.map((n) => n.port).join(", ")} (pids ${nodes.map((n) => n.pid).join(", ")})`);
    return nodes;
  } catch (err) {
    await stopAll(nodes);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------
// Runs

interface Sample {
  rps: number;
  cpuUsPerRequest: number;
}

type Samples = Map<string, Sample[]>;
const sampleKey = (system: ServerName, test: string, depth: number) => `${system}|${test}|${depth}`;

function requestsAt(depth: number, opts: Options): number {
  return depth > 1 ? opts.requests * PIPELINED_REQUEST_FACTOR : opts.requests;
}

function benchmarkFlags(test: string, requests: number, depth: number, opts: Options): string[] {
  return ["--cluster", "-t", test, "-n", String(requests), "-P", String(depth), "-c", String(opts.clients), "-r", "100000"];
}

async function measure(nodes: readonly ServerProcess[], test: string, depth: number, opts: Options): Promise<Sample | string> {
  const requests = requestsAt(depth, opts);
  const run = await runRedisBenchmark(nodes[0]!, benchmarkFlags(test, requests, depth, opts), undefined, nodes);
  if (run.error !== undefined) return run.error;
  return { rps: run.rows[0]!.rps, cpuUsPerRequest: (run.cpuSeconds * 1e6) / requests };
}

/** One round on one cluster: per depth, flush, then SET and GET. */
async function measureRound(system: ServerName, nodes: readonly ServerProcess[], round: number, opts: Options, samples: Samples, problems: string[]): Promise<void> {
  for (const depth of opts.pipelines) {
    await onEach(nodes, ["FLUSHALL"]);
    for (const test of TESTS) {
      const s = await measure(nodes, test, depth, opts);
      const label = `round ${round + 1} ${system.padEnd(6)} ${test.toUpperCase().padEnd(3)} P=${String(depth).padEnd(2)}`;
      if (typeof s === "string") {
        console.error(`${label}  FAILED (${s})`);
        problems.push(`failed: ${system} ${test} P=${depth}: ${s}`);
        continue;
      }
      const key = sampleKey(system, test, depth);
      samples.set(key, [...(samples.get(key) ?? []), s]);
      console.error(`${label}  ${fmtInt(s.rps)} rps  cpu ${fmtFixed(s.cpuUsPerRequest, 2)} us/req`);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Report

function buildTable(samples: Samples, opts: Options): Table {
  const table: Table = {
    headers: ["test", "P", "n", "redis rps", "redbun rps", "redbun/redis", "redis us/req", "redbun us/req", "CPU redbun/redis"],
    align: ["left", ...Array<"right">(8).fill("right")],
    rows: [],
  };
  for (const depth of opts.pipelines) {
    for (const test of TESTS) {
      const of = (s: ServerName, f: (x: Sample) => number) => median((samples.get(sampleKey(s, test, depth)) ?? []).map(f));
      const rps = (s: ServerName) => of(s, (x) => x.rps);
      const cpu = (s: ServerName) => of(s, (x) => x.cpuUsPerRequest);
      table.rows.push([
        test.toUpperCase(), String(depth), fmtInt(requestsAt(depth, opts)),
        fmtInt(rps("redis")), fmtInt(rps("redbun")), fmtRatio(rps("redbun") / rps("redis")),
        fmtFixed(cpu("redis"), 2), fmtFixed(cpu("redbun"), 2), fmtRatio(cpu("redbun") / cpu("redis")),
      ]);
    }
  }
  return table;
}

function printReport(samples: Samples, problems: readonly string[], machine: string, opts: Options): void {
  const table = buildTable(samples, opts);
  const notes = [
    `Medians of ${opts.rounds} round(s); 3 masters each, redis-benchmark --cluster -c ${opts.clients} -r 100000. ` +
      `us/req: utime+stime of the three nodes together per request. ` +
      `redis-benchmark --cluster reports run times in steps of 250 ms, so short runs make rps coarse.`,
    ...problems,
  ];
  console.log(`\n${[machine, renderPlain(table), notes.join("\n")].join("\n\n")}`);
  if (opts.markdown) console.log(`\n${renderMarkdown(table)}\n\n${notes.map((n) => `- ${n}`).join("\n")}`);
}

async function main(): Promise<void> {
  const opts = parseOptions();
  const machine = formatMachine(machineInfo());
  console.error(machine);
  const clusters = new Map<ServerName, ServerProcess[]>();
  try {
    for (const system of SYSTEMS) clusters.set(system, await startCluster(system));
    // Unmeasured: redbun's JIT warms up, both fill their allocators once.
    for (const nodes of clusters.values()) {
      for (const depth of opts.pipelines) await runRedisBenchmark(nodes[0]!, benchmarkFlags("set", opts.requests, depth, opts));
    }
    const samples: Samples = new Map();
    const problems: string[] = [];
    for (let round = 0; round < opts.rounds; round++) {
      // Alternate which system goes first so slow drift of a shared machine hits both alike.
      const order = round % 2 === 0 ? SYSTEMS : [...SYSTEMS].reverse();
      for (const system of order) await measureRound(system, clusters.get(system)!, round, opts, samples, problems);
    }
    printReport(samples, problems, machine, opts);
  } finally {
    await stopAll([...clusters.values()].flat());
  }
}

await main();
