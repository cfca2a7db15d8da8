// An ACL selector (Redis's aclSelector): which commands, keys and channels one set of rules
// allows. Every user has a root selector (the rules given outside parentheses) and may have
// more, written `(...)`; a command runs when any of them allows it.
//
// Commands are a bitmap over the ids of AclCommands. As in Redis the rules are not kept:
// ACL LIST describes the bitmap again, starting from +@all or -@all and adding the
// categories that fit best, then single commands (Redis's ACLDescribeSelectorCommandRules).

import { globMatch } from "../util/glob.ts";
import { ACL_CATEGORIES } from "../commands/table.ts";
import { type AclCommands, categoryBit } from "./commands-index.ts";

/** Key pattern permissions (%R~, %W~; ~ is both). */
export const KEY_READ = 1;
export const KEY_WRITE = 2;
const KEY_ALL = KEY_READ | KEY_WRITE;

export interface KeyPattern {
  pattern: string;
  flags: number;
}

/** Why ACL SETUSER refused a rule: Redis's ACLSetUserStringError texts, by the errno it sets. */
export const RuleError = {
  unknown: "Unknown command or category name in ACL",
  syntax: "Syntax error",
  keysAfterAll:
    "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
  channelsAfterAll:
    "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
  noSuchPassword: "The password you are trying to remove from the user does not exist",
  badHash: "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
  firstArgOfSubcommand: "Allowing first-arg of a subcommand is not supported",
} as const;

/** Redis's ACLStringHasSpaces: isspace() or NUL anywhere. */
export function hasSpaces(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 32 || (c >= 9 && c <= 13) || c === 0) return true;
  }
  return false;
}

export class Selector {
  readonly root: boolean;
  allKeys = false;
  allChannels = false;
  /** Every command allowed with no bit to test (cleared as soon as one bit is cleared). */
  allCommands = false;
  /** Set by +@all, cleared by -@all: Redis's reserved "future commands" bit, which decides how ACL LIST starts. */
  future = false;
  /** Per command id: 1 when allowed. */
  allowed: Uint8Array;
  /** Per command id: the first arguments allowed for an otherwise denied command (+select|0). */
  firstArgs: Map<number, string[]> | null = null;
  keys: KeyPattern[] = [];
  channels: string[] = [];

  constructor(commandCount: number, root: boolean, allChannels: boolean) {
    this.root = root;
    this.allowed = new Uint8Array(commandCount);
    this.allChannels = allChannels;
  }

  clone(): Selector {
    const s = new Selector(0, this.root, this.allChannels);
    s.allKeys = this.allKeys;
    s.allCommands = this.allCommands;
    s.future = this.future;
    s.allowed = this.allowed.slice();
    if (this.firstArgs !== null) s.firstArgs = new Map([...this.firstArgs].map(([id, args]) => [id, [...args]]));
    s.keys = this.keys.map((k) => ({ ...k }));
    s.channels = [...this.channels];
    return s;
  }

  /**
   * Apply one rule (Redis's ACLSetSelector). Returns null, or the RuleError text when the
   * rule is invalid, in which case the selector may be partly changed: callers work on a copy.
   */
  apply(op: string, index: AclCommands): string | null {
    const lower = op.toLowerCase();
    if (lower === "allkeys" || lower === "~*") {
      this.allKeys = true;
      this.keys = [];
    } else if (lower === "resetkeys") {
      this.allKeys = false;
      this.keys = [];
    } else if (lower === "allchannels" || lower === "&*") {
      this.allChannels = true;
      this.channels = [];
    } else if (lower === "resetchannels") {
      this.allChannels = false;
      this.channels = [];
    } else if (lower === "allcommands" || lower === "+@all") {
      this.allowed.fill(1);
      this.allCommands = this.future = true;
      this.firstArgs = null;
    } else if (lower === "nocommands" || lower === "-@all") {
      this.allowed.fill(0);
      this.allCommands = this.future = false;
      this.firstArgs = null;
    } else if (op[0] === "~" || op[0] === "%") {
      return this.addKeyPattern(op);
    } else if (op[0] === "&") {
      return this.addChannel(op.slice(1));
    } else if (op[0] === "+" && op[1] !== "@") {
      return this.allowCommand(op.slice(1), index);
    } else if (op[0] === "-" && op[1] !== "@") {
      const cmd = index.lookup(op.slice(1));
      if (cmd === undefined) return RuleError.unknown;
      this.changePerm(index.id(cmd), false, index);
    } else if ((op[0] === "+" || op[0] === "-") && op[1] === "@") {
      const bit = categoryBit(op.slice(2));
      if (bit === 0) return RuleError.unknown;
      this.setCategory(bit, op[0] === "+", index);
    } else {
      return RuleError.syntax;
    }
    return null;
  }

  /** ~pattern, or %R~ / %W~ / %RW~ with the permissions spelled before the ~. */
  private addKeyPattern(op: string): string | null {
    if (this.allKeys) return RuleError.keysAfterAll;
    let flags = 0;
    let offset = 1;
    if (op[0] === "%") {
      for (; offset < op.length; offset++) {
        const c = op[offset]!.toUpperCase();
        if (c === "R" && !(flags & KEY_READ)) flags |= KEY_READ;
        else if (c === "W" && !(flags & KEY_WRITE)) flags |= KEY_WRITE;
        else if (op[offset] === "~") {
          offset++;
          break;
        } else return RuleError.syntax;
      }
    } else {
      flags = KEY_ALL;
    }
    const pattern = op.slice(offset);
    if (hasSpaces(pattern)) return RuleError.syntax;
    const existing = this.keys.find((k) => k.pattern === pattern);
    if (existing === undefined) this.keys.push({ pattern, flags });
    else existing.flags |= flags;
    this.allKeys = false;
    return null;
  }

  private addChannel(pattern: string): string | null {
    if (this.allChannels) return RuleError.channelsAfterAll;
    if (hasSpaces(pattern)) return RuleError.syntax;
    if (!this.channels.includes(pattern)) this.channels.push(pattern);
    return null;
  }

  /** +command, +container|sub, or +command|first-arg. */
  private allowCommand(name: string, index: AclCommands): string | null {
    const bar = name.lastIndexOf("|");
    if (bar < 0) {
      const cmd = index.lookup(name);
      if (cmd === undefined) return RuleError.unknown;
      this.changePerm(index.id(cmd), true, index);
      return null;
    }
    const cmd = index.lookup(name.slice(0, bar));
    if (cmd === undefined) return RuleError.unknown;
    if (cmd.parent !== null) return RuleError.firstArgOfSubcommand;
    const firstArg = name.slice(bar + 1);
    if (firstArg === "") return RuleError.syntax;
    if (cmd.subcommands !== null) {
      const sub = index.lookup(name);
      if (sub === undefined) return RuleError.unknown;
      this.changePerm(index.id(sub), true, index);
    } else {
      this.addFirstArg(index.id(cmd), firstArg);
    }
    return null;
  }

  private addFirstArg(id: number, arg: string): void {
    this.firstArgs ??= new Map();
    const list = this.firstArgs.get(id);
    if (list === undefined) this.firstArgs.set(id, [arg]);
    else if (!list.some((a) => a.toLowerCase() === arg.toLowerCase())) list.push(arg);
  }

  private setBit(id: number, allow: boolean): void {
    this.allowed[id] = allow ? 1 : 0;
    if (!allow) this.allCommands = false;
  }

  /** Redis's ACLChangeSelectorPerm: a container's subcommands follow it. */
  changePerm(id: number, allow: boolean, index: AclCommands): void {
    this.setBit(id, allow);
    this.firstArgs?.delete(id);
    const subs = index.subIds[id];
    if (subs !== null && subs !== undefined) for (const sub of subs) this.setBit(sub, allow);
  }

  /** Every command (and subcommand) in the category, Redis's ACLSetSelectorCommandBitsForCategory. */
  setCategory(bit: number, allow: boolean, index: AclCommands): void {
    for (let id = 0; id < index.size; id++) if (index.categoryBits[id]! & bit) this.changePerm(id, allow, index);
  }

  // -------------------------------------------------------------------------------------
  // Describing (ACL LIST, ACL GETUSER, ACL SAVE)
  // -------------------------------------------------------------------------------------

  /** The command rules that rebuild this bitmap, as Redis's ACLDescribeSelectorCommandRules. */
  describeCommands(index: AclCommands): string {
    const additive = !this.future;
    const fake = new Selector(index.size, false, false);
    fake.apply(additive ? "-@all" : "+@all", index);
    let rules = additive ? "-@all " : "+@all ";
    // The categories, best fit first: each must have more commands in common with the
    // user than different, and the fewest differences (then the most in common) wins.
    const temp = new Selector(0, false, false);
    temp.allowed = this.allowed.slice();
    const applied = new Set<number>();
    for (;;) {
      let best = -1;
      let minDiff = Infinity;
      let maxSame = 0;
      for (let j = 0; j < ACL_CATEGORIES.length; j++) {
        if (applied.has(j)) continue;
        const [on, off] = temp.countCategory(1 << j, index);
        const diff = additive ? off : on;
        const same = additive ? on : off;
        if (same > diff && (diff < minDiff || (diff === minDiff && same > maxSame))) {
          best = j;
          minDiff = diff;
          maxSame = same;
        }
      }
      if (best === -1) break;
      fake.setCategory(1 << best, additive, index);
      temp.setCategory(1 << best, !additive, index);
      rules += `${additive ? "+" : "-"}@${ACL_CATEGORIES[best]} `;
      applied.add(best);
    }
    rules += this.describeSingleCommands(fake, index);
    return rules.slice(0, -1);
  }

  private countCategory(bit: number, index: AclCommands): [number, number] {
    let on = 0;
    let off = 0;
    for (let id = 0; id < index.size; id++) {
      if (!(index.categoryBits[id]! & bit)) continue;
      if (this.allowed[id]) on++;
      else off++;
    }
    return [on, off];
  }

  /** The single +cmd/-cmd rules left after the categories, then the allowed first arguments. */
  private describeSingleCommands(fake: Selector, index: AclCommands): string {
    let rules = "";
    for (let id = 0; id < index.size; id++) {
      const allowed = this.allowed[id]!;
      if (allowed !== fake.allowed[id]) {
        rules += `${allowed ? "+" : "-"}${index.all[id]!.fullName} `;
        fake.changePerm(id, allowed === 1, index);
      }
      const firstArgs = this.firstArgs?.get(id);
      if (allowed === 0 && firstArgs !== undefined) {
        for (const arg of firstArgs) rules += `+${index.all[id]!.fullName}|${arg} `;
      }
    }
    return rules;
  }

  /** The key patterns as GETUSER shows them ("~a %R~b"), or "~*". */
  describeKeys(): string {
    if (this.allKeys) return "~*";
    return this.keys.map(keyPatternText).join(" ");
  }

  /** The channel patterns as GETUSER shows them ("&a &b"), or "&*". */
  describeChannels(): string {
    if (this.allChannels) return "&*";
    return this.channels.map((c) => `&${c}`).join(" ");
  }

  /** Keys, channels and commands as ACL LIST writes them (Redis's ACLDescribeSelector). */
  describe(index: AclCommands): string {
    let out = "";
    if (this.allKeys) out += "~* ";
    else for (const k of this.keys) out += `${keyPatternText(k)} `;
    if (this.allChannels) out += "&* ";
    else {
      out += "resetchannels ";
      for (const c of this.channels) out += `&${c} `;
    }
    return out + this.describeCommands(index);
  }

  // -------------------------------------------------------------------------------------
  // Checking
  // -------------------------------------------------------------------------------------

  /** Whether the command itself is allowed, with `firstArg` its first argument or null. */
  allowsCommand(id: number, firstArg: string | null): boolean {
    if (this.allCommands || this.allowed[id] === 1) return true;
    if (firstArg === null || this.firstArgs === null) return false;
    const list = this.firstArgs.get(id);
    if (list === undefined) return false;
    const lower = firstArg.toLowerCase();
    return list.some((a) => a.toLowerCase() === lower);
  }

  /** Redis's ACLSelectorCheckKey: a pattern with the permissions the access needs matches the key. */
  allowsKey(key: string, needs: number): boolean {
    if (this.allKeys) return true;
    for (const k of this.keys) {
      if ((k.flags & needs) !== needs) continue;
      if (globMatch(k.pattern, key, false)) return true;
    }
    return false;
  }

  /** Whether every key is allowed with `needs` (Redis's ACLSelectorHasUnrestrictedKeyAccess). */
  allowsEveryKey(needs: number): boolean {
    return this.allKeys || this.keys.some((k) => (k.flags & needs) === needs && k.pattern === "*");
  }

  /** Redis's ACLCheckChannelAgainstList: a pattern argument (PSUBSCRIBE) must equal an allowed pattern. */
  allowsChannel(channel: string, literal: boolean): boolean {
    if (this.allChannels) return true;
    return channelAllowedBy(this.channels, channel, literal);
  }
}

export function channelAllowedBy(patterns: readonly string[], channel: string, literal: boolean): boolean {
  for (const p of patterns) {
    if (literal ? p === channel : globMatch(p, channel, false)) return true;
  }
  return false;
}

function keyPatternText(k: KeyPattern): string {
  const prefix = k.flags === KEY_ALL ? "~" : k.flags === KEY_READ ? "%R~" : "%W~";
  return prefix + k.pattern;
}
