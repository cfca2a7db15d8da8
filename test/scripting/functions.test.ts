// FUNCTION and FCALL against the real redis-server: loading libraries (metadata, names,
// register_function's forms and errors, the load environment), calling functions (keys,
// arguments, flags, read-only rules, errors), LIST / STATS / DELETE / FLUSH, DUMP and
// RESTORE (payloads cross between the two servers), and a busy function.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { Oracle, RespConn } from "../oracle/harness.ts";
import { decodeReply, type Reply } from "../oracle/resp.ts";

let o: Oracle;
let r3: [RespConn, RespConn];

beforeAll(async () => {
  o = await Oracle.start(["--busy-reply-threshold", "100"]);
  r3 = await o.connectResp3();
});
afterAll(() => o.stop());
beforeEach(async () => {
  await o.same("FUNCTION", "FLUSH");
  await o.same("FLUSHALL");
});

function lib(name: string, body: string): string {
  return `#!lua name=${name}\n${body}`;
}

const BASIC = lib(
  "basic",
  `
redis.register_function('setget', function(keys, args)
  redis.call('SET', keys[1], args[1])
  return redis.call('GET', keys[1])
end)
redis.register_function{function_name='echo', callback=function(keys, args) return {keys, args, #keys, #args} end, flags={'no-writes'}, description='gives back what it got'}
redis.register_function{function_name='Mixed_Case', callback=function() return 'mixed' end, flags={'no-writes', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'}}
`,
);

/** A reply decoded with every array sorted (deeply): FUNCTION LIST's order is the hash table's. */
function unordered(reply: string): unknown {
  const sort = (value: Reply): unknown => {
    if (Array.isArray(value)) return value.map(sort).map((x) => JSON.stringify(x)).sort();
    if (value !== null && typeof value === "object" && "map" in value) {
      return value.map.map(([k, v]) => JSON.stringify([sort(k), sort(v)])).sort();
    }
    return value;
  };
  return sort(decodeReply(reply));
}

async function sameUnordered(...args: string[]): Promise<void> {
  const [want, got] = await o.both(...args);
  expect(unordered(got)).toEqual(unordered(want));
}

describe("FUNCTION LOAD", () => {
  test("a library loads once; REPLACE swaps it", async () => {
    expect(await o.same("FUNCTION", "LOAD", BASIC)).toBe("$5\r\nbasic\r\n");
    await o.same("FUNCTION", "LOAD", BASIC);
    await o.same("FUNCTION", "LOAD", "REPLACE", BASIC);
    await o.same("FUNCTION", "LOAD", "replace", lib("basic", "redis.register_function('other', function() return 2 end)"));
    await o.same("FCALL", "setget", "1", "k", "v");
    await o.same("FCALL", "other", "0");
    await o.same("FUNCTION", "LOAD", "REPLACEX", BASIC);
    await o.same("FUNCTION", "LOAD", "a", "b", BASIC);
  });

  test("metadata errors", async () => {
    const fn = "redis.register_function('x', function() end)";
    for (const code of [
      fn,
      `#!lua name=ok`,
      `#!lua\n${fn}`,
      `#!lua name=a-b\n${fn}`,
      `#!lua name=\n${fn}`,
      `#!lua name=ok foo=bar\n${fn}`,
      `#!lua name=a name=b\n${fn}`,
      `#!luax name=ok\n${fn}`,
      `#!LUA NAME=upper\n${fn}`,
      `#!lua   name=spaced   \n${fn}`,
      `#! lua name=x\n${fn}`,
    ]) {
      await o.same("FUNCTION", "LOAD", code);
    }
  });

  test("register_function's forms and errors", async () => {
    let n = 0;
    for (const body of [
      "",
      "local x = 1",
      "redis.register_function('g', function() end, 3)",
      "redis.register_function('g')",
      "redis.register_function('g', 1)",
      "redis.register_function(1, function() return 'one' end)",
      "redis.register_function({}, function() end)",
      "redis.register_function('g-1', function() end)",
      "redis.register_function('', function() end)",
      "redis.register_function('g', function() end) redis.register_function('G', function() end)",
      "redis.register_function{function_name='g', callback=function() end, flags={'bad'}}",
      "redis.register_function{function_name='g', callback=function() end, flags={1}}",
      "redis.register_function{function_name='g', callback=function() end, flags='no-writes'}",
      "redis.register_function{function_name='g', callback=function() end, foo=1}",
      "redis.register_function{callback=function() end}",
      "redis.register_function{function_name='g'}",
      "redis.register_function{function_name='g', callback=1}",
      "redis.register_function{function_name={}, callback=function() end}",
      "redis.register_function{function_name='g', callback=function() end, description={}}",
      "redis.register_function{function_name='g', callback=function() end, description=1}",
      "redis.register_function{[1]='g', callback=function() end}",
      "redis.register_function(5)",
    ]) {
      await o.same("FUNCTION", "LOAD", lib(`reg${n++}`, body));
    }
  });

  test("the load environment holds only the load API", async () => {
    let n = 0;
    for (const body of [
      "return redis.call('ping')",
      "x = 1",
      "redis.foo = 1",
      "local t = type(1)",
      "error('boom')",
      "local a = redis.setresp",
      "local a = redis.sha1hex",
      "local a = KEYS",
      "redis.log(redis.LOG_WARNING, 'loading') redis.register_function('g', function() return 1 end)",
      "local v = redis.REDIS_VERSION .. redis.REDIS_VERSION_NUM redis.register_function('g', function() return v end)",
      "local x = = 1",
      "local x = ",
      "while true do end",
    ]) {
      await o.same("FUNCTION", "LOAD", lib(`env${n++}`, body));
    }
    await o.same("FCALL", "g", "0");
  });

  test("a function name another library holds is refused, whatever its case", async () => {
    await o.same("FUNCTION", "LOAD", BASIC);
    await o.same("FUNCTION", "LOAD", lib("second", "redis.register_function('SETGET', function() return 1 end)"));
    await o.same("FUNCTION", "LOAD", lib("second", "redis.register_function('mixed_case', function() return 1 end)"));
    await o.same("FUNCTION", "LOAD", lib("Basic", "redis.register_function('fresh', function() return 1 end)"));
    await o.same("FCALL", "fresh", "0");
  });
});

describe("FCALL", () => {
  beforeEach(async () => {
    await o.same("FUNCTION", "LOAD", BASIC);
  });

  test("keys and arguments arrive as the two parameters; names match in any case", async () => {
    await o.same("FCALL", "setget", "1", "k", "v");
    await o.same("FCALL", "SETGET", "1", "k", "w");
    await o.same("FCALL", "echo", "2", "a", "b", "c");
    await o.same("FCALL", "echo", "0");
    await o.same("FCALL", "mixed_case", "0");
    await o.same("FCALL", "echo", "1", "\xff\x00key", "\x00\xfe");
  });

  test("errors: unknown function, numkeys, read-only rules", async () => {
    await o.same("FCALL", "nope", "0");
    await o.same("FCALL", "nope", "x");
    await o.same("FCALL", "echo", "x");
    await o.same("FCALL", "echo", "-1");
    await o.same("FCALL", "echo", "2", "a");
    await o.same("FCALL", "echo", "99999999999999999999");
    await o.same("FCALL_RO", "setget", "1", "k", "v");
    await o.same("FCALL_RO", "echo", "1", "k", "v");
    await o.same("FUNCTION", "LOAD", lib("ro", "redis.register_function{function_name='ro_write', callback=function(keys) return redis.call('SET', keys[1], 'x') end, flags={'no-writes'}}"));
    await o.same("FCALL", "ro_write", "1", "k");
    await o.same("FCALL_RO", "ro_write", "1", "k");
    await o.same("FUNCTION", "LOAD", lib("ro2", "redis.register_function{function_name='ro_pwrite', callback=function(keys) return redis.pcall('SET', keys[1], 'x') end, flags={'no-writes'}}"));
    await o.same("FCALL", "ro_pwrite", "1", "k");
  });

  test("errors raised inside a function name it and its line", async () => {
    await o.same(
      "FUNCTION",
      "LOAD",
      lib(
        "errs",
        `
redis.register_function('unknown_cmd', function() return redis.call('nosuch') end)
redis.register_function('raises', function() error('x') end)
redis.register_function('table_err', function() error({err='MY custom'}) end)
redis.register_function('reply_err', function() return redis.error_reply('MY err') end)
redis.register_function('status', function() return redis.status_reply('FINE') end)
redis.register_function('wrongtype', function(keys) redis.call('SET', keys[1], 'v') return redis.call('LPUSH', keys[1], 'x') end)
local captured = redis
redis.register_function('late_register', function() return captured.register_function('zz', function() end) end)
redis.register_function('global_write', function() y = 1 end)
redis.register_function('global_read', function() return nosuch end)
`,
      ),
    );
    for (const fn of ["unknown_cmd", "raises", "table_err", "reply_err", "status", "late_register", "global_write", "global_read"]) {
      await o.same("FCALL", fn, "0");
    }
    await o.same("FCALL", "wrongtype", "1", "k");
  });

  test("RESP3 callers get RESP3 shapes", async () => {
    const [r, b] = r3;
    for (const args of [
      ["FCALL", "echo", "1", "k", "v"],
      ["FUNCTION", "STATS"],
      ["FUNCTION", "LIST", "LIBRARYNAME", "basic"],
    ]) {
      const [want, got] = await Promise.all([r.call(...args), b.call(...args)]);
      expect(unordered(got)).toEqual(unordered(want));
    }
  });
});

describe("FUNCTION LIST, STATS, DELETE, FLUSH", () => {
  test("LIST with LIBRARYNAME patterns (any case) and WITHCODE; its errors", async () => {
    await o.same("FUNCTION", "LIST");
    await o.same("FUNCTION", "LOAD", BASIC);
    await o.same("FUNCTION", "LOAD", lib("Another_1", "redis.register_function('a1', function() return 1 end)"));
    await sameUnordered("FUNCTION", "LIST");
    await sameUnordered("FUNCTION", "LIST", "WITHCODE");
    await sameUnordered("FUNCTION", "LIST", "LIBRARYNAME", "ba*");
    await sameUnordered("FUNCTION", "LIST", "LIBRARYNAME", "ANOTHER*", "WITHCODE");
    await sameUnordered("FUNCTION", "LIST", "withcode", "libraryname", "nomatch");
    await o.same("FUNCTION", "LIST", "BAD");
    await o.same("FUNCTION", "LIST", "LIBRARYNAME");
    await o.same("FUNCTION", "LIST", "WITHCODE", "WITHCODE");
    await o.same("FUNCTION", "LIST", "LIBRARYNAME", "a", "LIBRARYNAME", "b");
  });

  test("STATS counts libraries and functions", async () => {
    await o.same("FUNCTION", "STATS");
    await o.same("FUNCTION", "LOAD", BASIC);
    await o.same("FUNCTION", "STATS");
    await o.same("FUNCTION", "STATS", "extra");
  });

  test("DELETE and FLUSH", async () => {
    await o.same("FUNCTION", "LOAD", BASIC);
    await o.same("FUNCTION", "DELETE", "nope");
    await o.same("FUNCTION", "DELETE", "BASIC");
    await o.same("FUNCTION", "DELETE", "basic");
    await o.same("FCALL", "echo", "0");
    await o.same("FUNCTION", "DELETE");
    await o.same("FUNCTION", "LOAD", BASIC);
    await o.same("FUNCTION", "FLUSH", "BAD");
    await o.same("FUNCTION", "FLUSH", "ASYNC");
    await o.same("FUNCTION", "FLUSH", "sync");
    await o.same("FUNCTION", "LIST");
    await o.same("FUNCTION", "HELP");
  });
});

describe("FUNCTION DUMP and RESTORE", () => {
  test("a payload is byte-identical, and each server restores the other's", async () => {
    expect(await o.same("FUNCTION", "DUMP")).toStartWith("$10\r\n");
    await o.same("FUNCTION", "LOAD", BASIC);
    const payload = await o.same("FUNCTION", "DUMP");
    const bytes = Buffer.from(payload.slice(payload.indexOf("\r\n") + 2, -2), "latin1");
    await o.same("FUNCTION", "FLUSH");
    await o.same("FUNCTION", "RESTORE", bytes as unknown as string);
    await o.same("FCALL", "echo", "1", "k", "v");
    await o.same("FUNCTION", "RESTORE", bytes as unknown as string);
    await o.same("FUNCTION", "RESTORE", bytes as unknown as string, "APPEND");
    await o.same("FUNCTION", "RESTORE", bytes as unknown as string, "REPLACE");
    await o.same("FUNCTION", "RESTORE", bytes as unknown as string, "FLUSH");
    await o.same("FUNCTION", "LOAD", lib("clash", "redis.register_function('x1', function() return 1 end)"));
    await o.same("FUNCTION", "RESTORE", bytes as unknown as string, "flush");
    await o.same("FCALL", "x1", "0");
  });

  test("policies, collisions and bad payloads", async () => {
    await o.same("FUNCTION", "LOAD", lib("one", "redis.register_function('shared_name', function() return 1 end)"));
    const [dumpR] = await o.both("FUNCTION", "DUMP");
    const one = Buffer.from(dumpR.slice(dumpR.indexOf("\r\n") + 2, -2), "latin1");
    await o.same("FUNCTION", "FLUSH");
    await o.same("FUNCTION", "LOAD", lib("two", "redis.register_function('shared_name', function() return 2 end)"));
    await o.same("FUNCTION", "RESTORE", one as unknown as string);
    await o.same("FUNCTION", "RESTORE", one as unknown as string, "REPLACE");
    await o.same("FUNCTION", "RESTORE", one as unknown as string, "FLUSH");
    await o.same("FCALL", "shared_name", "0");
    await o.same("FUNCTION", "RESTORE", one as unknown as string, "BAD");
    await o.same("FUNCTION", "RESTORE", one as unknown as string, "FLUSH", "extra");
    await o.same("FUNCTION", "RESTORE", "garbage");
    // A key's DUMP payload is valid but holds no library.
    await o.same("SET", "k", "v");
    const [keyDump] = await o.both("DUMP", "k");
    const keyPayload = Buffer.from(keyDump.slice(keyDump.indexOf("\r\n") + 2, -2), "latin1");
    await o.same("FUNCTION", "RESTORE", keyPayload as unknown as string);
  });
});

describe("a busy function", () => {
  test("FUNCTION KILL stops it; SCRIPT KILL names FUNCTION KILL; STATS shows it", async () => {
    await o.same("FUNCTION", "LOAD", lib("spin", "redis.register_function{function_name='spin', callback=function() local i = 0 while true do i = i + 1 end end, flags={'no-writes'}}"));
    const conns = await o.connectBoth();
    const others = await o.connectBoth();
    const replies = Promise.all(conns.map((c) => c.call("FCALL", "spin", "0")));
    for (const c of others) {
      for (let i = 0; i < 200 && !(await c.call("PING")).startsWith("-BUSY"); i++) await Bun.sleep(10);
    }
    const both = async (...args: string[]) => {
      const [want, got] = await Promise.all(others.map((c) => c.call(...args)));
      return [want!, got!] as const;
    };
    const [wantPing, gotPing] = await both("PING");
    expect(gotPing).toBe(wantPing);
    expect(gotPing).toContain("FUNCTION KILL");
    const [wantScriptKill, gotScriptKill] = await both("SCRIPT", "KILL");
    expect(gotScriptKill).toBe(wantScriptKill);
    const [wantStats, gotStats] = await both("FUNCTION", "STATS");
    const durationless = (reply: string) => reply.replace(/duration_ms\r\n:\d+/, "duration_ms\r\n:N");
    expect(durationless(gotStats)).toBe(durationless(wantStats));
    const [wantKill, gotKill] = await both("FUNCTION", "KILL");
    expect(gotKill).toBe(wantKill);
    const [want, got] = await replies;
    expect(got).toBe(want!);
    for (const c of [...conns, ...others]) c.close();
  });
});
