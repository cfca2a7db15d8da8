// CONFIG GET / SET / RESETSTAT / HELP against real Redis 7.0 over the wire, and the runtime
// effect of the directives that change how the server treats connections.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Oracle } from "../oracle/harness.ts";

let o: Oracle;
beforeAll(async () => {
  o = await Oracle.start();
});
afterAll(() => o.stop());

/**
 * A CONFIG GET reply as sorted name/value pairs. Redis collects the matches in a hash table
 * whose seed is random per process, so only the set of pairs, not their order, is fixed.
 */
function pairs(reply: string): { header: string; pairs: string[] } {
  const lines = reply.split("\r\n");
  const header = lines[0]!;
  const items: string[] = [];
  for (let i = 1; i + 1 < lines.length; i += 2) items.push(lines[i + 1]!);
  const out: string[] = [];
  for (let i = 0; i + 1 < items.length; i += 2) {
    // Each server runs on a port and in a working directory of its own.
    const own = items[i] === "port" || items[i] === "dir";
    out.push(`${items[i]}=${own ? "(own)" : items[i + 1]}`);
  }
  return { header, pairs: out.sort() };
}

async function sameGet(...args: string[]): Promise<void> {
  const [r, b] = await o.both("CONFIG", "GET", ...args);
  expect(pairs(b)).toEqual(pairs(r));
}

describe("CONFIG GET", () => {
  test("exact names, any case, answered under the name given", async () => {
    await o.same("CONFIG", "GET", "maxmemory");
    await o.same("CONFIG", "GET", "MaxMemory");
    await o.same("CONFIG", "GET", "hash-max-ziplist-entries");
    await o.same("CONFIG", "GET", "nosuchparameter");
    await o.same("CONFIG", "GET", "hz", "HZ");
    await o.same("CONFIG", "GET", "save");
    await o.same("CONFIG", "GET", "client-output-buffer-limit");
    await o.same("CONFIG", "GET", "enable-debug-command");
  });

  test("glob patterns match every parameter and alias", async () => {
    for (const p of ["*", "max*", "*max*entries*", "*-ziplist-*", "h?", "[hp]*", "*[", "\\*", "MAX*", "nomatch*"]) await sameGet(p);
  });

  test("several patterns at once, each parameter once", async () => {
    await sameGet("databases", "hz", "nope");
    await sameGet("max*", "maxmemory", "*memory*");
    await sameGet("timeout", "TIMEOUT", "timeout");
  });

  test("RESP3 replies with a map", async () => {
    for (const reply of await o.both("HELLO", "3")) expect(reply.startsWith("%7\r\n")).toBe(true);
    try {
      expect(await o.same("CONFIG", "GET", "hz")).toBe("%1\r\n$2\r\nhz\r\n$2\r\n10\r\n");
      expect(await o.same("CONFIG", "GET", "nope")).toBe("%0\r\n");
      const [r, b] = await o.both("CONFIG", "GET", "*max*");
      expect(b.startsWith("%")).toBe(true);
      expect(pairs(b)).toEqual(pairs(r));
    } finally {
      await o.both("HELLO", "2");
    }
  });

  test("argument count errors", async () => {
    await o.sameAll([["CONFIG", "GET"], ["CONFIG"], ["config", "get"]]);
  });
});

describe("CONFIG SET", () => {
  test("several parameters at once", async () => {
    await o.same("CONFIG", "SET", "hz", "20", "timeout", "5", "maxmemory", "1GB");
    await sameGet("hz", "timeout", "maxmemory");
    await o.same("CONFIG", "SET", "hz", "10", "timeout", "0", "maxmemory", "0");
  });

  test("all or nothing: a bad value leaves every parameter as it was", async () => {
    await o.same("CONFIG", "SET", "maxmemory", "1gb", "maxmemory-policy", "bad");
    await o.same("CONFIG", "SET", "hz", "30", "timeout", "-1");
    await o.same("CONFIG", "SET", "hz", "30", "nosuch", "1");
    await o.same("CONFIG", "SET", "timeout", "7", "daemonize", "yes");
    await sameGet("maxmemory", "maxmemory-policy", "hz", "timeout");
  });

  test("every kind of error", async () => {
    await o.sameAll([
      ["CONFIG", "SET", "hz", "abc"],
      ["CONFIG", "SET", "hz"],
      ["CONFIG", "SET", "hz", "1", "timeout"],
      ["CONFIG", "SET", "nosuch", "1"],
      ["CONFIG", "SET", "hz", "1", "hz", "2"],
      ["CONFIG", "SET", "hz", "1", "HZ", "2"],
      ["CONFIG", "SET", "daemonize", "yes"],
      ["CONFIG", "SET", "enable-debug-command", "no"],
      ["CONFIG", "SET", "dir", "/tmp"],
      ["CONFIG", "SET", "maxmemory", "-1"],
      ["CONFIG", "SET", "maxmemory", "10x"],
      ["CONFIG", "SET", "appendonly", "maybe"],
      ["CONFIG", "SET", "loglevel", "bogus"],
      ["CONFIG", "SET", "save", "900 1 abc"],
      ["CONFIG", "SET", "maxclients", "0"],
      ["CONFIG", "SET", "timeout", "1.5"],
      ["CONFIG", "SET", "proto-max-bulk-len", "1000"],
      ["CONFIG", "SET", "latency-tracking-info-percentiles", "101"],
      ["CONFIG", "SET", "latency-tracking-info-percentiles", "abc"],
      ["CONFIG", "SET", "oom-score-adj-values", "1 2"],
      ["CONFIG", "SET", "maxmemory-clients", "200%"],
      ["CONFIG", "SET", "notify-keyspace-events", "Q"],
      ["CONFIG", "SET", "client-output-buffer-limit", "bogus 1 2 3"],
    ]);
  });

  test("values are normalised as Redis shows them", async () => {
    for (const [name, value] of [["hz", "0"], ["hz", "1000"], ["notify-keyspace-events", "KEA"], ["save", "3600 1 300 100"], ["client-output-buffer-limit", "normal 1mb 2 3"], ["maxmemory", "1gb"], ["list-max-ziplist-size", "-6"]] as const) {
      await o.same("CONFIG", "SET", name, value);
      await o.same("CONFIG", "GET", name);
    }
    await o.same("CONFIG", "SET", "hz", "10", "notify-keyspace-events", "", "save", "", "client-output-buffer-limit", "normal 0 0 0", "maxmemory", "0", "list-max-ziplist-size", "-2");
  });
});

describe("CONFIG RESETSTAT and HELP", () => {
  test("RESETSTAT zeroes the stats INFO shows", async () => {
    await o.sameAll([["SET", "a", "1"], ["GET", "a"], ["GET", "nope"], ["GET"]]);
    expect(await o.same("CONFIG", "RESETSTAT")).toBe("+OK\r\n");
    const [r, b] = await o.both("INFO", "stats");
    for (const name of ["total_commands_processed", "keyspace_hits", "keyspace_misses", "total_error_replies", "expired_keys", "rejected_connections"]) {
      const value = (s: string) => new RegExp(`${name}:(\\d+)`).exec(s)![1];
      expect(`${name}:${value(b)}`).toBe(`${name}:${value(r)}`);
    }
    const [re, be] = await o.both("INFO", "errorstats");
    expect(be).toBe(re);
    await o.sameAll([["CONFIG", "RESETSTAT", "extra"], ["CONFIG", "NOSUCH"]]);
  });

  test("HELP lists the subcommands with Redis's text", async () => {
    await o.same("CONFIG", "HELP");
    await o.same("CONFIG", "HELP", "extra");
  });
});

// ---------------------------------------------------------------------------------------
// Runtime effects.

describe("CONFIG SET takes effect", () => {
  test("maxclients refuses the connection past the limit", async () => {
    const [r0, b0] = await o.both("INFO", "clients");
    const count = (s: string) => Number(/connected_clients:(\d+)/.exec(s)![1]);
    expect(count(b0)).toBe(count(r0));
    await o.same("CONFIG", "SET", "maxclients", String(count(b0) + 1));
    try {
      const [r1, b1] = await o.connectBoth();
      expect(await b1.call("PING")).toBe(await r1.call("PING"));
      const [r2, b2] = await o.connectBoth();
      const [refusedR, refusedB] = await Promise.all([r2.readUntilClosed(), b2.readUntilClosed()]);
      expect(refusedB).toBe(refusedR);
      expect(refusedB).toBe("-ERR max number of clients reached\r\n");
      r1.close();
      b1.close();
    } finally {
      await o.same("CONFIG", "SET", "maxclients", "10000");
    }
    const rejected = async () => (await o.both("INFO", "stats")).map((s) => /rejected_connections:(\d+)/.exec(s)![1]);
    const [rr, rb] = await rejected();
    expect(rb).toBe(rr);
  });

  test("timeout closes an idle client, not a busy one", async () => {
    await o.same("CONFIG", "SET", "timeout", "1");
    let busy = true;
    try {
      const [idleR, idleB] = await o.connectBoth();
      const t0 = Date.now();
      // The oracle's own connections stay busy meanwhile, so they must stay open.
      const keepBusy = (async () => {
        while (busy) {
          await o.same("PING");
          await Bun.sleep(200);
        }
      })();
      const closed = await Promise.all([idleR.readUntilClosed(5000), idleB.readUntilClosed(5000)]);
      busy = false;
      await keepBusy;
      expect(closed).toEqual(["", ""]);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
      expect(o.b.isClosed).toBe(false);
    } finally {
      busy = false;
      await o.same("CONFIG", "SET", "timeout", "0");
    }
  });

  test("proto-max-bulk-len limits the bulk strings a client may send", async () => {
    await o.same("CONFIG", "SET", "proto-max-bulk-len", "1mb");
    try {
      const exact = "x".repeat(1024 * 1024);
      const [okR, okB] = await o.connectBoth();
      expect(await okB.call("SET", "big", exact)).toBe(await okR.call("SET", "big", exact));
      const [r, b] = await o.connectBoth();
      for (const c of [r, b]) c.write(`*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$${exact.length + 1}\r\n`);
      const [want, got] = await Promise.all([r.readUntilClosed(), b.readUntilClosed()]);
      expect(got).toBe(want);
      expect(got).toBe("-ERR Protocol error: invalid bulk length\r\n");
    } finally {
      await o.same("CONFIG", "SET", "proto-max-bulk-len", "512mb");
      await o.same("DEL", "big");
    }
  });

  test("requirepass: new connections must AUTH, existing ones stay authenticated", async () => {
    await o.same("CONFIG", "SET", "requirepass", "s3cret");
    try {
      await o.same("PING");
      const [r, b] = await o.connectBoth();
      for (const cmd of [["GET", "x"], ["PING"], ["AUTH", "wrong"], ["AUTH", "s3cret"], ["GET", "x"]]) {
        expect(await b.call(...cmd)).toBe(await r.call(...cmd));
      }
    } finally {
      await o.same("CONFIG", "SET", "requirepass", "");
    }
    const [r, b] = await o.connectBoth();
    expect(await b.call("PING")).toBe(await r.call("PING"));
  });

  test("hz is clamped and reported by INFO", async () => {
    await o.same("CONFIG", "SET", "hz", "1000");
    try {
      const [r, b] = await o.both("INFO", "server");
      const hz = (s: string) => /\r\nhz:(\d+)\r\nconfigured_hz:(\d+)/.exec(s)?.slice(1);
      expect(hz(b)).toEqual(hz(r));
    } finally {
      await o.same("CONFIG", "SET", "hz", "10");
    }
  });
});
