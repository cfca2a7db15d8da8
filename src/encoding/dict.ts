/**
 * Dict: the chained hash table behind the `hashtable` encoding of hashes and sets (the
 * keyspace itself lives in store/keytable.ts), after the semantics of Redis's dict.c.
 *
 * Keys are latin1 strings: each char code 0..255 stands for one byte of a binary-safe
 * Redis key, so a key is compared and hashed by its char codes alone.
 *
 * Layout. Entries live in flat arrays indexed by a slot number instead of one JS object
 * per entry, which keeps the heap small and the garbage collector idle:
 *
 *   pairs[2s], pairs[2s+1]   slot s's key and value (a plain JS array, length 2 * size)
 *   meta[2s]                 slot s's cached hash, so a resize never rehashes a string
 *   meta[2s+1]               the next slot in the same bucket's chain, or NONE
 *   buckets[b]               the first slot of bucket b's chain, or NONE
 *
 * Each pair sits side by side rather than in parallel arrays because a lookup in a big
 * table is a chain of cache misses: this way a hit costs one miss for the hash and link
 * and one for the key and value, instead of one each.
 *
 * Slots are always dense: the live entries occupy slots 0..size-1. Deleting an entry
 * moves the last entry into the hole (and repoints the one link that named it), so
 * there is no free list, memory shrinks with the table, and a uniformly random entry is
 * one random slot away (randomKey is exactly fair, unlike Redis's bucket sampling).
 *
 * Sizing follows Redis: the bucket count is a power of two, at least MIN_BUCKETS; the
 * table doubles when an insert would push the load factor above 1 and shrinks to fit
 * when it drops below 1/MIN_FILL_DIVISOR. `meta` has room for as many slots as there are
 * buckets, so it is reallocated only with them. Resizing rehashes in one go rather than
 * incrementally (it reads only `meta`, never a key); the SCAN cursor below keeps its
 * guarantee across resizes regardless.
 *
 * Memory. `memoryBytes` is what the table holds on the heap (see cache/memory.ts): the
 * object and its arrays, the entries, and the strings of the keys and of string values
 * (other values are counted by whoever owns them: a zset's nodes by its skiplist). It is
 * kept current with every change, and reported to the `ledger` while the keyspace holds
 * the table.
 */

import { coprimeStep, nextCursor, randomBelow } from "../util/cursor.ts";
import { hashBytes, hashString } from "../util/hash.ts";
import { type MemoryLedger, stringBytes, textBytes } from "../cache/memory.ts";

/** The smallest table, like Redis's DICT_HT_INITIAL_SIZE. */
const MIN_BUCKETS = 4;
/** Shrink when fewer than 1/8 of the buckets would be used, like Redis's HASHTABLE_MIN_FILL. */
const MIN_FILL_DIVISOR = 8;
/** Slot numbers live in Int32Arrays, so the table stops doubling here. */
const MAX_BUCKETS = 2 ** 30;
/** The end of a chain or an empty bucket. */
const NONE = -1;

// Heap costs (measured as cache/memory.ts describes).
/** The empty table: the object, its typed arrays' objects and the scan scratch arrays. */
const DICT_BYTES = 368;
/** Per bucket: its chain head (4 bytes) and a slot's hash and link (8 bytes). */
const BUCKET_BYTES = 12;
/** Per entry: its key and value references, with the pairs array's spare room on average. */
const ENTRY_BYTES = 20;

// ---------------------------------------------------------------------------------------
// Dict
// ---------------------------------------------------------------------------------------

/** Whether the latin1 string holds exactly these bytes. */
function latin1Equals(s: string, buf: Uint8Array, start: number, len: number): boolean {
  if (s.length !== len) return false;
  for (let i = 0; i < len; i++) if (s.charCodeAt(i) !== buf[start + i]) return false;
  return true;
}

/**
 * A chained hash table from latin1 string keys to values of type V.
 *
 * Iteration (forEach, keys, values, entries) walks the slots from the last to the first.
 * Because a delete only ever moves an entry from the top slot down into a hole, every
 * entry present for the whole iteration is visited at least once whatever the callback
 * or the loop body does. Deleting the current key or any visited key is exact: nothing is
 * visited twice. Deleting a key not yet visited may make one already-visited entry be
 * visited again (it moves into the hole). Keys inserted during iteration may or may not be
 * visited. Overwriting a value is seen if that entry has not been visited yet. Resizes and
 * clear() are safe; clear() ends the iteration.
 */
export class Dict<V> {
  private count = 0;
  private mask = MIN_BUCKETS - 1;
  private buckets = newBuckets(MIN_BUCKETS);
  private meta = new Int32Array(2 * MIN_BUCKETS);
  private pairs: (string | V)[] = [];
  /**
   * Scratch arrays that scan() borrows to snapshot a bucket, so a scan allocates nothing.
   * They are null while borrowed, which makes a nested scan allocate its own.
   */
  private scanKeys: (string | undefined)[] | null = [];
  private scanValues: (V | undefined)[] | null = [];
  /** stringBytes of every key and string value. */
  private stringTotal = 0;
  /** The table holding this one as a value, told of every change of memoryBytes; null when none. */
  ledger: MemoryLedger | null = null;

  /** `sizeHint` pre-sizes the table, like dictExpand before loading a known count. */
  constructor(sizeHint = 0) {
    if (sizeHint > MIN_BUCKETS) this.reserve(sizeHint);
  }

  get size(): number {
    return this.count;
  }

  /** Heap bytes held now (see the class comment). */
  get memoryBytes(): number {
    return DICT_BYTES + BUCKET_BYTES * (this.mask + 1) + ENTRY_BYTES * this.count + this.stringTotal;
  }

  /** The current number of buckets; for DEBUG HTSTATS-style reporting and tests. */
  get bucketCount(): number {
    return this.mask + 1;
  }

  get(key: string): V | undefined {
    const slot = this.find(key, hashString(key));
    return slot === NONE ? undefined : this.valueAt(slot);
  }

  has(key: string): boolean {
    return this.find(key, hashString(key)) !== NONE;
  }

  /** has() for a key given as bytes (an argument), without making its string. */
  hasBytes(buf: Uint8Array, start: number, len: number): boolean {
    const pairs = this.pairs;
    const meta = this.meta;
    const hash = hashBytes(buf, start, len);
    for (let slot = this.buckets[hash & this.mask]!; slot !== NONE; slot = meta[2 * slot + 1]!) {
      if (meta[2 * slot] === hash && latin1Equals(pairs[2 * slot] as string, buf, start, len)) return true;
    }
    return false;
  }

  /** Insert or overwrite. Returns true when the key was new. */
  set(key: string, value: V): boolean {
    const before = this.memoryBytes;
    const hash = hashString(key);
    const slot = this.find(key, hash);
    if (slot !== NONE) {
      this.stringTotal += textBytes(value) - textBytes(this.pairs[2 * slot + 1]);
      this.pairs[2 * slot + 1] = value;
      this.reportSince(before);
      return false;
    }
    // The table is full: one more entry would take the load factor above 1.
    if (this.count > this.mask) this.grow();
    this.append(key, value, hash);
    this.stringTotal += stringBytes(key.length) + textBytes(value);
    this.reportSince(before);
    return true;
  }

  /** Returns true when the key existed. */
  delete(key: string): boolean {
    const slot = this.unlink(key, hashString(key));
    if (slot === NONE) return false;
    const before = this.memoryBytes;
    this.stringTotal -= stringBytes(key.length) + textBytes(this.pairs[2 * slot + 1]);
    this.fillHole(slot);
    if (this.count * MIN_FILL_DIVISOR < this.mask + 1 && this.mask + 1 > MIN_BUCKETS) {
      this.resize(bucketsFor(this.count));
    }
    this.reportSince(before);
    return true;
  }

  clear(): void {
    const before = this.memoryBytes;
    this.count = 0;
    this.mask = MIN_BUCKETS - 1;
    this.buckets = newBuckets(MIN_BUCKETS);
    this.meta = new Int32Array(2 * MIN_BUCKETS);
    this.pairs = [];
    this.stringTotal = 0;
    this.reportSince(before);
  }

  /** Grow the table so that `size` entries fit without another resize. Never shrinks. */
  reserve(size: number): void {
    const wanted = bucketsFor(size);
    if (wanted <= this.mask + 1) return;
    const before = this.memoryBytes;
    this.resize(wanted);
    this.reportSince(before);
  }

  /**
   * One step of Redis SCAN over buckets with the reverse-binary cursor: calls fn for every
   * entry of the bucket at `cursor` and returns the next cursor, 0 when the scan is done.
   *
   * The cursor counts up with its bits reversed, so it walks the buckets high bit first.
   * Doubling the table splits bucket b into b and b + size, and halving it merges them; in
   * both cases every bucket before the cursor in reversed order maps onto buckets that are
   * also before it, so a key present for the whole scan is returned at least once (keys
   * may repeat after a shrink). Only the low 32 bits of the cursor matter: bits above the
   * mask are ignored on the way in and come back as zero, as in Redis. A cursor above
   * 2^53 should therefore be reduced modulo 2^32 by the caller before it becomes a number.
   *
   * The bucket is copied before fn runs, so fn may delete the current key, or anything
   * else, and the scan stays correct. If fn deletes another key of the same bucket that
   * has not been passed to it yet, fn still receives it.
   */
  scan(cursor: number, fn: (key: string, value: V) => void): number {
    if (this.count === 0) return 0;
    const mask = this.mask;
    const at = cursor >>> 0;
    const keys = this.scanKeys ?? [];
    const values = this.scanValues ?? [];
    this.scanKeys = null;
    this.scanValues = null;
    const n = this.snapshotBucket(at & mask, keys, values);
    for (let j = 0; j < n; j++) fn(keys[j]!, values[j]!);
    // Drop the references so a deleted value is not kept alive by the scratch arrays.
    for (let j = 0; j < n; j++) {
      keys[j] = undefined;
      values[j] = undefined;
    }
    // If fn threw, the scratch arrays are simply lost and the next scan makes new ones.
    this.scanKeys = keys;
    this.scanValues = values;
    return nextCursor(at, mask);
  }

  /** A uniformly random key (fairer than dictGetFairRandomKey), or undefined when empty. */
  randomKey(): string | undefined {
    return this.count === 0 ? undefined : this.keyAt(randomBelow(this.count));
  }

  /**
   * Up to `count` distinct keys from random positions, like dictGetSomeKeys, pushed into
   * `out`; returns how many. The positions form a stride with a random start and a random
   * step coprime with the size, so they never repeat and need no bookkeeping. Slot order
   * roughly follows insertion order, which a step rather than a contiguous run keeps from
   * biasing eviction towards keys written together.
   */
  sample(count: number, out: string[]): number {
    const size = this.count;
    const n = Math.min(Math.floor(count), size);
    if (!(n > 0)) return 0;
    if (n === size) {
      for (let slot = 0; slot < size; slot++) out.push(this.keyAt(slot));
      return n;
    }
    const step = coprimeStep(size);
    let slot = randomBelow(size);
    for (let k = 0; k < n; k++) {
      out.push(this.keyAt(slot));
      slot += step;
      if (slot >= size) slot -= size;
    }
    return n;
  }

  /** Calls fn for every entry; see the class comment for what mutation from fn does. */
  forEach(fn: (value: V, key: string) => void): void {
    // After each visit, resume below both the current slot and the (possibly shrunk) top.
    for (let slot = this.count - 1; slot >= 0; slot = Math.min(slot, this.count) - 1) {
      fn(this.valueAt(slot), this.keyAt(slot));
    }
  }

  *keys(): IterableIterator<string> {
    for (let slot = this.count - 1; slot >= 0; slot = Math.min(slot, this.count) - 1) {
      yield this.keyAt(slot);
    }
  }

  *values(): IterableIterator<V> {
    for (let slot = this.count - 1; slot >= 0; slot = Math.min(slot, this.count) - 1) {
      yield this.valueAt(slot);
    }
  }

  *entries(): IterableIterator<[string, V]> {
    for (let slot = this.count - 1; slot >= 0; slot = Math.min(slot, this.count) - 1) {
      yield [this.keyAt(slot), this.valueAt(slot)];
    }
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries();
  }

  /**
   * Checks every structural invariant and throws on the first broken one. It walks the
   * whole table, so tests and DEBUG commands call it, never the hot path.
   */
  validate(): void {
    const bucketCount = this.mask + 1;
    check((bucketCount & this.mask) === 0 && bucketCount >= MIN_BUCKETS, "bucket count is a power of two >= 4");
    check(this.buckets.length === bucketCount, "buckets length matches mask");
    check(this.meta.length === 2 * bucketCount, "slot capacity matches bucket count");
    check(this.pairs.length === 2 * this.count, "slots are dense");
    check(this.count <= bucketCount, "load factor <= 1");
    const seen = new Uint8Array(this.count);
    let linked = 0;
    for (let b = 0; b < bucketCount; b++) {
      for (let slot = this.buckets[b]!; slot !== NONE; slot = this.meta[2 * slot + 1]!) {
        check(slot >= 0 && slot < this.count, `slot ${slot} in bucket ${b} is live`);
        check(seen[slot] === 0, `slot ${slot} is linked once`);
        seen[slot] = 1;
        linked++;
        const hash = this.meta[2 * slot]!;
        check(typeof this.pairs[2 * slot] === "string", `slot ${slot} holds a string key`);
        check(hash === hashString(this.keyAt(slot)), `slot ${slot} caches its hash`);
        check((hash & this.mask) === b, `slot ${slot} sits in its bucket`);
      }
    }
    check(linked === this.count, "every slot is linked");
    let strings = 0;
    for (let slot = 0; slot < this.count; slot++) strings += stringBytes(this.keyAt(slot).length) + textBytes(this.valueAt(slot));
    check(strings === this.stringTotal, "string bytes add up");
  }

  // -------------------------------------------------------------------------------------
  // Internals
  // -------------------------------------------------------------------------------------

  /** Tells the ledger how much memoryBytes moved since it was `before`. */
  private reportSince(before: number): void {
    if (this.ledger !== null) this.ledger.objectBytes += this.memoryBytes - before;
  }

  private keyAt(slot: number): string {
    return this.pairs[2 * slot] as string;
  }

  private valueAt(slot: number): V {
    return this.pairs[2 * slot + 1] as V;
  }

  /** The slot holding key, or NONE. */
  private find(key: string, hash: number): number {
    const meta = this.meta;
    const pairs = this.pairs;
    let slot = this.buckets[hash & this.mask]!;
    // Comparing the cached hash first skips most string comparisons, and with them the
    // cache misses of reaching into other keys' characters.
    while (slot !== NONE) {
      if (meta[2 * slot] === hash && pairs[2 * slot] === key) return slot;
      slot = meta[2 * slot + 1]!;
    }
    return NONE;
  }

  /** Removes key's slot from its chain and returns it, or NONE when absent. */
  private unlink(key: string, hash: number): number {
    const meta = this.meta;
    const pairs = this.pairs;
    const bucket = hash & this.mask;
    let previous = NONE;
    let slot = this.buckets[bucket]!;
    while (slot !== NONE && !(meta[2 * slot] === hash && pairs[2 * slot] === key)) {
      previous = slot;
      slot = meta[2 * slot + 1]!;
    }
    if (slot === NONE) return NONE;
    if (previous === NONE) this.buckets[bucket] = meta[2 * slot + 1]!;
    else meta[2 * previous + 1] = meta[2 * slot + 1]!;
    return slot;
  }

  /** Puts a new entry in the next free slot, at the head of its chain. */
  private append(key: string, value: V, hash: number): void {
    const slot = this.count;
    const bucket = hash & this.mask;
    this.pairs.push(key, value);
    this.meta[2 * slot] = hash;
    this.meta[2 * slot + 1] = this.buckets[bucket]!;
    this.buckets[bucket] = slot;
    this.count = slot + 1;
  }

  /** Keeps the slots dense after `hole` was unlinked, by moving the last entry into it. */
  private fillHole(hole: number): void {
    const last = this.count - 1;
    if (hole !== last) this.moveSlot(last, hole);
    // Popping drops the array's references to the deleted (or just moved) entry; pop is
    // a JIT intrinsic, where assigning length is a runtime call.
    this.pairs.pop();
    this.pairs.pop();
    this.count = last;
  }

  /** Moves a linked entry to another slot and repoints the one link that named it. */
  private moveSlot(from: number, to: number): void {
    const meta = this.meta;
    const hash = meta[2 * from]!;
    const bucket = hash & this.mask;
    if (this.buckets[bucket] === from) {
      this.buckets[bucket] = to;
    } else {
      let previous = this.buckets[bucket]!;
      while (meta[2 * previous + 1] !== from) previous = meta[2 * previous + 1]!;
      meta[2 * previous + 1] = to;
    }
    meta[2 * to] = hash;
    meta[2 * to + 1] = meta[2 * from + 1]!;
    this.pairs[2 * to] = this.pairs[2 * from]!;
    this.pairs[2 * to + 1] = this.pairs[2 * from + 1]!;
  }

  private grow(): void {
    const bucketCount = this.mask + 1;
    if (bucketCount >= MAX_BUCKETS) throw new RangeError(`Dict cannot hold more than ${MAX_BUCKETS} entries`);
    this.resize(bucketCount * 2);
  }

  /** Rebuilds the table with `bucketCount` buckets (and slot capacity) from the cached hashes. */
  private resize(bucketCount: number): void {
    const shrinking = bucketCount < this.mask + 1;
    const mask = bucketCount - 1;
    const buckets = newBuckets(bucketCount);
    const meta = new Int32Array(2 * bucketCount);
    const oldMeta = this.meta;
    const count = this.count;
    for (let slot = 0; slot < count; slot++) {
      const hash = oldMeta[2 * slot]!;
      const bucket = hash & mask;
      meta[2 * slot] = hash;
      meta[2 * slot + 1] = buckets[bucket]!;
      buckets[bucket] = slot;
    }
    this.mask = mask;
    this.buckets = buckets;
    this.meta = meta;
    // A JS array keeps its backing store when shortened; copying releases it once the
    // table is much smaller.
    if (shrinking) this.pairs = this.pairs.slice();
  }

  /** Copies bucket's entries into the scratch arrays and returns how many there are. */
  private snapshotBucket(bucket: number, keys: (string | undefined)[], values: (V | undefined)[]): number {
    let n = 0;
    for (let slot = this.buckets[bucket]!; slot !== NONE; slot = this.meta[2 * slot + 1]!) {
      keys[n] = this.keyAt(slot);
      values[n] = this.valueAt(slot);
      n++;
    }
    return n;
  }
}

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

function newBuckets(bucketCount: number): Int32Array {
  return new Int32Array(bucketCount).fill(NONE);
}

/** The bucket count Redis would pick for `size` entries: the next power of two, at least 4. */
function bucketsFor(size: number): number {
  let bucketCount = MIN_BUCKETS;
  while (bucketCount < size && bucketCount < MAX_BUCKETS) bucketCount *= 2;
  return bucketCount;
}

function check(condition: boolean, invariant: string): void {
  if (!condition) throw new Error(`Dict invariant broken: ${invariant}`);
}
