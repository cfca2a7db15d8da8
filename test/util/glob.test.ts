import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import { rng, startRedis } from "../oracle/harness.ts";
import { GLOB_MAX_NESTING, globMatch, globMatchBytes, isMatchAll } from "../../src/util/glob.ts";

// [pattern, subject, nocase, expected]. Strings are latin1: "\xe9" is one byte.
// The nocase=false rows are also replayed through KEYS on the oracle below.
const CASES: [string, string, boolean, boolean][] = [
  ["", "", false, true],
  ["", "a", false, false],
  ["a", "", false, false],
  ["abc", "abc", false, true],
  ["abc", "abd", false, false],
  ["abc", "ab", false, false],
  ["ab", "abc", false, false],
  // `*`: any run, runs of stars collapse; the empty subject matches nothing
  // but the empty pattern (KEYS special-cases the lone "*" instead).
  ["*", "", false, false],
  ["**", "", false, false],
  ["*", "anything", false, true],
  ["a*", "a", false, true],
  ["a**", "a", false, true],
  ["a*", "abc", false, true],
  ["*c", "abc", false, true],
  ["*c", "c", false, true],
  ["a*c", "ac", false, true],
  ["a*c", "abbbc", false, true],
  ["a*c", "abbbd", false, false],
  ["a*b*c", "aXbYc", false, true],
  ["a*b*c", "aXcYb", false, false],
  ["*a*", "bab", false, true],
  ["***a***", "a", false, true],
  ["*ab", "aab", false, true],
  ["*?", "", false, false],
  ["*?", "x", false, true],
  // `?`: exactly one byte.
  ["?", "", false, false],
  ["?", "a", false, true],
  ["?", "ab", false, false],
  ["a?c", "abc", false, true],
  ["??", "\xe9\x00", false, true],
  // Sets and negated sets.
  ["[abc]", "b", false, true],
  ["[abc]", "d", false, false],
  ["[^abc]", "d", false, true],
  ["[^abc]", "a", false, false],
  ["[^]", "a", false, true],
  ["[]", "a", false, false],
  ["[]]", "]", false, false],
  ["[]a]", "a", false, false],
  ["[\\]]", "]", false, true],
  ["[a\\-z]", "-", false, true],
  ["[a\\-z]", "b", false, false],
  // Ranges, reversed ranges, and `-` at the edges of a set.
  ["[a-c]", "b", false, true],
  ["[a-c]", "d", false, false],
  ["[c-a]", "b", false, true],
  ["[z-a]", "m", false, true],
  ["[-a]", "-", false, true],
  // "[a-]" is the range a..] (swapped to ]..a) and then an unterminated set.
  ["[a-]", "-", false, false],
  ["[a-]", "_", false, true],
  ["[a-]", "b", false, false],
  ["[a-]x", "_", false, true],
  ["[a-]x", "x", false, true],
  ["[a-]x", "_x", false, false],
  ["[^a-c]", "d", false, true],
  ["[^a-c]", "b", false, false],
  ["[a-c-e]", "d", false, false],
  ["[a-c-e]", "-", false, true],
  ["[a-c-e]", "e", false, true],
  // Bytes compare as signed chars in ranges: 0x80..0xff sort below NUL.
  ["[a-\xff]", "\xe9", false, false],
  ["[a-\xff]", "A", false, true],
  ["[a-\xff]", "\xff", false, true],
  ["[\x80-\xff]", "\xe9", false, true],
  ["[\x80-\xff]", "a", false, false],
  ["[\x00-\x7f]", "\xe9", false, false],
  ["[\xe9]", "\xe9", false, true],
  // Unterminated sets run to the end of the pattern.
  ["[", "[", false, false],
  ["[", "a", false, false],
  ["[^", "a", false, true],
  ["[^", "", false, false],
  ["[ab", "a", false, true],
  ["[ab", "b", false, true],
  ["[ab", "[", false, false],
  ["x[ab", "xb", false, true],
  ["[a-", "-", false, true],
  ["[a-", "b", false, false],
  ["[\\", "\\", false, true],
  ["[a\\", "\\", false, true],
  ["[^\\", "a", false, true],
  ["*[", "a", false, false],
  ["*[^", "ab", false, true],
  ["[*]", "*", false, true],
  ["[?]", "x", false, false],
  // Backslash escapes, and a trailing backslash matching itself.
  ["\\*", "*", false, true],
  ["\\*", "a", false, false],
  ["\\?", "?", false, true],
  ["\\[a]", "[a]", false, true],
  ["\\a", "a", false, true],
  ["\\\\", "\\", false, true],
  ["\\", "\\", false, true],
  ["\\", "a", false, false],
  ["a\\", "a\\", false, true],
  ["*\\", "ab\\", false, true],
  ["\\", "", false, false],
  // NUL bytes are ordinary bytes.
  ["a\x00b", "a\x00b", false, true],
  ["*\x00", "ab\x00", false, true],
  ["[\x00]", "\x00", false, true],
  // nocase folds only A-Z (C locale), never Latin-1 letters.
  ["ABC", "abc", true, true],
  ["abc", "ABC", true, true],
  ["ABC", "abc", false, false],
  ["\xc9", "\xe9", true, false],
  ["[A-C]", "b", true, true],
  ["[a-c]", "B", true, true],
  ["[A-c]", "Z", false, true],
  ["[A-c]", "z", false, false],
  ["[A-c]", "z", true, false],
  ["[Z-a]", "_", true, false],
  ["[Z-a]", "_", false, true],
  ["[\\A]", "a", true, false],
  ["[^A]", "a", true, false],
  ["a*B", "AxxxB", true, true],
];

describe("globMatch", () => {
  test.each(CASES)("%j vs %j nocase=%p -> %p", (pattern, subject, nocase, expected) => {
    expect(globMatch(pattern, subject, nocase)).toBe(expected);
  });

  test("globMatchBytes agrees with globMatch on byte ranges", () => {
    for (const [pattern, subject, nocase, expected] of CASES) {
      const p = Buffer.from("..." + pattern + "..", "latin1");
      const s = Buffer.from("." + subject + "....", "latin1");
      expect(globMatchBytes(p, 3, pattern.length, s, 1, subject.length, nocase)).toBe(expected);
    }
  });

  test("isMatchAll is true only for the single-star pattern", () => {
    expect(isMatchAll("*")).toBe(true);
    expect(isMatchAll("**")).toBe(false);
    expect(isMatchAll("")).toBe(false);
    expect(isMatchAll("\\*")).toBe(false);
  });

  test("nesting limit: a non-final `*` after 1000 others never matches", () => {
    const subject = "a".repeat(GLOB_MAX_NESTING + 1);
    expect(globMatch("*a".repeat(GLOB_MAX_NESTING), subject, false)).toBe(true);
    expect(globMatch("*a".repeat(GLOB_MAX_NESTING + 1), subject, false)).toBe(false);
    // A final `*` returns before recursing, at any depth.
    expect(globMatch("a*".repeat(GLOB_MAX_NESTING + 1), subject, false)).toBe(true);
    expect(globMatch("*a".repeat(GLOB_MAX_NESTING + 5) + "*", subject + "aaaa", false)).toBe(false);
  });

  test("pathological patterns finish in bounded time", () => {
    const subject = "a".repeat(20_000);
    const started = performance.now();
    expect(globMatch("*a".repeat(500) + "b", subject, false)).toBe(false);
    expect(globMatch("a*".repeat(900) + "b", subject, false)).toBe(false);
    expect(globMatch("*".repeat(100_000) + "b", subject, false)).toBe(false);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

// ---------------------------------------------------------------------------
// Differential test against a real redis-server.

const latin1 = (s: string) => Buffer.from(s, "latin1");

describe("globMatch vs redis-server 7.0 (KEYS, COMMAND LIST FILTERBY PATTERN)", () => {
  let server: Awaited<ReturnType<typeof startRedis>>;
  let client: Redis;

  beforeAll(async () => {
    server = await startRedis();
    client = new Redis({ host: "127.0.0.1", port: server.port, stringNumbers: true, maxRetriesPerRequest: 0 });
  });

  afterAll(async () => {
    client?.disconnect();
    await server?.stop();
  });

  /** Emulates KEYS: Redis skips the matcher for the lone "*" pattern. */
  const keysMatch = (pattern: string, key: string) => isMatchAll(pattern) || globMatch(pattern, key, false);

  async function keysOracle(pattern: string): Promise<string[]> {
    const reply = (await client.callBuffer("KEYS", latin1(pattern))) as Buffer[];
    return reply.map((k) => k.toString("latin1")).sort();
  }

  test("table cases agree with KEYS", async () => {
    const rows = CASES.filter(([, , nocase]) => !nocase);
    const subjects = [...new Set(rows.map(([, s]) => s))];
    await client.flushall();
    await client.mset(...subjects.flatMap((s) => [latin1(s), "v"]));
    const disagreements: string[] = [];
    for (const [pattern, subject] of rows) {
      const inRedis = (await keysOracle(pattern)).includes(subject);
      if (inRedis !== keysMatch(pattern, subject)) {
        disagreements.push(`${JSON.stringify(pattern)} vs ${JSON.stringify(subject)}: redis says ${inRedis}`);
      }
    }
    expect(disagreements).toEqual([]);
  });

  test("nesting limit agrees with KEYS", async () => {
    const subject = "a".repeat(GLOB_MAX_NESTING + 1);
    await client.flushall();
    await client.set(subject, "v");
    for (const pattern of [
      "*a".repeat(GLOB_MAX_NESTING),
      "*a".repeat(GLOB_MAX_NESTING + 1),
      "*a".repeat(GLOB_MAX_NESTING) + "*",
      "a*".repeat(GLOB_MAX_NESTING + 1),
      "*a".repeat(GLOB_MAX_NESTING + 5) + "*",
    ]) {
      expect((await keysOracle(pattern)).includes(subject)).toBe(globMatch(pattern, subject, false));
    }
  });

  test("random patterns and keys agree with KEYS", async () => {
    const seed = Number(process.env.GLOB_SEED ?? Date.now() % 2 ** 31);
    const rand = rng(seed);
    const pick = (alphabet: string[]) => alphabet[Math.floor(rand() * alphabet.length)]!;
    const keyBytes = ["a", "b", "c", "A", "B", "z", "-", "^", "]", "[", "\\", "*", "?", "\x00", "\x80", "\xe9", "\xff"];
    const patBytes = [...keyBytes, "*", "*", "?", "[", "[", "]", "]", "^", "-", "-", "\\", "\\"];
    const randomString = (alphabet: string[], maxLen: number) => {
      let out = "";
      for (let n = Math.floor(rand() * (maxLen + 1)); n > 0; n--) out += pick(alphabet);
      return out;
    };

    const disagreements: string[] = [];
    for (let round = 0; round < 20 && disagreements.length === 0; round++) {
      const keys = new Set<string>([""]);
      while (keys.size < 60) keys.add(randomString(keyBytes, 7));
      await client.flushall();
      await client.mset(...[...keys].flatMap((k) => [latin1(k), "v"]));
      const patterns = Array.from({ length: 150 }, () => randomString(patBytes, 9));
      const pipeline = client.pipeline();
      for (const pattern of patterns) pipeline.callBuffer("KEYS", latin1(pattern));
      const replies = (await pipeline.exec())!;
      patterns.forEach((pattern, i) => {
        const [err, reply] = replies[i]!;
        if (err) throw err;
        const expected = (reply as Buffer[]).map((k) => k.toString("latin1")).sort();
        const actual = [...keys].filter((k) => keysMatch(pattern, k)).sort();
        if (JSON.stringify(expected) !== JSON.stringify(actual)) {
          disagreements.push(
            `seed=${seed} pattern=${JSON.stringify(pattern)} redis=${JSON.stringify(expected)} ours=${JSON.stringify(actual)}`,
          );
        }
      });
    }
    if (disagreements.length) console.error(`glob differential failed; rerun with GLOB_SEED=${seed}`);
    expect(disagreements.slice(0, 5)).toEqual([]);
  });

  test("random nocase patterns agree with COMMAND LIST FILTERBY PATTERN", async () => {
    const seed = Number(process.env.GLOB_SEED ?? Date.now() % 2 ** 31);
    const rand = rng(seed);
    const names = ((await client.callBuffer("COMMAND", "LIST")) as Buffer[]).map((b) => b.toString("latin1"));
    const patBytes = [..."abcegilmrstxyzACEGLMSTZ|-_[]^*?\\", "*", "?", "[", "]", "[", "-"];
    const disagreements: string[] = [];
    const patterns: string[] = [];
    for (let i = 0; i < 400; i++) {
      let pattern = "";
      for (let n = 1 + Math.floor(rand() * 6); n > 0; n--) pattern += patBytes[Math.floor(rand() * patBytes.length)];
      patterns.push(pattern);
    }
    const pipeline = client.pipeline();
    for (const pattern of patterns) pipeline.callBuffer("COMMAND", "LIST", "FILTERBY", "PATTERN", latin1(pattern));
    const replies = (await pipeline.exec())!;
    patterns.forEach((pattern, i) => {
      const [err, reply] = replies[i]!;
      if (err) throw err;
      const expected = (reply as Buffer[]).map((b) => b.toString("latin1")).sort();
      const actual = names.filter((name) => globMatch(pattern, name, true)).sort();
      if (JSON.stringify(expected) !== JSON.stringify(actual)) {
        disagreements.push(`seed=${seed} pattern=${JSON.stringify(pattern)} redis=${expected} ours=${actual}`);
      }
    });
    if (disagreements.length) console.error(`glob nocase differential failed; rerun with GLOB_SEED=${seed}`);
    expect(disagreements.slice(0, 5)).toEqual([]);
  });
});
