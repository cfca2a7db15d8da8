/**
 * BGSAVE: the RDB file written a slice at a time between turns of the event loop, from a
 * point-in-time view of the dataset (snapshot.ts), so that clients keep being served
 * while it is written, as Redis's forked child lets them be.
 *
 * Each slice writes for at most SLICE_MS, then yields with setImmediate so that pending
 * reads and timers run. Commands that change a key the save has not written yet make it
 * write that key first, through the databases' `snapshot` hook. Once every key is out,
 * the file is fsynced off the event loop and renamed into place.
 */

import { close, fsync } from "node:fs";
import type { Server } from "../server/server.ts";
import {
  RdbWriter,
  commitRdbFile,
  openTempRdb,
  rdbPath,
  rdbWriteFailed,
  savedNow,
  saveFailed,
  tempRdbPath,
  unlinkQuietly,
  closeQuietly,
} from "./rdb.ts";

/** Longest run of one slice: a client waits at most about this long behind the save. */
const SLICE_MS = 4;
/** Bytes written between clock readings inside a slice. */
const STEP_BYTES = 64 * 1024;

/** How a background save ended (Redis's child exit status, as INFO shows it). */
export const enum BgsaveEnd {
  Ok,
  Failed,
  /** Stopped on purpose (FLUSHALL, SHUTDOWN): not a failure, as Redis's SIGUSR1 kill. */
  Aborted,
}

export class BackgroundSave {
  readonly startedMs = Date.now();
  private readonly temp: Buffer;
  private readonly fd: number;
  private readonly writer: RdbWriter;
  /** The change counter when the save began: what it saves. */
  private readonly dirtyAtStart: number;
  /** Cleared once every key is written: the fsync and rename are under way. */
  private writing = true;
  private ended = false;

  /** Starts a save, or returns null after logging why it cannot (the temp file). */
  static start(server: Server): BackgroundSave | null {
    const temp = tempRdbPath(server);
    const fd = openTempRdb(server, temp);
    if (fd < 0) {
      saveFailed(server);
      return null;
    }
    return new BackgroundSave(server, temp, fd);
  }

  private constructor(
    private readonly server: Server,
    temp: Buffer,
    fd: number,
  ) {
    this.temp = temp;
    this.fd = fd;
    this.dirtyAtStart = server.dirty;
    this.writer = new RdbWriter(server, fd);
    for (const db of server.dbs) db.snapshot = this.writer.snapshot;
    server.log.notice(`Background saving started by pid ${process.pid}`);
    setImmediate(this.slice);
  }

  /** Keys live when the save began, and written so far (INFO current_save_keys_*). */
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
      rdbWriteFailed(this.server, this.fd, this.temp, e);
      return this.end(BgsaveEnd.Failed);
    }
    setImmediate(this.slice);
  };

  /** Every key is in the file: no more hooks; sync it without blocking the loop, then rename. */
  private allWritten(): void {
    this.writing = false;
    this.detach();
    fsync(this.fd, (err) => {
      if (this.ended) return closeQuietly(this.fd);
      if (err !== null) {
        rdbWriteFailed(this.server, this.fd, this.temp, err);
        return this.end(BgsaveEnd.Failed);
      }
      close(this.fd, () => {
        if (this.ended) return;
        if (!commitRdbFile(this.server, this.temp, rdbPath(this.server))) return this.end(BgsaveEnd.Failed);
        this.server.log.notice("DB saved on disk");
        savedNow(this.server, this.dirtyAtStart);
        this.server.log.notice("Background saving terminated with success");
        this.end(BgsaveEnd.Ok);
      });
    });
  }

  /** Stops the save and removes its temp file (FLUSHALL, SHUTDOWN, CONFIG SET dir). */
  abort(): void {
    if (this.ended) return;
    this.detach();
    // The fd may already be closing (fsync done): closing it twice is harmless here.
    if (this.writing) closeQuietly(this.fd);
    unlinkQuietly(this.temp);
    this.server.log.warning("Background saving terminated by signal 10");
    this.end(BgsaveEnd.Aborted);
  }

  private detach(): void {
    for (const db of this.server.dbs) db.snapshot = null;
  }

  /** Redis's backgroundSaveDoneHandlerDisk: an abort is not counted as a failure. */
  private end(how: BgsaveEnd): void {
    this.ended = true;
    const state = this.server.rdb;
    if (how === BgsaveEnd.Failed) {
      this.server.log.warning("Background saving error");
      state.lastSaveOk = false;
    }
    state.lastBgsaveTimeSec = Math.floor((Date.now() - this.startedMs) / 1000);
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
  if (state.bgsave !== null) return;
  const sinceSaveMs = nowMs - server.lastSaveMs;
  const retryAllowed = state.lastSaveOk || nowMs - state.lastBgsaveTryMs > BGSAVE_RETRY_DELAY_MS;
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
