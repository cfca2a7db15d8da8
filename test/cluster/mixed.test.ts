// A cluster of real Redis 7.0 nodes and redbun nodes together: they share the cluster bus's
// wire format, so `redis-cli --cluster create` forms one cluster of both, clients use it as
// one, and when a master of either kind dies, a replica of the other kind takes over.

import { afterAll, expect, test } from "bun:test";
import Redis from "ioredis";
import { clusterNodeEntries, startClusterNode, waitForClusterInfo, waitUntil, type ClusterNode } from "./redis-cluster.ts";

const FAST = ["--cluster-node-timeout", "2000", "--repl-diskless-sync-delay", "0"];
const nodes: ClusterNode[] = [];

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
});


const byPort = (port: number): ClusterNode => nodes.find((n) => n.port === port)!;
const killed = new Set<ClusterNode>();

/** Kills a master whose replica is of the other kind; that replica must take over, with the data. */
async function failOver(masterKind: "redis" | "redbun", keys: string[]): Promise<void> {
  const survivor = nodes.find((n) => n.kind !== masterKind && !killed.has(n))!;
  const lines = await clusterNodeEntries(survivor);
  const master = lines.find((l) => l.flags.includes("master") && !l.flags.includes("fail") && byPort(l.port).kind === masterKind && lines.some((r) => r.masterId === l.id && byPort(r.port).kind !== masterKind))!;
  const replica = lines.find((l) => l.masterId === master.id)!;
  const masterNode = byPort(master.port);
  expect(await masterNode.conn.call("WAIT", "1", "2000")).toBe(":1\r\n");
  masterNode.server.proc.kill("SIGKILL");
  killed.add(masterNode);
  await masterNode.server.proc.exited;
  const replicaNode = byPort(replica.port);
  await waitUntil(`the ${replicaNode.kind} replica to take over`, async () => (await replicaNode.conn.call("ROLE")).startsWith("*3\r\n$6\r\nmaster"));
  await waitUntil("cluster_state:ok", async () => (await survivor.conn.call("CLUSTER", "INFO")).includes("cluster_state:ok"));
  const client = new Redis.Cluster([{ host: "127.0.0.1", port: survivor.port }], { enableReadyCheck: true });
  try {
    const values = await Promise.all(keys.map((k) => client.get(k)));
    expect(values).toEqual(keys.map((k) => `v-${k}`));
  } finally {
    client.disconnect();
  }
}

test("Redis and redbun nodes form one cluster; a master of either kind fails over to a replica of the other", async () => {
  // Three masters (Redis, redbun, Redis), then a replica of the other kind for each.
  const masterKinds = ["redis", "redbun", "redis"] as const;
  const masters = await Promise.all(masterKinds.map((kind) => startClusterNode(FAST, kind)));
  const replicas = await Promise.all(masterKinds.map((kind) => startClusterNode(FAST, kind === "redis" ? "redbun" : "redis")));
  nodes.push(...masters, ...replicas);
  const create = Bun.spawn(["redis-cli", "--cluster", "create", ...masters.map((n) => `127.0.0.1:${n.port}`), "--cluster-yes"], {
    stdout: "ignore",
    stderr: "ignore",
  });
  expect(await create.exited).toBe(0);
  for (let i = 0; i < 3; i++) {
    const replica = replicas[i]!;
    const masterId = (await masters[i]!.conn.call("CLUSTER", "MYID")).split("\r\n")[1]!;
    expect(await replica.conn.call("CLUSTER", "MEET", "127.0.0.1", String(masters[0]!.port))).toBe("+OK\r\n");
    await waitUntil("the new node to learn the master", async () => (await clusterNodeEntries(replica)).some((l) => l.id === masterId));
    expect(await replica.conn.call("CLUSTER", "REPLICATE", masterId)).toBe("+OK\r\n");
  }
  for (const node of nodes) await waitForClusterInfo(node.conn, "cluster_state", "ok", 10000);
  // Every node sees the same six nodes, replicas attached and linked.
  await waitUntil("replicas everywhere", async () => {
    for (const node of nodes) if ((await clusterNodeEntries(node)).filter((l) => l.flags.includes("slave")).length !== 3) return false;
    for (const r of replicas) if (!(await r.conn.call("INFO", "replication")).includes("master_link_status:up")) return false;
    return true;
  });
  const client = new Redis.Cluster([{ host: "127.0.0.1", port: nodes[0]!.port }]);
  const keys = Array.from({ length: 2000 }, (_, i) => `mixed:${i}`);
  try {
    await Promise.all(keys.map((k) => client.set(k, `v-${k}`)));
    expect(await Promise.all(keys.map((k) => client.get(k)))).toEqual(keys.map((k) => `v-${k}`));
  } finally {
    client.disconnect();
  }
  const check = Bun.spawn(["redis-cli", "--cluster", "check", `127.0.0.1:${nodes[1]!.port}`], { stdout: "pipe", stderr: "ignore" });
  expect(await check.exited).toBe(0);
  expect(await new Response(check.stdout).text()).toContain("[OK] All 16384 slots covered.");
  await failOver("redbun", keys);
  await failOver("redis", keys);
}, 60000);
