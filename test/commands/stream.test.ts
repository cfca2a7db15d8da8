// Stream commands against the real redis-server 7.0: every reply byte for byte, errors
// included, in RESP2 and RESP3, across many listpack nodes (small stream-node-max-*
// settings), with deletions and trims that flag entries or drop whole nodes; blocking
// XREAD over real connections.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { Oracle, type RespConn, encodeCommand } from "../oracle/harness.ts";

let o: Oracle;
let r3: [RespConn, RespConn];

beforeAll(async () => {
  o = await Oracle.start(["--enable-debug-command", "yes"]);
  r3 = await o.connectResp3();
});
afterAll(() => o.stop());
beforeEach(async () => {
  await o.sameAll([["FLUSHALL"], ["CONFIG", "SET", "stream-node-max-entries", "100"], ["CONFIG", "SET", "stream-node-max-bytes", "4096"]]);
});

async function same3(...args: string[]): Promise<string> {
  const [want, got] = await Promise.all([r3[0].call(...args), r3[1].call(...args)]);
  if (want !== got) throw new Error(`RESP3 reply differs for ${JSON.stringify(args)}\n  redis:  ${JSON.stringify(want)}\n  redbun: ${JSON.stringify(got)}`);
  return want;
}

async function sameBoth(...args: string[]): Promise<void> {
  await o.same(...args);
  await same3(...args);
}

/** Everything observable about stream `key`: info, contents both ways, digest, encoding. */
async function sameStream(key: string): Promise<void> {
  await sameBoth("XINFO", "STREAM", key);
  await sameBoth("XINFO", "STREAM", key, "FULL", "COUNT", "0");
  await sameBoth("XRANGE", key, "-", "+");
  await sameBoth("XREVRANGE", key, "+", "-");
  await o.same("XLEN", key);
  await o.same("DEBUG", "DIGEST-VALUE", key);
  await o.same("OBJECT", "ENCODING", key);
  await o.same("TYPE", key);
}

async function fill(key: string, n: number, fields = (i: number) => ["f", `v${i}`, "g", String(i)]): Promise<void> {
  for (let i = 1; i <= n; i++) await o.same("XADD", key, `${i}-${i % 3}`, ...fields(i));
}

describe("XADD", () => {
  test("explicit, partial and automatic IDs", async () => {
    await o.same("XADD", "s", "1-1", "a", "1");
    await o.same("XADD", "s", "1-*", "b", "2");
    await o.same("XADD", "s", "2-*", "c", "3");
    await o.same("XADD", "s", "3", "d", "4");
    await sameStream("s");
    const [want, got] = await o.both("XADD", "auto", "*", "x", "y");
    expect(got).toMatch(/^\$\d+\r\n\d{13}-0\r\n$/);
    expect(want).toMatch(/^\$\d+\r\n\d{13}-0\r\n$/);
    await o.same("XLEN", "auto");
  });

  test("ID errors", async () => {
    await o.sameAll([
      ["XADD", "s", "5-5", "a", "1"],
      ["XADD", "s", "5-5", "a", "1"],
      ["XADD", "s", "5-4", "a", "1"],
      ["XADD", "s", "4-*", "a", "1"],
      ["XADD", "s", "0-0", "a", "1"],
      ["XADD", "new", "0", "a", "1"],
      ["XADD", "new", "0-*", "a", "1"],
      ["XADD", "s", "abc", "a", "1"],
      ["XADD", "s", "1-2-3", "a", "1"],
      ["XADD", "s", "-", "a", "1"],
      ["XADD", "s", "+", "a", "1"],
      ["XADD", "s", "-1", "a", "1"],
      ["XADD", "s", "6-", "a", "1"],
      ["XADD", "s", " 7", "a", "1"],
      ["XADD", "s", "08-01", "a", "1"],
      ["XADD", "s", "18446744073709551615-18446744073709551614", "a", "1"],
      ["XADD", "s", "18446744073709551615-*", "a", "1"],
      ["XADD", "s", "*", "a", "1"],
      ["XADD", "s", "18446744073709551616-0", "a", "1"],
      ["XADD", "s", "9-1", "a"],
      ["XADD", "s", "9-1"],
      ["XADD", "s", "9-1", "a", "1", "b"],
    ]);
    await sameStream("s");
  });

  test("options", async () => {
    await o.sameAll([
      ["XADD", "s", "NOMKSTREAM", "1-1", "a", "1"],
      ["EXISTS", "s"],
      ["SET", "str", "x"],
      ["XADD", "str", "1-1", "a", "1"],
      ["XADD", "s", "MAXLEN", "-1", "1-1", "a", "1"],
      ["XADD", "s", "MAXLEN", "x", "1-1", "a", "1"],
      ["XADD", "s", "MAXLEN", "1", "MINID", "1", "1-1", "a", "1"],
      ["XADD", "s", "MAXLEN", "1", "LIMIT", "5", "1-1", "a", "1"],
      ["XADD", "s", "LIMIT", "5", "1-1", "a", "1"],
      ["XADD", "s", "LIMIT", "0", "1-1", "a", "1"],
      ["XADD", "s", "MAXLEN", "~", "1", "LIMIT", "-1", "1-1", "a", "1"],
      ["XADD", "s", "MINID", "bad", "1-1", "a", "1"],
      ["XADD", "s", "MAXLEN", "=", "2", "2-1", "a", "1"],
      ["XADD", "s", "MAXLEN", "2", "3-1", "a", "1"],
      ["XADD", "s", "MAXLEN", "2", "4-1", "a", "1"],
      ["XADD", "s", "MINID", "4", "5-1", "a", "1"],
      ["XADD", "s", "NOMKSTREAM", "MINID", "~", "4", "LIMIT", "10", "6-1", "a", "1"],
    ]);
    await sameStream("s");
  });

  test("fields shared with the master entry or not, binary and integer values", async () => {
    await o.same("XADD", "s", "1-1", "a", "1", "b", "2");
    await o.same("XADD", "s", "2-1", "a", "x", "b", "y");
    await o.same("XADD", "s", "3-1", "b", "x", "a", "y");
    await o.same("XADD", "s", "4-1", "a", "x");
    await o.same("XADD", "s", "5-1", "a", "-12345678901234", "b", "\x00\xff bin");
    await o.same("XADD", "s", "6-1", "a", "1".repeat(300), "b", "");
    await sameStream("s");
  });

  test("many nodes by entries and by bytes", async () => {
    await o.sameAll([["CONFIG", "SET", "stream-node-max-entries", "5"]]);
    await fill("s", 37);
    await sameStream("s");
    await o.sameAll([["CONFIG", "SET", "stream-node-max-entries", "0"], ["CONFIG", "SET", "stream-node-max-bytes", "200"]]);
    await fill("t", 40);
    await sameStream("t");
  });
});

describe("XRANGE and XREVRANGE", () => {
  test("bounds, exclusive bounds, incomplete IDs, COUNT", async () => {
    await o.sameAll([["CONFIG", "SET", "stream-node-max-entries", "4"]]);
    await fill("s", 20);
    const cases: string[][] = [
      ["-", "+"], ["5", "9"], ["5-1", "9-0"], ["(5-2", "(9-0"], ["(5", "+"], ["-", "(3"],
      ["(18446744073709551615-18446744073709551615", "+"], ["-", "(0-0"], ["(-", "+"], ["-", "(+"],
      ["x", "+"], ["-", "y"], ["9", "5"], ["(", "+"], ["0", "18446744073709551615"],
    ];
    for (const [a, b] of cases) {
      await sameBoth("XRANGE", "s", a!, b!);
      await sameBoth("XREVRANGE", "s", b!, a!);
    }
    for (const count of ["0", "1", "3", "-1", "100", "x"]) {
      await sameBoth("XRANGE", "s", "-", "+", "COUNT", count);
      await sameBoth("XREVRANGE", "s", "+", "-", "COUNT", count);
    }
    await o.sameAll([["XRANGE", "s", "-", "+", "COUNT"], ["XRANGE", "s", "-", "+", "FOO", "1"], ["XRANGE", "missing", "-", "+"], ["XRANGE", "missing", "x", "+"]]);
  });
});

describe("XDEL XTRIM XSETID", () => {
  test("XDEL flags entries and drops emptied nodes", async () => {
    await o.sameAll([["CONFIG", "SET", "stream-node-max-entries", "3"]]);
    await fill("s", 12);
    await o.same("XDEL", "s", "1-1", "2-2", "3-0", "100-0");
    await sameStream("s");
    await o.same("XDEL", "s", "5-2", "7-1");
    await sameStream("s");
    await o.sameAll([["XDEL", "s", "bad"], ["XDEL", "s", "8-2", "bad"], ["XDEL", "missing", "1-1"]]);
    await sameStream("s");
    for (let i = 1; i <= 12; i++) await o.same("XDEL", "s", `${i}-${i % 3}`);
    await sameStream("s");
  });

  test("XTRIM exact and approximate", async () => {
    await o.sameAll([["CONFIG", "SET", "stream-node-max-entries", "4"]]);
    await fill("s", 30);
    await o.sameAll([
      ["XTRIM", "s", "MAXLEN", "~", "25"],
      ["XTRIM", "s", "MAXLEN", "~", "21"],
      ["XTRIM", "s", "MAXLEN", "23"],
      ["XTRIM", "s", "MINID", "~", "9"],
      ["XTRIM", "s", "MINID", "10-2"],
      ["XTRIM", "s", "MAXLEN", "~", "5", "LIMIT", "4"],
      ["XTRIM", "s", "MAXLEN", "~", "5", "LIMIT", "3"],
      ["XTRIM", "s"],
      ["XTRIM", "s", "FOO", "1"],
      ["XTRIM", "s", "MAXLEN", "1", "extra"],
      ["XTRIM", "s", "LIMIT", "1"],
      ["XTRIM", "missing", "MAXLEN", "1"],
    ]);
    await sameStream("s");
    await o.same("XTRIM", "s", "MAXLEN", "0");
    await sameStream("s");
  });

  test("approximate trims without LIMIT do at most 100 nodes' worth, 10000 entries when nodes are unbounded", async () => {
    await o.sameAll([["CONFIG", "SET", "stream-node-max-entries", "0"]]);
    const conns = await o.connectBoth();
    const adds = Buffer.concat(Array.from({ length: 12000 }, (_, i) => encodeCommand(["XADD", "s", `${i + 1}-1`, "f", "v"])));
    for (const conn of conns) conn.write(adds);
    await Promise.all(conns.map((conn) => conn.readReplies(12000)));
    for (const conn of conns) conn.close();
    await o.sameAll([["XTRIM", "s", "MAXLEN", "~", "0"], ["XLEN", "s"], ["CONFIG", "SET", "stream-node-max-entries", "2"]]);
    await o.sameAll([["XTRIM", "s", "MAXLEN", "~", "0"], ["XLEN", "s"]]);
    await sameStream("s");
  });

  test("XSETID", async () => {
    await fill("s", 5);
    await o.same("XDEL", "s", "3-0");
    await o.sameAll([
      ["XSETID", "s", "1-0"],
      ["XSETID", "s", "5-2"],
      ["XSETID", "s", "10-0", "ENTRIESADDED", "3"],
      ["XSETID", "s", "10-0", "ENTRIESADDED", "-1"],
      ["XSETID", "s", "10-0", "MAXDELETEDID", "11-0"],
      ["XSETID", "s", "10-0", "MAXDELETEDID", "2-0"],
      ["XSETID", "s", "20-0", "ENTRIESADDED", "100", "MAXDELETEDID", "15-0"],
      ["XSETID", "s", "16-0"],
      // Redis 7.0 lets the last ID go below the greatest deleted one, and MAXDELETEDID lower it.
      ["XADD", "s", "25-0", "a", "1"],
      ["XDEL", "s", "25-0"],
      ["XSETID", "s", "22-0"],
      ["XSETID", "s", "23-0", "MAXDELETEDID", "21-0"],
      ["XSETID", "s", "x"],
      ["XSETID", "s", "30-0", "FOO"],
      ["XSETID", "missing", "1-1"],
      ["XADD", "s", "19-0", "a", "1"],
    ]);
    await sameStream("s");
  });
});

describe("XINFO and XREAD", () => {
  test("XINFO forms", async () => {
    await fill("s", 3);
    await o.sameAll([
      ["XINFO", "HELP"],
      ["XINFO", "STREAM", "missing"],
      ["XINFO", "STREAM", "s", "FULL", "COUNT"],
      ["XINFO", "STREAM", "s", "FOO"],
      ["XINFO", "STREAM", "s", "FULL", "COUNT", "1"],
      ["XINFO", "STREAM", "s", "FULL", "COUNT", "-5"],
      ["XINFO", "GROUPS", "s"],
      ["XINFO", "CONSUMERS", "s", "g"],
    ]);
  });

  test("XREAD without blocking", async () => {
    await fill("a", 5);
    await fill("b", 2);
    const cases: string[][] = [
      ["STREAMS", "a", "0"],
      ["COUNT", "2", "STREAMS", "a", "b", "0", "1-1"],
      ["STREAMS", "a", "b", "$", "$"],
      ["STREAMS", "a", "missing", "3", "0"],
      ["STREAMS", "a"],
      ["STREAMS", "a", "b", "0"],
      ["STREAMS", "a", ">"],
      ["STREAMS", "a", "x"],
      ["GROUP", "g", "c", "STREAMS", "a", "0"],
      ["NOACK", "STREAMS", "a", "0"],
      ["COUNT", "x", "STREAMS", "a", "0"],
      ["BLOCK", "-1", "STREAMS", "a", "0"],
      ["FOO", "STREAMS", "a", "0"],
      ["COUNT", "1"],
      ["BLOCK", "10", "STREAMS", "a", "$"],
    ];
    for (const args of cases) await sameBoth("XREAD", ...args);
  });

  test("blocking XREAD is served by XADD", async () => {
    await fill("a", 2);
    const clients = await o.connectBoth();
    const writers = await o.connectBoth();
    for (let side = 0; side < 2; side++) clients[side]!.write(encodeCommand(["XREAD", "COUNT", "5", "BLOCK", "0", "STREAMS", "x", "a", "$", "$"]));
    await o.same("PING");
    await Promise.all([writers[0].call("XADD", "a", "10-0", "k", "v"), writers[1].call("XADD", "a", "10-0", "k", "v")]);
    const [want, got] = await Promise.all([clients[0].readReplies(1), clients[1].readReplies(1)]);
    expect(got).toBe(want);
    for (let side = 0; side < 2; side++) clients[side]!.write(encodeCommand(["XREAD", "BLOCK", "50", "STREAMS", "a", "$"]));
    const [want2, got2] = await Promise.all([clients[0].readReplies(1), clients[1].readReplies(1)]);
    expect(got2).toBe(want2);
    for (const conn of [...clients, ...writers]) conn.close();
  });
});

describe("blocking XREAD edge cases", () => {
  test("timeouts, missing keys with $, WRONGTYPE, MULTI, several clients in order", async () => {
    const clients = await o.connectBoth();
    const others = await o.connectBoth();
    const writers = await o.connectBoth();
    const both = async (conns: [RespConn, RespConn], ...args: string[]): Promise<void> => {
      for (const conn of conns) conn.write(encodeCommand(args));
    };
    const replies = async (conns: [RespConn, RespConn]): Promise<void> => {
      const [want, got] = await Promise.all([conns[0].readReplies(1), conns[1].readReplies(1)]);
      expect(got).toBe(want);
    };
    await both(clients, "XREAD", "BLOCK", "30", "STREAMS", "missing", "$");
    await replies(clients);
    await both(clients, "XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "new", "$");
    await both(others, "XREAD", "BLOCK", "0", "STREAMS", "new", "0-0");
    await o.same("PING");
    await Promise.all([writers[0].call("XADD", "new", "1-1", "a", "1", "b", "2"), writers[1].call("XADD", "new", "1-1", "a", "1", "b", "2")]);
    await replies(clients);
    await replies(others);
    await o.sameAll([["SET", "str", "x"], ["XREAD", "BLOCK", "0", "STREAMS", "str", "$"]]);
    await o.sameAll([["MULTI"], ["XREAD", "BLOCK", "0", "STREAMS", "new", "$"], ["XREAD", "BLOCK", "0", "STREAMS", "new", "0"], ["EXEC"]]);
    // A write that adds nothing (XDEL) leaves the waiting client blocked until an entry comes.
    await both(clients, "XREAD", "BLOCK", "0", "STREAMS", "new", "$");
    await o.same("PING");
    await o.same("XDEL", "new", "1-1");
    // Nor does XSETID raising the last ID: the next entry added serves it.
    await o.same("XSETID", "new", "1-5");
    await Promise.all([writers[0].call("XADD", "new", "2-1", "a", "1"), writers[1].call("XADD", "new", "2-1", "a", "1")]);
    await replies(clients);
    for (const conn of [...clients, ...others, ...writers]) conn.close();
  });
});

describe("keyspace notifications", () => {
  test("xadd, xtrim, xdel, xsetid and new as Redis sends them", async () => {
    const subs = await o.connectBoth();
    for (const sub of subs) {
      sub.write(encodeCommand(["PSUBSCRIBE", "__key*__:*"]));
      sub.write(encodeCommand(["SUBSCRIBE", "end-of-events"]));
      await sub.readReplies(2);
    }
    await o.same("CONFIG", "SET", "notify-keyspace-events", "KEA");
    await o.sameAll([
      ["XADD", "s", "1-1", "a", "1"],
      ["XADD", "s", "MAXLEN", "1", "2-1", "a", "1"],
      ["XADD", "s", "NOMKSTREAM", "3-1", "a", "1"],
      ["XADD", "nope", "NOMKSTREAM", "3-1", "a", "1"],
      ["XDEL", "s", "3-1", "9-9"],
      ["XDEL", "s", "9-9"],
      ["XTRIM", "s", "MAXLEN", "0"],
      ["XSETID", "s", "10-0"],
      ["PUBLISH", "end-of-events", "x"],
    ]);
    await o.same("CONFIG", "SET", "notify-keyspace-events", "");
    const [want, got] = await Promise.all(
      subs.map(async (sub) => {
        const events: string[] = [];
        for (let m = await sub.read(); !m.includes("end-of-events"); m = await sub.read()) events.push(m);
        return events;
      }),
    );
    expect(got).toEqual(want);
    expect(want.join()).toContain("xsetid");
    for (const sub of subs) sub.close();
  });
});

describe("keyspace integration", () => {
  test("DUMP/RESTORE, COPY, SCAN TYPE, RENAME", async () => {
    await o.sameAll([["CONFIG", "SET", "stream-node-max-entries", "3"]]);
    await fill("s", 10);
    await o.same("XDEL", "s", "4-1");
    const [want, got] = await o.both("DUMP", "s");
    expect(got).toBe(want);
    await o.sameAll([["RESTORE", "r", "0", Buffer.from(bulkOf(want), "latin1") as unknown as string], ["COPY", "s", "c"], ["SET", "str", "x"]]);
    // SCAN's order is the keyspace's own; the set of keys it finds must match.
    const scanned = await o.both("SCAN", "0", "TYPE", "stream", "COUNT", "100");
    const names = scanned.map((reply) => reply.split("\r\n").filter((_, i) => i >= 5 && i % 2 === 1).sort().join(","));
    expect(names[1]).toBe(names[0]!);
    expect(names[0]).toBe("c,r,s");
    await sameStream("r");
    await sameStream("c");
    await o.same("DEBUG", "DIGEST");
  });
});

/** The payload of a bulk string reply. */
function bulkOf(reply: string): string {
  const headerEnd = reply.indexOf("\r\n");
  return reply.slice(headerEnd + 2, reply.length - 2);
}
