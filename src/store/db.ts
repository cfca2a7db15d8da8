// One numbered database (Redis's redisDb, db.c): the keyspace with its expiry times, lazy
// expiry on access and the active expiry cycle's sampling. Keys are bytes, so any byte
// sequence is a key.
//
// Keys, values and expiry times live in one KeyTable. An entry's id (a number, NO_KEY for
// none) is the handle lookups give commands; it stays valid until the key is deleted, and
// lookups or deletes of other keys never change it. Each entry's 32 metadata bits hold the
// type, the encoding and the LRU clock (store/object.ts); store/string.ts reads and writes
// string values, and collection types keep their object as the entry's Object value.
//
// Lookups come in three forms with the same behaviour: by command argument (`...Arg`, the
// hot path: nothing is allocated), by byte range (`...Bytes`) and by latin1 string (one
// char per byte), for code that holds a key as a string.

import { KeyTable, ValueKind } from "./keytable.ts";
import { hashBytes } from "../util/hash.ts";
import { type ObjType, lfuAccessed, lfuInitWord, lruClock, metaLru, metaType, withLru } from "./object.ts";
import type { Argv } from "../resp/parser.ts";
import type { Snapshot } from "../persistence/snapshot.ts";

/** The id lookups return for a key that does not exist. */
export const NO_KEY = -1;

/** Counters INFO stats reports; one instance shared by all databases of a server. */
export class KeyspaceStats {
  hits = 0;
  misses = 0;
  expiredKeys = 0;
  /** Keys found expired by the active cycle, as a share of those sampled (INFO expired_stale_perc). */
  expiredStalePerc = 0;
  expiredTimeCapReachedCount = 0;
  evictedKeys = 0;
}

/**
 * The time commands see (Redis's cached mstime): read once per command by the dispatcher,
 * from the cheap monotonic clock, and re-anchored to the wall clock by the cron.
 */
export class Clock {
  nowMs = Date.now();
  /** The monotonic reading (performance.now()) the last tick took. */
  monoMs = performance.now();
  private originMs = Date.now() - this.monoMs;
  /**
   * Whether values carry LFU data rather than an LRU clock in their 24 access bits (an LFU
   * maxmemory-policy), with the counter's parameters; cache/evict.ts keeps them in step
   * with the config through setAccessMode.
   */
  lfu = false;
  lfuLogFactor = 10;
  lfuDecayTime = 1;
  /**
   * The access bits of a value created now (Redis's createObject): lruClock(nowMs), or
   * fresh LFU data. Kept with nowMs so that writing many keys (MSET) divides once.
   */
  newValueLru = lruClock(this.nowMs);
  /**
   * The access bits the value being written gets: newValueLru, except that under LFU a
   * lookup for writing leaves the key's own (just counted) data here, as Redis's
   * dbOverwrite keeps the LFU data of the value it replaces. Adding a key resets it.
   */
  lru = this.newValueLru;
  /** While a script runs, its start: keys expire as of then (0 otherwise). */
  scriptStartMs = 0;

  /** Advance to now; returns the monotonic reading for callers that time things. */
  tick(): number {
    const t = performance.now();
    this.monoMs = t;
    this.nowMs = Math.floor(this.originMs + t);
    this.lru = this.newValueLru = this.lfu ? lfuInitWord(this.nowMs) : lruClock(this.nowMs);
    return t;
  }

  /** Switch between LRU and LFU access data (maxmemory-policy), and set the LFU counter's parameters. */
  setAccessMode(lfu: boolean, logFactor: number, decayTime: number): void {
    this.lfu = lfu;
    this.lfuLogFactor = logFactor;
    this.lfuDecayTime = decayTime;
    this.lru = this.newValueLru = lfu ? lfuInitWord(this.nowMs) : lruClock(this.nowMs);
  }

  /** Follow wall-clock adjustments (NTP), as Redis's mstime() would. */
  resync(): void {
    this.originMs = Date.now() - performance.now();
    this.tick();
  }
}

/** Hooks the server hangs side channels on (WATCH, notifications, propagation). */
export interface KeyspaceEvents {
  /** A key was written, deleted or expired (Redis's signalModifiedKey). */
  keyModified(db: Db, key: string): void;
  /** A key was removed because its time to live passed (propagated as DEL). */
  keyExpired(db: Db, key: string): void;
  /** Every key of the database is about to go (FLUSHDB, FLUSHALL): WATCH treats the keys as touched. */
  dbFlushed?(db: Db): void;
  /** SWAPDB is about to exchange the contents of a and b. */
  dbSwapped?(a: Db, b: Db): void;
}

/**
 * Keyspace notifications that start inside the keyspace (Redis's dbAdd and lookupKey), set
 * on the databases only while their classes are on (see server/notify.ts).
 */
export interface KeyNotices {
  /** A key was added (the `new` event); its id is live. */
  keyAdded(db: Db, id: number): void;
  /** A read found no key (the `keymiss` event). */
  keyMissed(db: Db, buf: Uint8Array, start: number, len: number): void;
}

/** Ids the active expiry cycle samples; shared by every database, grown on demand. */
let expireSample = new Int32Array(64);

/** What becomes of a key whose time has passed when a command finds it. */
export const enum ExpiryPolicy {
  /** Deleted (and the deletion propagated): a master's way. */
  Delete,
  /** Reads as missing but stays: during CLIENT PAUSE, and on a replica, whose master deletes. */
  Hide,
  /** Still there: on a replica, for its master's commands, which must apply as they did upstream. */
  Keep,
}

const alwaysDelete = (): ExpiryPolicy => ExpiryPolicy.Delete;
/** RANDOMKEY's picks of expired keys it cannot delete before it returns one anyway. */
const RANDOMKEY_MAX_TRIES = 100;

export class Db {
  readonly id: number;
  /** The keys, their values and their expiry times. SWAPDB exchanges it between databases. */
  table = new KeyTable();
  /** Average TTL of keys sampled by the active cycle (INFO keyspace avg_ttl). */
  avgTtl = 0;
  readonly stats: KeyspaceStats;
  readonly clock: Clock;
  events: KeyspaceEvents | null = null;
  /** Told of new keys and read misses while keyspace notifications want them, else null. */
  notices: KeyNotices | null = null;
  /**
   * Told of every key expiry removes, for propagation as DEL; null while nothing propagates,
   * so that expiry builds no key string then. A slot of its own, because `events` is only
   * set while clients block.
   */
  expiredHook: ((db: Db, key: string) => void) | null = null;
  /**
   * The background save under way, told before any key changes or goes so that it can
   * write the key as it was first (see persistence/snapshot.ts); null when none runs.
   */
  snapshot: Snapshot | null = null;
  /** What expiry does now (CLIENT PAUSE, a replica); set by the server. */
  expiryPolicy: () => ExpiryPolicy = alwaysDelete;
  /** Where the latin1-string methods put a key's bytes. */
  private keyScratch = new Uint8Array(64);

  constructor(id: number, stats: KeyspaceStats, clock: Clock) {
    this.id = id;
    this.stats = stats;
    this.clock = clock;
  }

  get size(): number {
    return this.table.size;
  }

  /** Keys with a time to live (INFO keyspace expires). */
  get volatileCount(): number {
    return this.table.volatileCount;
  }

  // -------------------------------------------------------------------------------------
  // Lookups. Each one first deletes the key if its time has come (lazy expiry).
  // -------------------------------------------------------------------------------------

  /** Lookup without side effects on stats or LRU (Redis's LOOKUP_NOTOUCH | LOOKUP_NOSTATS). */
  peekBytes(buf: Uint8Array, start: number, len: number, nowMs = this.clock.nowMs): number {
    const table = this.table;
    const id = table.find(buf, start, len);
    if (id < 0 || table.volatileCount === 0) return id;
    return this.expireIfNeeded(id, nowMs) ? NO_KEY : id;
  }

  /** Lookup for a read: counts a keyspace hit or miss and touches the LRU clock. */
  lookupReadBytes(buf: Uint8Array, start: number, len: number, nowMs = this.clock.nowMs): number {
    const id = this.peekBytes(buf, start, len, nowMs);
    if (id < 0) {
      this.stats.misses++;
      if (this.notices !== null) this.notices.keyMissed(this, buf, start, len);
      return NO_KEY;
    }
    this.stats.hits++;
    this.touch(id, nowMs);
    return id;
  }

  /**
   * Lookup that counts a keyspace hit or miss but leaves the LRU clock alone (Redis's
   * LOOKUP_NOTOUCH), for commands that inspect a key without using its value: EXISTS,
   * TYPE, TTL, OBJECT.
   */
  lookupReadNoTouchBytes(buf: Uint8Array, start: number, len: number, nowMs = this.clock.nowMs): number {
    const id = this.peekBytes(buf, start, len, nowMs);
    if (id < 0) {
      this.stats.misses++;
      if (this.notices !== null) this.notices.keyMissed(this, buf, start, len);
    } else this.stats.hits++;
    return id;
  }

  /**
   * Lookup of OBJECT and DEBUG LISTPACK (Redis's objectCommandLookup): counts a hit or miss,
   * leaves the LRU clock alone and raises no keymiss event.
   */
  lookupObjectArg(argv: Argv, i: number, nowMs = this.clock.nowMs): number {
    const id = this.peekArg(argv, i, nowMs);
    if (id < 0) this.stats.misses++;
    else this.stats.hits++;
    return id;
  }

  /** Lookup for a write: touches the LRU clock, no hit/miss stats. */
  lookupWriteBytes(buf: Uint8Array, start: number, len: number, nowMs = this.clock.nowMs): number {
    const id = this.peekBytes(buf, start, len, nowMs);
    if (id >= 0) {
      // The caller may change the value in place from here on.
      if (this.snapshot !== null) this.snapshot.beforeChange(this.table, id);
      this.touchForWrite(id, nowMs);
    }
    return id;
  }

  peekArg(argv: Argv, i: number, nowMs = this.clock.nowMs): number {
    return this.peekBytes(argv.buf, argv.start[i]!, argv.len[i]!, nowMs);
  }

  lookupReadArg(argv: Argv, i: number, nowMs = this.clock.nowMs): number {
    return this.lookupReadBytes(argv.buf, argv.start[i]!, argv.len[i]!, nowMs);
  }

  lookupReadNoTouchArg(argv: Argv, i: number, nowMs = this.clock.nowMs): number {
    return this.lookupReadNoTouchBytes(argv.buf, argv.start[i]!, argv.len[i]!, nowMs);
  }

  lookupWriteArg(argv: Argv, i: number, nowMs = this.clock.nowMs): number {
    return this.lookupWriteBytes(argv.buf, argv.start[i]!, argv.len[i]!, nowMs);
  }

  peek(key: string, nowMs = this.clock.nowMs): number {
    const len = this.encodeKey(key);
    return this.peekBytes(this.keyScratch, 0, len, nowMs);
  }

  lookupRead(key: string, nowMs = this.clock.nowMs): number {
    const len = this.encodeKey(key);
    return this.lookupReadBytes(this.keyScratch, 0, len, nowMs);
  }

  lookupReadNoTouch(key: string, nowMs = this.clock.nowMs): number {
    const len = this.encodeKey(key);
    return this.lookupReadNoTouchBytes(this.keyScratch, 0, len, nowMs);
  }

  lookupWrite(key: string, nowMs = this.clock.nowMs): number {
    const len = this.encodeKey(key);
    return this.lookupWriteBytes(this.keyScratch, 0, len, nowMs);
  }

  /**
   * Records an access to a key (Redis's lookupKey touching val->lru): its LRU clock becomes
   * now, or under an LFU policy its counter is decayed and counted (updateLFU).
   */
  touch(id: number, nowMs: number): void {
    const table = this.table;
    const clock = this.clock;
    const meta = table.getMeta(id);
    const lru = clock.lfu ? lfuAccessed(metaLru(meta), nowMs, clock.lfuLogFactor, clock.lfuDecayTime) : lruClock(nowMs);
    table.setMeta(id, withLru(meta, lru));
  }

  /**
   * touch for a key whose value the caller may replace: under LFU the value written next
   * keeps the key's counted data (Redis's lookupKeyWrite, then dbOverwrite).
   */
  private touchForWrite(id: number, nowMs: number): void {
    this.touch(id, nowMs);
    if (this.clock.lfu) this.clock.lru = metaLru(this.table.getMeta(id));
  }

  /** The type of a live key's value. */
  typeOf(id: number): ObjType {
    return metaType(this.table.getMeta(id));
  }

  // -------------------------------------------------------------------------------------
  // Expiry
  // -------------------------------------------------------------------------------------

  /** Whether the key's time has come, without removing it (Redis's keyIsExpired: KEYS). */
  isExpired(id: number, nowMs: number): boolean {
    const when = this.table.expireAt(id);
    return when >= 0 && when <= nowMs;
  }

  /**
   * Delete the key if its time has come. Returns true when it is (now) gone to readers.
   * While CLIENT PAUSE keeps the dataset still, and on a replica, an expired key reads as
   * missing but stays, as in Redis; a replica's master still finds it.
   */
  expireIfNeeded(id: number, nowMs: number): boolean {
    // A script sees keys expire as of its start (Redis 7.0's scriptTimeSnapshot).
    if (!this.isExpired(id, this.clock.scriptStartMs !== 0 ? this.clock.scriptStartMs : nowMs)) return false;
    const policy = this.expiryPolicy();
    if (policy === ExpiryPolicy.Keep) return false;
    if (policy === ExpiryPolicy.Delete) this.deleteExpired(id);
    return true;
  }

  private deleteExpired(id: number): void {
    this.stats.expiredKeys++;
    if (this.snapshot !== null) this.snapshot.beforeChange(this.table, id);
    if (this.events === null && this.expiredHook === null) {
      this.table.delete(id);
      return;
    }
    const key = this.table.keyString(id);
    this.table.delete(id);
    if (this.expiredHook !== null) this.expiredHook(this, key);
    if (this.events !== null) {
      this.events.keyExpired(this, key);
      this.events.keyModified(this, key);
    }
  }

  /** Absolute expiry in ms, or -1 when the key has none. */
  getExpire(id: number): number {
    return this.table.expireAt(id);
  }

  setExpire(id: number, whenMs: number): void {
    if (this.snapshot !== null) this.snapshot.beforeChange(this.table, id);
    this.table.setExpire(id, whenMs);
  }

  /** Returns true when the key had a time to live. */
  removeExpire(id: number): boolean {
    if (this.snapshot !== null) this.snapshot.beforeChange(this.table, id);
    return this.table.clearExpire(id);
  }

  // -------------------------------------------------------------------------------------
  // Adding, overwriting and deleting keys. Each signals the change (Redis's
  // signalModifiedKey); the caller gives the key its value before anything else runs.
  // -------------------------------------------------------------------------------------

  /**
   * Add a key that the caller knows does not exist (Redis's dbAdd) and return its id. Its
   * value is empty until set; `valueReserve` bytes of room are kept for it.
   */
  insertBytes(buf: Uint8Array, start: number, len: number, valueReserve = 0): number {
    const id = this.table.insert(buf, start, len, valueReserve);
    this.clock.lru = this.clock.newValueLru;
    if (this.notices !== null) this.notices.keyAdded(this, id);
    this.modified(id);
    return id;
  }

  insertArg(argv: Argv, i: number, valueReserve = 0): number {
    return this.insertBytes(argv.buf, argv.start[i]!, argv.len[i]!, valueReserve);
  }

  insert(key: string, valueReserve = 0): number {
    const len = this.encodeKey(key);
    return this.insertBytes(this.keyScratch, 0, len, valueReserve);
  }

  /**
   * Redis's setKey: the id whose value the caller replaces now, the key's own when it
   * exists (its time to live dropped unless keepTtl) or a new one. A key past its time is
   * expired first, and counted, as Redis's lookup does. The key is hashed once.
   */
  setKeyBytes(buf: Uint8Array, start: number, len: number, keepTtl: boolean, valueReserve: number, nowMs: number): number {
    const table = this.table;
    const hash = hashBytes(buf, start, len);
    let id = table.findHashed(hash, buf, start, len);
    if (id >= 0 && this.snapshot !== null) this.snapshot.beforeChange(table, id);
    if (id >= 0 && table.volatileCount !== 0 && table.expireAt(id) >= 0) {
      if (this.expireIfNeeded(id, nowMs)) id = NO_KEY;
      else if (!keepTtl) table.clearExpire(id);
    }
    if (id < 0) {
      id = table.insertHashed(hash, buf, start, len, valueReserve);
      this.clock.lru = this.clock.newValueLru;
      if (this.notices !== null) this.notices.keyAdded(this, id);
    } else if (this.clock.lfu) this.touchForWrite(id, nowMs);
    this.modified(id);
    return id;
  }

  setKeyArg(argv: Argv, i: number, keepTtl: boolean, valueReserve: number, nowMs = this.clock.nowMs): number {
    return this.setKeyBytes(argv.buf, argv.start[i]!, argv.len[i]!, keepTtl, valueReserve, nowMs);
  }

  /** Redis's dbOverwrite of a key found by a lookup: drops its time to live unless keepTtl. */
  overwrite(id: number, keepTtl: boolean): void {
    if (this.snapshot !== null) this.snapshot.beforeChange(this.table, id);
    if (!keepTtl && this.table.volatileCount !== 0) this.table.clearExpire(id);
    this.modified(id);
  }

  /** Remove a key, its value and its expiry. */
  delete(id: number): void {
    if (this.snapshot !== null) this.snapshot.beforeChange(this.table, id);
    if (this.events === null) {
      this.table.delete(id);
      return;
    }
    const key = this.table.keyString(id);
    this.table.delete(id);
    this.events.keyModified(this, key);
  }

  /** Signal a change made in place to the value of an existing key. */
  modified(id: number): void {
    if (this.events !== null) this.events.keyModified(this, this.table.keyString(id));
  }

  /**
   * Gives `toId` the value and metadata of `fromId` in `from` (this database or another),
   * for RENAME and MOVE. An object value is then held by both entries, so the caller
   * deletes `fromId` next.
   */
  takeValue(from: Db, fromId: number, toId: number): void {
    const source = from.table;
    const target = this.table;
    if (this.snapshot !== null) this.snapshot.beforeChange(target, toId);
    switch (source.valueKind(fromId)) {
      case ValueKind.Bytes:
        target.setBytes(toId, source.valuePage(fromId), source.valueOffset(fromId), source.valueLength(fromId));
        break;
      case ValueKind.Number:
        target.setNumber(toId, source.getNumber(fromId));
        break;
      default:
        target.setObject(toId, source.getObject(fromId));
    }
    target.setMeta(toId, source.getMeta(fromId));
  }

  // -------------------------------------------------------------------------------------
  // The whole database
  // -------------------------------------------------------------------------------------

  /** Remove every key (FLUSHDB). Returns how many there were. */
  clear(): number {
    const n = this.table.size;
    // A background save still owes keys of this table: it keeps the table, the database
    // starts a new one.
    if (this.snapshot !== null) {
      const observer = this.table.observer;
      this.table = new KeyTable();
      this.table.observer = observer;
      observer?.reindex(this.table);
    } else {
      this.table.clear();
    }
    this.avgTtl = 0;
    return n;
  }

  /** FLUSHDB: tell the watchers, then remove every key. Returns how many there were. */
  flush(): number {
    if (this.events !== null && this.events.dbFlushed !== undefined) this.events.dbFlushed(this);
    return this.clear();
  }

  /** SWAPDB: the two databases exchange their contents; the Db objects stay put. */
  swapContents(other: Db): void {
    [this.table, other.table] = [other.table, this.table];
    [this.avgTtl, other.avgTtl] = [other.avgTtl, this.avgTtl];
  }

  /** A random key that is not expired, or NO_KEY (Redis's dbRandomKey). */
  randomKey(nowMs = this.clock.nowMs): number {
    // A master deletes every expired key it picks until it finds a live one. Where keys
    // cannot be deleted (during CLIENT PAUSE) it gives up after RANDOMKEY_MAX_TRIES picks
    // and returns an expired one, as Redis 7.2 does (7.0 loops forever there).
    const table = this.table;
    for (let tries = 0; table.size > 0; tries++) {
      const id = table.randomId();
      if (!this.expireIfNeeded(id, nowMs)) return id;
      if (tries >= RANDOMKEY_MAX_TRIES && table.isLive(id)) return id;
    }
    return NO_KEY;
  }

  /**
   * One active-expiry pass over this database, as Redis's activeExpireCycle does per db:
   * sample keys with a TTL, delete the expired ones, and go on while more than
   * `acceptableStalePerc` of a sample was expired and time remains (`deadline` is a
   * performance.now() time). Returns keys expired.
   */
  activeExpire(nowMs: number, deadline: number, keysPerLoop: number, acceptableStalePerc: number): number {
    const table = this.table;
    if (expireSample.length < keysPerLoop) expireSample = new Int32Array(keysPerLoop);
    const sample = expireSample;
    let expired = 0;
    let sampled = 0;
    let ttlSum = 0;
    let ttlSamples = 0;
    for (let loop = 0; table.volatileCount > 0; loop++) {
      const n = table.sampleVolatile(keysPerLoop, sample);
      let loopExpired = 0;
      for (let i = 0; i < n; i++) {
        const id = sample[i]!;
        // The sample's ids are distinct, and deleting one leaves the others live.
        const when = table.expireAt(id);
        sampled++;
        if (when <= nowMs) {
          this.deleteExpired(id);
          loopExpired++;
        } else {
          ttlSum += when - nowMs;
          ttlSamples++;
        }
      }
      expired += loopExpired;
      // Check the clock every 16 loops, as Redis does, so timing stays cheap.
      if ((loop & 15) === 15 && performance.now() >= deadline) {
        this.stats.expiredTimeCapReachedCount++;
        break;
      }
      if (n === 0 || (loopExpired * 100) / n <= acceptableStalePerc) break;
    }
    if (ttlSamples > 0) {
      const avg = ttlSum / ttlSamples;
      // Redis smooths the estimate with the previous one (db->avg_ttl).
      this.avgTtl = this.avgTtl === 0 ? avg : (this.avgTtl / 50) * 49 + avg / 50;
    }
    if (sampled > 0) this.stats.expiredStalePerc = (expired / sampled) * 0.05 + this.stats.expiredStalePerc * 0.95;
    return expired;
  }

  /**
   * Writes key's chars as bytes into keyScratch and returns the length. Callers read
   * keyScratch after calling it, since it may replace the array with a bigger one.
   */
  private encodeKey(key: string): number {
    const len = key.length;
    if (len > this.keyScratch.length) this.keyScratch = new Uint8Array(Math.max(len, this.keyScratch.length * 2));
    const scratch = this.keyScratch;
    for (let i = 0; i < len; i++) scratch[i] = key.charCodeAt(i);
    return len;
  }
}
