// HyperLogLog micro-benchmarks with mitata: what PFADD and PFCOUNT cost below the
// protocol, on a keyspace of their own.
//
//   bun bench/hyperloglog.bench.ts
//
// - hash: MurmurHash64A of a short element over 32-bit halves (hllPattern), against Bun's
//   native murmur64v2, which returns a BigInt;
// - PFADD's body on a sparse key (copied to the work buffer, the opcodes walked) and on a
//   dense key (edited in place);
// - PFCOUNT's estimate of a dense and a sparse value (the cache invalid), and of the raw
//   registers a multi-key PFCOUNT merges into.
import { bench, group, run, summary } from "mitata";
import { Clock, Db, KeyspaceStats } from "../src/store/db.ts";
import { stringBytes } from "../src/store/string.ts";
import {
  HLL_REGISTERS,
  editAdd,
  editBegin,
  editCommit,
  editInvalidateCache,
  editNew,
  hllCount,
  hllPattern,
  mergeRegisters,
  rawCount,
} from "../src/store/hyperloglog.ts";

const SPARSE_MAX_BYTES = 3000;

/** Elements "element:<n>", as redis-benchmark's `element:__rand_int__` makes them. */
const ELEMENTS = Array.from({ length: 1 << 16 }, (_, n) => Buffer.from(`element:${n}`, "latin1"));

const db = new Db(0, new KeyspaceStats(), new Clock());

/** A key holding an HLL of `count` elements; returns its id. */
function makeHll(key: string, count: number): number {
  const id = db.insert(key);
  editNew(SPARSE_MAX_BYTES);
  for (let n = 0; n < count; n++) editAdd(ELEMENTS[n]!, 0, ELEMENTS[n]!.length);
  editInvalidateCache();
  editCommit(db, id);
  return id;
}

const sparseId = makeHll("sparse", 300);
const denseId = makeHll("dense", 20_000);
const raw = new Uint8Array(HLL_REGISTERS);
mergeRegisters(raw, stringBytes(db, denseId));

/** PFADD key element, as the handler runs it: begin, add, invalidate when it rose, commit. */
function pfadd(id: number, element: Uint8Array): number {
  editBegin(db, id, SPARSE_MAX_BYTES);
  const rose = editAdd(element, 0, element.length);
  if (rose === 1) editInvalidateCache();
  editCommit(db, id);
  return rose;
}

let next = 0;
const nextElement = (): Uint8Array => ELEMENTS[next++ & 0xffff]!;

summary(() => {
  group("hash of a short element", () => {
    bench("hllPattern (32-bit halves)", () => hllPattern(nextElement(), 0, 12));
    bench("Bun.hash.murmur64v2 (BigInt)", () => Bun.hash.murmur64v2(nextElement(), 0xadc83b19n));
  });
});

group("PFADD body", () => {
  // The sparse key gets elements it already counted, so that it stays sparse however long
  // mitata runs: the copy into the work buffer and the opcode walk, without a store.
  bench("sparse key (300 elements), element seen", () => pfadd(sparseId, ELEMENTS[next++ % 300]!));
  bench("dense key", () => pfadd(denseId, nextElement()));
});

group("PFCOUNT estimate", () => {
  bench("dense value", () => hllCount(stringBytes(db, denseId)));
  bench("sparse value", () => hllCount(stringBytes(db, sparseId)));
  bench("raw registers (multi-key)", () => rawCount(raw));
});

if (import.meta.main) await run();
