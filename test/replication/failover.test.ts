// FAILOVER outside cluster mode: its argument checks and errors compared with Redis 7.0 byte
// for byte, then coordinated failovers between real processes (redbun and Redis, both ways):
// the master hands over to a caught-up replica, which continues it with a partial resync;
// TIMEOUT rolls back, FORCE hands over anyway, ABORT cancels, and writes wait meanwhile.

import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RespConn, encodeCommand, startRedbun, startRedis, type ServerProcess } from "../oracle/harness.ts";
import { infoField, waitCaughtUp, waitFor } from "./helpers.ts";

type Kind = "redbun" | "redis";

interface Node {
  kind: Kind;
  proc: ServerProcess;
  conn: RespConn;
  dir: string;
}

const started: Node[] = [];
/** Every process and dir, tracked from the moment they exist, so that a failed start leaks nothing. */
const processes: ServerProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const node of started) node.conn.close();
  for (const proc of processes) {
    proc.proc.kill("SIGCONT");
    await proc.stop();
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  started.length = processes.length = dirs.length = 0;
});

async function startNode(kind: Kind, args: string[] = []): Promise<Node> {
  const dir = mkdtempSync(join(tmpdir(), "redbun-failover-"));
  dirs.push(dir);
  const all = ["--dir", dir, "--logfile", join(dir, "server.log"), "--repl-diskless-sync-delay", "0", ...args];
  const proc = kind === "redbun" ? await startRedbun(all) : await startRedis(all);
  processes.push(proc);
  const node: Node = { kind, proc, conn: await RespConn.connect(proc.port), dir };
  started.push(node);
  return node;
}

/** A master with one replica caught up, and a few keys. */
async function pair(masterKind: Kind, replicaKind: Kind): Promise<[Node, Node]> {
  const master = await startNode(masterKind);
  const replica = await startNode(replicaKind, ["--replicaof", "127.0.0.1", String(master.proc.port)]);
  for (let i = 0; i < 100; i++) expect(await master.conn.call("SET", `k${i}`, `v${i}`)).toBe("+OK\r\n");
  await waitCaughtUp(master.conn, replica.conn);
  return [master, replica];
}

async function role(node: Node): Promise<string> {
  return infoField(await node.conn.call("INFO", "replication"), "role")!;
}

async function failoverState(node: Node): Promise<string> {
  return infoField(await node.conn.call("INFO", "replication"), "master_failover_state")!;
}

function log(node: Node): string {
  return readFileSync(join(node.dir, "server.log"), "latin1");
}

test("argument checks and errors as Redis's, with and without replicas", async () => {
  const checks: string[][] = [
    ["FAILOVER"],
    ["FAILOVER", "ABORT"],
    ["FAILOVER", "TIMEOUT", "0"],
    ["FAILOVER", "TIMEOUT", "-5"],
    ["FAILOVER", "TIMEOUT", "abc"],
    ["FAILOVER", "TIMEOUT"],
    ["FAILOVER", "TIMEOUT", "10", "TIMEOUT", "20"],
    ["FAILOVER", "TO", "127.0.0.1", "abc"],
    ["FAILOVER", "TO", "127.0.0.1"],
    ["FAILOVER", "FORCE"],
    ["FAILOVER", "FORCE", "FORCE"],
    ["FAILOVER", "ABORT", "TIMEOUT", "10"],
    ["FAILOVER", "TO", "127.0.0.1", "1", "FORCE"],
    ["FAILOVER", "TO", "10.9.9.9", "1", "TIMEOUT", "100"],
    ["FAILOVER", "NOW"],
    ["PSYNC", "abc", "1", "FAILOVER"],
  ];
  const replies = new Map<Kind, string[]>();
  for (const kind of ["redis", "redbun"] as const) {
    const [master, replica] = await pair(kind, kind);
    const got: string[] = [];
    for (const args of checks) got.push(await master.conn.call(...args));
    // A replica refuses FAILOVER, and PSYNC FAILOVER for another history.
    got.push(await replica.conn.call("FAILOVER"));
    got.push(await (await RespConn.connect(replica.proc.port)).call("PSYNC", "0".repeat(40), "1", "FAILOVER"));
    // The master with no replica left.
    replica.conn.close();
    await replica.proc.stop();
    started.splice(started.indexOf(replica), 1);
    await waitFor("the master to see its replica go", async () => infoField(await master.conn.call("INFO", "replication"), "connected_slaves") === "0");
    got.push(await master.conn.call("FAILOVER"));
    replies.set(kind, got);
  }
  expect(replies.get("redbun")).toEqual(replies.get("redis")!);
  // The replies are the errors they should be, not merely alike.
  expect(replies.get("redbun")!.at(-1)).toBe("-ERR FAILOVER requires connected replicas.\r\n");
}, 60000);

const PAIRS: [Kind, Kind][] = [
  ["redbun", "redbun"],
  ["redbun", "redis"],
  ["redis", "redbun"],
];

for (const [masterKind, replicaKind] of PAIRS) {
  test(`${masterKind} master hands over to its ${replicaKind} replica, which continues it`, async () => {
    const [master, replica] = await pair(masterKind, replicaKind);
    expect(await master.conn.call("FAILOVER")).toBe("+OK\r\n");
    await waitFor("the roles to swap", async () => (await role(master)) === "slave" && (await role(replica)) === "master");
    await waitFor("the old master to follow", async () => infoField(await master.conn.call("INFO", "replication"), "master_link_status") === "up");
    expect(await failoverState(master)).toBe("no-failover");
    // The new master continued the old one's history: no full resync.
    const info = await replica.conn.call("INFO", "stats");
    expect(infoField(info, "sync_partial_ok")).toBe("1");
    expect(infoField(info, "sync_full")).toBe("0");
    // Writes go to the new master and reach the old one.
    expect(await replica.conn.call("SET", "after", "failover")).toBe("+OK\r\n");
    await waitCaughtUp(replica.conn, master.conn);
    expect(await master.conn.call("GET", "after")).toBe("$8\r\nfailover\r\n");
    expect(await master.conn.call("GET", "k99")).toBe("$3\r\nv99\r\n");
    if (masterKind === "redbun") {
      expect(log(master)).toContain("FAILOVER requested to any replica.");
      expect(log(master)).toMatch(/Failover target 127\.0\.0\.1:\d+ is synced, failing over\./);
    }
    if (replicaKind === "redbun") expect(log(replica)).toMatch(/MASTER MODE enabled \(failover request from 'id=\d+ addr=127\.0\.0\.1:/);
  }, 30000);
}

for (const kind of ["redis", "redbun"] as const) {
  test(`${kind}: TIMEOUT rolls back a replica that never caught up; writes waited meanwhile`, async () => {
    const [master, replica] = await pair(kind, kind);
    replica.proc.proc.kill("SIGSTOP");
    expect(await master.conn.call("SET", "moved", "offset")).toBe("+OK\r\n");
    expect(await master.conn.call("FAILOVER", "TO", "127.0.0.1", String(replica.proc.port), "TIMEOUT", "400")).toBe("+OK\r\n");
    expect(await failoverState(master)).toBe("waiting-for-sync");
    // A write waits for the failover to end; a read does not.
    const writer = await RespConn.connect(master.proc.port);
    const t0 = Date.now();
    writer.write(encodeCommand(["SET", "during", "pause"]));
    expect(await master.conn.call("GET", "moved")).toBe("$6\r\noffset\r\n");
    expect(await writer.read(5000)).toBe("+OK\r\n");
    // Redis checks the timeout once a second; redbun as soon as it passes.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    writer.close();
    expect(await failoverState(master)).toBe("no-failover");
    expect(await role(master)).toBe("master");
    expect(log(master)).toMatch(/FAILOVER to 127\.0\.0\.1:\d+ aborted: Replica never caught up before timeout/);
  }, 30000);

  test(`${kind}: FORCE hands over when the timeout passes; ABORT cancels a waiting failover`, async () => {
    const [master, replica] = await pair(kind, kind);
    replica.proc.proc.kill("SIGSTOP");
    expect(await master.conn.call("SET", "moved", "offset")).toBe("+OK\r\n");
    expect(await master.conn.call("FAILOVER", "TIMEOUT", "60000")).toBe("+OK\r\n");
    expect(await master.conn.call("FAILOVER")).toBe("-ERR FAILOVER already in progress.\r\n");
    expect(await master.conn.call("FAILOVER", "ABORT")).toBe("+OK\r\n");
    expect(await failoverState(master)).toBe("no-failover");
    expect(await master.conn.call("SET", "after", "abort")).toBe("+OK\r\n");
    expect(await master.conn.call("FAILOVER", "TO", "127.0.0.1", String(replica.proc.port), "TIMEOUT", "200", "FORCE")).toBe("+OK\r\n");
    await waitFor("the timeout to hand over", async () => (await failoverState(master)) === "failover-in-progress");
    expect(await role(master)).toBe("slave");
    replica.proc.proc.kill("SIGCONT");
    await waitFor("the roles to swap", async () => (await role(replica)) === "master" && (await failoverState(master)) === "no-failover", 15000);
    // What the replica had not received before the handover is lost, as with Redis: the
    // old master follows the new one's history now.
    await waitCaughtUp(replica.conn, master.conn);
    expect(await master.conn.call("GET", "k1")).toBe("$2\r\nv1\r\n");
  }, 30000);
}
