// EVAL, EVALSHA and SCRIPT against the real redis-server: replies and errors byte for byte,
// the conversions of replies into Lua and of Lua values into replies (binary strings
// included), redis.call's raised errors against redis.pcall's returned ones, and a real
// client's defineCommand.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import { Oracle, RespConn, startRedbun } from "../oracle/harness.ts";

let o: Oracle;
let r3: [RespConn, RespConn];

beforeAll(async () => {
  o = await Oracle.start();
  r3 = await o.connectResp3();
});
afterAll(() => o.stop());
beforeEach(async () => {
  await o.same("FLUSHALL");
  await o.same("SCRIPT", "FLUSH");
});

const SET_SCRIPT = "return redis.call('SET',KEYS[1],ARGV[1])";

describe("EVAL and EVALSHA", () => {
  test("the issue's SET script, then the key it wrote", async () => {
    expect(await o.same("EVAL", SET_SCRIPT, "1", "k", "v")).toBe("+OK\r\n");
    expect(await o.same("GET", "k")).toBe("$1\r\nv\r\n");
  });

  test("numkeys errors, checked before the script", async () => {
    await o.same("EVAL", "return 1", "1");
    await o.same("EVAL", "return 1", "-1");
    await o.same("EVAL", "return 1", "x");
    await o.same("EVAL", "return x(", "2", "a");
    await o.same("EVALSHA", "nosuch", "1");
  });

  test("KEYS and ARGV", async () => {
    await o.same("EVAL", "return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], #KEYS, #ARGV}", "2", "a", "b", "c", "d");
    await o.same("EVAL", "return {#KEYS, #ARGV}", "0");
  });

  test("EVALSHA runs what EVAL or SCRIPT LOAD cached, in any case; NOSCRIPT otherwise", async () => {
    const sha = "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"; // SHA1 of "return 1"
    await o.same("EVALSHA", sha, "0");
    await o.same("SCRIPT", "LOAD", "return 1");
    await o.same("EVALSHA", sha, "0");
    await o.same("EVALSHA", sha.toUpperCase(), "0");
    await o.same("SCRIPT", "FLUSH");
    await o.same("EVALSHA", sha, "0");
    await o.same("EVAL", "return 1", "0");
    await o.same("EVALSHA", sha, "0");
  });

  test("EVAL_RO and EVALSHA_RO refuse writes, allow reads", async () => {
    await o.same("SET", "k", "v");
    await o.same("EVAL_RO", "return redis.call('GET',KEYS[1])", "1", "k");
    await o.same("EVAL_RO", SET_SCRIPT, "1", "k", "w");
    await o.same("EVAL_RO", "return redis.pcall('SET','k','w')", "0");
    await o.same("SCRIPT", "LOAD", SET_SCRIPT);
    const sha = (await o.same("SCRIPT", "LOAD", SET_SCRIPT)).split("\r\n")[1]!;
    await o.same("EVALSHA_RO", sha, "1", "k", "w");
    await o.same("GET", "k");
  });
});

describe("Lua values as replies", () => {
  const scripts = [
    "return 42",
    "return -7",
    "return 3.9",
    "return -3.9",
    "return 'hello'",
    "return true",
    "return false",
    "return nil",
    "return {}",
    "return {1, 2, nil, 4}",
    "return {1, {2, {3, {'x'}}}, 'y', true, false}",
    "return {ok='fine'}",
    "return {err='my error'}",
    "return {err='ERR custom'}",
    "return redis.status_reply('STATUS')",
    "return redis.error_reply('MYERR text')",
    "return {ok='line\\r\\nbreak'}",
    "return {err=5, ok='x'}",
  ];
  for (const script of scripts) {
    test(script, async () => {
      await o.same("EVAL", script, "0");
      // A RESP3 caller gets RESP3 shapes of the same values.
      const [want, got] = await Promise.all([r3[0].call("EVAL", script, "0"), r3[1].call("EVAL", script, "0")]);
      expect(got).toBe(want);
    });
  }
});

describe("command replies inside Lua", () => {
  test("integer, bulk, nil, array, status and nested replies, as Lua types", async () => {
    await o.same("RPUSH", "l", "a", "b", "c");
    await o.same("HSET", "h", "f", "v");
    const probe = "local r = redis.call(unpack(ARGV)); if type(r) == 'table' then return {type(r), r.ok or 'none', #r, r} end; return {type(r), tostring(r)}";
    await o.same("EVAL", probe, "0", "INCR", "n");
    await o.same("EVAL", probe, "0", "GET", "nokey");
    await o.same("EVAL", probe, "0", "GET", "n");
    await o.same("EVAL", probe, "0", "LRANGE", "l", "0", "-1");
    await o.same("EVAL", probe, "0", "HGETALL", "h");
    await o.same("EVAL", probe, "0", "HGETALL", "nokey");
    await o.same("EVAL", probe, "0", "SET", "s", "v");
    await o.same("EVAL", probe, "0", "BLPOP", "nolist", "0");
    await o.same("EVAL", "return redis.call('XRANGE', KEYS[1], '-', '+')", "1", "x");
    await o.same("XADD", "x", "1-1", "f", "v");
    await o.same("EVAL", "return redis.call('XRANGE', KEYS[1], '-', '+')", "1", "x");
  });

  test("a SELECT inside a script lasts as long as the script", async () => {
    await o.same("SET", "where", "db0");
    await o.same("EVAL", "redis.call('SELECT', 1); redis.call('SET', 'where', 'db1'); return redis.call('GET', 'where')", "0");
    await o.same("GET", "where");
    await o.same("SELECT", "1");
    await o.same("GET", "where");
    await o.same("SELECT", "0");
  });

  test("numbers as command arguments", async () => {
    await o.same("EVAL", "redis.call('SET', 'a', 3); redis.call('SET', 'b', 0.1); redis.call('SET', 'c', -12.5); return {redis.call('GET','a'), redis.call('GET','b'), redis.call('GET','c')}", "0");
    await o.same("EVAL", "return redis.call('SET', 'a', {})", "0");
    await o.same("EVAL", "return redis.call('SET', 'a', true)", "0");
  });

  test("binary strings cross both ways intact", async () => {
    const value = new Uint8Array([0xff, 0x00, 0x0d, 0x0a, 0x80, 0x41]);
    await o.same("EVAL", "redis.call('SET', KEYS[1], ARGV[1]); return {redis.call('GET', KEYS[1]), #ARGV[1], ARGV[1]}", "1", new Uint8Array([0xfe, 0x00]), value);
    await o.same("GET", new Uint8Array([0xfe, 0x00]));
    await o.same("EVAL", "return string.char(0, 255, 128) .. ARGV[1]", "0", value);
    await o.same("EVAL", "return {string.byte(ARGV[1], 1, -1)}", "0", value);
  });
});

describe("errors", () => {
  test("redis.call raises, with the script and line; redis.pcall returns the error", async () => {
    await o.same("SET", "s", "x");
    await o.same("EVAL", "return redis.call('INCR', KEYS[1])", "1", "s");
    await o.same("EVAL", "return redis.pcall('INCR', KEYS[1])", "1", "s");
    await o.same("EVAL", "local r = redis.pcall('INCR', KEYS[1]); return {type(r), r.err}", "1", "s");
    await o.same("EVAL", "\n\nreturn redis.call('INCR', KEYS[1])", "1", "s");
    await o.same("EVAL", "return redis.call('nosuch')", "0");
    await o.same("EVAL", "return redis.pcall('nosuch')", "0");
    await o.same("EVAL", "return redis.call('GET')", "0");
    await o.same("EVAL", "return redis.call('GET', 'a', 'b')", "0");
    await o.same("EVAL", "return redis.call('OBJECT')", "0");
    await o.same("EVAL", "return redis.call('OBJECT', 'nosuch')", "0");
    await o.same("EVAL", "return redis.call()", "0");
    await o.same("EVAL", "return redis.call('MULTI')", "0");
    await o.same("EVAL", "return redis.call('EVAL', 'return 1', '0')", "0");
    await o.same("EVAL", "return redis.call('SCRIPT', 'LOAD', 'return 1')", "0");
  });

  test("runtime errors and the protected globals", async () => {
    await o.same("EVAL", "error('boom')", "0");
    await o.same("EVAL", "\nerror({err='ERR table error'})", "0");
    await o.same("EVAL", "return nosuch", "0");
    await o.same("EVAL", "x = 1", "0");
  });

  test("compile errors name the script's chunk", async () => {
    // Lua 5.3's parser quotes tokens differently from Lua 5.1's (docs/scripting.md), so
    // only the prefix is compared.
    const [want, got] = await o.both("EVAL", "return x(", "0");
    const prefix = "-ERR Error compiling script (new function): user_script:1: ";
    expect(want.startsWith(prefix)).toBe(true);
    expect(got.startsWith(prefix)).toBe(true);
    const [wantLoad, gotLoad] = await o.both("SCRIPT", "LOAD", "return x(");
    expect(wantLoad.startsWith(prefix)).toBe(true);
    expect(gotLoad.startsWith(prefix)).toBe(true);
  });

  test("Lua's own runtime messages keep the script's place and the reply's frame", async () => {
    // Lua 5.3 words its runtime errors differently from Lua 5.1 ("attempt to index a nil
    // value (local 't')"), so the frame Redis puts around the message is compared.
    const [want, got] = await o.both("EVAL", "local t = nil; return t.x", "0");
    const frame = / script: e62b17c4a64e9b74a6f9be57909ea9e2d0e66784, on @user_script:1\.\r\n$/;
    expect(want).toMatch(/^-ERR user_script:1: attempt to index /);
    expect(got).toMatch(/^-ERR user_script:1: attempt to index /);
    expect(want).toMatch(frame);
    expect(got).toMatch(frame);
  });
});

describe("Lua 5.1 names", () => {
  test("unpack, loadstring, # and integer formatting", async () => {
    await o.same("EVAL", "return {unpack({1, 2, 3})}", "0");
    await o.same("EVAL", "return loadstring('return 7')()", "0");
    await o.same("EVAL", "return #{1, 2, 3}", "0");
    await o.same("EVAL", "return tostring(3) .. tostring(tonumber('12'))", "0");
    await o.same("EVAL", "return {type(io), type(os), type(require), type(loadfile), type(dofile)}", "0");
  });
});

describe("SCRIPT", () => {
  test("DEBUG NO, and its argument error", async () => {
    await o.same("SCRIPT", "DEBUG", "NO");
    await o.same("SCRIPT", "DEBUG", "maybe");
    await o.same("SCRIPT", "DEBUG");
  });

  test("LOAD, EXISTS, FLUSH and their errors", async () => {
    await o.same("SCRIPT", "LOAD", "return 'a'");
    await o.same("SCRIPT", "EXISTS", "0e7e49f5cc2e5a5a1e5a94ac3e0e1b9c4d2a7e5b", "dd2f7e8d1e3b0e1b2f3c4d5e6f708192a3b4c5d6");
    const sha = (await o.same("SCRIPT", "LOAD", "return 'a'")).split("\r\n")[1]!;
    await o.same("SCRIPT", "EXISTS", sha, "nosuch", sha.toUpperCase());
    await o.same("SCRIPT", "FLUSH", "ASYNC");
    await o.same("SCRIPT", "EXISTS", sha);
    await o.same("SCRIPT", "FLUSH", "SYNC");
    await o.same("SCRIPT", "FLUSH", "sometimes");
    await o.same("SCRIPT", "FLUSH", "SYNC", "ASYNC");
    await o.same("SCRIPT", "KILL");
    await o.same("SCRIPT", "HELP");
    await o.same("SCRIPT", "NOSUCH");
  });
});

describe("a real client", () => {
  test("ioredis defineCommand loads with EVALSHA, falls back to EVAL", async () => {
    const client = new Redis({ port: o.redbun.port, lazyConnect: true });
    await client.connect();
    try {
      client.defineCommand("setAndIncr", { numberOfKeys: 2, lua: "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('INCRBY', KEYS[2], ARGV[2])" });
      const typed = client as unknown as { setAndIncr(a: string, b: string, v: string, by: number): Promise<number> };
      expect(await typed.setAndIncr("a", "counter", "x", 5)).toBe(5);
      expect(await typed.setAndIncr("a", "counter", "y", 5)).toBe(10);
      expect(await client.get("a")).toBe("y");
    } finally {
      client.disconnect();
    }
  });
});

describe("shebang flags", () => {
  test("#!lua and its flags, their errors, and what no-writes and EVAL_RO refuse", async () => {
    for (const body of [
      "#!lua\nreturn 1",
      "#!lua flags=no-writes\nreturn redis.call('set','a','b')",
      "#!lua flags=no-writes\nreturn redis.pcall('set','a','b')",
      "#!lua flags=no-writes,allow-oom\nreturn 2",
      "#!lua flags=allow-stale,no-cluster,allow-cross-slot-keys\nreturn 3",
      "#!lua flags=\nreturn 4",
      "#!lua flags=bad\nreturn 1",
      "#!lua foo=bar\nreturn 1",
      "#!luax\nreturn 1",
      "#!lua",
      "#!lua name=x\nreturn 1",
      "#!lua\nerror('x')",
      "#!lua\nreturn redis.call('set','a','b')",
    ]) {
      await o.same("EVAL", body, "0");
      await o.same("EVAL_RO", body, "0");
    }
    await o.same("SCRIPT", "LOAD", "#!lua flags=bad\nreturn 1");
    const sha = await o.same("SCRIPT", "LOAD", "#!lua\nreturn redis.call('set','a','c')");
    await o.same("EVALSHA_RO", sha.split("\r\n")[1]!, "0");
  });
});

describe("ACL inside scripts", () => {
  test("a denied redis.call raises the script's texts and logs in the lua context", async () => {
    await o.same("ACL", "LOG", "RESET");
    await o.same("ACL", "SETUSER", "scripted", "on", "nopass", "~k*", "+eval", "+get", "+set", "+acl");
    const conns = await o.connectBoth();
    const both = async (...args: string[]) => {
      const [want, got] = await Promise.all(conns.map((c) => c.call(...args)));
      expect(got).toBe(want!);
      return got!;
    };
    await both("AUTH", "scripted", "x");
    expect(await both("EVAL", "return redis.call('DEL', 'k')", "0")).toStartWith("-ERR The user executing the script can't run this command");
    await both("EVAL", "return redis.call('GET', 'other')", "0");
    await both("EVAL", "return redis.pcall('GET', 'other')", "0");
    await both("EVAL", "return redis.call('SET', 'k1', 'v')", "0");
    // The log's entries without their age and client line.
    const entries = (reply: string) => reply.replace(/age-seconds\r\n\$\d+\r\n[^\r]*\r\n/g, "").replace(/client-info\r\n\$\d+\r\n[^\r]*\r\n/g, "");
    const [want, got] = await o.both("ACL", "LOG");
    expect(entries(got)).toBe(entries(want));
    for (const c of conns) c.close();
    await o.same("ACL", "DELUSER", "scripted");
  });
});

describe("maxmemory inside scripts", () => {
  test("over the limit a script may read, and may write only with allow-oom", async () => {
    await o.same("SET", "a", "b");
    await o.same("CONFIG", "SET", "maxmemory", "1");
    try {
      for (const body of [
        "return redis.call('set','a','b')",
        "return redis.pcall('set','a','b')",
        "return redis.call('get','a')",
        "#!lua\nreturn 1",
        "#!lua flags=no-writes\nreturn 1",
        "#!lua flags=allow-oom\nreturn redis.call('set','a','c')",
        "#!lua flags=allow-oom,no-writes\nreturn redis.call('get','a')",
      ]) {
        await o.same("EVAL", body, "0");
      }
    } finally {
      await o.same("CONFIG", "SET", "maxmemory", "0");
    }
  });
});

describe("statistics of a script's commands", () => {
  test("a command redis.call refuses counts as rejected; the errors count once", async () => {
    await o.same("CONFIG", "RESETSTAT");
    await o.same("EVAL", "return redis.pcall('GET')", "0");
    await o.same("EVAL", "return redis.call('GET')", "0");
    await o.same("EVAL", "return redis.pcall('GETX')", "0");
    await o.same("EVAL", "return redis.pcall('EVAL', 'return 1', '0')", "0");
    await o.same("EVAL_RO", "return redis.pcall('SET', 'k', 'v')", "0");
    // Refusals the script catches still count as errors, unlike a bad argument list.
    await o.same("EVAL", "redis.pcall('GETX') redis.pcall('GET') return 1", "0");
    await o.same("EVAL", "redis.pcall() return 1", "0");
    const stats = async (section: string, pattern: RegExp) => {
      const [want, got] = await o.both("INFO", section);
      const pick = (reply: string) => reply.split("\r\n").filter((line) => pattern.test(line)).map((line) => line.replace(/usec=\d+,usec_per_call=[\d.]+,/, "")).sort();
      expect(pick(got)).toEqual(pick(want));
    };
    await stats("commandstats", /^cmdstat_(get|set|eval|eval_ro):/);
    await stats("errorstats", /^errorstat_/);
    await stats("stats", /^total_error_replies:/);
  });
});
