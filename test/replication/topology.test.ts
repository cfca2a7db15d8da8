// redbun masters and redbun replicas together, each in its own process over loopback:
// replicas attaching under a write load, chains of replicas, replicas killed and
// restarted (partial and full resync), a replica promoted with the others following it
// (PSYNC2), WAIT, min-replicas-to-write and ROLE. Real Redis 7.0 servers set up the same
// way give the replies to compare with, byte for byte where Redis's are deterministic.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RespConn, encodeCommand, startRedbun, startRedis, type ServerProcess } from "../oracle/harness.ts";
import { decodeReply } from "../oracle/resp.ts";
import { buildDataset, expectSameData, noise } from "../persistence/dataset.ts";
import { infoField, waitCaughtUp, waitFor } from "./helpers.ts";

const DEBUG = ["--enable-debug-command", "yes"];

/** A server of the topology: its process, one connection, and what restarts it as it was. */
interface Node {
  kind: "redbun" | "redis";
  proc: ServerProcess;
  conn: RespConn;
  dir: string;
  args: string[];
}

const dirs: string[] = [];
const nodes: Node[] = [];

/**
 * Starts a server in a temp dir of its own: a replica saves the RDB it receives there, and a
 * restarted one loads it from there to ask its master to continue where it stood.
 */
async function startNode(kind: Node["kind"], args: string[] = [], dir = ""): Promise<Node> {
  if (dir === "") {
    dir = mkdtempSync(join(tmpdir(), "redbun-topology-"));
    dirs.push(dir);
  }
  // The log stays in the dir, for a failing test to be read (KEEP=1 keeps the dirs). A
  // master would wait 5 s for more replicas before a diskless full sync.
  const all = ["--dir", dir, "--logfile", join(dir, "server.log"), "--repl-diskless-sync-delay", "0", ...DEBUG, ...args];
  const proc = kind === "redbun" ? await startRedbun(all) : await startRedis(all);
  const node: Node = { kind, proc, conn: await RespConn.connect(proc.port), dir, args };
  nodes.push(node);
  return node;
}

/** kill -9, then the same server again: same dir, same arguments plus `extraArgs` (a new port). */
async function killAndRestart(node: Node, extraArgs: string[], beforeRestart: () => Promise<void>): Promise<void> {
  node.conn.close();
  await node.proc.stop();
  await beforeRestart();
  const again = await startNode(node.kind, [...node.args, ...extraArgs], node.dir);
  nodes.splice(nodes.indexOf(again), 1);
  node.proc = again.proc;
  node.conn = again.conn;
}

const replicaofArgs = (master: Node): string[] => ["--replicaof", "127.0.0.1", String(master.proc.port)];

async function info(node: Node, section: string, field: string): Promise<string | undefined> {
  return infoField(await node.conn.call("INFO", section), field);
}

async function replicaOf(replica: Node, master: Node): Promise<void> {
  expect(await replica.conn.call("REPLICAOF", "127.0.0.1", String(master.proc.port))).toBe("+OK\r\n");
}

/** The slaveN lines of a master's INFO replication, as {port, state, offset}. */
function replicaLines(infoText: string): { port: number; state: string; offset: number }[] {
  const out: { port: number; state: string; offset: number }[] = [];
  for (const m of infoText.matchAll(/^slave\d+:ip=[^,]+,port=(\d+),state=(\w+),offset=(\d+),lag=\d+\r$/gm)) {
    out.push({ port: Number(m[1]), state: m[2]!, offset: Number(m[3]) });
  }
  return out.sort((a, b) => a.port - b.port);
}

/** Waits until `master` lists exactly these replicas, online and acknowledging its whole stream. */
async function waitAcked(master: Node, replicas: Node[], timeoutMs = 5000): Promise<void> {
  const ports = replicas.map((r) => r.proc.port).sort((a, b) => a - b);
  let last = "";
  try {
    await waitFor(
      "every replica to acknowledge the stream",
      async () => {
        last = await master.conn.call("INFO", "replication");
        const offset = Number(infoField(last, "master_repl_offset"));
        const lines = replicaLines(last);
        return (
          infoField(last, "connected_slaves") === String(replicas.length) &&
          lines.every((l, i) => l.port === ports[i] && l.state === "online" && l.offset === offset)
        );
      },
      timeoutMs,
    );
  } catch (error) {
    console.error(`last INFO replication of the master:\n${last}`);
    throw error;
  }
}

/** Waits until a replica's link to its master is up. */
async function waitLinkUp(replica: Node, timeoutMs = 8000): Promise<void> {
  await waitFor(`${replica.kind} on ${replica.proc.port} to have its link up`, async () => (await info(replica, "replication", "master_link_status")) === "up", timeoutMs);
}

/**
 * Writes from one client, 40 commands a pipeline, until stopped: strings, counters, lists
 * and hashes over a few hundred keys, so that a replica has every kind of write to apply.
 */
class WriteLoad {
  private stopped = false;
  commands = 0;
  readonly done: Promise<void>;

  constructor(port: number) {
    this.done = this.run(port);
  }

  private async run(port: number): Promise<void> {
    const c = await RespConn.connect(port);
    try {
      let i = 0;
      while (!this.stopped) {
        const batch: Uint8Array[] = [];
        for (let j = 0; j < 10; j++, i++) {
          batch.push(
            encodeCommand(["SET", `load:str:${i % 300}`, `v${i}`]),
            encodeCommand(["INCR", `load:counter:${i % 50}`]),
            encodeCommand(["RPUSH", `load:list:${i % 20}`, String(i)]),
            encodeCommand(["HSET", `load:hash:${i % 10}`, `f${i % 100}`, String(i)]),
          );
        }
        c.write(Buffer.concat(batch));
        const replies = await c.readReplies(batch.length);
        if (replies.includes("\r\n-") || replies.startsWith("-")) throw new Error(`a write failed: ${replies.slice(0, 200)}`);
        this.commands += batch.length;
      }
    } finally {
      c.close();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

/** Waits until the master's stream has grown by `bytes` from now. */
async function waitStreamGrowth(master: Node, bytes: number): Promise<void> {
  const from = Number(await info(master, "replication", "master_repl_offset"));
  await waitFor(`${bytes} more bytes of stream`, async () => Number(await info(master, "replication", "master_repl_offset")) >= from + bytes);
}

/** A raw reply with its contents blanked: the types and lengths of aggregates stay. */
function shapeOf(reply: string): string {
  return reply.replace(/\$\d+\r\n[^\r]*\r\n/g, "$\r\n").replace(/:-?\d+\r\n/g, ":\r\n");
}

async function timed(conn: RespConn, ...args: string[]): Promise<[string, number]> {
  const started = performance.now();
  const reply = await conn.call(...args);
  return [reply, performance.now() - started];
}

// The topology the tests build on: redbun master M with redbun replicas A and B; later a
// chained redbun replica C and a Redis replica R under A. Redis master RM with its replicas
// RA and RB gives the replies to compare with.
let M: Node;
let A: Node;
let B: Node;
let RM: Node;
let RA: Node;
let RB: Node;

beforeAll(async () => {
  // A backlog large enough for everything the tests write, so that a replica restarted from
  // its first RDB can still continue (the full-resync test shrinks it).
  [M, A, B, RM, RA, RB] = await Promise.all([
    startNode("redbun", ["--repl-backlog-size", "32mb"]),
    startNode("redbun"),
    startNode("redbun"),
    startNode("redis"),
    startNode("redis"),
    startNode("redis"),
  ]);
});

afterAll(async () => {
  for (const n of nodes) n.conn.close();
  await Promise.all(nodes.map((n) => n.proc.stop()));
  if (process.env.KEEP === undefined) for (const d of dirs) rmSync(d, { recursive: true, force: true });
  else console.error(`server dirs kept: ${dirs.join(" ")}`);
});

test("two redbun replicas attach to a redbun master under a write load", async () => {
  await buildDataset(M.conn);
  const bench = Bun.spawn(["redis-benchmark", "-p", String(M.proc.port), "-t", "set,lpush,incr", "-n", "100000", "-r", "300", "-P", "16", "-q"], {
    stdout: "pipe",
    stderr: "pipe",
  });
  // The replicas attach once the load is under way, and sync while it goes on.
  await waitFor("the benchmark to start writing", async () => (await M.conn.call("EXISTS", "mylist")) === ":1\r\n", 5000);
  await Promise.all([replicaOf(A, M), replicaOf(B, M)]);
  const attachedDuringLoad = bench.exitCode === null;
  expect(await bench.exited).toBe(0);
  expect(attachedDuringLoad).toBe(true);

  await Promise.all([waitCaughtUp(M.conn, A.conn), waitCaughtUp(M.conn, B.conn)]);
  await expectSameData(M.conn, A.conn);
  await expectSameData(M.conn, B.conn);
  expect(await A.conn.call("LLEN", "mylist")).toBe(await M.conn.call("LLEN", "mylist"));
  // Each replica's ACK (once a second) reaches the master's whole stream.
  await waitAcked(M, [A, B]);
  expect(await info(M, "stats", "sync_full")).toBe("2");
  expect(await info(A, "replication", "master_replid")).toBe(await info(M, "replication", "master_replid"));
}, 20000);

test("min-replicas-to-write refuses writes without enough good replicas, as Redis does", async () => {
  // Compared with Redis: WAIT on a master without replicas waits out its timeout and says 0.
  const [M2, S1] = await Promise.all([startNode("redbun"), startNode("redbun")]);
  for (const master of [M2, RM]) {
    const [reply, elapsedMs] = await timed(master.conn, "WAIT", "1", "100");
    expect(`${master.kind} ${reply}`).toBe(`${master.kind} :0\r\n`);
    expect(elapsedMs).toBeGreaterThanOrEqual(99);
    expect(await master.conn.call("WAIT", "0", "0")).toBe(":0\r\n");
    // numreplicas is a long: more replicas than an int holds are only waited for.
    expect(`${master.kind} ${await master.conn.call("WAIT", "99999999999", "1")}`).toBe(`${master.kind} :0\r\n`);
  }

  await Promise.all([replicaOf(S1, M2), replicaOf(RA, RM)]);
  await Promise.all([waitAcked(M2, [S1]), waitAcked(RM, [RA])]);
  for (const master of [M2, RM]) {
    expect(await master.conn.call("SET", "before", "1")).toBe("+OK\r\n");
    expect(await master.conn.call("CONFIG", "SET", "min-replicas-to-write", "2", "min-replicas-max-lag", "10")).toBe("+OK\r\n");
  }
  const refusals = [await RM.conn.call("SET", "k", "v"), await M2.conn.call("SET", "k", "v")];
  expect(refusals[1]).toBe(refusals[0]!);
  expect(refusals[1]).toBe("-NOREPLICAS Not enough good replicas to write.\r\n");
  // Reads go on; the refused write did not happen.
  expect(await M2.conn.call("GET", "before")).toBe("$1\r\n1\r\n");
  expect(await M2.conn.call("EXISTS", "k")).toBe(":0\r\n");
  // A write queued in a transaction is refused as it is queued, and the EXEC aborts.
  for (const cmd of [["MULTI"], ["INCR", "before"], ["EXEC"]]) expect(await M2.conn.call(...cmd)).toBe(await RM.conn.call(...cmd));
  expect(await info(M2, "replication", "min_slaves_good_slaves")).toBe("1");
  expect(await info(RM, "replication", "min_slaves_good_slaves")).toBe("1");

  // A second replica: enough good ones, writes go through.
  const S2 = await startNode("redbun", replicaofArgs(M2));
  await replicaOf(RB, RM);
  await Promise.all([waitAcked(M2, [S1, S2]), waitAcked(RM, [RA, RB])]);
  expect(await M2.conn.call("SET", "k", "v")).toBe("+OK\r\n");
  expect(await RM.conn.call("SET", "k", "v")).toBe("+OK\r\n");
  expect(await info(M2, "replication", "min_slaves_good_slaves")).toBe("2");
  await waitCaughtUp(M2.conn, S2.conn);
  expect(await S2.conn.call("GET", "k")).toBe("$1\r\nv\r\n");
  // Off again for the tests that follow.
  expect(await RM.conn.call("CONFIG", "SET", "min-replicas-to-write", "0")).toBe("+OK\r\n");

  // A replica whose last ACK is older than min-replicas-max-lag seconds is not a good one.
  expect(await M2.conn.call("CONFIG", "SET", "min-replicas-max-lag", "1")).toBe("+OK\r\n");
  process.kill(S2.proc.proc.pid, "SIGSTOP");
  try {
    await waitFor("S2 to lag", async () => (await info(M2, "replication", "min_slaves_good_slaves")) === "1", 4000);
    expect(await M2.conn.call("SET", "k", "lagging")).toBe("-NOREPLICAS Not enough good replicas to write.\r\n");
  } finally {
    process.kill(S2.proc.proc.pid, "SIGCONT");
  }
  await waitFor("S2 to acknowledge again", async () => (await info(M2, "replication", "min_slaves_good_slaves")) === "2", 3000);
  expect(await M2.conn.call("SET", "k", "again")).toBe("+OK\r\n");
}, 20000);

test("ROLE of a master with two replicas has Redis's shape", async () => {
  await Promise.all([waitAcked(M, [A, B]), waitAcked(RM, [RA, RB])]);
  const [redisRole, redbunRole] = [await RM.conn.call("ROLE"), await M.conn.call("ROLE")];
  expect(shapeOf(redbunRole)).toBe(shapeOf(redisRole));
  const offset = Number(await info(M, "replication", "master_repl_offset"));
  const ports = [A.proc.port, B.proc.port].sort((a, b) => a - b);
  const role = decodeReply(redbunRole) as [string, number, [string, string, string][]];
  expect(role[0]).toBe("master");
  expect(role[1]).toBe(offset);
  expect(role[2].sort((x, y) => Number(x[1]) - Number(y[1]))).toEqual(ports.map((p) => ["127.0.0.1", String(p), String(offset)]));

  // And of a replica: master, its address, the link's state, the offset applied.
  const replicaRole = await A.conn.call("ROLE");
  expect(shapeOf(replicaRole)).toBe(shapeOf(await RA.conn.call("ROLE")));
  expect(decodeReply(replicaRole)).toEqual(["slave", "127.0.0.1", M.proc.port, "connected", offset]);
});

test("WAIT counts the replicas that acknowledged the client's writes", async () => {
  await waitAcked(M, [A, B]);
  const [c, rc] = await Promise.all([RespConn.connect(M.proc.port), RespConn.connect(RM.proc.port)]);
  try {
    // A client that wrote nothing is covered by every replica, at once.
    for (const [conn, name] of [[c, "redbun"], [rc, "redis"]] as const) {
      const [reply, elapsedMs] = await timed(conn, "WAIT", "0", "0");
      expect(`${name} ${reply}`).toBe(`${name} :2\r\n`);
      expect(elapsedMs).toBeLessThan(100);
    }

    expect(await c.call("SET", "waited", "1")).toBe("+OK\r\n");
    let [reply, elapsedMs] = await timed(c, "WAIT", "2", "1000");
    expect(reply).toBe(":2\r\n");
    expect(elapsedMs).toBeLessThan(500);

    expect(await c.call("SET", "waited", "2")).toBe("+OK\r\n");
    [reply, elapsedMs] = await timed(c, "WAIT", "3", "200");
    expect(reply).toBe(":2\r\n");
    expect(elapsedMs).toBeGreaterThanOrEqual(199);
    expect(elapsedMs).toBeLessThan(1000);

    // Inside a transaction WAIT cannot block: it answers at once, as Redis does.
    for (const [conn, name] of [[rc, "redis"], [c, "redbun"]] as const) {
      expect(await conn.call("MULTI")).toBe("+OK\r\n");
      expect(await conn.call("SET", "waited", "3")).toBe("+QUEUED\r\n");
      expect(await conn.call("WAIT", "3", "5000")).toBe("+QUEUED\r\n");
      [reply, elapsedMs] = await timed(conn, "EXEC");
      expect(`${name} ${reply}`).toMatch(/^\S+ \*2\r\n\+OK\r\n:[0-2]\r\n$/);
      expect(elapsedMs).toBeLessThan(1000);
    }

    // A stopped replica keeps its connection but acknowledges nothing.
    process.kill(B.proc.proc.pid, "SIGSTOP");
    try {
      expect(await c.call("SET", "waited", "4")).toBe("+OK\r\n");
      [reply, elapsedMs] = await timed(c, "WAIT", "2", "300");
      expect(reply).toBe(":1\r\n");
      expect(elapsedMs).toBeGreaterThanOrEqual(299);
    } finally {
      process.kill(B.proc.proc.pid, "SIGCONT");
    }
    await waitCaughtUp(M.conn, B.conn);
    expect(await B.conn.call("GET", "waited")).toBe("$1\r\n4\r\n");

    // Bad arguments give Redis's errors; a replica refuses WAIT with Redis's words.
    for (const args of [["x", "0"], ["1", "-1"], ["1", "x"], ["1", "99999999999999999999"]]) {
      expect(await c.call("WAIT", ...args)).toBe(await rc.call("WAIT", ...args));
    }
    expect(await A.conn.call("WAIT", "1", "0")).toBe(await RA.conn.call("WAIT", "1", "0"));
  } finally {
    c.close();
    rc.close();
  }
}, 15000);

let C: Node;
let R: Node;

test("a chain: a redbun replica and a Redis replica of a redbun replica", async () => {
  C = await startNode("redbun", replicaofArgs(A));
  await waitLinkUp(C);
  expect(await info(C, "replication", "master_host")).toBe("127.0.0.1");
  expect(await info(C, "replication", "master_port")).toBe(String(A.proc.port));
  expect(await info(A, "replication", "connected_slaves")).toBe("1");
  expect(await info(M, "replication", "connected_slaves")).toBe("2");

  // Writes on M go through A to C, in every database, transactions included.
  await M.conn.call("SET", "chained", "1");
  await M.conn.call("SELECT", "2");
  await M.conn.call("MULTI");
  await M.conn.call("LPUSH", "chained:list", "a", "b");
  await M.conn.call("INCR", "chained:counter");
  expect(await M.conn.call("EXEC")).toBe("*2\r\n:2\r\n:1\r\n");
  await M.conn.call("SELECT", "0");
  await waitCaughtUp(M.conn, C.conn);
  expect(await C.conn.call("GET", "chained")).toBe("$1\r\n1\r\n");
  await expectSameData(M.conn, A.conn);
  await expectSameData(M.conn, C.conn);
  // The chain carries M's history: one ID, one offset all along.
  expect(await info(C, "replication", "master_replid")).toBe(await info(M, "replication", "master_replid"));

  R = await startNode("redis", replicaofArgs(A));
  await waitLinkUp(R);
  await M.conn.call("HSET", "chained:hash", "f", "v");
  await waitCaughtUp(M.conn, R.conn);
  await waitCaughtUp(M.conn, C.conn);
  await expectSameData(M.conn, R.conn);
  expect(await info(R, "replication", "master_replid")).toBe(await info(M, "replication", "master_replid"));
  await waitAcked(A, [C, R]);
}, 20000);

/**
 * kill -9 of replica B while a write load runs on M, and B started again with the same dir
 * and --replicaof once `whileDown` is done; returns when B holds M's data again.
 */
async function restartReplicaUnderLoad(whileDown: () => Promise<void>): Promise<void> {
  const load = new WriteLoad(M.proc.port);
  try {
    await waitStreamGrowth(M, 20000);
    await killAndRestart(B, replicaofArgs(M), async () => {
      await waitFor("M to drop B", async () => (await info(M, "replication", "connected_slaves")) === "1");
      await whileDown();
    });
    await waitLinkUp(B);
    await waitStreamGrowth(M, 20000);
  } finally {
    await load.stop();
  }
  await waitCaughtUp(M.conn, B.conn);
  await expectSameData(M.conn, B.conn);
}

test("a replica killed under load continues from the backlog, or resyncs in full when it cannot", async () => {
  const syncs = async () => [Number(await info(M, "stats", "sync_partial_ok")), Number(await info(M, "stats", "sync_full"))];
  const [partialBefore, fullBefore] = await syncs();
  // The RDB B restarts from is the one of its first sync: the 32 MB backlog still holds
  // everything since.
  await restartReplicaUnderLoad(() => waitStreamGrowth(M, 50000));
  expect(await syncs()).toEqual([partialBefore + 1, fullBefore]);

  // A backlog of 16 KB cannot hold what was written while B was down.
  expect(await M.conn.call("CONFIG", "SET", "repl-backlog-size", "16kb")).toBe("+OK\r\n");
  await restartReplicaUnderLoad(async () => {
    for (let i = 0; i < 40; i++) await M.conn.call("SET", `big:${i}`, noise(1024, i + 1));
  });
  expect(await syncs()).toEqual([partialBefore + 1, fullBefore + 1]);
  await waitAcked(M, [A, B]);
}, 25000);

test("a promoted replica: the others follow it with a partial resync, the old master in full", async () => {
  const oldId = (await info(M, "replication", "master_replid"))!;
  const offset = Number(await info(M, "replication", "master_repl_offset"));
  for (const r of [A, B, C, R]) await waitCaughtUp(M.conn, r.conn);
  const stat = async (field: string) => Number(await info(A, "stats", field));
  const [partialBefore, fullBefore] = [await stat("sync_partial_ok"), await stat("sync_full")];

  expect(await A.conn.call("REPLICAOF", "NO", "ONE")).toBe("+OK\r\n");
  const promoted = await A.conn.call("INFO", "replication");
  const newId = infoField(promoted, "master_replid")!;
  expect(infoField(promoted, "role")).toBe("master");
  expect(newId).not.toBe(oldId);
  expect(infoField(promoted, "master_replid2")).toBe(oldId);
  expect(infoField(promoted, "second_repl_offset")).toBe(String(offset + 1));

  // B, and A's own replicas C and R (dropped to learn the new ID), continue from A's backlog.
  await replicaOf(B, A);
  for (const r of [B, C, R]) await waitLinkUp(r);
  await waitAcked(A, [B, C, R], 8000);
  expect([await stat("sync_partial_ok"), await stat("sync_full")]).toEqual([partialBefore + 3, fullBefore]);
  for (const r of [B, C, R]) {
    const replicaInfo = await r.conn.call("INFO", "replication");
    expect(`${r.kind} ${infoField(replicaInfo, "master_replid")}`).toBe(`${r.kind} ${newId}`);
    expect(`${r.kind} ${infoField(replicaInfo, "master_replid2")}`).toBe(`${r.kind} ${oldId}`);
  }
  expect(await info(B, "replication", "master_port")).toBe(String(A.proc.port));

  expect(await A.conn.call("SET", "promoted", "1")).toBe("+OK\r\n");
  await A.conn.call("LPUSH", "mylist", "after-promotion");
  for (const r of [B, C, R]) await waitCaughtUp(A.conn, r.conn);
  expect(await B.conn.call("GET", "promoted")).toBe("$1\r\n1\r\n");
  await expectSameData(A.conn, B.conn);

  // The old master wrote nothing since A took over: A's backlog holds its history up to
  // second_repl_offset, so it continues from there with what A wrote meanwhile.
  await replicaOf(M, A);
  await waitLinkUp(M);
  await waitCaughtUp(A.conn, M.conn);
  expect([await stat("sync_partial_ok"), await stat("sync_full")]).toEqual([partialBefore + 4, fullBefore]);
  expect(await M.conn.call("GET", "promoted")).toBe("$1\r\n1\r\n");
  expect(await info(M, "replication", "master_replid")).toBe(newId);
  await expectSameData(A.conn, M.conn);

  // A master again, M writes: its history left A's, so following A again takes a full
  // resync, which loses that write.
  expect(await M.conn.call("REPLICAOF", "NO", "ONE")).toBe("+OK\r\n");
  expect(await M.conn.call("SET", "diverged", "1")).toBe("+OK\r\n");
  await replicaOf(M, A);
  await waitLinkUp(M);
  await waitCaughtUp(A.conn, M.conn);
  expect([await stat("sync_partial_ok"), await stat("sync_full")]).toEqual([partialBefore + 4, fullBefore + 1]);
  expect(await M.conn.call("EXISTS", "diverged")).toBe(":0\r\n");
  await expectSameData(A.conn, M.conn);
  await expectSameData(A.conn, R.conn);
}, 25000);
