// Replication commands: REPLCONF (a replica's handshake and its ACKs), PSYNC and SYNC (a
// partial or full resynchronization, then the stream), REPLICAOF / SLAVEOF, ROLE and
// FAILOVER. See src/replication/master.ts, replica.ts and coordinated-failover.ts.

import type { Client } from "../server/client.ts";
import type { CommandDef } from "./table.ts";
import { ERR } from "../resp/errors.ts";
import { OK } from "../resp/writer.ts";
import { TimeoutUnit, parseIntArg, parseRangeArgOr, parseTimeoutArg } from "./args.ts";
import { parseLongLong, parsedInt64 } from "../util/numbers.ts";
import { clientInfoLine } from "./connection.ts";
import { FailoverState } from "../replication/coordinated-failover.ts";
import { ReplicaState } from "../replication/master.ts";

/** Redis's NET_HOST_STR_LEN: the longest address a replica may announce. */
const NET_HOST_STR_LEN = 256;

/** REPLCONF <option> <value> [<option> <value> ...] */
function replconfCommand(c: Client): void {
  const argv = c.argv;
  if (argv.count % 2 === 0) return c.w.addErrorBytes(ERR.syntax);
  const master = c.server.replication;
  for (let i = 1; i < argv.count; i += 2) {
    if (argv.is(i, "listening-port")) {
      const port = parseIntArg(c, i + 1);
      if (port === null) return;
      master.linkOf(c).listeningPort = port;
    } else if (argv.is(i, "ip-address")) {
      if (argv.len[i + 1]! >= NET_HOST_STR_LEN) {
        return c.w.addError(`ERR REPLCONF ip-address provided by replica instance is too long: ${argv.len[i + 1]} bytes`);
      }
      master.linkOf(c).ipAddress = argv.str(i + 1);
    } else if (argv.is(i, "capa")) {
      // Unknown capabilities are ignored, as in Redis.
      const link = master.linkOf(c);
      if (argv.is(i + 1, "eof")) link.capaEof = true;
      else if (argv.is(i + 1, "psync2")) link.capaPsync2 = true;
    } else if (argv.is(i, "ack")) {
      // An ACK is never answered, and counts only from a replica.
      if (parseLongLong(argv.buf, argv.start[i + 1]!, argv.len[i + 1]!)) master.ack(c, parsedInt64.value);
      return;
    } else if (argv.is(i, "getack")) {
      // Only a replica answers GETACK, with an ACK to its own master.
      if (c.isMaster) c.server.upstream.sendAck();
      return;
    } else if (argv.is(i, "rdb-only")) {
      const rdbOnly = parseIntArg(c, i + 1);
      if (rdbOnly === null) return;
      if (rdbOnly < 0 || rdbOnly > 1) return c.w.addError("ERR value is out of range, value must between 0 and 1");
    } else {
      return c.w.addError(`ERR Unrecognized REPLCONF option: ${argv.str(i)}`);
    }
  }
  c.w.addRaw(OK);
}

/** PSYNC replicationid offset: continue from the backlog when it can, else a full resync. */
function psyncCommand(c: Client): void {
  syncGeneric(c, true);
}

/** SYNC: the pre-PSYNC protocol, the RDB without a FULLRESYNC line. */
function syncCommand(c: Client): void {
  syncGeneric(c, false);
}

function syncGeneric(c: Client, psync: boolean): void {
  const server = c.server;
  const master = server.replication;
  // A replica asking again is ignored, as in Redis.
  if (master.isReplica(c)) return;
  const argv = c.argv;
  // PSYNC <replid> <offset> FAILOVER: this server's master hands its role over to it.
  if (psync && argv.count > 3 && argv.is(3, "failover") && !takeOverFromMaster(c)) return;
  if (master.failover.state !== FailoverState.None) return c.w.addError("NOMASTERLINK Can't SYNC while failing over");
  // A replica passes its master's history on only while it follows it.
  if (server.upstream.isReplica && !server.upstream.connected) return c.w.addError("NOMASTERLINK Can't SYNC while not connected with my master");
  // Replies still unsent (pipelined before) would reach the replica mixed with its RDB.
  if (c.pendingLen > 0 || c.w.len > 0) return c.w.addError("ERR SYNC and PSYNC are invalid with pending output");
  server.log.notice(`Replica ${master.replicaName(c)} asks for synchronization`);
  if (psync) {
    if (!parseLongLong(argv.buf, argv.start[2]!, argv.len[2]!)) {
      server.log.warning(`Replica ${master.replicaName(c)} asks for synchronization but with a wrong offset`);
      return c.w.addErrorBytes(ERR.notInteger);
    }
    const replId = argv.str(1);
    if (master.tryPartialResync(c, c.w, replId, parsedInt64.value)) return;
    if (!replId.startsWith("?")) master.syncPartialErr++;
  }
  master.fullResync(c, psync);
}

/**
 * The target of a FAILOVER becomes the master, if the request continues its own history;
 * the PSYNC then goes on as any other (and continues from the backlog). False after
 * replying an error.
 */
function takeOverFromMaster(c: Client): boolean {
  const server = c.server;
  const replId = c.argv.str(1);
  server.log.warning(`Failover request received for replid ${replId}.`);
  if (!server.upstream.isReplica) {
    c.w.addError("ERR PSYNC FAILOVER can't be sent to a master.");
    return false;
  }
  if (replId.toLowerCase() !== server.replication.replId) {
    c.w.addError("ERR PSYNC FAILOVER replid must match my replid.");
    return false;
  }
  server.upstream.unsetMaster();
  server.config.assign("replicaof", null);
  server.log.notice(`MASTER MODE enabled (failover request from '${clientInfoLine(c, c).trimEnd()}')`);
  return true;
}

/** FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT milliseconds] */
function failoverCommand(c: Client): void {
  const server = c.server;
  const argv = c.argv;
  const failover = server.replication.failover;
  if (server.config.clusterEnabled) return c.w.addError("ERR FAILOVER not allowed in cluster mode. Use CLUSTER FAILOVER command instead.");
  if (argv.count === 2 && argv.is(1, "abort")) {
    if (failover.state === FailoverState.None) return c.w.addError("ERR No failover in progress.");
    failover.abort("Failover manually aborted");
    return c.w.addRaw(OK);
  }
  let timeoutMs = 0;
  let force = false;
  let host: string | null = null;
  let port = 0;
  // Each option once, as Redis parses them: a repeated one is a syntax error.
  for (let i = 1; i < argv.count; i++) {
    if (argv.is(i, "timeout") && i + 1 < argv.count && timeoutMs === 0) {
      const value = parseIntArg(c, i + 1);
      if (value === null) return;
      if (value <= 0) return c.w.addError("ERR FAILOVER timeout must be greater than 0");
      timeoutMs = value;
      i++;
    } else if (argv.is(i, "to") && i + 2 < argv.count && host === null) {
      const value = parseIntArg(c, i + 2);
      if (value === null) return;
      host = argv.str(i + 1);
      port = value;
      i += 2;
    } else if (argv.is(i, "force") && !force) {
      force = true;
    } else {
      return c.w.addErrorBytes(ERR.syntax);
    }
  }
  if (failover.state !== FailoverState.None) return c.w.addError("ERR FAILOVER already in progress.");
  if (server.upstream.isReplica) return c.w.addError("ERR FAILOVER is not valid when server is a replica.");
  if (server.replication.replicas.length === 0) return c.w.addError("ERR FAILOVER requires connected replicas.");
  if (force && (timeoutMs === 0 || host === null)) return c.w.addError("ERR FAILOVER with force option requires both a timeout and target HOST and IP.");
  if (host !== null) {
    const replica = failover.findReplica(host, port);
    if (replica === null) return c.w.addError("ERR FAILOVER target HOST and PORT is not a replica.");
    if (replica.replica!.state !== ReplicaState.Online) return c.w.addError("ERR FAILOVER target replica is not online.");
  }
  failover.start(host, port, timeoutMs, force);
  c.w.addRaw(OK);
}

/** WAIT numreplicas timeout */
function waitCommand(c: Client): void {
  const server = c.server;
  if (server.upstream.isReplica) {
    return c.w.addError(
      "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.",
    );
  }
  const numReplicas = parseIntArg(c, 1);
  if (numReplicas === null) return;
  const deadlineMs = parseTimeoutArg(c, 2, TimeoutUnit.Milliseconds);
  if (deadlineMs === null) return;
  server.replication.waits.wait(c, numReplicas, deadlineMs);
}

/** REPLICAOF host port | NO ONE (and SLAVEOF, its old name). */
function replicaofCommand(c: Client): void {
  const server = c.server;
  const argv = c.argv;
  if (server.config.clusterEnabled) return c.w.addError("ERR REPLICAOF not allowed in cluster mode.");
  if (argv.is(1, "no") && argv.is(2, "one")) {
    if (server.upstream.isReplica) {
      server.upstream.unsetMaster();
      server.config.assign("replicaof", null);
      server.log.notice(`MASTER MODE enabled (user request from '${clientInfoLine(c, c).trimEnd()}')`);
    }
    return c.w.addRaw(OK);
  }
  if (server.replication.isReplica(c)) return c.w.addError("ERR Command is not valid when client is a replica.");
  // Redis gives the one message for a port that is not a number too.
  const port = parseRangeArgOr(c, 2, 0, 65535, "ERR Invalid master port");
  if (port === null) return;
  const host = argv.str(1);
  const upstream = server.upstream;
  if (upstream.isReplica && upstream.host!.toLowerCase() === host.toLowerCase() && upstream.port === port) {
    server.log.notice("REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.");
    return c.w.addSimple("OK Already connected to specified master");
  }
  upstream.setMaster(host, port);
  server.config.assign("replicaof", { host, port });
  server.log.notice(`REPLICAOF ${host}:${port} enabled (user request from '${clientInfoLine(c, c).trimEnd()}')`);
  c.w.addRaw(OK);
}

/** ROLE: master with its replicas, or replica with its master and the link's state. */
function roleCommand(c: Client): void {
  const w = c.w;
  const upstream = c.server.upstream;
  if (upstream.isReplica) {
    w.addArrayLen(5);
    w.addBulkLatin1("slave");
    w.addBulkLatin1(upstream.host!);
    w.addInteger(upstream.port);
    w.addBulkLatin1(upstream.roleState());
    w.addInteger(upstream.client !== null ? upstream.reploff : -1);
    return;
  }
  const master = c.server.replication;
  w.addArrayLen(3);
  w.addBulkLatin1("master");
  w.addInteger(master.offset);
  // Replicas still syncing are left out, as in Redis.
  const online = master.onlineReplicas();
  w.addArrayLen(online.length);
  for (const r of online) {
    const link = r.replica!;
    w.addArrayLen(3);
    w.addBulkLatin1(master.replicaIp(r, link));
    w.addBulkLatin1(String(link.listeningPort));
    w.addBulkLatin1(String(link.ackOffset));
  }
}

const REPLICAOF_ARGUMENTS: CommandDef["arguments"] = [
  {
    name: "args", type: "oneof",
    arguments: [
      {
        name: "host-port", type: "block",
        arguments: [
          { name: "host", type: "string" },
          { name: "port", type: "integer" },
        ],
      },
      {
        name: "no-one", type: "block",
        arguments: [
          { name: "no", type: "pure-token", token: "NO" },
          { name: "one", type: "pure-token", token: "ONE" },
        ],
      },
    ],
  },
];

export const replicationCommands: CommandDef[] = [
  {
    name: "replconf", arity: -1, flags: "admin noscript loading stale allow_busy", group: "server", since: "3.0.0",
    summary: "An internal command for configuring the replication stream", complexity: "O(1)",
    docFlags: ["syscmd"],
    handler: replconfCommand,
  },
  {
    name: "psync", arity: -3, flags: "admin noscript no_async_loading no_multi", group: "server", since: "2.8.0",
    summary: "Internal command used for replication",
    arguments: [
      { name: "replicationid", type: "string" },
      { name: "offset", type: "integer" },
    ],
    handler: psyncCommand,
  },
  {
    name: "sync", arity: 1, flags: "admin noscript no_async_loading no_multi", group: "server", since: "1.0.0",
    summary: "Internal command used for replication",
    handler: syncCommand,
  },
  {
    name: "replicaof", arity: 3, flags: "admin noscript stale no_async_loading", group: "server", since: "5.0.0",
    summary: "Make the server a replica of another instance, or promote it as master.", complexity: "O(1)",
    arguments: REPLICAOF_ARGUMENTS,
    handler: replicaofCommand,
  },
  {
    name: "slaveof", arity: 3, flags: "admin noscript stale no_async_loading", group: "server", since: "1.0.0",
    summary: "Make the server a replica of another instance, or promote it as master.", complexity: "O(1)",
    docFlags: ["deprecated"], deprecatedSince: "5.0.0", replacedBy: "`REPLICAOF`",
    arguments: REPLICAOF_ARGUMENTS,
    handler: replicaofCommand,
  },
  {
    name: "wait", arity: 3, flags: "noscript", acl: "connection", group: "generic", since: "3.0.0",
    summary: "Wait for the synchronous replication of all the write commands sent in the context of the current connection",
    complexity: "O(1)", tips: ["request_policy:all_shards", "response_policy:agg_min"],
    arguments: [
      { name: "numreplicas", type: "integer" },
      { name: "timeout", type: "integer" },
    ],
    handler: waitCommand,
  },
  {
    name: "failover", arity: -1, flags: "admin noscript stale", group: "server", since: "6.2.0",
    summary: "Start a coordinated failover between this server and one of its replicas.", complexity: "O(1)",
    arguments: [
      {
        name: "target", type: "block", token: "TO", flags: ["optional"],
        arguments: [
          { name: "host", type: "string" },
          { name: "port", type: "integer" },
          { name: "force", type: "pure-token", token: "FORCE", flags: ["optional"] },
        ],
      },
      { name: "abort", type: "pure-token", token: "ABORT", flags: ["optional"] },
      { name: "milliseconds", type: "integer", token: "TIMEOUT", flags: ["optional"] },
    ],
    handler: failoverCommand,
  },
  {
    name: "role", arity: 1, flags: "noscript loading stale fast", acl: "admin dangerous", group: "server", since: "2.8.12",
    summary: "Return the role of the instance in the context of replication", complexity: "O(1)",
    handler: roleCommand,
  },
];
