// maxmemory and eviction (Redis 7.0's evict.c and processCommand's maxmemory check).
//
// Before every command, while `maxmemory` is set, the server asks perform() to bring the
// memory in use back under the limit by deleting keys the `maxmemory-policy` chooses:
//
// - the LRU, LFU and TTL policies sample `maxmemory-samples` keys of every database (all
//   keys, or only those with a time to live) into a pool of the 16 best candidates kept
//   across calls, and evict the best one that still exists: the longest idle (LRU), the
//   least often used (LFU, from the counter in the key's access bits, see store/object.ts)
//   or the nearest to expiring (TTL);
// - the random policies take a random key, one database after another.
//
// Each eviction deletes the key as any deletion does (WATCH and client tracking see it),
// counts it in INFO's evicted_keys, publishes an `evicted` keyspace event and propagates
// a DEL (UNLINK with lazyfree-lazy-eviction) on its own. A call spends at most the time
// `maxmemory-eviction-tenacity` allows; when that runs out the rest is evicted between
// commands (Redis's evictionTimeProc), so the event loop never stalls on a big deficit.
// When nothing more can go (noeviction, or no candidate left) commands that may add
// memory are refused with Redis's OOM error.

import type { Server } from "../server/server.ts";
import type { Client } from "../server/client.ts";
import type { Db } from "../store/db.ts";
import type { KeyTable } from "../store/keytable.ts";
import { CMD, type Command } from "../commands/table.ts";
import { NOTIFY } from "../server/notify.ts";
import { lfuDecayedCounter, lruIdleSeconds, metaLru } from "../store/object.ts";
import { notCountedForEviction, usedMemory } from "./memory.ts";

/** Redis's shared.oomerr. */
export const OOM_ERROR = "OOM command not allowed when used memory > 'maxmemory'.";

/** What perform() achieved (Redis's EVICT_OK, EVICT_RUNNING and EVICT_FAIL). */
export const enum EvictResult {
  /** Under the limit, or evictions cannot run now. */
  Ok,
  /** Still over the limit, and the rest is being evicted between commands. */
  Running,
  /** Over the limit with nothing left that the policy may evict. */
  Fail,
}

/** How a policy picks its victims. */
const enum Pick {
  None,
  /** Through the pool, by a score per key. */
  Pool,
  Random,
}

/** What the pool scores keys by. */
const enum Score {
  Idle,
  Frequency,
  Ttl,
}

interface PolicyShape {
  pick: Pick;
  score: Score;
  /** Candidates are all keys, not only those with a time to live. */
  allKeys: boolean;
}

const POLICIES: Record<string, PolicyShape> = {
  noeviction: { pick: Pick.None, score: Score.Idle, allKeys: false },
  "allkeys-lru": { pick: Pick.Pool, score: Score.Idle, allKeys: true },
  "volatile-lru": { pick: Pick.Pool, score: Score.Idle, allKeys: false },
  "allkeys-lfu": { pick: Pick.Pool, score: Score.Frequency, allKeys: true },
  "volatile-lfu": { pick: Pick.Pool, score: Score.Frequency, allKeys: false },
  "volatile-ttl": { pick: Pick.Pool, score: Score.Ttl, allKeys: false },
  "allkeys-random": { pick: Pick.Random, score: Score.Idle, allKeys: true },
  "volatile-random": { pick: Pick.Random, score: Score.Idle, allKeys: false },
};

/** Redis's EVPOOL_SIZE: the candidates kept between evictions. */
const POOL_SIZE = 16;
/** The deletions between two looks at the clock (and Redis's replica buffer flushes). */
const KEYS_PER_TIME_CHECK = 16;
/** The highest LFU counter: the pool scores keys by how far below it they are. */
const LFU_COUNTER_MAX = 255;

/**
 * Redis's evictionTimeLimitUs: how long one call may evict, from `maxmemory-eviction-tenacity`.
 * Up to 10 it grows linearly to 500 us, then by 15% a step (about 2 minutes at 99); 100
 * means no limit.
 */
export function evictionTimeLimitUs(tenacity: number): number {
  if (tenacity <= 10) return 50 * tenacity;
  if (tenacity < 100) return Math.floor(500 * Math.pow(1.15, tenacity - 10));
  return Infinity;
}

/**
 * The candidates (Redis's EvictionPoolLRU): up to POOL_SIZE keys in ascending score order,
 * the best at the highest occupied index. Redis keeps each candidate's name and looks it
 * up again when its turn comes, since the key may be gone by then. Here a candidate is
 * its table, id and hash: the id is looked up again in the same way, and an id that was
 * freed, or reused by a key of another hash, is a ghost. Building a name for every
 * candidate would cost more than the rest of the sampling (most never get evicted); the
 * name is made only for the key evicted, which needs it for its event and its DEL.
 */
class EvictionPool {
  /** The table of each entry, null for an empty slot. */
  readonly tables: (KeyTable | null)[] = new Array<KeyTable | null>(POOL_SIZE).fill(null);
  readonly ids = new Int32Array(POOL_SIZE);
  readonly hashes = new Int32Array(POOL_SIZE);
  readonly dbIds = new Int32Array(POOL_SIZE);
  readonly scores = new Float64Array(POOL_SIZE);

  /**
   * Redis's evictionPoolPopulate insertion: a key goes in before the first entry scoring
   * at least as much, into a free slot if there is one, otherwise pushing out the entry
   * with the lowest score; a key worse than every entry of a full pool is dropped.
   * Returns the index the caller stores the key at, or -1.
   */
  slotFor(score: number): number {
    const tables = this.tables;
    const scores = this.scores;
    let k = 0;
    while (k < POOL_SIZE && tables[k] !== null && scores[k]! < score) k++;
    const full = tables[POOL_SIZE - 1] !== null;
    if (k === 0 && full) return -1;
    if (k < POOL_SIZE && tables[k] === null) return k;
    if (!full) {
      // Room on the right: entries k.. move one place right.
      for (let at = POOL_SIZE - 1; at > k; at--) this.copy(at, at - 1);
      return k;
    }
    // Full: the lowest score at 0 goes, entries 1..k-1 move one place left.
    k--;
    for (let at = 0; at < k; at++) this.copy(at, at + 1);
    return k;
  }

  put(k: number, table: KeyTable, id: number, dbId: number, score: number): void {
    this.tables[k] = table;
    this.ids[k] = id;
    this.hashes[k] = table.hashOf(id);
    this.dbIds[k] = dbId;
    this.scores[k] = score;
  }

  /** Whether entry k still names a live key: the same table, and a live id of the same hash. */
  isLive(k: number): boolean {
    const table = this.tables[k]!;
    const id = this.ids[k]!;
    return table.isLive(id) && table.hashOf(id) === this.hashes[k];
  }

  clear(k: number): void {
    this.tables[k] = null;
    this.scores[k] = 0;
  }

  /** Drop every entry of `table`, whose ids were just renumbered (KeyTable.compactIfSparse). */
  forgetTable(table: KeyTable): void {
    for (let k = 0; k < POOL_SIZE; k++) if (this.tables[k] === table) this.clear(k);
  }

  private copy(to: number, from: number): void {
    this.tables[to] = this.tables[from]!;
    this.ids[to] = this.ids[from]!;
    this.hashes[to] = this.hashes[from]!;
    this.dbIds[to] = this.dbIds[from]!;
    this.scores[to] = this.scores[from]!;
  }
}

export class Eviction {
  /** `maxmemory` in bytes, 0 for no limit: the dispatcher reads it before every command. */
  maxmemoryBytes = 0;
  private readonly server: Server;
  private policy: PolicyShape = POLICIES.noeviction!;
  private samples = 5;
  private timeLimitUs = 0;
  private readonly pool = new EvictionPool();
  /** Where the ids a database gives for sampling go; grown to `maxmemory-samples`. */
  private sampled = new Int32Array(16);
  /** The database the random policies try next (Redis's static next_db). */
  private nextDb = 0;
  /** Set while evictions continue between commands (Redis's isEvictionProcRunning). */
  private procRunning = false;
  /** The commands a client in MULTI may still send while memory is short. */
  private readonly allowedInMulti: Set<Command>;

  /** A table's ids changed (it was compacted): its pool entries name other keys now. */
  idsRenumbered(table: KeyTable): void {
    this.pool.forgetTable(table);
  }

  constructor(server: Server) {
    this.server = server;
    this.allowedInMulti = new Set(["exec", "discard", "quit", "reset"].map((name) => server.commands.byName.get(name)!));
    const config = server.config;
    this.applyConfig();
    config.onChange(["maxmemory-policy", "maxmemory-samples", "maxmemory-eviction-tenacity", "lfu-log-factor", "lfu-decay-time"], () => this.applyConfig());
    config.onChange("maxmemory", () => this.applyMaxmemory());
    if (this.maxmemoryBytes > 0 && this.maxmemoryBytes < 1024 * 1024) {
      server.log.warning(`WARNING: You specified a maxmemory value that is less than 1MB (current value is ${this.maxmemoryBytes} bytes). Are you sure this is what you really want?`);
    }
  }

  /** Mirror the eviction settings, which the dispatch path and every lookup read. */
  private applyConfig(): void {
    const config = this.server.config;
    this.maxmemoryBytes = config.maxmemory;
    this.policy = POLICIES[config.maxmemoryPolicy]!;
    this.samples = config.maxmemorySamples;
    this.timeLimitUs = evictionTimeLimitUs(config.maxmemoryEvictionTenacity);
    this.server.clock.setAccessMode(this.policy.score === Score.Frequency, config.lfuLogFactor, config.lfuDecayTime);
  }

  /** CONFIG SET maxmemory: evict down to the new limit at once, as Redis's updateMaxmemory does. */
  private applyMaxmemory(): void {
    this.applyConfig();
    if (this.maxmemoryBytes === 0) return;
    const used = usedMemory(this.server) - notCountedForEviction(this.server);
    if (this.maxmemoryBytes < used) {
      this.server.log.warning(
        `WARNING: the new maxmemory value set via CONFIG SET (${this.maxmemoryBytes}) is smaller than the current memory usage (${used}). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy.`,
      );
    }
    this.perform();
  }

  /**
   * processCommand's maxmemory check, for a command that passed the checks before it:
   * evict as needed, and tell whether the command must be refused because memory stays
   * short. Those are the commands that may add memory (denyoom, and EXEC of a transaction
   * holding one), and every command a client in MULTI sends except EXEC, DISCARD, QUIT
   * and RESET, since queueing takes memory too.
   */
  refuses(c: Client, cmd: Command, flags: number): boolean {
    if (this.perform() !== EvictResult.Fail) return false;
    if (flags & CMD.denyoom) return true;
    return c.multi !== null && !this.allowedInMulti.has(cmd);
  }

  /**
   * Redis's performEvictions: evict until the memory in use is back under `maxmemory`, for
   * at most the tenacity's time, then carry on between commands.
   */
  perform(): EvictResult {
    const server = this.server;
    // A replica leaves eviction to its master (replica-ignore-maxmemory); a pause keeps the
    // dataset still.
    if (server.rdb.loading || server.clientsPaused()) return EvictResult.Ok;
    if (server.upstream.isReplica && server.config.replicaIgnoreMaxmemory) return EvictResult.Ok;
    const limit = this.maxmemoryBytes;
    const used = usedMemory(server) - notCountedForEviction(server);
    if (limit === 0 || used <= limit) return this.finish(EvictResult.Ok);
    if (this.policy.pick === Pick.None) return this.finish(EvictResult.Fail);
    const toFree = used - limit;
    // The clock's last reading (this command's start, near enough) saves reading it again.
    const startedMs = server.clock.monoMs;
    let freed = 0;
    let keysFreed = 0;
    while (freed < toFree) {
      const bytes = this.evictOne();
      if (bytes < 0) return this.finish(EvictResult.Fail);
      freed += bytes;
      keysFreed++;
      if (keysFreed % KEYS_PER_TIME_CHECK === 0 && (performance.now() - startedMs) * 1000 > this.timeLimitUs) {
        this.startProc();
        break;
      }
    }
    server.latencyMonitor.addSince("eviction-cycle", startedMs);
    return this.finish(this.procRunning ? EvictResult.Running : EvictResult.Ok);
  }

  /** Track how long memory has been over the limit (INFO's *_eviction_exceeded_time). */
  private finish(result: EvictResult): EvictResult {
    const stats = this.server.stats;
    if (result !== EvictResult.Ok) {
      if (stats.evictionExceededSince === 0) stats.evictionExceededSince = performance.now();
    } else if (stats.evictionExceededSince !== 0) {
      stats.evictionExceededTotalMs += performance.now() - stats.evictionExceededSince;
      stats.evictionExceededSince = 0;
    }
    return result;
  }

  // -------------------------------------------------------------------------------------
  // Choosing and deleting a victim
  // -------------------------------------------------------------------------------------

  /** Evict one key the policy chooses: the bytes that freed, or -1 when there is none. */
  private evictOne(): number {
    return this.policy.pick === Pick.Pool ? this.evictFromPool() : this.evictRandom();
  }

  /**
   * Take the best candidate that still exists (and still has a time to live under a
   * volatile policy), refilling the pool from every database while none does.
   */
  private evictFromPool(): number {
    const pool = this.pool;
    const dbs = this.server.dbs;
    const allKeys = this.policy.allKeys;
    for (;;) {
      let candidates = 0;
      for (const db of dbs) {
        const keys = allKeys ? db.size : db.volatileCount;
        if (keys === 0) continue;
        this.populate(db);
        candidates += keys;
      }
      if (candidates === 0) return -1;
      for (let k = POOL_SIZE - 1; k >= 0; k--) {
        if (pool.tables[k] === null) continue;
        const db = dbs[pool.dbIds[k]!]!;
        const id = pool.ids[k]!;
        // A key deleted since it was sampled, or no longer volatile, is a ghost: try the next.
        const live = pool.tables[k] === db.table && pool.isLive(k) && (allKeys || db.table.expireAt(id) >= 0);
        pool.clear(k);
        if (live) return this.evict(db, id);
      }
    }
  }

  /** Sample the database's candidates into the pool (Redis's evictionPoolPopulate). */
  private populate(db: Db): void {
    const table = db.table;
    const wanted = Math.min(this.samples, this.policy.allKeys ? table.size : table.volatileCount);
    if (this.sampled.length < wanted) this.sampled = new Int32Array(wanted);
    const n = this.policy.allKeys ? table.sample(wanted, this.sampled) : table.sampleVolatile(wanted, this.sampled);
    const nowMs = this.server.clock.nowMs;
    for (let i = 0; i < n; i++) {
      const id = this.sampled[i]!;
      const score = this.score(db, id, nowMs);
      const k = this.pool.slotFor(score);
      if (k >= 0) this.pool.put(k, table, id, db.id, score);
    }
  }

  /** How good a victim the key is: the higher, the sooner it goes. */
  private score(db: Db, id: number, nowMs: number): number {
    const table = db.table;
    switch (this.policy.score) {
      case Score.Idle:
        // Redis's estimateObjectIdleTime, in ms at the clock's one-second resolution.
        return lruIdleSeconds(metaLru(table.getMeta(id)), nowMs) * 1000;
      case Score.Frequency:
        return LFU_COUNTER_MAX - lfuDecayedCounter(metaLru(table.getMeta(id)), nowMs, this.server.clock.lfuDecayTime);
      case Score.Ttl:
        // The sooner it expires the better; Redis scores ULLONG_MAX - expire.
        return -table.expireAt(id);
    }
  }

  /** A random key of the next database that has candidates, one database after another. */
  private evictRandom(): number {
    const dbs = this.server.dbs;
    const allKeys = this.policy.allKeys;
    for (let i = 0; i < dbs.length; i++) {
      this.nextDb = (this.nextDb + 1) % dbs.length;
      const db = dbs[this.nextDb]!;
      const table = db.table;
      if ((allKeys ? table.size : table.volatileCount) === 0) continue;
      const id = allKeys ? table.randomId() : table.sampleVolatile(1, this.sampled) === 1 ? this.sampled[0]! : -1;
      if (id < 0) continue;
      return this.evict(db, id);
    }
    return -1;
  }

  /**
   * Delete one key as Redis's performEvictions does, with its stat, event and propagation.
   * Returns the bytes the deletion freed in the keyspace: what the invalidations, events
   * and propagated DELs take meanwhile is left out, as Redis measures the deletion alone,
   * or a deficit that these grow would never be made up.
   */
  private evict(db: Db, id: number): number {
    const server = this.server;
    const table = db.table;
    const propagation = server.propagation;
    // The name, for the event and the DEL, only when either may go out.
    const notified = (server.notifications.flags & NOTIFY.EVICTED) !== 0;
    const key = propagation.active || notified ? table.keyString(id) : "";
    const before = table.bytesUsed();
    db.delete(id);
    const freed = before - table.bytesUsed();
    server.keyspaceStats.evictedKeys++;
    if (notified) server.notifications.notify(NOTIFY.EVICTED, "evicted", key, db.id);
    if (propagation.active) {
      propagation.add(db.id, [server.config.lazyfreeLazyEviction ? "UNLINK" : "DEL", key]);
      // Each eviction is a unit of its own, as Redis propagates it at once; inside EXEC (a
      // queued CONFIG SET maxmemory) it joins the transaction's unit instead.
      if (propagation.nesting === 0) propagation.flushEach();
    }
    return freed;
  }

  // -------------------------------------------------------------------------------------
  // Evicting between commands (Redis's evictionTimeProc)
  // -------------------------------------------------------------------------------------

  private startProc(): void {
    if (this.procRunning) return;
    this.procRunning = true;
    setImmediate(this.proc);
  }

  /**
   * One more bounded round of evictions after the event loop served the clients; again
   * and again while memory stays over the limit and something can still go.
   */
  private readonly proc = (): void => {
    const server = this.server;
    server.clock.tick();
    if (this.perform() === EvictResult.Running) {
      setImmediate(this.proc);
    } else {
      this.procRunning = false;
    }
    if (server.aof !== null) server.aof.write();
  };
}

