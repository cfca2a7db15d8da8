// The limits a server puts on its clients, each under its redis.conf directive, over real
// sockets on redbun and the real redis-server 7.0 side by side: maxclients, timeout,
// tcp-keepalive, client-query-buffer-limit and client-output-buffer-limit for normal clients.
// Covered elsewhere: proto-max-bulk-len (test/commands/config.test.ts and string.test.ts),
// the unauthenticated request limits (test/protocol.test.ts), the pub/sub output limits
// (test/commands/pubsub.test.ts) and the replica one (test/replication/master.test.ts).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { RespConn, encodeCommand } from "../oracle/harness.ts";
import { type LoggedServer, type ServerKind, spawnReady } from "../fixtures/logged-server.ts";
import { infoField, waitUntil } from "./helpers.ts";

/** Polls INFO until `name` satisfies `ok`; returns the last value seen. */
function waitForInfo(conn: RespConn, section: string, name: string, ok: (v: number) => boolean, timeoutMs = 5000): Promise<number> {
  return waitUntil(async () => infoField(await conn.call("INFO", section), name), ok, timeoutMs);
}

/** Both servers, started with the same arguments and logging to a pipe the test reads. */
async function loggedPair(args: string[] = []): Promise<LoggedServer[]> {
  return Promise.all([spawnReady("redis", args), spawnReady("redbun", args)]);
}

async function stopAll(servers: LoggedServer[] | undefined): Promise<void> {
  for (const s of servers ?? []) await s[Symbol.asyncDispose]();
}

// ---------------------------------------------------------------------------------------
// maxclients
// ---------------------------------------------------------------------------------------

describe("maxclients", () => {
  let servers: LoggedServer[];
  beforeAll(async () => {
    servers = await loggedPair(["--maxclients", "4"]);
  });
  afterAll(() => stopAll(servers));

  test("connections past the limit get Redis's error and close; rejected_connections counts them", async () => {
    const results = await Promise.all(
      servers.map(async (s) => {
        const admin = await s.connect();
        // The readiness probe's connection may still be closing: start from admin alone.
        await waitForInfo(admin, "clients", "connected_clients", (n) => n === 1);
        const accepted: RespConn[] = [];
        const refusals: string[] = [];
        for (let i = 0; i < 6; i++) {
          const c = await s.connect();
          const reply = await c.call("PING").catch(() => "");
          if (reply === "+PONG\r\n") accepted.push(c);
          else refusals.push(reply + (await c.readUntilClosed()));
        }
        const rejected = infoField(await admin.call("INFO", "stats"), "rejected_connections");
        // A slot freed by a client leaving is taken by the next connection.
        accepted.pop()!.close();
        await waitForInfo(admin, "clients", "connected_clients", (n) => n === 3);
        const again = await s.connect();
        const afterClose = await again.call("PING");
        for (const c of [...accepted, again, admin]) c.close();
        return { accepted: accepted.length + 1, refusals, rejected, afterClose };
      }),
    );
    expect(results[1]).toEqual(results[0]!);
    expect(results[0]!.accepted).toBe(3);
    expect(results[0]!.refusals).toEqual(Array(3).fill("-ERR max number of clients reached\r\n"));
    expect(results[0]!.rejected).toBe(3);
    expect(results[0]!.afterClose).toBe("+PONG\r\n");
  });
});

// ---------------------------------------------------------------------------------------
// timeout
// ---------------------------------------------------------------------------------------

describe("timeout", () => {
  // A master and its replica on each side, both with a 1 second timeout. The master sends
  // its PING only every repl-ping-replica-period (10 s), yet neither end of the link is an
  // idle client to be closed (test/commands/client-timeout.test.ts covers the other kinds).
  const started: LoggedServer[] = [];
  afterAll(() => stopAll(started));

  async function pair(kind: ServerKind): Promise<{ master: RespConn; replica: RespConn }> {
    const master = await spawnReady(kind, ["--timeout", "1", "--repl-diskless-sync-delay", "0"]);
    started.push(master);
    const replica = await spawnReady(kind, ["--timeout", "1", "--replicaof", "127.0.0.1", String(master.port)]);
    started.push(replica);
    return { master: await master.connect(), replica: await replica.connect() };
  }

  test("the replication link's clients are never closed as idle", async () => {
    const results = await Promise.all(
      (["redis", "redbun"] as const).map(async (kind) => {
        const { master, replica } = await pair(kind);
        await waitForInfo(master, "replication", "connected_slaves", (n) => n === 1);
        await waitForInfo(replica, "replication", "master_sync_in_progress", (n) => n === 0);
        for (let i = 0; i < 500 && !(await replica.call("INFO", "replication")).includes("master_link_status:up"); i++) await Bun.sleep(10);
        // Idle well past the timeout, the test's own connections kept busy.
        for (let i = 0; i < 14; i++) {
          await Promise.all([master.call("PING"), replica.call("PING")]);
          await Bun.sleep(250);
        }
        const replicaInfo = await replica.call("INFO", "replication");
        const masterInfo = await master.call("INFO", "replication");
        const masterStats = await master.call("INFO", "stats");
        master.close();
        replica.close();
        return {
          linkUp: replicaInfo.includes("master_link_status:up"),
          connectedSlaves: infoField(masterInfo, "connected_slaves"),
          fullSyncs: infoField(masterStats, "sync_full"),
          partialSyncs: infoField(masterStats, "sync_partial_ok"),
        };
      }),
    );
    expect(results[1]).toEqual(results[0]!);
    expect(results[0]).toEqual({ linkUp: true, connectedSlaves: 1, fullSyncs: 1, partialSyncs: 0 });
  }, 20000);
});

// ---------------------------------------------------------------------------------------
// tcp-keepalive
// ---------------------------------------------------------------------------------------

/**
 * The keepalive timer the kernel runs on the server's end of conn, in seconds until its
 * first probe (from `ss -o`), or null when the socket has no keepalive. While a reply
 * waits for its ACK the socket shows its retransmission timer instead: ask again.
 */
async function keepaliveSeconds(serverPort: number, conn: RespConn): Promise<number | null> {
  const clientPort = /addr=[^ ]+:(\d+) /.exec(await conn.call("CLIENT", "INFO"))![1];
  for (let attempt = 0; ; attempt++) {
    const out = spawnSync("ss", ["-tnoH", "state", "established", `( sport = :${serverPort} and dport = :${clientPort} )`], { encoding: "utf8" });
    if (out.status !== 0) throw new Error(`ss failed: ${out.stderr}`);
    const lines = out.stdout.trim().split("\n");
    expect(lines.length).toBe(1);
    if (lines[0]!.includes("timer:(on,") && attempt < 100) {
      await Bun.sleep(20);
      continue;
    }
    const m = /timer:\(keepalive,(?:(\d+)min)?(?:(\d+)sec)?(?:(\d+)ms)?/.exec(lines[0]!);
    if (m === null) return null;
    return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0) + Number(m[3] ?? 0) / 1000;
  }
}

describe("tcp-keepalive", () => {
  let servers: LoggedServer[];
  beforeAll(async () => {
    servers = await loggedPair(["--tcp-keepalive", "120"]);
  });
  afterAll(() => stopAll(servers));

  test("applies to new connections; CONFIG SET changes it for the next ones", async () => {
    const results = await Promise.all(
      servers.map(async (s) => {
        const first = await s.connect();
        const atStart = await keepaliveSeconds(s.port, first);
        expect(await first.call("CONFIG", "SET", "tcp-keepalive", "30")).toBe("+OK\r\n");
        const second = await s.connect();
        const afterSet = await keepaliveSeconds(s.port, second);
        const firstStill = await keepaliveSeconds(s.port, first);
        expect(await first.call("CONFIG", "SET", "tcp-keepalive", "0")).toBe("+OK\r\n");
        const third = await s.connect();
        const off = await keepaliveSeconds(s.port, third);
        const config = await third.call("CONFIG", "GET", "tcp-keepalive");
        for (const c of [first, second, third]) c.close();
        // Seconds until the first probe: at most the setting, and within a few of it.
        const near = (v: number | null, setting: number) => v !== null && v <= setting && v > setting - 5;
        return { atStart: near(atStart, 120), afterSet: near(afterSet, 30), firstStill: near(firstStill, 120), off, config };
      }),
    );
    expect(results[1]).toEqual(results[0]!);
    expect(results[0]).toEqual({ atStart: true, afterSet: true, firstStill: true, off: null, config: "*2\r\n$13\r\ntcp-keepalive\r\n$1\r\n0\r\n" });
  });
});

// ---------------------------------------------------------------------------------------
// client-query-buffer-limit
// ---------------------------------------------------------------------------------------

describe("client-query-buffer-limit", () => {
  let servers: LoggedServer[];
  beforeAll(async () => {
    servers = await loggedPair();
    for (const s of servers) {
      const c = await s.connect();
      expect(await c.call("CONFIG", "SET", "client-query-buffer-limit", "1mb")).toBe("+OK\r\n");
      c.close();
    }
  });
  afterAll(() => stopAll(servers));

  // The client's CLIENT LIST line, then the first 64 bytes of what Redis holds in its query
  // buffer: the argument still arriving.
  const closedLine =
    /# Closing client that reached max query buffer length: id=\d+ addr=127\.0\.0\.1:\d+ laddr=127\.0\.0\.1:\d+ fd=\d+ name= age=\d+ idle=\d+ flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=\d+ qbuf-free=\d+ argv-mem=\d+ multi-mem=0 rbs=\d+ rbp=\d+ obl=0 oll=0 omem=0 tot-mem=\d+ events=r cmd=NULL user=default redir=-1 resp=2 \(qbuf initial bytes: "x{64}"\)\n/;

  test("a client whose incomplete bulk passes the limit is closed and logged; others are not disturbed", async () => {
    const results = await Promise.all(
      servers.map(async (s) => {
        const [bystander, offender] = [await s.connect(), await s.connect()];
        // The bystander is in the middle of a command of its own meanwhile.
        const set = encodeCommand(["SET", "k", "v".repeat(100_000)]);
        bystander.write(set.subarray(0, 50_000));
        offender.write("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3000000\r\n");
        const chunk = "x".repeat(100_000);
        for (let i = 0; i < 20 && !offender.isClosed; i++) {
          offender.write(chunk);
          await Bun.sleep(5);
        }
        const offenderGot = await offender.readUntilClosed();
        await s.waitForLog(closedLine);
        bystander.write(set.subarray(50_000));
        const bystanderGot = [await bystander.read(), await bystander.call("STRLEN", "k")];
        bystander.close();
        return { offenderGot, bystanderGot };
      }),
    );
    expect(results[1]).toEqual(results[0]!);
    expect(results[0]).toEqual({ offenderGot: "", bystanderGot: ["+OK\r\n", ":100000\r\n"] });
  });

  test("only the argument still arriving counts: a request of many arguments larger than the limit is served", async () => {
    const args = ["RPUSH", "big"];
    for (let i = 0; i < 100; i++) args.push(String(i % 10).repeat(20_000));
    const request = encodeCommand(args);
    const results = await Promise.all(
      servers.map(async (s) => {
        const c = await s.connect();
        // In pieces, so that the request sits incomplete in the query buffer for a while.
        for (let i = 0; i < request.length; i += 50_000) {
          c.write(request.subarray(i, i + 50_000));
          await Bun.sleep(2);
        }
        const replies = [await c.read(), await c.call("DEL", "big")];
        c.close();
        return replies;
      }),
    );
    expect(results[1]).toEqual(results[0]!);
    expect(results[0]).toEqual([":100\r\n", ":1\r\n"]);
  });
});

describe("client-query-buffer-limit for a blocked client", () => {
  let servers: LoggedServer[];
  beforeAll(async () => {
    servers = await loggedPair(["--client-query-buffer-limit", "1mb"]);
  });
  afterAll(() => stopAll(servers));

  test("what it pipelines while blocked is unparsed and counts whole", async () => {
    const one = encodeCommand(["SET", "x", "y".repeat(1000)]);
    const batch = Buffer.concat(Array.from({ length: 100 }, () => one));
    const results = await Promise.all(
      servers.map(async (s) => {
        const c = await s.connect();
        c.write(encodeCommand(["BLPOP", "nolist", "0"]));
        const admin = await s.connect();
        await waitForInfo(admin, "clients", "blocked_clients", (n) => n === 1);
        // 1.5 MB of complete commands, each far below the limit.
        for (let i = 0; i < 15 && !c.isClosed; i++) {
          c.write(batch);
          await Bun.sleep(5);
        }
        const got = await c.readUntilClosed();
        await s.waitForLog(/Closing client that reached max query buffer length: id=\d+ .* flags=b .* cmd=blpop user=default redir=-1 resp=2 \(qbuf initial bytes: "\*3\\r\\n\$3\\r\\nSET\\r\\n\$1\\r\\nx\\r\\n\$1000\\r\\ny{37}"\)/);
        const exists = await admin.call("EXISTS", "x");
        admin.close();
        return { got, exists };
      }),
    );
    expect(results[1]).toEqual(results[0]!);
    expect(results[0]).toEqual({ got: "", exists: ":0\r\n" });
  });
});

describe("client-query-buffer-limit on a replica", () => {
  const started: LoggedServer[] = [];
  afterAll(() => stopAll(started));

  test("does not apply to the master's stream", async () => {
    const value = "x".repeat(3_000_000);
    const results = await Promise.all(
      (["redis", "redbun"] as const).map(async (kind) => {
        const master = await spawnReady(kind, ["--repl-diskless-sync-delay", "0"]);
        started.push(master);
        const replica = await spawnReady(kind, ["--client-query-buffer-limit", "1mb", "--replicaof", "127.0.0.1", String(master.port)]);
        started.push(replica);
        const [m, r] = [await master.connect(), await replica.connect()];
        await waitUntil(async () => (await r.call("INFO", "replication")).includes("master_link_status:up"), (up) => up);
        await m.call("SET", "big", value);
        const strlen = await waitUntil(() => r.call("STRLEN", "big"), (reply) => reply !== ":0\r\n");
        const stats = await m.call("INFO", "stats");
        m.close();
        r.close();
        return { strlen, fullSyncs: infoField(stats, "sync_full"), partialErrors: infoField(stats, "sync_partial_err") };
      }),
    );
    expect(results[1]).toEqual(results[0]!);
    expect(results[0]).toEqual({ strlen: ":3000000\r\n", fullSyncs: 1, partialErrors: 0 });
  });
});

// ---------------------------------------------------------------------------------------
// client-output-buffer-limit, normal clients
// ---------------------------------------------------------------------------------------

describe("client-output-buffer-limit for normal clients", () => {
  let servers: LoggedServer[];
  beforeAll(async () => {
    servers = await loggedPair();
  });
  afterAll(() => stopAll(servers));

  test("a slow reader of large replies over the soft limit is closed after its seconds, and logged", async () => {
    const results = await Promise.all(
      servers.map(async (s) => {
        const [reader, admin] = [await s.connect(), await s.connect()];
        await admin.call("CONFIG", "SET", "client-output-buffer-limit", "normal 0 1mb 1");
        await admin.call("SET", "big", "v".repeat(1024 * 1024));
        const id = (await reader.call("CLIENT", "ID")).slice(1, -2);
        reader.pause();
        const started = Date.now();
        // Well past what the kernel's socket buffers take, so that output stays pending.
        reader.write(Buffer.concat(Array.from({ length: 16 }, () => encodeCommand(["GET", "big"]))));
        // While it is held, INFO reports its output among the clients' largest.
        const recentMax = await waitForInfo(admin, "clients", "client_recent_max_output_buffer", (n) => n >= 1024 * 1024);
        let listed = true;
        while (listed && Date.now() - started < 8000) {
          listed = (await admin.call("CLIENT", "LIST", "ID", id)).includes(`id=${id} `);
          await Bun.sleep(20);
        }
        const seconds = (Date.now() - started) / 1000;
        await s.waitForLog(new RegExp(`Client id=${id} addr=\\S+ laddr=\\S+ fd=\\d+ name= age=\\d+ idle=\\d+ flags=N .* cmd=get user=default redir=-1 resp=2 closed for overcoming of output buffer limits\\.`));
        // INFO keeps the peaks of the last seconds, so the client still shows once gone.
        const recentMaxAfterClose = infoField(await admin.call("INFO", "clients"), "client_recent_max_output_buffer");
        await admin.call("CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0");
        reader.close();
        admin.close();
        return {
          recentMaxOver1mb: recentMax >= 1024 * 1024,
          closed: !listed,
          afterSoftSeconds: seconds >= 1 && seconds < 4,
          stillShownAfterClose: recentMaxAfterClose >= 1024 * 1024,
        };
      }),
    );
    expect(results[1]).toEqual(results[0]!);
    expect(results[0]).toEqual({ recentMaxOver1mb: true, closed: true, afterSoftSeconds: true, stillShownAfterClose: true });
  }, 15000);
});
