// Replica migration (cluster-migration-barrier): when a master loses its only replica, a
// replica of the master that has the most moves to it, as Redis's clusterHandleSlaveMigration
// does, so that every master keeps a replica to fail over to.

import { afterAll, expect, test } from "bun:test";
import { clusterNodeEntries, startClusterNode, startRedisCluster, waitForClusterInfo, waitUntil, type ClusterNode } from "./redis-cluster.ts";

const FAST = ["--cluster-node-timeout", "1000", "--repl-diskless-sync-delay", "0"];
const started: ClusterNode[] = [];

afterAll(async () => {
  await Promise.all(started.map((n) => n.stop()));
});


test("a master that lost its replica gets one from the master with two", async () => {
  const cluster = await startRedisCluster(6, "redbun", 1, FAST);
  started.push(...cluster);
  const first = cluster[0]!;
  const lines = await clusterNodeEntries(first);
  const masters = lines.filter((l) => l.flags.includes("master"));
  const [rich, poor] = [masters[0]!, masters[1]!];
  // A seventh node joins as a second replica of `rich`.
  const extra = await startClusterNode(FAST, "redbun");
  started.push(extra);
  const add = Bun.spawn(
    ["redis-cli", "--cluster", "add-node", `127.0.0.1:${extra.port}`, `127.0.0.1:${first.port}`, "--cluster-slave", "--cluster-master-id", rich.id],
    { stdout: "ignore", stderr: "ignore" },
  );
  expect(await add.exited).toBe(0);
  await waitUntil("two replicas of one master", async () => (await clusterNodeEntries(first)).filter((l) => l.masterId === rich.id).length === 2, 10000);
  // The only replica of `poor` dies.
  const poorReplica = lines.find((l) => l.masterId === poor.id)!;
  const victim = cluster.find((n) => n.port === poorReplica.port)!;
  victim.server.proc.kill("SIGKILL");
  // After the failure is known and the orphan waited 5 s, one of `rich`'s replicas moves.
  await waitUntil(
    "a replica to migrate",
    async () => (await clusterNodeEntries(first)).some((l) => l.masterId === poor.id && l.id !== poorReplica.id && !l.flags.includes("fail")),
    15000,
  );
  const after = await clusterNodeEntries(first);
  expect(after.filter((l) => l.masterId === rich.id && !l.flags.includes("fail")).length).toBe(1);
  const moved = after.find((l) => l.masterId === poor.id && l.id !== poorReplica.id)!;
  const movedNode = [...cluster, extra].find((n) => n.port === moved.port)!;
  await waitUntil("the moved replica's link", async () => (await movedNode.conn.call("INFO", "replication")).includes("master_link_status:up"), 10000);
  await waitForClusterInfo(first.conn, "cluster_state", "ok");
}, 40000);
