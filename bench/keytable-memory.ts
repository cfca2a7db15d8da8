// Memory per key and resize latency of KeyTable, against Map<string, string>.
//
//   bun bench/keytable-memory.ts [--keys 1000000] [--value-bytes 10] [--layouts keytable,objects,map]
//
// Each layout is measured in a child process of its own, so one's heap cannot inflate the
// other's RSS. A child first loads N/5 keys and drops them (so compiled code and allocator
// structures are in the baseline), settles its heap (Bun.gc(true) twice), reads its RSS, loads N keys
// `key:0000000`.. with values of --value-bytes bytes, settles again and reads RSS again;
// bytes per key is the difference divided by N. The layouts:
//
//   keytable  KeyTable with the value inline in the record (what SET of a short string does)
//   objects   KeyTable with each value a Uint8Array held through setObject, to show what
//             inlining saves (and so where INLINE_MAX pays off)
//   map       Map<string, string>: the latin1 key and value strings a naive keyspace keeps
//
// The keytable child also times every insert and lists the ones slower than 1 ms: those
// are the index doublings and entry-cell growths, whose latency a server pays in one go.
import { parseArgs } from "node:util";
import { KeyTable } from "../src/store/keytable.ts";
import { type Table, fmtBytes, fmtFixed, fmtInt, renderPlain } from "./lib/table.ts";

const LAYOUTS = ["keytable", "objects", "map"] as const;
type Layout = (typeof LAYOUTS)[number];
/** Inserts slower than this are reported as pauses. */
const PAUSE_MS = 1;

interface Result {
  layout: Layout;
  keys: number;
  rssBefore: number;
  rssAfter: number;
  loadMs: number;
  /** KeyTable's own accounting, when the layout has one. */
  bytesUsed?: number;
  pageBytes?: number;
  /** Slow inserts with what they grew; an empty cause is a GC or scheduler pause. */
  pauses: { atKey: number; ms: number; cause: string }[];
}

const keyOf = (i: number): string => `key:${String(i).padStart(7, "0")}`;
const valueOf = (i: number, bytes: number): string => `v${String(i).padStart(bytes - 1, "0")}`.slice(0, bytes);

function settledRss(): number {
  Bun.gc(true);
  Bun.gc(true);
  return process.memoryUsage().rss;
}

/** Copies a latin1 string into buf from 0 and returns its length. */
function encodeInto(s: string, buf: Uint8Array): number {
  for (let i = 0; i < s.length; i++) buf[i] = s.charCodeAt(i);
  return s.length;
}

/**
 * Writes the decimal digits of n right-aligned into buf[from, end), over a template made by
 * keyOf/valueOf, so the keytable loaders make no strings: their garbage would stay in the
 * GC heap's RSS and be charged to the table (about 10 B/key here).
 */
function writeDigits(buf: Uint8Array, from: number, end: number, n: number): void {
  for (let at = end - 1; at >= from; at--, n = Math.floor(n / 10)) buf[at] = 48 + (n % 10);
}

/** Loads the keys into a KeyTable, timing each insert; values inline or as objects. */
function loadKeyTable(keys: number, valueBytes: number, inline: boolean, result: Result): KeyTable {
  const table = new KeyTable();
  const keyBuf = new Uint8Array(64);
  const valueBuf = new Uint8Array(Math.max(valueBytes, 64));
  const keyLen = encodeInto(keyOf(0), keyBuf);
  encodeInto(valueOf(0, valueBytes), valueBuf);
  for (let i = 0; i < keys; i++) {
    writeDigits(keyBuf, 4, keyLen, i);
    writeDigits(valueBuf, 1, valueBytes, i);
    const slotsBefore = table.indexSlots;
    const pagesBefore = table.slabPages;
    const t0 = performance.now();
    const id = table.insert(keyBuf, 0, keyLen, inline ? valueBytes : 4);
    const ms = performance.now() - t0;
    if (inline) table.setBytes(id, valueBuf, 0, valueBytes);
    else table.setObject(id, valueBuf.slice(0, valueBytes));
    if (ms > PAUSE_MS) result.pauses.push({ atKey: i, ms, cause: pauseCause(table, slotsBefore, pagesBefore) });
  }
  result.bytesUsed = table.bytesUsed();
  result.pageBytes = table.memory().pageBytes;
  return table;
}

/** What the insert that just ran had to grow, if anything; otherwise the pause was GC or the scheduler. */
function pauseCause(table: KeyTable, slotsBefore: number, pagesBefore: number): string {
  if (table.indexSlots !== slotsBefore) return `index grew to ${fmtInt(table.indexSlots)} slots`;
  const id = table.idLimit - 1;
  if (id >= 16 && (id & (id - 1)) === 0) return `entry cells grew to ${fmtInt(2 * id)}`;
  if (table.slabPages !== pagesBefore) return "a slab page was added";
  return "";
}

function loadMap(keys: number, valueBytes: number): Map<string, string> {
  const map = new Map<string, string>();
  // Strings made by concatenation are ropes; flattening them as a parser would is what a
  // server stores, so each goes through a byte round trip.
  const scratch = new Uint8Array(64);
  const latin1 = (s: string): string => Buffer.from(scratch.subarray(0, encodeInto(s, scratch))).toString("latin1");
  for (let i = 0; i < keys; i++) map.set(latin1(keyOf(i)), latin1(valueOf(i, valueBytes)));
  return map;
}

function load(layout: Layout, keys: number, valueBytes: number, result: Result): { size: number } {
  return layout === "map" ? loadMap(keys, valueBytes) : loadKeyTable(keys, valueBytes, layout === "keytable", result);
}

function runChild(layout: Layout, keys: number, valueBytes: number): Result {
  // A smaller load first, thrown away, so that compiled code and the allocator's own
  // structures are in the baseline: they are a constant, not a cost per key.
  load(layout, Math.ceil(keys / 5), valueBytes, { layout, keys, rssBefore: 0, rssAfter: 0, loadMs: 0, pauses: [] });
  const result: Result = { layout, keys, rssBefore: settledRss(), rssAfter: 0, loadMs: 0, pauses: [] };
  const t0 = performance.now();
  const kept = load(layout, keys, valueBytes, result);
  result.loadMs = performance.now() - t0;
  result.rssAfter = settledRss();
  // Keep the structure alive until after the measurement.
  if (kept.size !== keys) throw new Error(`${layout}: loaded ${kept.size} keys`);
  return result;
}

async function measure(layout: Layout, keys: number, valueBytes: number): Promise<Result> {
  const child = Bun.spawn([process.execPath, import.meta.path, "--child", layout, "--keys", String(keys), "--value-bytes", String(valueBytes)], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const out = await new Response(child.stdout).text();
  if ((await child.exited) !== 0) throw new Error(`${layout} child failed`);
  return JSON.parse(out) as Result;
}

function report(results: Result[], valueBytes: number): void {
  const table: Table = {
    headers: ["layout", "keys", "RSS added", "B/key RSS", "B/key bytesUsed", "slab pages", "load s"],
    align: ["left", "right", "right", "right", "right", "right", "right"],
    rows: results.map((r) => [
      r.layout,
      fmtInt(r.keys),
      fmtBytes(r.rssAfter - r.rssBefore),
      fmtFixed((r.rssAfter - r.rssBefore) / r.keys, 1),
      r.bytesUsed === undefined ? "-" : fmtFixed(r.bytesUsed / r.keys, 1),
      r.pageBytes === undefined ? "-" : fmtBytes(r.pageBytes),
      fmtFixed(r.loadMs / 1000, 2),
    ]),
  };
  console.log(`\n${valueBytes}-byte values, RSS after Bun.gc(true):\n`);
  console.log(renderPlain(table));
  for (const r of results) {
    const growths = r.pauses.filter((p) => p.cause !== "");
    const others = r.pauses.filter((p) => p.cause === "");
    if (r.pauses.length === 0) continue;
    console.log(`\n${r.layout}: inserts slower than ${PAUSE_MS} ms`);
    for (const p of growths) console.log(`  key ${fmtInt(p.atKey).padStart(11)}  ${fmtFixed(p.ms, 1).padStart(7)} ms  ${p.cause}`);
    if (others.length > 0) {
      const worst = Math.max(...others.map((p) => p.ms));
      console.log(`  and ${others.length} more that grew nothing (GC or scheduler), the worst ${fmtFixed(worst, 1)} ms`);
    }
  }
}

const { values } = parseArgs({
  options: {
    keys: { type: "string", default: "1000000" },
    "value-bytes": { type: "string", default: "10" },
    layouts: { type: "string", default: LAYOUTS.join(",") },
    child: { type: "string" },
  },
});
const keys = Number(values.keys);
const valueBytes = Number(values["value-bytes"]);
if (!Number.isInteger(keys) || keys <= 0) throw new Error(`--keys must be a positive integer`);
if (!Number.isInteger(valueBytes) || valueBytes < 1 || valueBytes > 255) throw new Error(`--value-bytes must be in 1..255`);

if (values.child !== undefined) {
  console.log(JSON.stringify(runChild(values.child as Layout, keys, valueBytes)));
} else {
  const layouts = values.layouts!.split(",").filter((l): l is Layout => (LAYOUTS as readonly string[]).includes(l));
  const results: Result[] = [];
  for (const layout of layouts) results.push(await measure(layout, keys, valueBytes));
  report(results, valueBytes);
}
