// DEBUG against real Redis 7.0: the enable-debug-command gate, DIGEST and DIGEST-VALUE over the
// same data, PROTOCOL in RESP2 and RESP3, SLEEP, SET-ACTIVE-EXPIRE, OBJECT and the errors.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { networkInterfaces } from "node:os";
import { Oracle, RespConn, rng, startRedbun } from "../oracle/harness.ts";

const NOT_ALLOWED =
  '-ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.\r\n';

describe("DEBUG is refused by default", () => {
  let o: Oracle;
  beforeAll(async () => {
    o = await Oracle.start();
  });
  afterAll(() => o.stop());

  test("with Redis's error, counted as a rejected call", async () => {
    await o.same("CONFIG", "RESETSTAT");
    expect(await o.same("DEBUG", "HELP")).toBe(NOT_ALLOWED);
    expect(await o.same("debug", "digest")).toBe(NOT_ALLOWED);
    await o.same("DEBUG", "SLEEP", "0");
    // Arity is checked first.
    await o.same("DEBUG");
    const [r, b] = await o.both("INFO", "commandstats");
    const line = (s: string) => /cmdstat_debug:[^\r]*/.exec(s)![0].replace(/usec=\d+,usec_per_call=[\d.]+,/, "");
    expect(line(b)).toBe(line(r));
    expect(line(b)).toBe("cmdstat_debug:calls=0,rejected_calls=4,failed_calls=0");
    await o.same("CONFIG", "GET", "enable-debug-command");
    await o.same("CONFIG", "SET", "enable-debug-command", "yes");
  });
});

/** A non-loopback IPv4 address of this machine, to connect from a non-local peer. */
function externalAddress(): string | null {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return null;
}

describe("enable-debug-command local", () => {
  const ip = externalAddress();

  test("allows loopback clients only", async () => {
    // Protected mode would refuse the remote peer before DEBUG is reached.
    await using s = await startRedbun(["--enable-debug-command", "local", "--protected-mode", "no", ...(ip === null ? [] : ["--bind", "127.0.0.1", ip])]);
    const local = await RespConn.connect(s.port);
    expect(await local.call("DEBUG", "PROTOCOL", "integer")).toBe(":12345\r\n");
    local.close();
    if (ip === null) return;
    // The same server reached through a non-loopback address sees a remote peer.
    const socket = await new Promise<string>((resolve, reject) => {
      let got = "";
      Bun.connect({
        hostname: ip,
        port: s.port,
        socket: {
          open(sock) {
            sock.write("*3\r\n$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n$7\r\ninteger\r\n");
          },
          data(sock, d) {
            got += Buffer.from(d).toString("latin1");
            if (got.endsWith("\r\n")) {
              sock.end();
              resolve(got);
            }
          },
          error(_s, e) {
            reject(e);
          },
        },
      }).catch(reject);
    });
    expect(socket).toBe(NOT_ALLOWED);
  });
});

describe("DEBUG with enable-debug-command yes", () => {
  let o: Oracle;
  beforeAll(async () => {
    o = await Oracle.start(["--enable-debug-command", "yes"]);
  });
  afterAll(() => o.stop());
  beforeEach(async () => {
    await o.same("FLUSHALL");
    await o.same("SELECT", "0");
  });

  describe("DIGEST and DIGEST-VALUE equal Redis's for the same data", () => {
    test("empty data set", async () => {
      expect(await o.same("DEBUG", "DIGEST")).toBe("+0000000000000000000000000000000000000000\r\n");
      expect(await o.same("DEBUG", "DIGEST-VALUE", "missing")).toBe("*1\r\n+0000000000000000000000000000000000000000\r\n");
      expect(await o.same("DEBUG", "DIGEST-VALUE")).toBe("*0\r\n");
    });

    test("strings with and without TTLs in several databases, binary and integer values", async () => {
      await o.sameAll([
        ["SET", "plain", "hello"],
        ["SET", "int", "12345"],
        ["SET", "negative", "-7"],
        ["SET", "big", "9223372036854775807"],
        ["SET", "notint", "012"],
        ["SET", "empty", ""],
        ["SET", "\x00\xff\r\n", "\x00bin\xffary\r\n"],
        ["SET", "ttl", "v", "EX", "1000"],
        ["SET", "long", "x".repeat(500)],
      ]);
      await o.same("DEBUG", "DIGEST");
      await o.same("DEBUG", "DIGEST-VALUE", "plain", "int", "negative", "big", "notint", "empty", "\x00\xff\r\n", "ttl", "long", "missing");
      await o.sameAll([["SELECT", "9"], ["SET", "plain", "hello"], ["SET", "other", "1", "PX", "999999"], ["SELECT", "15"], ["SET", "z", "z"]]);
      const digest = await o.same("DEBUG", "DIGEST");
      // DIGEST-VALUE looks at the selected database.
      await o.same("DEBUG", "DIGEST-VALUE", "z", "plain");
      // Moving a key to another database changes the digest; a TTL changes it too.
      await o.same("MOVE", "z", "0");
      expect(await o.same("DEBUG", "DIGEST")).not.toBe(digest);
      await o.same("SELECT", "0");
      const before = await o.same("DEBUG", "DIGEST");
      await o.same("PERSIST", "ttl");
      expect(await o.same("DEBUG", "DIGEST")).not.toBe(before);
      await o.same("DEBUG", "DIGEST-VALUE", "ttl");
    });

    test("the digest does not depend on the order keys were written in", async () => {
      const keys = Array.from({ length: 50 }, (_, i) => `k${i}`);
      for (const k of keys) await o.same("SET", k, `v${k}`);
      const forward = await o.same("DEBUG", "DIGEST");
      await o.same("FLUSHALL");
      for (const k of keys.reverse()) await o.same("SET", k, `v${k}`);
      expect(await o.same("DEBUG", "DIGEST")).toBe(forward);
    });

    test("random data sets (SEED= to replay)", async () => {
      const seed = Number(process.env.SEED ?? Date.now() % 1e9);
      const rand = rng(seed);
      const pick = (n: number) => Math.floor(rand() * n);
      const bytes = (n: number) => Array.from({ length: n }, () => String.fromCharCode(pick(256))).join("");
      try {
        for (let round = 0; round < 5; round++) {
          await o.same("FLUSHALL");
          for (let i = 0; i < 60; i++) {
            const db = String(pick(4));
            await o.same("SELECT", db);
            const key = pick(3) === 0 ? bytes(1 + pick(8)) : `key:${pick(40)}`;
            const value = pick(3) === 0 ? String(pick(2e6) - 1e6) : bytes(pick(40));
            const ttl = pick(3) === 0 ? ["EX", String(100 + pick(1000))] : [];
            await o.same("SET", key, value, ...ttl);
            if (pick(10) === 0) await o.same("DEBUG", "DIGEST-VALUE", key);
          }
          await o.same("DEBUG", "DIGEST");
        }
      } catch (e) {
        throw new Error(`seed ${seed}: ${(e as Error).message}`);
      }
    });
  });

  describe("PROTOCOL", () => {
    const types = ["string", "integer", "double", "bignum", "null", "array", "set", "map", "attrib", "push", "verbatim", "true", "false", "nosuchtype", "STRING"];

    test("every type in RESP2", async () => {
      for (const t of types) await o.same("DEBUG", "PROTOCOL", t);
    });

    test("every type in RESP3", async () => {
      // HELLO's reply holds the connection id, which differs between the servers.
      await o.both("HELLO", "3");
      try {
        for (const t of types) {
          await o.same("DEBUG", "PROTOCOL", t);
          // A push is followed by the command's real reply.
          if (t === "push") expect(await o.r.read()).toBe(await o.b.read());
        }
      } finally {
        await o.both("HELLO", "2");
      }
    });
  });

  test("SLEEP 0 and 0.1 block for that long", async () => {
    let t0 = performance.now();
    expect(await o.b.call("DEBUG", "SLEEP", "0")).toBe("+OK\r\n");
    expect(performance.now() - t0).toBeLessThan(100);
    t0 = performance.now();
    expect(await o.b.call("DEBUG", "SLEEP", "0.1")).toBe("+OK\r\n");
    expect(performance.now() - t0).toBeGreaterThanOrEqual(99);
    await o.sameAll([["DEBUG", "SLEEP", "0"], ["DEBUG", "SLEEP", "notanumber"], ["DEBUG", "SLEEP", "-1"], ["DEBUG", "SLEEP"]]);
  });

  test("SET-ACTIVE-EXPIRE 0 stops active expiry and 1 restarts it", async () => {
    await o.same("DEBUG", "SET-ACTIVE-EXPIRE", "0");
    try {
      await o.same("SET", "short", "v", "PX", "30");
      await o.same("SET", "keep", "v");
      // Well over the cycles (10 per second) that would have removed it.
      await Bun.sleep(400);
      expect(await o.same("DBSIZE")).toBe(":2\r\n");
      // Touching it still expires it.
      expect(await o.same("GET", "short")).toBe("$-1\r\n");
      expect(await o.same("DBSIZE")).toBe(":1\r\n");
    } finally {
      await o.same("DEBUG", "SET-ACTIVE-EXPIRE", "1");
    }
    await o.same("SET", "short", "v", "PX", "30");
    for (let i = 0; ; i++) {
      const [r, b] = await o.both("DBSIZE");
      if (r === ":1\r\n" && b === ":1\r\n") break;
      if (i > 300) throw new Error(`active expiry did not remove the key: redis ${r} redbun ${b}`);
      await Bun.sleep(10);
    }
  });

  test("SET-ACTIVE-EXPIRE and SLEEP read their argument as C's atoi and strtod do", async () => {
    // "x" reads as 0: expiry stops; " 2" reads as 2: it runs again.
    await o.same("DEBUG", "SET-ACTIVE-EXPIRE", "x");
    try {
      await o.same("SET", "short", "v", "PX", "10");
      const t0 = performance.now();
      await o.same("DEBUG", "SLEEP", "0.15seconds");
      expect(performance.now() - t0).toBeGreaterThanOrEqual(149);
      await Bun.sleep(150);
      expect(await o.same("DBSIZE")).toBe(":1\r\n");
    } finally {
      await o.same("DEBUG", "SET-ACTIVE-EXPIRE", " 2");
    }
    for (let i = 0; ; i++) {
      const [r, b] = await o.both("DBSIZE");
      if (r === ":0\r\n" && b === ":0\r\n") break;
      if (i > 300) throw new Error(`active expiry did not restart: redis ${r} redbun ${b}`);
      await Bun.sleep(10);
    }
  });

  test("OBJECT: Redis's line but for the address (and LZF-compressed lengths)", async () => {
    const cases: [string, string][] = [
      ["short", "v"],
      ["int", "123"],
      ["negative", "-9"],
      ["wide", "4294967296"],
      ["leadingzero", "01"],
      ["twenty", "x".repeat(20)],
      // Over 20 bytes Redis tries LZF, which gains nothing on bytes that never repeat.
      ["incompressible", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH"],
    ];
    const shape = /^\+Value at:0x[0-9a-f]+ refcount:(\d+) (encoding:\w+ serializedlength:\d+ lru:\d+ lru_seconds_idle:\d+)\r\n$/;
    // Redis shares the objects of small integers (refcount INT_MAX); redbun does not share.
    const rest = (s: string) => shape.exec(s)?.[2]!.replace(/lru:\d+ lru_seconds_idle:\d+/, "lru");
    const lru = (s: string) => Number(/ lru:(\d+)/.exec(s)![1]);
    for (const [key, value] of cases) {
      await o.same("SET", key, value);
      const [r, b] = await o.both("DEBUG", "OBJECT", key);
      expect(b).toMatch(shape);
      expect(`${key}: ${rest(b)}`).toBe(`${key}: ${rest(r)}`);
      // A shared object keeps the access time of whoever touched it last, not this SET's.
      const shared = shape.exec(r)![1] === "2147483647";
      if (!shared) expect(Math.abs(lru(b) - lru(r))).toBeLessThanOrEqual(1);
    }
    // A compressible value: both save it LZF-compressed, so the length is the compressed one.
    await o.same("SET", "compressible", "y".repeat(44));
    const [r, b] = await o.both("DEBUG", "OBJECT", "compressible");
    expect(rest(b)).toBe(rest(r));
    expect(b).not.toContain(" serializedlength:45 ");
    await o.same("APPEND", "short", "w");
    const [ra, ba] = await o.both("DEBUG", "OBJECT", "short");
    expect(rest(ba)).toBe(rest(ra));
    await o.sameAll([["DEBUG", "OBJECT", "missing"], ["DEBUG", "OBJECT"], ["DEBUG", "OBJECT", "a", "b"]]);
  });

  test("ERROR, LOG, unknown subcommands and wrong argument counts", async () => {
    await o.sameAll([
      ["DEBUG", "ERROR", "FOO bar"],
      ["DEBUG", "ERROR", "lower case"],
      ["DEBUG", "ERROR", "-x\r\ny"],
      ["DEBUG", "LOG", "hello from the test"],
      ["DEBUG", "NOSUCH"],
      ["DEBUG", "nosuch", "a", "b"],
      ["DEBUG", "DIGEST", "extra"],
      ["DEBUG", "HELP", "extra"],
      ["DEBUG", "PROTOCOL"],
      ["DEBUG", "SET-ACTIVE-EXPIRE"],
      ["DEBUG", "ERROR"],
    ]);
  });

  test("HELP lists only subcommands that exist, each with Redis's own text", async () => {
    const [r, b] = await o.both("DEBUG", "HELP");
    const lines = (s: string) => s.split("\r\n").slice(1, -1).map((l) => l.slice(1));
    const redisLines = lines(r);
    const ours = lines(b);
    expect(ours[0]).toBe(redisLines[0]!);
    // Entries: a line naming the subcommand, then its indented description.
    const entries = (ls: string[]) => {
      const out = new Map<string, string>();
      let name = "";
      for (const l of ls.slice(1)) {
        if (!l.startsWith(" ")) out.set((name = l), "");
        else out.set(name, out.get(name) + l + "\n");
      }
      return out;
    };
    const redisEntries = entries(redisLines);
    for (const [name, text] of entries(ours)) {
      expect(redisEntries.get(name)).toBe(text);
      const sub = name.split(" ")[0]!;
      // LOADAOF ignores its arguments, and without an AOF Redis 7.0 exits on it.
      if (sub === "HELP" || sub === "LOADAOF") continue;
      // The subcommand exists: with its arguments wrong, redbun answers like Redis does.
      await o.same("DEBUG", sub, "x", "y", "z", "w");
    }
    expect(ours.length).toBeGreaterThan(10);
  });
});
