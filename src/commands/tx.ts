// Transactions: MULTI EXEC DISCARD WATCH UNWATCH (Redis's multi.c commands). The queue and
// the watch registry live in server/transaction.ts; the dispatcher queues commands while a
// client is in MULTI and refuses EXEC with EXECABORT when queueing went wrong.

import type { Client } from "../server/client.ts";
import { MultiState } from "../server/transaction.ts";
import { type CommandDef, keyRange } from "./table.ts";
import { OK } from "../resp/writer.ts";

const EXECABORT = "EXECABORT Transaction discarded because of previous errors.";

/** MULTI */
function multiCommand(c: Client): void {
  if (c.multi !== null) return c.w.addError("ERR MULTI calls can not be nested");
  c.multi = new MultiState();
  c.w.addRaw(OK);
}

/** DISCARD */
function discardCommand(c: Client): void {
  if (c.multi === null) return c.w.addError("ERR DISCARD without MULTI");
  c.server.discardTransaction(c);
  c.w.addRaw(OK);
}

/**
 * EXEC: run the queued commands one after the other with nothing in between, each
 * dispatched as if sent alone, their replies in one array. A watched key that changed (or
 * whose time passed) makes the reply a null array instead; a command refused while queueing
 * makes it EXECABORT.
 */
function execCommand(c: Client): void {
  const multi = c.multi;
  if (multi === null) return c.w.addError("ERR EXEC without MULTI");
  const server = c.server;
  if (server.watches.anyExpiredSinceWatch(c)) c.dirtyCas = true;
  if (multi.aborted || c.dirtyCas) {
    server.discardTransaction(c);
    if (multi.aborted) c.w.addError(EXECABORT);
    else c.w.addNullArray();
    return;
  }
  // Unwatch first: the transaction's own writes must not mark this client dirty.
  server.watches.unwatchAll(c);
  const argv = c.argv;
  const exec = argv.save();
  const execCmd = c.lastCommand;
  const propagation = server.propagation;
  c.denyBlocking = true;
  c.outerCommand = execCmd;
  propagation.nesting++;
  c.w.addArrayLen(multi.commands.length);
  try {
    for (const queued of multi.commands) {
      argv.use(queued);
      // The rules may have changed since the command was queued: Redis checks again (and
      // logs a denial with the client as running EXEC).
      if (!c.user.unrestricted && !c.isMaster) {
        c.lastCommand = execCmd;
        const denied = server.acl.execDenial(c, queued.cmd);
        if (denied !== null) {
          c.w.addError(denied);
          continue;
        }
      }
      c.lastCommand = queued.cmd;
      server.execute(c, queued.cmd);
    }
  } finally {
    propagation.nesting--;
    c.denyBlocking = false;
    c.outerCommand = null;
    argv.use(exec);
    c.lastCommand = execCmd;
    server.discardTransaction(c);
  }
  // EXEC itself is not propagated: the commands it ran are, wrapped when there are several.
  if (propagation.active) propagation.preventCommand();
}

/** WATCH key [key ...] */
function watchCommand(c: Client): void {
  if (c.multi !== null) return c.w.addError("ERR WATCH inside MULTI is not allowed");
  // A client already dirty stays dirty whatever it watches.
  if (!c.dirtyCas) {
    const argv = c.argv;
    for (let i = 1; i < argv.count; i++) c.server.watches.watch(c, argv.str(i));
  }
  c.w.addRaw(OK);
}

/** UNWATCH */
function unwatchCommand(c: Client): void {
  c.server.watches.unwatchAll(c);
  c.dirtyCas = false;
  c.w.addRaw(OK);
}

export const txCommands: CommandDef[] = [
  {
    name: "multi", arity: 1, flags: "noscript loading stale fast allow_busy", acl: "transaction", group: "transactions",
    since: "1.2.0", summary: "Mark the start of a transaction block", complexity: "O(1)",
    handler: multiCommand,
  },
  {
    name: "exec", arity: 1, flags: "noscript loading stale skip_slowlog", acl: "transaction", group: "transactions",
    since: "1.2.0", summary: "Execute all commands issued after MULTI", complexity: "Depends on commands in the transaction",
    handler: execCommand,
  },
  {
    name: "discard", arity: 1, flags: "noscript loading stale fast allow_busy", acl: "transaction", group: "transactions",
    since: "2.0.0", summary: "Discard all commands issued after MULTI", complexity: "O(N), when N is the number of queued commands",
    handler: discardCommand,
  },
  {
    name: "watch", arity: -2, flags: "noscript loading stale fast allow_busy", acl: "transaction", group: "transactions",
    since: "2.2.0", summary: "Watch the given keys to determine execution of the MULTI/EXEC block",
    complexity: "O(1) for every key.",
    keySpecs: [keyRange("RO", 1, -1)],
    arguments: [{ name: "key", type: "key", key_spec_index: 0, flags: ["multiple"] }],
    handler: watchCommand,
  },
  {
    name: "unwatch", arity: 1, flags: "noscript loading stale fast allow_busy", acl: "transaction", group: "transactions",
    since: "2.2.0", summary: "Forget about all watched keys", complexity: "O(1)",
    handler: unwatchCommand,
  },
];
