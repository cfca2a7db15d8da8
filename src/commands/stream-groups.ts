// Stream consumer group commands (Redis 7.0's t_stream.c): XGROUP, XREADGROUP (blocking
// too), XACK, XPENDING, XCLAIM, XAUTOCLAIM. The groups, consumers and pending entries
// lists (PELs) live in store/stream.ts; XINFO GROUPS/CONSUMERS and the AOF rewrite of
// groups are in stream.ts beside the other stream commands.
//
// Propagation follows Redis 7.0.15: XREADGROUP never goes out as itself but as one XCLAIM
// ... FORCE JUSTID LASTID per entry delivered (plus XGROUP CREATECONSUMER and XGROUP
// SETID with NOACK, which creates no pending entry), XCLAIM and XAUTOCLAIM as one such
// XCLAIM per entry claimed or dropped from the PEL.

import type { Client } from "../server/client.ts";
import type { Db } from "../store/db.ts";
import { ObjType } from "../store/object.ts";
import { OK, type ReplyWriter } from "../resp/writer.ts";
import { ERR, subcommandSyntaxError } from "../resp/errors.ts";
import { type CommandDef, keyRange } from "./table.ts";
import { TimeoutUnit, parseTimeoutArg } from "./args.ts";
import type { BlockedWait } from "../server/blocking.ts";
import type { PropArg } from "../server/propagate.ts";
import { NOTIFY, notifyArg, notifyKey } from "../server/notify.ts";
import { parseLongLong, parsedInt64 } from "../util/numbers.ts";
import {
  type Consumer,
  type ConsumerGroup,
  ENTRIES_READ_INVALID,
  type PendingEntry,
  type Stream,
  StreamId,
  StreamIterator,
  U64_MAX,
  compareIds,
  decrId,
  incrId,
  lowerBound,
  pelKey,
  pelKeyId,
  sortedKeys,
} from "../store/stream.ts";
import {
  BLOCKED_DEFAULT_COUNT,
  addEntry,
  addId,
  createStream,
  estimateEntriesRead,
  exclusive,
  latin1Bytes,
  lastValidId,
  parseIdBytes,
  parseIntervalId,
  parseLongLongArg,
  parseStrictId,
  rangeHasTombstones,
  streamAt,
} from "./stream.ts";

/** XAUTOCLAIM looks at COUNT times this many PEL entries at most. */
const AUTOCLAIM_ATTEMPTS_FACTOR = 10;
/** XAUTOCLAIM's largest COUNT: LONG_MAX / max(sizeof(streamID), attempts factor). */
const AUTOCLAIM_MAX_COUNT = 576460752303423487;

/** The one iterator these commands walk streams with; none runs inside another. */
const cursor = new StreamIterator();

/** Redis's mstime(): delivery and seen times are wall-clock milliseconds. */
function nowMs(): number {
  return Date.now();
}

/** streamEntryExists: whether `id` is a live entry of the stream. */
function entryExists(stream: Stream, id: StreamId): boolean {
  cursor.start(stream, id, id, false);
  return cursor.next();
}

/** Replies with the entry `id` as [id, [field, value ...]]; false (nothing written) when it is gone. */
function addEntryById(w: ReplyWriter, stream: Stream, id: StreamId): boolean {
  cursor.start(stream, id, id, false);
  if (!cursor.next()) return false;
  addEntry(w, cursor);
  return true;
}

/** Whether the last lookupOrCreateConsumer made the consumer. */
let created = false;

/**
 * streamLookupConsumer plus streamCreateConsumer: the consumer `name`, its seen time
 * refreshed, or a new one (a dirty change and an xgroup-createconsumer event).
 */
function lookupOrCreateConsumer(c: Client, stream: Stream, group: ConsumerGroup, name: string, key: string): Consumer {
  const now = nowMs();
  const found = group.consumers.get(name);
  created = found === undefined;
  if (found !== undefined) {
    found.seenTimeMs = now;
    return found;
  }
  const consumer = stream.createConsumer(group, name, now);
  c.server.dirty++;
  notifyKey(c, NOTIFY.STREAM, "xgroup-createconsumer", key);
  return consumer;
}

function noGroupForKey(c: Client, keyAt: number, groupAt: number, suffix = ""): void {
  c.w.addError(`NOGROUP No such key '${c.argv.str(keyAt)}' or consumer group '${c.argv.str(groupAt)}'${suffix}`);
}

// ---------------------------------------------------------------------------------------
// Propagation
// ---------------------------------------------------------------------------------------

/**
 * streamPropagateXCLAIM: the pending entry `id` as an XCLAIM that recreates it as it is
 * now, owned by its consumer, and moves the group's last ID forward if needed.
 */
function propagateClaim(c: Client, key: PropArg, groupName: PropArg, group: ConsumerGroup, id: PropArg, nack: PendingEntry): void {
  const propagation = c.server.propagation;
  if (!propagation.active) return;
  propagation.add(c.db.id, [
    "XCLAIM", key, groupName, latin1Bytes(nack.consumer!.name), "0", id,
    "TIME", String(nack.deliveryTimeMs), "RETRYCOUNT", String(nack.deliveryCount),
    "FORCE", "JUSTID", "LASTID", group.lastId.toString(),
  ]);
}

/** streamPropagateGroupID: XGROUP SETID with the group's last ID and entries read. */
function propagateGroupId(c: Client, key: PropArg, groupName: PropArg, group: ConsumerGroup): void {
  const propagation = c.server.propagation;
  if (!propagation.active) return;
  propagation.add(c.db.id, ["XGROUP", "SETID", key, groupName, group.lastId.toString(), "ENTRIESREAD", group.entriesRead.toString()]);
}

/** streamPropagateConsumerCreation: XGROUP CREATECONSUMER. */
function propagateConsumerCreation(c: Client, key: PropArg, groupName: PropArg, consumerName: string): void {
  const propagation = c.server.propagation;
  if (!propagation.active) return;
  propagation.add(c.db.id, ["XGROUP", "CREATECONSUMER", key, groupName, latin1Bytes(consumerName)]);
}

// ---------------------------------------------------------------------------------------
// XGROUP
// ---------------------------------------------------------------------------------------

const XGROUP_HELP = [
  "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "CREATE <key> <groupname> <id|$> [option]",
  "    Create a new consumer group. Options are:",
  "    * MKSTREAM",
  "      Create the empty stream if it does not exist.",
  "    * ENTRIESREAD entries_read",
  "      Set the group's entries_read counter (internal use).",
  "CREATECONSUMER <key> <groupname> <consumer>",
  "    Create a new consumer in the specified group.",
  "DELCONSUMER <key> <groupname> <consumer>",
  "    Remove the specified consumer.",
  "DESTROY <key> <groupname>",
  "    Remove the specified group.",
  "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
  "    Set the current group ID and entries_read counter.",
  "HELP",
  "    Prints this help.",
];

/** XGROUP HELP */
function xgroupHelpCommand(c: Client): void {
  c.w.addHelp(XGROUP_HELP);
}

/** What xgroupPrelude found: the stream (null when none and MKSTREAM), the group, the options. */
const xgroupArgs = {
  stream: null as Stream | null,
  group: null as ConsumerGroup | null,
  mkstream: false,
  entriesRead: ENTRIES_READ_INVALID,
};

/**
 * What every XGROUP subcommand with a key does first (xgroupCommand's shared part): the
 * options of CREATE and SETID, the key (WRONGTYPE, or an error when missing unless
 * MKSTREAM), and for SETID, CREATECONSUMER and DELCONSUMER the group. False after replying.
 */
function xgroupPrelude(c: Client, withOptions: boolean, create: boolean, needsGroup: boolean): boolean {
  const argv = c.argv;
  const args = xgroupArgs;
  args.mkstream = false;
  args.entriesRead = ENTRIES_READ_INVALID;
  args.stream = null;
  args.group = null;
  if (withOptions && !parseGroupOptions(c, create)) return false;
  const db = c.db;
  const key = db.lookupWriteArg(argv, 2);
  if (key >= 0 && db.typeOf(key) !== ObjType.Stream) {
    c.w.addErrorBytes(ERR.wrongType);
    return false;
  }
  const stream = key >= 0 ? streamAt(db, key) : null;
  args.stream = stream;
  if (args.mkstream) return true;
  if (stream === null) {
    c.w.addError(
      "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.",
    );
    return false;
  }
  args.group = stream.groups.get(argv.str(3)) ?? null;
  if (needsGroup && args.group === null) {
    c.w.addError(`NOGROUP No such consumer group '${argv.str(3)}' for key name '${argv.str(2)}'`);
    return false;
  }
  return true;
}

/** MKSTREAM (CREATE only) and ENTRIESREAD n, from argument 5 on. */
function parseGroupOptions(c: Client, create: boolean): boolean {
  const argv = c.argv;
  for (let i = 5; i < argv.count; ) {
    if (create && argv.is(i, "mkstream")) {
      xgroupArgs.mkstream = true;
      i++;
    } else if (argv.is(i, "entriesread") && i + 1 < argv.count) {
      const n = parseEntriesRead(c, i + 1);
      if (n === null) return false;
      xgroupArgs.entriesRead = n;
      i += 2;
    } else {
      c.w.addError(subcommandSyntaxError(argv.str(1), "xgroup"));
      return false;
    }
  }
  return true;
}

function parseEntriesRead(c: Client, i: number): bigint | null {
  const argv = c.argv;
  if (!parseLongLong(argv.buf, argv.start[i]!, argv.len[i]!)) {
    c.w.addErrorBytes(ERR.notInteger);
    return null;
  }
  const n = parsedInt64.safe ? BigInt(parsedInt64.value) : parsedInt64.big;
  if (n < 0n && n !== ENTRIES_READ_INVALID) {
    c.w.addError("ERR value for ENTRIESREAD must be positive or -1");
    return null;
  }
  return n;
}

/** Whether argument i is `$`. */
function isDollar(c: Client, i: number): boolean {
  return c.argv.len[i] === 1 && c.argv.buf[c.argv.start[i]!] === 36;
}

/** XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD entries-read] */
function xgroupCreateCommand(c: Client): void {
  if (!xgroupPrelude(c, true, true, false)) return;
  const argv = c.argv;
  if (argv.count > 8) return c.w.addError(subcommandSyntaxError(argv.str(1), "xgroup"));
  let stream = xgroupArgs.stream;
  let id: StreamId | null;
  if (isDollar(c, 4)) id = stream !== null ? stream.lastId.clone() : new StreamId(0n, 0n);
  else id = parseStrictId(c, 4);
  if (id === null) return;
  if (stream === null) {
    const key = createStream(c, 2);
    stream = streamAt(c.db, key);
    c.db.modified(key);
  }
  if (stream.createGroup(argv.str(3), id, xgroupArgs.entriesRead) === null) {
    return c.w.addError("BUSYGROUP Consumer Group name already exists");
  }
  c.w.addRaw(OK);
  c.server.dirty++;
  notifyArg(c, NOTIFY.STREAM, "xgroup-create", 2);
}

/** XGROUP SETID key group id|$ [ENTRIESREAD entries-read] */
function xgroupSetidCommand(c: Client): void {
  if (!xgroupPrelude(c, true, false, true)) return;
  const argv = c.argv;
  if (argv.count !== 5 && argv.count !== 7) return c.w.addError(subcommandSyntaxError(argv.str(1), "xgroup"));
  const stream = xgroupArgs.stream!;
  const group = xgroupArgs.group!;
  let id: StreamId | null;
  if (isDollar(c, 4)) id = stream.lastId.clone();
  else id = parseIdBytes(c.w, argv.buf, argv.start[4]!, argv.len[4]!, 0n, false, false);
  if (id === null) return;
  group.lastId = id;
  group.entriesRead = xgroupArgs.entriesRead;
  c.w.addRaw(OK);
  c.server.dirty++;
  notifyArg(c, NOTIFY.STREAM, "xgroup-setid", 2);
}

/** XGROUP DESTROY key group */
function xgroupDestroyCommand(c: Client): void {
  if (!xgroupPrelude(c, false, false, false)) return;
  if (!xgroupArgs.stream!.destroyGroup(c.argv.str(3))) return c.w.addInteger(0);
  c.w.addInteger(1);
  c.server.dirty++;
  notifyArg(c, NOTIFY.STREAM, "xgroup-destroy", 2);
  // Clients blocked in XREADGROUP on this group get their -NOGROUP now.
  c.server.blocking.keyReady(c.db, c.argv.str(2));
}

/** XGROUP CREATECONSUMER key group consumer */
function xgroupCreateConsumerCommand(c: Client): void {
  if (!xgroupPrelude(c, false, false, true)) return;
  const group = xgroupArgs.group!;
  const name = c.argv.str(4);
  if (group.consumers.has(name)) return c.w.addInteger(0);
  xgroupArgs.stream!.createConsumer(group, name, nowMs());
  c.server.dirty++;
  notifyArg(c, NOTIFY.STREAM, "xgroup-createconsumer", 2);
  c.w.addInteger(1);
}

/** XGROUP DELCONSUMER key group consumer */
function xgroupDelConsumerCommand(c: Client): void {
  if (!xgroupPrelude(c, false, false, true)) return;
  const group = xgroupArgs.group!;
  const consumer = group.consumers.get(c.argv.str(4));
  if (consumer === undefined) return c.w.addInteger(0);
  const pending = consumer.pel.size;
  xgroupArgs.stream!.deleteConsumer(group, consumer);
  c.server.dirty++;
  notifyArg(c, NOTIFY.STREAM, "xgroup-delconsumer", 2);
  c.w.addInteger(pending);
}

// ---------------------------------------------------------------------------------------
// XREADGROUP
// ---------------------------------------------------------------------------------------

/** How a group read is propagated: the key and group name as the client gave them. */
interface GroupRead {
  key: PropArg;
  groupName: PropArg;
  noack: boolean;
}

/**
 * streamReplyWithRange for a group reading new entries: the entries after the group's
 * last ID, at most `count` (0: all), each moving the group's last ID and entries read
 * and, unless NOACK, becoming pending for `consumer` (taken from another consumer if
 * XGROUP SETID moved the group back), each propagated as an XCLAIM.
 */
function replyNewEntries(c: Client, w: ReplyWriter, stream: Stream, group: ConsumerGroup, consumer: Consumer, count: number, read: GroupRead): void {
  const start = group.lastId.clone();
  incrId(start);
  const it = cursor;
  it.start(stream, start, null, false);
  const at = w.deferLen();
  let emitted = 0;
  let movedLastId = false;
  while ((count === 0 || emitted < count) && it.next()) {
    const id = it.id;
    if (compareIds(id, group.lastId) > 0) {
      advanceGroup(stream, group, id);
      movedLastId = true;
    }
    addEntry(w, it);
    emitted++;
    if (!read.noack) deliver(c, stream, group, consumer, it.id, read);
  }
  w.setDeferredLen(at, "array", emitted);
  if (read.noack && movedLastId) propagateGroupId(c, read.key, read.groupName, group);
}

/** The group has read entry `id`: its last ID and entries-read counter move on. */
function advanceGroup(stream: Stream, group: ConsumerGroup, id: StreamId): void {
  if (group.entriesRead !== ENTRIES_READ_INVALID && !rangeHasTombstones(stream, id)) group.entriesRead++;
  else if (stream.entriesAdded !== 0n) group.entriesRead = estimateEntriesRead(stream, id);
  group.lastId = id.clone();
}

/** Makes entry `id` pending for `consumer`, delivered once now, and propagates that. */
function deliver(c: Client, stream: Stream, group: ConsumerGroup, consumer: Consumer, id: StreamId, read: GroupRead): void {
  const key = pelKey(id);
  let nack = group.pel.get(key);
  if (nack === undefined) nack = stream.addPending(group, key, consumer, nowMs());
  else {
    nack.consumer?.pel.delete(key);
    nack.consumer = consumer;
    nack.deliveryTimeMs = nowMs();
    nack.deliveryCount = 1;
    consumer.pel.set(key, nack);
  }
  propagateClaim(c, read.key, read.groupName, group, id.toString(), nack);
}

/**
 * streamReplyWithRangeFromConsumerPEL: the consumer's own pending entries from `start`,
 * at most `count` (0: all), each delivered once more; an entry deleted since shows as
 * [id, null].
 */
function replyHistory(w: ReplyWriter, stream: Stream, consumer: Consumer, start: StreamId, count: number): void {
  const keys = sortedKeys(consumer.pel);
  const at = w.deferLen();
  let emitted = 0;
  for (let i = lowerBound(keys, pelKey(start)); i < keys.length && (count === 0 || emitted < count); i++) {
    const id = pelKeyId(keys[i]!);
    if (addEntryById(w, stream, id)) {
      const nack = consumer.pel.get(keys[i]!)!;
      nack.deliveryTimeMs = nowMs();
      nack.deliveryCount++;
    } else {
      w.addArrayLen(2);
      addId(w, id);
      w.addNullArray();
    }
    emitted++;
  }
  w.setDeferredLen(at, "array", emitted);
}

/** What XREADGROUP's options said. */
const readArgs = {
  deadlineMs: -1,
  count: 0,
  noack: false,
  groupAt: 0,
  streamsAt: 0,
  streamCount: 0,
};

/** XREADGROUP's options (xreadCommand's parsing); false after replying. */
function parseReadGroupArgs(c: Client): boolean {
  const argv = c.argv;
  const args = readArgs;
  args.deadlineMs = -1;
  args.count = 0;
  args.noack = false;
  args.groupAt = 0;
  args.streamsAt = 0;
  for (let i = 1; i < argv.count; i++) {
    const moreArgs = argv.count - i - 1;
    if (argv.is(i, "block") && moreArgs > 0) {
      i++;
      const parsed = parseTimeoutArg(c, i, TimeoutUnit.Milliseconds);
      if (parsed === null) return false;
      args.deadlineMs = parsed;
    } else if (argv.is(i, "count") && moreArgs > 0) {
      i++;
      const n = parseLongLongArg(c, i);
      if (n === null) return false;
      args.count = n < 0 ? 0 : n;
    } else if (argv.is(i, "streams") && moreArgs > 0) {
      args.streamsAt = i + 1;
      if ((argv.count - args.streamsAt) % 2 !== 0) {
        c.w.addError("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
        return false;
      }
      args.streamCount = (argv.count - args.streamsAt) / 2;
      break;
    } else if (argv.is(i, "group") && moreArgs >= 2) {
      args.groupAt = i + 1;
      i += 2;
    } else if (argv.is(i, "noack")) {
      args.noack = true;
    } else {
      c.w.addErrorBytes(ERR.syntax);
      return false;
    }
  }
  if (args.streamsAt === 0) {
    c.w.addErrorBytes(ERR.syntax);
    return false;
  }
  if (args.groupAt === 0) {
    c.w.addError("ERR Missing GROUP option for XREADGROUP");
    return false;
  }
  return true;
}

/** Per stream of an XREADGROUP: the stream, its group, and the history ID after which to read (null for `>`). */
const readStreams: Stream[] = [];
const readGroups: ConsumerGroup[] = [];
const readHistory: (StreamId | null)[] = [];

/** Resolves each key's group and ID; false after replying. */
function resolveReadGroups(c: Client): boolean {
  const argv = c.argv;
  const db = c.db;
  const { streamsAt, streamCount, groupAt } = readArgs;
  const groupName = argv.str(groupAt);
  readStreams.length = 0;
  readGroups.length = 0;
  readHistory.length = 0;
  for (let i = 0; i < streamCount; i++) {
    const idAt = streamsAt + streamCount + i;
    const key = db.lookupReadArg(argv, streamsAt + i);
    if (key >= 0 && db.typeOf(key) !== ObjType.Stream) {
      c.w.addErrorBytes(ERR.wrongType);
      return false;
    }
    const stream = key >= 0 ? streamAt(db, key) : null;
    const group = stream?.groups.get(groupName);
    if (group === undefined) {
      noGroupForKey(c, streamsAt + i, groupAt, " in XREADGROUP with GROUP option");
      return false;
    }
    readStreams.push(stream!);
    readGroups.push(group);
    if (isDollar(c, idAt)) {
      c.w.addError(
        "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
      );
      return false;
    }
    if (argv.len[idAt] === 1 && argv.buf[argv.start[idAt]!] === 62 /* '>' */) {
      readHistory.push(null);
      continue;
    }
    const id = parseStrictId(c, idAt);
    if (id === null) return false;
    readHistory.push(id);
  }
  return true;
}

/** XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key [key ...] id [id ...] */
function xreadgroupCommand(c: Client): void {
  if (!parseReadGroupArgs(c) || !resolveReadGroups(c)) return;
  if (c.server.propagation.active) c.server.propagation.preventCommand();
  const argv = c.argv;
  const w = c.w;
  const { streamsAt, streamCount, groupAt, count } = readArgs;
  const consumerName = argv.str(groupAt + 1);
  let served = 0;
  let at = 0;
  for (let i = 0; i < streamCount; i++) {
    // Redis looks each key up again here, which INFO's keyspace_hits counts.
    const stream = streamAt(c.db, c.db.lookupReadArg(argv, streamsAt + i));
    const group = readGroups[i]!;
    const history = readHistory[i]!;
    if (history === null && (stream.length === 0 || compareIds(lastValidId(stream), group.lastId) <= 0)) continue;
    if (served++ === 0) at = w.deferLen();
    if (w.resp === 2) w.addArrayLen(2);
    w.addBulkView(argv.buf, argv.start[streamsAt + i]!, argv.len[streamsAt + i]!);
    const key = argv.str(streamsAt + i);
    const consumer = lookupOrCreateConsumer(c, stream, group, consumerName, key);
    const read: GroupRead = { key: argv.copy(streamsAt + i), groupName: argv.copy(groupAt), noack: readArgs.noack };
    if (created && read.noack) propagateConsumerCreation(c, read.key, read.groupName, consumerName);
    if (history !== null) {
      const start = history.clone();
      incrId(start);
      replyHistory(w, stream, consumer, start, count);
    } else replyNewEntries(c, w, stream, group, consumer, count, read);
    c.server.dirty++;
  }
  if (served > 0) return w.setDeferredLen(at, w.resp === 2 ? "array" : "map", served);
  if (readArgs.deadlineMs === -1 || c.denyBlocking) return w.addNullArray();
  const keys: string[] = [];
  for (let i = 0; i < streamCount; i++) keys.push(argv.str(streamsAt + i));
  const groupName = argv.str(groupAt);
  const wait = new GroupWait(c.db, keys, readArgs.deadlineMs, groupName, consumerName, count || BLOCKED_DEFAULT_COUNT, readArgs.noack);
  wait.noteStreams(readStreams);
  c.server.blocking.block(c, wait);
}

/**
 * What a blocked XREADGROUP waits for: an entry added to one of its streams past its
 * group's last ID (Redis looks again only when an entry is added, so each key remembers
 * how many entries its stream had taken at the last look). It ends with an error when
 * its group is destroyed or its key deleted.
 */
class GroupWait implements BlockedWait {
  /** Per key, the stream it held and the entries that had taken at the last look. */
  private streamsSeen: Stream[] = [];
  private addedSeen: bigint[] = [];

  constructor(
    readonly db: Db,
    readonly keys: string[],
    readonly deadlineMs: number,
    private readonly groupName: string,
    private readonly consumerName: string,
    private readonly count: number,
    private readonly noack: boolean,
  ) {}

  /** The streams the keys held when the client blocked (XREADGROUP found them all). */
  noteStreams(streams: readonly Stream[]): void {
    this.streamsSeen = streams.slice();
    this.addedSeen = streams.map((stream) => stream.entriesAdded);
  }

  serve(c: Client, w: ReplyWriter, key: string): boolean {
    // The key held a stream with the group when the client blocked: missing or holding
    // another type, the stream was deleted (or overwritten), which Redis reports at once.
    const id = this.db.lookupRead(key);
    if (id < 0 || this.db.typeOf(id) !== ObjType.Stream) {
      w.addError("UNBLOCKED the stream key no longer exists");
      return true;
    }
    const stream = streamAt(this.db, id);
    const group = stream.groups.get(this.groupName);
    if (group === undefined) {
      w.addError("NOGROUP the consumer group this client was blocked on no longer exists");
      return true;
    }
    const at = this.keys.indexOf(key);
    const unchanged = stream === this.streamsSeen[at] && stream.entriesAdded === this.addedSeen[at];
    this.streamsSeen[at] = stream;
    this.addedSeen[at] = stream.entriesAdded;
    if (unchanged || compareIds(stream.lastId, group.lastId) <= 0) return false;
    return this.serveStream(c, w, key, stream, group);
  }

  private serveStream(c: Client, w: ReplyWriter, key: string, stream: Stream, group: ConsumerGroup): boolean {
    const consumer = lookupOrCreateConsumer(c, stream, group, this.consumerName, key);
    const read: GroupRead = { key: latin1Bytes(key), groupName: latin1Bytes(this.groupName), noack: this.noack };
    if (created && this.noack) propagateConsumerCreation(c, read.key, read.groupName, this.consumerName);
    if (w.resp === 2) {
      w.addArrayLen(1);
      w.addArrayLen(2);
    } else w.addMapLen(1);
    w.addBulkLatin1(key);
    replyNewEntries(c, w, stream, group, consumer, this.count, read);
    return true;
  }

  timeoutReply(_c: Client, w: ReplyWriter): void {
    w.addNullArray();
  }
}

// ---------------------------------------------------------------------------------------
// XACK XPENDING
// ---------------------------------------------------------------------------------------

/** The stream at argument 1 and its group named by argument 2, or null (WRONGTYPE replied when not a stream). */
function groupAt(c: Client): { stream: Stream; group: ConsumerGroup } | null {
  const db = c.db;
  const key = db.lookupReadArg(c.argv, 1);
  if (key < 0) return null;
  if (db.typeOf(key) !== ObjType.Stream) {
    c.w.addErrorBytes(ERR.wrongType);
    return null;
  }
  const stream = streamAt(db, key);
  const group = stream.groups.get(c.argv.str(2));
  return group === undefined ? null : { stream, group };
}

/** Whether groupAt replied (WRONGTYPE) rather than finding nothing. */
function replied(c: Client, before: number): boolean {
  return c.w.len !== before;
}

/** XACK key group id [id ...] */
function xackCommand(c: Client): void {
  const before = c.w.len;
  const found = groupAt(c);
  if (found === null) {
    if (!replied(c, before)) c.w.addInteger(0);
    return;
  }
  const argv = c.argv;
  const ids: StreamId[] = [];
  for (let i = 3; i < argv.count; i++) {
    const id = parseStrictId(c, i);
    if (id === null) return;
    ids.push(id);
  }
  let acknowledged = 0;
  for (const id of ids) {
    const key = pelKey(id);
    const nack = found.group.pel.get(key);
    if (nack === undefined) continue;
    found.stream.removePending(found.group, key, nack);
    acknowledged++;
    c.server.dirty++;
  }
  c.w.addInteger(acknowledged);
}

/** XPENDING key group [[IDLE min-idle-time] start end count [consumer]] */
function xpendingCommand(c: Client): void {
  const argv = c.argv;
  const summary = argv.count === 3;
  if (!summary && (argv.count < 6 || argv.count > 9)) return c.w.addErrorBytes(ERR.syntax);
  let minIdle = 0;
  let count = 0;
  let start: StreamId | null = null;
  let end: StreamId | null = null;
  let consumerAt = 0;
  if (!summary) {
    let startAt = 3;
    if (argv.is(3, "idle")) {
      const n = parseLongLongArg(c, 4);
      if (n === null) return;
      minIdle = n;
      if (argv.count < 8) return c.w.addErrorBytes(ERR.syntax);
      startAt += 2;
    }
    const n = parseLongLongArg(c, startAt + 2);
    if (n === null) return;
    count = n < 0 ? 0 : n;
    start = parseIntervalId(c, startAt, 0n);
    if (start === null) return;
    if (exclusive && !incrId(start)) return c.w.addError("ERR invalid start ID for the interval");
    end = parseIntervalId(c, startAt + 1, U64_MAX);
    if (end === null) return;
    if (exclusive && !decrId(end)) return c.w.addError("ERR invalid end ID for the interval");
    if (startAt + 3 < argv.count) consumerAt = startAt + 3;
  }
  const before = c.w.len;
  const found = groupAt(c);
  if (found === null) {
    if (!replied(c, before)) noGroupForKey(c, 1, 2);
    return;
  }
  if (summary) return replyPendingSummary(c.w, found.group);
  let pel = found.group.pel;
  if (consumerAt > 0) {
    const consumer = found.group.consumers.get(argv.str(consumerAt));
    if (consumer === undefined) return c.w.addArrayLen(0);
    pel = consumer.pel;
  }
  replyPendingRange(c.w, pel, start!, end!, count, minIdle);
}

function replyPendingSummary(w: ReplyWriter, group: ConsumerGroup): void {
  w.addArrayLen(4);
  w.addInteger(group.pel.size);
  if (group.pel.size === 0) {
    w.addNull();
    w.addNull();
    w.addNullArray();
    return;
  }
  const keys = sortedKeys(group.pel);
  addId(w, pelKeyId(keys[0]!));
  addId(w, pelKeyId(keys[keys.length - 1]!));
  const at = w.deferLen();
  let withPending = 0;
  for (const name of sortedKeys(group.consumers)) {
    const consumer = group.consumers.get(name)!;
    if (consumer.pel.size === 0) continue;
    w.addArrayLen(2);
    w.addBulkLatin1(name);
    w.addBulkLatin1(String(consumer.pel.size));
    withPending++;
  }
  w.setDeferredLen(at, "array", withPending);
}

/** XPENDING's extended form: [id, consumer, idle ms, deliveries] per entry from start to end. */
function replyPendingRange(w: ReplyWriter, pel: Map<string, PendingEntry>, start: StreamId, end: StreamId, count: number, minIdle: number): void {
  const keys = sortedKeys(pel);
  const endKey = pelKey(end);
  const now = nowMs();
  const at = w.deferLen();
  let emitted = 0;
  for (let i = lowerBound(keys, pelKey(start)); count > 0 && i < keys.length && keys[i]! <= endKey; i++) {
    const nack = pel.get(keys[i]!)!;
    if (minIdle !== 0 && now - nack.deliveryTimeMs < minIdle) continue;
    emitted++;
    count--;
    w.addArrayLen(4);
    addId(w, pelKeyId(keys[i]!));
    w.addBulkLatin1(nack.consumer!.name);
    w.addInteger(Math.max(now - nack.deliveryTimeMs, 0));
    w.addInteger(nack.deliveryCount);
  }
  w.setDeferredLen(at, "array", emitted);
}

// ---------------------------------------------------------------------------------------
// XCLAIM XAUTOCLAIM
// ---------------------------------------------------------------------------------------

/** XCLAIM's options after its IDs. */
const claimArgs = {
  deliveryTimeMs: -1,
  retryCount: -1,
  force: false,
  justId: false,
  /** Whether LASTID moved the group's last ID (propagated unless an XCLAIM carries it). */
  lastIdMoved: false,
};

/** Reads argument i as a long long, replying `ERR <message>` when it is none. */
function parseLongLongOr(c: Client, i: number, message: string): number | null {
  const argv = c.argv;
  if (!parseLongLong(argv.buf, argv.start[i]!, argv.len[i]!)) {
    c.w.addError(`ERR ${message}`);
    return null;
  }
  return parsedInt64.safe ? parsedInt64.value : Number(parsedInt64.big);
}

/** XCLAIM's options from argument `from` on; false after replying. LASTID takes effect at once, as in Redis. */
function parseClaimOptions(c: Client, from: number, group: ConsumerGroup, now: number): boolean {
  const argv = c.argv;
  const args = claimArgs;
  args.deliveryTimeMs = -1;
  args.retryCount = -1;
  args.force = false;
  args.justId = false;
  args.lastIdMoved = false;
  for (let j = from; j < argv.count; j++) {
    const moreArgs = argv.count - 1 - j;
    if (argv.is(j, "force")) args.force = true;
    else if (argv.is(j, "justid")) args.justId = true;
    else if (argv.is(j, "idle") && moreArgs > 0) {
      const idle = parseLongLongOr(c, ++j, "Invalid IDLE option argument for XCLAIM");
      if (idle === null) return false;
      args.deliveryTimeMs = now - idle;
    } else if (argv.is(j, "time") && moreArgs > 0) {
      const time = parseLongLongOr(c, ++j, "Invalid TIME option argument for XCLAIM");
      if (time === null) return false;
      args.deliveryTimeMs = time;
    } else if (argv.is(j, "retrycount") && moreArgs > 0) {
      const retries = parseLongLongOr(c, ++j, "Invalid RETRYCOUNT option argument for XCLAIM");
      if (retries === null) return false;
      args.retryCount = retries;
    } else if (argv.is(j, "lastid") && moreArgs > 0) {
      const id = parseStrictId(c, ++j);
      if (id === null) return false;
      if (compareIds(id, group.lastId) > 0) {
        group.lastId = id;
        args.lastIdMoved = true;
      }
    } else {
      c.w.addError(`ERR Unrecognized XCLAIM option '${argv.str(j)}'`);
      return false;
    }
  }
  if (args.deliveryTimeMs === -1 || args.deliveryTimeMs < 0 || args.deliveryTimeMs > now) args.deliveryTimeMs = now;
  return true;
}

/**
 * Gives pending entry `key` to `consumer`: delivered at `deliveryTimeMs`, its count set
 * or raised (unless JUSTID).
 */
function claim(key: string, nack: PendingEntry, consumer: Consumer, deliveryTimeMs: number, retryCount: number, justId: boolean): void {
  if (nack.consumer !== consumer) nack.consumer?.pel.delete(key);
  nack.deliveryTimeMs = deliveryTimeMs;
  if (retryCount >= 0) nack.deliveryCount = retryCount;
  else if (!justId) nack.deliveryCount++;
  if (nack.consumer !== consumer) {
    consumer.pel.set(key, nack);
    nack.consumer = consumer;
  }
}

/**
 * Where XCLAIM parses its IDs, without replying: Redis stops at the first argument that
 * is no ID and reads the rest as options.
 */
const silentWriter = { addError(): void {} } as unknown as ReplyWriter;

/** XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid] */
function xclaimCommand(c: Client): void {
  const before = c.w.len;
  const found = groupAt(c);
  if (found === null) {
    if (!replied(c, before)) noGroupForKey(c, 1, 2);
    return;
  }
  const { stream, group } = found;
  const minIdleArg = parseLongLongOr(c, 4, "Invalid min-idle-time argument for XCLAIM");
  if (minIdleArg === null) return;
  const minIdle = minIdleArg < 0 ? 0 : minIdleArg;
  const argv = c.argv;
  const ids: StreamId[] = [];
  let j = 5;
  for (; j < argv.count; j++) {
    const id = parseIdBytes(silentWriter, argv.buf, argv.start[j]!, argv.len[j]!, 0n, true, false);
    if (id === null) break;
    ids.push(id);
  }
  const now = nowMs();
  if (!parseClaimOptions(c, j, group, now)) return;
  const { deliveryTimeMs, retryCount, force, justId } = claimArgs;
  let propagateLastId = claimArgs.lastIdMoved;
  const keyArg = argv.copy(1);
  const groupArg = argv.copy(2);
  const w = c.w;
  const at = w.deferLen();
  let claimed = 0;
  let consumer: Consumer | null = null;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    const key = pelKey(id);
    let nack = group.pel.get(key);
    if (!entryExists(stream, id)) {
      if (nack !== undefined) {
        propagateClaim(c, keyArg, groupArg, group, argv.copy(5 + i), nack);
        propagateLastId = false;
        c.server.dirty++;
        stream.removePending(group, key, nack);
      }
      continue;
    }
    if (force && nack === undefined) nack = stream.addPending(group, key, null, now);
    if (nack === undefined) continue;
    if (nack.consumer !== null && minIdle !== 0 && now - nack.deliveryTimeMs < minIdle) continue;
    if (consumer === null) consumer = lookupOrCreateConsumer(c, stream, group, argv.str(3), argv.str(1));
    claim(key, nack, consumer, deliveryTimeMs, retryCount, justId);
    if (justId) addId(w, id);
    else addEntryById(w, stream, id);
    claimed++;
    propagateClaim(c, keyArg, groupArg, group, argv.copy(5 + i), nack);
    propagateLastId = false;
    c.server.dirty++;
  }
  if (propagateLastId) {
    propagateGroupId(c, keyArg, groupArg, group);
    c.server.dirty++;
  }
  w.setDeferredLen(at, "array", claimed);
  if (c.server.propagation.active) c.server.propagation.preventCommand();
}

/** XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID] */
function xautoclaimCommand(c: Client): void {
  const argv = c.argv;
  const minIdleArg = parseLongLongOr(c, 4, "Invalid min-idle-time argument for XAUTOCLAIM");
  if (minIdleArg === null) return;
  const minIdle = minIdleArg < 0 ? 0 : minIdleArg;
  const start = parseIntervalId(c, 5, 0n);
  if (start === null) return;
  if (exclusive && !incrId(start)) return c.w.addError("ERR invalid start ID for the interval");
  let count = 100;
  let justId = false;
  for (let j = 6; j < argv.count; j++) {
    const moreArgs = argv.count - 1 - j;
    if (argv.is(j, "count") && moreArgs > 0) {
      const valid = parseLongLong(argv.buf, argv.start[j + 1]!, argv.len[j + 1]!);
      const n = parsedInt64.safe ? parsedInt64.value : Infinity;
      if (!valid || n < 1 || n > AUTOCLAIM_MAX_COUNT) return c.w.addError("ERR COUNT must be > 0");
      count = n;
      j++;
    } else if (argv.is(j, "justid")) justId = true;
    else return c.w.addErrorBytes(ERR.syntax);
  }
  const before = c.w.len;
  const found = groupAt(c);
  if (found === null) {
    if (!replied(c, before)) noGroupForKey(c, 1, 2);
    return;
  }
  autoclaim(c, found.stream, found.group, start, count, minIdle, justId);
  if (c.server.propagation.active) c.server.propagation.preventCommand();
}

/**
 * XAUTOCLAIM's work and reply: [next cursor, claimed, deleted IDs]. The cursor comes
 * first but is known last, so the claimed IDs are kept and their entries written after.
 */
function autoclaim(c: Client, stream: Stream, group: ConsumerGroup, start: StreamId, count: number, minIdle: number, justId: boolean): void {
  const argv = c.argv;
  const keyArg = argv.copy(1);
  const groupArg = argv.copy(2);
  const keys = sortedKeys(group.pel);
  let attempts = count * AUTOCLAIM_ATTEMPTS_FACTOR;
  const claimed: StreamId[] = [];
  const deleted: StreamId[] = [];
  const now = nowMs();
  let consumer: Consumer | null = null;
  let i = lowerBound(keys, pelKey(start));
  for (; attempts > 0 && count > 0 && i < keys.length; i++) {
    attempts--;
    const key = keys[i]!;
    const nack = group.pel.get(key)!;
    const id = pelKeyId(key);
    if (!entryExists(stream, id)) {
      propagateClaim(c, keyArg, groupArg, group, id.toString(), nack);
      c.server.dirty++;
      stream.removePending(group, key, nack);
      deleted.push(id);
      count--;
      continue;
    }
    if (minIdle !== 0 && now - nack.deliveryTimeMs < minIdle) continue;
    if (consumer === null) consumer = lookupOrCreateConsumer(c, stream, group, argv.str(3), argv.str(1));
    claim(key, nack, consumer, now, -1, justId);
    claimed.push(id);
    count--;
    propagateClaim(c, keyArg, groupArg, group, id.toString(), nack);
    c.server.dirty++;
  }
  const w = c.w;
  w.addArrayLen(3);
  addId(w, i < keys.length ? pelKeyId(keys[i]!) : new StreamId(0n, 0n));
  w.addArrayLen(claimed.length);
  for (const id of claimed) {
    if (justId) addId(w, id);
    else addEntryById(w, stream, id);
  }
  w.addArrayLen(deleted.length);
  for (const id of deleted) addId(w, id);
}

// ---------------------------------------------------------------------------------------
// Command table (as Redis 7.0's COMMAND INFO and COMMAND DOCS give them)
// ---------------------------------------------------------------------------------------

const KEY = { name: "key", type: "key", key_spec_index: 0 };
const GROUPNAME = { name: "groupname", type: "string" };
const GROUP_ID = { name: "id", type: "oneof", arguments: [{ name: "id", type: "string" }, { name: "new_id", type: "pure-token", token: "$" }] };

export const streamGroupCommands: CommandDef[] = [
  {
    name: "xgroup", arity: -2, flags: "", group: "stream", since: "5.0.0",
    summary: "A container for consumer groups commands",
    complexity: "Depends on subcommand.",
    subcommands: [
      {
        name: "xgroup|createconsumer", handler: xgroupCreateConsumerCommand, arity: 5, flags: "write denyoom", acl: "stream", group: "stream", since: "6.2.0",
        summary: "Create a consumer in a consumer group.",
        complexity: "O(1)",
        keySpecs: [keyRange("RW insert", 2)],
        arguments: [KEY, GROUPNAME, { name: "consumername", type: "string" }],
      },
      {
        name: "xgroup|destroy", handler: xgroupDestroyCommand, arity: 4, flags: "write", acl: "stream", group: "stream", since: "5.0.0",
        summary: "Destroy a consumer group.",
        complexity: "O(N) where N is the number of entries in the group's pending entries list (PEL).",
        keySpecs: [keyRange("RW delete", 2)],
        arguments: [KEY, GROUPNAME],
      },
      {
        name: "xgroup|create", handler: xgroupCreateCommand, arity: -5, flags: "write denyoom", acl: "stream", group: "stream", since: "5.0.0",
        summary: "Create a consumer group.",
        complexity: "O(1)",
        history: [["7.0.0", "Added the `entries_read` named argument."]],
        keySpecs: [keyRange("RW insert", 2)],
        arguments: [
          KEY, GROUPNAME, GROUP_ID,
          { name: "mkstream", type: "pure-token", token: "MKSTREAM", flags: ["optional"] },
          { name: "entries_read", type: "integer", token: "ENTRIESREAD", flags: ["optional"] },
        ],
      },
      {
        name: "xgroup|delconsumer", handler: xgroupDelConsumerCommand, arity: 5, flags: "write", acl: "stream", group: "stream", since: "5.0.0",
        summary: "Delete a consumer from a consumer group.",
        complexity: "O(1)",
        keySpecs: [keyRange("RW delete", 2)],
        arguments: [KEY, GROUPNAME, { name: "consumername", type: "string" }],
      },
      {
        name: "xgroup|help", handler: xgroupHelpCommand, arity: 2, flags: "loading stale", acl: "stream", group: "stream", since: "5.0.0",
        summary: "Show helpful text about the different subcommands",
        complexity: "O(1)",
      },
      {
        name: "xgroup|setid", handler: xgroupSetidCommand, arity: -5, flags: "write", acl: "stream", group: "stream", since: "5.0.0",
        summary: "Set a consumer group to an arbitrary last delivered ID value.",
        complexity: "O(1)",
        history: [["7.0.0", "Added the optional `entries_read` argument."]],
        keySpecs: [keyRange("RW update", 2)],
        arguments: [KEY, GROUPNAME, GROUP_ID, { name: "entries_read", type: "integer", token: "ENTRIESREAD", flags: ["optional"] }],
      },
    ],
  },
  {
    name: "xreadgroup", handler: xreadgroupCommand, arity: -7, flags: "write blocking movablekeys", acl: "stream", group: "stream", since: "5.0.0",
    summary: "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.",
    complexity: "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.",
    keySpecs: [{ flags: "RO access", begin: { keyword: "STREAMS", startfrom: 4 }, find: { lastkey: -1, keystep: 1, limit: 2 } }],
    arguments: [
      { name: "group_consumer", type: "block", token: "GROUP", arguments: [{ name: "group", type: "string" }, { name: "consumer", type: "string" }] },
      { name: "count", type: "integer", token: "COUNT", flags: ["optional"] },
      { name: "milliseconds", type: "integer", token: "BLOCK", flags: ["optional"] },
      { name: "noack", type: "pure-token", token: "NOACK", flags: ["optional"] },
      { name: "streams", type: "block", token: "STREAMS", arguments: [{ name: "key", type: "key", flags: ["multiple"], key_spec_index: 0 }, { name: "id", type: "string", flags: ["multiple"] }] },
    ],
  },
  {
    name: "xack", handler: xackCommand, arity: -4, flags: "write fast", acl: "stream", group: "stream", since: "5.0.0",
    summary: "Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.",
    complexity: "O(1) for each message ID processed.",
    keySpecs: [keyRange("RW update", 1)],
    arguments: [KEY, { name: "group", type: "string" }, { name: "id", type: "string", flags: ["multiple"] }],
  },
  {
    name: "xpending", handler: xpendingCommand, arity: -3, flags: "readonly", acl: "stream", group: "stream", since: "5.0.0",
    summary: "Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged.",
    complexity: "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.",
    history: [["6.2.0", "Added the `IDLE` option and exclusive range intervals."]],
    tips: ["nondeterministic_output"],
    keySpecs: [keyRange("RO access", 1)],
    arguments: [
      KEY,
      { name: "group", type: "string" },
      {
        name: "filters", type: "block", flags: ["optional"],
        arguments: [
          { name: "min-idle-time", type: "integer", token: "IDLE", flags: ["optional"], since: "6.2.0" },
          { name: "start", type: "string" },
          { name: "end", type: "string" },
          { name: "count", type: "integer" },
          { name: "consumer", type: "string", flags: ["optional"] },
        ],
      },
    ],
  },
  {
    name: "xclaim", handler: xclaimCommand, arity: -6, flags: "write fast", acl: "stream", group: "stream", since: "5.0.0",
    summary: "Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer.",
    complexity: "O(log N) with N being the number of messages in the PEL of the consumer group.",
    tips: ["nondeterministic_output"],
    keySpecs: [keyRange("RW update", 1)],
    arguments: [
      KEY,
      { name: "group", type: "string" },
      { name: "consumer", type: "string" },
      { name: "min-idle-time", type: "string" },
      { name: "id", type: "string", flags: ["multiple"] },
      { name: "ms", type: "integer", token: "IDLE", flags: ["optional"] },
      { name: "unix-time-milliseconds", type: "unix-time", token: "TIME", flags: ["optional"] },
      { name: "count", type: "integer", token: "RETRYCOUNT", flags: ["optional"] },
      { name: "force", type: "pure-token", token: "FORCE", flags: ["optional"] },
      { name: "justid", type: "pure-token", token: "JUSTID", flags: ["optional"] },
      { name: "id", type: "string", token: "LASTID", flags: ["optional"] },
    ],
  },
  {
    name: "xautoclaim", handler: xautoclaimCommand, arity: -6, flags: "write fast", acl: "stream", group: "stream", since: "6.2.0",
    summary: "Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer.",
    complexity: "O(1) if COUNT is small.",
    history: [["7.0.0", "Added an element to the reply array, containing deleted entries the command cleared from the PEL"]],
    tips: ["nondeterministic_output"],
    keySpecs: [keyRange("RW delete", 1)],
    arguments: [
      KEY,
      { name: "group", type: "string" },
      { name: "consumer", type: "string" },
      { name: "min-idle-time", type: "string" },
      { name: "start", type: "string" },
      { name: "count", type: "integer", token: "COUNT", flags: ["optional"] },
      { name: "justid", type: "pure-token", token: "JUSTID", flags: ["optional"] },
    ],
  },
];
