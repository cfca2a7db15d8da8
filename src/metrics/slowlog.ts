// The slow log (Redis's slowlog.c): commands that ran for at least
// `slowlog-log-slower-than` microseconds, newest first, at most `slowlog-max-len` of them.
// Each entry keeps a bounded copy of the command: at most 32 arguments (the last one then
// says how many more there were) of at most 128 bytes each, so a huge command cannot make
// the log huge. Arguments a command redacted for MONITOR (AUTH's password) are redacted
// here too, read from the same list.

import type { Config } from "../config/params.ts";
import type { Argv } from "../resp/parser.ts";
import type { Client } from "../server/client.ts";
import type { Monitors } from "../server/monitor.ts";
import { CMD, type Command } from "../commands/table.ts";

/** SLOWLOG_ENTRY_MAX_ARGC and SLOWLOG_ENTRY_MAX_STRING. */
const MAX_ARGS = 32;
const MAX_ARG_BYTES = 128;
const REDACTED = Buffer.from("(redacted)", "latin1");

export interface SlowlogEntry {
  readonly id: number;
  /** When the command ended, in unix seconds. */
  readonly timeS: number;
  readonly durationUs: number;
  /** The (bounded) arguments as bytes, copied out of the request buffer. */
  readonly args: Uint8Array[];
  readonly addr: string;
  readonly name: string;
}

/** How the slow log names the client of a command a script ran (Redis's script client has no address). */
const SCRIPT_CLIENT_ADDR = "?:0";

export class Slowlog {
  /** Oldest first; SLOWLOG GET reads it backwards. */
  readonly entries: SlowlogEntry[] = [];
  /** The next entry's id: never reset, not even by SLOWLOG RESET, as in Redis. */
  private nextId = 0;
  /** `slowlog-log-slower-than` in ms, Infinity when it is negative (the log is off). */
  slowerThanMs = Infinity;
  private maxLen = 0;

  constructor(config: Config) {
    const apply = (cfg: Config): void => {
      const us = Number(cfg.slowlogLogSlowerThan);
      this.slowerThanMs = us < 0 ? Infinity : us / 1000;
      this.maxLen = Number(cfg.slowlogMaxLen);
    };
    apply(config);
    config.onChange(["slowlog-log-slower-than", "slowlog-max-len"], apply);
  }

  /**
   * Log the command in argv that `c` just ran for `durationMs` (Redis's
   * slowlogPushCurrentCommand). Commands flagged skip_slowlog (EXEC: its commands are
   * logged one by one) stay out. A command that blocked its client is logged through
   * `add` when its wait ends, with the arguments `capture` kept.
   */
  push(c: Client, cmd: Command, argv: Argv, durationMs: number, monitors: Monitors): void {
    if (cmd.flags & CMD.skip_slowlog) return;
    this.add(c, this.capture(argv, monitors), durationMs);
  }

  /** Log `args` (from `capture`) as a command of `c` that took `durationMs`. */
  add(c: Client, args: Uint8Array[], durationMs: number): void {
    this.entries.push({
      id: this.nextId++,
      timeS: Math.floor(c.server.clock.nowMs / 1000),
      durationUs: Math.floor(durationMs * 1000),
      args,
      addr: c.inScript ? SCRIPT_CLIENT_ADDR : c.addr,
      name: c.inScript ? "" : c.name,
    });
    // Redis trims on insertion only: lowering slowlog-max-len takes effect at the next entry.
    const excess = this.entries.length - this.maxLen;
    if (excess > 0) this.entries.splice(0, excess);
  }

  /** A copy of the command's arguments within the slow log's limits, redactions applied. */
  capture(argv: Argv, monitors: Monitors): Uint8Array[] {
    const kept = Math.min(argv.count, MAX_ARGS);
    const args: Uint8Array[] = [];
    for (let i = 0; i < kept; i++) {
      if (kept !== argv.count && i === kept - 1) {
        args.push(Buffer.from(`... (${argv.count - kept + 1} more arguments)`, "latin1"));
      } else if (monitors.isRedacted(i)) {
        args.push(REDACTED);
      } else if (argv.len[i]! > MAX_ARG_BYTES) {
        args.push(truncatedArg(argv, i));
      } else {
        args.push(argv.copy(i));
      }
    }
    return args;
  }

  reset(): void {
    this.entries.length = 0;
  }
}

/** The first MAX_ARG_BYTES bytes of argument `i`, then how many more there were. */
function truncatedArg(argv: Argv, i: number): Uint8Array {
  const start = argv.start[i]!;
  const suffix = Buffer.from(`... (${argv.len[i]! - MAX_ARG_BYTES} more bytes)`, "latin1");
  return Buffer.concat([argv.buf.subarray(start, start + MAX_ARG_BYTES), suffix]);
}
