// Stream consumer groups against the real redis-server 7.0: XGROUP, XREADGROUP (blocking
// too, over real connections), XACK, XPENDING, XCLAIM, XAUTOCLAIM, XINFO with group data,
// their errors, RESP2 and RESP3, keyspace events and what they propagate. Times that
// depend on the clock (idle, seen-time, delivery times) are normalized before comparing.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { Oracle, type RespConn, encodeCommand } from "../oracle/harness.ts";
import { blockedClients } from "../oracle/sides.ts";
import { normalizeTimes } from "../oracle/stream-times.ts";
import { eventsUntilMarker, listenForEvents } from "../oracle/keyspace-events.ts";

let o: Oracle;
let r3: [RespConn, RespConn];

beforeAll(async () => {
  o = await Oracle.start(["--enable-debug-command", "yes"]);
  r3 = await o.connectResp3();
});
afterAll(() => o.stop());
beforeEach(async () => {
  await o.sameAll([["FLUSHALL"], ["CONFIG", "SET", "stream-node-max-entries", "3"]]);
});

async function sameNormalized(conns: [RespConn, RespConn], args: string[]): Promise<string> {
  const [want, got] = await Promise.all([conns[0].call(...args), conns[1].call(...args)]);
  const [a, b] = [normalizeTimes(want), normalizeTimes(got)];
  if (a !== b) throw new Error(`reply differs for ${JSON.stringify(args)}\n  redis:  ${JSON.stringify(want)}\n  redbun: ${JSON.stringify(got)}`);
  return want;
}

/** Same reply in RESP2 and RESP3, times normalized. */
async function sameBoth(...args: string[]): Promise<string> {
  await sameNormalized(r3, args);
  return sameNormalized([o.r, o.b], args);
}

/** Everything observable about the groups of `key`. */
async function sameGroups(key: string, groups: string[]): Promise<void> {
  await sameBoth("XINFO", "STREAM", key, "FULL");
  await sameBoth("XINFO", "GROUPS", key);
  for (const group of groups) {
    await sameBoth("XINFO", "CONSUMERS", key, group);
    await sameBoth("XPENDING", key, group);
    await sameBoth("XPENDING", key, group, "-", "+", "100");
  }
}

async function fill(key: string, n: number): Promise<void> {
  for (let i = 1; i <= n; i++) await o.same("XADD", key, `${i}-1`, "f", `v${i}`);
}

describe("XGROUP", () => {
  test("CREATE, SETID, DESTROY, CREATECONSUMER, DELCONSUMER and their errors", async () => {
    await fill("s", 5);
    await o.sameAll([
      ["XGROUP", "HELP"],
      ["XGROUP", "NOPE"],
      ["XGROUP", "CREATE", "s"],
      ["XGROUP", "CREATE", "s", "g1", "0"],
      ["XGROUP", "CREATE", "s", "g1", "0"],
      ["XGROUP", "CREATE", "s", "g2", "$"],
      ["XGROUP", "CREATE", "s", "g3", "2-1", "ENTRIESREAD", "2"],
      ["XGROUP", "CREATE", "s", "g4", "3", "ENTRIESREAD", "-1"],
      ["XGROUP", "CREATE", "s", "g5", "3", "ENTRIESREAD", "-2"],
      ["XGROUP", "CREATE", "s", "g5", "3", "ENTRIESREAD", "x"],
      ["XGROUP", "CREATE", "s", "g5", "3", "ENTRIESREAD"],
      ["XGROUP", "CREATE", "s", "g5", "3", "FOO"],
      ["XGROUP", "CREATE", "s", "g5", "+"],
      ["XGROUP", "CREATE", "s", "g5", "bad"],
      ["XGROUP", "CREATE", "s", "g5", "3", "MKSTREAM", "MKSTREAM", "ENTRIESREAD", "1", "MKSTREAM"],
      ["XGROUP", "CREATE", "missing", "g", "$"],
      ["XGROUP", "CREATE", "made", "g", "$", "MKSTREAM"],
      ["XGROUP", "CREATE", "made2", "g", "5-5", "MKSTREAM", "ENTRIESREAD", "7"],
      ["EXISTS", "made", "made2"],
      ["SET", "str", "x"],
      ["XGROUP", "CREATE", "str", "g", "$"],
      ["XGROUP", "CREATE", "str", "g", "$", "MKSTREAM"],
      ["XGROUP", "SETID", "s", "g1", "3-1"],
      ["XGROUP", "SETID", "s", "g1", "$", "ENTRIESREAD", "5"],
      ["XGROUP", "SETID", "s", "g1", "+"],
      ["XGROUP", "SETID", "s", "g1", "-"],
      ["XGROUP", "SETID", "s", "g1", "1", "ENTRIESREAD"],
      ["XGROUP", "SETID", "s", "g1", "1", "MKSTREAM"],
      ["XGROUP", "SETID", "s", "nogroup", "1"],
      ["XGROUP", "SETID", "missing", "g", "1"],
      ["XGROUP", "SETID", "str", "g", "1"],
      ["XGROUP", "CREATECONSUMER", "s", "g1", "alice"],
      ["XGROUP", "CREATECONSUMER", "s", "g1", "alice"],
      ["XGROUP", "CREATECONSUMER", "s", "nogroup", "alice"],
      ["XGROUP", "CREATECONSUMER", "missing", "g1", "alice"],
      ["XGROUP", "DELCONSUMER", "s", "g1", "bob"],
      ["XGROUP", "DELCONSUMER", "s", "nogroup", "bob"],
      ["XGROUP", "DESTROY", "s", "g2"],
      ["XGROUP", "DESTROY", "s", "g2"],
      ["XGROUP", "DESTROY", "missing", "g2"],
      ["XGROUP", "DESTROY", "str", "g2"],
      ["XGROUP", "DESTROY", "s"],
      ["XGROUP", "DESTROY", "s", "g1", "x"],
    ]);
    await sameGroups("s", ["g1", "g3", "g4"]);
    await sameGroups("made2", ["g"]);
  });

  test("DELCONSUMER returns and drops the consumer's pending entries", async () => {
    await fill("s", 4);
    await o.sameAll([
      ["XGROUP", "CREATE", "s", "g", "0"],
      ["XREADGROUP", "GROUP", "g", "alice", "COUNT", "3", "STREAMS", "s", ">"],
      ["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"],
    ]);
    await sameGroups("s", ["g"]);
    await o.same("XGROUP", "DELCONSUMER", "s", "g", "alice");
    await sameGroups("s", ["g"]);
  });
});

describe("XREADGROUP", () => {
  test("new entries, history, NOACK, COUNT, several streams, deleted entries in the history", async () => {
    await fill("a", 6);
    await fill("b", 2);
    await o.sameAll([
      ["XGROUP", "CREATE", "a", "g", "0"],
      ["XGROUP", "CREATE", "b", "g", "$"],
      ["XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "a", ">"],
      ["XREADGROUP", "GROUP", "g", "bob", "COUNT", "1", "STREAMS", "a", "b", ">", ">"],
      ["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "a", "b", "0", ">"],
      ["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "a", "1-1"],
      ["XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "a", "0"],
      ["XREADGROUP", "GROUP", "g", "nobody", "STREAMS", "a", "0"],
      ["XREADGROUP", "GROUP", "g", "carol", "NOACK", "COUNT", "1", "STREAMS", "a", ">"],
      ["XDEL", "a", "1-1"],
      ["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "a", "0"],
      ["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "b", ">"],
      ["XADD", "b", "9-9", "x", "y"],
      ["XREADGROUP", "GROUP", "g", "dave", "STREAMS", "b", ">"],
    ]);
    await sameGroups("a", ["g"]);
    await sameGroups("b", ["g"]);
    await o.sameAll([["XGROUP", "SETID", "a", "g", "0"], ["XREADGROUP", "GROUP", "g", "erin", "COUNT", "3", "STREAMS", "a", ">"]]);
    await sameGroups("a", ["g"]);
    await sameBoth("XREADGROUP", "GROUP", "g", "erin", "STREAMS", "a", "0");
  });

  test("errors", async () => {
    await fill("a", 2);
    await o.sameAll([
      ["SET", "str", "x"],
      ["XGROUP", "CREATE", "a", "g", "0"],
      ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "a"],
      ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", ">", "x"],
      ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", "$"],
      ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", "bad"],
      ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "missing", ">"],
      ["XREADGROUP", "GROUP", "nog", "c", "STREAMS", "a", ">"],
      ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "str", ">"],
      ["XREADGROUP", "COUNT", "1", "BLOCK", "0", "STREAMS", "a", ">"],
      ["XREADGROUP", "GROUP", "g", "c", "COUNT", "x", "STREAMS", "a", ">"],
      ["XREADGROUP", "GROUP", "g", "c", "BLOCK", "-1", "STREAMS", "a", ">"],
      ["XREADGROUP", "GROUP", "g", "c", "FOO", "STREAMS", "a", ">"],
      ["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "NOACK", "1"],
      ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", "missing", ">", ">"],
      ["XREAD", "GROUP", "g", "c", "STREAMS", "a", ">"],
      ["XREAD", "NOACK", "STREAMS", "a", ">"],
    ]);
    await sameGroups("a", ["g"]);
  });
});

describe("XACK XPENDING", () => {
  test("acknowledging, summary and extended forms, IDLE, exclusive ranges, per consumer", async () => {
    await fill("s", 8);
    await o.sameAll([
      ["XGROUP", "CREATE", "s", "g", "0"],
      ["XREADGROUP", "GROUP", "g", "alice", "COUNT", "3", "STREAMS", "s", ">"],
      ["XREADGROUP", "GROUP", "g", "bob", "COUNT", "3", "STREAMS", "s", ">"],
      ["XGROUP", "CREATECONSUMER", "s", "g", "idle"],
      ["XACK", "s", "g", "2-1", "2-1", "9-9"],
      ["XACK", "s", "g", "bad"],
      ["XACK", "s", "g", "3-1", "bad"],
      ["XACK", "s", "nog", "3-1"],
      ["XACK", "missing", "g", "3-1"],
      ["SET", "str", "x"],
      ["XACK", "str", "g", "3-1"],
      ["XPENDING", "str", "g"],
      ["XPENDING", "missing", "g"],
      ["XPENDING", "s", "nog"],
      ["XPENDING", "s", "g", "-"],
      ["XPENDING", "s", "g", "-", "+"],
      ["XPENDING", "s", "g", "-", "+", "x"],
      ["XPENDING", "s", "g", "bad", "+", "1"],
      ["XPENDING", "s", "g", "-", "bad", "1"],
      ["XPENDING", "s", "g", "IDLE", "x", "-", "+", "1"],
      ["XPENDING", "s", "g", "IDLE", "0", "-", "+"],
      ["XPENDING", "s", "g", "-", "+", "1", "alice", "extra", "more", "args"],
      ["XPENDING", "s", "g", "(18446744073709551615-18446744073709551615", "+", "1"],
      ["XPENDING", "s", "g", "-", "(0-0", "1"],
      ["XPENDING", "s", "g", "IDLE", "100000", "-", "+", "10"],
      ["XPENDING", "s", "g", "-", "+", "0"],
      ["XPENDING", "s", "g", "-", "+", "-5"],
      ["XPENDING", "s", "g", "-", "+", "2", "nobody"],
    ]);
    for (const range of [["-", "+", "10"], ["(1-1", "5-1", "10"], ["3", "(6-1", "2"], ["-", "+", "10", "bob"], ["IDLE", "0", "-", "+", "10", "alice"]]) {
      await sameBoth("XPENDING", "s", "g", ...range);
    }
    await sameGroups("s", ["g"]);
    await o.same("XACK", "s", "g", "1-1", "3-1", "4-1", "5-1", "6-1");
    await sameGroups("s", ["g"]);
  });
});

describe("XCLAIM XAUTOCLAIM", () => {
  test("claiming by idle time, options, FORCE, JUSTID, LASTID, deleted entries dropped", async () => {
    await fill("s", 8);
    await o.sameAll([
      ["XGROUP", "CREATE", "s", "g", "0"],
      ["XREADGROUP", "GROUP", "g", "alice", "COUNT", "4", "STREAMS", "s", ">"],
      ["XCLAIM", "s", "g", "bob", "100000", "1-1"],
      ["XCLAIM", "s", "g", "bob", "0", "1-1", "2-1", "7-1"],
      ["XCLAIM", "s", "g", "bob", "0", "3-1", "JUSTID"],
      ["XCLAIM", "s", "g", "bob", "0", "3-1", "RETRYCOUNT", "7", "JUSTID"],
      ["XCLAIM", "s", "g", "carol", "0", "4-1", "IDLE", "5000000", "RETRYCOUNT", "2"],
      ["XCLAIM", "s", "g", "dave", "1000000", "4-1", "JUSTID"],
      ["XCLAIM", "s", "g", "erin", "0", "6-1", "7-1", "FORCE", "JUSTID", "TIME", "1000", "RETRYCOUNT", "3"],
      ["XCLAIM", "s", "g", "erin", "0", "8-1", "LASTID", "9-0", "JUSTID"],
      ["XCLAIM", "s", "g", "erin", "0", "99-1", "LASTID", "50-0"],
      ["XCLAIM", "s", "g", "erin", "x", "1-1"],
      ["XCLAIM", "s", "g", "erin", "-5", "1-1", "JUSTID"],
      ["XCLAIM", "s", "g", "erin", "0", "1-1", "IDLE", "x"],
      ["XCLAIM", "s", "g", "erin", "0", "1-1", "TIME", "x"],
      ["XCLAIM", "s", "g", "erin", "0", "1-1", "RETRYCOUNT", "x"],
      ["XCLAIM", "s", "g", "erin", "0", "1-1", "LASTID", "x"],
      ["XCLAIM", "s", "g", "erin", "0", "1-1", "BOGUS"],
      ["XCLAIM", "s", "g", "erin", "0", "1-1", "IDLE"],
      ["XCLAIM", "s", "nog", "erin", "0", "1-1"],
      ["XCLAIM", "missing", "g", "erin", "0", "1-1"],
      ["SET", "str", "x"],
      ["XCLAIM", "str", "g", "erin", "0", "1-1"],
    ]);
    await sameGroups("s", ["g"]);
    await o.sameAll([
      ["XDEL", "s", "1-1", "2-1"],
      ["XPENDING", "s", "g"],
      ["XCLAIM", "s", "g", "frank", "0", "1-1", "2-1", "3-1", "JUSTID"],
    ]);
    await sameGroups("s", ["g"]);
  });

  test("XAUTOCLAIM: cursor, COUNT, JUSTID, idle filter, deleted IDs, errors", async () => {
    await fill("s", 10);
    await o.sameAll([
      ["XGROUP", "CREATE", "s", "g", "0"],
      ["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"],
      ["XCLAIM", "s", "g", "alice", "0", "1-1", "2-1", "3-1", "IDLE", "9000000", "JUSTID"],
      ["XAUTOCLAIM", "s", "g", "bob", "1000000", "-", "COUNT", "2"],
      ["XAUTOCLAIM", "s", "g", "bob", "1000000", "0"],
      ["XAUTOCLAIM", "s", "g", "bob", "0", "(4-1", "COUNT", "3", "JUSTID"],
      ["XDEL", "s", "8-1", "9-1"],
      ["XAUTOCLAIM", "s", "g", "carol", "0", "7-1", "COUNT", "2"],
      ["XAUTOCLAIM", "s", "g", "carol", "0", "0-0", "COUNT", "100"],
      ["XAUTOCLAIM", "s", "g", "carol", "0", "+"],
      ["XAUTOCLAIM", "s", "g", "carol", "x", "0"],
      ["XAUTOCLAIM", "s", "g", "carol", "0", "bad"],
      ["XAUTOCLAIM", "s", "g", "carol", "0", "(18446744073709551615-18446744073709551615"],
      ["XAUTOCLAIM", "s", "g", "carol", "0", "0", "COUNT", "0"],
      ["XAUTOCLAIM", "s", "g", "carol", "0", "0", "COUNT", "x"],
      ["XAUTOCLAIM", "s", "g", "carol", "0", "0", "COUNT", "576460752303423488"],
      ["XAUTOCLAIM", "s", "g", "carol", "0", "0", "COUNT"],
      ["XAUTOCLAIM", "s", "g", "carol", "0", "0", "FOO"],
      ["XAUTOCLAIM", "s", "nog", "carol", "0", "0"],
      ["XAUTOCLAIM", "missing", "g", "carol", "0", "0"],
      ["SET", "str", "x"],
      ["XAUTOCLAIM", "str", "g", "carol", "0", "0"],
    ]);
    await sameGroups("s", ["g"]);
    await sameBoth("XAUTOCLAIM", "s", "g", "dave", "0", "-", "COUNT", "1");
  });
});

describe("XINFO with groups, XTRIM and DEL", () => {
  test("lag and entries-read across deletions, trims and SETID", async () => {
    await fill("s", 9);
    await o.sameAll([
      ["XGROUP", "CREATE", "s", "g1", "0"],
      ["XGROUP", "CREATE", "s", "g2", "3-1"],
      ["XGROUP", "CREATE", "s", "g3", "3-1", "ENTRIESREAD", "3"],
      ["XREADGROUP", "GROUP", "g1", "c", "COUNT", "2", "STREAMS", "s", ">"],
    ]);
    await sameGroups("s", ["g1", "g2", "g3"]);
    await o.sameAll([["XDEL", "s", "5-1"], ["XREADGROUP", "GROUP", "g3", "c", "COUNT", "3", "STREAMS", "s", ">"]]);
    await sameGroups("s", ["g1", "g2", "g3"]);
    await o.sameAll([["XTRIM", "s", "MAXLEN", "3"], ["XREADGROUP", "GROUP", "g2", "c", "STREAMS", "s", ">"]]);
    await sameGroups("s", ["g1", "g2", "g3"]);
    await sameBoth("XINFO", "STREAM", "s");
    await sameBoth("XINFO", "STREAM", "s", "FULL", "COUNT", "1");
    await o.same("DEL", "s");
    await o.same("XPENDING", "s", "g1");
  });
});

/** Sends a command on a pair of connections (Redis's, redbun's) without waiting for the reply. */
function send(conns: [RespConn, RespConn], ...args: string[]): void {
  for (const conn of conns) conn.write(encodeCommand(args));
}

/** The next reply on each connection of the pair must be the same. */
async function replies(conns: [RespConn, RespConn]): Promise<void> {
  const [want, got] = await Promise.all([conns[0].readReplies(1), conns[1].readReplies(1)]);
  expect(got).toBe(want);
}

describe("blocking XREADGROUP", () => {
  test("served by XADD, NOACK, several clients in order, timeouts", async () => {
    await fill("s", 2);
    await o.sameAll([["XGROUP", "CREATE", "s", "g", "$"]]);
    const clients = await o.connectBoth();
    const others = await o.connectBoth();
    send(clients, "XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">");
    send(others, "XREADGROUP", "GROUP", "g", "bob", "NOACK", "BLOCK", "0", "STREAMS", "s", ">");
    await Promise.all([blockedClients(o.r, 2), blockedClients(o.b, 2)]);
    // Neither SETID nor XDEL adds an entry: both stay blocked.
    await o.sameAll([["XGROUP", "SETID", "s", "g", "0"], ["XDEL", "s", "1-1"], ["XADD", "s", "5-1", "a", "1"], ["XADD", "s", "6-1", "b", "2"]]);
    await replies(clients);
    await replies(others);
    await sameGroups("s", ["g"]);
    send(clients, "XREADGROUP", "GROUP", "g", "alice", "BLOCK", "30", "STREAMS", "s", ">");
    await replies(clients);
    await o.sameAll([["MULTI"], ["XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">"], ["EXEC"]]);
    // Served without COUNT, a blocked read gets at most 1000 entries, XREAD's too.
    send(clients, "XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">");
    send(others, "XREAD", "BLOCK", "0", "STREAMS", "s", "$");
    await Promise.all([blockedClients(o.r, 2), blockedClients(o.b, 2)]);
    await o.same("MULTI");
    for (let i = 0; i < 1100; i++) await o.same("XADD", "s", `${100 + i}-1`, "n", String(i));
    await o.same("EXEC");
    await replies(clients);
    await replies(others);
    for (const conn of [...clients, ...others]) conn.close();
  });

  test("a destroyed group and a deleted key end the wait with an error", async () => {
    await fill("s", 1);
    await o.sameAll([["XGROUP", "CREATE", "s", "g", "$"]]);
    const clients = await o.connectBoth();
    send(clients, "XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">");
    await Promise.all([blockedClients(o.r, 1), blockedClients(o.b, 1)]);
    await o.same("XGROUP", "DESTROY", "s", "g");
    await replies(clients);
    await o.same("XGROUP", "CREATE", "s", "g", "$");
    send(clients, "XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">");
    await Promise.all([blockedClients(o.r, 1), blockedClients(o.b, 1)]);
    await o.same("DEL", "s");
    await replies(clients);
    await o.sameAll([["XADD", "s", "1-1", "a", "1"], ["XGROUP", "CREATE", "s", "g", "$"]]);
    send(clients, "XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">");
    await Promise.all([blockedClients(o.r, 1), blockedClients(o.b, 1)]);
    await o.same("SET", "s", "string now");
    await replies(clients);
    await o.sameAll([["DEL", "s"], ["XADD", "s", "1-1", "a", "1"], ["XGROUP", "CREATE", "s", "g", "$"]]);
    // Blocked on two streams, one of which goes: the client is told at once.
    await o.sameAll([["XADD", "t", "1-1", "a", "1"], ["XGROUP", "CREATE", "t", "g", "$"]]);
    send(clients, "XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", "t", ">", ">");
    await Promise.all([blockedClients(o.r, 1), blockedClients(o.b, 1)]);
    await o.same("UNLINK", "t");
    await replies(clients);
    // FLUSHDB and FLUSHALL delete the stream too; a blocked XREAD stays blocked.
    for (const flush of ["FLUSHDB", "FLUSHALL"]) {
      await o.sameAll([["XADD", "s", "1-1", "a", "1"], ["XGROUP", "CREATE", "s", "g", "$"]]);
      send(clients, "XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">");
      await Promise.all([blockedClients(o.r, 1), blockedClients(o.b, 1)]);
      await o.same(flush);
      await replies(clients);
    }
    send(clients, "XREAD", "BLOCK", "0", "STREAMS", "s", "$");
    await Promise.all([blockedClients(o.r, 1), blockedClients(o.b, 1)]);
    await o.same("FLUSHALL");
    await o.same("XADD", "s", "1-1", "a", "1");
    await replies(clients);
    for (const conn of clients) conn.close();
  });
});

/** The changes since the last save (server.dirty) and the keyspace hits and misses, as INFO shows them. */
async function counters(conn: RespConn): Promise<number[]> {
  const info = await conn.call("INFO");
  return ["rdb_changes_since_last_save", "keyspace_hits", "keyspace_misses"].map((name) => Number(info.match(new RegExp(`${name}:(\\d+)`))![1]));
}

describe("keyspace events, dirty counts, keyspace hits", () => {
  test("every group command sends Redis's events and counts Redis's changes and lookups", async () => {
    const subs = await o.connectBoth();
    await listenForEvents(subs, "marker");
    await o.same("CONFIG", "SET", "notify-keyspace-events", "KEA");
    const steps: string[][] = [
      ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"],
      ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"],
      ["XADD", "s", "1-1", "a", "1"],
      ["XADD", "s", "2-1", "a", "2"],
      ["XADD", "s", "3-1", "a", "3"],
      ["XGROUP", "SETID", "s", "g", "0"],
      ["XGROUP", "CREATECONSUMER", "s", "g", "c1"],
      ["XGROUP", "CREATECONSUMER", "s", "g", "c1"],
      ["XREADGROUP", "GROUP", "g", "c2", "COUNT", "2", "STREAMS", "s", ">"],
      ["XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", "0"],
      ["XREADGROUP", "GROUP", "g", "c3", "NOACK", "STREAMS", "s", ">"],
      ["XREADGROUP", "GROUP", "g", "c3", "STREAMS", "s", ">"],
      ["XACK", "s", "g", "1-1", "5-5"],
      ["XCLAIM", "s", "g", "c4", "0", "2-1"],
      ["XCLAIM", "s", "g", "c4", "0", "3-1", "FORCE", "JUSTID"],
      ["XCLAIM", "s", "g", "c4", "0", "9-9", "LASTID", "9-9"],
      ["XDEL", "s", "2-1"],
      ["XAUTOCLAIM", "s", "g", "c5", "0", "-"],
      ["XAUTOCLAIM", "s", "g", "c6", "0", "-"],
      ["XPENDING", "s", "g"],
      ["XGROUP", "DELCONSUMER", "s", "g", "c5"],
      ["XGROUP", "DELCONSUMER", "s", "g", "c5"],
      ["XGROUP", "DESTROY", "s", "g"],
      ["XGROUP", "DESTROY", "s", "g"],
    ];
    for (const step of steps) {
      const before = await Promise.all([counters(o.r), counters(o.b)]);
      await sameBoth(...step);
      const after = await Promise.all([counters(o.r), counters(o.b)]);
      const changes = (side: number) => after[side]!.map((n, i) => n - before[side]![i]!);
      expect({ step, changes: changes(1) }).toEqual({ step, changes: changes(0) });
      await o.same("PUBLISH", "marker", "end");
      const [want, got] = await Promise.all(subs.map((sub) => eventsUntilMarker(sub, "marker")));
      expect({ step, events: got }).toEqual({ step, events: want });
    }
    await o.same("CONFIG", "SET", "notify-keyspace-events", "");
    for (const sub of subs) sub.close();
  });
});

describe("WATCH", () => {
  test("group commands touch the key for WATCH as Redis's do", async () => {
    await fill("s", 3);
    await o.same("XGROUP", "CREATE", "s", "g", "0");
    for (const step of [
      ["XGROUP", "CREATE", "s", "g2", "0"],
      ["XGROUP", "CREATE", "new", "g", "0", "MKSTREAM"],
      ["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">"],
      ["XACK", "s", "g", "1-1"],
      ["XCLAIM", "s", "g", "d", "0", "2-1", "FORCE"],
      ["XGROUP", "SETID", "s", "g", "0"],
      ["XGROUP", "DESTROY", "s", "g2"],
    ]) {
      await o.sameAll([["WATCH", "s", "new"], step, ["MULTI"], ["PING"], ["EXEC"]]);
    }
  });
});

describe("memory accounting", () => {
  test("groups, consumers and pending entries count in MEMORY USAGE, and leave it when they go", async () => {
    const b = o.b;
    for (let i = 1; i <= 200; i++) await b.call("XADD", "s", `${i}-1`, "f", "v");
    const usage = async (): Promise<number> => Number((await b.call("MEMORY", "USAGE", "s")).slice(1, -2));
    const bare = await usage();
    await b.call("XGROUP", "CREATE", "s", "g", "0");
    const withGroup = await usage();
    expect(withGroup).toBeGreaterThan(bare);
    await b.call("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">");
    const withPending = await usage();
    // 200 pending entries, each in two maps: well over 20 KB whatever the exact estimate.
    expect(withPending - withGroup).toBeGreaterThan(200 * 100);
    await b.call("XACK", "s", "g", ...Array.from({ length: 200 }, (_, i) => `${i + 1}-1`));
    await b.call("XGROUP", "DELCONSUMER", "s", "g", "alice");
    expect(await usage()).toBe(withGroup);
    await b.call("XGROUP", "DESTROY", "s", "g");
    expect(await usage()).toBe(bare);
    await b.call("XGROUP", "CREATE", "s", "g", "0");
    await b.call("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">");
    await b.call("COPY", "s", "copy");
    // The copy's nodes are cut to size, so only its groups' share is compared.
    expect(Number((await b.call("MEMORY", "USAGE", "copy")).slice(1, -2))).toBeGreaterThan(bare + 200 * 100);
  });
});
