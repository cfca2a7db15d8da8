// Shared plumbing for the comparison benchmarks (vs-redis.ts, memory.ts): starting the
// servers on free ports, waiting until they answer PING, reading their CPU time and RSS
// from /proc, and killing every child process at exit, on Ctrl-C and on errors.
//
// Servers are spawned directly (never through a shell) so that the PID we hold is the
// server itself: /proc/<pid>/stat then charges the server's own CPU time, all threads
// included (JSC's GC and JIT threads for Bun, bio threads for Redis).
import type { Subprocess } from "bun";
import { readFileSync, mkdirSync, existsSync, openSync, closeSync, rmSync } from "node:fs";
import { resolve, join } from "node:path";
import { tmpdir } from "node:os";

export const REPO_ROOT = resolve(import.meta.dir, "../..");
/** The shared tree lives beside the repo; the ceiling server is optional. */
export const SHARED_DIR = resolve(REPO_ROOT, "../shared");
export const CEILING_SCRIPT = join(SHARED_DIR, "bench/ceiling-bun.ts");
export const REDBUN_MAIN = join(REPO_ROOT, "src/main.ts");
export const BENCH_TMP_DIR = join(tmpdir(), "redbun-bench");

export type ServerName = "redis" | "redbun" | "ceiling" | "redbun-node";
export const SERVER_NAMES: readonly ServerName[] = ["redis", "redbun", "ceiling"];
/** redbun under Node.js: the Node build run by scripts/node-server.mjs (bench/node-transport.ts). */
export const NODE_SERVER_SCRIPT = join(REPO_ROOT, "scripts/node-server.mjs");
export const NODE_BUILD = join(REPO_ROOT, "dist/node/index.js");

const READY_TIMEOUT_MS = 15_000;
const READY_POLL_MS = 50;
const PING_ATTEMPT_TIMEOUT_MS = 1_000;
const STOP_TIMEOUT_MS = 5_000;

// ---------------------------------------------------------------------------------------
// Child registry: everything we spawn is killed when this process goes away.

const liveChildren = new Set<Subprocess>();
let cleanupInstalled = false;

let shuttingDown = false;

/**
 * Park the caller forever once a signal handler has begun shutting down, so the benchmark
 * loop neither spawns more runs nor reports the runs the shutdown broke; the handler ends
 * the process.
 */
export async function haltIfInterrupted(): Promise<void> {
  if (shuttingDown) await new Promise<never>(() => {});
}

export function track<T extends Subprocess>(proc: T): T {
  installCleanup();
  // The benchmark loop keeps running while a signal handler waits for children to exit:
  // whatever it spawns meanwhile is stopped at once.
  if (shuttingDown) proc.kill("SIGKILL");
  liveChildren.add(proc);
  proc.exited.then(() => liveChildren.delete(proc));
  return proc;
}

function killAll(signal: NodeJS.Signals): void {
  for (const proc of liveChildren) {
    try {
      proc.kill(signal);
    } catch {
      // Already gone.
    }
  }
}

/** Kill all children on normal exit, on SIGINT/SIGTERM/SIGHUP and on uncaught errors. */
export function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on("exit", () => killAll("SIGKILL"));
  const onSignal = (signal: NodeJS.Signals, code: number) => async () => {
    process.stderr.write(`\n${signal}: stopping ${liveChildren.size} child process(es)\n`);
    // Wait (bounded) for them to go, so the shell prompt does not return while a server
    // is still shutting down and holding its port.
    shuttingDown = true;
    killAll("SIGTERM");
    await Promise.all([...liveChildren].map((c) => exitedWithin(c, STOP_TIMEOUT_MS)));
    process.exit(code);
  };
  process.on("SIGINT", onSignal("SIGINT", 130));
  process.on("SIGTERM", onSignal("SIGTERM", 143));
  process.on("SIGHUP", onSignal("SIGHUP", 129));
  process.on("uncaughtException", (err) => {
    process.stderr.write(`uncaught error: ${err?.stack ?? err}\n`);
    killAll("SIGTERM");
    process.exit(1);
  });
  process.on("unhandledRejection", (err) => {
    process.stderr.write(`unhandled rejection: ${(err as Error)?.stack ?? err}\n`);
    killAll("SIGTERM");
    process.exit(1);
  });
}

/** Await a child's exit; kill it (and report the timeout) if it takes longer than `timeoutMs`. */
export async function exitedWithin(proc: Subprocess, timeoutMs: number): Promise<{ code: number | null; timedOut: boolean }> {
  let timer: Timer | undefined;
  const timeout = new Promise<"timeout">((res) => (timer = setTimeout(() => res("timeout"), timeoutMs)));
  const r = await Promise.race([proc.exited, timeout]);
  clearTimeout(timer);
  if (r !== "timeout") return { code: r, timedOut: false };
  proc.kill("SIGKILL");
  await proc.exited;
  return { code: null, timedOut: true };
}

// ---------------------------------------------------------------------------------------
// Ports and /proc readers.

/** Ask the kernel for a free port: bind port 0, note the port, release it. */
export function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

let clockTicksCache = 0;
/** USER_HZ, the unit of utime/stime in /proc/<pid>/stat (almost always 100). */
export function clockTicksPerSecond(): number {
  if (clockTicksCache > 0) return clockTicksCache;
  const r = Bun.spawnSync(["getconf", "CLK_TCK"]);
  const n = Number(r.stdout.toString().trim());
  clockTicksCache = Number.isInteger(n) && n > 0 ? n : 100;
  return clockTicksCache;
}

/** utime + stime of the whole process (all threads), in clock ticks. */
export function readCpuTicks(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, "utf8");
  // comm (field 2) is in parentheses and may contain spaces: split after the last ')'.
  // The remainder starts at field 3 (state); utime is field 14, stime field 15.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`cannot parse /proc/${pid}/stat`);
  return utime + stime;
}

/** VmRSS and VmHWM (peak RSS) in bytes. */
export function readRss(pid: number): { rssBytes: number; peakBytes: number } {
  const text = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => {
    const m = text.match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
    if (m === null) throw new Error(`no ${field} in /proc/${pid}/status`);
    return Number(m[1]) * 1024;
  };
  return { rssBytes: kb("VmRSS"), peakBytes: kb("VmHWM") };
}

export function readComm(pid: number): string {
  return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
}

// ---------------------------------------------------------------------------------------
// A one-shot RESP client: enough for PING, DBSIZE and INFO (simple, error, integer, bulk).

export type Reply = string | number | null | Error;

function encodeCommand(args: readonly string[]): string {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return s;
}

/** Parse one non-array reply from `buf`; undefined while incomplete. */
function parseReply(buf: Buffer): Reply | undefined {
  const eol = buf.indexOf("\r\n");
  if (eol < 0) return undefined;
  const line = buf.toString("latin1", 1, eol);
  switch (buf[0]) {
    case 43: // '+'
      return line;
    case 45: // '-'
      return new Error(line);
    case 58: // ':'
      return Number(line);
    case 36: { // '$'
      const len = Number(line);
      if (len < 0) return null;
      if (buf.length < eol + 2 + len + 2) return undefined;
      return buf.toString("utf8", eol + 2, eol + 2 + len);
    }
    default:
      throw new Error(`unsupported reply type ${JSON.stringify(String.fromCharCode(buf[0]!))}`);
  }
}

/** Connect, send one command, return its reply. Rejects on connect error, close or timeout. */
export async function sendCommand(port: number, args: readonly string[], timeoutMs = 5_000): Promise<Reply> {
  const { promise, resolve: done, reject } = Promise.withResolvers<Reply>();
  let received = Buffer.alloc(0);
  const timer = setTimeout(() => reject(new Error(`no reply to ${args[0]} within ${timeoutMs} ms`)), timeoutMs);
  let socket: Awaited<ReturnType<typeof Bun.connect>> | undefined;
  try {
    socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data(_s, chunk) {
          received = Buffer.concat([received, chunk]);
          try {
            const r = parseReply(received);
            if (r !== undefined) done(r);
          } catch (err) {
            reject(err);
          }
        },
        close() {
          reject(new Error("connection closed before a reply"));
        },
        error(_s, err) {
          reject(err);
        },
      },
    });
    socket.write(encodeCommand(args));
    return await promise;
  } finally {
    clearTimeout(timer);
    socket?.end();
  }
}

// ---------------------------------------------------------------------------------------
// Servers.

export class ServerProcess implements AsyncDisposable {
  constructor(
    readonly name: ServerName,
    readonly port: number,
    readonly proc: Subprocess,
    readonly logPath: string,
    /** The data directory of a persistent server, removed when it stops; null otherwise. */
    readonly dataDir: string | null = null,
  ) {}

  get pid(): number {
    return this.proc.pid;
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  get exitStatus(): string {
    return this.proc.signalCode !== null ? String(this.proc.signalCode) : `exit code ${this.proc.exitCode}`;
  }

  async stop(): Promise<void> {
    if (this.alive) {
      this.proc.kill("SIGTERM");
      await exitedWithin(this.proc, STOP_TIMEOUT_MS);
    }
    // An AOF of a benchmark run grows by gigabytes: never leave one behind.
    if (this.dataDir !== null) rmSync(this.dataDir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

export type StartResult = { ok: true; server: ServerProcess } | { ok: false; reason: string };

/**
 * How Redis and redbun are started: no persistence unless `directives` turn it on (they are
 * `--name value` pairs given to both, after the defaults, so they win). The ceiling server
 * takes no directives.
 */
export interface ServerOptions {
  directives?: readonly string[];
  /**
   * Run in this data directory, which the caller owns (it survives stop(), so a restarted
   * server finds its files). Without it, a server given directives gets a directory of its
   * own that is removed when it stops.
   */
  dataDir?: string;
}

/** Each persistent server gets a data directory of its own, so AOF and RDB files never mix. */
function dataDirFor(name: ServerName, port: number): string {
  const dir = join(BENCH_TMP_DIR, `${name}-${port}.d`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function commandFor(name: ServerName, port: number, dataDir: string | null, options: ServerOptions): { argv: string[]; precondition?: string } {
  const p = String(port);
  const persistence = dataDir !== null && name !== "ceiling" ? ["--dir", dataDir, ...(options.directives ?? [])] : [];
  switch (name) {
    case "redis":
      // Bind to loopback only: the machine is shared.
      return { argv: ["redis-server", "--port", p, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", ...persistence] };
    case "redbun": {
      const args = ["--port", p, "--save", "", "--appendonly", "no", ...persistence];
      // REDBUN_BIN runs a compiled binary (`bun run build` -> dist/redbun) instead of the sources.
      const bin = process.env.REDBUN_BIN;
      if (bin !== undefined && bin !== "") {
        return { argv: [bin, ...args], precondition: existsSync(bin) ? undefined : `REDBUN_BIN=${bin} does not exist` };
      }
      return {
        argv: [process.execPath, "src/main.ts", ...args],
        precondition: existsSync(REDBUN_MAIN) ? undefined : `${REDBUN_MAIN} does not exist`,
      };
    }
    case "redbun-node":
      return {
        argv: ["node", NODE_SERVER_SCRIPT, p, ...persistence],
        precondition: existsSync(NODE_BUILD) ? undefined : `${NODE_BUILD} does not exist (bun run build:node)`,
      };
    case "ceiling":
      return {
        argv: [process.execPath, CEILING_SCRIPT, p],
        precondition: existsSync(CEILING_SCRIPT) ? undefined : `${CEILING_SCRIPT} does not exist`,
      };
  }
}

/** For messages only: the command as one would type it. */
function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

function tail(path: string, lines = 8): string {
  try {
    const text = readFileSync(path, "utf8").trimEnd();
    return text.split("\n").slice(-lines).map((l) => `    | ${l}`).join("\n");
  } catch {
    return "    | (no log)";
  }
}

/** Poll connect+PING until the server answers PONG, it exits, or the deadline passes. */
async function waitForPong(proc: Subprocess, port: number, timeoutMs: number): Promise<string | undefined> {
  const deadline = performance.now() + timeoutMs;
  let lastError = "";
  while (performance.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      return `exited (${proc.exitCode ?? proc.signalCode}) before answering PING`;
    }
    try {
      const r = await sendCommand(port, ["PING"], PING_ATTEMPT_TIMEOUT_MS);
      if (r === "PONG") return undefined;
      lastError = `PING replied ${JSON.stringify(r instanceof Error ? r.message : r)}`;
    } catch (err) {
      lastError = (err as Error).message;
    }
    await Bun.sleep(READY_POLL_MS);
  }
  return `no PONG within ${timeoutMs} ms (last: ${lastError})`;
}

/**
 * Start `name` on a free port and wait until it answers PING. A server that cannot start is
 * reported, not thrown: the benchmarks skip its column.
 */
export async function startServer(name: ServerName, options: ServerOptions = {}, readyTimeoutMs = READY_TIMEOUT_MS): Promise<StartResult> {
  mkdirSync(BENCH_TMP_DIR, { recursive: true });
  // The free port can be taken between our probe and the server's bind: retry once.
  let reason = "";
  for (let attempt = 0; attempt < 2; attempt++) {
    const port = freePort();
    const ownDir = options.dataDir === undefined && (options.directives ?? []).length > 0 && name !== "ceiling";
    const dataDir = ownDir ? dataDirFor(name, port) : null;
    const { argv, precondition } = commandFor(name, port, options.dataDir ?? dataDir, options);
    if (precondition !== undefined) return { ok: false, reason: precondition };
    const logPath = join(BENCH_TMP_DIR, `${name}-${port}.log`);
    // A log file, not a pipe: nobody drains a pipe during the benchmark, and a full pipe
    // would block a chatty server. One descriptor for both streams keeps their order.
    const logFd = openSync(logPath, "w");
    let proc: Subprocess;
    try {
      proc = track(Bun.spawn(argv, { cwd: REPO_ROOT, stdin: "ignore", stdout: logFd, stderr: logFd }));
    } catch (err) {
      return { ok: false, reason: `cannot spawn ${argv[0]}: ${(err as Error).message}` };
    } finally {
      closeSync(logFd);
    }
    const failure = await waitForPong(proc, port, readyTimeoutMs);
    if (failure === undefined) return { ok: true, server: new ServerProcess(name, port, proc, logPath, dataDir) };
    proc.kill("SIGKILL");
    await proc.exited;
    if (dataDir !== null) rmSync(dataDir, { recursive: true, force: true });
    reason = `${failure}\n  command: ${argv.map(shellQuote).join(" ")}\n  log ${logPath}:\n${tail(logPath)}`;
  }
  return { ok: false, reason };
}

/** Start each requested server in turn; print one line per server (started or skipped). */
export async function startServers(names: readonly ServerName[], options: ServerOptions = {}): Promise<ServerProcess[]> {
  const started: ServerProcess[] = [];
  for (const name of names) {
    const r = await startServer(name, options);
    if (r.ok) {
      const s = r.server;
      console.error(`started ${name.padEnd(8)} pid ${s.pid} (${readComm(s.pid)}) on 127.0.0.1:${s.port}`);
      started.push(s);
    } else {
      console.error(`SKIPPED ${name}: ${r.reason}`);
    }
  }
  return started;
}

export async function stopAll(servers: readonly ServerProcess[]): Promise<void> {
  await Promise.all(servers.map((s) => s.stop()));
}

// ---------------------------------------------------------------------------------------
// Machine description, printed above every result table.

export function machineInfo(): Record<string, string> {
  const first = (argv: string[]) => {
    try {
      const r = Bun.spawnSync(argv);
      return r.stdout.toString().trim().split("\n")[0] ?? "?";
    } catch {
      return "not found";
    }
  };
  let cpu = "?";
  try {
    cpu = readFileSync("/proc/cpuinfo", "utf8").match(/^model name\s*:\s*(.*)$/m)?.[1] ?? "?";
  } catch {}
  const redis = first(["redis-server", "--version"]).match(/v=(\S+)/)?.[1] ?? "not found";
  return {
    nproc: String(navigator.hardwareConcurrency),
    cpu,
    kernel: first(["uname", "-r"]),
    bun: `${Bun.version} (${Bun.revision.slice(0, 9)})`,
    redis,
    "redis-benchmark": first(["redis-benchmark", "--version"]).replace(/^redis-benchmark\s*/, ""),
  };
}

export function formatMachine(info: Record<string, string>): string {
  return Object.entries(info).map(([k, v]) => `${k}: ${v}`).join(", ");
}
