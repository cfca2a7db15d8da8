// FAILOVER (Redis 6.2+, outside cluster mode): a master hands its role to one of its
// replicas without losing a write. Writes pause; once a replica acknowledged the whole stream
// (or the chosen one did, or TIMEOUT passed with FORCE) the master turns into that replica's
// replica and asks it, with PSYNC <replid> <offset> FAILOVER, to become the master. The
// replica promotes itself and continues the old master from its backlog; the pause ends when
// that PSYNC is answered, and a refused one rolls the old master back (Redis's
// failoverCommand, updateFailoverStatus and abortFailover).

import { PauseMode } from "../server/client.ts";
import type { Client } from "../server/client.ts";
import type { Server } from "../server/server.ts";

export const enum FailoverState {
  None,
  /** Writes paused; waiting for a replica to acknowledge the whole stream. */
  WaitForSync,
  /** This server follows the target now; its PSYNC FAILOVER is under way. */
  InProgress,
}

/** INFO master_failover_state, by state. */
const STATE_NAMES = ["no-failover", "waiting-for-sync", "failover-in-progress"] as const;

export class CoordinatedFailover {
  state = FailoverState.None;
  /** The replica to hand over to: chosen by TO, or the first to catch up. */
  private targetHost: string | null = null;
  private targetPort = 0;
  /** When TIMEOUT runs out (0: none), and whether FORCE fails over anyway then. */
  private endMs = 0;
  private force = false;

  constructor(private readonly server: Server) {}

  get stateName(): string {
    return STATE_NAMES[this.state];
  }

  /** Begin: the caller checked the arguments and the replicas. */
  start(host: string | null, port: number, timeoutMs: number, force: boolean): void {
    const server = this.server;
    this.targetHost = host;
    this.targetPort = port;
    if (host !== null) server.log.notice(`FAILOVER requested to ${host}:${port}.`);
    else server.log.notice("FAILOVER requested to any replica.");
    this.endMs = timeoutMs > 0 ? Date.now() + timeoutMs : 0;
    this.force = force;
    this.state = FailoverState.WaitForSync;
    server.pauseClients(Number.MAX_SAFE_INTEGER, PauseMode.Write);
  }

  /** The online replica announcing host:port, if any (Redis's findReplica). */
  findReplica(host: string, port: number): Client | null {
    const replication = this.server.replication;
    for (const c of replication.replicas) {
      const link = c.replica!;
      if (link.listeningPort === port && replication.replicaIp(c, link).toLowerCase() === host.toLowerCase()) return c;
    }
    return null;
  }

  /**
   * After an ACK and on every cron tick: fail over once the target (or any replica, when
   * none was named) acknowledged the whole stream, or when TIMEOUT ran out.
   */
  update(): void {
    if (this.state !== FailoverState.WaitForSync) return;
    const server = this.server;
    const replication = server.replication;
    if (this.endMs !== 0 && this.endMs <= Date.now()) {
      if (!this.force) return this.abort("Replica never caught up before timeout");
      server.log.notice(`FAILOVER to ${this.targetHost}:${this.targetPort} time out exceeded, failing over.`);
      return this.handOver();
    }
    let replica: Client | null = null;
    if (this.targetHost !== null) {
      replica = this.findReplica(this.targetHost, this.targetPort);
    } else {
      replica = replication.replicas.find((c) => c.replica!.ackOffset === replication.offset) ?? null;
      if (replica !== null) {
        this.targetHost = replication.replicaIp(replica, replica.replica!);
        this.targetPort = replica.replica!.listeningPort;
      }
    }
    if (replica === null || replica.replica!.ackOffset !== replication.offset) return;
    server.log.notice(`Failover target ${this.targetHost}:${this.targetPort} is synced, failing over.`);
    this.handOver();
  }

  /** Follow the target; the PSYNC the link sends carries FAILOVER while the state says so. */
  private handOver(): void {
    this.state = FailoverState.InProgress;
    this.server.upstream.setMaster(this.targetHost!, this.targetPort);
  }

  /** The target answered the PSYNC FAILOVER: it is the master now, and writes go on. */
  accepted(): void {
    this.clear();
  }

  /** FAILOVER ABORT, a timeout, or a target that refused: back to how it was. */
  abort(reason: string): void {
    if (this.state === FailoverState.None) return;
    const server = this.server;
    if (this.targetHost !== null) server.log.notice(`FAILOVER to ${this.targetHost}:${this.targetPort} aborted: ${reason}`);
    else server.log.notice(`FAILOVER to any replica aborted: ${reason}`);
    if (this.state === FailoverState.InProgress) server.upstream.unsetMaster();
    this.clear();
  }

  private clear(): void {
    this.state = FailoverState.None;
    this.targetHost = null;
    this.targetPort = 0;
    this.endMs = 0;
    this.force = false;
    this.server.unpauseClients();
  }
}
