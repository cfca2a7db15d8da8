// The keys of database 0 by hash slot (Redis's slots_to_keys), kept as keys come and go, so
// that CLUSTER COUNTKEYSINSLOT is a read and CLUSTER GETKEYSINSLOT walks only the slot's
// keys: `redis-cli --cluster reshard` asks both for every slot it moves.
//
// The key table tells it of every insert and delete (KeyTableObserver); per key id it keeps
// the slot and a place in its slot's doubly linked list. A table that renumbers its ids
// (compactIfSparse) or empties is indexed anew.

import type { KeyTable, KeyTableObserver } from "../store/keytable.ts";
import { CLUSTER_SLOTS, keyHashSlot } from "./slots.ts";

const NONE = -1;

export class SlotIndex implements KeyTableObserver {
  /** Keys per slot. */
  private readonly counts = new Int32Array(CLUSTER_SLOTS);
  /** Per slot, the first key id of its list. */
  private readonly heads = new Int32Array(CLUSTER_SLOTS).fill(NONE);
  /** Per key id: its slot (NONE when free), and its neighbours in the slot's list. */
  private slotOf = new Int32Array(0);
  private next = new Int32Array(0);
  private prev = new Int32Array(0);

  constructor(table: KeyTable) {
    this.reindex(table);
  }

  countKeys(slot: number): number {
    return this.counts[slot]!;
  }

  /** Calls `visit` with each key id of `slot` until it returns false. */
  forEachKey(slot: number, visit: (id: number) => boolean): void {
    for (let id = this.heads[slot]!; id !== NONE; ) {
      const following = this.next[id]!;
      if (!visit(id)) return;
      id = following;
    }
  }

  inserted(id: number, buf: Uint8Array, start: number, len: number): void {
    this.reserve(id);
    const slot = keyHashSlot(buf, start, len);
    this.slotOf[id] = slot;
    const head = this.heads[slot]!;
    this.next[id] = head;
    this.prev[id] = NONE;
    if (head !== NONE) this.prev[head] = id;
    this.heads[slot] = id;
    this.counts[slot]!++;
  }

  deleted(id: number): void {
    const slot = this.slotOf[id]!;
    if (slot === NONE) return;
    const before = this.prev[id]!;
    const after = this.next[id]!;
    if (before !== NONE) this.next[before] = after;
    else this.heads[slot] = after;
    if (after !== NONE) this.prev[after] = before;
    this.slotOf[id] = NONE;
    this.counts[slot]!--;
  }

  /** The table emptied, renumbered its ids, or was replaced: index it all again. */
  reindex(table: KeyTable): void {
    this.counts.fill(0);
    this.heads.fill(NONE);
    this.slotOf = new Int32Array(0);
    this.next = new Int32Array(0);
    this.prev = new Int32Array(0);
    const limit = table.idLimit;
    for (let id = 0; id < limit; id++) {
      if (table.isLive(id)) this.inserted(id, table.keyPage(id), table.keyOffset(id), table.keyLength(id));
    }
  }

  /** Room for key id `id` in the per-id arrays. */
  private reserve(id: number): void {
    if (id < this.slotOf.length) return;
    let size = Math.max(64, this.slotOf.length * 2);
    while (size <= id) size *= 2;
    const grow = (old: Int32Array) => {
      const bigger = new Int32Array(size).fill(NONE);
      bigger.set(old);
      return bigger;
    };
    this.slotOf = grow(this.slotOf);
    this.next = grow(this.next);
    this.prev = grow(this.prev);
  }
}
