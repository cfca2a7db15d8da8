/**
 * The `skiplist` encoding of sorted sets: a skiplist ordered by (score, member) plus a hash
 * table from member to node, after the semantics of Redis 7.0's t_zset.c (zskiplist + dict).
 * A zset moves here from its listpack once it outgrows zset-max-listpack-entries/-value.
 *
 * Members are latin1 strings (one char per byte, so binary safe) and scores are float64,
 * never NaN. Elements are ordered by score, then by member bytes in memcmp order with a
 * shorter prefix first. For latin1 strings that is exactly JavaScript's `<` on strings
 * (UTF-16 code units compared one by one, shorter prefix first), a native comparison.
 *
 * Structure. The list follows Redis's so that every command has Redis's complexity:
 *   - a header node with ZSKIPLIST_MAXLEVEL (32) levels that holds no element;
 *   - each node has a random level in 1..32 with P = 0.25 of going one higher, so the
 *     expected number of levels per node is 4/3 and searches take O(log N);
 *   - `forwardAt(i)` is the next node at level i and `spanAt(i)` how many level-0 steps that
 *     link jumps, so the 1-based rank of a node is the sum of the spans walked to reach it
 *     (ZRANK, ZRANGE by index and ZREMRANGEBYRANK are O(log N)). A null link's span is the
 *     number of nodes after its owner, as in Redis;
 *   - `backward` links level 0 the other way (null on the first node), for reverse ranges;
 *   - `level` is the highest level in use (at least 1) and `tail` the last node.
 *
 * Garbage. A node is one small object whose element storage holds its links, sized to
 * its level; nothing else is allocated per operation. The search paths (Redis's `update[]`
 * and `rank[]`) live in module-level scratch arrays shared by every list, which is safe
 * because a list operation never calls out to code that could start another one: range
 * deletions report removed members to a `MemberSink` (a Dict, Map or Set), whose
 * delete() must not touch any skiplist. The scratch slots are cleared after each use so
 * that they never keep a deleted zset alive. Moving an element to a new score reuses its
 * node (keeping its level, which is as random as a fresh one) rather than allocating.
 *
 * SkiplistZSet pairs the list with a Dict from member to node (Redis maps member to score).
 * Holding the node makes ZSCORE one lookup, and lets a score change try Redis's in-place
 * fast path without a search and without touching the dict at all.
 *
 * Lex ranges (ZRANGEBYLEX and friends) compare members only, so, as in Redis, they are
 * meaningful only when every element has the same score; on mixed scores the result depends
 * on the list's random shape, exactly as Redis's does.
 *
 * Memory. Each structure keeps `memoryBytes` current (see cache/memory.ts): the list its
 * nodes by level, the dict the members' strings, which the nodes share. While the
 * keyspace holds a SkiplistZSet, both report their changes to its `ledger`.
 */

import { Dict } from "./dict.ts";
import type { MemoryLedger } from "../cache/memory.ts";

/** Redis's ZSKIPLIST_MAXLEVEL: enough for 4^32 elements. */
export const ZSKIPLIST_MAXLEVEL = 32;
/** Redis's ZSKIPLIST_P: the chance that a node reaches one level higher. */
export const ZSKIPLIST_P = 0.25;

// Heap costs (measured as cache/memory.ts describes).
/** An empty list: the object and its 32-level header node. */
const ZSKIPLIST_BYTES = 2480;
/** A node besides its levels: the object and its element storage's header. */
const ZNODE_BYTES = 88;
/** A level of a node: two elements, its forward link and its span. */
const ZNODE_LEVEL_BYTES = 16;
/** The SkiplistZSet object pairing the two. */
const ZSET_BYTES = 32;

// ---------------------------------------------------------------------------------------
// Ranges
// ---------------------------------------------------------------------------------------

/** A score interval as ZRANGEBYSCORE takes it (Redis's zrangespec); ±Infinity for -inf/+inf. */
export interface ScoreRange {
  min: number;
  max: number;
  minExclusive: boolean;
  maxExclusive: boolean;
}

/** The `-` lex bound: below every member. */
export const LEX_MIN: unique symbol = Symbol("lex -");
/** The `+` lex bound: above every member. */
export const LEX_MAX: unique symbol = Symbol("lex +");
/** A member string or one of the two infinite bounds. */
export type LexBound = string | typeof LEX_MIN | typeof LEX_MAX;

/** A member interval as ZRANGEBYLEX takes it (Redis's zlexrangespec). */
export interface LexRange {
  min: LexBound;
  max: LexBound;
  minExclusive: boolean;
  maxExclusive: boolean;
}

/** Redis's zslValueGteMin: is score at or above (past, when exclusive) the range's min? */
export function scoreGteMin(score: number, range: ScoreRange): boolean {
  return range.minExclusive ? score > range.min : score >= range.min;
}

/** Redis's zslValueLteMax: is score at or below (before, when exclusive) the range's max? */
export function scoreLteMax(score: number, range: ScoreRange): boolean {
  return range.maxExclusive ? score < range.max : score <= range.max;
}

/** True when no score can be in the range (min above max, or equal with an open end). */
export function isEmptyScoreRange(range: ScoreRange): boolean {
  return range.min > range.max || (range.min === range.max && (range.minExclusive || range.maxExclusive));
}

/** memcmp order of two latin1 members: negative, zero or positive. */
export function compareMembers(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Redis's sdscmplex: orders lex bounds, with `-` below and `+` above every string. Two
 * identical infinities compare equal, which makes `[- -]`-style ranges empty.
 */
export function compareLex(a: LexBound, b: LexBound): number {
  if (a === b) return 0;
  if (a === LEX_MIN || b === LEX_MAX) return -1;
  if (a === LEX_MAX || b === LEX_MIN) return 1;
  return compareMembers(a, b);
}

/** Redis's zslLexValueGteMin. */
export function lexGteMin(member: string, range: LexRange): boolean {
  const cmp = compareLex(member, range.min);
  return range.minExclusive ? cmp > 0 : cmp >= 0;
}

/** Redis's zslLexValueLteMax. */
export function lexLteMax(member: string, range: LexRange): boolean {
  const cmp = compareLex(member, range.max);
  return range.maxExclusive ? cmp < 0 : cmp <= 0;
}

/** True when no member can be in the range (min above max, or equal with an open end). */
export function isEmptyLexRange(range: LexRange): boolean {
  const cmp = compareLex(range.min, range.max);
  return cmp > 0 || (cmp === 0 && (range.minExclusive || range.maxExclusive));
}

const PLUS = 43; // '+'
const MINUS = 45; // '-'
const OPEN = 40; // '(' exclusive bound
const CLOSED = 91; // '[' inclusive bound

/**
 * Parses ZRANGEBYLEX's min and max arguments (latin1 strings) like Redis's
 * zslParseLexRange: `[member` (inclusive), `(member` (exclusive), `-` and `+`. Returns null
 * when either is invalid, the caller then replies "min or max not valid string range item".
 * The result is written into `out` when given, so a command can reuse one record.
 */
export function parseLexRange(min: string, max: string, out?: LexRange): LexRange | null {
  const minBound = parseLexBound(min);
  const maxBound = parseLexBound(max);
  if (minBound === null || maxBound === null) return null;
  const range = out ?? { min: LEX_MIN, max: LEX_MAX, minExclusive: false, maxExclusive: false };
  range.min = minBound;
  range.max = maxBound;
  range.minExclusive = isExclusiveLexArg(min);
  range.maxExclusive = isExclusiveLexArg(max);
  return range;
}

/** One lex range argument's bound, or null when the argument is not a valid item. */
function parseLexBound(arg: string): LexBound | null {
  switch (arg.charCodeAt(0)) {
    case PLUS:
      return isLoneSign(arg) ? LEX_MAX : null;
    case MINUS:
      return isLoneSign(arg) ? LEX_MIN : null;
    case OPEN:
    case CLOSED:
      return arg.slice(1);
    default:
      // Includes the empty argument, whose first char code is NaN.
      return null;
  }
}

/**
 * Redis checks that the byte after `+`/`-` is the C string terminator, so an argument that
 * continues after a NUL byte ("+\0x") still counts as the bare sign. Replies must match.
 */
function isLoneSign(arg: string): boolean {
  return arg.length === 1 || arg.charCodeAt(1) === 0;
}

/** `(member`, `-` and `+` are exclusive (Redis sets the flag for the infinities too). */
function isExclusiveLexArg(arg: string): boolean {
  return arg.charCodeAt(0) !== CLOSED;
}

/** Where range deletions report removed members; a Dict, Map or Set all fit. */
export interface MemberSink {
  delete(member: string): unknown;
}

// ---------------------------------------------------------------------------------------
// Nodes
// ---------------------------------------------------------------------------------------

/**
 * One element of the list (or the header, which holds none). The links of each level are
 * the node's own indexed properties, forward link at 2*i and its span at 2*i + 1, rather
 * than two arrays beside it: the runtime keeps them in the object's element storage, so a
 * search step reads one pointer less (measured twice as fast on a 200,000-node list,
 * whose walks miss the cache at every step) and a node is one allocation less.
 */
export class ZNode {
  member: string;
  score: number;
  /** The previous node at level 0; null on the first node. */
  backward: ZNode | null = null;
  /** How many levels the node has, 1..ZSKIPLIST_MAXLEVEL. */
  readonly level: number;
  /** The links; reach them only through forwardAt/spanAt and their setters. */
  readonly [link: number]: ZNode | number | null;

  constructor(level: number, score: number, member: string) {
    this.member = member;
    this.score = score;
    this.level = level;
    // Filled in index order, so the runtime lays the elements out as one dense vector.
    for (let i = 0; i < level; i++) {
      this.setForward(i, null);
      this.setSpan(i, 0);
    }
  }

  /** The next node at level i, or null after the last that reaches it. */
  forwardAt(i: number): ZNode | null {
    return this[2 * i] as ZNode | null;
  }

  /** How many level-0 steps the level i link jumps. */
  spanAt(i: number): number {
    return this[2 * i + 1] as number;
  }

  setForward(i: number, node: ZNode | null): void {
    (this as Links)[2 * i] = node;
  }

  setSpan(i: number, steps: number): void {
    (this as Links)[2 * i + 1] = steps;
  }

  addSpan(i: number, steps: number): void {
    (this as Links)[2 * i + 1] = (this[2 * i + 1] as number) + steps;
  }

  /** The next element in order, or null after the last. */
  get next(): ZNode | null {
    return this.forwardAt(0);
  }

  /** The previous element in order, or null before the first. */
  get prev(): ZNode | null {
    return this.backward;
  }
}

/** ZNode's links as writable elements, for its setters. */
type Links = { [link: number]: ZNode | number | null };

/** Does node sort strictly before (score, member)? */
function precedes(node: ZNode, score: number, member: string): boolean {
  return node.score < score || (node.score === score && node.member < member);
}

/** Does node sort before or at (score, member)? */
function precedesOrIs(node: ZNode, score: number, member: string): boolean {
  return node.score < score || (node.score === score && node.member <= member);
}

/*
 * The search path of the current operation: update[i] is the last node at level i before
 * the position being worked on, and rank[i] that node's 1-based rank (0 for the header).
 */
const update: (ZNode | null)[] = new Array<ZNode | null>(ZSKIPLIST_MAXLEVEL).fill(null);
const rank = new Float64Array(ZSKIPLIST_MAXLEVEL);

function pathAt(i: number): ZNode {
  return update[i]!;
}

/** Drops the path's references so a deleted list can be collected. */
function clearPath(levels: number): void {
  for (let i = 0; i < levels; i++) update[i] = null;
}

// ---------------------------------------------------------------------------------------
// ZSkipList
// ---------------------------------------------------------------------------------------

/** Redis's zskiplist: elements ordered by (score, member), with O(log N) rank. */
export class ZSkipList {
  private readonly header = new ZNode(ZSKIPLIST_MAXLEVEL, 0, "");
  private tail: ZNode | null = null;
  private count = 0;
  private level = 1;
  /** What the linked nodes cost (ZNODE_BYTES and ZNODE_LEVEL_BYTES each). */
  private nodeBytes = 0;
  /** The table holding the zset, told of every change of memoryBytes; null when none. */
  ledger: MemoryLedger | null = null;

  /** `random` draws the node levels; tests pass a seeded one to replay a shape. */
  constructor(private readonly random: () => number = Math.random) {}

  get length(): number {
    return this.count;
  }

  /** Heap bytes held by the list now; the members' strings are the dict's. */
  get memoryBytes(): number {
    return ZSKIPLIST_BYTES + this.nodeBytes;
  }

  /** The lowest element, or null when empty. */
  get first(): ZNode | null {
    return this.header.forwardAt(0);
  }

  /** The highest element, or null when empty. */
  get last(): ZNode | null {
    return this.tail;
  }

  /** Adds an element; the member must not be in the list already (the dict knows). */
  insert(score: number, member: string): ZNode {
    if (score !== score) throw new RangeError("ZSkipList.insert: score is NaN");
    const node = new ZNode(this.randomLevel(), score, member);
    this.link(node);
    return node;
  }

  /** Removes (score, member); returns its node, unlinked, or null when absent. */
  delete(score: number, member: string): ZNode | null {
    const levels = this.level;
    const x = this.findBefore(score, member);
    if (x === null || x.score !== score || x.member !== member) {
      clearPath(levels);
      return null;
    }
    this.unlink(x);
    clearPath(levels);
    detach(x);
    return x;
  }

  /**
   * Moves (curScore, member), which must be present, to newScore and returns its node.
   * Like Redis's zslUpdateScore, the node keeps its place when its neighbours' scores
   * still bracket the new score; otherwise it is unlinked and linked back in order.
   */
  updateScore(curScore: number, member: string, newScore: number): ZNode {
    if (newScore !== newScore) throw new RangeError("ZSkipList.updateScore: score is NaN");
    const levels = this.level;
    const x = this.findBefore(curScore, member);
    if (x === null || x.score !== curScore || x.member !== member) {
      clearPath(levels);
      throw new Error("ZSkipList.updateScore: element not found");
    }
    if (staysInPlace(x, newScore)) {
      clearPath(levels);
      x.score = newScore;
    } else {
      this.move(x, newScore, levels);
    }
    return x;
  }

  /**
   * updateScore for a node already in hand (the dict holds it): the in-place check needs
   * only its neighbours, so the search happens only when the node has to move.
   */
  rescore(node: ZNode, newScore: number): void {
    if (newScore !== newScore) throw new RangeError("ZSkipList.rescore: score is NaN");
    if (staysInPlace(node, newScore)) {
      node.score = newScore;
      return;
    }
    const levels = this.level;
    this.findBefore(node.score, node.member);
    this.move(node, newScore, levels);
  }

  /** Redis's zslGetRank: the 1-based rank of (score, member), or 0 when absent. */
  getRank(score: number, member: string): number {
    let traversed = 0;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let next = x.forwardAt(i);
      while (next !== null && precedesOrIs(next, score, member)) {
        traversed += x.spanAt(i);
        x = next;
        next = x.forwardAt(i);
      }
      // x is the last element at or before the target: it is the target or it is absent.
      if (x !== this.header && x.score === score && x.member === member) return traversed;
    }
    return 0;
  }

  /** Redis's zslGetElementByRank: the element at 1-based rank, or null out of 1..length. */
  byRank(rank: number): ZNode | null {
    if (!(rank >= 1)) return null;
    let traversed = 0;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let next = x.forwardAt(i);
      while (next !== null && traversed + x.spanAt(i) <= rank) {
        traversed += x.spanAt(i);
        x = next;
        next = x.forwardAt(i);
      }
      if (traversed === rank) return x;
    }
    return null;
  }

  /** Redis's zslIsInRange: could any element be in the score range? */
  isInScoreRange(range: ScoreRange): boolean {
    if (isEmptyScoreRange(range)) return false;
    const first = this.header.forwardAt(0);
    const last = this.tail;
    return last !== null && scoreGteMin(last.score, range) && first !== null && scoreLteMax(first.score, range);
  }

  /** Redis's zslFirstInRange: the lowest element in the score range, or null. */
  firstInScoreRange(range: ScoreRange): ZNode | null {
    if (!this.isInScoreRange(range)) return null;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let next = x.forwardAt(i);
      while (next !== null && !scoreGteMin(next.score, range)) {
        x = next;
        next = x.forwardAt(i);
      }
    }
    // isInScoreRange saw the tail at or above min, so an element follows x.
    const found = x.forwardAt(0)!;
    return scoreLteMax(found.score, range) ? found : null;
  }

  /** Redis's zslLastInRange: the highest element in the score range, or null. */
  lastInScoreRange(range: ScoreRange): ZNode | null {
    if (!this.isInScoreRange(range)) return null;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let next = x.forwardAt(i);
      while (next !== null && scoreLteMax(next.score, range)) {
        x = next;
        next = x.forwardAt(i);
      }
    }
    // isInScoreRange saw the first element at or below max, so x is not the header.
    return scoreGteMin(x.score, range) ? x : null;
  }

  // The lex methods mirror the score methods above line for line, as in Redis: only the
  // bound tests differ, and passing those in as functions would cost an indirect call at
  // every step of the search.

  /** Redis's zslIsInLexRange: could any element be in the lex range? */
  isInLexRange(range: LexRange): boolean {
    if (isEmptyLexRange(range)) return false;
    const first = this.header.forwardAt(0);
    const last = this.tail;
    return last !== null && lexGteMin(last.member, range) && first !== null && lexLteMax(first.member, range);
  }

  /** Redis's zslFirstInLexRange: the lowest element in the lex range, or null. */
  firstInLexRange(range: LexRange): ZNode | null {
    if (!this.isInLexRange(range)) return null;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let next = x.forwardAt(i);
      while (next !== null && !lexGteMin(next.member, range)) {
        x = next;
        next = x.forwardAt(i);
      }
    }
    // With equal scores the members are sorted, so the check above guarantees a node here;
    // with mixed scores Redis gives no guarantee, and neither does null-safety here.
    const found = x.forwardAt(0)!;
    return found !== null && lexLteMax(found.member, range) ? found : null;
  }

  /** Redis's zslLastInLexRange: the highest element in the lex range, or null. */
  lastInLexRange(range: LexRange): ZNode | null {
    if (!this.isInLexRange(range)) return null;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let next = x.forwardAt(i);
      while (next !== null && lexLteMax(next.member, range)) {
        x = next;
        next = x.forwardAt(i);
      }
    }
    return x !== this.header && lexGteMin(x.member, range) ? x : null;
  }

  /** Redis's zslDeleteRangeByScore: removes the elements in range, reporting each to sink. */
  deleteRangeByScore(range: ScoreRange, sink?: MemberSink): number {
    const levels = this.level;
    let x = this.header;
    for (let i = levels - 1; i >= 0; i--) {
      let next = x.forwardAt(i);
      while (next !== null && !scoreGteMin(next.score, range)) {
        x = next;
        next = x.forwardAt(i);
      }
      update[i] = x;
    }
    let node: ZNode | null = x.forwardAt(0);
    let removed = 0;
    while (node !== null && scoreLteMax(node.score, range)) {
      node = this.deleteOnPath(node, sink);
      removed++;
    }
    clearPath(levels);
    return removed;
  }

  /** Redis's zslDeleteRangeByLex: removes the elements in range, reporting each to sink. */
  deleteRangeByLex(range: LexRange, sink?: MemberSink): number {
    const levels = this.level;
    let x = this.header;
    for (let i = levels - 1; i >= 0; i--) {
      let next = x.forwardAt(i);
      while (next !== null && !lexGteMin(next.member, range)) {
        x = next;
        next = x.forwardAt(i);
      }
      update[i] = x;
    }
    let node: ZNode | null = x.forwardAt(0);
    let removed = 0;
    while (node !== null && lexLteMax(node.member, range)) {
      node = this.deleteOnPath(node, sink);
      removed++;
    }
    clearPath(levels);
    return removed;
  }

  /**
   * Redis's zslDeleteRangeByRank: removes the elements with 1-based ranks start..end
   * (inclusive, clipped to the list), reporting each to sink.
   */
  deleteRangeByRank(start: number, end: number, sink?: MemberSink): number {
    const levels = this.level;
    let traversed = 0;
    let x = this.header;
    for (let i = levels - 1; i >= 0; i--) {
      let next = x.forwardAt(i);
      while (next !== null && traversed + x.spanAt(i) < start) {
        traversed += x.spanAt(i);
        x = next;
        next = x.forwardAt(i);
      }
      update[i] = x;
    }
    let node: ZNode | null = x.forwardAt(0);
    let removed = 0;
    for (traversed++; node !== null && traversed <= end; traversed++) {
      node = this.deleteOnPath(node, sink);
      removed++;
    }
    clearPath(levels);
    return removed;
  }

  /**
   * The elements from `from` (default: the first, or the last when reverse) onwards, for
   * callers off the hot path; hot loops follow `next`/`prev` themselves.
   */
  *nodes(from: ZNode | null = null, reverse = false): IterableIterator<ZNode> {
    let node = from ?? (reverse ? this.tail : this.header.forwardAt(0));
    while (node !== null) {
      // Read the link first so the caller may delete the node it was given.
      const following: ZNode | null = reverse ? node.backward : node.forwardAt(0);
      yield node;
      node = following;
    }
  }

  /**
   * A copy with the same shape (every node keeps its level), built in one ordered pass
   * instead of N searches: COPY and DEBUG RELOAD-style duplication stay O(N).
   */
  dup(): ZSkipList {
    const copy = new ZSkipList(this.random);
    let previous: ZNode | null = null;
    for (let node = this.header.forwardAt(0); node !== null; node = node.forwardAt(0)) {
      const twin = new ZNode(node.level, node.score, node.member);
      twin.backward = previous;
      copy.append(twin);
      previous = twin;
    }
    copy.closeSpans();
    return copy;
  }

  /**
   * Checks every structural invariant and throws on the first broken one: order, ranks
   * and spans, backward links, levels, tail and length. It walks the whole list, so tests
   * and DEBUG commands call it, never the hot path.
   */
  validate(): void {
    const header = this.header;
    check(header.level === ZSKIPLIST_MAXLEVEL, `header has ${header.level} levels, expected ${ZSKIPLIST_MAXLEVEL}`);
    check(this.level >= 1 && this.level <= ZSKIPLIST_MAXLEVEL, `list level ${this.level} is outside 1..32`);
    const tallerThan = new Array<number>(ZSKIPLIST_MAXLEVEL).fill(0);
    const ranks = this.validateLevelZero(tallerThan);
    for (let i = 0; i < this.level; i++) this.validateLevel(i, ranks, tallerThan[i]!);
    for (let i = this.level; i < ZSKIPLIST_MAXLEVEL; i++) {
      check(header.forwardAt(i) === null, `header links at level ${i}, above the list level ${this.level}`);
    }
    let bytes = 0;
    for (const node of ranks.keys()) if (node !== header) bytes += ZNODE_BYTES + ZNODE_LEVEL_BYTES * node.level;
    check(bytes === this.nodeBytes, `node bytes add up (counted ${this.nodeBytes}, linked ${bytes})`);
  }

  // -------------------------------------------------------------------------------------
  // Internals
  // -------------------------------------------------------------------------------------

  /** Redis's zslRandomLevel: 1, plus one more with probability P each time, up to 32. */
  private randomLevel(): number {
    let level = 1;
    while (level < ZSKIPLIST_MAXLEVEL && this.random() < ZSKIPLIST_P) level++;
    return level;
  }

  /**
   * Fills the search path for (score, member) without ranks and returns the node after
   * update[0]: the element itself when present.
   */
  private findBefore(score: number, member: string): ZNode | null {
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let next = x.forwardAt(i);
      while (next !== null && precedes(next, score, member)) {
        x = next;
        next = x.forwardAt(i);
      }
      update[i] = x;
    }
    return x.forwardAt(0);
  }

  /** Links a detached node in order (Redis's zslInsert after the node is created). */
  private link(node: ZNode): void {
    const score = node.score;
    const member = node.member;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      rank[i] = i === this.level - 1 ? 0 : rank[i + 1]!;
      let next = x.forwardAt(i);
      while (next !== null && precedes(next, score, member)) {
        rank[i] += x.spanAt(i);
        x = next;
        next = x.forwardAt(i);
      }
      update[i] = x;
    }
    const nodeLevel = node.level;
    if (nodeLevel > this.level) this.raiseLevel(nodeLevel);
    const before = rank[0]!;
    for (let i = 0; i < nodeLevel; i++) {
      const previous = pathAt(i);
      node.setForward(i, previous.forwardAt(i));
      previous.setForward(i, node);
      // previous jumped span steps; node now sits (before - rank[i] + 1) steps after it.
      node.setSpan(i, previous.spanAt(i) - (before - rank[i]!));
      previous.setSpan(i, before - rank[i]! + 1);
    }
    // Links above the node now jump over one more element.
    for (let i = nodeLevel; i < this.level; i++) pathAt(i).addSpan(i, 1);
    node.backward = update[0] === this.header ? null : pathAt(0);
    const after = node.forwardAt(0);
    if (after !== null) after.backward = node;
    else this.tail = node;
    this.count++;
    this.nodeLinked(node, 1);
    clearPath(this.level);
  }

  /** Opens levels up to `level` for a taller node: their path starts at the header. */
  private raiseLevel(level: number): void {
    for (let i = this.level; i < level; i++) {
      rank[i] = 0;
      update[i] = this.header;
      this.header.setSpan(i, this.count);
    }
    this.level = level;
  }

  /** Redis's zslDeleteNode: unlinks x using the search path that ends just before it. */
  private unlink(x: ZNode): void {
    for (let i = 0; i < this.level; i++) {
      const previous = pathAt(i);
      if (previous.forwardAt(i) === x) {
        previous.addSpan(i, x.spanAt(i) - 1);
        previous.setForward(i, x.forwardAt(i));
      } else {
        previous.addSpan(i, -1);
      }
    }
    const after = x.forwardAt(0);
    if (after !== null) after.backward = x.backward;
    else this.tail = x.backward;
    while (this.level > 1 && this.header.forwardAt(this.level - 1) === null) this.level--;
    this.count--;
    this.nodeLinked(x, -1);
  }

  /**
   * Unlinks node along the path in update[] (`levels` deep) and links it back in order at
   * newScore, reusing the node and its level.
   */
  private move(node: ZNode, newScore: number, levels: number): void {
    this.unlink(node);
    clearPath(levels);
    node.score = newScore;
    this.link(node);
  }

  /** Removes node (whose path is in update[]) during a range deletion; returns its successor. */
  private deleteOnPath(node: ZNode, sink: MemberSink | undefined): ZNode | null {
    const next = node.forwardAt(0);
    this.unlink(node);
    detach(node);
    sink?.delete(node.member);
    return next;
  }

  /**
   * Appends a node that sorts after every element, for dup(): the update path doubles as
   * "the last node at each level", and rank[i] holds that node's rank. Spans to the new
   * node are exact; null links are fixed by closeSpans() once the list is complete.
   */
  private append(node: ZNode): void {
    if (this.count === 0) {
      for (let i = 0; i < ZSKIPLIST_MAXLEVEL; i++) {
        update[i] = this.header;
        rank[i] = 0;
      }
    }
    const nodeRank = this.count + 1;
    for (let i = 0; i < node.level; i++) {
      const previous = pathAt(i);
      previous.setForward(i, node);
      previous.setSpan(i, nodeRank - rank[i]!);
      update[i] = node;
      rank[i] = nodeRank;
    }
    if (node.level > this.level) this.level = node.level;
    this.tail = node;
    this.count = nodeRank;
    this.nodeLinked(node, 1);
  }

  /** Counts a node linked (sign 1) or unlinked (-1), and tells the ledger. */
  private nodeLinked(node: ZNode, sign: 1 | -1): void {
    const delta = sign * (ZNODE_BYTES + ZNODE_LEVEL_BYTES * node.level);
    this.nodeBytes += delta;
    if (this.ledger !== null) this.ledger.objectBytes += delta;
  }

  /** Sets every null link's span to the number of elements after its owner, as in Redis. */
  private closeSpans(): void {
    if (this.count === 0) return;
    for (let i = 0; i < this.level; i++) pathAt(i).setSpan(i, this.count - rank[i]!);
    clearPath(ZSKIPLIST_MAXLEVEL);
  }

  /**
   * Walks level 0 checking order, backward links, node levels, tail and length; returns
   * each node's rank and counts in tallerThan[i] the nodes that reach level i.
   */
  private validateLevelZero(tallerThan: number[]): Map<ZNode, number> {
    const ranks = new Map<ZNode, number>();
    ranks.set(this.header, 0);
    let previous: ZNode | null = null;
    let highest = 1;
    for (let node = this.header.forwardAt(0); node !== null; node = node.forwardAt(0)) {
      const at = ranks.size;
      check(!ranks.has(node), `node at rank ${at} is linked twice (a cycle)`);
      check(at <= this.count, `more elements linked than the length ${this.count}`);
      check(typeof node.member === "string", `node at rank ${at} has no member`);
      check(node.score === node.score, `node at rank ${at} has a NaN score`);
      check(node.level >= 1 && node.level <= ZSKIPLIST_MAXLEVEL, `node at rank ${at} has level ${node.level}`);
      check(typeof node.spanAt(node.level - 1) === "number" && node[2 * node.level] === undefined, `node at rank ${at} has links for other than ${node.level} levels`);
      check(node.backward === previous, `node at rank ${at} has a wrong backward link`);
      if (previous !== null) {
        check(precedes(previous, node.score, node.member), `node at rank ${at} is out of order ${describe(previous)} >= ${describe(node)}`);
      }
      highest = Math.max(highest, node.level);
      for (let i = 0; i < node.level; i++) tallerThan[i]!++;
      ranks.set(node, at);
      previous = node;
    }
    check(ranks.size - 1 === this.count, `length is ${this.count} but ${ranks.size - 1} elements are linked`);
    check(this.tail === previous, "tail is not the last element");
    check(this.level === highest, `list level is ${this.level} but the tallest node has ${highest}`);
    return ranks;
  }

  /** Walks level i checking that it visits exactly the `expected` nodes that reach it, with exact spans. */
  private validateLevel(i: number, ranks: Map<ZNode, number>, expected: number): void {
    let visited = 0;
    let x = this.header;
    for (;;) {
      const xRank = ranks.get(x)!;
      const next = x.forwardAt(i);
      if (next === null) {
        check(x.spanAt(i) === this.count - xRank, `level ${i}: last link at rank ${xRank} spans ${x.spanAt(i)}, expected ${this.count - xRank}`);
        break;
      }
      check(next.level > i, `level ${i}: link at rank ${xRank} leads to a node of level ${next.level}`);
      const nextRank = ranks.get(next);
      check(nextRank !== undefined, `level ${i}: link at rank ${xRank} leads outside level 0`);
      check(nextRank! > xRank, `level ${i}: link at rank ${xRank} goes backwards to rank ${nextRank}`);
      check(x.spanAt(i) === nextRank! - xRank, `level ${i}: link at rank ${xRank} spans ${x.spanAt(i)}, expected ${nextRank! - xRank}`);
      visited++;
      x = next;
    }
    check(visited === expected, `level ${i} links ${visited} nodes, but ${expected} nodes are that tall`);
  }
}

/** Redis's fast-path test: do the neighbours' scores still strictly bracket newScore? */
function staysInPlace(node: ZNode, newScore: number): boolean {
  const before = node.backward;
  const after = node.forwardAt(0);
  return (before === null || before.score < newScore) && (after === null || after.score > newScore);
}

/** Drops a removed node's links, so a caller holding it neither walks nor pins the list. */
function detach(node: ZNode): void {
  node.backward = null;
  for (let i = 0; i < node.level; i++) node.setForward(i, null);
}

function describe(node: ZNode): string {
  return `(${node.score}, ${JSON.stringify(node.member)})`;
}

function check(condition: boolean, invariant: string): void {
  if (!condition) throw new Error(`ZSkipList invariant broken: ${invariant}`);
}

// ---------------------------------------------------------------------------------------
// SkiplistZSet
// ---------------------------------------------------------------------------------------

/**
 * A sorted set in the skiplist encoding: the ordered list plus a Dict from member to its
 * node, always holding the same elements. The list gives order and rank; the dict gives
 * O(1) membership and score.
 */
export class SkiplistZSet {
  readonly list: ZSkipList;
  private readonly nodes: Dict<ZNode>;

  constructor(list: ZSkipList = new ZSkipList(), nodes: Dict<ZNode> = new Dict<ZNode>()) {
    this.list = list;
    this.nodes = nodes;
  }

  /** A new empty set whose member table is sized for `count` elements (Redis's dictExpand before a bulk load). */
  static withCapacity(count: number): SkiplistZSet {
    return new SkiplistZSet(new ZSkipList(), new Dict<ZNode>(count));
  }

  get size(): number {
    return this.list.length;
  }

  /** Heap bytes held now: the list's nodes and the dict with the members' strings. */
  get memoryBytes(): number {
    return ZSET_BYTES + this.list.memoryBytes + this.nodes.memoryBytes;
  }

  /** The table holding this zset; both halves report their changes to it. */
  get ledger(): MemoryLedger | null {
    return this.list.ledger;
  }

  set ledger(ledger: MemoryLedger | null) {
    this.list.ledger = ledger;
    this.nodes.ledger = ledger;
  }

  has(member: string): boolean {
    return this.nodes.has(member);
  }

  /** The member's score, or undefined when absent (ZSCORE). */
  score(member: string): number | undefined {
    return this.nodes.get(member)?.score;
  }

  /** The member's node, to start an iteration from it; undefined when absent. */
  node(member: string): ZNode | undefined {
    return this.nodes.get(member);
  }

  /** A uniformly random element (ZRANDMEMBER), or undefined when the set is empty. */
  random(): ZNode | undefined {
    const member = this.nodes.randomKey();
    return member === undefined ? undefined : this.nodes.get(member);
  }

  /**
   * One step of a cursor scan of the member table (ZSCAN, as Redis scans the zset's dict):
   * fn gets each member of one bucket with its node. Returns the next cursor, 0 at the end.
   */
  scan(cursor: number, fn: (member: string, node: ZNode) => void): number {
    return this.nodes.scan(cursor, fn);
  }

  /** Sets member's score, adding it when absent; returns true when the member was new. */
  add(member: string, score: number): boolean {
    const node = this.nodes.get(member);
    if (node !== undefined) {
      // Like Redis, an equal score (0 and -0 included) leaves the element untouched.
      if (node.score !== score) this.list.rescore(node, score);
      return false;
    }
    this.nodes.set(member, this.list.insert(score, member));
    return true;
  }

  /** Removes member; returns true when it was present. */
  remove(member: string): boolean {
    const node = this.nodes.get(member);
    if (node === undefined) return false;
    this.nodes.delete(member);
    this.list.delete(node.score, member);
    return true;
  }

  /**
   * Adds delta to member's score (from 0 when absent) and returns the new score. A NaN sum
   * (+inf plus -inf) changes nothing and returns NaN, for the caller to reply with
   * Redis's "resulting score is not a number" error.
   */
  incr(member: string, delta: number): number {
    const node = this.nodes.get(member);
    const score = (node === undefined ? 0 : node.score) + delta;
    if (score !== score) return NaN;
    if (node === undefined) this.nodes.set(member, this.list.insert(score, member));
    else if (node.score !== score) this.list.rescore(node, score);
    return score;
  }

  /** The member's 0-based rank, from the highest when reverse (ZRANK/ZREVRANK); -1 when absent. */
  rank(member: string, reverse = false): number {
    const node = this.nodes.get(member);
    if (node === undefined) return -1;
    const rank1 = this.list.getRank(node.score, member);
    return reverse ? this.list.length - rank1 : rank1 - 1;
  }

  /** ZREMRANGEBYSCORE: removes the elements in range; returns how many. */
  deleteRangeByScore(range: ScoreRange): number {
    return this.list.deleteRangeByScore(range, this.nodes);
  }

  /** ZREMRANGEBYLEX: removes the elements in range; returns how many. */
  deleteRangeByLex(range: LexRange): number {
    return this.list.deleteRangeByLex(range, this.nodes);
  }

  /** ZREMRANGEBYRANK: removes 1-based ranks start..end inclusive; returns how many. */
  deleteRangeByRank(start: number, end: number): number {
    return this.list.deleteRangeByRank(start, end, this.nodes);
  }

  /** A deep copy sharing nothing with this set (COPY). */
  dup(): SkiplistZSet {
    const list = this.list.dup();
    const nodes = new Dict<ZNode>(list.length);
    for (let node = list.first; node !== null; node = node.next) nodes.set(node.member, node);
    return new SkiplistZSet(list, nodes);
  }

  /** Checks both structures and that they hold the same elements; throws when not. */
  validate(): void {
    this.list.validate();
    this.nodes.validate();
    const listed = this.list.length;
    if (this.nodes.size !== listed) {
      throw new Error(`SkiplistZSet invariant broken: dict holds ${this.nodes.size} members, list ${listed}`);
    }
    for (let node = this.list.first; node !== null; node = node.next) {
      if (this.nodes.get(node.member) !== node) {
        throw new Error(`SkiplistZSet invariant broken: dict does not map ${describe(node)} to its node`);
      }
    }
  }
}
