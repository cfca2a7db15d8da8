// SHUTDOWN on a master with replicas (Redis 7.0): unless NOW, writes pause and the server
// waits up to shutdown-timeout seconds for every replica to acknowledge the whole stream;
// SHUTDOWN ABORT cancels the wait. A master restarted from the RDB it saved keeps its old
// history as replid2, so its replicas continue with a partial resync.

import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RespConn, startRedbun, startRedis, type ServerProcess } from "../oracle/harness.ts";
import { infoField, waitCaughtUp, waitFor } from "./helpers.ts";

const started: ServerProcess[] = [];
const conns: RespConn[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const c of conns.splice(0)) c.close();
  for (const s of started.splice(0)) {
    // A stopped process cannot die of SIGKILL until it runs again.
    s.proc.kill("SIGCONT");
    await s.stop();
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "redbun-shutdown-"));
  dirs.push(dir);
  return dir;
}

/** A redbun master logging to a file in its own dir, and a redbun replica of it. */
async function masterAndReplica(masterArgs: string[] = []) {
  const masterDir = tempDir();
  const masterArgv = ["--dir", masterDir, "--logfile", join(masterDir, "log"), "--repl-diskless-sync-delay", "0", ...masterArgs];
  const master = await startRedbun(masterArgv);
  started.push(master);
  const replica = await startRedbun(["--dir", tempDir(), "--replicaof", "127.0.0.1", String(master.port)]);
  started.push(replica);
  const m = await RespConn.connect(master.port);
  const r = await RespConn.connect(replica.port);
  conns.push(m, r);
  await waitCaughtUp(m, r);
  return { master, replica, m, r, masterDir, masterArgv };
}

test("SHUTDOWN waits for the replica's ACK of the last write, then saves; a restart continues with a partial resync", async () => {
  const { master, m, r, masterDir, masterArgv } = await masterAndReplica(["--save", "3600 1"]);
  expect(await m.call("SET", "last", "write")).toBe("+OK\r\n");
  const t0 = performance.now();
  // A successful SHUTDOWN closes the connection without a reply.
  await expect(m.call("SHUTDOWN")).rejects.toThrow();
  await master.proc.exited;
  // The replica acknowledges once a second: the wait is at most about that long.
  expect(performance.now() - t0).toBeLessThan(3000);
  expect(await r.call("GET", "last")).toBe("$5\r\nwrite\r\n");
  const log = readFileSync(join(masterDir, "log"), "latin1");
  expect(log).toContain("Waiting for replicas before shutting down.");
  expect(log).toContain("1 of 1 replicas are in sync when shutting down.");
  const oldId = infoField(await r.call("INFO", "replication"), "master_replid")!;

  // Restarted from its RDB, the master's old history is its second ID.
  const again = await startRedbun(masterArgv);
  started.push(again);
  const m2 = await RespConn.connect(again.port);
  conns.push(m2);
  const info = await m2.call("INFO", "replication");
  expect(infoField(info, "master_replid2")).toBe(oldId);
  expect(infoField(info, "repl_backlog_active")).toBe("1");
  const offset = Number(infoField(info, "master_repl_offset"));
  expect(infoField(info, "second_repl_offset")).toBe(String(offset + 1));
  expect(await m2.call("GET", "last")).toBe("$5\r\nwrite\r\n");
  // The replica, pointed at the new port, continues where it was.
  expect(await r.call("REPLICAOF", "127.0.0.1", String(again.port))).toBe("+OK\r\n");
  await m2.call("SET", "after", "restart");
  await waitCaughtUp(m2, r);
  expect(await r.call("GET", "after")).toBe("$7\r\nrestart\r\n");
  const stats = await m2.call("INFO", "stats");
  expect(infoField(stats, "sync_partial_ok")).toBe("1");
  expect(infoField(stats, "sync_full")).toBe("0");
}, 20000);

test("a replica that does not answer holds SHUTDOWN for shutdown-timeout; writes wait meanwhile; ABORT cancels it", async () => {
  const { master, replica, m, masterDir } = await masterAndReplica(["--shutdown-timeout", "1"]);
  process.kill(replica.proc.pid, "SIGSTOP");
  await m.call("SET", "k", "1");

  // ABORT: the waiting SHUTDOWN gets the error, the held write goes on, the server stays.
  const caller = await RespConn.connect(master.port);
  const writer = await RespConn.connect(master.port);
  conns.push(caller, writer);
  const shutdownReply = caller.call("SHUTDOWN");
  await waitFor("the wait to start", async () => readFileSync(join(masterDir, "log"), "latin1").includes("Waiting for replicas"));
  const held = writer.call("SET", "held", "1");
  expect(await m.call("GET", "k")).toBe("$1\r\n1\r\n");
  expect(await m.call("SHUTDOWN", "ABORT")).toBe("+OK\r\n");
  expect(await shutdownReply).toBe("-ERR Errors trying to SHUTDOWN. Check logs.\r\n");
  expect(await held).toBe("+OK\r\n");
  expect(await m.call("SHUTDOWN", "ABORT")).toBe("-ERR No shutdown in progress.\r\n");

  // Without ABORT the timeout ends the wait, and the lagging replica is logged.
  const t0 = performance.now();
  await expect(m.call("SHUTDOWN", "NOSAVE")).rejects.toThrow();
  expect(performance.now() - t0).toBeGreaterThanOrEqual(900);
  const log = readFileSync(join(masterDir, "log"), "latin1");
  expect(log).toMatch(/Lagging replica 127\.0\.0\.1:\d+ reported offset \d+ behind master, lag=\d+, state=online\./);
  expect(log).toContain("0 of 1 replicas are in sync when shutting down.");
}, 20000);

test("SHUTDOWN NOW does not wait", async () => {
  const { replica, master, m } = await masterAndReplica(["--shutdown-timeout", "10"]);
  process.kill(replica.proc.pid, "SIGSTOP");
  await m.call("SET", "k", "1");
  const t0 = performance.now();
  await expect(m.call("SHUTDOWN", "NOW", "NOSAVE")).rejects.toThrow();
  await master.proc.exited;
  expect(performance.now() - t0).toBeLessThan(1000);
}, 20000);

test("SHUTDOWN ABORT with nothing to abort answers as Redis does", async () => {
  const redis = await startRedis();
  const redbun = await startRedbun();
  started.push(redis, redbun);
  const a = await RespConn.connect(redis.port);
  const b = await RespConn.connect(redbun.port);
  conns.push(a, b);
  for (const args of [["SHUTDOWN", "ABORT"], ["SHUTDOWN", "ABORT", "NOW"], ["SHUTDOWN", "NOW", "ABORT"]]) {
    expect(await b.call(...args)).toBe(await a.call(...args));
  }
});
