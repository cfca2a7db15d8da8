// The text form of the cluster state: CLUSTER NODES lines, and the nodes.conf file made of
// the same lines plus `vars currentEpoch N lastVoteEpoch M` (Redis's
// clusterGenNodeDescription, clusterSaveConfig and clusterLoadConfig).

import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { CLUSTER_SLOTS, ClusterNode, ClusterState, NODE_NAME_LENGTH, NodeFlag } from "./state.ts";

/** CLUSTER NODES flag words, in Redis's order (representClusterNodeFlags). */
const FLAG_WORDS: readonly [NodeFlag, string][] = [
  [NodeFlag.Myself, "myself"],
  [NodeFlag.Master, "master"],
  [NodeFlag.Replica, "slave"],
  [NodeFlag.PFail, "fail?"],
  [NodeFlag.Fail, "fail"],
  [NodeFlag.Handshake, "handshake"],
  [NodeFlag.NoAddr, "noaddr"],
  [NodeFlag.NoFailover, "nofailover"],
];

export function flagWords(flags: number): string {
  const words: string[] = [];
  for (const [flag, word] of FLAG_WORDS) if (flags & flag) words.push(word);
  return words.length === 0 ? "noflags" : words.join(",");
}

/** Whether a node has a live link, as CLUSTER NODES shows it; the bus tells. */
export type LinkCheck = (node: ClusterNode) => boolean;

/** The client port shown for a node: its `port` in nodes.conf, per client in CLUSTER NODES (Cluster.portsFor). */
export type PortOf = (node: ClusterNode) => number;
const ANNOUNCED_PORT: PortOf = (node) => node.port;

/** One CLUSTER NODES line, without its newline. */
export function nodeDescription(state: ClusterState, node: ClusterNode, connected: LinkCheck, portOf = ANNOUNCED_PORT): string {
  let line = `${node.name} ${node.ip}:${portOf(node)}@${node.cport}`;
  if (node.hostname !== "") line += `,${node.hostname}`;
  line += ` ${flagWords(node.flags)} ${node.master !== null ? node.master.name : "-"}`;
  const linked = node.has(NodeFlag.Myself) || connected(node);
  line += ` ${node.pingSentMs} ${node.pongReceivedMs} ${node.configEpoch} ${linked ? "connected" : "disconnected"}`;
  if (node.isMaster) {
    for (const [first, last] of node.slotRanges()) line += first === last ? ` ${first}` : ` ${first}-${last}`;
  }
  // Only this node's own open slots are shown.
  if (node.has(NodeFlag.Myself)) {
    for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
      const to = state.migratingTo[slot];
      const from = state.importingFrom[slot];
      if (to !== null) line += ` [${slot}->-${to.name}]`;
      else if (from !== null) line += ` [${slot}-<-${from.name}]`;
    }
  }
  return line;
}

/** CLUSTER NODES: a line per node, each ending with a newline. */
export function nodesDescription(state: ClusterState, connected: LinkCheck, portOf = ANNOUNCED_PORT): string {
  let text = "";
  for (const node of state.nodes.values()) text += nodeDescription(state, node, connected, portOf) + "\n";
  return text;
}

/** Why nodes.conf could not be read: Redis's "Unrecoverable error: corrupted cluster config file". */
export class NodesConfError extends Error {}

/**
 * Reads nodes.conf into a new state, or returns null when the file does not exist (a new
 * node). A file that cannot be parsed throws NodesConfError, and start-up stops, as Redis's.
 */
export function loadNodesConf(path: string): ClusterState | null {
  if (!existsSync(path)) return null;
  const text = readFileSync(path, "latin1");
  if (text.trim() === "") return null;
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const parsed: { node: ClusterNode; masterName: string; slots: string[] }[] = [];
  let currentEpoch = 0;
  let lastVoteEpoch = 0;
  let myself: ClusterNode | null = null;
  for (const line of lines) {
    const argv = line.trim().split(/\s+/);
    if (argv[0] === "vars") {
      for (let i = 1; i + 1 < argv.length; i += 2) {
        if (argv[i] === "currentEpoch") currentEpoch = Number(argv[i + 1]);
        else if (argv[i] === "lastVoteEpoch") lastVoteEpoch = Number(argv[i + 1]);
        else throw new NodesConfError(`Skipping unknown cluster config variable '${argv[i]}'`);
      }
      continue;
    }
    if (argv.length < 8 || argv[0]!.length !== NODE_NAME_LENGTH) throw new NodesConfError("Unrecoverable error: corrupted cluster config file.");
    const node = parseNodeLine(argv);
    if (node.has(NodeFlag.Myself)) myself = node;
    parsed.push({ node, masterName: argv[3]!, slots: argv.slice(8) });
  }
  if (myself === null) throw new NodesConfError("Unrecoverable error: corrupted cluster config file.");
  const state = new ClusterState(myself);
  for (const { node } of parsed) state.addNode(node);
  for (const { node, masterName, slots } of parsed) {
    if (masterName !== "-") {
      const master = state.node(masterName);
      if (master === undefined) throw new NodesConfError("Unrecoverable error: corrupted cluster config file.");
      node.master = master;
      master.addReplica(node);
    }
    for (const word of slots) applySlotWord(state, node, word);
  }
  state.currentEpoch = currentEpoch;
  state.lastVoteEpoch = lastVoteEpoch;
  return state;
}

/** A node from the first eight fields of its line. */
function parseNodeLine(argv: string[]): ClusterNode {
  const [name, address, flags, , pingSent, pongReceived, configEpoch] = argv as [string, string, string, string, string, string, string];
  const comma = address.indexOf(",");
  const hostPart = comma < 0 ? address : address.slice(0, comma);
  const at = hostPart.lastIndexOf("@");
  const colon = hostPart.lastIndexOf(":", at < 0 ? hostPart.length : at);
  if (colon < 0) throw new NodesConfError("Unrecoverable error: corrupted cluster config file.");
  const ip = hostPart.slice(0, colon);
  const port = Number(at < 0 ? hostPart.slice(colon + 1) : hostPart.slice(colon + 1, at));
  // Files from before Redis 4.0 have no bus port: it is the port + 10000.
  const cport = at < 0 ? port + 10000 : Number(hostPart.slice(at + 1));
  let bits = 0;
  for (const word of flags.split(",")) {
    const found = FLAG_WORDS.find(([, w]) => w === word);
    if (found !== undefined) bits |= found[0];
  }
  const node = new ClusterNode(name, bits, ip, port, cport);
  if (comma >= 0) node.hostname = address.slice(comma + 1);
  // Redis does not keep the saved times: a non-zero one means "pending", as of now.
  if (Number(pingSent) !== 0) node.pingSentMs = Date.now();
  if (Number(pongReceived) !== 0) node.pongReceivedMs = Date.now();
  node.configEpoch = Number(configEpoch);
  return node;
}

/** A slot field: `N`, `A-B`, `[N->-name]` (migrating) or `[N-<-name]` (importing). */
function applySlotWord(state: ClusterState, node: ClusterNode, word: string): void {
  if (word.startsWith("[")) {
    const migrating = word.indexOf("->-");
    const importing = word.indexOf("-<-");
    const sep = migrating >= 0 ? migrating : importing;
    if (sep < 0) throw new NodesConfError("Unrecoverable error: corrupted cluster config file.");
    const slot = Number(word.slice(1, sep));
    const other = state.node(word.slice(sep + 3, -1));
    if (other === undefined) throw new NodesConfError("Unrecoverable error: corrupted cluster config file.");
    if (migrating >= 0) state.migratingTo[slot] = other;
    else state.importingFrom[slot] = other;
    return;
  }
  const dash = word.indexOf("-");
  const first = Number(dash < 0 ? word : word.slice(0, dash));
  const last = dash < 0 ? first : Number(word.slice(dash + 1));
  if (!Number.isInteger(first) || !Number.isInteger(last) || first < 0 || last >= CLUSTER_SLOTS || first > last) {
    throw new NodesConfError("Unrecoverable error: corrupted cluster config file.");
  }
  for (let slot = first; slot <= last; slot++) state.addSlot(slot, node);
}

/**
 * clusterSaveConfig: every node's line and the vars line. A change that must survive a power
 * loss (`fsync`: epochs, votes, roles) is written to a temp file, synced and renamed over
 * nodes.conf, so the disk holds the old file or the new one. Any other change is written in
 * place with one write, padded with newlines to the old length and then truncated, as Redis
 * 7.0 does: a killed process leaves the old text or the new one (plus blank lines, which the
 * loader skips), and replacing a file by rename costs ext4 a flush of it (~0.12 ms, three
 * times a whole SETSLOT's work) that a reshard would pay for every slot on every node.
 * Throws the fs error when it cannot.
 */
export function saveNodesConf(path: string, state: ClusterState, connected: LinkCheck, fsync: boolean): void {
  let text = "";
  for (const node of state.nodes.values()) {
    // Nodes still in handshake are not saved: they may never answer.
    if (node.has(NodeFlag.Handshake)) continue;
    text += nodeDescription(state, node, connected) + "\n";
  }
  text += `vars currentEpoch ${state.currentEpoch} lastVoteEpoch ${state.lastVoteEpoch}\n`;
  if (fsync || !existsSync(path)) return replaceFile(path, text);
  const fd = openSync(path, "r+");
  try {
    const oldLength = fstatSync(fd).size;
    const padded = text.length < oldLength ? text + "\n".repeat(oldLength - text.length) : text;
    writeAll(fd, Buffer.from(padded, "latin1"), 0);
    if (padded.length !== text.length) ftruncateSync(fd, text.length);
  } finally {
    closeSync(fd);
  }
}

/** Write text to a temp file, sync it and rename it over path. */
function replaceFile(path: string, text: string): void {
  const temp = `${path}.tmp-${process.pid}`;
  const fd = openSync(temp, "w");
  try {
    writeAll(fd, Buffer.from(text, "latin1"), null);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
}

/** Write all of bytes at a file position (or the current one when null). */
function writeAll(fd: number, bytes: Buffer, position: number | null): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off, position === null ? null : position + off);
}
