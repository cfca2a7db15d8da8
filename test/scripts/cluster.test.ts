// scripts/cluster.ts end to end: start a 3-master redbun cluster in a temp directory, read
// its status, stop it and remove its data, as a user would with `bun run cluster ...`.

import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { BUS_PORT_OFFSET, canListen, isAlive } from "../../scripts/cluster.ts";

const SCRIPT = resolve(import.meta.dir, "../../scripts/cluster.ts");
const NODES = 3;
const workDir = mkdtempSync(join(tmpdir(), "redbun-cluster-script-"));

/** A base port whose NODES ports, and their bus ports, are all free. */
function freeBasePort(): number {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 25000);
    const ports = Array.from({ length: NODES }, (_, i) => base + i);
    if (ports.every((p) => canListen(p) && canListen(p + BUS_PORT_OFFSET))) return base;
  }
  throw new Error("no free range of ports for the cluster");
}

function runScript(...args: string[]): { code: number; out: string } {
  const r = Bun.spawnSync([process.execPath, SCRIPT, ...args], { cwd: workDir, stderr: "pipe" });
  return { code: r.exitCode, out: r.stdout.toString() + r.stderr.toString() };
}

function pidsOnFile(): number[] {
  const file = join(workDir, "cluster-data/pids");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").trim().split("\n").map((line) => Number(line.split(" ")[1]));
}

afterAll(() => {
  // A failed assertion must not leave nodes behind: stop is a no-op once they are gone.
  runScript("stop");
  rmSync(workDir, { recursive: true, force: true });
});

test("start 3 --replicas 0, status, stop, clean", () => {
  const base = freeBasePort();
  const started = runScript("start", String(NODES), "--replicas", "0", "--port", String(base));
  expect(started.out).toContain(`Starting redbun on ${base}`);
  expect(started.code).toBe(0);
  const pids = pidsOnFile();
  expect(pids).toHaveLength(NODES);
  expect(pids.every(isAlive)).toBe(true);

  const status = runScript("status");
  expect(status.code).toBe(0);
  expect(status.out).toContain("cluster_state:ok");
  const nodeLines = status.out.split("\n").filter((l) => / connected/.test(l));
  expect(nodeLines).toHaveLength(NODES);
  expect(nodeLines.every((l) => l.includes("master"))).toBe(true);
  expect(nodeLines.find((l) => l.includes("myself"))).toContain(`127.0.0.1:${base}@${base + BUS_PORT_OFFSET}`);

  expect(runScript("clean").code).toBe(1); // refuses while the nodes run
  expect(runScript("stop").code).toBe(0);
  expect(pids.some(isAlive)).toBe(false);
  expect(existsSync(join(workDir, "cluster-data", String(base), "nodes.conf"))).toBe(true);

  expect(runScript("clean").code).toBe(0);
  expect(existsSync(join(workDir, "cluster-data"))).toBe(false);
}, 20_000);
