// Memory accounting (Redis's used_memory): what the dataset and the server's own buffers
// hold, kept as running counts by the structures themselves rather than measured from the
// heap, so that the eviction check before every write costs a few additions, and a
// figure that moves with the data alone (a heap reading also moves with garbage not yet
// collected).
//
// The counts:
// - each database's KeyTable counts its records, its arrays and, in `objectBytes`, the
//   values it holds as objects (store/keytable.ts);
// - a value object (Dict, Quicklist, the skiplist zset, a hashtable hash) keeps its own
//   size current in `memoryBytes` as its methods change it, and while a table holds it,
//   reports each change to that table, its `ledger`;
// - byte arrays (long strings, large listpacks and intsets) never change size, so the
//   table counts them when it takes them and when it lets them go;
// - the server counts the clients' query and output buffers as they grow and shrink.
//
// The sizes are what each structure costs on the JavaScript heap, measured on Bun 1.4
// (JavaScriptCore) as the growth of process.memoryUsage().heapUsed after a full collection
// while building many of them. Against what Redis counts for the same values they come
// out within 0.7 to 1.4 times for most, up to 2.6 times for lists of one node and for
// skiplists, whose nodes are JS objects (their level links held as indexed properties)
// here (test/commands/memory.test.ts checks both the heap and Redis's figures).

import type { Server } from "../server/server.ts";
import type { KeyTable } from "../store/keytable.ts";

// ---------------------------------------------------------------------------------------
// What the runtime's building blocks cost
// ---------------------------------------------------------------------------------------

/** A string of one-byte characters: a 16-byte cell plus one byte per character. */
const STRING_CELL_BYTES = 16;
/** A Uint8Array's object, besides its bytes (small arrays round up a little more). */
const TYPED_ARRAY_BYTES = 64;
/** An integer string value past 2^53, held as a bigint. */
const BIGINT_BYTES = 32;

/**
 * The heap bytes of a latin1 string of `length` chars held by a collection. The runtime
 * shares every string of one character, so those cost nothing more.
 */
export function stringBytes(length: number): number {
  return length > 1 ? STRING_CELL_BYTES + length : 0;
}

/** stringBytes of a Dict value when it is a string; other values are counted by their owner. */
export function textBytes(value: unknown): number {
  return typeof value === "string" ? stringBytes(value.length) : 0;
}

// ---------------------------------------------------------------------------------------
// Value objects and the tables that hold them
// ---------------------------------------------------------------------------------------

/** Where a held value object reports the changes of its size: the KeyTable holding it. */
export interface MemoryLedger {
  objectBytes: number;
}

/** A value object that keeps its own size current as it changes. */
export interface AccountedValue {
  /** Heap bytes this value holds now. */
  readonly memoryBytes: number;
  /** The table holding it, told of each change; null while nothing holds it. */
  ledger: MemoryLedger | null;
}

/** The value as an AccountedValue, or null for byte arrays and bigints. */
export function accountedValue(value: unknown): AccountedValue | null {
  if (typeof value !== "object" || value === null || value instanceof Uint8Array) return null;
  return "ledger" in value ? (value as AccountedValue) : null;
}

/** What a value held as an object costs now: its bytes, or what it reports. */
export function objectValueBytes(value: unknown): number {
  if (value instanceof Uint8Array) return TYPED_ARRAY_BYTES + value.byteLength;
  if (typeof value === "bigint") return BIGINT_BYTES;
  return accountedValue(value)?.memoryBytes ?? 0;
}

// ---------------------------------------------------------------------------------------
// used_memory
// ---------------------------------------------------------------------------------------

/**
 * Bytes in use as Redis's used_memory counts them: the memory in use at start-up (empty
 * databases included), what the databases hold beyond that, the clients' buffers and the
 * AOF buffer. O(databases); it also moves the peak.
 */
export function usedMemory(server: Server): number {
  let bytes = server.startupMemory + server.clientBufferBytes + aofBufferBytes(server);
  for (const db of server.dbs) bytes += db.table.bytesAboveEmpty();
  if (bytes > server.peakMemory) server.peakMemory = bytes;
  return bytes;
}

/** Redis's serverCron peak check: used_memory_peak also catches what INFO never saw. */
export function trackPeakMemory(server: Server): void {
  usedMemory(server);
}

/** The AOF's buffer of commands not yet written (Redis's aof_buf). */
function aofBufferBytes(server: Server): number {
  return server.aof === null ? 0 : server.aof.bufferedBytes;
}

/**
 * Memory used_memory counts that eviction leaves out (Redis's freeMemoryGetNotCountedMemory):
 * the AOF buffer, which evicting keys would only grow.
 */
export function notCountedForEviction(server: Server): number {
  return aofBufferBytes(server);
}

/**
 * MEMORY USAGE of a key (Redis's objectComputeSize plus the key and its dict entry): its
 * record, its share of the table's per-entry arrays and its value object. The figures
 * are kept exact as values change, so nothing needs sampling.
 */
export function keyUsageBytes(table: KeyTable, id: number): number {
  return table.entryBytes(id) + (table.hasObject(id) ? objectValueBytes(table.getObject(id)) : 0);
}

// ---------------------------------------------------------------------------------------
// The process as the runtime sees it
// ---------------------------------------------------------------------------------------

/**
 * The process's own memory figures, in the roles Redis gives jemalloc's: "allocated" is
 * the JavaScript heap in use (objects and the buffers it holds), "active" the heap
 * reserved, "resident" and "rss" the resident set of the whole process.
 */
export interface ProcessMemory {
  allocated: number;
  active: number;
  resident: number;
  rss: number;
}

export function processMemory(): ProcessMemory {
  const mem = process.memoryUsage();
  // heapUsed already counts the external buffers (ArrayBuffers) the heap holds; heapTotal
  // does not, so they are added for the reserved figure.
  const allocated = mem.heapUsed;
  const active = Math.max(mem.heapTotal + mem.external, allocated);
  return { allocated, active, resident: mem.rss, rss: mem.rss };
}

// ---------------------------------------------------------------------------------------
// The breakdown (Redis's getMemoryOverheadData)
// ---------------------------------------------------------------------------------------

export interface DbOverhead {
  dbId: number;
  /** The key table's entry cells, index and object slots (Redis: dict entries, buckets, robj headers). */
  main: number;
  /** The list of keys with a time to live (Redis: the expires dict). */
  expires: number;
}

/** What INFO memory, MEMORY STATS and MEMORY DOCTOR report, computed once per call. */
export interface MemoryOverhead {
  total: number;
  startup: number;
  peak: number;
  clientsNormal: number;
  aofBuffer: number;
  dbs: DbOverhead[];
  overheadTotal: number;
  keys: number;
  /** Net usage (total minus startup) per key. */
  bytesPerKey: number;
  dataset: number;
  /** Dataset as a share of net usage, and total as a share of the peak; both float32, as in Redis. */
  datasetPerc: number;
  peakPerc: number;
  process: ProcessMemory;
  allocatorFrag: number;
  allocatorFragBytes: number;
  allocatorRss: number;
  allocatorRssBytes: number;
  rssExtra: number;
  rssExtraBytes: number;
  totalFrag: number;
  totalFragBytes: number;
}

/** Redis's getMemoryOverheadData: used_memory split into overhead and dataset, with the process ratios. */
export function memoryOverhead(server: Server): MemoryOverhead {
  const total = usedMemory(server);
  const startup = server.startupMemory;
  const clientsNormal = server.clientBufferBytes;
  const aofBuffer = aofBufferBytes(server);
  let overheadTotal = startup + clientsNormal + aofBuffer;
  let keys = 0;
  const dbs: DbOverhead[] = [];
  for (const db of server.dbs) {
    if (db.size === 0) continue;
    keys += db.size;
    const mem = db.table.memory();
    dbs.push({ dbId: db.id, main: mem.mainOverheadBytes, expires: mem.expiresOverheadBytes });
    overheadTotal += mem.mainOverheadBytes + mem.expiresOverheadBytes;
  }
  const net = total > startup ? total - startup : 1;
  const dataset = total - overheadTotal;
  const proc = processMemory();
  return {
    total,
    startup,
    peak: server.peakMemory,
    clientsNormal,
    aofBuffer,
    dbs,
    overheadTotal,
    keys,
    bytesPerKey: keys === 0 ? 0 : Math.floor(net / keys),
    dataset,
    datasetPerc: Math.fround((dataset * 100) / net),
    peakPerc: Math.fround((total * 100) / server.peakMemory),
    process: proc,
    allocatorFrag: Math.fround(proc.active / proc.allocated),
    allocatorFragBytes: proc.active - proc.allocated,
    allocatorRss: Math.fround(proc.resident / proc.active),
    allocatorRssBytes: proc.resident - proc.active,
    rssExtra: Math.fround(proc.rss / proc.resident),
    rssExtraBytes: proc.rss - proc.resident,
    totalFrag: Math.fround(proc.rss / total),
    totalFragBytes: proc.rss - total,
  };
}

// ---------------------------------------------------------------------------------------
// MEMORY DOCTOR (Redis's getMemoryDoctorReport)
// ---------------------------------------------------------------------------------------

/** Below this much used memory the doctor declines to judge. */
const DOCTOR_MIN_BYTES = 5 * 1024 * 1024;
/**
 * What Redis 7.0.15 holds at start-up (its used_memory_startup). redbun starts with a JS
 * heap several times larger, so the doctor's "empty" test counts redbun's own growth on top
 * of Redis's start, not its heap: otherwise a module loaded at start-up would decide it.
 */
const REDIS_STARTUP_BYTES = 875_976;
/** Ratios only count as problems past this many bytes. */
const DOCTOR_MIN_EXCESS_BYTES = 10 << 20;
/** Clients' buffers are big past this many bytes each on average. */
const DOCTOR_CLIENT_BUFFER_BYTES = 200 * 1024;
/** What INFO mem_allocator names, quoted in the fragmentation advice. */
export const ALLOCATOR_NAME = "bun";

const DOCTOR_FINE = "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n";
const DOCTOR_EMPTY =
  "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. " +
  "Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n";
const DOCTOR_INTRO = "Sam, I detected a few issues in this Redis instance memory implants:\n\n";
const DOCTOR_OUTRO = "I'm here to keep you safe, Sam. I want to help you.\n";
const DOCTOR_PEAK =
  " * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n";
const DOCTOR_HIGH_RSS =
  " * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. " +
  `Note: The currently used allocator is "${ALLOCATOR_NAME}".\n\n`;
const DOCTOR_ALLOCATOR_FRAG =
  " * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1. This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' config option.\n\n";
const DOCTOR_ALLOCATOR_RSS =
  " * High allocator RSS overhead: This instance has an RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the allocator is much larger than the sum what the allocator actually holds). This problem is usually due to a large peak memory (check if there is a peak memory entry above in the report), you can try the MEMORY PURGE command to reclaim it.\n\n";
const DOCTOR_PROCESS_RSS =
  " * High process RSS overhead: This instance has non-allocator RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the Redis process is much larger than the RSS the allocator holds). This problem may be due to Lua scripts or Modules.\n\n";
const DOCTOR_CLIENT_BUFFERS =
  " * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n";

/**
 * MEMORY DOCTOR's report, with Redis 7.0's texts and thresholds. Replica buffers and
 * cached scripts, which redbun does not have yet, are never reported.
 */
export function memoryDoctorReport(server: Server): string {
  const mh = memoryOverhead(server);
  if (mh.total - mh.startup + REDIS_STARTUP_BYTES < DOCTOR_MIN_BYTES) return DOCTOR_EMPTY;
  const issues: string[] = [];
  if (Math.fround(mh.peak / mh.total) > 1.5) issues.push(DOCTOR_PEAK);
  if (mh.totalFrag > 1.4 && mh.totalFragBytes > DOCTOR_MIN_EXCESS_BYTES) issues.push(DOCTOR_HIGH_RSS);
  if (mh.allocatorFrag > 1.1 && mh.allocatorFragBytes > DOCTOR_MIN_EXCESS_BYTES) issues.push(DOCTOR_ALLOCATOR_FRAG);
  if (mh.allocatorRss > 1.1 && mh.allocatorRssBytes > DOCTOR_MIN_EXCESS_BYTES) issues.push(DOCTOR_ALLOCATOR_RSS);
  if (mh.rssExtra > 1.1 && mh.rssExtraBytes > DOCTOR_MIN_EXCESS_BYTES) issues.push(DOCTOR_PROCESS_RSS);
  // Redis divides by the number of clients without checking for none; the doctor's own
  // client is always there.
  if (Math.floor(mh.clientsNormal / Math.max(server.clients.size, 1)) > DOCTOR_CLIENT_BUFFER_BYTES) issues.push(DOCTOR_CLIENT_BUFFERS);
  if (issues.length === 0) return DOCTOR_FINE;
  return DOCTOR_INTRO + issues.join("") + DOCTOR_OUTRO;
}
