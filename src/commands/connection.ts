// Connection commands: PING ECHO QUIT SELECT (more in later sections of this file).

import type { Client } from "../server/client.ts";
import type { CommandDef } from "./table.ts";
import { OK, PONG } from "../resp/writer.ts";
import { ERR, wrongArity } from "../resp/errors.ts";
import { parseIntArg } from "./args.ts";

/** PING [message] */
function pingCommand(c: Client): void {
  // PING's declared arity is -1 (for subscribed clients); Redis checks the upper bound here.
  if (c.argv.count > 2) return c.w.addError(wrongArity("ping"));
  if (c.argv.count === 1) c.w.addRaw(PONG);
  else c.w.addBulkView(c.argv.buf, c.argv.start[1]!, c.argv.len[1]!);
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
  const index = parseIntArg(c, 1);
  if (index === null) return;
  if (index < 0 || index >= c.server.dbs.length) return c.w.addErrorBytes(ERR.dbIndex);
  c.db = c.server.dbs[index]!;
  c.w.addRaw(OK);
}

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
];
