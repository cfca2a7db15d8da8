// redbun under Node.js 20, through node:net (src/transport/node.ts): the Node build of the
// package runs in a `node` child process, the same entry under `bun` in another, and every
// client round trip below must get the same bytes from both. The Node side is the one on
// trial; the Bun side is the reference, itself checked against Redis by the oracle tests.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import Redis from "ioredis";
import { buildNode } from "../../scripts/build-node.ts";
import { encodeCommand, freePort, REPO_ROOT, RespConn } from "../oracle/harness.ts";
import { makeCerts, tlsCall, trustedClient, type Certs } from "../server/tls-certs.ts";

const FIXTURE = join(import.meta.dir, "server-fixture.mjs");

setDefaultTimeout(20_000);

/** One embedded server in a child process, under `runtime`. */
class ChildServer {
  private constructor(
    readonly proc: Subprocess<"pipe", "pipe", "inherit">,
    readonly port: number,
    readonly runtime: string,
    readonly tlsPort: number,
    readonly unixSocket: string,
  ) {}

  /** A server on a free port, with a TLS listener on `tls-port` and a unix socket as well. */
  static async start(runtime: "node" | "bun", entry: string): Promise<ChildServer> {
    const tlsPort = freePort();
    const unixSocket = join(outdir, `${runtime}.sock`);
    // The server's files (a replica's RDB) go to the test's directory, never the checkout.
    const directives = ["enable-debug-command", "yes", "dir", outdir, "unixsocket", unixSocket, "tls-port", String(tlsPort)];
    directives.push("tls-cert-file", certs.serverCert, "tls-key-file", certs.serverKey, "tls-ca-cert-file", certs.caCert);
    const proc = Bun.spawn([runtime, FIXTURE, entry, ...directives], { stdin: "pipe", stdout: "pipe", stderr: "inherit", cwd: REPO_ROOT });
    const line = await firstLine(proc.stdout);
    const [port, ran] = line.split(" ");
    if (port === undefined || ran === undefined) throw new Error(`${runtime} fixture printed ${JSON.stringify(line)}`);
    return new ChildServer(proc, Number(port), ran, tlsPort, unixSocket);
  }

  async stop(): Promise<void> {
    this.proc.kill("SIGKILL");
    await this.proc.exited;
  }
}

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    text += decoder.decode(chunk);
    const newline = text.indexOf("\n");
    if (newline >= 0) return text.slice(0, newline);
  }
  throw new Error(`the fixture exited after ${JSON.stringify(text)}`);
}

let outdir = "";
let certs: Certs;
let node: ChildServer;
let bun: ChildServer;

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), "redbun-node-"));
  certs = makeCerts();
  const entry = await buildNode(outdir);
  [node, bun] = await Promise.all([ChildServer.start("node", entry), ChildServer.start("bun", join(REPO_ROOT, "src/index.ts"))]);
});

afterAll(async () => {
  await Promise.all([node?.stop(), bun?.stop()]);
  rmSync(outdir, { recursive: true, force: true });
  certs?.[Symbol.dispose]();
});

/** Runs `body` on both servers at once, expects the same result from each, and returns it. */
async function sameFromBoth<T>(body: (server: ChildServer) => Promise<T>): Promise<T> {
  const [fromNode, fromBun] = await Promise.all([body(node), body(bun)]);
  expect(fromNode).toEqual(fromBun);
  return fromNode;
}

/** `count` raw connections to `server` for the length of `body`. */
async function withConnections<T>(server: ChildServer, count: number, body: (conns: RespConn[]) => Promise<T>): Promise<T> {
  const conns = await Promise.all(Array.from({ length: count }, () => RespConn.connect(server.port)));
  try {
    return await body(conns);
  } finally {
    for (const conn of conns) conn.close();
  }
}

/** Sends the commands one after the other on each server and expects the same replies. */
function sameReplies(commands: (string | Uint8Array)[][]): Promise<string[]> {
  return sameFromBoth((server) =>
    withConnections(server, 1, async ([conn]) => {
      const replies: string[] = [];
      for (const command of commands) replies.push(await conn!.call(...command));
      return replies;
    }),
  );
}

/** What redis-cli prints for the commands of `script`, one a line. */
async function redisCli(args: string[], script: string): Promise<string> {
  const cli = Bun.spawn(["redis-cli", ...args], { stdin: new TextEncoder().encode(script), stdout: "pipe" });
  const text = await new Response(cli.stdout).text();
  await cli.exited;
  return text;
}

/** Polls `probe` until it holds, for up to `timeoutMs`. */
async function until(probe: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error("the condition never held");
    await Bun.sleep(10);
  }
}

function latin1(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "latin1"));
}

describe("redbun under Node.js", () => {
  test("the children run under the runtimes asked for", () => {
    expect(node.runtime).toBe("node");
    expect(bun.runtime).toBe("bun");
  });

  test("strings, lists, hashes and errors", async () => {
    const replies = await sameReplies([
      ["FLUSHALL"],
      ["SET", "s", "hello"],
      ["APPEND", "s", " world"],
      ["GET", "s"],
      ["INCRBY", "n", "41"],
      ["INCRBYFLOAT", "n", "1.5"],
      ["RPUSH", "l", "a", "b", "c"],
      ["LPOP", "l"],
      ["LRANGE", "l", "0", "-1"],
      ["HSET", "h", "f", "v", "g", "w"],
      ["HGETALL", "h"],
      ["LPUSH", "s", "x"],
      ["GET"],
      ["NOSUCHCOMMAND"],
      ["HELLO", "3"],
      ["HGETALL", "h"],
      ["OBJECT", "ENCODING", "l"],
    ]);
    expect(replies[3]).toBe("$11\r\nhello world\r\n");
  });

  test("binary keys and values", async () => {
    const key = latin1("\xff\x00");
    const value = latin1("\x00\r\n\xfe");
    const replies = await sameReplies([["SET", key, value], ["GET", key], ["STRLEN", key], ["KEYS", "*"], ["DEL", key]]);
    expect(replies[1]).toBe("$4\r\n\x00\r\n\xfe\r\n");
  });

  test("a pipeline of 10,000 commands", async () => {
    const parts: Uint8Array[] = [];
    for (let i = 0; i < 10_000; i++) {
      const op = i % 4;
      if (op === 0) parts.push(encodeCommand(["SET", `p:${i}`, `v${i}`]));
      else if (op === 1) parts.push(encodeCommand(["GET", `p:${i - 1}`]));
      else if (op === 2) parts.push(encodeCommand(["INCR", "p:counter"]));
      else parts.push(encodeCommand(["RPUSH", "p:list", String(i)]));
    }
    const pipeline = Buffer.concat(parts);
    const replies = await sameFromBoth((server) =>
      withConnections(server, 1, async ([conn]) => {
        await conn!.call("DEL", "p:counter", "p:list");
        conn!.write(pipeline);
        return conn!.readReplies(10_000);
      }),
    );
    expect(replies.length).toBeGreaterThan(50_000);
  });

  test("a 10 MB value", async () => {
    const big = new Uint8Array(10 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 13)) & 0xff;
    const [stored, length, read] = await sameFromBoth((server) =>
      withConnections(server, 1, async ([conn]) => [await conn!.call("SET", "big", big), await conn!.call("STRLEN", "big"), await conn!.call("GET", "big")]),
    );
    expect(stored).toBe("+OK\r\n");
    expect(length).toBe(`:${big.length}\r\n`);
    expect(Buffer.from(read!.slice(read!.indexOf("\r\n") + 2, -2), "latin1").equals(big)).toBe(true);
  });

  test("MULTI/EXEC and EVAL", async () => {
    const replies = await sameReplies([
      ["MULTI"],
      ["SET", "t", "1"],
      ["INCR", "t"],
      ["LPUSH", "t", "x"],
      ["EXEC"],
      ["EVAL", "redis.call('set', KEYS[1], ARGV[1]); return {redis.call('get', KEYS[1]), 7, {err='no'}}", "1", "e", "v"],
      ["EVALSHA", "0000000000000000000000000000000000000000", "0"],
      ["SCRIPT", "LOAD", "return ARGV[1]"],
      ["EVAL", "return redis.sha1hex('abc')", "0"],
      ["DEBUG", "SLEEP", "0.01"],
    ]);
    expect(replies[4]).toStartWith("*3\r\n+OK\r\n:2\r\n-WRONGTYPE");
    expect(replies[8]).toBe("$40\r\na9993e364706816aba3e25717850c26c9cd0d89d\r\n");
  });

  test("pub/sub", async () => {
    const received = await sameFromBoth((server) =>
      withConnections(server, 2, async ([subscriber, publisher]) => {
        const subscribed = await subscriber!.call("SUBSCRIBE", "news", "more");
        const patterned = await subscriber!.call("PSUBSCRIBE", "n*");
        const counts: string[] = [];
        for (let i = 0; i < 100; i++) counts.push(await publisher!.call("PUBLISH", i % 2 === 0 ? "news" : "more", `message ${i}`));
        return [subscribed, patterned, counts.join(""), await subscriber!.readReplies(150)];
      }),
    );
    expect(received[3]).toContain("*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$10\r\nmessage 98\r\n");
  });

  test("CLIENT KILL closes the connection", async () => {
    const replies = await sameFromBoth((server) =>
      withConnections(server, 2, async ([victim, killer]) => {
        const id = (await victim!.call("CLIENT", "ID")).slice(1, -2);
        const killed = await killer!.call("CLIENT", "KILL", "ID", id);
        return [killed, await victim!.readUntilClosed(), await killer!.call("CLIENT", "KILL", "ID", id)];
      }),
    );
    expect(replies).toEqual([":1\r\n", "", ":0\r\n"]);
  });

  test("many concurrent clients", async () => {
    const clients = 100;
    const perClient = 50;
    const [counter] = await sameFromBoth((server) =>
      withConnections(server, clients, async (conns) => {
        await conns[0]!.call("DEL", "shared");
        const replies = await Promise.all(
          conns.map((conn, i) => {
            const parts: Uint8Array[] = [];
            for (let j = 0; j < perClient; j++) parts.push(encodeCommand(["INCR", "shared"]), encodeCommand(["RPUSH", `own:${i}`, String(j)]));
            conn.write(Buffer.concat(parts));
            return conn.readReplies(2 * perClient);
          }),
        );
        const lists = await Promise.all(conns.map((conn, i) => conn.call("LRANGE", `own:${i}`, "0", "-1")));
        return [await conns[0]!.call("GET", "shared"), replies.map((r) => r.length).reduce((a, b) => a + b), lists.join("")];
      }),
    );
    expect(counter).toBe(`$4\r\n${clients * perClient}\r\n`);
  });

  test("a slow reader: the server holds its output, stays responsive, and delivers it all", async () => {
    const value = new Uint8Array(1024 * 1024).fill(0x61);
    const gets = 40;
    for (const server of [node, bun]) {
      await withConnections(server, 2, async ([reader, other]) => {
        expect(await reader!.call("SET", "slow", value)).toBe("+OK\r\n");
        const name = `slow-${server.runtime}`;
        await reader!.call("CLIENT", "SETNAME", name);
        reader!.pause();
        const parts: Uint8Array[] = [];
        for (let i = 0; i < gets; i++) parts.push(encodeCommand(["GET", "slow"]));
        reader!.write(Buffer.concat(parts));
        // The server keeps what the reader does not take in its own output buffer, where
        // CLIENT LIST and the output buffer limits see it, for as long as the reader waits.
        const omem = async () => Number(/name=slow-\w+ .*?omem=(\d+)/.exec(await other!.call("CLIENT", "LIST"))?.[1] ?? 0);
        for (let tries = 0; (await omem()) === 0 && tries < 500; tries++) await Bun.sleep(10);
        for (let checks = 0; checks < 10; checks++) {
          expect(await omem()).toBeGreaterThan(0);
          await Bun.sleep(10);
        }
        expect(await other!.call("PING")).toBe("+PONG\r\n");
        reader!.resume();
        const replies = await reader!.readReplies(gets);
        expect(replies.length).toBe(gets * (value.length + "$1048576\r\n\r\n".length));
      });
    }
  });

  test("client-output-buffer-limit disconnects a reader that falls too far behind", async () => {
    const outcome = await sameFromBoth((server) =>
      withConnections(server, 2, async ([reader, admin]) => {
        try {
          await admin!.call("CONFIG", "SET", "client-output-buffer-limit", "normal 4mb 0 0");
          await reader!.call("SET", "limit", new Uint8Array(3 * 1024 * 1024));
          await reader!.call("CLIENT", "SETNAME", "behind");
          reader!.pause();
          // One GET at a time, each answered in a write of its own, so that the limit is
          // reached only if the transport reports what the reader leaves unread.
          const getCalls = async () => Number(/cmdstat_get:calls=(\d+)/.exec(await admin!.call("INFO", "commandstats"))?.[1] ?? 0);
          const connected = async () => (await admin!.call("CLIENT", "LIST")).includes("name=behind");
          const before = await getCalls();
          for (let i = 1; i <= 20 && (await connected()); i++) {
            reader!.write(encodeCommand(["GET", "limit"]));
            for (let tries = 0; (await getCalls()) < before + i && (await connected()) && tries < 500; tries++) await Bun.sleep(2);
          }
          reader!.resume();
          const closedWithin = await reader!.readUntilClosed(15_000).then(
            (bytes) => bytes.length < 20 * 3 * 1024 * 1024,
            () => false,
          );
          return [closedWithin, await connected()];
        } finally {
          await admin!.call("CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0");
        }
      }),
    );
    expect(outcome).toEqual([true, false]);
  });

  test("tls-port: a trusted client is served, one without a certificate refused", async () => {
    const replies = await sameFromBoth(async (server) => {
      const trusted = [await tlsCall(server.tlsPort, trustedClient(certs), "SET", "tls", "yes"), await tlsCall(server.tlsPort, trustedClient(certs), "GET", "tls")];
      const refused = await tlsCall(server.tlsPort, { ca: certs.caCert }, "PING").then(
        () => "served",
        () => "refused",
      );
      return [...trusted, refused];
    });
    expect(replies).toEqual(["+OK\r\n", "$3\r\nyes\r\n", "refused"]);
  });

  test("the unix socket", async () => {
    const output = await sameFromBoth(async (server) => {
      const text = await redisCli(["-s", server.unixSocket], "SET u 1\nINCR u\nCLIENT LIST\n");
      // The socket's path, the id, the descriptor and the times differ; the flags and the rest must not.
      return text.replaceAll(server.unixSocket, "SOCK").replace(/id=\d+ /, "").replace(/fd=\d+ /, "").replace(/age=\d+ idle=\d+ /, "");
    });
    expect(output).toContain("flags=U ");
  });

  test("redis-cli", async () => {
    const script = "FLUSHALL\nSET greeting hello\nGET greeting\nRPUSH l 1 2 3\nLRANGE l 0 -1\nHSET h a 1\nHGETALL h\nGET\nEVAL \"return {1,'two'}\" 0\n";
    const output = await sameFromBoth((server) => redisCli(["-p", String(server.port)], script));
    expect(output).toContain("hello\n");
  });

  test("ioredis", async () => {
    const result = await sameFromBoth(async (server) => {
      const redis = new Redis({ port: server.port, host: "127.0.0.1", lazyConnect: true });
      await redis.connect();
      try {
        const binaryKey = Buffer.from([0xff, 0x00]);
        const pipeline = redis.pipeline();
        pipeline.set("io", "1").incr("io").set(binaryKey, Buffer.from([1, 2, 3])).getBuffer(binaryKey).lpush("io", "x").hgetall("nosuch");
        const piped = await pipeline.exec();
        const tx = await redis.multi().set("iot", "a").append("iot", "b").get("iot").exec();
        const evaluated = await redis.eval("return {KEYS[1], ARGV[1], 3}", 1, "k", "a");
        return JSON.stringify([piped, tx, evaluated]);
      } finally {
        redis.disconnect();
      }
  });
    expect(result).toContain('"data":[1,2,3]');
  });

  test("outgoing links from Node: a replica, MIGRATE, and the metrics endpoint", async () => {
    await withConnections(node, 1, async ([conn]) => {
      await withConnections(bun, 1, async ([master]) => {
        await master!.call("CONFIG", "SET", "repl-diskless-sync-delay", "0");
        await master!.call("SET", "before-sync", "1");
        expect(await conn!.call("REPLICAOF", "127.0.0.1", String(bun.port))).toBe("+OK\r\n");
        await until(async () => (await conn!.call("INFO", "replication")).includes("master_link_status:up"));
        expect(await conn!.call("GET", "before-sync")).toBe("$1\r\n1\r\n");
        await master!.call("SET", "streamed", "2");
        await until(async () => (await conn!.call("GET", "streamed")) === "$1\r\n2\r\n");
        expect(await conn!.call("REPLICAOF", "NO", "ONE")).toBe("+OK\r\n");

        await conn!.call("SET", "moving", "along");
        expect(await conn!.call("MIGRATE", "127.0.0.1", String(bun.port), "moving", "0", "5000")).toBe("+OK\r\n");
        expect(await master!.call("GET", "moving")).toBe("$5\r\nalong\r\n");
        expect(await conn!.call("EXISTS", "moving")).toBe(":0\r\n");
      });
      const metricsPort = freePort();
      expect(await conn!.call("CONFIG", "SET", "metrics-port", String(metricsPort))).toBe("+OK\r\n");
      try {
        let response: Response | null = null;
        await until(async () => (response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).catch(() => null)) !== null);
        expect(response!.status).toBe(200);
        expect(await response!.text()).toContain("redis_up 1");
      } finally {
        await conn!.call("CONFIG", "SET", "metrics-port", "0");
      }
    });
  });
});
