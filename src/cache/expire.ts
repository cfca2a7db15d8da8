// Redis's active expiry cycle (expire.c activeExpireCycle, slow mode): every cron tick,
// sample keys with a time to live in each database and delete the expired ones, within a
// time budget, so that keys nobody reads again still go away.

import type { Server } from "../server/server.ts";

/** Keys sampled per loop and per database at effort 1 (ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP). */
const KEYS_PER_LOOP = 20;
/** Share of CPU time the cycle may take, in percent (ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC). */
const SLOW_TIME_PERC = 25;
/** A database is revisited in the same cycle while more than this % of a sample was expired. */
const ACCEPTABLE_STALE = 10;
/** Databases visited per call (CRON_DBS_PER_CALL). */
const DBS_PER_CALL = 16;

export function activeExpireCycle(server: Server, nowMs: number): void {
  const effort = server.config.activeExpireEffort - 1; // 0..9, as Redis rescales it.
  const keysPerLoop = KEYS_PER_LOOP + (KEYS_PER_LOOP / 4) * effort;
  const timePerc = SLOW_TIME_PERC + 2 * effort;
  const acceptableStale = ACCEPTABLE_STALE - effort;
  const budgetMs = (timePerc * 1000) / server.config.hz / 100;
  const deadline = nowMs + budgetMs;
  const dbs = server.dbs;
  let index = server.expireNextDb;
  const visits = Math.min(DBS_PER_CALL, dbs.length);
  for (let i = 0; i < visits; i++) {
    const db = dbs[index % dbs.length]!;
    index = (index + 1) % dbs.length;
    if (db.volatileCount > 0) db.activeExpire(nowMs, deadline, keysPerLoop, acceptableStale);
    if (Date.now() >= deadline) break;
  }
  server.expireNextDb = index;
}
