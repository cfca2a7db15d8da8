// `bun run build` makes dist/redbun, one executable that runs without Bun or this checkout:
// started from another directory it takes the same flags, answers commands and exits on
// SHUTDOWN. The build runs once for the whole file.

import { beforeAll, expect, test } from "bun:test";
import { existsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./oracle/harness.ts";
import { freshDir, logMessages, spawnLogged, spawnReady } from "./fixtures/logged-server.ts";

const BINARY = join(REPO_ROOT, "dist", "redbun");

beforeAll(() => {
  const build = Bun.spawnSync(["bun", "run", "build"], { cwd: REPO_ROOT, stdout: "pipe", stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`bun run build failed:\n${build.stdout}\n${build.stderr}`);
}, 120_000);

test("dist/redbun is an executable file", () => {
  expect(existsSync(BINARY)).toBe(true);
  expect(statSync(BINARY).mode & 0o111).not.toBe(0);
});

test("started from another directory with flags, it answers and exits on SHUTDOWN", async () => {
  const dir = freshDir();
  await using s = await spawnReady("redbun", ["--hz", "25", "--databases", "4"], { command: [BINARY], cwd: dir });
  const c = await s.connect();
  expect(await c.call("PING")).toBe("+PONG\r\n");
  expect(await c.call("SET", "key", "\x00value\xff")).toBe("+OK\r\n");
  expect(await c.call("GET", "key")).toBe("$7\r\n\x00value\xff\r\n");
  expect(await c.call("CONFIG", "GET", "hz")).toBe("*2\r\n$2\r\nhz\r\n$2\r\n25\r\n");
  expect(await c.call("SELECT", "4")).toBe("-ERR DB index is out of range\r\n");
  // The Lua VM (fengari) is bundled too.
  expect(await c.call("EVAL", "return redis.call('GET', KEYS[1])", "1", "key")).toBe("$7\r\n\x00value\xff\r\n");
  // It runs where it was started: `dir` defaults to the working directory.
  expect(await c.call("CONFIG", "GET", "dir")).toBe(`*2\r\n$3\r\ndir\r\n$${dir.length}\r\n${dir}\r\n`);
  c.write("*1\r\n$8\r\nSHUTDOWN\r\n");
  expect(await c.readUntilClosed()).toBe("");
  expect(await s.exited()).toBe(0);
  expect(logMessages(s.log).slice(-2)).toEqual(["# User requested shutdown...", "# SERVER is now ready to exit, bye bye..."]);
});

test("it reads a config file given as first argument", async () => {
  const dir = freshDir();
  writeFileSync(join(dir, "redbun.conf"), "maxclients 77\n");
  await using s = await spawnReady("redbun", [], { command: [BINARY], cwd: dir, leading: ["redbun.conf"] });
  const c = await s.connect();
  expect(await c.call("CONFIG", "GET", "maxclients")).toBe("*2\r\n$10\r\nmaxclients\r\n$2\r\n77\r\n");
  expect(await c.call("INFO", "server")).toContain(`config_file:${join(dir, "redbun.conf")}\r\n`);
  c.close();
});

test("a bad flag exits 1 with the FATAL CONFIG FILE ERROR block", async () => {
  const s = spawnLogged("redbun", ["--maxmemory", "lots"], { command: [BINARY] });
  expect(await s.exited()).toBe(1);
  expect(s.stderr).toContain("*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***");
  expect(s.stderr).toContain("argument must be a memory value");
});
