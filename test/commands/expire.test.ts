// Time-to-live commands against the real redis-server. Replies that depend on the clock
// are made deterministic: absolute times for (P)EXPIRETIME, long TTLs for TTL (which rounds
// to seconds), and times already past for deletion.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { Oracle, RespConn } from "../oracle/harness.ts";

let o: Oracle;
beforeAll(async () => {
  o = await Oracle.start();
});
afterAll(() => o.stop());
beforeEach(async () => {
  await o.same("FLUSHALL");
});

/** An absolute time in ms far in the future (year 2286), the same for both servers. */
const FAR_MS = 9999999999999;
const FAR_S = 9999999999;

describe("setting a time to live", () => {
  test("relative and absolute forms", async () => {
    await o.sameAll([
      ["SET", "k", "v"], ["EXPIRE", "k", "1000"], ["TTL", "k"], ["PEXPIRE", "k", "2000000"], ["TTL", "k"],
      ["EXPIREAT", "k", String(FAR_S)], ["EXPIRETIME", "k"], ["PEXPIRETIME", "k"], ["PEXPIREAT", "k", String(FAR_MS)],
      ["EXPIRETIME", "k"], ["PEXPIRETIME", "k"], ["PEXPIREAT", "k", "9999999999500"], ["EXPIRETIME", "k"],
      ["PEXPIREAT", "k", "9999999999499"], ["EXPIRETIME", "k"], ["GET", "k"],
    ]);
  });

  test("PTTL counts down from what was set", async () => {
    await o.sameAll([["SET", "k", "v"], ["PEXPIRE", "k", "100000"]]);
    const pttl = Number((await o.b.call("PTTL", "k")).slice(1, -2));
    expect(pttl).toBeLessThanOrEqual(100000);
    expect(pttl).toBeGreaterThan(90000);
  });

  test("missing keys", async () => {
    await o.sameAll([
      ["EXPIRE", "nokey", "100"], ["PEXPIRE", "nokey", "100"], ["EXPIREAT", "nokey", "1"], ["PEXPIREAT", "nokey", "-1"],
      ["EXPIRE", "nokey", "100", "XX"], ["EXISTS", "nokey"],
    ]);
  });

  test("a time already past deletes the key", async () => {
    for (const command of [["EXPIRE", "k", "0"], ["EXPIRE", "k", "-10"], ["PEXPIRE", "k", "0"], ["PEXPIRE", "k", "-1"],
      ["EXPIREAT", "k", "0"], ["EXPIREAT", "k", "1"], ["PEXPIREAT", "k", "1"], ["PEXPIREAT", "k", "-9223372036854770000"],
      ["EXPIRE", "k", "-9223372036854775"], ["PEXPIRE", "k", "-9223372036854775808"], ["EXPIRE", "k", "-5", "LT"]]) {
      await o.sameAll([["SET", "k", "v"], command, ["EXISTS", "k"], ["TTL", "k"]]);
    }
  });

  test("binary keys", async () => {
    for (const key of ["\x00", "\xff\xfe", "a\x00b", ""]) {
      await o.sameAll([["SET", key, "v"], ["PEXPIREAT", key, String(FAR_MS)], ["PEXPIRETIME", key], ["PERSIST", key], ["TTL", key]]);
    }
  });

  test("integer and overflow errors name the command", async () => {
    await o.same("SET", "k", "v");
    for (const command of ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"]) {
      for (const time of ["x", "", "1.5", " 1", "9223372036854775808", "-9223372036854775809", "9223372036854775807",
        "-9223372036854775808", "9223370399119966", "9223372036854776", "-9223372036854776", "10000000000000000",
        "18446744073709561", "-9999999999999999", "9223372036854770000", "9223372036854775", "-9223372036854775"]) {
        await o.sameAll([["SET", "k", "v"], [command, "k", time], ["EXISTS", "k"]]);
      }
    }
    await o.sameAll([["expire", "k", "9223372036854776"], ["PEXPIREAT", "k", "9223372036854770000"], ["EXISTS", "k"]]);
  });

  test("arity", async () => {
    await o.sameAll([["EXPIRE", "k"], ["PEXPIRE"], ["EXPIREAT", "k"], ["PEXPIREAT", "k"], ["TTL"], ["TTL", "a", "b"], ["PERSIST"], ["PEXPIRETIME", "a", "b"]]);
  });
});

describe("NX XX GT LT", () => {
  test("incompatible and unknown options", async () => {
    await o.same("SET", "k", "v");
    for (const options of [["NX", "XX"], ["NX", "GT"], ["NX", "LT"], ["GT", "LT"], ["XX", "GT", "LT"], ["lt", "gt"],
      ["NX", "GT", "LT"], ["FOO"], ["NX", "FOO"], ["\x00"], ["x\x00y"], ["NX", "NX"], ["XX", "xx", "Gt"], ["XX", "LT"], ["a\r\nb"]]) {
      // Options are checked before the number and before the key. Absolute times only, so
      // that GT and LT compare equal times on both servers.
      await o.sameAll([["EXPIREAT", "k", String(FAR_S), ...options], ["PEXPIRE", "k", "x", ...options], ["EXPIREAT", "nokey", "1", ...options]]);
    }
    await o.same("TTL", "k");
  });

  test("every condition against no time to live and a time to live", async () => {
    const conditions = [[], ["NX"], ["XX"], ["GT"], ["LT"], ["XX", "GT"], ["XX", "LT"], ["gt", "xx"]];
    const current = FAR_MS - 1000;
    for (const condition of conditions) {
      for (const when of [current - 1, current, current + 1]) {
        for (const hasTtl of [false, true]) {
          const setup = hasTtl ? [["SET", "k", "v"], ["PEXPIREAT", "k", String(current)]] : [["SET", "k", "v"]];
          await o.sameAll([...setup, ["PEXPIREAT", "k", String(when), ...condition], ["PEXPIRETIME", "k"]]);
        }
      }
    }
  });

  test("LT on a key without a time to live deletes it when the time is past", async () => {
    await o.sameAll([["SET", "k", "v"], ["PEXPIREAT", "k", "1", "LT"], ["EXISTS", "k"], ["SET", "k", "v"], ["PEXPIREAT", "k", "1", "GT"], ["EXISTS", "k"]]);
  });
});

describe("reading and removing a time to live", () => {
  test("TTL PTTL EXPIRETIME PEXPIRETIME on missing, persistent and volatile keys", async () => {
    await o.sameAll([
      ["TTL", "nokey"], ["PTTL", "nokey"], ["EXPIRETIME", "nokey"], ["PEXPIRETIME", "nokey"], ["SET", "k", "v"],
      ["TTL", "k"], ["PTTL", "k"], ["EXPIRETIME", "k"], ["PEXPIRETIME", "k"], ["EXPIREAT", "k", String(FAR_S)],
      ["EXPIRETIME", "k"], ["PEXPIRETIME", "k"],
    ]);
  });

  test("PERSIST", async () => {
    await o.sameAll([
      ["PERSIST", "nokey"], ["SET", "k", "v"], ["PERSIST", "k"], ["EXPIRE", "k", "100"], ["PERSIST", "k"],
      ["TTL", "k"], ["PERSIST", "k"], ["GET", "k"],
    ]);
  });

  test("SET drops the time to live, APPEND keeps it", async () => {
    await o.sameAll([["SET", "k", "v"], ["EXPIRE", "k", "100"], ["SET", "k", "w"], ["TTL", "k"], ["EXPIRE", "k", "100"], ["APPEND", "k", "x"], ["TTL", "k"]]);
  });
});

describe("expiry", () => {
  test("lazily, on access", async () => {
    await o.sameAll([["SET", "k", "v"], ["PEXPIRE", "k", "1"]]);
    const until = Date.now() + 3;
    while (Date.now() < until) await Bun.sleep(1);
    await o.sameAll([["GET", "k"], ["TTL", "k"], ["EXISTS", "k"], ["DBSIZE"]]);
  });

  test("actively: a key nobody touches disappears from DBSIZE", async () => {
    await o.sameAll([["SET", "keep", "v"], ["SET", "k", "v"], ["PEXPIRE", "k", "20"], ["DBSIZE"]]);
    await Promise.all([waitForDbsize(o.r, 1), waitForDbsize(o.b, 1)]);
    await o.same("EXISTS", "keep", "k");
  });

  test("expired keys are counted in INFO stats", async () => {
    const before = await expiredKeys(o.b);
    await o.b.call("SET", "k", "v");
    await o.b.call("PEXPIRE", "k", "1");
    const until = Date.now() + 3;
    while (Date.now() < until) await Bun.sleep(1);
    await o.b.call("GET", "k");
    expect(await expiredKeys(o.b)).toBe(before + 1);
  });
});

/** Poll DBSIZE (which touches no key) until it is `size`, for at most a few seconds. */
async function waitForDbsize(conn: RespConn, size: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while ((await conn.call("DBSIZE")) !== `:${size}\r\n`) {
    if (Date.now() > deadline) throw new Error(`DBSIZE did not reach ${size}`);
    await Bun.sleep(10);
  }
}

async function expiredKeys(conn: RespConn): Promise<number> {
  const info = await conn.call("INFO", "stats");
  return Number(info.match(/expired_keys:(\d+)/)![1]);
}

describe("COMMAND INFO and COMMAND DOCS", () => {
  test("match Redis for every time-to-live command", async () => {
    for (const name of ["expire", "pexpire", "expireat", "pexpireat", "ttl", "pttl", "expiretime", "pexpiretime", "persist"]) {
      await o.same("COMMAND", "INFO", name);
      await o.same("COMMAND", "DOCS", name);
    }
    await o.same("COMMAND", "GETKEYS", "EXPIRE", "k", "10", "NX");
  });
});
