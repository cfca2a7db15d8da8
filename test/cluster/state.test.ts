// A node's slot ranges (CLUSTER NODES, nodes.conf, CLUSTER SHARDS) read from its bitmap a
// byte at a time where it can: the ranges must be those a slot-by-slot walk finds.

import { expect, test } from "bun:test";
import { ClusterNode, NodeFlag } from "../../src/cluster/state.ts";
import { CLUSTER_SLOTS } from "../../src/cluster/slots.ts";
import { rng } from "../oracle/harness.ts";

function naiveRanges(node: ClusterNode): [number, number][] {
  const ranges: [number, number][] = [];
  let start = -1;
  for (let slot = 0; slot <= CLUSTER_SLOTS; slot++) {
    const owned = slot < CLUSTER_SLOTS && node.ownsSlot(slot);
    if (owned && start < 0) start = slot;
    else if (!owned && start >= 0) {
      ranges.push([start, slot - 1]);
      start = -1;
    }
  }
  return ranges;
}

test("slot ranges match a slot-by-slot walk for sparse, dense and edge bitmaps", () => {
  const random = rng(Number(process.env.SEED ?? 11));
  const shapes: ((slot: number) => boolean)[] = [
    () => false,
    () => true,
    (s) => s === 0 || s === CLUSTER_SLOTS - 1,
    (s) => s >= 5461 && s <= 10922,
    (s) => s % 7 === 0,
    () => random() < 0.02,
    () => random() < 0.5,
    () => random() < 0.98,
    (s) => (s >= 8 && s < 16) || s === 17 || (s >= 16370 && s < 16384),
  ];
  for (const owned of shapes) {
    const node = new ClusterNode("n".repeat(40), NodeFlag.Master);
    for (let slot = 0; slot < CLUSTER_SLOTS; slot++) if (owned(slot)) node.addSlotBit(slot);
    expect(node.slotRanges()).toEqual(naiveRanges(node));
  }
});
