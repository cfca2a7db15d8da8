// Pub/Sub against the real redis-server 7.0: SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE
// PUBLISH SSUBSCRIBE SUNSUBSCRIBE SPUBLISH PUBSUB, the subscribed mode of RESP2 clients, RESET,
// and client-output-buffer-limit. Each scenario runs on both servers over its own
// connections and what every client saw is compared. Redis keeps channels and patterns in
// hash tables whose order changes from run to run, so where several channels or patterns
// are listed at once (UNSUBSCRIBE without arguments, PUBSUB CHANNELS, a message matching
// several patterns) the replies are compared as multisets.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import Redis from "ioredis";
import { Oracle, RespConn, encodeCommand, replyEnd } from "../oracle/harness.ts";
import { decodeReply, canonical, asMultiset, type Reply } from "../oracle/resp.ts";
import { onBoth, sameOnBoth } from "../oracle/sides.ts";
import { type LoggedServer, spawnReady } from "../fixtures/logged-server.ts";
import { readFileSync } from "node:fs";

let o: Oracle;
beforeAll(async () => {
  o = await Oracle.start();
});
afterAll(() => o.stop());
beforeEach(async () => {
  await o.same("FLUSHALL");
});

/** Send one command and read the n replies it gives (one per name for the subscribe family). */
async function send(conn: RespConn, n: number, ...args: (string | Uint8Array)[]): Promise<string> {
  conn.write(encodeCommand(args));
  return conn.readReplies(n);
}

/** The replies in a string of several, each decoded. */
function decodeAll(text: string): Reply[] {
  const buf = Buffer.from(text, "latin1");
  const out: Reply[] = [];
  for (let pos = 0; pos < buf.length; ) {
    const end = replyEnd(buf, pos);
    out.push(decodeReply(text.slice(pos, end)));
    pos = end;
  }
  return out;
}

/** A connection speaking the given protocol. */
async function connectWith(side: { connect(): Promise<RespConn> }, proto: number): Promise<RespConn> {
  const conn = await side.connect();
  if (proto === 3) await conn.call("HELLO", "3");
  return conn;
}

/** Poll until PUBSUB NUMSUB of the channel is n (a closed subscriber is noticed asynchronously). */
async function numsubBecomes(admin: RespConn, channel: string, n: number, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reply = decodeReply(await admin.call("PUBSUB", "NUMSUB", channel)) as [string, number];
    if (reply[1] === n) return;
    if (Date.now() > deadline) throw new Error(`NUMSUB ${channel} stayed ${reply[1]}, wanted ${n}`);
    await Bun.sleep(10);
  }
}

const PROTOCOLS = [2, 3];

describe("subscribing and unsubscribing", () => {
  for (const proto of PROTOCOLS) {
    test(`RESP${proto}: confirmations, counts, repeats, names not subscribed, nothing to leave`, async () => {
      await sameOnBoth(o, async (side) => {
        const c = await connectWith(side, proto);
        return [
          await send(c, 1, "UNSUBSCRIBE"),
          await send(c, 1, "PUNSUBSCRIBE"),
          await send(c, 1, "SUNSUBSCRIBE"),
          await send(c, 3, "SUBSCRIBE", "a", "b", "a"),
          await send(c, 2, "PSUBSCRIBE", "p*", "p*"),
          // Shard channels are counted on their own.
          await send(c, 2, "SSUBSCRIBE", "s1", "s2"),
          await send(c, 2, "UNSUBSCRIBE", "a", "never"),
          await send(c, 1, "PUNSUBSCRIBE", "nope"),
          await send(c, 1, "SUNSUBSCRIBE", "s1"),
          await send(c, 1, "UNSUBSCRIBE"),
          await send(c, 1, "PUNSUBSCRIBE"),
          await send(c, 1, "UNSUBSCRIBE"),
          // Still subscribed to a shard channel: still in subscribed mode.
          await send(c, 1, "GET", "k"),
          await send(c, 1, "SUNSUBSCRIBE"),
          await send(c, 1, "SUNSUBSCRIBE"),
          await send(c, 1, "GET", "k"),
          await send(c, 1, "SUBSCRIBE", "\xff\x00bin"),
          await send(c, 1, "PSUBSCRIBE", ""),
        ];
      });
    });

    test(`RESP${proto}: leaving every channel, pattern and shard channel at once`, async () => {
      const [want, got] = await onBoth(o, async (side) => {
        const c = await connectWith(side, proto);
        await send(c, 4, "SUBSCRIBE", "c1", "c2", "c3", "c4");
        await send(c, 3, "PSUBSCRIBE", "x*", "y?", "[z]");
        await send(c, 2, "SSUBSCRIBE", "s1", "s2");
        const unsubscribed = decodeAll(await send(c, 4, "UNSUBSCRIBE")) as [string, string, number][];
        const punsubscribed = decodeAll(await send(c, 3, "PUNSUBSCRIBE")) as [string, string, number][];
        const sunsubscribed = decodeAll(await send(c, 2, "SUNSUBSCRIBE")) as [string, string, number][];
        // Names come in hash-table order: the names as a set, the counts in order.
        return [unsubscribed, punsubscribed, sunsubscribed].map((pushes) => ({
          kinds: pushes.map((p) => p[0]),
          names: pushes.map((p) => p[1]).sort(),
          counts: pushes.map((p) => p[2]),
        }));
      });
      expect(got).toEqual(want);
      expect(want[0]!.counts).toEqual([6, 5, 4, 3]);
    });
  }
});

describe("messages", () => {
  for (const proto of PROTOCOLS) {
    test(`RESP${proto}: channels, glob patterns, shard channels, binary names and messages`, async () => {
      await sameOnBoth(o, async (side) => {
        const sub = await connectWith(side, proto);
        const pub = await side.connect();
        await send(sub, 3, "SUBSCRIBE", "news", "\xff\x00chan", "");
        await send(sub, 9, "PSUBSCRIBE", "h?llo", "h[ae]llo", "h[^e]llo", "x\\*y", "*", "[a-c]*", "ab*cd*", "\xff*", "h[a-");
        await send(sub, 1, "SSUBSCRIBE", "shard");
        const seen: unknown[] = [];
        for (const [channel, message] of [
          ["news", "plain"],
          ["\xff\x00chan", "\x00\xff\r\n binary"],
          ["hello", "matches several"],
          ["hallo", "a"],
          ["hillo", "i"],
          ["x*y", "escaped star"],
          ["xzy", "not escaped"],
          ["abxcdx", "two stars"],
          ["", "the empty channel: * does not match it"],
          ["shard", "a channel, not the shard channel"],
          ["h[a-", "an unclosed set"],
          ["nobody", ""],
        ]) {
          const receivers = await pub.call("PUBLISH", channel!, message!);
          const n = Number(receivers.slice(1, -2));
          // A message matching several patterns arrives once per pattern, in hash-table order.
          seen.push([receivers, n === 0 ? [] : canonical(decodeAll(await sub.readReplies(n)))]);
        }
        const shard = await pub.call("SPUBLISH", "shard", "to the shard");
        seen.push([shard, decodeAll(await sub.readReplies(1))]);
        seen.push(await pub.call("SPUBLISH", "news", "shard publish reaches no plain channel"));
        seen.push(await pub.call("PUBLISH", "other", "x"));
        return seen;
      });
    });
  }

  test("RESP3: a client publishing to itself gets its messages before the reply", async () => {
    await sameOnBoth(o, async (side) => {
      const c = await connectWith(side, 3);
      await send(c, 2, "SUBSCRIBE", "me", "other");
      await send(c, 1, "PSUBSCRIBE", "m*");
      const published = await send(c, 3, "PUBLISH", "me", "to myself");
      const items = decodeAll(published);
      // The reply comes last; the two pushes before it in either order.
      return [canonical(items.slice(0, 2)), items[2], await c.call("GET", "k"), await c.call("PING"), await send(c, 2, "PUBLISH", "other", "x")];
    });
  });

  test("many subscribers each get every message, in order", async () => {
    await sameOnBoth(o, async (side) => {
      const admin = await side.connect();
      const subscribers: RespConn[] = [];
      for (let i = 0; i < 40; i++) {
        const s = await connectWith(side, i % 2 === 0 ? 2 : 3);
        await send(s, 1, "SUBSCRIBE", "fan");
        subscribers.push(s);
      }
      const seen: unknown[] = [];
      const replies: string[] = [];
      // Pipelined, so that the messages go out together.
      admin.write(Buffer.concat(Array.from({ length: 20 }, (_, i) => encodeCommand(["PUBLISH", "fan", `message ${i}`]))));
      replies.push(await admin.readReplies(20));
      for (const s of subscribers) seen.push(await s.readReplies(20));
      replies.push(await admin.call("PUBSUB", "NUMSUB", "fan"));
      for (const s of subscribers.slice(0, 15)) s.close();
      await numsubBecomes(admin, "fan", 25);
      replies.push(await admin.call("PUBLISH", "fan", "after closing some"));
      return [replies, seen];
    });
  });

  test("pushes are sent under CLIENT REPLY OFF and SKIP, replies are not", async () => {
    await sameOnBoth(o, async (side) => {
      const c = await connectWith(side, 3);
      const pub = await side.connect();
      c.write(encodeCommand(["CLIENT", "REPLY", "OFF"]));
      c.write(encodeCommand(["SUBSCRIBE", "x"]));
      const seen: unknown[] = [await c.readReplies(1)];
      seen.push(await pub.call("PUBLISH", "x", "from another"), await c.readReplies(1));
      c.write(encodeCommand(["PUBLISH", "x", "from itself"]));
      c.write(encodeCommand(["GET", "k"]));
      c.write(encodeCommand(["CLIENT", "REPLY", "SKIP"]));
      c.write(encodeCommand(["PUBLISH", "x", "skipped reply"]));
      c.write(encodeCommand(["CLIENT", "REPLY", "ON"]));
      // Only the two pushes and +OK come back.
      seen.push(await c.readReplies(3));
      seen.push(await c.call("PING"));
      return seen;
    });
  });
});

describe("PUBSUB", () => {
  test("CHANNELS, NUMSUB, NUMPAT, SHARDCHANNELS, SHARDNUMSUB, HELP and errors", async () => {
    await sameOnBoth(o, async (side) => {
      const [a, b, admin] = [await side.connect(), await side.connect(), await side.connect()];
      const seen: unknown[] = [];
      const query = async (...args: string[]) => seen.push(asMultiset(await admin.call(...args)));
      await query("PUBSUB", "CHANNELS");
      await query("PUBSUB", "NUMPAT");
      await send(a, 4, "SUBSCRIBE", "news.tech", "news.art", "", "\xff\x00");
      await send(b, 2, "SUBSCRIBE", "news.tech", "sport");
      await send(a, 2, "PSUBSCRIBE", "news.*", "*");
      await send(b, 1, "PSUBSCRIBE", "news.*");
      await send(a, 2, "SSUBSCRIBE", "s1", "s2");
      await send(b, 1, "SSUBSCRIBE", "s1");
      await query("PUBSUB", "CHANNELS");
      await query("PUBSUB", "CHANNELS", "*");
      await query("PUBSUB", "CHANNELS", "news.*");
      await query("PUBSUB", "CHANNELS", "[^n]*");
      await query("PUBSUB", "channels", "nothing");
      await query("PUBSUB", "NUMSUB");
      await query("PUBSUB", "NUMSUB", "news.tech", "sport", "missing", "", "news.*", "s1");
      await query("PUBSUB", "NUMPAT");
      await query("PUBSUB", "SHARDCHANNELS");
      await query("PUBSUB", "SHARDCHANNELS", "*2");
      await query("PUBSUB", "SHARDNUMSUB", "s1", "s2", "news.tech");
      await query("PUBSUB", "SHARDNUMSUB");
      await query("INFO", "stats");
      await query("PUBSUB", "HELP");
      for (const bad of [["PUBSUB"], ["PUBSUB", "NOPE"], ["PUBSUB", "CHANNELS", "a", "b"], ["PUBSUB", "SHARDCHANNELS", "a", "b"], ["PUBSUB", "NUMPAT", "x"], ["PUBSUB", "HELP", "x"], ["PUBLISH", "c"], ["SUBSCRIBE"], ["SPUBLISH", "c", "m", "x"]]) {
        await query(...bad);
      }
      // Leaving forgets channels and patterns nobody listens to any more.
      await send(b, 1, "UNSUBSCRIBE", "sport");
      await send(a, 1, "PUNSUBSCRIBE", "news.*");
      await query("PUBSUB", "CHANNELS");
      await query("PUBSUB", "NUMPAT");
      b.close();
      await numsubBecomes(admin, "news.tech", 1);
      await query("PUBSUB", "NUMPAT");
      await query("PUBSUB", "SHARDNUMSUB", "s1");
      return seen.map((reply) => (typeof reply === "string" && reply.includes("# Stats") ? reply.match(/pubsub\w*:\d+/g) : reply));
    });
  });
});

describe("subscribed mode", () => {
  test("RESP2 allows only (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PING, QUIT and RESET", async () => {
    await sameOnBoth(o, async (side) => {
      const c = await side.connect();
      const seen: string[] = [await send(c, 1, "SUBSCRIBE", "x")];
      for (const cmd of [
        ["GET", "k"],
        ["SET", "k", "v"],
        ["PUBLISH", "x", "m"],
        ["SPUBLISH", "x", "m"],
        ["PUBSUB", "NUMPAT"],
        ["CLIENT", "LIST"],
        ["CLIENT", "NOPE"],
        ["HELLO", "3"],
        ["SELECT", "1"],
        ["GET"],
        ["NOSUCHCOMMAND"],
        ["PING"],
        ["PING", "hi"],
        ["PING", "a", "b"],
      ]) {
        seen.push(await c.call(...cmd));
      }
      seen.push(await send(c, 1, "PSUBSCRIBE", "p*"), await send(c, 1, "SSUBSCRIBE", "s"), await send(c, 1, "SUNSUBSCRIBE", "s"));
      seen.push(await c.call("RESET"), await c.call("GET", "k"), await c.call("PING"));
      seen.push(await send(c, 1, "SUBSCRIBE", "y"), await c.call("QUIT"));
      return seen;
    });
  });

  test("RESP3 runs anything while subscribed; HELLO 2 brings the restrictions back", async () => {
    await sameOnBoth(o, async (side) => {
      const c = await connectWith(side, 3);
      const seen: string[] = [await send(c, 1, "SUBSCRIBE", "x")];
      for (const cmd of [["SET", "k", "v"], ["GET", "k"], ["PING"], ["PING", "hi"], ["PUBSUB", "NUMSUB", "x"]]) seen.push(await c.call(...cmd));
      const hello = await c.call("HELLO", "2");
      seen.push(hello.replace(/:\d+\r\n\$4\r\nmode/, ":ID\r\n$4\r\nmode"));
      seen.push(await c.call("GET", "k"), await c.call("HELLO", "3"), await c.call("PING"));
      return seen;
    });
  });

  test("RESET leaves every subscription silently; CLIENT LIST shows flag P while subscribed", async () => {
    await sameOnBoth(o, async (side) => {
      const [c, admin] = [await connectWith(side, 3), await side.connect()];
      await send(c, 2, "SUBSCRIBE", "a", "b");
      await send(c, 1, "PSUBSCRIBE", "*");
      await send(c, 1, "SSUBSCRIBE", "s");
      const flags = (text: string) => [...text.matchAll(/flags=(\w+) db=\d+ sub=(\d+) psub=(\d+) ssub=(\d+)/g)].map((m) => m.slice(1).join(" ")).sort();
      const seen: unknown[] = [flags(await admin.call("CLIENT", "LIST"))];
      seen.push(await c.call("RESET"));
      seen.push(flags(await admin.call("CLIENT", "LIST")));
      seen.push(await admin.call("PUBLISH", "a", "m"), await admin.call("PUBSUB", "NUMPAT"), await admin.call("SPUBLISH", "s", "m"));
      seen.push(await c.call("GET", "k"), await send(c, 1, "UNSUBSCRIBE"));
      return seen;
    });
  });
});

describe("transactions", () => {
  for (const proto of PROTOCOLS) {
    test(`RESP${proto}: EXEC may SUBSCRIBE and PSUBSCRIBE but not SSUBSCRIBE; MULTI is refused while subscribed in RESP2`, async () => {
      await sameOnBoth(o, async (side) => {
        const c = await connectWith(side, proto);
        const pub = await side.connect();
        c.write(Buffer.concat([["MULTI"], ["SSUBSCRIBE", "s"], ["SUBSCRIBE", "x"], ["PSUBSCRIBE", "p*"], ["PUBLISH", "x", "m"], ["EXEC"]].map((cmd) => encodeCommand(cmd))));
        // The message PUBLISH sends the client itself lands among EXEC's items, where Redis
        // appends it too, so a reader sees one reply more after the array.
        const seen = [await c.readReplies(7)];
        seen.push(await pub.call("PUBLISH", "x", "after"), await c.readReplies(1));
        seen.push(await c.call("MULTI"), await c.call("PING"));
        return seen;
      });
    });
  }
});

describe("client libraries", () => {
  test("Bun's RedisClient (RESP3) receives messages from both servers alike", async () => {
    const [want, got] = await Promise.all(
      [o.redis.port, o.redbun.port].map(async (port) => {
        const client = new RedisClient(`redis://127.0.0.1:${port}`, { autoReconnect: false });
        const publisher = await RespConn.connect(port);
        try {
          const received: [string, string][] = [];
          const { promise: allThree, resolve } = Promise.withResolvers<void>();
          await client.subscribe(["bun:a", "bun:b"], (message, channel) => {
            received.push([channel, message]);
            if (received.length === 3) resolve();
          });
          const counts = [
            await publisher.call("PUBLISH", "bun:a", "first"),
            await publisher.call("PUBLISH", "bun:b", Buffer.from("caf\u00e9 \u2615", "utf8").toString("latin1")),
            await publisher.call("PUBLISH", "bun:a", "third"),
          ];
          await allThree;
          await client.unsubscribe("bun:a");
          return { counts, received, after: await publisher.call("PUBSUB", "NUMSUB", "bun:a", "bun:b") };
        } finally {
          client.close();
          publisher.close();
        }
      }),
    );
    expect(got).toEqual(want);
    expect(got.received[1]).toEqual(["bun:b", "caf\u00e9 \u2615"]);
  });

  test("ioredis (RESP2) pattern subscription with binary messages", async () => {
    const binary = Buffer.from([0xff, 0x00, 0x0d, 0x0a, 0x80]);
    const [want, got] = await Promise.all(
      [o.redis.port, o.redbun.port].map(async (port) => {
        const sub = new Redis({ port, host: "127.0.0.1", lazyConnect: true });
        const pub = new Redis({ port, host: "127.0.0.1", lazyConnect: true });
        await Promise.all([sub.connect(), pub.connect()]);
        try {
          const received: [string, string, string][] = [];
          const { promise: both, resolve } = Promise.withResolvers<void>();
          sub.on("pmessageBuffer", (pattern: Buffer, channel: Buffer, message: Buffer) => {
            received.push([pattern.toString("hex"), channel.toString("hex"), message.toString("hex")]);
            if (received.length === 2) resolve();
          });
          const count = await sub.psubscribe("io:*");
          const receivers = [await pub.publish("io:bin", binary), await pub.publish(Buffer.from("io:\xff", "latin1"), "text"), await pub.publish("other", "x")];
          await both;
          return { count, receivers, received };
        } finally {
          sub.disconnect();
          pub.disconnect();
        }
      }),
    );
    expect(got).toEqual(want);
    expect(got.received[0]![2]).toBe(binary.toString("hex"));
  });
});

// ---------------------------------------------------------------------------------------
// client-output-buffer-limit, on servers whose logs the test reads
// ---------------------------------------------------------------------------------------

describe("client-output-buffer-limit", () => {
  let servers: LoggedServer[];
  beforeAll(async () => {
    servers = await Promise.all([spawnReady("redis"), spawnReady("redbun")]);
  });
  afterAll(async () => {
    for (const s of servers) await s[Symbol.asyncDispose]();
  });

  /** Run a scenario on both logged servers at once. */
  function onBothLogged<T>(scenario: (s: LoggedServer) => Promise<T>): Promise<T[]> {
    return Promise.all(servers.map(scenario));
  }

  /**
   * A subscriber that stops reading (unless `subscribe` is false), and a publisher that sends
   * `count` messages of `size` bytes.
   */
  async function flood(s: LoggedServer, channel: string, count: number, size: number, subscribe = true): Promise<{ sub: RespConn; admin: RespConn; receivers: number }> {
    const [sub, admin] = [await s.connect(), await s.connect()];
    if (subscribe) await sub.call("SUBSCRIBE", channel);
    sub.pause();
    const batch = Buffer.concat(Array.from({ length: 100 }, () => encodeCommand(["PUBLISH", channel, "m".repeat(size)])));
    let receivers = 0;
    for (let sent = 0; sent < count; sent += 100) {
      admin.write(batch);
      receivers += (await admin.readReplies(100)).split(":1\r\n").length - 1;
    }
    return { sub, admin, receivers };
  }

  test("a subscriber that stops reading is disconnected at the hard limit; the server logs it", async () => {
    const results = await onBothLogged(async (s) => {
      const admin = await s.connect();
      await admin.call("CONFIG", "SET", "client-output-buffer-limit", "pubsub 2mb 0 0");
      const { sub, receivers } = await flood(s, "hard", 20_000, 1000);
      await numsubBecomes(admin, "hard", 0);
      await s.waitForLog(/Client id=\d+ addr=\S+ laddr=\S+ fd=\d+ name= age=\d+ idle=\d+ flags=P db=0 sub=1 psub=0 ssub=0 .* cmd=subscribe user=default redir=-1 resp=2 scheduled to be closed ASAP for overcoming of output buffer limits\./);
      sub.resume();
      const got = await sub.readUntilClosed();
      sub.close();
      // What reached the subscriber before the close is whole messages from the start.
      return { closed: true, deliveredBeforeLimit: receivers < 20_000, prefixIsMessages: got.startsWith("*3\r\n$7\r\nmessage\r\n") };
    });
    expect(results[1]).toEqual(results[0]!);
  });

  test("the soft limit disconnects after its seconds, from the cron", async () => {
    const results = await onBothLogged(async (s) => {
      const admin = await s.connect();
      await admin.call("CONFIG", "SET", "client-output-buffer-limit", "pubsub 0 256kb 1");
      const started = Date.now();
      // Well past what the kernel's socket buffers take, so that output stays pending.
      const { sub } = await flood(s, "soft", 8000, 1000);
      const stillThere = decodeReply(await admin.call("PUBSUB", "NUMSUB", "soft"));
      await numsubBecomes(admin, "soft", 0);
      const seconds = (Date.now() - started) / 1000;
      await s.waitForLog(/Client id=\d+ .* flags=P .* (closed|scheduled to be closed ASAP) for overcoming of output buffer limits\./);
      sub.close();
      return { stillThere, withinLimits: seconds >= 1 && seconds < 4 };
    });
    expect(results[1]).toEqual(results[0]!);
    expect(results[0]).toEqual({ stillThere: ["soft", 1], withinLimits: true });
  }, 15000);

  test("normal clients: a pipelined reader that stops reading, under a normal limit", async () => {
    const results = await onBothLogged(async (s) => {
      const [c, admin] = [await s.connect(), await s.connect()];
      const id = (await c.call("CLIENT", "ID")).slice(1, -2);
      await admin.call("CONFIG", "SET", "client-output-buffer-limit", "normal 1mb 0 0");
      await admin.call("SET", "big", "v".repeat(1024 * 1024));
      c.pause();
      c.write(Buffer.concat(Array.from({ length: 32 }, () => encodeCommand(["GET", "big"]))));
      const deadline = Date.now() + 10000;
      let listed = true;
      while (listed && Date.now() < deadline) {
        listed = (await admin.call("CLIENT", "LIST", "ID", id)).includes(`id=${id} `);
        await Bun.sleep(10);
      }
      await admin.call("CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0");
      admin.close();
      c.close();
      return listed;
    });
    expect(results).toEqual([false, false]);
  });

  test("redbun stays memory-bounded while a publisher floods a subscriber that never reads", async () => {
    const redbun = servers[1]!;
    const rssMb = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${redbun.proc.pid}/status`, "utf8"))![1]) / 1024;
    let rssAfterFirst = 0;
    const results = await onBothLogged(async (s) => {
      const admin = await s.connect();
      // Redis's default for pubsub clients: 32mb hard, 8mb soft for 60 seconds.
      await admin.call("CONFIG", "SET", "client-output-buffer-limit", "pubsub 32mb 8mb 60");
      const { sub, receivers } = await flood(s, "flood", 20_000, 8000);
      const numsub = decodeReply(await admin.call("PUBSUB", "NUMSUB", "flood"));
      if (s === redbun) rssAfterFirst = rssMb();
      // Twice as much again, to nobody: memory must not grow with what was published.
      await flood(s, "nobody", 40_000, 8000, false);
      sub.close();
      // 160 MB published to the stalled subscriber, about 32 MB (plus the kernel's socket buffers) delivered.
      return { numsub, cutOff: receivers * 8000 < 64 * 1024 * 1024 };
    });
    expect(results[1]).toEqual(results[0]!);
    expect(results[0]).toEqual({ numsub: ["flood", 0], cutOff: true });
    expect(rssMb() - rssAfterFirst).toBeLessThan(100);
  }, 20000);
});
