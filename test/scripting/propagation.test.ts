// What scripts write to the AOF, against the real redis-server: Redis 7.0 propagates a
// script's effects, not the script (one write alone, several wrapped in MULTI/EXEC, a
// read-only or failed-before-writing script nothing), and both files must hold the same
// commands.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { RespConn, type ServerProcess } from "../oracle/harness.ts";
import { aofFile, readCommands, startIn, tempDir } from "../persistence/aof-helpers.ts";

const dirs = { redis: tempDir("script-aof-redis"), redbun: tempDir("script-aof-redbun") };
let servers: ServerProcess[] = [];
let r: RespConn;
let b: RespConn;

beforeAll(async () => {
  servers = await Promise.all([startIn("redis", dirs.redis), startIn("redbun", dirs.redbun)]);
  [r, b] = await Promise.all([RespConn.connect(servers[0]!.port), RespConn.connect(servers[1]!.port)]);
});
afterAll(async () => {
  r.close();
  b.close();
  await Promise.all(servers.map((s) => s.stop()));
  for (const dir of Object.values(dirs)) rmSync(dir, { recursive: true, force: true });
});

async function same(...args: string[]): Promise<void> {
  const [want, got] = await Promise.all([r.call(...args), b.call(...args)]);
  expect(got).toBe(want);
}

test("a script's writes reach the AOF as the commands it ran", async () => {
  await same("EVAL", "return redis.call('SET', KEYS[1], ARGV[1])", "1", "k", "v");
  await same("EVAL", "redis.call('INCR', 'n'); redis.call('RPUSH', 'l', 'a', 'b'); return redis.call('GET', 'n')", "0");
  await same("EVAL", "return redis.call('GET', 'k')", "0");
  await same("EVAL", "redis.call('SELECT', 2); redis.call('SET', 'in2', '1'); return 1", "0");
  await same("EVAL", "redis.call('SET', 'before', '1'); return redis.call('INCR', 'l')", "0");
  await same("EVAL", "redis.call('SET', 'caught', '1'); redis.pcall('INCR', 'l'); return redis.call('DEL', 'k')", "0");
  await same("SET", "after", "1");
  const files = [readCommands(aofFile(dirs.redis, ".incr.aof")), readCommands(aofFile(dirs.redbun, ".incr.aof"))];
  expect(files[1]).toEqual(files[0]!);
  // The effects are there, wrapped when there are several; no EVAL is.
  expect(files[0]!.some((cmd) => cmd[0] === "EVAL")).toBe(false);
  expect(files[0]!).toContainEqual(["MULTI"]);
});
