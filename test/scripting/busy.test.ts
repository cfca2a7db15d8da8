// A script past busy-reply-threshold, against the real redis-server: other clients get BUSY
// (except for the allow_busy commands), SCRIPT KILL stops a script that has not written,
// one that wrote is UNKILLABLE and only SHUTDOWN NOSAVE ends it, a busy script that ends on
// its own replies and its effects reach the AOF as one transaction, and what its own
// client pipelined behind it runs afterwards.

import { afterAll, beforeAll, beforeEach, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { Oracle, RespConn, encodeCommand } from "../oracle/harness.ts";
import { AOF_ARGS, aofFile, readCommands, startIn, tempDir } from "../persistence/aof-helpers.ts";

const THRESHOLD = "100";
let o: Oracle;

beforeAll(async () => {
  o = await Oracle.start(["--busy-reply-threshold", THRESHOLD]);
});
afterAll(() => o.stop());
beforeEach(async () => {
  await o.same("FLUSHALL");
});

const SPIN = "local i = 0 while true do i = i + 1 end";
const WRITE_THEN_SPIN = "redis.call('SET', 'w', '1') local i = 0 while true do i = i + 1 end";
/** Writes, runs for `ARGV[1]` ms by the server's clock, writes again and answers. */
const SPIN_FOR = `
redis.call('SET', KEYS[1], 'started')
local t = redis.call('TIME')
local start = t[1] * 1000 + math.floor(t[2] / 1000)
repeat
  for i = 1, 10000 do end
  t = redis.call('TIME')
until t[1] * 1000 + math.floor(t[2] / 1000) - start >= tonumber(ARGV[1])
redis.call('SET', KEYS[1], 'done')
redis.call('INCR', KEYS[2])
return 'finished'`;

/** Wait until `conn`'s server answers PING with BUSY (the script passed its threshold). */
async function untilBusy(conn: RespConn): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await conn.call("PING")).startsWith("-BUSY")) return;
    await Bun.sleep(10);
  }
  throw new Error("the server never got busy");
}

/** Start `script` on a connection of each server; resolves with the two replies once they come. */
async function startOnBoth(script: string, ...rest: string[]): Promise<{ replies: Promise<string[]>; conns: RespConn[]; others: RespConn[] }> {
  const conns = await o.connectBoth();
  const others = await o.connectBoth();
  const replies = Promise.all(conns.map((c) => c.call("EVAL", script, ...rest)));
  await Promise.all(others.map(untilBusy));
  return { replies, conns, others };
}

async function sameOn(others: RespConn[], ...args: string[]): Promise<string> {
  const [want, got] = await Promise.all(others.map((c) => c.call(...args)));
  expect(got).toBe(want!);
  return got!;
}

test("other clients get BUSY, allow_busy commands run, SCRIPT KILL ends a script that wrote nothing", async () => {
  const { replies, conns, others } = await startOnBoth(SPIN, "0");
  expect(await sameOn(others, "GET", "x")).toStartWith("-BUSY Redis is busy running a script. You can only call SCRIPT KILL");
  await sameOn(others, "SET", "x", "1");
  await sameOn(others, "MULTI");
  await sameOn(others, "SET", "x", "1");
  await sameOn(others, "EXEC");
  await sameOn(others, "SHUTDOWN");
  expect(await sameOn(others, "SCRIPT", "KILL")).toBe("+OK\r\n");
  const [want, got] = await replies;
  expect(got).toBe(want!);
  expect(got).toStartWith("-ERR Script killed by user with SCRIPT KILL... script: ");
  await sameOn(others, "SCRIPT", "KILL");
  await sameOn(others, "EXISTS", "x");
  for (const c of [...conns, ...others]) c.close();
});

test("a script that wrote is UNKILLABLE; one that ends on its own replies, and the server serves again", async () => {
  const { replies, conns, others } = await startOnBoth(SPIN_FOR, "2", "k", "n", "400");
  expect(await sameOn(others, "SCRIPT", "KILL")).toStartWith("-UNKILLABLE");
  await sameOn(others, "INCR", "n");
  const [want, got] = await replies;
  expect(got).toBe(want!);
  expect(got).toBe("$8\r\nfinished\r\n");
  await sameOn(others, "MGET", "k", "n");
  await sameOn(others, "SCRIPT", "KILL");
  for (const c of [...conns, ...others]) c.close();
});

test("what the script's client pipelined behind it runs after its reply, in order", async () => {
  const others = await o.connectBoth();
  const pipelined = ["EVAL", SPIN_FOR, "2", "a", "b", "300"];
  const conns = await o.connectBoth();
  const all = Promise.all(
    conns.map(async (c) => {
      c.write(Buffer.concat([encodeCommand(pipelined), encodeCommand(["GET", "a"]), encodeCommand(["INCR", "b"])]));
      return c.readReplies(3);
    }),
  );
  await Promise.all(others.map(untilBusy));
  await sameOn(others, "GET", "a");
  const [want, got] = await all;
  expect(got).toBe(want!);
  for (const c of [...conns, ...others]) c.close();
});

test("SHUTDOWN NOSAVE ends a server whose busy script wrote", async () => {
  await using busy = await Oracle.start(["--busy-reply-threshold", THRESHOLD]);
  const conns = await busy.connectBoth();
  const others = await busy.connectBoth();
  const replies = Promise.all(conns.map((c) => c.call("EVAL", WRITE_THEN_SPIN, "0").catch(() => "closed")));
  await Promise.all(others.map(untilBusy));
  const [wantKill, gotKill] = await Promise.all(others.map((c) => c.call("SCRIPT", "KILL")));
  expect(gotKill).toBe(wantKill!);
  expect(gotKill).toStartWith("-UNKILLABLE Sorry the script already executed write commands");
  const [wantShut, gotShut] = await Promise.all(others.map((c) => c.call("SHUTDOWN")));
  expect(gotShut).toBe(wantShut!);
  for (const c of others) c.write(encodeCommand(["SHUTDOWN", "NOSAVE"]));
  const closed = await Promise.all(others.map((c) => c.readUntilClosed()));
  expect(closed).toEqual(["", ""]);
  await replies;
});

test("a busy script's effects reach the AOF once it ends, as one transaction", async () => {
  const dirs = { redis: tempDir("busy-aof-redis"), redbun: tempDir("busy-aof-redbun") };
  const servers = await Promise.all([
    startIn("redis", dirs.redis, [...AOF_ARGS, "--busy-reply-threshold", THRESHOLD]),
    startIn("redbun", dirs.redbun, [...AOF_ARGS, "--busy-reply-threshold", THRESHOLD]),
  ]);
  try {
    const conns = await Promise.all(servers.map((s) => RespConn.connect(s.port)));
    const others = await Promise.all(servers.map((s) => RespConn.connect(s.port)));
    const replies = Promise.all(conns.map((c) => c.call("EVAL", SPIN_FOR, "2", "k", "n", "300")));
    await Promise.all(others.map(untilBusy));
    await replies;
    await sameOn(others, "SET", "after", "1");
    const files = [readCommands(aofFile(dirs.redis, ".incr.aof")), readCommands(aofFile(dirs.redbun, ".incr.aof"))];
    expect(files[1]).toEqual(files[0]!);
    expect(files[0]!).toContainEqual(["MULTI"]);
    for (const c of [...conns, ...others]) c.close();
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    for (const dir of Object.values(dirs)) rmSync(dir, { recursive: true, force: true });
  }
});
