// The cluster bus (Redis's cluster.c, the node-to-node part): a TCP port (cluster-port, by
// default the client port + 10000) on which nodes exchange binary messages
// (bus-message.ts, Redis 7.0's wire format, so that redbun and Redis nodes can share a
// cluster).
//
// Each node keeps one outgoing link to every other node it knows and sends PINGs on it; it
// answers PINGs and MEETs that arrive on incoming links with PONGs. Every PING and PONG
// carries the sender's slots, epochs and role, and gossip about a few other nodes, from
// which the state converges: unknown nodes are met, slot claims with a newer config epoch
// win, and a node that does not answer within cluster-node-timeout is flagged PFAIL, then
// FAIL once a majority of masters report it. A replica of a failed master asks the masters
// for their votes and takes over its slots when a majority agrees (failover.ts).

import type { TLSOptions } from "bun";
import { transport, type Listener, type Socket } from "../transport/index.ts";
import { isIP } from "node:net";
import type { Cluster } from "./cluster.ts";
import type { Server } from "../server/server.ts";
import { chainVerified, clientTlsOptions } from "../server/tls.ts";
import { CLUSTER_SLOTS, ClusterHealth, ClusterNode, ClusterState, NodeFlag, randomNodeName } from "./state.ts";
import {
  BUS_MESSAGE_MAX_BYTES,
  BusFramer,
  BusType,
  MsgFlag0,
  type BusHeader,
  type BusMessage,
  type GossipEntry,
  type PingMessage,
  decodeMessage,
  encodeMessage,
  slotBit,
} from "./bus-message.ts";
import { Failover } from "./failover.ts";

/** Redis's clusterCron runs 10 times a second. */
const CRON_MS = 100;
/** A node still in handshake after this long (at least the node timeout) is dropped. */
const HANDSHAKE_TIMEOUT_MIN_MS = 1000;
/** Failure reports older than node timeout times this are ignored (CLUSTER_FAIL_REPORT_VALIDITY_MULT). */
const FAIL_REPORT_VALIDITY_MULT = 2;
/** A FAIL flag on a master with slots is cleared after node timeout times this (CLUSTER_FAIL_UNDO_TIME_MULT). */
const FAIL_UNDO_TIME_MULT = 2;
const MESSAGE_TYPE_NAMES = ["ping", "pong", "meet", "fail", "publish", "auth-req", "auth-ack", "update", "mfstart", "module", "publishshard"];

/** One TCP connection of the bus, either direction. */
export class Link {
  readonly createdMs = Date.now();
  /** The node at the other end: known for outgoing links, learnt from the first message on incoming ones. */
  node: ClusterNode | null;
  socket: Socket<Link> | null = null;
  readonly framer = new BusFramer(BUS_MESSAGE_MAX_BYTES);
  /** Bytes the socket has not taken yet. */
  private pending: Uint8Array[] = [];
  pendingBytes = 0;

  constructor(
    node: ClusterNode | null,
    readonly inbound: boolean,
  ) {
    this.node = node;
  }

  send(bytes: Uint8Array): void {
    const s = this.socket;
    if (s === null) return;
    if (this.pendingBytes === 0) {
      const written = s.write(bytes);
      if (written === bytes.length) return;
      bytes = bytes.subarray(Math.max(written, 0));
    }
    this.pending.push(bytes.slice());
    this.pendingBytes += bytes.length;
  }

  drain(): void {
    const s = this.socket;
    while (s !== null && this.pending.length > 0) {
      const head = this.pending[0]!;
      const written = s.write(head);
      if (written < 0) return;
      this.pendingBytes -= Math.max(written, 0);
      if (written < head.length) {
        this.pending[0] = head.subarray(written);
        return;
      }
      this.pending.shift();
    }
  }

  close(): void {
    const s = this.socket;
    this.socket = null;
    s?.end();
  }
}

export interface LinkInfo {
  direction: "to" | "from";
  node: string;
  createdMs: number;
  events: string;
  sendBufferAllocated: number;
  sendBufferUsed: number;
}

export class ClusterBus {
  private listener: Listener | null = null;
  /** Outgoing links by node; incoming links as they come. */
  private readonly outbound = new Map<ClusterNode, Link>();
  private readonly inbound = new Set<Link>();
  private cronTimer: ReturnType<typeof setInterval> | null = null;
  private cronLoops = 0;
  /** Messages sent and received, by type (CLUSTER INFO cluster_stats_messages_*). */
  private readonly sent = new Array<number>(MESSAGE_TYPE_NAMES.length).fill(0);
  private readonly received = new Array<number>(MESSAGE_TYPE_NAMES.length).fill(0);
  readonly failover: Failover;
  /** Links closed for exceeding cluster-link-sendbuf-limit (CLUSTER INFO total_cluster_links_buffer_limit_exceeded). */
  linksFreedOverLimit = 0;

  constructor(private readonly cluster: Cluster) {
    this.failover = new Failover(cluster, this);
  }

  private get state() {
    return this.cluster.state;
  }

  private get myself(): ClusterNode {
    return this.cluster.state.myself;
  }

  private get nodeTimeout(): number {
    return this.cluster.server.config.clusterNodeTimeout;
  }

  // -------------------------------------------------------------------------------------
  // Sockets
  // -------------------------------------------------------------------------------------

  listen(port: number): void {
    const bus = this;
    const hostnames = this.cluster.server.config.bind.map((b) => (b.startsWith("-") ? b.slice(1) : b));
    const hostname = hostnames.includes("*") || hostnames.length === 0 ? "0.0.0.0" : hostnames[0]!;
    // With tls-cluster the bus is TLS, and every node must present a certificate the CA
    // signed, whatever tls-auth-clients says for clients (Redis's TLS_CLIENT_AUTH_YES).
    // The TLS files were loaded at start-up, since tls-cluster asks for them.
    const server = this.cluster.server;
    const tls = server.config.tlsCluster ? server.tls?.server : undefined;
    this.listener = transport.listen<Link>({
      hostname,
      port,
      ...(tls !== undefined ? { tls: { ...tls, requestCert: true, rejectUnauthorized: true } } : {}),
      socket: {
        open(socket) {
          const link = new Link(null, true);
          link.socket = socket;
          socket.data = link;
          bus.inbound.add(link);
        },
        ...this.linkEvents,
      },
    });
    this.cronTimer = setInterval(this.cron, CRON_MS);
    this.cronTimer.unref?.();
    this.syncAnnouncedAddress();
  }

  /**
   * cluster-announce-ip, -port, -bus-port and -hostname become this node's own address and
   * hostname (CLUSTER NODES, SLOTS, SHARDS, redirections), checked by the cron, so that a
   * CONFIG SET takes effect within one pass. Without an announced ip, the address stays the
   * one peers see (processPing).
   */
  private syncAnnouncedAddress(): void {
    const server = this.cluster.server;
    const myself = this.myself;
    const ip = server.config.clusterAnnounceIp === "" ? myself.ip : server.config.clusterAnnounceIp;
    const port = announcedClientPort(server);
    const pport = server.config.tlsCluster ? server.config.clusterAnnouncePort || server.port : 0;
    const cport = this.cluster.busPort();
    const hostname = server.config.clusterAnnounceHostname;
    if (myself.ip === ip && myself.port === port && myself.pport === pport && myself.cport === cport && myself.hostname === hostname) return;
    myself.ip = ip;
    myself.port = port;
    myself.pport = pport;
    myself.cport = cport;
    myself.hostname = hostname;
    this.cluster.changed();
  }

  stop(): void {
    if (this.cronTimer !== null) clearInterval(this.cronTimer);
    this.cronTimer = null;
    this.listener?.stop(true);
    this.listener = null;
    for (const link of [...this.outbound.values(), ...this.inbound]) link.close();
    this.outbound.clear();
    this.inbound.clear();
  }

  /** Bytes the bus links hold: unsent output and partly received messages (INFO mem_cluster_links). */
  linksMemory(): number {
    let bytes = 0;
    for (const link of [...this.outbound.values(), ...this.inbound]) bytes += link.pendingBytes + link.framer.bufferedBytes;
    return bytes;
  }

  /** Open bus connections, both directions (INFO cluster_connections). */
  linkCount(): number {
    let n = this.inbound.size;
    for (const link of this.outbound.values()) if (link.socket !== null) n++;
    return n;
  }

  /** Whether this node has a live link to `node` (CLUSTER NODES connected/disconnected). */
  readonly isConnected = (node: ClusterNode): boolean => {
    const link = this.outbound.get(node);
    return link !== undefined && link.socket !== null;
  };

  /** Opens the outgoing link to a node; its first message is a MEET or a PING. */
  private connect(node: ClusterNode): void {
    // TLS files that fail to load leave the node unlinked until the next cron pass tries again.
    const tls = this.tls();
    if (tls === null) return;
    const link = new Link(node, false);
    this.outbound.set(node, link);
    // The PING the new link starts with counts as sent from now, even if the connection
    // never opens: a node that cannot be reached is detected as failing all the same. A
    // PING still unanswered from before keeps its time.
    if (node.pingSentMs === 0) node.pingSentMs = Date.now();
    const bus = this;
    transport.connect<Link>({
      hostname: node.ip,
      port: node.cport,
      data: link,
      ...(tls !== undefined ? { tls } : {}),
      socket: {
        open(socket) {
          // A TLS link starts after its handshake, since Bun drops what is written before.
          if (tls === undefined) bus.linkOpened(node, link, socket);
        },
        handshake(socket, _success, error) {
          // The other node's chain must verify, not its name (nodes are known by IP).
          if (chainVerified(socket.authorized, error)) bus.linkOpened(node, link, socket);
          else socket.end();
        },
        ...this.linkEvents,
        connectError() {
          bus.linkClosed(link);
        },
      },
    }).catch(() => bus.linkClosed(link));
  }

  /** The client side of the bus links: TLS options with tls-cluster, undefined without, null when the files fail to load. */
  private tls(): TLSOptions | undefined | null {
    const server = this.cluster.server;
    return server.config.tlsCluster ? clientTlsOptions(server) : undefined;
  }

  /** An outgoing link is up: a MEET makes the other node add this one; then plain PINGs. */
  private linkOpened(node: ClusterNode, link: Link, socket: Socket<Link>): void {
    if (this.outbound.get(node) !== link) return void socket.end();
    link.socket = socket;
    socket.setNoDelay(true);
    const meet = node.has(NodeFlag.Meet);
    const pendingPing = node.pingSentMs;
    this.sendPing(link, meet ? BusType.MEET : BusType.PING);
    node.pingSentMs = pendingPing;
    node.flags &= ~NodeFlag.Meet;
  }

  /** What a link's socket does once open, either direction. */
  private readonly linkEvents = {
    data: (socket: Socket<Link>, chunk: Uint8Array) => this.onData(socket.data, chunk),
    drain: (socket: Socket<Link>) => socket.data.drain(),
    close: (socket: Socket<Link>) => this.linkClosed(socket.data),
    error: (socket: Socket<Link>) => this.linkClosed(socket.data),
  };

  private linkClosed(link: Link): void {
    link.socket = null;
    if (link.inbound) {
      this.inbound.delete(link);
      return;
    }
    if (link.node !== null && this.outbound.get(link.node) === link) this.outbound.delete(link.node);
  }

  /** The node is gone (FORGET, RESET, a failed handshake): its links close. */
  dropNode(node: ClusterNode): void {
    const link = this.outbound.get(node);
    if (link !== undefined) {
      this.outbound.delete(node);
      link.close();
    }
    for (const l of this.inbound) {
      if (l.node === node) {
        this.inbound.delete(l);
        l.close();
      }
    }
  }

  private onData(link: Link, chunk: Uint8Array): void {
    const failure = link.framer.feed(chunk, (frame) => {
      if (link.socket === null) return;
      const decoded = decodeMessage(frame);
      if (!decoded.ok) {
        this.cluster.server.log.warning(`Discarding a cluster bus message: ${decoded.reason}`);
        return;
      }
      try {
        this.process(link, decoded.message);
      } catch (e) {
        // A message this node cannot handle is logged; the server and the link go on.
        this.cluster.server.log.warning(`Cluster bus message failed: ${e instanceof Error ? e.stack : String(e)}`);
      }
    });
    if (failure === null) return;
    // Not bus traffic, or a length no message has: drop the connection (Redis's handleLinkIOError).
    this.cluster.server.log.warning(`Bad message on the cluster bus: ${failure}. Closing the link.`);
    this.closeLink(link);
  }

  private closeLink(link: Link): void {
    link.close();
    this.linkClosed(link);
  }

  // -------------------------------------------------------------------------------------
  // MEET
  // -------------------------------------------------------------------------------------

  /**
   * CLUSTER MEET and gossip about unknown nodes (Redis's clusterStartHandshake): a node with
   * a random name in handshake, to be met on its bus port. False for an address or port
   * that cannot be (the ip must be a literal address).
   */
  meet(ip: string, port: number, cport: number): boolean {
    if (isIP(ip) === 0 || port <= 0 || port > 65535 || cport <= 0 || cport > 65535) return false;
    const normalized = isIP(ip) === 6 ? ip.toLowerCase() : ip;
    for (const node of this.state.nodes.values()) {
      if (node.has(NodeFlag.Handshake) && node.ip === normalized && node.port === port && node.cport === cport) return true;
    }
    const node = new ClusterNode(randomNodeName(), NodeFlag.Handshake | NodeFlag.Meet, normalized, port, cport);
    this.state.addNode(node);
    return true;
  }

  // -------------------------------------------------------------------------------------
  // Sending
  // -------------------------------------------------------------------------------------

  /** The header every message starts with: this node's view of itself (clusterBuildMessageHdr). */
  header(): BusHeader {
    const myself = this.myself;
    const config = this.cluster.server.config;
    const master = myself.isReplica && myself.master !== null ? myself.master : myself;
    return {
      currentEpoch: BigInt(this.state.currentEpoch),
      configEpoch: BigInt(master.configEpoch),
      offset: BigInt(myself.isMaster ? this.cluster.server.replication.offset : this.cluster.server.upstream.reploff),
      sender: myself.name,
      myslots: master.slots,
      slaveof: myself.isReplica && myself.master !== null ? myself.master.name : null,
      myip: config.clusterAnnounceIp,
      port: myself.port,
      pport: myself.pport,
      cport: myself.cport,
      flags: myself.flags,
      state: this.state.health === ClusterHealth.Ok ? 0 : 1,
      mflags: this.failover.headerFlags(),
    };
  }

  private count(counters: number[], type: number): void {
    if (type >= 0 && type < counters.length) counters[type]!++;
  }

  send(link: Link, message: BusMessage): void {
    link.send(encodeMessage(message));
    this.count(this.sent, message.type);
  }

  /** PING, PONG or MEET with gossip about a few nodes and every failing one (clusterSendPing). */
  sendPing(link: Link, type: PingMessage["type"]): void {
    const now = Date.now();
    if (type === BusType.PING && link.node !== null) link.node.pingSentMs = now;
    const candidates: ClusterNode[] = [];
    const pfail: ClusterNode[] = [];
    for (const node of this.state.nodes.values()) {
      if (node === this.myself) continue;
      if (node.has(NodeFlag.PFail)) pfail.push(node);
      if (node.has(NodeFlag.Handshake) || node.has(NodeFlag.NoAddr)) continue;
      // A node with neither a link nor slots is likely gone: gossip would keep it alive.
      if (!this.isConnected(node) && node.numSlots === 0) continue;
      candidates.push(node);
    }
    const wanted = Math.min(Math.max(3, Math.floor(this.state.nodes.size / 10)), candidates.length);
    const gossip: GossipEntry[] = [];
    const chosen = new Set<ClusterNode>();
    while (chosen.size < wanted) {
      const node = candidates[Math.floor(Math.random() * candidates.length)]!;
      if (chosen.has(node) || node.has(NodeFlag.PFail)) {
        if (chosen.size + pfail.length >= candidates.length) break;
        continue;
      }
      chosen.add(node);
      gossip.push(this.gossipEntry(node));
    }
    for (const node of pfail) if (!node.has(NodeFlag.Handshake) && !node.has(NodeFlag.NoAddr)) gossip.push(this.gossipEntry(node));
    const hostname = this.cluster.server.config.clusterAnnounceHostname;
    this.send(link, { ...this.header(), type, gossip, hostname: hostname === "" ? null : hostname, otherExtensions: [] });
  }

  private gossipEntry(node: ClusterNode): GossipEntry {
    return {
      nodename: node.name,
      pingSentSec: Math.floor(node.pingSentMs / 1000),
      pongReceivedSec: Math.floor(node.pongReceivedMs / 1000),
      ip: node.ip,
      port: node.port,
      cport: node.cport,
      flags: node.flags,
      pport: node.pport,
    };
  }

  /** A PONG to every node with a link, so that a change is known at once (clusterBroadcastPong). */
  broadcastPong(): void {
    for (const [node, link] of this.outbound) {
      if (link.socket === null || node.has(NodeFlag.Handshake)) continue;
      this.sendPing(link, BusType.PONG);
    }
  }

  /** A message to every node with a link (clusterBroadcastMessage). */
  broadcast(message: BusMessage): void {
    const bytes = encodeMessage(message);
    for (const [node, link] of this.outbound) {
      if (link.socket === null || node.has(NodeFlag.Handshake)) continue;
      link.send(bytes);
      this.count(this.sent, message.type);
    }
  }

  /** A master that failed, for every node (clusterSendFail). */
  private broadcastFail(node: ClusterNode): void {
    this.broadcast({ ...this.header(), type: BusType.FAIL, nodename: node.name });
  }

  /** Tells a node whose slot claims are stale who serves them now (clusterSendUpdate). */
  private sendUpdate(link: Link, node: ClusterNode): void {
    this.send(link, { ...this.header(), type: BusType.UPDATE, nodeConfigEpoch: BigInt(node.configEpoch), nodename: node.name, slots: node.slots });
  }

  /**
   * PUBLISH on one node reaches the subscribers of every node (clusterPropagatePublish);
   * SPUBLISH only those of its shard, the master and its replicas.
   */
  publish(channel: Uint8Array, message: Uint8Array, shard: boolean): void {
    const msg: BusMessage = { ...this.header(), type: shard ? BusType.PUBLISHSHARD : BusType.PUBLISH, channel, message };
    if (!shard) return this.broadcast(msg);
    const myMaster = ClusterState.masterOf(this.myself);
    const bytes = encodeMessage(msg);
    for (const [node, link] of this.outbound) {
      if (link.socket === null || ClusterState.masterOf(node) !== myMaster) continue;
      link.send(bytes);
      this.count(this.sent, msg.type);
    }
  }

  // -------------------------------------------------------------------------------------
  // Receiving (Redis's clusterProcessPacket)
  // -------------------------------------------------------------------------------------

  private process(link: Link, msg: BusMessage): void {
    this.count(this.received, msg.type);
    const state = this.state;
    const now = Date.now();
    let sender = state.node(msg.sender);
    if (sender !== undefined && sender.has(NodeFlag.Handshake)) sender = undefined;
    if (sender !== undefined) sender.dataReceivedMs = now;
    if (link.inbound && link.node === null && sender !== undefined) link.node = sender;
    if (sender !== undefined) {
      const senderCurrentEpoch = Number(msg.currentEpoch);
      const senderConfigEpoch = Number(msg.configEpoch);
      if (senderCurrentEpoch > state.currentEpoch) {
        state.currentEpoch = senderCurrentEpoch;
        this.cluster.changed();
      }
      if (senderConfigEpoch > sender.configEpoch && !sender.isReplica) {
        sender.configEpoch = senderConfigEpoch;
        this.cluster.changed();
      }
      sender.replOffset = Number(msg.offset);
      sender.replOffsetTimeMs = now;
    }
    switch (msg.type) {
      case BusType.PING:
      case BusType.MEET:
      case BusType.PONG:
        return this.processPing(link, msg, sender);
      case BusType.FAIL:
        return this.processFail(msg.nodename, sender);
      case BusType.UPDATE:
        return this.processUpdate(msg.nodename, Number(msg.nodeConfigEpoch), msg.slots, sender);
      case BusType.PUBLISH:
      case BusType.PUBLISHSHARD:
        if (sender === undefined) return;
        this.cluster.server.pubsub.publishFromCluster(msg.channel, msg.message, msg.type === BusType.PUBLISHSHARD);
        return;
      case BusType.FAILOVER_AUTH_REQUEST:
        if (sender !== undefined) this.failover.voteRequested(sender, msg);
        return;
      case BusType.FAILOVER_AUTH_ACK:
        if (sender !== undefined) this.failover.voteReceived(sender, msg);
        return;
      case BusType.MFSTART:
        if (sender !== undefined) this.failover.manualFailoverRequested(sender);
        return;
      default:
        return;
    }
  }

  private processPing(link: Link, msg: PingMessage, sender: ClusterNode | undefined): void {
    const state = this.state;
    const myself = this.myself;
    const now = Date.now();
    const type = msg.type;
    // This node learns its own address from the first MEET (or any PING while it does not
    // know it), as the peer sees it.
    if ((type === BusType.MEET || myself.ip === "") && this.cluster.server.config.clusterAnnounceIp === "" && link.socket !== null) {
      const local = localAddressOf(link.socket);
      if (local !== "" && local !== myself.ip) {
        myself.ip = local;
        this.cluster.server.log.notice(`IP address for this node updated to ${local}`);
        this.cluster.changed();
      }
    }
    // A MEET from an unknown node: add it in handshake; its PONGs will tell the rest.
    if (sender === undefined && type === BusType.MEET) {
      const ip = msg.myip !== "" ? msg.myip : remoteAddressOf(link.socket);
      const node = new ClusterNode(randomNodeName(), NodeFlag.Handshake, ip, msg.port, msg.cport);
      node.pport = msg.pport;
      state.addNode(node);
      this.processGossip(msg, undefined);
    }
    if (type === BusType.PING || type === BusType.MEET) this.sendPing(link, BusType.PONG);

    const linkNode = link.inbound ? null : link.node;
    if (linkNode !== null) {
      if (linkNode.has(NodeFlag.Handshake)) {
        // The handshake ends: the node's real name is known now.
        if (sender !== undefined) {
          // Already known under this name (met twice): drop the handshake node.
          if (this.cluster.server.config.clusterAnnounceIp === "") this.updateAddress(sender, link, msg);
          this.dropNode(linkNode);
          state.deleteNode(linkNode);
          this.cluster.changed();
          return;
        }
        this.outbound.delete(linkNode);
        state.renameNode(linkNode, msg.sender);
        this.outbound.set(linkNode, link);
        this.cluster.server.log.notice(`Handshake with node ${msg.sender} completed.`);
        linkNode.flags &= ~NodeFlag.Handshake;
        linkNode.flags |= msg.flags & (NodeFlag.Master | NodeFlag.Replica);
        sender = linkNode;
        this.cluster.changed();
      } else if (linkNode.name !== msg.sender) {
        // Another node answers at this address: this one's address is unknown now.
        this.cluster.server.log.notice(`PONG contains mismatching sender ID. About node ${linkNode.name} added node ${msg.sender} in handshake state`);
        linkNode.flags |= NodeFlag.NoAddr;
        linkNode.ip = "";
        linkNode.port = 0;
        linkNode.cport = 0;
        this.closeLink(link);
        this.cluster.changed();
        return;
      }
    }
    if (sender === undefined) return;
    // Its plain client port beside the TLS one (tls-cluster); nodes.conf does not keep it.
    sender.pport = msg.pport;
    // A sender without the hostname extension announces none (any earlier one is dropped).
    const hostname = msg.hostname ?? "";
    if (sender.hostname !== hostname) {
      sender.hostname = hostname;
      this.cluster.changed();
    }
    // The sender's own flags that only it knows.
    if (msg.flags & NodeFlag.NoFailover) sender.flags |= NodeFlag.NoFailover;
    else sender.flags &= ~NodeFlag.NoFailover;
    if (!link.inbound && type === BusType.PONG) {
      sender.pongReceivedMs = now;
      sender.pingSentMs = 0;
      if (sender.has(NodeFlag.PFail)) {
        sender.flags &= ~NodeFlag.PFail;
        this.cluster.changed(false);
      } else if (sender.has(NodeFlag.Fail)) {
        this.clearFailureIfNeeded(sender);
      }
    }
    this.updateRole(sender, msg);
    // A master paused for this replica's manual failover says how far to catch up.
    if (this.myself.master === sender && msg.mflags & MsgFlag0.PAUSED) this.failover.masterPaused(Number(msg.offset));
    this.updateSlotsFrom(link, sender, msg);
    if (myself.isMaster && sender.isMaster && Number(msg.configEpoch) === myself.configEpoch && myself.configEpoch !== 0) {
      this.handleConfigEpochCollision(sender);
    }
    this.processGossip(msg, sender);
  }

  /** The sender's address as it sends it, or as the socket shows it (nodeUpdateAddressIfNeeded). */
  private updateAddress(node: ClusterNode, link: Link, msg: PingMessage): void {
    const ip = msg.myip !== "" ? msg.myip : remoteAddressOf(link.socket);
    if (node.ip === ip && node.port === msg.port && node.pport === msg.pport && node.cport === msg.cport) return;
    node.ip = ip;
    node.port = msg.port;
    node.pport = msg.pport;
    node.cport = msg.cport;
    const out = this.outbound.get(node);
    if (out !== undefined) this.closeLink(out);
    node.flags &= ~NodeFlag.NoAddr;
    this.cluster.server.log.warning(`Address updated for node ${node.name}, now ${ip}:${msg.port}`);
    this.cluster.changed();
  }

  /** The sender says whether it is a master or whose replica it is. */
  private updateRole(sender: ClusterNode, msg: PingMessage): void {
    if (msg.slaveof === null) {
      if (sender.isReplica) this.setNodeAsMaster(sender);
      return;
    }
    const master = this.state.node(msg.slaveof);
    if (sender.isMaster) {
      // A master turned replica gives its slots up.
      this.state.deleteNodeSlots(sender);
      sender.flags = (sender.flags & ~(NodeFlag.Master | NodeFlag.MigrateTo)) | NodeFlag.Replica;
      this.cluster.changed();
    }
    if (master !== undefined && sender.master !== master) {
      if (sender.master !== null) sender.master.removeReplica(sender);
      master.addReplica(sender);
      sender.master = master;
      this.cluster.changed();
    }
  }

  private setNodeAsMaster(node: ClusterNode): void {
    if (node.master !== null) {
      node.master.removeReplica(node);
      if (node !== this.myself) node.flags |= NodeFlag.MigrateTo;
    }
    node.flags = (node.flags & ~NodeFlag.Replica) | NodeFlag.Master;
    node.master = null;
    this.cluster.changed();
  }

  /**
   * The slots the sender claims for itself (or for its master): newer claims win
   * (clusterUpdateSlotsConfigWith); a claim older than what this node knows gets an UPDATE.
   */
  private updateSlotsFrom(link: Link, sender: ClusterNode, msg: PingMessage): void {
    const master = sender.isMaster ? sender : sender.master;
    if (master === null) return;
    const claimed = msg.myslots;
    let dirty = false;
    for (let i = 0; i < claimed.length; i++) {
      if (claimed[i] !== master.slots[i]) {
        dirty = true;
        break;
      }
    }
    if (sender.isMaster && dirty) this.updateSlotsConfigWith(sender, Number(msg.configEpoch), claimed);
    if (!dirty) return;
    // A claim on a slot this node knows to be served with a newer epoch: tell the sender.
    for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
      if (!slotBit(claimed, slot)) continue;
      const owner = this.state.slotOwners[slot];
      if (owner === null || owner === master) continue;
      if (owner.configEpoch > Number(msg.configEpoch)) {
        this.sendUpdate(link, owner);
        return;
      }
    }
  }

  /** Redis's clusterUpdateSlotsConfigWith. */
  updateSlotsConfigWith(sender: ClusterNode, senderConfigEpoch: number, slots: Uint8Array): void {
    const state = this.state;
    const myself = this.myself;
    if (sender === myself) return;
    const currentMaster = myself.isMaster ? myself : myself.master;
    let newMaster: ClusterNode | null = null;
    let movedOurSlots = 0;
    let senderSlots = 0;
    const dirtySlots: number[] = [];
    for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
      if (!slotBit(slots, slot)) continue;
      senderSlots++;
      const owner = state.slotOwners[slot];
      if (owner === sender) continue;
      // A slot this node imports is its own business until the migration ends.
      if (state.importingFrom[slot] !== null) continue;
      if (owner !== null && owner.configEpoch >= senderConfigEpoch) continue;
      if (owner === myself && sender !== myself && this.cluster.hasKeysInSlot(slot)) dirtySlots.push(slot);
      if (owner === currentMaster) {
        newMaster = sender;
        movedOurSlots++;
      }
      state.deleteSlot(slot);
      state.addSlot(slot, sender);
      this.cluster.changed(true, true);
    }
    if (newMaster !== null && currentMaster !== null && currentMaster.numSlots === 0 && (this.cluster.server.config.clusterAllowReplicaMigration || senderSlots === movedOurSlots)) {
      this.cluster.server.log.warning(`Configuration change detected. Reconfiguring myself as a replica of ${sender.name}`);
      this.cluster.setMaster(sender);
    } else {
      for (const slot of dirtySlots) this.cluster.deleteKeysInSlot(slot);
    }
  }

  /** Two masters with the same config epoch: the one with the lower name takes a new one. */
  private handleConfigEpochCollision(sender: ClusterNode): void {
    if (sender.name <= this.myself.name) return;
    this.state.currentEpoch++;
    this.myself.configEpoch = this.state.currentEpoch;
    this.cluster.changed(true, true);
    this.cluster.server.log.verbose(`WARNING: configEpoch collision with node ${sender.name}. configEpoch set to ${this.myself.configEpoch}`);
  }

  /** What the sender says of other nodes: failure reports, and nodes to meet (clusterProcessGossipSection). */
  private processGossip(msg: PingMessage, sender: ClusterNode | undefined): void {
    const state = this.state;
    const now = Date.now();
    for (const entry of msg.gossip) {
      const node = state.node(entry.nodename);
      if (node !== undefined) {
        if (sender !== undefined && sender.isMaster && node !== this.myself) {
          if (entry.flags & (NodeFlag.Fail | NodeFlag.PFail)) {
            if (!node.failReports.has(sender)) this.cluster.server.log.verbose(`Node ${sender.name} reported node ${node.name} as not reachable.`);
            node.failReports.set(sender, now);
            this.markFailingIfNeeded(node);
          } else if (node.failReports.delete(sender)) {
            this.cluster.server.log.verbose(`Node ${sender.name} reported node ${node.name} is back online.`);
          }
        }
        // A recent PONG seen by another node counts as one of ours while none is pending.
        if (!(entry.flags & (NodeFlag.Fail | NodeFlag.PFail)) && node.pingSentMs === 0 && node.failReports.size === 0) {
          const pongMs = entry.pongReceivedSec * 1000;
          if (pongMs <= now + 500 && pongMs > node.pongReceivedMs) node.pongReceivedMs = pongMs;
        }
        // A node this one cannot reach, at an address others can: try that address.
        if (node.has(NodeFlag.PFail) || node.has(NodeFlag.Fail)) {
          if (!this.isConnected(node) && (node.ip !== entry.ip || node.port !== entry.port || node.cport !== entry.cport) && entry.ip !== "") {
            node.ip = entry.ip;
            node.port = entry.port;
            node.pport = entry.pport;
            node.cport = entry.cport;
            node.flags &= ~NodeFlag.NoAddr;
          }
        }
        continue;
      }
      // An unknown node: meet it, unless it was forgotten or has no address.
      if (sender === undefined || entry.flags & NodeFlag.NoAddr || this.isForgotten(entry.nodename)) continue;
      if (this.handshakeInProgress(entry.ip, entry.port, entry.cport)) continue;
      this.meet(entry.ip, entry.port, entry.cport);
    }
  }

  private isForgotten(name: string): boolean {
    const until = this.state.forgotten.get(name);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.state.forgotten.delete(name);
    return false;
  }

  private handshakeInProgress(ip: string, port: number, cport: number): boolean {
    for (const node of this.state.nodes.values()) {
      if (node.has(NodeFlag.Handshake) && node.ip === ip && node.port === port && node.cport === cport) return true;
    }
    return false;
  }

  private processFail(nodename: string, sender: ClusterNode | undefined): void {
    if (sender === undefined) return;
    const failing = this.state.node(nodename);
    if (failing === undefined || failing.has(NodeFlag.Fail) || failing === this.myself) return;
    this.cluster.server.log.notice(`FAIL message received from ${sender.name} about ${failing.name}`);
    failing.flags = (failing.flags | NodeFlag.Fail) & ~NodeFlag.PFail;
    failing.failTimeMs = Date.now();
    this.cluster.changed();
  }

  private processUpdate(nodename: string, configEpoch: number, slots: Uint8Array, sender: ClusterNode | undefined): void {
    if (sender === undefined) return;
    const node = this.state.node(nodename);
    if (node === undefined || node.configEpoch >= configEpoch) return;
    if (node.isReplica) this.setNodeAsMaster(node);
    node.configEpoch = configEpoch;
    this.cluster.changed();
    this.updateSlotsConfigWith(node, configEpoch, slots);
  }

  // -------------------------------------------------------------------------------------
  // Failure detection
  // -------------------------------------------------------------------------------------

  /** Failure reports still valid (CLUSTER COUNT-FAILURE-REPORTS). */
  failureReports(node: ClusterNode): number {
    const oldest = Date.now() - this.nodeTimeout * FAIL_REPORT_VALIDITY_MULT;
    for (const [reporter, at] of node.failReports) if (at < oldest) node.failReports.delete(reporter);
    return node.failReports.size;
  }

  /** PFAIL becomes FAIL once a majority of masters report it (markNodeAsFailingIfNeeded). */
  private markFailingIfNeeded(node: ClusterNode): void {
    const quorum = Math.floor(this.state.size / 2) + 1;
    if (!node.has(NodeFlag.PFail) || node.has(NodeFlag.Fail)) return;
    let failures = this.failureReports(node);
    if (this.myself.isMaster) failures++;
    if (failures < quorum) return;
    this.cluster.server.log.notice(`Marking node ${node.name} as failing (quorum reached).`);
    node.flags = (node.flags | NodeFlag.Fail) & ~NodeFlag.PFail;
    node.failTimeMs = Date.now();
    this.broadcastFail(node);
    this.cluster.changed();
  }

  /** A FAIL flag goes when the node is back and nobody will fail it over (clearNodeFailureIfNeeded). */
  private clearFailureIfNeeded(node: ClusterNode): void {
    const now = Date.now();
    if (node.isReplica || node.numSlots === 0) {
      this.cluster.server.log.notice(`Clear FAIL state for node ${node.name}: ${node.isReplica ? "replica" : "master without slots"} is reachable again.`);
      node.flags &= ~NodeFlag.Fail;
      this.cluster.changed();
      return;
    }
    if (now - node.failTimeMs > this.nodeTimeout * FAIL_UNDO_TIME_MULT) {
      this.cluster.server.log.notice(`Clear FAIL state for node ${node.name}: is reachable again and nobody is serving its slots after some time.`);
      node.flags &= ~NodeFlag.Fail;
      this.cluster.changed();
    }
  }

  // -------------------------------------------------------------------------------------
  // The cron (Redis's clusterCron)
  // -------------------------------------------------------------------------------------

  /** The cron, kept alive: a bug in one pass is logged, never fatal to the server. */
  private readonly cron = (): void => {
    try {
      this.cronPass();
    } catch (e) {
      this.cluster.server.log.warning(`Cluster cron failed: ${e instanceof Error ? e.stack : String(e)}`);
    }
  };

  private cronPass(): void {
    const now = Date.now();
    const state = this.state;
    const timeout = this.nodeTimeout;
    const handshakeTimeout = Math.max(timeout, HANDSHAKE_TIMEOUT_MIN_MS);
    this.cronLoops++;
    this.syncAnnouncedAddress();
    for (const node of [...state.nodes.values()]) {
      if (node === this.myself || node.has(NodeFlag.NoAddr)) continue;
      if (node.has(NodeFlag.Handshake) && now - node.createdMs > handshakeTimeout) {
        this.dropNode(node);
        state.deleteNode(node);
        continue;
      }
      if (!this.outbound.has(node)) this.connect(node);
    }
    // Once a second, a PING to the node among five random ones that answered last longest ago.
    if (this.cronLoops % 10 === 0) {
      let oldest: ClusterNode | null = null;
      const nodes = [...state.nodes.values()];
      for (let i = 0; i < 5 && nodes.length > 1; i++) {
        const node = nodes[Math.floor(Math.random() * nodes.length)]!;
        if (node === this.myself || node.has(NodeFlag.Handshake) || node.pingSentMs !== 0 || !this.isConnected(node)) continue;
        if (oldest === null || node.pongReceivedMs < oldest.pongReceivedMs) oldest = node;
      }
      if (oldest !== null) this.sendPing(this.outbound.get(oldest)!, BusType.PING);
    }
    for (const node of state.nodes.values()) {
      if (node === this.myself || node.has(NodeFlag.NoAddr) || node.has(NodeFlag.Handshake)) continue;
      const link = this.outbound.get(node);
      // A link that got no PONG in half the timeout, while data flows otherwise, is reconnected.
      if (link !== undefined && link.socket !== null && node.pingSentMs !== 0 && now - link.createdMs > timeout && now - node.pingSentMs > timeout / 2 && now - node.dataReceivedMs > timeout / 2) {
        this.closeLink(link);
      }
      // Nobody is to go unpinged for half the timeout.
      if (link !== undefined && link.socket !== null && node.pingSentMs === 0 && now - node.pongReceivedMs > timeout / 2) {
        this.sendPing(link, BusType.PING);
        continue;
      }
      if (node.pingSentMs === 0) continue;
      const delay = Math.min(now - node.pingSentMs, now - node.dataReceivedMs);
      if (delay > timeout && !node.has(NodeFlag.PFail) && !node.has(NodeFlag.Fail)) {
        this.cluster.server.log.verbose(`*** NODE ${node.name} possibly failing`);
        node.flags |= NodeFlag.PFail;
        this.cluster.changed(false);
      }
    }
    this.freeOverfullLinks();
    this.failover.cron(now);
    this.cluster.redirectBlockedClients();
    if (state.health === ClusterHealth.Fail || this.cronLoops % 10 === 0) this.cluster.changed(false);
  }

  /**
   * A link whose peer does not read what it is sent is closed once its unsent bytes pass
   * cluster-link-sendbuf-limit (0: no limit); the cron connects again (Redis's
   * clusterNodeCronFreeLinkOnBufferLimitReached).
   */
  private freeOverfullLinks(): void {
    const limit = this.cluster.server.config.clusterLinkSendbufLimit;
    if (limit === 0) return;
    for (const link of [...this.outbound.values(), ...this.inbound]) {
      if (link.pendingBytes <= limit) continue;
      const direction = link.inbound ? "from" : "to";
      this.cluster.server.log.warning(
        `Freeing cluster link(${direction} node ${link.node?.name ?? "unknown"}, used memory: ${link.pendingBytes}) due to exceeding send buffer memory limit.`,
      );
      this.linksFreedOverLimit++;
      this.closeLink(link);
    }
  }

  // -------------------------------------------------------------------------------------
  // CLUSTER INFO and LINKS
  // -------------------------------------------------------------------------------------

  statsLines(): string[] {
    const lines: string[] = [];
    let sent = 0;
    let received = 0;
    for (let t = 0; t < MESSAGE_TYPE_NAMES.length; t++) {
      if (this.sent[t] === 0) continue;
      lines.push(`cluster_stats_messages_${MESSAGE_TYPE_NAMES[t]}_sent:${this.sent[t]}`);
      sent += this.sent[t]!;
    }
    lines.push(`cluster_stats_messages_sent:${sent}`);
    for (let t = 0; t < MESSAGE_TYPE_NAMES.length; t++) {
      if (this.received[t] === 0) continue;
      lines.push(`cluster_stats_messages_${MESSAGE_TYPE_NAMES[t]}_received:${this.received[t]}`);
      received += this.received[t]!;
    }
    lines.push(`cluster_stats_messages_received:${received}`);
    return lines;
  }

  linkInfo(): LinkInfo[] {
    const links: LinkInfo[] = [];
    const describe = (link: Link, direction: "to" | "from"): void => {
      if (link.node === null || link.socket === null) return;
      links.push({
        direction,
        node: link.node.name,
        createdMs: link.createdMs,
        events: link.pendingBytes > 0 ? "rw" : "r",
        sendBufferAllocated: link.pendingBytes,
        sendBufferUsed: link.pendingBytes,
      });
    };
    for (const node of this.state.nodes.values()) {
      const out = this.outbound.get(node);
      if (out !== undefined) describe(out, "to");
      for (const l of this.inbound) if (l.node === node) describe(l, "from");
    }
    return links;
  }

  /** CLUSTER FAILOVER on a replica. */
  startManualFailover(mode: "default" | "force" | "takeover"): void {
    this.failover.startManual(mode);
  }

  /** The outgoing link to a node, if up. */
  linkTo(node: ClusterNode): Link | null {
    const link = this.outbound.get(node);
    return link !== undefined && link.socket !== null ? link : null;
  }
}

function localAddressOf(socket: Socket<Link> | null): string {
  const address = (socket as { localAddress?: string } | null)?.localAddress ?? "";
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}

function remoteAddressOf(socket: Socket<Link> | null): string {
  const address = socket?.remoteAddress ?? "";
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}

/**
 * The client port this node announces: with tls-cluster the TLS one (cluster-announce-tls-port
 * overrides), which CLUSTER SLOTS/NODES and redirections then name; else the plain one
 * (cluster-announce-port overrides).
 */
export function announcedClientPort(server: Server): number {
  const config = server.config;
  if (config.tlsCluster) return config.clusterAnnounceTlsPort || server.tlsPort;
  return config.clusterAnnouncePort || server.port;
}
