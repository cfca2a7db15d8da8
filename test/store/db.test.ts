// Db over its KeyTable, checked against a model: 100k binary keys with values of every
// string representation, times to live, overwrites, in-place edits, deletes, renames,
// copies across databases, lazy and active expiry, SCAN and RANDOMKEY. The table's own
// validate() runs after every phase, so a broken index, slab or volatile list fails here
// even when replies still look right.

import { describe, expect, test } from "bun:test";
import { Clock, Db, KeyspaceStats, NO_KEY } from "../../src/store/db.ts";
import { Enc, metaEnc } from "../../src/store/object.ts";
import {
  setString,
  setStringInt64,
  stringAppend,
  stringBytes,
  stringToInt64,
  dupString,
} from "../../src/store/string.ts";
import { withSeed } from "../oracle/harness.ts";

const NOW = 1_700_000_000_000;

const bytes = (s: string): Uint8Array => Buffer.from(s, "latin1");
const text = (b: Uint8Array): string => Buffer.from(b).toString("latin1");

function newDb(id: number, clock: Clock, stats = new KeyspaceStats()): Db {
  return new Db(id, stats, clock);
}

/** A key unique to i with a random binary tail, now and then past the 255-byte short key limit. */
function keyFor(i: number, random: () => number): string {
  let key = `k${i}:`;
  const tail = random() < 0.01 ? 250 + Math.floor(random() * 20) : Math.floor(random() * 12);
  for (let j = 0; j < tail; j++) key += String.fromCharCode(Math.floor(random() * 256));
  return key;
}

/** A value of a random representation: inline bytes, an integer, an int64 beyond 2^53, a long string. */
function valueFor(random: () => number): string {
  const pick = random();
  if (pick < 0.3) return String(Math.floor(random() * 2e9) - 1e9);
  if (pick < 0.35) return String(9007199254740993n + BigInt(Math.floor(random() * 1e6)));
  if (pick < 0.4) return "L".repeat(256 + Math.floor(random() * 500));
  let value = "";
  const length = Math.floor(random() * (random() < 0.1 ? 255 : 30));
  for (let j = 0; j < length; j++) value += String.fromCharCode(Math.floor(random() * 256));
  return value;
}

interface Entry {
  value: string;
  /** Absolute expiry in ms, or -1. */
  when: number;
}

/** Sets key to value through the SET path (setKeyBytes + setString), as the model says. */
function set(db: Db, model: Map<string, Entry>, key: string, value: string, keepTtl: boolean): void {
  const k = bytes(key);
  const v = bytes(value);
  const id = db.setKeyBytes(k, 0, k.length, keepTtl, v.length, db.clock.nowMs);
  setString(db, id, v, 0, v.length);
  const old = model.get(key);
  model.set(key, { value, when: keepTtl && old !== undefined && old.when > db.clock.nowMs ? old.when : -1 });
}

/** Checks every model key against the database and the database's size against the model. */
function checkAgainst(db: Db, model: Map<string, Entry>): void {
  db.table.validate();
  expect(db.size).toBe(model.size);
  for (const [key, entry] of model) {
    const id = db.peek(key, db.clock.nowMs);
    expect(id).not.toBe(NO_KEY);
    expect(text(stringBytes(db, id))).toBe(entry.value);
    expect(db.getExpire(id)).toBe(entry.when);
  }
}

describe("Db over KeyTable", () => {
  test("100k keys through writes, edits, deletes, renames, copies and expiry keep every invariant", () => {
    withSeed("db test", (random) => {
      const clock = new Clock();
      clock.nowMs = NOW;
      const db = newDb(0, clock);
      const other = newDb(1, clock, db.stats);
      const model = new Map<string, Entry>();
      const otherModel = new Map<string, Entry>();
      const keys: string[] = [];
      for (let i = 0; i < 100_000; i++) {
        const key = keyFor(i, random);
        keys.push(key);
        set(db, model, key, valueFor(random), false);
      }
      // Times to live: most in the future, some already past (not yet removed).
      for (const key of keys) {
        const roll = random();
        if (roll > 0.15) continue;
        const when = roll < 0.05 ? NOW - 1 - Math.floor(random() * 1000) : NOW + 1 + Math.floor(random() * 1e6);
        db.setExpire(db.peek(key, 0), when);
        model.get(key)!.when = when;
      }
      db.table.validate();

      // Overwrites (some keeping the time to live), appends, increments, deletes.
      for (const key of keys) {
        const entry = model.get(key);
        if (entry === undefined || (entry.when !== -1 && entry.when <= NOW)) continue;
        const roll = random();
        if (roll < 0.3) {
          set(db, model, key, valueFor(random), random() < 0.5);
        } else if (roll < 0.4) {
          const id = db.lookupWrite(key);
          const piece = valueFor(random);
          stringAppend(db, id, bytes(piece), 0, piece.length);
          entry.value += piece;
          expect(metaEnc(db.table.getMeta(id))).toBe(Enc.Raw);
        } else if (roll < 0.5) {
          const id = db.lookupWrite(key);
          const current = stringToInt64(db, id);
          if (typeof current === "number" && Math.abs(current) < 1e15) {
            setStringInt64(db, id, current + 7);
            entry.value = String(current + 7);
          }
        } else if (roll < 0.7) {
          db.delete(db.lookupWrite(key));
          model.delete(key);
        }
      }
      db.table.validate();

      // Renames within the database and copies to the other one.
      for (let i = 0; i < 5000; i++) {
        const key = keys[Math.floor(random() * keys.length)]!;
        const entry = model.get(key);
        if (entry === undefined || (entry.when !== -1 && entry.when <= NOW)) continue;
        const from = db.lookupWrite(key);
        const renamed = `${key}\x00r`;
        if (model.has(renamed)) continue;
        if (random() < 0.5) {
          const to = db.insert(renamed, db.table.valueLength(from));
          db.takeValue(db, from, to);
          if (entry.when !== -1) db.setExpire(to, entry.when);
          db.delete(from);
          model.delete(key);
          model.set(renamed, entry);
        } else if (!otherModel.has(key)) {
          const copy = other.insert(key, db.table.valueLength(from));
          dupString(db, from, other, copy);
          otherModel.set(key, { value: entry.value, when: -1 });
        }
      }
      checkAgainstLive(db, model);
      checkAgainst(other, otherModel);

      // Active expiry removes exactly the keys past their time.
      const expiredBefore = db.stats.expiredKeys;
      const pastKeys = [...model].filter(([, e]) => e.when !== -1 && e.when <= NOW).map(([k]) => k);
      // Each pass samples, so one may find nothing while expired keys remain; many passes
      // must find them all and nothing else.
      for (let pass = 0; pass < 100_000 && db.stats.expiredKeys - expiredBefore < pastKeys.length; pass++) {
        db.activeExpire(NOW, Number.POSITIVE_INFINITY, 20, 0);
      }
      expect(db.stats.expiredKeys - expiredBefore).toBe(pastKeys.length);
      for (const key of pastKeys) model.delete(key);
      checkAgainst(db, model);

      // A full SCAN sees every key; RANDOMKEY only ever names one.
      const seen = new Set<string>();
      let cursor = 0;
      do cursor = db.table.scan(cursor, (id) => seen.add(db.table.keyString(id)));
      while (cursor !== 0);
      expect(seen.size).toBe(model.size);
      for (const key of model.keys()) expect(seen.has(key)).toBe(true);
      for (let i = 0; i < 1000; i++) expect(model.has(db.table.keyString(db.randomKey()))).toBe(true);

      // SWAPDB exchanges whole contents.
      db.swapContents(other);
      checkAgainst(db, otherModel);
      checkAgainst(other, model);
      expect(other.clear()).toBe(model.size);
      other.table.validate();
      expect(other.size).toBe(0);
    });
  });

  test("lookups expire lazily and count hits and misses as Redis does", () => {
    const clock = new Clock();
    clock.nowMs = NOW;
    const db = newDb(0, clock);
    const model = new Map<string, Entry>();
    set(db, model, "a\x00", "1", false);
    set(db, model, "b\xff", "x".repeat(300), false);
    db.setExpire(db.peek("b\xff"), NOW + 10);
    expect(db.lookupRead("a\x00")).not.toBe(NO_KEY);
    expect(db.lookupRead("nope")).toBe(NO_KEY);
    expect(db.lookupWrite("nope")).toBe(NO_KEY);
    expect([db.stats.hits, db.stats.misses]).toEqual([1, 1]);
    expect(db.volatileCount).toBe(1);
    clock.nowMs = NOW + 10;
    expect(db.lookupReadNoTouch("b\xff")).toBe(NO_KEY);
    expect([db.stats.misses, db.stats.expiredKeys, db.size, db.volatileCount]).toEqual([2, 1, 1, 0]);
    // SET on a key past its time expires (and counts) it first, then adds a fresh key.
    set(db, model, "c", "v", false);
    db.setExpire(db.peek("c"), NOW);
    set(db, model, "c", "w", true);
    expect([db.stats.expiredKeys, db.getExpire(db.peek("c"))]).toEqual([2, -1]);
    db.table.validate();
  });
});

/** checkAgainst for a model that may still hold keys past their time (peek would remove them). */
function checkAgainstLive(db: Db, model: Map<string, Entry>): void {
  db.table.validate();
  expect(db.size).toBe(model.size);
  for (const [key, entry] of model) {
    const id = db.table.findString(key);
    expect(id).not.toBe(NO_KEY);
    expect(text(stringBytes(db, id))).toBe(entry.value);
    expect(db.getExpire(id)).toBe(entry.when);
  }
}
