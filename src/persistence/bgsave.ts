/**
 * Background jobs that write the whole dataset to a file (BGSAVE, BGREWRITEAOF) a slice at
 * a time between turns of the event loop, from a point-in-time view of the dataset
 * (snapshot.ts), so that clients keep being served while it is written, as Redis's forked
 * child lets them be.
 *
 * Each slice writes for at most SLICE_MS, then yields with setImmediate so that pending
 * reads and timers run. Commands that change a key the job has not written yet make it
 * write that key first, through the databases' `snapshot` hook. Once every key is out,
 * the file is fsynced off the event loop and the job commits it (a rename, a manifest).
 * One job runs at a time: the databases have one snapshot hook.
 */

import { close, fsync } from "node:fs";
import type { Server } from "../server/server.ts";
import type { Snapshot } from "./snapshot.ts";
import { unixSecondsBetween } from "../util/timer.ts";
import {
  RdbWriter,
  closeQuietly,
  commitRdbFile,
  openTempRdb,
  rdbPath,
  rdbWriteFailed,
  saveFailed,
  savedNow,
  tempRdbPath,
  unlinkQuietly,
} from "./rdb.ts";

/** Longest run of one slice: a client waits at most about this long behind the job. */
const SLICE_MS = 4;
/**
 * Bytes written between clock readings inside a slice: small enough that one step stays
 * well inside SLICE_MS even before the JIT has compiled the writer.
 */
const STEP_BYTES = 16 * 1024;

/** What a background job writes with: a snapshot and a bounded write step. */
export interface SlicedWriter {
  readonly snapshot: Snapshot;
  /** Writes about `budgetBytes` more; true once the file is complete. */
  writeSome(budgetBytes: number): boolean;
}

export abstract class BackgroundJob {
  readonly startedMs = Date.now();
  /** Cleared once every key is written: the fsync and commit are under way. */
  private writing = true;
  protected ended = false;

  protected constructor(
    protected readonly server: Server,
    protected readonly fd: number,
    protected readonly temp: Buffer | string,
    private readonly writer: SlicedWriter,
  ) {
    for (const db of server.dbs) db.snapshot = writer.snapshot;
    setImmediate(this.slice);
  }

  /** Keys live when the job began, and written so far (INFO current_save_keys_*). */
  get keysTotal(): number {
    return this.writer.snapshot.keysTotal;
  }

  get keysWritten(): number {
    return this.writer.snapshot.keysWritten;
  }

  private readonly slice = (): void => {
    if (this.ended || !this.writing) return;
    const deadline = performance.now() + SLICE_MS;
    try {
      do {
        if (this.writer.writeSome(STEP_BYTES)) return this.allWritten();
      } while (performance.now() < deadline);
    } catch (e) {
      this.detach();
      return this.failed(e);
    }
    setImmediate(this.slice);
  };

  /** Every key is in the file: no more hooks; sync it without blocking the loop, then commit. */
  private allWritten(): void {
    this.writing = false;
    this.detach();
    fsync(this.fd, (err) => {
      if (this.ended) return closeQuietly(this.fd);
      if (err !== null) return this.failed(err);
      close(this.fd, () => {
        if (!this.ended) this.commit();
      });
    });
  }

  /** Stops the job and removes its temp file (FLUSHALL, SHUTDOWN, CONFIG SET appendonly no). */
  abort(): void {
    if (this.ended) return;
    this.detach();
    // Once writing is over the fd is the fsync callback's to close.
    if (this.writing) closeQuietly(this.fd);
    unlinkQuietly(typeof this.temp === "string" ? Buffer.from(this.temp) : this.temp);
    this.ended = true;
    this.aborted();
  }

  private detach(): void {
    for (const db of this.server.dbs) db.snapshot = null;
  }

  /** The complete, synced file becomes the real one. */
  protected abstract commit(): void;
  /** A write or the fsync failed; the fd may still be open. */
  protected abstract failed(e: unknown): void;
  /** abort() stopped the job: account for it (not a failure, as Redis's SIGUSR1 kill). */
  protected abstract aborted(): void;
}

/** BGSAVE (Redis's rdbSaveBackground). */
export class BackgroundSave extends BackgroundJob {
  /** The change counter when the save began: what it saves. */
  private readonly dirtyAtStart: number;

  /** Starts a save, or returns null after logging why it cannot (the temp file). */
  static start(server: Server): BackgroundSave | null {
    const temp = tempRdbPath(server);
    const fd = openTempRdb(server, temp);
    if (fd < 0) {
      saveFailed(server);
      return null;
    }
    server.log.notice(`Background saving started by pid ${process.pid}`);
    return new BackgroundSave(server, fd, temp);
  }

  private constructor(server: Server, fd: number, temp: Buffer) {
    super(server, fd, temp, new RdbWriter(server, fd));
    this.dirtyAtStart = server.dirty;
  }

  protected commit(): void {
    if (!commitRdbFile(this.server, this.temp as Buffer, rdbPath(this.server))) return this.end(false);
    this.server.log.notice("DB saved on disk");
    savedNow(this.server, this.dirtyAtStart);
    this.server.log.notice("Background saving terminated with success");
    this.end(true);
  }

  protected failed(e: unknown): void {
    rdbWriteFailed(this.server, this.fd, this.temp as Buffer, e);
    this.end(false);
  }

  protected aborted(): void {
    this.server.log.warning("Background saving terminated by signal 10");
    this.finish();
  }

  /** Redis's backgroundSaveDoneHandlerDisk. */
  private end(ok: boolean): void {
    this.ended = true;
    if (!ok) {
      this.server.log.warning("Background saving error");
      this.server.rdb.lastSaveOk = false;
    }
    this.finish();
  }

  private finish(): void {
    const state = this.server.rdb;
    state.lastBgsaveTimeSec = unixSecondsBetween(this.startedMs, Date.now());
    if (state.bgsave === this) state.bgsave = null;
  }
}

/** Redis's CONFIG_BGSAVE_RETRY_DELAY: after a failed BGSAVE, save points wait this long. */
const BGSAVE_RETRY_DELAY_MS = 5_000;

/**
 * The save points (`save <seconds> <changes>`), checked by the server cron: the first one
 * whose changes and age are both reached starts a BGSAVE, as Redis's serverCron does.
 */
export function saveCron(server: Server, nowMs: number): void {
  const state = server.rdb;
  if (state.bgsave !== null || server.aofRewrite !== null) return;
  const sinceSaveMs = nowMs - server.lastSaveMs;
  const retryAllowed = state.lastSaveOk || nowMs - state.lastBgsaveTryMs > BGSAVE_RETRY_DELAY_MS;
  if (state.bgsaveScheduled && retryAllowed) {
    state.lastBgsaveTryMs = nowMs;
    state.bgsave = BackgroundSave.start(server);
    if (state.bgsave !== null) state.bgsaveScheduled = false;
    return;
  }
  for (const point of server.config.save) {
    // Redis compares whole seconds (unixtime - lastsave > seconds).
    if (server.dirty >= point.changes && Math.floor(sinceSaveMs / 1000) > point.seconds && retryAllowed) {
      server.log.notice(`${point.changes} changes in ${point.seconds} seconds. Saving...`);
      state.lastBgsaveTryMs = nowMs;
      state.bgsave = BackgroundSave.start(server);
      return;
    }
  }
}
