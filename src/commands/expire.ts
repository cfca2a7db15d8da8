// Time-to-live commands (Redis's expire.c): EXPIRE PEXPIRE EXPIREAT PEXPIREAT TTL PTTL
// EXPIRETIME PEXPIRETIME PERSIST. Keys past their time are removed lazily by Db lookups
// and actively by the cycle in cache/expire.ts.
//
// Expiry times are absolute Unix times in milliseconds. Redis holds them as int64; the
// keyspace table holds JS numbers (float64), which are exact up to 2^53 ms (the year 287396), so the
// arguments are checked against the int64 limits exactly and only times beyond 2^53 are
// rounded when stored.

import type { Client } from "../server/client.ts";
import { keyRange, type CommandDef } from "./table.ts";
import { encode } from "../resp/writer.ts";
import { invalidExpireTime, unsupportedOption } from "../resp/errors.ts";
import { type Int64, INT64_MAX, INT64_MIN } from "../util/numbers.ts";
import { parseInt64Arg } from "./args.ts";
import type { PropArg } from "../server/propagate.ts";
import { NOTIFY, notifyArg } from "../server/notify.ts";

const NX_INCOMPATIBLE = encode("-ERR NX and XX, GT or LT options at the same time are not compatible\r\n");
const GT_LT_INCOMPATIBLE = encode("-ERR GT and LT options at the same time are not compatible\r\n");

/** The NX XX GT LT conditions, as bits. */
const EXPIRE_NX = 1;
const EXPIRE_XX = 2;
const EXPIRE_GT = 4;
const EXPIRE_LT = 8;

/** Redis's LLONG_MAX / 1000 and LLONG_MIN / 1000 (C division truncates toward zero). */
const MAX_SECONDS = INT64_MAX / 1000n;
const MIN_SECONDS = INT64_MIN / 1000n;

// ---------------------------------------------------------------------------------------
// Setting a time to live
// ---------------------------------------------------------------------------------------

/** EXPIRE key seconds [NX | XX | GT | LT] */
function expireCommand(c: Client): void {
  expireGeneric(c, c.server.clock.nowMs, true);
}

/** PEXPIRE key milliseconds [NX | XX | GT | LT] */
function pexpireCommand(c: Client): void {
  expireGeneric(c, c.server.clock.nowMs, false);
}

/** EXPIREAT key unix-time-seconds [NX | XX | GT | LT] */
function expireatCommand(c: Client): void {
  expireGeneric(c, 0, true);
}

/** PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT] */
function pexpireatCommand(c: Client): void {
  expireGeneric(c, 0, false);
}

/**
 * Redis's expireGenericCommand: the time is argument 2, in seconds or milliseconds, added to
 * `basetimeMs` (now for the relative forms, 0 for the absolute ones). A time already past
 * deletes the key. Checks run in Redis's order: options, the number, overflow, the key.
 */
function expireGeneric(c: Client, basetimeMs: number, seconds: boolean): void {
  const conditions = parseConditions(c);
  if (conditions < 0) return;
  const time = parseInt64Arg(c, 2);
  if (time === null) return;
  const when = absoluteTime(time, basetimeMs, seconds);
  if (when === null) return c.w.addError(invalidExpireTime(c.argv.lower(0)));
  const db = c.db;
  const now = c.server.clock.nowMs;
  const id = db.lookupWriteArg(c.argv, 1, now);
  if (id < 0) return c.w.addInteger(0);
  if (conditions !== 0 && !conditionsHold(conditions, db.getExpire(id), when)) return c.w.addInteger(0);
  if (when <= now) {
    db.delete(id);
    notifyArg(c, NOTIFY.GENERIC, "del", 1);
  } else {
    db.setExpire(id, when);
    db.modified(id);
    notifyArg(c, NOTIFY.GENERIC, "expire", 1);
  }
  c.server.dirty++;
  if (c.server.propagation.active) propagateExpire(c, when <= now, when, basetimeMs === 0 && !seconds);
  c.w.addInteger(1);
}

/**
 * Replicas and the AOF get the absolute time, which stays right whenever it is replayed:
 * a deletion as DEL (UNLINK with lazyfree-lazy-expire), every other form as PEXPIREAT with
 * the client's options kept, as Redis rewrites arguments 0 and 2 only.
 */
function propagateExpire(c: Client, deleted: boolean, when: number, isPexpireat: boolean): void {
  const argv = c.argv;
  const prop = c.server.propagation;
  if (deleted) return prop.replaceCommand(c.db.id, [c.server.config.lazyfreeLazyExpire ? "UNLINK" : "DEL", argv.copy(1)]);
  if (isPexpireat) return;
  const args: PropArg[] = ["PEXPIREAT", argv.copy(1), String(when)];
  for (let i = 3; i < argv.count; i++) args.push(argv.copy(i));
  prop.replaceCommand(c.db.id, args);
}

/** The NX XX GT LT options from argument 3 on as bits, or -1 after replying with an error. */
function parseConditions(c: Client): number {
  const argv = c.argv;
  let bits = 0;
  for (let i = 3; i < argv.count; i++) {
    if (argv.is(i, "nx")) bits |= EXPIRE_NX;
    else if (argv.is(i, "xx")) bits |= EXPIRE_XX;
    else if (argv.is(i, "gt")) bits |= EXPIRE_GT;
    else if (argv.is(i, "lt")) bits |= EXPIRE_LT;
    else {
      c.w.addError(unsupportedOption(argv.str(i)));
      return -1;
    }
  }
  if (bits & EXPIRE_NX && bits & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT)) {
    c.w.addErrorBytes(NX_INCOMPATIBLE);
    return -1;
  }
  if (bits & EXPIRE_GT && bits & EXPIRE_LT) {
    c.w.addErrorBytes(GT_LT_INCOMPATIBLE);
    return -1;
  }
  return bits;
}

/**
 * Whether the conditions allow replacing `current` (-1: no time to live) with `when`. No
 * time to live counts as infinite: GT never beats it and LT always does.
 */
function conditionsHold(conditions: number, current: number, when: number): boolean {
  if (conditions & EXPIRE_NX && current !== -1) return false;
  if (conditions & EXPIRE_XX && current === -1) return false;
  if (conditions & EXPIRE_GT && (current === -1 || when <= current)) return false;
  if (conditions & EXPIRE_LT && current !== -1 && when >= current) return false;
  return true;
}

/**
 * basetime + the argument (times 1000 for seconds) in ms, or null when Redis finds that it
 * overflows int64.
 */
function absoluteTime(time: Int64, basetimeMs: number, seconds: boolean): number | null {
  if (typeof time === "number") {
    const ms = seconds ? time * 1000 : time;
    const when = ms + basetimeMs;
    // Both steps are exact while the results stay safe integers, far inside int64.
    if (Number.isSafeInteger(ms) && Number.isSafeInteger(when)) return when;
  }
  let exact = BigInt(time);
  if (seconds) {
    if (exact > MAX_SECONDS || exact < MIN_SECONDS) return null;
    exact *= 1000n;
  }
  const base = BigInt(basetimeMs);
  if (exact > INT64_MAX - base) return null;
  return Number(exact + base);
}

// ---------------------------------------------------------------------------------------
// Reading and removing a time to live
// ---------------------------------------------------------------------------------------

/** TTL key */
function ttlCommand(c: Client): void {
  ttlGeneric(c, false, false);
}

/** PTTL key */
function pttlCommand(c: Client): void {
  ttlGeneric(c, true, false);
}

/** EXPIRETIME key */
function expiretimeCommand(c: Client): void {
  ttlGeneric(c, false, true);
}

/** PEXPIRETIME key */
function pexpiretimeCommand(c: Client): void {
  ttlGeneric(c, true, true);
}

/**
 * Redis's ttlGenericCommand: -2 for a missing key, -1 for a key without a time to live,
 * else the time left (or the absolute time), rounded to the nearest second for the
 * seconds forms.
 */
function ttlGeneric(c: Client, milliseconds: boolean, absolute: boolean): void {
  const db = c.db;
  const now = c.server.clock.nowMs;
  const id = db.lookupReadNoTouchArg(c.argv, 1, now);
  if (id < 0) return c.w.addInteger(-2);
  const when = db.getExpire(id);
  if (when === -1) return c.w.addInteger(-1);
  const ms = Math.max(absolute ? when : when - now, 0);
  c.w.addInteger(milliseconds ? ms : Math.floor((ms + 500) / 1000));
}

/** PERSIST key */
function persistCommand(c: Client): void {
  const db = c.db;
  const id = db.lookupWriteArg(c.argv, 1);
  if (id < 0 || !db.removeExpire(id)) return c.w.addInteger(0);
  db.modified(id);
  notifyArg(c, NOTIFY.GENERIC, "persist", 1);
  c.server.dirty++;
  c.w.addInteger(1);
}

// ---------------------------------------------------------------------------------------
// Command table
// ---------------------------------------------------------------------------------------

const key0 = { name: "key", type: "key", key_spec_index: 0 };
const conditionArgument = {
  name: "condition", type: "oneof", since: "7.0.0", flags: ["optional"],
  arguments: [
    { name: "nx", type: "pure-token", token: "NX" },
    { name: "xx", type: "pure-token", token: "XX" },
    { name: "gt", type: "pure-token", token: "GT" },
    { name: "lt", type: "pure-token", token: "LT" },
  ],
};
const conditionHistory: [string, string][] = [["7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`."]];
const ttlHistory: [string, string][] = [["2.8.0", "Added the -2 reply."]];

/** The four commands that set a time to live differ only in name, unit and docs. */
function setterCommand(name: string, since: string, summary: string, time: { name: string; type: string }, handler: (c: Client) => void): CommandDef {
  return {
    name, arity: -3, flags: "write fast", acl: "keyspace", group: "generic", since, summary, complexity: "O(1)",
    history: conditionHistory, keySpecs: [keyRange("RW update", 1)],
    arguments: [key0, time, conditionArgument], handler,
  };
}

/** The four commands that read a time to live differ only in name, tips and docs. */
function getterCommand(name: string, since: string, summary: string, tips: string[] | undefined, history: [string, string][] | undefined, handler: (c: Client) => void): CommandDef {
  return {
    name, arity: 2, flags: "readonly fast", acl: "keyspace", group: "generic", since, summary, complexity: "O(1)",
    history, tips, keySpecs: [keyRange("RO access", 1)], arguments: [key0], handler,
  };
}

export const expireCommands: CommandDef[] = [
  setterCommand("expire", "1.0.0", "Set a key's time to live in seconds", { name: "seconds", type: "integer" }, expireCommand),
  setterCommand("pexpire", "2.6.0", "Set a key's time to live in milliseconds", { name: "milliseconds", type: "integer" }, pexpireCommand),
  setterCommand("expireat", "1.2.0", "Set the expiration for a key as a UNIX timestamp", { name: "unix-time-seconds", type: "unix-time" }, expireatCommand),
  setterCommand("pexpireat", "2.6.0", "Set the expiration for a key as a UNIX timestamp specified in milliseconds", { name: "unix-time-milliseconds", type: "unix-time" }, pexpireatCommand),
  getterCommand("ttl", "1.0.0", "Get the time to live for a key in seconds", ["nondeterministic_output"], ttlHistory, ttlCommand),
  getterCommand("pttl", "2.6.0", "Get the time to live for a key in milliseconds", ["nondeterministic_output"], ttlHistory, pttlCommand),
  getterCommand("expiretime", "7.0.0", "Get the expiration Unix timestamp for a key", undefined, undefined, expiretimeCommand),
  getterCommand("pexpiretime", "7.0.0", "Get the expiration Unix timestamp for a key in milliseconds", undefined, undefined, pexpiretimeCommand),
  {
    name: "persist", arity: 2, flags: "write fast", acl: "keyspace", group: "generic", since: "2.2.0",
    summary: "Remove the expiration from a key", complexity: "O(1)",
    keySpecs: [keyRange("RW update", 1)], arguments: [key0], handler: persistCommand,
  },
];
