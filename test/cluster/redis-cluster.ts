// Cluster-mode nodes, real redis-server or redbun, for tests that compare cluster behaviour
// with Redis 7.0: one node on its own, or several joined with `redis-cli --cluster create`.
// Each node gets its own directory (nodes.conf) and a port whose bus port (port + 10000)
// is free too, which the harness's freePort cannot promise.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT, RespConn, ServerProcess } from "../oracle/harness.ts";

const BUS_PORT_OFFSET = 10000;

function canListen(port: number): boolean {
  try {
    const l = Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } });
    l.stop(true);
    return true;
  } catch {
    return false;
  }
}

/** A port that is free, with its cluster bus port free as well. */
export function clusterPort(): number {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    if (canListen(port) && canListen(port + BUS_PORT_OFFSET)) return port;
  }
  throw new Error("no free port pair for a cluster node");
}

export type NodeKind = "redis" | "redbun";

/** One cluster-enabled server and a connection to it. */
export class ClusterNode {
  constructor(
    readonly server: ServerProcess,
    readonly conn: RespConn,
    readonly dir: string,
    readonly kind: NodeKind = "redis",
    readonly args: readonly string[] = [],
  ) {}

  get port(): number {
    return this.server.port;
  }

  async stop(): Promise<void> {
    this.conn.close();
    await this.server.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Starts a server with cluster-enabled yes, persistence off, in a fresh directory (or in
 * `dir`, to restart a node with its nodes.conf), logging to `log` there.
 */
export async function startClusterNode(extraArgs: string[] = [], kind: NodeKind = "redis", dir = "", port = clusterPort()): Promise<ClusterNode> {
  if (dir === "") dir = mkdtempSync(join(tmpdir(), "redbun-cluster-"));
  const args = [
    "--port", String(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
    "--dir", dir, "--save", "", "--appendonly", "no", "--logfile", join(dir, "log"), ...extraArgs,
  ];
  const argv = kind === "redis" ? ["redis-server", ...args] : ["bun", join(REPO_ROOT, "src/main.ts"), ...args];
  const proc = Bun.spawn(argv, { stdout: "ignore", stderr: "inherit", cwd: dir });
  const conn = await connectWhenUp(port, proc);
  return new ClusterNode(new ServerProcess(kind, port, proc), conn, dir, kind, extraArgs);
}

async function connectWhenUp(port: number, proc: ReturnType<typeof Bun.spawn>): Promise<RespConn> {
  const deadline = Date.now() + 10000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`the server exited with ${proc.exitCode}`);
    try {
      const conn = await RespConn.connect(port);
      if ((await conn.call("PING")) === "+PONG\r\n") return conn;
      conn.close();
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`the server did not start on port ${port}`);
    await Bun.sleep(20);
  }
}

/** The value of one field of CLUSTER INFO. */
export async function clusterInfoField(conn: RespConn, field: string): Promise<string> {
  const info = await conn.call("CLUSTER", "INFO");
  const line = info.split("\r\n").find((l) => l.startsWith(field + ":"));
  return line === undefined ? "" : line.slice(field.length + 1);
}

/** Waits until CLUSTER INFO's field has the value (polling, no fixed sleep). */
export async function waitForClusterInfo(conn: RespConn, field: string, value: string, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await clusterInfoField(conn, field)) !== value) {
    if (Date.now() > deadline) throw new Error(`cluster info ${field} never became ${value}`);
    await Bun.sleep(20);
  }
}

/**
 * `count` nodes joined by `redis-cli --cluster create` (with `replicas` replicas per
 * master), all reporting cluster_state:ok.
 */
export async function startRedisCluster(count: number, kind: NodeKind = "redis", replicas = 0, extraArgs: string[] = []): Promise<ClusterNode[]> {
  const nodes = await Promise.all(Array.from({ length: count }, () => startClusterNode(extraArgs, kind)));
  const create = Bun.spawn(
    [
      "redis-cli", "--cluster", "create", ...nodes.map((n) => `127.0.0.1:${n.port}`),
      "--cluster-replicas", String(replicas), "--cluster-yes",
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  if ((await create.exited) !== 0) {
    const out = await new Response(create.stdout).text();
    await Promise.all(nodes.map((n) => n.stop()));
    throw new Error(`redis-cli --cluster create failed: ${out}`);
  }
  for (const node of nodes) await waitForClusterInfo(node.conn, "cluster_state", "ok");
  return nodes;
}

/** One CLUSTER NODES line as the tests look at it. */
export interface NodeEntry {
  id: string;
  port: number;
  flags: string;
  /** The master's id for a replica, "-" for a master. */
  masterId: string;
}

/** The node's CLUSTER NODES, a line per node it knows. */
export async function clusterNodeEntries(node: ClusterNode): Promise<NodeEntry[]> {
  const text = (await node.conn.call("CLUSTER", "NODES")).split("\r\n")[1]!;
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      const f = l.split(" ");
      return { id: f[0]!, port: Number(f[1]!.split(":")[1]!.split("@")[0]), flags: f[2]!, masterId: f[3]! };
    });
}

/** Polls until `check` holds; a node that refuses for a moment (failing over) is asked again. */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // Asked again below.
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}
