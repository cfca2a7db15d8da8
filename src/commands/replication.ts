// Replication commands, master side: REPLCONF (the replica's handshake and its ACKs),
// PSYNC and SYNC (a full resynchronization, then the stream). See src/replication/master.ts.

import type { Client } from "../server/client.ts";
import type { CommandDef } from "./table.ts";
import { ERR } from "../resp/errors.ts";
import { OK } from "../resp/writer.ts";
import { parseIntArg } from "./args.ts";
import { parseLongLong, parsedInt64 } from "../util/numbers.ts";

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
      // eof (diskless RDB framing) and psync2 are capabilities this master has no use for:
      // it always frames the RDB with its length and never answers CONTINUE.
    } else if (argv.is(i, "ack")) {
      // An ACK is never answered, and counts only from a replica.
      if (parseLongLong(argv.buf, argv.start[i + 1]!, argv.len[i + 1]!)) master.ack(c, parsedInt64.value);
      return;
    } else if (argv.is(i, "getack")) {
      // Only a replica answers GETACK, with an ACK to its own master.
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

/**
 * PSYNC replicationid offset: without a backlog no offset can be continued from, so every
 * request gets a full resynchronization.
 */
function psyncCommand(c: Client): void {
  syncGeneric(c, true);
}

/** SYNC: the pre-PSYNC protocol, the RDB without a FULLRESYNC line. */
function syncCommand(c: Client): void {
  syncGeneric(c, false);
}

function syncGeneric(c: Client, psync: boolean): void {
  // A replica asking again is ignored, as in Redis.
  if (c.server.replication.isReplica(c)) return;
  // Replies still unsent (pipelined before) would reach the replica mixed with its RDB.
  if (c.pendingLen > 0 || c.w.len > 0) return c.w.addError("ERR SYNC and PSYNC are invalid with pending output");
  c.server.replication.fullResync(c, c.w, psync);
}

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
];
