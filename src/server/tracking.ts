// Client-side caching (Redis's tracking.c): the server remembers which clients read which
// keys and tells them when those keys change, so that they can drop what they cached.
//
// - Default mode: after a read-only command of a tracking client, the keys it read go into
//   the tracking table (key -> ids of the clients that may hold it). The first change to
//   such a key sends each of them an invalidation and forgets the key, until it is read
//   again. The table is shared by all databases, as in Redis: keys are names, not entries.
// - OPTIN/OPTOUT: keys are remembered only after CLIENT CACHING YES, or unless CLIENT
//   CACHING NO, for the next command (or transaction).
// - BCAST: no table; every change to a key under one of the client's prefixes is collected,
//   and once the code running now is done (Redis does it before sleeping) each prefix sends
//   its keys, sorted, in one message to its clients.
// - Delivery: RESP3 clients get a push `>2 invalidate <keys>`; with REDIRECT the messages go
//   to another client, which, when it speaks RESP2, gets them as pub/sub messages on
//   `__redis__:invalidate` if it is subscribed to anything. A message meant for the client
//   whose command is running waits until that command's reply is written.
// - FLUSHDB and FLUSHALL send every tracking client one null ("all keys") and empty the table.
// - `tracking-table-max-keys` bounds the table: over it, random keys are invalidated as if
//   changed, before the next command, with more effort each time the bound still is not met.
//
// The databases report changes through the key-event hub, which this module listens to
// only while a client tracks or the table still holds keys.

import type { Client } from "./client.ts";
import type { Server } from "./server.ts";
import type { Db } from "../store/db.ts";
import type { KeyListener } from "./key-events.ts";
import { CMD, type Command } from "../commands/table.ts";
import { keysFromSpecs, type KeyRef } from "../commands/command.ts";
import { isSubscribed } from "./pubsub.ts";
import { OK } from "../resp/writer.ts";
import { ERR, cString } from "../resp/errors.ts";
import { parseLongLong, parsedInt64 } from "../util/numbers.ts";

// ---------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------

const latin1Bytes = (s: string): Uint8Array => Buffer.from(s, "latin1");

const PUSH_HEADER = latin1Bytes(">2\r\n$10\r\ninvalidate\r\n");
const PUBSUB_HEADER = latin1Bytes("*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n");

/**
 * One invalidation: its keys (or null) encoded once, wrapped for each protocol only when a
 * target speaks it, so that every target of the same protocol gets the same bytes.
 */
class Invalidation {
  private asPush: Uint8Array | null = null;
  private asMessage: Uint8Array | null = null;

  constructor(private readonly body: Uint8Array) {}

  /** An array of keys, as Redis's trackingBuildBroadcastReply writes it. */
  static ofKeys(keys: readonly string[]): Invalidation {
    let text = `*${keys.length}\r\n`;
    for (const key of keys) text += `$${key.length}\r\n${key}\r\n`;
    return new Invalidation(latin1Bytes(text));
  }

  /** The RESP3 push. */
  push(): Uint8Array {
    return (this.asPush ??= Buffer.concat([PUSH_HEADER, this.body]));
  }

  /** The RESP2 pub/sub message on __redis__:invalidate. */
  message(): Uint8Array {
    return (this.asMessage ??= Buffer.concat([PUBSUB_HEADER, this.body]));
  }
}

/**
 * After a flush, "every key": a null in the tracking client's own protocol, even when the
 * message goes to a redirect target speaking the other one (Redis uses shared.null[c->resp]).
 */
const ALL_KEYS_RESP2 = new Invalidation(latin1Bytes("$-1\r\n"));
const ALL_KEYS_RESP3 = new Invalidation(latin1Bytes("_\r\n"));

// ---------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------

/** A client's tracking mode (Redis's CLIENT_TRACKING_* flags). Kept after OFF, with `on` false. */
export class ClientTracking {
  on = false;
  bcast = false;
  optin = false;
  optout = false;
  noloop = false;
  /** CLIENT CACHING YES (OPTIN) or NO (OPTOUT) applies to the next command. */
  caching = false;
  /** The redirect target was gone when a message was due. */
  brokenRedirect = false;
  /** The client id messages go to; 0 for none. Outlives OFF, as Redis's does. */
  redirect = 0;
  /** BCAST prefixes, sorted as Redis's radix tree lists them; null when not in BCAST mode. */
  prefixes: string[] | null = null;
}

/** A remembered key and the ids of the clients that may have it cached. */
interface TrackedKey {
  readonly key: string;
  readonly ids: Set<number>;
  /** Where it sits in Tracking.tableSlots, for picking random keys to evict. */
  slot: number;
}

/** One BCAST prefix: its clients, and the keys under it changed since the last broadcast. */
interface Prefix {
  readonly clients: Set<Client>;
  /** Changed key -> the client that changed it last (null outside a command), for NOLOOP. */
  readonly changed: Map<string, Client | null>;
}

/** A message for the client whose command is running, sent after that command's reply. */
interface Pending {
  readonly client: Client;
  readonly invalidation: Invalidation | null;
  /** For a flush: pick the null in the client's protocol when sending. */
  readonly allKeys: boolean;
}

/** Read-only commands whose keys are remembered by the commands they run instead (scripts). */
const SCRIPT_READERS = new Set(["eval_ro", "evalsha_ro", "fcall_ro"]);

/** Keys one eviction round may invalidate, times one more than the rounds before it that fell short. */
const EVICTION_EFFORT = 100;

export class Tracking {
  /** Clients with tracking on (INFO tracking_clients). */
  clients = 0;
  /** Remembered (key, client) pairs (INFO tracking_total_items). */
  totalItems = 0;
  /**
   * Whether the server has work for this module after each command: clients track, or a
   * message waits for the running client. One field for the dispatch loop to test.
   */
  active = false;
  private readonly table = new Map<string, TrackedKey>();
  /** The table's entries in no order, so that eviction picks a random one in O(1). */
  private readonly tableSlots: TrackedKey[] = [];
  private readonly prefixes = new Map<string, Prefix>();
  /** The prefixes in Redis's order (byte order); null when it must be sorted again. */
  private prefixOrder: string[] | null = null;
  private pending: Pending[] = [];
  private broadcastQueued = false;
  /** A flush was announced during the command running now (FLUSHALL flushes each database). */
  private flushAnnounced = false;
  /** Eviction rounds in a row that left the table over its bound (Redis's timeout_counter). */
  private evictionShortfalls = 0;
  /** The key whose expiry is being reported: its change has no client behind it. */
  private expiringKey: string | null = null;
  private listening = false;
  private readonly listener: KeyListener;
  /** Where keysFromSpecs puts a command's keys. */
  private readonly foundKeys: KeyRef[] = [];

  constructor(private readonly server: Server) {
    this.listener = {
      keyModified: (_db: Db, key: string) => this.keyModified(key),
      keyExpired: (_db: Db, key: string) => {
        this.expiringKey = key;
      },
      dbFlushed: () => this.flushed(),
    };
  }

  /** Keys in the table (INFO tracking_total_keys). */
  get totalKeys(): number {
    return this.table.size;
  }

  /** BCAST prefixes of all clients (INFO tracking_total_prefixes). */
  get totalPrefixes(): number {
    return this.prefixes.size;
  }

  // -------------------------------------------------------------------------------------
  // Turning tracking on and off
  // -------------------------------------------------------------------------------------

  /** Redis's enableTracking: options replace the previous ones; BCAST prefixes add up. */
  enable(c: Client, options: TrackingOptions): void {
    const t = (c.tracking ??= new ClientTracking());
    if (!t.on) this.clients++;
    t.on = true;
    t.brokenRedirect = false;
    t.redirect = options.redirect;
    t.bcast = options.bcast;
    t.optin = options.optin;
    t.optout = options.optout;
    t.noloop = options.noloop;
    if (options.bcast) {
      // BCAST without a prefix means every key: the empty prefix.
      if (options.prefixes.length === 0) this.addPrefix(c, t, "");
      for (const prefix of options.prefixes) this.addPrefix(c, t, prefix);
    }
    this.update();
  }

  /**
   * Redis's disableTracking. The client's id stays in the table until each key it read
   * changes: cleaning up after a client that read many keys would cost too much now.
   */
  disable(c: Client): void {
    const t = c.tracking;
    if (t === null || !t.on) return;
    if (t.prefixes !== null) for (const prefix of t.prefixes) this.removePrefix(c, prefix);
    t.prefixes = null;
    t.on = t.bcast = t.optin = t.optout = t.noloop = t.caching = t.brokenRedirect = false;
    this.clients--;
    this.update();
  }

  private addPrefix(c: Client, t: ClientTracking, prefix: string): void {
    let state = this.prefixes.get(prefix);
    if (state === undefined) {
      state = { clients: new Set(), changed: new Map() };
      this.prefixes.set(prefix, state);
      this.prefixOrder = null;
    }
    if (state.clients.has(c)) return;
    state.clients.add(c);
    t.prefixes = t.prefixes === null ? [prefix] : [...t.prefixes, prefix].sort();
  }

  private removePrefix(c: Client, prefix: string): void {
    const state = this.prefixes.get(prefix)!;
    state.clients.delete(c);
    if (state.clients.size > 0) return;
    // Its last client left: the keys collected for it are dropped with it.
    this.prefixes.delete(prefix);
    this.prefixOrder = null;
  }

  /** Listen to key changes while anybody tracks or the table holds keys; keep `active` right. */
  private update(): void {
    const listen = this.clients > 0 || this.table.size > 0;
    if (listen !== this.listening) {
      this.listening = listen;
      this.server.keyEvents.listen(this.listener, listen);
    }
    this.active = this.clients > 0 || this.pending.length > 0;
  }

  // -------------------------------------------------------------------------------------
  // Remembering keys (Redis's trackingRememberKeys)
  // -------------------------------------------------------------------------------------

  /**
   * After a command ran (EXEC's commands included): remember the keys a read-only command
   * read for a tracking client outside BCAST mode. Called only while clients track.
   */
  afterCommand(c: Client, cmd: Command): void {
    this.flushAnnounced = false;
    const t = c.tracking;
    if (t === null || !t.on || t.bcast || !(cmd.flags & CMD.readonly)) return;
    if ((t.optin && !t.caching) || (t.optout && t.caching)) return;
    // Shard channels are keys only so that cluster clients find their node.
    if (cmd.flags & CMD.pubsub || SCRIPT_READERS.has(cmd.fullName)) return;
    const argv = c.argv;
    const getKeys = cmd.def.getKeys;
    if (getKeys !== undefined) {
      for (const k of getKeys(argv, 0, argv.count)) this.remember(c.id, argv.str(k.pos));
    } else {
      const found = this.foundKeys;
      found.length = 0;
      keysFromSpecs(cmd, argv, 0, argv.count, found);
      for (const k of found) this.remember(c.id, argv.str(k.pos));
    }
    this.update();
  }

  private remember(id: number, key: string): void {
    let entry = this.table.get(key);
    if (entry === undefined) {
      entry = { key, ids: new Set(), slot: this.tableSlots.length };
      this.table.set(key, entry);
      this.tableSlots.push(entry);
    }
    if (entry.ids.has(id)) return;
    entry.ids.add(id);
    this.totalItems++;
  }

  private forget(entry: TrackedKey): void {
    this.totalItems -= entry.ids.size;
    this.table.delete(entry.key);
    const last = this.tableSlots.pop()!;
    if (last !== entry) {
      last.slot = entry.slot;
      this.tableSlots[entry.slot] = last;
    }
  }

  // -------------------------------------------------------------------------------------
  // Invalidating (Redis's trackingInvalidateKey and trackingInvalidateKeysOnFlush)
  // -------------------------------------------------------------------------------------

  private keyModified(key: string): void {
    // An expiry is a change nobody made (Redis signals it with no client).
    const by = this.expiringKey === key ? null : this.server.current;
    this.expiringKey = null;
    this.invalidate(key, by, true);
    this.update();
  }

  /**
   * Tell the clients that may hold `key` that it changed, and forget it. A real change is
   * also collected for the BCAST prefixes it falls under, and the running client hears of
   * it after its reply. An eviction from the table is no change (BCAST clients do not hear
   * of it) and happens between commands, so every client hears of it at once.
   */
  private invalidate(key: string, by: Client | null, changed: boolean): void {
    if (changed && this.prefixes.size > 0) this.collectForBroadcast(key, by);
    const entry = this.table.get(key);
    if (entry === undefined) return;
    const current = this.server.current;
    let invalidation: Invalidation | null = null;
    for (const id of entry.ids) {
      const target = this.server.clients.get(id);
      const t = target?.tracking;
      // A client that switched to BCAST since it read the key hears only of its prefixes.
      if (target === undefined || t == null || !t.on || t.bcast) continue;
      if (t.noloop && target === current) continue;
      invalidation ??= Invalidation.ofKeys([key]);
      if (target === current && changed) this.pending.push({ client: target, invalidation, allKeys: false });
      else this.send(target, invalidation);
    }
    this.forget(entry);
  }

  /** Every key of a database is about to go: one null to each tracking client per command. */
  private flushed(): void {
    if (this.clients > 0 && !this.flushAnnounced) {
      this.flushAnnounced = true;
      const current = this.server.current;
      for (const c of this.server.clients.values()) {
        if (c.tracking === null || !c.tracking.on) continue;
        if (c === current) this.pending.push({ client: c, invalidation: null, allKeys: true });
        else this.send(c, c.resp === 3 ? ALL_KEYS_RESP3 : ALL_KEYS_RESP2);
      }
    }
    this.table.clear();
    this.tableSlots.length = 0;
    this.totalItems = 0;
    this.update();
  }

  /**
   * Redis's sendTrackingMessage: to the client, or to its redirect target. A redirect target
   * that is gone breaks the redirect, which a RESP3 client is told of. A RESP2 client gets
   * nothing without a redirect, as RESP2 has no pushes.
   */
  private send(c: Client, invalidation: Invalidation): void {
    const t = c.tracking!;
    let target = c;
    if (t.redirect !== 0) {
      const redirectTo = this.server.clients.get(t.redirect);
      if (redirectTo === undefined) {
        t.brokenRedirect = true;
        if (c.resp === 3) this.server.deliver(c, latin1Bytes(`>2\r\n$21\r\ntracking-redir-broken\r\n:${t.redirect}\r\n`));
        return;
      }
      target = redirectTo;
    }
    if (target.resp === 3) this.server.deliver(target, invalidation.push());
    else if (t.redirect !== 0 && isSubscribed(target)) this.server.deliver(target, invalidation.message());
  }

  // -------------------------------------------------------------------------------------
  // After each command the client sent (Redis's afterCommand, resetClient, and the
  // trackingLimitUsedSlots of the next processCommand)
  // -------------------------------------------------------------------------------------

  /**
   * Called after each command a client sent, refused ones included, once its reply is in
   * place: send the messages held for it, end CLIENT CACHING's effect, and bring the table
   * back within its bound. Redis evicts before the next command; evicting now changes
   * nothing a client sees, as either way the messages fall between the two replies.
   */
  afterCommandProcessed(c: Client): void {
    if (this.pending.length > 0) this.sendPending();
    const t = c.tracking;
    // CLIENT CACHING lasts through its own CLIENT subcommands and a transaction.
    if (t !== null && t.caching && c.multi === null && c.lastCommand?.parent?.name !== "client") t.caching = false;
    if (this.clients > 0) this.limitTableSize();
    this.update();
  }

  private sendPending(): void {
    const pending = this.pending;
    this.pending = [];
    for (const p of pending) {
      // A client closed meanwhile (it killed itself) hears nothing, nor does its redirect target.
      if (p.client.socket === null) continue;
      const invalidation = p.allKeys ? (p.client.resp === 3 ? ALL_KEYS_RESP3 : ALL_KEYS_RESP2) : p.invalidation!;
      this.send(p.client, invalidation);
    }
  }

  /** Redis's trackingLimitUsedSlots: invalidate random keys until the table fits its bound. */
  private limitTableSize(): void {
    const maxKeys = this.server.config.trackingTableMaxKeys;
    if (maxKeys === 0 || this.table.size <= maxKeys) {
      this.evictionShortfalls = 0;
      return;
    }
    for (let effort = EVICTION_EFFORT * (this.evictionShortfalls + 1); effort > 0; effort--) {
      const entry = this.tableSlots[Math.floor(Math.random() * this.tableSlots.length)]!;
      this.invalidate(entry.key, null, false);
      if (this.table.size <= maxKeys) {
        this.evictionShortfalls = 0;
        return;
      }
    }
    this.evictionShortfalls++;
  }

  // -------------------------------------------------------------------------------------
  // BCAST (Redis's trackingRememberKeyToBroadcast and trackingBroadcastInvalidationMessages)
  // -------------------------------------------------------------------------------------

  private collectForBroadcast(key: string, by: Client | null): void {
    for (const [prefix, state] of this.prefixes) {
      if (!key.startsWith(prefix)) continue;
      state.changed.set(key, by);
      if (!this.broadcastQueued) {
        this.broadcastQueued = true;
        queueMicrotask(this.broadcast);
      }
    }
  }

  /** Send each prefix's changed keys, sorted, to its clients, prefixes in byte order. */
  private readonly broadcast = (): void => {
    this.broadcastQueued = false;
    if (this.clients === 0) return;
    this.prefixOrder ??= [...this.prefixes.keys()].sort();
    for (const prefix of this.prefixOrder) {
      const state = this.prefixes.get(prefix)!;
      if (state.changed.size === 0) continue;
      const keys = [...state.changed.keys()].sort();
      let everyKey: Invalidation | null = null;
      for (const c of state.clients) {
        if (c.tracking!.noloop) {
          const others = keys.filter((key) => state.changed.get(key) !== c);
          if (others.length > 0) this.send(c, Invalidation.ofKeys(others));
        } else {
          everyKey ??= Invalidation.ofKeys(keys);
          this.send(c, everyKey);
        }
      }
      state.changed.clear();
    }
  };
}

// ---------------------------------------------------------------------------------------
// CLIENT TRACKING, CACHING, GETREDIR, TRACKINGINFO
// ---------------------------------------------------------------------------------------

/** CLIENT TRACKING's options, once parsed. */
export interface TrackingOptions {
  redirect: number;
  bcast: boolean;
  optin: boolean;
  optout: boolean;
  noloop: boolean;
  prefixes: string[];
}

/** Parse CLIENT TRACKING's options from argv[3..]; null after replying with an error. */
function parseTrackingOptions(c: Client): TrackingOptions | null {
  const argv = c.argv;
  const options: TrackingOptions = { redirect: 0, bcast: false, optin: false, optout: false, noloop: false, prefixes: [] };
  for (let i = 3; i < argv.count; i++) {
    const more = argv.count - 1 - i;
    if (argv.is(i, "redirect") && more > 0) {
      i++;
      if (options.redirect !== 0) {
        c.w.addError("ERR A client can only redirect to a single other client");
        return null;
      }
      if (!parseLongLong(argv.buf, argv.start[i]!, argv.len[i]!)) {
        c.w.addErrorBytes(ERR.notInteger);
        return null;
      }
      options.redirect = parsedInt64.value;
      // The target must exist now, though it may go later (the redirect then breaks).
      if (!c.server.clients.has(options.redirect)) {
        c.w.addError("ERR The client ID you want redirect to does not exist");
        return null;
      }
    } else if (argv.is(i, "bcast")) {
      options.bcast = true;
    } else if (argv.is(i, "optin")) {
      options.optin = true;
    } else if (argv.is(i, "optout")) {
      options.optout = true;
    } else if (argv.is(i, "noloop")) {
      options.noloop = true;
    } else if (argv.is(i, "prefix") && more > 0) {
      i++;
      options.prefixes.push(argv.str(i));
    } else {
      c.w.addErrorBytes(ERR.syntax);
      return null;
    }
  }
  return options;
}

/**
 * Redis's checks before CLIENT TRACKING ON, in its order: the options among each other and
 * against the mode the client already tracks in. Returns the error, or null.
 */
function trackingModeError(t: ClientTracking | null, o: TrackingOptions): string | null {
  if (!o.bcast && o.prefixes.length > 0) return "ERR PREFIX option requires BCAST mode to be enabled";
  const on = t !== null && t.on ? t : null;
  if (on !== null && on.bcast !== o.bcast) {
    return "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.";
  }
  if (o.bcast && (o.optin || o.optout)) return "ERR OPTIN and OPTOUT are not compatible with BCAST";
  if (o.optin && o.optout) return "ERR You can't specify both OPTIN mode and OPTOUT mode";
  if (on !== null && ((o.optin && on.optout) || (o.optout && on.optin))) {
    return "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.";
  }
  return null;
}

/** Whether one prefix is a prefix of the other: they would both match some key. */
function overlap(a: string, b: string): boolean {
  return a.length <= b.length ? b.startsWith(a) : a.startsWith(b);
}

const overlapError = (prefix: string, other: string, kind: string): string =>
  `ERR Prefix '${cString(prefix, Infinity)}' overlaps with ${kind} prefix '${cString(other, Infinity)}'. Prefixes for a single client must not overlap.`;

/**
 * Redis's checkPrefixCollisionsOrReply: no new prefix may overlap one the client has or
 * another new one. Returns whether tracking may go on. Redis 7.0 reports an overlap between
 * two new prefixes as a failure only when found for the first of them; found for a later
 * one, the error is sent and tracking is enabled all the same (then OK follows).
 */
function checkPrefixes(c: Client, t: ClientTracking | null, prefixes: string[]): boolean {
  for (let i = 0; i < prefixes.length; i++) {
    const prefix = prefixes[i]!;
    for (const existing of t?.prefixes ?? []) {
      if (overlap(existing, prefix)) {
        c.w.addError(overlapError(prefix, existing, "an existing"));
        return false;
      }
    }
    for (let j = i + 1; j < prefixes.length; j++) {
      if (overlap(prefix, prefixes[j]!)) {
        c.w.addError(overlapError(prefix, prefixes[j]!, "another provided"));
        return i > 0;
      }
    }
  }
  return true;
}

/** CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX prefix ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP] */
export function clientTrackingCommand(c: Client): void {
  const options = parseTrackingOptions(c);
  if (options === null) return;
  const tracking = c.server.tracking;
  if (c.argv.is(2, "on")) {
    const error = trackingModeError(c.tracking, options);
    if (error !== null) return c.w.addError(error);
    if (options.bcast && !checkPrefixes(c, c.tracking, options.prefixes)) return;
    tracking.enable(c, options);
  } else if (c.argv.is(2, "off")) {
    tracking.disable(c);
  } else {
    return c.w.addErrorBytes(ERR.syntax);
  }
  c.w.addRaw(OK);
}

/** CLIENT CACHING YES|NO */
export function clientCachingCommand(c: Client): void {
  const t = c.tracking;
  if (t === null || !t.on) {
    return c.w.addError("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled");
  }
  if (c.argv.is(2, "yes")) {
    if (!t.optin) return c.w.addError("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.");
  } else if (c.argv.is(2, "no")) {
    if (!t.optout) return c.w.addError("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
  } else {
    return c.w.addErrorBytes(ERR.syntax);
  }
  t.caching = true;
  c.w.addRaw(OK);
}

/** The redirect target's id, 0 without one, -1 when not tracking (GETREDIR, TRACKINGINFO, CLIENT LIST redir=). */
export function trackingRedirect(c: Client): number {
  return c.tracking !== null && c.tracking.on ? c.tracking.redirect : -1;
}

/** CLIENT GETREDIR */
export function clientGetredirCommand(c: Client): void {
  c.w.addInteger(trackingRedirect(c));
}

/** CLIENT TRACKINGINFO: the mode's flags, the redirect and the BCAST prefixes. */
export function clientTrackinginfoCommand(c: Client): void {
  const w = c.w;
  const t = c.tracking !== null && c.tracking.on ? c.tracking : null;
  const flags = [t !== null ? "on" : "off"];
  if (t !== null) {
    if (t.bcast) flags.push("bcast");
    if (t.optin) flags.push("optin");
    if (t.optin && t.caching) flags.push("caching-yes");
    if (t.optout) flags.push("optout");
    if (t.optout && t.caching) flags.push("caching-no");
    if (t.noloop) flags.push("noloop");
    if (t.brokenRedirect) flags.push("broken_redirect");
  }
  w.addMapLen(3);
  w.addBulkLatin1("flags");
  w.addSetLen(flags.length);
  for (const flag of flags) w.addBulkLatin1(flag);
  w.addBulkLatin1("redirect");
  w.addInteger(trackingRedirect(c));
  w.addBulkLatin1("prefixes");
  const prefixes = t?.prefixes ?? [];
  w.addArrayLen(prefixes.length);
  for (const prefix of prefixes) w.addBulkLatin1(prefix);
}

/** CLIENT LIST's tracking flag letters: t (tracking), R (broken redirect), B (BCAST). */
export function trackingFlagLetters(c: Client): string {
  const t = c.tracking;
  if (t === null || !t.on) return "";
  return "t" + (t.brokenRedirect ? "R" : "") + (t.bcast ? "B" : "");
}
