// Lua tables against the real redis-server: Redis 7.0 runs Lua 5.1, whose next() and pairs()
// visit the array part in index order and then the hash nodes in slot order, so every
// script that iterates a table, cjson.encode, cmsgpack.pack and {map=...} replies answer
// in that order. Then the read-only tables Redis 7.0 makes of the globals and libraries.

import { describe, test } from "bun:test";
import type { Random } from "../oracle/fuzz.ts";
import { pick } from "../oracle/fuzz.ts";
import { scriptSuite, withSeedAsync } from "./script-suite.ts";

const { oracle, sameEach } = scriptSuite();

/** The keys of `t` (a Lua expression) in pairs() order, with their types and values, and #t. */
function traversal(build: string): string {
  return `local t = ${build}; local out = {#t}; for k, v in pairs(t) do out[#out + 1] = type(k) .. ':' .. tostring(k) .. '=' .. tostring(v) end; return out`;
}

/** A script that stores ARGV[i] under a key made from `key` (a Lua expression of s), then traverses. */
function filled(key: string): string {
  return `local t = {}; for i, s in ipairs(ARGV) do t[${key}] = i end; local out = {#t}; for k, v in pairs(t) do out[#out + 1] = type(k) .. ':' .. tostring(k) .. '=' .. v end; return out`;
}

const words = (n: number, make: (i: number) => string): string[] => Array.from({ length: n }, (_, i) => make(i));

describe("pairs() and next() visit keys in Lua 5.1's order", () => {
  test("string keys of every length, inserted one by one", async () => {
    await sameEach([filled("s")], "a", "b", "c", "d", "e", "f");
    await sameEach([filled("s")], ...words(40, (i) => `key:${i}`));
    await sameEach([filled("s")], ...words(33, (i) => "x".repeat(i + 1)));
    await sameEach([filled("s")], ...words(20, (i) => `${"long".repeat(10 + i)}${i}`));
    await sameEach([filled("s")], ...words(300, (i) => `member-${i * 7919}`));
    await sameEach([filled("s")], "", "\0", "\0\0", "é", "\xff\xfe");
  });

  test("number keys: in and out of the array part, negative, fractional, huge", async () => {
    await sameEach([filled("tonumber(s)")], ...words(20, (i) => String(i + 1)));
    await sameEach([filled("tonumber(s)")], ...words(20, (i) => String(20 - i)));
    await sameEach([filled("tonumber(s)")], "1", "2", "4", "8", "16", "32", "64", "3");
    await sameEach([filled("tonumber(s)")], "100", "200", "1", "300", "2", "3", "400", "5");
    await sameEach([filled("tonumber(s)")], "0", "-1", "-0", "1.5", "2.25", "-7.125", "1e300", "2147483648", "1099511627776", "-2147483649");
    await sameEach([filled("tonumber(s)")], ...words(64, (i) => String((i * 37) % 101)));
    await sameEach([filled("tonumber(s) / 4")], ...words(30, (i) => String(i)));
  });

  test("booleans and mixed key types", async () => {
    await sameEach([
      traversal("{[true] = 1, [false] = 2}"),
      traversal("{[false] = 1, x = 2, [true] = 3, [1] = 4, [2.5] = 5}"),
      "local t = {} t[true] = 1 t.a = 2 t[3] = 3 t[1] = 4 t[false] = 5 t.b = 6 t[2] = 7 local o = {} for k in pairs(t) do o[#o + 1] = tostring(k) end return o",
    ]);
    await sameEach([filled("(i % 3 == 0) and s or ((i % 3 == 1) and tonumber(s) or (#s > 1))")], ...words(30, (i) => String(i * 3)));
  });

  test("table constructors presize the table as 5.1 does", async () => {
    await sameEach([
      traversal("{b = 1, a = 2, c = 3, d = 4, e = 5}"),
      traversal("{1, 2, 3, x = 1, y = 2}"),
      traversal("{[1] = 1, [2] = 2, [10] = 3, [3] = 4}"),
      traversal("{x = 1, 10, 20, y = 2, 30, [4] = 'four', [7] = 'seven'}"),
      traversal("{nil, nil, 3}"),
      traversal("{1, nil, 3, nil, 5, n = 5}"),
      traversal("{(function() return 1, 2, 3 end)()}"),
      traversal("{(function() return 1, 2, 3 end)(), k = 'v'}"),
      traversal("{unpack({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})}"),
      traversal(`{${words(60, (i) => String(i)).join(", ")}, z = 1}`),
      traversal(`{${words(20, (i) => `k${i} = ${i}`).join(", ")}}`),
      traversal(`{${words(9, (i) => `["${"s".repeat(i)}"] = ${i}`).join(", ")}}`),
    ]);
  });

  test("deletions: t[k] = nil during and after a traversal, then new keys", async () => {
    await sameEach([
      "local t = {} for i = 1, 30 do t['k' .. i] = i end for k, v in pairs(t) do if v % 2 == 0 then t[k] = nil end end local o = {} for k in pairs(t) do o[#o + 1] = k end return o",
      "local t = {} for i = 1, 30 do t['k' .. i] = i end for k in pairs(t) do t[k] = nil end for i = 31, 40 do t['k' .. i] = i end local o = {} for k in pairs(t) do o[#o + 1] = k end return o",
      "local t = {} for i = 1, 8 do t['k' .. i] = i end for i = 1, 8 do t['gone' .. i] = nil end t.new = 1 local o = {} for k in pairs(t) do o[#o + 1] = k end return o",
      "local t = {1, 2, 3, 4, 5, 6, 7, 8} t[8] = nil t[4] = nil t.x = 1 t[9] = 9 local o = {#t} for k in pairs(t) do o[#o + 1] = tostring(k) end return o",
      "local t = {a = 1, b = 2, c = 3} local k = next(t) t[k] = nil return {next(t, k)}",
      "local t = {} for i = 1, 10 do t['k' .. i] = i end for i = 1, 10 do t['k' .. i] = nil end collectgarbage() for i = 1, 10 do t['k' .. (i + 5)] = i end local o = {} for k in pairs(t) do o[#o + 1] = k end return o",
      "local t = setmetatable({}, {__newindex = function(t, k, v) rawset(t, k, v) end}) for i = 1, 10 do t['k' .. i] = i end local o = {} for k in pairs(t) do o[#o + 1] = k end return o",
    ]);
  });

  test("bad keys: nil, NaN, and a key next() does not know", async () => {
    await sameEach([
      "local t = {} t[0/0] = 1",
      "local t = {} t[nil] = 1",
      "rawset({}, nil, 1)",
      "return next({}, 'nope')",
      "local t = {a = 1} t.a = nil return next(t, 'a')",
    ]);
  });

  test("#t finds 5.1's border when the table has holes", async () => {
    await sameEach([
      "local t = {1, 2, nil, 4} return #t",
      "local t = {} t[1] = 1 t[2] = 2 t[4] = 4 return #t",
      "local t = {} t[4] = 4 t[3] = 3 t[2] = 2 t[1] = 1 t[6] = 6 return #t",
      "local t = {nil, nil, 3} return #t",
      "local t = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10} t[5] = nil return #t",
      "local t = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10} t[10] = nil t[9] = nil t[3] = nil return #t",
      "local t = {} for i = 1, 20 do t[i] = i end for i = 1, 19 do t[i] = nil end return #t",
      "local t = {} t[1] = 1 t[100] = 2 t[2] = 3 t[3] = 4 t[5] = 5 return #t",
      "local t = {n = 1} t[1] = 1 t[2] = 2 t[3] = 3 t[5] = 5 t[6] = 6 return #t",
    ]);
  });

  test("table.sort, table.insert and table.remove then a traversal", async () => {
    await sameEach([
      "local t = {} for i, s in ipairs(ARGV) do t[#t + 1] = s end table.sort(t) local o = {} for k, v in pairs(t) do o[#o + 1] = k .. '=' .. v end return o",
      "local t = {} for i, s in ipairs(ARGV) do table.insert(t, 1, s) end table.remove(t, 3) t.x = 1 local o = {} for k, v in pairs(t) do o[#o + 1] = tostring(k) .. '=' .. v end return o",
    ], "d", "b", "e", "a", "c", "f");
  });

  test("KEYS, ARGV and the tables redis.call returns", async () => {
    await oracle().same("HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5");
    await oracle().same("EVAL", "local o = {} for k, v in pairs(KEYS) do o[#o + 1] = k .. v end for k, v in pairs(ARGV) do o[#o + 1] = k .. v end return o", "3", "x", "y", "z", "p", "q");
    await oracle().same("EVAL", "local r = redis.call('HGETALL', KEYS[1]) local t = {} for i = 1, #r, 2 do t[r[i]] = r[i + 1] end local o = {} for k, v in pairs(t) do o[#o + 1] = k .. v end return o", "1", "h");
    await oracle().same("EVAL", "redis.setresp(3) local t = redis.call('HGETALL', KEYS[1]).map local o = {} for k, v in pairs(t) do o[#o + 1] = k .. v end return o", "1", "h");
  });
});

describe("encoders and map replies follow the table's order", () => {
  test("cjson.encode and cmsgpack.pack of multi-key objects", async () => {
    await sameEach([
      "return cjson.encode({b = 1, a = 2, c = 3, d = 4, e = 5})",
      "local t = {} for i, s in ipairs(ARGV) do t[s] = i end return cjson.encode(t)",
      "return cjson.encode(cjson.decode('{\"one\":1,\"two\":2,\"three\":3,\"four\":4,\"five\":5,\"six\":6}'))",
      "return cjson.encode({[1] = 'a', [2] = 'b', [5] = 'c', x = {y = 1, z = 2, w = 3}})",
      "local t = {} for i, s in ipairs(ARGV) do t[s] = i end return cmsgpack.pack(t)",
      "return cmsgpack.pack({alpha = 1, beta = {2, 3}, gamma = 'g', delta = true, [10] = 10})",
    ], ...words(25, (i) => `field${i}`));
  });

  test("{map = ...} and RESP3 map replies, in RESP2 and RESP3", async () => {
    const scripts = [
      "return {map = {x = 1, y = 2, z = 3, w = 4}}",
      "local t = {} for i, s in ipairs(ARGV) do t[s] = i end return {map = t}",
      "redis.setresp(3) return redis.call('HGETALL', KEYS[1])",
    ];
    await oracle().same("HSET", "h", ...words(12, (i) => `f${i}`).flatMap((field, i) => [field, String(i)]));
    for (const protocol of ["2", "3"]) {
      // HELLO describes each server: its reply is not compared.
      await oracle().both("HELLO", protocol);
      for (const script of scripts) await oracle().same("EVAL", script, "1", "h", ...words(15, (i) => `m${i * 3}`));
    }
    await oracle().both("HELLO", "2");
  });
});

/** One random key: a short or long string, an integer near the array part or far from it, a fraction, a boolean. */
function randomKey(r: Random): string {
  const kind = r();
  if (kind < 0.4) return `s${pick(r, ["", "k", "key:", "a-longer-key-name-", "x".repeat(40)])}${Math.floor(r() * 60)}`;
  if (kind < 0.75) return `n${Math.floor(r() * 40) - 4}`;
  if (kind < 0.85) return `n${Math.floor(r() * 1e6) * pick(r, [1, 1024, 65536])}`;
  if (kind < 0.95) return `n${(Math.floor(r() * 200) - 100) / 8}`;
  return `b${r() < 0.5 ? 1 : 0}`;
}

// ARGV holds pairs: an operation (s: set, d: delete, w: delete every other key while
// traversing) and a key whose first character tells its type.
const FUZZ_SCRIPT = `
local function key(s)
  local kind, v = string.sub(s, 1, 1), string.sub(s, 2)
  if kind == 'n' then return tonumber(v) elseif kind == 'b' then return v == '1' else return v end
end
local t = {}
for i = 1, #ARGV, 2 do
  local op, k = ARGV[i], key(ARGV[i + 1])
  if op == 's' then t[k] = i elseif op == 'd' then t[k] = nil
  else
    local n = 0
    for kk in pairs(t) do n = n + 1 if n % 2 == 0 then t[kk] = nil end end
  end
end
local out = {#t}
for k, v in pairs(t) do out[#out + 1] = type(k) .. ':' .. tostring(k) .. '=' .. v end
return out`;

test("fuzz: tables built by random inserts and deletions traverse as in Redis", async () => {
  await withSeedAsync("tables fuzz", async (r) => {
    for (let round = 0; round < 150; round++) {
      const keys = Array.from({ length: 1 + Math.floor(r() * 25) }, () => randomKey(r));
      const ops: string[] = [];
      const steps = Math.floor(r() * 120);
      for (let i = 0; i < steps; i++) {
        const x = r();
        ops.push(x < 0.7 ? "s" : x < 0.97 ? "d" : "w", pick(r, keys));
      }
      await oracle().same("EVAL", FUZZ_SCRIPT, "0", ...ops);
    }
  });
});

describe("read-only tables (Redis 7.0)", () => {
  // lua.ts marks the globals, the libraries and the string metatable read-only
  // (lua_enablereadonlytable, added by the fengari patch).
  test("assignments to globals and library fields fail", async () => {
    await sameEach([
      "x = 1",
      "unpack = 1",
      "_G.redis = 1",
      "_G._G.x = 1",
      "string.foo = 1",
      "redis.call = nil",
      "redis.x = 1",
      "cjson.x = 1",
      "cmsgpack.x = 1",
      "bit.x = 1",
      "struct.x = 1",
      "math.x = 1",
      "table.x = 1",
      "coroutine.x = 1",
      "local t = string t[1] = 1",
      "local t = getmetatable('').__index; t.x = 1",
      "getmetatable('').x = 1",
      "local mt = getmetatable(_G) mt.__index = nil",
    ]);
  });

  test("rawset, setmetatable and table functions on read-only tables fail", async () => {
    await sameEach([
      "rawset(_G, 'x', 1)",
      "rawset(string, 'x', 1)",
      "rawset(redis, 'call', 1)",
      "rawset(getmetatable(''), 'x', 1)",
      "local mt = getmetatable(_G) rawset(mt, 'x', 1)",
      "setmetatable(_G, nil)",
      "setmetatable(string, {})",
      "table.insert(_G, 1)",
      "table.insert(string, 1)",
      "return pcall(rawset, math, 'pi', 3)",
    ]);
  });

  test("KEYS, ARGV and the script's own tables stay writable", async () => {
    await oracle().same("EVAL", "KEYS[1] = 'x' return KEYS[1]", "1", "a");
    await oracle().same("EVAL", "ARGV[1] = 'x' KEYS.x = 1 return {ARGV[1], KEYS.x}", "1", "a", "b");
    await oracle().same("EVAL", "setmetatable(KEYS, {}) return 1", "0");
    await oracle().same("EVAL", "local t = {} setmetatable(t, {__index = string}) t.x = 1 return t.x", "0");
    await oracle().same("EVAL", "local t = cjson.decode('{}') t.x = 1 rawset(t, 'y', 2) return {t.x, t.y}", "0");
  });
});
