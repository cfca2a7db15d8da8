// An ACL user (Redis's user struct): its on/off and nopass flags, its password hashes
// (SHA-256, hex: cleartext passwords are never kept) and its selectors, the first of which
// is the root one. Rules are applied with `apply` (Redis's ACLSetUser) and described back
// in ACL LIST's form with `describe`.

import { createHash, timingSafeEqual } from "node:crypto";
import { splitArgs } from "../config/parse.ts";
import type { AclCommands } from "./commands-index.ts";
import { RuleError, Selector } from "./selector.ts";

/** User flags, in the order Redis describes them. */
const FLAG_ON = 1;
const FLAG_OFF = 2;
const FLAG_NOPASS = 4;
const FLAG_SKIP_SANITIZE = 8;
const FLAG_SANITIZE = 16;
const FLAG_NAMES: [number, string][] = [
  [FLAG_ON, "on"],
  [FLAG_OFF, "off"],
  [FLAG_NOPASS, "nopass"],
  [FLAG_SKIP_SANITIZE, "skip-sanitize-payload"],
  [FLAG_SANITIZE, "sanitize-payload"],
];

/** The SHA-256 of a password (latin1 bytes) in lower-case hex, as Redis's ACLHashPassword. */
export function hashPassword(password: string): string {
  return createHash("sha256").update(password, "latin1").digest("hex");
}

function isPasswordHash(s: string): boolean {
  return /^[0-9a-f]{64}$/.test(s);
}

export class User {
  readonly name: string;
  flags = FLAG_OFF;
  /** SHA-256 hex digests, in the order they were added. */
  passwords: string[] = [];
  /** The root selector first, then the `(...)` ones in the order they were added. */
  selectors: Selector[];
  /**
   * Everything allowed by the root selector: all commands, all keys, all channels. The
   * dispatcher skips every permission check for such a user (the default user as shipped).
   */
  unrestricted = false;

  constructor(name: string, commandCount: number, allChannels: boolean) {
    this.name = name;
    this.selectors = [new Selector(commandCount, true, allChannels)];
  }

  get root(): Selector {
    return this.selectors[0]!;
  }

  get enabled(): boolean {
    return (this.flags & FLAG_ON) !== 0;
  }

  get nopass(): boolean {
    return (this.flags & FLAG_NOPASS) !== 0;
  }

  /** A detached copy that rules can be tried on (ACL SETUSER applies all or nothing). */
  clone(name = this.name): User {
    const u = new User(name, 0, false);
    this.copyInto(u);
    return u;
  }

  /** Make `target` hold this user's rules (Redis's ACLCopyUser), keeping its name. */
  copyInto(target: User): void {
    target.flags = this.flags;
    target.passwords = [...this.passwords];
    target.selectors = this.selectors.map((s) => s.clone());
    target.refresh();
  }

  /** Recompute what the dispatcher reads; called after every change. */
  refresh(): void {
    const root = this.root;
    this.unrestricted = root.allCommands && root.allKeys && root.allChannels;
  }

  /**
   * Apply one rule (Redis's ACLSetUser). Returns null, or the error text. `pubsubDefault`
   * is acl-pubsub-default: whether new selectors start with every channel.
   */
  apply(op: string, index: AclCommands, pubsubDefault: boolean): string | null {
    const err = this.applyRule(op, index, pubsubDefault);
    this.refresh();
    return err;
  }

  private applyRule(op: string, index: AclCommands, pubsubDefault: boolean): string | null {
    if (op === "") return null;
    const lower = op.toLowerCase();
    switch (lower) {
      case "on":
        this.flags = (this.flags | FLAG_ON) & ~FLAG_OFF;
        return null;
      case "off":
        this.flags = (this.flags | FLAG_OFF) & ~FLAG_ON;
        return null;
      case "skip-sanitize-payload":
        this.flags = (this.flags | FLAG_SKIP_SANITIZE) & ~FLAG_SANITIZE;
        return null;
      case "sanitize-payload":
        this.flags = (this.flags | FLAG_SANITIZE) & ~FLAG_SKIP_SANITIZE;
        return null;
      case "nopass":
        this.flags |= FLAG_NOPASS;
        this.passwords = [];
        return null;
      case "resetpass":
        this.flags &= ~FLAG_NOPASS;
        this.passwords = [];
        return null;
      case "clearselectors":
        this.selectors.length = 1;
        return null;
      case "reset":
        this.reset(index, pubsubDefault);
        return null;
    }
    const first = op[0];
    if (first === ">" || first === "#") return this.addPassword(first === ">" ? hashPassword(op.slice(1)) : op.slice(1));
    if (first === "<" || first === "!") return this.removePassword(first === "<" ? hashPassword(op.slice(1)) : op.slice(1));
    if (first === "(" && op[op.length - 1] === ")") return this.addSelector(op, index, pubsubDefault);
    return this.root.apply(op, index);
  }

  private addPassword(hash: string): string | null {
    if (!isPasswordHash(hash)) return RuleError.badHash;
    if (!this.passwords.includes(hash)) this.passwords.push(hash);
    this.flags &= ~FLAG_NOPASS;
    return null;
  }

  private removePassword(hash: string): string | null {
    if (!isPasswordHash(hash)) return RuleError.badHash;
    const i = this.passwords.indexOf(hash);
    if (i < 0) return RuleError.noSuchPassword;
    this.passwords.splice(i, 1);
    return null;
  }

  /** `(rule rule ...)`: a new selector from the rules between the parentheses. */
  private addSelector(op: string, index: AclCommands, pubsubDefault: boolean): string | null {
    const selector = new Selector(index.size, false, pubsubDefault);
    for (const rule of splitArgs(op.slice(1, -1)) ?? []) {
      const err = selector.apply(rule, index);
      if (err !== null) return err;
    }
    this.selectors.push(selector);
    return null;
  }

  /** `reset`: the state of a user just created, with the sanitize-payload flag. */
  private reset(index: AclCommands, pubsubDefault: boolean): void {
    this.flags = (this.flags & ~(FLAG_NOPASS | FLAG_ON | FLAG_SKIP_SANITIZE)) | FLAG_OFF | FLAG_SANITIZE;
    this.passwords = [];
    this.selectors.length = 1;
    const root = this.root;
    root.apply("resetkeys", index);
    root.apply(pubsubDefault ? "allchannels" : "resetchannels", index);
    root.apply("-@all", index);
  }

  /** Redis's ACLCheckUserCredentials once the user is found: enabled, and nopass or a matching password. */
  checkPassword(password: string): boolean {
    if (!this.enabled) return false;
    if (this.nopass) return true;
    const given = Buffer.from(hashPassword(password), "latin1");
    let ok = false;
    // Every hash is compared, in constant time, so that timing tells nothing.
    for (const p of this.passwords) if (timingSafeEqual(given, Buffer.from(p, "latin1"))) ok = true;
    return ok;
  }

  /** The flag names GETUSER lists. */
  flagNames(): string[] {
    return FLAG_NAMES.filter(([bit]) => this.flags & bit).map(([, name]) => name);
  }

  /** The rules after "user <name> " in ACL LIST and the ACL file (Redis's ACLDescribeUser). */
  describe(index: AclCommands): string {
    let out = "";
    for (const name of this.flagNames()) out += `${name} `;
    for (const p of this.passwords) out += `#${p} `;
    out += this.root.describe(index);
    for (let i = 1; i < this.selectors.length; i++) out += ` (${this.selectors[i]!.describe(index)})`;
    return out;
  }
}

/**
 * Redis's ACLMergeSelectorArguments: a selector may be spread over several arguments,
 * "(+get" "~key)". Returns the merged rules, or the index of an unclosed "(".
 */
export function mergeSelectorArgs(args: string[]): string[] | number {
  const out: string[] = [];
  let open = -1;
  let selector = "";
  for (let i = 0; i < args.length; i++) {
    const op = args[i]!;
    if (op[0] === "(" && op[op.length - 1] !== ")") {
      selector = op;
      open = i;
      continue;
    }
    if (open !== -1) {
      selector += ` ${op}`;
      if (op[op.length - 1] === ")") {
        open = -1;
        out.push(selector);
      }
      continue;
    }
    out.push(op);
  }
  return open === -1 ? out : open;
}
