import { describe, expect, test } from "bun:test";
import {
  LEX_MAX,
  LEX_MIN,
  type LexRange,
  parseLexRange,
  type ScoreRange,
  SkiplistZSet,
  ZNode,
  ZSkipList,
} from "../../src/encoding/skiplist.ts";
import { pick } from "../oracle/fuzz.ts";
import { rng, withSeed as withSeedNamed } from "../oracle/harness.ts";

/** Seeded random tests replay with `SEED=n bun test test/encoding/skiplist.test.ts`. */
const withSeed = (body: (random: () => number) => void) => withSeedNamed("skiplist test", body);

// ---------------------------------------------------------------------------------------
// The model: a plain array kept sorted by (score, member bytes)
// ---------------------------------------------------------------------------------------

interface Entry {
  score: number;
  member: string;
}

/** memcmp order written out byte by byte, independently of the code under test. */
function memcmpOrder(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a.charCodeAt(i) - b.charCodeAt(i);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

function entryOrder(a: Entry, b: Entry): number {
  return a.score !== b.score ? (a.score < b.score ? -1 : 1) : memcmpOrder(a.member, b.member);
}

class Model {
  entries: Entry[] = [];

  indexOf(member: string): number {
    return this.entries.findIndex((e) => e.member === member);
  }

  insert(score: number, member: string): void {
    this.entries.push({ score, member });
    this.entries.sort(entryOrder);
  }

  remove(member: string): Entry {
    return this.entries.splice(this.indexOf(member), 1)[0]!;
  }

  /** Removes the entries that match, returning their members sorted. */
  removeWhere(matches: (e: Entry, index: number) => boolean): string[] {
    const removed = this.entries.filter(matches).map((e) => e.member);
    this.entries = this.entries.filter((e, i) => !matches(e, i));
    return removed.sort();
  }
}

function inScore(score: number, r: ScoreRange): boolean {
  const aboveMin = r.minExclusive ? score > r.min : score >= r.min;
  const belowMax = r.maxExclusive ? score < r.max : score <= r.max;
  return aboveMin && belowMax;
}

/** The model's view of a lex bound: -1/+1 for the infinities, else memcmp. */
function lexCompare(member: string, bound: LexRange["min"]): number {
  if (bound === LEX_MIN) return 1;
  if (bound === LEX_MAX) return -1;
  return memcmpOrder(member, bound);
}

function inLex(member: string, r: LexRange): boolean {
  const fromMin = lexCompare(member, r.min);
  const fromMax = lexCompare(member, r.max);
  return (r.minExclusive ? fromMin > 0 : fromMin >= 0) && (r.maxExclusive ? fromMax < 0 : fromMax <= 0);
}

// ---------------------------------------------------------------------------------------
// Random inputs
// ---------------------------------------------------------------------------------------

/** Few distinct scores so ties are common, with the infinities and extremes among them. */
const SCORES = [-Infinity, -1e308, -2.5, -1, 0, 0.5, 1, 1, 2, 3, 1e300, Infinity];
/** A tiny alphabet with the bytes that matter for memcmp order, so prefixes are common. */
const ALPHABET = ["\x00", "\x01", "a", "b", "\x7f", "\x80", "\xfe", "\xff"];

function randomMember(random: () => number): string {
  const length = Math.floor(random() * 4);
  let member = "";
  for (let i = 0; i < length; i++) member += pick(random, ALPHABET);
  return member;
}

function randomScoreRange(random: () => number): ScoreRange {
  let min = pick(random, SCORES);
  let max = pick(random, SCORES);
  // Mostly sensible ranges, sometimes reversed ones that must come out empty.
  if (min > max && random() < 0.8) [min, max] = [max, min];
  return { min, max, minExclusive: random() < 0.4, maxExclusive: random() < 0.4 };
}

function randomLexRange(random: () => number): LexRange {
  const bound = (): { bound: LexRange["min"]; exclusive: boolean } => {
    const roll = random();
    if (roll < 0.1) return { bound: LEX_MIN, exclusive: true };
    if (roll < 0.2) return { bound: LEX_MAX, exclusive: true };
    return { bound: randomMember(random), exclusive: random() < 0.4 };
  };
  let min = bound();
  let max = bound();
  const reversed = lexCompare(typeof min.bound === "string" ? min.bound : "", max.bound) > 0;
  if (reversed && typeof min.bound === "string" && random() < 0.8) [min, max] = [max, min];
  return { min: min.bound, max: max.bound, minExclusive: min.exclusive, maxExclusive: max.exclusive };
}

// ---------------------------------------------------------------------------------------
// Checking the list against the model
// ---------------------------------------------------------------------------------------

function pairs(nodes: Iterable<ZNode>): [number, string][] {
  return [...nodes].map((n) => [n.score, n.member]);
}

function modelPairs(entries: Entry[]): [number, string][] {
  return entries.map((e) => [e.score, e.member]);
}

/** Order both ways, ranks and byRank for every element, and the ends. */
function checkOrderAndRanks(zset: SkiplistZSet, model: Model): void {
  const list = zset.list;
  zset.validate();
  expect(list.length).toBe(model.entries.length);
  expect(pairs(list.nodes())).toEqual(modelPairs(model.entries));
  expect(pairs(list.nodes(null, true))).toEqual(modelPairs(model.entries).reverse());
  model.entries.forEach((e, i) => {
    expect(list.getRank(e.score, e.member)).toBe(i + 1);
    expect(list.byRank(i + 1)!.member).toBe(e.member);
    expect(zset.score(e.member)).toBe(e.score);
    expect(zset.rank(e.member)).toBe(i);
    expect(zset.rank(e.member, true)).toBe(model.entries.length - 1 - i);
  });
  expect(list.byRank(0)).toBeNull();
  expect(list.byRank(model.entries.length + 1)).toBeNull();
  expect(list.first?.member).toBe(model.entries[0]?.member);
  expect(list.last?.member).toBe(model.entries.at(-1)?.member);
}

/** Iteration from a node in the middle, both ways, through next/prev. */
function checkIterationFrom(list: ZSkipList, model: Model, random: () => number): void {
  if (model.entries.length === 0) return;
  const at = Math.floor(random() * model.entries.length);
  const start = list.byRank(at + 1)!;
  const forward: string[] = [];
  for (let n: ZNode | null = start; n !== null; n = n.next) forward.push(n.member);
  const backward: string[] = [];
  for (let n: ZNode | null = start; n !== null; n = n.prev) backward.push(n.member);
  expect(forward).toEqual(model.entries.slice(at).map((e) => e.member));
  expect(backward).toEqual(model.entries.slice(0, at + 1).map((e) => e.member).reverse());
}

function checkScoreRange(list: ZSkipList, model: Model, range: ScoreRange): void {
  const inside = model.entries.filter((e) => inScore(e.score, range));
  const first = list.firstInScoreRange(range);
  const last = list.lastInScoreRange(range);
  const label = JSON.stringify(range);
  expect(first === null ? null : [first.score, first.member], label).toEqual(inside.length ? [inside[0]!.score, inside[0]!.member] : null);
  expect(last === null ? null : [last.score, last.member], label).toEqual(inside.length ? [inside.at(-1)!.score, inside.at(-1)!.member] : null);
  expect(list.isInScoreRange(range) || inside.length === 0).toBe(true);
}

function checkLexRange(list: ZSkipList, model: Model, range: LexRange): void {
  const inside = model.entries.filter((e) => inLex(e.member, range));
  const label = describeLex(range);
  expect(list.firstInLexRange(range)?.member ?? null, label).toBe(inside[0]?.member ?? null);
  expect(list.lastInLexRange(range)?.member ?? null, label).toBe(inside.at(-1)?.member ?? null);
}

function describeLex(r: LexRange): string {
  const side = (b: LexRange["min"], ex: boolean) => (b === LEX_MIN ? "-" : b === LEX_MAX ? "+" : (ex ? "(" : "[") + JSON.stringify(b));
  return `${side(r.min, r.minExclusive)} ${side(r.max, r.maxExclusive)}`;
}

/** A set that records what a range deletion reported. */
function recordingSink(): { members: string[]; delete(member: string): boolean } {
  return {
    members: [],
    delete(member: string) {
      this.members.push(member);
      return true;
    },
  };
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

describe("ZSkipList against a sorted-array model", () => {
  test("random inserts, deletes, score updates and range deletions", () => {
    withSeed((random) => {
      const zset = new SkiplistZSet(new ZSkipList(random));
      const model = new Model();
      for (let step = 0; step < 2500; step++) {
        randomStep(zset, model, random, step);
        checkOrderAndRanks(zset, model);
        checkIterationFrom(zset.list, model, random);
        for (let k = 0; k < 4; k++) checkScoreRange(zset.list, model, randomScoreRange(random));
      }
    });
  });

  test("lex ranges over equal scores, with lex range deletions", () => {
    withSeed((random) => {
      const zset = new SkiplistZSet(new ZSkipList(random));
      const model = new Model();
      for (let step = 0; step < 2000; step++) {
        const roll = random();
        const member = randomMember(random);
        if (roll < 0.6) {
          if (zset.add(member, 0)) model.insert(0, member);
        } else if (roll < 0.9) {
          expect(zset.remove(member)).toBe(model.indexOf(member) >= 0);
          if (model.indexOf(member) >= 0) model.remove(member);
        } else {
          // validate() in checkOrderAndRanks then proves the dict dropped the same members.
          const range = randomLexRange(random);
          const expected = model.removeWhere((e) => inLex(e.member, range));
          expect(zset.deleteRangeByLex(range), describeLex(range)).toBe(expected.length);
        }
        checkOrderAndRanks(zset, model);
        for (let k = 0; k < 6; k++) checkLexRange(zset.list, model, randomLexRange(random));
      }
    });
  });

  test("a large list keeps its invariants and rank lookups", () => {
    withSeed((random) => {
      const list = new ZSkipList(random);
      const n = 20000;
      for (let i = 0; i < n; i++) list.insert(Math.floor(random() * 1000), `m${i}`);
      list.validate();
      const ordered = [...list.nodes()];
      for (let k = 0; k < 200; k++) {
        const r = 1 + Math.floor(random() * n);
        expect(list.byRank(r)).toBe(ordered[r - 1]!);
        expect(list.getRank(ordered[r - 1]!.score, ordered[r - 1]!.member)).toBe(r);
      }
      for (let i = 0; i < n; i += 2) expect(list.delete(ordered[i]!.score, ordered[i]!.member)).not.toBeNull();
      list.validate();
      expect(list.length).toBe(n / 2);
      expect(list.deleteRangeByRank(1, n)).toBe(n / 2);
      list.validate();
      expect(list.length).toBe(0);
      expect(list.first).toBeNull();
      expect(list.last).toBeNull();
    });
  });
});

/** One random operation on both the set and the model. */
function randomStep(zset: SkiplistZSet, model: Model, random: () => number, step: number): void {
  const roll = random();
  const member = randomMember(random);
  const present = model.indexOf(member) >= 0;
  const label = `step ${step}`;
  if (roll < 0.4) {
    const score = pick(random, SCORES);
    expect(zset.add(member, score), label).toBe(!present);
    if (present) model.remove(member);
    model.insert(score, member);
  } else if (roll < 0.6) {
    expect(zset.remove(member), label).toBe(present);
    if (present) model.remove(member);
  } else if (roll < 0.7) {
    incrStep(zset, model, member, pick(random, SCORES));
  } else if (roll < 0.8) {
    updateScoreStep(zset, model, random);
  } else if (roll < 0.9) {
    const range = randomScoreRange(random);
    expect(zset.deleteRangeByScore(range), label).toBe(model.removeWhere((e) => inScore(e.score, range)).length);
  } else {
    const length = model.entries.length;
    const start = 1 + Math.floor(random() * (length + 2));
    const end = start - 1 + Math.floor(random() * 5);
    const expected = model.removeWhere((_, i) => i + 1 >= start && i + 1 <= end);
    expect(zset.deleteRangeByRank(start, end), label).toBe(expected.length);
  }
}

/** ZINCRBY semantics: a NaN sum changes nothing. */
function incrStep(zset: SkiplistZSet, model: Model, member: string, delta: number): void {
  const index = model.indexOf(member);
  const current = index >= 0 ? model.entries[index]!.score : 0;
  const sum = current + delta;
  const result = zset.incr(member, delta);
  if (Number.isNaN(sum)) {
    expect(result).toBeNaN();
    return;
  }
  expect(result).toBe(sum);
  if (index >= 0) model.remove(member);
  model.insert(sum, member);
}

/** ZSkipList.updateScore directly, with the dict left pointing at the same node. */
function updateScoreStep(zset: SkiplistZSet, model: Model, random: () => number): void {
  if (model.entries.length === 0) return;
  const entry = pick(random, model.entries);
  // Half the time a nudge that usually keeps the order (the in-place path).
  const newScore = random() < 0.5 ? entry.score + (random() - 0.5) * 1e-9 : pick(random, SCORES);
  if (Number.isNaN(newScore)) return;
  const node = zset.node(entry.member)!;
  expect(zset.list.updateScore(entry.score, entry.member, newScore)).toBe(node);
  model.remove(entry.member);
  model.insert(newScore, entry.member);
}

describe("ZSkipList details", () => {
  test("ties on score order members by bytes, shorter prefix first", () => {
    const members = ["\xff", "b", "", "\x00\x00", "a\x00", "\x00", "\xff\x00", "a", "\x7f", "\x80", "ab", "\x00\xff"];
    const list = new ZSkipList();
    for (const m of members) list.insert(1, m);
    list.validate();
    expect([...list.nodes()].map((n) => n.member)).toEqual(["", "\x00", "\x00\x00", "\x00\xff", "a", "a\x00", "ab", "b", "\x7f", "\x80", "\xff", "\xff\x00"]);
    expect(list.getRank(1, "")).toBe(1);
    expect(list.getRank(1, "\xff\x00")).toBe(12);
    expect(list.getRank(1, "\xfe")).toBe(0);
    expect(list.getRank(2, "a")).toBe(0);
  });

  test("score dominates member order, infinities included", () => {
    const list = new ZSkipList();
    list.insert(Infinity, "\x00");
    list.insert(-Infinity, "\xff");
    list.insert(0, "m");
    list.insert(-0, "a");
    list.validate();
    expect(pairs(list.nodes())).toEqual([[-Infinity, "\xff"], [-0, "a"], [0, "m"], [Infinity, "\x00"]]);
    const all: ScoreRange = { min: -Infinity, max: Infinity, minExclusive: false, maxExclusive: false };
    expect(list.firstInScoreRange(all)!.member).toBe("\xff");
    expect(list.lastInScoreRange(all)!.member).toBe("\x00");
    const open: ScoreRange = { min: -Infinity, max: Infinity, minExclusive: true, maxExclusive: true };
    expect(list.firstInScoreRange(open)!.member).toBe("a");
    expect(list.lastInScoreRange(open)!.member).toBe("m");
    expect(list.firstInScoreRange({ min: 0, max: 0, minExclusive: true, maxExclusive: false })).toBeNull();
    expect(list.firstInScoreRange({ min: 1, max: 0, minExclusive: false, maxExclusive: false })).toBeNull();
  });

  test("delete returns the detached node, or null when absent", () => {
    const list = new ZSkipList();
    list.insert(1, "a");
    list.insert(2, "b");
    expect(list.delete(1, "b")).toBeNull();
    expect(list.delete(3, "c")).toBeNull();
    const node = list.delete(1, "a")!;
    expect([node.score, node.member, node.next, node.prev]).toEqual([1, "a", null, null]);
    list.validate();
    expect(list.length).toBe(1);
  });

  test("updateScore keeps the node in place when the neighbours still bracket it", () => {
    const list = new ZSkipList();
    list.insert(1, "a");
    const b = list.insert(2, "b");
    list.insert(3, "c");
    expect(list.updateScore(2, "b", 2.5)).toBe(b);
    expect(b.prev!.member).toBe("a");
    expect(list.updateScore(2.5, "b", 10)).toBe(b);
    list.validate();
    expect(pairs(list.nodes())).toEqual([[1, "a"], [3, "c"], [10, "b"]]);
    expect(() => list.updateScore(2, "b", 4)).toThrow("not found");
    expect(() => list.insert(NaN, "x")).toThrow("NaN");
  });

  test("range deletions report every removed member to the sink", () => {
    const list = new ZSkipList();
    for (let i = 0; i < 10; i++) list.insert(i, `m${i}`);
    const byScore = recordingSink();
    expect(list.deleteRangeByScore({ min: 2, max: 5, minExclusive: true, maxExclusive: false }, byScore)).toBe(3);
    expect(byScore.members).toEqual(["m3", "m4", "m5"]);
    const byRank = recordingSink();
    expect(list.deleteRangeByRank(1, 2, byRank)).toBe(2);
    expect(byRank.members).toEqual(["m0", "m1"]);
    const byLex = recordingSink();
    expect(list.deleteRangeByLex(parseLexRange("-", "(m8")!, byLex)).toBe(3);
    expect(byLex.members).toEqual(["m2", "m6", "m7"]);
    list.validate();
    expect([...list.nodes()].map((n) => n.member)).toEqual(["m8", "m9"]);
  });

  test("validate names the broken invariant", () => {
    const build = () => {
      const list = new ZSkipList(rng(7));
      for (let i = 0; i < 50; i++) list.insert(i, `m${i}`);
      list.validate();
      return list;
    };
    const tallNode = (list: ZSkipList) => [...list.nodes()].find((n) => n.level > 1)!;

    let list = build();
    list.byRank(10)!.score = 100;
    expect(() => list.validate()).toThrow("out of order");

    list = build();
    list.byRank(10)!.backward = list.byRank(3);
    expect(() => list.validate()).toThrow("backward link");

    list = build();
    tallNode(list).addSpan(1, 1);
    expect(() => list.validate()).toThrow("spans");

    list = build();
    (list as unknown as { count: number }).count++;
    expect(() => list.validate()).toThrow("length");

    list = build();
    (list as unknown as { level: number }).level++;
    expect(() => list.validate()).toThrow("level");

    list = build();
    const node = tallNode(list);
    node.setForward(1, node.next);
    expect(() => list.validate()).toThrow("level");
  });
});

describe("parseLexRange", () => {
  test("parses inclusive, exclusive and infinite bounds like zslParseLexRange", () => {
    expect(parseLexRange("-", "+")).toEqual({ min: LEX_MIN, max: LEX_MAX, minExclusive: true, maxExclusive: true });
    expect(parseLexRange("[a", "(b")).toEqual({ min: "a", max: "b", minExclusive: false, maxExclusive: true });
    expect(parseLexRange("(", "[")).toEqual({ min: "", max: "", minExclusive: true, maxExclusive: false });
    expect(parseLexRange("[\x00\xff", "+")).toEqual({ min: "\x00\xff", max: LEX_MAX, minExclusive: false, maxExclusive: true });
    expect(parseLexRange("+", "-")).toEqual({ min: LEX_MAX, max: LEX_MIN, minExclusive: true, maxExclusive: true });
    expect(parseLexRange("[+", "(-")).toEqual({ min: "+", max: "-", minExclusive: false, maxExclusive: true });
  });

  test("treats a sign followed by a NUL byte as the bare sign, as Redis's C string check does", () => {
    expect(parseLexRange("-\x00", "+\x00x")).toEqual({ min: LEX_MIN, max: LEX_MAX, minExclusive: true, maxExclusive: true });
  });

  test("rejects anything else", () => {
    for (const bad of ["", "a", "+a", "-a", "++", "--", "]a", " [a", "1", "inf"]) {
      expect(parseLexRange(bad, "+"), JSON.stringify(bad)).toBeNull();
      expect(parseLexRange("-", bad), JSON.stringify(bad)).toBeNull();
    }
  });

  test("writes into a reused record", () => {
    const out: LexRange = { min: LEX_MIN, max: LEX_MAX, minExclusive: false, maxExclusive: false };
    expect(parseLexRange("(x", "[y", out)).toBe(out);
    expect(out).toEqual({ min: "x", max: "y", minExclusive: true, maxExclusive: false });
    expect(parseLexRange("x", "[y", out)).toBeNull();
  });

  test("empty and inverted ranges select nothing, as on Redis", () => {
    const list = new ZSkipList();
    for (const m of ["", "+", "-", "a", "b"]) list.insert(0, m);
    const first = (min: string, max: string) => list.firstInLexRange(parseLexRange(min, max)!)?.member ?? null;
    expect(first("-", "+")).toBe("");
    expect(first("+", "-")).toBeNull();
    expect(first("-", "-")).toBeNull();
    expect(first("+", "+")).toBeNull();
    expect(first("[b", "[a")).toBeNull();
    expect(first("(a", "[a")).toBeNull();
    expect(first("[a", "[a")).toBe("a");
    expect(first("(", "+")).toBe("+");
    expect(first("[+", "+")).toBe("+");
  });
});

describe("SkiplistZSet", () => {
  test("keeps the list and the dict in step", () => {
    const zset = new SkiplistZSet();
    expect(zset.add("a", 1)).toBe(true);
    expect(zset.add("b", 2)).toBe(true);
    expect(zset.add("a", 3)).toBe(false);
    expect(zset.add("a", 3)).toBe(false);
    expect(zset.score("a")).toBe(3);
    expect(zset.score("z")).toBeUndefined();
    expect(zset.rank("a")).toBe(1);
    expect(zset.rank("a", true)).toBe(0);
    expect(zset.rank("z")).toBe(-1);
    expect(zset.incr("c", 1.5)).toBe(1.5);
    expect(zset.incr("c", 1)).toBe(2.5);
    expect(zset.incr("inf", Infinity)).toBe(Infinity);
    expect(zset.incr("inf", -Infinity)).toBeNaN();
    expect(zset.score("inf")).toBe(Infinity);
    expect(zset.remove("b")).toBe(true);
    expect(zset.remove("b")).toBe(false);
    zset.validate();
    expect(pairs(zset.list.nodes())).toEqual([[2.5, "c"], [3, "a"], [Infinity, "inf"]]);
    expect(zset.deleteRangeByLex(parseLexRange("[a", "[c")!)).toBe(2);
    zset.validate();
    expect(zset.has("a")).toBe(false);
    expect(zset.size).toBe(1);
  });

  test("dup is a deep copy with the same shape", () => {
    withSeed((random) => {
      const zset = new SkiplistZSet(new ZSkipList(random));
      for (let i = 0; i < 500; i++) zset.add(randomMember(random) + i, pick(random, SCORES));
      const copy = zset.dup();
      copy.validate();
      expect(pairs(copy.list.nodes())).toEqual(pairs(zset.list.nodes()));
      expect([...copy.list.nodes()].map((n) => n.level)).toEqual([...zset.list.nodes()].map((n) => n.level));
      const victim = zset.list.byRank(7)!.member;
      copy.remove(victim);
      copy.add("only-in-copy", 0);
      copy.incr(zset.list.byRank(8)!.member, 1);
      expect(zset.has(victim)).toBe(true);
      expect(zset.has("only-in-copy")).toBe(false);
      expect(zset.size).toBe(500);
      zset.validate();
      copy.validate();
      expect(new SkiplistZSet().dup().size).toBe(0);
      new SkiplistZSet().dup().validate();
    });
  });
});
