// `rename-command old new` and `rename-command old ""` in a real config file, on redbun and
// the real redis-server 7.0: the old name is unknown, the new one runs the command, and the
// command still reports itself by its own name (COMMAND INFO/DOCS/LIST, INFO commandstats,
// CLIENT INFO, arity errors). A bad directive stops start-up with Redis's FATAL block.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type RespConn, bulkArray } from "../oracle/harness.ts";
import { type LoggedServer, type ServerKind, freshDir, spawnLogged, spawnReady } from "../fixtures/logged-server.ts";

const RENAMES = ["rename-command GET myget", 'rename-command flushall ""', "rename-command CONFIG cfg", "rename-command ping PONG2"].join("\n");

/** A config file holding `text`, in a fresh directory. */
function configFile(text: string): string {
  const path = join(freshDir(), "redis.conf");
  writeFileSync(path, text + "\n");
  return path;
}

describe("a config file that renames commands", () => {
  let servers: LoggedServer[];
  let plain: LoggedServer[];
  let conns: RespConn[];
  beforeAll(async () => {
    const path = configFile(RENAMES);
    servers = await Promise.all((["redis", "redbun"] as const).map((kind) => spawnReady(kind, [], { leading: [path] })));
    // The same servers without renames, for the command counts.
    plain = await Promise.all((["redis", "redbun"] as const).map((kind) => spawnReady(kind)));
    conns = await Promise.all(servers.map((s) => s.connect()));
  });
  afterAll(async () => {
    for (const s of [...(servers ?? []), ...(plain ?? [])]) await s[Symbol.asyncDispose]();
  });

  /** Sends one command to both servers; expects the same bytes and returns them. */
  async function same(...args: string[]): Promise<string> {
    const [want, got] = await Promise.all(conns.map((c) => c.call(...args)));
    expect(`${JSON.stringify(args)} -> ${got}`).toBe(`${JSON.stringify(args)} -> ${want}`);
    return want!;
  }

  test("the old name is an unknown command; the new one runs it, in any case", async () => {
    expect(await same("GET", "k")).toBe("-ERR unknown command 'GET', with args beginning with: 'k' \r\n");
    expect(await same("flushall")).toBe("-ERR unknown command 'flushall', with args beginning with: \r\n");
    expect(await same("CONFIG", "GET", "maxclients")).toBe("-ERR unknown command 'CONFIG', with args beginning with: 'GET' 'maxclients' \r\n");
    expect(await same("SET", "k", "v")).toBe("+OK\r\n");
    expect(await same("myget", "k")).toBe("$1\r\nv\r\n");
    expect(await same("MyGet", "k")).toBe("$1\r\nv\r\n");
    expect(await same("pong2")).toBe("+PONG\r\n");
    expect(await same("PING")).toStartWith("-ERR unknown command 'PING'");
    await same("cfg", "GET", "maxclients");
    await same("CFG", "SET", "maxmemory-policy", "allkeys-lru");
    await same("cfg|get", "maxclients");
  });

  test("errors name the command by its own name, or as the client typed it", async () => {
    expect(await same("myget")).toBe("-ERR wrong number of arguments for 'get' command\r\n");
    expect(await same("cfg", "foo")).toBe("-ERR unknown subcommand 'foo'. Try CFG HELP.\r\n");
  });

  test("COMMAND INFO/DOCS/GETKEYS find it by the new name and show the old one", async () => {
    // (A container's subcommands come in hash order on Redis, so CONFIG itself is left out.)
    await same("COMMAND", "INFO", "myget", "get", "flushall", "pong2", "cfg|get", "config|get");
    await same("COMMAND", "DOCS", "myget", "get", "flushall", "cfg|get");
    await same("COMMAND", "GETKEYS", "myget", "somekey");
  });

  test("COMMAND COUNT loses the removed command only; COMMAND LIST shows the own names", async () => {
    const counts = await Promise.all([...conns, ...(await Promise.all(plain.map((s) => s.connect())))].map(async (c) => Number((await c.call("COMMAND", "COUNT")).slice(1, -2))));
    expect(counts[0]! - counts[2]!).toBe(-1);
    expect(counts[1]! - counts[3]!).toBe(-1);
    const lists = await Promise.all(conns.map(async (c) => new Set(bulkArray(await c.call("COMMAND", "LIST")))));
    for (const names of lists) {
      expect(["get", "config", "config|get", "ping"].map((n) => names.has(n))).toEqual([true, true, true, true]);
      expect(["myget", "cfg", "flushall", "pong2"].map((n) => names.has(n))).toEqual([false, false, false, false]);
    }
  });

  test("INFO commandstats and CLIENT INFO count and show it under its own name", async () => {
    await same("CFG", "RESETSTAT");
    await same("myget", "k");
    await same("myget", "k");
    const stats = await Promise.all(conns.map(async (c) => (await c.call("INFO", "commandstats")).match(/^cmdstat_[^:]+:calls=\d+/gm)!.sort()));
    expect(stats[1]).toEqual(stats[0]!);
    expect(stats[0]).toContain("cmdstat_get:calls=2");
    // Another connection's CLIENT LIST shows the last command by its own name.
    const lastCmd = await Promise.all(
      servers.map(async (s, i) => {
        const id = (await conns[i]!.call("CLIENT", "ID")).slice(1, -2);
        await conns[i]!.call("myget", "k");
        const other = await s.connect();
        const line = await other.call("CLIENT", "LIST", "ID", id);
        other.close();
        return / cmd=\S+/.exec(line)![0];
      }),
    );
    expect(lastCmd).toEqual([" cmd=get", " cmd=get"]);
  });
});

describe("rename-command on the command line", () => {
  test("--rename-command works as the directive does", async () => {
    const results = await Promise.all(
      (["redis", "redbun"] as ServerKind[]).map(async (kind) => {
        await using s = await spawnReady(kind, ["--rename-command", "get", "fetch"]);
        const c = await s.connect();
        await c.call("SET", "k", "v");
        const replies = [await c.call("GET", "k"), await c.call("FETCH", "k")];
        c.close();
        return replies;
      }),
    );
    expect(results[1]).toEqual(results[0]!);
    expect(results[0]).toEqual(["-ERR unknown command 'GET', with args beginning with: 'k' \r\n", "$1\r\nv\r\n"]);
  });
});

describe("a bad rename-command stops start-up", () => {
  // Redis 7.0 asserts (and crashes) on a subcommand name such as config|get; redbun stops
  // with "No such command in rename-command" instead, so that case is checked on redbun only.
  const cases = [
    "rename-command nosuch x",
    "rename-command get set",
    "rename-command get",
    "rename-command get a\nrename-command a b\nrename-command GET c",
    'rename-command "" x',
  ];
  for (const text of cases) {
    test(JSON.stringify(text), async () => {
      const path = configFile(text);
      const results = await Promise.all(
        (["redis", "redbun"] as ServerKind[]).map(async (kind) => {
          const s = spawnLogged(kind, ["--save", ""], { leading: [path] });
          const code = await s.exited();
          return { code, stderr: s.stderr };
        }),
      );
      expect(results[1]).toEqual(results[0]!);
      expect(results[0]!.code).toBe(1);
      expect(results[0]!.stderr).toContain("*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***");
    });
  }

  test("a subcommand cannot be renamed", async () => {
    const s = spawnLogged("redbun", ["--save", ""], { leading: [configFile("rename-command config|get x")] });
    expect(await s.exited()).toBe(1);
    expect(s.stderr).toBe("\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 1\n>>> 'rename-command config|get x'\nNo such command in rename-command\n");
  });
});
