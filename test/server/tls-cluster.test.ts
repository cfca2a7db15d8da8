// tls-cluster: the cluster bus over TLS, in a cluster of one redbun node and one
// redis-server 7.0 node. The links come up both ways; the nodes announce their TLS ports (the
// bus on tls-port + 10000) beside their plain ones, and each client is told the ports of its
// own kind of connection: TLS clients the TLS ports, plain clients the plain ones, as in Redis.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { clusterPort, startClusterNode, waitForClusterInfo, waitUntil, type ClusterNode, type NodeKind } from "../cluster/redis-cluster.ts";
import { makeCerts, tlsArgs, tlsCall, trustedClient, type Certs } from "./tls-certs.ts";

let certs: Certs;

beforeAll(() => {
  certs = makeCerts();
});

afterAll(() => {
  certs[Symbol.dispose]();
});

interface TlsNode {
  node: ClusterNode;
  tlsPort: number;
}

async function startTlsNode(kind: NodeKind): Promise<TlsNode> {
  // The bus listens on tls-port + 10000, which clusterPort keeps free as well.
  const tlsPort = clusterPort();
  const node = await startClusterNode(tlsArgs(certs, tlsPort, ["--tls-cluster", "yes", "--tls-replication", "yes", "--repl-diskless-sync-delay", "0"]), kind);
  return { node, tlsPort };
}

/** "foo" hashes to slot 12182, "bar" to 5061. */
const KEY_IN_HIGH_SLOTS = "foo";
const KEY_IN_LOW_SLOTS = "bar";

test("a redbun node and a Redis node over a TLS bus", async () => {
  const [redbun, redis] = await Promise.all([startTlsNode("redbun"), startTlsNode("redis")]);
  try {
    expect(await redbun.node.conn.call("CLUSTER", "ADDSLOTSRANGE", "0", "8191")).toBe("+OK\r\n");
    expect(await redis.node.conn.call("CLUSTER", "ADDSLOTSRANGE", "8192", "16383")).toBe("+OK\r\n");
    // The MEET names the other node's TLS client port and its bus port.
    expect(await redbun.node.conn.call("CLUSTER", "MEET", "127.0.0.1", String(redis.tlsPort), String(redis.tlsPort + 10000))).toBe("+OK\r\n");
    await waitForClusterInfo(redbun.node.conn, "cluster_state", "ok", 15000);
    await waitForClusterInfo(redis.node.conn, "cluster_state", "ok", 15000);
    await waitForClusterInfo(redbun.node.conn, "cluster_known_nodes", "2");
    await waitForClusterInfo(redis.node.conn, "cluster_known_nodes", "2");

    // Over TLS, both nodes name both by their TLS ports, the bus on tls-port + 10000; over
    // a plain connection, by their plain ports.
    const client = trustedClient(certs);
    for (const side of [redbun, redis]) {
      const overTls = await tlsCall(side.tlsPort, client, "CLUSTER", "NODES");
      const plain = await side.node.conn.call("CLUSTER", "NODES");
      for (const other of [redbun, redis]) {
        expect(overTls).toContain(` 127.0.0.1:${other.tlsPort}@${other.tlsPort + 10000} `);
        expect(plain).toContain(` 127.0.0.1:${other.node.port}@${other.tlsPort + 10000} `);
      }
    }
    // CLUSTER SLOTS is the same on both nodes, byte for byte, for either kind of client.
    expect(await redbun.node.conn.call("CLUSTER", "SLOTS")).toBe(await redis.node.conn.call("CLUSTER", "SLOTS"));
    expect(await tlsCall(redbun.tlsPort, client, "CLUSTER", "SLOTS")).toBe(await tlsCall(redis.tlsPort, client, "CLUSTER", "SLOTS"));
    // CLUSTER SHARDS lists both ports of each node.
    for (const side of [redbun, redis]) {
      const shards = await side.node.conn.call("CLUSTER", "SHARDS");
      for (const other of [redbun, redis]) expect(shards).toContain(`$4\r\nport\r\n:${other.node.port}\r\n$8\r\ntls-port\r\n:${other.tlsPort}\r\n`);
    }

    // A TLS client is sent to the other node's TLS port, by either node.
    expect(await tlsCall(redbun.tlsPort, client, "GET", KEY_IN_HIGH_SLOTS)).toBe(`-MOVED 12182 127.0.0.1:${redis.tlsPort}\r\n`);
    expect(await tlsCall(redis.tlsPort, client, "GET", KEY_IN_LOW_SLOTS)).toBe(`-MOVED 5061 127.0.0.1:${redbun.tlsPort}\r\n`);
    // Plain clients are sent to the plain ports.
    expect(await redis.node.conn.call("GET", KEY_IN_LOW_SLOTS)).toBe(`-MOVED 5061 127.0.0.1:${redbun.node.port}\r\n`);
    expect(await redbun.node.conn.call("GET", KEY_IN_HIGH_SLOTS)).toBe(`-MOVED 12182 127.0.0.1:${redis.node.port}\r\n`);

    // A redbun replica of the Redis master replicates from its TLS port (tls-replication).
    const replica = await startTlsNode("redbun");
    try {
      await replica.node.conn.call("CLUSTER", "MEET", "127.0.0.1", String(redis.tlsPort), String(redis.tlsPort + 10000));
      await waitForClusterInfo(replica.node.conn, "cluster_known_nodes", "3", 15000);
      const masterId = (await redis.node.conn.call("CLUSTER", "MYID")).split("\r\n")[1]!;
      expect(await replica.node.conn.call("CLUSTER", "REPLICATE", masterId)).toBe("+OK\r\n");
      expect(await tlsCall(redis.tlsPort, client, "SET", KEY_IN_HIGH_SLOTS, "over tls")).toBe("+OK\r\n");
      await waitUntil("the replica's copy", async () => (await replica.node.conn.call("READONLY")) === "+OK\r\n" && (await replica.node.conn.call("GET", KEY_IN_HIGH_SLOTS)) === "$8\r\nover tls\r\n");
      const info = await replica.node.conn.call("INFO", "replication");
      expect(info).toContain(`\r\nmaster_port:${redis.tlsPort}\r\n`);
    } finally {
      await replica.node.stop();
    }
  } finally {
    await Promise.all([redbun.node.stop(), redis.node.stop()]);
  }
});
