// The command table as ACL sees it (Redis's command ids and category flags): every command
// and subcommand gets a small integer id indexing the selectors' permission bitmaps, and
// a bitmask of its ACL categories. Built once from the table at start-up.

import { ACL_CATEGORIES, type Command, type CommandTable } from "../commands/table.ts";

/** Which pub/sub arguments a command names (Redis's ACLDoesCommandHaveChannels). */
export const enum ChannelArgs {
  None = 0,
  /** PUBLISH, SPUBLISH: argument 1 is a channel. */
  First = 1,
  /** SUBSCRIBE, SSUBSCRIBE: every argument is a channel. */
  All = 2,
  /** PSUBSCRIBE: every argument is a pattern, matched literally against the allowed channels. */
  AllPatterns = 3,
}

export class AclCommands {
  /** Every command in table order, each container followed by its subcommands. */
  readonly all: Command[] = [];
  private readonly ids = new Map<Command, number>();
  /** The commands by their own names: rename-command changes the table's names, not ACL's (Redis's orig_commands). */
  private readonly byName = new Map<string, Command>();
  /** Per id: the bitmask of its categories (bit i = ACL_CATEGORIES[i]). */
  readonly categoryBits: Int32Array;
  /** Per id: the ids of its subcommands, or null. */
  readonly subIds: (number[] | null)[] = [];
  /** Per id: how its pub/sub channel arguments are checked. */
  readonly channelArgs: Uint8Array;
  /** Per id: where its keys are found (Redis's getKeysFromCommandWithSpecs). */
  readonly keySource: Uint8Array;

  constructor(table: CommandTable) {
    for (const cmd of table.all()) {
      this.byName.set(cmd.name, cmd);
      this.add(cmd);
      if (cmd.subcommands !== null) for (const sub of cmd.subcommands.values()) this.add(sub);
    }
    this.categoryBits = new Int32Array(this.all.length);
    this.channelArgs = new Uint8Array(this.all.length);
    this.keySource = new Uint8Array(this.all.length);
    for (let id = 0; id < this.all.length; id++) {
      const cmd = this.all[id]!;
      for (const cat of cmd.aclCategories) this.categoryBits[id]! |= 1 << ACL_CATEGORIES.indexOf(cat as (typeof ACL_CATEGORIES)[number]);
      this.keySource[id] = keySourceOf(cmd);
      this.subIds.push(cmd.subcommands === null ? null : [...cmd.subcommands.values()].map((s) => this.ids.get(s)!));
    }
    this.markChannels(["publish", "spublish"], ChannelArgs.First);
    this.markChannels(["subscribe", "ssubscribe"], ChannelArgs.All);
    this.markChannels(["psubscribe"], ChannelArgs.AllPatterns);
  }

  private add(cmd: Command): void {
    this.ids.set(cmd, this.all.length);
    this.all.push(cmd);
  }

  private markChannels(names: string[], kind: ChannelArgs): void {
    for (const name of names) {
      const cmd = this.byName.get(name);
      if (cmd !== undefined) this.channelArgs[this.id(cmd)] = kind;
    }
  }

  get size(): number {
    return this.all.length;
  }

  id(cmd: Command): number {
    return this.ids.get(cmd)!;
  }

  /**
   * Redis's ACLLookupCommand: "name" or "container|sub", case-insensitive; more than one
   * '|', or a subcommand of a command that has none, finds nothing.
   */
  lookup(name: string): Command | undefined {
    const parts = name.toLowerCase().split("|");
    if (parts.length > 2) return undefined;
    const base = this.byName.get(parts[0]!);
    if (parts.length === 1 || base === undefined) return base;
    return base.subcommands?.get(parts[1]!);
  }
}

/** Where a command's keys are found for ACL checks. */
export const enum KeySource {
  /** It has no keys (Redis's doesCommandHaveKeys is false). */
  None = 0,
  /** Its key specs, or its key function when they cannot be followed. */
  Specs = 1,
  /** Its key function only: its specs' flags vary with the arguments (SET ... GET). */
  KeyFunction = 2,
}

function keySourceOf(cmd: Command): KeySource {
  const specs = cmd.def.keySpecs ?? [];
  const words = (i: number) => specs[i]!.flags.toLowerCase().split(" ");
  const hasKeySpec = specs.some((_, i) => !words(i).includes("not_key"));
  const variableFlags = specs.some((_, i) => words(i).includes("variable_flags"));
  const hasKeyFunction = cmd.def.getKeys !== undefined;
  if (!hasKeySpec && !hasKeyFunction) return KeySource.None;
  return hasKeySpec && !variableFlags ? KeySource.Specs : KeySource.KeyFunction;
}

/** The bit of a category name (case-insensitive), or 0 when there is no such category. */
export function categoryBit(name: string): number {
  const i = ACL_CATEGORIES.indexOf(name.toLowerCase() as (typeof ACL_CATEGORIES)[number]);
  return i < 0 ? 0 : 1 << i;
}
