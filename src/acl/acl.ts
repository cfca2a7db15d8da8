// The users registry (Redis's acl.c globals): the users by name, the default user every
// connection starts as, authentication, the checks the dispatcher asks for, the ACL log,
// and the users' persistence (`user` directives in redis.conf, or an aclfile in the same
// format, loaded at start-up and by ACL LOAD, written by ACL SAVE).

import { readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { resolve as resolvePath } from "node:path";
import type { Server } from "../server/server.ts";
import type { Client } from "../server/client.ts";
import type { Command } from "../commands/table.ts";
import { clientInfoLine } from "../commands/connection.ts";
import { strerror } from "../config/params.ts";
import { AclCommands } from "./commands-index.ts";
import { checkCommand, denied, hasUnrestrictedKeyAccess } from "./check.ts";
import { AclLog, Denial } from "./log.ts";
import { KEY_READ, RuleError, channelAllowedBy, hasSpaces } from "./selector.ts";
import { User, mergeSelectorArgs } from "./user.ts";

/** Redis's error when ACL LOAD or ACL SAVE is used without an aclfile. */
export const NO_ACLFILE =
  "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.";

/** What a script's denied redis.call raises, by reason. */
const SCRIPT_REASONS: Record<number, string> = {
  [Denial.Command]: "The user executing the script can't run this command or subcommand",
  [Denial.Key]: "The user executing the script can't access at least one of the keys mentioned in the command arguments",
  [Denial.Channel]: "The user executing the script can't publish to the channel mentioned in the command",
};
const NOPERM_KEY = "NOPERM this user has no permissions to access one of the keys used as arguments";
const NOPERM_CHANNEL = "NOPERM this user has no permissions to access one of the channels used as arguments";

/** Why EXEC refuses a queued command the rules no longer allow (Redis's execCommand). */
const EXEC_REASONS = [
  "",
  "no permission to execute the command or subcommand",
  "no permission to touch the specified keys",
  "no permission",
  "no permission to access one of the channels used as arguments",
];

export class Acl {
  private readonly server: Server;
  readonly index: AclCommands;
  readonly users = new Map<string, User>();
  /** The user every connection starts as; never deleted, ACL LOAD copies into it. */
  readonly defaultUser: User;
  /**
   * The default user has a password or is off: connections that did not authenticate
   * must (Redis's authRequired). Kept in step with every change to the default user.
   */
  defaultNeedsAuth = false;
  readonly log = new AclLog();

  constructor(server: Server) {
    this.server = server;
    this.index = new AclCommands(server.commands);
    this.defaultUser = this.newDefaultUser();
    this.users.set("default", this.defaultUser);
    if (server.config.requirepass !== "") this.setDefaultPassword(server.config.requirepass);
    server.config.onChange("requirepass", () => this.setDefaultPassword(server.config.requirepass));
    server.config.userLines = () => this.sortedUsers().map((u) => this.userLine(u));
  }

  private get pubsubDefault(): boolean {
    return this.server.config.aclPubsubDefault === "allchannels";
  }

  /** A user with no rules, as ACL SETUSER creates it. */
  newUser(name: string): User {
    return new User(name, this.index.size, this.pubsubDefault);
  }

  /** Redis's ACLCreateDefaultUser: everything allowed, no password. */
  private newDefaultUser(): User {
    const u = this.newUser("default");
    for (const rule of ["+@all", "~*", "&*", "on", "nopass"]) u.apply(rule, this.index, false);
    return u;
  }

  /** `requirepass`: the default user's only password, or nopass when empty. */
  setDefaultPassword(password: string): void {
    const u = this.defaultUser;
    u.apply("resetpass", this.index, false);
    u.apply(password === "" ? "nopass" : `>${password}`, this.index, false);
    this.defaultChanged();
  }

  /** Call after any change to the default user. */
  defaultChanged(): void {
    const u = this.defaultUser;
    this.defaultNeedsAuth = !u.nopass || !u.enabled;
  }

  applyRule(u: User, rule: string): string | null {
    return u.apply(rule, this.index, this.pubsubDefault);
  }

  // -------------------------------------------------------------------------------------
  // Authentication
  // -------------------------------------------------------------------------------------

  /**
   * AUTH and HELLO AUTH (Redis's ACLAuthenticateUser): on success the connection runs as
   * the user; a failure is logged and leaves the connection as it was.
   */
  authenticate(c: Client, username: string, password: string): boolean {
    const u = this.users.get(username);
    if (u !== undefined && u.checkPassword(password)) {
      c.authenticated = true;
      c.user = u;
      return true;
    }
    this.addLogEntry(c, Denial.Auth, c.argv.str(0), username);
    return false;
  }

  /** A connection as it starts (and after RESET): the default user, authenticated if it needs no password. */
  resetClient(c: Client): void {
    c.user = this.defaultUser;
    c.authenticated = !this.defaultNeedsAuth;
  }

  // -------------------------------------------------------------------------------------
  // Checks
  // -------------------------------------------------------------------------------------

  /**
   * The dispatcher's check for a restricted user: null when the command may run, else
   * the NOPERM error, after logging the denial.
   */
  denial(c: Client, cmd: Command): string | null {
    const argv = c.argv;
    const reason = checkCommand(this.index, c.user, cmd, argv, 0, argv.count);
    if (reason === Denial.None) return null;
    this.logDenial(c, cmd, reason, c.multi !== null ? "multi" : "toplevel");
    if (reason === Denial.Command) return `NOPERM this user has no permissions to run the '${cmd.fullName}' command`;
    return reason === Denial.Key ? NOPERM_KEY : NOPERM_CHANNEL;
  }

  /** A script's redis.call (Redis's scriptVerifyACL): logged in the "lua" context, with the script's texts. */
  scriptDenial(c: Client, cmd: Command): string | null {
    const argv = c.argv;
    const reason = checkCommand(this.index, c.user, cmd, argv, 0, argv.count);
    if (reason === Denial.None) return null;
    this.logDenial(c, cmd, reason, "lua");
    return `ERR ${SCRIPT_REASONS[reason]}`;
  }

  /** EXEC's second check of a queued command, as the rules may have changed since it was queued. */
  execDenial(c: Client, cmd: Command): string | null {
    const argv = c.argv;
    const reason = checkCommand(this.index, c.user, cmd, argv, 0, argv.count);
    if (reason === Denial.None) return null;
    this.logDenial(c, cmd, reason, "multi");
    return `NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: ${EXEC_REASONS[reason]}`;
  }

  /**
   * Whether the running command may read any key at all (SORT ... BY pattern / GET
   * pattern, which read keys their key specs do not name).
   */
  readsEveryKey(c: Client): boolean {
    return hasUnrestrictedKeyAccess(this.index, c.user, c.lastCommand!, c.argv, KEY_READ);
  }

  private logDenial(c: Client, cmd: Command, reason: Denial, context: string): void {
    const object = reason === Denial.Command ? cmd.fullName : c.argv.str(denied.pos);
    this.addLogEntry(c, reason, object, c.user.name, context);
  }

  private addLogEntry(c: Client, reason: Denial, object: string, username: string, context = c.multi !== null ? "multi" : "toplevel"): void {
    const info = clientInfoLine(c, c).trimEnd();
    this.log.add(reason, context, object, username, info, this.server.config.acllogMaxLen);
  }

  // -------------------------------------------------------------------------------------
  // Changing users
  // -------------------------------------------------------------------------------------

  /**
   * ACL SETUSER's rules applied all or nothing: null, or the error to reply. A user whose
   * channel permissions shrink loses its pub/sub connections that use a revoked channel.
   */
  setUser(name: string, rules: string[]): string | null {
    const merged = mergeSelectorArgs(rules);
    if (typeof merged === "number") return `ERR Unmatched parenthesis in acl selector starting at '${rules[merged]}'.`;
    const existing = this.users.get(name);
    const staged = existing?.clone() ?? this.newUser(name);
    for (const rule of merged) {
      const err = this.applyRule(staged, rule);
      if (err !== null) return `ERR Error in ACL SETUSER modifier '${rule}': ${err}`;
    }
    if (existing === undefined) {
      this.users.set(name, staged);
      return null;
    }
    this.killRevokedSubscribers(staged, existing);
    staged.copyInto(existing);
    if (existing === this.defaultUser) this.defaultChanged();
    return null;
  }

  /** ACL DELUSER: the users go, and the connections authenticated as them are closed. */
  deleteUser(name: string): boolean {
    const u = this.users.get(name);
    if (u === undefined || u === this.defaultUser) return false;
    this.users.delete(name);
    this.disconnectUsersOf(new Set([u]));
    return true;
  }

  /** Close every connection running as one of `users` (Redis's ACLFreeUserAndKillClients). */
  private disconnectUsersOf(users: Set<User>): void {
    for (const c of [...this.server.clients.values()]) {
      if (!users.has(c.user)) continue;
      c.user = this.defaultUser;
      c.authenticated = false;
      this.closeSoon(c);
    }
  }

  /** Close a connection; the running command's own connection once its reply is written. */
  private closeSoon(c: Client): void {
    if (c === this.server.current) c.closeAfterReply = true;
    else this.server.closeClient(c);
  }

  /** Redis's ACLKillPubsubClientsIfNeeded, for `original` about to take the rules of `updated`. */
  private killRevokedSubscribers(updated: User, original: User): void {
    if (updated.selectors.some((s) => s.allChannels)) return;
    const upcoming = updated.selectors.flatMap((s) => s.channels);
    const kept = original.selectors.every((s) => s.channels.every((ch) => upcoming.includes(ch)));
    if (kept) return;
    for (const c of [...this.server.clients.values()]) {
      if (c.user !== original || !isSubscriber(c)) continue;
      if (!subscriptionsAllowed(c, upcoming)) this.closeSoon(c);
    }
  }

  /** The users in Redis's order (its radix tree's: by name, byte by byte). */
  sortedUsers(): User[] {
    return [...this.users.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** One user as ACL LIST and the ACL file write it. */
  userLine(u: User): string {
    return `user ${u.name} ${u.describe(this.index)}`;
  }

  // -------------------------------------------------------------------------------------
  // The ACL file and `user` directives
  // -------------------------------------------------------------------------------------

  /**
   * Redis's ACLLoadFromFile: every line must define a user; with any error nothing
   * changes and the errors are returned, on one line. Otherwise the file's users replace
   * the current ones (the default user keeps its identity and takes the file's rules, or
   * the shipped ones) and connections of the replaced users are closed.
   */
  loadFile(path: string): string | null {
    let text: string;
    try {
      text = readFileSync(this.onDisk(path), "latin1");
    } catch (e) {
      return `Error loading ACLs, opening file '${path}': ${strerror((e as NodeJS.ErrnoException).code)}`;
    }
    const fresh = new Map<string, User>();
    const errors = this.parseFile(path, text, fresh);
    if (errors !== "") return `${errors}WARNING: ACL errors detected, no change to the previously active ACL rules was performed`;
    const newDefault = fresh.get("default") ?? this.newDefaultUser();
    newDefault.copyInto(this.defaultUser);
    fresh.set("default", this.defaultUser);
    const old = new Set(this.users.values());
    old.delete(this.defaultUser);
    this.users.clear();
    for (const [name, u] of fresh) this.users.set(name, u);
    this.defaultChanged();
    this.disconnectUsersOf(old);
    return null;
  }

  /** The users of an ACL file into `into`; returns the errors found, each ending in a space. */
  private parseFile(path: string, text: string, into: Map<string, User>): string {
    let errors = "";
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
      if (line === "") continue;
      const linenum = i + 1;
      const argv = line.split(" ");
      if (argv[0] !== "user" || argv.length < 2) {
        errors += `${path}:${linenum} should start with user keyword followed by the username. `;
        continue;
      }
      const name = argv[1]!;
      if (hasSpaces(name)) {
        errors += `'${path}:${linenum}: username '${name}' contains invalid characters. `;
        continue;
      }
      if (into.has(name)) {
        errors += `WARNING: Duplicate user '${name}' found on line ${linenum}. `;
        continue;
      }
      const u = this.newUser(name);
      into.set(name, u);
      const merged = mergeSelectorArgs(argv.slice(2));
      if (typeof merged === "number") {
        errors += `${path}:${linenum}: Unmatched parenthesis in selector definition.`;
        continue;
      }
      // An unknown command is named (it is no secret); of the other errors, which may
      // quote a password, only the first of the line is told, without the rule.
      let told = false;
      for (const arg of merged) {
        const rule = arg.replace(/^[\t\r\n]+|[\t\r\n]+$/g, "");
        const err = this.applyRule(u, rule);
        if (err === RuleError.unknown) errors += `${path}:${linenum}: Error in applying operation '${rule}': ${err}. `;
        else if (err !== null && !told) {
          errors += `${path}:${linenum}: ${err}. `;
          told = true;
        }
      }
    }
    return errors;
  }

  /** A file name as the file system takes it: relative to `dir` (where Redis has chdir()ed), latin1 bytes. */
  private onDisk(path: string): Buffer {
    return Buffer.from(resolvePath(this.server.config.dir, path), "latin1");
  }

  /** ACL SAVE (Redis's ACLSaveToFile): every user, written to a temporary file renamed over the old one. */
  saveFile(path: string): boolean {
    let text = "";
    for (const u of this.sortedUsers()) text += `${this.userLine(u)}\n`;
    const tmp = this.onDisk(`${path}.tmp-${process.pid}-${Date.now()}`);
    try {
      writeFileSync(tmp, text, { encoding: "latin1", mode: 0o644 });
      renameSync(tmp, this.onDisk(path));
      return true;
    } catch (e) {
      this.server.log.warning(`Writing ACL file for ACL SAVE: ${strerror((e as NodeJS.ErrnoException).code)}`);
      try {
        unlinkSync(tmp);
      } catch {
        // Nothing was written.
      }
      return false;
    }
  }

  /**
   * Redis's ACLLoadUsersAtStartup: the `user` directives of the config, or the aclfile,
   * never both. Returns the lines to log before exiting, or null.
   */
  loadAtStartup(): string[] | null {
    const config = this.server.config;
    if (config.aclfile !== "" && config.users.length > 0) {
      return [
        "Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.",
      ];
    }
    for (const words of config.users) {
      const err = this.loadConfiguredUser(words);
      if (err !== null) return [err, "Critical error while loading ACLs. Exiting."];
    }
    if (config.aclfile !== "") {
      const errors = this.loadFile(config.aclfile);
      if (errors !== null) return [`Aborting Redis startup because of ACL errors: ${errors}`];
    }
    return null;
  }

  /** One `user name rules...` directive (Redis's ACLLoadConfiguredUsers). */
  private loadConfiguredUser(words: string[]): string | null {
    const name = words[0]!;
    if (hasSpaces(name)) return "Spaces not allowed in ACL usernames";
    let u = this.users.get(name);
    if (u === undefined) {
      u = this.newUser(name);
      this.users.set(name, u);
    } else {
      this.applyRule(u, "reset");
    }
    const merged = mergeSelectorArgs(words.slice(1));
    for (const rule of typeof merged === "number" ? [] : merged) {
      const err = this.applyRule(u, rule);
      if (err !== null) return `Error loading ACL rule '${rule}' for the user named '${name}': ${err}`;
    }
    if (!u.enabled) {
      this.server.log.notice(
        `The user '${name}' is disabled (there is no 'on' modifier in the user description). Make sure this is not a configuration error.`,
      );
    }
    if (u === this.defaultUser) this.defaultChanged();
    return null;
  }
}

function isSubscriber(c: Client): boolean {
  return (c.channels?.size ?? 0) + (c.patterns?.size ?? 0) + (c.shardChannels?.size ?? 0) > 0;
}

/** Whether every subscription of `c` is still allowed by the channel patterns `upcoming`. */
function subscriptionsAllowed(c: Client, upcoming: string[]): boolean {
  for (const p of c.patterns ?? []) if (!channelAllowedBy(upcoming, p, true)) return false;
  for (const ch of c.channels ?? []) if (!channelAllowedBy(upcoming, ch, false)) return false;
  for (const ch of c.shardChannels ?? []) if (!channelAllowedBy(upcoming, ch, false)) return false;
  return true;
}

/**
 * Checks a `user` directive while the config loads (Redis's ACLAppendUserForLoading): the
 * rules must apply to a scratch user, unknown commands aside. Redis names the argument at
 * fault by its index among the rules but reads it from the whole line, so its message
 * shows the word that many places earlier; redbun shows the same word.
 */
export class UserDirectiveCheck {
  private readonly seen = new Set<string>();
  private index: AclCommands | null = null;
  private readonly makeIndex: () => AclCommands;

  constructor(makeIndex: () => AclCommands) {
    this.makeIndex = makeIndex;
  }

  /** `words` are the directive's words after "user"; returns the config error, or null. */
  check(words: string[]): string | null {
    const line = ["user", ...words];
    const fail = (at: number, why: string) => `Error in user declaration '${line[at]}': ${why}`;
    if (this.seen.has(words[0]!)) return fail(1, "Duplicate user found. A user can only be defined once in config files");
    this.index ??= this.makeIndex();
    const scratch = new User("", this.index.size, false);
    const merged = mergeSelectorArgs(words.slice(1));
    // Redis reports an unclosed selector with whatever errno was left over: in practice ENOENT's text.
    if (typeof merged === "number") return fail(merged, RuleError.unknown);
    for (let j = 0; j < merged.length; j++) {
      const err = scratch.apply(merged[j]!, this.index, false);
      if (err !== null && err !== RuleError.unknown) return fail(j, err);
    }
    this.seen.add(words[0]!);
    return null;
  }
}
