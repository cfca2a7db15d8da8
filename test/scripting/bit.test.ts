// The `bit` library (LuaBitOp) inside scripts against the real redis-server: every function
// on the edges of the 32-bit conversion (rounding ties, 2^31, 2^32, 2^52 and beyond, NaN,
// infinities, numeric strings), the argument errors, and a seeded fuzz of random operations
// whose results are compared byte for byte.

import { describe, test } from "bun:test";
import { scriptSuite, withSeedAsync } from "./script-suite.ts";

const { oracle, sameEach } = scriptSuite();

/** Lua expressions for numbers at the edges of LuaBitOp's conversion. */
const EDGES = [
  "0", "1", "-1", "0.5", "1.5", "2.5", "-0.5", "-1.5", "-2.5", "0.49999999999999994", "3.7", "-3.7",
  "2^31", "2^31-1", "-2^31", "-2^31-1", "2^32", "2^32+5", "-2^32", "2^51", "2^51+0.5", "2^52", "2^52+1",
  "2^53", "2^53+2", "2^60", "-2^60", "2^64", "1e300", "-1e300", "1/0", "-1/0", "0/0", "-0",
  "'12'", "' 0x10 '", "'1e3'", "'-7.5'",
];

describe("bit", () => {
  test("tobit, bnot and bswap of the conversion's edge cases", async () => {
    const scripts: string[] = [];
    for (const f of ["tobit", "bnot", "bswap"]) {
      scripts.push(`return {${EDGES.map((x) => `bit.${f}(${x})`).join(", ")}}`);
    }
    await sameEach(scripts);
  });

  test("band, bor, bxor with any number of arguments", async () => {
    await sameEach([
      "return {bit.band(0xff), bit.band(0xff, 0x0f), bit.band(-1, 0x7fffffff, 0xf0f0), bit.band(2^32+3, 7, 5, 1)}",
      "return {bit.bor(1), bit.bor(1, 2, 4, 8, 2^31), bit.bor(-2^31, 2^31-1), bit.bor(1.5, 2.5)}",
      "return {bit.bxor(5), bit.bxor(5, 3), bit.bxor(-1, 1, 2, 4), bit.bxor(2^40, 2^40 + 1)}",
    ]);
  });

  test("shifts and rotations take the count modulo 32", async () => {
    const scripts: string[] = [];
    for (const f of ["lshift", "rshift", "arshift", "rol", "ror"]) {
      const calls: string[] = [];
      for (const x of ["1", "-1", "0x87654321", "-2^31", "12345.5"]) {
        for (const n of ["0", "1", "4", "31", "32", "33", "-1", "-33", "2^32+2", "1.5"]) calls.push(`bit.${f}(${x}, ${n})`);
      }
      scripts.push(`return {${calls.join(", ")}}`);
    }
    await sameEach(scripts);
  });

  test("tohex: digit counts, uppercase for negative counts, at most 8", async () => {
    const calls: string[] = [];
    for (const x of ["0", "1", "-1", "0xdeadbeef", "2^32+255", "-2^31"]) {
      for (const n of ["", ", 0", ", 1", ", 2", ", 4", ", 8", ", 9", ", 100", ", -1", ", -4", ", -8", ", -9", ", 2^32+3", ", -2^31"]) {
        calls.push(`bit.tohex(${x}${n})`);
      }
    }
    await sameEach([`return {${calls.join(", ")}}`]);
  });

  test("argument errors name the function and the argument", async () => {
    await sameEach([
      "return bit.tobit('x')",
      "return bit.tobit()",
      "return bit.tobit(nil)",
      "return bit.tobit({})",
      "return bit.tobit(true)",
      "return bit.band(1, 'x', 'y')",
      "return bit.band('x', 1, 2)",
      "return bit.band()",
      "return bit.bor(1, {})",
      "return bit.lshift(1)",
      "return bit.rshift('a', 1)",
      "return bit.tohex(1, nil)",
      "return bit.tohex(1, 'z')",
      "local f = bit.bnot return f('q')",
    ]);
  });

  test("the library table", async () => {
    await sameEach([
      "local names = {} for k, v in pairs(bit) do names[#names + 1] = k .. ':' .. type(v) end table.sort(names) return names",
    ]);
  });
});

/** A random number expression, biased towards the conversion's interesting regions. */
function randomNumber(random: () => number): string {
  const kind = Math.floor(random() * 7);
  switch (kind) {
    case 0:
      return String(Math.floor(random() * 512) - 256);
    case 1:
      return String((Math.floor(random() * 2 ** 32) - 2 ** 31) | 0);
    case 2:
      return String(Math.floor(random() * 2 ** 32));
    case 3:
      // Halves: the rounding ties.
      return String((Math.floor(random() * 64) - 32) + 0.5);
    case 4:
      return String((random() - 0.5) * 2 ** (Math.floor(random() * 70)));
    case 5:
      return `2^${Math.floor(random() * 64)}${random() < 0.5 ? "" : ` + ${Math.floor(random() * 1000)}`}`;
    default:
      return String(Math.floor(random() * 64) - 16);
  }
}

const FUZZ_OPS = ["tobit", "bnot", "bswap", "band", "bor", "bxor", "lshift", "rshift", "arshift", "rol", "ror", "tohex"];

describe("bit fuzz", () => {
  test("random operations on random numbers", async () => {
    await withSeedAsync("bit fuzz", async (random) => {
      for (let round = 0; round < 40; round++) {
        const calls: string[] = [];
        for (let i = 0; i < 60; i++) {
          const op = FUZZ_OPS[Math.floor(random() * FUZZ_OPS.length)]!;
          const unary = op === "tobit" || op === "bnot" || op === "bswap";
          const variadic = op === "band" || op === "bor" || op === "bxor";
          const count = unary ? 1 : variadic ? 1 + Math.floor(random() * 4) : op === "tohex" && random() < 0.3 ? 1 : 2;
          const args = Array.from({ length: count }, () => randomNumber(random));
          calls.push(`bit.${op}(${args.join(", ")})`);
        }
        await oracle().same("EVAL", `return {${calls.join(", ")}}`, "0");
      }
    });
  });
});
