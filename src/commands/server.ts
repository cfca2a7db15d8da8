// Server commands: INFO TIME LASTSAVE SHUTDOWN (CONFIG and DEBUG have files of their own).

import type { Client } from "../server/client.ts";
import type { CommandDef } from "./table.ts";
import { ERR } from "../resp/errors.ts";
import { infoText } from "../metrics/info.ts";
import { saveOnShutdown } from "./persistence.ts";
import { OK } from "../resp/writer.ts";
import { ShutdownOutcome } from "../server/shutdown.ts";

/** INFO [section [section ...]] */
function infoCommand(c: Client): void {
  const sections: string[] = [];
  for (let i = 1; i < c.argv.count; i++) sections.push(c.argv.lower(i));
  c.w.addVerbatim(infoText(c.server, sections));
}

/** MONITOR: from now on, see every command the server runs. */
function monitorCommand(c: Client): void {
  // Inside EXEC a client expects one reply per command, which a stream of lines is not.
  if (c.denyBlocking) return c.w.addError("ERR MONITOR isn't allowed for DENY BLOCKING client");
  // A monitor asking again gets no reply at all, as in Redis.
  if (c.monitor) return;
  c.monitor = true;
  c.server.monitors.clients.add(c);
  c.w.addRaw(OK);
}

/** TIME */
function timeCommand(c: Client): void {
  const us = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  const seconds = Math.floor(us / 1e6);
  c.w.addArrayLen(2);
  c.w.addBulkInteger(seconds);
  c.w.addBulkInteger(us - seconds * 1e6);
}

/** LASTSAVE */
function lastsaveCommand(c: Client): void {
  c.w.addInteger(Math.floor(c.server.lastSaveMs / 1000));
}

/** SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT] */
function shutdownCommand(c: Client): void {
  const argv = c.argv;
  let save = false;
  let nosave = false;
  let abort = false;
  let force = false;
  let now = false;
  for (let i = 1; i < argv.count; i++) {
    if (argv.is(i, "nosave")) nosave = true;
    else if (argv.is(i, "save")) save = true;
    else if (argv.is(i, "force")) force = true;
    else if (argv.is(i, "now")) now = true;
    else if (argv.is(i, "abort")) abort = true;
    else return c.w.addErrorBytes(ERR.syntax);
  }
  if ((save && nosave) || (abort && argv.count > 2)) return c.w.addErrorBytes(ERR.syntax);
  if (abort) {
    if (c.server.abortShutdown()) return c.w.addRaw(OK);
    return c.w.addError("ERR No shutdown in progress.");
  }
  // A busy script leaves the dataset half written: only NOSAVE may end the server then.
  const busy = c.server.busyScript;
  if (busy !== null && !nosave) return c.w.addError(busy.busyError);
  // Like Redis, a successful SHUTDOWN sends no reply: the connection simply closes. One
  // that waits for the replicas holds the client until it is done.
  const outcome = c.server.shutdown(0, () => saveOnShutdown(c.server, save, nosave, force), now, c);
  if (outcome === ShutdownOutcome.Failed) c.w.addError("ERR Errors trying to SHUTDOWN. Check logs.");
}

export const serverCommands: CommandDef[] = [
  {
    name: "info", arity: -1, flags: "loading stale", acl: "dangerous", group: "server", since: "1.0.0",
    summary: "Get information and statistics about the server", complexity: "O(1)",
    history: [["7.0.0", "Added support for taking multiple section arguments."]],
    tips: ["nondeterministic_output", "request_policy:all_shards", "response_policy:special"],
    arguments: [{ name: "section", type: "string", flags: ["optional", "multiple"] }],
    handler: infoCommand,
  },
  {
    name: "monitor", arity: 1, flags: "admin noscript loading stale", acl: "dangerous", group: "server", since: "1.0.0",
    summary: "Listen for all requests received by the server in real time",
    handler: monitorCommand,
  },
  {
    name: "time", arity: 1, flags: "loading stale fast", group: "server", since: "2.6.0",
    summary: "Return the current server time", complexity: "O(1)",
    tips: ["nondeterministic_output"],
    handler: timeCommand,
  },
  {
    name: "lastsave", arity: 1, flags: "loading stale fast", acl: "admin dangerous", group: "server", since: "1.0.0",
    summary: "Get the UNIX time stamp of the last successful save to disk", complexity: "O(1)",
    tips: ["nondeterministic_output"],
    handler: lastsaveCommand,
  },
  {
    name: "shutdown", arity: -1, flags: "admin noscript loading stale no_multi allow_busy", group: "server", since: "1.0.0",
    summary: "Synchronously save the dataset to disk and then shut down the server",
    complexity: "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
    history: [["7.0.0", "Added the `NOW`, `FORCE` and `ABORT` modifiers."]],
    arguments: [
      {
        name: "nosave_save", type: "oneof", flags: ["optional"],
        arguments: [
          { name: "nosave", type: "pure-token", token: "NOSAVE" },
          { name: "save", type: "pure-token", token: "SAVE" },
        ],
      },
      { name: "now", type: "pure-token", token: "NOW", flags: ["optional"], since: "7.0.0" },
      { name: "force", type: "pure-token", token: "FORCE", flags: ["optional"], since: "7.0.0" },
      { name: "abort", type: "pure-token", token: "ABORT", flags: ["optional"], since: "7.0.0" },
    ],
    handler: shutdownCommand,
  },
];
