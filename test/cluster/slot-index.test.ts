// The index of keys by slot stays what a walk of the whole key table would find, through
// random inserts and deletes, a compaction that renumbers the ids, and a clear.

import { expect, test } from "bun:test";
import { KeyTable } from "../../src/store/keytable.ts";
import { SlotIndex } from "../../src/cluster/slot-index.ts";
import { CLUSTER_SLOTS, keyHashSlot } from "../../src/cluster/slots.ts";
import { rng } from "../oracle/harness.ts";

/** Slot -> key names, by walking the table. */
function walk(table: KeyTable): Map<number, string[]> {
  const bySlot = new Map<number, string[]>();
  for (let id = 0; id < table.idLimit; id++) {
    if (!table.isLive(id)) continue;
    const slot = keyHashSlot(table.keyPage(id), table.keyOffset(id), table.keyLength(id));
    bySlot.set(slot, [...(bySlot.get(slot) ?? []), table.keyString(id)]);
  }
  return bySlot;
}

function expectConsistent(table: KeyTable, index: SlotIndex): void {
  const expected = walk(table);
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
    const want = (expected.get(slot) ?? []).sort();
    const got: string[] = [];
    index.forEachKey(slot, (id) => {
      got.push(table.keyString(id));
      return true;
    });
    expect(got.sort()).toEqual(want);
    expect(index.countKeys(slot)).toBe(want.length);
  }
}

test("the slot index follows inserts, deletes, compaction and clear", () => {
  const random = rng(Number(process.env.SEED ?? 7));
  const table = new KeyTable();
  // Keys inserted before the index exists are indexed when it is made.
  for (let i = 0; i < 200; i++) table.insertString(`pre:${i}`);
  const index = new SlotIndex(table);
  table.observer = index;
  const live = new Set<string>();
  for (let i = 0; i < 200; i++) live.add(`pre:${i}`);
  for (let step = 0; step < 5000; step++) {
    const key = `k:{${Math.floor(random() * 300)}}:${Math.floor(random() * 20)}`;
    if (live.has(key)) {
      table.delete(table.findString(key));
      live.delete(key);
    } else {
      table.insertString(key);
      live.add(key);
    }
  }
  expectConsistent(table, index);
  // Deleting most keys lets the table renumber its ids.
  for (const key of [...live].slice(0, live.size - 20)) {
    table.delete(table.findString(key));
    live.delete(key);
  }
  expect(table.compactIfSparse()).toBe(true);
  expectConsistent(table, index);
  for (let i = 0; i < 50; i++) table.insertString(`after:${i}`);
  expectConsistent(table, index);
  table.clear();
  expectConsistent(table, index);
  table.insertString("{x}last");
  expectConsistent(table, index);
});
