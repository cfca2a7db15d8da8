// maxmemory in an embedded server counts the server's own data, not the host process's
// heap: a test process holding tens of megabytes can still run a server limited to a few.

import { afterAll, expect, test } from "bun:test";
import { startServer } from "../../src/index.ts";

/** What the host process holds for itself: more than the limit below. */
const hostData: string[][] = [];
afterAll(() => {
  hostData.length = 0;
});

test("a small maxmemory evicts by the server's data alone, whatever the host holds", async () => {
  for (let i = 0; i < 200; i++) hostData.push(Array.from({ length: 1000 }, (_, j) => `host ${i} ${j} `.repeat(8)));
  expect(process.memoryUsage().heapUsed).toBeGreaterThan(8 * 1024 * 1024);
  const server = await startServer({ config: { maxmemory: "4mb", "maxmemory-policy": "allkeys-lru" } });
  const client = new Bun.RedisClient(server.url);
  try {
    // Writes succeed while the data is small: the host's heap does not count.
    expect(await client.send("SET", ["first", "v"])).toBe("OK");
    const used = Number(/used_memory:(\d+)/.exec(String(await client.send("INFO", ["memory"])))![1]);
    expect(used).toBeLessThan(4 * 1024 * 1024);
    // Past the limit the policy evicts: 20 MB of values leave fewer keys than were written.
    const value = "x".repeat(10_000);
    for (let i = 0; i < 2000; i++) await client.send("SET", [`k${i}`, value]);
    const keys = Number(await client.send("DBSIZE", []));
    expect(keys).toBeLessThan(2000);
    expect(keys).toBeGreaterThan(100);
    expect(String(await client.send("INFO", ["stats"]))).toMatch(/evicted_keys:[1-9]/);
  } finally {
    client.close();
    await server.close();
  }
});

test("with noeviction the limit refuses writes only once the server's data reaches it", async () => {
  const server = await startServer({ config: { maxmemory: "2mb", "maxmemory-policy": "noeviction" } });
  const client = new Bun.RedisClient(server.url);
  try {
    expect(await client.send("SET", ["small", "v"])).toBe("OK");
    const value = "y".repeat(10_000);
    let refused = "";
    for (let i = 0; i < 1000 && refused === ""; i++) {
      try {
        await client.send("SET", [`k${i}`, value]);
      } catch (e) {
        refused = (e as Error).message;
      }
    }
    expect(refused).toContain("OOM command not allowed when used memory > 'maxmemory'.");
  } finally {
    client.close();
    await server.close();
  }
});
