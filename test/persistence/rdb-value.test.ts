// The RDB encoding of values against a real redis-server 7.0: for values of every type and
// encoding, built by the same commands on both servers, with rdbcompression on and off,
// (1) DEBUG OBJECT's serializedlength is Redis's, and (2) the type byte and value this
// module writes are Redis's DUMP payload without its trailer (2 bytes of RDB version and 8
// of CRC64). redbun runs in this process, so the test can serialize its keys directly;
// everything else goes over sockets.
//
// Hashtable sets and hashes are written in the order of each server's table, which is
// seeded at random per process, so for those the lengths must agree and both payloads
// must decode to the same members.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { RespConn, type ServerProcess, freePort, rng, startRedis } from "../oracle/harness.ts";
import { seedFromEnv } from "../oracle/fuzz.ts";
import { loadStartupConfig } from "../../src/config/parse.ts";
import { Logger } from "../../src/log/log.ts";
import { Server } from "../../src/server/server.ts";
import { NO_KEY } from "../../src/store/db.ts";
import { lzfCompress, lzfDecompress } from "../../src/persistence/lzf.ts";
import { lpAppend, lpBytes, lpNew } from "../../src/encoding/listpack.ts";
import {
  RdbSink,
  RdbType,
  saveLength,
  saveObject,
  saveObjectType,
  saveRawString,
  savedObjectLength,
} from "../../src/persistence/rdb-value.ts";

const SERVER_ARGS = ["--save", "", "--appendonly", "no", "--enable-debug-command", "yes"];

let redis: ServerProcess;
let redbun: Server;
let r: RespConn;
let b: RespConn;

beforeAll(async () => {
  const port = freePort();
  const config = loadStartupConfig(["--port", String(port), "--bind", "127.0.0.1", "--loglevel", "warning", ...SERVER_ARGS]);
  redbun = new Server(config, new Logger(config));
  redbun.listen();
  redis = await startRedis(SERVER_ARGS);
  [r, b] = await Promise.all([RespConn.connect(redis.port), RespConn.connect(port)]);
});

afterAll(async () => {
  r.close();
  b.close();
  redbun.close();
  await redis.stop();
});

// ---------------------------------------------------------------------------------------
// Talking to both servers

async function both(...args: string[]): Promise<[string, string]> {
  return Promise.all([r.call(...args), b.call(...args)]);
}

/** Sends a command to both servers and requires byte-identical replies. */
async function same(...args: string[]): Promise<string> {
  const [want, got] = await both(...args);
  if (want !== got) throw new Error(`reply differs for ${JSON.stringify(args).slice(0, 200)}\n  redis:  ${JSON.stringify(want)}\n  redbun: ${JSON.stringify(got)}`);
  return want;
}

async function sameAll(commands: string[][]): Promise<void> {
  for (const c of commands) await same(...c);
}

const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "latin1"));
const hex = (a: Uint8Array): string => Buffer.from(a).toString("hex");

function field(debugObject: string, name: string): string {
  const m = new RegExp(` ${name}:(\\S+)`).exec(debugObject);
  if (m === null) throw new Error(`no ${name} in ${JSON.stringify(debugObject)}`);
  return m[1]!;
}

/** Redis's DUMP payload for key without the trailer: the type byte and the value. */
async function redisPayload(key: string): Promise<Uint8Array> {
  const reply = await r.call("DUMP", key);
  expect(reply[0]).toBe("$");
  const header = reply.indexOf("\r\n");
  const payload = bytes(reply.slice(header + 2, reply.length - 2));
  expect(payload.length).toBe(Number(reply.slice(1, header)));
  return payload.subarray(0, payload.length - 10);
}

/** This module's type byte and value for key, in the in-process redbun. */
function redbunPayload(key: string): Uint8Array {
  const db = redbun.dbs[0]!;
  const id = db.peek(key);
  expect(id).not.toBe(NO_KEY);
  const compress = redbun.config.rdbcompression;
  const sink = new RdbSink(compress, false, 16);
  saveObjectType(sink, db.table, id);
  saveObject(sink, db.table, id);
  // Measuring takes the very path writing does.
  expect(savedObjectLength(db.table, id, compress)).toBe(sink.length - 1);
  return sink.written().slice();
}

/** Index of the first differing byte, for a readable failure. */
function firstDifference(a: Uint8Array, c: Uint8Array): number {
  const n = Math.min(a.length, c.length);
  for (let i = 0; i < n; i++) if (a[i] !== c[i]) return i;
  return a.length === c.length ? -1 : n;
}

/**
 * Requires key to serialize as Redis serializes it: the same encoding, serializedlength
 * and DUMP bytes. `unordered` values (hashtable sets and hashes of several entries) must
 * have the same length and decode to the same members.
 */
async function check(key: string, unordered = false): Promise<void> {
  const [redisObject, redbunObject] = await both("DEBUG", "OBJECT", key);
  expect(field(redbunObject, "encoding")).toBe(field(redisObject, "encoding"));
  expect(field(redbunObject, "serializedlength")).toBe(field(redisObject, "serializedlength"));
  const want = await redisPayload(key);
  const got = redbunPayload(key);
  expect(Number(field(redisObject, "serializedlength"))).toBe(want.length - 1);
  expect(got.length).toBe(want.length);
  if (unordered) {
    expect(decodeValue(got)).toEqual(decodeValue(want));
    return;
  }
  const at = firstDifference(got, want);
  if (at >= 0) {
    const around = (a: Uint8Array) => hex(a.subarray(Math.max(0, at - 8), at + 24));
    throw new Error(`${key}: payload differs at byte ${at} of ${want.length}\n  redis:  ${around(want)}\n  redbun: ${around(got)}`);
  }
}

// ---------------------------------------------------------------------------------------
// A reader for the unordered encodings (and a check of the LZF and integer strings in them)

class PayloadReader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  byte(): number {
    if (this.pos >= this.buf.length) throw new Error("payload ends early");
    return this.buf[this.pos++]!;
  }

  /** rdbLoadLen: returns [value, isEncoded]. */
  lengthOrEncoding(): [number, boolean] {
    const first = this.byte();
    switch (first >> 6) {
      case 0:
        return [first & 0x3f, false];
      case 1:
        return [((first & 0x3f) << 8) | this.byte(), false];
      case 3:
        return [first & 0x3f, true];
    }
    let v = 0;
    for (let i = 0; i < (first === 0x80 ? 4 : 8); i++) v = v * 256 + this.byte();
    return [v, false];
  }

  length(): number {
    const [v, encoded] = this.lengthOrEncoding();
    if (encoded) throw new Error("length expected");
    return v;
  }

  string(): string {
    const [v, encoded] = this.lengthOrEncoding();
    if (!encoded) return this.take(v);
    if (v === 3) {
      const compressedLen = this.length();
      const originalLen = this.length();
      const out = new Uint8Array(originalLen);
      expect(lzfDecompress(this.buf, this.pos, compressedLen, out, 0, originalLen)).toBe(originalLen);
      this.pos += compressedLen;
      return Buffer.from(out).toString("latin1");
    }
    const width = 1 << v;
    let n = 0;
    for (let i = 0; i < width; i++) n += this.byte() * 2 ** (8 * i);
    if (n >= 2 ** (8 * width - 1)) n -= 2 ** (8 * width);
    return String(n);
  }

  private take(n: number): string {
    if (this.pos + n > this.buf.length) throw new Error("payload ends early");
    const s = Buffer.from(this.buf.subarray(this.pos, this.pos + n)).toString("latin1");
    this.pos += n;
    return s;
  }
}

/** A hashtable set or hash payload as its sorted members (or "field=value" pairs). */
function decodeValue(payload: Uint8Array): string[] {
  const reader = new PayloadReader(payload);
  const type = reader.byte();
  const count = reader.length();
  const members: string[] = [];
  for (let i = 0; i < count; i++) {
    if (type === RdbType.Set) members.push(reader.string());
    else if (type === RdbType.Hash) members.push(`${reader.string()}=${reader.string()}`);
    else throw new Error(`type ${type} has one order`);
  }
  expect(reader.pos).toBe(payload.length);
  return members.sort();
}

// ---------------------------------------------------------------------------------------
// Values

/** n bytes of text that LZF shrinks well. */
function compressible(n: number, seed = "the quick brown fox "): string {
  return seed.repeat(Math.ceil(n / seed.length)).slice(0, n);
}

/** n random bytes: LZF finds nothing to shrink. */
function noise(n: number, random: () => number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(Math.floor(random() * 256));
  return s;
}

/** Strings of every encoding RDB has and every edge between them. */
function stringValues(): string[] {
  const random = rng(7);
  return [
    "", "0", "1", "-1", "127", "128", "-128", "-129", "255", "256", "32767", "32768", "-32768", "-32769",
    "65535", "2147483647", "2147483648", "-2147483648", "-2147483649", "12345678901", "-1234567890",
    "9223372036854775807", "-9223372036854775808", "9223372036854775808", "007", "+5", "-0", " 1", "1.5",
    "1e3", "\x00", "\x00\xff\r\n", "a".repeat(20), "a".repeat(21), "a".repeat(22), "a".repeat(24),
    "a".repeat(25), compressible(21), compressible(44), compressible(45), compressible(63), compressible(64),
    noise(21, random), noise(63, random), noise(64, random), compressible(16383), compressible(16384),
    noise(16383, random), noise(16384, random), compressible(70000), noise(70000, random),
    compressible(200, "\x00\x01\x02\xfe\xff") + noise(30, random), "a".repeat(8300), "ab".repeat(5000),
  ];
}

/** Elements for lists, sets and hashes: integers of every width, text, binary. */
function elements(count: number, random: () => number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const kind = random();
    if (kind < 0.3) out.push(String(Math.floor((random() - 0.5) * 2 ** (1 + Math.floor(random() * 63)))));
    else if (kind < 0.6) out.push(compressible(1 + Math.floor(random() * 40), `item-${i % 7}-`));
    else if (kind < 0.9) out.push(noise(Math.floor(random() * 30), random));
    else out.push(compressible(30 + Math.floor(random() * 300)));
  }
  return out;
}

/**
 * An element whose node (a listpack of it alone) LZF shrinks by exactly `saved` bytes:
 * a run of repeated bytes among noise, searched over run lengths and noise seeds.
 */
function elementSavingExactly(saved: number): string {
  const out = new Uint8Array(256);
  for (let seed = 1; seed < 1000; seed++) {
    for (let run = 4; run < 40; run++) {
      const random = rng(seed);
      const element = noise(30, random) + "r".repeat(run) + noise(30, random);
      const e = bytes(element);
      const node = lpAppend(lpNew(), e, 0, e.length);
      const size = lpBytes(node, 0);
      const compressedLen = lzfCompress(node, 0, size, out, 0, size);
      if (compressedLen !== 0 && size - compressedLen === saved) return element;
    }
  }
  throw new Error(`no element found that saves ${saved} bytes`);
}

// ---------------------------------------------------------------------------------------
// Tests, with rdbcompression on and off

for (const compression of ["yes", "no"]) {
  describe(`rdbcompression ${compression}`, () => {
    beforeEach(async () => {
      await sameAll([
        ["FLUSHALL"],
        ["CONFIG", "SET", "rdbcompression", compression],
        ["CONFIG", "SET", "list-compress-depth", "0"],
        ["CONFIG", "SET", "list-max-listpack-size", "-2"],
        ["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0"],
      ]);
    });

    test("strings of every encoding", async () => {
      const values = stringValues();
      for (let i = 0; i < values.length; i++) {
        await same("SET", `s${i}`, values[i]!);
        await check(`s${i}`);
      }
    });

    test("strings that reach their encoding by editing", async () => {
      await sameAll([
        ["SET", "raw-int", "1"],
        ["APPEND", "raw-int", "23"],
        ["SET", "counter", "2147483646"],
        ["INCR", "counter"],
        ["INCR", "counter"],
        ["SET", "big", "9007199254740990"],
        ["INCRBY", "big", "100"],
        ["SET", "neg", "-2147483648"],
        ["DECR", "neg"],
        ["SET", "float", "1.5"],
        ["INCRBYFLOAT", "float", "2"],
        ["SETRANGE", "ranged", "30", "x"],
        ["SET", "grown", "aaaaaaaaaa"],
        ["APPEND", "grown", "aaaaaaaaaaaaaaaaaaaa"],
      ]);
      for (const key of ["raw-int", "counter", "big", "neg", "float", "ranged", "grown"]) await check(key);
    });

    test("lists of one node and of many", async () => {
      const random = rng(11);
      await same("RPUSH", "one", "a", "1", "-300", "70000", "x".repeat(100));
      await check("one");
      await same("RPUSH", "ints", ...Array.from({ length: 300 }, (_, i) => String(i * 37)));
      await check("ints");
      await same("RPUSH", "long", ...elements(3000, random));
      await check("long");
      await same("LPUSH", "pushed-left", ...elements(1500, random));
      await check("pushed-left");
      await same("CONFIG", "SET", "list-max-listpack-size", "5");
      await same("RPUSH", "counted", ...elements(60, random));
      await check("counted");
    });

    test("lists edited in the middle and at the ends", async () => {
      const random = rng(12);
      await same("RPUSH", "l", ...elements(2000, random));
      await sameAll([
        ["LINSERT", "l", "BEFORE", "0", "inserted"],
        ["LSET", "l", "700", compressible(500)],
        ["LTRIM", "l", "100", "-50"],
        ["LPOP", "l", "30"],
        ["RPOP", "l", "20"],
        ["LREM", "l", "0", "1"],
      ]);
      await check("l");
    });

    test("plain nodes after DEBUG QUICKLIST-PACKED-THRESHOLD", async () => {
      const random = rng(13);
      await same("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "100");
      const mixed = ["small", compressible(150), "7", noise(120, random), compressible(2000), "tail", noise(100, random)];
      await same("RPUSH", "plain", ...mixed);
      await same("LPUSH", "plain", compressible(300, "left "));
      await check("plain");
    });

    for (const depth of ["1", "2"]) {
      test(`nodes held compressed with list-compress-depth ${depth}`, async () => {
        const random = rng(14);
        await same("CONFIG", "SET", "list-compress-depth", depth);
        await same("RPUSH", "c", ...elements(4000, random));
        await check("c");
        // Lists of 1 .. 6 nodes: compression starts past 2 * depth nodes.
        await same("CONFIG", "SET", "list-max-listpack-size", "4");
        for (let nodes = 1; nodes <= 6; nodes++) {
          await same("RPUSH", `n${nodes}`, ...Array.from({ length: 4 * nodes }, () => compressible(20)));
          await check(`n${nodes}`);
        }
        // Nodes too small to compress, and nodes LZF cannot shrink by 8 bytes.
        await same("RPUSH", "small", ...Array.from({ length: 40 }, (_, i) => String(i)));
        await check("small");
        await same("RPUSH", "noisy", ...Array.from({ length: 40 }, () => noise(12, random)));
        await check("noisy");
        await same("CONFIG", "SET", "list-max-listpack-size", "-2");
        await same("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "100");
        await same("RPUSH", "plain", ...Array.from({ length: 12 }, (_, i) => (i % 3 === 0 ? noise(150, random) : compressible(150 + i))));
        await check("plain");
        await same("LPOP", "c", "700");
        await same("RPOP", "c", "900");
        await check("c");
      });
    }

    test("node compression at its thresholds: 48 bytes, and 8 bytes saved", async () => {
      // One element per node, each between two others, so every one but the ends is held
      // compressed if quicklist.c would compress it.
      await same("CONFIG", "SET", "list-compress-depth", "1");
      await same("CONFIG", "SET", "list-max-listpack-size", "1");
      const sizes = ["a".repeat(37), "a".repeat(38), "a".repeat(39), "a".repeat(40)];
      const savings = [7, 8, 9].map((saved) => elementSavingExactly(saved));
      await same("RPUSH", "edges", "head", ...sizes, ...savings, "tail");
      await check("edges");
    });

    test("intsets and hashtable sets", async () => {
      await same("SADD", "i16", "1", "-5", "300");
      await check("i16");
      await same("SADD", "i32", "1", "100000", "-100000");
      await check("i32");
      await same("SADD", "i64", "1", "9223372036854775807", "-9223372036854775808");
      await check("i64");
      await same("SADD", "seq", ...Array.from({ length: 500 }, (_, i) => String(i)));
      await check("seq");
      await same("SADD", "one-string", compressible(50));
      await check("one-string");
      await same("SADD", "strings", "a", "b", "1", "-200", "99999", compressible(40), noise(30, rng(15)), "");
      await check("strings", true);
      await same("SADD", "converted", ...Array.from({ length: 600 }, (_, i) => String(i * 1000)));
      await check("converted", true);
    });

    test("listpack and hashtable hashes", async () => {
      await same("HSET", "small", "f", "v", "n", "12", "big", "-70000", "empty", "");
      await check("small");
      await same("HSET", "long-values", "a", compressible(60), "b", compressible(64, "xyz"));
      await check("long-values");
      await same("HSET", "single", "field", compressible(100));
      await check("single");
      const random = rng(16);
      const pairs = elements(400, random).map((e, i) => [`field:${i}`, e]).flat();
      await same("HSET", "table", ...pairs);
      await check("table", true);
      await same("HSET", "wide", "k", compressible(80), "n", "42", "neg", "-9223372036854775808", compressible(30), noise(25, random));
      await check("wide", true);
    });

    test("listpack and skiplist sorted sets", async () => {
      const scores = ["0", "1", "-1", "1.5", "-2.25", "0.1", "3.141592653589793", "1e300", "-1e-300", "inf", "-inf", "+inf", "12345678901234567890"];
      const small = scores.flatMap((s, i) => [s, `m${i}`]);
      await same("ZADD", "small", ...small);
      await check("small");
      await same("ZADD", "ties", "1", "c", "1", "a", "1", "b", "2", compressible(40));
      await check("ties");
      const random = rng(17);
      const many: string[] = [];
      for (let i = 0; i < 300; i++) many.push(scores[i % scores.length]!, `member:${i}:${noise(3, random)}`);
      await same("ZADD", "skiplist", ...many);
      await check("skiplist");
      await same("ZADD", "long-member", "2.5", compressible(100), "-inf", "x", "inf", "y");
      await check("long-member");
      await same("ZINCRBY", "skiplist", "0.125", many[7]!);
      await same("ZREMRANGEBYRANK", "skiplist", "0", "9");
      await check("skiplist");
    });

    test("random values of every type", async () => {
      const seed = seedFromEnv();
      const random = rng(seed);
      try {
        for (let i = 0; i < 40; i++) {
          const key = `k${i}`;
          const n = 1 + Math.floor(random() * (random() < 0.3 ? 600 : 20));
          const items = elements(n, random);
          const kind = Math.floor(random() * 5);
          if (kind === 0) await same("SET", key, items.join(""));
          else if (kind === 1) await same("RPUSH", key, ...items);
          else if (kind === 2) await same("SADD", key, ...items);
          else if (kind === 3) await same("HSET", key, ...items.flatMap((e, j) => [`f${j}`, e]));
          else await same("ZADD", key, ...items.flatMap((e, j) => [String(Math.round((random() - 0.5) * 1e4) / 8), `${j}:${e}`]));
          const type = await same("OBJECT", "ENCODING", key);
          await check(key, type.includes("hashtable") && n > 1);
        }
      } catch (error) {
        console.error(`random values failed with SEED=${seed}`);
        throw error;
      }
    });
  });
}

// ---------------------------------------------------------------------------------------
// The encodings themselves, at the edges no value above reaches

describe("lengths and strings", () => {
  function written(fill: (sink: RdbSink) => void, compress = true): string {
    const sink = new RdbSink(compress, false, 1);
    fill(sink);
    const measured = new RdbSink(compress, true);
    fill(measured);
    expect(measured.length).toBe(sink.length);
    return hex(sink.written());
  }

  test("length prefixes of 6, 14, 32 and 64 bits", () => {
    expect(written((s) => saveLength(s, 0))).toBe("00");
    expect(written((s) => saveLength(s, 63))).toBe("3f");
    expect(written((s) => saveLength(s, 64))).toBe("4040");
    expect(written((s) => saveLength(s, 16383))).toBe("7fff");
    expect(written((s) => saveLength(s, 16384))).toBe("8000004000");
    expect(written((s) => saveLength(s, 2 ** 32 - 1))).toBe("80ffffffff");
    expect(written((s) => saveLength(s, 2 ** 32))).toBe("810000000100000000");
    expect(written((s) => saveLength(s, 2 ** 53 - 1))).toBe("81001fffffffffffff");
  });

  test("integer strings in 8, 16 and 32 bits, little-endian", () => {
    const str = (v: string) => written((s) => saveRawString(s, bytes(v), 0, v.length));
    expect(str("-1")).toBe("c0ff");
    expect(str("-32768")).toBe("c10080");
    expect(str("305419896")).toBe("c278563412");
    expect(str("-2147483648")).toBe("c200000080");
    expect(str("2147483648")).toBe("0a32313437343833363438");
  });
});
