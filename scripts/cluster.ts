// A local cluster for trying things out, in the spirit of Redis's utils/create-cluster:
//
//   bun run cluster start [N=6] [--replicas 1] [--port 30001] [--redis]
//   bun run cluster status | stop | clean
//
// `start` runs N nodes on ports port..port+N-1 (redbun, or redis-server with --redis, to
// compare), each detached from this script in its own directory ./cluster-data/<port>
// (nodes.conf and its log), notes their pids in ./cluster-data/pids, joins them with
// `redis-cli --cluster create` and waits until every node reports cluster_state:ok.
// Paths are relative to the current directory, so several clusters can live side by side.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const USAGE = `usage: bun run cluster start [N=6] [--replicas 1] [--port 30001] [--redis]
       bun run cluster status | stop | clean`;

const DATA_DIR = "cluster-data";
const PIDS_FILE = join(DATA_DIR, "pids");
const REDBUN_MAIN = resolve(import.meta.dir, "../src/main.ts");
/** Redis Cluster's bus listens on the client port plus this. */
export const BUS_PORT_OFFSET = 10000;
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;
const POLL_MS = 50;

interface Node {
  port: number;
  pid: number;
}

// ---------------------------------------------------------------------------------------
// Small helpers: redis-cli, processes, ports, the pids file.

/** Run redis-cli against a node; its stdout, or null when it failed (not up yet, say). */
function cli(port: number, ...args: string[]): string | null {
  const r = Bun.spawnSync(["redis-cli", "-p", String(port), ...args], { stderr: "pipe" });
  return r.exitCode === 0 ? r.stdout.toString() : null;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether `pid` is still the node we started on `port`, so that a recycled pid is never
 * signalled. redis-server rewrites its command line to "redis-server 127.0.0.1:<port>
 * [cluster]", redbun keeps "--port <port>": both show the port as a word of its own.
 */
function isOurNode(node: Node): boolean {
  try {
    const cmdline = readFileSync(`/proc/${node.pid}/cmdline`, "latin1").replaceAll("\0", " ");
    return new RegExp(`(^|[\\s:])${node.port}(\\s|$)`).test(cmdline);
  } catch {
    return false;
  }
}

export function canListen(port: number): boolean {
  try {
    Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } }).stop(true);
    return true;
  } catch {
    return false;
  }
}

function readNodes(): Node[] {
  if (!existsSync(PIDS_FILE)) return [];
  return readFileSync(PIDS_FILE, "utf8").trim().split("\n").filter((l) => l !== "").map((line) => {
    const [port, pid] = line.split(" ").map(Number);
    return { port: port!, pid: pid! };
  });
}

/** Poll `check` until it holds or `timeoutMs` passes. */
async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) return false;
    await Bun.sleep(POLL_MS);
  }
  return true;
}

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

// ---------------------------------------------------------------------------------------
// Commands.

function nodeArgv(port: number, dir: string, useRedis: boolean): string[] {
  const flags = ["--port", String(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes", "--dir", dir, "--save", "", "--appendonly", "no"];
  return useRedis ? ["redis-server", ...flags] : [process.execPath, REDBUN_MAIN, ...flags];
}

/** Spawn one node in a session of its own, so it outlives this script; logs to <dir>/log. */
function spawnNode(port: number, useRedis: boolean): Node {
  const dir = resolve(DATA_DIR, String(port));
  mkdirSync(dir, { recursive: true });
  const logFd = openSync(join(dir, "log"), "a");
  const proc = Bun.spawn(nodeArgv(port, dir, useRedis), { cwd: dir, detached: true, stdio: ["ignore", logFd, logFd] });
  closeSync(logFd);
  proc.unref();
  return { port, pid: proc.pid };
}

async function start(count: number, replicas: number, basePort: number, useRedis: boolean): Promise<void> {
  if (readNodes().some(isOurNode)) fail(`A cluster is already running here (${PIDS_FILE}): bun run cluster stop first.`);
  const ports = Array.from({ length: count }, (_, i) => basePort + i);
  const busy = ports.filter((p) => !canListen(p) || !canListen(p + BUS_PORT_OFFSET));
  if (busy.length > 0) fail(`Port(s) ${busy.join(", ")} or their bus port (+${BUS_PORT_OFFSET}) are in use: pick another --port.`);

  mkdirSync(DATA_DIR, { recursive: true });
  const nodes: Node[] = [];
  for (const port of ports) {
    console.log(`Starting ${useRedis ? "redis-server" : "redbun"} on ${port}`);
    nodes.push(spawnNode(port, useRedis));
    // Written as we go, so `stop` finds every node even if a later one fails to start.
    writeFileSync(PIDS_FILE, nodes.map((n) => `${n.port} ${n.pid}\n`).join(""));
  }
  for (const node of nodes) {
    const up = await waitFor(() => !isAlive(node.pid) || cli(node.port, "PING")?.trim() === "PONG", READY_TIMEOUT_MS);
    if (!up || !isAlive(node.pid)) fail(`Node ${node.port} did not start: see ${join(DATA_DIR, String(node.port), "log")}`);
  }

  const create = ["redis-cli", "--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", String(replicas), "--cluster-yes"];
  console.log(create.join(" "));
  const created = Bun.spawnSync(create, { stdio: ["ignore", "inherit", "inherit"] });
  if (created.exitCode !== 0) fail(`redis-cli --cluster create failed (exit ${created.exitCode}); the nodes are still running.`);

  const stateOk = (port: number) => /^cluster_state:ok\r?$/m.test(cli(port, "CLUSTER", "INFO") ?? "");
  if (!(await waitFor(() => ports.every(stateOk), READY_TIMEOUT_MS))) fail("Not every node reached cluster_state:ok: bun run cluster status");
  console.log(`Cluster ready on ports ${ports[0]}-${ports.at(-1)}: redis-cli -c -p ${ports[0]}`);
}

async function stop(): Promise<void> {
  const nodes = readNodes().filter(isOurNode);
  for (const node of nodes) {
    console.log(`Stopping ${node.port} (pid ${node.pid})`);
    process.kill(node.pid, "SIGTERM");
  }
  if (!(await waitFor(() => !nodes.some((n) => isAlive(n.pid)), STOP_TIMEOUT_MS))) {
    for (const node of nodes.filter((n) => isAlive(n.pid))) {
      console.log(`Killing ${node.port} (pid ${node.pid}): it did not stop within ${STOP_TIMEOUT_MS} ms`);
      process.kill(node.pid, "SIGKILL");
    }
  }
  rmSync(PIDS_FILE, { force: true });
}

function clean(): void {
  if (readNodes().some(isOurNode)) fail("The cluster is still running: bun run cluster stop first.");
  console.log(`Removing ${DATA_DIR}`);
  rmSync(DATA_DIR, { recursive: true, force: true });
}

function status(): void {
  const first = readNodes()[0];
  if (first === undefined) fail(`No cluster here (no ${PIDS_FILE}).`);
  const info = cli(first.port, "CLUSTER", "INFO");
  if (info === null) fail(`Node ${first.port} does not answer.`);
  console.log(info.split(/\r?\n/).find((l) => l.startsWith("cluster_state:")));
  process.stdout.write(cli(first.port, "CLUSTER", "NODES") ?? "");
}

// ---------------------------------------------------------------------------------------

function wholeNumber(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) fail(`${name} must be an integer from ${min} to ${max}, got ${text}\n${USAGE}`);
  return n;
}

/** The command line: `bun run cluster <command> ...`. */
async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      replicas: { type: "string", default: "1" },
      port: { type: "string", default: "30001" },
      redis: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const [command, countText = "6"] = positionals;
  if (values.help) console.log(USAGE);
  else if (command === "start") {
    const count = wholeNumber("N", countText, 1, 1000);
    const maxBase = 65535 - BUS_PORT_OFFSET - count + 1;
    await start(count, wholeNumber("--replicas", values.replicas!, 0, count), wholeNumber("--port", values.port!, 1, maxBase), values.redis!);
  } else if (command === "stop") await stop();
  else if (command === "clean") clean();
  else if (command === "status") status();
  else fail(USAGE);
}

// The test imports the helpers above without running a command.
if (import.meta.main) await main();
