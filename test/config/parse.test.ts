// redis.conf / argv parsing and CONFIG GET / SET, compared with what redis-server 7.0.15
// prints and replies for the same input.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Config } from "../../src/config/params.ts";
import {
  ConfigError,
  INCLUDE_MAX_DEPTH,
  applyArgv,
  catRepr,
  configGet,
  configSet,
  configSetArgs,
  formatFatalConfigError,
  loadConfigFile,
  loadConfigText,
  loadServerConfig,
  parseArgv,
  splitArgs,
} from "../../src/config/parse.ts";
import { type RespConn, type ServerProcess, REPO_ROOT, RespConn as Conn, bulkArray, configMap, freePort, startRedis } from "../oracle/harness.ts";

const tempDirs: string[] = [];
afterAll(() => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = realpathSync(mkdtempSync(join(tmpdir(), "redbun-config-")));
  tempDirs.push(d);
  return d;
}

/** Runs real redis-server and returns exit code (null if it kept running), stdout, stderr. */
async function runRedisServer(
  args: string[],
  opts: { cwd?: string; stdin?: string; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = Bun.spawn(["redis-server", ...args], {
    cwd: opts.cwd ?? tmpdir(),
    stdin: opts.stdin === undefined ? "ignore" : Buffer.from(opts.stdin, "latin1"),
    stdout: "pipe",
    stderr: "pipe",
  });
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    proc.kill("SIGKILL");
  }, opts.timeoutMs ?? 5000);
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).arrayBuffer(), new Response(proc.stderr).arrayBuffer()]);
  const code = await proc.exited;
  clearTimeout(timer);
  return { code: killed ? null : code, stdout: Buffer.from(stdout).toString("latin1"), stderr: Buffer.from(stderr).toString("latin1") };
}

/** The message of a Redis log line ("pid:C 25 Nov 2026 18:11:44.759 # msg"). */
function logMessage(line: string): string {
  const m = /^\d+:[MSCX] \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d\.\d{3} [.\-*#] (.*)$/.exec(line);
  if (!m) throw new Error(`not a log line: ${JSON.stringify(line)}`);
  return m[1]!;
}

/** What our loader throws for argv (as a FATAL block or an open-error message). */
function ourFailure(args: string[], opts: { cwd?: string; stdin?: string } = {}): string {
  const cfg = new Config();
  if (opts.cwd) cfg.assign("dir", opts.cwd);
  try {
    const plan = parseArgv(args, opts.cwd);
    if (plan.kind !== "run") return `plan ${plan.kind}`;
    loadServerConfig(cfg, plan, { readStdin: () => opts.stdin ?? "" });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.kind === "open" ? e.reason : formatFatalConfigError(e);
  }
  return "loaded fine";
}

/** Starts redis-server with args, reads CONFIG GET of names, stops it. */
async function redisValues(args: string[], port: number, names: string[], cwd = tmpdir()): Promise<Map<string, string>> {
  const proc = Bun.spawn(["redis-server", ...args], { cwd, stdout: "ignore", stderr: "ignore" });
  try {
    for (let i = 0; i < 500; i++) {
      if (proc.exitCode !== null) throw new Error(`redis-server ${args.join(" ")} exited with ${proc.exitCode}`);
      try {
        const c = await Conn.connect(port);
        try {
          if ((await c.call("PING")) !== "+PONG\r\n") throw new Error("not ready");
          const out = new Map<string, string>();
          for (const n of names) for (const [k, v] of configMap(await c.call("CONFIG", "GET", n))) out.set(k, v);
          return out;
        } finally {
          c.close();
        }
      } catch (e) {
        if ((e as Error).message.startsWith("redis-server")) throw e;
        await Bun.sleep(10);
      }
    }
    throw new Error("redis-server did not start");
  } finally {
    proc.kill("SIGKILL");
    await proc.exited;
  }
}

// --- sdssplitargs / sdscatrepr ----------------------------------------------------------

describe("splitArgs (sdssplitargs)", () => {
  test.each([
    ["port 6379", ["port", "6379"]],
    ["  a   b\t c  ", ["a", "b", "c"]],
    ['"a b" c', ["a b", "c"]],
    ['"a\\tb\\nc\\\\d\\"e\\x41\\x4g\\q\\r\\a\\b"', ["a\tb\nc\\d\"eAx4gq\r\x07\b"]],
    ["'it\\'s \\n'", ["it's \\n"]],
    ['""', [""]],
    ["''", [""]],
    ['ab"c"', ["abc"]],
    ["a'b c'", ["ab c"]],
    ['"\\xAb\\xff"', ["\xab\xff"]],
    ['"x\'y"', ["x'y"]],
    ["'a\"b'", ['a"b']],
    ["", []],
    ["   ", []],
    ["a\0b c", ["a"]],
  ])("%j", (line, want) => {
    expect(splitArgs(line)).toEqual(want);
  });

  test.each([['"abc'], ["'abc"], ['"a"b'], ["'a'b"], ['a"b c"d'], ['""""']])("unbalanced %j", (line) => {
    expect(splitArgs(line)).toBeNull();
  });

  test("catRepr output reads back and matches sdscatrepr's escapes", () => {
    expect(catRepr('a"b\\c\n\r\t\x07\b\x00\x7f\xe9 ~')).toBe('"a\\"b\\\\c\\n\\r\\t\\a\\b\\x00\\x7f\\xe9 ~"');
    for (const s of ["", "plain", "with space", '"q"', "\x00\x01\xff", "tab\there"]) expect(splitArgs(catRepr(s))).toEqual([s]);
  });

  test("quoted values load to the same bytes as in redis-server", async () => {
    const values = [
      '"a\\tb\\nc\\\\d\\"e\\x41\\x4g\\q\\r\\a\\b"',
      "'it\\'s \\n'",
      '""',
      '"\\xff\\xfez"',
      '"a"   ',
      'ab"c"',
      '"\\xAb"',
      "'a\"b'",
      "a'b c'",
      '"\\\\x41"',
      '"caf\xc3\xa9"',
      "plain",
    ];
    const names = [
      "ignore-warnings", "replica-announce-ip", "masteruser", "cluster-announce-ip", "bind-source-addr",
      "tls-cert-file", "tls-key-file", "tls-client-cert-file", "tls-dh-params-file", "tls-ca-cert-file",
      "tls-protocols", "tls-ciphers",
    ];
    const port = freePort();
    const text = `port ${port}\nbind 127.0.0.1\nsave ""\n${names.map((n, i) => `${n} ${values[i]}`).join("\n")}\n`;
    const dir = tempDir();
    writeFileSync(join(dir, "q.conf"), Buffer.from(text, "latin1"));
    const want = await redisValues([join(dir, "q.conf")], port, names, dir);
    const cfg = new Config();
    loadConfigText(cfg, text);
    for (const n of names) expect({ n, v: cfg.getString(n) }).toEqual({ n, v: want.get(n) });
  });
});

// --- FATAL CONFIG FILE ERROR ---------------------------------------------------------------

describe("FATAL CONFIG FILE ERROR blocks are byte-identical to redis-server's", () => {
  const argvCases: string[][] = [
    ["--port", "abc"],
    ["--nosuch", "1"],
    ["--port", "70000", "--nosuch"],
    ["--maxmemory", "1xb"],
    ["--maxmemory", "-1"],
    ["--loglevel", "foo"],
    ["--daemonize", "maybe"],
    ["--save", "1"],
    ["--save", "1", "2", "3"],
    ["--save", "10", "abc"],
    ["--save", "7 7", "8 8"],
    ["--port"],
    ["--loglevel"],
    ["--port", "1", "2"],
    ["--port 7000 7001"],
    ["--databases", "0"],
    ["--databases", "abc", "def"],
    ["--dir", "/nonexistent"],
    ["--dir", ""],
    ["--maxmemory-clients", "101%"],
    ["--unixsocketperm", "-1"],
    ["--unixsocketperm", "9"],
    ["--client-output-buffer-limit", "foo 1 2 3"],
    ["--client-output-buffer-limit", "normal", "1", "2"],
    ["--notify-keyspace-events", "q"],
    ["--bind", ...Array.from({ length: 17 }, (_, i) => `127.0.0.${i + 1}`)],
    ["--replicaof", "h", "99999"],
    ["--replicaof", "h"],
    ["--proc-title-template", "{nope}"],
    ["--dbfilename", "a/b"],
    ["--appendfilename", ""],
    ["--oom-score-adj-values", "1 2"],
    ["--latency-tracking-info-percentiles", "abc"],
    ["--shutdown-on-sigint", "save nosave"],
    ["--enable-debug-command", "maybe"],
    ["--io-threads", "129"],
    ["--proto-max-bulk-len", "1k"],
    ["--activedefrag", "yes"],
    ["--requirepass", "caf\u00e9", "x"],
    ["--logfile", "/nonexistent/dir/x.log"],
    ["--cluster-enabled", "yes", "--replicaof", "127.0.0.1", "6379"],
    ["--user"],
    ["--a.b"],
    ["--list-max-ziplist-entries", "1", "2"],
    ["--port", "1", "bogus"],
    ["--save", "--port", "abc"],
    ["--requirepass", "--port", "--bogus"],
  ];
  test.each(argvCases)("redis-server %s", async (...args) => {
    const r = await runRedisServer(args);
    expect(r.code).toBe(1);
    expect(ourFailure(args)).toBe(r.stderr);
  });

  test("lines of a config file, include, stdin and argv are numbered like Redis", async () => {
    const dir = tempDir();
    const w = (name: string, text: string) => writeFileSync(join(dir, name), Buffer.from(text, "latin1"));
    w("comment.conf", "port 6379 # comment\n");
    w("unbalanced.conf", '\n\n  port "16390"x\n');
    w("bad-dir.conf", "# c\nsave 1 1\n\nbogus 1\nport 1\n");
    w("inc.conf", "\n\n# c\nmaxmemory 10xb\n");
    w("main.conf", `port 1\ninclude ${join(dir, "inc.conf")}\nport 2\n`);
    w("good.conf", "port 1\nsave 1 1\n");
    w("noeol.conf", "port 1");
    w("crlf.conf", "port 1\r\nport abc\r\n");
    w("utf8.conf", "requirepass \"caf\xc3\xa9\" x\n");
    w("rename.conf", "rename-command\n");
    w("sentinel.conf", "port 1\nsentinel monitor x\n");
    const cases: { args: string[]; stdin?: string }[] = [
      { args: ["comment.conf"] },
      { args: ["unbalanced.conf"] },
      { args: ["bad-dir.conf"] },
      { args: ["main.conf"] },
      { args: ["main.conf", "--port", "abc"] },
      { args: ["good.conf", "--port", "abc"] },
      { args: ["noeol.conf", "--port", "abc"] },
      { args: ["crlf.conf"] },
      { args: ["utf8.conf"] },
      { args: ["rename.conf"] },
      { args: ["sentinel.conf"] },
      { args: ["good.conf", "extra"] },
      { args: ["-"], stdin: "port 1\nbogus 1\n" },
      { args: ["--port", "3", "-"], stdin: "port abc\n" },
      { args: ["good.conf", "-", "--port", "x"], stdin: "port 2" },
    ];
    for (const c of cases) {
      const r = await runRedisServer(c.args, { cwd: dir, stdin: c.stdin });
      expect({ args: c.args, code: r.code }).toEqual({ args: c.args, code: 1 });
      expect({ args: c.args, out: ourFailure(c.args, { cwd: dir, stdin: c.stdin }) }).toEqual({ args: c.args, out: r.stderr });
    }
  });

  test("an unreadable config file is a warning log line, not a block", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "inc-missing.conf"), "port 1\ninclude nope.conf\n");
    for (const args of [["/nonexistent.conf"], ["missing.conf"], ["inc-missing.conf"]]) {
      const r = await runRedisServer(args, { cwd: dir });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe("");
      expect(ourFailure(args, { cwd: dir })).toBe(logMessage(r.stdout.trimEnd()));
    }
  });

  test("the block without a line: only the reason", () => {
    expect(formatFatalConfigError(new ConfigError("Can't open the log file: Permission denied"))).toBe(
      "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nCan't open the log file: Permission denied\n",
    );
    expect(formatFatalConfigError(new ConfigError("x", 3, "port 1"), "redbun 0.1.0")).toBe(
      "\n*** FATAL CONFIG FILE ERROR (redbun 0.1.0) ***\nReading the configuration file, at line 3\n>>> 'port 1'\nx\n",
    );
  });

  test("redbun refuses daemonize yes with its own reason (a documented difference)", () => {
    expect(ourFailure(["--daemonize", "yes"])).toBe(
      "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 2\n>>> 'daemonize \"yes\"'\n" +
        "redbun does not daemonize: run it in the foreground under a supervisor (systemd, runit, &)\n",
    );
  });

  test("main's loadStartupConfig prints the block on stderr and exits 1, like redis-server", async () => {
    const script = `import { loadStartupConfig } from "${REPO_ROOT}/src/config/parse.ts"; loadStartupConfig(process.argv.slice(1));`;
    for (const args of [["--port", "abc"], ["--bogus", "1"]]) {
      const proc = Bun.spawn(["bun", "-e", script, "--", ...args], { stdout: "pipe", stderr: "pipe" });
      const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
      const want = await runRedisServer(args);
      expect(code).toBe(1);
      expect(stderr).toBe(want.stderr);
    }
  });
});

// --- argv ------------------------------------------------------------------------------------

describe("parseArgv", () => {
  const run = (argv: string[]) => {
    const p = parseArgv(argv, "/work");
    if (p.kind !== "run") throw new Error(p.kind);
    return p;
  };

  test("forms redis-server accepts", () => {
    expect(run([])).toEqual({ kind: "run", configFile: null, fromStdin: false, options: null, sentinel: false });
    expect(run(["--port", "7000", "--save", "", "--bind", "127.0.0.1", "::1"]).options).toBe(
      'port "7000" \nsave "" \nbind "127.0.0.1" "::1" ',
    );
    expect(run(["redis.conf", "--port", "7000"])).toMatchObject({ configFile: "/work/redis.conf", options: 'port "7000" ' });
    expect(run(["/etc/r.conf"])).toMatchObject({ configFile: "/etc/r.conf", options: "" });
    expect(run(["--port 7000"]).options).toBe("port 7000 ");
    expect(run(["--save"]).options).toBe('save ""');
    expect(run(["--save", "--port", "1"]).options).toBe('save ""\nport "1" ');
    expect(run(["--SAVE", "--port", "1"]).options).toBe('SAVE ""\nport "1" ');
    expect(run(["--requirepass", "--port"]).options).toBe('requirepass "--port" ');
    expect(run(["--port", "1", "2", "--bind", "a"]).options).toBe('port "1" "2" \nbind "a" ');
    expect(run(["-", "--port", "1"])).toMatchObject({ fromStdin: true, options: 'port "1" ' });
    expect(run(["r.conf", "--port", "1", "-"])).toMatchObject({ fromStdin: true, configFile: "/work/r.conf" });
    expect(run(["--port", "-", "1"]).options).toBe('port "-" "1" ');
    expect(run(["--requirepass", "caf\u00e9"]).options).toBe('requirepass "caf\\xc3\\xa9" ');
    expect(run(["--sentinel"]).sentinel).toBe(true);
  });

  test("version and help", () => {
    for (const a of ["-v", "--version"]) expect(parseArgv([a]).kind).toBe("version");
    for (const a of ["-h", "--help"]) expect(parseArgv([a, "--port", "1"]).kind).toBe("help");
  });

  test("precedence and save accumulation match redis-server", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "s.conf"), "save 900 1\nsave 300 10\n");
    writeFileSync(join(dir, "s2.conf"), 'save ""\nsave 1 1\nport 1\n');
    writeFileSync(join(dir, "s3.conf"), 'save "1 2 3 4"\nsave\n');
    writeFileSync(join(dir, "s4.conf"), 'save 5 5\nsave "1 \\"2"\n');
    const cases: string[][] = [
      ["s.conf"],
      ["s.conf", "--save", ""],
      ["s.conf", "--save", "1", "2"],
      ["s2.conf"],
      ["s3.conf"],
      ["s4.conf"],
      [],
      ["--save", "5", "5", "--save", "6", "6"],
      ["--save", "", "--save", "6", "6"],
      ["--save", "6", "6", "--save", ""],
      ["--save", "7 7"],
      ["--save", "--maxmemory", "1mb"],
      ["--save", "1 1", "--bind", "127.0.0.1 ::1"],
    ];
    for (const args of cases) {
      const port = freePort();
      const full = [...args, "--port", String(port), ...(args.some((a) => a === "--bind") ? [] : ["--bind", "127.0.0.1"])];
      const want = await redisValues(full, port, ["save", "port", "maxmemory", "bind"], dir);
      const cfg = new Config();
      cfg.assign("dir", dir);
      const plan = parseArgv(full, dir);
      if (plan.kind !== "run") throw new Error("plan");
      loadServerConfig(cfg, plan);
      for (const n of ["save", "port", "maxmemory", "bind"]) {
        expect({ args, n, v: cfg.getString(n) }).toEqual({ args, n, v: want.get(n) });
      }
    }
  });
});

// --- include --------------------------------------------------------------------------------

describe("include", () => {
  test("relative paths follow dir; globs; empty globs; nested includes", () => {
    const dir = tempDir();
    mkdirSync(join(dir, "conf.d"));
    mkdirSync(join(dir, "sub"));
    writeFileSync(join(dir, "conf.d", "a.conf"), "maxmemory 1mb\n");
    writeFileSync(join(dir, "conf.d", "b.conf"), "maxmemory 2mb\ninclude deep.conf\n");
    writeFileSync(join(dir, "deep.conf"), "timeout 7\n");
    writeFileSync(join(dir, "sub", "x.conf"), "hz 20\n");
    const cfg = new Config();
    loadConfigText(cfg, `dir ${dir}\ninclude conf.d/*.conf\ninclude empty.d/*.conf\ndir ${dir}/sub\ninclude x.conf\n`);
    expect(cfg.maxmemory).toBe(2 * 1024 * 1024); // b.conf after a.conf
    expect(cfg.hz).toBe(20);
    expect(cfg.dir).toBe(join(dir, "sub"));
    // "deep.conf" in conf.d/b.conf is relative to the working directory (dir), not to b.conf.
    expect(cfg.timeout).toBe(7);
  });

  test("a glob matches one path component at a time, skips hidden names and directories, in byte order", () => {
    const dir = tempDir();
    for (const sub of ["one.d", "two.d", "two.d/nested.conf", ".hidden.d"]) mkdirSync(join(dir, sub));
    writeFileSync(join(dir, "one.d", "b.conf"), "hz 11\n");
    writeFileSync(join(dir, "two.d", "a.conf"), "hz 12\n");
    writeFileSync(join(dir, "two.d", ".z.conf"), "hz 13\n");
    writeFileSync(join(dir, ".hidden.d", "c.conf"), "hz 14\n");
    writeFileSync(join(dir, "two.d", "nested.conf", "n.conf"), "hz 15\n");
    const cfg = new Config();
    // one.d/b.conf, then two.d/a.conf: sorted by the whole path, hidden names left out,
    // and "*.conf" matches the directory nested.conf without reading into it.
    loadConfigText(cfg, `dir ${dir}\ninclude */*.conf\n`);
    expect(cfg.hz).toBe(12);
    loadConfigText(cfg, `dir ${dir}\ninclude .*/c.con[f]\n`);
    expect(cfg.hz).toBe(14);
  });

  test("an include loop stops at INCLUDE_MAX_DEPTH instead of overflowing the stack", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "self.conf"), "port 1\ninclude self.conf\n");
    const cfg = new Config();
    cfg.assign("dir", dir);
    expect(() => loadConfigFile(cfg, "self.conf")).toThrow(
      new ConfigError(`include nested more than ${INCLUDE_MAX_DEPTH} levels deep`, 2, "include self.conf"),
    );
  });

  test("a missing include names the path as written", () => {
    const cfg = new Config();
    expect(() => loadConfigText(cfg, "include nope.conf\n")).toThrow(
      new ConfigError("Fatal error, can't open config file 'nope.conf': No such file or directory"),
    );
    expect(() => loadConfigFile(cfg, "/nonexistent/x.conf")).toThrow("No such file or directory");
  });

  test("other directives are recorded for the modules that own them", () => {
    const cfg = new Config();
    loadConfigText(
      cfg,
      "rename-command FLUSHALL \"\"\nuser alice on >pw ~* +@all\nloadmodule /x.so a b\nmymod.opt 5\nsentinel\nlua-replicate-commands yes\n",
    );
    expect(cfg.renameCommands).toEqual([["FLUSHALL", ""]]);
    expect(cfg.users).toEqual([["alice", "on", ">pw", "~*", "+@all"]]);
    expect(cfg.loadModules).toEqual([["/x.so", "a", "b"]]);
    expect(cfg.moduleConfigs.get("mymod.opt")).toBe("5");
    const refused = new Config();
    expect(() =>
      loadConfigText(refused, "port 1\nrename-command NOPE x\n", { renameCommand: () => "No such command in rename-command" }),
    ).toThrow(new ConfigError("No such command in rename-command", 2, "rename-command NOPE x"));
  });
});

// --- CONFIG GET / SET against the oracle ------------------------------------------------------

describe("CONFIG GET and CONFIG SET vs redis-server", () => {
  let redis: ServerProcess;
  let conn: RespConn;
  beforeAll(async () => {
    redis = await startRedis();
    conn = await Conn.connect(redis.port);
  });
  afterAll(async () => {
    conn?.close();
    await redis?.stop();
  });
  const ours = () => {
    const cfg = new Config();
    applyArgv(cfg, ["--port", String(redis.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
    // The harness gives each server a data directory of its own.
    cfg.assign("dir", redis.dir!);
    return cfg;
  };

  test("patterns: globs, exact names, case, aliases, duplicates, hidden", async () => {
    const cfg = ours();
    const patterns: string[][] = [
      ["*max*mem*"], ["hash-max-*"], ["PORT"], ["port", "bind", "port"], ["PORT", "port", "Port"], ["[pq]ort"],
      ["p\\ort"], ["p?rt"], ["nosuch"], ["rdb-key-save-delay"], ["*delay*"], ["*"], ["hash-max-ziplist-entries", "hash-max-listpack-entries"],
      ["slaveof"], ["*SLAVE*"], ["save", "SAVE", "s*e"], ["[^a-y]*"],
    ];
    for (const p of patterns) {
      const want = configMap(await conn.call("CONFIG", "GET", ...p));
      expect({ p, got: new Map(configGet(cfg, p)) }).toEqual({ p, got: want });
    }
  });

  test("error replies and values after a sequence of CONFIG SETs", async () => {
    const cfg = ours();
    const seq: string[][] = [
      ["foo", "bar"],
      ["port", "abc"],
      ["PORT", "abc"],
      ["databases", "4"],
      ["DATABASES", "4"],
      ["port", "1", "port", "2"],
      ["Port", "1", "PORT", "2"],
      ["maxmemory", "1gb", "maxmemory", "2gb"],
      ["hash-max-ziplist-entries", "100", "hash-max-listpack-entries", "200"],
      ["dir", "/tmp"],
      ["dbfilename", "x.rdb"],
      ["port", "1", "foo"],
      ["foo", "1", "port", "abc"],
      ["port", "abc", "foo", "1"],
      ["databases", "4", "foo", "1"],
      ["port", "abc", "databases", "4"],
      ["maxmemory", "10mb", "port", "abc"],
      ["maxmemory", "10mb", "maxmemory-policy", "nope"],
      ["maxmemory", "10mb", "maxmemory-policy", "allkeys-lru", "timeout", "30"],
      ["hash-max-ziplist-entries", "abc"],
      ["save", "1 2 3"],
      ["save", "100 1 200 2"],
      ["maxmemory", "1GB"],
      ["maxmemory", "100mb"],
      ["maxmemory", "1k"],
      ["maxmemory", "0"],
      ["loglevel", "DEBUG"],
      ["loglevel", "notice"],
      ["hz", "0"],
      ["hz", "10"],
      ["requirepass", ""],
      ["repl-backlog-size", "1k"],
      ["repl-backlog-size", "1mb"],
      ["appendonly", "maybe"],
      ["daemonize", "no"],
      ["replicaof", "no one"],
      ["unixsocket", "/tmp/x.sock"],
      ["enable-protected-configs", "yes"],
      ["lazyfree-lazy-user-del", "yes", "lazyfree-lazy-user-flush", "yes", "active-expire-effort", "5", "latency-tracking", "no"],
      ["list-max-listpack-size", "-1", "list-compress-depth", "1", "set-max-intset-entries", "64", "zset-max-listpack-value", "1kb"],
    ];
    const touched = new Set<string>();
    for (const args of seq) {
      const want = await conn.call("CONFIG", "SET", ...args);
      const err = configSetArgs(cfg, args, { isLocal: true });
      expect({ args, got: err === null ? "+OK\r\n" : `-${err}\r\n` }).toEqual({ args, got: want });
      for (let i = 0; i < args.length; i += 2) touched.add(args[i]!);
    }
    for (const name of touched) {
      const want = configMap(await conn.call("CONFIG", "GET", name));
      expect({ name, got: new Map(configGet(cfg, [name])) }).toEqual({ name, got: want });
    }
  });
});

// --- CONFIG SET semantics ---------------------------------------------------------------------

describe("configSet", () => {
  test("a bad value anywhere changes nothing", () => {
    const cfg = new Config();
    expect(configSet(cfg, [["maxmemory", "10mb"], ["timeout", "30"], ["port", "abc"]])).toBe(
      "ERR CONFIG SET failed (possibly related to argument 'port') - argument couldn't be parsed into an integer",
    );
    expect(cfg.maxmemory).toBe(0);
    expect(cfg.timeout).toBe(0);
  });

  test("hooks run once after all values are set, only for changed values", () => {
    const cfg = new Config();
    const seen: string[] = [];
    cfg.onChange("maxmemory", (c) => void seen.push(`maxmemory=${c.maxmemory} timeout=${c.timeout}`));
    cfg.onChange("timeout", () => void seen.push("timeout"));
    expect(configSet(cfg, [["maxmemory", "1mb"], ["timeout", "0"]])).toBeNull();
    expect(seen).toEqual(["maxmemory=1048576 timeout=0"]); // timeout unchanged: no hook
    seen.length = 0;
    expect(configSet(cfg, [["maxmemory", "1mb"]])).toBeNull();
    expect(seen).toEqual([]);
  });

  test("a failing hook rolls every value back and re-applies the old ones", () => {
    const cfg = new Config();
    const applied: string[] = [];
    const warnings: string[] = [];
    cfg.onChange("maxmemory", (c) => void applied.push(`maxmemory ${c.maxmemory}`));
    cfg.onChange("port", (c) => (c.port === 1 ? "Unable to listen on this port. Check server logs." : undefined));
    const err = configSet(cfg, [["maxmemory", "5mb"], ["port", "1"]], { onWarning: (m) => warnings.push(m) });
    expect(err).toBe("ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs.");
    expect(cfg.maxmemory).toBe(0);
    expect(cfg.port).toBe(6379);
    expect(applied).toEqual(["maxmemory 5242880", "maxmemory 0"]);
    expect(warnings).toEqual(["Failed applying new configuration. Possibly related to new port setting. Restoring previous settings."]);
  });

  test("a hook that throws, or fails without a reason", () => {
    const cfg = new Config();
    cfg.onChange("timeout", () => {
      throw new Error("boom");
    });
    expect(configSet(cfg, [["timeout", "5"]])).toBe("ERR CONFIG SET failed (possibly related to argument 'timeout') - boom");
    expect(cfg.timeout).toBe(0);
    const cfg2 = new Config();
    cfg2.onChange("hz", () => "");
    expect(configSet(cfg2, [["hz", "50"]])).toBe("ERR CONFIG SET failed (possibly related to argument 'hz')");
    expect(cfg2.hz).toBe(10);
  });

  test("the error names the parameter as registered: the alias for an alias", () => {
    const cfg = new Config();
    expect(configSet(cfg, [["HASH-MAX-ZIPLIST-ENTRIES", "x"]])).toBe(
      "ERR CONFIG SET failed (possibly related to argument 'hash-max-ziplist-entries') - argument couldn't be parsed into an integer",
    );
  });

  test("loading refuses denyLoading parameters with -LOADING", () => {
    const cfg = new Config();
    expect(configSet(cfg, [["appendonly", "yes"]], { loading: true })).toBe("LOADING Redis is loading the dataset in memory");
    expect(configSet(cfg, [["maxmemory", "1mb"]], { loading: true })).toBeNull();
  });

  test("protected configs follow enable-protected-configs", () => {
    const dir = tempDir();
    for (const [setting, local, ok] of [["no", true, false], ["yes", false, true], ["local", true, true], ["local", false, false]] as const) {
      const cfg = new Config();
      loadConfigText(cfg, `enable-protected-configs ${setting}\n`);
      const err = configSet(cfg, [["dir", dir]], { isLocal: local });
      expect({ setting, local, err }).toEqual({
        setting,
        local,
        err: ok ? null : "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config",
      });
      if (ok) expect(cfg.dir).toBe(dir);
    }
  });

  test("odd argument counts are a syntax error", () => {
    expect(configSetArgs(new Config(), ["port", "1", "foo"])).toBe("ERR syntax error");
  });
});
