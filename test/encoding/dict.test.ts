import { describe, expect, test } from "bun:test";
import { Dict } from "../../src/encoding/dict.ts";
import { hashBytes, hashString } from "../../src/util/hash.ts";

/** mulberry32: a tiny seeded PRNG, so a failing random test can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs body with a seed taken from DICT_TEST_SEED or chosen at random, and prints it on failure. */
function withSeed(body: (random: () => number) => void): void {
  const seed = process.env.DICT_TEST_SEED ? Number(process.env.DICT_TEST_SEED) : (Math.random() * 2 ** 32) >>> 0;
  try {
    body(prng(seed));
  } catch (error) {
    console.error(`dict test failed with DICT_TEST_SEED=${seed}`);
    throw error;
  }
}

/** A random binary-safe latin1 key of 0..maxLength chars. */
function randomKey(random: () => number, maxLength: number): string {
  const length = Math.floor(random() * (maxLength + 1));
  let key = "";
  for (let i = 0; i < length; i++) key += String.fromCharCode(Math.floor(random() * 256));
  return key;
}

function filled(count: number, prefix = "key:"): Dict<number> {
  const dict = new Dict<number>();
  for (let i = 0; i < count; i++) dict.set(prefix + i, i);
  return dict;
}

/** Scans to completion, calling between(step) before every call after the first. */
function scanAll<V>(dict: Dict<V>, between: (step: number) => void = () => {}): string[] {
  const seen: string[] = [];
  let cursor = 0;
  let step = 0;
  do {
    if (step > 0) between(step);
    cursor = dict.scan(cursor, (key) => seen.push(key));
    step++;
    expect(step).toBeLessThan(1 << 22);
  } while (cursor !== 0);
  return seen;
}

describe("hashString", () => {
  test("is a deterministic signed 32-bit integer", () => {
    for (const key of ["", "a", "key:1", "\xff\x00", "x".repeat(1000)]) {
      const hash = hashString(key);
      expect(hash).toBe(hash | 0);
      expect(hashString(key)).toBe(hash);
    }
  });

  test("sees every byte, including trailing zero bytes", () => {
    const keys = ["", "\x00", "\x00\x00", "\x00\x00\x00", "\x00\x00\x00\x00", "a", "a\x00", "\xff", "\xff\x00"];
    expect(new Set(keys.map(hashString)).size).toBe(keys.length);
  });

  test("spreads sequential keys evenly over buckets", () => {
    const bucketCount = 1 << 16;
    const loads = new Uint16Array(bucketCount);
    for (let i = 0; i < bucketCount; i++) loads[hashString(`key:${i}`) & (bucketCount - 1)]!++;
    let used = 0;
    let longest = 0;
    for (const load of loads) {
      if (load > 0) used++;
      longest = Math.max(longest, load);
    }
    // A uniform hash fills 1 - 1/e (63.2%) of the buckets and its longest chain is about 8.
    expect(used / bucketCount).toBeGreaterThan(0.62);
    expect(used / bucketCount).toBeLessThan(0.645);
    expect(longest).toBeLessThan(13);
  });
});

describe("Dict basics", () => {
  test("set, get, has, delete and size", () => {
    const dict = new Dict<string>();
    expect(dict.size).toBe(0);
    expect(dict.get("a")).toBeUndefined();
    expect(dict.set("a", "1")).toBe(true);
    expect(dict.set("b", "2")).toBe(true);
    expect(dict.set("a", "3")).toBe(false);
    expect(dict.size).toBe(2);
    expect(dict.get("a")).toBe("3");
    expect(dict.has("b")).toBe(true);
    expect(dict.has("c")).toBe(false);
    expect(dict.delete("a")).toBe(true);
    expect(dict.delete("a")).toBe(false);
    expect(dict.has("a")).toBe(false);
    expect(dict.size).toBe(1);
    dict.validate();
  });

  test("stores undefined values as present", () => {
    const dict = new Dict<undefined>();
    dict.set("k", undefined);
    expect(dict.has("k")).toBe(true);
    expect(dict.size).toBe(1);
  });

  test("binary keys are distinct and exact", () => {
    const dict = new Dict<number>();
    const keys = ["", "\x00", "\x00\x00", "\xff\x00", "\xff", "\x00\xff", "a\x00", "a"];
    keys.forEach((key, i) => expect(dict.set(key, i)).toBe(true));
    keys.forEach((key, i) => expect(dict.get(key)).toBe(i));
    expect(dict.size).toBe(keys.length);
    expect(dict.delete("\x00")).toBe(true);
    expect(dict.get("\x00\x00")).toBe(2);
    expect(dict.get("")).toBe(0);
    expect(dict.has("\x00")).toBe(false);
    dict.validate();
  });

  test("grows at load factor 1 and shrinks below 1/8 full", () => {
    const dict = new Dict<number>();
    expect(dict.bucketCount).toBe(4);
    for (let i = 0; i < 4; i++) dict.set(`k${i}`, i);
    expect(dict.bucketCount).toBe(4);
    dict.set("k4", 4);
    expect(dict.bucketCount).toBe(8);
    for (let i = 5; i < 1000; i++) dict.set(`k${i}`, i);
    expect(dict.bucketCount).toBe(1024);
    for (let i = 999; i >= 128; i--) dict.delete(`k${i}`);
    // 128 entries is exactly 1/8 of 1024, which is not below it.
    expect(dict.bucketCount).toBe(1024);
    dict.delete("k127");
    expect(dict.bucketCount).toBe(128);
    dict.validate();
    for (let i = 126; i >= 0; i--) dict.delete(`k${i}`);
    expect(dict.bucketCount).toBe(4);
    expect(dict.size).toBe(0);
    dict.validate();
  });

  test("reserve and a size hint pre-size the table without shrinking it", () => {
    expect(new Dict<number>(1000).bucketCount).toBe(1024);
    const dict = filled(10);
    dict.reserve(5000);
    expect(dict.bucketCount).toBe(8192);
    dict.reserve(3);
    expect(dict.bucketCount).toBe(8192);
    for (let i = 0; i < 10; i++) expect(dict.get(`key:${i}`)).toBe(i);
    dict.validate();
  });

  test("clear empties the table and leaves it usable", () => {
    const dict = filled(1000);
    dict.clear();
    expect(dict.size).toBe(0);
    expect(dict.bucketCount).toBe(4);
    expect(dict.get("key:1")).toBeUndefined();
    expect([...dict]).toEqual([]);
    expect(dict.scan(0, () => {})).toBe(0);
    dict.set("again", 1);
    expect(dict.get("again")).toBe(1);
    dict.validate();
  });
});

describe("Dict against a Map model", () => {
  test("100k random inserts, overwrites and deletes agree with Map", () => {
    withSeed((random) => {
      const dict = new Dict<number>();
      const model = new Map<string, number>();
      const pool = Array.from({ length: 4000 }, () => randomKey(random, 12));
      for (let op = 0; op < 100_000; op++) {
        // The insert share swings between 10% and 90%, so the table repeatedly grows and shrinks.
        const insertShare = 0.5 + 0.4 * Math.sin(op / 5000);
        const key = pool[Math.floor(random() * pool.length)]!;
        const roll = random();
        if (roll < insertShare) {
          expect(dict.set(key, op)).toBe(!model.has(key));
          model.set(key, op);
        } else if (roll < insertShare + 0.05) {
          expect(dict.get(key)).toBe(model.get(key));
        } else {
          expect(dict.delete(key)).toBe(model.delete(key));
        }
        expect(dict.size).toBe(model.size);
        if (op % 1000 === 0) dict.validate();
      }
      dict.validate();
      for (const [key, value] of model) expect(dict.get(key)).toBe(value);
      expect(new Map(dict.entries())).toEqual(model);
    });
  });
});

describe("Dict.scan", () => {
  test("an empty dict scans as done without calling fn", () => {
    const dict = new Dict<number>();
    let calls = 0;
    expect(dict.scan(0, () => calls++)).toBe(0);
    expect(dict.scan(12345, () => calls++)).toBe(0);
    expect(calls).toBe(0);
  });

  test("the cursor walks buckets in reverse-binary order like Redis", () => {
    const dict = filled(8); // Exactly 8 buckets.
    expect(dict.bucketCount).toBe(8);
    const cursors = [0];
    for (let cursor = dict.scan(0, () => {}); cursor !== 0; cursor = dict.scan(cursor, () => {})) cursors.push(cursor);
    expect(cursors).toEqual([0, 4, 2, 6, 1, 5, 3, 7]);
  });

  test("a scan without mutation returns every key exactly once", () => {
    const dict = filled(5000);
    const seen = scanAll(dict);
    expect(seen.length).toBe(5000);
    expect(new Set(seen).size).toBe(5000);
  });

  test("bits above the mask are ignored and come back cleared", () => {
    const dict = filled(8);
    for (let cursor = 0; cursor < 8; cursor++) {
      const plain: string[] = [];
      const high: string[] = [];
      const next = dict.scan(cursor, (key) => plain.push(key));
      expect(dict.scan(cursor + 2 ** 31 + 2 ** 10, (key) => high.push(key))).toBe(next);
      expect(dict.scan(cursor + 2 ** 32, () => {})).toBe(next);
      expect(high).toEqual(plain);
      expect(next).toBeLessThan(8);
    }
    // The largest 32-bit cursor is the last bucket in reversed order, so the scan ends.
    expect(dict.scan(2 ** 32 - 1, () => {})).toBe(0);
  });

  test("keys present for the whole scan are returned while the table grows", () => {
    withSeed((random) => {
      const dict = filled(100);
      let added = 0;
      const seen = new Set(
        scanAll(dict, () => {
          // Grow through several doublings, then stop: a table that outgrows the
          // cursor forever would keep the scan from ever finishing.
          const burst = Math.floor(random() * 200);
          for (let i = 0; i < burst && added < 20_000; i++) dict.set(`new:${added++}`, -1);
        }),
      );
      expect(dict.bucketCount).toBeGreaterThan(128);
      for (let i = 0; i < 100; i++) expect(seen.has(`key:${i}`)).toBe(true);
    });
  });

  test("keys present for the whole scan are returned while the table shrinks", () => {
    withSeed((random) => {
      const dict = filled(200, "keep:");
      for (let i = 0; i < 20_000; i++) dict.set(`drop:${i}`, i);
      const startBuckets = dict.bucketCount;
      let dropped = 0;
      const seen = new Set(
        scanAll(dict, () => {
          const burst = Math.floor(random() * 400);
          for (let i = 0; i < burst && dropped < 20_000; i++) dict.delete(`drop:${dropped++}`);
        }),
      );
      expect(dict.bucketCount).toBeLessThan(startBuckets);
      for (let i = 0; i < 200; i++) expect(seen.has(`keep:${i}`)).toBe(true);
      dict.validate();
    });
  });

  test("keys present for the whole scan are returned while the table grows and shrinks", () => {
    withSeed((random) => {
      const dict = filled(300, "keep:");
      const churn: string[] = [];
      const seen = new Set(
        scanAll(dict, (step) => {
          // Alternate long growth and shrink phases so resizes go both ways mid-scan.
          const growing = Math.floor(step / 7) % 2 === 0;
          for (let i = Math.floor(random() * 100); i > 0; i--) {
            if (growing) {
              const key = `churn:${churn.length}:${random()}`;
              churn.push(key);
              dict.set(key, 0);
            } else if (churn.length > 0) {
              dict.delete(churn.pop()!);
            }
          }
        }),
      );
      for (let i = 0; i < 300; i++) expect(seen.has(`keep:${i}`)).toBe(true);
      dict.validate();
    });
  });

  test("fn may delete the key it is given, as active expiry does", () => {
    const dict = filled(3000);
    const seen = scanAll(dict);
    const visited = new Set<string>();
    let cursor = 0;
    do {
      cursor = dict.scan(cursor, (key) => {
        visited.add(key);
        dict.delete(key);
      });
    } while (cursor !== 0);
    expect(visited.size).toBe(seen.length);
    expect(dict.size).toBe(0);
    dict.validate();
  });
});

describe("Dict sampling", () => {
  test("an empty dict has no random key and no sample", () => {
    const dict = new Dict<number>();
    const out: string[] = [];
    expect(dict.randomKey()).toBeUndefined();
    expect(dict.sample(5, out)).toBe(0);
    expect(out).toEqual([]);
  });

  test("randomKey returns only present keys, roughly uniformly", () => {
    const dict = filled(20);
    for (let i = 0; i < 10; i++) dict.delete(`key:${i * 2}`);
    const counts = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const key = dict.randomKey()!;
      expect(dict.has(key)).toBe(true);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(10);
    // Each key expects 2000 draws; 1500 is about 12 standard deviations away.
    for (const count of counts.values()) expect(count).toBeGreaterThan(1500);
  });

  test("sample returns distinct present keys, at most count and at most size", () => {
    withSeed((random) => {
      const dict = filled(1000);
      for (let i = 0; i < 500; i++) dict.delete(`key:${Math.floor(random() * 1000)}`);
      for (const count of [1, 5, 16, 64, 200]) {
        const out: string[] = ["sentinel"];
        expect(dict.sample(count, out)).toBe(count);
        expect(out.length).toBe(count + 1);
        expect(out[0]).toBe("sentinel");
        const sampled = out.slice(1);
        expect(new Set(sampled).size).toBe(count);
        for (const key of sampled) expect(dict.has(key)).toBe(true);
      }
      const all: string[] = [];
      expect(dict.sample(10_000, all)).toBe(dict.size);
      expect(new Set(all)).toEqual(new Set(dict.keys()));
      expect(dict.sample(0, all)).toBe(0);
      expect(dict.sample(-3, all)).toBe(0);
    });
  });

  test("sample reaches every key over many draws", () => {
    const dict = filled(300);
    const reached = new Set<string>();
    const out: string[] = [];
    for (let i = 0; i < 2000; i++) dict.sample(5, out);
    for (const key of out) reached.add(key);
    expect(reached.size).toBe(300);
  });
});

describe("Dict iteration", () => {
  test("forEach, keys, values, entries and the iterator agree", () => {
    const dict = filled(500);
    const fromForEach = new Map<string, number>();
    dict.forEach((value, key) => fromForEach.set(key, value));
    const expected = new Map(Array.from({ length: 500 }, (_, i) => [`key:${i}`, i] as [string, number]));
    expect(fromForEach).toEqual(expected);
    expect(new Map(dict.entries())).toEqual(expected);
    expect(new Map([...dict])).toEqual(expected);
    expect(new Set(dict.keys())).toEqual(new Set(expected.keys()));
    expect([...dict.values()].sort((a, b) => a - b)).toEqual([...expected.values()]);
  });

  test("forEach may delete the current key; every key is visited once", () => {
    const dict = filled(1000);
    const visited: string[] = [];
    dict.forEach((_, key) => {
      visited.push(key);
      dict.delete(key);
    });
    expect(visited.length).toBe(1000);
    expect(new Set(visited).size).toBe(1000);
    expect(dict.size).toBe(0);
    dict.validate();
  });

  test("an iterator may delete the current key, including through shrinks", () => {
    const dict = filled(1000);
    const visited = new Set<string>();
    let deleted = 0;
    for (const key of dict.keys()) {
      expect(visited.has(key)).toBe(false);
      visited.add(key);
      if (Number(key.slice(4)) % 10 !== 0) {
        dict.delete(key);
        deleted++;
      }
    }
    expect(visited.size).toBe(1000);
    expect(dict.size).toBe(1000 - deleted);
    expect(dict.bucketCount).toBe(128);
    dict.validate();
  });

  test("deleting keys not yet visited never skips a surviving key", () => {
    withSeed((random) => {
      const dict = filled(2000);
      const deleted = new Set<string>();
      const visited = new Set<string>();
      dict.forEach((_, key) => {
        visited.add(key);
        for (let i = 0; i < 3; i++) {
          const victim = `key:${Math.floor(random() * 2000)}`;
          if (dict.delete(victim)) deleted.add(victim);
        }
      });
      for (const key of dict.keys()) expect(visited.has(key)).toBe(true);
      for (let i = 0; i < 2000; i++) {
        const key = `key:${i}`;
        if (!deleted.has(key)) expect(visited.has(key)).toBe(true);
      }
      dict.validate();
    });
  });

  test("inserting during iteration is safe and visits every original key", () => {
    const dict = filled(300);
    const visited = new Set<string>();
    let added = 0;
    for (const [key] of dict) {
      visited.add(key);
      if (added < 2000) dict.set(`extra:${added++}`, 0);
    }
    for (let i = 0; i < 300; i++) expect(visited.has(`key:${i}`)).toBe(true);
    expect(dict.size).toBe(600);
    dict.validate();
  });

  test("clear during iteration ends it", () => {
    const dict = filled(100);
    let visits = 0;
    dict.forEach(() => {
      visits++;
      dict.clear();
    });
    expect(visits).toBe(1);
  });
});

describe("lookups by bytes", () => {
  test("hashBytes and hashString agree on the same bytes, so hasBytes finds string keys", () => {
    const dict = new Dict<number>();
    const keys = ["", "a", "a\x00", "\xff\x00\xfe", "field:1", "x".repeat(70)];
    keys.forEach((k, i) => dict.set(k, i));
    for (let n = 0; n < 300; n++) {
      const s = Array.from({ length: n % 23 }, (_, i) => String.fromCharCode((n * 31 + i * 97) & 0xff)).join("");
      const b = Buffer.from(s, "latin1");
      expect(hashBytes(b, 0, b.length)).toBe(hashString(s));
    }
    const padded = Buffer.from("..field:1..", "latin1");
    expect(dict.hasBytes(padded, 2, 7)).toBe(true);
    expect(dict.hasBytes(padded, 2, 6)).toBe(false);
    for (const k of keys) expect(dict.hasBytes(Buffer.from(k, "latin1"), 0, k.length)).toBe(true);
    expect(dict.hasBytes(Buffer.from("a\x01", "latin1"), 0, 2)).toBe(false);
  });
});
