// Bitmap commands against the real redis-server: SETBIT GETBIT BITCOUNT BITPOS BITOP
// BITFIELD BITFIELD_RO, every reply byte for byte (errors included) in RESP2 and RESP3,
// the encodings and digests of the values they leave, the changes they count
// (rdb_changes_since_last_save) and the commands they propagate (both servers' AOF), WATCH,
// the keyspace events they fire, and the in-place edits of store/string.ts and the bit
// helpers of util/bits.ts they rely on, checked directly.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { Oracle, RespConn } from "../oracle/harness.ts";
import { eventsUntilMarker, listenForEvents } from "../oracle/keyspace-events.ts";
import { aofFile, readCommands, startIn, tempDir } from "../persistence/aof-helpers.ts";
import { Clock, Db, KeyspaceStats } from "../../src/store/db.ts";
import { Enc, metaEnc } from "../../src/store/object.ts";
import { INLINE_MAX } from "../../src/store/keytable.ts";
import { editStringInPlace, locateString, setPlainString, setString, stringAt, stringBytes } from "../../src/store/string.ts";
import { findBit, popcount, popcountBits, readField, writeField } from "../../src/util/bits.ts";

type Cmd = string[];

let o: Oracle;
/** A RESP3 connection to each server. */
let r3: [RespConn, RespConn];
/** Where DEBUG RELOAD's dump.rdb goes: never the shared cwd, where it would load into later tests' servers. */
const dumpDir = tempDir("bitmap");

beforeAll(async () => {
  o = await Oracle.start(["--enable-debug-command", "yes", "--dir", dumpDir]);
  r3 = await o.connectResp3();
});
afterAll(async () => {
  await o.stop();
  rmSync(dumpDir, { recursive: true, force: true });
});
beforeEach(async () => {
  await o.same("FLUSHALL");
});

/** Send a command in RESP2 and in RESP3 (on the second pair) and require identical replies. */
async function same23(...args: string[]): Promise<string> {
  const reply = await o.same(...args);
  const [want, got] = await Promise.all([r3[0].call(...args), r3[1].call(...args)]);
  if (want !== got) throw new Error(`RESP3 reply differs for ${JSON.stringify(args)}\n  redis:  ${JSON.stringify(want)}\n  redbun: ${JSON.stringify(got)}`);
  return reply;
}

/** Values to run the read commands over: empty, short, inline-sized, large, binary, integers. */
const VALUES = [
  "", "a", "foobar", "\x00", "\xff", "\xff\xff\x00\xff", "\x00\x00\x01", "\xf0" + "\xff".repeat(30) + "\x0f",
  "x".repeat(44), "y".repeat(45), "\xaa".repeat(255), "\x55".repeat(256), "z".repeat(3000), "0", "1234", "-99",
  "9223372036854775807", "-9223372036854775808",
];

describe("SETBIT and GETBIT", () => {
  test("set and clear bits, growing the string with zeros, replies are the old bit", async () => {
    await o.sameAll([
      ["SETBIT", "k", "7", "1"], ["GET", "k"], ["SETBIT", "k", "7", "1"], ["SETBIT", "k", "7", "0"], ["GET", "k"],
      ["SETBIT", "k", "100", "1"], ["STRLEN", "k"], ["GET", "k"], ["SETBIT", "k", "0", "1"], ["GET", "k"],
      ["SETBIT", "k", "2047", "1"], ["STRLEN", "k"], ["SETBIT", "k", "2048", "1"], ["STRLEN", "k"],
      ["SETBIT", "k", "40000", "1"], ["STRLEN", "k"], ["GETBIT", "k", "40000"], ["GETBIT", "k", "40001"],
      ["GETBIT", "k", "2047"], ["GETBIT", "k", "100"], ["GETBIT", "k", "99"], ["GETBIT", "k", "4294967295"],
      ["SETBIT", "new", "0", "0"], ["EXISTS", "new"], ["GET", "new"],
      ["GETBIT", "missing", "5"], ["EXISTS", "missing"],
    ]);
    for (let bit = 0; bit < 40; bit += 3) await o.same("SETBIT", "walk", String(bit), String(bit % 2));
    for (let bit = 0; bit < 48; bit++) await o.same("GETBIT", "walk", String(bit));
    await o.same("GET", "walk");
  });

  test("every bit of every value reads as Redis reads it, int-encoded ones through their decimal text", async () => {
    for (const v of VALUES.slice(0, 12).concat(VALUES.slice(13))) {
      await o.same("SET", "v", v);
      const bits = Math.min(v.length * 8 + 9, 400);
      for (let bit = 0; bit < bits; bit++) await o.same("GETBIT", "v", String(bit));
      await o.same("OBJECT", "ENCODING", "v");
    }
  });

  test("argument errors come before the key's type, in Redis's order", async () => {
    await o.same("LPUSH", "list", "a");
    const offsets = ["-1", "x", "", " 1", "1 ", "+1", "-0", "01", "1.0", "4294967296", "9223372036854775807", "9223372036854775808", "#1"];
    for (const offset of offsets) {
      await same23("SETBIT", "k", offset, "1");
      await same23("GETBIT", "k", offset);
      await same23("SETBIT", "list", offset, "1");
      await same23("GETBIT", "list", offset);
    }
    for (const value of ["2", "-1", "x", "", "01", "1.0", " 1", "9223372036854775807", "-0"]) {
      await same23("SETBIT", "k", "1", value);
      await same23("SETBIT", "list", "1", value);
    }
    await o.sameAll([["SETBIT", "list", "1", "1"], ["GETBIT", "list", "1"], ["SETBIT", "k"], ["GETBIT", "k"], ["GETBIT", "k", "1", "2"], ["EXISTS", "k"]]);
  });

  test("offsets are limited by proto-max-bulk-len", async () => {
    try {
      await o.same("CONFIG", "SET", "proto-max-bulk-len", "1048576");
      await o.sameAll([
        ["SETBIT", "k", "8388608", "1"], ["GETBIT", "k", "8388608"], ["EXISTS", "k"],
        ["SETBIT", "k", "8388607", "1"], ["STRLEN", "k"], ["GETBIT", "k", "8388607"], ["BITCOUNT", "k"],
        ["BITFIELD", "k", "SET", "u8", "8388607", "255"], ["STRLEN", "k"], ["BITFIELD", "k", "GET", "u8", "8388608"],
        ["BITFIELD", "k", "GET", "u8", "#1048576"], ["BITFIELD", "k", "GET", "u8", "#1048575"],
      ]);
    } finally {
      await o.same("CONFIG", "SET", "proto-max-bulk-len", "536870912");
    }
  });

  test("SETBIT leaves a raw string, even when no bit changes; GETBIT keeps the encoding", async () => {
    for (const v of ["12", "abc", "x".repeat(44), "y".repeat(300)]) {
      await o.same("SET", "e", v);
      await o.same("GETBIT", "e", "3");
      await o.same("OBJECT", "ENCODING", "e");
      await o.same("SETBIT", "e", "1000", "0");
      await o.same("OBJECT", "ENCODING", "e");
      await o.same("GET", "e");
    }
    await o.sameAll([["SET", "n", "255"], ["SETBIT", "n", "0", "0"], ["OBJECT", "ENCODING", "n"], ["GET", "n"], ["INCR", "n"]]);
  });

  test("the values left behind digest as Redis's, in place edits and growth included", async () => {
    await o.sameAll([
      ["SET", "n", "123"], ["SETBIT", "n", "3", "1"], ["SETBIT", "grown", "3000", "1"], ["SET", "big", "q".repeat(500)],
      ["SETBIT", "big", "9", "0"], ["SETBIT", "big", "5000", "1"], ["BITFIELD", "f", "SET", "i64", "#40", "-5"],
      ["BITOP", "XOR", "x", "big", "grown", "n"], ["BITOP", "NOT", "small", "n"],
    ]);
    for (const key of ["n", "grown", "big", "f", "x", "small"]) await o.same("DEBUG", "DIGEST-VALUE", key);
    const digest = await o.same("DEBUG", "DIGEST");
    // Saved and loaded back, they are the same strings, with the encodings a load gives.
    await o.same("DEBUG", "RELOAD");
    expect(await o.same("DEBUG", "DIGEST")).toBe(digest);
    for (const key of ["n", "grown", "big", "f", "x", "small"]) await o.same("OBJECT", "ENCODING", key);
    await o.sameAll([["SETBIT", "small", "0", "1"], ["OBJECT", "ENCODING", "small"], ["SETBIT", "big", "0", "1"], ["GET", "big"]]);
  });

  test("TTLs survive SETBIT", async () => {
    await o.sameAll([["SET", "t", "ab", "EX", "1000"], ["SETBIT", "t", "100", "1"], ["TTL", "t"]]);
  });
});

describe("BITCOUNT", () => {
  test("whole strings and every small range, in bytes and in bits", async () => {
    for (const v of ["", "foobar", "\xff\x0f\xf0\x01", "\xaa".repeat(20), "1234"]) {
      await o.same("SET", "v", v);
      await o.same("BITCOUNT", "v");
      for (let start = -10; start <= 10; start++) {
        for (let end = -10; end <= 10; end++) {
          await o.same("BITCOUNT", "v", String(start), String(end));
          await o.same("BITCOUNT", "v", String(start * 3), String(end * 3), "BIT");
        }
      }
    }
  });

  test("large values and extreme ranges", async () => {
    await o.same("SET", "big", "\xf7".repeat(10_000) + "abc");
    for (const [s, e] of [["0", "-1"], ["5", "9999"], ["-9223372036854775808", "9223372036854775807"], ["9223372036854775807", "0"], ["100", "-100"]]) {
      await o.same("BITCOUNT", "big", s!, e!);
      await o.same("BITCOUNT", "big", s!, e!, "bit");
      await o.same("BITCOUNT", "big", s!, e!, "BYTE");
    }
    await o.same("BITCOUNT", "big");
  });

  test("errors, and the checks Redis makes before them", async () => {
    await o.sameAll([["SET", "s", "foobar"], ["LPUSH", "l", "x"]]);
    const shapes: Cmd[] = [
      ["1"], ["1", "2", "3"], ["a", "b"], ["1", "b"], ["1", "2", "bitx"], ["1", "2", "bit", "x"], ["-1", "-5", "bogus"],
      ["-1", "-5", "bit"], ["0", "-1", "BIT"], ["1.5", "2"], ["", "1"], ["1", "2", "bit\x00"], ["1", "2", "by"],
    ];
    for (const rest of shapes) {
      for (const key of ["s", "l", "missing"]) await same23("BITCOUNT", key, ...rest);
    }
  });
});

describe("BITPOS", () => {
  test("every small range, both bits, with and without an end, in bytes and in bits", async () => {
    for (const v of ["", "\x00", "\xff", "\xff\xf0\x00", "\x00\x0f\xff", "\xff".repeat(5), "\x00".repeat(5), "12"]) {
      await o.same("SET", "v", v);
      for (const bit of ["0", "1"]) {
        await o.same("BITPOS", "v", bit);
        for (let start = -8; start <= 8; start++) {
          await o.same("BITPOS", "v", bit, String(start));
          for (let end = -8; end <= 8; end++) {
            await o.same("BITPOS", "v", bit, String(start), String(end));
            await o.same("BITPOS", "v", bit, String(start * 3), String(end * 3), "BIT");
            await o.same("BITPOS", "v", bit, String(start), String(end), "byte");
          }
        }
      }
    }
  });

  test("bits found deep in large values", async () => {
    await o.same("SETBIT", "big", "80000", "1");
    await o.same("SETBIT", "ones", "80000", "1");
    await o.same("BITOP", "NOT", "ones", "ones");
    for (const key of ["big", "ones"]) {
      for (const bit of ["0", "1"]) {
        await o.same("BITPOS", key, bit);
        await o.same("BITPOS", key, bit, "100");
        await o.same("BITPOS", key, bit, "100", "-1");
        await o.same("BITPOS", key, bit, "79990", "80010", "BIT");
        await o.same("BITPOS", key, bit, "-9223372036854775808", "9223372036854775807", "BIT");
      }
    }
  });

  test("errors, and the missing key answered before the range is read", async () => {
    await o.sameAll([["SET", "s", "\x0f"], ["LPUSH", "l", "x"]]);
    const shapes: Cmd[] = [
      ["2"], ["-1"], ["x"], [""], ["1", "x"], ["1", "0", "x"], ["1", "0", "1", "bits"], ["1", "x", "1", "bit"], ["1", "0", "x", "bogus"],
      ["1", "0", "1", "bit", "extra"], ["0", "0", "1", "BIT"], ["0", "1", "2", "bit\x00x"], ["9223372036854775808"],
    ];
    for (const rest of shapes) {
      for (const key of ["s", "l", "missing"]) await same23("BITPOS", key, ...rest);
    }
  });
});

describe("BITOP", () => {
  test("AND OR XOR NOT over strings of different lengths, missing keys and integers", async () => {
    await o.sameAll([
      ["SET", "a", "foobar"], ["SET", "b", "abc"], ["SET", "n", "12345"], ["SET", "z", ""], ["SET", "big", "\xf0".repeat(300)],
    ]);
    const sources: Cmd[] = [["a"], ["a", "b"], ["b", "a"], ["a", "missing"], ["missing", "a"], ["a", "b", "n", "big"], ["n"], ["z"], ["z", "a"], ["big", "a"]];
    for (const op of ["AND", "or", "Xor"]) {
      for (const keys of sources) {
        await same23("BITOP", op, "dest", ...keys);
        await o.same("GET", "dest");
        await o.same("OBJECT", "ENCODING", "dest");
      }
    }
    for (const key of ["a", "b", "n", "z", "big", "missing"]) {
      await same23("BITOP", "NOT", "dest", key);
      await o.same("GET", "dest");
    }
    await o.sameAll([["BITOP", "NOT", "a", "a"], ["GET", "a"], ["BITOP", "AND", "a", "a", "b"], ["GET", "a"]]);
  });

  test("the destination is replaced whatever it held, its TTL dropped, or deleted for an empty result", async () => {
    await o.sameAll([
      ["SET", "s", "ab"], ["LPUSH", "dl", "x"], ["BITOP", "OR", "dl", "s"], ["TYPE", "dl"], ["GET", "dl"],
      ["SET", "dt", "x", "EX", "1000"], ["BITOP", "OR", "dt", "s"], ["TTL", "dt"],
      ["SET", "gone", "x"], ["BITOP", "AND", "gone", "nokey1", "nokey2"], ["EXISTS", "gone"],
      ["BITOP", "OR", "never", "nokey"], ["EXISTS", "never"], ["BITOP", "XOR", "ez", "z1", "z2"],
    ]);
  });

  test("errors", async () => {
    await o.sameAll([["SET", "s", "ab"], ["LPUSH", "l", "x"], ["SET", "dest", "keep"]]);
    const shapes: Cmd[] = [
      ["NAND", "dest", "s"], ["an", "dest", "s"], ["and\x00", "dest", "s"], ["NOT", "dest", "s", "s"], ["NOT", "dest", "l"],
      ["AND", "dest", "s", "l"], ["OR", "dest", "l", "missing"], ["XOR", "dest"], ["AND"],
    ];
    for (const rest of shapes) await same23("BITOP", ...rest);
    await o.same("GET", "dest");
  });
});

describe("BITFIELD and BITFIELD_RO", () => {
  test("GET of every width, signed and unsigned, at aligned and odd offsets", async () => {
    await o.same("SET", "f", "\x80\xff\x01\x7f\xaa\x55\x00\xfe\x12\x34\x56");
    for (const bits of [1, 2, 3, 7, 8, 9, 15, 16, 31, 32, 33, 52, 53, 54, 63, 64]) {
      for (const offset of [0, 1, 5, 8, 13, 40, 70, 90, 200]) {
        await o.same("BITFIELD", "f", "GET", `i${bits}`, String(offset));
        if (bits < 64) await o.same("BITFIELD_RO", "f", "GET", `u${bits}`, String(offset));
      }
    }
    await same23("BITFIELD", "f", "GET", "u8", "#3", "GET", "i4", "#5", "GET", "i64", "#1", "GET", "u1", "#87");
    await same23("BITFIELD_RO", "missing", "GET", "u8", "0", "GET", "i64", "1000");
    await o.sameAll([["SET", "n", "-12"], ["BITFIELD", "n", "GET", "u8", "0", "GET", "i16", "4"], ["OBJECT", "ENCODING", "n"]]);
    await o.sameAll([["BITFIELD", "f"], ["BITFIELD_RO", "f"], ["BITFIELD", "nokey"], ["EXISTS", "nokey"]]);
  });

  test("SET and INCRBY under WRAP, SAT and FAIL at the edges of each type", async () => {
    const types = ["u1", "u2", "u7", "u8", "u31", "u32", "u53", "u63", "i1", "i2", "i8", "i16", "i32", "i53", "i63", "i64"];
    const amounts = [
      "0", "1", "-1", "2", "-2", "127", "128", "-128", "-129", "255", "256", "65535", "4294967295", "4294967296",
      "281474976710655", "281474976710656", "281474976710657", "-281474976710657", "9007199254740993", "-9007199254740993", "9223372036854775807", "-9223372036854775808",
    ];
    for (const type of types) {
      for (const overflow of ["WRAP", "SAT", "FAIL"]) {
        await o.same("DEL", "f");
        for (const amount of amounts) {
          await same23("BITFIELD", "f", "OVERFLOW", overflow, "SET", type, "3", amount, "GET", type, "3");
          await same23("BITFIELD", "f", "OVERFLOW", overflow, "INCRBY", type, "3", amount, "INCRBY", type, "3", amount);
        }
        await o.same("GET", "f");
      }
    }
  });

  test("several operations in one call, the overflow mode applying to those after it", async () => {
    await same23(
      "BITFIELD", "f", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "INCRBY", "u2", "102", "5", "GET", "u4", "100",
      "OVERFLOW", "FAIL", "INCRBY", "u2", "102", "1", "overflow", "wrap", "INCRBY", "u2", "102", "1", "SET", "i5", "#2", "-3", "GET", "i5", "#2",
    );
    await o.same("GET", "f");
    await o.same("OBJECT", "ENCODING", "f");
    await o.sameAll([["SET", "n", "77"], ["BITFIELD", "n", "SET", "u8", "0", "51"], ["GET", "n"], ["OBJECT", "ENCODING", "n"]]);
  });

  test("errors, in the order Redis finds them", async () => {
    await o.sameAll([["SET", "s", "abc"], ["LPUSH", "l", "x"]]);
    const shapes: Cmd[] = [
      ["GET", "u8"], ["GET"], ["SET", "u8", "0"], ["INCRBY", "u8", "0"], ["BOGUS", "u8", "0"], ["OVERFLOW"], ["OVERFLOW", "bla"],
      ["GET", "u64", "0"], ["GET", "i65", "0"], ["GET", "i0", "0"], ["GET", "I8", "0"], ["GET", "U8", "0"], ["GET", "x8", "0"], ["GET", "", "0"],
      ["GET", "i", "0"], ["GET", "i08", "0"], ["GET", "i8\x00junk", "0"], ["GET", "u-1", "0"], ["GET", "i8", "-1"], ["GET", "i8", "x"],
      ["GET", "i8", "#"], ["GET", "i8", "#-1"], ["GET", "i8", "#x"], ["GET", "i8", "##1"], ["GET", "i8", "1.5"],
      ["GET", "i8", "#2305843009213693952"], ["GET", "i8", "#1152921504606846976"], ["GET", "i64", "#288230376151711744"],
      ["GET", "i3", "#3074457345618258603"], ["GET", "u8", "4294967296"],
      ["SET", "i8", "0", "x"], ["SET", "i8", "0", "1.5"], ["SET", "i8", "0", "9223372036854775808"], ["INCRBY", "i8", "0", ""],
      ["GET", "u8", "0", "SET", "u8", "0", "1", "GET", "q8", "0"], ["SET", "u8", "0", "1", "OVERFLOW", "nope"],
      ["get", "u8", "0", "set", "u8", "0"], ["GET\x00", "u8", "0"], ["GET", "u8", "0", "OVERFLOW", "sat"],
    ];
    for (const rest of shapes) {
      for (const key of ["s", "l", "missing"]) {
        await same23("BITFIELD", key, ...rest);
        await same23("BITFIELD_RO", key, ...rest);
      }
    }
    await o.sameAll([["GET", "s"], ["EXISTS", "missing"]]);
  });

  test("COMMAND GETKEYSANDFLAGS reads the key as only read when every operation is a GET", async () => {
    const shapes: Cmd[] = [
      ["GET", "u8", "0"], ["GET", "u8", "0", "SET", "u8", "0", "1"], ["OVERFLOW", "fail"], ["OVERFLOW", "fail", "GET", "u8", "0"],
      ["bogus"], ["GET", "u8"], ["INCRBY", "u8", "0", "1"], [],
    ];
    for (const rest of shapes) await same23("COMMAND", "GETKEYSANDFLAGS", "BITFIELD", "k", ...rest);
    await same23("COMMAND", "GETKEYSANDFLAGS", "BITFIELD_RO", "k", "GET", "u8", "0");
    await same23("COMMAND", "GETKEYSANDFLAGS", "BITOP", "AND", "d", "a", "b");
  });
});

// ---------------------------------------------------------------------------------------
// Changes counted and events fired
// ---------------------------------------------------------------------------------------

/** rdb_changes_since_last_save of a connection's server. */
async function changes(conn: RespConn): Promise<number> {
  const info = await conn.call("INFO", "persistence");
  return Number(/rdb_changes_since_last_save:(\d+)/.exec(info)![1]);
}

/** Bitmap commands that change a key, change it again to the same, or change nothing. */
const DIRTY_STEPS: Cmd[] = [
  ["SETBIT", "k", "3", "0"], ["SETBIT", "k", "3", "0"], ["SETBIT", "k", "3", "1"], ["SETBIT", "k", "3", "1"], ["SETBIT", "k", "100", "0"],
  ["SET", "s", "abc"], ["SETBIT", "s", "1", "1"], ["SETBIT", "s", "1", "0"],
  ["BITFIELD", "x", "SET", "u8", "0", "0"], ["BITFIELD", "x", "SET", "u8", "0", "0"], ["BITFIELD", "x", "SET", "u8", "8", "0", "SET", "u8", "0", "0"],
  ["BITFIELD", "x", "SET", "u8", "0", "1", "SET", "u8", "0", "1", "INCRBY", "u8", "0", "0", "INCRBY", "u8", "0", "1"],
  ["BITFIELD", "x", "OVERFLOW", "FAIL", "SET", "u8", "100", "300"], ["BITFIELD", "y", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "100"],
  ["BITFIELD", "x", "GET", "u8", "0"], ["BITFIELD_RO", "x", "GET", "u8", "0"], ["BITFIELD", "x", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "1000"],
  ["BITFIELD", "x", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "1000"],
  ["BITOP", "AND", "d", "nokey1", "nokey2"], ["SET", "d", "x"], ["BITOP", "OR", "d", "nokey"], ["BITOP", "OR", "d", "k"], ["BITOP", "OR", "d", "k"],
  ["GETBIT", "k", "3"], ["BITCOUNT", "k"], ["BITPOS", "k", "1"],
];

describe("changes counted (what decides propagation)", () => {
  test("each command adds to the dirty count as Redis does", async () => {
    for (const step of DIRTY_STEPS) {
      const before = await Promise.all([changes(o.r), changes(o.b)]);
      await o.same(...step);
      const after = await Promise.all([changes(o.r), changes(o.b)]);
      expect({ step, delta: after[1] - before[1] }).toEqual({ step, delta: after[0] - before[0] });
    }
  });
});

describe("propagation", () => {
  test("the AOF gets the commands Redis propagates, and nothing for the ones that changed nothing", async () => {
    const dirs = [tempDir("bitmap-aof-redis"), tempDir("bitmap-aof-redbun")] as const;
    const servers = await Promise.all([startIn("redis", dirs[0]), startIn("redbun", dirs[1])]);
    const conns = await Promise.all(servers.map((server) => RespConn.connect(server.port)));
    try {
      for (const step of DIRTY_STEPS) {
        const [want, got] = await Promise.all(conns.map((conn) => conn.call(...step)));
        expect(got).toBe(want!);
      }
      const [want, got] = dirs.map((dir) => readCommands(aofFile(dir, ".1.incr.aof")));
      expect(got).toEqual(want!);
    } finally {
      for (const conn of conns) conn.close();
      await Promise.all(servers.map((server) => server.stop()));
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("WATCH", () => {
  test("a transaction fails only when a bitmap command really changed the watched key", async () => {
    const other = await o.connectBoth();
    try {
      const writes: Cmd[] = [
        ["SETBIT", "w", "3", "1"], ["SETBIT", "w", "3", "1"], ["SETBIT", "w", "100", "0"], ["GETBIT", "w", "3"],
        ["BITFIELD", "w", "SET", "u8", "0", "16"], ["BITFIELD", "w", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1000"],
        ["BITFIELD", "w", "GET", "u8", "0"], ["BITOP", "OR", "w", "w"], ["BITOP", "AND", "w", "missing"], ["BITOP", "AND", "w", "missing"],
      ];
      await o.same("SET", "w", "\x10");
      for (const write of writes) {
        await o.same("WATCH", "w");
        const [want, got] = await Promise.all([other[0].call(...write), other[1].call(...write)]);
        expect(got).toBe(want);
        await o.same("MULTI");
        await o.same("PING");
        await o.same("EXEC");
      }
    } finally {
      for (const conn of other) conn.close();
    }
  });
});

describe("keyspace events", () => {
  const MARKER = "bitmap-test-marker";

  test("setbit, bitfield's setbit, bitop's set and del, and nothing for no-ops", async () => {
    const subs = await o.connectBoth();
    try {
      await listenForEvents(subs, MARKER);
      await o.same("CONFIG", "SET", "notify-keyspace-events", "KEA");
      const steps: Cmd[] = [
        ["SETBIT", "k", "3", "1"], ["SETBIT", "k", "3", "1"], ["SETBIT", "k", "30", "0"], ["SETBIT", "k", "3", "0"],
        ["BITFIELD", "f", "SET", "u8", "0", "1", "GET", "u8", "0"], ["BITFIELD", "f", "SET", "u8", "0", "1"], ["BITFIELD", "f", "GET", "u8", "0"],
        ["BITFIELD", "g", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "9"], ["BITFIELD_RO", "f", "GET", "u8", "0"],
        ["BITOP", "OR", "d", "k", "f"], ["BITOP", "AND", "d", "k", "nokey"], ["BITOP", "AND", "d", "k", "nokey"],
        ["GETBIT", "k", "3"], ["BITCOUNT", "k"], ["BITPOS", "k", "1"], ["SETBIT", "k", "x", "1"],
      ];
      for (const step of steps) {
        await o.same(...step);
        await o.same("PUBLISH", MARKER, "end");
        const [want, got] = await Promise.all(subs.map((sub) => eventsUntilMarker(sub, MARKER)));
        expect({ step, events: got }).toEqual({ step, events: want! });
      }
    } finally {
      await o.same("CONFIG", "SET", "notify-keyspace-events", "");
      for (const sub of subs) sub.close();
    }
  });
});

// ---------------------------------------------------------------------------------------
// The helpers underneath, directly
// ---------------------------------------------------------------------------------------

function newDb(): Db {
  return new Db(0, new KeyspaceStats(), new Clock());
}

/** The bit at index i, counted from the most significant bit of byte 0, the slow way. */
const slowBit = (bytes: Uint8Array, i: number): number => (bytes[i >> 3]! >> (7 - (i & 7))) & 1;

describe("in-place editing (store/string.ts)", () => {
  test("editStringInPlace makes the value raw, zero-fills growth, and edits without moving once raw", () => {
    const db = newDb();
    const id = db.insert("k");
    setString(db, id, new TextEncoder().encode("123"), 0, 3);
    expect(editStringInPlace(db, id, 2)).toBe(false);
    expect(metaEnc(db.table.getMeta(id))).toBe(Enc.Raw);
    expect(new TextDecoder().decode(stringBytes(db, id))).toBe("123");
    for (const size of [10, INLINE_MAX, INLINE_MAX + 1, 5000, 100_000]) {
      stringAt.buf[stringAt.base] = 0x41;
      expect(editStringInPlace(db, id, size)).toBe(true);
      expect(stringAt.len).toBe(size);
      const bytes = stringBytes(db, id);
      expect(bytes[0]).toBe(0x41);
      expect(bytes.subarray(3).every((b) => b === 0)).toBe(true);
      // Writing through the view changes the stored value itself.
      stringAt.buf[stringAt.base + size - 1] = 7;
      expect(stringBytes(db, id)[size - 1]).toBe(7);
      const { buf, base } = stringAt;
      expect(editStringInPlace(db, id, size)).toBe(false);
      expect(stringAt.buf).toBe(buf);
      expect(stringAt.base).toBe(base);
      stringAt.buf[stringAt.base + size - 1] = 0;
    }
  });

  test("a large embstr-sized or raw value given by SET is copied once before it is edited", () => {
    const db = newDb();
    const id = db.insert("k");
    const source = new Uint8Array(1000).fill(3);
    setPlainString(db, id, source, 0, source.length);
    editStringInPlace(db, id, 10);
    stringAt.buf[stringAt.base] = 9;
    expect(source[0]).toBe(3);
    expect(stringBytes(db, id)[0]).toBe(9);
  });

  test("locateString reads int-encoded values as their decimal text", () => {
    const db = newDb();
    const id = db.insert("k");
    for (const text of ["0", "-42", "9007199254740993", "-9223372036854775808"]) {
      setString(db, id, new TextEncoder().encode(text), 0, text.length);
      expect(metaEnc(db.table.getMeta(id))).toBe(Enc.Int);
      locateString(db, id);
      expect(new TextDecoder().decode(stringAt.buf.subarray(stringAt.base, stringAt.base + stringAt.len))).toBe(text);
    }
  });
});

describe("bit helpers (util/bits.ts)", () => {
  const random = (n: number, seed: number): Uint8Array => {
    const out = new Uint8Array(n);
    let x = seed;
    for (let i = 0; i < n; i++) out[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    return out;
  };

  test("popcount, popcountBits and findBit agree with bit-by-bit counting", () => {
    for (const [n, seed] of [[0, 1], [1, 2], [5, 3], [17, 4], [64, 5]] as const) {
      const bytes = random(n, seed);
      const all = Array.from({ length: n * 8 }, (_, i) => slowBit(bytes, i));
      expect(popcount(bytes, 0, n)).toBe(all.reduce((a, b) => a + b, 0));
      for (let first = 0; first < n * 8; first += 3) {
        for (let last = first; last < n * 8; last += 5) {
          const slice = all.slice(first, last + 1);
          expect(popcountBits(bytes, 0, first, last)).toBe(slice.reduce((a, b) => a + b, 0));
          for (const bit of [0, 1]) {
            const index = slice.indexOf(bit);
            expect(findBit(bytes, 0, first, last, bit)).toBe(index < 0 ? -1 : first + index);
          }
        }
      }
    }
    expect(findBit(new Uint8Array(8).fill(0xff), 0, 0, 63, 0)).toBe(-1);
  });

  test("long ranges, read a word at a time, at every alignment within a shared buffer", () => {
    const backing = random(1000, 11);
    for (const viewStart of [0, 1, 2, 3, 5]) {
      const view = backing.subarray(viewStart, viewStart + 900);
      for (const [start, len] of [[0, 64], [1, 65], [3, 200], [7, 893], [100, 64], [2, 67]] as const) {
        let slow = 0;
        for (let i = start * 8; i < (start + len) * 8; i++) slow += slowBit(view, i);
        expect(popcount(view, start, len)).toBe(slow);
      }
    }
    // A run of zeros (or ones) then the bit sought, found wherever it lies.
    for (const bit of [0, 1]) {
      const run = new Uint8Array(700).fill(bit === 1 ? 0 : 0xff);
      for (const at of [0, 9, 64, 255, 256, 257, 1000, 3333, 5599]) {
        const bytes = run.slice();
        bytes[at >> 3] = bytes[at >> 3]! ^ (0x80 >> (at & 7));
        const view = new Uint8Array(bytes.buffer, 0, bytes.length);
        expect(findBit(view, 0, 0, bytes.length * 8 - 1, bit)).toBe(at);
        expect(findBit(view.subarray(1), 0, 0, (bytes.length - 1) * 8 - 1, bit)).toBe(at >= 8 ? at - 8 : -1);
        expect(findBit(view, 0, 17, 5000, bit)).toBe(at >= 17 && at <= 5000 ? at : -1);
      }
    }
  });

  test("writeField then readField returns the field, leaving the other bits alone", () => {
    const bytes = random(20, 9);
    for (const bits of [1, 5, 8, 13, 32, 33, 63, 64]) {
      for (const offset of [0, 3, 8, 17, 60]) {
        const before = bytes.slice();
        const value = BigInt.asUintN(bits, 0x9e3779b97f4a7c15n * BigInt(offset + bits));
        // Fields of up to 32 bits are also written from numbers, negative ones as two's complement.
        writeField(bytes, 0, offset, bits, bits <= 32 ? Number(BigInt.asIntN(bits, value)) : value);
        expect(BigInt(readField(bytes, 0, bytes.length, offset, bits))).toBe(value);
        for (let i = 0; i < bytes.length * 8; i++) {
          if (i < offset || i >= offset + bits) expect(slowBit(bytes, i)).toBe(slowBit(before, i));
        }
      }
    }
    // Past the end reads as zeros.
    expect(readField(new Uint8Array([0xff]), 0, 1, 4, 8)).toBe(0xf0);
  });
});
