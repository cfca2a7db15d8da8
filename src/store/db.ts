// One numbered database (Redis's redisDb, db.c): the keyspace, the expires table, lazy
// expiry on access and the active expiry cycle's sampling. Keys are latin1 strings (one
// char per byte), so any byte sequence is a key.

import { Dict } from "../encoding/dict.ts";
import { RObj, lruClock } from "./object.ts";

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
  private originMs = Date.now() - performance.now();

  /** Advance to now; returns the monotonic reading for callers that time things. */
  tick(): number {
    const t = performance.now();
    this.nowMs = Math.floor(this.originMs + t);
    return t;
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
}

export class Db {
  readonly id: number;
  dict = new Dict<RObj>();
  /** Absolute expiry time in ms, for keys that have one. */
  expires = new Dict<number>();
  /** Average TTL of keys sampled by the active cycle (INFO keyspace avg_ttl). */
  avgTtl = 0;
  readonly stats: KeyspaceStats;
  readonly clock: Clock;
  events: KeyspaceEvents | null = null;

  constructor(id: number, stats: KeyspaceStats, clock: Clock) {
    this.id = id;
    this.stats = stats;
    this.clock = clock;
  }

  get size(): number {
    return this.dict.size;
  }

  /** Whether the key's time has come, without removing it (Redis's keyIsExpired: KEYS). */
  isExpired(key: string, nowMs: number): boolean {
    if (this.expires.size === 0) return false;
    const when = this.expires.get(key);
    return when !== undefined && when <= nowMs;
  }

  /** Delete the key if its time has come. Returns true when it is (now) gone. */
  expireIfNeeded(key: string, nowMs: number): boolean {
    if (this.expires.size === 0) return false;
    const when = this.expires.get(key);
    if (when === undefined || when > nowMs) return false;
    this.deleteExpired(key);
    return true;
  }

  private deleteExpired(key: string): void {
    this.stats.expiredKeys++;
    this.dict.delete(key);
    this.expires.delete(key);
    if (this.events !== null) {
      this.events.keyExpired(this, key);
      this.events.keyModified(this, key);
    }
  }

  /** Lookup without side effects on stats or LRU (Redis's LOOKUP_NOTOUCH | LOOKUP_NOSTATS). */
  peek(key: string, nowMs = this.clock.nowMs): RObj | undefined {
    if (this.expireIfNeeded(key, nowMs)) return undefined;
    return this.dict.get(key);
  }

  /** Lookup for a read: counts a keyspace hit or miss and touches the LRU clock. */
  lookupRead(key: string, nowMs = this.clock.nowMs): RObj | undefined {
    const o = this.peek(key, nowMs);
    if (o === undefined) {
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    o.lru = lruClock(nowMs);
    return o;
  }

  /**
   * Lookup that counts a keyspace hit or miss but leaves the LRU clock alone (Redis's
   * LOOKUP_NOTOUCH), for commands that inspect a key without using its value: EXISTS,
   * TYPE, TTL, OBJECT.
   */
  lookupReadNoTouch(key: string, nowMs = this.clock.nowMs): RObj | undefined {
    const o = this.peek(key, nowMs);
    if (o === undefined) this.stats.misses++;
    else this.stats.hits++;
    return o;
  }

  /** Lookup for a write: touches the LRU clock, no hit/miss stats. */
  lookupWrite(key: string, nowMs = this.clock.nowMs): RObj | undefined {
    const o = this.peek(key, nowMs);
    if (o !== undefined) o.lru = lruClock(nowMs);
    return o;
  }

  /** Add a key that the caller knows does not exist (Redis's dbAdd). */
  add(key: string, value: RObj): void {
    this.dict.set(key, value);
    this.modified(key);
  }

  /**
   * Redis's setKey: add or overwrite, dropping any time to live unless keepTtl.
   * The caller has already removed an expired key through a lookup.
   */
  setKey(key: string, value: RObj, keepTtl = false): void {
    this.dict.set(key, value);
    if (!keepTtl && this.expires.size !== 0) this.expires.delete(key);
    this.modified(key);
  }

  /** Remove a key and its expiry. Returns true when it existed. */
  delete(key: string): boolean {
    if (!this.dict.delete(key)) return false;
    if (this.expires.size !== 0) this.expires.delete(key);
    this.modified(key);
    return true;
  }

  /** Signal a change made in place to the value of an existing key. */
  modified(key: string): void {
    if (this.events !== null) this.events.keyModified(this, key);
  }

  /** Absolute expiry in ms, or -1 when the key has none. */
  getExpire(key: string): number {
    if (this.expires.size === 0) return -1;
    return this.expires.get(key) ?? -1;
  }

  setExpire(key: string, whenMs: number): void {
    this.expires.set(key, whenMs);
  }

  /** Returns true when the key had a time to live. */
  removeExpire(key: string): boolean {
    return this.expires.size !== 0 && this.expires.delete(key);
  }

  /** Remove every key (FLUSHDB). Returns how many there were. */
  clear(): number {
    const n = this.dict.size;
    this.dict = new Dict<RObj>();
    this.expires = new Dict<number>();
    this.avgTtl = 0;
    return n;
  }

  /** FLUSHDB: tell the watchers, then remove every key. Returns how many there were. */
  flush(): number {
    if (this.events !== null && this.events.dbFlushed !== undefined) this.events.dbFlushed(this);
    return this.clear();
  }

  /** A random key that is not expired, or undefined (Redis's dbRandomKey). */
  randomKey(nowMs = this.clock.nowMs): string | undefined {
    // A master deletes every expired key it picks until it finds a live one (Redis gives
    // up after 100 picks only on replicas, which must not delete keys themselves).
    while (this.dict.size > 0) {
      const key = this.dict.randomKey();
      if (key === undefined) return undefined;
      if (!this.expires.has(key)) return key;
      if (!this.expireIfNeeded(key, nowMs)) return key;
    }
    return undefined;
  }

  /**
   * One active-expiry pass over this database, as Redis's activeExpireCycle does per db:
   * sample keys with a TTL, delete the expired ones, and go on while more than
   * `acceptableStalePerc` of a sample was expired and time remains. Returns keys expired.
   */
  activeExpire(nowMs: number, deadlineMs: number, keysPerLoop: number, acceptableStalePerc: number, sample: string[]): number {
    let expired = 0;
    let sampled = 0;
    let ttlSum = 0;
    let ttlSamples = 0;
    for (let loop = 0; this.expires.size > 0; loop++) {
      sample.length = 0;
      const n = this.expires.sample(Math.min(keysPerLoop, this.expires.size), sample);
      let loopExpired = 0;
      for (let i = 0; i < n; i++) {
        const key = sample[i]!;
        const when = this.expires.get(key);
        if (when === undefined) continue;
        sampled++;
        if (when <= nowMs) {
          this.deleteExpired(key);
          loopExpired++;
        } else {
          ttlSum += when - nowMs;
          ttlSamples++;
        }
      }
      expired += loopExpired;
      // Check the clock every 16 loops, as Redis does, so timing stays cheap.
      if ((loop & 15) === 15 && Date.now() >= deadlineMs) {
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
}
