// One redis-benchmark process against a server we started, with the server's own CPU time
// over the run. The caller chooses every flag (-t, -n, -P, -r, -d ...); the result keeps
// each CSV row, so a -t that expands to several rows can share out the CPU time itself.
import { clockTicksPerSecond, exitedWithin, haltIfInterrupted, readCpuTicks, track, type ServerProcess } from "./servers.ts";

export interface BenchmarkRun {
  /** redis-benchmark's row names ("SET", "MSET (10 keys)") with requests per second. */
  rows: { name: string; rps: number }[];
  /** The server's utime+stime over the run (all threads), seconds. */
  cpuSeconds: number;
  wallMs: number;
  /** Why the run does not count: the server died, redis-benchmark failed or saw an error reply. */
  error?: string;
}

const DEFAULT_TIMEOUT_MS = 120_000;
/** With --cluster, redis-benchmark lists the masters it found before the CSV, even with -q. */
const CLUSTER_PREAMBLE = /^(Cluster has \d+ master nodes:|Master \d+: [0-9a-f]{40} \S+)$/;

function parseCsvLine(line: string): string[] {
  // redis-benchmark quotes every field and never embeds quotes.
  return line.replace(/^"|"$/g, "").split('","');
}

/** utime+stime summed over several servers, in clock ticks. */
function sumCpuTicks(servers: readonly ServerProcess[]): number {
  return servers.reduce((sum, s) => sum + readCpuTicks(s.pid), 0);
}

/**
 * Run `redis-benchmark -h 127.0.0.1 -p <port> --csv -q <flags>` and collect its rows.
 * `cpuOf` lists the servers whose CPU time the run is charged (all nodes of a cluster with
 * `--cluster`); by default the one server benchmarked.
 */
export async function runRedisBenchmark(
  server: ServerProcess,
  flags: readonly string[],
  timeoutMs = DEFAULT_TIMEOUT_MS,
  cpuOf: readonly ServerProcess[] = [server],
): Promise<BenchmarkRun> {
  // Output options first: an arbitrary command given in flags must end the command line.
  const argv = ["redis-benchmark", "-h", "127.0.0.1", "-p", String(server.port), "--csv", "-q", ...flags];
  await haltIfInterrupted();
  const servers = cpuOf.includes(server) ? cpuOf : [server, ...cpuOf];
  const dead = servers.find((s) => !s.alive);
  if (dead !== undefined) return { rows: [], cpuSeconds: NaN, wallMs: 0, error: `${dead.name} is not running` };
  const cpuBefore = sumCpuTicks(cpuOf);
  const t0 = performance.now();
  const proc = track(Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" }));
  // redis-benchmark keeps reconnecting to a dead server: stop it as soon as a server goes.
  for (const s of servers) s.proc.exited.then(() => proc.kill("SIGKILL"));
  const [stdout, stderr, exit] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    exitedWithin(proc, timeoutMs),
  ]);
  const wallMs = performance.now() - t0;
  await haltIfInterrupted();
  const died = servers.find((s) => !s.alive);
  if (died !== undefined) return { rows: [], cpuSeconds: NaN, wallMs, error: `${died.name} died during the run (${died.exitStatus})` };
  const cpuSeconds = (sumCpuTicks(cpuOf) - cpuBefore) / clockTicksPerSecond();

  const rows: BenchmarkRun["rows"] = [];
  const noise: string[] = [];
  for (const line of stdout.split("\n").map((l) => l.trim())) {
    if (line === "") continue;
    const fields = parseCsvLine(line);
    if (fields[0] === "test") continue; // the header
    if (CLUSTER_PREAMBLE.test(line)) continue;
    const rps = Number(fields[1]);
    if (line.startsWith('"') && fields.length >= 2 && Number.isFinite(rps)) rows.push({ name: fields[0]!, rps });
    else noise.push(line);
  }
  // redis-benchmark 7.0 exits non-zero on the first error reply, so a server that rejects
  // a command cannot pass for a fast one.
  let error: string | undefined;
  if (exit.timedOut) error = "redis-benchmark timed out";
  else if (exit.code !== 0) error = `redis-benchmark exited ${exit.code}`;
  else if (rows.length === 0) error = "no result rows (unknown test name?)";
  else if (noise.length > 0) error = "error replies";
  if (error !== undefined) {
    // The first error reply says why; redis-benchmark's own warnings only when there is
    // nothing better.
    const lines = [...noise, ...stderr.trim().split("\n")].map((l) => l.trim()).filter((l) => l !== "");
    const detail = lines.find((l) => l.startsWith("Error")) ?? lines[0];
    if (detail !== undefined) error += `: ${detail.length > 120 ? `${detail.slice(0, 120)}...` : detail}`;
  }
  return { rows, cpuSeconds, wallMs, error };
}
