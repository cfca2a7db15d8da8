// Lua 5.1's numbers and globals inside scripts against the real redis-server: every number a
// double (no 32-bit integer wrap-around, numbers printed with "%.14g"), string <-> number
// coercions as C's strtod and strtoul read them, integer replies truncated from doubles,
// string.format with C's printf conversions, the 5.1 functions 5.3 dropped, and the 5.3
// globals Redis does not have. Seeded fuzzes print random doubles (from random bytes) and
// format random values with random specs, compared byte for byte.

import { beforeEach, describe, test } from "bun:test";
import { scriptSuite, withSeedAsync } from "./script-suite.ts";

const { oracle, sameEach } = scriptSuite();

beforeEach(async () => {
  await oracle().same("FLUSHALL");
});

/** One script replying tostring of each expression. */
function printed(expressions: string[]): string {
  return `return {${expressions.map((e) => `tostring(${e})`).join(", ")}}`;
}

describe("numbers print as 5.1's \"%.14g\"", () => {
  test("integral, fractional, huge, tiny and negative zero", async () => {
    await sameEach([
      printed(["10/2", "0", "-0", "0*-1", "1", "-1", "100", "7/2", "-7/2", "1/3", "22/7", "0.1", "0.1 + 0.2", "100 * 1.1"]),
      printed(["2^31", "2^32", "2^53", "2^53 + 1", "2^63", "2^64", "-2^53 - 1", "1e14", "1e15", "1e21", "1e100", "1e308 * 10"]),
      printed(["123456789012", "12345678901234", "99999999999999", "99999999999999.5", "123456789012345", "999999999999995", "1234567890123456789"]),
      printed(["1e-4", "1e-5", "0.000012345678901234567", "-1.5e-7", "-123.456e-300", "5e-324", "1e-310", "1.7976931348623157e308"]),
      printed(["1/0", "-1/0", "0/0", "math.huge", "-math.huge", "math.sqrt(-1)", "math.huge - math.huge"]),
      printed(["math.pi", "math.sqrt(2)", "math.exp(1)", "-math.pi * 1e10", "2^0.5"]),
    ]);
  });

  test("concatenation and string.format('%s') print numbers the same way", async () => {
    await sameEach([
      "return 1 .. 2",
      "return 1.5 .. ''",
      "return 2^63 .. ' ' .. -0 .. ' ' .. 1/3",
      "return string.format('%s %s %s', 1, 2^63, 0.1)",
      "return table.concat({1, 2.5, 2^53, -0}, ',')",
    ]);
  });

  test("random doubles (from random bytes), printed with tostring and %.17g", async () => {
    const script = `local out = {}
for i = 1, #ARGV[1] / 8 do
  local x = struct.unpack('<d', ARGV[1], i * 8 - 7)
  out[#out + 1] = tostring(x) .. ' ' .. string.format('%.17g', x)
end
return out`;
    await withSeedAsync("double printing fuzz", async (random) => {
      for (let round = 0; round < 40; round++) {
        const bytes = new Uint8Array(8 * 200);
        const view = new DataView(bytes.buffer);
        for (let i = 0; i < 200; i++) {
          const r = random();
          let x: number;
          if (r < 0.4) {
            // Any bit pattern, NaNs of both signs included.
            view.setUint32(i * 8, Math.floor(random() * 2 ** 32), true);
            view.setUint32(i * 8 + 4, r < 0.05 ? 0x7ff00000 | Math.floor(random() * 2 ** 32) : Math.floor(random() * 2 ** 32), true);
            continue;
          } else if (r < 0.7) x = Math.round((random() - 0.5) * 10 ** Math.floor(random() * 20)) / 10 ** Math.floor(random() * 6);
          else if (r < 0.85) x = Math.floor(random() * 10 ** 15) * 10 + 5; // ties at the 15th digit
          else x = (random() - 0.5) * 2 ** Math.floor(random() * 140 - 70);
          view.setFloat64(i * 8, x, true);
        }
        await oracle().same("EVAL", script, "0", bytes);
      }
    });
  });
});

describe("numbers are doubles", () => {
  test("no 32-bit wrap-around: literals, lengths, loops, library results", async () => {
    await sameEach([
      printed(["2147483647 + 1", "-2147483648 - 1", "2^31 * 2^31", "4294967295 * 4294967295", "0xffffffff", "0x7fffffff + 1", "0xffffffffff"]),
      printed(["#'abc' * 1000000000", "math.floor(2^31 - 1) + 1", "string.len('ab') * 2^40", "select('#', 1, 2) * 3e9", "math.max(2^40, 3)"]),
      "local s = 0 for i = 1, 10, 0.5 do s = s + i end return tostring(s)",
      "local s = 0 for i = 2^31 - 2, 2^31 + 2 do s = s + i end return tostring(s)",
      "local n = 0 for i = 10, 1, -3 do n = n + i end return n",
      "local t = {} for i = 1, 3 do t[i] = i end local s = 0 for k, v in pairs(t) do s = s + k * 1e9 end return tostring(s)",
      "local t = {} t[1.0] = 'a' t[2^53] = 'b' t[-0] = 'z' return {t[1], t[2^53], t[0]}",
      "return {({10, 20, 30})[1.0], ({10, 20, 30})[2.5]}",
    ]);
  });

  test("every byte string is its own table key", async () => {
    // fengari keyed strings by their bytes in unpadded hex: "s" (73) and "\7\3" (7, 3) were one key.
    await sameEach([
      "local t = {} t['s'] = 1 return {tostring(t['\\7\\3']), t['s']}",
      "local a = 's' return {string.byte('\\7\\3', 1, -1)}",
      "local t = {} for i = 0, 255 do t[string.char(i)] = i end for i = 0, 255 do for j = 0, 255, 17 do t[string.char(i, j)] = i * 256 + j end end local n = 0 for k in pairs(t) do n = n + 1 end return n",
      "local t = {} for i = 0, 255 do t[string.char(i, 0)] = i t[string.char(0, i)] = -i end return {t['\\0\\0'], t['\\1\\0'], t['\\0\\1'], t['\\255\\0']}",
    ]);
  });

  test("arithmetic: modulo as 5.1 computes it, division, powers", async () => {
    await sameEach([
      printed(["5.5 % -2", "-5.5 % 2", "7 % 3", "-7 % 3", "0.3 % 0.1", "1e308 % 3", "-2^60 % 7", "2^53 % 3", "5 % math.huge", "-5 % math.huge", "-7 % 0", "7 % -0"]),
      printed(["7 / 2", "1 / 0", "-1 / 0", "0 / 0", "2^10", "2^-1", "(-8)^(1/3)", "2^1024", "-2^1024"]),
      printed(["math.floor(-3.5)", "math.ceil(-0.5)", "math.floor(-0)", "math.floor(2^40 + 0.5)", "math.abs(-0)", "math.abs(-2^40)", "math.fmod(-7, 2)", "math.fmod(5.5, 2)", "math.modf(3.7)", "select(2, math.modf(-3.7))"]),
    ]);
  });

  test("integer replies truncate the double", async () => {
    await sameEach([
      "return 3.99",
      "return -3.99",
      "return 0.5",
      "return -0",
      "return 2^53",
      "return 2^62",
      "return -2^62",
      "return -2^63",
      "return {1.5, 2^40, -2^40 - 0.5, 1e15 + 0.3}",
      "return #'hello' / 2",
    ]);
  });

  test("redis.call gets numbers as \"%.17g\" and replies them back as numbers", async () => {
    await sameEach([
      "redis.call('SET', 'k', 0) return redis.call('INCRBY', 'k', 2^40)",
      "redis.call('SET', 'k', 2^31 * 3) return redis.call('GET', 'k')",
      "redis.call('SET', 'k', 0.1) return redis.call('GET', 'k')",
      "redis.call('SET', 'k', 1/3) return redis.call('GET', 'k')",
      "redis.call('SET', 'k', -0) return redis.call('GET', 'k')",
      "redis.call('SET', 'k', 1e300) return redis.call('GET', 'k')",
      "redis.call('SET', 'k', 1e17) return redis.call('GET', 'k')",
      "redis.call('SET', 'k', 2^62) return redis.call('GET', 'k')",
      "redis.call('SET', 'k', 123456789012345678) return redis.call('GET', 'k')",
      "return redis.call('SET', 'k', 0) and redis.call('GET', 'k')",
      "redis.call('SET', 'k', '9007199254740993') return tostring(redis.call('INCRBY', 'k', 0))",
      "redis.call('SET', 'k', 2^31) local n = redis.call('INCR', 'k') return {n, tostring(n), tostring(n * 2)}",
      "return tostring(redis.call('INCRBY', 'k2', 2^40) * 1024)",
    ]);
  });
});

describe("string <-> number coercions", () => {
  test("arithmetic on strings reads them as strtod does", async () => {
    await sameEach([
      printed(["'10' + 1", "'0x10' + 0", "' 5 ' * 2", "'1e2' + 0", "'inf' + 0", "'-Infinity' + 0", "'0x1p4' + 0", "'1e500' + 0", "'.5' + 0", "'5.' + 0"]),
      "return 'abc' + 1",
      "return {} + 1",
      "return 1 < '2'",
      "return '10' < 9",
    ]);
  });

  test("tonumber, with and without a base", async () => {
    await sameEach([
      printed(["tonumber('0x')", "tonumber('')", "tonumber(' ')", "tonumber('1e')", "tonumber('1 2')", "tonumber(' +5')", "tonumber('5.')", "tonumber('.5')", "tonumber('0x1p4')", "tonumber('0x1.8p1')"]),
      printed(["tonumber('inf')", "tonumber('-inf')", "tonumber('infinity')", "tonumber('INF')", "tonumber('1e500')", "tonumber('  0x10  ')", "tonumber('0xffffffffff')", "tonumber('1' .. string.rep('0', 30))"]),
      printed(["tonumber('z', 36)", "tonumber('ZZ', 36)", "tonumber('8', 8)", "tonumber('777', 8)", "tonumber('-10', 2)", "tonumber('0x10', 16)", "tonumber('ff', 16)", "tonumber('-ff', 16)", "tonumber('1e1', 16)", "tonumber('1g', 16)", "tonumber(10, 16)", "tonumber('ffffffffffffffffffff', 16)"]),
      "return tonumber('10', 1)",
      "return tonumber('10', 37)",
      "return tonumber()",
    ]);
  });

  test("library arguments truncate numbers as 5.1's casts do", async () => {
    await sameEach([
      "return string.sub('hello', 2.7, 4.2)",
      "return string.sub('hello', 2^40)",
      "return string.sub('hello', -2^40, 2)",
      "return string.rep('ab', 2.9)",
      "return string.rep('x', -1)",
      "return string.byte('abc', 1.9)",
      "return string.char(65.7, 66.2)",
      "return string.char(256)",
      "return string.char(-1)",
      "return select(1.5, 'a', 'b')",
      "return select(-1, 'a', 'b')",
      "return {unpack({1, 2, 3}, 2, 3.9)}",
      // 5.1 reads most integer arguments as C ints (the low 32 bits) ...
      "return string.rep('x', 2^32 + 2)",
      "return string.rep('ab', 0/0)",
      "return select(2^32 + 1, 'a', 'b')",
      "return {unpack({1, 2, 3}, 1, 2^32 + 2)}",
      "return string.char(2^32 + 65)",
      "return string.gsub('aaa', 'a', 'b', 2^32 + 1)",
      "return table.concat({1, 2, 3}, ',', 2^32 + 1)",
      // ... and string positions as 64-bit integers.
      "return string.sub('hello', 2, 2^40)",
      "return string.sub('hello', -2^40, 2^40)",
      "return string.sub('hello', 2^31, 2^31 + 1)",
      "return string.sub('hello', -2^31 - 1)",
      "return string.sub('hello', 0/0)",
      "return {string.sub('hello', -3), string.sub('hello', 2, -2), string.sub('hello', 0), string.sub('hello', 4, 2), ('hello'):sub(2, 3)}",
      "return {string.byte('abc', 2^32 + 1)}",
      "return {string.byte('abc'), string.byte('abc', -1), string.byte('abc', 0, 10), string.byte('')}",
      "return {string.byte('abc', 2, 1)}",
      "return #{string.byte(string.rep('a', 7990), 1, -1)}",
      "return #{string.byte(string.rep('a', 8000), 1, -1)}",
      "return string.sub()",
      "return string.sub('x')",
      "return string.byte({})",
      "return ('x'):sub({})",
    ]);
  });
});

describe("the 5.1 language", () => {
  test("5.3's operators, goto and labels are not Lua 5.1", async () => {
    await sameEach([
      "return 7 // 2",
      "return 3 & 1",
      "return 3 | 1",
      "return 1 ~ 2",
      "return ~1",
      "return 1 << 2",
      "return 1 >> 2",
      "goto x",
      "::lbl::",
      "return a::b",
      "local goto = 5 return goto",
    ]);
  });

  test("string escapes and numerals as 5.1 reads them", async () => {
    await sameEach([
      "return '\\x41\\z  b\\u{48}'",
      "return '\\65\\066\\0677'",
      "return '\\q\\?\\''",
      "return '\\256'",
      "return '\\2555'",
      "return {1e+5, 1E-2, 0x1P4, 0x10, 0xA}",
      "return 3e",
      "return 12abc",
      "return 0x",
      "return 1_000",
      "return 0x1p4z",
      "return 0x1p-4",
      "return 3..4",
    ]);
  });

  test("break: last in its block, inside a loop", async () => {
    await sameEach([
      "for i = 1, 2 do break end return 1",
      "for i = 1, 2 do break; end return 2",
      "for i = 1, 2 do break x = 1 end",
      "while true do if true then break end end return 3",
      "do break end",
      "break",
      "local function f() break end",
    ]);
  });

  test("runtime errors name the variable before the type, as 5.1 words them", async () => {
    await sameEach([
      "local t = nil return t.x",
      "return KEYS.x.y",
      "local s = 'a' return s + 1",
      "local t = {} t.f()",
      "local x = nil; x()",
      "return ('x'):bad()",
      "local u = nil local function f() return u.x end return f()",
      "return 'abc' + 1",
      "local t = {} return t .. 'x'",
      "local n return #n",
      "local t = {} return -t",
      "for i = 1, 'x' do end",
      "local a = {} a[nil] = 1",
      "local a = {} a[0/0] = 1",
      "return {pcall(function() local t = nil return t.x end)}",
    ]);
  });

  test("compile errors quote the token as 5.1 does", async () => {
    await sameEach([
      "return x(",
      "return 1 +",
      "if x then",
      "x = = 1",
      "return 'abc",
      "return [[abc",
      "--[[ unfinished comment",
      "local t = {1, 2",
      "return f(1 2)",
      "return @",
      "return #",
      "while true do",
      "function f() end end",
      "return (1",
      "return {1 = 2}",
      "local 1 = 2",
      "x.y:z = 1",
      "return '\\1\\n\\2\\3\\4\\5\\6\\7",
      "return 1 \\1",
    ]);
  });
});

describe("string.format", () => {
  test("integer conversions cast the double to long", async () => {
    await sameEach([
      "return string.format('%d %d %d %d', 3, 3.5, -3.7, 2^40)",
      "return string.format('%d %d %d', 2^63, -2^63, 0/0)",
      "return string.format('%x %X %o %u', -1, 255, 8, -1)",
      "return string.format('%x %o %x %x', 2^63, 2^64, 0/0, 1/0)",
      "return string.format('%#x %#X %#o %#o %+d % d %05d %.3d %5.2d|%-5.0d|%.0d', 255, 255, 8, 0, 5, 5, -5, 7, 3, 0, 0)",
      "return string.format('%i|%u|%c%c|%5c|%-5c|', -3.7, 3.7, 65.9, 322, 66, 67)",
      "return string.format('[%c|%5c|%-5c|%c]', 0, 256, 2^53, 1/0)",
      "return string.format('%d', '12')",
      "return string.format('%d', 'x')",
    ]);
  });

  test("float conversions round as glibc does (ties to even)", async () => {
    await sameEach([
      "return string.format('%.0f %.0f %.0f %.0f %.1f %.2f %.1f', 0.5, 1.5, 2.5, -0.5, 0.05, 0.125, 0.25)",
      "return string.format('%e %.3e %E %.0e %.0e %.0e %#.0e', 0, 1e300, 12345.678, 5, 15, 25, 3)",
      "return string.format('%g %g %g %g %g %g %#g %G %.20g', 1e-4, 1e-5, 123456, 1234567, 0.1, 100000, 1, 1e-20, 0.1)",
      "return string.format('%.3g|%.10g|%.1g|%.0g|%#.3g', 2.0, 1/3, 0.95, 0.5, 1)",
      "return string.format('%10.3f|%-10.2e|%+g|%010.4f|% f|%+.0f', 3.14159, 1234.5, 2, -math.pi, 1, -0.4)",
      "return string.format('%5.0f|%5.0f|%.0f|%.0f|%f', 0.5, -0.5, 1e21, 2^70, 1e300)",
      "return string.format('%e|%g|%.99f|%99.99f', 2^-1074, 2^-1074, 1/3, 1)",
      "return string.format('%f %f %e %E %g %5.1f|%-6f|%06f', 1/0, -1/0, 0/0, 1/0, -1/0, 1/0, -1/0, 1/0)",
    ]);
  });

  test("strings, %q and the format's own errors", async () => {
    await sameEach([
      "return string.format('%5s|%-5s|%.2s|%5.1s|%s', 'ab', 'cd', 'xyz', 'abc', 12.5)",
      "return string.format('%q', 'a\\0b\\r\\n\"\\\\\\1\\255')",
      "return string.format('%q', 1/3)",
      "return string.format('%s|%.3s|%5s', string.rep('a', 120) .. '\\0' .. 'b', 'a\\0bc', 'a\\0bc')",
      "return string.format('%%|%5%|abc')",
      "return string.format('%s', nil)",
      "return string.format('%s %s', 1.5, {})",
      "return string.format('%y', 1)",
      "return string.format('%d')",
      "return string.format('%123d', 1)",
      "return string.format('%1.123f', 1)",
      "return string.format('%-+ #0-d', 1)",
      "return string.format('%-+ #0d', 1)",
      "return string.format('%', 1)",
      "return string.format('%.5', 1)",
      "return string.format('abc%')",
      "return string.format()",
      "return string.format({})",
      "return string.format(12, 1)",
      "return ('%d|%s'):format(3, 'x')",
    ]);
  });

  test("random specs over random values", async () => {
    const conversions = "dioxXuceEfgGs";
    const values = ["0", "-0", "1", "-1", "0.5", "2.5", "-2.5", "1/3", "-1/3", "123456.789", "1e15", "1e-7", "2^53", "2^63", "-2^63", "1e300", "1/0", "-1/0", "0/0", "65", "0.05", "9.995", "99.5", "2^-1074"];
    await withSeedAsync("string.format fuzz", async (random) => {
      for (let round = 0; round < 100; round++) {
        const items: string[] = [];
        for (let i = 0; i < 40; i++) {
          let spec = "%";
          for (const flag of "-+ #0") if (random() < 0.2) spec += flag;
          if (random() < 0.5) spec += String(Math.floor(random() * 30));
          if (random() < 0.6) spec += `.${Math.floor(random() * 25)}`;
          const conversion = conversions[Math.floor(random() * conversions.length)]!;
          spec += conversion;
          const value = conversion === "s" ? `'${"abcdefgh".slice(0, Math.floor(random() * 9))}'` : values[Math.floor(random() * values.length)]!;
          items.push(`string.format('[${spec}]', ${value})`);
        }
        await oracle().same("EVAL", `return {${items.join(", ")}}`, "0");
      }
    });
  });
});

describe("the globals of Redis 7.0's Lua 5.1", () => {
  const NAMES = [
    "unpack", "loadstring", "load", "gcinfo", "select", "collectgarbage", "coroutine", "xpcall", "pcall", "rawequal", "rawget", "rawset", "_VERSION",
    "table.getn", "table.setn", "table.maxn", "table.foreach", "table.foreachi", "table.insert", "table.remove", "table.concat", "table.sort",
    "table.unpack", "table.pack", "table.move",
    "math.pow", "math.mod", "math.fmod", "math.ldexp", "math.frexp", "math.log10", "math.cosh", "math.sinh", "math.tanh", "math.atan2", "math.huge", "math.pi",
    "math.type", "math.tointeger", "math.ult", "math.maxinteger", "math.mininteger",
    "string.gfind", "string.gmatch", "string.pack", "string.unpack", "string.packsize", "string.dump", "string.rep",
    "coroutine.isyieldable", "coroutine.running", "coroutine.wrap",
  ];

  test("present and absent, by type", async () => {
    await sameEach([`return {${NAMES.map((n) => `type(${n})`).join(", ")}}`]);
  });

  test("globals 5.3 has and Redis does not are missing", async () => {
    await sameEach(["debug", "print", "rawlen", "fengari", "utf8", "bit32", "getfenv", "module", "require", "newproxy"].map((n) => `return type(${n})`));
  });

  test("every global and library field, listed", async () => {
    // redis.* is the engine's own table; everything else is Lua's and its libraries'.
    await sameEach([
      `local out = {}
for k, v in pairs(_G) do
  if type(v) == 'table' and k ~= '_G' and k ~= 'KEYS' and k ~= 'ARGV' and k ~= 'redis' then
    for k2, v2 in pairs(v) do out[#out + 1] = k .. '.' .. k2 .. ':' .. type(v2) end
  elseif k ~= '__redis__err__handler' and k ~= 'redis' then
    out[#out + 1] = k .. ':' .. type(v)
  end
end
table.sort(out)
return out`,
    ]);
  });

  test("5.1 table functions", async () => {
    await sameEach([
      "return {table.getn({1, 2, 3}), table.getn({}), table.maxn({1, 2, [10] = 3, [2.5] = 1}), tostring(table.maxn({[-1] = 1})), tostring(table.maxn({[1e300] = 1, [-5] = 2}))}",
      "return table.foreach({10, 20}, function(k, v) if v == 20 then return k * 100 end end)",
      "return {table.foreachi({1, 2, 3}, function(i, v) if v == 2 then return i, v end end)}",
      "return {table.foreach({a = 1}, function(k, v) return k, v end)}",
      "return table.foreachi({10, 20}, function(i, v) return nil end)",
      "return table.foreach({1}, function(k, v) error('boom') end)",
      "return table.setn({}, 1)",
      "return table.getn('x')",
      "return table.foreach({}, 1)",
      "return table.foreachi(nil, print)",
      "return {unpack({1, 2, 3})}",
      "return {select('#'), select('#', nil, nil), select(2, 'a', 'b', 'c')}",
    ]);
  });

  test("5.1 math functions", async () => {
    await sameEach([
      printed(["math.pow(2, 10)", "math.pow(2, 0.5)", "math.mod(7, 3)", "math.mod(-7, 3)", "math.mod(-7.5, 2)", "math.ldexp(0.75, 4)", "math.ldexp(1, 1024)", "math.ldexp(1, -1074)", "math.ldexp(3, -1080)", "math.ldexp(0.5, 2.9)"]),
      printed(["math.log10(1000)", "math.log10(2)", "math.cosh(1)", "math.sinh(1)", "math.tanh(1)", "math.atan2(1, -1)", "math.log(8, 2)", "math.log(100, 10)"]),
      "local out = {} for _, x in ipairs({48, -0.1, 2^-1074, 1/0, -1/0, 0, -0, 1, 0.5, 2^1023}) do local m, e = math.frexp(x) out[#out + 1] = tostring(m) .. ' ' .. tostring(e) end return out",
      "return {math.floor('3.7'), math.min(4, -1, 2), math.max(1, 2, 3.5) .. ''}",
      "return math.min()",
      "return math.max(1, 'x')",
      "return math.random(0)",
      "return math.random(3, 1)",
      "return {math.random(1, 1), type(math.random()), math.random(5) <= 5}",
    ]);
  });

  test("math.random draws from Redis's drand48, shared by all scripts, reseeded only by math.randomseed", async () => {
    // Both servers run the same scripts in the same order, so their generators stay in step.
    const draws = "local out = {} for i = 1, 50 do out[i] = tostring(math.random()) end for i = 51, 100 do out[i] = math.random(i) end for i = 101, 150 do out[i] = math.random(-i, i * 3) end return out";
    await sameEach([
      draws,
      draws,
      `math.randomseed(5) ${draws}`,
      "math.randomseed(-7.9) return {tostring(math.random()), math.random(2^30)}",
      "math.randomseed(2^40 + 3) return tostring(math.random())",
      "return math.random(2^31)",
      "return math.random(1, 2, 3)",
      "return math.random('x')",
      "return math.randomseed()",
      draws,
    ]);
  });

  test("load takes functions, loadstring strings", async () => {
    await sameEach([
      "return type(load('return 1'))",
      "return load(function() return nil end) ~= nil",
      "return {load(42)}",
      "local parts = {'return ', '4', '2'} local i = 0 return load(function() i = i + 1 return parts[i] end)()",
      "return loadstring('return 1 + 1')()",
      "return loadstring('return ...')(1, 2)",
      "return {loadstring('x x')}",
      "return {loadstring('syntax error here')}",
      "return {loadstring('return 1', 'chunk') ~= nil}",
      "return {loadstring('x = ', '=mine')}",
      "return loadstring()",
    ]);
  });

  test("unpack's 8000-value limit and the 16384-call depth limit", async () => {
    const recurse = "local function f(n) if n == 0 then return 0 end return 1 + f(n - 1) end return f(tonumber(ARGV[1]))";
    await sameEach([
      "return #{unpack({}, 1, 7990)}",
      "return #{unpack({}, 1, 8000)}",
      "return {unpack({1, 2, 3}, -1, 1)}",
      "return unpack({1, 2}, 2^31 - 1, 2^31 + 1)",
      "return {unpack({1, 2, 3}, nil, 2)}",
      "return unpack()",
      "return unpack({}, 'x')",
      "local function f() return 1 + f() end return f()",
    ]);
    for (const depth of ["100", "10000", "100000"]) await sameEach([recurse], depth);
  });

  test("coroutine.running: nil in the script's own code, the coroutine inside one", async () => {
    await sameEach([
      "return coroutine.running() == nil",
      "local co = coroutine.create(function() return type(coroutine.running()) end) return {coroutine.resume(co)}",
      "return coroutine.wrap(function() return type(coroutine.running()) end)()",
      "local co co = coroutine.create(function() return coroutine.running() == co end) return {coroutine.resume(co)}",
    ]);
  });

  test("_VERSION, gcinfo, collectgarbage, string.gfind", async () => {
    await sameEach([
      "return _VERSION",
      "return {type(gcinfo()), gcinfo() > 0, gcinfo() == math.floor(gcinfo())}",
      "return {type(collectgarbage('count')), collectgarbage('count') > 0, collectgarbage(), collectgarbage('collect'), collectgarbage('step') ~= nil}",
      "return {collectgarbage('setpause', 150), collectgarbage('setpause', 200), collectgarbage('setstepmul', 300), collectgarbage('setstepmul', 200)}",
      "return collectgarbage('nosuch')",
      "local out = {} for d in string.gfind('a1b22c333', '%d+') do out[#out + 1] = d end return out",
    ]);
  });

  test("errors raised by library functions through pcall name no function", async () => {
    await sameEach([
      "return {pcall(string.rep)}",
      "return {pcall(string.format, '%d', 'x')}",
      "return {pcall(math.floor)}",
      "return {pcall(bit.tobit, 'q')}",
      "return {pcall(table.getn, 1)}",
      "return {pcall(select, 'x')}",
      "return {pcall(tonumber)}",
      "return {pcall(string.char, 256)}",
    ]);
  });
});

describe("integer replies past the long long range", () => {
  // Last in the file: a reply that cannot be written may leave the engine unusable.
  test("integer replies out of the long long range (NaN, infinities, 2^63 and beyond) are INT64_MIN", async () => {
    // Redis casts the double to long long; x86 gives INT64_MIN for anything out of range.
    await sameEach(["return 2^63", "return 2^64", "return 1e300", "return -1e300", "return 1/0", "return -1/0", "return 0/0", "return {1/0, 2}"]);
  });
});
