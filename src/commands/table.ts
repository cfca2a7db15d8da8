// The command table: one declarative spec per command (Redis's commands/*.json), from which
// dispatch checks, COMMAND INFO/DOCS/GETKEYS, ACL categories, INFO commandstats and the
// generated docs are all derived. Command files export arrays of CommandDef; this module
// compiles them once at start-up.

import type { Client } from "../server/client.ts";
import type { Argv } from "../resp/parser.ts";
import type { LatencyHistogram } from "../metrics/latency.ts";

export type Handler = (c: Client) => void;

/** Where a command's keys are (Redis 7 key specs, see COMMAND DOCS "key_specs"). */
export interface KeySpec {
  /** Redis's key-spec flags, space separated: "RW access update", "RO access", "OW update", "RM delete" ... */
  flags: string;
  begin: { index: number } | { keyword: string; startfrom: number };
  find: { lastkey: number; keystep: number; limit: number } | { keynumidx: number; firstkey: number; keystep: number };
  notes?: string;
}

/** A command as a command file declares it. */
export interface CommandDef {
  /** Lower-case name; a subcommand's is the parent's and its own joined by '|'. */
  name: string;
  /** Argument count including the name; negative means "at least -arity". */
  arity: number;
  /** Redis's command flags, space separated: "write denyoom fast" ... */
  flags: string;
  /** ACL categories besides those Redis derives from the flags, space separated, no '@'. */
  acl?: string;
  group: string;
  since: string;
  summary: string;
  complexity?: string;
  /** COMMAND DOCS extras: [version, change] pairs, doc flags ("deprecated", "syscmd"), replacements. */
  history?: [string, string][];
  docFlags?: string[];
  deprecatedSince?: string;
  replacedBy?: string;
  /** Redis's command tips ("nondeterministic_output", "request_policy:all_shards" ...). */
  tips?: string[];
  keySpecs?: KeySpec[];
  /** Redis's documented argument tree for COMMAND DOCS (name, type, flags, arguments). */
  arguments?: unknown[];
  /** Subcommands of a container command (CONFIG, CLIENT, OBJECT ...). */
  subcommands?: CommandDef[];
  /**
   * Redis's key function, for commands whose key positions or flags depend on the arguments
   * (SET's flags change with GET). COMMAND GETKEYS uses it instead of the key specs. The
   * command's own name is argv[base]; flags are key-spec words ("RW access update").
   */
  getKeys?: (argv: Argv, base: number, argc: number) => { pos: number; flags: string }[];
  /** Absent on container commands, whose subcommands have handlers. */
  handler?: Handler;
}

/** Flag bits, tested on the dispatch path. */
export const CMD = {
  write: 1 << 0,
  readonly: 1 << 1,
  denyoom: 1 << 2,
  admin: 1 << 3,
  pubsub: 1 << 4,
  noscript: 1 << 5,
  blocking: 1 << 6,
  loading: 1 << 7,
  stale: 1 << 8,
  skip_monitor: 1 << 9,
  skip_slowlog: 1 << 10,
  asking: 1 << 11,
  fast: 1 << 12,
  no_auth: 1 << 13,
  may_replicate: 1 << 14,
  no_mandatory_keys: 1 << 15,
  protected: 1 << 16,
  no_async_loading: 1 << 17,
  no_multi: 1 << 18,
  allow_busy: 1 << 19,
  movablekeys: 1 << 20,
  sentinel: 1 << 21,
  only_sentinel: 1 << 22,
} as const;

export type FlagName = keyof typeof CMD;

/** A compiled command: the declaration plus what dispatch needs at hand and its counters. */
export class Command {
  readonly def: CommandDef;
  readonly name: string;
  /** "config|get" for subcommands, as INFO commandstats and errors print it. */
  readonly fullName: string;
  readonly arity: number;
  readonly flags: number;
  readonly handler: Handler | null;
  readonly parent: Command | null;
  readonly subcommands: Map<string, Command> | null;
  /** Whether cluster mode must route it: it has key specs or finds its keys itself. */
  readonly routed: boolean;
  /**
   * The argument index of its only key when its key specs say "one key, at that index"
   * (GET, SET, INCR ...), so routing can skip the general key search; -1 otherwise.
   */
  readonly singleKeyAt: number;
  /** ACL categories in Redis's order, with the ones implied by flags. */
  readonly aclCategories: string[];
  calls = 0;
  usec = 0;
  rejectedCalls = 0;
  failedCalls = 0;
  /** Call durations for INFO latencystats, made on the first tracked call. */
  latency: LatencyHistogram | null = null;

  constructor(def: CommandDef, parent: Command | null) {
    this.def = def;
    this.parent = parent;
    this.fullName = def.name;
    this.name = parent === null ? def.name : def.name.slice(parent.name.length + 1);
    this.arity = def.arity;
    this.flags = parseFlags(def);
    this.handler = def.handler ?? null;
    this.aclCategories = aclCategories(def, this.flags);
    this.routed = (def.keySpecs !== undefined && def.keySpecs.length > 0) || (this.flags & CMD.movablekeys) !== 0 || def.getKeys !== undefined;
    this.singleKeyAt = singleKeyIndex(def);
    if (def.subcommands === undefined) {
      this.subcommands = null;
    } else {
      this.subcommands = new Map();
      for (const sub of def.subcommands) {
        const c = new Command(sub, this);
        this.subcommands.set(c.name, c);
      }
    }
  }

  has(flag: number): boolean {
    return (this.flags & flag) !== 0;
  }

  resetStats(): void {
    this.calls = this.usec = this.rejectedCalls = this.failedCalls = 0;
    if (this.subcommands !== null) for (const s of this.subcommands.values()) s.resetStats();
  }
}

/** The index of a command's one key when its only key spec is a plain index with no range. */
function singleKeyIndex(def: CommandDef): number {
  const specs = def.keySpecs;
  if (specs === undefined || specs.length !== 1) return -1;
  const spec = specs[0]!;
  const words = spec.flags.split(" ");
  if (words.includes("not_key") || words.includes("incomplete")) return -1;
  if (!("index" in spec.begin) || !("lastkey" in spec.find)) return -1;
  return spec.find.lastkey === 0 ? spec.begin.index : -1;
}

function parseFlags(def: CommandDef): number {
  let bits = 0;
  for (const word of def.flags.split(" ")) {
    if (word === "") continue;
    const bit = CMD[word as FlagName];
    if (bit === undefined) throw new Error(`command ${def.name}: unknown flag ${word}`);
    bits |= bit;
  }
  return bits;
}

/** Redis's ACL category order (acl.c ACLCommandCategories), which COMMAND INFO follows. */
export const ACL_CATEGORIES = [
  "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
  "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous",
  "connection", "transaction", "scripting",
] as const;

/** Declared categories plus those Redis 7.0 implies from flags (setImplicitACLCategories). */
function aclCategories(def: CommandDef, flags: number): string[] {
  const set = new Set((def.acl ?? "").split(" ").filter((w) => w !== ""));
  if (flags & CMD.write) set.add("write");
  if (flags & CMD.readonly && !set.has("scripting")) set.add("read");
  if (flags & CMD.admin) {
    set.add("admin");
    set.add("dangerous");
  }
  if (flags & CMD.pubsub) set.add("pubsub");
  if (flags & CMD.fast) set.add("fast");
  if (flags & CMD.blocking) set.add("blocking");
  if (!(flags & CMD.fast)) set.add("slow");
  for (const c of set) {
    if (!(ACL_CATEGORIES as readonly string[]).includes(c)) throw new Error(`command ${def.name}: unknown ACL category ${c}`);
  }
  return ACL_CATEGORIES.filter((c) => set.has(c));
}

/** Shorthand for the common key spec: keys from `index` to `lastkey` (-1: the end) every `keystep`. */
export function keyRange(flags: string, index: number, lastkey = 0, keystep = 1): KeySpec {
  return { flags, begin: { index }, find: { lastkey, keystep, limit: 0 } };
}

/** A name the table answers to, and the command it names. */
interface NameEntry {
  readonly nameBytes: Uint8Array;
  readonly cmd: Command;
}

/**
 * All commands, found by name bytes without allocating. A command is found by the name it
 * was declared with unless `rename-command` gave it another (or none); what it reports
 * (COMMAND INFO, INFO commandstats, errors) stays its own name, as in Redis.
 */
export class CommandTable {
  /** By the lower-cased name the command answers to. */
  readonly byName = new Map<string, Command>();
  /** Buckets by (name length, first letter), compared byte by byte, case-insensitively. */
  private buckets: NameEntry[][] = [];

  constructor(defs: CommandDef[]) {
    for (const def of defs) {
      if (this.byName.has(def.name)) throw new Error(`command ${def.name} declared twice`);
      const c = new Command(def, null);
      this.byName.set(c.name, c);
    }
    this.index();
  }

  lookup(buf: Uint8Array, start: number, len: number): Command | undefined {
    const list = this.buckets[bucketOf(buf, start, len)];
    if (list === undefined) return undefined;
    for (let i = 0; i < list.length; i++) {
      const e = list[i]!;
      if (e.nameBytes.length === len && sameCaseFolded(buf, start, e.nameBytes)) return e.cmd;
    }
    return undefined;
  }

  get size(): number {
    return this.byName.size;
  }

  all(): IterableIterator<Command> {
    return this.byName.values();
  }

  /**
   * Applies `rename-command from to` directives in order (an empty `to` removes the
   * command); throws with Redis's message on a name that cannot be renamed, which
   * checkRenames reports while the config is read.
   */
  rename(renames: readonly (readonly [from: string, to: string])[]): void {
    if (renames.length === 0) return;
    const check = checkRenames(this.byName.keys());
    for (const [from, to] of renames) {
      const err = check(from, to);
      if (err !== null) throw new Error(err);
      const cmd = this.byName.get(asciiLower(from))!;
      this.byName.delete(asciiLower(from));
      if (to !== "") this.byName.set(asciiLower(to), cmd);
    }
    this.index();
  }

  /** Rebuilds the lookup buckets from byName. */
  private index(): void {
    this.buckets = [];
    for (const [name, cmd] of this.byName) {
      const nameBytes = Buffer.from(name, "latin1");
      (this.buckets[bucketOf(nameBytes, 0, nameBytes.length)] ??= []).push({ nameBytes, cmd });
    }
  }
}

/**
 * A checker for a sequence of `rename-command from to` directives over the given command
 * names, as Redis's config loader validates them one by one: the name must name a command
 * now (case-insensitively; a subcommand "x|y" never does), and a new name must not be taken.
 * Returns Redis's error, or null once the rename is recorded for the next check.
 */
export function checkRenames(names: Iterable<string>): (from: string, to: string) => string | null {
  const current = new Set(names);
  return (from, to) => {
    const old = asciiLower(from);
    if (from.includes("|") || !current.has(old)) return "No such command in rename-command";
    current.delete(old);
    if (to === "") return null;
    if (current.has(asciiLower(to))) return "Target command name already exists";
    current.add(asciiLower(to));
    return null;
  };
}

/** A latin1 name with its ASCII letters lower-cased: command names compare as strcasecmp does, ASCII only. */
function asciiLower(name: string): string {
  return name.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

function bucketOf(buf: Uint8Array, start: number, len: number): number {
  if (len === 0 || len > 63) return 0;
  return len * 32 + (buf[start]! & 31);
}

/** True when buf matches the lower-case name exactly once ASCII letters are lower-cased. */
function sameCaseFolded(buf: Uint8Array, start: number, name: Uint8Array): boolean {
  for (let k = 0; k < name.length; k++) {
    let c = buf[start + k]!;
    if (c >= 65 && c <= 90) c |= 0x20;
    if (c !== name[k]) return false;
  }
  return true;
}
