// Several embedded servers in one process share nothing: each has its own keyspace, config,
// encodings thresholds and script state. And a bad directive is refused with Redis's text.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import { ConfigOptionError, startServer, type EmbeddedServer } from "../../src/index.ts";

let small: EmbeddedServer;
let large: EmbeddedServer;
let toSmall: Redis;
let toLarge: Redis;

beforeAll(async () => {
  small = await startServer({
    config: {
      "list-max-listpack-size": 4,
      "hash-max-listpack-entries": 2,
      "hll-sparse-max-bytes": 0,
      "maxmemory-policy": "allkeys-lru",
      databases: 2,
      "enable-debug-command": "yes",
    },
  });
  large = await startServer({
    config: { "hash-max-listpack-entries": 512, "maxmemory-policy": "noeviction", databases: 16, "enable-debug-command": "yes" },
  });
  toSmall = new Redis(small.url);
  toLarge = new Redis(large.url);
});

afterAll(async () => {
  toSmall.disconnect();
  toLarge.disconnect();
  await small.close();
  await large.close();
});

/** The same commands on both servers, replies side by side. */
async function both(...args: (string | number)[]): Promise<[unknown, unknown]> {
  const [name, ...rest] = args;
  return [await toSmall.call(String(name), ...rest), await toLarge.call(String(name), ...rest)];
}

describe("two servers in one process", () => {
  test("keep their own keyspace", async () => {
    await toSmall.set("only-here", "small");
    expect(await both("GET", "only-here")).toEqual(["small", null]);
    expect(await both("EXISTS", "only-here")).toEqual([1, 0]);
    await large.flushAll();
    expect(await both("GET", "only-here")).toEqual(["small", null]);
  });

  test("keep their own config", async () => {
    expect(await both("CONFIG", "GET", "maxmemory-policy")).toEqual([
      ["maxmemory-policy", "allkeys-lru"],
      ["maxmemory-policy", "noeviction"],
    ]);
    expect(await both("CONFIG", "GET", "databases")).toEqual([
      ["databases", "2"],
      ["databases", "16"],
    ]);
    await toSmall.config("SET", "list-max-listpack-size", "7");
    expect(await both("CONFIG", "GET", "list-max-listpack-size")).toEqual([
      ["list-max-listpack-size", "7"],
      ["list-max-listpack-size", "-2"],
    ]);
    await toSmall.config("SET", "list-max-listpack-size", "4");
  });

  test("SELECT sees each server's number of databases", async () => {
    await expect(toSmall.select(5)).rejects.toThrow("ERR DB index is out of range");
    expect(await toLarge.select(5)).toBe("OK");
    await toLarge.select(0);
  });

  test("encode values by their own thresholds", async () => {
    await both("HSET", "h", "a", "1", "b", "2", "c", "3");
    expect(await both("OBJECT", "ENCODING", "h")).toEqual(["hashtable", "listpack"]);
    await both("PFADD", "hll", "a", "b", "c");
    expect(await both("PFDEBUG", "ENCODING", "hll")).toEqual(["dense", "sparse"]);
    await both("RPUSH", "l", "1", "2", "3", "4", "5", "6", "7", "8", "9");
    const [smallList, largeList] = (await both("DEBUG", "OBJECT", "l")) as [string, string];
    expect(smallList).toContain("ql_nodes:3 ");
    expect(smallList).toContain("ql_listpack_max:4 ");
    expect(largeList).toContain("ql_nodes:1 ");
  });

  test("DEBUG QUICKLIST-PACKED-THRESHOLD applies to its own server only", async () => {
    await toSmall.call("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "10b");
    try {
      const element = "x".repeat(20);
      await both("RPUSH", "big", element, element, element);
      const [smallList, largeList] = (await both("DEBUG", "OBJECT", "big")) as [string, string];
      // Three plain nodes of one element each, against one listpack holding all three.
      expect(smallList).toContain("ql_nodes:3 ");
      expect(largeList).toContain("ql_nodes:1 ");
    } finally {
      await toSmall.call("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0");
    }
  });

  test("draw their own math.random sequence, as a fresh Redis would", async () => {
    const draw = "return tostring(math.random())";
    const first = await toSmall.eval(draw, 0);
    await toSmall.eval(draw, 0);
    await toSmall.eval(draw, 0);
    expect(await toLarge.eval(draw, 0)).toBe(first);
  });
});

/** What redis-server prints for `--name value`: the directive line and the reason. */
async function redisServerRefusal(name: string, value: string): Promise<{ directive: string; reason: string }> {
  const proc = Bun.spawn(["redis-server", "--port", "0", `--${name}`, value], { stdout: "pipe", stderr: "pipe" });
  const text = (await new Response(proc.stderr).text()) + (await new Response(proc.stdout).text());
  await proc.exited;
  const lines = text.trim().split("\n");
  const directive = lines.find((line) => line.startsWith(">>> '"))!.slice(5, -1);
  return { directive, reason: lines[lines.length - 1]! };
}

describe("bad config", () => {
  const cases: [string, string][] = [
    ["maxmemory-policy", "lru"],
    ["databases", "0"],
    ["no-such-directive", "1"],
    ["list-max-listpack-size", "many"],
    ["appendonly", "maybe"],
  ];
  for (const [name, value] of cases) {
    test(`--${name} ${value} is refused with Redis's message`, async () => {
      const expected = await redisServerRefusal(name, value);
      const error = await startServer({ config: { [name]: value } }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConfigOptionError);
      expect((error as ConfigOptionError).message).toBe(expected.reason);
      expect((error as ConfigOptionError).directive).toBe(expected.directive);
    });
  }

  test("a directive name cannot smuggle in another line", async () => {
    await expect(startServer({ config: { "port 7000\nbind": "0.0.0.0" } })).rejects.toThrow("Bad directive or wrong number of arguments");
  });
});
