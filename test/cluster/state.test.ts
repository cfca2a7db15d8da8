// A node's slot ranges (CLUSTER NODES, nodes.conf, CLUSTER SHARDS) read from its bitmap a
// byte at a time where it can: the ranges must be those a slot-by-slot walk finds. And
// nodes.conf saved both ways (in place, or replaced by rename) reads back the same state.

import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadNodesConf, saveNodesConf } from "../../src/cluster/nodes-conf.ts";
import { ClusterNode, ClusterState, NodeFlag } from "../../src/cluster/state.ts";
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

test("nodes.conf written in place over a longer file, or replaced, loads the state saved", () => {
  const dir = mkdtempSync(join(tmpdir(), "redbun-nodes-conf-"));
  try {
    const path = join(dir, "nodes.conf");
    const myself = new ClusterNode("a".repeat(40), NodeFlag.Myself | NodeFlag.Master, "127.0.0.1", 7000, 17000);
    const state = new ClusterState(myself);
    const other = new ClusterNode("b".repeat(40), NodeFlag.Master, "127.0.0.1", 7001, 17001);
    state.addNode(other);
    for (let slot = 0; slot < 100; slot += 2) state.addSlot(slot, myself);
    state.currentEpoch = 7;
    const connected = () => true;
    // The first save has no file to write into; a later, shorter one is written in place.
    saveNodesConf(path, state, connected, false);
    const long = readFileSync(path, "latin1");
    for (let slot = 0; slot < 100; slot += 2) state.deleteSlot(slot);
    state.addSlot(5, other);
    saveNodesConf(path, state, connected, false);
    const short = readFileSync(path, "latin1");
    expect(short.length).toBeLessThan(long.length);
    expect(short).not.toContain("\n\n");
    const loaded = loadNodesConf(path)!;
    expect(loaded.currentEpoch).toBe(7);
    expect(loaded.slotOwners[5]?.name).toBe(other.name);
    expect(loaded.myself.numSlots).toBe(0);
    // A synced save replaces the file by rename and leaves no temp file behind.
    state.lastVoteEpoch = 7;
    saveNodesConf(path, state, connected, true);
    expect(readFileSync(path, "latin1")).toEndWith("vars currentEpoch 7 lastVoteEpoch 7\n");
    expect(loadNodesConf(path)!.lastVoteEpoch).toBe(7);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
