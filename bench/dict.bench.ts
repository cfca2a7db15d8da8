// Dict against the built-in Map on the keyspace's hot operations, with mitata.
//
//   bun bench/dict.bench.ts
//
// Importing the file only registers the benchmarks, so a runner such as micro.bench.ts can
// collect it with other suites; run directly, it runs them. Keys look like Redis keys
// (`key:00001234`, 12 chars) and are probed in shuffled order, at two table sizes: one that
// fits in cache and one that does not. Map hashes a string once and caches the hash inside
// the string, which Dict cannot reach, so probing with the same string objects again and
// again flatters Map; the "decoded per call" groups, with a fresh string per lookup as the
// server has, are the fair comparison.
import { bench, group, run, summary } from "mitata";
import { Dict } from "../src/encoding/dict.ts";
import { hashString } from "../src/util/hash.ts";

const SIZES = [1_000, 200_000];
/** Probes cycle through a power-of-two array, so the index wraps with a mask. */
const PROBES = 1 << 16;

/** Every key is `key:` and 8 digits, so a run of keys can be sliced out of one buffer. */
const KEY_LENGTH = 12;
function keyName(i: number): string {
  return `key:${String(i).padStart(8, "0")}`;
}

function shuffled<T>(items: T[]): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A probe sequence drawn from `keys`, as fresh strings decoded from bytes like the RESP parser's. */
function probesOf(keys: string[]): string[] {
  return Array.from({ length: PROBES }, (_, i) => Buffer.from(keys[i % keys.length]!, "latin1").toString("latin1"));
}

function registerSize(size: number): void {
  const keys = Array.from({ length: size }, (_, i) => keyName(i));
  const dict = new Dict<number>();
  const map = new Map<string, number>();
  for (const [i, key] of keys.entries()) {
    dict.set(key, i);
    map.set(key, i);
  }
  const hits = probesOf(shuffled(keys));
  const misses = probesOf(keys.map((key) => `miss${key}`));
  let i = 0;

  group(`get hit (${size} keys)`, () => {
    summary(() => {
      bench("Map.get", () => map.get(hits[i++ & (PROBES - 1)]!));
      bench("Dict.get", () => dict.get(hits[i++ & (PROBES - 1)]!));
    });
  });

  // Closest to a server: the key is decoded from the request bytes for every lookup, so
  // Map cannot reuse a hash cached in a string it saw before.
  const hitBytes = Buffer.from(hits.join(""), "latin1");
  const decode = (n: number): string => hitBytes.toString("latin1", n * KEY_LENGTH, (n + 1) * KEY_LENGTH);
  group(`get hit, key decoded per call (${size} keys)`, () => {
    summary(() => {
      bench("Map.get", () => map.get(decode(i++ & (PROBES - 1))));
      bench("Dict.get", () => dict.get(decode(i++ & (PROBES - 1))));
    });
  });

  group(`get miss (${size} keys)`, () => {
    summary(() => {
      bench("Map.get", () => map.get(misses[i++ & (PROBES - 1)]!));
      bench("Dict.get", () => dict.get(misses[i++ & (PROBES - 1)]!));
    });
  });

  group(`set overwrite (${size} keys)`, () => {
    summary(() => {
      bench("Map.set", () => map.set(hits[i++ & (PROBES - 1)]!, i));
      bench("Dict.set", () => dict.set(hits[i++ & (PROBES - 1)]!, i));
    });
  });

  // Inserting then deleting a fresh key keeps the size steady, so no resize is timed.
  group(`set new + delete (${size} keys)`, () => {
    summary(() => {
      bench("Map", () => {
        const key = misses[i++ & (PROBES - 1)]!;
        map.set(key, i);
        map.delete(key);
      });
      bench("Dict", () => {
        const key = misses[i++ & (PROBES - 1)]!;
        dict.set(key, i);
        dict.delete(key);
      });
    });
  });
}

group("hashString alone (12-char keys)", () => {
  const probes = probesOf(Array.from({ length: 1024 }, (_, i) => keyName(i)));
  let i = 0;
  bench("hashString", () => hashString(probes[i++ & (PROBES - 1)]!));
});

for (const size of SIZES) registerSize(size);

if (import.meta.main) await run();
