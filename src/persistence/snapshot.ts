/**
 * A point-in-time view of every database for a background save (BGSAVE, BGREWRITEAOF)
 * that is written a slice at a time between turns of the event loop.
 *
 * Redis forks: the child sees memory as it was, and the kernel copies a page before the
 * parent's first write to it. Here the copy is made per key instead: the snapshot owes
 * every key that was live when it began, and a key that is about to change or go is
 * written out first, as it still is (`beforeChange`). What the slices then write is, key
 * by key, the dataset as it was at the start, at the price of writing a changed key out
 * of turn (a writer emits SELECTDB as needed; the RDB and AOF formats allow that).
 *
 * Keys are owed by (table, id): a bitmap per database marks the ids live at the start.
 * A key created later has an id that was free then (never owed), or one recycled from a
 * key that went, which was written before it went. FLUSHDB and FLUSHALL give the database
 * a new table and leave the old one to the snapshot (`detach`), and SWAPDB swaps tables:
 * keys stay owed by their table, under the database number it had at the start.
 */

import type { KeyTable } from "../store/keytable.ts";

/** Where a snapshot's keys go (an RDB writer, an AOF rewriter). */
export interface SnapshotWriter {
  /** Writes key `id` of `table`, which was database `dbIndex` when the snapshot began. */
  writeKey(dbIndex: number, table: KeyTable, id: number): void;
}

export class Snapshot {
  /** Per database number at the start: the table it had, never replaced after. */
  readonly tables: readonly KeyTable[];
  /** Per database: owed[id] is 1 while the key with that id is still to be written. */
  private readonly owed: Uint8Array[];
  /** Per database: where the next slice resumes its scan of ids. */
  private readonly cursors: number[];
  /** Keys live at the start (INFO current_save_keys_total). */
  readonly keysTotal: number;
  /** Keys written so far, in turn or out of it (INFO current_save_keys_processed). */
  keysWritten = 0;
  /** Set by the owner once it has taken the writer's attention (see attach). */
  private writer: SnapshotWriter | null = null;

  constructor(tables: readonly KeyTable[]) {
    this.tables = tables.slice();
    this.owed = [];
    this.cursors = [];
    let total = 0;
    for (const table of this.tables) {
      const owed = new Uint8Array(table.idLimit);
      total += table.markLive(owed);
      this.owed.push(owed);
      this.cursors.push(0);
    }
    this.keysTotal = total;
  }

  /** The writer that keys changed out of turn go to. */
  attach(writer: SnapshotWriter): void {
    this.writer = writer;
  }

  /**
   * Key `id` of `table` is about to change (value, time to live) or to be deleted: if the
   * snapshot still owes it, it is written now, as it still is.
   */
  beforeChange(table: KeyTable, id: number): void {
    const dbIndex = this.tables.indexOf(table);
    if (dbIndex < 0) return;
    const owed = this.owed[dbIndex]!;
    if (id >= owed.length || owed[id] === 0) return;
    owed[id] = 0;
    this.keysWritten++;
    this.writer!.writeKey(dbIndex, table, id);
  }

  /**
   * The next owed id of database `dbIndex` in id order, now counted as written (the caller
   * writes it before anything can change it), or -1 when the database owes nothing more.
   */
  takeNext(dbIndex: number): number {
    const owed = this.owed[dbIndex]!;
    for (let id = this.cursors[dbIndex]!; id < owed.length; id++) {
      if (owed[id] === 1) {
        owed[id] = 0;
        this.cursors[dbIndex] = id + 1;
        this.keysWritten++;
        return id;
      }
    }
    this.cursors[dbIndex] = owed.length;
    return -1;
  }
}
