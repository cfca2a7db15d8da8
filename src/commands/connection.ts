// Connection commands (Redis's networking.c and server.c): PING ECHO QUIT SELECT SWAPDB HELLO
// RESET AUTH, and CLIENT with its subcommands. Authentication goes through the ACL users
// (src/acl/acl.ts); `requirepass` is the default user's password.

import type { Client } from "../server/client.ts";
import type { User } from "../acl/user.ts";
import { PauseMode, ReplyMode } from "../server/client.ts";
import type { CommandDef } from "./table.ts";
import type { Db } from "../store/db.ts";
import { OK, PONG, encode } from "../resp/writer.ts";
import { ERR, cString, subcommandSyntaxError, wrongArity } from "../resp/errors.ts";
import { TimeoutUnit, parseInt32Arg, parseIntArg, parseRangeArgOr, parseTimeoutArg } from "./args.ts";
import { parseLongLong, parsedInt64 } from "../util/numbers.ts";
import { REDIS_VERSION } from "../version.ts";
import { outputBytes } from "../server/output-limits.ts";
import {
  clientCachingCommand, clientGetredirCommand, clientTrackingCommand, clientTrackinginfoCommand, trackingFlagLetters, trackingRedirect,
} from "../server/tracking.ts";

const RESET = encode("+RESET\r\n");
const WRONGPASS = encode("-WRONGPASS invalid username-password pair or user is disabled.\r\n");
const PONG_BULK = encode("$4\r\npong\r\n");
const EMPTY_BULK = encode("$0\r\n\r\n");

// ---------------------------------------------------------------------------------------
// PING ECHO QUIT SELECT SWAPDB
// ---------------------------------------------------------------------------------------

/** PING [message] */
function pingCommand(c: Client): void {
  const argv = c.argv;
  // PING's declared arity is -1 (for subscribed clients); Redis checks the upper bound here.
  if (argv.count > 2) return c.w.addError(wrongArity("ping"));
  // A RESP2 client in pub/sub mode can only read pushes, so Redis answers with one: [pong, msg].
  if (c.resp === 2 && subscriptionCount(c) > 0) {
    c.w.addArrayLen(2);
    c.w.addRaw(PONG_BULK);
    if (argv.count === 1) c.w.addRaw(EMPTY_BULK);
    else c.w.addBulkView(argv.buf, argv.start[1]!, argv.len[1]!);
    return;
  }
  if (argv.count === 1) c.w.addRaw(PONG);
  else c.w.addBulkView(argv.buf, argv.start[1]!, argv.len[1]!);
}

/** ECHO message */
function echoCommand(c: Client): void {
  c.w.addBulkView(c.argv.buf, c.argv.start[1]!, c.argv.len[1]!);
}

/** QUIT */
function quitCommand(c: Client): void {
  c.w.addRaw(OK);
  c.closeAfterReply = true;
}

/** SELECT index */
function selectCommand(c: Client): void {
  const index = parseInt32Arg(c, 1);
  if (index === null) return;
  if (c.server.cluster !== null && index !== 0) return c.w.addError("ERR SELECT is not allowed in cluster mode");
  if (index < 0 || index >= c.server.dbs.length) return c.w.addErrorBytes(ERR.dbIndex);
  c.db = c.server.dbs[index]!;
  c.w.addRaw(OK);
}

/**
 * SWAPDB index1 index2. The contents change places while the Db objects stay put, so that
 * every client that selected either index sees the other's keys from now on, as in Redis.
 */
function swapdbCommand(c: Client): void {
  if (c.server.cluster !== null) return c.w.addError("ERR SWAPDB is not allowed in cluster mode");
  const first = parseRangeArgOr(c, 1, -2147483648, 2147483647, "ERR invalid first DB index");
  if (first === null) return;
  const second = parseRangeArgOr(c, 2, -2147483648, 2147483647, "ERR invalid second DB index");
  if (second === null) return;
  const dbs = c.server.dbs;
  if (first < 0 || first >= dbs.length || second < 0 || second >= dbs.length) {
    return c.w.addErrorBytes(ERR.dbIndex);
  }
  const a = dbs[first]!;
  const b = dbs[second]!;
  // A watched key is touched when it exists on either side of the swap (Redis's
  // touchAllWatchedKeysInDb), so the watchers hear of it before the contents move.
  a.events?.dbSwapped?.(a, b);
  a.swapContents(b);
  c.server.blocking.contentsChanged(a);
  c.server.blocking.contentsChanged(b);
  c.server.dirty++;
  c.w.addRaw(OK);
}

// ---------------------------------------------------------------------------------------
// Authentication: AUTH HELLO RESET
// ---------------------------------------------------------------------------------------

/**
 * Redis's ACLAuthenticateUser (src/acl/acl.ts): the user must exist, be on, and take the
 * password; a failed attempt is logged and leaves the client as it was.
 */
function authenticate(c: Client, username: string, password: string): boolean {
  return c.server.acl.authenticate(c, username, password);
}

/** AUTH [username] password */
function authCommand(c: Client): void {
  const argv = c.argv;
  if (argv.count > 3) return c.w.addErrorBytes(ERR.syntax);
  for (let i = 1; i < argv.count; i++) c.server.monitors.redact(i);
  if (argv.count === 2 && c.server.acl.defaultUser.nopass) {
    return c.w.addError(
      "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
    );
  }
  const username = argv.count === 2 ? "default" : argv.str(1);
  if (authenticate(c, username, argv.str(argv.count - 1))) c.w.addRaw(OK);
  else c.w.addErrorBytes(WRONGPASS);
}

/**
 * HELLO [protover [AUTH username password] [SETNAME clientname]]. As in Redis 7.0, each
 * option takes effect as it is read, so an error part-way leaves the earlier ones applied
 * (a name set before a failed AUTH stays); the protocol switches only once all succeeded.
 */
function helloCommand(c: Client): void {
  const argv = c.argv;
  const w = c.w;
  let protocol = 0;
  if (argv.count >= 2) {
    if (!parseLongLong(argv.buf, argv.start[1]!, argv.len[1]!)) {
      return w.addError("ERR Protocol version is not an integer or out of range");
    }
    protocol = parsedInt64.value;
    if (protocol < 2 || protocol > 3) return w.addError("NOPROTO unsupported protocol version");
  }
  for (let i = 2; i < argv.count; i++) {
    const more = argv.count - 1 - i;
    if (argv.is(i, "auth") && more >= 2) {
      c.server.monitors.redact(i + 1);
      c.server.monitors.redact(i + 2);
      if (!authenticate(c, argv.str(i + 1), argv.str(i + 2))) return w.addErrorBytes(WRONGPASS);
      i += 2;
    } else if (argv.is(i, "setname") && more >= 1) {
      if (!setClientName(c, i + 1)) return;
      i++;
    } else {
      return w.addError(`ERR Syntax error in HELLO option '${cString(argv.str(i), Infinity)}'`);
    }
  }
  if (!c.authenticated) {
    return w.addError(
      "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
    );
  }
  if (protocol !== 0) {
    c.resp = protocol;
    // The reply itself already speaks the new protocol.
    w.resp = protocol;
  }
  addHelloMap(c);
}

/** HELLO's description of the server and of this connection. */
function addHelloMap(c: Client): void {
  const w = c.w;
  w.addMapLen(7);
  w.addBulkLatin1("server");
  w.addBulkLatin1("redis");
  w.addBulkLatin1("version");
  w.addBulkLatin1(REDIS_VERSION);
  w.addBulkLatin1("proto");
  w.addInteger(c.resp);
  w.addBulkLatin1("id");
  w.addInteger(c.id);
  w.addBulkLatin1("mode");
  w.addBulkLatin1("standalone");
  w.addBulkLatin1("role");
  w.addBulkLatin1(c.server.upstream.isReplica ? "replica" : "master");
  w.addBulkLatin1("modules");
  w.addArrayLen(0);
}

/**
 * RESET: the connection as if it had just connected (Redis's clearClientConnectionState):
 * database 0, RESP2, no name, replies on, and authenticated only when the default user
 * needs no password. Redis 7.0 keeps CLIENT NO-EVICT. Transactions, subscriptions, MONITOR
 * and tracking are left to their own modules to clear here as they arrive.
 */
function resetCommand(c: Client): void {
  c.server.discardTransaction(c);
  // Subscriptions end without confirmations (Redis unsubscribes with notify off).
  c.server.pubsub.removeClient(c);
  c.server.tracking.disable(c);
  c.db = c.server.dbs[0]!;
  c.resp = 2;
  c.w.resp = 2;
  c.name = "";
  c.server.acl.resetClient(c);
  // Redis clears "replies off" and "skip the next reply", but a skip already under way
  // (RESET is the command being skipped) still swallows this reply.
  if (c.replyMode !== ReplyMode.Skip) c.replyMode = ReplyMode.On;
  c.w.addRaw(RESET);
}

// ---------------------------------------------------------------------------------------
// CLIENT: names and ids
// ---------------------------------------------------------------------------------------

/**
 * Set the client's name from argument i (CLIENT SETNAME, HELLO SETNAME). Names are limited
 * to printable ASCII without spaces so that CLIENT LIST stays splittable. Replies on failure.
 */
function setClientName(c: Client, i: number): boolean {
  const argv = c.argv;
  const start = argv.start[i]!;
  const end = start + argv.len[i]!;
  for (let k = start; k < end; k++) {
    const ch = argv.buf[k]!;
    if (ch < 0x21 || ch > 0x7e) {
      c.w.addError("ERR Client names cannot contain spaces, newlines or special characters.");
      return false;
    }
  }
  c.name = argv.str(i);
  return true;
}

/** CLIENT SETNAME connection-name */
function clientSetnameCommand(c: Client): void {
  if (setClientName(c, 2)) c.w.addRaw(OK);
}

/** CLIENT GETNAME */
function clientGetnameCommand(c: Client): void {
  if (c.name === "") c.w.addNull();
  else c.w.addBulkLatin1(c.name);
}

/** CLIENT ID */
function clientIdCommand(c: Client): void {
  c.w.addInteger(c.id);
}

/** CLIENT REPLY ON|OFF|SKIP: the dispatcher drops the replies the mode says to drop. */
function clientReplyCommand(c: Client): void {
  const argv = c.argv;
  if (argv.is(2, "on")) {
    c.replyMode = ReplyMode.On;
    c.w.addRaw(OK);
  } else if (argv.is(2, "off")) {
    c.replyMode = ReplyMode.Off;
  } else if (argv.is(2, "skip")) {
    if (c.replyMode !== ReplyMode.Off) c.replyMode = ReplyMode.SkipNext;
  } else {
    c.w.addErrorBytes(ERR.syntax);
  }
}

/** CLIENT NO-EVICT ON|OFF */
function clientNoEvictCommand(c: Client): void {
  const argv = c.argv;
  if (argv.is(2, "on")) c.noEvict = true;
  else if (argv.is(2, "off")) c.noEvict = false;
  else return c.w.addErrorBytes(ERR.syntax);
  c.w.addRaw(OK);
}

// ---------------------------------------------------------------------------------------
// CLIENT: listing clients
// ---------------------------------------------------------------------------------------

/** Redis's client types, as CLIENT LIST TYPE and CLIENT KILL TYPE name them. */
const enum ClientType {
  Normal,
  Replica,
  PubSub,
  Master,
}

/** Redis's getClientTypeByName, or -1. */
function clientTypeByName(name: string): ClientType | -1 {
  switch (name.toLowerCase()) {
    case "normal":
      return ClientType.Normal;
    case "slave":
    case "replica":
      return ClientType.Replica;
    case "pubsub":
      return ClientType.PubSub;
    case "master":
      return ClientType.Master;
    default:
      return -1;
  }
}

function subscriptionCount(c: Client): number {
  return (c.channels?.size ?? 0) + (c.patterns?.size ?? 0) + (c.shardChannels?.size ?? 0);
}

/** Redis's getClientType. */
function clientType(c: Client): ClientType {
  if (c.isMaster) return ClientType.Master;
  if (c.server.replication.isReplica(c)) return ClientType.Replica;
  return subscriptionCount(c) > 0 ? ClientType.PubSub : ClientType.Normal;
}

/** Redis's client flag letters for CLIENT LIST flags=, "N" when none applies. */
function clientFlags(c: Client): string {
  let flags = "";
  if (c.server.replication.isReplica(c)) flags += "S";
  if (c.isMaster) flags += "M";
  if (c.monitor) flags += "O";
  if (subscriptionCount(c) > 0) flags += "P";
  if (c.multi !== null) flags += "x";
  // A client held by CLIENT PAUSE counts as blocked, as in Redis.
  if (c.blocked || c.postponed) flags += "b";
  flags += trackingFlagLetters(c);
  if (c.dirtyCas) flags += "d";
  if (c.closeAfterReply) flags += "c";
  if (c.closeAsap) flags += "A";
  if (c.unixSocket) flags += "U";
  if (c.noEvict) flags += "e";
  return flags === "" ? "N" : flags;
}

/**
 * Redis's multiStateMemOverhead: the queued arguments (each with its object pointer), the
 * queue's slots, and a list node and watchedKey struct per watched key.
 */
function multiMemory(c: Client): number {
  let bytes = (c.watched?.length ?? 0) * WATCHED_KEY_BYTES;
  if (c.multi !== null) for (const q of c.multi.commands) bytes += q.argvBytes + q.count * 8 + MULTI_CMD_BYTES;
  return bytes;
}

const WATCHED_KEY_BYTES = 24 + 32;
const MULTI_CMD_BYTES = 32;

/** What Redis reports as a connection's fixed overhead (its client struct and reply buffer). */
const CLIENT_STRUCT_BYTES = 1864;
const REPLY_BUFFER_BYTES = 16 * 1024;

/**
 * One CLIENT LIST line, fields in Redis 7.0's order. `caller` is the client whose command
 * runs (CLIENT LIST/INFO, or null from the cron), whose arguments are still live. Memory
 * figures describe redbun's buffers in Redis's terms. Also the log's client description.
 */
export function clientInfoLine(c: Client, caller: Client | null): string {
  const now = c.server.clock.nowMs;
  const self = c === caller;
  // A held command is parsed in Redis, so its bytes count as arguments, not query buffer.
  let argvBytes = c.heldArgvBytes;
  if (self) for (let i = 0; i < c.argv.count; i++) argvBytes += c.argv.len[i]!;
  const qbufSize = c.qbuf?.length ?? 0;
  const qbufUsed = c.qlen - c.postponedQueryBytes;
  const omem = outputBytes(c);
  const multiMem = multiMemory(c);
  const totMem = CLIENT_STRUCT_BYTES + REPLY_BUFFER_BYTES + qbufSize + argvBytes + omem + multiMem;
  return (
    `id=${c.id} addr=${c.addr} laddr=${c.laddr} fd=${c.fd} name=${c.name}` +
    ` age=${Math.max(0, Math.floor((now - c.createdMs) / 1000))} idle=${Math.max(0, Math.floor((now - c.lastInteractionMs) / 1000))}` +
    ` flags=${clientFlags(c)} db=${c.db.id} sub=${c.channels?.size ?? 0} psub=${c.patterns?.size ?? 0}` +
    ` ssub=${c.shardChannels?.size ?? 0} multi=${c.multi?.commands.length ?? -1} qbuf=${qbufUsed} qbuf-free=${qbufSize - c.qlen}` +
    ` argv-mem=${argvBytes} multi-mem=${multiMem} rbs=${REPLY_BUFFER_BYTES} rbp=${self ? REPLY_BUFFER_BYTES : 0}` +
    ` obl=0 oll=${omem > 0 ? 1 : 0} omem=${omem} tot-mem=${totMem} events=r${omem > 0 ? "w" : ""}` +
    ` cmd=${(c.outerCommand ?? c.lastCommand)?.fullName ?? "NULL"} user=${c.user.name} redir=${trackingRedirect(c)} resp=${c.resp}\n`
  );
}

/** CLIENT LIST [TYPE NORMAL|MASTER|REPLICA|PUBSUB] [ID client-id [client-id ...]] */
function clientListCommand(c: Client): void {
  const argv = c.argv;
  const clients = c.server.clients;
  let text = "";
  if (argv.count === 4 && argv.is(2, "type")) {
    const type = clientTypeByName(argv.str(3));
    if (type === -1) return c.w.addError(`ERR Unknown client type '${cString(argv.str(3), Infinity)}'`);
    for (const other of clients.values()) if (clientType(other) === type) text += clientInfoLine(other, c);
  } else if (argv.count > 3 && argv.is(2, "id")) {
    // Every id is checked before any is listed; ids that name no client are skipped.
    const ids: number[] = [];
    for (let i = 3; i < argv.count; i++) {
      if (!parseLongLong(argv.buf, argv.start[i]!, argv.len[i]!)) return c.w.addError("ERR Invalid client ID");
      ids.push(parsedInt64.value);
    }
    for (const id of ids) {
      const other = clients.get(id);
      if (other !== undefined) text += clientInfoLine(other, c);
    }
  } else if (argv.count !== 2) {
    return c.w.addErrorBytes(ERR.syntax);
  } else {
    for (const other of clients.values()) text += clientInfoLine(other, c);
  }
  c.w.addVerbatim(text);
}

/** CLIENT INFO */
function clientInfoCommand(c: Client): void {
  c.w.addVerbatim(clientInfoLine(c, c));
}

// ---------------------------------------------------------------------------------------
// CLIENT: killing and unblocking clients
// ---------------------------------------------------------------------------------------

/** CLIENT KILL's filters; unset ones match every client. */
interface KillFilter {
  addr: string | null;
  laddr: string | null;
  type: ClientType | -1;
  id: number;
  user: User | null;
  skipMe: boolean;
}

/**
 * CLIENT KILL ip:port, or CLIENT KILL <filter value> ... with ID, TYPE, USER, ADDR, LADDR
 * and SKIPME. The old form replies +OK (or an error when nobody matched) and may kill the
 * caller; the new form counts the kills and spares the caller unless SKIPME NO. The caller
 * itself is closed only once this reply is written.
 */
function clientKillCommand(c: Client): void {
  const argv = c.argv;
  const oldForm = argv.count === 3;
  const filter: KillFilter = { addr: null, laddr: null, type: -1, id: 0, user: null, skipMe: !oldForm };
  if (oldForm) filter.addr = argv.str(2);
  else if (!parseKillFilter(c, filter)) return;
  let killed = 0;
  for (const other of [...c.server.clients.values()]) {
    if (!killFilterMatches(filter, other, c)) continue;
    if (other === c) c.closeAfterReply = true;
    else c.server.closeClient(other);
    killed++;
  }
  if (!oldForm) c.w.addInteger(killed);
  else if (killed === 0) c.w.addError("ERR No such client");
  else c.w.addRaw(OK);
}

/** Parse the new form's option/value pairs into `filter`; replies and returns false on error. */
function parseKillFilter(c: Client, filter: KillFilter): boolean {
  const argv = c.argv;
  for (let i = 2; i < argv.count; i += 2) {
    if (i + 1 >= argv.count) {
      c.w.addErrorBytes(ERR.syntax);
      return false;
    }
    const value = argv.str(i + 1);
    if (argv.is(i, "id")) {
      const id = parseRangeArgOr(c, i + 1, 1, Infinity, "ERR client-id should be greater than 0");
      if (id === null) return false;
      filter.id = id;
    } else if (argv.is(i, "type")) {
      filter.type = clientTypeByName(value);
      if (filter.type === -1) {
        c.w.addError(`ERR Unknown client type '${cString(value, Infinity)}'`);
        return false;
      }
    } else if (argv.is(i, "addr")) {
      filter.addr = value;
    } else if (argv.is(i, "laddr")) {
      filter.laddr = value;
    } else if (argv.is(i, "user")) {
      const user = c.server.acl.users.get(value);
      if (user === undefined) {
        c.w.addError(`ERR No such user '${cString(value, Infinity)}'`);
        return false;
      }
      filter.user = user;
    } else if (argv.is(i, "skipme") && (argv.is(i + 1, "yes") || argv.is(i + 1, "no"))) {
      filter.skipMe = argv.is(i + 1, "yes");
    } else {
      c.w.addErrorBytes(ERR.syntax);
      return false;
    }
  }
  return true;
}

function killFilterMatches(f: KillFilter, other: Client, caller: Client): boolean {
  if (f.addr !== null && other.addr !== f.addr) return false;
  if (f.laddr !== null && other.laddr !== f.laddr) return false;
  if (f.type !== -1 && clientType(other) !== f.type) return false;
  if (f.id !== 0 && other.id !== f.id) return false;
  if (f.user !== null && other.user !== f.user) return false;
  return !(f.skipMe && other === caller);
}

/** CLIENT UNBLOCK client-id [TIMEOUT|ERROR] */
function clientUnblockCommand(c: Client): void {
  const argv = c.argv;
  if (argv.count > 4) return c.w.addError(subcommandSyntaxError(argv.str(1), "client"));
  let withError = false;
  if (argv.count === 4) {
    if (argv.is(3, "error")) withError = true;
    else if (!argv.is(3, "timeout")) return c.w.addError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
  }
  const id = parseIntArg(c, 2);
  if (id === null) return;
  const target = c.server.clients.get(id);
  if (target === undefined || !c.server.blocking.unblockByRequest(target, withError)) return c.w.addInteger(0);
  c.w.addInteger(1);
}

// ---------------------------------------------------------------------------------------
// CLIENT: pausing clients
// ---------------------------------------------------------------------------------------

/** CLIENT PAUSE timeout [WRITE|ALL]. The mode is checked before the timeout, as in Redis. */
function clientPauseCommand(c: Client): void {
  const argv = c.argv;
  if (argv.count > 4) return c.w.addError(subcommandSyntaxError(argv.str(1), "client"));
  let mode = PauseMode.All;
  if (argv.count === 4) {
    if (argv.is(3, "write")) mode = PauseMode.Write;
    else if (!argv.is(3, "all")) return c.w.addError("ERR CLIENT PAUSE mode must be WRITE or ALL");
  }
  const endMs = parseTimeoutArg(c, 2, TimeoutUnit.Milliseconds);
  if (endMs === null) return;
  c.server.pauseClients(endMs, mode);
  c.w.addRaw(OK);
}

/** CLIENT UNPAUSE */
function clientUnpauseCommand(c: Client): void {
  c.server.unpauseClients();
  c.w.addRaw(OK);
}

// ---------------------------------------------------------------------------------------
// CLIENT HELP
// ---------------------------------------------------------------------------------------

const CLIENT_HELP = [
  "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "CACHING (YES|NO)",
  "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
  "GETREDIR",
  "    Return the client ID we are redirecting to when tracking is enabled.",
  "GETNAME",
  "    Return the name of the current connection.",
  "ID",
  "    Return the ID of the current connection.",
  "INFO",
  "    Return information about the current client connection.",
  "KILL <ip:port>",
  "    Kill connection made from <ip:port>.",
  "KILL <option> <value> [<option> <value> [...]]",
  "    Kill connections. Options are:",
  "    * ADDR (<ip:port>|<unixsocket>:0)",
  "      Kill connections made from the specified address",
  "    * LADDR (<ip:port>|<unixsocket>:0)",
  "      Kill connections made to specified local address",
  "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
  "      Kill connections by type.",
  "    * USER <username>",
  "      Kill connections authenticated by <username>.",
  "    * SKIPME (YES|NO)",
  "      Skip killing current connection (default: yes).",
  "LIST [options ...]",
  "    Return information about client connections. Options:",
  "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
  "      Return clients of specified type.",
  "UNPAUSE",
  "    Stop the current client pause, resuming traffic.",
  "PAUSE <timeout> [WRITE|ALL]",
  "    Suspend all, or just write, clients for <timeout> milliseconds.",
  "REPLY (ON|OFF|SKIP)",
  "    Control the replies sent to the current connection.",
  "SETNAME <name>",
  "    Assign the name <name> to the current connection.",
  "UNBLOCK <clientid> [TIMEOUT|ERROR]",
  "    Unblock the specified blocked client.",
  "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
  "         [OPTIN] [OPTOUT] [NOLOOP]",
  "    Control server assisted client side caching.",
  "TRACKINGINFO",
  "    Report tracking status for the current connection.",
  "NO-EVICT (ON|OFF)",
  "    Protect current client connection from eviction.",
  "HELP",
  "    Prints this help.",
];

/** CLIENT HELP */
function clientHelpCommand(c: Client): void {
  c.w.addHelp(CLIENT_HELP);
}

// ---------------------------------------------------------------------------------------
// Declarations
// ---------------------------------------------------------------------------------------

const clientSubcommands: CommandDef[] = [
  {
    name: "client|caching", arity: 3, flags: "noscript loading stale", acl: "connection", group: "connection", since: "6.0.0",
    summary: "Instruct the server about tracking or not keys in the next request", complexity: "O(1)",
    arguments: [
      {
        name: "mode", type: "oneof",
        arguments: [
          { name: "yes", type: "pure-token", token: "YES" },
          { name: "no", type: "pure-token", token: "NO" },
        ],
      },
    ],
    handler: clientCachingCommand,
  },
  {
    name: "client|getname", arity: 2, flags: "noscript loading stale", acl: "connection", group: "connection", since: "2.6.9",
    summary: "Get the current connection name", complexity: "O(1)",
    handler: clientGetnameCommand,
  },
  {
    name: "client|getredir", arity: 2, flags: "noscript loading stale", acl: "connection", group: "connection", since: "6.0.0",
    summary: "Get tracking notifications redirection client ID if any", complexity: "O(1)",
    handler: clientGetredirCommand,
  },
  {
    name: "client|help", arity: 2, flags: "loading stale", acl: "connection", group: "connection", since: "5.0.0",
    summary: "Show helpful text about the different subcommands", complexity: "O(1)",
    handler: clientHelpCommand,
  },
  {
    name: "client|id", arity: 2, flags: "noscript loading stale", acl: "connection", group: "connection", since: "5.0.0",
    summary: "Returns the client ID for the current connection", complexity: "O(1)",
    handler: clientIdCommand,
  },
  {
    name: "client|info", arity: 2, flags: "noscript loading stale", acl: "connection", group: "connection", since: "6.2.0",
    summary: "Returns information about the current client connection.", complexity: "O(1)",
    tips: ["nondeterministic_output"],
    handler: clientInfoCommand,
  },
  {
    name: "client|kill", arity: -3, flags: "admin noscript loading stale", acl: "connection", group: "connection", since: "2.4.0",
    summary: "Kill the connection of a client", complexity: "O(N) where N is the number of client connections",
    history: [
      ["2.8.12", "Added new filter format."],
      ["2.8.12", "`ID` option."],
      ["3.2.0", "Added `master` type in for `TYPE` option."],
      ["5.0.0", "Replaced `slave` `TYPE` with `replica`. `slave` still supported for backward compatibility."],
      ["6.2.0", "`LADDR` option."],
    ],
    arguments: [
      {
        name: "filter", type: "oneof",
        arguments: [
          { name: "ip:port", type: "string", deprecated_since: "2.8.12" },
          {
            name: "new-format", type: "oneof", flags: ["multiple"],
            arguments: [
              { name: "client-id", type: "integer", token: "ID", since: "2.8.12", flags: ["optional"] },
              {
                name: "normal_master_slave_pubsub", type: "oneof", token: "TYPE", since: "2.8.12", flags: ["optional"],
                arguments: [
                  { name: "normal", type: "pure-token", token: "NORMAL" },
                  { name: "master", type: "pure-token", token: "MASTER", since: "3.2.0" },
                  { name: "slave", type: "pure-token", token: "SLAVE" },
                  { name: "replica", type: "pure-token", token: "REPLICA", since: "5.0.0" },
                  { name: "pubsub", type: "pure-token", token: "PUBSUB" },
                ],
              },
              { name: "username", type: "string", token: "USER", flags: ["optional"] },
              { name: "ip:port", type: "string", token: "ADDR", flags: ["optional"] },
              { name: "ip:port", type: "string", token: "LADDR", since: "6.2.0", flags: ["optional"] },
              { name: "yes/no", type: "string", token: "SKIPME", flags: ["optional"] },
            ],
          },
        ],
      },
    ],
    handler: clientKillCommand,
  },
  {
    name: "client|list", arity: -2, flags: "admin noscript loading stale", acl: "connection", group: "connection", since: "2.4.0",
    summary: "Get the list of client connections", complexity: "O(N) where N is the number of client connections",
    history: [
      ["2.8.12", "Added unique client `id` field."],
      ["5.0.0", "Added optional `TYPE` filter."],
      ["6.0.0", "Added `user` field."],
      ["6.2.0", "Added `argv-mem`, `tot-mem`, `laddr` and `redir` fields and the optional `ID` filter."],
      ["7.0.0", "Added `resp`, `multi-mem`, `rbs` and `rbp` fields."],
      ["7.0.3", "Added `ssub` field."],
    ],
    tips: ["nondeterministic_output"],
    arguments: [
      {
        name: "normal_master_replica_pubsub", type: "oneof", token: "TYPE", since: "5.0.0", flags: ["optional"],
        arguments: [
          { name: "normal", type: "pure-token", token: "NORMAL" },
          { name: "master", type: "pure-token", token: "MASTER" },
          { name: "replica", type: "pure-token", token: "REPLICA" },
          { name: "pubsub", type: "pure-token", token: "PUBSUB" },
        ],
      },
      {
        name: "id", type: "block", token: "ID", since: "6.2.0", flags: ["optional"],
        arguments: [
          { name: "client-id", type: "integer", flags: ["multiple"] },
        ],
      },
    ],
    handler: clientListCommand,
  },
  {
    name: "client|no-evict", arity: 3, flags: "admin noscript loading stale", acl: "connection", group: "connection", since: "7.0.0",
    summary: "Set client eviction mode for the current connection", complexity: "O(1)",
    arguments: [
      {
        name: "enabled", type: "oneof",
        arguments: [
          { name: "on", type: "pure-token", token: "ON" },
          { name: "off", type: "pure-token", token: "OFF" },
        ],
      },
    ],
    handler: clientNoEvictCommand,
  },
  {
    name: "client|pause", arity: -3, flags: "admin noscript loading stale", acl: "connection", group: "connection", since: "2.9.50",
    summary: "Stop processing commands from clients for some time", complexity: "O(1)",
    history: [["6.2.0", "`CLIENT PAUSE WRITE` mode added along with the `mode` option."]],
    arguments: [
      { name: "timeout", type: "integer" },
      {
        name: "mode", type: "oneof", since: "6.2.0", flags: ["optional"],
        arguments: [
          { name: "write", type: "pure-token", token: "WRITE" },
          { name: "all", type: "pure-token", token: "ALL" },
        ],
      },
    ],
    handler: clientPauseCommand,
  },
  {
    name: "client|reply", arity: 3, flags: "noscript loading stale", acl: "connection", group: "connection", since: "3.2.0",
    summary: "Instruct the server whether to reply to commands", complexity: "O(1)",
    arguments: [
      {
        name: "on_off_skip", type: "oneof",
        arguments: [
          { name: "on", type: "pure-token", token: "ON" },
          { name: "off", type: "pure-token", token: "OFF" },
          { name: "skip", type: "pure-token", token: "SKIP" },
        ],
      },
    ],
    handler: clientReplyCommand,
  },
  {
    name: "client|setname", arity: 3, flags: "noscript loading stale", acl: "connection", group: "connection", since: "2.6.9",
    summary: "Set the current connection name", complexity: "O(1)",
    arguments: [
      { name: "connection-name", type: "string" },
    ],
    handler: clientSetnameCommand,
  },
  {
    name: "client|tracking", arity: -3, flags: "noscript loading stale", acl: "connection", group: "connection", since: "6.0.0",
    summary: "Enable or disable server assisted client side caching support",
    complexity: "O(1). Some options may introduce additional complexity.",
    arguments: [
      {
        name: "status", type: "oneof",
        arguments: [
          { name: "on", type: "pure-token", token: "ON" },
          { name: "off", type: "pure-token", token: "OFF" },
        ],
      },
      { name: "client-id", type: "integer", token: "REDIRECT", flags: ["optional"] },
      { name: "prefix", type: "string", token: "PREFIX", flags: ["optional", "multiple", "multiple_token"] },
      { name: "bcast", type: "pure-token", token: "BCAST", flags: ["optional"] },
      { name: "optin", type: "pure-token", token: "OPTIN", flags: ["optional"] },
      { name: "optout", type: "pure-token", token: "OPTOUT", flags: ["optional"] },
      { name: "noloop", type: "pure-token", token: "NOLOOP", flags: ["optional"] },
    ],
    handler: clientTrackingCommand,
  },
  {
    name: "client|trackinginfo", arity: 2, flags: "noscript loading stale", acl: "connection", group: "connection", since: "6.2.0",
    summary: "Return information about server assisted client side caching for the current connection", complexity: "O(1)",
    handler: clientTrackinginfoCommand,
  },
  {
    name: "client|unblock", arity: -3, flags: "admin noscript loading stale", acl: "connection", group: "connection", since: "5.0.0",
    summary: "Unblock a client blocked in a blocking command from a different connection",
    complexity: "O(log N) where N is the number of client connections",
    arguments: [
      { name: "client-id", type: "integer" },
      {
        name: "timeout_error", type: "oneof", flags: ["optional"],
        arguments: [
          { name: "timeout", type: "pure-token", token: "TIMEOUT" },
          { name: "error", type: "pure-token", token: "ERROR" },
        ],
      },
    ],
    handler: clientUnblockCommand,
  },
  {
    name: "client|unpause", arity: 2, flags: "admin noscript loading stale", acl: "connection", group: "connection", since: "6.2.0",
    summary: "Resume processing of clients that were paused", complexity: "O(N) Where N is the number of paused clients",
    handler: clientUnpauseCommand,
  },
];

export const connectionCommands: CommandDef[] = [
  {
    name: "ping", arity: -1, flags: "fast", acl: "connection", group: "connection", since: "1.0.0",
    summary: "Ping the server", complexity: "O(1)",
    tips: ["request_policy:all_shards", "response_policy:all_succeeded"],
    arguments: [{ name: "message", type: "string", flags: ["optional"] }],
    handler: pingCommand,
  },
  {
    name: "echo", arity: 2, flags: "loading stale fast", acl: "connection", group: "connection", since: "1.0.0",
    summary: "Echo the given string", complexity: "O(1)",
    arguments: [{ name: "message", type: "string" }],
    handler: echoCommand,
  },
  {
    name: "quit", arity: -1, flags: "allow_busy noscript loading stale fast no_auth", acl: "connection",
    group: "connection", since: "1.0.0", summary: "Close the connection", complexity: "O(1)",
    handler: quitCommand,
  },
  {
    name: "select", arity: 2, flags: "loading stale fast", acl: "connection", group: "connection", since: "1.0.0",
    summary: "Change the selected database for the current connection", complexity: "O(1)",
    arguments: [{ name: "index", type: "integer" }],
    handler: selectCommand,
  },
  {
    name: "swapdb", arity: 3, flags: "write fast", acl: "keyspace dangerous", group: "server", since: "4.0.0",
    summary: "Swaps two Redis databases",
    complexity: "O(N) where N is the count of clients watching or blocking on keys from both databases.",
    arguments: [
      { name: "index1", type: "integer" },
      { name: "index2", type: "integer" },
    ],
    handler: swapdbCommand,
  },
  {
    name: "hello", arity: -1, flags: "noscript loading stale fast no_auth allow_busy", acl: "connection",
    group: "connection", since: "6.0.0", summary: "Handshake with Redis", complexity: "O(1)",
    history: [
      ["6.2.0", "`protover` made optional; when called without arguments the command reports the current connection's context."],
    ],
    arguments: [
      {
        name: "arguments", type: "block", flags: ["optional"],
        arguments: [
          { name: "protover", type: "integer" },
          {
            name: "username_password", type: "block", token: "AUTH", flags: ["optional"],
            arguments: [
              { name: "username", type: "string" },
              { name: "password", type: "string" },
            ],
          },
          { name: "clientname", type: "string", token: "SETNAME", flags: ["optional"] },
        ],
      },
    ],
    handler: helloCommand,
  },
  {
    name: "reset", arity: 1, flags: "noscript loading stale fast no_auth allow_busy", acl: "connection",
    group: "connection", since: "6.2.0", summary: "Reset the connection", complexity: "O(1)",
    handler: resetCommand,
  },
  {
    name: "auth", arity: -2, flags: "noscript loading stale fast no_auth allow_busy", acl: "connection",
    group: "connection", since: "1.0.0", summary: "Authenticate to the server",
    complexity: "O(N) where N is the number of passwords defined for the user",
    history: [["6.0.0", "Added ACL style (username and password)."]],
    arguments: [
      { name: "username", type: "string", since: "6.0.0", flags: ["optional"] },
      { name: "password", type: "string" },
    ],
    handler: authCommand,
  },
  {
    name: "client", arity: -2, flags: "", group: "connection", since: "2.4.0",
    summary: "A container for client connection commands", complexity: "Depends on subcommand.",
    subcommands: clientSubcommands,
  },
];
