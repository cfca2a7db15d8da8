/**
 * BGREWRITEAOF (Redis's rewriteAppendOnlyFileBackground and backgroundRewriteDoneHandler):
 * a new base file written in slices from a snapshot (bgsave.ts), while the commands that
 * arrive meanwhile go to a new incr file opened when the rewrite starts. Once the base is
 * synced it is renamed into place and the manifest lists the new base and that incr file
 * only; the old files become history and are removed.
 */

import { mkdirSync, openSync, renameSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Server } from "../server/server.ts";
import { BackgroundJob } from "./bgsave.ts";
import { CommandBaseWriter } from "./aof-rewrite.ts";
import { RdbWriter, closeQuietly, unlinkQuietly } from "./rdb.ts";
import { type AofFileInfo, type AofManifest } from "./aof-manifest.ts";
import { aofManifestFor, aofStatus, deleteHistoryFiles } from "./aof.ts";

export class BackgroundRewrite extends BackgroundJob {
  /**
   * Starts a rewrite, or returns null after logging why it cannot. With the AOF on, new
   * commands go to a fresh incr file from here on.
   */
  static start(server: Server): BackgroundRewrite | null {
    const aof = server.aof;
    const manifest = aof !== null ? aof.manifest : aofManifestFor(server);
    const status = aofStatus(server);
    const temp = join(manifest.dir, `temp-rewriteaof-bg-${process.pid}.aof`);
    let fd: number;
    try {
      mkdirSync(manifest.dir, { recursive: true });
      if (aof === null && manifest.exists()) manifest.load();
      fd = openSync(temp, "w");
    } catch (e) {
      server.log.warning(`Error opening the temporary AOF file for the rewrite: ${(e as Error).message}`);
      // Redis marks the last rewrite failed but counts no rewrite: none started.
      status.lastRewriteOk = false;
      return null;
    }
    // Right after CONFIG SET appendonly yes, commands already go to the temporary incr file.
    const incr = aof !== null && !aof.waitingForRewrite ? aof.openNewIncrForRewrite() : null;
    status.rewriteStarted(Date.now());
    server.log.notice(`Background append only file rewriting started by pid ${process.pid}`);
    return new BackgroundRewrite(server, fd, temp, manifest, incr);
  }

  private readonly rdbBase: boolean;

  private constructor(
    server: Server,
    fd: number,
    temp: string,
    private readonly manifest: AofManifest,
    /** The incr file commands go to during the rewrite; null with the AOF off. */
    private readonly incr: AofFileInfo | null,
  ) {
    const rdbBase = server.config.aofUseRdbPreamble;
    super(server, fd, temp, rdbBase ? new RdbWriter(server, fd, { aofBase: true }) : new CommandBaseWriter(server, fd));
    this.rdbBase = rdbBase;
  }

  protected commit(): void {
    const server = this.server;
    const manifest = this.manifest;
    server.log.notice("Background AOF rewrite terminated with success");
    const base = manifest.newBase(this.rdbBase);
    try {
      renameSync(this.temp, manifest.path(base));
    } catch (e) {
      server.log.warning(`Error trying to rename the temporary AOF base file ${this.tempName} into ${base.name}: ${(e as Error).message}`);
      unlinkQuietly(Buffer.from(this.temp as string));
      return this.end(false);
    }
    server.log.notice(`Successfully renamed the temporary AOF base file ${this.tempName} into ${base.name}`);
    let incr = this.incr;
    const aof = server.aof;
    if (aof !== null && aof.waitingForRewrite) {
      incr = aof.adoptTempIncr();
      server.log.notice(`Successfully renamed the temporary AOF incr file ${aof.tempIncrName} into ${incr.name}`);
    }
    // Everything before the rewrite's own incr file is in the new base now; with the AOF
    // off there is no incr file at all.
    if (incr !== null) manifest.retireIncrsBefore(incr);
    else manifest.retireAllIncrs();
    manifest.persist();
    deleteHistoryFiles(server, manifest);
    const incrBytes = server.aof !== null ? server.aof.incrBytes : 0;
    aofStatus(server).rewriteFinished(true, Date.now(), statSync(manifest.path(base)).size, incrBytes);
    server.log.notice("Background AOF rewrite finished successfully");
    this.finish();
  }

  private get tempName(): string {
    return `temp-rewriteaof-bg-${process.pid}.aof`;
  }

  protected failed(e: unknown): void {
    this.server.log.warning(`Error writing the AOF rewrite: ${(e as Error).message}`);
    closeQuietly(this.fd);
    unlinkQuietly(Buffer.from(this.temp as string));
    this.end(false);
  }

  protected aborted(): void {
    this.server.log.warning("Background AOF rewrite terminated by signal 10");
    aofStatus(this.server).rewriteFinished(false, Date.now(), 0, 0);
    this.finish();
  }

  private end(ok: boolean): void {
    this.ended = true;
    if (!ok) {
      this.server.log.warning("Background AOF rewrite terminated with error");
      const status = aofStatus(this.server);
      status.rewriteFinished(false, Date.now(), 0, 0);
      // An AOF just turned on has no base yet: the cron tries again.
      if (this.server.aof?.waitingForRewrite === true) status.rewriteScheduled = true;
    }
    this.finish();
  }

  private finish(): void {
    if (this.server.aofRewrite === this) this.server.aofRewrite = null;
  }
}

/**
 * The cron's part (serverCron): a rewrite BGREWRITEAOF scheduled behind a BGSAVE starts once
 * the save is over, and with the AOF on, one starts by itself once the file has grown by
 * auto-aof-rewrite-percentage over its size after the last rewrite (and is at least
 * auto-aof-rewrite-min-size).
 */
export function rewriteCron(server: Server): void {
  if (server.rdb.bgsave !== null || server.aofRewrite !== null) return;
  const status = aofStatus(server);
  if (status.rewriteScheduled) {
    server.aofRewrite = BackgroundRewrite.start(server);
    return;
  }
  const percent = server.config.autoAofRewritePercentage;
  if (server.aof === null || percent === 0 || status.currentSizeBytes <= server.config.autoAofRewriteMinSize) return;
  const base = status.baseSizeBytes > 0 ? status.baseSizeBytes : 1;
  const growth = Math.floor((status.currentSizeBytes * 100) / base) - 100;
  if (growth >= percent) {
    server.log.notice(`Starting automatic rewriting of AOF on ${growth}% growth`);
    server.aofRewrite = BackgroundRewrite.start(server);
  }
}
