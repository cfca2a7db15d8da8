// The permission check (Redis's ACLCheckAllUserCommandPerm): a command runs when any of the
// user's selectors allows the command itself, every key it names with the access it makes
// (key-spec flags ACCESS -> read, INSERT/DELETE/UPDATE -> write) and every channel it
// publishes or subscribes to. The dispatcher only calls this for restricted users.

import type { Argv } from "../resp/parser.ts";
import { CMD, type Command } from "../commands/table.ts";
import { keysFromSpecs, type KeyRef } from "../commands/command.ts";
import { type AclCommands, ChannelArgs, KeySource } from "./commands-index.ts";
import { Denial } from "./log.ts";
import { KEY_READ, KEY_WRITE, type Selector } from "./selector.ts";
import type { User } from "./user.ts";

/**
 * Key-spec flag bits as keysFromSpecs reports them (command.ts's KEY_FLAG_NAMES order:
 * RO RW OW RM access update insert delete).
 */
const SPEC_ACCESS = 1 << 4;
const SPEC_WRITES = (1 << 5) | (1 << 6) | (1 << 7);

/** The result of the last denied check: the argument (relative to the command name) at fault. */
export const denied = { pos: 0 };

/** The keys of one command line, found once and shared by the selectors. */
class KeyCache {
  found = false;
  readonly positions: number[] = [];
  /** Per key: the permissions (KEY_READ | KEY_WRITE) its access needs. */
  readonly needs: number[] = [];
  private readonly refs: KeyRef[] = [];

  reset(): void {
    this.found = false;
    this.positions.length = 0;
    this.needs.length = 0;
  }

  find(index: AclCommands, id: number, cmd: Command, argv: Argv, base: number, argc: number): void {
    this.found = true;
    const source = index.keySource[id];
    if (source === KeySource.Specs) {
      this.refs.length = 0;
      if (keysFromSpecs(cmd, argv, base, argc, this.refs)) {
        for (const r of this.refs) this.push(r.pos, specNeeds(r.flags));
        return;
      }
    }
    const getKeys = cmd.def.getKeys;
    if (getKeys === undefined) return;
    for (const k of getKeys(argv, base, argc)) this.push(k.pos, wordNeeds(k.flags));
  }

  private push(pos: number, needs: number): void {
    this.positions.push(pos);
    this.needs.push(needs);
  }
}

function specNeeds(flags: number): number {
  return (flags & SPEC_ACCESS ? KEY_READ : 0) | (flags & SPEC_WRITES ? KEY_WRITE : 0);
}

function wordNeeds(words: string): number {
  let needs = 0;
  for (const w of words.toLowerCase().split(" ")) {
    if (w === "access") needs |= KEY_READ;
    else if (w === "insert" || w === "delete" || w === "update") needs |= KEY_WRITE;
  }
  return needs;
}

const keyCache = new KeyCache();

/**
 * Whether `user` may run `cmd` with the arguments argv[base..base+argc). Returns
 * Denial.None, or the most relevant denial over the selectors (a channel before a key
 * before the command; the later argument on a tie), with its argument in `denied.pos`.
 */
export function checkCommand(index: AclCommands, user: User, cmd: Command, argv: Argv, base: number, argc: number): Denial {
  keyCache.reset();
  let relevant = Denial.Command;
  let lastPos = 0;
  for (const s of user.selectors) {
    const result = checkSelector(index, s, cmd, argv, base, argc);
    if (result === Denial.None) return Denial.None;
    if (result > relevant || (result === relevant && denied.pos > lastPos)) {
      relevant = result;
      lastPos = denied.pos;
    }
  }
  denied.pos = lastPos;
  return relevant;
}

/** Redis's ACLSelectorCheckCmd. */
function checkSelector(index: AclCommands, s: Selector, cmd: Command, argv: Argv, base: number, argc: number): Denial {
  const id = index.id(cmd);
  denied.pos = 0;
  // AUTH, HELLO, QUIT and RESET run whatever the rules say.
  if (!s.allCommands && !(cmd.flags & CMD.no_auth)) {
    const at = cmd.parent === null ? 1 : 2;
    const firstArg = argc >= 2 && at < argc ? argv.str(base + at) : null;
    if (!s.allowsCommand(id, firstArg)) return Denial.Command;
  }
  if (!s.allKeys && index.keySource[id] !== KeySource.None) {
    if (!keyCache.found) keyCache.find(index, id, cmd, argv, base, argc);
    for (let j = 0; j < keyCache.positions.length; j++) {
      const pos = keyCache.positions[j]!;
      if (!s.allowsKey(argv.str(base + pos), keyCache.needs[j]!)) {
        denied.pos = pos;
        return Denial.Key;
      }
    }
  }
  const channels = index.channelArgs[id]!;
  if (!s.allChannels && channels !== ChannelArgs.None) {
    const last = channels === ChannelArgs.First ? Math.min(1, argc - 1) : argc - 1;
    const literal = channels === ChannelArgs.AllPatterns;
    for (let j = 1; j <= last; j++) {
      if (!s.allowsChannel(argv.str(base + j), literal)) {
        denied.pos = j;
        return Denial.Channel;
      }
    }
  }
  return Denial.None;
}

/**
 * Redis's ACLUserCheckCmdWithUnrestrictedKeyAccess: whether a selector that allows the
 * command also grants `needs` on every key ("~*", "%R~*" or allkeys). SORT's BY and GET
 * patterns read keys no key spec names, so Redis allows them only then.
 */
export function hasUnrestrictedKeyAccess(index: AclCommands, user: User, cmd: Command, argv: Argv, needs: number): boolean {
  if (user.unrestricted) return true;
  keyCache.reset();
  for (const s of user.selectors) {
    if (checkSelector(index, s, cmd, argv, 0, argv.count) === Denial.None && s.allowsEveryKey(needs)) return true;
  }
  return false;
}
