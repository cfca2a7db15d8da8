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
//   - skiplist: a ZSetObject, the skiplist plus a member -> node hash table.
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
import { Dict } from "../encoding/dict.ts";
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
  ZSkipList,
  isEmptyLexRange,
  isEmptyScoreRange,
  lexGteMin,
  lexLteMax,
  parseLexRange,
  scoreGteMin,
  scoreLteMax,
} from "../encoding/skiplist.ts";
import { INT64_MIN, formatDouble, formatInt64, parseDouble, parseLongLong, parseStrtod, parsedInt64 } from "../util/numbers.ts";
import { globMatch, isMatchAll } from "../util/glob.ts";
import { parseIntArg, parseRangeArgOr } from "./args.ts";
import { parseScanCursor } from "./keyspace.ts";
import { type SetTable, setCard } from "./set.ts";
import { intsetFind, intsetGet, intsetLength } from "../encoding/intset.ts";
import type { CommandDef, KeySpec } from "./table.ts";

const EMPTY: Uint8Array = new Uint8Array(0);

// ---------------------------------------------------------------------------------------
// The skiplist encoding
// ---------------------------------------------------------------------------------------

/**
 * A skiplist-encoded sorted set. It keeps its member -> node table in view because ZSCAN
 * walks that table with a cursor and ZRANDMEMBER draws members from it, as Redis does
 * with the zset's dict.
 */
export class ZSetObject extends SkiplistZSet {
  readonly dict: Dict<ZNode>;

  constructor(dict: Dict<ZNode> = new Dict<ZNode>(), list: ZSkipList = new ZSkipList()) {
    super(list, dict);
    this.dict = dict;
  }

  /** A deep copy (COPY), with the same list shape. */
  override dup(): ZSetObject {
    const list = this.list.dup();
    const dict = new Dict<ZNode>(list.length);
    for (let node = list.first; node !== null; node = node.next) dict.set(node.member, node);
    return new ZSetObject(dict, list);
  }
}

function isPacked(db: Db, id: number): boolean {
  return metaEnc(db.table.getMeta(id)) === Enc.ListPack;
}

function skiplistOf(db: Db, id: number): ZSetObject {
  return db.table.getObject(id) as ZSetObject;
}

/** Makes `zs` the value of `id`, in the skiplist encoding. */
function storeSkiplist(db: Db, id: number, zs: ZSetObject): void {
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
function lpInsertScore(buf: Uint8Array, p: number, where: LpWhere, score: number): Uint8Array {
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
function convertToSkiplist(db: Db, id: number): ZSetObject {
  locatePacked(db, id);
  const buf = packedAt.buf;
  const zs = new ZSetObject();
  for (let p = lpFirst(buf, packedAt.base); p >= 0; p = lpNextMember(buf, p)) {
    zs.add(lpGetLatin1(buf, p), lpScoreAt(buf, lpSkip(buf, p)));
  }
  storeSkiplist(db, id, zs);
  return zs;
}

/** The member's score, or NaN when it is absent (a score is never NaN). */
function zsetScore(db: Db, id: number, src: Uint8Array, start: number, len: number): number {
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
const IN_NX = 2;
const IN_XX = 4;
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
function skiplistAdd(zs: ZSetObject, score: number, member: string, flags: number): boolean {
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
    const zs = new ZSetObject(new Dict<ZNode>(count));
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
 * its time to live dropped) with the elements, or deletes it when there are none.
 * Replies with the number of elements, as the *STORE commands do.
 */
function storeResult(c: Client, i: number, members: string[], scores: number[], count: number): void {
  const db = c.db;
  if (count === 0) {
    const id = db.lookupWriteArg(c.argv, i);
    if (id >= 0) {
      db.delete(id);
      c.server.dirty++;
    }
    c.w.addInteger(0);
    return;
  }
  sortElements(members, scores, count);
  const id = db.setKeyArg(c.argv, i, false, 0);
  storeSortedElements(db, c.server.config, id, members, scores, count);
  c.server.dirty++;
  c.w.addInteger(count);
}

// ---------------------------------------------------------------------------------------
// Walking a sorted set in order
// ---------------------------------------------------------------------------------------

/**
 * A position in a sorted set of either encoding (Redis's eptr/sptr pair or skiplist
 * node), moved forwards or backwards without allocating. Valid while the set is not
 * modified; commands open it, walk, and close it before they write.
 */
class ZWalk {
  packed = false;
  buf: Uint8Array = EMPTY;
  base = 0;
  /** The member entry of the current element, -1 once past either end. */
  pos = -1;
  zs: ZSetObject | null = null;
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

  lexGteMin(range: LexRange): boolean {
    return this.packed ? entryLexGteMin(this.buf, this.pos, range) : lexGteMin(this.node!.member, range);
  }

  lexLteMax(range: LexRange): boolean {
    return this.packed ? entryLexLteMax(this.buf, this.pos, range) : lexLteMax(this.node!.member, range);
  }

  /**
   * Moves to the lowest element in the score range, or the highest when reverse; past the
   * end when none is in it (zzlFirstInRange, zslLastInRange ...).
   */
  seekScore(range: ScoreRange, reverse: boolean): void {
    if (!this.packed) {
      const list = this.zs!.list;
      this.node = reverse ? list.lastInScoreRange(range) : list.firstInScoreRange(range);
      return;
    }
    this.pos = -1;
    if (!this.packedOverlapsScores(range)) return;
    for (this.seekRank(0, reverse); !this.done; this.step(reverse)) {
      const s = this.score();
      if (reverse ? scoreLteMax(s, range) : scoreGteMin(s, range)) {
        if (!(reverse ? scoreGteMin(s, range) : scoreLteMax(s, range))) this.pos = -1;
        return;
      }
    }
  }

  /** seekScore for a lex range (zzlFirstInLexRange, zslLastInLexRange ...). */
  seekLex(range: LexRange, reverse: boolean): void {
    if (!this.packed) {
      const list = this.zs!.list;
      this.node = reverse ? list.lastInLexRange(range) : list.firstInLexRange(range);
      return;
    }
    this.pos = -1;
    if (!this.packedOverlapsLex(range)) return;
    for (this.seekRank(0, reverse); !this.done; this.step(reverse)) {
      if (reverse ? this.lexLteMax(range) : this.lexGteMin(range)) {
        if (!(reverse ? this.lexGteMin(range) : this.lexLteMax(range))) this.pos = -1;
        return;
      }
    }
  }

  /** Redis's zzlIsInRange: could any element of the listpack be in the score range? */
  private packedOverlapsScores(range: ScoreRange): boolean {
    if (isEmptyScoreRange(range)) return false;
    const last = lpSeek(this.buf, this.base, -1);
    if (last < 0 || !scoreGteMin(lpScoreAt(this.buf, last), range)) return false;
    return scoreLteMax(lpScoreAt(this.buf, lpSeek(this.buf, this.base, 1)), range);
  }

  /** Redis's zzlIsInLexRange. */
  private packedOverlapsLex(range: LexRange): boolean {
    if (isEmptyLexRange(range)) return false;
    const last = lpSeek(this.buf, this.base, -2);
    if (last < 0 || !entryLexGteMin(this.buf, last, range)) return false;
    return entryLexLteMax(this.buf, lpSeek(this.buf, this.base, 0), range);
  }
}

const walk = new ZWalk();

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
export function zsetPopReply(c: Client, db: Db, id: number, where: number, count: number, emitKey: boolean, nested: boolean): void {
  const w = c.w;
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
 * Whether argument i, read as a C string (up to its first NUL), is `word` ignoring case:
 * how Redis's strcasecmp sees option names.
 */
function isOption(argv: Argv, i: number, word: string): boolean {
  const buf = argv.buf;
  const start = argv.start[i]!;
  const len = argv.len[i]!;
  if (len < word.length || (len > word.length && buf[start + word.length] !== 0)) return false;
  for (let k = 0; k < word.length; k++) {
    let ch = buf[start + k]!;
    if (ch >= 65 && ch <= 90) ch |= 0x20;
    if (ch !== word.charCodeAt(k)) return false;
  }
  return true;
}

/** The range zslParseRange filled last; commands reuse it. */
const scoreRange: ScoreRange = { min: 0, max: 0, minExclusive: false, maxExclusive: false };
const lexRange: LexRange = { min: LEX_MIN, max: LEX_MAX, minExclusive: false, maxExclusive: false };

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
const WRONG_TYPE = -2;

/**
 * The zset at argument i, looked up for reading (or writing), or -1 when the key does not
 * exist, or WRONG_TYPE after replying WRONGTYPE (lookupKeyRead plus checkType).
 */
function lookupZset(c: Client, i: number, write: boolean): number {
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
const OPT_CH = 1 << 8;

function zaddOption(argv: Argv, i: number): number {
  if (isOption(argv, i, "nx")) return IN_NX;
  if (isOption(argv, i, "xx")) return IN_XX;
  if (isOption(argv, i, "ch")) return OPT_CH;
  if (isOption(argv, i, "incr")) return IN_INCR;
  if (isOption(argv, i, "gt")) return IN_GT;
  if (isOption(argv, i, "lt")) return IN_LT;
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
  zaddElements(c, scoreIndex, elements, flags);
}

/** The second half of zaddGeneric: the key, the elements, the reply. */
function zaddElements(c: Client, scoreIndex: number, elements: number, flags: number): void {
  const argv = c.argv;
  const db = c.db;
  const config = c.server.config;
  let id = lookupZset(c, 1, true);
  if (id === WRONG_TYPE) return;
  if (id < 0) {
    if (flags & IN_XX) return replyZadd(c, flags, 0, 0, 0, 0);
    id = createZset(c, argv.len[scoreIndex + 1]!);
  }
  let added = 0;
  let updated = 0;
  let processed = 0;
  let score = 0;
  for (let j = 0; j < elements; j++) {
    const m = scoreIndex + 1 + 2 * j;
    if (!zsetAdd(db, config, id, zaddScores[j]!, argv.buf, argv.start[m]!, argv.len[m]!, flags)) {
      if (added + updated > 0) db.modified(id);
      return c.w.addErrorBytes(ERR.scoreNaN);
    }
    const out = addResult.flags;
    if (out & OUT_ADDED) added++;
    if (out & OUT_UPDATED) updated++;
    if ((out & OUT_NOP) === 0) processed++;
    score = addResult.score;
  }
  c.server.dirty += added + updated;
  if (added + updated > 0) db.modified(id);
  replyZadd(c, flags, added, updated, processed, score);
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
    storeSkiplist(db, id, new ZSetObject());
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

/** ZCOUNT key min max */
function zcountCommand(c: Client): void {
  if (!parseScoreRangeArgs(c, 2, 3)) return;
  const id = lookupZset(c, 1, false);
  if (id === WRONG_TYPE) return;
  if (id < 0) return c.w.addInteger(0);
  c.w.addInteger(countInRange(c.db, id, false));
}

/** ZLEXCOUNT key min max */
function zlexcountCommand(c: Client): void {
  if (!parseLexRangeArgs(c, 2, 3)) return;
  const id = lookupZset(c, 1, false);
  if (id === WRONG_TYPE) return;
  if (id < 0) return c.w.addInteger(0);
  c.w.addInteger(countInRange(c.db, id, true));
}

/**
 * Elements in scoreRange (or lexRange): a walk over a listpack, two rank lookups on a
 * skiplist, as Redis counts them.
 */
function countInRange(db: Db, id: number, lex: boolean): number {
  walk.open(db, id);
  if (lex) walk.seekLex(lexRange, false);
  else walk.seekScore(scoreRange, false);
  let count = 0;
  if (walk.packed) {
    for (; !walk.done && (lex ? walk.lexLteMax(lexRange) : scoreLteMax(walk.score(), scoreRange)); walk.step(false)) count++;
  } else if (walk.node !== null) {
    const list = walk.zs!.list;
    const first = walk.node;
    const last = lex ? list.lastInLexRange(lexRange) : list.lastInScoreRange(scoreRange);
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
    storeResult(c, 1, out.members, out.scores, out.count);
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

const BY_RANK = 0;
const BY_SCORE = 1;
const BY_LEX = 2;
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
    if (!store && isOption(argv, j, "withscores")) {
      withScores = true;
    } else if (left >= 2 && isOption(argv, j, "limit")) {
      const o = parseIntArg(c, j + 1);
      if (o === null) return false;
      const l = parseIntArg(c, j + 2);
      if (l === null) return false;
      offset = o;
      limit = l;
      j += 2;
    } else if (dir === null && isOption(argv, j, "rev")) {
      dir = true;
    } else if (by === UNSET && isOption(argv, j, "bylex")) {
      by = BY_LEX;
    } else if (by === UNSET && isOption(argv, j, "byscore")) {
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
  let start = 0;
  let end = 0;
  if (by === BY_RANK) {
    const s = parseIntArg(c, minIndex);
    if (s === null) return;
    const e = parseIntArg(c, maxIndex);
    if (e === null) return;
    start = s;
    end = e;
  } else if (by === BY_SCORE) {
    if (!parseScoreRangeArgs(c, minIndex, maxIndex)) return;
  } else if (!parseLexRangeArgs(c, minIndex, maxIndex)) {
    return;
  }
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
  if (by === BY_RANK) emitRankRange(c, start, end);
  else if (by === BY_SCORE) emitScoreRange(c);
  else emitLexRange(c);
  walk.close();
  finishOutput(c);
}

/** Redis's genericZrangebyrankCommand over the open walker. */
function emitRankRange(c: Client, start: number, end: number): void {
  const length = walk.length;
  if (start < 0) start += length;
  if (end < 0) end += length;
  if (start < 0) start = 0;
  if (start > end || start >= length) return beginOutput(c, 0);
  if (end >= length) end = length - 1;
  const count = end - start + 1;
  beginOutput(c, count);
  const reverse = rangeOpts.reverse;
  walk.seekRank(start, reverse);
  for (let i = 0; i < count; i++, walk.step(reverse)) emitElement(c.w);
}

/** Redis's genericZrangebyscoreCommand over the open walker. */
function emitScoreRange(c: Client): void {
  beginOutput(c, -1);
  let offset = rangeOpts.offset;
  if (offset > 0 && offset >= walk.length) return;
  const reverse = rangeOpts.reverse;
  walk.seekScore(scoreRange, reverse);
  // Like Redis's `while (offset--)`, a negative offset walks off the end.
  while (!walk.done && offset-- !== 0) walk.step(reverse);
  for (let limit = rangeOpts.limit; !walk.done && limit-- !== 0; walk.step(reverse)) {
    const score = walk.score();
    if (reverse ? !scoreGteMin(score, scoreRange) : !scoreLteMax(score, scoreRange)) break;
    emitElement(c.w);
  }
}

/** Redis's genericZrangebylexCommand over the open walker. */
function emitLexRange(c: Client): void {
  beginOutput(c, -1);
  let offset = rangeOpts.offset;
  const reverse = rangeOpts.reverse;
  walk.seekLex(lexRange, reverse);
  while (!walk.done && offset-- !== 0) walk.step(reverse);
  for (let limit = rangeOpts.limit; !walk.done && limit-- !== 0; walk.step(reverse)) {
    if (reverse ? !walk.lexGteMin(lexRange) : !walk.lexLteMax(lexRange)) break;
    emitElement(c.w);
  }
}

/** ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES] */
function zrangeCommand(c: Client): void {
  zrangeGeneric(c, 1, false, UNSET, null);
}

/** ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count] */
function zrangestoreCommand(c: Client): void {
  zrangeGeneric(c, 2, true, UNSET, null);
}

/** ZREVRANGE key start stop [WITHSCORES] */
function zrevrangeCommand(c: Client): void {
  zrangeGeneric(c, 1, false, BY_RANK, true);
}

/** ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count] */
function zrangebyscoreCommand(c: Client): void {
  zrangeGeneric(c, 1, false, BY_SCORE, false);
}

/** ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count] */
function zrevrangebyscoreCommand(c: Client): void {
  zrangeGeneric(c, 1, false, BY_SCORE, true);
}

/** ZRANGEBYLEX key min max [LIMIT offset count] */
function zrangebylexCommand(c: Client): void {
  zrangeGeneric(c, 1, false, BY_LEX, false);
}

/** ZREVRANGEBYLEX key max min [LIMIT offset count] */
function zrevrangebylexCommand(c: Client): void {
  zrangeGeneric(c, 1, false, BY_LEX, true);
}

// ---------------------------------------------------------------------------------------
// ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX
// ---------------------------------------------------------------------------------------

/** Redis's zremrangeGenericCommand: arguments first, then the key, then the deletion. */
function zremrangeGeneric(c: Client, by: number): void {
  let start = 0;
  let end = 0;
  if (by === BY_RANK) {
    const s = parseIntArg(c, 2);
    if (s === null) return;
    const e = parseIntArg(c, 3);
    if (e === null) return;
    start = s;
    end = e;
  } else if (by === BY_SCORE ? !parseScoreRangeArgs(c, 2, 3) : !parseLexRangeArgs(c, 2, 3)) {
    return;
  }
  const id = lookupZset(c, 1, true);
  if (id === WRONG_TYPE) return;
  if (id < 0) return c.w.addInteger(0);
  const db = c.db;
  const length = zsetLength(db, id);
  if (by === BY_RANK) {
    if (start < 0) start += length;
    if (end < 0) end += length;
    if (start < 0) start = 0;
    if (start > end || start >= length) return c.w.addInteger(0);
    if (end >= length) end = length - 1;
  }
  const deleted = isPacked(db, id) ? listpackRemoveRange(db, id, by, start, end) : skiplistRemoveRange(skiplistOf(db, id), by, start, end);
  if (deleted > 0) {
    if (deleted === length) db.delete(id);
    else db.modified(id);
  }
  c.server.dirty += deleted;
  c.w.addInteger(deleted);
}

/** The skiplist half of zremrangeGeneric; start and end are 0-based ranks for BY_RANK. */
function skiplistRemoveRange(zs: ZSetObject, by: number, start: number, end: number): number {
  if (by === BY_RANK) return zs.deleteRangeByRank(start + 1, end + 1);
  return by === BY_SCORE ? zs.deleteRangeByScore(scoreRange) : zs.deleteRangeByLex(lexRange);
}

/** The listpack half (zzlDeleteRangeByRank, ByScore, ByLex). */
function listpackRemoveRange(db: Db, id: number, by: number, start: number, end: number): number {
  if (by === BY_RANK) {
    storeListpack(db, id, lpDeleteRange(editPacked(db, id), 2 * start, 2 * (end - start + 1)));
    return end - start + 1;
  }
  // Find where the range starts in place, then delete pairs from there in the edit copy.
  walk.open(db, id);
  if (by === BY_SCORE) walk.seekScore(scoreRange, false);
  else walk.seekLex(lexRange, false);
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

/** ZREMRANGEBYRANK key start stop */
function zremrangebyrankCommand(c: Client): void {
  zremrangeGeneric(c, BY_RANK);
}

/** ZREMRANGEBYSCORE key min max */
function zremrangebyscoreCommand(c: Client): void {
  zremrangeGeneric(c, BY_SCORE);
}

/** ZREMRANGEBYLEX key min max */
function zremrangebylexCommand(c: Client): void {
  zremrangeGeneric(c, BY_LEX);
}

// ---------------------------------------------------------------------------------------
// ZPOPMIN ZPOPMAX ZMPOP
// ---------------------------------------------------------------------------------------

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
  zsetPopReply(c, c.db, id, where, count, emitKey, nested);
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
  if (whereIndex < argv.count && isOption(argv, whereIndex, "min")) where = ZSET_MIN;
  else if (whereIndex < argv.count && isOption(argv, whereIndex, "max")) where = ZSET_MAX;
  if (where < 0) {
    c.w.addErrorBytes(ERR.syntax);
    return -1;
  }
  let count = -1;
  for (let j = whereIndex + 1; j < argv.count; j++) {
    if (count === -1 && j + 1 < argv.count && isOption(argv, j, "count")) {
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
// ZRANDMEMBER
// ---------------------------------------------------------------------------------------

/** Redis's ZRANDMEMBER_SUB_STRATEGY_MUL: above count*3 elements, draw rather than remove. */
const RANDOM_SUB_STRATEGY_MUL = 3;
/** LONG_MIN/2 and LONG_MAX/2: the counts ZRANDMEMBER accepts WITHSCORES. */
const HALF_LONG_MIN = -4611686018427387904n;
const HALF_LONG_MAX = 4611686018427387903n;

/** ZRANDMEMBER key [count [WITHSCORES]] */
function zrandmemberCommand(c: Client): void {
  const argv = c.argv;
  if (argv.count >= 3) {
    const count = randomCountArg(c, 2);
    if (count === null) return;
    if (argv.count > 4 || (argv.count === 4 && !isOption(argv, 3, "withscores"))) return c.w.addErrorBytes(ERR.syntax);
    const withScores = argv.count === 4;
    // Twice the count must fit a long for the pairs; parsedInt64 still holds it exactly.
    if (withScores && !parsedInt64.safe && (parsedInt64.big < HALF_LONG_MIN || parsedInt64.big > HALF_LONG_MAX)) {
      return c.w.addErrorBytes(ERR.valueOutOfRange);
    }
    return zrandmemberWithCount(c, count, withScores);
  }
  const id = lookupZset(c, 1, false);
  if (id === WRONG_TYPE) return;
  if (id < 0) return c.w.addNull();
  walk.open(c.db, id);
  seekRandom();
  walk.replyMember(c.w);
  walk.close();
}

/**
 * ZRANDMEMBER's count: any long but LONG_MIN, whose negation would overflow. Checked on
 * the exact value, since -2^63 and -2^63+1 are the same double. Replies and returns null
 * when it is not accepted; parsedInt64 keeps the exact value.
 */
function randomCountArg(c: Client, i: number): number | null {
  const argv = c.argv;
  if (!parseLongLong(argv.buf, argv.start[i]!, argv.len[i]!)) {
    c.w.addErrorBytes(ERR.notInteger);
    return null;
  }
  if (!parsedInt64.safe && parsedInt64.big === INT64_MIN) {
    c.w.addErrorBytes(ERR.notLongExceptMin);
    return null;
  }
  return parsedInt64.value;
}

/** Moves the open walker to a uniformly random element. */
function seekRandom(): void {
  if (walk.packed) {
    walk.seekRank(Math.floor(Math.random() * walk.length), false);
    return;
  }
  const member = walk.zs!.dict.randomKey()!;
  walk.node = walk.zs!.node(member)!;
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
 * `wanted` distinct random elements of the open walker's `size` (wanted < size): Floyd's
 * sampling of ranks. Above size/3 Redis removes random elements from a copy instead, and
 * below it draws until it has enough; either way only which elements come back is random,
 * and this gives every subset the same chance.
 */
function emitDistinctRandom(w: ReplyWriter, wanted: number, size: number): void {
  const chosen = new Set<number>();
  for (let j = size - wanted; j < size; j++) {
    const r = Math.floor(Math.random() * (j + 1));
    chosen.add(chosen.has(r) ? j : r);
  }
  const ranks = Array.from(chosen);
  if (wanted * RANDOM_SUB_STRATEGY_MUL > size || walk.packed) {
    // Ascending ranks let one walk visit them all, however the set is encoded.
    ranks.sort((a, b) => a - b);
    let at = 0;
    walk.seekRank(0, false);
    for (const rank of ranks) {
      for (; at < rank; at++) walk.step(false);
      emitElement(w);
    }
    return;
  }
  for (const rank of ranks) {
    walk.seekRank(rank, false);
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
  return setSourceLength(db, src.id);
}

/** The source's elements, into members/scores; returns how many. A set's members score 1. */
function sourceElements(db: Db, src: OpSource, members: string[], scores: number[]): number {
  if (src.id < 0) return 0;
  if (src.type === ObjType.ZSet) return readElements(db, src.id, members, scores);
  const n = setSourceMembers(db, src.id, members);
  for (let i = 0; i < n; i++) scores[i] = 1;
  return n;
}

/** The member's score in the source, or NaN when it is not there (zuiFind). */
function sourceScore(db: Db, src: OpSource, member: string): number {
  if (src.id < 0) return NaN;
  if (src.type === ObjType.ZSet) return zsetScoreLatin1(db, src.id, member);
  return setSourceHas(db, src.id, member) ? 1 : NaN;
}

/*
 * Set keys as inputs, every member scoring 1 (Redis's zuiNext/zuiFind over a set). A set is
 * an intset (packed bytes) or a SetTable, as commands/set.ts keeps it; read here through
 * the intset encoding and the SetTable it exports.
 */
function setSourceLength(db: Db, id: number): number {
  return setCard(db, id);
}

function setSourceMembers(db: Db, id: number, members: string[]): number {
  if (metaEnc(db.table.getMeta(id)) !== Enc.IntSet) {
    let n = 0;
    for (const member of (db.table.getObject(id) as SetTable).keys()) members[n++] = member;
    return n;
  }
  locatePacked(db, id);
  const length = intsetLength(packedAt.buf, packedAt.base);
  for (let i = 0; i < length; i++) members[i] = String(intsetGet(packedAt.buf, packedAt.base, i));
  return length;
}

/** Whether the set holds the member; an intset only holds canonical integers (string2ll). */
function setSourceHas(db: Db, id: number, member: string): boolean {
  if (metaEnc(db.table.getMeta(id)) !== Enc.IntSet) return (db.table.getObject(id) as SetTable).has(member);
  latin1Bytes(member);
  if (!parseLongLong(latin1Buf, 0, latin1Len)) return false;
  locatePacked(db, id);
  return intsetFind(packedAt.buf, packedAt.base, parsedInt64.safe ? parsedInt64.value : parsedInt64.big);
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
  if (dstIndex >= 0) return storeResult(c, dstIndex, members, scores, count);
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
    if (weighted && remaining >= sources.length + 1 && isOption(argv, j, "weights")) {
      j++;
      for (const src of sources) {
        src.weight = doubleArg(argv, j++);
        if (src.weight !== src.weight) {
          c.w.addErrorBytes(ERR.weightNotFloat);
          return false;
        }
      }
    } else if (weighted && remaining >= 2 && isOption(argv, j, "aggregate")) {
      const how = isOption(argv, j + 1, "sum") ? AGGREGATE_SUM : isOption(argv, j + 1, "min") ? AGGREGATE_MIN : isOption(argv, j + 1, "max") ? AGGREGATE_MAX : -1;
      if (how < 0) {
        c.w.addErrorBytes(ERR.syntax);
        return false;
      }
      opOpts.aggregate = how;
      j += 2;
    } else if (!store && !cardinalityOnly && isOption(argv, j, "withscores")) {
      opOpts.withScores = true;
      j++;
    } else if (cardinalityOnly && remaining >= 2 && isOption(argv, j, "limit")) {
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

/** ZUNION numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES] */
function zunionCommand(c: Client): void {
  zsetOpGeneric(c, "zunion", -1, 1, OP_UNION, false);
}

/** ZINTER numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES] */
function zinterCommand(c: Client): void {
  zsetOpGeneric(c, "zinter", -1, 1, OP_INTER, false);
}

/** ZDIFF numkeys key [key ...] [WITHSCORES] */
function zdiffCommand(c: Client): void {
  zsetOpGeneric(c, "zdiff", -1, 1, OP_DIFF, false);
}

/** ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] */
function zunionstoreCommand(c: Client): void {
  zsetOpGeneric(c, "zunionstore", 1, 2, OP_UNION, false);
}

/** ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] */
function zinterstoreCommand(c: Client): void {
  zsetOpGeneric(c, "zinterstore", 1, 2, OP_INTER, false);
}

/** ZDIFFSTORE destination numkeys key [key ...] */
function zdiffstoreCommand(c: Client): void {
  zsetOpGeneric(c, "zdiffstore", 1, 2, OP_DIFF, false);
}

/** ZINTERCARD numkeys key [key ...] [LIMIT limit] */
function zintercardCommand(c: Client): void {
  zsetOpGeneric(c, "zintercard", -1, 1, OP_INTER, true);
}

// ---------------------------------------------------------------------------------------
// ZSCAN
// ---------------------------------------------------------------------------------------

/** Redis's SCAN default COUNT. */
const SCAN_DEFAULT_COUNT = 10;

/** Elements gathered by the current ZSCAN step, as member and score text. */
const scanned: string[] = [];

function collectScanned(member: string, node: ZNode): void {
  scanned.push(member, formatDouble(node.score));
}

/**
 * ZSCAN key cursor [MATCH pattern] [COUNT count]. A listpack is returned whole with cursor
 * 0, its scores as stored; a skiplist is scanned through its hash table, COUNT counting
 * members and scores alike as Redis's list of keys does.
 */
function zscanCommand(c: Client): void {
  let cursor = parseScanCursor(c, 2);
  if (cursor < 0) return c.w.addErrorBytes(ERR.invalidCursor);
  const id = lookupZset(c, 1, false);
  if (id === WRONG_TYPE) return;
  if (id < 0) {
    c.w.addArrayLen(2);
    c.w.addBulkLatin1("0");
    return c.w.addArrayLen(0);
  }
  const argv = c.argv;
  let count = SCAN_DEFAULT_COUNT;
  let pattern: string | null = null;
  for (let i = 3; i < argv.count; i += 2) {
    if (i + 1 < argv.count && isOption(argv, i, "count")) {
      const n = parseIntArg(c, i + 1);
      if (n === null) return;
      if (n < 1) return c.w.addErrorBytes(ERR.syntax);
      count = n;
    } else if (i + 1 < argv.count && isOption(argv, i, "match")) {
      const p = argv.str(i + 1);
      pattern = isMatchAll(p) ? null : p;
    } else {
      return c.w.addErrorBytes(ERR.syntax);
    }
  }
  scanned.length = 0;
  if (isPacked(c.db, id)) {
    scanListpack(c.db, id);
    cursor = 0;
  } else {
    const dict = skiplistOf(c.db, id).dict;
    let iterations = count * 10;
    do {
      cursor = dict.scan(cursor, collectScanned);
    } while (cursor !== 0 && iterations-- > 0 && scanned.length < count);
  }
  replyScanned(c, cursor, pattern);
}

/** Every member and score entry of a listpack, as its text. */
function scanListpack(db: Db, id: number): void {
  locatePacked(db, id);
  const buf = packedAt.buf;
  for (let p = lpFirst(buf, packedAt.base); p >= 0; p = lpNext(buf, p)) scanned.push(lpGetLatin1(buf, p));
}

function replyScanned(c: Client, cursor: number, pattern: string | null): void {
  const w = c.w;
  w.addArrayLen(2);
  w.addBulkInteger(cursor);
  const at = w.deferLen();
  let n = 0;
  for (let i = 0; i < scanned.length; i += 2) {
    if (pattern !== null && !globMatch(pattern, scanned[i]!, false)) continue;
    w.addBulkLatin1(scanned[i]!);
    w.addBulkLatin1(scanned[i + 1]!);
    n += 2;
  }
  w.setDeferredLen(at, "array", n);
  scanned.length = 0;
}

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
    handler: zcountCommand,
  }),
  zset({
    name: "zlexcount", arity: 4, flags: "readonly fast", since: "2.8.9",
    summary: "Count the number of members in a sorted set between a given lexicographical range", complexity: COUNT_COMPLEXITY,
    keySpecs: RO_ACCESS, arguments: [KEY, bound("min", "string"), bound("max", "string")],
    handler: zlexcountCommand,
  }),
  zset({
    name: "zrange", arity: -4, flags: "readonly", since: "1.2.0", summary: "Return a range of members in a sorted set",
    complexity: RANGE_COMPLEXITY, history: [["6.2.0", "Added the `REV`, `BYSCORE`, `BYLEX` and `LIMIT` options."]],
    keySpecs: RO_ACCESS,
    arguments: [
      KEY, bound("start", "string"), bound("stop", "string"),
      { ...SORTBY, since: "6.2.0" }, { ...REV, since: "6.2.0" }, { ...LIMIT, since: "6.2.0" }, WITHSCORES,
    ],
    handler: zrangeCommand,
  }),
  zset({
    name: "zrangestore", arity: -5, flags: "write denyoom", since: "6.2.0",
    summary: "Store a range of members from sorted set into another key",
    complexity:
      "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.",
    keySpecs: [oneKey("OW update")[0]!, { flags: "RO access", begin: { index: 2 }, find: { lastkey: 0, keystep: 1, limit: 0 } }],
    arguments: [keyArg("dst", 0), keyArg("src", 1), bound("min", "string"), bound("max", "string"), SORTBY, REV, LIMIT],
    handler: zrangestoreCommand,
  }),
  deprecatedRange({
    name: "zrevrange", arity: -4, flags: "readonly", since: "1.2.0",
    summary: "Return a range of members in a sorted set, by index, with scores ordered from high to low",
    complexity: RANGE_COMPLEXITY, keySpecs: RO_ACCESS,
    arguments: [KEY, bound("start", "integer"), bound("stop", "integer"), WITHSCORES],
    handler: zrevrangeCommand,
  }, "`ZRANGE` with the `REV` argument"),
  deprecatedRange({
    name: "zrangebyscore", arity: -4, flags: "readonly", since: "1.0.5", summary: "Return a range of members in a sorted set, by score",
    complexity: BY_SCORE_COMPLEXITY, history: [["2.0.0", "Added the `WITHSCORES` modifier."]], keySpecs: RO_ACCESS,
    arguments: [KEY, bound("min", "double"), bound("max", "double"), { ...WITHSCORES, since: "2.0.0" }, LIMIT],
    handler: zrangebyscoreCommand,
  }, "`ZRANGE` with the `BYSCORE` argument"),
  deprecatedRange({
    name: "zrevrangebyscore", arity: -4, flags: "readonly", since: "2.2.0",
    summary: "Return a range of members in a sorted set, by score, with scores ordered from high to low",
    complexity: BY_SCORE_COMPLEXITY, history: [["2.1.6", "`min` and `max` can be exclusive."]], keySpecs: RO_ACCESS,
    arguments: [KEY, bound("max", "double"), bound("min", "double"), WITHSCORES, LIMIT],
    handler: zrevrangebyscoreCommand,
  }, "`ZRANGE` with the `REV` and `BYSCORE` arguments"),
  deprecatedRange({
    name: "zrangebylex", arity: -4, flags: "readonly", since: "2.8.9",
    summary: "Return a range of members in a sorted set, by lexicographical range", complexity: BY_SCORE_COMPLEXITY,
    keySpecs: RO_ACCESS, arguments: [KEY, bound("min", "string"), bound("max", "string"), LIMIT],
    handler: zrangebylexCommand,
  }, "`ZRANGE` with the `BYLEX` argument"),
  deprecatedRange({
    name: "zrevrangebylex", arity: -4, flags: "readonly", since: "2.8.9",
    summary: "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.",
    complexity: BY_SCORE_COMPLEXITY, keySpecs: RO_ACCESS,
    arguments: [KEY, bound("max", "string"), bound("min", "string"), LIMIT],
    handler: zrevrangebylexCommand,
  }, "`ZRANGE` with the `REV` and `BYLEX` arguments"),
  zset({
    name: "zremrangebyrank", arity: 4, flags: "write", since: "2.0.0",
    summary: "Remove all members in a sorted set within the given indexes", complexity: REMOVE_COMPLEXITY,
    keySpecs: RW_DELETE, arguments: [KEY, bound("start", "integer"), bound("stop", "integer")],
    handler: zremrangebyrankCommand,
  }),
  zset({
    name: "zremrangebyscore", arity: 4, flags: "write", since: "1.2.0",
    summary: "Remove all members in a sorted set within the given scores", complexity: REMOVE_COMPLEXITY,
    keySpecs: RW_DELETE, arguments: [KEY, bound("min", "double"), bound("max", "double")],
    handler: zremrangebyscoreCommand,
  }),
  zset({
    name: "zremrangebylex", arity: 4, flags: "write", since: "2.8.9",
    summary: "Remove all members in a sorted set between the given lexicographical range", complexity: REMOVE_COMPLEXITY,
    keySpecs: RW_DELETE, arguments: [KEY, bound("min", "string"), bound("max", "string")],
    handler: zremrangebylexCommand,
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
    handler: zunionCommand,
  }),
  zset({
    name: "zinter", arity: -3, flags: "readonly", since: "6.2.0", summary: "Intersect multiple sorted sets", complexity: INTER_COMPLEXITY,
    keySpecs: [numKeys("RO access", 1)], arguments: [NUMKEYS, KEYS, WEIGHTS, AGGREGATE, WITHSCORES],
    handler: zinterCommand,
  }),
  zset({
    name: "zdiff", arity: -3, flags: "readonly", since: "6.2.0", summary: "Subtract multiple sorted sets", complexity: DIFF_COMPLEXITY,
    keySpecs: [numKeys("RO access", 1)], arguments: [NUMKEYS, KEYS, WITHSCORES],
    handler: zdiffCommand,
  }),
  zset({
    name: "zunionstore", arity: -4, flags: "write denyoom", since: "2.0.0",
    summary: "Add multiple sorted sets and store the resulting sorted set in a new key",
    complexity:
      "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
    keySpecs: STORE_KEYS, arguments: [keyArg("destination", 0), NUMKEYS, { ...keyArg("key", 1), flags: ["multiple"] }, WEIGHTS, AGGREGATE],
    handler: zunionstoreCommand,
  }),
  zset({
    name: "zinterstore", arity: -4, flags: "write denyoom", since: "2.0.0",
    summary: "Intersect multiple sorted sets and store the resulting sorted set in a new key", complexity: INTER_COMPLEXITY,
    keySpecs: STORE_KEYS, arguments: [keyArg("destination", 0), NUMKEYS, { ...keyArg("key", 1), flags: ["multiple"] }, WEIGHTS, AGGREGATE],
    handler: zinterstoreCommand,
  }),
  zset({
    name: "zdiffstore", arity: -4, flags: "write denyoom", since: "6.2.0",
    summary: "Subtract multiple sorted sets and store the resulting sorted set in a new key", complexity: DIFF_COMPLEXITY,
    keySpecs: STORE_KEYS, arguments: [keyArg("destination", 0), NUMKEYS, { ...keyArg("key", 1), flags: ["multiple"] }],
    handler: zdiffstoreCommand,
  }),
  zset({
    name: "zintercard", arity: -3, flags: "readonly", since: "7.0.0",
    summary: "Intersect multiple sorted sets and return the cardinality of the result",
    complexity: "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.",
    keySpecs: [numKeys("RO access", 1)],
    arguments: [NUMKEYS, KEYS, { name: "limit", type: "integer", token: "LIMIT", flags: ["optional"] }],
    handler: zintercardCommand,
  }),
  zset({
    name: "zscan", arity: -3, flags: "readonly", since: "2.8.0",
    summary: "Incrementally iterate sorted sets elements and associated scores",
    complexity:
      "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
    tips: ["nondeterministic_output"], keySpecs: RO_ACCESS,
    arguments: [
      KEY, { name: "cursor", type: "integer" },
      { name: "pattern", type: "pattern", token: "MATCH", flags: ["optional"] },
      { name: "count", type: "integer", token: "COUNT", flags: ["optional"] },
    ],
    handler: zscanCommand,
  }),
];
