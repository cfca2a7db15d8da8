// The same client round-trip suite (round-trip-suite.mjs, node-redis and ioredis against
// embedded servers) under Bun, from the sources, and under Node.js 20, from the Node build
// (scripts/build-node.ts).

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildNode } from "../../scripts/build-node.ts";
import { REPO_ROOT } from "../oracle/harness.ts";

let outdir: string;
let entry: string;

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), "redbun-node-build-"));
  entry = await buildNode(outdir);
});
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const SUITE = join(import.meta.dir, "round-trip-suite.mjs");
const TESTS_IN_SUITE = 4;

/** Run the suite with `command`, against the module `entry`; its output when it passed. */
async function runSuite(command: string[], entry: string): Promise<string> {
  const proc = Bun.spawn(command, { cwd: REPO_ROOT, env: { ...process.env, REDBUN_ENTRY: entry }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) console.log(out, err);
  expect(code).toBe(0);
  return out + err;
}

test("under Node.js 20, from the Node build", async () => {
  const output = await runSuite(["node", "--test", SUITE], entry);
  expect(output).toContain(`# pass ${TESTS_IN_SUITE}`);
  expect(output).toContain("# fail 0");
}, 30000);

test("under Bun, from the sources", async () => {
  const output = await runSuite(["bun", "test", SUITE], join(REPO_ROOT, "src/index.ts"));
  expect(output).toContain(`${TESTS_IN_SUITE} pass`);
  expect(output).toContain("0 fail");
}, 30000);
