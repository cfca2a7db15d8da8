// Seeded random sequences of bitmap commands (SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD
// BITFIELD_RO) mixed with the string commands that make their inputs (SET with integers
// and binary values, APPEND, SETRANGE, INCR), sent to the real redis-server and to redbun,
// comparing every reply byte for byte, in RESP2 and RESP3 (HELLO switches), plus the
// dirty count at the end. SEED=n replays a run, STEPS=n changes its length.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { Oracle, rng } from "../oracle/harness.ts";
import { type Maker, type Random, pick, seedFromEnv, stepsFromEnv, weightedCommands } from "../oracle/fuzz.ts";

const STEPS = stepsFromEnv(5000);
const SEED = seedFromEnv();

let o: Oracle;
beforeAll(async () => {
  o = await Oracle.start(["--enable-debug-command", "yes"]);
});
afterAll(() => o.stop());

const KEYS = ["a", "b", "c", "\x00k\xff", "l"];
const VALUES = ["", "a", "foobar", "\x00", "\xff\xff", "\xf0\x0f\xaa\x55", "x".repeat(44), "\xff".repeat(300), "12", "-7", "9223372036854775807"];
/** Bit offsets: small, around byte and inline-size edges, a few kilobytes, invalid. */
const BIT_OFFSETS = ["0", "1", "7", "8", "9", "15", "31", "63", "100", "2039", "2040", "2047", "2048", "20000", "-1", "x", "4294967296"];
const INDEXES = ["0", "1", "2", "3", "-1", "-2", "-3", "5", "-10", "10", "100", "-100", "9223372036854775807", "-9223372036854775808", "x"];
const BIT_INDEXES = ["0", "1", "3", "7", "8", "9", "15", "17", "-1", "-7", "-8", "-9", "-20", "40", "1000", "x"];
const FIELD_TYPES = ["u1", "u3", "u8", "u16", "u31", "u32", "u33", "u53", "u63", "i1", "i4", "i8", "i32", "i53", "i63", "i64", "u64", "i65", "x8"];
const FIELD_OFFSETS = ["0", "1", "5", "8", "13", "64", "100", "#0", "#1", "#3", "#10", "-1", "#-1"];
const FIELD_VALUES = ["0", "1", "-1", "3", "-3", "100", "-100", "255", "-256", "65536", "4294967297", "281474976710656", "-281474976710657", "9223372036854775807", "-9223372036854775808", "x"];

function fieldOperations(r: Random, readOnly: boolean): string[] {
  const out: string[] = [];
  const count = 1 + Math.floor(r() * 4);
  for (let k = 0; k < count; k++) {
    const kind = readOnly && r() < 0.95 ? 0 : Math.floor(r() * 4);
    if (kind === 0) out.push("GET", pick(r, FIELD_TYPES), pick(r, FIELD_OFFSETS));
    else if (kind === 1) out.push("SET", pick(r, FIELD_TYPES), pick(r, FIELD_OFFSETS), pick(r, FIELD_VALUES));
    else if (kind === 2) out.push("INCRBY", pick(r, FIELD_TYPES), pick(r, FIELD_OFFSETS), pick(r, FIELD_VALUES));
    else out.push("OVERFLOW", pick(r, ["WRAP", "SAT", "FAIL", "sat", "bad"]));
  }
  // Now and then a truncated or unknown operation.
  if (r() < 0.03) out.push(pick(r, ["GET", "SET", "bogus"]), "u8");
  return out;
}

function range(r: Random): string[] {
  switch (Math.floor(r() * 4)) {
    case 0:
      return [];
    case 1:
      return [pick(r, INDEXES), pick(r, INDEXES)];
    case 2:
      return [pick(r, BIT_INDEXES), pick(r, BIT_INDEXES), pick(r, ["BIT", "bit", "BYTE", "byte", "bits"])];
    default:
      return [pick(r, INDEXES)];
  }
}

const GENERATORS: [number, Maker][] = [
  [8, (r, k) => ["SETBIT", k, pick(r, BIT_OFFSETS), pick(r, ["0", "1", "1", "2"])]],
  [6, (r, k) => ["GETBIT", k, pick(r, BIT_OFFSETS)]],
  [5, (r, k) => ["BITCOUNT", k, ...range(r)]],
  [5, (r, k) => ["BITPOS", k, pick(r, ["0", "1", "1", "0", "2"]), ...range(r)]],
  [3, (r, k, k2) => ["BITOP", pick(r, ["AND", "OR", "XOR", "NOT", "and", "nand"]), k, k2, ...(r() < 0.5 ? [pick(r, KEYS)] : [])]],
  [6, (r, k) => ["BITFIELD", k, ...fieldOperations(r, false)]],
  [2, (r, k) => ["BITFIELD_RO", k, ...fieldOperations(r, true)]],
  [2, (r, k) => ["SET", k, pick(r, VALUES)]],
  [1, (r, k) => ["APPEND", k, pick(r, VALUES)]],
  [1, (r, k) => ["SETRANGE", k, pick(r, ["0", "3", "250", "300"]), pick(r, ["x", "\xff\x00"])]],
  [1, (_, k) => ["INCR", k]],
  [1, (_, k) => ["LPUSH", k, "x"]],
  [2, (_, k) => ["GET", k]],
  [2, (_, k) => ["OBJECT", "ENCODING", k]],
  [1, (_, k) => ["STRLEN", k]],
  [0.5, (_, k) => ["DEL", k]],
  [0.3, (r) => ["HELLO", pick(r, ["2", "3"])]],
];
const randomCommand = weightedCommands(GENERATORS, KEYS);

/** Run one command on both servers; HELLO's reply describes the server, so only its kind is compared. */
async function check(command: string[]): Promise<void> {
  const [want, got] = await o.both(...command);
  if (command[0] === "HELLO" && !want.startsWith("-") && !got.startsWith("-")) return;
  expect(got).toBe(want);
}

/** The counters the run must move alike: changes (which decide propagation), keyspace hits and misses. */
async function counters(): Promise<[string, string]> {
  const infos = await o.both("INFO", "all");
  return infos.map((info) =>
    ["rdb_changes_since_last_save", "keyspace_hits", "keyspace_misses"].map((name) => new RegExp(`${name}:(\\d+)`).exec(info)![1]).join(" "),
  ) as [string, string];
}

test(`random bitmap commands match Redis (SEED=${SEED})`, async () => {
  const r = rng(SEED);
  const history: string[][] = [];
  try {
    await o.same("FLUSHALL");
    // RESETSTAT zeroes the hits and misses; the changes count on, so only deltas are compared.
    await o.same("CONFIG", "RESETSTAT");
    const start = await counters();
    for (let step = 0; step < STEPS; step++) {
      const command = randomCommand(r);
      history.push(command);
      await check(command);
    }
    for (const key of KEYS) await check(["GET", key]);
    await check(["DEBUG", "DIGEST"]);
    const end = await counters();
    const delta = (from: string, to: string): number[] => to.split(" ").map((v, i) => Number(v) - Number(from.split(" ")[i]));
    expect(delta(start[1], end[1])).toEqual(delta(start[0], end[0]));
  } catch (e) {
    const tail = history.slice(-15).map((c) => JSON.stringify(c)).join("\n  ");
    console.error(`bitmap fuzzer failed: replay with SEED=${SEED}\nlast commands:\n  ${tail}`);
    throw e;
  }
}, 120_000);
