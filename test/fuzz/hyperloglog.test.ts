// Seeded random HyperLogLog command sequences sent to the real redis-server and to redbun,
// compared reply by reply; SEED=n replays a run, STEPS=n sets its length.
//
// A few keys get elements from a pool large enough to fill registers past the sparse
// limit, while hll-sparse-max-bytes moves between small limits and the default, so values
// cross from sparse to dense all the time. Values also travel: one key's bytes, read from
// Redis, are SET into another on both servers, and some get a byte overwritten (SETRANGE),
// so the commands meet corrupted and foreign HLLs too. After every write the value is
// compared byte for byte (GET), and the run ends with DEBUG DIGEST.

import { afterAll, beforeAll, test } from "bun:test";
import { Oracle, rng, withHistory } from "../oracle/harness.ts";
import { type Maker, type Random, pick, seedFromEnv, stepsFromEnv, weightedCommands } from "../oracle/fuzz.ts";

const STEPS = stepsFromEnv(2500);
const SEED = seedFromEnv();

let o: Oracle;
beforeAll(async () => {
  o = await Oracle.start(["--enable-debug-command", "yes"]);
});
afterAll(() => o.stop());

const KEYS = ["h1", "h2", "h3", "str"];

/** Up to `max` elements from a pool of 30000, a few of them binary. */
function elements(r: Random, max: number): string[] {
  return Array.from({ length: Math.floor(r() * max) }, () => (r() < 0.05 ? `\x00${Math.floor(r() * 50)}\xff` : `m${Math.floor(r() * 30000)}`));
}

const keys = (r: Random, max: number): string[] => Array.from({ length: 1 + Math.floor(r() * max) }, () => pick(r, KEYS));

const GENERATORS: [number, Maker][] = [
  [10, (r, k) => ["PFADD", k, ...elements(r, 8)]],
  [4, (r, k) => ["PFADD", k, ...elements(r, 200)]],
  [4, (_, k) => ["PFCOUNT", k]],
  [2, (r) => ["PFCOUNT", ...keys(r, 3)]],
  [2, (r, k) => ["PFMERGE", k, ...keys(r, 3).slice(1)]],
  [1, (r, k) => ["PFDEBUG", pick(r, ["ENCODING", "TODENSE", "DECODE", "encoding"]), k]],
  [1, (_, k, k2) => ["COPY-VALUE", k2, k]],
  // A byte overwritten: mostly in the header and the first opcodes, sometimes further on
  // (which may also lengthen a sparse value with zero bytes, ZERO opcodes of one register).
  [0.4, (r, k) => ["SETRANGE", k, String(Math.floor(r() * (r() < 0.7 ? 40 : 3000))), String.fromCharCode(Math.floor(r() * 256))]],
  [0.3, (_, k) => ["DEL", k]],
  [0.2, () => ["SET", "str", "not an hll"]],
  [0.5, (r) => ["CONFIG", "SET", "hll-sparse-max-bytes", pick(r, ["40", "120", "400", "3000"])]],
];
const randomCommand = weightedCommands(GENERATORS, KEYS);

const WRITES = new Set(["pfadd", "pfmerge", "pfcount", "pfdebug", "setrange", "copy-value"]);

/** The content of a bulk string reply, or null for any other reply. */
function bulk(reply: string): string | null {
  if (!reply.startsWith("$") || reply.startsWith("$-1")) return null;
  const cr = reply.indexOf("\r\n");
  return reply.slice(cr + 2, cr + 2 + Number(reply.slice(1, cr)));
}

/** Runs one command on both servers; after a write, the key's value must match too. */
async function check(command: string[]): Promise<void> {
  const name = command[0]!.toLowerCase();
  if (name === "copy-value") {
    // Redis's bytes of one key become the other's value on both servers.
    const value = bulk(await o.r.call("GET", command[1]!));
    if (value !== null) await o.same("SET", command[2]!, value);
  } else {
    await o.same(...command);
  }
  if (!WRITES.has(name)) return;
  const key = name === "copy-value" ? command[2]! : name === "pfdebug" ? command[2]! : command[1]!;
  await o.same("GET", key);
  await o.same("OBJECT", "ENCODING", key);
}

test(`random HyperLogLog commands match Redis (SEED=${SEED})`, () =>
  withHistory("hyperloglog fuzz", SEED, async (history) => {
    const r = rng(SEED);
    await o.same("FLUSHALL");
    await o.same("CONFIG", "SET", "hll-sparse-max-bytes", "3000");
    for (let step = 0; step < STEPS; step++) {
      const command = randomCommand(r);
      history.push(command);
      await check(command);
    }
    for (const key of KEYS) await o.same("DEBUG", "DIGEST-VALUE", key);
    await o.same("DEBUG", "DIGEST");
  }), 120000);
