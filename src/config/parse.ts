// redis.conf and command-line parsing exactly as redis-server 7.0.15 does it (config.c
// loadServerConfigFromString, server.c main), and CONFIG GET / CONFIG SET semantics.
//
// Strings here are latin1 "binary" strings, one char per byte, as everywhere in redbun:
// files and stdin are read as bytes, argv is UTF-8-encoded first, and "\xNN" escapes make
// single bytes. Errors are thrown as ConfigError; the caller prints them
// (formatFatalConfigError or, for unreadable files, a log line) and exits with status 1.

import { closeSync, openSync, readFileSync, readdirSync, statSync, writeSync } from "node:fs";
import { resolve as resolvePath } from "node:path";
import { Logger } from "../log/log.ts";
import { globMatch } from "../util/glob.ts";
import { REDIS_VERSION, VERSION } from "../version.ts";
import {
  type AnyParam,
  Config,
  type ParamEntry,
  type ParseContext,
  PARAM_ENTRIES,
  lookupParam,
  strerror,
  toBinary,
} from "./params.ts";

export { toBinary };

// ---------------------------------------------------------------------------------------
// Errors.

/**
 * A configuration error. `kind: "fatal"` is printed as Redis's FATAL CONFIG FILE ERROR
 * block (with the line when there is one); `kind: "open"` is a config file that could not
 * be read, which Redis logs as a warning line ("Fatal error, can't open config file ...").
 */
export class ConfigError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number | null = null,
    readonly lineText: string | null = null,
    readonly kind: "fatal" | "open" = "fatal",
  ) {
    super(reason);
    this.name = "ConfigError";
  }
}

/**
 * The block redis-server prints on stderr for a bad config, byte for byte. It names
 * "Redis 7.0.15", the version redbun reproduces, so that tools matching Redis's text
 * keep working; pass another label to change it.
 */
export function formatFatalConfigError(e: ConfigError, label = `Redis ${REDIS_VERSION}`): string {
  let s = `\n*** FATAL CONFIG FILE ERROR (${label}) ***\n`;
  if (e.line !== null) s += `Reading the configuration file, at line ${e.line}\n>>> '${e.lineText}'\n`;
  return `${s}${e.reason}\n`;
}

// ---------------------------------------------------------------------------------------
// Redis's string helpers (sds.c).

const isSpace = (c: string | undefined) =>
  c === " " || c === "\t" || c === "\n" || c === "\v" || c === "\f" || c === "\r";
const isHex = (c: string | undefined) => c !== undefined && /^[0-9a-fA-F]$/.test(c);

/**
 * Redis's sdssplitargs: splits a line into arguments. "double quotes" know \n \r \t \b \a,
 * \xHH and \<any>; 'single quotes' know only \'. A closing quote must be followed by a
 * space or the end, and a quote inside a word opens a quoted part of that word. Returns
 * null for unbalanced quotes. Like the C version it stops at a NUL byte.
 */
export function splitArgs(input: string): string[] | null {
  const nul = input.indexOf("\0");
  const line = nul < 0 ? input : input.slice(0, nul);
  const n = line.length;
  const out: string[] = [];
  let i = 0;
  for (;;) {
    while (i < n && isSpace(line[i])) i++;
    if (i >= n) return out;
    let inq = false;
    let insq = false;
    let done = false;
    let cur = "";
    while (!done) {
      const c = line[i]; // undefined stands for the terminating NUL
      if (inq) {
        if (c === "\\" && line[i + 1] === "x" && isHex(line[i + 2]) && isHex(line[i + 3])) {
          cur += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
          i += 3;
        } else if (c === "\\" && i + 1 < n) {
          i++;
          const e = line[i]!;
          cur += e === "n" ? "\n" : e === "r" ? "\r" : e === "t" ? "\t" : e === "b" ? "\b" : e === "a" ? "\x07" : e;
        } else if (c === '"') {
          if (i + 1 < n && !isSpace(line[i + 1])) return null;
          done = true;
        } else if (c === undefined) {
          return null;
        } else {
          cur += c;
        }
      } else if (insq) {
        if (c === "\\" && line[i + 1] === "'") {
          i++;
          cur += "'";
        } else if (c === "'") {
          if (i + 1 < n && !isSpace(line[i + 1])) return null;
          done = true;
        } else if (c === undefined) {
          return null;
        } else {
          cur += c;
        }
      } else if (c === " " || c === "\n" || c === "\r" || c === "\t" || c === undefined) {
        done = true;
      } else if (c === '"') {
        inq = true;
      } else if (c === "'") {
        insq = true;
      } else {
        cur += c;
      }
      if (i < n) i++;
    }
    out.push(cur);
  }
}

/** Redis's sdscatrepr: a double-quoted, escaped form that splitArgs reads back. */
export function catRepr(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 92) out += "\\\\";
    else if (c === 34) out += '\\"';
    else if (c === 10) out += "\\n";
    else if (c === 13) out += "\\r";
    else if (c === 9) out += "\\t";
    else if (c === 7) out += "\\a";
    else if (c === 8) out += "\\b";
    else if (c >= 32 && c <= 126) out += s[i];
    else out += `\\x${(c & 0xff).toString(16).padStart(2, "0")}`;
  }
  return `${out}"`;
}

/** sdstrim(s, " \t\r\n"). */
function trimLine(s: string): string {
  return s.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
}

/** A latin1 binary path as the bytes the file system expects. */
function fsPath(p: string): Buffer {
  return Buffer.from(p, "latin1");
}

// ---------------------------------------------------------------------------------------
// Loading.

export interface LoadOptions {
  /** Receives the warning Redis logs when it reads config from stdin. */
  log?: (level: "warning", msg: string) => void;
  /** Reads all of stdin as a latin1 string (tests pass their own). */
  readStdin?: () => string;
  /**
   * Checks a `rename-command from to` directive; a returned string is the error that
   * stops loading (Redis: "No such command in rename-command"). Without it, directives
   * are only recorded in cfg.renameCommands.
   */
  renameCommand?: (from: string, to: string) => string | null;
  /**
   * Checks a `user <name> [rules...]` directive (its words after "user"); a returned string
   * stops loading. Without it, directives are only recorded in cfg.users.
   */
  user?: (words: string[]) => string | null;
}

/**
 * How deep `include` may nest. Redis has no limit and a file that includes itself
 * overflows its stack; redbun stops with a config error instead.
 */
export const INCLUDE_MAX_DEPTH = 32;

/** State of one start-up load, shared by included files (Redis keeps it in statics). */
interface LoadSession {
  readonly opts: LoadOptions;
  readonly ctx: ParseContext;
  depth: number;
}

function newSession(cfg: Config, opts: LoadOptions): LoadSession {
  return { opts, ctx: { cfg, inFile: true, loadState: new Set() }, depth: 0 };
}

/** Directives Redis 7.0 still accepts and ignores, with their exact argument count. */
const DEPRECATED = new Set(["list-max-ziplist-entries", "list-max-ziplist-value", "lua-replicate-commands"]);

/**
 * Applies redis.conf text to `cfg` (Redis's loadServerConfigFromString). Lines are trimmed,
 * `#` comments and blank lines skipped, the directive name is case-insensitive. Throws
 * ConfigError at the first bad line; values set before it stay set.
 */
export function loadConfigText(cfg: Config, text: string, opts: LoadOptions = {}): void {
  loadText(cfg, text, newSession(cfg, opts));
}

/** Loads a file as an `include` directive does (relative to cfg.dir, globs allowed). */
export function loadConfigFile(cfg: Config, path: string, opts: LoadOptions = {}): void {
  loadText(cfg, readConfigSource(cfg, path), newSession(cfg, opts));
}

function loadText(cfg: Config, text: string, s: LoadSession): void {
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = trimLine(lines[i]!);
    if (line === "" || line[0] === "#") continue;
    const argv = splitArgs(line);
    const fatal = (reason: string) => new ConfigError(reason, i + 1, line);
    if (argv === null) throw fatal("Unbalanced quotes in configuration line");
    if (argv.length === 0) continue;
    const name = argv[0]!.toLowerCase();
    argv[0] = name;

    const entry = PARAM_ENTRIES.get(name);
    if (entry) {
      const err = loadDirective(cfg, entry.spec, argv, s);
      if (err !== null) throw fatal(err);
      continue;
    }
    if (DEPRECATED.has(name) && argv.length === 2) continue;

    if (name === "include" && argv.length === 2) {
      if (s.depth >= INCLUDE_MAX_DEPTH) throw fatal(`include nested more than ${INCLUDE_MAX_DEPTH} levels deep`);
      // Redis resolves it against the working directory, which `dir` lines change.
      s.depth++;
      try {
        loadText(cfg, readConfigSource(cfg, argv[1]!), s);
      } finally {
        s.depth--;
      }
    } else if (name === "rename-command" && argv.length === 3) {
      const err = s.opts.renameCommand?.(argv[1]!, argv[2]!) ?? null;
      if (err !== null) throw fatal(err);
      cfg.renameCommands.push([argv[1]!, argv[2]!]);
    } else if (name === "user" && argv.length >= 2) {
      const err = s.opts.user?.(argv.slice(1)) ?? null;
      if (err !== null) throw fatal(err);
      cfg.users.push(argv.slice(1));
    } else if (name === "loadmodule" && argv.length >= 2) {
      cfg.loadModules.push(argv.slice(1));
    } else if (name.includes(".")) {
      if (argv.length !== 2) throw fatal("Module config specified without value");
      cfg.moduleConfigs.set(name, argv[1]!);
    } else if (name === "sentinel") {
      // A bare `sentinel` only marks sentinel mode, which main() handles.
      if (argv.length !== 1) throw fatal("sentinel directive while not in sentinel mode");
    } else {
      throw fatal("Bad directive or wrong number of arguments");
    }
  }
  finishLoad(cfg);
}

/** One standard directive; returns Redis's error text or null. */
function loadDirective(cfg: Config, spec: AnyParam, argv: string[], s: LoadSession): string | null {
  let args: readonly string[];
  if (!spec.multiArg) {
    if (argv.length !== 2) return "wrong number of arguments";
    args = [argv[1]!];
  } else if (argv.length === 2 && argv[1] !== "") {
    // `--save "900 1 300 10"`: a single argument of a multi-argument directive is split
    // again, so that argv can pass the whole list as one word.
    args = splitArgs(argv[1]!) ?? [];
  } else {
    args = argv.slice(1);
  }
  const parse = spec.parse as (a: readonly string[], prev: unknown, ctx: ParseContext) => ReturnType<AnyParam["parse"]>;
  const r = parse(args, cfg.valueOf(spec), s.ctx);
  if (!r.ok) return r.err;
  cfg.assign(spec, r.value);
  return null;
}

/** The checks Redis makes after each loaded text. */
function finishLoad(cfg: Config): void {
  if (cfg.logfile !== "") {
    // Redis opens the log file here once, so that a bad path fails at start-up.
    try {
      closeSync(openSync(fsPath(resolvePath(cfg.dir, cfg.logfile)), "a"));
    } catch (e) {
      throw new ConfigError(`Can't open the log file: ${strerror((e as NodeJS.ErrnoException).code)}`);
    }
  }
  if (cfg.clusterEnabled && cfg.replicaof !== null) {
    throw new ConfigError("replicaof directive not allowed in cluster mode");
  }
}

/** Reads a config file (or every file a glob pattern matches), as Redis's loadServerConfig. */
function readConfigSource(cfg: Config, path: string): string {
  const abs = resolvePath(cfg.dir, path);
  if (/[*?[]/.test(path)) {
    // A pattern that matches nothing is fine: it lets `include conf.d/*.conf` be empty.
    let text = "";
    for (const file of globFiles(abs)) text += readOne(file, file);
    return text;
  }
  return readOne(abs, path);
}

function readOne(abs: string, shown: string): string {
  try {
    return readFileSync(fsPath(abs)).toString("latin1");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // fopen() succeeds on a directory and reading it yields nothing.
    if (code === "EISDIR") return "";
    throw new ConfigError(`Fatal error, can't open config file '${shown}': ${strerror(code)}`, null, null, "open");
  }
}

/**
 * glob(3) over an absolute pattern (latin1 bytes): the matching files, sorted. The pattern is
 * matched one path component at a time, as glob(3) does, so a wildcard never crosses a "/",
 * and a name starting with "." matches only a component that starts with one too.
 */
function globFiles(absPattern: string): string[] {
  let paths = [""];
  for (const part of absPattern.split("/")) {
    if (part === "") continue;
    const wild = /[*?[]/.test(part);
    const next: string[] = [];
    for (const dir of paths) {
      if (!wild) next.push(`${dir}/${part}`);
      else for (const name of listDirectory(dir)) if ((name[0] !== "." || part[0] === ".") && globMatch(part, name, false)) next.push(`${dir}/${name}`);
    }
    paths = next;
  }
  return paths.filter(isFile).sort();
}

/** The names in a directory as latin1 strings; none when it cannot be read. */
function listDirectory(dir: string): string[] {
  try {
    return readdirSync(fsPath(dir === "" ? "/" : dir), { encoding: "buffer" }).map((name) => name.toString("latin1"));
  } catch {
    return [];
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(fsPath(path)).isFile();
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------
// The command line.

/** What `redbun <argv>` asks for. */
export type ArgvPlan =
  | { readonly kind: "version" }
  | { readonly kind: "help" }
  | {
      readonly kind: "run";
      /** Absolute path of the config file (argv[0] when it does not start with '-'). */
      readonly configFile: string | null;
      /** A lone `-` as first or last argument: read more config from stdin. */
      readonly fromStdin: boolean;
      /**
       * The `--name value` options as redis.conf lines, appended after the file and
       * stdin; null when there were no arguments at all (Redis then loads nothing).
       */
      readonly options: string | null;
      /** `--sentinel` was given; redbun has no sentinel mode. */
      readonly sentinel: boolean;
    };

/**
 * Redis's main() argument handling. `--name` starts a directive and the words after it
 * are its arguments (each quoted with catRepr); after a `--name` with no value yet, the
 * next word is taken as a value even if it starts with `--`. `--save` followed by another
 * option or by nothing means `save ""`. argv excludes the program name.
 */
export function parseArgv(argvIn: readonly string[], cwd: string = process.cwd()): ArgvPlan {
  const argv = argvIn.map(toBinary);
  if (argv.length === 0) return { kind: "run", configFile: null, fromStdin: false, options: null, sentinel: false };
  if (argv[0] === "-v" || argv[0] === "--version") return { kind: "version" };
  if (argv[0] === "--help" || argv[0] === "-h") return { kind: "help" };

  let configFile: string | null = null;
  let j = 0;
  if (argv[0]![0] !== "-") {
    configFile = resolvePath(toBinary(cwd), argv[0]!);
    j = 1;
  }
  const last = argv.length - 1;
  let fromStdin = false;
  let sentinel = false;
  let options = "";
  let handledLastArg = true;
  for (; j < argv.length; j++) {
    const a = argv[j]!;
    if (a === "-" && (j === 0 || j === last)) {
      fromStdin = true;
    } else if (handledLastArg && a.startsWith("--")) {
      if (options !== "") options += "\n";
      options += `${a.slice(2)} `;
      const words = splitArgs(a);
      if (words !== null && words.length === 1) {
        // Only a name, like "--port": its value follows.
        handledLastArg = false;
        const name = a.toLowerCase();
        const nextIsOption = j !== last && argv[j + 1]!.startsWith("--");
        if (name === "--save" && (nextIsOption || j === last)) {
          options += '""';
          handledLastArg = nextIsOption;
        } else if (name === "--sentinel" && (nextIsOption || j === last)) {
          handledLastArg = nextIsOption;
        }
        if (name === "--sentinel") sentinel = true;
      } else {
        // Name and value in one word, like "--port 6380".
        handledLastArg = true;
      }
    } else {
      options += `${catRepr(a)} `;
      handledLastArg = true;
    }
  }
  return { kind: "run", configFile, fromStdin, options, sentinel };
}

/**
 * Loads what a plan names, in Redis's order: the config file, then stdin, then the
 * command-line options (so they win). Sets cfg.configFile.
 */
export function loadServerConfig(cfg: Config, plan: Extract<ArgvPlan, { kind: "run" }>, opts: LoadOptions = {}): void {
  if (plan.options === null && plan.configFile === null && !plan.fromStdin) return;
  const s = newSession(cfg, opts);
  let text = "";
  if (plan.configFile !== null) {
    cfg.configFile = plan.configFile;
    text += readConfigSource(cfg, plan.configFile);
  }
  if (plan.fromStdin) {
    opts.log?.("warning", "Reading config from stdin");
    text += (opts.readStdin ?? readStdinLatin1)();
  }
  if (plan.options !== null) text += `\n${plan.options}`;
  loadText(cfg, text, s);
}

function readStdinLatin1(): string {
  try {
    return readFileSync(0).toString("latin1");
  } catch {
    return "";
  }
}

/**
 * `redbun [configfile] [--directive value ...] [-]` applied to cfg. Returns the plan so
 * the caller can handle "version" and "help". Throws ConfigError.
 */
export function applyArgv(cfg: Config, argv: readonly string[], opts: LoadOptions = {}): ArgvPlan {
  const plan = parseArgv(argv);
  if (plan.kind === "run") loadServerConfig(cfg, plan, opts);
  return plan;
}

/**
 * What main() does with its arguments, as redis-server does: `-v` prints the version and
 * exits 0; `-h` prints usage on stderr and exits 1; a bad config prints the FATAL block on
 * stderr (or, for an unreadable file, a warning log line) and exits 1. Otherwise returns
 * the loaded Config. `exit` is injectable for tests.
 */
export function loadStartupConfig(
  argv: readonly string[],
  exit: (code: number) => never = (code) => process.exit(code),
  hooks: Pick<LoadOptions, "renameCommand" | "user"> = {},
): Config {
  const cfg = new Config();
  // Before the config is loaded Redis logs with its defaults: notice level, stdout, role C.
  const early = new Logger();
  let plan: ArgvPlan;
  try {
    plan = applyArgv(cfg, argv, { ...hooks, log: (_level, msg) => early.warning(msg) });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    if (e.kind === "open") early.warning(e.reason);
    else writeSync(2, Buffer.from(formatFatalConfigError(e), "latin1"));
    return exit(1);
  }
  if (plan.kind === "version") {
    writeSync(1, versionText());
    return exit(0);
  }
  if (plan.kind === "help") {
    writeSync(2, usageText());
    return exit(1);
  }
  if (plan.sentinel) {
    writeSync(2, "redbun has no sentinel mode.\n");
    return exit(1);
  }
  return cfg;
}

/** `redbun -v`, shaped like `redis-server -v` so that scripts reading "v=" still work. */
export function versionText(): string {
  return `redbun server v=${REDIS_VERSION} sha=00000000:0 malloc=libc bits=64 build=redbun-${VERSION}\n`;
}

/** `redbun --help`, Redis's usage text for our binary. */
export function usageText(exec = "redbun"): string {
  const e = `./${exec}`;
  return [
    `Usage: ${e} [/path/to/redis.conf] [options] [-]`,
    `       ${e} - (read config from stdin)`,
    `       ${e} -v or --version`,
    `       ${e} -h or --help`,
    "",
    "Examples:",
    `       ${e} (run the server with default conf)`,
    `       echo 'maxmemory 128mb' | ${e} -`,
    `       ${e} /etc/redis/6379.conf`,
    `       ${e} --port 7777`,
    `       ${e} --port 7777 --replicaof 127.0.0.1 8888`,
    `       ${e} /etc/myredis.conf --loglevel verbose -`,
    `       ${e} /etc/myredis.conf --loglevel verbose`,
    "",
  ].join("\n");
}

// ---------------------------------------------------------------------------------------
// CONFIG GET.

/**
 * CONFIG GET <pattern> [pattern ...]: [name, value] pairs. A pattern without glob
 * characters is an exact, case-insensitive lookup answered under the name as given
 * (hidden parameters included); a glob matches every non-hidden name and alias,
 * case-insensitively. Each parameter name appears once.
 */
export function configGet(cfg: Config, patterns: readonly string[]): [string, string][] {
  const matches = new Map<string, [string, string]>();
  const show = (e: ParamEntry) => (e.spec.format as (v: unknown) => string)(cfg.valueOf(e.spec));
  for (const pattern of patterns) {
    if (!/[[*?]/.test(pattern)) {
      const key = pattern.toLowerCase();
      if (matches.has(key)) continue;
      const e = lookupParam(pattern);
      if (e) matches.set(key, [pattern, show(e)]);
      continue;
    }
    for (const [name, e] of PARAM_ENTRIES) {
      if (e.spec.hidden || matches.has(name)) continue;
      if (globMatch(pattern, name, true)) matches.set(name, [name, show(e)]);
    }
  }
  return [...matches.values()];
}

// ---------------------------------------------------------------------------------------
// CONFIG SET.

export interface ConfigSetOptions {
  /** The client is local (loopback or unix socket), for enable-protected-configs local. */
  isLocal?: boolean;
  /** The server is loading its dataset: parameters marked denyLoading are refused. */
  loading?: boolean;
  /** Receives the warnings Redis logs when applying a change fails. */
  onWarning?: (msg: string) => void;
}

/** Reply text (without the leading '-') for CONFIG SET errors. */
const LOADING_ERR = "LOADING Redis is loading the dataset in memory";
const unknownOption = (name: string) => `ERR Unknown option or number of arguments for CONFIG SET - '${name}'`;
const setFailed = (name: string, err: string) =>
  err === "" ? `ERR CONFIG SET failed (possibly related to argument '${name}')` : `ERR CONFIG SET failed (possibly related to argument '${name}') - ${err}`;

/**
 * CONFIG SET <name> <value> [<name> <value> ...], all or nothing, as Redis 7.0 does it:
 * check every name (unknown, immutable, protected, loading, duplicate), then set every
 * value, then run the apply hooks of the parameters that changed. A bad value restores the
 * values set so far; a failing hook restores all values and re-runs the hooks. Returns null
 * on success, else the error reply text ("ERR ..." or "LOADING ...").
 */
export function configSet(cfg: Config, pairs: readonly (readonly [string, string])[], opts: ConfigSetOptions = {}): string | null {
  let unknownName: string | null = null;
  let errstr: string | null = null;
  let errName = "";
  let invalid = false;
  let denyLoading = false;
  const entries: ParamEntry[] = [];

  for (const [name] of pairs) {
    const e = lookupParam(name);
    if (!e) {
      if (!invalid) {
        unknownName = name;
        invalid = true;
      }
      continue;
    }
    if (invalid) continue;
    if (!e.spec.mutable || (e.spec.protected && !allowProtected(cfg.enableProtectedConfigs, opts.isLocal ?? false))) {
      errstr = e.spec.mutable ? "can't set protected config" : "can't set immutable config";
      errName = name;
      invalid = true;
      continue;
    }
    if (opts.loading && e.spec.denyLoading) {
      denyLoading = true;
      invalid = true;
      continue;
    }
    // The same entry twice (PORT and port); a name and its alias are distinct, as in Redis.
    if (entries.includes(e)) {
      errstr = "duplicate parameter";
      errName = name;
      invalid = true;
    }
    entries.push(e);
  }
  if (denyLoading) return LOADING_ERR;
  if (unknownName !== null) return unknownOption(unknownName);
  if (errstr !== null) return setFailed(errName, errstr);

  const old = entries.map((e) => cfg.valueOf(e.spec));
  const restore = (count: number) => {
    for (let i = count - 1; i >= 0; i--) cfg.assign(entries[i]!.spec, old[i]);
  };
  const ctx: ParseContext = { cfg, inFile: false, loadState: new Set() };
  const toApply: { hook: (c: Config) => string | void; name: string }[] = [];

  for (let i = 0; i < entries.length; i++) {
    const { spec, name } = entries[i]!;
    const value = pairs[i]![1];
    // Multi-argument values are split on single spaces (sdssplitlen), "" into nothing.
    const args = spec.multiArg ? (value === "" ? [] : value.split(" ")) : [value];
    const format = spec.format as (v: unknown) => string;
    const parse = spec.parse as (a: readonly string[], prev: unknown, c: ParseContext) => ReturnType<AnyParam["parse"]>;
    const prev = cfg.valueOf(spec);
    const r = parse(args, prev, ctx);
    if (!r.ok) {
      restore(i + 1);
      return setFailed(name, r.err);
    }
    if (format(r.value) === format(prev)) continue; // unchanged: no hooks, as Redis's set() returning 2
    cfg.assign(spec, r.value);
    for (const hook of spec.apply ? [spec.apply, ...cfg.hooksFor(spec)] : cfg.hooksFor(spec)) {
      if (!toApply.some((a) => a.hook === hook)) toApply.push({ hook, name });
    }
  }

  for (const { hook, name } of toApply) {
    const err = runHook(hook, cfg);
    if (err === null) continue;
    opts.onWarning?.(`Failed applying new configuration. Possibly related to new ${name} setting. Restoring previous settings.`);
    restore(entries.length);
    for (const a of toApply) {
      const again = runHook(a.hook, cfg);
      if (again !== null) opts.onWarning?.(`Failed applying restored failed CONFIG SET command: ${again}`);
    }
    return setFailed(name, err);
  }
  return null;
}

/** CONFIG SET with its raw arguments (after "CONFIG SET"): checks they come in pairs. */
export function configSetArgs(cfg: Config, args: readonly string[], opts: ConfigSetOptions = {}): string | null {
  if (args.length % 2 === 1) return "ERR syntax error";
  const pairs: [string, string][] = [];
  for (let i = 0; i < args.length; i += 2) pairs.push([args[i]!, args[i + 1]!]);
  return configSet(cfg, pairs, opts);
}

/** A hook's error text, "" for a failure without one, or null for success. */
function runHook(hook: (c: Config) => string | void, cfg: Config): string | null {
  try {
    const r = hook(cfg);
    return typeof r === "string" ? r : null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** Redis's allowProtectedAction for enable-protected-configs / enable-debug-command. */
export function allowProtected(setting: "no" | "yes" | "local", isLocal: boolean): boolean {
  return setting === "yes" || (setting === "local" && isLocal);
}
