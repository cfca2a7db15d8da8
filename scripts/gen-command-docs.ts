#!/usr/bin/env bun
// Generates docs/commands.md from the command table, so the reference can never drift from
// what the server actually implements. `bun scripts/gen-command-docs.ts` rewrites the file;
// `--check` exits 1 when the committed file is out of date (the test suite runs that).

import { resolve } from "node:path";
import { allCommands } from "../src/commands/index.ts";
import { Command, type CommandDef } from "../src/commands/table.ts";

/** An argument as COMMAND DOCS describes it (the `arguments` field of a CommandDef). */
interface DocArg {
  name: string;
  type: string;
  token?: string;
  flags?: string[];
  arguments?: DocArg[];
}

const OUT_PATH = resolve(import.meta.dir, "../docs/commands.md");

/** One argument in Redis's documented syntax: `[EX seconds | PX milliseconds]`, `key [key ...]`. */
function argSyntax(arg: DocArg): string {
  const flags = arg.flags ?? [];
  let one: string;
  if (arg.type === "pure-token") one = arg.token ?? arg.name.toUpperCase();
  else if (arg.type === "oneof") {
    one = (arg.arguments ?? []).map(argSyntax).join(" | ");
    // A required choice is marked <a | b>; an optional one gets its brackets below.
    if (!flags.includes("optional") || arg.token !== undefined) one = `<${one}>`;
  }
  else if (arg.type === "block") one = (arg.arguments ?? []).map(argSyntax).join(" ");
  else one = arg.name;
  const withToken = arg.token !== undefined && arg.type !== "pure-token" ? `${arg.token} ${one}` : one;
  let body = withToken;
  if (flags.includes("multiple")) {
    // A repeated token (SORT's GET pattern [GET pattern ...]) or one token before the list.
    body = flags.includes("multiple_token") ? `${withToken} [${withToken} ...]` : withToken.replace(one, `${one} [${one} ...]`);
  }
  return flags.includes("optional") ? `[${body}]` : body;
}

function syntax(def: CommandDef): string {
  const name = def.name.replace("|", " ").toUpperCase();
  const args = ((def.arguments ?? []) as DocArg[]).map(argSyntax);
  return [name, ...args].join(" ");
}

function describe(def: CommandDef, parent: Command | null): string[] {
  const cmd = new Command(def, parent);
  const lines = [`### ${def.name.replace("|", " ").toUpperCase()}`, "", "```", syntax(def), "```", "", def.summary.endsWith(".") ? def.summary : def.summary + "."];
  lines.push("");
  lines.push(`- Available since: ${def.since}`);
  if (def.complexity !== undefined) lines.push(`- Time complexity: ${def.complexity}`);
  lines.push(`- Arity: ${def.arity}`);
  const flags = def.flags.split(" ").filter((f) => f !== "");
  if (flags.length > 0) lines.push(`- Flags: ${flags.join(", ")}`);
  lines.push(`- ACL categories: ${cmd.aclCategories.map((c) => "@" + c).join(", ")}`);
  lines.push("");
  const out = [...lines];
  for (const sub of def.subcommands ?? []) out.push(...describe(sub, cmd));
  return out;
}

/** The whole reference: commands grouped as Redis groups them, alphabetical within a group. */
export function commandDocs(defs: readonly CommandDef[]): string {
  const groups = new Map<string, CommandDef[]>();
  for (const def of defs) (groups.get(def.group) ?? groups.set(def.group, []).get(def.group)!).push(def);
  const lines = [
    "# Command reference",
    "",
    "Generated from the command table (`src/commands/`) by `bun scripts/gen-command-docs.ts`; do not edit.",
    `redbun implements ${defs.length} commands; each behaves as in Redis 7.0.`,
    "",
  ];
  for (const group of [...groups.keys()].sort()) {
    lines.push(`## ${group}`, "");
    for (const def of groups.get(group)!.sort((a, b) => a.name.localeCompare(b.name))) lines.push(...describe(def, null));
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const text = commandDocs(allCommands);
  const file = Bun.file(OUT_PATH);
  if (process.argv.includes("--check")) {
    const current = (await file.exists()) ? await file.text() : "";
    if (current !== text) {
      console.error(`${OUT_PATH} is out of date: run bun scripts/gen-command-docs.ts`);
      process.exit(1);
    }
  } else {
    await Bun.write(OUT_PATH, text);
    console.log(`wrote ${OUT_PATH}`);
  }
}
