/**
 * The stream type (Redis's t_stream.c and stream.h): entries with increasing IDs, held as
 * Redis holds them, a sorted index of listpack nodes keyed by the ID of each node's first
 * entry (Redis's radix tree keyed by the 128-bit big-endian master ID), plus the stream's
 * metadata and its consumer groups.
 *
 * Each node is a listpack in Redis's stream node layout, so the RDB writer can save nodes
 * as they are and nodes Redis saved load as they are:
 *
 *   master entry:  <count> <deleted> <num-fields> <field-1> ... <field-N> <0>
 *   each entry:    <flags> <ms-delta> <seq-delta> [<num-fields> <field> <value> ...] <lp-count>
 *                  or, with SAMEFIELDS, <flags> <ms-delta> <seq-delta> <value-1> ... <lp-count>
 *
 * `count` is the node's live entries, `deleted` those flagged DELETED but still in place;
 * the deltas are the entry's ID less the node's master ID (the seq delta as a wrapping
 * int64); `lp-count` is how many listpack elements the entry has before it, so that a
 * reader walking backwards can jump to its flags. A node whose live count drops to zero
 * is removed; a deleted entry otherwise stays until its node goes.
 *
 * IDs are two unsigned 64-bit numbers, held as bigints; they only appear per entry read,
 * never per byte.
 */

import {
  LP_HDR_SIZE,
  lpAppend,
  lpAppendInteger,
  lpBytes,
  lpCompare,
  lpEntry,
  lpGet,
  lpLast,
  lpNew,
  lpNext,
  lpPrev,
  lpReplaceInteger,
} from "../encoding/listpack.ts";
import type { Argv } from "../resp/parser.ts";
import type { MemoryLedger } from "../cache/memory.ts";

export const U64_MAX = 0xffffffffffffffffn;

/** Entry flags (STREAM_ITEM_FLAG_*). */
export const FLAG_NONE = 0;
export const FLAG_DELETED = 1;
export const FLAG_SAMEFIELDS = 2;

/** Redis's STREAM_LISTPACK_MAX_SIZE: no node grows past 1 GB whatever stream-node-max-bytes says. */
export const STREAM_LISTPACK_MAX_SIZE = 1 << 30;

/** A stream entry ID: milliseconds and sequence, each an unsigned 64-bit number. */
export class StreamId {
  constructor(
    public ms: bigint,
    public seq: bigint,
  ) {}

  set(ms: bigint, seq: bigint): this {
    this.ms = ms;
    this.seq = seq;
    return this;
  }

  copyFrom(other: StreamId): this {
    this.ms = other.ms;
    this.seq = other.seq;
    return this;
  }

  clone(): StreamId {
    return new StreamId(this.ms, this.seq);
  }

  isZero(): boolean {
    return this.ms === 0n && this.seq === 0n;
  }

  /** "ms-seq", as replies and propagated commands write IDs. */
  toString(): string {
    return `${formatU64(this.ms)}-${formatU64(this.seq)}`;
  }
}

/** Decimal digits of an unsigned 64-bit number, through a double when that is exact (faster). */
function formatU64(v: bigint): string {
  return v <= 9007199254740991n ? String(Number(v)) : v.toString();
}

/** streamCompareID: -1, 0 or 1. */
export function compareIds(a: StreamId, b: StreamId): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  if (a.seq !== b.seq) return a.seq < b.seq ? -1 : 1;
  return 0;
}

/**
 * streamIncrID: the ID right after `id`, in place; false (id unchanged) when `id` is the
 * last possible one.
 */
export function incrId(id: StreamId): boolean {
  if (id.seq === U64_MAX) {
    if (id.ms === U64_MAX) return false;
    id.ms++;
    id.seq = 0n;
  } else id.seq++;
  return true;
}

/** streamDecrID: the ID right before `id`, in place; false when `id` is 0-0. */
export function decrId(id: StreamId): boolean {
  if (id.seq === 0n) {
    if (id.ms === 0n) return false;
    id.ms--;
    id.seq = U64_MAX;
  } else id.seq--;
  return true;
}

/** The 16 bytes Redis keys radix trees with: ms then seq, big-endian (streamEncodeID). */
export function encodeId(id: StreamId, out: Uint8Array, at: number): void {
  const view = new DataView(out.buffer, out.byteOffset);
  view.setBigUint64(at, id.ms, false);
  view.setBigUint64(at + 8, id.seq, false);
}

export function decodeId(buf: Uint8Array, at: number): StreamId {
  const view = new DataView(buf.buffer, buf.byteOffset);
  return new StreamId(view.getBigUint64(at, false), view.getBigUint64(at + 8, false));
}

/** A listpack integer as the int64 Redis stored, then wrapped to uint64 for ID arithmetic. */
function entryBig(): bigint {
  return lpEntry.isBig ? lpEntry.big : BigInt(lpEntry.int);
}

function readInt(lp: Uint8Array, p: number): number {
  lpGet(lp, p);
  return lpEntry.int;
}

function readBig(lp: Uint8Array, p: number): bigint {
  lpGet(lp, p);
  return entryBig();
}

/** One listpack node: its master ID (the first entry ever added to it) and its bytes. */
export class StreamNode {
  constructor(
    readonly master: StreamId,
    public lp: Uint8Array,
  ) {}

  /** Bytes in use (the buffer may have room after them). */
  get sizeBytes(): number {
    return lpBytes(this.lp, 0);
  }

  /** Live entries (the master entry's count). */
  get count(): number {
    return readInt(this.lp, LP_HDR_SIZE);
  }

  /** Entries flagged deleted but still in the node. */
  get deletedCount(): number {
    return readInt(this.lp, lpNext(this.lp, LP_HDR_SIZE));
  }

  /** Position of the first entry's flags, after the master entry. */
  firstEntryPos(): number {
    const lp = this.lp;
    let p = lpNext(lp, lpNext(lp, LP_HDR_SIZE));
    const fields = readInt(lp, p);
    for (let i = 0; i <= fields; i++) p = lpNext(lp, p);
    return lpNext(lp, p);
  }

  dup(): StreamNode {
    return new StreamNode(this.master.clone(), this.lp.slice(0, this.sizeBytes));
  }
}

/**
 * A pending entry of a consumer group (Redis's streamNACK): delivered to a consumer and
 * not acknowledged yet.
 */
export class PendingEntry {
  constructor(
    public deliveryTimeMs: number,
    public deliveryCount: number,
    public consumer: Consumer | null,
  ) {}
}

/** A consumer of a group (streamConsumer): its name, when it was last seen, its pending IDs. */
export class Consumer {
  /** The consumer's pending entries, keyed like the group's PEL. */
  readonly pel = new Map<string, PendingEntry>();
  constructor(
    readonly name: string,
    public seenTimeMs: number,
  ) {}
}

/** SCG_INVALID_ENTRIES_READ: a group whose entries-read counter is unknown. */
export const ENTRIES_READ_INVALID = -1n;

/**
 * A consumer group (streamCG): the last ID delivered, how many entries it has read (for
 * the lag), its pending entries list keyed by the 16-byte encoded ID (latin1, so that
 * sorting the keys sorts the IDs), and its consumers.
 */
export class ConsumerGroup {
  readonly pel = new Map<string, PendingEntry>();
  readonly consumers = new Map<string, Consumer>();
  constructor(
    public lastId: StreamId,
    public entriesRead: bigint,
  ) {}
}

/** The latin1 key of an ID in a PEL: its 16 encoded bytes, which sort as the IDs do. */
export function pelKey(id: StreamId): string {
  const bytes = new Uint8Array(16);
  encodeId(id, bytes, 0);
  return String.fromCharCode(...bytes);
}

export function pelKeyId(key: string): StreamId {
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 16; i++) bytes[i] = key.charCodeAt(i);
  return decodeId(bytes, 0);
}

/**
 * Map keys in ascending order: radix trees iterate in byte order, as the RDB and replies
 * list them. PELs and consumers are hash maps, so every ordered walk (XPENDING ranges,
 * XAUTOCLAIM, XREADGROUP history) pays O(n log n) for the sort; PELs are meant to stay
 * short, and the point lookups XACK and XCLAIM make stay O(1).
 */
export function sortedKeys<V>(map: Map<string, V>): string[] {
  return [...map.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Index of the first of the sorted `keys` that is >= `key` (raxSeek ">="). */
export function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Trimming strategies (TRIM_STRATEGY_*). */
export const TRIM_NONE = 0;
export const TRIM_MAXLEN = 1;
export const TRIM_MINID = 2;

export interface TrimSpec {
  strategy: number;
  maxlen: number;
  minid: StreamId;
  approx: boolean;
  /** The most entries one trim removes; 0 for no limit. */
  limit: number;
}

/**
 * Bytes of a stream besides its nodes, and of a node besides its listpack buffer (the
 * node, its master ID with two bigints, the Uint8Array object). With them the counted
 * size of many streams comes out at 0.7 to 0.9 times the growth of the process's RSS
 * (one entry, 250 and 5000 entries per stream, Bun 1.4).
 */
const STREAM_BYTES = 300;
const NODE_BYTES = 200;
/**
 * Bytes of a consumer group, a consumer (besides their names) and a pending entry (the
 * object and its place in the group's and the consumer's maps, with its 16-char key).
 */
const GROUP_BYTES = 250;
const CONSUMER_BYTES = 200;
const NACK_BYTES = 150;

function groupCost(name: string): number {
  return GROUP_BYTES + name.length;
}

function consumerCost(name: string): number {
  return CONSUMER_BYTES + name.length;
}

export class Stream {
  /** Nodes in ascending master ID order. */
  nodes: StreamNode[] = [];
  /** Live entries. */
  length = 0;
  /** The greatest ID ever added (or set by XSETID). */
  lastId = new StreamId(0n, 0n);
  /** The first live entry's ID, 0-0 when empty. */
  firstId = new StreamId(0n, 0n);
  /** The greatest ID ever deleted. */
  maxDeletedId = new StreamId(0n, 0n);
  /** Entries ever added. */
  entriesAdded = 0n;
  /** Consumer groups by name (latin1). */
  readonly groups = new Map<string, ConsumerGroup>();

  /** What the nodes and their buffers cost (see memoryBytes). */
  private nodeBytes = 0;
  /** The table holding the stream, told of every change of memoryBytes; null when none. */
  ledger: MemoryLedger | null = null;

  /** What the consumer groups, their consumers and pending entries cost. */
  private groupBytes = 0;

  /** Heap bytes held now. */
  get memoryBytes(): number {
    return STREAM_BYTES + this.nodeBytes + this.groupBytes;
  }

  private groupsResized(delta: number): void {
    this.groupBytes += delta;
    if (this.ledger !== null) this.ledger.objectBytes += delta;
  }

  /** Counts groups taken in whole (loading, copying). */
  countGroups(): void {
    let bytes = 0;
    for (const [name, group] of this.groups) {
      bytes += groupCost(name) + group.pel.size * NACK_BYTES;
      for (const consumerName of group.consumers.keys()) bytes += consumerCost(consumerName);
    }
    this.groupsResized(bytes - this.groupBytes);
  }

  /** streamCreateCG: null when the group exists. */
  createGroup(name: string, lastId: StreamId, entriesRead: bigint): ConsumerGroup | null {
    if (this.groups.has(name)) return null;
    const group = new ConsumerGroup(lastId.clone(), entriesRead);
    this.groups.set(name, group);
    this.groupsResized(groupCost(name));
    return group;
  }

  destroyGroup(name: string): boolean {
    const group = this.groups.get(name);
    if (group === undefined) return false;
    let bytes = groupCost(name) + group.pel.size * NACK_BYTES;
    for (const consumerName of group.consumers.keys()) bytes += consumerCost(consumerName);
    this.groups.delete(name);
    this.groupsResized(-bytes);
    return true;
  }

  /** streamCreateConsumer: a new consumer (the caller knows it does not exist yet). */
  createConsumer(group: ConsumerGroup, name: string, nowMs: number): Consumer {
    const consumer = new Consumer(name, nowMs);
    group.consumers.set(name, consumer);
    this.groupsResized(consumerCost(name));
    return consumer;
  }

  /** streamDelConsumer: the consumer goes, and its pending entries leave the group's PEL. */
  deleteConsumer(group: ConsumerGroup, consumer: Consumer): void {
    for (const key of consumer.pel.keys()) group.pel.delete(key);
    this.groupsResized(-(consumer.pel.size * NACK_BYTES + consumerCost(consumer.name)));
    group.consumers.delete(consumer.name);
  }

  /** A new pending entry `key` owned by `consumer`, delivered now once (streamCreateNACK). */
  addPending(group: ConsumerGroup, key: string, consumer: Consumer | null, nowMs: number): PendingEntry {
    const nack = new PendingEntry(nowMs, 1, consumer);
    group.pel.set(key, nack);
    if (consumer !== null) consumer.pel.set(key, nack);
    this.groupsResized(NACK_BYTES);
    return nack;
  }

  /** Removes pending entry `key` from its group's and its consumer's PEL. */
  removePending(group: ConsumerGroup, key: string, nack: PendingEntry): void {
    group.pel.delete(key);
    nack.consumer?.pel.delete(key);
    this.groupsResized(-NACK_BYTES);
  }

  private resized(delta: number): void {
    this.nodeBytes += delta;
    if (this.ledger !== null) this.ledger.objectBytes += delta;
  }

  /** Counts a node's buffer having gone from `before` bytes to its current length. */
  private nodeResized(node: StreamNode, before: number): void {
    if (node.lp.length !== before) this.resized(node.lp.length - before);
  }

  /** Adds the cost of nodes taken in whole (loading, copying). */
  countNodes(): void {
    let bytes = 0;
    for (const node of this.nodes) bytes += NODE_BYTES + node.lp.length;
    this.resized(bytes - this.nodeBytes);
  }

  private dropNodes(index: number, count: number): void {
    for (let i = index; i < index + count; i++) this.resized(-(NODE_BYTES + this.nodes[i]!.lp.length));
    this.nodes.splice(index, count);
  }

  /**
   * streamAppendItem with the ID already chosen: appends the entry whose fields and
   * values are argv[from .. from + 2 * pairs), to the last node or a new one once the last
   * holds `maxEntries` entries (live and deleted) or would reach `maxBytes`.
   */
  append(id: StreamId, argv: Argv, from: number, pairs: number, maxBytes: number, maxEntries: number): void {
    let elementBytes = 0;
    for (let i = from; i < from + 2 * pairs; i++) elementBytes += argv.len[i]!;
    let node = this.nodes.length > 0 ? this.nodes[this.nodes.length - 1]! : null;
    if (node !== null && this.nodeIsFull(node, elementBytes, maxBytes, maxEntries)) {
      this.shrinkToFit(node);
      node = null;
    }
    const fresh = node === null;
    if (node === null) {
      node = newNode(id, argv, from, pairs);
      this.nodes.push(node);
      this.resized(NODE_BYTES + node.lp.length);
    }
    const before = node.lp.length;
    if (!fresh) node.lp = lpReplaceInteger(node.lp, LP_HDR_SIZE, node.count + 1);
    node.lp = appendEntry(node, id, argv, from, pairs);
    this.nodeResized(node, before);
    this.length++;
    this.entriesAdded++;
    this.lastId.copyFrom(id);
    if (this.length === 1) this.firstId.copyFrom(id);
  }

  /** A node that takes no more entries gives back its spare room (lpShrinkToFit). */
  private shrinkToFit(node: StreamNode): void {
    const before = node.lp.length;
    if (before > node.sizeBytes) {
      node.lp = node.lp.slice(0, node.sizeBytes);
      this.nodeResized(node, before);
    }
  }

  private nodeIsFull(node: StreamNode, elementBytes: number, maxBytes: number, maxEntries: number): boolean {
    if (maxBytes === 0 || maxBytes > STREAM_LISTPACK_MAX_SIZE) maxBytes = STREAM_LISTPACK_MAX_SIZE;
    if (node.sizeBytes + elementBytes >= maxBytes) return true;
    return maxEntries > 0 && node.count + node.deletedCount >= maxEntries;
  }

  /** Index of the last node whose master ID is <= id, or -1 (raxSeek "<="). */
  nodeAtOrBefore(id: StreamId): number {
    let lo = 0;
    let hi = this.nodes.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (compareIds(this.nodes[mid]!.master, id) <= 0) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /**
   * streamIteratorRemoveEntry for the entry the iterator stands on: flags it deleted,
   * updates its node's counters, drops the node once it has no live entry.
   */
  removeAt(it: StreamIterator): void {
    const node = this.nodes[it.nodeIndex]!;
    const bufferBefore = node.lp.length;
    // Flags are 0..3, one byte whatever they hold, so this edit moves nothing.
    node.lp = lpReplaceInteger(node.lp, it.entryPos, it.flags | FLAG_DELETED);
    const live = node.count - 1;
    this.length--;
    if (live === 0) {
      this.nodeResized(node, bufferBefore);
      this.dropNodes(it.nodeIndex, 1);
      it.nodeRemoved();
      return;
    }
    const before = node.sizeBytes;
    adjustCounters(node, -1, 1);
    it.shift(node.sizeBytes - before);
    this.nodeResized(node, bufferBefore);
  }

  /** streamDeleteItem: deletes the entry `id`; false when there is none. */
  deleteId(id: StreamId): boolean {
    const it = sharedIterator;
    it.start(this, id, id, false);
    if (!it.next()) return false;
    this.removeAt(it);
    return true;
  }

  /**
   * The first (or last) live entry's ID, into `out` (streamGetEdgeID); 0-0 (first) or
   * the maximum (last) when the stream is empty, returning false.
   */
  edgeId(first: boolean, out: StreamId): boolean {
    const it = sharedIterator;
    it.start(this, null, null, !first);
    if (it.next()) {
      out.copyFrom(it.id);
      return true;
    }
    if (first) out.set(0n, 0n);
    else out.set(U64_MAX, U64_MAX);
    return false;
  }

  /** Recomputes firstId after deletions (0-0 when empty). */
  refreshFirstId(): void {
    if (this.length === 0) this.firstId.set(0n, 0n);
    else this.edgeId(true, this.firstId);
  }

  /** streamTrim: removes entries from the head as `spec` says; returns how many went. */
  trim(spec: TrimSpec): number {
    if (spec.strategy === TRIM_MAXLEN && this.length <= spec.maxlen) return 0;
    let deleted = 0;
    while (this.nodes.length > 0) {
      if (spec.strategy === TRIM_MAXLEN && this.length <= spec.maxlen) break;
      const node = this.nodes[0]!;
      const entries = node.count;
      if (spec.limit > 0 && deleted + entries > spec.limit) break;
      if (this.wholeNodeGoes(node, entries, spec)) {
        this.dropNodes(0, 1);
        this.length -= entries;
        deleted += entries;
        continue;
      }
      // A node that cannot go whole stops an approximate trim; an exact one marks entries.
      if (!spec.approx) {
        const before = node.lp.length;
        deleted += this.trimInsideNode(node, spec);
        this.nodeResized(node, before);
      }
      break;
    }
    this.refreshFirstId();
    return deleted;
  }

  private wholeNodeGoes(node: StreamNode, entries: number, spec: TrimSpec): boolean {
    if (spec.strategy === TRIM_MAXLEN) return this.length - entries >= spec.maxlen;
    return compareIds(nodeLastId(node), spec.minid) < 0;
  }

  /** Flags the node's leading entries deleted while the trim asks for more. */
  private trimInsideNode(node: StreamNode, spec: TrimSpec): number {
    const it = sharedIterator;
    it.start(this, null, null, false);
    let removed = 0;
    let lp = node.lp;
    while (it.nextInFirstNodeAny()) {
      const stop = spec.strategy === TRIM_MAXLEN ? this.length <= spec.maxlen : compareIds(it.id, spec.minid) >= 0;
      if (stop) break;
      if ((it.flags & FLAG_DELETED) === 0) {
        lp = lpReplaceInteger(lp, it.entryPos, it.flags | FLAG_DELETED);
        node.lp = lp;
        removed++;
        this.length--;
      }
    }
    adjustCounters(node, -removed, removed);
    return removed;
  }

  dup(): Stream {
    const copy = new Stream();
    copy.nodes = this.nodes.map((node) => node.dup());
    copy.countNodes();
    copy.length = this.length;
    copy.lastId.copyFrom(this.lastId);
    copy.firstId.copyFrom(this.firstId);
    copy.maxDeletedId.copyFrom(this.maxDeletedId);
    copy.entriesAdded = this.entriesAdded;
    for (const [name, group] of this.groups) copy.groups.set(name, dupGroup(group));
    copy.countGroups();
    return copy;
  }
}

function dupGroup(group: ConsumerGroup): ConsumerGroup {
  const copy = new ConsumerGroup(group.lastId.clone(), group.entriesRead);
  const nacks = new Map<PendingEntry, PendingEntry>();
  for (const [key, nack] of group.pel) {
    const dupNack = new PendingEntry(nack.deliveryTimeMs, nack.deliveryCount, null);
    nacks.set(nack, dupNack);
    copy.pel.set(key, dupNack);
  }
  for (const [name, consumer] of group.consumers) {
    const dupConsumer = new Consumer(name, consumer.seenTimeMs);
    for (const [key, nack] of consumer.pel) {
      const dupNack = nacks.get(nack)!;
      dupNack.consumer = dupConsumer;
      dupConsumer.pel.set(key, dupNack);
    }
    copy.consumers.set(name, dupConsumer);
  }
  return copy;
}

/** Adds to a node's live and deleted counters (the master entry's first two elements). */
function adjustCounters(node: StreamNode, liveDelta: number, deletedDelta: number): void {
  let lp = lpReplaceInteger(node.lp, LP_HDR_SIZE, node.count + liveDelta);
  const deletedPos = lpNext(lp, LP_HDR_SIZE);
  lp = lpReplaceInteger(lp, deletedPos, readInt(lp, deletedPos) + deletedDelta);
  node.lp = lp;
}

/**
 * A new node for the entry with this ID: the master entry names its fields. Redis gives a
 * new node up to 4096 bytes of room at once to avoid a realloc per XADD; the listpack
 * editors here grow a buffer by half again each time, which does the same, so a node
 * starts at the size it needs and a stream of one entry costs what that entry does.
 */
function newNode(id: StreamId, argv: Argv, from: number, pairs: number): StreamNode {
  let lp = lpNew();
  lp = lpAppendInteger(lp, 1);
  lp = lpAppendInteger(lp, 0);
  lp = lpAppendInteger(lp, pairs);
  for (let i = 0; i < pairs; i++) {
    const at = from + 2 * i;
    lp = lpAppend(lp, argv.buf, argv.start[at]!, argv.len[at]!);
  }
  lp = lpAppendInteger(lp, 0);
  return new StreamNode(id.clone(), lp);
}

/** Whether the entry's fields are the node's master fields, in order. */
function sameFieldsAsMaster(lp: Uint8Array, argv: Argv, from: number, pairs: number): boolean {
  let p = lpNext(lp, lpNext(lp, LP_HDR_SIZE));
  if (readInt(lp, p) !== pairs) return false;
  for (let i = 0; i < pairs; i++) {
    p = lpNext(lp, p);
    const at = from + 2 * i;
    if (!lpCompare(lp, p, argv.buf, argv.start[at]!, argv.len[at]!)) return false;
  }
  return true;
}

const SAFE_MAX = 9007199254740991n;

/**
 * An unsigned 64-bit difference as the int64 the listpack stores: a plain number when it
 * is a safe integer (nearly always, and the listpack's cheaper path), else the wrapped bigint.
 */
function asInt64(v: bigint): number | bigint {
  if (v <= SAFE_MAX && v >= -SAFE_MAX) return Number(v);
  return BigInt.asIntN(64, v);
}

function appendEntry(node: StreamNode, id: StreamId, argv: Argv, from: number, pairs: number): Uint8Array {
  let lp = node.lp;
  const same = sameFieldsAsMaster(lp, argv, from, pairs);
  lp = lpAppendInteger(lp, same ? FLAG_SAMEFIELDS : FLAG_NONE);
  lp = lpAppendInteger(lp, asInt64(id.ms - node.master.ms));
  lp = lpAppendInteger(lp, asInt64(id.seq - node.master.seq));
  if (!same) lp = lpAppendInteger(lp, pairs);
  for (let i = 0; i < pairs; i++) {
    const at = from + 2 * i;
    if (!same) lp = lpAppend(lp, argv.buf, argv.start[at]!, argv.len[at]!);
    lp = lpAppend(lp, argv.buf, argv.start[at + 1]!, argv.len[at + 1]!);
  }
  lp = lpAppendInteger(lp, same ? pairs + 3 : 2 * pairs + 4);
  return lp;
}

/** The ID of the node's last entry, deleted or not (lpGetEdgeStreamID). */
function nodeLastId(node: StreamNode): StreamId {
  const lp = node.lp;
  let p = lpLast(lp, 0);
  const back = readInt(lp, p);
  for (let i = 0; i < back; i++) p = lpPrev(lp, 0, p);
  return entryId(node, lp, p);
}

/** The ID of the entry whose flags are at p. */
function entryId(node: StreamNode, lp: Uint8Array, p: number): StreamId {
  p = lpNext(lp, p);
  const ms = BigInt.asUintN(64, node.master.ms + readBig(lp, p));
  p = lpNext(lp, p);
  const seq = BigInt.asUintN(64, node.master.seq + readBig(lp, p));
  return new StreamId(ms, seq);
}

/**
 * Redis's streamIterator: walks the live entries between two IDs (inclusive), forwards or
 * backwards. After next() returns true, `id`, `flags` and `fieldCount` describe the entry,
 * and the pair cursor (firstPair, nextPair) walks its fields and values in `lp`, at
 * `fieldP` and `valueP`.
 * Removing the current entry (Stream.removeAt) keeps the iterator usable.
 */
export class StreamIterator {
  private stream: Stream | null = null;
  private readonly startId = new StreamId(0n, 0n);
  private readonly endId = new StreamId(0n, 0n);
  reverse = false;
  nodeIndex = -1;
  private node: StreamNode | null = null;
  /** Position of the next entry's flags to read (forward) or of the last read entry (reverse); -1 when the node is exhausted. */
  private pos = -1;
  /** The node's first entry position (after the master entry). */
  private firstPos = 0;
  private masterFieldsPos = 0;
  private masterFieldCount = 0;
  /** The current entry. */
  readonly id = new StreamId(0n, 0n);
  entryPos = 0;
  flags = 0;
  fieldCount = 0;
  /** Position of the first field (or value, with SAMEFIELDS) of the entry. */
  private dataPos = 0;

  /** Starts a walk from `start` to `end` (null for the stream's edges). */
  start(stream: Stream, start: StreamId | null, end: StreamId | null, reverse: boolean): void {
    this.stream = stream;
    if (start !== null) this.startId.copyFrom(start);
    else this.startId.set(0n, 0n);
    if (end !== null) this.endId.copyFrom(end);
    else this.endId.set(U64_MAX, U64_MAX);
    this.reverse = reverse;
    let index: number;
    if (reverse) index = stream.nodeAtOrBefore(this.endId);
    else index = Math.max(stream.nodeAtOrBefore(this.startId), 0);
    this.enterNode(index);
  }

  private enterNode(index: number): void {
    const stream = this.stream!;
    this.nodeIndex = index;
    if (index < 0 || index >= stream.nodes.length) {
      this.node = null;
      return;
    }
    const node = stream.nodes[index]!;
    this.node = node;
    const lp = node.lp;
    this.masterFieldsPos = lpNext(lp, lpNext(lp, LP_HDR_SIZE));
    this.masterFieldCount = readInt(lp, this.masterFieldsPos);
    this.masterFieldsPos = lpNext(lp, this.masterFieldsPos);
    this.firstPos = node.firstEntryPos();
    this.pos = this.reverse ? this.lastEntryPos() : this.firstPos;
    if (lp[this.pos] === 0xff) this.pos = -1;
  }

  private lastEntryPos(): number {
    const lp = this.node!.lp;
    let p = lpLast(lp, 0);
    const back = readInt(lp, p);
    for (let i = 0; i < back; i++) p = lpPrev(lp, 0, p);
    return p;
  }

  /** Moves to the next live entry in range; false at the end. */
  next(): boolean {
    while (this.node !== null) {
      if (!this.readEntryInNode()) {
        this.enterNode(this.reverse ? this.nodeIndex - 1 : this.nodeIndex + 1);
        continue;
      }
      if ((this.flags & FLAG_DELETED) !== 0) continue;
      if (this.reverse) {
        if (compareIds(this.id, this.endId) > 0) continue;
        if (compareIds(this.id, this.startId) < 0) return this.finish();
      } else {
        if (compareIds(this.id, this.startId) < 0) continue;
        if (compareIds(this.id, this.endId) > 0) return this.finish();
      }
      return true;
    }
    return false;
  }

  /** For trimming: the next entry of the first node, deleted or not; false past its end. */
  nextInFirstNodeAny(): boolean {
    return this.node !== null && this.nodeIndex === 0 && this.readEntryInNode();
  }

  private finish(): boolean {
    this.node = null;
    return false;
  }

  /** Reads the entry at pos and steps pos; false when the node has no more. */
  private readEntryInNode(): boolean {
    if (this.pos < 0) return false;
    const node = this.node!;
    const lp = node.lp;
    let p = this.pos;
    this.entryPos = p;
    this.flags = readInt(lp, p);
    p = lpNext(lp, p);
    const ms = BigInt.asUintN(64, node.master.ms + readBig(lp, p));
    p = lpNext(lp, p);
    const seq = BigInt.asUintN(64, node.master.seq + readBig(lp, p));
    this.id.set(ms, seq);
    p = lpNext(lp, p);
    if ((this.flags & FLAG_SAMEFIELDS) !== 0) {
      this.fieldCount = this.masterFieldCount;
    } else {
      this.fieldCount = readInt(lp, p);
      p = lpNext(lp, p);
    }
    this.dataPos = p;
    this.stepFrom(lp);
    return true;
  }

  /** Sets pos to the entry after (or before) the one at entryPos. */
  private stepFrom(lp: Uint8Array): void {
    if (this.reverse) {
      if (this.entryPos === this.firstPos) {
        this.pos = -1;
        return;
      }
      let p = lpPrev(lp, 0, this.entryPos);
      const back = readInt(lp, p);
      for (let i = 0; i < back; i++) p = lpPrev(lp, 0, p);
      this.pos = p;
      return;
    }
    const elements = (this.flags & FLAG_SAMEFIELDS) !== 0 ? this.fieldCount : 2 * this.fieldCount;
    let p = this.dataPos;
    for (let i = 0; i < elements; i++) p = lpNext(lp, p);
    p = lpNext(lp, p);
    this.pos = lp[p] === 0xff ? -1 : p;
  }

  /** The node's bytes, for reading the current entry's fields and values. */
  get lp(): Uint8Array {
    return this.node!.lp;
  }

  /** Where the pair cursor stands: the current field and value positions. */
  fieldP = 0;
  valueP = 0;

  /** Pairs of the current entry the cursor has passed. */
  private pairIndex = 0;

  /** Points the pair cursor at the entry's first field and value; false when it has none. */
  firstPair(): boolean {
    const lp = this.node!.lp;
    this.pairIndex = 0;
    if ((this.flags & FLAG_SAMEFIELDS) !== 0) {
      this.fieldP = this.masterFieldsPos;
      this.valueP = this.dataPos;
    } else {
      this.fieldP = this.dataPos;
      this.valueP = lpNext(lp, this.dataPos);
    }
    return this.fieldCount > 0;
  }

  /** Moves the pair cursor to the next field and value; false past the last. */
  nextPair(): boolean {
    if (++this.pairIndex >= this.fieldCount) return false;
    const lp = this.node!.lp;
    if ((this.flags & FLAG_SAMEFIELDS) !== 0) {
      this.fieldP = lpNext(lp, this.fieldP);
      this.valueP = lpNext(lp, this.valueP);
    } else {
      this.fieldP = lpNext(lp, this.valueP);
      this.valueP = lpNext(lp, this.fieldP);
    }
    return true;
  }

  /**
   * The master entry's counters were rewritten and may have changed size: every position
   * after them moved by `delta` bytes.
   */
  shift(delta: number): void {
    if (delta === 0) return;
    if (this.pos >= 0) this.pos += delta;
    this.firstPos += delta;
    this.masterFieldsPos += delta;
    this.entryPos += delta;
    this.dataPos += delta;
  }

  /** The current node was removed: continue from the node that took its index. */
  nodeRemoved(): void {
    this.enterNode(this.reverse ? this.nodeIndex - 1 : this.nodeIndex);
  }
}

/** The iterator the stream's own operations use; none runs inside another. */
const sharedIterator = new StreamIterator();

