// CLUSTER SLOTS, SHARDS, LINKS and NODES, and the MOVED/ASK redirections, asked of Redis 7.0
// nodes and redbun nodes of one cluster: the same topology seen from both kinds must give
// the same bytes, in RESP2 and RESP3, for every cluster-preferred-endpoint-type. Nodes
// announce hostnames (one replica none, to see the "?" endpoint and absent fields).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rawItems } from "../oracle/resp.ts";
import { keyHashSlot } from "../../src/cluster/slots.ts";
import { clusterNodeEntries, startClusterNode, waitForClusterInfo, waitUntil, type ClusterNode, type NodeKind } from "./redis-cluster.ts";

const FAST = ["--cluster-node-timeout", "2000", "--repl-diskless-sync-delay", "0"];
const ENDPOINT_TYPES = ["ip", "hostname", "unknown-endpoint"] as const;
type EndpointType = (typeof ENDPOINT_TYPES)[number];

/** A node of the cluster with what the test knows of it. */
interface Member {
  node: ClusterNode;
  id: string;
  hostname: string;
}

const masters: Member[] = [];
const replicas: Member[] = [];
const everyone = (): Member[] => [...masters, ...replicas];

async function start(kind: NodeKind, hostname: string): Promise<Member> {
  const args = hostname === "" ? FAST : [...FAST, "--cluster-announce-hostname", hostname];
  const node = await startClusterNode(args, kind);
  const id = (await node.conn.call("CLUSTER", "MYID")).split("\r\n")[1]!;
  return { node, id, hostname };
}

/** Masters Redis, redbun, Redis; each with a replica of the other kind (the last one announcing no hostname). */
async function buildCluster(): Promise<void> {
  const kinds: NodeKind[] = ["redis", "redbun", "redis"];
  masters.push(...(await Promise.all(kinds.map((kind, i) => start(kind, `master-${i}.test`)))));
  replicas.push(...(await Promise.all(kinds.map((kind, i) => start(kind === "redis" ? "redbun" : "redis", i === 2 ? "" : `replica-${i}.test`)))));
  const create = Bun.spawn(["redis-cli", "--cluster", "create", ...masters.map((m) => `127.0.0.1:${m.node.port}`), "--cluster-yes"], { stdout: "ignore", stderr: "ignore" });
  expect(await create.exited).toBe(0);
  await Promise.all(replicas.map((r) => r.node.conn.call("CLUSTER", "MEET", "127.0.0.1", String(masters[0]!.node.port))));
  for (let i = 0; i < replicas.length; i++) {
    const replica = replicas[i]!;
    await waitUntil("the new node to learn the master", async () => (await clusterNodeEntries(replica.node)).some((l) => l.id === masters[i]!.id));
    expect(await replica.node.conn.call("CLUSTER", "REPLICATE", masters[i]!.id)).toBe("+OK\r\n");
  }
  for (const m of everyone()) await waitForClusterInfo(m.node.conn, "cluster_state", "ok", 10000);
  // A write on every master moves its offset, so that each replica reports a non-zero one.
  const firstSlots = await Promise.all(masters.map(ownSlot));
  await learnSlotKeys(masters[0]!.node.conn, firstSlots);
  for (let i = 0; i < masters.length; i++) expect(await masters[i]!.node.conn.call("SET", keyInSlot(firstSlots[i]!), "v")).toBe("+OK\r\n");
  await waitUntil("every node to see the whole cluster, replicas synced", async () => {
    for (const m of everyone()) {
      const lines = (await m.node.conn.call("CLUSTER", "NODES")).split("\n");
      if (lines.filter((l) => l.includes("slave")).length !== 3 || lines.some((l) => l.includes("fail") || l.includes("handshake"))) return false;
    }
    for (const r of replicas) if (!(await r.node.conn.call("INFO", "replication")).includes("master_link_status:up")) return false;
    return true;
  });
}

/** The first slot a master serves. */
async function ownSlot(m: Member): Promise<number> {
  const slots = rawItems(await m.node.conn.call("CLUSTER", "SLOTS"));
  for (const range of slots) {
    const [first, , master] = rawItems(range);
    if (rawItems(master!)[2]!.includes(m.id)) return Number(first!.slice(1, -2));
  }
  throw new Error(`${m.id} serves no slot`);
}

/** Keys found for slots, by slot. */
const slotKeys = new Map<number, string>();
function keyInSlot(slot: number): string {
  const key = slotKeys.get(slot);
  if (key === undefined) throw new Error(`no key known for slot ${slot}`);
  return key;
}

/** A "{t<n>}k" key for each slot, tags tried in turn (the slot checked by CLUSTER KEYSLOT on a Redis node). */
async function learnSlotKeys(conn: ClusterNode["conn"], slots: number[]): Promise<void> {
  for (let n = 0; slots.some((s) => !slotKeys.has(s)); n++) {
    const key = `{t${n}}k`;
    const slot = keyHashSlot(Buffer.from(key, "latin1"), 0, key.length);
    if (slots.includes(slot) && !slotKeys.has(slot)) slotKeys.set(slot, key);
  }
  for (const slot of slots) expect(await conn.call("CLUSTER", "KEYSLOT", keyInSlot(slot))).toBe(`:${slot}\r\n`);
}

/**
 * What may differ between two nodes' replies: replication offsets move on their own, and
 * Redis lists shards in its node table's hash order.
 */
function normalized(reply: string, sortItems: boolean): string {
  const withoutOffsets = reply.replace(/(\$18\r\nreplication-offset\r\n):\d+\r\n/g, "$1:N\r\n");
  if (!sortItems) return withoutOffsets;
  const header = withoutOffsets.slice(0, withoutOffsets.indexOf("\r\n") + 2);
  return header + rawItems(withoutOffsets).sort().join("");
}

async function setEverywhere(name: string, value: string): Promise<void> {
  await Promise.all(everyone().map(async (m) => expect(await m.node.conn.call("CONFIG", "SET", name, value)).toBe("+OK\r\n")));
}

/** The redirection text Redis's clusterRedirectClient writes for a node, by endpoint type. */
function endpointOf(m: Member, type: EndpointType): string {
  if (type === "ip") return `127.0.0.1:${m.node.port}`;
  if (type === "hostname") return `${m.hostname === "" ? "?" : m.hostname}:${m.node.port}`;
  return `:${m.node.port}`;
}

beforeAll(buildCluster, 30000);

afterAll(async () => {
  await Promise.all(everyone().map((m) => m.node.stop()));
});

describe("one cluster seen from Redis and redbun nodes", () => {
  test("CLUSTER SLOTS and CLUSTER SHARDS match, RESP2 and RESP3, every endpoint type", async () => {
    const redis = everyone().filter((m) => m.node.kind === "redis");
    const redbun = everyone().filter((m) => m.node.kind === "redbun");
    for (const type of ENDPOINT_TYPES) {
      await setEverywhere("cluster-preferred-endpoint-type", type);
      for (const protocol of ["2", "3"]) {
        for (const m of everyone()) await m.node.conn.call("HELLO", protocol);
        for (const [command, sortItems] of [["SLOTS", false], ["SHARDS", true]] as const) {
          const replies = async (side: Member[]) => Promise.all(side.map(async (m) => normalized(await m.node.conn.call("CLUSTER", command), sortItems)));
          // Gossip carries offsets and hostnames with some delay: ask until the views agree.
          let expected = "";
          let got: string[] = [];
          await waitUntil(`CLUSTER ${command} ${type} RESP${protocol} to agree`, async () => {
            const fromRedis = await replies(redis);
            expected = fromRedis[0]!;
            got = [...fromRedis, ...(await replies(redbun))];
            return got.every((r) => r === expected);
          }, 5000).catch(() => {});
          for (const reply of got) expect(reply).toBe(expected);
          expect(expected).toContain(endpointMark(command, type, protocol));
        }
      }
    }
    for (const m of everyone()) await m.node.conn.call("HELLO", "2");
    await setEverywhere("cluster-preferred-endpoint-type", "ip");
  });

  test("CLUSTER NODES shows ip:port@cport,hostname the same way everywhere", async () => {
    const addresses = async (m: Member): Promise<string[]> => {
      const text = (await m.node.conn.call("CLUSTER", "NODES")).split("\r\n")[1]!;
      return text.split("\n").filter((l) => l !== "").map((l) => l.split(" ").slice(0, 2).join(" ")).sort();
    };
    const expected = everyone().map((m) => `${m.id} 127.0.0.1:${m.node.port}@${m.node.port + 10000}${m.hostname === "" ? "" : `,${m.hostname}`}`).sort();
    for (const m of everyone()) {
      let got: string[] = [];
      await waitUntil("hostnames known everywhere", async () => JSON.stringify((got = await addresses(m))) === JSON.stringify(expected), 5000).catch(() => {});
      expect(got).toEqual(expected);
    }
  });

  test("MOVED and ASK name the target by the preferred endpoint", async () => {
    const [redisMaster, redbunMaster, otherRedis] = masters as [Member, Member, Member];
    const movedTo = otherRedis;
    const key = keyInSlot(await ownSlot(movedTo));
    const slot = await ownSlot(movedTo);
    // Each asking master migrates its first slot to the other kind's master.
    const askers: [Member, Member][] = [[redisMaster, redbunMaster], [redbunMaster, redisMaster]];
    for (const type of ENDPOINT_TYPES) {
      await setEverywhere("cluster-preferred-endpoint-type", type);
      for (const asked of [redisMaster, redbunMaster]) {
        expect(await asked.node.conn.call("GET", key)).toBe(`-MOVED ${slot} ${endpointOf(movedTo, type)}\r\n`);
      }
      for (const [from, to] of askers) {
        const askSlot = await ownSlot(from);
        expect(await from.node.conn.call("CLUSTER", "SETSLOT", String(askSlot), "MIGRATING", to.id)).toBe("+OK\r\n");
        // A key the migrating node does not hold is asked of the target.
        const missing = `${keyInSlot(askSlot)}:missing`;
        expect(await from.node.conn.call("GET", missing)).toBe(`-ASK ${askSlot} ${endpointOf(to, type)}\r\n`);
        expect(await from.node.conn.call("CLUSTER", "SETSLOT", String(askSlot), "STABLE")).toBe("+OK\r\n");
      }
    }
    await setEverywhere("cluster-preferred-endpoint-type", "ip");
  });

  test("CLUSTER LINKS: one idle link each way with every other node, in Redis's shape", async () => {
    // The creation time is the node's own, and what a buffer has allocated is the
    // allocator's; an idle link reads only ("r") and has nothing to send.
    const shape = async (m: Member): Promise<string[]> => {
      const links = rawItems(await m.node.conn.call("CLUSTER", "LINKS"));
      return links.map((l) => l.replace(/(create-time\r\n|send-buffer-allocated\r\n):\d+/g, "$1:N")).sort();
    };
    for (const protocol of ["2", "3"]) {
      for (const m of everyone()) await m.node.conn.call("HELLO", protocol);
      for (const m of everyone()) {
        const others = everyone().filter((o) => o !== m);
        const expected = others.flatMap((o) => ["to", "from"].map((direction) => linkReply(protocol, direction, o.id))).sort();
        // A link may be busy for a moment (a message on its way out): asked again until idle.
        let got: string[] = [];
        await waitUntil("idle links both ways with every node", async () => {
          got = await shape(m);
          return JSON.stringify(got) === JSON.stringify(expected);
        }, 5000).catch(() => {});
        expect(got).toEqual(expected);
      }
    }
    for (const m of everyone()) await m.node.conn.call("HELLO", "2");
  });
});

describe("a node announcing another address", () => {
  const ANNOUNCE = ["--cluster-announce-ip", "10.9.8.7", "--cluster-announce-port", "1234", "--cluster-announce-bus-port", "5678", "--cluster-announce-hostname", "far.test"];
  const alone: ClusterNode[] = [];
  afterAll(async () => {
    await Promise.all(alone.map((n) => n.stop()));
  });

  test("shows it in CLUSTER NODES, SLOTS and SHARDS as Redis does, RESP2 and RESP3", async () => {
    alone.push(...(await Promise.all((["redis", "redbun"] as const).map((kind) => startClusterNode(ANNOUNCE, kind)))));
    const ids = await Promise.all(alone.map(async (n) => (await n.conn.call("CLUSTER", "MYID")).split("\r\n")[1]!));
    // Two ranges, and a key of a slot nobody serves for the refusal.
    for (const n of alone) expect(await n.conn.call("CLUSTER", "ADDSLOTSRANGE", "0", "100", "200", "200")).toBe("+OK\r\n");
    const reply = async (i: number, ...args: string[]) => (await alone[i]!.conn.call(...args)).replaceAll(ids[i]!, "ID");
    await waitUntil("the announced address to be taken", async () => (await reply(1, "CLUSTER", "NODES")).includes("10.9.8.7:1234@5678,far.test"), 5000);
    for (const type of ENDPOINT_TYPES) {
      for (const n of alone) await n.conn.call("CONFIG", "SET", "cluster-preferred-endpoint-type", type);
      for (const protocol of ["2", "3"]) {
        for (const n of alone) await n.conn.call("HELLO", protocol);
        for (const command of ["SLOTS", "SHARDS", "NODES"]) expect(await reply(1, "CLUSTER", command)).toBe(await reply(0, "CLUSTER", command));
      }
    }
    // CONFIG SET moves the announced address at run time.
    for (const [name, value] of [["cluster-announce-port", "4321"], ["cluster-announce-bus-port", "8765"], ["cluster-announce-hostname", "near.test"], ["cluster-announce-ip", "10.1.1.1"]]) {
      for (const n of alone) expect(await n.conn.call("CONFIG", "SET", name!, value!)).toBe("+OK\r\n");
    }
    for (const i of [0, 1]) await waitUntil("the new address to be taken", async () => (await reply(i, "CLUSTER", "NODES")).includes("10.1.1.1:4321@8765,near.test"), 5000);
    for (const command of ["SLOTS", "SHARDS", "NODES"]) expect(await reply(1, "CLUSTER", command)).toBe(await reply(0, "CLUSTER", command));
  });
});

/** Bytes the reply must hold for the endpoint type: the endpoints are really there. */
function endpointMark(command: "SLOTS" | "SHARDS", type: EndpointType, protocol: string): string {
  const endpoint = (value: string) => (command === "SLOTS" ? value : `$8\r\nendpoint\r\n${value}`);
  if (type === "ip") return endpoint("$9\r\n127.0.0.1\r\n");
  // The replica without a hostname has "?" for one.
  if (type === "hostname") return endpoint("$1\r\n?\r\n");
  if (command === "SHARDS") return endpoint("$0\r\n\r\n");
  return protocol === "2" ? "*4\r\n$-1\r\n" : "*4\r\n_\r\n";
}

/** One idle CLUSTER LINKS entry as Redis writes it, with the normalized fields. */
function linkReply(protocol: string, direction: string, id: string): string {
  const bulk = (s: string) => `$${s.length}\r\n${s}\r\n`;
  return (
    (protocol === "2" ? "*12\r\n" : "%6\r\n") +
    bulk("direction") + bulk(direction) + bulk("node") + bulk(id) + bulk("create-time") + ":N\r\n" +
    bulk("events") + bulk("r") + bulk("send-buffer-allocated") + ":N\r\n" + bulk("send-buffer-used") + ":0\r\n"
  );
}
