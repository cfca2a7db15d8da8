// The client round-trip suite runtimes.test.ts runs twice: under `node --test` against the
// Node build, and under `bun test` against src/index.ts (the module in REDBUN_ENTRY). It is
// written with node:test, which both runtimes run, and drives embedded servers with
// node-redis and ioredis as a user's test suite would.

import { after, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "redis";
import Redis from "ioredis";

const { startServer } = await import(process.env.REDBUN_ENTRY);

let server;
let other;
let nodeRedis;
let ioredis;
before(async () => {
  server = await startServer({ config: { databases: 4 } });
  other = await startServer();
  nodeRedis = await createClient({ url: server.url }).connect();
  ioredis = new Redis(server.url);
});
beforeEach(() => server.flushAll());
after(async () => {
  await nodeRedis.quit();
  ioredis.disconnect();
  await server.close();
  await other.close();
});

test("strings, lists, hashes and a pipeline through node-redis", async () => {
  assert.equal(await nodeRedis.set("k", "v"), "OK");
  assert.equal(await nodeRedis.get("k"), "v");
  assert.equal(await nodeRedis.rPush("l", ["a", "b", "c"]), 3);
  assert.deepEqual(await nodeRedis.lRange("l", 0, -1), ["a", "b", "c"]);
  await nodeRedis.hSet("h", { f: "1", g: "2" });
  assert.deepEqual({ ...(await nodeRedis.hGetAll("h")) }, { f: "1", g: "2" });
  const replies = await nodeRedis.multi().incr("n").incr("n").get("n").exec();
  assert.deepEqual(replies, [1, 2, "2"]);
});

test("binary values, scripts and CONFIG through ioredis", async () => {
  const key = Buffer.from([0xff, 0x00, 0x41]);
  await ioredis.set(key, Buffer.from([0x00, 0xfe]));
  assert.deepEqual(await ioredis.getBuffer(key), Buffer.from([0x00, 0xfe]));
  assert.equal(await ioredis.eval("return redis.call('INCRBY', KEYS[1], ARGV[1])", 1, "c", 5), 5);
  assert.deepEqual(await ioredis.config("GET", "databases"), ["databases", "4"]);
});

test("flushAll empties the server; the other server is its own", async () => {
  await ioredis.set("kept", "1");
  const otherClient = new Redis(other.url);
  await otherClient.set("elsewhere", "1");
  await server.flushAll();
  assert.equal(await ioredis.dbsize(), 0);
  assert.equal(await otherClient.get("elsewhere"), "1");
  otherClient.disconnect();
});

test("pub/sub, a blocked BLPOP served by another client, a 1 MB value, a 1000-command pipeline", async () => {
  const subscriber = new Redis(server.url);
  const message = new Promise((resolve) => subscriber.on("message", (channel, text) => resolve([channel, text])));
  await subscriber.subscribe("news");
  assert.equal(await ioredis.publish("news", "hello"), 1);
  assert.deepEqual(await message, ["news", "hello"]);
  subscriber.disconnect();

  const blocked = new Redis(server.url);
  const popped = blocked.blpop("queue", 5);
  await new Promise((resolve) => setTimeout(resolve, 50));
  await nodeRedis.rPush("queue", "job");
  assert.deepEqual(await popped, ["queue", "job"]);
  blocked.disconnect();

  const big = "z".repeat(1024 * 1024);
  await nodeRedis.set("big", big);
  assert.equal((await nodeRedis.get("big")).length, big.length);

  const pipeline = ioredis.pipeline();
  for (let i = 0; i < 1000; i++) pipeline.incr("counter");
  const results = await pipeline.exec();
  assert.equal(results.length, 1000);
  assert.deepEqual(results[999], [null, 1000]);
});
