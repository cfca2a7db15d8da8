// redbun as a master: a real Redis 7.0 replica syncs from it in full, follows its writes,
// continues from the backlog after a lost link, and ends with the same data.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RespConn, encodeCommand, startRedbun, startRedis, type ServerProcess } from "../oracle/harness.ts";
import { buildDataset, bytes, expectSameData } from "../persistence/dataset.ts";
import { infoField, waitCaughtUp, waitFor } from "./helpers.ts";

const DEBUG = ["--enable-debug-command", "yes"];

let master: ServerProcess;
let replica: ServerProcess | null = null;
let m: RespConn;
// A replica stores the RDB it receives in its dir: a dir of its own, or it would leave a
// dump.rdb behind where other tests' servers start.
const replicaDir = mkdtempSync(join(tmpdir(), "redbun-replica-"));

beforeAll(async () => {
  master = await startRedbun(DEBUG);
  m = await RespConn.connect(master.port);
  await buildDataset(m);
});

afterAll(async () => {
  m.close();
  await replica?.stop();
  await master.stop();
  rmSync(replicaDir, { recursive: true, force: true });
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
