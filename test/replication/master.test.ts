// redbun as a master: a real Redis 7.0 replica syncs from it in full, follows its writes,
// continues from the backlog after a lost link, and ends with the same data. Full syncs
// run in the background, diskless or through dump.rdb, while writes go on.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RespConn, encodeCommand, startRedbun, startRedis, type ServerProcess } from "../oracle/harness.ts";
import { buildDataset, bytes, expectSameData } from "../persistence/dataset.ts";
import { infoField, waitCaughtUp, waitFor } from "./helpers.ts";

const DEBUG = ["--enable-debug-command", "yes"];
/** A diskless sync starts at once rather than after Redis's 5 s wait for more replicas. */
const NO_SYNC_DELAY = ["--repl-diskless-sync-delay", "0"];

let master: ServerProcess;
let replica: ServerProcess | null = null;
let m: RespConn;
// A replica stores the RDB it receives in its dir: a dir of its own, or it would leave a
// dump.rdb behind where other tests' servers start.
const replicaDir = mkdtempSync(join(tmpdir(), "redbun-replica-"));
const masterDir = mkdtempSync(join(tmpdir(), "redbun-master-"));

beforeAll(async () => {
  master = await startRedbun(["--dir", masterDir, ...NO_SYNC_DELAY, ...DEBUG]);
  m = await RespConn.connect(master.port);
  await buildDataset(m);
});

afterAll(async () => {
  m.close();
  await replica?.stop();
  await master.stop();
  for (const dir of [replicaDir, masterDir]) rmSync(dir, { recursive: true, force: true });
});

test("a Redis replica syncs in full, then follows the stream", async () => {
  replica = await startRedis(["--replicaof", "127.0.0.1", String(master.port), "--dir", replicaDir, ...DEBUG]);
  const r = await RespConn.connect(replica.port);
  try {
    await waitFor("master_link_status:up", async () => (await r.call("INFO", "replication")).includes("master_link_status:up"));
    await waitCaughtUp(m, r);
    await expectSameData(m, r);

    const info = await m.call("INFO", "replication");
    expect(info).toContain("role:master");
    expect(infoField(info, "connected_slaves")).toBe("1");
    expect(info).toMatch(new RegExp(`slave0:ip=127\\.0\\.0\\.1,port=${replica.port},state=online,offset=\\d+,lag=\\d+`));
    expect(await m.call("CLIENT", "LIST", "TYPE", "replica")).toMatch(/flags=S /);

    // Writes of every kind: transactions, expiry, other databases, binary keys.
    await m.call("SET", "after", "1");
    await m.call("MULTI");
    await m.call("INCR", "after");
    await m.call("LPUSH", "list:new", "a", "b", "c");
    await m.call("HSET", "hash:new", "f", "v");
    expect(await m.call("EXEC")).toBe("*3\r\n:2\r\n:3\r\n:1\r\n");
    await m.call("SET", "expiring", "v", "PX", "50");
    await m.call("SET", "kept", "v", "EX", "1000");
    await m.call("SELECT", "1");
    await m.call("SET", bytes("bin\x00\xffkey"), bytes("\r\n\x00"));
    await m.call("DEL", "str:embstr");
    await m.call("SELECT", "2");
    await m.call("ZADD", "zset:new", "1", "a", "2", "b");
    await m.call("SELECT", "0");
    await m.call("DEL", "str:int");
    await Bun.sleep(80);
    // The expired key is deleted on access; the DEL goes to the replica too.
    expect(await m.call("GET", "expiring")).toBe("$-1\r\n");
    await waitCaughtUp(m, r);
    await expectSameData(m, r);
    expect(await r.call("EXISTS", "expiring")).toBe(":0\r\n");

    // The replica acknowledges what it processed (REPLCONF ACK, once a second).
    const sent = infoField(await m.call("INFO", "replication"), "master_repl_offset");
    await waitFor("the replica's ACK", async () => (await m.call("INFO", "replication")).includes(`,offset=${sent},`), 3000);

    // A silent stream still carries a PING every repl-ping-replica-period seconds.
    expect(await m.call("CONFIG", "SET", "repl-ping-replica-period", "1")).toBe("+OK\r\n");
    const before = Number(sent);
    await waitFor("a PING in the stream", async () => Number(infoField(await m.call("INFO", "replication"), "master_repl_offset")) >= before + 14, 3000);
    await waitCaughtUp(m, r);

    // A replica that lost its link continues from the backlog, with what came meanwhile.
    expect(infoField(await m.call("INFO", "stats"), "sync_partial_ok")).toBe("0");
    expect(await m.call("CLIENT", "KILL", "TYPE", "replica")).toBe(":1\r\n");
    await m.call("SET", "while-away", "1");
    await waitFor("the replica to attach again", async () => (await m.call("INFO", "replication")).includes("connected_slaves:1"));
    await waitCaughtUp(m, r);
    await expectSameData(m, r);
    const stats = await m.call("INFO", "stats");
    expect(infoField(stats, "sync_partial_ok")).toBe("1");
    expect(infoField(stats, "sync_full")).toBe("1");
  } finally {
    r.close();
  }
}, 20000);

test("REPLCONF answers as Redis does", async () => {
  const c = await RespConn.connect(master.port);
  try {
    expect(await c.call("REPLCONF", "listening-port", "6380", "capa", "eof", "capa", "psync2")).toBe("+OK\r\n");
    expect(await c.call("REPLCONF", "foo")).toBe("-ERR syntax error\r\n");
    expect(await c.call("REPLCONF", "foo", "1")).toBe("-ERR Unrecognized REPLCONF option: foo\r\n");
    expect(await c.call("REPLCONF", "listening-port", "x")).toBe("-ERR value is not an integer or out of range\r\n");
    expect(await c.call("REPLCONF", "rdb-only", "2")).toBe("-ERR value is out of range, value must between 0 and 1\r\n");
    // ACK and GETACK have no reply: the PING after them answers first.
    c.write(encodeCommand(["REPLCONF", "ACK", "5"]));
    c.write(encodeCommand(["REPLCONF", "GETACK", "*"]));
    expect(await c.call("PING")).toBe("+PONG\r\n");
  } finally {
    c.close();
  }
});

// ---------------------------------------------------------------------------------------
// Full syncs in the background
// ---------------------------------------------------------------------------------------

/** A server of these tests: its process, a connection, its dir (with its log). */
interface Node {
  proc: ServerProcess;
  conn: RespConn;
  dir: string;
}

const nodes: Node[] = [];

afterAll(async () => {
  for (const node of nodes) {
    node.conn.close();
    await node.proc.stop();
    rmSync(node.dir, { recursive: true, force: true });
  }
});

async function startNode(kind: "redbun" | "redis", args: string[]): Promise<Node> {
  const dir = mkdtempSync(join(tmpdir(), `redbun-fullsync-${kind}-`));
  const all = ["--dir", dir, "--logfile", join(dir, "server.log"), ...DEBUG, ...args];
  const proc = kind === "redbun" ? await startRedbun(all) : await startRedis(all);
  const node = { proc, conn: await RespConn.connect(proc.port), dir };
  nodes.push(node);
  return node;
}

function replicaOf(master: Node): Promise<Node> {
  return startNode("redis", ["--replicaof", "127.0.0.1", String(master.proc.port)]);
}

function logOf(node: Node): string {
  return readFileSync(join(node.dir, "server.log"), "latin1");
}

function count(text: string, what: string): number {
  return text.split(what).length - 1;
}

/** `n` string keys key:0 ... in pipelined MSETs: a dataset whose RDB takes a while to write. */
async function populate(conn: RespConn, n: number): Promise<void> {
  const perCommand = 1000;
  for (let first = 0; first < n; first += perCommand) {
    const args = ["MSET"];
    for (let i = first; i < first + perCommand; i++) args.push(`key:${i}`, `value:${i}`);
    conn.write(encodeCommand(args));
  }
  await conn.readReplies(n / perCommand);
}

/**
 * Writes of every kind, in two databases, until stop() — many to keys the save has not
 * written yet (it writes them first, as they were) — and how many rounds ran.
 */
function writeLoad(master: Node): { stop: () => Promise<number> } {
  let running = true;
  let rounds = 0;
  let failure: unknown = null;
  const loop = (async () => {
    const c = await RespConn.connect(master.proc.port);
    try {
      while (running) {
        const i = rounds++;
        const batch = [
          ["SET", `key:${199999 - i}`, `changed:${i}`],
          ["DEL", `key:${150000 - i}`],
          ["INCR", "counter"],
          ["HSET", "hash", `f${i % 50}`, String(i)],
          ["RPUSH", "list", String(i)],
          ["EXPIRE", `key:${100000 + i}`, "1000"],
          ["SELECT", "1"],
          ["SET", `db1:${i}`, String(i)],
          ["SELECT", "0"],
        ];
        for (const cmd of batch) c.write(encodeCommand(cmd));
        await c.readReplies(batch.length);
      }
    } catch (e) {
      // Kept for stop(): a test that failed earlier never calls it.
      failure = e;
    } finally {
      c.close();
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      if (failure !== null) throw failure;
      return rounds;
    },
  };
}

/** The slaveN states of a master's INFO replication. */
async function replicaStates(master: Node): Promise<string[]> {
  const info = await master.conn.call("INFO", "replication");
  return [...info.matchAll(/^slave\d+:.*,state=(\w+),/gm)].map((m) => m[1]!);
}

async function expectSameDigest(master: Node, replica: Node): Promise<void> {
  await waitCaughtUp(master.conn, replica.conn);
  expect(await replica.conn.call("DEBUG", "DIGEST")).toBe(await master.conn.call("DEBUG", "DIGEST"));
}

test("diskless: two replicas share one transfer of 200k keys while writes go on", async () => {
  // The save waits for the second replica (max-replicas 2); each key takes 5 us to save.
  const m = await startNode("redbun", ["--repl-diskless-sync-delay", "60", "--repl-diskless-sync-max-replicas", "2", "--rdb-key-save-delay", "5"]);
  await populate(m.conn, 200000);
  await buildDataset(m.conn);
  const load = writeLoad(m);
  const [r1, r2] = await Promise.all([replicaOf(m), replicaOf(m)]);
  await waitFor("both replicas in wait_bgsave", async () => (await replicaStates(m)).join() === "wait_bgsave,wait_bgsave");
  // ROLE lists online replicas only.
  expect(await m.conn.call("ROLE")).toMatch(/^\*3\r\n\$6\r\nmaster\r\n:\d+\r\n\*0\r\n$/);
  // The cron starts the save within a second, the states staying wait_bgsave.
  await waitFor("the transfer", async () => infoField(await m.conn.call("INFO", "persistence"), "rdb_bgsave_in_progress") === "1");
  expect(await replicaStates(m)).toEqual(["wait_bgsave", "wait_bgsave"]);
  await waitFor("both replicas online", async () => (await replicaStates(m)).join() === "online,online", 15000);
  expect(await load.stop()).toBeGreaterThan(10);
  await expectSameDigest(m, r1);
  await expectSameDigest(m, r2);
  expect(await r1.conn.call("DBSIZE")).toBe(await m.conn.call("DBSIZE"));

  const log = logOf(m);
  expect(count(log, "Starting BGSAVE for SYNC with target: replicas sockets")).toBe(1);
  expect(count(log, `Background RDB transfer started by pid `)).toBe(1);
  expect(count(log, "Background RDB transfer terminated with success")).toBe(1);
  for (const r of [r1, r2]) {
    expect(log).toContain(`Streamed RDB transfer with replica 127.0.0.1:${r.proc.port} succeeded (socket). Waiting for REPLCONF ACK from slave to enable streaming`);
    expect(log).toContain(`Synchronization with replica 127.0.0.1:${r.proc.port} succeeded`);
  }
  expect(infoField(await m.conn.call("INFO", "stats"), "sync_full")).toBe("2");
  // Nothing went through the disk.
  expect(existsSync(join(m.dir, "dump.rdb"))).toBe(false);
}, 20000);

test("disk-based: a replica waits out a BGSAVE it cannot share, the next shares the replicas' save", async () => {
  const m = await startNode("redbun", ["--repl-diskless-sync", "no", ...NO_SYNC_DELAY, "--rdb-key-save-delay", "5"]);
  await populate(m.conn, 200000);
  await buildDataset(m.conn);
  const load = writeLoad(m);
  // A BGSAVE of its own started before the replica came: its stream was not kept from there.
  expect(await m.conn.call("BGSAVE")).toBe("+Background saving started\r\n");
  const r1 = await replicaOf(m);
  await waitFor("the replica in wait_bgsave", async () => (await replicaStates(m)).join() === "wait_bgsave");
  expect(logOf(m)).toContain("Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC");
  await waitFor("the save for the replica", async () => logOf(m).includes("Starting BGSAVE for SYNC with target: disk"), 10000);
  // This one comes while the replicas' save runs: it shares it.
  const r2 = await replicaOf(m);
  await waitFor("both replicas online", async () => (await replicaStates(m)).join() === "online,online", 15000);
  await load.stop();
  await expectSameDigest(m, r1);
  await expectSameDigest(m, r2);

  const log = logOf(m);
  expect(log).toContain("Waiting for end of BGSAVE for SYNC");
  expect(count(log, "Starting BGSAVE for SYNC with target: disk")).toBe(1);
  expect(count(log, "Background saving started by pid")).toBe(2);
  for (const r of [r1, r2]) expect(log).toContain(`Synchronization with replica 127.0.0.1:${r.proc.port} succeeded`);
  expect(existsSync(join(m.dir, "dump.rdb"))).toBe(true);
}, 20000);

/** Reads what a replica reads up to and including the first line starting with `prefix`. */
async function readLineStarting(c: RespConn, prefix: string): Promise<{ skipped: string; line: string }> {
  let skipped = "";
  for (;;) {
    let line = "";
    while (!line.endsWith("\n")) line += Buffer.from(await c.readBytes(1, 5000)).toString("latin1");
    if (line.startsWith(prefix)) return { skipped, line };
    skipped += line;
  }
}

/** A replica by hand: the handshake of a Redis 7.0 replica, then PSYNC. */
async function fakeReplica(master: Node): Promise<RespConn> {
  const c = await RespConn.connect(master.proc.port);
  expect(await c.call("REPLCONF", "listening-port", "1", "capa", "eof", "capa", "psync2")).toBe("+OK\r\n");
  c.write(encodeCommand(["PSYNC", "?", "-1"]));
  return c;
}

/** Reads an EOF-framed RDB: the mark line, the file, the mark again. */
async function readEofRdb(c: RespConn): Promise<Uint8Array> {
  const { line } = await readLineStarting(c, "$EOF:");
  expect(line).toMatch(/^\$EOF:[0-9a-f]{40}\r\n$/);
  const mark = line.slice(5, 45);
  let rdb = "";
  while (!rdb.endsWith(mark)) rdb += Buffer.from(await c.readBytes(1, 5000)).toString("latin1");
  expect(rdb.startsWith("REDIS0010")).toBe(true);
  return Buffer.from(rdb.slice(0, -40), "latin1");
}

test("diskless framing: $EOF: mark, newlines while waiting, the stream only after the ACK; a replica over its output limit is dropped", async () => {
  const m = await startNode("redbun", ["--repl-diskless-sync-delay", "1"]);
  await m.conn.call("SET", "before", "1");

  // Waiting out repl-diskless-sync-delay, the replica gets a newline every second.
  const a = await fakeReplica(m);
  const { skipped, line } = await readLineStarting(a, "+FULLRESYNC");
  expect(skipped).toMatch(/^\n+$/);
  const [, replId, offset = ""] = line.trim().split(" ");
  expect(replId).toBe(infoField(await m.conn.call("INFO", "replication"), "master_replid")!);
  await readEofRdb(a);
  expect(await replicaStates(m)).toEqual(["online"]);

  // The stream waits for the replica's first ACK: it cannot tell where the RDB ended.
  await m.conn.call("SET", "after", "2");
  await Bun.sleep(100);
  expect(a.bufferedBytes).toBe(0);
  a.write(encodeCommand(["REPLCONF", "ACK", offset]));
  const select = "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n";
  const set = "*3\r\n$3\r\nSET\r\n$5\r\nafter\r\n$1\r\n2\r\n";
  expect(Buffer.from(await a.readBytes(select.length + set.length)).toString("latin1")).toBe(select + set);

  // A replica that never acknowledges keeps its stream held: past the hard limit it goes.
  expect(await m.conn.call("CONFIG", "SET", "repl-diskless-sync-delay", "0")).toBe("+OK\r\n");
  expect(await m.conn.call("CONFIG", "SET", "client-output-buffer-limit", "replica 64kb 0 0")).toBe("+OK\r\n");
  expect(await m.conn.call("CONFIG", "SET", "repl-backlog-size", "16kb")).toBe("+OK\r\n");
  const b = await fakeReplica(m);
  await readEofRdb(b);
  // Rounds of 25 kB: the replica that reads never holds 64 kB; the other holds it all.
  const value = "x".repeat(1000);
  for (let round = 0; round < 4; round++) {
    for (let i = round * 25; i < (round + 1) * 25; i++) m.conn.write(encodeCommand(["SET", `big:${i}`, value]));
    await m.conn.readReplies(25);
  }
  await b.readUntilClosed(5000);
  expect(logOf(m)).toMatch(/Client id=\d+ addr=\S+ .*flags=S .* scheduled to be closed ASAP for overcoming of output buffer limits\./);
  expect(await replicaStates(m)).toEqual(["online"]);
  // The replica that follows the stream got all of it, in order, after a SELECT: a full
  // sync's point in time makes the stream select its database again.
  const sets = Array.from({ length: 100 }, (_, i) => encodeCommand(["SET", `big:${i}`, value]));
  const sent = Buffer.concat([Buffer.from(select, "latin1"), ...sets]);
  expect(Buffer.from(await a.readBytes(sent.length)).equals(sent)).toBe(true);
  a.close();
}, 10000);

test("an online replica silent for repl-timeout seconds is disconnected", async () => {
  const m = await startNode("redbun", ["--repl-diskless-sync-delay", "0", "--repl-timeout", "1"]);
  const silent = await fakeReplica(m);
  await readEofRdb(silent);
  const t0 = performance.now();
  await silent.readUntilClosed(5000);
  expect(performance.now() - t0).toBeGreaterThanOrEqual(900);
  expect(logOf(m)).toMatch(/Disconnecting timedout replica \(streaming sync\): 127\.0\.0\.1:\d+/);
  expect(await replicaStates(m)).toEqual([]);
}, 10000);
