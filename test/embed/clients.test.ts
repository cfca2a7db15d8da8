// The embedding API against the clients JavaScript teams use: ioredis, node-redis and Bun's
// own RedisClient, each round-tripping through a server started in this process.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Redis from "ioredis";
import { createClient } from "redis";
import { startServer, StartupError, type EmbeddedServer } from "../../src/index.ts";

let server: EmbeddedServer;

beforeAll(async () => {
  server = await startServer();
});

afterAll(async () => {
  await server.close();
});

describe("startServer", () => {
  test("listens on a free port of 127.0.0.1 and reports it", () => {
    expect(server.host).toBe("127.0.0.1");
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
  });

  test("persistence is off and only warnings are logged unless asked", async () => {
    const client = new Bun.RedisClient(server.url);
    try {
      expect(await client.send("CONFIG", ["GET", "save"])).toEqual({ save: "" });
      expect(await client.send("CONFIG", ["GET", "appendonly"])).toEqual({ appendonly: "no" });
      expect(await client.send("CONFIG", ["GET", "loglevel"])).toEqual({ loglevel: "warning" });
      expect(await client.send("CONFIG", ["GET", "port"])).toEqual({ port: String(server.port) });
    } finally {
      client.close();
    }
  });
});

describe("clients", () => {
  test("ioredis", async () => {
    const redis = new Redis(server.url, { lazyConnect: true });
    await redis.connect();
    try {
      expect(await redis.set("io:k", "v", "EX", 100)).toBe("OK");
      expect(await redis.get("io:k")).toBe("v");
      expect(await redis.rpush("io:list", "a", "b", "c")).toBe(3);
      expect(await redis.lrange("io:list", 0, -1)).toEqual(["a", "b", "c"]);
      const results = await redis.multi().incr("io:n").incrby("io:n", 4).exec();
      expect(results).toEqual([
        [null, 1],
        [null, 5],
      ]);
      await expect(redis.lpush("io:k", "x")).rejects.toThrow("WRONGTYPE Operation against a key holding the wrong kind of value");
      expect(await redis.eval("return redis.call('GET', KEYS[1])", 1, "io:k")).toBe("v");
    } finally {
      redis.disconnect();
    }
  });

  test("node-redis", async () => {
    const client = createClient({ url: server.url });
    await client.connect();
    try {
      expect(await client.hSet("nr:h", { a: "1", b: "2" })).toBe(2);
      expect(await client.hGetAll("nr:h")).toEqual({ a: "1", b: "2" });
      expect(await client.zAdd("nr:z", [{ score: 2, value: "two" }, { score: 1, value: "one" }])).toBe(2);
      expect(await client.zRange("nr:z", 0, -1)).toEqual(["one", "two"]);
      expect(String(await client.sendCommand(["OBJECT", "ENCODING", "nr:h"]))).toBe("listpack");
    } finally {
      await client.quit();
    }
  });

  test("Bun's RedisClient", async () => {
    const client = new Bun.RedisClient(server.url);
    try {
      await client.set("bun:k", "hello");
      expect(await client.get("bun:k")).toBe("hello");
      expect(await client.incr("bun:n")).toBe(1);
      expect(await client.send("SADD", ["bun:s", "x", "y"])).toBe(2);
      expect(await client.send("SCARD", ["bun:s"])).toBe(2);
    } finally {
      client.close();
    }
  });
});

describe("flushAll", () => {
  test("empties every database, as FLUSHALL does", async () => {
    const multiDb = await startServer({ config: { databases: 4 } });
    const redis = new Redis(multiDb.url);
    try {
      await redis.set("k0", "v");
      await redis.select(3);
      await redis.set("k3", "v");
      await redis.script("LOAD", "return 1");
      await multiDb.flushAll();
      expect(await redis.dbsize()).toBe(0);
      await redis.select(0);
      expect(await redis.dbsize()).toBe(0);
      // Scripts stay, as FLUSHALL leaves them.
      expect(await redis.script("EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db")).toEqual([1]);
    } finally {
      redis.disconnect();
      await multiDb.close();
    }
  });
});

describe("flushAll with the AOF on", () => {
  test("is written to the AOF as FLUSHALL, so that a restart finds the databases empty", async () => {
    const dir = mkdtempSync(join(tmpdir(), "redbun-embed-aof-"));
    try {
      const first = await startServer({ config: { dir, appendonly: "yes" } });
      const client = new Bun.RedisClient(first.url);
      await client.send("SET", ["k", "v"]);
      await first.flushAll();
      await client.send("SET", ["after", "1"]);
      client.close();
      await first.close();
      const again = await startServer({ config: { dir, appendonly: "yes" } });
      const reader = new Bun.RedisClient(again.url);
      expect(await reader.send("KEYS", ["*"])).toEqual(["after"]);
      reader.close();
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("close", () => {
  test("frees the port at once: a new server can take it", async () => {
    const first = await startServer();
    const port = first.port;
    const redis = new Redis(first.url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
    await redis.connect();
    expect(await redis.ping()).toBe("PONG");
    await first.close();
    const second = await startServer({ port });
    try {
      expect(second.port).toBe(port);
      const client = new Bun.RedisClient(second.url);
      expect(await client.send("PING", [])).toBe("PONG");
      client.close();
    } finally {
      redis.disconnect();
      await second.close();
    }
  });

  test("disconnects the clients and stops answering", async () => {
    const s = await startServer();
    const socket = connect(s.port, s.host);
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    const ended = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    await s.close();
    await ended;
    const refused = await new Promise<string>((resolve) => {
      const again = connect(s.port, s.host);
      again.once("connect", () => {
        again.destroy();
        resolve("connected");
      });
      again.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
    });
    expect(refused).toBe("ECONNREFUSED");
  });

  test("SHUTDOWN from a client stops that server, not the process", async () => {
    const s = await startServer();
    const client = new Bun.RedisClient(s.url);
    await client.send("SHUTDOWN", ["NOSAVE"]).catch(() => "closed");
    client.close();
    const other = await startServer({ port: s.port });
    expect(other.port).toBe(s.port);
    await other.close();
    await s.close();
  });
});

describe("start-up errors", () => {
  test("a busy port is refused with Redis's lines, and leaves nothing open", async () => {
    const error = await startServer({ port: server.port }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StartupError);
    const lines = (error as StartupError).lines;
    expect(lines).toEqual([
      `Warning: Could not create server TCP listening socket 127.0.0.1:${server.port}: bind: Address already in use`,
      `Failed listening on port ${server.port} (TCP), aborting.`,
    ]);
    expect((error as StartupError).message).toBe(lines[1]!);
  });

  test("a failure after listening closes the listener again", async () => {
    const s = await startServer();
    await s.close();
    // The users step fails (an aclfile with user directives), after the port was opened.
    const error = await startServer({ port: s.port, config: { aclfile: "/nonexistent/users.acl", user: "alice on" } }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StartupError);
    const again = await startServer({ port: s.port });
    expect(again.port).toBe(s.port);
    await again.close();
  });
});
