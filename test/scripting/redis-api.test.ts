// The `redis` table's helpers, Redis 7.0's pcall and its math.random against the real
// redis-server: every helper with good and bad arguments (the error texts and the script
// and line Redis adds), from RESP2 and RESP3 callers; redis.log's lines in the log file;
// what redis.set_repl keeps out of the AOF; and the rand48 sequence math.random draws
// from, which runs on across scripts.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Oracle, RespConn, startRedbun, startRedis, type ServerProcess } from "../oracle/harness.ts";
import { aofFile, readCommands, startIn, tempDir } from "../persistence/aof-helpers.ts";

let o: Oracle;
let r3: [RespConn, RespConn];

beforeAll(async () => {
  o = await Oracle.start();
  r3 = await o.connectResp3();
});
afterAll(() => o.stop());

/** Run a script on both servers from a RESP2 and a RESP3 caller, asserting identical bytes. */
async function sameEval(script: string, ...args: string[]): Promise<string> {
  const reply = await o.same("EVAL", script, "0", ...args);
  const [want, got] = await Promise.all([r3[0].call("EVAL", script, "0", ...args), r3[1].call("EVAL", script, "0", ...args)]);
  if (want !== got) throw new Error(`RESP3 reply differs for ${JSON.stringify(script)}\n  redis:  ${JSON.stringify(want)}\n  redbun: ${JSON.stringify(got)}`);
  return reply;
}

async function sameEvals(scripts: string[], ...args: string[]): Promise<void> {
  for (const script of scripts) await sameEval(script, ...args);
}

describe("redis.log", () => {
  test("argument errors, with the script and line", async () => {
    for (const script of [
      "return redis.log()",
      "return redis.log(1)",
      "return redis.log('a', 'b')",
      "return redis.log({}, 'b')",
      "return redis.log(7, 'x')",
      "return redis.log(-1, 'x')",
      "return redis.log(2^40, 'x')",
      "return redis.log(0/0, 'x')",
      "\n\nlocal function f() redis.log(4, 'x') end\nf()",
    ]) {
      expect(await sameEval(script)).toStartWith("-ERR ");
    }
  });

  test("the levels and what a call returns", async () => {
    await sameEval("return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}");
    await sameEval("return redis.log(redis.LOG_WARNING, 'returned')");
    await sameEval("return {redis.log(redis.LOG_DEBUG, 'below the level')}");
    await sameEval("local ok, e = pcall(redis.log) return {tostring(ok), type(e), e}");
  });
});

describe("redis.sha1hex", () => {
  test("strings, numbers and other values; argument count errors", async () => {
    await sameEvals([
      "return redis.sha1hex('')",
      "return redis.sha1hex('abc')",
      "return redis.sha1hex(ARGV[1])",
      "return redis.sha1hex(1)",
      "return redis.sha1hex(1.5)",
      "return redis.sha1hex(-0.25)",
      "return redis.sha1hex({})",
      "return redis.sha1hex(nil)",
      "return redis.sha1hex(true)",
      "return redis.sha1hex()",
      "return redis.sha1hex('a', 'b')",
      "return redis.sha1hex(redis.sha1hex('x'))",
    ], "bin\x00ary\xff");
  });
});

describe("redis.setresp and redis.set_repl", () => {
  test("redis.setresp: 2 and 3 (numbers, numeric strings, truncated), errors otherwise", async () => {
    await sameEvals([
      "return redis.setresp(2)",
      "return redis.setresp(3)",
      "return redis.setresp('3')",
      "return redis.setresp(2.5)",
      "return redis.setresp()",
      "return redis.setresp(4)",
      "return redis.setresp(1)",
      "return redis.setresp({})",
      "return redis.setresp(2, 3)",
      "return redis.setresp(nil)",
    ]);
  });

  test("redis.set_repl: the REPL_ flags, errors for others", async () => {
    await sameEvals([
      "return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}",
      "return redis.set_repl(redis.REPL_ALL)",
      "return redis.set_repl(redis.REPL_NONE)",
      "return redis.set_repl(redis.REPL_AOF)",
      "return redis.set_repl('x')",
      "return redis.set_repl(3.7)",
      "return redis.set_repl()",
      "return redis.set_repl(1, 2)",
      "return redis.set_repl(4)",
      "return redis.set_repl(-1)",
    ]);
  });
});

describe("the other helpers and constants", () => {
  test("replicate_commands, breakpoint, debug, the version", async () => {
    await sameEvals([
      "return redis.replicate_commands()",
      "return {redis.breakpoint()}",
      "return redis.breakpoint()",
      "return {redis.debug('x', 1)}",
      "return redis.REDIS_VERSION",
      "return redis.REDIS_VERSION_NUM",
      "return type(redis.REDIS_VERSION_NUM)",
    ]);
  });

  test("error_reply and status_reply: codes, NULs, line ends, bad arguments", async () => {
    await sameEvals([
      "return redis.error_reply('x')",
      "return redis.error_reply('-x')",
      "return redis.error_reply('MY x y')",
      "return redis.error_reply('-MY x y')",
      "return redis.error_reply('-')",
      "return redis.error_reply('- x')",
      "return redis.error_reply('x\\0y')",
      "return redis.error_reply('-\\r\\nx\\r\\n')",
      "return redis.error_reply('a\\nb')",
      "return redis.error_reply()",
      "return redis.error_reply(5)",
      "return redis.error_reply('a', 'b')",
      "return {redis.error_reply('-CODE text').err}",
      "return redis.status_reply('fine')",
      "return redis.status_reply('a\\0b')",
      "return redis.status_reply('a\\r\\nb')",
      "return redis.status_reply()",
      "return redis.status_reply(5)",
    ]);
  });

  test("pcall catches error tables as their err string", async () => {
    await sameEvals([
      "return pcall()",
      "return {select('#', pcall())}",
      "local ok, e = pcall() return {tostring(ok), e}",
      "return {pcall(error, {err='E x'})}",
      "return {pcall(error, {err=5})}",
      "local ok, e = pcall(error, {err='E x', y=1}) return e",
      "local ok, e = pcall(error, {other=1}) return {type(e), e.other}",
      "local ok, e = pcall(redis.call, 'nosuch') return e",
      "local ok, e = pcall(function() redis.call('nosuch') end) return e",
      "local ok, e = pcall(redis.sha1hex) return e",
      "return {pcall(function() return 1, 2 end)}",
      "return {pcall(function(...) return ... end, 'a', 'b')}",
      "local ok, e = pcall(error, 'plain') return e",
    ]);
  });
});

describe("redis.acl_check_cmd", () => {
  test("the caller's user's permissions: commands, subcommands, keys, channels; errors for what is no command", async () => {
    await o.same("ACL", "SETUSER", "limited", "on", "nopass", "+eval", "+get", "+publish", "+config|get", "~k*", "&chan*");
    const limited = await o.connectBoth();
    await Promise.all(limited.map((c) => c.call("AUTH", "limited", "x")));
    const scripts = [
      "return redis.acl_check_cmd('get', 'k1')",
      "return redis.acl_check_cmd('get', 'other')",
      "return redis.acl_check_cmd('GET', 5)",
      "return redis.acl_check_cmd('mget', 'k1', 'other')",
      "return redis.acl_check_cmd('set', 'k1', 'v')",
      "return redis.acl_check_cmd('get')",
      "return redis.acl_check_cmd('config', 'get', 'x')",
      "return redis.acl_check_cmd('config', 'set', 'x', 'y')",
      "return redis.acl_check_cmd('config')",
      "return redis.acl_check_cmd('publish', 'chan1', 'm')",
      "return redis.acl_check_cmd('publish', 'other', 'm')",
      "return redis.acl_check_cmd('config', 'nosub')",
      "return redis.acl_check_cmd('nosuch')",
      "return redis.acl_check_cmd()",
      "return redis.acl_check_cmd({})",
      "return {pcall(redis.acl_check_cmd, 'nosuch')}",
    ];
    try {
      for (const script of scripts) {
        const [want, got] = await Promise.all(limited.map((c) => c.call("EVAL", script, "0")));
        expect(got).toBe(want!);
        // The default user may run everything.
        await sameEval(script);
      }
      // A check is not a denial: nothing reaches the ACL log.
      expect(await o.same("ACL", "LOG")).toBe("*0\r\n");
    } finally {
      for (const c of limited) c.close();
      await o.same("ACL", "DELUSER", "limited");
    }
  });
});

describe("math.random and math.randomseed", () => {
  test("one rand48 sequence from start-up, on across scripts", async () => {
    for (let i = 0; i < 5; i++) await sameEval("return {tostring(math.random()), math.random(1000), math.random(5, 10), math.random(-3, -1)}");
  });

  test("randomseed restarts it; bounds are C ints", async () => {
    await sameEval("math.randomseed(42) return {tostring(math.random()), math.random(1000)}");
    await sameEval("return tostring(math.random())");
    for (const seed of ["0", "-1", "2^31", "2^32 + 7", "1.9", "'17'"]) {
      await sameEval(`math.randomseed(${seed}) local t = {} for i = 1, 20 do t[i] = math.random(100) end return t`);
    }
    await sameEvals([
      "return math.random(2.7)",
      "return math.random('5')",
      "return math.random(2^32 + 5)",
      "return math.random(-2^31, 2^31 - 1)",
      "return math.random(1, 1)",
      "return tostring(math.random(10) + 0.5)",
    ]);
  });

  test("argument errors", async () => {
    await sameEvals([
      "return math.random(0)",
      "return math.random(3, 2)",
      "return math.random(1, 2, 3)",
      "return math.random('x')",
      "return math.random(nil)",
      "return math.random(1, nil)",
      "return math.random({})",
      "return math.random(2^31)",
      "return math.randomseed()",
      "return math.randomseed('x')",
      "local ok, e = pcall(math.random, 0) return e",
      "local r = math.random; return r(0)",
    ]);
  });
});

describe("redis.log lines in the log file", () => {
  let dir: string;
  const servers: ServerProcess[] = [];
  const conns: RespConn[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "redbun-redis-log-"));
    servers.push(await startRedis(["--logfile", join(dir, "redis.log"), "--loglevel", "verbose"]));
    servers.push(await startRedbun(["--logfile", join(dir, "redbun.log"), "--loglevel", "verbose"]));
    for (const s of servers) conns.push(await RespConn.connect(s.port));
  });
  afterAll(async () => {
    for (const c of conns) c.close();
    for (const s of servers) await s.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The lines of a log that hold `marker`, without their pid, time and level prefix (the level char kept). */
  async function markedLines(file: string, marker: string, count: number): Promise<string[]> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const text = Buffer.from(await Bun.file(file).arrayBuffer()).toString("latin1");
      const lines = text.split("\n").filter((l) => l.includes(marker));
      if (lines.length >= count || Date.now() > deadline) return lines.map((l) => l.replace(/^\d+:[MSCX] \d+ \w+ \d+ [\d:.]+ /, ""));
      await Bun.sleep(20);
    }
  }

  test("arguments joined by spaces, skipped when not strings or numbers, at each level", async () => {
    const scripts = [
      "redis.log(redis.LOG_WARNING, 'mark1', 'hello', 1, 2.5, nil, true, {}, 'end')",
      "redis.log(redis.LOG_NOTICE, 'mark2 notice')",
      "redis.log(redis.LOG_VERBOSE, 'mark3 verbose')",
      "redis.log(redis.LOG_DEBUG, 'mark4 debug: below loglevel')",
      "redis.log('3', 'mark5', -0.1, 1e20)",
      "redis.log(3.9, nil, 'mark6 after a skipped first argument')",
      "redis.log(3, 'mark7 before a NUL\\0after it')",
      "redis.log(3, 'mark8 binary \\255\\128', string.rep('x', 2000))",
    ];
    for (const script of scripts) {
      const replies = await Promise.all(conns.map((c) => c.call("EVAL", script, "0")));
      expect(replies[1]).toBe(replies[0]!);
    }
    const [want, got] = await Promise.all(["redis.log", "redbun.log"].map((f) => markedLines(join(dir, f), "mark", 7)));
    expect(want).toHaveLength(7);
    expect(got).toEqual(want!);
  });
});

describe("redis.set_repl in the AOF", () => {
  const dirs = { redis: tempDir("set-repl-redis"), redbun: tempDir("set-repl-redbun") };
  const servers: ServerProcess[] = [];
  const conns: RespConn[] = [];

  beforeAll(async () => {
    servers.push(await startIn("redis", dirs.redis), await startIn("redbun", dirs.redbun));
    for (const s of servers) conns.push(await RespConn.connect(s.port));
  });
  afterAll(async () => {
    for (const c of conns) c.close();
    for (const s of servers) await s.stop();
    for (const dir of Object.values(dirs)) rmSync(dir, { recursive: true, force: true });
  });

  test("writes after REPL_NONE or REPL_REPLICA stay out of the AOF; REPL_AOF and REPL_ALL put them back", async () => {
    for (const script of [
      "redis.call('SET', 'a', '1') redis.set_repl(redis.REPL_NONE) redis.call('SET', 'b', '1') return 1",
      "redis.set_repl(redis.REPL_REPLICA) redis.call('SET', 'c', '1') return 1",
      "redis.set_repl(redis.REPL_AOF) redis.call('SET', 'd', '1') redis.call('SET', 'd2', '1') return 1",
      "redis.set_repl(redis.REPL_NONE) redis.call('SET', 'e', '1') redis.set_repl(redis.REPL_ALL) redis.call('INCR', 'n') return 1",
      "redis.set_repl(redis.REPL_NONE) redis.call('SET', 'f', '1') return 1",
      "redis.set_repl(redis.REPL_SLAVE) redis.call('SET', 'g', '1') return 1",
    ]) {
      const replies = await Promise.all(conns.map((c) => c.call("EVAL", script, "0")));
      expect(replies[1]).toBe(replies[0]!);
    }
    // A plain write after the scripts: the next script starts with REPL_ALL again.
    await Promise.all(conns.map((c) => c.call("EVAL", "return redis.call('SET', 'h', '1')", "0")));
    const [want, got] = [readCommands(aofFile(dirs.redis, ".incr.aof")), readCommands(aofFile(dirs.redbun, ".incr.aof"))];
    expect(want.some((cmd) => cmd[1] === "b" || cmd[1] === "c" || cmd[1] === "f")).toBe(false);
    expect(got).toEqual(want);
  });
});
