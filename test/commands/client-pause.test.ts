// CLIENT PAUSE and CLIENT UNPAUSE against the real redis-server 7.0. Each scenario runs on
// both servers at once over its own connections, and what the clients saw (replies, the
// held client's CLIENT LIST fields, INFO counters) is compared; timings are checked on each
// server against the pause asked for. Nothing sleeps to wait for a reply: tests wait for the
// reply, or poll CLIENT LIST until the server shows the client held.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { Oracle, RespConn, encodeCommand } from "../oracle/harness.ts";
import { type Side, onBoth as onBothServers, sameOnBoth as sameOnBothServers } from "../oracle/sides.ts";

let o: Oracle;
beforeAll(async () => {
  o = await Oracle.start();
});
afterAll(() => o.stop());
beforeEach(async () => {
  await o.same("CLIENT", "UNPAUSE");
  await o.same("FLUSHALL");
});

/** Run a scenario on both servers at once; returns what it returned on [redis, redbun]. */
function onBoth<T>(scenario: (side: Side) => Promise<T>): Promise<[T, T]> {
  return onBothServers(o, scenario);
}

/** Run a scenario on both servers and expect it to have seen the same things on each. */
function sameOnBoth<T>(scenario: (side: Side) => Promise<T>): Promise<T> {
  return sameOnBothServers(o, scenario);
}

function pipeline(...commands: string[][]): Uint8Array {
  return Buffer.concat(commands.map((args) => encodeCommand(args)));
}

async function clientId(conn: RespConn): Promise<string> {
  return (await conn.call("CLIENT", "ID")).slice(1, -2);
}

/** The text of a RESP2 bulk reply (CLIENT LIST, INFO). */
function bulkText(reply: string): string {
  const header = reply.indexOf("\r\n");
  return reply.slice(header + 2, reply.length - 2);
}

/** A field of a CLIENT LIST line. */
function field(line: string, name: string): string {
  return new RegExp(`(?:^| )${name}=(\\S*)`).exec(line)![1]!;
}

async function infoField(conn: RespConn, name: string): Promise<string> {
  return new RegExp(`(?:^|\\r\\n)${name}:([^\\r]*)`).exec(await conn.call("INFO", "everything"))![1]!;
}

/** CLIENT LIST's line for client `id`, asked on `probe` until `until(line)` holds. */
async function clientLineWhen(probe: RespConn, id: string, until: (line: string) => boolean): Promise<string> {
  const deadline = Date.now() + 2000;
  for (;;) {
    const line = bulkText(await probe.call("CLIENT", "LIST", "ID", id));
    if (until(line)) return line;
    if (Date.now() > deadline) throw new Error(`client ${id} never matched; last seen: ${line}`);
  }
}

/** Wait until client `id` is held by the pause; returns what CLIENT LIST shows of it. */
async function heldLine(probe: RespConn, id: string): Promise<string> {
  const line = await clientLineWhen(probe, id, (l) => field(l, "flags").includes("b"));
  return ["flags", "cmd", "qbuf", "argv-mem", "db", "multi"].map((k) => `${k}=${field(line, k)}`).join(" ");
}

/** Wait until client `id` is gone from CLIENT LIST. */
async function gone(probe: RespConn, id: string): Promise<void> {
  await clientLineWhen(probe, id, (l) => l === "");
}

/**
 * On a new pair of connections: `admin` pauses writes for a minute, then `writer` sends
 * `commands` and is waited for until held. `held` is what CLIENT LIST shows of it.
 */
async function holdWriter(side: Side, ...commands: string[][]) {
  const admin = await side.connect();
  const writer = await side.connect();
  const writerId = await clientId(writer);
  const pause = await admin.call("CLIENT", "PAUSE", "60000", "WRITE");
  writer.write(pipeline(...commands));
  const held = await heldLine(admin, writerId);
  return { admin, writer, writerId, pause, held };
}

/**
 * Whether a write sent now by `writer` is held ("held") or runs ("ran"): the write is sent,
 * then the server is asked until it has either answered it or shows the writer held.
 */
async function writeFate(probe: RespConn, writer: RespConn, writerId: string): Promise<"held" | "ran"> {
  writer.write(encodeCommand(["SET", "probe", "v"]));
  await clientLineWhen(probe, writerId, (l) => writer.bufferedBytes > 0 || field(l, "flags").includes("b"));
  // A held client stays unanswered until the pause ends, so no reply means held.
  return writer.bufferedBytes > 0 ? "ran" : "held";
}

/**
 * Both servers gave the same replies, and each answered about `pauseMs` after the request:
 * not sooner (less a little for timer granularity), nor absurdly later.
 */
function expectSameAfter<T extends { waitedMs: number }>(redis: T, redbun: T, pauseMs: number): void {
  expect({ ...redbun, waitedMs: 0 }).toEqual({ ...redis, waitedMs: 0 });
  for (const side of [redis, redbun]) {
    expect(side.waitedMs).toBeGreaterThanOrEqual(pauseMs - 50);
    expect(side.waitedMs).toBeLessThan(pauseMs + 3000);
  }
}

describe("CLIENT PAUSE arguments", () => {
  // ALL pauses that would really hold everything are left to the tests below: here every
  // ALL pause must leave the server free (an error, a zero timeout, or an overflowing one).
  const cases: string[][] = [
    [], ["abc"], ["-1"], ["1.5"], [" 1"], ["+1"], ["01"], ["-0"], [""], ["0x10"],
    ["9223372036854775808"], ["-9223372036854775809"], ["99999999999999999999"],
    ["1", "foo"], ["abc", "foo"], ["-1", "foo"], ["1", ""], ["1", "WRITE", "x"], ["1", "ALL", "ALL"], ["abc", "WRITE", "x"],
    ["0"], ["0", "ALL"], ["0", "all"], ["0", "WRITE"],
    ["9223372036854775807"], ["9223372036854775807", "ALL"], ["9223372036854000000", "all"], ["9223372036854775807", "WRITE"],
    ["60000", "WRITE"], ["60000", "wRiTe"], ["9223370000000000000", "WRITE"], ["9223000000000000000", "write"],
  ];

  for (const args of cases) {
    test(`CLIENT PAUSE ${args.map((a) => JSON.stringify(a)).join(" ")}`, async () => {
      await sameOnBoth(async (side) => {
        const issuer = await side.connect();
        const writer = await side.connect();
        const writerId = await clientId(writer);
        const reply = await issuer.call("CLIENT", "PAUSE", ...args);
        const fate = await writeFate(issuer, writer, writerId);
        const unpause = await issuer.call("CLIENT", "UNPAUSE");
        const written = await writer.read();
        return { reply, fate, unpause, written };
      });
    });
  }

  test("CLIENT UNPAUSE arguments and wrong arities", async () => {
    await o.sameAll([["CLIENT", "UNPAUSE", "x"], ["CLIENT", "unpause"], ["CLIENT", "UNPAUSE"], ["client", "pause"], ["CLIENT", "PAUSE", "1", "2", "3", "4"]]);
  });
});

describe("what a pause holds", () => {
  test("a WRITE pause holds SET, reads go on, and CLIENT LIST and INFO show the held client", async () => {
    await sameOnBoth(async (side) => {
      // The PING answers; the SET behind it waits with the GET and PING behind it.
      const { admin, writer, writerId, pause, held } = await holdWriter(side, ["PING"], ["SET", "k", "v"], ["GET", "k"], ["PING", "after"]);
      const reader = await side.connect();
      const seen = [pause, held, await writer.read()];
      seen.push(await infoField(admin, "blocked_clients"));
      seen.push(await reader.call("GET", "k"));
      seen.push(await reader.call("EXISTS", "k"));
      // The pause holds only clients that try to write; the issuer reads on too.
      seen.push(await admin.call("GET", "k"));
      seen.push(String(writer.bufferedBytes));
      seen.push(await admin.call("CLIENT", "UNPAUSE"));
      seen.push(await writer.readReplies(3));
      seen.push(await infoField(admin, "blocked_clients"));
      seen.push(field(bulkText(await admin.call("CLIENT", "LIST", "ID", writerId)), "flags"));
      seen.push(await reader.call("GET", "k"));
      return seen;
    });
  });

  test("a WRITE pause holds the issuer's own writes", async () => {
    const [redis, redbun] = await onBoth(async (side) => {
      const admin = await side.connect();
      const probe = await side.connect();
      const adminId = await clientId(admin);
      const pause = await admin.call("CLIENT", "PAUSE", "60000", "WRITE");
      admin.write(encodeCommand(["SET", "own", "1"]));
      const held = await heldLine(probe, adminId);
      await probe.call("CLIENT", "UNPAUSE");
      return { pause, held, set: await admin.read(), get: await probe.call("GET", "own") };
    });
    expect(redbun).toEqual(redis);
    expect(redis.held).toContain("flags=b cmd=set");
  });

  test("an ALL pause holds reads, the issuer's own commands and CLIENT UNPAUSE itself, until it times out", async () => {
    const pauseMs = 300;
    const [redis, redbun] = await onBoth(async (side) => {
      const admin = await side.connect();
      const reader = await side.connect();
      await admin.call("SET", "k", "v");
      const pause = await admin.call("CLIENT", "PAUSE", String(pauseMs));
      const sent = performance.now();
      const [get, unpause] = await Promise.all([reader.call("GET", "k"), admin.call("CLIENT", "UNPAUSE")]);
      return { pause, get, unpause, waitedMs: performance.now() - sent };
    });
    expectSameAfter(redis, redbun, pauseMs);
  });

  test("rejected commands answer at once during an ALL pause: unknown, wrong arity, NOAUTH", async () => {
    const pauseMs = 500;
    const [redis, redbun] = await onBoth(async (side) => {
      const admin = await side.connect();
      await admin.call("CONFIG", "SET", "requirepass", "secret");
      const stranger = await side.connect();
      const pause = await admin.call("CLIENT", "PAUSE", String(pauseMs), "ALL");
      const sent = performance.now();
      // Errors that the command itself gives (CLIENT PAUSE 1 2 3) wait like any command.
      const rejected = [["NOPE", "x"], ["SET", "k"], ["CLIENT", "NOPE"], ["CLIENT"], ["GET"]];
      admin.write(pipeline(...rejected, ["PING"]));
      stranger.write(pipeline(["GET", "k"], ["AUTH", "secret"]));
      const replies = [await admin.readReplies(rejected.length), await stranger.read()];
      // The PING and AUTH behind them are held: had the errors waited for the pause's end,
      // those replies would have come with them.
      const heldBehind = [admin.bufferedBytes, stranger.bufferedBytes];
      const answeredMs = performance.now() - sent;
      replies.push(await admin.read(), await stranger.read());
      await admin.call("CONFIG", "SET", "requirepass", "");
      return { pause, replies, heldBehind, answeredMs };
    });
    expect({ ...redbun, answeredMs: 0 }).toEqual({ ...redis, answeredMs: 0 });
    expect(redis.heldBehind).toEqual([0, 0]);
    for (const side of [redis, redbun]) expect(side.answeredMs).toBeLessThan(pauseMs);
  });

  test("UNPAUSE releases a held write at once", async () => {
    const [redis, redbun] = await onBoth(async (side) => {
      const { admin, writer } = await holdWriter(side, ["SET", "k", "v"]);
      const sent = performance.now();
      admin.write(encodeCommand(["CLIENT", "UNPAUSE"]));
      const set = await writer.read();
      return { set, unpause: await admin.read(), waitedMs: performance.now() - sent };
    });
    expect(redbun.set).toBe(redis.set);
    expect(redbun.unpause).toBe(redis.unpause);
    for (const side of [redis, redbun]) expect(side.waitedMs).toBeLessThan(1000);
  });

  test("a WRITE pause released by its timeout answers after about the pause", async () => {
    const pauseMs = 250;
    const [redis, redbun] = await onBoth(async (side) => {
      const admin = await side.connect();
      const writer = await side.connect();
      const pause = await admin.call("CLIENT", "PAUSE", String(pauseMs), "WRITE");
      const sent = performance.now();
      const set = await writer.call("SET", "k", "v");
      return { pause, set, waitedMs: performance.now() - sent };
    });
    expectSameAfter(redis, redbun, pauseMs);
  });

  test("a stricter pause turns a WRITE pause into an ALL pause until the later end", async () => {
    const pauseMs = 400;
    const [redis, redbun] = await onBoth(async (side) => {
      const admin = await side.connect();
      const reader = await side.connect();
      const first = await admin.call("CLIENT", "PAUSE", String(pauseMs), "WRITE");
      const sent = performance.now();
      // A shorter ALL pause does not shorten the pause, and a zero one still makes it ALL.
      const second = await admin.call("CLIENT", "PAUSE", "0", "ALL");
      const get = await reader.call("GET", "k");
      return { first, second, get, waitedMs: performance.now() - sent };
    });
    expectSameAfter(redis, redbun, pauseMs);
  });
});

describe("held clients", () => {
  test("pipelined commands behind a held one keep their order, and held clients go in the order they were held", async () => {
    await sameOnBoth(async (side) => {
      const admin = await side.connect();
      const first = await side.connect();
      const second = await side.connect();
      const [firstId, secondId] = [await clientId(first), await clientId(second)];
      const seen: string[] = [];
      seen.push(await admin.call("CLIENT", "PAUSE", "60000", "WRITE"));
      first.write(pipeline(["GET", "k"], ["APPEND", "k", "a"], ["GET", "k"], ["APPEND", "k", "b"]));
      seen.push(await first.read());
      seen.push(await heldLine(admin, firstId));
      // More commands arrive while the client is held: they queue behind the held one.
      first.write(pipeline(["GET", "k"], ["INCR", "n"], ["PING"]));
      second.write(pipeline(["APPEND", "k", "X"], ["GET", "k"]));
      seen.push(await heldLine(admin, secondId));
      seen.push(await admin.call("GET", "k"));
      seen.push(await admin.call("CLIENT", "UNPAUSE"));
      seen.push(await first.readReplies(6));
      seen.push(await second.readReplies(2));
      seen.push(await admin.call("GET", "k"));
      return seen;
    });
  });

  test("a held client that disconnects leaves no trace, and its command never runs", async () => {
    await sameOnBoth(async (side) => {
      const admin = await side.connect();
      const quitter = await side.connect();
      const stayer = await side.connect();
      const [quitterId, stayerId] = [await clientId(quitter), await clientId(stayer)];
      const seen: string[] = [];
      seen.push(await admin.call("CLIENT", "PAUSE", "60000", "WRITE"));
      quitter.write(pipeline(["SET", "gone", "v"], ["SET", "gone2", "v"]));
      stayer.write(encodeCommand(["SET", "stays", "v"]));
      await heldLine(admin, quitterId);
      await heldLine(admin, stayerId);
      seen.push(await infoField(admin, "blocked_clients"));
      quitter.close();
      await gone(admin, quitterId);
      seen.push(await infoField(admin, "blocked_clients"));
      seen.push(await infoField(admin, "connected_clients"));
      seen.push(await admin.call("CLIENT", "UNPAUSE"));
      seen.push(await stayer.read());
      seen.push(await admin.call("EXISTS", "gone", "gone2", "stays"));
      seen.push(await infoField(admin, "blocked_clients"));
      return seen;
    });
  });

  test("a held client killed with CLIENT KILL goes the same way", async () => {
    await sameOnBoth(async (side) => {
      const { admin, writer: victim, writerId: victimId } = await holdWriter(side, ["SET", "gone", "v"]);
      const seen: string[] = [];
      seen.push(await admin.call("CLIENT", "KILL", "ID", victimId));
      seen.push(await victim.readUntilClosed());
      seen.push(await infoField(admin, "blocked_clients"));
      seen.push(await admin.call("CLIENT", "UNPAUSE"));
      seen.push(await admin.call("EXISTS", "gone"));
      return seen;
    });
  });

  test("a held command is counted once, when it runs", async () => {
    await sameOnBoth(async (side) => {
      await (await side.connect()).call("CONFIG", "RESETSTAT");
      // The dispatch that postpones the command counts nothing; the one that runs it does.
      const { admin, writer } = await holdWriter(side, ["SET", "k", "v"]);
      const during = /cmdstat_set:calls=(\d+)/.exec(await admin.call("INFO", "commandstats"))?.[1] ?? "none";
      await admin.call("CLIENT", "UNPAUSE");
      await writer.read();
      const after = /cmdstat_set:calls=(\d+)/.exec(await admin.call("INFO", "commandstats"))?.[1] ?? "none";
      return { during, after };
    });
  });
});

describe("expiry during a pause", () => {
  test("active expiry deletes nothing while clients are paused", async () => {
    await sameOnBoth(async (side) => {
      const admin = await side.connect();
      await admin.call("CONFIG", "RESETSTAT");
      // The keys and the pause go in one write, so no expiry cycle runs between them.
      const keys = Array.from({ length: 50 }, (_, i) => ["SET", `ttl:${i}`, "v", "PX", "5"]);
      admin.write(pipeline(...keys, ["CLIENT", "PAUSE", "60000", "WRITE"]));
      await admin.readReplies(keys.length + 1);
      // What is tested here is time passing with expired keys nobody reads: several cron
      // ticks (hz 10) in which an unpaused server would delete them.
      await Bun.sleep(350);
      const during = [await admin.call("DBSIZE"), await infoField(admin, "expired_keys")];
      await admin.call("CLIENT", "UNPAUSE");
      return during;
    });
  });

  // Redis reports a key whose time has passed as missing during a pause, but leaves it in
  // place (db.c expireIfNeeded).
  test("lazy expiry during a WRITE pause hides the key without deleting it", async () => {
    await sameOnBoth(async (side) => {
      const admin = await side.connect();
      await admin.call("CONFIG", "RESETSTAT");
      admin.write(pipeline(["SET", "lazy", "v", "PX", "5"], ["CLIENT", "PAUSE", "60000", "WRITE"]));
      await admin.readReplies(2);
      await Bun.sleep(20);
      const seen = [await admin.call("GET", "lazy"), await admin.call("EXISTS", "lazy"), await admin.call("DBSIZE"), await infoField(admin, "expired_keys")];
      await admin.call("CLIENT", "UNPAUSE");
      return seen;
    });
  });
});
