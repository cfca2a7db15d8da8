// Every configuration parameter redbun knows, as one declarative table (Redis 7.0.15's
// config.c static_configs), and the per-server `Config` that holds their values.
//
// The table lists all 7.0.15 parameters, not only those redbun acts on: a stock redis.conf,
// the Redis test suite's configs and CONFIG GET * must all work as they do against the real
// server. Parameters that redbun accepts but ignores (io-threads, tls-session-*, syslog-ident, ...)
// keep the value they were given so that CONFIG GET reports it. Defaults, bounds,
// mutability and error strings were checked against redis-server 7.0.15 (Debian).
//
// Reading a value is a property read: `cfg.port`, `cfg.maxmemory`, `cfg.hashMaxListpackEntries`
// (the redis.conf name in camelCase). The server reacts to CONFIG SET by registering hooks
// with `cfg.onChange(name, hook)`; see parse.ts for loading files and CONFIG GET/SET.

import { accessSync, constants as fsConstants, realpathSync, statSync } from "node:fs";
import { resolve as resolvePath } from "node:path";

// ---------------------------------------------------------------------------------------
// Limits from the C types Redis stores parameters in.

const INT_MIN = -2147483648n;
const INT_MAX = 2147483647n;
const UINT_MAX = 4294967295n;
const LONG_MAX = 9223372036854775807n; // also LLONG_MAX, SSIZE_MAX on LP64
const LLONG_MIN = -9223372036854775808n;
const ULLONG_MAX = 18446744073709551615n;

/** Redis's CONFIG_BINDADDR_MAX. */
export const BIND_ADDR_MAX = 16;
/** Redis's CONFIG_MIN_HZ and CONFIG_MAX_HZ: `hz` is clamped into this range. */
export const HZ_MIN = 1;
export const HZ_MAX = 500;
/** Redis's CONFIG_REPL_BACKLOG_MIN_SIZE. */
export const REPL_BACKLOG_MIN_BYTES = 16 * 1024;
/** Redis's NET_HOST_STR_LEN: announced hostnames must be shorter. */
const HOSTNAME_MAX_LEN = 256;

// ---------------------------------------------------------------------------------------
// Parameter specs.

export type ParamKind = "bool" | "int" | "memory" | "enum" | "string" | "special";

/** What a spec's parser gets besides the arguments. */
export interface ParseContext {
  readonly cfg: Config;
  /** True while reading redis.conf or argv, false for CONFIG SET. */
  readonly inFile: boolean;
  /**
   * Per-load memory for directives whose meaning depends on earlier lines of the same
   * load (only `save`: its first line replaces the defaults, later ones append).
   */
  readonly loadState: Set<string>;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; err: string };

export interface ParamSpec<N extends string = string, T = unknown> {
  readonly name: N;
  /** The property on Config that holds the value: `name` in camelCase. */
  readonly key: Camel<N>;
  /** The other name Redis accepts (slaveof for replicaof, hash-max-ziplist-* ...). */
  readonly alias: string | null;
  readonly kind: ParamKind;
  readonly default: T;
  /** Settable by CONFIG SET (Redis's MODIFIABLE_CONFIG) or only at start-up. */
  readonly mutable: boolean;
  /** Settable at runtime only where enable-protected-configs allows it (dir, dbfilename). */
  readonly protected: boolean;
  /** CONFIG SET is refused with -LOADING while the dataset loads (appendonly, dir ...). */
  readonly denyLoading: boolean;
  /** Takes any number of arguments (save, bind, client-output-buffer-limit ...). */
  readonly multiArg: boolean;
  /** Its value must be redacted from SLOWLOG, MONITOR and the like (requirepass ...). */
  readonly sensitive: boolean;
  /** Left out of CONFIG GET patterns; an exact name still finds it (rdb-key-save-delay ...). */
  readonly hidden: boolean;
  /** Bounds of int and memory parameters, in the C type's range. */
  readonly min?: bigint;
  readonly max?: bigint;
  /** Accepted names of an enum parameter, in the order Redis lists them in errors. */
  readonly choices?: readonly string[];
  /**
   * Redis's own apply function for the parameter, run by CONFIG SET (never at load) before
   * the hooks the server registers; e.g. repl-backlog-size's 16kb floor.
   */
  readonly apply?: (cfg: Config) => string | void;
  /** Validates and converts the arguments; `prev` is the current value. */
  parse(args: readonly string[], prev: T, ctx: ParseContext): ParseResult<T>;
  /** The value as CONFIG GET shows it. */
  format(value: T): string;
}

/** "hash-max-listpack-entries" -> "hashMaxListpackEntries", "bio_cpulist" -> "bioCpulist". */
export type Camel<S extends string> = S extends `${infer H}-${infer T}`
  ? `${H}${Capitalize<Camel<T>>}`
  : S extends `${infer H}_${infer T}`
    ? `${H}${Capitalize<Camel<T>>}`
    : S;

export function camel<S extends string>(name: S): Camel<S> {
  return name.replace(/[-_]([a-z0-9])/g, (_, c: string) => c.toUpperCase()) as Camel<S>;
}

interface Flags {
  alias?: string;
  immutable?: boolean;
  protected?: boolean;
  denyLoading?: boolean;
  sensitive?: boolean;
  hidden?: boolean;
}

function ok<T>(value: T): ParseResult<T> {
  return { ok: true, value };
}
function fail<T>(err: string): ParseResult<T> {
  return { ok: false, err };
}

function spec<N extends string, T>(
  name: N,
  kind: ParamKind,
  def: T,
  flags: Flags,
  multiArg: boolean,
  parse: ParamSpec<N, T>["parse"],
  format: ParamSpec<N, T>["format"],
  extra: Partial<Pick<ParamSpec<N, T>, "min" | "max" | "choices" | "apply">> = {},
): ParamSpec<N, T> {
  return Object.freeze({
    name,
    key: camel(name),
    alias: flags.alias ?? null,
    kind,
    default: def,
    mutable: !flags.immutable,
    protected: flags.protected ?? false,
    denyLoading: flags.denyLoading ?? false,
    multiArg,
    sensitive: flags.sensitive ?? false,
    hidden: flags.hidden ?? false,
    parse,
    format,
    ...extra,
  });
}

// ---------------------------------------------------------------------------------------
// Parsers that reproduce Redis's C helpers (util.c), since their quirks show in replies.

/** Redis's string2ll: no spaces, no '+', no leading zeros, 64-bit range. */
export function string2ll(s: string): bigint | null {
  if (!/^(0|-?[1-9][0-9]*)$/.test(s)) return null;
  const v = BigInt(s);
  return v < LLONG_MIN || v > LONG_MAX ? null : v;
}

/**
 * Redis's memtoull: digits then an optional unit (b, k, kb, m, mb, g, gb, any case).
 * "" and a bare unit read as 0; an overflowing number saturates (strtoull) and the unit
 * multiplication wraps modulo 2^64, as in C.
 */
export function memtoull(s: string): bigint | null {
  if (s.startsWith("-")) return null;
  let i = 0;
  while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
  const mul = MEMORY_UNITS[s.slice(i).toLowerCase()];
  if (mul === undefined || i >= 128) return null;
  let v = i === 0 ? 0n : BigInt(s.slice(0, i));
  if (v > ULLONG_MAX) v = ULLONG_MAX;
  return (v * mul) & ULLONG_MAX;
}

const MEMORY_UNITS: Record<string, bigint> = {
  "": 1n,
  b: 1n,
  k: 1000n,
  kb: 1024n,
  m: 1000n * 1000n,
  mb: 1024n * 1024n,
  g: 1000n * 1000n * 1000n,
  gb: 1024n * 1024n * 1024n,
};

/**
 * C's strtoll(s, &end, base) followed by `*end == '\0'`: leading whitespace and a sign are
 * allowed, "" reads as 0, and a value out of range saturates. Returns null when characters
 * are left over or (with checkRange) when strtoll would set ERANGE.
 */
export function strtollWhole(s: string, base: 8 | 10, checkRange = false): bigint | null {
  if (s === "") return 0n;
  const m = (base === 8 ? /^[ \t\n\v\f\r]*([+-]?)([0-7]+)$/ : /^[ \t\n\v\f\r]*([+-]?)([0-9]+)$/).exec(s);
  if (!m) return null;
  let v = BigInt((base === 8 ? "0o" : "") + m[2]!);
  if (m[1] === "-") v = -v;
  if (v > LONG_MAX) return checkRange ? null : LONG_MAX;
  if (v < LLONG_MIN) return checkRange ? null : LLONG_MIN;
  return v;
}

/** Redis's string2d: a whole strtod-readable number with no leading space, not NaN. */
function string2d(s: string): number | null {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(inf|infinity)$/i.test(s)) return null;
  const v = Number(s.replace(/^([+-]?)inf(inity)?$/i, "$1Infinity"));
  return Number.isNaN(v) ? null : v;
}

/** strerror(3) texts for the errno values file operations here can meet. */
export function strerror(code: string | undefined): string {
  return STRERROR[code ?? ""] ?? `Unknown error ${code ?? ""}`.trim();
}

const STRERROR: Record<string, string> = {
  ENOENT: "No such file or directory",
  EADDRINUSE: "Address already in use",
  EADDRNOTAVAIL: "Cannot assign requested address",
  EAFNOSUPPORT: "Address family not supported by protocol",
  ENOTDIR: "Not a directory",
  EACCES: "Permission denied",
  EPERM: "Operation not permitted",
  EISDIR: "Is a directory",
  ENAMETOOLONG: "File name too long",
  ELOOP: "Too many levels of symbolic links",
  EROFS: "Read-only file system",
  ENOSPC: "No space left on device",
  EMFILE: "Too many open files",
  EINVAL: "Invalid argument",
};

/**
 * A JS (UTF-16) string as a latin1 binary string of its UTF-8 bytes: the form redbun keeps
 * every byte string in (config values included).
 */
export function toBinary(s: string): string {
  return /^[\x00-\x7f]*$/.test(s) ? s : Buffer.from(s, "utf8").toString("latin1");
}

// ---------------------------------------------------------------------------------------
// Typed parameter constructors.

const YESNO = "argument must be 'yes' or 'no'";

function bool<N extends string>(
  name: N,
  def: boolean,
  flags: Flags = {},
  validate?: (v: boolean) => string | null,
): ParamSpec<N, boolean> {
  return spec(
    name,
    "bool",
    def,
    flags,
    false,
    (args) => {
      const s = args[0]!.toLowerCase();
      if (s !== "yes" && s !== "no") return fail(YESNO);
      const err = validate?.(s === "yes");
      return err ? fail(err) : ok(s === "yes");
    },
    (v) => (v ? "yes" : "no"),
  );
}

interface NumOpts {
  /** Bounds are compared as unsigned 64-bit values (Redis's uint, size_t, ull types). */
  unsigned?: boolean;
  memory?: boolean;
  percent?: boolean;
  octal?: boolean;
  /** Post-parse adjustment, e.g. hz's clamp. */
  normalize?: (v: number) => number;
  apply?: (cfg: Config) => string | void;
}

/**
 * An integer parameter, parsed exactly like numericParseString + numericBoundaryCheck.
 * Values are JS numbers: exact up to 2^53, which covers every practical setting; the
 * extreme values users do type (2^64-1, LLONG_MAX) are still printed exactly by format().
 * maxmemory-clients stores a percentage as a negative number, as Redis does.
 */
function num<N extends string>(
  name: N,
  min: bigint,
  max: bigint,
  def: number,
  o: NumOpts = {},
  flags: Flags = {},
): ParamSpec<N, number> {
  const kind: ParamKind = o.memory ? "memory" : "int";
  const parse = (args: readonly string[]): ParseResult<number> => {
    const s = args[0]!;
    let v: bigint | null = null;
    if (o.memory) {
      const u = memtoull(s);
      if (u !== null) v = BigInt.asIntN(64, u);
    }
    if (v === null && o.percent && s.length > 1 && s.endsWith("%")) {
      const p = string2ll(s.slice(0, -1));
      if (p !== null && p >= 0n) v = -p;
    }
    if (v === null && o.octal) v = strtollWhole(s, 8, true);
    if (v === null && !o.memory && !o.percent && !o.octal) v = string2ll(s);
    if (v === null) {
      if (o.memory && o.percent) return fail("argument must be a memory or percent value");
      if (o.memory) return fail("argument must be a memory value");
      if (o.octal) return fail("argument couldn't be parsed as an octal number");
      return fail("argument couldn't be parsed into an integer");
    }
    if (o.unsigned) {
      const u = BigInt.asUintN(64, v);
      if (u > max || u < min) {
        const f = (b: bigint) => (o.octal ? b.toString(8) : b.toString());
        return fail(`argument must be between ${f(min)} and ${f(max)} inclusive`);
      }
      const n = Number(u);
      return ok(o.normalize ? o.normalize(n) : n);
    }
    if (o.percent && v < 0n) {
      if (v < min) return fail(`percentage argument must be less or equal to ${-min}`);
    } else if (v > max || v < min) {
      return fail(`argument must be between ${min} and ${max} inclusive`);
    }
    const n = Number(v);
    return ok(o.normalize ? o.normalize(n) : n);
  };
  const format = (v: number): string => {
    if (o.percent && v < 0) return `${-v}%`;
    if (o.octal) return v.toString(8);
    if (Number.isSafeInteger(v)) return String(v);
    // Beyond 2^53 the number is rounded: print the bound it rounded past, if any.
    let b = BigInt(v);
    if (b > max) b = max;
    if (b < min && !o.percent) b = min;
    return b.toString();
  };
  return spec(name, kind, def, flags, false, parse, format, { min, max, apply: o.apply });
}

const int = <N extends string>(name: N, min: bigint, max: bigint, def: number, flags: Flags = {}) =>
  num(name, min, max, def, {}, flags);

function enumOf<N extends string, const C extends readonly string[]>(
  name: N,
  choices: C,
  def: C[number],
  flags: Flags = {},
  synonyms: Record<string, C[number]> = {},
): ParamSpec<N, C[number]> {
  const err = `argument(s) must be one of the following: ${choices.join(", ")}`;
  return spec(
    name,
    "enum",
    def,
    flags,
    false,
    (args) => {
      const s = args[0]!.toLowerCase();
      if (!choices.includes(s)) return fail(err);
      return ok((synonyms[s] ?? s) as C[number]);
    },
    (v) => v,
    { choices },
  );
}

function str<N extends string>(
  name: N,
  def: string,
  flags: Flags = {},
  validate?: (v: string) => string | null,
): ParamSpec<N, string> {
  return spec(
    name,
    "string",
    def,
    flags,
    false,
    (args) => {
      const err = validate?.(args[0]!);
      return err ? fail(err) : ok(args[0]!);
    },
    (v) => v,
  );
}

// ---------------------------------------------------------------------------------------
// Special parameters: their own argument shapes and values.

export interface SaveParam {
  readonly seconds: number;
  readonly changes: number;
}

/**
 * `save <seconds> <changes> [...]`. In a config file the first `save` line replaces the
 * defaults and later ones append to it; a lone "" always empties the list. CONFIG SET
 * replaces the whole list.
 */
const saveParam = spec(
  "save",
  "special",
  Object.freeze([
    { seconds: 3600, changes: 1 },
    { seconds: 300, changes: 100 },
    { seconds: 60, changes: 10000 },
  ]) as readonly SaveParam[],
  {},
  true,
  (argsIn, prev, ctx) => {
    let args = argsIn;
    let reset = false;
    if (args.length === 1 && args[0] === "") {
      reset = true;
      args = [];
    }
    if (args.length % 2 === 1) return fail("Invalid save parameters");
    const pairs: SaveParam[] = [];
    for (let j = 0; j < args.length; j += 2) {
      const seconds = strtollWhole(args[j]!, 10);
      const changes = strtollWhole(args[j + 1]!, 10);
      if (seconds === null || seconds < 1n || changes === null || changes < 0n) {
        return fail("Invalid save parameters");
      }
      // Redis keeps seconds in a time_t and changes in an int.
      pairs.push({ seconds: Number(seconds), changes: Number(BigInt.asIntN(32, changes)) });
    }
    let base: readonly SaveParam[] = reset ? [] : prev;
    if (!ctx.inFile) base = [];
    else if (!ctx.loadState.has("save")) {
      ctx.loadState.add("save");
      base = [];
    }
    return ok(Object.freeze([...base, ...pairs]));
  },
  (v) => v.map((p) => `${p.seconds} ${p.changes}`).join(" "),
);

const bindParam = spec(
  "bind",
  "special",
  Object.freeze(["*", "-::*"]) as readonly string[],
  {},
  true,
  (args) => {
    if (args.length > BIND_ADDR_MAX) return fail("Too many bind addresses specified.");
    if (args.length === 1 && args[0] === "") return ok(Object.freeze([]) as readonly string[]);
    return ok(Object.freeze([...args]));
  },
  (v) => v.join(" "),
);

/**
 * `dir`: Redis chdir()s here. redbun keeps it per server instead (several servers may share
 * one process), as the absolute physical path getcwd() would report; persistence and the
 * log file resolve relative names against it. Relative values resolve against the current dir.
 */
const dirParam: ParamSpec<"dir", string> = spec(
  "dir",
  "special",
  "",
  { protected: true, denyLoading: true },
  false,
  (args, _prev, ctx) => {
    // chdir("") fails with ENOENT rather than meaning ".".
    if (args[0] === "") return fail(strerror("ENOENT"));
    const target = Buffer.from(resolvePath(ctx.cfg.dir, args[0]!), "latin1");
    try {
      if (!statSync(target).isDirectory()) return fail(strerror("ENOTDIR"));
      accessSync(target, fsConstants.X_OK);
      return ok(realpathSync(target, { encoding: "buffer" }).toString("latin1"));
    } catch (e) {
      return fail(strerror((e as NodeJS.ErrnoException).code));
    }
  },
  (v) => v,
);

export interface ReplicaOf {
  readonly host: string;
  readonly port: number;
}

const replicaofParam = spec(
  "replicaof",
  "special",
  null as ReplicaOf | null,
  { alias: "slaveof", immutable: true },
  true,
  (args) => {
    if (args.length !== 2) return fail("wrong number of arguments");
    if (args[0]!.toLowerCase() === "no" && args[1]!.toLowerCase() === "one") return ok(null);
    const port = strtollWhole(args[1]!, 10);
    if (port === null || port < 0n || port > 65535n) return fail("Invalid master port");
    return ok(Object.freeze({ host: args[0]!, port: Number(port) }));
  },
  (v) => (v ? `${v.host} ${v.port}` : ""),
);

export interface OutputBufferLimit {
  readonly hardBytes: number;
  readonly softBytes: number;
  readonly softSeconds: number;
}
export type OutputBufferClass = "normal" | "replica" | "pubsub";
export type OutputBufferLimits = Readonly<Record<OutputBufferClass, OutputBufferLimit>>;

const OBUF_CLASS: Record<string, OutputBufferClass> = { normal: "normal", slave: "replica", replica: "replica", pubsub: "pubsub" };

const clientOutputBufferLimitParam = spec(
  "client-output-buffer-limit",
  "special",
  Object.freeze({
    normal: { hardBytes: 0, softBytes: 0, softSeconds: 0 },
    replica: { hardBytes: 256 * 1024 * 1024, softBytes: 64 * 1024 * 1024, softSeconds: 60 },
    pubsub: { hardBytes: 32 * 1024 * 1024, softBytes: 8 * 1024 * 1024, softSeconds: 60 },
  }) as OutputBufferLimits,
  {},
  true,
  (args, prev) => {
    if (args.length % 4 !== 0) return fail("Wrong number of arguments in buffer limit configuration.");
    const next = { ...prev };
    for (let j = 0; j < args.length; j += 4) {
      const cls = OBUF_CLASS[args[j]!.toLowerCase()];
      if (!cls) return fail("Invalid client class specified in buffer limit configuration.");
      const hard = memtoull(args[j + 1]!);
      const soft = memtoull(args[j + 2]!);
      const secs = strtollWhole(args[j + 3]!, 10);
      const secs32 = secs === null ? -1n : BigInt.asIntN(32, secs);
      if (hard === null || soft === null || secs32 < 0n) {
        return fail("Error in hard, soft or soft_seconds setting in buffer limit configuration.");
      }
      next[cls] = Object.freeze({ hardBytes: Number(hard), softBytes: Number(soft), softSeconds: Number(secs32) });
    }
    return ok(Object.freeze(next));
  },
  (v) =>
    (["normal", "replica", "pubsub"] as const)
      .map((c) => `${c === "replica" ? "slave" : c} ${v[c].hardBytes} ${v[c].softBytes} ${v[c].softSeconds}`)
      .join(" "),
);

const oomScoreAdjValuesParam = spec(
  "oom-score-adj-values",
  "special",
  Object.freeze([0, 200, 800]) as readonly number[],
  {},
  true,
  (args) => {
    if (args.length !== 3) return fail("wrong number of arguments");
    const out: number[] = [];
    for (const a of args) {
      const v = strtollWhole(a, 10);
      if (v === null || v < -2000n || v > 2000n) {
        return fail("Invalid oom-score-adj-values, elements must be between -2000 and 2000.");
      }
      out.push(Number(v));
    }
    return ok(Object.freeze(out));
  },
  (v) => v.join(" "),
);

/** Keyspace notification classes, as Redis's NOTIFY_* bits (server.h). */
export const NOTIFY = Object.freeze({
  KEYSPACE: 1 << 0, // K
  KEYEVENT: 1 << 1, // E
  GENERIC: 1 << 2, // g
  STRING: 1 << 3, // $
  LIST: 1 << 4, // l
  SET: 1 << 5, // s
  HASH: 1 << 6, // h
  ZSET: 1 << 7, // z
  EXPIRED: 1 << 8, // x
  EVICTED: 1 << 9, // e
  STREAM: 1 << 10, // t
  KEY_MISS: 1 << 11, // m (not part of A)
  LOADED: 1 << 12, // module-only
  MODULE: 1 << 13, // d
  NEW: 1 << 14, // n (not part of A)
  ALL: (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 13),
});

const NOTIFY_CHARS: Record<string, number> = {
  A: NOTIFY.ALL,
  g: NOTIFY.GENERIC,
  $: NOTIFY.STRING,
  l: NOTIFY.LIST,
  s: NOTIFY.SET,
  h: NOTIFY.HASH,
  z: NOTIFY.ZSET,
  x: NOTIFY.EXPIRED,
  e: NOTIFY.EVICTED,
  K: NOTIFY.KEYSPACE,
  E: NOTIFY.KEYEVENT,
  t: NOTIFY.STREAM,
  m: NOTIFY.KEY_MISS,
  d: NOTIFY.MODULE,
  n: NOTIFY.NEW,
};

/** Redis's keyspaceEventsFlagsToString, including its order and dropping 'n' next to 'A'. */
export function notifyFlagsToString(flags: number): string {
  let s = "";
  if ((flags & NOTIFY.ALL) === NOTIFY.ALL) s += "A";
  else {
    const order: [number, string][] = [
      [NOTIFY.GENERIC, "g"], [NOTIFY.STRING, "$"], [NOTIFY.LIST, "l"], [NOTIFY.SET, "s"],
      [NOTIFY.HASH, "h"], [NOTIFY.ZSET, "z"], [NOTIFY.EXPIRED, "x"], [NOTIFY.EVICTED, "e"],
      [NOTIFY.STREAM, "t"], [NOTIFY.MODULE, "d"], [NOTIFY.NEW, "n"],
    ];
    for (const [bit, c] of order) if (flags & bit) s += c;
  }
  if (flags & NOTIFY.KEYSPACE) s += "K";
  if (flags & NOTIFY.KEYEVENT) s += "E";
  if (flags & NOTIFY.KEY_MISS) s += "m";
  return s;
}

const notifyKeyspaceEventsParam = spec(
  "notify-keyspace-events",
  "special",
  0,
  {},
  false,
  (args) => {
    let flags = 0;
    for (const c of args[0]!) {
      const bit = NOTIFY_CHARS[c];
      if (bit === undefined) return fail("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
      flags |= bit;
    }
    return ok(flags);
  },
  notifyFlagsToString,
);

const latencyPercentilesParam = spec(
  "latency-tracking-info-percentiles",
  "special",
  Object.freeze([50, 99, 99.9]) as readonly number[],
  {},
  true,
  (args) => {
    if (args.length === 1 && args[0] === "") return ok(Object.freeze([]) as readonly number[]);
    const out: number[] = [];
    for (const a of args) {
      const p = string2d(a);
      if (p === null) return fail("Invalid latency-tracking-info-percentiles parameters");
      if (p > 100 || p < 0) return fail("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]");
      out.push(p);
    }
    return ok(Object.freeze(out));
  },
  // printf("%f") then trimDoubleString.
  (v) => v.map((p) => p.toFixed(6).replace(/\.?0+$/, "")).join(" "),
);

/** SHUTDOWN flags for shutdown-on-sigint / shutdown-on-sigterm ("default" is 0). */
export const SHUTDOWN = Object.freeze({ SAVE: 1, NOSAVE: 2, NOW: 4, FORCE: 8 });
const SHUTDOWN_NAMES: readonly [string, number][] = [["default", 0], ["save", 1], ["nosave", 2], ["now", 4], ["force", 8]];

function shutdownParam<N extends string>(name: N): ParamSpec<N, number> {
  const err = `argument(s) must be one of the following: ${SHUTDOWN_NAMES.map((e) => e[0]).join(", ")}`;
  return spec(
    name,
    "enum",
    0,
    {},
    true,
    (args) => {
      let flags = 0;
      if (args.length === 0) return fail(err);
      for (const a of args) {
        const e = SHUTDOWN_NAMES.find((n) => n[0] === a.toLowerCase());
        if (!e) return fail(err);
        flags |= e[1];
      }
      if (flags & SHUTDOWN.SAVE && flags & SHUTDOWN.NOSAVE) {
        return fail("shutdown options SAVE and NOSAVE can't be used simultaneously");
      }
      return ok(flags);
    },
    (v) => (v === 0 ? "default" : SHUTDOWN_NAMES.filter((e) => e[1] !== 0 && v & e[1]).map((e) => e[0]).join(" ")),
    { choices: SHUTDOWN_NAMES.map((e) => e[0]) },
  );
}

// ---------------------------------------------------------------------------------------
// Validators shared by several string parameters.

const isBaseName = (p: string) => !p.includes("/") && !p.includes("\\");

function validHostname(v: string): string | null {
  if (v.length >= HOSTNAME_MAX_LEN) return `Hostnames must be less than ${HOSTNAME_MAX_LEN} characters`;
  if (!/^[A-Za-z0-9.-]*$/.test(v)) return "Hostnames may only contain alphanumeric characters, hyphens or dots";
  return null;
}

const PROC_TITLE_VARS = new Set(["title", "listen-addr", "server-mode", "port", "tls-port", "unixsocket", "config-file"]);

/**
 * Redis's validateProcTitleTemplate: `{name}` variables must be known, `{{` and `}}` are
 * literal braces, and the template expanded with an empty {title} must not be blank.
 */
function validProcTitle(t: string): string | null {
  const bad = "template format is invalid or contains unknown variables";
  let out = "";
  for (let i = 0; i < t.length; i++) {
    const c = t[i]!;
    if (c === "{" && t[i + 1] === "{") { out += "{"; i++; continue; }
    if (c === "}" && t[i + 1] === "}") { out += "}"; i++; continue; }
    if (c === "}") return bad;
    if (c !== "{") { out += c; continue; }
    const end = t.indexOf("}", i + 1);
    if (end < 0) return bad;
    const v = t.slice(i + 1, end);
    if (!PROC_TITLE_VARS.has(v)) return bad;
    // Every variable but {title} expands to something non-blank (e.g. "*:6379").
    if (v !== "title") out += "x";
    i = end;
  }
  return out.trim() === "" ? bad : null;
}

// ---------------------------------------------------------------------------------------
// The table. Order follows Redis's static_configs; CONFIG GET lists matches in this order.

export const PARAMS = [
  // Bool configs
  bool("rdbchecksum", true, { immutable: true }),
  bool("daemonize", false, { immutable: true }, (v) =>
    v ? "redbun does not daemonize: run it in the foreground under a supervisor (systemd, runit, &)" : null),
  bool("io-threads-do-reads", false, { immutable: true }),
  bool("always-show-logo", false, { immutable: true }),
  bool("protected-mode", true),
  bool("rdbcompression", true),
  bool("rdb-del-sync-files", false),
  bool("activerehashing", true),
  bool("stop-writes-on-bgsave-error", true),
  bool("set-proc-title", true, { immutable: true }),
  bool("dynamic-hz", true),
  bool("lazyfree-lazy-eviction", false),
  bool("lazyfree-lazy-expire", false),
  bool("lazyfree-lazy-server-del", false),
  bool("lazyfree-lazy-user-del", false),
  bool("lazyfree-lazy-user-flush", false),
  bool("repl-disable-tcp-nodelay", false),
  bool("repl-diskless-sync", true),
  bool("aof-rewrite-incremental-fsync", true),
  bool("no-appendfsync-on-rewrite", false),
  bool("cluster-require-full-coverage", true),
  bool("rdb-save-incremental-fsync", true),
  bool("aof-load-truncated", true),
  bool("aof-use-rdb-preamble", true),
  bool("aof-timestamp-enabled", false),
  bool("cluster-replica-no-failover", false, { alias: "cluster-slave-no-failover" }),
  bool("replica-lazy-flush", false, { alias: "slave-lazy-flush" }),
  bool("replica-serve-stale-data", true, { alias: "slave-serve-stale-data" }),
  bool("replica-read-only", true, { alias: "slave-read-only" }),
  bool("replica-ignore-maxmemory", true, { alias: "slave-ignore-maxmemory" }),
  bool("jemalloc-bg-thread", true),
  // The oracle (Debian's build) has no active defragmentation either, and says so.
  bool("activedefrag", false, {}, (v) =>
    v
      ? "Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution"
      : null),
  // redbun writes its log to stdout or logfile only: accepting `syslog-enabled yes` would drop
  // every log line an operator expects to find in syslog, so it is refused at start-up.
  bool("syslog-enabled", false, { immutable: true }, (v) =>
    v ? "syslog-enabled is not supported by redbun: it logs to stdout or to the file named by logfile" : null),
  bool("cluster-enabled", false, { immutable: true }),
  bool("appendonly", false, { denyLoading: true }),
  bool("cluster-allow-reads-when-down", false),
  bool("cluster-allow-pubsubshard-when-down", true),
  bool("crash-log-enabled", true),
  bool("crash-memcheck-enabled", true),
  bool("use-exit-on-panic", false, { hidden: true }),
  bool("disable-thp", true, { immutable: true }),
  bool("cluster-allow-replica-migration", true),
  bool("replica-announced", true),
  bool("latency-tracking", true),
  bool("aof-disable-auto-gc", false),
  bool("replica-ignore-disk-write-errors", false),

  // String configs
  str("aclfile", "", { immutable: true }),
  str("unixsocket", "", { immutable: true }),
  str("pidfile", "", { immutable: true }),
  str("replica-announce-ip", "", { alias: "slave-announce-ip" }),
  str("masteruser", "", { sensitive: true }),
  str("cluster-announce-ip", ""),
  str("cluster-config-file", "nodes.conf", { immutable: true }),
  str("cluster-announce-hostname", "", {}, validHostname),
  str("syslog-ident", "redis", { immutable: true }),
  str("dbfilename", "dump.rdb", { protected: true }, (v) =>
    isBaseName(v) ? null : "dbfilename can't be a path, just a filename"),
  str("appendfilename", "appendonly.aof", { immutable: true }, (v) =>
    v === "" ? "appendfilename can't be empty" : isBaseName(v) ? null : "appendfilename can't be a path, just a filename"),
  str("appenddirname", "appendonlydir", { immutable: true }, (v) =>
    v === "" ? "appenddirname can't be empty" : isBaseName(v) ? null : "appenddirname can't be a path, just a dirname"),
  str("server_cpulist", "", { immutable: true }),
  str("bio_cpulist", "", { immutable: true }),
  str("aof_rewrite_cpulist", "", { immutable: true }),
  str("bgsave_cpulist", "", { immutable: true }),
  str("ignore-warnings", ""),
  str("proc-title-template", "{title} {listen-addr} {server-mode}", {}, validProcTitle),
  str("bind-source-addr", ""),
  str("logfile", "", { immutable: true }),
  str("masterauth", "", { sensitive: true }),
  str("requirepass", "", { sensitive: true }),

  // Enum configs
  enumOf("supervised", ["upstart", "systemd", "auto", "no"], "no", { immutable: true }),
  enumOf("syslog-facility", ["user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"], "local0", { immutable: true }),
  enumOf("repl-diskless-load", ["disabled", "on-empty-db", "swapdb"], "disabled", { denyLoading: true }),
  enumOf("loglevel", ["debug", "verbose", "notice", "warning"], "notice"),
  enumOf("maxmemory-policy", ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"], "noeviction"),
  enumOf("appendfsync", ["everysec", "always", "no"], "everysec"),
  // "relative" is another name for "yes"; CONFIG GET shows the first name, "yes".
  enumOf("oom-score-adj", ["no", "yes", "relative", "absolute"], "no", {}, { relative: "yes" }),
  enumOf("acl-pubsub-default", ["allchannels", "resetchannels"], "resetchannels"),
  enumOf("sanitize-dump-payload", ["no", "yes", "clients"], "no"),
  enumOf("enable-protected-configs", ["no", "yes", "local"], "no", { immutable: true }),
  enumOf("enable-debug-command", ["no", "yes", "local"], "no", { immutable: true }),
  enumOf("enable-module-command", ["no", "yes", "local"], "no", { immutable: true }),
  enumOf("cluster-preferred-endpoint-type", ["ip", "hostname", "unknown-endpoint"], "ip"),
  enumOf("propagation-error-behavior", ["ignore", "panic", "panic-on-replicas"], "ignore"),
  shutdownParam("shutdown-on-sigint"),
  shutdownParam("shutdown-on-sigterm"),

  // Integer configs (C int)
  int("databases", 1n, INT_MAX, 16, { immutable: true }),
  int("port", 0n, 65535n, 6379),
  int("io-threads", 1n, 128n, 1, { immutable: true }),
  int("auto-aof-rewrite-percentage", 0n, INT_MAX, 100),
  int("cluster-replica-validity-factor", 0n, INT_MAX, 10, { alias: "cluster-slave-validity-factor" }),
  int("list-max-listpack-size", INT_MIN, INT_MAX, -2, { alias: "list-max-ziplist-size" }),
  int("tcp-keepalive", 0n, INT_MAX, 300),
  int("cluster-migration-barrier", 0n, INT_MAX, 1),
  int("active-defrag-cycle-min", 1n, 99n, 1),
  int("active-defrag-cycle-max", 1n, 99n, 25),
  int("active-defrag-threshold-lower", 0n, 1000n, 10),
  int("active-defrag-threshold-upper", 0n, 1000n, 100),
  int("lfu-log-factor", 0n, INT_MAX, 10),
  int("lfu-decay-time", 0n, INT_MAX, 1),
  int("replica-priority", 0n, INT_MAX, 100, { alias: "slave-priority" }),
  int("repl-diskless-sync-delay", 0n, INT_MAX, 5),
  int("maxmemory-samples", 1n, INT_MAX, 5),
  int("maxmemory-eviction-tenacity", 0n, 100n, 10),
  int("timeout", 0n, INT_MAX, 0),
  int("replica-announce-port", 0n, 65535n, 0, { alias: "slave-announce-port" }),
  int("tcp-backlog", 0n, INT_MAX, 511, { immutable: true }),
  int("cluster-port", 0n, 65535n, 0, { immutable: true }),
  int("cluster-announce-bus-port", 0n, 65535n, 0),
  int("cluster-announce-port", 0n, 65535n, 0),
  int("cluster-announce-tls-port", 0n, 65535n, 0),
  int("repl-timeout", 1n, INT_MAX, 60),
  int("repl-ping-replica-period", 1n, INT_MAX, 10, { alias: "repl-ping-slave-period" }),
  int("list-compress-depth", 0n, INT_MAX, 0),
  int("rdb-key-save-delay", INT_MIN, INT_MAX, 0, { hidden: true }),
  int("key-load-delay", INT_MIN, INT_MAX, 0, { hidden: true }),
  int("active-expire-effort", 1n, 10n, 1),
  // Out-of-range hz is a hint: Redis accepts it and clamps it into [1, 500].
  num("hz", 0n, INT_MAX, 10, { normalize: (v) => Math.min(HZ_MAX, Math.max(HZ_MIN, v)) }),
  int("min-replicas-to-write", 0n, INT_MAX, 0, { alias: "min-slaves-to-write" }),
  int("min-replicas-max-lag", 0n, INT_MAX, 10, { alias: "min-slaves-max-lag" }),
  int("watchdog-period", 0n, INT_MAX, 0, { hidden: true }),
  int("shutdown-timeout", 0n, INT_MAX, 10),
  int("repl-diskless-sync-max-replicas", 0n, INT_MAX, 0),

  // Unsigned int configs
  num("maxclients", 1n, UINT_MAX, 10000, { unsigned: true }),
  num("unixsocketperm", 0n, 0o777n, 0, { unsigned: true, octal: true }, { immutable: true }),
  num("socket-mark-id", 0n, UINT_MAX, 0, { unsigned: true }, { immutable: true }),

  // Unsigned long configs (bounds checked as signed, as Redis does)
  int("active-defrag-max-scan-fields", 1n, LONG_MAX, 1000),
  int("slowlog-max-len", 0n, LONG_MAX, 128),
  int("acllog-max-len", 0n, LONG_MAX, 128),

  // Long long configs
  int("busy-reply-threshold", 0n, LONG_MAX, 5000, { alias: "lua-time-limit" }),
  int("cluster-node-timeout", 0n, LONG_MAX, 15000),
  int("slowlog-log-slower-than", -1n, LONG_MAX, 10000),
  int("latency-monitor-threshold", 0n, LONG_MAX, 0),
  num("proto-max-bulk-len", 1024n * 1024n, LONG_MAX, 512 * 1024 * 1024, { memory: true }),
  int("stream-node-max-entries", 0n, LONG_MAX, 100),
  // Below 16kb it is raised to 16kb when set at runtime (resizeReplicationBacklog), but a
  // smaller value from the config file stays as written.
  num("repl-backlog-size", 1n, LONG_MAX, 1024 * 1024, {
    memory: true,
    apply: (cfg) => {
      if (cfg.replBacklogSize < REPL_BACKLOG_MIN_BYTES) cfg.assign("repl-backlog-size", REPL_BACKLOG_MIN_BYTES);
    },
  }),

  // Unsigned long long configs
  num("maxmemory", 0n, ULLONG_MAX, 0, { memory: true, unsigned: true }),
  num("cluster-link-sendbuf-limit", 0n, ULLONG_MAX, 0, { memory: true, unsigned: true }),

  // size_t configs
  num("hash-max-listpack-entries", 0n, LONG_MAX, 512, { unsigned: true }, { alias: "hash-max-ziplist-entries" }),
  num("set-max-intset-entries", 0n, LONG_MAX, 512, { unsigned: true }),
  num("zset-max-listpack-entries", 0n, LONG_MAX, 128, { unsigned: true }, { alias: "zset-max-ziplist-entries" }),
  num("active-defrag-ignore-bytes", 1n, LONG_MAX, 100 * 1024 * 1024, { memory: true, unsigned: true }),
  num("hash-max-listpack-value", 0n, LONG_MAX, 64, { memory: true, unsigned: true }, { alias: "hash-max-ziplist-value" }),
  num("stream-node-max-bytes", 0n, LONG_MAX, 4096, { memory: true, unsigned: true }),
  num("zset-max-listpack-value", 0n, LONG_MAX, 64, { memory: true, unsigned: true }, { alias: "zset-max-ziplist-value" }),
  num("hll-sparse-max-bytes", 0n, LONG_MAX, 3000, { memory: true, unsigned: true }),
  num("tracking-table-max-keys", 0n, LONG_MAX, 1000000, { unsigned: true }),
  num("client-query-buffer-limit", 1024n * 1024n, LONG_MAX, 1024 * 1024 * 1024, { memory: true, unsigned: true }),
  num("maxmemory-clients", -100n, LONG_MAX, 0, { memory: true, percent: true }),

  // Other numeric configs (time_t, off_t)
  int("repl-backlog-ttl", 0n, LONG_MAX, 3600),
  num("auto-aof-rewrite-min-size", 0n, LONG_MAX, 64 * 1024 * 1024, { memory: true }),
  int("loading-process-events-interval-bytes", 1024n, INT_MAX, 2 * 1024 * 1024, { hidden: true }),

  // TLS configs: accepted and reported; redbun does not serve TLS.
  int("tls-port", 0n, 65535n, 0),
  int("tls-session-cache-size", 0n, INT_MAX, 20 * 1024),
  int("tls-session-cache-timeout", 0n, INT_MAX, 300),
  bool("tls-cluster", false),
  bool("tls-replication", false),
  enumOf("tls-auth-clients", ["no", "yes", "optional"], "yes"),
  bool("tls-prefer-server-ciphers", false),
  bool("tls-session-caching", true),
  str("tls-cert-file", ""),
  str("tls-key-file", ""),
  str("tls-key-file-pass", ""),
  str("tls-client-cert-file", ""),
  str("tls-client-key-file", ""),
  str("tls-client-key-file-pass", ""),
  str("tls-dh-params-file", ""),
  str("tls-ca-cert-file", ""),
  str("tls-ca-cert-dir", ""),
  str("tls-protocols", ""),
  str("tls-ciphers", ""),
  str("tls-ciphersuites", ""),

  // redbun's own configs. Hidden, so that CONFIG GET * lists exactly Redis's parameters;
  // an exact CONFIG GET metrics-port still answers.
  /** The Prometheus endpoint's HTTP port (src/metrics/prometheus.ts); 0 keeps it closed. */
  int("metrics-port", 0n, 65535n, 0, { hidden: true }),
  /** The address the Prometheus endpoint listens on: loopback unless asked otherwise. */
  str("metrics-bind", "127.0.0.1", { hidden: true }, (v) => (v === "" ? "metrics-bind can't be empty" : null)),

  // Special configs
  dirParam,
  saveParam,
  clientOutputBufferLimitParam,
  oomScoreAdjValuesParam,
  notifyKeyspaceEventsParam,
  bindParam,
  replicaofParam,
  latencyPercentilesParam,
] as const;

export type Params = typeof PARAMS;
export type AnyParam = Params[number];
export type ParamName = AnyParam["name"];
type ValueOfSpec<S> = S extends ParamSpec<string, infer T> ? T : never;

/** Values by redis.conf name: ParamValue<"maxmemory-policy"> is the policy union. */
export type ParamValue<N extends ParamName> = ValueOfSpec<Extract<AnyParam, { name: N }>>;

/** The typed values a Config holds, under camelCase keys. */
export type ConfigValues = { [S in AnyParam as S["key"]]: ValueOfSpec<S> };

/** One name CONFIG GET/SET and redis.conf accept: a parameter's own name or its alias. */
export interface ParamEntry {
  /** The name as registered: the parameter's name, or its alias. */
  readonly name: string;
  readonly spec: AnyParam;
  readonly isAlias: boolean;
}

/**
 * Lookup by lower-case name, canonical names first then aliases, in table order. Built
 * once: the table is constant, only values live per server.
 */
export const PARAM_ENTRIES: ReadonlyMap<string, ParamEntry> = (() => {
  const m = new Map<string, ParamEntry>();
  for (const p of PARAMS) m.set(p.name, Object.freeze({ name: p.name, spec: p, isAlias: false }));
  for (const p of PARAMS) {
    if (p.alias) m.set(p.alias, Object.freeze({ name: p.alias, spec: p, isAlias: true }));
  }
  return m;
})();

/** The entry for a name or alias, case-insensitively. */
export function lookupParam(name: string): ParamEntry | undefined {
  return PARAM_ENTRIES.get(name) ?? PARAM_ENTRIES.get(name.toLowerCase());
}

// ---------------------------------------------------------------------------------------
// Config: one server's values.

/**
 * Reacts to a CONFIG SET that changed one of the parameters the hook was registered for.
 * Return an error string (or throw) to fail the command: every parameter of the call is
 * then rolled back and the hooks already run are run again on the old values. Hooks are
 * not called while loading redis.conf: the server reads the values when it starts.
 */
export type ApplyHook = (cfg: Config) => string | void;

/** Config's values appear as read-only properties: `cfg.port`, `cfg.maxmemoryPolicy` ... */
export interface Config extends Readonly<ConfigValues> {}

export class Config {
  /** Absolute path of the config file the server was started with (CONFIG REWRITE). */
  configFile: string | null = null;
  /** `rename-command` directives, in file order, for the command table to apply. */
  readonly renameCommands: [from: string, to: string][] = [];
  /** `user` directives (all their words) for the ACL module to load. */
  readonly users: string[][] = [];
  /**
   * The current users as `user` lines, for CONFIG REWRITE; the ACL module installs it
   * (without it the default user is described from requirepass alone).
   */
  userLines: (() => string[]) | null = null;
  /** `loadmodule` directives (path, args...). redbun loads no modules. */
  readonly loadModules: string[][] = [];
  /** `module.name value` directives. */
  readonly moduleConfigs: Map<string, string> = new Map();

  readonly #hooks = new Map<AnyParam, ApplyHook[]>();

  constructor() {
    const self = this as unknown as Record<string, unknown>;
    for (const p of PARAMS) self[p.key] = p.default;
    self["dir"] = toBinary(realpathSync(process.cwd()));
  }

  /** A value by redis.conf name (not alias), typed: cfg.get("maxmemory") is a number. */
  get<N extends ParamName>(name: N): ParamValue<N> {
    const e = PARAM_ENTRIES.get(name);
    if (!e) throw new Error(`unknown config parameter ${name}`);
    return (this as unknown as Record<string, ParamValue<N>>)[e.spec.key]!;
  }

  /** A value as CONFIG GET shows it, by name or alias; undefined for unknown names. */
  getString(name: string): string | undefined {
    const e = lookupParam(name);
    if (!e) return undefined;
    return (e.spec.format as (v: unknown) => string)(this.valueOf(e.spec));
  }

  /** The current value of a spec (for loaders and CONFIG GET/SET). */
  valueOf(spec: AnyParam): unknown {
    return (this as unknown as Record<string, unknown>)[spec.key];
  }

  /**
   * Sets a value without validation or hooks. For loaders, CONFIG SET's rollback, and
   * server code that owns a parameter's state (REPLICAOF updates `replicaof`).
   */
  assign<N extends ParamName>(name: N, value: ParamValue<N>): void;
  assign(spec: AnyParam, value: unknown): void;
  assign(target: ParamName | AnyParam, value: unknown): void {
    const s = typeof target === "string" ? PARAM_ENTRIES.get(target)?.spec : target;
    if (!s) throw new Error(`unknown config parameter ${String(target)}`);
    (this as unknown as Record<string, unknown>)[s.key] = value;
  }

  /**
   * Registers a hook run after CONFIG SET changes any of `names` (names or aliases). A hook
   * registered for several names runs once per CONFIG SET, as Redis's shared apply
   * functions do. Returns a function that unregisters it.
   */
  onChange(names: string | readonly string[], hook: ApplyHook): () => void {
    const specs: AnyParam[] = [];
    for (const n of typeof names === "string" ? [names] : names) {
      const e = lookupParam(n);
      if (!e) throw new Error(`unknown config parameter ${n}`);
      specs.push(e.spec);
      const list = this.#hooks.get(e.spec) ?? [];
      list.push(hook);
      this.#hooks.set(e.spec, list);
    }
    return () => {
      for (const s of specs) {
        const list = this.#hooks.get(s);
        const i = list ? list.indexOf(hook) : -1;
        if (i >= 0) list!.splice(i, 1);
      }
    };
  }

  /** Hooks registered for a parameter, in registration order. */
  hooksFor(spec: AnyParam): readonly ApplyHook[] {
    return this.#hooks.get(spec) ?? [];
  }
}
