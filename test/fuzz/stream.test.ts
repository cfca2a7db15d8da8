// Seeded random sequences of stream commands sent to the real redis-server and to redbun:
// XADD with every trimming form, XDEL, XTRIM, XSETID, XRANGE, XREVRANGE, XREAD, XLEN,
// XINFO, and the consumer group commands (XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM,
// XAUTOCLAIM; clock-dependent numbers normalized, min-idle times all or nothing), under small and changing stream-node-max-entries / -bytes so that streams span
// many nodes. Every reply must match, XINFO STREAM (node counts included) and DUMP
// payloads too, which holds only if the nodes are cut, flagged and dropped as Redis does.
// IDs are explicit (or `ms-*`), drawn around a clock that moves forward, so that both
// servers choose the same IDs. SEED=n replays a run, STEPS=n changes its length.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { Oracle, rng, withHistory } from "../oracle/harness.ts";
import { type Random, pick, seedFromEnv, stepsFromEnv, weightedCommands } from "../oracle/fuzz.ts";
import { normalizeTimes } from "../oracle/stream-times.ts";
import { dumpPayload } from "../oracle/dump.ts";

const STEPS = stepsFromEnv(1500);
const SEED = seedFromEnv();

let o: Oracle;
beforeAll(async () => {
  o = await Oracle.start(["--enable-debug-command", "yes"]);
});
afterAll(() => o.stop());

const KEYS = ["s1", "s2", "s3"];
const FIELDS = ["f", "g", "h", "12", "field-with-a-longer-name"];
const chance = (r: Random, p: number): boolean => r() < p;

/** The ms part IDs are drawn around; moves forward as entries are added. */
let clock = 1;

function value(r: Random): string {
  if (chance(r, 0.3)) return String(Math.floor(r() * 100000) - 500);
  if (chance(r, 0.1)) return "x".repeat(Math.floor(r() * 300));
  return pick(r, ["a", "bb", "", "v", "\x00\xff"]);
}

/** Field-value pairs: mostly the same fields in the same order, so that entries share the master's. */
function pairs(r: Random): string[] {
  const count = 1 + Math.floor(r() * 3);
  const shuffled = chance(r, 0.2);
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(shuffled ? pick(r, FIELDS) : FIELDS[i]!, value(r));
  return out;
}

function ms(r: Random): string {
  return String(Math.max(0, clock - Math.floor(r() * 6)));
}

/** An ID near the clock, in any of the forms range commands take. */
function id(r: Random): string {
  const x = r();
  if (x < 0.05) return "-";
  if (x < 0.1) return "+";
  if (x < 0.25) return ms(r);
  const full = `${ms(r)}-${Math.floor(r() * 3)}`;
  return chance(r, 0.15) ? `(${full}` : full;
}

function exactId(r: Random): string {
  return `${ms(r)}-${Math.floor(r() * 3)}`;
}

function newId(r: Random): string {
  clock += Math.floor(r() * 3);
  const x = r();
  if (x < 0.3) return `${clock}-*`;
  if (x < 0.4) return String(clock);
  return `${clock}-${Math.floor(r() * 3)}`;
}

function trim(r: Random): string[] {
  const strategy = chance(r, 0.6) ? "MAXLEN" : "MINID";
  const mode = pick(r, ["", "=", "~"]);
  const threshold = strategy === "MAXLEN" ? String(Math.floor(r() * 30)) : exactId(r);
  const out = [strategy, ...(mode ? [mode] : []), threshold];
  if (mode === "~" && chance(r, 0.3)) out.push("LIMIT", String(Math.floor(r() * 12)));
  return out;
}

const GENERATORS: [number, (r: Random, k: string, k2: string) => string[]][] = [
  [20, (r, k) => ["XADD", k, ...(chance(r, 0.05) ? ["NOMKSTREAM"] : []), ...(chance(r, 0.15) ? trim(r) : []), newId(r), ...pairs(r)]],
  [4, (r, k) => ["XDEL", k, ...Array.from({ length: 1 + Math.floor(r() * 3) }, () => exactId(r))]],
  [2, (r, k) => ["XTRIM", k, ...trim(r)]],
  [4, (r, k) => ["XRANGE", k, id(r), id(r), ...(chance(r, 0.3) ? ["COUNT", String(Math.floor(r() * 5))] : [])]],
  [4, (r, k) => ["XREVRANGE", k, id(r), id(r), ...(chance(r, 0.3) ? ["COUNT", String(Math.floor(r() * 5))] : [])]],
  [2, (r, k, k2) => ["XREAD", ...(chance(r, 0.5) ? ["COUNT", String(Math.floor(r() * 4))] : []), "STREAMS", k, k2, exactId(r), pick(r, ["$", exactId(r)])]],
  [1, (_, k) => ["XLEN", k]],
  [1, (r, k) => ["XSETID", k, `${clock + Math.floor(r() * 2)}-${Math.floor(r() * 3)}`, ...(chance(r, 0.3) ? ["ENTRIESADDED", String(Math.floor(r() * 200))] : []), ...(chance(r, 0.3) ? ["MAXDELETEDID", exactId(r)] : [])]],
  [2, (r, k) => ["XINFO", "STREAM", k, ...(chance(r, 0.5) ? ["FULL", "COUNT", String(Math.floor(r() * 4))] : [])]],
  [1, (_, k) => ["DEBUG", "DIGEST-VALUE", k]],
  [0.5, (_, k) => ["DUMP", k]],
  [0.3, (_, k, k2) => ["COPY", k, k2, "REPLACE"]],
  [0.2, (_, k) => ["DEL", k]],
  [0.4, (r) => ["CONFIG", "SET", "stream-node-max-entries", pick(r, ["0", "1", "2", "3", "5", "100"])]],
];
const GROUPS = ["g1", "g2"];
const CONSUMERS = ["c1", "c2", "c3"];

/** A group's start: an ID near the clock, `$`, or 0. */
function groupStart(r: Random): string {
  return pick(r, ["$", "0", exactId(r), exactId(r)]);
}

function entriesRead(r: Random): string[] {
  return chance(r, 0.3) ? ["ENTRIESREAD", String(Math.floor(r() * 40) - 1)] : [];
}

/** A min-idle-time that either every pending entry meets or none does, whatever the clock. */
function minIdle(r: Random): string {
  return pick(r, ["0", "0", "100000000"]);
}

function ids(r: Random): string[] {
  return Array.from({ length: 1 + Math.floor(r() * 3) }, () => exactId(r));
}

const GROUP_GENERATORS: [number, (r: Random, k: string, k2: string) => string[]][] = [
  [2, (r, k) => ["XGROUP", "CREATE", k, pick(r, GROUPS), groupStart(r), ...(chance(r, 0.5) ? ["MKSTREAM"] : []), ...entriesRead(r)]],
  [1, (r, k) => ["XGROUP", "SETID", k, pick(r, GROUPS), groupStart(r), ...entriesRead(r)]],
  [0.2, (r, k) => ["XGROUP", "DESTROY", k, pick(r, GROUPS)]],
  [0.5, (r, k) => ["XGROUP", "CREATECONSUMER", k, pick(r, GROUPS), pick(r, CONSUMERS)]],
  [0.3, (r, k) => ["XGROUP", "DELCONSUMER", k, pick(r, GROUPS), pick(r, CONSUMERS)]],
  [6, (r, k, k2) => {
    const two = chance(r, 0.2);
    const id = () => (chance(r, 0.7) ? ">" : pick(r, ["0", exactId(r)]));
    return ["XREADGROUP", "GROUP", pick(r, GROUPS), pick(r, CONSUMERS), ...(chance(r, 0.6) ? ["COUNT", String(Math.floor(r() * 4))] : []), ...(chance(r, 0.15) ? ["NOACK"] : []), "STREAMS", k, ...(two ? [k2] : []), id(), ...(two ? [id()] : [])];
  }],
  [3, (r, k) => ["XACK", k, pick(r, GROUPS), ...ids(r)]],
  [2, (r, k) => ["XPENDING", k, pick(r, GROUPS)]],
  [2, (r, k) => ["XPENDING", k, pick(r, GROUPS), ...(chance(r, 0.3) ? ["IDLE", minIdle(r)] : []), id(r), id(r), String(Math.floor(r() * 6)), ...(chance(r, 0.3) ? [pick(r, CONSUMERS)] : [])]],
  [3, (r, k) => {
    const options: string[] = [];
    if (chance(r, 0.2)) options.push("JUSTID");
    if (chance(r, 0.2)) options.push("FORCE");
    if (chance(r, 0.2)) options.push("RETRYCOUNT", String(Math.floor(r() * 5)));
    if (chance(r, 0.1)) options.push("TIME", "1000");
    if (chance(r, 0.1)) options.push("LASTID", exactId(r));
    return ["XCLAIM", k, pick(r, GROUPS), pick(r, CONSUMERS), minIdle(r), ...ids(r), ...options];
  }],
  [2, (r, k) => ["XAUTOCLAIM", k, pick(r, GROUPS), pick(r, CONSUMERS), minIdle(r), pick(r, ["-", "0", exactId(r)]), ...(chance(r, 0.5) ? ["COUNT", String(1 + Math.floor(r() * 4))] : []), ...(chance(r, 0.3) ? ["JUSTID"] : [])]],
  [1, (_, k) => ["XINFO", "GROUPS", k]],
  [1, (r, k) => ["XINFO", "CONSUMERS", k, pick(r, GROUPS)]],
];
const randomCommand = weightedCommands([...GENERATORS, ...GROUP_GENERATORS], KEYS);

/**
 * DUMP payloads of streams with groups hold delivery and seen times, which differ between
 * the servers: redbun's payload must restore in Redis to the stream redbun holds, times
 * included.
 */
async function sameRestoredInRedis(key: string, dumpReply: string): Promise<void> {
  expect(await o.r.call("RESTORE", "dump-check", "0", dumpPayload(dumpReply)!, "REPLACE")).toBe("+OK\r\n");
  const restored = await o.r.call("XINFO", "STREAM", "dump-check", "FULL", "COUNT", "0");
  expect(restored).toBe(await o.b.call("XINFO", "STREAM", key, "FULL", "COUNT", "0"));
  await o.r.call("DEL", "dump-check");
}

test(`random stream commands match Redis (SEED=${SEED})`, async () => {
  const r = rng(SEED);
  await withHistory("stream fuzzer", SEED, async (history) => {
    // stream-node-max-bytes stays as set here for the whole run: changing it between small
    // values while streams grow leads Redis 7.0.15 itself to corrupt a node (an entry XADD
    // acknowledged is missing, then XRANGE fails listpack.c:576 'p' is not true and the
    // server aborts), which redbun must not copy.
    const setup = [["FLUSHALL"], ["CONFIG", "SET", "stream-node-max-entries", "4"], ["CONFIG", "SET", "stream-node-max-bytes", pick(r, ["100", "300", "4096"])]];
    for (const command of setup) {
      history.push(command);
      await o.same(...command);
    }
    let added = 0;
    let ranges = 0;
    let groupReads = 0;
    let claims = 0;
    for (let step = 0; step < STEPS; step++) {
      const command = randomCommand(r);
      history.push(command);
      const [want, got] = await o.both(...command);
      if (command[0] === "DUMP" && got !== want && (await o.same("XINFO", "GROUPS", command[1]!)) !== "*0\r\n") {
        await sameRestoredInRedis(command[1]!, got);
      } else if (normalizeTimes(got) !== normalizeTimes(want)) expect(normalizeTimes(got)).toBe(normalizeTimes(want));
      if (command[0] === "XADD" && want.startsWith("$")) added++;
      if (command[0]!.endsWith("RANGE") && want.startsWith("*") && want !== "*0\r\n") ranges++;
      if (command[0] === "XREADGROUP" && want.startsWith("*") && want !== "*-1\r\n") groupReads++;
      if ((command[0] === "XCLAIM" || command[0] === "XAUTOCLAIM") && want.startsWith("*") && !want.startsWith("*0\r\n") && !want.startsWith("*3\r\n$3\r\n0-0\r\n*0\r\n*0")) claims++;
      if (step % 50 === 49) {
        for (const key of KEYS) {
          const check = ["XINFO", "STREAM", key, "FULL", "COUNT", "0"];
          history.push(check);
          const [wantInfo, gotInfo] = await o.both(...check);
          if (normalizeTimes(gotInfo) !== normalizeTimes(wantInfo)) expect(normalizeTimes(gotInfo)).toBe(normalizeTimes(wantInfo));
        }
      }
    }
    await o.same("DEBUG", "DIGEST");
    // The run must have built streams and read entries back, not only met errors.
    console.log(`stream fuzzer: ${added} entries added, ${ranges} non-empty ranges, ${groupReads} group reads, ${claims} claims`);
    expect(added).toBeGreaterThan(STEPS / 10);
    expect(ranges).toBeGreaterThan(STEPS / 50);
    expect(groupReads).toBeGreaterThan(STEPS / 50);
    expect(claims).toBeGreaterThan(STEPS / 300);
  });
}, 120_000);
