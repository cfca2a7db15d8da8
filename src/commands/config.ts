// CONFIG GET | SET | RESETSTAT | HELP over the parameter table (src/config/params.ts).

import type { Client } from "../server/client.ts";
import type { CommandDef } from "./table.ts";
import { OK } from "../resp/writer.ts";
import { configGet, configSetArgs } from "../config/parse.ts";
import { resetCommandLatency } from "../metrics/latency.ts";
import { RewriteError, rewriteConfigFile } from "../config/rewrite.ts";

const HELP = [
  "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "GET <pattern>",
  "    Return parameters matching the glob-like <pattern> and their values.",
  "SET <directive> <value>",
  "    Set the configuration <directive> to <value>.",
  "RESETSTAT",
  "    Reset statistics reported by the INFO command.",
  "REWRITE",
  "    Rewrite the configuration file.",
  "HELP",
  "    Prints this help.",
];

/** CONFIG GET parameter [parameter ...] */
function configGetCommand(c: Client): void {
  const patterns: string[] = [];
  for (let i = 2; i < c.argv.count; i++) patterns.push(c.argv.str(i));
  const pairs = configGet(c.server.config, patterns);
  c.w.addMapLen(pairs.length);
  for (const [name, value] of pairs) {
    c.w.addBulkLatin1(name);
    c.w.addBulkLatin1(value);
  }
}

/** CONFIG SET parameter value [parameter value ...] */
function configSetCommand(c: Client): void {
  const args: string[] = [];
  for (let i = 2; i < c.argv.count; i++) args.push(c.argv.str(i));
  const log = c.server.log;
  const error = configSetArgs(c.server.config, args, {
    isLocal: c.isLocal(),
    onWarning: (message: string) => log.warning(message),
  });
  if (error !== null) return c.w.addError(error);
  c.w.addRaw(OK);
}

/** CONFIG RESETSTAT */
function configResetstatCommand(c: Client): void {
  c.server.resetStats();
  resetCommandLatency(c.server.commands.all());
  c.w.addRaw(OK);
}

/** CONFIG REWRITE */
function configRewriteCommand(c: Client): void {
  const server = c.server;
  if (server.configFile === "") return c.w.addError("ERR The server is running without a config file");
  try {
    rewriteConfigFile(server.config, server.configFile);
  } catch (e) {
    if (!(e instanceof RewriteError)) throw e;
    server.log.warning(`CONFIG REWRITE failed: ${e.reason}`);
    return c.w.addError(`ERR ${e.message}`);
  }
  server.log.warning("CONFIG REWRITE executed with success.");
  c.w.addRaw(OK);
}

/** CONFIG HELP */
function configHelpCommand(c: Client): void {
  c.w.addHelp(HELP);
}

export const configCommands: CommandDef[] = [
  {
    name: "config", arity: -2, flags: "", group: "server", since: "2.0.0",
    summary: "A container for server configuration commands", complexity: "Depends on subcommand.",
    subcommands: [
      {
        name: "config|resetstat", arity: 2, flags: "admin noscript loading stale", group: "server", since: "2.0.0",
        summary: "Reset the stats returned by INFO", complexity: "O(1)",
        handler: configResetstatCommand,
      },
      {
        name: "config|get", arity: -3, flags: "admin noscript loading stale", group: "server", since: "2.0.0",
        summary: "Get the values of configuration parameters",
        complexity: "O(N) when N is the number of configuration parameters provided",
        history: [["7.0.0", "Added the ability to pass multiple pattern parameters in one call"]],
        arguments: [
          { name: "parameter", type: "block", flags: ["multiple"], arguments: [{ name: "parameter", type: "string" }] },
        ],
        handler: configGetCommand,
      },
      {
        name: "config|help", arity: 2, flags: "loading stale", group: "server", since: "5.0.0",
        summary: "Show helpful text about the different subcommands", complexity: "O(1)",
        handler: configHelpCommand,
      },
      {
        name: "config|rewrite", arity: 2, flags: "admin noscript loading stale", group: "server", since: "2.8.0",
        summary: "Rewrite the configuration file with the in memory configuration", complexity: "O(1)",
        handler: configRewriteCommand,
      },
      {
        name: "config|set", arity: -4, flags: "admin noscript loading stale", group: "server", since: "2.0.0",
        summary: "Set configuration parameters to the given values",
        complexity: "O(N) when N is the number of configuration parameters provided",
        tips: ["request_policy:all_nodes", "response_policy:all_succeeded"],
        history: [["7.0.0", "Added the ability to set multiple parameters in one call."]],
        arguments: [
          {
            name: "parameter_value", type: "block", flags: ["multiple"],
            arguments: [
              { name: "parameter", type: "string" },
              { name: "value", type: "string" },
            ],
          },
        ],
        handler: configSetCommand,
      },
    ],
  },
];
