// Seeded random sequences of string commands over a few keys, sent to the real redis-server
// and to redbun, comparing every reply byte for byte, in RESP2 and RESP3. SEED=n replays a
// run, STEPS=n changes its length.
//
// Nothing may race the clock, because the two servers run each command a few microseconds
// apart: relative times (EX, PX, SETEX, PSETEX) are at least an hour, absolute ones (EXAT,
// PXAT) far in the future or long past, and TTL, which reads a time back against the
// clock, is allowed to differ by one second.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { Oracle, rng } from "../oracle/harness.ts";
import { type Maker, type Random, pick, seedFromEnv, stepsFromEnv, weightedCommands } from "../oracle/fuzz.ts";

const STEPS = stepsFromEnv(4000);
const SEED = seedFromEnv();

let o: Oracle;
beforeAll(async () => {
  o = await Oracle.start();
});
afterAll(() => o.stop());

const chance = (r: Random, p: number): boolean => r() < p;

const KEYS = ["a", "b", "c", "\x00k\xff", "n"];
const VALUES = [
  "", "v", "hello", "\x00\xff\r\n", "x".repeat(44), "x".repeat(45), "0", "1", "-1", "9999", "10000", "-0", "01", "+1", " 1",
  "1.5", "-2.25", "1e3", "0x1p4", "inf", "nan", "9007199254740991", "9007199254740993", "9223372036854775806",
  "9223372036854775807", "-9223372036854775807", "-9223372036854775808", "9223372036854775808", "12345678901234567890",
];
const INTEGERS = ["0", "1", "-1", "7", "-100", "1000000", "9007199254740993", "9223372036854775807", "-9223372036854775808", "x", "1.0", ""];
const FLOATS = ["0.1", "-0.3", "1", "2.5e2", "1e-17", "1e20", "-1e20", "0x1p-2", ".5", "3.", "inf", "nan", "1e5000", "x", " 1", "-0"];
const OFFSETS = ["0", "1", "3", "10", "44", "45", "60", "-1", "x", "536870912", "9223372036854775807"];
const RANGE_INDEXES = ["0", "1", "2", "5", "-1", "-2", "-5", "-100", "100", "9223372036854775807", "-9223372036854775808", "x"];
/** Relative times of at least an hour, and times SET and GETEX reject. */
const RELATIVE_SECONDS = ["3600", "7200", "100000", "0", "-1", "x", "9223372036854775"];
const RELATIVE_MILLIS = ["3600000", "7200000", "0", "-5", "1.5", "9223372036854775807"];
/** Absolute times far in the future or long past, and rejected ones. */
const ABSOLUTE_SECONDS = ["4102444800", "9999999999", "1", "1000000000", "0", "9223372036854776"];
const ABSOLUTE_MILLIS = ["4102444800000", "9999999999999", "1", "1000000000000", "0", "-1"];

function expiration(r: Random, forGetex: boolean): string[] {
  switch (Math.floor(r() * 6)) {
    case 0:
      return ["EX", pick(r, RELATIVE_SECONDS)];
    case 1:
      return ["PX", pick(r, RELATIVE_MILLIS)];
    case 2:
      return ["EXAT", pick(r, ABSOLUTE_SECONDS)];
    case 3:
      return ["PXAT", pick(r, ABSOLUTE_MILLIS)];
    case 4:
      return [forGetex ? "PERSIST" : "KEEPTTL"];
    default:
      return [];
  }
}

/** SET's options in random order, sometimes conflicting or malformed. */
function setOptions(r: Random): string[] {
  const groups: string[][] = [];
  if (chance(r, 0.3)) groups.push([pick(r, ["NX", "XX", "nx", "xx"])]);
  if (chance(r, 0.3)) groups.push(["GET"]);
  if (chance(r, 0.5)) groups.push(expiration(r, false));
  if (chance(r, 0.05)) groups.push([pick(r, ["NX", "EX", "PERSIST", "BOGUS", "KEEPTTL"])]);
  for (let i = groups.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [groups[i], groups[j]] = [groups[j]!, groups[i]!];
  }
  return groups.flat();
}

const GENERATORS: [number, Maker][] = [
  [6, (r, k) => ["SET", k, pick(r, VALUES), ...setOptions(r)]],
  [5, (_, k) => ["GET", k]],
  [1, (r, k) => ["SETNX", k, pick(r, VALUES)]],
  [1, (r, k) => ["SETEX", k, pick(r, RELATIVE_SECONDS), pick(r, VALUES)]],
  [1, (r, k) => ["PSETEX", k, pick(r, RELATIVE_MILLIS), pick(r, VALUES)]],
  [1, (r, k) => ["GETSET", k, pick(r, VALUES)]],
  [1, (_, k) => ["GETDEL", k]],
  [2, (r, k) => ["GETEX", k, ...expiration(r, true), ...(chance(r, 0.05) ? [pick(r, ["NX", "PERSIST", "EX"])] : [])]],
  [2, (r, k, k2) => ["MGET", k, k2, ...(chance(r, 0.5) ? [pick(r, KEYS)] : [])]],
  [2, (r, k, k2) => ["MSET", k, pick(r, VALUES), k2, pick(r, VALUES), ...(chance(r, 0.05) ? ["odd"] : [])]],
  [1, (r, k, k2) => ["MSETNX", k, pick(r, VALUES), k2, pick(r, VALUES)]],
  [3, (r, k) => ["APPEND", k, pick(r, VALUES)]],
  [2, (_, k) => ["STRLEN", k]],
  [2, (r, k) => [pick(r, ["GETRANGE", "SUBSTR"]), k, pick(r, RANGE_INDEXES), pick(r, RANGE_INDEXES)]],
  [2, (r, k) => ["SETRANGE", k, pick(r, OFFSETS), pick(r, ["", "x", "abc", "\x00", "12"])]],
  [3, (_, k) => ["INCR", k]],
  [2, (_, k) => ["DECR", k]],
  [2, (r, k) => [pick(r, ["INCRBY", "DECRBY"]), k, pick(r, INTEGERS)]],
  [3, (r, k) => ["INCRBYFLOAT", k, pick(r, FLOATS)]],
  [1, (r, k, k2) => ["LCS", k, k2, ...pick(r, [[], ["LEN"], ["IDX"], ["IDX", "WITHMATCHLEN"], ["IDX", "MINMATCHLEN", "2"], ["LEN", "IDX"]])]],
  [2, (_, k) => ["OBJECT", "ENCODING", k]],
  [2, (_, k) => ["TTL", k]],
  [1, (_, k) => ["EXISTS", k]],
  [0.5, (_, k) => ["DEL", k]],
  [0.3, (r) => ["HELLO", pick(r, ["2", "3"])]],
];
const randomCommand = weightedCommands(GENERATORS, KEYS);

/** Run one command on both servers; fail on any difference but a one-second TTL drift. */
async function check(command: string[]): Promise<void> {
  const [want, got] = await o.both(...command);
  if (want === got) return;
  // HELLO describes the server itself (name, version, id): only the protocol switch matters.
  if (command[0] === "HELLO" && !want.startsWith("-") && !got.startsWith("-")) return;
  if (command[0] === "TTL" && /^:\d+\r\n$/.test(want) && /^:\d+\r\n$/.test(got)) {
    expect(Math.abs(Number(got.slice(1, -2)) - Number(want.slice(1, -2)))).toBeLessThanOrEqual(1);
    return;
  }
  expect(got).toBe(want);
}

test(`random string commands match Redis (SEED=${SEED})`, async () => {
  const r = rng(SEED);
  const history: string[][] = [];
  try {
    await o.same("FLUSHALL");
    for (let step = 0; step < STEPS; step++) {
      const command = randomCommand(r);
      history.push(command);
      await check(command);
    }
    for (const key of KEYS) await check(["GET", key]);
  } catch (e) {
    const tail = history.slice(-15).map((c) => JSON.stringify(c)).join("\n  ");
    console.error(`string fuzzer failed: replay with SEED=${SEED}\nlast commands:\n  ${tail}`);
    throw e;
  }
}, 120_000);
