// list-compress-depth: which quicklist nodes are held LZF-compressed, seen through DEBUG
// OBJECT's serializedlength (with rdbcompression off, a raw node is saved as it is and a
// compressed one as its LZF bytes), DUMP payloads, RESTORE and DEBUG RELOAD, against the
// real redis-server. The random sequences are in test/fuzz/list-compress.test.ts.

import { afterAll, beforeAll, beforeEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Oracle } from "../oracle/harness.ts";

let o: Oracle;
const dirs: string[] = [];
beforeAll(async () => {
  // `dir` is a protected config: CONFIG SET refuses it unless protected configs are enabled.
  o = await Oracle.start(["--enable-debug-command", "yes", "--enable-protected-configs", "yes"]);
  // DEBUG RELOAD saves a dump.rdb: each server gets a directory of its own for it, so
  // that no later server starts from this test's data.
  for (const conn of [o.r, o.b]) {
    dirs.push(mkdtempSync(join(tmpdir(), "redbun-list-compress-")));
    expect(await conn.call("CONFIG", "SET", "dir", dirs[dirs.length - 1]!)).toBe("+OK\r\n");
  }
});
afterAll(() => {
  o.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await o.same("FLUSHALL");
  await o.same("CONFIG", "SET", "rdbcompression", "no");
  await o.same("CONFIG", "SET", "list-max-listpack-size", "4");
  await o.same("CONFIG", "SET", "list-compress-depth", "0");
});

/** DEBUG OBJECT from the encoding on, without the LRU clock. */
async function sameObject(key: string): Promise<string> {
  const [a, b] = await o.both("DEBUG", "OBJECT", key);
  const shape = (r: string) => r.slice(r.indexOf(" encoding:")).replace(/ lru:\d+ lru_seconds_idle:\d+/, "");
  expect(shape(b)).toBe(shape(a));
  return shape(b);
}

const serializedLength = (shape: string): number => Number(/serializedlength:(\d+)/.exec(shape)![1]);

/** Pushes n compressible elements, 37 bytes each, onto key's tail. */
async function fill(key: string, n: number): Promise<void> {
  const items = Array.from({ length: n }, (_, i) => "a".repeat(36) + (i % 10));
  await o.same("RPUSH", key, ...items);
}

test("inner nodes are held compressed: the same serialized length as Redis, far below depth 0's", async () => {
  await fill("raw", 40);
  const raw = serializedLength(await sameObject("raw"));
  await o.same("CONFIG", "SET", "list-compress-depth", "1");
  await fill("packed", 40);
  const packed = serializedLength(await sameObject("packed"));
  expect(packed).toBeLessThan(raw / 2);
});

test("CONFIG SET list-compress-depth applies to lists made afterwards only", async () => {
  await fill("before", 40);
  await o.same("CONFIG", "SET", "list-compress-depth", "2");
  await fill("before", 8);
  await fill("after", 48);
  const before = await sameObject("before");
  const after = await sameObject("after");
  expect(before).toContain("ql_compressed:0");
  expect(after).toContain("ql_compressed:1");
  expect(serializedLength(after)).toBeLessThan(serializedLength(before));
});

test("every depth keeps its end nodes raw, on pushes and pops at both ends", async () => {
  for (const depth of ["1", "2", "3"]) {
    await o.same("CONFIG", "SET", "list-compress-depth", depth);
    const key = `d${depth}`;
    await fill(key, 60);
    await sameObject(key);
    for (let i = 0; i < 30; i++) {
      await o.same(i % 2 === 0 ? "LPOP" : "RPOP", key);
      await sameObject(key);
    }
  }
});

test("a node too small to compress that grows by an insert stays raw until a read passes it", async () => {
  await o.same("CONFIG", "SET", "list-compress-depth", "1");
  await o.same("RPUSH", "k", ...Array.from({ length: 12 }, (_, i) => `e${i + 1}`));
  // The inner node [e5 .. e8] is below 48 bytes, so it was left raw; the insert only
  // recompresses a node it decompressed, so the now compressible node stays raw...
  await o.same("LREM", "k", "1", "e6");
  await o.same("LINSERT", "k", "BEFORE", "e7", "x".repeat(60));
  const grown = serializedLength(await sameObject("k"));
  // ...until an iterator is released on it, which compresses it.
  await o.same("LINDEX", "k", "5");
  expect(serializedLength(await sameObject("k"))).toBeLessThan(grown);
  for (const read of [["LRANGE", "k", "2", "9"], ["LPOS", "k", "x", "MAXLEN", "6"], ["LRANGE", "k", "-9", "-1"]]) {
    await o.same(...read);
    await sameObject("k");
  }
});

test("DUMP payloads of compressed lists are Redis's, and RESTORE and DEBUG RELOAD keep the nodes compressed", async () => {
  await o.same("CONFIG", "SET", "list-compress-depth", "1");
  await fill("k", 30);
  await o.same("RPUSH", "k", "x".repeat(200));
  await o.same("LSET", "k", "10", "y".repeat(80));
  const payload = await o.same("DUMP", "k");
  const bytes = payload.slice(payload.indexOf("\r\n") + 2, -2);
  await o.same("CONFIG", "SET", "list-compress-depth", "2");
  await o.same("RESTORE", "copy", "0", bytes);
  await sameObject("copy");
  await o.same("DUMP", "copy");
  await o.same("DEBUG", "RELOAD");
  await sameObject("k");
  await sameObject("copy");
  await o.same("LRANGE", "copy", "0", "-1");
});

test("COPY duplicates the list with its compression", async () => {
  await o.same("CONFIG", "SET", "list-compress-depth", "1");
  await fill("k", 33);
  await o.same("COPY", "k", "c");
  await sameObject("c");
  await o.same("DUMP", "c");
});
