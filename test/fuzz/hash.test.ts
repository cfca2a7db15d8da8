// Seeded random sequences of hash commands over a few keys, sent to the real redis-server
// and to redbun, comparing every reply, in RESP2 and RESP3. SEED=n replays a run, STEPS=n
// changes its length, HISTORY=n prints more of the commands before a failure.
//
// The encoding limits start small and change during the run (CONFIG SET on both), and the
// fields and values have lengths on both sides of them, so hashes keep crossing from
// listpack to hashtable. A listpack's replies must be byte for byte Redis's. A hashtable's
// order is its own: its HKEYS, HVALS and HGETALL are compared as multisets, an HSCAN as the
// set of pairs a whole iteration returns, and HRANDFIELD, random everywhere, by its promises
// (how many, members with their values, distinct for a positive count). OBJECT ENCODING
// and DEBUG DIGEST-VALUE are among the commands, and the run ends with DEBUG DIGEST.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { Oracle, rng, withHistory } from "../oracle/harness.ts";
import { canonical, inPairs, rawItems, scanPairs } from "../oracle/resp.ts";
import { type Maker, type Random, pick, seedFromEnv, stepsFromEnv, weightedCommands } from "../oracle/fuzz.ts";

const STEPS = stepsFromEnv(12000);
const SEED = seedFromEnv();

let o: Oracle;
beforeAll(async () => {
  o = await Oracle.start(["--enable-debug-command", "yes"]);
});
afterAll(() => o.stop());

const KEYS = ["h1", "h2", "h3", "\x00h\xff", "str"];
/** Limits the run moves between: small ones so that conversions happen often. */
const ENTRY_LIMITS = ["0", "1", "2", "4", "4", "8", "8", "16", "128"];
const VALUE_LIMITS = ["0", "4", "8", "16", "64", "64", "64", "64"];
const FIELDS = [
  "a", "b", "c", "d", "e", "f", "", "1", "-5", "007", "12345", "9223372036854775807", "\x00", "\xff\xfe", "a*", "[x]",
  "f".repeat(4), "f".repeat(5), "g".repeat(8), "g".repeat(9), "h".repeat(16), "h".repeat(17), "i".repeat(65),
];
const VALUES = [
  "", "v", "0", "1", "-1", "42", "4095", "-4096", "32768", "9223372036854775807", "-9223372036854775808", "1.5", "-0.25",
  "1e3", " 1", "01", "abc", "\x00\xff", "w".repeat(4), "w".repeat(5), "w".repeat(8), "w".repeat(9), "z".repeat(17), "z".repeat(65),
];
const INCREMENTS = ["1", "-1", "0", "7", "-100", "1000000", "9223372036854775807", "-9223372036854775808", "x", "1.5", ""];
const FLOAT_INCREMENTS = ["0.1", "-0.3", "1", "2.5e2", "1e-17", "1e20", "-1e20", "0x1p-2", "inf", "nan", "x", "1e300", "-0"];
const COUNTS = ["0", "1", "2", "3", "5", "20", "-1", "-2", "-7", "x", "-9223372036854775808", "9223372036854775807"];
const PATTERNS = ["*", "a*", "?", "[a-c]", "*\x00*", "g*", "1*", "nomatch", "\\[x]"];

/**
 * A field, most often one of the first few, so that writes often update fields a hash
 * already has (an update converts too when a lowered limit is already exceeded).
 */
const field = (r: Random): string => pick(r, r() < 0.6 ? FIELDS.slice(0, 6) : FIELDS);
const fields = (r: Random, max: number): string[] => Array.from({ length: 1 + Math.floor(r() * max) }, () => field(r));
const pairs = (r: Random, max: number): string[] => fields(r, max).flatMap((f) => [f, pick(r, VALUES)]);

const GENERATORS: [number, Maker][] = [
  [8, (r, k) => ["HSET", k, ...pairs(r, 4)]],
  [1, (r, k) => ["HMSET", k, ...pairs(r, 3)]],
  [0.2, (r, k) => [pick(r, ["HSET", "HMSET"]), k, ...pairs(r, 2), "odd"]],
  [2, (r, k) => ["HSETNX", k, field(r), pick(r, VALUES)]],
  [4, (r, k) => ["HGET", k, field(r)]],
  [2, (r, k) => ["HMGET", k, ...fields(r, 4)]],
  [4, (r, k) => ["HDEL", k, ...fields(r, 3)]],
  [2, (_, k) => ["HLEN", k]],
  [2, (r, k) => ["HSTRLEN", k, field(r)]],
  [2, (r, k) => ["HEXISTS", k, field(r)]],
  [2, (r, k) => [pick(r, ["HKEYS", "HVALS", "HGETALL"]), k]],
  [4, (r, k) => ["HINCRBY", k, field(r), pick(r, INCREMENTS)]],
  [3, (r, k) => ["HINCRBYFLOAT", k, field(r), pick(r, FLOAT_INCREMENTS)]],
  [3, (r, k) => ["HRANDFIELD", k, ...randomOptions(r)]],
  [2, (r, k) => ["HSCAN", k, pick(r, ["0", "0", "0", "7", "x"]), ...scanOptions(r)]],
  [2, (_, k) => ["OBJECT", "ENCODING", k]],
  [2, (_, k) => ["DEBUG", "DIGEST-VALUE", k]],
  [2, (_, k) => ["DEL", k]],
  [0.1, (_, k) => ["SET", k, "string"]],
  [0.5, (r, k, k2) => (r() < 0.5 ? ["RENAME", k, k2] : ["COPY", k, k2, ...(r() < 0.5 ? ["REPLACE"] : [])])],
  [0.6, (r) => ["CONFIG", "SET", pick(r, ["hash-max-listpack-entries", "hash-max-listpack-value"]), "LIMIT"]],
  [0.3, (r) => ["HELLO", pick(r, ["2", "3"])]],
];
const randomCommand = weightedCommands(GENERATORS, KEYS);

function randomOptions(r: Random): string[] {
  const roll = r();
  if (roll < 0.2) return [];
  if (roll < 0.6) return [pick(r, COUNTS)];
  return [pick(r, COUNTS), r() < 0.9 ? "WITHVALUES" : "withvalue"];
}

function scanOptions(r: Random): string[] {
  const options: string[] = [];
  if (r() < 0.4) options.push("COUNT", pick(r, ["1", "2", "10", "0", "x"]));
  if (r() < 0.4) options.push("MATCH", pick(r, PATTERNS));
  if (r() < 0.05) options.push(pick(r, ["BOGUS", "TYPE", "COUNT"]));
  return options;
}

/** Commands that may change a key's encoding: its encoding is compared after each. */
const WRITES = new Set(["hset", "hmset", "hsetnx", "hdel", "hincrby", "hincrbyfloat", "copy", "rename"]);

/**
 * Runs one command on both servers, then compares the encoding of the keys a write
 * touched, so that a conversion missed is caught at once rather than by a later read.
 */
async function checkStep(command: string[], resp: number): Promise<void> {
  await check(command, resp);
  if (!WRITES.has(command[0]!.toLowerCase())) return;
  for (const key of command.slice(1, 3)) if (KEYS.includes(key)) await o.same("OBJECT", "ENCODING", key);
}

/** Runs one command on both servers and fails on any difference the rules above do not allow. */
async function check(command: string[], resp: number): Promise<void> {
  const name = command[0]!.toLowerCase();
  const key = command[1] ?? "";
  const enc = name === "config" || name === "hello" ? "none" : await o.encodingOf(key);
  if (name === "hscan" && enc === "hashtable") return checkScan(command);
  if (name === "hrandfield") return checkRandom(command, resp, enc);
  const [want, got] = await o.both(...command);
  if (want === got) return;
  if (name === "hello" && !want.startsWith("-") && !got.startsWith("-")) return;
  if (enc === "hashtable" && (name === "hkeys" || name === "hvals" || name === "hgetall") && !want.startsWith("-")) {
    expect(got.slice(0, got.indexOf("\r\n"))).toBe(want.slice(0, want.indexOf("\r\n")));
    expect(canonical(rawItems(got))).toEqual(canonical(rawItems(want)));
    return;
  }
  expect(got).toBe(want);
}

/**
 * HSCAN of a hashtable: cursors differ, so each server runs the whole iteration with the
 * same options and the pairs must be the same. A first call with another cursor than 0
 * need only succeed or fail alike.
 */
async function checkScan(command: string[]): Promise<void> {
  const [want, got] = await o.both(...command);
  if (want.startsWith("-") || got.startsWith("-")) return void expect(got).toBe(want);
  if (command[2] !== "0") return;
  const [wantPairs, gotPairs] = await Promise.all([scanPairs(o.r, command), scanPairs(o.b, command)]);
  expect(canonical(gotPairs)).toEqual(canonical(wantPairs));
}

/** HRANDFIELD: errors and the whole-listpack replies exactly, random picks by their rules. */
async function checkRandom(command: string[], resp: number, enc: string): Promise<void> {
  const [contentsReply] = await o.both("HGETALL", command[1]!);
  const contents = new Map(contentsReply.startsWith("-") ? [] : inPairs(rawItems(contentsReply)));
  const [want, got] = await o.both(...command);
  const count = command.length > 2 ? Number(command[2]) : null;
  const whole = count !== null && (count === 0 || count >= contents.size);
  if (want.startsWith("-") || got.startsWith("-") || enc === "none" || (whole && enc === "listpack")) {
    return void expect(got).toBe(want);
  }
  for (const reply of [want, got]) expectRandomPicks(reply, count, command.length === 4, resp, contents);
}

function expectRandomPicks(reply: string, count: number | null, withValues: boolean, resp: number, contents: Map<string, string>): void {
  if (count === null) return void expect(contents.has(reply)).toBe(true);
  const items = rawItems(reply);
  let picks: [string, string | null][];
  if (!withValues) picks = items.map((f) => [f, null]);
  else if (resp === 3) picks = items.map((pair) => rawItems(pair) as [string, string]);
  else picks = inPairs(items);
  expect(picks.length).toBe(count >= 0 ? Math.min(count, contents.size) : -count);
  for (const [field, value] of picks) {
    expect(contents.has(field)).toBe(true);
    if (value !== null) expect(value).toBe(contents.get(field)!);
  }
  if (count > 0) expect(new Set(picks.map(([f]) => f)).size).toBe(picks.length);
}

test(`random hash commands match Redis (SEED=${SEED})`, () =>
  withHistory("hash fuzz", SEED, async (history) => {
    const r = rng(SEED);
    let resp = 2;
    await o.same("FLUSHALL");
    await o.same("CONFIG", "SET", "hash-max-listpack-entries", pick(r, ENTRY_LIMITS), "hash-max-listpack-value", pick(r, VALUE_LIMITS));
    for (let step = 0; step < STEPS; step++) {
      const command = randomCommand(r);
      if (command[0] === "CONFIG") command[3] = pick(r, command[2] === "hash-max-listpack-entries" ? ENTRY_LIMITS : VALUE_LIMITS);
      history.push(command);
      await checkStep(command, resp);
      if (command[0] === "HELLO") resp = Number(command[1]);
    }
    for (const key of KEYS) {
      await check(["HGETALL", key], resp);
      await check(["OBJECT", "ENCODING", key], resp);
    }
    await o.same("DEBUG", "DIGEST");
  }), 120000);
