// cjson inside scripts against the real redis-server: encode and decode byte for byte
// (numbers, escapes, binary strings, sparse arrays, nesting limits), the error texts for
// bad JSON and unencodable values, the configuration functions, and a seeded round-trip
// fuzz of random values.

import { describe, test } from "bun:test";
import { scriptSuite, withSeedAsync } from "./script-suite.ts";

const { oracle, sameEach } = scriptSuite();

describe("cjson.encode", () => {
  test("scalars, arrays and one-key objects", async () => {
    await sameEach([
      "return cjson.encode({1, 2, 3})",
      "return cjson.encode({1, {2, {3, {'x'}}}, 'y', true, false})",
      "return cjson.encode({})",
      "return cjson.encode({{}, {{}}})",
      "return cjson.encode('hello')",
      "return cjson.encode(true)",
      "return cjson.encode(nil)",
      "return cjson.encode(cjson.null)",
      "return cjson.encode({cjson.null, 1, cjson.null})",
      "return cjson.encode({a = {b = {c = 'd'}}})",
      "return cjson.encode({[1.5] = 'x'})",
      "return cjson.encode({[-1] = 'x'})",
      "return cjson.encode({[0] = 'x'})",
      "return cjson.encode({['1'] = 'x'})",
    ]);
  });

  test("numbers print with %.14g", async () => {
    await sameEach([
      "return cjson.encode({0.1, -1.5, 1/3, -2/3, 1e300, -1e-300, 5e-324, 1.7976931348623157e308})",
      "return cjson.encode({2^53, 2^63, -2^63, 123456789012345678, 1e14, 1e15, 99999999999999, 999999999999999})",
      // Exact ties at the 15th digit round to even in glibc (toExponential would round up).
      "return cjson.encode({123456789012345, 100000000000005, 10000000000000.5, 0.5, 2.5, 1e-5, 1e-4, 0.0001234})",
      "return cjson.encode({0/-1, 1e21, 12345678901234567890, 3.14159265358979})",
      "return cjson.encode({[2^40] = 1})",
    ]);
  });

  test("strings: every byte, escapes, binary", async () => {
    await sameEach([
      "local s = '' for i = 0, 255 do s = s .. string.char(i) end return cjson.encode(s)",
      "return cjson.encode('a/b\\\\c\"d\\n\\r\\t\\b\\f')",
      "return cjson.encode({['k/\"'] = 'v\\0w'})",
      "return cjson.encode(ARGV[1])",
    ]);
    await sameEach(["return cjson.encode({ARGV[1], ARGV[2]})"], "\u00e9\u{1F600}", "\x00\x01\xff\xfe");
  });

  test("sparse arrays: holes up to the ratio, then an error", async () => {
    await sameEach([
      "return cjson.encode({[1] = 1, [3] = 3})",
      "return cjson.encode({[10] = 1})",
      "return cjson.encode({[11] = 1})",
      "return cjson.encode({[1] = 1, [20] = 2})",
      "local t = {} for i = 1, 20, 2 do t[i] = i end return cjson.encode(t)",
      "local t = {} for i = 1, 30, 3 do t[i] = i end return cjson.encode(t)",
      "return cjson.encode({1, 2, nil, 4})",
    ]);
  });

  test("what cannot be encoded", async () => {
    await sameEach([
      "return cjson.encode(function() end)",
      "return cjson.encode({print})",
      "return cjson.encode({[true] = 1})",
      "return cjson.encode({[{}] = 1})",
      "return cjson.encode(math.huge)",
      "return cjson.encode({-math.huge})",
      "return cjson.encode({0/0})",
      "return cjson.encode({[math.huge] = 1})",
      "return cjson.encode()",
      "return cjson.encode(1, 2)",
      "return cjson.encode(coroutine.create(print))",
      "local ok, e = pcall(cjson.encode, print) return e",
    ]);
  });

  test("nesting depth: 1000 levels by default", async () => {
    await sameEach([
      "local t = {} local c = t for i = 1, 999 do c[1] = {} c = c[1] end return #cjson.encode(t)",
      "local t = {} local c = t for i = 1, 1000 do c[1] = {} c = c[1] end return cjson.encode(t)",
      "local t = {} local c = t for i = 1, 1000 do c.a = {} c = c.a end return cjson.encode(t)",
      "local t = {} t[1] = t return cjson.encode(t)",
      // Past Lua 5.1's C stack (8000 slots) the nesting error comes earlier than the setting.
      "local j = cjson.new() j.encode_max_depth(100000) local t = {} local c = t for i = 1, 9000 do c[1] = {} c = c[1] end local ok, e = pcall(j.encode, t) return e",
      "local j = cjson.new() j.encode_max_depth(100000) local t = {} local c = t for i = 1, 9000 do c.k = {} c = c.k end local ok, e = pcall(j.encode, t) return e",
    ]);
  });
});

describe("cjson.decode", () => {
  test("values come back as Lua values", async () => {
    await sameEach([
      "return cjson.decode('[1,2,3]')",
      "return cjson.decode('  [ 1 , [ 2 , [ ] ] , \"x\" ]  ')",
      "return cjson.decode('{\"a\":[1,{\"b\":\"c\"}]}').a[2].b",
      "return cjson.decode('\"hello\"')",
      "return cjson.decode('true')",
      "return {cjson.decode('false')}",
      "return type(cjson.decode('null'))",
      "return cjson.decode('null') == cjson.null",
      "return cjson.decode('[null]')[1] == cjson.null",
      "return cjson.decode('{\"a\":1,\"a\":2}').a",
      "return cjson.encode(cjson.decode('{\"k\":[1,2.5,-3e2,\"s\",true,false,null,{}]}'))",
      "return cjson.encode(cjson.decode('[{},[],[[]],{\"x\":{}}]'))",
      "return cjson.decode('[1]\\0junk')[1]",
      "return cjson.decode(123)",
    ]);
  });

  test("string escapes: unicode and surrogate pairs as UTF-8", async () => {
    await sameEach([
      "return cjson.decode('\"\\\\u00e9\"')",
      "return cjson.decode('\"\\\\u00E9\\\\u4e2d\\\\uFFFF\"')",
      "return cjson.decode('\"\\\\ud83d\\\\ude00\"')",
      "return cjson.decode('\"\\\\u0000x\\\\u007f\"')",
      "return cjson.decode('\"\\\\/\\\\b\\\\f\\\\n\\\\r\\\\t\\\\\"\\\\\\\\\"')",
      "return cjson.decode('\"raw\\ncontrol\\1bytes\\255\"')",
      "return cjson.decode(ARGV[1])",
      "return cjson.encode(cjson.decode(ARGV[1]))",
    ], '"\u00e9 \\u00e9 \\ud83d\\ude00 \\u0041"');
  });

  test("numbers, including the ones strtod reads and JSON forbids", async () => {
    const numbers = ["0", "-0", "1.5", "-1e-3", "1E+2", "1e400", "-1e400", "1e-400", "0x10", "0X1p4", "+5", "01", "1.", "inf", "-Infinity", "NaN", "nan(123)", "9007199254740993", "0.1e1", "123456789012345678901234567890",
      "0x10p-1078", "0x1.8p1", "0x.8", "0x1p1024", "1e-320", "2.2250738585072011e-308"];
    for (const n of numbers) {
      await sameEach([
        "local v = cjson.decode(ARGV[1]) if v ~= v then return 'nan' end if v == math.huge or v == -math.huge then return {'inf', v > 0} end return {cjson.encode(v), 1/v > 0}",
      ], n);
    }
  });

  test("bad JSON: the error names what was expected, what was found, and where", async () => {
    const documents = [
      "", " ", "x", "[", "[1,", "[1 2]", "[1,]", "{", "{\"a\" 1}", "{1:2}", "{\"a\":1,}", "{\"a\":}", "tru", "nul", "fals", "\"abc",
      "\"\\x\"", "\"\\u12\"", "\"\\u12g4\"", "\"\\ud800\"", "\"\\udc00\\ud800\"", "\"\\ud800\\u0041\"", "\"\\ud800x\"", "[1]x", "[1] [2]",
      "-", "1e", "1e+", "0x", ".5", "--1", "- 1", "[-]", "{\"a\":1}}", "]", "}", ":", ",", "'a'", "\x00[1]", "a\x00", "[1]\x00",
    ];
    for (const document of documents) await sameEach(["return cjson.decode(ARGV[1])", "local ok, e = pcall(cjson.decode, ARGV[1]) return {tostring(ok), e}"], document);
    await sameEach(["return cjson.decode()", "return cjson.decode('1', '2')", "return cjson.decode({})", "return cjson.decode(nil)"]);
  });

  test("nesting depth: 1000 levels by default, then Lua 5.1's stack", async () => {
    await sameEach([
      "return #cjson.encode(cjson.decode(string.rep('[', 1000) .. string.rep(']', 1000)))",
      "return cjson.decode(string.rep('[', 1001) .. string.rep(']', 1001))",
      "return cjson.decode(string.rep('{\"a\":', 1001) .. '1' .. string.rep('}', 1001))",
      "local j = cjson.new() j.decode_max_depth(100000) local ok, e = pcall(j.decode, string.rep('[', 9000) .. string.rep(']', 9000)) return e",
      "local j = cjson.new() j.decode_max_depth(100000) local ok, e = pcall(j.decode, string.rep('{\"a\":', 9000) .. '1' .. string.rep('}', 9000)) return e",
    ]);
  });
});

describe("configuration", () => {
  test("the module's fields", async () => {
    await sameEach([
      "return {cjson._NAME, cjson._VERSION, type(cjson.null), type(cjson.new), type(cjson.new().encode)}",
      "local t = {} for k, v in pairs(cjson) do t[#t + 1] = k .. '=' .. type(v) end table.sort(t) return t",
      "return cjson.new().null == cjson.null",
    ]);
  });

  test("getters and setters return the settings", async () => {
    await sameEach([
      "local j = cjson.new() return {j.encode_max_depth(), j.decode_max_depth(), j.encode_number_precision(), tostring(j.encode_keep_buffer()), tostring(j.encode_invalid_numbers()), tostring(j.decode_invalid_numbers())}",
      "local j = cjson.new() local a, b, c = j.encode_sparse_array() return {tostring(a), b, c}",
      "local j = cjson.new() local a, b, c = j.encode_sparse_array(true, 3, 5) return {tostring(a), b, c}",
      "local j = cjson.new() local a, b, c = j.encode_sparse_array('on') return {tostring(a), b, c}",
      "local j = cjson.new() return {j.encode_max_depth(5), j.encode_max_depth(), j.decode_max_depth('7'), j.encode_number_precision(3.9)}",
      "local j = cjson.new() return {tostring(j.encode_keep_buffer(false)), tostring(j.encode_keep_buffer('on')), tostring(j.encode_keep_buffer())}",
      "local j = cjson.new() return {tostring(j.encode_invalid_numbers('null')), tostring(j.encode_invalid_numbers(true)), tostring(j.encode_invalid_numbers('off'))}",
      "local j = cjson.new() return {tostring(j.decode_invalid_numbers('off')), tostring(j.decode_invalid_numbers(true))}",
      "local j = cjson.new() j.encode_max_depth(2^32 + 3) return j.encode_max_depth()",
    ]);
  });

  test("bad settings", async () => {
    await sameEach([
      "return cjson.new().encode_max_depth(0)",
      "return cjson.new().decode_max_depth(-1)",
      "return cjson.new().encode_number_precision(15)",
      "return cjson.new().encode_number_precision(0)",
      "return cjson.new().encode_max_depth('x')",
      "return cjson.new().encode_max_depth({})",
      "return cjson.new().encode_max_depth(1, 2)",
      "return cjson.new().encode_sparse_array(true, -1)",
      "return cjson.new().encode_sparse_array(true, 1, -1)",
      "return cjson.new().encode_sparse_array(true, 1, 1, 1)",
      "return cjson.new().encode_sparse_array(1)",
      "return cjson.new().encode_keep_buffer('maybe')",
      "return cjson.new().encode_keep_buffer({})",
      "return cjson.new().encode_invalid_numbers('nil')",
      "return cjson.new().decode_invalid_numbers('null')",
    ]);
  });

  test("settings change what encode and decode do", async () => {
    await sameEach([
      "local j = cjson.new() j.encode_sparse_array(true) return j.encode({[1] = 1, [20] = 2})",
      "local j = cjson.new() j.encode_sparse_array(false, 0) return j.encode({[1] = 1, [20] = 2})",
      "local j = cjson.new() j.encode_sparse_array(false, 1, 0) return j.encode({[1] = 1, [3] = 2})",
      "local j = cjson.new() j.encode_sparse_array(false, 3, 1) return j.encode({[1] = 1, [3] = 2})",
      "local j = cjson.new() j.encode_number_precision(3) return j.encode({1/3, 12345, 0.0001234})",
      "local j = cjson.new() j.encode_number_precision(1) return j.encode({0.25, 0.35, 95, 150})",
      "local j = cjson.new() j.encode_invalid_numbers(true) return j.encode({math.huge, -math.huge, 0/0})",
      "local j = cjson.new() j.encode_invalid_numbers('null') return j.encode({math.huge, -math.huge, 0/0, 1})",
      "local j = cjson.new() j.encode_max_depth(2) return j.encode({{1}})",
      "local j = cjson.new() j.encode_max_depth(2) return j.encode({{{1}}})",
      "local j = cjson.new() j.decode_max_depth(2) return j.decode('[[1]]')",
      "local j = cjson.new() j.decode_max_depth(2) return j.decode('[[[1]]]')",
      "local j = cjson.new() j.decode_max_depth(2) return j.decode('{\"a\":{\"b\":{}}}')",
      "local j = cjson.new() j.decode_invalid_numbers(false) return j.decode('0x10')",
      "local j = cjson.new() j.decode_invalid_numbers(false) return j.decode('[1, +1]')",
      "local j = cjson.new() j.decode_invalid_numbers(false) return j.decode('inf')",
      "local j = cjson.new() j.decode_invalid_numbers(false) return j.decode('-inf')",
      "local j = cjson.new() j.decode_invalid_numbers(false) return j.decode('01')",
      "local j = cjson.new() j.decode_invalid_numbers(false) return j.decode('-1.5e3')",
      // A copy's settings are its own.
      "local j = cjson.new() j.encode_max_depth(1) return cjson.encode({{1}})",
    ]);
  });
});

/**
 * Lua 5.1 walks a table's array part (1..n) and then its hash nodes in slot order; fengari
 * walks keys in insertion order. cjson.encode writes keys as lua_next gives them, so these
 * differ until the engine's next() follows Lua 5.1's order: `bun test --todo` runs them.
 */
/**
 * What the engine owns and does not do like Redis yet; `bun test --todo` runs these.
 * SCRIPT FLUSH makes Redis a new Lua state, so the settings go back to their defaults;
 * Redis prints cjson.null, a NULL light userdata, as "userdata: (nil)"; and it makes the
 * library tables read-only like the globals.
 */
describe("the Lua state around cjson", () => {
  test("SCRIPT FLUSH resets the settings", async () => {
    await sameEach(["return cjson.encode_max_depth(5)"]);
    await oracle().same("SCRIPT", "FLUSH");
    await sameEach(["return cjson.encode_max_depth()"]);
  });

  test("cjson.null prints as a NULL pointer; the table is read-only", async () => {
    await sameEach(["return tostring(cjson.null)", "cjson.extra = 1 return 1"]);
  });
});

describe("key order of Lua 5.1 tables", () => {
  test("mixed and several-key tables", async () => {
    await sameEach([
      "return cjson.encode({1, 2, x = 3})",
      "return cjson.encode({b = 1, a = 2, c = 3, d = 4, e = 5})",
      "local t = {} t.first = 1 t.second = 2 t.third = 3 return cjson.encode(t)",
      "return cjson.encode(cjson.decode('{\"x\":1,\"y\":2,\"z\":3,\"w\":4}'))",
    ]);
  });
});

// ---------------------------------------------------------------------------------------
// Seeded round trips
// ---------------------------------------------------------------------------------------

/** A random Lua string literal: printable text, escapes, or any bytes. */
function randomString(random: () => number): string {
  const length = Math.floor(random() * random() * 40);
  let s = "";
  for (let i = 0; i < length; i++) {
    const kind = random();
    const byte = kind < 0.6 ? 32 + Math.floor(random() * 95) : kind < 0.8 ? Math.floor(random() * 32) : Math.floor(random() * 256);
    s += `\\${byte}`;
  }
  return `"${s}"`;
}

function randomNumber(random: () => number): string {
  const kind = Math.floor(random() * 6);
  if (kind === 0) return String(Math.floor(random() * 200) - 100);
  if (kind === 1) return String(Math.floor((random() - 0.5) * 2 ** 40));
  if (kind === 2) return (random() * 1000 - 500).toPrecision(1 + Math.floor(random() * 17));
  if (kind === 3) return `${(random() * 10).toFixed(3)}e${Math.floor(random() * 600) - 300}`;
  if (kind === 4) return `${Math.floor(random() * 100)}/${1 + Math.floor(random() * 20)}`;
  return String(2 ** Math.floor(random() * 64) * (random() < 0.5 ? -1 : 1));
}

/**
 * A random Lua expression of JSON-able values. Objects hold one key: the order Lua 5.1
 * walks a table's hash part in is not fengari's, so several keys would come out in
 * another order (see the test of several keys below).
 */
function randomValue(random: () => number, depth: number): string {
  const kind = Math.floor(random() * (depth > 4 ? 4 : 7));
  if (kind === 0) return randomNumber(random);
  if (kind === 1) return randomString(random);
  if (kind === 2) return random() < 0.5 ? "true" : "false";
  if (kind === 3) return "cjson.null";
  if (kind === 4 || kind === 5) {
    const items = Array.from({ length: Math.floor(random() * 6) }, () => randomValue(random, depth + 1));
    return `{${items.join(", ")}}`;
  }
  return `{[${randomString(random)}] = ${randomValue(random, depth + 1)}}`;
}

describe("seeded round trips", () => {
  test("encode, then decode and encode again, byte for byte", async () => {
    await withSeedAsync("cjson round trip", async (random) => {
      for (let i = 0; i < 150; i++) {
        const value = randomValue(random, 0);
        await sameEach([`local v = ${value} local s = cjson.encode(v) return {s, cjson.encode(cjson.decode(s))}`]);
      }
    });
  });

  test("objects with several keys decode to the same table (key order aside)", async () => {
    // Keys and values sorted in Lua, so the reply does not depend on the walk order.
    const sorted = "local t = cjson.decode(cjson.encode(v)) local keys = {} for k in pairs(t) do keys[#keys + 1] = k end table.sort(keys) local out = {} for _, k in ipairs(keys) do out[#out + 1] = k out[#out + 1] = cjson.encode(t[k]) end return out";
    await withSeedAsync("cjson several-key round trip", async (random) => {
      for (let i = 0; i < 40; i++) {
        const fields = Array.from({ length: 2 + Math.floor(random() * 8) }, (_, n) => `k${n}${Math.floor(random() * 100)} = ${randomValue(random, 3)}`);
        await sameEach([`local v = {${fields.join(", ")}} ${sorted}`]);
      }
    });
  });
});
