// Function libraries outlive the process and reach replicas, against the real redis-server:
// an RDB with libraries moves between Redis and redbun both ways, an AOF rewrite writes them
// as FUNCTION LOAD commands as Redis does, a restart from the AOF rebuilds them, and a
// replica gets them by full sync and by the command stream.

import { afterEach, expect, test } from "bun:test";
import { copyFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { RespConn, startRedbun, type ServerProcess } from "../oracle/harness.ts";
import { AOF_ARGS, aofFile, readCommands, startIn, tempDir, type Which } from "../persistence/aof-helpers.ts";
import { waitCaughtUp } from "../replication/helpers.ts";

const LIBRARY = `#!lua name=kept
redis.register_function('kept_set', function(keys, args) return redis.call('SET', keys[1], args[1]) end)
redis.register_function{function_name='kept_get', callback=function(keys) return redis.call('GET', keys[1]) end, flags={'no-writes'}, description='reads'}`;

const RDB_ARGS = ["--appendonly", "no", "--enable-debug-command", "yes"];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function started(which: Which, dir: string, args: string[]): Promise<{ server: ServerProcess; conn: RespConn }> {
  const server = await startIn(which, dir, args);
  const conn = await RespConn.connect(server.port);
  cleanups.push(async () => {
    conn.close();
    await server.stop();
  });
  return { server, conn };
}

function dirFor(name: string): string {
  const dir = tempDir(name);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("an RDB with a library loads on the other server, both ways", async () => {
  for (const [from, to] of [["redis", "redbun"], ["redbun", "redis"]] as const) {
    const source = dirFor(`fn-rdb-${from}`);
    const target = dirFor(`fn-rdb-${to}`);
    const writer = await started(from, source, RDB_ARGS);
    expect(await writer.conn.call("FUNCTION", "LOAD", LIBRARY)).toBe("$4\r\nkept\r\n");
    expect(await writer.conn.call("SAVE")).toBe("+OK\r\n");
    copyFileSync(join(source, "dump.rdb"), join(target, "dump.rdb"));
    const reader = await started(to, target, RDB_ARGS);
    expect(await reader.conn.call("FCALL", "kept_set", "1", "k", from)).toBe("+OK\r\n");
    expect(await reader.conn.call("FCALL_RO", "kept_get", "1", "k")).toBe(`$${from.length}\r\n${from}\r\n`);
    expect(await reader.conn.call("FUNCTION", "DUMP")).toBe(await writer.conn.call("FUNCTION", "DUMP"));
  }
});

test("DEBUG RELOAD keeps the libraries; FLUSHALL does not remove them", async () => {
  const dir = dirFor("fn-reload");
  const { conn } = await started("redbun", dir, RDB_ARGS);
  await conn.call("FUNCTION", "LOAD", LIBRARY);
  expect(await conn.call("FLUSHALL")).toBe("+OK\r\n");
  expect(await conn.call("DEBUG", "RELOAD")).toBe("+OK\r\n");
  expect(await conn.call("FCALL", "kept_set", "1", "k", "v")).toBe("+OK\r\n");
  expect(await conn.call("FUNCTION", "STATS")).toContain(":1\r\n$15\r\nfunctions_count\r\n:2\r\n");
});

test("an AOF rewrite writes the libraries as FUNCTION LOAD, as Redis does, and a restart rebuilds them", async () => {
  const files: string[][][] = [];
  for (const which of ["redis", "redbun"] as const) {
    const dir = dirFor(`fn-aof-${which}`);
    const first = await started(which, dir, AOF_ARGS);
    await first.conn.call("FUNCTION", "LOAD", LIBRARY);
    await first.conn.call("FCALL", "kept_set", "1", "k", "v");
    await first.conn.call("FUNCTION", "LOAD", "REPLACE", LIBRARY);
    expect(await first.conn.call("BGREWRITEAOF")).toStartWith("+Background append only file rewriting");
    for (let i = 0; i < 200 && (await first.conn.call("INFO", "persistence")).includes("aof_rewrite_in_progress:1"); i++) await Bun.sleep(10);
    await Bun.sleep(100);
    files.push(readCommands(aofFile(dir, ".base.aof")));
    await first.conn.call("DEBUG", "LOADAOF");
    expect(await first.conn.call("FCALL_RO", "kept_get", "1", "k")).toBe("$1\r\nv\r\n");
  }
  expect(files[1]).toEqual(files[0]!);
  expect(files[0]![0]).toEqual(["FUNCTION", "LOAD", LIBRARY]);
});

test("a replica gets the libraries by full sync and then by the stream", async () => {
  const master = await startRedbun(["--dir", dirFor("fn-master"), "--repl-diskless-sync-delay", "0"]);
  const replica = await startRedbun(["--dir", dirFor("fn-replica")]);
  const m = await RespConn.connect(master.port);
  const r = await RespConn.connect(replica.port);
  cleanups.push(async () => {
    m.close();
    r.close();
    await Promise.all([master.stop(), replica.stop()]);
  });
  await m.call("FUNCTION", "LOAD", LIBRARY);
  await m.call("FCALL", "kept_set", "1", "k", "v");
  await r.call("REPLICAOF", "127.0.0.1", String(master.port));
  await waitCaughtUp(m, r);
  expect(await r.call("FCALL_RO", "kept_get", "1", "k")).toBe("$1\r\nv\r\n");
  expect(await r.call("FCALL", "kept_set", "1", "k", "w")).toBe("-READONLY Can not run script with write flag on readonly replica\r\n");
  // A script without flags runs on the replica, but its writes are refused.
  expect(await r.call("EVAL", "return redis.call('GET', 'k')", "0")).toBe("$1\r\nv\r\n");
  expect(await r.call("EVAL", "return redis.call('SET', 'k', 'x')", "0")).toStartWith("-READONLY You can't write against a read only replica. script: ");
  await m.call("FUNCTION", "LOAD", "#!lua name=later\nredis.register_function{function_name='later_fn', callback=function() return 'later' end, flags={'no-writes'}}");
  await m.call("FUNCTION", "DELETE", "kept");
  await waitCaughtUp(m, r);
  expect(await r.call("FCALL", "later_fn", "0")).toBe("$5\r\nlater\r\n");
  expect(await r.call("FCALL_RO", "kept_get", "1", "k")).toBe("-ERR Function not found\r\n");
}, 20000);
