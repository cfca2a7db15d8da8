// cluster-link-sendbuf-limit: a bus link whose peer stops reading (its process stopped with
// SIGSTOP) fills with PUBLISH broadcasts until its unsent bytes pass the limit; the node then
// frees it, counts it in CLUSTER INFO total_cluster_links_buffer_limit_exceeded, logs it, and
// connects again once the peer reads. Redis 7.0 and redbun, each in the publishing node's place.

import { afterEach, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { clusterInfoField, clusterNodeEntries, startClusterNode, waitUntil, type ClusterNode, type NodeKind } from "./redis-cluster.ts";

const started: ClusterNode[] = [];
afterEach(async () => {
  for (const node of started) {
    node.server.proc.kill("SIGCONT");
    await node.stop();
  }
  started.length = 0;
});

async function pair(kind: NodeKind): Promise<[ClusterNode, ClusterNode]> {
  const args = ["--cluster-node-timeout", "15000"];
  const [a, b] = await Promise.all([startClusterNode(args, kind), startClusterNode(args, kind)]);
  started.push(a, b);
  expect(await a.conn.call("CLUSTER", "MEET", "127.0.0.1", String(b.server.port))).toBe("+OK\r\n");
  await waitUntil("both nodes to know each other", async () => {
    for (const node of [a, b]) {
      const entries = await clusterNodeEntries(node);
      if (entries.length !== 2 || entries.some((e) => e.flags.includes("handshake"))) return false;
    }
    return (await linkCount(a)) === 2;
  });
  return [a, b];
}

/** CLUSTER LINKS entries: one per direction with each known node. */
async function linkCount(node: ClusterNode): Promise<number> {
  const reply = await node.conn.call("CLUSTER", "LINKS");
  return Number(/^\*(\d+)/.exec(reply)![1]);
}

for (const kind of ["redis", "redbun"] as const) {
  test(`${kind}: a link over cluster-link-sendbuf-limit is freed, counted, logged and made again`, async () => {
    const [a, b] = await pair(kind);
    expect(await a.conn.call("CONFIG", "SET", "cluster-link-sendbuf-limit", String(256 * 1024))).toBe("+OK\r\n");
    expect(await clusterInfoField(a.conn, "total_cluster_links_buffer_limit_exceeded")).toBe("0");
    b.server.proc.kill("SIGSTOP");
    // Loopback socket buffers take a few megabytes before anything stays unsent.
    const payload = "x".repeat(100 * 1024);
    await waitUntil("a link to pass the limit", async () => {
      for (let i = 0; i < 20; i++) await a.conn.call("PUBLISH", "flood", payload);
      return (await clusterInfoField(a.conn, "total_cluster_links_buffer_limit_exceeded")) !== "0";
    }, 20000);
    const log = readFileSync(join(a.dir, "log"), "latin1");
    expect(log).toMatch(/Freeing cluster link\((to|from) node [0-9a-f]{40}, used memory: \d+\) due to exceeding send buffer memory limit\./);
    b.server.proc.kill("SIGCONT");
    // Once the peer reads again, the links come back both ways and the node answers.
    await waitUntil("the links to be made again", async () => (await linkCount(a)) === 2 && (await linkCount(b)) === 2);
    expect(await b.conn.call("PING")).toBe("+PONG\r\n");
  }, 60000);
}
