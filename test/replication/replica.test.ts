// redbun as a replica of a real Redis 7.0 master, over loopback: full sync of every type and
// encoding, then the stream of writes; REPLICAOF at run time and promotion with REPLICAOF NO
// ONE; partial resynchronization after a lost link and after a kill -9 (from the RDB saved at
// full sync), full resynchronization when the backlog no longer covers the gap; and the
// replies a replica gives, compared byte for byte with a real Redis replica of the same master.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RespConn, encodeCommand, rng, startRedbun, startRedis, type ServerProcess } from "../oracle/harness.ts";
import { rawItems } from "../oracle/resp.ts";
import { buildDataset, bytes, expectSameData, noise } from "../persistence/dataset.ts";
import { infoField, waitCaughtUp, waitFor } from "./helpers.ts";

const DEBUG = ["--enable-debug-command", "yes"];

/** Every server gets a dir of its own: a replica saves the RDB it receives there. */
const dirs: string[] = [];
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "redbun-replica-test-"));
  dirs.push(dir);
  return dir;
}

/** Servers and connections to stop and close after the file, whatever failed. */
const servers = new Set<ServerProcess>();
const conns: RespConn[] = [];

async function connect(server: ServerProcess): Promise<RespConn> {
  const conn = await RespConn.connect(server.port);
  conns.push(conn);
  return conn;
}

async function stop(server: ServerProcess): Promise<void> {
  servers.delete(server);
  await server.stop();
}

/** A Redis master that starts syncing at once (diskless sync waits 5 s by default). */
async function startRedisMaster(extra: string[] = []): Promise<ServerProcess> {
  const server = await startRedis(["--dir", freshDir(), "--repl-diskless-sync-delay", "0", ...DEBUG, ...extra]);
  servers.add(server);
  return server;
}

interface Replica {
  server: ServerProcess;
  conn: RespConn;
  dir: string;
  logPath: string;
}

/** A redbun replica of `masterPort`, started with the replicaof directive and a log file. */
async function startRedbunReplica(masterPort: number, dir = freshDir()): Promise<Replica> {
  const logPath = join(dir, "redbun.log");
  const server = await startRedbun(["--dir", dir, "--logfile", logPath, "--replicaof", "127.0.0.1", String(masterPort), ...DEBUG]);
  servers.add(server);
  return { server, conn: await connect(server), dir, logPath };
}

async function startRedisReplica(masterPort: number): Promise<{ server: ServerProcess; conn: RespConn }> {
  const server = await startRedis(["--dir", freshDir(), "--replicaof", "127.0.0.1", String(masterPort), ...DEBUG]);
  servers.add(server);
  return { server, conn: await connect(server) };
}

async function stat(conn: RespConn, section: string, name: string): Promise<string> {
  const value = infoField(await conn.call("INFO", section), name);
  if (value === undefined) throw new Error(`INFO ${section} has no ${name}`);
  return value;
}

/** The field names of an INFO reply, in order. */
function infoFieldNames(info: string): string[] {
  return info
    .split("\r\n")
    .filter((line) => line.includes(":") && !line.startsWith("$"))
    .map((line) => line.slice(0, line.indexOf(":")));
}

/** The master's sync counters, to check which kind of sync a reconnection made. */
async function syncCounters(master: RespConn): Promise<{ full: number; partialOk: number }> {
  const info = await master.call("INFO", "stats");
  return { full: Number(infoField(info, "sync_full")), partialOk: Number(infoField(info, "sync_partial_ok")) };
}

/**
 * Mixed writes over every type, sent as one pipeline: strings (binary, integer, over 64 KB),
 * lists, hashes, sets and sorted sets, expiry set and removed, deletions, transactions,
 * scripts and database switches. Returns how many errors came back.
 *
 * A collection that shrinks keeps its big encoding on the master, but comes out of an RDB in
 * the small one (on a Redis replica too), so that the encodings of master and replica would
 * depend on when the replica synced. So the key families that lose elements stay within
 * their small (or big) encoding, and the families that cross the thresholds only grow.
 */
async function writeLoad(conn: RespConn, seed: number, count: number): Promise<number> {
  const random = rng(seed);
  const pick = (n: number): number => Math.floor(random() * n);
  const key = (prefix: string): string | Uint8Array => (pick(10) === 0 ? bytes(`\xff\x00${prefix}${pick(20)}`) : `${prefix}${pick(20)}`);
  const short = (): string | Uint8Array => {
    const roll = pick(10);
    if (roll < 2) return String(pick(100000) - 50000);
    if (roll < 3) return bytes(`\x00\xff\r\n${pick(1000)}`);
    return `v${pick(1000)}`;
  };
  const value = (): string | Uint8Array => (pick(100) === 0 ? noise(66000 + pick(5000), seed + count) : short());
  const anyKey = (): string | Uint8Array => key(["s:", "n:", "l:", "h:", "hg:", "st:", "sm:", "sg:", "z:", "zg:"][pick(10)]!);
  const makers: (() => (string | Uint8Array)[])[] = [
    () => ["SET", key("s:"), value()],
    () => ["SET", key("s:"), value(), "EX", String(1000 + pick(1000))],
    () => ["INCRBY", key("n:"), String(pick(100))],
    () => ["RPUSH", key("l:"), value(), value()],
    () => ["LPOP", key("l:")],
    // Listpack hashes, sets of integers (intset), sets of strings (hashtable), listpack zsets.
    () => ["HSET", key("h:"), `f${pick(60)}`, short()],
    () => ["HDEL", key("h:"), `f${pick(60)}`],
    () => ["SADD", key("st:"), String(pick(300))],
    () => ["SREM", key("st:"), String(pick(300))],
    () => ["SADD", key("sm:"), `m${pick(200)}`],
    () => ["SREM", key("sm:"), `m${pick(200)}`],
    () => ["ZADD", key("z:"), String(pick(1000) / 7), `m${pick(60)}`],
    () => ["ZREM", key("z:"), `m${pick(60)}`],
    // Growing only: past the entry counts, or with a long value or a string member.
    () => ["HSET", key("hg:"), `f${pick(300)}`, pick(50) === 0 ? "long".repeat(20) : value()],
    () => ["SADD", key("sg:"), pick(100) === 0 ? `m${pick(10)}` : String(pick(2000))],
    () => ["ZADD", key("zg:"), String(pick(1000) / 7), pick(50) === 0 ? "m".repeat(70) : `m${pick(300)}`],
    () => ["PEXPIRE", anyKey(), String(2000000 + pick(1000000))],
    () => ["PERSIST", anyKey()],
    () => ["DEL", anyKey()],
    () => ["SELECT", String(pick(3))],
    // Commands a master propagates in another form: HINCRBYFLOAT as HSET, SPOP as SREM,
    // ZPOPMIN as ZREM, GETEX as PEXPIREAT, a script as the MULTI/EXEC of its effects.
    // (INCRBYFLOAT leaves an embstr "3" on the master that becomes an int on any replica:
    // a test of its own below.)
    () => ["HINCRBYFLOAT", key("h:"), `g${pick(10)}`, "1.5"],
    () => ["SPOP", key("st:")],
    () => ["ZPOPMIN", key("z:")],
    () => ["GETEX", key("s:"), "EX", String(1000 + pick(1000))],
    () => ["SET", key("s:"), value(), "KEEPTTL"],
    () => ["EVAL", "redis.call('SET', KEYS[1], ARGV[1]) return redis.call('INCR', KEYS[2])", "2", key("s:"), key("n:"), value()],
  ];
  const commands: (string | Uint8Array)[][] = [];
  while (commands.length < count) {
    if (pick(20) === 0) {
      commands.push(["MULTI"], makers[pick(makers.length - 1)]!(), makers[pick(makers.length - 1)]!(), ["EXEC"]);
    } else {
      commands.push(makers[pick(makers.length)]!());
    }
  }
  commands.push(["SELECT", "0"]);
  for (const command of commands) conn.write(encodeCommand(command));
  let errors = 0;
  for (let i = 0; i < commands.length; i++) if ((await conn.read()).startsWith("-")) errors++;
  return errors;
}

let master: ServerProcess;
let m: RespConn;
let a: Replica;

beforeAll(async () => {
  master = await startRedisMaster();
  m = await connect(master);
  // A PING in the stream every 10 s would move offsets between two reads of them.
  expect(await m.call("CONFIG", "SET", "repl-ping-replica-period", "3600")).toBe("+OK\r\n");
  await buildDataset(m);
});

afterAll(async () => {
  for (const conn of conns) conn.close();
  await Promise.all([...servers].map((server) => server.stop()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

test("full sync of every type and encoding, then the stream of writes", async () => {
  // Writes keep coming while the replica connects and loads, so some reach it in the RDB
  // and the rest in the stream that follows.
  const writer = await connect(master);
  const starting = startRedbunReplica(master.port);
  let settled = false;
  const linkUp = starting
    .then((replica) => waitFor("master_link_status:up", async () => (await stat(replica.conn, "replication", "master_link_status")) === "up"))
    .finally(() => {
      settled = true;
    });
  for (let seed = 100; !settled; seed++) expect(await writeLoad(writer, seed, 50)).toBe(0);
  await linkUp;
  expect(await writeLoad(writer, 99, 50)).toBe(0);
  a = await starting;
  await waitCaughtUp(m, a.conn);
  await expectSameData(m, a.conn);
  expect(await a.conn.call("TYPE", bytes("key\xff\x00bin\r\n\x00\xff"))).toBe("+string\r\n");
  // Redis 7.0 masters sync diskless by default: the RDB comes as $EOF:<mark> ... <mark>.
  expect(readFileSync(a.logPath, "latin1")).toContain("receiving streamed RDB from master with EOF");

  // The master lists the replica under the port it announced with REPLCONF listening-port.
  expect(await m.call("INFO", "replication")).toMatch(new RegExp(`slave0:ip=127\\.0\\.0\\.1,port=${a.server.port},state=online,`));

  expect(await writeLoad(m, 1, 3000)).toBe(0);
  await waitCaughtUp(m, a.conn);
  await expectSameData(m, a.conn);
  // WAIT on the master sends REPLCONF GETACK; the replica's ACK carries its offset.
  expect(await m.call("WAIT", "1", "5000")).toBe(":1\r\n");
}, 15000);

test("REPLICAOF at run time replaces the data; REPLICAOF NO ONE promotes and keeps it", async () => {
  const dir = freshDir();
  const b = await startRedbun(["--dir", dir, ...DEBUG]);
  servers.add(b);
  const bc = await connect(b);
  expect(await bc.call("SET", "own", "1")).toBe("+OK\r\n");
  expect(await bc.call("HSET", "own:hash", "f", "v")).toBe(":1\r\n");

  expect(await bc.call("REPLICAOF", "127.0.0.1", String(master.port))).toBe("+OK\r\n");
  await waitCaughtUp(m, bc);
  expect(await bc.call("EXISTS", "own", "own:hash")).toBe(":0\r\n");
  await expectSameData(m, bc);
  expect(await bc.call("REPLICAOF", "127.0.0.1", String(master.port))).toBe("+OK Already connected to specified master\r\n");
  expect(await bc.call("SET", "x", "1")).toBe("-READONLY You can't write against a read only replica.\r\n");

  const before = await bc.call("INFO", "replication");
  const oldReplId = infoField(before, "master_replid")!;
  const oldOffset = Number(infoField(before, "master_repl_offset"));
  expect(oldReplId).toBe(await stat(m, "replication", "master_replid"));
  expect(await bc.call("REPLICAOF", "NO", "ONE")).toBe("+OK\r\n");

  const after = await bc.call("INFO", "replication");
  expect(infoField(after, "role")).toBe("master");
  expect(infoField(after, "master_replid2")).toBe(oldReplId);
  expect(infoField(after, "second_repl_offset")).toBe(String(oldOffset + 1));
  expect(infoField(after, "master_replid")).not.toBe(oldReplId);
  expect(await bc.call("ROLE")).toMatch(/^\*3\r\n\$6\r\nmaster\r\n:\d+\r\n\*0\r\n$/);
  await expectSameData(m, bc);
  expect(await bc.call("SET", "promoted", "yes")).toBe("+OK\r\n");
  expect(await bc.call("GET", "promoted")).toBe("$3\r\nyes\r\n");
  await stop(b);
  await waitFor("the master to drop the promoted replica", async () => (await stat(m, "replication", "connected_slaves")) === "1");
}, 10000);

test("a lost link continues from the master's backlog", async () => {
  const start = await syncCounters(m);

  // The master drops the replica; the writes meanwhile come from the backlog.
  expect(await m.call("CLIENT", "KILL", "TYPE", "replica")).toBe(":1\r\n");
  expect(await writeLoad(m, 2, 300)).toBe(0);
  await waitFor("a partial resync", async () => (await syncCounters(m)).partialOk === start.partialOk + 1);
  await waitCaughtUp(m, a.conn);
  await expectSameData(m, a.conn);

  // The replica drops its master.
  expect(await a.conn.call("CLIENT", "KILL", "TYPE", "master")).toBe(":1\r\n");
  expect(await writeLoad(m, 3, 300)).toBe(0);
  await waitFor("a second partial resync", async () => (await syncCounters(m)).partialOk === start.partialOk + 2);
  await waitCaughtUp(m, a.conn);
  await expectSameData(m, a.conn);

  // A silent master (its PINGs are an hour apart here) trips repl-timeout on the replica.
  expect(await a.conn.call("CONFIG", "SET", "repl-timeout", "1")).toBe("+OK\r\n");
  try {
    await waitFor("the replica's timeout", async () => readFileSync(a.logPath, "latin1").includes("MASTER timeout: no data nor PING received"), 5000);
  } finally {
    expect(await a.conn.call("CONFIG", "SET", "repl-timeout", "60")).toBe("+OK\r\n");
  }
  await waitFor("a third partial resync", async () => (await syncCounters(m)).partialOk === start.partialOk + 3);
  await waitCaughtUp(m, a.conn);
  await expectSameData(m, a.conn);
  expect((await syncCounters(m)).full).toBe(start.full);
}, 10000);

test("a replica killed with -9 continues from the RDB it saved, or syncs in full when the backlog lost the gap", async () => {
  let c = await startRedbunReplica(master.port);
  await waitCaughtUp(m, c.conn);
  expect(existsSync(join(c.dir, "dump.rdb"))).toBe(true);
  expect(await writeLoad(m, 4, 200)).toBe(0);
  await waitCaughtUp(m, c.conn);

  // (a) The backlog still holds everything since the offset in the saved RDB.
  const start = await syncCounters(m);
  await stop(c.server);
  expect(await writeLoad(m, 5, 200)).toBe(0);
  const logBefore = readFileSync(c.logPath, "latin1").length;
  c = await startRedbunReplica(master.port, c.dir);
  await waitCaughtUp(m, c.conn);
  await expectSameData(m, c.conn);
  expect(await syncCounters(m)).toEqual({ full: start.full, partialOk: start.partialOk + 1 });
  expect(readFileSync(c.logPath, "latin1").slice(logBefore)).toContain("Successful partial resynchronization");

  // (b) More than the backlog's 16 KB written while the replica is down. The master syncs
  // from disk this time, so the RDB comes as $<length>.
  expect(await m.call("CONFIG", "SET", "repl-backlog-size", "16kb")).toBe("+OK\r\n");
  expect(await m.call("CONFIG", "SET", "repl-diskless-sync", "no")).toBe("+OK\r\n");
  try {
    await stop(c.server);
    for (let i = 0; i < 40; i++) expect(await m.call("SET", `filler:${i}`, noise(2000, i))).toBe("+OK\r\n");
    c = await startRedbunReplica(master.port, c.dir);
    await waitCaughtUp(m, c.conn);
    await expectSameData(m, c.conn);
    expect(await syncCounters(m)).toEqual({ full: start.full + 1, partialOk: start.partialOk + 1 });
    expect(readFileSync(c.logPath, "latin1")).toMatch(/receiving \d+ bytes from master to disk/);
  } finally {
    await m.call("CONFIG", "SET", "repl-backlog-size", "1mb");
    await m.call("CONFIG", "SET", "repl-diskless-sync", "yes");
  }

  // (c) An RDB the replica saves itself records the master's stream database
  // (repl-stream-db): the master does not repeat its SELECT after a partial resync.
  expect(await m.call("SELECT", "1")).toBe("+OK\r\n");
  expect(await m.call("SET", "in:db1", "before")).toBe("+OK\r\n");
  await waitCaughtUp(m, c.conn);
  expect(await c.conn.call("SAVE")).toBe("+OK\r\n");
  await stop(c.server);
  expect(await m.call("SET", "in:db1:after", "while down")).toBe("+OK\r\n");
  expect(await m.call("SELECT", "0")).toBe("+OK\r\n");
  c = await startRedbunReplica(master.port, c.dir);
  await waitCaughtUp(m, c.conn);
  expect(await syncCounters(m)).toEqual({ full: start.full + 1, partialOk: start.partialOk + 2 });
  expect(await c.conn.call("EXISTS", "in:db1:after")).toBe(":0\r\n");
  await c.conn.call("SELECT", "1");
  expect(await c.conn.call("GET", "in:db1:after")).toBe("$10\r\nwhile down\r\n");
  await c.conn.call("SELECT", "0");
  await expectSameData(m, c.conn);
  await stop(c.server);
}, 15000);

test("masterauth for a master with requirepass; REPLICAOF moves to another master", async () => {
  const locked = await startRedisMaster(["--requirepass", "secret"]);
  const l = await connect(locked);
  expect(await l.call("AUTH", "secret")).toBe("+OK\r\n");
  expect(await l.call("SET", "locked:key", "1")).toBe("+OK\r\n");

  // A wrong password: the master refuses, the replica logs it and keeps trying.
  const dir = freshDir();
  const logPath = join(dir, "redbun.log");
  const d = await startRedbun(["--dir", dir, "--logfile", logPath, "--replicaof", "127.0.0.1", String(locked.port), "--masterauth", "wrong", ...DEBUG]);
  servers.add(d);
  const dc = await connect(d);
  await waitFor("the refused AUTH in the log", async () => readFileSync(logPath, "latin1").includes("Unable to AUTH to MASTER"), 5000);
  expect(await stat(dc, "replication", "master_link_status")).toBe("down");

  // The right one, set at run time, is used on the next attempt.
  expect(await dc.call("CONFIG", "SET", "masterauth", "secret")).toBe("+OK\r\n");
  await waitCaughtUp(l, dc);
  expect(await dc.call("GET", "locked:key")).toBe("$1\r\n1\r\n");
  await expectSameData(l, dc);

  // To the shared master, which wants no password: its data replaces the locked master's.
  const start = await syncCounters(m);
  expect(await dc.call("CONFIG", "SET", "masterauth", "")).toBe("+OK\r\n");
  expect(await dc.call("REPLICAOF", "127.0.0.1", String(master.port))).toBe("+OK\r\n");
  await waitCaughtUp(m, dc);
  expect(await dc.call("EXISTS", "locked:key")).toBe(":0\r\n");
  await expectSameData(m, dc);
  expect((await syncCounters(m)).full).toBe(start.full + 1);
  await stop(d);
  await stop(locked);
}, 10000);

let r: { server: ServerProcess; conn: RespConn };

test("a replica's replies are Redis's, byte for byte", async () => {
  r = await startRedisReplica(master.port);
  await waitCaughtUp(m, r.conn);
  await waitCaughtUp(m, a.conn);
  const both = (...args: string[]) => Promise.all([r.conn.call(...args), a.conn.call(...args)]);
  const same = async (...args: string[]): Promise<string> => {
    const [want, got] = await both(...args);
    expect(`${args.join(" ")} -> ${got}`).toBe(`${args.join(" ")} -> ${want}`);
    return want;
  };

  expect(await same("SET", "k", "v")).toBe("-READONLY You can't write against a read only replica.\r\n");
  for (const command of [["FLUSHALL"], ["EXPIRE", "str:embstr", "10"], ["SWAPDB", "0", "1"], ["DEL", "str:embstr"], ["PUBLISH", "ch", "m"], ["GET", "str:embstr"]]) {
    await same(...command);
  }
  // A write queued in MULTI fails at once and dooms the transaction.
  await same("MULTI");
  await same("SET", "k", "v");
  expect(await same("EXEC")).toBe("-EXECABORT Transaction discarded because of previous errors.\r\n");
  expect(await same("WAIT", "0", "0")).toStartWith("-ERR WAIT cannot be used with replica instances.");
  expect(await same("REPLICAOF", "127.0.0.1", "abc")).toBe("-ERR Invalid master port\r\n");
  expect(await same("REPLICAOF", "127.0.0.1", "70000")).toBe("-ERR Invalid master port\r\n");
  expect(await same("REPLICAOF", "127.0.0.1", String(master.port))).toBe("+OK Already connected to specified master\r\n");

  const role = await same("ROLE");
  expect(role).toMatch(new RegExp(`^\\*5\\r\\n\\$5\\r\\nslave\\r\\n\\$9\\r\\n127\\.0\\.0\\.1\\r\\n:${master.port}\\r\\n\\$9\\r\\nconnected\\r\\n:\\d+\\r\\n$`));

  // The key and expiry counts; the average TTL moves with the clock, and the length with it.
  const keyspace = (info: string) => info.replace(/^\$\d+\r\n/, "").replace(/,avg_ttl=\d+/g, "");
  const [redisKeyspace, redbunKeyspace] = await both("INFO", "keyspace");
  expect(keyspace(redbunKeyspace)).toBe(keyspace(redisKeyspace));

  const [redisInfo, redbunInfo] = await both("INFO", "replication");
  expect(infoFieldNames(redbunInfo)).toEqual(infoFieldNames(redisInfo));
  // Fields that do not depend on when each replica attached hold the same values.
  const sameValue = infoFieldNames(redisInfo).filter((name) => !/^(master_last_io_seconds_ago|repl_backlog_first_byte_offset|repl_backlog_histlen)$/.test(name));
  expect(sameValue.map((name) => `${name}:${infoField(redbunInfo, name)}`)).toEqual(sameValue.map((name) => `${name}:${infoField(redisInfo, name)}`));

  // INCRBYFLOAT leaves "3" as an embstr on the master; replicas get SET ... KEEPTTL and
  // store the integer as an int, whatever the encoding the master has.
  await m.call("DEL", "float");
  await m.call("INCRBYFLOAT", "float", "1.5");
  expect(await m.call("INCRBYFLOAT", "float", "1.5")).toBe("$1\r\n3\r\n");
  await waitCaughtUp(m, r.conn);
  await waitCaughtUp(m, a.conn);
  expect(await same("OBJECT", "ENCODING", "float")).toBe("$3\r\nint\r\n");
  expect(await same("GET", "float")).toBe("$1\r\n3\r\n");
  expect(await m.call("DEL", "float")).toBe(":1\r\n");

  // A writable replica takes local writes, which its master never sees.
  await same("CONFIG", "SET", "replica-read-only", "no");
  expect(await same("SET", "local", "1")).toBe("+OK\r\n");
  expect(await same("GET", "local")).toBe("$1\r\n1\r\n");
  expect(await same("DEL", "local")).toBe(":1\r\n");
  await same("CONFIG", "SET", "replica-read-only", "yes");
  expect(await m.call("EXISTS", "local")).toBe(":0\r\n");
}, 10000);

test("a replica hides expired keys until its master deletes them", async () => {
  expect(await m.call("DEBUG", "SET-ACTIVE-EXPIRE", "0")).toBe("+OK\r\n");
  try {
    expect(await m.call("SET", "short", "v", "PX", "400")).toBe("+OK\r\n");
    await waitCaughtUp(m, r.conn);
    await waitCaughtUp(m, a.conn);
    const sizeWithKey = await r.conn.call("DBSIZE");
    expect(await a.conn.call("DBSIZE")).toBe(sizeWithKey);
    expect(await a.conn.call("GET", "short")).toBe("$1\r\nv\r\n");

    // The Redis replica tells when the time is up: it hides the key from then on.
    await waitFor("the key's time to run out", async () => (await r.conn.call("GET", "short")) === "$-1\r\n", 3000);
    for (const conn of [r.conn, a.conn]) {
      expect(await conn.call("GET", "short")).toBe("$-1\r\n");
      expect(await conn.call("EXISTS", "short")).toBe(":0\r\n");
      expect(await conn.call("DBSIZE")).toBe(sizeWithKey);
    }

    // The master's access expires the key and sends the DEL.
    expect(await m.call("GET", "short")).toBe("$-1\r\n");
    await waitCaughtUp(m, r.conn);
    await waitCaughtUp(m, a.conn);
    const sizeWithout = await r.conn.call("DBSIZE");
    expect(sizeWithout).not.toBe(sizeWithKey);
    expect(await a.conn.call("DBSIZE")).toBe(sizeWithout);
    await expectSameData(m, a.conn);
  } finally {
    await m.call("DEBUG", "SET-ACTIVE-EXPIRE", "1");
  }
});

test("FLUSHDB and FLUSHALL on the master empty the replica", async () => {
  await m.call("SELECT", "2");
  expect(await m.call("FLUSHDB")).toBe("+OK\r\n");
  await m.call("SELECT", "0");
  await waitCaughtUp(m, a.conn);
  await expectSameData(m, a.conn);
  await a.conn.call("SELECT", "2");
  expect(await a.conn.call("DBSIZE")).toBe(":0\r\n");
  await a.conn.call("SELECT", "0");

  // The dataset again, after an empty keyspace, for the test that follows.
  expect(await m.call("FLUSHALL")).toBe("+OK\r\n");
  await waitCaughtUp(m, a.conn);
  expect(await a.conn.call("DBSIZE")).toBe(":0\r\n");
  await buildDataset(m);
  await waitCaughtUp(m, a.conn);
  await waitCaughtUp(m, r.conn);
  await expectSameData(m, a.conn);
  await expectSameData(m, r.conn);
});

test("with the master gone and replica-serve-stale-data no, both replicas refuse the same commands", async () => {
  for (const conn of [r.conn, a.conn]) expect(await conn.call("CONFIG", "SET", "replica-serve-stale-data", "no")).toBe("+OK\r\n");
  await stop(master);
  for (const conn of [r.conn, a.conn]) {
    await waitFor("master_link_status:down", async () => (await stat(conn, "replication", "master_link_status")) === "down");
  }
  // Only commands flagged stale run; in Redis 7.0 PING is not one of them, ECHO and SELECT are.
  const commands = [
    ["GET", "str:embstr"],
    ["DBSIZE"],
    ["KEYS", "*"],
    ["SET", "k", "v"],
    ["EXISTS", "k"],
    ["PING"],
    ["ECHO", "x"],
    ["SELECT", "1"],
    ["SELECT", "0"],
    ["CONFIG", "GET", "replica-serve-stale-data"],
    ["CLIENT", "SETNAME", "n"],
    ["MULTI"],
    ["DISCARD"],
  ];
  for (const command of commands) {
    const [want, got] = await Promise.all([r.conn.call(...command), a.conn.call(...command)]);
    expect(`${command.join(" ")} -> ${got}`).toBe(`${command.join(" ")} -> ${want}`);
  }
  const masterDown = "-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n";
  expect(await a.conn.call("GET", "str:embstr")).toBe(masterDown);
  expect(await a.conn.call("PING")).toBe(masterDown);
  expect(await a.conn.call("ECHO", "x")).toBe("$1\r\nx\r\n");
  expect(infoField(await a.conn.call("INFO", "replication"), "role")).toBe("slave");
  expect(rawItems(await a.conn.call("ROLE"))[0]).toBe("$5\r\nslave\r\n");

  // Stale data is served again when allowed.
  for (const conn of [r.conn, a.conn]) expect(await conn.call("CONFIG", "SET", "replica-serve-stale-data", "yes")).toBe("+OK\r\n");
  const [want, got] = await Promise.all([r.conn.call("GET", "str:embstr"), a.conn.call("GET", "str:embstr")]);
  expect(got).toBe("$5\r\nhello\r\n");
  expect(want).toBe(got);
});
