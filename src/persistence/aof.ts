// The append-only file (Redis 7's multi-part AOF, aof.c): a propagation sink that writes
// every propagated command in RESP to the current incr file of `appenddirname`, with a
// SELECT whenever the database changes, as feedAppendOnlyFile does.
//
// Commands gather in a buffer while a batch runs and reach the file before any reply of
// that batch is sent (Redis writes the AOF in beforeSleep, before replies go out): the
// server calls write() before it flushes replies. `appendfsync always` syncs there too;
// `everysec` syncs in the background about once a second; `no` leaves it to the kernel.

import { closeSync, fsync, fsyncSync, mkdirSync, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Argv } from "../resp/parser.ts";
import type { PropArg, PropagationSink } from "../server/propagate.ts";
import type { Server } from "../server/server.ts";
import { AofManifest, RDB_FORMAT_SUFFIX, type AofFileInfo } from "./aof-manifest.ts";
import { writeCommandBase, writeRdbBase } from "./aof-rewrite.ts";

/** How often `appendfsync everysec` syncs, in ms. */
const FSYNC_EVERYSEC_MS = 1000;
/** The command buffer's starting size; it grows with the largest batch. */
const INITIAL_BUFFER_BYTES = 16 * 1024;

const CRLF_CR = 13;
const CRLF_LF = 10;

/** The AOF directory's manifest for the server's configuration. */
export function aofManifestFor(server: Server): AofManifest {
  const config = server.config;
  return new AofManifest(join(config.dir, config.appenddirname), config.appendfilename);
}

export class Aof implements PropagationSink {
  private out = new Uint8Array(INITIAL_BUFFER_BYTES);
  private outLen = 0;
  /** The database the incr file's commands run in so far; -1 forces a SELECT first. */
  private selectedDb = -1;
  private fd = -1;
  private lastFsyncMs = 0;
  private fsyncInFlight = false;
  /** Bytes written since the last fsync started. */
  private unsynced = false;
  readonly manifest: AofManifest;

  constructor(private readonly server: Server) {
    this.manifest = aofManifestFor(server);
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
  }

  /**
   * CONFIG SET appendonly yes (Redis's startAppendOnly): rewrite the dataset into a new base
   * with a new incr file after it, synchronously for now, and retire the old files.
   */
  startWithRewrite(): void {
    const manifest = this.manifest;
    mkdirSync(manifest.dir, { recursive: true });
    if (manifest.exists()) manifest.load();
    const base = manifest.newBase(this.server.config.aofUseRdbPreamble);
    this.writeBase(base);
    const incr = manifest.newIncr();
    manifest.retireIncrsBefore(incr);
    manifest.persist();
    this.openIncr(incr);
    this.deleteHistory();
    this.server.log.notice("Background AOF rewrite finished successfully");
  }

  /** The dataset as the base file `base` names: RDB with aof-use-rdb-preamble, else commands. */
  private writeBase(base: AofFileInfo): void {
    const path = this.manifest.path(base);
    if (base.name.endsWith(RDB_FORMAT_SUFFIX)) writeRdbBase(this.server, path);
    else writeCommandBase(this.server, path);
  }

  /** CONFIG SET appendonly no and shutdown: everything written and synced, the file closed. */
  stop(): void {
    this.write();
    if (this.fd >= 0) {
      fsyncSync(this.fd);
      closeSync(this.fd);
    }
    this.fd = -1;
  }

  private openIncr(incr: AofFileInfo): void {
    this.fd = openSync(this.manifest.path(incr), "a");
    this.selectedDb = -1;
    this.lastFsyncMs = Date.now();
  }

  /** History files are covered by the base: remove them and their manifest lines (aofDelHistoryFiles). */
  private deleteHistory(): void {
    const manifest = this.manifest;
    if (manifest.history.length === 0) return;
    for (const f of manifest.history) {
      this.server.log.notice(`Removing the history file ${f.name} in the background`);
      rmSync(manifest.path(f), { force: true });
    }
    manifest.history = [];
    manifest.persist();
  }

  // -------------------------------------------------------------------------------------
  // The propagation sink
  // -------------------------------------------------------------------------------------

  feedArgv(dbId: number, argv: Argv): void {
    if (dbId !== this.selectedDb) this.select(dbId);
    const count = argv.count;
    this.header(0x2a /* '*' */, count);
    for (let i = 0; i < count; i++) this.bulk(argv.buf, argv.start[i]!, argv.len[i]!);
  }

  feedArgs(dbId: number, args: readonly PropArg[]): void {
    if (dbId !== this.selectedDb) this.select(dbId);
    this.header(0x2a /* '*' */, args.length);
    for (const arg of args) {
      if (typeof arg === "string") this.bulkLatin1(arg);
      else this.bulk(arg, 0, arg.length);
    }
  }

  /** Redis emits SELECT into the AOF whenever the next command's database differs. */
  private select(dbId: number): void {
    this.selectedDb = dbId;
    this.header(0x2a /* '*' */, 2);
    this.bulkLatin1("SELECT");
    this.bulkLatin1(String(dbId));
  }

  private header(prefix: number, n: number): void {
    const digits = String(n);
    this.reserve(digits.length + 3);
    const out = this.out;
    let at = this.outLen;
    out[at++] = prefix;
    for (let i = 0; i < digits.length; i++) out[at++] = digits.charCodeAt(i);
    out[at++] = CRLF_CR;
    out[at++] = CRLF_LF;
    this.outLen = at;
  }

  private bulk(buf: Uint8Array, start: number, len: number): void {
    this.header(0x24 /* '$' */, len);
    this.reserve(len + 2);
    this.out.set(buf.subarray(start, start + len), this.outLen);
    this.outLen += len;
    this.out[this.outLen++] = CRLF_CR;
    this.out[this.outLen++] = CRLF_LF;
  }

  private bulkLatin1(s: string): void {
    const len = s.length;
    this.header(0x24 /* '$' */, len);
    this.reserve(len + 2);
    const out = this.out;
    let at = this.outLen;
    for (let i = 0; i < len; i++) out[at++] = s.charCodeAt(i);
    out[at++] = CRLF_CR;
    out[at++] = CRLF_LF;
    this.outLen = at;
  }

  private reserve(n: number): void {
    if (this.outLen + n <= this.out.length) return;
    const bigger = new Uint8Array(Math.max(this.out.length * 2, this.outLen + n));
    bigger.set(this.out.subarray(0, this.outLen));
    this.out = bigger;
  }

  // -------------------------------------------------------------------------------------
  // Writing and syncing (Redis's flushAppendOnlyFile)
  // -------------------------------------------------------------------------------------

  /** Write what the batch propagated; the server calls this before sending its replies. */
  write(): void {
    const len = this.outLen;
    if (len === 0 || this.fd < 0) return;
    let done = 0;
    while (done < len) done += writeSync(this.fd, this.out, done, len - done);
    this.outLen = 0;
    // Give back a buffer a huge batch grew, as Redis frees a large aof_buf.
    if (this.out.length > 4 * INITIAL_BUFFER_BYTES * 64) this.out = new Uint8Array(INITIAL_BUFFER_BYTES);
    const mode = this.server.config.appendfsync;
    if (mode === "always") {
      fsyncSync(this.fd);
      this.lastFsyncMs = Date.now();
      return;
    }
    this.unsynced = true;
    if (mode === "everysec") this.syncIfDue();
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
    const fd = this.fd;
    fsync(fd, () => {
      this.fsyncInFlight = false;
    });
  }
}
