// The parameter table against redis-server 7.0.15: names, aliases, defaults, mutability,
// bounds and error texts, then the Config API (typed reads, hooks).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import {
  Config,
  NOTIFY,
  PARAMS,
  PARAM_ENTRIES,
  camel,
  lookupParam,
  memtoull,
  notifyFlagsToString,
  string2ll,
  strtollWhole,
} from "../../src/config/params.ts";
import { applyArgv, configGet, configSetArgs, loadConfigText } from "../../src/config/parse.ts";
import { type RespConn, type ServerProcess, RespConn as Conn, bulkArray, configMap, freePort, startRedis } from "../oracle/harness.ts";

/** Our CONFIG SET reply, as the bytes Redis would send. */
function ourSetReply(cfg: Config, args: string[]): string {
  const err = configSetArgs(cfg, args, { isLocal: true });
  return err === null ? "+OK\r\n" : `-${err}\r\n`;
}

/** Redis's startup flags in the oracle harness, applied to a fresh Config. */
function harnessConfig(server: ServerProcess): Config {
  const cfg = new Config();
  applyArgv(cfg, ["--port", String(server.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
  // The harness gives each server a data directory of its own.
  cfg.assign("dir", server.dir!);
  return cfg;
}

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

// --- the table against the oracle -----------------------------------------------------

describe("parameter table vs redis-server 7.0.15", () => {
  test("CONFIG GET * lists the same names and default values", async () => {
    const want = configMap(await conn.call("CONFIG", "GET", "*"));
    const got = new Map(configGet(harnessConfig(redis), ["*"]));
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [name, value] of want) expect({ name, value: got.get(name) }).toEqual({ name, value });
  });

  test("hidden parameters answer an exact CONFIG GET only", async () => {
    const hidden = ["rdb-key-save-delay", "key-load-delay", "use-exit-on-panic", "watchdog-period", "loading-process-events-interval-bytes"];
    const cfg = harnessConfig(redis);
    for (const name of hidden) {
      expect(new Map(configGet(cfg, [name]))).toEqual(configMap(await conn.call("CONFIG", "GET", name)));
      expect(lookupParam(name)?.spec.hidden).toBe(true);
    }
    expect(configGet(cfg, ["*delay*"]).map(([n]) => n).sort()).toEqual(
      [...configMap(await conn.call("CONFIG", "GET", "*delay*")).keys()].sort(),
    );
  });

  test("mutability: CONFIG SET of the current value is refused for the same parameters", async () => {
    const cfg = harnessConfig(redis);
    for (const [name] of configGet(cfg, ["*"])) {
      const value = bulkArray(await conn.call("CONFIG", "GET", name))[1]!;
      const want = await conn.call("CONFIG", "SET", name, value);
      expect({ name, reply: ourSetReply(cfg, [name, value]) }).toEqual({ name, reply: want });
    }
  });

  test("numeric parameters: parse errors, bounds and formatting match", async () => {
    const cfg = harnessConfig(redis);
    const probes = ["abc", "-9223372036854775807", "18446744073709551615", "1k", "1kb", "-1", "01", "+5", " 5", "0", "1GB", "7%", "101%"];
    for (const spec of PARAMS) {
      if ((spec.kind !== "int" && spec.kind !== "memory") || !spec.mutable || spec.hidden) continue;
      if (spec.name === "port") continue; // a valid new port would move the oracle
      const original = bulkArray(await conn.call("CONFIG", "GET", spec.name))[1]!;
      for (const v of probes) {
        // A tiny client memory limit would make the oracle evict this very connection.
        if (spec.name === "maxmemory-clients" && /^(1k|1kb|-1|18446744073709551615|\+5| 5)$/.test(v)) continue;
        const want = await conn.call("CONFIG", "SET", spec.name, v);
        expect({ name: spec.name, v, reply: ourSetReply(cfg, [spec.name, v]) }).toEqual({ name: spec.name, v, reply: want });
        const shown = await conn.call("CONFIG", "GET", spec.name);
        expect({ name: spec.name, v, shown: new Map(configGet(cfg, [spec.name])) }).toEqual({ name: spec.name, v, shown: configMap(shown) });
        await conn.call("CONFIG", "SET", spec.name, original);
        configSetArgs(cfg, [spec.name, original]);
      }
    }
  });

  test("enum and bool parameters: accepted spellings and error texts match", async () => {
    const cfg = harnessConfig(redis);
    const cases: [string, string][] = [
      ["loglevel", "DEBUG"], ["loglevel", "debug verbose"], ["loglevel", "nothing"], ["loglevel", "notice"],
      ["maxmemory-policy", "allkeys-LRU"], ["maxmemory-policy", "lru"], ["maxmemory-policy", "noeviction"],
      ["oom-score-adj", "relative"], ["oom-score-adj", "no"], ["appendfsync", "x"], ["appendfsync", "everysec"],
      ["protected-mode", "YES"], ["protected-mode", "1"], ["protected-mode", "yes"], ["activedefrag", "yes"],
      ["activedefrag", "no"], ["lazyfree-lazy-user-del", "Yes"], ["lazyfree-lazy-user-del", "no"],
      ["shutdown-on-sigint", "save now"], ["shutdown-on-sigint", "now save force"], ["shutdown-on-sigint", "save nosave"],
      ["shutdown-on-sigint", "default save"], ["shutdown-on-sigint", ""], ["shutdown-on-sigint", "default"],
      ["propagation-error-behavior", "x"], ["acl-pubsub-default", "allchannels"], ["acl-pubsub-default", "resetchannels"],
      ["sanitize-dump-payload", "clients"], ["sanitize-dump-payload", "no"], ["replica-ignore-disk-write-errors", "x"],
    ];
    for (const [name, v] of cases) {
      const want = await conn.call("CONFIG", "SET", name, v);
      expect({ name, v, reply: ourSetReply(cfg, [name, v]) }).toEqual({ name, v, reply: want });
      const shown = configMap(await conn.call("CONFIG", "GET", name));
      expect({ name, v, shown: new Map(configGet(cfg, [name])) }).toEqual({ name, v, shown });
    }
  });

  test("special parameters: values, formatting and errors match", async () => {
    const cfg = harnessConfig(redis);
    const cases: [string, string][] = [
      ["save", "3600 1 300 100"], ["save", "1 2 3"], ["save", "abc"], ["save", "0 1"], ["save", "1 -1"], ["save", "+1 -0"],
      ["save", '1 ""'], ["save", " 1 2"], ["save", ""], ["save", "100 1"], ["save", ""],
      ["notify-keyspace-events", "Egx$"], ["notify-keyspace-events", "AKEmn"], ["notify-keyspace-events", "q"],
      ["notify-keyspace-events", "g$lshzxetd"], ["notify-keyspace-events", "nK"], ["notify-keyspace-events", ""],
      ["oom-score-adj-values", "1 2 3000"], ["oom-score-adj-values", "1 2"], ["oom-score-adj-values", "300 200 100"],
      ["oom-score-adj-values", "0 200 800"],
      ["latency-tracking-info-percentiles", "50 abc"], ["latency-tracking-info-percentiles", "50 101"],
      ["latency-tracking-info-percentiles", "1.5 0.25 100"], ["latency-tracking-info-percentiles", ""],
      ["latency-tracking-info-percentiles", "50 99 99.9"],
      ["client-output-buffer-limit", "normal 1 2"], ["client-output-buffer-limit", "master 1 2 3"],
      ["client-output-buffer-limit", "pubsub 1x 2 3"], ["client-output-buffer-limit", "pubsub 1 2 -3"],
      ["client-output-buffer-limit", "replica 1mb 2k 3 normal 1gb 0 0"], ["client-output-buffer-limit", "slave 256mb 64mb 60 normal 0 0 0"],
      ["bind", Array.from({ length: 17 }, () => "127.0.0.1").join(" ")],
      ["hz", "0"], ["hz", "1000"], ["hz", "10"],
      ["maxmemory-clients", "10%"], ["maxmemory-clients", "101%"], ["maxmemory-clients", "-5%"], ["maxmemory-clients", "0"],
      ["dbfilename", "a/b"], ["dir", "/tmp"], ["replicaof", "no one"], ["slaveof", "no one"], ["daemonize", "no"],
      ["proc-title-template", "{nope}"], ["proc-title-template", "{title}"], ["proc-title-template", "{port} {{x}}"],
      ["proc-title-template", "{title} {listen-addr} {server-mode}"],
      ["cluster-announce-hostname", "bad_host"], ["cluster-announce-hostname", "good-host.example"], ["cluster-announce-hostname", ""],
    ];
    for (const [name, v] of cases) {
      const want = await conn.call("CONFIG", "SET", name, v);
      expect({ name, v, reply: ourSetReply(cfg, [name, v]) }).toEqual({ name, v, reply: want });
      const shown = configMap(await conn.call("CONFIG", "GET", name));
      expect({ name, v, shown: new Map(configGet(cfg, [name])) }).toEqual({ name, v, shown });
    }
  });

  test("a stock Debian redis.conf loads into the same values", async () => {
    let text: string;
    try {
      text = readFileSync("/etc/redis/redis.conf", "latin1");
    } catch {
      return; // not installed here: nothing to compare
    }
    const port = freePort();
    // What cannot run here: daemonizing, system paths, the default port.
    text = text
      .replace(/^daemonize yes$/m, "daemonize no")
      .replace(/^pidfile .*$/m, "pidfile \"\"")
      .replace(/^logfile .*$/m, 'logfile ""')
      .replace(/^dir .*$/m, "dir /tmp")
      .replace(/^port .*$/m, `port ${port}`)
      .replace(/^bind .*$/m, "bind 127.0.0.1");
    const cfg = new Config();
    loadConfigText(cfg, text);
    const confPath = `/tmp/redbun-params-${port}.conf`;
    await Bun.write(confPath, Buffer.from(text, "latin1"));
    const proc = Bun.spawn(["redis-server", confPath], { stdout: "ignore", stderr: "inherit", cwd: "/tmp" });
    try {
      let c: RespConn | undefined;
      for (let i = 0; i < 500 && !c; i++) {
        try {
          c = await Conn.connect(port);
          if ((await c.call("PING")) !== "+PONG\r\n") throw new Error("not ready");
        } catch {
          c = undefined;
          await Bun.sleep(10);
        }
      }
      const want = configMap(await c!.call("CONFIG", "GET", "*"));
      c!.close();
      const got = new Map(configGet(cfg, ["*"]));
      for (const [name, value] of want) expect({ name, value: got.get(name) }).toEqual({ name, value });
    } finally {
      proc.kill("SIGKILL");
      await proc.exited;
      rmSync(confPath, { force: true });
    }
  });
});

// --- the Config API --------------------------------------------------------------------

describe("Config", () => {
  test("values are camelCase properties, readable by name too", () => {
    const cfg = new Config();
    expect(cfg.port).toBe(6379);
    expect(cfg.hashMaxListpackEntries).toBe(512);
    expect(cfg.zsetMaxListpackEntries).toBe(128);
    expect(cfg.listMaxListpackSize).toBe(-2);
    expect(cfg.maxmemoryPolicy).toBe("noeviction");
    expect(cfg.enableDebugCommand).toBe("no");
    expect(cfg.bind).toEqual(["*", "-::*"]);
    expect(cfg.save).toEqual([{ seconds: 3600, changes: 1 }, { seconds: 300, changes: 100 }, { seconds: 60, changes: 10000 }]);
    expect(cfg.replicaof).toBeNull();
    expect(cfg.bioCpulist).toBe("");
    expect(cfg.get("maxmemory")).toBe(0);
    expect(cfg.get("client-query-buffer-limit")).toBe(1024 * 1024 * 1024);
    expect(cfg.getString("hash-max-ziplist-entries")).toBe("512");
    expect(cfg.getString("nosuch")).toBeUndefined();
  });

  test("every parameter has a key derived from its name, and aliases share its value", () => {
    const keys = new Set<string>();
    for (const p of PARAMS) {
      expect(p.key).toBe(camel(p.name));
      expect(keys.has(p.key)).toBe(false);
      keys.add(p.key);
    }
    const cfg = new Config();
    configSetArgs(cfg, ["hash-max-ziplist-entries", "100"]);
    expect(cfg.hashMaxListpackEntries).toBe(100);
    expect(cfg.getString("hash-max-listpack-entries")).toBe("100");
    expect(PARAM_ENTRIES.get("slaveof")?.spec.name).toBe("replicaof");
  });

  test("configs are independent per instance", () => {
    const a = new Config();
    const b = new Config();
    configSetArgs(a, ["maxmemory", "1mb", "save", "1 1"]);
    expect(a.maxmemory).toBe(1048576);
    expect(b.maxmemory).toBe(0);
    expect(b.save.length).toBe(3);
  });

  test("assign sets a value without hooks; onChange returns an unsubscribe", () => {
    const cfg = new Config();
    let calls = 0;
    const off = cfg.onChange(["maxmemory", "maxmemory-policy"], () => {
      calls++;
    });
    cfg.assign("replicaof", { host: "10.0.0.1", port: 6380 });
    expect(cfg.getString("slaveof")).toBe("10.0.0.1 6380");
    expect(configSetArgs(cfg, ["maxmemory", "1mb", "maxmemory-policy", "allkeys-lru"])).toBeNull();
    expect(calls).toBe(1); // one hook for both names runs once
    off();
    expect(configSetArgs(cfg, ["maxmemory", "2mb"])).toBeNull();
    expect(calls).toBe(1);
    expect(() => cfg.onChange("nosuch", () => {})).toThrow();
  });

  test("values that hold several things are frozen", () => {
    const cfg = new Config();
    expect(Object.isFrozen(cfg.save)).toBe(true);
    expect(Object.isFrozen(cfg.bind)).toBe(true);
    configSetArgs(cfg, ["save", "10 1"]);
    expect(Object.isFrozen(cfg.save)).toBe(true);
  });
});

// --- the C helpers -------------------------------------------------------------------------

describe("number parsing like util.c", () => {
  test("memtoull units, case and wrap-around", () => {
    expect(memtoull("1k")).toBe(1000n);
    expect(memtoull("1KB")).toBe(1024n);
    expect(memtoull("1m")).toBe(1000000n);
    expect(memtoull("1mb")).toBe(1048576n);
    expect(memtoull("1g")).toBe(1000000000n);
    expect(memtoull("1Gb")).toBe(1073741824n);
    expect(memtoull("10b")).toBe(10n);
    expect(memtoull("")).toBe(0n);
    expect(memtoull("kb")).toBe(0n);
    expect(memtoull("01")).toBe(1n);
    expect(memtoull("-1")).toBeNull();
    expect(memtoull("+1")).toBeNull();
    expect(memtoull(" 1")).toBeNull();
    expect(memtoull("1.5gb")).toBeNull();
    expect(memtoull("18446744073709551616")).toBe(18446744073709551615n);
    expect(memtoull("99999999999gb")).toBe(15140462030378500096n);
  });

  test("string2ll is strict", () => {
    expect(string2ll("0")).toBe(0n);
    expect(string2ll("-5")).toBe(-5n);
    expect(string2ll("9223372036854775807")).toBe(9223372036854775807n);
    expect(string2ll("9223372036854775808")).toBeNull();
    for (const bad of ["", "01", "-0", "+1", " 1", "1 ", "1.0", "-"]) expect(string2ll(bad)).toBeNull();
  });

  test("strtoll-style parsing allows spaces, signs and the empty string", () => {
    expect(strtollWhole(" +5", 10)).toBe(5n);
    expect(strtollWhole("", 10)).toBe(0n);
    expect(strtollWhole("5 ", 10)).toBeNull();
    expect(strtollWhole("755", 8)).toBe(0o755n);
    expect(strtollWhole("8", 8)).toBeNull();
  });

  test("notify-keyspace-events flags print in Redis's order", () => {
    expect(notifyFlagsToString(NOTIFY.ALL | NOTIFY.KEYSPACE | NOTIFY.KEYEVENT | NOTIFY.KEY_MISS | NOTIFY.NEW)).toBe("AKEm");
    expect(notifyFlagsToString(NOTIFY.KEYEVENT | NOTIFY.GENERIC | NOTIFY.EXPIRED | NOTIFY.STRING)).toBe("g$xE");
  });
});
