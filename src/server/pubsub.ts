// Pub/Sub (Redis's pubsub.c): who listens to which channel, pattern and shard channel, and
// the delivery of published messages. Names and messages are latin1 strings (one char per
// byte), so any bytes are binary safe. A client's own subscriptions live on the client
// (`channels`, `patterns`, `shardChannels`, null while empty, so that "is this client
// subscribed" costs three null checks); the tables here map each name to its subscribers
// in subscription order, which is the order Redis 7.0 delivers in.
//
// A published message is encoded once per protocol (RESP2 `*3`, RESP3 push `>3`), only if
// a subscriber speaks it, and the same bytes go to every subscriber through Server.deliver.

import type { Client } from "./client.ts";
import type { Server } from "./server.ts";
import type { Command } from "../commands/table.ts";
import { ReplyWriter, encode } from "../resp/writer.ts";
import { globMatch } from "../util/glob.ts";

/** The client fields that hold each kind of subscription. */
type SubscriptionKind = "channels" | "patterns" | "shardChannels";

/** One channel (or pattern) and the clients subscribed to it, in subscription order. */
class Subscribers {
  readonly clients = new Set<Client>();
  constructor(readonly name: string) {}
}

/** Subscriptions of one kind: name -> subscribers, mirrored in each client's own set. */
class SubscriptionTable {
  readonly byName = new Map<string, Subscribers>();
  constructor(private readonly kind: SubscriptionKind) {}

  /** Subscribe c to name; false when it already was. */
  add(c: Client, name: string): boolean {
    let own = c[this.kind];
    if (own === null) own = c[this.kind] = new Set();
    if (own.has(name)) return false;
    own.add(name);
    let subscribers = this.byName.get(name);
    if (subscribers === undefined) {
      subscribers = new Subscribers(name);
      this.byName.set(name, subscribers);
    }
    subscribers.clients.add(c);
    return true;
  }

  /** Unsubscribe c from name; false when it was not subscribed. */
  remove(c: Client, name: string): boolean {
    const own = c[this.kind];
    if (own === null || !own.delete(name)) return false;
    if (own.size === 0) c[this.kind] = null;
    const subscribers = this.byName.get(name)!;
    subscribers.clients.delete(c);
    // A name nobody listens to is forgotten, so that PUBSUB CHANNELS and INFO do not list it.
    if (subscribers.clients.size === 0) this.byName.delete(name);
    return true;
  }

  /** The names c is subscribed to, in subscription order (a copy: removal edits the set). */
  namesOf(c: Client): string[] {
    const own = c[this.kind];
    return own === null ? [] : [...own];
  }

  /** Unsubscribe c from everything, silently (RESET, a closed connection). */
  removeAll(c: Client): void {
    const own = c[this.kind];
    if (own === null) return;
    for (const name of own) {
      const subscribers = this.byName.get(name)!;
      subscribers.clients.delete(c);
      if (subscribers.clients.size === 0) this.byName.delete(name);
    }
    c[this.kind] = null;
  }

  /** Subscribers of name (PUBSUB NUMSUB). */
  count(name: string): number {
    return this.byName.get(name)?.clients.size ?? 0;
  }

  /** Names matching a glob pattern, every name when it is null (PUBSUB CHANNELS). */
  names(pattern: string | null): string[] {
    const out: string[] = [];
    for (const name of this.byName.keys()) if (pattern === null || globMatch(pattern, name, false)) out.push(name);
    return out;
  }
}

const MESSAGE = encode("$7\r\nmessage\r\n");
const PMESSAGE = encode("$8\r\npmessage\r\n");
const SMESSAGE = encode("$8\r\nsmessage\r\n");

export class PubSub {
  readonly channels = new SubscriptionTable("channels");
  readonly patterns = new SubscriptionTable("patterns");
  readonly shardChannels = new SubscriptionTable("shardChannels");
  private readonly server: Server;
  /** Where messages are encoded before being copied out to their exact size. */
  private readonly scratch = new ReplyWriter(1024);

  constructor(server: Server) {
    this.server = server;
  }

  /** Whether a PUBLISH could reach anyone: some channel or pattern has a subscriber. */
  get listening(): boolean {
    return this.channels.byName.size > 0 || this.patterns.byName.size > 0;
  }

  /** Whether an SPUBLISH could reach anyone. */
  get listeningShards(): boolean {
    return this.shardChannels.byName.size > 0;
  }

  /**
   * PUBLISH: send message to the subscribers of channel, then to those of each matching
   * pattern, pattern by pattern. Returns how many deliveries were made (a client that
   * matches twice counts twice). Keyspace notifications call this for every write, so when
   * nobody listens it returns at once.
   */
  publish(channel: string, message: string): number {
    const channels = this.channels.byName;
    const patterns = this.patterns.byName;
    if (channels.size === 0 && patterns.size === 0) return 0;
    let receivers = 0;
    const subscribers = channels.get(channel);
    if (subscribers !== undefined) receivers = this.send(subscribers.clients, MESSAGE, null, channel, message);
    if (patterns.size === 0) return receivers;
    for (const p of patterns.values()) {
      // Redis matches with stringmatchlen directly: "*" does not match the empty channel.
      if (globMatch(p.name, channel, false)) receivers += this.send(p.clients, PMESSAGE, p.name, channel, message);
    }
    return receivers;
  }

  /** A PUBLISH or SPUBLISH made on another node of the cluster, for this node's subscribers. */
  publishFromCluster(channel: Uint8Array, message: Uint8Array, shard: boolean): void {
    const name = Buffer.from(channel).toString("latin1");
    const text = Buffer.from(message).toString("latin1");
    if (shard) this.publishShard(name, text);
    else this.publish(name, text);
  }

  /** SPUBLISH: shard channels have no patterns. */
  publishShard(channel: string, message: string): number {
    const shardChannels = this.shardChannels.byName;
    if (shardChannels.size === 0) return 0;
    const subscribers = shardChannels.get(channel);
    return subscribers === undefined ? 0 : this.send(subscribers.clients, SMESSAGE, null, channel, message);
  }

  /** Deliver one message to every client of a set, encoded at most once per protocol. */
  private send(clients: Set<Client>, kind: Uint8Array, pattern: string | null, channel: string, message: string): number {
    let resp2: Uint8Array | null = null;
    let resp3: Uint8Array | null = null;
    let receivers = 0;
    for (const c of clients) {
      let bytes: Uint8Array;
      if (c.resp === 2) bytes = resp2 ??= this.encode(2, kind, pattern, channel, message);
      else bytes = resp3 ??= this.encode(3, kind, pattern, channel, message);
      this.server.deliver(c, bytes);
      receivers++;
    }
    return receivers;
  }

  /** `[kind, (pattern,) channel, message]` as a RESP2 array or a RESP3 push. */
  private encode(resp: number, kind: Uint8Array, pattern: string | null, channel: string, message: string): Uint8Array {
    const w = this.scratch;
    w.reset();
    w.resp = resp;
    w.addPushLen(pattern === null ? 3 : 4);
    w.addRaw(kind);
    if (pattern !== null) w.addBulkLatin1(pattern);
    w.addBulkLatin1(channel);
    w.addBulkLatin1(message);
    // A copy of its own: the bytes may be kept (queued output) after the next message.
    const bytes = new Uint8Array(w.len);
    bytes.set(w.buf.subarray(0, w.len));
    return bytes;
  }

  /** Drop every subscription of a client without notifying it (RESET, a closed connection). */
  removeClient(c: Client): void {
    this.channels.removeAll(c);
    this.patterns.removeAll(c);
    this.shardChannels.removeAll(c);
  }
}

/** Whether a client has any subscription (Redis's CLIENT_PUBSUB flag). */
export function isSubscribed(c: Client): boolean {
  return c.channels !== null || c.patterns !== null || c.shardChannels !== null;
}

/** Channels plus patterns: the count SUBSCRIBE and PSUBSCRIBE replies carry. */
export function subscriptionCount(c: Client): number {
  return (c.channels?.size ?? 0) + (c.patterns?.size ?? 0);
}

/** The commands a RESP2 client may run while subscribed. */
const ALLOWED_WHEN_SUBSCRIBED = new Set(["ping", "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe", "psubscribe", "punsubscribe", "quit", "reset"]);

/**
 * Redis's processCommand check for RESP2 clients in subscribed mode, whose connection
 * carries pushes that a reply could not be told apart from: the error to reject cmd with,
 * or null when it may run. RESP3 clients run anything.
 */
export function subscribedContextError(c: Client, cmd: Command): string | null {
  if (c.resp !== 2 || !isSubscribed(c) || ALLOWED_WHEN_SUBSCRIBED.has(cmd.fullName)) return null;
  return `ERR Can't execute '${cmd.fullName}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`;
}
