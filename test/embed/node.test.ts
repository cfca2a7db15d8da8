// The embedded server under Node.js 20: the Node build (scripts/build-node.ts) imported by a
// `node --test` suite that drives it with node-redis and ioredis (node-suite.mjs).

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

test("a node:test suite runs against embedded servers from the Node build", async () => {
  const proc = Bun.spawn(["node", "--test", join(import.meta.dir, "node-suite.mjs")], {
    cwd: REPO_ROOT,
    env: { ...process.env, REDBUN_NODE_ENTRY: entry },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) console.log(out, err);
  expect(out).toContain("# pass 3");
  expect(out).toContain("# fail 0");
  expect(code).toBe(0);
}, 30000);
