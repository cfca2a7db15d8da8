// Replica promotion in a cluster (Redis's clusterHandleSlaveFailover and its helpers).
//
// Automatic: when a master is flagged FAIL, each of its replicas waits a delay that grows
// with how far behind it is (its rank), then starts an election: it bumps the current
// epoch and asks every master for its vote. A master votes once per epoch, and for a given
// failed master at most once per twice the node timeout, so at most one replica gets a
// majority; that one takes its master's slots with the election's epoch as its config
// epoch and tells everyone. The old master, when it comes back, sees its slots claimed with
// a newer epoch and becomes a replica of the winner (bus.ts, updateSlotsConfigWith).
//
// Manual (CLUSTER FAILOVER on a replica): the master pauses its clients and reports its
// replication offset; once the replica has applied that much, it runs the election with
// the FORCEACK flag, which masters honour though the master is not failing. FORCE skips the
// wait for the master; TAKEOVER skips the election too.

import type { Cluster } from "./cluster.ts";
import type { ClusterBus } from "./bus.ts";
import { CLUSTER_SLOTS, ClusterHealth, ClusterNode, NodeFlag } from "./state.ts";
import { BusType, MsgFlag0, slotBit, type BusHeader } from "./bus-message.ts";
import { PauseMode } from "../server/client.ts";

/** Redis's CLUSTER_MF_TIMEOUT: a manual failover not done in this long is abandoned. */
const MANUAL_FAILOVER_TIMEOUT_MS = 5000;
/** The shortest vote timeout (Redis's auth_timeout floor). */
const AUTH_TIMEOUT_MIN_MS = 2000;
/** How long a master must be orphaned before a replica moves to it (CLUSTER_SLAVE_MIGRATION_DELAY). */
const REPLICA_MIGRATION_DELAY_MS = 5000;

export class Failover {
  /** When the election may start (or started), 0 when none is scheduled. */
  private authTimeMs = 0;
  private authSent = false;
  private authCount = 0;
  private authEpoch = 0;
  private authRank = 0;
  /** A manual failover under way: until when, and whether it was asked with FORCE. */
  private manualEndMs = 0;
  private manualCanStart = false;
  /** On the master side of a manual failover: the replica asking, and on the replica the master's offset. */
  private manualReplica: ClusterNode | null = null;
  private manualMasterOffset = -1;
  private lastLogReason = "";

  constructor(
    private readonly cluster: Cluster,
    private readonly bus: ClusterBus,
  ) {}

  /** mflags of outgoing messages: PAUSED while a master waits for its replica to catch up. */
  headerFlags(): number {
    return this.manualEndMs !== 0 && this.cluster.myself.isMaster && this.manualReplica !== null ? MsgFlag0.PAUSED : 0;
  }

  // -------------------------------------------------------------------------------------
  // Manual failover
  // -------------------------------------------------------------------------------------

  startManual(mode: "default" | "force" | "takeover"): void {
    const cluster = this.cluster;
    const master = cluster.myself.master!;
    this.resetManual();
    this.manualEndMs = Date.now() + MANUAL_FAILOVER_TIMEOUT_MS;
    if (mode === "takeover") {
      // No agreement: a new epoch of its own, then the master's slots.
      cluster.server.log.notice("Taking over the master (user request).");
      cluster.bumpEpochWithoutConsensus();
      this.replaceMaster();
      return;
    }
    if (mode === "force") {
      cluster.server.log.notice("Forced failover user request accepted.");
      this.manualCanStart = true;
      return;
    }
    cluster.server.log.notice("Manual failover user request accepted.");
    const link = this.bus.linkTo(master);
    if (link !== null) this.bus.send(link, { ...this.bus.header(), type: BusType.MFSTART });
  }

  /** On a master: its replica asked for a manual failover; clients pause while it catches up. */
  manualFailoverRequested(sender: ClusterNode): void {
    const cluster = this.cluster;
    if (sender.master !== cluster.myself) return;
    this.resetManual();
    this.manualEndMs = Date.now() + MANUAL_FAILOVER_TIMEOUT_MS;
    this.manualReplica = sender;
    // Writes wait while the replica catches up, for twice the failover's time at most.
    cluster.server.pauseClients(Date.now() + MANUAL_FAILOVER_TIMEOUT_MS * 2, PauseMode.Write);
    cluster.server.log.notice(`Manual failover requested by replica ${sender.name}.`);
    // The replica learns the offset to reach from this PING (with the PAUSED flag).
    const link = this.bus.linkTo(sender);
    if (link !== null) this.bus.sendPing(link, BusType.PING);
  }

  /** A PING or PONG from this replica's master: with PAUSED, it carries the offset to reach. */
  masterPaused(offset: number): void {
    if (this.manualEndMs === 0 || this.manualMasterOffset !== -1) return;
    this.manualMasterOffset = offset;
    this.cluster.server.log.notice(`Received replication offset for paused master manual failover: ${offset}`);
  }

  /** This node's role changed: a manual failover it took part in is over. */
  resetManual(): void {
    if (this.manualReplica !== null) this.cluster.server.unpauseClients();
    this.manualEndMs = 0;
    this.manualCanStart = false;
    this.manualReplica = null;
    this.manualMasterOffset = -1;
  }

  // -------------------------------------------------------------------------------------
  // Votes
  // -------------------------------------------------------------------------------------

  /** On a master: a replica asks for its vote (clusterSendFailoverAuthIfNeeded). */
  voteRequested(node: ClusterNode, request: BusHeader): void {
    const cluster = this.cluster;
    const state = cluster.state;
    const myself = cluster.myself;
    const log = cluster.server.log;
    if (myself.isReplica || myself.numSlots === 0) return;
    const requestEpoch = Number(request.currentEpoch);
    const requestConfigEpoch = Number(request.configEpoch);
    const forceAck = (request.mflags & MsgFlag0.FORCEACK) !== 0;
    const master = node.master;
    if (requestEpoch < state.currentEpoch) {
      return log.warning(`Failover auth denied to ${node.name}: reqEpoch (${requestEpoch}) < curEpoch(${state.currentEpoch})`);
    }
    if (state.lastVoteEpoch === state.currentEpoch) {
      return log.warning(`Failover auth denied to ${node.name}: already voted for epoch ${state.currentEpoch}`);
    }
    if (node.isMaster || master === null || (!master.has(NodeFlag.Fail) && !forceAck)) {
      const why = node.isMaster ? "it is a master node" : master === null ? "I don't know its master" : "its master is up";
      return log.warning(`Failover auth denied to ${node.name}: ${why}`);
    }
    const sinceVote = Date.now() - master.votedTimeMs;
    const timeout = cluster.server.config.clusterNodeTimeout;
    if (sinceVote < timeout * 2) {
      return log.warning(`Failover auth denied to ${node.name}: can't vote about this master before ${timeout * 2 - sinceVote} milliseconds`);
    }
    for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
      if (!slotBit(request.myslots, slot)) continue;
      const owner = state.slotOwners[slot];
      if (owner === null || owner.configEpoch <= requestConfigEpoch) continue;
      return log.warning(`Failover auth denied to ${node.name}: slot ${slot} epoch (${owner.configEpoch}) > reqEpoch (${requestConfigEpoch})`);
    }
    state.lastVoteEpoch = state.currentEpoch;
    master.votedTimeMs = Date.now();
    cluster.changed(true, true);
    const link = this.bus.linkTo(node);
    if (link !== null) this.bus.send(link, { ...this.bus.header(), type: BusType.FAILOVER_AUTH_ACK });
    log.warning(`Failover auth granted to ${node.name} for epoch ${state.currentEpoch}`);
  }

  /** On a replica in an election: a master's vote. */
  voteReceived(sender: ClusterNode, ack: BusHeader): void {
    if (sender.isMaster && sender.numSlots > 0 && Number(ack.currentEpoch) >= this.authEpoch) this.authCount++;
  }

  // -------------------------------------------------------------------------------------
  // The election (Redis's clusterHandleSlaveFailover), from the bus cron
  // -------------------------------------------------------------------------------------

  cron(now: number): void {
    const cluster = this.cluster;
    const myself = cluster.myself;
    if (this.manualEndMs !== 0 && now > this.manualEndMs) {
      cluster.server.log.warning("Manual failover timed out.");
      this.resetManual();
    }
    if (myself.isMaster || myself.master === null) return;
    // A manual failover can start once this replica applied everything its master had.
    if (this.manualEndMs !== 0 && !this.manualCanStart && this.manualMasterOffset !== -1) {
      if (cluster.server.upstream.reploff >= this.manualMasterOffset) {
        this.manualCanStart = true;
        cluster.server.log.notice("All master replication stream processed, manual failover can start.");
      }
    }
    this.handleReplicaFailover(now);
    this.handleReplicaMigration(now);
  }

  /**
   * Redis's clusterHandleSlaveMigration: a master left without a working replica gets one
   * from the master with the most, when that one keeps more than cluster-migration-barrier;
   * of its replicas, the one with the smallest name moves, after the orphan waited a while.
   */
  private handleReplicaMigration(now: number): void {
    const cluster = this.cluster;
    const config = cluster.server.config;
    const myself = cluster.myself;
    const myMaster = myself.master;
    // A failover may just have made this node a master.
    if (myself.isMaster || myMaster === null) return;
    if (!config.clusterAllowReplicaMigration || cluster.state.health !== ClusterHealth.Ok) return;
    let maxReplicas = 0;
    for (const node of cluster.state.nodes.values()) if (node.isMaster) maxReplicas = Math.max(maxReplicas, node.nonFailingReplicas());
    const mine = myMaster.nonFailingReplicas();
    if (maxReplicas < 2 || mine !== maxReplicas || mine <= config.clusterMigrationBarrier) return;
    let target: ClusterNode | null = null;
    let candidate = myself;
    for (const node of cluster.state.nodes.values()) {
      if (!node.isMaster) continue;
      const ok = node.nonFailingReplicas();
      const orphaned = !node.has(NodeFlag.Fail) && node.has(NodeFlag.MigrateTo) && ok === 0;
      if (orphaned) {
        if (target === null && node.numSlots > 0) target = node;
        if (node.orphanedSinceMs === 0) node.orphanedSinceMs = now;
      } else {
        node.orphanedSinceMs = 0;
      }
      if (ok === maxReplicas) for (const r of node.replicas) if (!r.has(NodeFlag.Fail) && r.name < candidate.name) candidate = r;
    }
    if (target === null || candidate !== myself || now - target.orphanedSinceMs <= REPLICA_MIGRATION_DELAY_MS) return;
    cluster.server.log.warning(`Migrating to orphaned master ${target.name}`);
    cluster.setMaster(target);
  }

  private handleReplicaFailover(now: number): void {
    const cluster = this.cluster;
    const myself = cluster.myself;
    const master = myself.master!;
    const config = cluster.server.config;
    const timeout = config.clusterNodeTimeout;
    const quorum = Math.floor(cluster.state.size / 2) + 1;
    const manual = this.manualEndMs !== 0 && this.manualCanStart;
    const authTimeout = Math.max(timeout * 2, AUTH_TIMEOUT_MIN_MS);
    const authRetry = authTimeout * 2;
    if (!(master.has(NodeFlag.Fail) || manual) || (myself.has(NodeFlag.NoFailover) && !manual) || master.numSlots === 0) return;
    // Data too old to be trusted: this replica may not take over (cluster-replica-validity-factor).
    if (!manual && config.clusterReplicaValidityFactor !== 0) {
      const upstream = cluster.server.upstream;
      let dataAge = upstream.connected ? now - upstream.lastIoMs : now - (upstream.downSinceMs || now);
      if (dataAge > timeout) dataAge -= timeout;
      if (dataAge > config.replPingReplicaPeriod * 1000 + timeout * config.clusterReplicaValidityFactor) {
        return this.logOnce("Disconnected from master for longer than allowed. Please check the 'cluster-replica-validity-factor' configuration option.");
      }
    }
    if (now - this.authTimeMs > authRetry) {
      // A new election, after a delay that lets the most up to date replica go first.
      this.authRank = this.rank();
      this.authTimeMs = manual ? now : now + 500 + Math.floor(Math.random() * 500) + this.authRank * 1000;
      this.authSent = false;
      this.authCount = 0;
      if (manual) this.authRank = 0;
      cluster.server.log.warning(`Start of election delayed for ${this.authTimeMs - now} milliseconds (rank #${this.authRank}, offset ${cluster.server.upstream.reploff}).`);
      return;
    }
    if (!this.authSent && !manual) {
      const rank = this.rank();
      if (rank > this.authRank) {
        this.authTimeMs += (rank - this.authRank) * 1000;
        this.authRank = rank;
      }
    }
    if (now < this.authTimeMs) return;
    if (now - this.authTimeMs > authTimeout) return this.logOnce("Failover attempt expired.");
    if (!this.authSent) {
      cluster.state.currentEpoch++;
      this.authEpoch = cluster.state.currentEpoch;
      cluster.server.log.warning(`Starting a failover election for epoch ${this.authEpoch}.`);
      const header = this.bus.header();
      if (manual) header.mflags |= MsgFlag0.FORCEACK;
      this.bus.broadcast({ ...header, type: BusType.FAILOVER_AUTH_REQUEST });
      this.authSent = true;
      cluster.changed(true, true);
      return;
    }
    if (this.authCount < quorum) return this.logOnce("Waiting for votes, but majority still not reached.");
    cluster.server.log.warning("Failover election won: I'm the new master.");
    if (myself.configEpoch < this.authEpoch) {
      myself.configEpoch = this.authEpoch;
      cluster.server.log.warning(`configEpoch set to ${this.authEpoch} after successful failover`);
    }
    this.replaceMaster();
  }

  /** Replicas of the same master with a better replication offset (clusterGetSlaveRank). */
  private rank(): number {
    const myself = this.cluster.myself;
    const offset = this.cluster.server.upstream.reploff;
    let rank = 0;
    for (const r of myself.master!.replicas) if (r !== myself && !r.has(NodeFlag.NoFailover) && r.replOffset > offset) rank++;
    return rank;
  }

  /** The replica becomes the master of its master's slots (clusterFailoverReplaceYourMaster). */
  private replaceMaster(): void {
    const cluster = this.cluster;
    const state = cluster.state;
    const myself = cluster.myself;
    const old = myself.master;
    if (myself.isMaster || old === null) return;
    old.removeReplica(myself);
    myself.master = null;
    myself.flags = (myself.flags & ~NodeFlag.Replica) | NodeFlag.Master;
    cluster.server.upstream.unsetMaster();
    cluster.server.config.assign("replicaof", null);
    for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
      if (state.slotOwners[slot] !== old) continue;
      state.deleteSlot(slot);
      state.addSlot(slot, myself);
    }
    cluster.updateState();
    cluster.saveNow();
    this.bus.broadcastPong();
    this.resetManual();
    this.authTimeMs = 0;
  }

  private logOnce(reason: string): void {
    if (reason === this.lastLogReason) return;
    this.lastLogReason = reason;
    this.cluster.server.log.notice(`Currently unable to failover: ${reason}`);
  }
}
