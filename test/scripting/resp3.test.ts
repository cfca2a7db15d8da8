// RESP3 in scripts against the real redis-server: after redis.setresp(3) a command's RESP3
// reply becomes Lua tables ({map=}, {set=}, {double=}, nil, verbatim strings), and the
// tables a script returns ({map=}, {set=}, {double=}, {big_number=}, {verbatim_string=},
// booleans) are written in the caller's protocol. Every case runs from a RESP2 and a RESP3
// caller, and a seeded fuzzer returns random nested values both ways. Maps and sets come
// out in the order Lua 5.1's next() visits their keys, as in Redis.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { Oracle, rng, RespConn } from "../oracle/harness.ts";
import { pick, seedFromEnv, stepsFromEnv, type Random } from "../oracle/fuzz.ts";

let o: Oracle;
let r3: [RespConn, RespConn];

beforeAll(async () => {
  o = await Oracle.start();
  r3 = await o.connectResp3();
});
afterAll(() => o.stop());
beforeEach(async () => {
  await o.same("FLUSHALL");
});

/** Both servers' replies to a script from a RESP2 and a RESP3 caller: [[redis, redbun] RESP2, [redis, redbun] RESP3]. */
async function evalBoth(script: string, args: string[] = []): Promise<[[string, string], [string, string]]> {
  const command = ["EVAL", script, "0", ...args];
  // One caller after the other: scripts that write must run in the same order on both servers.
  const two = await o.both(...command);
  const three = await Promise.all([r3[0].call(...command), r3[1].call(...command)]);
  return [two, three];
}

/** The script's replies must be byte-identical for both callers; returns [RESP2, RESP3]. */
async function sameEval(script: string, ...args: string[]): Promise<[string, string]> {
  const [[want2, got2], [want3, got3]] = await evalBoth(script, args);
  for (const [protocol, want, got] of [["RESP2", want2, got2], ["RESP3", want3, got3]] as const) {
    if (want !== got) throw new Error(`${protocol} reply differs for ${JSON.stringify(script)}\n  redis:  ${JSON.stringify(want)}\n  redbun: ${JSON.stringify(got)}`);
  }
  return [want2, want3];
}

describe("Lua values as RESP3 types", () => {
  const values = [
    "true",
    "false",
    "nil",
    "{true, false, 1}",
    "{double=1.5}",
    "{double=-2.25e-10}",
    "{double=3}",
    "{double=0.1}",
    "{double=1e300}",
    "{double=1/0}",
    "{double=-1/0}",
    "{double=0/0}",
    "{double=-(0/0)}",
    "{double=-0.0}",
    "{double='1.5'}",
    "{big_number='123456789012345678901234567890'}",
    "{big_number='-1'}",
    "{big_number='12\\r\\n3'}",
    "{big_number=123}",
    "{verbatim_string={format='txt', string='hello'}}",
    "{verbatim_string={format='mkd', string='a\\r\\nb\\0c'}}",
    "{verbatim_string={format='markdown', string='x'}}",
    "{verbatim_string={format='m', string='x'}}",
    "{verbatim_string={format='', string='x'}}",
    "{verbatim_string={format='a\\0b', string='x'}}",
    "{verbatim_string={string='no format'}}",
    "{verbatim_string={format='txt'}}",
    "{verbatim_string='txt'}",
    "{map={}}",
    "{map={k='v'}}",
    "{map={[1]=2}}",
    "{map={k={1, 2, {double=2.5}}}}",
    "{map={[true]=false}}",
    "{map={k={map={j={set={z=true}}}}}}",
    "{map='x', 5}",
    "{set={}}",
    "{set={a=true}}",
    "{set={[7]=true}}",
    "{set={a=false}}",
    "{set={[{double=1}]=true}}",
    "{map={[{1, 2}]={3, 4}}}",
    "{ok='x', map={a=1}}",
    "{err='x', map={a=1}}",
    "{double=1.5, map={a=1}}",
    "{big_number='1', set={a=true}}",
    "{map={a=1}, set={b=true}}",
    "{map={a=1, b=2, c=3, d=4, e={set={x=true, y=true, z=true}}}}",
    "{set={alpha=true, beta=true, gamma=true, delta=true, [1]=true, [2.5]=true}}",
    "{1, {double=2.5}, {map={k={set={z=true}}}}, {big_number='9'}, true, false}",
  ];
  for (const value of values) {
    test(`return ${value}`, async () => {
      await sameEval(`return ${value}`);
      await sameEval(`redis.setresp(3) return ${value}`);
    });
  }

  test("booleans: a RESP2 script's false is the caller's null, a RESP3 script's is a boolean", async () => {
    expect(await sameEval("return false")).toEqual(["$-1\r\n", "_\r\n"]);
    expect(await sameEval("redis.setresp(3) return false")).toEqual([":0\r\n", "#f\r\n"]);
    expect(await sameEval("redis.setresp(3) redis.setresp(2) return {true, false}")).toEqual(["*2\r\n:1\r\n$-1\r\n", "*2\r\n:1\r\n_\r\n"]);
  });
});

describe("tables nested past Lua 5.1's stack limit", () => {
  test("a table that holds itself: arrays, maps and sets until the limit, then Redis's error in place", async () => {
    for (const script of [
      "local t = {} t[1] = t return t",
      "local t = {} t[1] = t t[2] = 5 return t",
      "local t = {} t.map = {k = t} return t",
      "local t = {} t.set = {[t] = true} return t",
      "local t = {} t.map = {k = {1, t}} return {t, 'after'}",
      "local t = {} for i = 1, 3 do t = {t} end return t",
    ]) {
      const [two] = await sameEval(script);
      expect(two.length).toBeGreaterThan(10);
      // The server is fine afterwards.
      await sameEval("return {{{}}}");
    }
  });
});

describe("RESP3 command replies as Lua values", () => {
  /** A script that describes the Lua value redis.call returns: types, fields and sorted keys. */
  const DESCRIBE = `
local function describe(v)
  if type(v) ~= 'table' then return type(v) .. ':' .. tostring(v) end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = tostring(k) .. '=' .. describe(v[k]) end
  return '{' .. table.concat(parts, ',') .. '}'
end
if ARGV[1] == '3' then redis.setresp(3) end
return describe(redis.call(unpack(ARGV, 2)))`;

  async function describeBoth(...command: string[]): Promise<void> {
    await sameEval(DESCRIBE, "2", ...command);
    await sameEval(DESCRIBE, "3", ...command);
  }

  test("maps, sets, doubles, nulls and nested aggregates", async () => {
    await o.same("HSET", "h", "f1", "1", "f2", "2", "f3", "3", "f4", "4", "f5", "5");
    await o.same("SADD", "ints", "3", "1", "2");
    await o.same("ZADD", "z", "1.5", "a", "2", "b", "-0.25", "c");
    await o.same("XADD", "x", "1-1", "f", "v");
    await o.same("SET", "s", "v");
    for (const command of [
      ["HGETALL", "h"],
      ["HGETALL", "nokey"],
      ["SMEMBERS", "ints"],
      ["SMEMBERS", "nokey"],
      ["ZSCORE", "z", "a"],
      ["ZSCORE", "z", "nosuch"],
      ["ZMSCORE", "z", "a", "nosuch", "c"],
      ["ZRANGE", "z", "0", "-1", "WITHSCORES"],
      ["ZPOPMIN", "z"],
      ["ZINCRBY", "z", "0.5", "b"],
      ["ZADD", "z", "INCR", "1", "a"],
      ["GET", "s"],
      ["GET", "nokey"],
      ["INCR", "n"],
      ["SET", "s", "w"],
      ["LPOP", "nolist"],
      ["XRANGE", "x", "-", "+"],
      ["XREAD", "STREAMS", "x", "0"],
      ["XINFO", "STREAM", "x"],
      ["HINCRBYFLOAT", "h", "f1", "0.5"],
    ]) {
      await describeBoth(...command);
    }
  });

  test("a verbatim string (INFO) keeps its format and text", async () => {
    await o.same("SET", "k", "v");
    await sameEval("redis.setresp(3) local v = redis.call('INFO', 'keyspace') return {v.verbatim_string.format, v.verbatim_string.string}");
    await sameEval("redis.setresp(3) return redis.call('INFO', 'keyspace')");
    await sameEval("return redis.call('INFO', 'keyspace')");
  });

  test("replies passed straight back: the caller's protocol decides their shape", async () => {
    await o.same("HSET", "h", "f", "1");
    await o.same("HSET", "h5", "f1", "1", "f2", "2", "f3", "3", "f4", "4", "f5", "5");
    await o.same("SADD", "ints", "5", "1", "3", "2", "4", "6", "7");
    await o.same("ZADD", "z", "1.5", "a", "2", "b");
    for (const command of ["'HGETALL', 'h'", "'HGETALL', 'h5'", "'SMEMBERS', 'ints'", "'ZSCORE', 'z', 'a'", "'ZRANGE', 'z', 0, -1, 'WITHSCORES'", "'ZMSCORE', 'z', 'a', 'x', 'b'", "'GET', 'nokey'"]) {
      await sameEval(`return redis.call(${command})`);
      await sameEval(`redis.setresp(3) return redis.call(${command})`);
      await sameEval(`redis.setresp(3) return {redis.call(${command})}`);
    }
  });

  test("errors stay {err=} tables, raised by redis.call, returned by redis.pcall", async () => {
    await o.same("SET", "s", "v");
    await sameEval("redis.setresp(3) return redis.call('HGETALL', 's')");
    await sameEval("redis.setresp(3) return redis.pcall('HGETALL', 's')");
    await sameEval("redis.setresp(3) local e = redis.pcall('HGETALL', 's') return {type(e), e.err}");
    // The table also says the command counted its error (Redis's ignore_error_stats_update).
    const fields = "local out = {} for k, v in pairs(e) do out[#out + 1] = k .. '=' .. tostring(v) end table.sort(out) return out";
    await sameEval(`local e = redis.pcall('INCR', 's') ${fields}`);
    await sameEval(`redis.setresp(3) local e = redis.pcall('HGETALL', 's') ${fields}`);
  });
});

describe("error statistics of errors a script returns", () => {
  /** INFO errorstats and each command's calls and failed calls (not its times), after the script. */
  async function statsAfter(script: string): Promise<void> {
    await o.same("CONFIG", "RESETSTAT");
    await sameEval(script);
    await o.same("INFO", "errorstats");
    const [want, got] = await o.both("INFO", "commandstats");
    // Redis lists commands in its hash table's order: compared as sorted lines.
    const counts = (info: string) =>
      info
        .split("\r\n")
        .filter((line) => line.startsWith("cmdstat_"))
        .map((line) => line.replace(/usec=[\d.]+,usec_per_call=[\d.]+,/, ""))
        .sort();
    expect(counts(got)).toEqual(counts(want));
  }

  test("an error redis.call or redis.pcall got is counted once, by its command; the script's own errors by the script", async () => {
    await o.same("SET", "s", "text");
    for (const script of [
      "return redis.pcall('INCR', 's')",
      "return {redis.pcall('INCR', 's'), redis.pcall('INCR', 's')}",
      "return redis.call('INCR', 's')",
      "local ok = pcall(redis.call, 'INCR', 's') return 1",
      "return redis.pcall('nosuch')",
      "return {err='MY own'}",
      "return {err='MY own', ignore_error_stats_update=true}",
      "return {err='MY own', ignore_error_stats_update=1}",
      "return {1, {err='MY nested'}, {err='MY other', ignore_error_stats_update=true}}",
      "error({err='MY raised', ignore_error_stats_update=true})",
    ]) {
      await statsAfter(script);
    }
  });
});

// ---------------------------------------------------------------------------------------
// The fuzzer: random nested Lua values, returned to both callers
// ---------------------------------------------------------------------------------------

/** A byte string as a Lua literal: every byte not a letter or digit as a three-digit escape. */
function luaString(bytes: string): string {
  let out = "'";
  for (let i = 0; i < bytes.length; i++) {
    const code = bytes.charCodeAt(i);
    out += /[A-Za-z0-9 ]/.test(bytes[i]!) ? bytes[i] : `\\${String(code).padStart(3, "0")}`;
  }
  return `${out}'`;
}

function randomBytes(r: Random, max: number): string {
  const alphabet = ["a", "b", "z", "0", "9", " ", "\r", "\n", "\0", "\xff", "\x80", "-", ":"];
  let s = "";
  const n = Math.floor(r() * (max + 1));
  for (let i = 0; i < n; i++) s += pick(r, alphabet);
  return s;
}

const DOUBLES = ["1.5", "-2.25", "0", "-0.0", "0.1", "1e300", "-1e-300", "1/0", "-1/0", "0/0", "-(0/0)", "123456.789", "2^53", "3"];
const NUMBERS = ["0", "1", "-1", "42", "3.7", "-3.7", "2^31", "2^53", "-2^53", "1e20", "1/0", "0/0"];

/** A random scalar: a number, string or boolean, or a table Redis writes as one reply. */
function randomScalar(r: Random): string {
  const x = r();
  if (x < 0.2) return pick(r, NUMBERS);
  if (x < 0.4) return luaString(randomBytes(r, 6));
  if (x < 0.5) return pick(r, ["true", "false"]);
  if (x < 0.6) return `{double=${pick(r, DOUBLES)}}`;
  if (x < 0.7) return `{big_number=${luaString(pick(r, ["1", "-99", "123456789012345678901234567890"]) + (r() < 0.1 ? "\r\n" : ""))}}`;
  if (x < 0.8) return `{ok=${luaString(randomBytes(r, 5))}}`;
  if (x < 0.9) return `{err=${luaString(randomBytes(r, 5))}}`;
  return `{verbatim_string={format=${luaString(pick(r, ["txt", "mkd", "m", "markdown", ""]))}, string=${luaString(randomBytes(r, 6))}}}`;
}

/** The Lua source of a random value: scalars, arrays, {map=} and {set=} tables, nested up to depth 3. */
function randomValue(r: Random, depth: number): string {
  const x = r();
  if (depth >= 3 || x < 0.45) return randomScalar(r);
  const size = Math.floor(r() * 6);
  if (x < 0.65) return `{${Array.from({ length: size }, () => randomValue(r, depth + 1)).join(", ")}}`;
  if (x < 0.85) {
    const fields = Array.from({ length: size }, (_, i) => `[${luaString(`k${i}${randomBytes(r, 2)}`)}]=${randomValue(r, depth + 1)}`);
    return `{map={${fields.join(", ")}}}`;
  }
  const members = Array.from({ length: size }, () => `[${luaString(`m${randomBytes(r, 3)}`)}]=${pick(r, ["true", "1", "false"])}`);
  return `{set={${members.join(", ")}}}`;
}

describe("fuzz: random nested values to RESP2 and RESP3 callers", () => {
  test("the same replies, byte for byte", async () => {
    const seed = seedFromEnv();
    const r = rng(seed);
    const steps = stepsFromEnv(300);
    let script = "";
    try {
      for (let step = 0; step < steps; step++) {
        script = `${r() < 0.5 ? "redis.setresp(3) " : ""}return ${randomValue(r, 0)}`;
        await sameEval(script);
      }
    } catch (error) {
      console.error(`RESP3 fuzz failed: replay with SEED=${seed}\nscript: ${script}`);
      throw error;
    }
  });
});
