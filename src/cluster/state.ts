// What a cluster node knows of the cluster (Redis's clusterState and clusterNode): the nodes
// with their addresses, roles, flags and epochs, and which master serves each of the 16384
// hash slots. The bus (bus.ts) keeps it up to date; CLUSTER commands read and change it;
// nodes.conf (nodes-conf.ts) saves it.

import { CLUSTER_SLOTS, SLOT_BITMAP_BYTES, clearSlotBit, setSlotBit, slotBit } from "./slots.ts";

export { CLUSTER_SLOTS };
/** Redis's CLUSTER_NAMELEN: a node name is 40 hex characters. */
export const NODE_NAME_LENGTH = 40;

/** Node flags, with Redis's CLUSTER_NODE_* bit values (the bus carries them). */
export const enum NodeFlag {
  Master = 1,
  Replica = 2,
  /** Possibly failing: this node did not hear from it within cluster-node-timeout. */
  PFail = 4,
  /** Failing: a majority of masters agreed. */
  Fail = 8,
  Myself = 16,
  /** Met but not yet identified: its name is a placeholder until its first PONG. */
  Handshake = 32,
  /** Its address is unknown. */
  NoAddr = 64,
  /** To be sent a MEET rather than a PING. */
  Meet = 128,
  /** A master that is the target of a replica migration. */
  MigrateTo = 256,
  /** A replica that never fails over (cluster-replica-no-failover). */
  NoFailover = 512,
}

/** A node's name: random 40 hex characters, as Redis's getRandomHexChars. */
export function randomNodeName(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(NODE_NAME_LENGTH / 2));
  return Buffer.from(bytes).toString("hex");
}

export class ClusterNode {
  /** Milliseconds when it was created (for handshake timeouts). */
  readonly createdMs = Date.now();
  flags: number;
  /** The epoch of its slot claims. */
  configEpoch = 0;
  /** Slots it serves, as a bitmap (masters only). */
  readonly slots = new Uint8Array(SLOT_BITMAP_BYTES);
  numSlots = 0;
  /** The master of a replica, or null. */
  master: ClusterNode | null = null;
  /** The replicas of a master. */
  readonly replicas: ClusterNode[] = [];
  /** When the last PING was sent (0 when none awaits a PONG), and the last PONG came. */
  pingSentMs = 0;
  pongReceivedMs = 0;
  /** When anything was last received from it. */
  dataReceivedMs = 0;
  /** When it was flagged FAIL. */
  failTimeMs = 0;
  /** When it was last seen as a master with slots and no working replica, 0 when not. */
  orphanedSinceMs = 0;
  /** When this node last voted for one of its replicas. */
  votedTimeMs = 0;
  /** Its replication offset, as it reported, and when. */
  replOffset = 0;
  replOffsetTimeMs = 0;
  /** Masters that reported it failing, with when (Redis's fail_reports). */
  readonly failReports = new Map<ClusterNode, number>();
  hostname = "";
  /** With tls-cluster, `port` is its TLS port and this its plain one (0 when unknown); else 0. */
  pport = 0;

  constructor(
    public name: string,
    flags: number,
    public ip = "",
    public port = 0,
    public cport = 0,
  ) {
    this.flags = flags;
  }

  has(flag: NodeFlag): boolean {
    return (this.flags & flag) !== 0;
  }

  get isMaster(): boolean {
    return (this.flags & NodeFlag.Master) !== 0;
  }

  get isReplica(): boolean {
    return (this.flags & NodeFlag.Replica) !== 0;
  }

  ownsSlot(slot: number): boolean {
    return slotBit(this.slots, slot);
  }

  /** Sets a slot's bit; true when it was not set. */
  addSlotBit(slot: number): boolean {
    if (this.ownsSlot(slot)) return false;
    setSlotBit(this.slots, slot);
    this.numSlots++;
    return true;
  }

  /** Clears a slot's bit; true when it was set. */
  clearSlotBit(slot: number): boolean {
    if (!this.ownsSlot(slot)) return false;
    clearSlotBit(this.slots, slot);
    this.numSlots--;
    return true;
  }

  /** Its slots as [first, last] ranges, in order; whole bytes of the bitmap at a time where it can. */
  slotRanges(): [number, number][] {
    const ranges: [number, number][] = [];
    const bits = this.slots;
    let start = -1;
    for (let byte = 0; byte < bits.length; byte++) {
      const b = bits[byte]!;
      // Eight slots alike continue or end a range as one.
      if (b === 0xff && start >= 0) continue;
      if (b === 0) {
        if (start >= 0) {
          ranges.push([start, byte * 8 - 1]);
          start = -1;
        }
        continue;
      }
      for (let bit = 0; bit < 8; bit++) {
        const owned = (b & (1 << bit)) !== 0;
        if (owned && start < 0) start = byte * 8 + bit;
        else if (!owned && start >= 0) {
          ranges.push([start, byte * 8 + bit - 1]);
          start = -1;
        }
      }
    }
    if (start >= 0) ranges.push([start, CLUSTER_SLOTS - 1]);
    return ranges;
  }

  /** A master that has had replicas is a target for replica migration (MIGRATE_TO). */
  addReplica(replica: ClusterNode): void {
    if (!this.replicas.includes(replica)) this.replicas.push(replica);
    this.flags |= NodeFlag.MigrateTo;
  }

  removeReplica(replica: ClusterNode): void {
    const at = this.replicas.indexOf(replica);
    if (at >= 0) this.replicas.splice(at, 1);
  }

  /** The replicas that are not failing (Redis's clusterCountNonFailingSlaves). */
  nonFailingReplicas(): number {
    let n = 0;
    for (const r of this.replicas) if (!r.has(NodeFlag.Fail)) n++;
    return n;
  }
}

export const enum ClusterHealth {
  Ok,
  Fail,
}

export class ClusterState {
  readonly myself: ClusterNode;
  currentEpoch = 0;
  lastVoteEpoch = 0;
  health = ClusterHealth.Fail;
  /** Masters serving at least one slot (CLUSTER INFO cluster_size). */
  size = 0;
  readonly nodes = new Map<string, ClusterNode>();
  /** The master serving each slot, or null. */
  readonly slotOwners: (ClusterNode | null)[] = new Array(CLUSTER_SLOTS).fill(null);
  /** CLUSTER SETSLOT MIGRATING / IMPORTING, per slot. */
  readonly migratingTo: (ClusterNode | null)[] = new Array(CLUSTER_SLOTS).fill(null);
  readonly importingFrom: (ClusterNode | null)[] = new Array(CLUSTER_SLOTS).fill(null);
  /** Nodes CLUSTER FORGET removed, not to be re-added by gossip until the time passes. */
  readonly forgotten = new Map<string, number>();

  constructor(myself: ClusterNode) {
    this.myself = myself;
    this.nodes.set(myself.name, myself);
  }

  node(name: string): ClusterNode | undefined {
    return this.nodes.get(name);
  }

  addNode(node: ClusterNode): void {
    this.nodes.set(node.name, node);
  }

  /** A node's name changes once its handshake tells the real one (Redis's clusterRenameNode). */
  renameNode(node: ClusterNode, name: string): void {
    this.nodes.delete(node.name);
    node.name = name;
    this.nodes.set(name, node);
  }

  /** Removes a node and every reference to it (Redis's clusterDelNode). */
  deleteNode(node: ClusterNode): void {
    for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
      if (this.importingFrom[slot] === node) this.importingFrom[slot] = null;
      if (this.migratingTo[slot] === node) this.migratingTo[slot] = null;
      if (this.slotOwners[slot] === node) this.slotOwners[slot] = null;
    }
    for (const other of this.nodes.values()) other.failReports.delete(node);
    if (node.master !== null) node.master.removeReplica(node);
    for (const r of node.replicas) if (r.master === node) r.master = null;
    this.nodes.delete(node.name);
  }

  /** Slot `slot` is served by `node` (Redis's clusterAddSlot); false when it already has an owner. */
  addSlot(slot: number, node: ClusterNode): boolean {
    if (this.slotOwners[slot] !== null) return false;
    node.addSlotBit(slot);
    this.slotOwners[slot] = node;
    return true;
  }

  /** Slot `slot` is served by nobody (Redis's clusterDelSlot); false when it had no owner. */
  deleteSlot(slot: number): boolean {
    const owner = this.slotOwners[slot];
    if (owner === null) return false;
    owner.clearSlotBit(slot);
    this.slotOwners[slot] = null;
    return true;
  }

  /** Every slot of `node` is served by nobody; returns how many it had. */
  deleteNodeSlots(node: ClusterNode): number {
    let deleted = 0;
    for (let slot = 0; slot < CLUSTER_SLOTS; slot++) if (this.slotOwners[slot] === node && this.deleteSlot(slot)) deleted++;
    return deleted;
  }

  /** The highest config epoch of any node (Redis's clusterGetMaxEpoch), at least currentEpoch. */
  maxEpoch(): number {
    let max = this.currentEpoch;
    for (const node of this.nodes.values()) if (node.configEpoch > max) max = node.configEpoch;
    return max;
  }

  /** Masters with slots (Redis counts those in the quorum). */
  mastersWithSlots(): ClusterNode[] {
    const masters: ClusterNode[] = [];
    for (const node of this.nodes.values()) if (node.isMaster && node.numSlots > 0) masters.push(node);
    return masters;
  }

  /** The master a node follows, for replicas; the node itself for masters. */
  static masterOf(node: ClusterNode): ClusterNode {
    return node.isReplica && node.master !== null ? node.master : node;
  }
}
