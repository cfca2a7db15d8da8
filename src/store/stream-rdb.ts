/**
 * Streams in RDB files and DUMP payloads (Redis 7.0's rdbSaveObject and rdbLoadObject for
 * RDB_TYPE_STREAM_LISTPACKS_2, and loading the older RDB_TYPE_STREAM_LISTPACKS):
 *
 *   <node count> then per node <16-byte master ID, big-endian> <listpack>
 *   <length> <last ms> <last seq>
 *   (version 2) <first ms> <first seq> <max-deleted ms> <max-deleted seq> <entries added>
 *   <group count> then per group:
 *     <name> <last ms> <last seq> (version 2) <entries read>
 *     <PEL size> then per entry <16-byte ID> <delivery time, int64 LE ms> <delivery count>
 *     <consumer count> then per consumer:
 *       <name> <seen time, int64 LE ms> <PEL size> then per entry <16-byte ID>
 *
 * Numbers are RDB lengths (up to 64 bits, so IDs are read and written as bigints); an
 * unknown entries-read (-1) is saved as the 64-bit length 2^64 - 1, as Redis's cast does.
 * Nodes are saved as their listpack bytes, so a stream round-trips byte for byte.
 */

import type { RdbReader } from "../persistence/rdb-load.ts";
import { type RdbSink, saveLatin1String, saveLength, saveRawString } from "../persistence/rdb-value.ts";
import { LP_HDR_SIZE, lpBytes, lpEntry, lpFirst, lpGet, lpNext, lpValidate } from "../encoding/listpack.ts";
import {
  Consumer,
  ConsumerGroup,
  ENTRIES_READ_INVALID,
  FLAG_DELETED,
  FLAG_SAMEFIELDS,
  PendingEntry,
  Stream,
  StreamId,
  StreamNode,
  compareIds,
  decodeId,
  encodeId,
  pelKey,
  pelKeyId,
  sortedKeys,
} from "./stream.ts";

const TWO_32 = 4294967296n;
/** RDB's 64-bit length prefix (RDB_64BITLEN). */
const LEN_64BIT = 0x81;

const idScratch = new Uint8Array(16);
const int64Scratch = new Uint8Array(8);
const int64View = new DataView(int64Scratch.buffer);

/** rdbSaveLen of an unsigned 64-bit number. */
function saveLength64(sink: RdbSink, v: bigint): void {
  if (v < TWO_32) return saveLength(sink, Number(v));
  sink.writeByte(LEN_64BIT);
  int64View.setBigUint64(0, v, false);
  sink.writeBytes(int64Scratch, 0, 8);
}

/** rdbSaveMillisecondTime: an int64 in 8 bytes, least significant first. */
function saveMillis(sink: RdbSink, ms: number): void {
  int64View.setBigInt64(0, BigInt(ms), true);
  sink.writeBytes(int64Scratch, 0, 8);
}

function saveRawId(sink: RdbSink, id: StreamId): void {
  encodeId(id, idScratch, 0);
  sink.writeBytes(idScratch, 0, 16);
}

/** Writes `stream` as RDB_TYPE_STREAM_LISTPACKS_2 (without the type byte). */
export function saveStream(sink: RdbSink, stream: Stream): void {
  saveLength(sink, stream.nodes.length);
  for (const node of stream.nodes) {
    encodeId(node.master, idScratch, 0);
    saveRawString(sink, idScratch, 0, 16);
    saveRawString(sink, node.lp, 0, lpBytes(node.lp, 0));
  }
  saveLength(sink, stream.length);
  saveLength64(sink, stream.lastId.ms);
  saveLength64(sink, stream.lastId.seq);
  saveLength64(sink, stream.firstId.ms);
  saveLength64(sink, stream.firstId.seq);
  saveLength64(sink, stream.maxDeletedId.ms);
  saveLength64(sink, stream.maxDeletedId.seq);
  saveLength64(sink, stream.entriesAdded);
  saveLength(sink, stream.groups.size);
  for (const name of sortedKeys(stream.groups)) saveGroup(sink, name, stream.groups.get(name)!);
}

function saveGroup(sink: RdbSink, name: string, group: ConsumerGroup): void {
  saveLatin1String(sink, name);
  saveLength64(sink, group.lastId.ms);
  saveLength64(sink, group.lastId.seq);
  saveLength64(sink, BigInt.asUintN(64, group.entriesRead));
  saveLength(sink, group.pel.size);
  for (const key of sortedKeys(group.pel)) {
    const nack = group.pel.get(key)!;
    saveRawId(sink, pelKeyId(key));
    saveMillis(sink, nack.deliveryTimeMs);
    saveLength(sink, nack.deliveryCount);
  }
  saveLength(sink, group.consumers.size);
  for (const consumerName of sortedKeys(group.consumers)) {
    const consumer = group.consumers.get(consumerName)!;
    saveLatin1String(sink, consumerName);
    saveMillis(sink, consumer.seenTimeMs);
    saveLength(sink, consumer.pel.size);
    for (const key of sortedKeys(consumer.pel)) saveRawId(sink, pelKeyId(key));
  }
}

/** rdbLoadLen of a number that may need all 64 bits. */
function readLength64(r: RdbReader): bigint {
  r.need(1);
  if (r.buf[r.pos] !== LEN_64BIT) return BigInt(r.readLength());
  r.pos++;
  r.need(8);
  const view = new DataView(r.buf.buffer, r.buf.byteOffset + r.pos, 8);
  r.pos += 8;
  return view.getBigUint64(0, false);
}

function readId(r: RdbReader): StreamId {
  const ms = readLength64(r);
  return new StreamId(ms, readLength64(r));
}

function readRawId(r: RdbReader): StreamId {
  r.need(16);
  const id = decodeId(r.buf, r.pos);
  r.pos += 16;
  return id;
}

/** Reads a stream of RDB type 15 (version 1) or 19 (version 2); throws RdbError when malformed. */
export function loadStream(r: RdbReader, version2: boolean): Stream {
  const stream = new Stream();
  const nodeCount = r.readCount();
  for (let i = 0; i < nodeCount; i++) stream.nodes.push(readNode(r, stream));
  stream.countNodes();
  stream.length = r.readLength();
  stream.lastId = readId(r);
  if (version2) {
    stream.firstId = readId(r);
    stream.maxDeletedId = readId(r);
    stream.entriesAdded = readLength64(r);
  } else {
    stream.refreshFirstId();
    stream.entriesAdded = BigInt(stream.length);
  }
  if (stream.length > 0 && stream.nodes.length === 0) r.fail("Stream length inconsistent with rax entries");
  const groupCount = r.readCount();
  for (let i = 0; i < groupCount; i++) readGroup(r, stream, version2);
  stream.countGroups();
  return stream;
}

function readNode(r: RdbReader, stream: Stream): StreamNode {
  const at = r.pos;
  r.readString(0);
  if (r.sLen !== 16) r.fail("Stream node key entry is not the size of a stream ID", at);
  const master = decodeId(r.sBuf, r.sStart);
  const previous = stream.nodes.length > 0 ? stream.nodes[stream.nodes.length - 1]! : null;
  if (previous !== null && compareIds(previous.master, master) >= 0) r.fail("Stream node keys out of order", at);
  const lpAt = r.pos;
  r.readString(1);
  if (!lpValidate(r.sBuf, r.sStart, r.sLen, true)) r.fail("Stream listpack integrity check failed.", lpAt);
  if (lpFirst(r.sBuf, r.sStart) < 0 || r.sLen <= LP_HDR_SIZE + 1) r.fail("Empty listpack inside stream", lpAt);
  const node = new StreamNode(master, r.copyString());
  if (!validNodeLayout(node.lp)) r.fail("Stream listpack integrity check failed.", lpAt);
  return node;
}

/** The element after p, or -1 at the end (and after the end). */
function after(lp: Uint8Array, p: number): number {
  return p < 0 ? -1 : lpNext(lp, p);
}

/** The integer at p, or null when p is the end or holds a string. */
function intAt(lp: Uint8Array, p: number): number | null {
  if (p < 0) return null;
  lpGet(lp, p);
  return lpEntry.isInt ? lpEntry.int : null;
}

/**
 * streamValidateListpackIntegrity, deep: the master entry, then entries whose flags,
 * deltas, field counts and lp-count are integers that add up, and live and deleted
 * counts that match the master's, so that nothing reading the node later walks off it.
 */
function validNodeLayout(lp: Uint8Array): boolean {
  let p = lpFirst(lp, 0);
  const count = intAt(lp, p);
  const deleted = intAt(lp, (p = after(lp, p)));
  const masterFields = intAt(lp, (p = after(lp, p)));
  if (count === null || deleted === null || masterFields === null || masterFields < 0) return false;
  for (let i = 0; i < masterFields && p >= 0; i++) p = after(lp, p);
  if (intAt(lp, (p = after(lp, p))) !== 0) return false;
  let live = 0;
  let flagged = 0;
  for (p = after(lp, p); p >= 0; p = after(lp, p)) {
    const flags = intAt(lp, p);
    if (flags === null || intAt(lp, (p = after(lp, p))) === null || intAt(lp, (p = after(lp, p))) === null) return false;
    let elements = masterFields;
    let lpCount = masterFields + 3;
    if ((flags & FLAG_SAMEFIELDS) === 0) {
      const fields = intAt(lp, (p = after(lp, p)));
      if (fields === null || fields < 0) return false;
      elements = 2 * fields;
      lpCount = 2 * fields + 4;
    }
    for (let i = 0; i < elements && p >= 0; i++) p = after(lp, p);
    if (p < 0 || intAt(lp, (p = after(lp, p))) !== lpCount) return false;
    if ((flags & FLAG_DELETED) !== 0) flagged++;
    else live++;
  }
  return live === count && flagged === deleted;
}

function readGroup(r: RdbReader, stream: Stream, version2: boolean): void {
  const at = r.pos;
  const name = r.readLatin1(0);
  const lastId = readId(r);
  let entriesRead = ENTRIES_READ_INVALID;
  if (version2) entriesRead = BigInt.asIntN(64, readLength64(r));
  else if (compareIds(lastId, stream.lastId) === 0) entriesRead = stream.entriesAdded;
  if (stream.groups.has(name)) r.fail("Duplicated consumer group name", at);
  const group = new ConsumerGroup(lastId, entriesRead);
  stream.groups.set(name, group);
  const pelSize = r.readCount();
  for (let i = 0; i < pelSize; i++) {
    const key = pelKey(readRawId(r));
    const deliveryTimeMs = r.int64LE();
    const deliveryCount = r.readLength();
    if (group.pel.has(key)) r.fail("Duplicated global PEL entry loading stream consumer group");
    group.pel.set(key, new PendingEntry(deliveryTimeMs, deliveryCount, null));
  }
  const consumerCount = r.readCount();
  for (let i = 0; i < consumerCount; i++) readConsumer(r, group);
  for (const nack of group.pel.values()) {
    if (nack.consumer === null) r.fail("Stream CG PEL entry without consumer");
  }
}

function readConsumer(r: RdbReader, group: ConsumerGroup): void {
  const at = r.pos;
  const name = r.readLatin1(0);
  if (group.consumers.has(name)) r.fail("Duplicate stream consumer detected.", at);
  const consumer = new Consumer(name, r.int64LE());
  group.consumers.set(name, consumer);
  const pelSize = r.readCount();
  for (let i = 0; i < pelSize; i++) {
    const key = pelKey(readRawId(r));
    const nack = group.pel.get(key);
    if (nack === undefined) r.fail("Consumer entry not found in group global PEL");
    if (nack.consumer !== null) r.fail("Duplicated consumer PEL entry loading a stream consumer group");
    nack.consumer = consumer;
    consumer.pel.set(key, nack);
  }
}
