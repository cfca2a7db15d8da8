// COMMAND and its subcommands: introspection answered from the command table, so every
// command a command file declares shows up here with no further work. Replies follow Redis
// 7.0's shapes exactly (server.c addReplyCommandInfo / addReplyCommandDocs, db.c key specs),
// including the legacy first/last/step key positions and the movablekeys flag, which Redis
// derives from the key specs rather than declaring them.

import type { Client } from "../server/client.ts";
import type { Argv } from "../resp/parser.ts";
import type { ReplyWriter } from "../resp/writer.ts";
import { ERR } from "../resp/errors.ts";
import { CMD, type Command, type CommandDef, type CommandTable, type KeySpec } from "./table.ts";
import { globMatch } from "../util/glob.ts";
import { parseLongLong, parsedInt64 } from "../util/numbers.ts";

// ---------------------------------------------------------------------------------------
// Flags, in the order Redis prints them
// ---------------------------------------------------------------------------------------

/**
 * Command flags as COMMAND INFO lists them (server.c addReplyCommandFlags). may_replicate,
 * protected, sentinel and only_sentinel are hidden on purpose, as in Redis; "module" never
 * applies here.
 */
const INFO_FLAG_ORDER: [number, string][] = [
  [CMD.write, "write"],
  [CMD.readonly, "readonly"],
  [CMD.denyoom, "denyoom"],
  [CMD.admin, "admin"],
  [CMD.pubsub, "pubsub"],
  [CMD.noscript, "noscript"],
  [CMD.blocking, "blocking"],
  [CMD.loading, "loading"],
  [CMD.stale, "stale"],
  [CMD.skip_monitor, "skip_monitor"],
  [CMD.skip_slowlog, "skip_slowlog"],
  [CMD.asking, "asking"],
  [CMD.fast, "fast"],
  [CMD.no_auth, "no_auth"],
  [CMD.no_mandatory_keys, "no_mandatory_keys"],
  [CMD.no_async_loading, "no_async_loading"],
  [CMD.no_multi, "no_multi"],
  [CMD.movablekeys, "movablekeys"],
  [CMD.allow_busy, "allow_busy"],
];

/** Key-spec flags (server.h CMD_KEY_*), in the order Redis prints them. */
const KEY_FLAG_NAMES = [
  "RO", "RW", "OW", "RM", "access", "update", "insert", "delete", "not_key", "incomplete", "variable_flags",
] as const;
const KEY_NOT_KEY = 1 << 8;
const KEY_INCOMPLETE = 1 << 9;
const KEY_VARIABLE_FLAGS = 1 << 10;

/** Flags of a declared key spec as bits in KEY_FLAG_NAMES order; the words are case-insensitive. */
function keySpecFlagBits(spec: KeySpec): number {
  return keyFlagWordBits(spec.flags);
}

function keyFlagWordBits(words: string): number {
  let bits = 0;
  for (const word of words.split(" ")) {
    if (word === "") continue;
    const i = KEY_FLAG_NAMES.findIndex((n) => n.toLowerCase() === word.toLowerCase());
    if (i < 0) throw new Error(`unknown key-spec flag ${word}`);
    bits |= 1 << i;
  }
  return bits;
}

/** Argument flags (optional, multiple, multiple_token) and doc flags, in Redis's order. */
const ARG_FLAG_ORDER = ["optional", "multiple", "multiple_token"];
const DOC_FLAG_ORDER = ["deprecated", "syscmd"];

// ---------------------------------------------------------------------------------------
// What Redis derives from the key specs
// ---------------------------------------------------------------------------------------

/** A command's key specs compiled once, with the facts Redis derives from them. */
interface KeyFacts {
  specs: KeySpec[];
  specFlags: number[];
  /** The legacy (first, last, step) triple of COMMAND INFO; lastkey is absolute or negative. */
  first: number;
  last: number;
  step: number;
  /** CMD.movablekeys when the key positions cannot be told from first/last/step alone. */
  movable: number;
}

const keyFactsCache = new WeakMap<Command, KeyFacts>();

function keyFacts(cmd: Command): KeyFacts {
  let facts = keyFactsCache.get(cmd);
  if (facts === undefined) {
    facts = deriveKeyFacts(cmd.def.keySpecs ?? []);
    keyFactsCache.set(cmd, facts);
  }
  return facts;
}

const isIndexRange = (s: KeySpec): boolean => "index" in s.begin && "lastkey" in s.find;

/**
 * Redis's populateCommandLegacyRangeSpec: a single index+range spec is the legacy range as
 * it is; otherwise the consecutive, step-1 index+range specs are merged, and every spec
 * left out (or incomplete) makes the keys movable.
 */
function deriveKeyFacts(specs: KeySpec[]): KeyFacts {
  const specFlags = specs.map(keySpecFlagBits);
  const facts: KeyFacts = { specs, specFlags, first: 0, last: 0, step: 0, movable: 0 };
  if (specs.length === 1 && isIndexRange(specs[0]!)) {
    const begin = specs[0]!.begin as { index: number };
    const find = specs[0]!.find as { lastkey: number; keystep: number };
    facts.first = begin.index;
    facts.last = find.lastkey >= 0 ? find.lastkey + begin.index : find.lastkey;
    facts.step = find.keystep;
    if (specFlags[0]! & KEY_INCOMPLETE) facts.movable = CMD.movablekeys;
  } else if (specs.length > 0) {
    mergeRanges(facts);
  }
  return facts;
}

/** The legacy range of several specs: the plain ranges that follow one another, merged. */
function mergeRanges(facts: KeyFacts): void {
  let first = Infinity;
  let last = 0;
  let prevLast = 0;
  for (let i = 0; i < facts.specs.length; i++) {
    const spec = facts.specs[i]!;
    const begin = spec.begin as { index: number };
    const find = spec.find as { lastkey: number; keystep: number };
    if (!isIndexRange(spec) || find.keystep !== 1 || (prevLast !== 0 && prevLast !== begin.index - 1)) {
      facts.movable = CMD.movablekeys;
      continue;
    }
    if (facts.specFlags[i]! & KEY_INCOMPLETE) facts.movable = CMD.movablekeys;
    first = Math.min(first, begin.index);
    const specLast = find.lastkey >= 0 ? find.lastkey + begin.index : find.lastkey;
    // Redis compares as unsigned, so a negative (count from the end) lastkey wins.
    last = unsignedMax(last, specLast);
    prevLast = last;
  }
  if (first === Infinity) {
    facts.movable = CMD.movablekeys;
    return;
  }
  facts.first = first;
  facts.last = last;
  facts.step = 1;
}

function unsignedMax(a: number, b: number): number {
  return a >>> 0 >= b >>> 0 ? a : b;
}

/** Whether COMMAND GETKEYS has anything to look for (Redis's doesCommandHaveKeys). */
function hasKeys(cmd: Command): boolean {
  return keyFacts(cmd).specFlags.some((f) => (f & KEY_NOT_KEY) === 0);
}

// ---------------------------------------------------------------------------------------
// COMMAND INFO
// ---------------------------------------------------------------------------------------

/** One command as COMMAND INFO and COMMAND describe it: a ten-item array, or nil. */
export function addCommandInfo(w: ReplyWriter, cmd: Command | undefined): void {
  if (cmd === undefined) return w.addNull();
  const facts = keyFacts(cmd);
  w.addArrayLen(10);
  w.addBulkLatin1(cmd.fullName);
  w.addInteger(cmd.arity);
  addCommandFlags(w, cmd.flags | facts.movable);
  w.addInteger(facts.first);
  w.addInteger(facts.last);
  w.addInteger(facts.step);
  w.addSetLen(cmd.aclCategories.length);
  for (const category of cmd.aclCategories) w.addSimple("@" + category);
  const tips = cmd.def.tips ?? [];
  w.addSetLen(tips.length);
  for (const tip of tips) w.addBulkText(tip);
  // Redis sends the key specs as a set (of maps) in RESP3.
  w.addSetLen(facts.specs.length);
  for (let i = 0; i < facts.specs.length; i++) addKeySpec(w, facts.specs[i]!, facts.specFlags[i]!);
  if (cmd.subcommands === null) return w.addSetLen(0);
  w.addArrayLen(cmd.subcommands.size);
  for (const sub of cmd.subcommands.values()) addCommandInfo(w, sub);
}

function addCommandFlags(w: ReplyWriter, flags: number): void {
  let n = 0;
  for (const [bit] of INFO_FLAG_ORDER) if (flags & bit) n++;
  w.addSetLen(n);
  for (const [bit, name] of INFO_FLAG_ORDER) if (flags & bit) w.addSimple(name);
}

function addKeyFlags(w: ReplyWriter, bits: number): void {
  let n = 0;
  for (let i = 0; i < KEY_FLAG_NAMES.length; i++) if (bits & (1 << i)) n++;
  w.addSetLen(n);
  for (let i = 0; i < KEY_FLAG_NAMES.length; i++) if (bits & (1 << i)) w.addSimple(KEY_FLAG_NAMES[i]!);
}

/** A key spec as a map: notes, flags, begin_search, find_keys (server.c addReplyCommandKeySpecs). */
function addKeySpec(w: ReplyWriter, spec: KeySpec, flagBits: number): void {
  w.addMapLen(spec.notes === undefined ? 3 : 4);
  if (spec.notes !== undefined) {
    w.addBulkLatin1("notes");
    w.addBulkText(spec.notes);
  }
  w.addBulkLatin1("flags");
  addKeyFlags(w, flagBits);
  w.addBulkLatin1("begin_search");
  const begin = spec.begin;
  if ("index" in begin) {
    addTypedSpec(w, "index");
    addIntegerFields(w, ["index", begin.index]);
  } else if ("keyword" in begin) {
    addTypedSpec(w, "keyword");
    w.addMapLen(2);
    w.addBulkLatin1("keyword");
    w.addBulkLatin1(begin.keyword);
    w.addBulkLatin1("startfrom");
    w.addInteger(begin.startfrom);
  } else {
    addUnknownSpec(w);
  }
  w.addBulkLatin1("find_keys");
  const find = spec.find;
  if ("lastkey" in find) {
    addTypedSpec(w, "range");
    addIntegerFields(w, ["lastkey", find.lastkey], ["keystep", find.keystep], ["limit", find.limit]);
  } else if ("keynumidx" in find) {
    addTypedSpec(w, "keynum");
    addIntegerFields(w, ["keynumidx", find.keynumidx], ["firstkey", find.firstkey], ["keystep", find.keystep]);
  } else {
    addUnknownSpec(w);
  }
}

/** The `{type: <type>, spec: ...}` envelope; the caller adds the spec map. */
function addTypedSpec(w: ReplyWriter, type: string): void {
  w.addMapLen(2);
  w.addBulkLatin1("type");
  w.addBulkLatin1(type);
  w.addBulkLatin1("spec");
}

/** Redis describes a search it cannot express ("unknown") with an empty spec map. */
function addUnknownSpec(w: ReplyWriter): void {
  addTypedSpec(w, "unknown");
  w.addMapLen(0);
}

function addIntegerFields(w: ReplyWriter, ...fields: [string, number][]): void {
  w.addMapLen(fields.length);
  for (const [name, value] of fields) {
    w.addBulkLatin1(name);
    w.addInteger(value);
  }
}

// ---------------------------------------------------------------------------------------
// COMMAND DOCS
// ---------------------------------------------------------------------------------------

/** An argument of CommandDef.arguments, with the field names COMMAND DOCS prints. */
interface DocArg {
  name: string;
  type: string;
  key_spec_index?: number;
  token?: string;
  summary?: string;
  since?: string;
  deprecated_since?: string;
  flags?: string[];
  arguments?: DocArg[];
}

/** One command's documentation map, in Redis's field order (server.c addReplyCommandDocs). */
export function addCommandDocs(w: ReplyWriter, cmd: Command): void {
  const d = cmd.def;
  const docFlags = DOC_FLAG_ORDER.filter((f) => d.docFlags?.includes(f));
  let fields = 3;
  if (d.complexity !== undefined) fields++;
  if (docFlags.length > 0) fields++;
  if (d.deprecatedSince !== undefined) fields++;
  if (d.replacedBy !== undefined) fields++;
  if (d.history !== undefined) fields++;
  if (d.arguments !== undefined) fields++;
  if (cmd.subcommands !== null) fields++;
  w.addMapLen(fields);
  addTextField(w, "summary", d.summary);
  addTextField(w, "since", d.since);
  addTextField(w, "group", d.group);
  if (d.complexity !== undefined) addTextField(w, "complexity", d.complexity);
  if (docFlags.length > 0) {
    w.addBulkLatin1("doc_flags");
    w.addSetLen(docFlags.length);
    for (const f of docFlags) w.addSimple(f);
  }
  if (d.deprecatedSince !== undefined) addTextField(w, "deprecated_since", d.deprecatedSince);
  if (d.replacedBy !== undefined) addTextField(w, "replaced_by", d.replacedBy);
  if (d.history !== undefined) addHistory(w, d.history);
  if (d.arguments !== undefined) {
    w.addBulkLatin1("arguments");
    addArgList(w, d.arguments as DocArg[]);
  }
  if (cmd.subcommands !== null) {
    w.addBulkLatin1("subcommands");
    w.addMapLen(cmd.subcommands.size);
    for (const sub of cmd.subcommands.values()) {
      w.addBulkLatin1(sub.fullName);
      addCommandDocs(w, sub);
    }
  }
}

function addTextField(w: ReplyWriter, name: string, value: string): void {
  w.addBulkLatin1(name);
  w.addBulkText(value);
}

/** History entries are [version, change] pairs; Redis sends them as a set of arrays. */
function addHistory(w: ReplyWriter, history: [string, string][]): void {
  w.addBulkLatin1("history");
  w.addSetLen(history.length);
  for (const [version, change] of history) {
    w.addArrayLen(2);
    w.addBulkText(version);
    w.addBulkText(change);
  }
}

/**
 * The argument tree (server.c addReplyCommandArgList). Nesting is at most a few levels,
 * bounded by the declarations, so recursion here cannot be driven by client input.
 */
function addArgList(w: ReplyWriter, args: DocArg[]): void {
  w.addArrayLen(args.length);
  for (const a of args) {
    const flags = ARG_FLAG_ORDER.filter((f) => a.flags?.includes(f));
    const nested = a.type === "oneof" || a.type === "block";
    let fields = 2;
    if (a.key_spec_index !== undefined) fields++;
    if (a.token !== undefined) fields++;
    if (a.summary !== undefined) fields++;
    if (a.since !== undefined) fields++;
    if (a.deprecated_since !== undefined) fields++;
    if (flags.length > 0) fields++;
    if (nested) fields++;
    w.addMapLen(fields);
    addTextField(w, "name", a.name);
    addTextField(w, "type", a.type);
    if (a.key_spec_index !== undefined) {
      w.addBulkLatin1("key_spec_index");
      w.addInteger(a.key_spec_index);
    }
    if (a.token !== undefined) addTextField(w, "token", a.token);
    if (a.summary !== undefined) addTextField(w, "summary", a.summary);
    if (a.since !== undefined) addTextField(w, "since", a.since);
    if (a.deprecated_since !== undefined) addTextField(w, "deprecated_since", a.deprecated_since);
    if (flags.length > 0) {
      w.addBulkLatin1("flags");
      w.addSetLen(flags.length);
      for (const f of flags) w.addSimple(f);
    }
    if (nested) {
      w.addBulkLatin1("arguments");
      addArgList(w, a.arguments ?? []);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Looking commands up by name
// ---------------------------------------------------------------------------------------

/**
 * Redis's lookupCommandBySds: "name" or "container|subcommand", case-insensitively. A name
 * with more than one '|', or a subcommand of a command that has none, finds nothing.
 */
export function lookupCommandByName(table: CommandTable, name: string): Command | undefined {
  const parts = name.toLowerCase().split("|");
  if (parts.length > 2) return undefined;
  const base = table.byName.get(parts[0]!);
  if (parts.length === 1 || base === undefined) return base;
  return base.subcommands?.get(parts[1]!);
}

/** Redis's lookupCommand over arguments: argv[from] names the command, argv[from+1] a subcommand. */
function lookupCommandByArgs(table: CommandTable, argv: Argv, from: number): Command | undefined {
  const base = table.lookup(argv.buf, argv.start[from]!, argv.len[from]!);
  if (base === undefined || base.subcommands === null || argv.count - from === 1) return base;
  return base.subcommands.get(argv.lower(from + 1));
}

// ---------------------------------------------------------------------------------------
// COMMAND GETKEYS
// ---------------------------------------------------------------------------------------

/** A key found in a command line: its argument index (relative to the command name) and flags. */
export interface KeyRef {
  pos: number;
  flags: number;
}

/**
 * Redis's getKeysUsingKeySpecs over argv[base..base+argc): appends the keys each spec finds.
 * Returns false when a spec cannot be followed (a search Redis cannot express, a key count
 * that is not a count, positions beyond the arguments, or an incomplete spec), in which case
 * Redis would fall back to the command's own key-finding function.
 */
export function keysFromSpecs(cmd: Command, argv: Argv, base: number, argc: number, out: KeyRef[]): boolean {
  const facts = keyFacts(cmd);
  for (let j = 0; j < facts.specs.length; j++) {
    const spec = facts.specs[j]!;
    const flags = facts.specFlags[j]!;
    if (flags & KEY_NOT_KEY) continue;
    const first = beginSearch(spec, argv, base, argc);
    if (first === -1) return false;
    if (first === 0) continue;
    const range = findKeys(spec, argv, base, argc, first);
    if (range === null) return false;
    const [from, last, step] = range;
    if (last >= argc || last < from || from >= argc) return false;
    for (let i = from; i <= last; i += step) {
      // Commands of variable arity are checked by their handlers: a short line yields no key.
      if (i >= argc) continue;
      out.push({ pos: i, flags });
    }
    if (flags & KEY_INCOMPLETE) return false;
  }
  return true;
}

/**
 * The key positions of a command line (argv[0] is its name): by its key specs, or by its
 * own key function where the specs cannot be followed, as Redis's getKeysFromCommand.
 */
export function commandKeys(cmd: Command, argv: Argv, out: KeyRef[]): void {
  if (keysFromSpecs(cmd, argv, 0, argv.count, out)) return;
  out.length = 0;
  const getKeys = cmd.def.getKeys;
  if (getKeys === undefined) return;
  for (const key of getKeys(argv, 0, argv.count)) out.push({ pos: key.pos, flags: 0 });
}

/** Where a spec's keys start: an argument index, 0 when its keyword is absent, -1 when unknown. */
function beginSearch(spec: KeySpec, argv: Argv, base: number, argc: number): number {
  const begin = spec.begin;
  if ("index" in begin) return begin.index;
  if (!("keyword" in begin)) return -1;
  const keyword = begin.keyword.toLowerCase();
  const forward = begin.startfrom > 0;
  const start = forward ? begin.startfrom : argc + begin.startfrom;
  const end = forward ? argc - 1 : 0;
  for (let i = start; i !== end; i = start <= end ? i + 1 : i - 1) {
    if (i >= argc || i < 1) break;
    if (argv.is(base + i, keyword)) return i + 1;
  }
  return 0;
}

/** [first, last, step] of a spec's keys once its search began at `first`, or null. */
function findKeys(spec: KeySpec, argv: Argv, base: number, argc: number, first: number): [number, number, number] | null {
  const find = spec.find;
  if ("lastkey" in find) {
    if (find.lastkey >= 0) return [first, first + find.lastkey, find.keystep];
    if (find.limit === 0) return [first, argc + find.lastkey, find.keystep];
    return [first, first + (Math.floor((argc - first) / find.limit) + find.lastkey), find.keystep];
  }
  if (!("keynumidx" in find)) return null;
  // Redis checks the key-count index against the argument count before adding `first`.
  if (find.keynumidx >= argc || first + find.keynumidx >= argc) return null;
  const numkeys = parseCount(argv, base + first + find.keynumidx);
  if (numkeys === null) return null;
  const from = first + find.firstkey;
  return [from, from + numkeys - 1, find.keystep];
}

/** A non-negative key count as Redis's string2ll reads it, or null. */
function parseCount(argv: Argv, i: number): number | null {
  if (!parseLongLong(argv.buf, argv.start[i]!, argv.len[i]!) || parsedInt64.value < 0) return null;
  return parsedInt64.value;
}

/**
 * COMMAND GETKEYS <full-command> and COMMAND GETKEYSANDFLAGS <full-command>, with the
 * command line starting at argv[2]. Takes the table rather than a client so that any table
 * can be asked (the tests ask one built from every Redis command).
 */
export function addCommandKeys(w: ReplyWriter, table: CommandTable, argv: Argv, withFlags: boolean): void {
  const cmd = lookupCommandByArgs(table, argv, 2);
  const argc = argv.count - 2;
  if (cmd === undefined) return w.addError("ERR Invalid command specified");
  if (!hasKeys(cmd)) return w.addError("ERR The command has no key arguments");
  if ((cmd.arity > 0 && cmd.arity !== argc) || argc < -cmd.arity) {
    return w.addError("ERR Invalid number of arguments specified for command");
  }
  const keys: KeyRef[] = [];
  const getKeys = cmd.def.getKeys;
  let ok = true;
  if (getKeys !== undefined) {
    for (const k of getKeys(argv, 2, argc)) keys.push({ pos: k.pos, flags: keyFlagWordBits(k.flags) });
  } else {
    ok = keysFromSpecs(cmd, argv, 2, argc, keys);
  }
  if (!ok || keys.length === 0) {
    if (cmd.flags & CMD.no_mandatory_keys) return w.addArrayLen(0);
    return w.addError("ERR Invalid arguments specified for command");
  }
  w.addArrayLen(keys.length);
  for (const key of keys) {
    if (withFlags) w.addArrayLen(2);
    w.addBulkView(argv.buf, argv.start[key.pos + 2]!, argv.len[key.pos + 2]!);
    if (withFlags) addKeyFlags(w, key.flags);
  }
}

function commandGetkeysCommand(c: Client): void {
  addCommandKeys(c.w, c.server.commands, c.argv, false);
}

function commandGetkeysandflagsCommand(c: Client): void {
  addCommandKeys(c.w, c.server.commands, c.argv, true);
}

// ---------------------------------------------------------------------------------------
// COMMAND, COUNT, INFO, DOCS, LIST, HELP
// ---------------------------------------------------------------------------------------

/** COMMAND: every command, as COMMAND INFO describes it. */
function commandCommand(c: Client): void {
  addAllCommandInfo(c);
}

function addAllCommandInfo(c: Client): void {
  const table = c.server.commands;
  c.w.addArrayLen(table.size);
  for (const cmd of table.all()) addCommandInfo(c.w, cmd);
}

/** COMMAND COUNT */
function commandCountCommand(c: Client): void {
  c.w.addInteger(c.server.commands.size);
}

/** COMMAND INFO [command-name ...] */
function commandInfoCommand(c: Client): void {
  const argv = c.argv;
  if (argv.count === 2) return addAllCommandInfo(c);
  c.w.addArrayLen(argv.count - 2);
  for (let i = 2; i < argv.count; i++) addCommandInfo(c.w, lookupCommandByName(c.server.commands, argv.str(i)));
}

/** COMMAND DOCS [command-name ...]: a map from name to documentation; unknown names are left out. */
function commandDocsCommand(c: Client): void {
  const argv = c.argv;
  const w = c.w;
  const table = c.server.commands;
  if (argv.count === 2) {
    w.addMapLen(table.size);
    for (const cmd of table.all()) {
      w.addBulkLatin1(cmd.fullName);
      addCommandDocs(w, cmd);
    }
    return;
  }
  const found: Command[] = [];
  for (let i = 2; i < argv.count; i++) {
    const cmd = lookupCommandByName(table, argv.str(i));
    if (cmd !== undefined) found.push(cmd);
  }
  w.addMapLen(found.length);
  for (const cmd of found) {
    w.addBulkLatin1(cmd.fullName);
    addCommandDocs(w, cmd);
  }
}

/** COMMAND LIST [FILTERBY MODULE module-name | ACLCAT category | PATTERN pattern] */
function commandListCommand(c: Client): void {
  const argv = c.argv;
  let keep: (cmd: Command) => boolean = () => true;
  if (argv.count === 5 && argv.is(2, "filterby")) {
    const value = argv.str(4);
    if (argv.is(3, "module")) keep = () => false; // No command comes from a module.
    else if (argv.is(3, "aclcat")) keep = (cmd) => cmd.aclCategories.includes(value.toLowerCase());
    else if (argv.is(3, "pattern")) keep = (cmd) => globMatch(value, cmd.fullName, true);
    else return c.w.addErrorBytes(ERR.syntax);
  } else if (argv.count !== 2) {
    return c.w.addErrorBytes(ERR.syntax);
  }
  const names: string[] = [];
  for (const cmd of c.server.commands.all()) {
    if (keep(cmd)) names.push(cmd.fullName);
    // Subcommands are listed on their own merit, whether or not their container matched.
    if (cmd.subcommands !== null) for (const sub of cmd.subcommands.values()) if (keep(sub)) names.push(sub.fullName);
  }
  c.w.addArrayLen(names.length);
  for (const name of names) c.w.addBulkLatin1(name);
}

const COMMAND_HELP = [
  "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "(no subcommand)",
  "    Return details about all Redis commands.",
  "COUNT",
  "    Return the total number of commands in this Redis server.",
  "LIST",
  "    Return a list of all commands in this Redis server.",
  "INFO [<command-name> ...]",
  "    Return details about multiple Redis commands.",
  "    If no command names are given, documentation details for all",
  "    commands are returned.",
  "DOCS [<command-name> ...]",
  "    Return documentation details about multiple Redis commands.",
  "    If no command names are given, documentation details for all",
  "    commands are returned.",
  "GETKEYS <full-command>",
  "    Return the keys from a full Redis command.",
  "GETKEYSANDFLAGS <full-command>",
  "    Return the keys and the access flags from a full Redis command.",
  "HELP",
  "    Prints this help.",
];

/** COMMAND HELP */
function commandHelpCommand(c: Client): void {
  c.w.addHelp(COMMAND_HELP);
}

// ---------------------------------------------------------------------------------------
// Declarations
// ---------------------------------------------------------------------------------------

const commandSubcommands: CommandDef[] = [
  {
    name: "command|count", arity: 2, flags: "loading stale", acl: "connection", group: "server", since: "2.8.13",
    summary: "Get total number of Redis commands", complexity: "O(1)",
    handler: commandCountCommand,
  },
  {
    name: "command|docs", arity: -2, flags: "loading stale", acl: "connection", group: "server", since: "7.0.0",
    summary: "Get array of specific Redis command documentation", complexity: "O(N) where N is the number of commands to look up",
    tips: ["nondeterministic_output_order"],
    arguments: [
      { name: "command-name", type: "string", flags: ["optional", "multiple"] },
    ],
    handler: commandDocsCommand,
  },
  {
    name: "command|getkeys", arity: -4, flags: "loading stale", acl: "connection", group: "server", since: "2.8.13",
    summary: "Extract keys given a full Redis command", complexity: "O(N) where N is the number of arguments to the command",
    handler: commandGetkeysCommand,
  },
  {
    name: "command|getkeysandflags", arity: -4, flags: "loading stale", acl: "connection", group: "server", since: "7.0.0",
    summary: "Extract keys and access flags given a full Redis command", complexity: "O(N) where N is the number of arguments to the command",
    handler: commandGetkeysandflagsCommand,
  },
  {
    name: "command|help", arity: 2, flags: "loading stale", acl: "connection", group: "server", since: "5.0.0",
    summary: "Show helpful text about the different subcommands", complexity: "O(1)",
    handler: commandHelpCommand,
  },
  {
    name: "command|info", arity: -2, flags: "loading stale", acl: "connection", group: "server", since: "2.8.13",
    summary: "Get array of specific Redis command details, or all when no argument is given.",
    complexity: "O(N) where N is the number of commands to look up",
    history: [
      ["7.0.0", "Allowed to be called with no argument to get info on all commands."],
    ],
    tips: ["nondeterministic_output_order"],
    arguments: [
      { name: "command-name", type: "string", flags: ["optional", "multiple"] },
    ],
    handler: commandInfoCommand,
  },
  {
    name: "command|list", arity: -2, flags: "loading stale", acl: "connection", group: "server", since: "7.0.0",
    summary: "Get an array of Redis command names", complexity: "O(N) where N is the total number of Redis commands",
    tips: ["nondeterministic_output_order"],
    arguments: [
      {
        name: "filterby", type: "oneof", token: "FILTERBY", flags: ["optional"],
        arguments: [
          { name: "module-name", type: "string", token: "MODULE" },
          { name: "category", type: "string", token: "ACLCAT" },
          { name: "pattern", type: "pattern", token: "PATTERN" },
        ],
      },
    ],
    handler: commandListCommand,
  },
];

export const commandCommands: CommandDef[] = [
  {
    name: "command", arity: -1, flags: "loading stale", acl: "connection", group: "server", since: "2.8.13",
    summary: "Get array of Redis command details", complexity: "O(N) where N is the total number of Redis commands",
    tips: ["nondeterministic_output_order"],
    subcommands: commandSubcommands,
    handler: commandCommand,
  },
];
