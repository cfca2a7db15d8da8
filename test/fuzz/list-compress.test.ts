// Seeded random sequences of list commands with list-compress-depth 0 to 3, sent to the
// real redis-server and to redbun. Besides every reply, the whole DEBUG OBJECT of each list
// (serializedlength included, which counts compressed nodes as their LZF bytes, and raw
// ones as they are while rdbcompression is off, as it mostly is here) must match
// after every command, reads included, since reading a list decompresses and recompresses
// its nodes; DUMP payloads are compared now and then, and a payload Redis made is restored
// into redbun and compared again. Values are either compressible (runs of a letter) or not
// (random bytes), short or long, so nodes both compress and fail to.
// SEED=n replays a run, STEPS=n changes its length.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { Oracle, rng, withHistory } from "../oracle/harness.ts";
import { type Maker, type Random, pick, seedFromEnv, stepsFromEnv, weightedCommands } from "../oracle/fuzz.ts";

const STEPS = stepsFromEnv(1500);
const SEED = seedFromEnv();

let o: Oracle;
beforeAll(async () => {
  o = await Oracle.start(["--enable-debug-command", "yes"]);
});
afterAll(() => o.stop());

const chance = (r: Random, p: number): boolean => r() < p;

const KEYS = ["l1", "l2", "l3"];
const SHORT = ["a", "b", "1", "127", "-5", "hello"];

/** A value that LZF shrinks (a run of one letter) or does not (random bytes), of some length. */
function value(r: Random): string {
  if (chance(r, 0.3)) return pick(r, SHORT);
  const len = pick(r, [5, 12, 30, 47, 48, 60, 100, 250]);
  if (chance(r, 0.6)) return String.fromCharCode(97 + Math.floor(r() * 3)).repeat(len);
  let s = "";
  for (let i = 0; i < len; i++) s += String.fromCharCode(Math.floor(r() * 256));
  return s;
}
const values = (r: Random, max: number): string[] => Array.from({ length: 1 + Math.floor(r() * max) }, () => value(r));
const index = (r: Random): string => String(Math.floor(r() * 60) - 30);
const END = (r: Random): string => pick(r, ["LEFT", "RIGHT"]);
/** Small fills make many nodes out of few elements. */
const FILLS = ["1", "2", "3", "4", "6", "-1"];
const DEPTHS = ["0", "1", "2", "3"];

const GENERATORS: [number, Maker][] = [
  [10, (r, k) => [pick(r, ["LPUSH", "RPUSH"]), k, ...values(r, 8)]],
  [4, (r, k) => [pick(r, ["LPOP", "RPOP"]), k, ...(chance(r, 0.4) ? [pick(r, ["1", "2", "5"])] : [])]],
  [4, (r, k) => ["LRANGE", k, index(r), index(r)]],
  [4, (r, k) => ["LINDEX", k, index(r)]],
  [5, (r, k) => ["LSET", k, index(r), value(r)]],
  [6, (r, k) => ["LINSERT", k, pick(r, ["BEFORE", "AFTER"]), pick(r, SHORT), value(r)]],
  [3, (r, k) => ["LREM", k, pick(r, ["0", "1", "2", "-1", "-2"]), pick(r, SHORT)]],
  [2, (r, k) => ["LTRIM", k, index(r), index(r)]],
  [2, (r, k) => ["LPOS", k, pick(r, SHORT), ...(chance(r, 0.5) ? ["MAXLEN", pick(r, ["1", "3", "7"])] : [])]],
  [2, (r, k, k2) => ["LMOVE", k, k2, END(r), END(r)]],
  [1, (r, k, k2) => ["LMPOP", "2", k, k2, END(r), "COUNT", pick(r, ["1", "3"])]],
  [0.5, (_, k, k2) => ["COPY", k, k2, "REPLACE"]],
  [0.3, (_, k) => ["SORT", k, "BY", "nosort", "LIMIT", "1", "3"]],
  [0.2, (_, k) => ["DEL", k]],
  [0.5, (r) => ["CONFIG", "SET", "list-compress-depth", pick(r, DEPTHS)]],
  [0.3, (r) => ["CONFIG", "SET", "list-max-listpack-size", pick(r, FILLS)]],
  [0.2, (r) => ["DEBUG", "QUICKLIST-PACKED-THRESHOLD", pick(r, ["0", "100"])]],
  [0.1, (r) => ["CONFIG", "SET", "rdbcompression", pick(r, ["no", "no", "yes"])]],
];
const randomCommand = weightedCommands(GENERATORS, KEYS);

/** DEBUG OBJECT without what differs between any two servers: the address and the LRU clock. */
function objectShape(reply: string): string {
  const at = reply.indexOf(" encoding:");
  if (at < 0) return reply;
  return reply.slice(at).replace(/ lru:\d+ lru_seconds_idle:\d+/, "");
}

async function checkObjects(): Promise<void> {
  for (const key of KEYS) {
    const [a, b] = await o.both("DEBUG", "OBJECT", key);
    expect(objectShape(b)).toBe(objectShape(a));
  }
}

/** DUMP payloads must be equal; Redis's, restored into redbun, must make the same list. */
async function checkDumps(): Promise<void> {
  for (const key of KEYS) {
    const payload = await o.same("DUMP", key);
    if (payload.startsWith("$-1")) continue;
    const bytes = payload.slice(payload.indexOf("\r\n") + 2, -2);
    await o.same("RESTORE", "restored", "0", bytes, "REPLACE");
    const [a, b] = await o.both("DEBUG", "OBJECT", "restored");
    expect(objectShape(b)).toBe(objectShape(a));
    await o.same("LRANGE", "restored", "0", "-1");
  }
}

test(`random list commands compress nodes as Redis does (SEED=${SEED})`, async () => {
  const r = rng(SEED);
  await withHistory("list-compress fuzzer", SEED, async (history) => {
    const setup = [
      ["FLUSHALL"],
      ["CONFIG", "SET", "list-max-listpack-size", pick(r, FILLS)],
      ["CONFIG", "SET", "list-compress-depth", pick(r, ["1", "2", "3"])],
      ["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0"],
      // With rdbcompression on, a raw node saves as the same LZF bytes it would be held as.
      ["CONFIG", "SET", "rdbcompression", "no"],
    ];
    for (const command of [...setup, ...Array.from({ length: STEPS }, () => randomCommand(r))]) {
      history.push(command);
      await o.same(...command);
      await checkObjects();
      if (history.length % 50 === 0) await checkDumps();
    }
    await o.same("DEBUG", "DIGEST");
  });
}, 120_000);
