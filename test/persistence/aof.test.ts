// The AOF against Redis 7.0.15: the same commands on both servers (appendonly yes,
// appendfsync always, aof-use-rdb-preamble no) must leave the same incr file, command for
// command, with the deterministic forms Redis propagates (SET .. PXAT, PEXPIREAT, LPOP for
// BLPOP ...). The one normalisation: an absolute time a server computed from a relative
// one (EX 100 -> PXAT now+100000) reads its own clock, so such times may differ by up to
// TIME_SLACK_MS; every other byte must be equal.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { RespConn, type ServerProcess } from "../oracle/harness.ts";
import { AOF_DIR, aofFile, readCommands, startIn, tempDir, waitFor } from "./aof-helpers.ts";

const TIME_SLACK_MS = 3000;

let redisDir: string;
let redbunDir: string;
let redis: ServerProcess;
let redbun: ServerProcess;
let r: RespConn;
let b: RespConn;

beforeAll(async () => {
  redisDir = tempDir("aof-redis");
  redbunDir = tempDir("aof-redbun");
  [redis, redbun] = await Promise.all([startIn("redis", redisDir), startIn("redbun", redbunDir)]);
  [r, b] = await Promise.all([RespConn.connect(redis.port), RespConn.connect(redbun.port)]);
});

afterAll(async () => {
  r?.close();
  b?.close();
  await Promise.all([redis?.stop(), redbun?.stop()]);
  for (const dir of [redisDir, redbunDir]) rmSync(dir, { recursive: true, force: true });
});

/** Each scenario talks to two servers and waits for blocked clients. */
const SCENARIO_MS = 15000;

/** Send to both and require the same reply, so that both datasets move in step. */
async function same(...args: string[]): Promise<string> {
  const [want, got] = await Promise.all([r.call(...args), b.call(...args)]);
  if (want !== got) throw new Error(`reply differs for ${JSON.stringify(args)}: redis ${JSON.stringify(want)} redbun ${JSON.stringify(got)}`);
  return want;
}

/** Both incr files so far, read once both hold the same number of commands (written before the reply, but read here after it). */
function incrCommands(): [string[][], string[][]] {
  return [readCommands(aofFile(redisDir, ".1.incr.aof")), readCommands(aofFile(redbunDir, ".1.incr.aof"))];
}

/** Whether argument i of a command is an absolute time a server computed from its clock. */
function isComputedTime(args: string[], i: number): boolean {
  const name = args[0]!.toUpperCase();
  if (name === "PEXPIREAT" && i === 2) return true;
  return name === "SET" && i > 0 && args[i - 1]!.toUpperCase() === "PXAT";
}

function sameCommand(want: string[], got: string[]): boolean {
  if (want.length !== got.length) return false;
  for (let i = 0; i < want.length; i++) {
    if (want[i] === got[i]) continue;
    if (!isComputedTime(want, i) || Math.abs(Number(want[i]) - Number(got[i])) > TIME_SLACK_MS) return false;
  }
  return true;
}

/** Where each incr file stood when the running test began: tests compare what they added. */
let marks: [number, number] = [0, 0];

beforeEach(() => {
  const [want, got] = incrCommands();
  marks = [want.length, got.length];
});

/** The commands the running test added must agree command for command (up to computed times). */
function expectSameIncr(): void {
  const [allWant, allGot] = incrCommands();
  const want = allWant.slice(marks[0]);
  const got = allGot.slice(marks[1]);
  const render = (cmds: string[][]) => cmds.map((c) => JSON.stringify(c)).join("\n");
  const firstDiff = want.findIndex((w, i) => got[i] === undefined || !sameCommand(w, got[i]!));
  if (firstDiff >= 0 || want.length !== got.length) {
    const from = Math.max(0, (firstDiff >= 0 ? firstDiff : Math.min(want.length, got.length)) - 3);
    throw new Error(
      `incr files differ at command ${firstDiff >= 0 ? firstDiff : Math.min(want.length, got.length)}\n` +
        `redis:\n${render(want.slice(from, from + 12))}\nredbun:\n${render(got.slice(from, from + 12))}`,
    );
  }
}

/** Waits until each server reports `n` blocked clients. */
async function blockedOnBoth(n: number): Promise<void> {
  for (const conn of [r, b]) {
    const deadline = Date.now() + 5000;
    while (!(await conn.call("INFO", "clients")).includes(`blocked_clients:${n}\r\n`)) {
      if (Date.now() > deadline) throw new Error(`no ${n} blocked clients`);
      await Bun.sleep(5);
    }
  }
}

/** Runs a blocking command on a second connection of each server, serves it with `serve`, and requires the same reply. */
async function served(blocking: string[], ...serve: string[][]): Promise<void> {
  const [r2, b2] = await Promise.all([RespConn.connect(redis.port), RespConn.connect(redbun.port)]);
  try {
    const replies = Promise.all([r2.call(...blocking), b2.call(...blocking)]);
    await blockedOnBoth(1);
    for (const cmd of serve) await same(...cmd);
    const [want, got] = await replies;
    expect(got).toBe(want);
  } finally {
    r2.close();
    b2.close();
  }
}

describe("the incr file matches Redis's", () => {
  test("the directory starts with Redis's manifest, an empty base and an empty incr file", () => {
    for (const dir of [redisDir, redbunDir]) {
      expect(readFileSync(join(dir, AOF_DIR, "appendonly.aof.manifest"), "latin1")).toBe(
        "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
      );
      expect(readFileSync(aofFile(dir, ".1.base.aof")).length).toBe(0);
    }
  }, SCENARIO_MS);

  test("strings, with relative times made absolute", async () => {
    const future = String(Math.floor(Date.now() / 1000) + 100000);
    const futureMs = String(Date.now() + 100000000);
    for (const cmd of [
      ["SET", "s1", "v"],
      ["set", "s2", "v", "EX", "100"],
      ["SET", "s3", "v", "px", "100000", "GET"],
      ["SET", "s4", "v", "EXAT", future, "NX"],
      ["SET", "s5", "v", "PXAT", futureMs],
      ["SET", "s5", "w", "PXAT", futureMs, "XX", "GET"],
      ["SET", "s6", "v", "KEEPTTL"],
      ["SET", "s1", "x", "NX"],
      ["SETEX", "s7", "100", "v"],
      ["PSETEX", "s8", "100000", "v"],
      ["SETNX", "s9", "v"],
      ["SETNX", "s9", "w"],
      ["GETEX", "s1", "EX", "100"],
      ["GETEX", "s1", "PXAT", futureMs],
      ["GETEX", "s1", "PERSIST"],
      ["GETEX", "s1", "PERSIST"],
      ["GETEX", "s1"],
      ["GETEX", "s9", "EXAT", "1"],
      ["GETEX", "missing", "EX", "10"],
      ["GETDEL", "s6"],
      ["GETDEL", "s6"],
      ["GETSET", "s2", "new"],
      ["APPEND", "s2", "more"],
      ["SETRANGE", "s2", "1", "XY"],
      ["INCR", "n"],
      ["DECR", "n"],
      ["INCRBY", "n", "10"],
      ["DECRBY", "n", "3"],
      ["INCR", "s2"],
      ["INCRBYFLOAT", "f", "1.5"],
      ["INCRBYFLOAT", "f", "3e2"],
      ["INCRBYFLOAT", "s2", "1"],
      ["MSET", "m1", "a", "m2", "b"],
      ["MSETNX", "m1", "a", "m3", "c"],
      ["MSETNX", "m4", "a", "m5", "c"],
      ["GET", "s1"],
    ]) {
      await same(...cmd);
    }
    expectSameIncr();
  }, SCENARIO_MS);

  test("keyspace: expiry forms, deletions, renames, databases, flushes", async () => {
    const past = String(Math.floor(Date.now() / 1000) - 10);
    for (const cmd of [
      ["SET", "k1", "v"],
      ["SET", "k2", "v"],
      ["EXPIRE", "k1", "100"],
      ["PEXPIRE", "k1", "200000", "GT"],
      ["EXPIRE", "k1", "10", "NX"],
      ["EXPIREAT", "k1", String(Math.floor(Date.now() / 1000) + 500)],
      ["PEXPIREAT", "k1", String(Date.now() + 900000), "xx"],
      ["EXPIRE", "missing", "10"],
      ["PERSIST", "k1"],
      ["PERSIST", "k1"],
      ["EXPIREAT", "k2", past],
      ["SET", "k3", "v"],
      ["PEXPIRE", "k3", "-1"],
      ["DEL", "k1", "missing"],
      ["DEL", "missing"],
      ["SET", "k4", "v"],
      ["UNLINK", "k4"],
      ["SET", "k5", "v"],
      ["RENAME", "k5", "k6"],
      ["RENAMENX", "k6", "k7"],
      ["COPY", "k7", "k8"],
      ["COPY", "k7", "k8"],
      ["MOVE", "k8", "3"],
      ["SELECT", "3"],
      ["SET", "in3", "v"],
      ["SELECT", "0"],
      ["SWAPDB", "0", "3"],
      ["SWAPDB", "0", "3"],
      ["FLUSHDB"],
      ["FLUSHDB"],
      ["FLUSHALL"],
      ["FLUSHALL"],
    ]) {
      await same(...cmd);
    }
    expectSameIncr();
  }, SCENARIO_MS);

  test("lists, with blocking and multi-key pops as plain pops", async () => {
    for (const cmd of [
      ["RPUSH", "l", "a", "b", "c", "d", "e", "f"],
      ["LPUSH", "l", "z"],
      ["LPUSHX", "l", "y"],
      ["RPUSHX", "nol", "y"],
      ["LINSERT", "l", "BEFORE", "c", "x"],
      ["LSET", "l", "0", "first"],
      ["LREM", "l", "0", "x"],
      ["LTRIM", "l", "0", "20"],
      ["LPOP", "l"],
      ["RPOP", "l", "2"],
      ["LMOVE", "l", "l2", "LEFT", "right"],
      ["RPOPLPUSH", "l", "l2"],
      ["LMPOP", "2", "nol", "l", "RIGHT", "COUNT", "1"],
      ["LMPOP", "1", "l2", "LEFT", "COUNT", "10"],
      ["LMPOP", "1", "nol", "LEFT"],
      ["BLPOP", "nol", "l", "0"],
      ["BRPOP", "l", "0"],
      ["RPUSH", "l", "a", "b", "c"],
      ["BLMOVE", "l", "l3", "RIGHT", "LEFT", "0"],
      ["BRPOPLPUSH", "l", "l3", "0"],
      ["BLMPOP", "0", "1", "l3", "RIGHT", "COUNT", "5"],
      ["LPOP", "nol"],
      ["RPUSH", "tosort", "3", "1", "2"],
      ["SORT", "tosort", "STORE", "sorted"],
      ["SORT", "nol", "STORE", "sorted"],
      ["SORT", "nol", "STORE", "sorted"],
    ]) {
      await same(...cmd);
    }
    await served(["BLPOP", "w1", "0"], ["RPUSH", "w1", "a", "b"]);
    await served(["BRPOP", "w2", "nol", "0"], ["RPUSH", "w2", "a"]);
    await served(["BLMOVE", "w3", "w4", "LEFT", "RIGHT", "0"], ["RPUSH", "w3", "a"]);
    await served(["BRPOPLPUSH", "w5", "w4", "0"], ["RPUSH", "w5", "a"]);
    await served(["BLMPOP", "0", "1", "w6", "LEFT", "COUNT", "9"], ["RPUSH", "w6", "a", "b"]);
    expectSameIncr();
  }, SCENARIO_MS);

  test("hashes, sets and sorted sets, with random and float results made deterministic", async () => {
    for (const cmd of [
      ["HSET", "h", "a", "1", "b", "2"],
      ["HSETNX", "h", "a", "9"],
      ["HSETNX", "h", "c", "3"],
      ["HMSET", "h", "d", "4"],
      ["HDEL", "h", "d", "nofield"],
      ["HDEL", "h", "nofield"],
      ["HINCRBY", "h", "a", "5"],
      ["HINCRBYFLOAT", "h", "b", "0.25"],
      ["HINCRBYFLOAT", "h", "new", "1e3"],
      ["SADD", "s", "a", "b", "c"],
      ["SADD", "s", "a"],
      ["SREM", "s", "a", "zz"],
      ["SMOVE", "s", "s2", "b"],
      ["SPOP", "s2"],
      ["SPOP", "s2"],
      ["SADD", "s3", "1", "2", "3"],
      ["SPOP", "s3", "5"],
      ["SADD", "s4", "x"],
      ["SPOP", "s4", "1"],
      ["SADD", "s5", "a", "b"],
      ["SADD", "s6", "b", "c"],
      ["SINTERSTORE", "d1", "s5", "s6"],
      ["SUNIONSTORE", "d2", "s5", "s6"],
      ["SDIFFSTORE", "d3", "s5", "s6"],
      ["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"],
      ["ZADD", "z", "NX", "9", "a"],
      ["ZADD", "z", "XX", "CH", "7", "a"],
      ["ZINCRBY", "z", "1.5", "b"],
      ["ZREM", "z", "nomember"],
      ["ZREM", "z", "e"],
      ["ZPOPMIN", "z"],
      ["ZPOPMAX", "z", "1"],
      ["ZMPOP", "1", "z", "MIN", "COUNT", "10"],
      ["ZADD", "z", "1", "a", "2", "b", "3", "c"],
      ["ZMPOP", "2", "noz", "z", "MAX"],
      ["BZPOPMIN", "z", "0"],
      ["BZPOPMAX", "noz", "z", "0"],
      ["ZADD", "z", "1", "a", "2", "b", "3", "c"],
      ["BZMPOP", "0", "1", "z", "MIN", "COUNT", "2"],
      ["ZADD", "z2", "1", "a", "2", "b", "3", "c", "4", "d"],
      ["ZREMRANGEBYSCORE", "z2", "0", "1"],
      ["ZREMRANGEBYRANK", "z2", "0", "0"],
      ["ZREMRANGEBYLEX", "z2", "-", "+"],
      ["ZADD", "z3", "1", "a", "2", "b"],
      ["ZUNIONSTORE", "zd", "1", "z3"],
      ["ZINTERSTORE", "zd", "1", "z3"],
      ["ZRANGESTORE", "zd2", "z3", "0", "-1"],
      ["ZADD", "z4", "1", "a"],
      ["ZDIFFSTORE", "zd3", "2", "z3", "z4"],
      ["ZDIFFSTORE", "zd3", "2", "z4", "z3"],
      ["ZDIFFSTORE", "zd3", "2", "z4", "z3"],
    ]) {
      await same(...cmd);
    }
    await served(["BZPOPMIN", "wz", "0"], ["ZADD", "wz", "1", "a", "2", "b"]);
    await served(["BZMPOP", "0", "1", "wz2", "MAX", "COUNT", "3"], ["ZADD", "wz2", "1", "a", "2", "b"]);
    expectSameIncr();
  }, SCENARIO_MS);

  test("SPOP with a count below the set's size propagates one SREM per member in MULTI/EXEC", async () => {
    const members = Array.from({ length: 20 }, (_, i) => `m${i}`);
    await same("SADD", "big", ...members);
    const popped = (reply: string) => reply.split("\r\n").filter((_, i) => i > 0 && i % 2 === 0);
    // 5 of 20 takes members one by one; 13 of the 15 left keeps the 2 that stay instead.
    for (const count of ["5", "13"]) {
      const before = incrCommands().map((cmds) => cmds.length);
      const [rReply, bReply] = await Promise.all([r.call("SPOP", "big", count), b.call("SPOP", "big", count)]);
      const [want, got] = incrCommands();
      for (const [cmds, start, reply] of [
        [want, before[0]!, rReply],
        [got, before[1]!, bReply],
      ] as const) {
        const added = cmds.slice(start);
        expect(added[0]).toEqual(["MULTI"]);
        expect(added[added.length - 1]).toEqual(["EXEC"]);
        expect(added.slice(1, -1)).toEqual(popped(reply).map((m) => ["SREM", "big", m]));
      }
    }
    // Bring both to the same state again.
    await Promise.all([r.call("DEL", "big"), b.call("DEL", "big")]);
  }, SCENARIO_MS);

  test("transactions: one write alone, several wrapped in MULTI/EXEC with their databases, failed ones nothing", async () => {
    await same("DEBUG", "SET-ACTIVE-EXPIRE", "0");
    await same("SET", "tx-old", "v", "PX", "20");
    await Bun.sleep(40);
    for (const cmd of [
      ["MULTI"], ["SET", "tx1", "1"], ["GET", "tx1"], ["EXEC"],
      ["MULTI"], ["GET", "tx1"], ["EXEC"],
      ["MULTI"], ["INCR", "tx1"], ["LPUSH", "tx1", "x"], ["RPUSH", "txl", "a", "b"], ["EXEC"],
      ["MULTI"], ["SELECT", "3"], ["SET", "tx3", "1"], ["SELECT", "0"], ["SET", "tx1", "2"], ["EXEC"],
      ["MULTI"], ["SELECT", "4"], ["SET", "tx4", "1"], ["EXEC"], ["SELECT", "0"],
      ["MULTI"], ["GET", "tx-old"], ["SET", "tx5", "1"], ["EXEC"],
      ["MULTI"], ["BLPOP", "txl", "0"], ["BLPOP", "missing", "0"], ["SPOP", "nothing"], ["EXEC"],
      ["MULTI"], ["SET", "tx6", "1"], ["SET", "tx7"], ["EXEC"],
      ["MULTI"], ["SET", "tx6", "1"], ["DISCARD"],
      ["WATCH", "tx1"], ["SET", "tx1", "3"], ["MULTI"], ["SET", "tx8", "1"], ["EXEC"],
    ]) {
      await same(...cmd);
    }
    await same("DEBUG", "SET-ACTIVE-EXPIRE", "1");
    expectSameIncr();
  }, SCENARIO_MS);

  test("lazy and active expiry propagate DEL; a command that changes nothing propagates nothing", async () => {
    await same("DEBUG", "SET-ACTIVE-EXPIRE", "0");
    await same("SET", "t1", "v", "PX", "30");
    await same("SET", "t2", "v", "PX", "30");
    await Bun.sleep(60);
    await same("GET", "t1");
    await same("SET", "t2", "again");
    await same("DEBUG", "SET-ACTIVE-EXPIRE", "1");
    await same("SET", "t3", "v", "PX", "30");
    await waitFor(() => incrCommands().every((cmds) => JSON.stringify(cmds[cmds.length - 1]) === '["DEL","t3"]'), "active expiry of t3");
    expectSameIncr();
  }, SCENARIO_MS);
});

describe("DEBUG LOADAOF", () => {
  test("empties the dataset and loads it back from the AOF, writing nothing to it", async () => {
    for (const cmd of [
      ["SET", "la:s", "v", "EX", "1000"], ["RPUSH", "la:l", "a", "b"], ["HSET", "la:h", "f", "v"],
      ["SADD", "la:set", "1", "2"], ["ZADD", "la:z", "1", "m"], ["SELECT", "2"], ["SET", "la:db2", "x"], ["SELECT", "0"],
    ]) {
      await same(...cmd);
    }
    const before = incrCommands().map((cmds) => cmds.length);
    const digest = await same("DEBUG", "DIGEST");
    expect(await same("DEBUG", "LOADAOF")).toBe("+OK\r\n");
    expect(await same("DEBUG", "DIGEST")).toBe(digest);
    await same("TTL", "la:s");
    expect(incrCommands().map((cmds) => cmds.length)).toEqual(before);
    // Writes after the reload are appended as before.
    await same("SET", "la:after", "1");
    expectSameIncr();
  }, SCENARIO_MS);
});
