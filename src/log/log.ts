// The server log in Redis's format (server.c serverLogRaw):
//
//   pid:role dd Mon yyyy hh:mm:ss.mmm <level> message
//
// role is M (master), S (replica), C (child, or before the server is initialised) or
// X (sentinel); level is '.' debug, '-' verbose, '*' notice, '#' warning. Lines below
// `loglevel` are dropped. With `logfile ""` lines go to stdout, coloured when stdout is a
// terminal; otherwise they are appended to the file, which is opened for every line as
// Redis does, so that log rotation by renaming just works.
//
// Messages are latin1 binary strings like every byte string in redbun (so that a client
// name logged verbatim keeps its bytes); a message holding characters beyond U+00FF is
// written as UTF-8 instead.

import { appendFileSync, writeSync } from "node:fs";
import { resolve as resolvePath } from "node:path";
import { createColors } from "picocolors";
import type { Config } from "../config/params.ts";
import { REDIS_VERSION } from "../version.ts";

export type LogLevel = "debug" | "verbose" | "notice" | "warning";
export type RoleChar = "M" | "S" | "C" | "X";

/** Numeric levels as Redis's LL_DEBUG .. LL_WARNING. */
export const LOG_LEVELS: Readonly<Record<LogLevel, number>> = Object.freeze({ debug: 0, verbose: 1, notice: 2, warning: 3 });
const LEVEL_CHARS = ".-*#";

/** Redis's LOG_MAX_LEN: a formatted message is cut to this many bytes minus the NUL. */
export const LOG_MAX_LEN = 1024;

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/** strftime("%d %b %Y %H:%M:%S.") plus milliseconds, in local time. */
export function formatLogTime(ms: number): string {
  const d = new Date(ms);
  const milli = Math.floor(ms) % 1000;
  return (
    `${pad2(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${String(milli).padStart(3, "0")}`
  );
}

/** One complete log line, newline included. */
export function formatLogLine(pid: number, role: RoleChar, ms: number, level: LogLevel, msg: string): string {
  return `${pid}:${role} ${formatLogTime(ms)} ${LEVEL_CHARS[LOG_LEVELS[level]]} ${msg}\n`;
}

export interface LoggerOptions {
  /** Where lines go instead of stdout / the log file (tests). Gets each line as written. */
  sink?: (line: string) => void;
  /** Overrides the stdout-is-a-terminal check that turns colours on. */
  isTTY?: boolean;
  /** Overrides process.pid. */
  pid?: number;
  /** Overrides the clock, in epoch milliseconds. */
  now?: () => number;
}

/**
 * One server's log. Reads `loglevel`, `logfile` and `dir` from the server's Config
 * (following CONFIG SET loglevel through a hook); without a Config it logs notice and
 * above to stdout, which is what Redis does before its config is loaded.
 */
export class Logger {
  /** The role character; Redis shows C until the server is initialised, then M (or S). */
  role: RoleChar = "C";
  readonly pid: number;

  readonly #cfg: Config | null;
  readonly #opts: LoggerOptions;
  readonly #colors: ReturnType<typeof createColors>;
  readonly #colorful: boolean;
  #minLevel: number;

  constructor(cfg: Config | null = null, opts: LoggerOptions = {}) {
    this.#cfg = cfg;
    this.#opts = opts;
    this.pid = opts.pid ?? process.pid;
    this.#minLevel = LOG_LEVELS[cfg?.loglevel ?? "notice"];
    cfg?.onChange("loglevel", (c) => {
      this.#minLevel = LOG_LEVELS[c.loglevel];
    });
    // Colours only on a terminal, and never in a file.
    this.#colorful = (cfg?.logfile ?? "") === "" && (opts.isTTY ?? process.stdout.isTTY === true);
    this.#colors = createColors(this.#colorful);
  }

  /** True when a message at `level` would be written: check it before building costly messages. */
  enabled(level: LogLevel): boolean {
    return LOG_LEVELS[level] >= this.#minLevel;
  }

  log(level: LogLevel, msg: string): void {
    if (LOG_LEVELS[level] < this.#minLevel) return;
    if (msg.length >= LOG_MAX_LEN) msg = msg.slice(0, LOG_MAX_LEN - 1);
    const ms = this.#opts.now ? this.#opts.now() : Date.now();
    if (!this.#colorful) {
      this.#write(formatLogLine(this.pid, this.role, ms, level, msg));
      return;
    }
    const c = this.#colors;
    const prefix = c.dim(`${this.pid}:${this.role} ${formatLogTime(ms)}`);
    const ch = LEVEL_CHARS[LOG_LEVELS[level]]!;
    const body =
      level === "warning" ? c.yellow(`${ch} ${msg}`) : level === "notice" ? `${c.cyan(ch)} ${msg}` : c.gray(`${ch} ${msg}`);
    this.#write(`${prefix} ${body}\n`);
  }

  debug(msg: string): void {
    this.log("debug", msg);
  }
  verbose(msg: string): void {
    this.log("verbose", msg);
  }
  notice(msg: string): void {
    this.log("notice", msg);
  }
  warning(msg: string): void {
    this.log("warning", msg);
  }

  /** Text written as is, without the line prefix (Redis's LL_RAW), e.g. the logo. */
  raw(level: LogLevel, text: string): void {
    if (LOG_LEVELS[level] >= this.#minLevel) this.#write(text);
  }

  /**
   * The line Redis writes from a signal handler, which has no role or clock formatting:
   * `pid:signal-handler (unixtime) message`.
   */
  fromSignalHandler(msg: string): void {
    const ms = this.#opts.now ? this.#opts.now() : Date.now();
    this.#write(`${this.pid}:signal-handler (${Math.floor(ms / 1000)}) ${msg}\n`);
  }

  // -------------------------------------------------------------------------------------
  // Start-up lines, in Redis 7.0.15's order and levels, naming redbun.

  /**
   * The first lines: starting, version and pid, then either "Configuration loaded" or, when
   * redbun got no arguments at all, Redis's warning that the default config is in use.
   */
  startupBanner(version: string, opts: { noArguments?: boolean; execName?: string } = {}): void {
    this.warning("oO0OoO0OoO0Oo redbun is starting oO0OoO0OoO0Oo");
    this.warning(`redbun version=${version}, bits=64, commit=00000000, modified=0, pid=${this.pid}, just started`);
    if (opts.noArguments) {
      this.warning(
        `Warning: no config file specified, using the default config. In order to specify a config file use ${opts.execName ?? "redbun"} /path/to/redis.conf`,
      );
    } else {
      this.warning("Configuration loaded");
    }
  }

  /**
   * The ASCII logo, when `always-show-logo` is set or the log is an interactive stdout;
   * otherwise Redis's one-line "Running mode=standalone, port=6379.".
   */
  logoOrRunningMode(version: string, port: number, mode: "standalone" | "cluster" | "sentinel" = "standalone"): void {
    const interactive = (this.#cfg?.logfile ?? "") === "" && !this.#cfg?.syslogEnabled && (this.#opts.isTTY ?? process.stdout.isTTY === true);
    if (!(this.#cfg?.alwaysShowLogo || interactive)) {
      this.notice(`Running mode=${mode}, port=${port}.`);
      return;
    }
    this.raw("notice", logo(version, mode, port, this.pid));
  }

  serverInitialized(): void {
    this.warning("Server initialized");
  }

  /** Redis 7.0.15 says it once, without naming the connection type. */
  readyToAcceptConnections(): void {
    this.notice("Ready to accept connections");
  }

  #write(line: string): void {
    const bytes = Buffer.from(line, /[^\x00-\xff]/.test(line) ? "utf8" : "latin1");
    if (this.#opts.sink) {
      this.#opts.sink(line);
      return;
    }
    const file = this.#cfg?.logfile ?? "";
    try {
      if (file === "") writeSync(1, bytes);
      // Relative names follow `dir`, as Redis's fopen() follows its chdir().
      else appendFileSync(Buffer.from(resolvePath(this.#cfg!.dir, file), "latin1"), bytes);
    } catch {
      // Redis drops a line it cannot write; so do we.
    }
  }
}

/** redbun's start-up logo, laid out like Redis's: art on the left, facts on the right. */
function logo(version: string, mode: string, port: number, pid: number): string {
  const art = [
    "                _ _",
    "   _ __ ___  __| | |__  _   _ _ __",
    "  | '__/ _ \\/ _` | '_ \\| | | | '_ \\",
    "  | | |  __/ (_| | |_) | |_| | | | |",
    "  |_|  \\___|\\__,_|_.__/ \\__,_|_| |_|",
    "",
  ];
  const facts = [
    "",
    `redbun ${version} (Redis ${REDIS_VERSION} compatible) 64 bit`,
    `Running in ${mode} mode`,
    `Port: ${port}`,
    `PID: ${pid}`,
    "",
  ];
  return `${art.map((a, i) => `${a.padEnd(40)}${facts[i]}`.trimEnd()).join("\n")}\n`;
}
