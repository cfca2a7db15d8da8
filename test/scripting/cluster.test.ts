// Scripts in cluster mode against the real redis-server, each a one-node cluster serving
// half the slots: declared keys are routed before the script runs (MOVED, CROSSSLOT), keys
// a script touches without declaring them must be served here and share one slot unless
// the script allows crossing slots, and no-cluster scripts are refused.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { keyHashSlot } from "../../src/cluster/slots.ts";
import { startClusterNode, waitForClusterInfo, type ClusterNode } from "../cluster/redis-cluster.ts";

let nodes: ClusterNode[] = [];
/** Two keys in different served slots, one key in a slot nobody serves. */
const SERVED_A = "b";
const SERVED_B = "c";
const UNSERVED = "key:unserved";

beforeAll(async () => {
  nodes = await Promise.all([startClusterNode(["--cluster-require-full-coverage", "no"], "redis"), startClusterNode(["--cluster-require-full-coverage", "no"], "redbun")]);
  for (const node of nodes) {
    expect(await node.conn.call("CLUSTER", "ADDSLOTSRANGE", "0", "8191")).toBe("+OK\r\n");
    await waitForClusterInfo(node.conn, "cluster_state", "ok");
  }
  const slot = (key: string) => keyHashSlot(Buffer.from(key), 0, key.length);
  expect(slot(SERVED_A)).toBeLessThan(8192);
  expect(slot(SERVED_B)).toBeLessThan(8192);
  expect(slot(SERVED_A)).not.toBe(slot(SERVED_B));
  expect(slot(UNSERVED)).toBeGreaterThanOrEqual(8192);
}, 30000);
afterAll(async () => {
  await Promise.all(nodes.map((node) => node.stop()));
});

async function same(...args: string[]): Promise<string> {
  const [want, got] = await Promise.all(nodes.map((node) => node.conn.call(...args)));
  expect(got).toBe(want!);
  return got!;
}

test("declared keys are routed before the script runs", async () => {
  await same("EVAL", "return redis.call('SET', KEYS[1], 'v')", "1", SERVED_A);
  expect(await same("EVAL", "return 1", "1", UNSERVED)).toStartWith("-CLUSTERDOWN");
  expect(await same("EVAL", "return 1", "2", SERVED_A, SERVED_B)).toStartWith("-CROSSSLOT");
});

test("undeclared keys must be served here and share one slot", async () => {
  await same("EVAL", "return redis.call('GET', 'c')", "0");
  await same("EVAL", `return redis.call('GET', '${UNSERVED}')`, "0");
  await same("EVAL", `return redis.pcall('GET', '${UNSERVED}')`, "0");
  await same("EVAL", "redis.call('GET', 'b') return redis.call('GET', 'c')", "0");
  await same("EVAL", "return redis.call('GET', 'c')", "1", SERVED_A);
  await same("EVAL", "return redis.call('GET', 'b')", "1", SERVED_A);
  await same("EVAL", "#!lua flags=allow-cross-slot-keys\nredis.call('GET', 'b') return redis.call('GET', 'c')", "0");
  await same("EVAL", "#!lua\nredis.call('GET', 'b') return redis.call('GET', 'c')", "0");
  await same("EVAL", "return redis.call('MGET', 'b', 'c')", "0");
  await same("EVAL", "return redis.call('PING')", "0");
});

test("no-cluster scripts and functions are refused", async () => {
  await same("EVAL", "#!lua flags=no-cluster\nreturn 1", "0");
  await same("FUNCTION", "LOAD", "REPLACE", "#!lua name=nc\nredis.register_function{function_name='nc', callback=function() return 1 end, flags={'no-cluster'}}");
  await same("FCALL", "nc", "0");
});
