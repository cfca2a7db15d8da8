// This server as a master (Redis's replication.c, master side): the replicas attached to
// it, the full resynchronization that gives a new replica the dataset, and the
// replication stream that carries every propagated command to them afterwards.
//
// A full resync sends an RDB made at once in memory (rdbSaveToBytes): the point in time is
// the PSYNC, so every command propagated later follows the RDB on the same connection, in
// order. There is no backlog yet, so a replica that reconnects always resyncs in full.

import type { Argv } from "../resp/parser.ts";
import type { ReplyWriter } from "../resp/writer.ts";
import type { Client } from "../server/client.ts";
import { ReplyMode } from "../server/client.ts";
import type { PropArg, PropagationSink } from "../server/propagate.ts";
import { randomHex, type Server } from "../server/server.ts";
import { CommandEncoder } from "../resp/command-encoder.ts";
import { rdbSaveToBytes } from "../persistence/rdb.ts";

/** Where a replica's connection stands (Redis's replstate, for the states that exist here). */
export const enum ReplicaState {
  /** REPLCONF was seen, PSYNC or SYNC not yet: still an ordinary client. */
  Handshake,
  /** The RDB was sent; the replica follows the stream (Redis's SLAVE_STATE_ONLINE). */
  Online,
}

/** What the master knows of one replica connection (Redis keeps it in the client). */
export class ReplicaLink {
  state = ReplicaState.Handshake;
  /** REPLCONF listening-port: where the replica accepts connections (INFO slaveN port=). */
  listeningPort = 0;
  /** REPLCONF ip-address: the address the replica announces, "" to use the connection's. */
  ipAddress = "";
  /** The offset of the last REPLCONF ACK, and when it came (INFO slaveN offset= and lag=). */
  ackOffset = 0;
  ackMs = 0;
}

const PING: readonly PropArg[] = ["PING"];
const STREAM_INITIAL_BYTES = 16 * 1024;

export class ReplicationMaster implements PropagationSink {
  /** Online replicas, in the order they attached (INFO slave0, slave1 ...). */
  readonly replicas: Client[] = [];
  /** Bytes of replication stream produced so far (INFO master_repl_offset). */
  offset = 0;
  /**
   * The stream, encoded once for every replica. Its selected database is the stream's, as
   * Redis's server.slaveseldb: the same for every replica.
   */
  private readonly stream = new CommandEncoder(STREAM_INITIAL_BYTES);
  /** Whether the stream is fed: from the first replica on, as Redis's backlog once created. */
  private feeding = false;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  /** Seconds counted by the ping timer, to ping every repl-ping-replica-period of them. */
  private pingSeconds = 0;

  constructor(private readonly server: Server) {}

  /** The replica state of c, made on its first REPLCONF. */
  linkOf(c: Client): ReplicaLink {
    if (c.replica === null) c.replica = new ReplicaLink();
    return c.replica;
  }

  isReplica(c: Client): boolean {
    return c.replica !== null && c.replica.state === ReplicaState.Online;
  }

  /**
   * PSYNC or SYNC asked for a full resynchronization: the header (PSYNC only), the RDB as a
   * bulk without its trailing CRLF, and from then on the stream. Replies the replica's own
   * later commands get are dropped: it reads the stream only.
   */
  fullResync(c: Client, w: ReplyWriter, psync: boolean): void {
    if (!this.feeding) this.startFeeding();
    const rdb = rdbSaveToBytes(this.server);
    if (psync) w.addRaw(Buffer.from(`+FULLRESYNC ${this.server.replId} ${this.offset}\r\n`, "latin1"));
    w.addRaw(Buffer.from(`$${rdb.length}\r\n`, "latin1"));
    w.addRaw(rdb);
    // The stream selects a database again before its next command, as Redis does for a
    // replica that just loaded an RDB, whichever database it then has selected.
    this.stream.selectedDb = -1;
    const link = this.linkOf(c);
    link.state = ReplicaState.Online;
    link.ackMs = Date.now();
    this.replicas.push(c);
    // Replies are silenced as CLIENT REPLY OFF does, keeping what was written so far, so
    // that the RDB leaves and the stream, delivered like pushes, still reaches the replica.
    c.replyMode = ReplyMode.Off;
    this.server.keepPushes(c);
    this.server.log.notice(`Synchronization with replica ${this.replicaAddress(c, link)} succeeded`);
    if (this.pingTimer === null) this.startPings();
  }

  /** A replica's connection closed. */
  removeReplica(c: Client): void {
    const at = this.replicas.indexOf(c);
    if (at < 0) return;
    this.replicas.splice(at, 1);
    this.server.log.notice(`Connection with replica ${this.replicaAddress(c, c.replica!)} lost.`);
    if (this.replicas.length === 0) this.stopPings();
  }

  /** REPLCONF ACK <offset>: the replica processed the stream up to there. */
  ack(c: Client, offset: number): void {
    const link = c.replica;
    if (link === null || link.state !== ReplicaState.Online) return;
    if (offset > link.ackOffset) link.ackOffset = offset;
    link.ackMs = Date.now();
  }

  // -------------------------------------------------------------------------------------
  // The propagation sink
  // -------------------------------------------------------------------------------------

  feedArgv(dbId: number, argv: Argv): void {
    this.stream.argv(dbId, argv);
    this.send();
  }

  feedArgs(dbId: number, args: readonly PropArg[]): void {
    this.stream.args(dbId, args);
    this.send();
  }

  /** What was encoded goes to every replica and counts in the offset. */
  private send(): void {
    const stream = this.stream;
    const bytes = stream.bytes.subarray(0, stream.length);
    this.offset += stream.length;
    for (const c of this.replicas) this.server.deliver(c, bytes);
    stream.reset();
  }

  private startFeeding(): void {
    // A new history starts with the first replica, as Redis changes its replication ID
    // when it creates the backlog.
    this.server.replId = randomHex(40);
    this.feeding = true;
    this.server.propagation.addSink(this);
    this.server.setExpiredHooks();
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

  /** Redis's replicationCron: a PING in the stream every repl-ping-replica-period seconds. */
  private readonly pingTick = (): void => {
    this.pingSeconds++;
    if (this.pingSeconds % this.server.config.replPingReplicaPeriod !== 0) return;
    this.stream.argsAnyDb(PING);
    this.send();
  };

  // -------------------------------------------------------------------------------------
  // INFO replication
  // -------------------------------------------------------------------------------------

  /** The ip a replica is known by: the one it announced, else its connection's. */
  private replicaIp(c: Client, link: ReplicaLink): string {
    if (link.ipAddress !== "") return link.ipAddress;
    const addr = c.addr;
    const colon = addr.lastIndexOf(":");
    return colon < 0 ? addr : addr.slice(0, colon);
  }

  private replicaAddress(c: Client, link: ReplicaLink): string {
    return `${this.replicaIp(c, link)}:${link.listeningPort}`;
  }

  /** The `slaveN:` lines of INFO replication. */
  infoLines(nowMs: number): string[] {
    const lines: string[] = [];
    this.replicas.forEach((c, i) => {
      const link = c.replica!;
      const lagSec = Math.floor((nowMs - link.ackMs) / 1000);
      lines.push(
        `slave${i}:ip=${this.replicaIp(c, link)},port=${link.listeningPort},state=online,offset=${link.ackOffset},lag=${lagSec}`,
      );
    });
    return lines;
  }
}
