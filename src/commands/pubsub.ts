// Pub/Sub commands (Redis's pubsub.c): SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE PUBLISH
// SSUBSCRIBE SUNSUBSCRIBE SPUBLISH and PUBSUB with its subcommands. The registry and the
// delivery of messages are in server/pubsub.ts.
//
// Every (un)subscription is confirmed by a push `[kind, name, count]` (a RESP2 array, a
// RESP3 push), where count is the client's channels plus patterns, or its shard channels
// for the shard commands. Pushes reach the client even under CLIENT REPLY OFF or SKIP.

import type { Client } from "../server/client.ts";
import type { CommandDef } from "./table.ts";
import { keyRange } from "./table.ts";
import { encode } from "../resp/writer.ts";
import { subcommandSyntaxError } from "../resp/errors.ts";
import { subscriptionCount } from "../server/pubsub.ts";
import { Target } from "../server/propagate.ts";

const SUBSCRIBE = encode("$9\r\nsubscribe\r\n");
const UNSUBSCRIBE = encode("$11\r\nunsubscribe\r\n");
const PSUBSCRIBE = encode("$10\r\npsubscribe\r\n");
const PUNSUBSCRIBE = encode("$12\r\npunsubscribe\r\n");
const SSUBSCRIBE = encode("$10\r\nssubscribe\r\n");
const SUNSUBSCRIBE = encode("$12\r\nsunsubscribe\r\n");

/** The shard channel count that SSUBSCRIBE and SUNSUBSCRIBE replies carry. */
function shardCount(c: Client): number {
  return c.shardChannels?.size ?? 0;
}

/** One confirmation: `[kind, name, count]`, with a null name when there was nothing to leave. */
function addConfirmation(c: Client, kind: Uint8Array, name: string | null, count: number): void {
  const w = c.w;
  w.addPushLen(3);
  w.addRaw(kind);
  if (name === null) w.addNull();
  else w.addBulkLatin1(name);
  w.addInteger(count);
}

// ---------------------------------------------------------------------------------------
// Subscribing and unsubscribing
// ---------------------------------------------------------------------------------------

/** The three kinds of subscription, as the generic commands below take them. */
interface Kind {
  /** The subscribing command's name, for its error. */
  command: string;
  /** Whether a transaction may subscribe although its client cannot block (see subscribeGeneric). */
  inTransaction: boolean;
  table: "channels" | "patterns" | "shardChannels";
  subscribed: Uint8Array;
  unsubscribed: Uint8Array;
  count: (c: Client) => number;
}

const CHANNEL: Kind = { command: "SUBSCRIBE", inTransaction: true, table: "channels", subscribed: SUBSCRIBE, unsubscribed: UNSUBSCRIBE, count: subscriptionCount };
const PATTERN: Kind = { command: "PSUBSCRIBE", inTransaction: true, table: "patterns", subscribed: PSUBSCRIBE, unsubscribed: PUNSUBSCRIBE, count: subscriptionCount };
const SHARD: Kind = { command: "SSUBSCRIBE", inTransaction: false, table: "shardChannels", subscribed: SSUBSCRIBE, unsubscribed: SUNSUBSCRIBE, count: shardCount };

/**
 * SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE: every argument, in order, repeats confirmed too. A
 * client that expects one reply per command (inside EXEC) cannot subscribe, except that
 * Redis lets a transaction SUBSCRIBE and PSUBSCRIBE, for backward compatibility.
 */
function subscribeGeneric(c: Client, kind: Kind): void {
  if (c.denyBlocking && !(kind.inTransaction && c.multi !== null)) {
    return c.w.addError(`ERR ${kind.command} isn't allowed for a DENY BLOCKING client`);
  }
  const argv = c.argv;
  const table = c.server.pubsub[kind.table];
  for (let i = 1; i < argv.count; i++) {
    const name = argv.str(i);
    table.add(c, name);
    addConfirmation(c, kind.subscribed, name, kind.count(c));
  }
  c.server.keepPushes(c);
}

/**
 * UNSUBSCRIBE, PUNSUBSCRIBE, SUNSUBSCRIBE: the named ones (names not subscribed to are
 * confirmed all the same), or without arguments every one the client has, and a single
 * confirmation with a null name when it has none.
 */
function unsubscribeGeneric(c: Client, kind: Kind): void {
  const argv = c.argv;
  const table = c.server.pubsub[kind.table];
  if (argv.count > 1) {
    for (let i = 1; i < argv.count; i++) {
      const name = argv.str(i);
      table.remove(c, name);
      addConfirmation(c, kind.unsubscribed, name, kind.count(c));
    }
  } else {
    const names = table.namesOf(c);
    for (const name of names) {
      table.remove(c, name);
      addConfirmation(c, kind.unsubscribed, name, kind.count(c));
    }
    if (names.length === 0) addConfirmation(c, kind.unsubscribed, null, kind.count(c));
  }
  c.server.keepPushes(c);
}

/** SUBSCRIBE channel [channel ...] */
function subscribeCommand(c: Client): void {
  subscribeGeneric(c, CHANNEL);
}

/** UNSUBSCRIBE [channel [channel ...]] */
function unsubscribeCommand(c: Client): void {
  unsubscribeGeneric(c, CHANNEL);
}

/** PSUBSCRIBE pattern [pattern ...] */
function psubscribeCommand(c: Client): void {
  subscribeGeneric(c, PATTERN);
}

/** PUNSUBSCRIBE [pattern [pattern ...]] */
function punsubscribeCommand(c: Client): void {
  unsubscribeGeneric(c, PATTERN);
}

/** SSUBSCRIBE shardchannel [shardchannel ...] */
function ssubscribeCommand(c: Client): void {
  subscribeGeneric(c, SHARD);
}

/** SUNSUBSCRIBE [shardchannel [shardchannel ...]] */
function sunsubscribeCommand(c: Client): void {
  unsubscribeGeneric(c, SHARD);
}

// ---------------------------------------------------------------------------------------
// Publishing
// ---------------------------------------------------------------------------------------

/**
 * PUBLISH channel message. With nobody subscribed it reads no argument. It goes to the
 * replicas (whose subscribers get the message too), never to the AOF, as in Redis.
 */
function publishCommand(c: Client): void {
  const server = c.server;
  const pubsub = server.pubsub;
  const argv = c.argv;
  c.w.addInteger(pubsub.listening ? pubsub.publish(argv.str(1), argv.str(2)) : 0);
  // In a cluster every node hears it over the bus, replicas included.
  if (server.cluster !== null) server.cluster.bus.publish(argv.copy(1), argv.copy(2), false);
  else if (server.propagation.active) server.propagation.forceCommand(Target.Replicas);
}

/** SPUBLISH shardchannel message */
function spublishCommand(c: Client): void {
  const pubsub = c.server.pubsub;
  const argv = c.argv;
  c.w.addInteger(pubsub.listeningShards ? pubsub.publishShard(argv.str(1), argv.str(2)) : 0);
  const server = c.server;
  if (server.cluster !== null) server.cluster.bus.publish(argv.copy(1), argv.copy(2), true);
  else if (server.propagation.active) server.propagation.forceCommand(Target.Replicas);
}

// ---------------------------------------------------------------------------------------
// PUBSUB
// ---------------------------------------------------------------------------------------

const HELP = [
  "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "CHANNELS [<pattern>]",
  "    Return the currently active channels matching a <pattern> (default: '*').",
  "NUMPAT",
  "    Return number of subscriptions to patterns.",
  "NUMSUB [<channel> ...]",
  "    Return the number of subscribers for the specified channels, excluding",
  "    pattern subscriptions(default: no channels).",
  "SHARDCHANNELS [<pattern>]",
  "    Return the currently active shard level channels matching a <pattern> (default: '*').",
  "SHARDNUMSUB [<shardchannel> ...]",
  "    Return the number of subscribers for the specified shard level channel(s)",
  "HELP",
  "    Prints this help.",
];

/** PUBSUB CHANNELS and SHARDCHANNELS: the active names matching the optional pattern. */
function channelListGeneric(c: Client, kind: "channels" | "shardChannels"): void {
  const argv = c.argv;
  // Redis's pubsubCommand takes at most one pattern; more is a syntax error.
  if (argv.count > 3) return c.w.addError(subcommandSyntaxError(argv.str(1), "pubsub"));
  // The pattern goes to the matcher as given: "*" leaves out the empty channel name.
  const names = c.server.pubsub[kind].names(argv.count === 3 ? argv.str(2) : null);
  c.w.addArrayLen(names.length);
  for (const name of names) c.w.addBulkLatin1(name);
}

/** PUBSUB NUMSUB and SHARDNUMSUB: each channel named and its subscriber count. */
function numsubGeneric(c: Client, kind: "channels" | "shardChannels"): void {
  const argv = c.argv;
  const table = c.server.pubsub[kind];
  c.w.addArrayLen((argv.count - 2) * 2);
  for (let i = 2; i < argv.count; i++) {
    c.w.addBulkView(argv.buf, argv.start[i]!, argv.len[i]!);
    c.w.addInteger(table.count(argv.str(i)));
  }
}

/** PUBSUB CHANNELS [pattern] */
function pubsubChannelsCommand(c: Client): void {
  channelListGeneric(c, "channels");
}

/** PUBSUB SHARDCHANNELS [pattern] */
function pubsubShardchannelsCommand(c: Client): void {
  channelListGeneric(c, "shardChannels");
}

/** PUBSUB NUMSUB [channel ...] */
function pubsubNumsubCommand(c: Client): void {
  numsubGeneric(c, "channels");
}

/** PUBSUB SHARDNUMSUB [shardchannel ...] */
function pubsubShardnumsubCommand(c: Client): void {
  numsubGeneric(c, "shardChannels");
}

/** PUBSUB NUMPAT: distinct patterns subscribed to, by anyone. */
function pubsubNumpatCommand(c: Client): void {
  c.w.addInteger(c.server.pubsub.patterns.byName.size);
}

/** PUBSUB HELP */
function pubsubHelpCommand(c: Client): void {
  c.w.addHelp(HELP);
}

// ---------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------

/** SSUBSCRIBE, SUNSUBSCRIBE and SPUBLISH declare their channels as keys that are not keys (for cluster slots). */
const shardChannelSpec = (lastkey: number) => [keyRange("not_key", 1, lastkey)];

const pubsubSubcommands: CommandDef[] = [
  {
    name: "pubsub|channels", arity: -2, flags: "pubsub loading stale", group: "pubsub", since: "2.8.0",
    summary: "List active channels",
    complexity: "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)",
    arguments: [{ name: "pattern", type: "pattern", flags: ["optional"] }],
    handler: pubsubChannelsCommand,
  },
  {
    name: "pubsub|help", arity: 2, flags: "loading stale", group: "pubsub", since: "6.2.0",
    summary: "Show helpful text about the different subcommands", complexity: "O(1)",
    handler: pubsubHelpCommand,
  },
  {
    name: "pubsub|numpat", arity: 2, flags: "pubsub loading stale", group: "pubsub", since: "2.8.0",
    summary: "Get the count of unique patterns pattern subscriptions", complexity: "O(1)",
    handler: pubsubNumpatCommand,
  },
  {
    name: "pubsub|numsub", arity: -2, flags: "pubsub loading stale", group: "pubsub", since: "2.8.0",
    summary: "Get the count of subscribers for channels",
    complexity: "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
    arguments: [{ name: "channel", type: "string", flags: ["optional", "multiple"] }],
    handler: pubsubNumsubCommand,
  },
  {
    name: "pubsub|shardchannels", arity: -2, flags: "pubsub loading stale", group: "pubsub", since: "7.0.0",
    summary: "List active shard channels",
    complexity: "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).",
    arguments: [{ name: "pattern", type: "pattern", flags: ["optional"] }],
    handler: pubsubShardchannelsCommand,
  },
  {
    name: "pubsub|shardnumsub", arity: -2, flags: "pubsub loading stale", group: "pubsub", since: "7.0.0",
    summary: "Get the count of subscribers for shard channels",
    complexity: "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
    arguments: [{ name: "shardchannel", type: "string", flags: ["optional", "multiple"] }],
    handler: pubsubShardnumsubCommand,
  },
];

export const pubsubCommands: CommandDef[] = [
  {
    name: "subscribe", arity: -2, flags: "pubsub noscript loading stale", group: "pubsub", since: "2.0.0",
    summary: "Listen for messages published to the given channels",
    complexity: "O(N) where N is the number of channels to subscribe to.",
    arguments: [{ name: "channel", type: "string", flags: ["multiple"] }],
    handler: subscribeCommand,
  },
  {
    name: "unsubscribe", arity: -1, flags: "pubsub noscript loading stale", group: "pubsub", since: "2.0.0",
    summary: "Stop listening for messages posted to the given channels",
    complexity: "O(N) where N is the number of clients already subscribed to a channel.",
    arguments: [{ name: "channel", type: "string", flags: ["optional", "multiple"] }],
    handler: unsubscribeCommand,
  },
  {
    name: "psubscribe", arity: -2, flags: "pubsub noscript loading stale", group: "pubsub", since: "2.0.0",
    summary: "Listen for messages published to channels matching the given patterns",
    complexity: "O(N) where N is the number of patterns the client is already subscribed to.",
    arguments: [{ name: "pattern", type: "block", flags: ["multiple"], arguments: [{ name: "pattern", type: "pattern" }] }],
    handler: psubscribeCommand,
  },
  {
    name: "punsubscribe", arity: -1, flags: "pubsub noscript loading stale", group: "pubsub", since: "2.0.0",
    summary: "Stop listening for messages posted to channels matching the given patterns",
    complexity:
      "O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client).",
    arguments: [{ name: "pattern", type: "pattern", flags: ["optional", "multiple"] }],
    handler: punsubscribeCommand,
  },
  {
    name: "publish", arity: 3, flags: "pubsub loading stale fast", group: "pubsub", since: "2.0.0",
    summary: "Post a message to a channel",
    complexity:
      "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).",
    arguments: [
      { name: "channel", type: "string" },
      { name: "message", type: "string" },
    ],
    handler: publishCommand,
  },
  {
    name: "pubsub", arity: -2, flags: "", group: "pubsub", since: "2.8.0",
    summary: "A container for Pub/Sub commands", complexity: "Depends on subcommand.",
    subcommands: pubsubSubcommands,
  },
  {
    name: "ssubscribe", arity: -2, flags: "pubsub noscript loading stale", group: "pubsub", since: "7.0.0",
    summary: "Listen for messages published to the given shard channels",
    complexity: "O(N) where N is the number of shard channels to subscribe to.",
    keySpecs: shardChannelSpec(-1),
    arguments: [{ name: "shardchannel", type: "string", flags: ["multiple"] }],
    handler: ssubscribeCommand,
  },
  {
    name: "sunsubscribe", arity: -1, flags: "pubsub noscript loading stale", group: "pubsub", since: "7.0.0",
    summary: "Stop listening for messages posted to the given shard channels",
    complexity: "O(N) where N is the number of clients already subscribed to a shard channel.",
    keySpecs: shardChannelSpec(-1),
    arguments: [{ name: "shardchannel", type: "string", flags: ["optional", "multiple"] }],
    handler: sunsubscribeCommand,
  },
  {
    name: "spublish", arity: 3, flags: "pubsub loading stale fast", group: "pubsub", since: "7.0.0",
    summary: "Post a message to a shard channel",
    complexity: "O(N) where N is the number of clients subscribed to the receiving shard channel.",
    keySpecs: shardChannelSpec(0),
    arguments: [
      { name: "shardchannel", type: "string" },
      { name: "message", type: "string" },
    ],
    handler: spublishCommand,
  },
];
