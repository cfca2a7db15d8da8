// tls-replication: a replica's link to its master's tls-port, in every pairing with
// redis-server 7.0 (redbun -> redbun, redbun replica of a Redis master, Redis replica of a
// redbun master): the full sync, then the stream of writes, and the port the replica
// announces. A replica that does not trust its master's certificate never gets the link up.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RespConn, freePort, startRedbun, startRedis, type ServerProcess } from "../oracle/harness.ts";
import { infoField, waitCaughtUp, waitFor } from "../replication/helpers.ts";
import { makeCerts, tlsArgs, type Certs } from "./tls-certs.ts";
import { externalAddress } from "./net-helpers.ts";

let certs: Certs;
let root: string;

beforeAll(() => {
  certs = makeCerts();
  root = mkdtempSync(join(tmpdir(), "redbun-tls-repl-"));
});

afterAll(() => {
  certs[Symbol.dispose]();
  rmSync(root, { recursive: true, force: true });
});

type Kind = "redis" | "redbun";

interface TlsServer {
  server: ServerProcess;
  conn: RespConn;
  tlsPort: number;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A server with a TLS listener and its own --dir (a full sync writes an RDB there). */
async function start(kind: Kind, extra: string[] = []): Promise<TlsServer> {
  const tlsPort = freePort();
  const dir = mkdtempSync(join(root, `${kind}-`));
  const args = [...tlsArgs(certs, tlsPort), "--dir", dir, "--repl-diskless-sync-delay", "0", ...extra];
  const server = await (kind === "redis" ? startRedis(args) : startRedbun(args));
  const conn = await RespConn.connect(server.port);
  return {
    server,
    conn,
    tlsPort,
    async [Symbol.asyncDispose]() {
      conn.close();
      await server.stop();
    },
  };
}

function replicaOf(master: TlsServer, host = "127.0.0.1"): string[] {
  return ["--tls-replication", "yes", "--replicaof", host, String(master.tlsPort)];
}

/** Writes before the sync, waits for it, writes again, and checks the replica has it all. */
async function syncsAndStreams(masterKind: Kind, replicaKind: Kind): Promise<void> {
  await using master = await start(masterKind);
  await master.conn.call("SET", "before", "sync");
  await master.conn.call("HSET", "h", "f1", "v1", "f2", "v2");
  await using replica = await start(replicaKind, replicaOf(master));
  await waitCaughtUp(master.conn, replica.conn);
  await master.conn.call("RPUSH", "list", "a", "b", "c");
  await master.conn.call("INCRBY", "counter", "42");
  await waitCaughtUp(master.conn, replica.conn);
  expect(await replica.conn.call("GET", "before")).toBe("$4\r\nsync\r\n");
  expect(await replica.conn.call("HGET", "h", "f2")).toBe("$2\r\nv2\r\n");
  expect(await replica.conn.call("LRANGE", "list", "0", "-1")).toBe("*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");
  expect(await replica.conn.call("GET", "counter")).toBe("$2\r\n42\r\n");
  // The replica announced its TLS port, where its own replicas would connect.
  const slave0 = infoField(await master.conn.call("INFO", "replication"), "slave0") ?? "";
  expect(slave0).toContain(`port=${replica.tlsPort},`);
  // Its master is a TLS client of the master's tls-port.
  const clients = await master.conn.call("CLIENT", "LIST", "TYPE", "replica");
  expect(clients).toContain(`laddr=127.0.0.1:${master.tlsPort} `);
}

test("a redbun replica of a redbun master over TLS", async () => {
  await syncsAndStreams("redbun", "redbun");
});

test("a redbun replica of a Redis master over TLS", async () => {
  await syncsAndStreams("redis", "redbun");
});

test("a Redis replica of a redbun master over TLS", async () => {
  await syncsAndStreams("redbun", "redis");
});

test("a replica that does not trust its master's certificate keeps the link down", async () => {
  await using master = await start("redbun");
  // The replica trusts only a CA that did not sign the master's certificate.
  await using replica = await start("redbun", [...replicaOf(master), "--tls-ca-cert-file", certs.untrustedCert]);
  // The attempt is made (and fails) at the first cron tick; wait past a few of them.
  await waitFor("a failed attempt", async () => infoField(await replica.conn.call("INFO", "replication"), "master_link_down_since_seconds") !== undefined);
  await Bun.sleep(300);
  const info = await replica.conn.call("INFO", "replication");
  expect(infoField(info, "master_link_status")).toBe("down");
  expect(infoField(await master.conn.call("INFO", "replication"), "connected_slaves")).toBe("0");
});

/** An address of this machine that the test certificate does not name. */
const external = externalAddress();

test.skipIf(external === null)("the master's certificate must verify, but need not name the address used, as in Redis", async () => {
  await using master = await start("redbun", ["--bind", "*", "--protected-mode", "no"]);
  await master.conn.call("SET", "k", "v");
  for (const kind of ["redis", "redbun"] as const) {
    await using replica = await start(kind, replicaOf(master, external!));
    await waitCaughtUp(master.conn, replica.conn);
    expect(await replica.conn.call("GET", "k")).toBe("$1\r\nv\r\n");
  }
});
