// Seeded random sequences of list commands over a few keys, sent to the real redis-server
// and to redbun, comparing every reply byte for byte in RESP2 and RESP3, the quicklist
// shape DEBUG OBJECT reports (ql_nodes, ql_avg_node, ql_listpack_max, ql_uncompressed_size)
// after every write, and the whole data set's DEBUG DIGEST at the end. Each run draws its
// own list-max-listpack-size values and packed threshold, so splits, merges and plain
// nodes all happen. SEED=n replays a run, STEPS=n changes its length.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { Oracle, rng } from "../oracle/harness.ts";
import { type Maker, type Random, pick, seedFromEnv, stepsFromEnv, weightedCommands } from "../oracle/fuzz.ts";

const STEPS = stepsFromEnv(3000);
const SEED = seedFromEnv();

let o: Oracle;
beforeAll(async () => {
  o = await Oracle.start(["--enable-debug-command", "yes"]);
});
afterAll(() => o.stop());

const chance = (r: Random, p: number): boolean => r() < p;

const KEYS = ["l1", "l2", "l3", "\x00k\xff", "s"];
const LIST_KEYS = KEYS.slice(0, 4);
const SHORT = ["", "a", "b", "c", "hello", "\x00\xff\r\n", "0", "1", "-1", "127", "128", "-4096", "4095", "32767", "-8388608",
  "2147483647", "9007199254740993", "9223372036854775807", "-9223372036854775808", "9223372036854775808", "01", "-0", " 1"];
/** A value of some length; long ones fill nodes quickly and cross the packed threshold. */
function value(r: Random): string {
  if (chance(r, 0.75)) return pick(r, SHORT);
  const len = pick(r, [20, 63, 64, 100, 300, 1000, 4095, 4096, 5000]);
  return String.fromCharCode(97 + Math.floor(r() * 3)).repeat(len);
}
const values = (r: Random, max: number): string[] => Array.from({ length: 1 + Math.floor(r() * max) }, () => value(r));
const INDEXES = ["0", "1", "2", "5", "-1", "-2", "-3", "10", "-10", "100", "-100", "9223372036854775807", "-9223372036854775808", "x"];
const index = (r: Random): string => (chance(r, 0.6) ? String(Math.floor(r() * 40) - 20) : pick(r, INDEXES));
const COUNTS = ["0", "1", "2", "3", "10", "100", "-1", "x", "9223372036854775807"];
const END = (r: Random): string => pick(r, ["LEFT", "RIGHT", "left", "Right", "middle"]);

function lposOptions(r: Random): string[] {
  const out: string[] = [];
  if (chance(r, 0.4)) out.push("RANK", pick(r, ["1", "2", "-1", "-2", "3", "0", "-9223372036854775808", "x"]));
  if (chance(r, 0.4)) out.push("COUNT", pick(r, ["0", "1", "2", "-1"]));
  if (chance(r, 0.3)) out.push("MAXLEN", pick(r, ["0", "1", "5", "-1"]));
  if (chance(r, 0.03)) out.push(pick(r, ["RANK", "BOGUS"]));
  return out;
}

/** list-max-listpack-size values: every byte limit, small counts, 0, and out-of-range ones Redis clamps. */
const FILLS = ["-1", "-2", "-3", "-4", "-5", "-6", "0", "1", "2", "3", "5", "16", "40000"];
const THRESHOLDS = ["0", "0", "100", "1000", "5000"];

const GENERATORS: [number, Maker][] = [
  [8, (r, k) => [pick(r, ["LPUSH", "RPUSH"]), k, ...values(r, 12)]],
  [2, (r, k) => [pick(r, ["LPUSHX", "RPUSHX"]), k, ...values(r, 3)]],
  [4, (r, k) => [pick(r, ["LPOP", "RPOP"]), k, ...(chance(r, 0.5) ? [pick(r, COUNTS)] : [])]],
  [2, (_, k) => ["LLEN", k]],
  [3, (r, k) => ["LRANGE", k, index(r), index(r)]],
  [2, (r, k) => ["LINDEX", k, index(r)]],
  [4, (r, k) => ["LSET", k, index(r), value(r)]],
  [6, (r, k) => ["LINSERT", k, pick(r, ["BEFORE", "AFTER", "after", "x"]), pick(r, SHORT), value(r)]],
  [3, (r, k) => ["LREM", k, pick(r, ["0", "1", "2", "-1", "-2", "-9223372036854775808"]), pick(r, SHORT)]],
  [2, (r, k) => ["LTRIM", k, index(r), index(r)]],
  [2, (r, k) => ["LPOS", k, pick(r, SHORT), ...lposOptions(r)]],
  [3, (r, k, k2) => ["LMOVE", k, k2, END(r), END(r)]],
  [1, (_, k, k2) => ["RPOPLPUSH", k, k2]],
  [2, (r, k, k2) => ["LMPOP", pick(r, ["1", "2", "0"]), k, k2, END(r), ...(chance(r, 0.5) ? ["COUNT", pick(r, COUNTS)] : [])]],
  [0.5, (r) => ["SET", "s", pick(r, SHORT)]],
  [0.2, (_, k) => ["DEL", k]],
  [0.5, (r) => ["HELLO", pick(r, ["2", "3"])]],
  [1, (_, k) => ["DEBUG", "DIGEST-VALUE", k]],
  [0.3, (r) => ["CONFIG", "SET", "list-max-listpack-size", pick(r, FILLS)]],
  [0.2, (r) => ["DEBUG", "QUICKLIST-PACKED-THRESHOLD", pick(r, THRESHOLDS)]],
  // Compression depth changes which nodes are held compressed, never where nodes split.
  [0.2, (r) => ["CONFIG", "SET", "list-compress-depth", pick(r, ["0", "1", "2"])]],
];
const randomCommand = weightedCommands(GENERATORS, KEYS);

const WRITES = new Set(["LPUSH", "RPUSH", "LPUSHX", "RPUSHX", "LPOP", "RPOP", "LSET", "LINSERT", "LREM", "LTRIM", "LMOVE", "RPOPLPUSH", "LMPOP"]);

/** The quicklist fields of a DEBUG OBJECT reply; an error, or any other type, as such. */
function quicklistShape(reply: string): string {
  const at = reply.indexOf(" ql_nodes:");
  if (at >= 0) return reply.slice(at);
  return reply.startsWith("-") ? reply : "(not a list)";
}

async function check(command: string[]): Promise<void> {
  const [want, got] = await o.both(...command);
  // HELLO describes the server itself (name, version, id): only the protocol switch matters.
  if (command[0] === "HELLO" && !want.startsWith("-") && !got.startsWith("-")) return;
  expect(got).toBe(want);
  if (!WRITES.has(command[0]!)) return;
  for (const key of LIST_KEYS) {
    const [a, b] = await o.both("DEBUG", "OBJECT", key);
    expect(quicklistShape(b)).toBe(quicklistShape(a));
  }
}

test(`random list commands match Redis (SEED=${SEED})`, async () => {
  const r = rng(SEED);
  const history: string[][] = [];
  const setup = [
    ["FLUSHALL"],
    ["CONFIG", "SET", "list-max-listpack-size", pick(r, FILLS)],
    ["DEBUG", "QUICKLIST-PACKED-THRESHOLD", pick(r, THRESHOLDS)],
  ];
  try {
    for (const command of setup) {
      history.push(command);
      await o.same(...command);
    }
    for (let step = 0; step < STEPS; step++) {
      const command = randomCommand(r);
      history.push(command);
      await check(command);
    }
    await o.same("DEBUG", "DIGEST");
  } catch (e) {
    const tail = history.slice(-15).map((c) => JSON.stringify(c.map((a) => (a.length > 40 ? `${a.slice(0, 8)}..x${a.length}` : a)))).join("\n  ");
    console.error(`list fuzzer failed: replay with SEED=${SEED}\nsetup: ${JSON.stringify(setup)}\nlast commands:\n  ${tail}`);
    throw e;
  }
}, 120_000);
