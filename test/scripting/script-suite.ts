// Shared by the script library suites: one Oracle per file with SCRIPT FLUSH before each
// test, and many small EVALs compared in one go, so a failing test lists every script
// whose reply differs instead of stopping at the first.

import { afterAll, beforeAll, beforeEach, expect } from "bun:test";
import { seedFromEnv } from "../oracle/fuzz.ts";
import { Oracle, rng } from "../oracle/harness.ts";

/** EVAL each script (with `args` as ARGV) on both servers; fail once, listing every reply that differs. */
export async function sameEach(o: Oracle, scripts: string[], ...args: (string | Uint8Array)[]): Promise<void> {
  const differences: string[] = [];
  for (const script of scripts) {
    const [want, got] = await o.both("EVAL", script, "0", ...args);
    if (want !== got) differences.push(`${script}\n  redis:  ${JSON.stringify(want)}\n  redbun: ${JSON.stringify(got)}`);
  }
  expect(differences).toEqual([]);
}

export interface ScriptSuite {
  /** The file's Oracle, started before its first test. */
  readonly oracle: () => Oracle;
  /** sameEach on the file's Oracle. */
  readonly sameEach: (scripts: string[], ...args: (string | Uint8Array)[]) => Promise<void>;
}

/** Start an Oracle for the calling file's tests, stopped after them, with SCRIPT FLUSH before each test. */
export function scriptSuite(): ScriptSuite {
  let o: Oracle | undefined;
  const oracle = (): Oracle => o!;
  beforeAll(async () => {
    o = await Oracle.start();
  });
  afterAll(() => o?.stop());
  beforeEach(async () => {
    await oracle().same("SCRIPT", "FLUSH");
  });
  return { oracle, sameEach: (scripts, ...args) => sameEach(oracle(), scripts, ...args) };
}

/** Run an async fuzz body with a PRNG seeded from SEED or at random; on failure print the seed that replays it. */
export async function withSeedAsync(name: string, body: (random: () => number) => Promise<void>): Promise<void> {
  const seed = seedFromEnv();
  try {
    await body(rng(seed));
  } catch (error) {
    console.error(`${name} failed: replay with SEED=${seed}`);
    throw error;
  }
}
