// Loading AOF directories: redbun restarts from its own files with the same dataset
// (DEBUG DIGEST), Redis 7.0.15 loads redbun's directory and redbun loads Redis's,
// redis-check-aof accepts redbun's files, and damaged files end as Redis ends them.

import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RespConn, type ServerProcess } from "../oracle/harness.ts";
import { AOF_ARGS, AOF_DIR, aofFile, readCommands, readLog, startFailing, startIn, tempDir, waitFor, type Which } from "./aof-helpers.ts";

const dirs: string[] = [];
function newDir(prefix: string): string {
  const dir = tempDir(prefix);
  dirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const LOAD_MS = 20000;

/** Every type, binary keys and values, times to live, several databases, and the rewritten forms. */
async function populate(c: RespConn): Promise<void> {
  const binary = Buffer.from([0, 1, 2, 13, 10, 255, 0x2a, 0x24]).toString("latin1");
  const big = "x".repeat(70000);
  const commands: string[][] = [
    ["SET", "plain", "v"],
    ["SET", binary, binary],
    ["SET", "big", big],
    ["SET", "ttl", "v", "EX", "1000"],
    ["INCR", "counter"],
    ["INCRBYFLOAT", "float", "2.5"],
    ["RPUSH", "list", "a", "b", "c", binary],
    ["LPOP", "list"],
    ["HSET", "hash", "f1", "1", "f2", binary],
    ["HINCRBYFLOAT", "hash", "f1", "0.5"],
    ["SADD", "set", "a", "b", "c"],
    ["SADD", "intset", "1", "2", "3"],
    ["ZADD", "zset", "1", "a", "2.5", "b", "-3", "c"],
    ["ZINCRBY", "zset", "1", "a"],
    ["PEXPIRE", "zset", "5000000"],
    ["SELECT", "5"],
    ["SET", "db5", "v"],
    ["RPUSH", "db5list", "x"],
    ["SELECT", "0"],
    ["SET", "gone", "v"],
    ["DEL", "gone"],
  ];
  for (let i = 0; i < 300; i++) commands.push(["RPUSH", "longlist", `item${i}`], ["SADD", "bigset", `m${i}`], ["HSET", "bighash", `f${i}`, `v${i}`]);
  for (const cmd of commands) {
    const reply = await c.call(...cmd);
    if (reply.startsWith("-")) throw new Error(`${JSON.stringify(cmd)}: ${reply}`);
  }
}

async function digest(port: number): Promise<string> {
  const c = await RespConn.connect(port);
  try {
    return await c.call("DEBUG", "DIGEST");
  } finally {
    c.close();
  }
}

/** A server over a fresh directory, populated, then stopped (SIGKILL: appendfsync always has everything on disk). */
async function populatedDir(which: Which): Promise<{ dir: string; digest: string }> {
  const dir = newDir(`load-${which}`);
  await using server = await startIn(which, dir);
  const c = await RespConn.connect(server.port);
  await populate(c);
  c.close();
  return { dir, digest: await digest(server.port) };
}

/** Copy a server's AOF directory into a fresh directory. */
function copyAof(from: string, prefix: string): string {
  const dir = newDir(prefix);
  cpSync(join(from, AOF_DIR), join(dir, AOF_DIR), { recursive: true });
  return dir;
}

async function digestAfterStart(which: Which, dir: string): Promise<string> {
  await using server: ServerProcess = await startIn(which, dir);
  return await digest(server.port);
}

describe("loading", () => {
  test(
    "redbun restarts from its own AOF with the same dataset, and Redis loads it too",
    async () => {
      const { dir, digest: before } = await populatedDir("redbun");
      expect(before).not.toBe("+0000000000000000000000000000000000000000\r\n");
      const forRedis = copyAof(dir, "redis-loads-redbun");
      expect(await digestAfterStart("redbun", dir)).toBe(before);
      expect(await digestAfterStart("redis", forRedis)).toBe(before);
    },
    LOAD_MS,
  );

  test(
    "redbun loads Redis's AOF directory",
    async () => {
      const { dir, digest: before } = await populatedDir("redis");
      const forRedbun = copyAof(dir, "redbun-loads-redis");
      expect(await digestAfterStart("redbun", forRedbun)).toBe(before);
    },
    LOAD_MS,
  );

  test(
    "redis-check-aof accepts redbun's files",
    async () => {
      const { dir } = await populatedDir("redbun");
      const check = Bun.spawnSync(["redis-check-aof", join(dir, AOF_DIR, "appendonly.aof.manifest")]);
      const out = check.stdout.toString();
      expect(out).toContain("is valid");
      expect(check.exitCode).toBe(0);
    },
    LOAD_MS,
  );
});

/** A directory with an empty base and an incr file holding `incr`. */
function dirWithIncr(prefix: string, incr: string): string {
  const dir = newDir(prefix);
  const aofDir = join(dir, AOF_DIR);
  mkdirSync(aofDir);
  writeFileSync(join(aofDir, "appendonly.aof.manifest"), "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n");
  writeFileSync(join(aofDir, "appendonly.aof.1.base.aof"), "");
  writeFileSync(join(aofDir, "appendonly.aof.1.incr.aof"), Buffer.from(incr, "latin1"));
  return dir;
}

const WHOLE = "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\n1\r\n";
const TORN = WHOLE + "*3\r\n$3\r\nset\r\n$1\r\nb\r\n$2\r\n1";
const FLIPPED = WHOLE.replace("$1\r\n1\r\n", "$1\r\n1X\r\n") + "*3\r\n$3\r\nset\r\n$1\r\nb\r\n$1\r\n1\r\n";

/** The log lines after the timestamp, for comparing Redis's log with redbun's. */
function messages(log: string): string[] {
  return log
    .split("\n")
    .map((l) => l.replace(/^\d+:[A-Z] \d+ \w+ \d+ [\d:.]+ . /, ""))
    .filter((l) => /AOF|append only file|truncated|MULTI/.test(l));
}

describe("damaged files", () => {
  for (const which of ["redis", "redbun"] as const) {
    test(
      `${which}: a torn tail of the last incr file is cut at the last whole command with aof-load-truncated yes`,
      async () => {
        const dir = dirWithIncr(`torn-${which}`, TORN);
        const keys = await (async () => {
          await using server = await startIn(which, dir, [...AOF_ARGS, "--aof-load-truncated", "yes"]);
          const c = await RespConn.connect(server.port);
          const reply = await c.call("KEYS", "*");
          c.close();
          return reply;
        })();
        expect(keys).toBe("*1\r\n$1\r\na\r\n");
        expect(statSync(aofFile(dir, ".1.incr.aof")).size).toBe(WHOLE.length);
        expect(messages(readLog(dir, which))).toContain("!!! Warning: short read while loading the AOF file appendonly.aof.1.incr.aof!!!");
        expect(messages(readLog(dir, which))).toContain(`!!! Truncating the AOF appendonly.aof.1.incr.aof at offset ${WHOLE.length} !!!`);
        expect(messages(readLog(dir, which))).toContain("AOF appendonly.aof.1.incr.aof loaded anyway because aof-load-truncated is enabled");
      },
      LOAD_MS,
    );
  }

  test(
    "a transaction cut off at the end is reverted to before its MULTI; a whole one is applied",
    async () => {
      const multi = (key: string) => `*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nset\r\n$1\r\n${key}\r\n$1\r\n1\r\n`;
      const applied = "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n" + multi("a") + "*1\r\n$4\r\nEXEC\r\n";
      for (const which of ["redis", "redbun"] as const) {
        const dir = dirWithIncr(`multi-${which}`, applied + multi("b"));
        {
          await using server = await startIn(which, dir, [...AOF_ARGS, "--aof-load-truncated", "yes"]);
          const c = await RespConn.connect(server.port);
          expect(await c.call("KEYS", "*")).toBe("*1\r\n$1\r\na\r\n");
          c.close();
        }
        expect(statSync(aofFile(dir, ".1.incr.aof")).size).toBe(applied.length);
        expect(messages(readLog(dir, which))).toContain("Revert incomplete MULTI/EXEC transaction in AOF file appendonly.aof.1.incr.aof");
      }
    },
    LOAD_MS,
  );

  test(
    "a torn tail with aof-load-truncated no, and a damaged byte in the middle, stop start-up as in Redis",
    async () => {
      for (const [incr, setting, line] of [
        [
          TORN,
          "no",
          "Unexpected end of file reading the append only file appendonly.aof.1.incr.aof. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.",
        ],
        [FLIPPED, "yes", "Bad file format reading the append only file appendonly.aof.1.incr.aof: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>"],
      ] as const) {
        for (const which of ["redis", "redbun"] as const) {
          const dir = dirWithIncr(`bad-${which}`, incr);
          const { code, log } = await startFailing(which, dir, [...AOF_ARGS, "--aof-load-truncated", setting]);
          expect(code).toBe(1);
          expect(messages(log)).toContain(line);
          // Nothing is cut from a file that did not load.
          expect(readFileSync(aofFile(dir, ".1.incr.aof"), "latin1")).toBe(incr);
        }
      }
    },
    LOAD_MS,
  );
});

describe("CONFIG SET appendonly yes rewrites the dataset into a new base", () => {
  /** A small dataset of every type whose values keep insertion order (listpack, intset), so both servers write the same items. */
  const SMALL: string[][] = [
    ["SET", "s", "v"],
    ["SET", "ttl", "v", "PXAT", String(Date.now() + 10_000_000)],
    ["RPUSH", "l", "a", "b", "c"],
    ["SADD", "is", "1", "2", "3"],
    ["HSET", "h", "f", "v", "g", "w"],
    ["ZADD", "z", "1.1", "a", "2", "b", "-5", "c"],
    ["SELECT", "2"],
    ["SET", "two", "v"],
  ];

  /** The base's commands in a stable order: SELECT groups, keys sorted within each. */
  function sortedBase(path: string): string[] {
    const out: string[] = [];
    let group: string[] = [];
    for (const cmd of readCommands(path)) {
      if (cmd[0] === "SELECT") {
        out.push(...group.sort());
        group = [];
        out.push(JSON.stringify(cmd));
      } else {
        group.push(JSON.stringify(cmd));
      }
    }
    return [...out, ...group.sort()];
  }

  test(
    "command form: the same commands as Redis's rewrite, a manifest like Redis's, and a directory both servers load",
    async () => {
      const runs = await Promise.all(
        (["redis", "redbun"] as const).map(async (which) => {
          const dir = newDir(`rewrite-${which}`);
          await using server = await startIn(which, dir, ["--appendonly", "no", "--aof-use-rdb-preamble", "no", "--enable-debug-command", "yes"]);
          const c = await RespConn.connect(server.port);
          for (const cmd of SMALL) await c.call(...cmd);
          await c.call("SELECT", "0");
          for (let i = 0; i < 100; i++) await c.call("RPUSH", "long", `item${i}`);
          expect(await c.call("CONFIG", "SET", "appendonly", "yes")).toBe("+OK\r\n");
          await waitFor(() => existsSync(join(dir, AOF_DIR, "appendonly.aof.manifest")), "the manifest");
          await c.call("SET", "after", "v");
          const digestNow = await c.call("DEBUG", "DIGEST");
          c.close();
          return { dir, digest: digestNow };
        }),
      );
      const [redisRun, redbunRun] = runs as [{ dir: string; digest: string }, { dir: string; digest: string }];
      expect(redbunRun.digest).toBe(redisRun.digest);
      expect(readFileSync(join(redbunRun.dir, AOF_DIR, "appendonly.aof.manifest"), "latin1")).toBe(
        readFileSync(join(redisRun.dir, AOF_DIR, "appendonly.aof.manifest"), "latin1"),
      );
      expect(sortedBase(aofFile(redbunRun.dir, ".1.base.aof"))).toEqual(sortedBase(aofFile(redisRun.dir, ".1.base.aof")));
      const forRedis = copyAof(redbunRun.dir, "redis-loads-rewrite");
      expect(await digestAfterStart("redbun", redbunRun.dir)).toBe(redisRun.digest);
      expect(await digestAfterStart("redis", forRedis)).toBe(redisRun.digest);
    },
    LOAD_MS,
  );

  test(
    "RDB preamble: the base is an RDB file that redbun and Redis load",
    async () => {
      const dir = newDir("rewrite-rdb");
      let before: string;
      {
        await using server = await startIn("redbun", dir, ["--appendonly", "no", "--enable-debug-command", "yes"]);
        const c = await RespConn.connect(server.port);
        for (const cmd of SMALL) await c.call(...cmd);
        expect(await c.call("CONFIG", "SET", "appendonly", "yes")).toBe("+OK\r\n");
        await c.call("SET", "after", "v");
        // The rewrite runs in the background; the manifest appears when it is done.
        await waitFor(() => existsSync(join(dir, AOF_DIR, "appendonly.aof.manifest")), "the rewrite");
        before = await c.call("DEBUG", "DIGEST");
        c.close();
      }
      expect(readFileSync(join(dir, AOF_DIR, "appendonly.aof.manifest"), "latin1")).toBe(
        "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
      );
      expect(readFileSync(aofFile(dir, ".1.base.rdb"), "latin1").startsWith("REDIS0010")).toBe(true);
      const forRedis = copyAof(dir, "redis-loads-rdb-base");
      expect(await digestAfterStart("redbun", dir)).toBe(before);
      expect(await digestAfterStart("redis", forRedis)).toBe(before);
    },
    LOAD_MS,
  );
});
