// What a value is (Redis's robj header): its type, its encoding and its access time, packed
// into the 32 bits of metadata each KeyTable entry carries; the value itself lives in the
// table (see store/db.ts). Type and encoding numbers are Redis's own (server.h), so OBJECT
// ENCODING, TYPE and the RDB writer can use them directly.

export const enum ObjType {
  String = 0,
  List = 1,
  Set = 2,
  ZSet = 3,
  Hash = 4,
  Stream = 6,
}

export const enum Enc {
  Raw = 0,
  Int = 1,
  HashTable = 2,
  IntSet = 6,
  SkipList = 7,
  EmbStr = 8,
  QuickList = 9,
  Stream = 10,
  ListPack = 11,
}

/** Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT: strings up to this many bytes are embstr. */
export const EMBSTR_SIZE_LIMIT = 44;

const ENCODING_NAMES: Record<number, string> = {
  [Enc.Raw]: "raw",
  [Enc.Int]: "int",
  [Enc.HashTable]: "hashtable",
  [Enc.IntSet]: "intset",
  [Enc.SkipList]: "skiplist",
  [Enc.EmbStr]: "embstr",
  [Enc.QuickList]: "quicklist",
  [Enc.Stream]: "stream",
  [Enc.ListPack]: "listpack",
};

const TYPE_NAMES: Record<number, string> = {
  [ObjType.String]: "string",
  [ObjType.List]: "list",
  [ObjType.Set]: "set",
  [ObjType.ZSet]: "zset",
  [ObjType.Hash]: "hash",
  [ObjType.Stream]: "stream",
};

export const encodingName = (enc: number): string => ENCODING_NAMES[enc] ?? "unknown";
export const typeName = (type: number): string => TYPE_NAMES[type] ?? "none";

/*
 * Every key carries 32 bits of metadata in its KeyTable entry (Redis keeps the same facts
 * in the robj header): bits 0..23 the LRU clock (or LFU data), bits 24..27 the encoding,
 * bits 28..30 the type, and bit 31 UNSHARED. Redis types fit 3 bits (the largest is 6).
 * UNSHARED marks an int-encoded string that COPY made: Redis shares one object per integer
 * 0..9999 between keys, but a copy is a private object until the key gets another value,
 * which OBJECT REFCOUNT shows. Every new value writes the whole word, which clears it.
 */
const LRU_MASK = 0xffffff;
const ENC_SHIFT = 24;
const TYPE_SHIFT = 28;
export const META_UNSHARED = 0x80000000;

/** The metadata word of a value of this type and encoding, last used at `lru`. */
export function packMeta(type: ObjType, enc: Enc, lru: number): number {
  return ((type << TYPE_SHIFT) | (enc << ENC_SHIFT) | (lru & LRU_MASK)) >>> 0;
}

export function metaType(meta: number): ObjType {
  return ((meta >>> TYPE_SHIFT) & 7) as ObjType;
}

export function metaEnc(meta: number): Enc {
  return ((meta >>> ENC_SHIFT) & 15) as Enc;
}

export function metaLru(meta: number): number {
  return meta & LRU_MASK;
}

/** The same word with the LRU clock replaced (a lookup touching the key). */
export function withLru(meta: number, lru: number): number {
  return ((meta & ~LRU_MASK) | (lru & LRU_MASK)) >>> 0;
}

/** Redis's LRU_CLOCK: seconds, wrapping at 24 bits. */
export function lruClock(nowMs: number): number {
  return Math.floor(nowMs / 1000) & LRU_MASK;
}

/** Redis's LRU_CLOCK_MAX: the LRU clock wraps at 24 bits. */
export const LRU_CLOCK_MAX = LRU_MASK;

/**
 * Redis's estimateObjectIdleTime in seconds: how long ago a value last used at `lru` was
 * used, with the 24-bit clock taken to have wrapped at most once.
 */
export function lruIdleSeconds(lru: number, nowMs: number): number {
  const now = lruClock(nowMs);
  return now >= lru ? now - lru : now + (LRU_CLOCK_MAX - lru);
}

/*
 * Under an LFU maxmemory-policy the same 24 bits hold LFU data instead (Redis's object.c
 * and evict.c): the minute of the last decrement in the high 16 bits (wrapping) and a
 * logarithmic access counter in the low 8. A new value starts at LFU_INIT_VAL, so that it
 * survives a few samplings before its first reads; each access first takes one off the
 * counter per `lfu-decay-time` minutes elapsed, then adds one with a probability that
 * falls as the counter grows (`lfu-log-factor`).
 */

/** Redis's LFU_INIT_VAL: the counter of a value just written. */
export const LFU_INIT_VAL = 5;
const LFU_COUNTER_MAX = 255;

/** Redis's LFUGetTimeInMinutes: minutes, wrapping at 16 bits. */
function lfuMinutes(nowMs: number): number {
  return Math.floor(nowMs / 60000) & 65535;
}

/** The LFU data of a value written at `nowMs`. */
export function lfuInitWord(nowMs: number): number {
  return (lfuMinutes(nowMs) << 8) | LFU_INIT_VAL;
}

/**
 * Redis's LFUDecrAndReturn: the counter of LFU data `lfu` as of `nowMs`, less one per
 * `decayMinutes` elapsed since its last decrement (never below zero).
 */
export function lfuDecayedCounter(lfu: number, nowMs: number, decayMinutes: number): number {
  const lastMinutes = lfu >>> 8;
  const counter = lfu & 255;
  const nowMinutes = lfuMinutes(nowMs);
  const elapsed = nowMinutes >= lastMinutes ? nowMinutes - lastMinutes : 65535 - lastMinutes + nowMinutes;
  const periods = decayMinutes > 0 ? Math.floor(elapsed / decayMinutes) : 0;
  return periods > counter ? 0 : counter - periods;
}

/**
 * Redis's LFULogIncr: add one with probability 1 / ((counter - LFU_INIT_VAL) * factor + 1),
 * so a counter at or below LFU_INIT_VAL always grows and 255 takes about a million hits
 * at the default factor of 10.
 */
export function lfuLogIncr(counter: number, logFactor: number): number {
  if (counter === LFU_COUNTER_MAX) return counter;
  const base = Math.max(counter - LFU_INIT_VAL, 0);
  return Math.random() < 1 / (base * logFactor + 1) ? counter + 1 : counter;
}

/** Redis's updateLFU: the LFU data after one access at `nowMs`. */
export function lfuAccessed(lfu: number, nowMs: number, logFactor: number, decayMinutes: number): number {
  const counter = lfuLogIncr(lfuDecayedCounter(lfu, nowMs, decayMinutes), logFactor);
  return (lfuMinutes(nowMs) << 8) | counter;
}
