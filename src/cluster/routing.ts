// Which node serves a command in cluster mode (Redis 7.0's getNodeByQuery), and the error
// that sends the client elsewhere (clusterRedirectClient), as a pure function over a view of
// the cluster state, so that the state model can change without touching these rules.
//
// The rules, in Redis's order:
// - All the keys of the command (for EXEC: of every queued command) must hash to one slot,
//   else CROSSSLOT. Shard-channel commands (SPUBLISH, SSUBSCRIBE, SUNSUBSCRIBE) route by
//   their channels instead. A command without keys is served here, whatever the state.
// - The first key's slot has no owner: CLUSTERDOWN Hash slot not served.
// - The cluster is down: CLUSTERDOWN, unless cluster-allow-reads-when-down lets a read
//   through (or cluster-allow-pubsubshard-when-down a shard-channel command).
// - While this node migrates the slot away, a command whose keys are all gone is sent to
//   the target with ASK; one that still finds some of its keys here gets TRYAGAIN.
// - While this node imports the slot, a client that sent ASKING is served, unless several
//   different keys are asked for and some are not here yet (TRYAGAIN).
// - A READONLY client of a replica may read its master's slots here.
// - Otherwise the slot's owner serves it: here, or MOVED.

import { Argv, type ArgvView } from "../resp/parser.ts";
import { encode, type ReplyWriter } from "../resp/writer.ts";
import { CMD, type Command } from "../commands/table.ts";
import { commandKeys, type KeyRef } from "../commands/command.ts";
import { keyHashSlot } from "./slots.ts";

/** The cluster state as routing needs it. Nodes are opaque handles compared with ===. */
export interface ClusterView<N> {
  /** The node owning each slot, or null when no node serves it. */
  slotOwner(slot: number): N | null;
  readonly myself: N;
  /** The master of this node when it is a replica, else null. */
  myMaster(): N | null;
  /** The node this node migrates the slot to (CLUSTER SETSLOT MIGRATING), or null. */
  migratingTo(slot: number): N | null;
  /** The node this node imports the slot from (CLUSTER SETSLOT IMPORTING), or null. */
  importingFrom(slot: number): N | null;
  /** cluster_state is ok (cluster-require-full-coverage is part of deciding that). */
  stateOk(): boolean;
  /** "host:port" that redirections name for a node (announced address, preferred endpoint type). */
  endpoint(node: N): string;
  /**
   * Whether the key exists in database 0, looked up without touching it, counting a hit or
   * miss, or sending a keyspace notification (Redis's LOOKUP_NOTOUCH|NOSTATS|NONOTIFY);
   * an expired key counts as missing.
   */
  keyExists(buf: Uint8Array, start: number, len: number): boolean;
  /** cluster-allow-reads-when-down. */
  readonly allowReadsWhenDown: boolean;
  /** cluster-allow-pubsubshard-when-down. */
  readonly allowPubsubshardWhenDown: boolean;
}

/** One command queued in MULTI: the command and its own copy of its arguments. */
export interface QueuedLike extends ArgvView {
  readonly cmd: Command;
}

/** What routing needs to know about the client sending the command. */
export interface RouteClient {
  /** ASKING was sent (it lasts one command, or the whole transaction in MULTI). */
  readonly asking: boolean;
  /** READONLY was sent (reads of the master's slots are served by this replica). */
  readonly readonly: boolean;
  /** The open transaction, or null: EXEC routes by all its queued commands. */
  readonly multi: { readonly commands: readonly QueuedLike[]; readonly flags: number } | null;
}

/** The outcome of routing one command. */
export const ROUTE = {
  /** Run the command here. */
  serve: 0,
  /** -MOVED <slot> <endpoint>: the slot belongs to another node. */
  moved: 1,
  /** -ASK <slot> <endpoint>: the keys already moved to the node importing the slot. */
  ask: 2,
  /** -CROSSSLOT: the keys hash to more than one slot. */
  crossSlot: 3,
  /** -TRYAGAIN: a multi-key command during a migration found only some of its keys. */
  tryAgain: 4,
  /** -CLUSTERDOWN Hash slot not served. */
  downUnbound: 5,
  /** -CLUSTERDOWN The cluster is down. */
  downState: 6,
  /** -CLUSTERDOWN The cluster is down and only accepts read commands. */
  downReadOnly: 7,
} as const;

export type RouteCode = (typeof ROUTE)[keyof typeof ROUTE];

/** Where a MOVED or ASK sends the client: filled by route() for those two outcomes. */
export class Redirect<N> {
  slot = 0;
  node: N | null = null;
}

/** The redirections that never vary, encoded once (cluster.c clusterRedirectClient). */
const FIXED_ERRORS: (Uint8Array | null)[] = [
  null,
  null,
  null,
  encode("-CROSSSLOT Keys in request don't hash to the same slot\r\n"),
  encode("-TRYAGAIN Multiple keys request during rehashing of slot\r\n"),
  encode("-CLUSTERDOWN Hash slot not served\r\n"),
  encode("-CLUSTERDOWN The cluster is down\r\n"),
  encode("-CLUSTERDOWN The cluster is down and only accepts read commands\r\n"),
];

/** Replies with the error of a refused route (any code but ROUTE.serve). */
export function addRouteError<N>(w: ReplyWriter, view: ClusterView<N>, code: RouteCode, redirect: Redirect<N>): void {
  if (code === ROUTE.moved || code === ROUTE.ask) {
    const word = code === ROUTE.ask ? "ASK" : "MOVED";
    return w.addError(`${word} ${redirect.slot} ${view.endpoint(redirect.node!)}`);
  }
  const fixed = FIXED_ERRORS[code];
  if (fixed === null || fixed === undefined) throw new Error(`no error for route ${code}`);
  w.addErrorBytes(fixed);
}

// ---------------------------------------------------------------------------------------
// The key scan
// ---------------------------------------------------------------------------------------

/**
 * What the scan over a command's keys learned, kept in one module-level record so that
 * routing allocates nothing per command (dispatch is single-threaded and route() does not
 * re-enter).
 */
const scan = {
  /** The first key seen, as a view; later keys equal to it do not make the request multi-key. */
  firstBuf: null as Uint8Array | null,
  firstStart: 0,
  firstLen: 0,
  slot: 0,
  /** The first key's slot owner (null while no key was seen). */
  owner: null as unknown,
  multipleKeys: false,
  /** This node owns the slot and migrates it away. */
  migrating: false,
  /** This node imports the slot. */
  importing: false,
  missingKeys: 0,
  existingKeys: 0,
};

/** Key positions found by the key specs; reused from command to command. */
const keyRefs: KeyRef[] = [];
/** The arguments of the queued command EXEC is looking at. */
const queuedArgv = new Argv();
/** What queuedArgv points at between two EXECs, so that it holds no transaction's arguments. */
const NO_ARGUMENTS: ArgvView = { buf: new Uint8Array(0), start: new Int32Array(0), len: new Int32Array(0), count: 0 };

function resetScan(): void {
  scan.firstBuf = null;
  scan.firstStart = scan.firstLen = scan.slot = 0;
  scan.owner = null;
  scan.multipleKeys = scan.migrating = scan.importing = false;
  scan.missingKeys = scan.existingKeys = 0;
}

const isExec = (cmd: Command): boolean => cmd.parent === null && cmd.name === "exec";
const isMigrate = (cmd: Command): boolean => cmd.parent === null && cmd.name === "migrate";

/** SPUBLISH, SSUBSCRIBE and SUNSUBSCRIBE, whose channels pick the slot (their key specs are not_key). */
function isPubsubShard(cmd: Command): boolean {
  if (cmd.parent !== null) return false;
  const name = cmd.name;
  return name === "spublish" || name === "ssubscribe" || name === "sunsubscribe";
}

/**
 * Redis's processCommand skips routing for commands that declare no key specs (EXEC aside):
 * they can never have keys, so they run on any node, in any cluster state.
 */
function neverHasKeys(cmd: Command): boolean {
  return (cmd.def.keySpecs === undefined || cmd.def.keySpecs.length === 0) && cmd.def.getKeys === undefined;
}

/**
 * Folds one key into the scan. Returns ROUTE.serve to go on, or the error that ends the
 * scan (a slot nobody serves, or keys in two slots).
 */
function scanKey<N>(view: ClusterView<N>, buf: Uint8Array, start: number, len: number, countMissing: boolean): RouteCode {
  const slot = keyHashSlot(buf, start, len);
  if (scan.firstBuf === null) {
    const owner = view.slotOwner(slot);
    // An unserved slot means the cluster is down, but the state may not say so yet.
    if (owner === null) return ROUTE.downUnbound;
    scan.firstBuf = buf;
    scan.firstStart = start;
    scan.firstLen = len;
    scan.slot = slot;
    scan.owner = owner;
    if (owner === view.myself && view.migratingTo(slot) !== null) scan.migrating = true;
    else if (view.importingFrom(slot) !== null) scan.importing = true;
  } else if (!sameBytes(scan.firstBuf, scan.firstStart, scan.firstLen, buf, start, len)) {
    if (slot !== scan.slot) return ROUTE.crossSlot;
    scan.multipleKeys = true;
  }
  // Shard channels stay served by the source node until the migration ends, whether or not
  // they "exist", so only keys are counted.
  if ((scan.migrating || scan.importing) && countMissing) {
    if (view.keyExists(buf, start, len)) scan.existingKeys++;
    else scan.missingKeys++;
  }
  return ROUTE.serve;
}

function sameBytes(a: Uint8Array, aStart: number, aLen: number, b: Uint8Array, bStart: number, bLen: number): boolean {
  if (aLen !== bLen) return false;
  for (let i = 0; i < aLen; i++) if (a[aStart + i] !== b[bStart + i]) return false;
  return true;
}

/** Folds the keys of one command line (argv[0] is its name) into the scan. */
function scanCommand<N>(view: ClusterView<N>, cmd: Command, argv: Argv): RouteCode {
  if (isPubsubShard(cmd)) return scanChannels(view, cmd, argv);
  // The common case, one key at a fixed index, needs no key search.
  const single = cmd.singleKeyAt;
  if (single > 0) return single < argv.count ? scanArg(view, argv, single) : ROUTE.serve;
  // Specs Redis cannot follow (incomplete ones, a key count that is not a number) fall back
  // to the command's own key function; without one the command has no keys, and its handler
  // reports the bad arguments.
  keyRefs.length = 0;
  commandKeys(cmd, argv, keyRefs);
  for (let i = 0; i < keyRefs.length; i++) {
    const code = scanArg(view, argv, keyRefs[i]!.pos);
    if (code !== ROUTE.serve) return code;
  }
  return ROUTE.serve;
}

function scanArg<N>(view: ClusterView<N>, argv: Argv, i: number): RouteCode {
  return scanKey(view, argv.buf, argv.start[i]!, argv.len[i]!, true);
}

/** SPUBLISH's one channel, or every channel of SSUBSCRIBE / SUNSUBSCRIBE. */
function scanChannels<N>(view: ClusterView<N>, cmd: Command, argv: Argv): RouteCode {
  const last = cmd.name === "spublish" ? Math.min(1, argv.count - 1) : argv.count - 1;
  for (let i = 1; i <= last; i++) {
    const code = scanKey(view, argv.buf, argv.start[i]!, argv.len[i]!, false);
    if (code !== ROUTE.serve) return code;
  }
  return ROUTE.serve;
}

// ---------------------------------------------------------------------------------------
// Routing
// ---------------------------------------------------------------------------------------

/**
 * Where `cmd` (with its arguments in `argv`) must run: ROUTE.serve to run it here, or the
 * refusal to send with addRouteError (`redirect` holds the slot and node of MOVED and ASK).
 * `cmd` is the command as dispatch resolved it (a container's subcommand, such as
 * OBJECT ENCODING, whose key specs are its own). The caller skips routing for its
 * master's replication stream.
 */
/** The slot of the keys of the command route() last saw, -1 when it had none. */
export let routedSlot = -1;

export function route<N>(view: ClusterView<N>, cmd: Command, argv: Argv, client: RouteClient, redirect: Redirect<N>): RouteCode {
  redirect.slot = 0;
  redirect.node = null;
  routedSlot = -1;
  const exec = isExec(cmd);
  if (!exec && neverHasKeys(cmd)) return ROUTE.serve;
  // EXEC outside MULTI only replies with an error.
  if (exec && client.multi === null) return ROUTE.serve;
  resetScan();
  const code = exec ? scanQueued(view, client.multi!.commands) : scanCommand(view, cmd, argv);
  if (code !== ROUTE.serve) return code;
  // No key at all: any node serves the command.
  if (scan.firstBuf === null) return ROUTE.serve;
  return decide(view, cmd, client, redirect, exec);
}

function scanQueued<N>(view: ClusterView<N>, commands: readonly QueuedLike[]): RouteCode {
  let code: RouteCode = ROUTE.serve;
  for (let i = 0; i < commands.length && code === ROUTE.serve; i++) {
    const queued = commands[i]!;
    queuedArgv.use(queued);
    code = scanCommand(view, queued.cmd, queuedArgv);
  }
  queuedArgv.use(NO_ARGUMENTS);
  return code;
}

/** The rules that follow once the keys agreed on one slot with an owner. */
function decide<N>(view: ClusterView<N>, cmd: Command, client: RouteClient, redirect: Redirect<N>, exec: boolean): RouteCode {
  const pubsubShard = isPubsubShard(cmd);
  const down = downCode(view, cmd, pubsubShard);
  if (down !== ROUTE.serve) return down;
  const slot = scan.slot;
  redirect.slot = slot;
  routedSlot = slot;
  // MIGRATE moves keys between the two ends of an open slot, so it always runs here.
  if ((scan.migrating || scan.importing) && isMigrate(cmd)) return ROUTE.serve;
  if (scan.migrating && scan.missingKeys > 0) {
    if (scan.existingKeys > 0) return ROUTE.tryAgain;
    redirect.node = view.migratingTo(slot);
    return ROUTE.ask;
  }
  if (scan.importing && (client.asking || (cmd.flags & CMD.asking) !== 0)) {
    return scan.multipleKeys && scan.missingKeys > 0 ? ROUTE.tryAgain : ROUTE.serve;
  }
  const owner = scan.owner as N;
  const writes = (cmd.flags & CMD.write) !== 0 || (exec && (client.multi!.flags & CMD.write) !== 0);
  if ((client.readonly || pubsubShard) && !writes) {
    const master = view.myMaster();
    if (master !== null && master === owner) return ROUTE.serve;
  }
  if (owner === view.myself) return ROUTE.serve;
  redirect.node = owner;
  return ROUTE.moved;
}

/**
 * A cluster that is down refuses commands with keys, except reads when
 * cluster-allow-reads-when-down is set (Redis looks at the command's own write flag here,
 * EXEC's included) and shard-channel commands when cluster-allow-pubsubshard-when-down is.
 */
function downCode<N>(view: ClusterView<N>, cmd: Command, pubsubShard: boolean): RouteCode {
  if (view.stateOk()) return ROUTE.serve;
  if (pubsubShard) return view.allowPubsubshardWhenDown ? ROUTE.serve : ROUTE.downState;
  if (!view.allowReadsWhenDown) return ROUTE.downState;
  if ((cmd.flags & CMD.write) !== 0) return ROUTE.downReadOnly;
  return ROUTE.serve;
}
