// The latency monitor (Redis's latency.c): named events ("command", "fast-command",
// "expire-cycle" ...) that took at least `latency-monitor-threshold` ms keep a history of
// their last 160 samples, one per second: a second sample in the same second only raises
// that second's figure. LATENCY LATEST/HISTORY/GRAPH/DOCTOR read it.

import type { Config } from "../config/params.ts";
import { CMD, type Command } from "../commands/table.ts";

/** LATENCY_TS_LEN: samples kept per event. */
export const HISTORY_LEN = 160;

/** One event's ring of samples; a slot with time 0 was never filled. */
export class LatencySeries {
  readonly timesS = new Float64Array(HISTORY_LEN);
  readonly latenciesMs = new Float64Array(HISTORY_LEN);
  /** The slot the next sample goes to. */
  next = 0;
  /** The all-time highest latency of the event. */
  maxMs = 0;

  /** The slot of the latest sample. */
  get last(): number {
    return (this.next + HISTORY_LEN - 1) % HISTORY_LEN;
  }

  add(nowS: number, latencyMs: number): void {
    if (latencyMs > this.maxMs) this.maxMs = latencyMs;
    const last = this.last;
    if (this.timesS[last] === nowS) {
      if (latencyMs > this.latenciesMs[last]!) this.latenciesMs[last] = latencyMs;
      return;
    }
    this.timesS[this.next] = nowS;
    this.latenciesMs[this.next] = latencyMs;
    this.next = (this.next + 1) % HISTORY_LEN;
  }

  /** The filled slots, oldest first. */
  *slots(): Generator<number> {
    for (let j = 0; j < HISTORY_LEN; j++) {
      const i = (this.next + j) % HISTORY_LEN;
      if (this.timesS[i] !== 0) yield i;
    }
  }
}

export class LatencyMonitor {
  /** Events by name, in the order they first happened. */
  readonly events = new Map<string, LatencySeries>();
  /** `latency-monitor-threshold` in ms, Infinity when it is 0 (the monitor is off). */
  thresholdMs = Infinity;

  constructor(config: Config) {
    const apply = (cfg: Config): void => {
      const ms = Number(cfg.latencyMonitorThreshold);
      this.thresholdMs = ms === 0 ? Infinity : ms;
    };
    apply(config);
    config.onChange("latency-monitor-threshold", apply);
  }

  /** Whether the configured threshold is 0, so nothing is sampled. */
  get disabled(): boolean {
    return this.thresholdMs === Infinity;
  }

  /** Redis's latencyAddSampleIfNeeded: record `event` when it took long enough. */
  addIfNeeded(event: string, latencyMs: number): void {
    if (latencyMs >= this.thresholdMs) this.add(event, latencyMs);
  }

  /** A command took `durationMs`: Redis samples it in whole milliseconds, by its fast flag. */
  addCommand(cmd: Command, durationMs: number): void {
    this.addIfNeeded(cmd.flags & CMD.fast ? "fast-command" : "command", Math.floor(durationMs));
  }

  /** Sample `event` with the time since `startMs` (a performance.now() reading), when the monitor is on. */
  addSince(event: string, startMs: number): void {
    if (this.thresholdMs !== Infinity) this.addIfNeeded(event, Math.floor(performance.now() - startMs));
  }

  /**
   * An AOF write that began at `startMs`: Redis samples it under what it competed with
   * (a background fsync, or nothing; redbun forks no children) and again as "aof-write".
   */
  addAofWrite(startMs: number, fsyncPending: boolean): void {
    if (this.thresholdMs === Infinity) return;
    const latencyMs = Math.floor(performance.now() - startMs);
    this.addIfNeeded(fsyncPending ? "aof-write-pending-fsync" : "aof-write-alone", latencyMs);
    this.addIfNeeded("aof-write", latencyMs);
  }

  add(event: string, latencyMs: number): void {
    let series = this.events.get(event);
    if (series === undefined) this.events.set(event, (series = new LatencySeries()));
    series.add(Math.floor(Date.now() / 1000), latencyMs);
  }

  /** Forget the events named (case-insensitively), or every event; answers how many went. */
  reset(names: readonly string[] | null): number {
    let resets = 0;
    for (const event of [...this.events.keys()]) {
      if (names === null || names.some((n) => n.toLowerCase() === event.toLowerCase())) {
        this.events.delete(event);
        resets++;
      }
    }
    return resets;
  }
}

/** LATENCY GRAPH's width and height (LATENCY_GRAPH_COLS, and the rows Redis renders with). */
const GRAPH_COLS = 80;
const GRAPH_ROWS = 4;
/** Sparkline characters from low to high; a column under a higher one is filled with '|'. */
const FILL_CHARS = "_o#";

/** How long ago a sample was, as LATENCY GRAPH labels it: "12s", "3m", "5h", "2d". */
function elapsedLabel(elapsedS: number): string {
  if (elapsedS < 60) return `${elapsedS}s`;
  if (elapsedS < 3600) return `${Math.floor(elapsedS / 60)}m`;
  if (elapsedS < 86400) return `${Math.floor(elapsedS / 3600)}h`;
  return `${Math.floor(elapsedS / 86400)}d`;
}

/** LATENCY GRAPH: a title, a rule and a filled sparkline of the samples, labelled vertically. */
export function latencyGraph(event: string, series: LatencySeries): string {
  const nowS = Math.floor(Date.now() / 1000);
  const values: number[] = [];
  const labels: string[] = [];
  for (const i of series.slots()) {
    values.push(series.latenciesMs[i]!);
    labels.push(elapsedLabel(nowS - series.timesS[i]!));
  }
  const min = values.length === 0 ? 0 : Math.min(...values);
  const max = values.length === 0 ? 0 : Math.max(...values);
  let out = `${event} - high ${max} ms, low ${min} ms (all time high ${series.maxMs} ms)\n${"-".repeat(GRAPH_COLS)}\n`;
  for (let j = 0; j < values.length; j += GRAPH_COLS) {
    if (j !== 0) out += "\n";
    out += sparkline(values.slice(j, j + GRAPH_COLS), labels.slice(j, j + GRAPH_COLS), min, max);
  }
  return out;
}

/** Rows of sparkline characters, a blank row, then the labels written top to bottom. */
function sparkline(values: number[], labels: string[], min: number, max: number): string {
  const steps = FILL_CHARS.length * GRAPH_ROWS;
  const range = max - min === 0 ? 1 : max - min;
  const stepOf = values.map((v) => Math.min(steps - 1, Math.max(0, Math.trunc(Math.trunc((v - min) * steps) / range))));
  let out = "";
  for (let row = 0; row < GRAPH_ROWS; row++) {
    let line = "";
    for (const step of stepOf) {
      const charIdx = step - (GRAPH_ROWS - row - 1) * FILL_CHARS.length;
      line += charIdx >= FILL_CHARS.length ? "|" : charIdx >= 0 ? FILL_CHARS[charIdx] : " ";
    }
    out += `${line}\n`;
  }
  const longest = Math.max(...labels.map((l) => l.length));
  out += `${" ".repeat(values.length)}\n`;
  for (let k = 0; k < longest; k++) out += `${labels.map((l) => l[k] ?? " ").join("")}\n`;
  return out;
}

/** Per-event advice flags of the report, named after what they suggest. */
interface Advice {
  slowlogEnabled: boolean;
  slowlogTuning: boolean;
  slowlogInspect: boolean;
  scheduler: boolean;
  relaxFsyncPolicy: boolean;
  hz: boolean;
  largeObjects: boolean;
  massEviction: boolean;
  count: number;
}

/** The oldest-sample-to-now period, average and mean deviation of one event's history. */
function eventStats(series: LatencySeries, nowS: number): { samples: number; avg: number; mad: number; period: number } {
  const values: number[] = [];
  let oldest = 0;
  for (const i of series.slots()) {
    values.push(series.latenciesMs[i]!);
    if (oldest === 0 || series.timesS[i]! < oldest) oldest = series.timesS[i]!;
  }
  if (values.length === 0) return { samples: 0, avg: 0, mad: 0, period: 0 };
  const avg = Math.floor(values.reduce((a, b) => a + b, 0) / values.length);
  const mad = Math.floor(values.reduce((a, v) => a + Math.abs(avg - v), 0) / values.length);
  return { samples: values.length, avg, mad, period: nowS - oldest || 1 };
}

/** Note what an event suggests, as Redis's createLatencyReport does per event name. */
function adviseFor(event: string, advice: Advice, config: Config, thresholdMs: number): void {
  const name = event.toLowerCase();
  if (name === "command") {
    const slowerThan = Number(config.slowlogLogSlowerThan);
    if (slowerThan < 0) advice.slowlogEnabled = true;
    else if (Math.trunc(slowerThan / 1000) > thresholdMs) advice.slowlogTuning = true;
    if (slowerThan < 0 || Math.trunc(slowerThan / 1000) > thresholdMs) advice.count++;
    advice.slowlogInspect = advice.largeObjects = true;
    advice.count += 2;
  } else if (name === "fast-command") {
    advice.scheduler = true;
    advice.count++;
  } else if (name === "aof-fsync-always") {
    advice.relaxFsyncPolicy = true;
    advice.count++;
  } else if (name === "expire-cycle") {
    advice.hz = advice.largeObjects = true;
    advice.count += 2;
  } else if (name === "eviction-cycle") {
    advice.massEviction = true;
    advice.count++;
  }
}

/** LATENCY DOCTOR: Redis's report, one line per event and then the advice those events call for. */
export function latencyReport(monitor: LatencyMonitor, config: Config): string {
  if (monitor.events.size === 0 && monitor.disabled) {
    return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n";
  }
  const thresholdMs = Number(config.latencyMonitorThreshold);
  const advice: Advice = { slowlogEnabled: false, slowlogTuning: false, slowlogInspect: false, scheduler: false, relaxFsyncPolicy: false, hz: false, largeObjects: false, massEviction: false, count: 0 };
  const nowS = Math.floor(Date.now() / 1000);
  let report = "";
  let eventNum = 0;
  for (const [event, series] of monitor.events) {
    eventNum++;
    if (eventNum === 1) report += "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n";
    const s = eventStats(series, nowS);
    report += `${eventNum}. ${event}: ${s.samples} latency spikes (average ${s.avg}ms, mean deviation ${s.mad}ms, period ${(s.period / s.samples).toFixed(2)} sec). Worst all time event ${series.maxMs}ms.\n`;
    adviseFor(event, advice, config, thresholdMs);
  }
  if (eventNum === 0) {
    return "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n";
  }
  if (advice.count === 0) {
    return `${report}\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n`;
  }
  return report + adviceText(advice, config, thresholdMs);
}

/** The "few advices" section, in Redis's order. */
function adviceText(advice: Advice, config: Config, thresholdMs: number): string {
  let text = "\nI have a few advices for you:\n\n";
  if (advice.slowlogEnabled) {
    text += `- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than ${thresholdMs * 1000}'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n`;
  }
  if (advice.slowlogTuning) {
    text += `- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than ${thresholdMs * 1000}'.\n`;
  }
  if (advice.slowlogInspect) {
    text += "- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n";
  }
  if (advice.scheduler) {
    text +=
      "- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n" +
      "  1) Lower the system load.\n" +
      "  2) Use a computer / VM just for Redis if you are running other software in the same system.\n" +
      '  3) Check if you have a "noisy neighbour" problem.\n' +
      "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n" +
      "  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n";
  }
  if (advice.relaxFsyncPolicy && config.appendfsync === "always") {
    text += "- Your fsync policy is set to 'always'. It is very hard to get good performances with such a setup, if possible try to relax the fsync policy to 'onesec'.\n";
  }
  if (advice.hz && Number(config.hz) < 100) {
    text += "- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n";
  }
  if (advice.largeObjects) {
    text += "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n";
  }
  if (advice.massEviction) {
    text += "- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation of large objects via sets or sorted sets intersections, STORE option of SORT, Redis Cluster large keys migrations (RESTORE command), may create sudden memory pressure forcing the server to block trying to evict keys. \n";
  }
  return text;
}
