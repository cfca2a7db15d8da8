// Sorted set commands (Redis's t_zset.c): ZADD ZINCRBY ZREM ZCARD ZSCORE ZMSCORE ZRANK
// ZREVRANK ZCOUNT ZLEXCOUNT ZRANGE ZRANGESTORE ZREVRANGE ZRANGEBYSCORE ZREVRANGEBYSCORE
// ZRANGEBYLEX ZREVRANGEBYLEX ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX ZPOPMIN ZPOPMAX
// ZMPOP ZRANDMEMBER ZUNION ZINTER ZDIFF ZUNIONSTORE ZINTERSTORE ZDIFFSTORE ZINTERCARD ZSCAN.
//
// A sorted set has Redis 7.0's two encodings:
//   - listpack: member, score, member, score ... sorted by (score, member), as packed bytes
//     (store/packed.ts). A score is stored as Redis 7.0 stores it: an integral score within
//     2^62 as an integer entry (-0 included, which so becomes 0), anything else as its
//     "%.17g" text ("0.10000000000000001", "1e+20", "inf");
//   - skiplist: a SkiplistZSet, the skiplist plus a member -> node hash table.
// A set starts as a listpack and moves to a skiplist for good once it would hold more than
// zset-max-listpack-entries elements or a member longer than zset-max-listpack-value bytes;
// only the commands that build a whole new set (ZRANGESTORE, ZUNIONSTORE ...) pick the
// encoding afresh from the result. Both choices are observable through OBJECT ENCODING and
// so follow Redis exactly.
//
// The file is in sections: the type's API over its encodings, a walker that reads either
// encoding in order, then the commands, DEBUG DIGEST, and the command table.

import type { Client } from "../server/client.ts";
import { type Argv, latin1 } from "../resp/parser.ts";
import type { ReplyWriter } from "../resp/writer.ts";
import { ERR, atLeastOneInputKey } from "../resp/errors.ts";
import type { Config } from "../config/params.ts";
import { type Db } from "../store/db.ts";
import { Enc, ObjType, metaEnc, packMeta } from "../store/object.ts";
import { editPacked, locatePacked, packedAt, storePacked } from "../store/packed.ts";
import { DIGEST_LEN, mixDigest, registerDigester, xorDigest } from "../store/digest.ts";
import {
  LP_AFTER,
  LP_BEFORE,
  type LpWhere,
  lpAddReplyEntry,
  lpBytes,
  lpCompare,
  lpDeleteRange,
  lpDeleteRangeWithEntry,
  lpEdited,
  lpEnd,
  lpEntry,
  lpEntryInt64,
  lpFind,
  lpFirst,
  lpGet,
  lpGetLatin1,
  lpInsertInteger,
  lpInsertString,
  lpLength,
  lpNew,
  lpNext,
  lpPrev,
  lpSeek,
  lpSkip,
} from "../encoding/listpack.ts";
import {
  LEX_MAX,
  LEX_MIN,
  type LexBound,
  type LexRange,
  type ScoreRange,
  SkiplistZSet,
  type ZNode,
  type ZSkipList,
  isEmptyLexRange,
  isEmptyScoreRange,
  lexGteMin,
  lexLteMax,
  parseLexRange,
  scoreGteMin,
  scoreLteMax,
} from "../encoding/skiplist.ts";
import { formatDouble, formatInt64, parseDouble, parseStrtod } from "../util/numbers.ts";
import { TimeoutUnit, parseIntArg, parseRangeArgOr, parseTimeoutArg } from "./args.ts";
import type { BlockedWait } from "../server/blocking.ts";
import { type ScanSource, collectionScanDef, gatherListpack, gatherScannedPair } from "./scan.ts";
import { setCard, setIsMember, setMembers } from "./set.ts";
import { drawDistinct, picksMostOf, shufflePrefix } from "../util/sample.ts";
import { parseRandomPairsArgs } from "./hash.ts";
import { type CommandDef, type KeySpec, keyRange } from "./table.ts";
import { NOTIFY, notifyArg, notifyId } from "../server/notify.ts";

const EMPTY: Uint8Array = new Uint8Array(0);

// ---------------------------------------------------------------------------------------
// Which encoding a stored zset has (a skiplist is a SkiplistZSet from encoding/skiplist.ts)
// ---------------------------------------------------------------------------------------

function isPacked(db: Db, id: number): boolean {
  return metaEnc(db.table.getMeta(id)) === Enc.ListPack;
}

function skiplistOf(db: Db, id: number): SkiplistZSet {
  return db.table.getObject(id) as SkiplistZSet;
}

/** Makes `zs` the value of `id`, in the skiplist encoding. */
function storeSkiplist(db: Db, id: number, zs: SkiplistZSet): void {
  db.table.setObject(id, zs);
  db.table.setMeta(id, packMeta(ObjType.ZSet, Enc.SkipList, db.clock.lru));
}

function storeListpack(db: Db, id: number, buf: Uint8Array): void {
  storePacked(db, id, ObjType.ZSet, Enc.ListPack, buf, lpBytes(buf, 0));
}

// ---------------------------------------------------------------------------------------
// The listpack encoding: scores and member comparisons
// ---------------------------------------------------------------------------------------

/**
 * Redis's zzlGetScore: the score entry at p, an integer or the text strtod reads (Redis
 * copies at most 127 bytes of it into a C string first).
 */
function lpScoreAt(buf: Uint8Array, p: number): number {
  lpGet(buf, p);
  const e = lpEntry;
  if (e.isInt) return e.isBig ? Number(e.big) : e.int;
  return parseStrtod(buf, e.start, Math.min(e.len, 127));
}

/** Where a score's text is written before it goes into a listpack. */
const scoreText = new Uint8Array(32);

/** Redis's double2ll bound: integral scores up to 2^62 in magnitude are stored as integers. */
const INTEGRAL_SCORE_MAX = 2 ** 62;

/**
 * Inserts a score entry before, after or in place of the entry at p, as Redis 7.0's
 * zzlInsertAt writes it: an integral score within 2^62 as an integer entry (-0 becoming
 * 0, so that a listpack never keeps the sign of a zero, unlike a skiplist), anything else
 * as its "%.17g" text.
 */
export function lpInsertScore(buf: Uint8Array, p: number, where: LpWhere, score: number): Uint8Array {
  if (Number.isSafeInteger(score)) return lpInsertInteger(buf, p, where, score);
  if (Number.isInteger(score) && Math.abs(score) <= INTEGRAL_SCORE_MAX) return lpInsertInteger(buf, p, where, BigInt(score));
  const text = formatDouble(score);
  for (let i = 0; i < text.length; i++) scoreText[i] = text.charCodeAt(i);
  return lpInsertString(buf, p, where, scoreText, 0, text.length);
}

/**
 * Inserts (member, score) as a pair before the member entry at p, or at the end when p is
 * -1 (Redis's zzlInsertAt). The listpack is at offset 0 of buf.
 */
function lpInsertPair(buf: Uint8Array, p: number, src: Uint8Array, start: number, len: number, score: number): Uint8Array {
  const at = p < 0 ? lpEnd(buf, 0) : p;
  buf = lpInsertString(buf, at, LP_BEFORE, src, start, len);
  return lpInsertScore(buf, lpEdited.pos, LP_AFTER, score);
}

/** Digits of an integer entry, for comparing it as the text it stands for. */
const entryDigits = new Uint8Array(24);
/** The bytes of the entry entryText() last read: entryBuf[entryStart .. entryStart + entryLen). */
let entryBuf: Uint8Array = EMPTY;
let entryStart = 0;
let entryLen = 0;

/** Points entryBuf/entryStart/entryLen at the entry's bytes, an integer as its decimal text. */
function entryText(buf: Uint8Array, p: number): void {
  lpGet(buf, p);
  if (lpEntry.isInt) {
    entryBuf = entryDigits;
    entryStart = 0;
    entryLen = formatInt64(lpEntryInt64(), entryDigits, 0);
  } else {
    entryBuf = buf;
    entryStart = lpEntry.start;
    entryLen = lpEntry.len;
  }
}

/** memcmp order of the entry at p against src[start .. start+len) (Redis's zzlCompareElements). */
function compareEntry(buf: Uint8Array, p: number, src: Uint8Array, start: number, len: number): number {
  entryText(buf, p);
  const n = Math.min(entryLen, len);
  for (let i = 0; i < n; i++) {
    const d = entryBuf[entryStart + i]! - src[start + i]!;
    if (d !== 0) return d;
  }
  return entryLen - len;
}

/** memcmp order of the entry at p against a latin1 string (a lex range bound). */
function compareEntryLatin1(buf: Uint8Array, p: number, s: string): number {
  entryText(buf, p);
  const n = Math.min(entryLen, s.length);
  for (let i = 0; i < n; i++) {
    const d = entryBuf[entryStart + i]! - s.charCodeAt(i);
    if (d !== 0) return d;
  }
  return entryLen - s.length;
}

/** Redis's sdscmplex of the member entry at p against a lex bound. */
function compareEntryLex(buf: Uint8Array, p: number, bound: LexBound): number {
  if (bound === LEX_MIN) return 1;
  if (bound === LEX_MAX) return -1;
  return compareEntryLatin1(buf, p, bound);
}

function entryLexGteMin(buf: Uint8Array, p: number, range: LexRange): boolean {
  const cmp = compareEntryLex(buf, p, range.min);
  return range.minExclusive ? cmp > 0 : cmp >= 0;
}

function entryLexLteMax(buf: Uint8Array, p: number, range: LexRange): boolean {
  const cmp = compareEntryLex(buf, p, range.max);
  return range.maxExclusive ? cmp < 0 : cmp <= 0;
}

/** The member entry equal to these bytes in the listpack at buf[base..], or -1 (zzlFind). */
function lpFindMember(buf: Uint8Array, base: number, src: Uint8Array, start: number, len: number): number {
  return lpFind(buf, lpFirst(buf, base), src, start, len, 1);
}

/** The member entry after the pair whose member is at p, or -1 (zzlNext). */
function lpNextMember(buf: Uint8Array, p: number): number {
  return lpNext(buf, lpSkip(buf, p));
}

/** Redis's zzlInsert: (member, score) at its place in (score, member) order; offset 0. */
function lpInsertSorted(buf: Uint8Array, src: Uint8Array, start: number, len: number, score: number): Uint8Array {
  for (let p = lpFirst(buf, 0); p >= 0; p = lpNextMember(buf, p)) {
    const s = lpScoreAt(buf, lpSkip(buf, p));
    if (s > score || (s === score && compareEntry(buf, p, src, start, len) > 0)) {
      return lpInsertPair(buf, p, src, start, len, score);
    }
  }
  return lpInsertPair(buf, -1, src, start, len, score);
}

/** A latin1 string's bytes in a reused buffer (the first latin1Len bytes of latin1Buf). */
let latin1Buf = new Uint8Array(64);
let latin1Len = 0;

function latin1Bytes(s: string): void {
  if (s.length > latin1Buf.length) latin1Buf = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) latin1Buf[i] = s.charCodeAt(i);
  latin1Len = s.length;
}

// ---------------------------------------------------------------------------------------
// The sorted set type: Redis's zset* API over both encodings
// ---------------------------------------------------------------------------------------

/** Number of elements of the zset at id (zsetLength). */
export function zsetLength(db: Db, id: number): number {
  if (!isPacked(db, id)) return skiplistOf(db, id).size;
  locatePacked(db, id);
  return lpLength(packedAt.buf, packedAt.base) >>> 1;
}

/** Moves a listpack zset to the skiplist encoding (zsetConvert), for good. */
export function convertToSkiplist(db: Db, id: number): SkiplistZSet {
  locatePacked(db, id);
  const buf = packedAt.buf;
  const zs = new SkiplistZSet();
  for (let p = lpFirst(buf, packedAt.base); p >= 0; p = lpNextMember(buf, p)) {
    zs.add(lpGetLatin1(buf, p), lpScoreAt(buf, lpSkip(buf, p)));
  }
  storeSkiplist(db, id, zs);
  return zs;
}

/** The member's score, or NaN when it is absent (a score is never NaN). */
export function zsetScore(db: Db, id: number, src: Uint8Array, start: number, len: number): number {
  if (!isPacked(db, id)) {
    const score = skiplistOf(db, id).score(latin1(src, start, len));
    return score === undefined ? NaN : score;
  }
  locatePacked(db, id);
  const buf = packedAt.buf;
  const p = lpFindMember(buf, packedAt.base, src, start, len);
  return p < 0 ? NaN : lpScoreAt(buf, lpSkip(buf, p));
}

/** zsetScore for a member held as a latin1 string. */
function zsetScoreLatin1(db: Db, id: number, member: string): number {
  if (!isPacked(db, id)) {
    const score = skiplistOf(db, id).score(member);
    return score === undefined ? NaN : score;
  }
  latin1Bytes(member);
  return zsetScore(db, id, latin1Buf, 0, latin1Len);
}

/** zsetAdd's input flags (Redis's ZADD_IN_*). */
const IN_INCR = 1;
export const IN_NX = 2;
export const IN_XX = 4;
const IN_GT = 8;
const IN_LT = 16;

/** zsetAdd's outcome (Redis's ZADD_OUT_*). */
const OUT_NAN = 1;
const OUT_ADDED = 2;
const OUT_UPDATED = 4;
const OUT_NOP = 8;

/** What the last zsetAdd did (OUT_* bits) and the member's score after it. */
const addResult = { flags: 0, score: 0 };

/**
 * Redis's zsetAdd: adds the member or updates its score under the NX/XX/GT/LT/INCR rules,
 * converting the set to a skiplist first when a new member would not fit the listpack
 * limits. Fills addResult; returns false (OUT_NAN) when INCR would make the score NaN.
 */
function zsetAdd(db: Db, config: Config, id: number, score: number, src: Uint8Array, start: number, len: number, flags: number): boolean {
  addResult.flags = 0;
  if (isPacked(db, id)) {
    const outcome = listpackAdd(db, config, id, score, src, start, len, flags);
    if (outcome !== CONVERT) return outcome === ADD_DONE;
    convertToSkiplist(db, id);
  }
  return skiplistAdd(skiplistOf(db, id), score, latin1(src, start, len), flags);
}

const ADD_DONE = 0;
const ADD_NAN = 1;
const CONVERT = 2;

/** The listpack half of zsetAdd: ADD_DONE, ADD_NAN, or CONVERT for a member that does not fit. */
function listpackAdd(db: Db, config: Config, id: number, score: number, src: Uint8Array, start: number, len: number, flags: number): number {
  locatePacked(db, id);
  const base = packedAt.base;
  const found = lpFindMember(packedAt.buf, base, src, start, len);
  if (found >= 0) {
    const current = lpScoreAt(packedAt.buf, lpSkip(packedAt.buf, found));
    const next = updatedScore(current, score, flags);
    if (next !== next) return (addResult.flags & OUT_NAN) !== 0 ? ADD_NAN : ADD_DONE;
    if (next !== current) {
      let buf = editPacked(db, id);
      buf = lpDeleteRangeWithEntry(buf, found - base, 2);
      storeListpack(db, id, lpInsertSorted(buf, src, start, len, next));
      addResult.flags |= OUT_UPDATED;
    }
    return ADD_DONE;
  }
  if (flags & IN_XX) {
    addResult.flags |= OUT_NOP;
    return ADD_DONE;
  }
  const elements = lpLength(packedAt.buf, base) >>> 1;
  if (elements + 1 > config.zsetMaxListpackEntries || len > config.zsetMaxListpackValue) return CONVERT;
  storeListpack(db, id, lpInsertSorted(editPacked(db, id), src, start, len, score));
  addResult.flags |= OUT_ADDED;
  addResult.score = score;
  return ADD_DONE;
}

/**
 * The score an existing member ends up with under zsetAdd's rules, with addResult set
 * accordingly: NaN when nothing changes (OUT_NOP) or INCR made NaN (OUT_NAN).
 */
function updatedScore(current: number, score: number, flags: number): number {
  if (flags & IN_NX) {
    addResult.flags |= OUT_NOP;
    return NaN;
  }
  if (flags & IN_INCR) {
    score += current;
    if (score !== score) {
      addResult.flags |= OUT_NAN;
      return NaN;
    }
  }
  if (((flags & IN_LT) !== 0 && score >= current) || ((flags & IN_GT) !== 0 && score <= current)) {
    addResult.flags |= OUT_NOP;
    return NaN;
  }
  addResult.score = score;
  return score;
}

/** The skiplist half of zsetAdd. */
function skiplistAdd(zs: SkiplistZSet, score: number, member: string, flags: number): boolean {
  const node = zs.node(member);
  if (node !== undefined) {
    const current = node.score;
    const next = updatedScore(current, score, flags);
    if (next !== next) return (addResult.flags & OUT_NAN) === 0;
    if (next !== current) {
      zs.add(member, next);
      addResult.flags |= OUT_UPDATED;
    }
    return true;
  }
  if (flags & IN_XX) {
    addResult.flags |= OUT_NOP;
    return true;
  }
  zs.add(member, score);
  addResult.flags |= OUT_ADDED;
  addResult.score = score;
  return true;
}

/** Redis's zsetDel: removes the member; true when it was there. The key is left even if empty. */
function zsetDel(db: Db, id: number, src: Uint8Array, start: number, len: number): boolean {
  if (!isPacked(db, id)) return skiplistOf(db, id).remove(latin1(src, start, len));
  locatePacked(db, id);
  const found = lpFindMember(packedAt.buf, packedAt.base, src, start, len);
  if (found < 0) return false;
  const base = packedAt.base;
  storeListpack(db, id, lpDeleteRangeWithEntry(editPacked(db, id), found - base, 2));
  return true;
}

/** Redis's zsetRank: the member's 0-based rank, from the highest when reverse; -1 when absent. */
function zsetRank(db: Db, id: number, src: Uint8Array, start: number, len: number, reverse: boolean): number {
  if (!isPacked(db, id)) return skiplistOf(db, id).rank(latin1(src, start, len), reverse);
  locatePacked(db, id);
  const buf = packedAt.buf;
  const length = lpLength(buf, packedAt.base) >>> 1;
  let rank = 0;
  for (let p = lpFirst(buf, packedAt.base); p >= 0; p = lpNextMember(buf, p), rank++) {
    if (lpCompare(buf, p, src, start, len)) return reverse ? length - 1 - rank : rank;
  }
  return -1;
}

/**
 * Redis's zsetConvertToListpackIfNeeded, decided before building: a new set (ZRANGESTORE,
 * ZUNIONSTORE ...) is a listpack when its elements fit both listpack limits.
 */
function fitsListpack(config: Config, count: number, longestMember: number): boolean {
  return count <= config.zsetMaxListpackEntries && longestMember <= config.zsetMaxListpackValue;
}

/**
 * Builds a zset from `count` elements sorted by (score, member) and makes it the value of
 * `id`, in the encoding Redis would give that result.
 */
function storeSortedElements(db: Db, config: Config, id: number, members: string[], scores: number[], count: number): void {
  let longest = 0;
  for (let i = 0; i < count; i++) longest = Math.max(longest, members[i]!.length);
  if (!fitsListpack(config, count, longest)) {
    const zs = SkiplistZSet.withCapacity(count);
    for (let i = 0; i < count; i++) zs.add(members[i]!, scores[i]!);
    storeSkiplist(db, id, zs);
    return;
  }
  let buf = lpNew(64);
  for (let i = 0; i < count; i++) {
    latin1Bytes(members[i]!);
    buf = lpInsertPair(buf, -1, latin1Buf, 0, latin1Len, scores[i]!);
  }
  storeListpack(db, id, buf);
}

/** Puts result[0 .. count) in (score, member) order: the order of a sorted set. */
function sortElements(members: string[], scores: number[], count: number): void {
  const order = new Array<number>(count);
  for (let i = 0; i < count; i++) order[i] = i;
  order.sort((a, b) => {
    const sa = scores[a]!;
    const sb = scores[b]!;
    if (sa !== sb) return sa < sb ? -1 : 1;
    const ma = members[a]!;
    const mb = members[b]!;
    return ma < mb ? -1 : ma > mb ? 1 : 0;
  });
  const sortedMembers = order.map((i) => members[i]!);
  const sortedScores = order.map((i) => scores[i]!);
  for (let i = 0; i < count; i++) {
    members[i] = sortedMembers[i]!;
    scores[i] = sortedScores[i]!;
  }
}

/**
 * Redis's setKey for a computed zset: replaces the key at argument i (whatever it held,
 * its time to live dropped) with the elements, notified as `event`, or deletes it when
 * there are none. Replies with the number of elements, as the *STORE commands do.
 */
export function storeResult(c: Client, i: number, members: string[], scores: number[], count: number, event: string): void {
  const db = c.db;
  if (count === 0) {
    // Redis's dbDelete takes the key as it is, even past its time to live: the event is
    // "del", not "expired".
    const argv = c.argv;
    const id = db.table.find(argv.buf, argv.start[i]!, argv.len[i]!);
    if (id >= 0) {
      db.delete(id);
      notifyArg(c, NOTIFY.GENERIC, "del", i);
      c.server.dirty++;
    }
    c.w.addInteger(0);
    return;
  }
  sortElements(members, scores, count);
  const id = db.setKeyArg(c.argv, i, false, 0);
  storeSortedElements(db, c.server.config, id, members, scores, count);
  notifyArg(c, NOTIFY.ZSET, event, i);
  c.server.dirty++;
  c.w.addInteger(count);
}

// ---------------------------------------------------------------------------------------
// Walking a sorted set in order
// ---------------------------------------------------------------------------------------

/** What a range is by: ranks, scores or members (Redis's ZRANGE_RANK, ZRANGE_SCORE, ZRANGE_LEX). */
const BY_RANK = 0;
const BY_SCORE = 1;
const BY_LEX = 2;

/**
 * The ranges the commands parsed last (rankRange by parseRangeArgs, the others by
 * zslParseRange and zslParseLexRange), reused by every command; the walker and the
 * removals read the one the running command filled.
 */
const rankRange = { start: 0, end: 0 };
const scoreRange: ScoreRange = { min: 0, max: 0, minExclusive: false, maxExclusive: false };
const lexRange: LexRange = { min: LEX_MIN, max: LEX_MAX, minExclusive: false, maxExclusive: false };

/** The skiplist's first element in the parsed score or lex range, or its last; null when none is. */
function skiplistRangeEnd(list: ZSkipList, by: number, last: boolean): ZNode | null {
  if (by === BY_SCORE) return last ? list.lastInScoreRange(scoreRange) : list.firstInScoreRange(scoreRange);
  return last ? list.lastInLexRange(lexRange) : list.firstInLexRange(lexRange);
}

/**
 * A position in a sorted set of either encoding (Redis's eptr/sptr pair or skiplist
 * node), moved forwards or backwards without allocating. Valid while the set is not
 * modified; commands open it, walk, and close it before they write.
 */
export class ZWalk {
  packed = false;
  buf: Uint8Array = EMPTY;
  base = 0;
  /** The member entry of the current element, -1 once past either end. */
  pos = -1;
  zs: SkiplistZSet | null = null;
  node: ZNode | null = null;

  open(db: Db, id: number): void {
    this.packed = isPacked(db, id);
    if (this.packed) {
      locatePacked(db, id);
      this.buf = packedAt.buf;
      this.base = packedAt.base;
      this.pos = -1;
    } else {
      this.zs = skiplistOf(db, id);
      this.node = null;
    }
  }

  /** Drops the references to the set, so that it can be collected once deleted. */
  close(): void {
    this.buf = EMPTY;
    this.zs = null;
    this.node = null;
    this.pos = -1;
  }

  get length(): number {
    return this.packed ? lpLength(this.buf, this.base) >>> 1 : this.zs!.size;
  }

  get done(): boolean {
    return this.packed ? this.pos < 0 : this.node === null;
  }

  /** Moves to the element at 0-based rank, counted from the highest when reverse. */
  seekRank(rank: number, reverse: boolean): void {
    if (this.packed) {
      this.pos = lpSeek(this.buf, this.base, reverse ? -2 - 2 * rank : 2 * rank);
      return;
    }
    const list = this.zs!.list;
    this.node = list.byRank(reverse ? list.length - rank : rank + 1);
  }

  /** One element on, towards the highest, or the lowest when reverse. */
  step(reverse: boolean): void {
    if (!this.packed) {
      this.node = reverse ? this.node!.prev : this.node!.next;
      return;
    }
    if (!reverse) {
      this.pos = lpNextMember(this.buf, this.pos);
      return;
    }
    const score = lpPrev(this.buf, this.base, this.pos);
    this.pos = score < 0 ? -1 : lpPrev(this.buf, this.base, score);
  }

  score(): number {
    return this.packed ? lpScoreAt(this.buf, lpSkip(this.buf, this.pos)) : this.node!.score;
  }

  member(): string {
    return this.packed ? lpGetLatin1(this.buf, this.pos) : this.node!.member;
  }

  replyMember(w: ReplyWriter): void {
    if (this.packed) lpAddReplyEntry(w, this.buf, this.pos);
    else w.addBulkLatin1(this.node!.member);
  }

  /**
   * Whether the current element is within the parsed score or lex range's max (`upper`)
   * or min: the far end of the range when walking towards it, the near end otherwise.
   */
  withinBound(by: number, upper: boolean): boolean {
    if (by === BY_SCORE) {
      const score = this.score();
      return upper ? scoreLteMax(score, scoreRange) : scoreGteMin(score, scoreRange);
    }
    if (this.packed) return upper ? entryLexLteMax(this.buf, this.pos, lexRange) : entryLexGteMin(this.buf, this.pos, lexRange);
    const member = this.node!.member;
    return upper ? lexLteMax(member, lexRange) : lexGteMin(member, lexRange);
  }

  /**
   * Moves to the lowest element in the parsed score or lex range, or the highest when
   * reverse; past the end when none is in it (zzlFirstInRange, zslLastInLexRange ...).
   */
  seekRange(by: number, reverse: boolean): void {
    if (!this.packed) {
      this.node = skiplistRangeEnd(this.zs!.list, by, reverse);
      return;
    }
    if (!this.packedOverlaps(by)) {
      this.pos = -1;
      return;
    }
    for (this.seekRank(0, reverse); !this.done; this.step(reverse)) {
      if (this.withinBound(by, reverse)) {
        if (!this.withinBound(by, !reverse)) this.pos = -1;
        return;
      }
    }
  }

  /**
   * Redis's zzlIsInRange and zzlIsInLexRange: could any element of the listpack be in the
   * range? Moves the position.
   */
  private packedOverlaps(by: number): boolean {
    if (by === BY_SCORE ? isEmptyScoreRange(scoreRange) : isEmptyLexRange(lexRange)) return false;
    this.seekRank(0, true);
    if (this.done || !this.withinBound(by, false)) return false;
    this.seekRank(0, false);
    return this.withinBound(by, true);
  }
}

const walk = new ZWalk();

/**
 * Opens the shared walker on the zset at id at its lowest element with min <= score < max
 * (how GEO scans the score range of a geohash cell, geoGetPointsInRange); the caller
 * steps it forwards while scores stay below max, and closes it.
 */
export function walkScoreRange(db: Db, id: number, min: number, max: number): ZWalk {
  scoreRange.min = min;
  scoreRange.max = max;
  scoreRange.minExclusive = false;
  scoreRange.maxExclusive = true;
  walk.open(db, id);
  walk.seekRange(BY_SCORE, false);
  return walk;
}

/** Reads every element of the zset at id into members/scores (from index 0); returns the count. */
function readElements(db: Db, id: number, members: string[], scores: number[]): number {
  let n = 0;
  walk.open(db, id);
  for (walk.seekRank(0, false); !walk.done; walk.step(false)) {
    members[n] = walk.member();
    scores[n++] = walk.score();
  }
  walk.close();
  return n;
}

// ---------------------------------------------------------------------------------------
// Popping (ZPOPMIN, ZPOPMAX, ZMPOP, and the blocking variants once a key is ready)
// ---------------------------------------------------------------------------------------

/** Which end a pop takes from (Redis's ZSET_MIN / ZSET_MAX). */
export const ZSET_MIN = 0;
export const ZSET_MAX = 1;

/**
 * Pops up to `count` elements from the lowest (ZSET_MIN) or highest end of the zset at
 * `id`, which must exist and hold at least one element, and replies with them: Redis's
 * genericZpopCommand once it has found its key. count -1 pops one element as the forms
 * without a COUNT argument do. With `emitKey` the reply starts with the key's name
 * (BZPOPMIN, ZMPOP); with `nested` each element is a [member, score] pair (RESP3 with a
 * count, ZMPOP). Deletes the key when it empties. The blocking commands call this when a
 * key they wait on becomes ready.
 */
export function zsetPopReply(c: Client, w: ReplyWriter, db: Db, id: number, where: number, count: number, emitKey: boolean, nested: boolean): void {
  // ZMPOP and the blocking pops propagate as the ZPOPMIN/ZPOPMAX they did (Redis rewrites them).
  if (emitKey && c.server.propagation.active) propagateZpop(c, db, id, where, count);
  const length = zsetLength(db, id);
  const popped = count < 0 ? 1 : Math.min(count, length);
  if (emitKey) {
    const table = db.table;
    w.addArrayLen(nested ? 2 : popped * 2 + 1);
    w.addBulkView(table.keyPage(id), table.keyOffset(id), table.keyLength(id));
    if (nested) w.addArrayLen(popped);
  } else {
    w.addArrayLen(nested ? popped : popped * 2);
  }
  const reverse = where === ZSET_MAX;
  walk.open(db, id);
  walk.seekRank(0, reverse);
  for (let i = 0; i < popped; i++, walk.step(reverse)) {
    if (nested) w.addArrayLen(2);
    walk.replyMember(w);
    w.addDouble(walk.score());
  }
  walk.close();
  notifyId(c, NOTIFY.ZSET, reverse ? "zpopmax" : "zpopmin", id, db);
  if (popped === length) notifyId(c, NOTIFY.GENERIC, "del", id, db);
  removeEnd(db, id, popped, reverse, length);
  c.server.dirty += popped;
}

/** Removes `count` elements from one end of the zset at id, deleting the key when it empties. */
function removeEnd(db: Db, id: number, count: number, fromHighest: boolean, length: number): void {
  if (count === length) {
    db.delete(id);
    return;
  }
  if (isPacked(db, id)) {
    storeListpack(db, id, lpDeleteRange(editPacked(db, id), fromHighest ? -2 * count : 0, 2 * count));
  } else {
    const zs = skiplistOf(db, id);
    for (let i = 0; i < count; i++) zs.remove((fromHighest ? zs.list.last : zs.list.first)!.member);
  }
  db.modified(id);
}

// ---------------------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------------------

/**
 * Parses a range's min and max arguments by ranks (integers, into rankRange), scores or
 * members, as the ZRANGE and ZREMRANGE families and ZCOUNT take them. Replies and returns
 * false on a bad bound.
 */
function parseRangeArgs(c: Client, by: number, minIndex: number, maxIndex: number): boolean {
  if (by === BY_SCORE) return parseScoreRangeArgs(c, minIndex, maxIndex);
  if (by === BY_LEX) return parseLexRangeArgs(c, minIndex, maxIndex);
  const start = parseIntArg(c, minIndex);
  if (start === null) return false;
  const end = parseIntArg(c, maxIndex);
  if (end === null) return false;
  rankRange.start = start;
  rankRange.end = end;
  return true;
}

/**
 * Redis's reading of rankRange against a zset of `length` elements: negative ranks count
 * from the end, the start is clamped to the first element and the end to the last.
 * Returns how many elements the range then covers, 0 when it is empty.
 */
function clampRankRange(length: number): number {
  let { start, end } = rankRange;
  if (start < 0) start += length;
  if (end < 0) end += length;
  if (start < 0) start = 0;
  if (start > end || start >= length) return 0;
  if (end >= length) end = length - 1;
  rankRange.start = start;
  rankRange.end = end;
  return end - start + 1;
}

/**
 * Redis's zslParseRange into scoreRange: each bound is strtod's reading of the argument,
 * exclusive when it starts with "(". Replies "min or max is not a float" and returns false
 * on a bad bound.
 */
function parseScoreRangeArgs(c: Client, minIndex: number, maxIndex: number): boolean {
  if (parseScoreBound(c.argv, minIndex, true) && parseScoreBound(c.argv, maxIndex, false)) return true;
  c.w.addErrorBytes(ERR.minMaxNotFloat);
  return false;
}

function parseScoreBound(argv: Argv, i: number, isMin: boolean): boolean {
  const start = argv.start[i]!;
  const len = argv.len[i]!;
  const exclusive = len > 0 && argv.buf[start] === 40; // '('
  const skip = exclusive ? 1 : 0;
  const value = parseStrtod(argv.buf, start + skip, len - skip);
  if (value !== value) return false;
  if (isMin) {
    scoreRange.min = value;
    scoreRange.minExclusive = exclusive;
  } else {
    scoreRange.max = value;
    scoreRange.maxExclusive = exclusive;
  }
  return true;
}

/** Redis's zslParseLexRange into lexRange; replies and returns false on a bad bound. */
function parseLexRangeArgs(c: Client, minIndex: number, maxIndex: number): boolean {
  if (parseLexRange(c.argv.str(minIndex), c.argv.str(maxIndex), lexRange) !== null) return true;
  c.w.addErrorBytes(ERR.minMaxNotLex);
  return false;
}

/** A double argument as Redis's getDoubleFromObject reads it (string2d), or NaN. */
function doubleArg(argv: Argv, i: number): number {
  return parseDouble(argv.buf, argv.start[i]!, argv.len[i]!);
}

/** What lookupZset returns for a key holding another type, after replying WRONGTYPE. */
export const WRONG_TYPE = -2;

/**
 * The zset at argument i, looked up for reading (or writing), or -1 when the key does not
 * exist, or WRONG_TYPE after replying WRONGTYPE (lookupKeyRead plus checkType).
 */
export function lookupZset(c: Client, i: number, write: boolean): number {
  const db = c.db;
  const id = write ? db.lookupWriteArg(c.argv, i) : db.lookupReadArg(c.argv, i);
  if (id < 0) return -1;
  if (db.typeOf(id) !== ObjType.ZSet) {
    c.w.addErrorBytes(ERR.wrongType);
    return WRONG_TYPE;
  }
  return id;
}

// ---------------------------------------------------------------------------------------
// ZADD ZINCRBY ZREM ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK
// ---------------------------------------------------------------------------------------

/** ZADD's option words before the first score; 0 for anything else. CH is reported apart. */
export const OPT_CH = 1 << 8;

function zaddOption(argv: Argv, i: number): number {
  if (argv.isOption(i, "nx")) return IN_NX;
  if (argv.isOption(i, "xx")) return IN_XX;
  if (argv.isOption(i, "ch")) return OPT_CH;
  if (argv.isOption(i, "incr")) return IN_INCR;
  if (argv.isOption(i, "gt")) return IN_GT;
  if (argv.isOption(i, "lt")) return IN_LT;
  return 0;
}

/** ZADD's parsed scores, reused. */
let zaddScores = new Float64Array(16);

/**
 * Redis's zaddGenericCommand, for ZADD and ZINCRBY (flags IN_INCR): options, then all the
 * scores are checked, then the elements are added one by one.
 */
function zaddGeneric(c: Client, initialFlags: number): void {
  const argv = c.argv;
  const w = c.w;
  let flags = initialFlags;
  let scoreIndex = 2;
  for (; scoreIndex < argv.count; scoreIndex++) {
    const option = zaddOption(argv, scoreIndex);
    if (option === 0) break;
    flags |= option;
  }
  const pairArgs = argv.count - scoreIndex;
  if (pairArgs === 0 || pairArgs % 2 !== 0) return w.addErrorBytes(ERR.syntax);
  const elements = pairArgs / 2;
  if (flags & IN_NX && flags & IN_XX) return w.addErrorBytes(ERR.xxAndNx);
  // Any two of GT, LT and NX.
  const conditions = (flags & IN_GT ? 1 : 0) + (flags & IN_LT ? 1 : 0) + (flags & IN_NX ? 1 : 0);
  if (conditions > 1) return w.addErrorBytes(ERR.gtLtNx);
  if (flags & IN_INCR && elements > 1) return w.addErrorBytes(ERR.incrSinglePair);
  if (zaddScores.length < elements) zaddScores = new Float64Array(elements * 2);
  for (let j = 0; j < elements; j++) {
    const score = doubleArg(argv, scoreIndex + 2 * j);
    if (score !== score) return w.addErrorBytes(ERR.notFloat);
    zaddScores[j] = score;
  }
  zaddElements(c, scoreIndex + 1, 2, zaddScores, elements, flags);
}

/**
 * The second half of zaddGeneric: the key, the elements, the reply. The members are the
 * arguments firstMember + memberStride * j, their scores scores[j]; GEOADD adds its
 * computed scores this way, its members three arguments apart.
 */
export function zaddElements(c: Client, firstMember: number, memberStride: number, scores: Float64Array, elements: number, flags: number): void {
  const argv = c.argv;
  const db = c.db;
  const config = c.server.config;
  let id = lookupZset(c, 1, true);
  if (id === WRONG_TYPE) return;
  if (id < 0) {
    if (flags & IN_XX) return replyZadd(c, flags, 0, 0, 0, 0);
    id = createZset(c, argv.len[firstMember]!);
  }
  let added = 0;
  let updated = 0;
  let processed = 0;
  let score = 0;
  for (let j = 0; j < elements; j++) {
    const m = firstMember + memberStride * j;
    if (!zsetAdd(db, config, id, scores[j]!, argv.buf, argv.start[m]!, argv.len[m]!, flags)) {
      if (added + updated > 0) zaddChanged(c, id, flags);
      return c.w.addErrorBytes(ERR.scoreNaN);
    }
    const out = addResult.flags;
    if (out & OUT_ADDED) added++;
    if (out & OUT_UPDATED) updated++;
    if ((out & OUT_NOP) === 0) processed++;
    score = addResult.score;
  }
  c.server.dirty += added + updated;
  if (added + updated > 0) zaddChanged(c, id, flags);
  replyZadd(c, flags, added, updated, processed, score);
}

/** ZADD changed the zset at id: signal it, and notify `zincr` or `zadd`. */
function zaddChanged(c: Client, id: number, flags: number): void {
  c.db.modified(id);
  notifyArg(c, NOTIFY.ZSET, flags & IN_INCR ? "zincr" : "zadd", 1);
}

/**
 * A new empty zset for ZADD at argument 1: a skiplist right away when listpacks are
 * disabled or the first member is already too long for one, as Redis decides.
 */
function createZset(c: Client, firstMemberLength: number): number {
  const db = c.db;
  const config = c.server.config;
  const id = db.insertArg(c.argv, 1);
  if (config.zsetMaxListpackEntries === 0 || config.zsetMaxListpackValue < firstMemberLength) {
    storeSkiplist(db, id, new SkiplistZSet());
  } else {
    storeListpack(db, id, lpNew(64));
  }
  return id;
}

function replyZadd(c: Client, flags: number, added: number, updated: number, processed: number, score: number): void {
  const w = c.w;
  if ((flags & IN_INCR) === 0) w.addInteger(flags & OPT_CH ? added + updated : added);
  else if (processed > 0) w.addDouble(score);
  else w.addNull();
}

/** ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...] */
function zaddCommand(c: Client): void {
  zaddGeneric(c, 0);
}

/** ZINCRBY key increment member */
function zincrbyCommand(c: Client): void {
  zaddGeneric(c, IN_INCR);
}

/** ZREM key member [member ...] */
function zremCommand(c: Client): void {
  const id = lookupZset(c, 1, true);
  if (id === WRONG_TYPE) return;
  if (id < 0) return c.w.addInteger(0);
  const argv = c.argv;
  const db = c.db;
  let deleted = 0;
  let keyRemoved = false;
  for (let j = 2; j < argv.count && !keyRemoved; j++) {
    if (zsetDel(db, id, argv.buf, argv.start[j]!, argv.len[j]!)) deleted++;
    keyRemoved = zsetLength(db, id) === 0;
  }
  if (keyRemoved) db.delete(id);
  else if (deleted > 0) db.modified(id);
  if (deleted > 0) notifyArg(c, NOTIFY.ZSET, "zrem", 1);
  if (keyRemoved) notifyArg(c, NOTIFY.GENERIC, "del", 1);
  c.server.dirty += deleted;
  c.w.addInteger(deleted);
}

/** ZCARD key */
function zcardCommand(c: Client): void {
  const id = lookupZset(c, 1, false);
  if (id === WRONG_TYPE) return;
  c.w.addInteger(id < 0 ? 0 : zsetLength(c.db, id));
}

/** ZSCORE key member */
function zscoreCommand(c: Client): void {
  const id = lookupZset(c, 1, false);
  if (id === WRONG_TYPE) return;
  if (id < 0) return c.w.addNull();
  const argv = c.argv;
  const score = zsetScore(c.db, id, argv.buf, argv.start[2]!, argv.len[2]!);
  if (score !== score) c.w.addNull();
  else c.w.addDouble(score);
}

/** ZMSCORE key member [member ...] */
function zmscoreCommand(c: Client): void {
  const id = lookupZset(c, 1, false);
  if (id === WRONG_TYPE) return;
  const argv = c.argv;
  const w = c.w;
  w.addArrayLen(argv.count - 2);
  for (let j = 2; j < argv.count; j++) {
    const score = id < 0 ? NaN : zsetScore(c.db, id, argv.buf, argv.start[j]!, argv.len[j]!);
    if (score !== score) w.addNull();
    else w.addDouble(score);
  }
}

/** ZRANK and ZREVRANK: the member's rank, or nil. */
function zrankGeneric(c: Client, reverse: boolean): void {
  const id = lookupZset(c, 1, false);
  if (id === WRONG_TYPE) return;
  if (id < 0) return c.w.addNull();
  const argv = c.argv;
  const rank = zsetRank(c.db, id, argv.buf, argv.start[2]!, argv.len[2]!, reverse);
  if (rank < 0) c.w.addNull();
  else c.w.addInteger(rank);
}

/** ZRANK key member */
function zrankCommand(c: Client): void {
  zrankGeneric(c, false);
}

/** ZREVRANK key member */
function zrevrankCommand(c: Client): void {
  zrankGeneric(c, true);
}

// ---------------------------------------------------------------------------------------
// ZCOUNT ZLEXCOUNT
// ---------------------------------------------------------------------------------------

/** Redis's zcountCommand and zlexcountCommand: key min max. */
function zcountGeneric(c: Client, by: number): void {
  if (!parseRangeArgs(c, by, 2, 3)) return;
  const id = lookupZset(c, 1, false);
  if (id === WRONG_TYPE) return;
  if (id < 0) return c.w.addInteger(0);
  c.w.addInteger(countInRange(c.db, id, by));
}

/**
 * Elements in the parsed score or lex range: a walk over a listpack, two rank lookups on
 * a skiplist, as Redis counts them.
 */
function countInRange(db: Db, id: number, by: number): number {
  walk.open(db, id);
  walk.seekRange(by, false);
  let count = 0;
  if (walk.packed) {
    for (; !walk.done && walk.withinBound(by, true); walk.step(false)) count++;
  } else if (walk.node !== null) {
    const list = walk.zs!.list;
    const first = walk.node;
    const last = skiplistRangeEnd(list, by, true);
    count = list.length - (list.getRank(first.score, first.member) - 1);
    if (last !== null) count -= list.length - list.getRank(last.score, last.member);
  }
  walk.close();
  return count;
}

// ---------------------------------------------------------------------------------------
// ZRANGE and its variants
// ---------------------------------------------------------------------------------------

/**
 * Where the ZRANGE family sends elements (Redis's zrange_result_handler): the client, or
 * the collected arrays that ZRANGESTORE makes the destination.
 */
const out = {
  store: false,
  withScores: false,
  /** RESP3 with scores: each element is a [member, score] pair. */
  nested: false,
  /** Position of the deferred array length, -1 when it was known up front. */
  deferredAt: -1,
  members: [] as string[],
  scores: [] as number[],
  count: 0,
  /** ZRANGESTORE's destination starts as a listpack unless the known length rules it out. */
  startsPacked: true,
};

/** Begins a result of `length` elements, or of a length known only at the end when -1. */
function beginOutput(c: Client, length: number): void {
  out.count = 0;
  out.deferredAt = -1;
  if (out.store) {
    out.startsPacked = length <= c.server.config.zsetMaxListpackEntries;
    return;
  }
  if (length > 0) c.w.addArrayLen(out.withScores && c.resp === 2 ? 2 * length : length);
  else out.deferredAt = c.w.deferLen();
}

/** Sends the walker's current element. */
function emitElement(w: ReplyWriter): void {
  if (out.store) {
    out.members[out.count] = walk.member();
    out.scores[out.count] = walk.score();
  } else {
    if (out.nested) w.addArrayLen(2);
    walk.replyMember(w);
    if (out.withScores) w.addDouble(walk.score());
  }
  out.count++;
}

/** Ends the result: the deferred length, or ZRANGESTORE's store and reply (argument 1). */
function finishOutput(c: Client): void {
  if (out.store) {
    unsignStoredZeros(c.server.config);
    storeResult(c, 1, out.members, out.scores, out.count, "zrangestore");
    out.members.length = 0;
    out.scores.length = 0;
  } else if (out.deferredAt >= 0) {
    c.w.setDeferredLen(out.deferredAt, "array", out.withScores && c.resp === 2 ? 2 * out.count : out.count);
  }
}

/**
 * Redis builds ZRANGESTORE's destination by adding the elements one by one in the order
 * they come, to a listpack until one would not fit: the elements added while it was a
 * listpack lost the sign of a zero score, even if it became a skiplist afterwards.
 */
function unsignStoredZeros(config: Config): void {
  if (!out.startsPacked) return;
  for (let i = 0; i < out.count; i++) {
    if (i + 1 > config.zsetMaxListpackEntries || out.members[i]!.length > config.zsetMaxListpackValue) return;
    if (out.scores[i] === 0) out.scores[i] = 0;
  }
}

const UNSET = -1;

/** ZRANGE's options as parsed (Redis's zrangeGenericCommand locals). */
const rangeOpts = { type: BY_RANK, reverse: false, withScores: false, offset: 0, limit: -1 };

/**
 * Parses the options after min and max (from argument first+3). `type` and `reverse` are
 * fixed by the command or UNSET for ZRANGE and ZRANGESTORE, whose options choose them.
 * Replies and returns false on an error.
 */
function parseRangeOptions(c: Client, first: number, store: boolean, type: number, reverse: boolean | null): boolean {
  const argv = c.argv;
  let withScores = false;
  let offset = 0;
  let limit = -1;
  let dir = reverse;
  let by = type;
  for (let j = first + 3; j < argv.count; j++) {
    const left = argv.count - j - 1;
    if (!store && argv.isOption(j, "withscores")) {
      withScores = true;
    } else if (left >= 2 && argv.isOption(j, "limit")) {
      const o = parseIntArg(c, j + 1);
      if (o === null) return false;
      const l = parseIntArg(c, j + 2);
      if (l === null) return false;
      offset = o;
      limit = l;
      j += 2;
    } else if (dir === null && argv.isOption(j, "rev")) {
      dir = true;
    } else if (by === UNSET && argv.isOption(j, "bylex")) {
      by = BY_LEX;
    } else if (by === UNSET && argv.isOption(j, "byscore")) {
      by = BY_SCORE;
    } else {
      c.w.addErrorBytes(ERR.syntax);
      return false;
    }
  }
  if (by === UNSET) by = BY_RANK;
  if (limit !== -1 && by === BY_RANK) {
    c.w.addErrorBytes(ERR.limitNeedsByscoreOrBylex);
    return false;
  }
  if (withScores && by === BY_LEX) {
    c.w.addErrorBytes(ERR.withscoresWithBylex);
    return false;
  }
  rangeOpts.type = by;
  rangeOpts.reverse = dir === true;
  rangeOpts.withScores = withScores;
  rangeOpts.offset = offset;
  rangeOpts.limit = limit;
  return true;
}

/**
 * Redis's zrangeGenericCommand: the key at argument `first`, min and max after it, then
 * options. ZRANGESTORE (store) writes the result to argument 1.
 */
function zrangeGeneric(c: Client, first: number, store: boolean, type: number, reverse: boolean | null): void {
  if (!parseRangeOptions(c, first, store, type, reverse)) return;
  const by = rangeOpts.type;
  // The reversed score and lex forms take max before min.
  const swap = rangeOpts.reverse && by !== BY_RANK;
  const minIndex = swap ? first + 2 : first + 1;
  const maxIndex = swap ? first + 1 : first + 2;
  if (!parseRangeArgs(c, by, minIndex, maxIndex)) return;
  out.store = store;
  out.withScores = rangeOpts.withScores || store;
  out.nested = out.withScores && !store && c.resp > 2;
  const id = lookupZset(c, first, false);
  if (id === WRONG_TYPE) return;
  if (id < 0) {
    if (!store) return c.w.addArrayLen(0);
    beginOutput(c, -1);
    return finishOutput(c);
  }
  walk.open(c.db, id);
  if (by === BY_RANK) emitRankRange(c);
  else emitBoundRange(c, by);
  walk.close();
  finishOutput(c);
}

/**
 * The handler of a ZRANGE-family command: zrangeGeneric with the key at argument `first`
 * and what the command fixes (range type and direction; UNSET and null for ZRANGE and
 * ZRANGESTORE, whose options choose them). Made once, when the command table is built.
 */
function zrangeHandler(first: number, store: boolean, type: number, reverse: boolean | null): (c: Client) => void {
  return (c) => zrangeGeneric(c, first, store, type, reverse);
}

/** Redis's genericZrangebyrankCommand over the open walker. */
function emitRankRange(c: Client): void {
  const count = clampRankRange(walk.length);
  beginOutput(c, count);
  if (count === 0) return;
  const reverse = rangeOpts.reverse;
  walk.seekRank(rankRange.start, reverse);
  for (let i = 0; i < count; i++, walk.step(reverse)) emitElement(c.w);
}

/**
 * Redis's genericZrangebyscoreCommand and genericZrangebylexCommand over the open walker:
 * from the first element in the range (the last when reverse), skip `offset` elements,
 * then emit up to `limit` of them while they stay in the range.
 */
function emitBoundRange(c: Client, by: number): void {
  beginOutput(c, -1);
  let offset = rangeOpts.offset;
  // Only the score form rules out an offset past the end first, as in Redis.
  if (by === BY_SCORE && offset > 0 && offset >= walk.length) return;
  const reverse = rangeOpts.reverse;
  walk.seekRange(by, reverse);
  // Like Redis's `while (offset--)`, a negative offset walks off the end.
  while (!walk.done && offset-- !== 0) walk.step(reverse);
  for (let limit = rangeOpts.limit; !walk.done && limit-- !== 0; walk.step(reverse)) {
    if (!walk.withinBound(by, !reverse)) break;
    emitElement(c.w);
  }
}

// ---------------------------------------------------------------------------------------
// ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX
// ---------------------------------------------------------------------------------------

/** The events ZREMRANGEBY* notify, by range type (BY_RANK, BY_SCORE, BY_LEX). */
const ZREMRANGE_EVENTS = ["zremrangebyrank", "zremrangebyscore", "zremrangebylex"];

/** Redis's zremrangeGenericCommand: arguments first, then the key, then the deletion. */
function zremrangeGeneric(c: Client, by: number): void {
  if (!parseRangeArgs(c, by, 2, 3)) return;
  const id = lookupZset(c, 1, true);
  if (id === WRONG_TYPE) return;
  if (id < 0) return c.w.addInteger(0);
  const db = c.db;
  const length = zsetLength(db, id);
  if (by === BY_RANK && clampRankRange(length) === 0) return c.w.addInteger(0);
  const deleted = isPacked(db, id) ? listpackRemoveRange(db, id, by) : skiplistRemoveRange(skiplistOf(db, id), by);
  if (deleted > 0) {
    if (deleted === length) db.delete(id);
    else db.modified(id);
    notifyArg(c, NOTIFY.ZSET, ZREMRANGE_EVENTS[by]!, 1);
    if (deleted === length) notifyArg(c, NOTIFY.GENERIC, "del", 1);
  }
  c.server.dirty += deleted;
  c.w.addInteger(deleted);
}

/** The skiplist half of zremrangeGeneric. */
function skiplistRemoveRange(zs: SkiplistZSet, by: number): number {
  if (by === BY_RANK) return zs.deleteRangeByRank(rankRange.start + 1, rankRange.end + 1);
  return by === BY_SCORE ? zs.deleteRangeByScore(scoreRange) : zs.deleteRangeByLex(lexRange);
}

/** The listpack half (zzlDeleteRangeByRank, ByScore, ByLex). */
function listpackRemoveRange(db: Db, id: number, by: number): number {
  if (by === BY_RANK) {
    const count = rankRange.end - rankRange.start + 1;
    storeListpack(db, id, lpDeleteRange(editPacked(db, id), 2 * rankRange.start, 2 * count));
    return count;
  }
  // Find where the range starts in place, then delete pairs from there in the edit copy.
  walk.open(db, id);
  walk.seekRange(by, false);
  const first = walk.done ? -1 : walk.pos - walk.base;
  walk.close();
  if (first < 0) return 0;
  let buf = editPacked(db, id);
  let deleted = 0;
  for (let p = first; p >= 0 && pairInRemoveRange(buf, p, by); p = lpEdited.pos) {
    buf = lpDeleteRangeWithEntry(buf, p, 2);
    deleted++;
  }
  storeListpack(db, id, buf);
  return deleted;
}

/** Whether the pair whose member is at p is still below the range's upper end. */
function pairInRemoveRange(buf: Uint8Array, p: number, by: number): boolean {
  return by === BY_SCORE ? scoreLteMax(lpScoreAt(buf, lpSkip(buf, p)), scoreRange) : entryLexLteMax(buf, p, lexRange);
}

/** A handler calling `generic` for one kind of range; made once, when the command table is built. */
function handlerBy(generic: (c: Client, by: number) => void, by: number): (c: Client) => void {
  return (c) => generic(c, by);
}

// ---------------------------------------------------------------------------------------
// ZPOPMIN ZPOPMAX ZMPOP
// ---------------------------------------------------------------------------------------

/**
 * `ZPOPMIN|ZPOPMAX key [popped]`: the number popped when the command took a count. Called
 * before the pop, while the key still exists.
 */
function propagateZpop(c: Client, db: Db, id: number, where: number, count: number): void {
  const args: string[] = [where === ZSET_MAX ? "ZPOPMAX" : "ZPOPMIN", db.table.keyString(id)];
  if (count >= 0) args.push(String(Math.min(count, zsetLength(db, id))));
  c.server.propagation.replaceCommand(db.id, args);
}

/**
 * Redis's genericZpopCommand: pops from the first existing key among arguments
 * first .. first+keys-1. With none, replies a null array (ZMPOP) or an empty one.
 */
function zpopGeneric(c: Client, first: number, keys: number, where: number, emitKey: boolean, count: number, nested: boolean, nilWhenEmpty: boolean): void {
  let id = -1;
  for (let i = first; i < first + keys && id < 0; i++) {
    id = lookupZset(c, i, true);
    if (id === WRONG_TYPE) return;
  }
  if (id < 0) {
    if (nilWhenEmpty) c.w.addNullArray();
    else c.w.addArrayLen(0);
    return;
  }
  if (count === 0) return c.w.addArrayLen(0);
  zsetPopReply(c, c.w, c.db, id, where, count, emitKey, nested);
}

/** ZPOPMIN and ZPOPMAX: key [count] */
function zpopMinMax(c: Client, where: number): void {
  if (c.argv.count > 3) return c.w.addErrorBytes(ERR.syntax);
  let count = -1;
  if (c.argv.count === 3) {
    const n = parseRangeArgOr(c, 2, 0, LONG_MAX, "ERR value is out of range, must be positive");
    if (n === null) return;
    count = n;
  }
  zpopGeneric(c, 1, 1, where, false, count, c.resp > 2 && count !== -1, false);
}

/** ZPOPMIN key [count] */
function zpopminCommand(c: Client): void {
  zpopMinMax(c, ZSET_MIN);
}

/** ZPOPMAX key [count] */
function zpopmaxCommand(c: Client): void {
  zpopMinMax(c, ZSET_MAX);
}

const LONG_MAX = 9223372036854775807;

/**
 * ZMPOP's arguments after numkeys (Redis's zmpopGenericCommand): MIN|MAX and an optional
 * COUNT. Returns where, with the count in zmpopCount, or -1 after replying an error.
 */
export function parseZmpopArgs(c: Client, numkeysIndex: number): number {
  const argv = c.argv;
  const numkeys = parseRangeArgOr(c, numkeysIndex, 1, LONG_MAX, "ERR numkeys should be greater than 0");
  if (numkeys === null) return -1;
  const whereIndex = numkeysIndex + numkeys + 1;
  let where = -1;
  if (whereIndex < argv.count && argv.isOption(whereIndex, "min")) where = ZSET_MIN;
  else if (whereIndex < argv.count && argv.isOption(whereIndex, "max")) where = ZSET_MAX;
  if (where < 0) {
    c.w.addErrorBytes(ERR.syntax);
    return -1;
  }
  let count = -1;
  for (let j = whereIndex + 1; j < argv.count; j++) {
    if (count === -1 && j + 1 < argv.count && argv.isOption(j, "count")) {
      const n = parseRangeArgOr(c, ++j, 1, LONG_MAX, "ERR count should be greater than 0");
      if (n === null) return -1;
      count = n;
    } else {
      c.w.addErrorBytes(ERR.syntax);
      return -1;
    }
  }
  zmpopParsed.numkeys = numkeys;
  zmpopParsed.count = count === -1 ? 1 : count;
  return where;
}

/** What parseZmpopArgs read besides MIN|MAX. */
export const zmpopParsed = { numkeys: 0, count: 1 };

/** ZMPOP numkeys key [key ...] MIN|MAX [COUNT count] */
function zmpopCommand(c: Client): void {
  const where = parseZmpopArgs(c, 1);
  if (where < 0) return;
  zpopGeneric(c, 2, zmpopParsed.numkeys, where, true, zmpopParsed.count, true, true);
}

// ---------------------------------------------------------------------------------------
// Blocking pops (Redis's blockingGenericZpopCommand and serveClientsBlockedOnSortedSetKey)
// ---------------------------------------------------------------------------------------

/** What a blocked BZPOPMIN/BZPOPMAX/BZMPOP waits to do once a key holds a sorted set. */
class ZSetWait implements BlockedWait {
  constructor(
    readonly db: Db,
    readonly keys: string[],
    readonly deadlineMs: number,
    private readonly where: number,
    /** BZMPOP's COUNT, or -1 for BZPOPMIN/BZPOPMAX's single element. */
    private readonly count: number,
  ) {}

  serve(c: Client, w: ReplyWriter, key: string): boolean {
    const id = this.db.lookupWrite(key);
    if (id < 0 || this.db.typeOf(id) !== ObjType.ZSet) return false;
    zsetPopReply(c, w, this.db, id, this.where, this.count, true, this.count >= 0);
    return true;
  }

  timeoutReply(_c: Client, w: ReplyWriter): void {
    w.addNullArray();
  }
}

/**
 * BZPOPMIN, BZPOPMAX, BZMPOP: pops from the first of the `keys` keys from argument
 * `first` on holding a sorted set, as ZPOPMIN/ZMPOP would with the key in the reply, or
 * blocks on all of them. `count` -1 is BZPOP*'s single element.
 */
function blockingZpopGeneric(c: Client, first: number, keys: number, where: number, timeoutAt: number, count: number): void {
  const deadlineMs = parseTimeoutArg(c, timeoutAt, TimeoutUnit.Seconds);
  if (deadlineMs === null) return;
  for (let i = first; i < first + keys; i++) {
    const id = lookupZset(c, i, true);
    if (id === WRONG_TYPE) return;
    if (id >= 0) return zsetPopReply(c, c.w, c.db, id, where, count, true, count >= 0);
  }
  const names: string[] = [];
  for (let i = first; i < first + keys; i++) names.push(c.argv.str(i));
  c.server.blocking.block(c, new ZSetWait(c.db, names, deadlineMs, where, count));
}

/** BZPOPMIN key [key ...] timeout */
function bzpopminCommand(c: Client): void {
  blockingZpopGeneric(c, 1, c.argv.count - 2, ZSET_MIN, c.argv.count - 1, -1);
}

/** BZPOPMAX key [key ...] timeout */
function bzpopmaxCommand(c: Client): void {
  blockingZpopGeneric(c, 1, c.argv.count - 2, ZSET_MAX, c.argv.count - 1, -1);
}

/** BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count] */
function bzmpopCommand(c: Client): void {
  const where = parseZmpopArgs(c, 2);
  if (where < 0) return;
  blockingZpopGeneric(c, 3, zmpopParsed.numkeys, where, 1, zmpopParsed.count);
}

// ---------------------------------------------------------------------------------------
// ZRANDMEMBER
// ---------------------------------------------------------------------------------------

/** ZRANDMEMBER key [count [WITHSCORES]] */
function zrandmemberCommand(c: Client): void {
  const argv = c.argv;
  if (argv.count >= 3) {
    const count = parseRandomPairsArgs(c, "withscores");
    if (count === null) return;
    return zrandmemberWithCount(c, count, argv.count === 4);
  }
  const id = lookupZset(c, 1, false);
  if (id === WRONG_TYPE) return;
  if (id < 0) return c.w.addNull();
  walk.open(c.db, id);
  seekRandom();
  walk.replyMember(c.w);
  walk.close();
}

/** Moves the open walker to a uniformly random element. */
function seekRandom(): void {
  if (walk.packed) {
    walk.seekRank(Math.floor(Math.random() * walk.length), false);
    return;
  }
  walk.node = walk.zs!.random()!;
}

/** Redis's zrandmemberWithCountCommand: its four cases, by count against the set's size. */
function zrandmemberWithCount(c: Client, count: number, withScores: boolean): void {
  const id = lookupZset(c, 1, false);
  if (id === WRONG_TYPE) return;
  if (id < 0 || count === 0) return c.w.addArrayLen(0);
  const w = c.w;
  const unique = count > 0;
  const wanted = Math.abs(count);
  out.withScores = withScores;
  out.nested = withScores && c.resp > 2;
  out.store = false;
  walk.open(c.db, id);
  const size = walk.length;
  if (!unique || wanted === 1) {
    // Draws with repetition.
    beginOutput(c, wanted);
    for (let i = 0; i < wanted; i++) {
      seekRandom();
      emitElement(w);
    }
  } else if (wanted >= size) {
    // The whole set, walked from the highest element as Redis's zuiNext does.
    beginOutput(c, size);
    for (walk.seekRank(0, true); !walk.done; walk.step(true)) emitElement(w);
  } else {
    beginOutput(c, wanted);
    emitDistinctRandom(w, wanted, size);
  }
  walk.close();
}

/**
 * `wanted` distinct random elements of the open walker's `size` (wanted < size), by the
 * strategies HRANDFIELD and SRANDMEMBER use. Few of a skiplist are drawn from its member
 * table until enough differ; otherwise the ranks are shuffled and the chosen ones visited
 * in ascending order, in one walk, which a listpack needs whatever the count.
 */
function emitDistinctRandom(w: ReplyWriter, wanted: number, size: number): void {
  if (!walk.packed && !picksMostOf(wanted, size)) {
    for (const node of drawDistinct(wanted, walk.zs!)) {
      walk.node = node;
      emitElement(w);
    }
    return;
  }
  const ranks = new Int32Array(size);
  for (let i = 0; i < size; i++) ranks[i] = i;
  shufflePrefix(ranks, wanted, size);
  const chosen = ranks.subarray(0, wanted).sort();
  let at = 0;
  walk.seekRank(0, false);
  for (const rank of chosen) {
    for (; at < rank; at++) walk.step(false);
    emitElement(w);
  }
}

// ---------------------------------------------------------------------------------------
// ZUNION ZINTER ZDIFF ZUNIONSTORE ZINTERSTORE ZDIFFSTORE ZINTERCARD
// ---------------------------------------------------------------------------------------

const OP_UNION = 0;
const OP_INTER = 1;
const OP_DIFF = 2;

const AGGREGATE_SUM = 0;
const AGGREGATE_MIN = 1;
const AGGREGATE_MAX = 2;

/** One input of a set operation (Redis's zsetopsrc): a key's id (-1 when missing), type, weight. */
interface OpSource {
  id: number;
  type: ObjType;
  weight: number;
  length: number;
}

/** Redis's zunionInterAggregate. A sum that is NaN (inf + -inf) becomes 0. */
function aggregate(target: number, value: number, how: number): number {
  if (how === AGGREGATE_SUM) {
    const sum = target + value;
    return sum !== sum ? 0 : sum;
  }
  if (how === AGGREGATE_MIN) return value < target ? value : target;
  return value > target ? value : target;
}

/** Number of elements of a source: a zset's length or a set's cardinality; 0 when missing. */
function sourceLength(db: Db, src: OpSource): number {
  if (src.id < 0) return 0;
  if (src.type === ObjType.ZSet) return zsetLength(db, src.id);
  return setCard(db, src.id);
}

/** The source's elements, into members/scores; returns how many. A set's members score 1. */
function sourceElements(db: Db, src: OpSource, members: string[], scores: number[]): number {
  if (src.id < 0) return 0;
  if (src.type === ObjType.ZSet) return readElements(db, src.id, members, scores);
  let n = 0;
  for (const member of setMembers(db, src.id)) {
    members[n] = member;
    scores[n++] = 1;
  }
  return n;
}

/** The member's score in the source, or NaN when it is not there (zuiFind). */
function sourceScore(db: Db, src: OpSource, member: string): number {
  if (src.id < 0) return NaN;
  if (src.type === ObjType.ZSet) return zsetScoreLatin1(db, src.id, member);
  return setIsMember(db, src.id, member) ? 1 : NaN;
}

/** The parsed options of a set operation. */
const opOpts = { aggregate: AGGREGATE_SUM, withScores: false, limit: 0 };

/**
 * Redis's zunionInterDiffGenericCommand. `dstIndex` is the destination argument of the
 * *STORE forms or -1; `cardinalityOnly` is ZINTERCARD. Keys are looked up (and type
 * checked) before the options are read, as Redis does.
 */
function zsetOpGeneric(c: Client, name: string, dstIndex: number, numkeysIndex: number, op: number, cardinalityOnly: boolean): void {
  const argv = c.argv;
  const setnum = parseIntArg(c, numkeysIndex);
  if (setnum === null) return;
  if (setnum < 1) return c.w.addError(atLeastOneInputKey(name));
  if (setnum > argv.count - (numkeysIndex + 1)) return c.w.addErrorBytes(ERR.syntax);
  const sources: OpSource[] = [];
  for (let i = 0; i < setnum; i++) {
    const id = c.db.lookupReadArg(argv, numkeysIndex + 1 + i);
    const type = id < 0 ? ObjType.ZSet : c.db.typeOf(id);
    if (type !== ObjType.ZSet && type !== ObjType.Set) return c.w.addErrorBytes(ERR.wrongType);
    sources.push({ id, type, weight: 1, length: 0 });
  }
  if (!parseOpOptions(c, numkeysIndex + 1 + setnum, sources, op, dstIndex >= 0, cardinalityOnly)) return;
  for (const src of sources) src.length = sourceLength(c.db, src);
  // Smallest first (a stable sort, as glibc's qsort is here): fewer lookups for ZINTER.
  if (op !== OP_DIFF) sources.sort((a, b) => a.length - b.length);
  const members: string[] = [];
  const scores: number[] = [];
  let count: number;
  if (op === OP_UNION) count = unionOf(c.db, sources, members, scores);
  else if (op === OP_INTER) count = interOf(c.db, sources, members, scores, cardinalityOnly);
  else count = diffOf(c.db, sources, members, scores);
  if (dstIndex >= 0) return storeResult(c, dstIndex, members, scores, count, name);
  if (cardinalityOnly) return c.w.addInteger(count);
  sortElements(members, scores, count);
  replyElements(c, members, scores, count, opOpts.withScores);
}

/** Parses WEIGHTS, AGGREGATE, WITHSCORES and LIMIT from argument j on into opOpts. */
function parseOpOptions(c: Client, j: number, sources: OpSource[], op: number, store: boolean, cardinalityOnly: boolean): boolean {
  const argv = c.argv;
  opOpts.aggregate = AGGREGATE_SUM;
  opOpts.withScores = false;
  opOpts.limit = 0;
  const weighted = op !== OP_DIFF && !cardinalityOnly;
  while (j < argv.count) {
    const remaining = argv.count - j;
    if (weighted && remaining >= sources.length + 1 && argv.isOption(j, "weights")) {
      j++;
      for (const src of sources) {
        src.weight = doubleArg(argv, j++);
        if (src.weight !== src.weight) {
          c.w.addErrorBytes(ERR.weightNotFloat);
          return false;
        }
      }
    } else if (weighted && remaining >= 2 && argv.isOption(j, "aggregate")) {
      const how = argv.isOption(j + 1, "sum") ? AGGREGATE_SUM : argv.isOption(j + 1, "min") ? AGGREGATE_MIN : argv.isOption(j + 1, "max") ? AGGREGATE_MAX : -1;
      if (how < 0) {
        c.w.addErrorBytes(ERR.syntax);
        return false;
      }
      opOpts.aggregate = how;
      j += 2;
    } else if (!store && !cardinalityOnly && argv.isOption(j, "withscores")) {
      opOpts.withScores = true;
      j++;
    } else if (cardinalityOnly && remaining >= 2 && argv.isOption(j, "limit")) {
      const limit = parseRangeArgOr(c, j + 1, 0, LONG_MAX, "ERR LIMIT can't be negative");
      if (limit === null) return false;
      opOpts.limit = limit;
      j += 2;
    } else {
      c.w.addErrorBytes(ERR.syntax);
      return false;
    }
  }
  return true;
}

/** ZUNION: every member of any source, its weighted scores aggregated in source order. */
function unionOf(db: Db, sources: OpSource[], members: string[], scores: number[]): number {
  const accumulated = new Map<string, number>();
  const srcMembers: string[] = [];
  const srcScores: number[] = [];
  for (const src of sources) {
    const n = sourceElements(db, src, srcMembers, srcScores);
    for (let i = 0; i < n; i++) {
      let score = src.weight * srcScores[i]!;
      if (score !== score) score = 0;
      const member = srcMembers[i]!;
      const existing = accumulated.get(member);
      accumulated.set(member, existing === undefined ? score : aggregate(existing, score, opOpts.aggregate));
    }
  }
  let count = 0;
  for (const [member, score] of accumulated) {
    members[count] = member;
    scores[count++] = score;
  }
  return count;
}

/**
 * ZINTER: the members of the smallest source found in all the others. The same key given
 * twice is not looked up again, as Redis compares the objects. With cardinalityOnly only
 * counts, stopping at opOpts.limit when it is set.
 */
function interOf(db: Db, sources: OpSource[], members: string[], scores: number[], cardinalityOnly: boolean): number {
  const first = sources[0]!;
  if (first.length === 0) return 0;
  const n = sourceElements(db, first, members, scores);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const member = members[i]!;
    let score = first.weight * scores[i]!;
    if (score !== score) score = 0;
    let j = 1;
    for (; j < sources.length; j++) {
      const src = sources[j]!;
      let value = src.id === first.id ? scores[i]! : sourceScore(db, src, member);
      if (value !== value) break;
      value *= src.weight;
      score = aggregate(score, value, opOpts.aggregate);
    }
    if (j < sources.length) continue;
    members[count] = member;
    scores[count++] = score;
    if (cardinalityOnly && opOpts.limit > 0 && count >= opOpts.limit) break;
  }
  return count;
}

/**
 * ZDIFF: the members of the first source in none of the others, with their own scores.
 * A later source that is the first key again empties the result.
 */
function diffOf(db: Db, sources: OpSource[], members: string[], scores: number[]): number {
  const first = sources[0]!;
  if (first.length === 0) return 0;
  for (let j = 1; j < sources.length; j++) if (sources[j]!.id === first.id) return 0;
  const n = sourceElements(db, first, members, scores);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const member = members[i]!;
    let found = false;
    for (let j = 1; j < sources.length && !found; j++) {
      const score = sourceScore(db, sources[j]!, member);
      found = score === score;
    }
    if (found) continue;
    members[count] = member;
    scores[count++] = scores[i]!;
  }
  return count;
}

/** Replies with sorted elements as ZRANGE does, with or without scores. */
function replyElements(c: Client, members: string[], scores: number[], count: number, withScores: boolean): void {
  const w = c.w;
  const nested = withScores && c.resp > 2;
  w.addArrayLen(withScores && !nested ? 2 * count : count);
  for (let i = 0; i < count; i++) {
    if (nested) w.addArrayLen(2);
    w.addBulkLatin1(members[i]!);
    if (withScores) w.addDouble(scores[i]!);
  }
}

/**
 * The handler of ZUNION, ZINTER, ZDIFF, their STORE forms (the destination first, then
 * numkeys) and ZINTERCARD: zsetOpGeneric for one operation. Made once, when the command
 * table is built.
 */
function zsetOpHandler(name: string, op: number, store: boolean, cardinalityOnly = false): (c: Client) => void {
  const dstIndex = store ? 1 : -1;
  const numkeysIndex = store ? 2 : 1;
  return (c) => zsetOpGeneric(c, name, dstIndex, numkeysIndex, op, cardinalityOnly);
}

// ---------------------------------------------------------------------------------------
// ZSCAN
// ---------------------------------------------------------------------------------------

/**
 * ZSCAN key cursor [MATCH pattern] [COUNT count] reads a skiplist's member table with the
 * cursor, each member with its score as "%.17g", and a listpack whole, scores as stored.
 */
const ZSET_SCAN: ScanSource<(member: string, node: ZNode) => void> = {
  type: ObjType.ZSet,
  pairs: true,
  table: (db, id) => (isPacked(db, id) ? null : skiplistOf(db, id)),
  gather: (member, node) => gatherScannedPair(member, formatDouble(node.score)),
  gatherAll: gatherListpack,
};

// ---------------------------------------------------------------------------------------
// DEBUG DIGEST
// ---------------------------------------------------------------------------------------

/**
 * Redis's xorObjectDigest for a zset: per element a fresh digest mixed with the member and
 * its score as "%.17g", xored into the value's digest, so order does not matter.
 */
function zsetDigest(digest: Uint8Array, db: Db, id: number): void {
  const element = new Uint8Array(DIGEST_LEN);
  walk.open(db, id);
  for (walk.seekRank(0, false); !walk.done; walk.step(false)) {
    element.fill(0);
    mixDigest(element, Buffer.from(walk.member(), "latin1"));
    mixDigest(element, Buffer.from(formatDouble(walk.score()), "latin1"));
    xorDigest(digest, element);
  }
  walk.close();
}

registerDigester(ObjType.ZSet, zsetDigest);

// ---------------------------------------------------------------------------------------
// The command table
// ---------------------------------------------------------------------------------------

const KEY = { name: "key", type: "key", key_spec_index: 0 };
const MEMBER = { name: "member", type: "string" };
const MEMBERS = { ...MEMBER, flags: ["multiple"] };
const keyArg = (name: string, index: number) => ({ name, type: "key", key_spec_index: index });
const bound = (name: string, type: string) => ({ name, type });
const NUMKEYS = { name: "numkeys", type: "integer" };
const KEYS = { ...KEY, flags: ["multiple"] };
const WITHSCORES = { name: "withscores", type: "pure-token", token: "WITHSCORES", flags: ["optional"] };
const LIMIT = {
  name: "offset_count", type: "block", token: "LIMIT", flags: ["optional"],
  arguments: [{ name: "offset", type: "integer" }, { name: "count", type: "integer" }],
};
const SORTBY = {
  name: "sortby", type: "oneof", flags: ["optional"],
  arguments: [{ name: "byscore", type: "pure-token", token: "BYSCORE" }, { name: "bylex", type: "pure-token", token: "BYLEX" }],
};
const REV = { name: "rev", type: "pure-token", token: "REV", flags: ["optional"] };
const WEIGHTS = { name: "weight", type: "integer", token: "WEIGHTS", flags: ["optional", "multiple"] };
const AGGREGATE = {
  name: "aggregate", type: "oneof", token: "AGGREGATE", flags: ["optional"],
  arguments: [
    { name: "sum", type: "pure-token", token: "SUM" },
    { name: "min", type: "pure-token", token: "MIN" },
    { name: "max", type: "pure-token", token: "MAX" },
  ],
};

const oneKey = (flags: string): KeySpec[] => [{ flags, begin: { index: 1 }, find: { lastkey: 0, keystep: 1, limit: 0 } }];
const RO_ACCESS = oneKey("RO access");
const RW_DELETE = oneKey("RW delete");
const numKeys = (flags: string, index: number): KeySpec => ({ flags, begin: { index }, find: { keynumidx: 0, firstkey: 1, keystep: 1 } });
/** The *STORE forms: the destination, then numkeys source keys. */
const STORE_KEYS: KeySpec[] = [oneKey("OW update")[0]!, numKeys("RO access", 2)];

const BY_SCORE_COMPLEXITY =
  "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).";
const RANGE_COMPLEXITY = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.";
const REMOVE_COMPLEXITY = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.";
const COUNT_COMPLEXITY = "O(log(N)) with N being the number of elements in the sorted set.";
const POP_COMPLEXITY = "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.";
const UNION_COMPLEXITY =
  "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.";
const INTER_COMPLEXITY =
  "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.";
const DIFF_COMPLEXITY =
  "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.";

/** Every sorted set command is in the sortedset ACL category and the sorted-set group. */
type ZsetDef = Omit<CommandDef, "acl" | "group">;
const zset = (def: ZsetDef): CommandDef => ({ ...def, acl: "sortedset", group: "sorted-set" });

const TIMEOUT = { name: "timeout", type: "double" };

function blockingZpopDef(name: string, summary: string, handler: (c: Client) => void): CommandDef {
  return zset({
    name, arity: -3, flags: "write noscript blocking fast", since: "5.0.0", summary,
    complexity: "O(log(N)) with N being the number of elements in the sorted set.",
    history: [["6.0.0", "`timeout` is interpreted as a double instead of an integer."]],
    keySpecs: [keyRange("RW access delete", 1, -2)], arguments: [KEYS, TIMEOUT], handler,
  });
}

/** The deprecated range forms, replaced by ZRANGE with options. */
function deprecatedRange(def: ZsetDef, replacedBy: string): CommandDef {
  return zset({ ...def, docFlags: ["deprecated"], deprecatedSince: "6.2.0", replacedBy });
}

export const zsetCommands: CommandDef[] = [
  zset({
    name: "zadd", arity: -4, flags: "write denyoom fast", since: "1.2.0",
    summary: "Add one or more members to a sorted set, or update its score if it already exists",
    complexity: "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
    history: [
      ["2.4.0", "Accepts multiple elements."],
      ["3.0.2", "Added the `XX`, `NX`, `CH` and `INCR` options."],
      ["6.2.0", "Added the `GT` and `LT` options."],
    ],
    keySpecs: oneKey("RW update"),
    arguments: [
      KEY,
      {
        name: "condition", type: "oneof", since: "3.0.2", flags: ["optional"],
        arguments: [{ name: "nx", type: "pure-token", token: "NX" }, { name: "xx", type: "pure-token", token: "XX" }],
      },
      {
        name: "comparison", type: "oneof", since: "6.2.0", flags: ["optional"],
        arguments: [{ name: "gt", type: "pure-token", token: "GT" }, { name: "lt", type: "pure-token", token: "LT" }],
      },
      { name: "change", type: "pure-token", token: "CH", since: "3.0.2", flags: ["optional"] },
      { name: "increment", type: "pure-token", token: "INCR", since: "3.0.2", flags: ["optional"] },
      { name: "score_member", type: "block", flags: ["multiple"], arguments: [{ name: "score", type: "double" }, MEMBER] },
    ],
    handler: zaddCommand,
  }),
  zset({
    name: "zincrby", arity: 4, flags: "write denyoom fast", since: "1.2.0",
    summary: "Increment the score of a member in a sorted set",
    complexity: "O(log(N)) where N is the number of elements in the sorted set.",
    keySpecs: oneKey("RW access update"), arguments: [KEY, { name: "increment", type: "integer" }, MEMBER],
    handler: zincrbyCommand,
  }),
  zset({
    name: "zrem", arity: -3, flags: "write fast", since: "1.2.0", summary: "Remove one or more members from a sorted set",
    complexity: "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.",
    history: [["2.4.0", "Accepts multiple elements."]],
    keySpecs: RW_DELETE, arguments: [KEY, MEMBERS],
    handler: zremCommand,
  }),
  zset({
    name: "zcard", arity: 2, flags: "readonly fast", since: "1.2.0", summary: "Get the number of members in a sorted set",
    complexity: "O(1)", keySpecs: oneKey("RO"), arguments: [KEY],
    handler: zcardCommand,
  }),
  zset({
    name: "zscore", arity: 3, flags: "readonly fast", since: "1.2.0",
    summary: "Get the score associated with the given member in a sorted set", complexity: "O(1)",
    keySpecs: RO_ACCESS, arguments: [KEY, MEMBER],
    handler: zscoreCommand,
  }),
  zset({
    name: "zmscore", arity: -3, flags: "readonly fast", since: "6.2.0",
    summary: "Get the score associated with the given members in a sorted set",
    complexity: "O(N) where N is the number of members being requested.",
    keySpecs: RO_ACCESS, arguments: [KEY, MEMBERS],
    handler: zmscoreCommand,
  }),
  zset({
    name: "zrank", arity: 3, flags: "readonly fast", since: "2.0.0", summary: "Determine the index of a member in a sorted set",
    complexity: "O(log(N))", keySpecs: RO_ACCESS, arguments: [KEY, MEMBER],
    handler: zrankCommand,
  }),
  zset({
    name: "zrevrank", arity: 3, flags: "readonly fast", since: "2.0.0",
    summary: "Determine the index of a member in a sorted set, with scores ordered from high to low",
    complexity: "O(log(N))", keySpecs: RO_ACCESS, arguments: [KEY, MEMBER],
    handler: zrevrankCommand,
  }),
  zset({
    name: "zcount", arity: 4, flags: "readonly fast", since: "2.0.0",
    summary: "Count the members in a sorted set with scores within the given values", complexity: COUNT_COMPLEXITY,
    keySpecs: RO_ACCESS, arguments: [KEY, bound("min", "double"), bound("max", "double")],
    handler: handlerBy(zcountGeneric, BY_SCORE),
  }),
  zset({
    name: "zlexcount", arity: 4, flags: "readonly fast", since: "2.8.9",
    summary: "Count the number of members in a sorted set between a given lexicographical range", complexity: COUNT_COMPLEXITY,
    keySpecs: RO_ACCESS, arguments: [KEY, bound("min", "string"), bound("max", "string")],
    handler: handlerBy(zcountGeneric, BY_LEX),
  }),
  zset({
    name: "zrange", arity: -4, flags: "readonly", since: "1.2.0", summary: "Return a range of members in a sorted set",
    complexity: RANGE_COMPLEXITY, history: [["6.2.0", "Added the `REV`, `BYSCORE`, `BYLEX` and `LIMIT` options."]],
    keySpecs: RO_ACCESS,
    arguments: [
      KEY, bound("start", "string"), bound("stop", "string"),
      { ...SORTBY, since: "6.2.0" }, { ...REV, since: "6.2.0" }, { ...LIMIT, since: "6.2.0" }, WITHSCORES,
    ],
    handler: zrangeHandler(1, false, UNSET, null),
  }),
  zset({
    name: "zrangestore", arity: -5, flags: "write denyoom", since: "6.2.0",
    summary: "Store a range of members from sorted set into another key",
    complexity:
      "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.",
    keySpecs: [oneKey("OW update")[0]!, { flags: "RO access", begin: { index: 2 }, find: { lastkey: 0, keystep: 1, limit: 0 } }],
    arguments: [keyArg("dst", 0), keyArg("src", 1), bound("min", "string"), bound("max", "string"), SORTBY, REV, LIMIT],
    handler: zrangeHandler(2, true, UNSET, null),
  }),
  deprecatedRange({
    name: "zrevrange", arity: -4, flags: "readonly", since: "1.2.0",
    summary: "Return a range of members in a sorted set, by index, with scores ordered from high to low",
    complexity: RANGE_COMPLEXITY, keySpecs: RO_ACCESS,
    arguments: [KEY, bound("start", "integer"), bound("stop", "integer"), WITHSCORES],
    handler: zrangeHandler(1, false, BY_RANK, true),
  }, "`ZRANGE` with the `REV` argument"),
  deprecatedRange({
    name: "zrangebyscore", arity: -4, flags: "readonly", since: "1.0.5", summary: "Return a range of members in a sorted set, by score",
    complexity: BY_SCORE_COMPLEXITY, history: [["2.0.0", "Added the `WITHSCORES` modifier."]], keySpecs: RO_ACCESS,
    arguments: [KEY, bound("min", "double"), bound("max", "double"), { ...WITHSCORES, since: "2.0.0" }, LIMIT],
    handler: zrangeHandler(1, false, BY_SCORE, false),
  }, "`ZRANGE` with the `BYSCORE` argument"),
  deprecatedRange({
    name: "zrevrangebyscore", arity: -4, flags: "readonly", since: "2.2.0",
    summary: "Return a range of members in a sorted set, by score, with scores ordered from high to low",
    complexity: BY_SCORE_COMPLEXITY, history: [["2.1.6", "`min` and `max` can be exclusive."]], keySpecs: RO_ACCESS,
    arguments: [KEY, bound("max", "double"), bound("min", "double"), WITHSCORES, LIMIT],
    handler: zrangeHandler(1, false, BY_SCORE, true),
  }, "`ZRANGE` with the `REV` and `BYSCORE` arguments"),
  deprecatedRange({
    name: "zrangebylex", arity: -4, flags: "readonly", since: "2.8.9",
    summary: "Return a range of members in a sorted set, by lexicographical range", complexity: BY_SCORE_COMPLEXITY,
    keySpecs: RO_ACCESS, arguments: [KEY, bound("min", "string"), bound("max", "string"), LIMIT],
    handler: zrangeHandler(1, false, BY_LEX, false),
  }, "`ZRANGE` with the `BYLEX` argument"),
  deprecatedRange({
    name: "zrevrangebylex", arity: -4, flags: "readonly", since: "2.8.9",
    summary: "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.",
    complexity: BY_SCORE_COMPLEXITY, keySpecs: RO_ACCESS,
    arguments: [KEY, bound("max", "string"), bound("min", "string"), LIMIT],
    handler: zrangeHandler(1, false, BY_LEX, true),
  }, "`ZRANGE` with the `REV` and `BYLEX` arguments"),
  zset({
    name: "zremrangebyrank", arity: 4, flags: "write", since: "2.0.0",
    summary: "Remove all members in a sorted set within the given indexes", complexity: REMOVE_COMPLEXITY,
    keySpecs: RW_DELETE, arguments: [KEY, bound("start", "integer"), bound("stop", "integer")],
    handler: handlerBy(zremrangeGeneric, BY_RANK),
  }),
  zset({
    name: "zremrangebyscore", arity: 4, flags: "write", since: "1.2.0",
    summary: "Remove all members in a sorted set within the given scores", complexity: REMOVE_COMPLEXITY,
    keySpecs: RW_DELETE, arguments: [KEY, bound("min", "double"), bound("max", "double")],
    handler: handlerBy(zremrangeGeneric, BY_SCORE),
  }),
  zset({
    name: "zremrangebylex", arity: 4, flags: "write", since: "2.8.9",
    summary: "Remove all members in a sorted set between the given lexicographical range", complexity: REMOVE_COMPLEXITY,
    keySpecs: RW_DELETE, arguments: [KEY, bound("min", "string"), bound("max", "string")],
    handler: handlerBy(zremrangeGeneric, BY_LEX),
  }),
  zset({
    name: "zpopmin", arity: -2, flags: "write fast", since: "5.0.0",
    summary: "Remove and return members with the lowest scores in a sorted set", complexity: POP_COMPLEXITY,
    keySpecs: oneKey("RW access delete"), arguments: [KEY, { name: "count", type: "integer", flags: ["optional"] }],
    handler: zpopminCommand,
  }),
  zset({
    name: "zpopmax", arity: -2, flags: "write fast", since: "5.0.0",
    summary: "Remove and return members with the highest scores in a sorted set", complexity: POP_COMPLEXITY,
    keySpecs: oneKey("RW access delete"), arguments: [KEY, { name: "count", type: "integer", flags: ["optional"] }],
    handler: zpopmaxCommand,
  }),
  zset({
    name: "zmpop", arity: -4, flags: "write", since: "7.0.0", summary: "Remove and return members with scores in a sorted set",
    complexity:
      "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
    keySpecs: [numKeys("RW access delete", 1)],
    arguments: [
      NUMKEYS, KEYS,
      {
        name: "where", type: "oneof",
        arguments: [{ name: "min", type: "pure-token", token: "MIN" }, { name: "max", type: "pure-token", token: "MAX" }],
      },
      { name: "count", type: "integer", token: "COUNT", flags: ["optional"] },
    ],
    handler: zmpopCommand,
  }),
  blockingZpopDef("bzpopmin", "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available", bzpopminCommand),
  blockingZpopDef("bzpopmax", "Remove and return the member with the highest score from one or more sorted sets, or block until one is available", bzpopmaxCommand),
  zset({
    name: "bzmpop", arity: -5, flags: "write blocking", since: "7.0.0",
    summary: "Remove and return members with scores in a sorted set or block until one is available",
    complexity:
      "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
    keySpecs: [numKeys("RW access delete", 2)],
    arguments: [
      TIMEOUT, NUMKEYS, KEYS,
      {
        name: "where", type: "oneof",
        arguments: [{ name: "min", type: "pure-token", token: "MIN" }, { name: "max", type: "pure-token", token: "MAX" }],
      },
      { name: "count", type: "integer", token: "COUNT", flags: ["optional"] },
    ],
    handler: bzmpopCommand,
  }),
  zset({
    name: "zrandmember", arity: -2, flags: "readonly", since: "6.2.0",
    summary: "Get one or multiple random elements from a sorted set", complexity: "O(N) where N is the number of elements returned",
    tips: ["nondeterministic_output"], keySpecs: RO_ACCESS,
    arguments: [
      KEY,
      {
        name: "options", type: "block", flags: ["optional"],
        arguments: [{ name: "count", type: "integer" }, { name: "withscores", type: "pure-token", token: "WITHSCORES", flags: ["optional"] }],
      },
    ],
    handler: zrandmemberCommand,
  }),
  zset({
    name: "zunion", arity: -3, flags: "readonly", since: "6.2.0", summary: "Add multiple sorted sets", complexity: UNION_COMPLEXITY,
    keySpecs: [numKeys("RO access", 1)], arguments: [NUMKEYS, KEYS, WEIGHTS, AGGREGATE, WITHSCORES],
    handler: zsetOpHandler("zunion", OP_UNION, false),
  }),
  zset({
    name: "zinter", arity: -3, flags: "readonly", since: "6.2.0", summary: "Intersect multiple sorted sets", complexity: INTER_COMPLEXITY,
    keySpecs: [numKeys("RO access", 1)], arguments: [NUMKEYS, KEYS, WEIGHTS, AGGREGATE, WITHSCORES],
    handler: zsetOpHandler("zinter", OP_INTER, false),
  }),
  zset({
    name: "zdiff", arity: -3, flags: "readonly", since: "6.2.0", summary: "Subtract multiple sorted sets", complexity: DIFF_COMPLEXITY,
    keySpecs: [numKeys("RO access", 1)], arguments: [NUMKEYS, KEYS, WITHSCORES],
    handler: zsetOpHandler("zdiff", OP_DIFF, false),
  }),
  zset({
    name: "zunionstore", arity: -4, flags: "write denyoom", since: "2.0.0",
    summary: "Add multiple sorted sets and store the resulting sorted set in a new key",
    complexity:
      "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
    keySpecs: STORE_KEYS, arguments: [keyArg("destination", 0), NUMKEYS, { ...keyArg("key", 1), flags: ["multiple"] }, WEIGHTS, AGGREGATE],
    handler: zsetOpHandler("zunionstore", OP_UNION, true),
  }),
  zset({
    name: "zinterstore", arity: -4, flags: "write denyoom", since: "2.0.0",
    summary: "Intersect multiple sorted sets and store the resulting sorted set in a new key", complexity: INTER_COMPLEXITY,
    keySpecs: STORE_KEYS, arguments: [keyArg("destination", 0), NUMKEYS, { ...keyArg("key", 1), flags: ["multiple"] }, WEIGHTS, AGGREGATE],
    handler: zsetOpHandler("zinterstore", OP_INTER, true),
  }),
  zset({
    name: "zdiffstore", arity: -4, flags: "write denyoom", since: "6.2.0",
    summary: "Subtract multiple sorted sets and store the resulting sorted set in a new key", complexity: DIFF_COMPLEXITY,
    keySpecs: STORE_KEYS, arguments: [keyArg("destination", 0), NUMKEYS, { ...keyArg("key", 1), flags: ["multiple"] }],
    handler: zsetOpHandler("zdiffstore", OP_DIFF, true),
  }),
  zset({
    name: "zintercard", arity: -3, flags: "readonly", since: "7.0.0",
    summary: "Intersect multiple sorted sets and return the cardinality of the result",
    complexity: "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.",
    keySpecs: [numKeys("RO access", 1)],
    arguments: [NUMKEYS, KEYS, { name: "limit", type: "integer", token: "LIMIT", flags: ["optional"] }],
    handler: zsetOpHandler("zintercard", OP_INTER, false, true),
  }),
  collectionScanDef("zscan", "sortedset", "sorted-set", "Incrementally iterate sorted sets elements and associated scores", ZSET_SCAN),
];
