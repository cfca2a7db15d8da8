// KeyTable against the built-in Map on the keyspace's hot operations, with mitata.
//
//   bun bench/keytable.bench.ts
//
// Importing the file only registers the benchmarks, so a runner such as micro.bench.ts can
// collect it with other suites; run directly, it runs them. Keys look like Redis keys
// (`key:0001234`, 11 bytes) and arrive the way a command brings them: as byte ranges of a
// request buffer. KeyTable looks them up by bytes; Map needs the latin1 string made from
// them first, and a fresh Uint8Array copy of every value it stores (the request buffer is
// reused), so both costs are part of the Map side. Sizes: one table that fits in cache and
// one of a million keys. All structures are built before the first group runs, so the
// million-key Map is in the heap for every group, as a keyspace would be in a server: any
// collection the benchmarks trigger marks it, and that shows in the small-table rows too
// (KeyTable's insert + delete measures about 250 ns on its own, twice that here).
import { bench, group, run, summary } from "mitata";
import { latin1 } from "../src/resp/parser.ts";
import { KeyTable, ValueKind } from "../src/store/keytable.ts";

const SIZES = [1_000, 1_000_000];
/** Probes cycle through a power-of-two count, so the index wraps with a mask. */
const PROBES = 1 << 16;
const KEY_BYTES = 11;
const VALUE = new TextEncoder().encode("v000000000");

const keyOf = (i: number): string => `key:${String(i).padStart(7, "0")}`;

/** Probe keys laid end to end in one buffer, as in a pipeline of requests. */
interface Probes {
  buf: Uint8Array;
  start: Int32Array;
}

function probesOf(pick: (i: number) => string): Probes {
  const buf = new Uint8Array(PROBES * (KEY_BYTES + 2));
  const start = new Int32Array(PROBES);
  for (let i = 0, at = 0; i < PROBES; i++) {
    const key = pick(i);
    start[i] = at;
    for (let j = 0; j < key.length; j++) buf[at + j] = key.charCodeAt(j);
    at += KEY_BYTES + 2;
  }
  return { buf, start };
}

function registerSize(size: number): void {
  const table = new KeyTable();
  const map = new Map<string, Uint8Array>();
  const counters = new Map<string, number>();
  for (let i = 0; i < size; i++) {
    const id = table.insertString(keyOf(i), VALUE.length);
    table.setBytes(id, VALUE, 0, VALUE.length);
    map.set(keyOf(i), VALUE.slice());
    counters.set(keyOf(i), 0);
  }
  const hits = probesOf(() => keyOf(Math.floor(Math.random() * size)));
  // "kez:" keys have the same length as real ones but are never present.
  const misses = probesOf((i) => `kez:${String(i).padStart(7, "0")}`);
  let i = 0;
  let sink = 0;

  group(`find hit (${size} keys)`, () => {
    summary(() => {
      bench("Map.get(latin1(key))", () => map.get(latin1(hits.buf, hits.start[i++ & (PROBES - 1)]!, KEY_BYTES)));
      bench("KeyTable.find", () => table.find(hits.buf, hits.start[i++ & (PROBES - 1)]!, KEY_BYTES));
    });
  });

  group(`find miss (${size} keys)`, () => {
    summary(() => {
      bench("Map.get(latin1(key))", () => map.get(latin1(misses.buf, misses.start[i++ & (PROBES - 1)]!, KEY_BYTES)));
      bench("KeyTable.find", () => table.find(misses.buf, misses.start[i++ & (PROBES - 1)]!, KEY_BYTES));
    });
  });

  // Inserting then deleting a fresh key keeps the size steady, so no resize is timed.
  group(`insert + delete (${size} keys)`, () => {
    summary(() => {
      bench("Map", () => {
        const key = latin1(misses.buf, misses.start[i++ & (PROBES - 1)]!, KEY_BYTES);
        map.set(key, VALUE.slice());
        map.delete(key);
      });
      bench("KeyTable", () => {
        const id = table.insert(misses.buf, misses.start[i++ & (PROBES - 1)]!, KEY_BYTES, VALUE.length);
        table.setBytes(id, VALUE, 0, VALUE.length);
        table.delete(id);
      });
    });
  });

  group(`SET overwrite: find + store 10 bytes (${size} keys)`, () => {
    summary(() => {
      bench("Map.set(latin1(key), copy)", () => map.set(latin1(hits.buf, hits.start[i++ & (PROBES - 1)]!, KEY_BYTES), VALUE.slice()));
      bench("KeyTable.find + setBytes", () => {
        const id = table.find(hits.buf, hits.start[i++ & (PROBES - 1)]!, KEY_BYTES);
        table.setBytes(id, VALUE, 0, VALUE.length);
      });
    });
  });

  group(`INCR: find + number + 1 (${size} keys)`, () => {
    summary(() => {
      bench("Map<string, number>", () => {
        const key = latin1(hits.buf, hits.start[i++ & (PROBES - 1)]!, KEY_BYTES);
        counters.set(key, counters.get(key)! + 1);
      });
      bench("KeyTable.find + getNumber/setNumber", () => {
        const id = table.find(hits.buf, hits.start[i++ & (PROBES - 1)]!, KEY_BYTES);
        // The first touch of a key turns its bytes into a number, as INCR would.
        sink = table.valueKind(id) === ValueKind.Number ? table.getNumber(id) : 0;
        table.setNumber(id, sink + 1);
      });
    });
  });
}

for (const size of SIZES) registerSize(size);

if (import.meta.main) await run();
