/**
 * Background jobs that write the whole dataset (BGSAVE and BGREWRITEAOF to a file, a
 * replica's full sync to its socket) a slice at a time between turns of the event loop, from a point-in-time view of the dataset
 * (snapshot.ts), so that clients keep being served while it is written, as Redis's forked
 * child lets them be.
 *
 * Each slice writes for at most SLICE_MS, then yields with setImmediate so that pending
 * reads and timers run. Commands that change a key the job has not written yet make it
 * write that key first, through the databases' `snapshot` hook. Once every key is out,
 * a file is fsynced off the event loop and the job commits it (a rename, a manifest).
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
  /** Writes about `budgetBytes` more; true once the output is complete. */
  writeSome(budgetBytes: number): boolean;
}

/** How long a job whose output cannot take more waits before it looks again. */
const OUTPUT_WAIT_MS = 1;

/**
 * A job that writes the dataset a slice per turn of the event loop, whatever its output
 * is: a file (BackgroundJob below), or replicas' sockets (replication/full-sync.ts).
 */
export abstract class SlicedJob {
  readonly startedMs = Date.now();
  /** Cleared once every key is written: what follows (an fsync, a commit) is the output's. */
  protected writing = true;
  protected ended = false;

  protected constructor(
    protected readonly server: Server,
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
    // An output that cannot take more (a slow replica) holds the job back, as a full pipe
    // holds Redis's child: the snapshot waits rather than the output growing without bound.
    if (!this.outputReady()) {
      setTimeout(this.slice, OUTPUT_WAIT_MS);
      return;
    }
    const keyDelayUs = this.server.config.rdbKeySaveDelay;
    try {
      if (keyDelayUs > 0 ? this.writePaced(keyDelayUs) : this.writeForSliceMs()) {
        this.writing = false;
        this.detach();
        this.sliceWritten();
        return this.allWritten();
      }
      this.sliceWritten();
    } catch (e) {
      this.detach();
      return this.failed(e);
    }
    if (keyDelayUs > 0) setTimeout(this.slice, SLICE_MS);
    else setImmediate(this.slice);
  };

  /** Writes for at most SLICE_MS; true once the output is complete. */
  private writeForSliceMs(): boolean {
    const deadline = performance.now() + SLICE_MS;
    do {
      if (this.writer.writeSome(STEP_BYTES)) return true;
    } while (performance.now() < deadline);
    return false;
  }

  /**
   * rdb-key-save-delay (microseconds per key, a testing aid in Redis too): the keys that
   * many microseconds each fill a slice, a record per write step.
   */
  private writePaced(keyDelayUs: number): boolean {
    const records = Math.max(1, Math.floor((SLICE_MS * 1000) / keyDelayUs));
    for (let i = 0; i < records; i++) if (this.writer.writeSome(1)) return true;
    return false;
  }

  /** Stops the job and drops what it wrote (FLUSHALL, SHUTDOWN, CONFIG SET appendonly no). */
  abort(): void {
    if (this.ended) return;
    this.detach();
    this.ended = true;
    this.discardOutput();
    this.aborted();
  }

  private detach(): void {
    for (const db of this.server.dbs) db.snapshot = null;
  }

  /** Whether the output can take another slice now. */
  protected outputReady(): boolean {
    return true;
  }

  /** A slice ended: what it wrote may leave (the replicas' job sends it). */
  protected sliceWritten(): void {}

  /** Every key is written and the hooks are gone: finish the output. */
  protected abstract allWritten(): void;
  /** abort(): what was written so far goes. */
  protected abstract discardOutput(): void;
  /** A write failed. */
  protected abstract failed(e: unknown): void;
  /** abort() stopped the job: account for it (not a failure, as Redis's SIGUSR1 kill). */
  protected abstract aborted(): void;
}

/** A job that writes a file: synced off the event loop once complete, then committed. */
export abstract class BackgroundJob extends SlicedJob {
  protected constructor(
    server: Server,
    protected readonly fd: number,
    protected readonly temp: Buffer | string,
    writer: SlicedWriter,
  ) {
    super(server, writer);
  }

  /** Every key is in the file: sync it without blocking the loop, then commit. */
  protected override allWritten(): void {
    fsync(this.fd, (err) => {
      if (this.ended) return closeQuietly(this.fd);
      if (err !== null) return this.failed(err);
      close(this.fd, () => {
        if (!this.ended) this.commit();
      });
    });
  }

  /** Removes the temp file; once writing is over the fd is the fsync callback's to close. */
  protected override discardOutput(): void {
    if (this.writing) closeQuietly(this.fd);
    unlinkQuietly(typeof this.temp === "string" ? Buffer.from(this.temp) : this.temp);
  }

  /** The complete, synced file becomes the real one. */
  protected abstract commit(): void;
}

/** BGSAVE (Redis's rdbSaveBackground). */
export class BackgroundSave extends BackgroundJob {
  /** The change counter when the save began: what it saves. */
  private readonly dirtyAtStart: number;
  /** Called once the save ends, with whether the file is on disk (replicas waiting for it). */
  private readonly doneListeners: ((ok: boolean) => void)[] = [];

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
    this.finish(false);
  }

  /** Redis's backgroundSaveDoneHandler calls updateSlavesWaitingBgsave: replicas listen here. */
  whenDone(listener: (ok: boolean) => void): void {
    this.doneListeners.push(listener);
  }

  /** Redis's backgroundSaveDoneHandlerDisk. */
  private end(ok: boolean): void {
    this.ended = true;
    if (!ok) {
      this.server.log.warning("Background saving error");
      this.server.rdb.lastSaveOk = false;
    }
    this.finish(ok);
  }

  private finish(ok: boolean): void {
    const state = this.server.rdb;
    state.lastBgsaveTimeSec = unixSecondsBetween(this.startedMs, Date.now());
    if (state.bgsave === this) state.bgsave = null;
    for (const listener of this.doneListeners) listener(ok);
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
