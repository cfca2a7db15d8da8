// Durability with appendfsync always: clients write INCRs and SETs in pipelines, the server
// dies by SIGKILL at a random moment, and after the restart every write the server
// acknowledged is there. A write that was sent but not acknowledged may or may not be.

import { afterAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { RespConn, encodeCommand, rng } from "../oracle/harness.ts";
import { AOF_ARGS, startIn, tempDir } from "./aof-helpers.ts";

const SEEDS = [1, 2, 3];
const CLIENTS = 3;
const PIPELINE = 8;

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** What one writer got acknowledged: its INCRs of the shared counter and its keys. */
interface Acked {
  incrs: number;
  keys: string[];
}

/** Pipelines INCR counter / SET w<n>:<i> <i> until the connection dies; returns the acknowledged writes. */
async function writer(port: number, n: number): Promise<Acked> {
  const acked: Acked = { incrs: 0, keys: [] };
  const c = await RespConn.connect(port);
  try {
    for (let i = 0; ; i += PIPELINE) {
      const batch: string[][] = [];
      for (let j = i; j < i + PIPELINE; j++) batch.push(j % 2 === 0 ? ["INCR", "counter"] : ["SET", `w${n}:${j}`, String(j)]);
      for (const cmd of batch) c.write(encodeCommand(cmd));
      for (const cmd of batch) {
        const reply = await c.read(2000);
        if (reply.startsWith("-")) throw new Error(reply);
        if (cmd[0] === "INCR") acked.incrs++;
        else acked.keys.push(cmd[1]!);
      }
    }
  } catch {
    // The server died: what was acknowledged so far is the result.
  }
  return acked;
}

for (const seed of SEEDS) {
  test(`seed ${seed}: every acknowledged write survives kill -9`, async () => {
    const random = rng(seed);
    const dir = tempDir(`crash-${seed}`);
    dirs.push(dir);
    const server = await startIn("redbun", dir, AOF_ARGS);
    const writers = Array.from({ length: CLIENTS }, (_, n) => writer(server.port, n));
    await Bun.sleep(100 + Math.floor(random() * 400));
    server.proc.kill("SIGKILL");
    await server.proc.exited;
    const acked = await Promise.all(writers);
    const totalIncrs = acked.reduce((sum, a) => sum + a.incrs, 0);
    expect(totalIncrs).toBeGreaterThan(0);

    await using restarted = await startIn("redbun", dir, AOF_ARGS);
    const c = await RespConn.connect(restarted.port);
    const counter = Number((await c.call("GET", "counter")).split("\r\n")[1]);
    expect(counter).toBeGreaterThanOrEqual(totalIncrs);
    for (const a of acked) {
      for (const key of a.keys) {
        const reply = await c.call("EXISTS", key);
        if (reply !== ":1\r\n") throw new Error(`seed ${seed}: acknowledged ${key} is missing`);
      }
    }
    c.close();
  }, 15000);
}
