// Transactions (Redis's multi.c): the commands a client queues between MULTI and EXEC, and
// WATCH's check-and-set.
//
// - A queued command keeps its own copy of its arguments, so that EXEC can point the
//   server's shared Argv at each in turn and dispatch it like any other command.
// - WATCH remembers (database, key) pairs per client and, across clients, which clients
//   watch each key. While anybody watches, the registry listens to the key-event hub: a
//   change to a watched key marks its watchers dirty (EXEC then replies with a null array),
//   and a dirty client's keys are forgotten at once, as nothing can make it clean again.
// - A key that had already expired when it was watched is not "changed" by its expiry
//   being carried out, and a watched key whose time passes before EXEC fails the EXEC.

import type { Argv } from "../resp/parser.ts";
import type { Command } from "../commands/table.ts";
import type { Db } from "../store/db.ts";
import type { Client } from "./client.ts";
import type { KeyEventHub, KeyListener } from "./key-events.ts";

/** One command queued inside MULTI, with its own copy of its arguments. */
export class QueuedCommand {
  readonly cmd: Command;
  readonly buf: Uint8Array;
  readonly start: Int32Array;
  readonly len: Int32Array;
  readonly count: number;

  constructor(cmd: Command, argv: Argv) {
    this.cmd = cmd;
    const count = argv.count;
    let bytes = 0;
    for (let i = 0; i < count; i++) bytes += argv.len[i]!;
    this.buf = new Uint8Array(bytes);
    this.start = new Int32Array(count);
    this.len = new Int32Array(count);
    this.count = count;
    let at = 0;
    for (let i = 0; i < count; i++) {
      const s = argv.start[i]!;
      const n = argv.len[i]!;
      this.buf.set(argv.buf.subarray(s, s + n), at);
      this.start[i] = at;
      this.len[i] = n;
      at += n;
    }
  }

  /** Bytes of the arguments (CLIENT LIST's multi-mem counts them). */
  get argvBytes(): number {
    return this.buf.length;
  }
}

/** A client's transaction between MULTI and EXEC (Redis's multiState plus its flags). */
export class MultiState {
  readonly commands: QueuedCommand[] = [];
  /** The flags of every queued command ORed: EXEC counts as a write if any of them writes. */
  flags = 0;
  /** A command was refused while queueing: EXEC answers EXECABORT (CLIENT_DIRTY_EXEC). */
  aborted = false;

  queue(cmd: Command, argv: Argv): void {
    this.commands.push(new QueuedCommand(cmd, argv));
    this.flags |= cmd.flags;
  }
}

/** One watched key of one client (Redis's watchedKey). */
export interface WatchedKey {
  readonly client: Client;
  readonly db: Db;
  readonly key: string;
  /** The key had already expired when it was watched. */
  expired: boolean;
}

export class WatchRegistry {
  private readonly hub: KeyEventHub;
  /** Per database: key -> its watchers, in the order they watched. */
  private readonly byDb = new Map<Db, Map<string, WatchedKey[]>>();
  /** Keys watched across all clients (Redis's watching_clients is per client; this is per key). */
  private watchedCount = 0;
  private readonly listener: KeyListener;

  constructor(hub: KeyEventHub) {
    this.hub = hub;
    this.listener = {
      keyModified: (db, key) => this.touch(db, key),
      dbFlushed: (db) => this.touchAllInDb(db, null),
      dbSwapped: (a, b) => {
        this.touchAllInDb(a, b);
        this.touchAllInDb(b, a);
      },
    };
  }

  /** Clients that watch at least one key (INFO watching_clients). */
  watchingClients = 0;

  /** Keys watched, summed over databases (INFO watched_keys). */
  get keyCount(): number {
    let n = 0;
    for (const keys of this.byDb.values()) n += keys.size;
    return n;
  }

  /** WATCH key: remember it for `c` in its selected database, once. */
  watch(c: Client, key: string): void {
    const db = c.db;
    let mine = c.watched;
    if (mine === null) {
      mine = c.watched = [];
      this.watchingClients++;
    }
    for (const wk of mine) if (wk.db === db && wk.key === key) return;
    let keys = this.byDb.get(db);
    if (keys === undefined) {
      keys = new Map();
      this.byDb.set(db, keys);
    }
    const wk: WatchedKey = { client: c, db, key, expired: isExpiredNow(db, key) };
    const watchers = keys.get(key);
    if (watchers === undefined) keys.set(key, [wk]);
    else watchers.push(wk);
    mine.push(wk);
    if (this.watchedCount++ === 0) this.hub.listen(this.listener, true);
  }

  /** Forget every key `c` watches (UNWATCH, EXEC, DISCARD, a dirty client, disconnection). */
  unwatchAll(c: Client): void {
    const mine = c.watched;
    if (mine === null) return;
    c.watched = null;
    this.watchingClients--;
    for (const wk of mine) {
      const keys = this.byDb.get(wk.db)!;
      const watchers = keys.get(wk.key)!;
      watchers.splice(watchers.indexOf(wk), 1);
      if (watchers.length === 0) keys.delete(wk.key);
      if (keys.size === 0) this.byDb.delete(wk.db);
    }
    this.watchedCount -= mine.length;
    if (this.watchedCount === 0) this.hub.listen(this.listener, false);
  }

  /** Redis's isWatchedKeyExpired: a watched key whose time passed since WATCH fails EXEC. */
  anyExpiredSinceWatch(c: Client): boolean {
    if (c.watched === null) return false;
    for (const wk of c.watched) if (!wk.expired && isExpiredNow(wk.db, wk.key)) return true;
    return false;
  }

  /** Redis's touchWatchedKey. */
  private touch(db: Db, key: string): void {
    const watchers = this.byDb.get(db)?.get(key);
    if (watchers === undefined) return;
    // Dirtying a client unwatches all its keys, which edits this list: walk a copy.
    for (const wk of [...watchers]) {
      if (wk.expired) {
        // The key was already expired when watched: its deletion is no change.
        if (db.table.findString(key) < 0) {
          wk.expired = false;
          continue;
        }
        // Redis 7.0 stops at the first such watcher, leaving the ones after it clean.
        break;
      }
      this.markDirty(wk.client);
    }
  }

  /**
   * Redis's touchAllWatchedKeysInDb: FLUSHDB and SWAPDB change every watched key that
   * exists in `emptied` (or, for SWAPDB, in the database replacing it).
   */
  private touchAllInDb(emptied: Db, replacedWith: Db | null): void {
    const keys = this.byDb.get(emptied);
    if (keys === undefined) return;
    const dirty: Client[] = [];
    for (const [key, watchers] of keys) {
      const inEmptied = emptied.table.findString(key) >= 0;
      const inReplacement = replacedWith !== null && replacedWith.table.findString(key) >= 0;
      if (!inEmptied && !inReplacement) continue;
      for (const wk of watchers) {
        if (wk.expired) {
          if (!inReplacement) {
            // An expired key now deleted: no logical change.
            wk.expired = false;
            continue;
          }
          if (isExpiredNow(replacedWith!, key)) continue;
        } else if (!inEmptied && isExpiredNow(replacedWith!, key)) {
          // A missing key replaced by an expired one: still missing.
          wk.expired = true;
          continue;
        }
        dirty.push(wk.client);
      }
    }
    for (const c of dirty) c.dirtyCas = true;
  }

  private markDirty(c: Client): void {
    c.dirtyCas = true;
    this.unwatchAll(c);
  }
}

/** Whether the key exists but its time has passed (Redis's keyIsExpired; deletes nothing). */
function isExpiredNow(db: Db, key: string): boolean {
  const id = db.table.findString(key);
  return id >= 0 && db.isExpired(id, db.clock.nowMs);
}
