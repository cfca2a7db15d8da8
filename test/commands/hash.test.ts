// Hash commands against the real redis-server: every command, option and error, in RESP2
// and RESP3, with OBJECT ENCODING and DEBUG DIGEST-VALUE compared after every step.
//
// The shared suite runs once per way a hash can be encoded: listpack, and hashtable
// reached by too many fields, by a long value and by CONFIG SET hash-max-listpack-entries.
// A listpack keeps insertion order, so its replies must match Redis's byte for byte; a
// hashtable's order is its own, so HKEYS, HVALS, HGETALL and HSCAN replies of a hashtable
// are compared as sorted multisets and HRANDFIELD by the rules it promises (how many,
// members of the hash, distinct or not).

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { Oracle, type RespConn } from "../oracle/harness.ts";
import { type Reply, canonical, decodeReply, replyPairs, scanPairs } from "../oracle/resp.ts";

let o: Oracle;
/** A RESP3 connection to each server. */
let r3: [RespConn, RespConn];

beforeAll(async () => {
  o = await Oracle.start(["--enable-debug-command", "yes"]);
  r3 = await o.connectResp3();
});
afterAll(() => o.stop());
beforeEach(async () => {
  await o.same("FLUSHALL");
  await o.same("CONFIG", "SET", "hash-max-listpack-entries", "512", "hash-max-listpack-value", "64");
});

// ---------------------------------------------------------------------------------------
// Replies
// ---------------------------------------------------------------------------------------

const ORDERLESS = new Set(["hkeys", "hvals", "hgetall"]);

/**
 * Redis's and redbun's replies to a command on `key` (whose encoding on Redis was `enc`)
 * agree: byte for byte, or for a hashtable's whole-hash reads as the same multiset
 * behind the same aggregate header.
 */
function expectSameReply(command: string, enc: string, want: string, got: string): void {
  if (want === got) return;
  if (!ORDERLESS.has(command) || enc !== "hashtable" || want.startsWith("-")) {
    throw new Error(`reply differs for ${command}\n  redis:  ${JSON.stringify(want)}\n  redbun: ${JSON.stringify(got)}`);
  }
  expect(got.slice(0, got.indexOf("\r\n"))).toBe(want.slice(0, want.indexOf("\r\n")));
  const [w, g] = [decodeReply(want), decodeReply(got)];
  if (command === "hgetall") expect(canonical(replyPairs(g))).toEqual(canonical(replyPairs(w)));
  else expect(canonical(g as string[])).toEqual(canonical(w as string[]));
}

/**
 * Runs a command on both servers (RESP2, or RESP3 with `resp3`) and compares the replies,
 * then the key's encoding and digest. Returns Redis's reply.
 */
async function check(args: string[], resp3 = false): Promise<string> {
  const key = args[1] ?? "";
  const enc = await o.encodingOf(key);
  const [want, got] = resp3 ? await Promise.all([r3[0].call(...args), r3[1].call(...args)]) : await o.both(...args);
  expectSameReply(args[0]!.toLowerCase(), enc, want, got);
  await o.same("OBJECT", "ENCODING", key);
  await o.same("DEBUG", "DIGEST-VALUE", key);
  return want;
}

async function checkAll(commands: string[][], resp3 = false): Promise<void> {
  for (const c of commands) await check(c, resp3);
}

/** The hash's contents on Redis, field -> value. */
async function contentsOf(key: string): Promise<Map<string, string>> {
  return new Map(replyPairs(decodeReply(await o.r.call("HGETALL", key))));
}

// ---------------------------------------------------------------------------------------
// Encodings
// ---------------------------------------------------------------------------------------

interface Mode {
  name: string;
  encoding: "listpack" | "hashtable";
  /** Runs before each test, after the defaults are restored. */
  setup(): Promise<void>;
  /** Creates the hash at key with these field, value pairs (flat), in this mode's encoding. */
  make(key: string, pairs: string[]): Promise<void>;
}

/** Fields that force a conversion and are deleted after, so that only `pairs` remain. */
const FILLER_FIELDS = Array.from({ length: 513 }, (_, i) => `\x01filler${i}`);

const MODES: Mode[] = [
  {
    name: "listpack",
    encoding: "listpack",
    setup: async () => {},
    make: async (key, pairs) => void (await check(["HSET", key, ...pairs])),
  },
  {
    name: "hashtable by more than hash-max-listpack-entries fields",
    encoding: "hashtable",
    setup: async () => {},
    make: async (key, pairs) => {
      await check(["HSET", key, ...pairs, ...FILLER_FIELDS.flatMap((f) => [f, "x"])]);
      await check(["HDEL", key, ...FILLER_FIELDS]);
    },
  },
  {
    name: "hashtable by a value longer than hash-max-listpack-value",
    encoding: "hashtable",
    setup: async () => {},
    make: async (key, pairs) => {
      await check(["HSET", key, ...pairs, "\x01long", "x".repeat(65)]);
      await check(["HDEL", key, "\x01long"]);
    },
  },
  {
    name: "hashtable by CONFIG SET hash-max-listpack-entries 0",
    encoding: "hashtable",
    setup: async () => void (await o.same("CONFIG", "SET", "hash-max-listpack-entries", "0")),
    make: async (key, pairs) => void (await check(["HSET", key, ...pairs])),
  },
];

/** Fields and values of every kind a listpack stores differently, binary ones included. */
const PAIRS = [
  "name", "redbun",
  "", "empty field",
  "empty value", "",
  "\x00", "\xff\x00\r\n",
  "1", "2",
  "-1", "-4096",
  "4095", "32767",
  "9223372036854775807", "-9223372036854775808",
  "01", " 1",
  "1.5", "12345678901234567890",
  "x".repeat(64), "y".repeat(64),
];
const PAIR_FIELDS = PAIRS.filter((_, i) => i % 2 === 0);

describe.each(MODES)("$name", (mode) => {
  beforeEach(() => mode.setup());

  test("the hash has the mode's encoding", async () => {
    await mode.make("h", PAIRS);
    expect(await o.encodingOf("h")).toBe(mode.encoding);
  });

  test("HGET, HMGET, HEXISTS, HSTRLEN and HLEN over text, binary and integer-like fields", async () => {
    await mode.make("h", PAIRS);
    for (const field of [...PAIR_FIELDS, "missing", "+1", "1 ", "-0", "9223372036854775808"]) {
      await checkAll([["HGET", "h", field], ["HEXISTS", "h", field], ["HSTRLEN", "h", field]]);
      await check(["HGET", "h", field], true);
    }
    await checkAll([["HLEN", "h"], ["HMGET", "h", ...PAIR_FIELDS, "missing"], ["HMGET", "h", "missing"]]);
    await check(["HMGET", "h", "1", "missing"], true);
  });

  test("HSET, HMSET and HSETNX add and update fields", async () => {
    await mode.make("h", PAIRS);
    await checkAll([
      ["HSET", "h", "name", "changed"], ["HSET", "h", "new", "1", "name", "again", "new2", "2"], ["HGET", "h", "name"],
      ["HSET", "h", "1", "one", "1", "uno"], ["HGET", "h", "1"], ["HSET", "h", "-1", "-1"], ["HGET", "h", "-1"],
      ["HMSET", "h", "m1", "v1", "m2", "v2"], ["HMGET", "h", "m1", "m2"], ["HSETNX", "h", "name", "no"],
      ["HSETNX", "h", "fresh", "yes"], ["HGET", "h", "fresh"], ["HSETNX", "h", "", "x"], ["HLEN", "h"],
      ["HSET", "h", "\x00", "\x00"], ["HGET", "h", "\x00"], ["HSTRLEN", "h", "\x00"],
    ]);
  });

  test("HKEYS, HVALS and HGETALL in RESP2 and RESP3", async () => {
    await mode.make("h", PAIRS);
    for (const resp3 of [false, true]) {
      await checkAll([["HKEYS", "h"], ["HVALS", "h"], ["HGETALL", "h"], ["HGETALL", "missing"], ["HKEYS", "missing"]], resp3);
    }
    await checkAll([["HSET", "h", "later", "v"], ["HDEL", "h", "name"], ["HKEYS", "h"], ["HVALS", "h"], ["HGETALL", "h"]]);
  });

  test("HDEL counts what it removed and the last field takes the key", async () => {
    await mode.make("h", PAIRS);
    await checkAll([
      ["HDEL", "h", "missing"], ["HDEL", "h", "name", "name", "missing", "1"], ["HLEN", "h"],
      ["HDEL", "h", "\x00", "9223372036854775807"], ["HGET", "h", "\x00"], ["HDEL", "missing", "f"],
      ["HDEL", "h", ...PAIR_FIELDS], ["EXISTS", "h"], ["HLEN", "h"], ["TYPE", "h"],
    ]);
  });

  test("HINCRBY on integers, text and missing fields", async () => {
    await mode.make("h", [...PAIRS, "small", "10", "text", "abc", "big", "9223372036854775806", "neg", "-9223372036854775807"]);
    await checkAll([
      ["HINCRBY", "h", "small", "5"], ["HINCRBY", "h", "small", "-100"], ["HGET", "h", "small"],
      ["HINCRBY", "h", "new", "7"], ["HINCRBY", "h", "new", "9007199254740993"], ["HGET", "h", "new"],
      ["HINCRBY", "h", "big", "1"], ["HINCRBY", "h", "big", "1"], ["HGET", "h", "big"],
      ["HINCRBY", "h", "neg", "-1"], ["HINCRBY", "h", "neg", "-1"], ["HINCRBY", "h", "neg", "0"],
      ["HINCRBY", "h", "text", "1"], ["HINCRBY", "h", "01", "1"], ["HINCRBY", "h", "1.5", "1"],
      ["HINCRBY", "h", "small", "x"], ["HINCRBY", "h", "small", "1.0"], ["HINCRBY", "h", "small", ""],
      ["HINCRBY", "h", "small", "9223372036854775808"], ["HINCRBY", "h", "small", "-9223372036854775808"],
      ["HINCRBY", "h", "", "3"], ["HINCRBY", "h", "\x00", "1"], ["HINCRBY", "newkey", "f", "-3"],
    ]);
  });

  test("HINCRBYFLOAT formats long doubles as Redis does", async () => {
    await mode.make("h", [...PAIRS, "f", "10.5", "int", "3", "text", "abc", "space", " 1", "hex", "0x10", "inf", "inf"]);
    await checkAll([
      ["HINCRBYFLOAT", "h", "f", "0.1"], ["HINCRBYFLOAT", "h", "f", "-5.6"], ["HINCRBYFLOAT", "h", "int", "1.5"],
      ["HINCRBYFLOAT", "h", "int", "2.5"], ["HINCRBYFLOAT", "h", "new", "1e-17"], ["HINCRBYFLOAT", "h", "new", "3e2"],
      ["HINCRBYFLOAT", "h", "hex", "1"], ["HINCRBYFLOAT", "h", "f", "0x1p-2"], ["HGET", "h", "f"],
      ["HINCRBYFLOAT", "h", "text", "1"], ["HINCRBYFLOAT", "h", "space", "1"], ["HINCRBYFLOAT", "h", "inf", "1"],
      ["HINCRBYFLOAT", "h", "f", "x"], ["HINCRBYFLOAT", "h", "f", "inf"], ["HINCRBYFLOAT", "h", "f", "-inf"],
      ["HINCRBYFLOAT", "h", "f", "nan"], ["HINCRBYFLOAT", "h", "f", "1e5000"], ["HINCRBYFLOAT", "h", "f", ""],
      ["HINCRBYFLOAT", "h", "9223372036854775807", "1"], ["HINCRBYFLOAT", "h", "-1", "-0.5"],
      ["HINCRBYFLOAT", "newkey", "f", "2.5"], ["HINCRBYFLOAT", "newkey2", "f", "inf"], ["EXISTS", "newkey2"],
    ]);
  });

  test("HRANDFIELD returns what it promises", async () => {
    await mode.make("h", PAIRS);
    const counts = ["1", "2", "5", "10", "11", "12", "100", "0", "-1", "-5", "-11", "-30"];
    for (const resp3 of [false, true]) {
      await checkRandom(["HRANDFIELD", "h"], resp3, mode.encoding);
      await checkRandom(["HRANDFIELD", "missing"], resp3, mode.encoding);
      for (const count of counts) {
        await checkRandom(["HRANDFIELD", "h", count], resp3, mode.encoding);
        await checkRandom(["HRANDFIELD", "h", count, "WITHVALUES"], resp3, mode.encoding);
        await checkRandom(["HRANDFIELD", "missing", count, "withvalues"], resp3, mode.encoding);
      }
    }
  });

  test("HRANDFIELD reaches every field", async () => {
    await mode.make("h", PAIRS);
    const size = PAIR_FIELDS.length;
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) for (const f of decodeReply(await o.b.call("HRANDFIELD", "h", "3")) as string[]) seen.add(f);
    expect(seen.size).toBe(size);
    seen.clear();
    for (const f of decodeReply(await o.b.call("HRANDFIELD", "h", "-400")) as string[]) seen.add(f);
    expect(seen.size).toBe(size);
    seen.clear();
    for (let i = 0; i < 200; i++) seen.add(decodeReply(await o.b.call("HRANDFIELD", "h")) as string);
    expect(seen.size).toBe(size);
  });

  test("HSCAN with MATCH and COUNT", async () => {
    await mode.make("h", PAIRS);
    const options = [[], ["COUNT", "1"], ["COUNT", "2"], ["COUNT", "100"], ["MATCH", "*"], ["MATCH", "1*"],
      ["MATCH", "*\x00*"], ["match", "x*", "count", "3"], ["MATCH", "[0-9]"], ["MATCH", "nomatch"], ["COUNT", "4611686018427387904"]];
    for (const resp3 of [false, true]) {
      for (const opts of options) await checkScan(["HSCAN", "h", "0", ...opts], resp3, mode.encoding);
      await checkScan(["HSCAN", "missing", "0"], resp3, mode.encoding);
    }
  });

  test("COPY, RENAME and MOVE keep the hash and its encoding; DEBUG DIGEST agrees", async () => {
    await mode.make("h", PAIRS);
    await checkAll([
      ["COPY", "h", "copy"], ["HSET", "h", "name", "changed", "added", "1"], ["HDEL", "h", "1"], ["HGETALL", "copy"],
      ["HGET", "copy", "name"], ["HLEN", "copy"], ["RENAME", "copy", "renamed"], ["HGETALL", "renamed"],
      ["MOVE", "renamed", "1"], ["EXISTS", "renamed"], ["HINCRBY", "h", "small", "1"],
    ]);
    await o.same("SELECT", "1");
    await checkAll([["HGETALL", "renamed"], ["HSET", "renamed", "in db1", "v"]]);
    await o.same("SELECT", "0");
    await o.same("DEBUG", "DIGEST");
  });
});

/** Runs HSCAN on both; a hashtable's whole iteration is compared as a set of pairs. */
async function checkScan(args: string[], resp3: boolean, modeEncoding: string): Promise<void> {
  const key = args[1]!;
  const enc = await o.encodingOf(key);
  if (enc !== "hashtable") {
    await check(args, resp3);
    return;
  }
  expect(enc).toBe(modeEncoding);
  const [r, b] = resp3 ? r3 : [o.r, o.b];
  const [want, got] = await Promise.all([scanPairs(r, args), scanPairs(b, args)]);
  expect(canonical(got)).toEqual(canonical(want));
}

/**
 * Runs HRANDFIELD on both servers and checks each reply against the hash: the count of
 * fields, that they are its members with their values, distinct for a positive count and,
 * in a listpack, in the hash's order. Errors and replies with nothing random in them (the
 * whole listpack, an empty reply) must match Redis byte for byte.
 */
async function checkRandom(args: string[], resp3: boolean, modeEncoding: string): Promise<void> {
  const key = args[1]!;
  const contents = await contentsOf(key);
  const enc = await o.encodingOf(key);
  expect(enc === "none" || enc === modeEncoding).toBe(true);
  const [want, got] = resp3 ? await Promise.all([r3[0].call(...args), r3[1].call(...args)]) : await o.both(...args);
  const count = args.length > 2 ? Number(args[2]) : null;
  const whole = count !== null && (count === 0 || count >= contents.size);
  if (want.startsWith("-") || got.startsWith("-") || (whole && enc !== "hashtable")) {
    expect(got).toBe(want);
    return;
  }
  for (const reply of [want, got]) expectRandomReply(decodeReply(reply), count, args.length === 4, resp3, contents, enc);
}

function expectRandomReply(
  reply: Reply,
  count: number | null,
  withValues: boolean,
  resp3: boolean,
  contents: Map<string, string>,
  enc: string,
): void {
  if (count === null) {
    if (contents.size === 0) expect(reply).toBeNull();
    else expect(contents.has(reply as string)).toBe(true);
    return;
  }
  const items = reply as Reply[];
  const size = contents.size;
  const n = size === 0 ? 0 : count >= 0 ? Math.min(count, size) : -count;
  let pairs: [string, string | null][];
  if (!withValues) {
    pairs = (items as string[]).map((f) => [f, null]);
  } else if (resp3) {
    pairs = items.map((pair) => pair as [string, string]);
    for (const pair of pairs) expect(pair.length).toBe(2);
  } else {
    pairs = replyPairs(items);
    expect(items.length).toBe(2 * pairs.length);
  }
  expect(pairs.length).toBe(n);
  for (const [field, value] of pairs) {
    expect(contents.has(field)).toBe(true);
    if (value !== null) expect(value).toBe(contents.get(field)!);
  }
  if (count < 0) return;
  expect(new Set(pairs.map(([f]) => f)).size).toBe(n);
  // Redis samples a listpack for a few fields in one pass, so they come in the hash's order.
  if (enc === "listpack" && count * 3 <= size) {
    const order = [...contents.keys()];
    const positions = pairs.map(([f]) => order.indexOf(f));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
  }
}

// ---------------------------------------------------------------------------------------
// Conversions
// ---------------------------------------------------------------------------------------

describe("conversion to hashtable happens exactly where Redis's does", () => {
  test("at hash-max-listpack-entries + 1 fields, one field at a time and many at once", async () => {
    await o.same("CONFIG", "SET", "hash-max-listpack-entries", "8");
    for (let i = 0; i < 10; i++) await check(["HSET", "one", `f${i}`, `${i}`]);
    const pairs = Array.from({ length: 9 }, (_, i) => [`f${i}`, "v"]).flat();
    await check(["HSET", "many", ...pairs.slice(0, 16)]);
    await check(["HSET", "many", ...pairs.slice(16)]);
    // Repeating one field many times is one field: Redis 7.0 does not convert on the count of arguments.
    await check(["HSET", "same", ...Array.from({ length: 20 }, () => ["f", "v"]).flat()]);
    await o.same("CONFIG", "SET", "hash-max-listpack-entries", "512");
    for (let i = 0; i < 514; i++) if (i >= 505 || i % 50 === 0) await check(["HSET", "big", `f${i}`, "v"]);
    else await o.same("HSET", "big", `f${i}`, "v");
  });

  test("at hash-max-listpack-value + 1 bytes of a field or a value", async () => {
    for (const [field, value] of [["f", "x".repeat(64)], ["x".repeat(64), "v"], ["f", "x".repeat(65)], ["x".repeat(65), "v"]]) {
      await o.same("DEL", "h");
      await checkAll([["HSET", "h", "a", "1"], ["HSET", "h", field!, value!], ["HGETALL", "h"]]);
    }
    await checkAll([["HSETNX", "nx", "f", "x".repeat(65)], ["HSETNX", "nx2", "f", "v"], ["HSETNX", "nx2", "g", "x".repeat(65)]]);
    await checkAll([["HMSET", "m", "a", "1", "b", "x".repeat(100)]]);
  });

  test("HINCRBY's long field name and HINCRBYFLOAT's long result convert", async () => {
    await checkAll([
      ["HSET", "i", "a", "1"], ["HINCRBY", "i", "x".repeat(70), "5"],
      ["HSET", "f", "a", "1"], ["HINCRBYFLOAT", "f", "a", "1e300"], ["HGET", "f", "a"],
      ["HSET", "g", "a", "1"], ["HINCRBYFLOAT", "g", "y".repeat(65), "1"],
      ["HSET", "s", "a", "1.7976931348623157e308"], ["HINCRBYFLOAT", "s", "a", "1.7976931348623157e308"],
    ]);
  });

  test("small limits: no listpack at all, a value limit of 0, integers counted as text", async () => {
    await o.same("CONFIG", "SET", "hash-max-listpack-entries", "0");
    await checkAll([["HSET", "zero", "f", "v"], ["HINCRBY", "zero2", "f", "1"]]);
    await o.same("CONFIG", "SET", "hash-max-listpack-entries", "1", "hash-max-listpack-value", "0");
    await checkAll([["HSET", "empty", "", ""], ["HSET", "one", "f", ""], ["HSET", "e2", "", ""], ["HINCRBY", "e2", "", "1"]]);
    await o.same("CONFIG", "SET", "hash-max-listpack-entries", "5", "hash-max-listpack-value", "3");
    await checkAll([["HSET", "n", "f", "123"], ["HINCRBY", "n", "f", "900"], ["HINCRBY", "n", "f", "1"]]);
  });

  test("a hashtable stays one after shrinking, and a new limit applies on the next write", async () => {
    await o.same("CONFIG", "SET", "hash-max-listpack-entries", "3");
    await checkAll([["HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4"], ["HDEL", "h", "a", "b", "c"], ["HSET", "h", "e", "5"]]);
    await checkAll([["HSET", "l", "a", "1", "b", "2"]]);
    await o.same("CONFIG", "SET", "hash-max-listpack-entries", "1");
    await checkAll([["HGET", "l", "a"], ["HLEN", "l"], ["HSET", "l", "a", "changed"], ["HDEL", "l", "a", "b"], ["HSET", "l", "x", "y"]]);
  });

  test("listpacks too big to store inline, growing and shrinking", async () => {
    await o.same("CONFIG", "SET", "hash-max-listpack-entries", "1000");
    for (let i = 0; i < 40; i++) await check(["HSET", "h", `field:${i}`, "v".repeat(i + 20)]);
    await checkAll([["HGETALL", "h"], ["HSCAN", "h", "0", "MATCH", "field:1*"], ["HKEYS", "h"]]);
    for (let i = 0; i < 40; i += 3) await check(["HDEL", "h", `field:${i}`, `field:${i + 1}`]);
    await checkAll([["HGETALL", "h"], ["HINCRBY", "h", "field:2", "1"], ["HSTRLEN", "h", "field:38"]]);
    const many = Array.from({ length: 900 }, (_, i) => [`${i}`, `${i * 7}`]).flat();
    await checkAll([["HSET", "big", ...many], ["HVALS", "big"], ["HGET", "big", "899"], ["HSTRLEN", "big", "899"]]);
    await o.same("DEBUG", "DIGEST");
  });
});

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

describe("errors", () => {
  test("WRONGTYPE from every command against a string", async () => {
    await o.same("SET", "s", "v");
    await checkAll([
      ["HSET", "s", "f", "v"], ["HMSET", "s", "f", "v"], ["HSETNX", "s", "f", "v"], ["HGET", "s", "f"], ["HMGET", "s", "f"],
      ["HDEL", "s", "f"], ["HLEN", "s"], ["HSTRLEN", "s", "f"], ["HEXISTS", "s", "f"], ["HKEYS", "s"], ["HVALS", "s"],
      ["HGETALL", "s"], ["HINCRBY", "s", "f", "1"], ["HINCRBYFLOAT", "s", "f", "1"], ["HRANDFIELD", "s"],
      ["HRANDFIELD", "s", "0"], ["HRANDFIELD", "s", "-1", "WITHVALUES"], ["HSCAN", "s", "0"], ["HSCAN", "s", "0", "BOGUS"],
    ]);
    await checkAll([["HSET", "h", "f", "v"], ["GET", "h"], ["APPEND", "h", "x"], ["INCR", "h"]]);
  });

  test("wrong numbers of arguments", async () => {
    await checkAll([
      ["HSET", "h", "f"], ["HSET", "h", "f", "v", "g"], ["HMSET", "h", "f", "v", "g"], ["HMSET", "h"], ["HSETNX", "h", "f"],
      ["HGET", "h"], ["HGET", "h", "f", "g"], ["HMGET", "h"], ["HDEL", "h"], ["HLEN", "h", "x"], ["HSTRLEN", "h"],
      ["HEXISTS", "h"], ["HKEYS", "h", "x"], ["HVALS"], ["HGETALL", "h", "x"], ["HINCRBY", "h", "f"],
      ["HINCRBYFLOAT", "h", "f", "1", "2"], ["HRANDFIELD"], ["HSCAN", "h"], ["EXISTS", "h"],
    ]);
  });

  test("HRANDFIELD count and option errors", async () => {
    await o.same("HSET", "h", "a", "1", "b", "2");
    await checkAll([
      ["HRANDFIELD", "h", "x"], ["HRANDFIELD", "h", "1.5"], ["HRANDFIELD", "h", ""], ["HRANDFIELD", "h", "-9223372036854775808"],
      ["HRANDFIELD", "h", "9223372036854775808"], ["HRANDFIELD", "h", "1", "WITHVALUE"], ["HRANDFIELD", "h", "1", "withvalues", "x"],
      ["HRANDFIELD", "h", "4611686018427387904", "WITHVALUES"], ["HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES"],
      ["HRANDFIELD", "missing", "x"], ["HRANDFIELD", "missing", "1", "bogus"], ["HRANDFIELD", "missing", "-9223372036854775808"],
      ["HRANDFIELD", "h", "9223372036854775807"], ["HRANDFIELD", "h", "4611686018427387903", "WITHVALUES"],
      // Options are C strings to Redis: they end at a NUL byte.
      ["HRANDFIELD", "h", "2", "withvalues\x00junk"],
    ]);
  });

  test("HSCAN cursor and option errors", async () => {
    await o.same("HSET", "h", "a", "1", "b", "2");
    await checkAll([
      ["HSCAN", "h", "x"], ["HSCAN", "h", "-1"], ["HSCAN", "h", "18446744073709551616"], ["HSCAN", "h", "1\x00junk"],
      ["HSCAN", "h", "0", "COUNT"], ["HSCAN", "h", "0", "COUNT", "0"], ["HSCAN", "h", "0", "COUNT", "-1"],
      ["HSCAN", "h", "0", "COUNT", "x"], ["HSCAN", "h", "0", "MATCH"], ["HSCAN", "h", "0", "TYPE", "hash"],
      ["HSCAN", "h", "0", "BOGUS", "x"], ["HSCAN", "h", "5"], ["HSCAN", "h", "", "MATCH", "a"],
      ["HSCAN", "missing", "x"], ["HSCAN", "missing", "0", "BOGUS"], ["HSCAN", "missing", "0", "COUNT", "0"],
      ["HSCAN", "h", "0", "count\x00", "5"], ["HSCAN", "h", "0", "MATCH\x00junk", "a*"], ["HSCAN", "h", "0", "TYPE\x00", "hash"],
    ]);
  });

  test("HINCRBY and HINCRBYFLOAT errors leave no key behind", async () => {
    await checkAll([
      ["HINCRBY", "k", "f", "x"], ["HINCRBY", "k", "f", "9223372036854775808"], ["HINCRBYFLOAT", "k", "f", "x"],
      ["HINCRBYFLOAT", "k", "f", "inf"], ["HINCRBYFLOAT", "k", "f", "-inf"], ["HINCRBYFLOAT", "k", "f", "nan"],
      ["EXISTS", "k"], ["HSET", "k", "n", "9223372036854775807", "m", "-9223372036854775808"],
      ["HINCRBY", "k", "n", "1"], ["HINCRBY", "k", "m", "-1"], ["HINCRBY", "k", "n", "-9223372036854775808"],
      ["HGETALL", "k"],
    ]);
  });
});

describe("keyspace statistics", () => {
  test("reads count hits and misses as Redis does, writes do not", async () => {
    await o.same("CONFIG", "RESETSTAT");
    await o.sameAll([["HSET", "h", "f", "v"], ["HGET", "h", "f"], ["HGET", "missing", "f"], ["HMGET", "missing", "f"], ["HINCRBY", "h", "n", "1"]]);
    const stat = (info: string, name: string) => info.match(new RegExp(`${name}:(\\d+)`))![1];
    const [want, got] = await o.both("INFO", "stats");
    for (const name of ["keyspace_hits", "keyspace_misses"]) expect(stat(got, name)).toBe(stat(want, name));
  });
});
