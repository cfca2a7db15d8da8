// This server as a master (Redis's replication.c, master side): the replicas attached to
// it, the full resynchronization that gives a new replica the dataset, and the
// replication stream that carries every propagated command to them afterwards.
//
// A full resync sends an RDB written in the background (full-sync.ts): the point in time is
// the start of that save, and the stream from then on is kept for the replica and sent
// after the RDB, in order. A replica that reconnects continues from the backlog if it can.

import type { Argv } from "../resp/parser.ts";
import type { ReplyWriter } from "../resp/writer.ts";
import type { Client } from "../server/client.ts";
import { ReplyMode } from "../server/client.ts";
import { Target, type PropArg, type PropagationSink } from "../server/propagate.ts";
import { randomHex, type Server } from "../server/server.ts";
import { CommandEncoder } from "../resp/command-encoder.ts";
import type { ReplSaveInfo } from "../persistence/rdb.ts";
import { FullSync, type PendingStream } from "./full-sync.ts";
import { ReplicationBacklog } from "./backlog.ts";
import { ReplicaWaits } from "./wait.ts";
import { CoordinatedFailover, FailoverState } from "./coordinated-failover.ts";

/** Where a replica's connection stands (Redis's replstate). */
export const enum ReplicaState {
  /** REPLCONF was seen, PSYNC or SYNC not yet: still an ordinary client. */
  Handshake,
  /** A full sync waits for the next RDB to start (SLAVE_STATE_WAIT_BGSAVE_START). */
  WaitBgsaveStart,
  /** +FULLRESYNC was sent; the RDB is being made, the stream kept (SLAVE_STATE_WAIT_BGSAVE_END). */
  WaitBgsaveEnd,
  /** The RDB file is being sent (SLAVE_STATE_SEND_BULK, disk-based sync only). */
  SendBulk,
  /** The RDB was sent; the replica follows the stream (SLAVE_STATE_ONLINE). */
  Online,
}

/** INFO replication's name of each state (Redis's replstateToString). */
const STATE_NAMES = ["handshake", "wait_bgsave", "wait_bgsave", "send_bulk", "online"] as const;

/** What the master knows of one replica connection (Redis keeps it in the client). */
export class ReplicaLink {
  state = ReplicaState.Handshake;
  /** REPLCONF listening-port: where the replica accepts connections (INFO slaveN port=). */
  listeningPort = 0;
  /** REPLCONF ip-address: the address the replica announces, "" to use the connection's. */
  ipAddress = "";
  /** REPLCONF capa: the replica reads an RDB framed with $EOF:, and understands +CONTINUE <id>. */
  capaEof = false;
  capaPsync2 = false;
  /** The offset of the last REPLCONF ACK, and when it came (INFO slaveN offset= and lag=). */
  ackOffset = 0;
  ackMs = 0;
  /** PSYNC rather than SYNC: the RDB is preceded by +FULLRESYNC (Redis's CLIENT_PRE_PSYNC unset). */
  psync = true;
  /** The stream kept for this replica while its RDB is made and sent, null once it follows it. */
  pending: PendingStream | null = null;
  /**
   * After a diskless transfer the replica cannot tell where the RDB ends and commands
   * begin: the stream starts with its first REPLCONF ACK (Redis's repl_start_cmd_stream_on_ack).
   */
  streamOnAck = false;

  /** Stream bytes held for the replica, which count in its output buffer. */
  get pendingBytes(): number {
    return this.pending === null ? 0 : this.pending.length;
  }
}

const PING: readonly PropArg[] = ["PING"];
const GETACK: readonly PropArg[] = ["REPLCONF", "GETACK", "*"];
const STREAM_INITIAL_BYTES = 16 * 1024;
/** Redis's replid2 while there is no previous history. */
const NO_REPLID = "0".repeat(40);

export class ReplicationMaster implements PropagationSink {
  readonly target = Target.Replicas;
  /** Replicas from their SYNC or PSYNC on, in the order they came (INFO slave0, slave1 ...). */
  readonly replicas: Client[] = [];
  /** The replicas the stream is delivered to as it comes: online, their RDB behind them. */
  private readonly following: Client[] = [];
  /** Full resynchronizations: the RDB made in the background, the stream kept meanwhile. */
  readonly fullSync: FullSync;
  /** The history this server's stream belongs to (INFO master_replid), its master's on a replica. */
  replId = randomHex(40);
  /**
   * The history before the last promotion (INFO master_replid2), and the first offset that
   * is not of it (second_repl_offset): replicas of the old master can continue up to there.
   */
  replId2 = NO_REPLID;
  secondReplOffset = -1;
  /** Offset of the stream's last byte (INFO master_repl_offset). */
  offset = 0;
  /** The stream's recent history, from the first replica on (null before, as Redis's). */
  backlog: ReplicationBacklog | null = null;
  /**
   * Set while this server is itself a replica: commands it runs are not fed to its
   * replicas, which get its master's stream as it came (feedFromUpstream) instead.
   */
  proxying = false;
  /** Clients in WAIT. */
  readonly waits: ReplicaWaits;
  /** FAILOVER: handing the master role to a replica. */
  readonly failover: CoordinatedFailover;
  /** Set while a REPLCONF GETACK is queued for the end of the turn. */
  private acksRequested = false;
  /** Full and partial resyncs served, and PSYNCs that could not continue (INFO sync_*). */
  syncFull = 0;
  syncPartialOk = 0;
  syncPartialErr = 0;
  /**
   * The stream, encoded once for every replica. Its selected database is the stream's, as
   * Redis's server.slaveseldb: the same for every replica.
   */
  private readonly stream = new CommandEncoder(STREAM_INITIAL_BYTES);
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  /** Seconds counted by the ping timer, to ping every repl-ping-replica-period of them. */
  private pingSeconds = 0;
  /** When the last replica went (repl-backlog-ttl frees the backlog of a master after that long). */
  private noReplicasSinceMs = Date.now();

  constructor(private readonly server: Server) {
    this.waits = new ReplicaWaits(server);
    this.failover = new CoordinatedFailover(server);
    this.fullSync = new FullSync(server, this);
  }

  /** The replica state of c, made on its first REPLCONF. */
  linkOf(c: Client): ReplicaLink {
    if (c.replica === null) c.replica = new ReplicaLink();
    return c.replica;
  }

  /** Whether c asked for SYNC or PSYNC (Redis's CLIENT_SLAVE), whether its RDB came yet or not. */
  isReplica(c: Client): boolean {
    return c.replica !== null && c.replica.state !== ReplicaState.Handshake;
  }

  /**
   * PSYNC replid offset: continue from the backlog when the replica's history is this
   * server's (or the one before its promotion, up to where they part) and the backlog still
   * holds everything from `offset` on. False when only a full resync can serve it.
   */
  tryPartialResync(c: Client, w: ReplyWriter, replId: string, offset: number): boolean {
    const address = this.replicaAddress(c, this.linkOf(c));
    if (replId !== this.replId && (replId !== this.replId2 || offset > this.secondReplOffset)) {
      if (replId !== "?") {
        const detail =
          replId !== this.replId2
            ? `Replication ID mismatch (Replica asked for '${replId}', my replication IDs are '${this.replId}' and '${this.replId2}')`
            : `Requested offset for second ID was ${offset}, but I can reply up to ${this.secondReplOffset}`;
        this.server.log.notice(`Partial resynchronization not accepted: ${detail}`);
      } else {
        this.server.log.notice(`Full resync requested by replica ${address}`);
      }
      return false;
    }
    const backlog = this.backlog;
    if (backlog === null || !backlog.covers(offset)) {
      this.server.log.notice(`Unable to partial resync with replica ${address} for lack of backlog (Replica request was: ${offset}).`);
      if (backlog !== null && offset > backlog.endOffset + 1) {
        this.server.log.warning(`Warning: replica ${address} tried to PSYNC with an offset that is greater than the master replication offset.`);
      }
      return false;
    }
    // A replica that announced psync2 learns the current ID, which differs after a promotion.
    w.addRaw(Buffer.from(this.linkOf(c).capaPsync2 ? `+CONTINUE ${this.replId}\r\n` : "+CONTINUE\r\n", "latin1"));
    const missed = backlog.bytesFrom(offset);
    w.addRaw(missed);
    this.goOnline(c);
    this.syncPartialOk++;
    this.server.log.notice(
      `Partial resynchronization request from ${address} accepted. Sending ${missed.length} bytes of backlog starting from offset ${offset}.`,
    );
    return true;
  }

  /**
   * PSYNC or SYNC asked for a full resynchronization: the header (PSYNC only), the RDB, and
   * from then on the stream, as full-sync.ts arranges. Replies the replica's own later
   * commands get are dropped: it reads the stream only.
   */
  fullResync(c: Client, psync: boolean): void {
    if (this.backlog === null) this.createBacklog();
    this.syncFull++;
    this.linkOf(c).psync = psync;
    this.attach(c);
    this.fullSync.request(c);
  }

  /**
   * A full sync's point in time: the stream selects a database again before its next
   * command, as Redis does for a replica that just loaded an RDB, whichever database it then
   * has selected. (A replica passing its master's stream on cannot; the RDB's
   * repl-stream-db tells its replicas.)
   */
  forceSelect(): void {
    this.stream.selectedDb = -1;
  }

  /** Where the stream stands, for the repl-* fields of an RDB file (Redis's rdbPopulateSaveInfo). */
  saveInfo(): ReplSaveInfo | null {
    if (this.proxying) {
      const db = this.server.upstream.streamDb();
      return db < 0 ? null : { streamDb: db, replId: this.replId, offset: this.offset };
    }
    if (this.backlog === null) return null;
    const db = this.stream.selectedDb;
    return { streamDb: db < 0 ? 0 : db, replId: this.replId, offset: this.offset };
  }

  /** A partial resync: the replica follows the stream from now on. */
  private goOnline(c: Client): void {
    const link = this.linkOf(c);
    this.attach(c);
    link.state = ReplicaState.Online;
    link.ackMs = Date.now();
    this.follow(c);
  }

  /** c is a replica from now on (Redis's CLIENT_SLAVE): listed, its replies silenced. */
  private attach(c: Client): void {
    this.replicas.push(c);
    // Replies are silenced as CLIENT REPLY OFF does, keeping what was written so far, so
    // that the RDB and the stream, delivered like pushes, still reach the replica.
    c.replyMode = ReplyMode.Off;
    this.server.keepPushes(c);
    if (this.pingTimer === null) this.startPings();
  }

  /** The stream goes to c as it comes from now on, after what was kept for it. */
  follow(c: Client): void {
    this.following.push(c);
  }

  /**
   * A replica continuing its master's history after a restart (from its RDB's repl-*
   * fields) has no backlog yet: one starts here, for its own replicas.
   */
  ensureBacklog(): void {
    if (this.backlog === null) this.createBacklog();
  }

  /** The backlog starts with the first replica: a new history for a master, as in Redis. */
  private createBacklog(): void {
    if (!this.proxying) {
      this.replId = randomHex(40);
      this.clearReplId2();
      this.server.log.notice(`Replication backlog created, my new replication IDs are '${this.replId}' and '${this.replId2}'`);
    }
    this.startBacklog();
  }

  private startBacklog(): void {
    this.backlog = new ReplicationBacklog(this.server.config.replBacklogSize, this.offset);
    this.server.propagation.addSink(this);
    this.server.setExpiredHooks();
  }

  /**
   * A master restarted from an RDB with repl-* fields: the history it saved stays valid as
   * its second ID up to the saved offset, so that its replicas continue with a partial
   * resync, while what comes next is a new history (Redis 7.0's loadDataFromDisk).
   */
  restoreHistory(info: ReplSaveInfo): void {
    this.replId2 = info.replId;
    this.secondReplOffset = info.offset + 1;
    this.offset = info.offset;
    this.stream.selectedDb = -1;
    this.noReplicasSinceMs = Date.now();
    this.startBacklog();
  }

  private clearReplId2(): void {
    this.replId2 = NO_REPLID;
    this.secondReplOffset = -1;
  }

  /**
   * This server becomes a replica of another: its stream is its master's from now on. Its
   * replicas stay attached and are passed what it receives (chained replication).
   */
  startProxying(): void {
    this.proxying = true;
  }

  /**
   * REPLICAOF NO ONE: this server's stream goes on under a new ID; replicas of the old
   * master may still continue the old history up to here (Redis's shiftReplicationId).
   */
  promote(): void {
    this.proxying = false;
    this.replId2 = this.replId;
    this.secondReplOffset = this.offset + 1;
    this.replId = randomHex(40);
    // The next command this server runs for itself selects its database first.
    this.stream.selectedDb = -1;
    this.server.log.notice(`Setting secondary replication ID to ${this.replId2}, valid up to offset: ${this.secondReplOffset}. New replication ID is ${this.replId}`);
  }

  /**
   * A full resync from a new master replaces this server's history with the master's: its
   * own replicas must resync too, and its backlog starts again at the master's offset.
   */
  adoptHistory(replId: string, offset: number): void {
    for (const c of this.replicas.slice()) this.server.closeClient(c);
    this.replId = replId;
    this.clearReplId2();
    this.offset = offset;
    if (this.backlog !== null) this.server.propagation.removeSink(this);
    this.backlog = null;
    this.createBacklog();
  }

  /** The replicas whose RDB is behind them (ROLE lists only these). */
  onlineReplicas(): Client[] {
    return this.replicas.filter((c) => c.replica!.state === ReplicaState.Online);
  }

  /** Whether enough replicas acknowledged recently for writes to go on (min-replicas-*). */
  enoughGoodReplicas(): boolean {
    const config = this.server.config;
    if (this.proxying || config.minReplicasMaxLag === 0) return true;
    return this.goodReplicas(Date.now()) >= config.minReplicasToWrite;
  }

  /** Online replicas whose last ACK is at most min-replicas-max-lag seconds old (Redis's repl_good_slaves_count). */
  goodReplicas(nowMs: number): number {
    let good = 0;
    for (const c of this.replicas) {
      const link = c.replica!;
      if (link.state === ReplicaState.Online && Math.floor((nowMs - link.ackMs) / 1000) <= this.server.config.minReplicasMaxLag) good++;
    }
    return good;
  }

  /** The server cron: a master that had no replica for repl-backlog-ttl seconds frees its backlog. */
  cron(nowMs: number): void {
    this.failover.update();
    const ttl = this.server.config.replBacklogTtl;
    if (this.backlog === null || this.proxying || this.replicas.length > 0 || ttl === 0) return;
    if (nowMs - this.noReplicasSinceMs <= ttl * 1000) return;
    // The history ends with the backlog: a replica coming later starts a new one.
    this.replId = randomHex(40);
    this.clearReplId2();
    this.backlog = null;
    this.server.propagation.removeSink(this);
    this.server.setExpiredHooks();
    this.server.log.notice(`Replication backlog freed after ${ttl} seconds without connected replicas.`);
  }

  /** A replica's connection closed. */
  removeReplica(c: Client): void {
    const at = this.replicas.indexOf(c);
    if (at < 0) return;
    this.replicas.splice(at, 1);
    const following = this.following.indexOf(c);
    if (following >= 0) this.following.splice(following, 1);
    this.fullSync.removed(c);
    this.server.log.notice(`Connection with replica ${this.replicaAddress(c, c.replica!)} lost.`);
    if (this.replicas.length === 0) {
      this.stopPings();
      this.noReplicasSinceMs = Date.now();
    }
  }

  /** REPLCONF ACK <offset>: the replica processed the stream up to there. */
  ack(c: Client, offset: number): void {
    const link = c.replica;
    if (link === null || link.state !== ReplicaState.Online) return;
    if (offset > link.ackOffset) link.ackOffset = offset;
    link.ackMs = Date.now();
    if (link.streamOnAck) this.fullSync.startStream(c);
    if (this.waits.size > 0) this.waits.acked();
    if (this.failover.state === FailoverState.WaitForSync) this.failover.update();
    this.server.replicaAcked();
  }

  /** Online replicas that acknowledged the stream up to `offset` at least (WAIT's count). */
  countAcked(offset: number): number {
    let n = 0;
    for (const c of this.replicas) if (c.replica!.state === ReplicaState.Online && c.replica!.ackOffset >= offset) n++;
    return n;
  }

  /** A WAIT blocked: every replica is asked for an ACK once the turn's commands are done. */
  requestAcks(): void {
    if (this.acksRequested) return;
    this.acksRequested = true;
    setImmediate(this.requestedGetAck);
  }

  private readonly requestedGetAck = (): void => {
    this.acksRequested = false;
    if (!this.server.clientsPaused()) this.sendGetAck();
  };

  /** REPLCONF GETACK * in the stream: every replica answers with its offset. */
  sendGetAck(): void {
    if (this.proxying || this.backlog === null || this.replicas.length === 0) return;
    this.stream.argsAnyDb(GETACK);
    this.send();
  }

  /** Whether every replica acknowledged the whole stream (Redis's isReadyToShutdown). */
  allCaughtUp(): boolean {
    for (const c of this.replicas) if (c.replica!.ackOffset !== this.offset) return false;
    return true;
  }

  /** Before the server exits: the replicas that have not acknowledged everything (finishShutdown). */
  logLaggingReplicas(): void {
    if (this.replicas.length === 0) return;
    const nowMs = Date.now();
    let lagging = 0;
    for (const c of this.replicas) {
      const link = c.replica!;
      if (link.ackOffset === this.offset) continue;
      lagging++;
      const lagSec = link.state === ReplicaState.Online ? Math.floor((nowMs - link.ackMs) / 1000) : 0;
      this.server.log.warning(
        `Lagging replica ${this.replicaName(c)} reported offset ${this.offset - link.ackOffset} behind master, lag=${lagSec}, state=${STATE_NAMES[link.state]}.`,
      );
    }
    this.server.log.notice(`${this.replicas.length - lagging} of ${this.replicas.length} replicas are in sync when shutting down.`);
  }

  // -------------------------------------------------------------------------------------
  // The stream
  // -------------------------------------------------------------------------------------

  feedArgv(dbId: number, argv: Argv): void {
    if (this.proxying) return;
    this.stream.argv(dbId, argv);
    this.send();
  }

  feedArgs(dbId: number, args: readonly PropArg[]): void {
    if (this.proxying) return;
    this.stream.args(dbId, args);
    this.send();
  }

  /** On a replica: the bytes of its master's stream it just applied, passed on as they are. */
  feedFromUpstream(bytes: Uint8Array): void {
    this.offset += bytes.length;
    if (this.backlog === null) return;
    this.backlog.append(bytes);
    this.deliverStream(bytes);
  }

  /** What was encoded goes to the backlog and every replica, and counts in the offset. */
  private send(): void {
    const stream = this.stream;
    const bytes = stream.bytes.subarray(0, stream.length);
    this.offset += stream.length;
    this.backlog!.append(bytes);
    this.deliverStream(bytes);
    stream.reset();
  }

  /** Stream bytes go to the replicas following it, and are kept for those still syncing. */
  private deliverStream(bytes: Uint8Array): void {
    for (const c of this.following) this.server.deliver(c, bytes);
    if (this.fullSync.keeping) this.fullSync.keep(bytes);
  }

  // -------------------------------------------------------------------------------------
  // Pings: replicas time the master out when the stream stays silent
  // -------------------------------------------------------------------------------------

  private startPings(): void {
    this.pingSeconds = 0;
    this.pingTimer = setInterval(this.pingTick, 1000);
    this.pingTimer.unref?.();
  }

  private stopPings(): void {
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  /**
   * Redis's replicationCron: replicas silent for repl-timeout seconds go, and the stream
   * carries a PING every repl-ping-replica-period seconds.
   */
  private readonly pingTick = (): void => {
    this.pingSeconds++;
    this.dropTimedOutReplicas(Date.now());
    // A replica's master pings its replicas through the stream it passes on. A FAILOVER
    // waits for a replica to catch up: a PING would move the offset it must reach.
    if (this.proxying || this.failover.state !== FailoverState.None) return;
    if (this.pingSeconds % this.server.config.replPingReplicaPeriod !== 0) return;
    this.stream.argsAnyDb(PING);
    this.send();
  };

  /** An online replica sends an ACK every second; one that stopped is gone (a SYNC replica never ACKs). */
  private dropTimedOutReplicas(nowMs: number): void {
    const timeoutMs = this.server.config.replTimeout * 1000;
    for (const c of this.replicas.slice()) {
      const link = c.replica!;
      if (link.state !== ReplicaState.Online || !link.psync || nowMs - link.ackMs <= timeoutMs) continue;
      this.server.log.warning(`Disconnecting timedout replica (streaming sync): ${this.replicaName(c)}`);
      this.server.closeClient(c);
    }
  }

  // -------------------------------------------------------------------------------------
  // INFO replication
  // -------------------------------------------------------------------------------------

  /** The ip a replica is known by: the one it announced, else its connection's. */
  replicaIp(c: Client, link: ReplicaLink): string {
    if (link.ipAddress !== "") return link.ipAddress;
    const addr = c.addr;
    const colon = addr.lastIndexOf(":");
    return colon < 0 ? addr : addr.slice(0, colon);
  }

  private replicaAddress(c: Client, link: ReplicaLink): string {
    return `${this.replicaIp(c, link)}:${link.listeningPort}`;
  }

  /** How the log names a replica (Redis's replicationGetSlaveName). */
  replicaName(c: Client): string {
    return this.replicaAddress(c, this.linkOf(c));
  }

  /** The `slaveN:` lines of INFO replication. */
  infoLines(nowMs: number): string[] {
    const lines: string[] = [];
    this.replicas.forEach((c, i) => {
      const link = c.replica!;
      // A replica still syncing shows no lag, as in Redis.
      const lagSec = link.state === ReplicaState.Online ? Math.floor((nowMs - link.ackMs) / 1000) : 0;
      lines.push(
        `slave${i}:ip=${this.replicaIp(c, link)},port=${link.listeningPort},state=${STATE_NAMES[link.state]},offset=${link.ackOffset},lag=${lagSec}`,
      );
    });
    return lines;
  }
}
