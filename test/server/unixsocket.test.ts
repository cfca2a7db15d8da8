// unixsocket and unixsocketperm, side by side with redis-server 7.0: a server listening on a
// unix socket only (port 0), its clients as CLIENT LIST shows them, the file's mode, a stale
// file from an earlier run, the file removed at shutdown, and a path that cannot be bound.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { REPO_ROOT } from "../oracle/harness.ts";

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "redbun-unix-"));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

type Kind = "redis" | "redbun";

function spawnServer(kind: Kind, args: string[]): Subprocess<"ignore", "pipe", "inherit"> {
  const command = kind === "redis" ? ["redis-server"] : ["bun", "src/main.ts"];
  return Bun.spawn([...command, "--port", "0", "--save", "", "--appendonly", "no", "--dir", dir, ...args], { cwd: REPO_ROOT, stdout: "pipe", stderr: "inherit" });
}

async function cli(socket: string, ...args: string[]): Promise<string> {
  const proc = Bun.spawn(["redis-cli", "-s", socket, ...args], { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  return out;
}

/** A server on a unix socket only, stopped by `await using`; its log is read at the end. */
async function startUnixOnly(kind: Kind, socket: string, extra: string[] = []) {
  const proc = spawnServer(kind, ["--unixsocket", socket, ...extra]);
  const deadline = Date.now() + 15000;
  while ((await cli(socket, "PING")) !== "PONG\n") {
    if (proc.exitCode !== null) throw new Error(`${kind} exited with ${proc.exitCode}`);
    if (Date.now() > deadline) throw new Error(`${kind} did not answer on ${socket}`);
    await Bun.sleep(30);
  }
  return {
    proc,
    async [Symbol.asyncDispose]() {
      proc.kill("SIGKILL");
      await proc.exited;
    },
  };
}

/** A CLIENT INFO field's value. */
function field(info: string, name: string): string {
  return info.match(new RegExp(`(?:^| )${name}=(\\S*)`))?.[1] ?? "";
}

test("clients on the unix socket: addr and laddr are the path, flag U, as Redis", async () => {
  const paths = { redis: join(dir, "redis.sock"), redbun: join(dir, "redbun.sock") };
  await using _redis = await startUnixOnly("redis", paths.redis);
  await using _redbun = await startUnixOnly("redbun", paths.redbun);
  for (const kind of ["redis", "redbun"] as const) {
    const info = await cli(paths[kind], "CLIENT", "INFO");
    expect(field(info, "addr")).toBe(`${paths[kind]}:0`);
    expect(field(info, "laddr")).toBe(`${paths[kind]}:0`);
    expect(field(info, "flags")).toBe("U");
    // With no TCP listener, INFO says port 0.
    expect(await cli(paths[kind], "INFO", "server")).toContain("\ntcp_port:0\r\n");
  }
  const [want, got] = await Promise.all([cli(paths.redis, "CONFIG", "GET", "unixsocket*"), cli(paths.redbun, "CONFIG", "GET", "unixsocketperm")]);
  expect(want).toContain("unixsocketperm\n0\n");
  expect(got).toBe("unixsocketperm\n0\n");
});

test("unixsocketperm sets the file's mode; a stale file is replaced; SHUTDOWN removes it", async () => {
  for (const kind of ["redis", "redbun"] as const) {
    const socket = join(dir, `${kind}-perm.sock`);
    // What a server killed without its shutdown leaves behind.
    writeFileSync(socket, "stale");
    await using server = await startUnixOnly(kind, socket, ["--unixsocketperm", "700"]);
    const stat = statSync(socket);
    expect(stat.isSocket()).toBe(true);
    expect(stat.mode & 0o777).toBe(0o700);
    expect(await cli(socket, "CONFIG", "GET", "unixsocketperm")).toBe("unixsocketperm\n700\n");
    await cli(socket, "SHUTDOWN", "NOSAVE");
    expect(await server.proc.exited).toBe(0);
    expect(existsSync(socket)).toBe(false);
    const log = await new Response(server.proc.stdout).text();
    expect(log).toContain(`The server is now ready to accept connections at ${socket}\n`);
    expect(log).toContain("Removing the unix socket file.\n");
  }
});

test("a socket path that cannot be bound stops the start as in Redis", async () => {
  const socket = join(dir, "no-such-dir", "x.sock");
  const results = await Promise.all(
    (["redis", "redbun"] as const).map(async (kind) => {
      const proc = spawnServer(kind, ["--unixsocket", socket]);
      const log = await new Response(proc.stdout).text();
      const line = log.split("\n").find((l) => l.includes("Unix socket")) ?? "";
      return [await proc.exited, line.replace(/^.* # /, "")];
    }),
  );
  expect(results[0]).toEqual([1, "Failed opening Unix socket: bind: No such file or directory"]);
  expect(results[1]).toEqual(results[0]!);
});

test("with no port, no tls-port and no unixsocket, neither server starts", async () => {
  const results = await Promise.all(
    (["redis", "redbun"] as const).map(async (kind) => {
      const proc = spawnServer(kind, []);
      const log = await new Response(proc.stdout).text();
      return [await proc.exited, log.includes("Configured to not listen anywhere, exiting.")];
    }),
  );
  expect(results[0]).toEqual([1, true]);
  expect(results[1]).toEqual(results[0]!);
});
