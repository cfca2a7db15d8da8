// Redis's CRC-64 (Jones polynomial, reflected): the check value from crc64.c, and the
// sliced tables against a bit-at-a-time reference over every split of an input.

import { describe, expect, test } from "bun:test";
import { Crc64, crc64Hex } from "../../src/persistence/crc64.ts";

/** The CRC one bit at a time with bigints: slow, but independent of the tables under test. */
function bitwiseCrc64(data: Uint8Array): string {
  const poly = 0x95ac9329ac4bc9b5n;
  let crc = 0n;
  for (const byte of data) {
    crc ^= BigInt(byte);
    for (let bit = 0; bit < 8; bit++) crc = crc & 1n ? (crc >> 1n) ^ poly : crc >> 1n;
  }
  return crc.toString(16);
}

describe("crc64", () => {
  test("Redis's check value", () => {
    expect(crc64Hex(Buffer.from("123456789"))).toBe("e9c6d914c4b8d9ca");
    expect(crc64Hex(new Uint8Array(0))).toBe("0000000000000000");
  });

  test("every split of an input gives the bitwise reference's CRC", () => {
    const text = Buffer.from("This is a test of the emergency broadcast system. \xff\x00 and a tail", "latin1");
    const want = bitwiseCrc64(text);
    for (let split = 0; split <= text.length; split++) {
      const parts = new Crc64();
      parts.update(text, 0, split);
      parts.update(text, split, text.length - split);
      expect(parts.hex()).toBe(want);
    }
  });

  test("writeLE and equalsLE round trip", () => {
    const crc = new Crc64();
    crc.update(Buffer.from("123456789"), 0, 9);
    const out = new Uint8Array(8);
    crc.writeLE(out, 0);
    expect(Buffer.from(out).reverse().toString("hex")).toBe("e9c6d914c4b8d9ca");
    expect(crc.equalsLE(out, 0)).toBe(true);
    out[7] ^= 1;
    expect(crc.equalsLE(out, 0)).toBe(false);
  });
});
