// The replication backlog (Redis's repl_backlog): the last `repl-backlog-size` bytes of the
// replication stream, kept in a ring so that a replica that lost its link can be sent only
// what it missed (PSYNC answered +CONTINUE) instead of the whole dataset again.
//
// Offsets are stream offsets as Redis counts them: the stream's first byte is offset 1, and
// master_repl_offset is the offset of the last byte produced. A replica that has processed
// up to offset N asks PSYNC with N + 1, the first byte it wants.

export class ReplicationBacklog {
  private ring: Uint8Array;
  /** Where the next byte goes in the ring. */
  private writeAt = 0;
  /** Bytes of history held: at most the ring's size. */
  histlen = 0;
  /** Offset of the last byte appended (the server's master_repl_offset). */
  endOffset: number;

  constructor(size: number, endOffset: number) {
    this.ring = new Uint8Array(size);
    this.endOffset = endOffset;
  }

  get size(): number {
    return this.ring.length;
  }

  /** Offset of the oldest byte held (INFO repl_backlog_first_byte_offset). */
  get firstByteOffset(): number {
    return this.endOffset - this.histlen + 1;
  }

  append(bytes: Uint8Array): void {
    const ring = this.ring;
    const size = ring.length;
    let src = bytes;
    // Only the last `size` bytes of a write larger than the ring can stay.
    if (src.length > size) src = src.subarray(src.length - size);
    const first = Math.min(src.length, size - this.writeAt);
    ring.set(src.subarray(0, first), this.writeAt);
    if (first < src.length) ring.set(src.subarray(first), 0);
    this.writeAt = (this.writeAt + src.length) % size;
    this.histlen = Math.min(size, this.histlen + bytes.length);
    this.endOffset += bytes.length;
  }

  /** Whether a replica asking for `offset` (its first wanted byte) can be continued from here. */
  covers(offset: number): boolean {
    return offset >= this.firstByteOffset && offset <= this.endOffset + 1;
  }

  /** The bytes from `offset` (covered) to the end, copied out of the ring. */
  bytesFrom(offset: number): Uint8Array {
    const n = this.endOffset + 1 - offset;
    const out = new Uint8Array(n);
    const size = this.ring.length;
    let from = (this.writeAt - n + size) % size;
    const first = Math.min(n, size - from);
    out.set(this.ring.subarray(from, from + first), 0);
    from = 0;
    if (first < n) out.set(this.ring.subarray(0, n - first), first);
    return out;
  }

  /** CONFIG SET repl-backlog-size: a new ring holding as much of the history as fits. */
  resize(size: number): void {
    if (size === this.ring.length) return;
    const kept = Math.min(this.histlen, size);
    const history = this.bytesFrom(this.endOffset + 1 - kept);
    this.ring = new Uint8Array(size);
    this.ring.set(history, 0);
    this.writeAt = kept % size;
    this.histlen = kept;
  }
}
