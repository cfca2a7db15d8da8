// Real clients against redbun, each checked against the same client talking to redis-server:
// redis-cli as a process (plain, --no-raw, -3, piped input, -x, --pipe), ioredis (pipelines,
// binary Buffers) and Bun's built-in RedisClient (RESP3, automatic pipelining).

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import Redis from "ioredis";
import { type ServerProcess, startRedbun, startRedis } from "./oracle/harness.ts";

let redis: ServerProcess;
let redbun: ServerProcess;

beforeAll(async () => {
  [redis, redbun] = await Promise.all([startRedis(), startRedbun()]);
});
afterAll(async () => {
  await Promise.all([redis?.stop(), redbun?.stop()]);
});

/** Run the same scenario against both servers; returns [redis result, redbun result]. */
async function onBoth<T>(scenario: (port: number) => Promise<T>): Promise<[T, T]> {
  const want = await scenario(redis.port);
  const got = await scenario(redbun.port);
  return [want, got];
}

/** Run the scenario on both servers and require equal results; returns the result. */
async function sameOnBoth<T>(scenario: (port: number) => Promise<T>): Promise<T> {
  const [want, got] = await onBoth(scenario);
  expect(got).toEqual(want);
  return want;
}

describe("redis-cli", () => {
  interface CliResult {
    stdout: string;
    stderr: string;
    exitCode: number;
  }

  /** Run redis-cli against `port`; stdin is fed from `input` when given. */
  async function cli(port: number, args: string[], input?: string | Uint8Array): Promise<CliResult> {
    const proc = Bun.spawn(["redis-cli", "-h", "127.0.0.1", "-p", String(port), ...args], {
      stdin: input === undefined ? "ignore" : new Blob([input]),
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr, exitCode] = await Promise.all([
      new Response(proc.stdout).arrayBuffer(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    return { stdout: Buffer.from(stdout).toString("latin1"), stderr, exitCode };
  }

  beforeEach(async () => {
    await sameOnBoth((port) => cli(port, ["FLUSHALL"]));
  });

  test("SET then GET as separate processes", async () => {
    expect(await sameOnBoth((port) => cli(port, ["SET", "cli:k", "hello world"]))).toEqual({ stdout: "OK\n", stderr: "", exitCode: 0 });
    expect((await sameOnBoth((port) => cli(port, ["GET", "cli:k"]))).stdout).toBe("hello world\n");
    expect((await sameOnBoth((port) => cli(port, ["GET", "cli:missing"]))).stdout).toBe("\n");
  });

  test("--no-raw output: quoting, nil, integers, errors", async () => {
    await sameOnBoth((port) => cli(port, ["SET", "cli:q", 'say "hi"\n\x01']));
    expect((await sameOnBoth((port) => cli(port, ["--no-raw", "GET", "cli:q"]))).stdout).toBe('"say \\"hi\\"\\n\\x01"\n');
    expect((await sameOnBoth((port) => cli(port, ["--no-raw", "GET", "cli:none"]))).stdout).toBe("(nil)\n");
    expect((await sameOnBoth((port) => cli(port, ["--no-raw", "INCR", "cli:n"]))).stdout).toBe("(integer) 1\n");
    expect((await sameOnBoth((port) => cli(port, ["--no-raw", "MGET", "cli:n", "cli:none"]))).stdout).toBe('1) "1"\n2) (nil)\n');
    const err = await sameOnBoth((port) => cli(port, ["--no-raw", "INCR", "cli:q"]));
    expect(err.stdout).toBe("(error) ERR value is not an integer or out of range\n");
  });

  test("-3 speaks RESP3 (HELLO 3 on connect)", async () => {
    await sameOnBoth((port) => cli(port, ["SET", "cli:r3", "v"]));
    expect((await sameOnBoth((port) => cli(port, ["-3", "--no-raw", "GET", "cli:r3"]))).stdout).toBe('"v"\n');
    expect((await sameOnBoth((port) => cli(port, ["-3", "--no-raw", "GET", "cli:none"]))).stdout).toBe("(nil)\n");
  });

  test("commands piped on stdin", async () => {
    const script = "SET cli:a 1\nINCR cli:a\nGET cli:a\nNOSUCH x\nECHO 'two words'\nEXISTS cli:a cli:b\n";
    const raw = await sameOnBoth((port) => cli(port, [], script));
    expect(raw.stdout).toBe("OK\n2\n2\nERR unknown command 'NOSUCH', with args beginning with: 'x' \n\ntwo words\n1\n");
    await sameOnBoth((port) => cli(port, ["--no-raw"], script));
  });

  test("-x reads the last argument, binary, from stdin", async () => {
    const value = new Uint8Array(1000);
    for (let i = 0; i < value.length; i++) value[i] = (i * 7) & 0xff;
    await sameOnBoth((port) => cli(port, ["-x", "SET", "cli:bin"], value));
    const got = await sameOnBoth((port) => cli(port, ["GET", "cli:bin"]));
    // Raw output adds one newline after the value.
    expect(got.stdout).toBe(Buffer.from(value).toString("latin1") + "\n");
  });

  test("-r repeats a command", async () => {
    expect((await sameOnBoth((port) => cli(port, ["-r", "3", "INCR", "cli:c"]))).stdout).toBe("1\n2\n3\n");
  });

  test("--pipe mass insertion of 10000 commands", async () => {
    const parts: string[] = [];
    for (let i = 0; i < 10000; i++) {
      const key = `pipe:${i % 2000}`;
      const value = `value-${i}-\x00\xff`;
      parts.push(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${value.length}\r\n${value}\r\n`);
    }
    const input = Buffer.from(parts.join(""), "latin1");
    const result = await sameOnBoth((port) => cli(port, ["--pipe"], input));
    expect(result.stdout).toBe("All data transferred. Waiting for the last reply...\nLast reply received from server.\nerrors: 0, replies: 10000\n");
    expect((await sameOnBoth((port) => cli(port, ["DBSIZE"]))).stdout).toBe("2000\n");
    expect((await sameOnBoth((port) => cli(port, ["--no-raw", "GET", "pipe:7"]))).stdout).toBe('"value-8007-\\x00\\xff"\n');
  });

  test("--pipe counts error replies", async () => {
    const input = "*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n*1\r\n$6\r\nNOSUCH\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n";
    const result = await sameOnBoth((port) => cli(port, ["--pipe"], input));
    expect(result.stdout).toContain("errors: 1, replies: 3");
  });
});

describe("ioredis", () => {
  async function withClient<T>(port: number, body: (r: Redis) => Promise<T>): Promise<T> {
    const r = new Redis({ host: "127.0.0.1", port, maxRetriesPerRequest: 1, retryStrategy: () => null, lazyConnect: true });
    await r.connect();
    try {
      return await body(r);
    } finally {
      r.disconnect();
    }
  }

  test("SET, GET, INCR, MGET, DEL", async () => {
    const result = await sameOnBoth((port) =>
      withClient(port, async (r) => {
        await r.flushall();
        return [
          await r.set("io:k", "v"),
          await r.get("io:k"),
          await r.incr("io:n"),
          await r.incrby("io:n", 41),
          await r.mget("io:k", "io:n", "io:missing"),
          await r.del("io:k", "io:n", "io:missing"),
          await r.get("io:k"),
        ];
      }),
    );
    expect(result).toEqual(["OK", "v", 1, 42, ["v", "42", null], 2, null]);
  });

  test("a pipeline of 3000 commands", async () => {
    const results = await sameOnBoth((port) =>
      withClient(port, async (r) => {
        await r.flushall();
        const p = r.pipeline();
        for (let i = 0; i < 1000; i++) {
          p.set(`io:p:${i % 100}`, `v${i}`);
          p.incr(`io:c:${i % 10}`);
          p.get(`io:p:${(i * 7) % 100}`);
        }
        return (await p.exec())!.map(([err, value]) => (err ? `error: ${err.message}` : value));
      }),
    );
    expect(results.length).toBe(3000);
  });

  test("binary keys and values with Buffer and getBuffer", async () => {
    const key = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x80]);
    const value = Buffer.alloc(70000);
    for (let i = 0; i < value.length; i++) value[i] = (i * 13) & 0xff;
    const result = await sameOnBoth((port) =>
      withClient(port, async (r) => {
        await r.set(key, value);
        const back = await r.getBuffer(key);
        const len = await r.strlen(key);
        await r.del(key);
        return { same: back !== null && back.equals(value), len };
      }),
    );
    expect(result).toEqual({ same: true, len: 70000 });
  });

  test("error replies reject with Redis's message", async () => {
    const messages = await sameOnBoth((port) =>
      withClient(port, async (r) => {
        const out: string[] = [];
        for (const args of [["NOSUCH", "a"], ["GET"], ["INCR", "io:str"]]) {
          if (args[0] === "INCR") await r.set("io:str", "abc");
          try {
            await r.call(args[0]!, ...args.slice(1));
          } catch (e) {
            out.push((e as Error).message);
          }
        }
        return out;
      }),
    );
    expect(messages.length).toBe(3);
  });
});

describe("Bun RedisClient", () => {
  async function withClient<T>(port: number, body: (c: RedisClient) => Promise<T>): Promise<T> {
    const c = new RedisClient(`redis://127.0.0.1:${port}`, { autoReconnect: false, enableOfflineQueue: false });
    await c.connect();
    try {
      return await body(c);
    } finally {
      c.close();
    }
  }

  test("SET and GET round-trip", async () => {
    const result = await sameOnBoth((port) =>
      withClient(port, async (c) => {
        await c.send("FLUSHALL", []);
        return [await c.set("bun:k", "v\u00e9"), await c.get("bun:k"), await c.get("bun:missing"), await c.exists("bun:k"), await c.del("bun:k")];
      }),
    );
    expect(result).toEqual(["OK", "v\u00e9", null, true, 1]);
  });

  test("the connection speaks RESP3", async () => {
    const hello = await sameOnBoth((port) =>
      withClient(port, async (c) => {
        const reply = (await c.send("HELLO", ["3"])) as Record<string, unknown>;
        // The client id differs between servers; the rest must match.
        return { ...reply, id: typeof reply.id } as Record<string, unknown>;
      }),
    );
    expect(hello.proto).toBe(3);
    expect(hello.server).toBe("redis");
  });

  test("automatic pipelining of 2000 concurrent commands", async () => {
    const result = await sameOnBoth((port) =>
      withClient(port, async (c) => {
        const writes = Array.from({ length: 1000 }, (_, i) => c.set(`bun:p:${i}`, `value ${i}`));
        const counts = Array.from({ length: 1000 }, () => c.incr("bun:counter"));
        const setReplies = await Promise.all(writes);
        const countReplies = await Promise.all(counts);
        const reads = await Promise.all(Array.from({ length: 1000 }, (_, i) => c.get(`bun:p:${i}`)));
        return {
          allOk: setReplies.every((r) => r === "OK"),
          counts: countReplies.join(","),
          readsInOrder: reads.every((v, i) => v === `value ${i}`),
        };
      }),
    );
    expect(result.allOk).toBe(true);
    expect(result.readsInOrder).toBe(true);
    expect(result.counts).toBe(Array.from({ length: 1000 }, (_, i) => i + 1).join(","));
  });

  test("binary values with getBuffer", async () => {
    const value = new Uint8Array(256);
    for (let i = 0; i < 256; i++) value[i] = i;
    const result = await sameOnBoth((port) =>
      withClient(port, async (c) => {
        await c.set("bun:bin", value);
        const back = await c.getBuffer("bun:bin");
        return back === null ? null : [...back];
      }),
    );
    expect(result).toEqual([...value]);
  });

  test("error replies reject with Redis's message", async () => {
    const [want, got] = await onBoth((port) =>
      withClient(port, async (c) => {
        await c.set("bun:str", "abc");
        return c.incr("bun:str").then(
          () => "resolved",
          (e: Error) => e.message,
        );
      }),
    );
    expect(got).toBe(want);
    expect(want).toContain("not an integer");
  });
});
