// Blocking commands (Redis's blocked.c): BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN,
// BZPOPMAX, BZMPOP park their client on keys until a write makes one of them ready, the
// timeout passes, or CLIENT UNBLOCK ends the wait.
//
// - Each key has a FIFO queue of the clients waiting on it, so clients are served in the
//   order they blocked. A client may wait on several keys; serving it removes it from all.
// - Nothing polls. While anyone waits, the databases report writes (Db.events); a write to
//   a key somebody waits on queues it as ready, and after the command that wrote it (or the
//   whole EXEC) the server calls serveReadyKeys. Serving may write other keys (BLMOVE
//   pushes to its destination), which queues them in turn: they are served in the same
//   pass, in order.
// - Each waiting client with a timeout has a timer; sub-second timeouts are exact to the ms.
// - A served client's reply goes out through the server's side writer, since the shared
//   writer holds the replies of the client whose command caused the push. What the blocked
//   client pipelined behind its blocking command runs after that, from the server's
//   queue of clients to resume, never from inside another client's command.
// - What the command does once a key is ready is the command's business: it hands over a
//   `serve` function (pop and reply, or say "not yet" for a key of the wrong type or an
//   empty one) and a `timeoutReply`.
// - Statistics follow Redis 7.0: the call is counted when it blocks, but its slow log entry,
//   latency sample and second share of time come when a write serves it or CLIENT UNBLOCK
//   ends it (the host's countUnblocked); a timeout adds nothing.

import type { Client } from "./client.ts";
import type { Db } from "../store/db.ts";
import type { KeyEventHub, KeyListener } from "./key-events.ts";
import type { ReplyWriter } from "../resp/writer.ts";
import type { Command } from "../commands/table.ts";
import { setLongTimeout } from "../util/timer.ts";

/** What a client waits for, and how it is answered (Redis's client->bstate). */
export interface BlockedWait {
  /** The database the keys are in (the client's selected one when it blocked). */
  readonly db: Db;
  /** The keys waited on, as latin1 strings (one char per byte). */
  readonly keys: readonly string[];
  /** Absolute time in ms at which the wait times out; 0 waits forever. */
  readonly deadlineMs: number;
  /**
   * Try to answer now that `key` may be ready: reply through `w` and return true, or
   * return false (nothing written) to keep waiting. Runs outside any command of the
   * client's own, with the database's current contents.
   */
  serve(c: Client, w: ReplyWriter, key: string): boolean;
  /** Reply to a wait that timed out (or CLIENT UNBLOCK ... TIMEOUT). */
  timeoutReply(c: Client, w: ReplyWriter): void;
  /** Reply where the command may not block (inside EXEC); the timeout reply when absent. */
  deniedReply?(c: Client, w: ReplyWriter): void;
}

/**
 * What the server kept of a command that blocked, to count it again when the wait ends:
 * Redis adds a served or CLIENT UNBLOCKed command's time to its statistics and slow log
 * then, not when it blocked.
 */
export interface BlockedCall {
  readonly cmd: Command;
  /** How long the command ran before it blocked. */
  readonly durationMs: number;
  /** Its arguments as the slow log would keep them (Slowlog.capture). */
  readonly args: Uint8Array[];
}

/** The hooks the server provides to send replies and resume a client's input. */
export interface BlockingHost {
  /** The writer for replies to a client other than the one whose command is running. */
  beginSideReply(c: Client): ReplyWriter;
  /** Send what the side writer holds to `c`. */
  endSideReply(c: Client): void;
  /** A client's wait ended: run what it pipelined behind its blocking command. */
  waitEnded(c: Client): void;
  /**
   * The wait was served (after `replyMs` spent answering it) or ended by CLIENT UNBLOCK
   * (`byRequest`): count the blocked call (Redis's updateStatsOnUnblock). A timeout counts
   * nothing more, as in Redis 7.0.
   */
  countUnblocked(c: Client, call: BlockedCall, replyMs: number, byRequest: boolean): void;
  nowMs(): number;
}

/** Redis's reply to CLIENT UNBLOCK ... ERROR. */
const UNBLOCKED_ERROR = "UNBLOCKED client unblocked via CLIENT UNBLOCK";

/** One client's wait: its spec, its timer and the call that blocked. */
interface Waiting {
  wait: BlockedWait;
  timer: ReturnType<typeof setTimeout> | null;
  /** Set by the server once the blocking command returns (noteCall). */
  call: BlockedCall | null;
}

export class Blocking {
  private readonly host: BlockingHost;
  /** Per database: key -> clients waiting on it, in the order they blocked. */
  private readonly queues = new Map<Db, Map<string, Client[]>>();
  private readonly waiting = new Map<Client, Waiting>();
  /** Keys written while clients wait on them, in order, not yet served. */
  private readyDbs: Db[] = [];
  private readyKeys: string[] = [];
  /** The keys in readyKeys, per database, so that a key is queued once per pass. */
  private readonly readySet = new Map<Db, Set<string>>();
  /** Clients with a timeout (INFO clients_in_timeout_table). */
  timedCount = 0;
  private readonly hub: KeyEventHub;
  private readonly listener: KeyListener;

  constructor(host: BlockingHost, hub: KeyEventHub) {
    this.host = host;
    this.hub = hub;
    this.listener = { keyModified: (db, key) => this.signal(db, key) };
  }

  /** Clients waiting now (INFO blocked_clients counts them). */
  get blockedCount(): number {
    return this.waiting.size;
  }

  /** Whether some written key has waiting clients to serve. */
  get hasReadyKeys(): boolean {
    return this.readyKeys.length > 0;
  }

  isBlocked(c: Client): boolean {
    return this.waiting.has(c);
  }

  /** Park `c` until one of its keys is ready or the wait ends. Called by the command. */
  block(c: Client, wait: BlockedWait): void {
    // Inside EXEC a blocking command cannot wait: it answers as if its time ran out.
    if (c.denyBlocking) return wait.deniedReply !== undefined ? wait.deniedReply(c, c.w) : wait.timeoutReply(c, c.w);
    let byKey = this.queues.get(wait.db);
    if (byKey === undefined) {
      byKey = new Map();
      this.queues.set(wait.db, byKey);
    }
    for (const key of new Set(wait.keys)) {
      const queue = byKey.get(key);
      if (queue === undefined) byKey.set(key, [c]);
      else queue.push(c);
    }
    const now = this.host.nowMs();
    const entry: Waiting = { wait, timer: null, call: null };
    if (wait.deadlineMs > 0) {
      this.timedCount++;
      setLongTimeout(() => this.timeOut(c), wait.deadlineMs - now, (timer) => {
        entry.timer = timer;
      });
    }
    if (this.waiting.size === 0) this.watchWrites(true);
    this.waiting.set(c, entry);
    c.blocked = true;
    // CLIENT LIST shows the blocking command's arguments as still held (argv-mem).
    let argvBytes = 0;
    for (let i = 0; i < c.argv.count; i++) argvBytes += c.argv.len[i]!;
    c.heldArgvBytes = argvBytes;
  }

  /** The command that just blocked `c` ran for `call.durationMs`: keep it for its statistics. */
  noteCall(c: Client, call: BlockedCall): void {
    const entry = this.waiting.get(c);
    if (entry !== undefined) entry.call = call;
  }

  /** The clients waiting now. */
  blockedClients(): Client[] {
    return [...this.waiting.keys()];
  }

  /**
   * CLIENT UNBLOCK: end the wait with the timeout reply or an UNBLOCKED error (CLIENT
   * UNBLOCK's, or the one a master turning replica gives).
   */
  unblockByRequest(c: Client, withError: boolean, error = UNBLOCKED_ERROR): boolean {
    const entry = this.waiting.get(c);
    if (entry === undefined) return false;
    const w = this.host.beginSideReply(c);
    if (withError) w.addError(error);
    else entry.wait.timeoutReply(c, w);
    this.host.endSideReply(c);
    if (entry.call !== null) this.host.countUnblocked(c, entry.call, 0, true);
    this.finish(c, entry);
    return true;
  }

  /** The client disconnected: its wait disappears without a reply. */
  forget(c: Client): void {
    const entry = this.waiting.get(c);
    if (entry !== undefined) this.remove(c, entry);
  }

  /**
   * Serve the clients waiting on the keys written since the last call, key by key in the
   * order they were written, each key's clients in the order they blocked, for as long as
   * the key can serve them. Keys written while serving are served in the same pass.
   */
  serveReadyKeys(): void {
    for (let i = 0; i < this.readyKeys.length; i++) {
      const db = this.readyDbs[i]!;
      const key = this.readyKeys[i]!;
      this.readySet.get(db)?.delete(key);
      this.serveKey(db, key);
    }
    this.readyDbs = [];
    this.readyKeys = [];
  }

  private serveKey(db: Db, key: string): void {
    const queue = this.queues.get(db)?.get(key);
    if (queue === undefined) return;
    // Walk a snapshot: serving removes clients from this queue (and others). A client not
    // served (of another kind, as BZPOPMIN on a list, or a key gone empty) leaves the rest
    // of the queue to be served by a key of their kind.
    for (const c of [...queue]) {
      const entry = this.waiting.get(c);
      if (entry !== undefined) this.tryServe(c, entry, key);
    }
  }

  /** What `c` waits for, if it waits. */
  waitOf(c: Client): BlockedWait | undefined {
    return this.waiting.get(c)?.wait;
  }

  /** Whether `c` still waits in `wait`. */
  isWaitingIn(c: Client, wait: BlockedWait): boolean {
    return this.waiting.get(c)?.wait === wait;
  }

  /**
   * Serve `c` now if it is still in `wait` and the wait can be answered: a wait on
   * something other than keys (WAIT's replica acknowledgements). True when it was served.
   */
  serveWait(c: Client, wait: BlockedWait): boolean {
    const entry = this.waiting.get(c);
    return entry !== undefined && entry.wait === wait && this.tryServe(c, entry, "");
  }

  private tryServe(c: Client, entry: Waiting, key: string): boolean {
    const w = this.host.beginSideReply(c);
    const startMs = performance.now();
    const served = entry.wait.serve(c, w, key);
    const replyMs = performance.now() - startMs;
    this.host.endSideReply(c);
    if (!served) return false;
    if (entry.call !== null) this.host.countUnblocked(c, entry.call, replyMs, false);
    this.finish(c, entry);
    return true;
  }

  /**
   * SWAPDB gave `db` other contents: every key waited on there may be ready now (Redis's
   * scanDatabaseForReadyKeys).
   */
  contentsChanged(db: Db): void {
    const byKey = this.queues.get(db);
    if (byKey === undefined) return;
    for (const key of byKey.keys()) this.signal(db, key);
  }

  /**
   * `key` may serve its waiting clients though its value was not modified (Redis's
   * signalKeyAsReady without signalModifiedKey: XGROUP DESTROY wakes XREADGROUP).
   */
  keyReady(db: Db, key: string): void {
    this.signal(db, key);
  }

  /** A write to `key` in `db`: queue it if somebody waits on it. */
  private signal(db: Db, key: string): void {
    const byKey = this.queues.get(db);
    if (byKey === undefined || !byKey.has(key)) return;
    let set = this.readySet.get(db);
    if (set === undefined) {
      set = new Set();
      this.readySet.set(db, set);
    }
    if (set.has(key)) return;
    set.add(key);
    this.readyDbs.push(db);
    this.readyKeys.push(key);
  }

  private timeOut(c: Client): void {
    const entry = this.waiting.get(c);
    if (entry === undefined) return;
    entry.timer = null;
    const w = this.host.beginSideReply(c);
    entry.wait.timeoutReply(c, w);
    this.host.endSideReply(c);
    this.finish(c, entry);
  }

  /** The wait ended with a reply: drop it and let the client go on. */
  private finish(c: Client, entry: Waiting): void {
    this.remove(c, entry);
    this.host.waitEnded(c);
  }

  private remove(c: Client, entry: Waiting): void {
    this.waiting.delete(c);
    c.blocked = false;
    c.heldArgvBytes = 0;
    if (entry.timer !== null) clearTimeout(entry.timer);
    if (entry.wait.deadlineMs > 0) this.timedCount--;
    const byKey = this.queues.get(entry.wait.db);
    if (byKey !== undefined) {
      for (const key of entry.wait.keys) {
        const queue = byKey.get(key);
        if (queue === undefined) continue;
        const at = queue.indexOf(c);
        if (at >= 0) queue.splice(at, 1);
        if (queue.length === 0) byKey.delete(key);
      }
      if (byKey.size === 0) this.queues.delete(entry.wait.db);
    }
    if (this.waiting.size === 0) this.watchWrites(false);
  }

  /**
   * Writes are reported only while somebody waits: the report names the key as a string,
   * which costs an allocation per write that the hot path must not pay otherwise.
   */
  private watchWrites(on: boolean): void {
    this.hub.listen(this.listener, on);
  }
}
