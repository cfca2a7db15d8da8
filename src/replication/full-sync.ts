// Full resynchronization, master side (Redis 7.0's syncCommand, startBgsaveForReplication,
// updateSlavesWaitingBgsave and sendBulkToSlave): a replica that cannot continue from the
// backlog gets an RDB made in the background, without blocking the event loop.
//
// The point in time is the start of the save: +FULLRESYNC carries the offset of that
// moment, and every stream byte after it is kept for the replica (a PendingStream) and
// delivered right after the RDB, so that the replica applies each command exactly once.
//
// Two targets, as in Redis:
// - Diskless (repl-diskless-sync yes, replicas with capa eof): the RDB goes to the replicas'
//   sockets as it is written, framed `$EOF:<40 hex>\r\n` ... `<the same 40 hex>`. The save
//   waits repl-diskless-sync-delay seconds for more replicas to share it. Since the replica
//   cannot tell where such an RDB ends, the stream starts with its first REPLCONF ACK.
// - Disk: a BGSAVE writes dump.rdb, then each replica gets `$<len>\r\n` and the file. A
//   replica that comes while such a save runs shares it when the save was started for
//   replicas (their kept stream starts where it began); else it waits for the next one.
//
// Replicas that come while a save runs they cannot share wait for the next one, started as
// soon as no background job runs. Those waiting get a newline every second, which a
// replica takes as a sign of life, so that they do not time out.

import { fstatSync, openSync, read } from "node:fs";
import type { Client } from "../server/client.ts";
import { randomHex, type Server } from "../server/server.ts";
import { BackgroundSave, SlicedJob } from "../persistence/bgsave.ts";
import { RdbWriter, closeQuietly, rdbPath } from "../persistence/rdb.ts";
import { unixSecondsBetween } from "../util/timer.ts";
import { ReplicaState, type ReplicationMaster } from "./master.ts";

/** Redis's CONFIG_RUN_ID_SIZE: the length of the EOF mark of a diskless transfer. */
const EOF_MARK_LENGTH = 40;
/**
 * Output a replica may have unsent before a diskless save waits for it: the save goes at
 * the pace of the slowest replica, as Redis's child waits on its pipe.
 */
const SOCKET_HIGH_WATER_BYTES = 4 * 1024 * 1024;
/** Bytes of the RDB file read and queued per step of a disk-based transfer (sendBulkToSlave). */
const BULK_READ_BYTES = 256 * 1024;
/** How long a disk-based transfer waits for a slow replica's output to drain. */
const BULK_WAIT_MS = 1;
/** Redis's replicationCron period: newlines to waiting replicas, the diskless delay check. */
const CRON_MS = 1000;
const NEWLINE = new Uint8Array([10]);
const INITIAL_PENDING_BYTES = 16 * 1024;

/**
 * The stream from a save's point in time on, kept for the replicas of that save until each
 * can take it (Redis 7.0 shares one replication buffer between them as well).
 */
export class PendingStream {
  private buf = new Uint8Array(INITIAL_PENDING_BYTES);
  length = 0;
  /** The replicas still owed these bytes. */
  readonly replicas: Client[] = [];

  constructor(
    /** master_repl_offset at the point in time: the +FULLRESYNC offset. */
    readonly startOffset: number,
  ) {}

  append(bytes: Uint8Array): void {
    if (this.length + bytes.length > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < this.length + bytes.length) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.buf.subarray(0, this.length));
      this.buf = grown;
    }
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/** What a full sync under way writes the RDB with. */
type Transfer = SocketTransfer | DiskTransfer;

export class FullSync {
  /** Replicas waiting for the next save to start (SLAVE_STATE_WAIT_BGSAVE_START), oldest first. */
  private readonly waiting: Client[] = [];
  /** When the oldest waiting replica came (repl-diskless-sync-delay counts from there). */
  private waitingSinceMs = 0;
  private transfer: Transfer | null = null;
  /** Streams kept for replicas that do not follow the stream yet. */
  private readonly pendings: PendingStream[] = [];
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly server: Server,
    private readonly master: ReplicationMaster,
  ) {}

  /** Whether some replica is owed the stream: the master hands it every byte then. */
  get keeping(): boolean {
    return this.pendings.length > 0;
  }

  /** Stream bytes for the replicas still syncing, which count in their output buffers. */
  keep(bytes: Uint8Array): void {
    for (const pending of this.pendings) {
      pending.append(bytes);
      for (const c of pending.replicas) this.server.outputLimits.afterQueued(c);
    }
  }

  /** Redis's syncCommand after a failed partial resync: c is a replica that needs an RDB. */
  request(c: Client): void {
    const link = c.replica!;
    const log = this.server.log;
    const transfer = this.transfer;
    if (transfer instanceof DiskTransfer && this.server.rdb.bgsave === transfer.save && transfer.targets.length > 0) {
      // The save's replicas keep the stream from its start: this one can share it.
      this.setUpForFullResync(c, transfer.pending);
      transfer.targets.push(c);
      log.notice("Waiting for end of BGSAVE for SYNC");
      return;
    }
    link.state = ReplicaState.WaitBgsaveStart;
    if (this.waiting.length === 0) this.waitingSinceMs = Date.now();
    this.waiting.push(c);
    this.startCron();
    if (transfer instanceof SocketTransfer) {
      log.notice("Current BGSAVE has socket target. Waiting for next BGSAVE for SYNC");
    } else if (this.server.rdb.bgsave !== null) {
      log.notice("Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC");
    } else if (this.server.config.replDisklessSync && link.capaEof && this.server.config.replDisklessSyncDelay > 0) {
      log.notice("Delay next BGSAVE for diskless SYNC");
    } else if (this.server.aofRewrite !== null) {
      log.notice("No BGSAVE in progress, but another BG operation is active. BGSAVE for replication delayed");
    } else {
      this.startTransfer();
    }
  }

  /**
   * Redis's replicationStartPendingFork: once no background job runs, the waiting replicas
   * get a save, a diskless one after the delay unless max-replicas of them already wait.
   */
  startPending(): void {
    if (this.waiting.length === 0 || this.server.rdb.bgsave !== null || this.server.aofRewrite !== null) return;
    const config = this.server.config;
    const waitedMs = Date.now() - this.waitingSinceMs;
    const enough = config.replDisklessSyncMaxReplicas > 0 && this.waiting.length >= config.replDisklessSyncMaxReplicas;
    if (config.replDisklessSync && !enough && waitedMs < config.replDisklessSyncDelay * 1000) return;
    this.startTransfer();
  }

  /** Redis's startBgsaveForReplication: one save for every waiting replica. */
  private startTransfer(): void {
    const targets = this.waiting.splice(0);
    const socket = this.server.config.replDisklessSync && targets.every((c) => c.replica!.capaEof);
    this.server.log.notice(`Starting BGSAVE for SYNC with target: ${socket ? "replicas sockets" : "disk"}`);
    const pending = new PendingStream(this.master.offset);
    if (socket) {
      for (const c of targets) this.setUpForFullResync(c, pending);
      this.transfer = SocketTransfer.start(this.server, this, targets);
      return;
    }
    const save = BackgroundSave.start(this.server);
    if (save === null) return this.saveFailedToStart(targets);
    this.server.rdb.bgsave = save;
    this.server.rdb.lastBgsaveTryMs = Date.now();
    for (const c of targets) this.setUpForFullResync(c, pending);
    const transfer = new DiskTransfer(save, pending, targets);
    this.transfer = transfer;
    save.whenDone((ok) => this.diskSaveDone(transfer, ok));
  }

  /** The save could not begin: the replicas are told and closed, as in Redis. */
  private saveFailedToStart(targets: Client[]): void {
    this.server.log.warning("BGSAVE for replication failed");
    const error = Buffer.from("-ERR BGSAVE failed, replication can't continue\r\n", "latin1");
    for (const c of targets) {
      this.server.deliver(c, error);
      c.closeAfterReply = true;
    }
  }

  /**
   * Redis's replicationSetupSlaveForFullResync: the point in time is now. The replica learns
   * the offset (PSYNC only) and is owed the stream from here on.
   */
  private setUpForFullResync(c: Client, pending: PendingStream): void {
    const link = c.replica!;
    link.state = ReplicaState.WaitBgsaveEnd;
    link.pending = pending;
    if (pending.replicas.length === 0) {
      this.pendings.push(pending);
      this.master.forceSelect();
    }
    pending.replicas.push(c);
    if (link.psync) this.server.deliver(c, Buffer.from(`+FULLRESYNC ${this.master.replId} ${pending.startOffset}\r\n`, "latin1"));
  }

  /** The RDB reached c: it is online (Redis's replicaPutOnline). */
  putOnline(c: Client): void {
    const link = c.replica!;
    link.state = ReplicaState.Online;
    link.ackMs = Date.now();
    this.server.log.notice(`Synchronization with replica ${this.master.replicaName(c)} succeeded`);
  }

  /** c follows the stream from now on, after what was kept for it (replicaStartCommandStream). */
  startStream(c: Client): void {
    const link = c.replica!;
    link.streamOnAck = false;
    const pending = link.pending;
    if (pending !== null) {
      if (pending.length > 0) this.server.deliver(c, pending.bytes());
      this.release(c, pending);
    }
    this.master.follow(c);
  }

  /** c no longer needs `pending`; the last replica of it lets it go. */
  private release(c: Client, pending: PendingStream): void {
    c.replica!.pending = null;
    const at = pending.replicas.indexOf(c);
    if (at >= 0) pending.replicas.splice(at, 1);
    if (pending.replicas.length === 0) {
      const index = this.pendings.indexOf(pending);
      if (index >= 0) this.pendings.splice(index, 1);
    }
  }

  /** A replica's connection closed, whatever it was waiting for. */
  removed(c: Client): void {
    const link = c.replica!;
    const at = this.waiting.indexOf(c);
    if (at >= 0) this.waiting.splice(at, 1);
    if (link.pending !== null) this.release(c, link.pending);
    const transfer = this.transfer;
    if (transfer === null) return;
    const target = transfer.targets.indexOf(c);
    if (target < 0) return;
    transfer.targets.splice(target, 1);
    if (transfer instanceof SocketTransfer && transfer.targets.length === 0) transfer.lastTargetLost();
  }

  /** A diskless transfer is over, with the RDB sent to these replicas, or it failed. */
  socketTransferDone(targets: readonly Client[], ok: boolean): void {
    this.transfer = null;
    if (ok) {
      for (const c of targets) {
        this.server.log.notice(
          `Streamed RDB transfer with replica ${this.master.replicaName(c)} succeeded (socket). Waiting for REPLCONF ACK from slave to enable streaming`,
        );
        this.putOnline(c);
        c.replica!.streamOnAck = true;
      }
    } else {
      for (const c of targets.slice()) this.server.closeClient(c);
    }
    this.startPending();
  }

  /** Redis's updateSlavesWaitingBgsave for a disk target: each replica gets the file. */
  private diskSaveDone(transfer: DiskTransfer, ok: boolean): void {
    if (this.transfer === transfer) this.transfer = null;
    for (const c of transfer.targets.slice()) {
      if (!ok) {
        this.server.log.warning("SYNC failed. BGSAVE child returned an error");
        this.server.closeClient(c);
        continue;
      }
      const sender = BulkSender.open(this.server, this, c);
      if (sender === null) {
        this.server.log.warning("SYNC failed. Can't open/stat DB after BGSAVE");
        this.server.closeClient(c);
      }
    }
    this.startPending();
  }

  private startCron(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(this.cron, CRON_MS);
    this.timer.unref?.();
  }

  /**
   * Every second, as Redis's replicationCron: a newline to the replicas waiting for their
   * RDB to begin (the replica takes it as a ping), stalled diskless replicas dropped, and a
   * save for those that waited enough.
   */
  private readonly cron = (): void => {
    const disk = this.transfer instanceof DiskTransfer ? this.transfer : null;
    for (const c of this.waiting) this.server.deliver(c, NEWLINE);
    if (disk !== null) for (const c of disk.targets) if (c.replica!.state === ReplicaState.WaitBgsaveEnd) this.server.deliver(c, NEWLINE);
    if (this.transfer instanceof SocketTransfer) this.transfer.dropStalled(Date.now());
    this.startPending();
    if (this.waiting.length === 0 && this.transfer === null && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  };
}

/** A disk-based full sync: the replicas wait for `save`, then get the file each. */
class DiskTransfer {
  constructor(
    readonly save: BackgroundSave,
    readonly pending: PendingStream,
    readonly targets: Client[],
  ) {}
}

/**
 * The diskless save (Redis's rdbSaveToSlavesSockets): the RDB written a slice per turn from
 * a snapshot, each slice's bytes queued to every replica of the transfer at once.
 */
class SocketTransfer extends SlicedJob {
  static start(server: Server, sync: FullSync, targets: Client[]): SocketTransfer {
    const chunks: Uint8Array[] = [];
    const writer = new RdbWriter(server, chunks);
    // The header now: its repl-offset is the point in time, as Redis fills it before forking.
    writer.writeSome(1);
    const transfer = new SocketTransfer(server, sync, targets, writer, chunks);
    server.rdb.bgsave = transfer;
    server.rdb.lastBgsaveTryMs = Date.now();
    server.log.notice(`Background RDB transfer started by pid ${process.pid}`);
    return transfer;
  }

  private readonly eofMark = Buffer.from(randomHex(EOF_MARK_LENGTH), "latin1");
  /** Since when a replica's full output has held the transfer back, 0 while it goes on. */
  private heldSinceMs = 0;

  private constructor(
    server: Server,
    private readonly sync: FullSync,
    readonly targets: Client[],
    writer: RdbWriter,
    /** What the writer produced since the last slice left. */
    private readonly chunks: Uint8Array[],
  ) {
    super(server, writer);
    const header = Buffer.from(`$EOF:${this.eofMark.toString("latin1")}\r\n`, "latin1");
    for (const c of targets) server.deliver(c, header);
  }

  protected override outputReady(): boolean {
    for (const c of this.targets) {
      if (c.pendingLen > SOCKET_HIGH_WATER_BYTES) {
        if (this.heldSinceMs === 0) this.heldSinceMs = Date.now();
        return false;
      }
    }
    this.heldSinceMs = 0;
    return true;
  }

  /**
   * From the cron: a replica that has held the transfer back for repl-timeout seconds is
   * dropped, so that the others (and the next saves) go on, as Redis's replicationCron does.
   */
  dropStalled(nowMs: number): void {
    if (this.heldSinceMs === 0 || nowMs - this.heldSinceMs <= this.server.config.replTimeout * 1000) return;
    for (const c of this.targets.slice()) {
      if (c.pendingLen <= SOCKET_HIGH_WATER_BYTES) continue;
      this.server.log.warning(`Disconnecting timedout replica (streaming sync): ${this.server.replication.replicaName(c)}`);
      this.server.closeClient(c);
    }
  }

  protected override sliceWritten(): void {
    for (const chunk of this.chunks) for (const c of this.targets) this.server.deliver(c, chunk);
    this.chunks.length = 0;
  }

  protected override allWritten(): void {
    for (const c of this.targets) this.server.deliver(c, this.eofMark);
    this.server.log.warning(`Diskless rdb transfer, done reading from pipe, ${this.targets.length} replicas still up.`);
    this.server.log.notice("Background RDB transfer terminated with success");
    this.end(true);
  }

  protected override discardOutput(): void {
    this.chunks.length = 0;
  }

  protected override failed(e: unknown): void {
    this.server.log.warning(`Background transfer error: ${(e as Error).message}`);
    this.end(false);
  }

  protected override aborted(): void {
    this.server.log.warning("Background transfer terminated by signal 10");
    this.end(false);
  }

  /** Every replica of the transfer went: the save has no one to write for (rdbPipeReadHandler). */
  lastTargetLost(): void {
    this.server.log.warning("Diskless rdb transfer, last replica dropped, killing fork child.");
    this.abort();
  }

  private end(ok: boolean): void {
    this.ended = true;
    const state = this.server.rdb;
    state.lastBgsaveTimeSec = unixSecondsBetween(this.startedMs, Date.now());
    if (state.bgsave === this) state.bgsave = null;
    this.sync.socketTransferDone(this.targets, ok);
  }
}

/**
 * A disk-based transfer to one replica (Redis's sendBulkToSlave): `$<len>\r\n`, then the
 * file a step at a time, each step once the replica's output has room; then the replica
 * is online and gets the stream kept for it.
 */
class BulkSender {
  static open(server: Server, sync: FullSync, c: Client): BulkSender | null {
    let fd: number;
    try {
      fd = openSync(rdbPath(server), "r");
    } catch {
      return null;
    }
    const size = fstatSync(fd).size;
    c.replica!.state = ReplicaState.SendBulk;
    server.deliver(c, Buffer.from(`$${size}\r\n`, "latin1"));
    const sender = new BulkSender(server, sync, c, fd, size);
    sender.step();
    return sender;
  }

  private readonly buf = Buffer.allocUnsafe(BULK_READ_BYTES);
  private position = 0;

  private constructor(
    private readonly server: Server,
    private readonly sync: FullSync,
    private readonly c: Client,
    private readonly fd: number,
    private readonly size: number,
  ) {}

  private readonly step = (): void => {
    const c = this.c;
    if (c.socket === null) return closeQuietly(this.fd);
    if (this.position >= this.size) return this.sent();
    if (c.pendingLen > SOCKET_HIGH_WATER_BYTES) {
      setTimeout(this.step, BULK_WAIT_MS);
      return;
    }
    read(this.fd, this.buf, 0, Math.min(BULK_READ_BYTES, this.size - this.position), this.position, this.afterRead);
  };

  private readonly afterRead = (err: NodeJS.ErrnoException | null, n: number): void => {
    if (err !== null || n === 0) {
      this.server.log.warning(`Read error sending DB to replica: ${err === null ? "premature EOF" : err.message}`);
      closeQuietly(this.fd);
      this.server.closeClient(this.c);
      return;
    }
    if (this.c.socket !== null) this.server.deliver(this.c, this.buf.subarray(0, n));
    this.position += n;
    this.step();
  };

  private sent(): void {
    closeQuietly(this.fd);
    this.sync.putOnline(this.c);
    this.sync.startStream(this.c);
  }
}

