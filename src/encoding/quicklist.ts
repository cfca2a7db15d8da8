/**
 * Quicklist: the list type's value, as Redis 7.0's quicklist.c builds it. A doubly linked
 * list of nodes, each either a listpack of several elements ("packed") or, for an element
 * of at least the packed threshold (1 GB unless DEBUG QUICKLIST-PACKED-THRESHOLD says
 * otherwise), a node holding that one element's bytes alone ("plain").
 *
 * How full a packed node may get is the list's `fill` (list-max-listpack-size when the list
 * was made): -1 .. -5 cap its listpack at 4, 8, 16, 32 or 64 KB; a positive fill caps its
 * entry count, and then also its size at SIZE_SAFETY_LIMIT bytes. Which node an element
 * lands in, and when nodes split and merge, follows Redis's decision for decision, estimates
 * included, so that DEBUG OBJECT's ql_nodes and ql_uncompressed_size, and an RDB dump of the
 * nodes, come out as Redis's would after the same commands.
 *
 * With a `list-compress-depth` (the list's `compress`) above 0, nodes other than the
 * `compress` nodes at each end are held LZF-compressed, as quicklist.c holds them: node by
 * node, as each operation passes them (`compressAround` is __quicklistCompress), so that
 * which nodes are compressed, and hence DEBUG OBJECT's serializedlength, RDB files and
 * DUMP payloads, come out as Redis's after the same commands. A compressed node's `buf` is
 * its LZF bytes and `sz` still its raw size. Readers and writers decompress a node "for
 * use" and recompress it when done. An iterator's last node is recompressed lazily:
 * `open` remembers it, and the next operation on the list (or a save) settles it first,
 * which is what Redis's quicklistReleaseIterator does at the end of the command.
 *
 * A packed node's listpack sits at offset 0 of `buf`, which may be longer than the
 * listpack (room to grow, see ensureRoom); `sz` is the listpack's size (Redis's node->sz).
 * A plain node's `buf` holds exactly the element, `sz` its length.
 *
 * Elements go in as byte ranges (src, start, len). Readers position a QuicklistIter with
 * `seek` and step it with `advance`; the entry under it is read with lpGet (packed) or is
 * buf[0 .. sz) (plain).
 *
 * Memory. `memoryBytes` is what the list holds on the heap (see cache/memory.ts): its
 * nodes and their buffers at their allocated length (compressed, or with room to grow).
 * Every change of a linked node's buffer goes through setBuf, which keeps the figure
 * current and reports it to the `ledger` while the keyspace holds the list.
 */

import {
  LP_AFTER,
  LP_BEFORE,
  LP_EOF,
  lpAddReplyEntry,
  lpAppend,
  lpBytes,
  lpCompare,
  lpDelete,
  lpDeleteRange,
  lpEdited,
  lpEntry,
  lpFirst,
  lpGet,
  lpGetLatin1,
  lpInsertString,
  lpLast,
  lpLength,
  lpMerge,
  lpNew,
  lpNext,
  lpPrepend,
  lpPrev,
  lpRepr,
  lpReplace,
  lpSeek,
  lpValidate,
} from "./listpack.ts";
import type { ReplyWriter } from "../resp/writer.ts";
import { lzfCompress, lzfDecompress } from "../persistence/lzf.ts";
import { formatInt64 } from "../util/numbers.ts";
import type { MemoryLedger } from "../cache/memory.ts";

/** Which end of the list: Redis's LIST_HEAD / LIST_TAIL. */
export const LIST_HEAD = 0;
export const LIST_TAIL = 1;
export type ListEnd = typeof LIST_HEAD | typeof LIST_TAIL;

/** Listpack size caps for fill -1 .. -5 (Redis's optimization_level). */
const SIZE_LEVELS = [4096, 8192, 16384, 32768, 65536];
/** A node limited by entry count never grows past this many bytes either. */
const SIZE_SAFETY_LIMIT = 8192;
/** What Redis adds to an element's length to estimate the bytes its entry takes. */
const SIZE_ESTIMATE_OVERHEAD = 8;
/** What Redis subtracts from two listpacks' sizes to estimate their merge (an old ziplist header and end). */
const MERGE_OVERLAP_ESTIMATE = 11;
/** The fill and compress-depth ranges of Redis's 16-bit quicklist fields. */
const FILL_MAX = 32767;
const FILL_MIN = -5;
const COMPRESS_MAX = 65535;
/** Room a new packed node starts with; it grows by half as it fills. */
const NEW_NODE_BYTES = 64;

// Heap costs (measured as cache/memory.ts describes).
/** An empty list object. */
const QUICKLIST_BYTES = 96;
/** A node besides its buffer's bytes: the node object and the buffer's object. */
const NODE_BYTES = 160;

/** quicklist.c never compresses a node below this many bytes (MIN_COMPRESS_BYTES)... */
const COMPRESS_MIN_BYTES = 48;
/** ...nor keeps a compression that saves fewer than this many (MIN_COMPRESS_IMPROVE). */
const COMPRESS_MIN_SAVING = 8;

const DEFAULT_PACKED_THRESHOLD = 1 << 30;

/**
 * The packed threshold of one server's lists: like Redis's, one for the whole server, and a
 * change applies to the lists that exist already. Each server has its own (several can run
 * in one process), and every list holds its server's.
 */
export class QuicklistLimits {
  /** Elements of at least this many bytes get a plain node of their own. */
  packedThreshold = DEFAULT_PACKED_THRESHOLD;

  /** DEBUG QUICKLIST-PACKED-THRESHOLD: 0 restores the default, anything above 4 GB less 1 MB is refused (false). */
  setPackedThreshold(bytes: number): boolean {
    if (bytes > 2 ** 32 - 2 ** 20) return false;
    this.packedThreshold = bytes === 0 ? DEFAULT_PACKED_THRESHOLD : bytes;
    return true;
  }
}

/** The limits of lists made outside any server (unit tests of the encoding). */
const DEFAULT_LIMITS = new QuicklistLimits();
const limitsBySettings = new WeakMap<object, QuicklistLimits>();

/** The limits of the server whose settings object (its Config) is `settings`. */
export function quicklistLimitsOf(settings: object): QuicklistLimits {
  let limits = limitsBySettings.get(settings);
  if (limits === undefined) {
    limits = new QuicklistLimits();
    limitsBySettings.set(settings, limits);
  }
  return limits;
}

export class QuicklistNode {
  prev: QuicklistNode | null = null;
  next: QuicklistNode | null = null;
  /** Whether buf holds the bytes LZF-compressed (Redis's QUICKLIST_NODE_ENCODING_LZF). */
  compressed = false;
  /** Decompressed for use: to be compressed again when the user is done (Redis's recompress). */
  recompress = false;
  /** Set while LSET inserts next to the node, which must stay raw meanwhile (dont_compress). */
  dontCompress = false;
  /** Whether compression was ever tried on it (DEBUG QUICKLIST's attempted_compress). */
  attempted = false;
  /**
   * While decompressed for use and unchanged since: its LZF bytes, which recompressing
   * puts back instead of compressing again (liblzf would produce the same bytes).
   */
  blob: Uint8Array | null = null;

  constructor(
    /** The listpack (packed) or the element (plain), at offset 0. */
    public buf: Uint8Array,
    /** Bytes of the listpack, or of the element. */
    public sz: number,
    /** Elements in the node; always 1 for a plain node. */
    public count: number,
    public plain: boolean,
  ) {}
}

function newPlainNode(src: Uint8Array, start: number, len: number): QuicklistNode {
  return new QuicklistNode(src.slice(start, start + len), len, 1, true);
}

/**
 * A position in a quicklist: the node, the element's index inside it (`offset`) and, in a
 * packed node, its byte position `p`. `valid` turns false when a step runs off the end.
 */
export class QuicklistIter {
  node: QuicklistNode | null = null;
  offset = 0;
  p = -1;
  forward = true;
  valid = false;
}

/** Where popTo leaves an element taken off a list: bytes[0 .. len). */
export const popped = { bytes: new Uint8Array(64), len: 0 };

export class Quicklist {
  head: QuicklistNode | null = null;
  tail: QuicklistNode | null = null;
  /** Number of nodes. */
  len = 0;
  /** Number of elements. */
  count = 0;
  readonly fill: number;
  /** list-compress-depth when the list was made: nodes kept raw at each end (0: none compressed). */
  readonly compress: number;
  /** The node an iteration stopped on, still to be recompressed (see settle). */
  private open: QuicklistNode | null = null;
  /** What the linked nodes and their buffers cost. */
  private nodeBytes = 0;
  /** The table holding the list, told of every change of memoryBytes; null when none. */
  ledger: MemoryLedger | null = null;

  constructor(
    fill: number,
    compress: number,
    /** The server's packed threshold, read at every insert. */
    readonly limits: QuicklistLimits = DEFAULT_LIMITS,
  ) {
    this.fill = Math.min(Math.max(fill, FILL_MIN), FILL_MAX);
    this.compress = Math.min(Math.max(compress, 0), COMPRESS_MAX);
  }

  private isLargeElement(len: number): boolean {
    return len >= this.limits.packedThreshold;
  }

  /** Heap bytes held now (see the file comment). */
  get memoryBytes(): number {
    return QUICKLIST_BYTES + this.nodeBytes;
  }

  /** Gives a linked node a new buffer (or the same one back), counting the change of size. */
  private setBuf(node: QuicklistNode, buf: Uint8Array): void {
    const delta = buf.length - node.buf.length;
    node.buf = buf;
    if (delta !== 0) this.resized(delta);
  }

  private resized(delta: number): void {
    this.nodeBytes += delta;
    if (this.ledger !== null) this.ledger.objectBytes += delta;
  }

  // -------------------------------------------------------------------------------------
  // Node limits (Redis's _quicklistNodeAllowInsert / _quicklistNodeAllowMerge)

  /** Whether a listpack of sz bytes is within a size-based fill (always false for a count fill). */
  private meetsSizeLevel(sz: number): boolean {
    const fill = this.fill;
    return fill < 0 && sz <= SIZE_LEVELS[-fill - 1]!;
  }

  /** Whether an element of len bytes may go into node, by Redis's estimate. */
  private allowInsert(node: QuicklistNode | null, len: number): boolean {
    if (node === null || node.plain || this.isLargeElement(len)) return false;
    const estimate = node.sz + len + SIZE_ESTIMATE_OVERHEAD;
    if (this.meetsSizeLevel(estimate)) return true;
    if (estimate > SIZE_SAFETY_LIMIT) return false;
    return node.count < this.fill;
  }

  private allowMerge(a: QuicklistNode | null, b: QuicklistNode | null): boolean {
    if (a === null || b === null || a.plain || b.plain) return false;
    const estimate = a.sz + b.sz - MERGE_OVERLAP_ESTIMATE;
    if (this.meetsSizeLevel(estimate)) return true;
    if (estimate > SIZE_SAFETY_LIMIT) return false;
    return a.count + b.count <= this.fill;
  }

  // -------------------------------------------------------------------------------------
  // Linking nodes

  /** Links node in after (or before) old, or as the only node when old is null. */
  private insertNode(old: QuicklistNode | null, node: QuicklistNode, after: boolean): void {
    if (old === null) {
      this.head = this.tail = node;
    } else if (after) {
      node.prev = old;
      node.next = old.next;
      if (old.next !== null) old.next.prev = node;
      old.next = node;
      if (this.tail === old) this.tail = node;
    } else {
      node.next = old;
      node.prev = old.prev;
      if (old.prev !== null) old.prev.next = node;
      old.prev = node;
      if (this.head === old) this.head = node;
    }
    this.len++;
    this.resized(NODE_BYTES + node.buf.length);
    if (this.compress === 0) return;
    if (old !== null) this.compressFor(old);
    this.compressFor(node);
  }

  /** Unlinks node, and its elements from the count. */
  private deleteNode(node: QuicklistNode): void {
    if (node.next !== null) node.next.prev = node.prev;
    if (node.prev !== null) node.prev.next = node.next;
    if (node === this.tail) this.tail = node.prev;
    if (node === this.head) this.head = node.next;
    node.prev = node.next = null;
    this.len--;
    this.count -= node.count;
    this.resized(-(NODE_BYTES + node.buf.length));
    // Nodes within the depth at the new ends are decompressed, the next ones in compressed.
    if (this.compress !== 0) this.compressAround(null);
  }

  private insertPlainNode(old: QuicklistNode | null, src: Uint8Array, start: number, len: number, after: boolean): void {
    this.insertNode(old, newPlainNode(src, start, len), after);
    this.count++;
  }

  // -------------------------------------------------------------------------------------
  // Compression (quicklist.c's __quicklistCompress and the node helpers around it)

  /**
   * Redis's __quicklistCompressNode, for a raw node: LZF-compresses it when it has at
   * least COMPRESS_MIN_BYTES and liblzf, limited to its size, saves COMPRESS_MIN_SAVING.
   */
  private compressNode(node: QuicklistNode): void {
    if (node.compressed || node.dontCompress) return;
    // Redis asserts that an end node is never compressed; no sequence of commands gets here.
    if (node.prev === null || node.next === null) return;
    node.attempted = true;
    node.recompress = false;
    const blob = node.blob;
    if (blob !== null) {
      node.blob = null;
      this.setBuf(node, blob);
      node.compressed = true;
      return;
    }
    const size = node.sz;
    if (size < COMPRESS_MIN_BYTES) return;
    const out = compressScratch(size);
    const compressedLen = lzfCompress(node.buf, 0, size, out, 0, size);
    if (compressedLen === 0 || compressedLen + COMPRESS_MIN_SAVING >= size) return;
    this.setBuf(node, out.slice(0, compressedLen));
    node.compressed = true;
  }

  /** Redis's __quicklistDecompressNode, for a compressed node; returns its LZF bytes. */
  private decompressNode(node: QuicklistNode): Uint8Array | null {
    if (!node.compressed) return null;
    const blob = node.buf;
    this.setBuf(node, decompressed(node));
    node.compressed = false;
    node.recompress = false;
    node.blob = null;
    return blob;
  }

  /** quicklistDecompressNodeForUse: decompressed, to be recompressed when done. */
  private decompressForUse(node: QuicklistNode): void {
    const blob = this.decompressNode(node);
    if (blob === null) return;
    node.recompress = true;
    node.blob = blob;
  }

  /** quicklistRecompressOnly: recompresses a node decompressed for use. */
  private recompressOnly(node: QuicklistNode): void {
    if (node.recompress) this.compressNode(node);
  }

  /** Redis's quicklistCompress macro: recompress a node decompressed for use, else compressAround it. */
  private compressFor(node: QuicklistNode): void {
    if (node.recompress) this.compressNode(node);
    else this.compressAround(node);
  }

  /**
   * Redis's __quicklistCompress: decompresses the `compress` nodes at each end, then
   * compresses node (unless it is one of them) and the first node past the depth at each
   * end. Nothing happens while the list has fewer than twice `compress` nodes.
   */
  private compressAround(node: QuicklistNode | null): void {
    const depth = this.compress;
    if (this.len === 0 || depth === 0 || this.len < depth * 2) return;
    let forward = this.head!;
    let reverse = this.tail!;
    let inDepth = false;
    for (let d = 0; d < depth; d++) {
      this.decompressNode(forward);
      this.decompressNode(reverse);
      if (forward === node || reverse === node) inDepth = true;
      if (forward === reverse || forward.next === reverse) return;
      forward = forward.next!;
      reverse = reverse.prev!;
    }
    if (!inDepth && node !== null) this.compressNode(node);
    this.compressNode(forward);
    this.compressNode(reverse);
  }

  /** An iterator enters node (quicklistNext's decompress for use). */
  private use(node: QuicklistNode): void {
    if (this.compress === 0) return;
    this.decompressForUse(node);
    this.open = node;
  }

  /** An iterator leaves node, read to its end (quicklistNext's quicklistCompress). */
  private leave(node: QuicklistNode): void {
    if (this.compress === 0) return;
    this.open = null;
    this.compressFor(node);
  }

  /**
   * Recompresses the node the last iteration stopped on, as Redis's iterator release did
   * at the end of that command. Every operation does this first; so must anything that
   * reads the nodes' state (saving, DEBUG OBJECT).
   */
  settle(): void {
    const node = this.open;
    if (node === null) return;
    this.open = null;
    this.compressFor(node);
  }

  // -------------------------------------------------------------------------------------
  // Push and pop

  /**
   * Adds the element at the head or the tail (quicklistPushHead / quicklistPushTail): into
   * the end node while it has room, else into a new node there.
   */
  push(where: ListEnd, src: Uint8Array, start: number, len: number): void {
    if (this.open !== null) this.settle();
    const atHead = where === LIST_HEAD;
    const end = atHead ? this.head : this.tail;
    if (this.isLargeElement(len)) return this.insertPlainNode(end, src, start, len, !atHead);
    if (this.allowInsert(end, len)) {
      this.setBuf(end!, atHead ? lpPrepend(end!.buf, src, start, len) : lpAppend(end!.buf, src, start, len));
      this.grewBy1(end!);
    } else {
      this.insertNode(end, this.nodeWith(src, start, len, this.nextNodeBytes(end)), !atHead);
    }
  }

  /**
   * Room for the node a push starts next to a full end node (null for the first node).
   * The list is growing at that end, so the new node is sized to be filled without
   * reallocating: to the byte limit (which pushes never pass), or to about the full
   * node's size under a count limit. The full node, which grew by halves, gives back its
   * spare room, since pushes will not come to it again.
   */
  private nextNodeBytes(full: QuicklistNode | null): number {
    if (full === null || full.plain) return NEW_NODE_BYTES;
    if (full.buf.length > full.sz + (full.sz >> 3)) this.setBuf(full, full.buf.slice(0, full.sz));
    if (this.fill < 0) return SIZE_LEVELS[-this.fill - 1]!;
    return Math.min(full.sz + (full.sz >> 3) + 16, SIZE_SAFETY_LIMIT);
  }

  /** A new packed node of capacityBytes holding the one element (not linked yet, but counted). */
  private nodeWith(src: Uint8Array, start: number, len: number, capacityBytes = NEW_NODE_BYTES): QuicklistNode {
    const buf = lpNew(capacityBytes);
    const node = new QuicklistNode(lpPrepend(buf, src, start, len), 0, 0, false);
    this.grewBy1(node);
    return node;
  }

  /** The node at an end, and in `endPos` its end entry's position (-1 for a plain node). */
  private endNode(where: ListEnd): QuicklistNode {
    if (this.open !== null) this.settle();
    const node = where === LIST_HEAD ? this.head! : this.tail!;
    endPos = node.plain ? -1 : where === LIST_HEAD ? lpFirst(node.buf, 0) : lpLast(node.buf, 0);
    return node;
  }

  /** Replies with the element at one end as a bulk string and removes it. The list must not be empty. */
  popReply(w: ReplyWriter, where: ListEnd): void {
    const node = this.endNode(where);
    addEntryReply(w, node, endPos);
    this.deleteEntry(node, endPos);
  }

  /** Removes the element at one end into `popped`. The list must not be empty. */
  popTo(where: ListEnd): void {
    const node = this.endNode(where);
    copyEntry(node, endPos);
    this.deleteEntry(node, endPos);
  }

  /**
   * Deletes the entry at p in node (quicklistDelIndex), and the node when it empties.
   * Returns the position of the entry that followed it in the node, or -1.
   */
  private deleteEntry(node: QuicklistNode, p: number): number {
    if (node.plain) {
      this.deleteNode(node);
      return -1;
    }
    this.setBuf(node, lpDelete(node.buf, p));
    node.blob = null;
    const next = lpEdited.pos;
    this.count--;
    if (--node.count === 0) {
      // Already counted out above: deleteNode subtracts the node's (now zero) count.
      this.deleteNode(node);
      return -1;
    }
    node.sz = lpBytes(node.buf, 0);
    return next;
  }

  // -------------------------------------------------------------------------------------
  // Positions

  /**
   * Points it at the element at index (0 .. count-1, already range-checked), to step
   * forward (toward the tail) or not. Walks from the nearer end, as Redis does.
   */
  seek(index: number, forward: boolean, it: QuicklistIter): void {
    const node = this.locate(index);
    this.use(node);
    it.node = node;
    it.offset = locatedOffset;
    it.p = node.plain ? -1 : lpSeek(node.buf, 0, locatedOffset);
    it.forward = forward;
    it.valid = true;
  }

  /**
   * The node holding the element at index (in range), and its offset there in
   * `locatedOffset`, without decompressing it (quicklistGetIteratorAtIdx).
   */
  private locate(index: number): QuicklistNode {
    if (this.open !== null) this.settle();
    let node: QuicklistNode;
    let offset: number;
    if (index <= (this.count - 1) / 2) {
      node = this.head!;
      while (index >= node.count) {
        index -= node.count;
        node = node.next!;
      }
      offset = index;
    } else {
      let fromTail = this.count - 1 - index;
      node = this.tail!;
      while (fromTail >= node.count) {
        fromTail -= node.count;
        node = node.prev!;
      }
      offset = node.count - 1 - fromTail;
    }
    locatedOffset = offset;
    return node;
  }

  /** Moves it to the next element in its direction; `valid` turns false past the end. */
  advance(it: QuicklistIter): void {
    const node = it.node!;
    if (!node.plain) {
      const p = it.forward ? lpNext(node.buf, it.p) : lpPrev(node.buf, 0, it.p);
      if (p !== -1) {
        it.p = p;
        it.offset += it.forward ? 1 : -1;
        return;
      }
    }
    this.leave(node);
    this.enterNode(it, it.forward ? node.next : node.prev);
  }

  /** Puts it on the first element of node in its direction, or invalidates it at null. */
  private enterNode(it: QuicklistIter, node: QuicklistNode | null): void {
    it.node = node;
    if (node === null) {
      it.valid = false;
      return;
    }
    this.use(node);
    it.offset = it.forward ? 0 : node.count - 1;
    it.p = node.plain ? -1 : it.forward ? lpFirst(node.buf, 0) : lpLast(node.buf, 0);
  }

  /** Whether the element under it holds exactly these bytes (quicklistCompare). */
  equalsAt(it: QuicklistIter, src: Uint8Array, start: number, len: number): boolean {
    const node = it.node!;
    if (!node.plain) return lpCompare(node.buf, it.p, src, start, len);
    if (node.sz !== len) return false;
    const buf = node.buf;
    for (let i = 0; i < len; i++) if (buf[i] !== src[start + i]) return false;
    return true;
  }

  /**
   * Deletes the element under it (quicklistDelEntry) and leaves it on the element that
   * came next in its direction; with `last`, ends the iteration there instead (the
   * caller's loop stops: Redis releases its iterator without stepping it again).
   */
  deleteAt(it: QuicklistIter, last = false): void {
    const node = it.node!;
    const neighbour = it.forward ? node.next : node.prev;
    const p = it.p;
    const next = this.deleteEntry(node, p);
    const gone = node.count === 0 || node.plain;
    if (gone && this.open === node) this.open = null;
    if (last) return this.stopAfterDelete(it, gone ? neighbour : node);
    if (gone) return this.enterNode(it, neighbour);
    if (it.forward) {
      if (next === -1) return this.leaveFor(it, node, neighbour);
      it.p = next;
      return;
    }
    // What followed the deleted entry (another entry or the terminator) moved up to p.
    const before = lpPrev(node.buf, 0, p);
    if (before === -1) return this.leaveFor(it, node, neighbour);
    it.p = before;
    it.offset--;
  }

  /** Steps it off node, which it has read to its end, onto neighbour. */
  private leaveFor(it: QuicklistIter, node: QuicklistNode, neighbour: QuicklistNode | null): void {
    this.leave(node);
    this.enterNode(it, neighbour);
  }

  /**
   * Ends an iteration after a deletion, as Redis's iterator release does: the node it
   * stands on (the deleted node's neighbour, not yet decompressed) is recompressed.
   */
  private stopAfterDelete(it: QuicklistIter, current: QuicklistNode | null): void {
    it.valid = false;
    it.node = null;
    this.open = null;
    if (current !== null && this.compress !== 0) this.compressFor(current);
  }

  // -------------------------------------------------------------------------------------
  // Insert and replace

  /**
   * Inserts the element after (or before) the one under it, as Redis's _quicklistInsert
   * decides: into the same node while it has room, else into the neighbour when at its
   * edge, else a new node or a split one. The iterator is not valid afterwards.
   */
  insertAt(it: QuicklistIter, after: boolean, src: Uint8Array, start: number, len: number): void {
    const node = it.node!;
    const offset = it.offset;
    const full = !this.allowInsert(node, len);
    const atTail = after && offset === node.count - 1;
    const atHead = !after && offset === 0;
    // The insert ends the iteration without releasing it (Redis resets the iterator): the
    // node stays decompressed for use and each branch recompresses what it touched.
    it.valid = false;
    if (this.open === node) this.open = null;
    if (this.isLargeElement(len)) return this.insertLarge(node, offset, after, atTail || atHead, src, start, len);
    if (!full) {
      this.setBuf(node, lpInsertString(node.buf, it.p, after ? LP_AFTER : LP_BEFORE, src, start, len));
      this.grewBy1(node);
      this.recompressOnly(node);
    } else if (atTail && this.allowInsert(node.next, len)) {
      const next = node.next!;
      this.decompressForUse(next);
      this.setBuf(next, lpPrepend(next.buf, src, start, len));
      this.grewBy1(next);
      this.recompressOnly(next);
      this.recompressOnly(node);
    } else if (atHead && this.allowInsert(node.prev, len)) {
      const prev = node.prev!;
      this.decompressForUse(prev);
      this.setBuf(prev, lpAppend(prev.buf, src, start, len));
      this.grewBy1(prev);
      this.recompressOnly(prev);
      this.recompressOnly(node);
    } else if (atTail || atHead) {
      this.insertNode(node, this.nodeWith(src, start, len), after);
    } else {
      const split = this.splitNode(node, offset, after);
      split.buf = after ? lpPrepend(split.buf, src, start, len) : lpAppend(split.buf, src, start, len);
      split.count++;
      split.sz = lpBytes(split.buf, 0);
      this.insertNode(node, split, after);
      this.count++;
      this.mergeAround(node);
    }
  }

  /** Accounts for one element added to node's listpack. */
  private grewBy1(node: QuicklistNode): void {
    node.blob = null;
    node.count++;
    node.sz = lpBytes(node.buf, 0);
    this.count++;
  }

  /** A large element goes in a plain node next to node, splitting node when it lands inside it. */
  private insertLarge(
    node: QuicklistNode,
    offset: number,
    after: boolean,
    atEdge: boolean,
    src: Uint8Array,
    start: number,
    len: number,
  ): void {
    if (node.plain || atEdge) return this.insertPlainNode(node, src, start, len, after);
    const split = this.splitNode(node, offset, after);
    const plain = newPlainNode(src, start, len);
    this.insertNode(node, plain, after);
    this.insertNode(plain, split, after);
    this.count++;
  }

  /**
   * Redis's _quicklistSplitNode: after, node keeps [0 .. offset] and the returned node
   * (not yet linked) gets the rest; before, the returned node gets [0 .. offset) and node
   * keeps the rest.
   */
  private splitNode(node: QuicklistNode, offset: number, after: boolean): QuicklistNode {
    const all = node.count;
    const copy = new QuicklistNode(node.buf.slice(0, node.sz + (node.sz >> 2)), node.sz, 0, false);
    node.blob = null;
    this.setBuf(node, after ? lpDeleteRange(node.buf, offset + 1, all) : lpDeleteRange(node.buf, 0, offset));
    copy.buf = after ? lpDeleteRange(copy.buf, 0, offset + 1) : lpDeleteRange(copy.buf, offset, all);
    node.count = lpLength(node.buf, 0);
    node.sz = lpBytes(node.buf, 0);
    copy.count = lpLength(copy.buf, 0);
    copy.sz = lpBytes(copy.buf, 0);
    return copy;
  }

  /**
   * Redis's _quicklistMergeNodes after a split: merges the two nodes before center, the
   * two after it, then center with its neighbours, wherever the fill allows.
   */
  private mergeAround(center: QuicklistNode): void {
    const prev = center.prev;
    const prevPrev = prev === null ? null : prev.prev;
    const next = center.next;
    const nextNext = next === null ? null : next.next;
    if (this.allowMerge(prev, prevPrev)) this.mergeNodes(prevPrev!, prev!);
    if (this.allowMerge(next, nextNext)) this.mergeNodes(next!, nextNext!);
    let target = center;
    if (this.allowMerge(center, center.prev)) target = this.mergeNodes(center.prev!, center);
    if (this.allowMerge(target, target.next)) this.mergeNodes(target, target.next!);
  }

  /** Appends b's elements to a (its left neighbour), drops b, returns a. */
  private mergeNodes(a: QuicklistNode, b: QuicklistNode): QuicklistNode {
    this.decompressNode(a);
    this.decompressNode(b);
    this.setBuf(a, lpMerge(a.buf, b.buf, 0));
    a.blob = null;
    a.count += b.count;
    a.sz = lpBytes(a.buf, 0);
    b.count = 0;
    this.deleteNode(b);
    if (this.compress !== 0) this.compressFor(a);
    return a;
  }

  /**
   * Replaces the element at index (range-checked by the caller) like Redis's
   * quicklistReplaceEntry: in place within a packed node, whatever that does to its size;
   * through an insert and a delete when the element moves between packed and plain.
   */
  replaceAt(index: number, src: Uint8Array, start: number, len: number): void {
    const it = scratchIter;
    this.seek(index, true, it);
    // The replace ends the iteration without releasing it (Redis resets the iterator).
    this.open = null;
    const node = it.node!;
    const large = this.isLargeElement(len);
    if (!node.plain && !large) {
      this.setBuf(node, lpReplace(node.buf, it.p, src, start, len));
      node.sz = lpBytes(node.buf, 0);
      node.blob = null;
      if (this.compress !== 0) this.compressFor(node);
    } else if (node.plain && large) {
      this.setBuf(node, src.slice(start, start + len));
      node.sz = len;
      node.blob = null;
      if (this.compress !== 0) this.compressFor(node);
    } else if (node.plain) {
      this.insertAt(it, true, src, start, len);
      this.deleteNode(node);
    } else {
      // The new plain node goes right after the old element, which is then its node's
      // last; the node stays raw until that element is gone.
      node.dontCompress = true;
      this.insertAt(it, true, src, start, len);
      if (node.count === 1) return this.deleteNode(node);
      this.deleteEntry(node, lpLast(node.buf, 0));
      node.dontCompress = false;
      if (this.compress === 0) return;
      this.compressFor(node);
      this.compressFor(node.next!);
    }
  }

  // -------------------------------------------------------------------------------------
  // Ranges

  /**
   * Deletes count elements from index start on (quicklistDelRange; both already
   * normalised to 0 <= start, start + count <= this.count). Whole nodes go at once; no
   * nodes are merged afterwards, as in Redis.
   */
  deleteRange(start: number, count: number): void {
    if (count <= 0) return;
    let node: QuicklistNode | null = this.locate(start);
    let offset = locatedOffset;
    // Redis positions an iterator there and releases it at once, which recompresses.
    if (this.compress !== 0) this.compressFor(node);
    let left = count;
    while (left > 0 && node !== null) {
      const next: QuicklistNode | null = node.next;
      const del = Math.min(node.count - offset, left);
      if ((offset === 0 && del === node.count) || node.plain) {
        this.deleteNode(node);
      } else {
        this.decompressForUse(node);
        this.setBuf(node, lpDeleteRange(node.buf, offset, del));
        node.blob = null;
        node.sz = lpBytes(node.buf, 0);
        node.count -= del;
        this.count -= del;
        this.recompressOnly(node);
      }
      left -= del;
      node = next;
      offset = 0;
    }
  }

  /**
   * Replies with n elements (n >= 1) from index start (range-checked), toward the tail,
   * or toward the head when reverse, straight from the node bytes.
   */
  addRangeReply(w: ReplyWriter, start: number, n: number, reverse: boolean): void {
    const it = scratchIter;
    this.seek(start, !reverse, it);
    if (!reverse && this.compress === 0) return addForwardReply(w, it.node!, it.p, n);
    for (;;) {
      addEntryReply(w, it.node!, it.p);
      if (--n === 0) break;
      this.advance(it);
    }
    this.settle();
  }

  // -------------------------------------------------------------------------------------
  // Whole-list operations

  /** A deep copy with the same nodes (quicklistDup). */
  dup(): Quicklist {
    if (this.open !== null) this.settle();
    const copy = new Quicklist(this.fill, this.compress, this.limits);
    for (let node = this.head; node !== null; node = node.next) {
      const room = node.compressed || node.plain ? node.buf.length : node.sz + (node.sz >> 2);
      const twin = new QuicklistNode(node.buf.slice(0, room), node.sz, node.count, node.plain);
      twin.compressed = node.compressed;
      copy.count += node.count;
      copy.insertNode(copy.tail, twin, true);
    }
    return copy;
  }

  /** Appends a whole listpack as a node (RDB loading: quicklistAppendListpack). */
  appendListpackNode(buf: Uint8Array): void {
    const node = new QuicklistNode(buf, lpBytes(buf, 0), lpLength(buf, 0), false);
    this.insertNode(this.tail, node, true);
    this.count += node.count;
  }

  /** Appends an element as a plain node (RDB loading: quicklistAppendPlainNode). */
  appendPlainNode(bytes: Uint8Array): void {
    this.insertPlainNode(this.tail, bytes, 0, bytes.length, true);
  }

  /** DEBUG OBJECT's quicklist fields, with Redis's spacing and number formats. */
  debugFields(): string {
    let bytes = 0;
    for (let node = this.head; node !== null; node = node.next) bytes += node.sz;
    return (
      ` ql_nodes:${this.len} ql_avg_node:${formatFixed2(this.count / this.len)} ql_listpack_max:${this.fill}` +
      ` ql_compressed:${this.compress !== 0 ? 1 : 0} ql_uncompressed_size:${bytes}`
    );
  }

  /**
   * DEBUG QUICKLIST's printout (Redis 7.0's quicklistRepr): the nodes with their encoding
   * (RAW or LZF) and compression flags, and with full their listpacks or elements. Redis
   * decompresses a node to print it and compresses it again, so the state is left as it was.
   */
  repr(full: boolean): string {
    if (this.open !== null) this.settle();
    const lines = [`{count : ${this.count}}`, `{len : ${this.len}}`, `{fill : ${this.fill}}`, `{compress : ${this.compress}}`, "{bookmark_count : 0}"];
    let index = 0;
    for (let node = this.head; node !== null; node = node.next) {
      lines.push(`{quicklist node(${index++})`);
      lines.push(
        `{container : ${node.plain ? "PLAIN" : "PACKED"}, encoding: ${node.compressed ? "LZF" : "RAW"}, size: ${node.sz},` +
          ` count: ${node.count}, recompress: ${node.recompress ? 1 : 0}, attempted_compress: ${node.attempted ? 1 : 0}}`,
      );
      if (!full) continue;
      const raw = rawBytes(node);
      if (node.plain) lines.push(`{ entry : ${Buffer.from(raw.subarray(0, node.sz)).toString("latin1")} }`);
      else lines.push("{ listpack:", lpRepr(raw, 0, 0).replace(/\n+$/, ""), "}");
      lines.push("}");
    }
    return lines.join("\n") + "\n";
  }

  /**
   * Every element's bytes in order, as latin1 strings (AOF rewrite, tests). Unlike an
   * iteration it leaves every node as it is, as Redis's rewrite in a forked child does.
   */
  toArray(): string[] {
    const out: string[] = [];
    for (let node = this.head; node !== null; node = node.next) {
      const raw = rawBytes(node);
      if (node.plain) {
        out.push(Buffer.from(raw.subarray(0, node.sz)).toString("latin1"));
        continue;
      }
      for (let p = lpFirst(raw, 0); p !== -1; p = lpNext(raw, p)) out.push(lpGetLatin1(raw, p));
    }
    return out;
  }

  /**
   * Checks every invariant: the links both ways, the node and element counts, each
   * listpack's bytes and its size and count against its node. Throws on the first
   * violation.
   */
  validate(): void {
    let nodes = 0;
    let elements = 0;
    let prev: QuicklistNode | null = null;
    for (let node = this.head; node !== null; prev = node, node = node.next) {
      if (node.prev !== prev) throw new Error(`quicklist: node ${nodes} has a wrong prev link`);
      if (node.compressed && (node.prev === null || node.next === null)) throw new Error(`quicklist: end node ${nodes} is compressed`);
      validateNode(node, nodes);
      nodes++;
      elements += node.count;
    }
    if (this.tail !== prev) throw new Error("quicklist: tail is not the last node");
    if (nodes !== this.len) throw new Error(`quicklist: ${nodes} nodes but len says ${this.len}`);
    if (elements !== this.count) throw new Error(`quicklist: ${elements} elements but count says ${this.count}`);
    let bytes = 0;
    for (let node = this.head; node !== null; node = node.next) bytes += NODE_BYTES + node.buf.length;
    if (bytes !== this.nodeBytes) throw new Error(`quicklist: nodes hold ${bytes} bytes but nodeBytes says ${this.nodeBytes}`);
  }
}

/** Where endNode leaves the end entry's position. */
let endPos = -1;
/** Where locate leaves the element's offset in its node. */
let locatedOffset = 0;

/** Where compressNode has liblzf write, before the result is copied out at its size. */
let compressOut = new Uint8Array(8192);

function compressScratch(bytes: number): Uint8Array {
  if (compressOut.length < bytes) compressOut = new Uint8Array(Math.max(bytes, 2 * compressOut.length));
  return compressOut;
}

/** A compressed node's raw bytes, in a new buffer of exactly its size. */
function decompressed(node: QuicklistNode): Uint8Array {
  const raw = new Uint8Array(node.sz);
  if (lzfDecompress(node.buf, 0, node.buf.length, raw, 0, node.sz) !== node.sz) {
    throw new Error("quicklist: a compressed node does not decompress to its size");
  }
  return raw;
}

/** A node's raw bytes for reading without changing its state: buf, or a decompressed copy. */
function rawBytes(node: QuicklistNode): Uint8Array {
  return node.compressed ? decompressed(node) : node.buf;
}

/** The iterator of operations that position themselves (replace, delete range, range reply). */
const scratchIter = new QuicklistIter();

function validateNode(node: QuicklistNode, index: number): void {
  const where = `quicklist: node ${index}`;
  if (node.count < 1) throw new Error(`${where} is empty`);
  const buf = rawBytes(node);
  if (node.plain) {
    if (node.count !== 1 || node.sz !== buf.length) throw new Error(`${where}: a plain node holds one element, all of buf`);
    return;
  }
  const bytes = lpBytes(buf, 0);
  if (bytes !== node.sz) throw new Error(`${where}: sz ${node.sz} but the listpack has ${bytes} bytes`);
  if (!lpValidate(buf, 0, bytes, true)) throw new Error(`${where}: corrupt listpack`);
  const entries = lpLength(buf, 0);
  if (entries !== node.count) throw new Error(`${where}: count ${node.count} but the listpack has ${entries}`);
}

/** Replies with the element at p in node (plain: the whole node) as a bulk string. */
export function addEntryReply(w: ReplyWriter, node: QuicklistNode, p: number): void {
  if (node.plain) w.addBulkView(node.buf, 0, node.sz);
  else lpAddReplyEntry(w, node.buf, p);
}

/**
 * Replies with n elements from p in node toward the tail. Each entry is decoded once:
 * lpGet's `after` is where the next one starts.
 */
function addForwardReply(w: ReplyWriter, node: QuicklistNode, p: number, n: number): void {
  for (;;) {
    if (node.plain) {
      w.addBulkView(node.buf, 0, node.sz);
      if (--n === 0) return;
    } else {
      n = addListpackRun(w, node.buf, p, n, node.sz);
      if (n === 0) return;
    }
    node = node.next!;
    p = node.plain ? -1 : lpFirst(node.buf, 0);
  }
}

/** The longest bulk reply of an entry addListpackRun writes itself: "$63\r\n", 63 bytes, "\r\n". */
const SHORT_ENTRY_REPLY_MAX = 70;

/**
 * Replies with entries of the listpack in buf (sz bytes) from p on, until n are written or
 * the listpack ends; returns how many are left to write. This is LRANGE's inner loop, so
 * the two commonest entries, short strings and 7-bit integers, are written straight into
 * the writer's buffer, in room made for all that are left; others go through
 * lpAddReplyEntry, which makes its own.
 */
function addListpackRun(w: ReplyWriter, buf: Uint8Array, p: number, n: number, sz: number): number {
  // Every entry takes at least 2 bytes, so no more than sz / 2 of them are left here.
  const most = sz >> 1;
  w.ensure((n < most ? n : most) * SHORT_ENTRY_REPLY_MAX);
  let out = w.buf;
  let o = w.len;
  for (;;) {
    const b = buf[p]!;
    if (b === LP_EOF) break;
    if ((b & 0xc0) === 0x80) {
      // A string of up to 63 bytes: $len CRLF bytes CRLF; its backlen is one byte.
      const len = b & 0x3f;
      out[o++] = 36;
      if (len >= 10) out[o++] = 48 + ((len / 10) | 0);
      out[o++] = 48 + (len % 10);
      out[o++] = 13;
      out[o++] = 10;
      const start = p + 1;
      for (let k = 0; k < len; k++) out[o + k] = buf[start + k]!;
      o += len;
      out[o++] = 13;
      out[o++] = 10;
      p = start + len + 1;
    } else if (b < 0x80) {
      // An integer 0..127: its decimal digits as a bulk string.
      const digits = b >= 100 ? 3 : b >= 10 ? 2 : 1;
      out[o++] = 36;
      out[o++] = 48 + digits;
      out[o++] = 13;
      out[o++] = 10;
      if (digits === 3) out[o++] = 49;
      if (digits >= 2) out[o++] = 48 + (((b % 100) / 10) | 0);
      out[o++] = 48 + (b % 10);
      out[o++] = 13;
      out[o++] = 10;
      p += 2;
    } else {
      w.len = o;
      lpAddReplyEntry(w, buf, p);
      p = lpEntry.after;
      w.ensure((n - 1 < most ? n - 1 : most) * SHORT_ENTRY_REPLY_MAX);
      out = w.buf;
      o = w.len;
    }
    if (--n === 0) break;
  }
  w.len = o;
  return n;
}

/** Copies the element at p in node (integers in decimal) into `popped`. */
export function copyEntry(node: QuicklistNode, p: number): void {
  if (node.plain) return setPopped(node.buf, 0, node.sz);
  lpGet(node.buf, p);
  if (!lpEntry.isInt) return setPopped(node.buf, lpEntry.start, lpEntry.len);
  if (popped.bytes.length < 24) popped.bytes = new Uint8Array(64);
  popped.len = formatInt64(lpEntry.isBig ? lpEntry.big : lpEntry.int, popped.bytes, 0);
}

function setPopped(src: Uint8Array, start: number, len: number): void {
  if (popped.bytes.length < len) popped.bytes = new Uint8Array(len + (len >> 1));
  popped.bytes.set(src.subarray(start, start + len));
  popped.len = len;
}

/**
 * printf's "%.2f" of v >= 0: JavaScript's toFixed except on exact ties (a double that is
 * an odd number of eighths), which glibc rounds to the even hundredth where toFixed rounds up.
 */
export function formatFixed2(v: number): string {
  const eighths = v * 8;
  if (!Number.isInteger(eighths) || eighths % 2 === 0) return v.toFixed(2);
  const hundredths = Math.floor(v * 100);
  return ((hundredths % 2 === 0 ? hundredths : hundredths + 1) / 100).toFixed(2);
}
