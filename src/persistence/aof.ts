// The append-only file (Redis 7's multi-part AOF, aof.c): a propagation sink that writes
// every propagated command in RESP to the current incr file of `appenddirname`, with a
// SELECT whenever the database changes, as feedAppendOnlyFile does.
//
// Commands gather in a buffer while a batch runs and reach the file before any reply of
// that batch is sent (Redis writes the AOF in beforeSleep, before replies go out): the
// server calls write() before it flushes replies. `appendfsync always` syncs there too;
// `everysec` syncs in the background about once a second; `no` leaves it to the kernel.
//
// A write that fails (a full disk, a file size limit) keeps the commands in the buffer and
// marks the AOF in error, as flushAppendOnlyFile does: the dispatcher then refuses write
// commands with aof.deniedWritesError(), and every later write() (each batch and each cron
// tick) retries until the disk takes the buffer again. With `appendfsync always` a failed
// write or fsync cannot be hidden from clients that were already answered, so the server
// exits instead.

import { close, closeSync, fstatSync, renameSync, fsync, fsyncSync, ftruncateSync, mkdirSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Argv } from "../resp/parser.ts";
import { CommandEncoder } from "../resp/command-encoder.ts";
import { Target, type PropArg, type PropagationSink } from "../server/propagate.ts";
import type { Server } from "../server/server.ts";
import { AofManifest, RDB_FORMAT_SUFFIX, type AofFileInfo } from "./aof-manifest.ts";
import { writeCommandBase, writeRdbBase } from "./aof-rewrite.ts";
import { unixSecondsBetween } from "../util/timer.ts";

/** How often `appendfsync everysec` syncs, in ms. */
const FSYNC_EVERYSEC_MS = 1000;
/** The command buffer's starting size; it grows with the largest batch. */
const INITIAL_BUFFER_BYTES = 16 * 1024;

/** At most one write-error log line per this many seconds (AOF_WRITE_LOG_ERROR_RATE). */
const WRITE_ERROR_LOG_INTERVAL_SEC = 30;

/**
 * The AOF figures INFO persistence prints, per server and surviving CONFIG SET appendonly
 * no/yes as Redis's server fields do. The Aof keeps the sizes and the write status; the
 * rewrite fields belong to whoever runs rewrites (BGREWRITEAOF, CONFIG SET appendonly yes),
 * which reports through rewriteStarted() and rewriteFinished().
 */
export class AofStatus {
  /** aof_rewrite_in_progress: a rewrite is running. */
  rewriteInProgress = false;
  /** aof_rewrite_scheduled: a rewrite waits for another background job to end. */
  rewriteScheduled = false;
  /** When the running rewrite started (Date.now()), or -1. */
  rewriteStartMs = -1;
  /** aof_last_rewrite_time_sec: the last rewrite's duration in whole seconds, -1 before any. */
  lastRewriteTimeSec = -1;
  /** aof_last_bgrewrite_status. */
  lastRewriteOk = true;
  /** aof_rewrites: rewrites started. */
  rewrites = 0;
  /** aof_rewrites_consecutive_failures. */
  rewritesConsecutiveFailures = 0;
  /** aof_last_cow_size: redbun copies nothing on write, so this stays 0 unless a rewrite reports one. */
  lastCowSizeBytes = 0;
  /** aof_current_size: the bytes of the base and incr files, as loaded plus written since. */
  currentSizeBytes = 0;
  /** aof_base_size: aof_current_size when the last rewrite ended, or the base file's size after loading. */
  baseSizeBytes = 0;
  /** The last write reached the file whole (aof_last_write_status). */
  lastWriteOk = true;
  /** The last background fsync succeeded (Redis's aof_bio_fsync_status). */
  lastFsyncOk = true;
  /** The errno code of the last failed write or fsync ("ENOSPC"), for the MISCONF error. */
  lastWriteErrno = "";
  /** aof_delayed_fsync: writes that could not wait any longer for a slow fsync. */
  delayedFsyncs = 0;
  /** The last `#TS:` annotation written (Redis's aof_cur_timestamp), in unix seconds. */
  timestampSec = 0;
  /** When the last write error was logged, in unix seconds: such lines are rate-limited. */
  lastWriteErrorLogSec = 0;

  /** A rewrite begins (rewriteAppendOnlyFileBackground). */
  rewriteStarted(nowMs: number): void {
    this.rewriteInProgress = true;
    this.rewriteScheduled = false;
    this.rewriteStartMs = nowMs;
    this.rewrites++;
  }

  /**
   * A rewrite ended (backgroundRewriteDoneHandler). On success the AOF now holds the new
   * base of `baseSizeBytes` and the incr files written during the rewrite.
   */
  rewriteFinished(ok: boolean, nowMs: number, baseSizeBytes: number, incrSizeBytes: number): void {
    this.rewriteInProgress = false;
    this.lastRewriteTimeSec = unixSecondsBetween(this.rewriteStartMs, nowMs);
    this.rewriteStartMs = -1;
    this.lastRewriteOk = ok;
    if (!ok) {
      this.rewritesConsecutiveFailures++;
      return;
    }
    this.rewritesConsecutiveFailures = 0;
    this.currentSizeBytes = baseSizeBytes + incrSizeBytes;
    this.baseSizeBytes = this.currentSizeBytes;
  }
}

/**
 * Where Redis exits: the binary's onShutdown ends the process at once, an embedded server
 * stops alone (its onShutdown closes it) and the process goes on.
 */
function stopFatally(server: Server): void {
  if (server.onShutdown === null) process.exit(1);
  server.onShutdown(1);
}

const statuses = new WeakMap<Server, AofStatus>();

/** The server's AOF status (created on first use, with Redis's initial values). */
export function aofStatus(server: Server): AofStatus {
  let status = statuses.get(server);
  if (status === undefined) {
    status = new AofStatus();
    statuses.set(server, status);
  }
  return status;
}

/**
 * INFO persistence's aof_* lines that Redis always prints, in its order: they follow
 * rdb_last_load_keys_loaded and come before module_fork_in_progress.
 */
export function aofInfoLines(server: Server): string[] {
  const status = aofStatus(server);
  const currentRewriteSec = status.rewriteInProgress ? unixSecondsBetween(status.rewriteStartMs, Date.now()) : -1;
  return [
    `aof_enabled:${server.aof !== null ? 1 : 0}`,
    `aof_rewrite_in_progress:${status.rewriteInProgress ? 1 : 0}`,
    `aof_rewrite_scheduled:${status.rewriteScheduled ? 1 : 0}`,
    `aof_last_rewrite_time_sec:${status.lastRewriteTimeSec}`,
    `aof_current_rewrite_time_sec:${currentRewriteSec}`,
    `aof_last_bgrewrite_status:${status.lastRewriteOk ? "ok" : "err"}`,
    `aof_rewrites:${status.rewrites}`,
    `aof_rewrites_consecutive_failures:${status.rewritesConsecutiveFailures}`,
    `aof_last_write_status:${status.lastWriteOk && status.lastFsyncOk ? "ok" : "err"}`,
    `aof_last_cow_size:${status.lastCowSizeBytes}`,
  ];
}

/**
 * The aof_* lines Redis adds while the AOF is on, after module_fork_last_cow_size (none
 * when it is off).
 */
export function aofEnabledInfoLines(server: Server): string[] {
  const aof = server.aof;
  if (aof === null) return [];
  const status = aofStatus(server);
  return [
    `aof_current_size:${status.currentSizeBytes}`,
    `aof_base_size:${status.baseSizeBytes}`,
    `aof_pending_rewrite:${status.rewriteScheduled ? 1 : 0}`,
    `aof_buffer_length:${aof.bufferedBytes}`,
    `aof_pending_bio_fsync:${aof.fsyncPending ? 1 : 0}`,
    `aof_delayed_fsync:${status.delayedFsyncs}`,
  ];
}

/** The AOF directory's manifest for the server's configuration. */
export function aofManifestFor(server: Server): AofManifest {
  const config = server.config;
  return new AofManifest(join(config.dir, config.appenddirname), config.appendfilename);
}

/**
 * History files are covered by the base: remove them and their manifest lines
 * (aofDelHistoryFiles), unless aof-disable-auto-gc keeps them for someone to look at.
 */
export function deleteHistoryFiles(server: Server, manifest: AofManifest): void {
  if (manifest.history.length === 0 || server.config.aofDisableAutoGc) return;
  for (const f of manifest.history) {
    server.log.notice(`Removing the history file ${f.name} in the background`);
    rmSync(manifest.path(f), { force: true });
  }
  manifest.history = [];
  manifest.persist();
}

export class Aof implements PropagationSink {
  readonly target = Target.Aof;
  /** Commands not yet written; its selected database is the incr file's (-1 forces a SELECT first). */
  private readonly enc = new CommandEncoder(INITIAL_BUFFER_BYTES);
  private fd = -1;
  private lastFsyncMs = 0;
  private fsyncInFlight = false;
  /** When a write started waiting for the background fsync, in unix seconds; 0 when none waits. */
  private postponedSinceSec = 0;
  /** Bytes written since the last fsync started. */
  private unsynced = false;
  /** The open incr file's size: a torn write is cut back to it (Redis's aof_last_incr_size). */
  private incrSizeBytes = 0;
  /** The errno code of the last failed write(2). */
  private writeErrno = "";
  readonly manifest: AofManifest;
  readonly status: AofStatus;
  /** Whether commands still go to the temporary incr file (AOF_WAIT_REWRITE). */
  waitingForRewrite = false;

  constructor(private readonly server: Server) {
    this.manifest = aofManifestFor(server);
    this.status = aofStatus(server);
  }

  /** aof_buffer_length: commands not yet in the file (after a failed write, all of them). */
  get bufferedBytes(): number {
    return this.enc.length;
  }

  /** aof_pending_bio_fsync: a background fsync is running. */
  get fsyncPending(): boolean {
    return this.fsyncInFlight;
  }

  /**
   * The error for a write command (or PING) while the AOF cannot be written (Redis's
   * writeCommandsDeniedByDiskError), or null when writes are accepted.
   */
  deniedWritesError(): string | null {
    const status = this.status;
    if (status.lastWriteOk && status.lastFsyncOk) return null;
    return `MISCONF Errors writing to the AOF file: ${strerror(status.lastWriteErrno)}`;
  }

  // -------------------------------------------------------------------------------------
  // Opening and closing
  // -------------------------------------------------------------------------------------

  /**
   * Start-up with `appendonly yes`, after loading (Redis's aofOpenIfNeededOnServerStart):
   * a directory without AOF gets a base and an incr file; otherwise the last incr file
   * listed is opened for appending, or a new one when there is none.
   */
  openOnStart(): void {
    const manifest = this.manifest;
    mkdirSync(manifest.dir, { recursive: true });
    if (manifest.exists()) manifest.load();
    if (manifest.base === null && manifest.incrs.length === 0) {
      const base = manifest.newBase(this.server.config.aofUseRdbPreamble);
      this.server.log.notice(`Creating AOF base file ${base.name} on server start`);
      this.writeBase(base);
    }
    let incr = manifest.incrs[manifest.incrs.length - 1];
    if (incr === undefined) {
      incr = manifest.newIncr();
      this.server.log.notice(`Creating AOF incr file ${incr.name} on server start`);
    } else {
      this.server.log.notice(`Opening AOF incr file ${incr.name} on server start`);
    }
    manifest.persist();
    this.openIncr(incr);
    // History files a crash left behind go now, as Redis's start-up aofDelHistoryFiles.
    this.deleteHistory();
  }

  /**
   * CONFIG SET appendonly yes (Redis's startAppendOnly, state AOF_WAIT_REWRITE): until the
   * background rewrite that follows has written the base, commands go to a temporary incr
   * file outside the manifest, which the rewrite then renames into it (adoptTempIncr).
   */
  openWaitingForRewrite(): void {
    const manifest = this.manifest;
    mkdirSync(manifest.dir, { recursive: true });
    if (manifest.exists()) manifest.load();
    this.fd = openSync(this.tempIncrPath, "w");
    this.incrSizeBytes = 0;
    this.enc.selectedDb = -1;
    this.lastFsyncMs = Date.now();
    this.waitingForRewrite = true;
    this.forgetWriteErrors();
  }

  /** Redis's getTempIncrAofName: `temp-<appendfilename>.incr` in the AOF directory. */
  private get tempIncrPath(): string {
    return join(this.manifest.dir, this.tempIncrName);
  }

  get tempIncrName(): string {
    return `temp-${this.server.config.appendfilename}.incr`;
  }

  /**
   * The rewrite's base is in place: the temporary incr file becomes the manifest's next incr
   * file (the open descriptor follows the rename). Returns its entry.
   */
  adoptTempIncr(): AofFileInfo {
    const incr = this.manifest.newIncr();
    renameSync(this.tempIncrPath, this.manifest.path(incr));
    this.waitingForRewrite = false;
    return incr;
  }

  /** CONFIG SET appendonly no before the first rewrite finished: the temporary file goes. */
  private dropTempIncr(): void {
    if (!this.waitingForRewrite) return;
    rmSync(this.tempIncrPath, { force: true });
    this.waitingForRewrite = false;
  }

  /** Turning the AOF on again clears the errors of its last run (startAppendOnly). */
  private forgetWriteErrors(): void {
    const status = this.status;
    if (!status.lastFsyncOk) {
      this.server.log.warning("AOF reopen, just ignore the AOF fsync error in bio job");
      status.lastFsyncOk = true;
    }
    if (!status.lastWriteOk) {
      this.server.log.warning("AOF reopen, just ignore the last error.");
      status.lastWriteOk = true;
    }
  }

  /** The dataset as the base file `base` names: RDB with aof-use-rdb-preamble, else commands. */
  private writeBase(base: AofFileInfo): void {
    const path = this.manifest.path(base);
    if (base.name.endsWith(RDB_FORMAT_SUFFIX)) writeRdbBase(this.server, path);
    else writeCommandBase(this.server, path);
  }

  /** Shutdown's first step: everything written and synced, the file still open (the final save may fail). */
  sync(): void {
    this.write(true);
    if (this.fd < 0) return;
    try {
      fsyncSync(this.fd);
    } catch (e) {
      this.server.log.warning(`Fail to fsync the AOF file: ${strerror(errnoOf(e))}.`);
    }
  }

  /** CONFIG SET appendonly no and shutdown: everything written and synced, the file closed. */
  stop(): void {
    this.write(true);
    if (this.fd >= 0) {
      try {
        fsyncSync(this.fd);
      } catch (e) {
        this.server.log.warning(`Fail to fsync the AOF file: ${strerror(errnoOf(e))}`);
      }
      closeSync(this.fd);
    }
    this.fd = -1;
    this.dropTempIncr();
  }

  /**
   * A background rewrite begins (Redis's openNewIncrAofForAppend): what is buffered goes to
   * the current incr file, and from now on commands go to a new one, listed in the manifest
   * at once, so that a crash during the rewrite still loads everything.
   */
  openNewIncrForRewrite(): AofFileInfo {
    this.write(true);
    // The old file is synced and closed off the event loop, as Redis's bio close job.
    const oldFd = this.fd;
    if (oldFd >= 0) fsync(oldFd, () => close(oldFd, () => {}));
    const incr = this.manifest.newIncr();
    this.manifest.persist();
    this.openIncr(incr);
    this.server.log.notice(`Creating AOF incr file ${incr.name} on background rewrite`);
    return incr;
  }

  /** The open incr file's size so far (aof_current_size counts it after a rewrite). */
  get incrBytes(): number {
    return this.incrSizeBytes;
  }

  private openIncr(incr: AofFileInfo): void {
    this.fd = openSync(this.manifest.path(incr), "a");
    this.incrSizeBytes = fstatSync(this.fd).size;
    this.enc.selectedDb = -1;
    this.lastFsyncMs = Date.now();
  }

  /**
   * History files are covered by the base: remove them and their manifest lines
   * (aofDelHistoryFiles). Public for the rewrite, which makes history files.
   */
  deleteHistory(): void {
    deleteHistoryFiles(this.server, this.manifest);
  }

  // -------------------------------------------------------------------------------------
  // The propagation sink
  // -------------------------------------------------------------------------------------

  feedArgv(dbId: number, argv: Argv): void {
    if (this.server.config.aofTimestampEnabled) this.timestamp();
    this.enc.argv(dbId, argv);
  }

  feedArgs(dbId: number, args: readonly PropArg[]): void {
    if (this.server.config.aofTimestampEnabled) this.timestamp();
    this.enc.args(dbId, args);
  }

  /**
   * With aof-timestamp-enabled, the first command of each new second is preceded by a
   * `#TS:<unix seconds>` line (genAofTimestampAnnotationIfNeeded); loaders skip `#` lines.
   */
  private timestamp(): void {
    const status = this.status;
    const nowSec = Math.floor(this.server.clock.nowMs / 1000);
    if (nowSec <= status.timestampSec) return;
    status.timestampSec = nowSec;
    this.enc.latin1(`#TS:${nowSec}\r\n`);
  }

  // -------------------------------------------------------------------------------------
  // Writing and syncing (Redis's flushAppendOnlyFile)
  // -------------------------------------------------------------------------------------

  /**
   * Write what the batch propagated; the server calls this before sending its replies.
   * After a failed write the commands stay buffered and each call retries them.
   */
  write(force = false): void {
    const len = this.enc.length;
    if (len === 0 || this.fd < 0) return;
    if (!force && this.fsyncInFlight && this.server.config.appendfsync === "everysec" && this.postponeWrite()) return;
    this.postponedSinceSec = 0;
    const startedMs = performance.now();
    const written = this.writeBuffer(len);
    this.server.latencyMonitor.addAofWrite(startedMs, this.fsyncInFlight);
    if (written < len) return this.writeFailed(written, len);
    if (!this.status.lastWriteOk) {
      this.server.log.warning("AOF write error looks solved, Redis can write again.");
      this.status.lastWriteOk = true;
    }
    this.appended(len);
    this.enc.length = 0;
    // Give back a buffer a huge batch grew, as Redis frees a large aof_buf.
    if (this.enc.bytes.length > 4 * INITIAL_BUFFER_BYTES * 64) this.enc.bytes = new Uint8Array(INITIAL_BUFFER_BYTES);
    const mode = this.server.config.appendfsync;
    if (mode === "always") return this.syncAlways();
    this.unsynced = true;
    if (mode === "everysec") this.syncIfDue();
  }

  /**
   * `everysec` with a background fsync still running: a write now would wait for it, so
   * keep the commands buffered, for up to two seconds, as Redis's flushAppendOnlyFile does
   * (the cron retries). Returns false once the wait is over and the write must go ahead.
   */
  private postponeWrite(): boolean {
    const nowSec = Math.floor(Date.now() / 1000);
    if (this.postponedSinceSec === 0) {
      this.postponedSinceSec = nowSec;
      return true;
    }
    if (nowSec - this.postponedSinceSec < 2) return true;
    this.status.delayedFsyncs++;
    this.server.log.notice(
      "Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for fsync to complete, this may slow down Redis.",
    );
    return false;
  }

  /** Bytes of the buffer's first len that reached the file; the error, if any, in writeErrno. */
  private writeBuffer(len: number): number {
    let done = 0;
    this.writeErrno = "";
    while (done < len) {
      try {
        done += writeSync(this.fd, this.enc.bytes, done, len - done);
      } catch (e) {
        this.writeErrno = errnoOf(e);
        break;
      }
    }
    return done;
  }

  /** Bytes that reached the incr file. */
  private appended(bytes: number): void {
    this.incrSizeBytes += bytes;
    this.status.currentSizeBytes += bytes;
  }

  /**
   * A write that stopped short (flushAppendOnlyFile's error path): log it at most every
   * WRITE_ERROR_LOG_INTERVAL_SEC, cut a torn command back off the file, and keep what was
   * not written for the next try; with `appendfsync always` exit instead.
   */
  private writeFailed(written: number, len: number): void {
    const status = this.status;
    const log = this.server.log;
    const nowSec = Math.floor(Date.now() / 1000);
    const canLog = nowSec - status.lastWriteErrorLogSec > WRITE_ERROR_LOG_INTERVAL_SEC;
    if (canLog) status.lastWriteErrorLogSec = nowSec;
    if (written === 0) {
      if (canLog) log.warning(`Error writing to the AOF file: ${strerror(this.writeErrno)}`);
      status.lastWriteErrno = this.writeErrno;
    } else {
      if (canLog) log.warning(`Short write while writing to the AOF file: (nwritten=${written}, expected=${len})`);
      written = this.cutShortWrite(written, canLog);
      // Redis reports a short write as a full disk, whatever stopped it.
      status.lastWriteErrno = "ENOSPC";
    }
    if (this.server.config.appendfsync === "always") {
      log.warning("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
      return stopFatally(this.server);
    }
    status.lastWriteOk = false;
    if (written > 0) {
      // The part that stayed in the file leaves the buffer, so that it is not written twice.
      this.appended(written);
      this.enc.bytes.copyWithin(0, written, this.enc.length);
      this.enc.length -= written;
    }
  }

  /** Truncate a torn write back to the last whole command: 0 bytes written when that works. */
  private cutShortWrite(written: number, canLog: boolean): number {
    try {
      ftruncateSync(this.fd, this.incrSizeBytes);
      return 0;
    } catch (e) {
      if (canLog) {
        this.server.log.warning(
          `Could not remove short write from the append-only file.  Redis may refuse to load the AOF the next time it starts.  ftruncate: ${strerror(errnoOf(e))}`,
        );
      }
      return written;
    }
  }

  /** `appendfsync always`: the data is on disk before any reply, or the server stops. */
  private syncAlways(): void {
    const startedMs = performance.now();
    try {
      fsyncSync(this.fd);
    } catch (e) {
      this.server.log.warning(`Can't persist AOF for fsync error when the AOF fsync policy is 'always': ${strerror(errnoOf(e))}. Exiting...`);
      return stopFatally(this.server);
    }
    this.server.latencyMonitor.addSince("aof-fsync-always", startedMs);
    this.lastFsyncMs = Date.now();
  }

  /** The cron's share: the everysec sync even when nothing new arrives. */
  cron(): void {
    this.write();
    if (this.server.config.appendfsync === "everysec") this.syncIfDue();
  }

  /** Start a background fsync when a second passed since the last one and there is something to sync. */
  private syncIfDue(): void {
    if (!this.unsynced || this.fsyncInFlight || this.fd < 0) return;
    const now = Date.now();
    if (now - this.lastFsyncMs < FSYNC_EVERYSEC_MS) return;
    this.fsyncInFlight = true;
    this.unsynced = false;
    this.lastFsyncMs = now;
    fsync(this.fd, this.fsyncDone);
  }

  /**
   * A background fsync ended (bio.c's BIO_AOF_FSYNC job): a failure refuses writes until an
   * fsync succeeds again; EBADF and EINVAL only mean the file was closed or cannot be synced.
   */
  private readonly fsyncDone = (err: NodeJS.ErrnoException | null): void => {
    this.fsyncInFlight = false;
    const status = this.status;
    const code = err?.code ?? "";
    if (err === null || code === "EBADF" || code === "EINVAL") {
      status.lastFsyncOk = true;
      return;
    }
    if (status.lastFsyncOk) this.server.log.warning(`Fail to fsync the AOF file: ${strerror(code)}`);
    status.lastFsyncOk = false;
    status.lastWriteErrno = code;
  };
}

/** The errno code ("ENOSPC") of a failed fs call. */
export function errnoOf(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? "EIO";
}

/** glibc's strerror() text for the errors a file write or sync can meet. */
const STRERROR: Readonly<Record<string, string>> = {
  ENOSPC: "No space left on device",
  EFBIG: "File too large",
  EIO: "Input/output error",
  EDQUOT: "Disk quota exceeded",
  EROFS: "Read-only file system",
  EBADF: "Bad file descriptor",
  EINVAL: "Invalid argument",
  EACCES: "Permission denied",
  EPERM: "Operation not permitted",
  EAGAIN: "Resource temporarily unavailable",
  EINTR: "Interrupted system call",
  ENOENT: "No such file or directory",
  EPIPE: "Broken pipe",
  ENXIO: "No such device or address",
  ENODEV: "No such device",
};

export function strerror(code: string): string {
  return STRERROR[code] ?? `Unknown error ${code}`;
}
