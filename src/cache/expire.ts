// Redis's active expiry cycle (expire.c activeExpireCycle): keys nobody reads again still
// go away. The slow cycle runs every cron tick within a share of the CPU time; the fast
// cycle runs after a batch of commands (Redis runs it before the event loop sleeps) for at
// most a millisecond, and only while the last cycle ran out of time or the sampled share of
// stale keys is high, so that a burst of short-lived keys is reclaimed between requests.

import type { Server } from "../server/server.ts";

/** Keys sampled per loop and per database at effort 1 (ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP). */
const KEYS_PER_LOOP = 20;
/** Microseconds a fast cycle may take at effort 1 (ACTIVE_EXPIRE_CYCLE_FAST_DURATION). */
const FAST_DURATION_US = 1000;
/** Share of CPU time the slow cycle may take, in percent (ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC). */
const SLOW_TIME_PERC = 25;
/** A database is revisited in the same cycle while more than this % of a sample was expired. */
const ACCEPTABLE_STALE = 10;
/** Databases visited per call (CRON_DBS_PER_CALL). */
const DBS_PER_CALL = 16;

/** What the cycle remembers between calls (Redis keeps these as statics). */
export class ExpireCycleState {
  /** The database the next cycle starts with. */
  nextDb = 0;
  /** The previous cycle ran out of time: there is work left, so every database is visited. */
  timeLimitExit = false;
  /** When the last fast cycle started (performance.now() ms). */
  lastFastStart = -Infinity;
}

/** The slow cycle, from the cron. */
export function activeExpireCycle(server: Server): void {
  const effort = server.config.activeExpireEffort - 1; // 0..9, as Redis rescales it.
  const timePerc = SLOW_TIME_PERC + 2 * effort;
  runCycle(server, (timePerc * 1000) / server.config.hz / 100);
}

/**
 * The fast cycle, after a batch of commands: skipped unless the last cycle hit its time
 * limit or the estimated share of stale keys is above the acceptable one, and never more
 * often than twice its own duration.
 */
export function activeExpireFastCycle(server: Server): void {
  const state = server.expireCycle;
  const effort = server.config.activeExpireEffort - 1;
  // Redis compares the stale fraction (0..1) with a percentage here, so in effect only a
  // cycle that ran out of time starts a fast one; redbun keeps that behaviour.
  if (!state.timeLimitExit && server.keyspaceStats.expiredStalePerc < ACCEPTABLE_STALE - effort) return;
  const durationMs = (FAST_DURATION_US + (FAST_DURATION_US / 4) * effort) / 1000;
  const start = performance.now();
  if (start < state.lastFastStart + durationMs * 2) return;
  state.lastFastStart = start;
  runCycle(server, durationMs);
}

function runCycle(server: Server, budgetMs: number): void {
  const state = server.expireCycle;
  const effort = server.config.activeExpireEffort - 1;
  const keysPerLoop = KEYS_PER_LOOP + (KEYS_PER_LOOP / 4) * effort;
  const acceptableStale = ACCEPTABLE_STALE - effort;
  const dbs = server.dbs;
  const visits = state.timeLimitExit ? dbs.length : Math.min(DBS_PER_CALL, dbs.length);
  const deadline = performance.now() + budgetMs;
  const nowMs = server.clock.nowMs;
  state.timeLimitExit = false;
  let index = state.nextDb;
  for (let i = 0; i < visits; i++) {
    const db = dbs[index % dbs.length]!;
    index = (index + 1) % dbs.length;
    if (db.volatileCount > 0) db.activeExpire(nowMs, deadline, keysPerLoop, acceptableStale);
    if (performance.now() >= deadline) {
      state.timeLimitExit = true;
      break;
    }
  }
  state.nextDb = index;
  server.latencyMonitor.addSince("expire-cycle", deadline - budgetMs);
}
