// Start-up as redis-server does it: a config file plus --flags that override it, the FATAL
// CONFIG FILE ERROR block, the listening errors and their log lines, and the exit codes.
// Each case runs redis-server and redbun the same way and compares what they print.

import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { RespConn, freePort } from "./oracle/harness.ts";
import { freshDir, logMessages, spawnLogged, spawnReady, type LoggedServer, type ServerKind } from "./fixtures/logged-server.ts";

const KINDS: ServerKind[] = ["redis", "redbun"];

/** Run both servers with the same arguments and wait for each to exit. */
async function bothExit(args: string[], opts: { leading?: string[]; cwd?: string } = {}): Promise<Record<ServerKind, { code: number; s: LoggedServer }>> {
  const runs = await Promise.all(
    KINDS.map(async (kind) => {
      const s = spawnLogged(kind, args, opts);
      return [kind, { code: await s.exited(), s }] as const;
    }),
  );
  return Object.fromEntries(runs) as Record<ServerKind, { code: number; s: LoggedServer }>;
}

/** A command's reply from both servers started with the same arguments. */
async function askBoth(args: string[], command: string[], opts: { leading?: string[]; cwd?: string } = {}): Promise<[string, string]> {
  const replies: string[] = [];
  for (const kind of KINDS) {
    await using s = await spawnReady(kind, args, opts);
    const c = await s.connect();
    replies.push(await c.call(...command));
    c.close();
  }
  return [replies[0]!, replies[1]!];
}

describe("config file and flags", () => {
  test("flags override the file; INFO names the file by its absolute path", async () => {
    const dir = freshDir();
    writeFileSync(join(dir, "redis.conf"), "# a comment\nhz 15\nmaxclients 50\ntimeout 7\nport 1\n\n");
    const opts = { leading: ["redis.conf"], cwd: dir };
    const args = ["--hz", "20", "--timeout", "9"];
    const [r, b] = await askBoth(args, ["CONFIG", "GET", "hz"], opts);
    expect(b).toBe(r);
    expect(b).toBe("*2\r\n$2\r\nhz\r\n$2\r\n20\r\n");
    for (const [name, want] of [["maxclients", "50"], ["timeout", "9"]]) {
      const [r2, b2] = await askBoth(args, ["CONFIG", "GET", name!], opts);
      expect(b2).toBe(r2);
      expect(b2).toContain(`\r\n${want}\r\n`);
    }
    const [ri, bi] = await askBoth(args, ["INFO", "server"], opts);
    const configFile = (s: string) => /config_file:([^\r]*)/.exec(s)![1];
    expect(configFile(bi)).toBe(configFile(ri));
    expect(configFile(bi)).toBe(join(dir, "redis.conf"));
  });

  test("the start-up log says what Redis says, in the same order", async () => {
    const messages: Record<string, string[]> = {};
    for (const kind of KINDS) {
      await using s = await spawnReady(kind);
      messages[kind] = logMessages(s.log);
    }
    const port = (m: string[]) => m.map((l) => l.replace(/port=\d+/, "port=P"));
    const redisLines = port(messages.redis!);
    const ours = port(messages.redbun!);
    // redbun says fewer things (no RDB to load, no kernel warnings); what it says, Redis says too.
    for (const line of ["oO0OoO0OoO0Oo SERVER is starting oO0OoO0OoO0Oo", "# Configuration loaded", "* monotonic clock: POSIX clock_gettime", "* Running mode=standalone, port=P.", "# Server initialized", "* Ready to accept connections"]) {
      const mine = line.startsWith("oO0") ? `# ${line}` : line;
      expect(ours).toContain(mine);
      expect(redisLines).toContain(mine);
    }
    const order = (lines: string[]) => lines.filter((l) => ours.includes(l) && redisLines.includes(l));
    expect(order(ours)).toEqual(order(redisLines));
  });
});

describe("configuration errors exit 1 with Redis's FATAL CONFIG FILE ERROR block", () => {
  const badFiles: [string, string][] = [
    ["unknown directive", "port 7000\nnosuchdirective yes\n"],
    ["bad value", "maxmemory abc\n"],
    ["wrong argument count", "hz 1 2\n"],
    ["out of range", "databases 0\n"],
    ["unbalanced quotes", 'requirepass "abc\n'],
  ];
  for (const [what, text] of badFiles) {
    test(`in the file: ${what}`, async () => {
      const dir = freshDir();
      writeFileSync(join(dir, "bad.conf"), text);
      const runs = await bothExit([], { leading: ["bad.conf"], cwd: dir });
      expect(runs.redbun.code).toBe(1);
      expect(runs.redis.code).toBe(1);
      expect(runs.redbun.s.stderr).toBe(runs.redis.s.stderr);
      expect(runs.redbun.s.stderr).toContain("*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***");
      expect(runs.redbun.s.log).toBe("");
    });
  }

  for (const args of [["--maxmemory", "abc"], ["--nosuch", "1"], ["--appendonly", "maybe"], ["--port", "70000"]]) {
    test(`on the command line: ${args.join(" ")}`, async () => {
      const runs = await bothExit(args);
      expect(runs.redbun.code).toBe(1);
      expect(runs.redis.code).toBe(1);
      expect(runs.redbun.s.stderr).toBe(runs.redis.s.stderr);
    });
  }

  test("a config file that cannot be read", async () => {
    const runs = await bothExit([], { leading: ["/nonexistent/redis.conf"] });
    expect(runs.redbun.code).toBe(1);
    expect(runs.redis.code).toBe(1);
    expect(logMessages(runs.redbun.s.log)).toEqual(logMessages(runs.redis.s.log));
    expect(logMessages(runs.redbun.s.log)).toEqual(["# Fatal error, can't open config file '/nonexistent/redis.conf': No such file or directory"]);
  });
});

describe("listening", () => {
  test("--port 0 without another listener: not listening anywhere, exit 1", async () => {
    const runs = await bothExit(["--port", "0", "--save", ""]);
    expect(runs.redbun.code).toBe(1);
    expect(runs.redis.code).toBe(1);
    const last = (s: LoggedServer) => logMessages(s.log).at(-1);
    expect(last(runs.redbun.s)).toBe(last(runs.redis.s));
    expect(last(runs.redbun.s)).toBe("# Configured to not listen anywhere, exiting.");
  });

  test("a port already in use: Redis's two lines and exit 1", async () => {
    const port = freePort();
    const holder = Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } });
    try {
      const runs = await bothExit(["--port", String(port), "--bind", "127.0.0.1", "--save", ""]);
      expect(runs.redbun.code).toBe(1);
      expect(runs.redis.code).toBe(1);
      const tail = (s: LoggedServer) => logMessages(s.log).slice(-2);
      expect(tail(runs.redbun.s)).toEqual(tail(runs.redis.s));
      expect(tail(runs.redbun.s)).toEqual([
        `# Warning: Could not create server TCP listening socket 127.0.0.1:${port}: bind: Address already in use`,
        `# Failed listening on port ${port} (TCP), aborting.`,
      ]);
    } finally {
      holder.stop(true);
    }
  });

  test("an address this machine does not have: Redis's two lines and exit 1", async () => {
    const port = freePort();
    const runs = await bothExit(["--port", String(port), "--bind", "127.0.0.1", "10.255.255.254", "--save", ""]);
    expect(runs.redbun.code).toBe(1);
    expect(runs.redis.code).toBe(1);
    const tail = (s: LoggedServer) => logMessages(s.log).slice(-2);
    expect(tail(runs.redbun.s)).toEqual(tail(runs.redis.s));
    expect(tail(runs.redbun.s)[0]).toBe(`# Warning: Could not create server TCP listening socket 10.255.255.254:${port}: bind: Cannot assign requested address`);
  });

  test("--bind 127.0.0.1 ::1 answers on both addresses", async () => {
    await using s = await spawnReady("redbun", ["--bind", "127.0.0.1", "::1"]);
    const v4 = await RespConn.connect(s.port);
    expect(await v4.call("PING")).toBe("+PONG\r\n");
    v4.close();
    const v6 = await new Promise<string>((resolve, reject) => {
      Bun.connect({
        hostname: "::1",
        port: s.port,
        socket: {
          open(sock) {
            sock.write("*1\r\n$4\r\nPING\r\n");
          },
          data(sock, d) {
            sock.end();
            resolve(Buffer.from(d).toString("latin1"));
          },
          error(_s, e) {
            reject(e);
          },
        },
      }).catch(reject);
    });
    expect(v6).toBe("+PONG\r\n");
    const c = await s.connect();
    expect(await c.call("CONFIG", "GET", "bind")).toBe("*2\r\n$4\r\nbind\r\n$13\r\n127.0.0.1 ::1\r\n");
    c.close();
  });

  test("an optional address (-::1 style) that fails is skipped", async () => {
    await using s = await spawnReady("redbun", ["--bind", "127.0.0.1", "-10.255.255.254"]);
    const c = await s.connect();
    expect(await c.call("PING")).toBe("+PONG\r\n");
    c.close();
  });
});
