// Cluster mode (cluster-enabled yes): this node's view of the cluster (state.ts), saved in
// nodes.conf (nodes-conf.ts), kept in step with the other nodes over the cluster bus
// (bus.ts), and used by the dispatcher to redirect commands for keys this node does not
// serve (routing.ts). This file holds what CLUSTER commands change directly: slots, epochs,
// the node's role, and the state's health (Redis's clusterUpdateState).

import { join } from "node:path";
import type { Server } from "../server/server.ts";
import { CLUSTER_SLOTS, ClusterHealth, ClusterNode, ClusterState, NodeFlag, randomNodeName } from "./state.ts";
import { NodesConfError, loadNodesConf, nodesDescription, saveNodesConf, type PortOf } from "./nodes-conf.ts";
import { keyHashSlot } from "./slots.ts";
import { ClusterBus, announcedClientPort } from "./bus.ts";
import { SlotIndex } from "./slot-index.ts";
import { ROUTE, Redirect, addRouteError, route, routedSlot, type ClusterView } from "./routing.ts";
import type { Client } from "../server/client.ts";
import { CMD, type Command } from "../commands/table.ts";
import type { Argv } from "../resp/parser.ts";
import type { MultiState } from "../server/transaction.ts";

/** Redis's CLUSTER_WRITABLE_DELAY: a master that just started waits this long before it says ok. */
const WRITABLE_DELAY_MS = 2000;
/** Bounds of the wait of a master back from a minority partition (Redis's rejoin delay). */
const REJOIN_DELAY_MIN_MS = 500;
const REJOIN_DELAY_MAX_MS = 5000;

/**
 * The address clients are told to use for a node (Redis's getPreferredEndpoint), by
 * cluster-preferred-endpoint-type: its ip; its announced hostname, "?" when it has none;
 * or nothing at all, for clients to reuse the address they already reach the cluster at.
 */
export function preferredEndpoint(node: ClusterNode, type: string): string {
  if (type === "hostname") return node.hostname === "" ? "?" : node.hostname;
  if (type === "unknown-endpoint") return "";
  return node.ip;
}

export class Cluster {
  readonly state: ClusterState;
  readonly bus: ClusterBus;
  /** Where nodes.conf lives: `cluster-config-file` in `dir`. */
  readonly configPath: string;
  /** Set when the state changed and nodes.conf must be written before the next reply leaves; synced too for epochs, votes and roles. */
  private saveQueued = false;
  private fsyncQueued = false;
  private updateQueued = false;
  /** When this node was last part of a minority partition (Redis's among_minority_time). */
  private minoritySinceMs = 0;
  private firstUpdateMs = 0;
  /** Routing's view of the state, and its reusable outputs (see routeCommand). */
  private readonly view: ClusterView<ClusterNode>;
  private readonly redirect = new Redirect<ClusterNode>();
  private readonly routeClient = { asking: false, readonly: false, multi: null as MultiState | null };
  /** The client whose command is being routed, whose connection decides the port a redirection names. */
  private routedClient: Client | null = null;
  /** Database 0's keys by slot, kept as they come and go. */
  private readonly slotIndex: SlotIndex;

  private constructor(
    readonly server: Server,
    state: ClusterState,
  ) {
    this.state = state;
    this.configPath = join(server.config.dir, server.config.clusterConfigFile);
    this.bus = new ClusterBus(this);
    this.view = this.makeView();
    const table = server.dbs[0]!.table;
    this.slotIndex = new SlotIndex(table);
    table.observer = this.slotIndex;
  }

  private makeView(): ClusterView<ClusterNode> {
    const state = this.state;
    const config = this.server.config;
    const db = this.server.dbs[0]!;
    return {
      slotOwner: (slot) => state.slotOwners[slot]!,
      myself: state.myself,
      myMaster: () => (state.myself.isReplica ? state.myself.master : null),
      migratingTo: (slot) => state.migratingTo[slot]!,
      importingFrom: (slot) => state.importingFrom[slot]!,
      stateOk: () => state.health === ClusterHealth.Ok,
      endpoint: (node) => `${preferredEndpoint(node, config.clusterPreferredEndpointType)}:${this.clientPort(node, this.routedClient)}`,
      keyExists: (buf, start, len) => {
        const id = db.table.find(buf, start, len);
        return id >= 0 && !db.isExpired(id, this.server.clock.nowMs);
      },
      get allowReadsWhenDown() {
        return config.clusterAllowReadsWhenDown;
      },
      get allowPubsubshardWhenDown() {
        return config.clusterAllowPubsubshardWhenDown;
      },
    };
  }

  /**
   * Redis's cluster check in processCommand, for commands that have keys (or are EXEC):
   * true when this node serves the command; else the redirection or refusal is written.
   */
  routeCommand(c: Client, cmd: Command): boolean {
    this.routedClient = c;
    const rc = this.routeClient;
    rc.asking = c.asking;
    rc.readonly = c.readonlyReplica;
    rc.multi = c.multi;
    const code = route(this.view, cmd, c.argv, rc, this.redirect);
    if (code === ROUTE.serve) return true;
    addRouteError(c.w, this.view, code, this.redirect);
    return false;
  }

  /**
   * A command a script runs (Redis's scriptVerifyClusterState): null when its keys are
   * served here, else the script's error. `scriptSlot` is the slot the script's keys use so
   * far (-1: none yet); it is returned updated, or the cross-slot error when the command's
   * keys are in another slot and the script may not cross slots.
   */
  scriptCallDenial(c: Client, cmd: Command, argv: Argv, scriptSlot: { slot: number }, allowCrossSlot: boolean): string | null {
    const rc = this.routeClient;
    rc.asking = c.asking;
    rc.readonly = c.readonlyReplica;
    rc.multi = null;
    const code = route(this.view, cmd, argv, rc, this.redirect);
    if (code === ROUTE.downReadOnly) return "ERR Script attempted to execute a write command while the cluster is down and readonly";
    if (code === ROUTE.downState) return "ERR Script attempted to execute a command while the cluster is down";
    if (code !== ROUTE.serve) return "ERR Script attempted to access a non local key in a cluster node";
    if (routedSlot === -1 || allowCrossSlot) return null;
    if (scriptSlot.slot === -1) scriptSlot.slot = routedSlot;
    else if (scriptSlot.slot !== routedSlot) return "ERR Script attempted to access keys that do not hash to the same slot";
    return null;
  }

  /**
   * clusterInit: nodes.conf read (or a new node named at random), the bus listening on
   * cluster-port (port + 10000 by default). Throws NodesConfError for a broken file.
   */
  static start(server: Server): Cluster {
    const path = join(server.config.dir, server.config.clusterConfigFile);
    let state = loadNodesConf(path);
    const log = server.log;
    if (state === null) {
      const myself = new ClusterNode(randomNodeName(), NodeFlag.Myself | NodeFlag.Master);
      state = new ClusterState(myself);
      log.notice(`No cluster configuration found, I'm ${myself.name}`);
    } else {
      log.notice(`Node configuration loaded, I'm ${state.myself.name}`);
    }
    const cluster = new Cluster(server, state);
    const myself = state.myself;
    myself.port = announcedClientPort(server);
    myself.cport = cluster.busPort();
    cluster.applyNoFailover();
    server.config.onChange("cluster-replica-no-failover", () => cluster.applyNoFailover());
    cluster.saveNow();
    cluster.bus.listen(cluster.listenBusPort());
    cluster.updateState();
    // A replica in nodes.conf follows its master again (Redis's clusterInit does it too).
    if (myself.isReplica && myself.master !== null) server.upstream.setMaster(myself.master.ip, myself.master.port, true);
    return cluster;
  }

  /** cluster-replica-no-failover: the flag other nodes see, so that they never count on this replica. */
  applyNoFailover(): void {
    const myself = this.myself;
    const before = myself.flags;
    if (this.server.config.clusterReplicaNoFailover) myself.flags |= NodeFlag.NoFailover;
    else myself.flags &= ~NodeFlag.NoFailover;
    if (myself.flags !== before) this.changed();
  }

  /** The bus port this node listens on: cluster-port, else the client port (the TLS one with tls-cluster) + 10000. */
  listenBusPort(): number {
    const config = this.server.config;
    if (config.clusterPort !== 0) return config.clusterPort;
    return (config.tlsCluster ? this.server.tlsPort : this.server.port) + 10000;
  }

  /** The bus port this node announces (cluster-announce-bus-port overrides). */
  busPort(): number {
    return this.server.config.clusterAnnounceBusPort || this.listenBusPort();
  }

  get myself(): ClusterNode {
    return this.state.myself;
  }

  // -------------------------------------------------------------------------------------
  // Saving and updating, once per turn (Redis's clusterDoBeforeSleep)
  // -------------------------------------------------------------------------------------

  /**
   * The state changed: nodes.conf is rewritten (and synced, for a change that must survive
   * a crash: an epoch, a vote, a role), and the health recomputed, before the turn ends.
   */
  changed(save = true, fsync = false): void {
    if (save) this.saveQueued = true;
    if (fsync) this.fsyncQueued = true;
    if (!this.updateQueued) {
      this.updateQueued = true;
      queueMicrotask(this.beforeSleep);
    }
  }

  private readonly beforeSleep = (): void => {
    this.updateQueued = false;
    this.updateState();
    if (this.saveQueued) this.saveNow(this.fsyncQueued);
  };

  /** Writes nodes.conf now; logs and carries on when it cannot, as Redis does outside CLUSTER SAVECONFIG. */
  saveNow(fsync = true): boolean {
    this.saveQueued = false;
    this.fsyncQueued = false;
    try {
      saveNodesConf(this.configPath, this.state, this.bus.isConnected, fsync);
      return true;
    } catch (e) {
      this.server.log.warning(`Could not save cluster config file: ${(e as Error).message}`);
      return false;
    }
  }

  /** CLUSTER NODES. */
  /** CLUSTER NODES, with the ports `c` is to use. */
  nodesText(c: Client): string {
    return nodesDescription(this.state, this.bus.isConnected, this.portsFor(c));
  }

  /**
   * Redis's getNodeClientPort: the port a client is told for `node`. With tls-cluster the
   * nodes announce their TLS port, and a client on a plain connection gets the plain one.
   */
  clientPort(node: ClusterNode, c: Client | null): number {
    return this.server.config.tlsCluster && c !== null && !c.tls ? node.pport : node.port;
  }

  /** clientPort for one client, as CLUSTER NODES, REPLICAS and SLOTS take it. */
  portsFor(c: Client): PortOf {
    return (node) => this.clientPort(node, c);
  }

  /**
   * Redis's clusterUpdateState: the cluster is ok when every slot is served by a master
   * that is not failing (unless cluster-require-full-coverage no) and this node, as a
   * master, can reach a majority of the masters with slots.
   */
  updateState(): void {
    const state = this.state;
    const config = this.server.config;
    const now = Date.now();
    if (this.firstUpdateMs === 0) this.firstUpdateMs = now;
    // A master that just started waits a little before it says ok, so that it learns of
    // the others first (Redis's CLUSTER_WRITABLE_DELAY).
    if (this.myself.isMaster && state.health === ClusterHealth.Fail && now - this.firstUpdateMs < WRITABLE_DELAY_MS) return;
    let health = ClusterHealth.Ok;
    if (config.clusterRequireFullCoverage) {
      for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
        const owner = state.slotOwners[slot];
        if (owner === null || owner.has(NodeFlag.Fail)) {
          health = ClusterHealth.Fail;
          break;
        }
      }
    }
    let size = 0;
    let reachable = 0;
    for (const node of state.nodes.values()) {
      if (!node.isMaster || node.numSlots === 0) continue;
      size++;
      if (!node.has(NodeFlag.Fail) && !node.has(NodeFlag.PFail)) reachable++;
    }
    state.size = size;
    const quorum = Math.floor(size / 2) + 1;
    if (reachable < quorum) {
      health = ClusterHealth.Fail;
      this.minoritySinceMs = now;
    }
    if (health === state.health) return;
    // Back from a minority partition, a master waits before it accepts writes again.
    let rejoinDelay = config.clusterNodeTimeout;
    if (rejoinDelay > REJOIN_DELAY_MAX_MS) rejoinDelay = REJOIN_DELAY_MAX_MS;
    if (rejoinDelay < REJOIN_DELAY_MIN_MS) rejoinDelay = REJOIN_DELAY_MIN_MS;
    if (health === ClusterHealth.Ok && this.myself.isMaster && now - this.minoritySinceMs < rejoinDelay) return;
    this.server.log.warning(`Cluster state changed: ${health === ClusterHealth.Ok ? "ok" : "fail"}`);
    state.health = health;
  }

  /**
   * Clients blocked on keys this node no longer serves (the slot moved, or a failover made
   * this node a replica) are answered with the redirection, and a cluster that went down
   * answers them CLUSTERDOWN (Redis's clusterRedirectBlockedClientIfNeeded).
   */
  redirectBlockedClients(): void {
    const blocking = this.server.blocking;
    if (blocking.blockedCount === 0) return;
    const state = this.state;
    const myself = this.myself;
    for (const c of blocking.blockedClients()) {
      const wait = blocking.waitOf(c);
      if (wait === undefined || wait.keys.length === 0) continue;
      if (state.health === ClusterHealth.Fail) {
        blocking.unblockByRequest(c, true, "CLUSTERDOWN The cluster is down");
        continue;
      }
      for (const key of wait.keys) {
        const bytes = Buffer.from(key, "latin1");
        const slot = keyHashSlot(bytes, 0, bytes.length);
        const owner = state.slotOwners[slot];
        if (owner === myself || owner === null) continue;
        if (state.importingFrom[slot] !== null && c.asking) continue;
        // A READONLY client of a replica may keep waiting on its master's slots for a read.
        if (owner === myself.master && c.readonlyReplica && c.lastCommand !== null && !(c.lastCommand.flags & CMD.write)) continue;
        blocking.unblockByRequest(c, true, `MOVED ${slot} ${owner.ip}:${this.clientPort(owner, c)}`);
        break;
      }
    }
  }

  // -------------------------------------------------------------------------------------
  // Slots and keys
  // -------------------------------------------------------------------------------------

  /** Keys of database 0 in `slot` (Redis's countKeysInSlot). */
  countKeysInSlot(slot: number): number {
    return this.slotIndex.countKeys(slot);
  }

  /** Up to `count` keys of `slot`, as bytes (CLUSTER GETKEYSINSLOT). */
  keysInSlot(slot: number, count: number): Uint8Array[] {
    const keys: Uint8Array[] = [];
    if (count === 0) return keys;
    const table = this.server.dbs[0]!.table;
    this.forEachKeyInSlot(slot, (id) => {
      keys.push(table.keyBytes(id));
      return keys.length < count;
    });
    return keys;
  }

  /** Calls `visit` with each key id of `slot` until it returns false. */
  private forEachKeyInSlot(slot: number, visit: (id: number) => boolean): void {
    this.slotIndex.forEachKey(slot, visit);
  }

  /** Whether database 0 holds any key of `slot`. */
  hasKeysInSlot(slot: number): boolean {
    return this.slotIndex.countKeys(slot) > 0;
  }

  /** Deletes every key of `slot` (Redis's delKeysInSlot), propagating each deletion. */
  deleteKeysInSlot(slot: number): number {
    const server = this.server;
    const db = server.dbs[0]!;
    const ids: number[] = [];
    this.forEachKeyInSlot(slot, (id) => {
      ids.push(id);
      return true;
    });
    for (const id of ids) {
      const key = db.table.keyBytes(id);
      db.delete(id);
      if (server.propagation.active) server.propagation.add(0, ["DEL", key]);
    }
    if (server.propagation.active) server.propagation.flushEach();
    server.dirty += ids.length;
    return ids.length;
  }

  // -------------------------------------------------------------------------------------
  // Roles and epochs
  // -------------------------------------------------------------------------------------

  /**
   * This node becomes a replica of `master` (CLUSTER REPLICATE, or a failover elsewhere):
   * its slots go, and replication follows the master (Redis's clusterSetMaster).
   */
  setMaster(master: ClusterNode): void {
    const myself = this.myself;
    if (myself.isMaster) {
      myself.flags = (myself.flags & ~(NodeFlag.Master | NodeFlag.MigrateTo)) | NodeFlag.Replica;
      this.state.deleteNodeSlots(myself);
      for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
        this.state.importingFrom[slot] = null;
        this.state.migratingTo[slot] = null;
      }
    } else if (myself.master !== null) {
      myself.master.removeReplica(myself);
    }
    myself.master = master;
    master.addReplica(myself);
    this.server.upstream.setMaster(master.ip, master.port);
    this.bus.failover.resetManual();
    this.changed(true, true);
  }

  /**
   * Redis's clusterBumpConfigEpochWithoutConsensus: a config epoch higher than any other, so
   * that this node's slot claims win. True when it had to change.
   */
  bumpEpochWithoutConsensus(): boolean {
    const max = this.state.maxEpoch();
    const myself = this.myself;
    if (myself.configEpoch !== 0 && myself.configEpoch === max) return false;
    this.state.currentEpoch++;
    myself.configEpoch = this.state.currentEpoch;
    this.changed(true, true);
    this.server.log.warning(`New configEpoch set to ${myself.configEpoch}`);
    return true;
  }

  /**
   * CLUSTER RESET: forget every other node and every slot; HARD also takes a new name and
   * zeroes the epochs (Redis's clusterReset). A replica becomes an empty master.
   */
  reset(hard: boolean): void {
    const state = this.state;
    const myself = this.myself;
    if (myself.isReplica) {
      this.server.upstream.unsetMaster();
      this.server.emptyAllDatabases();
      if (myself.master !== null) myself.master.removeReplica(myself);
      myself.master = null;
      myself.flags = (myself.flags & ~NodeFlag.Replica) | NodeFlag.Master;
    }
    for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
      state.importingFrom[slot] = null;
      state.migratingTo[slot] = null;
      state.deleteSlot(slot);
    }
    for (const node of [...state.nodes.values()]) {
      if (node === myself) continue;
      this.bus.dropNode(node);
      state.deleteNode(node);
    }
    state.forgotten.clear();
    if (hard) {
      state.currentEpoch = 0;
      state.lastVoteEpoch = 0;
      myself.configEpoch = 0;
      state.renameNode(myself, randomNodeName());
      this.server.log.notice(`Node hard reset, now I'm ${myself.name}`);
    }
    this.changed();
  }

  /** The lines of CLUSTER INFO. */
  infoText(): string {
    const state = this.state;
    let assigned = 0;
    let ok = 0;
    let pfail = 0;
    let fail = 0;
    for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
      const owner = state.slotOwners[slot];
      if (owner === null) continue;
      assigned++;
      if (owner.has(NodeFlag.Fail)) fail++;
      else if (owner.has(NodeFlag.PFail)) pfail++;
      else ok++;
    }
    const myEpoch = ClusterState.masterOf(this.myself).configEpoch;
    const lines = [
      `cluster_state:${state.health === ClusterHealth.Ok ? "ok" : "fail"}`,
      `cluster_slots_assigned:${assigned}`,
      `cluster_slots_ok:${ok}`,
      `cluster_slots_pfail:${pfail}`,
      `cluster_slots_fail:${fail}`,
      `cluster_known_nodes:${state.nodes.size}`,
      `cluster_size:${state.size}`,
      `cluster_current_epoch:${state.currentEpoch}`,
      `cluster_my_epoch:${myEpoch}`,
      ...this.bus.statsLines(),
      `total_cluster_links_buffer_limit_exceeded:${this.bus.linksFreedOverLimit}`,
    ];
    return lines.join("\r\n") + "\r\n";
  }
}

export { NodesConfError };
