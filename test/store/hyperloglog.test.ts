// The HyperLogLog codec without a server: the hash against an independent MurmurHash64A
// (Bun's), the packed 6-bit registers, the sparse opcodes and their promotion to dense,
// malformed values, and the estimator at its edges. Byte compatibility with Redis itself
// is tested over sockets in test/commands/hyperloglog.test.ts.

import { describe, expect, test } from "bun:test";
import { rng } from "../oracle/harness.ts";
import {
  HLL_COUNT_OVERFLOW,
  HLL_DENSE_SIZE,
  HLL_REGISTERS,
  decodeSparse,
  denseGet,
  denseSetRegister,
  editBytes,
  editIsSparse,
  editNew,
  editRaise,
  hllCount,
  hllPattern,
  isHll,
  lastHashHigh,
  mergeRegisters,
  murmur64a,
  rawCount,
  sparseToDense,
} from "../../src/store/hyperloglog.ts";

const SEED = 0xadc83b19n;

function bytesOf(text: string): Uint8Array {
  return Buffer.from(text, "latin1");
}

describe("hash", () => {
  test("MurmurHash64A equals Bun's murmur64v2 for every tail length and random bytes", () => {
    const random = rng(7);
    for (let len = 0; len < 200; len++) {
      const buf = new Uint8Array(len + 3);
      for (let k = 0; k < buf.length; k++) buf[k] = (random() * 256) | 0;
      // An offset start checks that the hash reads from `start`, not from 0.
      const lo = murmur64a(buf, 3, len);
      const ours = (BigInt(lastHashHigh()) << 32n) | BigInt(lo);
      expect(ours).toBe(BigInt(Bun.hash.murmur64v2(buf.subarray(3), SEED)));
    }
  });

  test("the pattern is the low 14 bits and one more than the zeros above them", () => {
    for (const text of ["a", "b", "hello", "x".repeat(33)]) {
      const buf = bytesOf(text);
      const hash = BigInt(Bun.hash.murmur64v2(buf, SEED));
      const pattern = hllPattern(buf, 0, buf.length);
      expect(pattern & (HLL_REGISTERS - 1)).toBe(Number(hash & 0x3fffn));
      let rest = (hash >> 14n) | (1n << 50n);
      let count = 1;
      while ((rest & 1n) === 0n) {
        count++;
        rest >>= 1n;
      }
      expect(pattern >>> 14).toBe(count);
    }
  });
});

describe("dense registers", () => {
  test("every register keeps its value and leaves its neighbours alone", () => {
    const random = rng(11);
    const hll = new Uint8Array(HLL_DENSE_SIZE);
    const expected = new Uint8Array(HLL_REGISTERS);
    for (let round = 0; round < 3; round++) {
      for (let reg = 0; reg < HLL_REGISTERS; reg++) {
        expected[reg] = (random() * 64) | 0;
        denseSetRegister(hll, reg, expected[reg]!);
      }
      for (let reg = 0; reg < HLL_REGISTERS; reg++) expect(denseGet(hll, reg)).toBe(expected[reg]!);
    }
    // The last register ends two bits short of the buffer's end.
    denseSetRegister(hll, HLL_REGISTERS - 1, 63);
    expect(hll[HLL_DENSE_SIZE - 1]! >>> 2).toBe(63);
  });
});

describe("sparse values", () => {
  test("a new HLL is one XZERO run of every register, counted 0", () => {
    editNew(3000);
    const bytes = editBytes();
    expect(bytes.length).toBe(18);
    expect(isHll(bytes)).toBe(true);
    expect(decodeSparse(bytes)).toBe("Z:16384");
    expect(hllCount(bytes)).toBe(0);
  });

  test("raising registers splits runs and merges equal neighbours", () => {
    editNew(3000);
    expect(editRaise(100, 3)).toBe(1);
    expect(decodeSparse(editBytes())).toBe("Z:100 v:3,1 Z:16283");
    expect(editRaise(101, 3)).toBe(1);
    expect(decodeSparse(editBytes())).toBe("Z:100 v:3,2 Z:16282");
    expect(editRaise(100, 2)).toBe(0);
    expect(editRaise(0, 1)).toBe(1);
    expect(editRaise(HLL_REGISTERS - 1, 32)).toBe(1);
    expect(decodeSparse(editBytes())).toBe("v:1,1 Z:99 v:3,2 Z:16281 v:32,1");
    expect(editIsSparse()).toBe(true);
  });

  test("a value above 32 turns the HLL dense, registers kept", () => {
    editNew(3000);
    editRaise(5, 7);
    expect(editRaise(9, 40)).toBe(1);
    expect(editIsSparse()).toBe(false);
    const dense = editBytes();
    expect(dense.length).toBe(HLL_DENSE_SIZE);
    expect([denseGet(dense, 5), denseGet(dense, 9), denseGet(dense, 6)]).toEqual([7, 40, 0]);
  });

  test("growing past the byte limit turns the HLL dense", () => {
    editNew(30);
    let reg = 0;
    while (editIsSparse()) editRaise((reg += 50), 1);
    // 16 header bytes: each isolated register costs about two opcode bytes.
    expect(reg).toBeLessThan(50 * 10);
  });

  test("malformed values are found", () => {
    const header = [72, 89, 76, 76, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80];
    const short = Uint8Array.from([...header, 0x7f, 0xfe]);
    const long = Uint8Array.from([...header, 0x7f, 0xff, 0x00]);
    for (const bad of [short, long]) {
      expect(isHll(bad)).toBe(true);
      expect(hllCount(bad)).toBe(-1);
      expect(sparseToDense(bad, bad.length)).toBeNull();
      expect(mergeRegisters(new Uint8Array(HLL_REGISTERS), bad)).toBe(false);
    }
    expect(isHll(Uint8Array.from([...header.slice(0, 4), 0, ...header.slice(5), 1]))).toBe(false);
    expect(isHll(bytesOf("HYLL"))).toBe(false);
  });
});

describe("estimator", () => {
  test("no registers set counts 0; dense, sparse and raw registers agree", () => {
    expect(rawCount(new Uint8Array(HLL_REGISTERS))).toBe(0);
    const random = rng(3);
    editNew(3000);
    for (let k = 0; k < 300; k++) {
      const element = bytesOf(`el${random()}`);
      const pattern = hllPattern(element, 0, element.length);
      editRaise(pattern & (HLL_REGISTERS - 1), pattern >>> 14);
    }
    const sparse = Uint8Array.from(editBytes());
    const dense = sparseToDense(sparse, sparse.length)!;
    const raw = new Uint8Array(HLL_REGISTERS);
    expect(mergeRegisters(raw, sparse)).toBe(true);
    const estimate = hllCount(sparse);
    expect(Math.abs(estimate - 300)).toBeLessThan(15);
    expect(hllCount(dense)).toBe(estimate);
    expect(rawCount(raw)).toBe(estimate);
  });

  test("an estimate beyond a long long is Redis's overflow value", () => {
    expect(rawCount(new Uint8Array(HLL_REGISTERS).fill(51))).toBe(HLL_COUNT_OVERFLOW);
    expect(rawCount(new Uint8Array(HLL_REGISTERS).fill(40))).toBe(12994641697113596);
  });
});
