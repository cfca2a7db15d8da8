// MEMORY and its subcommands (Redis's memoryCommand in object.c): USAGE STATS DOCTOR PURGE
// MALLOC-STATS HELP, answered from the memory accounting in cache/memory.ts.

import type { Client } from "../server/client.ts";
import { type CommandDef, keyRange } from "./table.ts";
import { ERR } from "../resp/errors.ts";
import { OK } from "../resp/writer.ts";
import { parseLongLong, parsedInt64 } from "../util/numbers.ts";
import { keyUsageBytes, memoryDoctorReport, memoryOverhead } from "../cache/memory.ts";
import { collectGarbage } from "../util/runtime.ts";

const MEMORY_HELP = [
  "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "DOCTOR",
  "    Return memory problems reports.",
  "MALLOC-STATS",
  "    Return internal statistics report from the memory allocator.",
  "PURGE",
  "    Attempt to purge dirty pages for reclamation by the allocator.",
  "STATS",
  "    Return information about the memory usage of the server.",
  "USAGE <key> [SAMPLES <count>]",
  "    Return memory in bytes used by <key> and its value. Nested values are",
  "    sampled up to <count> times (default: 5, 0 means sample all).",
  "HELP",
  "    Prints this help.",
];

/** What Redis built without jemalloc answers to MALLOC-STATS; redbun's allocator is the runtime's. */
const NO_MALLOC_STATS = "Stats not supported for the current allocator";

/** MEMORY HELP */
function memoryHelpCommand(c: Client): void {
  c.w.addHelp(MEMORY_HELP);
}

/**
 * MEMORY USAGE key [SAMPLES count]. The options are checked first, as in Redis. SAMPLES is
 * accepted and ignored: every value keeps its size exact as it changes, so there is
 * nothing to estimate from samples. Like Redis, the key is found without the expiry check
 * or any statistics, so a key past its time is still measured until it is removed.
 */
function memoryUsageCommand(c: Client): void {
  const argv = c.argv;
  for (let i = 3; i < argv.count; i += 2) {
    if (!argv.is(i, "samples") || i + 1 >= argv.count) return c.w.addErrorBytes(ERR.syntax);
    if (!parseLongLong(argv.buf, argv.start[i + 1]!, argv.len[i + 1]!)) return c.w.addErrorBytes(ERR.notInteger);
    if (parsedInt64.value < 0) return c.w.addErrorBytes(ERR.syntax);
  }
  const table = c.db.table;
  const id = table.find(argv.buf, argv.start[2]!, argv.len[2]!);
  if (id < 0) return c.w.addNull();
  c.w.addInteger(keyUsageBytes(table, id));
}

/** MEMORY STATS: Redis 7.0's map of figures, in its order and with its names. */
function memoryStatsCommand(c: Client): void {
  const w = c.w;
  const mh = memoryOverhead(c.server);
  const field = (name: string, value: number): void => {
    w.addBulkLatin1(name);
    w.addInteger(value);
  };
  const ratioField = (name: string, value: number): void => {
    w.addBulkLatin1(name);
    w.addDouble(value);
  };
  w.addMapLen(27 + mh.dbs.length);
  field("peak.allocated", mh.peak);
  field("total.allocated", mh.total);
  field("startup.allocated", mh.startup);
  field("replication.backlog", 0);
  field("clients.slaves", 0);
  field("clients.normal", mh.clientsNormal);
  field("cluster.links", 0);
  field("aof.buffer", mh.aofBuffer);
  field("lua.caches", 0);
  field("functions.caches", 0);
  for (const db of mh.dbs) {
    w.addBulkLatin1(`db.${db.dbId}`);
    w.addMapLen(3);
    field("overhead.hashtable.main", db.main);
    field("overhead.hashtable.expires", db.expires);
    field("overhead.hashtable.slot-to-keys", 0);
  }
  field("overhead.total", mh.overheadTotal);
  field("keys.count", mh.keys);
  field("keys.bytes-per-key", mh.bytesPerKey);
  field("dataset.bytes", mh.dataset);
  ratioField("dataset.percentage", mh.datasetPerc);
  ratioField("peak.percentage", mh.peakPerc);
  field("allocator.allocated", mh.process.allocated);
  field("allocator.active", mh.process.active);
  field("allocator.resident", mh.process.resident);
  ratioField("allocator-fragmentation.ratio", mh.allocatorFrag);
  field("allocator-fragmentation.bytes", mh.allocatorFragBytes);
  ratioField("allocator-rss.ratio", mh.allocatorRss);
  field("allocator-rss.bytes", mh.allocatorRssBytes);
  ratioField("rss-overhead.ratio", mh.rssExtra);
  field("rss-overhead.bytes", mh.rssExtraBytes);
  ratioField("fragmentation", mh.totalFrag);
  field("fragmentation.bytes", mh.totalFragBytes);
}

/** MEMORY DOCTOR */
function memoryDoctorCommand(c: Client): void {
  c.w.addVerbatim(memoryDoctorReport(c.server));
}

/** MEMORY MALLOC-STATS */
function memoryMallocStatsCommand(c: Client): void {
  c.w.addBulkLatin1(NO_MALLOC_STATS);
}

/** MEMORY PURGE: a full garbage collection, the runtime's way of giving memory back. */
function memoryPurgeCommand(c: Client): void {
  collectGarbage();
  c.w.addRaw(OK);
}

const fanOutTips = ["nondeterministic_output", "request_policy:all_shards", "response_policy:special"];

/** The subcommands without arguments share all but name, summary, complexity, tips and handler. */
function bareSubcommand(name: string, summary: string, complexity: string, tips: string[] | undefined, handler: (c: Client) => void): CommandDef {
  return { name: `memory|${name}`, arity: 2, flags: "", group: "server", since: "4.0.0", summary, complexity, tips, handler };
}

const slowComplexity = "Depends on how much memory is allocated, could be slow";

export const memoryCommands: CommandDef[] = [
  {
    name: "memory", arity: -2, flags: "", group: "server", since: "4.0.0",
    summary: "A container for memory diagnostics commands", complexity: "Depends on subcommand.",
    subcommands: [
      {
        name: "memory|usage", arity: -3, flags: "readonly", group: "server", since: "4.0.0",
        summary: "Estimate the memory usage of a key", complexity: "O(N) where N is the number of samples.",
        keySpecs: [keyRange("RO", 2)],
        arguments: [
          { name: "key", type: "key", key_spec_index: 0 },
          { name: "count", type: "integer", token: "SAMPLES", flags: ["optional"] },
        ],
        handler: memoryUsageCommand,
      },
      {
        name: "memory|help", arity: 2, flags: "loading stale", group: "server", since: "4.0.0",
        summary: "Show helpful text about the different subcommands", complexity: "O(1)",
        handler: memoryHelpCommand,
      },
      bareSubcommand("malloc-stats", "Show allocator internal stats", slowComplexity, fanOutTips, memoryMallocStatsCommand),
      bareSubcommand("doctor", "Outputs memory problems report", "O(1)", fanOutTips, memoryDoctorCommand),
      bareSubcommand("purge", "Ask the allocator to release memory", slowComplexity, ["request_policy:all_shards", "response_policy:all_succeeded"], memoryPurgeCommand),
      bareSubcommand("stats", "Show memory usage details", "O(1)", fanOutTips, memoryStatsCommand),
    ],
  },
];
