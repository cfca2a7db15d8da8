// SLOWLOG and LATENCY: the two diagnostics containers over src/metrics/slowlog.ts and
// src/metrics/latency-monitor.ts (Redis's slowlog.c and latency.c commands).

import type { CommandDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import type { Command } from "./table.ts";
import type { LatencyHistogram } from "../metrics/latency.ts";
import { highestEquivalent } from "../metrics/latency.ts";
import { parseRangeArgOr } from "./args.ts";
import { subcommandSyntaxError } from "../resp/errors.ts";
import { latencyGraph, latencyReport } from "../metrics/latency-monitor.ts";

const SLOWLOG_HELP = [
  "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "GET [<count>]",
  "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
  "    Entries are made of:",
  "    id, timestamp, time in microseconds, arguments array, client IP and port,",
  "    client name",
  "LEN",
  "    Return the length of the slowlog.",
  "RESET",
  "    Reset the slowlog.",
  "HELP",
  "    Prints this help.",
];

const LATENCY_HELP = [
  "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "DOCTOR",
  "    Return a human readable latency analysis report.",
  "GRAPH <event>",
  "    Return an ASCII latency graph for the <event> class.",
  "HISTORY <event>",
  "    Return time-latency samples for the <event> class.",
  "LATEST",
  "    Return the latest latency samples for all events.",
  "RESET [<event> ...]",
  "    Reset latency data of one or more <event> classes.",
  "    (default: reset all data for all event classes)",
  "HISTOGRAM [COMMAND ...]",
  "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
  "    If no commands are specified then all histograms are replied.",
  "HELP",
  "    Prints this help.",
];

/** How many entries SLOWLOG GET answers without a count. */
const DEFAULT_GET_COUNT = 10;
/** LATENCY HISTOGRAM's first reported bucket (1024 ns) and its growth factor, as Redis iterates. */
const HISTOGRAM_FIRST_NS = 1024;
const HISTOGRAM_MAX_NS = 1_000_000_000;

/** SLOWLOG GET [count] */
function slowlogGetCommand(c: Client): void {
  const argv = c.argv;
  if (argv.count > 3) return c.w.addError(subcommandSyntaxError(argv.str(1), "slowlog"));
  const entries = c.server.slowlog.entries;
  let count = DEFAULT_GET_COUNT;
  if (argv.count === 3) {
    const n = parseRangeArgOr(c, 2, -1, Infinity, "ERR count should be greater than or equal to -1");
    if (n === null) return;
    count = n === -1 ? entries.length : n;
  }
  const w = c.w;
  const shown = Math.min(count, entries.length);
  w.addArrayLen(shown);
  for (let k = 0; k < shown; k++) {
    const e = entries[entries.length - 1 - k]!;
    w.addArrayLen(6);
    w.addInteger(e.id);
    w.addInteger(e.timeS);
    w.addInteger(e.durationUs);
    w.addArrayLen(e.args.length);
    for (const a of e.args) w.addBulk(a);
    w.addBulkLatin1(e.addr);
    w.addBulkLatin1(e.name);
  }
}

/** SLOWLOG LEN */
function slowlogLenCommand(c: Client): void {
  c.w.addInteger(c.server.slowlog.entries.length);
}

/** SLOWLOG RESET */
function slowlogResetCommand(c: Client): void {
  c.server.slowlog.reset();
  c.w.addSimple("OK");
}

/** SLOWLOG HELP */
function slowlogHelpCommand(c: Client): void {
  c.w.addHelp(SLOWLOG_HELP);
}

/** LATENCY LATEST */
function latencyLatestCommand(c: Client): void {
  const w = c.w;
  const events = c.server.latencyMonitor.events;
  w.addArrayLen(events.size);
  for (const [name, series] of events) {
    const last = series.last;
    w.addArrayLen(4);
    w.addBulkLatin1(name);
    w.addInteger(series.timesS[last]!);
    w.addInteger(series.latenciesMs[last]!);
    w.addInteger(series.maxMs);
  }
}

/** LATENCY HISTORY event */
function latencyHistoryCommand(c: Client): void {
  const w = c.w;
  const series = c.server.latencyMonitor.events.get(c.argv.str(2));
  if (series === undefined) return w.addArrayLen(0);
  const slots = [...series.slots()];
  w.addArrayLen(slots.length);
  for (const i of slots) {
    w.addArrayLen(2);
    w.addInteger(series.timesS[i]!);
    w.addInteger(series.latenciesMs[i]!);
  }
}

/** LATENCY RESET [event ...] */
function latencyResetCommand(c: Client): void {
  const argv = c.argv;
  const names: string[] = [];
  for (let i = 2; i < argv.count; i++) names.push(argv.str(i));
  c.w.addInteger(c.server.latencyMonitor.reset(argv.count === 2 ? null : names));
}

/** LATENCY GRAPH event */
function latencyGraphCommand(c: Client): void {
  const event = c.argv.str(2);
  const series = c.server.latencyMonitor.events.get(event);
  if (series === undefined) return c.w.addError(`ERR No samples available for event '${event}'`);
  c.w.addVerbatim(latencyGraph(event, series));
}

/** LATENCY DOCTOR */
function latencyDoctorCommand(c: Client): void {
  c.w.addVerbatim(latencyReport(c.server.latencyMonitor, c.server.config));
}

/** LATENCY HISTOGRAM [command ...] */
function latencyHistogramCommand(c: Client): void {
  const argv = c.argv;
  const chosen: Command[] = [];
  if (argv.count === 2) {
    for (const cmd of c.server.commands.all()) withSubcommands(cmd, chosen);
  } else {
    for (let i = 2; i < argv.count; i++) {
      const cmd = lookupByFullName(c, argv.lower(i));
      if (cmd !== undefined) withSubcommands(cmd, chosen);
    }
  }
  const w = c.w;
  w.addMapLen(chosen.length);
  for (const cmd of chosen) {
    w.addBulkLatin1(cmd.fullName);
    addCumulativeHistogram(c, cmd.latency!);
  }
}

/** The command and its subcommands that have latency figures, as Redis lists them. */
function withSubcommands(cmd: Command, out: Command[]): void {
  if (cmd.latency !== null) out.push(cmd);
  if (cmd.subcommands !== null) for (const sub of cmd.subcommands.values()) if (sub.latency !== null) out.push(sub);
}

/** A command by its full name ("get", "config|get"), as Redis's lookupCommandBySds. */
function lookupByFullName(c: Client, name: string): Command | undefined {
  const [top, sub, extra] = name.split("|");
  if (extra !== undefined) return undefined;
  const cmd = c.server.commands.byName.get(top!);
  if (sub === undefined || cmd === undefined) return cmd;
  return cmd.subcommands?.get(sub);
}

/** {calls, histogram_usec: {bucket: cumulative count}} for one command. */
function addCumulativeHistogram(c: Client, h: LatencyHistogram): void {
  const w = c.w;
  w.addMapLen(2);
  w.addBulkLatin1("calls");
  w.addInteger(h.count);
  w.addBulkLatin1("histogram_usec");
  const buckets = cumulativeBuckets(h);
  w.addMapLen(buckets.length / 2);
  for (const n of buckets) w.addInteger(n);
}

/**
 * The HDR log iteration Redis reports: levels from 1024 ns doubling, each named by the
 * highest value its slot holds in whole µs, with the count of calls up to that slot; a
 * level shows only when that count grew. Returns the pairs flattened.
 */
export function cumulativeBuckets(h: LatencyHistogram): number[] {
  const buckets: number[] = [];
  let previous = 0;
  for (let level = HISTOGRAM_FIRST_NS; previous < h.count && level <= 2 * HISTOGRAM_MAX_NS; level *= 2) {
    const cumulative = h.countUpTo(level);
    if (cumulative > previous) buckets.push(Math.floor(highestEquivalent(level) / 1000), cumulative);
    previous = cumulative;
  }
  return buckets;
}

/** LATENCY HELP */
function latencyHelpCommand(c: Client): void {
  c.w.addHelp(LATENCY_HELP);
}

const ADMIN = "admin loading stale";
const ADMIN_NOSCRIPT = "admin noscript loading stale";
const SPECIAL_TIPS = ["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"];

export const slowlogCommands: CommandDef[] = [
  {
    name: "slowlog", arity: -2, flags: "", group: "server", since: "2.2.12",
    summary: "A container for slow log commands", complexity: "Depends on subcommand.",
    subcommands: [
      {
        name: "slowlog|reset", arity: 2, flags: ADMIN, group: "server", since: "2.2.12",
        summary: "Clear all entries from the slow log", complexity: "O(N) where N is the number of entries in the slowlog",
        tips: ["request_policy:all_nodes", "response_policy:all_succeeded"],
        handler: slowlogResetCommand,
      },
      {
        name: "slowlog|len", arity: 2, flags: ADMIN, group: "server", since: "2.2.12",
        summary: "Get the slow log's length", complexity: "O(1)",
        tips: ["request_policy:all_nodes", "response_policy:agg_sum", "nondeterministic_output"],
        handler: slowlogLenCommand,
      },
      {
        name: "slowlog|help", arity: 2, flags: "loading stale", group: "server", since: "6.2.0",
        summary: "Show helpful text about the different subcommands", complexity: "O(1)",
        handler: slowlogHelpCommand,
      },
      {
        name: "slowlog|get", arity: -2, flags: ADMIN, group: "server", since: "2.2.12",
        summary: "Get the slow log's entries", complexity: "O(N) where N is the number of entries returned",
        tips: ["request_policy:all_nodes", "nondeterministic_output"],
        history: [["4.0.0", "Added client IP address, port and name to the reply."]],
        arguments: [{ name: "count", type: "integer", flags: ["optional"] }],
        handler: slowlogGetCommand,
      },
    ],
  },
  {
    name: "latency", arity: -2, flags: "", group: "server", since: "2.8.13",
    summary: "A container for latency diagnostics commands", complexity: "Depends on subcommand.",
    subcommands: [
      {
        name: "latency|graph", arity: 3, flags: ADMIN_NOSCRIPT, group: "server", since: "2.8.13",
        summary: "Return a latency graph for the event.", complexity: "O(1)", tips: SPECIAL_TIPS,
        arguments: [{ name: "event", type: "string" }],
        handler: latencyGraphCommand,
      },
      {
        name: "latency|help", arity: 2, flags: "loading stale", group: "server", since: "2.8.13",
        summary: "Show helpful text about the different subcommands.", complexity: "O(1)",
        handler: latencyHelpCommand,
      },
      {
        name: "latency|doctor", arity: 2, flags: ADMIN_NOSCRIPT, group: "server", since: "2.8.13",
        summary: "Return a human readable latency analysis report.", complexity: "O(1)", tips: SPECIAL_TIPS,
        handler: latencyDoctorCommand,
      },
      {
        name: "latency|histogram", arity: -2, flags: ADMIN_NOSCRIPT, group: "server", since: "7.0.0",
        summary: "Return the cumulative distribution of latencies of a subset of commands or all.",
        complexity: "O(N) where N is the number of commands with latency information being retrieved.",
        tips: SPECIAL_TIPS,
        arguments: [{ name: "command", type: "string", flags: ["optional", "multiple"] }],
        handler: latencyHistogramCommand,
      },
      {
        name: "latency|reset", arity: -2, flags: ADMIN_NOSCRIPT, group: "server", since: "2.8.13",
        summary: "Reset latency data for one or more events.", complexity: "O(1)",
        tips: ["request_policy:all_nodes", "response_policy:all_succeeded"],
        arguments: [{ name: "event", type: "string", flags: ["optional", "multiple"] }],
        handler: latencyResetCommand,
      },
      {
        name: "latency|latest", arity: 2, flags: ADMIN_NOSCRIPT, group: "server", since: "2.8.13",
        summary: "Return the latest latency samples for all events.", complexity: "O(1)", tips: SPECIAL_TIPS,
        handler: latencyLatestCommand,
      },
      {
        name: "latency|history", arity: 3, flags: ADMIN_NOSCRIPT, group: "server", since: "2.8.13",
        summary: "Return timestamp-latency samples for the event.", complexity: "O(1)", tips: SPECIAL_TIPS,
        arguments: [{ name: "event", type: "string" }],
        handler: latencyHistoryCommand,
      },
    ],
  },
];
