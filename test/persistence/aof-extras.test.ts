// The AOF's less travelled paths against Redis 7.0.15: INFO persistence's aof_* lines,
// a write that really fails (the process's file size limit lowered under it with
// prlimit, SIGXFSZ ignored so that write(2) returns EFBIG instead of killing it), the
// migration of a Redis 6 single-file AOF (commands, or an RDB preamble and commands),
// aof-timestamp-enabled's `#TS:` annotations, written and loaded, and the manifest's
// parsing and start-up clean-up.
//
// The tests marked todo need two hooks outside the AOF: INFO persistence printing
// aofInfoLines()/aofEnabledInfoLines(), and the dispatcher refusing write commands and
// PING with aof.deniedWritesError(). Run them with `bun test --todo` once those are in.
//
// Each test runs a fresh Redis and redbun in directories of their own, logging to a pipe:
// under a file size limit a log file could not grow either.

import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT, RespConn, ServerProcess, freePort } from "../oracle/harness.ts";
import { AOF_ARGS, AOF_DIR, aofFile, readCommands, tempDir, waitFor, type Which } from "./aof-helpers.ts";

/** A server whose log lines are collected from its stdout. */
class LoggedServer {
  private text = "";
  conn!: RespConn;

  constructor(
    readonly which: Which,
    readonly dir: string,
    readonly process: ServerProcess,
  ) {
    void this.collect(process.proc.stdout as ReadableStream<Uint8Array>);
  }

  private async collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder("latin1");
    for await (const chunk of stream) this.text += decoder.decode(chunk);
  }

  get log(): string {
    return this.text;
  }

  get pid(): number {
    return this.process.proc.pid;
  }

  async waitForLog(line: string): Promise<void> {
    await waitFor(() => this.text.includes(line), `${this.which} to log "${line}"`, 10000);
  }

  /** The messages of the log, in order, without pid, role and time. */
  messages(): string[] {
    return this.text
      .split("\n")
      .map((l) => /^\d+:[A-Z] \d+ \w+ \d+ [\d:.]+ [.*#-] (.*)$/.exec(l)?.[1])
      .filter((m): m is string => m !== undefined);
  }

  async stop(): Promise<void> {
    this.conn?.close();
    await this.process.stop();
  }
}

const running: LoggedServer[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function newDir(which: Which): string {
  const dir = tempDir(`aofx-${which}`);
  dirs.push(dir);
  return dir;
}

/**
 * Start a server over `dir` through a shell that ignores SIGXFSZ (the disposition survives
 * exec), logging to stdout, and wait until it answers PING.
 */
async function start(which: Which, dir: string, args: string[]): Promise<LoggedServer> {
  const port = freePort();
  const common = ["--port", String(port), "--bind", "127.0.0.1", "--save", "''", "--dir", dir, "--logfile", "''", ...args];
  const program = which === "redis" ? "redis-server" : "bun src/main.ts";
  const proc = Bun.spawn(["sh", "-c", `trap '' XFSZ; exec ${program} ${common.join(" ")}`], {
    cwd: REPO_ROOT,
    stdout: "pipe",
    stderr: "ignore",
  });
  const server = new LoggedServer(which, dir, new ServerProcess(which, port, proc));
  running.push(server);
  const deadline = Date.now() + 15000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${which} exited with ${proc.exitCode}:\n${server.log}`);
    try {
      const c = await RespConn.connect(port);
      if ((await c.call("PING")) === "+PONG\r\n") {
        server.conn = c;
        return server;
      }
      c.close();
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`${which} did not start:\n${server.log}`);
    await Bun.sleep(20);
  }
}

/** Run a server expected to stop at start-up: its exit code and log. */
async function runFailing(which: Which, dir: string, args: string[]): Promise<{ code: number; log: string }> {
  const common = ["--port", String(freePort()), "--bind", "127.0.0.1", "--save", "''", "--dir", dir, "--logfile", "''", ...args];
  const program = which === "redis" ? "redis-server" : "bun src/main.ts";
  const proc = Bun.spawn(["sh", "-c", `exec ${program} ${common.join(" ")}`], { cwd: REPO_ROOT, stdout: "pipe", stderr: "ignore" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 15000);
  const [log, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  clearTimeout(timer);
  return { code, log };
}

async function startBoth(args: string[], prepare?: (dir: string) => void): Promise<[LoggedServer, LoggedServer]> {
  const redisDir = newDir("redis");
  const redbunDir = newDir("redbun");
  if (prepare !== undefined) {
    prepare(redisDir);
    prepare(redbunDir);
  }
  return Promise.all([start("redis", redisDir, args), start("redbun", redbunDir, args)]);
}

/** Send to both and require the same reply. */
async function same(servers: [LoggedServer, LoggedServer], ...args: string[]): Promise<string> {
  const [want, got] = await Promise.all(servers.map((s) => s.conn.call(...args)));
  expect(got).toBe(want!);
  return want!;
}

/** INFO persistence's aof_* lines, in order. */
async function aofInfo(server: LoggedServer): Promise<string[]> {
  const info = await server.conn.call("INFO", "persistence");
  return info.split("\r\n").filter((l) => l.startsWith("aof_"));
}

/** Both servers' aof_* lines must agree: names and order always, values except those in `vary`. */
async function sameAofInfo(servers: [LoggedServer, LoggedServer], vary: string[] = []): Promise<void> {
  // Whether a background fsync happens to be running when INFO asks is a matter of timing.
  vary = [...vary, "aof_pending_bio_fsync"];
  const [want, got] = await Promise.all(servers.map(aofInfo));
  const blank = (lines: string[]) => lines.map((l) => (vary.includes(l.slice(0, l.indexOf(":"))) ? l.slice(0, l.indexOf(":") + 1) : l));
  expect(blank(got!)).toEqual(blank(want!));
}

/** Lower the soft file size limit of a server (the hard one stays, so it can be raised back). */
function limitFileSize(server: LoggedServer, bytes: number | "unlimited"): void {
  const result = Bun.spawnSync(["prlimit", "--pid", String(server.pid), `--fsize=${bytes}:unlimited`]);
  if (result.exitCode !== 0) throw new Error(`prlimit failed: ${result.stderr.toString()}`);
}

function incrSize(server: LoggedServer): number {
  return statSync(aofFile(server.dir, ".1.incr.aof")).size;
}

function resp(...commands: string[][]): string {
  let out = "";
  for (const args of commands) {
    out += `*${args.length}\r\n`;
    for (const a of args) out += `$${Buffer.byteLength(a, "latin1")}\r\n${a}\r\n`;
  }
  return out;
}

/** The messages between the first line containing `from` and the one containing `to`. */
function logBetween(server: LoggedServer, from: string, to: string): string[] {
  const messages = server.messages();
  const first = messages.findIndex((m) => m.includes(from));
  const last = messages.findIndex((m) => m.includes(to));
  return messages.slice(first, last + 1);
}

const PERSISTENCE_TEST_MS = 20000;

// ---------------------------------------------------------------------------------------
// INFO persistence
// ---------------------------------------------------------------------------------------

// These need INFO persistence to print aofInfoLines() and aofEnabledInfoLines().
describe("INFO persistence aof_* lines", () => {
  test("the same lines in the same order, off and on", async () => {
    const servers = await startBoth(["--appendonly", "no"]);
    await sameAofInfo(servers);
    await same(servers, "CONFIG", "SET", "aof-use-rdb-preamble", "no");
    await same(servers, "SET", "k", "v");
    await same(servers, "CONFIG", "SET", "appendonly", "yes");
    // Both rewrite in the background (Redis in a child, redbun a slice per turn): wait for
    // both to finish before comparing.
    await waitFor(() => existsSync(join(servers[0].dir, AOF_DIR, "appendonly.aof.manifest")), "redis's rewrite");
    for (const server of servers) {
      for (;;) {
        const lines = await aofInfo(server);
        if (lines.includes("aof_rewrites:1") && lines.includes("aof_rewrite_in_progress:0")) break;
        await Bun.sleep(20);
      }
    }
    // A fork's copy-on-write size is the kernel's business; the rewrite's duration is whole
    // wall-clock seconds (time(NULL) differences), 1 when it happened to cross a second.
    await sameAofInfo(servers, ["aof_last_cow_size", "aof_last_rewrite_time_sec"]);
    for (const s of servers) expect(["0", "1"]).toContain((await aofInfo(s)).find((l) => l.startsWith("aof_last_rewrite_time_sec:"))!.split(":")[1]!);
    await same(servers, "SET", "k", "w");
    await same(servers, "RPUSH", "list", "a", "b", "c");
    await sameAofInfo(servers, ["aof_last_cow_size", "aof_last_rewrite_time_sec"]);
    await same(servers, "CONFIG", "SET", "appendonly", "no");
    await sameAofInfo(servers, ["aof_last_cow_size", "aof_last_rewrite_time_sec"]);
  }, PERSISTENCE_TEST_MS);

  test("sizes after start, commands and a restart over the same files", async () => {
    let servers = await startBoth(AOF_ARGS);
    await sameAofInfo(servers);
    await same(servers, "SET", "a", "1");
    await same(servers, "SELECT", "3");
    await same(servers, "HSET", "h", "f", "v");
    await sameAofInfo(servers);
    const dirsNow = servers.map((s) => s.dir);
    await Promise.all(running.splice(0).map((s) => s.stop()));
    servers = await Promise.all([start("redis", dirsNow[0]!, AOF_ARGS), start("redbun", dirsNow[1]!, AOF_ARGS)]);
    await sameAofInfo(servers);
  }, PERSISTENCE_TEST_MS);

  test("a torn tail cut off while loading still counts in aof_current_size, as in Redis", async () => {
    const torn = resp(["SET", "a", "1"]) + "*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1";
    const servers = await startBoth(AOF_ARGS, (dir) => {
      const aofDir = join(dir, AOF_DIR);
      mkdirSync(aofDir);
      writeFileSync(join(aofDir, "appendonly.aof.1.base.aof"), "");
      writeFileSync(join(aofDir, "appendonly.aof.1.incr.aof"), torn, "latin1");
      writeFileSync(join(aofDir, "appendonly.aof.manifest"), TWO_FILE_MANIFEST, "latin1");
    });
    expect(await aofInfo(servers[0])).toContain(`aof_current_size:${torn.length}`);
    await sameAofInfo(servers);
  }, PERSISTENCE_TEST_MS);
});

/** A manifest naming a command-form base and one incr file. */
const TWO_FILE_MANIFEST = "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n";

// ---------------------------------------------------------------------------------------
// Write errors
// ---------------------------------------------------------------------------------------

const EVERYSEC_ARGS = ["--appendonly", "yes", "--appendfsync", "everysec", "--aof-use-rdb-preamble", "no"];

describe("a failing AOF write", () => {
  test("is logged, keeps the commands and writes them once the disk takes them", async () => {
    const servers = await startBoth(EVERYSEC_ARGS);
    await same(servers, "SET", "a", "b");
    // The incr file may not grow at all now: write(2) fails with EFBIG.
    for (const s of servers) limitFileSize(s, incrSize(s));
    await same(servers, "SET", "k", "v");
    for (const s of servers) await s.waitForLog("Error writing to the AOF file: File too large");
    await same(servers, "GET", "a");
    const stuck = servers.map(incrSize);
    expect(stuck[1]).toBe(stuck[0]!);
    for (const s of servers) limitFileSize(s, "unlimited");
    for (const s of servers) await s.waitForLog("AOF write error looks solved, Redis can write again.");
    await same(servers, "SET", "k2", "v2");
    const [want, got] = servers.map((s) => readCommands(aofFile(s.dir, ".1.incr.aof")));
    expect(got).toEqual(want!);
    expect(got!.map((c) => c[1])).toEqual(["0", "a", "k", "k2"]);
  }, PERSISTENCE_TEST_MS);

  test("a short write is cut back off the file and reported as a full disk", async () => {
    const servers = await startBoth(EVERYSEC_ARGS);
    await same(servers, "SET", "a", "b");
    const before = servers.map(incrSize);
    for (const s of servers) limitFileSize(s, incrSize(s) + 10);
    await same(servers, "SET", "key", "a-value-longer-than-ten-bytes");
    for (const s of servers) await s.waitForLog("Short write while writing to the AOF file: (nwritten=10, expected=");
    // The torn command is gone again: the file holds whole commands only.
    expect(servers.map(incrSize)).toEqual(before);
    const [want, got] = servers.map((s) => s.messages().find((m) => m.startsWith("Short write")));
    expect(got).toBe(want!);
    for (const s of servers) limitFileSize(s, "unlimited");
    for (const s of servers) await s.waitForLog("AOF write error looks solved, Redis can write again.");
    const [wantCommands, gotCommands] = servers.map((s) => readCommands(aofFile(s.dir, ".1.incr.aof")));
    expect(gotCommands).toEqual(wantCommands!);
  }, PERSISTENCE_TEST_MS);

  test("with appendfsync always stops the server before the command is answered", async () => {
    const servers = await startBoth(AOF_ARGS);
    await same(servers, "SET", "a", "b");
    for (const s of servers) limitFileSize(s, incrSize(s));
    // The connection closes with no reply: the write is lost with the server.
    const replies = servers.map((s) => s.conn.call("SET", "k", "v").catch(() => "closed"));
    const codes = await Promise.all(servers.map((s) => s.process.proc.exited));
    expect(codes).toEqual([1, 1]);
    for (const s of servers) s.conn.close();
    for (const s of servers) await s.waitForLog("Exiting...");
    const [want, got] = servers.map((s) => s.messages().slice(-2));
    expect(got).toEqual(want!);
    expect(want).toEqual(["Error writing to the AOF file: File too large", "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting..."]);
    expect(await Promise.race([Promise.all(replies), Bun.sleep(100).then(() => "no reply")])).not.toContain("+OK\r\n");
  }, PERSISTENCE_TEST_MS);

  // Needs the dispatcher to ask aof.deniedWritesError() and INFO to print aofInfoLines().
  test("refuses writes and PING with MISCONF while it lasts, and INFO says so", async () => {
    const servers = await startBoth(EVERYSEC_ARGS);
    await same(servers, "SET", "a", "b");
    for (const s of servers) limitFileSize(s, incrSize(s));
    await same(servers, "SET", "k", "v");
    expect(await same(servers, "SET", "k2", "v")).toBe("-MISCONF Errors writing to the AOF file: File too large\r\n");
    await same(servers, "PING");
    await same(servers, "GET", "k");
    await sameAofInfo(servers);
    expect(await aofInfo(servers[1])).toContain("aof_last_write_status:err");
    for (const s of servers) limitFileSize(s, "unlimited");
    for (const s of servers) await s.waitForLog("AOF write error looks solved, Redis can write again.");
    await same(servers, "SET", "k3", "v");
    await sameAofInfo(servers);
  }, PERSISTENCE_TEST_MS);
});

// ---------------------------------------------------------------------------------------
// Migrating a Redis 6 AOF
// ---------------------------------------------------------------------------------------

/** The AOF directory's file names and the manifest's text. */
function aofDirState(dir: string): { files: string[]; manifest: string } {
  const aofDir = join(dir, AOF_DIR);
  return { files: readdirSync(aofDir).sort(), manifest: readFileSync(join(aofDir, "appendonly.aof.manifest"), "latin1") };
}

async function sameDataset(servers: [LoggedServer, LoggedServer]): Promise<void> {
  expect(await same(servers, "DBSIZE")).not.toBe(":0\r\n");
  await same(servers, "DEBUG", "DIGEST");
}

const MIGRATION_LOG = ["Successfully migrated an old-style AOF file (appendonly.aof) into the AOF directory (appendonlydir).", "Ready to accept connections"];

/** The log from the migration to readiness, without the lines only the RDB loader writes. */
function migrationLog(server: LoggedServer): string[] {
  const rdbDetails = /^(Loading RDB produced by|RDB age|RDB memory usage)/;
  return logBetween(server, MIGRATION_LOG[0]!, MIGRATION_LOG[1]!)
    .filter((m) => !rdbDetails.test(m))
    .map((m) => m.replace(/: [\d.]+ seconds$/, ": <t> seconds"));
}

describe("a single-file AOF of Redis 6", () => {
  const commands = resp(["SELECT", "0"], ["SET", "a", "1"], ["RPUSH", "l", "x", "y"], ["SELECT", "2"], ["SADD", "s", "m1", "m2"]);

  test("of commands becomes the base of a new manifest", async () => {
    const servers = await startBoth([...AOF_ARGS, "--enable-debug-command", "yes"], (dir) => {
      writeFileSync(join(dir, "appendonly.aof"), commands, "latin1");
    });
    await sameDataset(servers);
    const [want, got] = servers.map((s) => aofDirState(s.dir));
    expect(got).toEqual(want!);
    expect(got!.manifest).toBe("file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n");
    expect(existsSync(join(servers[1].dir, "appendonly.aof"))).toBe(false);
    expect(migrationLog(servers[1])).toEqual(migrationLog(servers[0]));
    // New writes go to the incr file after the migrated base.
    await same(servers, "SET", "b", "2");
    const [wantIncr, gotIncr] = servers.map((s) => readCommands(aofFile(s.dir, ".1.incr.aof")));
    expect(gotIncr).toEqual(wantIncr!);
  }, PERSISTENCE_TEST_MS);

  test("with an RDB preamble loads the RDB and the commands after it", async () => {
    // A real RDB from Redis (SAVE of a few keys), with commands appended as Redis 6 did.
    const source = newDir("redis");
    const saver = await start("redis", source, []);
    await saver.conn.call("SET", "str", "value");
    await saver.conn.call("HSET", "h", "f1", "v1", "f2", "v2");
    await saver.conn.call("ZADD", "z", "1", "one", "2", "two");
    await saver.conn.call("SAVE");
    const rdb = readFileSync(join(source, "dump.rdb"));
    expect(rdb.subarray(0, 5).toString("latin1")).toBe("REDIS");
    const tail = Buffer.from(resp(["SELECT", "0"], ["SET", "after", "preamble"], ["HDEL", "h", "f1"]), "latin1");
    const servers = await startBoth([...AOF_ARGS, "--enable-debug-command", "yes"], (dir) => {
      writeFileSync(join(dir, "appendonly.aof"), Buffer.concat([rdb, tail]));
    });
    await sameDataset(servers);
    expect(await same(servers, "GET", "after")).toBe("$8\r\npreamble\r\n");
    const [want, got] = servers.map((s) => aofDirState(s.dir));
    expect(got).toEqual(want!);
    const log = migrationLog(servers[1]);
    expect(log).toEqual(migrationLog(servers[0]));
    expect(log).toContain("Reading RDB preamble from AOF file...");
    expect(log).toContain("Reading the remaining AOF tail...");
  }, PERSISTENCE_TEST_MS);

  test("is left alone when a manifest already lists files", async () => {
    const servers = await startBoth([...AOF_ARGS, "--enable-debug-command", "yes"]);
    await same(servers, "SET", "kept", "1");
    const dirsNow = servers.map((s) => s.dir);
    await Promise.all(running.splice(0).map((s) => s.stop()));
    for (const dir of dirsNow) writeFileSync(join(dir, "appendonly.aof"), commands, "latin1");
    const again = await Promise.all([start("redis", dirsNow[0]!, AOF_ARGS), start("redbun", dirsNow[1]!, AOF_ARGS)]);
    expect(await same(again, "DBSIZE")).toBe(":1\r\n");
    for (const dir of dirsNow) expect(existsSync(join(dir, "appendonly.aof"))).toBe(true);
  }, PERSISTENCE_TEST_MS);
});

// ---------------------------------------------------------------------------------------
// aof-timestamp-enabled
// ---------------------------------------------------------------------------------------

/** An AOF's lines split into `#TS:` seconds and the rest of the text. */
function splitAnnotations(path: string): { stamps: number[]; rest: string } {
  const text = readFileSync(path, "latin1");
  const stamps: number[] = [];
  const rest = text.replace(/#TS:(\d+)\r\n/g, (_, sec: string) => {
    stamps.push(Number(sec));
    return "";
  });
  return { stamps, rest };
}

/** Wait until the wall clock enters a new second, so that the next command gets a fresh annotation. */
async function nextSecond(): Promise<void> {
  const sec = Math.floor(Date.now() / 1000);
  await waitFor(() => Math.floor(Date.now() / 1000) > sec, "the next second", 2000);
}

describe("aof-timestamp-enabled", () => {
  const TS_ARGS = [...AOF_ARGS, "--aof-timestamp-enabled", "yes"];

  test("annotates the first command of each second", async () => {
    const servers = await startBoth(TS_ARGS);
    const startSec = Math.floor(Date.now() / 1000);
    await nextSecond();
    await same(servers, "SET", "a", "1");
    await same(servers, "SET", "b", "2");
    await nextSecond();
    await same(servers, "SELECT", "1");
    await same(servers, "SET", "c", "3");
    const endSec = Math.floor(Date.now() / 1000);
    const [want, got] = servers.map((s) => splitAnnotations(aofFile(s.dir, ".1.incr.aof")));
    expect(got!.rest).toBe(want!.rest);
    expect(want!.stamps.length).toBe(2);
    expect(got!.stamps.length).toBe(2);
    for (const sec of got!.stamps) expect(sec >= startSec && sec <= endSec).toBe(true);
    expect(got!.stamps[1]!).toBeGreaterThan(got!.stamps[0]!);
    // The annotation comes before the SELECT that opens the file.
    expect(readFileSync(aofFile(servers[1].dir, ".1.incr.aof"), "latin1").startsWith("#TS:")).toBe(true);
  }, PERSISTENCE_TEST_MS);

  test("a command-form base opens with an annotation, as Redis's rewrite writes it", async () => {
    const servers = await startBoth(TS_ARGS);
    const [want, got] = servers.map((s) => splitAnnotations(aofFile(s.dir, ".1.base.aof")));
    expect(want!.stamps.length).toBe(1);
    expect(got!.stamps.length).toBe(1);
    expect(got!.rest).toBe(want!.rest);
    expect(readFileSync(aofFile(servers[1].dir, ".1.base.aof"), "latin1").startsWith("#TS:")).toBe(true);
  }, PERSISTENCE_TEST_MS);

  test("annotated files load, annotations inside a transaction included", async () => {
    const annotated =
      "#TS:1700000000\r\n" +
      resp(["SELECT", "0"], ["SET", "a", "1"], ["MULTI"]) +
      "#TS:1700000001\r\n" +
      resp(["INCR", "a"], ["SET", "b", "x"], ["EXEC"]) +
      "#TS:1700000002\r\n" +
      resp(["RPUSH", "l", "1"]);
    const servers = await startBoth([...TS_ARGS, "--enable-debug-command", "yes"], (dir) => {
      const aofDir = join(dir, AOF_DIR);
      mkdirSync(aofDir);
      writeFileSync(join(aofDir, "appendonly.aof.1.base.aof"), "#TS:1690000000\r\n", "latin1");
      writeFileSync(join(aofDir, "appendonly.aof.1.incr.aof"), annotated, "latin1");
      writeFileSync(join(aofDir, "appendonly.aof.manifest"), TWO_FILE_MANIFEST, "latin1");
    });
    await sameDataset(servers);
    expect(await same(servers, "GET", "a")).toBe("$1\r\n2\r\n");
    // A redbun restarted over its own annotated files gets the same dataset back.
    await same(servers, "SET", "later", "1");
    const dir = servers[1].dir;
    const digest = await servers[1].conn.call("DEBUG", "DIGEST");
    await servers[1].stop();
    const again = await start("redbun", dir, [...TS_ARGS, "--enable-debug-command", "yes"]);
    expect(await again.conn.call("DEBUG", "DIGEST")).toBe(digest);
  }, PERSISTENCE_TEST_MS);
});

// ---------------------------------------------------------------------------------------
// The manifest
// ---------------------------------------------------------------------------------------

/** A log from `marker` on, without the pid, role and time each line starts with. */
function logFrom(log: string, marker: string): string {
  const text = log.replace(/^\d+:[A-Z] \d+ \w+ \d+ [\d:.]+ [.*#-] /gm, "");
  return text.slice(text.indexOf(marker));
}

describe("the AOF manifest", () => {
  const broken: [string, string][] = [
    ["empty", ""],
    ["last line without a newline", "file appendonly.aof.1.base.aof seq 1 type b"],
    ["a blank line", "\n"],
    ["a path for a name", "file a/b seq 1 type b\n"],
    ["sequence 0", "file x seq 0 type b\n"],
    ["an odd number of words after a comment", "# c\nfile x seq 1 type b extra\n"],
    ["too few words", "file x seq 1\n"],
    ["an unknown type", "file appendonly.aof.1.base.aof seq 1 type x\n"],
    ["an open quote", 'file "x seq 1 type b\n'],
    ["two bases", "file a seq 1 type b\nfile b seq 2 type b\n"],
    ["incr sequences going back", "file a seq 2 type i\nfile b seq 1 type i\n"],
  ];
  for (const [what, manifest] of broken) {
    test(`with ${what} stops start-up with Redis's log lines`, async () => {
      const results = await Promise.all(
        (["redis", "redbun"] as const).map((which) => {
          const dir = newDir(which);
          mkdirSync(join(dir, AOF_DIR));
          writeFileSync(join(dir, AOF_DIR, "appendonly.aof.manifest"), manifest, "latin1");
          return runFailing(which, dir, AOF_ARGS);
        }),
      );
      const [want, got] = results.map((r) => ({ code: r.code, log: logFrom(r.log, "\n*** FATAL") }));
      expect(want!.log).toContain("*** FATAL AOF MANIFEST FILE ERROR ***");
      expect(got).toEqual(want!);
    }, PERSISTENCE_TEST_MS);
  }

  test("DEBUG LOADAOF without any AOF is refused and keeps the data (Redis 7.0 empties it and exits)", async () => {
    const server = await start("redbun", newDir("redbun"), ["--appendonly", "no", "--enable-debug-command", "yes"]);
    await server.conn.call("SET", "k", "v");
    expect(await server.conn.call("DEBUG", "LOADAOF")).toBe("-ERR Error trying to load the AOF files, check server logs.\r\n");
    expect(await server.conn.call("GET", "k")).toBe("$1\r\nv\r\n");
  }, PERSISTENCE_TEST_MS);

  test("a broken manifest stops start-up with appendonly off too, as Redis reads it at every start", async () => {
    for (const manifest of ["", "file appendonly.aof.1.base.aof seq 1 type x\n"]) {
      const results = await Promise.all(
        (["redis", "redbun"] as const).map((which) => {
          const dir = newDir(which);
          mkdirSync(join(dir, AOF_DIR));
          writeFileSync(join(dir, AOF_DIR, "appendonly.aof.manifest"), manifest, "latin1");
          return runFailing(which, dir, ["--appendonly", "no"]);
        }),
      );
      const [want, got] = results.map((r) => ({ code: r.code, log: logFrom(r.log, "\n*** FATAL") }));
      expect(want!.log).toContain("*** FATAL AOF MANIFEST FILE ERROR ***");
      expect(got).toEqual(want!);
    }
  }, PERSISTENCE_TEST_MS);

  test("quoted names, keys in any case and extra pairs are read as Redis reads them", async () => {
    const manifest = 'FILE "appendonly.aof.1.base.aof" SEQ 1 TYPE b future x\n# a comment\nfile appendonly.aof.1.incr.aof type i seq 1\n';
    const servers = await startBoth([...AOF_ARGS, "--enable-debug-command", "yes"], (dir) => {
      mkdirSync(join(dir, AOF_DIR));
      writeFileSync(join(dir, AOF_DIR, "appendonly.aof.1.base.aof"), resp(["SET", "a", "1"]), "latin1");
      writeFileSync(join(dir, AOF_DIR, "appendonly.aof.1.incr.aof"), resp(["SET", "b", "2"]), "latin1");
      writeFileSync(join(dir, AOF_DIR, "appendonly.aof.manifest"), manifest, "latin1");
    });
    await sameDataset(servers);
    expect(await same(servers, "DBSIZE")).toBe(":2\r\n");
  }, PERSISTENCE_TEST_MS);

  test("history files left from before a crash are removed at start-up", async () => {
    const manifest = "file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.1.base.aof seq 1 type h\nfile appendonly.aof.1.incr.aof seq 1 type h\nfile appendonly.aof.2.incr.aof seq 2 type i\n";
    const servers = await startBoth(AOF_ARGS, (dir) => {
      mkdirSync(join(dir, AOF_DIR));
      for (const name of ["appendonly.aof.1.base.aof", "appendonly.aof.1.incr.aof", "appendonly.aof.2.incr.aof"]) {
        writeFileSync(join(dir, AOF_DIR, name), "");
      }
      writeFileSync(join(dir, AOF_DIR, "appendonly.aof.2.base.aof"), resp(["SET", "a", "1"]), "latin1");
      writeFileSync(join(dir, AOF_DIR, "appendonly.aof.manifest"), manifest, "latin1");
    });
    for (const s of servers) await s.waitForLog("Removing the history file appendonly.aof.1.incr.aof in the background");
    await waitFor(() => !existsSync(join(servers[0].dir, AOF_DIR, "appendonly.aof.1.incr.aof")), "redis's background unlink");
    const [want, got] = servers.map((s) => aofDirState(s.dir));
    expect(got).toEqual(want!);
    expect(got!.files).toEqual(["appendonly.aof.2.base.aof", "appendonly.aof.2.incr.aof", "appendonly.aof.manifest"]);
  }, PERSISTENCE_TEST_MS);
});
