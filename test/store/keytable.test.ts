import { describe, expect, test } from "bun:test";
import { INLINE_MAX, KeyTable, ValueKind } from "../../src/store/keytable.ts";
import { hashBytes } from "../../src/util/hash.ts";
import { rng } from "../oracle/harness.ts";

/** Runs body with a seed from SEED or a random one, printed on failure so the run can be replayed. */
function withSeed(body: (random: () => number) => void): void {
  const seed = process.env.SEED ? Number(process.env.SEED) : (Math.random() * 2 ** 32) >>> 0;
  try {
    body(rng(seed));
  } catch (error) {
    console.error(`keytable test failed with SEED=${seed}`);
    throw error;
  }
}

const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const text = (b: Uint8Array): string => String.fromCharCode(...b);

/** A random binary key of 0..maxLength bytes, as a latin1 string. */
function randomKey(random: () => number, maxLength: number): string {
  const length = Math.floor(random() * (maxLength + 1));
  let key = "";
  for (let i = 0; i < length; i++) key += String.fromCharCode(Math.floor(random() * 256));
  return key;
}

function filled(count: number, prefix = "key:"): KeyTable {
  const table = new KeyTable();
  for (let i = 0; i < count; i++) table.insertString(prefix + i);
  return table;
}

/** Scans to completion, calling between(step) before every call after the first; returns the keys seen. */
function scanAll(table: KeyTable, between: (step: number) => void = () => {}): string[] {
  const seen: string[] = [];
  let cursor = 0;
  let step = 0;
  do {
    if (step > 0) between(step);
    cursor = table.scan(cursor, (id) => seen.push(table.keyString(id)));
    step++;
    expect(step).toBeLessThan(1 << 22);
  } while (cursor !== 0);
  return seen;
}

/** The value of id as the model keeps it: a string of bytes, a number, or the object. */
function valueOf(table: KeyTable, id: number): unknown {
  const kind = table.valueKind(id);
  if (kind === ValueKind.Bytes) return text(table.valueBytes(id));
  if (kind === ValueKind.Number) return table.getNumber(id);
  return table.getObject(id);
}

describe("hashBytes", () => {
  test("is a deterministic signed 32-bit integer that depends on the bytes only", () => {
    const buf = bytes("xxkey:1yy");
    const hash = hashBytes(buf, 2, 5);
    expect(hash).toBe(hash | 0);
    expect(hashBytes(bytes("key:1"), 0, 5)).toBe(hash);
  });

  test("sees every byte, including trailing zero bytes", () => {
    const keys = ["", "\x00", "\x00\x00", "\x00\x00\x00", "\x00\x00\x00\x00", "a", "a\x00", "\xff", "\xff\x00", "abcd", "abcde"];
    expect(new Set(keys.map((k) => hashBytes(bytes(k), 0, k.length))).size).toBe(keys.length);
  });

  test("spreads sequential keys evenly over slots", () => {
    const slotCount = 1 << 16;
    const loads = new Uint16Array(slotCount);
    for (let i = 0; i < slotCount; i++) {
      const key = bytes(`key:${i}`);
      loads[hashBytes(key, 0, key.length) & (slotCount - 1)]!++;
    }
    const used = loads.filter((load) => load > 0).length;
    // A uniform hash fills 1 - 1/e (63.2%) of the slots.
    expect(used / slotCount).toBeGreaterThan(0.62);
    expect(used / slotCount).toBeLessThan(0.645);
    expect(Math.max(...loads)).toBeLessThan(13);
  });
});

describe("KeyTable keys", () => {
  test("insert, find, delete and size", () => {
    const table = new KeyTable();
    expect(table.size).toBe(0);
    expect(table.findString("a")).toBe(-1);
    const a = table.insertString("a");
    const b = table.insert(bytes("--b--"), 2, 1);
    expect(table.size).toBe(2);
    expect(a).not.toBe(b);
    expect(table.findString("a")).toBe(a);
    expect(table.find(bytes("xab"), 2, 1)).toBe(b);
    expect(table.find(bytes("ab"), 0, 2)).toBe(-1);
    expect(table.keyEquals(b, bytes("xb"), 1, 1)).toBe(true);
    expect(table.keyEquals(b, bytes("xb"), 0, 2)).toBe(false);
    expect(table.isLive(a)).toBe(true);
    table.delete(a);
    expect(table.isLive(a)).toBe(false);
    expect(table.findString("a")).toBe(-1);
    expect(table.findString("b")).toBe(b);
    expect(table.size).toBe(1);
    expect(() => table.delete(a)).toThrow(/not live/);
    table.validate();
  });

  test("findHashed and insertHashed take a hash from hashBytes", () => {
    const table = new KeyTable();
    const key = bytes("hashed");
    const hash = hashBytes(key, 0, key.length);
    expect(table.findHashed(hash, key, 0, key.length)).toBe(-1);
    const id = table.insertHashed(hash, key, 0, key.length);
    expect(table.findHashed(hash, key, 0, key.length)).toBe(id);
    expect(table.hashOf(id)).toBe(hash);
    table.validate();
  });

  test("ids are recycled after delete and stay stable while the entry lives", () => {
    const table = filled(100);
    const id = table.findString("key:42");
    table.delete(id);
    const again = table.insertString("other");
    expect(again).toBe(id);
    for (let i = 100; i < 5000; i++) table.insertString(`key:${i}`);
    expect(table.findString("other")).toBe(again);
    expect(table.idLimit).toBe(5000);
    table.validate();
  });

  test("binary and long keys are exact", () => {
    const table = new KeyTable();
    const keys = ["", "\x00", "\x00\x00", "\xff\x00", "\xff", "\x00\xff", "a\x00", "a", "x".repeat(254), "y".repeat(255), "z".repeat(256)];
    // The largest key a shared page holds, then keys that need dedicated pages.
    keys.push("r".repeat(65_528), "k".repeat(1024), "\x00".repeat(100 * 1024), "q".repeat(65_529), "L".repeat(2 * 1024 * 1024 + 3));
    const ids = keys.map((key) => table.insertString(key));
    keys.forEach((key, i) => {
      expect(table.findString(key)).toBe(ids[i]!);
      expect(table.keyLength(ids[i]!)).toBe(key.length);
      expect(table.keyString(ids[i]!)).toBe(key);
      expect(text(table.keyBytes(ids[i]!).subarray(0, 8))).toBe(key.slice(0, 8));
    });
    expect(table.findString("\x00".repeat(100 * 1024 - 1))).toBe(-1);
    expect(table.findString("L".repeat(2 * 1024 * 1024 + 2) + "M")).toBe(-1);
    table.validate();
    table.delete(ids[keys.indexOf("\x00")]!);
    expect(table.findString("\x00\x00")).toBe(ids[2]!);
    expect(table.findString("")).toBe(ids[0]!);
    for (const id of ids.slice(-4)) table.delete(id);
    table.validate();
    expect(table.memory().pageBytes).toBe(1 << 20);
  });

  test("latin1 strings with a char above 255 are never found and cannot be inserted", () => {
    const table = filled(10);
    expect(table.findString("key:\u0131")).toBe(-1);
    expect(() => table.insertString("\u0100")).toThrow(RangeError);
  });

  test("the index grows above 3/4 load and shrinks below 1/8", () => {
    const table = new KeyTable();
    expect(table.indexSlots).toBe(16);
    for (let i = 0; i < 12; i++) table.insertString(`k${i}`);
    expect(table.indexSlots).toBe(16);
    table.insertString("k12");
    expect(table.indexSlots).toBe(32);
    for (let i = 13; i < 3000; i++) table.insertString(`k${i}`);
    expect(table.indexSlots).toBe(4096);
    for (let i = 2999; i >= 512; i--) table.delete(table.findString(`k${i}`));
    expect(table.indexSlots).toBe(4096);
    table.delete(table.findString("k511"));
    expect(table.indexSlots).toBe(1024);
    table.validate();
    for (let i = 510; i >= 0; i--) table.delete(table.findString(`k${i}`));
    expect(table.indexSlots).toBe(16);
    expect(table.size).toBe(0);
    table.validate();
  });

  test("a table shrunk below an eighth of its ids compacts them; keys, values and expiry survive", () => {
    withSeed((random) => {
      const table = new KeyTable();
      const model = new Map<string, [unknown, number]>();
      for (let i = 0; i < 20000; i++) {
        const key = `k${i}`;
        const id = table.insertString(key);
        const kind = i % 3;
        const value = kind === 0 ? `v${i}` : kind === 1 ? i * 1.5 : { object: i };
        if (kind === 0) table.setBytes(id, bytes(value as string), 0, (value as string).length);
        else if (kind === 1) table.setNumber(id, value as number);
        else table.setObject(id, value);
        const when = i % 2 === 0 ? 1_000_000 + i : -1;
        if (when >= 0) table.setExpire(id, when);
        model.set(key, [value, when]);
      }
      expect(table.compactIfSparse()).toBe(false);
      for (const key of [...model.keys()]) {
        if (random() < 0.95) {
          table.delete(table.findString(key));
          model.delete(key);
        }
      }
      expect(table.compactIfSparse()).toBe(true);
      table.validate();
      expect(table.idLimit).toBe(model.size);
      for (const [key, [value, when]] of model) {
        const id = table.findString(key);
        expect(id).toBeGreaterThanOrEqual(0);
        expect(valueOf(table, id)).toEqual(value);
        expect(table.expireAt(id)).toBe(when);
      }
      expect(table.volatileCount).toBe([...model.values()].filter(([, when]) => when >= 0).length);
      expect(new Set(scanAll(table))).toEqual(new Set(model.keys()));
      // New keys go on from the compacted ids.
      table.insertString("after");
      table.validate();
      expect(table.compactIfSparse()).toBe(false);
    });
  });

  test("reserve and a size hint pre-size the index", () => {
    const table = new KeyTable(1000);
    const slots = table.indexSlots;
    expect(slots).toBe(2048);
    for (let i = 0; i < 1000; i++) table.insertString(`key:${i}`);
    expect(table.indexSlots).toBe(slots);
    table.reserve(10);
    expect(table.indexSlots).toBe(slots);
    table.validate();
  });

  test("clear empties the table and leaves it usable", () => {
    const table = filled(5000);
    table.setExpire(table.findString("key:1"), 10);
    table.setObject(table.findString("key:2"), [1]);
    table.clear();
    expect(table.size).toBe(0);
    expect(table.volatileCount).toBe(0);
    expect(table.findString("key:1")).toBe(-1);
    expect(table.scan(0, () => {})).toBe(0);
    expect(table.randomId()).toBe(-1);
    expect(table.memory().pageBytes).toBe(0);
    const id = table.insertString("again");
    expect(table.findString("again")).toBe(id);
    table.validate();
  });
});

describe("KeyTable values", () => {
  test("a new key holds empty bytes", () => {
    const table = new KeyTable();
    const id = table.insertString("k");
    expect(table.valueKind(id)).toBe(ValueKind.Bytes);
    expect(table.valueLength(id)).toBe(0);
    expect(table.valueBytes(id)).toEqual(new Uint8Array(0));
  });

  test("bytes of every inline length round-trip, in place or moved", () => {
    const table = filled(50);
    const id = table.findString("key:7");
    for (const len of [0, 1, 10, 64, 100, 200, INLINE_MAX, 3, INLINE_MAX, 0]) {
      const value = Uint8Array.from({ length: len }, (_, i) => (i * 7 + len) & 0xff);
      table.setBytes(id, value, 0, len);
      expect(table.valueKind(id)).toBe(ValueKind.Bytes);
      expect(table.valueBytes(id)).toEqual(value);
      expect(table.keyString(id)).toBe("key:7");
      table.validate();
    }
    expect(() => table.setBytes(id, new Uint8Array(INLINE_MAX + 1), 0, INLINE_MAX + 1)).toThrow(RangeError);
  });

  test("the zero-copy views show the key and value bytes", () => {
    const table = new KeyTable();
    const id = table.insertString("the-key", 5);
    table.setBytes(id, bytes("..hello.."), 2, 5);
    const page = table.keyPage(id);
    expect(table.valuePage(id)).toBe(page);
    const keyAt = table.keyOffset(id);
    expect(text(page.subarray(keyAt, keyAt + table.keyLength(id)))).toBe("the-key");
    const valueAt = table.valueOffset(id);
    expect(text(page.subarray(valueAt, valueAt + table.valueLength(id)))).toBe("hello");
  });

  test("a value may be set from its own record or another entry's page", () => {
    const table = new KeyTable();
    const a = table.insertString("aaaa-key");
    const b = table.insertString("b");
    table.setBytes(a, bytes("0123456789"), 0, 10);
    // Same size: written in place over itself.
    table.setBytes(a, table.valuePage(a), table.valueOffset(a), 10);
    expect(text(table.valueBytes(a))).toBe("0123456789");
    // Part of its own key, overlapping the value region that follows it.
    table.setBytes(a, table.keyPage(a), table.keyOffset(a) + 4, 8);
    expect(text(table.valueBytes(a))).toBe("-key0123");
    // Longer than the block: the record moves, the source is the old record.
    table.setBytes(a, table.valuePage(a), table.valueOffset(a), 8);
    table.setBytes(b, table.valuePage(a), table.valueOffset(a), 8);
    expect(text(table.valueBytes(b))).toBe("-key0123");
    const long = new Uint8Array(200).fill(65);
    table.setBytes(a, long, 0, 200);
    table.setBytes(a, table.valuePage(a), table.valueOffset(a) + 100, 100);
    expect(table.valueBytes(a)).toEqual(long.subarray(0, 100));
    table.validate();
  });

  test("numbers are kept as float64 and updated in place", () => {
    const table = new KeyTable();
    const id = table.insertString("counter");
    for (const value of [0, -0, 1, -1, 2 ** 53 - 1, -(2 ** 53), 3.25, Number.MAX_VALUE, Infinity]) {
      table.setNumber(id, value);
      expect(table.valueKind(id)).toBe(ValueKind.Number);
      expect(Object.is(table.getNumber(id), value)).toBe(true);
    }
    table.setNumber(id, 0);
    const page = table.keyPage(id);
    const offset = table.valueOffset(id);
    for (let i = 0; i < 1000; i++) table.setNumber(id, table.getNumber(id) + 1);
    expect(table.getNumber(id)).toBe(1000);
    expect(table.keyPage(id)).toBe(page);
    expect(table.valueOffset(id)).toBe(offset);
    expect(() => table.valueBytes(id)).toThrow(TypeError);
    table.validate();
  });

  test("objects are held by reference and their slot is released", () => {
    const table = new KeyTable();
    const a = table.insertString("a");
    const list = [1, 2, 3];
    table.setObject(a, list);
    expect(table.valueKind(a)).toBe(ValueKind.Object);
    expect(table.getObject(a)).toBe(list);
    const other = { x: 1 };
    table.setObject(a, other);
    expect(table.getObject(a)).toBe(other);
    expect(() => table.getNumber(a)).toThrow(TypeError);
    table.setBytes(a, bytes("v"), 0, 1);
    expect(text(table.valueBytes(a))).toBe("v");
    expect(() => table.getObject(a)).toThrow(TypeError);
    table.validate();
    const b = table.insertString("b");
    table.setObject(b, list);
    table.setNumber(b, 5);
    table.setObject(b, other);
    table.delete(b);
    table.validate();
    const c = table.insertString("c");
    table.setObject(c, undefined);
    expect(table.valueKind(c)).toBe(ValueKind.Object);
    expect(table.getObject(c)).toBeUndefined();
    table.validate();
  });

  test("meta bits belong to the owner and survive moves", () => {
    const table = new KeyTable();
    const id = table.insertString("k");
    expect(table.getMeta(id)).toBe(0);
    table.setMeta(id, 0xfedcba98);
    table.setBytes(id, new Uint8Array(200), 0, 200);
    table.setNumber(id, 1);
    expect(table.getMeta(id)).toBe(0xfedcba98);
    table.delete(id);
    expect(table.getMeta(table.insertString("fresh"))).toBe(0);
  });

  test("insert with a value reserve writes the first value in place", () => {
    const table = new KeyTable();
    const id = table.insertString("key:0000001", 10);
    const page = table.keyPage(id);
    const offset = table.keyOffset(id);
    table.setBytes(id, bytes("v000000001"), 0, 10);
    expect(table.keyPage(id)).toBe(page);
    expect(table.keyOffset(id)).toBe(offset);
    expect(table.memory().freeBytes).toBe(0);
  });
});

describe("KeyTable expiry", () => {
  test("setExpire, expireAt and clearExpire", () => {
    const table = filled(10);
    const id = table.findString("key:3");
    expect(table.expireAt(id)).toBe(-1);
    expect(table.clearExpire(id)).toBe(false);
    table.setExpire(id, 1_700_000_000_123);
    expect(table.expireAt(id)).toBe(1_700_000_000_123);
    expect(table.volatileCount).toBe(1);
    table.setExpire(id, 5);
    expect(table.expireAt(id)).toBe(5);
    expect(table.volatileCount).toBe(1);
    expect(table.clearExpire(id)).toBe(true);
    expect(table.expireAt(id)).toBe(-1);
    expect(table.volatileCount).toBe(0);
    table.validate();
  });

  test("delete removes the expiry and the list stays consistent", () => {
    const table = filled(1000);
    for (let i = 0; i < 1000; i += 2) table.setExpire(table.findString(`key:${i}`), i);
    expect(table.volatileCount).toBe(500);
    for (let i = 0; i < 1000; i += 4) table.delete(table.findString(`key:${i}`));
    expect(table.volatileCount).toBe(250);
    table.validate();
    for (let i = 2; i < 1000; i += 4) expect(table.expireAt(table.findString(`key:${i}`))).toBe(i);
    expect(table.expireAt(table.insertString("recycled"))).toBe(-1);
    table.validate();
  });

  test("sampleVolatile returns distinct volatile ids", () => {
    const table = filled(2000);
    for (let i = 0; i < 300; i++) table.setExpire(table.findString(`key:${i * 3}`), 1);
    const out = new Int32Array(64);
    for (let round = 0; round < 50; round++) {
      const n = table.sampleVolatile(20, out);
      expect(n).toBe(20);
      const ids = Array.from(out.subarray(0, n));
      expect(new Set(ids).size).toBe(n);
      for (const id of ids) expect(table.expireAt(id)).toBe(1);
    }
    expect(table.sampleVolatile(1000, out)).toBe(64);
    const all = new Int32Array(300);
    expect(table.sampleVolatile(300, all)).toBe(300);
    expect(new Set(all).size).toBe(300);
    expect(new KeyTable().sampleVolatile(5, out)).toBe(0);
  });
});

describe("KeyTable sampling", () => {
  test("randomId is roughly uniform", () => {
    const table = filled(50);
    const counts = new Map<number, number>();
    const draws = 50_000;
    for (let i = 0; i < draws; i++) {
      const id = table.randomId();
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    expect(counts.size).toBe(50);
    for (const count of counts.values()) {
      expect(count).toBeGreaterThan(draws / 50 / 1.3);
      expect(count).toBeLessThan((draws / 50) * 1.3);
    }
    expect(new KeyTable().randomId()).toBe(-1);
  });

  test("randomId still works in a sparse table", () => {
    const table = filled(10_000);
    for (let i = 1; i < 10_000; i++) table.delete(table.findString(`key:${i}`));
    expect(table.keyString(table.randomId())).toBe("key:0");
  });

  test("sample returns distinct live ids", () => {
    const table = filled(1000);
    const out = new Int32Array(16);
    for (let round = 0; round < 100; round++) {
      const n = table.sample(16, out);
      expect(n).toBe(16);
      expect(new Set(out).size).toBe(16);
      for (const id of out) expect(table.isLive(id)).toBe(true);
    }
    const small = filled(3);
    expect(small.sample(16, out)).toBe(3);
    expect(new Set(out.subarray(0, 3)).size).toBe(3);
  });
});

describe("KeyTable.scan", () => {
  test("an empty table scans as done without calling fn", () => {
    let calls = 0;
    expect(new KeyTable().scan(0, () => calls++)).toBe(0);
    expect(calls).toBe(0);
  });

  test("a full scan of a stable table returns every key exactly once", () => {
    const table = filled(5000);
    const seen = scanAll(table);
    expect(seen.length).toBe(5000);
    expect(new Set(seen).size).toBe(5000);
  });

  test("each call returns exactly the keys whose hash lands on the cursor's home slot", () => {
    const table = filled(300);
    const mask = table.indexSlots - 1;
    let cursor = 0;
    do {
      const home = cursor & mask;
      const ids: number[] = [];
      cursor = table.scan(cursor, (id) => ids.push(id));
      for (const id of ids) expect(table.hashOf(id) & mask).toBe(home);
    } while (cursor !== 0);
  });

  test("fn may delete the current key and others", () => {
    const table = filled(3000);
    const seen = new Set<string>();
    let cursor = 0;
    do {
      cursor = table.scan(cursor, (id) => {
        const key = table.keyString(id);
        seen.add(key);
        table.delete(id);
        const buddy = table.findString(key + "0");
        if (buddy >= 0) table.delete(buddy);
      });
    } while (cursor !== 0);
    expect(table.size).toBe(0);
    table.validate();
    expect(seen.size).toBeGreaterThan(2000);
  });

  test("every key present throughout is returned while the table grows and shrinks", () => {
    withSeed((random) => {
      for (let run = 0; run < 30; run++) {
        const table = filled(100 + Math.floor(random() * 3000), "stay:");
        const stable: string[] = [];
        for (let id = 0; id < table.idLimit; id++) if (table.isLive(id)) stable.push(table.keyString(id));
        // Bursts at random points of the scan alternately insert thousands of extra keys
        // (doubling the index several times) and delete them all (halving it as often).
        const bursts = Array.from({ length: 8 }, () => 1 + Math.floor(random() * table.indexSlots)).sort((a, b) => a - b);
        let extras = 0;
        let burst = 0;
        const seen = new Set(
          scanAll(table, (step) => {
            while (burst < bursts.length && bursts[burst]! <= step) {
              if (burst % 2 === 0) {
                const amount = Math.floor(random() * 6000 * (burst + 1));
                for (let i = 0; i < amount; i++) table.insertString(`extra:${extras++}`);
              } else {
                for (; extras > 0; extras--) table.delete(table.findString(`extra:${extras - 1}`));
              }
              burst++;
            }
          }),
        );
        for (const key of stable) expect(seen.has(key)).toBe(true);
        table.validate();
      }
    });
  });

  test("the guarantee holds across a shrink from a huge index to the smallest", () => {
    const table = filled(20, "stay:");
    for (let i = 0; i < 50_000; i++) table.insertString(`extra:${i}`);
    const stable = Array.from({ length: 20 }, (_, i) => `stay:${i}`);
    const seen = new Set(
      scanAll(table, (step) => {
        if (step === 3) for (let i = 0; i < 50_000; i++) table.delete(table.findString(`extra:${i}`));
        if (step === 5) for (let i = 0; i < 50_000; i++) table.insertString(`again:${i}`);
      }),
    );
    for (const key of stable) expect(seen.has(key)).toBe(true);
  });

  test("high cursor bits are ignored and come back as zero", () => {
    const table = filled(10);
    const next = table.scan(0xfff00000, () => {});
    expect(next).toBeLessThan(table.indexSlots);
  });
});

describe("KeyTable against a Map model", () => {
  test("150k random operations agree with Map and keep every invariant", () => {
    withSeed((random) => {
      const table = new KeyTable();
      const model = new Map<string, unknown>();
      const expiry = new Map<string, number>();
      const meta = new Map<string, number>();
      const keys: string[] = [];
      for (let i = 0; i < 3000; i++) keys.push(randomKey(random, random() < 0.05 ? 600 : 14));
      const pool = [...new Set(keys)];
      const objects = [{}, [], new Map(), "big"];
      for (let op = 0; op < 150_000; op++) {
        // The insert share swings between 10% and 90%, so the table repeatedly grows and shrinks.
        const insertShare = 0.5 + 0.4 * Math.sin(op / 4000);
        const key = pool[Math.floor(random() * pool.length)]!;
        let id = table.findString(key);
        expect(id >= 0).toBe(model.has(key));
        const roll = random();
        if (id < 0) {
          if (roll < insertShare) {
            id = table.insertString(key, Math.floor(random() * 20));
            model.set(key, "");
            meta.set(key, 0);
          }
          continue;
        }
        expect(valueOf(table, id)).toEqual(model.get(key));
        expect(table.expireAt(id)).toBe(expiry.get(key) ?? -1);
        expect(table.getMeta(id)).toBe(meta.get(key)!);
        if (roll < 1 - insertShare) {
          table.delete(id);
          model.delete(key);
          expiry.delete(key);
          meta.delete(key);
        } else if (roll < 0.6) {
          const value = randomKey(random, random() < 0.1 ? INLINE_MAX : 24);
          table.setBytes(id, bytes(value), 0, value.length);
          model.set(key, value);
        } else if (roll < 0.7) {
          const value = random() < 0.5 ? Math.floor(random() * 1e6) - 5e5 : random();
          table.setNumber(id, value);
          model.set(key, value);
        } else if (roll < 0.75) {
          const value = objects[Math.floor(random() * objects.length)];
          table.setObject(id, value);
          model.set(key, value);
        } else if (roll < 0.85) {
          const when = Math.floor(random() * 1e9);
          table.setExpire(id, when);
          expiry.set(key, when);
        } else if (roll < 0.9) {
          expect(table.clearExpire(id)).toBe(expiry.delete(key));
        } else {
          const bits = Math.floor(random() * 2 ** 32);
          table.setMeta(id, bits);
          meta.set(key, bits);
        }
        expect(table.size).toBe(model.size);
        expect(table.volatileCount).toBe(expiry.size);
        if (op % 5000 === 0) table.validate();
      }
      table.validate();
      for (const [key, value] of model) expect(valueOf(table, table.findString(key))).toEqual(value);
      expect(scanAll(table).sort()).toEqual([...model.keys()].sort());
    });
  });
});

describe("KeyTable memory", () => {
  test("churn with a steady live set reuses blocks: the slab stops growing", () => {
    withSeed((random) => {
      const table = new KeyTable();
      const live: string[] = [];
      const value = new Uint8Array(INLINE_MAX);
      let next = 0;
      const insertOne = (): void => {
        const key = `churn:${next++}`;
        const id = table.insertString(key);
        table.setBytes(id, value, 0, Math.floor(random() * 40));
        live.push(key);
      };
      for (let i = 0; i < 20_000; i++) insertOne();
      const pagesAfter = (count: number): number => {
        for (let i = 0; i < count; i++) {
          // Swap-remove a random live key, then insert a new one: the live set stays at 20k.
          const at = Math.floor(random() * live.length);
          const key = live[at]!;
          live[at] = live[live.length - 1]!;
          live.pop();
          table.delete(table.findString(key));
          insertOne();
        }
        return table.slabPages;
      };
      const warmed = pagesAfter(100_000);
      expect(pagesAfter(900_000)).toBe(warmed);
      expect(table.size).toBe(20_000);
      table.validate();
      // 20k records of at most 4 + 12 + 39 bytes fit in 1 MiB pages with room to spare.
      expect(warmed).toBeLessThanOrEqual(2);
    });
  });

  test("bytesUsed and memory account for records and arrays", () => {
    const table = new KeyTable();
    const empty = table.bytesUsed();
    const ids = Array.from({ length: 1000 }, (_, i) => table.insertString(`key:${String(i).padStart(7, "0")}`, 10));
    for (const id of ids) table.setBytes(id, bytes("v000000000"), 0, 10);
    const memory = table.memory();
    // 4 header + 11 key + 10 value bytes round up to a 28-byte block.
    expect(memory.liveBytes).toBe(28 * 1000);
    expect(memory.freeBytes).toBe(0);
    expect(memory.pageBytes).toBe(1 << 20);
    expect(table.bytesUsed()).toBe(memory.liveBytes + memory.arrayBytes);
    expect(table.bytesUsed()).toBeGreaterThan(empty);
    for (const id of ids) table.delete(id);
    expect(table.memory().liveBytes).toBe(0);
    expect(table.memory().freeBytes).toBe(28 * 1000);
    table.validate();
  });

  test("validate catches a corrupted index", () => {
    const table = filled(100);
    // Reach into the index to break it the way a bug would.
    const slots = (table as unknown as { slots: Int32Array }).slots;
    const s = slots.findIndex((_, i) => i % 3 === 0 && slots[i + 1] !== 0);
    slots[s] ^= 1;
    expect(() => table.validate()).toThrow(/invariant broken/);
  });
});
