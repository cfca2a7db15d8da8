// Per-command latency histograms behind INFO latencystats (Redis's latency-tracking).
//
// Redis records every call's duration in an HDR histogram with 2 significant figures over
// 1 ns .. 1 s and reports the percentiles named by `latency-tracking-info-percentiles`.
// This histogram has the same bucket layout, so the same durations give the same figures:
// each value lands in a bucket whose width doubles every power of two above 256 ns, and a
// percentile is reported as the highest value its bucket holds (the lowest, for p0).

import type { Command } from "../commands/table.ts";

/** The range Redis tracks (LATENCY_HISTOGRAM_MIN_VALUE / MAX_VALUE), in nanoseconds. */
const MIN_NS = 1;
const MAX_NS = 1_000_000_000;
/** 2 significant figures need 256 sub-buckets per bucket (2 * 10^2 rounded up to a power of 2). */
const SUB_BUCKET_COUNT = 256;
const SUB_BUCKET_HALF = SUB_BUCKET_COUNT / 2;
const SUB_BUCKET_HALF_BITS = 7;
const SUB_BUCKET_MASK = SUB_BUCKET_COUNT - 1;
/** Buckets until 256 << (n - 1) exceeds MAX_NS. */
const BUCKET_COUNT = bucketsNeeded();
const COUNTS_LEN = (BUCKET_COUNT + 1) * SUB_BUCKET_HALF;

function bucketsNeeded(): number {
  let n = 1;
  for (let untrackable = SUB_BUCKET_COUNT; untrackable <= MAX_NS; untrackable *= 2) n++;
  return n;
}

/** The bucket a value falls in: how many doublings above the first 256 values it is. */
function bucketOf(value: number): number {
  return 32 - Math.clz32(value | SUB_BUCKET_MASK) - (SUB_BUCKET_HALF_BITS + 1);
}

/** The smallest value of the equivalence range that holds `value`. */
function lowestEquivalent(value: number): number {
  const bucket = bucketOf(value);
  return Math.floor(value / 2 ** bucket) * 2 ** bucket;
}

/** The largest value of the equivalence range that holds `value`. */
export function highestEquivalent(value: number): number {
  const bucket = bucketOf(value);
  const sub = Math.floor(value / 2 ** bucket);
  const width = 2 ** (sub >= SUB_BUCKET_COUNT ? bucket + 1 : bucket);
  return lowestEquivalent(value) + width - 1;
}

/** The value at the start of counts slot `index`. */
function valueAtIndex(index: number): number {
  let bucket = (index >> SUB_BUCKET_HALF_BITS) - 1;
  let sub = (index & (SUB_BUCKET_HALF - 1)) + SUB_BUCKET_HALF;
  if (bucket < 0) {
    sub -= SUB_BUCKET_HALF;
    bucket = 0;
  }
  return sub * 2 ** bucket;
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(COUNTS_LEN);
  private total = 0;

  /** Record one duration in nanoseconds, clamped to the tracked range as Redis clamps it. */
  record(ns: number): void {
    const value = Math.min(MAX_NS, Math.max(MIN_NS, Math.round(ns)));
    const bucket = bucketOf(value);
    // MAX_NS < 2^31, so a shift is an exact, cheap division by 2^bucket.
    const sub = value >>> bucket;
    this.counts[((bucket + 1) << SUB_BUCKET_HALF_BITS) + sub - SUB_BUCKET_HALF]!++;
    this.total++;
  }

  /** How many durations were recorded. */
  get count(): number {
    return this.total;
  }

  /** How many durations fell in the slots up to the one holding `ns` (LATENCY HISTOGRAM's cumulative counts). */
  countUpTo(ns: number): number {
    const bucket = bucketOf(ns);
    const last = ((bucket + 1) << SUB_BUCKET_HALF_BITS) + (ns >>> bucket) - SUB_BUCKET_HALF;
    let seen = 0;
    for (let i = 0; i <= last && i < COUNTS_LEN; i++) seen += this.counts[i]!;
    return seen;
  }

  /** The value at `percentile` (0..100), in nanoseconds. */
  valueAtPercentile(percentile: number): number {
    const wanted = Math.max(1, Math.floor((Math.min(percentile, 100) / 100) * this.total + 0.5));
    let seen = 0;
    for (let i = 0; i < COUNTS_LEN; i++) {
      seen += this.counts[i]!;
      if (seen >= wanted) {
        const value = valueAtIndex(i);
        return percentile === 0 ? lowestEquivalent(value) : highestEquivalent(value);
      }
    }
    return 0;
  }
}

/** Record one call of `cmd` that took `ns` nanoseconds; the histogram is made on the first call, as Redis makes it. */
export function recordCommandLatency(cmd: Command, ns: number): void {
  (cmd.latency ??= new LatencyHistogram()).record(ns);
}

/** CONFIG RESETSTAT: forget every histogram of these commands and their subcommands. */
export function resetCommandLatency(commands: Iterable<Command>): void {
  for (const cmd of commands) {
    cmd.latency = null;
    if (cmd.subcommands !== null) for (const sub of cmd.subcommands.values()) sub.latency = null;
  }
}

/** A percentile as Redis names it: printf("%f") with trailing zeros trimmed ("99.9", "50"). */
function percentileName(p: number): string {
  return p.toFixed(6).replace(/\.?0+$/, "");
}

/**
 * INFO latencystats lines: `latency_percentiles_usec_<cmd>:p50=1.003,p99=...` for every
 * command (and subcommand) with a histogram, values in microseconds with 3 decimals.
 */
export function latencyStatsLines(commands: Iterable<Command>, percentiles: readonly number[]): string[] {
  const lines: string[] = [];
  for (const cmd of commands) {
    const list = cmd.subcommands === null ? [cmd] : [cmd, ...cmd.subcommands.values()];
    for (const c of list) {
      const h = c.latency;
      if (h === null) continue;
      const figures = percentiles.map((p) => `p${percentileName(p)}=${(h.valueAtPercentile(p) / 1000).toFixed(3)}`);
      lines.push(`latency_percentiles_usec_${c.fullName}:${figures.join(",")}`);
    }
  }
  return lines;
}
