// Keyspace notifications (notify-keyspace-events) against the real redis-server 7.0. On each
// server a second connection subscribes to every keyspace and keyevent channel, the same
// commands run on both, and the messages each subscriber got are compared byte for byte,
// in order. The stream of one step ends with a PUBLISH to a marker channel the subscriber
// also listens to, so reading up to the marker's message reads every event of the step.
// Each command family runs under several class sets: everything, single classes, K or E
// alone, and none (nothing may arrive).

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { Oracle, type RespConn, encodeCommand } from "../oracle/harness.ts";
import { blockedClients } from "../oracle/sides.ts";
import { eventsUntilMarker, listenForEvents } from "../oracle/keyspace-events.ts";

type Cmd = (string | Uint8Array)[];

const MARKER = "notify-test-marker";
/** A key that is not text: its events must carry the same bytes. */
const BINARY_KEY = "\xff\x00bin";

let o: Oracle;
/** The subscribers, and a third client per server for the blocking commands: [redis, redbun]. */
let subs: [RespConn, RespConn];
let blockers: [RespConn, RespConn];

beforeAll(async () => {
  o = await Oracle.start(["--enable-debug-command", "yes"]);
  subs = await o.connectBoth();
  blockers = await o.connectBoth();
  await listenForEvents(subs, MARKER);
});
afterAll(async () => {
  for (const conn of [...subs, ...blockers]) conn.close();
  await o.stop();
});
beforeEach(async () => {
  await o.same("CONFIG", "SET", "notify-keyspace-events", "");
  await o.same("FLUSHALL");
  await o.same("SELECT", "0");
});

/** Commands whose replies are random or in hash-table order: only their events are compared. */
const UNORDERED = new Set(["SPOP", "SRANDMEMBER", "HRANDFIELD", "ZRANDMEMBER", "RANDOMKEY", "SCAN", "KEYS"]);

/** Run commands on both servers, replies compared (except UNORDERED ones). */
async function runAll(commands: Cmd[]): Promise<void> {
  for (const cmd of commands) {
    const name = typeof cmd[0] === "string" ? cmd[0].toUpperCase() : "";
    if (UNORDERED.has(name)) await o.both(...cmd);
    else await o.same(...cmd);
  }
}

/**
 * End a step: publish the marker and return the events each server sent, compared (as
 * multisets when `unordered`, for the active expiry cycle, which samples keys at random).
 */
async function sameEvents(unordered = false): Promise<string[]> {
  await o.same("PUBLISH", MARKER, "end");
  const [want, got] = await Promise.all(subs.map((sub) => eventsUntilMarker(sub, MARKER)));
  if (unordered) {
    want!.sort();
    got!.sort();
  }
  expect(got).toEqual(want!);
  return want!;
}

// ---------------------------------------------------------------------------------------
// The command families, each ending in no-ops and errors that must notify nothing
// ---------------------------------------------------------------------------------------

const STRINGS: Cmd[] = [
  ["SET", "s", "v"],
  ["SET", "s", "w"],
  ["SET", "s", "v", "NX"],
  ["SET", "s2", "v", "XX"],
  ["SET", "s", "v", "XX", "GET"],
  ["SET", "nokey", "v", "XX", "GET"],
  ["SET", "s", "v", "EX", "100"],
  ["SET", "s", "v", "KEEPTTL"],
  ["SET", "s", "v", "EXAT", "1"],
  ["SET", "s3", "v", "GET"],
  ["SETNX", "s", "x"],
  ["SETNX", "s4", "x"],
  ["SETEX", "s5", "10", "v"],
  ["PSETEX", "s6", "100000", "v"],
  ["GETSET", "s5", "n"],
  ["GETSET", "s7", "n"],
  ["GETDEL", "s7"],
  ["GETDEL", "s7"],
  ["GETEX", "s5"],
  ["GETEX", "s5", "EX", "100"],
  ["GETEX", "s5", "PERSIST"],
  ["GETEX", "s5", "PERSIST"],
  ["GETEX", "s5", "PXAT", "1"],
  ["GETEX", "nokey", "EX", "10"],
  ["MGET", "s4", "nokey", "s6", "nokey2"],
  ["MSET", "m1", "a", "m2", "b", "m1", "c"],
  ["MSETNX", "m1", "a", "m9", "b"],
  ["MSETNX", "m8", "a", "m9", "b"],
  ["APPEND", "m1", "xx"],
  ["APPEND", "ap", "xx"],
  ["SETRANGE", "m1", "0", "z"],
  ["SETRANGE", "m1", "0", ""],
  ["SETRANGE", "sr", "0", ""],
  ["SETRANGE", "sr", "2", "a"],
  ["INCR", "i"],
  ["DECR", "i"],
  ["INCRBY", "i", "5"],
  ["DECRBY", "i", "5"],
  ["INCRBYFLOAT", "f", "1.5"],
  ["INCRBYFLOAT", "f", "-1.5"],
  ["STRLEN", "nokey"],
  ["GETRANGE", "nokey", "0", "1"],
  ["SUBSTR", "m1", "0", "1"],
  ["LCS", "nokey", "m1"],
  ["GET", "nokey"],
  ["SET", BINARY_KEY, "v"],
  ["APPEND", BINARY_KEY, "w"],
  ["GET", `${BINARY_KEY}-missing`],
  // Errors notify nothing.
  ["INCR", "m1"],
  ["INCRBYFLOAT", "m1", "x"],
  ["SET", "s", "v", "EX", "0"],
  ["SETEX", "s", "-1", "v"],
  ["SETRANGE", "s", "-1", "v"],
  ["RPUSH", "l", "x"],
  ["APPEND", "l", "x"],
  ["INCR", "l"],
];

const LISTS: Cmd[] = [
  ["LPUSH", "l", "a", "b", "c"],
  ["RPUSH", "l", "d"],
  ["LPUSHX", "l", "e"],
  ["LPUSHX", "nol", "e"],
  ["RPUSHX", "l", "f"],
  ["RPUSHX", "nol", "f"],
  ["LINSERT", "l", "BEFORE", "a", "x"],
  ["LINSERT", "l", "AFTER", "nope", "x"],
  ["LINSERT", "nol", "BEFORE", "a", "x"],
  ["LSET", "l", "0", "y"],
  ["LSET", "l", "100", "y"],
  ["LSET", "nol", "0", "y"],
  ["LREM", "l", "0", "zz"],
  ["LREM", "l", "1", "a"],
  ["LTRIM", "l", "0", "100"],
  ["LTRIM", "l", "1", "-1"],
  ["LPOP", "l"],
  ["RPOP", "l", "2"],
  ["LPOP", "l", "0"],
  ["LPOP", "nol"],
  ["RPOP", "nol", "3"],
  ["LRANGE", "nol", "0", "1"],
  ["LLEN", "nol"],
  ["LINDEX", "nol", "0"],
  ["LPOS", "nol", "a"],
  ["RPUSH", "l2", "a"],
  ["LPOP", "l2"],
  ["RPUSH", "l3", "a", "b"],
  ["RPOPLPUSH", "l3", "l4"],
  ["RPOPLPUSH", "l3", "l3"],
  ["LMOVE", "l3", "l4", "LEFT", "RIGHT"],
  ["LMOVE", "nol", "l4", "LEFT", "LEFT"],
  ["RPUSH", "l5", "a", "b", "c"],
  ["LTRIM", "l5", "5", "10"],
  ["RPUSH", "l6", "a", "a"],
  ["LREM", "l6", "0", "a"],
  ["RPUSH", "l7", "a", "b"],
  ["LMPOP", "2", "nol", "l7", "LEFT", "COUNT", "5"],
  ["LMPOP", "1", "nol", "RIGHT"],
  ["BLPOP", "nol", "l4", "0"],
  ["BRPOP", "l4", "1"],
  ["RPUSH", "l8", "a", "b"],
  ["BLMOVE", "l8", "l9", "RIGHT", "LEFT", "0"],
  ["BRPOPLPUSH", "l8", "l9", "0"],
  ["BLMPOP", "0", "2", "nol", "l9", "RIGHT", "COUNT", "1"],
  ["LPUSH", BINARY_KEY, "x"],
  ["RPOP", BINARY_KEY],
  // Errors notify nothing.
  ["SET", "str", "x"],
  ["LPUSH", "str", "a"],
  ["LPOP", "str"],
  ["LRANGE", "str", "0", "1"],
  ["RPOPLPUSH", "l9", "str"],
  ["LPOP", "l9", "-1"],
];

const HASHES: Cmd[] = [
  ["HSET", "h", "a", "1", "b", "2"],
  ["HSET", "h", "a", "1"],
  ["HSET", "h", "a", "22"],
  ["HSETNX", "h", "a", "2"],
  ["HSETNX", "h", "c", "2"],
  ["HMSET", "h", "d", "1"],
  ["HDEL", "h", "zz"],
  ["HDEL", "nohash", "zz"],
  ["HDEL", "h", "a", "b", "zz"],
  ["HINCRBY", "h", "n", "1"],
  ["HINCRBY", "h2", "n", "1"],
  ["HINCRBYFLOAT", "h", "f", "1.5"],
  ["HGET", "nohash", "a"],
  ["HGET", "h", "nofield"],
  ["HMGET", "nohash", "a"],
  ["HGETALL", "nohash"],
  ["HKEYS", "nohash"],
  ["HVALS", "nohash"],
  ["HLEN", "nohash"],
  ["HEXISTS", "nohash", "a"],
  ["HSTRLEN", "nohash", "a"],
  ["HRANDFIELD", "nohash"],
  ["HSCAN", "nohash", "0"],
  ["HDEL", "h", "c", "d", "n", "f"],
  ["HDEL", "h2", "n"],
  // Errors notify nothing.
  ["HSET", "h3", "a"],
  ["HSET", "h3", "a", "x"],
  ["HINCRBY", "h3", "a", "1"],
  ["HINCRBY", "h3", "a", "x"],
  ["HINCRBYFLOAT", "h3", "a", "1"],
  ["SET", "str", "x"],
  ["HSET", "str", "a", "1"],
  ["HGET", "str", "a"],
];

const SETS: Cmd[] = [
  ["SADD", "s", "a", "b"],
  ["SADD", "s", "a"],
  ["SREM", "s", "zz"],
  ["SREM", "s", "a"],
  ["SREM", "nos", "a"],
  ["SADD", "s2", "x", "y", "z"],
  ["SMOVE", "s", "s2", "b"],
  ["SMOVE", "s2", "s2", "x"],
  ["SMOVE", "s2", "s3", "zz"],
  ["SMOVE", "nos", "s3", "x"],
  ["SMOVE", "s2", "s4", "x"],
  ["SMOVE", "s2", "s4", "y"],
  ["SPOP", "s2"],
  ["SPOP", "s2"],
  ["SPOP", "nos"],
  ["SADD", "s5", "a", "b", "c", "d", "e"],
  ["SPOP", "s5", "0"],
  ["SPOP", "s5", "2"],
  ["SPOP", "s5", "10"],
  ["SPOP", "nos", "3"],
  ["SADD", "a1", "1", "2", "3"],
  ["SADD", "a2", "2", "3", "4"],
  ["SINTERSTORE", "d", "a1", "a2"],
  ["SINTERSTORE", "d", "a1", "nos"],
  ["SINTERSTORE", "d", "a1", "nos"],
  ["SUNIONSTORE", "d", "a1", "a2"],
  ["SDIFFSTORE", "d", "a1", "a2"],
  ["SDIFFSTORE", "d", "a1", "a1"],
  ["SDIFFSTORE", "d", "a1", "a1"],
  ["SUNIONSTORE", "d", "a1"],
  ["SUNIONSTORE", "a1", "a1", "a2"],
  ["SMEMBERS", "nos"],
  ["SISMEMBER", "nos", "a"],
  ["SMISMEMBER", "nos", "a"],
  ["SCARD", "nos"],
  ["SRANDMEMBER", "nos"],
  ["SRANDMEMBER", "a1", "2"],
  ["SINTER", "nos", "a1"],
  ["SUNION", "nos", "a1"],
  ["SDIFF", "a1", "nos"],
  ["SINTERCARD", "2", "nos", "a1"],
  ["SSCAN", "nos", "0"],
  ["SADD", BINARY_KEY, "m"],
  ["SREM", BINARY_KEY, "m"],
  // Errors notify nothing.
  ["SET", "str", "x"],
  ["SADD", "str", "a"],
  ["SMOVE", "a1", "str", "1"],
  ["SINTERSTORE", "d", "a1", "str"],
  ["SPOP", "a1", "-1"],
];

const ZSETS: Cmd[] = [
  ["ZADD", "z", "1", "a", "2", "b"],
  ["ZADD", "z", "1", "a"],
  ["ZADD", "z", "5", "a"],
  ["ZADD", "z", "NX", "5", "a"],
  ["ZADD", "z", "XX", "6", "zz"],
  ["ZADD", "z", "INCR", "1", "a"],
  ["ZADD", "z", "XX", "INCR", "1", "nope"],
  ["ZADD", "z", "GT", "CH", "1", "a", "9", "b"],
  ["ZINCRBY", "z", "1", "b"],
  ["ZINCRBY", "z3", "1", "b"],
  ["ZADD", "z2", "XX", "1", "a"],
  ["ZREM", "z", "zz"],
  ["ZREM", "z", "a"],
  ["ZREM", "noz", "a"],
  ["ZADD", "z", "1", "a", "3", "c", "4", "d"],
  ["ZREMRANGEBYSCORE", "z", "100", "200"],
  ["ZREMRANGEBYSCORE", "z", "1", "1"],
  ["ZREMRANGEBYRANK", "z", "0", "0"],
  ["ZREMRANGEBYRANK", "z", "10", "20"],
  ["ZREMRANGEBYLEX", "z", "[zz", "+"],
  ["ZREMRANGEBYLEX", "z", "-", "+"],
  ["ZADD", "z", "1", "a", "3", "c", "4", "d"],
  ["ZPOPMIN", "z"],
  ["ZPOPMAX", "z", "1"],
  ["ZPOPMIN", "z", "0"],
  ["ZPOPMIN", "noz"],
  ["ZPOPMIN", "z", "5"],
  ["ZADD", "za", "1", "a", "2", "b"],
  ["ZADD", "zb", "2", "b", "3", "c"],
  ["ZUNIONSTORE", "d", "2", "za", "zb"],
  ["ZINTERSTORE", "d", "2", "za", "zb"],
  ["ZDIFFSTORE", "d", "2", "za", "za"],
  ["ZDIFFSTORE", "d", "2", "za", "za"],
  ["ZUNIONSTORE", "d", "1", "nozz"],
  ["ZINTERSTORE", "d", "2", "za", "zb", "WEIGHTS", "1"],
  ["ZRANGESTORE", "d", "za", "0", "-1"],
  ["ZRANGESTORE", "d", "za", "5", "6"],
  ["ZRANGESTORE", "d", "za", "5", "6"],
  ["ZRANGESTORE", "d", "noz", "0", "-1"],
  ["ZMPOP", "1", "zb", "MIN"],
  ["ZMPOP", "2", "noz", "zb", "MAX", "COUNT", "10"],
  ["BZPOPMIN", "za", "1"],
  ["BZMPOP", "1", "1", "za", "MAX"],
  ["ZRANGE", "noz", "0", "1"],
  ["ZSCORE", "noz", "a"],
  ["ZCARD", "noz"],
  ["ZRANK", "noz", "a"],
  ["ZCOUNT", "noz", "0", "1"],
  ["ZRANGEBYSCORE", "noz", "0", "1"],
  ["ZMSCORE", "noz", "a"],
  ["ZRANDMEMBER", "noz"],
  ["ZINTER", "2", "noz", "noz2"],
  ["ZUNION", "2", "noz", "noz2"],
  ["ZDIFF", "2", "noz", "noz2"],
  ["ZINTERCARD", "2", "noz", "noz2"],
  ["ZSCAN", "noz", "0"],
  ["ZADD", BINARY_KEY, "1", "m"],
  ["ZPOPMAX", BINARY_KEY],
  // Errors notify nothing.
  ["ZADD", "z4", "x", "a"],
  ["ZADD", "z4", "NX", "XX", "1", "a"],
  ["ZADD", "z4", "1", "a"],
  ["ZINCRBY", "z4", "nan", "a"],
  ["ZADD", "z5", "INCR", "inf", "a"],
  ["ZADD", "z5", "INCR", "-inf", "a"],
  ["SET", "str", "x"],
  ["ZADD", "str", "1", "a"],
  ["ZUNIONSTORE", "d", "1", "str"],
];

const KEYSPACE: Cmd[] = [
  ["MSET", "a", "1", "b", "2", "c", "3"],
  ["DEL", "a", "nokey", "b"],
  ["UNLINK", "c", "nokey"],
  ["DEL", "nokey"],
  ["SET", "a", "1"],
  ["RENAME", "a", "b"],
  ["RENAME", "b", "b"],
  ["RENAME", "nokey", "y"],
  ["SET", "c", "1"],
  ["RENAME", "c", "b"],
  ["SET", "c", "1"],
  ["RENAMENX", "b", "c"],
  ["RENAMENX", "b", "d"],
  ["RENAMENX", "d", "d"],
  ["EXPIRE", "d", "100"],
  ["RENAME", "d", "e"],
  ["MOVE", "e", "1"],
  ["MOVE", "e", "1"],
  ["SET", "e", "1"],
  ["MOVE", "e", "1"],
  ["MOVE", "c", "0"],
  ["SELECT", "1"],
  ["SET", "f", "1"],
  ["DEL", "e"],
  ["SELECT", "0"],
  ["COPY", "c", "e"],
  ["COPY", "c", "e"],
  ["COPY", "c", "e", "REPLACE"],
  ["COPY", "c", "g", "DB", "1"],
  ["COPY", "c", "f", "DB", "1", "REPLACE"],
  ["COPY", "nokey", "z"],
  ["COPY", "c", "c"],
  ["EXISTS", "c", "nokey", "nokey"],
  ["TOUCH", "c", "nokey"],
  ["TYPE", "nokey"],
  ["TTL", "nokey"],
  ["PTTL", "nokey"],
  ["EXPIRETIME", "nokey"],
  ["PEXPIRETIME", "nokey"],
  ["OBJECT", "ENCODING", "nokey"],
  ["OBJECT", "FREQ", "nokey"],
  ["DUMP", "nokey"],
  ["DBSIZE"],
  ["KEYS", "*"],
  ["SCAN", "0"],
  ["RANDOMKEY"],
  ["SELECT", "1"],
  ["SET", BINARY_KEY, "v"],
  ["RENAME", BINARY_KEY, `${BINARY_KEY}2`],
  ["MOVE", `${BINARY_KEY}2`, "0"],
  ["SELECT", "0"],
  ["SWAPDB", "0", "1"],
  ["SET", "afterswap", "v"],
  ["FLUSHDB"],
  ["SET", "x", "1"],
  ["FLUSHALL"],
  ["SET", "x", "1"],
  // Errors notify nothing.
  ["MOVE", "x", "0"],
  ["MOVE", "x", "99"],
  ["COPY", "x", "y", "DB", "99"],
  ["RENAME", "nokey", "x"],
];

const EXPIRY: Cmd[] = [
  ["SET", "c", "1"],
  ["EXPIRE", "c", "100"],
  ["PEXPIRE", "c", "100000"],
  ["EXPIREAT", "c", "9999999999"],
  ["PEXPIREAT", "c", "9999999999999"],
  ["EXPIRE", "c", "100", "NX"],
  ["EXPIRE", "c", "100", "XX"],
  ["EXPIRE", "c", "5", "GT"],
  ["EXPIRE", "c", "5", "LT"],
  ["PERSIST", "c"],
  ["PERSIST", "c"],
  ["PERSIST", "nokey"],
  ["EXPIRE", "c", "10", "XX"],
  ["EXPIRE", "nokey", "10"],
  ["EXPIRE", "c", "0"],
  ["SET", "c", "1"],
  ["PEXPIRE", "c", "-1"],
  ["SET", "c", "1"],
  ["EXPIREAT", "c", "1"],
  ["SET", "c", "1"],
  ["PEXPIREAT", "c", "1"],
  ["RPUSH", "l", "a"],
  ["EXPIRE", "l", "-5"],
  // Errors notify nothing.
  ["SET", "c", "1"],
  ["EXPIRE", "c", "x"],
  ["EXPIRE", "c", "10", "NX", "XX"],
  ["EXPIRE", "c", "99999999999999999"],
];

const SORTS: Cmd[] = [
  ["RPUSH", "l", "3", "1", "2"],
  ["SORT", "l", "STORE", "d"],
  ["SORT", "l", "STORE", "d"],
  ["SORT", "nol", "STORE", "d"],
  ["SORT", "nol", "STORE", "d"],
  ["SET", "w_1", "3"],
  ["HSET", "o_2", "f", "x"],
  ["SORT", "l", "BY", "w_*", "GET", "o_*->f", "GET", "#", "STORE", "d"],
  ["SORT", "l", "BY", "nosort"],
  ["SORT_RO", "l", "BY", "w_*", "GET", "o_*"],
  ["SADD", "s", "b", "a"],
  ["SORT", "s", "ALPHA", "STORE", "d2"],
  ["ZADD", "z", "1", "x"],
  ["SORT", "z", "BY", "nosort", "STORE", "d2"],
  // Errors notify nothing.
  ["SORT", "l", "BY", "nosort", "LIMIT", "x"],
  ["SET", "str", "x"],
  ["SORT", "str", "STORE", "d"],
];

const TRANSACTIONS: Cmd[] = [
  ["MULTI"],
  ["SET", "t", "1"],
  ["INCR", "t"],
  ["LPUSH", "tl", "a"],
  ["DEL", "t", "tl"],
  ["EXEC"],
];

/** DUMP and RESTORE, with a payload made by Redis. */
async function restores(): Promise<void> {
  await o.same("SET", "src", "value");
  await o.same("RPUSH", "srclist", "a", "b");
  const payload = (await o.same("DUMP", "src")).split("\r\n")[1]!;
  const listPayload = (await o.same("DUMP", "srclist")).split("\r\n")[1]!;
  await runAll([
    ["RESTORE", "dst", "0", payload],
    ["RESTORE", "dst", "0", payload],
    ["RESTORE", "dst", "0", payload, "REPLACE"],
    ["RESTORE", "dst2", "100000", listPayload],
    ["RESTORE", "dst3", "0", listPayload, "ABSTTL", "IDLETIME", "10"],
    ["RESTORE", "dst", "1", payload, "REPLACE", "ABSTTL"],
    ["RESTORE", "dst", "1", payload, "REPLACE", "ABSTTL"],
    ["RESTORE", "dst4", "0", "garbage"],
  ]);
}

/** Keys found expired by commands (lazy expiry), with the active cycle held off. */
async function lazyExpiry(): Promise<void> {
  await o.same("DEBUG", "SET-ACTIVE-EXPIRE", "0");
  try {
    await runAll([
      ["SET", "k1", "v", "PX", "1"],
      ["SET", "k2", "v", "PX", "1"],
      ["SET", "k3", "v", "PX", "1"],
      ["HSET", "k4", "f", "v"],
      ["PEXPIRE", "k4", "1"],
      ["RPUSH", "k5", "a"],
      ["PEXPIRE", "k5", "1"],
      ["SET", "k6", "v", "PX", "1"],
      ["SET", "k7", "v", "PX", "1"],
      ["SET", "k8", "v", "PX", "1"],
      ["SET", "k9", "v", "PX", "1"],
      ["SADD", "k10", "m"],
      ["PEXPIRE", "k10", "1"],
      ["SET", "k11", "v", "PX", "1"],
      ["SET", "k12", "v", "PX", "1"],
    ]);
    // The keys' time must pass: nothing else tells that it has.
    await Bun.sleep(5);
    await runAll([
      ["GET", "k1"],
      ["SET", "k2", "again"],
      ["EXISTS", "k3"],
      ["HGET", "k4", "f"],
      ["LPUSH", "k5", "b"],
      ["DEL", "k6"],
      ["OBJECT", "ENCODING", "k7"],
      ["SSCAN", "k10", "0"],
      // An empty result deletes an expired destination as it is: "del", not "expired".
      ["ZRANGESTORE", "k11", "nozset", "0", "-1"],
      ["ZUNIONSTORE", "k12", "1", "nozset"],
      ["SCAN", "0", "MATCH", "k9"],
      ["SCAN", "0", "TYPE", "string"],
    ]);
  } finally {
    await o.same("DEBUG", "SET-ACTIVE-EXPIRE", "1");
  }
}

/** Keys removed by the active expiry cycle: wait until both databases are empty. */
async function activeExpiry(): Promise<void> {
  await runAll([
    ["SET", "a1", "v", "PX", "1"],
    ["SADD", "a2", "m"],
    ["PEXPIRE", "a2", "1"],
  ]);
  for (let i = 0; i < 500; i++) {
    const [r, b] = await o.both("DBSIZE");
    if (r === ":0\r\n" && b === ":0\r\n") return;
    await Bun.sleep(5);
  }
  throw new Error("the active expiry cycle never removed the keys");
}

/** One blocked client served by another client's write; returns nothing, the replies are compared. */
async function served(block: Cmd, write: Cmd): Promise<void> {
  for (const conn of blockers) conn.write(encodeCommand(block));
  await Promise.all([blockedClients(o.r, 1), blockedClients(o.b, 1)]);
  await o.same(...write);
  const [want, got] = await Promise.all(blockers.map((conn) => conn.read()));
  expect(got).toEqual(want);
}

async function blockingServed(): Promise<void> {
  await served(["BLPOP", "bl", "0"], ["RPUSH", "bl", "a", "b"]);
  await served(["BRPOP", "bl2", "0"], ["RPUSH", "bl2", "only"]);
  await served(["BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"], ["LPUSH", "src", "x"]);
  await served(["BRPOPLPUSH", "src2", "dst", "0"], ["RPUSH", "src2", "x", "y"]);
  await served(["BLMPOP", "0", "2", "no", "bl3", "LEFT", "COUNT", "5"], ["RPUSH", "bl3", "a", "b"]);
  await served(["BZPOPMIN", "bz", "0"], ["ZADD", "bz", "1", "a", "2", "b"]);
  await served(["BZMPOP", "0", "1", "bz2", "MAX", "COUNT", "9"], ["ZADD", "bz2", "1", "a"]);
  // A client served in another database notifies there.
  for (const conn of blockers) await conn.call("SELECT", "2");
  await o.same("SELECT", "2");
  await served(["BLMOVE", "src3", "dst3", "RIGHT", "RIGHT", "0"], ["RPUSH", "src3", "x"]);
  for (const conn of blockers) await conn.call("SELECT", "0");
  await o.same("SELECT", "0");
}

// ---------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------

/** Class sets each family runs under: all, single classes, one channel kind, and none. */
const FLAG_SETS = ["KEAnm", "KEA", "Kl", "Ex", "Eg$", "Kh", "Es", "Kz", "KEm", "KEn", "Kgx", "A", ""];

const FAMILIES: [string, () => Promise<void>][] = [
  ["strings", () => runAll(STRINGS)],
  ["lists", () => runAll(LISTS)],
  ["hashes", () => runAll(HASHES)],
  ["sets", () => runAll(SETS)],
  ["sorted sets", () => runAll(ZSETS)],
  ["keyspace", () => runAll(KEYSPACE)],
  ["expire", () => runAll(EXPIRY)],
  ["sort", () => runAll(SORTS)],
  ["transactions", () => runAll(TRANSACTIONS)],
  ["restore", restores],
  ["lazy expiry", lazyExpiry],
  ["blocking pops served", blockingServed],
];

describe("every command family fires Redis's events", () => {
  for (const [family, steps] of FAMILIES) {
    test(family, async () => {
      for (const flags of FLAG_SETS) {
        await o.same("FLUSHALL");
        await o.same("CONFIG", "SET", "notify-keyspace-events", flags);
        await steps();
        const events = await sameEvents();
        // Redis publishes only with K or E and some class: the comparison must have had events to compare.
        if (flags === "KEAnm") expect(events.length).toBeGreaterThan(0);
        if (flags === "A" || flags === "") expect(events).toEqual([]);
      }
    });
  }
});

describe("expiry", () => {
  test("the active cycle's expired events, only with x", async () => {
    for (const flags of ["KEA", "Ex", "Kg", "KEAnm"]) {
      await o.same("CONFIG", "SET", "notify-keyspace-events", flags);
      await activeExpiry();
      const events = await sameEvents(true);
      expect(events.some((e) => e.includes("expired"))).toBe(flags !== "Kg");
    }
  });
});

describe("notify-keyspace-events", () => {
  test("given at start-up", async () => {
    await using started = await Oracle.start(["--notify-keyspace-events", "Kg"]);
    const [r, b] = await started.connectBoth();
    for (const conn of [r, b]) conn.write(encodeCommand(["PSUBSCRIBE", "__keyspace@0__:*"]));
    await Promise.all([r.read(), b.read()]);
    await started.same("SET", "k", "v");
    await started.same("DEL", "k");
    const events = await Promise.all([r.read(), b.read()]);
    expect(events[1]).toEqual(events[0]);
    expect(events[0]).toContain("del");
    r.close();
    b.close();
  });

  test("CONFIG SET and GET of class sets", async () => {
    for (const flags of ["KEA", "AKE", "Kl", "Eg$lshzxetd", "KEAnm", "nm", "x", "", "A"]) {
      await o.same("CONFIG", "SET", "notify-keyspace-events", flags);
      await o.same("CONFIG", "GET", "notify-keyspace-events");
    }
    await o.same("CONFIG", "SET", "notify-keyspace-events", "KEQ");
    await o.same("CONFIG", "GET", "notify-keyspace-events");
  });

  test("a RESP3 client gets its own command's events among its replies", async () => {
    const [r, b] = await o.connectResp3();
    await o.same("CONFIG", "SET", "notify-keyspace-events", "KEA");
    for (const conn of [r, b]) conn.write(encodeCommand(["SUBSCRIBE", "__keyevent@0__:set"]));
    const subscribed = await Promise.all([r.read(), b.read()]);
    expect(subscribed[1]).toEqual(subscribed[0]);
    for (const conn of [r, b]) conn.write(encodeCommand(["SET", "own", "v"]));
    // The push comes before the +OK, as Redis writes it into the reply buffer first.
    const replies = await Promise.all([r.readReplies(2), b.readReplies(2)]);
    expect(replies[1]).toEqual(replies[0]);
    await sameEvents();
  });
});
