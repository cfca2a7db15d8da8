// A dataset covering what RDB files and DUMP payloads must carry, built by commands so that
// the same calls make it on redis-server and redbun: every type in both of its encodings,
// integers, binary keys and values with \xff and \x00, values past 64 KB, LZF-compressible
// values, expiry times, and keys in three databases. Plus helpers to compare two servers'
// datasets key by key.

import { expect } from "bun:test";
import type { RespConn } from "../oracle/harness.ts";
import { rawItems } from "../oracle/resp.ts";

/** Bytes from a latin1 string (one char per byte). */
export const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "latin1"));

/** `n` bytes that LZF cannot shrink: a fixed pseudo-random sequence. */
export function noise(n: number, seed = 7): string {
  let x = seed;
  let s = "";
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    s += String.fromCharCode((x >>> 16) & 0xff);
  }
  return s;
}

const BINARY = "\xff\x00bin\r\n\x00\xff";

/** The commands that build the dataset, per database. */
export function datasetCommands(): Map<number, (string | Uint8Array)[][]> {
  const db0: (string | Uint8Array)[][] = [
    ["SET", "str:embstr", "hello"],
    ["SET", "str:int", "12345"],
    ["SET", "str:negint", "-42"],
    ["SET", "str:int64", "9223372036854775807"],
    ["SET", "str:int32", "2147483647"],
    ["SET", "str:notcanon", "007"],
    ["SET", "str:raw", "x".repeat(20) + noise(80)],
    ["SET", "str:lzf", "ab".repeat(500)],
    ["SET", "str:big", noise(70000)],
    ["SET", "str:bigzip", "0123456789".repeat(10000)],
    ["SET", bytes(`key${BINARY}`), bytes(`value${BINARY}`)],
    ["SET", "str:ttl", "v", "PX", "100000000"],
    ["SET", "12345", "int key"],
    ["SET", "k".repeat(40), "long key compresses"],
    ["RPUSH", "list:small", "a", "b", "1", "2", "-3", bytes(BINARY)],
    ["RPUSH", "list:big", ...Array.from({ length: 400 }, (_, i) => (i % 3 === 0 ? String(i) : `element-${i}-${"y".repeat(i % 50)}`))],
    ["RPUSH", "list:huge", noise(70000, 3), "small", "ab".repeat(5000)],
    ["SADD", "set:intset", "1", "2", "3", "-5", "100000", "1099511627776", "-9223372036854775808"],
    ["SADD", "set:table", "a", "b", "c", bytes(BINARY)],
    ["SADD", "set:bigints", ...Array.from({ length: 600 }, (_, i) => String(i * 7))],
    ["ZADD", "zset:small", "1", "a", "2.5", "b", "-inf", "c", "inf", "d", "1e300", "e", "-0.125", bytes(BINARY), "3", "10"],
    ["ZADD", "zset:big", ...Array.from({ length: 300 }, (_, i) => [String(i / 3), `m${i}`]).flat()],
    ["ZADD", "zset:longmember", "1", "m".repeat(100), "2", "x"],
    ["HSET", "hash:small", "f", "v", "n", "12", "neg", "-7", bytes(BINARY), bytes(BINARY)],
    ["HSET", "hash:big", ...Array.from({ length: 600 }, (_, i) => [`f${i}`, `v${i}`]).flat()],
    ["HSET", "hash:longvalue", "f", "v".repeat(100), "g", "1"],
    ["PEXPIRE", "hash:small", "50000000"],
    ["PEXPIRE", "zset:big", "60000000"],
  ];
  const db1: (string | Uint8Array)[][] = [
    ["SET", "db1:str", "one"],
    ["RPUSH", "db1:list", "x", "y"],
  ];
  const db2: (string | Uint8Array)[][] = [
    ["SET", "db2:str", "two"],
    ["SADD", "db2:set", "m"],
    ["HSET", "db2:hash", "a", "1"],
  ];
  return new Map([
    [0, db0],
    [1, db1],
    [2, db2],
  ]);
}

/** Runs the dataset's commands on a connection, leaving it in database 0. */
export async function buildDataset(conn: RespConn): Promise<void> {
  for (const [db, commands] of datasetCommands()) {
    expect(await conn.call("SELECT", String(db))).toBe("+OK\r\n");
    for (const cmd of commands) {
      const reply = await conn.call(...cmd);
      if (reply.startsWith("-")) throw new Error(`${cmd[0]} failed: ${reply}`);
    }
  }
  await conn.call("SELECT", "0");
}

/** The keys of the current database, as latin1 strings, sorted. */
export async function keysOf(conn: RespConn): Promise<string[]> {
  return rawItems(await conn.call("KEYS", "*"))
    .map((item) => item.slice(item.indexOf("\r\n") + 2, -2))
    .sort();
}

/**
 * Asserts that two servers hold the same data in databases 0..2: the same DEBUG DIGEST,
 * and per key the same value digest, encoding and presence of a time to live (within a
 * minute of each other).
 */
export async function expectSameData(expected: RespConn, actual: RespConn): Promise<void> {
  expect(await actual.call("DEBUG", "DIGEST")).toBe(await expected.call("DEBUG", "DIGEST"));
  for (let db = 0; db <= 2; db++) {
    await expected.call("SELECT", String(db));
    await actual.call("SELECT", String(db));
    const keys = await keysOf(expected);
    expect(await keysOf(actual)).toEqual(keys);
    for (const key of keys) {
      const k = bytes(key);
      const label = `db ${db} key ${JSON.stringify(key.slice(0, 40))}`;
      expect(`${label} ${await actual.call("DEBUG", "DIGEST-VALUE", k)}`).toBe(`${label} ${await expected.call("DEBUG", "DIGEST-VALUE", k)}`);
      expect(`${label} ${await actual.call("OBJECT", "ENCODING", k)}`).toBe(`${label} ${await expected.call("OBJECT", "ENCODING", k)}`);
      const ttlA = Number((await actual.call("PTTL", k)).slice(1, -2));
      const ttlE = Number((await expected.call("PTTL", k)).slice(1, -2));
      expect(`${label} ${ttlA < 0 ? ttlA : "ttl"}`).toBe(`${label} ${ttlE < 0 ? ttlE : "ttl"}`);
      if (ttlE >= 0) expect(Math.abs(ttlA - ttlE)).toBeLessThan(60000);
    }
  }
  await expected.call("SELECT", "0");
  await actual.call("SELECT", "0");
}
