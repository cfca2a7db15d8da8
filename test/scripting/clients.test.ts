// Scripts driven by real clients, each scenario run against redis-server and redbun and
// what the client saw compared: ioredis (defineCommand with its EVAL / EVALSHA / NOSCRIPT
// dance, binary Buffers, pipelines and MULTI mixing scripts with plain commands),
// node-redis v5 (defineScript, eval, evalSha, in RESP2 and RESP3) and Bun's RedisClient.
// Alongside the replies, INFO commandstats shows which commands each client actually sent
// and how the server counted them, so a fallback taken on one server only shows up.
// Then what other clients see of a script: WATCH, keyspace notifications, MONITOR,
// SLOWLOG, ACL LOG; and the Lua 5.1 limits a client meets (unpack, call depth, syntax).

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import Redis, { type ChainableCommander } from "ioredis";
import { RESP_TYPES, createClient, defineScript } from "redis";
import { Oracle, type RespConn } from "../oracle/harness.ts";
import { type Reply, decodeReply } from "../oracle/resp.ts";
import { type Side, onBoth, sameOnBoth } from "../oracle/sides.ts";
import { connectIoredis, outcome, pipelineResults } from "./client-helpers.ts";

let o: Oracle;

beforeAll(async () => {
  o = await Oracle.start();
});
afterAll(() => o.stop());
beforeEach(async () => {
  await o.same("FLUSHALL");
  await o.same("SCRIPT", "FLUSH");
});

/**
 * The calls, failures and rejections of every command since `CONFIG RESETSTAT`, from
 * INFO commandstats without the timings (which of EVAL, EVALSHA and SCRIPT the client
 * sent, and the commands the scripts ran), and the error counts: an error raised by
 * redis.call out of a script is counted once, for the command that failed.
 */
async function commandCounts(conn: RespConn): Promise<Record<string, string>> {
  const counts: Record<string, string> = {};
  const info = await conn.call("INFO", "everything");
  for (const line of info.split("\r\n")) {
    const command = line.match(/^cmdstat_([^:]+):calls=(\d+),.*rejected_calls=(\d+),failed_calls=(\d+)$/);
    if (command !== null) counts[command[1]!] = `calls=${command[2]} rejected=${command[3]} failed=${command[4]}`;
    const errors = line.match(/^(errorstat_[^:]+|total_error_replies):(.*)$/);
    if (errors !== null) counts[errors[1]!] = errors[2]!;
  }
  return counts;
}

/**
 * Runs a client scenario on one side between a CONFIG RESETSTAT and a look at the command
 * counts (taken through a raw connection, so the client's own commands are all counted).
 */
async function counted<T>(side: Side, scenario: () => Promise<T>): Promise<{ result: T; counts: Record<string, string> }> {
  const admin = await side.connect();
  await admin.call("CONFIG", "RESETSTAT");
  const result = await scenario();
  const counts = await commandCounts(admin);
  delete counts.config; // The RESETSTAT itself, counted or not depending on when stats reset.
  delete counts.info;
  return { result, counts };
}

/** An ioredis client on `port`, closed when `body` ends. */
async function withIoredis<T>(port: number, body: (client: Redis) => Promise<T>): Promise<T> {
  const client = await connectIoredis(port);
  try {
    return await body(client);
  } finally {
    client.disconnect();
  }
}

const SET_AND_INCR = "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('INCRBY', KEYS[2], ARGV[2])";
/** Stores ARGV[1] under KEYS[1] and returns what the script saw of both, byte by byte. */
const ECHO_BYTES = "redis.call('SET', KEYS[1], ARGV[1]); return {KEYS[1], ARGV[1], redis.call('GET', KEYS[1]), #KEYS[1], string.byte(ARGV[1], 1, -1)}";
const MIXED_REPLY = "return {1, 'two', {3, 'four', {}}, redis.call('GET', 'missing'), 5}";
const FAILING_CALL = "return redis.call('INCR', KEYS[1])";
const ERROR_REPLY = "return redis.error_reply('QUEUE is ' .. ARGV[1])";
const STATUS_REPLY = "return redis.status_reply(ARGV[1])";

/** Replies each under the script that gave it, so that a difference names its script; the rest as they are. */
function labelled(scripts: string[], replies: unknown[]): unknown[] {
  return replies.map((reply, i) => (i < scripts.length ? `${scripts[i]} -> ${JSON.stringify(reply)}` : reply));
}

/** The custom commands defineCommand adds to ioredis clients, pipelines and MULTI. */
interface IoredisScripts {
  setAndIncr(k1: string | Buffer, k2: string | Buffer, value: string | Buffer, by: number): Promise<number>;
  echoBytes(key: string | Buffer, value: string | Buffer): Promise<unknown[]>;
  echoBytesBuffer(key: string | Buffer, value: string | Buffer): Promise<unknown[]>;
  failingCall(key: string): Promise<number>;
  errorReply(arg: string): Promise<unknown>;
  statusReply(arg: string): Promise<string>;
  mixedReply(): Promise<unknown[]>;
  /** numberOfKeys not fixed: the first argument is the key count. */
  anyKeys(numKeys: number, ...keysAndArgs: (string | Buffer)[]): Promise<unknown[]>;
}

function defineIoredisScripts(client: Redis): Redis & IoredisScripts {
  client.defineCommand("setAndIncr", { numberOfKeys: 2, lua: SET_AND_INCR });
  client.defineCommand("echoBytes", { numberOfKeys: 1, lua: ECHO_BYTES });
  client.defineCommand("failingCall", { numberOfKeys: 1, lua: FAILING_CALL });
  client.defineCommand("errorReply", { numberOfKeys: 0, lua: ERROR_REPLY });
  client.defineCommand("statusReply", { numberOfKeys: 0, lua: STATUS_REPLY });
  client.defineCommand("mixedReply", { numberOfKeys: 0, lua: MIXED_REPLY });
  client.defineCommand("anyKeys", { lua: "return {#KEYS, #ARGV, KEYS[#KEYS], ARGV[#ARGV]}" });
  return client as Redis & IoredisScripts;
}

/** A pipeline or MULTI with the custom commands, each queued and answered by exec. */
type ScriptedPipeline = ChainableCommander & { [K in keyof IoredisScripts]: (...args: Parameters<IoredisScripts[K]>) => ChainableCommander };

const BINARY_KEY = Buffer.from([0xff, 0x00, 0x6b]);
const BINARY_VALUE = Buffer.from([0xff, 0x00, 0x0d, 0x0a, 0x80, 0x7f]);

describe("ioredis", () => {
  test("defineCommand: EVAL on a new connection, EVALSHA after, EVAL again after SCRIPT FLUSH", async () => {
    const seen = await sameOnBoth(o, (side) =>
      counted(side, () =>
        withIoredis(side.port, async (plain) => {
          const client = defineIoredisScripts(plain);
          const first = await client.setAndIncr("a", "counter", "x", 5);
          const second = await client.setAndIncr("a", "counter", "y", 7);
          await client.script("FLUSH");
          const afterFlush = await client.setAndIncr("a", "counter", "z", -2);
          const afterFlushAgain = await client.setAndIncr("a", "counter", "w", 1);
          return [first, second, afterFlush, afterFlushAgain, await client.get("a"), await client.get("counter")];
        }),
      ),
    );
    expect(seen.result).toEqual([5, 12, 10, 11, "w", "11"]);
  });

  test("defineCommand with the key count given per call", async () => {
    const seen = await sameOnBoth(o, (side) =>
      withIoredis(side.port, async (plain) => {
        const client = defineIoredisScripts(plain);
        return [
          await outcome(client.anyKeys(2, "k1", "k2", "a1")),
          await outcome(client.anyKeys(0, "a1", "a2")),
          await outcome(client.anyKeys(3, "k1", "k2")),
          await outcome(client.anyKeys(-1, "k1")),
        ];
      }),
    );
    expect(seen[0]).toEqual([2, 1, "k2", "a1"]);
  });

  test("binary keys and values through Buffers and the *Buffer variant", async () => {
    const seen = await sameOnBoth(o, (side) =>
      withIoredis(side.port, async (plain) => {
        const client = defineIoredisScripts(plain);
        const asBuffers = await client.echoBytesBuffer(BINARY_KEY, BINARY_VALUE);
        const asStrings = await client.echoBytes(BINARY_KEY, BINARY_VALUE);
        const stored = await client.getBuffer(BINARY_KEY);
        const viaEval = await client.callBuffer("EVAL", "return {KEYS[1], ARGV[1]}", 1, Buffer.from("\xff\x00", "latin1"), Buffer.from("\x00\xff", "latin1"));
        return { asBuffers, asStrings, stored, viaEval };
      }),
    );
    expect(seen.asBuffers.slice(0, 3)).toEqual([BINARY_KEY, BINARY_VALUE, BINARY_VALUE]);
    expect(seen.asBuffers.slice(3)).toEqual([3, 0xff, 0x00, 0x0d, 0x0a, 0x80, 0x7f]);
    expect(seen.stored).toEqual(BINARY_VALUE);
  });

  test("large values, replies and argument lists, and unpack's limit", async () => {
    const big = Buffer.from(Array.from({ length: 1 << 20 }, (_, i) => (i * 7919) & 0xff));
    const many = Array.from({ length: 9000 }, (_, i) => String(i));
    const seen = await sameOnBoth(o, (side) =>
      withIoredis(side.port, async (client) => {
        const pushAll = "return redis.call('RPUSH', KEYS[1], unpack(ARGV))";
        return [
          await outcome(client.callBuffer("EVAL", "redis.call('SET', KEYS[1], ARGV[1]); return {string.len(ARGV[1]), redis.call('STRLEN', KEYS[1]), string.sub(ARGV[1], 1000, 1010)}", 1, "big", big)),
          (await client.callBuffer("EVAL", "return string.rep(ARGV[1], 400000)", 0, Buffer.from("\xff\x00ab", "latin1"))) as Buffer,
          await outcome(client.eval("return #ARGV", 0, ...many)),
          await outcome(client.eval(pushAll, 1, "list", ...many.slice(0, 7000))),
          await outcome(client.eval(pushAll, 1, "list", ...many)),
          await client.llen("list"),
        ];
      }),
    );
    expect((seen[1] as Buffer).length).toBe(1600000);
    expect(seen[3]).toBe(7000);
  });

  test("script replies: nested arrays, nil, status and error replies, failing redis.call", async () => {
    const seen = await sameOnBoth(o, (side) =>
      withIoredis(side.port, async (plain) => {
        const client = defineIoredisScripts(plain);
        await client.set("text", "abc");
        return [
          await outcome(client.mixedReply()),
          await outcome(client.statusReply("FINE")),
          await outcome(client.errorReply("full")),
          await outcome(client.failingCall("text")),
          await outcome(client.failingCall("fresh")),
          await outcome(client.eval("return {1, nil, 3}", 0)),
          await outcome(client.eval("return {err = 'CUSTOM broken'}", 0)),
          await outcome(client.eval("return {ok = 'DONE'}", 0)),
          await outcome(client.eval("return {3.99, -0.5, true, false}", 0)),
          await outcome(client.eval("local r = redis.pcall('INCR', KEYS[1]); return {type(r), r.err}", 1, "text")),
        ];
      }),
    );
    expect(seen[0]).toEqual([1, "two", [3, "four", []], null, 5]);
    expect(seen[1]).toBe("FINE");
    expect(seen[2]).toEqual({ error: "QUEUE is full" });
    expect(seen[4]).toBe(1);
  });

  test("a pipeline mixing scripts and plain commands, first use loading the scripts", async () => {
    const seen = await sameOnBoth(o, (side) =>
      counted(side, () =>
        withIoredis(side.port, async (plain) => {
          const client = defineIoredisScripts(plain);
          const run = async (): Promise<unknown[] | null> => {
            const p = client.pipeline() as ScriptedPipeline;
            p.set("plain", "1");
            p.setAndIncr("a", "n", "v", 3);
            p.get("a");
            p.errorReply("busy");
            p.incr("plain");
            p.echoBytes(BINARY_KEY, BINARY_VALUE);
            p.failingCall("a");
            p.mixedReply();
            p.lpush("list", "x");
            return pipelineResults(await p.exec());
          };
          const first = await run();
          const second = await run();
          await client.script("FLUSH");
          return [first, second, await run()];
        }),
      ),
    );
    expect((seen.result[0] as unknown[]).slice(0, 5)).toEqual(["OK", 3, "v", { error: "QUEUE is busy" }, 2]);
  });

  test("MULTI mixing scripts and plain commands; a script error inside EXEC", async () => {
    const seen = await sameOnBoth(o, (side) =>
      counted(side, () =>
        withIoredis(side.port, async (plain) => {
          const client = defineIoredisScripts(plain);
          const tx = client.multi() as ScriptedPipeline;
          tx.set("k", "text");
          tx.setAndIncr("a", "n", "v", 2);
          tx.failingCall("k");
          tx.errorReply("late");
          tx.incr("n");
          tx.statusReply("QUEUED?");
          const committed = pipelineResults(await tx.exec());
          const again = client.multi() as ScriptedPipeline;
          again.setAndIncr("a", "n", "w", 10);
          again.get("a");
          return [committed, pipelineResults(await again.exec()), await client.mget("a", "n", "k")];
        }),
      ),
    );
    expect(seen.result[2]).toEqual(["w", "13", "text"]);
  });

  test("MULTI aborted by a queueing error discards the scripts", async () => {
    await sameOnBoth(o, (side) =>
      withIoredis(side.port, async (plain) => {
        const client = defineIoredisScripts(plain);
        const tx = client.multi() as ScriptedPipeline;
        tx.setAndIncr("a", "n", "v", 2);
        tx.call("EVAL", "return 1");
        return [await outcome(tx.exec()), await client.exists("a", "n")];
      }),
    );
  });

  test("scripts that do not compile as Lua 5.1: SCRIPT LOAD and defineCommand see the same error", async () => {
    // Lua 5.1 quotes token names in syntax errors ('<eof>', '<name>'), has no goto, and
    // no integer division or bitwise operators (Lua 5.3's // and &).
    const sources = ["return x(", "local = 5", "return {1, 2", "return 'unfinished", "goto x", "return 1 // 2", "return 3 & 1", "return 0x", "return '\\z'"];
    const [want, got] = await onBoth(o, (side) =>
      withIoredis(side.port, async (client) => {
        const replies: unknown[] = [];
        for (const source of sources) replies.push(await outcome(client.script("LOAD", source)));
        client.defineCommand("broken", { numberOfKeys: 0, lua: "return 1 +" });
        replies.push(await outcome((client as unknown as { broken(): Promise<unknown> }).broken()));
        return replies;
      }),
    );
    expect(labelled(sources, got)).toEqual(labelled(sources, want));
  });

  test("a script's writes break another client's WATCH; its reads do not", async () => {
    await sameOnBoth(o, (side) =>
      withIoredis(side.port, async (watcher) =>
        withIoredis(side.port, async (other) => {
          const attempt = async (script: string, key: string): Promise<unknown> => {
            await watcher.watch(key);
            await other.eval(script, 1, key);
            return pipelineResults(await watcher.multi().set("after", key).exec());
          };
          await other.set("seen", "1");
          return [
            await attempt("return redis.call('GET', KEYS[1])", "seen"),
            await attempt("return redis.call('SET', KEYS[1], 'changed')", "seen"),
            await attempt("redis.call('SET', KEYS[1], 'brief'); return redis.call('DEL', KEYS[1])", "missing"),
            await attempt("return redis.call('DEL', KEYS[1])", "missing"),
            await attempt("return redis.call('EXPIRE', KEYS[1], 1000)", "seen"),
            await watcher.get("after"),
          ];
        }),
      ),
    );
  });

  test("keyspace notifications from a script's commands, in order", async () => {
    await o.same("CONFIG", "SET", "notify-keyspace-events", "KEA");
    try {
      const seen = await sameOnBoth(o, (side) =>
        withIoredis(side.port, async (subscriber) =>
          withIoredis(side.port, async (client) => {
            const events: string[] = [];
            // The key-event message for the last SET comes last: the scenario waits for it.
            const last = "__keyevent@0__:set done";
            const allSeen = new Promise<void>((resolve) =>
              subscriber.on("pmessage", (_pattern: string, channel: string, message: string) => {
                events.push(`${channel} ${message}`);
                if (`${channel} ${message}` === last) resolve();
              }),
            );
            await subscriber.psubscribe("__key*__:*");
            const script = "redis.call('SET', KEYS[1], 'v'); redis.call('INCR', KEYS[2]); redis.call('LPUSH', KEYS[3], 'a'); redis.call('LPOP', KEYS[3]); redis.call('EXPIRE', KEYS[1], 100); return redis.call('DEL', KEYS[1], KEYS[2])";
            await client.eval(script, 3, "s", "n", "l");
            await client.set("done", "1");
            await allSeen;
            return events;
          }),
        ),
      );
      expect(seen.length).toBeGreaterThan(10);
    } finally {
      await o.same("CONFIG", "SET", "notify-keyspace-events", "");
    }
  });

  test("MONITOR shows EVAL, then each command the script ran, from 'lua'", async () => {
    const seen = await sameOnBoth(o, (side) =>
      withIoredis(side.port, async (client) => {
        const monitor = await client.monitor();
        try {
          const lines: string[] = [];
          const done = new Promise<void>((resolve) =>
            monitor.on("monitor", (_time: string, args: string[], source: string, database: string) => {
              // The client's address changes from run to run; the script's source is "lua".
              lines.push(`[${database} ${source === "lua" ? "lua" : "client"}] ${JSON.stringify(args)}`);
              if (args[0] === "ping") resolve();
            }),
          );
          const other = await connectIoredis(side.port);
          await outcome(other.eval("redis.call('SET', KEYS[1], ARGV[1]); return redis.pcall('INCR', KEYS[1])", 1, "mk", "v\x00"));
          await other.ping();
          other.disconnect();
          await done;
          return lines;
        } finally {
          monitor.disconnect();
        }
      }),
    );
    // Besides what ioredis itself sends: the EVAL, then its two commands from "lua".
    const script = seen.filter((line) => line.includes('"eval"') || line.startsWith("[0 lua]"));
    expect(script.length).toBe(3);
    expect(script[0]).toContain('"eval"');
  });

  test("SLOWLOG keeps EVAL and the commands the script ran, those from the Lua client '?:0'", async () => {
    await o.same("CONFIG", "SET", "slowlog-log-slower-than", "0");
    try {
      await sameOnBoth(o, (side) =>
        withIoredis(side.port, async (client) => {
          await client.slowlog("RESET");
          await client.eval("redis.call('SET', KEYS[1], 'v'); return redis.call('GET', KEYS[1])", 1, "sk");
          const entries = (await client.slowlog("GET")) as [number, number, number, string[], string, string][];
          // Times and the caller's port change from run to run; the Lua client's "?:0" does not.
          return entries.map(([, , , args, address, name]) => [args, address.startsWith("127.0.0.1:") ? "caller" : address, name]);
        }),
      );
    } finally {
      await o.same("CONFIG", "SET", "slowlog-log-slower-than", "10000");
    }
  });

  test("SCRIPT LOAD, SCRIPT EXISTS, evalsha, NOSCRIPT after FLUSH", async () => {
    await sameOnBoth(o, (side) =>
      counted(side, () =>
        withIoredis(side.port, async (client) => {
          const sha = (await client.script("LOAD", SET_AND_INCR)) as string;
          return [
            sha,
            await client.script("EXISTS", sha, sha.toUpperCase(), "0".repeat(40)),
            await outcome(client.evalsha(sha, 2, "a", "n", "v", 9)),
            await outcome(client.callBuffer("EVALSHA", sha, 2, BINARY_KEY, "n", BINARY_VALUE, 1)),
            await client.getBuffer(BINARY_KEY),
            await client.script("FLUSH"),
            await outcome(client.evalsha(sha, 2, "a", "n", "v", 9)),
            await outcome(client.evalsha("not-a-sha", 0)),
          ];
        }),
      ),
    );
  });
});

/** A node-redis script built with defineScript: SET then INCRBY, returning the count. */
const nodeSetAndIncr = defineScript({
  SCRIPT: SET_AND_INCR,
  NUMBER_OF_KEYS: 2,
  parseCommand(parser, k1: string, k2: string, value: string, by: number) {
    parser.pushKey(k1);
    parser.pushKey(k2);
    parser.push(value, String(by));
  },
  transformReply: (reply: unknown) => reply as number,
});

/** A node-redis script whose reply shape depends on the protocol the script asks for. */
const nodeHashShapes = defineScript({
  SCRIPT: "redis.setresp(tonumber(ARGV[1])); return {redis.call('HGETALL', KEYS[1]), redis.call('SMEMBERS', KEYS[2])}",
  NUMBER_OF_KEYS: 2,
  IS_READ_ONLY: true,
  parseCommand(parser, hash: string, set: string, resp: 2 | 3) {
    parser.pushKey(hash);
    parser.pushKey(set);
    parser.push(String(resp));
  },
  transformReply: (reply: unknown) => reply,
});

describe.each([2, 3] as const)("node-redis v5, RESP%i", (resp) => {
  /** A node-redis client on `port` with the scripts above, closed when `body` ends. */
  async function withNodeRedis<T>(port: number, body: (client: ReturnType<typeof makeClient>) => Promise<T>): Promise<T> {
    const client = makeClient(port);
    await client.connect();
    try {
      return await body(client);
    } finally {
      client.destroy();
    }
  }

  function makeClient(port: number) {
    return createClient({ socket: { host: "127.0.0.1", port, reconnectStrategy: false }, RESP: resp, scripts: { setAndIncr: nodeSetAndIncr, hashShapes: nodeHashShapes } });
  }

  test("defineScript: EVALSHA, NOSCRIPT, then EVAL", async () => {
    const seen = await sameOnBoth(o, (side) =>
      counted(side, () =>
        withNodeRedis(side.port, async (client) => {
          const first = await client.setAndIncr("a", "n", "x", 4);
          const second = await client.setAndIncr("a", "n", "y", 4);
          await client.scriptFlush();
          return [first, second, await client.setAndIncr("a", "n", "z", -1), await client.get("a")];
        }),
      ),
    );
    expect(seen.result).toEqual([4, 8, 7, "z"]);
    // Both NOSCRIPT replies count as failed EVALSHA calls.
    expect(seen.counts.evalsha).toBe("calls=3 rejected=0 failed=2");
  });

  test("EVALSHA_RO through a read-only script; RESP2 and RESP3 replies inside the script", async () => {
    await sameOnBoth(o, (side) =>
      withNodeRedis(side.port, async (client) => {
        // One field: the order of a map's fields is the next test's subject.
        await client.hSet("h", { f1: "1" });
        await client.sAdd("s", ["m"]);
        return [
          await outcome(client.hashShapes("h", "s", 2)),
          await outcome(client.hashShapes("h", "s", 3)),
          await outcome(client.hashShapes("missing", "s", 3)),
        ];
      }),
    );
  });

  test("tables are visited in Lua 5.1's order: pairs(), and maps written back out", async () => {
    // Lua 5.1's next() visits a table's hash part in the order of its hash slots, not of
    // insertion: for keys a, b, c, d, e, f that is a, c, b, e, d, f. Scripts see it in
    // pairs(), and Redis writes a map reply (a RESP3 map turned into a Lua table, or a
    // {map = ...} table) in that order too, which a RESP2 client sees as it is.
    await sameOnBoth(o, (side) =>
      withNodeRedis(side.port, async (client) => {
        await client.hSet("h", { a: "1", b: "2", c: "3", d: "4", e: "5" });
        const pairsOrder = "local t = {}; for i, k in ipairs(ARGV) do t[k] = i end; local out = {}; for k in pairs(t) do out[#out + 1] = k end; return out";
        return [
          await outcome(client.eval(pairsOrder, { arguments: ["a", "b", "c", "d", "e", "f"] })),
          await outcome(client.eval("local out = {}; for k in pairs({alpha = 1, beta = 2, gamma = 3, delta = 4}) do out[#out + 1] = k end; return out")),
          await outcome(client.eval("redis.setresp(3); return redis.call('HGETALL', KEYS[1])", { keys: ["h"] })),
          await outcome(client.eval("return {map = {x = 1, y = 2, z = 3, w = 4}}")),
        ];
      }),
    );
  });

  test("eval and evalSha with keys and arguments, and every Lua value as a reply", async () => {
    await sameOnBoth(o, (side) =>
      withNodeRedis(side.port, async (client) => {
        const sha = await client.scriptLoad("return {KEYS[1], ARGV[1], ARGV[2]}");
        const binary = client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
        return [
          sha,
          await client.scriptExists([sha, "0".repeat(40)]),
          await outcome(client.evalSha(sha, { keys: ["k"], arguments: ["a", "b"] })),
          await outcome(binary.evalSha(sha, { keys: [BINARY_KEY], arguments: [BINARY_VALUE, ""] })),
          await outcome(client.eval(MIXED_REPLY)),
          await outcome(client.eval("return {true, false, 3.5, {ok = 'FINE'}, {err = 'NESTED bad'}}")),
          await outcome(client.eval("return true")),
          await outcome(client.eval("return false")),
          await outcome(client.eval("return {double = 3.25}")),
          await outcome(client.eval(FAILING_CALL, { keys: ["k"] })),
          await outcome(client.eval(ERROR_REPLY, { arguments: ["down"] })),
          await outcome(client.evalSha("0".repeat(40))),
          await outcome(client.evalRo("return redis.call('SET', KEYS[1], 'v')", { keys: ["k"] })),
        ];
      }),
    );
  });
});

describe("Bun's RedisClient", () => {
  /** A Bun RedisClient (RESP3) on `port` (or `user:password@host:port`), closed when `body` ends. */
  async function withBunClient<T>(port: number | string, body: (client: RedisClient) => Promise<T>): Promise<T> {
    const address = typeof port === "number" ? `127.0.0.1:${port}` : port;
    const client = new RedisClient(`redis://${address}`, { autoReconnect: false, enableOfflineQueue: false });
    await client.connect();
    try {
      return await body(client);
    } finally {
      client.close();
    }
  }

  test("send EVAL, SCRIPT LOAD and EVALSHA", async () => {
    const seen = await sameOnBoth(o, (side) =>
      withBunClient(side.port, async (client) => {
        const sha = (await client.send("SCRIPT", ["LOAD", SET_AND_INCR])) as string;
        await client.send("HSET", ["h", "f", "v", "g", "12"]);
        return [
          sha,
          await outcome(client.send("EVALSHA", [sha, "2", "a", "n", "v", "6"])),
          await outcome(client.send("EVALSHA", [sha.toUpperCase(), "2", "a", "n", "v", "6"])),
          await outcome(client.send("EVAL", [MIXED_REPLY, "0"])),
          await outcome(client.send("EVAL", ["redis.setresp(3); return redis.call('HGETALL', KEYS[1])", "1", "h"])),
          await outcome(client.send("EVAL", ["return redis.call('HGETALL', KEYS[1])", "1", "h"])),
          await outcome(client.send("EVAL", ["return {true, false, 2.5, {double = 0.5}}", "0"])),
          await outcome(client.send("EVAL", [FAILING_CALL, "1", "a"])),
          await outcome(client.send("EVAL", [ERROR_REPLY, "0", "empty"])),
          await outcome(client.send("EVAL", [STATUS_REPLY, "0", "GOOD"])),
          await outcome(client.send("EVALSHA", ["0".repeat(40), "0"])),
          await outcome(client.send("EVAL", ["return 1", "2", "a"])),
          await client.send("MGET", ["a", "n"]),
        ];
      }),
    );
    expect(seen[1]).toBe(6);
    expect(seen[12]).toEqual(["v", "12"]);
  });

  test("what redis.call refuses, and commands that behave differently inside a script", async () => {
    const scripts = [
      "return redis.call('BLPOP', KEYS[1], 0)",
      "return redis.call('BRPOPLPUSH', KEYS[1], 'dst', 1)",
      "return redis.call('SUBSCRIBE', 'ch')",
      "return redis.call('EVAL', 'return 1', 0)",
      "return redis.call('MULTI')",
      "return redis.call('NOSUCH', 'x')",
      "return redis.call()",
      "return redis.call('SET', KEYS[1], {})",
      "return redis.call('SET', KEYS[1], 1.5)",
      "return redis.call('PING')",
      "return redis.pcall('CLIENT', 'KILL', 'ID', '999999')",
      "return redis.call('SELECT', 1) and redis.call('SET', 'in-db-1', 'x') and redis.call('DBSIZE')",
      "return redis.call('OBJECT', 'ENCODING', KEYS[1])",
      "return {redis.call('TYPE', KEYS[1]), redis.call('TYPE', KEYS[1]).ok}",
    ];
    const [want, got] = await onBoth(o, (side) =>
      withBunClient(side.port, async (client) => {
        const replies: unknown[] = [];
        for (const script of scripts) replies.push(await outcome(client.send("EVAL", [script, "1", "k"])));
        replies.push(await client.send("DBSIZE", []), await client.send("GET", ["k"]));
        return replies;
      }),
    );
    expect(labelled(scripts, got)).toEqual(labelled(scripts, want));
  });

  test("Lua 5.1's call depth limit: a runaway recursion stops with 'stack overflow'", async () => {
    // Lua 5.1 caps nested calls at LUAI_MAXCALLS (20000); where exactly a deep recursion
    // stops depends on how far the call-info array grew before (doubling past 16384 is
    // already too far), so only depths clearly on either side are compared.
    const recurse = "local function f(n) if n == 0 then return 0 end return 1 + f(n - 1) end return f(tonumber(ARGV[1]))";
    await sameOnBoth(o, (side) =>
      withBunClient(side.port, async (client) => [
        await outcome(client.send("EVAL", [recurse, "0", "10000"])),
        await outcome(client.send("EVAL", [recurse, "0", "100000"])),
        await outcome(client.send("EVAL", ["local function f() return 1 + f() end return f()", "0"])),
        await outcome(client.send("EVAL", [recurse, "0", "10000"])),
      ]),
    );
  });

  test("keys do not expire while a script runs: expiry reads the time the script started", async () => {
    // The script sets a key to live 20 ms, then spins on TIME for 60 ms: Redis still finds
    // the key (GET, EXISTS) although PTTL, which reads the real clock, says 0; it is gone
    // only after the script.
    const spin = `redis.call('SET', KEYS[1], 'v', 'PX', 20)
      local function now() local t = redis.call('TIME'); return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) end
      local start = now()
      while now() - start < 60 do end
      return {redis.call('GET', KEYS[1]), redis.call('EXISTS', KEYS[1]), redis.call('PTTL', KEYS[1])}`;
    await sameOnBoth(o, (side) =>
      withBunClient(side.port, async (client) => [await outcome(client.send("EVAL", [spin, "1", "short"])), await client.send("EXISTS", ["short"])]),
    );
  });

  test("a user without SET: redis.call and redis.pcall refused, redis.acl_check_cmd, ACL LOG", async () => {
    await o.same("ACL", "SETUSER", "limited", "on", "nopass", "~*", "+@all", "-set");
    await o.same("ACL", "LOG", "RESET");
    try {
      await sameOnBoth(o, async (side) => {
        const replies = await withBunClient(`limited:x@127.0.0.1:${side.port}`, async (client) => [
          await outcome(client.send("EVAL", ["return redis.call('SET', KEYS[1], 'v')", "1", "k"])),
          await outcome(client.send("EVAL", ["return redis.pcall('SET', KEYS[1], 'v')", "1", "k"])),
          await outcome(client.send("EVAL", ["return {redis.acl_check_cmd('SET', KEYS[1], 'v'), redis.acl_check_cmd('GET', KEYS[1])}", "1", "k"])),
          await outcome(client.send("EVAL", ["return redis.acl_check_cmd('NOSUCH')", "0"])),
        ]);
        const admin = await side.connect();
        const log = decodeReply(await admin.call("ACL", "LOG")) as Reply[];
        // Each entry without its times and client details, which differ from run to run.
        const entries = log.map((entry) => JSON.stringify(entry).replace(/"age-seconds",("[^"]*"|[0-9.]+)/, "").replace(/"client-info","[^"]*"/, ""));
        return [replies, entries];
      });
    } finally {
      await o.same("ACL", "DELUSER", "limited");
    }
  });

  test("many scripts sent at once are pipelined and answered in order", async () => {
    await sameOnBoth(o, (side) =>
      withBunClient(side.port, async (client) => {
        const replies = await Promise.all(
          Array.from({ length: 200 }, (_, i) =>
            outcome(client.send("EVAL", ["local n = redis.call('INCR', KEYS[1]); if n % 7 == 0 then return redis.error_reply('SEVEN ' .. n) end; return {n, ARGV[1]}", "1", `c${i % 3}`, String(i)])),
          ),
        );
        return [replies, await client.send("MGET", ["c0", "c1", "c2"])];
      }),
    );
  });
});

describe("INFO counts after a script", () => {
  /** Runs the commands after a CONFIG RESETSTAT on both servers; returns both counts. */
  async function countsAfter(commands: string[][]): Promise<[Record<string, string>, Record<string, string>]> {
    await o.same("CONFIG", "RESETSTAT");
    await o.sameAll(commands);
    return Promise.all([commandCounts(o.r), commandCounts(o.b)]);
  }

  const SCRIPTS_AND_COUNTS: [string, string][] = [
    ["a redis.pcall error the script catches: INCR failed, EVAL did not", "local r = redis.pcall('INCR', KEYS[1]); return 1"],
    ["a redis.call error raised out of the script: one error, INCR's", FAILING_CALL],
    ["a redis.pcall error returned as the reply: one error, INCR's", "return redis.pcall('INCR', KEYS[1])"],
    ["redis.error_reply: the script's own error", "return redis.error_reply('MY own')"],
  ];

  test.each(SCRIPTS_AND_COUNTS)("%s", async (_, script) => {
    const [want, got] = await countsAfter([
      ["SET", "text", "abc"],
      ["EVAL", script, "1", "text"],
    ]);
    expect(got).toEqual(want);
  });

  test("EXEC is not a failed call when a script or command inside it failed", async () => {
    const [want, got] = await countsAfter([
      ["SET", "text", "abc"],
      ["MULTI"],
      ["INCR", "text"],
      ["EVAL", "return redis.error_reply('MY own')", "0"],
      ["EXEC"],
    ]);
    expect(got).toEqual(want);
  });
});
