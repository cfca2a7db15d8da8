// The quicklist on its own: seeded random edits checked against a plain array after every
// step (with validate() checking the nodes' links, counts and listpacks), for every kind of
// fill and with plain nodes; then the node boundaries Redis's estimates give, and dup.
// Node counts against the real server are checked in test/commands/list.test.ts.

import { afterEach, describe, expect, test } from "bun:test";
import {
  LIST_HEAD,
  LIST_TAIL,
  Quicklist,
  QuicklistIter,
  copyEntry,
  formatFixed2,
  popped,
  QuicklistLimits,
} from "../../src/encoding/quicklist.ts";
import { ReplyWriter } from "../../src/resp/writer.ts";
import { lpSeek } from "../../src/encoding/listpack.ts";
import { rng, withSeed } from "../oracle/harness.ts";

type Random = () => number;

const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "latin1"));
const text = (b: Uint8Array, len: number): string => Buffer.from(b.subarray(0, len)).toString("latin1");

/** The element under it, as a latin1 string; its offset and byte position must agree. */
function entryAt(it: QuicklistIter): string {
  const node = it.node!;
  expect(it.offset).toBeGreaterThanOrEqual(0);
  expect(it.offset).toBeLessThan(node.count);
  if (!node.plain) expect(it.p).toBe(lpSeek(node.buf, 0, it.offset));
  copyEntry(node, it.p);
  return text(popped.bytes, popped.len);
}

function pushAll(list: Quicklist, where: typeof LIST_HEAD | typeof LIST_TAIL, values: string[]): void {
  for (const v of values) {
    const b = bytes(v);
    list.push(where, b, 0, b.length);
  }
}

const INTEGERS = ["0", "1", "-1", "127", "128", "-4096", "4095", "32767", "-32769", "8388607", "-2147483648", "2147483648",
  "9007199254740993", "9223372036854775807", "-9223372036854775808"];
const NOT_INTEGERS = ["", "-0", "01", "+1", " 1", "9223372036854775808", "1.5", "\x00", "\xff\xfe", "a\r\nb"];

/** A random element: integers of every encoding, strings that look like integers, and long ones. */
function randomElement(r: Random): string {
  const x = r();
  if (x < 0.25) return INTEGERS[Math.floor(r() * INTEGERS.length)]!;
  if (x < 0.35) return NOT_INTEGERS[Math.floor(r() * NOT_INTEGERS.length)]!;
  if (x < 0.45) return String(Math.floor((r() - 0.5) * 2 ** (1 + Math.floor(r() * 52))));
  const len = x < 0.9 ? Math.floor(r() * 20) : [63, 64, 200, 1000, 4095, 4096, 9000][Math.floor(r() * 7)]!;
  let s = "";
  for (let i = 0; i < len; i++) s += String.fromCharCode(Math.floor(r() * 256));
  return s;
}

/** One random edit applied to both the list and the model. */
function randomEdit(r: Random, list: Quicklist, model: string[]): void {
  const op = Math.floor(r() * 9);
  const n = model.length;
  const element = randomElement(r);
  const b = bytes(element);
  if (op <= 1 || n === 0) {
    const where = r() < 0.5 ? LIST_HEAD : LIST_TAIL;
    list.push(where, b, 0, b.length);
    if (where === LIST_HEAD) model.unshift(element);
    else model.push(element);
    return;
  }
  const i = Math.floor(r() * n);
  switch (op) {
    case 2: {
      const where = r() < 0.5 ? LIST_HEAD : LIST_TAIL;
      list.popTo(where);
      expect(text(popped.bytes, popped.len)).toBe(where === LIST_HEAD ? model.shift()! : model.pop()!);
      return;
    }
    case 3: {
      const it = new QuicklistIter();
      list.seek(i, true, it);
      const after = r() < 0.5;
      list.insertAt(it, after, b, 0, b.length);
      model.splice(after ? i + 1 : i, 0, element);
      return;
    }
    case 4:
      list.replaceAt(i, b, 0, b.length);
      model[i] = element;
      return;
    case 5: {
      const count = Math.min(n - i, Math.floor(r() * (r() < 0.2 ? n + 1 : 4)));
      list.deleteRange(i, count);
      model.splice(i, count);
      return;
    }
    case 6:
      return deleteWhileIterating(r, list, model, i);
    default:
      return checkIteration(r, list, model, i);
  }
}

/** Walks from index i in a random direction, deleting some elements on the way. */
function deleteWhileIterating(r: Random, list: Quicklist, model: string[], i: number): void {
  const forward = r() < 0.5;
  const it = new QuicklistIter();
  list.seek(i, forward, it);
  let at = i;
  for (let steps = Math.floor(r() * 10); steps > 0 && it.valid; steps--) {
    expect(entryAt(it)).toBe(model[at]!);
    if (r() < 0.5) {
      list.deleteAt(it);
      model.splice(at, 1);
      if (!forward) at--;
    } else {
      list.advance(it);
      at += forward ? 1 : -1;
    }
  }
}

/** Reads a stretch from index i both ways, element by element and as a range reply. */
function checkIteration(r: Random, list: Quicklist, model: string[], i: number): void {
  const forward = r() < 0.5;
  const it = new QuicklistIter();
  const seen: string[] = [];
  for (list.seek(i, forward, it); it.valid && seen.length < 30; list.advance(it)) seen.push(entryAt(it));
  const want = forward ? model.slice(i, i + 30) : model.slice(Math.max(0, i - 29), i + 1).reverse();
  expect(seen).toEqual(want);
  const w = new ReplyWriter(16);
  list.addRangeReply(w, i, want.length, !forward);
  expect(text(w.buf, w.len)).toBe(want.map((s) => `$${s.length}\r\n${s}\r\n`).join(""));
}

/** The packed threshold of the lists made here, as a server holds its own. */
const limits = new QuicklistLimits();

afterEach(() => {
  limits.setPackedThreshold(0);
});

describe("random edits against an array", () => {
  const FILLS = [-1, -2, -3, -4, -5, 1, 2, 3, 7, 128];
  for (const fill of FILLS) {
    test(`fill ${fill}`, () => {
      withSeed(`quicklist fill ${fill}`, (r) => {
        const list = new Quicklist(fill, 0, limits);
        const model: string[] = [];
        for (let step = 0; step < 1500; step++) {
          randomEdit(r, list, model);
          list.validate();
          expect(list.count).toBe(model.length);
        }
        expect(list.toArray()).toEqual(model);
      });
    });
  }

  test("plain nodes for elements at or above the packed threshold", () => {
    withSeed("quicklist plain nodes", (r) => {
      expect(limits.setPackedThreshold(40)).toBe(true);
      for (const fill of [-2, 3]) {
        const list = new Quicklist(fill, 0, limits);
        const model: string[] = [];
        let plainSeen = 0;
        for (let step = 0; step < 1500; step++) {
          randomEdit(r, list, model);
          list.validate();
          for (let node = list.head; node !== null; node = node.next) if (node.plain) plainSeen++;
        }
        expect(list.toArray()).toEqual(model);
        expect(plainSeen).toBeGreaterThan(0);
      }
    });
  });
});

describe("node boundaries", () => {
  /** The element count of each node, head first. */
  const shape = (list: Quicklist): number[] => {
    const counts: number[] = [];
    for (let node = list.head; node !== null; node = node.next) counts.push(node.count);
    return counts;
  };

  test("a byte-limited node takes elements while its size plus the estimate stays within the limit", () => {
    // Each "xxx" entry takes 5 bytes: 7 + 5 * 1635 = 8182, and 8182 + 3 + 8 <= 8192.
    const list = new Quicklist(-2, 0, limits);
    pushAll(list, LIST_TAIL, Array(1635).fill("xxx"));
    expect(shape(list)).toEqual([1635]);
    pushAll(list, LIST_TAIL, ["xxx"]);
    expect(shape(list)).toEqual([1635, 1]);
    expect(list.debugFields()).toBe(" ql_nodes:2 ql_avg_node:818.00 ql_listpack_max:-2 ql_compressed:0 ql_uncompressed_size:8194");
  });

  test("a count-limited node holds fill elements, and never more than 8 KB", () => {
    const list = new Quicklist(3, 1, limits);
    pushAll(list, LIST_HEAD, ["a", "b", "c", "d", "e", "f", "g"]);
    expect(shape(list)).toEqual([1, 3, 3]);
    const big = new Quicklist(100, 0, limits);
    pushAll(big, LIST_TAIL, Array(5).fill("y".repeat(3000)));
    expect(shape(big)).toEqual([2, 2, 1]);
  });

  test("fill and compress depth are clamped to Redis's ranges", () => {
    expect(new Quicklist(-100, -3).debugFields()).toContain("ql_listpack_max:-5 ql_compressed:0");
    expect(new Quicklist(1 << 20, 1 << 20).debugFields()).toContain("ql_listpack_max:32767 ql_compressed:1");
  });

  test("inserting into a full node splits it and merges the halves with their neighbours", () => {
    const list = new Quicklist(4, 0, limits);
    pushAll(list, LIST_TAIL, ["1", "2", "3", "4", "5", "6", "7", "8"]);
    expect(shape(list)).toEqual([4, 4]);
    const it = new QuicklistIter();
    list.seek(1, true, it);
    list.insertAt(it, true, bytes("x"), 0, 1);
    expect(list.toArray()).toEqual(["1", "2", "x", "3", "4", "5", "6", "7", "8"]);
    expect(shape(list)).toEqual([2, 3, 4]);
    list.validate();
  });

  test("an element replaced by a large one moves to a plain node between the halves", () => {
    limits.setPackedThreshold(10);
    const list = new Quicklist(-2, 0, limits);
    pushAll(list, LIST_TAIL, ["a", "b", "c", "d"]);
    list.replaceAt(1, bytes("long element"), 0, 12);
    expect(shape(list)).toEqual([1, 1, 2]);
    expect(list.head!.next!.plain).toBe(true);
    list.replaceAt(1, bytes("B"), 0, 1);
    expect(list.toArray()).toEqual(["a", "B", "c", "d"]);
    list.validate();
  });

  test("the packed threshold refuses values near 4 GB and restores the default at 0", () => {
    expect(limits.setPackedThreshold(2 ** 32 - 2 ** 20 + 1)).toBe(false);
    expect(limits.setPackedThreshold(2 ** 32 - 2 ** 20)).toBe(true);
    expect(limits.setPackedThreshold(0)).toBe(true);
    const list = new Quicklist(-2, 0, limits);
    pushAll(list, LIST_TAIL, ["z".repeat(100_000)]);
    expect(list.head!.plain).toBe(false);
  });
});

describe("dup", () => {
  test("copies every node, and the copy changes alone", () => {
    const r = rng(7);
    limits.setPackedThreshold(50);
    const list = new Quicklist(5, 0, limits);
    const model: string[] = [];
    for (let i = 0; i < 300; i++) randomEdit(r, list, model);
    const copy = list.dup();
    copy.validate();
    expect(copy.toArray()).toEqual(model);
    expect(copy.debugFields()).toBe(list.debugFields());
    copy.popTo(LIST_HEAD);
    pushAll(copy, LIST_TAIL, ["new"]);
    expect(list.toArray()).toEqual(model);
    list.validate();
  });
});

test("DEBUG OBJECT's averages round as printf's %.2f does", () => {
  expect(formatFixed2(1)).toBe("1.00");
  expect(formatFixed2(9 / 8)).toBe("1.12");
  expect(formatFixed2(11 / 8)).toBe("1.38");
  expect(formatFixed2(13 / 8)).toBe("1.62");
  expect(formatFixed2(15 / 8)).toBe("1.88");
  expect(formatFixed2(2 / 3)).toBe("0.67");
  expect(formatFixed2(1635 / 2)).toBe("817.50");
});
