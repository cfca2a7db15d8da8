// Cluster commands: CLUSTER and its subcommands, READONLY, READWRITE, ASKING (Redis's
// clusterCommand). They answer "This instance has cluster support disabled" unless the
// server runs with cluster-enabled yes. See src/cluster/.

import type { Client } from "../server/client.ts";
import type { CommandDef } from "./table.ts";
import type { ReplyWriter } from "../resp/writer.ts";
import { type Cluster, preferredEndpoint } from "../cluster/cluster.ts";
import { OK } from "../resp/writer.ts";
import { ERR } from "../resp/errors.ts";
import { parseLongLong, parsedInt64 } from "../util/numbers.ts";
import { keyHashSlot } from "../cluster/slots.ts";
import { CLUSTER_SLOTS, type ClusterNode, NodeFlag } from "../cluster/state.ts";
import { nodeDescription, type PortOf } from "../cluster/nodes-conf.ts";

const DISABLED = "ERR This instance has cluster support disabled";

/** Redis's CLUSTER_BLACKLIST_TTL: a forgotten node is not re-added by gossip for this long. */
const FORGET_TTL_MS = 60_000;

const HELP = [
  "CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "ADDSLOTS <slot> [<slot> ...]",
  "    Assign slots to current node.",
  "ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
  "    Assign slots which are between <start-slot> and <end-slot> to current node.",
  "BUMPEPOCH",
  "    Advance the cluster config epoch.",
  "COUNT-FAILURE-REPORTS <node-id>",
  "    Return number of failure reports for <node-id>.",
  "COUNTKEYSINSLOT <slot>",
  "    Return the number of keys in <slot>.",
  "DELSLOTS <slot> [<slot> ...]",
  "    Delete slots information from current node.",
  "DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
  "    Delete slots information which are between <start-slot> and <end-slot> from current node.",
  "FAILOVER [FORCE|TAKEOVER]",
  "    Promote current replica node to being a master.",
  "FORGET <node-id>",
  "    Remove a node from the cluster.",
  "GETKEYSINSLOT <slot> <count>",
  "    Return key names stored by current node in a slot.",
  "FLUSHSLOTS",
  "    Delete current node own slots information.",
  "INFO",
  "    Return information about the cluster.",
  "KEYSLOT <key>",
  "    Return the hash slot for <key>.",
  "MEET <ip> <port> [<bus-port>]",
  "    Connect nodes into a working cluster.",
  "MYID",
  "    Return the node id.",
  "NODES",
  "    Return cluster configuration seen by node. Output format:",
  "    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
  "REPLICATE <node-id>",
  "    Configure current node as replica to <node-id>.",
  "RESET [HARD|SOFT]",
  "    Reset current node (default: soft).",
  "SET-CONFIG-EPOCH <epoch>",
  "    Set config epoch of current node.",
  "SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)",
  "    Set slot state.",
  "REPLICAS <node-id>",
  "    Return <node-id> replicas.",
  "SAVECONFIG",
  "    Force saving cluster configuration on disk.",
  "SLOTS",
  "    Return information about slots range mappings. Each range is made of:",
  "    start, end, master and replicas IP addresses, ports and ids",
  "SHARDS",
  "    Return information about slot range mappings and the nodes associated with them.",
  "LINKS",
  "    Return information about all network links between this node and its peers.",
  "    Output format is an array where each array element is a map containing attributes of a link",
  "HELP",
  "    Prints this help.",
];

/** The cluster, or null after answering that cluster mode is off. */
function clusterOf(c: Client): Cluster | null {
  const cluster = c.server.cluster;
  if (cluster === null) c.w.addError(DISABLED);
  return cluster;
}

/** Argument i as a slot (Redis's getSlotOrReply), or -1 after replying. */
function slotArg(c: Client, i: number): number {
  const argv = c.argv;
  if (!parseLongLong(argv.buf, argv.start[i]!, argv.len[i]!) || parsedInt64.value < 0 || parsedInt64.value >= CLUSTER_SLOTS) {
    c.w.addError("ERR Invalid or out of range slot");
    return -1;
  }
  return parsedInt64.value;
}

/** The node named by argument i, or null after replying `Unknown node <name>`. */
function nodeArg(c: Client, cluster: Cluster, i: number, message = "Unknown node"): ClusterNode | null {
  const name = c.argv.str(i);
  const node = cluster.state.node(name);
  if (node === undefined) {
    c.w.addError(`ERR ${message} ${name}`);
    return null;
  }
  return node;
}

// ---------------------------------------------------------------------------------------
// READONLY, READWRITE, ASKING
// ---------------------------------------------------------------------------------------

function askingCommand(c: Client): void {
  if (clusterOf(c) === null) return;
  c.asking = true;
  c.w.addRaw(OK);
}

function readonlyCommand(c: Client): void {
  if (clusterOf(c) === null) return;
  c.readonlyReplica = true;
  c.w.addRaw(OK);
}

function readwriteCommand(c: Client): void {
  if (clusterOf(c) === null) return;
  c.readonlyReplica = false;
  c.w.addRaw(OK);
}

// ---------------------------------------------------------------------------------------
// Information
// ---------------------------------------------------------------------------------------

function clusterHelpCommand(c: Client): void {
  if (clusterOf(c) === null) return;
  c.w.addHelp(HELP);
}

function clusterInfoCommand(c: Client): void {
  const cluster = clusterOf(c);
  if (cluster === null) return;
  c.w.addVerbatim(cluster.infoText());
}

function clusterNodesCommand(c: Client): void {
  const cluster = clusterOf(c);
  if (cluster === null) return;
  c.w.addVerbatim(cluster.nodesText(c));
}

function clusterMyidCommand(c: Client): void {
  const cluster = clusterOf(c);
  if (cluster === null) return;
  c.w.addBulkLatin1(cluster.myself.name);
}

function clusterKeyslotCommand(c: Client): void {
  if (clusterOf(c) === null) return;
  const argv = c.argv;
  c.w.addInteger(keyHashSlot(argv.buf, argv.start[2]!, argv.len[2]!));
}

function clusterCountkeysinslotCommand(c: Client): void {
  const cluster = clusterOf(c);
  if (cluster === null) return;
  const argv = c.argv;
  if (!parseLongLong(argv.buf, argv.start[2]!, argv.len[2]!)) return c.w.addErrorBytes(ERR.notInteger);
  const slot = parsedInt64.value;
  if (slot < 0 || slot >= CLUSTER_SLOTS) return c.w.addError("ERR Invalid slot");
  c.w.addInteger(cluster.countKeysInSlot(slot));
}

function clusterGetkeysinslotCommand(c: Client): void {
  const cluster = clusterOf(c);
  if (cluster === null) return;
  const argv = c.argv;
  if (!parseLongLong(argv.buf, argv.start[2]!, argv.len[2]!)) return c.w.addErrorBytes(ERR.notInteger);
  const slot = parsedInt64.value;
  if (!parseLongLong(argv.buf, argv.start[3]!, argv.len[3]!)) return c.w.addErrorBytes(ERR.notInteger);
  const count = parsedInt64.value;
  if (slot < 0 || slot >= CLUSTER_SLOTS || count < 0) return c.w.addError("ERR Invalid slot or number of keys");
  const keys = cluster.keysInSlot(slot, count);
  c.w.addArrayLen(keys.length);
  for (const key of keys) c.w.addBulk(key);
}

function clusterCountFailureReportsCommand(c: Client): void {
  const cluster = clusterOf(c);
  if (cluster === null) return;
  const node = nodeArg(c, cluster, 2);
  if (node === null) return;
  c.w.addInteger(cluster.bus.failureReports(node));
}

/** CLUSTER REPLICAS and SLAVES: the CLUSTER NODES lines of a master's replicas. */
function clusterReplicasCommand(c: Client): void {
  const cluster = clusterOf(c);
  if (cluster === null) return;
  const node = nodeArg(c, cluster, 2);
  if (node === null) return;
  if (node.isReplica) return c.w.addError("ERR The specified node is not a master");
  c.w.addArrayLen(node.replicas.length);
  const portOf = cluster.portsFor(c);
  for (const r of node.replicas) c.w.addBulkLatin1(nodeDescription(cluster.state, r, cluster.bus.isConnected, portOf));
}

/**
 * One node of a CLUSTER SLOTS range (Redis's addNodeToNodeReply): the preferred endpoint
 * (null when the type is unknown-endpoint), port, name, then a map of the networking
 * fields the endpoint did not show: the ip unless it was the ip, the hostname if any
 * unless it was the hostname.
 */
function addSlotsNode(w: ReplyWriter, node: ClusterNode, endpointType: string, portOf: PortOf): void {
  w.addArrayLen(4);
  if (endpointType === "unknown-endpoint") w.addNull();
  else w.addBulkLatin1(preferredEndpoint(node, endpointType));
  w.addInteger(portOf(node));
  w.addBulkLatin1(node.name);
  const showIp = endpointType !== "ip";
  const showHostname = endpointType !== "hostname" && node.hostname !== "";
  w.addMapLen((showIp ? 1 : 0) + (showHostname ? 1 : 0));
  if (showIp) {
    w.addBulkLatin1("ip");
    w.addBulkLatin1(node.ip);
  }
  if (showHostname) {
    w.addBulkLatin1("hostname");
    w.addBulkLatin1(node.hostname);
  }
}

/** The replication offset a node reports: this node's own, else the last one its messages carried. */
function replOffsetOf(node: ClusterNode, cluster: Cluster): number {
  if (node !== cluster.myself) return node.replOffset;
  return node.isReplica ? cluster.server.upstream.reploff : cluster.server.replication.offset;
}

/** A replica listed by CLUSTER SLOTS: not failing, and done with its first sync (Redis's isReplicaAvailable). */
function replicaAvailable(node: ClusterNode, cluster: Cluster): boolean {
  return !node.has(NodeFlag.Fail) && replOffsetOf(node, cluster) !== 0;
}

/** CLUSTER SLOTS: each run of slots with one owner, from slot 0 up, with its master and available replicas. */
function clusterSlotsCommand(c: Client): void {
  const cluster = clusterOf(c);
  if (cluster === null) return;
  const w = c.w;
  const endpointType = c.server.config.clusterPreferredEndpointType;
  const portOf = cluster.portsFor(c);
  const owners = cluster.state.slotOwners;
  const lenAt = w.deferLen();
  let ranges = 0;
  for (let slot = 0; slot < CLUSTER_SLOTS; ) {
    const owner = owners[slot];
    let last = slot;
    while (last + 1 < CLUSTER_SLOTS && owners[last + 1] === owner) last++;
    if (owner !== null && owner !== undefined) {
      addSlotsRange(w, cluster, slot, last, owner, endpointType, portOf);
      ranges++;
    }
    slot = last + 1;
  }
  w.setDeferredLen(lenAt, "array", ranges);
}

function addSlotsRange(w: ReplyWriter, cluster: Cluster, first: number, last: number, master: ClusterNode, endpointType: string, portOf: PortOf): void {
  let available = 0;
  for (const r of master.replicas) if (replicaAvailable(r, cluster)) available++;
  w.addArrayLen(3 + available);
  w.addInteger(first);
  w.addInteger(last);
  addSlotsNode(w, master, endpointType, portOf);
  for (const r of master.replicas) if (replicaAvailable(r, cluster)) addSlotsNode(w, r, endpointType, portOf);
}

/** A node's health for CLUSTER SHARDS: a replica that has not synced yet is still loading. */
function healthOf(node: ClusterNode, offset: number): string {
  if (node.has(NodeFlag.Fail)) return "fail";
  if (node.isReplica && offset === 0) return "loading";
  return "online";
}

/**
 * One node of a shard (Redis's addNodeDetailsToShardReply); the ports only when known (with
 * tls-cluster, "port" is the plain one and "tls-port" the announced one), the hostname only when set.
 */
function addShardNode(w: ReplyWriter, node: ClusterNode, cluster: Cluster, endpointType: string): void {
  const offset = replOffsetOf(node, cluster);
  const tlsCluster = cluster.server.config.tlsCluster;
  const port = tlsCluster ? node.pport : node.port;
  const tlsPort = tlsCluster ? node.port : 0;
  w.addMapLen(6 + (port !== 0 ? 1 : 0) + (tlsPort !== 0 ? 1 : 0) + (node.hostname !== "" ? 1 : 0));
  w.addBulkLatin1("id");
  w.addBulkLatin1(node.name);
  if (port !== 0) {
    w.addBulkLatin1("port");
    w.addInteger(port);
  }
  if (tlsPort !== 0) {
    w.addBulkLatin1("tls-port");
    w.addInteger(tlsPort);
  }
  w.addBulkLatin1("ip");
  w.addBulkLatin1(node.ip);
  w.addBulkLatin1("endpoint");
  w.addBulkLatin1(preferredEndpoint(node, endpointType));
  if (node.hostname !== "") {
    w.addBulkLatin1("hostname");
    w.addBulkLatin1(node.hostname);
  }
  w.addBulkLatin1("role");
  w.addBulkLatin1(node.isReplica ? "replica" : "master");
  w.addBulkLatin1("replication-offset");
  w.addInteger(offset);
  w.addBulkLatin1("health");
  w.addBulkLatin1(healthOf(node, offset));
}

/** CLUSTER SHARDS: every master, with or without slots, its slot ranges, then itself and its replicas. */
function clusterShardsCommand(c: Client): void {
  const cluster = clusterOf(c);
  if (cluster === null) return;
  const w = c.w;
  const endpointType = c.server.config.clusterPreferredEndpointType;
  const lenAt = w.deferLen();
  let shards = 0;
  for (const master of cluster.state.nodes.values()) {
    if (!master.isMaster) continue;
    shards++;
    w.addMapLen(2);
    w.addBulkLatin1("slots");
    const ranges = master.slotRanges();
    w.addArrayLen(ranges.length * 2);
    for (const [first, last] of ranges) {
      w.addInteger(first);
      w.addInteger(last);
    }
    w.addBulkLatin1("nodes");
    w.addArrayLen(1 + master.replicas.length);
    addShardNode(w, master, cluster, endpointType);
    for (const r of master.replicas) addShardNode(w, r, cluster, endpointType);
  }
  w.setDeferredLen(lenAt, "array", shards);
}

function clusterLinksCommand(c: Client): void {
  const cluster = clusterOf(c);
  if (cluster === null) return;
  const w = c.w;
  const links = cluster.bus.linkInfo();
  w.addArrayLen(links.length);
  for (const link of links) {
    w.addMapLen(6);
    w.addBulkLatin1("direction");
    w.addBulkLatin1(link.direction);
    w.addBulkLatin1("node");
    w.addBulkLatin1(link.node);
    w.addBulkLatin1("create-time");
    w.addInteger(link.createdMs);
    w.addBulkLatin1("events");
    w.addBulkLatin1(link.events);
    w.addBulkLatin1("send-buffer-allocated");
    w.addInteger(link.sendBufferAllocated);
    w.addBulkLatin1("send-buffer-used");
    w.addInteger(link.sendBufferUsed);
  }
}

// ---------------------------------------------------------------------------------------
// Slots
// ---------------------------------------------------------------------------------------

/**
 * The slots named by ADDSLOTS / DELSLOTS (`ranges` false) or ADDSLOTSRANGE /
 * DELSLOTSRANGE, checked as Redis checks them, or null after replying.
 */
function slotsArgs(c: Client, cluster: Cluster, del: boolean, ranges: boolean): Uint8Array | null {
  const argv = c.argv;
  const wanted = new Uint8Array(CLUSTER_SLOTS);
  const owners = cluster.state.slotOwners;
  const mark = (slot: number): boolean => {
    if (del && owners[slot] === null) {
      c.w.addError(`ERR Slot ${slot} is already unassigned`);
      return false;
    }
    if (!del && owners[slot] !== null) {
      c.w.addError(`ERR Slot ${slot} is already busy`);
      return false;
    }
    if (wanted[slot]++ === 1) {
      c.w.addError(`ERR Slot ${slot} specified multiple times`);
      return false;
    }
    return true;
  };
  if (!ranges) {
    for (let i = 2; i < argv.count; i++) {
      const slot = slotArg(c, i);
      if (slot < 0 || !mark(slot)) return null;
    }
    return wanted;
  }
  if (argv.count % 2 === 1) {
    c.w.addError(`ERR wrong number of arguments for 'cluster|${del ? "delslotsrange" : "addslotsrange"}' command`);
    return null;
  }
  const bounds: number[] = [];
  for (let i = 2; i < argv.count; i += 2) {
    const first = slotArg(c, i);
    if (first < 0) return null;
    const last = slotArg(c, i + 1);
    if (last < 0) return null;
    if (first > last) {
      c.w.addError(`ERR start slot number ${first} is greater than end slot number ${last}`);
      return null;
    }
    bounds.push(first, last);
  }
  for (let i = 0; i < bounds.length; i += 2) {
    for (let slot = bounds[i]!; slot <= bounds[i + 1]!; slot++) if (!mark(slot)) return null;
  }
  return wanted;
}

function updateSlots(c: Client, del: boolean, ranges: boolean): void {
  const cluster = clusterOf(c);
  if (cluster === null) return;
  const wanted = slotsArgs(c, cluster, del, ranges);
  if (wanted === null) return;
  const state = cluster.state;
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
    if (wanted[slot] === 0) continue;
    // This node being the owner now, an import of the slot is over.
    state.importingFrom[slot] = null;
    if (del) state.deleteSlot(slot);
    else state.addSlot(slot, cluster.myself);
  }
  cluster.changed();
  c.w.addRaw(OK);
}

function clusterAddslotsCommand(c: Client): void {
  updateSlots(c, false, false);
}

function clusterDelslotsCommand(c: Client): void {
  updateSlots(c, true, false);
}

function clusterAddslotsrangeCommand(c: Client): void {
  updateSlots(c, false, true);
}

function clusterDelslotsrangeCommand(c: Client): void {
  updateSlots(c, true, true);
}

function clusterFlushslotsCommand(c: Client): void {
  const cluster = clusterOf(c);
  if (cluster === null) return;
  if (c.server.dbs[0]!.size !== 0) return c.w.addError("ERR DB must be empty to perform CLUSTER FLUSHSLOTS.");
  cluster.state.deleteNodeSlots(cluster.myself);
  cluster.changed();
  c.w.addRaw(OK);
}

/** CLUSTER SETSLOT <slot> IMPORTING|MIGRATING|NODE <node-id> | STABLE */
function clusterSetslotCommand(c: Client): void {
  const cluster = clusterOf(c);
  if (cluster === null) return;
  const argv = c.argv;
  const state = cluster.state;
  const myself = cluster.myself;
  if (myself.isReplica) return c.w.addError("ERR Please use SETSLOT only with masters.");
  const slot = slotArg(c, 2);
  if (slot < 0) return;
  if (argv.is(3, "migrating") && argv.count === 5) {
    if (state.slotOwners[slot] !== myself) return c.w.addError(`ERR I'm not the owner of hash slot ${slot}`);
    const node = nodeArg(c, cluster, 4, "I don't know about node");
    if (node === null) return;
    if (node.isReplica) return c.w.addError("ERR Target node is not a master");
    state.migratingTo[slot] = node;
  } else if (argv.is(3, "importing") && argv.count === 5) {
    if (state.slotOwners[slot] === myself) return c.w.addError(`ERR I'm already the owner of hash slot ${slot}`);
    const node = nodeArg(c, cluster, 4, "I don't know about node");
    if (node === null) return;
    if (node.isReplica) return c.w.addError("ERR Target node is not a master");
    state.importingFrom[slot] = node;
  } else if (argv.is(3, "stable") && argv.count === 4) {
    state.importingFrom[slot] = null;
    state.migratingTo[slot] = null;
  } else if (argv.is(3, "node") && argv.count === 5) {
    const node = nodeArg(c, cluster, 4);
    if (node === null) return;
    if (node.isReplica) return c.w.addError("ERR Target node is not a master");
    if (!assignSlot(c, cluster, slot, node)) return;
  } else {
    return c.w.addError("ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP");
  }
  cluster.changed();
  c.w.addRaw(OK);
}

/** SETSLOT ... NODE: the slot's owner changes; false after replying an error. */
function assignSlot(c: Client, cluster: Cluster, slot: number, node: ClusterNode): boolean {
  const state = cluster.state;
  const myself = cluster.myself;
  const wasMine = state.slotOwners[slot] === myself;
  const hasKeys = cluster.hasKeysInSlot(slot);
  if (wasMine && node !== myself && hasKeys) {
    c.w.addError(`ERR Can't assign hashslot ${slot} to a different node while I still hold keys for this hash slot.`);
    return false;
  }
  // A migration whose keys are all gone is over once the slot has its new owner.
  if (!hasKeys) state.migratingTo[slot] = null;
  state.deleteSlot(slot);
  state.addSlot(slot, node);
  // A master left without slots follows the node that took its last one.
  if (wasMine && node !== myself && myself.numSlots === 0 && cluster.server.config.clusterAllowReplicaMigration) {
    cluster.server.log.warning(`Configuration change detected. Reconfiguring myself as a replica of ${node.name}`);
    cluster.setMaster(node);
  }
  if (node === myself && state.importingFrom[slot] !== null) {
    // A slot moved by hand needs a new epoch, so that the rest of the cluster takes it.
    if (cluster.bumpEpochWithoutConsensus()) cluster.server.log.warning(`configEpoch updated after importing slot ${slot}`);
    state.importingFrom[slot] = null;
    cluster.bus.broadcastPong();
  }
  return true;
}

// ---------------------------------------------------------------------------------------
// Nodes, roles and epochs
// ---------------------------------------------------------------------------------------

/** CLUSTER MEET ip port [bus-port] */
function clusterMeetCommand(c: Client): void {
  const cluster = clusterOf(c);
  if (cluster === null) return;
  const argv = c.argv;
  if (argv.count > 5) return c.w.addErrorBytes(ERR.syntax);
  if (!parseLongLong(argv.buf, argv.start[3]!, argv.len[3]!)) return c.w.addError(`ERR Invalid TCP base port specified: ${argv.str(3)}`);
  const port = parsedInt64.value;
  let busPort = port + 10000;
  if (argv.count === 5) {
    if (!parseLongLong(argv.buf, argv.start[4]!, argv.len[4]!)) return c.w.addError(`ERR Invalid TCP bus port specified: ${argv.str(4)}`);
    busPort = parsedInt64.value;
  }
  if (!cluster.bus.meet(argv.str(2), port, busPort)) return c.w.addError(`ERR Invalid node address specified: ${argv.str(2)}:${argv.str(3)}`);
  c.w.addRaw(OK);
}

function clusterForgetCommand(c: Client): void {
  const cluster = clusterOf(c);
  if (cluster === null) return;
  const node = nodeArg(c, cluster, 2);
  if (node === null) return;
  const myself = cluster.myself;
  if (node === myself) return c.w.addError("ERR I tried hard but I can't forget myself...");
  if (myself.isReplica && myself.master === node) return c.w.addError("ERR Can't forget my master!");
  cluster.state.forgotten.set(node.name, Date.now() + FORGET_TTL_MS);
  cluster.bus.dropNode(node);
  cluster.state.deleteNode(node);
  cluster.changed();
  c.w.addRaw(OK);
}

function clusterReplicateCommand(c: Client): void {
  const cluster = clusterOf(c);
  if (cluster === null) return;
  const node = nodeArg(c, cluster, 2);
  if (node === null) return;
  const myself = cluster.myself;
  if (node === myself) return c.w.addError("ERR Can't replicate myself");
  if (node.isReplica) return c.w.addError("ERR I can only replicate a master, not a replica.");
  if (myself.isMaster && (myself.numSlots !== 0 || c.server.dbs[0]!.size !== 0)) {
    return c.w.addError("ERR To set a master the node must be empty and without assigned slots.");
  }
  cluster.setMaster(node);
  c.w.addRaw(OK);
}

function clusterSetConfigEpochCommand(c: Client): void {
  const cluster = clusterOf(c);
  if (cluster === null) return;
  const argv = c.argv;
  if (!parseLongLong(argv.buf, argv.start[2]!, argv.len[2]!)) return c.w.addErrorBytes(ERR.notInteger);
  const epoch = parsedInt64.value;
  const state = cluster.state;
  if (epoch < 0) return c.w.addError(`ERR Invalid config epoch specified: ${epoch}`);
  if (state.nodes.size > 1) return c.w.addError("ERR The user can assign a config epoch only when the node does not know any other node.");
  if (cluster.myself.configEpoch !== 0) return c.w.addError("ERR Node config epoch is already non-zero");
  cluster.myself.configEpoch = epoch;
  c.server.log.warning(`configEpoch set to ${epoch} via CLUSTER SET-CONFIG-EPOCH`);
  if (state.currentEpoch < epoch) state.currentEpoch = epoch;
  cluster.changed(true, true);
  c.w.addRaw(OK);
}

function clusterBumpepochCommand(c: Client): void {
  const cluster = clusterOf(c);
  if (cluster === null) return;
  const bumped = cluster.bumpEpochWithoutConsensus();
  c.w.addSimple(`${bumped ? "BUMPED" : "STILL"} ${cluster.myself.configEpoch}`);
}

function clusterSaveconfigCommand(c: Client): void {
  const cluster = clusterOf(c);
  if (cluster === null) return;
  if (!cluster.saveNow()) return c.w.addError("ERR error saving the cluster node config: see the log");
  c.w.addRaw(OK);
}

/** CLUSTER RESET [HARD|SOFT] */
function clusterResetCommand(c: Client): void {
  const cluster = clusterOf(c);
  if (cluster === null) return;
  const argv = c.argv;
  let hard = false;
  if (argv.count === 3) {
    if (argv.is(2, "hard")) hard = true;
    else if (!argv.is(2, "soft")) return c.w.addErrorBytes(ERR.syntax);
  } else if (argv.count > 3) {
    return c.w.addErrorBytes(ERR.syntax);
  }
  if (cluster.myself.isMaster && c.server.dbs[0]!.size !== 0) return c.w.addError("ERR CLUSTER RESET can't be called with master nodes containing keys");
  cluster.reset(hard);
  c.w.addRaw(OK);
}

/** CLUSTER FAILOVER [FORCE|TAKEOVER] */
function clusterFailoverCommand(c: Client): void {
  const cluster = clusterOf(c);
  if (cluster === null) return;
  const argv = c.argv;
  let force = false;
  let takeover = false;
  if (argv.count === 3) {
    if (argv.is(2, "force")) force = true;
    else if (argv.is(2, "takeover")) takeover = true;
    else return c.w.addErrorBytes(ERR.syntax);
  } else if (argv.count > 3) {
    return c.w.addErrorBytes(ERR.syntax);
  }
  const myself = cluster.myself;
  if (myself.isMaster) return c.w.addError("ERR You should send CLUSTER FAILOVER to a replica");
  if (myself.master === null) return c.w.addError("ERR I'm a replica but my master is unknown to me");
  if (!force && !takeover && (myself.master.has(NodeFlag.Fail) || myself.master.has(NodeFlag.PFail) || !cluster.bus.isConnected(myself.master))) {
    return c.w.addError("ERR Master is down or failed, please use CLUSTER FAILOVER FORCE");
  }
  cluster.bus.startManualFailover(takeover ? "takeover" : force ? "force" : "default");
  c.w.addRaw(OK);
}

// ---------------------------------------------------------------------------------------
// Declarations
// ---------------------------------------------------------------------------------------

const clusterSubcommands: CommandDef[] = [
  {
    name: "cluster|addslots",
    arity: -3,
    flags: "admin stale no_async_loading",
    group: "cluster",
    since: "3.0.0",
    summary: "Assign new hash slots to receiving node",
    complexity: "O(N) where N is the total number of hash slot arguments",
    arguments: [{ name: "slot", type: "integer", flags: ["multiple"] }],
    handler: clusterAddslotsCommand,
  },
  {
    name: "cluster|addslotsrange",
    arity: -4,
    flags: "admin stale no_async_loading",
    group: "cluster",
    since: "7.0.0",
    summary: "Assign new hash slots to receiving node",
    complexity: "O(N) where N is the total number of the slots between the start slot and end slot arguments.",
    arguments: [{ name: "start-slot_end-slot", type: "block", flags: ["multiple"], arguments: [{ name: "start-slot", type: "integer" }, { name: "end-slot", type: "integer" }] }],
    handler: clusterAddslotsrangeCommand,
  },
  {
    name: "cluster|bumpepoch",
    arity: 2,
    flags: "admin stale no_async_loading",
    group: "cluster",
    since: "3.0.0",
    summary: "Advance the cluster config epoch",
    complexity: "O(1)",
    tips: ["nondeterministic_output"],
    handler: clusterBumpepochCommand,
  },
  {
    name: "cluster|count-failure-reports",
    arity: 3,
    flags: "admin stale",
    group: "cluster",
    since: "3.0.0",
    summary: "Return the number of failure reports active for a given node",
    complexity: "O(N) where N is the number of failure reports",
    tips: ["nondeterministic_output"],
    arguments: [{ name: "node-id", type: "string" }],
    handler: clusterCountFailureReportsCommand,
  },
  {
    name: "cluster|countkeysinslot",
    arity: 3,
    flags: "stale",
    group: "cluster",
    since: "3.0.0",
    summary: "Return the number of local keys in the specified hash slot",
    complexity: "O(1)",
    arguments: [{ name: "slot", type: "integer" }],
    handler: clusterCountkeysinslotCommand,
  },
  {
    name: "cluster|delslots",
    arity: -3,
    flags: "admin stale no_async_loading",
    group: "cluster",
    since: "3.0.0",
    summary: "Set hash slots as unbound in receiving node",
    complexity: "O(N) where N is the total number of hash slot arguments",
    arguments: [{ name: "slot", type: "integer", flags: ["multiple"] }],
    handler: clusterDelslotsCommand,
  },
  {
    name: "cluster|delslotsrange",
    arity: -4,
    flags: "admin stale no_async_loading",
    group: "cluster",
    since: "7.0.0",
    summary: "Set hash slots as unbound in receiving node",
    complexity: "O(N) where N is the total number of the slots between the start slot and end slot arguments.",
    arguments: [{ name: "start-slot_end-slot", type: "block", flags: ["multiple"], arguments: [{ name: "start-slot", type: "integer" }, { name: "end-slot", type: "integer" }] }],
    handler: clusterDelslotsrangeCommand,
  },
  {
    name: "cluster|failover",
    arity: -2,
    flags: "admin stale no_async_loading",
    group: "cluster",
    since: "3.0.0",
    summary: "Forces a replica to perform a manual failover of its master.",
    complexity: "O(1)",
    arguments: [{ name: "options", type: "oneof", flags: ["optional"], arguments: [{ name: "force", type: "pure-token", token: "FORCE" }, { name: "takeover", type: "pure-token", token: "TAKEOVER" }] }],
    handler: clusterFailoverCommand,
  },
  {
    name: "cluster|flushslots",
    arity: 2,
    flags: "admin stale no_async_loading",
    group: "cluster",
    since: "3.0.0",
    summary: "Delete a node's own slots information",
    complexity: "O(1)",
    handler: clusterFlushslotsCommand,
  },
  {
    name: "cluster|forget",
    arity: 3,
    flags: "admin stale no_async_loading",
    group: "cluster",
    since: "3.0.0",
    summary: "Remove a node from the nodes table",
    complexity: "O(1)",
    arguments: [{ name: "node-id", type: "string" }],
    handler: clusterForgetCommand,
  },
  {
    name: "cluster|getkeysinslot",
    arity: 4,
    flags: "stale",
    group: "cluster",
    since: "3.0.0",
    summary: "Return local key names in the specified hash slot",
    complexity: "O(log(N)) where N is the number of requested keys",
    tips: ["nondeterministic_output"],
    arguments: [{ name: "slot", type: "integer" }, { name: "count", type: "integer" }],
    handler: clusterGetkeysinslotCommand,
  },
  {
    name: "cluster|help",
    arity: 2,
    flags: "loading stale",
    group: "cluster",
    since: "5.0.0",
    summary: "Show helpful text about the different subcommands",
    complexity: "O(1)",
    handler: clusterHelpCommand,
  },
  {
    name: "cluster|info",
    arity: 2,
    flags: "stale",
    group: "cluster",
    since: "3.0.0",
    summary: "Provides info about Redis Cluster node state",
    complexity: "O(1)",
    tips: ["nondeterministic_output"],
    handler: clusterInfoCommand,
  },
  {
    name: "cluster|keyslot",
    arity: 3,
    flags: "stale",
    group: "cluster",
    since: "3.0.0",
    summary: "Returns the hash slot of the specified key",
    complexity: "O(N) where N is the number of bytes in the key",
    arguments: [{ name: "key", type: "string" }],
    handler: clusterKeyslotCommand,
  },
  {
    name: "cluster|links",
    arity: 2,
    flags: "stale",
    group: "cluster",
    since: "7.0.0",
    summary: "Returns a list of all TCP links to and from peer nodes in cluster",
    complexity: "O(N) where N is the total number of Cluster nodes",
    tips: ["nondeterministic_output"],
    handler: clusterLinksCommand,
  },
  {
    name: "cluster|meet",
    arity: -4,
    flags: "admin stale no_async_loading",
    group: "cluster",
    since: "3.0.0",
    summary: "Force a node cluster to handshake with another node",
    complexity: "O(1)",
    history: [["4.0.0", "Added the optional `cluster_bus_port` argument."]],
    arguments: [{ name: "ip", type: "string" }, { name: "port", type: "integer" }, { name: "cluster_bus_port", type: "integer", flags: ["optional"], since: "4.0.0" }],
    handler: clusterMeetCommand,
  },
  {
    name: "cluster|myid",
    arity: 2,
    flags: "stale",
    group: "cluster",
    since: "3.0.0",
    summary: "Return the node id",
    complexity: "O(1)",
    handler: clusterMyidCommand,
  },
  {
    name: "cluster|nodes",
    arity: 2,
    flags: "stale",
    group: "cluster",
    since: "3.0.0",
    summary: "Get Cluster config for the node",
    complexity: "O(N) where N is the total number of Cluster nodes",
    tips: ["nondeterministic_output"],
    handler: clusterNodesCommand,
  },
  {
    name: "cluster|replicas",
    arity: 3,
    flags: "admin stale",
    group: "cluster",
    since: "5.0.0",
    summary: "List replica nodes of the specified master node",
    complexity: "O(1)",
    tips: ["nondeterministic_output"],
    arguments: [{ name: "node-id", type: "string" }],
    handler: clusterReplicasCommand,
  },
  {
    name: "cluster|replicate",
    arity: 3,
    flags: "admin stale no_async_loading",
    group: "cluster",
    since: "3.0.0",
    summary: "Reconfigure a node as a replica of the specified master node",
    complexity: "O(1)",
    arguments: [{ name: "node-id", type: "string" }],
    handler: clusterReplicateCommand,
  },
  {
    name: "cluster|reset",
    arity: -2,
    flags: "admin noscript stale",
    group: "cluster",
    since: "3.0.0",
    summary: "Reset a Redis Cluster node",
    complexity: "O(N) where N is the number of known nodes. The command may execute a FLUSHALL as a side effect.",
    arguments: [{ name: "hard_soft", type: "oneof", flags: ["optional"], arguments: [{ name: "hard", type: "pure-token", token: "HARD" }, { name: "soft", type: "pure-token", token: "SOFT" }] }],
    handler: clusterResetCommand,
  },
  {
    name: "cluster|saveconfig",
    arity: 2,
    flags: "admin stale no_async_loading",
    group: "cluster",
    since: "3.0.0",
    summary: "Forces the node to save cluster state on disk",
    complexity: "O(1)",
    handler: clusterSaveconfigCommand,
  },
  {
    name: "cluster|set-config-epoch",
    arity: 3,
    flags: "admin stale no_async_loading",
    group: "cluster",
    since: "3.0.0",
    summary: "Set the configuration epoch in a new node",
    complexity: "O(1)",
    arguments: [{ name: "config-epoch", type: "integer" }],
    handler: clusterSetConfigEpochCommand,
  },
  {
    name: "cluster|setslot",
    arity: -4,
    flags: "admin stale no_async_loading",
    group: "cluster",
    since: "3.0.0",
    summary: "Bind a hash slot to a specific node",
    complexity: "O(1)",
    arguments: [{ name: "slot", type: "integer" }, { name: "subcommand", type: "oneof", arguments: [{ name: "node-id", type: "string", token: "IMPORTING" }, { name: "node-id", type: "string", token: "MIGRATING" }, { name: "node-id", type: "string", token: "NODE" }, { name: "stable", type: "pure-token", token: "STABLE" }] }],
    handler: clusterSetslotCommand,
  },
  {
    name: "cluster|shards",
    arity: 2,
    flags: "stale",
    group: "cluster",
    since: "7.0.0",
    summary: "Get array of cluster slots to node mappings",
    complexity: "O(N) where N is the total number of cluster nodes",
    tips: ["nondeterministic_output"],
    handler: clusterShardsCommand,
  },
  {
    name: "cluster|slaves",
    arity: 3,
    flags: "admin stale",
    group: "cluster",
    since: "3.0.0",
    summary: "List replica nodes of the specified master node",
    complexity: "O(1)",
    docFlags: ["deprecated"],
    deprecatedSince: "5.0.0",
    replacedBy: "`CLUSTER REPLICAS`",
    tips: ["nondeterministic_output"],
    arguments: [{ name: "node-id", type: "string" }],
    handler: clusterReplicasCommand,
  },
  {
    name: "cluster|slots",
    arity: 2,
    flags: "stale",
    group: "cluster",
    since: "3.0.0",
    summary: "Get array of Cluster slot to node mappings",
    complexity: "O(N) where N is the total number of Cluster nodes",
    docFlags: ["deprecated"],
    deprecatedSince: "7.0.0",
    replacedBy: "`CLUSTER SHARDS`",
    history: [["4.0.0", "Added node IDs."], ["7.0.0", "Added additional networking metadata field."]],
    tips: ["nondeterministic_output"],
    handler: clusterSlotsCommand,
  },
];

export const clusterCommands: CommandDef[] = [
  {
    name: "asking",
    arity: 1,
    flags: "fast",
    acl: "connection",
    group: "cluster",
    since: "3.0.0",
    summary: "Sent by cluster clients after an -ASK redirect",
    complexity: "O(1)",
    handler: askingCommand,
  },
  {
    name: "readonly",
    arity: 1,
    flags: "loading stale fast",
    acl: "connection",
    group: "cluster",
    since: "3.0.0",
    summary: "Enables read queries for a connection to a cluster replica node",
    complexity: "O(1)",
    handler: readonlyCommand,
  },
  {
    name: "readwrite",
    arity: 1,
    flags: "loading stale fast",
    acl: "connection",
    group: "cluster",
    since: "3.0.0",
    summary: "Disables read queries for a connection to a cluster replica node",
    complexity: "O(1)",
    handler: readwriteCommand,
  },
  {
    name: "cluster",
    arity: -2,
    flags: "",
    group: "cluster",
    since: "3.0.0",
    summary: "A container for cluster commands",
    complexity: "Depends on subcommand.",
    subcommands: clusterSubcommands,
  },
];
