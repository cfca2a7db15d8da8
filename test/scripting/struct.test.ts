// The `struct` library inside scripts against the real redis-server: every format option
// with byte order and alignment, integers past 64 bits and out of range, floats, strings,
// the error texts, and seeded fuzzes that pack random values with random formats and unpack
// random bytes, comparing the bytes and the values (printed exactly) byte for byte.

import { describe, test } from "bun:test";
import { scriptSuite, withSeedAsync } from "./script-suite.ts";

const { oracle, sameEach } = scriptSuite();

/**
 * A script that packs `values` with `fmt` and replies the packed bytes, then each unpacked
 * value (numbers printed with "%.17g", so nothing is lost) and the final offset.
 */
function roundTrip(fmt: string, values: string): string {
  return `local s = struct.pack(${JSON.stringify(fmt)}, ${values})
local t = {struct.unpack(${JSON.stringify(fmt)}, s)}
for i = 1, #t do if type(t[i]) == 'number' then t[i] = string.format('%.17g', t[i]) end end
return {s, unpack(t)}`;
}

describe("struct.pack and struct.unpack", () => {
  test("each integer option, both byte orders", async () => {
    const scripts: string[] = [];
    for (const order of ["<", ">", ""]) {
      for (const opt of ["b", "B", "h", "H", "i", "I", "l", "L", "T", "i1", "I2", "i3", "I5", "i7", "i8", "I9", "i12", "I16", "i32", "i0"]) {
        for (const v of ["0", "1", "-1", "127", "128", "-129", "255", "65535", "-32769", "2^31", "-2^31-1", "2^53", "2^63", "-2^63", "2^64", "1e300", "-1e300", "1/0", "-1/0", "0/0", "3.9", "-3.9", "'42'"]) {
          scripts.push(roundTrip(order + opt, v));
        }
      }
    }
    await sameEach(scripts);
  });

  test("floats, doubles, padding, strings", async () => {
    const scripts: string[] = [];
    for (const fmt of ["<f", ">f", "<d", ">d", "f", "d"]) {
      for (const v of ["0", "-0", "0.1", "1/3", "-2.5", "1e39", "1e-46", "3.4028234663852886e38", "1e308", "2^-1074", "1/0", "-1/0"]) {
        scripts.push(roundTrip(fmt, v));
      }
    }
    scripts.push(roundTrip("xbxxh", "1, 2"));
    scripts.push(roundTrip("c3", "'abcdef'"));
    scripts.push(roundTrip("c0", "'abcdef'"));
    scripts.push(roundTrip("s", "'a\\0b'"));
    scripts.push(roundTrip("ss", "'', 'xyz'"));
    scripts.push(roundTrip("bc0", "3, 'abc'"));
    scripts.push(roundTrip(" < b > h ! i", "1, 2, 3"));
    await sameEach(scripts);
  });

  test("alignment: '!' with and without a size", async () => {
    const scripts: string[] = [];
    for (const fmt of ["!bi", "!bd", "!bh", "!2bi", "!4bhbd", "!8bT", "!1bd", "!16bdbi", "!bi3", "!4bi3bi5", "!bfbxbc2bs", ">!4bhi"]) {
      const values = fmt.includes("c") ? "1, 2, 3, 4, 'ab', 5, 'cd'" : "1, 2, 3, 4, 5, 6, 7".split(", ").slice(0, (fmt.match(/[bhilfdTB]/g) ?? []).length).join(", ");
      scripts.push(roundTrip(fmt, values));
      scripts.push(`return struct.size(${JSON.stringify(fmt.replace(/[cs]\d*/g, "c1"))})`);
    }
    await sameEach(scripts);
  });

  test("unpack offsets and the offset returned", async () => {
    await sameEach([
      "return {struct.unpack('B', 'abc', 1)}",
      "return {struct.unpack('B', 'abc', 3)}",
      "return {struct.unpack('B', 'abc', 2.9)}",
      "return {struct.unpack('B', 'abc', '2')}",
      "return {struct.unpack('B', 'abc', 4)}",
      "return {struct.unpack('B', 'abc', 0)}",
      "return {struct.unpack('B', 'abc', -1)}",
      "return {struct.unpack('', 'abc', -5)}",
      "return {struct.unpack('', 'abc', 10)}",
      "return {struct.unpack('!4bi', 'abcdefgh', 2)}",
      "return {struct.unpack('c0', 'x')}",
      "return {struct.unpack('bc0', '\\5abc')}",
      "return {struct.unpack('bc0', '\\255abc')}",
      "return {struct.unpack('i9', '123456789')}",
      "return {struct.unpack('s', 'abc')}",
      "return {struct.unpack('ss', 'a\\0\\0')}",
    ]);
  });

  test("errors", async () => {
    await sameEach([
      "return struct.pack('i99999999999', 1)",
      "return struct.pack('i2147483648', 1)",
      "return struct.pack('c2147483647', 'x')",
      "return struct.pack('i40', 1)",
      "return struct.pack('i33', 1)",
      "return struct.pack('!3i', 1)",
      "return struct.pack('!0i', 1)",
      "return struct.pack('y', 1)",
      "return struct.pack('b', 'x')",
      "return struct.pack('b')",
      "return struct.pack('c5', 'ab')",
      "return struct.pack('s', {})",
      "return struct.pack(1)",
      "return struct.pack()",
      "return struct.unpack('i', 'ab')",
      "return struct.unpack()",
      "return struct.unpack('b')",
      "return struct.unpack('y', 'abc')",
      "return struct.unpack('b', 'abc', 'x')",
      "return struct.size('s')",
      "return struct.size('c0')",
      "return struct.size('!5')",
      "return struct.size('y')",
      "return struct.size('1')",
      "return struct.size('%')",
      "return struct.size()",
      "return {struct.unpack(string.rep('b', 8000), string.rep('a', 8000))}",
    ]);
  });

  test("size", async () => {
    await sameEach([
      "return {struct.size(''), struct.size('b'), struct.size('bhilT'), struct.size('!bhilT'), struct.size('!2bhilT'), struct.size('c10'), struct.size('i16x'), struct.size('fd'), struct.size('!fd'), struct.size('<>!')}",
    ]);
  });

  test("the library table", async () => {
    await sameEach(["local names = {} for k, v in pairs(struct) do names[#names + 1] = k .. ':' .. type(v) end table.sort(names) return names"]);
  });
});

// ---------------------------------------------------------------------------------------
// Fuzz
// ---------------------------------------------------------------------------------------

const INT_OPTIONS = ["b", "B", "h", "H", "l", "L", "T", "i", "I"];

/** A random value expression for an integer field. */
function randomInteger(random: () => number): string {
  const r = random();
  if (r < 0.3) return String(Math.floor(random() * 512) - 256);
  if (r < 0.6) return String(Math.floor((random() - 0.5) * 2 ** (1 + Math.floor(random() * 66))));
  if (r < 0.8) return String((random() - 0.5) * 2 ** Math.floor(random() * 70));
  return `${random() < 0.5 ? "-" : ""}2^${Math.floor(random() * 66)}`;
}

function randomFloat(random: () => number): string {
  const r = random();
  if (r < 0.1) return random() < 0.5 ? "1/0" : "-1/0";
  return String((random() - 0.5) * 10 ** (Math.floor(random() * 80) - 40));
}

function randomString(random: () => number, length: number, zeros: boolean): string {
  let s = "";
  for (let i = 0; i < length; i++) {
    let c = Math.floor(random() * 256);
    if (!zeros && c === 0) c = 1;
    s += `\\${c}`;
  }
  return `'${s}'`;
}

/** A random format and values that fit it. */
function randomLayout(random: () => number): { fmt: string; values: string[] } {
  let fmt = "";
  const values: string[] = [];
  const fields = 1 + Math.floor(random() * 8);
  for (let i = 0; i < fields; i++) {
    const r = random();
    if (r < 0.08) fmt += random() < 0.5 ? "<" : ">";
    else if (r < 0.16) fmt += `!${random() < 0.3 ? "" : 2 ** Math.floor(random() * 4)}`;
    else if (r < 0.2) fmt += random() < 0.5 ? "x" : " ";
    else if (r < 0.55) {
      fmt += INT_OPTIONS[Math.floor(random() * INT_OPTIONS.length)]!;
      if (fmt.endsWith("i") || fmt.endsWith("I")) {
        if (random() < 0.6) fmt += String(Math.floor(random() * 17));
      }
      values.push(randomInteger(random));
    } else if (r < 0.7) {
      fmt += random() < 0.5 ? "f" : "d";
      values.push(randomFloat(random));
    } else if (r < 0.85) {
      const n = Math.floor(random() * 6);
      fmt += `c${n}`;
      values.push(randomString(random, n + Math.floor(random() * 3), true));
    } else {
      fmt += "s";
      values.push(randomString(random, Math.floor(random() * 5), false));
    }
  }
  return { fmt, values };
}

describe("struct fuzz", () => {
  test("pack random values with random formats, then unpack them", async () => {
    await withSeedAsync("struct pack fuzz", async (random) => {
      for (let round = 0; round < 300; round++) {
        const { fmt, values } = randomLayout(random);
        await oracle().same("EVAL", roundTrip(fmt, values.length > 0 ? values.join(", ") : "nil"), "0");
        await oracle().same("EVAL", `return {pcall(struct.size, ${JSON.stringify(fmt)})}`, "0");
      }
    });
  });

  test("unpack random bytes with random formats and offsets", async () => {
    const script = `local t = {pcall(struct.unpack, ARGV[1], ARGV[2], tonumber(ARGV[3]))}
for i = 1, #t do if type(t[i]) == 'number' then t[i] = string.format('%.17g', t[i]) end end
return t`;
    await withSeedAsync("struct unpack fuzz", async (random) => {
      for (let round = 0; round < 300; round++) {
        const { fmt } = randomLayout(random);
        const data = new Uint8Array(Math.floor(random() * 40));
        for (let i = 0; i < data.length; i++) data[i] = random() < 0.2 ? 0 : Math.floor(random() * 256);
        await oracle().same("EVAL", script, "0", fmt, data, String(1 + Math.floor(random() * 4)));
      }
    });
  });
});
