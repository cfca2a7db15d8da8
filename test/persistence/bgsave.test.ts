// BGSAVE over real processes and files: the replies and errors of redis-server 7.0; a save
// that writes the dataset as it was when BGSAVE ran while another client keeps changing
// it (the file is checked by loading it into redis-server and comparing DEBUG DIGEST);
// FLUSHALL stopping a save; save points starting one.

import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RespConn, encodeCommand, rng } from "../oracle/harness.ts";
import { type LoggedServer, type ServerKind, freshDir, spawnReady } from "../fixtures/logged-server.ts";
import { seedFromEnv } from "../oracle/fuzz.ts";
import { buildDataset } from "./dataset.ts";

const DEBUG = ["--enable-debug-command", "yes"];
const running: LoggedServer[] = [];

afterAll(async () => {
  for (const s of running) await s[Symbol.asyncDispose]();
});

async function start(kind: ServerKind, dir: string, args: string[] = []): Promise<[LoggedServer, RespConn]> {
  const s = await spawnReady(kind, ["--dir", dir, ...DEBUG, ...args]);
  running.push(s);
  return [s, await RespConn.connect(s.port)];
}

/** One INFO persistence field. */
async function persistenceField(conn: RespConn, name: string): Promise<string> {
  const info = await conn.call("INFO", "persistence");
  const m = info.match(new RegExp(`^${name}:(.*)\\r$`, "m"));
  if (m === null) throw new Error(`no ${name} in ${info}`);
  return m[1]!;
}

async function waitForSave(conn: RespConn, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await persistenceField(conn, "rdb_bgsave_in_progress")) !== "0") {
    if (Date.now() > deadline) throw new Error("BGSAVE still running");
    await Bun.sleep(5);
  }
}

/** `count` string keys and a few collections in one pipeline, so a save takes a while. */
async function fill(conn: RespConn, count: number, prefix = "k"): Promise<void> {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < count; i++) parts.push(encodeCommand(["SET", `${prefix}:${i}`, `value-${i}`]));
  for (let i = 0; i < 50; i++) {
    parts.push(encodeCommand(["RPUSH", `${prefix}:list:${i}`, ...Array.from({ length: 200 }, (_, j) => `item-${j}`)]));
    parts.push(encodeCommand(["HSET", `${prefix}:hash:${i}`, ...Array.from({ length: 300 }, (_, j) => [`f${j}`, `v${j}`]).flat()]));
    parts.push(encodeCommand(["ZADD", `${prefix}:zset:${i}`, ...Array.from({ length: 200 }, (_, j) => [String(j), `m${j}`]).flat()]));
    parts.push(encodeCommand(["SADD", `${prefix}:set:${i}`, ...Array.from({ length: 600 }, (_, j) => `s${j}`)]));
  }
  conn.write(Buffer.concat(parts));
  await conn.readReplies(parts.length);
}

describe("BGSAVE", () => {
  test("replies, errors and SAVE while a save runs are Redis's", async () => {
    const replies: string[] = [];
    for (const kind of ["redis", "redbun"] as const) {
      const [, conn] = await start(kind, freshDir());
      await fill(conn, 20_000);
      const pipeline = [["BGSAVE"], ["BGSAVE"], ["BGSAVE", "SCHEDULE"], ["SAVE"], ["BGSAVE", "x"], ["BGSAVE", "SCHEDULE", "x"]];
      conn.write(Buffer.concat(pipeline.map((c) => encodeCommand(c))));
      replies.push(await conn.readReplies(pipeline.length));
      expect(await persistenceField(conn, "rdb_bgsave_in_progress")).toBe("1");
      await waitForSave(conn);
      expect(await persistenceField(conn, "rdb_last_bgsave_status")).toBe("ok");
      expect(await persistenceField(conn, "rdb_changes_since_last_save")).toBe("0");
      conn.close();
    }
    expect(replies[1]).toBe(replies[0]!);
    expect(replies[0]!.startsWith("+Background saving started\r\n-ERR Background save already in progress\r\n")).toBe(true);
  });

  test("writes the dataset as it was when it started, whatever clients change meanwhile", async () => {
    const seed = seedFromEnv();
    const random = rng(seed);
    const dir = freshDir();
    const [server, conn] = await start("redbun", dir);
    await buildDataset(conn);
    await fill(conn, 30_000);
    await conn.call("SELECT", "1");
    await fill(conn, 5_000, "one");
    await conn.call("SELECT", "0");
    // BGSAVE and DEBUG DIGEST in one read: nothing runs between them.
    conn.write(Buffer.concat([encodeCommand(["BGSAVE"]), encodeCommand(["DEBUG", "DIGEST"])]));
    const [started, digestLine] = (await conn.readReplies(2)).split("\r\n");
    expect(started).toBe("+Background saving started");
    const digestAtStart = digestLine!;

    const writer = await RespConn.connect(server.port);
    const pick = (n: number) => Math.floor(random() * n);
    const changes = (): string[] => {
      const i = pick(30_000);
      const c = pick(50);
      switch (pick(14)) {
        case 0: return ["SET", `k:${i}`, `changed-${i}`];
        case 1: return ["DEL", `k:${i}`];
        case 2: return ["INCR", `counter:${pick(10)}`];
        case 3: return ["APPEND", `k:${i}`, "+"];
        case 4: return ["LPUSH", `k:list:${c}`, "pushed"];
        case 5: return ["LPOP", `k:list:${c}`];
        case 6: return ["HSET", `k:hash:${c}`, `f${pick(400)}`, "changed"];
        case 7: return ["ZINCRBY", `k:zset:${c}`, "5", `m${pick(300)}`];
        case 8: return ["SREM", `k:set:${c}`, `s${pick(600)}`];
        case 9: return ["EXPIRE", `k:${i}`, "100000"];
        case 10: return ["RENAME", `k:${i}`, `renamed:${i}`];
        case 11: return ["DEL", `k:hash:${c}`];
        case 12: return ["PERSIST", "str:ttl"];
        default: return ["SETRANGE", `k:${i}`, "2", "zz"];
      }
    };
    let rounds = 0;
    let flushed = false;
    while ((await persistenceField(conn, "rdb_bgsave_in_progress")) === "1") {
      const batch = Array.from({ length: 50 }, changes);
      // Once, mid-save: empty database 1 and swap 0 with 2, which must not reach the file.
      if (!flushed && rounds === 0) {
        batch.push(["SELECT", "1"], ["FLUSHDB"], ["SELECT", "0"], ["SWAPDB", "0", "2"], ["SET", "k:1", "after swap"], ["SWAPDB", "0", "2"]);
        flushed = true;
      }
      writer.write(Buffer.concat(batch.map((cmd) => encodeCommand(cmd))));
      await writer.readReplies(batch.length);
      rounds++;
    }
    // The flush and the swaps ran while the save was under way.
    expect(flushed).toBe(true);
    expect(await persistenceField(conn, "rdb_last_bgsave_status")).toBe("ok");
    expect(await conn.call("DEBUG", "DIGEST")).not.toBe(digestAtStart);

    // The file, loaded by redis-server, holds the dataset as it was at BGSAVE.
    const check = freshDir();
    copyFileSync(join(dir, "dump.rdb"), join(check, "dump.rdb"));
    const [, redis] = await start("redis", check);
    expect(`seed ${seed}: ${await redis.call("DEBUG", "DIGEST")}`).toBe(`seed ${seed}: ${digestAtStart}\r\n`);
  }, 60_000);

  test("FLUSHALL stops a save under way without counting it as failed, and leaves no temp file", async () => {
    const dir = freshDir();
    const [server, conn] = await start("redbun", dir);
    await fill(conn, 50_000);
    conn.write(Buffer.concat([encodeCommand(["BGSAVE"]), encodeCommand(["FLUSHALL"])]));
    expect(await conn.readReplies(2)).toBe("+Background saving started\r\n+OK\r\n");
    expect(await persistenceField(conn, "rdb_bgsave_in_progress")).toBe("0");
    expect(await persistenceField(conn, "rdb_last_bgsave_status")).toBe("ok");
    await Bun.sleep(50);
    expect(readdirSync(dir).filter((f) => f.startsWith("temp-"))).toEqual([]);
    expect(server.log).toContain("Background saving terminated by signal 10");
  });

  test("a save point starts a BGSAVE once its changes and seconds are reached", async () => {
    const dir = freshDir();
    const [server, conn] = await start("redbun", dir, ["--save", "1 2", "--hz", "50"]);
    await conn.call("SET", "a", "1");
    await Bun.sleep(2300);
    // One change is below the save point's two.
    expect(existsSync(join(dir, "dump.rdb"))).toBe(false);
    await conn.call("SET", "b", "2");
    await server.waitForLog(/Background saving terminated with success/, 5_000);
    expect(server.log).toContain("2 changes in 1 seconds. Saving...");
    expect(existsSync(join(dir, "dump.rdb"))).toBe(true);
    expect(await persistenceField(conn, "rdb_changes_since_last_save")).toBe("0");
  });
});

describe("stop-writes-on-bgsave-error", () => {
  test("a failed BGSAVE refuses writes and PING with Redis's MISCONF until a save succeeds or the option is off", async () => {
    const seen: string[][] = [];
    for (const kind of ["redis", "redbun"] as const) {
      const dir = freshDir();
      const [, conn] = await start(kind, dir, ["--save", "3600 1"]);
      const replies: string[] = [];
      // A directory where the file should go makes the final rename of the save fail.
      mkdirSync(join(dir, "dump.rdb"));
      replies.push(await conn.call("BGSAVE"));
      await waitForSave(conn);
      replies.push(await persistenceField(conn, "rdb_last_bgsave_status"));
      for (const cmd of [["SET", "a", "1"], ["PING"], ["GET", "a"], ["DEL", "a"], ["CONFIG", "SET", "save", ""], ["SET", "a", "1"]]) {
        replies.push(await conn.call(...cmd));
      }
      for (const cmd of [["CONFIG", "SET", "save", "3600 1"], ["CONFIG", "SET", "stop-writes-on-bgsave-error", "no"], ["SET", "b", "1"]]) {
        replies.push(await conn.call(...cmd));
      }
      rmdirSync(join(dir, "dump.rdb"));
      replies.push(await conn.call("CONFIG", "SET", "stop-writes-on-bgsave-error", "yes"), await conn.call("SET", "c", "1"));
      replies.push(await conn.call("BGSAVE"));
      await waitForSave(conn);
      replies.push(await conn.call("SET", "d", "1"));
      seen.push(replies);
    }
    expect(seen[1]).toEqual(seen[0]!);
    expect(seen[0]![2]).toStartWith("-MISCONF Redis is configured to save RDB snapshots");
  });
});

describe("BGREWRITEAOF", () => {
  test("replies and errors next to BGSAVE are Redis's", async () => {
    const replies: string[] = [];
    for (const kind of ["redis", "redbun"] as const) {
      const [, conn] = await start(kind, freshDir(), ["--appendonly", "yes"]);
      await fill(conn, 20_000);
      const pipeline = [["BGREWRITEAOF"], ["BGREWRITEAOF"], ["BGSAVE"], ["BGSAVE", "SCHEDULE"], ["BGREWRITEAOF", "x"]];
      conn.write(Buffer.concat(pipeline.map((c) => encodeCommand(c))));
      replies.push(await conn.readReplies(pipeline.length));
      const deadline = Date.now() + 15_000;
      while (
        (await persistenceField(conn, "aof_rewrite_in_progress")) !== "0" ||
        (await persistenceField(conn, "rdb_bgsave_in_progress")) !== "0" ||
        (await persistenceField(conn, "rdb_changes_since_last_save")) !== "0"
      ) {
        if (Date.now() > deadline) throw new Error(`${kind}: background jobs still running`);
        await Bun.sleep(20);
      }
      expect(await persistenceField(conn, "aof_last_bgrewrite_status")).toBe("ok");
      expect(await persistenceField(conn, "aof_rewrites")).toBe("1");
      conn.close();
    }
    expect(replies[1]).toBe(replies[0]!);
  });

  test("CONFIG SET appendonly yes rewrites in the background; writes meanwhile land in the first incr file", async () => {
    const random = rng(seedFromEnv());
    const dir = freshDir();
    const [server, conn] = await start("redbun", dir, ["--appendonly", "no"]);
    await fill(conn, 30_000);
    expect(await conn.call("CONFIG", "SET", "appendonly", "yes")).toBe("+OK\r\n");
    expect(await persistenceField(conn, "aof_rewrite_in_progress")).toBe("1");
    expect(await persistenceField(conn, "aof_enabled")).toBe("1");
    const writer = await RespConn.connect(server.port);
    let rounds = 0;
    while ((await persistenceField(conn, "aof_rewrite_in_progress")) === "1" || rounds < 3) {
      const batch = Array.from({ length: 50 }, () => ["SET", `k:${Math.floor(random() * 40_000)}`, `v${rounds}`]);
      writer.write(Buffer.concat(batch.map((cmd) => encodeCommand(cmd))));
      await writer.readReplies(batch.length);
      rounds++;
    }
    expect(await persistenceField(conn, "aof_last_bgrewrite_status")).toBe("ok");
    const digest = await conn.call("DEBUG", "DIGEST");
    expect(readdirSync(join(dir, "appendonlydir")).sort()).toEqual(["appendonly.aof.1.base.rdb", "appendonly.aof.1.incr.aof", "appendonly.aof.manifest"]);
    expect(server.log).toContain("Successfully renamed the temporary AOF incr file temp-appendonly.aof.incr into appendonly.aof.1.incr.aof");
    const check = freshDir();
    Bun.spawnSync(["cp", "-r", join(dir, "appendonlydir"), check]);
    const [, redis] = await start("redis", check, ["--appendonly", "yes"]);
    expect(await redis.call("DEBUG", "DIGEST")).toBe(digest);
  }, 60_000);

  for (const preamble of ["yes", "no"]) {
    test(`with aof-use-rdb-preamble ${preamble}, a rewrite under writes leaves files that load the final dataset`, async () => {
      const random = rng(seedFromEnv());
      const dir = freshDir();
      const [server, conn] = await start("redbun", dir, ["--appendonly", "yes", "--aof-use-rdb-preamble", preamble]);
      await buildDataset(conn);
      await fill(conn, 20_000);
      expect(await conn.call("BGREWRITEAOF")).toBe("+Background append only file rewriting started\r\n");
      const writer = await RespConn.connect(server.port);
      while ((await persistenceField(conn, "aof_rewrite_in_progress")) === "1") {
        const batch: string[][] = [];
        for (let i = 0; i < 50; i++) {
          const k = Math.floor(random() * 20_000);
          batch.push(random() < 0.5 ? ["SET", `k:${k}`, `new-${k}`] : ["DEL", `k:${k}`], ["HSET", `k:hash:${k % 50}`, `f${k}`, "x"]);
        }
        writer.write(Buffer.concat(batch.map((cmd) => encodeCommand(cmd))));
        await writer.readReplies(batch.length);
      }
      expect(await persistenceField(conn, "aof_last_bgrewrite_status")).toBe("ok");
      const digest = await conn.call("DEBUG", "DIGEST");
      const manifest = await Bun.file(join(dir, "appendonlydir", "appendonly.aof.manifest")).text();
      expect(manifest).toBe(
        `file appendonly.aof.2.base.${preamble === "yes" ? "rdb" : "aof"} seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n`,
      );
      expect(readdirSync(join(dir, "appendonlydir")).sort()).toEqual(
        [`appendonly.aof.2.base.${preamble === "yes" ? "rdb" : "aof"}`, "appendonly.aof.2.incr.aof", "appendonly.aof.manifest"],
      );
      // redis-server started on a copy of the directory has the same data.
      const check = freshDir();
      Bun.spawnSync(["cp", "-r", join(dir, "appendonlydir"), check]);
      const [, redis] = await start("redis", check, ["--appendonly", "yes"]);
      expect(await redis.call("DEBUG", "DIGEST")).toBe(digest);
    }, 60_000);
  }
});

describe("an AOF directory that cannot be created", () => {
  test("CONFIG SET appendonly yes and BGREWRITEAOF fail with Redis's errors and the server carries on", async () => {
    const replies: string[] = [];
    for (const kind of ["redis", "redbun"] as const) {
      const dir = freshDir();
      // A file where the directory should be: mkdir fails.
      writeFileSync(join(dir, "appendonlydir"), "");
      const [, conn] = await start(kind, dir, ["--appendonly", "no"]);
      await conn.call("SET", "k", "v");
      const pipeline = [["CONFIG", "SET", "appendonly", "yes"], ["CONFIG", "GET", "appendonly"], ["BGREWRITEAOF"], ["GET", "k"]];
      conn.write(Buffer.concat(pipeline.map((c) => encodeCommand(c))));
      let reply = await conn.readReplies(pipeline.length);
      for (const field of ["aof_enabled", "aof_rewrite_in_progress", "aof_rewrites", "aof_rewrites_consecutive_failures", "aof_last_bgrewrite_status"]) {
        reply += `${field}:${await persistenceField(conn, field)}\n`;
      }
      replies.push(reply);
      conn.close();
    }
    expect(replies[1]).toBe(replies[0]!);
    expect(replies[0]).toContain("Unable to turn on AOF. Check server logs.");
  });
});
