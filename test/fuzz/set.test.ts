// Seeded random set command sequences sent to the real redis-server and to redbun,
// compared reply by reply; SEED=n replays a run, STEPS=n sets its length.
//
// A few keys get integers of every width and strings, and set-max-intset-entries moves
// between small limits and the default, so sets cross from intset to hashtable (and SPOP
// rebuilds them) all the time. After every write the encodings of the keys it names are
// compared, and the run ends with DEBUG DIGEST.
//
// What cannot be compared byte for byte:
// - a hashtable's member order, which is its own hash order: whole-set replies are then
//   compared as sorted multisets behind the same header;
// - SRANDMEMBER and SPOP, which are random: their replies are checked by Redis's rules
//   (length, members only, distinct for a non-negative count), and after an SPOP both
//   servers get Redis's resulting set back, in Redis's encoding.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { Oracle, bulkArray, rng, withHistory } from "../oracle/harness.ts";
import { asMultiset, scanDistinct } from "../oracle/resp.ts";
import { type Maker, type Random, pick, seedFromEnv, stepsFromEnv, weightedCommands } from "../oracle/fuzz.ts";

const STEPS = stepsFromEnv(4000);
const SEED = seedFromEnv();

let o: Oracle;
beforeAll(async () => {
  o = await Oracle.start(["--enable-debug-command", "yes"]);
});
afterAll(() => o.stop());

const KEYS = ["s1", "s2", "s3", "str"];
const SMALL_INTS = Array.from({ length: 16 }, (_, i) => String(i));
const WIDE_INTS = ["-1", "-5", "70000", "-70000", "5000000000", "9007199254740993", "9223372036854775807", "-9223372036854775808"];
const STRINGS = ["a", "b", "c", "", "01", "-0", "x\x00y", "1.5", "9223372036854775808"];
const PATTERNS = ["*", "1*", "?", "*0", "[a-c]", "-*"];

/** A member: mostly small integers, so intsets form and grow past the limits. */
function member(r: Random): string {
  const x = r();
  if (x < 0.65) return pick(r, SMALL_INTS);
  if (x < 0.8) return pick(r, WIDE_INTS);
  return pick(r, STRINGS);
}

const members = (r: Random, max: number): string[] => Array.from({ length: 1 + Math.floor(r() * max) }, () => member(r));
const keys = (r: Random, max: number): string[] => Array.from({ length: 1 + Math.floor(r() * max) }, () => pick(r, KEYS));

/** A count for SPOP and SRANDMEMBER: small ones of both signs, and some that are not counts. */
function count(r: Random): string[] {
  const x = r();
  if (x < 0.25) return [];
  if (x < 0.9) return [String(Math.floor(r() * 24) - (r() < 0.3 ? 12 : 0))];
  return [pick(r, ["x", "", "9223372036854775807", "-9223372036854775808", "1.5"])];
}

function sintercard(r: Random): string[] {
  const sources = keys(r, 3);
  const numkeys = r() < 0.9 ? String(sources.length) : pick(r, ["0", "-1", "9", "x"]);
  const limit = r() < 0.4 ? ["LIMIT", pick(r, ["0", "1", "2", "5", "-1", "x"])] : [];
  return ["SINTERCARD", numkeys, ...sources, ...limit];
}

function scanOptions(r: Random): string[] {
  const options: string[] = [];
  if (r() < 0.5) options.push("COUNT", pick(r, ["1", "3", "10", "100"]));
  if (r() < 0.4) options.push("MATCH", pick(r, PATTERNS));
  return options;
}

const GENERATORS: [number, Maker][] = [
  [8, (r, k) => ["SADD", k, ...members(r, 6)]],
  [4, (r, k) => ["SREM", k, ...members(r, 4)]],
  [1, (_, k) => ["SCARD", k]],
  [1, (r, k) => ["SISMEMBER", k, member(r)]],
  [1, (r, k) => ["SMISMEMBER", k, ...members(r, 4)]],
  [2, (_, k) => ["SMEMBERS", k]],
  [3, (r) => [pick(r, ["SINTER", "SUNION", "SDIFF"]), ...keys(r, 3)]],
  [3, (r, k) => [pick(r, ["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]), k, ...keys(r, 3)]],
  [1, (r) => sintercard(r)],
  [2, (r, k, k2) => ["SMOVE", k, k2, member(r)]],
  [1.5, (r, k) => ["SRANDMEMBER", k, ...count(r)]],
  [1.5, (r, k) => ["SPOP", k, ...count(r)]],
  [1, (r, k) => ["SSCAN-ALL", k, ...scanOptions(r)]],
  [0.5, (_, k) => ["DEL", k]],
  [0.3, () => ["SET", "str", "v"]],
  [0.5, (_, k) => ["DEBUG", "DIGEST-VALUE", k]],
  [0.4, (r) => ["CONFIG", "SET", "set-max-intset-entries", pick(r, ["3", "8", "512"])]],
];
const randomCommand = weightedCommands(GENERATORS, KEYS);

/** Commands whose replies list a set's members in its own order. */
const WHOLE_SET_READS = new Set(["smembers", "sinter", "sunion", "sdiff"]);
const WRITES = new Set(["sadd", "srem", "smove", "sinterstore", "sunionstore", "sdiffstore", "spop", "del", "set"]);

/**
 * SRANDMEMBER or SPOP replies that differ: both must follow Redis's rules for a set that
 * held `before`: the same reply type and length, members only, distinct unless the count
 * is negative.
 */
function expectValidRandom(command: string[], before: string[], want: string, got: string): void {
  const counted = command.length > 2;
  expect(got[0]).toBe(want[0]!);
  if (!counted) {
    expect(before).toContain(bulkArray(`*1\r\n${got}`)[0]!);
    return;
  }
  expect(got.slice(0, got.indexOf("\r\n"))).toBe(want.slice(0, want.indexOf("\r\n")));
  const items = bulkArray(got);
  for (const item of items) expect(before).toContain(item);
  if (!command[2]!.startsWith("-")) expect(new Set(items).size).toBe(items.length);
}

/** After an SPOP, both servers hold Redis's resulting set in Redis's encoding. */
async function resync(key: string): Promise<void> {
  const encoding = await o.r.call("OBJECT", "ENCODING", key);
  const kept = bulkArray(await o.r.call("SMEMBERS", key));
  await o.same("DEL", key);
  if (kept.length === 0) return;
  await o.same("SADD", key, ...kept);
  if (encoding.includes("hashtable")) {
    await o.same("SADD", key, "\x00resync");
    await o.same("SREM", key, "\x00resync");
  }
}

/** set-max-intset-entries as the last CONFIG SET left it. */
let intsetLimit = 512;

/** Whether SPOP or SRANDMEMBER was asked for at least the whole set, which is not random. */
function asksWholeSet(command: string[], before: string[]): boolean {
  return command.length > 2 && /^\d+$/.test(command[2]!) && Number(command[2]) >= before.length;
}

const isInt64 = (s: string): boolean => /^(0|-?[1-9]\d{0,18})$/.test(s) && BigInt(s) >= -(2n ** 63n) && BigInt(s) < 2n ** 63n;

/**
 * Whether Redis's whole-set reply is in an intset's ascending order, which redbun must
 * repeat exactly: SMEMBERS and SRANDMEMBER list the key's own set; SUNION and a whole SPOP
 * list a union built as an intset, which stays one for integers up to the limit.
 */
async function inIntsetOrder(name: string, key: string, want: string): Promise<boolean> {
  if (name === "smembers" || name === "srandmember") return (await o.r.call("OBJECT", "ENCODING", key)).includes("intset");
  if (name !== "sunion" && name !== "spop") return false;
  const items = bulkArray(want);
  return items.length <= intsetLimit && items.every(isInt64);
}

/** Runs one command on both servers and fails on any difference not explained above. */
async function check(command: string[]): Promise<void> {
  const name = command[0]!.toLowerCase();
  if (name === "sscan-all") {
    const args = ["SSCAN", command[1]!, "0", ...command.slice(2)];
    const [want, got] = await Promise.all([scanDistinct(o.r, args), scanDistinct(o.b, args)]);
    expect(got).toEqual(want);
    return;
  }
  const random = name === "spop" || name === "srandmember";
  const before = random ? bulkArray(await o.r.call("SMEMBERS", command[1]!)) : [];
  const [want, got] = await o.both(...command);
  if (want !== got) {
    const whole = random ? asksWholeSet(command, before) : WHOLE_SET_READS.has(name);
    if (want.startsWith("-") || !(whole || random) || (whole && (await inIntsetOrder(name, command[1]!, want)))) {
      expect(got).toBe(want);
    } else if (whole) {
      expect(asMultiset(got)).toBe(asMultiset(want));
    } else {
      expectValidRandom(command, before, want, got);
    }
  }
  if (name === "config" && want.startsWith("+")) intsetLimit = Number(command[3]);
  if (name === "spop" && !want.startsWith("-")) await resync(command[1]!);
  if (WRITES.has(name)) for (const key of command.slice(1)) if (KEYS.includes(key)) await o.same("OBJECT", "ENCODING", key);
}

test(`random set commands match Redis (SEED=${SEED})`, () =>
  withHistory("set fuzz", SEED, async (history) => {
    const r = rng(SEED);
    await o.same("FLUSHALL");
    for (let step = 0; step < STEPS; step++) {
      const command = randomCommand(r);
      history.push(command);
      await check(command);
    }
    for (const key of KEYS) await o.same("DEBUG", "DIGEST-VALUE", key);
    await o.same("DEBUG", "DIGEST");
  }), 120000);
