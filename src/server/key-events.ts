// One place every database reports key changes to, shared by the features that hear of
// them: blocked clients waiting on keys, WATCH, client-side caching and keyspace
// notifications of expiry. Each feature listens only while it needs to (somebody waits,
// watches, tracks, or asked for the events), and while nobody listens the databases hold
// no hub at all, so the hot path builds no key string per write.

import type { Db, KeyspaceEvents } from "../store/db.ts";

/** What a feature hears; the optional ones default to nothing. */
export interface KeyListener {
  /** A key was written, deleted or expired (Redis's signalModifiedKey). */
  keyModified(db: Db, key: string): void;
  /** A key was removed because its time to live passed (before keyModified for it). */
  keyExpired?(db: Db, key: string): void;
  /** Every key of the database is about to go (FLUSHDB, FLUSHALL). */
  dbFlushed?(db: Db): void;
  /** SWAPDB is about to exchange the contents of a and b. */
  dbSwapped?(a: Db, b: Db): void;
}

export class KeyEventHub implements KeyspaceEvents {
  private readonly dbs: readonly Db[];
  private listeners: KeyListener[] = [];

  constructor(dbs: readonly Db[]) {
    this.dbs = dbs;
  }

  /** Start or stop telling `listener`; listening twice is listening once. */
  listen(listener: KeyListener, on: boolean): void {
    const at = this.listeners.indexOf(listener);
    if (on === at >= 0) return;
    // A new array, so that a listener that stops while being told does not skip another.
    this.listeners = on ? [...this.listeners, listener] : this.listeners.filter((l) => l !== listener);
    const events = this.listeners.length > 0 ? this : null;
    for (const db of this.dbs) db.events = events;
  }

  keyModified(db: Db, key: string): void {
    for (const l of this.listeners) l.keyModified(db, key);
  }

  keyExpired(db: Db, key: string): void {
    for (const l of this.listeners) l.keyExpired?.(db, key);
  }

  dbFlushed(db: Db): void {
    for (const l of this.listeners) l.dbFlushed?.(db);
  }

  dbSwapped(a: Db, b: Db): void {
    for (const l of this.listeners) l.dbSwapped?.(a, b);
  }
}
