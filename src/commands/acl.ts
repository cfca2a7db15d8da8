// ACL and its subcommands (Redis's aclCommand) over the users registry in src/acl/acl.ts:
// SETUSER GETUSER DELUSER LIST USERS WHOAMI CAT GENPASS LOG DRYRUN LOAD SAVE HELP.

import type { CommandDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import { cString, subcommandSyntaxError, wrongArity } from "../resp/errors.ts";
import { ACL_CATEGORIES } from "./table.ts";
import { categoryBit } from "../acl/commands-index.ts";
import { checkCommand, denied } from "../acl/check.ts";
import { Denial } from "../acl/log.ts";
import { hasSpaces, type Selector } from "../acl/selector.ts";
import { NO_ACLFILE } from "../acl/acl.ts";
import { parseIntArg } from "./args.ts";

const OK = new TextEncoder().encode("+OK\r\n");

/** ACL SETUSER username [rule ...] */
function setuserCommand(c: Client): void {
  const argv = c.argv;
  // The rules may hold passwords: none of them reaches MONITOR or the slow log.
  for (let i = 2; i < argv.count; i++) c.server.monitors.redact(i);
  const name = argv.str(2);
  if (hasSpaces(name)) return c.w.addError("ERR Usernames can't contain spaces or null characters");
  const rules: string[] = [];
  for (let i = 3; i < argv.count; i++) rules.push(argv.str(i));
  const err = c.server.acl.setUser(name, rules);
  if (err !== null) return c.w.addError(err);
  c.w.addRaw(OK);
}

/** ACL GETUSER username: flags, passwords, the root selector's rules, then the other selectors. */
function getuserCommand(c: Client): void {
  const acl = c.server.acl;
  const u = acl.users.get(c.argv.str(2));
  const w = c.w;
  if (u === undefined) return w.addNull();
  w.addMapLen(6);
  w.addBulkLatin1("flags");
  const flags = u.flagNames();
  w.addSetLen(flags.length);
  for (const f of flags) w.addBulkLatin1(f);
  w.addBulkLatin1("passwords");
  w.addArrayLen(u.passwords.length);
  for (const p of u.passwords) w.addBulkLatin1(p);
  addSelectorFields(c, u.root);
  w.addBulkLatin1("selectors");
  w.addArrayLen(u.selectors.length - 1);
  for (let i = 1; i < u.selectors.length; i++) {
    w.addMapLen(3);
    addSelectorFields(c, u.selectors[i]!);
  }
}

function addSelectorFields(c: Client, s: Selector): void {
  const w = c.w;
  w.addBulkLatin1("commands");
  w.addBulkLatin1(s.describeCommands(c.server.acl.index));
  w.addBulkLatin1("keys");
  w.addBulkLatin1(s.describeKeys());
  w.addBulkLatin1("channels");
  w.addBulkLatin1(s.describeChannels());
}

/** ACL DELUSER username [username ...]: how many existed; their connections are closed. */
function deluserCommand(c: Client): void {
  const argv = c.argv;
  for (let i = 2; i < argv.count; i++) {
    if (argv.str(i) === "default") return c.w.addError("ERR The 'default' user cannot be removed");
  }
  let deleted = 0;
  for (let i = 2; i < argv.count; i++) if (c.server.acl.deleteUser(argv.str(i))) deleted++;
  c.w.addInteger(deleted);
}

/** ACL LIST: every user as an ACL file line. */
function listCommand(c: Client): void {
  const acl = c.server.acl;
  const users = acl.sortedUsers();
  c.w.addArrayLen(users.length);
  for (const u of users) c.w.addBulkLatin1(acl.userLine(u));
}

/** ACL USERS */
function usersCommand(c: Client): void {
  const users = c.server.acl.sortedUsers();
  c.w.addArrayLen(users.length);
  for (const u of users) c.w.addBulkLatin1(u.name);
}

/** ACL WHOAMI */
function whoamiCommand(c: Client): void {
  c.w.addBulkLatin1(c.user.name);
}

/** ACL CAT [category]: the categories, or the commands (and subcommands) in one. */
function catCommand(c: Client): void {
  const argv = c.argv;
  const w = c.w;
  if (argv.count > 3) return w.addError(subcommandSyntaxError(argv.str(1), "acl"));
  if (argv.count === 2) {
    w.addArrayLen(ACL_CATEGORIES.length);
    for (const cat of ACL_CATEGORIES) w.addBulkLatin1(cat);
    return;
  }
  const bit = categoryBit(argv.str(2));
  if (bit === 0) return w.addError(`ERR Unknown category '${cString(argv.str(2), 128)}'`);
  const index = c.server.acl.index;
  const names: string[] = [];
  for (let id = 0; id < index.size; id++) if (index.categoryBits[id]! & bit) names.push(index.all[id]!.fullName);
  w.addArrayLen(names.length);
  for (const n of names) w.addBulkLatin1(n);
}

/** Redis's GENPASS_MAX_BITS. */
const GENPASS_MAX_BITS = 4096;

/** ACL GENPASS [bits]: random hex, 256 bits unless told, rounded up to whole hex digits. */
function genpassCommand(c: Client): void {
  const argv = c.argv;
  if (argv.count > 3) return c.w.addError(subcommandSyntaxError(argv.str(1), "acl"));
  let bits = 256;
  if (argv.count === 3) {
    const n = parseIntArg(c, 2);
    if (n === null) return;
    bits = n;
  }
  if (bits <= 0 || bits > GENPASS_MAX_BITS) {
    return c.w.addError(
      `ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to ${GENPASS_MAX_BITS}`,
    );
  }
  const chars = Math.floor((bits + 3) / 4);
  const bytes = crypto.getRandomValues(new Uint8Array(Math.ceil(chars / 2)));
  c.w.addBulkLatin1(Buffer.from(bytes).toString("hex").slice(0, chars));
}

/** ACL LOG [count | RESET] */
function logCommand(c: Client): void {
  const argv = c.argv;
  const log = c.server.acl.log;
  if (argv.count > 3) return c.w.addError(subcommandSyntaxError(argv.str(1), "acl"));
  let count = 10;
  if (argv.count === 3) {
    if (argv.is(2, "reset")) {
      log.reset();
      return c.w.addRaw(OK);
    }
    const n = parseIntArg(c, 2);
    if (n === null) return;
    count = Math.max(n, 0);
  }
  log.reply(c.w, count);
}

/** ACL DRYRUN username command [arg ...]: whether the user could run it, without running it. */
function dryrunCommand(c: Client): void {
  const argv = c.argv;
  const server = c.server;
  const u = server.acl.users.get(argv.str(2));
  if (u === undefined) return c.w.addError(`ERR User '${cString(argv.str(2), Infinity)}' not found`);
  let cmd = server.commands.lookup(argv.buf, argv.start[3]!, argv.len[3]!);
  if (cmd !== undefined && cmd.subcommands !== null && argv.count > 4) cmd = cmd.subcommands.get(argv.lower(4));
  if (cmd === undefined) return c.w.addError(`ERR Command '${cString(argv.str(3), Infinity)}' not found`);
  const argc = argv.count - 3;
  if ((cmd.arity > 0 && cmd.arity !== argc) || argc < -cmd.arity) return c.w.addError(wrongArity(cmd.fullName));
  const reason = checkCommand(server.acl.index, u, cmd, argv, 3, argc);
  if (reason === Denial.None) return c.w.addRaw(OK);
  if (reason === Denial.Command) return c.w.addBulkLatin1(`This user has no permissions to run the '${cmd.fullName}' command`);
  const what = reason === Denial.Key ? "key" : "channel";
  c.w.addBulkLatin1(`This user has no permissions to access the '${argv.str(3 + denied.pos)}' ${what}`);
}

/** ACL LOAD: the aclfile's users replace the current ones, or nothing changes. */
function loadCommand(c: Client): void {
  const path = c.server.config.aclfile;
  if (path === "") return c.w.addError(NO_ACLFILE);
  const errors = c.server.acl.loadFile(path);
  if (errors !== null) return c.w.addError(`ERR ${errors}`);
  c.w.addRaw(OK);
}

/** ACL SAVE */
function saveCommand(c: Client): void {
  const path = c.server.config.aclfile;
  if (path === "") return c.w.addError(NO_ACLFILE);
  if (c.server.acl.saveFile(path)) return c.w.addRaw(OK);
  c.w.addError("ERR There was an error trying to save the ACLs. Please check the server logs for more information");
}

const ACL_HELP = [
  "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "CAT [<category>]",
  "    List all commands that belong to <category>, or all command categories",
  "    when no category is specified.",
  "DELUSER <username> [<username> ...]",
  "    Delete a list of users.",
  "DRYRUN <username> <command> [<arg> ...]",
  "    Returns whether the user can execute the given command without executing the command.",
  "GETUSER <username>",
  "    Get the user's details.",
  "GENPASS [<bits>]",
  "    Generate a secure 256-bit user password. The optional `bits` argument can",
  "    be used to specify a different size.",
  "LIST",
  "    Show users details in config file format.",
  "LOAD",
  "    Reload users from the ACL file.",
  "LOG [<count> | RESET]",
  "    Show the ACL log entries.",
  "SAVE",
  "    Save the current config to the ACL file.",
  "SETUSER <username> <attribute> [<attribute> ...]",
  "    Create or modify a user with the specified attributes.",
  "USERS",
  "    List all the registered usernames.",
  "WHOAMI",
  "    Return the current connection username.",
  "HELP",
  "    Prints this help.",
];

/** ACL HELP */
function helpCommand(c: Client): void {
  c.w.addHelp(ACL_HELP);
}

const ADMIN = "admin noscript loading stale";

export const aclCommands: CommandDef[] = [
  {
    name: "acl", arity: -2, flags: "", group: "server", since: "6.0.0",
    summary: "A container for Access List Control commands ", complexity: "Depends on subcommand.",
    subcommands: [
      {
        name: "acl|dryrun", arity: -4, flags: ADMIN, group: "server", since: "7.0.0",
        summary: "Returns whether the user can execute the given command without executing the command.", complexity: "O(1).",
        arguments: [
          { name: "username", type: "string" },
          { name: "command", type: "string" },
          { name: "arg", type: "string", flags: ["optional", "multiple"] },
        ],
        handler: dryrunCommand,
      },
      {
        name: "acl|help", arity: 2, flags: "loading stale", group: "server", since: "6.0.0",
        summary: "Show helpful text about the different subcommands", complexity: "O(1)",
        handler: helpCommand,
      },
      {
        name: "acl|getuser", arity: 3, flags: ADMIN, group: "server", since: "6.0.0",
        summary: "Get the rules for a specific ACL user",
        complexity: "O(N). Where N is the number of password, command and pattern rules that the user has.",
        history: [
          ["6.2.0", "Added Pub/Sub channel patterns."],
          ["7.0.0", "Added selectors and changed the format of key and channel patterns from a list to their rule representation."],
        ],
        arguments: [{ name: "username", type: "string" }],
        handler: getuserCommand,
      },
      {
        name: "acl|setuser", arity: -3, flags: ADMIN, group: "server", since: "6.0.0",
        summary: "Modify or create the rules for a specific ACL user", complexity: "O(N). Where N is the number of rules provided.",
        history: [
          ["6.2.0", "Added Pub/Sub channel patterns."],
          ["7.0.0", "Added selectors and key based permissions."],
        ],
        arguments: [
          { name: "username", type: "string" },
          { name: "rule", type: "string", flags: ["optional", "multiple"] },
        ],
        handler: setuserCommand,
      },
      {
        name: "acl|list", arity: 2, flags: ADMIN, group: "server", since: "6.0.0",
        summary: "List the current ACL rules in ACL config file format", complexity: "O(N). Where N is the number of configured users.",
        handler: listCommand,
      },
      {
        name: "acl|cat", arity: -2, flags: "noscript loading stale", group: "server", since: "6.0.0",
        summary: "List the ACL categories or the commands inside a category",
        complexity: "O(1) since the categories and commands are a fixed set.",
        arguments: [{ name: "categoryname", type: "string", flags: ["optional"] }],
        handler: catCommand,
      },
      {
        name: "acl|whoami", arity: 2, flags: "noscript loading stale", group: "server", since: "6.0.0",
        summary: "Return the name of the user associated to the current connection", complexity: "O(1)",
        handler: whoamiCommand,
      },
      {
        name: "acl|deluser", arity: -3, flags: ADMIN, group: "server", since: "6.0.0",
        summary: "Remove the specified ACL users and the associated rules", complexity: "O(1) amortized time considering the typical user.",
        arguments: [{ name: "username", type: "string", flags: ["multiple"] }],
        handler: deluserCommand,
      },
      {
        name: "acl|save", arity: 2, flags: ADMIN, group: "server", since: "6.0.0",
        summary: "Save the current ACL rules in the configured ACL file", complexity: "O(N). Where N is the number of configured users.",
        handler: saveCommand,
      },
      {
        name: "acl|users", arity: 2, flags: ADMIN, group: "server", since: "6.0.0",
        summary: "List the username of all the configured ACL rules", complexity: "O(N). Where N is the number of configured users.",
        handler: usersCommand,
      },
      {
        name: "acl|log", arity: -2, flags: ADMIN, group: "server", since: "6.0.0",
        summary: "List latest events denied because of ACLs in place", complexity: "O(N) with N being the number of entries shown.",
        arguments: [
          {
            name: "operation", type: "oneof", flags: ["optional"],
            arguments: [
              { name: "count", type: "integer" },
              { name: "reset", type: "pure-token", token: "RESET" },
            ],
          },
        ],
        handler: logCommand,
      },
      {
        name: "acl|genpass", arity: -2, flags: "noscript loading stale", group: "server", since: "6.0.0",
        summary: "Generate a pseudorandom secure password to use for ACL users", complexity: "O(1)",
        arguments: [{ name: "bits", type: "integer", flags: ["optional"] }],
        handler: genpassCommand,
      },
      {
        name: "acl|load", arity: 2, flags: ADMIN, group: "server", since: "6.0.0",
        summary: "Reload the ACLs from the configured ACL file", complexity: "O(N). Where N is the number of configured users.",
        handler: loadCommand,
      },
    ],
  },
];
