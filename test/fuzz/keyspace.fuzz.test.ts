// Seeded random command sequences over the keyspace, expiry and a few string commands,
// sent to the real redis-server and to redbun, comparing every reply. SEED=n replays a run.
//
// Nothing here may race the clock, because the two servers run each command a few
// microseconds apart:
// - Absolute times (EXPIREAT, PEXPIREAT) are either far in the future or already past,
//   so both servers agree on every comparison and deletion.
// - Relative times (EXPIRE, PEXPIRE) are hours long, or not positive (an immediate
//   delete). They take no NX/XX/GT/LT, since comparing two relative times set in the
//   same millisecond on one server and not on the other could differ. Replies that
//   read a time back relative to the clock (TTL, PTTL, and EXPIRETIME, PEXPIRETIME of
//   times set relatively) may differ by the milliseconds between the two servers, so
//   those are compared with a tolerance; everything else is compared byte for byte.
// - No key ever waits to expire, so DBSIZE, KEYS and SCAN see the same keys on both.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { Oracle, replyEnd, rng } from "../oracle/harness.ts";
import { type Maker, type Random, pick, seedFromEnv, stepsFromEnv, weightedCommands } from "../oracle/fuzz.ts";

const STEPS = stepsFromEnv(5000);
const SEED = seedFromEnv();

let o: Oracle;
beforeAll(async () => {
  o = await Oracle.start();
});
afterAll(() => o.stop());

const KEYS = ["a", "b", "c", "key:1", "key:2", "key:10", "\x00", "\xff\x00", "a\x00b", "", "*", "[a]"];
const VALUES = ["v", "", "0", "1", "9999", "10000", "-1", "123456789012", "9223372036854775807", "9223372036854775808",
  "1.5", " 7", "x".repeat(50), "\x00\xff", "007"];
const PATTERNS = ["*", "**", "a*", "key:?", "key:1*", "*\x00*", "[a-c]", "\\*", "\\[a]", "", "?", "[^a]*", "*b"];
/**
 * Far-future absolute times in seconds (year 2100 and beyond), few of them, so that GT and
 * LT often meet an equal time. Every time set relatively lies far below the first one.
 */
const FAR_SECONDS = [4102444800, 4102444801, 9999999999];
/**
 * Times EXPIRE and EXPIREAT reject (not integers, or overflowing once made milliseconds),
 * and times PEXPIRE and PEXPIREAT reject or find past. Valid times beyond 2^53 ms are left
 * out: redbun stores expiry times as doubles (see src/commands/expire.ts).
 */
const BAD_SECONDS = ["x", "", "1.5", "9223372036854775808", "9223372036854776", "-9223372036854776"];
const BAD_MILLISECONDS = ["x", "", "1.5", "9223372036854775808", "-9223372036854775809", "-9223372036854776"];
const CONDITIONS = [[], [], [], ["NX"], ["XX"], ["GT"], ["LT"], ["XX", "GT"], ["XX", "LT"], ["NX", "XX"], ["GT", "LT"], ["BAD"]];

/**
 * Replies compared with a tolerance, because they read back a time relative to each
 * server's clock: TTL and PTTL always, EXPIRETIME and PEXPIRETIME for times that EXPIRE
 * and PEXPIRE set (all below the first far-future time; the absolute ones are exact).
 */
const TOLERANCE: Record<string, number> = { ttl: 1, expiretime: 1, pttl: 500, pexpiretime: 500 };
const EXACT_FROM: Record<string, number> = { ttl: Infinity, pttl: Infinity, expiretime: FAR_SECONDS[0]!, pexpiretime: FAR_SECONDS[0]! * 1000 };

const some = (r: Random, max: number): string[] => Array.from({ length: 1 + Math.floor(r() * max) }, () => pick(r, KEYS));

/** Command makers with their weights: writes that build state and the commands under test. */
const GENERATORS: [number, Maker][] = [
  [3, (r, k) => ["SET", k, pick(r, VALUES)]],
  [1, (_, k) => ["GET", k]],
  [1, (r, k) => ["APPEND", k, pick(r, VALUES)]],
  [1, (_, k) => ["INCR", k]],
  [1, (r) => [pick(r, ["DEL", "UNLINK"]), ...some(r, 3)]],
  [1, (r) => [pick(r, ["EXISTS", "TOUCH"]), ...some(r, 4)]],
  [1, (_, k) => ["TYPE", k]],
  [1, (r) => ["KEYS", pick(r, PATTERNS)]],
  [1, (r) => ["SCAN-ALL", ...scanOptions(r)]],
  [1, () => ["RANDOMKEY"]],
  [2, (r, k, k2) => [pick(r, ["RENAME", "RENAMENX"]), k, k2]],
  [2, (r, k, k2) => ["COPY", k, k2, ...copyOptions(r)]],
  [1, (r, k) => ["MOVE", k, pick(r, ["0", "1", "2", "16", "x"])]],
  [1, (r) => ["SELECT", pick(r, ["0", "0", "1", "2"])]],
  [1, () => ["DBSIZE"]],
  [0.2, (r) => [pick(r, ["FLUSHDB", "FLUSHALL"]), ...(r() < 0.5 ? [] : [pick(r, ["ASYNC", "SYNC", "bad"])])]],
  [1, (r, k) => ["OBJECT", pick(r, ["ENCODING", "REFCOUNT", "FREQ"]), k]],
  [3, (r, k) => relativeExpire(r, k)],
  [3, (r, k) => absoluteExpire(r, k)],
  [2, (r, k) => [pick(r, ["TTL", "PTTL"]), k]],
  [2, (r, k) => [pick(r, ["EXPIRETIME", "PEXPIRETIME"]), k]],
  [1, (_, k) => ["PERSIST", k]],
  [0.3, (r, k) => [pick(r, ["EXPIRE", "EXPIREAT"]), k, pick(r, BAD_SECONDS), ...pick(r, CONDITIONS)]],
  [0.3, (r, k) => [pick(r, ["PEXPIRE", "PEXPIREAT"]), k, pick(r, BAD_MILLISECONDS), ...pick(r, CONDITIONS)]],
  [0.3, (r) => ["EXPIRE", "nokey", "100", ...pick(r, CONDITIONS)]],
];
const randomCommand = weightedCommands(GENERATORS, KEYS);

function scanOptions(r: Random): string[] {
  const options: string[] = [];
  if (r() < 0.5) options.push("COUNT", pick(r, ["1", "2", "10", "100"]));
  if (r() < 0.4) options.push("MATCH", pick(r, PATTERNS));
  if (r() < 0.3) options.push("TYPE", pick(r, ["string", "list", "STRING", "none"]));
  return options;
}

function copyOptions(r: Random): string[] {
  const options: string[] = [];
  if (r() < 0.4) options.push("DB", pick(r, ["0", "1", "2", "16", "-1", "x"]));
  if (r() < 0.4) options.push("REPLACE");
  if (r() < 0.05) options.push("BOGUS");
  return options;
}

/** EXPIRE / PEXPIRE: hours ahead, or not positive (deletes the key), never with a condition. */
function relativeExpire(r: Random, key: string): string[] {
  const seconds = r() < 0.2 ? -Math.floor(r() * 10) : 3600 * (1 + Math.floor(r() * 5));
  return r() < 0.5 ? ["EXPIRE", key, String(seconds)] : ["PEXPIRE", key, String(seconds * 1000)];
}

/** EXPIREAT / PEXPIREAT: far future or already past, with any condition. */
function absoluteExpire(r: Random, key: string): string[] {
  const seconds = r() < 0.2 ? pick(r, [0, 1, 1000000000]) : pick(r, FAR_SECONDS);
  const condition = pick(r, CONDITIONS);
  if (r() < 0.5) return ["EXPIREAT", key, String(seconds), ...condition];
  return ["PEXPIREAT", key, String(seconds * 1000 + pick(r, [0, 499, 500])), ...condition];
}

/** The elements of an array reply as raw RESP strings. */
function elements(reply: string, from: number): string[] {
  const buf = Buffer.from(reply, "latin1");
  let pos = reply.indexOf("\r\n", from) + 2;
  const items: string[] = [];
  while (pos < buf.length) {
    const end = replyEnd(buf, pos);
    items.push(reply.slice(pos, end));
    pos = end;
  }
  return items;
}

/** A whole SCAN on the oracle's redis (which = "r") or redbun ("b"): the keys it gave, once each, sorted. */
async function scanAll(which: "r" | "b", options: string[]): Promise<string[]> {
  const conn = o[which];
  const keys = new Set<string>();
  let cursor = "0";
  do {
    const reply = await conn.call("SCAN", cursor, ...options);
    if (reply.startsWith("-")) return [reply];
    const buf = Buffer.from(reply, "latin1");
    const cursorStart = reply.indexOf("\r\n") + 2;
    const cursorEnd = replyEnd(buf, cursorStart);
    const cursorReply = reply.slice(cursorStart, cursorEnd);
    cursor = cursorReply.slice(cursorReply.indexOf("\r\n") + 2, -2);
    for (const item of elements(reply, cursorEnd)) keys.add(item);
  } while (cursor !== "0");
  return [...keys].sort();
}

/** Run one command on both servers and fail on any difference that is not explained above. */
async function check(command: string[]): Promise<void> {
  const name = command[0]!.toLowerCase();
  if (name === "scan-all") {
    const [want, got] = await Promise.all([scanAll("r", command.slice(1)), scanAll("b", command.slice(1))]);
    expect(got).toEqual(want);
    return;
  }
  const [want, got] = await o.both(...command);
  if (want === got) return;
  if (name === "keys" && !want.startsWith("-")) {
    expect(elements(got, 0).sort()).toEqual(elements(want, 0).sort());
    return;
  }
  if (name === "randomkey" && want !== "$-1\r\n" && got !== "$-1\r\n") return;
  const tolerance = TOLERANCE[name];
  if (tolerance !== undefined && /^:\d+\r\n$/.test(want) && /^:\d+\r\n$/.test(got)) {
    const wanted = Number(want.slice(1, -2));
    if (wanted < EXACT_FROM[name]!) {
      expect(Math.abs(Number(got.slice(1, -2)) - wanted)).toBeLessThanOrEqual(tolerance);
      return;
    }
  }
  expect(got).toBe(want);
}

test(`random keyspace and expiry commands match Redis (SEED=${SEED})`, async () => {
  const r = rng(SEED);
  const history: string[][] = [];
  try {
    await o.same("FLUSHALL");
    for (let step = 0; step < STEPS; step++) {
      const command = randomCommand(r);
      history.push(command);
      await check(command);
    }
    // The final state, database by database.
    for (const db of ["0", "1", "2"]) {
      await o.same("SELECT", db);
      await check(["SCAN-ALL"]);
      await o.same("DBSIZE");
    }
  } catch (error) {
    const recent = history.slice(-Number(process.env.HISTORY ?? 15)).map((c) => JSON.stringify(c)).join("\n  ");
    console.error(`keyspace fuzz failed: replay with SEED=${SEED}\nlast commands:\n  ${recent}`);
    throw error;
  }
}, 120000);
