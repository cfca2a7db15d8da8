// CLUSTER subcommands, READONLY/READWRITE/ASKING and the commands cluster mode restricts,
// sent to a single redbun node and a single Redis node in cluster mode with the same slots:
// the replies must be byte-identical, errors included. Also what cluster mode keeps across
// a restart (nodes.conf), and that the bus port survives garbage.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RespConn, startRedbun } from "../oracle/harness.ts";
import { startClusterNode, waitForClusterInfo, type ClusterNode } from "./redis-cluster.ts";

let redis: ClusterNode;
let redbun: ClusterNode;

beforeAll(async () => {
  // Without full coverage the node serves its own slots, so keys can be written.
  const args = ["--cluster-require-full-coverage", "no"];
  [redis, redbun] = await Promise.all([startClusterNode(args), startClusterNode(args, "redbun")]);
  for (const node of [redis, redbun]) {
    expect(await node.conn.call("CLUSTER", "ADDSLOTSRANGE", "0", "99", "200", "300")).toBe("+OK\r\n");
    // A master that just started waits before it calls the cluster ok (CLUSTER_WRITABLE_DELAY).
    await waitForClusterInfo(node.conn, "cluster_state", "ok");
    expect(await node.conn.call("SET", "{t29}kept", "v")).toBe("+OK\r\n");
  }
});

afterAll(async () => {
  await Promise.all([redis?.stop(), redbun?.stop()]);
});

/** The same command to both nodes: the same bytes back. */
async function same(...args: string[]): Promise<string> {
  const expected = await redis.conn.call(...args);
  expect(await redbun.conn.call(...args)).toBe(expected);
  return expected;
}

test("argument checks and errors of every CLUSTER subcommand answer as Redis does", async () => {
  const cases: string[][] = [
    ["CLUSTER"],
    ["CLUSTER", "foo"],
    ["CLUSTER", "KEYSLOT"],
    ["CLUSTER", "KEYSLOT", "somekey"],
    ["CLUSTER", "KEYSLOT", "{user1000}.following"],
    ["CLUSTER", "KEYSLOT", "foo{}{bar}"],
    ["CLUSTER", "COUNTKEYSINSLOT", "x"],
    ["CLUSTER", "COUNTKEYSINSLOT", "99999"],
    ["CLUSTER", "COUNTKEYSINSLOT", "-1"],
    ["CLUSTER", "GETKEYSINSLOT", "1", "-1"],
    ["CLUSTER", "GETKEYSINSLOT", "x", "1"],
    ["CLUSTER", "GETKEYSINSLOT", "16384", "1"],
    ["CLUSTER", "ADDSLOTS", "0"],
    ["CLUSTER", "ADDSLOTS", "99999"],
    ["CLUSTER", "ADDSLOTS", "x"],
    ["CLUSTER", "ADDSLOTS", "500", "500"],
    ["CLUSTER", "ADDSLOTSRANGE", "5", "1"],
    ["CLUSTER", "ADDSLOTSRANGE", "1"],
    ["CLUSTER", "ADDSLOTSRANGE", "1", "2", "3"],
    ["CLUSTER", "ADDSLOTSRANGE", "400", "410", "405", "420"],
    ["CLUSTER", "DELSLOTS", "0", "0"],
    ["CLUSTER", "DELSLOTS", "16000"],
    ["CLUSTER", "DELSLOTSRANGE", "16000", "16001"],
    ["CLUSTER", "SETSLOT", "0", "foo"],
    ["CLUSTER", "SETSLOT", "0", "node", "abc"],
    ["CLUSTER", "SETSLOT", "0", "migrating", "abc"],
    ["CLUSTER", "SETSLOT", "5000", "migrating", "abc"],
    ["CLUSTER", "SETSLOT", "0", "importing", "abc"],
    ["CLUSTER", "SETSLOT", "99999", "stable"],
    ["CLUSTER", "SETSLOT", "0", "stable", "extra"],
    ["CLUSTER", "SET-CONFIG-EPOCH", "-1"],
    ["CLUSTER", "SET-CONFIG-EPOCH", "x"],
    ["CLUSTER", "FORGET", "abc"],
    ["CLUSTER", "REPLICATE", "abc"],
    ["CLUSTER", "REPLICAS", "abc"],
    ["CLUSTER", "SLAVES", "abc"],
    ["CLUSTER", "COUNT-FAILURE-REPORTS", "abc"],
    ["CLUSTER", "MEET", "127.0.0.1", "x"],
    ["CLUSTER", "MEET", "127.0.0.1", "99999"],
    ["CLUSTER", "MEET", "1.2.3.x", "5"],
    ["CLUSTER", "MEET", "127.0.0.1", "7000", "x"],
    ["CLUSTER", "MEET", "127.0.0.1", "7000", "0"],
    ["CLUSTER", "RESET", "foo"],
    ["CLUSTER", "RESET"],
    ["CLUSTER", "FAILOVER", "foo"],
    ["CLUSTER", "FAILOVER"],
    ["CLUSTER", "FAILOVER", "FORCE"],
    ["CLUSTER", "FLUSHSLOTS"],
    ["CLUSTER", "HELP"],
    ["CLUSTER", "COUNTKEYSINSLOT", "69"],
    ["CLUSTER", "GETKEYSINSLOT", "69", "10"],
    ["CLUSTER", "GETKEYSINSLOT", "69", "0"],
    ["READONLY"],
    ["READWRITE"],
    ["ASKING"],
    ["SELECT", "0"],
    ["SELECT", "1"],
    ["SWAPDB", "0", "1"],
    ["MOVE", "{t29}kept", "1"],
    ["COPY", "{t29}kept", "{t29}copy", "DB", "1"],
    ["COPY", "{t29}kept", "{t29}copy", "DB", "0"],
    // SORT patterns name keys that may live on other nodes.
    ["SORT", "{t29}kept", "BY", "w_*"],
    ["SORT", "{t29}kept", "BY", "nosort"],
    ["SORT", "{t29}kept", "GET", "#"],
    ["INFO", "cluster"],
  ];
  for (const args of cases) await same(...args);
});

test("slots and epochs change as on Redis: ADDSLOTS, DELSLOTS, SET-CONFIG-EPOCH, BUMPEPOCH, SETSLOT on own slots", async () => {
  await same("CLUSTER", "ADDSLOTS", "1000", "1001");
  await same("CLUSTER", "DELSLOTSRANGE", "1000", "1001");
  await same("CLUSTER", "SET-CONFIG-EPOCH", "5");
  await same("CLUSTER", "SET-CONFIG-EPOCH", "6");
  await same("CLUSTER", "BUMPEPOCH");
  const myId = async (n: ClusterNode) => (await n.conn.call("CLUSTER", "MYID")).split("\r\n")[1]!;
  // SETSLOT NODE to itself, MIGRATING to itself, STABLE.
  for (const node of [redis, redbun]) {
    const id = await myId(node);
    expect(await node.conn.call("CLUSTER", "SETSLOT", "50", "NODE", id)).toBe("+OK\r\n");
    expect(await node.conn.call("CLUSTER", "SETSLOT", "50", "MIGRATING", id)).toBe("+OK\r\n");
    expect(await node.conn.call("CLUSTER", "SETSLOT", "50", "STABLE")).toBe("+OK\r\n");
    expect(await node.conn.call("CLUSTER", "SETSLOT", "60", "IMPORTING", id)).toBe(`-ERR I'm already the owner of hash slot 60\r\n`);
  }
  const info = await same("CLUSTER", "INFO");
  expect(info).toContain("cluster_state:ok");
  expect(info).toContain("cluster_slots_assigned:201");
  expect(info).toContain("cluster_current_epoch:5");
  const line = (await redbun.conn.call("CLUSTER", "NODES")).split("\r\n")[1]!;
  // A node that never met another does not know its own address yet.
  expect(line).toMatch(/^[0-9a-f]{40} :\d+@\d+ myself,master - 0 \d+ 5 connected 0-99 200-300\n$/);
});

test("nodes.conf keeps the name, slots and epochs across a restart", async () => {
  const conn = await RespConn.connect(redbun.port);
  try {
    const before = (await conn.call("CLUSTER", "NODES")).split("\r\n")[1]!;
    const conf = readFileSync(join(redbun.dir, "nodes.conf"), "latin1");
    expect(conf).toContain(before.split(" ")[0]!);
    expect(conf).toMatch(/vars currentEpoch 5 lastVoteEpoch 0\n$/);
    const again = await startRedbun(["--cluster-enabled", "yes", "--dir", redbun.dir]);
    try {
      const c2 = await RespConn.connect(again.port);
      const after = (await c2.call("CLUSTER", "NODES")).split("\r\n")[1]!;
      const fields = (line: string) => line.split(" ").filter((_, i) => i !== 1 && i !== 5);
      expect(fields(after)).toEqual(fields(before));
      expect(await c2.call("CLUSTER", "INFO")).toContain("cluster_current_epoch:5");
      c2.close();
    } finally {
      await again.stop();
    }
  } finally {
    conn.close();
  }
});

test("garbage on the bus port is dropped without harm", async () => {
  const busPort = redbun.port + 10000;
  let closed = false;
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port: busPort,
    socket: {
      data() {},
      close() {
        closed = true;
      },
    },
  });
  socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  const deadline = Date.now() + 3000;
  while (!closed && Date.now() < deadline) await Bun.sleep(20);
  expect(closed).toBe(true);
  // A well-formed prefix announcing an absurd length is refused as well.
  let closed2 = false;
  const s2 = await Bun.connect({ hostname: "127.0.0.1", port: busPort, socket: { data() {}, close() { closed2 = true; } } });
  s2.write(new Uint8Array([0x52, 0x43, 0x6d, 0x62, 0, 0, 0, 10]));
  while (!closed2 && Date.now() < deadline) await Bun.sleep(20);
  expect(closed2).toBe(true);
  expect(await redbun.conn.call("PING")).toBe("+PONG\r\n");
});
